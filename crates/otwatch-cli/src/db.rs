//! `otwatch db …`: backup, restore, integrity check, statistics and retention of the data directory.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Result;

use otwatch_store::{RetentionPolicy, Store};
use otwatch_store_sqlite::SqliteStore;

use crate::context::{Ctx, now};

/// `db` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum DbCmd {
    /// Write a consistent copy of the database to FILE while otwatch keeps running.
    Backup {
        /// The backup file to create (must not exist).
        file: PathBuf,
    },
    /// Replace the database with a backup. Stop `otwatch serve` and `otwatch sensor`
    /// on this data directory first; the previous database is kept as otwatch.db.previous.
    Restore {
        /// The backup file.
        file: PathBuf,
    },
    /// Run SQLite's integrity check on the database.
    Check,
    /// Counts and sizes of what is stored.
    Stats,
    /// Apply the retention limits (retention.*) now.
    Retention,
}

/// The retention policy from the configuration.
pub fn policy(cfg: &otwatch_config::Config) -> RetentionPolicy {
    RetentionPolicy {
        alert_max_age: Some(cfg.retention.alerts_max_age).filter(|a| *a > 0),
        alert_max_count: Some(cfg.retention.alerts_max_count),
        event_max_age: Some(cfg.retention.events_max_age).filter(|a| *a > 0),
        event_max_count: Some(cfg.retention.events_max_count),
        pcap_max_bytes: Some(cfg.retention.pcap_max_bytes),
    }
}

/// Runs a `db` command. Returns false when the check found problems.
pub fn run(config: otwatch_config::Config, cmd: DbCmd, out: &mut dyn Write) -> Result<bool> {
    if let DbCmd::Restore { file } = &cmd {
        let r = otwatch_store_sqlite::restore(&config.data_dir, file)?;
        writeln!(
            out,
            "restored {} ({} alerts, schema {}, {} bytes) into {}",
            file.display(),
            r.alerts,
            r.schema_version,
            r.bytes,
            config.data_dir.display()
        )?;
        return Ok(true);
    }
    let store = SqliteStore::open_dir(&config.data_dir)?;
    match cmd {
        DbCmd::Backup { file } => {
            let started = std::time::Instant::now();
            let r = store.backup_to(&file)?;
            writeln!(
                out,
                "backup written to {}: {} alerts, {} bytes, schema {} ({:.1} s)",
                file.display(),
                r.alerts,
                r.bytes,
                r.schema_version,
                started.elapsed().as_secs_f64()
            )?;
        }
        DbCmd::Check => {
            let problems = store.integrity_check()?;
            if problems.is_empty() {
                writeln!(out, "integrity check: ok ({})", store.path().display())?;
            } else {
                for p in &problems {
                    writeln!(out, "problem: {p}")?;
                }
                return Ok(false);
            }
        }
        DbCmd::Stats => {
            let s = store.stats()?;
            writeln!(
                out,
                "database   {} ({:.1} MB, schema {})",
                store.path().display(),
                s.size_bytes as f64 / 1e6,
                store.schema_version()?
            )?;
            writeln!(out, "alerts     {}", s.alerts)?;
            writeln!(out, "events     {}", s.events)?;
            writeln!(out, "devices    {}", s.devices)?;
            writeln!(out, "connections {}", s.connections)?;
            writeln!(out, "pcap       {} file(s), {:.1} MB", s.pcaps, s.pcap_bytes as f64 / 1e6)?;
        }
        DbCmd::Retention => {
            let ctx = Ctx { store: std::sync::Arc::new(store), config };
            let r = ctx.store.apply_retention(&policy(&ctx.config), now())?;
            writeln!(
                out,
                "removed {} alert(s), {} event(s), {} PCAP file(s) ({:.1} MB), {} idempotency key(s)",
                r.alerts,
                r.events,
                r.pcaps,
                r.pcap_bytes as f64 / 1e6,
                r.ingest_keys
            )?;
        }
        DbCmd::Restore { .. } => {}
    }
    Ok(true)
}
