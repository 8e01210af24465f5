//! Fuzz target for the modbus dissector: any input must decode or fail cleanly, never panic.
//!
//! Checks beyond "no panic": `parse` agrees with `pdu_len` on how many bytes an
//! ADU takes, the decoded header and PDU bytes re-encode to exactly the input
//! they came from, and the device identification and file record iterators
//! stay inside the PDU.
#![no_main]

use otwatch_dissect::Direction;
use otwatch_dissect::modbus::{self, Body};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = modbus::probe(data);
    let framed = modbus::pdu_len(data);
    for dir in [Direction::ToServer, Direction::ToClient] {
        let mut rest = data;
        // A stream of ADUs, as a reassembled TCP payload would hold.
        for _ in 0..64 {
            let Ok((after, adu)) = modbus::parse(rest, dir) else { break };
            let used = rest.len() - after.len();
            assert_eq!(modbus::pdu_len(rest), Ok(used));
            // Round trip: MBAP fields, function code and data rebuild the bytes.
            let mut enc = Vec::with_capacity(used);
            enc.extend_from_slice(&adu.header.transaction_id.to_be_bytes());
            enc.extend_from_slice(&adu.header.protocol_id.to_be_bytes());
            enc.extend_from_slice(&adu.header.length.to_be_bytes());
            enc.push(adu.header.unit_id);
            enc.push(adu.pdu.function.0);
            enc.extend_from_slice(adu.pdu.data);
            assert_eq!(&enc[..], &rest[..used]);
            match adu.pdu.body {
                Body::ReadDeviceIdResponse { objects, .. } => {
                    assert!(objects.iter().count() <= adu.pdu.data.len());
                }
                Body::FileRecords { records, .. } => {
                    assert!(records.iter().count() <= adu.pdu.data.len());
                }
                _ => {}
            }
            let _ = adu.pdu.operation();
            let _ = adu.anomalies.to_string();
            rest = after;
        }
    }
    if let Ok(n) = framed {
        assert!((8..=6 + 65535).contains(&n));
    }
});
