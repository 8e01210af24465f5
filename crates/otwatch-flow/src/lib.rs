//! Flow table with bounded memory, and TCP stream reassembly.
//!
//! A [`FlowTable`] maps a TCP or UDP 5-tuple (both directions to one flow)
//! to a [`Flow`] that knows which side is the client, counts packets and
//! bytes per direction, holds one [`StreamReassembler`] per direction for
//! TCP, and carries the caller's per-flow state `S`.
//!
//! Memory is bounded: at most [`FlowConfig::max_flows`] flows; when full, the
//! least recently seen eighth of the table is evicted at once (so a scan
//! that creates a flow per packet costs amortised constant time). Flows idle
//! longer than their timeout, in packet time, are expired. Every flow that
//! leaves the table is handed to the caller so it can flush its state.
//!
//! Orientation: the side that sent a SYN (without ACK) is the client; with
//! no SYN seen, the side on a well-known server port (a predicate the caller
//! supplies) is the server; failing that, the lower port is the server.
//!
//! The crate knows nothing about application protocols or storage.

#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing,
        clippy::arithmetic_side_effects
    )
)]
#![deny(missing_docs)]

pub mod stream;

use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;

pub use stream::{
    Framing, PushOutcome, ReassemblyPolicy, SkipReason, StreamLimits, StreamReassembler, StreamSink,
};

/// Flows kept at once by default.
pub const DEFAULT_MAX_FLOWS: usize = 65_536;
/// Packet time after which an idle TCP flow is expired (10 minutes).
pub const TCP_IDLE_TIMEOUT_NS: u64 = 600_000_000_000;
/// Packet time after which an idle UDP flow is expired (2 minutes).
pub const UDP_IDLE_TIMEOUT_NS: u64 = 120_000_000_000;
/// How often, in packet time, the table looks for idle flows (10 s).
pub const EXPIRY_INTERVAL_NS: u64 = 10_000_000_000;
/// When the table is full, one in this many flows (the least recently seen) is evicted.
pub const EVICTION_FRACTION: usize = 8;

/// IP protocol number of TCP.
pub const TCP: u8 = 6;
/// IP protocol number of UDP.
pub const UDP: u8 = 17;

/// An IP address and port.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Endpoint {
    /// Address.
    pub addr: IpAddr,
    /// Port.
    pub port: u16,
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.addr {
            IpAddr::V4(a) => write!(f, "{a}:{}", self.port),
            IpAddr::V6(a) => write!(f, "[{a}]:{}", self.port),
        }
    }
}

impl fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Both directions of a conversation map to the same key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FlowKey {
    /// IP protocol (6 TCP, 17 UDP).
    pub protocol: u8,
    /// The lower endpoint.
    pub lo: Endpoint,
    /// The higher endpoint.
    pub hi: Endpoint,
}

impl FlowKey {
    /// The key of a packet from `src` to `dst`.
    pub fn new(protocol: u8, src: Endpoint, dst: Endpoint) -> FlowKey {
        if src <= dst {
            FlowKey { protocol, lo: src, hi: dst }
        } else {
            FlowKey { protocol, lo: dst, hi: src }
        }
    }
}

/// Which way a packet travels in its flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FlowDirection {
    /// From the client to the server.
    ToServer,
    /// From the server to the client.
    ToClient,
}

impl FlowDirection {
    /// 0 for to-server, 1 for to-client (an index into per-direction arrays).
    pub fn index(self) -> usize {
        match self {
            FlowDirection::ToServer => 0,
            FlowDirection::ToClient => 1,
        }
    }
}

/// How the client/server roles of a flow were decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Orientation {
    /// From the TCP handshake.
    Handshake,
    /// One side uses a well-known server port.
    ServerPort,
    /// Neither did: the lower port is taken as the server.
    LowerPort,
}

/// One packet as the flow table sees it.
#[derive(Clone, Copy, Debug)]
pub struct PacketMeta {
    /// IP protocol (6 TCP, 17 UDP).
    pub protocol: u8,
    /// Source.
    pub src: Endpoint,
    /// Destination.
    pub dst: Endpoint,
    /// TCP SYN flag (false for UDP).
    pub syn: bool,
    /// TCP ACK flag (false for UDP).
    pub ack: bool,
    /// Bytes on the wire (for the counters).
    pub wire_len: u64,
    /// Packet time, nanoseconds since the epoch.
    pub ts_ns: u64,
}

/// One conversation.
#[derive(Debug)]
pub struct Flow<S> {
    /// A number unique within the table's lifetime.
    pub id: u64,
    /// IP protocol (6 TCP, 17 UDP).
    pub protocol: u8,
    /// The client side.
    pub client: Endpoint,
    /// The server side.
    pub server: Endpoint,
    /// How the roles were decided.
    pub orientation: Orientation,
    /// Time of the first packet.
    pub first_ns: u64,
    /// Time of the latest packet.
    pub last_ns: u64,
    /// Packets per direction (index with [`FlowDirection::index`]).
    pub packets: [u64; 2],
    /// Wire bytes per direction.
    pub bytes: [u64; 2],
    /// TCP reassembly per direction (unused for UDP).
    pub streams: [StreamReassembler; 2],
    /// The caller's state.
    pub state: S,
}

impl<S> Flow<S> {
    /// The direction of a packet from `src`.
    pub fn direction_from(&self, src: Endpoint) -> FlowDirection {
        if src == self.client { FlowDirection::ToServer } else { FlowDirection::ToClient }
    }

    /// The reassembler for `dir` and the one for the opposite direction.
    pub fn streams_mut(
        &mut self,
        dir: FlowDirection,
    ) -> (&mut StreamReassembler, &mut StreamReassembler) {
        let [a, b] = &mut self.streams;
        match dir {
            FlowDirection::ToServer => (a, b),
            FlowDirection::ToClient => (b, a),
        }
    }
}

/// Limits of a flow table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlowConfig {
    /// Flows kept at once.
    pub max_flows: usize,
    /// Idle time after which a TCP flow is expired.
    pub tcp_idle_timeout_ns: u64,
    /// Idle time after which a UDP flow is expired.
    pub udp_idle_timeout_ns: u64,
    /// Per-direction stream buffer limits.
    pub stream: StreamLimits,
}

impl Default for FlowConfig {
    fn default() -> FlowConfig {
        FlowConfig {
            max_flows: DEFAULT_MAX_FLOWS,
            tcp_idle_timeout_ns: TCP_IDLE_TIMEOUT_NS,
            udp_idle_timeout_ns: UDP_IDLE_TIMEOUT_NS,
            stream: StreamLimits::default(),
        }
    }
}

/// Counters of a flow table.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FlowStats {
    /// Flows created.
    pub created: u64,
    /// Flows evicted because the table was full.
    pub evicted: u64,
    /// Flows expired because they were idle.
    pub expired: u64,
}

/// The flow table.
#[derive(Debug)]
pub struct FlowTable<S> {
    config: FlowConfig,
    flows: HashMap<FlowKey, Flow<S>>,
    next_id: u64,
    next_expiry_ns: u64,
    stats: FlowStats,
}

impl<S: Default> FlowTable<S> {
    /// An empty table.
    pub fn new(config: FlowConfig) -> FlowTable<S> {
        FlowTable {
            config,
            flows: HashMap::new(),
            next_id: 0,
            next_expiry_ns: 0,
            stats: FlowStats::default(),
        }
    }

    /// Flows in the table.
    pub fn len(&self) -> usize {
        self.flows.len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.flows.is_empty()
    }

    /// Counters.
    pub fn stats(&self) -> FlowStats {
        self.stats
    }

    /// Finds or creates the flow of `pkt`, updates its counters, and
    /// returns it with the packet's direction. Flows pushed out to make
    /// room, or expired, are passed to `gone` first. `is_server_port`
    /// says whether a port is a well-known server port for the protocol.
    pub fn track(
        &mut self,
        pkt: &PacketMeta,
        is_server_port: impl Fn(u8, u16) -> bool,
        mut gone: impl FnMut(Flow<S>),
    ) -> (&mut Flow<S>, FlowDirection) {
        if pkt.ts_ns >= self.next_expiry_ns {
            self.expire(pkt.ts_ns, &mut gone);
            self.next_expiry_ns = pkt.ts_ns.saturating_add(EXPIRY_INTERVAL_NS);
        }
        let key = FlowKey::new(pkt.protocol, pkt.src, pkt.dst);
        if !self.flows.contains_key(&key) && self.flows.len() >= self.config.max_flows.max(1) {
            self.evict_oldest(&mut gone);
        }
        let config = self.config;
        let next_id = &mut self.next_id;
        let stats = &mut self.stats;
        let flow = self.flows.entry(key).or_insert_with(|| {
            let (client, server, orientation) = orient(pkt, &is_server_port);
            let id = *next_id;
            *next_id = next_id.wrapping_add(1);
            stats.created = stats.created.saturating_add(1);
            Flow {
                id,
                protocol: pkt.protocol,
                client,
                server,
                orientation,
                first_ns: pkt.ts_ns,
                last_ns: pkt.ts_ns,
                packets: [0; 2],
                bytes: [0; 2],
                streams: [
                    StreamReassembler::new(config.stream),
                    StreamReassembler::new(config.stream),
                ],
                state: S::default(),
            }
        });
        if pkt.protocol == TCP && pkt.syn && !pkt.ack && flow.orientation != Orientation::Handshake
        {
            // A handshake seen after the flow was picked up mid-stream.
            flow.client = pkt.src;
            flow.server = pkt.dst;
            flow.orientation = Orientation::Handshake;
        }
        let dir = flow.direction_from(pkt.src);
        let i = dir.index();
        if let Some(p) = flow.packets.get_mut(i) {
            *p = p.saturating_add(1);
        }
        if let Some(b) = flow.bytes.get_mut(i) {
            *b = b.saturating_add(pkt.wire_len);
        }
        flow.last_ns = flow.last_ns.max(pkt.ts_ns);
        (flow, dir)
    }

    /// Removes every flow, oldest first, passing each to `gone` (end of input).
    pub fn drain(&mut self, mut gone: impl FnMut(Flow<S>)) {
        let mut all: Vec<Flow<S>> = self.flows.drain().map(|(_, f)| f).collect();
        all.sort_by_key(|f| (f.first_ns, f.id));
        for f in all {
            gone(f);
        }
    }

    fn expire(&mut self, now_ns: u64, gone: &mut impl FnMut(Flow<S>)) {
        let (tcp, udp) = (self.config.tcp_idle_timeout_ns, self.config.udp_idle_timeout_ns);
        let idle: Vec<FlowKey> = self
            .flows
            .iter()
            .filter(|(_, f)| {
                now_ns.saturating_sub(f.last_ns) > if f.protocol == TCP { tcp } else { udp }
            })
            .map(|(k, _)| *k)
            .collect();
        self.remove_keys(idle, gone, false);
    }

    fn evict_oldest(&mut self, gone: &mut impl FnMut(Flow<S>)) {
        let mut ages: Vec<(u64, u64, FlowKey)> =
            self.flows.iter().map(|(k, f)| (f.last_ns, f.id, *k)).collect();
        let n = (ages.len() / EVICTION_FRACTION).max(1).min(ages.len());
        if n < ages.len() {
            ages.select_nth_unstable(n);
        }
        ages.truncate(n);
        ages.sort_unstable();
        self.remove_keys(ages.into_iter().map(|(_, _, k)| k).collect(), gone, true);
    }

    fn remove_keys(&mut self, keys: Vec<FlowKey>, gone: &mut impl FnMut(Flow<S>), evicted: bool) {
        for k in keys {
            if let Some(f) = self.flows.remove(&k) {
                if evicted {
                    self.stats.evicted = self.stats.evicted.saturating_add(1);
                } else {
                    self.stats.expired = self.stats.expired.saturating_add(1);
                }
                gone(f);
            }
        }
    }
}

/// Decides (client, server, how) for the first packet of a flow.
fn orient(
    pkt: &PacketMeta,
    is_server_port: &impl Fn(u8, u16) -> bool,
) -> (Endpoint, Endpoint, Orientation) {
    let (src, dst) = (pkt.src, pkt.dst);
    if pkt.protocol == TCP && pkt.syn {
        return if pkt.ack {
            (dst, src, Orientation::Handshake)
        } else {
            (src, dst, Orientation::Handshake)
        };
    }
    let (s, d) = (is_server_port(pkt.protocol, src.port), is_server_port(pkt.protocol, dst.port));
    if d && !s {
        return (src, dst, Orientation::ServerPort);
    }
    if s && !d {
        return (dst, src, Orientation::ServerPort);
    }
    if src.port < dst.port {
        (dst, src, Orientation::LowerPort)
    } else {
        (src, dst, Orientation::LowerPort)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn ep(last: u8, port: u16) -> Endpoint {
        Endpoint { addr: IpAddr::V4(Ipv4Addr::new(10, 0, 0, last)), port }
    }

    fn pkt(src: Endpoint, dst: Endpoint, syn: bool, ack: bool, ts_ns: u64) -> PacketMeta {
        PacketMeta { protocol: TCP, src, dst, syn, ack, wire_len: 60, ts_ns }
    }

    fn modbus_port(_: u8, port: u16) -> bool {
        port == 502
    }

    #[test]
    fn both_directions_share_a_flow_and_syn_decides_roles() {
        let mut t: FlowTable<u32> = FlowTable::new(FlowConfig::default());
        let (c, s) = (ep(1, 40000), ep(2, 5020));
        let (f, d) = t.track(&pkt(c, s, true, false, 0), modbus_port, |_| {});
        assert_eq!(
            (f.client, f.server, f.orientation, d),
            (c, s, Orientation::Handshake, FlowDirection::ToServer)
        );
        f.state = 7;
        let (f, d) = t.track(&pkt(s, c, true, true, 1), modbus_port, |_| {});
        assert_eq!(d, FlowDirection::ToClient);
        assert_eq!(f.state, 7);
        assert_eq!(f.packets, [1, 1]);
        assert_eq!(f.bytes, [60, 60]);
        assert_eq!(t.len(), 1);
    }

    #[test]
    fn without_syn_the_server_port_then_the_lower_port_decide() {
        let mut t: FlowTable<()> = FlowTable::new(FlowConfig::default());
        // Mid-stream response from the server on 502 to a client on 1024.
        let (f, d) = t.track(&pkt(ep(2, 502), ep(1, 1024), false, true, 0), modbus_port, |_| {});
        assert_eq!(
            (f.server, f.orientation, d),
            (ep(2, 502), Orientation::ServerPort, FlowDirection::ToClient)
        );
        // No well-known port: the lower port is the server.
        let (f, d) = t.track(&pkt(ep(3, 3000), ep(4, 40000), false, true, 0), modbus_port, |_| {});
        assert_eq!(
            (f.server, f.orientation, d),
            (ep(3, 3000), Orientation::LowerPort, FlowDirection::ToClient)
        );
        // A later SYN re-orients a flow picked up mid-stream.
        let (f, d) = t.track(&pkt(ep(4, 40000), ep(3, 3000), true, false, 1), modbus_port, |_| {});
        assert_eq!(
            (f.client, f.orientation, d),
            (ep(4, 40000), Orientation::Handshake, FlowDirection::ToServer)
        );
    }

    #[test]
    fn full_table_evicts_the_least_recently_seen() {
        let cfg = FlowConfig { max_flows: 16, ..FlowConfig::default() };
        let mut t: FlowTable<()> = FlowTable::new(cfg);
        for i in 0..16u16 {
            t.track(
                &pkt(ep(1, 1000 + i), ep(2, 502), false, false, u64::from(i)),
                modbus_port,
                |_| {},
            );
        }
        let mut gone = Vec::new();
        t.track(&pkt(ep(1, 5000), ep(2, 502), false, false, 100), modbus_port, |f| {
            gone.push(f.client.port)
        });
        assert_eq!(gone, vec![1000, 1001]);
        assert_eq!(t.len(), 15);
        assert_eq!(t.stats().evicted, 2);
        assert_eq!(t.stats().created, 17);
    }

    #[test]
    fn idle_flows_expire_in_packet_time() {
        let mut t: FlowTable<()> = FlowTable::new(FlowConfig::default());
        t.track(&pkt(ep(1, 1000), ep(2, 502), false, false, 0), modbus_port, |_| {});
        let udp = PacketMeta { protocol: UDP, ..pkt(ep(1, 47808), ep(2, 47808), false, false, 0) };
        t.track(&udp, modbus_port, |_| {});
        let mut gone = Vec::new();
        let later = UDP_IDLE_TIMEOUT_NS + EXPIRY_INTERVAL_NS + 1;
        t.track(&pkt(ep(5, 1000), ep(2, 502), false, false, later), modbus_port, |f| {
            gone.push(f.protocol)
        });
        assert_eq!(gone, vec![UDP]);
        let much_later = later + TCP_IDLE_TIMEOUT_NS + 1;
        t.track(&pkt(ep(6, 1000), ep(2, 502), false, false, much_later), modbus_port, |f| {
            gone.push(f.protocol)
        });
        assert_eq!(gone, vec![UDP, TCP, TCP]);
        assert_eq!(t.stats().expired, 3);
        let mut rest = 0;
        t.drain(|_| rest += 1);
        assert_eq!((rest, t.len()), (1, 0));
    }
}
