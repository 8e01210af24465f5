//! Fuzz target for the hunting language: any text must compile to a plan or an error, never panic.
//!
//! Text that compiles is also run against a source that returns no rows, so
//! the SQL renderer (both dialects) and the evaluator's operators see it.
#![no_main]

use std::time::Duration;

use otwatch_query::{Dialect, FetchError, Param, Rows, RunOptions, SqlSource};

struct Empty;

impl SqlSource for Empty {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }
    fn fetch(&self, _: &str, _: &[Param], _: usize, _: Duration) -> Result<Rows, FetchError> {
        Ok(Rows::default())
    }
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let now = 1_709_337_600_000_000;
    match otwatch_query::compile(text, now) {
        Err(e) => {
            let _ = e.render(text);
        }
        Ok(_) => {
            let mut opts = RunOptions::new(now);
            opts.time_limit = Duration::from_secs(2);
            let _ = otwatch_query::run(&Empty, text, &opts);
            let _ = otwatch_query::explain(text, now, Dialect::Postgres);
        }
    }
});
