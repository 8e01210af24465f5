//! Fuzz target for the JSON ingest body: any bytes are refused with a 4xx or stored, never a panic or a broken store.
//!
//! The input is the body of `POST /api/v1/alerts/ingest`. It is parsed by
//! the server's own extractor (`api::json::parse` into `IngestBody`, which
//! names the field at fault); a body that parses is also read as the list
//! of `Detection`s the handler passes on, and ingested into a real SQLite
//! store on tmpfs (catalogue lookup, validation, fingerprints, idempotency,
//! lifecycle, SQL). Checked afterwards: the store still answers a listing,
//! the details of every alert opened, a group-by and a count, and every
//! stored occurrence count is at least 1.
#![no_main]

use std::path::PathBuf;
use std::sync::Mutex;

use otwatch_model::{AlertField, Detection, Timestamp, catalog};
use otwatch_server::api::alerts::IngestBody;
use otwatch_store::{AlertQuery, IngestOptions, Store};
use otwatch_store_sqlite::SqliteStore;

/// The handler's view of the body (the server's `IngestBody` keeps its field private).
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Body {
    detections: Vec<Detection>,
}

/// Inputs ingested before the store is thrown away and started afresh.
const RESET_EVERY: u32 = 20_000;

struct State {
    store: SqliteStore,
    dir: PathBuf,
    runs: u32,
}

static STATE: Mutex<Option<State>> = Mutex::new(None);

fn open(generation: u32) -> State {
    let base = if std::path::Path::new("/dev/shm").is_dir() {
        PathBuf::from("/dev/shm")
    } else {
        std::env::temp_dir()
    };
    let dir = base.join(format!("otwatch-fuzz-ingest-{}-{generation}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let store = SqliteStore::open_dir(&dir).expect("store on tmpfs");
    State { store, dir, runs: 0 }
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let server = otwatch_server::api::json::parse::<IngestBody>(data);
    let mine = serde_json::from_slice::<Body>(data);
    match (&server, &mine) {
        (Ok(_), Ok(_)) => {}
        (Err(e), Err(_)) => {
            // A refusal is a 400 whose message says what was wrong.
            let text = e.to_string();
            assert!(text.starts_with("invalid JSON body"), "{text}");
            return;
        }
        _ => panic!("the server and the handler disagree on whether the body is valid"),
    }
    let Ok(body) = mine else { return };
    if body.detections.len() > otwatch_server::api::alerts::MAX_INGEST_BATCH {
        return;
    }
    let mut guard = STATE.lock().unwrap_or_else(|p| p.into_inner());
    let generation = std::process::id();
    let st = guard.get_or_insert_with(|| open(0));
    st.runs += 1;
    if st.runs > RESET_EVERY {
        let old = std::mem::replace(st, open(generation % 2 + 1));
        let _ = std::fs::remove_dir_all(&old.dir);
    }
    let opts = IngestOptions {
        catalog: catalog::builtin(),
        now: Timestamp(1_709_337_600_000_000),
        auto_close_after: 90 * 86_400 * 1_000_000,
    };
    for d in &body.detections {
        let fp = d.fingerprint();
        assert_eq!(fp.len(), 32);
        let _ = d.idempotency_key_for(&fp);
    }
    match st.store.ingest(&body.detections, &opts) {
        Ok(r) => {
            assert_eq!(r.received, body.detections.len() as u64);
            for id in &r.new_alert_ids {
                let a = st.store.alert_details(*id).expect("a new alert can be read back");
                assert!(a.alert.occurrence_count >= 1);
            }
        }
        Err(e) => {
            // Only a store-level refusal of a value is acceptable, never a backend failure.
            assert!(matches!(e, otwatch_store::StoreError::Invalid { .. }), "ingest failed: {e}");
        }
    }
    let page = st.store.list_alerts(&AlertQuery::default()).expect("the store still lists");
    for a in &page.items {
        assert!(a.occurrence_count >= 1, "alert {} has count {}", a.id.0, a.occurrence_count);
    }
    st.store.group_alerts(&AlertQuery::default(), AlertField::Status).expect("group-by");
    st.store.count_alerts(&AlertQuery::default()).expect("count");
});
