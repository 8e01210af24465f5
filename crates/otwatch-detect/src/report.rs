//! From raised detections to reported findings: learned-fingerprint
//! suppression and aggregation of repeated sightings.
//!
//! An engine raises a detection every time it sees alert-worthy traffic; the
//! same traffic may be seen thousands of times. Each raise comes with a
//! cheap 64-bit sighting key (a hash of the raw values that decide the
//! fingerprint) and a closure that builds the [`Detection`]. The first
//! sighting of a key builds the detection, computes its fingerprint and is
//! reported at once (it opens the alert and its PCAP evidence); later
//! sightings of the key are only counted. Every `report_interval` of packet
//! time, and at the end, the sightings counted since the last report are
//! reported as one detection with `count` set, so the store's occurrence
//! counts are exact while it sees one row per fingerprint and interval.
//!
//! Detections whose fingerprint is a learned alert are dropped here (the
//! engine honours the baseline itself; the store would drop them too).
//! Pending sightings are ordered by fingerprint (`BTreeMap`), so output
//! order never depends on hashing. The table is bounded by
//! [`crate::settings::Limits::pending_reports`]; when it is full, everything
//! pending is reported and the table starts again (counted as a limit hit).

use std::collections::{BTreeMap, HashMap};

use otwatch_model::{Detection, Timestamp};

use crate::baseline::Baseline;

/// The frames that show a finding: where the PCAP evidence is.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Evidence {
    /// Frame numbers of the triggering packets, oldest first.
    pub frames: Vec<u64>,
}

/// A detection ready for the store, with its evidence.
#[derive(Clone, Debug, PartialEq)]
pub struct Finding {
    /// The detection.
    pub detection: Detection,
    /// Its fingerprint (computed once).
    pub fingerprint: String,
    /// The triggering frames (first report only).
    pub evidence: Evidence,
    /// The first report of this fingerprint in this run (collect PCAP evidence for it).
    pub first: bool,
}

#[derive(Debug)]
struct Pending {
    latest: Detection,
    /// Sightings not reported yet.
    unreported: u64,
    reported_at: Timestamp,
}

/// Counters of the reporter.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReportStats {
    /// Sightings raised by the engines.
    pub raised: u64,
    /// Sightings dropped because their fingerprint is a learned alert.
    pub learned: u64,
    /// Findings reported.
    pub reported: u64,
    /// Times the pending table was full and flushed early.
    pub table_full: u64,
}

/// Where a sighting key leads.
#[derive(Debug, Clone)]
enum Slot {
    /// A pending fingerprint.
    Pending(String),
    /// A learned fingerprint: sightings are dropped.
    Learned,
}

/// Aggregates repeated sightings between reports.
#[derive(Debug)]
pub struct Reporter {
    index: HashMap<u64, Slot>,
    pending: BTreeMap<String, Pending>,
    interval: i64,
    limit: usize,
    evidence_frames: usize,
    last_sweep: Timestamp,
    stats: ReportStats,
}

impl Reporter {
    /// A reporter that re-reports every `interval` microseconds of packet time.
    pub fn new(interval: i64, limit: usize, evidence_frames: usize) -> Reporter {
        Reporter {
            index: HashMap::new(),
            pending: BTreeMap::new(),
            interval: interval.max(1),
            limit: limit.max(1),
            evidence_frames: evidence_frames.max(1),
            last_sweep: Timestamp(i64::MIN),
            stats: ReportStats::default(),
        }
    }

    /// One sighting of the traffic identified by `key` at `time`. `make`
    /// builds the detection; it is called on the first sighting and when an
    /// aggregate is due, not for every repeat.
    pub fn raise(
        &mut self,
        key: u64,
        time: Timestamp,
        frames: &[u64],
        make: impl FnOnce() -> Detection,
        baseline: &Baseline,
        out: &mut Vec<Finding>,
    ) {
        self.stats.raised += 1;
        match self.index.get(&key).cloned() {
            Some(Slot::Learned) => {
                self.stats.learned += 1;
            }
            Some(Slot::Pending(fp)) => {
                let Some(p) = self.pending.get_mut(&fp) else {
                    self.index.remove(&key);
                    return self.raise(key, time, frames, make, baseline, out);
                };
                p.unreported = p.unreported.saturating_add(1);
                if time >= p.latest.time {
                    p.latest.time = time;
                }
                if time.0.saturating_sub(p.reported_at.0) >= self.interval {
                    let mut d = make();
                    if d.fingerprint() != fp {
                        // The same sighting seen from the other side (a routed
                        // reply names the router's MAC): keep the reported endpoints.
                        let details = std::mem::take(&mut d.details);
                        d = Detection { details, ..p.latest.clone() };
                    }
                    d.time = d.time.max(p.latest.time);
                    d.count = p.unreported;
                    p.latest = d.clone();
                    p.latest.count = 1;
                    p.unreported = 0;
                    p.reported_at = time;
                    self.stats.reported += 1;
                    out.push(Finding {
                        detection: d,
                        fingerprint: fp,
                        evidence: Evidence::default(),
                        first: false,
                    });
                }
            }
            None => {
                let detection = make();
                let fp = detection.fingerprint();
                if baseline.is_learned_fingerprint(&fp) {
                    self.stats.learned += 1;
                    self.index.insert(key, Slot::Learned);
                    return;
                }
                if self.pending.len() >= self.limit || self.index.len() >= self.limit * 4 {
                    self.stats.table_full += 1;
                    self.flush(out);
                    self.pending.clear();
                    self.index.clear();
                }
                self.index.insert(key, Slot::Pending(fp.clone()));
                if let Some(p) = self.pending.get_mut(&fp) {
                    // Another sighting key for a fingerprint already pending.
                    p.unreported = p.unreported.saturating_add(1);
                    return;
                }
                let mut f: Vec<u64> = frames.to_vec();
                f.sort_unstable();
                f.dedup();
                let skip = f.len().saturating_sub(self.evidence_frames);
                let frames: Vec<u64> = f.into_iter().skip(skip).collect();
                self.pending.insert(
                    fp.clone(),
                    Pending { latest: detection.clone(), unreported: 0, reported_at: time },
                );
                self.stats.reported += 1;
                out.push(Finding {
                    detection,
                    fingerprint: fp,
                    evidence: Evidence { frames },
                    first: true,
                });
            }
        }
    }

    /// Packet time moved to `now`: reports sightings older than the interval.
    pub fn tick(&mut self, now: Timestamp, out: &mut Vec<Finding>) {
        if now.0.saturating_sub(self.last_sweep.0) < self.interval {
            return;
        }
        self.last_sweep = now;
        for (fp, p) in &mut self.pending {
            if p.unreported > 0 && now.0.saturating_sub(p.reported_at.0) >= self.interval {
                let mut d = p.latest.clone();
                d.count = p.unreported;
                p.unreported = 0;
                p.reported_at = now;
                self.stats.reported += 1;
                out.push(Finding {
                    detection: d,
                    fingerprint: fp.clone(),
                    evidence: Evidence::default(),
                    first: false,
                });
            }
        }
    }

    /// Reports every sighting not reported yet.
    pub fn flush(&mut self, out: &mut Vec<Finding>) {
        for (fp, p) in &mut self.pending {
            if p.unreported > 0 {
                let mut d = p.latest.clone();
                d.count = p.unreported;
                p.unreported = 0;
                self.stats.reported += 1;
                out.push(Finding {
                    detection: d,
                    fingerprint: fp.clone(),
                    evidence: Evidence::default(),
                    first: false,
                });
            }
        }
    }

    /// The learned alerts changed: forget what was decided from the old set.
    /// Pending sightings of fingerprints that are now learned are dropped.
    pub fn baseline_changed(&mut self, baseline: &Baseline) {
        self.index.retain(|_, s| matches!(s, Slot::Pending(_)));
        let learned: Vec<String> =
            self.pending.keys().filter(|fp| baseline.is_learned_fingerprint(fp)).cloned().collect();
        for fp in learned {
            self.pending.remove(&fp);
        }
        self.index.retain(|_, s| match s {
            Slot::Pending(fp) => !baseline.is_learned_fingerprint(fp),
            Slot::Learned => false,
        });
    }

    /// Counters.
    pub fn stats(&self) -> ReportStats {
        self.stats
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn det(secs: i64) -> Detection {
        let mut d = Detection::new("policy_new_port", Timestamp::from_secs(secs));
        d.source.ip = Some("10.0.0.1".into());
        d
    }

    fn raise(r: &mut Reporter, b: &Baseline, key: u64, secs: i64, out: &mut Vec<Finding>) {
        r.raise(key, Timestamp::from_secs(secs), &[secs as u64], || det(secs), b, out);
    }

    #[test]
    fn first_sighting_at_once_then_counts_per_interval() {
        let b = Baseline::new();
        let mut r = Reporter::new(60_000_000, 100, 4);
        let mut out = Vec::new();
        raise(&mut r, &b, 1, 0, &mut out);
        assert_eq!(out.len(), 1);
        assert!(out[0].first);
        assert_eq!(out[0].evidence.frames, vec![0]);
        for s in 1..10 {
            raise(&mut r, &b, 1, s, &mut out);
        }
        assert_eq!(out.len(), 1, "repeats are counted, not reported");
        raise(&mut r, &b, 1, 61, &mut out);
        assert_eq!(out.len(), 2);
        assert_eq!(out[1].detection.count, 10);
        assert_eq!(out[1].detection.time, Timestamp::from_secs(61));
        raise(&mut r, &b, 1, 62, &mut out);
        r.flush(&mut out);
        assert_eq!(out.len(), 3);
        assert_eq!(out[2].detection.count, 1);
        assert_eq!(out[2].detection.time, Timestamp::from_secs(62));
        r.flush(&mut out);
        assert_eq!(out.len(), 3, "nothing left");
    }

    #[test]
    fn an_aggregate_keeps_the_endpoints_of_its_first_report() {
        let b = Baseline::new();
        let mut r = Reporter::new(60_000_000, 100, 4);
        let mut out = Vec::new();
        let seen = |mac: &str, secs: i64| {
            let mut d = det(secs);
            d.source.mac = Some(mac.into());
            d
        };
        r.raise(1, Timestamp::from_secs(0), &[1], || seen("00:00:00:00:00:01", 0), &b, &mut out);
        // The same sighting key seen in a reply through a router: another MAC.
        r.raise(1, Timestamp::from_secs(61), &[2], || seen("00:00:00:00:00:fe", 61), &b, &mut out);
        assert_eq!(out.len(), 2);
        assert_eq!(out[1].detection.fingerprint(), out[0].fingerprint);
        assert_eq!(out[1].fingerprint, out[0].fingerprint);
        assert_eq!(out[1].detection.count, 1);
        assert_eq!(out[1].detection.time, Timestamp::from_secs(61));
    }

    #[test]
    fn learned_fingerprints_are_dropped() {
        let mut b = Baseline::new();
        b.set_alert_facts([det(0).fingerprint()].into(), &[]);
        let mut r = Reporter::new(60_000_000, 100, 4);
        let mut out = Vec::new();
        raise(&mut r, &b, 1, 0, &mut out);
        raise(&mut r, &b, 1, 1, &mut out);
        assert!(out.is_empty());
        assert_eq!(r.stats().learned, 2);
        b.set_alert_facts(Default::default(), &[]);
        r.baseline_changed(&b);
        raise(&mut r, &b, 1, 2, &mut out);
        assert_eq!(out.len(), 1, "unlearned traffic alerts again");
    }

    #[test]
    fn a_full_table_is_flushed_not_grown() {
        let b = Baseline::new();
        let mut r = Reporter::new(60_000_000, 2, 4);
        let mut out = Vec::new();
        for i in 0..3u64 {
            let make = || {
                let mut d = det(0);
                d.destination.ip = Some(format!("10.0.0.{}", i + 10));
                d
            };
            r.raise(i, Timestamp(0), &[], make, &b, &mut out);
            r.raise(i, Timestamp(0), &[], make, &b, &mut out);
        }
        assert_eq!(r.stats().table_full, 1);
        assert_eq!(out.iter().filter(|f| f.first).count(), 3);
        assert_eq!(out.iter().filter(|f| !f.first).map(|f| f.detection.count).sum::<u64>(), 2);
    }
}
