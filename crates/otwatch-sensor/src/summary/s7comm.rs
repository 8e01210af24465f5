//! S7comm (TPKT/COTP) summary handler: maps the s7comm dissector's output to the truth-file keys.
//!
//! Counting follows the truth files, which are tshark 4.0's view: only
//! classic S7comm PDUs (protocol id 0x32) count as `pdus`; S7comm-plus PDUs,
//! which tshark cannot dissect, are counted apart under `plus_*` keys the
//! truth does not have. A TSDU split over several COTP DTs counts in the
//! frame that completes it. This file only maps; all parsing is in
//! `otwatch_dissect::s7comm`.

use std::collections::{BTreeMap, BTreeSet};

use otwatch_dissect::s7comm::{
    self, CotpKind, CotpReassembler, FunctionDetail, FunctionGroup, Param, Payload, Reassembly,
    Rosctr, UserdataFragments,
};
use otwatch_dissect::{DecodeError, Direction};
use serde_json::{Map, Value};

use super::handler::{PduContext, ProtocolHandler};

/// Most distinct keys kept per counter map (userdata kinds, service names, ...).
const MAX_KEYS: usize = 4096;
/// Most flow directions with reassembly state at once.
const MAX_FLOW_STATES: usize = 4096;
/// Most distinct server or client addresses kept.
const MAX_ADDRESSES: usize = 65_536;

/// Counts S7comm (TPKT/COTP) traffic for the `s7comm` section of the summary.
#[derive(Debug, Default)]
pub struct S7commSummary {
    counts: Counts,
    flows: BTreeMap<(u64, bool), FlowState>,
}

/// Per flow direction: COTP reassembly and userdata fragment tracking.
#[derive(Debug, Default)]
struct FlowState {
    cotp: CotpReassembler,
    userdata: UserdataFragments,
}

/// Everything the section reports.
#[derive(Debug, Default)]
struct Counts {
    frames: u64,
    last_frame: Option<u64>,
    pdus: u64,
    rosctr: BTreeMap<u8, u64>,
    job: BTreeMap<u8, u64>,
    ack_data: BTreeMap<u8, u64>,
    userdata: BTreeMap<String, u64>,
    pi_services: BTreeMap<String, u64>,
    block_filenames: BTreeMap<String, u64>,
    szl_ids: BTreeMap<u16, u64>,
    header_errors: BTreeMap<(u8, u8), u64>,
    servers: BTreeSet<String>,
    clients: BTreeSet<String>,
    plus_pdus: u64,
    plus_functions: BTreeMap<u16, u64>,
    anomalies: BTreeMap<&'static str, u64>,
}

/// Adds one to `key`, unless the map is full and the key new.
fn bump<K: Ord>(map: &mut BTreeMap<K, u64>, key: K) {
    if map.len() < MAX_KEYS || map.contains_key(&key) {
        *map.entry(key).or_default() += 1;
    }
}

fn insert_addr(set: &mut BTreeSet<String>, addr: String) {
    if set.len() < MAX_ADDRESSES {
        set.insert(addr);
    }
}

impl Counts {
    fn count_anomalies(&mut self, anomalies: s7comm::Anomalies) {
        for name in anomalies.names() {
            bump(&mut self.anomalies, name);
        }
    }

    /// Counts one complete TSDU (the user data of a DT with EOT, reassembled).
    fn count_tsdu(
        &mut self,
        cx: &mut PduContext<'_>,
        tsdu: &[u8],
        fragments: Option<&mut UserdataFragments>,
    ) {
        match s7comm::parse_payload(tsdu) {
            // tshark takes COTP data for S7comm only with a ROSCTR of 1 to 7; anything
            // else stays undissected data there, so it is not counted as a PDU here either.
            Payload::S7(pdu) if matches!(pdu.header.rosctr.0, 1..=7) => {
                cx.mark("s7comm");
                self.count_anomalies(pdu.anomalies);
                self.count_s7(cx, &pdu, fragments);
            }
            Payload::S7(pdu) => self.count_anomalies(pdu.anomalies),
            Payload::S7Plus(plus) => {
                self.count_anomalies(plus.anomalies);
                self.plus_pdus += 1;
                if let Some(f) = plus.function {
                    bump(&mut self.plus_functions, f.0);
                }
            }
            other => self.count_anomalies(other.anomalies()),
        }
    }

    fn count_s7(
        &mut self,
        cx: &PduContext<'_>,
        pdu: &s7comm::Pdu<'_>,
        fragments: Option<&mut UserdataFragments>,
    ) {
        if self.last_frame != Some(cx.frame_number) {
            self.last_frame = Some(cx.frame_number);
            self.frames += 1;
        }
        self.note_endpoints(cx);
        self.pdus += 1;
        let rosctr = pdu.header.rosctr;
        bump(&mut self.rosctr, rosctr.0);
        if let (Some(class), Some(code)) = (pdu.header.error_class, pdu.header.error_code)
            && class.0 != 0
        {
            bump(&mut self.header_errors, (class.0, code));
        }
        match &pdu.param {
            Param::Function(f) => {
                match rosctr {
                    Rosctr::JOB => bump(&mut self.job, f.function.0),
                    Rosctr::ACK_DATA => bump(&mut self.ack_data, f.function.0),
                    _ => {}
                }
                match &f.detail {
                    FunctionDetail::Block(b) => {
                        if let Some(name) = b.filename {
                            bump(&mut self.block_filenames, text(name));
                        }
                    }
                    FunctionDetail::Pi(pi) => {
                        bump(&mut self.pi_services, text(pi.service));
                        for (name, _) in &pi.blocks {
                            bump(&mut self.block_filenames, text(name));
                        }
                    }
                    _ => {}
                }
            }
            Param::Userdata(ud) => {
                // tshark shows a mode-transition push's subfunction byte as the CPU mode.
                let sub = if ud.group == FunctionGroup::MODE_TRANSITION {
                    "None".to_string()
                } else {
                    ud.subfunction.to_string()
                };
                bump(
                    &mut self.userdata,
                    format!("group={} subfunc={} type={}", ud.group.0, sub, ud.kind.0),
                );
                let first_unit = fragments.is_none_or(|f| f.observe(ud));
                if let Some(szl) = ud.szl()
                    && first_unit
                {
                    bump(&mut self.szl_ids, szl.id);
                }
            }
            Param::None | Param::Raw(_) => {}
        }
    }

    /// Servers and clients as the truth decides them: by the ISO-on-TCP port.
    fn note_endpoints(&mut self, cx: &PduContext<'_>) {
        let port = if cx.src.port == s7comm::PORT || cx.dst.port == s7comm::PORT {
            s7comm::PORT
        } else {
            cx.server.port
        };
        let (server, client) = if cx.dst.port == port && cx.src.port != port {
            (cx.dst.addr, cx.src.addr)
        } else if cx.src.port == port && cx.dst.port != port {
            (cx.src.addr, cx.dst.addr)
        } else {
            return;
        };
        insert_addr(&mut self.servers, server.to_string());
        insert_addr(&mut self.clients, client.to_string());
    }

    fn to_json(&self) -> Value {
        let dec = |m: &BTreeMap<u8, u64>| -> Map<String, Value> {
            m.iter().map(|(k, v)| (k.to_string(), Value::from(*v))).collect()
        };
        let hex = |m: &BTreeMap<u8, u64>| -> Map<String, Value> {
            m.iter().map(|(k, v)| (format!("0x{k:02x}"), Value::from(*v))).collect()
        };
        let strs = |m: &BTreeMap<String, u64>| -> Map<String, Value> {
            m.iter().map(|(k, v)| (k.clone(), Value::from(*v))).collect()
        };
        let list = |s: &BTreeSet<String>| Value::from(s.iter().cloned().collect::<Vec<_>>());
        let mut out = Map::new();
        out.insert("frames".into(), self.frames.into());
        out.insert("pdus".into(), self.pdus.into());
        out.insert("rosctr".into(), dec(&self.rosctr).into());
        out.insert("job_functions".into(), hex(&self.job).into());
        out.insert("ack_data_functions".into(), hex(&self.ack_data).into());
        out.insert("userdata".into(), strs(&self.userdata).into());
        out.insert("pi_services".into(), strs(&self.pi_services).into());
        out.insert("block_filenames".into(), strs(&self.block_filenames).into());
        let szl: Map<String, Value> =
            self.szl_ids.iter().map(|(k, v)| (format!("0x{k:04x}"), Value::from(*v))).collect();
        out.insert("szl_ids".into(), szl.into());
        let errors: Map<String, Value> = self
            .header_errors
            .iter()
            .map(|((c, e), v)| (format!("class=0x{c:02x} code=0x{e:02x}"), Value::from(*v)))
            .collect();
        out.insert("header_errors".into(), errors.into());
        out.insert(
            "plc_stop_requests".into(),
            self.job.get(&s7comm::Function::PLC_STOP.0).copied().unwrap_or(0).into(),
        );
        out.insert("servers".into(), list(&self.servers));
        out.insert("clients".into(), list(&self.clients));
        let rosctr_names: Map<String, Value> = self
            .rosctr
            .keys()
            .filter_map(|k| Rosctr(*k).name().map(|n| (k.to_string(), Value::from(n))))
            .collect();
        let function_names: Map<String, Value> = self
            .job
            .keys()
            .chain(self.ack_data.keys())
            .filter_map(|k| {
                s7comm::Function(*k).name().map(|n| (format!("0x{k:02x}"), Value::from(n)))
            })
            .collect();
        let mut names = Map::new();
        names.insert("rosctr".into(), rosctr_names.into());
        names.insert("functions".into(), function_names.into());
        out.insert("names".into(), names.into());
        if self.plus_pdus > 0 {
            out.insert("plus_pdus".into(), self.plus_pdus.into());
            let f: Map<String, Value> = self
                .plus_functions
                .iter()
                .map(|(k, v)| (format!("0x{k:04x}"), Value::from(*v)))
                .collect();
            out.insert("plus_functions".into(), f.into());
        }
        if !self.anomalies.is_empty() {
            let a: Map<String, Value> =
                self.anomalies.iter().map(|(k, v)| ((*k).to_string(), Value::from(*v))).collect();
            out.insert("anomalies".into(), a.into());
        }
        Value::Object(out)
    }
}

/// Bytes as text the way tshark shows a string field (lossy for non-UTF-8).
fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

impl ProtocolHandler for S7commSummary {
    fn name(&self) -> &'static str {
        "s7comm"
    }

    fn active(&self) -> bool {
        true
    }

    fn frame_tags(&self) -> &'static [&'static str] {
        &["tpkt", "cotp", "s7comm"]
    }

    fn tcp_ports(&self) -> &'static [u16] {
        &[s7comm::PORT]
    }

    fn probe_tcp(&self, payload: &[u8]) -> bool {
        s7comm::probe(payload)
    }

    fn pdu_len(&self, buf: &[u8]) -> Result<usize, DecodeError> {
        s7comm::pdu_len(buf)
    }

    fn on_pdu(&mut self, cx: &mut PduContext<'_>, pdu: &[u8]) {
        cx.mark("tpkt");
        let key = (cx.flow_id, cx.direction == Direction::ToServer);
        if cx.after_gap
            && let Some(state) = self.flows.get_mut(&key)
        {
            state.cotp.reset();
            state.userdata = UserdataFragments::new();
        }
        let Ok((_, tpdu)) = s7comm::parse(pdu, cx.direction) else { return };
        cx.mark("cotp");
        self.counts.count_anomalies(tpdu.anomalies);
        let CotpKind::Data { eot, .. } = tpdu.cotp.kind else { return };
        if !self.flows.contains_key(&key) && self.flows.len() < MAX_FLOW_STATES {
            self.flows.insert(key, FlowState::default());
        }
        let Self { counts, flows } = self;
        match flows.get_mut(&key) {
            Some(state) => match state.cotp.push(eot, tpdu.cotp.user_data) {
                Reassembly::Complete(tsdu) => {
                    counts.count_tsdu(cx, tsdu, Some(&mut state.userdata))
                }
                Reassembly::Dropped => {
                    counts.count_anomalies(s7comm::Anomalies::REASSEMBLY_OVERFLOW)
                }
                Reassembly::Pending => {}
            },
            // Too many flows to keep state for: decode what needs no reassembly.
            None if eot => counts.count_tsdu(cx, tpdu.cotp.user_data, None),
            None => {}
        }
    }

    fn on_gap(&mut self, cx: &mut PduContext<'_>, missing: u64) {
        let _ = missing;
        let key = (cx.flow_id, cx.direction == Direction::ToServer);
        if let Some(state) = self.flows.get_mut(&key) {
            state.cotp.reset();
            state.userdata = UserdataFragments::new();
        }
    }

    fn on_flow_end(&mut self, flow_id: u64) {
        self.flows.remove(&(flow_id, true));
        self.flows.remove(&(flow_id, false));
    }

    fn summary(&self) -> Option<Value> {
        (self.counts.frames > 0 || self.counts.plus_pdus > 0).then(|| self.counts.to_json())
    }
}

#[cfg(test)]
mod tests {
    use std::net::{IpAddr, Ipv4Addr};

    use otwatch_dissect::Direction;

    use super::*;
    use crate::summary::handler::{Endpoint, FrameMarks, Transport};

    fn endpoint(last: u8, port: u16) -> Endpoint {
        Endpoint { addr: IpAddr::V4(Ipv4Addr::new(10, 0, 0, last)), port }
    }

    /// Feeds one TPKT packet from the client (10.0.0.1:1100) to the PLC (10.0.0.2:102).
    fn feed(h: &mut S7commSummary, frame: u64, packet: &[u8]) -> FrameMarks {
        let mut marks = FrameMarks::default();
        let mut cx = PduContext {
            frame_number: frame,
            ts_ns: 0,
            transport: Transport::Tcp,
            direction: Direction::ToServer,
            src: endpoint(1, 1100),
            dst: endpoint(2, 102),
            client: endpoint(1, 1100),
            server: endpoint(2, 102),
            src_mac: None,
            dst_mac: None,
            flow_id: 7,
            after_gap: false,
            marks: &mut marks,
        };
        h.on_pdu(&mut cx, packet);
        marks
    }

    /// TPKT + COTP DT header (EOT as given) around `user` data.
    fn dt(eot: bool, user: &[u8]) -> Vec<u8> {
        let len = u16::try_from(user.len() + 7).unwrap();
        let mut v = vec![0x03, 0x00];
        v.extend_from_slice(&len.to_be_bytes());
        v.extend_from_slice(&[0x02, 0xf0, if eot { 0x80 } else { 0x00 }]);
        v.extend_from_slice(user);
        v
    }

    /// A PLC Stop job: header (Job, ref 1, param 16, data 0), function 0x29, 5 unknown bytes, "P_PROGRAM".
    const PLC_STOP: &[u8] = &[
        0x32, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x10, 0x00, 0x00, // header
        0x29, 0x00, 0x00, 0x00, 0x00, 0x00, 0x09, // PLC Stop, unknown, name length
        b'P', b'_', b'P', b'R', b'O', b'G', b'R', b'A', b'M',
    ];

    #[test]
    fn segmented_pdu_counts_once_in_the_completing_frame() {
        let mut h = S7commSummary::default();
        let (a, b) = PLC_STOP.split_at(12);
        let first = feed(&mut h, 1, &dt(false, a));
        assert!(first.contains("tpkt") && first.contains("cotp") && !first.contains("s7comm"));
        let last = feed(&mut h, 2, &dt(true, b));
        assert!(last.contains("s7comm"));
        let s = h.summary().unwrap();
        assert_eq!(s["pdus"], 1);
        assert_eq!(s["frames"], 1);
        assert_eq!(s["plc_stop_requests"], 1);
        assert_eq!(s["job_functions"]["0x29"], 1);
        assert_eq!(s["pi_services"]["P_PROGRAM"], 1);
        assert_eq!(s["servers"][0], "10.0.0.2");
        assert_eq!(s["clients"][0], "10.0.0.1");
        h.on_flow_end(7);
        assert!(h.flows.is_empty());
    }

    #[test]
    fn gap_drops_a_partial_pdu_and_plus_is_counted_apart() {
        let mut h = S7commSummary::default();
        let (a, _) = PLC_STOP.split_at(12);
        feed(&mut h, 1, &dt(false, a));
        let mut marks = FrameMarks::default();
        let mut cx = PduContext {
            frame_number: 2,
            ts_ns: 0,
            transport: Transport::Tcp,
            direction: Direction::ToServer,
            src: endpoint(1, 1100),
            dst: endpoint(2, 102),
            client: endpoint(1, 1100),
            server: endpoint(2, 102),
            src_mac: None,
            dst_mac: None,
            flow_id: 7,
            after_gap: true,
            marks: &mut marks,
        };
        h.on_gap(&mut cx, 100);
        // S7comm-plus V1 request (opcode, reserved, Explore, reserved, sequence).
        let plus = [0x72, 0x01, 0x00, 0x09, 0x31, 0x00, 0x00, 0x04, 0xbb, 0x00, 0x00, 0x00, 0x01];
        let marks = feed(&mut h, 3, &dt(true, &plus));
        assert!(!marks.contains("s7comm"));
        let s = h.summary().unwrap();
        assert_eq!(s["pdus"], 0);
        assert_eq!(s["plus_pdus"], 1);
        assert_eq!(s["plus_functions"]["0x04bb"], 1);
    }
}
