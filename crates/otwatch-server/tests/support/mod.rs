//! Helpers for the browser tests: a filled store, the console on a real socket, and Chromium through chromedriver.

#![allow(dead_code)]

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use fantoccini::{Client, Locator};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

use otwatch_model::{
    Actor, ConnectionObservation, Detection, DeviceObservation, DeviceType, EventSeverity,
    NewEvent, Role, Sensor, Severity, Timestamp,
};
use otwatch_server::auth::{hash_password, new_token};
use otwatch_server::{AppState, Settings, router};
use otwatch_store::{IngestOptions, Store};
use otwatch_store_sqlite::SqliteStore;

/// The fixed "now" of the fixture: 2024-03-02T17:20:00Z.
pub const NOW: i64 = 1_709_400_000_000_000;
/// Every fixture user's password.
pub const PASSWORD: &str = "correct horse battery";
/// The PCAP stored for the first alert (a pcap global header and nothing else).
pub const PCAP: &[u8] =
    &[0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 1, 0, 0, 0];

/// A filled store and the tokens of its users.
pub struct Fixture {
    /// The store.
    pub store: Arc<SqliteStore>,
    /// API tokens by user name (viewer, analyst, admin).
    pub tokens: std::collections::BTreeMap<&'static str, String>,
    /// Device ids by name.
    pub devices: std::collections::BTreeMap<String, i64>,
    /// The temporary directory (removed on drop).
    pub dir: tempfile::TempDir,
}

fn ts(secs_before_now: i64) -> Timestamp {
    Timestamp(NOW - secs_before_now * 1_000_000)
}

/// A store with users, devices, connections, events, sensors, alerts and one PCAP.
pub fn fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(SqliteStore::open_dir(dir.path()).expect("store"));
    let sys = Actor::system();
    let mut tokens = std::collections::BTreeMap::new();
    for (name, role) in
        [("viewer", Role::Viewer), ("analyst", Role::Analyst), ("admin", Role::Admin)]
    {
        store
            .create_user(name, role, &hash_password(PASSWORD).expect("hash"), &sys, Timestamp(NOW))
            .expect("user");
        let (secret, hash, prefix) = new_token();
        store
            .create_token(
                &format!("{name}-token"),
                role,
                &hash,
                &prefix,
                None,
                &sys,
                Timestamp(NOW),
            )
            .expect("token");
        tokens.insert(name, secret);
    }
    for (id, site, zone) in
        [("sensor-1", "Plant A", "Line 1"), ("sensor-2", "Plant B", "Packaging")]
    {
        store
            .upsert_sensor(&Sensor {
                id: id.into(),
                name: id.into(),
                site: Some(site.into()),
                zone: Some(zone.into()),
                last_seen: Some(ts(60)),
            })
            .expect("sensor");
    }
    // Devices: per site a SCADA server, an HMI, an engineering station, three PLCs, a historian, a switch.
    let kinds = [
        ("scada", DeviceType::ScadaServer, "Siemens", "WinCC"),
        ("hmi", DeviceType::Hmi, "Siemens", "KTP700"),
        ("eng", DeviceType::EngineeringStation, "Dell", "Precision 3660"),
        ("plc-1", DeviceType::Plc, "Siemens", "S7-1500"),
        ("plc-2", DeviceType::Plc, "Schneider Electric", "M580"),
        ("plc-3", DeviceType::Plc, "Rockwell", "ControlLogix 5580"),
        ("historian", DeviceType::Historian, "AVEVA", "PI Server"),
        ("switch", DeviceType::NetworkDevice, "Cisco", "IE-3400"),
    ];
    let mut obs = Vec::new();
    for (s, (site, zone, sensor)) in
        [("Plant A", "Line 1", "sensor-1"), ("Plant B", "Packaging", "sensor-2")].iter().enumerate()
    {
        for (i, (name, ty, vendor, model)) in kinds.iter().enumerate() {
            obs.push(DeviceObservation {
                ip: Some(format!("10.{}.0.{}", s + 1, i + 10)),
                mac: Some(format!("00:1d:9c:0{}:00:{:02x}", s + 1, i + 10)),
                name: Some(format!("{}-{name}", if s == 0 { "a" } else { "b" })),
                vendor: Some(vendor.to_string()),
                model: Some(model.to_string()),
                firmware: Some("V2.9.4".into()),
                device_type: Some(*ty),
                is_ot: Some(ty.is_ot()),
                protocols: vec![
                    if *ty == DeviceType::NetworkDevice { "SNMP" } else { "S7comm" }.into(),
                ],
                sensor: Some(sensor.to_string()),
                site: Some(site.to_string()),
                zone: Some(zone.to_string()),
                seen: ts(3600 - i as i64),
                ..Default::default()
            });
        }
    }
    let ids = store.upsert_devices(&obs).expect("devices");
    let mut devices = std::collections::BTreeMap::new();
    for (o, id) in obs.iter().zip(&ids) {
        devices.insert(o.name.clone().unwrap_or_default(), *id);
    }
    let mut conns = Vec::new();
    for (s, site) in ["Plant A", "Plant B"].iter().enumerate() {
        let ip = |i: usize| format!("10.{}.0.{}", s + 1, i + 10);
        for (a, b, proto, port) in [
            (0, 3, "S7comm", 102),
            (0, 4, "Modbus", 502),
            (0, 5, "EtherNet/IP", 44818),
            (1, 3, "S7comm", 102),
            (2, 3, "S7comm", 102),
            (6, 0, "OPC UA", 4840),
            (0, 7, "SNMP", 161),
        ] {
            let mac = |i: usize| format!("00:1d:9c:0{}:00:{:02x}", s + 1, i + 10);
            conns.push(ConnectionObservation {
                src: ip(a),
                dst: ip(b),
                src_mac: Some(mac(a)),
                dst_mac: Some(mac(b)),
                zone: Some(["Line 1", "Packaging"][s].into()),
                transport: "tcp".into(),
                dst_port: Some(port),
                protocol: Some(proto.into()),
                packets: 1200,
                bytes: 96_000,
                first_seen: ts(86_000),
                last_seen: ts(120),
                site: Some(site.to_string()),
                ..Default::default()
            });
        }
    }
    store.upsert_connections(&conns).expect("connections");
    // Alerts: four types on both sites, from the engineering station and SCADA to the PLCs.
    let cat = otwatch_model::catalog::builtin();
    let types = [
        ("policy_modbus_function_code", Severity::Major),
        ("anomaly_port_scan", Severity::Minor),
        ("operational_s7_plc_stop", Severity::Critical),
        ("malware_known_malicious_ip", Severity::Critical),
    ];
    let mut batch = Vec::new();
    for i in 0..48usize {
        let s = i % 2;
        let (ty, sev) = types[i % 4];
        let mut d = Detection::new(ty, ts(80_000 - i as i64 * 1500));
        let src = [0usize, 2][(i / 4) % 2];
        let dst = 3 + (i / 8) % 3;
        let prefix = if s == 0 { "a" } else { "b" };
        d.source.ip = Some(format!("10.{}.0.{}", s + 1, src + 10));
        d.source.device_id = devices.get(&format!("{prefix}-{}", kinds[src].0)).copied();
        d.source.name = Some(format!("{prefix}-{}", kinds[src].0));
        d.destination.ip = Some(format!("10.{}.0.{}", s + 1, dst + 10));
        d.destination.device_id = devices.get(&format!("{prefix}-{}", kinds[dst].0)).copied();
        d.destination.name = Some(format!("{prefix}-{}", kinds[dst].0));
        d.protocol = Some("Modbus".into());
        d.site = Some(["Plant A", "Plant B"][s].into());
        d.zone = Some(["Line 1", "Packaging"][s].into());
        d.sensor = Some(["sensor-1", "sensor-2"][s].into());
        d.severity = Some(sev);
        d.key.insert("n".into(), i.to_string());
        batch.push(d);
    }
    let report = store
        .ingest(
            &batch,
            &IngestOptions { catalog: cat, now: Timestamp(NOW), auto_close_after: i64::MAX },
        )
        .expect("ingest");
    if let Some(first) = report.new_alert_ids.first() {
        store.put_alert_pcap(*first, PCAP).expect("pcap");
    }
    let mut events = Vec::new();
    for (i, (name, id)) in devices.iter().enumerate() {
        events.push(NewEvent {
            key: Some(format!("dev-{id}")),
            at: ts(86_000 - i as i64 * 60),
            event_type: "DEVICE_CREATE".into(),
            severity: EventSeverity::Info,
            title: "Device Detected".into(),
            description: format!("{name} was seen for the first time."),
            device_id: Some(*id),
            src_ip: None,
            dst_ip: None,
            protocol: None,
            sensor: None,
            site: None,
            zone: None,
            alert_id: None,
            owner: None,
            details: Default::default(),
        });
    }
    if let Some(plc) = devices.get("a-plc-1") {
        events.push(NewEvent {
            key: Some("plc-program".into()),
            at: ts(5000),
            event_type: "PROGRAM_DEVICE".into(),
            severity: EventSeverity::Notice,
            title: "PLC Programming".into(),
            description: "a-eng downloaded a program block to a-plc-1.".into(),
            device_id: Some(*plc),
            src_ip: Some("10.1.0.12".into()),
            dst_ip: Some("10.1.0.13".into()),
            protocol: Some("S7comm".into()),
            sensor: Some("sensor-1".into()),
            site: Some("Plant A".into()),
            zone: Some("Line 1".into()),
            alert_id: None,
            owner: None,
            details: Default::default(),
        });
    }
    store.append_events(&events).expect("events");
    Fixture { store, tokens, devices, dir }
}

/// The console served on 127.0.0.1 with a fixed clock; returns its base URL and state.
pub async fn serve(store: Arc<SqliteStore>) -> (String, AppState) {
    serve_with(store, Settings::default()).await
}

/// Like [`serve`], with these settings.
pub async fn serve_with(store: Arc<SqliteStore>, settings: Settings) -> (String, AppState) {
    let state = AppState::new(store, settings, Arc::new(|| Timestamp(NOW)));
    let app = router(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}"), state)
}

/// A running chromedriver, killed on drop.
pub struct Driver {
    child: Child,
    /// Its URL.
    pub url: String,
    /// The browser's fresh profile directory.
    pub profile: tempfile::TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn find_binary(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    for dir in std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/bin"), PathBuf::from("/usr/lib/chromium")])
    {
        for n in names {
            let p = dir.join(n);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    None
}

/// The Chromium binary.
pub fn chromium() -> PathBuf {
    find_binary(&["chromium", "chromium-browser", "google-chrome"]).unwrap_or_else(|| {
        panic!("Chromium is missing: the browser tests need it. Install it with `apt-get install chromium chromium-driver` (scripts/test does this).")
    })
}

/// Starts chromedriver on a free port.
pub fn driver() -> Driver {
    let bin = find_binary(&["chromedriver"]).unwrap_or_else(|| {
        panic!("chromedriver is missing: the browser tests need it. Install it with `apt-get install chromium chromium-driver` (scripts/test does this).")
    });
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").expect("free port");
        l.local_addr().expect("addr").port()
    };
    let child = Command::new(&bin)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("starting {}: {e}", bin.display()));
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "chromedriver did not start listening"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    Driver {
        child,
        url: format!("http://127.0.0.1:{port}"),
        profile: tempfile::tempdir().expect("profile"),
    }
}

/// A headless Chromium session.
pub async fn browser(d: &Driver) -> fantoccini::Client {
    let chromium = chromium();
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": chromium,
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--no-first-run", "--window-size=1366,768", "--hide-scrollbars", "--lang=en-US",
                format!("--user-data-dir={}", d.profile.path().display()),
            ],
        }),
    );
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    fantoccini::ClientBuilder::new(connector)
        .capabilities(caps)
        .connect(&d.url)
        .await
        .expect("a WebDriver session with headless Chromium")
}

/// Where screenshots go (`test-artifacts/screenshots/` at the workspace root).
pub fn screenshot_dir() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let dir = root.join("test-artifacts").join("screenshots");
    std::fs::create_dir_all(&dir).expect("screenshot directory");
    dir
}

// ---- shared by the browser tests ------------------------------------------

/// Calls the API (or a page) through the router, with a bearer token.
pub async fn api(
    state: &AppState,
    token: &str,
    method: &str,
    uri: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut b = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::AUTHORIZATION, format!("Bearer {token}"));
    let body = match body {
        Some(v) => {
            b = b.header(header::CONTENT_TYPE, "application/json");
            Body::from(v.to_string())
        }
        None => Body::empty(),
    };
    let resp = router(state.clone()).oneshot(b.body(body).unwrap()).await.unwrap();
    let status = resp.status();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    let v = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    (status, v)
}

/// A signed-in browser session; returns (cookie header, csrf token).
pub async fn sign_in(state: &AppState, user: &str) -> (String, String) {
    let r = router(state.clone())
        .oneshot(
            Request::builder()
                .method("POST")
                .uri("/login")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(format!(
                    "username={user}&password={}&next=%2Falerts",
                    PASSWORD.replace(' ', "+")
                )))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let mut cookie = String::new();
    let mut csrf = String::new();
    for v in r.headers().get_all(header::SET_COOKIE) {
        let kv = v.to_str().unwrap().split(';').next().unwrap().to_string();
        if let Some(c) = kv.strip_prefix("otwatch_csrf=") {
            csrf = c.to_string();
        }
        if !cookie.is_empty() {
            cookie.push_str("; ");
        }
        cookie.push_str(&kv);
    }
    (cookie, csrf)
}

pub async fn post_form(state: &AppState, cookie: &str, uri: &str, body: &str) -> StatusCode {
    router(state.clone())
        .oneshot(
            Request::builder()
                .method("POST")
                .uri(uri)
                .header(header::COOKIE, cookie)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(body.to_string()))
                .unwrap(),
        )
        .await
        .unwrap()
        .status()
}

/// A browser on the console: the WebDriver client, the console's address, the screenshot folder.
pub struct B {
    /// The WebDriver session.
    pub c: Client,
    /// The console's base URL.
    pub base: String,
    /// Where screenshots go.
    pub shots: std::path::PathBuf,
}

impl B {
    pub async fn go(&self, path: &str) {
        self.c
            .goto(&format!("{}{path}", self.base))
            .await
            .unwrap_or_else(|e| panic!("goto {path}: {e}"));
    }

    pub async fn path(&self) -> String {
        let u = self.c.current_url().await.unwrap();
        match u.query() {
            Some(q) => format!("{}?{q}", u.path()),
            None => u.path().to_string(),
        }
    }

    pub async fn css(&self, sel: &str) -> fantoccini::elements::Element {
        self.c
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css(sel))
            .await
            .unwrap_or_else(|e| panic!("no element {sel}: {e}"))
    }

    pub async fn all(&self, sel: &str) -> Vec<fantoccini::elements::Element> {
        self.c.find_all(Locator::Css(sel)).await.unwrap()
    }

    pub async fn text(&self, sel: &str) -> String {
        self.css(sel).await.text().await.unwrap()
    }

    pub async fn wait_path(&self, want: &str) {
        let t = Instant::now();
        loop {
            let p = self.path().await;
            if p.starts_with(want) {
                return;
            }
            assert!(t.elapsed() < Duration::from_secs(10), "still at {p}, waiting for {want}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until the page has loaded after a navigation (the document is complete).
    pub async fn settle(&self) {
        let t = Instant::now();
        loop {
            let v = self.c.execute("return document.readyState", vec![]).await.unwrap();
            if v == "complete" {
                return;
            }
            assert!(t.elapsed() < Duration::from_secs(10));
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Screenshots of the current page at both sizes.
    pub async fn shot(&self, name: &str) {
        for (w, h) in [(1920u32, 1080u32), (1366, 768)] {
            // The window's outer size includes the browser's frame; size it so the page gets w×h.
            self.c.set_window_size(w, h).await.unwrap();
            let inner = self
                .c
                .execute("return [window.innerWidth, window.innerHeight]", vec![])
                .await
                .unwrap();
            let (iw, ih) = (
                inner[0].as_u64().unwrap_or(w as u64) as u32,
                inner[1].as_u64().unwrap_or(h as u64) as u32,
            );
            if (iw, ih) != (w, h) {
                self.c
                    .set_window_size(w + w.saturating_sub(iw), h + h.saturating_sub(ih))
                    .await
                    .unwrap();
            }
            tokio::time::sleep(Duration::from_millis(150)).await;
            let png = self.c.screenshot().await.unwrap();
            std::fs::write(self.shots.join(format!("{name}-{w}x{h}.png")), png).unwrap();
        }
    }

    /// Fetches a URL inside the page (with its cookies): (status, body as text or hex of the first bytes).
    pub async fn fetch(&self, url: &str, hex: bool) -> (u64, String) {
        let script = r#"
            const [url, hex, done] = arguments;
            fetch(url, {credentials: "same-origin"}).then(async r => {
                if (hex) {
                    const b = new Uint8Array(await r.arrayBuffer());
                    done([r.status, Array.from(b).map(x => x.toString(16).padStart(2, "0")).join("")]);
                } else {
                    done([r.status, await r.text()]);
                }
            }).catch(e => done([0, String(e)]));
        "#;
        let v = self.c.execute_async(script, vec![json!(url), json!(hex)]).await.unwrap();
        (v[0].as_u64().unwrap_or(0), v[1].as_str().unwrap_or("").to_string())
    }

    pub async fn sign_in(&self, user: &str) {
        self.go("/alerts").await;
        self.wait_path("/login").await;
        self.css("#username").await.send_keys(user).await.unwrap();
        self.css("#password").await.send_keys(PASSWORD).await.unwrap();
        if user == "analyst" {
            self.shot("01-sign-in").await;
        }
        self.css("form[action='/login'] button[type=submit]").await.click().await.unwrap();
        self.wait_path("/alerts").await;
        self.settle().await;
    }

    pub async fn sign_out(&self) {
        self.css("form[action='/logout'] button").await.click().await.unwrap();
        self.wait_path("/login").await;
    }
}

pub fn csv_rows(text: &str) -> Vec<Vec<String>> {
    // The export quotes cells with commas; the fixture has none with quotes or line breaks.
    text.lines()
        .filter(|l| !l.is_empty())
        .map(|l| {
            let mut cells = Vec::new();
            let mut cur = String::new();
            let mut quoted = false;
            for ch in l.chars() {
                match ch {
                    '"' => quoted = !quoted,
                    ',' if !quoted => cells.push(std::mem::take(&mut cur)),
                    c => cur.push(c),
                }
            }
            cells.push(cur);
            cells
        })
        .collect()
}

/// A query string from pairs, percent-encoded.
pub fn qs(pairs: &[(&str, &str)]) -> String {
    otwatch_server::views::qs(pairs)
}
