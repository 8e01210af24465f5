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
