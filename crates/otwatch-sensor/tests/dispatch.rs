//! Dispatch and TCP reassembly on real captures, with a test-only Modbus/TCP framer.
//!
//! The framer below is written from the Modbus Messaging on TCP/IP
//! Implementation Guide (MBAP header: transaction id 2 bytes, protocol id 2
//! bytes = 0, length 2 bytes counting the unit id and the PDU, unit id 1
//! byte; an ADU is at most 260 bytes). It only frames, so it checks the
//! pipeline's reassembly (several PDUs per segment, PDUs over several
//! segments, retransmissions) against tshark's counts of Modbus/TCP frames
//! and PDUs, and the identification by content on a non-standard port.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use otwatch_dissect::DecodeError;
use otwatch_sensor::summary::handler::{PduContext, ProtocolHandler};
use otwatch_sensor::summary::{SummaryOptions, summarize_with};
use serde_json::{Value, json};

const MBAP_LEN: usize = 7;
const MAX_MBAP_LENGTH: usize = 254;

#[derive(Default)]
struct Counts {
    pdus: u64,
    frames: u64,
    last_frame: u64,
    by_direction: BTreeMap<&'static str, u64>,
    ports: BTreeMap<u16, u64>,
}

/// The test framer; shares its counts with the test through an `Arc`.
struct MbapFramer {
    counts: Arc<Mutex<Counts>>,
}

fn mbap_len(buf: &[u8]) -> Result<usize, DecodeError> {
    let Some(h) = buf.get(..MBAP_LEN) else {
        return Err(DecodeError::incomplete(MBAP_LEN - buf.len()));
    };
    let protocol = u16::from_be_bytes([h[2], h[3]]);
    let length = usize::from(u16::from_be_bytes([h[4], h[5]]));
    if protocol != 0 || !(2..=MAX_MBAP_LENGTH).contains(&length) {
        return Err(DecodeError::Malformed("not an MBAP header"));
    }
    Ok(6 + length)
}

impl ProtocolHandler for MbapFramer {
    fn name(&self) -> &'static str {
        "mbap_test"
    }
    fn active(&self) -> bool {
        true
    }
    fn frame_tags(&self) -> &'static [&'static str] {
        &["mbtcp"]
    }
    fn tcp_ports(&self) -> &'static [u16] {
        &[502]
    }
    fn probe_tcp(&self, payload: &[u8]) -> bool {
        // A whole number of MBAP ADUs, and at least one.
        let mut rest = payload;
        while !rest.is_empty() {
            match mbap_len(rest) {
                Ok(n) if n <= rest.len() => rest = &rest[n..],
                _ => return false,
            }
        }
        !payload.is_empty()
    }
    fn pdu_len(&self, buf: &[u8]) -> Result<usize, DecodeError> {
        mbap_len(buf)
    }
    fn on_pdu(&mut self, cx: &mut PduContext<'_>, pdu: &[u8]) {
        assert_eq!(mbap_len(pdu), Ok(pdu.len()));
        cx.mark("mbtcp");
        let mut c = self.counts.lock().unwrap();
        c.pdus += 1;
        if c.last_frame != cx.frame_number {
            c.frames += 1;
            c.last_frame = cx.frame_number;
        }
        let d = if cx.direction == otwatch_dissect::Direction::ToServer {
            "to_server"
        } else {
            "to_client"
        };
        *c.by_direction.entry(d).or_default() += 1;
        *c.ports.entry(cx.server.port).or_default() += 1;
    }
    fn summary(&self) -> Option<Value> {
        let c = self.counts.lock().unwrap();
        Some(json!({ "pdus": c.pdus, "frames": c.frames }))
    }
}

fn pcaps_dir() -> PathBuf {
    let dir = match std::env::var_os("OTWATCH_PCAPS") {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/pcaps"),
    };
    assert!(dir.is_dir(), "capture corpus not found at {} (set OTWATCH_PCAPS)", dir.display());
    dir
}

fn run(path: &Path) -> (Value, Arc<Mutex<Counts>>) {
    let counts = Arc::new(Mutex::new(Counts::default()));
    let h: Box<dyn ProtocolHandler> = Box::new(MbapFramer { counts: Arc::clone(&counts) });
    let v = summarize_with(&[path.to_path_buf()], &SummaryOptions::default(), vec![h]).unwrap();
    (v, counts)
}

fn truth(path: &Path) -> Value {
    let mut s = path.as_os_str().to_owned();
    s.push(".truth.json");
    serde_json::from_str(&std::fs::read_to_string(PathBuf::from(s)).unwrap()).unwrap()
}

#[test]
fn modbus_frames_and_pdus_match_tshark_after_reassembly() {
    let dir = pcaps_dir();
    // Captures where every Modbus payload is well-formed MBAP (the fuzzing
    // trace and the QuickDraw file hold payloads tshark itself rejects).
    for name in [
        "modbus/Plant1_ModbusTCP.pcap",
        "modbus/WriteMultipleCoil.pcap",
        "modbus/modbus-encapsulated-transport.pcap",
        "modbus/modbusSmall.pcap",
        "modbus/modbus_example.pcap",
        "modbus/modbus_test.pcap",
        "modbus/modbus_test_2.pcap",
        "mixed/mb2.pcap",
    ] {
        let p = dir.join(name);
        let t = truth(&p);
        let (v, counts) = run(&p);
        let c = counts.lock().unwrap();
        assert_eq!(
            c.pdus,
            t["modbus"]["pdus"].as_u64().unwrap(),
            "{name}: PDUs by server port {:?}",
            c.ports
        );
        assert_eq!(c.frames, t["modbus"]["frames"].as_u64().unwrap(), "{name}: frames");
        assert_eq!(
            v["protocols"]["ot_protocol_frames"]["mbtcp"],
            t["protocols"]["ot_protocol_frames"]["mbtcp"],
            "{name}"
        );
        let req = c.by_direction.get("to_server").copied().unwrap_or(0);
        assert_eq!(req, t["modbus"]["requests"].as_u64().unwrap(), "{name}: requests");
    }
}

/// Rewrites TCP port 502 to 5020 in every Ethernet/IPv4/TCP record of a classic little-endian pcap.
fn move_to_port_5020(bytes: &mut [u8]) -> usize {
    let mut moved = 0;
    let mut off = 24;
    while off + 16 <= bytes.len() {
        let incl = u32::from_le_bytes(bytes[off + 8..off + 12].try_into().unwrap()) as usize;
        let pkt = off + 16;
        let end = pkt + incl;
        if end > bytes.len() {
            break;
        }
        let f = &mut bytes[pkt..end];
        // EtherType IPv4, protocol TCP.
        if f.len() > 34 && f[12..14] == [0x08, 0x00] && f[23] == 6 {
            let t = 14 + usize::from(f[14] & 0x0f) * 4;
            for p in [t, t + 2] {
                if f.len() >= p + 2 && f[p..p + 2] == [0x01, 0xf6] {
                    f[p..p + 2].copy_from_slice(&5020u16.to_be_bytes());
                    moved += 1;
                }
            }
        }
        off = end;
    }
    moved
}

#[test]
fn modbus_on_a_non_standard_port_is_found_by_content() {
    let src = pcaps_dir().join("modbus/modbus_test_2.pcap");
    let t = truth(&src);
    let mut bytes = std::fs::read(&src).unwrap();
    assert!(move_to_port_5020(&mut bytes) > 0);
    let dst = std::env::temp_dir().join(format!("otwatch-5020-{}.pcap", std::process::id()));
    std::fs::write(&dst, &bytes).unwrap();
    let (_, counts) = run(&dst);
    let c = counts.lock().unwrap();
    assert_eq!(c.pdus, t["modbus"]["pdus"].as_u64().unwrap());
    // Found by content, and oriented by the handshake: the server is on 5020.
    assert_eq!(c.ports.keys().copied().collect::<Vec<_>>(), vec![5020]);
    assert_eq!(
        c.by_direction.get("to_server").copied().unwrap_or(0),
        t["modbus"]["requests"].as_u64().unwrap()
    );
    std::fs::remove_file(&dst).unwrap();
}
