//! Fuzz target for the bacnet dissector: any input must decode or fail cleanly, never panic.
//!
//! Beyond "no panic", it checks properties that hold for every input: wrapping
//! bytes in a BVLC header, an LLC header or an MS/TP frame (built with our own
//! CRCs) decodes to the same NPDU as decoding them bare, the MS/TP framing
//! length agrees with the parser, and object identifiers round-trip.
#![no_main]

use otwatch_dissect::bacnet::{self, Anomalies, ConfirmedService, UnconfirmedService};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    // Every entry point on the raw bytes.
    let _ = bacnet::probe(data);
    let msg = bacnet::parse(data);
    let msg6 = bacnet::parse_ipv6(data);
    if bacnet::probe(data) {
        assert!(msg.is_ok() || msg6.is_ok());
    }
    let bare = bacnet::parse_npdu(data);
    let _ = bacnet::parse_llc(data);
    let _ = bacnet::parse_cimetrics(data);
    let mut an = Anomalies::NONE;
    let _ = bacnet::parse_apdu(data, &mut an);
    if let Some((first, rest)) = data.split_first() {
        let _ = bacnet::decode_confirmed_request(ConfirmedService(*first), rest, &mut an);
        let _ = bacnet::decode_complex_ack(ConfirmedService(*first), rest, &mut an);
        let _ = bacnet::decode_unconfirmed_request(UnconfirmedService(*first), rest, &mut an);
    }
    let mut decoded = Vec::new();
    if bacnet::decode_cobs_data(data, &mut decoded).is_ok() {
        assert!(decoded.len() <= bacnet::mstp::MSTP_COBS_MAX_DATA_LEN);
        let _ = bacnet::parse_npdu(&decoded);
    }
    if let Ok(f) = bacnet::parse_mstp(data) {
        // A complete frame whose header checks frames to what it consumed.
        if f.header_crc_ok && !f.anomalies.contains(Anomalies::MSTP_TRUNCATED) {
            let len = bacnet::mstp_frame_len(data).expect("framing agrees with the parser");
            assert!(len <= data.len());
        }
    }

    // Round trip 1: the same bytes as the NPDU of an Original-Unicast-NPDU.
    if data.len() <= 1400 {
        let mut bip = vec![0x81, 0x0a];
        bip.extend_from_slice(&u16::try_from(data.len() + 4).unwrap().to_be_bytes());
        bip.extend_from_slice(data);
        let wrapped = bacnet::parse(&bip).expect("a well-formed BVLC header always frames");
        assert_eq!(wrapped.npdu(), bare.as_ref().ok());
    }

    // Round trip 2: the same bytes behind an LLC header.
    let mut llc = vec![0x82, 0x82, 0x03];
    llc.extend_from_slice(data);
    assert_eq!(bacnet::parse_llc(&llc).ok(), bare.clone().ok());

    // Round trip 3: the same bytes as the data of an MS/TP data frame.
    if !data.is_empty() && data.len() <= 501 {
        let mut frame = vec![0x55, 0xff, 0x06, 0x01, 0x02];
        frame.extend_from_slice(&u16::try_from(data.len()).unwrap().to_be_bytes());
        let crc = bacnet::header_crc(&frame[2..7]);
        frame.push(crc);
        frame.extend_from_slice(data);
        frame.extend_from_slice(&bacnet::data_crc(data).to_le_bytes());
        let f = bacnet::parse_mstp(&frame).expect("a frame we built parses");
        assert!(f.header_crc_ok && f.data_crc_ok);
        assert_eq!(f.data, data);
        assert_eq!(f.npdu, bare.ok());
        assert_eq!(bacnet::mstp_frame_len(&frame), Ok(frame.len()));
    }

    // Object identifiers round-trip through their raw form.
    if let Some(raw) = data.get(..4) {
        let raw = u32::from_be_bytes([raw[0], raw[1], raw[2], raw[3]]);
        assert_eq!(bacnet::ObjectId::from_raw(raw).to_raw(), raw);
    }
});
