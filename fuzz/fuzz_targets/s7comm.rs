//! Fuzz target for the s7comm dissector: any input must decode or fail cleanly, never panic.
//!
//! Checks the framing contract too: a successful parse consumes exactly
//! `pdu_len` bytes, and feeding the stream through the COTP reassembler
//! stays within its limits. There is no encoder, so no round trip.
#![no_main]

use otwatch_dissect::Direction;
use otwatch_dissect::s7comm::{self, CotpKind, CotpReassembler, Payload, Reassembly};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = s7comm::probe(data);
    let _ = s7comm::parse_payload(data);
    let _ = s7comm::parse_s7(data);
    let _ = s7comm::parse_plus(data);

    let mut reassembler = CotpReassembler::new();
    let mut input = data;
    while !input.is_empty() {
        let Ok(len) = s7comm::pdu_len(input) else { break };
        match s7comm::parse(input, Direction::ToServer) {
            Ok((rest, tpdu)) => {
                assert_eq!(input.len() - rest.len(), len, "parse consumed a different length");
                assert_eq!(usize::from(tpdu.tpkt_length), len);
                let _ = tpdu.all_anomalies().names().count();
                if let CotpKind::Data { eot, .. } = tpdu.cotp.kind {
                    match reassembler.push(eot, tpdu.cotp.user_data) {
                        Reassembly::Complete(tsdu) => {
                            assert!(tsdu.len() <= s7comm::MAX_TSDU_BYTES.max(tpdu.cotp.user_data.len()));
                            if let Payload::S7(pdu) = s7comm::parse_payload(tsdu) {
                                let _ = pdu.function();
                            }
                        }
                        Reassembly::Pending | Reassembly::Dropped => {}
                    }
                    assert!(reassembler.buffered() <= s7comm::MAX_TSDU_BYTES);
                }
                input = rest;
            }
            Err(_) => break,
        }
    }
});
