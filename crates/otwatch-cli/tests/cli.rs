//! End-to-end tests of the `otwatch` command: the real binary, a real data directory.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

#[allow(dead_code)]
mod support;
use support::{json, ok, otwatch};

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn ingest_text(dir: &Path, lines: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_otwatch"))
        .arg("--data-dir")
        .arg(dir)
        .args(["ingest", "-", "--json"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .current_dir(dir)
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(lines.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

const LINES: &str = r#"{"type":"policy_modbus_function_code","time":"2024-03-02T10:00:00Z","source":{"ip":"10.0.0.5","name":"=HYPERLINK(\"http://x\")"},"destination":{"ip":"10.0.0.9"},"protocol":"Modbus","site":"Plant A","key":{"function_code":"16"}}
{"type":"policy_modbus_function_code","time":"2024-03-02T10:00:05Z","source":{"ip":"10.0.0.5"},"destination":{"ip":"10.0.0.9"},"protocol":"Modbus","site":"Plant A","key":{"function_code":"16"}
{"type":"policy_modbus_function_code","time":"2024-03-02T10:00:09Z","source":{"ip":"10.0.0.5"},"destination":{"ip":"10.0.0.9"},"protocol":"Modbus","site":"Plant A","key":{"function_code":"16"}}

{"type":"no_such_alert","time":"2024-03-02T10:01:00Z"}
{"type":"operational_s7_plc_stop","time":"2024-03-02T10:02:00Z","source":{"ip":"10.0.0.66"},"destination":{"ip":"10.0.0.20"},"protocol":"S7comm","sevrity":"High"}
{"type":"operational_s7_plc_stop","time":"2024-03-02T10:02:00Z","source":{"ip":"10.0.0.66"},"destination":{"ip":"10.0.0.20"},"protocol":"S7comm","site":"Plant B"}
"#;

#[test]
fn ingest_reports_bad_lines_and_keeps_good_ones() {
    let dir = tempfile::tempdir().unwrap();
    let o = ingest_text(dir.path(), LINES);
    assert_eq!(o.status.code(), Some(1), "rejected lines make the exit code 1");
    let err = text(&o.stderr);
    assert!(err.contains("line 2: EOF while parsing"), "{err}");
    assert!(err.contains("line 5: unknown alert type \"no_such_alert\""), "{err}");
    assert!(err.contains("line 6: unknown field `sevrity`"), "{err}");
    let summary: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(summary["lines"], 6);
    assert_eq!(summary["accepted"], 3);
    assert_eq!(summary["opened"], 2);
    assert_eq!(summary["updated"], 1);
    let alerts = json(dir.path(), &["alerts", "list", "--format", "json"]);
    let alerts = alerts.as_array().unwrap();
    assert_eq!(alerts.len(), 2);
    let modbus = alerts.iter().find(|a| a["type"] == "policy_modbus_function_code").unwrap();
    assert_eq!(modbus["occurrence_count"], 2);
    assert_eq!(modbus["first_detection"], "2024-03-02T10:00:00Z");
    assert_eq!(modbus["last_detection"], "2024-03-02T10:00:09Z");
    assert_eq!(modbus["source"]["ip"], "10.0.0.5");
    assert_eq!(modbus["status"], "New");
    assert_eq!(modbus["engine"], "Policy Violation");
    // Re-sending the same input changes nothing.
    let again = ingest_text(dir.path(), LINES);
    let s2: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(
        (s2["opened"].as_u64(), s2["updated"].as_u64(), s2["duplicates"].as_u64()),
        (Some(0), Some(0), Some(3))
    );
    assert_eq!(
        json(dir.path(), &["alerts", "list", "--format", "json"]).as_array().unwrap().len(),
        2
    );
}

#[test]
fn triage_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    ingest_text(dir.path(), LINES);
    let list = json(dir.path(), &["alerts", "list", "--format", "json", "--sort", "id"]);
    let (modbus, stop) = (list[0]["id"].as_i64().unwrap(), list[1]["id"].as_i64().unwrap());
    let (m, s) = (modbus.to_string(), stop.to_string());
    // A forbidden transition is refused with the reason and changes nothing.
    let o = otwatch(dir.path(), &["alerts", "learn", &s]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stdout).contains("cannot be learned"), "{}", text(&o.stdout));
    assert_eq!(
        json(dir.path(), &["alerts", "show", &s, "--format", "json"])["alert"]["status"],
        "New"
    );
    // Bulk status and severity.
    let out =
        ok(dir.path(), &["alerts", "set", "--status", "Active", "--severity", "Critical", &m, &s]);
    assert!(out.contains(&format!("alert {modbus}: set status")), "{out}");
    let shown = json(dir.path(), &["alerts", "show", &m, "--format", "json"]);
    assert_eq!(shown["alert"]["status"], "Active");
    assert_eq!(shown["alert"]["severity"], "Critical");
    assert_eq!(
        shown["mitre"]["techniques"][0]["url"],
        "https://attack.mitre.org/techniques/T0836/"
    );
    ok(dir.path(), &["alerts", "comment", &m, "Engineering confirmed the new HMI screen."]);
    ok(dir.path(), &["alerts", "learn", &m]);
    ok(dir.path(), &["alerts", "mute", &s]);
    let shown = json(dir.path(), &["alerts", "show", &m, "--format", "json"]);
    assert_eq!(shown["alert"]["disposition"], "learned");
    assert_eq!(shown["comments"][0]["text"], "Engineering confirmed the new HMI screen.");
    let actions: Vec<&str> = shown["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["set_status", "set_severity", "comment", "learn"]);
    assert_eq!(shown["history"][0]["actor"]["kind"], "cli");
    // The learned and muted traffic no longer raises alerts.
    let replay = r#"{"type":"policy_modbus_function_code","time":"2024-03-03T10:00:00Z","source":{"ip":"10.0.0.5"},"destination":{"ip":"10.0.0.9"},"protocol":"Modbus","site":"Plant A","key":{"function_code":"16"}}
{"type":"operational_s7_plc_stop","time":"2024-03-03T10:02:00Z","source":{"ip":"10.0.0.66"},"destination":{"ip":"10.0.0.20"},"protocol":"S7comm","site":"Plant B"}
"#;
    let s2: serde_json::Value =
        serde_json::from_slice(&ingest_text(dir.path(), replay).stdout).unwrap();
    assert_eq!(
        (s2["suppressed_learned"].as_u64(), s2["suppressed_muted"].as_u64(), s2["opened"].as_u64()),
        (Some(1), Some(1), Some(0))
    );
    ok(dir.path(), &["alerts", "unmute", &s]);
    let o = otwatch(dir.path(), &["alerts", "unmute", &s]);
    assert!(!o.status.success() && text(&o.stdout).contains("not muted"));
    // Unknown ids.
    let o = otwatch(dir.path(), &["alerts", "show", "999"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).contains("alert 999 not found"), "{}", text(&o.stderr));
    let o = otwatch(dir.path(), &["alerts", "set", "--status", "Closed", "999"]);
    assert!(!o.status.success() && text(&o.stdout).contains("alert 999 not found"));
}

#[test]
fn list_filters_groups_and_exports() {
    let dir = tempfile::tempdir().unwrap();
    let generated =
        ok(dir.path(), &["gen-alerts", "--count", "3000", "--distinct", "120", "--seed", "7"]);
    let o = ingest_text(dir.path(), &generated);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let all = json(dir.path(), &["alerts", "list", "--format", "json", "--limit", "1000"]);
    let all = all.as_array().unwrap();
    assert_eq!(all.len(), 120);
    let total_occ: u64 = all.iter().map(|a| a["occurrence_count"].as_u64().unwrap()).sum();
    assert_eq!(total_occ, 3000);
    // Group-by counts agree with the list.
    let g = json(dir.path(), &["alerts", "list", "--group-by", "severity", "--format", "json"]);
    assert_eq!(g["total"], 120);
    for grp in g["groups"].as_array().unwrap() {
        let n = all.iter().filter(|a| a["severity"] == grp["value"]).count();
        assert_eq!(grp["count"].as_u64().unwrap() as usize, n);
    }
    // Filters.
    let crit = json(
        dir.path(),
        &[
            "alerts",
            "list",
            "--format",
            "json",
            "--severity",
            "High",
            "--site",
            "Plant A",
            "--limit",
            "1000",
        ],
    );
    let want = all.iter().filter(|a| a["severity"] == "Critical" && a["site"] == "Plant A").count();
    assert_eq!(crit.as_array().unwrap().len(), want);
    let f = json(
        dir.path(),
        &[
            "alerts",
            "list",
            "--format",
            "json",
            "--filter",
            "occurrence_count>=30",
            "--limit",
            "1000",
        ],
    );
    assert!(f.as_array().unwrap().iter().all(|a| a["occurrence_count"].as_u64().unwrap() >= 30));
    // Paging with the printed cursor visits everything once.
    let mut seen = std::collections::BTreeSet::new();
    let mut after: Option<String> = None;
    loop {
        let mut args = vec!["alerts", "list", "--limit", "50", "--sort", "-severity"];
        if let Some(a) = &after {
            args.push("--after");
            args.push(a);
        }
        let out = ok(dir.path(), &args);
        for line in out.lines().skip(1) {
            let mut words = line.split_whitespace();
            let (first, second) = (words.next(), words.next());
            if !matches!(second, Some("Critical" | "Major" | "Minor" | "Warning")) {
                continue;
            }
            if let Some(id) = first.and_then(|w| w.parse::<i64>().ok()) {
                assert!(seen.insert(id), "{id} twice");
            }
        }
        after = out.lines().find_map(|l| l.strip_prefix("next page: --after ")).map(String::from);
        if after.is_none() {
            break;
        }
    }
    assert_eq!(seen.len(), 120);
    // Export streams every matching row as CSV.
    let csv = ok(dir.path(), &["alerts", "export", "--format", "csv", "--engine", "Anomaly"]);
    let rows: Vec<&str> = csv.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(rows.len() - 1, all.iter().filter(|a| a["engine"] == "Anomaly").count());
    assert!(rows[0].starts_with("ID,Severity,Name,Type,Engine"), "{}", rows[0]);
    let out_file = dir.path().join("x.csv");
    let msg = ok(
        dir.path(),
        &["alerts", "export", "-o", out_file.to_str().unwrap(), "--columns", "id,name"],
    );
    assert_eq!(msg.trim(), "exported 120 alerts");
    assert_eq!(std::fs::read_to_string(out_file).unwrap().lines().count(), 121);
    // Bad filters name the field.
    let o = otwatch(dir.path(), &["alerts", "list", "--severity", "urgent"]);
    assert!(
        text(&o.stderr).contains("severity: unknown severity \"urgent\""),
        "{}",
        text(&o.stderr)
    );
}

#[test]
fn exports_are_safe_to_open_in_a_spreadsheet() {
    let dir = tempfile::tempdir().unwrap();
    ingest_text(dir.path(), LINES);
    let csv = ok(dir.path(), &["alerts", "export", "--columns", "id,source_name,name"]);
    assert!(csv.contains("\"'=HYPERLINK(\"\"http://x\"\")\""), "{csv}");
}

#[test]
fn a_data_directory_from_a_newer_version_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    ingest_text(dir.path(), LINES);
    let db = dir.path().join("otwatch.db");
    let c =
        std::process::Command::new("sqlite3").arg(&db).arg("PRAGMA user_version = 99;").status();
    if !matches!(c, Ok(s) if s.success()) {
        panic!("this test needs the sqlite3 command (apt-get install sqlite3)");
    }
    let o = otwatch(dir.path(), &["alerts", "list"]);
    assert_eq!(o.status.code(), Some(1));
    let e = text(&o.stderr);
    assert!(e.contains("schema version 99") && e.contains("upgrade otwatch"), "{e}");
}

#[test]
fn config_errors_are_all_reported() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("bad.toml");
    std::fs::write(&cfg, "[server]\nlisten = \"x\"\n[log]\nformat = \"xml\"\n[lifecycle]\nauto_close_after = \"soon\"\n").unwrap();
    let o = otwatch(dir.path(), &["--config", cfg.to_str().unwrap(), "config", "check"]);
    assert_eq!(o.status.code(), Some(1));
    let e = text(&o.stderr);
    assert!(e.contains("3 problems"), "{e}");
    assert!(
        e.contains("bad.toml:2: server.listen")
            && e.contains("bad.toml:4: log.format")
            && e.contains("bad.toml:6: lifecycle.auto_close_after"),
        "{e}"
    );
    let good = dir.path().join("good.toml");
    std::fs::write(&good, ok(dir.path(), &["config", "example"])).unwrap();
    assert!(
        ok(dir.path(), &["--config", good.to_str().unwrap(), "config", "check"])
            .contains("configuration OK")
    );
    let shown = ok(
        dir.path(),
        &[
            "--config",
            good.to_str().unwrap(),
            "--set",
            "server.admin_password=s3cret!",
            "config",
            "show",
        ],
    );
    assert!(shown.contains("<redacted>") && !shown.contains("s3cret"), "{shown}");
}

#[test]
fn json_logs_are_structured() {
    let dir = tempfile::tempdir().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_otwatch"))
        .arg("--data-dir")
        .arg(dir.path())
        .args(["--log-format", "json", "--log-level", "debug", "alerts", "list"])
        .output()
        .unwrap();
    assert!(o.status.success());
    let first = text(&o.stderr).lines().next().unwrap_or("").to_string();
    let v: serde_json::Value =
        serde_json::from_str(&first).unwrap_or_else(|_| panic!("not JSON: {first}"));
    assert_eq!(v["level"], "DEBUG");
    assert_eq!(v["fields"]["message"], "Store opened.");
}

#[test]
fn catalog_prints_every_type() {
    let dir = tempfile::tempdir().unwrap();
    let v = json(dir.path(), &["catalog", "--format", "json"]);
    let types = v.as_array().unwrap();
    assert_eq!(types.len(), otwatch_model::catalog::builtin().types().len());
    assert!(types.iter().all(|t| t["remediation"].as_array().is_some_and(|r| !r.is_empty())));
    let table = ok(dir.path(), &["catalog", "--engine", "anomaly"]);
    assert!(table.contains("anomaly_port_scan") && !table.contains("policy_new_asset"));
}

/// A sensor and a console share one data directory as two processes: one
/// ingests while the other triages. Nothing is lost or duplicated.
#[test]
fn two_processes_share_a_data_directory() {
    let dir = tempfile::tempdir().unwrap();
    let generated =
        ok(dir.path(), &["gen-alerts", "--count", "20000", "--distinct", "2000", "--seed", "3"]);
    let file = dir.path().join("in.jsonl");
    std::fs::write(&file, generated).unwrap();
    let ingester = Command::new(env!("CARGO_BIN_EXE_otwatch"))
        .arg("--data-dir")
        .arg(dir.path())
        .args(["--set", "ingest.batch_size=500", "ingest", file.to_str().unwrap(), "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut closed = 0;
    for _ in 0..30 {
        let page = json(
            dir.path(),
            &["alerts", "list", "--format", "json", "--status", "New", "--limit", "20"],
        );
        let ids: Vec<String> =
            page.as_array().unwrap().iter().map(|a| a["id"].to_string()).collect();
        if ids.is_empty() {
            continue;
        }
        let mut args = vec!["alerts", "set", "--status", "Closed"];
        args.extend(ids.iter().map(String::as_str));
        let out = ok(dir.path(), &args);
        closed += out.lines().filter(|l| l.ends_with("set status")).count();
    }
    let o = ingester.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", text(&o.stderr));
    let s: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(s["accepted"], 20000);
    let g = json(dir.path(), &["alerts", "list", "--group-by", "status", "--format", "json"]);
    assert_eq!(g["total"].as_u64(), s["opened"].as_u64(), "every opened alert stored once");
    let closed_now = g["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["value"] == "Closed")
        .map(|x| x["count"].as_u64().unwrap())
        .unwrap_or(0);
    assert_eq!(closed_now as usize, closed);
    let occ: u64 = json(dir.path(), &["alerts", "list", "--format", "json", "--limit", "10000"])
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["occurrence_count"].as_u64().unwrap())
        .sum();
    assert_eq!(occ, 20000, "every detection counted exactly once");
    let check = Command::new("sqlite3")
        .arg(dir.path().join("otwatch.db"))
        .arg("PRAGMA integrity_check;")
        .output()
        .expect("sqlite3 is needed (apt-get install sqlite3)");
    assert_eq!(text(&check.stdout).trim(), "ok");
}

/// `otwatch db backup` while another process ingests; `db restore` refuses a
/// data directory in use, then restores it; `db check` and `db stats`.
#[test]
fn db_backup_restore_and_retention() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let generated = ok(dir.path(), &["gen-alerts", "--count", "30000", "--distinct", "3000"]);
    let file = dir.path().join("in.jsonl");
    std::fs::write(&file, generated).unwrap();
    let d = data.to_str().unwrap();
    std::fs::create_dir_all(&data).unwrap();
    let ingester = Command::new(env!("CARGO_BIN_EXE_otwatch"))
        .args(["--data-dir", d, "--set", "ingest.batch_size=300", "ingest", file.to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(400));
    let backup = dir.path().join("backup.db");
    let out = ok(&data, &["db", "backup", backup.to_str().unwrap()]);
    assert!(out.contains("backup written"), "{out}");
    // Restore is refused while a process has the directory open.
    let o = Command::new(env!("CARGO_BIN_EXE_otwatch"))
        .args(["--data-dir", d, "db", "restore", backup.to_str().unwrap()])
        .output()
        .unwrap();
    let refused = !o.status.success() && text(&o.stderr).contains("in use");
    let status = ingester.wait_with_output().unwrap().status;
    assert!(status.success());
    if !refused {
        // The ingester may have finished before the restore ran; then the restore was allowed.
        assert!(text(&o.stdout).contains("restored"), "{}", text(&o.stderr));
    }
    let total_before = json(&data, &["alerts", "list", "--group-by", "status", "--format", "json"])
        ["total"]
        .as_u64()
        .unwrap();
    assert_eq!(total_before, 3000);
    let o = Command::new(env!("CARGO_BIN_EXE_otwatch"))
        .args(["--data-dir", d, "db", "restore", backup.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o.stderr));
    let restored =
        json(&data, &["alerts", "list", "--group-by", "status", "--format", "json"])["total"]
            .as_u64()
            .unwrap();
    assert!(restored <= total_before);
    assert!(data.join("otwatch.db.previous").exists());
    assert!(ok(&data, &["db", "check"]).contains("ok"));
    assert!(ok(&data, &["db", "stats"]).contains("alerts"));
    // Retention keeps alerts that were active recently even when their traffic is
    // old (a replayed 2024 capture ingested today); age alone does not delete them.
    let out = ok(&data, &["--set", "retention.alerts_max_age=30d", "db", "retention"]);
    assert!(out.contains("removed 0 alert(s)"), "{out}");
    assert_eq!(
        json(&data, &["alerts", "list", "--format", "json", "--limit", "5000"])
            .as_array()
            .unwrap()
            .len() as u64,
        restored
    );
    // A count limit: ingest everything again (the restored backup lacks the late
    // batches), then keep 1,000 alerts; the least recently touched go.
    ok(&data, &["ingest", file.to_str().unwrap()]);
    let out = ok(&data, &["--set", "retention.alerts_max_count=1000", "db", "retention"]);
    assert!(out.contains("removed 2000 alert(s)"), "{out}");
    assert_eq!(
        json(&data, &["alerts", "list", "--group-by", "status", "--format", "json"])["total"],
        1000
    );
}

#[test]
fn hunting_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    ingest_text(dir.path(), LINES);
    let v = json(
        dir.path(),
        &["hunt", "Alerts | summarize n = count() by Engine | sort by n desc", "--format", "json"],
    );
    assert_eq!(v["columns"][0]["name"], "Engine");
    assert_eq!(v["rows"].as_array().unwrap().len(), 2);
    let table = ok(
        dir.path(),
        &["hunt", "Alerts | project AlertId, Title, Severity | sort by AlertId asc"],
    );
    assert!(
        table.contains("Unpermitted Usage of Modbus Function Code") && table.contains("2 row(s)"),
        "{table}"
    );
    // Column names as a query must write them (KQL names are case-sensitive).
    assert!(table.starts_with("AlertId"), "{table}");
    let csv = ok(dir.path(), &["hunt", "Alerts | project SrcIp", "--format", "csv"]);
    assert!(csv.starts_with("SrcIp\r\n"), "{csv}");
    let o = otwatch(dir.path(), &["hunt", "Alerts | where Severityy == 'High'"]);
    assert_eq!(o.status.code(), Some(1));
    let e = text(&o.stderr);
    assert!(
        e.contains("KQL") && e.contains("line 1") && e.contains('^') && e.contains("Severity"),
        "{e}"
    );
}

/// A full store (capped with store.max_size_bytes, which fails exactly as a
/// full disk does) gives a clear error; what was stored stays intact.
#[test]
fn a_full_store_gives_a_clear_error_and_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let small =
        ok(dir.path(), &["gen-alerts", "--count", "500", "--distinct", "500", "--seed", "1"]);
    let o = ingest_text(dir.path(), &small);
    assert!(o.status.success());
    let before = json(dir.path(), &["alerts", "list", "--format", "json", "--limit", "10000"]);
    let big =
        ok(dir.path(), &["gen-alerts", "--count", "40000", "--distinct", "40000", "--seed", "2"]);
    let size = std::fs::metadata(dir.path().join("otwatch.db")).unwrap().len() + 256 * 1024;
    let input = dir.path().join("big.jsonl");
    std::fs::write(&input, big).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_otwatch"))
        .arg("--data-dir")
        .arg(dir.path())
        .args([
            "--set",
            &format!("store.max_size_bytes={size}"),
            "--set",
            "ingest.batch_size=2000",
            "ingest",
        ])
        .arg(&input)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let e = text(&o.stderr);
    assert!(e.contains("storage is full") && e.contains("nothing stored was lost"), "{e}");
    // The database is sound, and the alerts from before are all there, unchanged.
    let check = Command::new("sqlite3")
        .arg(dir.path().join("otwatch.db"))
        .arg("PRAGMA integrity_check;")
        .output()
        .expect("sqlite3 is needed");
    assert_eq!(text(&check.stdout).trim(), "ok");
    let after: Vec<serde_json::Value> = ok(dir.path(), &["alerts", "export", "--format", "jsonl"])
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let ids: std::collections::BTreeSet<i64> =
        after.iter().map(|a| a["id"].as_i64().unwrap()).collect();
    for a in before.as_array().unwrap() {
        assert!(ids.contains(&a["id"].as_i64().unwrap()));
    }
    // Batches are all-or-nothing: whole batches of 2000 were stored before the cap.
    let n_before = before.as_array().unwrap().len();
    assert!(after.len() >= n_before);
    assert!(after.len() < n_before + 40_000, "the cap stopped the ingest");
}

#[test]
fn users_are_managed_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // A generated password is printed once; a given one is read from standard input.
    let added = ok(d, &["users", "add", "alice", "--role", "analyst"]);
    assert!(added.contains("alice"), "{added}");
    let mut child = Command::new(env!("CARGO_BIN_EXE_otwatch"))
        .arg("--data-dir")
        .arg(d)
        .args(["users", "add", "bob", "--role", "viewer", "--password-stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"correct horse battery staple\n").unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(!text(&o.stdout).contains("correct horse"), "the password was echoed");
    let list = ok(d, &["users", "list"]);
    assert!(list.contains("alice") && list.contains("analyst"), "{list}");
    assert!(list.contains("bob") && list.contains("viewer"), "{list}");
    assert!(!list.contains("correct horse") && !list.contains("$argon2"), "{list}");
    // Role change, password reset, removal.
    ok(d, &["users", "set-role", "bob", "admin"]);
    let list = ok(d, &["users", "list"]);
    let bob = list.lines().find(|l| l.contains("bob")).unwrap();
    assert!(bob.contains("admin"), "{list}");
    let reset = ok(d, &["users", "reset-password", "alice"]);
    assert!(reset.contains("alice"), "{reset}");
    let o = otwatch(d, &["users", "set-role", "carol", "admin"]);
    assert!(!o.status.success(), "an unknown user was changed");
    assert!(text(&o.stderr).contains("carol"), "{}", text(&o.stderr));
    let o = otwatch(d, &["users", "set-role", "alice", "root"]);
    assert!(!o.status.success(), "an unknown role was accepted");
    ok(d, &["users", "remove", "alice"]);
    let list = ok(d, &["users", "list"]);
    assert!(!list.contains("alice"), "{list}");
    // The last admin stays.
    let o = otwatch(d, &["users", "remove", "bob"]);
    assert!(!o.status.success(), "the last admin was removed");
    assert!(ok(d, &["users", "list"]).contains("bob"));
}

#[test]
fn list_as_csv_has_the_grid_columns_and_every_row() {
    let dir = tempfile::tempdir().unwrap();
    let generated =
        ok(dir.path(), &["gen-alerts", "--count", "500", "--distinct", "40", "--seed", "3"]);
    let o = ingest_text(dir.path(), &generated);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let csv = ok(dir.path(), &["alerts", "list", "--format", "csv", "--limit", "1000"]);
    let mut lines = csv.lines();
    let head = lines.next().unwrap().to_ascii_lowercase();
    for col in ["severity", "name", "engine", "status"] {
        assert!(head.contains(col), "{head}");
    }
    assert_eq!(lines.filter(|l| !l.is_empty()).count(), 40, "{csv}");
}
