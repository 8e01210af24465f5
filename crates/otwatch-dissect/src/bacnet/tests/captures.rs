//! Smoke test over the public BACnet captures: every BACnet frame decodes and the
//! per-file counts match the tshark ground truth (`*.truth.json`, copied below as
//! expectation strings). The captures are read where they lie; the test fails
//! loudly if they are missing.
//!
//! The pcap and Ethernet/IPv4/UDP handling here is the minimum needed to reach
//! the BACnet payloads; the real pipeline lives in `otwatch-sensor`.

// One rstest column per ground-truth key reads best as a table.
#![allow(clippy::too_many_arguments)]

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use rstest::rstest;

use super::super::*;

fn pcaps_dir() -> PathBuf {
    match std::env::var_os("OTWATCH_PCAPS") {
        Some(dir) => PathBuf::from(dir),
        // The workspace root is two levels above this crate.
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/pcaps"),
    }
}

/// Classic pcap records of one file: (link type, record data).
fn read_pcap(path: &std::path::Path) -> (u32, Vec<Vec<u8>>) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| {
        panic!("capture {} is missing ({e}); set OTWATCH_PCAPS to the pcaps folder", path.display())
    });
    let magic = u32::from_le_bytes(bytes[0..4].try_into().unwrap());
    let le = match magic {
        0xa1b2_c3d4 | 0xa1b2_3c4d => true,
        0xd4c3_b2a1 | 0x4d3c_b2a1 => false,
        _ => panic!("{} is not a classic pcap file", path.display()),
    };
    let u32_at = |at: usize| {
        let b: [u8; 4] = bytes[at..at + 4].try_into().unwrap();
        if le { u32::from_le_bytes(b) } else { u32::from_be_bytes(b) }
    };
    let linktype = u32_at(20);
    let mut records = Vec::new();
    let mut at = 24;
    while at + 16 <= bytes.len() {
        let caplen = u32_at(at + 8) as usize;
        let start = at + 16;
        records.push(bytes[start..start + caplen].to_vec());
        at = start + caplen;
    }
    (linktype, records)
}

/// What one frame carried.
enum Frame<'a> {
    Bip(Message<'a>),
    Llc(Npdu<'a>),
    Mstp(MstpFrame<'a>),
}

fn decode(linktype: u32, rec: &[u8]) -> Option<Frame<'_>> {
    if linktype == 165 {
        let f = parse_mstp(rec).expect("MS/TP record");
        return f.npdu.is_some().then_some(Frame::Mstp(f));
    }
    assert_eq!(linktype, 1, "only Ethernet and MS/TP captures are expected");
    let mut ethertype = u16::from_be_bytes([rec[12], rec[13]]);
    let mut off = 14;
    while ethertype == 0x8100 {
        ethertype = u16::from_be_bytes([rec[off + 2], rec[off + 3]]);
        off += 4;
    }
    if ethertype <= 1500 {
        let llc = &rec[off..off + usize::from(ethertype)];
        return parse_llc(llc).ok().map(Frame::Llc);
    }
    if ethertype != 0x0800 || rec[off + 9] != 17 {
        return None;
    }
    let ihl = usize::from(rec[off] & 0x0f) * 4;
    let udp = &rec[off + ihl..];
    let (sport, dport) =
        (u16::from_be_bytes([udp[0], udp[1]]), u16::from_be_bytes([udp[2], udp[3]]));
    let ulen = usize::from(u16::from_be_bytes([udp[4], udp[5]]));
    if sport != BACNET_IP_PORT && dport != BACNET_IP_PORT {
        return None;
    }
    let payload = &udp[8..ulen.min(udp.len())];
    Some(Frame::Bip(parse(payload).expect("BACnet/IP payload frames")))
}

fn counts<K: Ord + std::fmt::Display>(m: &BTreeMap<K, u32>) -> String {
    m.iter().map(|(k, v)| format!("{k}:{v}")).collect::<Vec<_>>().join(" ")
}

#[rstest]
#[case::bbmd_on_same_subnet(
    "BACnet-BBMD-on-same-subnet.cap",
    14,
    0,
    "0x00:1 0x04:6 0x05:1 0x09:1 0x0b:5",
    "1:12",
    "",
    "0:10 8:2",
    "",
    "",
    ""
)]
#[case::array_elements(
    "BACnetARRAY-elements.cap",
    40,
    0,
    "0x00:4 0x04:12 0x05:4 0x09:4 0x0a:8 0x0b:8",
    "0:4 1:24 3:3 5:1",
    "12:8",
    "0:8 8:16",
    "class=2 code=42:1",
    "",
    ""
)]
#[case::ethernet(
    "bacnet-ethernet.cap",
    848,
    0,
    "0x0b:8",
    "0:416 1:16 3:373 5:43",
    "12:832",
    "0:12 8:4",
    "class=2 code=32:43",
    "",
    ""
)]
#[case::ip(
    "bacnet-ip.cap",
    834,
    0,
    "0x0a:832 0x0b:1",
    "0:416 1:2 3:373 5:43",
    "12:832",
    "0:2",
    "class=2 code=32:43",
    "",
    ""
)]
#[case::properties(
    "bacnet-properties.cap",
    4120,
    0,
    "0x0b:2",
    "0:1372 1:4 3:1589 5:1155",
    "12:4116",
    "0:4",
    "class=1 code=31:930 class=2 code=32:225",
    "",
    ""
)]
#[case::services(
    "bacnet-services.cap",
    7158,
    5,
    "0x0a:6824 0x0b:225",
    "0:3410 1:330 2:13 3:3392 4:2 5:6",
    "6:128 7:126 12:6530 14:3 15:18 17:8 20:8",
    "0:307 1:3 6:2 7:6 8:12",
    "class=1 code=31:2 class=2 code=32:1 class=5 code=26:4",
    "",
    ""
)]
#[case::stack_services(
    "bacnet-stack-services.cap",
    113,
    4,
    "0x0a:77 0x0b:10",
    "0:29 1:54 2:4 3:13 5:7 6:2",
    "0:1 6:8 7:17 12:6 14:1 15:2 17:12 20:6",
    "0:22 1:4 2:2 6:4 7:6 8:16",
    "class=1 code=31:1 class=2 code=32:2 class=5 code=26:4",
    "9:2",
    ""
)]
#[case::error_reject_abort(
    "bacnet_error_reject_abort.pcap",
    45,
    0,
    "0x09:4 0x0a:27 0x0b:14",
    "0:28 1:14 5:1 6:1 7:1",
    "0:1 1:1 2:1 3:1 4:1 6:1 7:1 8:1 9:1 10:1 11:1 12:1 14:1 15:1 16:1 17:1 18:1 20:2 21:1 22:1 23:1 26:1 27:1 28:2 29:1 30:1 31:1",
    "0:1 1:1 2:1 3:1 4:1 5:1 6:1 7:1 8:1 9:1 10:1 11:1 13:1 14:1",
    "class=5 code=26:1",
    "9:1",
    "0:1"
)]
#[case::example(
    "bacnet_example.pcap",
    3257,
    0,
    "0x0a:3250 0x0b:7",
    "0:1520 1:217 2:30 3:1400 5:90",
    "12:2800 20:240",
    "0:210 8:7",
    "class=5 code=26:90",
    "",
    ""
)]
#[case::mstp(
    "mstp_20090227094623.pcap",
    403,
    0,
    "",
    "0:202 3:200 6:1",
    "12:402",
    "",
    "",
    "1:1",
    ""
)]
fn capture_counts_match_tshark(
    #[case] file: &str,
    #[case] frames: u32,
    #[case] npdu_only: u32,
    #[case] bvlc: &str,
    #[case] apdu_types: &str,
    #[case] confirmed: &str,
    #[case] unconfirmed: &str,
    #[case] errors: &str,
    #[case] rejects: &str,
    #[case] aborts: &str,
) {
    let (linktype, records) = read_pcap(&pcaps_dir().join("bacnet").join(file));
    let mut n_frames = 0u32;
    let mut n_npdu_only = 0u32;
    let mut bvlc_c = BTreeMap::new();
    let mut types = BTreeMap::new();
    let mut conf = BTreeMap::new();
    let mut unconf = BTreeMap::new();
    let mut errs = BTreeMap::new();
    let mut rej = BTreeMap::new();
    let mut abort = BTreeMap::new();
    let mut reassembly: HashMap<(u8, u8), Reassembly> = HashMap::new();
    for rec in &records {
        let Some(frame) = decode(linktype, rec) else { continue };
        n_frames += 1;
        let npdu = match &frame {
            Frame::Bip(m) => {
                *bvlc_c.entry(format!("0x{:02x}", m.function.0)).or_insert(0u32) += 1;
                m.npdu()
            }
            Frame::Llc(n) => Some(n),
            Frame::Mstp(f) => f.npdu.as_ref(),
        };
        let Some(npdu) = npdu else { continue };
        let a = match &npdu.payload {
            NpduPayload::Apdu(a) => a,
            // tshark has no APDU layer for an NPDU whose APDU is missing either.
            NpduPayload::Network(_) | NpduPayload::Missing | NpduPayload::HeaderTruncated => {
                n_npdu_only += 1;
                continue;
            }
        };
        *types.entry(a.pdu_type().0).or_insert(0u32) += 1;
        if let Some(s) = a.confirmed_service() {
            *conf.entry(s.0).or_insert(0u32) += 1;
        }
        if let Some(s) = a.unconfirmed_service() {
            *unconf.entry(s.0).or_insert(0u32) += 1;
        }
        let mut error = a.first_error();
        if let Apdu::ComplexAck(ack) = a
            && let Some(seg) = ack.segment
        {
            let r = reassembly.entry((ack.invoke_id, ack.service.0)).or_default();
            if let Reassembled::Complete(data) =
                r.push(ack.service, seg.sequence_number, ack.more_follows, ack.data)
            {
                let mut an = Anomalies::NONE;
                if let ComplexAckBody::ReadPropertyMultiple(rpm) =
                    decode_complex_ack(ack.service, &data, &mut an)
                {
                    error = rpm.results.iter().find_map(|r| r.value.err());
                }
            }
        }
        if let Some(e) = error {
            *errs.entry(format!("class={} code={}", e.class.0, e.code.0)).or_insert(0u32) += 1;
        }
        match a {
            Apdu::Reject { reason, .. } => *rej.entry(reason.0).or_insert(0u32) += 1,
            Apdu::Abort { reason, .. } => *abort.entry(reason.0).or_insert(0u32) += 1,
            _ => {}
        }
    }
    assert_eq!(n_frames, frames, "frames");
    assert_eq!(n_npdu_only, npdu_only, "npdu_only_frames");
    assert_eq!(counts(&bvlc_c), bvlc, "bvlc_functions");
    assert_eq!(counts(&types), apdu_types, "apdu_types");
    assert_eq!(counts(&conf), confirmed, "confirmed_services");
    assert_eq!(counts(&unconf), unconfirmed, "unconfirmed_services");
    assert_eq!(counts(&errs), errors, "errors");
    assert_eq!(counts(&rej), rejects, "reject_reasons");
    assert_eq!(counts(&abort), aborts, "abort_reasons");
}
