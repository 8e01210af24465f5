//! DNP3 summary handler: maps the dnp3 dissector's output to the truth-file keys.
//!
//! Counting follows the truth files (see `../shared/pcaps/MANIFEST.md`):
//! `link_frames` counts every link frame, `frames` the captured frames in
//! which at least one link frame completes, link function codes are split by
//! the PRM bit, masters and outstations are the source addresses of frames
//! with DIR set and clear, and the application function codes and `gXvY`
//! object headers are counted once per reassembled application fragment.
//! Transport reassembly runs per flow and direction with named limits.
//!
//! Identification follows the link layer's own check: a TCP segment (or
//! UDP datagram) is taken for DNP3 only if the first link header in it has
//! a good CRC; a segment whose first header fails is dropped whole, as a
//! receiver hunting for a frame would. After a good first header, frames
//! follow by their length field even if a later header CRC fails (the frame
//! is counted, flagged, and its user data is not used). Everything else is
//! what the dissector decodes; where tshark decodes differently, the
//! difference is recorded in `tests/known-differences.toml` rather than
//! imitated here.

use std::collections::{BTreeMap, BTreeSet};

use otwatch_dissect::dnp3::{self, LinkFrame, LinkFunction, Reassembler};
use otwatch_dissect::{DecodeError, Direction};
use serde_json::{Value, json};

use super::handler::{PduContext, ProtocolHandler};

/// Flows (times two directions) with transport reassembly state kept at
/// most; the oldest flow's state is dropped beyond this.
const MAX_REASSEMBLY_FLOWS: usize = 4096;
/// Distinct addresses kept at most (masters, outstations: each).
const MAX_ADDRESSES: usize = 4096;
/// Distinct address pairs kept at most.
const MAX_ADDRESS_PAIRS: usize = 8192;
/// Distinct `gXvY` object keys kept at most.
const MAX_OBJECT_KINDS: usize = 4096;
/// Link frames decoded from one UDP datagram at most.
const MAX_FRAMES_PER_DATAGRAM: usize = 64;

/// Counts DNP3 traffic for the `dnp3` section of the summary.
#[derive(Debug, Default)]
pub struct Dnp3Summary {
    frames: u64,
    last_frame: Option<u64>,
    link_frames: u64,
    app_function_codes: BTreeMap<u8, u64>,
    unsolicited_responses: u64,
    link_primary: BTreeMap<u8, u64>,
    link_secondary: BTreeMap<u8, u64>,
    address_pairs: BTreeMap<(u16, u16), u64>,
    masters: BTreeSet<u16>,
    outstations: BTreeSet<u16>,
    objects: BTreeMap<(u8, u8), u64>,
    iin_device_restart: u64,
    /// Per (flow, direction) state.
    directions: BTreeMap<(u64, bool), DirectionState>,
}

/// What is kept per flow and direction.
#[derive(Debug, Default)]
struct DirectionState {
    /// Transport reassembly.
    reassembler: Reassembler,
    /// The captured frame the last link frame completed in.
    last_frame: Option<u64>,
    /// A captured frame whose first link header failed its CRC: the rest of
    /// that segment is not DNP3.
    rejected_frame: Option<u64>,
}

fn bump<K: Ord>(map: &mut BTreeMap<K, u64>, key: K, max: usize) {
    if map.len() < max || map.contains_key(&key) {
        let n = map.entry(key).or_insert(0);
        *n = n.saturating_add(1);
    }
}

fn insert_bounded<T: Ord>(set: &mut BTreeSet<T>, value: T, max: usize) {
    if set.len() < max || set.contains(&value) {
        set.insert(value);
    }
}

fn counts<K: ToString>(map: &BTreeMap<K, u64>) -> Value {
    Value::Object(map.iter().map(|(k, v)| (k.to_string(), json!(v))).collect())
}

impl Dnp3Summary {
    /// Counts one link frame seen in the current captured frame, and feeds
    /// its transport segment to the flow's reassembler.
    fn on_link_frame(&mut self, cx: &mut PduContext<'_>, frame: &LinkFrame<'_>) {
        cx.mark("dnp3");
        if self.last_frame != Some(cx.frame_number) {
            self.last_frame = Some(cx.frame_number);
            self.frames = self.frames.saturating_add(1);
        }
        self.link_frames = self.link_frames.saturating_add(1);
        let h = frame.header;
        bump(&mut self.address_pairs, (h.source, h.destination), MAX_ADDRESS_PAIRS);
        if h.control.dir() {
            insert_bounded(&mut self.masters, h.source, MAX_ADDRESSES);
        } else {
            insert_bounded(&mut self.outstations, h.source, MAX_ADDRESSES);
        }
        match h.control.function() {
            LinkFunction::Primary(f) => bump(&mut self.link_primary, f.0, usize::MAX),
            LinkFunction::Secondary(f) => bump(&mut self.link_secondary, f.0, usize::MAX),
        }

        let Some(state) = self.directions.get_mut(&direction_key(cx)) else { return };
        let Some(segment) = state.reassembler.push(frame) else { return };
        let Some(fragment) = segment.fragment else { return };
        let Ok(app) = dnp3::parse_application(fragment) else { return };
        bump(&mut self.app_function_codes, app.function.0, usize::MAX);
        if app.function == dnp3::FunctionCode::UNSOLICITED_RESPONSE {
            self.unsolicited_responses = self.unsolicited_responses.saturating_add(1);
        }
        if app.iin.is_some_and(|i| i.device_restart()) {
            self.iin_device_restart = self.iin_device_restart.saturating_add(1);
        }
        for header in app.objects() {
            bump(&mut self.objects, (header.group.0, header.variation), MAX_OBJECT_KINDS);
        }
    }
}

fn direction_key(cx: &PduContext<'_>) -> (u64, bool) {
    (cx.flow_id, cx.direction == Direction::ToServer)
}

impl Dnp3Summary {
    /// The state of this flow and direction, created (within the limit) if new.
    fn direction(&mut self, cx: &PduContext<'_>) -> &mut DirectionState {
        let key = direction_key(cx);
        if !self.directions.contains_key(&key) && self.directions.len() >= MAX_REASSEMBLY_FLOWS {
            // Flow ids grow over a run, so the first key is the oldest flow.
            self.directions.pop_first();
        }
        self.directions.entry(key).or_default()
    }
}

impl ProtocolHandler for Dnp3Summary {
    fn name(&self) -> &'static str {
        "dnp3"
    }

    fn active(&self) -> bool {
        true
    }

    fn frame_tags(&self) -> &'static [&'static str] {
        &["dnp3"]
    }

    fn tcp_ports(&self) -> &'static [u16] {
        &[dnp3::PORT]
    }

    fn udp_ports(&self) -> &'static [u16] {
        &[dnp3::PORT]
    }

    fn probe_tcp(&self, payload: &[u8]) -> bool {
        dnp3::probe(payload)
    }

    fn probe_udp(&self, payload: &[u8]) -> bool {
        dnp3::probe(payload)
    }

    fn pdu_len(&self, buf: &[u8]) -> Result<usize, DecodeError> {
        dnp3::pdu_len(buf)
    }

    fn on_pdu(&mut self, cx: &mut PduContext<'_>, pdu: &[u8]) {
        let Ok((_, frame)) = dnp3::parse(pdu) else { return };
        let frame_number = cx.frame_number;
        let after_gap = cx.after_gap;
        let state = self.direction(cx);
        if after_gap {
            state.reassembler = Reassembler::new();
        }
        if state.rejected_frame == Some(frame_number) {
            return;
        }
        let first_in_segment = state.last_frame != Some(frame_number);
        state.last_frame = Some(frame_number);
        if first_in_segment && !frame.header_crc_ok() {
            state.rejected_frame = Some(frame_number);
            return;
        }
        self.on_link_frame(cx, &frame);
    }

    fn on_datagram(&mut self, cx: &mut PduContext<'_>, payload: &[u8]) {
        self.direction(cx);
        let mut rest = payload;
        for i in 0..MAX_FRAMES_PER_DATAGRAM {
            let Ok((after, frame)) = dnp3::parse(rest) else { break };
            if i == 0 && !frame.header_crc_ok() {
                break;
            }
            self.on_link_frame(cx, &frame);
            rest = after;
            if rest.is_empty() {
                break;
            }
        }
    }

    fn on_gap(&mut self, cx: &mut PduContext<'_>, _missing: u64) {
        self.direction(cx).reassembler = Reassembler::new();
    }

    fn on_flow_end(&mut self, flow_id: u64) {
        self.directions.remove(&(flow_id, true));
        self.directions.remove(&(flow_id, false));
    }

    fn summary(&self) -> Option<Value> {
        if self.frames == 0 {
            return None;
        }
        let names = |map: &BTreeMap<u8, u64>, name: &dyn Fn(u8) -> Option<&'static str>| {
            Value::Object(
                map.keys().filter_map(|&k| name(k).map(|n| (k.to_string(), json!(n)))).collect(),
            )
        };
        let pairs: BTreeMap<String, u64> =
            self.address_pairs.iter().map(|((s, d), n)| (format!("{s}->{d}"), *n)).collect();
        let objects: BTreeMap<String, u64> =
            self.objects.iter().map(|((g, v), n)| (format!("g{g}v{v}"), *n)).collect();
        Some(json!({
            "frames": self.frames,
            "link_frames": self.link_frames,
            "app_function_codes": counts(&self.app_function_codes),
            "app_fragments": self.app_function_codes.values().sum::<u64>(),
            "unsolicited_responses": self.unsolicited_responses,
            "link_primary_function_codes": counts(&self.link_primary),
            "link_secondary_function_codes": counts(&self.link_secondary),
            "address_pairs": pairs,
            "master_addresses": self.masters.iter().collect::<Vec<_>>(),
            "outstation_addresses": self.outstations.iter().collect::<Vec<_>>(),
            "objects": objects,
            "iin_device_restart_responses": self.iin_device_restart,
            "names": {
                "app_function_codes":
                    names(&self.app_function_codes, &|k| dnp3::FunctionCode(k).name()),
                "link_primary_function_codes":
                    names(&self.link_primary, &|k| dnp3::PrimaryFunction(k).name()),
                "link_secondary_function_codes":
                    names(&self.link_secondary, &|k| dnp3::SecondaryFunction(k).name()),
            },
        }))
    }
}

#[cfg(test)]
mod tests {
    //! The counting rules on hand-built link frames (IEEE 1815-2012 layouts,
    //! commented field by field).

    use std::net::{IpAddr, Ipv4Addr};

    use otwatch_dissect::dnp3::LinkControl;

    use super::*;
    use crate::summary::handler::{Endpoint, FrameMarks, Transport};

    const MASTER: Endpoint = Endpoint { addr: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)), port: 40000 };
    const OUTSTATION: Endpoint =
        Endpoint { addr: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)), port: 20000 };

    /// Read class 1 (g60v2, qualifier 0x06), application control FIR FIN seq 1.
    const READ_CLASS1: [u8; 5] = [0xC1, 0x01, 0x3C, 0x02, 0x06];
    /// Null response: FIR FIN seq 1, Response, IIN1.7 (device restart).
    const RESPONSE_RESTART: [u8; 4] = [0xC1, 0x81, 0x80, 0x00];

    /// A link frame from master 1 to outstation 10 (DIR=1, PRM=1,
    /// Unconfirmed User Data) or back (DIR=0), with the transport octet.
    fn frame(from_master: bool, transport: u8, app: &[u8]) -> Vec<u8> {
        let mut user = vec![transport];
        user.extend_from_slice(app);
        let (control, dst, src) = if from_master { (0xC4, 10, 1) } else { (0x44, 1, 10) };
        let mut out = Vec::new();
        dnp3::encode_link(LinkControl(control), dst, src, &user, &mut out).unwrap();
        out
    }

    fn corrupt_header(mut bytes: Vec<u8>) -> Vec<u8> {
        bytes[8] ^= 0xFF; // header CRC
        bytes
    }

    fn cx<'m>(marks: &'m mut FrameMarks, n: u64, to_server: bool, gap: bool) -> PduContext<'m> {
        let (src, dst) = if to_server { (MASTER, OUTSTATION) } else { (OUTSTATION, MASTER) };
        PduContext {
            frame_number: n,
            ts_ns: 0,
            transport: Transport::Tcp,
            direction: if to_server { Direction::ToServer } else { Direction::ToClient },
            src,
            dst,
            client: MASTER,
            server: OUTSTATION,
            src_mac: None,
            dst_mac: None,
            flow_id: 7,
            after_gap: gap,
            marks,
        }
    }

    /// Feeds the PDUs of one captured frame, as the pipeline would after
    /// framing them with `pdu_len`; returns the frame's marks.
    fn feed(h: &mut Dnp3Summary, n: u64, to_server: bool, stream: &[u8], gap: bool) -> FrameMarks {
        let mut marks = FrameMarks::default();
        let mut rest = stream;
        let mut first = true;
        while !rest.is_empty() {
            let len = h.pdu_len(rest).unwrap();
            let (pdu, after) = rest.split_at(len);
            h.on_pdu(&mut cx(&mut marks, n, to_server, gap && first), pdu);
            first = false;
            rest = after;
        }
        marks
    }

    fn section(h: &Dnp3Summary) -> Value {
        h.summary().unwrap()
    }

    #[test]
    fn nothing_seen_gives_no_section() {
        assert_eq!(Dnp3Summary::default().summary(), None);
    }

    #[test]
    fn request_and_response_are_counted() {
        let mut h = Dnp3Summary::default();
        let marks = feed(&mut h, 1, true, &frame(true, 0xC0, &READ_CLASS1), false);
        assert!(marks.contains("dnp3"));
        feed(&mut h, 2, false, &frame(false, 0xC0, &RESPONSE_RESTART), false);
        let s = section(&h);
        assert_eq!(s["frames"], 2);
        assert_eq!(s["link_frames"], 2);
        assert_eq!(s["app_function_codes"], json!({"1": 1, "129": 1}));
        assert_eq!(s["link_primary_function_codes"], json!({"4": 2}));
        assert_eq!(s["master_addresses"], json!([1]));
        assert_eq!(s["outstation_addresses"], json!([10]));
        assert_eq!(s["address_pairs"], json!({"1->10": 1, "10->1": 1}));
        assert_eq!(s["objects"], json!({"g60v2": 1}));
        assert_eq!(s["iin_device_restart_responses"], 1);
        assert_eq!(s["names"]["app_function_codes"]["129"], "Response");
    }

    #[test]
    fn several_link_frames_in_one_captured_frame_count_once_as_a_frame() {
        let mut h = Dnp3Summary::default();
        let mut stream = frame(true, 0xC0, &READ_CLASS1);
        stream.extend_from_slice(&frame(true, 0xC1, &READ_CLASS1));
        feed(&mut h, 1, true, &stream, false);
        let s = section(&h);
        assert_eq!(s["frames"], 1);
        assert_eq!(s["link_frames"], 2);
        assert_eq!(s["app_fragments"], 2);
    }

    #[test]
    fn a_segment_whose_first_header_fails_is_not_dnp3() {
        let mut h = Dnp3Summary::default();
        let mut stream = corrupt_header(frame(true, 0xC0, &READ_CLASS1));
        stream.extend_from_slice(&frame(true, 0xC1, &READ_CLASS1));
        let marks = feed(&mut h, 1, true, &stream, false);
        assert!(!marks.contains("dnp3"));
        assert_eq!(h.summary(), None);
        // The next segment starts afresh.
        feed(&mut h, 2, true, &frame(true, 0xC2, &READ_CLASS1), false);
        assert_eq!(section(&h)["link_frames"], 1);
    }

    #[test]
    fn a_later_header_crc_failure_is_counted_but_its_data_unused() {
        let mut h = Dnp3Summary::default();
        let mut stream = frame(true, 0xC0, &READ_CLASS1);
        stream.extend_from_slice(&corrupt_header(frame(true, 0xC1, &READ_CLASS1)));
        feed(&mut h, 1, true, &stream, false);
        let s = section(&h);
        assert_eq!(s["link_frames"], 2);
        assert_eq!(s["app_fragments"], 1);
    }

    #[test]
    fn fragments_are_reassembled_across_captured_frames() {
        let mut h = Dnp3Summary::default();
        feed(&mut h, 1, true, &frame(true, 0x45, &READ_CLASS1[..2]), false); // FIR, seq 5
        assert_eq!(section(&h)["app_fragments"], 0);
        feed(&mut h, 2, false, &frame(false, 0xC0, &RESPONSE_RESTART), false); // other direction
        feed(&mut h, 3, true, &frame(true, 0x86, &READ_CLASS1[2..]), false); // FIN, seq 6
        let s = section(&h);
        assert_eq!(s["app_function_codes"], json!({"1": 1, "129": 1}));
        assert_eq!(s["objects"], json!({"g60v2": 1}));
        assert_eq!(s["frames"], 3);
    }

    #[test]
    fn a_gap_drops_the_partial_fragment() {
        let mut h = Dnp3Summary::default();
        feed(&mut h, 1, true, &frame(true, 0x45, &READ_CLASS1[..2]), false);
        feed(&mut h, 2, true, &frame(true, 0x86, &READ_CLASS1[2..]), true);
        let s = section(&h);
        assert_eq!(s["link_frames"], 2);
        assert_eq!(s["app_fragments"], 0);
        h.on_flow_end(7);
        assert!(h.directions.is_empty());
    }

    #[test]
    fn datagrams_hold_several_frames_and_need_a_good_first_header() {
        let mut h = Dnp3Summary::default();
        let mut marks = FrameMarks::default();
        let mut two = frame(true, 0xC0, &READ_CLASS1);
        two.extend_from_slice(&frame(true, 0xC1, &READ_CLASS1));
        let mut c = cx(&mut marks, 1, true, false);
        c.transport = Transport::Udp;
        h.on_datagram(&mut c, &two);
        let mut bad = corrupt_header(frame(true, 0xC2, &READ_CLASS1));
        bad.extend_from_slice(&frame(true, 0xC3, &READ_CLASS1));
        let mut marks2 = FrameMarks::default();
        let mut c = cx(&mut marks2, 2, true, false);
        c.transport = Transport::Udp;
        h.on_datagram(&mut c, &bad);
        assert!(!marks2.contains("dnp3"));
        let s = section(&h);
        assert_eq!(s["frames"], 1);
        assert_eq!(s["link_frames"], 2);
        assert_eq!(s["app_fragments"], 2);
    }

    #[test]
    fn identification_is_strict() {
        let h = Dnp3Summary::default();
        assert!(h.probe_tcp(&frame(true, 0xC0, &READ_CLASS1)));
        assert!(!h.probe_tcp(&corrupt_header(frame(true, 0xC0, &READ_CLASS1))));
        assert!(!h.probe_udp(b"\x05\x64 not dnp3 at all"));
        assert_eq!(h.tcp_ports(), &[20000]);
        assert!(matches!(h.pdu_len(&[0x05, 0x65, 0x05]), Err(DecodeError::Malformed(_))));
    }
}
