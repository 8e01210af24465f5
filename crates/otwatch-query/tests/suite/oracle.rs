//! The oracle: Microsoft's own KQL parser and analyzer (`@kusto/language-service-next`) checks every golden query.
//!
//! Our tables are declared to it from `HUNT_TABLES`. Every positive golden
//! query must be valid KQL for it, with the same result columns (names and
//! types) as ours; every negative one must be rejected by it too, except the
//! cases marked `// oracle: valid KQL` (valid KQL that otwatch refuses by
//! design, documented in docs/hunting.md). The npm package is installed into
//! `oracle/node_modules` on first use; without node or the registry the test
//! fails with instructions (CI has both).

use std::path::Path;
use std::process::Command;

use otwatch_model::hunt::HUNT_TABLES;
use otwatch_query::RunOptions;

use super::fixture::{Fixture, NOW, StoreSource};
use super::golden::cases;

fn oracle_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("oracle")
}

fn ensure_installed() {
    let dir = oracle_dir();
    let node = Command::new("node").arg("--version").output();
    assert!(
        node.as_ref().is_ok_and(|o| o.status.success()),
        "node is needed for the KQL oracle test: install Node.js 20 (e.g. `apt-get install nodejs npm`), then run `cargo test -p otwatch-query`"
    );
    if dir.join("node_modules/@kusto/language-service-next/package.json").exists() {
        return;
    }
    let out = Command::new("npm")
        .args(["install", "--no-audit", "--no-fund", "--loglevel=error"])
        .current_dir(&dir)
        .output()
        .unwrap_or_else(|e| panic!("npm is needed for the KQL oracle test ({e}): install npm, then run `npm install` in {}", dir.display()));
    assert!(
        out.status.success(),
        "`npm install` in {} failed (the npm registry must be reachable):\n{}\n{}",
        dir.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn microsofts_analyzer_agrees_with_the_golden_queries() {
    ensure_installed();
    // The schema, as the analyzer wants it.
    let schema: serde_json::Map<String, serde_json::Value> = HUNT_TABLES
        .iter()
        .flat_map(|t| {
            let cols = t
                .columns
                .iter()
                .map(|(n, ty, _)| format!("{n}:{}", ty.name()))
                .collect::<Vec<_>>()
                .join(", ");
            std::iter::once(t.name)
                .chain(t.aliases.iter().copied())
                .map(move |n| (n.to_string(), serde_json::Value::String(format!("({cols})"))))
        })
        .collect();
    let all = cases();
    let queries: Vec<serde_json::Value> =
        all.iter().map(|c| serde_json::json!({"name": c.name, "query": c.query})).collect();
    let input = serde_json::json!({"schema": schema, "queries": queries});
    let tmp = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(tmp.path(), input.to_string()).unwrap();
    let out =
        Command::new("node").arg(oracle_dir().join("check.js")).arg(tmp.path()).output().unwrap();
    assert!(
        out.status.success(),
        "the oracle script failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let verdicts: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(verdicts.len(), all.len());
    let fx = Fixture::new();
    let empty = Fixture::empty();
    let mut problems = Vec::new();
    let (mut pos, mut neg) = (0, 0);
    for (c, v) in all.iter().zip(&verdicts) {
        let errors: Vec<String> = v["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e.as_str().unwrap().to_string())
            .collect();
        let marked_valid = c.text.contains("// oracle: valid KQL");
        if c.is_error() {
            neg += 1;
            if marked_valid {
                if !errors.is_empty() {
                    problems.push(format!(
                        "{}: marked valid KQL but the analyzer rejects it: {errors:?}",
                        c.name
                    ));
                }
            } else if errors.is_empty() {
                problems.push(format!(
                    "{}: we reject it ({}) but the analyzer accepts it",
                    c.name, c.mode
                ));
            }
            continue;
        }
        pos += 1;
        if !errors.is_empty() {
            problems.push(format!("{}: the analyzer rejects it: {errors:?}", c.name));
            continue;
        }
        let store = if c.name.starts_with("empty_") { &empty.store } else { &fx.store };
        let ours =
            otwatch_query::run(&StoreSource(store), &c.query, &RunOptions::new(NOW)).unwrap();
        let ours: Vec<String> =
            ours.columns.iter().map(|c| format!("{}:{}", c.name, c.ty.name())).collect();
        let theirs: Vec<String> = v["columns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e.as_str().unwrap().to_string())
            .collect();
        if ours != theirs {
            problems.push(format!(
                "{}: result columns differ\n  ours:   {}\n  theirs: {}",
                c.name,
                ours.join(", "),
                theirs.join(", ")
            ));
        }
    }
    assert!(pos >= 50 && neg >= 20, "{pos} positive and {neg} negative cases");
    assert!(
        problems.is_empty(),
        "{} disagreements with the analyzer:\n{}",
        problems.len(),
        problems.join("\n")
    );
}
