//! One direction of a TCP connection, reassembled and cut into PDUs.
//!
//! [`StreamReassembler::push`] takes segments in capture order and delivers
//! the bytes in sequence order to a [`StreamSink`], which frames them into
//! protocol data units ([`StreamSink::frame`]) and receives each complete
//! PDU ([`StreamSink::pdu`]). Several PDUs in one segment and PDUs split
//! over several segments both work; bytes seen before (retransmissions,
//! overlaps) are ignored; missing bytes are reported as a gap
//! ([`StreamSink::gap`]) so the parser can resynchronise, and a partial PDU
//! cut by a gap is dropped.
//!
//! Two policies ([`ReassemblyPolicy`]): the default, `FirstSeen`, behaves
//! like tshark so that PDU and frame counts agree with it (a segment that
//! starts before the furthest byte seen is a retransmission, a hole is a
//! gap at once); `Reorder` holds segments after a hole until it fills, the
//! peer acknowledges past it, a limit is hit, or the stream is flushed.
//!
//! In the common case (in-order segments, whole PDUs) PDUs are handed out
//! straight from the segment without copying; only a partial PDU waiting
//! for its next segment is copied, into a buffer bounded by
//! [`StreamLimits::max_buffered`]. Held-back segments are bounded by
//! [`StreamLimits::max_out_of_order_segments`] and
//! [`StreamLimits::max_out_of_order_bytes`].

/// Bytes of a partial PDU kept per direction (256 KiB).
pub const MAX_STREAM_BUFFER: usize = 256 * 1024;
/// Out-of-order segments held per direction.
pub const MAX_OUT_OF_ORDER_SEGMENTS: usize = 32;
/// A segment (or acknowledgement) more than this far ahead of the stream
/// (1 MiB) is believed only when the next segment continues from it.
pub const MAX_SEQUENCE_JUMP: i64 = 1 << 20;
/// Out-of-order bytes held per direction (256 KiB).
pub const MAX_OUT_OF_ORDER_BYTES: usize = 256 * 1024;

/// Per-direction buffer limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StreamLimits {
    /// Largest partial PDU kept while waiting for more bytes; a PDU that
    /// needs more is dropped ([`SkipReason::Overflow`]).
    pub max_buffered: usize,
    /// Segments kept while waiting for a hole to fill.
    pub max_out_of_order_segments: usize,
    /// Bytes kept while waiting for a hole to fill.
    pub max_out_of_order_bytes: usize,
    /// What to do with segments that overlap or follow a hole.
    pub policy: ReassemblyPolicy,
}

/// How a stream treats segments that are not simply the next bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ReassemblyPolicy {
    /// What tshark (Wireshark 4.0, default preferences) does, so counts
    /// agree with it: a segment that starts before the highest sequence
    /// number seen so far is a retransmission and is ignored as a whole
    /// (even the part of it that is new), and so is one the peer has
    /// already acknowledged entirely (a "spurious retransmission", even if
    /// it is the first copy captured); a segment after a hole is used at
    /// once and the hole is a gap. Nothing is held back.
    #[default]
    FirstSeen,
    /// Hold segments that follow a hole until it fills (or the peer
    /// acknowledges past it, or a limit is hit), and use the new part of
    /// segments that overlap what was seen.
    Reorder,
}

impl Default for StreamLimits {
    fn default() -> StreamLimits {
        StreamLimits {
            max_buffered: MAX_STREAM_BUFFER,
            max_out_of_order_segments: MAX_OUT_OF_ORDER_SEGMENTS,
            max_out_of_order_bytes: MAX_OUT_OF_ORDER_BYTES,
            policy: ReassemblyPolicy::FirstSeen,
        }
    }
}

/// What a framing function says about the bytes at the start of a stream buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    /// A PDU of this many bytes starts here (it may not all be there yet).
    Pdu(usize),
    /// Too few bytes to tell the PDU length yet.
    Incomplete,
    /// These bytes are not the start of a PDU.
    Invalid,
}

/// Why bytes were dropped without being delivered as a PDU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SkipReason {
    /// The framing function rejected them ([`Framing::Invalid`]).
    Invalid,
    /// A partial PDU outgrew [`StreamLimits::max_buffered`].
    Overflow,
    /// A partial PDU was cut by a gap in the stream.
    Gap,
    /// The stream ended (or was flushed) in the middle of a PDU.
    Truncated,
}

/// Receives the reassembled stream of one direction.
pub trait StreamSink {
    /// Frames the bytes at the start of `buf`: how long is the PDU there?
    fn frame(&mut self, buf: &[u8]) -> Framing;
    /// One complete PDU, in stream order.
    fn pdu(&mut self, pdu: &[u8]);
    /// `missing` bytes of the stream were never seen; what follows starts fresh.
    fn gap(&mut self, missing: u64) {
        let _ = missing;
    }
    /// `bytes` bytes were dropped for `why`.
    fn skipped(&mut self, bytes: usize, why: SkipReason) {
        let _ = (bytes, why);
    }
    /// The start of a PDU whose rest was cut off by the capture (see
    /// [`StreamReassembler::cut`]).
    fn truncated(&mut self, partial: &[u8]) {
        let _ = partial;
    }
}

/// What one call to [`StreamReassembler::push`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PushOutcome {
    /// New in-order bytes delivered to the sink (including drained out-of-order ones).
    pub delivered: usize,
    /// Bytes of this segment already seen (a retransmission or overlap).
    pub duplicate: usize,
    /// The segment was held back because of a hole before it.
    pub held_back: bool,
    /// Gaps declared during this call.
    pub gaps: u32,
}

/// Reassembly state of one direction of a TCP connection.
#[derive(Debug, Default)]
pub struct StreamReassembler {
    limits: StreamLimits,
    next_seq: Option<u32>,
    pending: Vec<u8>,
    ooo: Vec<(u32, Vec<u8>)>,
    ooo_bytes: usize,
    peer_ack: Option<u32>,
    /// The highest sequence number seen (end of the furthest segment).
    max_end: Option<u32>,
    /// End of a segment that jumped far ahead, until a next one confirms it.
    jump_end: Option<u32>,
    /// Segments set aside because they jumped far ahead unconfirmed.
    outliers: u64,
    gaps: u64,
    fin: bool,
}

/// Signed distance from `b` to `a` in sequence space (RFC 793 modular arithmetic).
fn seq_diff(a: u32, b: u32) -> i64 {
    i64::from(a.wrapping_sub(b) as i32)
}

impl StreamReassembler {
    /// An empty stream with the given limits.
    pub fn new(limits: StreamLimits) -> StreamReassembler {
        StreamReassembler { limits, ..StreamReassembler::default() }
    }

    /// The next sequence number expected, once known.
    pub fn next_seq(&self) -> Option<u32> {
        self.next_seq
    }

    /// Bytes of a partial PDU waiting for more.
    pub fn buffered(&self) -> usize {
        self.pending.len()
    }

    /// Segments held back behind a hole.
    pub fn held_back(&self) -> usize {
        self.ooo.len()
    }

    /// Gaps declared so far.
    pub fn gaps(&self) -> u64 {
        self.gaps
    }

    /// Segments set aside because they jumped more than
    /// [`MAX_SEQUENCE_JUMP`] ahead and nothing followed on from them.
    pub fn outliers(&self) -> u64 {
        self.outliers
    }

    /// Whether a FIN was seen.
    pub fn fin_seen(&self) -> bool {
        self.fin
    }

    /// Forgets everything (a new connection reuses the 4-tuple).
    pub fn reset(&mut self) {
        let limits = self.limits;
        *self = StreamReassembler::new(limits);
    }

    /// The peer acknowledged this direction's bytes up to `ack`. Bytes
    /// before `ack` that were never seen are lost for good, so held-back
    /// segments behind them are released.
    pub fn on_peer_ack(&mut self, ack: u32, sink: &mut impl StreamSink) -> PushOutcome {
        let mut out = PushOutcome::default();
        // An acknowledgement far beyond anything this direction sent is
        // corrupt or forged; believing it would make every later segment
        // look acknowledged already (and be skipped).
        let plausible =
            self.max_end.or(self.next_seq).is_none_or(|m| seq_diff(ack, m) <= MAX_SEQUENCE_JUMP);
        if plausible && self.peer_ack.is_none_or(|p| seq_diff(ack, p) > 0) {
            self.peer_ack = Some(ack);
        }
        if let (Some(next), Some(&(first, _))) = (self.next_seq, self.ooo.first())
            && seq_diff(ack, next) > 0
            && seq_diff(ack, first) >= 0
        {
            self.gap_to(first, sink, &mut out);
            self.drain(sink, &mut out);
        }
        out
    }

    /// Adds one segment (`syn`: the SYN flag, which takes one sequence number).
    pub fn push(
        &mut self,
        seq: u32,
        syn: bool,
        fin: bool,
        payload: &[u8],
        sink: &mut impl StreamSink,
    ) -> PushOutcome {
        let mut out = PushOutcome::default();
        let mut seq = seq;
        if syn {
            let data_seq = seq.wrapping_add(1);
            if self.next_seq != Some(data_seq) {
                self.reset();
                self.next_seq = Some(data_seq);
            }
            seq = data_seq;
        }
        let next = *self.next_seq.get_or_insert(seq);
        if fin {
            self.fin = true;
        }
        if payload.is_empty() {
            return out;
        }
        if self.limits.policy == ReassemblyPolicy::FirstSeen {
            let end = seq.wrapping_add(u32::try_from(payload.len()).unwrap_or(u32::MAX));
            let max = *self.max_end.get_or_insert(next);
            // A segment far ahead of the stream is taken only when the next
            // one continues from it: a single corrupt or forged sequence
            // number must not make the rest of the stream look old.
            if seq_diff(seq, max) > MAX_SEQUENCE_JUMP {
                if self.jump_end != Some(seq) {
                    self.jump_end = Some(end);
                    self.outliers = self.outliers.saturating_add(1);
                    out.duplicate = payload.len();
                    return out;
                }
                self.jump_end = None;
            }
            if seq_diff(end, max) > 0 {
                self.max_end = Some(end);
            }
            // Before the furthest byte seen: a retransmission. Entirely
            // acknowledged by the peer already: tshark calls it a spurious
            // retransmission and skips it too, even when it is the first copy
            // captured.
            let acked = self.peer_ack.is_some_and(|a| seq_diff(a, end) >= 0);
            if seq_diff(seq, max) < 0 || acked {
                out.duplicate = payload.len();
                return out;
            }
            if seq_diff(seq, next) > 0 {
                self.gap_to(seq, sink, &mut out);
            }
            self.deliver(payload, sink, &mut out);
            return out;
        }
        let mut data = payload;
        let rel = seq_diff(seq, next);
        if rel < 0 {
            let dup = usize::try_from(rel.unsigned_abs()).unwrap_or(usize::MAX);
            if dup >= data.len() {
                out.duplicate = data.len();
                return out;
            }
            out.duplicate = dup;
            data = data.get(dup..).unwrap_or(&[]);
        } else if rel > 0 {
            let acked = self.peer_ack.is_some_and(|a| seq_diff(a, seq) >= 0);
            if !acked && self.hold_back(seq, data) {
                out.held_back = true;
                return out;
            }
            if !self.ooo.is_empty() {
                // Limits were hit: release what is held, then this segment.
                if let Some(&(first, _)) = self.ooo.first()
                    && seq_diff(first, seq) < 0
                {
                    self.gap_to(first, sink, &mut out);
                    self.drain(sink, &mut out);
                }
            }
            let next = self.next_seq.unwrap_or(seq);
            let rel = seq_diff(seq, next);
            if rel > 0 {
                self.gap_to(seq, sink, &mut out);
            } else if rel < 0 {
                let dup = usize::try_from(rel.unsigned_abs()).unwrap_or(usize::MAX);
                if dup >= data.len() {
                    out.duplicate = data.len();
                    return out;
                }
                out.duplicate = dup;
                data = data.get(dup..).unwrap_or(&[]);
            }
        }
        self.deliver(data, sink, &mut out);
        self.drain(sink, &mut out);
        out
    }

    /// The segment just pushed was cut short by the capture (snap length):
    /// its missing bytes will never come, so a partial PDU now waiting is
    /// handed over as truncated and forgotten. (tshark, too, dissects what
    /// a cut segment holds instead of waiting for the rest.)
    pub fn cut(&mut self, sink: &mut impl StreamSink) {
        if !self.pending.is_empty() {
            sink.truncated(&self.pending);
            self.pending.clear();
        }
    }

    /// Ends the stream: held-back segments are delivered after their gaps,
    /// and a partial PDU left over is dropped ([`SkipReason::Truncated`]).
    pub fn flush(&mut self, sink: &mut impl StreamSink) -> PushOutcome {
        let mut out = PushOutcome::default();
        while let Some(&(first, _)) = self.ooo.first() {
            self.gap_to(first, sink, &mut out);
            self.drain(sink, &mut out);
        }
        if !self.pending.is_empty() {
            sink.skipped(self.pending.len(), SkipReason::Truncated);
            self.pending.clear();
        }
        out
    }

    /// Keeps a segment that follows a hole. Returns false when a limit
    /// does not allow it (the caller then declares the gap).
    fn hold_back(&mut self, seq: u32, data: &[u8]) -> bool {
        let bytes = self.ooo_bytes.saturating_add(data.len());
        if self.ooo.len() >= self.limits.max_out_of_order_segments
            || bytes > self.limits.max_out_of_order_bytes
        {
            return false;
        }
        let at = self.ooo.iter().position(|(s, _)| seq_diff(*s, seq) > 0).unwrap_or(self.ooo.len());
        self.ooo.insert(at, (seq, data.to_vec()));
        self.ooo_bytes = bytes;
        true
    }

    /// Declares the bytes up to `seq` missing.
    fn gap_to(&mut self, seq: u32, sink: &mut impl StreamSink, out: &mut PushOutcome) {
        let Some(next) = self.next_seq else {
            self.next_seq = Some(seq);
            return;
        };
        let missing = seq_diff(seq, next);
        if missing <= 0 {
            return;
        }
        if !self.pending.is_empty() {
            sink.skipped(self.pending.len(), SkipReason::Gap);
            self.pending.clear();
        }
        sink.gap(missing.unsigned_abs());
        self.gaps = self.gaps.saturating_add(1);
        out.gaps = out.gaps.saturating_add(1);
        self.next_seq = Some(seq);
    }

    /// Delivers held-back segments that are now in order.
    fn drain(&mut self, sink: &mut impl StreamSink, out: &mut PushOutcome) {
        while let (Some(next), Some(&(first, _))) = (self.next_seq, self.ooo.first()) {
            let rel = seq_diff(first, next);
            if rel > 0 {
                break;
            }
            let (_, seg) = self.ooo.remove(0);
            self.ooo_bytes = self.ooo_bytes.saturating_sub(seg.len());
            let dup = usize::try_from(rel.unsigned_abs()).unwrap_or(usize::MAX);
            if let Some(rest) = seg.get(dup..)
                && !rest.is_empty()
            {
                self.deliver(rest, sink, out);
            }
        }
    }

    /// Appends in-order bytes and hands out every complete PDU.
    fn deliver(&mut self, data: &[u8], sink: &mut impl StreamSink, out: &mut PushOutcome) {
        let len32 = u32::try_from(data.len()).unwrap_or(u32::MAX);
        self.next_seq = self.next_seq.map(|n| n.wrapping_add(len32));
        out.delivered = out.delivered.saturating_add(data.len());
        if self.pending.is_empty() {
            // Fast path: frame straight from the segment.
            let used = frame_all(data, sink);
            if let Some(rest) = data.get(used..)
                && !rest.is_empty()
            {
                self.keep(rest, sink);
            }
            return;
        }
        if self.pending.len().saturating_add(data.len()) > self.limits.max_buffered {
            sink.skipped(self.pending.len().saturating_add(data.len()), SkipReason::Overflow);
            self.pending.clear();
            return;
        }
        self.pending.extend_from_slice(data);
        let used = frame_all(&self.pending, sink);
        self.pending.drain(..used.min(self.pending.len()));
    }

    /// Keeps the start of a PDU that continues in later segments.
    fn keep(&mut self, rest: &[u8], sink: &mut impl StreamSink) {
        if rest.len() > self.limits.max_buffered {
            sink.skipped(rest.len(), SkipReason::Overflow);
        } else {
            self.pending.extend_from_slice(rest);
        }
    }
}

/// Hands out every complete PDU at the start of `buf`; returns the bytes
/// used (delivered or rejected). Stops at an incomplete PDU.
fn frame_all(buf: &[u8], sink: &mut impl StreamSink) -> usize {
    let mut used = 0usize;
    loop {
        let rest = buf.get(used..).unwrap_or(&[]);
        if rest.is_empty() {
            return used;
        }
        match sink.frame(rest) {
            Framing::Pdu(n) if n > 0 && n <= rest.len() => {
                if let Some(pdu) = rest.get(..n) {
                    sink.pdu(pdu);
                }
                used = used.saturating_add(n);
            }
            Framing::Pdu(n) if n > 0 => return used,
            Framing::Incomplete => return used,
            // A zero length would never make progress: treat it as invalid.
            Framing::Pdu(_) | Framing::Invalid => {
                sink.skipped(rest.len(), SkipReason::Invalid);
                return buf.len();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A toy protocol: one length byte, then that many bytes.
    #[derive(Default)]
    struct Toy {
        pdus: Vec<Vec<u8>>,
        gaps: Vec<u64>,
        skipped: Vec<(usize, SkipReason)>,
    }

    impl StreamSink for Toy {
        fn frame(&mut self, buf: &[u8]) -> Framing {
            match buf.first() {
                None => Framing::Incomplete,
                Some(0xff) => Framing::Invalid,
                Some(&n) => Framing::Pdu(1 + n as usize),
            }
        }
        fn pdu(&mut self, pdu: &[u8]) {
            self.pdus.push(pdu.to_vec());
        }
        fn gap(&mut self, missing: u64) {
            self.gaps.push(missing);
        }
        fn skipped(&mut self, bytes: usize, why: SkipReason) {
            self.skipped.push((bytes, why));
        }
    }

    fn stream() -> StreamReassembler {
        StreamReassembler::new(StreamLimits {
            policy: ReassemblyPolicy::Reorder,
            ..StreamLimits::default()
        })
    }

    fn first_seen() -> StreamReassembler {
        StreamReassembler::new(StreamLimits::default())
    }

    #[test]
    fn first_seen_policy_ignores_segments_that_start_before_the_furthest_byte() {
        let (mut s, mut t) = (first_seen(), Toy::default());
        s.push(0, false, false, &[1, 7], &mut t); // bytes 0..2
        // Retransmission of 0..2 with 2 new bytes: ignored as a whole, but 0..4 now counts as seen.
        let o = s.push(0, false, false, &[1, 7, 1, 8], &mut t);
        assert_eq!((o.duplicate, o.delivered), (4, 0));
        // The new bytes sent again on their own: still a retransmission.
        assert_eq!(s.push(2, false, false, &[1, 8], &mut t).delivered, 0);
        // A segment after a hole is used at once; the hole is a gap.
        let o = s.push(10, false, false, &[0], &mut t);
        assert_eq!((o.delivered, o.gaps, o.held_back), (1, 1, false));
        assert_eq!(t.gaps, vec![8]);
        // Filling the hole later is a retransmission too.
        assert_eq!(s.push(4, false, false, &[0, 0, 0], &mut t).duplicate, 3);
        assert_eq!(t.pdus, vec![vec![1, 7], vec![0]]);
        // Keep-alive: one old byte.
        assert_eq!(s.push(10, false, false, &[0], &mut t).duplicate, 1);
        // In-order data after all that.
        s.push(11, false, false, &[1, 2, 0], &mut t);
        assert_eq!(t.pdus, vec![vec![1, 7], vec![0], vec![1, 2], vec![0]]);
        // A first copy that the peer already acknowledged is skipped as well.
        s.on_peer_ack(20, &mut t);
        let o = s.push(16, false, false, &[0, 0], &mut t);
        assert_eq!((o.duplicate, o.delivered), (2, 0));
        assert_eq!(t.pdus.len(), 4);
    }

    #[test]
    fn several_pdus_in_one_segment() {
        let (mut s, mut t) = (stream(), Toy::default());
        s.push(99, true, false, &[], &mut t); // SYN: data starts at 100
        let o = s.push(100, false, false, &[2, 0xa, 0xb, 1, 0xc, 0], &mut t);
        assert_eq!(o.delivered, 6);
        assert_eq!(t.pdus, vec![vec![2, 0xa, 0xb], vec![1, 0xc], vec![0]]);
        assert_eq!(s.buffered(), 0);
    }

    #[test]
    fn pdu_split_across_segments() {
        let (mut s, mut t) = (stream(), Toy::default());
        s.push(1, false, false, &[3, 1], &mut t);
        assert!(t.pdus.is_empty());
        assert_eq!(s.buffered(), 2);
        s.push(3, false, false, &[2], &mut t);
        s.push(4, false, false, &[3, 1, 1], &mut t);
        assert_eq!(t.pdus, vec![vec![3, 1, 2, 3], vec![1, 1]]);
        assert_eq!(s.buffered(), 0);
    }

    #[test]
    fn retransmissions_and_overlaps_are_ignored() {
        let (mut s, mut t) = (stream(), Toy::default());
        s.push(10, false, false, &[1, 7], &mut t);
        let o = s.push(10, false, false, &[1, 7], &mut t);
        assert_eq!(o.duplicate, 2);
        assert_eq!(o.delivered, 0);
        // Overlap: first byte old, second new.
        let o = s.push(11, false, false, &[7, 0], &mut t);
        assert_eq!((o.duplicate, o.delivered), (1, 1));
        assert_eq!(t.pdus, vec![vec![1, 7], vec![0]]);
    }

    #[test]
    fn out_of_order_segments_wait_for_the_hole() {
        let (mut s, mut t) = (stream(), Toy::default());
        s.push(0, false, false, &[0], &mut t);
        let o = s.push(3, false, false, &[0], &mut t);
        assert!(o.held_back);
        assert_eq!(s.held_back(), 1);
        s.push(1, false, false, &[1, 9], &mut t);
        assert_eq!(t.pdus, vec![vec![0], vec![1, 9], vec![0]]);
        assert!(t.gaps.is_empty());
    }

    #[test]
    fn acknowledged_hole_is_a_gap_and_the_partial_pdu_is_dropped() {
        let (mut s, mut t) = (stream(), Toy::default());
        s.push(0, false, false, &[5, 1, 2], &mut t); // 3 of 6 bytes of a PDU
        s.push(10, false, false, &[1, 4], &mut t); // held back
        s.on_peer_ack(12, &mut t); // the receiver got everything: bytes 3..10 were lost
        assert_eq!(t.gaps, vec![7]);
        assert_eq!(t.skipped, vec![(3, SkipReason::Gap)]);
        assert_eq!(t.pdus, vec![vec![1, 4]]);
        // A segment after an already acknowledged hole is a gap at once.
        s.on_peer_ack(20, &mut t);
        s.push(20, false, false, &[0], &mut t);
        assert_eq!(t.gaps, vec![7, 8]);
        assert_eq!(t.pdus.len(), 2);
        assert_eq!(s.gaps(), 2);
    }

    #[test]
    fn invalid_bytes_are_skipped_up_to_the_segment_end() {
        let (mut s, mut t) = (stream(), Toy::default());
        s.push(0, false, false, &[0, 0xff, 1, 1], &mut t);
        assert_eq!(t.pdus, vec![vec![0]]);
        assert_eq!(t.skipped, vec![(3, SkipReason::Invalid)]);
        s.push(4, false, false, &[0], &mut t);
        assert_eq!(t.pdus.len(), 2);
    }

    #[test]
    fn limits_are_enforced() {
        let limits = StreamLimits {
            max_buffered: 4,
            max_out_of_order_segments: 1,
            max_out_of_order_bytes: 8,
            policy: ReassemblyPolicy::Reorder,
        };
        let (mut s, mut t) = (StreamReassembler::new(limits), Toy::default());
        s.push(0, false, false, &[200, 1, 2, 3, 4, 5], &mut t); // partial PDU larger than the buffer
        assert_eq!(t.skipped, vec![(6, SkipReason::Overflow)]);
        assert_eq!(s.buffered(), 0);
        s.push(100, false, false, &[0], &mut t); // held back (1 segment allowed)
        s.push(200, false, false, &[0], &mut t); // over the limit: gaps declared
        assert_eq!(t.gaps.len(), 2);
        assert_eq!(t.pdus, vec![vec![0], vec![0]]);
    }

    #[test]
    fn flush_releases_held_back_and_drops_partial() {
        let (mut s, mut t) = (stream(), Toy::default());
        s.push(0, false, false, &[0], &mut t);
        s.push(5, false, false, &[0, 3], &mut t);
        s.flush(&mut t);
        assert_eq!(t.gaps, vec![4]);
        assert_eq!(t.pdus, vec![vec![0], vec![0]]);
        assert_eq!(t.skipped, vec![(1, SkipReason::Truncated)]);
    }

    #[test]
    fn sequence_numbers_wrap() {
        let (mut s, mut t) = (stream(), Toy::default());
        s.push(u32::MAX - 1, true, false, &[], &mut t);
        s.push(u32::MAX, false, false, &[1, 5], &mut t);
        s.push(1, false, false, &[0], &mut t);
        assert_eq!(t.pdus, vec![vec![1, 5], vec![0]]);
        assert!(t.gaps.is_empty());
    }

    #[test]
    fn a_far_jump_is_believed_only_when_the_next_segment_follows_it() {
        let (mut s, mut t) = (first_seen(), Toy::default());
        s.push(0, false, false, &[0], &mut t);
        let far = 1u32 << 24;
        // A corrupt sequence number far ahead: set aside, nothing poisoned.
        assert_eq!(s.push(far, false, false, &[0], &mut t).delivered, 0);
        assert_eq!(s.outliers(), 1);
        s.push(1, false, false, &[0], &mut t);
        assert_eq!(t.pdus.len(), 2);
        // A forged acknowledgement far ahead is not believed either.
        s.on_peer_ack(far, &mut t);
        s.push(2, false, false, &[0], &mut t);
        assert_eq!(t.pdus.len(), 3);
        // A real jump (a long loss in the capture): the next segment follows on.
        s.push(far, false, false, &[0], &mut t);
        let o = s.push(far + 1, false, false, &[0], &mut t);
        assert_eq!((o.delivered, o.gaps), (1, 1));
        assert_eq!(t.pdus.len(), 4);
        assert_eq!(s.next_seq(), Some(far + 2));
    }

    #[test]
    fn cut_hands_over_the_partial_pdu() {
        #[derive(Default)]
        struct Cut(Vec<Vec<u8>>, Toy);
        impl StreamSink for Cut {
            fn frame(&mut self, buf: &[u8]) -> Framing {
                self.1.frame(buf)
            }
            fn pdu(&mut self, pdu: &[u8]) {
                self.1.pdu(pdu);
            }
            fn truncated(&mut self, partial: &[u8]) {
                self.0.push(partial.to_vec());
            }
        }
        let (mut s, mut c) = (first_seen(), Cut::default());
        s.push(0, false, false, &[0, 9, 1, 2], &mut c); // one PDU, then 3 of 10 bytes
        s.cut(&mut c);
        assert_eq!(c.1.pdus, vec![vec![0]]);
        assert_eq!(c.0, vec![vec![9, 1, 2]]);
        assert_eq!(s.buffered(), 0);
        s.cut(&mut c); // nothing waiting: nothing handed over
        assert_eq!(c.0.len(), 1);
    }

    #[test]
    fn zero_length_framing_does_not_loop() {
        struct Zero(usize);
        impl StreamSink for Zero {
            fn frame(&mut self, _: &[u8]) -> Framing {
                self.0 += 1;
                Framing::Pdu(0)
            }
            fn pdu(&mut self, _: &[u8]) {}
        }
        let mut z = Zero(0);
        stream().push(0, false, false, &[1, 2, 3], &mut z);
        assert_eq!(z.0, 1);
    }
}
