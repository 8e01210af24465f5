//! otwatch's plant simulator: writes a pcap or pcapng capture of a simulated industrial plant,
//! deterministically from a seed, with scripted attack scenarios on top, and returns a
//! manifest of exactly what it wrote.
//!
//! The plant ([`Plant`]) is a few sites of PLCs and RTUs speaking Modbus/TCP, S7comm,
//! EtherNet/IP with CIP, DNP3, IEC 60870-5-104 and BACnet/IP, polled by HMIs and SCADA
//! servers, visited by an engineering workstation, next to ordinary IT traffic (ARP, DHCP,
//! DNS, HTTP). Every byte is built here from the public protocol specifications; nothing
//! is taken from otwatch's own dissectors, and tshark is the independent judge (see the
//! crate's tests and `docs/simulator.md`).
//!
//! How it runs: *actors* (one per polling relationship or host behaviour) run in time
//! order from a priority queue and emit frames into a small reordering queue; frames are
//! written as soon as no actor can emit an earlier one. Memory therefore stays flat
//! whatever the capture size. Each actor has its own random stream derived from the seed
//! and a stable label, ties are broken by actor rank, and there is no clock or thread:
//! the same [`Options`] give a byte-identical file.

pub mod actors;
pub mod emit;
pub mod plant;
pub mod proto;
pub mod rng;
pub mod scenario;
pub mod sim;
pub mod tally;
pub mod tcp;
pub mod time;
pub mod wire;
pub mod writer;

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io::Write;

use serde::Serialize;

pub use plant::{Device, Plant, Role};
pub use scenario::{ExpectedAlert, Scenario, ScenarioRun};
pub use writer::Format;

use emit::{BACKDATE, Emitter};
use sim::{Cx, World};
use time::{Civil, SEC};

/// Why a simulation could not run.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// Writing the capture failed.
    #[error("writing the capture: {0}")]
    Io(#[from] std::io::Error),
    /// The pcap library refused something.
    #[error("writing the capture: {0}")]
    Pcap(String),
    /// The options do not make sense; the message says what would.
    #[error("{0}")]
    Options(String),
}

impl SimError {
    fn pcap(e: pcap_file::PcapError) -> SimError {
        SimError::Pcap(e.to_string())
    }
}

/// The default capture start: 2024-06-03T06:00:00Z, a Monday morning shift change.
pub const DEFAULT_START_US: u64 = 1_717_394_400 * SEC;
/// Default number of field devices.
pub const DEFAULT_DEVICES: u32 = 24;
/// Default duration when neither a duration nor a size is given.
pub const DEFAULT_DURATION_US: u64 = 10 * 60 * SEC;

/// What to simulate.
#[derive(Clone, Debug, Serialize)]
pub struct Options {
    /// Seed of every random choice.
    pub seed: u64,
    /// Capture start, microseconds since the epoch (UTC).
    pub start_us: u64,
    /// Capture length in microseconds; `None` means until `size_limit`.
    pub duration_us: Option<u64>,
    /// Number of field devices (PLCs, RTUs, controllers); sites and zones scale with it.
    pub devices: u32,
    /// Stop once the file reaches this many bytes.
    pub size_limit: Option<u64>,
    /// Scenarios to add, each at its offset from the start.
    pub scenarios: Vec<ScenarioRun>,
    /// Output format.
    pub format: Format,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            seed: 1,
            start_us: DEFAULT_START_US,
            duration_us: Some(DEFAULT_DURATION_US),
            devices: DEFAULT_DEVICES,
            size_limit: None,
            scenarios: Vec::new(),
            format: Format::Pcap,
        }
    }
}

/// A device in the manifest.
#[derive(Clone, Debug, Serialize)]
pub struct ManifestDevice {
    /// The device.
    #[serde(flatten)]
    pub device: Device,
    /// Zone name.
    pub zone_name: String,
    /// Site name.
    pub site_name: String,
    /// Only present because a scenario added it.
    pub added_by_scenario: Option<String>,
}

/// One scenario as run, with the alerts it must raise.
#[derive(Clone, Debug, Serialize)]
pub struct ManifestScenario {
    /// Name.
    pub name: String,
    /// Offset from the capture start, seconds.
    pub offset_s: f64,
    /// What it does.
    pub description: String,
    /// Alerts it must raise with the catalogue defaults (exactly these, no others).
    pub expected_alerts: Vec<ExpectedAlert>,
    /// Alerts of types that are off by default, raised when they are enabled.
    pub expected_if_enabled: Vec<ExpectedAlert>,
    /// Whether it changes plant traffic (not only adds packets).
    pub intrusive: bool,
    /// Expert-info messages tshark reports because of this scenario, by design.
    pub expected_expert: Vec<String>,
}

/// What a run wrote.
#[derive(Clone, Debug, Serialize)]
pub struct Manifest {
    /// The generator and its version.
    pub generator: String,
    /// The options used.
    pub options: Options,
    /// File format.
    pub format: Format,
    /// Frames written.
    pub packets: u64,
    /// Size of the file in bytes.
    pub file_bytes: u64,
    /// Sum of frame lengths.
    pub wire_bytes: u64,
    /// Frames written malformed on purpose (by the `malformed` scenario).
    pub malformed_frames: u64,
    /// First frame time (RFC 3339).
    pub first_ts: Option<String>,
    /// Last frame time (RFC 3339).
    pub last_ts: Option<String>,
    /// Simulated seconds covered.
    pub duration_s: f64,
    /// Whether the size limit ended the run.
    pub stopped_by_size: bool,
    /// Sites, zones and devices.
    pub zones: Vec<plant::Zone>,
    /// Devices (including those only scenarios add).
    pub devices: Vec<ManifestDevice>,
    /// Scenarios.
    pub scenarios: Vec<ManifestScenario>,
    /// Known-bad IP addresses for the indicator feed (one per line in the feed file).
    pub indicator_feed: Vec<String>,
    /// Counts in the shape of `pcap-truth.sh`'s JSON (subset), for comparison with tshark.
    pub truth: serde_json::Value,
}

impl Manifest {
    /// The indicator feed file's text: one IP per line.
    pub fn feed_text(&self) -> String {
        self.indicator_feed.iter().map(|ip| format!("{ip}\n")).collect()
    }
}

/// Runs the simulation and writes the capture to `out`. Returns the manifest and the writer.
pub fn generate<W: Write>(opts: &Options, out: W) -> Result<(Manifest, W), SimError> {
    if opts.duration_us.is_none() && opts.size_limit.is_none() {
        return Err(SimError::Options("give a duration or a size limit".into()));
    }
    if opts.devices == 0 || opts.devices > plant::MAX_DEVICES {
        return Err(SimError::Options(format!(
            "--devices must be between 1 and {} (got {})",
            plant::MAX_DEVICES,
            opts.devices
        )));
    }
    let end = opts.duration_us.map(|d| opts.start_us + d).unwrap_or(u64::MAX);
    let mut plant = Plant::build(opts.seed, opts.devices);
    let mut pa = actors::plant_actors(&plant, opts.seed);
    let n_plant = pa.list.len();
    let installed = scenario::install(&mut plant, opts, &pa)?;
    let mut world = World::new(&plant);
    for setup in &installed.setups {
        setup(&plant, &mut world);
    }
    let mut list = std::mem::take(&mut pa.list);
    list.extend(installed.spawns);
    let mut actors: Vec<Box<dyn sim::Actor>> = Vec::with_capacity(list.len());
    let mut queue: BinaryHeap<Reverse<(u64, u32)>> = BinaryHeap::new();
    for (i, s) in list.into_iter().enumerate() {
        queue.push(Reverse((opts.start_us + s.first, i as u32)));
        actors.push(s.actor);
    }
    let mut em = Emitter::default();
    let mut w = writer::CaptureWriter::new(out, opts.format)?;
    let mut tally = tally::Tally::default();
    let mut stopped_by_size = false;
    let limit = opts.size_limit.unwrap_or(u64::MAX);
    'run: while let Some(Reverse((t, a))) = queue.pop() {
        if t >= end {
            break;
        }
        while let Some(f) = em.pop_before(t.saturating_sub(BACKDATE)) {
            if f.ts < opts.start_us {
                continue;
            }
            w.write(f.ts, &f.data)?;
            tally.add(&f);
            if w.written() >= limit {
                stopped_by_size = true;
                break 'run;
            }
        }
        em.set_actor(a, t);
        let mut cx = Cx {
            plant: &plant,
            world: &mut world,
            em: &mut em,
            actor: a,
            plant_actor: (a as usize) < n_plant,
        };
        if let Some(next) = actors[a as usize].fire(t, &mut cx) {
            queue.push(Reverse((next.max(t + 1), a)));
        }
    }
    if !stopped_by_size {
        while let Some(f) = em.pop_before(end) {
            if f.ts < opts.start_us {
                continue;
            }
            w.write(f.ts, &f.data)?;
            tally.add(&f);
            if w.written() >= limit {
                stopped_by_size = true;
                break;
            }
        }
    }
    let file_bytes = w.written();
    let out = w.finish()?;
    let devices = plant
        .devices
        .iter()
        .map(|d| ManifestDevice {
            device: d.clone(),
            zone_name: plant.zones[d.zone].name.clone(),
            site_name: plant.zones[d.zone].site_name.clone(),
            added_by_scenario: installed.added.get(&d.id).cloned(),
        })
        .collect();
    let first = tally.first_ts;
    let manifest = Manifest {
        generator: format!("otwatch-sim {}", env!("CARGO_PKG_VERSION")),
        options: opts.clone(),
        format: opts.format,
        packets: tally.packets,
        file_bytes,
        wire_bytes: tally.wire_bytes,
        malformed_frames: tally.malformed,
        first_ts: first.map(|t| Civil::from_micros(t).rfc3339()),
        last_ts: first.map(|_| Civil::from_micros(tally.last_ts).rfc3339()),
        duration_s: first.map_or(0.0, |f| (tally.last_ts - f) as f64 / SEC as f64),
        stopped_by_size,
        zones: plant.zones.clone(),
        devices,
        scenarios: installed.manifest,
        indicator_feed: installed.feed,
        truth: tally.to_json(),
    };
    Ok((manifest, out))
}

/// The device count whose plant averages about `pps` packets per simulated second
/// (calibrated by simulating five minutes of a 24-device plant, so it is deterministic).
pub fn devices_for_rate(seed: u64, pps: f64) -> u32 {
    let probe = Options {
        seed,
        duration_us: Some(300 * SEC),
        devices: DEFAULT_DEVICES,
        ..Options::default()
    };
    let per_device = match generate(&probe, std::io::sink()) {
        Ok((m, _)) if m.packets > 0 => m.packets as f64 / 300.0 / f64::from(DEFAULT_DEVICES),
        _ => 5.0,
    };
    ((pps / per_device).ceil() as u32).clamp(1, plant::MAX_DEVICES)
}
