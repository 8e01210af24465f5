//! Golden queries: every `tests/golden/*.kql` file runs on the fixture and must give its expected result.
//!
//! A file is a KQL query followed by its expectation, written as comments so
//! the whole file stays valid KQL (the oracle test parses it):
//!
//! ```text
//! // What the case checks.
//! Alerts | where ... | project AlertId, Title
//! // ---- expect unordered
//! // columns: AlertId:long, Title:string
//! // [1,"Modbus write to holding register"]
//! ```
//!
//! `expect ordered` compares rows in order (queries that sort);
//! `expect unordered` compares them as multisets. Optional lines:
//! `// render: timechart`, `// truncated`, `// options: max_rows=N`.
//! Error cases: `// ---- expect error KQL0021 at 1:17`. Files named
//! `empty_*.kql` run on an empty store. `KQL_BLESS=1` rewrites the
//! expectations from the actual results (review the diff by hand).

use std::path::{Path, PathBuf};

use otwatch_query::{QueryResult, RunOptions};

use super::fixture::{Fixture, NOW, StoreSource};

/// The golden folder.
pub fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

/// A golden case.
pub struct Case {
    /// File name.
    pub name: String,
    /// Whole file text.
    pub text: String,
    /// The query part.
    pub query: String,
    /// The expectation lines (without the marker).
    pub expect: Vec<String>,
    /// The marker line's argument (`ordered`, `unordered`, `error KQL0021 at 1:17`).
    pub mode: String,
}

impl Case {
    /// Whether the query must fail.
    pub fn is_error(&self) -> bool {
        self.mode.starts_with("error")
    }
}

const MARKER: &str = "// ---- expect";

/// Every golden case, sorted by name.
pub fn cases() -> Vec<Case> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "kql"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            let (query, rest) = match text.find(MARKER) {
                Some(i) => (text[..i].to_string(), &text[i + MARKER.len()..]),
                None => (text.clone(), ""),
            };
            let mut lines = rest.lines();
            let mode = lines.next().unwrap_or("").trim().to_string();
            let expect = lines
                .map(|l| l.trim_start_matches("//").trim().to_string())
                .filter(|l| !l.is_empty())
                .collect();
            Case { name, text, query, expect, mode }
        })
        .collect()
}

fn row_json(r: &[otwatch_query::Value]) -> String {
    serde_json::to_string(&r.iter().map(otwatch_query::Value::to_json).collect::<Vec<_>>()).unwrap()
}

/// The expectation lines describing a result.
fn describe(r: &QueryResult, ordered: bool) -> (String, Vec<String>) {
    let mut lines = Vec::new();
    lines.push(format!(
        "columns: {}",
        r.columns
            .iter()
            .map(|c| format!("{}:{}", c.name, c.ty.name()))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    if let Some(k) = &r.render {
        lines.push(format!("render: {k}"));
    }
    if r.truncated {
        lines.push("truncated".into());
    }
    let mut rows: Vec<String> = r.rows.iter().map(|row| row_json(row)).collect();
    if !ordered {
        rows.sort();
    }
    lines.extend(rows);
    (if ordered { "ordered".into() } else { "unordered".into() }, lines)
}

fn options(c: &Case) -> RunOptions {
    let mut o = RunOptions::new(NOW);
    for l in &c.expect {
        if let Some(v) = l.strip_prefix("options: max_rows=") {
            o.max_rows = v.trim().parse().unwrap();
        }
    }
    o
}

/// Runs one case; returns a failure message, or the new expectation when blessing.
fn check(c: &Case, fx: &Fixture, empty: &Fixture, bless: bool) -> Result<Option<String>, String> {
    let store = if c.name.starts_with("empty_") { &empty.store } else { &fx.store };
    let src = StoreSource(store);
    let opts = options(c);
    let got = otwatch_query::run(&src, &c.query, &opts);
    let option_lines: Vec<&String> =
        c.expect.iter().filter(|l| l.starts_with("options:")).collect();
    let actual: (String, Vec<String>) = match &got {
        Ok(r) => {
            let ordered = if c.mode.is_empty() || c.mode.starts_with("error") {
                guess_ordered(&c.query)
            } else {
                c.mode == "ordered"
            };
            describe(r, ordered)
        }
        Err(e) => {
            let (l, col) = e.line_col(&c.query);
            (
                format!("error {} at {l}:{col}", e.code.as_str()),
                vec![format!("message: {}", e.message)],
            )
        }
    };
    if bless {
        let mut out = c.query.trim_end().to_string();
        out.push('\n');
        out.push_str(&format!("{MARKER} {}\n", actual.0));
        for l in option_lines {
            out.push_str(&format!("// {l}\n"));
        }
        for l in &actual.1 {
            out.push_str(&format!("// {l}\n"));
        }
        return Ok(Some(out));
    }
    if actual.0 != c.mode {
        let extra = match &got {
            Err(e) => e.render(&c.query),
            Ok(r) => format!("{:?}", describe(r, true).1),
        };
        return Err(format!("{}: expected `{}`, got `{}`\n{extra}", c.name, c.mode, actual.0));
    }
    if c.is_error() {
        // Error cases: the code and position must match; the message is informative only.
        return Ok(None);
    }
    let want: Vec<&String> = c.expect.iter().filter(|l| !l.starts_with("options:")).collect();
    let have: Vec<&String> = actual.1.iter().collect();
    if want != have {
        return Err(format!(
            "{}: result differs\n--- expected\n{}\n--- actual\n{}\n",
            c.name,
            want.iter().map(|s| s.as_str()).collect::<Vec<_>>().join("\n"),
            have.iter().map(|s| s.as_str()).collect::<Vec<_>>().join("\n")
        ));
    }
    Ok(None)
}

/// Whether a query's result order is defined (it ends with sort, order or top).
pub fn guess_ordered(q: &str) -> bool {
    let body: Vec<&str> = q.lines().filter(|l| !l.trim_start().starts_with("//")).collect();
    let joined = body.join("\n");
    let last_ops: Vec<&str> = joined.split('|').map(str::trim).collect();
    last_ops
        .iter()
        .rev()
        .find(|op| {
            !op.starts_with("render")
                && !op.starts_with("project")
                && !op.starts_with("take")
                && !op.starts_with("limit")
                && !op.starts_with("extend")
        })
        .is_some_and(|op| {
            op.starts_with("sort ") || op.starts_with("order ") || op.starts_with("top ")
        })
}

#[test]
fn golden_queries_give_their_expected_results() {
    let fx = Fixture::new();
    let empty = Fixture::empty();
    let bless = std::env::var("KQL_BLESS").is_ok_and(|v| v == "1");
    let mut failures = Vec::new();
    let all = cases();
    assert!(all.len() >= 60, "only {} golden cases", all.len());
    for c in &all {
        match check(c, &fx, &empty, bless) {
            Ok(Some(new)) => std::fs::write(dir().join(&c.name), new).unwrap(),
            Ok(None) => {}
            Err(m) => failures.push(m),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} golden cases failed:\n\n{}",
        failures.len(),
        all.len(),
        failures.join("\n")
    );
}

#[test]
fn every_error_code_of_the_compiler_has_a_golden_case() {
    let codes: std::collections::BTreeSet<String> = cases()
        .iter()
        .filter(|c| c.is_error())
        .filter_map(|c| c.mode.split_whitespace().nth(1).map(String::from))
        .collect();
    for want in [
        "KQL0001", "KQL0002", "KQL0003", "KQL0010", "KQL0011", "KQL0012", "KQL0013", "KQL0020",
        "KQL0021", "KQL0022", "KQL0023", "KQL0024", "KQL0025", "KQL0026", "KQL0027", "KQL0028",
        "KQL0029", "KQL0030", "KQL0031", "KQL0032", "KQL0033",
    ] {
        assert!(codes.contains(want), "no golden error case for {want}");
    }
}

#[test]
fn limits_are_enforced_and_reported() {
    let fx = Fixture::new();
    let src = StoreSource(&fx.store);
    // Row limit: the result says it was cut (pushed down and evaluated in Rust).
    let mut o = RunOptions::new(NOW);
    o.max_rows = 3;
    let r = otwatch_query::run(&src, "Connections", &o).unwrap();
    assert_eq!((r.rows.len(), r.truncated), (3, true));
    let r = otwatch_query::run(&src, "Connections | extend x = strlen(SrcIp)", &o).unwrap();
    assert_eq!((r.rows.len(), r.truncated), (3, true));
    let r = otwatch_query::run(&src, "Connections | take 3", &o).unwrap();
    assert_eq!((r.rows.len(), r.truncated), (3, false));
    // Scan limit: work in Rust over too many rows is refused, not cut.
    let mut o = RunOptions::new(NOW);
    o.max_scan_rows = 5;
    let e = otwatch_query::run(&src, "Connections | summarize avg(Bytes)", &o).unwrap_err();
    assert_eq!(e.code, otwatch_query::Code::ScanLimit);
    // Memory limit: too many groups.
    let mut o = RunOptions::new(NOW);
    o.max_memory_rows = 3;
    let e = otwatch_query::run(
        &src,
        "Connections | extend k = strcat(SrcIp, DstIp) | summarize count() by k",
        &o,
    )
    .unwrap_err();
    assert_eq!(e.code, otwatch_query::Code::MemoryLimit);
    let e = otwatch_query::run(&src, "Connections | join kind=inner (Connections) on Protocol", &o)
        .unwrap_err();
    assert_eq!(e.code, otwatch_query::Code::MemoryLimit);
    // Time limit: a query that cannot finish in time stops with KQL0100.
    let mut o = RunOptions::new(NOW);
    o.time_limit = std::time::Duration::from_millis(1);
    let q = "Connections | join kind=inner (Connections) on Transport | join kind=inner (Connections) on Transport | join kind=inner (Connections) on Transport | join kind=inner (Connections) on Transport | count";
    let mut o2 = o;
    o2.max_memory_rows = 100_000_000;
    match otwatch_query::run(&src, q, &o2) {
        Err(e) => assert_eq!(e.code, otwatch_query::Code::TimeLimit, "{e}"),
        Ok(r) => panic!("finished in 1 ms: {:?}", r.rows),
    }
}

#[test]
fn device_info_query_from_the_issue() {
    let fx = Fixture::new();
    let src = StoreSource(&fx.store);
    let q = r#"DeviceInfo | where Site == "SanFrancisco" and PublicIP == "192.168.1.1" and DeviceCategory == "Endpoint""#;
    let r = otwatch_query::run(&src, q, &RunOptions::new(NOW)).unwrap();
    // 192.168.1.1 is a private address, so no device has it as PublicIP.
    assert!(r.rows.is_empty());
    assert_eq!(r.columns.len(), otwatch_model::hunt::hunt_table("Devices").unwrap().columns.len());
    // The whole filter ran in SQL, with the three values bound.
    assert_eq!(r.sql.len(), 1);
    assert_eq!((r.sql[0].consumed, r.sql[0].total), (1, 1));
    assert!(r.sql[0].params.contains(&otwatch_query::Param::Text("192.168.1.1".into())));
    // The same shape finds the device with a public address.
    let q = r#"DeviceInfo | where Site == "SanFrancisco" and PublicIP == "198.51.100.7" and DeviceCategory == "Endpoint" | project DeviceName"#;
    let r = otwatch_query::run(&src, q, &RunOptions::new(NOW)).unwrap();
    assert_eq!(r.rows.len(), 1);
    assert_eq!(r.rows[0][0].to_string(), "vpn-gw");
}

#[test]
fn pushdown_and_rust_agree() {
    // The same question asked so that SQL answers it, and so that Rust does
    // (an extend that SQL cannot compute stops the pushdown first).
    let fx = Fixture::new();
    let src = StoreSource(&fx.store);
    let o = RunOptions::new(NOW);
    for (pushed, rust) in [
        (
            "Alerts | where Protocol =~ \"modbus\" | project AlertId",
            "Alerts | extend z = strlen(Title) | where Protocol =~ \"modbus\" | project AlertId",
        ),
        (
            "Alerts | where Title contains \"WRITE\" | project AlertId",
            "Alerts | extend z = strlen(Title) | where Title contains \"WRITE\" | project AlertId",
        ),
        (
            "Alerts | where Title has \"write\" | project AlertId",
            "Alerts | extend z = strlen(Title) | where Title has \"write\" | project AlertId",
        ),
        (
            "Alerts | where Title startswith \"modbus\" | project AlertId",
            "Alerts | extend z = strlen(Title) | where Title startswith \"modbus\" | project AlertId",
        ),
        (
            "Alerts | where Title endswith_cs \"Sent\" | project AlertId",
            "Alerts | extend z = strlen(Title) | where Title endswith_cs \"Sent\" | project AlertId",
        ),
        (
            "Alerts | where Title !contains_cs \"Modbus\" | project AlertId",
            "Alerts | extend z = strlen(Title) | where Title !contains_cs \"Modbus\" | project AlertId",
        ),
        (
            "Alerts | where SrcDeviceId != 4 | project AlertId",
            "Alerts | extend z = strlen(Title) | where SrcDeviceId != 4 | project AlertId",
        ),
        (
            "Alerts | where SrcDeviceId !in (4, 7) | project AlertId",
            "Alerts | extend z = strlen(Title) | where SrcDeviceId !in (4, 7) | project AlertId",
        ),
        (
            "Alerts | where isnull(SrcDeviceId) | project AlertId",
            "Alerts | extend z = strlen(Title) | where isnull(SrcDeviceId) | project AlertId",
        ),
        (
            "Connections | summarize count(), sum(Bytes), dcount(SrcIp), min(FirstSeen), max(DstPort) by Protocol",
            "Connections | extend z = 1 | summarize count(), sum(Bytes), dcount(SrcIp), min(FirstSeen), max(DstPort) by Protocol",
        ),
        (
            "Connections | summarize count() by bin(Timestamp, 7d)",
            "Connections | extend z = 1 | summarize count() by bin(Timestamp, 7d)",
        ),
        (
            "Connections | summarize c = countif(Bytes > 1000) by Transport",
            "Connections | extend z = 1 | summarize c = countif(Bytes > 1000) by Transport",
        ),
        (
            "Connections | top 3 by Bytes asc | project Bytes",
            "Connections | extend z = 1 | top 3 by Bytes asc | project Bytes",
        ),
        (
            "Connections | sort by DstPort asc nulls last | project DstPort",
            "Connections | extend z = 1 | sort by DstPort asc nulls last | project DstPort",
        ),
        (
            "Alerts | where Timestamp between (datetime(2024-03-01) .. 1d) | count",
            "Alerts | extend z = 1 | where Timestamp between (datetime(2024-03-01) .. 1d) | count",
        ),
        (
            "Devices | where IsOT and Authorized | project DeviceId",
            "Devices | extend z = 1 | where IsOT and Authorized | project DeviceId",
        ),
        (
            "Connections | summarize count() by Protocol | where count_ > 1 | project Protocol",
            "Connections | extend z = 1 | summarize count() by Protocol | where count_ > 1 | project Protocol",
        ),
    ] {
        let a = otwatch_query::run(&src, pushed, &o).unwrap();
        let b = otwatch_query::run(&src, rust, &o).unwrap();
        if pushed.contains(" has ") {
            // has is only a prefilter in SQL (LIKE '%term%'); Rust checks the term boundaries.
            assert!(a.sql[0].sql.contains("LIKE"), "{}", a.sql[0].sql);
        } else {
            assert_eq!(
                a.sql[0].consumed, a.sql[0].total,
                "not fully pushed: {pushed}\n{}",
                a.sql[0].sql
            );
        }
        assert_eq!(b.sql[0].consumed, 0, "{rust}");
        let mut x: Vec<String> = a.rows.iter().map(|r| row_json(r)).collect();
        let mut y: Vec<String> = b.rows.iter().map(|r| row_json(r)).collect();
        if !pushed.contains("top") && !pushed.contains("sort") {
            x.sort();
            y.sort();
        }
        assert_eq!(x, y, "{pushed}");
        assert!(!x.is_empty(), "{pushed}");
    }
}

#[test]
fn partly_translatable_filters_keep_parameters_dense() {
    // The or cannot run in SQL (a regex), the comparison can: the SQL keeps
    // only the comparison, with exactly the parameters it uses.
    let fx = Fixture::new();
    let src = StoreSource(&fx.store);
    let q = "Alerts | where (Title == \"x\" or Title matches regex \"Scan\") and AlertId > 1 | project AlertId";
    let r = otwatch_query::run(&src, q, &RunOptions::new(NOW)).unwrap();
    assert_eq!(r.rows.len(), 1);
    assert_eq!(r.sql[0].params, vec![otwatch_query::Param::Int(1)], "{}", r.sql[0].sql);
    let q = "Alerts | where (AlertId > 1 and Title matches regex \"Scan\") or (AlertId > 5 and Title has \"stop\") | project AlertId";
    let r = otwatch_query::run(&src, q, &RunOptions::new(NOW)).unwrap();
    let mut ids: Vec<String> = r.rows.iter().map(|x| x[0].to_string()).collect();
    ids.sort();
    assert_eq!(ids, vec!["4", "6"]);
}
