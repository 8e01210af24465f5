//! Ingest benchmark: 1,000,000 detections with many repeats into a fresh SQLite store.
//!
//! Reports detections/s for our ingest (idempotency keys, exclusion rules,
//! de-duplication, alert rows, timeline events), and, measured in the same run
//! on the same machine, the floor: plain prepared INSERTs of one row per
//! detection into a bare table in one transaction per batch. Also prints peak
//! memory (VmHWM). Run: `cargo bench -p otwatch-store-sqlite --bench ingest`
//! (`OTWATCH_BENCH_N` changes the count, `OTWATCH_BENCH_DISTINCT` the number
//! of distinct fingerprints).

use std::time::Instant;

use otwatch_model::{Detection, Timestamp};
use otwatch_store::{IngestOptions, IngestReport, Store};
use otwatch_store_sqlite::SqliteStore;

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn detection(i: u64, distinct: u64) -> Detection {
    let f = (i.wrapping_mul(2_654_435_761)) % distinct;
    let types = ["t_policy", "t_anomaly", "t_operational", "t_malware"];
    let mut d =
        Detection::new(types[(f % 4) as usize], Timestamp(1_700_000_000_000_000 + i as i64 * 1000));
    d.source.ip = Some(format!("10.{}.{}.{}", f % 4, (f / 4) % 250, 1 + (f / 1000) % 250));
    d.destination.ip = Some(format!("10.9.{}.{}", (f / 7) % 250, 1 + f % 250));
    d.protocol = Some("Modbus".into());
    d.sensor = Some("sensor-1".into());
    d.site = Some("Plant A".into());
    d.zone = Some("Line 1".into());
    d.key.insert("function_code".into(), (f % 20).to_string());
    d
}

fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|k| k.parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

fn main() {
    let n = env("OTWATCH_BENCH_N", 1_000_000);
    let distinct = env("OTWATCH_BENCH_DISTINCT", 10_000);
    let batch = env("OTWATCH_BENCH_BATCH", 20_000) as usize;
    let catalog = otwatch_store::conformance::catalog();
    let dir = tempfile::tempdir().expect("tempdir");

    // Floor: one plain INSERT per detection, same batching, same file system.
    let floor = {
        let c = rusqlite::Connection::open(dir.path().join("floor.db")).expect("open");
        c.execute_batch("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; CREATE TABLE t (fp TEXT, ty TEXT, src TEXT, dst TEXT, at INTEGER);")
            .expect("schema");
        let start = Instant::now();
        let mut i = 0;
        while i < n {
            let tx = c.unchecked_transaction().expect("tx");
            {
                let mut st =
                    tx.prepare_cached("INSERT INTO t VALUES (?, ?, ?, ?, ?)").expect("prepare");
                for j in i..(i + batch as u64).min(n) {
                    let d = detection(j, distinct);
                    st.execute(rusqlite::params![
                        d.fingerprint(),
                        d.alert_type,
                        d.source.ip,
                        d.destination.ip,
                        d.time.0
                    ])
                    .expect("insert");
                }
            }
            tx.commit().expect("commit");
            i += batch as u64;
        }
        start.elapsed().as_secs_f64()
    };

    let store = SqliteStore::open_dir(&dir.path().join("store")).expect("open store");
    let start = Instant::now();
    let mut total = IngestReport::default();
    let mut i = 0;
    let mut buf = Vec::with_capacity(batch);
    while i < n {
        buf.clear();
        buf.extend((i..(i + batch as u64).min(n)).map(|j| detection(j, distinct)));
        let r = store
            .ingest(
                &buf,
                &IngestOptions { catalog: &catalog, now: Timestamp(0), auto_close_after: i64::MAX },
            )
            .expect("ingest");
        total.merge(r, 0);
        i += batch as u64;
    }
    let ours = start.elapsed().as_secs_f64();
    let stored = store.count_alerts(&otwatch_store::AlertQuery::default()).expect("count");
    assert_eq!(stored, total.opened);
    assert_eq!(total.opened + total.updated, n, "every detection opened or updated an alert");

    // Re-sending everything: all duplicates.
    let start = Instant::now();
    let mut dup = 0;
    let mut i = 0;
    while i < n {
        buf.clear();
        buf.extend((i..(i + batch as u64).min(n)).map(|j| detection(j, distinct)));
        dup += store
            .ingest(
                &buf,
                &IngestOptions { catalog: &catalog, now: Timestamp(0), auto_close_after: i64::MAX },
            )
            .expect("ingest")
            .duplicates;
        i += batch as u64;
    }
    let resend = start.elapsed().as_secs_f64();
    assert_eq!(dup, n);

    println!(
        "ingest benchmark: {n} detections, {distinct} distinct fingerprints, batches of {batch}"
    );
    println!(
        "  otwatch ingest   {:>8.2} s  {:>10.0} detections/s  (alerts opened {}, updated {})",
        ours,
        n as f64 / ours,
        total.opened,
        total.updated
    );
    println!("  re-send (dups)   {:>8.2} s  {:>10.0} detections/s", resend, n as f64 / resend);
    println!("  floor: INSERT    {:>8.2} s  {:>10.0} rows/s", floor, n as f64 / floor);
    println!("  ratio ours/floor {:>8.2}x time", ours / floor);
    println!("  peak memory      {:>8.1} MiB (VmHWM of the benchmark process)", peak_rss_mib());
}
