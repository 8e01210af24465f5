//! `otwatch demo` as a newcomer meets it: started as a process, the console
//! reached over real HTTP with the printed login, alerts from at least four
//! engines, devices with vendors and types, an alert triaged, a clean stop.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// One HTTP/1.1 request; returns (status, head, body).
fn http(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> (u16, String, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    if let Some(b) = body {
        req.push_str(&format!("Content-Type: application/json\r\nContent-Length: {}\r\n", b.len()));
    }
    req.push_str("\r\n");
    if let Some(b) = body {
        req.push_str(b);
    }
    s.write_all(req.as_bytes()).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    (status, head.to_string(), body.to_string())
}

fn json(body: &str) -> serde_json::Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"))
}

#[test]
fn demo_shows_live_alerts_devices_and_triage_then_stops_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    // Ten times the recorded speed, so the first segment's attacks come within seconds.
    let mut child = Command::new(env!("CARGO_BIN_EXE_otwatch"))
        .arg("--data-dir")
        .arg(dir.path())
        .args(["demo", "--listen", "127.0.0.1:0", "--speed", "10", "--learn", "5m"])
        .args(["--stop-after", "10m"])
        .env_remove("OTWATCH_ADMIN_PASSWORD")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let password = first
        .split("password ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .unwrap_or_else(|| panic!("no password in {first:?}"))
        .to_string();
    let second = lines.next().unwrap().unwrap();
    let addr = second
        .split("http://")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .unwrap_or_else(|| panic!("no address in {second:?}"))
        .to_string();
    assert!(second.contains("kept after exit"), "{second}");

    let login = format!("{{\"username\":\"admin\",\"password\":\"{password}\"}}");
    let (st, head, body) = http(&addr, "POST", "/api/v1/auth/login", &[], Some(&login));
    assert_eq!(st, 200, "{body}");
    let cookie = head
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("set-cookie: otwatch_session="))
        .map(|l| l["set-cookie: ".len()..].split(';').next().unwrap().to_string())
        .unwrap();
    let csrf = json(&body)["csrf_token"].as_str().unwrap().to_string();
    let auth = [("Cookie", cookie.as_str())];

    // Alerts from at least four engines (the first segment has scenarios for all five).
    let started = Instant::now();
    let mut engines: Vec<String> = Vec::new();
    while started.elapsed() < Duration::from_secs(240) {
        let (st, _, body) = http(&addr, "GET", "/api/v1/alerts/groups?by=engine", &auth, None);
        assert_eq!(st, 200, "{body}");
        engines = json(&body)["groups"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|g| g["count"].as_u64().unwrap_or(0) > 0)
            .map(|g| g["value"].as_str().unwrap_or("").to_string())
            .collect();
        if engines.len() >= 5 {
            break;
        }
        std::thread::sleep(Duration::from_secs(2));
    }
    assert!(engines.len() >= 4, "alerts from only {engines:?}");

    // Devices with vendors and types, from the simulated plant's vendor MACs and identification replies.
    let (st, _, body) = http(&addr, "GET", "/api/v1/devices?limit=500", &auth, None);
    assert_eq!(st, 200, "{body}");
    let devices = json(&body);
    let items = devices["items"].as_array().unwrap();
    assert!(items.len() >= 20, "{} devices", items.len());
    let with_vendor = items.iter().filter(|d| d["vendor"].as_str().is_some_and(|v| !v.is_empty()));
    assert!(with_vendor.count() >= 10, "too few devices with a vendor: {body}");
    let plcs = items.iter().filter(|d| d["device_type"].as_str() == Some("PLC")).count();
    assert!(plcs >= 3, "too few PLCs: {body}");

    // Triage: the newest alert becomes Active, then is muted.
    let (st, _, body) = http(&addr, "GET", "/api/v1/alerts?limit=1", &auth, None);
    assert_eq!(st, 200, "{body}");
    let id = json(&body)["items"][0]["id"].as_i64().unwrap();
    let with_csrf = [("Cookie", cookie.as_str()), ("X-CSRF-Token", csrf.as_str())];
    let (st, _, body) = http(
        &addr,
        "PATCH",
        &format!("/api/v1/alerts/{id}"),
        &with_csrf,
        Some("{\"status\":\"Active\"}"),
    );
    assert_eq!(st, 200, "{body}");
    let (st, _, body) = http(&addr, "GET", &format!("/api/v1/alerts/{id}"), &auth, None);
    assert_eq!(st, 200, "{body}");
    assert_eq!(json(&body)["alert"]["status"], "Active", "{body}");
    // Alerts raised by the sensor link to the inventory's devices.
    assert!(json(&body)["devices"].as_object().is_some_and(|d| !d.is_empty()), "{body}");

    // The web console lists the alerts for the signed-in user.
    let (st, _, page) = http(&addr, "GET", "/alerts", &auth, None);
    assert_eq!(st, 200);
    assert!(page.contains("Port Scan") || page.contains("port scan"), "alerts page: {page}");

    // SIGINT stops it cleanly: exit status 0, "stopped" printed, the data kept.
    let pid = child.id().to_string();
    assert!(Command::new("kill").args(["-INT", &pid]).status().unwrap().success());
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}: {rest:?}");
    assert!(rest.iter().any(|l| l == "stopped"), "{rest:?}");
    assert!(
        dir.path().join("otwatch.db").exists()
            || std::fs::read_dir(dir.path()).unwrap().count() > 1
    );
}
