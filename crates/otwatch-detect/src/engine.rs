//! The detector: the five engines and the custom rules over one stream of
//! observations, with the baseline, the reporter and the outputs they share.
//!
//! [`Engines`] is what the sensor drives: [`Engines::observe`] for every
//! observation in packet-time order, [`Engines::tick`] when packet time
//! moves on, [`Engines::finish`] at the end. Findings (detections with their
//! evidence frames) and timeline events come out in an [`Output`]; new
//! baseline facts learned in learning mode come out of
//! [`Engines::take_baseline_entries`]. Nothing here reads a clock or does
//! I/O: the same observations, settings and baseline give the same output.
//!
//! Each engine is a module with a state struct and an `observe` function
//! taking the observation and a [`Ctx`]: the settings, the baseline, the
//! reporter and the output. Engines switched off are never called; alert
//! types switched off are dropped in [`Ctx::raise`].

use std::collections::BTreeMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::net::IpAddr;

use otwatch_model::{BaselineEntry, Catalog, Detection, Endpoint, Engine, NewEvent, Timestamp};

use crate::anomaly::Anomaly;
use crate::baseline::{Baseline, Fact};
use crate::custom::Custom;
use crate::indicators::Indicators;
use crate::malware::Malware;
use crate::observation::{Address, Direction, Kind, MacAddr, Observation, Protocol, Role};
use crate::operational::Operational;
use crate::policy::Policy;
use crate::protocol::ProtocolViolation;
use crate::report::{Finding, ReportStats, Reporter};
use crate::rules::RuleSet;
use crate::settings::{Mode, Settings};

/// The alert type custom rules raise.
pub const CUSTOM_TYPE: &str = "custom_user_defined_rule";

/// What the engines produced.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Output {
    /// Detections with their evidence, in the order they were reported.
    pub findings: Vec<Finding>,
    /// Timeline events (scans seen, devices back to normal, custom-rule events).
    pub events: Vec<NewEvent>,
}

impl Output {
    /// Whether nothing was produced.
    pub fn is_empty(&self) -> bool {
        self.findings.is_empty() && self.events.is_empty()
    }

    /// Moves everything out.
    pub fn take(&mut self) -> Output {
        std::mem::take(self)
    }
}

/// Counters of the detector, with the limits that were hit.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Observations seen.
    pub observations: u64,
    /// The reporter's counters.
    pub report: ReportStats,
    /// Baseline facts held.
    pub baseline_facts: usize,
    /// Baseline facts not learned because a limit was reached.
    pub baseline_limit_hits: u64,
    /// Named state tables and how many keys each evicted because it was full.
    pub evicted: BTreeMap<&'static str, u64>,
}

/// What every engine is given for one observation.
pub(crate) struct Ctx<'a> {
    pub settings: &'a Settings,
    pub catalog: &'a Catalog,
    pub baseline: &'a mut Baseline,
    pub reporter: &'a mut Reporter,
    pub indicators: &'a Indicators,
    pub rules: &'a RuleSet,
    pub out: &'a mut Output,
}

impl Ctx<'_> {
    /// Whether the type is switched on (and its engine), and not held back:
    /// in learning mode Policy Violation alerts are not raised. Custom rules,
    /// which the user wrote on purpose, run in both modes whatever the
    /// engine switches.
    pub fn on(&self, ty: &str) -> bool {
        if ty == CUSTOM_TYPE {
            // Custom rules run whatever the engine switches and the mode.
            return self.settings.types.is_on(ty);
        }
        self.settings.types.is_on(ty)
            && self.catalog.get(ty).is_none_or(|t| {
                self.settings.engine_on(t.engine)
                    && !(t.engine == Engine::PolicyViolation
                        && self.settings.mode == Mode::Learning)
            })
    }

    /// Learning or operational.
    pub fn mode(&self) -> Mode {
        self.settings.mode
    }

    /// A detection of `ty` at `time` between two sides, with sensor, site and zone filled.
    pub fn detection(
        &self,
        ty: &str,
        time: Timestamp,
        source: &Address,
        destination: &Address,
        protocol: Option<&str>,
    ) -> Detection {
        let mut d = Detection::new(ty, time);
        d.source = endpoint(source);
        d.destination = endpoint(destination);
        d.protocol = protocol.map(str::to_string);
        d.sensor = self.settings.sensor.clone();
        d.site = self.settings.site.clone();
        d.zone = self.settings.zone.clone();
        d
    }

    /// Raises one sighting: `key` identifies the traffic cheaply (see
    /// [`key`]), `make` builds the detection when it must be reported.
    pub fn raise(
        &mut self,
        ty: &'static str,
        key: u64,
        time: Timestamp,
        frames: &[u64],
        make: impl FnOnce(&Ctx<'_>) -> Detection,
    ) {
        if !self.on(ty) {
            return;
        }
        // The reporter and the findings are taken out for the call, so the
        // closure can read the rest of the context.
        let mut findings = std::mem::take(&mut self.out.findings);
        let mut reporter = std::mem::replace(self.reporter, Reporter::new(1, 1, 1));
        {
            let this: &Ctx<'_> = self;
            reporter.raise(
                key ^ hash_one(ty),
                time,
                frames,
                || make(this),
                this.baseline,
                &mut findings,
            );
        }
        *self.reporter = reporter;
        self.out.findings = findings;
    }

    /// Adds a timeline event.
    pub fn event(&mut self, mut e: NewEvent) {
        e.sensor = e.sensor.or_else(|| self.settings.sensor.clone());
        e.site = e.site.or_else(|| self.settings.site.clone());
        e.zone = e.zone.or_else(|| self.settings.zone.clone());
        self.out.events.push(e);
    }
}

/// A cheap, deterministic 64-bit key from raw values.
pub(crate) fn key<T: Hash>(parts: T) -> u64 {
    let mut h = DefaultHasher::new();
    parts.hash(&mut h);
    h.finish()
}

fn hash_one(s: &str) -> u64 {
    key(s)
}

/// The alert endpoint of one side of an observation: its IP, and its MAC
/// when the MAC can be the device's own (no IP, or a private IP; the MAC of
/// traffic from the Internet is a router's).
pub(crate) fn endpoint(a: &Address) -> Endpoint {
    let mac_ok = |m: &MacAddr| !m.is_group() && m.0 != [0; 6];
    let own_mac = a.ip.is_none_or(|ip| crate::net::is_private(&ip));
    Endpoint {
        ip: a.ip.map(|ip| ip.to_string()),
        mac: a.mac.filter(|m| own_mac && mac_ok(m)).map(|m| m.to_string()),
        name: None,
        device_id: None,
    }
}

/// How a device is named in baseline facts: its IP, else its MAC.
pub(crate) fn device_name(a: &Address) -> Option<String> {
    match (a.ip, a.mac) {
        (Some(ip), _) => Some(ip.to_string()),
        (None, Some(m)) if !m.is_group() => Some(m.to_string()),
        _ => None,
    }
}

/// A raw identity of a device for cheap keys.
pub(crate) fn device_id(a: &Address) -> Option<DeviceId> {
    match (a.ip, a.mac) {
        (Some(ip), _) => Some(DeviceId::Ip(ip)),
        (None, Some(m)) if !m.is_group() => Some(DeviceId::Mac(m.0)),
        _ => None,
    }
}

/// A device as a hashable raw value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum DeviceId {
    Ip(IpAddr),
    Mac([u8; 6]),
}

/// The client (requester, master) and server (responder, PLC, outstation)
/// of an observation: by flow direction, else by message role.
///
/// S7comm follows its connection: the PLC pulls a block being downloaded with
/// jobs of its own (Download block, Download ended) inside the programming
/// device's connection, so the TCP client is the client whichever side sends
/// a job.
pub(crate) fn sides(obs: &Observation) -> (&Address, &Address) {
    if let Kind::App(m) = &obs.kind {
        if m.protocol == Protocol::S7comm
            && let Some(d) = obs.direction
        {
            return match d {
                Direction::ToServer => (&obs.src, &obs.dst),
                Direction::ToClient => (&obs.dst, &obs.src),
            };
        }
        return match m.role {
            Role::Request => (&obs.src, &obs.dst),
            Role::Response => (&obs.dst, &obs.src),
            Role::Unsolicited if m.protocol == Protocol::Bacnet => (&obs.src, &obs.dst),
            Role::Unsolicited => (&obs.dst, &obs.src),
        };
    }
    match obs.direction {
        Some(Direction::ToClient) => (&obs.dst, &obs.src),
        _ => (&obs.src, &obs.dst),
    }
}

/// The protocol label of an observation: the application protocol, else the transport.
pub(crate) fn protocol_label(obs: &Observation) -> &'static str {
    match obs.protocol() {
        // CIP rides on EtherNet/IP; one name keeps pairs and protocols consistent.
        Some(Protocol::Cip) => Protocol::Enip.name(),
        Some(p) => p.name(),
        None => match obs.kind {
            Kind::Arp(_) => "ARP",
            _ => transport_label(obs),
        },
    }
}

/// `TCP`, `UDP`, `ICMP`, `IP` or `Ethernet`.
pub(crate) fn transport_label(obs: &Observation) -> &'static str {
    use crate::observation::Transport;
    match obs.transport {
        Transport::Tcp => "TCP",
        Transport::Udp => "UDP",
        Transport::Icmp => "ICMP",
        Transport::Link => "Ethernet",
        _ => "IP",
    }
}

/// The detector.
pub struct Engines {
    settings: Settings,
    catalog: &'static Catalog,
    baseline: Baseline,
    reporter: Reporter,
    indicators: Indicators,
    rules: RuleSet,
    policy: Policy,
    protocol: ProtocolViolation,
    malware: Malware,
    anomaly: Anomaly,
    operational: Operational,
    custom: Custom,
    out: Output,
    now: Timestamp,
    observations: u64,
}

impl std::fmt::Debug for Engines {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engines")
            .field("mode", &self.settings.mode)
            .field("observations", &self.observations)
            .finish_non_exhaustive()
    }
}

impl Engines {
    /// Engines with the given settings, an empty baseline, no indicators and no rules.
    pub fn new(settings: Settings, catalog: &'static Catalog) -> Engines {
        let limits = settings.limits;
        Engines {
            reporter: Reporter::new(
                settings.report_interval,
                limits.pending_reports,
                limits.evidence_frames,
            ),
            policy: Policy::new(limits.tracked),
            protocol: ProtocolViolation::new(limits.tracked),
            malware: Malware::new(limits.tracked),
            anomaly: Anomaly::new(limits.tracked),
            operational: Operational::new(limits.tracked),
            custom: Custom::new(limits.tracked),
            settings,
            catalog,
            baseline: Baseline::new(),
            indicators: Indicators::new(),
            rules: RuleSet::empty(),
            out: Output::default(),
            now: Timestamp(i64::MIN),
            observations: 0,
        }
    }

    /// The settings in force.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Changes settings in place (programming devices and scanners flagged in
    /// the inventory, thresholds reloaded…); cached policy decisions are dropped.
    pub fn update_settings(&mut self, change: impl FnOnce(&mut Settings)) {
        change(&mut self.settings);
        self.policy.baseline_changed();
    }

    /// Switches between learning and operational mode.
    pub fn set_mode(&mut self, mode: Mode) {
        if self.settings.mode != mode {
            self.settings.mode = mode;
            self.policy.baseline_changed();
        }
    }

    /// Loads baseline entries read from the store (engine facts and learned alerts' fingerprints).
    pub fn load_baseline(&mut self, entries: &[BaselineEntry]) -> usize {
        let unknown = self.baseline.load(entries);
        self.policy.baseline_changed();
        self.reporter.baseline_changed(&self.baseline);
        unknown
    }

    /// Replaces what learned alerts teach: their fingerprints and the facts
    /// they stand for (see [`crate::learn::facts_for_alert`]).
    pub fn set_learned_alerts(
        &mut self,
        fingerprints: std::collections::BTreeSet<String>,
        facts: &[Fact],
    ) {
        self.baseline.set_alert_facts(fingerprints, facts);
        self.policy.baseline_changed();
        self.reporter.baseline_changed(&self.baseline);
    }

    /// Replaces the indicator feeds.
    pub fn set_indicators(&mut self, indicators: Indicators) {
        self.indicators = indicators;
    }

    /// Replaces the custom rules.
    pub fn set_rules(&mut self, rules: RuleSet) {
        self.rules = rules;
    }

    /// The baseline facts learned since the last call (learning mode, and
    /// first-seen firmware versions), to be stored.
    pub fn take_baseline_entries(&mut self) -> Vec<BaselineEntry> {
        self.baseline.take_new_entries()
    }

    /// The in-memory baseline.
    pub fn baseline(&self) -> &Baseline {
        &self.baseline
    }

    /// Latest packet time seen.
    pub fn now(&self) -> Timestamp {
        self.now
    }

    /// One observation.
    pub fn observe(&mut self, obs: &Observation) {
        self.observations += 1;
        if obs.time > self.now {
            self.now = obs.time;
        }
        let mut cx = Ctx {
            settings: &self.settings,
            catalog: self.catalog,
            baseline: &mut self.baseline,
            reporter: &mut self.reporter,
            indicators: &self.indicators,
            rules: &self.rules,
            out: &mut self.out,
        };
        let s = cx.settings;
        if s.engine_on(Engine::PolicyViolation) {
            self.policy.observe(obs, &mut cx);
        }
        if s.engine_on(Engine::ProtocolViolation) {
            self.protocol.observe(obs, &mut cx);
        }
        if s.engine_on(Engine::Malware) {
            self.malware.observe(obs, &mut cx);
        }
        if s.engine_on(Engine::Anomaly) {
            self.anomaly.observe(obs, &mut cx);
        }
        if s.engine_on(Engine::Operational) {
            self.operational.observe(obs, &mut cx);
        }
        if !cx.rules.is_empty() {
            self.custom.observe(obs, &mut cx);
        }
    }

    /// Packet time reached `now` without observations: closes windows and reports aggregates.
    pub fn tick(&mut self, now: Timestamp) {
        if now > self.now {
            self.now = now;
        }
        let now = self.now;
        let mut cx = Ctx {
            settings: &self.settings,
            catalog: self.catalog,
            baseline: &mut self.baseline,
            reporter: &mut self.reporter,
            indicators: &self.indicators,
            rules: &self.rules,
            out: &mut self.out,
        };
        let s = cx.settings;
        if s.engine_on(Engine::PolicyViolation) {
            self.policy.tick(now, &mut cx);
        }
        if s.engine_on(Engine::Anomaly) {
            self.anomaly.tick(now, &mut cx);
        }
        if s.engine_on(Engine::Operational) {
            self.operational.tick(now, &mut cx);
        }
        let mut findings = std::mem::take(&mut self.out.findings);
        self.reporter.tick(now, &mut findings);
        self.out.findings = findings;
    }

    /// The input ended: everything pending is reported.
    pub fn finish(&mut self) {
        let now = self.now;
        let mut cx = Ctx {
            settings: &self.settings,
            catalog: self.catalog,
            baseline: &mut self.baseline,
            reporter: &mut self.reporter,
            indicators: &self.indicators,
            rules: &self.rules,
            out: &mut self.out,
        };
        let s = cx.settings;
        if s.engine_on(Engine::PolicyViolation) {
            self.policy.finish(now, &mut cx);
        }
        if s.engine_on(Engine::Anomaly) {
            self.anomaly.finish(now, &mut cx);
        }
        if s.engine_on(Engine::Operational) {
            self.operational.finish(now, &mut cx);
        }
        let mut findings = std::mem::take(&mut self.out.findings);
        self.reporter.flush(&mut findings);
        self.out.findings = findings;
    }

    /// Moves the findings and events produced so far out.
    pub fn take_output(&mut self) -> Output {
        self.out.take()
    }

    /// Counters and limit hits.
    pub fn stats(&self) -> Stats {
        let mut evicted = BTreeMap::new();
        self.policy.evictions(&mut evicted);
        self.protocol.evictions(&mut evicted);
        self.malware.evictions(&mut evicted);
        self.anomaly.evictions(&mut evicted);
        self.operational.evictions(&mut evicted);
        self.custom.evictions(&mut evicted);
        Stats {
            observations: self.observations,
            report: self.reporter.stats(),
            baseline_facts: self.baseline.len(),
            baseline_limit_hits: self.baseline.limit_hits(),
            evicted,
        }
    }
}

impl crate::Detector for Engines {
    fn observe(&mut self, obs: &Observation, out: &mut Vec<Detection>) {
        Engines::observe(self, obs);
        out.extend(self.out.findings.drain(..).map(|f| f.detection));
    }

    fn tick(&mut self, now: Timestamp, out: &mut Vec<Detection>) {
        Engines::tick(self, now);
        out.extend(self.out.findings.drain(..).map(|f| f.detection));
    }

    fn finish(&mut self, out: &mut Vec<Detection>) {
        Engines::finish(self);
        out.extend(self.out.findings.drain(..).map(|f| f.detection));
    }
}
