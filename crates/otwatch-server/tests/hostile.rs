//! Hostile input against the API: huge and deeply nested JSON, invalid UTF-8,
//! bad cookies and tokens, session fixation, formula and SQL text, expiry.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

use otwatch_model::{Actor, Role, Timestamp};
use otwatch_server::auth::{hash_password, new_token};
use otwatch_server::{AppState, Settings, router};
use otwatch_store::Store;
use otwatch_store_sqlite::SqliteStore;

const T0: i64 = 1_709_400_000_000_000;

struct Env {
    app: axum::Router,
    store: Arc<SqliteStore>,
    clock: Arc<AtomicI64>,
    token: String,
    _dir: tempfile::TempDir,
}

fn env() -> Env {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open_dir(dir.path()).unwrap());
    let sys = Actor::system();
    store
        .create_user(
            "ann",
            Role::Analyst,
            &hash_password("correct horse battery").unwrap(),
            &sys,
            Timestamp(T0),
        )
        .unwrap();
    let (secret, hash, prefix) = new_token();
    store.create_token("t", Role::Analyst, &hash, &prefix, None, &sys, Timestamp(T0)).unwrap();
    let clock = Arc::new(AtomicI64::new(T0));
    let c2 = clock.clone();
    let settings = Settings { session_ttl: 3600 * 1_000_000, ..Settings::default() };
    let state = AppState::new(
        store.clone(),
        settings,
        Arc::new(move || Timestamp(c2.load(Ordering::SeqCst))),
    );
    Env { app: router(state), store, clock, token: secret, _dir: dir }
}

async fn send(
    app: &axum::Router,
    req: Request<Body>,
) -> (StatusCode, Value, axum::http::HeaderMap) {
    let resp = app.clone().oneshot(req).await.unwrap();
    let st = resp.status();
    let h = resp.headers().clone();
    let b = resp.into_body().collect().await.unwrap().to_bytes();
    (st, serde_json::from_slice(&b).unwrap_or(Value::Null), h)
}

fn post_raw(uri: &str, token: &str, body: Vec<u8>) -> Request<Body> {
    Request::builder()
        .method("POST")
        .uri(uri)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body))
        .unwrap()
}

#[tokio::test]
async fn malformed_bodies_are_refused_cleanly() {
    let e = env();
    let nested = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let deep_obj = format!(r#"{{"detections": {}0{}}}"#, "[".repeat(5_000), "]".repeat(5_000));
    let cases: Vec<Vec<u8>> = vec![
        nested.into_bytes(),
        deep_obj.into_bytes(),
        b"{\"detections\": [\"\xff\xfe\"]}".to_vec(),
        b"\xef\xbb\xbf{\"detections\": []".to_vec(),
        b"{\"detections\": [{\"type\": \"anomaly_port_scan\", \"time\": \"2024-03-02T10:00:00Z\", \"count\": -1}]}".to_vec(),
        b"{\"detections\": [{\"type\": \"anomaly_port_scan\", \"time\": 1e308}]}".to_vec(),
        b"{\"detections\": [], \"detections\": []}".to_vec(),
        vec![b'{'; 1_000_000],
    ];
    for body in cases {
        let (st, v, _) =
            send(&e.app, post_raw("/api/v1/alerts/ingest", &e.token, body.clone())).await;
        assert!(
            st.is_client_error(),
            "{st} for {:?}: {v}",
            String::from_utf8_lossy(&body[..body.len().min(60)])
        );
        assert!(v["error"]["message"].is_string(), "{v}");
    }
    assert_eq!(e.store.count_alerts(&Default::default()).unwrap(), 0);
    // Invalid UTF-8 and control characters in the URL are a clean 400.
    let req = Request::builder()
        .uri("/api/v1/alerts?q=%FF%FE&site=%00")
        .header(header::AUTHORIZATION, format!("Bearer {}", e.token))
        .body(Body::empty())
        .unwrap();
    let (st, _, _) = send(&e.app, req).await;
    assert!(st == StatusCode::BAD_REQUEST || st == StatusCode::OK, "{st}");
}

#[tokio::test]
async fn hostile_text_is_only_ever_data() {
    let e = env();
    let evil = [
        "=cmd|' /C calc'!A0",
        "'; DROP TABLE alerts; --",
        "\" OR 1=1 --",
        "%_\\",
        "<script>alert(1)</script>",
        "../../../etc/passwd",
        "\u{202e}gpj.exe",
        "a\u{0000}b",
    ];
    let dets: Vec<Value> = evil
        .iter()
        .enumerate()
        .map(|(i, s)| json!({"type": "anomaly_port_scan", "time": "2024-03-02T10:00:00Z", "source": {"ip": format!("10.0.0.{}", i + 1), "name": s}, "destination": {"ip": "10.0.0.100"}, "protocol": s, "site": s}))
        .collect();
    let (st, v, _) = send(
        &e.app,
        post_raw(
            "/api/v1/alerts/ingest",
            &e.token,
            json!({"detections": dets}).to_string().into_bytes(),
        ),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["opened"], evil.len());
    for s in evil {
        let uri = format!("/api/v1/alerts?site={}&q={}", urlencode(s), urlencode(s));
        let req = Request::builder()
            .uri(uri)
            .header(header::AUTHORIZATION, format!("Bearer {}", e.token))
            .body(Body::empty())
            .unwrap();
        let (st, v, _) = send(&e.app, req).await;
        assert_eq!(st, StatusCode::OK, "{s}: {v}");
        let items = v["items"].as_array().unwrap();
        assert_eq!(items.len(), 1, "exactly the alert with that text: {s}");
        assert_eq!(items[0]["site"], s);
    }
    // The CSV export neutralises the formula.
    let req = Request::builder()
        .uri("/api/v1/alerts/export.csv?fields=source_name")
        .header(header::AUTHORIZATION, format!("Bearer {}", e.token))
        .body(Body::empty())
        .unwrap();
    let resp = e.app.clone().oneshot(req).await.unwrap();
    let csv =
        String::from_utf8(resp.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap();
    assert!(csv.contains("'=cmd|' /C calc'!A0"), "{csv}");
    assert!(!csv.lines().any(|l| l.starts_with('=')));
    assert_eq!(
        e.store.count_alerts(&Default::default()).unwrap(),
        evil.len() as u64,
        "the table is still there"
    );
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(
            |b| {
                if b.is_ascii_alphanumeric() {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            },
        )
        .collect()
}

#[tokio::test]
async fn bad_credentials_are_refused() {
    let e = env();
    let get = |auth: Option<String>, cookie: Option<&str>| {
        let mut b = Request::builder().uri("/api/v1/auth/me");
        if let Some(a) = auth {
            b = b.header(header::AUTHORIZATION, a);
        }
        if let Some(c) = cookie {
            b = b.header(header::COOKIE, c);
        }
        b.body(Body::empty()).unwrap()
    };
    for auth in [
        "Bearer ",
        "Bearer otw_0000000000000000000000000000000000000000",
        "Basic YWRtaW46YWRtaW4=",
        "Bearer \t otw_",
        &format!("Bearer {}x", e.token),
    ] {
        let (st, _, _) = send(&e.app, get(Some(auth.to_string()), None)).await;
        assert_eq!(st, StatusCode::UNAUTHORIZED, "{auth:?}");
    }
    for cookie in [
        "otwatch_session=",
        "otwatch_session=deadbeef",
        "otwatch_session=../../etc",
        &format!("otwatch_session={}", "a".repeat(10_000)),
        "otwatch_session=\"x\"; otwatch_session=y",
    ] {
        let (st, _, _) = send(&e.app, get(None, Some(cookie))).await;
        assert_eq!(st, StatusCode::UNAUTHORIZED, "{cookie:?}");
    }
}

#[tokio::test]
async fn sessions_expire_and_are_never_fixed() {
    let e = env();
    let login = Request::builder()
        .method("POST")
        .uri("/api/v1/auth/login")
        .header(header::CONTENT_TYPE, "application/json")
        // A session id planted by an attacker is ignored: sign-in always makes a new one.
        .header(header::COOKIE, "otwatch_session=attacker-chosen-id")
        .body(Body::from(
            json!({"username": "ann", "password": "correct horse battery"}).to_string(),
        ))
        .unwrap();
    let (st, _, h) = send(&e.app, login).await;
    assert_eq!(st, StatusCode::OK);
    let cookie = h
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|c| c.to_str().unwrap().to_string())
        .find(|c| c.starts_with("otwatch_session="))
        .unwrap();
    let pair = cookie.split(';').next().unwrap().to_string();
    assert_ne!(pair, "otwatch_session=attacker-chosen-id");
    assert!(pair.len() > 40, "a long random id");
    let me = |c: &str| {
        Request::builder()
            .uri("/api/v1/auth/me")
            .header(header::COOKIE, c)
            .body(Body::empty())
            .unwrap()
    };
    assert_eq!(send(&e.app, me(&pair)).await.0, StatusCode::OK);
    assert_eq!(
        send(&e.app, me("otwatch_session=attacker-chosen-id")).await.0,
        StatusCode::UNAUTHORIZED
    );
    // One hour later the session is over.
    e.clock.fetch_add(3601 * 1_000_000, Ordering::SeqCst);
    assert_eq!(send(&e.app, me(&pair)).await.0, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn passwords_and_secrets_never_come_back() {
    let e = env();
    let admin_tok = {
        let (secret, hash, prefix) = new_token();
        e.store
            .create_token("adm", Role::Admin, &hash, &prefix, None, &Actor::system(), Timestamp(T0))
            .unwrap();
        secret
    };
    let body = json!({"name": "carl", "role": "viewer", "password": "a very secret password"});
    let (st, v, _) =
        send(&e.app, post_raw("/api/v1/users", &admin_tok, body.to_string().into_bytes())).await;
    assert_eq!(st, StatusCode::CREATED);
    let mut seen = v.to_string();
    for uri in ["/api/v1/users", "/api/v1/audit", "/api/v1/tokens"] {
        let req = Request::builder()
            .uri(uri)
            .header(header::AUTHORIZATION, format!("Bearer {admin_tok}"))
            .body(Body::empty())
            .unwrap();
        seen.push_str(&send(&e.app, req).await.1.to_string());
    }
    assert!(!seen.contains("a very secret password"));
    assert!(!seen.contains("argon2"), "no password hashes");
    assert!(!seen.contains(&admin_tok) && !seen.contains(&e.token), "no token secrets");
    let u = e.store.user_by_name("carl").unwrap().unwrap();
    assert!(!format!("{u:?}").contains("argon2"), "Debug redacts the hash");
}
