//! Detection in the sensor: observations to the engines, findings to the
//! store with their PCAP evidence, the baseline and the mode kept in the store.
//!
//! [`DetectStage`] wraps [`otwatch_detect::Engines`] for a sensor run:
//! - every observation goes to the engines ([`DetectStage::observe`]);
//! - every packet goes to the evidence rings ([`DetectStage::packet`]),
//!   and findings reported for the first time open an evidence request
//!   (see [`evidence`]);
//! - [`DetectStage::flush`] (once per sensor batch, and at the end) moves
//!   packet time on in the engines, stores the detections
//!   (`Store::ingest`: idempotency, exclusion rules, de-duplication), gives
//!   each new alert its capture (`Store::put_alert_pcap`, then the PCAP
//!   retention limit), stores the engines' timeline events and the baseline
//!   facts learned, re-reads learned alerts (so Learn and Unlearn done in
//!   the console while the sensor runs take effect), and re-reads indicator
//!   feeds and custom rules whose files changed;
//! - the mode: an explicit `learning` or `operational`, or `auto`: a
//!   sensor learns for its learning period from the first packet it ever
//!   saw (recorded in the store as a baseline entry of kind
//!   [`MODE_KIND`]), then operates; the switch is recorded too, so the next
//!   run starts operational.
//!
//! This module reads files (feeds, rules) but no clock: wall time for the
//! store comes from the caller's `now` function.

pub mod evidence;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use otwatch_detect::indicators::Indicators;
use otwatch_detect::learn::facts_for_alert;
use otwatch_detect::observation::Observation;
use otwatch_detect::rules::{RuleErrors, RuleSet};
use otwatch_detect::{Engines, Fact, Finding, Mode, Settings};
use otwatch_model::{AlertId, BaselineEntry, Catalog, Cidr, Detection, NewEvent, Timestamp};
use otwatch_store::{DeviceQuery, IngestOptions, IngestReport, RetentionPolicy, Store, StoreError};

use crate::intake::Packet;
use evidence::{EvidenceBuffer, EvidenceConfig, RingKey, StoredPacket};

/// Baseline kind of the sensor's mode records (`<sensor>|learning_started`, `<sensor>|learning_ended`).
pub const MODE_KIND: &str = "sensor_mode";
/// Packet time between two ticks of the engines (µs).
pub const TICK_EVERY: i64 = 1_000_000;
/// Who is recorded as adding the sensor's own baseline entries.
const BY: &str = "sensor";

/// How the sensor chooses its mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModeChoice {
    /// Learn for `learning_period` (µs of packet time) from the first packet
    /// this sensor ever saw, then operate.
    Auto {
        /// Learning period, microseconds.
        learning_period: i64,
    },
    /// Learn.
    Learning,
    /// Operate.
    Operational,
}

/// Files the stage reads and re-reads when they change.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DetectFiles {
    /// Indicator feed files, or directories whose files are feeds.
    pub indicator_feeds: Vec<PathBuf>,
    /// The custom rules file.
    pub custom_rules: Option<PathBuf>,
}

/// How the stage runs.
#[derive(Clone, Debug)]
pub struct DetectOptions {
    /// Sensor id (for the mode records).
    pub sensor: String,
    /// Mode choice.
    pub mode: ModeChoice,
    /// Feeds and rules.
    pub files: DetectFiles,
    /// PCAP evidence sizes; `None` keeps no evidence.
    pub evidence: Option<EvidenceConfig>,
    /// Keep at most this many bytes of PCAP evidence in the store (applied after writing).
    pub pcap_max_bytes: Option<u64>,
    /// Auto-close period passed to ingest, microseconds.
    pub auto_close_after: i64,
    /// Detections per ingest call.
    pub ingest_batch: usize,
    /// Write the detections also here (JSON Lines), e.g. for comparing runs.
    pub detections_out: Option<PathBuf>,
}

/// A problem the stage met that did not stop it (a bad feed line, a rules
/// file that no longer validates, evidence that could not be kept).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notice(pub String);

/// What the stage did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DetectReport {
    /// Findings produced.
    pub findings: u64,
    /// Alerts opened.
    pub alerts_opened: u64,
    /// Sightings that updated open alerts.
    pub alerts_updated: u64,
    /// Sightings suppressed (learned, muted, excluded, already ingested).
    pub suppressed: u64,
    /// Alert captures stored.
    pub pcaps: u64,
    /// Bytes of alert captures stored.
    pub pcap_bytes: u64,
    /// Timeline events stored.
    pub events: u64,
    /// Baseline facts stored.
    pub baseline_added: u64,
    /// Mode at the end of the run.
    pub mode: Option<Mode>,
    /// When learning ended (packet time), if it did during this run.
    pub learning_ended_at: Option<Timestamp>,
    /// Findings by alert type.
    pub by_type: BTreeMap<String, u64>,
}

/// Why the stage could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DetectError {
    /// The custom rules file is invalid.
    #[error("{path}: {errors}")]
    Rules {
        /// The file.
        path: String,
        /// Every problem.
        errors: RuleErrors,
    },
    /// A file could not be read.
    #[error("reading {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The error.
        source: std::io::Error,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Modification stamps of watched files.
type Stamps = BTreeMap<PathBuf, (Option<SystemTime>, u64)>;

fn stamp(p: &Path) -> (Option<SystemTime>, u64) {
    match std::fs::metadata(p) {
        Ok(m) => (m.modified().ok(), m.len()),
        Err(_) => (None, 0),
    }
}

/// The feed files named by paths (directories expand to their regular files, sorted).
fn feed_files(paths: &[PathBuf]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut files: Vec<PathBuf> = std::fs::read_dir(p)
                .map(|rd| {
                    rd.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.is_file()).collect()
                })
                .unwrap_or_default();
            files.sort();
            out.extend(files);
        } else {
            out.push(p.clone());
        }
    }
    out
}

/// Loads indicator feeds; problems are returned as notices.
pub fn load_feeds(paths: &[PathBuf]) -> (Indicators, Vec<Notice>) {
    let mut ind = Indicators::new();
    let mut notices = Vec::new();
    for f in feed_files(paths) {
        match std::fs::read(&f) {
            Ok(bytes) => {
                let text = String::from_utf8_lossy(&bytes);
                let name = f
                    .file_name()
                    .map_or_else(|| f.display().to_string(), |n| n.to_string_lossy().into_owned());
                for p in ind.add_feed(&name, &text) {
                    notices.push(Notice(format!("indicator feed {}: {p}", f.display())));
                }
            }
            Err(e) => notices.push(Notice(format!("indicator feed {}: {e}", f.display()))),
        }
    }
    (ind, notices)
}

/// Loads and validates a custom rules file.
pub fn load_rules(path: &Path) -> Result<RuleSet, DetectError> {
    let text = std::fs::read_to_string(path)
        .map_err(|source| DetectError::Read { path: path.display().to_string(), source })?;
    RuleSet::parse(&text)
        .map_err(|errors| DetectError::Rules { path: path.display().to_string(), errors })
}

/// The engines, the evidence rings and their link to the store.
pub struct DetectStage<'s> {
    engines: Engines,
    catalog: &'static Catalog,
    evidence: Option<EvidenceBuffer>,
    opts: DetectOptions,
    now: Box<dyn Fn() -> Timestamp + 's>,
    /// Findings not stored yet.
    findings: Vec<Finding>,
    /// Timeline events not stored yet.
    pending_events: Vec<NewEvent>,
    /// First findings of the packet being processed: evidence to open once the packet is recorded.
    fresh: Vec<(String, Vec<u64>)>,
    /// Fingerprints whose evidence request waits for the ingest that tells their alert id.
    awaiting_ids: BTreeSet<String>,
    learned: BTreeMap<String, Vec<Fact>>,
    stamps: Stamps,
    learning_until: Option<Timestamp>,
    learning_recorded: bool,
    last_tick: Timestamp,
    notices: Vec<Notice>,
    report: DetectReport,
    out: Option<std::io::BufWriter<std::fs::File>>,
}

impl std::fmt::Debug for DetectStage<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DetectStage").field("report", &self.report).finish_non_exhaustive()
    }
}

impl<'s> DetectStage<'s> {
    /// Builds the stage: loads the baseline and learned alerts from the
    /// store, the devices flagged as programming devices or scanners, the
    /// feeds and the rules; decides the mode. `now` gives wall time for the store.
    pub fn new(
        mut settings: Settings,
        catalog: &'static Catalog,
        store: &dyn Store,
        opts: DetectOptions,
        now: Box<dyn Fn() -> Timestamp + 's>,
    ) -> Result<DetectStage<'s>, DetectError> {
        // Devices flagged in the inventory.
        let (programmers, scanners) = flagged_devices(store)?;
        settings.programming_devices.extend(programmers);
        settings.scanners.extend(scanners);
        // Mode.
        let entries = store.baseline(Some(MODE_KIND))?;
        let started = entries.iter().find(|e| e.key == format!("{}|learning_started", opts.sensor));
        let ended = entries.iter().any(|e| e.key == format!("{}|learning_ended", opts.sensor));
        let (mode, learning_until, learning_recorded) = match opts.mode {
            ModeChoice::Learning => (Mode::Learning, None, true),
            ModeChoice::Operational => (Mode::Operational, None, true),
            ModeChoice::Auto { learning_period } => match (ended, started) {
                (true, _) => (Mode::Operational, None, true),
                (false, Some(s)) => {
                    (Mode::Learning, Some(s.created_at.plus_micros(learning_period)), true)
                }
                (false, None) => (Mode::Learning, None, false),
            },
        };
        settings.mode = mode;
        let mut engines = Engines::new(settings, catalog);
        let mut all = Vec::new();
        for e in store.baseline(None)? {
            if e.kind != MODE_KIND {
                all.push(e);
            }
        }
        engines.load_baseline(&all);
        let mut stage = DetectStage {
            engines,
            catalog,
            evidence: opts.evidence.map(EvidenceBuffer::new),
            now,
            findings: Vec::new(),
            pending_events: Vec::new(),
            fresh: Vec::new(),
            awaiting_ids: BTreeSet::new(),
            learned: BTreeMap::new(),
            stamps: Stamps::new(),
            learning_until,
            learning_recorded,
            last_tick: Timestamp(i64::MIN),
            notices: Vec::new(),
            report: DetectReport { mode: Some(mode), ..DetectReport::default() },
            out: None,
            opts,
        };
        stage.reload_learned(store)?;
        if let Some(path) = stage.opts.files.custom_rules.clone() {
            let rules = load_rules(&path)?;
            stage.stamps.insert(path.clone(), stamp(&path));
            stage.engines.set_rules(rules);
        }
        if !stage.opts.files.indicator_feeds.is_empty() {
            stage.reload_feeds(true);
        }
        if let Some(p) = &stage.opts.detections_out {
            let f = std::fs::File::create(p)
                .map_err(|source| DetectError::Read { path: p.display().to_string(), source })?;
            stage.out = Some(std::io::BufWriter::new(f));
        }
        Ok(stage)
    }

    /// The engines (for statistics and tests).
    pub fn engines(&self) -> &Engines {
        &self.engines
    }

    /// The mode now.
    pub fn mode(&self) -> Mode {
        self.engines.settings().mode
    }

    /// Problems met so far (moved out).
    pub fn take_notices(&mut self) -> Vec<Notice> {
        std::mem::take(&mut self.notices)
    }

    /// One observation.
    pub fn observe(&mut self, obs: &Observation) {
        self.auto_mode(obs.time);
        self.engines.observe(obs);
        // Packet time moves the engines' windows on every second.
        if obs.time.0.saturating_sub(self.last_tick.0) >= TICK_EVERY {
            self.engines.tick(obs.time);
            self.last_tick = obs.time;
        }
        self.collect();
    }

    fn auto_mode(&mut self, t: Timestamp) {
        let ModeChoice::Auto { learning_period } = self.opts.mode else { return };
        if self.engines.settings().mode != Mode::Learning {
            return;
        }
        if self.learning_until.is_none() {
            self.learning_until = Some(t.plus_micros(learning_period));
        }
        if let Some(until) = self.learning_until
            && t >= until
        {
            self.engines.set_mode(Mode::Operational);
            self.report.mode = Some(Mode::Operational);
            self.report.learning_ended_at = Some(t);
        }
    }

    fn collect(&mut self) {
        let out = self.engines.take_output();
        for f in &out.findings {
            if f.first && self.evidence.is_some() && !f.evidence.frames.is_empty() {
                self.fresh.push((f.fingerprint.clone(), f.evidence.frames.clone()));
            }
        }
        self.report.findings += out.findings.len() as u64;
        self.findings.extend(out.findings);
        self.pending_events.extend(out.events);
    }

    /// One packet, after its observations were given to [`DetectStage::observe`]:
    /// records it in its flow's ring and opens the evidence of findings it triggered.
    pub fn packet(&mut self, pkt: &Packet<'_>, frame: u64, observations: &[Observation]) {
        let Some(ev) = &mut self.evidence else { return };
        let key = observations
            .iter()
            .filter(|o| o.frame == frame)
            .find_map(|o| o.flow.map(RingKey::Flow))
            .or_else(|| {
                observations.iter().filter(|o| o.frame == frame).find_map(|o| {
                    o.src.ip.map(RingKey::Ip).or(o.src.mac.map(|m| RingKey::Mac(m.0)))
                })
            })
            .unwrap_or(RingKey::Other);
        ev.record(
            key,
            StoredPacket {
                frame,
                ts_ns: pkt.ts_ns,
                orig_len: pkt.orig_len,
                link_type: pkt.link_type.0,
                data: pkt.data.into(),
            },
        );
        for (fp, frames) in self.fresh.drain(..) {
            ev.request(&fp, &frames, pkt.ts_ns);
            self.awaiting_ids.insert(fp);
        }
    }

    /// Stores what is pending: detections (and their evidence), events,
    /// learned baseline facts; re-reads learned alerts and changed files.
    /// `final_flush` ends the input: everything pending is reported.
    pub fn flush(&mut self, store: &dyn Store, final_flush: bool) -> Result<(), StoreError> {
        let now_packet = self.engines.now();
        if now_packet.0 != i64::MIN {
            self.engines.tick(now_packet);
        }
        if final_flush {
            self.engines.finish();
        }
        self.collect();
        if !self.fresh.is_empty() {
            // Findings raised outside any packet (end of input, ticks): evidence from the rings.
            if let Some(ev) = &mut self.evidence {
                for (fp, frames) in self.fresh.drain(..) {
                    ev.request(&fp, &frames, u64::try_from(now_packet.0).unwrap_or(0) * 1000);
                    self.awaiting_ids.insert(fp);
                }
            }
        }
        // Mode records.
        if !self.learning_recorded
            && let ModeChoice::Auto { learning_period } = self.opts.mode
            && let Some(until) = self.learning_until
        {
            let start = until.plus_micros(-learning_period);
            self.add_mode_entry(store, "learning_started", start)?;
            self.learning_recorded = true;
        }
        if let Some(at) = self.report.learning_ended_at.take() {
            self.add_mode_entry(store, "learning_ended", at)?;
            self.report.learning_ended_at = Some(at);
        }
        // Baseline facts first, so learned traffic is never raised twice.
        let entries = self.engines.take_baseline_entries();
        if !entries.is_empty() {
            self.report.baseline_added += store.add_baseline(&entries)?;
        }
        self.store_findings(store)?;
        let events = std::mem::take(&mut self.pending_events);
        if !events.is_empty() {
            self.report.events += store.append_events(&events)?;
        }
        self.store_evidence(store, final_flush)?;
        if !final_flush {
            self.reload_learned(store)?;
            self.reload_changed_files();
        }
        if let Some(w) = &mut self.out {
            use std::io::Write;
            let _ = w.flush();
        }
        Ok(())
    }

    /// [`DetectStage::flush`] without the store: the engines move on and
    /// what they produced is counted and dropped (for measuring the
    /// pipeline without store writes).
    pub fn discard(&mut self, final_flush: bool) {
        let now_packet = self.engines.now();
        if now_packet.0 != i64::MIN {
            self.engines.tick(now_packet);
        }
        if final_flush {
            self.engines.finish();
        }
        self.collect();
        for f in self.findings.drain(..) {
            *self.report.by_type.entry(f.detection.alert_type).or_default() += 1;
        }
        self.pending_events.clear();
        self.fresh.clear();
        drop(self.engines.take_baseline_entries());
    }

    fn add_mode_entry(
        &self,
        store: &dyn Store,
        what: &str,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        let mut detail = BTreeMap::new();
        detail.insert("sensor".to_string(), self.opts.sensor.clone());
        store.add_baseline(&[BaselineEntry {
            kind: MODE_KIND.to_string(),
            key: format!("{}|{what}", self.opts.sensor),
            detail,
            source_alert: None,
            created_at: at,
            created_by: BY.to_string(),
        }])?;
        Ok(())
    }

    fn store_findings(&mut self, store: &dyn Store) -> Result<(), StoreError> {
        if self.findings.is_empty() {
            return Ok(());
        }
        let findings = std::mem::take(&mut self.findings);
        let dets: Vec<Detection> = findings.iter().map(|f| f.detection.clone()).collect();
        for f in &findings {
            *self.report.by_type.entry(f.detection.alert_type.clone()).or_default() += 1;
        }
        if let Some(w) = &mut self.out {
            use std::io::Write;
            for d in &dets {
                if let Ok(line) = serde_json::to_string(d) {
                    let _ = writeln!(w, "{line}");
                }
            }
        }
        let opts = IngestOptions {
            catalog: self.catalog,
            now: (self.now)(),
            auto_close_after: self.opts.auto_close_after,
        };
        let mut report = IngestReport::default();
        for (i, chunk) in dets.chunks(self.opts.ingest_batch.max(1)).enumerate() {
            report.merge(store.ingest(chunk, &opts)?, i * self.opts.ingest_batch.max(1));
        }
        for (i, why) in &report.rejected {
            self.notices.push(Notice(format!(
                "detection of {} rejected by the store: {why}",
                dets.get(*i).map_or("?", |d| d.alert_type.as_str())
            )));
        }
        self.report.alerts_opened += report.opened;
        self.report.alerts_updated += report.updated;
        self.report.suppressed += report.duplicates
            + report.excluded
            + report.suppressed_learned
            + report.suppressed_muted;
        // Which fingerprints opened alerts: give their evidence the alert id.
        if let Some(ev) = &mut self.evidence {
            for id in &report.new_alert_ids {
                let a = store.alert(*id)?;
                if ev.assign(&a.fingerprint, id.0) {
                    self.awaiting_ids.remove(&a.fingerprint);
                }
            }
            // Findings of this batch that opened no alert keep no evidence.
            let batch: BTreeSet<&str> = findings.iter().map(|f| f.fingerprint.as_str()).collect();
            let orphans: Vec<String> = self
                .awaiting_ids
                .iter()
                .filter(|fp| batch.contains(fp.as_str()))
                .cloned()
                .collect();
            for fp in orphans {
                ev.discard(&fp);
                self.awaiting_ids.remove(&fp);
            }
        }
        Ok(())
    }

    fn store_evidence(&mut self, store: &dyn Store, final_flush: bool) -> Result<(), StoreError> {
        let Some(ev) = &mut self.evidence else { return Ok(()) };
        let now_ns = u64::try_from(self.engines.now().0).unwrap_or(0).saturating_mul(1000);
        ev.tick(now_ns);
        if final_flush {
            for fp in std::mem::take(&mut self.awaiting_ids) {
                ev.discard(&fp);
            }
        }
        let ready = ev.take_ready(final_flush);
        if ready.is_empty() {
            return Ok(());
        }
        for (id, pcap) in &ready {
            store.put_alert_pcap(AlertId(*id), pcap)?;
            self.report.pcaps += 1;
            self.report.pcap_bytes += pcap.len() as u64;
        }
        if let Some(max) = self.opts.pcap_max_bytes {
            let policy =
                RetentionPolicy { pcap_max_bytes: Some(max), ..RetentionPolicy::default() };
            store.apply_retention(&policy, (self.now)())?;
        }
        Ok(())
    }

    /// Re-reads the learned alerts: their fingerprints, and the facts they stand for.
    fn reload_learned(&mut self, store: &dyn Store) -> Result<(), StoreError> {
        let entries = store.baseline(Some(otwatch_model::baseline::ALERT_KIND))?;
        let fingerprints: BTreeSet<String> = entries.iter().map(|e| e.key.clone()).collect();
        let known: BTreeSet<String> = self.learned.keys().cloned().collect();
        if fingerprints == known {
            return Ok(());
        }
        self.learned.retain(|fp, _| fingerprints.contains(fp));
        for e in &entries {
            if self.learned.contains_key(&e.key) {
                continue;
            }
            let facts = match e.source_alert {
                Some(id) => match store.alert(id) {
                    Ok(a) => facts_for_alert(
                        &a.alert_type,
                        &a.source,
                        &a.destination,
                        a.protocol.as_deref(),
                        &a.details,
                    ),
                    Err(StoreError::NotFound { .. }) => Vec::new(),
                    Err(e) => return Err(e),
                },
                None => Vec::new(),
            };
            self.learned.insert(e.key.clone(), facts);
        }
        let facts: Vec<Fact> = self.learned.values().flatten().cloned().collect();
        self.engines.set_learned_alerts(fingerprints, &facts);
        Ok(())
    }

    fn reload_feeds(&mut self, first: bool) {
        let files = feed_files(&self.opts.files.indicator_feeds);
        let changed = first
            || files.len() != self.stamps.keys().filter(|k| files.contains(k)).count()
            || files.iter().any(|f| self.stamps.get(f) != Some(&stamp(f)));
        if !changed {
            return;
        }
        for f in &files {
            self.stamps.insert(f.clone(), stamp(f));
        }
        let (ind, notices) = load_feeds(&self.opts.files.indicator_feeds);
        if !first {
            self.notices.push(Notice(format!(
                "indicator feeds reloaded: {} indicators",
                ind.counts().total()
            )));
        }
        self.notices.extend(notices);
        self.engines.set_indicators(ind);
    }

    fn reload_changed_files(&mut self) {
        if !self.opts.files.indicator_feeds.is_empty() {
            self.reload_feeds(false);
        }
        if let Some(path) = self.opts.files.custom_rules.clone() {
            let now = stamp(&path);
            if self.stamps.get(&path) != Some(&now) {
                self.stamps.insert(path.clone(), now);
                match load_rules(&path) {
                    Ok(r) => {
                        self.notices.push(Notice(format!(
                            "custom rules reloaded from {}: {} rules",
                            path.display(),
                            r.rules().len()
                        )));
                        self.engines.set_rules(r);
                    }
                    Err(e) => {
                        self.notices.push(Notice(format!("{e}; the previous rules stay in force")))
                    }
                }
            }
        }
    }

    /// What the stage did so far.
    pub fn report(&self) -> &DetectReport {
        &self.report
    }
}

/// Devices flagged in the inventory as programming devices and as scanners, as host networks.
fn flagged_devices(store: &dyn Store) -> Result<(Vec<Cidr>, Vec<Cidr>), StoreError> {
    let mut programmers = Vec::new();
    let mut scanners = Vec::new();
    let page = 1000;
    let mut offset = 0;
    loop {
        let q = DeviceQuery { limit: page, offset, ..DeviceQuery::default() };
        let devices = store.list_devices(&q)?;
        for d in &devices {
            let Some(ip) = d.ip.as_deref().and_then(|ip| Cidr::parse(ip).ok()) else { continue };
            if d.programming_device {
                programmers.push(ip);
            }
            if d.scanner {
                scanners.push(ip);
            }
        }
        if devices.len() < page {
            break;
        }
        offset += page;
    }
    Ok((programmers, scanners))
}
