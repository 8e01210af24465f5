//! Conformance test: our summary against the tshark truth of every public capture.
//!
//! For every capture under `../shared/pcaps` (or `$OTWATCH_PCAPS`) with a
//! `*.truth.json` beside it, the summary computed by our own code is
//! compared key by key with the truth: the generic keys always, and the
//! listed per-protocol keys of every protocol section either side has (a
//! key missing from our summary is a difference; a section is skipped only
//! when its protocol's cargo feature is off). A table of
//! agreement per file is printed. Every difference must be explained in
//! `tests/known-differences.toml` (per file and key, with a reason), or the
//! test fails; so does an entry whose key agrees now.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use otwatch_sensor::summary::{self, SummaryError, SummaryOptions};
use serde_json::Value;

/// Generic keys, compared for every file (`protocols.ot_protocol_frames` per covered tag).
const GENERIC_KEYS: [&str; 7] = [
    "capture.packets",
    "capture.first_ts",
    "capture.last_ts",
    "addresses.macs",
    "addresses.ipv4",
    "addresses.ipv6",
    "addresses.vlan_ids",
];

/// Per-protocol keys compared wherever either side has the protocol's section (issue 3, point 5).
const PROTOCOL_KEYS: [(&str, &[&str]); 6] = [
    (
        "modbus",
        &[
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
    ),
    (
        "dnp3",
        &[
            "frames",
            "app_function_codes",
            "link_primary_function_codes",
            "master_addresses",
            "outstation_addresses",
            "objects",
        ],
    ),
    (
        "s7comm",
        &[
            "pdus",
            "rosctr",
            "job_functions",
            "ack_data_functions",
            "plc_stop_requests",
            "servers",
            "clients",
        ],
    ),
    (
        "iec104",
        &[
            "apdus",
            "apci_types",
            "u_functions",
            "asdu_type_ids",
            "causes_of_transmission",
            "common_addresses",
            "servers",
            "clients",
        ],
    ),
    (
        "bacnet",
        &[
            "frames",
            "bvlc_functions",
            "apdu_types",
            "confirmed_services",
            "unconfirmed_services",
            "i_am_devices",
        ],
    ),
    (
        "enip",
        &[
            "frames",
            "commands_tcp",
            "commands_udp",
            "cip_service_requests_top_level",
            "cip_service_responses_top_level",
        ],
    ),
];

fn pcaps_dir() -> PathBuf {
    let dir = match std::env::var_os("OTWATCH_PCAPS") {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/pcaps"),
    };
    assert!(
        dir.is_dir(),
        "capture corpus not found at {} (set OTWATCH_PCAPS to the shared/pcaps directory)",
        dir.display()
    );
    dir
}

fn captures(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if !p.to_string_lossy().ends_with(".truth.json") && truth_path(&p).exists() {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

fn truth_path(p: &Path) -> PathBuf {
    let mut s = p.as_os_str().to_owned();
    s.push(".truth.json");
    PathBuf::from(s)
}

#[derive(Debug, serde::Deserialize)]
struct Known {
    #[serde(default)]
    difference: Vec<KnownDifference>,
}

#[derive(Debug, serde::Deserialize)]
struct KnownDifference {
    file: String,
    key: String,
    reason: String,
}

fn known_differences() -> BTreeMap<(String, String), String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/known-differences.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let k: Known = toml::from_str(&text).unwrap();
    let mut m = BTreeMap::new();
    for d in k.difference {
        assert!(
            d.reason.trim().len() > 10,
            "known difference {}/{} needs a real reason",
            d.file,
            d.key
        );
        assert!(
            m.insert((d.file.clone(), d.key.clone()), d.reason).is_none(),
            "duplicate {}/{}",
            d.file,
            d.key
        );
    }
    m
}

fn get<'v>(v: &'v Value, dotted: &str) -> Option<&'v Value> {
    dotted.split('.').try_fold(v, |v, k| v.get(k))
}

/// Conversations as sorted canonical lines, so order does not matter.
fn conversation_lines(v: Option<&Value>) -> Vec<String> {
    let mut lines: Vec<String> = v
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|c| {
                    format!(
                        "{} -> {} {} {} packets={} bytes={}",
                        c["src"], c["dst"], c["transport"], c["dst_port"], c["packets"], c["bytes"]
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    lines.sort();
    lines
}

fn describe(ours: Option<&Value>, truth: Option<&Value>) -> String {
    if let (Some(Value::Array(a)), Some(Value::Array(b))) = (ours, truth) {
        let only = |x: &Vec<Value>, y: &Vec<Value>| {
            x.iter()
                .filter(|v| !y.contains(v))
                .take(8)
                .map(Value::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        };
        return format!("only ours [{}] / only truth [{}]", only(a, b), only(b, a));
    }
    let show = |v: Option<&Value>| {
        let s = v.map_or_else(|| "(missing)".to_owned(), Value::to_string);
        if s.len() > 300 { format!("{}…", &s[..300]) } else { s }
    };
    format!("ours {} / truth {}", show(ours), show(truth))
}

struct FileResult {
    name: String,
    agree: usize,
    compared: usize,
    generic_agree: usize,
    generic_compared: usize,
    known: usize,
    failures: Vec<String>,
}

fn compare_file(
    path: &Path,
    root: &Path,
    known: &BTreeMap<(String, String), String>,
    seen: &mut Vec<(String, String)>,
) -> FileResult {
    let name = path.strip_prefix(root).unwrap().to_string_lossy().replace('\\', "/");
    let truth: Value =
        serde_json::from_str(&std::fs::read_to_string(truth_path(path)).unwrap()).unwrap();
    let ours = match summary::summarize(&[path.to_path_buf()], &SummaryOptions::default()) {
        Ok(v) => v,
        Err(SummaryError::Damaged { error, partial, .. }) => {
            eprintln!("{name}: {error}");
            *partial
        }
        Err(e) => panic!("{name}: {e}"),
    };
    let mut r = FileResult {
        name: name.clone(),
        agree: 0,
        compared: 0,
        generic_agree: 0,
        generic_compared: 0,
        known: 0,
        failures: Vec::new(),
    };
    let mut check = |key: String, equal: bool, detail: String| {
        r.compared += 1;
        let generic = !PROTOCOL_KEYS.iter().any(|(p, _)| key.split('.').next() == Some(*p));
        if generic {
            r.generic_compared += 1;
            r.generic_agree += usize::from(equal);
        }
        let k = (name.clone(), key.clone());
        match (equal, known.get(&k)) {
            (true, None) => r.agree += 1,
            (true, Some(_)) => {
                // A stale entry would hide the next regression of this key.
                r.agree += 1;
                r.failures.push(format!(
                    "{key}: listed in known-differences.toml but agrees now: remove the entry"
                ));
                seen.push(k);
            }
            (false, Some(_)) => {
                r.known += 1;
                seen.push(k);
            }
            (false, None) => r.failures.push(format!("{key}: {detail}")),
        }
    };

    for key in GENERIC_KEYS {
        let (a, b) = (get(&ours, key), get(&truth, key));
        check(key.to_owned(), a == b, describe(a, b));
    }
    let (a, b) = (
        conversation_lines(ours.get("conversations")),
        conversation_lines(truth.get("conversations")),
    );
    let mut detail = String::new();
    for l in a.iter().filter(|l| !b.contains(l)).take(5) {
        let _ = write!(detail, "\n      only ours:  {l}");
    }
    for l in b.iter().filter(|l| !a.contains(l)).take(5) {
        let _ = write!(detail, "\n      only truth: {l}");
    }
    check("conversations".to_owned(), a == b, detail);
    let covered: Vec<String> = get(&ours, "protocols.ot_protocol_frames_covered")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|t| t.as_str().map(str::to_owned)).collect())
        .unwrap_or_default();
    for tag in &covered {
        let key = format!("protocols.ot_protocol_frames.{tag}");
        let count = |v: &Value| get(v, &key).and_then(Value::as_u64).unwrap_or(0);
        let (a, b) = (count(&ours), count(&truth));
        check(key, a == b, format!("ours {a} / truth {b}"));
    }

    let active = summary::active_protocols();
    for (proto, keys) in PROTOCOL_KEYS {
        let (ours_section, truth_section) = (ours.get(proto), truth.get(proto));
        match (ours_section, truth_section) {
            (None, None) => continue,
            (None, Some(_)) if !active.contains(&proto) => continue,
            (None, Some(_)) => {
                check(proto.to_owned(), false, "section missing from our summary".to_owned());
                continue;
            }
            _ => {}
        }
        for key in keys {
            // A key missing on either side is a difference like any other.
            let a = ours_section.and_then(|s| s.get(*key));
            let b = truth_section.and_then(|s| s.get(*key));
            if a.is_none() && b.is_none() {
                continue;
            }
            check(format!("{proto}.{key}"), a == b, describe(a, b));
        }
    }
    r
}

#[test]
fn summaries_agree_with_the_tshark_truth() {
    let root = pcaps_dir();
    let files = captures(&root);
    assert!(!files.is_empty(), "no captures with truth files under {}", root.display());
    let known = known_differences();
    let mut seen = Vec::new();
    let mut table = String::from(
        "\nfile                                                 generic   all keys  known  differ\n",
    );
    let mut failures = Vec::new();
    let mut totals = (0usize, 0usize, 0usize, 0usize);
    for f in &files {
        let r = compare_file(f, &root, &known, &mut seen);
        totals = (
            totals.0 + r.generic_agree,
            totals.1 + r.generic_compared,
            totals.2 + r.agree,
            totals.3 + r.compared,
        );
        let _ = writeln!(
            table,
            "{:<52} {:>3}/{:<3}  {:>3}/{:<3} {:>5} {:>7}",
            r.name,
            r.generic_agree,
            r.generic_compared,
            r.agree,
            r.compared,
            r.known,
            r.failures.len()
        );
        for fl in r.failures {
            failures.push(format!("{}: {fl}", r.name));
        }
    }
    let unused: Vec<_> = known.keys().filter(|k| !seen.contains(k)).collect();
    for (file, key) in &unused {
        let _ =
            writeln!(table, "note: known difference {file} / {key} was not compared in this run");
    }
    let (g, gc) = (totals.0, totals.1);
    let _ = writeln!(
        table,
        "generic keys: {g}/{gc} agree over {} files; all keys: {}/{}",
        files.len(),
        totals.2,
        totals.3
    );
    println!("{table}");
    assert!(
        failures.is_empty(),
        "{} unexplained differences:\n  {}",
        failures.len(),
        failures.join("\n  ")
    );
}
