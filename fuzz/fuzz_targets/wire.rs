//! Fuzz target for L2–L4 decoding and TCP reassembly: any frame must decode (or be flagged), never panic.
//!
//! The first input byte picks the link type; the rest is the frame. Every
//! TCP payload is also pushed through a stream reassembler with a toy
//! length-prefixed framing, under both reassembly policies, so sequence
//! arithmetic and buffer limits see arbitrary segments.
#![no_main]

use otwatch_flow::{Framing, ReassemblyPolicy, StreamLimits, StreamReassembler, StreamSink};
use otwatch_wire::{Decoder, LinkType};

/// Link types the decoder handles, plus one it does not.
const LINK_TYPES: [u32; 9] = [0, 1, 12, 14, 101, 108, 113, 165, 276];

/// One length byte, then that many bytes; 0xff is not a PDU start.
struct Toy;

impl StreamSink for Toy {
    fn frame(&mut self, buf: &[u8]) -> Framing {
        match buf.first() {
            None => Framing::Incomplete,
            Some(0xff) => Framing::Invalid,
            Some(&n) => Framing::Pdu(1 + usize::from(n)),
        }
    }
    fn pdu(&mut self, pdu: &[u8]) {
        assert!(!pdu.is_empty() && usize::from(pdu[0]) + 1 == pdu.len());
    }
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some((&sel, frame)) = data.split_first() else { return };
    let link = LinkType(LINK_TYPES.get(usize::from(sel % 9)).copied().unwrap_or(1));
    let mut decoder = Decoder::new();
    let limits = StreamLimits {
        max_buffered: 512,
        max_out_of_order_segments: 4,
        max_out_of_order_bytes: 1024,
        ..StreamLimits::default()
    };
    let mut first = StreamReassembler::new(limits);
    let mut reorder =
        StreamReassembler::new(StreamLimits { policy: ReassemblyPolicy::Reorder, ..limits });
    // Decode the frame, then every suffix as more frames of one flow (so the
    // fragment table and the streams see sequences of related inputs).
    for start in [0usize, 1, 7, 13] {
        let Some(f) = frame.get(start..) else { break };
        let ts = u64::from(sel).wrapping_mul(start as u64);
        let fr = decoder.decode(link, f, ts);
        let _ = fr.anomalies.names().count();
        if let Some(t) = fr.tcp() {
            first.push(t.seq, t.flags.syn(), t.flags.fin(), t.payload, &mut Toy);
            reorder.push(t.seq, t.flags.syn(), t.flags.fin(), t.payload, &mut Toy);
            reorder.on_peer_ack(t.ack, &mut Toy);
            assert!(first.buffered() <= 512 && reorder.buffered() <= 512);
            assert!(reorder.held_back() <= 4);
        }
    }
    first.flush(&mut Toy);
    reorder.flush(&mut Toy);
});
