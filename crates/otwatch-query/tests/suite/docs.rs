//! docs/hunting.md documents every table column with its type, every function, aggregate and error code.

use std::path::Path;

use otwatch_model::hunt::HUNT_TABLES;

fn doc() -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/hunting.md");
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[test]
fn every_column_is_documented_with_its_type() {
    let d = doc();
    for t in HUNT_TABLES {
        let start = d.find(&format!("### {}", t.name)).unwrap_or_else(|| panic!("no section for {}", t.name));
        let section = &d[start..];
        let section = &section[..section[4..].find("\n### ").map_or(section.len(), |i| i + 4)];
        for (name, ty, _) in t.columns {
            let row = format!("| `{name}` | {} |", ty.name());
            assert!(section.contains(&row), "docs/hunting.md: {} lacks the row starting {row}", t.name);
        }
        for a in t.aliases {
            assert!(section.contains(&format!("`{a}`")), "docs/hunting.md: alias {a} of {} is not mentioned", t.name);
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
