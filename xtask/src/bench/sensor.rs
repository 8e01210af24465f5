//! The sensor benchmark: otwatch's pipeline stages against the raw read limit (cat, tcpdump), ndpiReader and tshark, on the same files in the same rounds.
//!
//! For every input the programs run in rounds, in a rotated order, so
//! load that comes and goes on a shared machine falls on all of them
//! alike. Each table gives the median wall time with its range, packets/s
//! and MB/s from the median, CPU time (user + system) and packets per CPU
//! second (throughput per core), and the peak resident memory.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use super::Env;
use super::measure::{self, Job, Sample};
use super::report::{Part, Report, int, num, ratio, spread, table};

/// Largest input tshark is run on: the 100 MB capture (a few bytes over 100 MB) but not 1 GB
/// (over a minute per round, and the ratio is already clear).
pub const TSHARK_MAX_BYTES: u64 = 150_000_000;

/// One program in the comparison.
struct Prog {
    key: &'static str,
    name: &'static str,
    what: &'static str,
    job: Job,
    /// Removed before every run (the store's data directory).
    fresh_dir: Option<PathBuf>,
}

/// What one program did on one input over the rounds.
struct Measured {
    key: &'static str,
    name: &'static str,
    what: &'static str,
    command: String,
    samples: Vec<Sample>,
}

impl Measured {
    fn wall(&self) -> f64 {
        measure::median(&self.samples.iter().map(|s| s.wall).collect::<Vec<_>>())
    }
    fn cpu(&self) -> f64 {
        measure::median(&self.samples.iter().map(|s| s.cpu).collect::<Vec<_>>())
    }
    fn rss_mib(&self) -> f64 {
        self.samples.iter().map(|s| s.rss_kib).max().unwrap_or(0) as f64 / 1024.0
    }
}

/// Results for one input file.
pub struct InputResult {
    /// Short name (e.g. `sim 100MB`).
    pub name: String,
    /// File size in bytes.
    pub bytes: u64,
    /// Packets in the file.
    pub packets: u64,
    rows: Vec<Measured>,
}

impl InputResult {
    fn get(&self, key: &str) -> Option<&Measured> {
        self.rows.iter().find(|m| m.key == key)
    }
}

fn programs(env: &Env, file: &Path, size: u64, tshark: bool) -> Vec<Prog> {
    let f = file.display().to_string();
    let ow = env.otwatch.clone();
    let data = env.scratch.join("sensor-store");
    let stage = |s: &str| {
        Job::new(&ow, &["bench-stage", "--stage", s, &f])
            .captured()
            .env("OTWATCH_LOG_LEVEL", "warn")
    };
    let mut v = vec![
        Prog {
            key: "cat",
            name: "cat",
            what: "read the file from the page cache",
            job: Job::new("cat", &[&f]),
            fresh_dir: None,
        },
        Prog {
            key: "tcpdump",
            name: "tcpdump",
            what: "libpcap read and write of every record",
            job: Job::new("tcpdump", &["-r", &f, "-w", "/dev/null"]),
            fresh_dir: None,
        },
        Prog {
            key: "ndpi",
            name: "ndpiReader",
            what: "flows + protocol identification (nDPI, C)",
            job: Job::new("ndpiReader", &["-q", "-i", &f]),
            fresh_dir: None,
        },
    ];
    if tshark && size <= TSHARK_MAX_BYTES {
        v.push(Prog {
            key: "tshark",
            name: "tshark",
            what: "full dissection, one summary line per packet",
            job: Job::new("tshark", &["-n", "-r", &f]),
            fresh_dir: None,
        });
    }
    // A peer that is not installed is left out of the tables (and said so), never an error.
    v.retain(|p| installed(&p.job.program));
    v.extend([
        Prog {
            key: "read",
            name: "otwatch read",
            what: "capture intake only",
            job: stage("read"),
            fresh_dir: None,
        },
        Prog {
            key: "decode",
            name: "otwatch decode",
            what: "intake + L2–L4 decode",
            job: stage("decode"),
            fresh_dir: None,
        },
        Prog {
            key: "observe",
            name: "otwatch observe",
            what: "+ flows, reassembly, OT dissectors, observations",
            job: stage("observe"),
            fresh_dir: None,
        },
        Prog {
            key: "pipeline",
            name: "otwatch pipeline",
            what: "+ inventory + detection (the sensor run, no store)",
            job: Job::new(
                &ow,
                &[
                    "--data-dir",
                    &data.display().to_string(),
                    "bench-stage",
                    "--stage",
                    "pipeline",
                    &f,
                ],
            )
            .captured()
            .env("OTWATCH_LOG_LEVEL", "warn"),
            fresh_dir: Some(data.clone()),
        },
        Prog {
            key: "store",
            name: "otwatch sensor",
            what: "the whole `otwatch sensor --pcap` run into a fresh store",
            job: Job::new(
                &ow,
                &["--data-dir", &data.display().to_string(), "sensor", "--json", "--pcap", &f],
            )
            .captured()
            .env("OTWATCH_LOG_LEVEL", "warn"),
            fresh_dir: Some(data),
        },
    ]);
    v
}

/// Whether `program` can be run (found on `PATH`, or a path to a file).
pub fn installed(program: &Path) -> bool {
    if program.components().count() > 1 {
        return program.is_file();
    }
    std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).any(|d| d.join(program).is_file()))
        .unwrap_or(false)
}

/// Measures every program on one input.
pub fn measure_input(
    env: &Env,
    name: &str,
    file: &Path,
    rounds: usize,
    tshark: bool,
) -> Result<InputResult> {
    let bytes = std::fs::metadata(file)?.len();
    let progs = programs(env, file, bytes, tshark);
    // Warm-up (page cache) and the packet count, from our intake.
    let first = measure::run(&progs[0].job, &env.scratch)?;
    drop(first);
    let read = progs.iter().find(|p| p.key == "read").context("read stage")?;
    let s = measure::run(&read.job, &env.scratch)?;
    let v: serde_json::Value = serde_json::from_str(s.stdout.trim())
        .with_context(|| format!("bench-stage output {:?}", s.stdout))?;
    let packets = v["packets"].as_u64().unwrap_or(0);
    let mut samples: Vec<Vec<Sample>> = vec![Vec::new(); progs.len()];
    for round in 0..rounds {
        eprintln!("bench: {name}: round {}/{rounds} (load {:.1})", round + 1, measure::loadavg().0);
        for i in measure::round_order(progs.len(), round) {
            let p = &progs[i];
            if let Some(d) = &p.fresh_dir {
                let _ = std::fs::remove_dir_all(d);
                std::fs::create_dir_all(d)?;
            }
            let s = measure::run(&p.job, &env.scratch)?;
            samples[i].push(s);
        }
    }
    let rows = progs
        .into_iter()
        .zip(samples)
        .map(|(p, samples)| Measured {
            key: p.key,
            name: p.name,
            what: p.what,
            command: p.job.display().replace(&file.display().to_string(), "FILE"),
            samples,
        })
        .collect();
    Ok(InputResult { name: name.into(), bytes, packets, rows })
}

/// The detail table of one input.
pub fn detail(r: &InputResult, rounds: usize) -> String {
    let mut rows = Vec::new();
    for m in &r.rows {
        let walls: Vec<f64> = m.samples.iter().map(|s| s.wall).collect();
        let (lo, hi) = measure::min_max(&walls);
        let wall = m.wall();
        let cpu = m.cpu();
        rows.push(vec![
            format!("{} — {}", m.name, m.what),
            spread(wall, lo, hi),
            int(r.packets as f64 / wall),
            num(r.bytes as f64 / wall / 1e6),
            num(cpu),
            if cpu > 0.0 { int(r.packets as f64 / cpu) } else { "-".into() },
            num(m.rss_mib()),
        ]);
    }
    let mut out = format!(
        "{} packets, {:.1} MB, {rounds} rounds; medians (min–max).\n\n",
        int(r.packets as f64),
        r.bytes as f64 / 1e6
    );
    out.push_str(&table(
        &["program", "wall s", "packets/s", "MB/s", "CPU s", "packets per CPU s", "peak RSS MiB"],
        &rows,
    ));
    out.push_str("\nCommands (FILE is the input):\n\n");
    for m in &r.rows {
        out.push_str(&format!("- {}: `{}`\n", m.name, m.command));
    }
    out
}

/// The ratio table over every input: otwatch's pipeline against each peer.
pub fn ratios(results: &[InputResult]) -> String {
    let mut rows = Vec::new();
    for r in results {
        let Some(ours) = r.get("pipeline") else { continue };
        let store = r.get("store");
        let per = |peer: &str, cpu: bool| -> String {
            let Some(p) = r.get(peer) else { return "-".into() };
            let (a, b) = if cpu { (p.cpu(), ours.cpu()) } else { (p.wall(), ours.wall()) };
            if a > 0.0 && b > 0.0 { ratio(a / b) } else { "-".into() }
        };
        let slower = |peer: &str| -> String {
            let Some(p) = r.get(peer) else { return "-".into() };
            if p.wall() > 0.0 { ratio(ours.wall() / p.wall()) } else { "-".into() }
        };
        rows.push(vec![
            r.name.clone(),
            int(r.packets as f64 / ours.wall()),
            if ours.cpu() > 0.0 { int(r.packets as f64 / ours.cpu()) } else { "-".into() },
            per("ndpi", true),
            per("ndpi", false),
            per("tshark", true),
            per("tshark", false),
            slower("tcpdump"),
            slower("cat"),
            store.map(|s| int(r.packets as f64 / s.wall())).unwrap_or_else(|| "-".into()),
            num(ours.rss_mib()),
            store.map(|s| num(s.rss_mib())).unwrap_or_else(|| "-".into()),
        ]);
    }
    let mut out = String::from(
        "otwatch pipeline = decode + flows + reassembly + OT dissection + inventory + detection, no store \
         (`otwatch bench-stage --stage pipeline`); × faster = the peer's time ÷ ours (per core: CPU time; \
         wall: elapsed time); × of the read limit = our time ÷ the reader's time (lower is better).\n\n",
    );
    out.push_str(&table(
        &[
            "input",
            "pipeline packets/s",
            "packets per CPU s",
            "vs ndpiReader per core",
            "vs ndpiReader wall",
            "vs tshark per core",
            "vs tshark wall",
            "× of tcpdump -r -w",
            "× of cat",
            "with store packets/s",
            "pipeline peak RSS MiB",
            "with store peak RSS MiB",
        ],
        &rows,
    ));
    out
}

/// The scaling table: our stages across input sizes.
pub fn scaling(results: &[InputResult]) -> String {
    let mut rows = Vec::new();
    for r in results.iter().filter(|r| r.name.starts_with("sim")) {
        let cell = |key: &str| -> (String, String) {
            r.get(key)
                .map(|m| (int(r.packets as f64 / m.wall()), num(m.rss_mib())))
                .unwrap_or(("-".into(), "-".into()))
        };
        let ns = r
            .get("pipeline")
            .map(|m| num(m.cpu() * 1e9 / r.packets.max(1) as f64))
            .unwrap_or_else(|| "-".into());
        let (d, _) = cell("decode");
        let (o, _) = cell("observe");
        let (p, prss) = cell("pipeline");
        let (s, srss) = cell("store");
        rows.push(vec![r.name.clone(), int(r.packets as f64), d, o, p, ns, prss, s, srss]);
    }
    table(
        &[
            "input",
            "packets",
            "decode packets/s",
            "observe packets/s",
            "pipeline packets/s",
            "pipeline CPU ns/packet",
            "pipeline peak RSS MiB",
            "with store packets/s",
            "with store peak RSS MiB",
        ],
        &rows,
    )
}

/// Runs the sensor benchmark on every input and adds its sections to the report.
pub fn suite(
    env: &Env,
    inputs: &[(String, PathBuf)],
    rounds: usize,
    report: &mut Report,
) -> Result<()> {
    let mut results = Vec::new();
    for (name, file) in inputs {
        let r = measure_input(env, name, file, rounds, true)?;
        report.add(Part::Detail, &format!("Sensor: {name}"), detail(&r, rounds));
        results.push(r);
    }
    report.add(Part::Summary, "Sensor against its peers", ratios(&results));
    let mut body = scaling(&results);
    body.push_str(
        "\nThreads: the sensor runs its pipeline on one thread and has no thread option, so 1 against 2 \
         worker threads is not measured (see BENCHMARKS.md).\n",
    );
    report.add(Part::Summary, "Sensor scaling with the input size", body);
    Ok(())
}
