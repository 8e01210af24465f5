//! EtherNet/IP and CIP summary handler: maps the enip dissector's output to the truth-file keys.
//!
//! Counts encapsulation messages on TCP/UDP 44818 and class-1 I/O datagrams
//! on UDP 2222 the way the truth files do (see CONTRACT.md and the
//! MANIFEST's "Ground-truth JSON" section):
//!
//! - `frames`: frames in which an encapsulation message completes (I/O
//!   datagrams are counted apart, in `cip_io_frames`);
//! - `cip_service_requests`/`_responses`: every CIP service, including the
//!   ones embedded in a Multiple Service Packet or routed by an Unconnected
//!   Send; `*_top_level`: the outermost service of each CIP message, where
//!   the request routed by an Unconnected Send is a message of its own (it
//!   is what the target device receives as a request);
//! - responses carry no path, so a response's class (for `*_by_target`,
//!   `cip_classes`, the Identity object reply) comes from its request,
//!   matched per flow by the dissector's [`Transactions`].
//!
//! Per-flow state and every count map are bounded by named limits.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use otwatch_dissect::enip::{
    self, CipMessage, ClassId, EnipMessage, LogicalType, RequestInfo, Segment, ServiceBody,
    ServiceCode, Target, Transactions,
};
use otwatch_dissect::{DecodeError, Direction};
use serde_json::{Map, Value, json};

use super::handler::{PduContext, ProtocolHandler, Transport};

/// Flows whose requests are remembered for matching responses.
pub const MAX_TRACKED_FLOWS: usize = 256;
/// Distinct keys kept per count map; further keys are not counted.
pub const MAX_DISTINCT_KEYS: usize = 4096;
/// Distinct identities kept.
pub const MAX_IDENTITIES: usize = 1024;
/// Distinct server and client addresses kept.
pub const MAX_ENDPOINTS: usize = 4096;
/// Connections opened by a Forward Open and remembered until their Forward Close.
pub const MAX_CONNECTIONS: usize = 1024;

/// A connection as Forward Open and Forward Close name it: connection
/// serial number, originator vendor id, originator serial number.
type ConnectionTriad = (u16, u16, u32);

/// A count per key, bounded by [`MAX_DISTINCT_KEYS`].
#[derive(Debug)]
struct Counts<K> {
    map: BTreeMap<K, u64>,
    dropped: u64,
}

impl<K> Default for Counts<K> {
    fn default() -> Self {
        Counts { map: BTreeMap::new(), dropped: 0 }
    }
}

impl<K: Ord> Counts<K> {
    fn add(&mut self, k: K) {
        if let Some(n) = self.map.get_mut(&k) {
            *n = n.saturating_add(1);
        } else if self.map.len() < MAX_DISTINCT_KEYS {
            self.map.insert(k, 1);
        } else {
            self.dropped = self.dropped.saturating_add(1);
        }
    }

    fn json(&self, key: impl Fn(&K) -> String) -> Value {
        Value::Object(self.map.iter().map(|(k, n)| (key(k), json!(n))).collect::<Map<_, _>>())
    }
}

fn insert_bounded<T: Ord>(set: &mut BTreeSet<T>, v: T, cap: usize) {
    if set.len() < cap || set.contains(&v) {
        set.insert(v);
    }
}

/// An identity as the truth files list it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct IdentityRecord {
    src: String,
    source: &'static str,
    vendor_id: u16,
    device_type: u16,
    product_code: u16,
    revision: String,
    serial: String,
    product_name: String,
}

impl IdentityRecord {
    fn json(&self) -> Value {
        json!({
            "src": self.src,
            "source": self.source,
            "vendor_id": self.vendor_id,
            "device_type": self.device_type,
            "product_code": self.product_code,
            "revision": self.revision,
            "serial": self.serial,
            "product_name": self.product_name,
        })
    }

    /// The truth files sort identities by their JSON text with sorted keys.
    fn sort_key(&self) -> String {
        let v = self.json();
        let Value::Object(m) = v else { return String::new() };
        let sorted: BTreeMap<_, _> = m.into_iter().collect();
        serde_json::to_string(&sorted).unwrap_or_default()
    }
}

/// Counts EtherNet/IP and CIP traffic for the `enip` section of the summary.
#[derive(Debug, Default)]
pub struct EnipSummary {
    seen: bool,
    frames: u64,
    last_frame: Option<u64>,
    io_frames: u64,
    /// I/O datagrams without I/O data: the truth counts them in `frames`,
    /// but only in captures that also hold encapsulation messages (its
    /// frame filter then matches their encapsulation fields).
    io_without_data: u64,
    commands_tcp: Counts<u16>,
    commands_udp: Counts<u16>,
    nonzero_status: Counts<u32>,
    svc_req: Counts<u8>,
    svc_resp: Counts<u8>,
    top_req: Counts<u8>,
    top_resp: Counts<u8>,
    target_req: Counts<(TargetKey, u8)>,
    target_resp: Counts<(TargetKey, u8)>,
    general_status: Counts<u8>,
    classes: Counts<u32>,
    identities: BTreeSet<IdentityRecord>,
    servers: BTreeSet<String>,
    clients: BTreeSet<String>,
    tx: HashMap<u64, Transactions>,
    /// Classes of each open connection's connection path.
    connections: BTreeMap<ConnectionTriad, Vec<u32>>,
}

/// The target of a service as the truth keys name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum TargetKey {
    Class(u32),
    Symbolic,
    NoPath,
}

impl TargetKey {
    fn of(t: Target) -> TargetKey {
        match t {
            Target::Class(c) => TargetKey::Class(c.0),
            Target::Symbolic => TargetKey::Symbolic,
            Target::None => TargetKey::NoPath,
        }
    }

    fn text(self, service: u8) -> String {
        match self {
            TargetKey::Class(c) => format!("class=0x{c:02x} service=0x{service:02x}"),
            TargetKey::Symbolic => format!("symbolic service=0x{service:02x}"),
            TargetKey::NoPath => format!("no-path service=0x{service:02x}"),
        }
    }
}

/// Classes whose class-specific services the truth hands to a dissector
/// of their own rather than to the generic one: CIP Safety supervisor and
/// validator, Motion axis, Modbus object, Connection Configuration object.
const OWN_CLASS_DISSECTORS: [u32; 5] = [0x39, 0x3A, 0x42, 0x44, 0xF3];

/// Marks the frame for the dissector the truth hands a service to: the
/// Connection Manager (`cipcm`) for anything addressed to class 0x06, the
/// generic class dissector (`cipcls`) for services that are not common
/// services (class-specific or reserved codes).
fn mark_service(cx: &mut PduContext<'_>, service: ServiceCode, target: Target) {
    if target == Target::Class(ClassId::CONNECTION_MANAGER) {
        cx.mark("cipcm");
    } else if service.name().is_none()
        && !target.class().is_some_and(|c| OWN_CLASS_DISSECTORS.contains(&c.0))
    {
        cx.mark("cipcls");
    }
}

fn path_classes(path: enip::Epath<'_>) -> impl Iterator<Item = u32> + '_ {
    path.segments().map_while(Result::ok).filter_map(|s| match s {
        Segment::Logical { kind: LogicalType::CLASS_ID, value } => Some(value),
        _ => None,
    })
}

fn is_request(cx: &PduContext<'_>) -> Option<bool> {
    let (s, d) = (cx.src.port, cx.dst.port);
    if d == enip::PORT && s != enip::PORT {
        Some(true)
    } else if s == enip::PORT && d != enip::PORT {
        Some(false)
    } else {
        None
    }
}

impl EnipSummary {
    fn count_frame(&mut self, cx: &PduContext<'_>) {
        if self.last_frame != Some(cx.frame_number) {
            self.last_frame = Some(cx.frame_number);
            self.frames = self.frames.saturating_add(1);
        }
    }

    fn on_message(&mut self, cx: &mut PduContext<'_>, msg: &EnipMessage<'_>) {
        self.seen = true;
        cx.mark("enip");
        self.count_frame(cx);
        let cmd = msg.header.command.0;
        match cx.transport {
            Transport::Tcp => self.commands_tcp.add(cmd),
            Transport::Udp => self.commands_udp.add(cmd),
        }
        if msg.header.status.0 != 0 {
            self.nonzero_status.add(msg.header.status.0);
        }
        if cx.transport == Transport::Tcp {
            match is_request(cx) {
                Some(true) => {
                    insert_bounded(&mut self.servers, cx.dst.addr.to_string(), MAX_ENDPOINTS);
                    insert_bounded(&mut self.clients, cx.src.addr.to_string(), MAX_ENDPOINTS);
                }
                Some(false) => {
                    insert_bounded(&mut self.servers, cx.src.addr.to_string(), MAX_ENDPOINTS);
                    insert_bounded(&mut self.clients, cx.dst.addr.to_string(), MAX_ENDPOINTS);
                }
                None => {}
            }
        }
        for item in msg.identities() {
            let id = &item.identity;
            let revision = u16::from_be_bytes([id.revision_major, id.revision_minor]);
            self.add_identity(IdentityRecord {
                src: cx.src.addr.to_string(),
                source: "ListIdentity",
                vendor_id: id.vendor_id,
                device_type: id.device_type,
                product_code: id.product_code,
                revision: revision.to_string(),
                serial: format!("0x{:08x}", id.serial_number),
                product_name: String::from_utf8_lossy(id.product_name).into_owned(),
            });
        }
        let mut any_request = false;
        for payload in msg.cip() {
            if payload.raw.is_empty() {
                continue;
            }
            cx.mark("cip");
            let Some(m) = &payload.message else {
                // The service byte of a message that does not frame still counts.
                if let Some(b) = payload.service_byte() {
                    any_request |= self.count_unframed(cx, msg, b);
                }
                continue;
            };
            if m.is_response() {
                let info = self.match_response(cx.flow_id, msg);
                self.count_response(cx, m, info.as_ref(), true);
            } else {
                any_request = true;
                self.count_request(cx, m, true);
            }
        }
        if any_request {
            self.track_request(cx.flow_id, msg);
        }
    }

    /// Counts a CIP message cut short after its service byte; returns
    /// whether it was a request.
    fn count_unframed(&mut self, cx: &mut PduContext<'_>, msg: &EnipMessage<'_>, byte: u8) -> bool {
        let service = ServiceCode(byte & 0x7F);
        let response = byte & 0x80 != 0;
        if response {
            let info = self.match_response(cx.flow_id, msg);
            let target = info.as_ref().map_or(Target::None, |i| i.target);
            self.svc_resp.add(service.0);
            self.top_resp.add(service.0);
            self.target_resp.add((TargetKey::of(target), service.0));
            mark_service(cx, service, target);
        } else {
            self.svc_req.add(service.0);
            self.top_req.add(service.0);
            self.target_req.add((TargetKey::NoPath, service.0));
            mark_service(cx, service, Target::None);
        }
        !response
    }

    /// A datagram holding an encapsulation header whose data is cut short.
    fn on_truncated(&mut self, cx: &mut PduContext<'_>, h: &enip::EncapHeader) {
        self.seen = true;
        self.count_frame(cx);
        match cx.transport {
            Transport::Tcp => self.commands_tcp.add(h.command.0),
            Transport::Udp => self.commands_udp.add(h.command.0),
        }
        if h.status.0 != 0 {
            self.nonzero_status.add(h.status.0);
        }
    }

    fn track_request(&mut self, flow: u64, msg: &EnipMessage<'_>) {
        if !self.tx.contains_key(&flow) && self.tx.len() >= MAX_TRACKED_FLOWS {
            return;
        }
        self.tx.entry(flow).or_default().request(msg);
    }

    fn match_response(&mut self, flow: u64, msg: &EnipMessage<'_>) -> Option<RequestInfo> {
        self.tx.get_mut(&flow)?.response(msg)
    }

    fn add_identity(&mut self, rec: IdentityRecord) {
        insert_bounded(&mut self.identities, rec, MAX_IDENTITIES);
    }

    fn count_request(&mut self, cx: &mut PduContext<'_>, m: &CipMessage<'_>, top: bool) {
        let sc = m.service.0;
        self.svc_req.add(sc);
        if top {
            self.top_req.add(sc);
        }
        let target = m.target();
        self.target_req.add((TargetKey::of(target), sc));
        mark_service(cx, m.service, target);
        if let Some(path) = m.path() {
            for c in path_classes(path) {
                self.classes.add(c);
            }
        }
        match &m.body {
            ServiceBody::ForwardOpen(fo) => {
                let classes: Vec<u32> = path_classes(fo.connection_path).collect();
                for c in &classes {
                    self.classes.add(*c);
                }
                let triad = (fo.connection_serial, fo.originator_vendor_id, fo.originator_serial);
                if self.connections.len() < MAX_CONNECTIONS || self.connections.contains_key(&triad)
                {
                    self.connections.insert(triad, classes);
                }
            }
            ServiceBody::ForwardClose(fc) => {
                for c in path_classes(fc.connection_path) {
                    self.classes.add(c);
                }
                // The truth shows the closed connection's Forward Open path
                // beside the Forward Close request.
                let triad = (fc.connection_serial, fc.originator_vendor_id, fc.originator_serial);
                if let Some(opened) = self.connections.remove(&triad) {
                    for c in opened {
                        self.classes.add(c);
                    }
                }
            }
            _ => {}
        }
        // The request routed by an Unconnected Send is a request of its own;
        // the services of a Multiple Service Packet are not.
        let routed = matches!(m.body, ServiceBody::UnconnectedSend(_));
        for e in m.embedded() {
            self.count_request(cx, e, routed);
        }
    }

    fn count_response(
        &mut self,
        cx: &mut PduContext<'_>,
        m: &CipMessage<'_>,
        info: Option<&RequestInfo>,
        top: bool,
    ) {
        let sc = m.service.0;
        self.svc_resp.add(sc);
        if top {
            self.top_resp.add(sc);
        }
        if let Some(g) = m.general_status() {
            self.general_status.add(g.0);
        }
        let target = info.map_or(Target::None, |i| i.target);
        self.target_resp.add((TargetKey::of(target), sc));
        // A routed reply answers the embedded request.
        let answered = info.map(|i| i.answered_by(m));
        if info.is_none() {
            // Without its request the class is unknown: a reply that is not
            // a common service goes to the generic class dissector.
            mark_service(cx, m.service, Target::None);
        }
        // The request path (and connection path) of the request is shown
        // with the response, and for a routed reply the embedded one too.
        if let Some(i) = info {
            mark_service(cx, i.service, i.target);
            for c in &i.classes {
                self.classes.add(c.0);
            }
        }
        // A reply to an Unconnected Send is shown against the routed
        // request too: a success answers it, an error (service 0x52 again)
        // is reported on the routed request's class.
        let routed = info
            .filter(|i| i.service == ServiceCode::UNCONNECTED_SEND)
            .and_then(|i| i.embedded.first());
        if let Some(r) = routed {
            let service =
                if m.service == ServiceCode::UNCONNECTED_SEND { m.service } else { r.service };
            mark_service(cx, service, r.target);
            for c in &r.classes {
                self.classes.add(c.0);
            }
        }
        if let Some(a) = answered
            && a.service == ServiceCode::GET_ATTRIBUTES_ALL
            && a.target == Target::Class(ClassId::IDENTITY)
            && m.general_status().is_some_and(|g| g.is_success())
            && let Some(id) = enip::parse_identity(m.data)
        {
            self.add_identity(IdentityRecord {
                src: cx.src.addr.to_string(),
                source: "CIP Identity object",
                vendor_id: id.vendor_id,
                device_type: id.device_type,
                product_code: id.product_code,
                revision: format!("{}.{}", id.revision_major, id.revision_minor),
                serial: format!("0x{:08x}", id.serial_number),
                product_name: String::from_utf8_lossy(id.product_name).into_owned(),
            });
        }
        // The first reply inside a routed Multiple Service Packet reply is
        // the first service of the routed message, which counts as top level
        // (the truth dissects the routed reply's data as a message of its own).
        let routed_msp = routed.is_some() && m.service != ServiceCode::UNCONNECTED_SEND;
        for (idx, e) in m.embedded().iter().enumerate() {
            let inner = answered.and_then(|a| a.embedded.get(idx));
            self.count_response(cx, e, inner, routed_msp && idx == 0);
        }
    }

    /// A datagram on the I/O port. Every non-empty one is I/O
    /// encapsulation (`cipio` tag); it counts as an I/O frame when it
    /// carries I/O data, else (heartbeat-like or broken item lists) the
    /// truth lists it as a bare encapsulation frame.
    fn on_io(&mut self, cx: &mut PduContext<'_>, payload: &[u8]) {
        if payload.is_empty() {
            return;
        }
        cx.mark("cipio");
        let has_data = enip::parse_io(payload).is_ok_and(|f| f.data.is_some_and(|d| !d.is_empty()));
        if has_data {
            self.io_frames = self.io_frames.saturating_add(1);
        } else {
            self.io_without_data = self.io_without_data.saturating_add(1);
        }
    }
}

fn hex2(k: &u8) -> String {
    format!("0x{k:02x}")
}

impl ProtocolHandler for EnipSummary {
    fn name(&self) -> &'static str {
        "enip"
    }

    fn active(&self) -> bool {
        true
    }

    fn frame_tags(&self) -> &'static [&'static str] {
        &["enip", "cip", "cipcm", "cipcls", "cipio"]
    }

    fn tcp_ports(&self) -> &'static [u16] {
        &[enip::PORT]
    }

    fn udp_ports(&self) -> &'static [u16] {
        &[enip::PORT, enip::IO_PORT]
    }

    fn probe_tcp(&self, payload: &[u8]) -> bool {
        enip::probe(payload)
    }

    fn probe_udp(&self, payload: &[u8]) -> bool {
        // Class-1 I/O is recognised on its port only, as the truth does.
        enip::probe(payload)
    }

    fn pdu_len(&self, buf: &[u8]) -> Result<usize, DecodeError> {
        enip::pdu_len(buf)
    }

    fn on_pdu(&mut self, cx: &mut PduContext<'_>, pdu: &[u8]) {
        if let Ok((_, msg)) = enip::parse(pdu, cx.direction) {
            self.on_message(cx, &msg);
        }
    }

    fn on_datagram(&mut self, cx: &mut PduContext<'_>, payload: &[u8]) {
        let io_port = cx.src.port == enip::IO_PORT || cx.dst.port == enip::IO_PORT;
        let encap_port = cx.src.port == enip::PORT || cx.dst.port == enip::PORT;
        if io_port && !encap_port {
            self.on_io(cx, payload);
            return;
        }
        let dir = match is_request(cx) {
            Some(false) => Direction::ToClient,
            _ => Direction::ToServer,
        };
        // A datagram holds one encapsulation message; one cut short still
        // counts by its header, and any bytes at all are tagged.
        if !payload.is_empty() {
            cx.mark("enip");
        }
        match enip::parse(payload, dir) {
            Ok((_, msg)) => self.on_message(cx, &msg),
            Err(_) => {
                if let Ok(h) = enip::parse_header(payload) {
                    self.on_truncated(cx, &h);
                }
            }
        }
    }

    fn on_flow_end(&mut self, flow_id: u64) {
        self.tx.remove(&flow_id);
    }

    fn summary(&self) -> Option<Value> {
        if !self.seen && self.io_frames == 0 {
            return None;
        }
        let frames = if self.frames > 0 {
            self.frames.saturating_add(self.io_without_data)
        } else {
            self.frames
        };
        let mut ids: Vec<&IdentityRecord> = self.identities.iter().collect();
        ids.sort_by_cached_key(|r| r.sort_key());
        let target = |k: &(TargetKey, u8)| k.0.text(k.1);
        Some(json!({
            "frames": frames,
            "commands_tcp": self.commands_tcp.json(|k| format!("0x{k:04x}")),
            "commands_udp": self.commands_udp.json(|k| format!("0x{k:04x}")),
            "nonzero_status": self.nonzero_status.json(|k| format!("0x{k:08x}")),
            "cip_service_requests": self.svc_req.json(hex2),
            "cip_service_responses": self.svc_resp.json(hex2),
            "cip_service_requests_top_level": self.top_req.json(hex2),
            "cip_service_responses_top_level": self.top_resp.json(hex2),
            "cip_requests_by_target": self.target_req.json(target),
            "cip_responses_by_target": self.target_resp.json(target),
            "cip_general_status": self.general_status.json(hex2),
            "cip_classes": self.classes.json(|k| format!("0x{k:02x}")),
            "cip_io_frames": self.io_frames,
            "identities": ids.iter().map(|r| r.json()).collect::<Vec<_>>(),
            "servers": self.servers.iter().collect::<Vec<_>>(),
            "clients": self.clients.iter().collect::<Vec<_>>(),
        }))
    }
}

#[cfg(test)]
mod tests {
    //! The counting rules on hand-built messages (CIP Vol. 1 and Vol. 2
    //! layouts, commented field by field).

    use std::net::{IpAddr, Ipv4Addr};

    use super::*;
    use crate::summary::handler::{Endpoint, FrameMarks};

    const CLIENT: Endpoint = Endpoint { addr: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 5)), port: 50000 };
    const SERVER: Endpoint = Endpoint { addr: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 9)), port: 44818 };

    /// An encapsulation message: header (command, length, session 0x10,
    /// status 0, context [7; 8], options 0), then `data`.
    fn encap(command: u16, data: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&command.to_le_bytes());
        v.extend_from_slice(&(data.len() as u16).to_le_bytes());
        v.extend_from_slice(&0x10u32.to_le_bytes());
        v.extend_from_slice(&0u32.to_le_bytes());
        v.extend_from_slice(&[7; 8]);
        v.extend_from_slice(&0u32.to_le_bytes());
        v.extend_from_slice(data);
        v
    }

    /// SendRRData data around a CIP message: interface 0, timeout 0, null
    /// address item, unconnected data item.
    fn rr(cip: &[u8]) -> Vec<u8> {
        let mut v = vec![0, 0, 0, 0, 0, 0, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0xB2, 0x00];
        v.extend_from_slice(&(cip.len() as u16).to_le_bytes());
        v.extend_from_slice(cip);
        encap(0x006F, &v)
    }

    /// Feeds one PDU in frame `n`; returns the frame's marks.
    fn feed(h: &mut EnipSummary, n: u64, to_server: bool, pdu: &[u8]) -> FrameMarks {
        let mut marks = FrameMarks::default();
        let (src, dst) = if to_server { (CLIENT, SERVER) } else { (SERVER, CLIENT) };
        let mut cx = PduContext {
            frame_number: n,
            ts_ns: 0,
            transport: Transport::Tcp,
            direction: if to_server { Direction::ToServer } else { Direction::ToClient },
            src,
            dst,
            client: CLIENT,
            server: SERVER,
            src_mac: None,
            dst_mac: None,
            flow_id: 1,
            after_gap: false,
            marks: &mut marks,
        };
        h.on_pdu(&mut cx, pdu);
        marks
    }

    #[test]
    fn routed_requests_are_top_level_and_replies_take_the_request_path() {
        let mut h = EnipSummary::default();
        let ucs = [
            0x52, 0x02, 0x20, 0x06, 0x24, 0x01, // Unconnected_Send to class 0x06 instance 1
            0x07, 0xE9, 0x06, 0x00, // priority/tick, timeout ticks, embedded size 6
            0x01, 0x02, 0x20, 0x01, 0x24, 0x01, // Get_Attributes_All on Identity instance 1
            0x01, 0x00, 0x01, 0x00, // route path 1 word, reserved, port 1 slot 0
        ];
        let marks = feed(&mut h, 1, true, &rr(&ucs));
        assert!(marks.contains("enip") && marks.contains("cip") && marks.contains("cipcm"));
        assert!(!marks.contains("cipcls"));
        let reply = [
            0x81, 0x00, 0x00, 0x00, // Get_Attributes_All reply, success
            0x01, 0x00, 0x0E, 0x00, 0x37, 0x00, // vendor 1, device type 14, product code 55
            0x14, 0x0B, 0x60, 0x30, // revision 20.11, status
            0x78, 0x56, 0x34, 0x12, // serial 0x12345678
            0x04, b'P', b'L', b'C', b'1', // product name
        ];
        let marks = feed(&mut h, 2, false, &rr(&reply));
        assert!(marks.contains("cipcm"));
        let s = h.summary().unwrap();
        assert_eq!(s["frames"], 2);
        assert_eq!(s["commands_tcp"], json!({"0x006f": 2}));
        assert_eq!(s["cip_service_requests"], json!({"0x01": 1, "0x52": 1}));
        assert_eq!(s["cip_service_requests_top_level"], json!({"0x01": 1, "0x52": 1}));
        assert_eq!(s["cip_service_responses_top_level"], json!({"0x01": 1}));
        assert_eq!(
            s["cip_requests_by_target"],
            json!({"class=0x01 service=0x01": 1, "class=0x06 service=0x52": 1})
        );
        assert_eq!(s["cip_responses_by_target"], json!({"class=0x06 service=0x01": 1}));
        assert_eq!(s["cip_classes"], json!({"0x01": 2, "0x06": 2}));
        assert_eq!(s["cip_general_status"], json!({"0x00": 1}));
        assert_eq!(s["servers"], json!(["10.0.0.9"]));
        assert_eq!(s["clients"], json!(["10.0.0.5"]));
        assert_eq!(
            s["identities"],
            json!([{
                "src": "10.0.0.9", "source": "CIP Identity object", "vendor_id": 1, "device_type": 14,
                "product_code": 55, "revision": "20.11", "serial": "0x12345678", "product_name": "PLC1"
            }])
        );
    }

    #[test]
    fn services_inside_a_multiple_service_packet_are_not_top_level() {
        let mut h = EnipSummary::default();
        let msp = [
            0x0A, 0x02, 0x20, 0x02, 0x24, 0x01, // MSP to Message Router instance 1
            0x02, 0x00, 0x06, 0x00, 0x0C, 0x00, // 2 services at offsets 6 and 12
            0x4C, 0x02, 0x20, 0x72, 0x24, 0x00, // class-specific 0x4C on class 0x72
            0x4E, 0x03, 0x91, 0x02, b'T', b'1', 0x28, 0x00, // 0x4E on tag "T1" element 0
        ];
        let marks = feed(&mut h, 1, true, &rr(&msp));
        assert!(marks.contains("cipcls") && !marks.contains("cipcm"));
        let reply = [
            0x8A, 0x00, 0x1E, 0x00, // MSP reply, embedded service error
            0x02, 0x00, 0x06, 0x00, 0x0A, 0x00, // 2 replies at offsets 6 and 10
            0xCC, 0x00, 0x00, 0x00, // 0x4C reply, success
            0xCE, 0x00, 0x08, 0x00, // 0x4E reply, service not supported
        ];
        feed(&mut h, 2, false, &rr(&reply));
        let s = h.summary().unwrap();
        assert_eq!(s["cip_service_requests"], json!({"0x0a": 1, "0x4c": 1, "0x4e": 1}));
        assert_eq!(s["cip_service_requests_top_level"], json!({"0x0a": 1}));
        assert_eq!(s["cip_service_responses_top_level"], json!({"0x0a": 1}));
        assert_eq!(
            s["cip_responses_by_target"],
            json!({"class=0x02 service=0x0a": 1, "class=0x72 service=0x4c": 1, "symbolic service=0x4e": 1})
        );
        assert_eq!(s["cip_general_status"], json!({"0x00": 1, "0x08": 1, "0x1e": 1}));
    }

    #[test]
    fn list_identity_io_and_unmatched_replies() {
        let mut h = EnipSummary::default();
        let li = [
            0x01, 0x00, 0x0C, 0x00, 0x22, 0x00, // 1 item: CIP Identity, 34 bytes
            0x01, 0x00, // protocol version
            0x00, 0x02, 0xAF, 0x12, 10, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0, // sockaddr
            0x01, 0x00, 0x0C, 0x00, 0x3A, 0x00, // vendor 1, device type 12, product 58
            0x04, 0x03, 0x30, 0x00, // revision 4.3, status
            0x8E, 0x4D, 0x52, 0x00, // serial
            0x01, b'X', // product name
        ];
        feed(&mut h, 1, false, &encap(0x0063, &li));
        // A class-specific reply nobody asked for still counts.
        let marks = feed(&mut h, 2, false, &rr(&[0xCC, 0x00, 0x00, 0x00]));
        assert!(marks.contains("cipcls"));
        let mut marks = FrameMarks::default();
        let io_port = Endpoint { port: 2222, ..CLIENT };
        let mut cx = PduContext {
            frame_number: 3,
            ts_ns: 0,
            transport: Transport::Udp,
            direction: Direction::ToServer,
            src: io_port,
            dst: Endpoint { port: 2222, ..SERVER },
            client: io_port,
            server: Endpoint { port: 2222, ..SERVER },
            src_mac: None,
            dst_mac: None,
            flow_id: 2,
            after_gap: false,
            marks: &mut marks,
        };
        let io = [
            0x02, 0x00, 0x02, 0x80, 0x08, 0x00, // 2 items: sequenced address, 8 bytes
            0x01, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, // connection id 1, sequence 5
            0xB1, 0x00, 0x02, 0x00, 0xAA, 0xBB, // connected data, 2 bytes
        ];
        h.on_datagram(&mut cx, &io);
        assert!(marks.contains("cipio") && !marks.contains("enip"));
        let s = h.summary().unwrap();
        assert_eq!(s["frames"], 2);
        assert_eq!(s["cip_io_frames"], 1);
        assert_eq!(s["cip_responses_by_target"], json!({"no-path service=0x4c": 1}));
        assert_eq!(s["identities"][0]["revision"], "1027");
        assert_eq!(s["identities"][0]["source"], "ListIdentity");
        assert_eq!(s["identities"][0]["serial"], "0x00524d8e");
    }

    #[test]
    fn nothing_seen_gives_no_section() {
        assert_eq!(EnipSummary::default().summary(), None);
    }
}
