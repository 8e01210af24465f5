//! Detection on the public captures: the capture → alerts table
//! (`detect-captures.toml`, rendered into `docs/detection.md`), learning on
//! one part of a capture and running the rest, and determinism.
//!
//! Reads the captures where they lie (`../shared/pcaps`, or
//! `OTWATCH_PCAPS`); fails loudly if they are absent. Runs the real
//! pipeline (intake, decoding, flows, dissectors, observe layer) into the
//! engines with the catalogue's default alert types.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use otwatch_detect::learn::facts_for_alert;
use otwatch_detect::{Engines, Finding, Mode, Settings};
use otwatch_model::catalog::builtin;
use otwatch_model::{BaselineEntry, Engine, Timestamp};
use otwatch_sensor::MergedCaptures;
use otwatch_sensor::observe::Observer;

fn pcaps_dir() -> PathBuf {
    let dir = match std::env::var_os("OTWATCH_PCAPS") {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/pcaps"),
    };
    assert!(dir.is_dir(), "capture corpus not found at {} (set OTWATCH_PCAPS)", dir.display());
    dir
}

fn engines(mode: Mode, baseline: &[BaselineEntry]) -> Engines {
    let mut s = Settings::new(builtin());
    s.mode = mode;
    let mut e = Engines::new(s, builtin());
    e.load_baseline(baseline);
    e
}

/// Runs packets `from..to` (0-based; `usize::MAX` for all) of a capture.
fn run_range(file: &str, e: &mut Engines, from: usize, to: usize) -> Vec<Finding> {
    let mut input = MergedCaptures::open(&[pcaps_dir().join(file)]).expect("open capture");
    let mut obs = Observer::new(Default::default());
    let mut buf = Vec::new();
    let mut found = Vec::new();
    let mut last_tick = i64::MIN;
    let mut n = 0usize;
    while let Some(p) = input.next_packet() {
        n += 1;
        buf.clear();
        obs.process(&p, &mut buf);
        if n <= from {
            continue;
        }
        if n > to {
            break;
        }
        for o in &buf {
            e.observe(o);
        }
        let now = (p.ts_ns / 1000) as i64;
        if now.saturating_sub(last_tick) >= 1_000_000 {
            e.tick(Timestamp(now));
            last_tick = now;
        }
        found.extend(e.take_output().findings);
    }
    if to == usize::MAX {
        buf.clear();
        obs.finish(&mut buf);
        for o in &buf {
            e.observe(o);
        }
    }
    e.tick(e.now());
    e.finish();
    found.extend(e.take_output().findings);
    found
}

fn run(file: &str, e: &mut Engines) -> Vec<Finding> {
    run_range(file, e, 0, usize::MAX)
}

fn learned(file: &str, from: usize, to: usize) -> Vec<BaselineEntry> {
    let mut e = engines(Mode::Learning, &[]);
    run_range(file, &mut e, from, to);
    e.take_baseline_entries()
}

#[derive(serde::Deserialize)]
struct Table {
    capture: Vec<Row>,
}

#[derive(serde::Deserialize)]
struct Row {
    file: String,
    mode: String,
    #[serde(default)]
    alerts: Vec<String>,
    #[serde(default)]
    absent: Vec<String>,
    note: String,
}

fn table() -> Table {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/detect-captures.toml"),
    )
    .unwrap();
    toml::from_str(&text).unwrap()
}

/// "type [source] [-> destination]".
fn parse_expectation(e: &str) -> (String, Option<String>, Option<String>) {
    let (head, dst) = match e.split_once("->") {
        Some((h, d)) => (h.trim(), Some(d.trim().to_string())),
        None => (e.trim(), None),
    };
    let mut parts = head.split_whitespace();
    let ty = parts.next().unwrap_or_default().to_string();
    (ty, parts.next().map(str::to_string), dst)
}

fn label_is(ep: &otwatch_model::Endpoint, want: &str) -> bool {
    ep.ip.as_deref() == Some(want) || ep.mac.as_deref() == Some(want)
}

fn findings_of(row: &Row) -> Vec<Finding> {
    match row.mode.as_str() {
        "learning" => run(&row.file, &mut engines(Mode::Learning, &[])),
        "operational" => run(&row.file, &mut engines(Mode::Operational, &[])),
        "self-learned" => {
            let base = learned(&row.file, 0, usize::MAX);
            run(&row.file, &mut engines(Mode::Operational, &base))
        }
        other => panic!("{}: unknown mode {other:?}", row.file),
    }
}

#[test]
fn captures_raise_the_expected_alerts() {
    let mut failures = Vec::new();
    for row in table().capture {
        let found = findings_of(&row);
        let types: BTreeSet<&str> = found.iter().map(|f| f.detection.alert_type.as_str()).collect();
        if row.mode == "self-learned" && !found.is_empty() {
            failures.push(format!(
                "{}: learned on itself, it still raised {types:?}, e.g. {:?}",
                row.file, found[0].detection
            ));
        }
        for exp in &row.alerts {
            let (ty, src, dst) = parse_expectation(exp);
            assert!(builtin().get(&ty).is_some(), "{}: unknown type {ty}", row.file);
            let ok = found.iter().any(|f| {
                f.detection.alert_type == ty
                    && src.as_deref().is_none_or(|s| label_is(&f.detection.source, s))
                    && dst.as_deref().is_none_or(|d| label_is(&f.detection.destination, d))
            });
            if !ok {
                failures.push(format!("{}: expected {exp:?}; raised {types:?}", row.file));
            }
        }
        for ty in &row.absent {
            if types.contains(ty.as_str()) {
                failures.push(format!("{}: {ty} must not be raised", row.file));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The markdown table for docs/detection.md.
fn render() -> String {
    let mut out =
        String::from("| capture | mode | alerts (checked) | what it is |\n|---|---|---|---|\n");
    for row in table().capture {
        let alerts = if row.alerts.is_empty() {
            "none".to_string()
        } else {
            row.alerts
                .iter()
                .map(|a| {
                    let (ty, src, dst) = parse_expectation(a);
                    let name = builtin().get(&ty).map_or(ty.clone(), |t| t.name.clone());
                    let mut s = format!("{name} (`{ty}`)");
                    if let Some(src) = src {
                        s.push_str(&format!(" from {src}"));
                    }
                    if let Some(dst) = dst {
                        s.push_str(&format!(" to {dst}"));
                    }
                    s
                })
                .collect::<Vec<_>>()
                .join("; ")
        };
        out.push_str(&format!("| `{}` | {} | {alerts} | {} |\n", row.file, row.mode, row.note));
    }
    out
}

#[test]
fn the_table_in_the_docs_is_current() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/detection.md");
    let doc = std::fs::read_to_string(&path).expect("docs/detection.md");
    let (begin, end) = ("<!-- captures:begin -->\n", "<!-- captures:end -->");
    let b = doc.find(begin).expect("captures:begin marker") + begin.len();
    let e = doc.find(end).expect("captures:end marker");
    let table = render();
    if std::env::var_os("OTWATCH_UPDATE_DOCS").is_some() {
        let new = format!("{}{table}{}", &doc[..b], &doc[e..]);
        std::fs::write(&path, new).unwrap();
        return;
    }
    assert_eq!(
        &doc[b..e],
        table,
        "docs/detection.md is out of date: run with OTWATCH_UPDATE_DOCS=1"
    );
}

/// Learning on the first part of a capture and running the rest raises
/// policy alerts only for facts the first part did not have, the other
/// engines raise what they raise without a baseline, and once those policy
/// alerts are learned the rest runs quiet.
#[test]
fn learning_on_one_part_then_running_the_rest() {
    for (file, split) in [
        ("mixed/mb2.pcap", 6000),
        ("enip/Plant1_EthernetIP-CIP.pcap", 5000),
        ("s7comm/s7comm_clean.pcap", 2000),
        ("bacnet/bacnet-services.cap", 3000),
        ("dnp3/dnp3_example.pcap", 400),
        ("iec104/104deneme.pcap", 400),
    ] {
        let base = learned(file, 0, split);
        let mut op = engines(Mode::Operational, &base);
        let rest = run_range(file, &mut op, split, usize::MAX);
        // The other engines on the rest, without any baseline.
        let plain: BTreeSet<String> =
            run_range(file, &mut engines(Mode::Learning, &[]), split, usize::MAX)
                .into_iter()
                .map(|f| f.detection.alert_type)
                .collect();
        let mut known = otwatch_detect::Baseline::new();
        known.load(&base);
        let mut facts = Vec::new();
        for f in &rest {
            let d = &f.detection;
            let engine = builtin().get(&d.alert_type).map(|t| t.engine);
            if engine != Some(Engine::PolicyViolation) {
                assert!(
                    plain.contains(&d.alert_type),
                    "{file}: {} is not raised without a baseline",
                    d.alert_type
                );
                continue;
            }
            let mut details = d.key.clone();
            details.extend(d.details.clone());
            let fs = facts_for_alert(
                &d.alert_type,
                &d.source,
                &d.destination,
                d.protocol.as_deref(),
                &details,
            );
            assert!(!fs.is_empty(), "{file}: no fact for {d:?}");
            assert!(
                fs.iter().any(|f| !known.knows(f.kind, &f.parts())),
                "{file}: {} raised for traffic the first part taught: {d:?}",
                d.alert_type
            );
            facts.extend(fs);
        }
        // Learn them: the rest is quiet for the policy engine.
        let mut again = engines(Mode::Operational, &base);
        again.set_learned_alerts(BTreeSet::new(), &facts);
        let policy: Vec<String> = run_range(file, &mut again, split, usize::MAX)
            .into_iter()
            .filter(|f| {
                builtin().get(&f.detection.alert_type).map(|t| t.engine)
                    == Some(Engine::PolicyViolation)
            })
            .map(|f| format!("{:?}", f.detection))
            .collect();
        assert!(policy.is_empty(), "{file}: still raised after learning: {policy:#?}");
    }
}

#[test]
fn the_same_capture_gives_byte_identical_detections() {
    for file in ["mixed/mb2.pcap", "scans/nmap_synscan.pcap", "dnp3/bro_dnp3.pcap"] {
        let json = || {
            run(file, &mut engines(Mode::Operational, &[]))
                .iter()
                .map(|f| serde_json::to_string(&f.detection).unwrap())
                .collect::<Vec<_>>()
                .join("\n")
        };
        let (a, b) = (json(), json());
        assert!(!a.is_empty());
        assert_eq!(a, b, "{file}");
    }
}
