//! Bounded IPv4 fragment reassembly, timed by packet timestamps.
//!
//! Fragments are keyed by (source, destination, protocol, identification)
//! as RFC 791 section 3.2 prescribes. Memory is bounded by named limits: at
//! most [`MAX_PENDING_DATAGRAMS`] datagrams in progress, each at most
//! [`MAX_DATAGRAM_LEN`] bytes in at most [`MAX_FRAGMENTS_PER_DATAGRAM`]
//! pieces. Datagrams not completed within [`FRAGMENT_TIMEOUT_NS`] of packet
//! time are dropped. Hitting any limit sets a flag on the frame being
//! decoded. Buffers are recycled, so steady-state reassembly does not
//! allocate.
//!
//! This module does not parse IP headers; the caller (using etherparse)
//! hands it the fragment offset, the more-fragments bit and the payload.

use crate::WireAnomalies;

/// Datagrams being reassembled at once; when full the oldest is dropped.
pub const MAX_PENDING_DATAGRAMS: usize = 64;
/// Fragments accepted for one datagram.
pub const MAX_FRAGMENTS_PER_DATAGRAM: usize = 64;
/// Largest reassembled IPv4 payload (the 16-bit total length field bounds it).
pub const MAX_DATAGRAM_LEN: usize = 65_535;
/// Packet time after the first fragment when an incomplete datagram is dropped (30 s).
pub const FRAGMENT_TIMEOUT_NS: u64 = 30_000_000_000;

/// What identifies the fragments of one datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FragmentKey {
    /// Source address.
    pub src: [u8; 4],
    /// Destination address.
    pub dst: [u8; 4],
    /// IP protocol number.
    pub protocol: u8,
    /// IP identification field.
    pub id: u16,
}

/// One fragment as found in an IPv4 header.
#[derive(Clone, Copy, Debug)]
pub struct Fragment<'a> {
    /// Offset of this fragment's payload in bytes (the header field times 8).
    pub offset: usize,
    /// The more-fragments flag.
    pub more: bool,
    /// The fragment's payload.
    pub payload: &'a [u8],
}

#[derive(Debug)]
struct Pending {
    key: FragmentKey,
    first_ns: u64,
    data: Vec<u8>,
    /// Received byte ranges, sorted and merged.
    ranges: Vec<(usize, usize)>,
    total: Option<usize>,
    fragments: usize,
}

/// The reassembly state of one decoder.
#[derive(Debug, Default)]
pub struct Defragmenter {
    pending: Vec<Pending>,
    spare: Vec<Vec<u8>>,
    out: Vec<u8>,
}

impl Defragmenter {
    /// An empty reassembly table.
    pub fn new() -> Defragmenter {
        Defragmenter::default()
    }

    /// Datagrams currently waiting for fragments.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Adds one fragment. Returns the reassembled payload and the number of
    /// fragments it was built from when this fragment completes a datagram.
    pub fn push(
        &mut self,
        key: FragmentKey,
        frag: Fragment<'_>,
        now_ns: u64,
        anomalies: &mut WireAnomalies,
    ) -> Option<(&[u8], usize)> {
        self.expire(now_ns, anomalies);
        let Some(end) = frag.offset.checked_add(frag.payload.len()) else {
            anomalies.insert(WireAnomalies::FRAGMENT_TOO_LARGE);
            return None;
        };
        if end > MAX_DATAGRAM_LEN {
            anomalies.insert(WireAnomalies::FRAGMENT_TOO_LARGE);
            return None;
        }
        let idx = match self.pending.iter().position(|p| p.key == key) {
            Some(i) => i,
            None => self.insert(key, now_ns, anomalies),
        };
        let p = self.pending.get_mut(idx)?;
        if p.fragments >= MAX_FRAGMENTS_PER_DATAGRAM {
            anomalies.insert(WireAnomalies::TOO_MANY_FRAGMENTS);
            self.drop_at(idx);
            return None;
        }
        p.fragments = p.fragments.saturating_add(1);
        if !frag.more {
            if p.total.is_some_and(|t| t != end) {
                anomalies.insert(WireAnomalies::FRAGMENT_OVERLAP);
            }
            p.total = Some(end);
        }
        if p.total.is_some_and(|t| end > t) {
            anomalies.insert(WireAnomalies::FRAGMENT_OVERLAP);
        }
        if p.data.len() < end {
            p.data.resize(end, 0);
        }
        if let Some(dst) = p.data.get_mut(frag.offset..end) {
            dst.copy_from_slice(frag.payload);
        }
        if add_range(&mut p.ranges, frag.offset, end) {
            anomalies.insert(WireAnomalies::FRAGMENT_OVERLAP);
        }
        let complete = match (p.total, p.ranges.as_slice()) {
            (Some(t), [(0, e)]) => *e >= t,
            _ => false,
        };
        if !complete {
            return None;
        }
        let done = self.pending.swap_remove(idx);
        let total = done.total.unwrap_or(0);
        let fragments = done.fragments;
        let old = std::mem::replace(&mut self.out, done.data);
        self.recycle(old);
        self.out.truncate(total);
        Some((self.out.as_slice(), fragments))
    }

    fn insert(&mut self, key: FragmentKey, now_ns: u64, anomalies: &mut WireAnomalies) -> usize {
        if self.pending.len() >= MAX_PENDING_DATAGRAMS {
            anomalies.insert(WireAnomalies::FRAGMENT_TABLE_FULL);
            if let Some(oldest) =
                self.pending.iter().enumerate().min_by_key(|(_, p)| p.first_ns).map(|(i, _)| i)
            {
                self.drop_at(oldest);
            }
        }
        let mut data = self.spare.pop().unwrap_or_default();
        data.clear();
        self.pending.push(Pending {
            key,
            first_ns: now_ns,
            data,
            ranges: Vec::new(),
            total: None,
            fragments: 0,
        });
        self.pending.len().saturating_sub(1)
    }

    fn expire(&mut self, now_ns: u64, anomalies: &mut WireAnomalies) {
        let mut i = 0;
        while i < self.pending.len() {
            let old = self
                .pending
                .get(i)
                .is_some_and(|p| now_ns.saturating_sub(p.first_ns) > FRAGMENT_TIMEOUT_NS);
            if old {
                anomalies.insert(WireAnomalies::FRAGMENT_TIMEOUT);
                self.drop_at(i);
            } else {
                i = i.saturating_add(1);
            }
        }
    }

    fn drop_at(&mut self, idx: usize) {
        if idx < self.pending.len() {
            let p = self.pending.swap_remove(idx);
            self.recycle(p.data);
        }
    }

    fn recycle(&mut self, mut buf: Vec<u8>) {
        if self.spare.len() < MAX_PENDING_DATAGRAMS {
            buf.clear();
            self.spare.push(buf);
        }
    }
}

/// Adds `[start, end)` to a sorted list of disjoint ranges, merging
/// neighbours. Returns whether the new range overlapped bytes already there.
fn add_range(ranges: &mut Vec<(usize, usize)>, start: usize, end: usize) -> bool {
    let overlap = ranges.iter().any(|&(s, e)| start < e && s < end);
    let (mut s, mut e) = (start, end);
    ranges.retain(|&(rs, re)| {
        if rs <= e && s <= re {
            s = s.min(rs);
            e = e.max(re);
            false
        } else {
            true
        }
    });
    let at = ranges.iter().position(|&(rs, _)| rs > s).unwrap_or(ranges.len());
    ranges.insert(at, (s, e));
    overlap
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: FragmentKey =
        FragmentKey { src: [10, 0, 0, 1], dst: [10, 0, 0, 2], protocol: 17, id: 7 };

    fn frag(offset: usize, more: bool, payload: &[u8]) -> Fragment<'_> {
        Fragment { offset, more, payload }
    }

    #[test]
    fn reassembles_out_of_order_fragments() {
        let mut d = Defragmenter::new();
        let mut a = WireAnomalies::NONE;
        assert!(d.push(KEY, frag(8, false, b"world"), 0, &mut a).is_none());
        let (payload, n) = d.push(KEY, frag(0, true, b"hello, w"), 1, &mut a).unwrap();
        assert_eq!(payload, b"hello, wworld");
        assert_eq!(n, 2);
        assert!(a.is_empty());
        assert_eq!(d.pending(), 0);
    }

    #[test]
    fn flags_overlap_and_timeout() {
        let mut d = Defragmenter::new();
        let mut a = WireAnomalies::NONE;
        assert!(d.push(KEY, frag(0, true, &[1; 16]), 0, &mut a).is_none());
        assert!(d.push(KEY, frag(8, true, &[2; 16]), 0, &mut a).is_none());
        assert!(a.contains(WireAnomalies::FRAGMENT_OVERLAP));
        let mut b = WireAnomalies::NONE;
        let other = FragmentKey { id: 8, ..KEY };
        assert!(d.push(other, frag(0, true, &[0; 8]), FRAGMENT_TIMEOUT_NS + 1, &mut b).is_none());
        assert!(b.contains(WireAnomalies::FRAGMENT_TIMEOUT));
        assert_eq!(d.pending(), 1);
    }

    #[test]
    fn limits_are_enforced() {
        let mut d = Defragmenter::new();
        let mut a = WireAnomalies::NONE;
        assert!(d.push(KEY, frag(65_528, false, &[0; 16]), 0, &mut a).is_none());
        assert!(a.contains(WireAnomalies::FRAGMENT_TOO_LARGE));
        let mut a = WireAnomalies::NONE;
        for id in 0..=MAX_PENDING_DATAGRAMS as u16 {
            d.push(FragmentKey { id, ..KEY }, frag(0, true, &[0; 8]), u64::from(id), &mut a);
        }
        assert!(a.contains(WireAnomalies::FRAGMENT_TABLE_FULL));
        assert_eq!(d.pending(), MAX_PENDING_DATAGRAMS);
        let mut a = WireAnomalies::NONE;
        let k = FragmentKey { id: 999, ..KEY };
        for i in 0..=MAX_FRAGMENTS_PER_DATAGRAM {
            d.push(k, frag(i * 8, true, &[0; 8]), 1000, &mut a);
        }
        assert!(a.contains(WireAnomalies::TOO_MANY_FRAGMENTS));
    }

    #[test]
    fn ranges_merge() {
        let mut r = Vec::new();
        assert!(!add_range(&mut r, 10, 20));
        assert!(!add_range(&mut r, 0, 10));
        assert!(!add_range(&mut r, 30, 40));
        assert_eq!(r, [(0, 20), (30, 40)]);
        assert!(add_range(&mut r, 15, 35));
        assert_eq!(r, [(0, 40)]);
    }
}
