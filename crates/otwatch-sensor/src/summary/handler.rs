//! The per-protocol hook: what a protocol's summary handler implements and receives.
//!
//! One type per OT protocol (in `summary/<proto>.rs`) implements
//! [`ProtocolHandler`]. The pipeline uses it twice: to identify and frame
//! the protocol's traffic (ports, `probe_*`, `pdu_len`), and to hand it each
//! PDU or datagram with its context ([`PduContext`]) so it can count what
//! the truth files count. See `CONTRACT.md` beside this file.

use otwatch_dissect::{DecodeError, Direction};
pub use otwatch_flow::Endpoint;
use otwatch_wire::MacAddr;

/// Protocol names counted in `protocols.ot_protocol_frames`, in the order
/// of the truth files (tshark's protocol filter names).
pub const OT_FRAME_TAGS: [&str; 28] = [
    "mbtcp",
    "modbus",
    "mbudp",
    "dnp3",
    "tpkt",
    "cotp",
    "s7comm",
    "enip",
    "cip",
    "cipcm",
    "cipcls",
    "cipio",
    "bvlc",
    "bacnet",
    "bacapp",
    "mstp",
    "iec60870_104",
    "iec60870_asdu",
    "iec60870_101",
    "mms",
    "goose",
    "pn_dcp",
    "pn_io",
    "opcua",
    "omron",
    "hartip",
    "c37.118",
    "synphasor",
];

/// The tags the truth files always list, even at zero.
pub const OT_FRAME_TAGS_ALWAYS: [&str; 9] =
    ["mbtcp", "dnp3", "s7comm", "enip", "cip", "bacnet", "bacapp", "iec60870_104", "iec60870_asdu"];

/// The set of [`OT_FRAME_TAGS`] one frame contains.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FrameMarks(u32);

impl FrameMarks {
    /// Marks `tag` (a name from [`OT_FRAME_TAGS`]; other names are ignored).
    pub fn mark(&mut self, tag: &str) {
        if let Some(i) = OT_FRAME_TAGS.iter().position(|t| *t == tag) {
            self.0 |= 1 << i;
        }
    }

    /// Whether `tag` is marked.
    pub fn contains(&self, tag: &str) -> bool {
        OT_FRAME_TAGS.iter().position(|t| *t == tag).is_some_and(|i| self.0 & (1 << i) != 0)
    }

    /// Whether no tag is marked.
    pub fn is_empty(&self) -> bool {
        self.0 == 0
    }

    /// Indices into [`OT_FRAME_TAGS`] of the marked tags.
    pub fn indices(self) -> impl Iterator<Item = usize> {
        (0..OT_FRAME_TAGS.len()).filter(move |i| self.0 & (1 << i) != 0)
    }

    /// The marked tags, in [`OT_FRAME_TAGS`] order.
    pub fn tags(self) -> impl Iterator<Item = &'static str> {
        OT_FRAME_TAGS
            .into_iter()
            .enumerate()
            .filter(move |(i, _)| self.0 & (1 << i) != 0)
            .map(|(_, t)| t)
    }
}

/// TCP or UDP.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Transport {
    /// TCP (PDUs come reassembled and framed by `pdu_len`).
    Tcp,
    /// UDP (one datagram at a time).
    Udp,
}

impl Transport {
    /// "tcp" or "udp".
    pub fn name(self) -> &'static str {
        match self {
            Transport::Tcp => "tcp",
            Transport::Udp => "udp",
        }
    }
}

/// Everything a handler is told about the frame a PDU (or datagram) completes in.
#[derive(Debug)]
pub struct PduContext<'a> {
    /// Frame number, 1-based over the whole (merged) input, as tshark numbers frames.
    pub frame_number: u64,
    /// Frame time, nanoseconds since the epoch.
    pub ts_ns: u64,
    /// TCP or UDP.
    pub transport: Transport,
    /// Direction relative to the flow's server (SYN, else well-known port, else lower port).
    pub direction: Direction,
    /// Sender of this frame.
    pub src: Endpoint,
    /// Receiver of this frame.
    pub dst: Endpoint,
    /// The flow's client.
    pub client: Endpoint,
    /// The flow's server.
    pub server: Endpoint,
    /// Source MAC of the frame (Ethernet source or Linux SLL sender), if any.
    pub src_mac: Option<MacAddr>,
    /// Destination MAC of the frame, if any.
    pub dst_mac: Option<MacAddr>,
    /// Identifies the flow for per-flow state; unique for the run. See
    /// [`ProtocolHandler::on_flow_end`].
    pub flow_id: u64,
    /// TCP: this is the first PDU of this direction after a gap (missing
    /// bytes) or after bytes the framing rejected; the handler may want to
    /// reset per-direction state such as a DNP3 transport reassembly.
    pub after_gap: bool,
    /// OT frame tags of the current frame; see [`PduContext::mark`].
    pub marks: &'a mut FrameMarks,
}

impl PduContext<'_> {
    /// Counts the current frame for `tag` in `protocols.ot_protocol_frames`
    /// (idempotent within a frame). Use tshark's names ([`OT_FRAME_TAGS`]).
    pub fn mark(&mut self, tag: &str) {
        self.marks.mark(tag);
    }
}

/// What a non-IP frame carries, for protocols that run below IP.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkPayload<'a> {
    /// 802.2 LLC (BACnet/Ethernet uses DSAP = SSAP = 0x82).
    Llc {
        /// Destination SAP.
        dsap: u8,
        /// Source SAP.
        ssap: u8,
        /// Control field.
        control: u16,
        /// Bytes after the LLC header (for BACnet: the NPDU).
        payload: &'a [u8],
    },
    /// A whole BACnet MS/TP frame (link type 165), preamble included.
    MsTp(&'a [u8]),
    /// Any other EtherType (PROFINET 0x8892, ...).
    EtherType {
        /// The EtherType.
        ether_type: u16,
        /// Bytes after the Ethernet/VLAN headers.
        payload: &'a [u8],
    },
}

/// Context of a non-IP frame.
#[derive(Debug)]
pub struct LinkContext<'a> {
    /// Frame number, 1-based.
    pub frame_number: u64,
    /// Frame time, nanoseconds since the epoch.
    pub ts_ns: u64,
    /// Source MAC, if any.
    pub src_mac: Option<MacAddr>,
    /// Destination MAC, if any.
    pub dst_mac: Option<MacAddr>,
    /// OT frame tags of the current frame.
    pub marks: &'a mut FrameMarks,
}

impl LinkContext<'_> {
    /// Counts the current frame for `tag` (see [`PduContext::mark`]).
    pub fn mark(&mut self, tag: &str) {
        self.marks.mark(tag);
    }
}

/// A protocol's identification, framing and summary. Every method has a
/// default that does nothing, so a stub is inert; see `CONTRACT.md`.
pub trait ProtocolHandler: Send {
    /// The truth-file section this handler fills ("modbus", "dnp3", ...).
    fn name(&self) -> &'static str;

    /// Whether the handler is implemented. The conformance test compares a
    /// protocol's keys only for active handlers.
    fn active(&self) -> bool {
        false
    }

    /// The [`OT_FRAME_TAGS`] this handler marks; the summary reports (and the
    /// conformance test compares) `protocols.ot_protocol_frames` only for
    /// tags some handler declares.
    fn frame_tags(&self) -> &'static [&'static str] {
        &[]
    }

    /// Well-known TCP server ports: a flow with one of these as its server
    /// (or, failing that, client) port is this protocol without probing.
    fn tcp_ports(&self) -> &'static [u16] {
        &[]
    }

    /// Well-known UDP ports (either side).
    fn udp_ports(&self) -> &'static [u16] {
        &[]
    }

    /// Content check on the first payload of a TCP flow on no known port
    /// (a segment's bytes, which may hold a partial PDU or several).
    fn probe_tcp(&self, payload: &[u8]) -> bool {
        let _ = payload;
        false
    }

    /// Content check on a UDP datagram on no known port.
    fn probe_udp(&self, payload: &[u8]) -> bool {
        let _ = payload;
        false
    }

    /// TCP framing: the length of the PDU at the start of `buf`.
    /// `Ok(n)` with `n > buf.len()` and `Err(Incomplete)` both mean "wait
    /// for more bytes"; `Err(Malformed)` drops the buffered bytes up to the
    /// end of the current segment (the next segment is tried afresh).
    fn pdu_len(&self, buf: &[u8]) -> Result<usize, DecodeError> {
        let _ = buf;
        Err(DecodeError::Malformed("no framing function"))
    }

    /// One complete TCP PDU, in stream order per direction.
    fn on_pdu(&mut self, cx: &mut PduContext<'_>, pdu: &[u8]) {
        let _ = (cx, pdu);
    }

    /// One UDP datagram's payload.
    fn on_datagram(&mut self, cx: &mut PduContext<'_>, payload: &[u8]) {
        let _ = (cx, payload);
    }

    /// The start of a TCP PDU whose rest was cut off by the capture's snap
    /// length (the frame is shorter than its IP length says): tshark
    /// dissects such a fragment in its frame rather than waiting, so a
    /// handler may count it. The rest of the stream continues after a gap.
    fn on_truncated_pdu(&mut self, cx: &mut PduContext<'_>, partial: &[u8]) {
        let _ = (cx, partial);
    }

    /// `missing` bytes of this direction of a TCP flow were never seen.
    fn on_gap(&mut self, cx: &mut PduContext<'_>, missing: u64) {
        let _ = (cx, missing);
    }

    /// A frame without IP (called for every active handler).
    fn on_link(&mut self, cx: &mut LinkContext<'_>, payload: LinkPayload<'_>) {
        let _ = (cx, payload);
    }

    /// A flow left the flow table (idle, evicted, or end of input): drop
    /// any state kept under `flow_id`.
    fn on_flow_end(&mut self, flow_id: u64) {
        let _ = flow_id;
    }

    /// The section for the summary, in the shape of the truth files
    /// (`None` when nothing of the protocol was seen).
    fn summary(&self) -> Option<serde_json::Value> {
        None
    }
}
