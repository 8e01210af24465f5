//! End to end: every scenario of the plant simulator raises exactly the alerts it documents.
//!
//! The contract is `Scenario::expected_alerts` (`docs/simulator.md`, "Expected alerts"):
//! learn on the clean plant, then run the capture made with the same options plus one
//! scenario in operational mode; the alerts in the store must be exactly the documented
//! ones, matched one to one — type, source, destination, protocol and the key details
//! (function codes, classes, services, objects, firmware revisions; not the counts, reasons
//! and feed names the lists give in words) — and no others. The clean capture itself, run again in
//! operational mode, must raise nothing.
//!
//! Captures come from the simulator in a temporary directory (`otwatch_sim::generate`);
//! learning, detection and the alert list go through the real `otwatch` binary, so the
//! configuration defaults, the store's de-duplication and the indicator feed flag are the
//! product's. The plant is learned once and the database copied per scenario (`otwatch db
//! backup`); scenarios run on two threads. Every mismatch of every scenario is reported at
//! once.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use otwatch_sim::{Manifest, Options, Scenario, ScenarioRun, generate};

#[allow(dead_code)]
mod support;
use support::{json, ok};

const SEC: u64 = 1_000_000;
/// Every scenario starts one minute into the capture.
const OFFSET: u64 = 60 * SEC;
const SEED: u64 = 7;

/// One capture length for every scenario (so the plant is learned once): the offset, the
/// longest time a scenario needs after it, and a margin.
fn duration() -> u64 {
    let tail = Scenario::ALL.iter().map(|s| s.min_tail_us()).max().unwrap_or(0);
    OFFSET + tail + 10 * SEC
}

/// Writes the plant with `scenarios` to `path`; returns the manifest.
fn capture(path: &Path, scenarios: Vec<ScenarioRun>) -> Manifest {
    let opts =
        Options { seed: SEED, duration_us: Some(duration()), scenarios, ..Options::default() };
    let file = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let (manifest, mut w) = generate(&opts, file).unwrap();
    w.flush().unwrap();
    manifest
}

/// Runs the sensor on `pcap` in `mode`; returns the detection report.
fn sensor(dir: &Path, pcap: &Path, mode: &str, extra: &[&str]) -> serde_json::Value {
    let mut args: Vec<&str> = extra.to_vec();
    args.extend(["sensor", "--json", "--mode", mode, "--pcap", pcap.to_str().unwrap()]);
    let report = json(dir, &args);
    assert_eq!(report["detect"]["mode"], mode, "{report}");
    report["detect"].clone()
}

/// An alert as the contract names it: type, source IP, destination IP.
type Key = (String, Option<String>, Option<String>);

/// One expected or stored alert: its key and its detail fields.
#[derive(Clone, Debug)]
struct Alert {
    key: Key,
    /// The protocol; an expected alert without one does not compare it.
    protocol: Option<String>,
    details: BTreeMap<String, String>,
    /// For messages: the occurrence count of a stored alert.
    note: String,
}

/// Detail fields the expected lists give as documentation, not compared: counts (the
/// lists give the scenario's total, an alert the count that crossed the threshold), the
/// reason in words (an alert names its anomaly flags) and the feed (an alert names the
/// feed file).
const NOT_COMPARED: [&str; 4] = ["count", "ports", "reason", "feed"];

/// Whether a stored alert's details hold every compared expected detail. Firmware
/// revisions compare as numbers (`20.13` and `20.013` are the same CIP revision).
fn details_match(expected: &BTreeMap<String, String>, stored: &BTreeMap<String, String>) -> bool {
    let revision = |v: &str| -> Vec<Option<u64>> { v.split('.').map(|p| p.parse().ok()).collect() };
    expected.iter().filter(|(k, _)| !NOT_COMPARED.contains(&k.as_str())).all(|(k, v)| {
        stored
            .get(k)
            .is_some_and(|s| s == v || (k.starts_with("firmware") && revision(s) == revision(v)))
    })
}

/// The alerts in the store.
fn stored_alerts(dir: &Path) -> Vec<Alert> {
    let list = json(dir, &["alerts", "list", "--format", "json", "--limit", "10000"]);
    let ip = |v: &serde_json::Value| v["ip"].as_str().map(str::to_string);
    let text = |v: &serde_json::Value| v.as_str().map_or_else(|| v.to_string(), str::to_string);
    list.as_array()
        .unwrap()
        .iter()
        .map(|a| {
            let mut details = BTreeMap::new();
            for (k, v) in a["details"].as_object().into_iter().flatten() {
                details.insert(k.clone(), text(v));
            }
            Alert {
                key: (
                    a["type"].as_str().unwrap().to_string(),
                    ip(&a["source"]),
                    ip(&a["destination"]),
                ),
                protocol: a["protocol"].as_str().map(str::to_string),
                details,
                note: format!("{} occurrence(s)", a["occurrence_count"]),
            }
        })
        .collect()
}

fn show(a: &Alert) -> String {
    let side = |s: &Option<String>| s.clone().unwrap_or_else(|| "—".into());
    let mut text = format!("{} {} -> {}", a.key.0, side(&a.key.1), side(&a.key.2));
    if let Some(p) = &a.protocol {
        text.push_str(&format!(" over {p}"));
    }
    if !a.details.is_empty() {
        let d: Vec<String> = a.details.iter().map(|(k, v)| format!("{k}={v}")).collect();
        text.push_str(&format!(" [{}]", d.join(", ")));
    }
    if !a.note.is_empty() {
        text.push_str(&format!(" ({})", a.note));
    }
    text
}

/// Compares the stored alerts with the expected ones, one to one; returns the differences.
fn differences(expected: &[Alert], dir: &Path) -> Vec<String> {
    let stored = stored_alerts(dir);
    let mut used = vec![false; stored.len()];
    let mut out = Vec::new();
    // Exact matches first, so a near miss cannot take another alert's partner.
    let mut unmatched = Vec::new();
    for e in expected {
        let hit = (0..stored.len()).find(|&i| {
            !used[i]
                && stored[i].key == e.key
                && (e.protocol.is_none() || e.protocol == stored[i].protocol)
                && details_match(&e.details, &stored[i].details)
        });
        match hit {
            Some(i) => used[i] = true,
            None => unmatched.push(e),
        }
    }
    for e in unmatched {
        match (0..stored.len()).find(|&i| !used[i] && stored[i].key == e.key) {
            Some(i) => {
                used[i] = true;
                out.push(format!("  differs    {}\n    stored   {}", show(e), show(&stored[i])));
            }
            None => out.push(format!("  missing    {}", show(e))),
        }
    }
    for (i, a) in stored.iter().enumerate() {
        if !used[i] {
            out.push(format!("  unexpected {}", show(a)));
        }
    }
    out
}

fn copy_base(base: &Path, dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::copy(base, dir.join("otwatch.db")).unwrap();
}

#[test]
fn every_scenario_raises_exactly_its_documented_alerts() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();

    // Learn the clean plant once; the learning run itself raises nothing.
    let clean = root.join("clean.pcap");
    let clean_manifest = capture(&clean, Vec::new());
    assert!(clean_manifest.packets > 10_000, "{} packets", clean_manifest.packets);
    let learn = root.join("learn");
    std::fs::create_dir_all(&learn).unwrap();
    let report = sensor(&learn, &clean, "learning", &[]);
    assert_eq!(report["findings"], 0, "the clean plant raises nothing while learning: {report}");
    assert!(report["baseline_added"].as_u64().unwrap() > 100, "{report}");
    let base = root.join("baseline.db");
    ok(&learn, &["db", "backup", base.to_str().unwrap()]);

    // Each job: None is the clean plant again, Some(s) the plant with scenario s.
    let mut jobs: Vec<Option<Scenario>> = vec![None];
    jobs.extend(Scenario::ALL.iter().copied().map(Some));
    let next = AtomicUsize::new(0);
    let results: Mutex<BTreeMap<usize, (String, Vec<String>)>> = Mutex::new(BTreeMap::new());
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(job) = jobs.get(i).copied() else { break };
                    let (name, diffs) = run_job(root, &base, &clean, job);
                    results.lock().unwrap().insert(i, (name, diffs));
                }
            });
        }
    });

    let results = results.into_inner().unwrap();
    assert_eq!(results.len(), jobs.len());
    let mut report = String::new();
    for (name, diffs) in results.values() {
        if !diffs.is_empty() {
            report.push_str(&format!("{name}:\n{}\n", diffs.join("\n")));
        }
    }
    assert!(report.is_empty(), "alerts differ from the documented expectations:\n{report}");
}

/// Runs one job in its own data directory; returns its name and its differences.
fn run_job(root: &Path, base: &Path, clean: &Path, job: Option<Scenario>) -> (String, Vec<String>) {
    let name = job.map_or("clean plant", Scenario::name).to_string();
    let dir = root.join(name.replace(' ', "-"));
    copy_base(base, &dir);
    let mut expected: Vec<Alert> = Vec::new();
    let mut extra: Vec<String> = Vec::new();
    let pcap: PathBuf = match job {
        None => clean.to_path_buf(),
        Some(s) => {
            let pcap = dir.join("scenario.pcap");
            let m = capture(&pcap, vec![ScenarioRun { scenario: s, offset_us: OFFSET }]);
            assert_eq!(m.scenarios.len(), 1);
            for a in &m.scenarios[0].expected_alerts {
                expected.push(Alert {
                    key: (a.alert_type.to_string(), a.source.clone(), a.destination.clone()),
                    protocol: a.protocol.map(str::to_string),
                    details: a.details.iter().map(|(k, v)| (k.to_string(), v.clone())).collect(),
                    note: String::new(),
                });
            }
            assert!(!expected.is_empty(), "{name} documents no alert");
            if !m.indicator_feed.is_empty() {
                let feed = dir.join("bad-ips.txt");
                std::fs::write(&feed, m.feed_text()).unwrap();
                extra.push("--set".into());
                extra.push(format!("detect.indicator_feeds={}", feed.display()));
            }
            pcap
        }
    };
    let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
    sensor(&dir, &pcap, "operational", &extra);
    (name, differences(&expected, &dir))
}
