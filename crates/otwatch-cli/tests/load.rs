//! Load: hundreds of concurrent clients against list, filter, group-by,
//! details and update endpoints of a real `otwatch serve`, while a sensor
//! (`otwatch sensor --pcap` on a plant capture from `otwatch simulate`)
//! and an alert ingester write at full speed into the same data directory.
//! Bounded in time; asserts no 5xx and no errors, and that the sensor's
//! runs all succeed; prints throughput, latency percentiles and the peak
//! memory of the server and the sensor (no timing assertions).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const CLIENTS: usize = 200;
const SECONDS: u64 = 8;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A keep-alive HTTP/1.1 client connection.
struct Conn {
    r: BufReader<TcpStream>,
    w: TcpStream,
}

impl Conn {
    fn open(port: u16) -> std::io::Result<Conn> {
        let s = TcpStream::connect(("127.0.0.1", port))?;
        s.set_read_timeout(Some(Duration::from_secs(60)))?;
        s.set_nodelay(true)?;
        Ok(Conn { r: BufReader::new(s.try_clone()?), w: s })
    }

    /// One request; returns the status (the body is read and dropped).
    fn call(
        &mut self,
        method: &str,
        path: &str,
        token: &str,
        body: Option<&str>,
    ) -> std::io::Result<u16> {
        let mut req =
            format!("{method} {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n");
        if let Some(b) = body {
            req.push_str(&format!(
                "Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{b}",
                b.len()
            ));
        } else {
            req.push_str("\r\n");
        }
        self.w.write_all(req.as_bytes())?;
        let mut line = String::new();
        self.r.read_line(&mut line)?;
        let status: u16 = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| std::io::Error::other(format!("bad status line {line:?}")))?;
        let mut len = None;
        let mut chunked = false;
        loop {
            line.clear();
            self.r.read_line(&mut line)?;
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            let lower = l.to_ascii_lowercase();
            if let Some(v) = lower.strip_prefix("content-length:") {
                len = v.trim().parse::<usize>().ok();
            }
            if lower.starts_with("transfer-encoding:") && lower.contains("chunked") {
                chunked = true;
            }
        }
        if chunked {
            loop {
                line.clear();
                self.r.read_line(&mut line)?;
                let n = usize::from_str_radix(line.trim(), 16)
                    .map_err(|_| std::io::Error::other("bad chunk"))?;
                let mut buf = vec![0u8; n + 2];
                self.r.read_exact(&mut buf)?;
                if n == 0 {
                    break;
                }
            }
        } else if let Some(n) = len {
            let mut buf = vec![0u8; n];
            self.r.read_exact(&mut buf)?;
        }
        Ok(status)
    }
}

fn otwatch(dir: &std::path::Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_otwatch"));
    c.arg("--data-dir").arg(dir);
    c
}

#[test]
fn hundreds_of_clients_while_ingesting() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let generate = |count: &str, seed: &str| {
        let o = Command::new(env!("CARGO_BIN_EXE_otwatch"))
            .args(["gen-alerts", "--count", count, "--distinct", count, "--seed", seed])
            .output()
            .unwrap();
        o.stdout
    };
    let prefill = dir.path().join("prefill.jsonl");
    std::fs::write(&prefill, generate("20000", "1")).unwrap();
    assert!(otwatch(&data).arg("ingest").arg(&prefill).output().unwrap().status.success());
    let token_out =
        otwatch(&data).args(["tokens", "create", "load", "--role", "analyst"]).output().unwrap();
    let token =
        String::from_utf8_lossy(&token_out.stdout).lines().last().unwrap().trim().to_string();
    let stream = dir.path().join("stream.jsonl");
    std::fs::write(&stream, generate("300000", "2")).unwrap();

    let capture = dir.path().join("plant.pcap");
    let o = otwatch(&data)
        .args(["simulate", "--duration", "10m", "--seed", "21", "--scenario", "port-scan@2m"])
        .arg("--out")
        .arg(&capture)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));

    let port = free_port();
    let mut server = otwatch(&data)
        .args(["--log-format", "json", "serve", "--listen", &format!("127.0.0.1:{port}")])
        .env("OTWATCH_ADMIN_PASSWORD", "load test admin pw")
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(dir.path().join("serve.log")).unwrap())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(server.stdout.take().unwrap()).lines();
    while !lines.next().unwrap().unwrap().starts_with("otwatch console on") {}
    let pid = server.id();

    // The sensor side: another process ingesting as fast as it can.
    let mut ingester = otwatch(&data)
        .args(["--set", "ingest.batch_size=5000", "ingest"])
        .arg(&stream)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();

    let stop = Arc::new(AtomicBool::new(false));
    // The sensor: the capture again and again at full speed until the clients stop.
    let sensor = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let (mut runs, mut packets, mut peak_kib) = (0u64, 0u64, 0u64);
            while !stop.load(Ordering::Relaxed) {
                let child = otwatch(&data)
                    .args(["sensor", "--json", "--pcap"])
                    .arg(&capture)
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap();
                let pid = child.id();
                let watch = {
                    let stop = stop.clone();
                    std::thread::spawn(move || {
                        let mut peak = 0;
                        while let Ok(s) = std::fs::read_to_string(format!("/proc/{pid}/status")) {
                            peak = peak.max(vm_hwm(&s));
                            if stop.load(Ordering::Relaxed) && peak > 0 {
                                break;
                            }
                            std::thread::sleep(Duration::from_millis(50));
                        }
                        peak
                    })
                };
                let o = child.wait_with_output().unwrap();
                peak_kib = peak_kib.max(watch.join().unwrap());
                assert!(
                    o.status.success(),
                    "sensor run {runs}: {}",
                    String::from_utf8_lossy(&o.stderr)
                );
                let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
                packets += report["packets"].as_u64().unwrap();
                runs += 1;
            }
            (runs, packets, peak_kib)
        })
    };
    let errors = Arc::new(Mutex::new(Vec::<String>::new()));
    let server_errors = Arc::new(AtomicU64::new(0));
    let lat = Arc::new(Mutex::new(Vec::<f64>::new()));
    let requests = Arc::new(AtomicU64::new(0));
    // The server's resident memory, sampled: anonymous (heap, stacks) and
    // mapped file pages (the readers map the database, `mmap_size`) apart.
    let memory = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let (mut anon, mut file) = (0u64, 0u64);
            while !stop.load(Ordering::Relaxed) {
                let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
                anon = anon.max(field_kib(&s, "RssAnon:"));
                file = file.max(field_kib(&s, "RssFile:"));
                std::thread::sleep(Duration::from_millis(50));
            }
            (anon, file)
        })
    };
    let started = Instant::now();
    let mut workers = Vec::new();
    for c in 0..CLIENTS {
        let (stop, errors, server_errors, lat, requests, token) = (
            stop.clone(),
            errors.clone(),
            server_errors.clone(),
            lat.clone(),
            requests.clone(),
            token.clone(),
        );
        workers.push(std::thread::spawn(move || {
            let mut conn = match Conn::open(port) {
                Ok(c) => c,
                Err(e) => {
                    errors.lock().unwrap().push(format!("connect: {e}"));
                    return;
                }
            };
            let mut local = Vec::new();
            let mut i = c;
            while !stop.load(Ordering::Relaxed) {
                let id = 1 + (i * 7919) % 20_000;
                let (m, p, b): (&str, String, Option<String>) = match i % 6 {
                    0 => ("GET", "/api/v1/alerts?limit=50".into(), None),
                    1 => ("GET", "/api/v1/alerts?limit=50&severity=Critical,Major&site=Plant%20A&sort=-last_detection".into(), None),
                    2 => ("GET", "/api/v1/alerts/groups?by=engine&status=New".into(), None),
                    3 => ("GET", format!("/api/v1/alerts/{id}"), None),
                    4 => ("PATCH", format!("/api/v1/alerts/{id}"), Some(format!(r#"{{"status":"{}"}}"#, if i % 12 < 6 { "Active" } else { "New" }))),
                    _ => ("GET", "/api/v1/alerts?limit=50&q=10.1.".into(), None),
                };
                let t = Instant::now();
                match conn.call(m, &p, &token, b.as_deref()) {
                    Ok(st) if st >= 500 => {
                        server_errors.fetch_add(1, Ordering::Relaxed);
                        errors.lock().unwrap().push(format!("{m} {p}: {st}"));
                    }
                    Ok(st) if st >= 400 && st != 404 && st != 409 => errors.lock().unwrap().push(format!("{m} {p}: {st}")),
                    Ok(_) => {}
                    Err(e) => {
                        errors.lock().unwrap().push(format!("{m} {p}: {e}"));
                        break;
                    }
                }
                local.push(t.elapsed().as_secs_f64() * 1000.0);
                requests.fetch_add(1, Ordering::Relaxed);
                i += CLIENTS;
            }
            lat.lock().unwrap().extend(local);
        }));
    }
    std::thread::sleep(Duration::from_secs(SECONDS));
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.join().unwrap();
    }
    let elapsed = started.elapsed().as_secs_f64();
    let peak_kib =
        std::fs::read_to_string(format!("/proc/{pid}/status")).map(|s| vm_hwm(&s)).unwrap_or(0);
    let (anon_kib, file_kib) = memory.join().unwrap();
    let (sensor_runs, sensor_packets, sensor_kib) = sensor.join().unwrap();
    let sensor_seconds = started.elapsed().as_secs_f64();
    let _ = ingester.kill();
    let _ = ingester.wait();
    let _ = Command::new("kill").args(["-TERM", &pid.to_string()]).status();
    let _ = server.wait();

    let errs = errors.lock().unwrap();
    let log = std::fs::read_to_string(dir.path().join("serve.log")).unwrap_or_default();
    let log_errors: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("ERROR") || l.contains("\"level\":\"error"))
        .take(5)
        .collect();
    assert_eq!(
        server_errors.load(Ordering::Relaxed),
        0,
        "no 5xx: {:?}; the server logged {log_errors:?}",
        &errs[..errs.len().min(5)]
    );
    assert!(errs.is_empty(), "{} errors, e.g. {:?}", errs.len(), &errs[..errs.len().min(5)]);
    // Time spent inside the server per route (from its request log), which
    // separates slow handlers from time queued behind other clients.
    let mut routes: std::collections::BTreeMap<String, Vec<u64>> = Default::default();
    for line in log.lines() {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else { continue };
        let f = &v["fields"];
        if f["message"] == "Request." {
            let key = format!(
                "{} {}",
                f["method"].as_str().unwrap_or("?"),
                f["route"].as_str().unwrap_or("?")
            );
            routes.entry(key).or_default().push(f["micros"].as_u64().unwrap_or(0));
        }
    }
    for (route, mut t) in routes {
        t.sort_unstable();
        let q = |x: f64| t[((t.len() as f64 - 1.0) * x) as usize] as f64 / 1000.0;
        println!(
            "  in the server: {route:<34} {:>6} requests, p50 {:>8.1} ms, p99 {:>8.1} ms, max {:>8.1} ms",
            t.len(),
            q(0.5),
            q(0.99),
            q(1.0)
        );
    }
    let mut l = lat.lock().unwrap().clone();
    l.sort_by(|a, b| a.total_cmp(b));
    let p = |q: f64| l[((l.len() as f64 - 1.0) * q) as usize];
    let n = requests.load(Ordering::Relaxed);
    assert!(n > CLIENTS as u64, "every client made requests");
    assert!(sensor_runs >= 1, "the sensor completed at least one run while the clients ran");
    println!(
        "load: {CLIENTS} clients, {elapsed:.1} s, {n} requests ({:.0}/s), p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms, server peak RSS {:.1} MiB (sampled peaks: {:.1} MiB anonymous, {:.1} MiB mapped database file); meanwhile the sensor ran the capture {sensor_runs} time(s), {sensor_packets} packets ({:.0} packets/s), peak RSS {:.1} MiB, and an ingester streamed alerts (load average {}, {} CPU(s))",
        n as f64 / elapsed,
        p(0.5),
        p(0.99),
        l[l.len() - 1],
        peak_kib as f64 / 1024.0,
        anon_kib as f64 / 1024.0,
        file_kib as f64 / 1024.0,
        sensor_packets as f64 / sensor_seconds,
        sensor_kib as f64 / 1024.0,
        std::fs::read_to_string("/proc/loadavg")
            .map(|l| l.split_whitespace().next().unwrap_or("?").to_string())
            .unwrap_or_default(),
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
}

/// Peak resident memory (`VmHWM`, KiB) from a `/proc/PID/status` text.
fn vm_hwm(status: &str) -> u64 {
    field_kib(status, "VmHWM:")
}

/// One KiB field of a `/proc/PID/status` text.
fn field_kib(status: &str, name: &str) -> u64 {
    status
        .lines()
        .find(|l| l.starts_with(name))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        .unwrap_or(0)
}
