//! BACnet (BACnet/IP, BACnet/Ethernet, MS/TP) summary handler: maps the bacnet dissector's output to the truth-file keys.
//!
//! Counting follows the truth files (see `../shared/pcaps/MANIFEST.md`): a
//! frame counts when it carries a BVLC message (UDP 47808, or a UDP flow the
//! BACnet/IP probe accepts), an 802.2 LLC PDU with DSAP 0x82, or an MS/TP data
//! frame. Per frame: the BVLC function; the APDU type and service choice (for
//! confirmed services also in SimpleACK, ComplexACK and Error, as tshark
//! reports them); the first error class/code (of an Error PDU, or the first
//! property access error of a ReadPropertyMultiple-ACK, reassembled when
//! segmented); reject and abort reasons; and I-Am devices by sender (IP
//! address, else MAC address, else none for MS/TP).

use std::collections::BTreeMap;

use otwatch_dissect::Direction;
use otwatch_dissect::bacnet::{
    self, Anomalies, Apdu, BvlcFunction, ComplexAckBody, ConfirmedService, Npdu, NpduPayload,
    PduType, Reassembled, Reassembly, UnconfirmedRequestBody, UnconfirmedService,
};
use serde_json::{Value, json};

use super::handler::{LinkContext, LinkPayload, PduContext, ProtocolHandler};

/// Distinct (sender, device instance) I-Am entries kept at most.
const MAX_I_AM_DEVICES: usize = 4096;
/// Distinct error class/code pairs kept at most.
const MAX_ERROR_KINDS: usize = 1024;
/// Segmented transactions being reassembled at once, at most.
const MAX_REASSEMBLIES: usize = 256;

/// Where a segmented transaction runs: keys its reassembly.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Path {
    /// A UDP flow and the direction of the segments.
    Flow(u64, bool),
    /// BACnet/Ethernet: source and destination MAC addresses.
    Ethernet([u8; 6], [u8; 6]),
    /// MS/TP: source and destination stations.
    Mstp(u8, u8),
}

/// Who sent a frame, as the truth files name I-Am senders.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Sender {
    /// No address (MS/TP).
    None,
    /// IP or MAC address, as text.
    Addr(String),
}

impl Sender {
    /// The sort key the truth files use: Python's `str(src)`.
    fn sort_text(&self) -> &str {
        match self {
            Sender::None => "None",
            Sender::Addr(a) => a,
        }
    }

    fn json(&self) -> Value {
        match self {
            Sender::None => Value::Null,
            Sender::Addr(a) => json!(a),
        }
    }
}

/// One frame's context for counting.
struct Seen {
    path: Path,
    sender: Sender,
}

/// Counts BACnet traffic for the `bacnet` section of the summary.
#[derive(Debug, Default)]
pub struct BacnetSummary {
    frames: u64,
    npdu_only_frames: u64,
    bvlc_functions: BTreeMap<u8, u64>,
    apdu_types: BTreeMap<u8, u64>,
    confirmed_services: BTreeMap<u8, u64>,
    unconfirmed_services: BTreeMap<u8, u64>,
    errors: BTreeMap<(u32, u32), u64>,
    reject_reasons: BTreeMap<u8, u64>,
    abort_reasons: BTreeMap<u8, u64>,
    /// (sender, device instance) → (vendor id of the first I-Am, count).
    i_am: BTreeMap<(Sender, u32), (u32, u64)>,
    reassembly: BTreeMap<(Path, u8), Reassembly>,
    /// Scratch buffer for COBS-decoded MS/TP data.
    cobs: Vec<u8>,
}

fn bump<K: Ord>(map: &mut BTreeMap<K, u64>, key: K) {
    let n = map.entry(key).or_insert(0);
    *n = n.saturating_add(1);
}

fn counts<K>(map: &BTreeMap<K, u64>, key: impl Fn(&K) -> String) -> Value {
    Value::Object(map.iter().map(|(k, v)| (key(k), json!(v))).collect())
}

fn names<K: Copy>(map: &BTreeMap<K, u64>, key: impl Fn(K) -> (String, &'static str)) -> Value {
    Value::Object(
        map.keys()
            .map(|k| {
                let (k, name) = key(*k);
                (k, json!(name))
            })
            .collect(),
    )
}

impl BacnetSummary {
    /// Counts one NPDU (marks `bacapp` when it carries an APDU).
    fn on_npdu(&mut self, marks: &mut dyn FnMut(&'static str), seen: &Seen, npdu: &Npdu<'_>) {
        let apdu = match &npdu.payload {
            NpduPayload::Apdu(a) => a,
            NpduPayload::Missing => {
                // tshark names the empty APDU layer but finds no field in it.
                marks("bacapp");
                self.npdu_only_frames = self.npdu_only_frames.saturating_add(1);
                return;
            }
            NpduPayload::Network(_) => {
                self.npdu_only_frames = self.npdu_only_frames.saturating_add(1);
                return;
            }
        };
        marks("bacapp");
        self.on_apdu(seen, apdu);
    }

    fn on_apdu(&mut self, seen: &Seen, apdu: &Apdu<'_>) {
        bump(&mut self.apdu_types, apdu.pdu_type().0);
        if let Some(s) = apdu.confirmed_service() {
            bump(&mut self.confirmed_services, s.0);
        }
        if let Some(s) = apdu.unconfirmed_service() {
            bump(&mut self.unconfirmed_services, s.0);
        }
        let error = match apdu {
            Apdu::ComplexAck(ack) if ack.segment.is_some() => self.reassemble(seen, ack),
            _ => apdu.first_error(),
        };
        if let Some(e) = error {
            let key = (e.class.0, e.code.0);
            if self.errors.len() < MAX_ERROR_KINDS || self.errors.contains_key(&key) {
                bump(&mut self.errors, key);
            }
        }
        match apdu {
            Apdu::Reject { reason, .. } => bump(&mut self.reject_reasons, reason.0),
            Apdu::Abort { reason, .. } => bump(&mut self.abort_reasons, reason.0),
            Apdu::UnconfirmedRequest(r) => {
                if let UnconfirmedRequestBody::IAm(i) = &r.body {
                    let key = (seen.sender.clone(), i.device.instance);
                    if self.i_am.len() < MAX_I_AM_DEVICES || self.i_am.contains_key(&key) {
                        let e = self.i_am.entry(key).or_insert((i.vendor_id, 0));
                        e.1 = e.1.saturating_add(1);
                    }
                }
            }
            _ => {}
        }
    }

    /// Feeds one segment of a ComplexACK to its reassembly; on the last segment,
    /// the first error of the whole ACK (tshark decodes the reassembled message
    /// in the frame of its last segment).
    fn reassemble(
        &mut self,
        seen: &Seen,
        ack: &bacnet::ComplexAck<'_>,
    ) -> Option<bacnet::BacnetError> {
        let seg = ack.segment?;
        let key = (seen.path, ack.invoke_id);
        if !self.reassembly.contains_key(&key) {
            if seg.sequence_number != 0 || self.reassembly.len() >= MAX_REASSEMBLIES {
                return None;
            }
            self.reassembly.insert(key, Reassembly::new());
        }
        let r = self.reassembly.get_mut(&key)?;
        let out = r.push(ack.service, seg.sequence_number, ack.more_follows, ack.data);
        if !r.is_pending() {
            self.reassembly.remove(&key);
        }
        let Reassembled::Complete(data) = out else { return None };
        let mut an = Anomalies::NONE;
        match bacnet::decode_complex_ack(ack.service, &data, &mut an) {
            ComplexAckBody::ReadPropertyMultiple(rpm) => {
                rpm.results.iter().find_map(|r| r.value.err())
            }
            _ => None,
        }
    }

    fn on_mstp(&mut self, cx: &mut LinkContext<'_>, frame: &[u8]) {
        cx.mark("mstp");
        let Ok(f) = bacnet::parse_mstp(frame) else { return };
        let seen = Seen { path: Path::Mstp(f.source, f.destination), sender: Sender::None };
        let mut mark = |tag: &'static str| cx.mark(tag);
        if f.frame_type.carries_npdu() && !f.data.is_empty() {
            self.frames = self.frames.saturating_add(1);
            mark("bacnet");
            match &f.npdu {
                Some(npdu) => self.on_npdu(&mut mark, &seen, npdu),
                None => self.npdu_only_frames = self.npdu_only_frames.saturating_add(1),
            }
        } else if f.frame_type.carries_cobs_npdu() {
            let mut buf = std::mem::take(&mut self.cobs);
            if bacnet::decode_cobs_data(f.data, &mut buf).is_ok() && !buf.is_empty() {
                self.frames = self.frames.saturating_add(1);
                mark("bacnet");
                match bacnet::parse_npdu(&buf) {
                    Ok(npdu) => self.on_npdu(&mut mark, &seen, &npdu),
                    Err(_) => self.npdu_only_frames = self.npdu_only_frames.saturating_add(1),
                }
            }
            self.cobs = buf;
        }
    }

    fn on_llc(&mut self, cx: &mut LinkContext<'_>, npdu_bytes: &[u8]) {
        let mac = |m: Option<otwatch_wire::MacAddr>| m.map_or([0; 6], |m| m.0);
        let seen = Seen {
            path: Path::Ethernet(mac(cx.src_mac), mac(cx.dst_mac)),
            sender: cx.src_mac.map_or(Sender::None, |m| Sender::Addr(m.to_string())),
        };
        self.frames = self.frames.saturating_add(1);
        cx.mark("bacnet");
        let mut mark = |tag: &'static str| cx.mark(tag);
        match bacnet::parse_npdu(npdu_bytes) {
            Ok(npdu) => self.on_npdu(&mut mark, &seen, &npdu),
            Err(_) => self.npdu_only_frames = self.npdu_only_frames.saturating_add(1),
        }
    }
}

impl ProtocolHandler for BacnetSummary {
    fn name(&self) -> &'static str {
        "bacnet"
    }

    fn active(&self) -> bool {
        true
    }

    fn frame_tags(&self) -> &'static [&'static str] {
        &["bvlc", "bacnet", "bacapp", "mstp"]
    }

    fn udp_ports(&self) -> &'static [u16] {
        &[bacnet::BACNET_IP_PORT]
    }

    fn probe_udp(&self, payload: &[u8]) -> bool {
        bacnet::probe(payload)
    }

    fn on_datagram(&mut self, cx: &mut PduContext<'_>, payload: &[u8]) {
        let Ok(msg) = bacnet::parse(payload) else { return };
        self.frames = self.frames.saturating_add(1);
        bump(&mut self.bvlc_functions, msg.function.0);
        cx.mark("bvlc");
        let carries_npdu = matches!(
            msg.function,
            BvlcFunction::FORWARDED_NPDU
                | BvlcFunction::DISTRIBUTE_BROADCAST_TO_NETWORK
                | BvlcFunction::ORIGINAL_UNICAST_NPDU
                | BvlcFunction::ORIGINAL_BROADCAST_NPDU
        );
        if !carries_npdu {
            return;
        }
        let seen = Seen {
            path: Path::Flow(cx.flow_id, cx.direction == Direction::ToServer),
            sender: Sender::Addr(cx.src.addr.to_string()),
        };
        let mut mark = |tag: &'static str| cx.mark(tag);
        match msg.npdu() {
            Some(npdu) => {
                mark("bacnet");
                self.on_npdu(&mut mark, &seen, npdu);
            }
            None if msg.anomalies.contains(Anomalies::NPDU_MALFORMED) => {
                mark("bacnet");
                self.npdu_only_frames = self.npdu_only_frames.saturating_add(1);
            }
            None => {}
        }
    }

    fn on_link(&mut self, cx: &mut LinkContext<'_>, payload: LinkPayload<'_>) {
        match payload {
            LinkPayload::MsTp(frame) => self.on_mstp(cx, frame),
            LinkPayload::Llc { dsap: bacnet::parser::LLC_SAP_BACNET, payload, .. } => {
                self.on_llc(cx, payload)
            }
            _ => {}
        }
    }

    fn on_flow_end(&mut self, flow_id: u64) {
        self.reassembly.retain(|(path, _), _| !matches!(path, Path::Flow(id, _) if *id == flow_id));
    }

    fn summary(&self) -> Option<Value> {
        if self.frames == 0 {
            return None;
        }
        let dec = |k: &u8| k.to_string();
        let mut devices: Vec<_> = self.i_am.iter().collect();
        devices.sort_by(|((a, ai), _), ((b, bi), _)| {
            a.sort_text().cmp(b.sort_text()).then(ai.cmp(bi))
        });
        let i_am_devices: Vec<Value> = devices
            .into_iter()
            .map(|((sender, instance), (vendor, count))| {
                json!({
                    "src": sender.json(),
                    "device_instance": instance,
                    "vendor_id": vendor,
                    "count": count,
                })
            })
            .collect();
        Some(json!({
            "frames": self.frames,
            "bvlc_functions": counts(&self.bvlc_functions, |k| format!("0x{k:02x}")),
            "npdu_only_frames": self.npdu_only_frames,
            "apdu_types": counts(&self.apdu_types, dec),
            "confirmed_services": counts(&self.confirmed_services, dec),
            "unconfirmed_services": counts(&self.unconfirmed_services, dec),
            "errors": counts(&self.errors, |(c, e)| format!("class={c} code={e}")),
            "reject_reasons": counts(&self.reject_reasons, dec),
            "abort_reasons": counts(&self.abort_reasons, dec),
            "i_am_devices": i_am_devices,
            "names": {
                "apdu_types": names(&self.apdu_types, |k| (k.to_string(), PduType(k).name())),
                "confirmed_services": names(&self.confirmed_services, |k| {
                    (k.to_string(), ConfirmedService(k).name())
                }),
                "unconfirmed_services": names(&self.unconfirmed_services, |k| {
                    (k.to_string(), UnconfirmedService(k).name())
                }),
                "bvlc_functions": names(&self.bvlc_functions, |k| {
                    (format!("0x{k:02x}"), BvlcFunction(k).name())
                }),
            },
        }))
    }
}
