//! Unit tests for the EtherNet/IP and CIP dissector.
//!
//! Every vector is built by hand from the ODVA specification (CIP Vol. 1
//! and Vol. 2) and commented field by field; multi-byte fields are
//! little-endian unless noted.

use rstest::rstest;

use super::*;
use crate::{DecodeError, Direction};

/// An encapsulation header (Vol. 2 §2-3.1) followed by `data`.
fn encap(command: u16, session: u32, context: [u8; 8], data: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(&command.to_le_bytes()); // command
    v.extend_from_slice(&(data.len() as u16).to_le_bytes()); // length
    v.extend_from_slice(&session.to_le_bytes()); // session handle
    v.extend_from_slice(&0u32.to_le_bytes()); // status
    v.extend_from_slice(&context); // sender context
    v.extend_from_slice(&0u32.to_le_bytes()); // options
    v.extend_from_slice(data);
    v
}

/// SendRRData data: interface handle 0, timeout 10, null address item,
/// unconnected data item holding `cip`.
fn rr_data(cip: &[u8]) -> Vec<u8> {
    let mut v = vec![
        0x00, 0x00, 0x00, 0x00, // interface handle: CIP
        0x0A, 0x00, // timeout: 10 s
        0x02, 0x00, // item count: 2
        0x00, 0x00, 0x00, 0x00, // null address item, length 0
        0xB2, 0x00, // unconnected data item
    ];
    v.extend_from_slice(&(cip.len() as u16).to_le_bytes()); // item length
    v.extend_from_slice(cip);
    v
}

/// SendUnitData data: connected address item (connection id 0x11223344),
/// connected data item with sequence count `seq` then `cip`.
fn unit_data(seq: u16, cip: &[u8]) -> Vec<u8> {
    let mut v = vec![
        0x00, 0x00, 0x00, 0x00, // interface handle: CIP
        0x00, 0x00, // timeout: 0
        0x02, 0x00, // item count: 2
        0xA1, 0x00, 0x04, 0x00, // connected address item, length 4
        0x44, 0x33, 0x22, 0x11, // connection id 0x11223344
        0xB1, 0x00, // connected data item
    ];
    v.extend_from_slice(&((cip.len() + 2) as u16).to_le_bytes()); // item length
    v.extend_from_slice(&seq.to_le_bytes()); // CIP sequence count
    v.extend_from_slice(cip);
    v
}

const CTX: [u8; 8] = [0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08];
const SESSION: u32 = 0x1234_5678;

/// The one parser entry point the tests use: a whole message, nothing after it.
fn check(bytes: &[u8], dir: Direction) -> EnipMessage<'_> {
    let (rest, m) = parse(bytes, dir).expect("message frames");
    assert!(rest.is_empty(), "bytes left after the message");
    m
}

/// The single CIP message of an encapsulation message.
fn cip_of<'m, 'a>(m: &'m EnipMessage<'a>) -> &'m CipMessage<'a> {
    let payloads: Vec<_> = m.cip().collect();
    assert_eq!(payloads.len(), 1);
    payloads[0].message.as_ref().expect("CIP message frames")
}

// ---------------------------------------------------------------- framing

#[rstest]
#[case::empty(&[], Err(DecodeError::incomplete(24)))]
#[case::header_short_by_one(&[0x65, 0x00, 0x04, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], Err(DecodeError::incomplete(1)))]
#[case::register_session_header(&[
    0x65, 0x00, // command: RegisterSession
    0x04, 0x00, // length: 4
    0, 0, 0, 0, // session handle
    0, 0, 0, 0, // status
    0, 0, 0, 0, 0, 0, 0, 0, // sender context
    0, 0, 0, 0, // options
], Ok(28))]
#[case::maximum_length(&[
    0x70, 0x00, // command: SendUnitData
    0xFF, 0xFF, // length: 65535
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
], Ok(24 + 65535))]
#[case::command_out_of_range(&[
    0x00, 0x01, // command: 0x0100, beyond every assigned or reserved-legacy code
    0x00, 0x00, // length: 0
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
], Err(DecodeError::Malformed("enip: command outside the encapsulation range")))]
fn pdu_len_frames_one_message(#[case] input: &[u8], #[case] expected: Result<usize, DecodeError>) {
    assert_eq!(pdu_len(input), expected);
}

#[test]
fn parse_asks_for_the_rest_of_a_split_message() {
    let full = encap(0x0065, 0, [0; 8], &[0x01, 0x00, 0x00, 0x00]);
    assert_eq!(parse(&full[..26], Direction::ToServer), Err(DecodeError::incomplete(2)));
    assert_eq!(parse(&full[..3], Direction::ToServer), Err(DecodeError::incomplete(21)));
}

#[test]
fn parse_returns_the_bytes_after_the_message() {
    let mut two = encap(0x0065, 0, [0; 8], &[0x01, 0x00, 0x00, 0x00]);
    let second = encap(0x0066, 7, [0; 8], &[]);
    two.extend_from_slice(&second);
    let (rest, first) = parse(&two, Direction::ToServer).unwrap();
    assert_eq!(first.header.command, Command::REGISTER_SESSION);
    assert_eq!(rest, &second[..]);
    let (rest, m) = parse(rest, Direction::ToServer).unwrap();
    assert_eq!(m.header.command, Command::UNREGISTER_SESSION);
    assert_eq!(m.header.session_handle, 7);
    assert_eq!(m.data, CommandData::Empty);
    assert!(rest.is_empty());
}

// ---------------------------------------------------------------- encapsulation commands

#[test]
fn header_fields_are_decoded() {
    let bytes = [
        0x65, 0x00, // command: RegisterSession
        0x04, 0x00, // length: 4
        0x00, 0x01, 0x02, 0x13, // session handle 0x13020100
        0x00, 0x00, 0x00, 0x00, // status: success
        b'o', b't', b'w', b'a', b't', b'c', b'h', 0x00, // sender context
        0x00, 0x00, 0x00, 0x00, // options
        0x01, 0x00, // protocol version 1
        0x00, 0x00, // option flags
    ];
    let m = check(&bytes, Direction::ToClient);
    assert_eq!(
        m.header,
        EncapHeader {
            command: Command::REGISTER_SESSION,
            length: 4,
            session_handle: 0x1302_0100,
            status: EncapStatus::SUCCESS,
            sender_context: *b"otwatch\0",
            options: 0,
        }
    );
    assert_eq!(m.data, CommandData::RegisterSession { protocol_version: 1, options: 0 });
    assert!(m.anomalies.is_empty());
    assert_eq!(m.header.command.name(), Some("RegisterSession"));
}

#[rstest]
#[case::version_1(&[0x01, 0x00, 0x00, 0x00], Anomalies::NONE)]
#[case::version_2(&[0x02, 0x00, 0x00, 0x00], Anomalies::UNSUPPORTED_VERSION)]
#[case::too_short(&[0x01, 0x00], Anomalies::INVALID_LENGTH)]
#[case::trailing_bytes(&[0x01, 0x00, 0x00, 0x00, 0xEE], Anomalies::INVALID_LENGTH)]
fn register_session_checks_its_data(#[case] data: &[u8], #[case] expected: Anomalies) {
    let bytes = encap(0x0065, 0, [0; 8], data);
    assert_eq!(check(&bytes, Direction::ToServer).anomalies, expected);
}

#[test]
fn list_identity_reply_gives_the_device_identity() {
    let data = [
        0x01, 0x00, // item count: 1
        0x0C, 0x00, // item type: CIP Identity
        0x2C, 0x00, // item length: 44
        0x01, 0x00, // encapsulation protocol version 1
        0x00, 0x02, // sin_family: 2 (big-endian)
        0xAF, 0x12, // sin_port: 44818 (big-endian)
        0xC0, 0xA8, 0x01, 0x0A, // sin_addr: 192.168.1.10
        0, 0, 0, 0, 0, 0, 0, 0, // sin_zero
        0x01, 0x00, // vendor id: 1
        0x0E, 0x00, // device type: 14 (programmable logic controller)
        0x36, 0x00, // product code: 54
        0x14, 0x0B, // revision 20.11
        0x60, 0x30, // status
        0x78, 0x56, 0x34, 0x12, // serial number 0x12345678
        0x0A, b'1', b'7', b'5', b'6', b'-', b'L', b'6', b'1', b'/', b'B', // product name
        0x03, // state
    ];
    let bytes = encap(0x0063, 0, CTX, &data);
    let m = check(&bytes, Direction::ToClient);
    assert!(m.anomalies.is_empty(), "{:?}", m.anomalies);
    let ids: Vec<_> = m.identities().collect();
    assert_eq!(
        ids,
        vec![&ListIdentityItem {
            protocol_version: 1,
            socket: SockAddr { family: 2, port: 44818, addr: [192, 168, 1, 10] },
            identity: Identity {
                vendor_id: 1,
                device_type: 14,
                product_code: 54,
                revision_major: 20,
                revision_minor: 11,
                status: 0x3060,
                serial_number: 0x1234_5678,
                product_name: b"1756-L61/B",
            },
            state: Some(3),
        }]
    );
    assert_eq!(ids[0].identity.product_name_str(), Some("1756-L61/B"));
}

#[test]
fn list_services_reply_names_the_service() {
    let data = [
        0x01, 0x00, // item count: 1
        0x00, 0x01, // item type: 0x0100 ListServices response
        0x14, 0x00, // item length: 20
        0x01, 0x00, // protocol version 1
        0x20, 0x01, // capability flags: CIP over TCP (bit 5), class 0/1 over UDP (bit 8)
        b'C', b'o', b'm', b'm', b'u', b'n', b'i', b'c', b'a', b't', b'i', b'o', b'n', b's', 0, 0,
    ];
    let bytes = encap(0x0004, 0, [0; 8], &data);
    let m = check(&bytes, Direction::ToClient);
    let CommandData::Items(items) = &m.data else { panic!("items expected: {:?}", m.data) };
    assert_eq!(
        items,
        &vec![CpfItem::ListServices(ServiceInfo {
            protocol_version: 1,
            capability_flags: 0x0120,
            name: b"Communications\0\0",
        })]
    );
}

#[rstest]
#[case::list_identity_request(0x0063, Direction::ToServer, &[], CommandData::Empty, Anomalies::NONE)]
#[case::list_interfaces_reply_no_items(0x0064, Direction::ToClient, &[0x00, 0x00], CommandData::Items(vec![]), Anomalies::NONE)]
#[case::list_request_with_data(0x0064, Direction::ToServer, &[0x00, 0x00], CommandData::Items(vec![]), Anomalies::UNEXPECTED_DATA)]
#[case::nop_with_data(0x0000, Direction::ToServer, &[0xAA, 0xBB], CommandData::Nop(&[0xAA, 0xBB]), Anomalies::NONE)]
#[case::unregister_with_data(0x0066, Direction::ToServer, &[0x00], CommandData::Raw(&[0x00]), Anomalies::UNEXPECTED_DATA)]
#[case::legacy_command_kept_raw(0x0001, Direction::ToClient, &[0x01, 0x00], CommandData::Raw(&[0x01, 0x00]), Anomalies::UNKNOWN_COMMAND)]
#[case::reserved_command_without_data(0x00C8, Direction::ToServer, &[], CommandData::Empty, Anomalies::UNKNOWN_COMMAND)]
#[case::indicate_status_raw(0x0072, Direction::ToServer, &[0x05], CommandData::Raw(&[0x05]), Anomalies::NONE)]
fn command_data_by_command(
    #[case] command: u16,
    #[case] dir: Direction,
    #[case] data: &[u8],
    #[case] expected: CommandData<'_>,
    #[case] anomalies: Anomalies,
) {
    let bytes = encap(command, 0, [0; 8], data);
    let m = check(&bytes, dir);
    assert_eq!(m.data, expected);
    assert_eq!(m.anomalies, anomalies);
}

#[test]
fn unknown_command_has_no_name_but_keeps_its_value() {
    let bytes = encap(0x0001, 0, [0; 8], &[]);
    let m = check(&bytes, Direction::ToServer);
    assert_eq!(m.header.command, Command(0x0001));
    assert_eq!(m.header.command.name(), None);
    assert_eq!(m.header.command.to_string(), "0x1");
}

#[test]
fn error_reply_without_data_is_empty() {
    let mut bytes = encap(0x006F, SESSION, CTX, &[]);
    bytes[8] = 0x64; // status: 0x64 invalid session handle
    let m = check(&bytes, Direction::ToClient);
    assert_eq!(m.header.status, EncapStatus::INVALID_SESSION);
    assert_eq!(m.header.status.name(), Some("Invalid session handle"));
    assert_eq!(m.data, CommandData::Empty);
    assert!(m.anomalies.is_empty());
}

// ---------------------------------------------------------------- CIP requests and responses

#[test]
fn get_attribute_single_request_on_identity() {
    let cip = [
        0x0E, // service: Get_Attribute_Single (request)
        0x03, // request path size: 3 words
        0x20, 0x01, // class 0x01 (Identity)
        0x24, 0x01, // instance 1
        0x30, 0x07, // attribute 7 (product name)
    ];
    let bytes = encap(0x006F, SESSION, CTX, &rr_data(&cip));
    let m = check(&bytes, Direction::ToServer);
    assert!(m.anomalies.is_empty(), "{:?}", m.anomalies);
    let c = cip_of(&m);
    assert_eq!(c.raw_service, 0x0E);
    assert_eq!(c.service, ServiceCode::GET_ATTRIBUTE_SINGLE);
    assert!(!c.is_response());
    let path = c.path().unwrap();
    assert_eq!(path.class(), Some(ClassId::IDENTITY));
    assert_eq!(path.instance(), Some(1));
    assert_eq!(path.attribute(), Some(7));
    assert_eq!(c.target(), Target::Class(ClassId::IDENTITY));
    assert_eq!(c.service_name(), Some("Get Attribute Single"));
    assert_eq!(c.operations(), Operations::READ);
    assert!(c.data.is_empty());
}

#[test]
fn error_response_carries_general_and_additional_status() {
    let cip = [
        0x8E, // service: Get_Attribute_Single | response bit
        0x00, // reserved
        0x05, // general status: path destination unknown
        0x01, // additional status size: 1 word
        0x34, 0x12, // additional status 0x1234
    ];
    let bytes = encap(0x006F, SESSION, CTX, &rr_data(&cip));
    let m = check(&bytes, Direction::ToClient);
    let c = cip_of(&m);
    assert_eq!(c.service, ServiceCode::GET_ATTRIBUTE_SINGLE);
    assert_eq!(
        c.kind,
        CipKind::Response { general_status: GeneralStatus(0x05), additional_status: &[0x34, 0x12] }
    );
    assert_eq!(c.general_status().unwrap().name(), Some("Path destination unknown"));
    assert_eq!(c.target(), Target::None);
    assert_eq!(c.operations(), Operations::NONE);
}

#[test]
fn connected_multiple_service_packet_request() {
    let cip = [
        0x0A, // service: Multiple_Service_Packet
        0x02, // path size: 2 words
        0x20, 0x02, // class 0x02 (Message Router)
        0x24, 0x01, // instance 1
        0x02, 0x00, // number of services: 2
        0x06, 0x00, // offset of service 1: 6
        0x12, 0x00, // offset of service 2: 18
        // service 1 (12 bytes)
        0x03, // Get_Attribute_List
        0x02, // path size: 2 words
        0x20, 0x8B, // class 0x8B (Wall Clock Time)
        0x24, 0x01, // instance 1
        0x02, 0x00, // attribute count: 2
        0x05, 0x00, // attribute 5
        0x0B, 0x00, // attribute 11
        // service 2 (14 bytes)
        0x04, // Set_Attribute_List
        0x02, // path size: 2 words
        0x20, 0x8B, // class 0x8B
        0x24, 0x01, // instance 1
        0x01, 0x00, // attribute count: 1
        0x06, 0x00, // attribute 6
        0x10, 0x27, 0x00, 0x00, // value
    ];
    let bytes = encap(0x0070, SESSION, [0; 8], &unit_data(0x0102, &cip));
    let m = check(&bytes, Direction::ToServer);
    assert!(m.anomalies.is_empty(), "{:?}", m.anomalies);
    assert_eq!(m.connection_id(), Some(0x1122_3344));
    assert_eq!(m.sequence_count(), Some(0x0102));
    let c = cip_of(&m);
    assert_eq!(c.service, ServiceCode::MULTIPLE_SERVICE_PACKET);
    assert_eq!(c.target(), Target::Class(ClassId::MESSAGE_ROUTER));
    let inner = c.embedded();
    assert_eq!(inner.len(), 2);
    assert_eq!(inner[0].service, ServiceCode::GET_ATTRIBUTE_LIST);
    assert_eq!(inner[0].data, &[0x02, 0x00, 0x05, 0x00, 0x0B, 0x00]);
    assert_eq!(inner[1].service, ServiceCode::SET_ATTRIBUTE_LIST);
    assert_eq!(inner[1].target(), Target::Class(ClassId::WALL_CLOCK_TIME));
    assert_eq!(inner[1].operations(), Operations::WRITE | Operations::TIME_CHANGE);
}

#[test]
fn multiple_service_packet_response() {
    let cip = [
        0x8A, // service: Multiple_Service_Packet | response
        0x00, // reserved
        0x1E, // general status: embedded service error
        0x00, // additional status size: 0
        0x02, 0x00, // number of replies: 2
        0x06, 0x00, // offset of reply 1
        0x0C, 0x00, // offset of reply 2
        // reply 1: Get_Attribute_List success with 2 data bytes
        0x83, 0x00, 0x00, 0x00, 0x01, 0x00,
        // reply 2: Set_Attribute_List failed, attribute not settable
        0x84, 0x00, 0x0E, 0x00,
    ];
    let bytes = encap(0x0070, SESSION, [0; 8], &unit_data(0x0102, &cip));
    let m = check(&bytes, Direction::ToClient);
    assert!(m.anomalies.is_empty(), "{:?}", m.anomalies);
    let c = cip_of(&m);
    assert_eq!(c.general_status(), Some(GeneralStatus::EMBEDDED_SERVICE_ERROR));
    let inner = c.embedded();
    assert_eq!(inner.len(), 2);
    assert_eq!(inner[0].general_status(), Some(GeneralStatus::SUCCESS));
    assert_eq!(inner[0].data, &[0x01, 0x00]);
    assert_eq!(inner[1].service, ServiceCode::SET_ATTRIBUTE_LIST);
    assert_eq!(inner[1].general_status(), Some(GeneralStatus::ATTRIBUTE_NOT_SETTABLE));
}

#[test]
fn unconnected_send_routes_an_embedded_request() {
    let cip = [
        0x52, // service: Unconnected_Send
        0x02, // path size: 2 words
        0x20, 0x06, // class 0x06 (Connection Manager)
        0x24, 0x01, // instance 1
        0x07, // priority/tick time
        0xE9, // timeout ticks
        0x06, 0x00, // embedded message size: 6
        0x01, // embedded: Get_Attributes_All
        0x02, // path size 2 words
        0x20, 0x01, // class 0x01 (Identity)
        0x24, 0x01, // instance 1
        0x01, // route path size: 1 word
        0x00, // reserved
        0x01, 0x00, // port 1 (backplane), link address 0 (slot)
    ];
    let bytes = encap(0x006F, SESSION, CTX, &rr_data(&cip));
    let m = check(&bytes, Direction::ToServer);
    assert!(m.anomalies.is_empty(), "{:?}", m.anomalies);
    let c = cip_of(&m);
    assert_eq!(c.service_name(), Some("Unconnected Send"));
    assert_eq!(c.operations(), Operations::ROUTED);
    let ServiceBody::UnconnectedSend(u) = &c.body else { panic!("unconnected send expected") };
    assert_eq!(u.priority_tick, 0x07);
    assert_eq!(u.timeout_ticks, 0xE9);
    let routed: Vec<_> = u.route_path.segments().collect();
    assert_eq!(routed, vec![Ok(Segment::Port { port: 1, link_address: &[0x00] })]);
    let inner = c.embedded();
    assert_eq!(inner.len(), 1);
    assert_eq!(inner[0].service, ServiceCode::GET_ATTRIBUTES_ALL);
    assert_eq!(inner[0].target(), Target::Class(ClassId::IDENTITY));
}

#[test]
fn unconnected_send_with_odd_embedded_size_skips_the_pad_byte() {
    let cip = [
        0x52, 0x02, 0x20, 0x06, 0x24, 0x01, // Unconnected_Send to class 6 instance 1
        0x0A, 0x05, // priority/tick, timeout ticks
        0x07, 0x00, // embedded message size: 7
        0x10, 0x02, 0x20, 0xF5, 0x24,
        0x01, // Set_Attribute_Single on TCP/IP Interface instance 1
        0xFF, // one data byte
        0x00, // pad byte (size is odd)
        0x01, 0x00, // route path size 1 word, reserved
        0x01, 0x02, // port 1, slot 2
    ];
    let bytes = encap(0x006F, SESSION, CTX, &rr_data(&cip));
    let m = check(&bytes, Direction::ToServer);
    assert!(m.anomalies.is_empty(), "{:?}", m.anomalies);
    let inner = cip_of(&m).embedded();
    assert_eq!(inner[0].service, ServiceCode::SET_ATTRIBUTE_SINGLE);
    assert_eq!(inner[0].data, &[0xFF]);
    assert_eq!(inner[0].operations(), Operations::WRITE);
}

#[test]
fn forward_open_request_is_decoded() {
    let cip = [
        0x54, // service: Forward_Open
        0x02, 0x20, 0x06, 0x24, 0x01, // path: class 0x06 instance 1
        0x06, // priority/tick time
        0x9B, // timeout ticks
        0x00, 0x00, 0x00, 0x00, // O->T connection id (chosen by target)
        0x49, 0x05, 0x00, 0x80, // T->O connection id 0x80000549
        0x49, 0x05, // connection serial 0x0549
        0x4D, 0x00, // originator vendor id 0x004D
        0x45, 0x61, 0xFA, 0x11, // originator serial 0x11FA6145
        0x02, // timeout multiplier
        0x00, 0x00, 0x00, // reserved
        0x80, 0x84, 0x1E, 0x00, // O->T RPI 2,000,000 µs
        0xF8, 0x43, // O->T parameters 0x43F8
        0x80, 0x84, 0x1E, 0x00, // T->O RPI
        0xF8, 0x43, // T->O parameters
        0xA3, // transport: server, application trigger, class 3
        0x03, // connection path size: 3 words
        0x01, 0x00, // port 1, slot 0
        0x20, 0x02, // class 0x02 (Message Router)
        0x24, 0x01, // instance 1
    ];
    let bytes = encap(0x006F, SESSION, CTX, &rr_data(&cip));
    let m = check(&bytes, Direction::ToServer);
    assert!(m.anomalies.is_empty(), "{:?}", m.anomalies);
    let c = cip_of(&m);
    assert_eq!(c.service_name(), Some("Forward Open"));
    assert_eq!(c.operations(), Operations::CONNECTION_OPEN);
    let ServiceBody::ForwardOpen(fo) = c.body.clone() else { panic!("forward open expected") };
    assert!(!fo.large);
    assert_eq!(fo.t_o_connection_id, 0x8000_0549);
    assert_eq!(fo.connection_serial, 0x0549);
    assert_eq!(fo.originator_vendor_id, 0x4D);
    assert_eq!(fo.originator_serial, 0x11FA_6145);
    assert_eq!(fo.o_t_rpi, 2_000_000);
    assert_eq!(fo.o_t_params, 0x43F8);
    assert_eq!(fo.transport_class(), 3);
    assert_eq!(fo.connection_path.class(), Some(ClassId::MESSAGE_ROUTER));
}

#[test]
fn large_forward_open_has_32_bit_parameters() {
    let cip = [
        0x5B, // service: Large_Forward_Open
        0x02, 0x20, 0x06, 0x24, 0x01, // path: class 0x06 instance 1
        0x0A, 0x0E, // priority/tick, timeout ticks
        0x00, 0x00, 0x00, 0x00, // O->T connection id
        0x01, 0x00, 0x00, 0x20, // T->O connection id
        0x01, 0x00, // connection serial
        0x01, 0x00, // vendor id
        0x01, 0x00, 0x00, 0x00, // originator serial
        0x00, 0x00, 0x00, 0x00, // multiplier, reserved
        0x40, 0x42, 0x0F, 0x00, // O->T RPI 1,000,000 µs
        0xA0, 0x0F, 0x00, 0x42, // O->T parameters 0x42000FA0
        0x40, 0x42, 0x0F, 0x00, // T->O RPI
        0xA0, 0x0F, 0x00, 0x42, // T->O parameters
        0xA3, // transport class 3
        0x02, // connection path size: 2 words
        0x20, 0x02, 0x24, 0x01, // Message Router instance 1
    ];
    let bytes = encap(0x006F, SESSION, CTX, &rr_data(&cip));
    let m = check(&bytes, Direction::ToServer);
    assert!(m.anomalies.is_empty(), "{:?}", m.anomalies);
    let ServiceBody::ForwardOpen(fo) = cip_of(&m).body.clone() else { panic!() };
    assert!(fo.large);
    assert_eq!(fo.o_t_params, 0x4200_0FA0);
    assert_eq!(cip_of(&m).service_name(), Some("Large Forward Open"));
}

#[test]
fn forward_close_only_on_the_connection_manager() {
    let close = [
        0x4E, // service 0x4E
        0x02, 0x20, 0x06, 0x24, 0x01, // class 0x06 instance 1
        0x06, 0x9B, // priority/tick, timeout ticks
        0x49, 0x05, // connection serial
        0x4D, 0x00, // vendor id
        0x45, 0x61, 0xFA, 0x11, // originator serial
        0x02, 0x00, // connection path size 2 words, reserved
        0x20, 0x02, 0x24, 0x01, // Message Router instance 1
    ];
    let bytes = encap(0x006F, SESSION, CTX, &rr_data(&close));
    let m = check(&bytes, Direction::ToServer);
    let c = cip_of(&m);
    assert_eq!(c.operations(), Operations::CONNECTION_CLOSE);
    let ServiceBody::ForwardClose(fc) = c.body.clone() else { panic!() };
    assert_eq!(fc.connection_serial, 0x0549);
    assert_eq!(fc.connection_path.class(), Some(ClassId::MESSAGE_ROUTER));

    // The same code on another class is class specific and not decoded.
    let other = [
        0x4E, // service 0x4E
        0x02, 0x20, 0x69, 0x24, 0x00, // class 0x69 instance 0
        0x01, 0x02, // data
    ];
    let bytes = encap(0x006F, SESSION, CTX, &rr_data(&other));
    let m = check(&bytes, Direction::ToServer);
    let c = cip_of(&m);
    assert_eq!(c.body, ServiceBody::None);
    assert_eq!(c.service_name(), None);
    assert_eq!(c.operations(), Operations::NONE);
}

#[test]
fn write_tag_on_a_symbolic_path() {
    let cip = [
        0x4D, // service: Write Tag
        0x0B, // path size: 11 words
        0x91, 0x0B, // ANSI extended symbol, 11 bytes
        b'M', b'o', b't', b'o', b'r', b'_', b'S', b'p', b'e', b'e', b'd', 0x00, // name + pad
        0x91, 0x03, b'R', b'P', b'M', 0x00, // member "RPM" + pad
        0x28, 0x05, // member (array element) 5
        0xC4, 0x00, // data type DINT
        0x01, 0x00, // element count 1
        0xDC, 0x05, 0x00, 0x00, // value 1500
    ];
    let bytes = encap(0x0070, SESSION, [0; 8], &unit_data(9, &cip));
    let m = check(&bytes, Direction::ToServer);
    assert!(m.anomalies.is_empty(), "{:?}", m.anomalies);
    let c = cip_of(&m);
    let path = c.path().unwrap();
    assert_eq!(path.symbols().collect::<Vec<_>>(), vec![&b"Motor_Speed"[..], &b"RPM"[..]]);
    assert_eq!(path.member(), Some(5));
    assert_eq!(c.target(), Target::Symbolic);
    assert_eq!(c.service_name(), Some("Write Tag"));
    assert_eq!(c.operations(), Operations::WRITE | Operations::TAG_ACCESS);
    assert_eq!(c.data, &[0xC4, 0x00, 0x01, 0x00, 0xDC, 0x05, 0x00, 0x00]);
}

// ---------------------------------------------------------------- EPATH segments

#[rstest]
#[case::class_8_bit(&[0x20, 0x01], Ok(Segment::Logical { kind: LogicalType::CLASS_ID, value: 1 }))]
#[case::class_16_bit(&[0x21, 0x00, 0x34, 0x03], Ok(Segment::Logical { kind: LogicalType::CLASS_ID, value: 0x334 }))]
#[case::instance_32_bit(&[0x26, 0x00, 0x78, 0x56, 0x34, 0x12], Ok(Segment::Logical { kind: LogicalType::INSTANCE_ID, value: 0x1234_5678 }))]
#[case::attribute_8_bit(&[0x30, 0x07], Ok(Segment::Logical { kind: LogicalType::ATTRIBUTE_ID, value: 7 }))]
#[case::connection_point_8_bit(&[0x2C, 0x64], Ok(Segment::Logical { kind: LogicalType::CONNECTION_POINT, value: 100 }))]
#[case::electronic_key(
    &[0x34, 0x04, 0x01, 0x00, 0x0E, 0x00, 0x36, 0x00, 0x14, 0x0B], // format 4, vendor, type, product, revision
    Ok(Segment::ElectronicKey(&[0x01, 0x00, 0x0E, 0x00, 0x36, 0x00, 0x14, 0x0B]))
)]
#[case::port_backplane_slot_3(&[0x01, 0x03], Ok(Segment::Port { port: 1, link_address: &[0x03] }))]
#[case::port_extended_link_address(
    &[0x12, 0x09, b'1', b'0', b'.', b'0', b'.', b'0', b'.', b'1', b'2', 0x00], // port 2, 9-byte IP text, pad
    Ok(Segment::Port { port: 2, link_address: b"10.0.0.12" })
)]
#[case::port_extended_port_number(&[0x0F, 0x12, 0x00, 0x01], Ok(Segment::Port { port: 0x12, link_address: &[0x01] }))]
#[case::network_production_inhibit(&[0x43, 0x0A], Ok(Segment::Network { segment: 0x43, data: &[0x0A] }))]
#[case::symbolic_short(&[0x63, b'a', b'b', b'c'], Ok(Segment::Symbolic(b"abc")))]
#[case::simple_data(&[0x80, 0x01, 0xAA, 0xBB], Ok(Segment::Data(&[0xAA, 0xBB])))]
#[case::ansi_symbol_odd(&[0x91, 0x01, b'X', 0x00], Ok(Segment::AnsiSymbol(b"X")))]
#[case::logical_reserved_format(&[0x23, 0x01], Err(DecodeError::Malformed("epath: logical format")))]
#[case::reserved_segment_type(&[0xE0], Err(DecodeError::Malformed("epath: segment type")))]
#[case::truncated_16_bit_class(&[0x21, 0x00, 0x34], Err(DecodeError::incomplete(1)))]
#[case::ansi_symbol_missing_pad(&[0x91, 0x01, b'X'], Err(DecodeError::incomplete(1)))]
fn epath_segment(#[case] bytes: &[u8], #[case] expected: Result<Segment<'_>, DecodeError>) {
    let path = Epath::new(bytes);
    let segs: Vec<_> = path.segments().collect();
    assert_eq!(segs, vec![expected]);
}

#[test]
fn path_target_prefers_the_class_then_the_symbol() {
    assert_eq!(Epath::new(&[0x20, 0xAC, 0x24, 0x01]).target(), Target::Class(ClassId(0xAC)));
    assert_eq!(Epath::new(&[0x91, 0x02, b'T', b'1']).target(), Target::Symbolic);
    assert_eq!(Epath::new(&[0x01, 0x00]).target(), Target::None);
    assert_eq!(Epath::new(&[]).target(), Target::None);
    // A class after a bad segment is not reached.
    assert_eq!(Epath::new(&[0xE0, 0x20, 0x01]).target(), Target::None);
}

// ---------------------------------------------------------------- anomalies

#[test]
fn nonzero_options_are_flagged() {
    let mut bytes = encap(0x0065, 0, [0; 8], &[0x01, 0x00, 0x00, 0x00]);
    bytes[20] = 0x01; // options: 1
    assert_eq!(check(&bytes, Direction::ToServer).anomalies, Anomalies::NONZERO_OPTIONS);
}

#[rstest]
#[case::interface_handle_not_cip(
    &[0x01, 0x00, 0x00, 0x00, 0x00, 0x00, // interface handle 1, timeout 0
      0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0xB2, 0x00, 0x02, 0x00, 0x01, 0x00], // null address, unconnected data: 01 00
    Anomalies::INVALID_INTERFACE
)]
#[case::item_overruns_data(
    &[0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // interface handle, timeout
      0x02, 0x00, 0x00, 0x00, 0x00, 0x00, // 2 items; null address
      0xB2, 0x00, 0x10, 0x00, 0x01, 0x00], // unconnected data claims 16 bytes, has 2
    Anomalies::INVALID_ITEM | Anomalies::UNEXPECTED_ITEM
)]
#[case::connected_address_in_send_rr_data(
    &[0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
      0x02, 0x00, 0xA1, 0x00, 0x04, 0x00, 0x01, 0x00, 0x00, 0x00, // connected address item
      0xB2, 0x00, 0x02, 0x00, 0x01, 0x00], // unconnected data: Get_Attributes_All, empty path
    Anomalies::UNEXPECTED_ITEM
)]
#[case::null_address_with_data(
    &[0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
      0x02, 0x00, 0x00, 0x00, 0x01, 0x00, 0xFF, // null address item of length 1
      0xB2, 0x00, 0x02, 0x00, 0x01, 0x00],
    Anomalies::INVALID_ITEM
)]
#[case::truncated_cip_header(
    &[0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
      0x02, 0x00, 0x00, 0x00, 0x00, 0x00,
      0xB2, 0x00, 0x03, 0x00, 0x0E, 0x03, 0x20], // path claims 3 words, has 1 byte
    Anomalies::CIP_MALFORMED
)]
#[case::trailing_bytes_after_items(
    &[0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
      0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0xB2, 0x00, 0x02, 0x00, 0x01, 0x00,
      0xEE], // one byte after the last item
    Anomalies::INVALID_LENGTH
)]
#[case::too_short_for_interface_and_timeout(&[0x00, 0x00, 0x00], Anomalies::INVALID_LENGTH)]
fn send_rr_data_anomalies(#[case] data: &[u8], #[case] expected: Anomalies) {
    let bytes = encap(0x006F, SESSION, CTX, data);
    assert_eq!(check(&bytes, Direction::ToServer).anomalies, expected);
}

#[test]
fn send_rr_data_without_a_session_is_flagged() {
    let bytes = encap(0x006F, 0, CTX, &rr_data(&[0x01, 0x00]));
    assert_eq!(check(&bytes, Direction::ToServer).anomalies, Anomalies::MISSING_SESSION);
}

#[test]
fn too_many_items_are_capped() {
    let mut data = vec![
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // interface handle, timeout
        0x14, 0x00, // item count: 20
    ];
    for _ in 0..20 {
        data.extend_from_slice(&[0x00, 0x00, 0x00, 0x00]); // null address item
    }
    let bytes = encap(0x006F, SESSION, CTX, &data);
    let m = check(&bytes, Direction::ToServer);
    assert!(m.anomalies.contains(Anomalies::TOO_MANY_ITEMS));
    let CommandData::Send(s) = &m.data else { panic!() };
    assert_eq!(s.items.len(), MAX_CPF_ITEMS);
}

#[rstest]
#[case::reserved_service(&[0x70, 0x00], Anomalies::CIP_RESERVED_SERVICE)]
#[case::service_zero(&[0x00, 0x00], Anomalies::CIP_RESERVED_SERVICE)]
#[case::bad_path_segment(&[0x0E, 0x01, 0xE0, 0x00], Anomalies::CIP_INVALID_PATH)]
#[case::response_reserved_byte(&[0x8E, 0x01, 0x00, 0x00], Anomalies::CIP_RESERVED_NONZERO)]
#[case::msp_offset_outside(
    &[0x0A, 0x02, 0x20, 0x02, 0x24, 0x01, // MSP to Message Router
      0x01, 0x00, 0x40, 0x00], // one service at offset 64, beyond the data
    Anomalies::CIP_INVALID_OFFSET
)]
#[case::msp_offset_into_the_table(
    &[0x0A, 0x02, 0x20, 0x02, 0x24, 0x01,
      0x01, 0x00, 0x02, 0x00, 0x0E, 0x00], // offset 2 points at the offset table
    Anomalies::CIP_INVALID_OFFSET
)]
#[case::msp_count_beyond_data(
    &[0x0A, 0x02, 0x20, 0x02, 0x24, 0x01,
      0x05, 0x00, 0x0C, 0x00], // 5 services, only one offset present
    Anomalies::CIP_INVALID_SERVICE_DATA
)]
#[case::msp_request_embedding_a_response(
    &[0x0A, 0x02, 0x20, 0x02, 0x24, 0x01,
      0x01, 0x00, 0x04, 0x00, // one service at offset 4
      0x8E, 0x00, 0x00, 0x00], // a response where a request belongs
    Anomalies::CIP_UNEXPECTED_DIRECTION
)]
#[case::unconnected_send_truncated(
    &[0x52, 0x02, 0x20, 0x06, 0x24, 0x01,
      0x07, 0xE9, 0x10, 0x00, 0x01], // embedded size 16, 1 byte present
    Anomalies::CIP_INVALID_SERVICE_DATA
)]
#[case::forward_open_truncated(
    &[0x54, 0x02, 0x20, 0x06, 0x24, 0x01, 0x06, 0x9B, 0x00], // stops inside the connection ids
    Anomalies::CIP_INVALID_SERVICE_DATA
)]
fn cip_anomalies(#[case] cip: &[u8], #[case] expected: Anomalies) {
    let bytes = encap(0x006F, SESSION, CTX, &rr_data(cip));
    let m = check(&bytes, Direction::ToServer);
    assert_eq!(m.anomalies, expected);
    // The message is still returned.
    assert!(m.cip().next().and_then(|p| p.message.as_ref()).is_some());
}

#[test]
fn too_many_msp_services_are_capped() {
    let n = MAX_MSP_SERVICES + 3;
    let mut cip = vec![
        0x0A, 0x02, 0x20, 0x02, 0x24, 0x01, // MSP to Message Router instance 1
    ];
    cip.extend_from_slice(&(n as u16).to_le_bytes()); // number of services
    let table = 2 + 2 * n;
    for i in 0..n {
        cip.extend_from_slice(&((table + 2 * i) as u16).to_le_bytes()); // offsets
    }
    for _ in 0..n {
        cip.extend_from_slice(&[0x17, 0x00]); // No_Operation, empty path
    }
    let bytes = encap(0x0070, SESSION, [0; 8], &unit_data(1, &cip));
    let m = check(&bytes, Direction::ToServer);
    assert_eq!(m.anomalies, Anomalies::CIP_TOO_MANY_SERVICES);
    assert_eq!(cip_of(&m).embedded().len(), MAX_MSP_SERVICES);
}

#[test]
fn nesting_is_bounded() {
    // Unconnected Send wrapping itself six times around a No_Operation.
    let mut cip = vec![0x17, 0x00];
    for _ in 0..6 {
        let mut outer = vec![
            0x52, 0x02, 0x20, 0x06, 0x24, 0x01, // Unconnected_Send to class 6 instance 1
            0x07, 0xE9, // priority/tick, timeout ticks
        ];
        outer.extend_from_slice(&(cip.len() as u16).to_le_bytes()); // embedded size
        outer.extend_from_slice(&cip);
        if cip.len() % 2 == 1 {
            outer.push(0x00); // pad
        }
        outer.extend_from_slice(&[0x01, 0x00, 0x01, 0x00]); // route path: port 1 slot 0
        cip = outer;
    }
    let bytes = encap(0x006F, SESSION, CTX, &rr_data(&cip));
    let m = check(&bytes, Direction::ToServer);
    assert_eq!(m.anomalies, Anomalies::CIP_NESTING_TOO_DEEP);
    let mut depth = 0;
    let mut c = cip_of(&m);
    while let Some(inner) = c.embedded().first() {
        depth += 1;
        c = inner;
    }
    assert_eq!(depth, usize::from(MAX_CIP_DEPTH));
}

#[test]
fn anomaly_names_are_stable_and_unique() {
    let names: Vec<_> = Anomalies::ALL.iter().map(|(_, n)| *n).collect();
    let mut sorted = names.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted.len(), names.len());
    for (flag, name) in Anomalies::ALL {
        assert_eq!(flag.bits().count_ones(), 1, "{name}");
        assert!(
            name.starts_with("enip.") || name.starts_with("cip.") || name.starts_with("enip_io.")
        );
        assert!(name.chars().all(|c| c.is_ascii_lowercase() || c == '.' || c == '_'), "{name}");
    }
    let two = Anomalies::UNKNOWN_COMMAND | Anomalies::CIP_MALFORMED;
    assert_eq!(two.to_string(), "enip.unknown_command,cip.malformed");
}

// ---------------------------------------------------------------- operations and names

#[rstest]
#[case::identity_reset(ServiceCode::RESET, Target::Class(ClassId::IDENTITY), Operations::RESET | Operations::DEVICE_RESET)]
#[case::reset_elsewhere(ServiceCode::RESET, Target::Class(ClassId(0x72)), Operations::RESET)]
#[case::controller_stop(ServiceCode::STOP, Target::Class(ClassId::LOGIX_CONTROLLER), Operations::STOP | Operations::MODE_CHANGE)]
#[case::controller_start(ServiceCode::START, Target::Class(ClassId::LOGIX_CONTROLLER), Operations::START | Operations::MODE_CHANGE)]
#[case::nvs_transfer(
    ServiceCode(0x4D),
    Target::Class(ClassId::NON_VOLATILE_STORAGE),
    Operations::FIRMWARE_UPDATE
)]
#[case::nvs_read_is_not_an_update(
    ServiceCode::GET_ATTRIBUTES_ALL,
    Target::Class(ClassId::NON_VOLATILE_STORAGE),
    Operations::READ
)]
#[case::clock_set(ServiceCode::SET_ATTRIBUTE_LIST, Target::Class(ClassId::WALL_CLOCK_TIME), Operations::WRITE | Operations::TIME_CHANGE)]
#[case::clock_read(
    ServiceCode::GET_ATTRIBUTE_LIST,
    Target::Class(ClassId::WALL_CLOCK_TIME),
    Operations::READ
)]
#[case::create_in_vendor_class(ServiceCode::CREATE, Target::Class(ClassId(0x68)), Operations::CREATE | Operations::PROGRAM_CHANGE)]
#[case::create_in_standard_class(
    ServiceCode::CREATE,
    Target::Class(ClassId::ASSEMBLY),
    Operations::CREATE
)]
#[case::delete_in_16_bit_vendor_class(ServiceCode::DELETE, Target::Class(ClassId(0x334)), Operations::DELETE | Operations::PROGRAM_CHANGE)]
#[case::forward_close(
    ServiceCode(0x4E),
    Target::Class(ClassId::CONNECTION_MANAGER),
    Operations::CONNECTION_CLOSE
)]
#[case::read_modify_write_tag(ServiceCode(0x4E), Target::Symbolic, Operations::WRITE | Operations::TAG_ACCESS)]
#[case::class_specific_4e_elsewhere(
    ServiceCode(0x4E),
    Target::Class(ClassId(0x72)),
    Operations::NONE
)]
#[case::read_tag_fragmented(ServiceCode(0x52), Target::Symbolic, Operations::READ | Operations::TAG_ACCESS)]
#[case::write_tag_fragmented_on_symbol_object(ServiceCode(0x53), Target::Class(ClassId::SYMBOL), Operations::WRITE | Operations::TAG_ACCESS)]
#[case::set_attribute_single(
    ServiceCode::SET_ATTRIBUTE_SINGLE,
    Target::Class(ClassId::TCPIP_INTERFACE),
    Operations::WRITE
)]
#[case::set_attributes_all(ServiceCode::SET_ATTRIBUTES_ALL, Target::None, Operations::WRITE)]
fn operations_by_service_and_target(
    #[case] service: ServiceCode,
    #[case] target: Target,
    #[case] expected: Operations,
) {
    assert_eq!(operations(service, target), expected);
}

#[rstest]
#[case::common(ServiceCode(0x0E), Target::None, Some("Get Attribute Single"))]
#[case::forward_close(
    ServiceCode(0x4E),
    Target::Class(ClassId::CONNECTION_MANAGER),
    Some("Forward Close")
)]
#[case::read_modify_write(ServiceCode(0x4E), Target::Symbolic, Some("Read Modify Write Tag"))]
#[case::class_specific_unknown(ServiceCode(0x4E), Target::Class(ClassId(0x72)), None)]
#[case::unconnected_send(
    ServiceCode(0x52),
    Target::Class(ClassId::CONNECTION_MANAGER),
    Some("Unconnected Send")
)]
#[case::read_tag_fragmented(ServiceCode(0x52), Target::Symbolic, Some("Read Tag Fragmented"))]
#[case::reserved(ServiceCode(0x70), Target::None, None)]
fn service_names_depend_on_the_class(
    #[case] s: ServiceCode,
    #[case] t: Target,
    #[case] expected: Option<&str>,
) {
    assert_eq!(s.name_for(t), expected);
}

// ---------------------------------------------------------------- identity and replies

#[test]
fn identity_object_attributes_from_get_attributes_all() {
    let data = [
        0x01, 0x00, // vendor id 1
        0x0C, 0x00, // device type 12 (communications adapter)
        0x3A, 0x00, // product code 58
        0x04, 0x03, // revision 4.3
        0x30, 0x00, // status
        0xC3, 0xAE, 0x51, 0x00, // serial 0x0051AEC3
        0x0B, b'1', b'7', b'5', b'6', b'-', b'E', b'N', b'B', b'T', b'/',
        b'A', // product name
        0x03, // state (further attributes are ignored)
    ];
    let id = parse_identity(&data).unwrap();
    assert_eq!((id.vendor_id, id.device_type, id.product_code), (1, 12, 58));
    assert_eq!((id.revision_major, id.revision_minor), (4, 3));
    assert_eq!(id.serial_number, 0x0051_AEC3);
    assert_eq!(id.product_name_str(), Some("1756-ENBT/A"));
    assert_eq!(parse_identity(&data[..14]), None);
}

#[test]
fn forward_open_reply_data() {
    let data = [
        0x01, 0x00, 0x20, 0x00, // O->T connection id 0x00200001
        0x49, 0x05, 0x00, 0x80, // T->O connection id
        0x49, 0x05, // connection serial
        0x4D, 0x00, // vendor id
        0x45, 0x61, 0xFA, 0x11, // originator serial
        0x80, 0x84, 0x1E, 0x00, // O->T API
        0x80, 0x84, 0x1E, 0x00, // T->O API
        0x01, 0x00, // application reply size 1 word, reserved
        0xAA, 0xBB, // application reply
    ];
    let r = parse_forward_open_reply(&data).unwrap();
    assert_eq!(r.o_t_connection_id, 0x0020_0001);
    assert_eq!(r.t_o_api, 2_000_000);
    assert_eq!(r.application_reply, &[0xAA, 0xBB]);
    assert_eq!(parse_forward_open_reply(&data[..25]), None);
}

#[test]
fn a_cip_message_cut_short_keeps_its_service_byte() {
    let cip = [
        0x0E, // Get_Attribute_Single
        0x05, // path size: 5 words, only 2 bytes follow
        0x20, 0x01,
    ];
    let bytes = encap(0x006F, SESSION, CTX, &rr_data(&cip));
    let m = check(&bytes, Direction::ToServer);
    assert_eq!(m.anomalies, Anomalies::CIP_MALFORMED);
    let p = m.cip().next().unwrap();
    assert_eq!(p.message, None);
    assert_eq!(p.service_byte(), Some(0x0E));
    assert_eq!(CipPayload { raw: &[], message: None }.service_byte(), None);
}

#[test]
fn msp_decoding_stops_at_the_first_service_that_does_not_fit() {
    let cip = [
        0x0A, 0x02, 0x20, 0x02, 0x24, 0x01, // MSP to Message Router instance 1
        0x03, 0x00, // 3 services
        0x08, 0x00, // offset 8: No_Operation below
        0x40, 0x00, // offset 64: beyond the data
        0x0A, 0x00, // offset 10
        0x17, 0x00, // No_Operation, empty path
        0x17, 0x00, // No_Operation, empty path
    ];
    let bytes = encap(0x006F, SESSION, CTX, &rr_data(&cip));
    let m = check(&bytes, Direction::ToServer);
    assert_eq!(m.anomalies, Anomalies::CIP_INVALID_OFFSET);
    // The first service ends where the second (bad) offset says: past the data.
    assert!(cip_of(&m).embedded().is_empty());
}

#[test]
fn header_alone() {
    let bytes = encap(0x0063, 0, CTX, &[0x01, 0x00]);
    let h = parse_header(&bytes[..24]).unwrap();
    assert_eq!(h.command, Command::LIST_IDENTITY);
    assert_eq!(h.length, 2);
    assert_eq!(h.sender_context, CTX);
    assert_eq!(parse_header(&bytes[..23]), Err(DecodeError::incomplete(1)));
}

#[test]
fn bare_cip_message() {
    let (m, an) = parse_cip(&[0x8A, 0x00, 0x00, 0x00]).unwrap();
    assert_eq!(m.service, ServiceCode::MULTIPLE_SERVICE_PACKET);
    assert!(m.embedded().is_empty());
    assert!(an.is_empty());
    assert_eq!(parse_cip(&[0x0E, 0x02, 0x20]), Err(DecodeError::incomplete(3)));
}

// ---------------------------------------------------------------- class-1 I/O

#[test]
fn io_datagram() {
    let bytes = [
        0x02, 0x00, // item count: 2
        0x02, 0x80, // sequenced address item
        0x08, 0x00, // length 8
        0x03, 0x06, 0x4B, 0x00, // connection id 0x004B0603
        0xDB, 0x94, 0x3F, 0x00, // sequence number 4166875
        0xB1, 0x00, // connected data item
        0x06, 0x00, // length 6
        0xA5, 0x87, 0xE8, 0x0F, 0x03, 0x00, // I/O data
    ];
    let f = parse_io(&bytes).unwrap();
    assert_eq!(f.connection_id, Some(0x004B_0603));
    assert_eq!(f.sequence, Some(4_166_875));
    assert_eq!(f.data, Some(&[0xA5, 0x87, 0xE8, 0x0F, 0x03, 0x00][..]));
    assert!(f.anomalies.is_empty());
    assert!(probe_io(&bytes));
}

#[rstest]
#[case::no_count(&[0x02], false, Anomalies::NONE)]
#[case::only_an_address(&[0x01, 0x00, 0x02, 0x80, 0x08, 0x00, 1, 0, 0, 0, 2, 0, 0, 0], true, Anomalies::IO_INVALID_ITEMS)]
#[case::item_overrun(&[0x02, 0x00, 0x02, 0x80, 0x08, 0x00, 1, 0], false, Anomalies::NONE)]
fn io_datagram_anomalies(#[case] bytes: &[u8], #[case] frames: bool, #[case] expected: Anomalies) {
    match parse_io(bytes) {
        Ok(f) => {
            assert!(frames);
            assert_eq!(f.anomalies, expected);
        }
        Err(e) => {
            assert!(!frames, "{e}");
            assert!(matches!(e, DecodeError::Malformed(_)));
        }
    }
    assert!(!probe_io(bytes));
}

// ---------------------------------------------------------------- probe

#[rstest]
#[case::register_session(encap(0x0065, 0, [0; 8], &[0x01, 0x00, 0x00, 0x00]), true)]
#[case::list_identity_request(encap(0x0063, 0, [0; 8], &[]), true)]
#[case::send_rr_data(encap(0x006F, SESSION, CTX, &rr_data(&[0x01, 0x02, 0x20, 0x01, 0x24, 0x01])), true)]
#[case::send_rr_data_header_only(encap(0x006F, SESSION, CTX, &rr_data(&[0x01, 0x02, 0x20, 0x01, 0x24, 0x01]))[..24].to_vec(), true)]
#[case::unknown_command(encap(0x0001, 0, [0; 8], &[]), false)]
#[case::nop_of_zeros(vec![0; 40], false)]
#[case::send_rr_data_without_session(encap(0x006F, 0, CTX, &rr_data(&[0x01, 0x02, 0x20, 0x01, 0x24, 0x01])), false)]
#[case::register_session_wrong_length(encap(0x0065, 0, [0; 8], &[0x01, 0x00]), false)]
#[case::send_rr_data_broken_items(encap(0x006F, SESSION, CTX, &[0, 0, 0, 0, 0, 0, 0x02, 0x00, 0x00, 0x00]), false)]
#[case::modbus_request(vec![0x00, 0x01, 0x00, 0x00, 0x00, 0x06, 0x01, 0x03, 0x00, 0x00, 0x00, 0x0A, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], false)]
#[case::http(b"GET / HTTP/1.1\r\nHost: plc.example\r\n\r\n".to_vec(), false)]
#[case::too_short(vec![0x65, 0x00, 0x04, 0x00], false)]
fn probe_cases(#[case] bytes: Vec<u8>, #[case] expected: bool) {
    assert_eq!(probe(&bytes), expected);
}

#[test]
fn probe_rejects_nonzero_options_and_unknown_status() {
    let mut bytes = encap(0x0065, 0, [0; 8], &[0x01, 0x00, 0x00, 0x00]);
    bytes[20] = 1; // options
    assert!(!probe(&bytes));
    let mut bytes = encap(0x0065, 0, [0; 8], &[0x01, 0x00, 0x00, 0x00]);
    bytes[9] = 0x77; // status 0x7700
    assert!(!probe(&bytes));
}

// ---------------------------------------------------------------- request/response matching

#[test]
fn responses_are_matched_to_their_requests() {
    let mut tx = Transactions::new();
    // Unconnected: Get_Attributes_All on the Identity object.
    let req = encap(0x006F, SESSION, CTX, &rr_data(&[0x01, 0x02, 0x20, 0x01, 0x24, 0x01]));
    tx.request(&check(&req, Direction::ToServer));
    // Connected: MSP with one Read Tag on a symbolic path.
    let msp = [
        0x0A, 0x02, 0x20, 0x02, 0x24, 0x01, // MSP to Message Router instance 1
        0x01, 0x00, 0x04, 0x00, // one service at offset 4
        0x4C, 0x02, 0x91, 0x01, b'T', 0x00, 0x01, 0x00, // Read Tag "T", 1 element
    ];
    let req2 = encap(0x0070, SESSION, [0; 8], &unit_data(42, &msp));
    tx.request(&check(&req2, Direction::ToServer));
    assert_eq!(tx.len(), 2);

    let resp2 = encap(0x0070, SESSION, [0; 8], &unit_data(42, &[0x8A, 0x00, 0x00, 0x00]));
    let info = tx.response(&check(&resp2, Direction::ToClient)).unwrap();
    assert_eq!(info.service, ServiceCode::MULTIPLE_SERVICE_PACKET);
    assert_eq!(info.embedded.len(), 1);
    assert_eq!(info.embedded[0].target, Target::Symbolic);

    let resp = encap(0x006F, SESSION, CTX, &rr_data(&[0x81, 0x00, 0x00, 0x00]));
    let info = tx.response(&check(&resp, Direction::ToClient)).unwrap();
    assert_eq!(info.target, Target::Class(ClassId::IDENTITY));
    assert_eq!(info.instance, Some(1));
    assert!(tx.is_empty());
    // A response nobody asked for.
    assert_eq!(tx.response(&check(&resp, Direction::ToClient)), None);
}

#[test]
fn a_routed_reply_answers_the_embedded_request() {
    let mut tx = Transactions::new();
    let ucs = [
        0x52, 0x02, 0x20, 0x06, 0x24, 0x01, // Unconnected_Send to the Connection Manager
        0x07, 0xE9, 0x06, 0x00, // priority/tick, timeout, embedded size 6
        0x01, 0x02, 0x20, 0xAC, 0x24, 0x01, // Get_Attributes_All class 0xAC instance 1
        0x01, 0x00, 0x01, 0x00, // route path: port 1 slot 0
    ];
    let req = encap(0x006F, SESSION, CTX, &rr_data(&ucs));
    tx.request(&check(&req, Direction::ToServer));
    let resp = encap(0x006F, SESSION, CTX, &rr_data(&[0x81, 0x00, 0x00, 0x00, 0x01]));
    let m = check(&resp, Direction::ToClient);
    let info = tx.response(&m).unwrap();
    assert_eq!(info.target, Target::Class(ClassId::CONNECTION_MANAGER));
    let answered = info.answered_by(cip_of(&m));
    assert_eq!(answered.service, ServiceCode::GET_ATTRIBUTES_ALL);
    assert_eq!(answered.target, Target::Class(ClassId(0xAC)));
}

#[test]
fn connected_replies_follow_the_connection_pair_of_the_forward_open() {
    let mut tx = Transactions::new();
    // Forward Open proposing T->O id 0x80000001; the reply assigns O->T 0x1001.
    let fo = [
        0x54, 0x02, 0x20, 0x06, 0x24, 0x01, // Forward_Open to the Connection Manager
        0x06, 0x9B, // priority/tick, timeout ticks
        0x00, 0x00, 0x00, 0x00, // O->T id (chosen by the target)
        0x01, 0x00, 0x00, 0x80, // T->O id 0x80000001
        0x01, 0x00, 0x4D, 0x00, 0x77, 0x00, 0x00,
        0x00, // serial 1, vendor 0x4D, originator serial 0x77
        0x02, 0x00, 0x00, 0x00, // multiplier, reserved
        0x80, 0x84, 0x1E, 0x00, 0xF8, 0x43, // O->T RPI, parameters
        0x80, 0x84, 0x1E, 0x00, 0xF8, 0x43, // T->O RPI, parameters
        0xA3, 0x03, // class 3 transport, connection path 3 words
        0x01, 0x00, 0x20, 0x02, 0x24, 0x01, // port 1 slot 0, Message Router instance 1
    ];
    tx.request(&check(&encap(0x006F, SESSION, CTX, &rr_data(&fo)), Direction::ToServer));
    let reply = [
        0xD4, 0x00, 0x00, 0x00, // Forward_Open reply, success
        0x01, 0x10, 0x00, 0x00, // O->T id 0x1001
        0x01, 0x00, 0x00, 0x80, // T->O id 0x80000001
        0x01, 0x00, 0x4D, 0x00, 0x77, 0x00, 0x00, 0x00, // serial, vendor, originator serial
        0x80, 0x84, 0x1E, 0x00, 0x80, 0x84, 0x1E, 0x00, // O->T and T->O API
        0x00, 0x00, // no application reply
    ];
    let info = tx
        .response(&check(&encap(0x006F, SESSION, CTX, &rr_data(&reply)), Direction::ToClient))
        .unwrap();
    assert_eq!(info.classes, vec![ClassId::CONNECTION_MANAGER, ClassId::MESSAGE_ROUTER]);

    // Two requests with the same sequence count on two connections.
    let on = |conn: u32, seq: u16, cip: &[u8]| {
        let mut d = unit_data(seq, cip);
        d[12..16].copy_from_slice(&conn.to_le_bytes()); // connection id of the address item
        encap(0x0070, SESSION, [0; 8], &d)
    };
    let a = on(0x1001, 5, &[0x4C, 0x02, 0x20, 0x72, 0x24, 0x00]); // 0x4C on class 0x72
    let b = on(0x2002, 5, &[0x0E, 0x02, 0x20, 0x01, 0x24, 0x01]); // Get_Attribute_Single on Identity
    tx.request(&check(&a, Direction::ToServer));
    tx.request(&check(&b, Direction::ToServer));
    assert_eq!(tx.len(), 2);
    // The reply on T->O 0x80000001 answers the request sent on O->T 0x1001.
    let r = on(0x8000_0001, 5, &[0xCC, 0x00, 0x00, 0x00]);
    let info = tx.response(&check(&r, Direction::ToClient)).unwrap();
    assert_eq!(info.target, Target::Class(ClassId(0x72)));
    // An unknown reply connection matches what is left.
    let r = on(0x8000_0009, 5, &[0x8E, 0x00, 0x00, 0x00]);
    let info = tx.response(&check(&r, Direction::ToClient)).unwrap();
    assert_eq!(info.target, Target::Class(ClassId::IDENTITY));
}

#[test]
fn pending_requests_are_bounded() {
    let mut tx = Transactions::new();
    for i in 0..(MAX_PENDING + 10) {
        let req = encap(0x0070, SESSION, [0; 8], &unit_data(i as u16, &[0x0E, 0x00]));
        tx.request(&check(&req, Direction::ToServer));
    }
    assert_eq!(tx.len(), MAX_PENDING);
    assert_eq!(tx.dropped(), 10);
    // The oldest were dropped, the newest remain.
    let old = encap(0x0070, SESSION, [0; 8], &unit_data(0, &[0x8E, 0x00, 0x00, 0x00]));
    assert_eq!(tx.response(&check(&old, Direction::ToClient)), None);
    let new = encap(
        0x0070,
        SESSION,
        [0; 8],
        &unit_data((MAX_PENDING + 9) as u16, &[0x8E, 0x00, 0x00, 0x00]),
    );
    assert!(tx.response(&check(&new, Direction::ToClient)).is_some());
}

#[test]
fn pending_services_are_bounded_too() {
    let mut tx = Transactions::new();
    // Multiple Service Packets of 300 No_Operation services each.
    let n = 300usize;
    let mut cip = vec![0x0A, 0x02, 0x20, 0x02, 0x24, 0x01]; // MSP to Message Router instance 1
    cip.extend_from_slice(&(n as u16).to_le_bytes()); // number of services
    for i in 0..n {
        cip.extend_from_slice(&((2 + 2 * n + 2 * i) as u16).to_le_bytes()); // offsets
    }
    for _ in 0..n {
        cip.extend_from_slice(&[0x17, 0x00]); // No_Operation, empty path
    }
    for seq in 0..10u16 {
        tx.request(&check(
            &encap(0x0070, SESSION, [0; 8], &unit_data(seq, &cip)),
            Direction::ToServer,
        ));
    }
    assert_eq!(tx.len(), MAX_PENDING_NODES / (n + 1));
    assert_eq!(tx.dropped(), 10 - (MAX_PENDING_NODES / (n + 1)) as u64);
    let newest = encap(0x0070, SESSION, [0; 8], &unit_data(9, &[0x8A, 0x00, 0x00, 0x00]));
    assert_eq!(tx.response(&check(&newest, Direction::ToClient)).unwrap().nodes(), n + 1);
}

// ---------------------------------------------------------------- robustness

/// Every prefix and every single-byte corruption of the vectors above
/// decodes or fails cleanly.
#[test]
fn truncations_and_corruptions_never_panic() {
    let vectors = vec![
        encap(
            0x006F,
            SESSION,
            CTX,
            &rr_data(&[
                0x52, 0x02, 0x20, 0x06, 0x24, 0x01, 0x07, 0xE9, 0x06, 0x00, 0x01, 0x02, 0x20, 0xAC,
                0x24, 0x01, 0x01, 0x00, 0x01, 0x00,
            ]),
        ),
        encap(
            0x0070,
            SESSION,
            [0; 8],
            &unit_data(
                1,
                &[
                    0x0A, 0x02, 0x20, 0x02, 0x24, 0x01, 0x01, 0x00, 0x04, 0x00, 0x4C, 0x02, 0x91,
                    0x01, b'T', 0x00, 0x01, 0x00,
                ],
            ),
        ),
        encap(
            0x0063,
            0,
            CTX,
            &[0x01, 0x00, 0x0C, 0x00, 0x0A, 0x00, 0x01, 0x00, 0x00, 0x02, 0xAF, 0x12, 10, 0, 0, 1],
        ),
    ];
    for v in &vectors {
        for n in 0..=v.len() {
            let _ = parse(&v[..n], Direction::ToServer);
            let _ = probe(&v[..n]);
            let _ = parse_io(&v[..n]);
            let _ = parse_cip(v.get(24..n).unwrap_or(&[]));
        }
        for i in 0..v.len() {
            for b in [0x00, 0x01, 0x7F, 0x80, 0xFF] {
                let mut c = v.clone();
                c[i] = b;
                if let Ok((_, m)) = parse(&c, Direction::ToClient) {
                    for p in m.cip() {
                        if let Some(msg) = &p.message {
                            let _ = msg.operations();
                            let _ = format!("{msg:?}");
                        }
                    }
                }
            }
        }
    }
}
