//! PCAP evidence: a bounded ring of recent packets per flow, and the
//! per-alert captures cut from it.
//!
//! Every packet is recorded in the ring of its flow (TCP/UDP flow id; for
//! traffic outside flows, the sender's IP or MAC address). A ring keeps the
//! last [`EvidenceConfig::per_flow`] packets; all rings together keep at
//! most [`EvidenceConfig::max_bytes`] of packet data, and when that is
//! exceeded the rings of the least recently active flows are dropped first.
//!
//! When a finding is reported for the first time, an evidence request is
//! opened: the triggering frames still in the rings, up to
//! [`EvidenceConfig::before`] earlier packets of the same flows, and then
//! the next [`EvidenceConfig::after`] packets of those flows as they arrive
//! (or until [`EvidenceConfig::after_timeout_ns`] of packet time has passed,
//! or the input ends). A completed request whose alert id is known becomes a
//! classic pcap file (nanosecond timestamps, the link type of its packets),
//! ready for `Store::put_alert_pcap`. Open requests are bounded by
//! [`EvidenceConfig::max_requests`]; requests beyond it are counted and
//! dropped.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};
use std::net::IpAddr;
use std::sync::Arc;

/// Hashes frame numbers: the sensor assigns them (1, 2, 3, …), so no
/// sender can choose them, and one multiply spreads them well. The keyed
/// default hasher cost about 5% of the whole pipeline here (perf, see
/// BENCHMARKS.md).
#[derive(Default)]
struct FrameHasher(u64);

impl Hasher for FrameHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(*b)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0 ^ n).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

type FrameMap<V> = HashMap<u64, V, BuildHasherDefault<FrameHasher>>;

/// Where a packet's ring is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RingKey {
    /// A TCP or UDP flow.
    Flow(u64),
    /// Traffic outside flows, by sender IP.
    Ip(IpAddr),
    /// Traffic without IP, by sender MAC.
    Mac([u8; 6]),
    /// Frames with no usable address.
    Other,
}

/// Sizes and windows of the evidence buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EvidenceConfig {
    /// Packets kept per ring.
    pub per_flow: usize,
    /// Bytes of packet data kept in all rings together.
    pub max_bytes: usize,
    /// Packets before the trigger (same flows) in an alert's capture.
    pub before: usize,
    /// Packets after the trigger (same flows) in an alert's capture.
    pub after: usize,
    /// Packet time after which an open request stops waiting for `after` packets.
    pub after_timeout_ns: u64,
    /// Open requests at most.
    pub max_requests: usize,
}

impl Default for EvidenceConfig {
    fn default() -> EvidenceConfig {
        EvidenceConfig {
            per_flow: 64,
            max_bytes: 64 << 20,
            before: 10,
            after: 10,
            after_timeout_ns: 30_000_000_000,
            max_requests: 4096,
        }
    }
}

/// One stored packet.
#[derive(Debug)]
pub struct StoredPacket {
    /// Frame number.
    pub frame: u64,
    /// Capture time, ns.
    pub ts_ns: u64,
    /// Length on the wire.
    pub orig_len: u32,
    /// Link type (LINKTYPE_* number).
    pub link_type: u32,
    /// Captured bytes.
    pub data: Box<[u8]>,
}

#[derive(Debug, Default)]
struct Ring {
    packets: VecDeque<Arc<StoredPacket>>,
    last_frame: u64,
}

#[derive(Debug)]
struct Request {
    keys: BTreeSet<RingKey>,
    packets: BTreeMap<u64, Arc<StoredPacket>>,
    after_left: usize,
    opened_ns: u64,
    alert: Option<i64>,
    done: bool,
}

/// Counters of the evidence buffer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EvidenceStats {
    /// Packets recorded.
    pub packets: u64,
    /// Rings dropped to stay within the byte budget.
    pub rings_evicted: u64,
    /// Requests opened.
    pub requests: u64,
    /// Requests dropped because too many were open.
    pub requests_dropped: u64,
    /// Requests whose triggering frames had already left the rings.
    pub triggers_missing: u64,
    /// Captures produced.
    pub captures: u64,
}

/// The rings and the open evidence requests.
#[derive(Debug)]
pub struct EvidenceBuffer {
    cfg: EvidenceConfig,
    rings: HashMap<RingKey, Ring>,
    /// A frame of each ring → the ring, for least-recently-active eviction.
    /// Updated lazily: an entry may be older than its ring's last frame, and
    /// is moved up when eviction finds it so (no tree update per packet).
    lru: BTreeMap<u64, RingKey>,
    /// frame → ring, for frames still held.
    frames: FrameMap<RingKey>,
    bytes: usize,
    requests: BTreeMap<String, Request>,
    /// ring → requests still waiting for packets of it.
    waiting: HashMap<RingKey, BTreeSet<String>>,
    stats: EvidenceStats,
}

impl EvidenceBuffer {
    /// An empty buffer.
    pub fn new(cfg: EvidenceConfig) -> EvidenceBuffer {
        EvidenceBuffer {
            cfg,
            rings: HashMap::new(),
            lru: BTreeMap::new(),
            frames: FrameMap::default(),
            bytes: 0,
            requests: BTreeMap::new(),
            waiting: HashMap::new(),
            stats: EvidenceStats::default(),
        }
    }

    /// Records one packet in its ring, and in the open requests that wait for it.
    pub fn record(&mut self, key: RingKey, packet: StoredPacket) {
        self.stats.packets += 1;
        let frame = packet.frame;
        let ts = packet.ts_ns;
        let size = packet.data.len() + 64;
        let p = Arc::new(packet);
        if let Some(fps) = if self.waiting.is_empty() { None } else { self.waiting.get_mut(&key) } {
            fps.retain(|fp| {
                let Some(r) = self.requests.get_mut(fp) else { return false };
                if r.done {
                    return false;
                }
                if ts.saturating_sub(r.opened_ns) >= self.cfg.after_timeout_ns {
                    r.done = true;
                    return false;
                }
                r.packets.insert(frame, Arc::clone(&p));
                r.after_left = r.after_left.saturating_sub(1);
                if r.after_left == 0 {
                    r.done = true;
                }
                !r.done
            });
            if fps.is_empty() {
                self.waiting.remove(&key);
            }
        }
        let ring = self.rings.entry(key).or_default();
        if ring.last_frame == 0 {
            self.lru.insert(frame, key);
        }
        ring.last_frame = frame;
        ring.packets.push_back(p);
        self.frames.insert(frame, key);
        self.bytes += size;
        while ring.packets.len() > self.cfg.per_flow.max(1) {
            if let Some(old) = ring.packets.pop_front() {
                self.frames.remove(&old.frame);
                self.bytes = self.bytes.saturating_sub(old.data.len() + 64);
            }
        }
        while self.bytes > self.cfg.max_bytes {
            let Some((last, victim)) = self.lru.pop_first() else { break };
            match self.rings.get(&victim) {
                // Active since this entry was made: move it up and look again.
                Some(r) if r.last_frame > last => {
                    self.lru.insert(r.last_frame, victim);
                    continue;
                }
                Some(_) => {}
                None => continue,
            }
            if let Some(r) = self.rings.remove(&victim) {
                for old in r.packets {
                    self.frames.remove(&old.frame);
                    self.bytes = self.bytes.saturating_sub(old.data.len() + 64);
                }
                self.stats.rings_evicted += 1;
            }
        }
    }

    /// Opens an evidence request for a finding (by fingerprint) whose
    /// triggering frames are given. A second request for the same
    /// fingerprint is ignored.
    pub fn request(&mut self, fingerprint: &str, frames: &[u64], now_ns: u64) {
        if self.requests.contains_key(fingerprint) {
            return;
        }
        if self.requests.len() >= self.cfg.max_requests {
            self.stats.requests_dropped += 1;
            return;
        }
        self.stats.requests += 1;
        let mut keys = BTreeSet::new();
        let mut packets = BTreeMap::new();
        for f in frames {
            if let Some(k) = self.frames.get(f) {
                keys.insert(*k);
            }
        }
        if keys.is_empty() {
            self.stats.triggers_missing += 1;
        }
        let first = frames.iter().min().copied().unwrap_or(0);
        let last = frames.iter().max().copied().unwrap_or(0);
        for k in &keys {
            if let Some(ring) = self.rings.get(k) {
                let before: Vec<&Arc<StoredPacket>> =
                    ring.packets.iter().filter(|p| p.frame < first).collect();
                let skip = before.len().saturating_sub(self.cfg.before);
                for p in before.into_iter().skip(skip) {
                    packets.insert(p.frame, Arc::clone(p));
                }
                for p in ring.packets.iter().filter(|p| p.frame >= first && p.frame <= last) {
                    if frames.contains(&p.frame) || keys.len() == 1 {
                        packets.insert(p.frame, Arc::clone(p));
                    }
                }
            }
        }
        // Packets of these flows already recorded after the trigger count as "after".
        let mut after_left = self.cfg.after;
        let mut later: Vec<&Arc<StoredPacket>> = keys
            .iter()
            .filter_map(|k| self.rings.get(k))
            .flat_map(|r| r.packets.iter().filter(|p| p.frame > last))
            .collect();
        later.sort_by_key(|p| p.frame);
        for p in later.into_iter().take(after_left) {
            packets.insert(p.frame, Arc::clone(p));
            after_left -= 1;
        }
        let done = after_left == 0 || keys.is_empty();
        if !done {
            for k in &keys {
                self.waiting.entry(*k).or_default().insert(fingerprint.to_string());
            }
        }
        self.requests.insert(
            fingerprint.to_string(),
            Request { keys, packets, after_left, opened_ns: now_ns, alert: None, done },
        );
    }

    /// Tells the buffer which alert a fingerprint opened. Returns false when
    /// no request is open for it.
    pub fn assign(&mut self, fingerprint: &str, alert: i64) -> bool {
        match self.requests.get_mut(fingerprint) {
            Some(r) => {
                r.alert = Some(alert);
                true
            }
            None => false,
        }
    }

    /// Forgets the request of a fingerprint that opened no alert (learned,
    /// muted, excluded or merged into an open alert).
    pub fn discard(&mut self, fingerprint: &str) {
        if let Some(r) = self.requests.remove(fingerprint) {
            self.unwait(fingerprint, &r.keys);
        }
    }

    fn unwait(&mut self, fingerprint: &str, keys: &BTreeSet<RingKey>) {
        for k in keys {
            if let Some(set) = self.waiting.get_mut(k) {
                set.remove(fingerprint);
                if set.is_empty() {
                    self.waiting.remove(k);
                }
            }
        }
    }

    /// Packet time reached `now_ns`: requests waiting longer than the timeout are complete.
    pub fn tick(&mut self, now_ns: u64) {
        let mut expired = Vec::new();
        for (fp, r) in &mut self.requests {
            if !r.done && now_ns.saturating_sub(r.opened_ns) >= self.cfg.after_timeout_ns {
                r.done = true;
                expired.push((fp.clone(), r.keys.clone()));
            }
        }
        for (fp, keys) in expired {
            self.unwait(&fp, &keys);
        }
    }

    /// The captures ready to store: (alert id, pcap bytes). With `all`, every
    /// request with an alert id is completed now (end of input).
    pub fn take_ready(&mut self, all: bool) -> Vec<(i64, Vec<u8>)> {
        let ready: Vec<String> = self
            .requests
            .iter()
            .filter(|(_, r)| r.alert.is_some() && (r.done || all))
            .map(|(fp, _)| fp.clone())
            .collect();
        let mut out = Vec::new();
        for fp in ready {
            if let Some(r) = self.requests.remove(&fp)
                && let Some(id) = r.alert
            {
                self.unwait(&fp, &r.keys);
                self.stats.captures += 1;
                out.push((id, write_pcap(r.packets.values().map(|p| p.as_ref()))));
            }
        }
        out
    }

    /// Fingerprints of open requests that have no alert id yet.
    pub fn unassigned(&self) -> Vec<String> {
        self.requests.iter().filter(|(_, r)| r.alert.is_none()).map(|(f, _)| f.clone()).collect()
    }

    /// Counters.
    pub fn stats(&self) -> EvidenceStats {
        self.stats
    }

    /// Bytes of packet data held.
    pub fn bytes(&self) -> usize {
        self.bytes
    }
}

/// A classic pcap file (nanosecond resolution) of the packets, in the link
/// type of the first one; packets of another link type are left out.
pub fn write_pcap<'a>(packets: impl IntoIterator<Item = &'a StoredPacket>) -> Vec<u8> {
    let packets: Vec<&StoredPacket> = packets.into_iter().collect();
    let link = packets.first().map_or(1, |p| p.link_type);
    let mut out = Vec::with_capacity(24 + packets.iter().map(|p| p.data.len() + 16).sum::<usize>());
    out.extend_from_slice(&0xa1b2_3c4du32.to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&4u16.to_le_bytes());
    out.extend_from_slice(&0i32.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&262_144u32.to_le_bytes());
    out.extend_from_slice(&link.to_le_bytes());
    for p in packets.iter().filter(|p| p.link_type == link) {
        let secs = (p.ts_ns / 1_000_000_000) as u32;
        let nanos = (p.ts_ns % 1_000_000_000) as u32;
        let len = p.data.len().min(262_144);
        out.extend_from_slice(&secs.to_le_bytes());
        out.extend_from_slice(&nanos.to_le_bytes());
        out.extend_from_slice(&(len as u32).to_le_bytes());
        out.extend_from_slice(&p.orig_len.max(len as u32).to_le_bytes());
        out.extend_from_slice(&p.data[..len]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pkt(frame: u64) -> StoredPacket {
        StoredPacket {
            frame,
            ts_ns: frame * 1_000_000,
            orig_len: 60,
            link_type: 1,
            data: vec![frame as u8; 60].into_boxed_slice(),
        }
    }

    fn frames_of(pcap: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut at = 24;
        while at + 16 <= pcap.len() {
            let len = u32::from_le_bytes(pcap[at + 8..at + 12].try_into().unwrap()) as usize;
            out.push(pcap[at + 16]);
            at += 16 + len;
        }
        out
    }

    #[test]
    fn capture_has_before_trigger_and_after_of_the_same_flow() {
        let cfg = EvidenceConfig { before: 2, after: 2, ..EvidenceConfig::default() };
        let mut b = EvidenceBuffer::new(cfg);
        for f in 1..=10 {
            let key = if f % 2 == 0 { RingKey::Flow(1) } else { RingKey::Flow(2) };
            b.record(key, pkt(f));
        }
        b.request("fp", &[8], 8_000_000);
        assert!(b.assign("fp", 42));
        for f in 11..=16 {
            let key = if f % 2 == 0 { RingKey::Flow(1) } else { RingKey::Flow(2) };
            b.record(key, pkt(f));
        }
        let ready = b.take_ready(false);
        assert_eq!(ready.len(), 1);
        assert_eq!(ready[0].0, 42);
        assert_eq!(frames_of(&ready[0].1), vec![4, 6, 8, 10, 12], "flow 1 only");
    }

    #[test]
    fn the_byte_budget_drops_the_least_recent_rings() {
        let cfg = EvidenceConfig { max_bytes: 3 * 124, ..EvidenceConfig::default() };
        let mut b = EvidenceBuffer::new(cfg);
        for f in 1..=4 {
            b.record(RingKey::Flow(f), pkt(f));
        }
        assert_eq!(b.stats().rings_evicted, 1);
        assert!(b.bytes() <= 3 * 124);
        b.request("fp", &[1], 0);
        assert_eq!(b.stats().triggers_missing, 1, "frame 1's ring was dropped");
    }

    #[test]
    fn a_ring_active_again_is_not_the_least_recent() {
        let cfg = EvidenceConfig { max_bytes: 3 * 124, ..EvidenceConfig::default() };
        let mut b = EvidenceBuffer::new(cfg);
        b.record(RingKey::Flow(1), pkt(1));
        b.record(RingKey::Flow(2), pkt(2));
        b.record(RingKey::Flow(1), pkt(3));
        b.record(RingKey::Flow(3), pkt(4));
        assert_eq!(b.stats().rings_evicted, 1);
        b.request("fp", &[3], 0);
        assert_eq!(b.stats().triggers_missing, 0, "flow 1 was active after flow 2");
        b.request("fp2", &[2], 0);
        assert_eq!(b.stats().triggers_missing, 1, "flow 2 was the least recent");
    }

    #[test]
    fn end_of_input_completes_waiting_requests() {
        let mut b = EvidenceBuffer::new(EvidenceConfig::default());
        b.record(RingKey::Other, pkt(1));
        b.request("fp", &[1], 0);
        assert!(b.take_ready(true).is_empty(), "no alert id yet");
        b.assign("fp", 7);
        let ready = b.take_ready(true);
        assert_eq!(frames_of(&ready[0].1), vec![1]);
    }
}
