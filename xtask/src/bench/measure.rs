//! Timing whole processes from outside (wall time, CPU time, peak memory) and the statistics the tables print.
//!
//! Every program, ours and the peers, is timed the same way: wall time
//! around spawn and wait, and CPU time (user + system) and peak resident
//! memory from `/usr/bin/time` (GNU time reads them from `wait4`'s
//! rusage). CPU time matters on a shared machine: wall time includes the
//! time a process waited for a core, CPU time is the work it did, and
//! throughput per CPU second is throughput per core.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Context, Result, bail};

/// GNU time, for rusage of a child (CPU time, peak RSS).
const GNU_TIME: &str = "/usr/bin/time";

/// One run of one program.
#[derive(Clone, Debug, Default)]
pub struct Sample {
    /// Wall time, seconds.
    pub wall: f64,
    /// User + system CPU time, seconds (0 when GNU time is missing).
    pub cpu: f64,
    /// Peak resident set size, KiB (0 when GNU time is missing).
    pub rss_kib: u64,
    /// Standard output (when captured).
    pub stdout: String,
}

/// A program to run: what, with which arguments, where its output goes.
#[derive(Clone, Debug)]
pub struct Job {
    /// Program.
    pub program: PathBuf,
    /// Arguments.
    pub args: Vec<String>,
    /// Extra environment.
    pub env: Vec<(String, String)>,
    /// Capture standard output (otherwise it goes to /dev/null).
    pub capture: bool,
    /// Standard input from this file (otherwise /dev/null).
    pub stdin: Option<PathBuf>,
}

impl Job {
    /// A job whose output is discarded.
    pub fn new(program: impl Into<PathBuf>, args: &[&str]) -> Job {
        Job {
            program: program.into(),
            args: args.iter().map(|s| s.to_string()).collect(),
            env: Vec::new(),
            capture: false,
            stdin: None,
        }
    }

    /// Captures standard output.
    pub fn captured(mut self) -> Job {
        self.capture = true;
        self
    }

    /// Adds an environment variable.
    pub fn env(mut self, k: &str, v: &str) -> Job {
        self.env.push((k.into(), v.into()));
        self
    }

    /// The command line, for the report.
    pub fn display(&self) -> String {
        let name = self.program.file_name().map(|n| n.to_string_lossy().to_string());
        let mut s = name.unwrap_or_default();
        for a in &self.args {
            s.push(' ');
            s.push_str(a);
        }
        s
    }
}

/// Whether GNU time is installed.
pub fn have_gnu_time() -> bool {
    Path::new(GNU_TIME).is_file()
}

/// Runs a job to completion and measures it. Fails when it exits non-zero.
pub fn run(job: &Job, scratch: &Path) -> Result<Sample> {
    let usage = scratch.join("rusage.txt");
    let _ = std::fs::remove_file(&usage);
    let mut cmd = if have_gnu_time() {
        let mut c = Command::new(GNU_TIME);
        c.arg("-f").arg("%U %S %M").arg("-o").arg(&usage).arg(&job.program);
        c
    } else {
        Command::new(&job.program)
    };
    cmd.args(&job.args);
    for (k, v) in &job.env {
        cmd.env(k, v);
    }
    cmd.stdout(if job.capture { Stdio::piped() } else { Stdio::null() });
    cmd.stderr(Stdio::piped());
    match &job.stdin {
        Some(p) => {
            cmd.stdin(std::fs::File::open(p).with_context(|| format!("opening {}", p.display()))?)
        }
        None => cmd.stdin(Stdio::null()),
    };
    let start = Instant::now();
    let out = cmd.output().with_context(|| format!("running {}", job.display()))?;
    let wall = start.elapsed().as_secs_f64();
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let tail: String =
            err.chars().rev().take(2000).collect::<Vec<_>>().into_iter().rev().collect();
        bail!("{} failed ({}):\n{tail}", job.display(), out.status);
    }
    let mut s = Sample {
        wall,
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        ..Default::default()
    };
    if let Ok(text) = std::fs::read_to_string(&usage) {
        // GNU time may print "Command exited with non-zero status" first; the figures are the last line.
        if let Some(line) = text.lines().rev().find(|l| !l.trim().is_empty()) {
            let f: Vec<&str> = line.split_whitespace().collect();
            if let [u, sy, m] = f.as_slice() {
                s.cpu = u.parse::<f64>().unwrap_or(0.0) + sy.parse::<f64>().unwrap_or(0.0);
                s.rss_kib = m.parse().unwrap_or(0);
            }
        }
    }
    Ok(s)
}

/// Median of a list (0 when empty).
pub fn median(v: &[f64]) -> f64 {
    quantile(v, 0.5)
}

/// The q-quantile by nearest rank (q in 0..=1; 0 when empty).
pub fn quantile(v: &[f64], q: f64) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    let mut s = v.to_vec();
    s.sort_by(|a, b| a.total_cmp(b));
    let rank = (q * s.len() as f64).ceil() as usize;
    s[rank.clamp(1, s.len()) - 1]
}

/// Smallest and largest.
pub fn min_max(v: &[f64]) -> (f64, f64) {
    let min = v.iter().copied().fold(f64::INFINITY, f64::min);
    let max = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if v.is_empty() { (0.0, 0.0) } else { (min, max) }
}

/// The order in which `n` variants run in round `round`: rotated each
/// round, so no variant always runs first (cold) or right after another.
pub fn round_order(n: usize, round: usize) -> Vec<usize> {
    (0..n).map(|i| (i + round) % n.max(1)).collect()
}

/// The load average (1, 5, 15 minutes) now.
pub fn loadavg() -> (f64, f64, f64) {
    let text = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let mut it = text.split_whitespace().map(|x| x.parse::<f64>().unwrap_or(0.0));
    (it.next().unwrap_or(0.0), it.next().unwrap_or(0.0), it.next().unwrap_or(0.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_by_nearest_rank() {
        let v = [5.0, 1.0, 4.0, 2.0, 3.0];
        assert_eq!(median(&v), 3.0);
        assert_eq!(quantile(&v, 0.99), 5.0);
        assert_eq!(quantile(&v, 0.0), 1.0);
        assert_eq!(min_max(&v), (1.0, 5.0));
        assert_eq!(median(&[]), 0.0);
        let hundred: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(quantile(&hundred, 0.99), 99.0);
        assert_eq!(median(&hundred), 50.0);
    }

    #[test]
    fn every_variant_leads_once_per_cycle() {
        assert_eq!(round_order(3, 0), vec![0, 1, 2]);
        assert_eq!(round_order(3, 1), vec![1, 2, 0]);
        assert_eq!(round_order(3, 5), vec![2, 0, 1]);
    }
}
