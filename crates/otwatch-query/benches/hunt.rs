//! Hunting benchmark: KQL queries over 10,000,000 connection rows against the equivalent hand-written SQL.
//!
//! Fills a fresh SQLite store (through its own schema; rows written with
//! multi-row INSERTs through rusqlite, in the benchmark only, because the
//! store API merges connections one by one), then times each query through
//! `otwatch_query::run` over `Store::hunt_sql`, and the SQL a person would
//! write for the same answer through the same `hunt_sql` on the same
//! database. Prints both times and the ratio (ours / SQL), best of N runs.
//!
//! Run: `cargo bench -p otwatch-query --bench hunt`
//! (`OTWATCH_BENCH_ROWS` changes the row count, `OTWATCH_BENCH_RUNS` the runs per query).

use std::time::{Duration, Instant};

use otwatch_query::{Dialect, FetchError, Param, Rows, RunOptions, SqlSource};
use otwatch_store::{SqlValue, Store, StoreError};
use otwatch_store_sqlite::SqliteStore;

/// "now" of the benchmark: 2024-03-02T00:00:00Z.
const NOW: i64 = 1_709_337_600_000_000;
const HOUR: i64 = 3_600_000_000;
/// The rows span 30 days before "now".
const SPAN: i64 = 30 * 24 * HOUR;

struct StoreSource<'a>(&'a dyn Store);

fn to_sql(p: &Param) -> SqlValue {
    match p {
        Param::Null => SqlValue::Null,
        Param::Int(n) => SqlValue::Int(*n),
        Param::Real(r) => SqlValue::Real(*r),
        Param::Text(t) => SqlValue::Text(t.clone()),
    }
}

impl SqlSource for StoreSource<'_> {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }
    fn fetch(
        &self,
        sql: &str,
        params: &[Param],
        max_rows: usize,
        time_limit: Duration,
    ) -> Result<Rows, FetchError> {
        let ps: Vec<SqlValue> = params.iter().map(to_sql).collect();
        match self.0.hunt_sql(sql, &ps, max_rows, time_limit) {
            Ok(r) => Ok(Rows {
                rows: r
                    .rows
                    .into_iter()
                    .map(|row| {
                        row.into_iter()
                            .map(|v| match v {
                                SqlValue::Null => Param::Null,
                                SqlValue::Int(n) => Param::Int(n),
                                SqlValue::Real(f) => Param::Real(f),
                                SqlValue::Text(t) => Param::Text(t),
                            })
                            .collect()
                    })
                    .collect(),
                truncated: r.truncated,
            }),
            Err(StoreError::TimeLimit(_)) => Err(FetchError::TimeLimit),
            Err(e) => Err(FetchError::Other(e.to_string())),
        }
    }
}

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// A cheap deterministic hash for generating rows.
fn mix(i: u64) -> u64 {
    let mut x = i.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

const PROTOCOLS: &[(&str, u16)] = &[
    ("Modbus", 502),
    ("S7comm", 102),
    ("DNP3", 20000),
    ("ENIP", 44818),
    ("IEC104", 2404),
    ("HTTP", 80),
    ("HTTPS", 443),
    ("DNS", 53),
];

fn fill(path: &std::path::Path, n: u64) {
    let mut c = rusqlite::Connection::open(path).expect("open");
    c.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = OFF; PRAGMA cache_size = -262144;
         DROP INDEX IF EXISTS connections_src; DROP INDEX IF EXISTS connections_dst;
         DROP INDEX IF EXISTS connections_last_seen; DROP INDEX IF EXISTS connections_first_seen;",
    )
    .expect("pragmas");
    const PER: u64 = 500;
    let row = "(?,?,?,?,?,?,?,?,?,?,?,?,?,?)";
    let sql = format!(
        "INSERT INTO connections (identity, src, dst, transport, dst_port, protocol, packets, bytes, \
         first_seen, last_seen, sensor, site, zone, src_device_id) VALUES {}",
        vec![row; PER as usize].join(",")
    );
    // Whole statements only: the count is rounded down to a multiple of PER.
    let n = n - n % PER;
    let mut i = 0u64;
    while i < n {
        let tx = c.transaction().expect("tx");
        {
            let mut st = tx.prepare_cached(&sql).expect("prepare");
            let end = (i + 1_000_000).min(n);
            while i < end {
                let mut vals: Vec<rusqlite::types::Value> = Vec::with_capacity((PER * 14) as usize);
                for k in i..i + PER {
                    let h = mix(k);
                    let (proto, port) = PROTOCOLS[(h % PROTOCOLS.len() as u64) as usize];
                    let src =
                        format!("10.{}.{}.{}", (h >> 8) % 4, (h >> 16) % 50, 1 + (h >> 24) % 25);
                    let dst = format!("10.9.{}.{}", (h >> 32) % 20, 1 + (h >> 40) % 100);
                    let last = NOW - (mix(k ^ 0x5555) % SPAN as u64) as i64;
                    let first = last - ((h >> 48) % 3600) as i64 * 1_000_000;
                    let bytes = 64 + (mix(k ^ 0xAAAA) % 1_000_000) as i64;
                    use rusqlite::types::Value as V;
                    vals.extend([
                        V::Text(k.to_string()),
                        V::Text(src),
                        V::Text(dst),
                        V::Text(if port == 53 { "udp".into() } else { "tcp".into() }),
                        V::Integer(i64::from(port)),
                        V::Text(proto.into()),
                        V::Integer(1 + bytes / 200),
                        V::Integer(bytes),
                        V::Integer(first),
                        V::Integer(last),
                        V::Text(format!("s{}", h % 3)),
                        V::Text(if h.is_multiple_of(5) {
                            "Oakland".into()
                        } else {
                            "SanFrancisco".into()
                        }),
                        V::Text("Line1".into()),
                        V::Null,
                    ]);
                }
                st.execute(rusqlite::params_from_iter(vals.iter())).expect("insert");
                i += PER;
            }
        }
        tx.commit().expect("commit");
    }
    c.execute_batch(
        "CREATE INDEX connections_src ON connections (src);
         CREATE INDEX connections_dst ON connections (dst);
         CREATE INDEX connections_last_seen ON connections (last_seen, id);
         CREATE INDEX connections_first_seen ON connections (first_seen);
         ANALYZE;",
    )
    .expect("indexes");
}

/// Best of `runs` timings of `f`.
fn best<T>(runs: u64, mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut best = Duration::MAX;
    let mut out = None;
    for _ in 0..runs {
        let t = Instant::now();
        let r = f();
        best = best.min(t.elapsed());
        out = Some(r);
    }
    (best, out.expect("at least one run"))
}

fn main() {
    let n = env("OTWATCH_BENCH_ROWS", 10_000_000);
    let runs = env("OTWATCH_BENCH_RUNS", 3).max(1);
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open_dir(dir.path()).expect("store");
    let t = Instant::now();
    fill(store.path(), n);
    println!("filled {n} connection rows in {:.1} s", t.elapsed().as_secs_f64());
    let src = StoreSource(&store);
    let mut opts = RunOptions::new(NOW);
    opts.time_limit = Duration::from_secs(600);
    opts.max_rows = 100_000;
    let ago = |h: i64| SqlValue::Int(NOW - h * HOUR);
    let cases: Vec<(&str, &str, String, Vec<SqlValue>)> = vec![
        (
            "volume by protocol, last day",
            "Connections | where Timestamp > ago(1d) | summarize Flows = count(), Bytes = sum(Bytes) by Protocol",
            "SELECT Protocol, COUNT(*), SUM(Bytes) FROM hunt_connections WHERE Timestamp > ?1 GROUP BY Protocol".into(),
            vec![ago(24)],
        ),
        (
            "one source on one port",
            "Connections | where SrcIp == \"10.1.2.3\" and DstPort == 502 | project Timestamp, DstIp, Bytes",
            "SELECT Timestamp, DstIp, Bytes FROM hunt_connections WHERE SrcIp = ?1 AND DstPort = ?2".into(),
            vec![SqlValue::Text("10.1.2.3".into()), SqlValue::Int(502)],
        ),
        (
            "hourly histogram, last week",
            "Connections | where Timestamp > ago(7d) | summarize count() by bin(Timestamp, 1h)",
            "SELECT (Timestamp / 3600000000) * 3600000000, COUNT(*) FROM hunt_connections WHERE Timestamp > ?1 GROUP BY 1".into(),
            vec![ago(24 * 7)],
        ),
        (
            "distinct Modbus sources (=~)",
            "Connections | where Protocol =~ \"modbus\" | summarize dcount(SrcIp)",
            "SELECT COUNT(DISTINCT SrcIp) FROM hunt_connections WHERE Protocol LIKE ?1".into(),
            vec![SqlValue::Text("modbus".into())],
        ),
        (
            "top 10 flows by bytes (full scan)",
            "Connections | top 10 by Bytes",
            "SELECT * FROM hunt_connections ORDER BY Bytes DESC LIMIT 10".into(),
            vec![],
        ),
        (
            "has on a source, last 3 hours (SQL prefilter + Rust)",
            "Connections | where Timestamp > ago(3h) and SrcIp has \"10.1.2\" | count",
            "SELECT COUNT(*) FROM hunt_connections WHERE Timestamp > ?1 AND (SrcIp LIKE '10.1.2.%' OR SrcIp = '10.1.2')".into(),
            vec![ago(3)],
        ),
        (
            "computed column and avg, last 6 hours (Rust)",
            "Connections | where Timestamp > ago(6h) | extend Kb = Bytes / 1024 | summarize avg(Kb) by Protocol",
            "SELECT Protocol, AVG(Bytes / 1024) FROM hunt_connections WHERE Timestamp > ?1 GROUP BY Protocol".into(),
            vec![ago(6)],
        ),
        (
            "talkers joined with their peers, last hour (Rust join)",
            "let recent = Connections | where Timestamp > ago(1h); recent | summarize Out = sum(Bytes) by SrcIp | join kind=inner (recent | summarize In = sum(Bytes) by DstIp | project SrcIp = DstIp, In) on SrcIp | count",
            "SELECT COUNT(*) FROM (SELECT SrcIp, SUM(Bytes) FROM hunt_connections WHERE Timestamp > ?1 GROUP BY SrcIp) a JOIN (SELECT DstIp, SUM(Bytes) FROM hunt_connections WHERE Timestamp > ?1 GROUP BY DstIp) b ON a.SrcIp = b.DstIp".into(),
            vec![ago(1)],
        ),
    ];
    println!();
    println!("{:<56} {:>10} {:>10} {:>7} {:>8}", "query", "KQL ms", "SQL ms", "ratio", "rows");
    for (name, kql, sql, params) in &cases {
        let (ours, r) = best(runs, || {
            otwatch_query::run(&src, kql, &opts)
                .unwrap_or_else(|e| panic!("{name}: {}", e.render(kql)))
        });
        let (theirs, s) = best(runs, || {
            store
                .hunt_sql(sql, params, 100_000, Duration::from_secs(600))
                .unwrap_or_else(|e| panic!("{name}: {e}"))
        });
        assert_eq!(r.rows.len(), s.rows.len(), "{name}: different row counts");
        println!(
            "{:<56} {:>10.1} {:>10.1} {:>7.2} {:>8}",
            name,
            ours.as_secs_f64() * 1e3,
            theirs.as_secs_f64() * 1e3,
            ours.as_secs_f64() / theirs.as_secs_f64().max(1e-9),
            r.rows.len()
        );
        for l in &r.sql {
            println!("    {}/{} operators in SQL: {}", l.consumed, l.total, l.sql);
        }
    }
}
