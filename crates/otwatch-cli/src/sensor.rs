//! `otwatch sensor` (files or a live interface into the store) and `otwatch pcap summary`.
//!
//! The sensor run itself is `otwatch_sensor::run`; this module picks the
//! input, builds the run from the configuration (sensor id, site, zone, OT
//! subnets), adds the detection stage (engines, feeds, custom rules, PCAP
//! evidence, the learning/operational mode; settings from `detect.*` and
//! `sensor.*`, see `crate::detection`), stops cleanly on SIGINT/SIGTERM in
//! live mode, and prints what was done.

use std::io::Write;
use std::path::PathBuf;

#[cfg(feature = "live")]
use anyhow::Context as _;
use anyhow::{Result, bail};

use otwatch_model::catalog;
use otwatch_sensor::detect::DetectStage;
use otwatch_sensor::inventory::Placement;
use otwatch_sensor::run::{BatchPolicy, RunOptions, RunReport, SensorRun, run_files};

use crate::context::{Ctx, now};
use crate::detection;

/// `otwatch sensor` arguments.
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("input").required(true).args(["pcap", "interface"])))]
pub struct SensorArgs {
    /// Capture files (pcap or pcapng), merged in time order.
    #[arg(long, num_args = 1.., value_name = "FILE")]
    pub pcap: Vec<PathBuf>,
    /// Capture live from this interface until SIGINT/SIGTERM (build with the `live` feature).
    #[arg(long, value_name = "IF")]
    pub interface: Option<String>,
    /// BPF filter for live capture, e.g. "not port 22".
    #[arg(long, value_name = "EXPR", requires = "interface")]
    pub filter: Option<String>,
    /// Print the summary as JSON.
    #[arg(long)]
    pub json: bool,
    /// Detection mode: auto (learn for sensor.learning_period, then operate),
    /// learning (policy alerts held back; traffic becomes the baseline) or
    /// operational (every deviation from the baseline alerts). Default: sensor.mode.
    #[arg(long, value_name = "MODE", value_parser = ["auto", "learning", "operational"])]
    pub mode: Option<String>,
    /// Also write every detection as JSON Lines to FILE (e.g. to compare runs).
    #[arg(long, value_name = "FILE")]
    pub detections_out: Option<PathBuf>,
}

/// How the detection stage is built for a run.
#[derive(Clone, Debug, Default)]
pub(crate) struct DetectChoice {
    /// `--mode` (None: `sensor.mode`).
    pub mode: Option<String>,
    /// `--detections-out`.
    pub detections_out: Option<PathBuf>,
    /// Live capture (enables the silence timers that need wall-clock gaps).
    pub live: bool,
}

/// `otwatch pcap …`
#[derive(Debug, clap::Subcommand)]
pub enum PcapCmd {
    /// Summarise captures with otwatch's own decoders, in the shape of the tshark truth files.
    Summary {
        /// Capture files, merged in time order.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// json (the truth-file shape) or table (the main counts).
        #[arg(long, value_enum, default_value_t = SummaryFormat::Json)]
        format: SummaryFormat,
    },
}

/// Output of `pcap summary`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum SummaryFormat {
    /// JSON.
    Json,
    /// A short table.
    Table,
}

pub(crate) fn options(ctx: &Ctx, batch: BatchPolicy, input_key: Option<String>) -> RunOptions {
    let s = &ctx.config.sensor;
    RunOptions {
        placement: Placement {
            sensor: Some(s.id.clone()),
            site: s.site.clone(),
            zone: s.zone.clone(),
            ot_subnets: s.ot_subnets.clone(),
        },
        sensor_name: if s.name.is_empty() { s.id.clone() } else { s.name.clone() },
        batch,
        input_key,
        flow: Default::default(),
    }
}

/// Builds the run: the inventory and the detection stage over the store,
/// with the engines' settings from the configuration (every problem in them
/// reported at once).
pub(crate) fn build_run<'s>(
    ctx: &'s Ctx,
    opts: RunOptions,
    choice: &DetectChoice,
) -> Result<SensorRun<'s>> {
    let cat = catalog::builtin();
    let settings = detection::settings(&ctx.config, cat, choice.live)?;
    let mode = detection::mode_choice(&ctx.config, choice.mode.as_deref())?;
    let dopts = detection::options(&ctx.config, mode, choice.detections_out.clone());
    let store = ctx.store.as_ref();
    let stage = DetectStage::new(settings, cat, store, dopts, Box::new(now))?;
    Ok(SensorRun::with_detection(store, opts, stage))
}

fn print_report(r: &RunReport, seconds: f64, json: bool, out: &mut dyn Write) -> Result<()> {
    let pps = if seconds > 0.0 { r.packets as f64 / seconds } else { 0.0 };
    let mbps = if seconds > 0.0 { r.bytes as f64 / seconds / 1e6 } else { 0.0 };
    if json {
        let v = serde_json::json!({
            "packets": r.packets,
            "bytes": r.bytes,
            "observations": r.observations,
            "devices": r.inventory.devices,
            "connections": r.inventory.connections,
            "new_connections_stored": r.new_connections,
            "events_stored": r.events,
            "batches": r.batches,
            "batches_already_stored": r.batches_already_stored,
            "detections": r.detections,
            "detect": r.detect.as_ref().map(|d| serde_json::json!({
                "mode": d.mode.map(detection::mode_name),
                "learning_ended_at": d.learning_ended_at.map(|t| t.to_rfc3339()),
                "findings": d.findings,
                "alerts_opened": d.alerts_opened,
                "alerts_updated": d.alerts_updated,
                "suppressed": d.suppressed,
                "pcaps": d.pcaps,
                "pcap_bytes": d.pcap_bytes,
                "events": d.events,
                "baseline_added": d.baseline_added,
                "by_type": d.by_type,
            })),
            "notices": r.notices,
            "devices_not_tracked": r.inventory.devices_dropped,
            "connections_not_tracked": r.inventory.connections_dropped,
            "observations_dropped": r.observer.dropped,
            "seconds": seconds,
            "packets_per_second": pps,
            "megabytes_per_second": mbps,
        });
        writeln!(out, "{}", serde_json::to_string_pretty(&v)?)?;
        return Ok(());
    }
    writeln!(
        out,
        "{} packets ({:.1} MB) in {seconds:.2}s: {pps:.0} packets/s, {mbps:.1} MB/s",
        r.packets,
        r.bytes as f64 / 1e6
    )?;
    writeln!(
        out,
        "{} devices, {} connections ({} new in the store), {} events stored, {} detections",
        r.inventory.devices, r.inventory.connections, r.new_connections, r.events, r.detections
    )?;
    if r.batches_already_stored > 0 {
        writeln!(
            out,
            "{} of {} batches were already stored (same input): their connection counts were not added again",
            r.batches_already_stored, r.batches
        )?;
    }
    if r.inventory.devices_dropped > 0
        || r.inventory.connections_dropped > 0
        || r.observer.dropped > 0
    {
        writeln!(
            out,
            "limits reached: {} addresses and {} connections not tracked, {} observations dropped",
            r.inventory.devices_dropped, r.inventory.connections_dropped, r.observer.dropped
        )?;
    }
    if let Some(d) = &r.detect {
        let mode = d.mode.map_or("-", detection::mode_name);
        let ended = d
            .learning_ended_at
            .map(|t| format!(" (learning ended at {} packet time)", t.to_rfc3339()))
            .unwrap_or_default();
        writeln!(
            out,
            "detection ({mode}{ended}): {} findings, {} alerts opened, {} updated, {} suppressed; {} baseline facts learned; {} alert captures ({:.1} KB)",
            d.findings,
            d.alerts_opened,
            d.alerts_updated,
            d.suppressed,
            d.baseline_added,
            d.pcaps,
            d.pcap_bytes as f64 / 1e3
        )?;
        for (t, n) in &d.by_type {
            writeln!(out, "  {n:>6}  {t}")?;
        }
    }
    for n in &r.notices {
        writeln!(out, "notice: {n}")?;
    }
    writeln!(out, "see: otwatch alerts list, otwatch devices list, otwatch connections list")?;
    Ok(())
}

/// `otwatch sensor`.
pub fn run(ctx: &Ctx, a: &SensorArgs, out: &mut dyn Write) -> Result<bool> {
    let started = std::time::Instant::now();
    if let Some(interface) = &a.interface {
        let choice = DetectChoice {
            mode: a.mode.clone(),
            detections_out: a.detections_out.clone(),
            live: true,
        };
        let report = live(ctx, interface, a.filter.as_deref(), &choice)?;
        print_report(&report, started.elapsed().as_secs_f64(), a.json, out)?;
        return Ok(true);
    }
    for p in &a.pcap {
        if !p.is_file() {
            bail!("{}: no such capture file", p.display());
        }
    }
    let key = otwatch_sensor::run::input_key(&a.pcap)?;
    let choice = DetectChoice {
        mode: a.mode.clone(),
        detections_out: a.detections_out.clone(),
        live: false,
    };
    let run = build_run(ctx, options(ctx, BatchPolicy::FILES, Some(key)), &choice)?;
    run.register(Some(now()))?;
    let progress = !a.json;
    let (report, damage) = run_files(run, &a.pcap, progress)?;
    print_report(&report, started.elapsed().as_secs_f64(), a.json, out)?;
    for d in &damage {
        eprintln!("error: {d} (packets before the damage were processed)");
    }
    Ok(damage.is_empty())
}

#[cfg(feature = "live")]
fn live(
    ctx: &Ctx,
    interface: &str,
    filter: Option<&str>,
    choice: &DetectChoice,
) -> Result<RunReport> {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    // Signals are watched on a thread of their own; capture checks the flag.
    std::thread::spawn(move || {
        let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
            return;
        };
        rt.block_on(async move {
            let kind = tokio::signal::unix::SignalKind::terminate();
            let Ok(mut term) = tokio::signal::unix::signal(kind) else { return };
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            flag.store(true, Ordering::SeqCst);
        });
    });
    let mut cap = otwatch_sensor::live::LiveCapture::open(interface, filter)
        .with_context(|| format!("opening interface {interface}"))?;
    let mut run = build_run(ctx, options(ctx, BatchPolicy::LIVE, None), choice)?;
    run.register(Some(now()))?;
    tracing::info!(message = "Capturing.", interface = %interface);
    let mut failure: Option<otwatch_store::StoreError> = None;
    let mut last_write = std::time::Instant::now();
    {
        let run_cell = std::cell::RefCell::new(&mut run);
        let stop_each = Arc::clone(&stop);
        cap.run_with_idle(
            &stop,
            |p| {
                if failure.is_some() {
                    return;
                }
                if let Err(e) = run_cell.borrow_mut().packet(p) {
                    failure = Some(e);
                    stop_each.store(true, Ordering::SeqCst);
                }
            },
            || {
                if last_write.elapsed() >= std::time::Duration::from_secs(2) {
                    last_write = std::time::Instant::now();
                    let mut r = run_cell.borrow_mut();
                    let _ = r.flush_now();
                    for n in r.take_notices() {
                        tracing::warn!(message = "Detection notice.", notice = %n);
                    }
                }
            },
        )
        .with_context(|| format!("capturing on {interface}"))?;
    }
    if let Some(e) = failure {
        return Err(e.into());
    }
    tracing::info!(message = "Stopping: writing what is pending.");
    run.register(Some(now()))?;
    Ok(run.finish()?)
}

#[cfg(not(feature = "live"))]
fn live(
    _ctx: &Ctx,
    interface: &str,
    _filter: Option<&str>,
    _choice: &DetectChoice,
) -> Result<RunReport> {
    bail!(
        "live capture on {interface} needs otwatch built with the `live` feature \
         (apt-get install libpcap-dev; cargo build -p otwatch-cli --features live)"
    )
}

/// `otwatch pcap summary`.
pub fn pcap(cmd: &PcapCmd, out: &mut dyn Write) -> Result<bool> {
    let PcapCmd::Summary { files, format } = cmd;
    let opts = otwatch_sensor::SummaryOptions { progress: true, ..Default::default() };
    let (value, ok) = match otwatch_sensor::summarize(files, &opts) {
        Ok(v) => (v, true),
        Err(otwatch_sensor::SummaryError::Damaged { error, others, partial }) => {
            eprintln!("error: {error} (the summary covers the packets before the damage)");
            for o in others {
                eprintln!("error: {o}");
            }
            (*partial, false)
        }
        Err(e) => return Err(e.into()),
    };
    match format {
        SummaryFormat::Json => writeln!(out, "{}", serde_json::to_string_pretty(&value)?)?,
        SummaryFormat::Table => {
            let c = &value["capture"];
            writeln!(out, "packets: {}", c["packets"])?;
            writeln!(out, "first: {}  last: {}", c["first_ts"], c["last_ts"])?;
            if let Some(f) = value["protocols"]["ot_protocol_frames"].as_object() {
                for (k, v) in f {
                    if v.as_u64().unwrap_or(0) > 0 {
                        writeln!(out, "{k:>16}: {v}")?;
                    }
                }
            }
        }
    }
    Ok(ok)
}
