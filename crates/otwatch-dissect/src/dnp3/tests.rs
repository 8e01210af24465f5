//! DNP3 dissector tests: hand-built vectors from IEEE 1815-2012, commented field by field.
//!
//! Link frames that need CRCs are built by [`link`], which computes them with
//! [`crc16_dnp`]; that function is itself pinned to the standard CRC-16/DNP
//! check value and to literal frames below. Every case goes through one of
//! the `check_*` helpers, so the API can change without rewriting the cases.

use rstest::rstest;

use super::*;
use crate::{DecodeError, Direction};

// ------------------------------------------------------------------ helpers

/// A link frame with correct CRCs: header (start, length, control,
/// destination, source) then `user` in blocks of 16, each with its CRC.
fn link(control: u8, dst: u16, src: u16, user: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    encode_link(LinkControl(control), dst, src, user, &mut out).unwrap();
    out
}

/// An unconfirmed user-data frame from master 1 to outstation 10 carrying
/// one transport segment.
fn segment(transport: u8, payload: &[u8]) -> Vec<u8> {
    let mut user = vec![transport];
    user.extend_from_slice(payload);
    link(0xC4, 10, 1, &user)
}

fn check_link(bytes: &[u8]) -> LinkFrame<'_> {
    let (rest, frame) = parse(bytes).unwrap();
    assert!(rest.is_empty(), "whole input is one frame");
    assert_eq!(frame.wire_len(), bytes.len());
    assert_eq!(pdu_len(bytes), Ok(bytes.len()));
    frame
}

fn check_app(bytes: &[u8]) -> (AppFragment<'_>, Vec<String>) {
    let app = parse_application(bytes).unwrap();
    let gvs: Vec<String> = app.objects().map(|o| o.gv()).collect();
    assert_eq!(gvs.len(), app.object_headers, "walk and iterator agree");
    (app, gvs)
}

fn names(a: Anomalies) -> Vec<&'static str> {
    a.names().collect()
}

// ---------------------------------------------------------------------- CRC

#[rstest]
#[case::standard_check_value(b"123456789", 0xEA82)]
#[case::empty(b"", 0xFFFF)]
// Reset Link States header from 1 to 1024 (see parses_literal_reset_link_states).
#[case::reset_link_header(&[0x05, 0x64, 0x05, 0xC0, 0x00, 0x04, 0x01, 0x00], 0xF7D7)]
fn crc16_dnp_matches(#[case] data: &[u8], #[case] crc: u16) {
    assert_eq!(crc16_dnp(data), crc);
}

// ------------------------------------------------------------------ framing

#[rstest]
#[case::empty(&[], Err(DecodeError::incomplete(3)))]
#[case::first_start_octet_only(&[0x05], Err(DecodeError::incomplete(2)))]
#[case::no_length(&[0x05, 0x64], Err(DecodeError::incomplete(1)))]
#[case::wrong_first_start_octet(&[0x06, 0x64, 0x05], Err(DecodeError::Malformed("dnp3: first start octet is not 0x05")))]
#[case::wrong_second_start_octet(&[0x05, 0x65, 0x05], Err(DecodeError::Malformed("dnp3: second start octet is not 0x64")))]
#[case::length_below_five(&[0x05, 0x64, 0x04], Err(DecodeError::Malformed("dnp3: link length below 5")))]
// Length 5: header only, 10 octets.
#[case::header_only(&[0x05, 0x64, 0x05], Ok(10))]
// Length 6: one user octet and its CRC.
#[case::one_user_octet(&[0x05, 0x64, 0x06], Ok(13))]
// Length 21: one full block of 16 plus CRC.
#[case::one_full_block(&[0x05, 0x64, 21], Ok(28))]
// Length 22: 17 user octets in two blocks, two CRCs.
#[case::two_blocks(&[0x05, 0x64, 22], Ok(31))]
// Length 255: 250 user octets in 16 blocks.
#[case::largest(&[0x05, 0x64, 0xFF], Ok(MAX_FRAME_LEN))]
fn pdu_len_frames_by_length(#[case] input: &[u8], #[case] expected: Result<usize, DecodeError>) {
    assert_eq!(pdu_len(input), expected);
}

#[test]
fn parses_literal_reset_link_states() {
    let bytes = [
        0x05, 0x64, // start octets
        0x05, // length: control + addresses only
        0xC0, // control: DIR=1 PRM=1 FCB=0 FCV=0, function 0 Reset Link States
        0x00, 0x04, // destination 1024 (little-endian)
        0x01, 0x00, // source 1
        0xD7, 0xF7, // header CRC 0xF7D7, low octet first
    ];
    let frame = check_link(&bytes);
    assert_eq!(frame.header.length, 5);
    assert_eq!(frame.header.destination, 1024);
    assert_eq!(frame.header.source, 1);
    assert!(frame.header.control.dir());
    assert!(frame.header.control.prm());
    assert_eq!(frame.header.control.direction(), Direction::ToServer);
    assert_eq!(
        frame.header.control.function(),
        LinkFunction::Primary(PrimaryFunction::RESET_LINK_STATES)
    );
    assert!(frame.blocks.is_empty());
    assert!(frame.anomalies.is_empty(), "{}", frame.anomalies);
    assert!(probe(&bytes));
}

#[test]
fn parses_literal_read_class0_request() {
    let bytes = [
        0x05, 0x64, // start octets
        0x0B, // length 11: 5 + 6 user octets
        0xC4, // control: DIR=1 PRM=1, function 4 Unconfirmed User Data
        0x0A, 0x00, // destination 10
        0x01, 0x00, // source 1
        0xAC, 0xD1, // header CRC
        0xC0, // transport: FIN=1 FIR=1 seq 0
        0xC0, // application control: FIR=1 FIN=1 CON=0 UNS=0 seq 0
        0x01, // function: Read
        0x3C, 0x01, 0x06, // object header: group 60 var 1 (class 0), qualifier 0x06 all
        0xFF, 0x50, // data block CRC
    ];
    let frame = check_link(&bytes);
    assert!(frame.anomalies.is_empty(), "{}", frame.anomalies);
    assert_eq!(frame.header.user_data_len(), 6);
    let chunks: Vec<_> = frame.chunks().collect();
    assert_eq!(chunks.len(), 1);
    assert!(chunks[0].crc_ok());
    assert_eq!(frame.transport_header(), Some(TransportHeader(0xC0)));
    let mut r = Reassembler::new();
    let seg = r.push(&frame).unwrap();
    assert!(seg.anomalies.is_empty());
    let fragment = seg.fragment.unwrap();
    assert_eq!(fragment, &[0xC0, 0x01, 0x3C, 0x01, 0x06]);
    let (app, gvs) = check_app(fragment);
    assert_eq!(app.function, FunctionCode::READ);
    assert_eq!(gvs, ["g60v1"]);
}

#[rstest]
// Secondary ACK from outstation 1024 to master 1: DIR=0 PRM=0 function 0.
#[case::secondary_ack(0x00, 1, 1024, &[], LinkFunction::Secondary(SecondaryFunction::ACK), &[])]
// Request Link Status (primary 9), a keep-alive.
#[case::request_link_status(0xC9, 1024, 1, &[], LinkFunction::Primary(PrimaryFunction::REQUEST_LINK_STATUS), &[])]
// Link Status (secondary 11) with DFC set.
#[case::link_status_dfc(0x1B, 1, 1024, &[], LinkFunction::Secondary(SecondaryFunction::LINK_STATUS), &[])]
// Confirmed User Data (primary 3) with FCB and FCV.
#[case::confirmed_user_data(0xF3, 1024, 1, &[0xC0, 0xC0, 0x00], LinkFunction::Primary(PrimaryFunction::CONFIRMED_USER_DATA), &[])]
// Primary function 5 is reserved.
#[case::reserved_primary(0xC5, 1024, 1, &[], LinkFunction::Primary(PrimaryFunction(5)), &["dnp3.reserved_link_function"])]
// Reset User Process (primary 1) is obsolete.
#[case::obsolete_primary(0xC1, 1024, 1, &[], LinkFunction::Primary(PrimaryFunction::RESET_USER_PROCESS), &["dnp3.reserved_link_function"])]
// Secondary function 3 is reserved.
#[case::reserved_secondary(0x03, 1, 1024, &[], LinkFunction::Secondary(SecondaryFunction(3)), &["dnp3.reserved_link_function"])]
// An ACK carrying user data.
#[case::ack_with_user_data(0x00, 1, 1024, &[0xC0, 0xC0, 0x00], LinkFunction::Secondary(SecondaryFunction::ACK), &["dnp3.unexpected_user_data"])]
// Unconfirmed User Data without any user data.
#[case::user_data_missing(0xC4, 1024, 1, &[], LinkFunction::Primary(PrimaryFunction::UNCONFIRMED_USER_DATA), &["dnp3.unexpected_user_data"])]
// Source in the broadcast range.
#[case::broadcast_source(0xC4, 1024, 0xFFFF, &[0xC0, 0xC0, 0x00], LinkFunction::Primary(PrimaryFunction::UNCONFIRMED_USER_DATA), &["dnp3.invalid_address"])]
// Destination in the reserved range 0xFFF0-0xFFFB.
#[case::reserved_destination(0xC4, 0xFFF5, 1, &[0xC0, 0xC0, 0x00], LinkFunction::Primary(PrimaryFunction::UNCONFIRMED_USER_DATA), &["dnp3.invalid_address"])]
// Broadcast destination 0xFFFF is fine.
#[case::broadcast_destination(0xC4, 0xFFFF, 1, &[0xC0, 0xC0, 0x15], LinkFunction::Primary(PrimaryFunction::UNCONFIRMED_USER_DATA), &[])]
fn link_functions_and_anomalies(
    #[case] control: u8,
    #[case] dst: u16,
    #[case] src: u16,
    #[case] user: &[u8],
    #[case] function: LinkFunction,
    #[case] anomalies: &[&str],
) {
    let bytes = link(control, dst, src, user);
    let frame = check_link(&bytes);
    assert_eq!(frame.header.control.function(), function);
    assert_eq!(frame.header.destination, dst);
    assert_eq!(frame.header.source, src);
    assert_eq!(names(frame.anomalies), anomalies);
}

#[test]
fn control_bits_decode() {
    let primary = LinkControl(0xF3); // DIR PRM FCB FCV, function 3
    assert!(primary.dir() && primary.prm() && primary.fcb() && primary.fcv() && !primary.dfc());
    let secondary = LinkControl(0x1B); // DFC, function 11
    assert!(!secondary.dir() && !secondary.prm() && secondary.dfc() && !secondary.fcb());
    assert_eq!(secondary.direction(), Direction::ToClient);
    assert_eq!(secondary.function_code(), 11);
}

#[test]
fn bad_header_crc_still_frames_the_next_frame() {
    let mut first = link(0xC4, 10, 1, &[0xC0, 0xC0, 0x01, 0x3C, 0x01, 0x06]);
    first[8] ^= 0xFF; // corrupt the header CRC
    let second = link(0x44, 1, 10, &[0xC1, 0xC1, 0x81, 0x00, 0x00]);
    let mut stream = first.clone();
    stream.extend_from_slice(&second);
    let (rest, frame) = parse(&stream).unwrap();
    assert_eq!(names(frame.anomalies), ["dnp3.bad_header_crc"]);
    assert!(!frame.carries_segment());
    assert!(!probe(&first));
    let (rest, frame2) = parse(rest).unwrap();
    assert!(rest.is_empty());
    assert!(frame2.anomalies.is_empty());
    assert_eq!(frame2.header.source, 10);
    // The reassembler ignores the damaged frame.
    let mut r = Reassembler::new();
    assert!(r.push(&frame).is_none());
}

#[test]
fn bad_data_crc_is_flagged_and_not_reassembled() {
    let mut bytes = segment(0xC0, &[0xC0, 0x01, 0x3C, 0x01, 0x06]);
    let last = bytes.len() - 1;
    bytes[last] ^= 0x01; // corrupt the block CRC
    let frame = check_link(&bytes);
    assert_eq!(names(frame.anomalies), ["dnp3.bad_data_crc"]);
    assert!(!frame.data_crc_ok());
    assert!(frame.header_crc_ok());
    let mut r = Reassembler::new();
    assert!(r.push(&frame).is_none());
}

#[test]
fn encode_link_round_trips_and_rejects_oversized_user_data() {
    let user: Vec<u8> = (0u8..=249).collect();
    let bytes = link(0x44, 3, 4, &user);
    assert_eq!(bytes.len(), MAX_FRAME_LEN);
    let frame = check_link(&bytes);
    let mut again = Vec::new();
    frame.copy_user_data(&mut again);
    assert_eq!(again, user);
    let mut out = vec![0xAA];
    encode_link(frame.header.control, 3, 4, &again, &mut out).unwrap();
    assert_eq!(&out[1..], bytes.as_slice(), "appends after existing octets");
    let too_long = vec![0u8; 251];
    assert_eq!(
        encode_link(LinkControl(0x44), 3, 4, &too_long, &mut out),
        Err(DecodeError::Malformed("dnp3: more than 250 octets of user data"))
    );
}

#[test]
fn multi_block_user_data_is_joined_without_crcs() {
    let payload: Vec<u8> = (0u8..40).collect();
    let bytes = link(0xC4, 10, 1, &payload);
    let frame = check_link(&bytes);
    assert!(frame.anomalies.is_empty());
    assert_eq!(frame.chunks().map(|c| c.data.len()).collect::<Vec<_>>(), [16, 16, 8]);
    let mut out = Vec::new();
    frame.copy_user_data(&mut out);
    assert_eq!(out, payload);
}

#[rstest]
#[case::header_cut(5)]
#[case::crc_cut(9)]
#[case::block_cut(15)]
#[case::last_crc_octet_missing(17)]
fn truncated_frame_is_incomplete(#[case] keep: usize) {
    let bytes = segment(0xC0, &[0xC0, 0x01, 0x3C, 0x01, 0x06]); // 18 octets
    assert_eq!(bytes.len(), 18);
    match parse(&bytes[..keep]) {
        Err(DecodeError::Incomplete { needed }) => {
            assert_eq!(needed.map(|n| n.get()), Some(18 - keep));
        }
        other => panic!("expected Incomplete, got {other:?}"),
    }
}

#[test]
fn two_frames_in_one_buffer() {
    let mut stream = segment(0xC0, &[0xC0, 0x01, 0x3C, 0x01, 0x06]);
    stream.extend_from_slice(&link(0x44, 1, 10, &[0xC0, 0xC0, 0x81, 0x00, 0x00]));
    let (rest, first) = parse(&stream).unwrap();
    assert_eq!(first.header.source, 1);
    let (rest, second) = parse(rest).unwrap();
    assert_eq!(second.header.source, 10);
    assert!(rest.is_empty());
}

#[rstest]
#[case::random_text(b"GET / HTTP/1.1\r\n".as_slice(), false)]
#[case::start_octets_only(&[0x05, 0x64, 0x05, 0xC0].as_slice(), false)]
#[case::modbus_request(&[0x00, 0x01, 0x00, 0x00, 0x00, 0x06, 0x01, 0x03, 0x00, 0x00, 0x00, 0x0A].as_slice(), false)]
fn probe_rejects(#[case] input: &[u8], #[case] expected: bool) {
    assert_eq!(probe(input), expected);
}

#[test]
fn probe_accepts_a_header_with_cut_user_data() {
    let bytes = segment(0xC0, &[0xC0, 0x01, 0x3C, 0x01, 0x06]);
    assert!(probe(&bytes));
    assert!(probe(&bytes[..10]));
    assert!(!probe(&bytes[..9]));
}

// -------------------------------------------------------------- transport

fn push_all(r: &mut Reassembler, frames: &[Vec<u8>]) -> (Vec<Vec<u8>>, Anomalies) {
    let mut done = Vec::new();
    let mut anomalies = Anomalies::NONE;
    for bytes in frames {
        let (_, frame) = parse(bytes).unwrap();
        if let Some(seg) = r.push(&frame) {
            anomalies |= seg.anomalies;
            if let Some(f) = seg.fragment {
                done.push(f.to_vec());
            }
        }
    }
    (done, anomalies)
}

const READ_123: [u8; 11] = [
    0xC1, // application control: FIR FIN seq 1
    0x01, // Read
    0x3C, 0x02, 0x06, // class 1, all
    0x3C, 0x03, 0x06, // class 2, all
    0x3C, 0x04, 0x06, // class 3, all
];

#[rstest]
// FIR+FIN in one segment.
#[case::single_segment(vec![segment(0xC5, &READ_123)], 1, &[])]
// FIR seq 5, seq 6, FIN seq 7.
#[case::three_in_order(vec![
    segment(0x45, &READ_123[..4]), segment(0x06, &READ_123[4..8]), segment(0x87, &READ_123[8..]),
], 1, &[])]
// The sequence number wraps from 63 to 0 inside a fragment.
#[case::sequence_wraps(vec![segment(0x7F, &READ_123[..5]), segment(0x80, &READ_123[5..])], 1, &[])]
// A repeated middle segment (link retry) is dropped.
#[case::duplicate_segment_ignored(vec![
    segment(0x45, &READ_123[..4]), segment(0x06, &READ_123[4..8]), segment(0x06, &READ_123[4..8]),
    segment(0x87, &READ_123[8..]),
], 1, &[])]
// FIN without a FIR first.
#[case::missing_fir(vec![segment(0x85, &READ_123)], 0, &["dnp3.transport_missing_fir"])]
// FIR seq 5 then FIN seq 7: seq 6 lost.
#[case::gap(vec![segment(0x45, &READ_123[..5]), segment(0x87, &READ_123[5..])], 0, &["dnp3.transport_out_of_sequence"])]
// A new FIR while the previous fragment was unfinished.
#[case::restart_discards(vec![segment(0x45, &READ_123[..5]), segment(0xC9, &READ_123)], 1, &["dnp3.transport_fragment_discarded"])]
fn reassembly(#[case] frames: Vec<Vec<u8>>, #[case] fragments: usize, #[case] anomalies: &[&str]) {
    let mut r = Reassembler::new();
    let (done, a) = push_all(&mut r, &frames);
    assert_eq!(done.len(), fragments);
    for f in &done {
        assert_eq!(f.as_slice(), READ_123);
    }
    assert_eq!(names(a), anomalies);
    assert_eq!(r.buffered(), 0);
}

#[test]
fn reassembly_is_per_address_pair() {
    let mut r = Reassembler::new();
    let other = |t: u8, p: &[u8]| {
        let mut user = vec![t];
        user.extend_from_slice(p);
        link(0xC4, 10, 2, &user) // from master 2
    };
    let frames = vec![
        segment(0x45, &READ_123[..5]),
        other(0x60, &READ_123[..3]),
        segment(0x86, &READ_123[5..]),
        other(0xA1, &READ_123[3..]),
    ];
    let (done, a) = push_all(&mut r, &frames);
    assert_eq!(done.len(), 2);
    assert!(a.is_empty());
}

#[test]
fn fragment_longer_than_limit_is_dropped() {
    let mut r = Reassembler::new();
    let chunk = [0u8; 249];
    let mut frames = vec![segment(0x40, &chunk)];
    // FIR plus this many segments: the last one crosses the limit.
    let n = MAX_FRAGMENT_LEN / chunk.len();
    for i in 1..=n {
        frames.push(segment(u8::try_from(i % 64).unwrap(), &chunk));
    }
    let (done, a) = push_all(&mut r, &frames);
    assert!(done.is_empty());
    assert_eq!(names(a), ["dnp3.fragment_too_long"]);
    assert_eq!(r.buffered(), 0);
}

#[test]
fn too_many_address_pairs_evicts_the_oldest() {
    let mut r = Reassembler::new();
    let mut frames = Vec::new();
    for src in 0..=u16::try_from(MAX_REASSEMBLY_SLOTS).unwrap() {
        frames.push(link(0xC4, 10, src, &[0x40, 0xC0, 0x01]));
    }
    let (done, a) = push_all(&mut r, &frames);
    assert!(done.is_empty());
    assert_eq!(names(a), ["dnp3.too_many_reassemblies"]);
    assert!(r.buffered() <= MAX_REASSEMBLY_SLOTS * 2);
}

#[test]
fn frames_without_user_data_give_no_segment() {
    let mut r = Reassembler::new();
    let bytes = link(0xC0, 10, 1, &[]);
    let (_, frame) = parse(&bytes).unwrap();
    assert!(r.push(&frame).is_none());
    // Secondary frame with (unexpected) user data.
    let bytes = link(0x00, 1, 10, &[0xC0, 0xC0, 0x00]);
    let (_, frame) = parse(&bytes).unwrap();
    assert!(r.push(&frame).is_none());
}

#[test]
fn transport_header_bits() {
    let t = TransportHeader(0xBF);
    assert!(t.fin() && !t.fir());
    assert_eq!(t.seq(), 63);
}

// ------------------------------------------------------------ application

#[rstest]
#[case::read_class0(
    &[0xC0, 0x01, // FIR FIN seq 0, Read
      0x3C, 0x01, 0x06], // g60v1 all
    FunctionCode::READ, None, &["g60v1"], &[])]
#[case::read_classes_123(&READ_123, FunctionCode::READ, None, &["g60v2", "g60v3", "g60v4"], &[])]
// Read with an index prefix: the indices are there, the objects are not.
#[case::read_indexed(
    &[0xC2, 0x01, // Read
      0x01, 0x02, 0x17, 0x02, // g1v2, qualifier 0x17 (1-octet index, 1-octet count), count 2
      0x03, 0x07, // indices 3 and 7
      0x1E, 0x01, 0x00, 0x00, 0x04], // g30v1, start 0 stop 4
    FunctionCode::READ, None, &["g1v2", "g30v1"], &[])]
#[case::select_crob(
    &[0xC1, 0x03, // Select
      0x0C, 0x01, 0x28, 0x01, 0x00, // g12v1, qualifier 0x28 (2-octet index, 2-octet count), count 1
      0x05, 0x00, // index 5
      0x03, 0x01, 0x64, 0x00, 0x00, 0x00, 0x64, 0x00, 0x00, 0x00, 0x00], // latch on, count 1, 100 ms, 100 ms, status 0
    FunctionCode::SELECT, None, &["g12v1"], &[])]
#[case::write_time(
    &[0xC3, 0x02, // Write
      0x32, 0x01, 0x07, 0x01, // g50v1, 1-octet count 1
      0x00, 0x10, 0x20, 0x30, 0x40, 0x01], // 48-bit time
    FunctionCode::WRITE, None, &["g50v1"], &[])]
#[case::clear_restart_bit(
    &[0xC4, 0x02, // Write
      0x50, 0x01, 0x00, 0x07, 0x07, // g80v1, start 7 stop 7
      0x00], // IIN1.7 cleared, packed
    FunctionCode::WRITE, None, &["g80v1"], &[])]
#[case::freeze_at_time(
    &[0xC5, 0x0B, // Freeze at Time
      0x32, 0x02, 0x07, 0x01, // g50v2, count 1
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x27, 0x00, 0x00, // time, interval 10000 ms
      0x14, 0x00, 0x06], // g20v0 all, no data
    FunctionCode::FREEZE_AT_TIME, None, &["g50v2", "g20v0"], &[])]
#[case::response_static_data(
    &[0xC0, 0x81, 0x00, 0x00, // Response, IIN clear
      0x01, 0x01, 0x00, 0x00, 0x09, 0xFF, 0x01, // g1v1 packed, points 0..9: two octets
      0x01, 0x02, 0x00, 0x00, 0x01, 0x01, 0x81, // g1v2 points 0..1 with flags
      0x1E, 0x02, 0x01, 0x00, 0x00, 0x00, 0x00, 0x01, 0xE8, 0x03], // g30v2 points 0..0, 16-bit with flag
    FunctionCode::RESPONSE, Some(0x0000), &["g1v1", "g1v2", "g30v2"], &[])]
#[case::response_events(
    &[0xE0, 0x81, 0x02, 0x00, // Response with CON, IIN1.1 class 1 events
      0x33, 0x01, 0x07, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // g51v1 CTO
      0x02, 0x03, 0x17, 0x01, 0x04, 0x81, 0x10, 0x00], // g2v3, index 4, flags, relative time 16 ms
    FunctionCode::RESPONSE, Some(0x0200), &["g51v1", "g2v3"], &[])]
#[case::device_restart(
    &[0xC0, 0x81, 0x80, 0x00], // Response, IIN1.7
    FunctionCode::RESPONSE, Some(0x8000), &[], &["dnp3.device_restart"])]
#[case::iin_reserved_bits(
    &[0xC0, 0x81, 0x00, 0xC0], // Response, IIN2.6 and IIN2.7
    FunctionCode::RESPONSE, Some(0x00C0), &[], &["dnp3.iin_reserved_bits"])]
#[case::response_without_iin(
    &[0xC0, 0x81, 0x00], // Response cut inside the IIN
    FunctionCode::RESPONSE, None, &[], &["dnp3.truncated_header"])]
#[case::unsolicited_with_uns(
    &[0xF3, 0x82, 0x00, 0x00], // FIR FIN CON UNS seq 3, Unsolicited Response
    FunctionCode::UNSOLICITED_RESPONSE, Some(0x0000), &[], &[])]
#[case::unsolicited_without_uns(
    &[0xE3, 0x82, 0x00, 0x00], // UNS missing
    FunctionCode::UNSOLICITED_RESPONSE, Some(0x0000), &[], &["dnp3.invalid_app_control"])]
#[case::confirm_of_unsolicited(&[0xD3, 0x00], FunctionCode::CONFIRM, None, &[], &[])]
#[case::request_not_single_fragment(
    &[0x80, 0x01, 0x3C, 0x01, 0x06], // FIR without FIN
    FunctionCode::READ, None, &["g60v1"], &["dnp3.invalid_app_control"])]
#[case::cold_restart(&[0xC6, 0x0D], FunctionCode::COLD_RESTART, None, &[], &[])]
#[case::solicited_response_with_uns(
    &[0xD0, 0x81, 0x00, 0x00], // UNS on a solicited response
    FunctionCode::RESPONSE, Some(0x0000), &[], &["dnp3.invalid_app_control"])]
#[case::auth_request_in_unsolicited_exchange(
    &[0xD0, 0x20], // FIR FIN UNS, Authentication Request
    FunctionCode::AUTHENTICATE_REQ, None, &[], &[])]
#[case::read_with_uns(&[0xD0, 0x01], FunctionCode::READ, None, &[], &["dnp3.invalid_app_control"])]
#[case::cold_restart_with_objects(
    &[0xC6, 0x0D, 0x3C, 0x01, 0x06],
    FunctionCode::COLD_RESTART, None, &["g60v1"], &["dnp3.unexpected_objects"])]
#[case::save_config(&[0xC7, 0x13], FunctionCode::SAVE_CONFIG, None, &[], &["dnp3.obsolete_function_code"])]
#[case::reserved_function(&[0xC8, 0x40], FunctionCode(0x40), None, &[], &["dnp3.reserved_function_code"])]
// Octet string g110v4: the variation is the length.
#[case::octet_string(
    &[0xC0, 0x81, 0x00, 0x00,
      0x6E, 0x04, 0x00, 0x00, 0x00, b'a', b'b', b'c', b'd', // g110v4, point 0
      0x3C, 0x01, 0x06],
    FunctionCode::RESPONSE, Some(0x0000), &["g110v4", "g60v1"], &[])]
// Secure Authentication challenge: free format with a 2-octet size prefix.
#[case::auth_challenge(
    &[0xC6, 0x83, 0x90, 0x00, // Authentication Response, IIN restart + need time
      0x78, 0x01, 0x5B, 0x01, 0x04, 0x00, 0xAA, 0xBB, 0xCC, 0xDD], // g120v1, count 1, size 4
    FunctionCode::AUTHENTICATE_RESP, Some(0x9000), &["g120v1"], &["dnp3.device_restart"])]
// Unknown group 200: its size cannot be computed, the walk stops.
#[case::unknown_object(
    &[0xC0, 0x81, 0x00, 0x00,
      0xC8, 0x01, 0x00, 0x00, 0x01, 0x11, 0x22, // g200v1 points 0..1
      0x3C, 0x01, 0x06],
    FunctionCode::RESPONSE, Some(0x0000), &["g200v1"], &["dnp3.unknown_object"])]
// Variation 0 never carries data.
#[case::variation_zero_with_data(
    &[0xC0, 0x81, 0x00, 0x00, 0x1E, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02],
    FunctionCode::RESPONSE, Some(0x0000), &["g30v0"], &["dnp3.unknown_object"])]
// Reserved range code 0xA: the range field's size is undefined.
#[case::reserved_range_code(
    &[0xC1, 0x01, 0x3C, 0x01, 0x0A, 0x3C, 0x02, 0x06],
    FunctionCode::READ, None, &["g60v1"], &["dnp3.invalid_qualifier"])]
// Reserved qualifier bit 7.
#[case::reserved_qualifier_bit(&[0xC1, 0x01, 0x3C, 0x01, 0x86], FunctionCode::READ, None, &["g60v1"], &["dnp3.invalid_qualifier"])]
// Packed objects cannot have an index prefix.
#[case::packed_with_prefix(
    &[0xC0, 0x81, 0x00, 0x00, 0x01, 0x01, 0x17, 0x01, 0x00, 0x01],
    FunctionCode::RESPONSE, Some(0x0000), &["g1v1"], &["dnp3.invalid_qualifier"])]
// Stop below start: undefined count, the walk stops.
#[case::inverted_range(
    &[0xC1, 0x01, 0x01, 0x02, 0x00, 0x05, 0x02, 0x3C, 0x01, 0x06],
    FunctionCode::READ, None, &["g1v2"], &["dnp3.invalid_range"])]
// Stop one below start frames as zero objects; the walk goes on.
#[case::empty_range(
    &[0xC1, 0x02, 0x01, 0x02, 0x00, 0x01, 0x00, 0x3C, 0x01, 0x06],
    FunctionCode::WRITE, None, &["g1v2", "g60v1"], &["dnp3.invalid_range"])]
// CROB cut short.
#[case::truncated_crob(
    &[0xC1, 0x04, 0x0C, 0x01, 0x17, 0x01, 0x00, 0x03, 0x01],
    FunctionCode::OPERATE, None, &["g12v1"], &["dnp3.truncated_object"])]
// Header cut after group and variation.
#[case::header_without_qualifier(&[0xC1, 0x01, 0x3C, 0x01], FunctionCode::READ, None, &["g60v1"], &["dnp3.truncated_object"])]
// Range field cut short.
#[case::range_cut(&[0xC1, 0x01, 0x01, 0x02, 0x01, 0x00], FunctionCode::READ, None, &["g1v2"], &["dnp3.truncated_object"])]
// A single stray octet after a complete header.
#[case::stray_octet(&[0xC1, 0x01, 0x3C, 0x01, 0x06, 0x3C], FunctionCode::READ, None, &["g60v1"], &["dnp3.truncated_object"])]
// Obsolete absolute-address range code 3: one object.
#[case::address_range(
    &[0xC1, 0x05, 0x0C, 0x01, 0x03, 0x07, 0x41, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    FunctionCode::DIRECT_OPERATE, None, &["g12v1"], &[])]
fn application_fragments(
    #[case] bytes: &[u8],
    #[case] function: FunctionCode,
    #[case] iin: Option<u16>,
    #[case] objects: &[&str],
    #[case] anomalies: &[&str],
) {
    let (app, gvs) = check_app(bytes);
    assert_eq!(app.function, function);
    assert_eq!(app.iin.map(|i| i.0), iin);
    assert_eq!(gvs, objects);
    assert_eq!(names(app.anomalies), anomalies);
}

#[rstest]
#[case::empty(&[])]
#[case::control_only(&[0xC0])]
fn application_too_short_to_frame(#[case] bytes: &[u8]) {
    assert!(matches!(parse_application(bytes), Err(DecodeError::Malformed(_))));
}

#[test]
fn too_many_object_headers_stop_at_the_limit() {
    let mut bytes = vec![0xC0, 0x01]; // Read
    for _ in 0..=MAX_OBJECT_HEADERS {
        bytes.extend_from_slice(&[0x3C, 0x01, 0x06]); // g60v1 all
    }
    let app = parse_application(&bytes).unwrap();
    assert_eq!(app.object_headers, MAX_OBJECT_HEADERS);
    assert_eq!(app.objects().count(), MAX_OBJECT_HEADERS);
    assert_eq!(names(app.anomalies), ["dnp3.too_many_object_headers"]);
}

#[test]
fn crob_points_decode_with_their_index() {
    let bytes = [
        0xC1, 0x05, // Direct Operate
        0x0C, 0x01, 0x28, 0x02, 0x00, // g12v1, 2-octet index, count 2
        0x05, 0x00, // index 5
        0x41, 0x01, 0xF4, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, // close + pulse on, 500 ms
        0x06, 0x01, // index 262
        0x84, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // trip + latch off
    ];
    let (app, _) = check_app(&bytes);
    assert_eq!(app.function.operation(), Operation::Control);
    let header = app.objects().next().unwrap();
    assert_eq!(header.group, ObjectGroup::BINARY_COMMAND);
    assert_eq!(header.qualifier.unwrap().prefix(), PrefixCode::INDEX_2);
    assert_eq!(header.range, Some(Range::Count(2)));
    let points: Vec<_> = header.points().collect();
    assert_eq!(points.len(), 2);
    assert_eq!(points[0].index, Some(5));
    let crob = Crob::parse(points[0].data).unwrap();
    assert_eq!(crob.code.op_type(), OpType::PULSE_ON);
    assert_eq!(crob.code.trip_close(), TripCloseCode::CLOSE);
    assert_eq!(crob.count, 1);
    assert_eq!(crob.on_time_ms, 500);
    assert_eq!(crob.status, CommandStatus::SUCCESS);
    assert_eq!(points[1].index, Some(262));
    let crob = Crob::parse(points[1].data).unwrap();
    assert_eq!(crob.code.op_type(), OpType::LATCH_OFF);
    assert_eq!(crob.code.trip_close(), TripCloseCode::TRIP);
}

#[rstest]
#[case::int32(1, &[0x40, 0x42, 0x0F, 0x00, 0x00], AnalogValue::I32(1_000_000))]
#[case::int16(2, &[0x18, 0xFC, 0x00], AnalogValue::I16(-1000))]
#[case::float(3, &[0x00, 0x00, 0x48, 0x42, 0x00], AnalogValue::F32(50.0))]
#[case::double(4, &[0, 0, 0, 0, 0, 0, 0x59, 0x40, 0x00], AnalogValue::F64(100.0))]
fn analog_output_blocks(#[case] variation: u8, #[case] data: &[u8], #[case] value: AnalogValue) {
    let mut bytes = vec![
        0xC1, 0x05, // Direct Operate
        0x29, variation, 0x17, 0x01, // g41vN, 1-octet index, count 1
        0x03, // index 3
    ];
    bytes.extend_from_slice(data);
    let (app, gvs) = check_app(&bytes);
    assert_eq!(gvs, [format!("g41v{variation}")]);
    assert!(app.anomalies.is_empty(), "{}", app.anomalies);
    let header = app.objects().next().unwrap();
    let point = header.points().next().unwrap();
    assert_eq!(point.index, Some(3));
    let ao = AnalogOutput::parse(variation, point.data).unwrap();
    assert_eq!(ao.value, value);
    assert_eq!(ao.status, CommandStatus::SUCCESS);
}

#[test]
fn device_attributes_identify_the_outstation() {
    let bytes = [
        0xC0, 0x81, 0x00, 0x00, // Response
        0x00, 0xFC, 0x00, 0x00, 0x00, // g0v252 (manufacturer), start 0 stop 0
        0x01, 0x04, b'A', b'C', b'M', b'E', // VSTR, length 4
        0x00, 0xFA, 0x00, 0x00, 0x00, // g0v250 (product and model)
        0x01, 0x05, b'R', b'T', b'U', b'-', b'9', // VSTR, length 5
        0x00, 0xF0, 0x00, 0x00, 0x00, // g0v240 (max transmit fragment)
        0x02, 0x02, 0x00, 0x08, // UINT, length 2, 2048
    ];
    let (app, gvs) = check_app(&bytes);
    assert_eq!(gvs, ["g0v252", "g0v250", "g0v240"]);
    assert!(app.anomalies.is_empty(), "{}", app.anomalies);
    let attrs: Vec<_> = app
        .objects()
        .flat_map(|h| {
            let v = h.variation;
            h.points().filter_map(move |p| DeviceAttribute::parse(v, p.data))
        })
        .collect();
    assert_eq!(attrs[0].variation, AttributeVariation::MANUFACTURER);
    assert_eq!(attrs[0].text(), Some("ACME"));
    assert_eq!(attrs[1].variation, AttributeVariation::PRODUCT_NAME_AND_MODEL);
    assert_eq!(attrs[1].text(), Some("RTU-9"));
    assert_eq!(attrs[2].data_type, AttributeDataType::UINT);
    assert_eq!(attrs[2].value, &[0x00, 0x08]);
    assert_eq!(attrs[2].text(), None);
}

#[test]
fn open_file_names_the_file() {
    let name = b"/etc/config.bin";
    let mut object = vec![
        0x1A, 0x00, // file name offset 26
        15, 0x00, // file name size
        0, 0, 0, 0, 0, 0, // time of creation
        0xA4, 0x01, // permissions 0644
        0, 0, 0, 0, // authentication key
        0x00, 0x10, 0x00, 0x00, // file size 4096
        0x02, 0x00, // operational mode: write
        0x00, 0x04, // maximum block size 1024
        0x07, 0x00, // request id 7
    ];
    object.extend_from_slice(name);
    let mut bytes = vec![
        0xC1, 0x19, // Open File
        0x46, 0x03, 0x5B, 0x01, // g70v3, free format, 2-octet size prefix, count 1
    ];
    bytes.extend_from_slice(&u16::try_from(object.len()).unwrap().to_le_bytes());
    bytes.extend_from_slice(&object);
    let (app, gvs) = check_app(&bytes);
    assert_eq!(gvs, ["g70v3"]);
    assert_eq!(app.function.operation(), Operation::File);
    let header = app.objects().next().unwrap();
    assert_eq!(header.layout, Layout::SizePrefixed);
    let point = header.points().next().unwrap();
    let cmd = FileCommand::parse(point.data).unwrap();
    assert_eq!(cmd.file_name, name);
    assert_eq!(cmd.mode, FileMode::WRITE);
    assert_eq!(cmd.file_size, 4096);
    assert_eq!(cmd.request_id, 7);
}

#[rstest]
#[case::confirm(0, Operation::Confirm)]
#[case::read(1, Operation::Read)]
#[case::write(2, Operation::Write)]
#[case::select(3, Operation::Control)]
#[case::direct_operate_no_response(6, Operation::Control)]
#[case::freeze_at_time(11, Operation::Freeze)]
#[case::cold_restart(13, Operation::Restart)]
#[case::warm_restart(14, Operation::Restart)]
#[case::initialize_data(15, Operation::Configuration)]
#[case::stop_application(18, Operation::ApplicationControl)]
#[case::save_config(19, Operation::Configuration)]
#[case::disable_unsolicited(21, Operation::UnsolicitedControl)]
#[case::record_current_time(24, Operation::TimeSync)]
#[case::delete_file(27, Operation::File)]
#[case::activate_config(31, Operation::Configuration)]
#[case::auth_request(32, Operation::Authentication)]
#[case::auth_response(131, Operation::Authentication)]
#[case::unsolicited(130, Operation::Response)]
#[case::reserved(34, Operation::Reserved)]
fn function_operations(#[case] code: u8, #[case] op: Operation) {
    assert_eq!(FunctionCode(code).operation(), op);
    assert_eq!(FunctionCode(code).is_reserved(), op == Operation::Reserved);
}

#[test]
fn wire_enums_keep_unknown_values() {
    assert_eq!(FunctionCode::DIRECT_OPERATE.name(), Some("Direct Operate"));
    assert_eq!(FunctionCode(200).name(), None);
    assert_eq!(format!("{}", FunctionCode(200)), "200");
    assert_eq!(format!("{:?}", FunctionCode::READ), "Read(1)");
    assert_eq!(PrimaryFunction(7).name(), None);
    assert_eq!(ObjectGroup(12).name(), Some("Binary Output Command"));
    assert_eq!(Qualifier(0x5B).prefix(), PrefixCode::SIZE_2);
    assert_eq!(Qualifier(0x5B).range(), RangeCode::FREE_FORMAT);
    assert!(!Qualifier(0x7B).is_valid());
}

#[test]
fn iin_names() {
    let iin = Iin(0x9002);
    assert!(iin.device_restart());
    assert!(!iin.reserved_bits());
    assert_eq!(iin.names().collect::<Vec<_>>(), ["Need Time", "Device Restart", "Object Unknown"]);
}

#[test]
fn anomaly_names_are_unique_and_cover_every_flag() {
    let mut all = Anomalies::NONE;
    let mut seen = std::collections::HashSet::new();
    for (flag, name) in Anomalies::ALL {
        assert_eq!(flag.bits().count_ones(), 1);
        assert!(!all.contains(flag), "{name} reuses a bit");
        all |= flag;
        assert!(name.starts_with("dnp3.") && seen.insert(name));
    }
    assert_eq!(all.bits(), (1u32 << Anomalies::ALL.len()) - 1);
    assert_eq!(
        format!("{}", Anomalies::BAD_DATA_CRC | Anomalies::DEVICE_RESTART),
        "dnp3.bad_data_crc,dnp3.device_restart"
    );
}

#[test]
fn never_panics_on_prefixes_of_valid_input() {
    // Every prefix of a multi-object response decodes or fails cleanly.
    let bytes = [
        0xC0, 0x81, 0x00, 0x00, 0x01, 0x01, 0x00, 0x00, 0x09, 0xFF, 0x01, 0x0C, 0x01, 0x28, 0x01,
        0x00, 0x05, 0x00, 0x03, 0x01, 0x64, 0x00, 0x00, 0x00, 0x64, 0x00, 0x00, 0x00, 0x00, 0x00,
        0xFC, 0x00, 0x00, 0x00, 0x01, 0x02, b'h', b'i',
    ];
    for n in 0..=bytes.len() {
        if let Ok(app) = parse_application(&bytes[..n]) {
            for h in app.objects() {
                let _ = h.points().count();
            }
        }
    }
}

#[test]
fn secure_authentication_objects_decode() {
    let bytes = [
        0xC7, 0x83, 0x00, 0x00, // Authentication Response, IIN clear
        0x78, 0x01, 0x5B, 0x01, 0x0C, 0x00, // g120v1 challenge, count 1, size 12
        0x05, 0x00, 0x00, 0x00, // CSQ 5
        0x01, 0x00, // user 1
        0x04, // MAC algorithm 4 (HMAC-SHA-256 truncated)
        0x01, // reason: critical function
        0xDE, 0xAD, 0xBE, 0xEF, // challenge data
        0x78, 0x07, 0x5B, 0x01, 0x11, 0x00, // g120v7 error, count 1, size 17
        0x05, 0x00, 0x00, 0x00, // CSQ 5
        0x02, 0x00, // user 2
        0x01, 0x00, // association 1
        0x0B, // error: unknown user
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // time of error
        b'n', b'o', // error text
    ];
    let (app, gvs) = check_app(&bytes);
    assert_eq!(gvs, ["g120v1", "g120v7"]);
    assert!(app.anomalies.is_empty(), "{}", app.anomalies);
    assert_eq!(app.function.operation(), Operation::Authentication);
    let mut headers = app.objects();
    let challenge = headers.next().unwrap();
    let c = AuthChallenge::parse(challenge.points().next().unwrap().data).unwrap();
    assert_eq!((c.csq, c.user, c.mac_algorithm, c.reason), (5, 1, 4, 1));
    assert_eq!(c.challenge, &[0xDE, 0xAD, 0xBE, 0xEF]);
    let error = headers.next().unwrap();
    let e = AuthError::parse(error.points().next().unwrap().data).unwrap();
    assert_eq!(e.code, AuthErrorCode::UNKNOWN_USER);
    assert_eq!((e.csq, e.user, e.association), (5, 2, 1));
    assert_eq!(e.text, b"no");
    let reply = AuthReply::parse(&[0x05, 0, 0, 0, 0x01, 0x00, 0xAA]).unwrap();
    assert_eq!((reply.csq, reply.user, reply.mac), (5, 1, [0xAA].as_slice()));
    assert_eq!(AuthError::parse(&[0x05, 0, 0, 0]), None);
}

#[rstest]
// From master 1 to outstation 1024 (DIR set).
#[case::from_master(0xC4, 1024, 1, 1, 1024, false)]
// From outstation 1024 to master 1 (DIR clear).
#[case::from_outstation(0x44, 1, 1024, 1, 1024, false)]
// Broadcast from master 3.
#[case::broadcast(0xC4, 0xFFFF, 3, 3, 0xFFFF, true)]
fn master_and_outstation_addresses(
    #[case] control: u8,
    #[case] dst: u16,
    #[case] src: u16,
    #[case] master: u16,
    #[case] outstation: u16,
    #[case] broadcast: bool,
) {
    let bytes = link(control, dst, src, &[0xC0, 0xC0, 0x01]);
    let frame = check_link(&bytes);
    assert_eq!(frame.header.master_address(), master);
    assert_eq!(frame.header.outstation_address(), outstation);
    assert_eq!(frame.header.is_broadcast(), broadcast);
}
