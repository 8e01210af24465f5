//! The console over real HTTP: `otwatch serve` started as a process, spoken to over a socket.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::Duration;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// One HTTP/1.1 request; returns (status, headers, body).
fn http(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> (u16, String, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
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

#[test]
fn serve_answers_over_http_and_stops_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_otwatch"))
        .arg("--data-dir")
        .arg(dir.path())
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
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
        .unwrap_or_else(|| panic!("{first}"))
        .to_string();
    let second = lines.next().unwrap().unwrap();
    assert!(second.contains(&format!("http://127.0.0.1:{port}")), "{second}");
    let (st, _, body) = http(port, "GET", "/healthz", &[], None);
    assert_eq!(st, 200, "{body}");
    let (st, _, _) = http(port, "GET", "/api/v1/alerts", &[], None);
    assert_eq!(st, 401);
    let login = format!("{{\"username\":\"admin\",\"password\":\"{password}\"}}");
    let (st, head, body) = http(port, "POST", "/api/v1/auth/login", &[], Some(&login));
    assert_eq!(st, 200, "{body}");
    let cookie = head
        .lines()
        .find_map(|l| l.strip_prefix("set-cookie: otwatch_session="))
        .map(|v| format!("otwatch_session={}", v.split(';').next().unwrap()))
        .unwrap();
    let csrf: serde_json::Value = serde_json::from_str(&body).unwrap();
    let csrf = csrf["csrf_token"].as_str().unwrap().to_string();
    let (st, _, body) = http(
        port,
        "POST",
        "/api/v1/tokens",
        &[("Cookie", &cookie), ("X-CSRF-Token", &csrf)],
        Some("{\"name\":\"sensor\",\"role\":\"analyst\"}"),
    );
    assert_eq!(st, 201, "{body}");
    let secret = serde_json::from_str::<serde_json::Value>(&body).unwrap()["secret"]
        .as_str()
        .unwrap()
        .to_string();
    let auth = format!("Bearer {secret}");
    let det = r#"{"detections":[{"type":"anomaly_port_scan","time":"2024-03-02T10:00:00Z","source":{"ip":"10.0.0.66"},"destination":{"ip":"10.0.0.1"}}]}"#;
    let (st, _, body) =
        http(port, "POST", "/api/v1/alerts/ingest", &[("Authorization", &auth)], Some(det));
    assert_eq!(st, 200, "{body}");
    assert!(body.contains("\"opened\":1"), "{body}");
    let (st, _, body) =
        http(port, "GET", "/api/v1/alerts?total=true", &[("Cookie", &cookie)], None);
    assert_eq!(st, 200);
    assert!(body.contains("\"total\":1") && body.contains("Port Scan Detected"), "{body}");
    // A graceful stop on SIGTERM.
    let pid = child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(rest.iter().any(|l| l == "stopped"), "{rest:?}");
}

/// HTTPS from certificate files: a self-signed certificate made with openssl, checked with curl.
#[test]
fn serve_speaks_tls_with_certificate_files() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    let made = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            "-keyout",
        ])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stderr(Stdio::null())
        .status()
        .expect("this test needs the openssl command (apt-get install openssl)");
    assert!(made.success());
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_otwatch"))
        .arg("--data-dir")
        .arg(dir.path())
        .args([
            "--set",
            &format!("server.tls_cert={}", cert.display()),
            "--set",
            &format!("server.tls_key={}", key.display()),
        ])
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .env("OTWATCH_ADMIN_PASSWORD", "a long admin password")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let _admin = lines.next();
    let ready = lines.next().unwrap().unwrap();
    assert!(ready.contains("https://"), "{ready}");
    let out = Command::new("curl")
        .args([
            "-sk",
            "-i",
            &format!("https://127.0.0.1:{port}/api/v1/auth/login"),
            "-H",
            "Content-Type: application/json",
        ])
        .args(["-d", r#"{"username":"admin","password":"a long admin password"}"#])
        .output()
        .expect("this test needs curl (apt-get install curl)");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("HTTP/1.1 200") || text.starts_with("HTTP/2 200"), "{text}");
    assert!(text.contains("Secure"), "cookies are Secure over TLS: {text}");
    let plain = std::panic::catch_unwind(|| http(port, "GET", "/healthz", &[], None));
    assert!(
        plain.map(|r| r.0 != 200).unwrap_or(true),
        "plain HTTP must not be served on the TLS port"
    );
    Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(child.wait().unwrap().success());
}
