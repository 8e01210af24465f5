//! `otwatch sensor --interface lo` for real: tcpreplay replays a capture onto loopback, SIGTERM stops the sensor, nothing is lost.
//!
//! Needs the `live` feature (libpcap-dev), root or CAP_NET_RAW, and
//! tcpreplay (`apt-get install tcpreplay`); it fails loudly without them.
#![cfg(feature = "live")]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn pcaps_dir() -> PathBuf {
    let dir = match std::env::var_os("OTWATCH_PCAPS") {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/pcaps"),
    };
    assert!(dir.is_dir(), "capture corpus not found at {} (set OTWATCH_PCAPS)", dir.display());
    dir
}

fn otwatch(dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_otwatch"));
    c.arg("--data-dir").arg(dir).env_remove("OTWATCH_CONFIG").current_dir(dir);
    c
}

#[test]
fn live_capture_stops_cleanly_on_sigterm_with_nothing_lost() {
    let dir = tempfile::tempdir().unwrap();
    let file = pcaps_dir().join("modbus/modbusSmall.pcap");
    // Every packet of this capture is to or from this address; nothing else on lo is.
    let mut sensor = otwatch(dir.path())
        .args(["sensor", "--interface", "lo", "--filter", "host 118.189.96.132", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start otwatch sensor");
    std::thread::sleep(Duration::from_millis(1500));
    let status = Command::new("tcpreplay")
        .args(["--intf1=lo", "--topspeed", "--quiet"])
        .arg(&file)
        .status()
        .expect("run tcpreplay (apt-get install tcpreplay)");
    assert!(status.success(), "tcpreplay failed: {status}");
    std::thread::sleep(Duration::from_millis(1000));
    let pid = sensor.id().to_string();
    let kill = Command::new("kill").args(["-TERM", &pid]).status().expect("kill");
    assert!(kill.success());
    let started = Instant::now();
    let out = loop {
        if let Some(_s) = sensor.try_wait().unwrap() {
            break sensor.wait_with_output().unwrap();
        }
        assert!(started.elapsed() < Duration::from_secs(20), "sensor did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(
        out.status.success(),
        "sensor failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    assert_eq!(report["packets"], 166, "{report}");

    // Everything captured reached the store: connection packets add up to
    // the capture's IP packets.
    let conns = otwatch(dir.path())
        .args(["connections", "list", "--format", "json", "--limit", "10000"])
        .output()
        .unwrap();
    assert!(conns.status.success());
    let conns: serde_json::Value = serde_json::from_slice(&conns.stdout).unwrap();
    let packets: u64 = conns
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| matches!(c["transport"].as_str(), Some("tcp" | "udp" | "icmp")))
        .map(|c| c["packets"].as_u64().unwrap())
        .sum();
    let truth: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(pcaps_dir().join("modbus/modbusSmall.pcap.truth.json")).unwrap(),
    )
    .unwrap();
    let expected: u64 = truth["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["packets"].as_u64().unwrap())
        .sum();
    assert_eq!(packets, expected);
    let devices =
        otwatch(dir.path()).args(["devices", "list", "--format", "json"]).output().unwrap();
    let devices: serde_json::Value = serde_json::from_slice(&devices.stdout).unwrap();
    let plc = devices
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["ip"] == "118.189.96.132")
        .expect("the Modbus server is in the inventory");
    assert_eq!(plc["type"], "PLC", "{plc}");
}
