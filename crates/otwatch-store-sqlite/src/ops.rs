//! Operations on the database as a whole: retention passes, statistics, online backup and restore.

use std::path::Path;

use rusqlite::{Connection, OpenFlags, params};

use otwatch_model::Timestamp;
use otwatch_store::{Result, RetentionPolicy, RetentionReport, StoreError, StoreStats};

use crate::{DB_FILE, SCHEMA_VERSION, SqliteStore, backend_err};

/// Rows deleted per transaction in a retention pass, so writers are never blocked long.
const RETENTION_CHUNK: i64 = 5_000;

/// Runs `sql`, a DELETE whose parameters are `binds` and then the chunk size,
/// until a run deletes less than a chunk; the rows deleted.
fn chunked(store: &SqliteStore, sql: &str, binds: &[i64]) -> Result<u64> {
    let args: Vec<i64> = binds.iter().copied().chain([RETENTION_CHUNK]).collect();
    let mut total = 0u64;
    loop {
        let n = store
            .write(|tx| tx.execute(sql, rusqlite::params_from_iter(&args)).map_err(backend_err))?;
        total += n as u64;
        if (n as i64) < RETENTION_CHUNK {
            return Ok(total);
        }
    }
}

/// When an alert was last touched, as retention reads it (`last_touched`
/// is NULL for alerts stored before migration 10).
const TOUCHED: &str = "coalesce(last_touched, last_activity)";

/// Deletes the alerts `victims` selects (a `SELECT id FROM alerts …` over
/// `binds`), with their comments and PCAP, in small transactions; counts
/// them and the PCAP they free into `r`.
fn delete_alerts(
    store: &SqliteStore,
    victims: &str,
    binds: &[i64],
    r: &mut RetentionReport,
) -> Result<()> {
    let (n, bytes): (i64, i64) = store.read(|c| {
        c.query_row(
            &format!(
                "SELECT count(*), coalesce(sum(bytes), 0) FROM alert_pcaps WHERE alert_id IN ({victims})"
            ),
            rusqlite::params_from_iter(binds),
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .map_err(backend_err)
    })?;
    r.pcaps += n.max(0) as u64;
    r.pcap_bytes += bytes.max(0) as u64;
    let limit = binds.len() + 1;
    r.alerts += chunked(
        store,
        &format!("DELETE FROM alerts WHERE id IN ({victims} LIMIT ?{limit})"),
        binds,
    )?;
    Ok(())
}

/// Deletes the least recently touched alerts beyond `max`.
fn alerts_over_count(store: &SqliteStore, max: u64, r: &mut RetentionReport) -> Result<()> {
    let count: i64 = store.read(|c| {
        c.query_row("SELECT count(*) FROM alerts", [], |row| row.get(0)).map_err(backend_err)
    })?;
    let excess = count.saturating_sub(max as i64);
    if excess <= 0 {
        return Ok(());
    }
    // The last victim: the excess-th least recently touched (ties by id).
    let (at, id): (i64, i64) = store.read(|c| {
        c.query_row(
            &format!("SELECT {TOUCHED}, id FROM alerts ORDER BY 1, 2 LIMIT 1 OFFSET ?"),
            [excess - 1],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .map_err(backend_err)
    })?;
    let victims =
        format!("SELECT id FROM alerts WHERE {TOUCHED} < ?1 OR ({TOUCHED} = ?1 AND id <= ?2)");
    delete_alerts(store, &victims, &[at, id], r)
}

/// Deletes what the policy no longer keeps, in small transactions.
pub(crate) fn retention(
    store: &SqliteStore,
    p: &RetentionPolicy,
    now: Timestamp,
) -> Result<RetentionReport> {
    let mut r = RetentionReport::default();
    if let Some(age) = p.alert_max_age {
        let cutoff = now.0.saturating_sub(age);
        let victims =
            format!("SELECT id FROM alerts WHERE first_detection < ?1 AND {TOUCHED} < ?1");
        delete_alerts(store, &victims, &[cutoff], &mut r)?;
        r.ingest_keys = chunked(
            store,
            "DELETE FROM ingest_keys WHERE k IN (SELECT k FROM ingest_keys WHERE at < ?1 LIMIT ?2)",
            &[cutoff],
        )?;
    }
    if let Some(max) = p.alert_max_count {
        alerts_over_count(store, max, &mut r)?;
    }
    if let Some(age) = p.event_max_age {
        let cutoff = now.0.saturating_sub(age);
        r.events += chunked(
            store,
            "DELETE FROM events WHERE id IN (SELECT id FROM events WHERE at < ?1 LIMIT ?2)",
            &[cutoff],
        )?;
    }
    if let Some(max) = p.event_max_count {
        let count: i64 = store.read(|c| {
            c.query_row("SELECT count(*) FROM events", [], |row| row.get(0)).map_err(backend_err)
        })?;
        let excess = count.saturating_sub(max as i64);
        if excess > 0 {
            // Delete the `excess` oldest: up to the excess-th oldest (by time, then id).
            let (at, id): (i64, i64) = store.read(|c| {
                c.query_row(
                    "SELECT at, id FROM events ORDER BY at, id LIMIT 1 OFFSET ?",
                    [excess - 1],
                    |row| Ok((row.get(0)?, row.get(1)?)),
                )
                .map_err(backend_err)
            })?;
            r.events += chunked(
                store,
                "DELETE FROM events WHERE id IN \
                 (SELECT id FROM events WHERE at < ?1 OR (at = ?1 AND id <= ?2) LIMIT ?3)",
                &[at, id],
            )?;
        }
    }
    if let Some(max) = p.pcap_max_bytes {
        loop {
            let total: i64 = store.read(|c| {
                c.query_row("SELECT coalesce(sum(bytes), 0) FROM alert_pcaps", [], |row| row.get(0))
                    .map_err(backend_err)
            })?;
            if total as u64 <= max {
                break;
            }
            // Oldest evidence first (by the alert's first detection).
            let (n, freed) = store.write(|tx| {
                let victims: Vec<(i64, i64)> = {
                    let mut st = tx
                        .prepare(
                            "SELECT p.alert_id, p.bytes FROM alert_pcaps p JOIN alerts a ON a.id = p.alert_id \
                             ORDER BY a.first_detection, p.alert_id LIMIT 500",
                        )
                        .map_err(backend_err)?;
                    st.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
                        .map_err(backend_err)?
                        .collect::<rusqlite::Result<Vec<_>>>()
                        .map_err(backend_err)?
                };
                let mut over = total as u64 - max;
                let (mut n, mut freed) = (0u64, 0u64);
                for (id, bytes) in victims {
                    if over == 0 {
                        break;
                    }
                    tx.execute("DELETE FROM alert_pcaps WHERE alert_id = ?", [id]).map_err(backend_err)?;
                    n += 1;
                    freed += bytes.max(0) as u64;
                    over = over.saturating_sub(bytes.max(0) as u64);
                }
                Ok((n, freed))
            })?;
            r.pcaps += n;
            r.pcap_bytes += freed;
            if n == 0 {
                break;
            }
        }
    }
    Ok(r)
}

/// Counts and sizes.
pub(crate) fn stats(c: &Connection) -> Result<StoreStats> {
    let one = |sql: &str| -> Result<u64> {
        c.query_row(sql, [], |r| r.get::<_, i64>(0)).map(|n| n.max(0) as u64).map_err(backend_err)
    };
    Ok(StoreStats {
        alerts: one("SELECT count(*) FROM alerts")?,
        events: one("SELECT count(*) FROM events")?,
        devices: one("SELECT count(*) FROM devices")?,
        connections: one("SELECT count(*) FROM connections")?,
        pcaps: one("SELECT count(*) FROM alert_pcaps")?,
        pcap_bytes: one("SELECT coalesce(sum(bytes), 0) FROM alert_pcaps")?,
        size_bytes: one(
            "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()",
        )?,
    })
}

/// What a backup wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BackupReport {
    /// Bytes written.
    pub bytes: u64,
    /// Alerts in the backup.
    pub alerts: u64,
    /// Schema version of the backup.
    pub schema_version: u32,
}

impl SqliteStore {
    /// Writes a consistent copy of the database to `dest` while the store is
    /// in use (one read snapshot; writers keep going). `dest` must not exist.
    pub fn backup_to(&self, dest: &Path) -> Result<BackupReport> {
        if dest.exists() {
            return Err(StoreError::invalid(
                "destination",
                format!("{} already exists; choose a new file", dest.display()),
            ));
        }
        let text = dest
            .to_str()
            .ok_or_else(|| StoreError::invalid("destination", "the path must be valid UTF-8"))?;
        let mut conn = Connection::open_with_flags(self.path(), OpenFlags::SQLITE_OPEN_READ_ONLY)
            .map_err(backend_err)?;
        crate::set_busy_wait(&mut conn)?;
        conn.execute("VACUUM INTO ?", [text]).map_err(backend_err)?;
        check_backup(dest)
    }
}

/// Checks a backup file: integrity, schema version, tables. Returns its summary.
pub fn check_backup(file: &Path) -> Result<BackupReport> {
    let c = Connection::open_with_flags(file, OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(|e| {
        StoreError::invalid("backup", format!("{}: cannot open: {e}", file.display()))
    })?;
    let ok: String = c.query_row("PRAGMA integrity_check", [], |r| r.get(0)).map_err(|e| {
        StoreError::invalid("backup", format!("{} is not an otwatch database: {e}", file.display()))
    })?;
    if ok != "ok" {
        return Err(StoreError::invalid(
            "backup",
            format!("{} fails the integrity check: {ok}", file.display()),
        ));
    }
    let version: u32 = c.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(backend_err)?;
    if version == 0 || version > SCHEMA_VERSION {
        return Err(StoreError::invalid(
            "backup",
            format!(
                "{} has schema version {version}; this otwatch reads versions 1 to {SCHEMA_VERSION}",
                file.display()
            ),
        ));
    }
    let alerts: i64 =
        c.query_row("SELECT count(*) FROM alerts", [], |r| r.get(0)).map_err(|e| {
            StoreError::invalid("backup", format!("{} has no alerts table: {e}", file.display()))
        })?;
    let bytes = std::fs::metadata(file).map(|m| m.len()).unwrap_or(0);
    Ok(BackupReport { bytes, alerts: alerts.max(0) as u64, schema_version: version })
}

/// Replaces the database in `dir` with the backup `file`. Refuses while any
/// otwatch process has the data directory open. The previous database is
/// kept as `otwatch.db.previous`.
pub fn restore(dir: &Path, file: &Path) -> Result<BackupReport> {
    let report = check_backup(file)?;
    std::fs::create_dir_all(dir)
        .map_err(|e| StoreError::Backend(format!("cannot create {}: {e}", dir.display())))?;
    let lock = crate::DataDirLock::exclusive(dir)?;
    let db = dir.join(DB_FILE);
    let tmp = dir.join(format!("{DB_FILE}.restoring"));
    std::fs::copy(file, &tmp)
        .map_err(|e| StoreError::Backend(format!("copying {}: {e}", file.display())))?;
    std::fs::File::open(&tmp)
        .and_then(|f| f.sync_all())
        .map_err(|e| StoreError::Backend(format!("syncing: {e}")))?;
    if db.exists() {
        // Fold any WAL content into the old file before keeping it.
        if let Ok(c) = Connection::open(&db) {
            let _ = c.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);");
        }
        std::fs::rename(&db, dir.join(format!("{DB_FILE}.previous")))
            .map_err(|e| StoreError::Backend(format!("keeping the old database: {e}")))?;
    }
    for ext in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(dir.join(format!("{DB_FILE}{ext}")));
    }
    std::fs::rename(&tmp, &db)
        .map_err(|e| StoreError::Backend(format!("putting the backup in place: {e}")))?;
    drop(lock);
    Ok(report)
}

/// Longest preference or setting value.
const MAX_PREF_VALUE: usize = 16 * 1024;

fn check_key(key: &str) -> Result<()> {
    if key.is_empty()
        || key.len() > 100
        || !key.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
    {
        return Err(StoreError::invalid(
            "key",
            "keys are 1–100 characters of letters, digits, . _ -",
        ));
    }
    Ok(())
}

pub(crate) fn user_pref(c: &Connection, owner: &str, key: &str) -> Result<Option<String>> {
    use rusqlite::OptionalExtension;
    c.prepare_cached("SELECT value FROM user_prefs WHERE owner = ? AND key = ?")
        .map_err(backend_err)?
        .query_row(params![owner, key], |r| r.get(0))
        .optional()
        .map_err(backend_err)
}

pub(crate) fn set_user_pref(tx: &Connection, owner: &str, key: &str, value: &str) -> Result<()> {
    check_key(key)?;
    if value.len() > MAX_PREF_VALUE {
        return Err(StoreError::invalid("value", format!("at most {MAX_PREF_VALUE} bytes")));
    }
    if value.is_empty() {
        tx.execute("DELETE FROM user_prefs WHERE owner = ? AND key = ?", params![owner, key])
            .map_err(backend_err)?;
    } else {
        tx.execute(
            "INSERT INTO user_prefs (owner, key, value) VALUES (?, ?, ?) ON CONFLICT (owner, key) DO UPDATE SET value = excluded.value",
            params![owner, key, value],
        )
        .map_err(backend_err)?;
    }
    Ok(())
}

pub(crate) fn settings(c: &Connection) -> Result<std::collections::BTreeMap<String, String>> {
    let mut st = c.prepare_cached("SELECT key, value FROM settings").map_err(backend_err)?;
    st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .map_err(backend_err)?
        .collect::<rusqlite::Result<_>>()
        .map_err(backend_err)
}

pub(crate) fn set_setting(
    tx: &Connection,
    key: &str,
    value: &str,
    actor: &otwatch_model::Actor,
    now: Timestamp,
) -> Result<()> {
    check_key(key)?;
    if value.len() > MAX_PREF_VALUE {
        return Err(StoreError::invalid("value", format!("at most {MAX_PREF_VALUE} bytes")));
    }
    use rusqlite::OptionalExtension;
    let before: Option<String> = tx
        .query_row("SELECT value FROM settings WHERE key = ?", [key], |r| r.get(0))
        .optional()
        .map_err(backend_err)?;
    tx.execute(
        "INSERT INTO settings (key, value, updated_at, updated_by) VALUES (?, ?, ?, ?) \
         ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at, updated_by = excluded.updated_by",
        params![key, value, now.0, actor.name],
    )
    .map_err(backend_err)?;
    let summary = format!("{key}: {} → {value}", before.as_deref().unwrap_or("(default)"));
    crate::auth::audit(tx, actor, "setting_change", "setting", key, &summary, now)
}
