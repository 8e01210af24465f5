//! Dispatch and TCP reassembly on real captures, with a test-only Modbus/TCP framer.
//!
//! The framer below is written from the Modbus Messaging on TCP/IP
//! Implementation Guide (MBAP header: transaction id 2 bytes, protocol id 2
//! bytes = 0, length 2 bytes counting the unit id and the PDU, unit id 1
//! byte; an ADU is at most 260 bytes). It only frames, so it checks the
//! pipeline's reassembly (several PDUs per segment, PDUs over several
//! segments, retransmissions) against tshark's counts of Modbus/TCP frames
//! and PDUs, and the identification by content on a non-standard port.
//! The real protocol handlers are also moved to non-standard ports (every
//! OT protocol, by content) and must count exactly as on their own port.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use otwatch_dissect::DecodeError;
use otwatch_sensor::summary::handler::{PduContext, ProtocolHandler};
use otwatch_sensor::summary::{SummaryOptions, summarize, summarize_with};
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

/// Records what the pipeline tells a handler about one TCP flow.
#[derive(Default)]
struct Recorder {
    events: Arc<Mutex<Vec<String>>>,
}

impl ProtocolHandler for Recorder {
    fn name(&self) -> &'static str {
        "recorder"
    }
    fn active(&self) -> bool {
        true
    }
    fn tcp_ports(&self) -> &'static [u16] {
        &[502]
    }
    fn pdu_len(&self, buf: &[u8]) -> Result<usize, DecodeError> {
        mbap_len(buf)
    }
    fn on_pdu(&mut self, cx: &mut PduContext<'_>, pdu: &[u8]) {
        let tid = u16::from_be_bytes([pdu[0], pdu[1]]);
        let d = if cx.direction == otwatch_dissect::Direction::ToServer { ">" } else { "<" };
        self.events
            .lock()
            .unwrap()
            .push(format!("frame {} {d} pdu {tid} gap={}", cx.frame_number, cx.after_gap));
    }
    fn on_gap(&mut self, cx: &mut PduContext<'_>, missing: u64) {
        self.events.lock().unwrap().push(format!("frame {} gap {missing}", cx.frame_number));
    }
    fn on_flow_end(&mut self, flow_id: u64) {
        self.events.lock().unwrap().push(format!("end {flow_id}"));
    }
}

/// An Ethernet/IPv4/TCP frame from 10.0.0.1:40000 (client) or 10.0.0.2:502 (server).
fn tcp_frame(to_server: bool, seq: u32, ack: u32, flags: u8, payload: &[u8]) -> Vec<u8> {
    let (src, dst, sp, dp) =
        if to_server { (1u8, 2u8, 40000u16, 502u16) } else { (2, 1, 502, 40000) };
    let mut f = vec![0x02, 0, 0, 0, 0, dst, 0x02, 0, 0, 0, 0, src, 0x08, 0x00]; // MACs, EtherType IPv4
    f.extend_from_slice(&[0x45, 0x00]); // IPv4, IHL 5
    f.extend_from_slice(&(40 + payload.len() as u16).to_be_bytes()); // total length
    f.extend_from_slice(&[0, 0, 0x40, 0x00, 64, 6, 0, 0]); // id, DF, TTL, TCP, checksum
    f.extend_from_slice(&[10, 0, 0, src, 10, 0, 0, dst]); // addresses
    f.extend_from_slice(&sp.to_be_bytes()); // source port
    f.extend_from_slice(&dp.to_be_bytes()); // destination port
    f.extend_from_slice(&seq.to_be_bytes()); // sequence number
    f.extend_from_slice(&ack.to_be_bytes()); // acknowledgement number
    f.extend_from_slice(&[0x50, flags, 0xff, 0xff, 0, 0, 0, 0]); // offset 5, flags, window, checksum, urgent
    f.extend_from_slice(payload);
    f
}

/// A Modbus read-holding-registers request ADU with transaction id `tid` (12 bytes).
fn read_request(tid: u16) -> Vec<u8> {
    let mut a = tid.to_be_bytes().to_vec(); // transaction id
    a.extend_from_slice(&[0, 0, 0, 6, 1]); // protocol 0, length 6, unit 1
    a.extend_from_slice(&[0x03, 0, 0, 0, 2]); // FC 3, address 0, quantity 2
    a
}

#[test]
fn gaps_split_pdus_and_flow_end_reach_the_handler() {
    const SYN: u8 = 0x02;
    const ACK: u8 = 0x10;
    const PSH_ACK: u8 = 0x18;
    let (r1, r2, r3, r4) = (read_request(1), read_request(2), read_request(3), read_request(4));
    let two = [r1.clone(), r2].concat();
    let frames = vec![
        tcp_frame(true, 99, 0, SYN, &[]), // 1: SYN, data starts at 100
        tcp_frame(false, 499, 100, SYN | ACK, &[]), // 2: SYN-ACK
        tcp_frame(true, 100, 500, PSH_ACK, &two), // 3: two PDUs in one segment
        tcp_frame(true, 124, 500, PSH_ACK, &r3[..5]), // 4: first 5 bytes of PDU 3
        tcp_frame(true, 129, 500, PSH_ACK, &r3[5..]), // 5: the rest of PDU 3
        tcp_frame(true, 129, 500, PSH_ACK, &r3[5..]), // 6: retransmission, ignored
        tcp_frame(true, 136, 500, PSH_ACK, &r4[..4]), // 7: start of PDU 4 ...
        tcp_frame(true, 152, 500, PSH_ACK, &r1), // 8: ... 12 bytes never captured, then PDU 1 again
    ];
    let records: Vec<(u32, u32, Vec<u8>)> =
        frames.into_iter().enumerate().map(|(i, f)| (1, i as u32, f)).collect();
    let mut pcap = Vec::new();
    for v in [0xa1b2_c3d4u32, 0x0004_0002, 0, 0, 65535, 1] {
        pcap.extend(v.to_le_bytes()); // magic, version 2.4, zone, sigfigs, snaplen, Ethernet
    }
    for (sec, usec, f) in &records {
        for v in [*sec, *usec, f.len() as u32, f.len() as u32] {
            pcap.extend(v.to_le_bytes()); // record header
        }
        pcap.extend_from_slice(f);
    }
    let path = std::env::temp_dir().join(format!("otwatch-gap-{}.pcap", std::process::id()));
    std::fs::write(&path, &pcap).unwrap();
    let rec = Recorder::default();
    let events = Arc::clone(&rec.events);
    summarize_with(std::slice::from_ref(&path), &SummaryOptions::default(), vec![Box::new(rec)])
        .unwrap();
    std::fs::remove_file(&path).unwrap();
    assert_eq!(
        *events.lock().unwrap(),
        vec![
            "frame 3 > pdu 1 gap=false",
            "frame 3 > pdu 2 gap=false",
            "frame 5 > pdu 3 gap=false",
            "frame 8 gap 12",
            "frame 8 > pdu 1 gap=true",
            "end 0",
        ]
    );
}

/// Rewrites `from` to `to` in the TCP or UDP ports (`ip_proto` 6 or 17) of
/// every Ethernet/IPv4 record of a classic little-endian pcap; returns how
/// many ports were rewritten.
fn move_port(bytes: &mut [u8], ip_proto: u8, from: u16, to: u16) -> usize {
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
        // EtherType IPv4, first fragment, the wanted transport.
        if f.len() > 34
            && f[12..14] == [0x08, 0x00]
            && f[23] == ip_proto
            && f[20] & 0x1f == 0
            && f[21] == 0
        {
            let t = 14 + usize::from(f[14] & 0x0f) * 4;
            for p in [t, t + 2] {
                if f.len() >= p + 2 && f[p..p + 2] == from.to_be_bytes() {
                    f[p..p + 2].copy_from_slice(&to.to_be_bytes());
                    moved += 1;
                }
            }
        }
        off = end;
    }
    moved
}

/// The per-protocol keys (tests/truth.rs compares them with tshark).
fn protocol_keys(proto: &str) -> &'static [&'static str] {
    match proto {
        "modbus" => &[
            "requests",
            "responses",
            "function_codes",
            "function_codes_requests",
            "function_codes_responses",
            "exception_responses",
            "unit_ids",
            "servers",
            "clients",
        ],
        "dnp3" => &[
            "frames",
            "app_function_codes",
            "link_primary_function_codes",
            "master_addresses",
            "outstation_addresses",
            "objects",
        ],
        "s7comm" => &[
            "pdus",
            "rosctr",
            "job_functions",
            "ack_data_functions",
            "plc_stop_requests",
            "servers",
            "clients",
        ],
        "iec104" => &[
            "apdus",
            "apci_types",
            "u_functions",
            "asdu_type_ids",
            "causes_of_transmission",
            "common_addresses",
            "servers",
            "clients",
        ],
        "bacnet" => &[
            "frames",
            "bvlc_functions",
            "apdu_types",
            "confirmed_services",
            "unconfirmed_services",
            "i_am_devices",
        ],
        "enip" => &[
            "frames",
            "commands_tcp",
            "commands_udp",
            "cip_service_requests_top_level",
            "cip_service_responses_top_level",
        ],
        other => panic!("no keys for {other}"),
    }
}

/// Every OT protocol is found by content when its server listens on a port
/// nobody registered: the real handlers (not a test framer) give the same
/// counts, servers and clients as on the standard port, which
/// tests/truth.rs checks against tshark.
#[test]
fn every_ot_protocol_on_a_non_standard_port_is_found_by_content() {
    let dir = pcaps_dir();
    for (name, proto, ip_proto, from, to, tags) in [
        ("modbus/modbus_test_2.pcap", "modbus", 6u8, 502u16, 5020u16, &["mbtcp"][..]),
        ("mixed/mb2.pcap", "modbus", 6, 502, 5020, &["mbtcp"][..]),
        ("dnp3/dnp3_example.pcap", "dnp3", 6, 20000, 20001, &["dnp3"][..]),
        ("s7comm/wincc_s400_production.pcapng", "s7comm", 6, 102, 4102, &["s7comm", "cotp"][..]),
        ("s7comm/snap7_s300_everything.pcapng", "s7comm", 6, 102, 4102, &["s7comm", "cotp"][..]),
        ("iec104/iec104.pcap", "iec104", 6, 2404, 2405, &["iec60870_104", "iec60870_asdu"][..]),
        ("enip/EIP-SoftwareUpload.pcap", "enip", 6, 44818, 44819, &["enip", "cip"][..]),
        ("bacnet/bacnet-ip.cap", "bacnet", 17, 47808, 47809, &["bvlc", "bacnet", "bacapp"][..]),
    ] {
        let src = dir.join(name);
        let original = summarize(std::slice::from_ref(&src), &SummaryOptions::default()).unwrap();
        let mut bytes = std::fs::read(&src).unwrap();
        assert!(move_port(&mut bytes, ip_proto, from, to) > 0, "{name}: nothing on port {from}");
        let dst =
            std::env::temp_dir().join(format!("otwatch-port-{}-{proto}.pcap", std::process::id()));
        std::fs::write(&dst, &bytes).unwrap();
        let moved = summarize(std::slice::from_ref(&dst), &SummaryOptions::default()).unwrap();
        std::fs::remove_file(&dst).unwrap();
        let (a, b) = (&original[proto], &moved[proto]);
        assert!(a.is_object(), "{name}: no {proto} section on the standard port");
        for key in protocol_keys(proto) {
            assert!(a.get(*key).is_some(), "{name}: {proto}.{key} missing");
            assert_eq!(b.get(*key), a.get(*key), "{name}: {proto}.{key} on port {to}");
        }
        for tag in tags {
            let frames = &original["protocols"]["ot_protocol_frames"][*tag];
            assert!(frames.as_u64().is_some_and(|n| n > 0), "{name}: no {tag} frames");
            assert_eq!(&moved["protocols"]["ot_protocol_frames"][*tag], frames, "{name}: {tag}");
        }
    }
}
