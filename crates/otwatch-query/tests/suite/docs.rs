//! docs/hunting.md documents every table column with its type, every function, aggregate and error code.

use std::path::Path;

use otwatch_model::hunt::HUNT_TABLES;

fn doc_path() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/hunting.md")
}

fn doc() -> String {
    let p = doc_path();
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

const BEGIN: &str = "<!-- tables: generated from otwatch_model::hunt::HUNT_TABLES by crates/otwatch-query/tests/suite/docs.rs; KQL_BLESS=1 rewrites it -->";
const END: &str = "<!-- end of generated tables -->";

/// The table reference, generated from the model.
fn tables_markdown() -> String {
    let mut out = String::new();
    for t in HUNT_TABLES {
        out.push_str(&format!("\n### {}\n\n", t.name));
        if !t.aliases.is_empty() {
            let a: Vec<String> = t.aliases.iter().map(|a| format!("`{a}`")).collect();
            out.push_str(&format!("Also reachable as {}.\n\n", a.join(", ")));
        }
        out.push_str("| Column | Type | Meaning |\n|---|---|---|\n");
        for (name, ty, doc) in t.columns {
            out.push_str(&format!("| `{name}` | {} | {doc} |\n", ty.name()));
        }
    }
    out
}

#[test]
fn the_table_reference_is_generated_from_the_model() {
    let d = doc();
    let (Some(b), Some(e)) = (d.find(BEGIN), d.find(END)) else {
        panic!("docs/hunting.md lacks the generated-tables markers")
    };
    let current = &d[b + BEGIN.len()..e];
    let want = format!("\n{}\n", tables_markdown());
    if current != want {
        if std::env::var("KQL_BLESS").is_ok_and(|v| v == "1") {
            std::fs::write(
                doc_path(),
                format!("{}{BEGIN}{want}{END}{}", &d[..b], &d[e + END.len()..]),
            )
            .unwrap();
        } else {
            panic!(
                "the table reference in docs/hunting.md is out of date: run KQL_BLESS=1 cargo test -p otwatch-query"
            );
        }
    }
}

#[test]
fn every_column_is_documented_with_its_type() {
    let d = doc();
    for t in HUNT_TABLES {
        let start = d
            .find(&format!("### {}", t.name))
            .unwrap_or_else(|| panic!("no section for {}", t.name));
        let section = &d[start..];
        let section = &section[..section[4..].find("\n### ").map_or(section.len(), |i| i + 4)];
        for (name, ty, _) in t.columns {
            let row = format!("| `{name}` | {} |", ty.name());
            assert!(
                section.contains(&row),
                "docs/hunting.md: {} lacks the row starting {row}",
                t.name
            );
        }
        for a in t.aliases {
            assert!(
                section.contains(&format!("`{a}`")),
                "docs/hunting.md: alias {a} of {} is not mentioned",
                t.name
            );
        }
    }
}

#[test]
fn every_function_aggregate_and_error_code_is_documented() {
    let d = doc();
    for f in otwatch_query::Func::NAMES.iter().chain(otwatch_query::AGGREGATES) {
        assert!(d.contains(&format!("`{f}(")), "docs/hunting.md does not mention {f}()");
    }
    for c in otwatch_query::Code::ALL {
        assert!(d.contains(c.as_str()), "docs/hunting.md does not list {}", c.as_str());
    }
    for k in otwatch_query::CHART_KINDS {
        assert!(d.contains(k), "docs/hunting.md does not mention the chart kind {k}");
    }
}
