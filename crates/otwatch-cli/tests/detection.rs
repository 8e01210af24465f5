//! Detection end to end through the `otwatch` binary: learn a simulated plant,
//! then run attacks over it — alerts with PCAP evidence tshark can read,
//! re-runs that add nothing, Learn / Unlearn / Mute honoured by the engines,
//! the baseline exported and imported, the auto mode switching once.

use std::path::{Path, PathBuf};
use std::process::Command;

#[allow(dead_code)]
mod support;
use support::{json, ok, otwatch};

/// A capture of the simulated plant (seed 3, 6 minutes from a fixed start) with the given scenarios.
fn simulate(dir: &Path, name: &str, start: &str, scenarios: &[&str]) -> PathBuf {
    let out = dir.join(name);
    let mut args = vec!["simulate", "--out", out.to_str().unwrap(), "--duration", "6m"];
    args.extend(["--seed", "3", "--devices", "12", "--start", start]);
    for s in scenarios {
        args.extend(["--scenario", s]);
    }
    ok(dir, &args);
    out
}

fn sensor(dir: &Path, pcap: &Path, mode: &str, extra: &[&str]) -> serde_json::Value {
    let mut args: Vec<&str> = extra.to_vec();
    args.extend(["sensor", "--json", "--mode", mode, "--pcap", pcap.to_str().unwrap()]);
    json(dir, &args)
}

fn alerts(dir: &Path) -> Vec<serde_json::Value> {
    json(dir, &["alerts", "list", "--format", "json", "--limit", "1000"])
        .as_array()
        .unwrap()
        .clone()
}

fn of_type<'a>(all: &'a [serde_json::Value], t: &str) -> Vec<&'a serde_json::Value> {
    all.iter().filter(|a| a["type"] == t).collect()
}

#[test]
fn learn_operate_evidence_rerun_learn_unlearn_mute_and_baseline_files() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let clean = simulate(dir, "clean.pcap", "2024-06-03T06:00:00Z", &[]);
    let stop = simulate(dir, "stop.pcap", "2024-06-03T06:10:00Z", &["s7-plc-stop@1m"]);

    // Learning: the baseline grows, policy alerts are held back.
    let r = sensor(dir, &clean, "learning", &[]);
    assert_eq!(r["detect"]["mode"], "learning", "{r}");
    assert!(r["detect"]["baseline_added"].as_u64().unwrap() > 50, "{r}");
    let policy: Vec<_> =
        alerts(dir).into_iter().filter(|a| a["engine"] == "Policy Violation").collect();
    assert!(policy.is_empty(), "policy alerts while learning: {policy:?}");

    // Operational: the stop raises its alerts, naming the HMI and the PLC.
    let r = sensor(dir, &stop, "operational", &[]);
    assert!(r["detect"]["alerts_opened"].as_u64().unwrap() >= 2, "{r}");
    assert!(r["detect"]["pcaps"].as_u64().unwrap() >= 2, "{r}");
    let all = alerts(dir);
    let stops = of_type(&all, "operational_s7_plc_stop");
    assert_eq!(stops.len(), 1, "{all:?}");
    let control = of_type(&all, "policy_s7_control_function");
    assert_eq!(control.len(), 1, "{all:?}");
    let (src, dst) = (control[0]["source"]["ip"].clone(), control[0]["destination"]["ip"].clone());
    assert_eq!(stops[0]["destination"]["ip"], dst, "{:?}", stops[0]);
    let count = all.len();

    // The evidence opens in tshark and holds the S7 PLC STOP job.
    let id = stops[0]["id"].as_i64().unwrap().to_string();
    let pcap = dir.join("stop-evidence.pcap");
    ok(dir, &["alerts", "pcap", &id, "--out", pcap.to_str().unwrap()]);
    let t = Command::new("tshark")
        .args(["-r", pcap.to_str().unwrap(), "-Y", "s7comm.param.func == 0x29", "-T", "fields"])
        .args(["-e", "frame.number"])
        .output()
        .expect("tshark is needed (apt-get install tshark; scripts/test installs it)");
    assert!(t.status.success(), "{}", String::from_utf8_lossy(&t.stderr));
    let frames = String::from_utf8_lossy(&t.stdout);
    assert!(frames.lines().count() >= 1, "no PLC STOP job in the evidence");

    // The same capture again: nothing new, nothing counted twice.
    let r = sensor(dir, &stop, "operational", &[]);
    assert_eq!(r["detect"]["alerts_opened"], 0, "{r}");
    let again = alerts(dir);
    assert_eq!(again.len(), count);
    assert_eq!(
        of_type(&again, "operational_s7_plc_stop")[0]["occurrence_count"],
        stops[0]["occurrence_count"]
    );

    // Learn the control-function alert: the same operation later raises no policy alert.
    let cid = control[0]["id"].as_i64().unwrap().to_string();
    ok(dir, &["alerts", "learn", &cid]);
    let later = simulate(dir, "later.pcap", "2024-06-03T06:20:00Z", &["s7-plc-stop@1m"]);
    sensor(dir, &later, "operational", &[]);
    let all = alerts(dir);
    let control_now = of_type(&all, "policy_s7_control_function");
    assert_eq!(control_now.len(), 1, "learned traffic alerted again: {control_now:?}");
    assert_eq!(control_now[0]["status"], "Closed");
    // The stop itself is not a baseline matter: it is reported again (the open alert counts it).
    let stop_now = of_type(&all, "operational_s7_plc_stop");
    assert!(
        stop_now.iter().map(|a| a["occurrence_count"].as_u64().unwrap()).sum::<u64>()
            > stops[0]["occurrence_count"].as_u64().unwrap(),
        "{stop_now:?}"
    );

    // The baseline file: readable lines, the learned alert among them; imported elsewhere.
    let exported = ok(dir, &["baseline", "export"]);
    assert!(exported.lines().count() > 50);
    assert!(
        exported.lines().any(|l| l.contains("\"kind\":\"alert\"")),
        "the learned alert is not in the baseline"
    );
    let file = dir.join("baseline.jsonl");
    std::fs::write(&file, &exported).unwrap();
    let other = tempfile::tempdir().unwrap();
    ok(other.path(), &["baseline", "import", file.to_str().unwrap()]);
    assert_eq!(ok(other.path(), &["baseline", "summary"]), ok(dir, &["baseline", "summary"]));
    // A broken line is refused with its number; the good ones are kept.
    let bad = dir.join("bad.jsonl");
    std::fs::write(&bad, format!("{}\n{{\"kind\":\n", exported.lines().next().unwrap())).unwrap();
    let o = otwatch(other.path(), &["baseline", "import", bad.to_str().unwrap()]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("line 2"), "{o:?}");

    // Unlearn: the operation alerts again on the next run.
    ok(dir, &["alerts", "unlearn", &cid]);
    let after = simulate(dir, "after.pcap", "2024-06-03T06:30:00Z", &["s7-plc-stop@1m"]);
    sensor(dir, &after, "operational", &[]);
    let all = alerts(dir);
    let open: Vec<_> = of_type(&all, "policy_s7_control_function")
        .into_iter()
        .filter(|a| a["status"] != "Closed")
        .collect();
    assert_eq!(open.len(), 1, "unlearned traffic did not alert again: {all:?}");
    assert_eq!(open[0]["source"]["ip"], src);

    // Mute the stop alert (an operational type: mutable, not learnable):
    // suppressed without learning (no baseline entry added for it).
    let stop_open: Vec<_> = of_type(&all, "operational_s7_plc_stop")
        .into_iter()
        .filter(|a| a["status"] != "Closed")
        .collect();
    assert_eq!(stop_open.len(), 1, "{all:?}");
    let mid = stop_open[0]["id"].as_i64().unwrap().to_string();
    let muted_count = stop_open[0]["occurrence_count"].clone();
    let before_mute = ok(dir, &["baseline", "summary"]);
    ok(dir, &["alerts", "mute", &mid]);
    let last = simulate(dir, "last.pcap", "2024-06-03T06:40:00Z", &["s7-plc-stop@1m"]);
    let r = sensor(dir, &last, "operational", &[]);
    assert!(r["detect"]["suppressed"].as_u64().unwrap() >= 1, "{r}");
    let all = alerts(dir);
    let stops: Vec<_> = of_type(&all, "operational_s7_plc_stop");
    assert!(stops.iter().all(|a| a["status"] == "Closed"), "muted traffic reopened: {stops:?}");
    let muted = stops.iter().find(|a| a["id"].as_i64().unwrap().to_string() == mid).unwrap();
    assert_eq!(muted["occurrence_count"], muted_count);
    assert_eq!(ok(dir, &["baseline", "summary"]), before_mute);
}

#[test]
fn auto_mode_learns_for_the_learning_period_then_operates_and_remembers() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let clean = simulate(dir, "clean.pcap", "2024-06-03T06:00:00Z", &[]);
    let period = ["--set", "sensor.learning_period=2m"];
    let r = sensor(dir, &clean, "auto", &period);
    assert_eq!(r["detect"]["mode"], "operational", "{r}");
    let ended = r["detect"]["learning_ended_at"].as_str().unwrap().to_string();
    assert!(ended.starts_with("2024-06-03T06:02:"), "{ended}");
    // The next run starts operational: the switch was stored.
    let later = simulate(dir, "later.pcap", "2024-06-03T06:10:00Z", &["new-device@1m"]);
    let r = sensor(dir, &later, "auto", &period);
    assert_eq!(r["detect"]["mode"], "operational", "{r}");
    assert!(r["detect"]["learning_ended_at"].is_null(), "{r}");
    let all = alerts(dir);
    assert!(!of_type(&all, "policy_new_asset").is_empty(), "{all:?}");
}
