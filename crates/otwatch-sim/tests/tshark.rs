//! The outside judge: tshark reads every generated capture (the clean plant and each scenario)
//! without malformed packets, bad checksums or expert warnings — except what a scenario causes
//! on purpose — resolves every vendor OUI, and `pcap-truth.sh`'s counts (frames per protocol,
//! function codes, TCP streams, devices, …) equal what the simulator says it wrote.
//!
//! Needs tshark (`apt-get install tshark`) and `../shared/tools/pcap-truth.sh` (or
//! `$OTWATCH_PCAP_TRUTH`); both are present in CI, and the test fails loudly without them.

use std::collections::BTreeSet;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::process::Command;

use otwatch_sim::{Manifest, Options, Role, Scenario, ScenarioRun, generate};
use serde_json::Value;

const SEC: u64 = 1_000_000;
/// Where scenarios start in their test captures.
const OFFSET: u64 = 20 * SEC;

fn require_tshark() {
    let ok = Command::new("tshark").arg("--version").output().is_ok_and(|o| o.status.success());
    assert!(ok, "tshark is required by this test and was not found: apt-get install tshark");
}

fn pcap_truth_script() -> PathBuf {
    let p = std::env::var_os("OTWATCH_PCAP_TRUTH").map(PathBuf::from).unwrap_or_else(|| {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/tools/pcap-truth.sh")
    });
    assert!(
        p.is_file(),
        "pcap-truth.sh not found at {} (set OTWATCH_PCAP_TRUTH, or put the shared directory beside the repository)",
        p.display()
    );
    p
}

fn capture(dir: &Path, name: &str, opts: &Options) -> (PathBuf, Manifest) {
    let path = dir.join(format!("{name}.pcap"));
    let f = std::fs::File::create(&path).unwrap();
    let (m, w) = generate(opts, BufWriter::new(f)).unwrap();
    w.into_inner().unwrap().sync_all().unwrap();
    (path, m)
}

fn tshark(args: &[&str]) -> String {
    let out = Command::new("tshark").args(args).output().expect("tshark runs");
    assert!(
        out.status.success(),
        "tshark {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

const CHECKSUMS: [&str; 6] = [
    "-o",
    "ip.check_checksum:TRUE",
    "-o",
    "tcp.check_checksum:TRUE",
    "-o",
    "udp.check_checksum:TRUE",
];

/// Expert infos at Warning or above, as (count, protocol, summary), with checksums verified.
fn warnings(path: &Path) -> Vec<(u64, String, String)> {
    let p = path.to_str().unwrap();
    let mut args = vec!["-n", "-r", p, "-q", "-z", "expert,warn"];
    args.extend_from_slice(&CHECKSUMS);
    let text = tshark(&args);
    let mut out = Vec::new();
    for line in text.lines() {
        let cols: Vec<&str> = line.split_whitespace().collect();
        let Some(n) = cols.first().and_then(|c| c.parse::<u64>().ok()) else { continue };
        // Frequency, group, protocol (may contain spaces), summary: split on 2+ spaces.
        let parts: Vec<&str> = line.split("  ").map(str::trim).filter(|s| !s.is_empty()).collect();
        let proto = parts.get(2).copied().unwrap_or("").to_string();
        let summary = parts[3.min(parts.len() - 1)..].join(" ");
        out.push((n, proto, summary));
    }
    out
}

fn count_frames(path: &Path, filter: &str) -> usize {
    let p = path.to_str().unwrap();
    let mut args = vec!["-n", "-r", p, "-Y", filter, "-T", "fields", "-e", "frame.number"];
    args.extend_from_slice(&CHECKSUMS);
    tshark(&args).lines().filter(|l| !l.trim().is_empty()).count()
}

/// Runs pcap-truth.sh on the capture and returns its JSON.
fn truth(path: &Path) -> Value {
    let out =
        Command::new("bash").arg(pcap_truth_script()).arg("--force").arg(path).output().unwrap();
    assert!(
        out.status.success(),
        "pcap-truth.sh failed on {}: {}{}",
        path.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let json = std::fs::read_to_string(format!("{}.truth.json", path.display())).unwrap();
    serde_json::from_str(&json).unwrap()
}

fn norm(v: &Value) -> Value {
    match v {
        Value::Array(items) => {
            let mut s: Vec<String> = items
                .iter()
                .map(|x| match x {
                    Value::String(s) => s.clone(),
                    other => serde_json::to_string(other).unwrap(),
                })
                .collect();
            s.sort();
            Value::Array(s.into_iter().map(Value::String).collect())
        }
        other => other.clone(),
    }
}

fn empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Number(n) => n.as_u64() == Some(0),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    }
}

/// Every leaf of the manifest's counts equals the same key in pcap-truth's JSON.
fn compare(sim: &Value, tshark: &Value, path: &str, diffs: &mut Vec<String>) {
    if let Value::Object(m) = sim {
        for (k, v) in m {
            let p = format!("{path}.{k}");
            match tshark.get(k) {
                Some(t) => compare(v, t, &p, diffs),
                None if empty(v) => {}
                None => diffs.push(format!("{p}: simulator {v}, missing in tshark's truth")),
            }
        }
    } else if norm(sim) != norm(tshark) {
        diffs.push(format!("{path}: simulator {sim}, tshark {tshark}"));
    }
}

/// The whole check of one capture.
fn judge(path: &Path, m: &Manifest, allowed: &[String]) {
    // 1. Expert infos and checksums.
    let warns = warnings(path);
    let unexpected: Vec<_> =
        warns.iter().filter(|(_, _, s)| !allowed.iter().any(|a| s.contains(a.as_str()))).collect();
    assert!(unexpected.is_empty(), "{}: tshark reports {unexpected:?}", path.display());
    let bad = count_frames(
        path,
        "_ws.malformed || _ws.expert.severity >= 6291456 || ip.checksum.status == 0 || tcp.checksum.status == 0 || udp.checksum.status == 0",
    );
    let rst = count_frames(path, "tcp.flags.reset == 1");
    if m.malformed_frames > 0 {
        assert_eq!(
            bad as u64,
            m.malformed_frames + rst as u64,
            "{}: frames tshark flags",
            path.display()
        );
    } else {
        assert_eq!(bad, rst, "{}: frames tshark flags besides resets", path.display());
    }
    // 2. Counts.
    let t = truth(path);
    // Every payload is dissected: the only frames that end in tshark's undissected "data"
    // are those whose payload is opaque by nature — ICMP echo data (every ICMP frame the
    // simulator writes is a ping or its answer) and HTTP bodies of type
    // application/octet-stream (a file download) — and exactly those.
    let undissected = &t["protocols"]["undissected_payload_frames"];
    let icmp = m.truth["protocols"]["frames_containing"]["icmp"].as_u64().unwrap_or(0);
    let octets = count_frames(path, "http.content_type == \"application/octet-stream\"") as u64;
    for e in undissected.as_array().expect("undissected_payload_frames is a list") {
        let frames = e["frames"].as_u64().unwrap_or(0);
        match (e["transport"].as_str(), e["lower_port"].as_u64()) {
            (Some("icmp"), _) => {
                assert_eq!(frames, icmp, "{}: undissected ICMP {e}", path.display());
            }
            (Some("tcp"), Some(80)) => {
                assert_eq!(frames, octets, "{}: undissected HTTP {e}", path.display());
            }
            _ => panic!("{}: undissected payload {e}", path.display()),
        }
    }
    let mut diffs = Vec::new();
    compare(&m.truth, &t, "", &mut diffs);
    assert!(
        diffs.is_empty(),
        "{}: simulator and tshark disagree:\n{}",
        path.display(),
        diffs.join("\n")
    );
    // 3. Devices: every host the manifest lists is seen with its MAC and address.
    let macs: BTreeSet<String> = t["addresses"]["macs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    let ips: BTreeSet<String> = t["addresses"]["ipv4"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    for d in &m.devices {
        let mac = d.device.mac.to_string();
        assert!(
            macs.contains(&mac),
            "{}: device {} ({mac}) never seen",
            path.display(),
            d.device.name
        );
        if d.device.role != Role::Router {
            assert!(
                ips.contains(&d.device.ip.to_string()),
                "{}: {} never seen",
                path.display(),
                d.device.ip
            );
        }
    }
}

#[test]
fn the_clean_plant_passes_tshark() {
    require_tshark();
    let dir = tempfile::tempdir().unwrap();
    let opts = Options { duration_us: Some(150 * SEC), ..Options::default() };
    let (path, m) = capture(dir.path(), "clean", &opts);
    assert!(m.packets > 10_000, "{} packets", m.packets);
    judge(&path, &m, &[]);
    // Every OT protocol is there and dissected.
    let ot = &m.truth["protocols"]["ot_protocol_frames"];
    for p in ["mbtcp", "s7comm", "enip", "cip", "cipio", "dnp3", "iec60870_asdu", "bacapp"] {
        assert!(ot[p].as_u64().unwrap() > 10, "{p}: {}", ot[p]);
    }
    // Vendor prefixes are real: tshark resolves each to the vendor the simulator names.
    let p = path.to_str().unwrap();
    let resolved =
        tshark(&["-n", "-r", p, "-T", "fields", "-e", "eth.src", "-e", "eth.src.oui_resolved"]);
    let names: BTreeSet<(String, String)> = resolved
        .lines()
        .filter_map(|l| l.split_once('\t'))
        .map(|(mac, name)| (mac[..8].to_string(), name.to_lowercase()))
        .collect();
    for d in &m.devices {
        let oui = d.device.mac.to_string()[..8].to_string();
        let word = d.device.vendor.split([' ', ',']).next().unwrap().to_lowercase();
        assert!(
            names.iter().any(|(o, n)| *o == oui && n.contains(&word)),
            "{}: OUI {oui} of {} is not resolved by tshark to {}",
            d.device.name,
            d.device.name,
            d.device.vendor
        );
    }
}

#[test]
fn pcapng_output_passes_tshark_too() {
    require_tshark();
    let dir = tempfile::tempdir().unwrap();
    let opts = Options {
        duration_us: Some(40 * SEC),
        devices: 12,
        format: otwatch_sim::Format::Pcapng,
        ..Options::default()
    };
    let (path, m) = capture(dir.path(), "ng", &opts);
    let p = path.to_str().unwrap();
    let info = Command::new("capinfos").args(["-t", "-c", "-a", "-e", p]).output().unwrap();
    let text = String::from_utf8_lossy(&info.stdout);
    assert!(text.contains("pcapng"), "{text}");
    assert!(text.contains(&format!("{}", m.packets)), "{text}");
    // Nanosecond time stamps are declared, so the first frame is at the start time.
    let first = tshark(&["-n", "-r", p, "-c", "1", "-T", "fields", "-e", "frame.time_epoch"]);
    let secs: f64 = first.trim().parse().unwrap();
    let start = opts.start_us as f64 / 1e6;
    assert!(secs >= start && secs < start + 10.0, "first frame at {secs}, start {start}");
    judge(&path, &m, &[]);
}

fn scenario(s: Scenario) {
    require_tshark();
    let dir = tempfile::tempdir().unwrap();
    let opts = Options {
        duration_us: Some(OFFSET + s.min_tail_us() + 5 * SEC),
        scenarios: vec![ScenarioRun { scenario: s, offset_us: OFFSET }],
        ..Options::default()
    };
    let (path, m) = capture(dir.path(), s.name(), &opts);
    let allowed = m.scenarios[0].expected_expert.clone();
    judge(&path, &m, &allowed);
}

macro_rules! scenario_tests {
    ($($name:ident => $s:expr),+ $(,)?) => {
        $(
            #[test]
            fn $name() {
                scenario($s);
            }
        )+
    };
}

scenario_tests! {
    scenario_port_scan_passes_tshark => Scenario::PortScan,
    scenario_address_scan_passes_tshark => Scenario::AddressScan,
    scenario_plc_scan_passes_tshark => Scenario::PlcScan,
    scenario_new_device_passes_tshark => Scenario::NewDevice,
    scenario_modbus_write_passes_tshark => Scenario::ModbusWrite,
    scenario_s7_plc_stop_passes_tshark => Scenario::S7PlcStop,
    scenario_s7_program_download_passes_tshark => Scenario::S7ProgramDownload,
    scenario_cip_firmware_change_passes_tshark => Scenario::CipFirmwareChange,
    scenario_dnp3_cold_restart_storm_passes_tshark => Scenario::Dnp3ColdRestartStorm,
    scenario_iec104_unknown_master_passes_tshark => Scenario::Iec104UnknownMaster,
    scenario_malformed_passes_tshark => Scenario::Malformed,
    scenario_known_bad_ip_passes_tshark => Scenario::KnownBadIp,
    scenario_device_silent_passes_tshark => Scenario::DeviceSilent,
}

/// Every scenario has a test above.
#[test]
fn every_scenario_is_judged() {
    assert_eq!(Scenario::ALL.len(), 13, "add the new scenario to scenario_tests!");
}
