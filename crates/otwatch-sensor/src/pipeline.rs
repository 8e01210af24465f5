//! The packet pipeline: decode, track the flow, dispatch to protocol handlers, collect.
//!
//! [`Pipeline::process`] takes one captured packet through L2–L4 decoding
//! (`otwatch-wire`), the flow table (`otwatch-flow`), the application
//! dispatch and the generic summary collector. It keeps no per-packet
//! allocation on the hot path: buffers are reused and maps grow only when
//! a new address, conversation or flow appears.

use otwatch_flow::{Endpoint, Flow, FlowConfig, FlowTable, PacketMeta, TCP, UDP};
use otwatch_wire::{Decoder, Payload, Transport as WireTransport, WireAnomalies};

use crate::dispatch::{AppState, Dispatcher, FrameInfo, PortMap};
use crate::intake::Packet;
use crate::summary::generic::GenericCollector;
use crate::summary::handler::{FrameMarks, LinkPayload, ProtocolHandler};

/// PROFINET real-time EtherType; DCP uses frame ids 0xFEFC..=0xFEFF (IEC 61158-6-10).
const ETHERTYPE_PROFINET: u16 = 0x8892;

/// Decodes, tracks and dispatches packets, and collects the generic summary.
#[derive(Debug)]
pub struct Pipeline {
    decoder: Decoder,
    flows: FlowTable<AppState>,
    ports: PortMap,
    dispatch: Dispatcher,
    generic: GenericCollector,
    frame_number: u64,
    last_frame: FrameInfo,
    gone: Vec<Flow<AppState>>,
}

impl Pipeline {
    /// A pipeline over the given protocol handlers.
    pub fn new(handlers: Vec<Box<dyn ProtocolHandler>>, flow_config: FlowConfig) -> Pipeline {
        let dispatch = Dispatcher::new(handlers);
        Pipeline {
            decoder: Decoder::new(),
            flows: FlowTable::new(flow_config),
            ports: dispatch.ports().clone(),
            dispatch,
            generic: GenericCollector::default(),
            frame_number: 0,
            last_frame: FrameInfo { number: 0, ts_ns: 0, src_mac: None, dst_mac: None },
            gone: Vec::new(),
        }
    }

    /// Frames processed so far.
    pub fn frames(&self) -> u64 {
        self.frame_number
    }

    /// The dispatcher (handlers and counters).
    pub fn dispatcher(&self) -> &Dispatcher {
        &self.dispatch
    }

    /// The flow table.
    pub fn flows(&self) -> &FlowTable<AppState> {
        &self.flows
    }

    /// The generic collector.
    pub fn generic(&self) -> &GenericCollector {
        &self.generic
    }

    /// Takes one packet through the pipeline.
    pub fn process(&mut self, pkt: &Packet<'_>) {
        self.frame_number = self.frame_number.saturating_add(1);
        let mut marks = FrameMarks::default();
        let frame = self.decoder.decode(pkt.link_type, pkt.data, pkt.ts_ns);
        let info = FrameInfo {
            number: self.frame_number,
            ts_ns: pkt.ts_ns,
            src_mac: frame.src_mac(),
            dst_mac: frame.dst_mac(),
        };
        self.last_frame = info;
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
                    let ports = &self.ports;
                    let gone = &mut self.gone;
                    let (flow, dir) = self.flows.track(
                        &meta,
                        |p, port| ports.is_server_port(p, port),
                        |f| gone.push(f),
                    );
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
                }
            }
            Payload::Llc(l) => {
                let p = LinkPayload::Llc {
                    dsap: l.dsap,
                    ssap: l.ssap,
                    control: l.control,
                    payload: l.payload,
                };
                self.dispatch.on_link(&info, p, &mut marks);
            }
            Payload::MsTp(m) => self.dispatch.on_link(&info, LinkPayload::MsTp(m), &mut marks),
            Payload::Other { ether_type, payload } => {
                if *ether_type == ETHERTYPE_PROFINET
                    && let [a, b, ..] = payload
                    && (0xfefc..=0xfeff).contains(&u16::from_be_bytes([*a, *b]))
                {
                    marks.mark("pn_dcp");
                }
                let p = LinkPayload::EtherType { ether_type: *ether_type, payload };
                self.dispatch.on_link(&info, p, &mut marks);
            }
            Payload::Arp(_) | Payload::None => {}
        }
        self.generic.observe(&frame, pkt.ts_ns, pkt.orig_len, marks);
        // Flows that left the table while this packet was tracked: PDUs they
        // still release count for no frame.
        while let Some(f) = self.gone.pop() {
            let mut scratch = FrameMarks::default();
            self.dispatch.flow_gone(f, &info, &mut scratch);
        }
    }

    /// Ends the input: flushes every flow. Returns the generic collector and the handlers.
    pub fn finish(mut self) -> (GenericCollector, Dispatcher) {
        let gone = &mut self.gone;
        self.flows.drain(|f| gone.push(f));
        let info = self.last_frame;
        for f in std::mem::take(&mut self.gone) {
            let mut scratch = FrameMarks::default();
            self.dispatch.flow_gone(f, &info, &mut scratch);
        }
        (self.generic, self.dispatch)
    }
}
