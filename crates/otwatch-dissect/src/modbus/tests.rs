//! Modbus dissector tests: hand-built vectors from the specification, one
//! `rstest` case per behaviour, all going through the `check` helpers.

use rstest::rstest;

use super::*;
use crate::{DecodeError, Direction};

const REQ: Direction = Direction::ToServer;
const RSP: Direction = Direction::ToClient;

/// Wraps a PDU in an MBAP header: transaction id 0x0001, protocol id 0,
/// length = 1 + PDU length, unit id 0x11.
fn adu(pdu: &[u8]) -> Vec<u8> {
    let len = u16::try_from(pdu.len() + 1).unwrap();
    let mut v = vec![0x00, 0x01, 0x00, 0x00];
    v.extend_from_slice(&len.to_be_bytes());
    v.push(0x11);
    v.extend_from_slice(pdu);
    v
}

/// Parses `bytes` as one whole ADU and checks that nothing is left over.
fn check(bytes: &[u8], dir: Direction) -> Adu<'_> {
    let (rest, adu) = parse(bytes, dir).expect("parses");
    assert!(rest.is_empty(), "bytes left over: {rest:02x?}");
    adu
}

/// Parses a bare PDU wrapped in an MBAP header; returns body and anomalies.
fn check_pdu(pdu: &[u8], dir: Direction) -> (Body<'static>, Anomalies) {
    let bytes: &'static [u8] = Box::leak(adu(pdu).into_boxed_slice());
    let a = check(bytes, dir);
    assert_eq!(a.pdu.function, FunctionCode(pdu[0]));
    assert_eq!(a.pdu.is_request, dir == REQ);
    (a.pdu.body, a.anomalies)
}

#[test]
fn parses_the_mbap_header_field_by_field() {
    let bytes = [
        0x12, 0x34, // transaction id 0x1234
        0x00, 0x00, // protocol id 0 (Modbus)
        0x00, 0x06, // length: unit id + 5 PDU bytes
        0xFF, // unit id 255
        0x03, // function 3, Read Holding Registers
        0x00, 0x6B, // starting address 107
        0x00, 0x03, // quantity 3
    ];
    let a = check(&bytes, REQ);
    assert_eq!(a.header, Mbap { transaction_id: 0x1234, protocol_id: 0, length: 6, unit_id: 0xFF });
    assert_eq!(a.pdu.function, FunctionCode::READ_HOLDING_REGISTERS);
    assert_eq!(a.pdu.data, &[0x00, 0x6B, 0x00, 0x03]);
    assert_eq!(a.pdu.body, Body::ReadRequest { start: 107, quantity: 3 });
    assert_eq!(a.anomalies, Anomalies::NONE);
}

#[rstest]
#[case::empty(&[], Err(DecodeError::incomplete(6)))]
#[case::five_bytes(&[0x00, 0x01, 0x00, 0x00, 0x00], Err(DecodeError::incomplete(1)))]
#[case::length_zero(
    &[0x00, 0x01, 0x00, 0x00, 0x00, 0x00], // tid 1, proto 0, length 0
    Err(DecodeError::Malformed("modbus: MBAP length under 2"))
)]
#[case::length_one_has_no_function_code(
    &[0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x11], // length 1: unit id only
    Err(DecodeError::Malformed("modbus: MBAP length under 2"))
)]
#[case::length_over_254_still_frames(
    &[0x00, 0x01, 0x00, 0x00, 0x00, 0xFF], // length 255: over the 260-byte ADU, framable
    Ok(261)
)]
#[case::huge_length(&[0x00, 0x01, 0x00, 0x00, 0x88, 0x04], Ok(6 + 0x8804))] // length 0x8804
#[case::minimum(&[0x00, 0x01, 0x00, 0x00, 0x00, 0x02], Ok(8))]
#[case::maximum(&[0x00, 0x01, 0x00, 0x00, 0x00, 0xFE], Ok(260))]
#[case::nonzero_protocol_still_frames(&[0x00, 0x01, 0x00, 0x07, 0x00, 0x06], Ok(12))]
fn frames_from_the_mbap_length(#[case] input: &[u8], #[case] expected: Result<usize, DecodeError>) {
    assert_eq!(pdu_len(input), expected);
}

#[test]
fn flags_an_adu_over_the_specification_limit() {
    // tid 1, proto 0, length 305: unit id + function 3 + 303 zero bytes.
    let mut bytes = vec![0x00, 0x01, 0x00, 0x00, 0x01, 0x31, 0x01, 0x03];
    bytes.resize(6 + 305, 0x00);
    let a = check(&bytes, REQ);
    assert_eq!(a.pdu.function, FunctionCode::READ_HOLDING_REGISTERS);
    assert_eq!(a.pdu.body, Body::Raw);
    // Quantity 0 was read before the extra bytes showed the shape is wrong.
    assert_eq!(a.anomalies, Anomalies::INVALID_LENGTH | Anomalies::QUANTITY_OUT_OF_RANGE);
    assert!(!probe(&bytes));
}

#[rstest]
#[case::short(&[0x00, 0x01, 0x00], Err(DecodeError::incomplete(3)))]
#[case::length_zero(&[0x12, 0x34, 0x00, 0x05, 0x00, 0x00],
    Ok(MbapPrefix { transaction_id: 0x1234, protocol_id: 5, length: 0 }))]
fn reads_the_mbap_prefix_without_judging(
    #[case] input: &[u8],
    #[case] expected: Result<MbapPrefix, DecodeError>,
) {
    assert_eq!(mbap_prefix(input), expected);
    if let Ok(p) = expected {
        assert_eq!(p.adu_len(), 6 + usize::from(p.length));
    }
}

#[test]
fn parse_asks_for_the_rest_of_a_split_adu() {
    let bytes = [
        0x00, 0x01, 0x00, 0x00, 0x00, 0x06, // tid 1, proto 0, length 6
        0x01, // unit id
        0x03, 0x00, // function 3, half of the starting address
    ];
    assert_eq!(parse(&bytes, REQ), Err(DecodeError::incomplete(3)));
}

#[test]
fn parse_returns_the_bytes_after_the_adu() {
    let bytes = [
        0x00, 0x01, 0x00, 0x00, 0x00, 0x06, 0x01, // MBAP: tid 1, length 6, unit 1
        0x04, 0x00, 0x00, 0x00, 0x02, // Read Input Registers 0, quantity 2
        0x00, 0x02, 0x00, 0x00, 0x00, 0x06, 0x01, // next MBAP: tid 2
        0x04, 0x00, 0x10, 0x00, 0x01, // Read Input Registers 16, quantity 1
    ];
    let (rest, first) = parse(&bytes, REQ).unwrap();
    assert_eq!(first.header.transaction_id, 1);
    assert_eq!(rest.len(), 12);
    let second = check(rest, REQ);
    assert_eq!(second.header.transaction_id, 2);
    assert_eq!(second.pdu.body, Body::ReadRequest { start: 16, quantity: 1 });
}

#[rstest]
// Read Coils request: start 19, quantity 19 (spec 6.1 example).
#[case::read_coils_request(&[0x01, 0x00, 0x13, 0x00, 0x13], REQ,
    Body::ReadRequest { start: 19, quantity: 19 }, Anomalies::NONE)]
// Read Coils response: byte count 3, coil status 0xCD 0x6B 0x05.
#[case::read_coils_response(&[0x01, 0x03, 0xCD, 0x6B, 0x05], RSP,
    Body::ReadResponse { byte_count: 3, values: &[0xCD, 0x6B, 0x05] }, Anomalies::NONE)]
// Read Discrete Inputs request: quantity 2000 is the maximum.
#[case::read_inputs_max(&[0x02, 0x00, 0x00, 0x07, 0xD0], REQ,
    Body::ReadRequest { start: 0, quantity: 2000 }, Anomalies::NONE)]
// Read Discrete Inputs request: quantity 2001 is one too many.
#[case::read_inputs_too_many(&[0x02, 0x00, 0x00, 0x07, 0xD1], REQ,
    Body::ReadRequest { start: 0, quantity: 2001 }, Anomalies::QUANTITY_OUT_OF_RANGE)]
// Read Holding Registers request: quantity 0 is not allowed.
#[case::read_holding_zero(&[0x03, 0x00, 0x00, 0x00, 0x00], REQ,
    Body::ReadRequest { start: 0, quantity: 0 }, Anomalies::QUANTITY_OUT_OF_RANGE)]
// Read Holding Registers request: quantity 126 > 125.
#[case::read_holding_126(&[0x03, 0x00, 0x00, 0x00, 0x7E], REQ,
    Body::ReadRequest { start: 0, quantity: 126 }, Anomalies::QUANTITY_OUT_OF_RANGE)]
// Read Input Registers request: start 0xFFFF + 2 runs past the address space.
#[case::read_input_wraps(&[0x04, 0xFF, 0xFF, 0x00, 0x02], REQ,
    Body::ReadRequest { start: 0xFFFF, quantity: 2 }, Anomalies::ADDRESS_OUT_OF_RANGE)]
// Read Holding Registers response: byte count 6, three registers.
#[case::read_holding_response(&[0x03, 0x06, 0x02, 0x2B, 0x00, 0x00, 0x00, 0x64], RSP,
    Body::ReadResponse { byte_count: 6, values: &[0x02, 0x2B, 0x00, 0x00, 0x00, 0x64] },
    Anomalies::NONE)]
// Read Holding Registers response: odd byte count 3 cannot hold registers.
#[case::read_holding_odd_count(&[0x03, 0x03, 0x02, 0x2B, 0x00], RSP,
    Body::ReadResponse { byte_count: 3, values: &[0x02, 0x2B, 0x00] },
    Anomalies::BYTE_COUNT_MISMATCH)]
// Read Input Registers response: byte count 4 but only 2 bytes follow.
#[case::read_input_short_values(&[0x04, 0x04, 0x00, 0x0A], RSP,
    Body::ReadResponse { byte_count: 4, values: &[0x00, 0x0A] }, Anomalies::BYTE_COUNT_MISMATCH)]
// Read Coils request with a trailing byte: shape broken, kept raw.
#[case::read_request_trailing_byte(&[0x01, 0x00, 0x13, 0x00, 0x13, 0x00], REQ,
    Body::Raw, Anomalies::INVALID_LENGTH)]
// Read Coils request cut after the address.
#[case::read_request_short(&[0x01, 0x00, 0x13], REQ, Body::Raw, Anomalies::INVALID_LENGTH)]
// Write Single Coil: address 172, value 0xFF00 (ON).
#[case::write_single_coil_on(&[0x05, 0x00, 0xAC, 0xFF, 0x00], REQ,
    Body::WriteSingle { address: 172, value: 0xFF00 }, Anomalies::NONE)]
// Write Single Coil: value 0x1234 is neither ON nor OFF.
#[case::write_single_coil_bad_value(&[0x05, 0x00, 0xAC, 0x12, 0x34], RSP,
    Body::WriteSingle { address: 172, value: 0x1234 }, Anomalies::INVALID_VALUE)]
// Write Single Register: address 1, value 3.
#[case::write_single_register(&[0x06, 0x00, 0x01, 0x00, 0x03], RSP,
    Body::WriteSingle { address: 1, value: 3 }, Anomalies::NONE)]
// Read Exception Status request has no data.
#[case::read_exception_status_request(&[0x07], REQ, Body::Empty, Anomalies::NONE)]
// Read Exception Status response: output data 0x6D.
#[case::read_exception_status_response(&[0x07, 0x6D], RSP,
    Body::ExceptionStatus { outputs: 0x6D }, Anomalies::NONE)]
// Diagnostics: sub-function 0 Return Query Data, data 0xA537.
#[case::diagnostics_echo(&[0x08, 0x00, 0x00, 0xA5, 0x37], REQ,
    Body::Diagnostics { sub_function: DiagnosticSubFunction::RETURN_QUERY_DATA,
        data: &[0xA5, 0x37] }, Anomalies::NONE)]
// Diagnostics: sub-function 4 Force Listen Only Mode, data 0x0000.
#[case::diagnostics_listen_only(&[0x08, 0x00, 0x04, 0x00, 0x00], REQ,
    Body::Diagnostics { sub_function: DiagnosticSubFunction::FORCE_LISTEN_ONLY_MODE,
        data: &[0x00, 0x00] }, Anomalies::NONE)]
// Diagnostics: sub-function 0x15 is reserved.
#[case::diagnostics_reserved(&[0x08, 0x00, 0x15, 0x00, 0x00], REQ,
    Body::Diagnostics { sub_function: DiagnosticSubFunction(0x15), data: &[0x00, 0x00] },
    Anomalies::RESERVED_DIAGNOSTIC_SUBFUNCTION)]
// Get Comm Event Counter response: status 0xFFFF (busy), count 0x0108.
#[case::comm_event_counter(&[0x0B, 0xFF, 0xFF, 0x01, 0x08], RSP,
    Body::CommEventCounter { status: 0xFFFF, event_count: 0x0108 }, Anomalies::NONE)]
// Get Comm Event Log response: byte count 8, status 0, event count 0x0108,
// message count 0x0121, events 0x20 0x00.
#[case::comm_event_log(&[0x0C, 0x08, 0x00, 0x00, 0x01, 0x08, 0x01, 0x21, 0x20, 0x00], RSP,
    Body::CommEventLog { byte_count: 8, status: 0, event_count: 0x0108, message_count: 0x0121,
        events: &[0x20, 0x00] }, Anomalies::NONE)]
// Get Comm Event Log response: byte count 4 cannot hold the three words.
#[case::comm_event_log_short(&[0x0C, 0x04, 0x00, 0x00, 0x01, 0x08], RSP,
    Body::Raw, Anomalies::INVALID_LENGTH)]
// Write Multiple Coils: start 19, 10 coils, byte count 2, values 0xCD 0x01.
#[case::write_multiple_coils(&[0x0F, 0x00, 0x13, 0x00, 0x0A, 0x02, 0xCD, 0x01], REQ,
    Body::WriteMultipleRequest { start: 19, quantity: 10, byte_count: 2, values: &[0xCD, 0x01] },
    Anomalies::NONE)]
// Write Multiple Coils: 10 coils need 2 bytes, byte count says 1.
#[case::write_multiple_coils_bad_count(&[0x0F, 0x00, 0x13, 0x00, 0x0A, 0x01, 0xCD], REQ,
    Body::WriteMultipleRequest { start: 19, quantity: 10, byte_count: 1, values: &[0xCD] },
    Anomalies::BYTE_COUNT_MISMATCH)]
// Write Multiple Coils response: start 19, quantity 10.
#[case::write_multiple_coils_response(&[0x0F, 0x00, 0x13, 0x00, 0x0A], RSP,
    Body::WriteMultipleResponse { start: 19, quantity: 10 }, Anomalies::NONE)]
// Write Multiple Registers: start 1, 2 registers, byte count 4, 0x000A 0x0102.
#[case::write_multiple_registers(
    &[0x10, 0x00, 0x01, 0x00, 0x02, 0x04, 0x00, 0x0A, 0x01, 0x02], REQ,
    Body::WriteMultipleRequest { start: 1, quantity: 2, byte_count: 4,
        values: &[0x00, 0x0A, 0x01, 0x02] }, Anomalies::NONE)]
// Write Multiple Registers: 124 registers > 123 (byte count 248 matches).
#[case::write_multiple_registers_too_many(&[0x10, 0x00, 0x00, 0x00, 0x7C, 0xF8], REQ,
    Body::WriteMultipleRequest { start: 0, quantity: 124, byte_count: 248, values: &[] },
    Anomalies::QUANTITY_OUT_OF_RANGE | Anomalies::BYTE_COUNT_MISMATCH)]
// Report Server ID request has no data.
#[case::report_server_id_request(&[0x11], REQ, Body::Empty, Anomalies::NONE)]
// Report Server ID response: byte count 3, server id 0x2A, run indicator ON, 0x01.
#[case::report_server_id_response(&[0x11, 0x03, 0x2A, 0xFF, 0x01], RSP,
    Body::ReportServerId { byte_count: 3, data: &[0x2A, 0xFF, 0x01] }, Anomalies::NONE)]
// Report Server ID request must be empty.
#[case::report_server_id_request_with_data(&[0x11, 0x00], REQ, Body::Raw,
    Anomalies::INVALID_LENGTH)]
// Mask Write Register: address 4, AND 0x00F2, OR 0x0025 (spec 6.16 example).
#[case::mask_write(&[0x16, 0x00, 0x04, 0x00, 0xF2, 0x00, 0x25], REQ,
    Body::MaskWrite { address: 4, and_mask: 0x00F2, or_mask: 0x0025 }, Anomalies::NONE)]
// Read/Write Multiple Registers: read 3 at 3, write 1 at 14, byte count 2, 0x00FF.
#[case::read_write_request(
    &[0x17, 0x00, 0x03, 0x00, 0x03, 0x00, 0x0E, 0x00, 0x01, 0x02, 0x00, 0xFF], REQ,
    Body::ReadWriteRequest { read_start: 3, read_quantity: 3, write_start: 14,
        write_quantity: 1, byte_count: 2, values: &[0x00, 0xFF] }, Anomalies::NONE)]
// Read/Write Multiple Registers: write quantity 122 > 121 and no values.
#[case::read_write_too_many(
    &[0x17, 0x00, 0x03, 0x00, 0x03, 0x00, 0x0E, 0x00, 0x7A, 0x00], REQ,
    Body::ReadWriteRequest { read_start: 3, read_quantity: 3, write_start: 14,
        write_quantity: 122, byte_count: 0, values: &[] },
    Anomalies::QUANTITY_OUT_OF_RANGE | Anomalies::BYTE_COUNT_MISMATCH)]
// Read/Write Multiple Registers response: byte count 2, one register.
#[case::read_write_response(&[0x17, 0x02, 0x00, 0xFE], RSP,
    Body::ReadResponse { byte_count: 2, values: &[0x00, 0xFE] }, Anomalies::NONE)]
// Read FIFO Queue request: pointer address 0x04DE.
#[case::read_fifo_request(&[0x18, 0x04, 0xDE], REQ,
    Body::ReadFifoRequest { address: 0x04DE }, Anomalies::NONE)]
// Read FIFO Queue response: byte count 6, FIFO count 2, values 0x01B8 0x1284.
#[case::read_fifo_response(&[0x18, 0x00, 0x06, 0x00, 0x02, 0x01, 0xB8, 0x12, 0x84], RSP,
    Body::ReadFifoResponse { byte_count: 6, fifo_count: 2, values: &[0x01, 0xB8, 0x12, 0x84] },
    Anomalies::NONE)]
// Read FIFO Queue response: FIFO count 32 > 31 (and the values are missing).
#[case::read_fifo_too_long(&[0x18, 0x00, 0x02, 0x00, 0x20], RSP,
    Body::ReadFifoResponse { byte_count: 2, fifo_count: 32, values: &[] },
    Anomalies::INVALID_VALUE | Anomalies::BYTE_COUNT_MISMATCH)]
// Read Device Identification request: MEI 14, code 1 (basic), object 0.
#[case::read_device_id_request(&[0x2B, 0x0E, 0x01, 0x00], REQ,
    Body::ReadDeviceIdRequest { code: ReadDeviceIdCode::BASIC,
        object_id: DeviceObjectId::VENDOR_NAME }, Anomalies::NONE)]
// Read Device Identification request: code 5 is not defined.
#[case::read_device_id_bad_code(&[0x2B, 0x0E, 0x05, 0x00], REQ,
    Body::ReadDeviceIdRequest { code: ReadDeviceIdCode(5),
        object_id: DeviceObjectId::VENDOR_NAME }, Anomalies::INVALID_DEVICE_ID)]
// CANopen General Reference (MEI 13): data kept raw.
#[case::canopen(&[0x2B, 0x0D, 0x00, 0x01, 0x02], REQ,
    Body::Mei { mei_type: MeiType::CANOPEN_GENERAL_REFERENCE, data: &[0x00, 0x01, 0x02] },
    Anomalies::NONE)]
// MEI type 0x20 is not defined.
#[case::unknown_mei(&[0x2B, 0x20, 0xAA], REQ,
    Body::Mei { mei_type: MeiType(0x20), data: &[0xAA] }, Anomalies::UNKNOWN_MEI_TYPE)]
// UMAS (90): pairing key 0, code 0x41 STOP_PLC, no data.
#[case::umas_stop(&[0x5A, 0x00, 0x41], REQ,
    Body::Umas { pairing_key: 0, code: UmasCode::STOP_PLC, data: &[] }, Anomalies::NONE)]
// UMAS response: pairing key 0x12, status 0xFE (ok), data 0x01.
#[case::umas_ok(&[0x5A, 0x12, 0xFE, 0x01], RSP,
    Body::Umas { pairing_key: 0x12, code: UmasCode::RESPONSE_OK, data: &[0x01] },
    Anomalies::NONE)]
// UMAS with only the pairing key: too short.
#[case::umas_short(&[0x5A, 0x00], REQ, Body::Raw, Anomalies::INVALID_LENGTH)]
// Exception response: function 0x83 (3 + exception bit), code 2.
#[case::exception(&[0x83, 0x02], RSP,
    Body::Exception { code: ExceptionCode::ILLEGAL_DATA_ADDRESS }, Anomalies::NONE)]
// Exception response: code 0x0B gateway target failed.
#[case::exception_gateway(&[0x88, 0x0B], RSP,
    Body::Exception { code: ExceptionCode::GATEWAY_TARGET_FAILED }, Anomalies::NONE)]
// Exception response: code 7 is not defined.
#[case::exception_unknown_code(&[0x81, 0x07], RSP,
    Body::Exception { code: ExceptionCode(0x07) }, Anomalies::UNKNOWN_EXCEPTION_CODE)]
// Exception response without a code.
#[case::exception_without_code(&[0x81], RSP, Body::Raw, Anomalies::INVALID_LENGTH)]
// Exception response with two bytes after the function.
#[case::exception_too_long(&[0x81, 0x02, 0x00], RSP,
    Body::Exception { code: ExceptionCode::ILLEGAL_DATA_ADDRESS }, Anomalies::INVALID_LENGTH)]
// An exception function code sent to the server.
#[case::exception_in_request(&[0x83, 0x02], REQ, Body::Raw, Anomalies::INVALID_FUNCTION_CODE)]
// Function code 0 is not allowed.
#[case::function_zero(&[0x00, 0x01], REQ, Body::Raw, Anomalies::INVALID_FUNCTION_CODE)]
// Function code 42 is reserved; its data is kept raw.
#[case::reserved_42(&[0x2A, 0x0E, 0x04, 0x01], RSP, Body::Raw,
    Anomalies::RESERVED_FUNCTION_CODE)]
// Function code 9 is reserved.
#[case::reserved_9(&[0x09], REQ, Body::Raw, Anomalies::RESERVED_FUNCTION_CODE)]
// Function code 65 is user-defined.
#[case::user_defined_65(&[0x41, 0x01, 0x02], REQ, Body::Raw,
    Anomalies::USER_DEFINED_FUNCTION_CODE)]
// Function code 110 is user-defined.
#[case::user_defined_110(&[0x6E], RSP, Body::Raw, Anomalies::USER_DEFINED_FUNCTION_CODE)]
// Exception of a user-defined function: flagged as user-defined too.
#[case::user_defined_exception(&[0xC1, 0x01], RSP,
    Body::Exception { code: ExceptionCode::ILLEGAL_FUNCTION },
    Anomalies::USER_DEFINED_FUNCTION_CODE)]
fn decodes_bodies_by_function_and_direction(
    #[case] pdu: &[u8],
    #[case] dir: Direction,
    #[case] body: Body<'static>,
    #[case] anomalies: Anomalies,
) {
    assert_eq!(check_pdu(pdu, dir), (body, anomalies));
}

#[test]
fn flags_a_nonzero_protocol_id_but_still_decodes() {
    let bytes = [
        0x00, 0x01, // tid 1
        0x00, 0x10, // protocol id 0x0010: not Modbus
        0x00, 0x06, // length 6
        0x0A, // unit id 10
        0x01, 0x00, 0x01, 0x00, 0x03, // Read Coils 1, quantity 3
    ];
    let a = check(&bytes, REQ);
    assert_eq!(a.anomalies, Anomalies::NONZERO_PROTOCOL_ID);
    assert_eq!(a.pdu.body, Body::ReadRequest { start: 1, quantity: 3 });
}

#[test]
fn walks_device_identification_objects() {
    let pdu = [
        0x2B, // function 43
        0x0E, // MEI type 14, Read Device Identification
        0x01, // Read Device ID code 1 (basic)
        0x81, // conformity level: basic, stream and individual access
        0x00, // more follows: no
        0x00, // next object id
        0x03, // number of objects
        0x00, 0x04, b'A', b'c', b'm', b'e', // VendorName "Acme"
        0x01, 0x05, b'P', b'-', b'1', b'0', b'0', // ProductCode "P-100"
        0x02, 0x04, b'V', b'2', b'.', b'1', // MajorMinorRevision "V2.1"
    ];
    let (body, an) = check_pdu(&pdu, RSP);
    assert_eq!(an, Anomalies::NONE);
    let Body::ReadDeviceIdResponse {
        code,
        conformity,
        more_follows,
        next_object_id,
        number_of_objects,
        objects,
    } = body
    else {
        panic!("not a device id response: {body:?}");
    };
    assert_eq!(code, ReadDeviceIdCode::BASIC);
    assert_eq!(conformity.name(), Some("Basic (stream and individual access)"));
    assert_eq!((more_follows, next_object_id, number_of_objects), (0, DeviceObjectId(0), 3));
    let got: Vec<(Option<&str>, Option<&str>)> =
        objects.iter().map(|o| (o.id.name(), o.value_str())).collect();
    assert_eq!(
        got,
        [
            (Some("VendorName"), Some("Acme")),
            (Some("ProductCode"), Some("P-100")),
            (Some("MajorMinorRevision"), Some("V2.1")),
        ]
    );
}

#[rstest]
// Says 2 objects, holds 1.
#[case::count_too_high(&[0x2B, 0x0E, 0x01, 0x01, 0x00, 0x00, 0x02, 0x00, 0x01, b'A'],
    Anomalies::INVALID_LENGTH, 1)]
// Object length 5 runs past the PDU: the object is not yielded.
#[case::object_past_end(&[0x2B, 0x0E, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x05, b'A'],
    Anomalies::INVALID_LENGTH, 0)]
// Conformity level 0 (as some test tools send) and no objects.
#[case::conformity_zero(&[0x2B, 0x0E, 0x01, 0x00, 0x00, 0x00, 0x00],
    Anomalies::INVALID_DEVICE_ID, 0)]
// More follows 0x01 is neither 0x00 nor 0xFF.
#[case::more_follows_bad(&[0x2B, 0x0E, 0x02, 0x02, 0x01, 0x00, 0x01, 0x04, 0x01, b'X'],
    Anomalies::INVALID_VALUE, 1)]
fn flags_broken_device_identification(
    #[case] pdu: &[u8],
    #[case] anomalies: Anomalies,
    #[case] objects_yielded: usize,
) {
    let (body, an) = check_pdu(pdu, RSP);
    assert_eq!(an, anomalies);
    let Body::ReadDeviceIdResponse { objects, .. } = body else {
        panic!("not a device id response: {body:?}");
    };
    assert_eq!(objects.iter().count(), objects_yielded);
}

/// A file record as (reference type, file, record, length, data).
type Rec = (u8, Option<u16>, Option<u16>, Option<u16>, Vec<u8>);

#[rstest]
// Read File Record request, byte count 14: two sub-requests (spec 6.14 example):
// ref 6, file 4, record 1, length 2; ref 6, file 3, record 9, length 2.
#[case::read_request(
    &[0x14, 0x0E,
      0x06, 0x00, 0x04, 0x00, 0x01, 0x00, 0x02,
      0x06, 0x00, 0x03, 0x00, 0x09, 0x00, 0x02],
    REQ, Anomalies::NONE,
    vec![(6, Some(4), Some(1), Some(2), vec![]), (6, Some(3), Some(9), Some(2), vec![])])]
// Read File Record response, data length 12: two sub-responses of length 5
// (ref 6 + two registers each).
#[case::read_response(
    &[0x14, 0x0C,
      0x05, 0x06, 0x0D, 0xFE, 0x00, 0x20,
      0x05, 0x06, 0x33, 0xCD, 0x00, 0x40],
    RSP, Anomalies::NONE,
    vec![(6, None, None, None, vec![0x0D, 0xFE, 0x00, 0x20]),
         (6, None, None, None, vec![0x33, 0xCD, 0x00, 0x40])])]
// Write File Record request, length 13: ref 6, file 4, record 7, length 3,
// data 0x06AF 0x04BE 0x100D (spec 6.15 example).
#[case::write_request(
    &[0x15, 0x0D, 0x06, 0x00, 0x04, 0x00, 0x07, 0x00, 0x03, 0x06, 0xAF, 0x04, 0xBE, 0x10, 0x0D],
    REQ, Anomalies::NONE,
    vec![(6, Some(4), Some(7), Some(3), vec![0x06, 0xAF, 0x04, 0xBE, 0x10, 0x0D])])]
// Reference type 7 and record number 10000 are both out of range.
#[case::bad_reference_and_record(
    &[0x14, 0x07, 0x07, 0x00, 0x04, 0x27, 0x10, 0x00, 0x02], REQ,
    Anomalies::INVALID_REFERENCE_TYPE | Anomalies::INVALID_VALUE,
    vec![(7, Some(4), Some(10000), Some(2), vec![])])]
// Byte count 8: one whole sub-request and one stray byte.
#[case::stray_byte(&[0x14, 0x08, 0x06, 0x00, 0x04, 0x00, 0x01, 0x00, 0x02, 0x06], REQ,
    Anomalies::INVALID_LENGTH, vec![(6, Some(4), Some(1), Some(2), vec![])])]
// Byte count 0: no sub-request at all.
#[case::empty(&[0x14, 0x00], REQ, Anomalies::INVALID_LENGTH, vec![])]
fn walks_file_records(
    #[case] pdu: &[u8],
    #[case] dir: Direction,
    #[case] anomalies: Anomalies,
    #[case] expected: Vec<Rec>,
) {
    let (body, an) = check_pdu(pdu, dir);
    assert_eq!(an, anomalies);
    let Body::FileRecords { byte_count, records } = body else {
        panic!("not file records: {body:?}");
    };
    assert_eq!(usize::from(byte_count), pdu.len() - 2);
    let got: Vec<_> = records
        .iter()
        .map(|r| {
            (r.reference_type, r.file_number, r.record_number, r.record_length, r.data.to_vec())
        })
        .collect();
    assert_eq!(got, expected);
}

#[rstest]
#[case::read_request(&[0x00, 0x01, 0x00, 0x00, 0x00, 0x06, 0x01, 0x03, 0x00, 0x00, 0x00, 0x0A],
    true)]
#[case::exception_response(&[0x00, 0x01, 0x00, 0x00, 0x00, 0x03, 0x01, 0x83, 0x02], true)]
#[case::two_adus(
    &[0x00, 0x01, 0x00, 0x00, 0x00, 0x06, 0x01, 0x03, 0x00, 0x00, 0x00, 0x0A,
      0x00, 0x02, 0x00, 0x00, 0x00, 0x06, 0x01, 0x03, 0x00, 0x10, 0x00, 0x01],
    true)]
// A whole ADU followed by the first bytes of the next one.
#[case::adu_and_partial(
    &[0x00, 0x01, 0x00, 0x00, 0x00, 0x02, 0x01, 0x07, 0x00, 0x02, 0x00, 0x00], true)]
// A whole ADU followed by a partial one with a non-zero protocol id.
#[case::adu_and_bad_partial(
    &[0x00, 0x01, 0x00, 0x00, 0x00, 0x02, 0x01, 0x07, 0x00, 0x02, 0x00, 0x05], false)]
#[case::header_only(&[0x00, 0x01, 0x00, 0x00, 0x00, 0x06, 0x01], false)]
#[case::empty(&[], false)]
#[case::http(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", false)]
#[case::zeros(&[0; 16], false)]
#[case::nonzero_protocol(&[0x00, 0x01, 0x00, 0x01, 0x00, 0x06, 0x01, 0x03, 0x00, 0x00, 0x00, 0x0A],
    false)]
#[case::reserved_function(&[0x00, 0x01, 0x00, 0x00, 0x00, 0x02, 0x01, 0x2A], false)]
#[case::quantity_out_of_range(
    &[0x00, 0x01, 0x00, 0x00, 0x00, 0x06, 0x01, 0x03, 0x00, 0x00, 0x00, 0x00], false)]
#[case::trailing_garbage(
    &[0x00, 0x01, 0x00, 0x00, 0x00, 0x06, 0x01, 0x03, 0x00, 0x00, 0x00, 0x0A, 0xFF, 0xFF, 0xFF,
      0xFF, 0xFF, 0xFF], false)]
fn probe_is_strict(#[case] input: &[u8], #[case] expected: bool) {
    assert_eq!(probe(input), expected);
}

#[test]
fn transactions_match_responses_to_requests() {
    let req = adu(&[0x03, 0x00, 0x00, 0x00, 0x01]); // tid 1, Read Holding Registers
    let rsp = adu(&[0x03, 0x02, 0x00, 0x2A]); // tid 1, its response
    let wrong = adu(&[0x04, 0x02, 0x00, 0x2A]); // tid 1, but function 4
    let mut t = Transactions::new();
    assert_eq!(t.observe(&check(&req, REQ)), Anomalies::NONE);
    assert_eq!(t.pending(), 1);
    assert_eq!(t.observe(&check(&rsp, RSP)), Anomalies::NONE);
    assert_eq!(t.pending(), 0);
    assert_eq!(t.observe(&check(&rsp, RSP)), Anomalies::UNMATCHED_RESPONSE);
    t.observe(&check(&req, REQ));
    assert_eq!(t.observe(&check(&wrong, RSP)), Anomalies::UNMATCHED_RESPONSE);
    // An exception response matches the request's function.
    let exc = adu(&[0x83, 0x02]);
    t.observe(&check(&req, REQ));
    assert_eq!(t.observe(&check(&exc, RSP)), Anomalies::NONE);
}

#[test]
fn transactions_stay_bounded() {
    let mut t = Transactions::new();
    let mut flagged = 0;
    for tid in 0..=u16::try_from(Transactions::MAX_PENDING).unwrap() {
        let mut bytes = adu(&[0x01, 0x00, 0x00, 0x00, 0x01]);
        bytes[0..2].copy_from_slice(&tid.to_be_bytes());
        if t.observe(&check(&bytes, REQ)) == Anomalies::TOO_MANY_PENDING_REQUESTS {
            flagged += 1;
        }
    }
    assert_eq!(t.pending(), Transactions::MAX_PENDING);
    assert_eq!(flagged, 1);
    // The oldest (tid 0) was forgotten.
    let rsp = adu(&[0x01, 0x01, 0x01]);
    assert_eq!(t.observe(&check(&rsp, RSP)), Anomalies::NONE); // tid 1 is still known
}

#[rstest]
#[case::read(&[0x03, 0x00, 0x00, 0x00, 0x01], REQ, Operation::Read)]
#[case::write_coil(&[0x05, 0x00, 0x01, 0xFF, 0x00], REQ, Operation::Write)]
#[case::write_file(&[0x15, 0x09, 0x06, 0x00, 0x01, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00], REQ,
    Operation::Write)]
#[case::restart(&[0x08, 0x00, 0x01, 0x00, 0x00], REQ, Operation::Restart)]
#[case::listen_only(&[0x08, 0x00, 0x04, 0x00, 0x00], REQ, Operation::ListenOnly)]
#[case::clear_counters(&[0x08, 0x00, 0x0A, 0x00, 0x00], REQ, Operation::Configure)]
#[case::bus_message_count(&[0x08, 0x00, 0x0B, 0x00, 0x00], REQ, Operation::Diagnostic)]
#[case::device_id(&[0x2B, 0x0E, 0x01, 0x00], REQ, Operation::Identification)]
#[case::umas_stop(&[0x5A, 0x00, 0x41], REQ, Operation::Stop)]
#[case::umas_start(&[0x5A, 0x00, 0x40], REQ, Operation::Start)]
#[case::umas_download(&[0x5A, 0x01, 0x34, 0x00], REQ, Operation::ProgramDownload)]
#[case::umas_upload(&[0x5A, 0x01, 0x30], REQ, Operation::ProgramUpload)]
#[case::exception(&[0x90, 0x04], RSP, Operation::Exception)]
#[case::user_defined(&[0x64, 0x00], REQ, Operation::Other)]
fn classifies_operations(#[case] pdu: &[u8], #[case] dir: Direction, #[case] op: Operation) {
    let bytes = adu(pdu);
    assert_eq!(check(&bytes, dir).pdu.operation(), op);
}

#[test]
fn function_code_helpers_follow_the_specification() {
    let public: Vec<u8> = (0..=127).filter(|&c| FunctionCode(c).is_public()).collect();
    assert_eq!(public, [1, 2, 3, 4, 5, 6, 7, 8, 11, 12, 15, 16, 17, 20, 21, 22, 23, 24, 43]);
    let user: Vec<u8> = (0..=127).filter(|&c| FunctionCode(c).is_user_defined()).collect();
    assert_eq!(
        user,
        [65, 66, 67, 68, 69, 70, 71, 72, 100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110]
    );
    assert!(FunctionCode(9).is_reserved());
    assert!(!FunctionCode::UMAS.is_reserved());
    assert!(!FunctionCode(0).is_reserved());
    assert_eq!(FunctionCode(0x83).base(), FunctionCode::READ_HOLDING_REGISTERS);
    assert!(FunctionCode(0x83).is_exception());
    assert_eq!(FunctionCode(0x83).to_string(), "Read Holding Registers (exception)");
    assert_eq!(FunctionCode(0x41).to_string(), "function 65");
    assert_eq!(FunctionCode(23).name(), Some("Read/Write Multiple Registers"));
    assert_eq!(ExceptionCode(0x0A).name(), Some("Gateway Path Unavailable"));
    assert_eq!(ExceptionCode(0x07).name(), None);
    assert_eq!(DeviceObjectId(0x05).name(), Some("ModelName"));
    assert!(DeviceObjectId(0x07).is_reserved());
    assert_eq!(DeviceObjectId(0x80).name(), None);
    assert_eq!(UmasCode(0x41).name(), Some("STOP_PLC"));
    let writes: Vec<u8> = (0..=127).filter(|&c| FunctionCode(c).is_write()).collect();
    assert_eq!(writes, [5, 6, 15, 16, 21, 22, 23]);
}

#[test]
fn anomaly_names_are_stable_and_distinct() {
    let names: Vec<&str> = Anomalies::ALL.iter().map(|(_, n)| *n).collect();
    assert!(names.iter().all(|n| n.starts_with("modbus.")));
    let mut sorted = names.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted.len(), names.len());
    let bits = Anomalies::ALL.iter().fold(0u32, |acc, (f, _)| {
        assert_eq!(acc & f.bits(), 0, "bit reused");
        acc | f.bits()
    });
    assert_eq!(bits.count_ones() as usize, Anomalies::ALL.len());
    let both = Anomalies::INVALID_LENGTH | Anomalies::NONZERO_PROTOCOL_ID;
    assert_eq!(both.to_string(), "modbus.nonzero_protocol_id,modbus.invalid_length");
}

/// Every function code, both directions, bodies of every length up to 40 bytes
/// of a deterministic pseudo-random pattern: decoding never panics, always
/// consumes exactly one ADU and keeps the function code.
#[test]
fn never_panics_on_any_function_and_body() {
    let mut x: u32 = 0x1234_5678;
    for fc in 0..=255u8 {
        for len in 0..40usize {
            let mut pdu = vec![fc];
            for _ in 0..len {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                pdu.push((x >> 16) as u8);
            }
            let bytes = adu(&pdu);
            for dir in [REQ, RSP] {
                let a = check(&bytes, dir);
                assert_eq!(a.pdu.function, FunctionCode(fc));
                assert_eq!(a.pdu.data.len(), len);
                let _ = a.pdu.operation();
                if let Body::ReadDeviceIdResponse { objects, .. } = a.pdu.body {
                    assert!(objects.iter().count() <= len);
                }
                if let Body::FileRecords { records, .. } = a.pdu.body {
                    assert!(records.iter().count() <= len);
                }
            }
            let _ = probe(&bytes);
        }
    }
}
