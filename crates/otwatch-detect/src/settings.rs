//! What the engines are told at start: which engines and alert types run,
//! the mode, the thresholds, who may program or scan, and the limits.
//!
//! Thresholds start from the catalogue (`thresholds` of each alert type, the
//! reference's values) and can be overridden with text like
//! `anomaly_port_scan.count=40, anomaly_port_scan.window=5m`. Alert types
//! the catalogue marks `enabled = false` (the reference's "off by default")
//! can be switched on by id, and any type switched off. Every override is
//! validated against the catalogue, and all problems are reported at once
//! with the valid choices.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use otwatch_model::{Catalog, Cidr, Engine, Threshold};

/// Learning or operational.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Build the baseline: policy alerts are held back, the other engines alert.
    Learning,
    /// Every deviation from the baseline raises its policy alert.
    Operational,
}

impl Mode {
    /// `learning` or `operational`.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Learning => "learning",
            Mode::Operational => "operational",
        }
    }
}

/// Named limits on the state the engines keep.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Sources, pairs or flows tracked per threshold table.
    pub tracked: usize,
    /// Sightings aggregated between two reports of the same alert.
    pub pending_reports: usize,
    /// Frames named as evidence of one detection.
    pub evidence_frames: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits { tracked: 65_536, pending_reports: 65_536, evidence_frames: 16 }
    }
}

/// Everything the detector needs to know besides the traffic.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Engines switched on (a missing engine counts as on).
    pub engines: BTreeMap<Engine, bool>,
    /// Learning or operational.
    pub mode: Mode,
    /// Sensor id, site and zone written into every detection.
    pub sensor: Option<String>,
    /// Site.
    pub site: Option<String>,
    /// Zone.
    pub zone: Option<String>,
    /// OT subnets; empty means every private (RFC 1918, ULA, link-local) address
    /// except the documentation ranges.
    pub ot_subnets: Vec<Cidr>,
    /// Devices allowed to program controllers (besides those learned or flagged in the inventory).
    pub programming_devices: Vec<Cidr>,
    /// Devices allowed to scan.
    pub scanners: Vec<Cidr>,
    /// Effective thresholds.
    pub thresholds: Thresholds,
    /// Which alert types are raised.
    pub types: TypeSwitches,
    /// How long (packet time, microseconds) repeated sightings of one alert
    /// are aggregated before they are reported again.
    pub report_interval: i64,
    /// Packet-time gap after which the interface counts as silent ("No
    /// Traffic Detected on Sensor Interface"); off for capture files, where
    /// gaps are the recording's, not the network's.
    pub silence_after: Option<i64>,
    /// Limits.
    pub limits: Limits,
}

impl Settings {
    /// Defaults from the catalogue: all engines on, operational mode.
    pub fn new(catalog: &Catalog) -> Settings {
        Settings {
            engines: BTreeMap::new(),
            mode: Mode::Operational,
            sensor: None,
            site: None,
            zone: None,
            ot_subnets: Vec::new(),
            programming_devices: Vec::new(),
            scanners: Vec::new(),
            thresholds: Thresholds::from_catalog(catalog),
            types: TypeSwitches::from_catalog(catalog),
            report_interval: 60 * 1_000_000,
            silence_after: None,
            limits: Limits::default(),
        }
    }

    /// Whether an engine runs.
    pub fn engine_on(&self, e: Engine) -> bool {
        self.engines.get(&e).copied().unwrap_or(true)
    }

    /// Whether an address is on an OT subnet.
    pub fn is_ot(&self, ip: &IpAddr) -> bool {
        if self.ot_subnets.is_empty() {
            crate::net::is_private(ip) && !crate::net::is_documentation(ip)
        } else {
            self.ot_subnets.iter().any(|c| c.contains(ip))
        }
    }
}

/// A problem in a detection setting.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SettingError {
    /// The item that is wrong, as written.
    pub item: String,
    /// What is wrong and what would be right.
    pub message: String,
}

impl std::fmt::Display for SettingError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}: {}", self.item, self.message)
    }
}

/// The effective thresholds of every alert type.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Thresholds {
    values: BTreeMap<(String, String), Threshold>,
}

impl Thresholds {
    /// The catalogue's defaults.
    pub fn from_catalog(catalog: &Catalog) -> Thresholds {
        let mut values = BTreeMap::new();
        for t in catalog.types() {
            for (name, v) in &t.thresholds {
                values.insert((t.id.clone(), name.clone()), *v);
            }
        }
        Thresholds { values }
    }

    /// Applies overrides written as `type.name=value` items separated by
    /// commas or new lines. Every problem is returned; good items still apply.
    pub fn apply(&mut self, text: &str, catalog: &Catalog) -> Vec<SettingError> {
        let mut errors = Vec::new();
        for item in text.split([',', '\n']).map(str::trim).filter(|s| !s.is_empty()) {
            let mut fail = |m: String| {
                errors.push(SettingError { item: item.to_string(), message: m });
            };
            let Some((path, value)) = item.split_once('=') else {
                fail("expected type.threshold=value, e.g. anomaly_port_scan.count=40".into());
                continue;
            };
            let (path, value) = (path.trim(), value.trim().trim_matches('"'));
            let Some((ty, name)) = path.rsplit_once('.') else {
                fail("expected type.threshold=value, e.g. anomaly_port_scan.window=5m".into());
                continue;
            };
            let t = match catalog.require(ty) {
                Ok(t) => t,
                Err(e) => {
                    fail(e);
                    continue;
                }
            };
            let Some(current) = t.threshold(name) else {
                let names: Vec<&str> = t.thresholds.keys().map(String::as_str).collect();
                fail(if names.is_empty() {
                    format!("{ty} has no thresholds")
                } else {
                    format!("{ty} has no threshold {name:?}; it has {}", names.join(", "))
                });
                continue;
            };
            let parsed = match current {
                Threshold::Count(_) => value
                    .replace('_', "")
                    .parse::<u64>()
                    .ok()
                    .filter(|n| *n > 0)
                    .map(Threshold::Count)
                    .ok_or_else(|| format!("{ty}.{name} is a count: a whole number above 0")),
                Threshold::Window(_) => otwatch_model::time::parse_duration(value)
                    .ok()
                    .filter(|us| *us > 0)
                    .map(Threshold::Window)
                    .ok_or_else(|| format!("{ty}.{name} is a time window like 90s, 2m, 1h")),
            };
            match parsed {
                Ok(v) => {
                    self.values.insert((ty.to_string(), name.to_string()), v);
                }
                Err(e) => fail(e),
            }
        }
        errors
    }

    /// A count threshold (the catalogue guarantees the kind; 1 if absent).
    pub fn count(&self, ty: &str, name: &str) -> u64 {
        match self.values.get(&(ty.to_string(), name.to_string())) {
            Some(Threshold::Count(n)) => *n,
            _ => 1,
        }
    }

    /// A window threshold in microseconds (one minute if absent).
    pub fn window(&self, ty: &str, name: &str) -> i64 {
        match self.values.get(&(ty.to_string(), name.to_string())) {
            Some(Threshold::Window(w)) => *w,
            _ => 60 * 1_000_000,
        }
    }

    /// Every threshold, for display.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str, Threshold)> {
        self.values.iter().map(|((t, n), v)| (t.as_str(), n.as_str(), *v))
    }
}

/// Which alert types are raised.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TypeSwitches {
    on: BTreeSet<String>,
}

impl TypeSwitches {
    /// The catalogue's defaults (`enabled`).
    pub fn from_catalog(catalog: &Catalog) -> TypeSwitches {
        TypeSwitches {
            on: catalog.types().iter().filter(|t| t.enabled).map(|t| t.id.clone()).collect(),
        }
    }

    /// Every type on (for tests and demos).
    pub fn all(catalog: &Catalog) -> TypeSwitches {
        TypeSwitches { on: catalog.types().iter().map(|t| t.id.clone()).collect() }
    }

    /// Switches the listed types (comma or space separated ids) on or off;
    /// `all` stands for every type. Unknown ids are errors.
    pub fn set(&mut self, list: &str, on: bool, catalog: &Catalog) -> Vec<SettingError> {
        let mut errors = Vec::new();
        for id in list.split([',', ' ', '\n']).map(str::trim).filter(|s| !s.is_empty()) {
            if id == "all" {
                for t in catalog.types() {
                    self.switch(&t.id, on);
                }
                continue;
            }
            match catalog.require(id) {
                Ok(t) => self.switch(&t.id, on),
                Err(e) => errors.push(SettingError { item: id.to_string(), message: e }),
            }
        }
        errors
    }

    fn switch(&mut self, id: &str, on: bool) {
        if on {
            self.on.insert(id.to_string());
        } else {
            self.on.remove(id);
        }
    }

    /// Whether a type is raised.
    pub fn is_on(&self, id: &str) -> bool {
        self.on.contains(id)
    }
}

/// Parses a list of subnets or addresses (comma or space separated).
pub fn parse_subnets(text: &str) -> Result<Vec<Cidr>, Vec<SettingError>> {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for item in text.split([',', ' ', '\n']).map(str::trim).filter(|s| !s.is_empty()) {
        match Cidr::parse(item) {
            Ok(c) => out.push(c),
            Err(e) => errors.push(SettingError { item: item.to_string(), message: e }),
        }
    }
    if errors.is_empty() { Ok(out) } else { Err(errors) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_default_to_the_catalogue_and_can_be_overridden() {
        let cat = otwatch_model::catalog::builtin();
        let mut t = Thresholds::from_catalog(cat);
        assert_eq!(t.count("anomaly_port_scan", "count"), 25);
        assert_eq!(t.window("anomaly_port_scan", "window"), 120_000_000);
        let errs = t.apply("anomaly_port_scan.count=40, anomaly_port_scan.window = 5m", cat);
        assert!(errs.is_empty(), "{errs:?}");
        assert_eq!(t.count("anomaly_port_scan", "count"), 40);
        assert_eq!(t.window("anomaly_port_scan", "window"), 300_000_000);
    }

    #[test]
    fn threshold_errors_name_the_item_and_the_choices() {
        let cat = otwatch_model::catalog::builtin();
        let mut t = Thresholds::from_catalog(cat);
        let errs = t.apply(
            "anomaly_port_scn.count=4, anomaly_port_scan.ports=3, anomaly_port_scan.window=fast, anomaly_port_scan.count=0, nonsense",
            cat,
        );
        let all: Vec<String> = errs.iter().map(|e| e.to_string()).collect();
        assert_eq!(all.len(), 5, "{all:#?}");
        assert!(all[0].contains("did you mean"), "{}", all[0]);
        assert!(all[1].contains("it has burst_count, burst_window, count, window"), "{}", all[1]);
        assert!(all[2].contains("time window"), "{}", all[2]);
        assert!(all[3].contains("above 0"), "{}", all[3]);
        assert!(all[4].contains("expected type.threshold=value"), "{}", all[4]);
    }

    #[test]
    fn types_can_be_switched() {
        let cat = otwatch_model::catalog::builtin();
        let mut s = TypeSwitches::from_catalog(cat);
        assert!(s.is_on("anomaly_port_scan"));
        assert!(!s.is_on("anomaly_icmp_flooding"), "off by default in the reference");
        assert!(s.set("anomaly_icmp_flooding", true, cat).is_empty());
        assert!(s.is_on("anomaly_icmp_flooding"));
        assert!(s.set("anomaly_port_scan", false, cat).is_empty());
        assert!(!s.is_on("anomaly_port_scan"));
        let errs = s.set("anomaly_icmp_flood", true, cat);
        assert!(errs[0].message.contains("did you mean"), "{errs:?}");
    }
}
