//! Crash safety: `otwatch serve` is killed with SIGKILL in the middle of heavy
//! ingest, many times, and restarted. Every batch the server acknowledged is
//! there afterwards, nothing is counted twice, and the database is sound.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn start(data: &std::path::Path, port: u16) -> Child {
    let mut child = Command::new(env!("CARGO_BIN_EXE_otwatch"))
        .arg("--data-dir")
        .arg(data)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .env("OTWATCH_ADMIN_PASSWORD", "crash test admin pw")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let out = child.stdout.take().unwrap();
    let mut lines = BufReader::new(out).lines();
    loop {
        let l = lines.next().expect("serve printed nothing").unwrap();
        if l.starts_with("otwatch console on") {
            break;
        }
    }
    child
}

/// Posts one batch; `Some(status)` if a full response came back.
fn post(port: u16, token: &str, body: &str) -> Option<u16> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(30))).ok()?;
    let req = format!(
        "POST /api/v1/alerts/ingest HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).ok()?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).ok()?;
    let text = String::from_utf8_lossy(&raw);
    if !text.contains("\"received\"") {
        return None;
    }
    text.split_whitespace().nth(1)?.parse().ok()
}

fn batch(round: u32, n: u32, size: u32) -> String {
    let items: Vec<String> = (0..size)
        .map(|k| {
            let id = (round * 1_000_000) + n * 1000 + k;
            format!(
                r#"{{"id":"c-{id}","type":"anomaly_port_scan","time":"2024-03-02T10:00:00Z","source":{{"ip":"10.{}.{}.{}"}},"destination":{{"ip":"10.0.0.1"}},"key":{{"n":"{id}"}}}}"#,
                id % 200,
                (id / 200) % 250,
                1 + (id / 50_000) % 250
            )
        })
        .collect();
    format!(r#"{{"detections":[{}]}}"#, items.join(","))
}

#[test]
fn acknowledged_alerts_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_otwatch"))
        .arg("--data-dir")
        .arg(&data)
        .args(["tokens", "create", "crash", "--role", "analyst"])
        .output()
        .unwrap();
    let token = String::from_utf8_lossy(&out.stdout).lines().last().unwrap().trim().to_string();
    assert!(token.starts_with("otw_"), "{token}");
    let size = 400u32;
    let mut sent: Vec<(u32, u32)> = Vec::new();
    let mut acked = 0u32;
    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    for round in 0..8u32 {
        let port = free_port();
        let mut child = start(&data, port);
        // Re-send whatever was in flight when the last server died: must change nothing twice.
        if let Some(&(r, n)) = sent.last() {
            assert_eq!(post(port, &token, &batch(r, n, size)), Some(200));
        }
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let kill_after = Duration::from_millis(150 + seed % 600);
        let started = std::time::Instant::now();
        let mut n = 0u32;
        while started.elapsed() < kill_after {
            sent.push((round, n));
            match post(port, &token, &batch(round, n, size)) {
                Some(200) => acked += 1,
                other => panic!("round {round} batch {n}: {other:?}"),
            }
            n += 1;
        }
        // Kill while the next batch is being written.
        sent.push((round, n));
        let body = batch(round, n, size);
        let tok = token.clone();
        let writer = std::thread::spawn(move || post(port, &tok, &body));
        std::thread::sleep(Duration::from_millis(seed % 20));
        child.kill().unwrap();
        child.wait().unwrap();
        let _ = writer.join();
    }
    // Final start: re-send the last in-flight batch, then count.
    let port = free_port();
    let mut child = start(&data, port);
    let &(r, n) = sent.last().unwrap();
    assert_eq!(post(port, &token, &batch(r, n, size)), Some(200));
    child.kill().unwrap();
    child.wait().unwrap();
    let q = |sql: &str| -> String {
        let o = Command::new("sqlite3")
            .arg(data.join("otwatch.db"))
            .arg(sql)
            .output()
            .expect("sqlite3 is needed (apt-get install sqlite3)");
        String::from_utf8_lossy(&o.stdout).trim().to_string()
    };
    assert_eq!(q("PRAGMA integrity_check;"), "ok");
    // Every batch that was sent is stored exactly once (acknowledged ones for
    // sure; in-flight ones were re-sent after the restart).
    let alerts: u64 = q("SELECT count(*) FROM alerts;").parse().unwrap();
    assert_eq!(alerts, sent.len() as u64 * size as u64, "acked {acked} batches of {size}");
    assert_eq!(
        q("SELECT count(*) FROM alerts WHERE occurrence_count <> 1;"),
        "0",
        "nothing counted twice"
    );
    assert!(acked >= 8, "the test must actually ingest ({acked} batches acknowledged)");
}
