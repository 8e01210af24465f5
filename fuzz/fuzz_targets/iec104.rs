//! Fuzz target for the iec104 dissector: any input must decode or fail cleanly, never panic.
//!
//! Checks the framing contract too: a successful parse consumes exactly
//! `pdu_len` bytes, and objects never exceed the declared count. There is no
//! encoder, so no round trip.
#![no_main]

use otwatch_dissect::Direction;
use otwatch_dissect::iec104;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = iec104::probe(data);
    let mut anomalies = iec104::Anomalies::NONE;
    let _ = iec104::parse_asdu(data, &mut anomalies);

    let mut input = data;
    while !input.is_empty() {
        let len = match iec104::pdu_len(input) {
            Ok(len) => len,
            // Resynchronise the way a stream would: drop one byte and retry.
            Err(otwatch_dissect::DecodeError::Malformed(_)) => {
                input = &input[1..];
                continue;
            }
            Err(_) => break,
        };
        match iec104::parse(input, Direction::ToClient) {
            Ok((rest, apdu)) => {
                assert_eq!(input.len() - rest.len(), len, "parse consumed a different length");
                if let Some(asdu) = &apdu.asdu {
                    assert!(asdu.objects.len() <= usize::from(asdu.count));
                    for o in &asdu.objects {
                        assert!(o.address <= 0x00ff_ffff);
                        let _ = o.command(asdu.type_id);
                    }
                }
                let _ = apdu.anomalies.names().count();
                input = rest;
            }
            Err(_) => break,
        }
    }
});
