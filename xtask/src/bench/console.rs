//! The console benchmark: ingest rate, and grid, group-by, export, details and hunting latency with 1M and 10M alerts stored, each next to hand-written SQL through the `sqlite3` command line on the same file.
//!
//! Ours is the real product path: `otwatch ingest` for ingest, and HTTP
//! requests to `otwatch serve` (one keep-alive connection, a bearer token)
//! for the queries. The floor answers the same question with one
//! hand-written SQL statement (or a few, where the API answers with
//! several result sets) in a `sqlite3` process kept open on the same
//! database file, with results formatted and thrown away, and the same
//! cache and memory-map settings as the store's readers. Both sides are
//! timed per request from this process: wall time until the last byte
//! (ours) or until a marker printed after the statement (the floor).

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use super::Env;
use super::http::{Client, encode};
use super::measure::{self, Job};
use super::report::{Part, Report, int, num, ratio, table};

/// Gen-alerts `--distinct` value that makes every detection a new alert.
const ALL_DISTINCT: u64 = 1 << 40;
/// Ids per bulk status request when preparing a database.
const BULK_IDS: usize = 10_000;
/// Admin password given to `otwatch serve` (the benchmark uses a token).
const ADMIN_PASSWORD: &str = "bench-admin-password-not-secret";

/// Console benchmark settings.
#[derive(Clone, Debug)]
pub struct ConsoleOptions {
    /// Detections per ingest run.
    pub ingest_count: u64,
    /// Stored alerts for the query benchmark (one database each).
    pub alert_counts: Vec<u64>,
    /// Timed requests per query (split over the rounds).
    pub iters: usize,
    /// Rounds (ingest runs; query blocks alternating ours and the floor).
    pub rounds: usize,
    /// Seed for generated alerts.
    pub seed: u64,
}

/// The `otwatch gen-alerts` output for `count` detections over `distinct` fingerprints, cached.
fn jsonl(env: &Env, count: u64, distinct: u64, seed: u64) -> Result<PathBuf> {
    let path = env.inputs.join(format!("alerts-{count}-d{distinct}-seed{seed}.jsonl"));
    if path.is_file() {
        return Ok(path);
    }
    let tmp = env.inputs.join("alerts.tmp.jsonl");
    let f = std::fs::File::create(&tmp)?;
    let st = Command::new(&env.otwatch)
        .args(["gen-alerts", "--count", &count.to_string(), "--distinct", &distinct.to_string()])
        .args(["--seed", &seed.to_string()])
        .stdout(f)
        .status()
        .context("running otwatch gen-alerts")?;
    if !st.success() {
        bail!("otwatch gen-alerts failed");
    }
    std::fs::rename(&tmp, &path)?;
    Ok(path)
}

fn ingest_job(env: &Env, dir: &Path, file: &Path) -> Job {
    Job::new(
        &env.otwatch,
        &[
            "--data-dir",
            &dir.display().to_string(),
            "ingest",
            &file.display().to_string(),
            "--json",
        ],
    )
    .captured()
    .env("OTWATCH_LOG_LEVEL", "warn")
}

/// The ingest benchmark: new alerts, repeats (de-duplication hits), a
/// re-send (idempotency hits), and the floor (the same lines as rows of a
/// bare table through `sqlite3 .import`).
fn ingest(env: &Env, o: &ConsoleOptions, report: &mut Report) -> Result<()> {
    let n = o.ingest_count;
    let new = jsonl(env, n, ALL_DISTINCT, o.seed)?;
    let rep = jsonl(env, n, (n / 10).max(1), o.seed)?;
    let dir = env.scratch.join("ingest-store");
    let floor_db = env.scratch.join("ingest-floor.db");
    let script = env.scratch.join("ingest-floor.sql");
    std::fs::write(
        &script,
        format!(
            "PRAGMA journal_mode=WAL;\nPRAGMA synchronous=NORMAL;\nCREATE TABLE t (line TEXT);\n\
             .separator \"\\037\" \"\\n\"\n.import {} t\n",
            new.display()
        ),
    )?;
    let mut floor_job = Job::new("sqlite3", &[&floor_db.display().to_string()]);
    floor_job.stdin = Some(script);
    // Rows: new, repeats, re-send, floor. Each sample: (wall, opened, updated, duplicates, rss).
    let names = [
        "new alerts (every detection opens one)",
        "repeats (10% distinct: de-duplication hits)",
        "re-send of the repeats (idempotency: all duplicates)",
        "floor: sqlite3 .import of the same lines into a bare table",
    ];
    let mut rows: Vec<Vec<IngestSample>> = vec![Vec::new(); 4];
    for round in 0..o.rounds {
        eprintln!(
            "bench: ingest round {}/{} (load {:.1})",
            round + 1,
            o.rounds,
            measure::loadavg().0
        );
        for v in measure::round_order(3, round) {
            let _ = std::fs::remove_dir_all(&dir);
            let _ = std::fs::remove_file(&floor_db);
            let _ = std::fs::remove_file(floor_db.with_extension("db-wal"));
            match v {
                0 => rows[0].push(ingest_once(env, &dir, &new)?),
                1 => {
                    rows[1].push(ingest_once(env, &dir, &rep)?);
                    rows[2].push(ingest_once(env, &dir, &rep)?);
                }
                _ => {
                    let s = measure::run(&floor_job, &env.scratch)?;
                    rows[3].push((s.wall, n, 0, 0, s.rss_kib));
                }
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    let floor = measure::median(&rows[3].iter().map(|r| r.0).collect::<Vec<_>>());
    let mut t = Vec::new();
    for (i, (name, r)) in names.iter().zip(&rows).enumerate() {
        let is_floor = i == 3;
        let walls: Vec<f64> = r.iter().map(|x| x.0).collect();
        let med = measure::median(&walls);
        let (lo, hi) = measure::min_max(&walls);
        let last = r.last().copied().unwrap_or_default();
        t.push(vec![
            name.to_string(),
            int(n as f64 / med),
            format!("{} ({}–{})", num(med), num(lo), num(hi)),
            if is_floor { "-".into() } else { int(last.1 as f64) },
            if is_floor { "-".into() } else { int(last.2 as f64) },
            if is_floor { "-".into() } else { int(last.3 as f64) },
            ratio(med / floor),
            num(r.iter().map(|x| x.4).max().unwrap_or(0) as f64 / 1024.0),
        ]);
    }
    let mut body = format!(
        "{} detections per run (`otwatch gen-alerts`, JSON Lines) through `otwatch ingest FILE --json` into a fresh store: \
         parsing, idempotency keys, exclusion rules, de-duplication, alert rows, the search index; {} rounds. \
         The floor stores the same lines unparsed as rows of a bare one-column table.\n\n",
        int(n as f64),
        o.rounds
    );
    body.push_str(&table(
        &[
            "ingest",
            "detections/s",
            "wall s (min–max)",
            "alerts opened",
            "de-dup hits (updated)",
            "duplicates",
            "× floor time",
            "peak RSS MiB",
        ],
        &t,
    ));
    report.add(Part::Detail, "Console: ingest", body.clone());
    report.add(Part::Summary, "Console ingest", body);
    Ok(())
}

/// One ingest run: wall seconds, alerts opened, de-duplication hits, duplicates, peak RSS KiB.
type IngestSample = (f64, u64, u64, u64, u64);

fn ingest_once(env: &Env, dir: &Path, file: &Path) -> Result<IngestSample> {
    std::fs::create_dir_all(dir)?;
    let s = measure::run(&ingest_job(env, dir, file), &env.scratch)?;
    let v: serde_json::Value = serde_json::from_str(s.stdout.trim())
        .with_context(|| format!("ingest output {:?}", s.stdout))?;
    let g = |k: &str| v[k].as_u64().unwrap_or(0);
    if g("accepted") == 0 {
        bail!("ingest accepted nothing: {}", s.stdout);
    }
    Ok((s.wall, g("opened"), g("updated"), g("duplicates"), s.rss_kib))
}

/// A running `otwatch serve` (stopped on drop).
struct Server {
    child: Child,
    addr: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve_args(dir: &Path) -> Vec<String> {
    [
        "--data-dir",
        &dir.display().to_string(),
        "--set",
        "retention.alerts_max_age=off",
        "--set",
        "server.request_timeout=2h",
        // The generated alerts are dated 2024: without this the console's
        // auto-close sweep would close every open one at start-up.
        "--set",
        "lifecycle.auto_close_after=36500d",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

fn start_server(env: &Env, dir: &Path) -> Result<Server> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let addr = format!("127.0.0.1:{port}");
    let log = std::fs::File::create(env.scratch.join("serve.log"))?;
    let child = Command::new(&env.otwatch)
        .args(serve_args(dir))
        .args(["serve", "--listen", &addr])
        .env("OTWATCH_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .env("OTWATCH_LOG_LEVEL", "warn")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .context("starting otwatch serve")?;
    let mut server = Server { child, addr };
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        if let Ok(Some(st)) = server.child.try_wait() {
            let log = std::fs::read_to_string(env.scratch.join("serve.log")).unwrap_or_default();
            bail!("otwatch serve exited ({st}):\n{log}");
        }
        let mut c = Client::new(&server.addr, "");
        if c.get("/healthz").map(|r| r.status == 200).unwrap_or(false) {
            return Ok(server);
        }
        if Instant::now() > deadline {
            bail!("otwatch serve did not answer /healthz");
        }
        std::thread::sleep(Duration::from_millis(100));
        let _ = &mut server;
    }
}

fn token(env: &Env, dir: &Path) -> Result<String> {
    let out = Command::new(&env.otwatch)
        .args(serve_args(dir))
        .args(["tokens", "create", "bench", "--role", "admin"])
        .env("OTWATCH_LOG_LEVEL", "warn")
        .output()
        .context("otwatch tokens create")?;
    if !out.status.success() {
        bail!("otwatch tokens create failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .rev()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .map(String::from)
        .context("no token printed")
}

/// The alert database with `count` alerts, made if missing: generated
/// detections through `otwatch ingest`, then a status mix through the bulk
/// API (60% Closed, 20% Active, 20% New), as a plant's history looks.
fn alert_db(env: &Env, count: u64, seed: u64) -> Result<PathBuf> {
    let dir = env.inputs.join(format!("alerts-db-v2-{count}-seed{seed}"));
    if dir.join("READY").is_file() {
        return Ok(dir);
    }
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    eprintln!(
        "bench: making a store with {} alerts (once; cached in {})…",
        int(count as f64),
        dir.display()
    );
    let started = Instant::now();
    let mut gen_cmd = Command::new(&env.otwatch)
        .args([
            "gen-alerts",
            "--count",
            &count.to_string(),
            "--distinct",
            &ALL_DISTINCT.to_string(),
        ])
        .args(["--seed", &seed.to_string()])
        .stdout(Stdio::piped())
        .spawn()
        .context("otwatch gen-alerts")?;
    let pipe = gen_cmd.stdout.take().context("gen-alerts stdout")?;
    let st = Command::new(&env.otwatch)
        .args(["--data-dir", &dir.display().to_string(), "ingest", "-"])
        .env("OTWATCH_LOG_LEVEL", "warn")
        .stdin(pipe)
        .stdout(Stdio::null())
        .status()
        .context("otwatch ingest")?;
    if !gen_cmd.wait()?.success() || !st.success() {
        bail!("making the alert store failed");
    }
    eprintln!("bench: ingested in {:.0} s; setting statuses…", started.elapsed().as_secs_f64());
    let tok = token(env, &dir)?;
    let server = start_server(env, &dir)?;
    let mut c = Client::new(&server.addr, &tok);
    for (status, keep) in [("Closed", 0..6u64), ("Active", 6..8u64)] {
        let mut ids = Vec::with_capacity(BULK_IDS);
        for id in 1..=count {
            if keep.contains(&(id % 10)) {
                ids.push(id.to_string());
            }
            if ids.len() == BULK_IDS || (id == count && !ids.is_empty()) {
                let body = format!("{{\"ids\":[{}],\"status\":\"{status}\"}}", ids.join(","));
                let r = c.post_json("/api/v1/alerts/bulk", &body)?;
                if r.status != 200 {
                    bail!(
                        "bulk status change: HTTP {}: {}",
                        r.status,
                        String::from_utf8_lossy(&r.body)
                    );
                }
                ids.clear();
            }
        }
    }
    drop(server);
    std::fs::write(dir.join("READY"), format!("{count} alerts\n"))?;
    eprintln!("bench: store ready in {:.0} s", started.elapsed().as_secs_f64());
    Ok(dir)
}

/// A `sqlite3` process kept open on a database, timing one statement at a time.
struct Floor {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

const MARK: &str = "XTASK_BENCH_MARK";

impl Floor {
    fn open(db: &Path) -> Result<Floor> {
        let mut child = Command::new("sqlite3")
            .args(["-batch", "-readonly"])
            .arg(db)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .context("starting sqlite3")?;
        let stdin = child.stdin.take().context("stdin")?;
        let stdout = BufReader::new(child.stdout.take().context("stdout")?);
        let mut f = Floor { child, stdin, stdout };
        f.send(
            "PRAGMA cache_size = -32768;\nPRAGMA temp_store = MEMORY;\nPRAGMA mmap_size = 1073741824;\n",
        )?;
        Ok(f)
    }

    fn send(&mut self, sql: &str) -> Result<()> {
        writeln!(self.stdin, ".output /dev/null\n{sql}\n.output\nSELECT '{MARK}';")?;
        self.stdin.flush()?;
        let mut line = String::new();
        loop {
            line.clear();
            if self.stdout.read_line(&mut line)? == 0 {
                bail!("sqlite3 stopped");
            }
            if line.trim() == MARK {
                return Ok(());
            }
        }
    }

    /// Runs `sql` (formatted as CSV, thrown away) and returns the milliseconds it took.
    fn time(&mut self, sql: &str) -> Result<f64> {
        let t = Instant::now();
        self.send(sql)?;
        Ok(t.elapsed().as_secs_f64() * 1000.0)
    }

    /// One value of a one-row query.
    fn value(&mut self, sql: &str) -> Result<String> {
        writeln!(self.stdin, "{sql}\nSELECT '{MARK}';")?;
        self.stdin.flush()?;
        let mut first = None;
        let mut line = String::new();
        loop {
            line.clear();
            if self.stdout.read_line(&mut line)? == 0 {
                bail!("sqlite3 stopped");
            }
            if line.trim() == MARK {
                return first.context("no value");
            }
            first.get_or_insert_with(|| line.trim().to_string());
        }
    }
}

impl Drop for Floor {
    fn drop(&mut self) {
        let _ = writeln!(self.stdin, ".quit");
        let _ = self.child.wait();
    }
}

/// One question asked of the console and of the floor.
struct Query {
    name: String,
    method: &'static str,
    path: String,
    body: Option<String>,
    floor: String,
    /// Timed runs (the CSV export runs fewer times).
    iters: usize,
}

fn queries(count: u64, iters: usize, page2: (String, String)) -> Vec<Query> {
    let mid = count / 2;
    let order = "ORDER BY last_detection DESC, id DESC LIMIT 100";
    let get = |name: &str, path: String, floor: String| Query {
        name: name.into(),
        method: "GET",
        path,
        body: None,
        floor,
        iters,
    };
    let hunt = |name: &str, kql: &str, floor: &str| Query {
        name: name.into(),
        method: "POST",
        path: "/api/v1/hunt".into(),
        body: Some(serde_json::json!({"query": kql, "limit": 1000}).to_string()),
        floor: floor.into(),
        iters,
    };
    let (ld, id) = page2;
    vec![
        get(
            "grid: default page (100 newest)",
            "/api/v1/alerts?limit=100".into(),
            format!("SELECT * FROM alerts {order};"),
        ),
        get(
            "grid: next page (keyset cursor)",
            String::new(), // filled in from the first page's cursor
            format!("SELECT * FROM alerts WHERE (last_detection, id) < ({ld}, {id}) {order};"),
        ),
        get(
            "grid: severity=Critical & site=Plant B",
            format!("/api/v1/alerts?limit=100&severity=Critical&site={}", encode("Plant B")),
            format!("SELECT * FROM alerts WHERE severity = 4 AND site = 'Plant B' {order};"),
        ),
        get(
            "grid: status=New, sorted by severity",
            "/api/v1/alerts?limit=100&status=New&sort=-severity".into(),
            "SELECT * FROM alerts WHERE status = 0 ORDER BY severity DESC, last_detection DESC, id DESC LIMIT 100;".into(),
        ),
        get(
            "grid: status=Closed, sorted by severity",
            "/api/v1/alerts?limit=100&status=Closed&sort=-severity".into(),
            "SELECT * FROM alerts WHERE status = 2 ORDER BY severity DESC, last_detection DESC, id DESC LIMIT 100;".into(),
        ),
        get(
            "grid: one alert type",
            "/api/v1/alerts?limit=100&type=operational_s7_plc_stop".into(),
            format!("SELECT * FROM alerts WHERE alert_type = 'operational_s7_plc_stop' {order};"),
        ),
        get(
            "grid: one day",
            "/api/v1/alerts?limit=100&from=2024-03-05T00:00:00Z&to=2024-03-06T00:00:00Z".into(),
            format!("SELECT * FROM alerts WHERE last_detection >= 1709596800000000 AND last_detection < 1709683200000000 {order};"),
        ),
        get(
            "grid: free text 10.1.17.",
            "/api/v1/alerts?limit=100&q=10.1.17.".into(),
            format!("SELECT * FROM alerts WHERE id IN (SELECT rowid FROM alerts_search WHERE doc LIKE '%10.1.17.%') {order};"),
        ),
        get(
            "group-by engine",
            "/api/v1/alerts/groups?by=engine".into(),
            "SELECT engine, count(*) FROM alerts GROUP BY engine ORDER BY 2 DESC;".into(),
        ),
        get(
            "group-by severity, status=New",
            "/api/v1/alerts/groups?by=severity&status=New".into(),
            "SELECT severity, count(*) FROM alerts WHERE status = 0 GROUP BY severity ORDER BY 2 DESC;".into(),
        ),
        get(
            "facets (6 columns)",
            "/api/v1/alerts/facets".into(),
            ["severity", "status", "engine", "site", "name", "sensor"]
                .iter()
                .map(|c| format!("SELECT {c}, count(*) FROM alerts GROUP BY {c};"))
                .collect::<Vec<_>>()
                .join("\n"),
        ),
        get(
            "alert details",
            format!("/api/v1/alerts/{mid}"),
            format!(
                "SELECT * FROM alerts WHERE id = {mid};\nSELECT * FROM comments WHERE alert_id = {mid} ORDER BY id;\n\
                 SELECT * FROM audit_log WHERE object_type = 'alert' AND object_id = '{mid}' ORDER BY id;"
            ),
        ),
        hunt(
            "hunt: Critical alerts per engine",
            "Alerts | where Severity == \"Critical\" | summarize count() by Engine",
            "SELECT engine, count(*) FROM alerts WHERE severity = 4 GROUP BY engine;",
        ),
        hunt(
            "hunt: one source address, 100 rows",
            "Alerts | where SrcIp == \"10.1.17.3\" | project AlertId, Title, LastDetection | take 100",
            "SELECT id, name, last_detection FROM alerts WHERE src_ip = '10.1.17.3' LIMIT 100;",
        ),
        hunt(
            "hunt: alerts per day",
            "Alerts | summarize count() by bin(LastDetection, 1d)",
            "SELECT last_detection / 86400000000, count(*) FROM alerts GROUP BY 1;",
        ),
        hunt(
            "hunt: top 10 New by occurrences",
            "Alerts | where Status == \"New\" | top 10 by OccurrenceCount desc",
            "SELECT * FROM alerts WHERE status = 0 ORDER BY occurrence_count DESC LIMIT 10;",
        ),
        get(
            "HTTP round trip only (GET /healthz)",
            "/healthz".into(),
            "SELECT 1;".into(),
        ),
        Query {
            name: "full CSV export".into(),
            method: "GET",
            path: "/api/v1/alerts/export.csv".into(),
            body: None,
            floor: ".mode csv\nSELECT * FROM alerts ORDER BY last_detection DESC, id DESC;\n.mode list"
                .to_string(),
            iters: if iters >= 10 { 3 } else { 1 },
        },
    ]
}

/// The query benchmark over a store with `count` alerts.
fn query_suite(
    env: &Env,
    o: &ConsoleOptions,
    count: u64,
    report: &mut Report,
) -> Result<(String, Vec<Vec<String>>)> {
    let dir = alert_db(env, count, o.seed)?;
    let db = dir.join("otwatch.db");
    let tok = token(env, &dir)?;
    let server = start_server(env, &dir)?;
    let mut c = Client::new(&server.addr, &tok);
    let mut floor = Floor::open(&db)?;
    // The status mix as stored (New 0, Active 1, Closed 2), printed with the table.
    let mix = floor.value(
        "SELECT group_concat(n || ' ' || s, ' / ') FROM (SELECT count(*) AS n, \
         CASE status WHEN 0 THEN 'New' WHEN 1 THEN 'Active' ELSE 'Closed' END AS s \
         FROM alerts GROUP BY status ORDER BY status);",
    )?;
    let ld = floor.value("SELECT last_detection FROM alerts ORDER BY last_detection DESC, id DESC LIMIT 1 OFFSET 99;")?;
    let id = floor
        .value("SELECT id FROM alerts ORDER BY last_detection DESC, id DESC LIMIT 1 OFFSET 99;")?;
    let mut qs = queries(count, o.iters, (ld, id));
    // The next page's cursor, from the first page.
    let first = c.get("/api/v1/alerts?limit=100")?;
    let v: serde_json::Value = serde_json::from_slice(&first.body).context("first page JSON")?;
    let next = v["next"].as_str().context("no next cursor on the first page")?;
    qs[1].path = format!("/api/v1/alerts?limit=100&after={}", encode(next));
    let mut rows = Vec::new();
    for q in &qs {
        eprintln!(
            "bench: {} alerts: {} (load {:.1})",
            int(count as f64),
            q.name,
            measure::loadavg().0
        );
        // Warm-up, and a check that the request works.
        let r = c.request(q.method, &q.path, q.body.as_deref(), false)?;
        if r.status != 200 {
            let body = c.request(q.method, &q.path, q.body.as_deref(), true)?.body;
            bail!("{} {}: HTTP {}: {}", q.method, q.path, r.status, String::from_utf8_lossy(&body));
        }
        floor.time(&q.floor)?;
        let mut ours = Vec::new();
        let mut base = Vec::new();
        let rounds = o.rounds.clamp(1, q.iters.max(1));
        for round in 0..rounds {
            let k = q.iters / rounds + usize::from(round < q.iters % rounds);
            for _ in 0..k {
                let t = Instant::now();
                let r = c.request(q.method, &q.path, q.body.as_deref(), false)?;
                ours.push(t.elapsed().as_secs_f64() * 1000.0);
                if r.status != 200 {
                    bail!("{}: HTTP {}", q.path, r.status);
                }
            }
            for _ in 0..k {
                base.push(floor.time(&q.floor)?);
            }
        }
        let (p50, p99) = (measure::median(&ours), measure::quantile(&ours, 0.99));
        let (f50, f99) = (measure::median(&base), measure::quantile(&base, 0.99));
        rows.push(vec![
            q.name.clone(),
            num(p50),
            num(p99),
            num(f50),
            num(f99),
            ratio(p50 / f50),
            ratio(p99 / f99),
            q.iters.to_string(),
        ]);
    }
    let rss = server_rss(&server);
    drop(server);
    let size = std::fs::metadata(&db).map(|m| m.len()).unwrap_or(0);
    let mut body = format!(
        "{} alerts ({:.2} GB database; {mix}); `otwatch serve` over HTTP (one keep-alive \
         connection) against hand-written SQL in `sqlite3` on the same file; milliseconds; serve peak RSS {rss}.\n\n",
        int(count as f64),
        size as f64 / 1e9
    );
    let header = [
        "question",
        "ours p50 ms",
        "ours p99 ms",
        "SQL p50 ms",
        "SQL p99 ms",
        "p50 ratio",
        "p99 ratio",
        "runs",
    ];
    body.push_str(&table(&header, &rows));
    body.push_str("\nThe SQL floor of each question:\n\n");
    for q in &qs {
        body.push_str(&format!(
            "- {}: `{} {}` — `{}`\n",
            q.name,
            q.method,
            if q.name.contains("next page") {
                "/api/v1/alerts?limit=100&after=CURSOR"
            } else {
                &q.path
            },
            q.floor.replace('\n', " ")
        ));
    }
    report.add(Part::Detail, &format!("Console: {} alerts stored", int(count as f64)), body);
    Ok((int(count as f64), rows))
}

/// Peak RSS of the server process (VmHWM), read before it stops.
fn server_rss(s: &Server) -> String {
    std::fs::read_to_string(format!("/proc/{}/status", s.child.id()))
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|k| k.parse::<f64>().ok())
        })
        .map(|kb| format!("{} MiB", num(kb / 1024.0)))
        .unwrap_or_else(|| "unknown".into())
}

/// Runs the console benchmark and adds its sections to the report.
pub fn suite(env: &Env, o: &ConsoleOptions, report: &mut Report) -> Result<()> {
    ingest(env, o, report)?;
    let mut summary = Vec::new();
    for &count in &o.alert_counts {
        let (label, rows) = query_suite(env, o, count, report)?;
        for r in rows {
            let mut row = vec![label.clone()];
            row.extend(r.into_iter().take(7));
            summary.push(row);
        }
    }
    let mut body = String::from(
        "Latency of the console's REST API (p50/p99, milliseconds) next to the same question answered by hand-written SQL \
         through `sqlite3` on the same file; ratio = ours ÷ SQL.\n\n",
    );
    body.push_str(&table(
        &[
            "alerts",
            "question",
            "ours p50",
            "ours p99",
            "SQL p50",
            "SQL p99",
            "p50 ratio",
            "p99 ratio",
        ],
        &summary,
    ));
    report.add(Part::Summary, "Console queries against the SQL floor", body);
    Ok(())
}
