//! Unit tests for IEC 60870-5-104 over hand-built vectors written from the
//! APCI (-104 clause 5) and ASDU (-101 clause 7) layouts, field by field.

use rstest::rstest;

use super::*;
use crate::{DecodeError, Direction};

/// The single check helper: parses one APDU, which must consume the input.
fn check(input: &[u8]) -> Apdu<'_> {
    let (rest, apdu) = parse(input, Direction::ToServer).expect("parses");
    assert!(rest.is_empty(), "left over: {rest:02x?}");
    apdu
}

/// An I-format APDU around `asdu` with N(S) = 2 and N(R) = 1.
fn i_frame(asdu: &[u8]) -> Vec<u8> {
    let mut v = vec![
        0x68,                                  // start
        u8::try_from(asdu.len() + 4).unwrap(), // length
        0x04,
        0x00, // N(S) = 2 (shifted left by one, LSB 0 = I format)
        0x02,
        0x00, // N(R) = 1
    ];
    v.extend_from_slice(asdu);
    v
}

#[rstest]
#[case::empty(&[], Err(DecodeError::incomplete(2)))]
#[case::start_only(&[0x68], Err(DecodeError::incomplete(1)))]
#[case::not_start(&[0x00, 0x04], Err(DecodeError::Malformed("no start octet 0x68")))]
#[case::keep_alive_byte(&[0x00], Err(DecodeError::Malformed("no start octet 0x68")))]
#[case::too_long(&[0x68, 0xfe], Err(DecodeError::Malformed("APDU length above 253")))]
#[case::u_frame(&[0x68, 0x04], Ok(6))]
#[case::max(&[0x68, 0xfd], Ok(255))]
#[case::short_frames(&[0x68, 0x00], Ok(2))]
fn pdu_len_frames_on_length_octet(
    #[case] input: &[u8],
    #[case] expected: Result<usize, DecodeError>,
) {
    assert_eq!(pdu_len(input), expected);
}

#[rstest]
#[case::startdt_act(&[0x68, 0x04, 0x07, 0x00, 0x00, 0x00], UFunction::STARTDT_ACT)]
#[case::startdt_con(&[0x68, 0x04, 0x0b, 0x00, 0x00, 0x00], UFunction::STARTDT_CON)]
#[case::stopdt_act(&[0x68, 0x04, 0x13, 0x00, 0x00, 0x00], UFunction::STOPDT_ACT)]
#[case::stopdt_con(&[0x68, 0x04, 0x23, 0x00, 0x00, 0x00], UFunction::STOPDT_CON)]
#[case::testfr_act(&[0x68, 0x04, 0x43, 0x00, 0x00, 0x00], UFunction::TESTFR_ACT)]
#[case::testfr_con(&[0x68, 0x04, 0x83, 0x00, 0x00, 0x00], UFunction::TESTFR_CON)]
fn u_format_functions(#[case] input: &[u8], #[case] function: UFunction) {
    let a = check(input);
    assert_eq!(a.apci, Apci::U { function });
    assert_eq!(a.apci.format(), Some('U'));
    assert!(a.asdu.is_none());
    assert!(a.anomalies.is_empty());
    assert!(probe(input));
}

#[test]
fn s_format_carries_receive_sequence() {
    let input = [
        0x68, 0x04, // start, length 4
        0x01, 0x00, // S format
        0x10, 0x00, // N(R) = 8
    ];
    let a = check(&input);
    assert_eq!(a.apci, Apci::S { recv_seq: 8 });
    assert!(a.anomalies.is_empty());
}

#[test]
fn i_format_single_point_objects() {
    let input = i_frame(&[
        0x01, // type: M_SP_NA_1
        0x02, // SQ = 0, two objects
        0x03, // cause: spontaneous
        0x00, // originator
        0x0a, 0x00, // common address 10
        0x01, 0x00, 0x00, 0x01, // IOA 1, SIQ: on
        0x02, 0x10, 0x00, 0x00, // IOA 4098, SIQ: off
    ]);
    let a = check(&input);
    assert_eq!(a.apci, Apci::I { send_seq: 2, recv_seq: 1 });
    let asdu = a.asdu.unwrap();
    assert_eq!(asdu.type_id, TypeId::M_SP_NA_1);
    assert_eq!((asdu.sequence, asdu.count), (false, 2));
    assert_eq!(
        asdu.cot,
        CauseOfTransmission { cause: Cause::SPONTANEOUS, negative: false, test: false }
    );
    assert_eq!(asdu.common_address, 10);
    assert_eq!(
        asdu.objects,
        vec![
            InfoObject { address: 1, element: &[0x01] },
            InfoObject { address: 0x1002, element: &[0x00] }
        ]
    );
    assert!(a.anomalies.is_empty());
    assert!(probe(&input));
}

#[test]
fn sequence_of_elements_gets_consecutive_addresses() {
    let input = i_frame(&[
        0x0b, // M_ME_NB_1 (scaled value + QDS)
        0x83, // SQ = 1, three elements
        0x14, // cause: interrogated by station interrogation
        0x00, // originator
        0x1e, 0x04, // common address 1054
        0x64, 0x00, 0x00, // IOA 100
        0x01, 0x00, 0x00, // element 1: value 1, QDS good
        0x02, 0x00, 0x00, // element 2
        0xff, 0x7f, 0x10, // element 3: value 32767, QDS invalid
    ]);
    let asdu = check(&input).asdu.unwrap();
    let addrs: Vec<u32> = asdu.objects.iter().map(|o| o.address).collect();
    assert_eq!(addrs, vec![100, 101, 102]);
    assert_eq!(asdu.objects[2].element, &[0xff, 0x7f, 0x10]);
    assert_eq!(asdu.common_address, 1054);
}

#[rstest]
#[case::single_command_select(
    &[0x2d, 0x01, 0x06, 0x00, 0x01, 0x00, 0x05, 0x00, 0x00, 0x81], // C_SC_NA_1 act, IOA 5, SCO: select, on
    TypeId::C_SC_NA_1,
    CommandQualifier { select: true, qualifier: 0, state: Some(1) }
)]
#[case::double_command_execute(
    &[0x2e, 0x01, 0x06, 0x00, 0x01, 0x00, 0x05, 0x00, 0x00, 0x06], // C_DC_NA_1 act, IOA 5, DCO: execute, QU 1 (short pulse), state 2 (on)
    TypeId::C_DC_NA_1,
    CommandQualifier { select: false, qualifier: 1, state: Some(2) }
)]
#[case::float_setpoint(
    &[0x32, 0x01, 0x06, 0x00, 0x01, 0x00, 0x07, 0x00, 0x00, 0x00, 0x00, 0x80, 0x3f, 0x00], // C_SE_NC_1 1.0, QOS execute
    TypeId::C_SE_NC_1,
    CommandQualifier { select: false, qualifier: 0, state: None }
)]
fn commands_expose_select_execute(
    #[case] asdu: &[u8],
    #[case] type_id: TypeId,
    #[case] expected: CommandQualifier,
) {
    let input = i_frame(asdu);
    let a = check(&input);
    let asdu = a.asdu.unwrap();
    assert_eq!(asdu.type_id, type_id);
    assert!(type_id.is_control());
    assert_eq!(asdu.objects[0].command(type_id), Some(expected));
    assert!(a.anomalies.is_empty(), "{:?}", a.anomalies.names().collect::<Vec<_>>());
}

#[test]
fn negative_confirmation_and_test_bits() {
    let input = i_frame(&[
        0x64, // C_IC_NA_1
        0x01, // one object
        0xc7, // T = 1, P/N = 1, cause 7 (actcon)
        0x00, // originator
        0xff, 0xff, // global common address
        0x00, 0x00, 0x00, // IOA 0
        0x14, // QOI: station interrogation
    ]);
    let asdu = check(&input).asdu.unwrap();
    assert_eq!(
        asdu.cot,
        CauseOfTransmission { cause: Cause::ACTIVATION_CON, negative: true, test: true }
    );
    assert_eq!(asdu.common_address, 0xffff);
}

#[test]
fn variable_sized_file_segment() {
    let input = i_frame(&[
        0x7d, // F_SG_NA_1
        0x01, // one object
        0x0d, // cause: file transfer
        0x00, // originator
        0x01, 0x00, // common address 1
        0x00, 0x01, 0x00, // IOA 256
        0x01, 0x00, // name of file
        0x01, // name of section
        0x03, // length of segment: 3
        0xaa, 0xbb, 0xcc, // segment
    ]);
    let a = check(&input);
    assert_eq!(a.asdu.unwrap().objects[0].element.len(), 7);
    assert!(a.anomalies.is_empty());
}

#[test]
fn clock_sync_and_reset_process_are_control() {
    assert!(TypeId::C_CS_NA_1.is_control());
    assert!(TypeId::C_RP_NA_1.is_control());
    assert!(!TypeId::M_ME_NC_1.is_control());
    assert!(!TypeId::C_IC_NA_1.is_control());
    assert_eq!(TypeId::C_RP_NA_1.name(), Some("C_RP_NA_1"));
    assert_eq!(TypeId(42).name(), None);
    assert_eq!(TypeId(42).to_string(), "unknown (42)");
    assert_eq!(Cause::UNKNOWN_IOA.to_string(), "unknown information object address");
}

/// Framable-but-wrong APDUs: the exact anomaly flags.
#[rstest]
#[case::s_with_asdu_bytes(vec![0x68, 0x05, 0x01, 0x00, 0x00, 0x00, 0xaa], Anomalies::INVALID_APCI_LENGTH)]
#[case::s_reserved(vec![0x68, 0x04, 0x01, 0x01, 0x00, 0x00], Anomalies::RESERVED_NONZERO)]
#[case::u_two_functions(vec![0x68, 0x04, 0x17, 0x00, 0x00, 0x00], Anomalies::INVALID_U_FUNCTION)]
#[case::u_no_function(vec![0x68, 0x04, 0x03, 0x00, 0x00, 0x00], Anomalies::INVALID_U_FUNCTION)]
#[case::u_reserved(vec![0x68, 0x04, 0x07, 0x00, 0x01, 0x00], Anomalies::RESERVED_NONZERO)]
#[case::short_apdu(vec![0x68, 0x02, 0x14, 0x14], Anomalies::INVALID_APCI_LENGTH)]
#[case::i_without_asdu(vec![0x68, 0x04, 0x00, 0x00, 0x00, 0x00], Anomalies::ASDU_TRUNCATED)]
#[case::i_half_header(i_frame(&[0x01, 0x01, 0x03]), Anomalies::ASDU_TRUNCATED)]
#[case::unknown_type(
    i_frame(&[0x2a, 0x01, 0x03, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00]), // type 42 reserved
    Anomalies::UNKNOWN_TYPE_ID
)]
#[case::zero_objects(i_frame(&[0x01, 0x00, 0x03, 0x00, 0x01, 0x00]), Anomalies::NO_OBJECTS)]
#[case::objects_short(
    i_frame(&[0x0d, 0x02, 0x03, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x80, 0x3f, 0x00]), // 2 floats declared, 1 present
    Anomalies::LENGTH_MISMATCH
)]
#[case::objects_extra(
    i_frame(&[0x01, 0x01, 0x03, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x01, 0xee]),
    Anomalies::LENGTH_MISMATCH
)]
#[case::cause_zero(i_frame(&[0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x01]), Anomalies::UNKNOWN_CAUSE)]
#[case::cause_reserved(i_frame(&[0x01, 0x01, 0x2a, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x01]), Anomalies::UNKNOWN_CAUSE)]
#[case::command_with_spontaneous(
    i_frame(&[0x2d, 0x01, 0x03, 0x00, 0x01, 0x00, 0x05, 0x00, 0x00, 0x01]),
    Anomalies::ILLEGAL_CAUSE_FOR_TYPE
)]
#[case::measurement_with_activation(
    i_frame(&[0x01, 0x01, 0x06, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x01]),
    Anomalies::ILLEGAL_CAUSE_FOR_TYPE
)]
#[case::end_of_init_not_init(
    i_frame(&[0x46, 0x01, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00]),
    Anomalies::ILLEGAL_CAUSE_FOR_TYPE
)]
#[case::common_address_zero(
    i_frame(&[0x01, 0x01, 0x03, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x01]),
    Anomalies::COMMON_ADDRESS_ZERO
)]
fn framable_but_wrong_apdus_are_flagged(#[case] input: Vec<u8>, #[case] expected: Anomalies) {
    let a = check(&input);
    assert_eq!(a.anomalies, expected, "got {:?}", a.anomalies.names().collect::<Vec<_>>());
}

#[test]
fn unknown_type_keeps_header_but_no_objects() {
    let input = i_frame(&[0x18, 0x01, 0x1a, 0x00, 0x0d, 0x91, 0x01, 0x02, 0x03, 0x04]);
    let asdu = check(&input).asdu.unwrap();
    assert_eq!(
        (asdu.type_id, asdu.cot.cause, asdu.common_address),
        (TypeId(24), Cause::INRO6, 0x910d)
    );
    assert!(asdu.objects.is_empty());
    assert_eq!(asdu.body, &[0x01, 0x02, 0x03, 0x04]);
}

#[rstest]
#[case::s7(vec![0x03, 0x00, 0x00, 0x16, 0x11, 0xe0])]
#[case::u_bad_function(vec![0x68, 0x04, 0x17, 0x00, 0x00, 0x00])]
#[case::u_long(vec![0x68, 0x05, 0x07, 0x00, 0x00, 0x00, 0x00])]
#[case::i_unknown_type(i_frame(&[0x2a, 0x01, 0x03, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00]))]
#[case::i_zero_cause(i_frame(&[0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x01]))]
#[case::truncated(vec![0x68, 0x04, 0x07])]
#[case::short(vec![0x68, 0x01, 0x00])]
#[case::http(b"GET / HTTP/1.1\r\n".to_vec())]
fn probe_rejects_non_iec104(#[case] input: Vec<u8>) {
    assert!(!probe(&input));
}

#[test]
fn several_apdus_in_one_buffer_and_truncation() {
    let testfr = [0x68, 0x04, 0x43, 0x00, 0x00, 0x00];
    let sframe = [0x68, 0x04, 0x01, 0x00, 0x02, 0x00];
    let both = [&testfr[..], &sframe[..]].concat();
    let (rest, first) = parse(&both, Direction::ToServer).unwrap();
    assert_eq!(first.apci, Apci::U { function: UFunction::TESTFR_ACT });
    let (rest, second) = parse(rest, Direction::ToClient).unwrap();
    assert_eq!(second.apci, Apci::S { recv_seq: 1 });
    assert!(rest.is_empty());
    assert_eq!(
        parse(&testfr[..4], Direction::ToServer).map(|_| ()),
        Err(DecodeError::incomplete(2))
    );
}

#[test]
fn every_prefix_and_corruption_is_safe() {
    let samples = [
        i_frame(&[0x0b, 0x83, 0x14, 0x00, 0x1e, 0x04, 0x64, 0x00, 0x00, 1, 0, 0, 2, 0, 0, 3, 0, 0]),
        i_frame(&[
            0x7d, 0x01, 0x0d, 0x00, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x01, 0x03, 1, 2, 3,
        ]),
    ];
    for s in &samples {
        for n in 0..=s.len() {
            let _ = parse(&s[..n], Direction::ToServer);
            let _ = probe(&s[..n]);
        }
        for i in 0..s.len() {
            for v in [0x00, 0x01, 0x7f, 0x80, 0xff] {
                let mut m = s.clone();
                m[i] = v;
                let _ = parse(&m, Direction::ToClient);
                let mut anomalies = Anomalies::NONE;
                let _ = parse_asdu(m.get(6..).unwrap_or(&[]), &mut anomalies);
            }
        }
    }
}

#[test]
fn element_sizes_cover_every_named_type() {
    for raw in 0..=255u8 {
        let t = TypeId(raw);
        if t.is_known() && t != TypeId::F_SG_NA_1 {
            assert!(t.element_size().is_some(), "{t} has no size");
        }
        if !t.is_known() {
            assert_eq!(t.element_size(), None, "{raw}");
            assert_eq!(t.category(), TypeCategory::Unknown);
        }
    }
    assert_eq!(TypeId::M_ME_TF_1.element_size(), Some(12));
    assert_eq!(TypeId::C_SE_TC_1.element_size(), Some(12));
    assert_eq!(TypeId::C_CS_NA_1.element_size(), Some(7));
}

#[test]
fn names_are_stable() {
    assert_eq!(
        (Anomalies::UNKNOWN_TYPE_ID | Anomalies::COMMON_ADDRESS_ZERO).names().collect::<Vec<_>>(),
        vec!["iec104.unknown_type_id", "iec104.common_address_zero"]
    );
    assert!(Anomalies::all_names().all(|n| n.starts_with("iec104.")));
    assert_eq!(Anomalies::all_names().count(), 10);
    assert_eq!(UFunction::TESTFR_CON.name(), Some("TESTFR con"));
}
