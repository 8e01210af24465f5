//! BACnet (BACnet/IP, BACnet/Ethernet, MS/TP) summary handler: maps the bacnet dissector's output to the truth-file keys.
//!
//! Counting follows the truth files (see `../shared/pcaps/MANIFEST.md`), which
//! read tshark's decoded fields: a frame counts when it has a BVLC message
//! (UDP 47808, or a UDP flow the BACnet/IP probe accepts; BVLC type 0x81 or
//! 0x82; not a Forwarded-NPDU too short for its originator address, which
//! tshark rejects), or an NPDU with at least its version and control octets (BACnet/IP,
//! 802.2 LLC with DSAP 0x82, MS/TP data frames from link type 165 or relayed
//! by a Cimetrics sniffer in SNAP frames). Per frame: the BVLC function
//! (BACnet/IPv4 only: tshark files IPv6 functions under another field); the
//! APDU type and service choice (for confirmed services also in SimpleACK,
//! ComplexACK and Error) of an APDU whose fixed header is complete (tshark
//! types a Segment-ACK of any length); the first
//! error class/code (of an Error PDU, or the first property access error of a
//! ReadPropertyMultiple-ACK, reassembled when segmented); reject and abort
//! reasons; I-Am devices by sender (IP address, else MAC address, else "" for
//! MS/TP), with a null instance or vendor when the I-Am is cut short. An NPDU
//! with no decodable APDU (a network layer message, a missing or truncated
//! APDU, a truncated network header) is an "NPDU only" frame.
//!
//! `protocols.ot_protocol_frames` follows tshark's `frame.protocols`, which
//! also names layers that hold no field: `bacnet` for a BVLC function that
//! carries an NPDU (even an empty one) or any NPDU octet on a data link,
//! `bacapp` for an APDU layer even when it is empty or cut short, `mstp` for
//! every frame of an MS/TP capture.

use std::collections::BTreeMap;

use otwatch_dissect::Direction;
use otwatch_dissect::bacnet::tag::{self, TagClass, TagContent};
use otwatch_dissect::bacnet::{
    self, Anomalies, Apdu, BvlcFunction, ComplexAckBody, ConfirmedService, MstpFrame, Npdu,
    NpduPayload, PduType, Reassembled, Reassembly, UnconfirmedRequestBody, UnconfirmedService,
    Value as BacnetValue,
};
use otwatch_dissect::reader::Reader;
use serde_json::{Value, json};

use super::handler::{LinkContext, LinkPayload, PduContext, ProtocolHandler};

/// Distinct (sender, device instance) I-Am entries kept at most.
const MAX_I_AM_DEVICES: usize = 4096;
/// Distinct error class/code pairs kept at most.
const MAX_ERROR_KINDS: usize = 1024;
/// Segmented transactions being reassembled at once, at most.
const MAX_REASSEMBLIES: usize = 64;
/// The 802.2 SAP of SNAP frames (which carry Cimetrics MS/TP captures).
const LLC_SAP_SNAP: u8 = 0xaa;

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

/// One frame's context for counting: where it runs and who sent it, as the
/// truth files name I-Am senders (IP address, else MAC address, else "").
struct Seen {
    path: Path,
    sender: String,
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
    i_am: BTreeMap<(String, Option<u32>), (Option<u32>, u64)>,
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

/// Vendor ids are 16-bit; tshark reports no vendor for a larger value.
fn vendor_id(v: u64) -> Option<u32> {
    u16::try_from(v).ok().map(u32::from)
}

/// Device instance and vendor id of an I-Am whose parameters do not all decode,
/// as tshark reads them: the first parameter if it is an application-tagged
/// object identifier, the fourth as an unsigned number whatever its application
/// tag, read in order until a tag does not decode.
fn partial_i_am(data: &[u8]) -> (Option<u32>, Option<u32>) {
    let mut r = Reader::new(data);
    let mut instance = None;
    let mut vendor = None;
    for i in 0..4 {
        let Ok(t) = tag::read_tag(&mut r) else { break };
        if t.class != TagClass::Application {
            break;
        }
        match (i, t.content) {
            (0, _) => {
                if let Ok(BacnetValue::ObjectId(id)) = BacnetValue::decode(&t) {
                    instance = Some(id.instance);
                }
            }
            (3, TagContent::Data(d)) => vendor = tag::decode_unsigned(d).and_then(vendor_id),
            _ => {}
        }
    }
    (instance, vendor)
}

impl BacnetSummary {
    fn npdu_only(&mut self) {
        self.npdu_only_frames = self.npdu_only_frames.saturating_add(1);
    }

    /// Counts a frame with a decoded NPDU.
    fn on_npdu(&mut self, mark: &mut dyn FnMut(&'static str), seen: &Seen, npdu: &Npdu<'_>) {
        mark("bacnet");
        match &npdu.payload {
            NpduPayload::Network(_) | NpduPayload::HeaderTruncated => self.npdu_only(),
            // tshark decodes the type of a Segment-ACK however short it is.
            NpduPayload::Apdu(Apdu::Truncated { pdu_type: PduType::SEGMENT_ACK, .. }) => {
                mark("bacapp");
                bump(&mut self.apdu_types, PduType::SEGMENT_ACK.0);
            }
            // tshark names the APDU layer but it holds no field.
            NpduPayload::Missing | NpduPayload::Apdu(Apdu::Truncated { .. }) => {
                mark("bacapp");
                self.npdu_only();
            }
            // An APDU layer with no type field: neither counted nor NPDU-only.
            NpduPayload::Apdu(Apdu::Reserved { .. }) => mark("bacapp"),
            NpduPayload::Apdu(apdu) => {
                mark("bacapp");
                self.on_apdu(seen, apdu);
            }
        }
    }

    /// Counts the NPDU octets of a frame: `npdu` is their decoding, `len` how
    /// many there are (an NPDU of one octet names the layer but holds no field).
    fn on_npdu_octets(
        &mut self,
        mark: &mut dyn FnMut(&'static str),
        seen: &Seen,
        len: usize,
        npdu: Option<&Npdu<'_>>,
    ) {
        match npdu {
            Some(n) => self.on_npdu(mark, seen, n),
            None if len > 0 => mark("bacnet"),
            None => {}
        }
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
            Apdu::UnconfirmedRequest(r) if r.service == UnconfirmedService::I_AM => {
                let (instance, vendor) = match &r.body {
                    UnconfirmedRequestBody::IAm(i) => {
                        (Some(i.device.instance), vendor_id(u64::from(i.vendor_id)))
                    }
                    _ => partial_i_am(r.data),
                };
                let key = (seen.sender.clone(), instance);
                if self.i_am.len() < MAX_I_AM_DEVICES || self.i_am.contains_key(&key) {
                    let e = self.i_am.entry(key).or_insert((vendor, 0));
                    e.1 = e.1.saturating_add(1);
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

    /// An MS/TP frame: from link type 165, or relayed by a Cimetrics sniffer
    /// in a SNAP frame (then `sender` is the sniffer's MAC address).
    fn on_mstp(&mut self, cx: &mut LinkContext<'_>, f: &MstpFrame<'_>, sender: String) {
        let seen = Seen { path: Path::Mstp(f.source, f.destination), sender };
        let mut mark = |tag: &'static str| cx.mark(tag);
        if f.frame_type.carries_npdu() {
            if f.npdu.is_some() {
                self.frames = self.frames.saturating_add(1);
            }
            self.on_npdu_octets(&mut mark, &seen, f.data.len(), f.npdu.as_ref());
        } else if f.frame_type.carries_cobs_npdu() {
            let mut buf = std::mem::take(&mut self.cobs);
            if bacnet::decode_cobs_data(f.data, &mut buf).is_ok() {
                let npdu = bacnet::parse_npdu(&buf).ok();
                if npdu.is_some() {
                    self.frames = self.frames.saturating_add(1);
                }
                self.on_npdu_octets(&mut mark, &seen, buf.len(), npdu.as_ref());
            }
            self.cobs = buf;
        }
    }

    fn on_llc(&mut self, cx: &mut LinkContext<'_>, npdu_octets: &[u8]) {
        let mac = |m: Option<otwatch_wire::MacAddr>| m.map_or([0; 6], |m| m.0);
        let seen = Seen {
            path: Path::Ethernet(mac(cx.src_mac), mac(cx.dst_mac)),
            sender: cx.src_mac.map(|m| m.to_string()).unwrap_or_default(),
        };
        let npdu = bacnet::parse_npdu(npdu_octets).ok();
        if npdu.is_some() {
            self.frames = self.frames.saturating_add(1);
        }
        let mut mark = |tag: &'static str| cx.mark(tag);
        self.on_npdu_octets(&mut mark, &seen, npdu_octets.len(), npdu.as_ref());
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
        let seen = Seen {
            path: Path::Flow(cx.flow_id, cx.direction == Direction::ToServer),
            sender: cx.src.addr.to_string(),
        };
        // NPDU octets: the rest of the datagram after the header and the
        // addresses before the NPDU (the dissector does not trust the length).
        let v4 = bacnet::parse(payload).ok();
        let v6 = if v4.is_none() { bacnet::parse_ipv6(payload).ok() } else { None };
        // Whether the function carries an NPDU (tshark then names the NPDU layer
        // even when no octet of it is there), and the NPDU.
        let (carries_npdu, npdu) = match (&v4, &v6) {
            (Some(msg), _) => {
                // tshark does not take a Forwarded-NPDU too short for its
                // originator address for BVLC at all.
                if let bacnet::BvlcBody::Unknown(_) = msg.body
                    && msg.function == BvlcFunction::FORWARDED_NPDU
                {
                    return;
                }
                bump(&mut self.bvlc_functions, msg.function.0);
                let carries = matches!(
                    msg.function,
                    BvlcFunction::FORWARDED_NPDU
                        | BvlcFunction::DISTRIBUTE_BROADCAST_TO_NETWORK
                        | BvlcFunction::ORIGINAL_UNICAST_NPDU
                        | BvlcFunction::ORIGINAL_BROADCAST_NPDU
                );
                (carries, msg.npdu())
            }
            (None, Some(msg)) => {
                let carries = matches!(
                    msg.body,
                    bacnet::Bvlc6Body::OriginalUnicastNpdu { .. }
                        | bacnet::Bvlc6Body::ForwardedNpdu { .. }
                        | bacnet::Bvlc6Body::OriginalBroadcastNpdu(_)
                        | bacnet::Bvlc6Body::DistributeBroadcastToNetwork(_)
                );
                (carries, msg.npdu())
            }
            (None, None) => return,
        };
        self.frames = self.frames.saturating_add(1);
        cx.mark("bvlc");
        if !carries_npdu {
            return;
        }
        let mut mark = |tag: &'static str| cx.mark(tag);
        match npdu {
            Some(n) => self.on_npdu(&mut mark, &seen, n),
            None => mark("bacnet"),
        }
    }

    fn on_link(&mut self, cx: &mut LinkContext<'_>, payload: LinkPayload<'_>) {
        match payload {
            LinkPayload::MsTp(frame) => {
                // tshark names every frame of an MS/TP capture.
                cx.mark("mstp");
                if let Ok(f) = bacnet::parse_mstp(frame) {
                    self.on_mstp(cx, &f, String::new());
                }
            }
            LinkPayload::Llc { dsap: bacnet::parser::LLC_SAP_BACNET, payload, .. } => {
                self.on_llc(cx, payload)
            }
            LinkPayload::Llc { dsap: LLC_SAP_SNAP, payload, .. } => {
                if let Ok(f) = bacnet::parse_cimetrics(payload) {
                    let sender = cx.src_mac.map(|m| m.to_string()).unwrap_or_default();
                    self.on_mstp(cx, &f, sender);
                }
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
        // Sorted as the truth files sort: by sender text, then instance (none as 0).
        let mut devices: Vec<_> = self.i_am.iter().collect();
        devices.sort_by_key(|((sender, instance), _)| (sender.as_str(), instance.unwrap_or(0)));
        let i_am_devices: Vec<Value> = devices
            .into_iter()
            .map(|((sender, instance), (vendor, count))| {
                json!({
                    "src": sender,
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

#[cfg(test)]
mod tests {
    use std::net::{IpAddr, Ipv4Addr};

    use otwatch_wire::MacAddr;

    use super::*;
    use crate::summary::handler::{Endpoint, FrameMarks, Transport};

    const CLIENT: [u8; 4] = [10, 0, 0, 1];
    const SERVER: [u8; 4] = [10, 0, 0, 2];

    fn endpoint(ip: [u8; 4]) -> Endpoint {
        Endpoint { addr: IpAddr::V4(Ipv4Addr::from(ip)), port: bacnet::BACNET_IP_PORT }
    }

    /// Hands one BACnet/IP datagram from `src` to `dst`; returns the frame's tags.
    fn datagram(
        s: &mut BacnetSummary,
        src: [u8; 4],
        dst: [u8; 4],
        payload: &[u8],
    ) -> Vec<&'static str> {
        let mut marks = FrameMarks::default();
        let mut cx = PduContext {
            frame_number: 1,
            ts_ns: 0,
            transport: Transport::Udp,
            direction: if src == CLIENT { Direction::ToServer } else { Direction::ToClient },
            src: endpoint(src),
            dst: endpoint(dst),
            client: endpoint(CLIENT),
            server: endpoint(SERVER),
            src_mac: None,
            dst_mac: None,
            flow_id: 7,
            after_gap: false,
            marks: &mut marks,
        };
        s.on_datagram(&mut cx, payload);
        marks.tags().collect()
    }

    fn link(s: &mut BacnetSummary, payload: LinkPayload<'_>) -> Vec<&'static str> {
        let mut marks = FrameMarks::default();
        let mut cx = LinkContext {
            frame_number: 1,
            ts_ns: 0,
            src_mac: Some(MacAddr([0x00, 0x60, 0x2d, 0x00, 0x15, 0xd5])),
            dst_mac: Some(MacAddr([0xff; 6])),
            marks: &mut marks,
        };
        s.on_link(&mut cx, payload);
        marks.tags().collect()
    }

    #[test]
    fn i_am_senders_are_named_as_the_truth_files_name_them() {
        let mut s = BacnetSummary::default();
        // BACnet/IP: Original-Broadcast-NPDU, I-Am device,7 vendor 260.
        let tags = datagram(
            &mut s,
            SERVER,
            [10, 0, 0, 255],
            &[
                0x81, 0x0b, 0x00, 0x14, 0x01, 0x00, 0x10, 0x00, 0xc4, 0x02, 0x00, 0x00, 0x07, 0x22,
                0x05, 0xc4, 0x91, 0x03, 0x22, 0x01, 0x04,
            ],
        );
        assert_eq!(tags, ["bvlc", "bacnet", "bacapp"]);
        // BACnet/Ethernet: the NPDU after the LLC header, I-Am device,7 vendor 42.
        let npdu = [
            0x01, 0x00, 0x10, 0x00, 0xc4, 0x02, 0x00, 0x00, 0x07, 0x22, 0x05, 0xc4, 0x91, 0x03,
            0x21, 0x2a,
        ];
        let llc = LinkPayload::Llc { dsap: 0x82, ssap: 0x82, control: 3, payload: &npdu };
        assert_eq!(link(&mut s, llc), ["bacnet", "bacapp"]);
        // MS/TP: a Data Not Expecting Reply frame with the same NPDU (CRCs computed).
        let mut frame = vec![0x55, 0xff, 0x06, 0xff, 0x03, 0x00, 0x10];
        frame.push(bacnet::header_crc(&frame[2..7]));
        frame.extend_from_slice(&npdu);
        frame.extend_from_slice(&bacnet::data_crc(&npdu).to_le_bytes());
        assert_eq!(link(&mut s, LinkPayload::MsTp(&frame)), ["bacnet", "bacapp", "mstp"]);
        let v = s.summary().unwrap();
        assert_eq!(v["frames"], 3);
        assert_eq!(v["bvlc_functions"], json!({"0x0b": 1}));
        assert_eq!(v["unconfirmed_services"], json!({"0": 3}));
        assert_eq!(
            v["i_am_devices"],
            json!([
                {"src": "", "device_instance": 7, "vendor_id": 42, "count": 1},
                {"src": "00:60:2d:00:15:d5", "device_instance": 7, "vendor_id": 42, "count": 1},
                {"src": "10.0.0.2", "device_instance": 7, "vendor_id": 260, "count": 1},
            ])
        );
    }

    #[test]
    fn apdus_without_a_complete_header_are_npdu_only() {
        let mut s = BacnetSummary::default();
        // Confirmed-Request cut after its second octet.
        let tags =
            datagram(&mut s, CLIENT, SERVER, &[0x81, 0x0a, 0x00, 0x08, 0x01, 0x04, 0x00, 0x05]);
        assert_eq!(tags, ["bvlc", "bacnet", "bacapp"]);
        // Network layer message: Who-Is-Router-To-Network.
        let tags = datagram(&mut s, CLIENT, SERVER, &[0x81, 0x0b, 0x00, 0x07, 0x01, 0x80, 0x00]);
        assert_eq!(tags, ["bvlc", "bacnet"]);
        // An NPDU of one octet names the layer but is not counted.
        let tags = datagram(&mut s, CLIENT, SERVER, &[0x81, 0x0a, 0x00, 0x05, 0x01]);
        assert_eq!(tags, ["bvlc", "bacnet"]);
        // Not BACnet: nothing.
        assert!(datagram(&mut s, CLIENT, SERVER, &[0x83, 0x0a, 0x00, 0x04]).is_empty());
        let v = s.summary().unwrap();
        assert_eq!(v["frames"], 3);
        assert_eq!(v["npdu_only_frames"], 2);
        assert_eq!(v["apdu_types"], json!({}));
    }

    #[test]
    fn segmented_ack_errors_count_when_the_last_segment_arrives() {
        let mut s = BacnetSummary::default();
        // ReadPropertyMultiple-ACK for device,123: [2] firmware-revision → [5] error
        // object/unknown-object, split over two segments.
        let first = [0x0c, 0x02, 0x00, 0x00, 0x7b, 0x1e, 0x29, 0x2c];
        let second = [0x5e, 0x91, 0x01, 0x91, 0x1f, 0x5f, 0x1f];
        let segment = |flags: u8, seq: u8, data: &[u8]| {
            let mut p =
                vec![0x81, 0x0a, 0x00, 0x00, 0x01, 0x00, 0x30 | flags, 0x05, seq, 0x04, 0x0e];
            p.extend_from_slice(data);
            let len = u16::try_from(p.len()).unwrap().to_be_bytes();
            p[2..4].copy_from_slice(&len);
            p
        };
        datagram(&mut s, SERVER, CLIENT, &segment(0x0c, 0, &first));
        assert_eq!(s.summary().unwrap()["errors"], json!({}));
        datagram(&mut s, SERVER, CLIENT, &segment(0x08, 1, &second));
        let v = s.summary().unwrap();
        assert_eq!(v["errors"], json!({"class=1 code=31": 1}));
        assert_eq!(v["confirmed_services"], json!({"14": 2}));
        assert!(s.reassembly.is_empty());
    }

    #[test]
    fn partial_i_am_reads_what_tshark_reads() {
        type Case = (&'static [u8], (Option<u32>, Option<u32>));
        let cases: [Case; 5] = [
            // device,9 … vendor 70000: too large for a vendor id.
            (
                &[
                    0xc4, 0x02, 0x00, 0x00, 0x09, 0x22, 0x05, 0xc4, 0x91, 0x03, 0x23, 0x01, 0x11,
                    0x70,
                ],
                (Some(9), None),
            ),
            // vendor id sent as Enumerated 7.
            (
                &[0xc4, 0x02, 0x00, 0x00, 0x0d, 0x22, 0x05, 0xc4, 0x91, 0x03, 0x91, 0x07],
                (Some(13), Some(7)),
            ),
            // object identifier cut short.
            (&[0xc4, 0x02, 0x00, 0x00], (None, None)),
            // context-tagged object identifier.
            (
                &[0x0c, 0x02, 0x00, 0x00, 0x0e, 0x22, 0x05, 0xc4, 0x91, 0x03, 0x21, 0x07],
                (None, None),
            ),
            // vendor id missing.
            (&[0xc4, 0x02, 0x00, 0x00, 0x04, 0x22, 0x05, 0xc4, 0x91], (Some(4), None)),
        ];
        for (data, want) in cases {
            assert_eq!(partial_i_am(data), want, "{data:02x?}");
        }
    }

    #[test]
    fn cimetrics_frames_count_without_an_mstp_tag() {
        let mut s = BacnetSummary::default();
        let mut payload = vec![0x00, 0x10, 0x90, 0x00, 0x01, 0x00, 0x05, 0x01];
        let header = [0x06, 0xff, 0x03, 0x00, 0x04];
        payload.extend_from_slice(&header);
        payload.push(bacnet::header_crc(&header));
        payload.extend_from_slice(&[0x01, 0x00, 0x10, 0x08, 0xbc, 0xf9]);
        let snap = LinkPayload::Llc { dsap: 0xaa, ssap: 0xaa, control: 3, payload: &payload };
        assert_eq!(link(&mut s, snap), ["bacnet", "bacapp"]);
        assert_eq!(s.summary().unwrap()["unconfirmed_services"], json!({"8": 1}));
    }
}
