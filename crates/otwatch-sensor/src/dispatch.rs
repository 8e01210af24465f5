//! Application dispatch: which OT protocol a flow speaks, and delivery of its PDUs.
//!
//! A flow is given to a protocol handler by well-known port (the server
//! port first, then the client port) or, failing that, by content: each
//! active handler's probe looks at the first payload segments or datagrams
//! (up to [`MAX_PROBE_SEGMENTS`]). TCP flows of a known
//! protocol go through the flow's per-direction reassemblers, which cut the
//! byte stream into PDUs with the handler's framing function; UDP
//! datagrams are handed over whole. Flows of no known protocol are not
//! reassembled at all.

use std::collections::HashMap;

use otwatch_dissect::{DecodeError, Direction};
use otwatch_flow::{Endpoint, Flow, FlowDirection, Framing, SkipReason, StreamSink, TCP, UDP};
use otwatch_wire::{MacAddr, Tcp};

use crate::summary::handler::{
    FrameMarks, LinkContext, LinkPayload, PduContext, ProtocolHandler, Transport,
};

/// Payload segments (TCP) or datagrams (UDP) a flow on no well-known port
/// is probed on before it is given up.
pub const MAX_PROBE_SEGMENTS: u8 = 4;

/// Per-flow dispatch state, kept in the flow table.
#[derive(Clone, Copy, Debug, Default)]
pub struct AppState {
    decided: bool,
    handler: Option<usize>,
    probes: u8,
    after_gap: [bool; 2],
}

impl AppState {
    /// The index of the handler the flow was given to, if any.
    pub fn handler(&self) -> Option<usize> {
        self.handler
    }
}

/// Counters of the dispatcher.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DispatchStats {
    /// TCP PDUs delivered.
    pub pdus: u64,
    /// UDP datagrams delivered.
    pub datagrams: u64,
    /// Gaps reported.
    pub gaps: u64,
    /// Bytes dropped because the framing rejected them.
    pub invalid_bytes: u64,
    /// Bytes dropped because a partial PDU outgrew the stream buffer.
    pub overflow_bytes: u64,
    /// Flows identified by content rather than port.
    pub probed_flows: u64,
}

/// What the pipeline knows about the frame being processed.
#[derive(Clone, Copy, Debug)]
pub struct FrameInfo {
    /// Frame number, 1-based.
    pub number: u64,
    /// Frame time (ns since the epoch).
    pub ts_ns: u64,
    /// Source MAC.
    pub src_mac: Option<MacAddr>,
    /// Destination MAC.
    pub dst_mac: Option<MacAddr>,
}

/// Well-known ports of the active handlers.
#[derive(Clone, Debug, Default)]
pub struct PortMap {
    tcp: HashMap<u16, usize>,
    udp: HashMap<u16, usize>,
}

impl PortMap {
    fn new<H: ?Sized + ProtocolHandler>(handlers: &[Box<H>]) -> PortMap {
        let mut m = PortMap::default();
        for (i, h) in handlers.iter().enumerate().filter(|(_, h)| h.active()) {
            for p in h.tcp_ports() {
                m.tcp.entry(*p).or_insert(i);
            }
            for p in h.udp_ports() {
                m.udp.entry(*p).or_insert(i);
            }
        }
        m
    }

    /// The handler registered for `port` of IP protocol `protocol`.
    pub fn lookup(&self, protocol: u8, port: u16) -> Option<usize> {
        match protocol {
            TCP => self.tcp.get(&port).copied(),
            UDP => self.udp.get(&port).copied(),
            _ => None,
        }
    }

    /// Whether `port` is a well-known server port.
    pub fn is_server_port(&self, protocol: u8, port: u16) -> bool {
        self.lookup(protocol, port).is_some()
    }
}

/// Hands flows and frames to the protocol handlers.
///
/// Generic over the handler trait object so that a pipeline with its own
/// handler trait (a sub-trait of [`ProtocolHandler`], such as the sensor's
/// observers) keeps full access to its handlers; the summary uses the default.
pub struct Dispatcher<H: ?Sized + ProtocolHandler = dyn ProtocolHandler> {
    handlers: Vec<Box<H>>,
    ports: PortMap,
    stats: DispatchStats,
}

impl<H: ?Sized + ProtocolHandler> std::fmt::Debug for Dispatcher<H> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<_> = self.handlers.iter().map(|h| h.name()).collect();
        f.debug_struct("Dispatcher").field("handlers", &names).field("stats", &self.stats).finish()
    }
}

fn direction(d: FlowDirection) -> Direction {
    match d {
        FlowDirection::ToServer => Direction::ToServer,
        FlowDirection::ToClient => Direction::ToClient,
    }
}

fn opposite(d: FlowDirection) -> FlowDirection {
    match d {
        FlowDirection::ToServer => FlowDirection::ToClient,
        FlowDirection::ToClient => FlowDirection::ToServer,
    }
}

impl<H: ?Sized + ProtocolHandler> Dispatcher<H> {
    /// A dispatcher over `handlers` (in priority order).
    pub fn new(handlers: Vec<Box<H>>) -> Dispatcher<H> {
        let ports = PortMap::new(&handlers);
        Dispatcher { handlers, ports, stats: DispatchStats::default() }
    }

    /// The well-known ports of the active handlers.
    pub fn ports(&self) -> &PortMap {
        &self.ports
    }

    /// The handlers.
    pub fn handlers(&self) -> &[Box<H>] {
        &self.handlers
    }

    /// The handlers, mutably (to collect what they produced).
    pub fn handlers_mut(&mut self) -> &mut [Box<H>] {
        &mut self.handlers
    }

    /// Counters.
    pub fn stats(&self) -> DispatchStats {
        self.stats
    }

    /// Takes the handlers back.
    pub fn into_handlers(self) -> Vec<Box<H>> {
        self.handlers
    }

    fn by_port(&self, protocol: u8, first: u16, second: u16) -> Option<usize> {
        self.ports.lookup(protocol, first).or_else(|| self.ports.lookup(protocol, second))
    }

    /// One TCP segment of a tracked flow; `cut` says the capture cut the
    /// segment short (its IP length is larger than what was captured).
    #[allow(clippy::too_many_arguments)]
    pub fn on_tcp(
        &mut self,
        flow: &mut Flow<AppState>,
        dir: FlowDirection,
        seg: &Tcp<'_>,
        cut: bool,
        frame: &FrameInfo,
        marks: &mut FrameMarks,
    ) {
        if !flow.state.decided {
            if let Some(h) = self.by_port(TCP, flow.server.port, flow.client.port) {
                flow.state.handler = Some(h);
                flow.state.decided = true;
            } else if !seg.payload.is_empty() {
                let found =
                    self.handlers.iter().position(|h| h.active() && h.probe_tcp(seg.payload));
                flow.state.probes = flow.state.probes.saturating_add(1);
                if found.is_some() {
                    self.stats.probed_flows = self.stats.probed_flows.saturating_add(1);
                }
                flow.state.handler = found;
                flow.state.decided = found.is_some() || flow.state.probes >= MAX_PROBE_SEGMENTS;
            }
        }
        let Some(hi) = flow.state.handler else { return };
        let Some(handler) = self.handlers.get_mut(hi) else { return };
        let (client, server, flow_id) = (flow.client, flow.server, flow.id);
        let (here, there) =
            if dir == FlowDirection::ToServer { (client, server) } else { (server, client) };
        let Flow { streams: [s_ts, s_tc], state, .. } = flow;
        let [g_ts, g_tc] = &mut state.after_gap;
        let (stream, peer, gap_here, gap_there) = match dir {
            FlowDirection::ToServer => (s_ts, s_tc, g_ts, g_tc),
            FlowDirection::ToClient => (s_tc, s_ts, g_tc, g_ts),
        };
        if seg.flags.ack() {
            // The acknowledgement concerns the other direction's bytes.
            let mut sink = Sink {
                handler: handler.as_mut(),
                meta: Meta {
                    frame,
                    transport: Transport::Tcp,
                    dir: opposite(dir),
                    src: there,
                    dst: here,
                    client,
                    server,
                    flow_id,
                },
                marks: &mut *marks,
                after_gap: gap_there,
                stats: &mut self.stats,
            };
            peer.on_peer_ack(seg.ack, &mut sink);
        }
        let mut sink = Sink {
            handler: handler.as_mut(),
            meta: Meta {
                frame,
                transport: Transport::Tcp,
                dir,
                src: here,
                dst: there,
                client,
                server,
                flow_id,
            },
            marks,
            after_gap: gap_here,
            stats: &mut self.stats,
        };
        stream.push(seg.seq, seg.flags.syn(), seg.flags.fin(), seg.payload, &mut sink);
        if cut {
            stream.cut(&mut sink);
        }
    }

    /// One UDP datagram of a tracked flow.
    pub fn on_udp(
        &mut self,
        flow: &mut Flow<AppState>,
        dir: FlowDirection,
        payload: &[u8],
        frame: &FrameInfo,
        marks: &mut FrameMarks,
    ) {
        if !flow.state.decided {
            if let Some(h) = self.by_port(UDP, flow.server.port, flow.client.port) {
                flow.state.handler = Some(h);
                flow.state.decided = true;
            } else if !payload.is_empty() {
                let found = self.handlers.iter().position(|h| h.active() && h.probe_udp(payload));
                flow.state.probes = flow.state.probes.saturating_add(1);
                if found.is_some() {
                    self.stats.probed_flows = self.stats.probed_flows.saturating_add(1);
                }
                flow.state.handler = found;
                flow.state.decided = found.is_some() || flow.state.probes >= MAX_PROBE_SEGMENTS;
            }
        }
        let Some(hi) = flow.state.handler else { return };
        let Some(handler) = self.handlers.get_mut(hi) else { return };
        let (here, there) = if dir == FlowDirection::ToServer {
            (flow.client, flow.server)
        } else {
            (flow.server, flow.client)
        };
        let mut cx = PduContext {
            frame_number: frame.number,
            ts_ns: frame.ts_ns,
            transport: Transport::Udp,
            direction: direction(dir),
            src: here,
            dst: there,
            client: flow.client,
            server: flow.server,
            src_mac: frame.src_mac,
            dst_mac: frame.dst_mac,
            flow_id: flow.id,
            after_gap: false,
            marks,
        };
        self.stats.datagrams = self.stats.datagrams.saturating_add(1);
        handler.on_datagram(&mut cx, payload);
    }

    /// A frame without IP: every active handler sees it.
    pub fn on_link(&mut self, frame: &FrameInfo, payload: LinkPayload<'_>, marks: &mut FrameMarks) {
        for h in self.handlers.iter_mut().filter(|h| h.active()) {
            let mut cx = LinkContext {
                frame_number: frame.number,
                ts_ns: frame.ts_ns,
                src_mac: frame.src_mac,
                dst_mac: frame.dst_mac,
                marks: &mut *marks,
            };
            h.on_link(&mut cx, payload);
        }
    }

    /// A flow left the flow table: deliver what its streams still hold and
    /// tell its handler.
    pub fn flow_gone(
        &mut self,
        mut flow: Flow<AppState>,
        frame: &FrameInfo,
        marks: &mut FrameMarks,
    ) {
        let Some(hi) = flow.state.handler else { return };
        let Some(handler) = self.handlers.get_mut(hi) else { return };
        if flow.protocol == TCP {
            for dir in [FlowDirection::ToServer, FlowDirection::ToClient] {
                let (client, server, flow_id) = (flow.client, flow.server, flow.id);
                let (here, there) = if dir == FlowDirection::ToServer {
                    (client, server)
                } else {
                    (server, client)
                };
                let Flow { streams: [s_ts, s_tc], state, .. } = &mut flow;
                let [g_ts, g_tc] = &mut state.after_gap;
                let (stream, gap) =
                    if dir == FlowDirection::ToServer { (s_ts, g_ts) } else { (s_tc, g_tc) };
                let mut sink = Sink {
                    handler: handler.as_mut(),
                    meta: Meta {
                        frame,
                        transport: Transport::Tcp,
                        dir,
                        src: here,
                        dst: there,
                        client,
                        server,
                        flow_id,
                    },
                    marks: &mut *marks,
                    after_gap: gap,
                    stats: &mut self.stats,
                };
                stream.flush(&mut sink);
            }
        }
        handler.on_flow_end(flow.id);
    }
}

/// The fixed part of a PDU context for one direction of a flow.
#[derive(Clone, Copy)]
struct Meta<'s> {
    frame: &'s FrameInfo,
    transport: Transport,
    dir: FlowDirection,
    src: Endpoint,
    dst: Endpoint,
    client: Endpoint,
    server: Endpoint,
    flow_id: u64,
}

impl Meta<'_> {
    fn cx<'m>(&self, marks: &'m mut FrameMarks, after_gap: bool) -> PduContext<'m> {
        PduContext {
            frame_number: self.frame.number,
            ts_ns: self.frame.ts_ns,
            transport: self.transport,
            direction: direction(self.dir),
            src: self.src,
            dst: self.dst,
            client: self.client,
            server: self.server,
            src_mac: self.frame.src_mac,
            dst_mac: self.frame.dst_mac,
            flow_id: self.flow_id,
            after_gap,
            marks,
        }
    }
}

/// Adapts one handler and one direction of a flow to the reassembler.
struct Sink<'s, H: ?Sized> {
    handler: &'s mut H,
    meta: Meta<'s>,
    marks: &'s mut FrameMarks,
    after_gap: &'s mut bool,
    stats: &'s mut DispatchStats,
}

impl<H: ?Sized + ProtocolHandler> StreamSink for Sink<'_, H> {
    fn frame(&mut self, buf: &[u8]) -> Framing {
        match self.handler.pdu_len(buf) {
            Ok(n) => Framing::Pdu(n),
            Err(DecodeError::Incomplete { .. }) => Framing::Incomplete,
            Err(DecodeError::Malformed(_)) => Framing::Invalid,
        }
    }

    fn pdu(&mut self, pdu: &[u8]) {
        self.stats.pdus = self.stats.pdus.saturating_add(1);
        let mut cx = self.meta.cx(self.marks, *self.after_gap);
        self.handler.on_pdu(&mut cx, pdu);
        *self.after_gap = false;
    }

    fn gap(&mut self, missing: u64) {
        self.stats.gaps = self.stats.gaps.saturating_add(1);
        *self.after_gap = true;
        let mut cx = self.meta.cx(self.marks, true);
        self.handler.on_gap(&mut cx, missing);
    }

    fn truncated(&mut self, partial: &[u8]) {
        let mut cx = self.meta.cx(self.marks, *self.after_gap);
        self.handler.on_truncated_pdu(&mut cx, partial);
        *self.after_gap = true;
    }

    fn skipped(&mut self, bytes: usize, why: SkipReason) {
        let n = u64::try_from(bytes).unwrap_or(u64::MAX);
        match why {
            SkipReason::Invalid => {
                self.stats.invalid_bytes = self.stats.invalid_bytes.saturating_add(n)
            }
            SkipReason::Overflow => {
                self.stats.overflow_bytes = self.stats.overflow_bytes.saturating_add(n)
            }
            SkipReason::Gap | SkipReason::Truncated => {}
        }
        *self.after_gap = true;
    }
}
