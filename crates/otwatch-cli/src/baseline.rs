//! `otwatch baseline …`: export the learned baseline to a readable file, import one, summarise it.
//!
//! The file is JSON Lines, one entry per line, sorted by kind and key:
//! `{"kind":"pair","key":"10.0.0.5|10.0.0.9","detail":{},"source_alert":null,
//! "created_at":"2024-03-02T10:00:00Z","created_by":"learning"}`. The kinds
//! and their keys are in `docs/detection.md` (`otwatch baseline kinds` prints
//! them). Importing validates every line and reports bad ones with their line
//! number; good lines are added (entries already present are kept).

use std::collections::BTreeMap;
use std::io::{BufRead, Write};

use anyhow::{Context as _, Result};

use otwatch_detect::baseline::{FactKind, validate_entry};
use otwatch_model::BaselineEntry;
use otwatch_model::baseline::ALERT_KIND;
use otwatch_sensor::detect::MODE_KIND;

use crate::context::Ctx;

/// `otwatch baseline …`
#[derive(Debug, clap::Subcommand)]
pub enum BaselineCmd {
    /// Write the baseline as JSON Lines (to standard output, or --out FILE).
    Export {
        /// Only entries of this kind (device, pair, protocol, port, operation, range, firmware, …, alert).
        #[arg(long)]
        kind: Option<String>,
        /// File to write instead of standard output.
        #[arg(long, value_name = "FILE")]
        out: Option<std::path::PathBuf>,
    },
    /// Add the entries of an exported file (or - for standard input) to the baseline.
    Import {
        /// The file.
        input: String,
    },
    /// Count the baseline's entries per kind.
    Summary,
    /// Explain the kinds of entries and their keys.
    Kinds,
}

/// Runs a baseline command; returns false when some input was rejected.
pub fn run(ctx: &Ctx, cmd: &BaselineCmd, out: &mut dyn Write) -> Result<bool> {
    match cmd {
        BaselineCmd::Export { kind, out: file } => {
            let mut entries = ctx.store.baseline(kind.as_deref())?;
            entries.sort_by(|a, b| (&a.kind, &a.key).cmp(&(&b.kind, &b.key)));
            let mut text = String::new();
            for e in &entries {
                text.push_str(&serde_json::to_string(e)?);
                text.push('\n');
            }
            match file {
                Some(p) => {
                    std::fs::write(p, text).with_context(|| format!("writing {}", p.display()))?;
                    eprintln!("{} entries written to {}", entries.len(), p.display());
                }
                None => out.write_all(text.as_bytes())?,
            }
            Ok(true)
        }
        BaselineCmd::Import { input } => import(ctx, input, out),
        BaselineCmd::Summary => {
            let mut counts: BTreeMap<String, u64> = BTreeMap::new();
            for e in ctx.store.baseline(None)? {
                *counts.entry(e.kind).or_default() += 1;
            }
            if counts.is_empty() {
                writeln!(out, "The baseline is empty (a sensor in learning mode fills it).")?;
            }
            for (k, n) in counts {
                writeln!(out, "{k:<12} {n}")?;
            }
            Ok(true)
        }
        BaselineCmd::Kinds => {
            for k in FactKind::ALL {
                writeln!(out, "{:<12} {}", k.as_str(), k.doc())?;
            }
            writeln!(out, "{ALERT_KIND:<12} A learned alert (key: its traffic fingerprint).")?;
            writeln!(
                out,
                "{MODE_KIND:<12} When a sensor started and ended learning (key: sensor|learning_started, sensor|learning_ended)."
            )?;
            Ok(true)
        }
    }
}

fn import(ctx: &Ctx, input: &str, out: &mut dyn Write) -> Result<bool> {
    let reader: Box<dyn BufRead> = if input == "-" {
        Box::new(std::io::BufReader::new(std::io::stdin()))
    } else {
        let f = std::fs::File::open(input).with_context(|| format!("opening {input}"))?;
        Box::new(std::io::BufReader::new(f))
    };
    let mut good: Vec<BaselineEntry> = Vec::new();
    let mut bad = 0u64;
    for (i, line) in reader.lines().enumerate() {
        let line = line.with_context(|| format!("reading {input}"))?;
        let t = line.trim();
        if t.is_empty() {
            continue;
        }
        let n = i + 1;
        let entry: BaselineEntry = match serde_json::from_str(t) {
            Ok(e) => e,
            Err(e) => {
                eprintln!("line {n}: {e}");
                bad += 1;
                continue;
            }
        };
        let check = if entry.kind == MODE_KIND {
            if entry.key.contains('|') {
                Ok(())
            } else {
                Err(format!(
                    "a {MODE_KIND} key is sensor|learning_started or sensor|learning_ended"
                ))
            }
        } else {
            validate_entry(&entry.kind, &entry.key)
        };
        match check {
            Ok(()) => good.push(entry),
            Err(e) => {
                eprintln!("line {n}: {e}");
                bad += 1;
            }
        }
    }
    let mut added = 0;
    for chunk in good.chunks(10_000) {
        added += ctx.store.add_baseline(chunk)?;
    }
    writeln!(
        out,
        "{} entries read: {added} added, {} already in the baseline, {bad} rejected",
        good.len() as u64 + bad,
        good.len() as u64 - added
    )?;
    Ok(bad == 0)
}
