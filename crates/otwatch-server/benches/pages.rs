//! Console benchmark: time to first byte of the Alerts page (with filters,
//! grouping, the filter menu, the rows partial the page polls) and of an
//! alert's details page, with many alerts stored, over a real socket.
//! Run: `cargo bench -p otwatch-server --bench pages`
//! (`OTWATCH_BENCH_ALERTS` sets the number of alerts, default 1,000,000;
//! `OTWATCH_BENCH_ITERS` the runs per page, default 30).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

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

/// Sends one GET; returns (status, ms to the first byte, ms to the last byte, bytes).
async fn get(addr: SocketAddr, tok: &str, path: &str, partial: bool) -> (u16, f64, f64, usize) {
    let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let extra = if partial { "x-otwatch-partial: 1\r\n" } else { "" };
    let req = format!(
        "GET {path} HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {tok}\r\n{extra}Connection: close\r\n\r\n"
    );
    let t = Instant::now();
    s.write_all(req.as_bytes()).await.expect("write");
    let mut first = [0u8; 1];
    s.read_exact(&mut first).await.expect("first byte");
    let ttfb = t.elapsed().as_secs_f64() * 1000.0;
    let mut rest = Vec::new();
    s.read_to_end(&mut rest).await.expect("body");
    let total = t.elapsed().as_secs_f64() * 1000.0;
    let head = String::from_utf8_lossy(&rest[..rest.len().min(20)]).to_string();
    let status = head.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    (status, ttfb, total, rest.len() + 1)
}

fn percentiles(mut v: Vec<f64>) -> (f64, f64, f64) {
    v.sort_by(|a, b| a.total_cmp(b));
    let at = |q: f64| v.get(((v.len() as f64 - 1.0) * q).round() as usize).copied().unwrap_or(0.0);
    (at(0.5), at(0.99), v.last().copied().unwrap_or(0.0))
}

fn main() {
    let n: u64 = std::env::var("OTWATCH_BENCH_ALERTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let iters: usize =
        std::env::var("OTWATCH_BENCH_ITERS").ok().and_then(|v| v.parse().ok()).unwrap_or(30);
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(SqliteStore::open_dir(dir.path()).expect("store"));
    fill(&store, n);
    let (secret, hash, prefix) = new_token();
    store
        .create_token("bench", Role::Analyst, &hash, &prefix, None, &Actor::system(), Timestamp(0))
        .expect("token");
    let state =
        AppState::new(store, Settings::default(), Arc::new(|| Timestamp(1_800_000_000_000_000)));
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    let addr = rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        addr
    });
    let mid = n / 2;
    let cases: Vec<(&str, String, bool)> = vec![
        ("Alerts page, default view", "/alerts".into(), false),
        (
            "severity=Critical & site=Plant B",
            "/alerts?severity=Critical&site=Plant+B".into(),
            false,
        ),
        ("status=New, sorted by severity", "/alerts?status=New&sort=-severity".into(), false),
        (
            "last 24 h (time range)",
            "/alerts?from=2024-01-14T00:00:00Z&to=2024-01-15T00:00:00Z".into(),
            false,
        ),
        ("free-text search", "/alerts?q=10.3.17.".into(), false),
        (
            "filters + group by engine",
            "/alerts?severity=Critical&site=Plant+B&group=engine".into(),
            false,
        ),
        (
            "filters + Add filter menu (site counts)",
            "/alerts?severity=Critical&site=Plant+B&facet=site".into(),
            false,
        ),
        (
            "rows partial (the 15 s poll), filtered",
            "/alerts?severity=Critical&site=Plant+B".into(),
            true,
        ),
        ("alert details page", format!("/alerts/{mid}"), false),
    ];
    println!(
        "Console benchmark: {n} alerts, {iters} runs per page, real socket; time to first byte (TTFB) and to the last byte, ms"
    );
    println!(
        "{:<42} {:>9} {:>9} {:>9} {:>10} {:>9}",
        "page", "TTFB p50", "TTFB p99", "TTFB max", "total p50", "KiB"
    );
    for (name, path, partial) in &cases {
        let mut ttfb = Vec::with_capacity(iters);
        let mut total = Vec::with_capacity(iters);
        let mut size = 0;
        for _ in 0..iters {
            let (st, a, b, len) = rt.block_on(get(addr, &secret, path, *partial));
            assert_eq!(st, 200, "{path}");
            ttfb.push(a);
            total.push(b);
            size = len;
        }
        let (p50, p99, max) = percentiles(ttfb);
        let (t50, _, _) = percentiles(total);
        println!(
            "{name:<42} {p50:>9.1} {p99:>9.1} {max:>9.1} {t50:>10.1} {:>9.1}",
            size as f64 / 1024.0
        );
    }
}
