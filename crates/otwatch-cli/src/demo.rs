//! `otwatch demo`: a simulated plant under attack, watched live in the console.
//!
//! One process does what a real installation does with a sensor and a
//! console: it opens the embedded store (in a temporary directory, or the
//! one given with `--data-dir`), starts the console, creates an admin and
//! prints the address and the login. A sensor thread then
//!
//! 1. *learns* the plant: the simulator writes some minutes of clean plant
//!    traffic whose time stamps end now, and the sensor reads it at full
//!    speed in learning mode (the baseline: devices, pairs, protocols,
//!    function codes, polling periods);
//! 2. *operates*: the simulator writes the next minutes of the same plant
//!    (same seed, so the same devices and habits) with attacks mixed in, and
//!    the sensor replays them in operational mode at recorded speed, the
//!    time stamps following the wall clock, segment after segment, until
//!    Ctrl-C (or `--stop-after`).
//!
//! The first live segment runs the scenarios that show every engine within
//! about a minute and a half (port scan, unauthorized Modbus write,
//! malformed frames, a known-bad address from the indicator feed, an S7 PLC
//! stop, a new device, a device that goes silent); later segments run the
//! other scenarios one by one, then repeat them (repeats update the open
//! alerts' occurrence counts, or open new alerts after they were closed).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};

use otwatch_model::time::parse_duration;
use otwatch_sensor::MergedCaptures;
use otwatch_sensor::run::{BatchPolicy, SensorRun};
use otwatch_sim::{Format, Options, Scenario, ScenarioRun};

use crate::admin;
use crate::context::{Ctx, GlobalOpts, now};
use crate::sensor::{self, DetectChoice};

/// `otwatch demo` arguments.
#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Address of the console (default: server.listen, 127.0.0.1:8080).
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<String>,
    /// Seed of the simulated plant (the same seed gives the same plant and attacks).
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Field devices (PLCs, RTUs, controllers) in the plant.
    #[arg(long, default_value_t = 24)]
    pub devices: u32,
    /// Plant time learned before the sensor operates, e.g. 10m.
    #[arg(long, default_value = "10m", value_name = "DURATION")]
    pub learn: String,
    /// Replay speed: 1 is recorded speed; 10 replays ten times faster
    /// (time stamps then run ahead of the clock).
    #[arg(long, default_value_t = 1.0, value_name = "FACTOR")]
    pub speed: f64,
    /// Stop by itself after this much wall time, e.g. 2m (default: run until Ctrl-C).
    #[arg(long, value_name = "DURATION")]
    pub stop_after: Option<String>,
}

/// Plant time per live segment (µs).
const SEGMENT_US: u64 = 5 * 60 * 1_000_000;
/// How often pending writes are flushed while the replay waits for the clock.
const FLUSH_EVERY: Duration = Duration::from_secs(2);

/// The scenarios of the first live segment (offsets in seconds): one or
/// more alerts from each of the five engines within about 90 s.
const FIRST: &[(&str, u64)] = &[
    ("port-scan", 10),
    ("modbus-write", 20),
    ("malformed", 30),
    ("known-bad-ip", 40),
    ("s7-plc-stop", 50),
    ("new-device", 60),
    ("device-silent", 70),
];
/// The scenarios run one per later segment, in this order, then again.
const LATER: &[&str] = &[
    "plc-scan",
    "cip-firmware-change",
    "dnp3-cold-restart-storm",
    "iec104-unknown-master",
    "address-scan",
    "s7-program-download",
    "port-scan",
    "modbus-write",
    "known-bad-ip",
];

/// What `prepare` set up before the configuration was loaded.
#[derive(Debug)]
pub struct Prepared {
    /// The data directory.
    pub data_dir: PathBuf,
    /// The temporary directory (removed at exit), when no --data-dir was given.
    pub temp: Option<tempfile::TempDir>,
    /// The indicator feed file the demo writes.
    pub feed: PathBuf,
}

/// Picks the data directory and adds the demo's settings to the global
/// options (before the configuration is loaded): the sensor's name and site,
/// the indicator feed file, the console address.
pub fn prepare(global: &mut GlobalOpts, a: &DemoArgs) -> Result<Prepared> {
    let (data_dir, temp) = match &global.data_dir {
        Some(d) => (d.clone(), None),
        None => {
            let t = tempfile::Builder::new()
                .prefix("otwatch-demo-")
                .tempdir()
                .context("creating a temporary data directory")?;
            (t.path().to_path_buf(), Some(t))
        }
    };
    std::fs::create_dir_all(data_dir.join("demo"))
        .with_context(|| format!("creating {}", data_dir.join("demo").display()))?;
    let feed = data_dir.join("demo").join("indicators.txt");
    if !feed.exists() {
        std::fs::write(&feed, "# indicator feed written by otwatch demo\n")
            .with_context(|| format!("writing {}", feed.display()))?;
    }
    global.data_dir = Some(data_dir.clone());
    global.set.push(format!("detect.indicator_feeds={}", feed.display()));
    global.set.push("sensor.id=demo-sensor".into());
    global.set.push("sensor.name=Demo sensor".into());
    global.set.push("sensor.site=Demo plant".into());
    if let Some(l) = &a.listen {
        global.set.push(format!("server.listen={l}"));
    }
    Ok(Prepared { data_dir, temp, feed })
}

/// Runs the demo until Ctrl-C, SIGTERM or `--stop-after`.
pub fn run(config: otwatch_config::Config, a: &DemoArgs, p: Prepared) -> Result<()> {
    if !(a.speed > 0.0 && a.speed <= 1000.0) {
        bail!("--speed {}: give a factor between 0 and 1000", a.speed);
    }
    let learn_us = parse_duration(&a.learn)
        .ok()
        .filter(|d| *d > 0)
        .with_context(|| format!("--learn {:?}: expected a duration such as 10m", a.learn))?
        as u64;
    let stop_after = match &a.stop_after {
        Some(s) => Some(
            parse_duration(s)
                .ok()
                .filter(|d| *d > 0)
                .with_context(|| format!("--stop-after {s:?}: expected a duration such as 2m"))?,
        ),
        None => None,
    };
    let ctx = Ctx::open(config)?;
    let (state, opts) = admin::console(&ctx);
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let rt = admin::runtime()?;
    let stop = Arc::new(AtomicBool::new(false));
    let plan = Plan {
        seed: a.seed,
        devices: a.devices,
        learn_us,
        speed: a.speed,
        dir: p.data_dir.join("demo"),
        feed: p.feed.clone(),
    };
    let result = rt.block_on(async {
        let pw = ctx.config.server.admin_password.as_ref().map(|s| s.expose().to_string());
        admin::announce_first_admin(&state, pw, &mut out).await?;
        let (done_tx, done_rx) = tokio::sync::oneshot::channel::<Result<()>>();
        let sensor_ctx = Ctx { config: ctx.config.clone(), store: ctx.store.clone() };
        let sensor_stop = Arc::clone(&stop);
        let sensor = std::thread::Builder::new()
            .name("demo-sensor".into())
            .spawn(move || {
                let r = plan.run(&sensor_ctx, &sensor_stop);
                let _ = done_tx.send(r);
            })
            .context("starting the sensor thread")?;
        let shutdown_stop = Arc::clone(&stop);
        let shutdown = async move {
            let timer = async {
                match stop_after {
                    Some(us) => tokio::time::sleep(Duration::from_micros(us as u64)).await,
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                () = admin::shutdown_signal() => {},
                () = timer => {},
                r = done_rx => {
                    if let Ok(Err(e)) = r {
                        eprintln!("error: the demo sensor stopped: {e:#}");
                    }
                },
            }
            shutdown_stop.store(true, Ordering::SeqCst);
        };
        let data = p.data_dir.display().to_string();
        let kept = if p.temp.is_some() {
            "a temporary directory, removed at exit; give --data-dir DIR to keep it"
        } else {
            "kept after exit"
        };
        let listen = opts.listen;
        let ready = |addr: std::net::SocketAddr| {
            let host = if addr.ip().is_unspecified() {
                format!("127.0.0.1:{}", addr.port())
            } else {
                addr.to_string()
            };
            let _ = writeln!(out, "otwatch demo: console on http://{host} (data: {data}, {kept})");
            let _ = writeln!(
                out,
                "the sensor learns {} of plant traffic, then replays the plant live with attacks mixed in; \
                 alerts from every engine appear within about two minutes. Ctrl-C stops.",
                otwatch_model::time::format_duration(learn_us as i64)
            );
            let _ = out.flush();
        };
        otwatch_server::serve(state, opts, shutdown, ready)
            .await
            .with_context(|| format!("serving on {listen}"))?;
        stop.store(true, Ordering::SeqCst);
        let joined = tokio::task::spawn_blocking(move || sensor.join()).await;
        if !matches!(joined, Ok(Ok(()))) {
            bail!("the demo sensor thread panicked");
        }
        writeln!(out, "stopped")?;
        Ok(())
    });
    drop(p.temp);
    result
}

/// What the sensor thread does.
struct Plan {
    seed: u64,
    devices: u32,
    learn_us: u64,
    speed: f64,
    dir: PathBuf,
    feed: PathBuf,
}

impl Plan {
    fn options(&self, start_us: u64, duration_us: u64, scenarios: Vec<ScenarioRun>) -> Options {
        Options {
            seed: self.seed,
            start_us,
            duration_us: Some(duration_us),
            devices: self.devices,
            size_limit: None,
            scenarios,
            format: Format::Pcap,
        }
    }

    /// Writes one capture; adds its indicators to the feed file.
    fn write(&self, name: &str, opts: &Options) -> Result<PathBuf> {
        let path = self.dir.join(name);
        let f =
            std::fs::File::create(&path).with_context(|| format!("writing {}", path.display()))?;
        let (manifest, w) = otwatch_sim::generate(opts, std::io::BufWriter::new(f))
            .with_context(|| format!("simulating {}", path.display()))?;
        w.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        if !manifest.indicator_feed.is_empty() {
            let mut text = std::fs::read_to_string(&self.feed).unwrap_or_default();
            let mut changed = false;
            for ip in &manifest.indicator_feed {
                if !text.lines().any(|l| l.trim() == ip) {
                    text.push_str(ip);
                    text.push('\n');
                    changed = true;
                }
            }
            if changed {
                std::fs::write(&self.feed, text)
                    .with_context(|| format!("writing {}", self.feed.display()))?;
            }
        }
        Ok(path)
    }

    fn run(&self, ctx: &Ctx, stop: &AtomicBool) -> Result<()> {
        let started = now();
        // 1. Learn: clean plant traffic ending now, read at full speed.
        let learn_start = (started.0.max(0) as u64).saturating_sub(self.learn_us);
        let learning =
            self.write("learn.pcap", &self.options(learn_start, self.learn_us, vec![]))?;
        let choice = DetectChoice { mode: Some("learning".into()), ..DetectChoice::default() };
        let mut run = sensor::build_run(
            ctx,
            sensor::options(ctx, BatchPolicy::FILES, Some(format!("demo-learn-{}", started.0))),
            &choice,
        )?;
        run.register(Some(now()))?;
        replay(&mut run, &learning, None, stop)?;
        let r = run.finish()?;
        tracing::info!(
            message = "Demo: plant learned.",
            packets = r.packets,
            devices = r.inventory.devices,
            baseline_facts = r.detect.as_ref().map_or(0, |d| d.baseline_added),
        );
        log_notices(&r.notices);
        if stop.load(Ordering::SeqCst) {
            return Ok(());
        }
        // 2. Operate: live segments following the clock.
        let choice = DetectChoice { mode: Some("operational".into()), ..DetectChoice::default() };
        let mut run =
            sensor::build_run(ctx, sensor::options(ctx, BatchPolicy::LIVE, None), &choice)?;
        let live_start = (now().0.max(0) as u64).max(learn_start + self.learn_us);
        let anchor = Anchor { wall: Instant::now(), ts_us: live_start, speed: self.speed };
        let mut segment = 0usize;
        while !stop.load(Ordering::SeqCst) {
            let start = live_start + segment as u64 * SEGMENT_US;
            let scenarios = segment_scenarios(segment)?;
            let names: Vec<&str> = scenarios.iter().map(|s| s.scenario.name()).collect();
            let path = self.write("live.pcap", &self.options(start, SEGMENT_US, scenarios))?;
            tracing::info!(message = "Demo: live segment.", segment, scenarios = %names.join(", "));
            run.register(Some(now()))?;
            replay(&mut run, &path, Some(&anchor), stop)?;
            segment += 1;
        }
        let r = run.finish()?;
        log_notices(&r.notices);
        Ok(())
    }
}

/// The scenarios of live segment `n`.
fn segment_scenarios(n: usize) -> Result<Vec<ScenarioRun>> {
    let list: Vec<(&str, u64)> =
        if n == 0 { FIRST.to_vec() } else { vec![(LATER[(n - 1) % LATER.len()], 60)] };
    list.into_iter()
        .map(|(name, offset_s)| {
            let scenario = Scenario::parse(name).map_err(anyhow::Error::msg)?;
            Ok(ScenarioRun { scenario, offset_us: offset_s * 1_000_000 })
        })
        .collect()
}

fn log_notices(notices: &[String]) {
    for n in notices {
        tracing::warn!(message = "Demo sensor notice.", notice = %n);
    }
}

/// Maps packet time to wall time for a replay at recorded speed.
#[derive(Clone, Copy, Debug)]
struct Anchor {
    wall: Instant,
    ts_us: u64,
    speed: f64,
}

impl Anchor {
    /// How long until the packet stamped `ts_us` is due (zero when it is).
    fn wait(&self, ts_us: u64) -> Duration {
        let offset = Duration::from_micros(ts_us.saturating_sub(self.ts_us));
        let due = self.wall + offset.div_f64(self.speed);
        due.saturating_duration_since(Instant::now())
    }
}

/// Feeds a capture to the run: as fast as possible (`anchor` None) or
/// following the clock. Returns early when `stop` is set.
fn replay(
    run: &mut SensorRun<'_>,
    path: &Path,
    anchor: Option<&Anchor>,
    stop: &AtomicBool,
) -> Result<()> {
    let mut input = MergedCaptures::open(&[path.to_path_buf()])?;
    let mut last_flush = Instant::now();
    while let Some(pkt) = input.next_packet() {
        if let Some(anchor) = anchor {
            loop {
                if stop.load(Ordering::SeqCst) {
                    return Ok(());
                }
                let wait = anchor.wait(pkt.ts_ns / 1_000);
                if wait.is_zero() {
                    break;
                }
                if last_flush.elapsed() >= FLUSH_EVERY {
                    run.flush_now()?;
                    log_notices(&run.take_notices());
                    last_flush = Instant::now();
                }
                std::thread::sleep(wait.min(Duration::from_millis(200)));
            }
        } else if stop.load(Ordering::SeqCst) {
            return Ok(());
        }
        run.packet(&pkt)?;
    }
    if let Some(e) = input.take_errors().into_iter().next() {
        bail!(e);
    }
    Ok(())
}
