//! Threshold windows in packet time, and the bounded tables that hold them.
//!
//! The anomaly, malware and operational thresholds of the catalogue are
//! "N events within a window" ([`RateWindow`]) or "N distinct things within a
//! window" ([`DistinctWindow`]). Both use packet timestamps only, so the same
//! capture always crosses a threshold at the same packet. Both are bounded:
//! a rate window keeps at most [`EXACT_RATE_LIMIT`] timestamps and switches to
//! [`RATE_BUCKETS`] counting buckets above that; a distinct window holds at
//! most its threshold plus one entry. [`Bounded`] is the per-key table (per
//! source, per pair) with a size limit and least-recently-used eviction whose
//! hits are counted so the limit is reported, never silent.

use std::collections::{BTreeMap, VecDeque};

use otwatch_model::Timestamp;

/// Largest threshold counted with exact timestamps; larger thresholds use buckets.
pub const EXACT_RATE_LIMIT: u64 = 128;
/// Buckets of a bucketed rate window (the window is counted to 1/RATE_BUCKETS of its length).
pub const RATE_BUCKETS: usize = 16;

/// "N events within W" over packet time.
#[derive(Clone, Debug)]
pub enum RateWindow {
    /// Exact: the times of the last `count` events.
    Exact(VecDeque<Timestamp>),
    /// Approximate: counts per slice of the window.
    Buckets {
        /// Events per slice, oldest first.
        counts: [u64; RATE_BUCKETS],
        /// Start of the newest slice (microseconds).
        newest_start: i64,
    },
}

impl RateWindow {
    /// An empty window for a threshold of `count` events.
    pub fn new(count: u64) -> RateWindow {
        if count <= EXACT_RATE_LIMIT {
            RateWindow::Exact(VecDeque::new())
        } else {
            RateWindow::Buckets { counts: [0; RATE_BUCKETS], newest_start: i64::MIN }
        }
    }

    /// Records one event at `t`; returns how many events fall within `window`
    /// ending at `t` (capped at `count`, the threshold).
    pub fn push(&mut self, t: Timestamp, count: u64, window: i64) -> u64 {
        match self {
            RateWindow::Exact(times) => {
                times.push_back(t);
                let cap = usize::try_from(count.max(1)).unwrap_or(usize::MAX);
                while times.len() > cap {
                    times.pop_front();
                }
                let from = t.0.saturating_sub(window);
                while times.front().is_some_and(|f| f.0 < from) {
                    times.pop_front();
                }
                times.len() as u64
            }
            RateWindow::Buckets { counts, newest_start } => {
                let width = (window / RATE_BUCKETS as i64).max(1);
                let slot_start = t.0 - t.0.rem_euclid(width);
                if *newest_start == i64::MIN || slot_start > *newest_start {
                    let shift = if *newest_start == i64::MIN {
                        RATE_BUCKETS as i64
                    } else {
                        ((slot_start - *newest_start) / width).min(RATE_BUCKETS as i64)
                    };
                    let shift = shift as usize;
                    counts.rotate_left(shift.min(RATE_BUCKETS));
                    for c in counts.iter_mut().rev().take(shift) {
                        *c = 0;
                    }
                    *newest_start = slot_start;
                }
                // Events older than the newest slice (out-of-order packets) count in it.
                if let Some(last) = counts.last_mut() {
                    *last = last.saturating_add(1);
                }
                counts.iter().sum::<u64>().min(count)
            }
        }
    }

    /// Forgets every event (after an alert, so the next alert needs a fresh window).
    pub fn reset(&mut self) {
        match self {
            RateWindow::Exact(times) => times.clear(),
            RateWindow::Buckets { counts, .. } => *counts = [0; RATE_BUCKETS],
        }
    }
}

/// "N distinct values within W" over packet time, holding at most `limit` values.
#[derive(Clone, Debug)]
pub struct DistinctWindow<K: Ord> {
    seen: BTreeMap<K, Timestamp>,
}

impl<K: Ord> Default for DistinctWindow<K> {
    fn default() -> Self {
        DistinctWindow { seen: BTreeMap::new() }
    }
}

impl<K: Ord + Clone> DistinctWindow<K> {
    /// An empty window.
    pub fn new() -> DistinctWindow<K> {
        DistinctWindow { seen: BTreeMap::new() }
    }

    /// Records `value` at `t`; returns the number of distinct values seen
    /// within `window` ending at `t`. At most `limit` values are kept.
    pub fn push(&mut self, value: K, t: Timestamp, window: i64, limit: usize) -> usize {
        let from = t.0.saturating_sub(window);
        if !self.seen.contains_key(&value) && self.seen.len() >= limit.max(1) {
            self.seen.retain(|_, seen| seen.0 >= from);
            if self.seen.len() >= limit.max(1) {
                // Full of fresh values: drop the oldest one.
                if let Some(oldest) = self
                    .seen
                    .iter()
                    .min_by_key(|(k, t)| (**t, (*k).clone()))
                    .map(|(k, _)| k.clone())
                {
                    self.seen.remove(&oldest);
                }
            }
        }
        self.seen.insert(value, t);
        if self.seen.values().any(|seen| seen.0 < from) {
            self.seen.retain(|_, seen| seen.0 >= from);
        }
        self.seen.len()
    }

    /// How many values were last seen at or after `from` (microseconds).
    pub fn count_since(&self, from: i64) -> usize {
        self.seen.values().filter(|t| t.0 >= from).count()
    }

    /// The values in the window, in order.
    pub fn values(&self) -> impl Iterator<Item = &K> {
        self.seen.keys()
    }

    /// Forgets every value.
    pub fn reset(&mut self) {
        self.seen.clear();
    }

    /// How many values are held.
    pub fn len(&self) -> usize {
        self.seen.len()
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.seen.is_empty()
    }
}

/// A table of per-key state with a size limit. When a new key would exceed
/// the limit, the least recently used eighth of the table is evicted and the
/// eviction is counted.
#[derive(Clone, Debug)]
pub struct Bounded<K: Ord, V> {
    map: BTreeMap<K, (V, Timestamp)>,
    limit: usize,
    evicted: u64,
}

impl<K: Ord + Clone, V> Bounded<K, V> {
    /// An empty table holding at most `limit` keys.
    pub fn new(limit: usize) -> Bounded<K, V> {
        Bounded { map: BTreeMap::new(), limit: limit.max(1), evicted: 0 }
    }

    /// The state of `key`, created with `make` if absent; marks it used at `t`.
    pub fn entry(&mut self, key: K, t: Timestamp, make: impl FnOnce() -> V) -> &mut V {
        if !self.map.contains_key(&key) && self.map.len() >= self.limit {
            self.evict();
        }
        let slot = self.map.entry(key).or_insert_with(|| (make(), t));
        if t > slot.1 {
            slot.1 = t;
        }
        &mut slot.0
    }

    /// The state of `key`, if present (not marked used).
    pub fn get(&self, key: &K) -> Option<&V> {
        self.map.get(key).map(|(v, _)| v)
    }

    /// The state of `key`, if present, mutably (not marked used).
    pub fn get_mut(&mut self, key: &K) -> Option<&mut V> {
        self.map.get_mut(key).map(|(v, _)| v)
    }

    /// Removes a key.
    pub fn remove(&mut self, key: &K) -> Option<V> {
        self.map.remove(key).map(|(v, _)| v)
    }

    /// Every key and state, in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        self.map.iter().map(|(k, (v, _))| (k, v))
    }

    /// Every key and state, mutably, in key order.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = (&K, &mut V)> {
        self.map.iter_mut().map(|(k, (v, _))| (k, v))
    }

    /// Keeps only the entries for which `keep` is true.
    pub fn retain(&mut self, mut keep: impl FnMut(&K, &mut V) -> bool) {
        self.map.retain(|k, (v, _)| keep(k, v));
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Keys evicted because the table was full.
    pub fn evicted(&self) -> u64 {
        self.evicted
    }

    fn evict(&mut self) {
        let n = (self.limit / 8).max(1);
        let mut by_age: Vec<(Timestamp, K)> =
            self.map.iter().map(|(k, (_, t))| (*t, k.clone())).collect();
        by_age.sort();
        for (_, k) in by_age.into_iter().take(n) {
            self.map.remove(&k);
            self.evicted = self.evicted.saturating_add(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(secs: i64) -> Timestamp {
        Timestamp::from_secs(secs)
    }

    #[test]
    fn exact_rate_counts_within_the_window() {
        let mut w = RateWindow::new(3);
        let win = 60 * 1_000_000;
        assert_eq!(w.push(s(0), 3, win), 1);
        assert_eq!(w.push(s(30), 3, win), 2);
        assert_eq!(w.push(s(61), 3, win), 2, "the event at 0 left the window");
        assert_eq!(w.push(s(62), 3, win), 3);
        w.reset();
        assert_eq!(w.push(s(63), 3, win), 1);
    }

    #[test]
    fn bucketed_rate_counts_large_thresholds() {
        let mut w = RateWindow::new(3000);
        let win = 60 * 1_000_000;
        let mut n = 0;
        for i in 0..3000 {
            n = w.push(Timestamp(i * 10_000), 3000, win);
        }
        assert_eq!(n, 3000, "3000 events in 30 s");
        let mut w = RateWindow::new(3000);
        for i in 0..3000 {
            n = w.push(Timestamp(i * 100_000), 3000, win);
        }
        assert!(n < 700, "3000 events in 300 s are about 600 per minute: {n}");
    }

    #[test]
    fn distinct_values_are_bounded_and_expire() {
        let mut w = DistinctWindow::new();
        let win = 120 * 1_000_000;
        for port in 0..10u16 {
            w.push(port, s(i64::from(port)), win, 25);
        }
        assert_eq!(w.len(), 10);
        assert_eq!(w.push(3, s(20), win, 25), 10, "a repeat is not new");
        assert_eq!(w.push(100, s(200), win, 25), 1, "old values expired");
        let mut w = DistinctWindow::new();
        for port in 0..100u16 {
            w.push(port, s(0), win, 25);
        }
        assert_eq!(w.len(), 25, "never more than the limit");
    }

    #[test]
    fn bounded_table_evicts_least_recently_used() {
        let mut b: Bounded<u32, u32> = Bounded::new(8);
        for k in 0..8 {
            *b.entry(k, s(i64::from(k)), || 0) += 1;
        }
        *b.entry(0, s(100), || 0) += 1;
        b.entry(8, s(101), || 0);
        assert_eq!(b.len(), 8);
        assert_eq!(b.evicted(), 1);
        assert!(b.get(&1).is_none(), "key 1 was the least recently used");
        assert_eq!(b.get(&0), Some(&2));
    }
}
