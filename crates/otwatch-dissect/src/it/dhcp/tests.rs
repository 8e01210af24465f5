//! DHCP dissector tests: messages built field by field from RFC 2131/2132.

use rstest::rstest;

use super::*;
use crate::DecodeError;

/// A BOOTP header (RFC 2131 figure 1) for Ethernet with MAC 00:11:22:33:44:55,
/// followed by `tail` (normally the magic cookie and options).
fn bootp(op: u8, hlen: u8, tail: &[u8]) -> Vec<u8> {
    let mut v = vec![
        op,   // op: 1 BOOTREQUEST, 2 BOOTREPLY
        0x01, // htype: Ethernet
        hlen, // hlen
        0x00, // hops
        0xDE, 0xAD, 0xBE, 0xEF, // xid
        0x00, 0x03, // secs 3
        0x80, 0x00, // flags: broadcast
        0, 0, 0, 0, // ciaddr
        192, 168, 1, 50, // yiaddr
        0, 0, 0, 0, // siaddr
        0, 0, 0, 0, // giaddr
    ];
    // chaddr: 6-byte MAC padded to 16 bytes.
    v.extend_from_slice(&[0x00, 0x11, 0x22, 0x33, 0x44, 0x55]);
    v.extend_from_slice(&[0; 10]);
    v.extend_from_slice(&[0; 64]); // sname
    v.extend_from_slice(&[0; 128]); // file
    v.extend_from_slice(tail);
    v
}

/// Magic cookie 99.130.83.99 followed by `options`.
fn cookie(options: &[u8]) -> Vec<u8> {
    let mut v = vec![99, 130, 83, 99];
    v.extend_from_slice(options);
    v
}

fn check(bytes: &[u8]) -> Message<'_> {
    parse(bytes).expect("parses")
}

#[test]
fn decodes_a_discover_with_inventory_options() {
    let options = [
        53, 1, 1, // message type: DHCPDISCOVER
        61, 7, 0x01, 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, // client id: type 1 (Ethernet) + MAC
        50, 4, 192, 168, 1, 50, // requested IP 192.168.1.50
        12, 6, b'P', b'L', b'C', b'-', b'0', b'1', // host name "PLC-01"
        60, 8, b'M', b'S', b'F', b'T', b' ', b'5', b'.', b'0', // vendor class "MSFT 5.0"
        55, 4, 1, 3, 6, 15, // parameter request list: mask, router, DNS, domain
        0, 0,   // two Pad bytes
        255, // End
    ];
    let bytes = bootp(1, 6, &cookie(&options));
    let m = check(&bytes);
    assert_eq!(m.anomalies, Anomalies::NONE);
    assert_eq!(m.op, Op::BOOTREQUEST);
    assert_eq!(m.xid, 0xDEAD_BEEF);
    assert_eq!(m.flags, 0x8000);
    assert_eq!(m.yiaddr, [192, 168, 1, 50]);
    assert!(m.has_magic_cookie && m.is_dhcp());
    assert_eq!(m.message_type, Some(MessageType::DISCOVER));
    assert_eq!(m.message_type.and_then(MessageType::name), Some("DHCPDISCOVER"));
    assert_eq!(m.client_mac(), Some([0x00, 0x11, 0x22, 0x33, 0x44, 0x55]));
    assert_eq!(m.client_id, Some(&[0x01, 0x00, 0x11, 0x22, 0x33, 0x44, 0x55][..]));
    assert_eq!(m.requested_ip, Some([192, 168, 1, 50]));
    assert_eq!(m.host_name_str(), Some("PLC-01"));
    assert_eq!(m.vendor_class_str(), Some("MSFT 5.0"));
    assert_eq!(m.parameter_request_list, Some(&[1, 3, 6, 15][..]));
    assert_eq!(m.server_id, None);
    assert_eq!(m.options.iter().count(), 6);
    assert_eq!(m.options.get(OptionCode::HOST_NAME), Some(&b"PLC-01"[..]));
    assert!(probe(&bytes));
}

#[rstest]
// An ACK from the server with its identifier: fine.
#[case::ack(2, 6, cookie(&[53, 1, 5, 54, 4, 192, 168, 1, 1, 255]), Anomalies::NONE)]
// op 3 does not exist.
#[case::bad_op(3, 6, cookie(&[53, 1, 1, 255]), Anomalies::INVALID_OP)]
// Hardware address length 17 > 16.
#[case::bad_hlen(1, 17, cookie(&[53, 1, 1, 255]), Anomalies::INVALID_HLEN)]
// Host name option says 10 bytes, 3 follow.
#[case::truncated_option(1, 6, cookie(&[53, 1, 1, 12, 10, b'a', b'b', b'c']),
    Anomalies::TRUNCATED_OPTION)]
// No End option.
#[case::missing_end(1, 6, cookie(&[53, 1, 1]), Anomalies::MISSING_END)]
// Message type with 2 bytes.
#[case::bad_type_length(1, 6, cookie(&[53, 2, 1, 1, 255]), Anomalies::INVALID_OPTION_LENGTH)]
// Requested IP of 3 bytes.
#[case::bad_requested_ip(1, 6, cookie(&[53, 1, 3, 50, 3, 10, 0, 0, 255]),
    Anomalies::INVALID_OPTION_LENGTH)]
// Empty host name.
#[case::empty_host_name(1, 6, cookie(&[53, 1, 1, 12, 0, 255]), Anomalies::INVALID_OPTION_LENGTH)]
// Message type 200 is not defined.
#[case::unknown_type(1, 6, cookie(&[53, 1, 200, 255]), Anomalies::UNKNOWN_MESSAGE_TYPE)]
// The message type appears twice.
#[case::duplicate(1, 6, cookie(&[53, 1, 1, 53, 1, 1, 255]), Anomalies::DUPLICATE_OPTION)]
// An OFFER (server type) in a BOOTREQUEST.
#[case::wrong_direction(1, 6, cookie(&[53, 1, 2, 255]), Anomalies::WRONG_DIRECTION)]
fn flags_anomalies(
    #[case] op: u8,
    #[case] hlen: u8,
    #[case] tail: Vec<u8>,
    #[case] anomalies: Anomalies,
) {
    let bytes = bootp(op, hlen, &tail);
    let m = check(&bytes);
    assert_eq!(m.anomalies, anomalies, "got {}", m.anomalies);
    assert_eq!(probe(&bytes), anomalies.is_empty());
}

#[rstest]
// BOOTP with the cookie and only End, as controllers send when they boot.
#[case::bootp_with_cookie(cookie(&[255]), true, true)]
// BOOTP with a host name vendor extension.
#[case::bootp_host_name(cookie(&[12, 1, b'x', 255]), true, true)]
// Plain BOOTP: no cookie, the vendor area is opaque.
#[case::bootp_without_cookie(vec![0; 64], false, false)]
fn accepts_bootp(#[case] tail: Vec<u8>, #[case] cookie: bool, #[case] probed: bool) {
    let bytes = bootp(1, 6, &tail);
    let m = check(&bytes);
    assert_eq!(m.anomalies, Anomalies::NONE);
    assert!(!m.is_dhcp());
    assert_eq!(m.has_magic_cookie, cookie);
    assert_eq!(probe(&bytes), probed);
}

#[test]
fn stops_reading_options_at_the_cap() {
    let mut options = vec![53, 1, 1];
    for _ in 0..MAX_OPTIONS + 10 {
        options.extend_from_slice(&[250, 0]); // private option 250, empty
    }
    options.push(255);
    let bytes = bootp(1, 6, &cookie(&options));
    let m = check(&bytes);
    assert!(m.anomalies.contains(Anomalies::TOO_MANY_OPTIONS));
    assert_eq!(m.options.iter().count(), MAX_OPTIONS);
}

#[rstest]
#[case::empty(&[])]
#[case::short_header(&[1; 200])]
fn rejects_what_is_not_a_bootp_header(#[case] input: &[u8]) {
    assert_eq!(
        parse(input).map(|_| ()),
        Err(DecodeError::Malformed("dhcp: shorter than the BOOTP header"))
    );
    assert!(!probe(input));
}

#[test]
fn never_panics_on_truncations_and_noise() {
    let options = [53, 1, 3, 12, 4, b'h', b'o', b's', b't', 60, 3, b'a', b'b', b'c', 255];
    let full = bootp(1, 6, &cookie(&options));
    for n in 0..=full.len() {
        let _ = parse(&full[..n]).map(|m| m.options.iter().count());
    }
    let mut x: u32 = 7;
    for _ in 0..2000 {
        let mut v = full.clone();
        for b in v.iter_mut().skip(236) {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            *b = (x >> 16) as u8;
        }
        let _ = parse(&v).map(|m| (m.options.iter().count(), m.anomalies.to_string()));
    }
}
