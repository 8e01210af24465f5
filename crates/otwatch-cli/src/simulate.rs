//! `otwatch simulate`: writes a capture of the simulated plant (with optional attack
//! scenarios) for the demo, tests and benchmarks, prints what it wrote and how fast,
//! and optionally the manifest and the indicator feed next to the capture.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context as _, Result, bail};

use otwatch_sim::{Format, Options, Scenario, ScenarioRun};

/// Options of `otwatch simulate`.
#[derive(Clone, Debug, clap::Args)]
pub struct SimulateArgs {
    /// Capture file to write.
    #[arg(long, short)]
    pub out: PathBuf,
    /// Simulated time to cover, e.g. 10m, 2h (default 10m; unlimited with --size alone).
    #[arg(long)]
    pub duration: Option<String>,
    /// Number of field devices (PLCs, RTUs, controllers); sites and zones scale with it.
    #[arg(long, conflicts_with = "rate")]
    pub devices: Option<u32>,
    /// Average packet rate to aim for (packets per simulated second); picks the device count.
    #[arg(long)]
    pub rate: Option<f64>,
    /// Stop when the file reaches this size, e.g. 1GB, 500MB, 64MiB.
    #[arg(long)]
    pub size: Option<String>,
    /// Seed: the same options give a byte-identical file.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Capture start time (RFC 3339, UTC).
    #[arg(long, default_value = "2024-06-03T06:00:00Z")]
    pub start: String,
    /// Scenario to add, NAME or NAME@OFFSET (offset from the start, e.g. port-scan@5m;
    /// default 1m). Repeatable. `--scenario list` prints the scenarios.
    #[arg(long = "scenario", value_name = "NAME[@OFFSET]")]
    pub scenarios: Vec<String>,
    /// Capture format.
    #[arg(long, value_enum, default_value_t = CaptureFormat::Pcap)]
    pub format: CaptureFormat,
    /// Also write the manifest (what was generated, expected alerts, counts) to OUT.manifest.json.
    #[arg(long)]
    pub manifest: bool,
}

/// Capture format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum CaptureFormat {
    /// libpcap (microsecond time stamps).
    Pcap,
    /// pcapng.
    Pcapng,
}

/// Parses a size: plain bytes or a number with KB/MB/GB (powers of 1000) or KiB/MiB/GiB.
pub fn parse_size(text: &str) -> Result<u64> {
    let t = text.trim();
    let split = t.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 = num.parse().with_context(|| format!("bad size {text:?}: expected e.g. 1GB"))?;
    let scale: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" => 1_000,
        "m" | "mb" => 1_000_000,
        "g" | "gb" => 1_000_000_000,
        "kib" => 1 << 10,
        "mib" => 1 << 20,
        "gib" => 1 << 30,
        u => bail!("bad size {text:?}: unknown unit {u:?} (use B, KB, MB, GB, KiB, MiB, GiB)"),
    };
    if n <= 0.0 {
        bail!("bad size {text:?}: must be positive");
    }
    Ok((n * scale as f64) as u64)
}

fn duration_us(text: &str) -> Result<u64> {
    let us = otwatch_model::time::parse_duration(text).map_err(anyhow::Error::msg)?;
    u64::try_from(us).ok().filter(|u| *u > 0).with_context(|| format!("bad duration {text:?}"))
}

fn scenario_run(text: &str) -> Result<ScenarioRun> {
    let (name, at) = match text.split_once('@') {
        Some((n, a)) => (n, Some(a)),
        None => (text, None),
    };
    let scenario = Scenario::parse(name).map_err(anyhow::Error::msg)?;
    let offset_us = match at {
        Some(a) => duration_us(a).with_context(|| format!("scenario {text:?}"))?,
        None => 60_000_000,
    };
    Ok(ScenarioRun { scenario, offset_us })
}

fn sibling(out: &Path, suffix: &str) -> PathBuf {
    let mut s = out.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// Builds the simulator options from the command line.
pub fn options(a: &SimulateArgs) -> Result<Options> {
    let size_limit = a.size.as_deref().map(parse_size).transpose()?;
    let duration_us = match (&a.duration, size_limit) {
        (Some(d), _) => Some(duration_us(d)?),
        (None, Some(_)) => None,
        (None, None) => Some(otwatch_sim::DEFAULT_DURATION_US),
    };
    let start_us = otwatch_sim::time::parse_rfc3339(&a.start).with_context(|| {
        format!("bad --start {:?}: expected RFC 3339 UTC, e.g. 2024-06-03T06:00:00Z", a.start)
    })?;
    let devices = match (a.devices, a.rate) {
        (Some(d), _) => d,
        (None, Some(r)) => {
            if r <= 0.0 || !r.is_finite() {
                bail!("--rate must be a positive number of packets per second");
            }
            otwatch_sim::devices_for_rate(a.seed, r)
        }
        (None, None) => otwatch_sim::DEFAULT_DEVICES,
    };
    let scenarios = a.scenarios.iter().map(|s| scenario_run(s)).collect::<Result<Vec<_>>>()?;
    let format = match a.format {
        CaptureFormat::Pcap => Format::Pcap,
        CaptureFormat::Pcapng => Format::Pcapng,
    };
    Ok(Options { seed: a.seed, start_us, duration_us, devices, size_limit, scenarios, format })
}

/// Runs the command.
pub fn run(a: &SimulateArgs, out: &mut dyn Write) -> Result<()> {
    if a.scenarios.iter().any(|s| s == "list") {
        for s in Scenario::ALL {
            writeln!(out, "{:<24} {}", s.name(), s.description())?;
        }
        return Ok(());
    }
    let opts = options(a)?;
    let file = File::create(&a.out).with_context(|| format!("creating {}", a.out.display()))?;
    let started = Instant::now();
    let (manifest, w) = otwatch_sim::generate(&opts, BufWriter::with_capacity(1 << 20, file))?;
    let file = w.into_inner().map_err(|e| e.into_error()).context("flushing the capture")?;
    file.sync_all().ok();
    let secs = started.elapsed().as_secs_f64().max(1e-9);
    writeln!(
        out,
        "wrote {} ({}): {} packets, {} bytes, {:.0} s of plant time, {} field devices in {} zones",
        a.out.display(),
        match opts.format {
            Format::Pcap => "pcap",
            Format::Pcapng => "pcapng",
        },
        manifest.packets,
        manifest.file_bytes,
        manifest.duration_s,
        opts.devices,
        manifest.zones.len(),
    )?;
    writeln!(
        out,
        "generated in {secs:.2} s: {:.0} packets/s, {:.1} MB/s",
        manifest.packets as f64 / secs,
        manifest.file_bytes as f64 / secs / 1e6
    )?;
    for s in &manifest.scenarios {
        writeln!(
            out,
            "scenario {} at {:.0} s: expects {} alert(s)",
            s.name,
            s.offset_s,
            s.expected_alerts.len()
        )?;
    }
    if !manifest.indicator_feed.is_empty() {
        let feed = sibling(&a.out, ".bad-ips.txt");
        std::fs::write(&feed, manifest.feed_text())
            .with_context(|| format!("writing {}", feed.display()))?;
        writeln!(out, "indicator feed: {}", feed.display())?;
    }
    if a.manifest {
        let path = sibling(&a.out, ".manifest.json");
        let json = serde_json::to_string_pretty(&manifest)?;
        std::fs::write(&path, json + "\n")
            .with_context(|| format!("writing {}", path.display()))?;
        writeln!(out, "manifest: {}", path.display())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse() {
        assert_eq!(parse_size("1GB").unwrap(), 1_000_000_000);
        assert_eq!(parse_size("64MiB").unwrap(), 64 << 20);
        assert_eq!(parse_size("1.5 MB").unwrap(), 1_500_000);
        assert_eq!(parse_size("4096").unwrap(), 4096);
        assert!(parse_size("1XB").is_err());
        assert!(parse_size("GB").is_err());
    }

    #[test]
    fn scenarios_parse_with_offsets() {
        let r = scenario_run("port-scan@2m").unwrap();
        assert_eq!(r.scenario, Scenario::PortScan);
        assert_eq!(r.offset_us, 120_000_000);
        assert_eq!(scenario_run("malformed").unwrap().offset_us, 60_000_000);
        assert!(scenario_run("nope").unwrap_err().to_string().contains("port-scan"));
    }
}
