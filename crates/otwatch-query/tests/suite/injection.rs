//! Injection suite: hostile text in every literal and identifier position never reaches SQL unbound.
//!
//! For each query the generated SQL is checked token by token: the only
//! identifiers are the catalogue's relation and column names and generated
//! aliases, the only string literal is the LIKE escape character, and every
//! other token is a keyword, a number, an operator or a placeholder. The
//! hostile text must show up, if anywhere, only in the bound parameters.
//! Then the queries run on the real store, which must be unchanged.

use std::collections::BTreeSet;

use otwatch_model::hunt::HUNT_TABLES;
use otwatch_query::{Dialect, Param, RunOptions, SqlLog};
use otwatch_store::{AlertQuery, Store};

use super::fixture::{Fixture, NOW, StoreSource};

const PAYLOADS: &[&str] = &[
    "'",
    "''",
    "\\\"",
    "'; DROP TABLE alerts; --",
    "\\\" OR 1=1 --",
    "x'); DELETE FROM alerts; SELECT ('",
    "/* comment */",
    "*/ SELECT 1 /*",
    "-- tail",
    ";",
    "%_%",
    "\\\\",
    "?1",
    "$1",
    "\\u02BC OR 1=1",
    "\\uFF07 OR 1=1",
    "\\u2019; DROP TABLE alerts",
    "a\\u200Bb",
    "\\u202Eevil",
    "\\u0000",
    "K\\u212A",
    "İstanbul",
    "💥\\\" UNION SELECT * FROM users --",
    "\\nSELECT 1",
];

/// Queries with `@@` where the payload goes (inside a KQL string literal).
const LITERAL_POSITIONS: &[&str] = &[
    "Alerts | where Title == \"@@\"",
    "Alerts | where Title != \"@@\"",
    "Alerts | where Title =~ \"@@\"",
    "Alerts | where Title !~ \"@@\"",
    "Alerts | where Title has \"@@\"",
    "Alerts | where Title has_cs \"@@\"",
    "Alerts | where Title contains \"@@\"",
    "Alerts | where Title !contains \"@@\"",
    "Alerts | where Title contains_cs \"@@\"",
    "Alerts | where Title startswith \"@@\"",
    "Alerts | where Title startswith_cs \"@@\"",
    "Alerts | where Title endswith \"@@\"",
    "Alerts | where Title endswith_cs \"@@\"",
    "Alerts | where Title hasprefix \"@@\"",
    "Alerts | where Title in (\"@@\", \"x\")",
    "Alerts | where Title !in (\"@@\")",
    "Alerts | where Title in~ (\"@@\")",
    "Alerts | where Title has_any (\"@@\", \"y\")",
    "Alerts | where Title has_all (\"@@\")",
    "Alerts | where Title > \"@@\"",
    "Alerts | where Title between (\"@@\" .. \"z\")",
    "let v = \"@@\"; Alerts | where SrcIp == v",
    "let l = dynamic([\"@@\"]); Alerts | where SrcIp in (l)",
    "Alerts | where isnotempty(\"@@\") and Title == strcat(\"@@\", \"x\")",
    "Alerts | extend c = \"@@\" | where c == Title",
    "Alerts | where Details[\"@@\"] == \"@@\"",
    "Alerts | summarize count() by Title | where Title == \"@@\"",
    "Alerts | where Title == @\"@@\"",
    "Connections | where SrcIp == \"@@\" | summarize sum(Bytes) by Protocol | top 3 by sum_Bytes",
    "Devices | where DeviceName =~ \"@@\" or Vendor contains \"@@\" | project DeviceName",
    "Alerts | parse Title with \"@@\" rest | project rest",
];

/// Queries with `##` where the payload goes as an identifier (`['…']`).
const IDENTIFIER_POSITIONS: &[&str] = &[
    "Alerts | extend ['##'] = 1",
    "Alerts | project ['##'] = Title",
    "Alerts | summarize ['##'] = count() by Title",
    "Alerts | project-rename ['##'] = Title",
    "Alerts | where ['##'] == 1",
    "Alerts | project ['##']",
    "['##'] | take 1",
    "let ['##'] = 1; Alerts | take 1",
    "Alerts | extend x = 1 | summarize by ['##']",
    "Alerts | join (Devices) on ['##']",
    "union withsource=['##'] Alerts, Events | take 1",
    "Alerts | sort by ['##']",
];

fn allowed_identifiers() -> BTreeSet<String> {
    let mut s = BTreeSet::new();
    for t in HUNT_TABLES {
        s.insert(t.relation.to_string());
        for (c, _, _) in t.columns {
            s.insert((*c).to_string());
        }
    }
    s
}

const KEYWORDS: &[&str] = &[
    "SELECT", "AS", "FROM", "WHERE", "AND", "OR", "NOT", "IN", "IS", "NULL", "LIKE", "ESCAPE",
    "BETWEEN", "GROUP", "BY", "ORDER", "ASC", "DESC", "NULLS", "FIRST", "LAST", "LIMIT", "COUNT",
    "DISTINCT", "SUM", "MIN", "MAX", "CASE", "WHEN", "THEN", "END", "instr", "substr", "strpos",
    "right",
];

/// Checks that SQL text has only catalogue identifiers, keywords, numbers, operators and placeholders.
pub fn assert_sql_is_clean(sql: &str) {
    let idents = allowed_identifiers();
    let chars: Vec<char> = sql.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '"' {
            let end = chars[i + 1..]
                .iter()
                .position(|x| *x == '"')
                .map(|p| i + 1 + p)
                .unwrap_or_else(|| panic!("unclosed identifier in {sql}"));
            let name: String = chars[i + 1..end].iter().collect();
            let generated = (name.starts_with('c') || name.starts_with('t'))
                && name.len() > 1
                && name[1..].chars().all(|d| d.is_ascii_digit());
            assert!(
                idents.contains(&name) || generated,
                "identifier {name:?} is not from the catalogue in {sql}"
            );
            i = end + 1;
        } else if c == '\'' {
            let lit: String = chars[i..(i + 3).min(chars.len())].iter().collect();
            assert_eq!(lit, "'\\'", "a string literal in {sql}");
            i += 3;
        } else if c == '?' {
            i += 1;
            assert!(chars.get(i).is_some_and(|d| d.is_ascii_digit()), "bare ? in {sql}");
            while chars.get(i).is_some_and(|d| d.is_ascii_digit()) {
                i += 1;
            }
        } else if c.is_ascii_alphabetic() {
            let start = i;
            while chars.get(i).is_some_and(|d| d.is_ascii_alphanumeric() || *d == '_') {
                i += 1;
            }
            let w: String = chars[start..i].iter().collect();
            assert!(KEYWORDS.contains(&w.as_str()), "word {w:?} in {sql}");
        } else if c.is_ascii_digit() || " (),=<>+-%*".contains(c) {
            i += 1;
        } else {
            panic!("character {c:?} in {sql}");
        }
    }
}

fn kql_escape(p: &str) -> String {
    // Payloads are written with KQL escapes already (\\\" for a quote, \\u for unicode).
    p.to_string()
}

#[test]
fn literals_are_always_bound() {
    let mut checked = 0;
    for q in LITERAL_POSITIONS {
        for p in PAYLOADS {
            let query = q.replace("@@", &kql_escape(p));
            // Verbatim strings take the payload differently: skip payloads with escapes there.
            if q.contains("@\"@@") && p.contains('\\') {
                continue;
            }
            let plan = match otwatch_query::explain(&query, NOW, Dialect::Sqlite) {
                Ok(p) => p,
                Err(e) => {
                    let _ = e.render(&query);
                    continue;
                }
            };
            for SqlLog { sql, params, .. } in &plan {
                assert_sql_is_clean(sql);
                let placeholders = sql.matches('?').count();
                assert!(placeholders >= params.len().min(1) || params.is_empty(), "{sql}");
                for prm in params {
                    if let Param::Text(t) = prm {
                        // Text that looks like a placeholder or a keyword may occur by itself; anything else must not.
                        let harmless = t.len() < 2
                            || t.chars().all(|c| c.is_ascii_alphanumeric())
                            || (t.starts_with(['?', '$'])
                                && t[1..].chars().all(|c| c.is_ascii_digit()));
                        assert!(harmless || !sql.contains(t.as_str()), "{t:?} spliced into {sql}");
                    }
                }
                checked += 1;
            }
            // Postgres rendering is clean too.
            if let Ok(plan) = otwatch_query::explain(&query, NOW, Dialect::Postgres) {
                for SqlLog { sql, .. } in &plan {
                    assert!(!sql.contains('?'), "{sql}");
                    assert_sql_is_clean(&sql.replace('$', "?"));
                }
            }
        }
    }
    assert!(checked > 500, "only {checked} statements checked");
}

#[test]
fn the_payload_arrives_as_a_parameter() {
    let q = "Alerts | where Title == \"'; DROP TABLE alerts; --\"";
    let plan = otwatch_query::explain(q, NOW, Dialect::Sqlite).unwrap();
    assert_eq!(plan.len(), 1);
    let SqlLog { sql, params, consumed, total } = &plan[0];
    assert_eq!((consumed, total), (&1, &1));
    assert!(params.contains(&Param::Text("'; DROP TABLE alerts; --".into())), "{params:?}");
    assert!(!sql.contains("DROP"), "{sql}");
    let plan =
        otwatch_query::explain("Alerts | where Title contains \"50%_off\"", NOW, Dialect::Sqlite)
            .unwrap();
    assert!(plan[0].params.contains(&Param::Text("%50\\%\\_off%".into())), "{:?}", plan[0].params);
}

#[test]
fn identifiers_never_reach_sql() {
    for q in IDENTIFIER_POSITIONS {
        for p in PAYLOADS {
            let query = q.replace("##", &p.replace('\'', "\\'"));
            match otwatch_query::explain(&query, NOW, Dialect::Sqlite) {
                Ok(plan) => {
                    for SqlLog { sql, .. } in &plan {
                        assert_sql_is_clean(sql);
                    }
                }
                Err(e) => {
                    let _ = e.render(&query);
                }
            }
        }
    }
}

#[test]
fn hostile_queries_leave_the_store_unchanged() {
    let fx = Fixture::new();
    let before = fx.store.count_alerts(&AlertQuery::default()).unwrap();
    let src = StoreSource(&fx.store);
    let o = RunOptions::new(NOW);
    let mut ran = 0;
    for q in LITERAL_POSITIONS.iter().chain(IDENTIFIER_POSITIONS) {
        for p in PAYLOADS {
            let query = q.replace("@@", p).replace("##", &p.replace('\'', "\\'"));
            if otwatch_query::run(&src, &query, &o).is_ok() {
                ran += 1;
            }
        }
    }
    assert!(ran > 300, "only {ran} ran");
    assert_eq!(fx.store.count_alerts(&AlertQuery::default()).unwrap(), before);
    let r = otwatch_query::run(&src, "Alerts | count", &o).unwrap();
    assert_eq!(r.rows[0][0], otwatch_query::Value::Long(6));
}
