//! "The parser never panics": random bytes, random token soup and mutated golden queries all give a result or an error.
//!
//! A fuzz-style property test with a fixed seed (deterministic in CI); the
//! cargo-fuzz target `fuzz/fuzz_targets/kql.rs` runs the same property
//! without a time bound. Queries that compile are also run on a source that
//! returns no rows, so the evaluator and the SQL renderer see them too.

use std::time::Duration;

use otwatch_query::{Dialect, FetchError, Param, Rows, RunOptions, SqlSource};

use super::fixture::NOW;

struct Empty;

impl SqlSource for Empty {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }
    fn fetch(&self, _: &str, _: &[Param], _: usize, _: Duration) -> Result<Rows, FetchError> {
        Ok(Rows::default())
    }
}

/// xorshift64*: small, deterministic.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const VOCAB: &[&str] = &[
    "Alerts",
    "Devices",
    "DeviceInfo",
    "Connections",
    "Events",
    "|",
    "where",
    "extend",
    "project",
    "summarize",
    "by",
    "join",
    "kind=",
    "inner",
    "leftouter",
    "on",
    "$left",
    "$right",
    ".",
    "==",
    "!=",
    "=~",
    "has",
    "!has",
    "contains",
    "in",
    "!in~",
    "between",
    "..",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ",",
    ";",
    "let",
    "x",
    "=",
    "1",
    "1.5",
    "1d",
    "5m",
    "\"a\"",
    "'b'",
    "@\"c\"",
    "datetime(2024-01-01)",
    "dynamic([1,2])",
    "dynamic({\"k\":1})",
    "ago(1d)",
    "now()",
    "count()",
    "dcount(SrcIp)",
    "sum(Bytes)",
    "arg_max(Timestamp, *)",
    "make_set(SrcIp)",
    "bin(Timestamp, 1h)",
    "tostring",
    "toint",
    "strcat",
    "split",
    "Title",
    "SrcIp",
    "Bytes",
    "Timestamp",
    "Details",
    "Details.a",
    "Details[\"k\"]",
    "-",
    "+",
    "*",
    "/",
    "%",
    "not",
    "and",
    "or",
    "take",
    "10",
    "top",
    "sort",
    "order",
    "asc",
    "desc",
    "nulls",
    "first",
    "last",
    "distinct",
    "count",
    "union",
    "withsource=T",
    "mv-expand",
    "render",
    "timechart",
    "parse",
    "with",
    "make-series",
    "from",
    "to",
    "step",
    "default",
    "project-away",
    "project-rename",
    "iff",
    "case",
    "matches",
    "regex",
    "\"(\"",
    "typeof(string)",
    "-9223372036854775808",
    "0x7fffffffffffffff",
    "\n",
    "//c\n",
];

fn exercise(q: &str) {
    if let Err(e) = otwatch_query::compile(q, NOW) {
        let _ = e.render(q);
        let _ = e.line_col(q);
        return;
    }
    let mut o = RunOptions::new(NOW);
    o.time_limit = Duration::from_secs(5);
    let _ = otwatch_query::run(&Empty, q, &o);
    let _ = otwatch_query::explain(q, NOW, Dialect::Postgres);
}

#[test]
fn random_input_never_panics() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    // Random bytes (lossy UTF-8) and random printable ASCII.
    for _ in 0..3000 {
        let len = rng.below(80);
        let bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        exercise(&String::from_utf8_lossy(&bytes));
        let ascii: String = (0..len).map(|_| (32 + rng.below(95)) as u8 as char).collect();
        exercise(&ascii);
    }
    // Token soup.
    for _ in 0..6000 {
        let n = 1 + rng.below(24);
        let q: Vec<&str> = (0..n).map(|_| VOCAB[rng.below(VOCAB.len())]).collect();
        exercise(&q.join(" "));
    }
}

#[test]
fn mutated_golden_queries_never_panic() {
    let mut rng = Rng(0xD1B5_4A32_D192_ED03);
    let cases = super::golden::cases();
    for c in &cases {
        exercise(&c.query);
        for _ in 0..40 {
            let mut chars: Vec<char> = c.query.chars().collect();
            for _ in 0..1 + rng.below(4) {
                if chars.is_empty() {
                    break;
                }
                let i = rng.below(chars.len());
                match rng.below(4) {
                    0 => {
                        chars.remove(i);
                    }
                    1 => chars.insert(
                        i,
                        ['(', ')', '|', '"', '\'', '[', ']', ',', '.', '-', '*', '\\']
                            [rng.below(12)],
                    ),
                    2 => chars[i] = (32 + rng.below(95)) as u8 as char,
                    _ => {
                        let j = rng.below(chars.len());
                        chars.truncate(i.max(j));
                    }
                }
            }
            exercise(&chars.into_iter().collect::<String>());
        }
    }
    // Deep nesting is refused, not a stack overflow.
    let deep = format!("Alerts | where {}true{}", "not(".repeat(5000), ")".repeat(5000));
    assert!(otwatch_query::compile(&deep, NOW).is_err());
    let deep = format!("Alerts | where {}1{} == 1", "(".repeat(100_000), ")".repeat(100_000));
    assert!(otwatch_query::compile(&deep, NOW).is_err());
    let chain = format!("Alerts | where AlertId == 0{}", " + 1".repeat(50_000));
    assert!(otwatch_query::compile(&chain, NOW).is_err());
    let members = format!("Alerts | extend x = Details{}", ".a".repeat(50_000));
    assert!(otwatch_query::compile(&members, NOW).is_err());
    let list = format!("Alerts | where AlertId in (0{})", ", 1".repeat(20_000));
    assert!(otwatch_query::compile(&list, NOW).is_err());
    let huge = "Alerts | where Title == \"x\" ".repeat(100_000);
    assert!(otwatch_query::compile(&huge, NOW).is_err());
}
