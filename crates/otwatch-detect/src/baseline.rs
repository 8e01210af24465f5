//! The learned baseline as the policy engine sees it: facts about normal
//! traffic (devices, pairs, protocols, ports, operations, address ranges,
//! firmware versions…), held in memory for fast lookups and exchanged with
//! the store as [`BaselineEntry`] rows.
//!
//! Every fact has a kind ([`FactKind`], stored as the entry's `kind`) and a
//! key made of `|`-separated parts (the entry's `key`), e.g. kind
//! `operation`, key `10.0.0.5|10.0.0.9|modbus|fc|16`. Devices are named by
//! their IP address, or their MAC address for traffic without IP.
//!
//! Facts come from three places:
//! - learning mode: every fact the engine observes is added and queued for
//!   the store ([`Baseline::take_new_entries`]);
//! - the store at start-up: entries of the engine's kinds;
//! - learned alerts: entries of kind `alert` carry the alert's fingerprint
//!   (the engine skips detections with that fingerprint) and the facts the
//!   alert stood for (see `learn.rs`), kept apart so that Unlearn takes them
//!   away again on the next reload ([`Baseline::set_alert_facts`]).
//!
//! Memory is bounded by [`MAX_BASELINE_FACTS`]; when it is reached, new facts
//! are not learned and [`Baseline::limit_hits`] counts them.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::hash::{DefaultHasher, Hash, Hasher};

use otwatch_model::baseline::ALERT_KIND;
use otwatch_model::{BaselineEntry, Timestamp};

/// Most facts held (store facts, learned facts and facts from learned alerts together).
pub const MAX_BASELINE_FACTS: usize = 1_000_000;
/// Most Modbus address ranges remembered per (pair, unit, table).
pub const MAX_RANGES_PER_TABLE: usize = 256;

/// Who is recorded as the author of facts learned from traffic.
pub const LEARNED_BY: &str = "learning";

macro_rules! fact_kinds {
    ($( $variant:ident = $name:literal : $doc:literal ),+ $(,)?) => {
        /// The kinds of baseline facts the engines keep.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum FactKind { $( #[doc = $doc] $variant ),+ }

        impl FactKind {
            /// Every kind.
            pub const ALL: &'static [FactKind] = &[ $( FactKind::$variant ),+ ];

            /// The stored kind name.
            pub fn as_str(self) -> &'static str {
                match self { $( FactKind::$variant => $name ),+ }
            }

            /// Parses a stored kind name.
            pub fn parse(s: &str) -> Option<FactKind> {
                match s { $( $name => Some(FactKind::$variant), )+ _ => None }
            }

            /// What the kind means, for documentation and `baseline export`.
            pub fn doc(self) -> &'static str {
                match self { $( FactKind::$variant => $doc ),+ }
            }
        }
    };
}

fact_kinds! {
    Device = "device": "A device (key: IP, or MAC without IP).",
    Pair = "pair": "Two devices that communicate (key: client|server).",
    Protocol = "protocol": "A protocol used between a pair (key: client|server|protocol).",
    Port = "port": "A port a device serves (key: server|transport/port).",
    Operation = "operation": "A protocol operation used between a pair (key: client|server|protocol|dimension|value), e.g. a Modbus function code, a CIP class or service, an S7 function, a DNP3 IIN bit.",
    Range = "range": "A Modbus address range read or written by a pair (key: client|server|unit|table|start|quantity).",
    Firmware = "firmware": "A firmware version a device reported (key: device|version).",
    Mode = "mode": "An operating mode a PLC reported (key: device|mode).",
    Programmer = "programmer": "A device allowed to program, upload from or configure controllers (key: device).",
    Internet = "internet": "A device allowed to exchange traffic with an Internet address (key: device|internet address).",
    Multicast = "multicast": "A device allowed to send to a multicast or broadcast address (key: device|group|protocol).",
    Domain = "domain": "A name a device resolves (key: device|domain).",
    UserAgent = "user_agent": "An HTTP user agent a device uses (key: device|user agent).",
}

/// A fact: its kind and canonical key.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Fact {
    /// Kind.
    pub kind: FactKind,
    /// Key parts joined with `|`.
    pub key: String,
}

impl Fact {
    /// A fact from its key parts.
    pub fn new(kind: FactKind, parts: &[&str]) -> Fact {
        Fact { kind, key: parts.join("|") }
    }

    /// The key parts.
    pub fn parts(&self) -> Vec<&str> {
        self.key.split('|').collect()
    }

    fn hash(&self) -> u64 {
        fact_hash(self.kind, &self.parts())
    }
}

impl std::fmt::Display for Fact {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.kind.as_str(), self.key)
    }
}

fn fact_hash(kind: FactKind, parts: &[&str]) -> u64 {
    let mut h = DefaultHasher::new();
    kind.hash(&mut h);
    for p in parts {
        h.write(p.as_bytes());
        h.write_u8(0xff);
    }
    h.finish()
}

/// A Modbus table address range `[start, start + quantity)`.
type Range = (u32, u32);

/// The in-memory baseline.
#[derive(Debug, Default)]
pub struct Baseline {
    /// Facts from the store and from learning, by hash.
    known: HashSet<u64>,
    /// Facts that learned alerts stand for, by hash (replaced on reload).
    from_alerts: HashSet<u64>,
    /// Fingerprints of learned alerts.
    fingerprints: BTreeSet<String>,
    /// Learned Modbus ranges per "client|server|unit|table".
    ranges: BTreeMap<String, Vec<Range>>,
    /// Ranges from learned alerts, kept apart like `from_alerts`.
    alert_ranges: BTreeMap<String, Vec<Range>>,
    /// Firmware versions per device (store and learning).
    firmware: BTreeMap<String, BTreeSet<String>>,
    /// Operating modes per device (store and learning).
    modes: BTreeMap<String, BTreeSet<String>>,
    /// New facts to write to the store.
    new_entries: Vec<BaselineEntry>,
    limit_hits: u64,
}

impl Baseline {
    /// An empty baseline.
    pub fn new() -> Baseline {
        Baseline::default()
    }

    /// Loads entries read from the store: the engine's kinds become facts,
    /// `alert` entries become learned fingerprints. Unknown kinds are skipped
    /// and counted in the returned number.
    pub fn load(&mut self, entries: &[BaselineEntry]) -> usize {
        let mut unknown = 0;
        for e in entries {
            if e.kind == ALERT_KIND {
                self.fingerprints.insert(e.key.clone());
                continue;
            }
            match FactKind::parse(&e.kind) {
                Some(kind) => {
                    let fact = Fact { kind, key: e.key.clone() };
                    self.insert(&fact, false);
                }
                None => unknown += 1,
            }
        }
        unknown
    }

    /// Replaces the learned-alert part of the baseline: the fingerprints of
    /// learned alerts and the facts they stand for.
    pub fn set_alert_facts(&mut self, fingerprints: BTreeSet<String>, facts: &[Fact]) {
        self.fingerprints = fingerprints;
        self.from_alerts.clear();
        self.alert_ranges.clear();
        for f in facts {
            if self.from_alerts.len() >= MAX_BASELINE_FACTS {
                self.limit_hits += 1;
                break;
            }
            self.from_alerts.insert(f.hash());
            if f.kind == FactKind::Range
                && let Some((table, range)) = range_of(f)
            {
                self.alert_ranges.entry(table).or_default().push(range);
            }
        }
    }

    /// Whether a learned alert has this fingerprint.
    pub fn is_learned_fingerprint(&self, fingerprint: &str) -> bool {
        self.fingerprints.contains(fingerprint)
    }

    /// Whether the fact given by its parts is in the baseline.
    pub fn knows(&self, kind: FactKind, parts: &[&str]) -> bool {
        let h = fact_hash(kind, parts);
        self.known.contains(&h) || self.from_alerts.contains(&h)
    }

    /// Whether the range `[start, start+quantity)` of `table` (client|server|unit|table)
    /// is inside the union of the learned ranges. `None` when nothing is
    /// learned for the table.
    pub fn range_covered(&self, table: &str, start: u32, quantity: u32) -> Option<bool> {
        let learned: Vec<Range> = self
            .ranges
            .get(table)
            .into_iter()
            .chain(self.alert_ranges.get(table))
            .flatten()
            .copied()
            .collect();
        if learned.is_empty() {
            return None;
        }
        let end = start.saturating_add(quantity.max(1));
        let mut sorted = learned;
        sorted.sort_unstable();
        let mut reach = start;
        for (s, q) in sorted {
            let e = s.saturating_add(q.max(1));
            if s <= reach && e > reach {
                reach = e;
                if reach >= end {
                    return Some(true);
                }
            }
        }
        Some(reach >= end)
    }

    /// The firmware versions known for a device.
    pub fn firmware(&self, device: &str) -> Option<&BTreeSet<String>> {
        self.firmware.get(device)
    }

    /// The operating modes known for a device.
    pub fn modes(&self, device: &str) -> Option<&BTreeSet<String>> {
        self.modes.get(device)
    }

    /// Learns a fact observed in traffic at `at`; queues it for the store.
    /// Returns false when the fact was known or the baseline is full.
    pub fn learn(
        &mut self,
        kind: FactKind,
        parts: &[&str],
        detail: BTreeMap<String, String>,
        at: Timestamp,
    ) -> bool {
        if self.knows(kind, parts) {
            return false;
        }
        let fact = Fact::new(kind, parts);
        if !self.insert(&fact, true) {
            return false;
        }
        self.new_entries.push(BaselineEntry {
            kind: kind.as_str().to_string(),
            key: fact.key,
            detail,
            source_alert: None,
            created_at: at,
            created_by: LEARNED_BY.to_string(),
        });
        true
    }

    fn insert(&mut self, fact: &Fact, count_limit: bool) -> bool {
        let h = fact.hash();
        if self.known.contains(&h) {
            return false;
        }
        if self.known.len() >= MAX_BASELINE_FACTS {
            if count_limit {
                self.limit_hits += 1;
            }
            return false;
        }
        self.known.insert(h);
        match fact.kind {
            FactKind::Range => {
                if let Some((table, range)) = range_of(fact) {
                    let list = self.ranges.entry(table).or_default();
                    if list.len() < MAX_RANGES_PER_TABLE {
                        list.push(range);
                    } else {
                        self.limit_hits += 1;
                    }
                }
            }
            FactKind::Firmware | FactKind::Mode => {
                if let Some((device, value)) = fact.key.split_once('|') {
                    let map = if fact.kind == FactKind::Firmware {
                        &mut self.firmware
                    } else {
                        &mut self.modes
                    };
                    map.entry(device.to_string()).or_default().insert(value.to_string());
                }
            }
            _ => {}
        }
        true
    }

    /// The facts learned since the last call, to be written to the store.
    pub fn take_new_entries(&mut self) -> Vec<BaselineEntry> {
        std::mem::take(&mut self.new_entries)
    }

    /// How many facts are held (store and learning; not counting learned alerts).
    pub fn len(&self) -> usize {
        self.known.len()
    }

    /// Whether no fact is held.
    pub fn is_empty(&self) -> bool {
        self.known.is_empty() && self.from_alerts.is_empty() && self.fingerprints.is_empty()
    }

    /// How many facts could not be learned because a limit was reached.
    pub fn limit_hits(&self) -> u64 {
        self.limit_hits
    }
}

/// Splits a range fact into its table key and range.
fn range_of(fact: &Fact) -> Option<(String, Range)> {
    let parts = fact.parts();
    if parts.len() != 6 {
        return None;
    }
    let start = parts[4].parse().ok()?;
    let quantity = parts[5].parse().ok()?;
    Some((parts[..4].join("|"), (start, quantity)))
}

/// Checks that a baseline entry is well formed (for `baseline import`): a
/// known kind and the number of key parts that kind has.
pub fn validate_entry(kind: &str, key: &str) -> Result<(), String> {
    if kind == ALERT_KIND {
        let ok = key.len() == 32 && key.bytes().all(|b| b.is_ascii_hexdigit());
        return if ok {
            Ok(())
        } else {
            Err(format!("an alert entry's key is a 32-hex-digit fingerprint, not {key:?}"))
        };
    }
    let Some(k) = FactKind::parse(kind) else {
        let known: Vec<&str> =
            FactKind::ALL.iter().map(|k| k.as_str()).chain([ALERT_KIND]).collect();
        return Err(format!("unknown kind {kind:?}; known kinds: {}", known.join(", ")));
    };
    let parts = key.split('|').count();
    let (min, max) = match k {
        FactKind::Device | FactKind::Programmer => (1, 1),
        FactKind::Pair
        | FactKind::Port
        | FactKind::Firmware
        | FactKind::Mode
        | FactKind::Internet
        | FactKind::Domain
        | FactKind::UserAgent => (2, 2),
        FactKind::Protocol | FactKind::Multicast => (3, 3),
        FactKind::Operation => (5, usize::MAX),
        FactKind::Range => (6, 6),
    };
    if key.split('|').any(str::is_empty) {
        return Err(format!("{kind} key {key:?} has an empty part"));
    }
    if parts < min || parts > max {
        return Err(format!(
            "{kind} key {key:?} has {parts} part(s); expected {}",
            if min == max { min.to_string() } else { format!("at least {min}") }
        ));
    }
    if k == FactKind::Range && range_of(&Fact { kind: k, key: key.to_string() }).is_none() {
        return Err(format!("range key {key:?}: start and quantity must be numbers"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t() -> Timestamp {
        Timestamp::from_secs(1)
    }

    #[test]
    fn learned_facts_are_known_and_queued_once() {
        let mut b = Baseline::new();
        assert!(!b.knows(FactKind::Pair, &["10.0.0.1", "10.0.0.2"]));
        assert!(b.learn(FactKind::Pair, &["10.0.0.1", "10.0.0.2"], BTreeMap::new(), t()));
        assert!(!b.learn(FactKind::Pair, &["10.0.0.1", "10.0.0.2"], BTreeMap::new(), t()));
        assert!(b.knows(FactKind::Pair, &["10.0.0.1", "10.0.0.2"]));
        assert!(!b.knows(FactKind::Pair, &["10.0.0.2", "10.0.0.1"]), "pairs are directed");
        let e = b.take_new_entries();
        assert_eq!(e.len(), 1);
        assert_eq!((e[0].kind.as_str(), e[0].key.as_str()), ("pair", "10.0.0.1|10.0.0.2"));
        assert!(b.take_new_entries().is_empty());
        let mut c = Baseline::new();
        assert_eq!(c.load(&e), 0);
        assert!(c.knows(FactKind::Pair, &["10.0.0.1", "10.0.0.2"]));
    }

    #[test]
    fn alert_facts_are_replaced_on_reload() {
        let mut b = Baseline::new();
        let f = Fact::new(FactKind::Operation, &["a", "b", "modbus", "fc", "16"]);
        b.set_alert_facts(BTreeSet::from(["0123".to_string()]), std::slice::from_ref(&f));
        assert!(b.knows(FactKind::Operation, &["a", "b", "modbus", "fc", "16"]));
        assert!(b.is_learned_fingerprint("0123"));
        b.set_alert_facts(BTreeSet::new(), &[]);
        assert!(!b.knows(FactKind::Operation, &["a", "b", "modbus", "fc", "16"]));
        assert!(!b.is_learned_fingerprint("0123"));
    }

    #[test]
    fn ranges_cover_by_union() {
        let mut b = Baseline::new();
        let table = "a|b|1|holding";
        assert_eq!(b.range_covered(table, 0, 10), None);
        b.learn(FactKind::Range, &["a", "b", "1", "holding", "0", "10"], BTreeMap::new(), t());
        b.learn(FactKind::Range, &["a", "b", "1", "holding", "10", "10"], BTreeMap::new(), t());
        assert_eq!(b.range_covered(table, 5, 10), Some(true));
        assert_eq!(b.range_covered(table, 15, 10), Some(false));
        assert_eq!(b.range_covered(table, 0, 20), Some(true));
    }

    #[test]
    fn firmware_versions_accumulate() {
        let mut b = Baseline::new();
        b.learn(FactKind::Firmware, &["10.0.0.9", "V2.1"], BTreeMap::new(), t());
        b.learn(FactKind::Firmware, &["10.0.0.9", "V2.2"], BTreeMap::new(), t());
        let v: Vec<&String> = b.firmware("10.0.0.9").unwrap().iter().collect();
        assert_eq!(v, ["V2.1", "V2.2"]);
    }

    #[test]
    fn entries_are_validated() {
        assert!(validate_entry("pair", "10.0.0.1|10.0.0.2").is_ok());
        assert!(validate_entry("range", "a|b|1|holding|0|10").is_ok());
        assert!(validate_entry("operation", "a|b|modbus|fc|16").is_ok());
        assert!(validate_entry("alert", "0123456789abcdef0123456789abcdef").is_ok());
        let e = validate_entry("pear", "a|b").unwrap_err();
        assert!(e.contains("unknown kind \"pear\"") && e.contains("pair"), "{e}");
        assert!(validate_entry("pair", "a").unwrap_err().contains("expected 2"));
        assert!(validate_entry("range", "a|b|1|holding|x|10").is_err());
        assert!(validate_entry("alert", "xyz").is_err());
    }
}
