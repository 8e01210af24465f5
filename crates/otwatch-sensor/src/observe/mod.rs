//! The observe layer: decoded traffic in, protocol-neutral [`Observation`]s out.
//!
//! This is the one place that knows both the dissectors' messages and the
//! detection vocabulary (`otwatch_detect::observation`): the anti-corruption
//! layer between them. [`Observer`] runs its own pipeline over the same
//! building blocks as the capture summary (`otwatch-wire` decoding, the
//! `otwatch-flow` table, the [`Dispatcher`]) with its own handlers:
//!
//! - [`packet`]: the generic per-packet facts (every IP packet, TCP
//!   attempts/accepts/resets/closes, ICMP, ARP, non-IP frames, wire
//!   anomalies) and the payload pattern hook (EICAR);
//! - one file per OT protocol (`modbus`, `dnp3`, `s7comm`, `enip`,
//!   `bacnet`, `iec104`), each a [`ObserveHandler`];
//! - [`it`]: DHCP, DNS, HTTP, FTP and Telnet.
//!
//! The handlers buffer what they see and [`Observer::process`] collects it
//! after every packet, in the order packet facts first, then application
//! facts. Nothing here allocates per packet on the common path: buffers
//! are reused, observations of ordinary traffic carry only inline data, and
//! per-flow state lives in maps bounded by named limits.

pub mod bacnet;
pub mod dnp3;
pub mod enip;
pub mod iec104;
pub mod it;
pub mod modbus;
pub mod packet;
pub mod s7comm;

#[cfg(test)]
mod tests;

use otwatch_detect::observation::{
    Address, AnomalyNames, Direction as ObsDirection, Kind, MacAddr as ObsMac, Malformed,
    Observation, Protocol, Role, Transport as ObsTransport,
};
use otwatch_dissect::Direction;
use otwatch_flow::{Endpoint, Flow, FlowConfig, FlowTable, PacketMeta, TCP, UDP};
use otwatch_model::Timestamp;
use otwatch_wire::{Decoder, MacAddr, Payload, Transport as WireTransport, WireAnomalies};

use crate::dispatch::{AppState, Dispatcher, FrameInfo};
use crate::intake::Packet;
use crate::summary::handler::{
    FrameMarks, LinkContext, LinkPayload, PduContext, ProtocolHandler, Transport,
};

/// A protocol handler that also produces observations.
pub trait ObserveHandler: ProtocolHandler {
    /// Moves what the handler observed since the last call into `out`;
    /// returns how many observations it had to drop since the last call
    /// ([`MAX_PENDING_PER_HANDLER`]).
    fn drain(&mut self, out: &mut Vec<Observation>) -> u64;
}

/// Observations one handler may hold between two collections; past this
/// the handler drops new ones and counts them (a guard against a single
/// packet that unpacks into an absurd number of messages).
pub const MAX_PENDING_PER_HANDLER: usize = 4096;

/// The handlers of the observer, in dispatch priority order (OT first;
/// HTTP, FTP and Telnet are also found by content).
pub fn observers() -> Vec<Box<dyn ObserveHandler>> {
    vec![
        Box::new(modbus::ModbusObserver::default()),
        Box::new(dnp3::Dnp3Observer::default()),
        Box::new(s7comm::S7Observer::default()),
        Box::new(iec104::Iec104Observer::default()),
        Box::new(enip::EnipObserver::default()),
        Box::new(bacnet::BacnetObserver::default()),
        Box::new(it::DhcpObserver::default()),
        Box::new(it::DnsObserver::default()),
        Box::new(it::HttpObserver::default()),
        Box::new(it::FtpObserver::default()),
        Box::new(it::TelnetObserver::default()),
    ]
}

/// Counters of the observer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ObserverStats {
    /// Frames processed.
    pub frames: u64,
    /// Bytes of frames processed (on the wire).
    pub bytes: u64,
    /// Observations produced.
    pub observations: u64,
    /// Observations dropped because a handler held too many at once.
    pub dropped: u64,
}

/// Decodes, tracks and dispatches packets, and turns them into observations.
pub struct Observer {
    decoder: Decoder,
    flows: FlowTable<AppState>,
    dispatch: Dispatcher<dyn ObserveHandler>,
    packets: packet::PacketObserver,
    frame_number: u64,
    last_frame: FrameInfo,
    gone: Vec<Flow<AppState>>,
    stats: ObserverStats,
}

impl std::fmt::Debug for Observer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Observer")
            .field("dispatch", &self.dispatch)
            .field("stats", &self.stats)
            .finish()
    }
}

impl Observer {
    /// An observer with every protocol handler.
    pub fn new(flow_config: FlowConfig) -> Observer {
        Observer::with_handlers(observers(), flow_config)
    }

    /// An observer with the given handlers.
    pub fn with_handlers(
        handlers: Vec<Box<dyn ObserveHandler>>,
        flow_config: FlowConfig,
    ) -> Observer {
        Observer {
            decoder: Decoder::new(),
            flows: FlowTable::new(flow_config),
            dispatch: Dispatcher::new(handlers),
            packets: packet::PacketObserver::default(),
            frame_number: 0,
            last_frame: FrameInfo { number: 0, ts_ns: 0, src_mac: None, dst_mac: None },
            gone: Vec::new(),
            stats: ObserverStats::default(),
        }
    }

    /// Counters.
    pub fn stats(&self) -> ObserverStats {
        self.stats
    }

    /// Frames processed so far.
    pub fn frames(&self) -> u64 {
        self.frame_number
    }

    /// Flows currently tracked.
    pub fn flows(&self) -> usize {
        self.flows.len()
    }

    /// Takes one packet through decoding, flow tracking and the handlers;
    /// appends its observations to `out` (which the caller clears).
    pub fn process(&mut self, pkt: &Packet<'_>, out: &mut Vec<Observation>) {
        self.frame_number = self.frame_number.saturating_add(1);
        self.stats.frames = self.stats.frames.saturating_add(1);
        self.stats.bytes = self.stats.bytes.saturating_add(u64::from(pkt.orig_len));
        let start = out.len();
        let mut marks = FrameMarks::default();
        let frame = self.decoder.decode(pkt.link_type, pkt.data, pkt.ts_ns);
        let info = FrameInfo {
            number: self.frame_number,
            ts_ns: pkt.ts_ns,
            src_mac: frame.src_mac(),
            dst_mac: frame.dst_mac(),
        };
        self.last_frame = info;
        let vlan = frame.vlan_ids.as_slice().first().copied().or(frame.isl_vlan);
        match &frame.payload {
            Payload::Ip(ip) => {
                let (protocol, src_port, dst_port, syn, ack) = match &ip.transport {
                    WireTransport::Tcp(t) => {
                        (TCP, t.src_port, t.dst_port, t.flags.syn(), t.flags.ack())
                    }
                    WireTransport::Udp(u) => (UDP, u.src_port, u.dst_port, false, false),
                    _ => (0, 0, 0, false, false),
                };
                if protocol != 0 {
                    let meta = PacketMeta {
                        protocol,
                        src: Endpoint { addr: ip.src, port: src_port },
                        dst: Endpoint { addr: ip.dst, port: dst_port },
                        syn,
                        ack,
                        wire_len: u64::from(pkt.orig_len),
                        ts_ns: pkt.ts_ns,
                    };
                    let ports = self.dispatch.ports();
                    let gone = &mut self.gone;
                    let (flow, dir) = self.flows.track(
                        &meta,
                        |p, port| ports.is_server_port(p, port),
                        |f| gone.push(f),
                    );
                    let new_flow = flow.packets[0].saturating_add(flow.packets[1]) == 1;
                    let facts = (flow.id, direction_of(dir), new_flow);
                    // The packet's own facts come before what its payload means.
                    self.packets.on_ip(&info, vlan, pkt.orig_len, &frame, ip, Some(facts), out);
                    match &ip.transport {
                        WireTransport::Tcp(t) => {
                            let cut = frame.anomalies.contains(WireAnomalies::TRUNCATED_IP);
                            self.dispatch.on_tcp(flow, dir, t, cut, &info, &mut marks);
                        }
                        WireTransport::Udp(u) => {
                            self.dispatch.on_udp(flow, dir, u.payload, &info, &mut marks)
                        }
                        _ => {}
                    }
                } else {
                    self.packets.on_ip(&info, vlan, pkt.orig_len, &frame, ip, None, out);
                }
            }
            Payload::Arp(arp) => self.packets.on_arp(&info, vlan, arp, out),
            Payload::Llc(l) => {
                self.packets.on_link(&info, vlan, pkt.orig_len, &frame, out);
                let p = LinkPayload::Llc {
                    dsap: l.dsap,
                    ssap: l.ssap,
                    control: l.control,
                    payload: l.payload,
                };
                self.dispatch.on_link(&info, p, &mut marks);
            }
            Payload::MsTp(m) => {
                self.dispatch.on_link(&info, LinkPayload::MsTp(m), &mut marks);
            }
            Payload::Other { ether_type, payload } => {
                self.packets.on_link(&info, vlan, pkt.orig_len, &frame, out);
                let p = LinkPayload::EtherType { ether_type: *ether_type, payload };
                self.dispatch.on_link(&info, p, &mut marks);
            }
            Payload::None => self.packets.on_undecoded(&info, vlan, &frame, out),
        }
        // Flows that left the table while this packet was tracked: PDUs they
        // still release belong to them.
        while let Some(f) = self.gone.pop() {
            let mut scratch = FrameMarks::default();
            self.dispatch.flow_gone(f, &info, &mut scratch);
        }
        self.collect(vlan, out);
        self.stats.observations =
            self.stats.observations.saturating_add(u64::try_from(out.len() - start).unwrap_or(0));
    }

    fn collect(&mut self, vlan: Option<u16>, out: &mut Vec<Observation>) {
        let from = out.len();
        for h in self.dispatch.handlers_mut() {
            let dropped = h.drain(out);
            self.stats.dropped = self.stats.dropped.saturating_add(dropped);
        }
        if let Some(v) = vlan {
            for o in out.iter_mut().skip(from) {
                o.vlan.get_or_insert(v);
            }
        }
    }

    /// Ends the input: flushes every flow and collects the last observations.
    pub fn finish(&mut self, out: &mut Vec<Observation>) {
        let gone = &mut self.gone;
        self.flows.drain(|f| gone.push(f));
        let info = self.last_frame;
        for f in std::mem::take(&mut self.gone) {
            let mut scratch = FrameMarks::default();
            self.dispatch.flow_gone(f, &info, &mut scratch);
        }
        self.collect(None, out);
    }
}

fn direction_of(d: otwatch_flow::FlowDirection) -> ObsDirection {
    match d {
        otwatch_flow::FlowDirection::ToServer => ObsDirection::ToServer,
        otwatch_flow::FlowDirection::ToClient => ObsDirection::ToClient,
    }
}

/// The detection crate's MAC from the wire's.
pub(crate) fn mac(m: MacAddr) -> ObsMac {
    ObsMac(m.0)
}

/// Nanoseconds since the epoch to the domain's microsecond timestamp.
pub(crate) fn timestamp(ts_ns: u64) -> Timestamp {
    Timestamp(i64::try_from(ts_ns / 1_000).unwrap_or(i64::MAX))
}

/// An observation of a PDU or datagram, from its context.
pub(crate) fn from_pdu(cx: &PduContext<'_>, kind: Kind) -> Observation {
    Observation {
        time: timestamp(cx.ts_ns),
        frame: cx.frame_number,
        flow: Some(cx.flow_id),
        src: Address { mac: cx.src_mac.map(mac), ip: Some(cx.src.addr), port: Some(cx.src.port) },
        dst: Address { mac: cx.dst_mac.map(mac), ip: Some(cx.dst.addr), port: Some(cx.dst.port) },
        transport: match cx.transport {
            Transport::Tcp => ObsTransport::Tcp,
            Transport::Udp => ObsTransport::Udp,
        },
        direction: Some(match cx.direction {
            Direction::ToServer => ObsDirection::ToServer,
            Direction::ToClient => ObsDirection::ToClient,
        }),
        vlan: None,
        kind,
    }
}

/// An observation of a non-IP frame, from its context.
pub(crate) fn from_link(cx: &LinkContext<'_>, kind: Kind) -> Observation {
    Observation {
        time: timestamp(cx.ts_ns),
        frame: cx.frame_number,
        flow: None,
        src: Address { mac: cx.src_mac.map(mac), ip: None, port: None },
        dst: Address { mac: cx.dst_mac.map(mac), ip: None, port: None },
        transport: ObsTransport::Link,
        direction: None,
        vlan: None,
        kind,
    }
}

/// Anomaly names from a dissector's `names()` iterator.
pub(crate) fn names(it: impl Iterator<Item = &'static str>) -> AnomalyNames {
    let mut n = AnomalyNames::default();
    for name in it {
        n.push(name);
    }
    n
}

/// A malformed-message observation.
pub(crate) fn malformed(
    protocol: Protocol,
    anomalies: AnomalyNames,
    function: Option<u32>,
    role: Option<Role>,
) -> Kind {
    Kind::Malformed(Malformed { protocol, anomalies, function, role })
}

/// The per-handler output buffer, bounded by [`MAX_PENDING_PER_HANDLER`].
#[derive(Debug, Default)]
pub(crate) struct Pending {
    items: Vec<Observation>,
    dropped: u64,
}

impl Pending {
    pub(crate) fn push(&mut self, o: Observation) {
        if self.items.len() < MAX_PENDING_PER_HANDLER {
            self.items.push(o);
        } else {
            self.dropped = self.dropped.saturating_add(1);
        }
    }

    pub(crate) fn drain_into(&mut self, out: &mut Vec<Observation>) -> u64 {
        out.append(&mut self.items);
        std::mem::take(&mut self.dropped)
    }
}

/// Role of a message travelling in direction `d` when requests go to the server.
pub(crate) fn role_by_direction(d: Direction) -> Role {
    match d {
        Direction::ToServer => Role::Request,
        Direction::ToClient => Role::Response,
    }
}
