//! SQLite-specific behaviour: schema versions, two writers on one data directory, integrity.

use std::sync::Arc;

use otwatch_model::lifecycle::Action;
use otwatch_model::{Actor, AlertField, Detection, Status, Timestamp};
use otwatch_store::conformance::catalog;
use otwatch_store::{AlertQuery, Filter, IngestOptions, Store, StoreError};
use otwatch_store_sqlite::{DB_FILE, SCHEMA_VERSION, SqliteStore};

fn det(i: u64) -> Detection {
    let mut d = Detection::new(
        if i.is_multiple_of(2) { "t_anomaly" } else { "t_policy" },
        Timestamp::from_secs(1_700_000_000 + i as i64),
    );
    d.source.ip = Some(format!("10.0.{}.{}", (i / 250) % 250, i % 250));
    d.destination.ip = Some("10.0.0.1".into());
    d.key.insert("function_code".into(), (i % 7).to_string());
    d
}

#[test]
fn a_database_from_a_newer_version_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    {
        let s = SqliteStore::open_dir(dir.path()).unwrap();
        let cat = catalog();
        s.ingest(
            &[det(1)],
            &IngestOptions { catalog: &cat, now: Timestamp(1), auto_close_after: i64::MAX },
        )
        .unwrap();
    }
    let path = dir.path().join(DB_FILE);
    {
        let c = rusqlite::Connection::open(&path).unwrap();
        c.execute_batch(&format!("PRAGMA user_version = {}", SCHEMA_VERSION + 5)).unwrap();
    }
    let err = SqliteStore::open_dir(dir.path()).unwrap_err();
    assert!(
        matches!(err, StoreError::SchemaTooNew { found, supported, .. } if found == SCHEMA_VERSION + 5 && supported == SCHEMA_VERSION)
    );
    let msg = err.to_string();
    assert!(msg.contains("newer") && msg.contains("nothing was changed"), "{msg}");
    let c = rusqlite::Connection::open(&path).unwrap();
    let n: i64 = c.query_row("SELECT count(*) FROM alerts", [], |r| r.get(0)).unwrap();
    assert_eq!(n, 1, "the stored alert is still there");
    let v: u32 = c.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
    assert_eq!(v, SCHEMA_VERSION + 5);
}

#[test]
fn reopening_keeps_data_and_schema() {
    let dir = tempfile::tempdir().unwrap();
    let cat = catalog();
    {
        let s = SqliteStore::open_dir(dir.path()).unwrap();
        s.ingest(
            &[det(1), det(2)],
            &IngestOptions { catalog: &cat, now: Timestamp(1), auto_close_after: i64::MAX },
        )
        .unwrap();
    }
    let s = SqliteStore::open_dir(dir.path()).unwrap();
    assert_eq!(s.schema_version().unwrap(), SCHEMA_VERSION);
    assert_eq!(s.count_alerts(&AlertQuery::default()).unwrap(), 2);
    assert!(s.integrity_check().unwrap().is_empty());
}

/// A sensor (ingesting) and a console (triaging) open the same data directory
/// with separate connections, as two processes would, and work at once.
#[test]
fn a_sensor_and_a_console_share_one_data_directory() {
    let dir = tempfile::tempdir().unwrap();
    let sensor = Arc::new(SqliteStore::open_dir(dir.path()).unwrap());
    let console = Arc::new(SqliteStore::open_dir(dir.path()).unwrap());
    let cat = Arc::new(catalog());
    let writer = {
        let (sensor, cat) = (sensor, cat);
        std::thread::spawn(move || {
            let mut total = otwatch_store::IngestReport::default();
            for batch in 0..40u64 {
                let ds: Vec<Detection> = (0..250).map(|i| det(batch * 250 + i)).collect();
                let r = sensor
                    .ingest(
                        &ds,
                        &IngestOptions {
                            catalog: &cat,
                            now: Timestamp(batch as i64),
                            auto_close_after: i64::MAX,
                        },
                    )
                    .unwrap();
                total.merge(r, 0);
            }
            total
        })
    };
    let mut closed = 0u64;
    let actor = Actor::cli("tester");
    while !writer.is_finished() || closed == 0 {
        let q = AlertQuery {
            filters: vec![Filter::any_of(AlertField::Status, &["New"]).unwrap()],
            limit: 50,
            ..AlertQuery::default()
        };
        let ids: Vec<_> = console.list_alerts(&q).unwrap().items.iter().map(|a| a.id).collect();
        for o in
            console.apply(&ids, &Action::SetStatus(Status::Closed), &actor, Timestamp(9)).unwrap()
        {
            if o.result == Ok(true) {
                closed += 1;
            }
        }
    }
    let total = writer.join().unwrap();
    assert_eq!(total.received, 10_000);
    let stored = console.count_alerts(&AlertQuery::default()).unwrap();
    assert_eq!(total.opened, stored, "every opened alert is stored exactly once");
    let closed_now = console
        .count_alerts(&AlertQuery {
            filters: vec![Filter::any_of(AlertField::Status, &["Closed"]).unwrap()],
            ..AlertQuery::default()
        })
        .unwrap();
    assert_eq!(closed_now, closed);
    assert!(closed > 0);
    let audit = console
        .list_audit(&otwatch_store::AuditQuery { limit: 10_000, ..Default::default() })
        .unwrap();
    assert_eq!(audit.len() as u64, closed, "one audit record per triage change");
    assert!(console.integrity_check().unwrap().is_empty());
}

/// The ingest side remembers fingerprint states between batches; a change made
/// by another connection (another process) must be seen at the next batch.
#[test]
fn triage_by_another_process_is_seen_by_the_next_ingest() {
    let dir = tempfile::tempdir().unwrap();
    let sensor = SqliteStore::open_dir(dir.path()).unwrap();
    let console = SqliteStore::open_dir(dir.path()).unwrap();
    let cat = catalog();
    let opts = IngestOptions { catalog: &cat, now: Timestamp(1), auto_close_after: i64::MAX };
    let mut d = det(2);
    sensor.ingest(std::slice::from_ref(&d), &opts).unwrap();
    d.time = Timestamp(d.time.0 + 1_000_000);
    assert_eq!(sensor.ingest(std::slice::from_ref(&d), &opts).unwrap().updated, 1);
    let id = console.list_alerts(&AlertQuery::default()).unwrap().items[0].id;
    console
        .apply(&[id], &Action::SetStatus(Status::Closed), &Actor::cli("t"), Timestamp(2))
        .unwrap();
    d.time = Timestamp(d.time.0 + 1_000_000);
    let r = sensor.ingest(std::slice::from_ref(&d), &opts).unwrap();
    assert_eq!((r.opened, r.updated), (1, 0), "the closed alert must not be updated");
    assert_eq!(console.alert(id).unwrap().occurrence_count, 2);
    // Learning through the other connection suppresses at once too.
    let newest = console.list_alerts(&AlertQuery::default()).unwrap().items[0].id;
    console.apply(&[newest], &Action::Learn, &Actor::cli("t"), Timestamp(3)).unwrap();
    d.time = Timestamp(d.time.0 + 1_000_000);
    assert_eq!(sensor.ingest(std::slice::from_ref(&d), &opts).unwrap().suppressed_learned, 1);
    // And through the same store (same connection, no data_version change).
    sensor.apply(&[newest], &Action::Unlearn, &Actor::cli("t"), Timestamp(4)).unwrap();
    d.time = Timestamp(d.time.0 + 1_000_000);
    assert_eq!(sensor.ingest(std::slice::from_ref(&d), &opts).unwrap().opened, 1);
}

/// An online backup taken while a writer keeps ingesting is a consistent,
/// openable database; restoring it round-trips; restore refuses a directory in use.
#[test]
fn backup_under_load_and_restore() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open_dir(&dir.path().join("live")).unwrap());
    let cat = Arc::new(catalog());
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let (store, cat, stop) = (store.clone(), cat, stop.clone());
        std::thread::spawn(move || {
            let mut i = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let ds: Vec<Detection> = (0..200).map(|k| det(i * 200 + k)).collect();
                store
                    .ingest(
                        &ds,
                        &IngestOptions {
                            catalog: &cat,
                            now: Timestamp(1),
                            auto_close_after: i64::MAX,
                        },
                    )
                    .unwrap();
                i += 1;
            }
            i
        })
    };
    std::thread::sleep(std::time::Duration::from_millis(300));
    let before = store.count_alerts(&AlertQuery::default()).unwrap();
    let file = dir.path().join("backup.db");
    let report = store.backup_to(&file).unwrap();
    let after = store.count_alerts(&AlertQuery::default()).unwrap();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let batches = writer.join().unwrap();
    assert!(batches > 1);
    assert!(
        report.alerts >= before && report.alerts <= after,
        "{before} <= {} <= {after}",
        report.alerts
    );
    assert_eq!(report.schema_version, SCHEMA_VERSION);
    assert!(store.backup_to(&file).is_err(), "never overwrites");
    // Restore into a new directory and compare.
    let target = dir.path().join("restored");
    otwatch_store_sqlite::restore(&target, &file).unwrap();
    let restored = SqliteStore::open_dir(&target).unwrap();
    assert_eq!(restored.count_alerts(&AlertQuery::default()).unwrap(), report.alerts);
    assert!(restored.integrity_check().unwrap().is_empty());
    // While a store has the directory open, restore is refused and nothing changes.
    let err = otwatch_store_sqlite::restore(&target, &file).unwrap_err().to_string();
    assert!(err.contains("in use"), "{err}");
    drop(restored);
    // A broken file is refused before anything is touched.
    let junk = dir.path().join("junk.db");
    std::fs::write(&junk, b"not a database at all").unwrap();
    assert!(otwatch_store_sqlite::restore(&target, &junk).is_err());
    let again = SqliteStore::open_dir(&target).unwrap();
    assert_eq!(again.count_alerts(&AlertQuery::default()).unwrap(), report.alerts);
}

/// The stored alerts' ids, in order.
fn alert_ids(s: &SqliteStore) -> Vec<i64> {
    let page = s.list_alerts(&AlertQuery { limit: 1000, ..Default::default() }).unwrap();
    let mut ids: Vec<i64> = page.items.iter().map(|a| a.id.0).collect();
    ids.sort_unstable();
    ids
}

#[test]
fn alerts_stored_before_migration_10_keep_their_retention_time() {
    // Migration 10 adds `last_touched` without rewriting rows; an alert from
    // before it has NULL there, and retention reads its last activity instead.
    let dir = tempfile::tempdir().unwrap();
    let cat = catalog();
    let day = otwatch_model::time::MICROS_PER_DAY;
    let t0 = Timestamp::from_secs(1_700_000_000);
    let s = SqliteStore::open_dir(dir.path()).unwrap();
    let opts = |now| IngestOptions { catalog: &cat, now, auto_close_after: i64::MAX };
    s.ingest(&[det(1), det(2), det(3)], &opts(t0)).unwrap();
    let ids = alert_ids(&s);
    assert_eq!(ids.len(), 3);
    let c = rusqlite::Connection::open(dir.path().join(DB_FILE)).unwrap();
    // As a version-9 database would hold them: no last_touched; the first idle since
    // t0, the second active 50 days later, the third idle but detected again below.
    c.execute("UPDATE alerts SET last_touched = NULL", []).unwrap();
    c.execute(
        "UPDATE alerts SET last_activity = ? WHERE id = ?",
        rusqlite::params![t0.0 + 50 * day, ids[1]],
    )
    .unwrap();
    let late = Timestamp(t0.0 + 99 * day);
    let mut again = det(3);
    again.time = late;
    s.ingest(&[again], &opts(late)).unwrap();
    let touched: Vec<Option<i64>> = c
        .prepare("SELECT last_touched FROM alerts ORDER BY id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    assert_eq!(touched, vec![None, None, Some(late.0)], "a repeat detection sets it");
    let policy =
        otwatch_store::RetentionPolicy { alert_max_age: Some(90 * day), ..Default::default() };
    let r = s.apply_retention(&policy, Timestamp(t0.0 + 100 * day)).unwrap();
    assert_eq!(r.alerts, 1);
    assert_eq!(alert_ids(&s), vec![ids[1], ids[2]], "only the alert idle since t0 went");
}
