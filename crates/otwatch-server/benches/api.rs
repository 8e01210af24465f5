//! API benchmark with many alerts stored: grid queries, group-by, facets,
//! details and a full CSV export, through the real router (no socket), with
//! the same grid questions answered by hand-written SQL on the same file as
//! the floor. Run: `cargo bench -p otwatch-server --bench api`
//! (`OTWATCH_BENCH_ALERTS` sets the number of alerts, default 1,000,000).

use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::http::{Request, header};
use http_body_util::BodyExt;
use tower::ServiceExt;

use otwatch_model::{Actor, Detection, Role, Severity, Timestamp};
use otwatch_server::auth::new_token;
use otwatch_server::{AppState, Settings, router};
use otwatch_store::{IngestOptions, Store};
use otwatch_store_sqlite::SqliteStore;

const SITES: [&str; 5] = ["Plant A", "Plant B", "Plant C", "Substation 1", "Water works"];

fn fill(store: &SqliteStore, n: u64) {
    let cat = otwatch_model::catalog::builtin();
    let types: Vec<&str> = cat
        .types()
        .iter()
        .filter(|t| t.engine != otwatch_model::Engine::MicroAgent)
        .map(|t| t.id.as_str())
        .collect();
    let sevs = [Severity::Warning, Severity::Minor, Severity::Major, Severity::Critical];
    let mut batch = Vec::with_capacity(20_000);
    let start = Instant::now();
    for i in 0..n {
        let mut d = Detection::new(
            types[(i % types.len() as u64) as usize],
            Timestamp(1_700_000_000_000_000 + i as i64 * 1_000_000),
        );
        d.source.ip = Some(format!("10.{}.{}.{}", i % 7, (i / 7) % 250, 1 + (i / 1750) % 250));
        d.destination.ip = Some(format!("10.200.{}.{}", (i / 3) % 250, 1 + i % 250));
        d.protocol = Some("Modbus".into());
        d.site = Some(SITES[(i % 5) as usize].into());
        d.sensor = Some(format!("sensor-{}", i % 9));
        d.severity = Some(sevs[(i % 4) as usize]);
        d.key.insert("n".into(), i.to_string());
        batch.push(d);
        if batch.len() == 20_000 || i + 1 == n {
            store
                .ingest(
                    &batch,
                    &IngestOptions { catalog: cat, now: Timestamp(0), auto_close_after: i64::MAX },
                )
                .expect("ingest");
            batch.clear();
        }
    }
    eprintln!("filled {n} alerts in {:.1} s", start.elapsed().as_secs_f64());
}

fn percentiles(mut v: Vec<f64>) -> (f64, f64, f64) {
    v.sort_by(|a, b| a.total_cmp(b));
    let p = |q: f64| v[((v.len() as f64 - 1.0) * q).round() as usize];
    (p(0.5), p(0.99), v[v.len() - 1])
}

async fn get(app: &axum::Router, tok: &str, uri: &str) -> (u16, Vec<u8>) {
    let req = Request::builder()
        .uri(uri)
        .header(header::AUTHORIZATION, format!("Bearer {tok}"))
        .body(Body::empty())
        .expect("request");
    let resp = app.clone().oneshot(req).await.expect("response");
    let st = resp.status().as_u16();
    (st, resp.into_body().collect().await.expect("body").to_bytes().to_vec())
}

fn main() {
    let n: u64 = std::env::var("OTWATCH_BENCH_ALERTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let iters: usize =
        std::env::var("OTWATCH_BENCH_ITERS").ok().and_then(|v| v.parse().ok()).unwrap_or(50);
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(SqliteStore::open_dir(dir.path()).expect("store"));
    fill(&store, n);
    let (secret, hash, prefix) = new_token();
    store
        .create_token("bench", Role::Admin, &hash, &prefix, None, &Actor::system(), Timestamp(0))
        .expect("token");
    let state = AppState::new(
        store.clone(),
        Settings::default(),
        Arc::new(|| Timestamp(1_800_000_000_000_000)),
    );
    let app = router(state);
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    let db = rusqlite::Connection::open(store.path()).expect("open for floor");
    let floor = |sql: &str| -> f64 {
        let t = Instant::now();
        let mut st = db.prepare_cached(sql).expect("floor sql");
        let mut rows = st.query([]).expect("query");
        let mut k = 0;
        let ncol = rows.as_ref().map(|s| s.column_count()).unwrap_or(1);
        while let Some(r) = rows.next().expect("row") {
            for c in 0..ncol {
                let v: rusqlite::types::Value = r.get(c).expect("col");
                std::hint::black_box(v);
            }
            k += 1;
        }
        std::hint::black_box(k);
        t.elapsed().as_secs_f64() * 1000.0
    };
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "grid: default page (100, newest first)",
            "/api/v1/alerts?limit=100".into(),
            "SELECT * FROM alerts ORDER BY last_detection DESC, id DESC LIMIT 100",
        ),
        (
            "grid: severity=Critical & site=Plant B",
            "/api/v1/alerts?limit=100&severity=Critical&site=Plant%20B".into(),
            "SELECT * FROM alerts WHERE severity = 4 AND site = 'Plant B' ORDER BY last_detection DESC, id DESC LIMIT 100",
        ),
        (
            "grid: status=New, sort by severity",
            "/api/v1/alerts?limit=100&status=New&sort=-severity".into(),
            "SELECT * FROM alerts WHERE status = 0 ORDER BY severity DESC, id DESC LIMIT 100",
        ),
        (
            "grid: one alert type (rare)",
            "/api/v1/alerts?limit=100&type=operational_s7_plc_stop".into(),
            "SELECT * FROM alerts WHERE alert_type = 'operational_s7_plc_stop' ORDER BY last_detection DESC, id DESC LIMIT 100",
        ),
        (
            "grid: last 24 h",
            "/api/v1/alerts?limit=100&from=2024-01-14T00:00:00Z&to=2024-01-15T00:00:00Z".into(),
            "SELECT * FROM alerts WHERE last_detection >= 1705190400000000 AND last_detection < 1705276800000000 ORDER BY last_detection DESC, id DESC LIMIT 100",
        ),
        (
            "grid: free-text search",
            "/api/v1/alerts?limit=100&q=10.3.17.".into(),
            "SELECT * FROM alerts WHERE src_ip LIKE '%10.3.17.%' OR dst_ip LIKE '%10.3.17.%' ORDER BY last_detection DESC, id DESC LIMIT 100",
        ),
        (
            "group-by engine",
            "/api/v1/alerts/groups?by=engine".into(),
            "SELECT engine, count(*) FROM alerts GROUP BY engine",
        ),
        (
            "group-by severity, site=Plant A",
            "/api/v1/alerts/groups?by=severity&site=Plant%20A".into(),
            "SELECT severity, count(*) FROM alerts WHERE site = 'Plant A' GROUP BY severity",
        ),
        ("facets (6 columns)", "/api/v1/alerts/facets".into(), ""),
        (
            "count with total=true",
            "/api/v1/alerts?limit=1&total=true&severity=Major".into(),
            "SELECT count(*) FROM alerts WHERE severity = 3",
        ),
        (
            "alert details",
            format!("/api/v1/alerts/{}", n / 2),
            "SELECT * FROM alerts WHERE id = 500000",
        ),
    ];
    println!(
        "API benchmark: {n} alerts, {iters} runs per query (p50 / p99 / max in ms); floor = the same question in hand-written SQL"
    );
    println!(
        "{:<42} {:>9} {:>9} {:>9} {:>10} {:>7}",
        "query", "p50", "p99", "max", "SQL floor", "ratio"
    );
    for (name, uri, sql) in &cases {
        let mut times = Vec::with_capacity(iters);
        for _ in 0..iters {
            let t = Instant::now();
            let (st, _) = rt.block_on(get(&app, &secret, uri));
            assert_eq!(st, 200, "{uri}");
            times.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        let (p50, p99, max) = percentiles(times);
        if sql.is_empty() {
            println!("{name:<42} {p50:>9.2} {p99:>9.2} {max:>9.2} {:>10} {:>7}", "-", "-");
        } else {
            let mut f: Vec<f64> = (0..iters.min(20)).map(|_| floor(sql)).collect();
            f.sort_by(|a, b| a.total_cmp(b));
            let f50 = f[f.len() / 2];
            println!(
                "{name:<42} {p50:>9.2} {p99:>9.2} {max:>9.2} {f50:>10.2} {:>6.1}x",
                p50 / f50.max(0.001)
            );
        }
    }
    // Deep paging with the cursor.
    let t = Instant::now();
    let mut uri = "/api/v1/alerts?limit=100".to_string();
    for _ in 0..50 {
        let (_, body) = rt.block_on(get(&app, &secret, &uri));
        let v: serde_json::Value = serde_json::from_slice(&body).expect("json");
        uri = format!("/api/v1/alerts?limit=100&after={}", v["next"].as_str().expect("next"));
    }
    println!(
        "{:<42} {:>9.2} ms per page (50 pages, keyset)",
        "grid: paging deep with the cursor",
        t.elapsed().as_secs_f64() * 1000.0 / 50.0
    );
    // Full export.
    let t = Instant::now();
    let (st, body) = rt.block_on(get(&app, &secret, "/api/v1/alerts/export.csv"));
    let secs = t.elapsed().as_secs_f64();
    let rows = body.iter().filter(|b| **b == b'\n').count() - 1;
    assert_eq!(st, 200);
    assert_eq!(rows as u64, n);
    println!(
        "full CSV export: {rows} rows, {:.1} MB in {secs:.2} s ({:.0} rows/s)",
        body.len() as f64 / 1e6,
        rows as f64 / secs
    );
}
