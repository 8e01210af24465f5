//! Runs the store conformance suite on the SQLite backend (a fresh temporary database per test).

use otwatch_store_sqlite::SqliteStore;

fn fresh() -> (SqliteStore, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let store = SqliteStore::open_dir(dir.path()).expect("open store");
    (store, dir)
}

otwatch_store::conformance_tests!(fresh());
