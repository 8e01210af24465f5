//! Reassembly of segmented BACnet messages (clause 5.2, 20.1.2.7–20.1.2.8).
//!
//! A Confirmed-Request or ComplexACK too large for one APDU is sent as numbered
//! segments; the service parameters only decode once they are put back together.
//! [`Reassembly`] holds one transaction's segments (the caller keys it by the
//! peers and the invoke id) within [`MAX_REASSEMBLED_LEN`] octets and
//! [`MAX_SEGMENTS`] segments. It knows nothing about flows or time-outs.

use super::anomaly::Anomalies;
use super::types::ConfirmedService;

/// Most octets one reassembled message may hold; more discards it.
pub const MAX_REASSEMBLED_LEN: usize = 128 * 1024;
/// Most segments one message may have (sequence numbers are one octet).
pub const MAX_SEGMENTS: usize = 256;

/// What happened to a segment handed to [`Reassembly::push`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reassembled {
    /// Kept; more segments are expected.
    Pending,
    /// The last segment arrived: the whole service data.
    Complete(Vec<u8>),
    /// A repeat of a segment already kept (a retransmission), or a segment with no
    /// first segment before it; ignored.
    Ignored,
    /// The message was discarded: a segment was missing, the service changed
    /// mid-message, or a limit was hit. The flags say which.
    Discarded(Anomalies),
}

#[derive(Clone, Debug)]
struct InProgress {
    service: ConfirmedService,
    next_sequence: u8,
    segments: usize,
    data: Vec<u8>,
}

/// The segments of one transaction, in order.
#[derive(Clone, Debug, Default)]
pub struct Reassembly {
    current: Option<InProgress>,
}

impl Reassembly {
    /// A reassembly with nothing buffered.
    pub fn new() -> Reassembly {
        Reassembly::default()
    }

    /// Whether segments are buffered.
    pub fn is_pending(&self) -> bool {
        self.current.is_some()
    }

    /// Adds one segment: its service choice, sequence number, more-follows bit
    /// and service data. Sequence number 0 starts a new message (dropping any
    /// unfinished one).
    pub fn push(
        &mut self,
        service: ConfirmedService,
        sequence_number: u8,
        more_follows: bool,
        data: &[u8],
    ) -> Reassembled {
        if sequence_number == 0 {
            self.current = None;
            let mut fresh = InProgress { service, next_sequence: 0, segments: 0, data: Vec::new() };
            let out = Self::append(&mut fresh, data, more_follows);
            if out == Reassembled::Pending {
                self.current = Some(fresh);
            }
            return out;
        }
        let Some(cur) = self.current.as_mut() else { return Reassembled::Ignored };
        if sequence_number != cur.next_sequence {
            // A retransmission of the previous segment is harmless.
            if sequence_number == cur.next_sequence.wrapping_sub(1) {
                return Reassembled::Ignored;
            }
            self.current = None;
            return Reassembled::Discarded(Anomalies::SEGMENTATION_ERROR);
        }
        if service != cur.service {
            self.current = None;
            return Reassembled::Discarded(Anomalies::SEGMENTATION_ERROR);
        }
        let out = Self::append(cur, data, more_follows);
        if out != Reassembled::Pending {
            self.current = None;
        }
        out
    }

    fn append(cur: &mut InProgress, data: &[u8], more_follows: bool) -> Reassembled {
        let total = cur.data.len().saturating_add(data.len());
        cur.segments = cur.segments.saturating_add(1);
        if total > MAX_REASSEMBLED_LEN || (cur.segments >= MAX_SEGMENTS && more_follows) {
            return Reassembled::Discarded(Anomalies::TOO_MANY_ITEMS);
        }
        cur.data.extend_from_slice(data);
        cur.next_sequence = cur.next_sequence.wrapping_add(1);
        if more_follows {
            Reassembled::Pending
        } else {
            Reassembled::Complete(std::mem::take(&mut cur.data))
        }
    }
}
