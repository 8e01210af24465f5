//! `otwatch ingest`: store alerts from external sources given as JSON Lines.
//!
//! Each line is one detection (schema in `docs/ingest.md`). A line that is
//! not valid JSON, has unknown fields, or names an unknown alert type is
//! reported with its line number and skipped; every good line is stored, in
//! batches, with the store's idempotency and de-duplication.

use std::io::{BufRead, Read, Write};
use std::time::Instant;

use anyhow::{Context as _, Result};

use otwatch_model::Detection;
use otwatch_store::{IngestOptions, IngestReport};

use crate::context::{Ctx, now};

/// Longest line accepted (bytes).
const MAX_LINE: usize = 1 << 20;

/// What `otwatch ingest` did.
#[derive(Debug, Default, serde::Serialize)]
pub struct Summary {
    /// Lines read (blank lines excluded).
    pub lines: u64,
    /// Lines rejected, with their numbers and reasons.
    pub rejected: Vec<(u64, String)>,
    /// The store's report, summed over batches.
    #[serde(skip)]
    pub report: IngestReport,
    /// Seconds spent.
    pub seconds: f64,
}

impl Summary {
    /// The JSON form printed by `--json`.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "lines": self.lines,
            "accepted": self.lines - self.rejected.len() as u64,
            "rejected": self.rejected.iter().map(|(l, m)| serde_json::json!({"line": l, "error": m})).collect::<Vec<_>>(),
            "opened": self.report.opened,
            "updated": self.report.updated,
            "duplicates": self.report.duplicates,
            "excluded": self.report.excluded,
            "suppressed_learned": self.report.suppressed_learned,
            "suppressed_muted": self.report.suppressed_muted,
            "auto_closed": self.report.auto_closed,
            "seconds": self.seconds,
        })
    }
}

/// Reads JSON Lines from `input` and stores them. Bad lines are reported on `err` as they are found.
pub fn run(ctx: &Ctx, input: &mut dyn BufRead, err: &mut dyn Write) -> Result<Summary> {
    let started = Instant::now();
    let catalog = otwatch_model::catalog::builtin();
    let batch_size = ctx.config.ingest_batch;
    let mut s = Summary::default();
    let mut batch: Vec<Detection> = Vec::with_capacity(batch_size);
    let mut lines_of_batch: Vec<u64> = Vec::with_capacity(batch_size);
    let mut line_no = 0u64;
    let mut buf = Vec::new();
    let flush = |batch: &mut Vec<Detection>,
                 lines: &mut Vec<u64>,
                 s: &mut Summary,
                 err: &mut dyn Write|
     -> Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        let opts =
            IngestOptions { catalog, now: now(), auto_close_after: ctx.config.auto_close_after };
        let mut r = ctx.store.ingest(batch, &opts).context("storing a batch")?;
        for (i, msg) in std::mem::take(&mut r.rejected) {
            let line = lines.get(i).copied().unwrap_or(0);
            writeln!(err, "line {line}: {msg}")?;
            s.rejected.push((line, msg));
        }
        s.report.merge(r, 0);
        batch.clear();
        lines.clear();
        Ok(())
    };
    loop {
        buf.clear();
        let n = (&mut *input)
            .take(MAX_LINE as u64 + 1)
            .read_until(b'\n', &mut buf)
            .context("reading input")?;
        if n == 0 {
            break;
        }
        line_no += 1;
        if buf.len() > MAX_LINE && !buf.ends_with(b"\n") {
            // Skip the rest of an over-long line.
            let mut sink = Vec::new();
            input.read_until(b'\n', &mut sink)?;
            let msg = format!("line longer than {MAX_LINE} bytes");
            writeln!(err, "line {line_no}: {msg}")?;
            s.lines += 1;
            s.rejected.push((line_no, msg));
            continue;
        }
        let text = match std::str::from_utf8(&buf) {
            Ok(t) => t.trim(),
            Err(e) => {
                let msg = format!("not UTF-8 text ({e})");
                writeln!(err, "line {line_no}: {msg}")?;
                s.lines += 1;
                s.rejected.push((line_no, msg));
                continue;
            }
        };
        if text.is_empty() {
            continue;
        }
        s.lines += 1;
        match serde_json::from_str::<Detection>(text) {
            Ok(d) => {
                batch.push(d);
                lines_of_batch.push(line_no);
                if batch.len() >= batch_size {
                    flush(&mut batch, &mut lines_of_batch, &mut s, err)?;
                }
            }
            Err(e) => {
                let msg = format!("{e}");
                writeln!(err, "line {line_no}: {msg}")?;
                s.rejected.push((line_no, msg));
            }
        }
    }
    flush(&mut batch, &mut lines_of_batch, &mut s, err)?;
    s.rejected.sort_by_key(|(l, _)| *l);
    s.seconds = started.elapsed().as_secs_f64();
    Ok(s)
}

/// Prints the human summary.
pub fn print(s: &Summary, out: &mut dyn Write) -> Result<()> {
    let r = &s.report;
    let accepted = s.lines - s.rejected.len() as u64;
    writeln!(out, "read {} line(s): {accepted} accepted, {} rejected", s.lines, s.rejected.len())?;
    writeln!(
        out,
        "alerts opened {}, updated {}; skipped: {} already ingested, {} excluded by rules, {} learned, {} muted",
        r.opened, r.updated, r.duplicates, r.excluded, r.suppressed_learned, r.suppressed_muted
    )?;
    if r.auto_closed > 0 {
        writeln!(
            out,
            "{} quiet alert(s) auto-closed before their traffic came back",
            r.auto_closed
        )?;
    }
    let rate = if s.seconds > 0.0 { accepted as f64 / s.seconds } else { 0.0 };
    writeln!(out, "{accepted} detections in {:.2} s ({rate:.0}/s)", s.seconds)?;
    Ok(())
}
