//! End-to-end: `otwatch sensor --pcap` into a temporary data directory, then the inventory as a user sees it.
//!
//! Reads the public captures where they lie (`../shared/pcaps`, or
//! `OTWATCH_PCAPS`); fails loudly if they are absent.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[allow(dead_code)]
mod support;
use support::{json, ok, otwatch};

fn pcaps_dir() -> PathBuf {
    let dir = match std::env::var_os("OTWATCH_PCAPS") {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/pcaps"),
    };
    assert!(dir.is_dir(), "capture corpus not found at {} (set OTWATCH_PCAPS)", dir.display());
    dir
}

fn device<'a>(devices: &'a [serde_json::Value], ip: &str) -> &'a serde_json::Value {
    devices.iter().find(|d| d["ip"] == ip).unwrap_or_else(|| panic!("no device {ip}"))
}

/// Packets and bytes per unordered IP pair and transport, from a list of
/// (a, b, transport, packets, bytes).
fn per_pair(
    rows: impl Iterator<Item = (String, String, String, u64, u64)>,
) -> BTreeMap<(String, String, String), (u64, u64)> {
    let mut m = BTreeMap::new();
    for (a, b, t, p, by) in rows {
        let key = if a <= b { (a, b, t) } else { (b, a, t) };
        let e = m.entry(key).or_insert((0, 0));
        e.0 += p;
        e.1 += by;
    }
    m
}

#[test]
fn mb2_inventory_connections_and_idempotence() {
    let dir = tempfile::tempdir().unwrap();
    let file = pcaps_dir().join("mixed/mb2.pcap");
    let file = file.to_str().unwrap();
    let first = json(dir.path(), &["sensor", "--pcap", file, "--json"]);
    assert_eq!(first["packets"], 13472);

    let devices = json(dir.path(), &["devices", "list", "--format", "json"]);
    let devices = devices.as_array().unwrap();
    // The Modbus, S7 and EtherNet/IP servers are PLCs with their NIC vendors.
    for (ip, vendor) in [
        ("141.81.0.24", None),
        ("141.81.0.14", Some("Siemens")),
        ("141.81.0.23", Some("Rockwell Automation")),
    ] {
        let d = device(devices, ip);
        assert_eq!(d["type"], "PLC", "{d}");
        assert_eq!(d["ot"], true);
        if let Some(v) = vendor {
            assert_eq!(d["vendor"], v, "{d}");
        }
        assert!(d["mac"].is_string(), "{d}");
    }
    // The client polling all of them is the SCADA server.
    let scada = device(devices, "141.81.0.10");
    assert_eq!(scada["type"], "SCADA Server", "{scada}");
    let protos: Vec<&str> =
        scada["protocols"].as_array().unwrap().iter().filter_map(|p| p.as_str()).collect();
    for p in ["Modbus", "S7comm", "EtherNet/IP"] {
        assert!(protos.contains(&p), "{protos:?}");
    }
    // No device for broadcast or multicast addresses.
    assert!(devices.iter().all(|d| d["mac"] != "ff:ff:ff:ff:ff:ff"));
    assert!(devices.iter().all(|d| d["ip"] != "255.255.255.255"));

    // Connections agree with the capture's conversations: per IP pair and
    // transport, the same packets and bytes (both directions together).
    let truth: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(pcaps_dir().join("mixed/mb2.pcap.truth.json")).unwrap(),
    )
    .unwrap();
    let expected = per_pair(truth["conversations"].as_array().unwrap().iter().map(|c| {
        (
            c["src"].as_str().unwrap().to_string(),
            c["dst"].as_str().unwrap().to_string(),
            c["transport"].as_str().unwrap().to_string(),
            c["packets"].as_u64().unwrap(),
            c["bytes"].as_u64().unwrap(),
        )
    }));
    let conns = json(dir.path(), &["connections", "list", "--format", "json", "--limit", "10000"]);
    let got = per_pair(
        conns
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| matches!(c["transport"].as_str(), Some("tcp" | "udp" | "icmp" | "ip")))
            .map(|c| {
                (
                    c["src"].as_str().unwrap().to_string(),
                    c["dst"].as_str().unwrap().to_string(),
                    c["transport"].as_str().unwrap().to_string(),
                    c["packets"].as_u64().unwrap(),
                    c["bytes"].as_u64().unwrap(),
                )
            }),
    );
    assert_eq!(got, expected);
    // The server port of every TCP connection is one the truth sees as a destination.
    for c in conns.as_array().unwrap().iter().filter(|c| c["transport"] == "tcp") {
        let port = c["dst_port"].as_u64().unwrap();
        assert!(
            truth["conversations"].as_array().unwrap().iter().any(|t| t["src"] == c["src"]
                && t["dst"] == c["dst"]
                && t["dst_port"].as_u64() == Some(port)),
            "{c}"
        );
    }

    // Re-running the same capture adds nothing twice.
    let second = json(dir.path(), &["sensor", "--pcap", file, "--json"]);
    assert_eq!(second["batches_already_stored"], second["batches"]);
    assert_eq!(second["events_stored"], 0);
    let again = json(dir.path(), &["connections", "list", "--format", "json", "--limit", "10000"]);
    assert_eq!(again, conns);
    let devices_again = json(dir.path(), &["devices", "list", "--format", "json"]);
    assert_eq!(devices_again.as_array().unwrap().len(), devices.len());

    // The table reads well: a header and one line per device.
    let table = ok(dir.path(), &["devices", "list"]);
    assert!(table.starts_with("ID  IP"), "{table}");
    assert!(table.contains("SCADA Server"));
    let grouped = ok(dir.path(), &["devices", "list", "--group-by", "type"]);
    assert!(grouped.contains("PLC"), "{grouped}");
    let plcs = json(dir.path(), &["devices", "list", "--type", "plc", "--format", "json"]);
    assert!(plcs.as_array().unwrap().iter().all(|d| d["type"] == "PLC"));
}

#[test]
fn operations_become_timeline_events() {
    let dir = tempfile::tempdir().unwrap();
    let stop = pcaps_dir().join("s7comm/step7_s300_stop.pcapng");
    ok(dir.path(), &["sensor", "--pcap", stop.to_str().unwrap()]);
    let devices = json(dir.path(), &["devices", "list", "--format", "json"]);
    let types: Vec<&str> =
        devices.as_array().unwrap().iter().filter_map(|d| d["type"].as_str()).collect();
    assert!(types.contains(&"PLC"), "{types:?}");
    assert!(types.contains(&"Engineering Station"), "{types:?}");
}

#[test]
fn pcap_summary_is_the_truth_shape() {
    let dir = tempfile::tempdir().unwrap();
    let file = pcaps_dir().join("modbus/modbus_example.pcap");
    let v = json(dir.path(), &["pcap", "summary", file.to_str().unwrap(), "--format", "json"]);
    assert_eq!(v["capture"]["packets"], 100);
    assert!(v["modbus"]["requests"].as_u64().unwrap() > 0);
}

#[test]
fn live_without_the_feature_says_how_to_get_it() {
    if cfg!(feature = "live") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let o = otwatch(dir.path(), &["sensor", "--interface", "lo"]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("live"));
}
