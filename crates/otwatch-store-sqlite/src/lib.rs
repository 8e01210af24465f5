//! The SQLite adapter of the otwatch store: the embedded default backend.
//!
//! One database file (`otwatch.db`) in the data directory, in WAL mode so
//! readers never block the writer. One writer connection behind a mutex and a
//! few reader connections; writes run in `BEGIN IMMEDIATE` transactions,
//! shared by concurrent writes (group commit, `writer.rs`), and a busy handler
//! makes a second process (a sensor beside a console) wait its turn instead
//! of failing. Migrations are embedded and versioned with
//! `PRAGMA user_version`; a database from a newer otwatch is refused before
//! anything is changed. SQL text is built only from fixed fragments and
//! column names chosen from closed enums; every value is a bound parameter.

mod alerts;
mod auth;
mod hunt;
mod ops;
pub use ops::{BackupReport, check_backup, restore};
mod inventory;
mod rows;
mod rules;
mod sql;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, TransactionBehavior};

use otwatch_store::{Result, StoreError};

/// Embedded migrations: (version, SQL). Append only; never edit a shipped one.
const MIGRATIONS: &[(u32, &str)] = &[
    (1, include_str!("../migrations/0001_init.sql")),
    (2, include_str!("../migrations/0002_hunt_views.sql")),
    (3, include_str!("../migrations/0003_alert_pcaps.sql")),
    (4, include_str!("../migrations/0004_retention.sql")),
    (5, include_str!("../migrations/0005_saved_queries.sql")),
    (6, include_str!("../migrations/0006_search_and_group_indexes.sql")),
    (7, include_str!("../migrations/0007_preferences_and_settings.sql")),
    (8, include_str!("../migrations/0008_search_batched.sql")),
    (9, include_str!("../migrations/0009_status_severity_index.sql")),
    (10, include_str!("../migrations/0010_retention_touch.sql")),
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: u32 = 10;

/// Name of the database file inside the data directory.
pub const DB_FILE: &str = "otwatch.db";

/// How long a writer waits for another process's transaction.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// Reader connections kept open.
const READERS: usize = 4;

/// Ingest transactions between two `PRAGMA optimize` runs.
const OPTIMIZE_EVERY: usize = 200;

/// A lock on a data directory (`otwatch.lock`): every open store holds it
/// shared; a restore takes it exclusively, so it never swaps the database
/// under a running process.
#[derive(Debug)]
pub struct DataDirLock {
    _file: std::fs::File,
}

/// Name of the lock file inside the data directory.
pub const LOCK_FILE: &str = "otwatch.lock";

impl DataDirLock {
    fn open(dir: &Path) -> Result<std::fs::File> {
        std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(dir.join(LOCK_FILE))
            .map_err(|e| {
                StoreError::Backend(format!("cannot open the lock file in {}: {e}", dir.display()))
            })
    }

    /// A shared lock (an open store).
    pub fn shared(dir: &Path) -> Result<DataDirLock> {
        let f = Self::open(dir)?;
        f.try_lock_shared().map_err(|_| {
            StoreError::Conflict(format!(
                "the data directory {} is being restored; try again when it is done",
                dir.display()
            ))
        })?;
        Ok(DataDirLock { _file: f })
    }

    /// An exclusive lock (restore).
    pub fn exclusive(dir: &Path) -> Result<DataDirLock> {
        let f = Self::open(dir)?;
        f.try_lock().map_err(|_| {
            StoreError::Conflict(format!(
                "the data directory {} is in use by another otwatch process (serve or sensor); stop it first",
                dir.display()
            ))
        })?;
        Ok(DataDirLock { _file: f })
    }
}

/// A SQLite-backed store.
pub struct SqliteStore {
    _lock: Option<DataDirLock>,
    path: PathBuf,
    writer: writer::Writer,
    /// Per-fingerprint alert state kept between ingest batches; valid only
    /// while no other connection has written (checked with `PRAGMA
    /// data_version`) and cleared by every other write through this store.
    fp_cache: Mutex<alerts::FpCache>,
    readers: Vec<Mutex<Connection>>,
    next_reader: AtomicUsize,
    ingests: AtomicUsize,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").field("path", &self.path).finish()
    }
}

pub(crate) fn backend_err(e: rusqlite::Error) -> StoreError {
    if let rusqlite::Error::SqliteFailure(f, msg) = &e {
        match f.code {
            rusqlite::ErrorCode::DiskFull => {
                return StoreError::Full(msg.clone().unwrap_or_else(|| "disk full".into()));
            }
            rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked => {
                return StoreError::Backend(format!(
                    "another writer held the database for more than {} s ({e})",
                    BUSY_TIMEOUT.as_secs()
                ));
            }
            rusqlite::ErrorCode::ReadOnly => {
                return StoreError::Backend(format!("the database is read-only ({e})"));
            }
            _ => {}
        }
    }
    StoreError::Backend(e.to_string())
}

/// Waits for another connection's lock: polls every millisecond (with a
/// little jitter) until `BUSY_TIMEOUT` has passed since the first attempt.
///
/// SQLite's own `busy_timeout` backs off to 100 ms between attempts. A
/// process that writes batch after batch (`otwatch ingest`, a sensor) frees
/// the lock only for the few milliseconds between two transactions, so a
/// console write polling every 100 ms rarely saw it free and waited seconds,
/// up to the timeout (the load test's rare 5xx). Polling every millisecond
/// catches those gaps; each attempt is one non-blocking file-lock call.
fn wait_for_lock(attempt: i32) -> bool {
    thread_local! {
        static SINCE: std::cell::Cell<Option<std::time::Instant>> = const { std::cell::Cell::new(None) };
    }
    let now = std::time::Instant::now();
    let since = SINCE.with(|s| {
        if attempt == 0 || s.get().is_none() {
            s.set(Some(now));
        }
        s.get().unwrap_or(now)
    });
    if now.duration_since(since) >= BUSY_TIMEOUT {
        return false;
    }
    // Jitter from the clock keeps two waiting processes from polling in step.
    let jitter = u64::from(now.duration_since(since).subsec_nanos() % 500);
    std::thread::sleep(Duration::from_micros(750 + jitter));
    true
}

/// Installs `wait_for_lock` on a connection.
fn set_busy_wait(conn: &mut Connection) -> Result<()> {
    conn.busy_handler(Some(wait_for_lock)).map_err(backend_err)
}

fn configure(conn: &mut Connection) -> Result<()> {
    set_busy_wait(conn)?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = NORMAL;
         PRAGMA foreign_keys = ON;
         PRAGMA temp_store = MEMORY;
         PRAGMA cache_size = -65536;",
    )
    .map_err(backend_err)?;
    Ok(())
}

impl SqliteStore {
    /// Opens (creating if needed) the store in a data directory and migrates it.
    pub fn open_dir(dir: &Path) -> Result<SqliteStore> {
        std::fs::create_dir_all(dir).map_err(|e| {
            StoreError::Backend(format!("cannot create data directory {}: {e}", dir.display()))
        })?;
        let lock = DataDirLock::shared(dir)?;
        let mut s = SqliteStore::open_file(&dir.join(DB_FILE))?;
        s._lock = Some(lock);
        Ok(s)
    }

    /// Caps the size of the database file: writes that would grow it further
    /// fail with `StoreError::Full` (the same error a full disk gives), and
    /// nothing stored is lost. `0` lifts the cap.
    pub fn set_max_size(&self, bytes: u64) -> Result<()> {
        let slot = self.lock_writer();
        let conn = &slot.conn;
        let page: i64 =
            conn.query_row("PRAGMA page_size", [], |r| r.get(0)).map_err(backend_err)?;
        let pages =
            if bytes == 0 { 0xFFFF_FFFE_i64 } else { (bytes as i64 / page.max(512)).max(1) };
        // SQLite never lowers the limit below the current size; it answers with the limit in force.
        let _: i64 = conn
            .query_row(&format!("PRAGMA max_page_count = {pages}"), [], |r| r.get(0))
            .map_err(backend_err)?;
        Ok(())
    }

    /// Opens (creating if needed) a database file and migrates it.
    pub fn open_file(path: &Path) -> Result<SqliteStore> {
        let mut writer = Connection::open(path)
            .map_err(|e| StoreError::Backend(format!("cannot open {}: {e}", path.display())))?;
        configure(&mut writer)?;
        // The writer runs the same few statements once per detection. With
        // the per-value planner statistics (STAT4) SQLite re-planned each of
        // them at every newly bound value: a third of the ingest time (perf,
        // BENCHMARKS.md). Plans that ignore bound values keep them prepared.
        writer
            .set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)
            .map_err(backend_err)?;
        migrate(&writer, path)?;
        // Gather planner statistics on open where they are missing or stale.
        writer.execute_batch("PRAGMA optimize = 0x10002;").map_err(backend_err)?;
        let mut readers = Vec::with_capacity(READERS);
        for _ in 0..READERS {
            let mut r = Connection::open_with_flags(
                path,
                OpenFlags::SQLITE_OPEN_READ_ONLY
                    | OpenFlags::SQLITE_OPEN_NO_MUTEX
                    | OpenFlags::SQLITE_OPEN_URI,
            )
            .map_err(backend_err)?;
            set_busy_wait(&mut r)?;
            r.execute_batch("PRAGMA cache_size = -32768; PRAGMA temp_store = MEMORY; PRAGMA mmap_size = 1073741824;")
                .map_err(backend_err)?;
            readers.push(Mutex::new(r));
        }
        Ok(SqliteStore {
            _lock: None,
            path: path.to_path_buf(),
            writer: writer::Writer::new(writer),
            fp_cache: Mutex::new(alerts::FpCache::default()),
            readers,
            next_reader: AtomicUsize::new(0),
            ingests: AtomicUsize::new(0),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `PRAGMA integrity_check`; returns the problems (empty when sound).
    pub fn integrity_check(&self) -> Result<Vec<String>> {
        self.read(|c| {
            let mut st = c.prepare("PRAGMA integrity_check").map_err(backend_err)?;
            let rows = st.query_map([], |r| r.get::<_, String>(0)).map_err(backend_err)?;
            let mut out = Vec::new();
            for r in rows {
                let s = r.map_err(backend_err)?;
                if s != "ok" {
                    out.push(s);
                }
            }
            Ok(out)
        })
    }

    /// The writer connection with no transaction open.
    fn lock_writer(&self) -> MutexGuard<'_, writer::Slot> {
        self.writer.exclusive()
    }

    /// Runs `f` inside an immediate write transaction, possibly shared with
    /// writes from other threads (group commit, `writer.rs`); returns once the
    /// changes have committed. Any write other than ingest may change alert
    /// states, so the ingest cache is dropped.
    pub(crate) fn write<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        self.writer.write(|c| {
            self.fp_cache.lock().unwrap_or_else(|p| p.into_inner()).clear();
            f(c)
        })
    }

    /// Runs an ingest transaction with the fingerprint cache. The cache is
    /// emptied when another connection has committed since our last write,
    /// and when the transaction fails.
    pub(crate) fn write_ingest<T>(
        &self,
        f: impl FnOnce(&rusqlite::Transaction<'_>, &mut alerts::FpCache) -> Result<T>,
    ) -> Result<T> {
        let mut slot = self.lock_writer();
        let conn = &mut slot.conn;
        let mut cache = self.fp_cache.lock().unwrap_or_else(|p| p.into_inner());
        let tx =
            conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(backend_err)?;
        let version: i64 =
            tx.query_row("PRAGMA data_version", [], |r| r.get(0)).map_err(backend_err)?;
        cache.validate(version);
        let out = match f(&tx, &mut cache) {
            Ok(o) => o,
            Err(e) => {
                cache.clear();
                return Err(e);
            }
        };
        if let Err(e) = tx.commit() {
            cache.clear();
            return Err(backend_err(e));
        }
        // Keep the planner's statistics current as the tables grow (cheap; only
        // analyses what changed a lot).
        if self.ingests.fetch_add(1, Ordering::Relaxed) % OPTIMIZE_EVERY == OPTIMIZE_EVERY - 1 {
            let _ = conn.execute_batch("PRAGMA optimize;");
        }
        Ok(out)
    }

    /// Runs `f` on a reader connection (a consistent snapshot per statement;
    /// wrap several statements in `read_tx` for one snapshot).
    pub(crate) fn read<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let n = self.readers.len();
        let start = self.next_reader.fetch_add(1, Ordering::Relaxed);
        for i in 0..n {
            if let Some(m) = self.readers.get((start + i) % n)
                && let Ok(conn) = m.try_lock()
            {
                return f(&conn);
            }
        }
        match self.readers.get(start % n.max(1)) {
            Some(m) => {
                let conn = m.lock().unwrap_or_else(|p| p.into_inner());
                f(&conn)
            }
            None => f(&self.lock_writer().conn),
        }
    }

    /// Like [`SqliteStore::read`], with mutable access (for per-call hooks).
    pub(crate) fn read_mut<T>(&self, f: impl FnOnce(&mut Connection) -> Result<T>) -> Result<T> {
        let n = self.readers.len();
        let start = self.next_reader.fetch_add(1, Ordering::Relaxed);
        for i in 0..n {
            if let Some(m) = self.readers.get((start + i) % n)
                && let Ok(mut conn) = m.try_lock()
            {
                return f(&mut conn);
            }
        }
        match self.readers.get(start % n.max(1)) {
            Some(m) => {
                let mut conn = m.lock().unwrap_or_else(|p| p.into_inner());
                f(&mut conn)
            }
            None => f(&mut self.lock_writer().conn),
        }
    }

    /// Runs `f` on a reader inside a read transaction (one snapshot).
    pub(crate) fn read_tx<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        self.read(|c| {
            c.execute_batch("BEGIN").map_err(backend_err)?;
            let out = f(c);
            let _ = c.execute_batch("COMMIT");
            out
        })
    }
}

fn migrate(conn: &Connection, path: &Path) -> Result<()> {
    let found: u32 =
        conn.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(backend_err)?;
    if found > SCHEMA_VERSION {
        return Err(StoreError::SchemaTooNew {
            path: path.display().to_string(),
            found,
            supported: SCHEMA_VERSION,
        });
    }
    for (version, sql) in MIGRATIONS {
        // Re-read inside an immediate transaction: another process may be
        // migrating the same file at the same moment.
        conn.execute_batch("BEGIN IMMEDIATE").map_err(backend_err)?;
        let current: u32 =
            conn.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(backend_err)?;
        if current >= *version {
            conn.execute_batch("COMMIT").map_err(backend_err)?;
            continue;
        }
        let applied = conn
            .execute_batch(sql)
            .and_then(|()| conn.execute_batch(&format!("PRAGMA user_version = {version}")));
        match applied {
            Ok(()) => conn.execute_batch("COMMIT").map_err(backend_err)?,
            Err(e) => {
                let _ = conn.execute_batch("ROLLBACK");
                return Err(StoreError::Backend(format!("migration {version} failed: {e}")));
            }
        }
    }
    Ok(())
}

mod store_impl {
    //! `impl Store for SqliteStore`: dispatches to the topic modules.

    use otwatch_model::lifecycle::Action;
    use otwatch_model::{
        Actor, Alert, AlertField, AlertId, ApiToken, AuditRecord, BaselineEntry, Catalog,
        Connection as Conn, ConnectionObservation, Detection, Device, DeviceObservation, Event,
        ExclusionRule, ExclusionSpec, NewEvent, Role, Sensor, Timestamp, User,
    };
    use otwatch_store::{
        ActionOutcome, AggregatedAlert, AlertDetails, AlertPage, AlertQuery, AuditQuery,
        ConnectionQuery, DeviceGroup, DevicePatch, DeviceQuery, EventQuery, GroupCount,
        IngestOptions, IngestReport, Result, Store,
    };

    use crate::{SqliteStore, alerts, auth, inventory, rules};

    impl Store for SqliteStore {
        fn backend(&self) -> &'static str {
            "sqlite"
        }
        fn schema_version(&self) -> Result<u32> {
            self.read(|c| {
                c.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(crate::backend_err)
            })
        }
        fn ingest(&self, d: &[Detection], o: &IngestOptions<'_>) -> Result<IngestReport> {
            alerts::ingest(self, d, o)
        }
        fn alert(&self, id: AlertId) -> Result<Alert> {
            self.read(|c| alerts::get(c, id))
        }
        fn alert_details(&self, id: AlertId) -> Result<AlertDetails> {
            self.read_tx(|c| alerts::details(c, id))
        }
        fn list_alerts(&self, q: &AlertQuery) -> Result<AlertPage> {
            self.read(|c| alerts::list(c, q))
        }
        fn count_alerts(&self, q: &AlertQuery) -> Result<u64> {
            self.read(|c| alerts::count(c, q))
        }
        fn count_alerts_up_to(&self, q: &AlertQuery, cap: u64) -> Result<(u64, bool)> {
            self.read(|c| alerts::count_up_to(c, q, cap))
        }
        fn group_alerts(&self, q: &AlertQuery, by: AlertField) -> Result<Vec<GroupCount>> {
            self.read(|c| alerts::group(c, q, by))
        }
        fn for_each_alert(
            &self,
            q: &AlertQuery,
            f: &mut dyn FnMut(&Alert) -> Result<()>,
        ) -> Result<u64> {
            self.read_tx(|c| alerts::for_each(c, q, f))
        }
        fn apply(
            &self,
            ids: &[AlertId],
            a: &Action,
            actor: &Actor,
            now: Timestamp,
        ) -> Result<Vec<ActionOutcome>> {
            alerts::apply(self, ids, a, actor, now)
        }
        fn auto_close(&self, now: Timestamp, quiet: i64, actor: &Actor) -> Result<u64> {
            alerts::auto_close(self, now, quiet, actor)
        }
        fn aggregate_alerts(&self, q: &AlertQuery, period: i64) -> Result<Vec<AggregatedAlert>> {
            self.read_tx(|c| alerts::aggregate(c, q, period))
        }
        fn put_alert_pcap(&self, id: AlertId, pcap: &[u8]) -> Result<()> {
            self.write(|tx| alerts::put_pcap(tx, id, pcap))
        }
        fn alert_pcap(&self, id: AlertId) -> Result<Option<Vec<u8>>> {
            self.read(|c| alerts::pcap(c, id))
        }
        fn create_exclusion(
            &self,
            s: &ExclusionSpec,
            cat: &Catalog,
            a: &Actor,
            now: Timestamp,
        ) -> Result<ExclusionRule> {
            rules::create(self, s, cat, a, now)
        }
        fn update_exclusion(
            &self,
            id: i64,
            s: &ExclusionSpec,
            cat: &Catalog,
            a: &Actor,
            now: Timestamp,
        ) -> Result<ExclusionRule> {
            rules::update(self, id, s, cat, a, now)
        }
        fn delete_exclusion(&self, id: i64, a: &Actor, now: Timestamp) -> Result<()> {
            rules::delete(self, id, a, now)
        }
        fn exclusion(&self, id: i64) -> Result<ExclusionRule> {
            self.read(|c| rules::get(c, id))
        }
        fn list_exclusions(&self) -> Result<Vec<ExclusionRule>> {
            self.read(rules::list)
        }
        fn baseline(&self, kind: Option<&str>) -> Result<Vec<BaselineEntry>> {
            self.read(|c| rules::baseline(c, kind))
        }
        fn add_baseline(&self, e: &[BaselineEntry]) -> Result<u64> {
            self.write(|tx| rules::add_baseline(tx, e))
        }
        fn remove_baseline(&self, kind: &str, key: &str) -> Result<bool> {
            self.write(|tx| rules::remove_baseline(tx, kind, key))
        }
        fn upsert_devices(&self, obs: &[DeviceObservation]) -> Result<Vec<i64>> {
            self.write(|tx| inventory::upsert_devices(tx, obs))
        }
        fn device(&self, id: i64) -> Result<Device> {
            self.read(|c| inventory::device(c, id))
        }
        fn list_devices(&self, q: &DeviceQuery) -> Result<Vec<Device>> {
            self.read(|c| inventory::list_devices(c, q))
        }
        fn count_devices(&self, q: &DeviceQuery) -> Result<u64> {
            self.read(|c| inventory::count_devices(c, q))
        }
        fn group_devices(&self, q: &DeviceQuery, by: DeviceGroup) -> Result<Vec<GroupCount>> {
            self.read(|c| inventory::group_devices(c, q, by))
        }
        fn update_device(
            &self,
            id: i64,
            p: &DevicePatch,
            a: &Actor,
            now: Timestamp,
        ) -> Result<Device> {
            self.write(|tx| inventory::update_device(tx, id, p, a, now))
        }
        fn upsert_connections(&self, obs: &[ConnectionObservation]) -> Result<u64> {
            self.write(|tx| inventory::upsert_connections(tx, obs))
        }
        fn upsert_connections_once(
            &self,
            key: &NewEvent,
            obs: &[ConnectionObservation],
        ) -> Result<Option<u64>> {
            self.write(|tx| {
                if inventory::append_events(tx, std::slice::from_ref(key))? == 0 {
                    return Ok(None);
                }
                inventory::upsert_connections(tx, obs).map(Some)
            })
        }
        fn list_connections(&self, q: &ConnectionQuery) -> Result<Vec<Conn>> {
            self.read(|c| inventory::list_connections(c, q))
        }
        fn append_events(&self, e: &[NewEvent]) -> Result<u64> {
            self.write(|tx| inventory::append_events(tx, e))
        }
        fn list_events(&self, q: &EventQuery) -> Result<Vec<Event>> {
            self.read(|c| inventory::list_events(c, q))
        }
        fn upsert_sensor(&self, s: &Sensor) -> Result<()> {
            self.write(|tx| inventory::upsert_sensor(tx, s))
        }
        fn list_sensors(&self) -> Result<Vec<Sensor>> {
            self.read(inventory::list_sensors)
        }
        fn create_user(
            &self,
            n: &str,
            r: Role,
            h: &str,
            a: &Actor,
            now: Timestamp,
        ) -> Result<User> {
            self.write(|tx| auth::create_user(tx, n, r, h, a, now))
        }
        fn user_by_name(&self, n: &str) -> Result<Option<User>> {
            self.read(|c| auth::user_by_name(c, n))
        }
        fn list_users(&self) -> Result<Vec<User>> {
            self.read(auth::list_users)
        }
        fn set_user_role(&self, n: &str, r: Role, a: &Actor, now: Timestamp) -> Result<User> {
            self.write(|tx| auth::set_role(tx, n, r, a, now))
        }
        fn set_user_password(&self, n: &str, h: &str, a: &Actor, now: Timestamp) -> Result<()> {
            self.write(|tx| auth::set_password(tx, n, h, a, now))
        }
        fn set_user_disabled(&self, n: &str, d: bool, a: &Actor, now: Timestamp) -> Result<()> {
            self.write(|tx| auth::set_disabled(tx, n, d, a, now))
        }
        fn delete_user(&self, n: &str, a: &Actor, now: Timestamp) -> Result<()> {
            self.write(|tx| auth::delete_user(tx, n, a, now))
        }
        fn touch_login(&self, n: &str, now: Timestamp) -> Result<()> {
            self.write(|tx| auth::touch_login(tx, n, now))
        }
        fn create_token(
            &self,
            n: &str,
            r: Role,
            h: &str,
            p: &str,
            e: Option<Timestamp>,
            a: &Actor,
            now: Timestamp,
        ) -> Result<ApiToken> {
            self.write(|tx| auth::create_token(tx, n, r, h, p, e, a, now))
        }
        fn token_by_hash(&self, h: &str) -> Result<Option<ApiToken>> {
            self.read(|c| auth::token_by_hash(c, h))
        }
        fn list_tokens(&self) -> Result<Vec<ApiToken>> {
            self.read(auth::list_tokens)
        }
        fn revoke_token(&self, id: i64, a: &Actor, now: Timestamp) -> Result<()> {
            self.write(|tx| auth::revoke_token(tx, id, a, now))
        }
        fn touch_token(&self, id: i64, now: Timestamp) -> Result<()> {
            self.write(|tx| auth::touch_token(tx, id, now))
        }
        fn record_audit(
            &self,
            a: &Actor,
            action: &str,
            ot: &str,
            oid: &str,
            s: &str,
            now: Timestamp,
        ) -> Result<()> {
            self.write(|tx| auth::audit(tx, a, action, ot, oid, s, now))
        }
        fn list_audit(&self, q: &AuditQuery) -> Result<Vec<AuditRecord>> {
            self.read(|c| auth::list_audit(c, q))
        }
        fn apply_retention(
            &self,
            policy: &otwatch_store::RetentionPolicy,
            now: Timestamp,
        ) -> Result<otwatch_store::RetentionReport> {
            crate::ops::retention(self, policy, now)
        }
        fn stats(&self) -> Result<otwatch_store::StoreStats> {
            self.read(crate::ops::stats)
        }
        fn user_pref(&self, owner: &str, key: &str) -> Result<Option<String>> {
            self.read(|c| crate::ops::user_pref(c, owner, key))
        }
        fn set_user_pref(&self, owner: &str, key: &str, value: &str) -> Result<()> {
            self.write(|tx| crate::ops::set_user_pref(tx, owner, key, value))
        }
        fn settings(&self) -> Result<std::collections::BTreeMap<String, String>> {
            self.read(crate::ops::settings)
        }
        fn set_setting(&self, key: &str, value: &str, actor: &Actor, now: Timestamp) -> Result<()> {
            self.write(|tx| crate::ops::set_setting(tx, key, value, actor, now))
        }
        fn save_query(
            &self,
            owner: &str,
            name: &str,
            query: &str,
            now: Timestamp,
        ) -> Result<otwatch_store::SavedQuery> {
            self.write(|tx| crate::hunt::save(tx, owner, name, query, now))
        }
        fn saved_queries(&self, owner: &str) -> Result<Vec<otwatch_store::SavedQuery>> {
            self.read(|c| crate::hunt::saved(c, owner))
        }
        fn delete_query(&self, owner: &str, id: i64) -> Result<()> {
            self.write(|tx| crate::hunt::delete(tx, owner, id))
        }
        fn hunt_sql(
            &self,
            sql: &str,
            params: &[otwatch_store::SqlValue],
            max_rows: usize,
            time_limit: std::time::Duration,
        ) -> Result<otwatch_store::SqlRows> {
            self.read_mut(|c| crate::hunt::run(c, sql, params, max_rows, time_limit))
        }
    }
}
