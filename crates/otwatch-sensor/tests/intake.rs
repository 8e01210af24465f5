//! Intake tests on captures written here, byte by byte from the pcap and pcapng specifications.

use std::path::{Path, PathBuf};

use otwatch_sensor::intake::{CaptureFile, CaptureFormat, IntakeError, MergedCaptures};
use otwatch_sensor::summary::{SummaryError, SummaryOptions, summarize};

/// A minimal Ethernet/IPv4/UDP frame (42 bytes), 10.0.0.`src` -> 10.0.0.2, ports 1000 -> 2000.
fn frame(src: u8) -> Vec<u8> {
    let mut f = vec![
        0x00, 0x11, 0x22, 0x33, 0x44, 0x55, // destination MAC
        0x00, 0x11, 0x22, 0x33, 0x44, src, // source MAC
        0x08, 0x00, // EtherType IPv4
        0x45, 0x00, 0x00, 0x1c, // IPv4, IHL 5, total length 28
        0x00, 0x01, 0x00, 0x00, // id 1, no fragmentation
        0x40, 0x11, 0x00, 0x00, // TTL 64, UDP, checksum (unchecked)
        10, 0, 0, src, // source
        10, 0, 0, 2, // destination
        0x03, 0xe8, 0x07, 0xd0, // UDP ports 1000 -> 2000
        0x00, 0x08, 0x00, 0x00, // UDP length 8, checksum
    ];
    f.truncate(42);
    f
}

/// A classic pcap file: global header then one record per (seconds, fraction, frame).
fn pcap(big_endian: bool, nano: bool, linktype: u32, packets: &[(u32, u32, Vec<u8>)]) -> Vec<u8> {
    let w32 = |v: u32| if big_endian { v.to_be_bytes() } else { v.to_le_bytes() };
    let w16 = |v: u16| if big_endian { v.to_be_bytes() } else { v.to_le_bytes() };
    let mut out = Vec::new();
    out.extend(w32(if nano { 0xa1b2_3c4d } else { 0xa1b2_c3d4 })); // magic
    out.extend(w16(2)); // version major
    out.extend(w16(4)); // version minor
    out.extend(w32(0)); // thiszone
    out.extend(w32(0)); // sigfigs
    out.extend(w32(65535)); // snaplen
    out.extend(w32(linktype)); // network
    for (sec, frac, data) in packets {
        out.extend(w32(*sec)); // ts_sec
        out.extend(w32(*frac)); // ts_usec or ts_nsec
        out.extend(w32(data.len() as u32)); // incl_len
        out.extend(w32(data.len() as u32 + 4)); // orig_len (as if the FCS was not captured)
        out.extend_from_slice(data);
    }
    out
}

/// A little-endian pcapng block: type, total length, body (padded to 32 bits), total length.
fn block(kind: u32, body: &[u8]) -> Vec<u8> {
    let mut b = body.to_vec();
    while !b.len().is_multiple_of(4) {
        b.push(0);
    }
    let len = (b.len() + 12) as u32;
    let mut out = Vec::new();
    out.extend(kind.to_le_bytes());
    out.extend(len.to_le_bytes());
    out.extend(b);
    out.extend(len.to_le_bytes());
    out
}

fn section_header() -> Vec<u8> {
    let mut body = Vec::new();
    body.extend(0x1a2b_3c4du32.to_le_bytes()); // byte-order magic
    body.extend(1u16.to_le_bytes()); // major
    body.extend(0u16.to_le_bytes()); // minor
    body.extend((-1i64).to_le_bytes()); // section length unknown
    block(0x0a0d_0d0a, &body)
}

/// Interface description: link type, snaplen, and an if_tsresol option when given.
fn interface(linktype: u16, tsresol: Option<u8>) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend(linktype.to_le_bytes());
    body.extend(0u16.to_le_bytes()); // reserved
    body.extend(0u32.to_le_bytes()); // snaplen: no limit
    if let Some(r) = tsresol {
        body.extend(9u16.to_le_bytes()); // option code if_tsresol
        body.extend(1u16.to_le_bytes()); // option length
        body.extend([r, 0, 0, 0]); // value, padded
        body.extend([0, 0, 0, 0]); // opt_endofopt
    }
    block(1, &body)
}

/// Enhanced packet block: interface id, 64-bit timestamp in the interface's unit, lengths, data.
fn enhanced(iface: u32, ticks: u64, data: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend(iface.to_le_bytes());
    body.extend(((ticks >> 32) as u32).to_le_bytes()); // timestamp high
    body.extend((ticks as u32).to_le_bytes()); // timestamp low
    body.extend((data.len() as u32).to_le_bytes()); // captured length
    body.extend((data.len() as u32).to_le_bytes()); // original length
    body.extend_from_slice(data);
    block(6, &body)
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

fn tmpdir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("otwatch-intake-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// (time ns, link type, original length, captured length) per packet.
type Seen = Vec<(u64, u32, u32, usize)>;

fn read_all(path: &Path) -> (Seen, Option<IntakeError>) {
    let mut f = CaptureFile::open(path, 0).unwrap();
    let mut out = Vec::new();
    loop {
        match f.next_packet() {
            Ok(Some(p)) => out.push((p.ts_ns, p.link_type.0, p.orig_len, p.data.len())),
            Ok(None) => return (out, None),
            Err(e) => return (out, Some(e)),
        }
    }
}

#[test]
fn pcap_in_both_byte_orders_and_resolutions() {
    let d = tmpdir("orders");
    for (be, nano) in [(false, false), (true, false), (false, true), (true, true)] {
        let frac = if nano { 123_456_789 } else { 123_456 };
        let bytes =
            pcap(be, nano, 1, &[(1_400_000_000, frac, frame(1)), (1_400_000_001, 0, frame(3))]);
        // The name says pcapng; the magic says pcap, and the magic wins.
        let p = write(&d, &format!("be{be}-nano{nano}.pcapng"), &bytes);
        let f = CaptureFile::open(&p, 0).unwrap();
        assert_eq!(
            f.format(),
            if nano { CaptureFormat::PcapNano } else { CaptureFormat::PcapMicro }
        );
        let (pkts, err) = read_all(&p);
        assert!(err.is_none(), "{err:?}");
        let ns = if nano { 123_456_789 } else { 123_456_000 };
        assert_eq!(
            pkts,
            vec![
                (1_400_000_000_000_000_000 + ns, 1, 46, 42),
                (1_400_000_001_000_000_000, 1, 46, 42)
            ]
        );
    }
}

#[test]
fn pcapng_with_two_interfaces_and_resolutions() {
    let d = tmpdir("ng");
    let mut bytes = section_header();
    bytes.extend(interface(1, None)); // Ethernet, microseconds (default)
    bytes.extend(interface(101, Some(9))); // raw IP, nanoseconds
    bytes.extend(enhanced(0, 1_000_000_000_500_000, &frame(1))); // 1e9 s + 0.5 s in µs
    bytes.extend(enhanced(1, 1_000_000_001_000_000_007, &frame(1)[14..])); // ns
    bytes.extend(section_header()); // a second section resets the interfaces
    bytes.extend(interface(113, Some(0x80 | 10))); // Linux SLL, 2^-10 s
    bytes.extend(enhanced(0, 1024 * 5, &[0u8; 20]));
    let p = write(&d, "two.pcap", &bytes); // pcapng named .pcap
    let (pkts, err) = read_all(&p);
    assert!(err.is_none(), "{err:?}");
    assert_eq!(
        pkts,
        vec![
            (1_000_000_000_500_000_000, 1, 42, 42),
            (1_000_000_001_000_000_007, 101, 28, 28),
            (5_000_000_000, 113, 20, 20),
        ]
    );
    assert_eq!(CaptureFile::open(&p, 0).unwrap().format(), CaptureFormat::PcapNg);
}

#[test]
fn truncated_and_corrupt_files_stop_at_the_damage_with_the_offset() {
    let d = tmpdir("damage");
    let good = pcap(false, false, 1, &[(1, 0, frame(1)), (2, 0, frame(1)), (3, 0, frame(1))]);
    // Cut in the middle of the third record: header 24, records 16 + 42 each.
    let cut = 24 + 2 * 58 + 20;
    let p = write(&d, "cut.pcap", &good[..cut]);
    let (pkts, err) = read_all(&p);
    assert_eq!(pkts.len(), 2);
    match err {
        Some(IntakeError::Truncated { path, offset, available }) => {
            assert_eq!((offset, available), (140, 20));
            assert_eq!(path, p);
        }
        other => panic!("{other:?}"),
    }
    let msg = read_all(&p).1.unwrap().to_string();
    assert!(msg.contains("cut.pcap") && msg.contains("byte offset 140"), "{msg}");

    // A pcapng block whose length is not a multiple of 4 is corrupt.
    let mut ng = section_header();
    ng.extend(interface(1, None));
    let at = ng.len() as u64;
    ng.extend(6u32.to_le_bytes()); // enhanced packet block
    ng.extend(31u32.to_le_bytes()); // bad total length
    ng.extend([0u8; 40]);
    let p = write(&d, "bad.pcapng", &ng);
    match read_all(&p).1 {
        Some(IntakeError::Corrupt { offset, .. }) => assert_eq!(offset, at),
        other => panic!("{other:?}"),
    }

    // Not a capture at all.
    let p = write(&d, "text.pcap", b"hello, this is not a capture");
    assert!(matches!(CaptureFile::open(&p, 0), Err(IntakeError::UnknownFormat { .. })));
}

#[test]
fn several_files_merge_in_time_order_and_damage_is_reported() {
    let d = tmpdir("merge");
    let a = write(
        &d,
        "a.pcap",
        &pcap(false, false, 1, &[(10, 0, frame(1)), (30, 0, frame(1)), (50, 0, frame(1))]),
    );
    let b = write(&d, "b.pcap", &pcap(true, true, 1, &[(20, 0, frame(3)), (40, 0, frame(3))]));
    let mut m = MergedCaptures::open(&[a, b.clone()]).unwrap();
    let mut order = Vec::new();
    while let Some(p) = m.next_packet() {
        order.push((p.ts_ns / 1_000_000_000, p.file));
    }
    assert_eq!(order, vec![(10, 0), (20, 1), (30, 0), (40, 1), (50, 0)]);
    assert!(m.take_errors().is_empty());

    // The summary of a damaged file covers what came before the damage.
    let good = pcap(false, false, 1, &[(1, 0, frame(1)), (2, 0, frame(1))]);
    let c = write(&d, "c.pcap", &good[..good.len() - 5]);
    match summarize(&[b, c], &SummaryOptions::default()) {
        Err(SummaryError::Damaged { error, partial, .. }) => {
            assert!(error.to_string().contains("c.pcap"), "{error}");
            assert_eq!(partial["capture"]["packets"], 3);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn records_larger_than_the_read_chunk_are_read() {
    let d = tmpdir("big");
    let mut big = frame(1);
    big.resize(3 << 20, 0xab); // 3 MiB, bigger than one read chunk
    let mut bytes = pcap(false, false, 1, &[(1, 0, frame(1)), (2, 0, big), (3, 0, frame(1))]);
    // A snapshot length that allows such a record (larger ones are damage).
    bytes[16..20].copy_from_slice(&(4u32 << 20).to_le_bytes());
    let p = write(&d, "big.pcap", &bytes);
    let (pkts, err) = read_all(&p);
    assert!(err.is_none(), "{err:?}");
    assert_eq!(pkts.iter().map(|p| p.3).collect::<Vec<_>>(), vec![42, 3 << 20, 42]);
    // With the usual snapshot length, the same record is damage at its offset.
    bytes[16..20].copy_from_slice(&65_535u32.to_le_bytes());
    let p = write(&d, "bogus.pcap", &bytes);
    let (pkts, err) = read_all(&p);
    assert_eq!(pkts.len(), 1);
    match err {
        Some(IntakeError::Corrupt { offset, reason, .. }) => {
            assert_eq!(offset, 24 + 16 + 42, "{reason}");
            assert!(reason.contains("snapshot length"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
}
