//! Backup and retention through the real binary and real HTTP.
//!
//! `otwatch db backup` runs while `otwatch serve` acknowledges ingest
//! batches; the backup restored into a new data directory holds every batch
//! acknowledged before the backup started, whole batches only, and passes
//! the integrity check. The server's background retention loop (a short
//! `retention.interval`) deletes old alerts, old and excess events and the
//! oldest PCAP evidence over its byte limit, and `/metrics` shows it.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

fn otwatch(data: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_otwatch"));
    c.arg("--data-dir").arg(data).env_remove("OTWATCH_CONFIG").env_remove("RUST_LOG");
    c
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn serve(data: &Path, extra: &[&str]) -> (Child, u16) {
    let port = free_port();
    let mut child = otwatch(data)
        .args(extra)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .env("OTWATCH_ADMIN_PASSWORD", "backup test admin pw")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    while !lines.next().expect("serve started").unwrap().starts_with("otwatch console on") {}
    (child, port)
}

fn stop(mut child: Child) {
    let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    let _ = child.wait();
}

fn request(port: u16, method: &str, path: &str, token: &str, body: &str) -> (u16, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8_lossy(&raw).to_string();
    let status = text.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    (status, body)
}

fn sql(db: &Path, q: &str) -> String {
    let o = Command::new("sqlite3")
        .arg(db)
        .arg(q)
        .output()
        .expect("sqlite3 is needed (scripts/test installs it)");
    assert!(o.status.success(), "{q}: {}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}

fn token(data: &Path, role: &str) -> String {
    let o = otwatch(data).args(["tokens", "create", role, "--role", role]).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).lines().last().unwrap().trim().to_string()
}

/// One batch of `size` distinct detections; batch `n` never repeats another's.
fn batch(n: u64, size: u64) -> String {
    let items: Vec<String> = (0..size)
        .map(|k| {
            let id = n * size + k;
            format!(
                r#"{{"id":"b-{id}","type":"anomaly_port_scan","time":"2024-03-02T10:00:00Z","source":{{"ip":"10.{}.{}.{}"}},"destination":{{"ip":"10.0.0.1"}},"key":{{"n":"{id}"}}}}"#,
                id / 65_536 % 250,
                id / 256 % 256,
                id % 256
            )
        })
        .collect();
    format!(r#"{{"detections":[{}]}}"#, items.join(","))
}

#[test]
fn backup_during_http_ingest_restores_everything_acknowledged_before_it() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let tok = token(&data, "analyst");
    let (server, port) = serve(&data, &[]);
    const SIZE: u64 = 200;
    let acked = Arc::new(AtomicU64::new(0));
    let stop_flag = Arc::new(AtomicBool::new(false));
    let writer = {
        let (acked, stop_flag, tok) = (acked.clone(), stop_flag.clone(), tok);
        std::thread::spawn(move || {
            let mut n = 0;
            while !stop_flag.load(Ordering::Relaxed) {
                let (st, body) =
                    request(port, "POST", "/api/v1/alerts/ingest", &tok, &batch(n, SIZE));
                assert_eq!(st, 200, "batch {n}: {body}");
                n += 1;
                acked.store(n, Ordering::SeqCst);
            }
        })
    };
    // Let some batches in, then back up while ingest goes on.
    let t = Instant::now();
    while acked.load(Ordering::SeqCst) < 5 && t.elapsed() < Duration::from_secs(120) {
        std::thread::sleep(Duration::from_millis(20));
    }
    let before = acked.load(Ordering::SeqCst);
    let backup = dir.path().join("backup.db");
    let o = otwatch(&data).args(["db", "backup"]).arg(&backup).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let after = acked.load(Ordering::SeqCst);
    // Ingest goes on after the backup.
    let t = Instant::now();
    while acked.load(Ordering::SeqCst) < after + 3 && t.elapsed() < Duration::from_secs(120) {
        std::thread::sleep(Duration::from_millis(20));
    }
    stop_flag.store(true, Ordering::Relaxed);
    writer.join().unwrap();
    let total = acked.load(Ordering::SeqCst);
    stop(server);

    // Restore into a new data directory.
    let restored = dir.path().join("restored");
    let o = otwatch(&restored).args(["db", "restore"]).arg(&backup).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let db = restored.join("otwatch.db");
    assert_eq!(sql(&db, "PRAGMA integrity_check;"), "ok");
    let o = otwatch(&restored).args(["db", "check"]).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let n: u64 = sql(&db, "SELECT count(*) FROM alerts;").parse().unwrap();
    assert_eq!(n % SIZE, 0, "whole batches only: {n} alerts");
    // At least every batch acknowledged before the backup started (one more may have been in flight at the end).
    assert!(
        n >= before * SIZE,
        "{n} alerts restored, {before} batches acknowledged before the backup"
    );
    assert!(
        n <= (after + 1) * SIZE,
        "{n} alerts restored, {after} batches acknowledged when it ended"
    );
    // Those batches are there one by one, exactly once.
    for b in 0..before {
        let id = b * SIZE + SIZE / 2;
        let ip = format!("10.{}.{}.{}", id / 65_536 % 250, id / 256 % 256, id % 256);
        assert_eq!(
            sql(&db, &format!("SELECT count(*) FROM alerts WHERE src_ip = '{ip}';")),
            "1",
            "batch {b}"
        );
    }
    assert_eq!(sql(&db, "SELECT count(*) FROM alerts WHERE occurrence_count <> 1;"), "0");
    // The restored directory serves.
    let tok2 = token(&restored, "viewer");
    let (server, port) = serve(&restored, &[]);
    let (st, body) = request(port, "GET", "/api/v1/alerts?limit=1&total=true", &tok2, "");
    stop(server);
    assert_eq!(st, 200, "{body}");
    assert!(body.contains(&format!("\"total\":{n}")), "{body}");
    // The live data directory has everything that was acknowledged.
    let live: u64 = sql(&data.join("otwatch.db"), "SELECT count(*) FROM alerts;").parse().unwrap();
    assert!(live >= total * SIZE);
    println!(
        "backup: taken while ingest ran ({before} batches of {SIZE} acknowledged before it started, {after} when it ended, {total} in all); restored into a new directory: {n} alerts, whole batches, integrity ok"
    );
}

fn metric(text: &str, name: &str) -> u64 {
    text.lines()
        .find(|l| l.starts_with(name) && l[name.len()..].starts_with([' ', '{']))
        .and_then(|l| l.split_whitespace().last())
        .and_then(|v| v.parse::<f64>().ok())
        .map_or(0, |v| v as u64)
}

#[test]
fn background_retention_is_enforced_and_shown_in_metrics() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let tok = token(&data, "viewer");
    let db = data.join("otwatch.db");
    // Alerts; half of them first detected, last touched (ingested or acted on) and closed in 2020
    // (closed, or the auto-close at start would touch them now).
    let generated = otwatch(&data)
        .args(["gen-alerts", "--count", "400", "--distinct", "400"])
        .output()
        .unwrap();
    let file = dir.path().join("a.jsonl");
    std::fs::write(&file, generated.stdout).unwrap();
    assert!(otwatch(&data).arg("ingest").arg(&file).output().unwrap().status.success());
    let total: u64 = sql(&db, "SELECT count(*) FROM alerts;").parse().unwrap();
    assert!(total >= 100, "{total} alerts");
    let aged = total / 2;
    let old = 1_577_836_800_000_000i64; // 2020-01-01
    sql(
        &db,
        &format!(
            "UPDATE alerts SET status = 2, first_detection = {old}, last_detection = {old}, last_activity = {old}, last_touched = {old} WHERE id IN (SELECT id FROM alerts ORDER BY id LIMIT {aged});"
        ),
    );
    let recent = |n: u64| format!("SELECT id FROM alerts ORDER BY id LIMIT {n} OFFSET {aged}");
    let now_us =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_micros()
            as i64;
    // 3000 events: 1000 from 2020, 2000 recent.
    sql(
        &db,
        &format!(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000)
             INSERT INTO events (key, at, event_type, severity, title)
             SELECT 'ret-' || i, CASE WHEN i <= 1000 THEN {old} + i ELSE {now_us} - 3000 + i END, 'TEST', 'Info', 'Retention test' FROM n;"
        ),
    );
    // 3 MiB of PCAP evidence on 30 recent alerts, 100 KiB each.
    sql(
        &db,
        &format!(
            "INSERT INTO alert_pcaps (alert_id, bytes, pcap) SELECT id, 102400, zeroblob(102400) FROM alerts WHERE id IN ({});",
            recent(30)
        ),
    );
    let events_before: u64 = sql(&db, "SELECT count(*) FROM events;").parse().unwrap();

    let (server, port) = serve(
        &data,
        &[
            "--set",
            "retention.interval=1s",
            "--set",
            "retention.alerts_max_age=30d",
            "--set",
            "retention.events_max_age=30d",
            "--set",
            "retention.events_max_count=1000",
            "--set",
            "retention.pcap_max_bytes=1048576",
        ],
    );
    let t = Instant::now();
    let mut text = String::new();
    while t.elapsed() < Duration::from_secs(60) {
        text = request(port, "GET", "/metrics", "", "").1;
        if metric(&text, "otwatch_retention_runs_total") >= 2 {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let runs = metric(&text, "otwatch_retention_runs_total");
    let alerts = metric(&text, "otwatch_retention_alerts_deleted_total");
    let events = metric(&text, "otwatch_retention_events_deleted_total");
    let pcap = metric(&text, "otwatch_retention_pcap_bytes_freed_total");
    let (st, body) = request(port, "GET", "/api/v1/alerts?limit=1&total=true", &tok, "");
    stop(server);
    assert!(runs >= 2, "the loop ran at least twice within a minute: {runs}");
    assert_eq!(alerts, aged, "the alerts from 2020 are gone, and only they: {text}");
    assert_eq!(st, 200);
    assert!(body.contains(&format!("\"total\":{}", total - aged)), "{body}");
    assert_eq!(
        sql(&db, "SELECT count(*) FROM alerts WHERE first_detection = 1577836800000000;"),
        "0"
    );
    let events_left: u64 = sql(&db, "SELECT count(*) FROM events;").parse().unwrap();
    assert!(events_left <= 1000, "{events_left} events kept, limit 1000");
    // (Deleting alerts and closing them records events of their own, so at least.)
    assert!(
        events >= events_before - events_left,
        "the metric counts every deleted event: {events}"
    );
    assert_eq!(
        sql(&db, "SELECT count(*) FROM events WHERE key LIKE 'ret-%' AND at < 1600000000000000;"),
        "0"
    );
    let pcap_left: u64 =
        sql(&db, "SELECT coalesce(sum(bytes), 0) FROM alert_pcaps;").parse().unwrap();
    assert!(pcap_left <= 1_048_576, "{pcap_left} PCAP bytes kept, limit 1 MiB");
    assert_eq!(pcap, 30 * 102_400 - pcap_left, "the metric counts every freed byte");
    // The oldest evidence went first (by the alert's first detection).
    let with = |cond: &str| -> i64 {
        sql(
            &db,
            &format!(
                "SELECT coalesce({cond}(first_detection), 0) FROM alerts WHERE id IN ({}) AND id {} IN (SELECT alert_id FROM alert_pcaps);",
                recent(30),
                if cond == "max" { "NOT" } else { "" }
            ),
        )
        .parse()
        .unwrap()
    };
    let (gone_newest, kept_oldest) = (with("max"), with("min"));
    assert!(gone_newest <= kept_oldest, "oldest first: {gone_newest} gone, {kept_oldest} kept");
    assert_eq!(sql(&db, "PRAGMA integrity_check;"), "ok");
    println!(
        "retention: {runs} background runs in {:.1} s; deleted {alerts} old alerts, {events} events (by age and count, {events_left} kept), freed {pcap} PCAP bytes ({pcap_left} kept under 1 MiB); all in /metrics",
        t.elapsed().as_secs_f64()
    );
}
