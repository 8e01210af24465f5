//! IEC 60870-5-104 summary handler: maps the iec104 dissector's output to the truth-file keys.
//!
//! Counting follows the truth files (tshark 4.0's view): every APDU counts,
//! including short ones without a control field (apci type `None`), and
//! junk before a start octet within buffered bytes is skipped the way tshark
//! skips it. This file only maps; all parsing is in `otwatch_dissect::iec104`.

use std::collections::{BTreeMap, BTreeSet};

use otwatch_dissect::DecodeError;
use otwatch_dissect::iec104::{self, Apci};
use serde_json::{Map, Value};

use super::handler::{PduContext, ProtocolHandler};

/// Most distinct keys kept per counter map.
const MAX_KEYS: usize = 4096;
/// Most distinct server or client addresses kept.
const MAX_ADDRESSES: usize = 65_536;
/// The start octet the framing looks for after junk.
const START: u8 = 0x68;

/// Counts IEC 60870-5-104 traffic for the `iec104` section of the summary.
#[derive(Debug, Default)]
pub struct Iec104Summary {
    frames: u64,
    last_frame: Option<u64>,
    apdus: u64,
    apci_types: BTreeMap<&'static str, u64>,
    u_functions: BTreeMap<u8, u64>,
    type_ids: BTreeMap<u8, u64>,
    asdus: u64,
    causes: BTreeMap<u8, u64>,
    common_addresses: BTreeMap<u16, u64>,
    information_objects: u64,
    negative_confirmations: u64,
    servers: BTreeSet<String>,
    clients: BTreeSet<String>,
    anomalies: BTreeMap<&'static str, u64>,
}

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

fn counts<K: ToString>(m: &BTreeMap<K, u64>, key: impl Fn(&K) -> String) -> Value {
    let out: Map<String, Value> = m.iter().map(|(k, v)| (key(k), Value::from(*v))).collect();
    Value::Object(out)
}

impl Iec104Summary {
    /// Servers and clients as the truth decides them: by the IEC-104 port.
    fn note_endpoints(&mut self, cx: &PduContext<'_>) {
        let port = if cx.src.port == iec104::PORT || cx.dst.port == iec104::PORT {
            iec104::PORT
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
}

impl ProtocolHandler for Iec104Summary {
    fn name(&self) -> &'static str {
        "iec104"
    }

    fn active(&self) -> bool {
        true
    }

    fn frame_tags(&self) -> &'static [&'static str] {
        &["iec60870_104", "iec60870_asdu"]
    }

    fn tcp_ports(&self) -> &'static [u16] {
        &[iec104::PORT]
    }

    fn probe_tcp(&self, payload: &[u8]) -> bool {
        iec104::probe(payload)
    }

    /// The dissector's framing, except that bytes before a start octet are
    /// taken as part of the PDU (and skipped in `on_pdu`), as tshark does.
    fn pdu_len(&self, buf: &[u8]) -> Result<usize, DecodeError> {
        match iec104::pdu_len(buf) {
            Err(DecodeError::Malformed(why)) => {
                let Some(skip) = buf.iter().position(|b| *b == START) else {
                    return Err(DecodeError::Malformed(why));
                };
                let rest = buf.get(skip..).unwrap_or(&[]);
                iec104::pdu_len(rest).map(|n| n.saturating_add(skip))
            }
            other => other,
        }
    }

    fn on_pdu(&mut self, cx: &mut PduContext<'_>, pdu: &[u8]) {
        let start = pdu.iter().position(|b| *b == START).unwrap_or(0);
        let Ok((_, apdu)) = iec104::parse(pdu.get(start..).unwrap_or(&[]), cx.direction) else {
            return;
        };
        cx.mark("iec60870_104");
        if self.last_frame != Some(cx.frame_number) {
            self.last_frame = Some(cx.frame_number);
            self.frames += 1;
            self.note_endpoints(cx);
        }
        self.apdus += 1;
        let format = match apdu.apci {
            Apci::I { .. } => "I",
            Apci::S { .. } => "S",
            Apci::U { .. } => "U",
            Apci::Short => "None",
        };
        bump(&mut self.apci_types, format);
        if let Apci::U { function } = apdu.apci {
            bump(&mut self.u_functions, function.0);
        }
        for name in apdu.anomalies.names() {
            bump(&mut self.anomalies, name);
        }
        if let Some(asdu) = &apdu.asdu {
            cx.mark("iec60870_asdu");
            self.asdus += 1;
            bump(&mut self.type_ids, asdu.type_id.0);
            bump(&mut self.causes, asdu.cot.cause.0);
            bump(&mut self.common_addresses, asdu.common_address);
            self.information_objects += asdu.objects.len() as u64;
            if asdu.cot.negative {
                self.negative_confirmations += 1;
            }
        }
    }

    fn summary(&self) -> Option<Value> {
        if self.frames == 0 {
            return None;
        }
        let list = |s: &BTreeSet<String>| Value::from(s.iter().cloned().collect::<Vec<_>>());
        let mut out = Map::new();
        out.insert("frames".into(), self.frames.into());
        out.insert("apdus".into(), self.apdus.into());
        out.insert("apci_types".into(), counts(&self.apci_types, |k| (*k).to_string()));
        out.insert("u_functions".into(), counts(&self.u_functions, |k| format!("0x{k:02x}")));
        out.insert("asdu_type_ids".into(), counts(&self.type_ids, |k| k.to_string()));
        out.insert("asdus".into(), self.asdus.into());
        out.insert("causes_of_transmission".into(), counts(&self.causes, |k| k.to_string()));
        out.insert("common_addresses".into(), counts(&self.common_addresses, |k| k.to_string()));
        out.insert("information_objects".into(), self.information_objects.into());
        out.insert("negative_confirmations".into(), self.negative_confirmations.into());
        out.insert("servers".into(), list(&self.servers));
        out.insert("clients".into(), list(&self.clients));
        let mut names = Map::new();
        let type_names: Map<String, Value> = self
            .type_ids
            .keys()
            .filter_map(|k| iec104::TypeId(*k).name().map(|n| (k.to_string(), Value::from(n))))
            .collect();
        let u_names: Map<String, Value> = self
            .u_functions
            .keys()
            .filter_map(|k| {
                iec104::UFunction(*k).name().map(|n| (format!("0x{k:02x}"), Value::from(n)))
            })
            .collect();
        names.insert("asdu_type_ids".into(), type_names.into());
        names.insert("u_functions".into(), u_names.into());
        out.insert("names".into(), names.into());
        if !self.anomalies.is_empty() {
            let a: Map<String, Value> =
                self.anomalies.iter().map(|(k, v)| ((*k).to_string(), Value::from(*v))).collect();
            out.insert("anomalies".into(), a.into());
        }
        Some(Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use std::net::{IpAddr, Ipv4Addr};

    use otwatch_dissect::Direction;

    use super::*;
    use crate::summary::handler::{Endpoint, FrameMarks, Transport};

    fn feed(h: &mut Iec104Summary, frame: u64, from_client: bool, pdu: &[u8]) -> FrameMarks {
        let client = Endpoint { addr: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)), port: 1500 };
        let server = Endpoint { addr: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)), port: 2404 };
        let (src, dst) = if from_client { (client, server) } else { (server, client) };
        let mut marks = FrameMarks::default();
        let mut cx = PduContext {
            frame_number: frame,
            ts_ns: 0,
            transport: Transport::Tcp,
            direction: if from_client { Direction::ToServer } else { Direction::ToClient },
            src,
            dst,
            client,
            server,
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
    fn framing_skips_junk_before_a_start_octet() {
        let h = Iec104Summary::default();
        // Two junk bytes, then a TESTFR act APDU (start, length 4, control 0x43 0 0 0).
        let buf = [0x02, 0x02, 0x68, 0x04, 0x43, 0x00, 0x00, 0x00];
        assert_eq!(h.pdu_len(&buf), Ok(8));
        assert_eq!(h.pdu_len(&[0x00]), Err(DecodeError::Malformed("no start octet 0x68")));
        assert_eq!(h.pdu_len(&[0x68]), Err(DecodeError::incomplete(1)));
    }

    #[test]
    fn counts_apdus_asdus_and_endpoints() {
        let mut h = Iec104Summary::default();
        // C_IC_NA_1 act from the client: start, length 14, I format N(S)=0 N(R)=0,
        // type 100, one object, cause 6, originator 0, CA 1, IOA 0, QOI 20.
        let interrogation = [
            0x68, 0x0e, 0x00, 0x00, 0x00, 0x00, 0x64, 0x01, 0x06, 0x00, 0x01, 0x00, 0x00, 0x00,
            0x00, 0x14,
        ];
        let marks = feed(&mut h, 1, true, &interrogation);
        assert!(marks.contains("iec60870_104") && marks.contains("iec60870_asdu"));
        // An S frame and a short APDU (length 1) from the server in one frame.
        feed(&mut h, 2, false, &[0x68, 0x04, 0x01, 0x00, 0x02, 0x00]);
        let marks = feed(&mut h, 2, false, &[0x68, 0x01, 0x00]);
        assert!(!marks.contains("iec60870_asdu"));
        let s = h.summary().unwrap();
        assert_eq!(s["frames"], 2);
        assert_eq!(s["apdus"], 3);
        assert_eq!(s["apci_types"], serde_json::json!({"I": 1, "S": 1, "None": 1}));
        assert_eq!(s["asdu_type_ids"], serde_json::json!({"100": 1}));
        assert_eq!(s["causes_of_transmission"], serde_json::json!({"6": 1}));
        assert_eq!(s["common_addresses"], serde_json::json!({"1": 1}));
        assert_eq!(s["servers"], serde_json::json!(["10.0.0.2"]));
        assert_eq!(s["clients"], serde_json::json!(["10.0.0.1"]));
    }
}
