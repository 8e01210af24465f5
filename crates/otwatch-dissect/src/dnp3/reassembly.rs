//! DNP3 transport function: reassembles application fragments from link-frame segments.
//!
//! IEEE 1815-2012 clause 8: every link frame that carries user data starts
//! with a transport octet (FIN, FIR, 6-bit sequence). A fragment starts with
//! a FIR segment, continues with segments whose sequence number is one more
//! (modulo 64) than the previous, and ends with FIN. Reassembly is per
//! (source, destination) address pair, since several links can share one TCP
//! connection. Segments from frames with CRC errors never reach here (the
//! link layer discards them). Memory is bounded by [`MAX_REASSEMBLY_SLOTS`]
//! address pairs of at most [`MAX_FRAGMENT_LEN`] octets each; hitting either
//! limit is an anomaly, never growth.

use super::anomaly::Anomalies;
use super::types::{LinkFrame, TransportHeader};
use super::{MAX_FRAGMENT_LEN, MAX_REASSEMBLY_SLOTS};

/// Capacity above which an idle slot's buffer is released instead of kept.
const KEEP_CAPACITY: usize = 2048;

/// What one link frame's transport segment did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment<'r> {
    /// The transport header of the segment.
    pub header: TransportHeader,
    /// The application fragment this segment completed, if any.
    pub fragment: Option<&'r [u8]>,
    /// Transport anomalies (missing FIR, out of sequence, discarded fragment,
    /// fragment too long, too many reassemblies).
    pub anomalies: Anomalies,
}

#[derive(Debug)]
struct Slot {
    source: u16,
    destination: u16,
    /// Whether a fragment is being assembled.
    active: bool,
    /// Sequence number of the last accepted segment.
    last_seq: u8,
    buf: Vec<u8>,
    /// When the slot was last used, for least-recently-used eviction.
    used: u64,
}

/// Reassembles application fragments for the address pairs of one
/// connection (or one capture, for UDP).
#[derive(Debug, Default)]
pub struct Reassembler {
    slots: Vec<Slot>,
    clock: u64,
}

impl Reassembler {
    /// An empty reassembler.
    pub fn new() -> Reassembler {
        Reassembler::default()
    }

    /// Octets held in partial fragments.
    pub fn buffered(&self) -> usize {
        self.slots.iter().filter(|s| s.active).map(|s| s.buf.len()).sum()
    }

    /// Feeds the transport segment of `frame`. Returns `None` when the frame
    /// carries no segment (not a user-data function, no user data, or a CRC
    /// error); otherwise what the segment did, with the completed fragment
    /// when this segment had FIN.
    pub fn push(&mut self, frame: &LinkFrame<'_>) -> Option<Segment<'_>> {
        if !frame.carries_segment() {
            return None;
        }
        let header = frame.transport_header()?;
        self.clock = self.clock.wrapping_add(1);
        let mut anomalies = Anomalies::NONE;
        let idx = self.slot_for(frame.header.source, frame.header.destination, &mut anomalies);
        let clock = self.clock;
        let slot = self.slots.get_mut(idx)?;
        slot.used = clock;

        if header.fir() {
            if slot.active {
                anomalies |= Anomalies::TRANSPORT_FRAGMENT_DISCARDED;
            }
            // Also releases a large buffer left by the previous fragment.
            reset(slot);
            slot.active = true;
        } else if !slot.active {
            anomalies |= Anomalies::TRANSPORT_MISSING_FIR;
            return Some(Segment { header, fragment: None, anomalies });
        } else if header.seq() == slot.last_seq {
            // A repeated segment (link-layer retry): already have it.
            return Some(Segment { header, fragment: None, anomalies });
        } else if header.seq() != next_seq(slot.last_seq) {
            anomalies |= Anomalies::TRANSPORT_OUT_OF_SEQUENCE;
            reset(slot);
            return Some(Segment { header, fragment: None, anomalies });
        }
        slot.last_seq = header.seq();

        let payload_len = frame.header.user_data_len().saturating_sub(1);
        if slot.buf.len().saturating_add(payload_len) > MAX_FRAGMENT_LEN {
            anomalies |= Anomalies::FRAGMENT_TOO_LONG;
            reset(slot);
            return Some(Segment { header, fragment: None, anomalies });
        }
        let mut first = true;
        for chunk in frame.chunks() {
            let data = if first { chunk.data.get(1..).unwrap_or(&[]) } else { chunk.data };
            first = false;
            slot.buf.extend_from_slice(data);
        }

        if header.fin() {
            slot.active = false;
            return Some(Segment { header, fragment: Some(&slot.buf), anomalies });
        }
        Some(Segment { header, fragment: None, anomalies })
    }

    /// The slot for an address pair: its own, a free one, a new one, or the
    /// least recently used (dropping its partial fragment).
    fn slot_for(&mut self, source: u16, destination: u16, anomalies: &mut Anomalies) -> usize {
        if let Some(i) =
            self.slots.iter().position(|s| s.source == source && s.destination == destination)
        {
            return i;
        }
        let fresh = Slot {
            source,
            destination,
            active: false,
            last_seq: 0,
            buf: Vec::new(),
            used: self.clock,
        };
        if self.slots.len() < MAX_REASSEMBLY_SLOTS {
            self.slots.push(fresh);
            return self.slots.len().saturating_sub(1);
        }
        let idle = self.slots.iter().position(|s| !s.active);
        let victim = idle.unwrap_or_else(|| {
            self.slots.iter().enumerate().min_by_key(|(_, s)| s.used).map_or(0, |(i, _)| i)
        });
        if let Some(slot) = self.slots.get_mut(victim) {
            if slot.active {
                *anomalies |= Anomalies::TOO_MANY_REASSEMBLIES;
            }
            *slot = fresh;
        }
        victim
    }
}

/// The sequence number after `seq`, modulo 64.
fn next_seq(seq: u8) -> u8 {
    seq.wrapping_add(1) & 0x3F
}

/// Drops a slot's partial fragment and releases a large buffer.
fn reset(slot: &mut Slot) {
    slot.active = false;
    if slot.buf.capacity() > KEEP_CAPACITY {
        slot.buf = Vec::new();
    } else {
        slot.buf.clear();
    }
}
