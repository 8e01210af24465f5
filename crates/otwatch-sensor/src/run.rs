//! The sensor run: packets through the observer, observations to the inventory and the detection hook, batches to the store.
//!
//! [`SensorRun`] is what `otwatch sensor` drives, for files and for live
//! capture alike: [`SensorRun::packet`] per packet, [`SensorRun::finish`] at
//! the end (or on shutdown). Every observation goes to the [`Inventory`] and
//! to the detection: either the sensor's [`DetectStage`] (the engines,
//! PCAP evidence, baseline and mode kept in the store; what `otwatch
//! sensor` uses) or a bare [`Detector`] whose detections are handed to the
//! caller's ingest function. Writes are
//! batched: a batch closes after [`BatchPolicy::max_packets`] packets or
//! [`BatchPolicy::max_packet_time_ns`] of packet time, whichever comes
//! first, and at the end.
//!
//! **Idempotence.** Devices (merged by identity), events (keyed) and
//! detections (keyed) can be written twice without effect. Connection
//! counts are added by the store, so for files each batch is keyed by the
//! input's identity and its frame range ([`RunOptions::input_key`]): the key
//! is stored as a `CAPTURE_BATCH` timeline event with the batch's
//! connections, and a batch whose key is already stored skips its counts.
//! Re-running the same files (same set, same order) therefore changes no
//! count; the key and the counts are written in one transaction
//! (`Store::upsert_connections_once`), so an interrupted run loses nothing
//! and doubles nothing. Live capture has no such key.

use otwatch_detect::observation::Observation;
use otwatch_detect::{Detector, NoEngines};
use otwatch_flow::FlowConfig;
use otwatch_model::{Detection, EventSeverity, NewEvent, Sensor, Timestamp};
use otwatch_store::{Store, StoreError};

use crate::detect::{DetectReport, DetectStage};
use crate::intake::Packet;
use crate::inventory::{Inventory, InventoryStats, Placement};
use crate::observe::{Observer, ObserverStats};

/// When a batch is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BatchPolicy {
    /// Packets per batch at most.
    pub max_packets: u64,
    /// Packet time per batch at most (nanoseconds).
    pub max_packet_time_ns: u64,
}

impl BatchPolicy {
    /// For capture files: large batches (few batch keys).
    pub const FILES: BatchPolicy =
        BatchPolicy { max_packets: 200_000, max_packet_time_ns: 300_000_000_000 };
    /// For live capture: small batches, written within seconds.
    pub const LIVE: BatchPolicy =
        BatchPolicy { max_packets: 20_000, max_packet_time_ns: 5_000_000_000 };
}

/// How to run.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// Sensor id, name, site, zone and OT subnets.
    pub placement: Placement,
    /// Display name of the sensor.
    pub sensor_name: String,
    /// Batching.
    pub batch: BatchPolicy,
    /// Identity of the input for batch keys (files only; see the module doc).
    pub input_key: Option<String>,
    /// Flow table limits.
    pub flow: FlowConfig,
}

/// What a run did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunReport {
    /// Packets processed.
    pub packets: u64,
    /// Bytes of packets processed (wire lengths).
    pub bytes: u64,
    /// Observations produced.
    pub observations: u64,
    /// Batches written.
    pub batches: u64,
    /// Batches whose connection counts were already stored (same input before).
    pub batches_already_stored: u64,
    /// Device observations written.
    pub device_writes: u64,
    /// Connection observations written.
    pub connection_writes: u64,
    /// Connections new in the store.
    pub new_connections: u64,
    /// Events stored (new keys).
    pub events: u64,
    /// Detections handed to ingest (the detection stage's findings, or the bare detector's detections).
    pub detections: u64,
    /// Inventory counters.
    pub inventory: InventoryStats,
    /// Observer counters.
    pub observer: ObserverStats,
    /// What the detection stage did (runs with a [`DetectStage`]).
    pub detect: Option<DetectReport>,
    /// Problems met along the way that did not stop the run (bad feed
    /// lines, rules that no longer validate…), at most [`MAX_NOTICES`].
    pub notices: Vec<String>,
}

/// Notices kept in a [`RunReport`] (later ones are dropped).
pub const MAX_NOTICES: usize = 200;

/// Where detections go (`Store::ingest` with the catalogue and the wall clock, in the CLI).
pub type IngestFn<'s> = Box<dyn FnMut(&[Detection]) -> Result<(), StoreError> + 's>;

/// One sensor run over a store. See the module documentation.
pub struct SensorRun<'s> {
    store: &'s dyn Store,
    observer: Observer,
    inventory: Inventory,
    detector: Box<dyn Detector + 's>,
    ingest: IngestFn<'s>,
    stage: Option<DetectStage<'s>>,
    opts: RunOptions,
    buf: Vec<Observation>,
    detections: Vec<Detection>,
    report: RunReport,
    batch_first_frame: u64,
    batch_first_ns: Option<u64>,
    batch_packets: u64,
    last_ns: u64,
    writes: bool,
}

impl std::fmt::Debug for SensorRun<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SensorRun").field("report", &self.report).finish()
    }
}

impl<'s> SensorRun<'s> {
    /// A run writing to `store`, with no detection engines.
    pub fn new(store: &'s dyn Store, opts: RunOptions) -> SensorRun<'s> {
        SensorRun::with_detector(store, opts, Box::new(NoEngines), Box::new(|_| Ok(())))
    }

    /// A run with detection engines (`detector`) whose detections go to `ingest`.
    pub fn with_detector(
        store: &'s dyn Store,
        opts: RunOptions,
        detector: Box<dyn Detector + 's>,
        ingest: IngestFn<'s>,
    ) -> SensorRun<'s> {
        SensorRun {
            store,
            observer: Observer::new(opts.flow),
            inventory: Inventory::new(opts.placement.clone()),
            detector,
            ingest,
            stage: None,
            opts,
            buf: Vec::with_capacity(256),
            detections: Vec::new(),
            report: RunReport::default(),
            batch_first_frame: 1,
            batch_first_ns: None,
            batch_packets: 0,
            last_ns: 0,
            writes: true,
        }
    }

    /// A run with the sensor's detection stage (engines, evidence, baseline
    /// and mode in the store): what `otwatch sensor` runs.
    pub fn with_detection(
        store: &'s dyn Store,
        opts: RunOptions,
        stage: DetectStage<'s>,
    ) -> SensorRun<'s> {
        let mut run = SensorRun::new(store, opts);
        run.stage = Some(stage);
        run
    }

    /// The detection stage, if the run has one.
    pub fn detect_stage(&self) -> Option<&DetectStage<'s>> {
        self.stage.as_ref()
    }

    /// Takes the notices gathered since the last call (live capture prints them as they come).
    pub fn take_notices(&mut self) -> Vec<String> {
        std::mem::take(&mut self.report.notices)
    }

    /// The same run with every store write left out: batches are still
    /// formed (inventory deltas, events, detections) and then dropped.
    /// For measuring the pipeline without the store (`cargo xtask bench`).
    pub fn without_writes(mut self) -> SensorRun<'s> {
        self.writes = false;
        self
    }

    /// Records the sensor itself in the store.
    pub fn register(&self, last_seen: Option<Timestamp>) -> Result<(), StoreError> {
        let p = &self.opts.placement;
        self.store.upsert_sensor(&Sensor {
            id: p.sensor.clone().unwrap_or_default(),
            name: self.opts.sensor_name.clone(),
            site: p.site.clone(),
            zone: p.zone.clone(),
            last_seen,
        })
    }

    /// One packet.
    pub fn packet(&mut self, pkt: &Packet<'_>) -> Result<(), StoreError> {
        let start = *self.batch_first_ns.get_or_insert(pkt.ts_ns);
        if self.batch_packets >= self.opts.batch.max_packets
            || pkt.ts_ns.saturating_sub(start) >= self.opts.batch.max_packet_time_ns
        {
            self.flush(false)?;
            self.batch_first_ns = Some(pkt.ts_ns);
        }
        self.buf.clear();
        self.observer.process(pkt, &mut self.buf);
        self.consume();
        if let Some(stage) = &mut self.stage {
            stage.packet(pkt, self.observer.frames(), &self.buf);
        }
        self.batch_packets += 1;
        self.last_ns = self.last_ns.max(pkt.ts_ns);
        Ok(())
    }

    fn consume(&mut self) {
        for o in &self.buf {
            self.inventory.observe(o);
            self.detector.observe(o, &mut self.detections);
            if let Some(stage) = &mut self.stage {
                stage.observe(o);
            }
        }
        self.report.observations += self.buf.len() as u64;
    }

    /// Writes what is pending now (live capture calls this on a quiet link).
    pub fn flush_now(&mut self) -> Result<(), StoreError> {
        self.flush(false)
    }

    fn flush(&mut self, final_flush: bool) -> Result<(), StoreError> {
        let frames = self.observer.frames();
        let last_frame = frames;
        let first_frame = self.batch_first_frame;
        self.detector.tick(Timestamp((self.last_ns / 1_000) as i64), &mut self.detections);
        if final_flush {
            self.detector.finish(&mut self.detections);
        }
        let batch = self.inventory.flush(final_flush);
        if batch.is_empty() && self.detections.is_empty() {
            self.flush_stage(final_flush)?;
            self.batch_first_frame = last_frame + 1;
            self.batch_packets = 0;
            return Ok(());
        }
        self.report.batches += 1;
        if !self.writes {
            self.flush_stage(final_flush)?;
            let ids: Vec<i64> = (1..=batch.device_handles.len() as i64).collect();
            self.inventory.set_device_ids(&batch.device_handles, &ids);
            self.report.device_writes += batch.devices.len() as u64;
            self.report.detections += self.detections.len() as u64;
            std::hint::black_box(self.inventory.resolve_events(batch.events));
            self.detections.clear();
            self.batch_first_frame = last_frame + 1;
            self.batch_packets = 0;
            return Ok(());
        }
        let ids = self.store.upsert_devices(&batch.devices)?;
        self.inventory.set_device_ids(&batch.device_handles, &ids);
        self.report.device_writes += batch.devices.len() as u64;
        if let Some(key) = &self.opts.input_key
            && !batch.connections.is_empty()
        {
            let at = Timestamp((self.last_ns / 1_000) as i64);
            let mut e =
                NewEvent::new(at, "CAPTURE_BATCH", EventSeverity::Info, "Capture Batch Recorded");
            e.key = Some(format!("batch:{key}:{first_frame}-{last_frame}"));
            e.description = format!(
                "Frames {first_frame}-{last_frame} of the input were written to the inventory."
            );
            e.sensor = self.opts.placement.sensor.clone();
            e.site = self.opts.placement.site.clone();
            e.zone = self.opts.placement.zone.clone();
            // The key and the counts in one transaction: never one without the other.
            match self.store.upsert_connections_once(&e, &batch.connections)? {
                Some(new) => {
                    self.report.new_connections += new;
                    self.report.connection_writes += batch.connections.len() as u64;
                }
                None => self.report.batches_already_stored += 1,
            }
        } else if !batch.connections.is_empty() {
            self.report.new_connections += self.store.upsert_connections(&batch.connections)?;
            self.report.connection_writes += batch.connections.len() as u64;
        }
        let events = self.inventory.resolve_events(batch.events);
        if !events.is_empty() {
            self.report.events += self.store.append_events(&events)?;
        }
        if !self.detections.is_empty() {
            (self.ingest)(&self.detections)?;
            self.report.detections += self.detections.len() as u64;
            self.detections.clear();
        }
        // Detection after the inventory, so alerts find their devices stored.
        self.flush_stage(final_flush)?;
        self.batch_first_frame = last_frame + 1;
        self.batch_packets = 0;
        Ok(())
    }

    fn flush_stage(&mut self, final_flush: bool) -> Result<(), StoreError> {
        let Some(stage) = &mut self.stage else { return Ok(()) };
        if self.writes {
            stage.flush(self.store, final_flush)?;
        } else {
            stage.discard(final_flush);
        }
        for n in stage.take_notices() {
            if self.report.notices.len() < MAX_NOTICES {
                self.report.notices.push(n.0);
            }
        }
        Ok(())
    }

    /// Ends the input: flushes flows, writes the last batch, returns the report.
    pub fn finish(mut self) -> Result<RunReport, StoreError> {
        self.buf.clear();
        self.observer.finish(&mut self.buf);
        self.consume();
        self.flush(true)?;
        let st = self.observer.stats();
        self.report.packets = st.frames;
        self.report.bytes = st.bytes;
        self.report.observer = st;
        self.report.inventory = self.inventory.stats();
        self.report.detect = self.stage.as_ref().map(|s| s.report().clone());
        if let Some(d) = &self.report.detect {
            self.report.detections += d.findings;
        }
        Ok(self.report)
    }
}

/// Why a run over files stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunError {
    /// A file could not be opened or is not a capture; nothing was processed.
    #[error(transparent)]
    Open(crate::intake::IntakeError),
    /// Reading a file to compute the input key failed.
    #[error("reading {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The error.
        source: std::io::Error,
    },
    /// The store refused a write.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Bytes hashed at the start of each file for the input key.
const KEY_HEAD_BYTES: u64 = 1 << 20;
/// Bytes hashed at the end of each file for the input key.
const KEY_TAIL_BYTES: u64 = 64 << 10;

/// A key for a list of capture files: their sizes, first MiB and last 64 KiB
/// (hashed), in order. The same files give the same key wherever they lie.
pub fn input_key(paths: &[std::path::PathBuf]) -> Result<String, RunError> {
    use sha2::{Digest, Sha256};
    use std::io::{Read, Seek, SeekFrom};
    let mut h = Sha256::new();
    for p in paths {
        let err = |source| RunError::Read { path: p.display().to_string(), source };
        let mut f = std::fs::File::open(p).map_err(err)?;
        let size = f.metadata().map_err(err)?.len();
        h.update(size.to_le_bytes());
        let mut buf = Vec::new();
        (&mut f).take(KEY_HEAD_BYTES).read_to_end(&mut buf).map_err(err)?;
        h.update(&buf);
        if size > KEY_HEAD_BYTES {
            f.seek(SeekFrom::Start(size.saturating_sub(KEY_TAIL_BYTES).max(KEY_HEAD_BYTES)))
                .map_err(err)?;
            buf.clear();
            f.read_to_end(&mut buf).map_err(err)?;
            h.update(&buf);
        }
    }
    let d = h.finalize();
    Ok(d.iter().take(12).map(|b| format!("{b:02x}")).collect())
}

/// Runs the sensor over capture files (merged in time order) into `run`.
/// Returns the report and the damage met in files (processed up to it).
pub fn run_files(
    mut run: SensorRun<'_>,
    paths: &[std::path::PathBuf],
    progress: bool,
) -> Result<(RunReport, Vec<crate::intake::IntakeError>), RunError> {
    let mut input = crate::intake::MergedCaptures::open(paths).map_err(RunError::Open)?;
    let bar = crate::summary::progress_bar(progress, input.total_size());
    let mut n = 0u64;
    while let Some(pkt) = input.next_packet() {
        run.packet(&pkt)?;
        n += 1;
        if n.is_multiple_of(4096)
            && let Some(b) = &bar
        {
            b.set_position(input.position());
        }
    }
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    let report = run.finish()?;
    Ok((report, input.take_errors()))
}
