//! A sensor batch's key and its connection counts are stored together or not at all.
//!
//! Regression test for a loss found by the full-disk test of `otwatch
//! sensor`: the `CAPTURE_BATCH` key used to be committed before the counts,
//! so a full disk (or a crash) between the two left a key without counts,
//! and every re-run skipped that batch's counts for ever.

use otwatch_model::{ConnectionObservation, EventSeverity, NewEvent, Timestamp};
use otwatch_store::{ConnectionQuery, EventQuery, Store, StoreError};
use otwatch_store_sqlite::SqliteStore;

fn key(n: u32) -> NewEvent {
    let mut e = NewEvent::new(
        Timestamp::from_secs(1_700_000_000),
        "CAPTURE_BATCH",
        EventSeverity::Info,
        "Capture Batch Recorded",
    );
    e.key = Some(format!("batch:test:{n}"));
    e
}

fn conns(n: usize) -> Vec<ConnectionObservation> {
    (0..n)
        .map(|i| ConnectionObservation {
            src: format!("10.{}.{}.{}", i / 65_536 % 256, i / 256 % 256, i % 256),
            dst: "10.255.0.1".into(),
            transport: "tcp".into(),
            dst_port: Some(502),
            protocol: Some("Modbus".into()),
            packets: 3,
            bytes: 300,
            first_seen: Timestamp::from_secs(1_700_000_000),
            last_seen: Timestamp::from_secs(1_700_000_001),
            ..Default::default()
        })
        .collect()
}

fn totals(s: &SqliteStore) -> (usize, u64) {
    let q = ConnectionQuery { limit: 1_000_000, ..Default::default() };
    let c = s.list_connections(&q).unwrap();
    (c.len(), c.iter().map(|c| c.packets).sum())
}

fn keys(s: &SqliteStore) -> usize {
    let q = EventQuery { event_types: vec!["CAPTURE_BATCH".into()], ..Default::default() };
    s.list_events(&q).unwrap().len()
}

#[test]
fn a_batch_key_is_never_stored_without_its_counts() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open_dir(dir.path()).unwrap();
    assert_eq!(store.upsert_connections_once(&key(1), &conns(10)).unwrap(), Some(10));
    // Re-running the same batch changes nothing.
    assert_eq!(store.upsert_connections_once(&key(1), &conns(10)).unwrap(), None);
    assert_eq!(totals(&store), (10, 30));
    // The store fills up in the middle of the next batch: neither its key nor
    // any of its counts are kept.
    let size = std::fs::metadata(dir.path().join("otwatch.db")).unwrap().len()
        + std::fs::metadata(dir.path().join("otwatch.db-wal")).map(|m| m.len()).unwrap_or(0);
    store.set_max_size(size.max(64 * 1024)).unwrap();
    let big = conns(8_000);
    match store.upsert_connections_once(&key(2), &big) {
        Err(StoreError::Full(_)) => {}
        other => panic!("the capped store must be full: {other:?}"),
    }
    assert_eq!(keys(&store), 1, "the key of the failed batch was not kept");
    assert_eq!(totals(&store), (10, 30), "no count of the failed batch was kept");
    // Space again: the re-run stores the whole batch, once.
    store.set_max_size(0).unwrap();
    assert_eq!(store.upsert_connections_once(&key(2), &big).unwrap(), Some(8_000 - 10));
    assert_eq!(store.upsert_connections_once(&key(2), &big).unwrap(), None);
    assert_eq!(keys(&store), 2);
    assert_eq!(totals(&store), (8_000, 30 + 8_000 * 3));
}
