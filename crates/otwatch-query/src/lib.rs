//! The hunting language of otwatch: a KQL subset over `Alerts`, `Devices`, `Connections` and `Events`.
//!
//! Stages, one module each:
//!
//! 1. `lexer` — text to tokens with byte spans;
//! 2. `parser` — tokens to a syntax tree (`ast`), recursive descent with
//!    Pratt precedence;
//! 3. `bind` — names and types checked against the catalogue built from
//!    `otwatch_model::hunt::HUNT_TABLES`, output columns named as Kusto
//!    names them, constants folded with "now" pinned; the result is a
//!    logical plan (`plan`);
//! 4. `sql` — the longest prefix of each table's chain that SQL answers
//!    with exactly KQL's semantics, built as a SQL syntax tree and rendered
//!    by a dialect, every user value a bound parameter;
//! 5. `exec` — the rest, run by one evaluator in Rust, so results are the
//!    same on every storage backend.
//!
//! This crate does no I/O: it runs SQL through the [`SqlSource`] the caller
//! gives (the CLI and the server implement it on top of
//! `otwatch_store::Store::hunt_sql`). Execution is read-only and bounded:
//! [`RunOptions`] sets the row limit of the result (the result says when it
//! was cut), the time limit, the most rows read from storage for work done
//! in Rust, and the most rows an operator may hold in memory.
//!
//! `dcount` is exact here (Kusto estimates it). See `docs/hunting.md` for the
//! language, the semantics notes and the error codes.

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod ast;
mod bind;
mod error;
mod eval;
mod exec;
mod func;
mod lexer;
pub mod parser;
mod plan;
mod sql;
mod text;
mod value;

use std::time::Duration;

pub use bind::{AGGREGATES, CHART_KINDS, Compiled};
pub use error::{Code, QueryError, Span};
pub use exec::SqlLog;
pub use func::Func;
pub use plan::Column;
pub use sql::{Dialect, Param, SqlDialect};
pub use value::{Type, Value, format_datetime, format_timespan};

/// Rows fetched by a [`SqlSource`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Rows {
    /// The rows, one value per selected column.
    pub rows: Vec<Vec<Param>>,
    /// More rows existed than asked for.
    pub truncated: bool,
}

/// Why a fetch failed.
#[derive(Clone, Debug, PartialEq)]
pub enum FetchError {
    /// The statement ran longer than its time limit.
    TimeLimit,
    /// Anything else (the message is shown to the user).
    Other(String),
}

/// Where SQL runs: the CLI and the server implement this over `Store::hunt_sql`.
pub trait SqlSource {
    /// The SQL dialect of the backend.
    fn dialect(&self) -> Dialect;
    /// Runs one read-only SELECT with bound parameters (`?1`/`$1` refer to
    /// `params[0]`), returning at most `max_rows` rows and saying whether
    /// there were more, within `time_limit`.
    fn fetch(
        &self,
        sql: &str,
        params: &[Param],
        max_rows: usize,
        time_limit: Duration,
    ) -> Result<Rows, FetchError>;
}

/// Limits and "now" for one run.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// "now" in microseconds since the epoch (UTC): `now()` and `ago()` use it.
    pub now: i64,
    /// Most rows in the result; more are cut and `truncated` is set.
    pub max_rows: usize,
    /// Longest the query may run.
    pub time_limit: Duration,
    /// Most rows read from storage for one table when operators run in Rust.
    pub max_scan_rows: usize,
    /// Most rows (or kept values) one operator may hold.
    pub max_memory_rows: usize,
}

impl RunOptions {
    /// Defaults (10,000 result rows, 30 s, 2,000,000 rows scanned or held) with the given "now".
    pub fn new(now: i64) -> RunOptions {
        RunOptions {
            now,
            max_rows: 10_000,
            time_limit: Duration::from_secs(30),
            max_scan_rows: 2_000_000,
            max_memory_rows: 2_000_000,
        }
    }
}

/// A result column.
#[derive(Clone, Debug, PartialEq)]
pub struct ResultColumn {
    /// Name.
    pub name: String,
    /// KQL type.
    pub ty: Type,
}

/// The result of a query.
#[derive(Clone, Debug)]
pub struct QueryResult {
    /// Columns.
    pub columns: Vec<ResultColumn>,
    /// Rows.
    pub rows: Vec<Vec<Value>>,
    /// The result was cut at `max_rows`.
    pub truncated: bool,
    /// The chart kind of `render` (timechart, barchart, piechart, …).
    pub render: Option<String>,
    /// The SQL statements that ran, with what each answered.
    pub sql: Vec<SqlLog>,
}

/// Parses and checks a query without running it (for editors and validation).
pub fn compile(text: &str, now: i64) -> Result<Compiled, QueryError> {
    if text.len() > MAX_QUERY_BYTES {
        return Err(QueryError::new(
            Code::Syntax,
            Span::new(0, 0),
            format!("the query is longer than {MAX_QUERY_BYTES} bytes"),
        ));
    }
    let q = parser::parse(text)?;
    bind::bind(&q, now)
}

/// The result columns of a query, without running it.
pub fn check(text: &str) -> Result<Vec<ResultColumn>, QueryError> {
    let c = compile(text, 0)?;
    Ok(c.chain.schema().iter().map(|c| ResultColumn { name: c.name.clone(), ty: c.ty }).collect())
}

/// Longest query text accepted.
pub const MAX_QUERY_BYTES: usize = 256 * 1024;

/// Runs a query.
pub fn run(
    source: &dyn SqlSource,
    text: &str,
    opts: &RunOptions,
) -> Result<QueryResult, QueryError> {
    let compiled = compile(text, opts.now)?;
    let mut runner = exec::Runner::new(source, opts, opts.now);
    for sub in &compiled.subqueries {
        let (t, _) = runner.chain(sub, false)?;
        runner
            .subs
            .push(eval::SubSet::new(t.rows.into_iter().filter_map(|r| r.into_iter().next())));
    }
    let (table, truncated) = runner.chain(&compiled.chain, true)?;
    Ok(QueryResult {
        columns: table
            .schema
            .iter()
            .map(|c| ResultColumn { name: c.name.clone(), ty: c.ty })
            .collect(),
        rows: table.rows,
        truncated,
        render: compiled.render.clone(),
        sql: runner.log,
    })
}

/// The SQL a query would send first, without running it (for tests and `EXPLAIN`-style output).
pub fn explain(text: &str, now: i64, dialect: Dialect) -> Result<Vec<SqlLog>, QueryError> {
    struct Recorder {
        dialect: Dialect,
        seen: std::cell::RefCell<Vec<(String, Vec<Param>)>>,
    }
    impl SqlSource for Recorder {
        fn dialect(&self) -> Dialect {
            self.dialect
        }
        fn fetch(
            &self,
            sql: &str,
            params: &[Param],
            _: usize,
            _: Duration,
        ) -> Result<Rows, FetchError> {
            self.seen.borrow_mut().push((sql.to_string(), params.to_vec()));
            Ok(Rows::default())
        }
    }
    let rec = Recorder { dialect, seen: std::cell::RefCell::new(Vec::new()) };
    let r = run(&rec, text, &RunOptions::new(now))?;
    Ok(r.sql)
}
