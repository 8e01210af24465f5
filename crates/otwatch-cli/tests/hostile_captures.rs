//! Malformed, truncated and oversized captures through `otwatch sensor --pcap`.
//!
//! Whatever the damage, the sensor processes the packets before it, stores
//! them, names the file and the byte offset in one clear line, exits with
//! status 1 (0 only when every file was read to its end), never panics, and
//! leaves a sound database; files after a damaged one are still read.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn otwatch(data: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_otwatch"));
    c.arg("--data-dir").arg(data).env_remove("OTWATCH_CONFIG").env_remove("RUST_LOG");
    c
}

fn sensor(data: &Path, files: &[&Path]) -> (Output, serde_json::Value, String) {
    let o = otwatch(data).args(["sensor", "--json", "--pcap"]).args(files).output().unwrap();
    let report = serde_json::from_slice(&o.stdout).unwrap_or(serde_json::Value::Null);
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert!(!err.contains("panicked"), "{err}");
    (o, report, err)
}

fn integrity(data: &Path) {
    let o = Command::new("sqlite3")
        .arg(data.join("otwatch.db"))
        .arg("PRAGMA integrity_check;")
        .output()
        .expect("sqlite3 is needed (scripts/test installs it)");
    assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), "ok");
}

/// Byte offsets of the records of a little-endian classic pcap file.
fn records(bytes: &[u8]) -> Vec<usize> {
    assert_eq!(&bytes[..4], &[0xd4, 0xc3, 0xb2, 0xa1], "a little-endian pcap");
    let mut at = 24;
    let mut out = Vec::new();
    while at + 16 <= bytes.len() {
        out.push(at);
        let len = u32::from_le_bytes(bytes[at + 8..at + 12].try_into().unwrap()) as usize;
        at += 16 + len;
    }
    out
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

#[test]
fn damaged_captures_are_read_up_to_the_damage() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let cap = d.join("plant.pcap");
    let o = otwatch(d)
        .args(["simulate", "--duration", "2m", "--seed", "8", "--out"])
        .arg(&cap)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let ng = d.join("plant.pcapng");
    let o = otwatch(d)
        .args(["simulate", "--duration", "1m", "--seed", "9", "--format", "pcapng", "--out"])
        .arg(&ng)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let bytes = std::fs::read(&cap).unwrap();
    let recs = records(&bytes);
    let (o, clean, err) = sensor(&d.join("clean"), &[&cap]);
    assert_eq!(o.status.code(), Some(0), "{err}");
    let all = clean["packets"].as_u64().unwrap();
    assert_eq!(all, recs.len() as u64);
    let mut tried = 0;

    // Only the file header: a valid, empty capture.
    let f = write(d, "header-only.pcap", &bytes[..24]);
    let (o, report, err) = sensor(&d.join("header-only"), &[&f]);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert_eq!(report["packets"].as_u64(), Some(0));
    tried += 1;
    // Truncated: in a record's header, in its data.
    let mid = recs[recs.len() / 2];
    for (name, cut, before) in
        [("in-header", mid + 7, recs.len() / 2), ("in-data", mid + 16 + 3, recs.len() / 2)]
    {
        let f = write(d, &format!("trunc-{name}.pcap"), &bytes[..cut]);
        let data = d.join(format!("trunc-{name}"));
        let (o, report, err) = sensor(&data, &[&f]);
        assert_eq!(o.status.code(), Some(1), "{name}: {err}");
        assert!(
            err.contains(&format!("trunc-{name}.pcap"))
                && err.contains("truncated")
                && err.contains("offset")
                && err.contains("packets before the damage were processed"),
            "{name}: {err}"
        );
        assert_eq!(err.trim().lines().count(), 1, "one clear line: {err}");
        assert_eq!(
            report["packets"].as_u64(),
            Some(before as u64),
            "{name}: processed up to the damage"
        );
        if before > 0 {
            assert!(report["devices"].as_u64().unwrap() > 0);
            integrity(&data);
        }
        tried += 1;
    }
    // Truncated inside the 24-byte file header: not a capture at all.
    let f = write(d, "trunc-magic.pcap", &bytes[..10]);
    let (o, _, err) = sensor(&d.join("trunc-magic"), &[&f]);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("trunc-magic.pcap"), "{err}");
    tried += 1;

    // Corrupt: a record claiming an absurd length (oversized), a record
    // claiming a length past the snapshot length, at a known offset.
    for (name, len) in [("oversized", 0xFFFF_FFF0u32), ("past-snaplen", 300_000)] {
        let mut b = bytes.clone();
        b[mid + 8..mid + 12].copy_from_slice(&len.to_le_bytes());
        let f = write(d, &format!("corrupt-{name}.pcap"), &b);
        let data = d.join(format!("corrupt-{name}"));
        let (o, report, err) = sensor(&data, &[&f]);
        assert_eq!(o.status.code(), Some(1), "{name}: {err}");
        assert!(
            err.contains(&format!("corrupt-{name}.pcap")) && err.contains(&mid.to_string()),
            "{name}: the file and the offset {mid}: {err}"
        );
        assert_eq!(report["packets"].as_u64(), Some((recs.len() / 2) as u64), "{name}: {err}");
        integrity(&data);
        tried += 1;
    }

    // pcapng: truncated, and a block whose length is wrong.
    let ngb = std::fs::read(&ng).unwrap();
    let f = write(d, "trunc.pcapng", &ngb[..ngb.len() * 2 / 3]);
    let (o, report, err) = sensor(&d.join("trunc-ng"), &[&f]);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("trunc.pcapng") && err.contains("offset"), "{err}");
    assert!(report["packets"].as_u64().unwrap() > 0, "{err}");
    tried += 1;
    let mut b = ngb;
    let at = b.len() / 2;
    // Overwrite a stretch in the middle with 0xff: whatever block it hits is damaged.
    b[at..at + 64].fill(0xff);
    let f = write(d, "corrupt.pcapng", &b);
    let (o, _, err) = sensor(&d.join("corrupt-ng"), &[&f]);
    assert!(o.status.code() == Some(1) || o.status.code() == Some(0), "{err}");
    if o.status.code() == Some(1) {
        assert!(err.contains("corrupt.pcapng") && err.contains("offset"), "{err}");
    }
    tried += 1;

    // Not captures at all.
    for (name, content) in [
        ("empty.pcap", &b""[..]),
        ("text.pcap", &b"GET / HTTP/1.1\r\n\r\n"[..]),
        ("zeros.pcap", &[0u8; 4096][..]),
    ] {
        let f = write(d, name, content);
        let (o, _, err) = sensor(&d.join("none"), &[&f]);
        assert_eq!(o.status.code(), Some(1), "{name}: {err}");
        assert!(err.contains(name) && err.contains("not a pcap or pcapng"), "{name}: {err}");
        tried += 1;
    }
    let (o, _, err) = sensor(&d.join("none"), &[&d.join("missing.pcap")]);
    assert_eq!(o.status.code(), Some(1));
    assert!(err.contains("missing.pcap"), "{err}");
    let (o, _, err) = sensor(&d.join("none"), &[d]);
    assert_eq!(o.status.code(), Some(1), "a directory: {err}");
    tried += 2;

    // A damaged file next to a sound one: the sound one is read in full.
    let f = d.join("trunc-in-data.pcap");
    let (o, report, err) = sensor(&d.join("mixed"), &[&f, &ng]);
    assert_eq!(o.status.code(), Some(1), "{err}");
    let (_, ng_only, _) = sensor(&d.join("ng-only"), &[&ng]);
    assert_eq!(
        report["packets"].as_u64().unwrap(),
        (recs.len() / 2) as u64 + ng_only["packets"].as_u64().unwrap(),
        "every packet of the sound file and those before the damage: {err}"
    );
    integrity(&d.join("mixed"));
    tried += 1;
    println!(
        "captures: {tried} damaged or hostile inputs, each read up to the damage with one clear line and status 1"
    );
}
