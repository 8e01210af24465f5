//! From raised detections to reported findings: learned-fingerprint
//! suppression and aggregation of repeated sightings.
//!
//! An engine raises a [`Detection`] every time it sees alert-worthy traffic;
//! the same traffic (same fingerprint) may be seen thousands of times. The
//! [`Reporter`] reports the first sighting at once (it starts the alert and
//! its PCAP evidence) and then counts: every `report_interval` of packet
//! time, and at the end, the sightings counted since the last report are
//! reported as one detection with `count` set. The store adds the count to
//! the open alert, so occurrence counts are exact while the store sees one
//! row per fingerprint and interval instead of one per packet.
//!
//! Detections whose fingerprint is a learned alert are dropped here (the
//! store would drop them too; the engine honours the baseline itself).
//! Everything is ordered by fingerprint (`BTreeMap`), so output order does
//! not depend on hashing. The table is bounded by
//! [`crate::settings::Limits::pending_reports`]; when it is full, everything
//! pending is reported and the table starts again (reported as a limit hit).

use std::collections::BTreeMap;

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
    /// The triggering frames.
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
    /// Detections raised by the engines.
    pub raised: u64,
    /// Dropped because their fingerprint is a learned alert.
    pub learned: u64,
    /// Findings reported.
    pub reported: u64,
    /// Times the pending table was full and flushed early.
    pub table_full: u64,
}

/// Aggregates repeated sightings between reports.
#[derive(Debug)]
pub struct Reporter {
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
            pending: BTreeMap::new(),
            interval: interval.max(1),
            limit: limit.max(1),
            evidence_frames: evidence_frames.max(1),
            last_sweep: Timestamp(i64::MIN),
            stats: ReportStats::default(),
        }
    }

    /// One sighting. Pushes a finding to `out` when it must be reported now.
    pub fn raise(
        &mut self,
        detection: Detection,
        frames: &[u64],
        baseline: &Baseline,
        out: &mut Vec<Finding>,
    ) {
        self.stats.raised += 1;
        let fp = detection.fingerprint();
        if baseline.is_learned_fingerprint(&fp) {
            self.stats.learned += 1;
            return;
        }
        let t = detection.time;
        if let Some(p) = self.pending.get_mut(&fp) {
            p.unreported = p.unreported.saturating_add(detection.count.max(1));
            if t >= p.latest.time {
                p.latest = detection;
            }
            if t.0.saturating_sub(p.reported_at.0) >= self.interval {
                let mut d = p.latest.clone();
                d.count = p.unreported;
                p.unreported = 0;
                p.reported_at = t;
                self.stats.reported += 1;
                out.push(Finding {
                    detection: d,
                    fingerprint: fp,
                    evidence: Evidence::default(),
                    first: false,
                });
            }
            return;
        }
        if self.pending.len() >= self.limit {
            self.stats.table_full += 1;
            self.flush(out);
            self.pending.clear();
        }
        let frames: Vec<u64> = {
            let mut f: Vec<u64> = frames.to_vec();
            f.sort_unstable();
            f.dedup();
            let skip = f.len().saturating_sub(self.evidence_frames);
            f.into_iter().skip(skip).collect()
        };
        self.pending.insert(
            fp.clone(),
            Pending { latest: detection.clone(), unreported: 0, reported_at: t },
        );
        self.stats.reported += 1;
        out.push(Finding { detection, fingerprint: fp, evidence: Evidence { frames }, first: true });
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

    #[test]
    fn first_sighting_at_once_then_counts_per_interval() {
        let b = Baseline::new();
        let mut r = Reporter::new(60_000_000, 100, 4);
        let mut out = Vec::new();
        r.raise(det(0), &[1, 2], &b, &mut out);
        assert_eq!(out.len(), 1);
        assert!(out[0].first);
        assert_eq!(out[0].evidence.frames, vec![1, 2]);
        for s in 1..10 {
            r.raise(det(s), &[s as u64], &b, &mut out);
        }
        assert_eq!(out.len(), 1, "repeats are counted, not reported");
        r.raise(det(61), &[], &b, &mut out);
        assert_eq!(out.len(), 2);
        assert_eq!(out[1].detection.count, 10);
        assert_eq!(out[1].detection.time, Timestamp::from_secs(61));
        r.raise(det(62), &[], &b, &mut out);
        r.flush(&mut out);
        assert_eq!(out.len(), 3);
        assert_eq!(out[2].detection.count, 1);
        r.flush(&mut out);
        assert_eq!(out.len(), 3, "nothing left");
    }

    #[test]
    fn learned_fingerprints_are_dropped() {
        let mut b = Baseline::new();
        b.set_alert_facts([det(0).fingerprint()].into(), &[]);
        let mut r = Reporter::new(60_000_000, 100, 4);
        let mut out = Vec::new();
        r.raise(det(0), &[], &b, &mut out);
        assert!(out.is_empty());
        assert_eq!(r.stats().learned, 1);
    }

    #[test]
    fn a_full_table_is_flushed_not_grown() {
        let b = Baseline::new();
        let mut r = Reporter::new(60_000_000, 2, 4);
        let mut out = Vec::new();
        for i in 0..3 {
            let mut d = det(0);
            d.destination.ip = Some(format!("10.0.0.{}", i + 10));
            r.raise(d.clone(), &[], &b, &mut out);
            r.raise(d, &[], &b, &mut out);
        }
        assert_eq!(r.stats().table_full, 1);
        assert_eq!(out.iter().filter(|f| f.first).count(), 3);
        assert_eq!(out.iter().filter(|f| !f.first).map(|f| f.detection.count).sum::<u64>(), 2);
    }
}
