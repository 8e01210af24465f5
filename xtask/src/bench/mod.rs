//! `cargo xtask bench`: the benchmark harness — the sensor against its peers and the machine's read limit, the console against hand-written SQL.
//!
//! ```text
//! cargo xtask bench [--quick] [--rounds N] [--sizes 10MB,100MB,1GB] [--only sensor|console]
//!                   [--alerts 1000000,10000000] [--iters N] [--seed N] [--out FILE]
//! ```
//!
//! It builds `otwatch` (release; `--quick` uses the debug build the tests
//! already made), prepares its inputs once under `target/bench-inputs/`
//! (simulated plant captures per size and seed, the public captures joined
//! into one file, generated alert sets and stores), runs every comparison
//! in alternating rounds and prints Markdown tables (the summary with the
//! ratios first), also written to `--out FILE`. No figure is checked
//! against a threshold: the harness reports, it never fails for speed.
//! See `BENCHMARKS.md` for what the tables mean.

mod console;
mod http;
mod inputs;
mod measure;
mod report;
mod sensor;

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use inputs::{parse_size, size_label};

/// What to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Only {
    /// The sensor benchmark only.
    Sensor,
    /// The console benchmark only.
    Console,
}

/// Harness options.
#[derive(Clone, Debug, PartialEq)]
pub struct Options {
    /// The CI smoke run: small inputs, one round, the debug build.
    pub quick: bool,
    /// Rounds per comparison.
    pub rounds: usize,
    /// Simulated capture sizes, bytes.
    pub sizes: Vec<u64>,
    /// One half only.
    pub only: Option<Only>,
    /// Alerts stored for the query benchmark (one store each).
    pub alerts: Vec<u64>,
    /// Detections per ingest run.
    pub ingest: u64,
    /// Timed requests per console question.
    pub iters: usize,
    /// Seed of the simulated plant and the generated alerts.
    pub seed: u64,
    /// Also write the report here.
    pub out: Option<PathBuf>,
    /// Build profile of `otwatch`: release (true) or debug.
    pub release: bool,
}

const USAGE: &str = "usage: cargo xtask bench [--quick] [--rounds N] [--sizes 10MB,100MB,1GB] \
[--only sensor|console] [--alerts 1000000,10000000] [--ingest N] [--iters N] [--seed N] \
[--release|--debug] [--out FILE]";

fn list<T>(v: &str, f: impl Fn(&str) -> Result<T>) -> Result<Vec<T>> {
    v.split(',').map(str::trim).filter(|s| !s.is_empty()).map(f).collect()
}

fn count(s: &str) -> Result<u64> {
    let t = s.trim().to_ascii_lowercase();
    let (n, mul) = if let Some(x) = t.strip_suffix('m') {
        (x, 1_000_000)
    } else if let Some(x) = t.strip_suffix('k') {
        (x, 1_000)
    } else {
        (t.as_str(), 1)
    };
    let n: u64 = n.replace('_', "").parse().with_context(|| format!("bad count {s:?}"))?;
    Ok(n * mul)
}

/// Parses the harness's command line (the arguments after `bench`).
pub fn parse_args(args: &[String]) -> Result<Options> {
    let quick = args.iter().any(|a| a == "--quick");
    let mut o = Options {
        quick,
        rounds: if quick { 1 } else { 5 },
        sizes: if quick { vec![2_000_000] } else { vec![10_000_000, 100_000_000, 1_000_000_000] },
        only: None,
        alerts: if quick { vec![20_000] } else { vec![1_000_000, 10_000_000] },
        ingest: if quick { 20_000 } else { 500_000 },
        iters: if quick { 5 } else { 50 },
        seed: 1,
        out: None,
        release: !quick,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut val = || it.next().with_context(|| format!("{a} needs a value\n{USAGE}"));
        match a.as_str() {
            "--quick" => {}
            "--release" => o.release = true,
            "--debug" => o.release = false,
            "--rounds" => o.rounds = val()?.parse().context("--rounds")?,
            "--sizes" => o.sizes = list(val()?, parse_size)?,
            "--alerts" => o.alerts = list(val()?, count)?,
            "--ingest" => o.ingest = count(val()?)?,
            "--iters" => o.iters = val()?.parse().context("--iters")?,
            "--seed" => o.seed = val()?.parse().context("--seed")?,
            "--out" => o.out = Some(PathBuf::from(val()?)),
            "--only" => {
                o.only = Some(match val()?.as_str() {
                    "sensor" => Only::Sensor,
                    "console" => Only::Console,
                    other => bail!("--only {other}: expected sensor or console\n{USAGE}"),
                })
            }
            "-h" | "--help" => bail!("{USAGE}"),
            other => bail!("unknown option {other}\n{USAGE}"),
        }
    }
    if o.rounds == 0 || o.iters == 0 {
        bail!("--rounds and --iters must be at least 1");
    }
    Ok(o)
}

/// Where things are.
#[derive(Clone, Debug)]
pub struct Env {
    /// Workspace root.
    pub root: PathBuf,
    /// The `otwatch` binary under test.
    pub otwatch: PathBuf,
    /// Cached inputs (`target/bench-inputs/`).
    pub inputs: PathBuf,
    /// Scratch space for this run (stores, logs; one per process, removed at the end).
    pub scratch: PathBuf,
    /// The public captures, when present.
    pub pcaps: Option<PathBuf>,
}

/// The cargo target directory (honours `CARGO_TARGET_DIR`).
fn target_dir(root: &Path) -> Result<PathBuf> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--no-deps", "--offline"])
        .current_dir(root)
        .output()
        .context("cargo metadata")?;
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).context("cargo metadata")?;
    v["target_directory"].as_str().map(PathBuf::from).context("no target_directory")
}

fn build(root: &Path, release: bool) -> Result<PathBuf> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.args(["build", "--quiet", "-p", "otwatch-cli", "--bin", "otwatch"]).current_dir(root);
    if release {
        cmd.arg("--release");
    }
    eprintln!("bench: building otwatch ({})…", if release { "release" } else { "debug" });
    if !cmd.status().context("cargo build")?.success() {
        bail!("building otwatch failed");
    }
    let bin = target_dir(root)?.join(if release { "release" } else { "debug" }).join("otwatch");
    if !bin.is_file() {
        bail!("{} was not built", bin.display());
    }
    Ok(bin)
}

fn first_line(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .ok()
        .map(|o| {
            let text = if o.stdout.is_empty() { o.stderr } else { o.stdout };
            String::from_utf8_lossy(&text)
                .lines()
                .map(str::trim)
                .find(|l| !l.is_empty())
                .unwrap_or("")
                .to_string()
        })
        .unwrap_or_else(|| "not installed".into())
}

fn machine(opts: &Options, env: &Env) -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split(':').nth(1))
        .map(str::trim)
        .unwrap_or("unknown");
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|k| k.parse::<f64>().ok())
        })
        .map(|kb| format!("{:.1} GiB", kb / 1024.0 / 1024.0))
        .unwrap_or_else(|| "unknown".into());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let (l1, l5, l15) = measure::loadavg();
    let ndpi = first_line("ndpiReader", &["-h"]);
    let mut s = String::new();
    s.push_str(&format!(
        "- Machine: {model}, {cores} cores, {mem} memory, Linux {}\n",
        kernel.trim()
    ));
    s.push_str(&format!(
        "- Load average at the start: {l1:.2} / {l5:.2} / {l15:.2} (1 / 5 / 15 min)\n"
    ));
    s.push_str(&format!(
        "- otwatch: {} build of {}\n",
        if opts.release { "release" } else { "debug (smoke run; figures not representative)" },
        first_line(
            "git",
            &["-C", &env.root.display().to_string(), "describe", "--always", "--dirty"]
        )
    ));
    s.push_str(&format!("- Rust: {}\n", first_line("rustc", &["--version"])));
    s.push_str(&format!(
        "- Peers: {}; {}; {}; {}; sqlite3 {}\n",
        first_line("tcpdump", &["--version"]),
        ndpi.trim_start_matches("Welcome to "),
        first_line("tshark", &["--version"]),
        first_line("cat", &["--version"]),
        first_line("sqlite3", &["--version"]).split_whitespace().next().unwrap_or("?"),
    ));
    if !measure::have_gnu_time() {
        s.push_str(
            "- /usr/bin/time is missing: no CPU time or peak memory (apt-get install time)\n",
        );
    }
    s
}

/// Runs the harness.
pub fn run(opts: &Options) -> Result<()> {
    let root = crate::root();
    let otwatch = build(&root, opts.release)?;
    let target = target_dir(&root)?;
    let inputs = target.join("bench-inputs");
    let scratch = target.join(format!("bench-scratch-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::create_dir_all(&scratch)?;
    std::fs::create_dir_all(&inputs)?;
    let pcaps = std::env::var_os("OTWATCH_PCAPS")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("../shared/pcaps"));
    let env = Env {
        root: root.clone(),
        otwatch,
        inputs,
        scratch,
        pcaps: pcaps.is_dir().then_some(pcaps),
    };
    let started = std::time::Instant::now();
    let mut report = report::Report {
        header: format!(
            "# Benchmark run\n\n{}- Command: `cargo xtask bench {}`\n",
            machine(opts, &env),
            std::env::args().skip(2).collect::<Vec<_>>().join(" ")
        ),
        ..Default::default()
    };
    println!("{}", report.header);
    let mut loads = vec![measure::loadavg().0];
    if opts.only != Some(Only::Console) {
        let mut files = Vec::new();
        if let Some(p) = &env.pcaps
            && let Some((f, n)) = inputs::real_capture(p, &env.inputs)?
        {
            files.push((format!("real ({n} public captures joined)"), f));
        }
        for &size in &opts.sizes {
            let f = inputs::sim_capture(&env.otwatch, &env.inputs, &root, size, opts.seed)?;
            files.push((format!("sim {}", size_label(size)), f));
        }
        sensor::suite(&env, &files, opts.rounds, &mut report)?;
        loads.push(measure::loadavg().0);
    }
    if opts.only != Some(Only::Sensor) {
        let c = console::ConsoleOptions {
            ingest_count: opts.ingest,
            alert_counts: opts.alerts.clone(),
            iters: opts.iters,
            rounds: opts.rounds,
            seed: opts.seed,
        };
        console::suite(&env, &c, &mut report)?;
        loads.push(measure::loadavg().0);
    }
    let (lo, hi) = measure::min_max(&loads);
    let tail = format!(
        "- Load average (1 min) during the run: {lo:.2}–{hi:.2}; the run took {:.0} s\n",
        started.elapsed().as_secs_f64()
    );
    report.header.push_str(&tail);
    println!("{tail}");
    let _ = std::fs::remove_dir_all(&env.scratch);
    if let Some(out) = &opts.out {
        std::fs::write(out, report.markdown())
            .with_context(|| format!("writing {}", out.display()))?;
        eprintln!("bench: report written to {}", out.display());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn quick_is_small_and_uses_the_debug_build() {
        let o = parse_args(&args("--quick")).unwrap();
        assert!(o.quick && !o.release);
        assert_eq!(o.rounds, 1);
        assert_eq!(o.sizes, vec![2_000_000]);
        assert_eq!(o.alerts, vec![20_000]);
    }

    #[test]
    fn options_parse() {
        let o = parse_args(&args(
            "--rounds 3 --sizes 10MB,1GB --only sensor --alerts 1M,10m --out x.md --seed 7",
        ))
        .unwrap();
        assert_eq!(o.rounds, 3);
        assert_eq!(o.sizes, vec![10_000_000, 1_000_000_000]);
        assert_eq!(o.only, Some(Only::Sensor));
        assert_eq!(o.alerts, vec![1_000_000, 10_000_000]);
        assert_eq!(o.out, Some(PathBuf::from("x.md")));
        assert_eq!(o.seed, 7);
        assert!(o.release);
        assert!(parse_args(&args("--only web")).is_err());
        assert!(parse_args(&args("--rounds")).is_err());
        assert!(parse_args(&args("--rounds 0")).is_err());
        assert!(parse_args(&args("--frobnicate")).is_err());
    }
}
