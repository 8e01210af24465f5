//! Access control checked from outside: a real `otwatch serve`, users of
//! every role made with `otwatch users`, signed in over HTTP (session cookie
//! and CSRF token, and API tokens), trying every route of the OpenAPI
//! document and every console page; sessions expire, a revoked token stops
//! at once, CSRF from another origin, path traversal and open redirects are
//! refused, every page and static file carries the security headers, and no
//! password or secret ever appears in the server's output or a response.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};

const ADMIN_PW: &str = "Adm1n-pw-never-logged-7Qx";
const PASSWORDS: [(&str, &str, &str); 3] = [
    ("vera", "viewer", "V13wer-pw-never-logged-4Kd"),
    ("anna", "analyst", "Analyst-pw-never-logged-9Zp"),
    ("adam", "admin", "Adm2-pw-never-logged-3Wm"),
];
/// A secret given in the configuration file.
const CONFIG_SECRET: &str = "config-secret-never-logged-8Rt";

fn otwatch(data: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_otwatch"));
    c.arg("--data-dir").arg(data).env_remove("OTWATCH_CONFIG").env_remove("RUST_LOG");
    c
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A running `otwatch serve` whose standard output and error are kept.
struct Server {
    child: Child,
    port: u16,
    output: Arc<Mutex<String>>,
}

impl Server {
    fn start(data: &Path, extra: &[&str]) -> Server {
        let port = free_port();
        let config = data.join("otwatch.toml");
        std::fs::write(
            &config,
            format!("[server]\nadmin_password = \"{CONFIG_SECRET}\"\nsession_ttl = \"12h\"\n"),
        )
        .unwrap();
        let mut child = otwatch(data)
            .arg("--config")
            .arg(&config)
            .args(["--log-level", "debug"])
            .args(extra)
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let output = Arc::new(Mutex::new(String::new()));
        let err = child.stderr.take().unwrap();
        let o = output.clone();
        std::thread::spawn(move || {
            for l in BufReader::new(err).lines().map_while(Result::ok) {
                let mut o = o.lock().unwrap();
                o.push_str(&l);
                o.push('\n');
            }
        });
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        loop {
            let l = lines.next().expect("serve printed nothing").unwrap();
            output.lock().unwrap().push_str(&format!("{l}\n"));
            if l.starts_with("otwatch console on") {
                break;
            }
        }
        let o = output.clone();
        std::thread::spawn(move || {
            for l in lines.map_while(Result::ok) {
                let mut o = o.lock().unwrap();
                o.push_str(&l);
                o.push('\n');
            }
        });
        Server { child, port, output }
    }

    /// Stops the server and returns everything it printed.
    fn stop(mut self) -> String {
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        let _ = self.child.wait();
        std::thread::sleep(Duration::from_millis(100));
        self.output.lock().unwrap().clone()
    }
}

/// One HTTP response.
struct Resp {
    status: u16,
    headers: BTreeMap<String, Vec<String>>,
    body: String,
}

impl Resp {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.first()).map(String::as_str)
    }
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

/// Who is calling.
#[derive(Clone, Default)]
struct Who {
    token: Option<String>,
    cookie: Option<String>,
    csrf: Option<String>,
}

fn http(
    port: u16,
    method: &str,
    path: &str,
    who: &Who,
    extra: &[(&str, &str)],
    body: Option<&str>,
) -> Resp {
    let mut req =
        format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n");
    if let Some(t) = &who.token {
        req.push_str(&format!("Authorization: Bearer {t}\r\n"));
    }
    if let Some(c) = &who.cookie {
        req.push_str(&format!("Cookie: {c}\r\n"));
    }
    if let Some(c) = &who.csrf {
        req.push_str(&format!("X-CSRF-Token: {c}\r\n"));
    }
    for (k, v) in extra {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    let body = body.unwrap_or("");
    if matches!(method, "POST" | "PUT" | "PATCH") || !body.is_empty() {
        if !extra.iter().any(|(k, _)| k.eq_ignore_ascii_case("content-type")) {
            req.push_str("Content-Type: application/json\r\n");
        }
        req.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    req.push_str("\r\n");
    req.push_str(body);
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    s.write_all(req.as_bytes()).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("a response head");
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let mut rest = raw[split + 4..].to_vec();
    let mut lines = head.lines();
    let status = lines.next().unwrap().split_whitespace().nth(1).unwrap().parse().unwrap();
    let mut headers: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for l in lines {
        if let Some((k, v)) = l.split_once(':') {
            headers.entry(k.trim().to_ascii_lowercase()).or_default().push(v.trim().to_string());
        }
    }
    if headers.get("transfer-encoding").is_some_and(|v| v.iter().any(|v| v.contains("chunked"))) {
        let mut out = Vec::new();
        let mut at = 0;
        while let Some(eol) = rest[at..].windows(2).position(|w| w == b"\r\n") {
            let n = usize::from_str_radix(String::from_utf8_lossy(&rest[at..at + eol]).trim(), 16)
                .unwrap_or(0);
            if n == 0 {
                break;
            }
            out.extend_from_slice(&rest[at + eol + 2..at + eol + 2 + n]);
            at += eol + 2 + n + 2;
        }
        rest = out;
    }
    Resp { status, headers, body: String::from_utf8_lossy(&rest).to_string() }
}

fn sign_in(port: u16, user: &str, pw: &str) -> Who {
    let r = http(
        port,
        "POST",
        "/api/v1/auth/login",
        &Who::default(),
        &[],
        Some(&json!({"username": user, "password": pw}).to_string()),
    );
    assert_eq!(r.status, 200, "sign in as {user}: {}", r.body);
    let cookie = r.headers["set-cookie"]
        .iter()
        .find(|c| c.starts_with("otwatch_session="))
        .expect("a session cookie")
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let set = r.headers["set-cookie"].join("\n");
    assert!(set.contains("HttpOnly") && set.contains("SameSite=Strict"), "{set}");
    let csrf = r.json()["csrf_token"].as_str().expect("a CSRF token").to_string();
    Who { token: None, cookie: Some(cookie), csrf: Some(csrf) }
}

fn token(data: &Path, name: &str, role: &str) -> String {
    let o = otwatch(data).args(["tokens", "create", name, "--role", role]).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let t = String::from_utf8_lossy(&o.stdout).lines().last().unwrap().trim().to_string();
    assert!(t.starts_with("otw_"), "{t}");
    t
}

/// A data directory with a user of each role and a token of each role.
fn setup(data: &Path) -> BTreeMap<&'static str, String> {
    std::fs::create_dir_all(data).unwrap();
    for (user, role, pw) in PASSWORDS {
        let mut c = otwatch(data)
            .args(["users", "add", user, "--role", role, "--password-stdin"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        c.stdin.take().unwrap().write_all(format!("{pw}\n").as_bytes()).unwrap();
        let o = c.wait_with_output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let printed =
            format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
        assert!(!printed.contains(pw), "users add printed the password");
    }
    let mut tokens = BTreeMap::new();
    for role in ["viewer", "analyst", "admin"] {
        tokens.insert(role, token(data, &format!("t-{role}"), role));
    }
    tokens
}

fn rank(role: &str) -> u8 {
    match role {
        "viewer" => 1,
        "analyst" => 2,
        "admin" => 3,
        _ => 0,
    }
}

/// No password, token secret or configured secret in anything printed or answered.
fn assert_no_secrets(what: &str, text: &str, secrets: &[String]) {
    for s in secrets {
        assert!(!text.contains(s.as_str()), "{what} contains the secret {s:.8}…");
    }
}

/// Every route of the OpenAPI document, as anonymous and as each role
/// signed in both ways (a session with its CSRF token, and an API token):
/// 401 without credentials, 403 below the route's least role, never 401 or
/// 403 (nor a 5xx) at or above it. Unsafe methods with a session but
/// without the CSRF token are refused whatever the role.
#[test]
fn every_route_as_every_role_over_http() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let tokens = setup(&data);
    let server = Server::start(&data, &[]);
    let port = server.port;
    let mut secrets: Vec<String> = PASSWORDS.iter().map(|p| p.2.to_string()).collect();
    secrets.extend(tokens.values().cloned());
    secrets.push(CONFIG_SECRET.into());
    secrets.push(ADMIN_PW.into());
    let mut bodies = String::new();

    let doc = http(port, "GET", "/api/v1/openapi.json", &Who::default(), &[], None).json();
    let mut routes = Vec::new();
    for (path, ops) in doc["paths"].as_object().expect("an OpenAPI document") {
        for (method, op) in ops.as_object().unwrap() {
            let role = op["x-otwatch-role"].as_str().unwrap_or("public").to_string();
            routes.push((method.to_ascii_uppercase(), path.clone(), role));
        }
    }
    assert!(routes.len() >= 40, "{} routes", routes.len());
    let mut callers: Vec<(String, &str, Who)> = Vec::new();
    for (user, role, pw) in PASSWORDS {
        callers.push((format!("{user} (session)"), role, sign_in(port, user, pw)));
        let t = Who { token: Some(tokens[role].clone()), ..Who::default() };
        callers.push((format!("{role} token"), role, t));
    }
    let mut checked = 0;
    let mut matrix: BTreeMap<&str, (u32, u32)> = BTreeMap::new();
    for (method, path, need) in &routes {
        if path == "/api/v1/auth/logout" {
            continue; // Ends the session the matrix signs in with; checked below.
        }
        // Ids that do not exist: the matrix checks access and deletes none of its fixtures.
        let url = path.replace("{id}", "999999").replace("{name}", "nobody");
        let body = matches!(method.as_str(), "POST" | "PUT" | "PATCH").then_some("{}");
        let anon = http(port, method, &url, &Who::default(), &[], body);
        bodies.push_str(&anon.body);
        if need == "public" {
            assert_ne!(anon.status, 401, "{method} {path} is public");
            checked += 1;
            continue;
        }
        assert_eq!(anon.status, 401, "{method} {path} without credentials: {}", anon.body);
        for (who, role, creds) in &callers {
            let r = http(port, method, &url, creds, &[], body);
            bodies.push_str(&r.body);
            let allowed = rank(role) >= rank(need);
            let e = matrix.entry(role).or_default();
            if allowed {
                e.0 += 1;
                let documented_500 =
                    path.starts_with("/external/") && r.json()["error"].is_string();
                assert!(
                    r.status != 401 && r.status != 403 && (r.status < 500 || documented_500),
                    "{method} {path} as {who}: {} {}",
                    r.status,
                    r.body
                );
            } else {
                e.1 += 1;
                assert_eq!(r.status, 403, "{method} {path} as {who}: {}", r.body);
                assert_eq!(r.json()["error"]["code"], "forbidden", "{method} {path} as {who}");
            }
            // A session without its CSRF token may not change anything.
            if creds.cookie.is_some() && allowed && method != "GET" {
                let no_csrf = Who { csrf: None, ..creds.clone() };
                let r =
                    http(port, method, &url, &no_csrf, &[("Origin", "https://evil.example")], body);
                assert_eq!(r.status, 403, "{method} {path} as {who} without CSRF: {}", r.body);
                assert_eq!(r.json()["error"]["code"], "csrf");
            }
        }
        checked += 1;
    }
    // Sign-out ends the session at once.
    let (_, _, vera) = &callers[0];
    assert_eq!(http(port, "GET", "/api/v1/auth/me", vera, &[], None).status, 200);
    let r = http(port, "POST", "/api/v1/auth/logout", vera, &[], Some("{}"));
    assert!(r.status < 300, "logout: {} {}", r.status, r.body);
    assert_eq!(http(port, "GET", "/api/v1/auth/me", vera, &[], None).status, 401);
    // A wrong password and a forged cookie are refused the same way.
    let r = http(
        port,
        "POST",
        "/api/v1/auth/login",
        &Who::default(),
        &[],
        Some(&json!({"username": "anna", "password": PASSWORDS[0].2}).to_string()),
    );
    assert_eq!(r.status, 401);
    let forged = Who { cookie: Some("otwatch_session=forged".into()), ..Who::default() };
    assert_eq!(http(port, "GET", "/api/v1/alerts", &forged, &[], None).status, 401);

    let output = server.stop();
    assert_no_secrets("the server's output", &output, &secrets);
    assert_no_secrets("a response", &bodies, &secrets);
    assert!(output.contains("Request."), "the server logged requests at debug level");
    println!(
        "access: {checked} routes × anonymous + 3 roles × (session, token); allowed/forbidden per role: {}; CSRF refused on every unsafe route for sessions; no secret in {} bytes of output and {} bytes of responses",
        matrix.iter().map(|(r, (a, f))| format!("{r} {a}/{f}")).collect::<Vec<_>>().join(", "),
        output.len(),
        bodies.len()
    );
}

/// Sessions end after `server.session_ttl`; a revoked token stops working
/// on the very next request, whether revoked over the API or the CLI.
#[test]
fn sessions_expire_and_revoked_tokens_stop_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let tokens = setup(&data);
    let server = Server::start(&data, &["--set", "server.session_ttl=3s"]);
    let port = server.port;
    let anna = sign_in(port, "anna", PASSWORDS[1].2);
    assert_eq!(http(port, "GET", "/api/v1/alerts", &anna, &[], None).status, 200);
    // A token made over the API, used, revoked, refused at once.
    let admin = Who { token: Some(tokens["admin"].clone()), ..Who::default() };
    let r = http(
        port,
        "POST",
        "/api/v1/tokens",
        &admin,
        &[],
        Some(r#"{"name":"short","role":"analyst"}"#),
    );
    assert!(r.status == 200 || r.status == 201, "{} {}", r.status, r.body);
    let v = r.json();
    let secret = v["secret"].as_str().expect("the secret, once").to_string();
    let id = v["token"]["id"].as_i64().expect("the token id");
    let short = Who { token: Some(secret.clone()), ..Who::default() };
    assert_eq!(http(port, "GET", "/api/v1/alerts", &short, &[], None).status, 200);
    let listed = http(port, "GET", "/api/v1/tokens", &admin, &[], None);
    assert!(!listed.body.contains(&secret), "the token list never shows a secret");
    let r = http(port, "DELETE", &format!("/api/v1/tokens/{id}"), &admin, &[], None);
    assert!(r.status < 300, "{} {}", r.status, r.body);
    assert_eq!(http(port, "GET", "/api/v1/alerts", &short, &[], None).status, 401);
    // A token revoked with the CLI while the server runs: refused at once too.
    let viewer = Who { token: Some(tokens["viewer"].clone()), ..Who::default() };
    assert_eq!(http(port, "GET", "/api/v1/alerts", &viewer, &[], None).status, 200);
    let o = otwatch(&data).args(["tokens", "list"]).output().unwrap();
    let list = String::from_utf8_lossy(&o.stdout).to_string();
    let id = list
        .lines()
        .find(|l| l.split_whitespace().nth(1) == Some("t-viewer"))
        .and_then(|l| l.split_whitespace().next())
        .unwrap_or_else(|| panic!("otwatch tokens list: {list}"))
        .to_string();
    assert!(!list.contains(&tokens["viewer"]), "tokens list shows no secret");
    let o = otwatch(&data).args(["tokens", "revoke", &id]).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(http(port, "GET", "/api/v1/alerts", &viewer, &[], None).status, 401);
    // The session ends after its lifetime.
    std::thread::sleep(Duration::from_millis(3500));
    let r = http(port, "GET", "/api/v1/alerts", &anna, &[], None);
    assert_eq!(r.status, 401, "an expired session: {}", r.body);
    let output = server.stop();
    let mut secrets: Vec<String> = PASSWORDS.iter().map(|p| p.2.to_string()).collect();
    secrets.extend(tokens.values().cloned());
    secrets.push(secret);
    secrets.push(CONFIG_SECRET.into());
    assert_no_secrets("the server's output", &output, &secrets);
}

/// Every console page and static file, over real HTTP: signed-out browsers
/// go to the sign-in page, a role too low gets 403, and every answer carries
/// CSP with frame-ancestors, nosniff, a referrer policy and X-Frame-Options.
/// Forms posted without the session's CSRF token (another origin) change
/// nothing; traversal in file names and open redirects after sign-in go nowhere.
#[test]
fn pages_are_guarded_and_carry_security_headers() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let tokens = setup(&data);
    let server = Server::start(&data, &[]);
    let port = server.port;
    let check_headers = |what: &str, r: &Resp| {
        let csp = r.header("content-security-policy").unwrap_or_else(|| panic!("{what}: no CSP"));
        assert!(csp.contains("frame-ancestors 'none'"), "{what}: {csp}");
        assert!(csp.contains("default-src") || csp.contains("script-src"), "{what}: {csp}");
        assert!(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"), "{what}: {csp}");
        assert_eq!(r.header("x-content-type-options"), Some("nosniff"), "{what}");
        assert!(r.header("referrer-policy").is_some(), "{what}: no referrer policy");
        assert_eq!(r.header("x-frame-options"), Some("DENY"), "{what}");
    };
    let roles: Vec<(&str, Who)> =
        PASSWORDS.iter().map(|(u, r, p)| (*r, sign_in(port, u, p))).collect();
    let mut pages = 0;
    for spec in otwatch_server::views::specs() {
        if spec.method != "GET" || spec.path.starts_with("/static/") {
            continue;
        }
        let url = spec.path.replace("{id}", "1").replace("{name}", "nobody");
        let anon = http(port, "GET", &url, &Who::default(), &[], None);
        check_headers(&format!("{url} signed out"), &anon);
        match spec.role {
            None => assert_eq!(anon.status, 200, "{url} is public"),
            Some(need) => {
                assert!(
                    (300..400).contains(&anon.status)
                        && anon.header("location").is_some_and(|l| l.starts_with("/login")),
                    "{url} signed out goes to the sign-in page: {}",
                    anon.status
                );
                for (role, who) in &roles {
                    let r = http(port, "GET", &url, who, &[], None);
                    check_headers(&format!("{url} as {role}"), &r);
                    if rank(role) < rank(&need.to_string().to_ascii_lowercase()) {
                        assert_eq!(r.status, 403, "{url} as {role}");
                    } else {
                        let same_site_redirect = (300..400).contains(&r.status)
                            && r.header("location").is_some_and(|l| {
                                l.starts_with('/')
                                    && !l.starts_with("//")
                                    && !l.starts_with("/login")
                            });
                        assert!(
                            r.status == 200 || r.status == 404 || same_site_redirect,
                            "{url} as {role}: {}",
                            r.status
                        );
                        if r.status == 200 {
                            assert!(
                                r.header("content-type")
                                    .is_some_and(|c| c.starts_with("text/html"))
                            );
                        }
                    }
                }
            }
        }
        pages += 1;
    }
    // Unknown paths carry the headers too, and no answer lets another origin read it (no CORS).
    for (m, path) in
        [("GET", "/nonexistent"), ("GET", "/api/v1/nonexistent"), ("OPTIONS", "/api/v1/alerts")]
    {
        let r = http(
            port,
            m,
            path,
            &Who::default(),
            &[("Origin", "https://evil.example"), ("Access-Control-Request-Method", "DELETE")],
            None,
        );
        check_headers(&format!("{m} {path}"), &r);
        assert!(
            r.header("access-control-allow-origin").is_none(),
            "{m} {path} allows another origin"
        );
    }
    let (_, some) = &roles[0];
    let r = http(port, "GET", "/api/v1/alerts", some, &[("Origin", "https://evil.example")], None);
    assert!(
        r.header("access-control-allow-origin").is_none()
            && r.header("access-control-allow-credentials").is_none()
    );
    // Every console form, posted with the session's own CSRF field: 403 below
    // its least role, never refused (nor a 5xx) at or above it; signed out, no
    // change (to the sign-in page or 401).
    let mut forms = 0;
    for spec in otwatch_server::views::specs() {
        let Some(need) = spec.role else { continue };
        if spec.method != "POST" || spec.path == "/logout" {
            continue;
        }
        let url = spec.path.replace("{id}", "999999").replace("{name}", "nobody");
        let form_type = [("Content-Type", "application/x-www-form-urlencoded")];
        let anon = http(port, "POST", &url, &Who::default(), &form_type, Some("csrf=x"));
        assert!(
            anon.status == 401 || anon.status == 403 || (300..400).contains(&anon.status),
            "POST {url} signed out: {}",
            anon.status
        );
        for (role, who) in &roles {
            let body = format!("csrf={}", who.csrf.as_deref().unwrap());
            let r = http(port, "POST", &url, who, &form_type, Some(&body));
            check_headers(&format!("POST {url} as {role}"), &r);
            if rank(role) < rank(&need.to_string().to_ascii_lowercase()) {
                assert_eq!(r.status, 403, "POST {url} as {role}");
            } else {
                assert!(
                    r.status != 401 && r.status != 403 && r.status < 500,
                    "POST {url} as {role}: {} {}",
                    r.status,
                    &r.body[..r.body.len().min(300)]
                );
            }
        }
        forms += 1;
    }
    // Static files: every file the pages link to, and traversal attempts.
    let (_, admin) = &roles[2];
    let home = http(port, "GET", "/alerts", admin, &[], None);
    let mut statics: Vec<String> = home
        .body
        .split("/static/")
        .skip(1)
        .filter_map(|s| s.split(['"', '\'', '?']).next().map(|f| f.to_string()))
        .collect();
    statics.sort();
    statics.dedup();
    assert!(
        statics.iter().any(|s| s.ends_with(".css")) && statics.iter().any(|s| s.ends_with(".js")),
        "{statics:?}"
    );
    for f in &statics {
        let r = http(port, "GET", &format!("/static/{f}"), &Who::default(), &[], None);
        assert_eq!(r.status, 200, "/static/{f}");
        check_headers(&format!("/static/{f}"), &r);
    }
    for evil in [
        "/static/..%2f..%2fCargo.toml",
        "/static/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "/static/....//....//etc/passwd",
        "/static/..%5c..%5cCargo.toml",
        "/static/app.css%00.js",
    ] {
        let r = http(port, "GET", evil, &Who::default(), &[], None);
        assert!(r.status == 404 || r.status == 400, "{evil}: {}", r.status);
        assert!(!r.body.contains("[workspace]") && !r.body.contains("root:"), "{evil}");
        check_headers(evil, &r);
    }
    // File names in downloads are fixed or numeric: an id that tries to be a path is refused.
    let analyst = Who { token: Some(tokens["analyst"].clone()), ..Who::default() };
    for evil in
        ["/api/v1/alerts/..%2f..%2fetc%2fpasswd/pcap", "/api/v2/alerts/pcap/..%2f..%2fetc%2fpasswd"]
    {
        let r = http(port, "GET", evil, &analyst, &[], None);
        assert!(r.status == 400 || r.status == 404, "{evil}: {} {}", r.status, r.body);
        assert!(r.header("content-disposition").is_none(), "{evil}");
    }
    let csv = http(port, "GET", "/api/v1/alerts/export.csv", &analyst, &[], None);
    assert_eq!(csv.status, 200);
    assert_eq!(
        csv.header("content-disposition"),
        Some("attachment; filename=\"otwatch-alerts.csv\"")
    );
    check_headers("export.csv", &csv);
    // A saved query whose name is a path and a header injection is only data.
    let viewer = Who { token: Some(tokens["viewer"].clone()), ..Who::default() };
    let evil_name = "../../../etc/passwd\r\nSet-Cookie: x=1 <script>alert(1)</script>";
    let r = http(
        port,
        "POST",
        "/api/v1/hunt/queries",
        &viewer,
        &[],
        Some(&json!({"name": evil_name, "query": "Alerts | take 1"}).to_string()),
    );
    assert!(r.status < 300 || r.status == 400, "{} {}", r.status, r.body);
    assert!(!data.join("etc").exists() && !dir.path().join("etc").exists());
    let hunt = http(port, "GET", "/hunt", admin, &[], None);
    assert!(!hunt.body.contains("<script>alert(1)"), "the name is escaped in the page");
    // Forms posted from another origin (no CSRF field) change nothing.
    let before = http(
        port,
        "GET",
        "/api/v1/users",
        &Who { token: Some(tokens["admin"].clone()), ..Who::default() },
        &[],
        None,
    )
    .body;
    let no_csrf = Who { csrf: None, ..admin.clone() };
    for (path, form) in [
        ("/settings/users", "username=mallory&password=Mallory-pw-123456&role=admin"),
        ("/settings/tokens", "name=stolen&role=admin"),
        ("/logout", ""),
    ] {
        let r = http(
            port,
            "POST",
            path,
            &no_csrf,
            &[
                ("Origin", "https://evil.example"),
                ("Content-Type", "application/x-www-form-urlencoded"),
            ],
            Some(form),
        );
        assert_eq!(r.status, 403, "{path} without the CSRF field: {}", r.status);
        let wrong = format!("{form}&csrf=not-the-token");
        let r = http(
            port,
            "POST",
            path,
            &no_csrf,
            &[
                ("Origin", "https://evil.example"),
                ("Content-Type", "application/x-www-form-urlencoded"),
            ],
            Some(&wrong),
        );
        assert_eq!(r.status, 403, "{path} with a wrong CSRF field: {}", r.status);
    }
    let after = http(
        port,
        "GET",
        "/api/v1/users",
        &Who { token: Some(tokens["admin"].clone()), ..Who::default() },
        &[],
        None,
    )
    .body;
    assert_eq!(before, after, "no user was added");
    assert!(!after.contains("mallory"));
    assert_eq!(http(port, "GET", "/alerts", admin, &[], None).status, 200, "still signed in");
    // After signing in, `next` never leads off the site.
    for next in
        ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)"]
    {
        let form = format!(
            "username=anna&password={}&next={}",
            PASSWORDS[1].2,
            next.replace(':', "%3A").replace('/', "%2F").replace('\\', "%5C")
        );
        let r = http(
            port,
            "POST",
            "/login",
            &Who::default(),
            &[("Content-Type", "application/x-www-form-urlencoded")],
            Some(&form),
        );
        let loc = r.header("location").unwrap_or("");
        assert!((300..400).contains(&r.status), "sign-in with next={next}: {}", r.status);
        assert!(
            loc.starts_with('/') && !loc.starts_with("//") && !loc.starts_with("/\\"),
            "next={next} → {loc}"
        );
    }
    let output = server.stop();
    let mut secrets: Vec<String> = PASSWORDS.iter().map(|p| p.2.to_string()).collect();
    secrets.extend(tokens.values().cloned());
    secrets.push(CONFIG_SECRET.into());
    assert_no_secrets("the server's output", &output, &secrets);
    println!(
        "pages: {pages} pages and {forms} forms as signed out and 3 roles, {} static files, 5 traversal names, 3 cross-origin forms, 4 open redirects: all refused, headers on every answer",
        statics.len()
    );
}

/// Secrets in the configuration never show in `config show`, in logs at the
/// most verbose level, or in error messages about the file.
#[test]
fn configured_secrets_are_redacted() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let config = dir.path().join("otwatch.toml");
    std::fs::write(&config, format!("[server]\nadmin_password = \"{CONFIG_SECRET}\"\n")).unwrap();
    let o = otwatch(&data)
        .arg("--config")
        .arg(&config)
        .args(["--log-level", "trace", "config", "show"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out =
        format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    assert!(out.contains("server.admin_password") && out.contains("redacted"), "{out}");
    assert_no_secrets("config show", &out, &[CONFIG_SECRET.into()]);
    // A wrong value next to the secret: the error names the file and line, not the secret.
    std::fs::write(
        &config,
        format!(
            "[server]\nadmin_password = \"{CONFIG_SECRET}\"\nsession_ttl = \"{CONFIG_SECRET}\"\n"
        ),
    )
    .unwrap();
    let o = otwatch(&data).arg("--config").arg(&config).args(["config", "check"]).output().unwrap();
    assert!(!o.status.success());
    let out =
        format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    assert!(out.contains("session_ttl"), "{out}");
    assert!(!out.contains(&format!("admin_password = \"{CONFIG_SECRET}")), "{out}");
}
