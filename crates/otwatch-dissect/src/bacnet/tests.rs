//! Tests for the BACnet dissector: hand-built vectors from ANSI/ASHRAE 135, field
//! by field, for every layer, the anomaly flags and the failure modes; plus a
//! smoke test over the real captures in `../shared/pcaps/bacnet`.

use rstest::rstest;

use super::tag::{self, Date, Tag, TagClass, TagContent, Time};
use super::*;
use crate::DecodeError;
use crate::reader::Reader;

/// Parses a BACnet/IP datagram that must frame.
fn check(input: &[u8]) -> Message<'_> {
    match parse(input) {
        Ok(m) => m,
        Err(e) => panic!("parse failed: {e}"),
    }
}

/// Parses an APDU, returning it with the anomalies found.
fn apdu(input: &[u8]) -> (Apdu<'_>, Anomalies) {
    let mut an = Anomalies::NONE;
    let a = parse_apdu(input, &mut an);
    (a, an)
}

fn oid(object_type: ObjectType, instance: u32) -> ObjectId {
    ObjectId { object_type, instance }
}

fn prop(object: ObjectId, property: PropertyId, array_index: Option<u32>) -> PropertyRef {
    PropertyRef { object, property, array_index }
}

fn text(s: &CharacterString<'_>) -> String {
    s.to_string_lossy().into_owned()
}

// ------------------------------------------------------------------ BVLC

#[test]
fn who_is_global_broadcast_decodes_through_every_layer() {
    let input = [
        0x81, // BVLC type: BACnet/IP
        0x0b, // function: Original-Broadcast-NPDU
        0x00, 0x0c, // BVLC length: 12
        0x01, // NPDU version 1
        0x20, // control: DNET/DLEN/DADR and hop count present
        0xff, 0xff, // DNET 65535: all networks
        0x00, // DLEN 0: broadcast
        0xff, // hop count 255
        0x10, // APDU type 1: Unconfirmed-Request
        0x08, // service choice 8: who-Is
    ];
    let m = check(&input);
    assert_eq!(m.function, BvlcFunction::ORIGINAL_BROADCAST_NPDU);
    assert_eq!(m.length, 12);
    assert!(m.anomalies.is_empty(), "{}", m.anomalies);
    let npdu = m.npdu().unwrap();
    assert_eq!(npdu.version, 1);
    assert_eq!(npdu.destination, Some(NetworkAddress { network: 0xffff, mac: &[] }));
    assert!(npdu.destination.unwrap().is_broadcast());
    assert_eq!(npdu.source, None);
    assert_eq!(npdu.hop_count, Some(255));
    assert!(!npdu.expecting_reply);
    assert_eq!(npdu.priority, NetworkPriority::NORMAL);
    let a = m.apdu().unwrap();
    assert_eq!(a.pdu_type(), PduType::UNCONFIRMED_REQUEST);
    assert_eq!(a.unconfirmed_service(), Some(UnconfirmedService::WHO_IS));
    assert_eq!(a.confirmed_service(), None);
    assert_eq!(
        a,
        &Apdu::UnconfirmedRequest(UnconfirmedRequest {
            service: UnconfirmedService::WHO_IS,
            body: UnconfirmedRequestBody::WhoIs { range: None },
            data: &[],
        })
    );
    assert!(probe(&input));
}

#[test]
fn forwarded_i_am_keeps_the_originator_address() {
    let input = [
        0x81, 0x04, // BACnet/IP, Forwarded-NPDU
        0x00, 0x1a, // length 26
        0xc0, 0xa8, 0x00, 0x05, // original source 192.168.0.5
        0xba, 0xc0, // port 47808
        0x01, 0x00, // NPDU version 1, control 0 (local, APDU, normal priority)
        0x10, 0x00, // Unconfirmed-Request, i-Am
        0xc4, 0x02, 0x00, 0x00, 0x7b, // app tag 12 (object id), len 4: device,123
        0x22, 0x05, 0xc4, // app tag 2 (unsigned), len 2: max APDU 1476
        0x91, 0x03, // app tag 9 (enumerated), len 1: no-segmentation
        0x21, 0x2a, // app tag 2, len 1: vendor id 42
    ];
    let m = check(&input);
    assert!(m.anomalies.is_empty(), "{}", m.anomalies);
    let BvlcBody::ForwardedNpdu { origin, .. } = &m.body else { panic!("{:?}", m.body) };
    assert_eq!(origin.to_string(), "192.168.0.5:47808");
    let Some(Apdu::UnconfirmedRequest(u)) = m.apdu() else { panic!() };
    assert_eq!(
        u.body,
        UnconfirmedRequestBody::IAm(IAm {
            device: oid(ObjectType::DEVICE, 123),
            max_apdu: 1476,
            segmentation: Segmentation::NONE,
            vendor_id: 42,
        })
    );
    assert!(probe(&input));
}

#[rstest]
#[case::result_nak(
    &[0x81, 0x00, 0x00, 0x06, // BVLC-Result, length 6
      0x00, 0x30], // result code: Register-Foreign-Device NAK
    BvlcBody::Result(BvlcResultCode::REGISTER_FOREIGN_DEVICE_NAK))]
#[case::register_foreign_device(
    &[0x81, 0x05, 0x00, 0x06, // Register-Foreign-Device, length 6
      0x00, 0x3c], // time-to-live 60 s
    BvlcBody::RegisterForeignDevice { ttl: 60 })]
#[case::read_bdt(
    &[0x81, 0x02, 0x00, 0x04], // Read-Broadcast-Distribution-Table, no body
    BvlcBody::ReadBroadcastDistributionTable)]
#[case::read_fdt(
    &[0x81, 0x06, 0x00, 0x04], // Read-Foreign-Device-Table, no body
    BvlcBody::ReadForeignDeviceTable)]
#[case::delete_fdt_entry(
    &[0x81, 0x08, 0x00, 0x0a, // Delete-Foreign-Device-Table-Entry, length 10
      0x0a, 0x00, 0x00, 0x02, 0xba, 0xc1], // 10.0.0.2:47809
    BvlcBody::DeleteForeignDeviceTableEntry(BipAddress { ip: [10, 0, 0, 2], port: 47809 }))]
#[case::secure_bvll(
    &[0x81, 0x0c, 0x00, 0x06, // Secure-BVLL, length 6
      0xaa, 0xbb], // security wrapper, kept raw
    BvlcBody::SecureBvll(&[0xaa, 0xbb]))]
fn bvlc_bodies_without_npdu(#[case] input: &[u8], #[case] body: BvlcBody<'_>) {
    let m = check(input);
    assert_eq!(m.body, body);
    assert!(m.anomalies.is_empty(), "{}", m.anomalies);
    assert!(m.npdu().is_none());
    assert!(probe(input));
}

#[test]
fn write_bdt_lists_its_entries_and_counts_as_bbmd_configuration() {
    let input = [
        0x81, 0x01, 0x00, 0x18, // Write-Broadcast-Distribution-Table, length 24
        0xc0, 0xa8, 0x00, 0x01, 0xba, 0xc0, // BBMD 192.168.0.1:47808
        0xff, 0xff, 0xff, 0xff, // mask 255.255.255.255
        0xc0, 0xa8, 0x01, 0x01, 0xba, 0xc0, // BBMD 192.168.1.1:47808
        0xff, 0xff, 0xff, 0x00, // mask 255.255.255.0
    ];
    let m = check(&input);
    assert!(m.function.is_bbmd_configuration());
    let BvlcBody::WriteBroadcastDistributionTable(t) = m.body else { panic!() };
    let entries: Vec<_> = t.iter().collect();
    assert_eq!(
        entries,
        vec![
            BdtEntry { address: BipAddress { ip: [192, 168, 0, 1], port: 47808 }, mask: [255; 4] },
            BdtEntry {
                address: BipAddress { ip: [192, 168, 1, 1], port: 47808 },
                mask: [255, 255, 255, 0]
            },
        ]
    );
}

#[test]
fn read_fdt_ack_lists_foreign_devices() {
    let input = [
        0x81, 0x07, 0x00, 0x0e, // Read-Foreign-Device-Table-Ack, length 14
        0x0a, 0x00, 0x00, 0x02, 0xba, 0xc1, // 10.0.0.2:47809
        0x00, 0x78, // time-to-live 120 s
        0x00, 0x5a, // 90 s remaining
    ];
    let BvlcBody::ReadForeignDeviceTableAck(t) = check(&input).body else { panic!() };
    assert_eq!(
        t.iter().collect::<Vec<_>>(),
        vec![FdtEntry {
            address: BipAddress { ip: [10, 0, 0, 2], port: 47809 },
            ttl: 120,
            remaining: 90
        }]
    );
}

#[rstest]
#[case::unknown_function(
    &[0x81, 0x0d, 0x00, 0x05, // function 0x0d is not defined
      0x00],
    Anomalies::BVLC_UNKNOWN_FUNCTION)]
#[case::length_longer_than_datagram(
    &[0x81, 0x0a, 0x00, 0x10, // Original-Unicast-NPDU, length says 16
      0x01, 0x00, 0x10, 0x08], // but only 8 octets arrived: NPDU who-Is
    Anomalies::BVLC_LENGTH_MISMATCH)]
#[case::length_shorter_than_datagram(
    &[0x81, 0x0a, 0x00, 0x08, // length 8
      0x01, 0x00, 0x10, 0x08, // NPDU who-Is
      0xff, 0xff], // two extra octets
    Anomalies::BVLC_LENGTH_MISMATCH)]
#[case::result_of_three_octets(
    &[0x81, 0x00, 0x00, 0x07, // BVLC-Result, length 7
      0x00, 0x00, 0x00], // result code plus one stray octet
    Anomalies::BVLC_BAD_BODY_LENGTH)]
#[case::forwarded_without_full_address(
    &[0x81, 0x04, 0x00, 0x08, // Forwarded-NPDU, length 8
      0xc0, 0xa8, 0x00, 0x05], // address cut short, no port, no NPDU
    Anomalies::BVLC_BAD_BODY_LENGTH)]
#[case::bdt_with_partial_entry(
    &[0x81, 0x03, 0x00, 0x09, // Read-BDT-Ack, length 9
      0xc0, 0xa8, 0x00, 0x01, 0xba], // 5 octets: not a whole entry
    Anomalies::BVLC_BAD_BODY_LENGTH)]
#[case::npdu_too_short(
    &[0x81, 0x0a, 0x00, 0x05, // Original-Unicast-NPDU, length 5
      0x01], // NPDU version only, no control octet
    Anomalies::NPDU_MALFORMED)]
#[case::npdu_header_cut(
    &[0x81, 0x0a, 0x00, 0x07, // Original-Unicast-NPDU, length 7
      0x01, 0x20, 0x00], // DNET cut short
    Anomalies::NPDU_MALFORMED)]
fn bvlc_anomalies_are_flagged_not_fatal(#[case] input: &[u8], #[case] flag: Anomalies) {
    let m = check(input);
    assert!(m.anomalies.contains(flag), "{} lacks {}", m.anomalies, flag);
    assert!(!probe(input));
}

#[test]
fn the_datagram_not_the_length_field_bounds_the_npdu() {
    let m = check(&[0x81, 0x0a, 0x00, 0x10, 0x01, 0x00, 0x10, 0x08]);
    assert_eq!(m.apdu().and_then(Apdu::unconfirmed_service), Some(UnconfirmedService::WHO_IS));
    // A length field cutting into the APDU is not trusted either.
    let m = check(&[0x81, 0x0a, 0x00, 0x07, 0x01, 0x00, 0x10, 0x08]);
    assert_eq!(m.apdu().and_then(Apdu::unconfirmed_service), Some(UnconfirmedService::WHO_IS));
    assert!(m.anomalies.contains(Anomalies::BVLC_LENGTH_MISMATCH));
    // Octets after the length field's end belong to the NPDU: here, after the Who-Is.
    let m = check(&[0x81, 0x0a, 0x00, 0x08, 0x01, 0x00, 0x10, 0x08, 0xff, 0xff]);
    assert_eq!(m.apdu().and_then(Apdu::unconfirmed_service), Some(UnconfirmedService::WHO_IS));
    assert!(m.anomalies.contains(Anomalies::SERVICE_TRAILING_DATA));
}

#[rstest]
#[case::empty(&[], DecodeError::incomplete(1))]
#[case::type_only(&[0x81], DecodeError::incomplete(1))]
#[case::half_length(&[0x81, 0x0a, 0x00], DecodeError::incomplete(1))]
#[case::short_foreign_type(&[0x82, 0x01], DecodeError::incomplete(2))]
#[case::bacnet_ipv6_type(
    &[0x82, 0x01, 0x00, 0x04], // BVLC type 0x82 (BACnet/IPv6) is not decoded
    DecodeError::Malformed("bacnet: BVLC type is not 0x81 (BACnet/IP)"))]
#[case::length_below_header(
    &[0x81, 0x0a, 0x00, 0x03], // length 3 < 4
    DecodeError::Malformed("bacnet: BVLC length below header size"))]
fn bvlc_framing_errors(#[case] input: &[u8], #[case] err: DecodeError) {
    assert_eq!(parse(input), Err(err));
    assert!(!probe(input));
}

#[rstest]
#[case::modbus_request(&[0x00, 0x01, 0x00, 0x00, 0x00, 0x06, 0x01, 0x03, 0x00, 0x00, 0x00, 0x0a])]
#[case::dns_query_header(&[0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00])]
#[case::bvlc_type_but_random(&[0x81, 0x0a, 0x00, 0x08, 0x07, 0x55, 0x10, 0x08])]
#[case::npdu_with_reserved_apdu_type(&[0x81, 0x0a, 0x00, 0x07, 0x01, 0x00, 0xf0])]
fn probe_rejects_other_traffic(#[case] input: &[u8]) {
    assert!(!probe(input));
}

// ------------------------------------------------------------------ BACnet/IPv6

const B6: Bip6Address = Bip6Address {
    ip: [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01],
    port: 47808,
};

#[rstest]
#[case::original_unicast(
    &[0x82, 0x01, 0x00, 0x0e, // BACnet/IPv6, Original-Unicast-NPDU, length 14
      0x00, 0x00, 0x01, // source virtual address
      0x00, 0x00, 0x02, // destination virtual address
      0x01, 0x00, 0x10, 0x08], // NPDU: who-Is
    Bvlc6Function::ORIGINAL_UNICAST_NPDU, true)]
#[case::original_broadcast(
    &[0x82, 0x02, 0x00, 0x0b, // Original-Broadcast-NPDU, length 11
      0x00, 0x00, 0x01, // source virtual address
      0x01, 0x00, 0x10, 0x08], // NPDU: who-Is
    Bvlc6Function::ORIGINAL_BROADCAST_NPDU, true)]
#[case::forwarded_npdu(
    &[0x82, 0x08, 0x00, 0x1d, // Forwarded-NPDU, length 29
      0x00, 0x00, 0x01, // source virtual address
      0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xba, 0xc0, // [2001:db8::1]:47808
      0x01, 0x00, 0x10, 0x08], // NPDU: who-Is
    Bvlc6Function::FORWARDED_NPDU, true)]
#[case::distribute_broadcast(
    &[0x82, 0x0c, 0x00, 0x0b, // Distribute-Broadcast-To-Network, length 11
      0x00, 0x00, 0x01, 0x01, 0x00, 0x10, 0x08],
    Bvlc6Function::DISTRIBUTE_BROADCAST_TO_NETWORK, true)]
#[case::result(
    &[0x82, 0x00, 0x00, 0x09, // BVLC-Result, length 9
      0x00, 0x00, 0x01, // source virtual address
      0x00, 0x90], // Register-Foreign-Device NAK
    Bvlc6Function::RESULT, false)]
#[case::register_foreign_device(
    &[0x82, 0x09, 0x00, 0x09, 0x00, 0x00, 0x01, 0x00, 0x78], // time-to-live 120 s
    Bvlc6Function::REGISTER_FOREIGN_DEVICE, false)]
#[case::address_resolution(
    &[0x82, 0x03, 0x00, 0x0a, 0x00, 0x00, 0x01, 0x00, 0x00, 0x02], // who has virtual address 2
    Bvlc6Function::ADDRESS_RESOLUTION, false)]
#[case::virtual_address_resolution(
    &[0x82, 0x06, 0x00, 0x07, 0x00, 0x00, 0x01],
    Bvlc6Function::VIRTUAL_ADDRESS_RESOLUTION, false)]
fn bacnet_ipv6_messages(#[case] input: &[u8], #[case] function: Bvlc6Function, #[case] npdu: bool) {
    let m = parse_ipv6(input).unwrap();
    assert!(m.anomalies.is_empty(), "{}", m.anomalies);
    assert_eq!(m.function, function);
    assert_eq!(m.source, Some([0x00, 0x00, 0x01]));
    assert_eq!(m.npdu().is_some(), npdu);
    if npdu {
        let apdu = m.npdu().and_then(Npdu::apdu);
        assert_eq!(apdu.and_then(Apdu::unconfirmed_service), Some(UnconfirmedService::WHO_IS));
    }
    assert!(probe(input));
}

#[test]
fn bacnet_ipv6_bodies_decode() {
    let m = parse_ipv6(&[
        0x82, 0x08, 0x00, 0x1d, 0x00, 0x00, 0x01, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0x01, 0xba, 0xc0, 0x01, 0x00, 0x10, 0x08,
    ])
    .unwrap();
    let Bvlc6Body::ForwardedNpdu { origin, .. } = m.body else { panic!() };
    assert_eq!(origin, B6);
    assert_eq!(origin.to_string(), "[2001:db8::1]:47808");
    let m = parse_ipv6(&[
        0x82, 0x04, 0x00, 0x1c, 0x00, 0x00, 0x01, 0x00, 0x00, 0x02, 0x20, 0x01, 0x0d, 0xb8, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xba, 0xc0,
    ])
    .unwrap();
    assert_eq!(
        m.body,
        Bvlc6Body::ForwardedAddressResolution { target: [0x00, 0x00, 0x02], origin: B6 }
    );
    let m = parse_ipv6(&[0x82, 0x00, 0x00, 0x09, 0x00, 0x00, 0x01, 0x00, 0x90]).unwrap();
    assert_eq!(m.body, Bvlc6Body::Result(0x0090));
}

#[rstest]
#[case::unknown_function(&[0x82, 0x0d, 0x00, 0x07, 0x00, 0x00, 0x01], Anomalies::BVLC_UNKNOWN_FUNCTION)]
#[case::no_source_address(&[0x82, 0x02, 0x00, 0x06, 0x00, 0x00], Anomalies::BVLC_BAD_BODY_LENGTH)]
#[case::unicast_without_destination(&[0x82, 0x01, 0x00, 0x08, 0x00, 0x00, 0x01, 0x00], Anomalies::BVLC_BAD_BODY_LENGTH)]
#[case::result_too_long(&[0x82, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00], Anomalies::BVLC_BAD_BODY_LENGTH)]
#[case::length_mismatch(&[0x82, 0x06, 0x00, 0x09, 0x00, 0x00, 0x01], Anomalies::BVLC_LENGTH_MISMATCH)]
#[case::npdu_malformed(&[0x82, 0x02, 0x00, 0x08, 0x00, 0x00, 0x01, 0x01], Anomalies::NPDU_MALFORMED)]
fn bacnet_ipv6_anomalies(#[case] input: &[u8], #[case] flag: Anomalies) {
    let m = parse_ipv6(input).unwrap();
    assert!(m.anomalies.contains(flag), "{} lacks {}", m.anomalies, flag);
    assert!(!probe(input));
}

#[rstest]
#[case::short(&[0x82, 0x01, 0x00], DecodeError::incomplete(1))]
#[case::ipv4_type(&[0x81, 0x0a, 0x00, 0x04], DecodeError::Malformed("bacnet: BVLC type is not 0x82 (BACnet/IPv6)"))]
#[case::length_below_header(&[0x82, 0x01, 0x00, 0x02], DecodeError::Malformed("bacnet: BVLC length below header size"))]
fn bacnet_ipv6_framing_errors(#[case] input: &[u8], #[case] err: DecodeError) {
    assert_eq!(parse_ipv6(input), Err(err));
}

// ------------------------------------------------------------------ NPDU

#[test]
fn routed_npdu_carries_both_network_addresses() {
    let input = [
        0x01, // version 1
        0x2c, // control: DNET present, SNET present, expecting reply
        0x00, 0x05, // DNET 5
        0x01, // DLEN 1
        0x0c, // DADR: MS/TP station 12
        0x00, 0x02, // SNET 2
        0x06, // SLEN 6
        0xc0, 0xa8, 0x00, 0x0a, 0xba, 0xc0, // SADR: 192.168.0.10:47808
        0xfe, // hop count 254
        0x00, 0x05, 0x01, 0x0c, // Confirmed-Request, 1476 octets, invoke 1, readProperty
        0x0c, 0x02, 0x00, 0x00, 0x7b, // [0] device,123
        0x19, 0x4d, // [1] object-name
    ];
    let n = parse_npdu(&input).unwrap();
    assert!(n.anomalies.is_empty(), "{}", n.anomalies);
    assert_eq!(n.destination, Some(NetworkAddress { network: 5, mac: &[0x0c] }));
    assert_eq!(
        n.source,
        Some(NetworkAddress { network: 2, mac: &[0xc0, 0xa8, 0x00, 0x0a, 0xba, 0xc0] })
    );
    assert_eq!(n.hop_count, Some(254));
    assert!(n.expecting_reply);
    let Some(Apdu::ConfirmedRequest(r)) = n.apdu() else { panic!() };
    assert_eq!(
        r.body,
        ConfirmedRequestBody::ReadProperty(prop(
            oid(ObjectType::DEVICE, 123),
            PropertyId::OBJECT_NAME,
            None
        ))
    );
}

#[rstest]
#[case::who_is_router_any(
    &[0x01, 0x80, // version 1, control: network layer message
      0x00], // Who-Is-Router-To-Network, no network
    NetworkMessageType::WHO_IS_ROUTER_TO_NETWORK, None,
    NetworkMessageBody::WhoIsRouterToNetwork(None))]
#[case::who_is_router_to_3(
    &[0x01, 0x80, 0x00, // Who-Is-Router-To-Network
      0x00, 0x03], // network 3
    NetworkMessageType::WHO_IS_ROUTER_TO_NETWORK, None,
    NetworkMessageBody::WhoIsRouterToNetwork(Some(3)))]
#[case::i_am_router(
    &[0x01, 0x80, 0x01, // I-Am-Router-To-Network
      0x00, 0x02, 0x00, 0x03], // networks 2 and 3
    NetworkMessageType::I_AM_ROUTER_TO_NETWORK, None,
    NetworkMessageBody::Networks(NetworkList(&[0x00, 0x02, 0x00, 0x03])))]
#[case::i_could_be_router(
    &[0x01, 0x80, 0x02, // I-Could-Be-Router-To-Network
      0x00, 0x07, // network 7
      0x32], // performance index 50
    NetworkMessageType::I_COULD_BE_ROUTER_TO_NETWORK, None,
    NetworkMessageBody::ICouldBeRouterToNetwork { network: 7, performance_index: 50 })]
#[case::reject_message(
    &[0x01, 0x80, 0x03, // Reject-Message-To-Network
      0x01, // reason 1: not a router to DNET
      0x00, 0x09], // network 9
    NetworkMessageType::REJECT_MESSAGE_TO_NETWORK, None,
    NetworkMessageBody::RejectMessageToNetwork { reason: 1, network: 9 })]
#[case::initialize_routing_table(
    &[0x01, 0x80, 0x06, // Initialize-Routing-Table
      0x01, // one port mapping
      0x00, 0x0a, 0x01, 0x00], // DNET 10, port id 1, port info length 0
    NetworkMessageType::INITIALIZE_ROUTING_TABLE, None,
    NetworkMessageBody::RoutingTable { ports: 1, data: &[0x00, 0x0a, 0x01, 0x00] })]
#[case::network_number_is(
    &[0x01, 0x80, 0x13, // Network-Number-Is
      0x00, 0x05, // network 5
      0x01], // configured
    NetworkMessageType::NETWORK_NUMBER_IS, None,
    NetworkMessageBody::NetworkNumberIs { network: 5, configured: true })]
#[case::proprietary(
    &[0x01, 0x80, 0x80, // proprietary message type 0x80
      0x01, 0x04, // vendor id 260
      0xde, 0xad], // vendor data
    NetworkMessageType(0x80), Some(260),
    NetworkMessageBody::Other(&[0xde, 0xad]))]
fn network_layer_messages(
    #[case] input: &[u8],
    #[case] message_type: NetworkMessageType,
    #[case] vendor_id: Option<u16>,
    #[case] body: NetworkMessageBody<'_>,
) {
    let n = parse_npdu(input).unwrap();
    assert!(n.anomalies.is_empty(), "{}", n.anomalies);
    assert_eq!(n.network_message(), Some(&NetworkMessage { message_type, vendor_id, body }));
    assert!(n.apdu().is_none());
}

#[test]
fn i_am_router_lists_its_networks() {
    let n = parse_npdu(&[0x01, 0x80, 0x01, 0x00, 0x02, 0x00, 0x03]).unwrap();
    let Some(NetworkMessage { body: NetworkMessageBody::Networks(list), .. }) = n.network_message()
    else {
        panic!()
    };
    assert_eq!(list.iter().collect::<Vec<_>>(), vec![2, 3]);
    assert_eq!(list.len(), 2);
}

#[rstest]
#[case::bad_version(&[0x02, 0x00, 0x10, 0x08], Anomalies::NPDU_BAD_VERSION)]
#[case::reserved_control_bits(&[0x01, 0x40, 0x10, 0x08], Anomalies::NPDU_RESERVED_BITS)]
#[case::missing_apdu(&[0x01, 0x04], Anomalies::NPDU_MISSING_APDU)]
#[case::snet_global(
    &[0x01, 0x08, // SNET present
      0xff, 0xff, 0x01, 0x05, // SNET 65535 is not a valid source network
      0x10, 0x08],
    Anomalies::NPDU_INVALID_ADDRESS)]
#[case::slen_zero(
    &[0x01, 0x08, 0x00, 0x02, // SNET 2
      0x00, // SLEN 0 is not allowed
      0x10, 0x08],
    Anomalies::NPDU_INVALID_ADDRESS)]
#[case::dnet_zero(
    &[0x01, 0x20, 0x00, 0x00, 0x00, // DNET 0, DLEN 0
      0xff, 0x10, 0x08], // hop count, who-Is
    Anomalies::NPDU_INVALID_ADDRESS)]
#[case::reserved_message_type(&[0x01, 0x80, 0x20], Anomalies::NPDU_RESERVED_MESSAGE_TYPE)]
#[case::who_is_router_odd_body(&[0x01, 0x80, 0x00, 0x05], Anomalies::NETWORK_MESSAGE_MALFORMED)]
#[case::i_am_router_odd_body(&[0x01, 0x80, 0x01, 0x00, 0x02, 0x00], Anomalies::NETWORK_MESSAGE_MALFORMED)]
#[case::i_could_be_router_short(&[0x01, 0x80, 0x02, 0x00], Anomalies::NETWORK_MESSAGE_MALFORMED)]
fn npdu_anomalies(#[case] input: &[u8], #[case] flag: Anomalies) {
    let n = parse_npdu(input).unwrap();
    assert!(n.anomalies.contains(flag), "{} lacks {}", n.anomalies, flag);
}

#[rstest]
#[case::empty(&[])]
#[case::version_only(&[0x01])]
fn npdu_without_control_octet_is_incomplete(#[case] input: &[u8]) {
    assert!(matches!(parse_npdu(input), Err(DecodeError::Incomplete { .. })));
}

#[rstest]
#[case::dnet_cut(&[0x01, 0x20, 0x00], None)]
#[case::dadr_cut(&[0x01, 0x20, 0x00, 0x05, 0x06, 0xc0], None)]
#[case::hop_count_missing(&[0x01, 0x20, 0x00, 0x05, 0x00], Some(NetworkAddress { network: 5, mac: &[] }))]
#[case::message_type_missing(&[0x01, 0x80], None)]
#[case::vendor_id_missing(&[0x01, 0x80, 0x81, 0x00], None)]
fn npdu_header_cut_short_is_flagged(
    #[case] input: &[u8],
    #[case] destination: Option<NetworkAddress<'_>>,
) {
    let n = parse_npdu(input).unwrap();
    assert_eq!(n.payload, NpduPayload::HeaderTruncated);
    assert!(n.anomalies.contains(Anomalies::NPDU_MALFORMED), "{}", n.anomalies);
    assert_eq!(n.destination, destination);
    assert_eq!(n.hop_count, None);
}

#[test]
fn npdu_priority_is_the_low_control_bits() {
    let n = parse_npdu(&[0x01, 0x03, 0x10, 0x08]).unwrap();
    assert_eq!(n.priority, NetworkPriority::LIFE_SAFETY);
    assert_eq!(n.priority.name(), "Life Safety");
}

// ------------------------------------------------------------------ LLC

#[test]
fn llc_frames_carry_an_npdu() {
    let input = [
        0x82, 0x82, // DSAP, SSAP: BACnet
        0x03, // control: UI
        0x01, 0x00, 0x10, 0x08, // NPDU: who-Is
    ];
    let n = parse_llc(&input).unwrap();
    assert!(n.anomalies.is_empty());
    assert_eq!(n.apdu().and_then(Apdu::unconfirmed_service), Some(UnconfirmedService::WHO_IS));
}

#[rstest]
#[case::wrong_sap(&[0x42, 0x42, 0x03, 0x01, 0x00, 0x10, 0x08])]
#[case::snap(&[0xaa, 0xaa, 0x03, 0x00, 0x00, 0x00])]
fn llc_other_saps_are_not_bacnet(#[case] input: &[u8]) {
    assert_eq!(parse_llc(input), Err(DecodeError::Malformed("bacnet: LLC SAPs are not 0x82")));
}

#[test]
fn llc_control_other_than_ui_is_flagged() {
    let n = parse_llc(&[0x82, 0x82, 0x13, 0x01, 0x00, 0x10, 0x08]).unwrap();
    assert!(n.anomalies.contains(Anomalies::LLC_UNEXPECTED_CONTROL));
    assert!(matches!(parse_llc(&[0x82, 0x82]), Err(DecodeError::Incomplete { .. })));
}

// ------------------------------------------------------------------ confirmed requests

fn confirmed(input: &[u8]) -> (ConfirmedRequest<'_>, Anomalies) {
    match apdu(input) {
        (Apdu::ConfirmedRequest(r), an) => (r, an),
        other => panic!("not a confirmed request: {other:?}"),
    }
}

#[rstest]
#[case::read_property(
    &[0x00, // Confirmed-Request, unsegmented
      0x05, // max segments unspecified, max APDU 1476
      0x01, // invoke id 1
      0x0c, // readProperty
      0x0c, 0x02, 0x00, 0x00, 0x7b, // [0] device,123
      0x19, 0x4d], // [1] object-name
    ConfirmedService::READ_PROPERTY,
    ConfirmedRequestBody::ReadProperty(prop(oid(ObjectType::DEVICE, 123), PropertyId::OBJECT_NAME, None)))]
#[case::read_property_array_element(
    &[0x00, 0x05, 0x02, 0x0c,
      0x0c, 0x02, 0x00, 0x00, 0x7b, // [0] device,123
      0x19, 0x4c, // [1] object-list
      0x29, 0x00], // [2] array index 0
    ConfirmedService::READ_PROPERTY,
    ConfirmedRequestBody::ReadProperty(prop(oid(ObjectType::DEVICE, 123), PropertyId::OBJECT_LIST, Some(0))))]
#[case::read_property_multiple(
    &[0x00, 0x05, 0x03, 0x0e, // readPropertyMultiple
      0x0c, 0x02, 0x00, 0x00, 0x7b, // [0] device,123
      0x1e, // [1] opening: list of property references
      0x09, 0x46, // [0] model-name
      0x09, 0x2c, // [0] firmware-revision
      0x1f], // [1] closing
    ConfirmedService::READ_PROPERTY_MULTIPLE,
    ConfirmedRequestBody::ReadPropertyMultiple(vec![
        prop(oid(ObjectType::DEVICE, 123), PropertyId::MODEL_NAME, None),
        prop(oid(ObjectType::DEVICE, 123), PropertyId::FIRMWARE_REVISION, None),
    ]))]
#[case::write_property_with_priority(
    &[0x00, 0x04, 0x05, 0x0f, // writeProperty, invoke 5
      0x0c, 0x00, 0x40, 0x00, 0x01, // [0] analog-output,1
      0x19, 0x55, // [1] present-value
      0x3e, // [3] opening: value
      0x44, 0x42, 0xc8, 0x00, 0x00, // app tag 4 (real): 100.0
      0x3f, // [3] closing
      0x49, 0x08], // [4] priority 8
    ConfirmedService::WRITE_PROPERTY,
    ConfirmedRequestBody::WriteProperty(PropertyWrite {
        target: prop(oid(ObjectType::ANALOG_OUTPUT, 1), PropertyId::PRESENT_VALUE, None),
        value: &[0x44, 0x42, 0xc8, 0x00, 0x00],
        priority: Some(8),
    }))]
#[case::write_property_multiple(
    &[0x00, 0x05, 0x02, 0x10, // writePropertyMultiple
      0x0c, 0x01, 0x00, 0x00, 0x03, // [0] binary-output,3
      0x1e, // [1] opening: list of properties
      0x09, 0x55, // [0] present-value
      0x2e, 0x91, 0x01, 0x2f, // [2] value: enumerated 1 (active)
      0x39, 0x10, // [3] priority 16
      0x09, 0x51, // [0] out-of-service
      0x2e, 0x11, 0x2f, // [2] value: boolean true
      0x1f], // [1] closing
    ConfirmedService::WRITE_PROPERTY_MULTIPLE,
    ConfirmedRequestBody::WritePropertyMultiple(vec![
        PropertyWrite {
            target: prop(oid(ObjectType::BINARY_OUTPUT, 3), PropertyId::PRESENT_VALUE, None),
            value: &[0x91, 0x01],
            priority: Some(16),
        },
        PropertyWrite {
            target: prop(oid(ObjectType::BINARY_OUTPUT, 3), PropertyId::OUT_OF_SERVICE, None),
            value: &[0x11],
            priority: None,
        },
    ]))]
#[case::reinitialize_warmstart(
    &[0x00, 0x05, 0x04, 0x14, // reinitializeDevice
      0x09, 0x01], // [0] warmstart
    ConfirmedService::REINITIALIZE_DEVICE,
    ConfirmedRequestBody::ReinitializeDevice(ReinitializeDevice { state: ReinitState::WARMSTART, password: None }))]
#[case::atomic_read_file_records(
    &[0x00, 0x05, 0x07, 0x06, // atomicReadFile
      0xc4, 0x02, 0x80, 0x00, 0x01, // app object id: file,1
      0x1e, // [1] opening: record access
      0x31, 0x05, // app signed: start record 5
      0x21, 0x0a, // app unsigned: 10 records
      0x1f], // [1] closing
    ConfirmedService::ATOMIC_READ_FILE,
    ConfirmedRequestBody::AtomicReadFile(AtomicReadFile {
        file: oid(ObjectType::FILE, 1),
        access: FileAccess::Record { start: 5, count: 10 },
    }))]
#[case::atomic_write_file_stream(
    &[0x00, 0x05, 0x06, 0x07, // atomicWriteFile
      0xc4, 0x02, 0x80, 0x00, 0x01, // file,1
      0x0e, // [0] opening: stream access
      0x31, 0x00, // start position 0
      0x64, 0xde, 0xad, 0xbe, 0xef, // app octet string, 4 octets
      0x0f], // [0] closing
    ConfirmedService::ATOMIC_WRITE_FILE,
    ConfirmedRequestBody::AtomicWriteFile(AtomicWriteFile {
        file: oid(ObjectType::FILE, 1),
        access: FileAccess::Stream { start: 0, count: 4 },
        data: &[0xde, 0xad, 0xbe, 0xef],
    }))]
#[case::atomic_write_file_records(
    &[0x00, 0x05, 0x06, 0x07, // atomicWriteFile
      0xc4, 0x02, 0x80, 0x00, 0x02, // file,2
      0x1e, // [1] opening: record access
      0x31, 0xff, // start record -1 (append)
      0x21, 0x02, // 2 records
      0x62, 0x61, 0x62, // record "ab"
      0x61, 0x63, // record "c"
      0x1f], // [1] closing
    ConfirmedService::ATOMIC_WRITE_FILE,
    ConfirmedRequestBody::AtomicWriteFile(AtomicWriteFile {
        file: oid(ObjectType::FILE, 2),
        access: FileAccess::Record { start: -1, count: 2 },
        data: b"ab",
    }))]
#[case::confirmed_private_transfer(
    &[0x00, 0x05, 0x08, 0x12, // confirmedPrivateTransfer
      0x09, 0x18, // [0] vendor 24
      0x19, 0x01, // [1] service number 1
      0x2e, 0x21, 0x07, 0x2f], // [2] parameters: unsigned 7
    ConfirmedService::CONFIRMED_PRIVATE_TRANSFER,
    ConfirmedRequestBody::ConfirmedPrivateTransfer(PrivateTransfer {
        vendor_id: 24, service_number: 1, parameters: Some(&[0x21, 0x07]),
    }))]
#[case::create_object_by_type(
    &[0x00, 0x05, 0x0a, 0x0a, // createObject
      0x0e, // [0] opening: object specifier
      0x09, 0x02, // [0] object type analog-value
      0x0f], // [0] closing
    ConfirmedService::CREATE_OBJECT,
    ConfirmedRequestBody::CreateObject(CreateObject::Type(ObjectType::ANALOG_VALUE)))]
#[case::create_object_by_id_with_values(
    &[0x00, 0x05, 0x0a, 0x0a,
      0x0e, 0x1c, 0x00, 0x80, 0x00, 0x09, 0x0f, // [0] { [1] analog-value,9 }
      0x1e, 0x09, 0x4d, 0x2e, 0x73, 0x00, 0x41, 0x42, 0x2f, 0x1f], // [1] { name "AB" }
    ConfirmedService::CREATE_OBJECT,
    ConfirmedRequestBody::CreateObject(CreateObject::Id(oid(ObjectType::ANALOG_VALUE, 9))))]
#[case::delete_object(
    &[0x00, 0x05, 0x0b, 0x0b, // deleteObject
      0xc4, 0x00, 0x80, 0x00, 0x07], // app object id: analog-value,7
    ConfirmedService::DELETE_OBJECT,
    ConfirmedRequestBody::DeleteObject(oid(ObjectType::ANALOG_VALUE, 7)))]
#[case::subscribe_cov(
    &[0x00, 0x05, 0x0c, 0x05, // subscribeCOV
      0x09, 0x12, // [0] process id 18
      0x1c, 0x00, 0x00, 0x00, 0x01, // [1] analog-input,1
      0x29, 0x01, // [2] issue confirmed notifications: true
      0x39, 0x3c], // [3] lifetime 60 s
    ConfirmedService::SUBSCRIBE_COV,
    ConfirmedRequestBody::SubscribeCov { process_id: 18, object: oid(ObjectType::ANALOG_INPUT, 1) })]
#[case::add_list_element(
    &[0x00, 0x05, 0x0d, 0x08, // addListElement
      0x0c, 0x02, 0x00, 0x00, 0x7b, // [0] device,123
      0x19, 0x1e, // [1] device-address-binding
      0x3e, 0x21, 0x01, 0x3f], // [3] { unsigned 1 }
    ConfirmedService::ADD_LIST_ELEMENT,
    ConfirmedRequestBody::ListElement(prop(oid(ObjectType::DEVICE, 123), PropertyId::DEVICE_ADDRESS_BINDING, None)))]
#[case::read_range(
    &[0x00, 0x05, 0x0e, 0x1a, // readRange
      0x0c, 0x05, 0x00, 0x00, 0x01, // [0] trend-log,1
      0x19, 0x83, // [1] log-buffer (131)
      0x3e, 0x21, 0x01, 0x31, 0x0a, 0x3f], // [3] by position: index 1, count 10
    ConfirmedService::READ_RANGE,
    ConfirmedRequestBody::ReadRange(prop(oid(ObjectType::TREND_LOG, 1), PropertyId(131), None)))]
#[case::life_safety_operation(
    &[0x00, 0x05, 0x09, 0x1b, // lifeSafetyOperation
      0x09, 0x01, // [0] process id 1
      0x1c, 0x00, 0x6f, 0x70, 0x73, // [1] source "ops"
      0x29, 0x04, // [2] operation 4: reset
      0x3c, 0x05, 0x40, 0x00, 0x02], // [3] life-safety-point,2
    ConfirmedService::LIFE_SAFETY_OPERATION,
    ConfirmedRequestBody::LifeSafetyOperation(LifeSafetyOperation {
        process_id: 1,
        source: CharacterString { charset: tag::CharacterSet::UTF8, code_page: None, bytes: b"ops" },
        operation: 4,
        object: Some(oid(ObjectType::LIFE_SAFETY_POINT, 2)),
    }))]
#[case::not_decoded_service(
    &[0x00, 0x05, 0x0f, 0x1d, // getEventInformation
      0x0c, 0x00, 0x00, 0x00, 0x01],
    ConfirmedService::GET_EVENT_INFORMATION,
    ConfirmedRequestBody::Other(&[0x0c, 0x00, 0x00, 0x00, 0x01]))]
fn confirmed_request_services(
    #[case] input: &[u8],
    #[case] service: ConfirmedService,
    #[case] body: ConfirmedRequestBody<'_>,
) {
    let (r, an) = confirmed(input);
    assert!(an.is_empty(), "{an}");
    assert_eq!(r.service, service);
    assert_eq!(r.body, body);
    assert_eq!(r.max_apdu.octets(), if input[1] & 0x0f == 5 { Some(1476) } else { Some(1024) });
    assert!(!r.segmented);
}

#[test]
fn device_communication_control_reveals_state_duration_and_password() {
    let input = [
        0x00, 0x05, 0x03, 0x11, // Confirmed-Request, invoke 3, deviceCommunicationControl
        0x09, 0x3c, // [0] time duration 60 minutes
        0x19, 0x01, // [1] enable-disable: disable
        0x2d, 0x09, // [2] password, extended length 9
        0x00, b'p', b'a', b's', b's', b'w', b'o', b'r', b'd', // UTF-8 "password"
    ];
    let (r, an) = confirmed(&input);
    assert!(an.is_empty(), "{an}");
    assert!(r.service.is_device_control());
    let ConfirmedRequestBody::DeviceCommunicationControl(d) = r.body else { panic!() };
    assert_eq!(d.duration_minutes, Some(60));
    assert_eq!(d.state, EnableDisable::DISABLE);
    assert_eq!(d.state.name(), "disable");
    assert_eq!(d.password.as_ref().map(text).as_deref(), Some("password"));
}

#[test]
fn reinitialize_device_reveals_state_and_password() {
    let input = [
        0x00, 0x05, 0x04, 0x14, // reinitializeDevice
        0x09, 0x00, // [0] coldstart
        0x1d, 0x07, // [1] password, extended length 7
        0x00, b's', b'e', b'c', b'r', b'e', b't', // UTF-8 "secret"
    ];
    let (r, an) = confirmed(&input);
    assert!(an.is_empty(), "{an}");
    let ConfirmedRequestBody::ReinitializeDevice(d) = r.body else { panic!() };
    assert_eq!(d.state, ReinitState::COLDSTART);
    assert_eq!(d.password.as_ref().map(text).as_deref(), Some("secret"));
}

#[test]
fn write_property_value_decodes_as_real() {
    let (r, _) = confirmed(&[
        0x00, 0x04, 0x05, 0x0f, 0x0c, 0x00, 0x40, 0x00, 0x01, 0x19, 0x55, 0x3e, 0x44, 0x42, 0xc8,
        0x00, 0x00, 0x3f, 0x49, 0x08,
    ]);
    assert!(r.service.is_write());
    let ConfirmedRequestBody::WriteProperty(w) = r.body else { panic!() };
    assert_eq!(w.first_value(), Some(Value::Real(100.0)));
}

#[test]
fn segmented_request_keeps_its_segment_raw() {
    let input = [
        0x0e, // Confirmed-Request, segmented, more follows, segmented response accepted
        0x75, // max segments: more than 64, max APDU 1476
        0x10, // invoke id 16
        0x00, // sequence number 0
        0x04, // proposed window size 4
        0x10, // writePropertyMultiple
        0x0c, 0x00, // first octets of the service data
    ];
    let (r, an) = confirmed(&input);
    assert!(an.is_empty(), "{an}");
    assert!(r.segmented && r.more_follows && r.segmented_response_accepted);
    assert_eq!(r.max_segments, MaxSegments::MORE_THAN_SIXTY_FOUR);
    assert_eq!(r.segment, Some(SegmentHeader { sequence_number: 0, proposed_window_size: 4 }));
    assert_eq!(r.body, ConfirmedRequestBody::Segment(&[0x0c, 0x00]));
}

#[rstest]
#[case::unknown_service(
    &[0x00, 0x05, 0x01, 0x2a], // service choice 42 is not defined
    Anomalies::UNKNOWN_SERVICE)]
#[case::reserved_header_bit(
    &[0x01, 0x05, 0x01, 0x0c, 0x0c, 0x02, 0x00, 0x00, 0x7b, 0x19, 0x4d], // bit 0 of octet 0 set
    Anomalies::APDU_RESERVED_BITS)]
#[case::reserved_limits_bit(
    &[0x00, 0x85, 0x01, 0x0c, 0x0c, 0x02, 0x00, 0x00, 0x7b, 0x19, 0x4d], // bit 7 of octet 1 set
    Anomalies::APDU_RESERVED_BITS)]
#[case::reserved_max_apdu(
    &[0x00, 0x07, 0x01, 0x0c, 0x0c, 0x02, 0x00, 0x00, 0x7b, 0x19, 0x4d], // max APDU code 7
    Anomalies::APDU_INVALID_MAX_APDU)]
#[case::more_follows_unsegmented(
    &[0x04, 0x05, 0x01, 0x0c, 0x0c, 0x02, 0x00, 0x00, 0x7b, 0x19, 0x4d], // MOR without SEG
    Anomalies::SEGMENTATION_ERROR)]
#[case::window_size_zero(
    &[0x0c, 0x05, 0x01, 0x00, 0x00, 0x0c], // segmented, window size 0
    Anomalies::SEGMENTATION_ERROR)]
#[case::missing_property(
    &[0x00, 0x05, 0x01, 0x0c, 0x0c, 0x02, 0x00, 0x00, 0x7b], // readProperty without [1]
    Anomalies::SERVICE_MALFORMED)]
#[case::object_id_cut_short(
    &[0x00, 0x05, 0x01, 0x0c, 0x0c, 0x02, 0x00], // [0] says 4 octets, 2 follow
    Anomalies::SERVICE_MALFORMED)]
#[case::value_never_closed(
    &[0x00, 0x04, 0x05, 0x0f, 0x0c, 0x00, 0x40, 0x00, 0x01, 0x19, 0x55, 0x3e, 0x44, 0x42, 0xc8, 0x00, 0x00],
    Anomalies::SERVICE_MALFORMED)]
#[case::value_closed_by_wrong_tag(
    &[0x00, 0x04, 0x05, 0x0f, 0x0c, 0x00, 0x40, 0x00, 0x01, 0x19, 0x55, 0x3e, 0x21, 0x01, 0x4f],
    Anomalies::SERVICE_MALFORMED)]
#[case::trailing_octet(
    &[0x00, 0x05, 0x01, 0x0c, 0x0c, 0x02, 0x00, 0x00, 0x7b, 0x19, 0x4d, 0x00], // extra Null
    Anomalies::SERVICE_TRAILING_DATA)]
#[case::priority_17(
    &[0x00, 0x04, 0x05, 0x0f, 0x0c, 0x00, 0x40, 0x00, 0x01, 0x19, 0x55, 0x3e, 0x00, 0x3f, 0x49, 0x11],
    Anomalies::INVALID_PARAMETER)]
#[case::reinitialize_state_9(&[0x00, 0x05, 0x04, 0x14, 0x09, 0x09], Anomalies::INVALID_PARAMETER)]
#[case::dcc_state_5(&[0x00, 0x05, 0x03, 0x11, 0x19, 0x05], Anomalies::INVALID_PARAMETER)]
#[case::dcc_duration_above_u16(
    &[0x00, 0x05, 0x03, 0x11, 0x0b, 0x01, 0x00, 0x00, 0x19, 0x00], // [0] 65536 minutes
    Anomalies::INVALID_PARAMETER)]
#[case::password_too_long(
    &[0x00, 0x05, 0x04, 0x14, 0x09, 0x00, 0x1d, 0x16, 0x00, // [1] 21 characters
      b'a', b'a', b'a', b'a', b'a', b'a', b'a', b'a', b'a', b'a', b'a', b'a', b'a', b'a', b'a', b'a',
      b'a', b'a', b'a', b'a', b'a'],
    Anomalies::INVALID_PARAMETER)]
#[case::empty_read_property_multiple(&[0x00, 0x05, 0x01, 0x0e], Anomalies::SERVICE_MALFORMED)]
#[case::reserved_extended_tag(&[0x00, 0x05, 0x01, 0x0c, 0xf9, 0xff], Anomalies::SERVICE_MALFORMED)]
#[case::application_opening_tag(&[0x00, 0x05, 0x01, 0x0b, 0x06], Anomalies::SERVICE_MALFORMED)]
fn confirmed_request_anomalies(#[case] input: &[u8], #[case] flag: Anomalies) {
    let (r, an) = confirmed(input);
    assert!(an.contains(flag), "{an} lacks {flag}");
    if flag == Anomalies::SERVICE_MALFORMED {
        // Undecodable parameters are kept raw.
        assert_eq!(r.body, ConfirmedRequestBody::Other(r.data));
    }
}

#[test]
fn too_many_properties_are_capped_and_flagged() {
    // ReadPropertyMultiple on device,1 asking for present-value MAX_LIST_ITEMS + 1 times.
    let mut input = vec![0x00, 0x05, 0x01, 0x0e, 0x0c, 0x02, 0x00, 0x00, 0x01, 0x1e];
    for _ in 0..=MAX_LIST_ITEMS {
        input.extend_from_slice(&[0x09, 0x55]); // [0] present-value
    }
    input.push(0x1f);
    let (r, an) = confirmed(&input);
    assert!(an.contains(Anomalies::TOO_MANY_ITEMS));
    let ConfirmedRequestBody::ReadPropertyMultiple(refs) = r.body else { panic!() };
    assert_eq!(refs.len(), MAX_LIST_ITEMS);
}

#[test]
fn deeply_nested_values_are_malformed_not_recursed() {
    // WriteProperty whose value opens 40 nested constructed values.
    let mut input = vec![0x00, 0x04, 0x05, 0x0f, 0x0c, 0x00, 0x40, 0x00, 0x01, 0x19, 0x55, 0x3e];
    input.extend(std::iter::repeat_n(0x0e, 40)); // [0] opening, 40 times
    input.extend(std::iter::repeat_n(0x0f, 40)); // [0] closing, 40 times
    input.push(0x3f);
    let (r, an) = confirmed(&input);
    assert!(an.contains(Anomalies::SERVICE_MALFORMED));
    assert!(matches!(r.body, ConfirmedRequestBody::Other(_)));
}

// ------------------------------------------------------------------ unconfirmed requests

fn unconfirmed(input: &[u8]) -> (UnconfirmedRequest<'_>, Anomalies) {
    match apdu(input) {
        (Apdu::UnconfirmedRequest(r), an) => (r, an),
        other => panic!("not an unconfirmed request: {other:?}"),
    }
}

#[rstest]
#[case::who_is_range(
    &[0x10, 0x08, // Unconfirmed-Request, who-Is
      0x09, 0x01, // [0] low limit 1
      0x1a, 0x03, 0xe8], // [1] high limit 1000
    UnconfirmedRequestBody::WhoIs { range: Some((1, 1000)) })]
#[case::who_has_object(
    &[0x10, 0x07, // who-Has
      0x09, 0x00, 0x19, 0x0a, // [0] 0 .. [1] 10
      0x2c, 0x00, 0x00, 0x00, 0x05], // [2] analog-input,5
    UnconfirmedRequestBody::WhoHas(WhoHas { range: Some((0, 10)), object: WhoHasObject::Id(oid(ObjectType::ANALOG_INPUT, 5)) }))]
#[case::who_has_name(
    &[0x10, 0x07, // who-Has
      0x3d, 0x05, 0x00, b'Z', b'o', b'n', b'e'], // [3] name "Zone" (extended length 5)
    UnconfirmedRequestBody::WhoHas(WhoHas {
        range: None,
        object: WhoHasObject::Name(CharacterString { charset: tag::CharacterSet::UTF8, code_page: None, bytes: b"Zone" }),
    }))]
#[case::i_have(
    &[0x10, 0x01, // i-Have
      0xc4, 0x02, 0x00, 0x00, 0x7b, // device,123
      0xc4, 0x00, 0x00, 0x00, 0x01, // analog-input,1
      0x75, 0x05, 0x00, b'T', b'e', b'm', b'p'], // name "Temp"
    UnconfirmedRequestBody::IHave(IHave {
        device: oid(ObjectType::DEVICE, 123),
        object: oid(ObjectType::ANALOG_INPUT, 1),
        name: CharacterString { charset: tag::CharacterSet::UTF8, code_page: None, bytes: b"Temp" },
    }))]
#[case::time_synchronization(
    &[0x10, 0x06, // timeSynchronization
      0xa4, 0x7c, 0x05, 0x14, 0x01, // date: 2024-05-20, Monday
      0xb4, 0x0e, 0x1e, 0x00, 0x00], // time: 14:30:00.00
    UnconfirmedRequestBody::TimeSynchronization {
        date: Date { year_since_1900: 124, month: 5, day: 20, weekday: 1 },
        time: Time { hour: 14, minute: 30, second: 0, hundredths: 0 },
    })]
#[case::utc_time_synchronization(
    &[0x10, 0x09, // utcTimeSynchronization
      0xa4, 0xff, 0xff, 0xff, 0xff, // date: all unspecified
      0xb4, 0x00, 0x00, 0x00, 0x00], // time: midnight
    UnconfirmedRequestBody::TimeSynchronization {
        date: Date { year_since_1900: 255, month: 255, day: 255, weekday: 255 },
        time: Time { hour: 0, minute: 0, second: 0, hundredths: 0 },
    })]
#[case::unconfirmed_private_transfer(
    &[0x10, 0x04, // unconfirmedPrivateTransfer
      0x09, 0x18, 0x19, 0x02], // [0] vendor 24, [1] service 2
    UnconfirmedRequestBody::UnconfirmedPrivateTransfer(PrivateTransfer { vendor_id: 24, service_number: 2, parameters: None }))]
#[case::who_am_i(
    &[0x10, 0x0d, // who-Am-I
      0x22, 0x02, 0x2b, // vendor id 555
      0x75, 0x07, 0x00, b'L', b'M', b'C', b'P', b'2', b'4', // model name "LMCP24"
      0x75, 0x06, 0x00, b'1', b'2', b'3', b'4', b'5'], // serial number "12345"
    UnconfirmedRequestBody::WhoAmI(DeviceIdentity {
        vendor_id: 555,
        model_name: CharacterString { charset: tag::CharacterSet::UTF8, code_page: None, bytes: b"LMCP24" },
        serial_number: CharacterString { charset: tag::CharacterSet::UTF8, code_page: None, bytes: b"12345" },
    }))]
#[case::you_are(
    &[0x10, 0x0e, // you-Are
      0x22, 0x02, 0x2b, // vendor id 555
      0x73, 0x00, b'A', b'B', // model "AB"
      0x72, 0x00, b'7', // serial "7"
      0xc4, 0x02, 0x00, 0x00, 0x03, // device,3
      0x61, 0x2a], // MAC address 0x2a
    UnconfirmedRequestBody::YouAre {
        identity: DeviceIdentity {
            vendor_id: 555,
            model_name: CharacterString { charset: tag::CharacterSet::UTF8, code_page: None, bytes: b"AB" },
            serial_number: CharacterString { charset: tag::CharacterSet::UTF8, code_page: None, bytes: b"7" },
        },
        device: Some(oid(ObjectType::DEVICE, 3)),
        mac: Some(&[0x2a]),
    })]
#[case::not_decoded(
    &[0x10, 0x02, 0x09, 0x01], // unconfirmedCOVNotification
    UnconfirmedRequestBody::Other(&[0x09, 0x01]))]
fn unconfirmed_request_services(#[case] input: &[u8], #[case] body: UnconfirmedRequestBody<'_>) {
    let (r, an) = unconfirmed(input);
    assert!(an.is_empty(), "{an}");
    assert_eq!(r.body, body);
}

#[rstest]
#[case::i_am_vendor_above_u16(
    &[0x10, 0x00, 0xc4, 0x02, 0x00, 0x00, 0x7b, 0x22, 0x05, 0xc4, 0x91, 0x03,
      0x23, 0x01, 0x11, 0x70], // vendor id 70000
    Anomalies::INVALID_PARAMETER)]
#[case::i_am_not_a_device(
    &[0x10, 0x00, 0xc4, 0x00, 0x00, 0x00, 0x01, // analog-input,1
      0x22, 0x05, 0xc4, 0x91, 0x03, 0x21, 0x2a],
    Anomalies::INVALID_PARAMETER)]
#[case::i_am_bad_segmentation(
    &[0x10, 0x00, 0xc4, 0x02, 0x00, 0x00, 0x7b, 0x22, 0x05, 0xc4,
      0x91, 0x07, // segmentation 7
      0x21, 0x2a],
    Anomalies::INVALID_PARAMETER)]
#[case::i_am_missing_vendor(
    &[0x10, 0x00, 0xc4, 0x02, 0x00, 0x00, 0x7b, 0x22, 0x05, 0xc4, 0x91, 0x03],
    Anomalies::SERVICE_MALFORMED)]
#[case::who_is_low_limit_only(&[0x10, 0x08, 0x09, 0x01], Anomalies::SERVICE_MALFORMED)]
#[case::who_is_limit_above_instance_range(
    &[0x10, 0x08, 0x09, 0x00, 0x1b, 0x40, 0x00, 0x00], // high limit 4194304
    Anomalies::INVALID_PARAMETER)]
#[case::reserved_bits(&[0x11, 0x08], Anomalies::APDU_RESERVED_BITS)]
#[case::unknown_service(&[0x10, 0x20], Anomalies::UNKNOWN_SERVICE)]
#[case::who_has_name_in_unknown_charset(
    &[0x10, 0x07, 0x3b, 0x09, b'Z', b'o'], // [3] name with character set 9
    Anomalies::UNKNOWN_CHARACTER_SET)]
#[case::time_sync_without_time(&[0x10, 0x06, 0xa4, 0x7c, 0x05, 0x14, 0x01], Anomalies::SERVICE_MALFORMED)]
fn unconfirmed_request_anomalies(#[case] input: &[u8], #[case] flag: Anomalies) {
    let (_, an) = unconfirmed(input);
    assert!(an.contains(flag), "{an} lacks {flag}");
}

// ------------------------------------------------------------------ responses

#[test]
fn read_property_ack_carries_the_model_name() {
    let input = [
        0x30, // Complex-ACK, unsegmented
        0x01, // invoke id 1
        0x0c, // readProperty
        0x0c, 0x02, 0x00, 0x00, 0x7b, // [0] device,123
        0x19, 0x46, // [1] model-name
        0x3e, // [3] opening
        0x75, 0x07, 0x00, b'M', b'o', b'd', b'e', b'l', b'1', // "Model1"
        0x3f, // [3] closing
    ];
    let (a, an) = apdu(&input);
    assert!(an.is_empty(), "{an}");
    assert_eq!(a.pdu_type(), PduType::COMPLEX_ACK);
    assert_eq!(a.confirmed_service(), Some(ConfirmedService::READ_PROPERTY));
    assert_eq!(a.invoke_id(), Some(1));
    let values = a.read_values();
    assert_eq!(values.len(), 1);
    assert!(values[0].0.property.is_identification());
    let Apdu::ComplexAck(ack) = a else { panic!() };
    let ComplexAckBody::ReadProperty(v) = ack.body else { panic!() };
    assert_eq!(v.target, prop(oid(ObjectType::DEVICE, 123), PropertyId::MODEL_NAME, None));
    assert!(v.target.property.is_identification());
    assert_eq!(v.first_value().and_then(|v| v.as_text()).as_deref(), Some("Model1"));
}

#[test]
fn read_property_multiple_ack_mixes_values_and_errors() {
    let input = [
        0x30, 0x02, 0x0e, // Complex-ACK, invoke 2, readPropertyMultiple
        0x0c, 0x02, 0x00, 0x00, 0x7b, // [0] device,123
        0x1e, // [1] opening: results
        0x29, 0x79, // [2] vendor-name
        0x4e, 0x75, 0x05, 0x00, b'A', b'c', b'm', b'e', 0x4f, // [4] "Acme"
        0x29, 0x2c, // [2] firmware-revision
        0x5e, 0x91, 0x02, 0x91, 0x20, 0x5f, // [5] error: property / unknown-property
        0x1f, // [1] closing
    ];
    let (a, an) = apdu(&input);
    assert!(an.is_empty(), "{an}");
    let error = BacnetError { class: ErrorClass::PROPERTY, code: ErrorCode::UNKNOWN_PROPERTY };
    assert_eq!(a.first_error(), Some(error));
    let values = a.read_values();
    assert_eq!(values.len(), 1);
    assert_eq!(values[0].0.property, PropertyId::VENDOR_NAME);
    assert_eq!(values[0].1.as_text().as_deref(), Some("Acme"));
    let Apdu::ComplexAck(ack) = a else { panic!() };
    let ComplexAckBody::ReadPropertyMultiple(rpm) = ack.body else { panic!() };
    assert_eq!(rpm.results.len(), 2);
    assert_eq!(rpm.results[0].target.property, PropertyId::VENDOR_NAME);
    assert_eq!(rpm.results[0].first_value().and_then(|v| v.as_text()).as_deref(), Some("Acme"));
    assert_eq!(rpm.results[1].value, Err(error));
    assert_eq!(rpm.results[1].first_value(), None);
}

#[test]
fn atomic_read_file_ack_returns_the_data() {
    let input = [
        0x30, 0x05, 0x06, // Complex-ACK, invoke 5, atomicReadFile
        0x11, // app boolean: end of file true
        0x0e, // [0] opening: stream access
        0x31, 0x00, // start position 0
        0x64, 0xde, 0xad, 0xbe, 0xef, // 4 octets of data
        0x0f, // [0] closing
    ];
    let (Apdu::ComplexAck(ack), an) = apdu(&input) else { panic!() };
    assert!(an.is_empty(), "{an}");
    assert_eq!(
        ack.body,
        ComplexAckBody::AtomicReadFile {
            end_of_file: true,
            access: FileAccess::Stream { start: 0, count: 4 },
            data: &[0xde, 0xad, 0xbe, 0xef],
        }
    );
}

#[test]
fn segmented_complex_ack_keeps_its_segment_raw() {
    let input = [
        0x3c, // Complex-ACK, segmented, more follows
        0x02, // invoke id 2
        0x00, // sequence number 0
        0x04, // proposed window size 4
        0x0e, // readPropertyMultiple
        0x0c, 0x02, // first octets of the service data
    ];
    let (Apdu::ComplexAck(ack), an) = apdu(&input) else { panic!() };
    assert!(an.is_empty(), "{an}");
    assert_eq!(ack.segment, Some(SegmentHeader { sequence_number: 0, proposed_window_size: 4 }));
    assert_eq!(ack.body, ComplexAckBody::Segment(&[0x0c, 0x02]));
}

#[rstest]
#[case::simple_ack(
    &[0x20, // Simple-ACK
      0x07, // invoke id 7
      0x0f], // writeProperty
    Apdu::SimpleAck { invoke_id: 7, service: ConfirmedService::WRITE_PROPERTY })]
#[case::segment_ack(
    &[0x43, // Segment-ACK, negative, from server
      0x02, // invoke id 2
      0x03, // sequence number 3
      0x04], // actual window size 4
    Apdu::SegmentAck { negative: true, from_server: true, invoke_id: 2, sequence_number: 3, actual_window_size: 4 })]
#[case::error(
    &[0x50, // Error
      0x03, // invoke id 3
      0x0c, // readProperty
      0x91, 0x02, // app enumerated: class property
      0x91, 0x20], // app enumerated: code unknown-property (32)
    Apdu::Error(ErrorPdu {
        invoke_id: 3,
        service: ConfirmedService::READ_PROPERTY,
        error: Some(BacnetError { class: ErrorClass::PROPERTY, code: ErrorCode::UNKNOWN_PROPERTY }),
        data: &[0x91, 0x02, 0x91, 0x20],
    }))]
#[case::structured_error(
    &[0x50, 0x04, 0x10, // Error, invoke 4, writePropertyMultiple
      0x0e, 0x91, 0x02, 0x91, 0x28, 0x0f, // [0] error type: property / write-access-denied
      0x1e, 0x0c, 0x01, 0x00, 0x00, 0x03, 0x19, 0x55, 0x1f], // [1] first failed write
    Apdu::Error(ErrorPdu {
        invoke_id: 4,
        service: ConfirmedService::WRITE_PROPERTY_MULTIPLE,
        error: Some(BacnetError { class: ErrorClass::PROPERTY, code: ErrorCode::WRITE_ACCESS_DENIED }),
        data: &[0x0e, 0x91, 0x02, 0x91, 0x28, 0x0f, 0x1e, 0x0c, 0x01, 0x00, 0x00, 0x03, 0x19, 0x55, 0x1f],
    }))]
#[case::password_failure(
    &[0x50, 0x09, 0x14, // Error, invoke 9, reinitializeDevice
      0x91, 0x05, 0x91, 0x1a], // services / password-failure
    Apdu::Error(ErrorPdu {
        invoke_id: 9,
        service: ConfirmedService::REINITIALIZE_DEVICE,
        error: Some(BacnetError { class: ErrorClass::SERVICES, code: ErrorCode::PASSWORD_FAILURE }),
        data: &[0x91, 0x05, 0x91, 0x1a],
    }))]
#[case::reject(
    &[0x60, // Reject
      0x05, // invoke id 5
      0x09], // unrecognized-service
    Apdu::Reject { invoke_id: 5, reason: RejectReason::UNRECOGNIZED_SERVICE })]
#[case::abort(
    &[0x71, // Abort, from server
      0x06, // invoke id 6
      0x04], // segmentation-not-supported
    Apdu::Abort { from_server: true, invoke_id: 6, reason: AbortReason::SEGMENTATION_NOT_SUPPORTED })]
#[case::abort_proprietary_reason(
    &[0x70, 0x06, 0x80], // Abort from client, proprietary reason 128
    Apdu::Abort { from_server: false, invoke_id: 6, reason: AbortReason(128) })]
fn response_pdus(#[case] input: &[u8], #[case] expected: Apdu<'_>) {
    let (a, an) = apdu(input);
    assert!(an.is_empty(), "{an}");
    assert_eq!(a, expected);
}

#[rstest]
#[case::reserved_pdu_type(&[0x90, 0x00], Anomalies::APDU_RESERVED_TYPE)]
#[case::truncated_confirmed(&[0x00, 0x05], Anomalies::APDU_TRUNCATED)]
#[case::truncated_simple_ack(&[0x20, 0x01], Anomalies::APDU_TRUNCATED)]
#[case::truncated_segmented_ack(&[0x38, 0x01, 0x00], Anomalies::APDU_TRUNCATED)]
#[case::empty(&[], Anomalies::APDU_TRUNCATED)]
#[case::abort_reserved_bits(&[0x72, 0x01, 0x00], Anomalies::APDU_RESERVED_BITS)]
#[case::segment_ack_window_zero(&[0x40, 0x01, 0x00, 0x00], Anomalies::SEGMENTATION_ERROR)]
#[case::reject_with_trailing(&[0x60, 0x01, 0x00, 0x00], Anomalies::SERVICE_TRAILING_DATA)]
#[case::error_without_code(&[0x50, 0x01, 0x0c, 0x91, 0x02], Anomalies::SERVICE_MALFORMED)]
#[case::rpm_ack_bad_result(
    &[0x30, 0x02, 0x0e, 0x0c, 0x02, 0x00, 0x00, 0x7b, 0x1e, 0x29, 0x79, 0x1f],
    Anomalies::SERVICE_MALFORMED)]
fn apdu_anomalies(#[case] input: &[u8], #[case] flag: Anomalies) {
    let (_, an) = apdu(input);
    assert!(an.contains(flag), "{an} lacks {flag}");
}

#[test]
fn truncated_apdu_keeps_its_type() {
    let (a, _) = apdu(&[0x30, 0x01]);
    assert_eq!(a, Apdu::Truncated { pdu_type: PduType::COMPLEX_ACK, data: &[0x30, 0x01] });
    assert_eq!(a.pdu_type().name(), "Complex-ACK");
    assert_eq!(a.invoke_id(), None);
}

// ------------------------------------------------------------------ tags and values

fn one_tag(input: &[u8]) -> Result<Tag<'_>, DecodeError> {
    tag::read_tag(&mut Reader::new(input))
}

#[rstest]
#[case::context_primitive(&[0x19, 0x4d], 1, TagClass::Context, TagContent::Data(&[0x4d]))]
#[case::opening(&[0x3e], 3, TagClass::Context, TagContent::Opening)]
#[case::closing(&[0x3f], 3, TagClass::Context, TagContent::Closing)]
#[case::boolean_true(&[0x11], 1, TagClass::Application, TagContent::Boolean(true))]
#[case::boolean_false(&[0x10], 1, TagClass::Application, TagContent::Boolean(false))]
#[case::context_one_is_not_boolean(&[0x19, 0x05], 1, TagClass::Context, TagContent::Data(&[0x05]))]
#[case::extended_tag_number(
    &[0xf9, // tag number 15 (extended), context, length 1
      0x14, // tag number 20
      0x05], // data
    20, TagClass::Context, TagContent::Data(&[0x05]))]
#[case::extended_length_u8(
    &[0x65, // app tag 6 (octet string), length 5 (extended)
      0x06, // length 6
      1, 2, 3, 4, 5, 6],
    6, TagClass::Application, TagContent::Data(&[1, 2, 3, 4, 5, 6]))]
#[case::extended_length_u32(
    &[0x65, 0xff, // extended length, 4-octet form
      0x00, 0x00, 0x00, 0x03, // length 3
      0xaa, 0xbb, 0xcc],
    6, TagClass::Application, TagContent::Data(&[0xaa, 0xbb, 0xcc]))]
#[case::extended_opening(&[0xfe, 0x21], 33, TagClass::Context, TagContent::Opening)]
fn tags_decode(
    #[case] input: &[u8],
    #[case] number: u8,
    #[case] class: TagClass,
    #[case] content: TagContent<'_>,
) {
    assert_eq!(one_tag(input), Ok(Tag { number, class, content }));
}

#[test]
fn extended_length_u16_form() {
    let mut input = vec![0x65, 0xfe, 0x01, 0x00]; // octet string, 2-octet length 256
    input.extend(std::iter::repeat_n(0x42, 256));
    let t = one_tag(&input).unwrap();
    assert_eq!(t.content, TagContent::Data(&input[4..]));
}

#[rstest]
#[case::reserved_tag_number(&[0xf9, 0xff, 0x00], "bacnet: reserved extended tag number 255")]
#[case::application_opening(&[0x06], "bacnet: opening/closing application tag")]
#[case::application_closing(&[0x27], "bacnet: opening/closing application tag")]
fn bad_tags_are_malformed(#[case] input: &[u8], #[case] why: &'static str) {
    assert_eq!(one_tag(input), Err(DecodeError::Malformed(why)));
}

#[rstest]
#[case::length_beyond_data(&[0x64, 0xaa])]
#[case::missing_extended_length(&[0x65])]
#[case::missing_extended_number(&[0xf8])]
#[case::u32_length_cut(&[0x65, 0xff, 0x00, 0x00])]
#[case::huge_length(&[0x65, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00])]
fn short_tags_are_incomplete(#[case] input: &[u8]) {
    assert!(matches!(one_tag(input), Err(DecodeError::Incomplete { .. })));
}

#[rstest]
#[case::null(&[0x00], Value::Null)]
#[case::unsigned_4(&[0x24, 0x01, 0x02, 0x03, 0x04], Value::Unsigned(0x0102_0304))]
#[case::signed_minus_one(&[0x31, 0xff], Value::Signed(-1))]
#[case::signed_minus_129(&[0x32, 0xff, 0x7f], Value::Signed(-129))]
#[case::signed_positive(&[0x32, 0x01, 0x00], Value::Signed(256))]
#[case::real(&[0x44, 0x3f, 0x80, 0x00, 0x00], Value::Real(1.0))]
#[case::double(&[0x55, 0x08, 0x40, 0x00, 0, 0, 0, 0, 0, 0], Value::Double(2.0))]
#[case::enumerated(&[0x91, 0x03], Value::Enumerated(3))]
#[case::bit_string(
    &[0x82, // app tag 8, length 2
      0x04, // 4 unused bits
      0xa0], // bits 1010
    Value::BitString(tag::BitString { unused_bits: 4, bytes: &[0xa0] }))]
#[case::date(&[0xa4, 0x7c, 0x0c, 0x1f, 0x02], Value::Date(Date { year_since_1900: 124, month: 12, day: 31, weekday: 2 }))]
#[case::time(&[0xb4, 0x17, 0x3b, 0x3b, 0x63], Value::Time(Time { hour: 23, minute: 59, second: 59, hundredths: 99 }))]
#[case::object_id(&[0xc4, 0x02, 0x3f, 0xff, 0xff], Value::ObjectId(oid(ObjectType::DEVICE, ObjectId::WILDCARD_INSTANCE)))]
#[case::reserved_application_tag(&[0xd1, 0x00], Value::Raw { tag: 13, data: &[0x00] })]
fn application_values(#[case] input: &[u8], #[case] value: Value<'_>) {
    assert_eq!(tag::first_value(input), Some(value));
}

#[rstest]
#[case::null_with_data(&[0x01, 0x00])]
#[case::unsigned_empty(&[0x20])]
#[case::unsigned_nine_octets(&[0x25, 0x09, 1, 2, 3, 4, 5, 6, 7, 8, 9])]
#[case::real_of_three(&[0x43, 0, 0, 0])]
#[case::object_id_of_three(&[0xc3, 0, 0, 0])]
#[case::context_tag(&[0x09, 0x01])]
#[case::opening_tag(&[0x0e])]
fn undecodable_values(#[case] input: &[u8]) {
    assert_eq!(tag::first_value(input), None);
}

#[rstest]
#[case::utf8(&[0x00, 0xc3, 0xa9, b't', 0xc3, 0xa9], "été")]
#[case::iso_8859_1(&[0x05, 0xe9, b't', 0xe9], "été")]
#[case::ucs2(&[0x04, 0x00, b'H', 0x00, b'i'], "Hi")]
#[case::ucs4(&[0x03, 0x00, 0x00, 0x00, b'O', 0x00, 0x01, 0xf6, 0x00], "O\u{1f600}")]
#[case::dbcs_code_page(&[0x01, 0x03, 0xa4, b'o', b'k'], "ok")]
#[case::bad_utf8(&[0x00, 0xff, b'x'], "\u{fffd}x")]
fn character_strings(#[case] data: &[u8], #[case] expected: &str) {
    let s = CharacterString::decode(data).unwrap();
    assert_eq!(s.to_string_lossy(), expected);
}

#[test]
fn dbcs_strings_carry_their_code_page() {
    let s = CharacterString::decode(&[0x01, 0x03, 0xa4, b'o', b'k']).unwrap();
    assert_eq!(s.code_page, Some(932));
    assert_eq!(s.charset.name(), "IBM/Microsoft DBCS");
    assert!(matches!(CharacterString::decode(&[0x01, 0x03]), Err(DecodeError::Incomplete { .. })));
}

#[test]
fn object_ids_round_trip_their_raw_form() {
    let id = ObjectId::from_raw(0x0200_007b);
    assert_eq!(id, oid(ObjectType::DEVICE, 123));
    assert_eq!(id.to_raw(), 0x0200_007b);
    assert_eq!(id.to_string(), "device,123");
    assert_eq!(ObjectId::from_raw(u32::MAX).object_type, ObjectType(1023));
    assert_eq!(ObjectType(1023).name(), "proprietary");
}

// ------------------------------------------------------------------ names

#[test]
fn wire_enums_name_known_and_unknown_values() {
    assert_eq!(BvlcFunction::FORWARDED_NPDU.name(), "Forwarded-NPDU");
    assert_eq!(BvlcFunction(0x0d).name(), "reserved");
    assert_eq!(ConfirmedService::REINITIALIZE_DEVICE.name(), "reinitializeDevice");
    assert_eq!(UnconfirmedService::I_AM.name(), "i-Am");
    assert_eq!(format!("{:?}", UnconfirmedService(99)), "unknown(99)");
    assert_eq!(RejectReason(70).name(), "proprietary");
    assert_eq!(RejectReason(20).name(), "reserved");
    assert_eq!(ErrorCode(300).name(), "proprietary");
    assert_eq!(ErrorCode(26).name(), "password-failure");
    assert_eq!(NetworkMessageType(0x85).name(), "Proprietary");
    assert_eq!(PropertyId(1000).name(), "proprietary");
    assert_eq!(MaxApdu(9).octets(), None);
    assert!(!PduType(8).is_known());
}

#[test]
fn anomaly_names_are_stable_and_unique() {
    let names: Vec<_> = Anomalies::ALL.iter().map(|(_, n)| *n).collect();
    let mut sorted = names.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted.len(), names.len());
    assert!(names.iter().all(|n| n.starts_with("bacnet.") && !n.contains(' ')));
    let set = Anomalies::NPDU_MALFORMED | Anomalies::SERVICE_MALFORMED;
    assert_eq!(set.to_string(), "bacnet.npdu_malformed,bacnet.service_malformed");
    assert_eq!(format!("{set:?}"), r#"{"bacnet.npdu_malformed", "bacnet.service_malformed"}"#);
}

// ------------------------------------------------------------------ MS/TP

#[rstest]
#[case::token(
    &[0x55, 0xff, // preamble
      0x00, // frame type: Token
      0x10, // destination 16
      0x05, // source 5
      0x00, 0x00, // length 0
      0x8c], // header CRC
    MstpFrameType::TOKEN, 0x10, 0x05, &[])]
#[case::poll_for_master(
    &[0x55, 0xff, 0x01, // Poll For Master
      0x7f, 0x03, 0x00, 0x00, // to 127 from 3, no data
      0x94], // header CRC
    MstpFrameType::POLL_FOR_MASTER, 0x7f, 0x03, &[])]
#[case::data_not_expecting_reply(
    &[0x55, 0xff, 0x06, // BACnet Data Not Expecting Reply
      0xff, 0x03, // to broadcast from 3
      0x00, 0x04, // length 4
      0xb2, // header CRC
      0x01, 0x00, 0x10, 0x08, // NPDU: who-Is
      0xbc, 0xf9], // data CRC 0xf9bc, least significant octet first
    MstpFrameType::DATA_NOT_EXPECTING_REPLY, 0xff, 0x03, &[0x01, 0x00, 0x10, 0x08])]
#[case::data_with_pad(
    &[0x55, 0xff, 0x06, 0xff, 0x03, 0x00, 0x04, 0xb2, 0x01, 0x00, 0x10, 0x08, 0xbc, 0xf9,
      0xff], // optional pad octet
    MstpFrameType::DATA_NOT_EXPECTING_REPLY, 0xff, 0x03, &[0x01, 0x00, 0x10, 0x08])]
fn mstp_frames(
    #[case] input: &[u8],
    #[case] frame_type: MstpFrameType,
    #[case] destination: u8,
    #[case] source: u8,
    #[case] data: &[u8],
) {
    let f = parse_mstp(input).unwrap();
    assert!(f.anomalies.is_empty(), "{}", f.anomalies);
    assert_eq!(
        (f.frame_type, f.destination, f.source, f.data),
        (frame_type, destination, source, data)
    );
    assert!(f.header_crc_ok && f.data_crc_ok);
    assert_eq!(f.npdu.is_some(), frame_type.carries_npdu());
    assert_eq!(mstp_frame_len(input), Ok(if data.is_empty() { 8 } else { 10 + data.len() }));
}

#[test]
fn mstp_data_frame_carries_the_npdu() {
    let f = parse_mstp(&[
        0x55, 0xff, 0x06, 0xff, 0x03, 0x00, 0x04, 0xb2, 0x01, 0x00, 0x10, 0x08, 0xbc, 0xf9,
    ])
    .unwrap();
    let apdu = f.npdu.as_ref().and_then(Npdu::apdu);
    assert_eq!(apdu.and_then(Apdu::unconfirmed_service), Some(UnconfirmedService::WHO_IS));
}

#[rstest]
#[case::bad_header_crc(
    &[0x55, 0xff, 0x00, 0x10, 0x05, 0x00, 0x00, 0x8d], // CRC should be 0x8c
    Anomalies::MSTP_BAD_HEADER_CRC)]
#[case::bad_data_crc(
    &[0x55, 0xff, 0x06, 0xff, 0x03, 0x00, 0x04, 0xb2, 0x01, 0x00, 0x10, 0x08, 0xbc, 0xfa],
    Anomalies::MSTP_BAD_DATA_CRC)]
#[case::token_with_data(
    &[0x55, 0xff, 0x00, 0x10, 0x05, 0x00, 0x02, 0x73, // Token claiming 2 data octets
      0xaa, 0xbb, 0x90, 0x56], // data and its CRC 0x5690
    Anomalies::MSTP_UNEXPECTED_DATA)]
#[case::reserved_frame_type(
    &[0x55, 0xff, 0x10, 0x10, 0x05, 0x00, 0x00, 0xf4], // frame type 16 (reserved)
    Anomalies::MSTP_UNKNOWN_FRAME_TYPE)]
#[case::broadcast_source(
    &[0x55, 0xff, 0x00, 0x10, 0xff, 0x00, 0x00, 0x63], // source 255
    Anomalies::MSTP_INVALID_SOURCE)]
#[case::npdu_too_short(
    &[0x55, 0xff, 0x06, 0xff, 0x03, 0x00, 0x01, 0xb1, // data frame, 1 octet
      0x01, 0xf1, 0xe1], // NPDU version only; data CRC 0xe1f1
    Anomalies::NPDU_MALFORMED)]
fn mstp_anomalies(#[case] input: &[u8], #[case] flag: Anomalies) {
    let f = parse_mstp(input).unwrap();
    assert!(f.anomalies.contains(flag), "{} lacks {}", f.anomalies, flag);
}

#[test]
fn mstp_long_data_frames_are_flagged() {
    let len = 502u16;
    let mut frame = vec![0x55, 0xff, 0x05, 0x01, 0x02];
    frame.extend_from_slice(&len.to_be_bytes());
    frame.push(header_crc(&frame[2..7]));
    let data = vec![0u8; usize::from(len)];
    frame.extend_from_slice(&data);
    frame.extend_from_slice(&data_crc(&data).to_le_bytes());
    let f = parse_mstp(&frame).unwrap();
    assert!(f.anomalies.contains(Anomalies::MSTP_LENGTH_EXCEEDS_MAX));
    assert!(f.header_crc_ok && f.data_crc_ok);
}

#[rstest]
#[case::empty(&[])]
#[case::preamble_only(&[0x55, 0xff])]
#[case::header_cut(&[0x55, 0xff, 0x06, 0xff, 0x03])]
fn mstp_short_headers_are_incomplete(#[case] input: &[u8]) {
    assert!(matches!(parse_mstp(input), Err(DecodeError::Incomplete { .. })));
}

#[rstest]
#[case::data_crc_cut(
    &[0x55, 0xff, 0x06, 0xff, 0x03, 0x00, 0x04, 0xb2, 0x01, 0x00, 0x10, 0x08, 0xbc], // 1 CRC octet
    &[0x01, 0x00, 0x10], true)] // the last two octets captured are taken as the CRC
#[case::data_cut(
    &[0x55, 0xff, 0x06, 0xff, 0x03, 0x00, 0x04, 0xb2, 0x01, 0x00, 0x10, 0x08], // no CRC
    &[0x01, 0x00], true)]
#[case::npdu_cut(
    &[0x55, 0xff, 0x06, 0xff, 0x03, 0x00, 0x04, 0xb2, 0x01, 0x00, 0x10], // 3 of 4 data octets
    &[0x01], false)]
#[case::nothing_after_header(
    &[0x55, 0xff, 0x06, 0xff, 0x03, 0x00, 0x04, 0xb2, 0x01], // 1 octet
    &[], false)]
fn mstp_frames_cut_short_are_decoded_as_far_as_they_go(
    #[case] input: &[u8],
    #[case] data: &[u8],
    #[case] npdu_decodes: bool,
) {
    let f = parse_mstp(input).unwrap();
    assert!(f.anomalies.contains(Anomalies::MSTP_TRUNCATED), "{}", f.anomalies);
    assert!(!f.data_crc_ok);
    assert_eq!(f.data, data);
    assert_eq!(f.npdu.is_some(), npdu_decodes);
    assert!(mstp_frame_len(input).unwrap() > input.len());
}

#[test]
fn cimetrics_snap_frames_carry_mstp_without_preamble() {
    let input = [
        0x00, 0x10, 0x90, // SNAP OUI: Cimetrics
        0x00, 0x01, // PID: U+4 MS/TP
        0x00, 0x05, // delta time (little-endian)
        0x01, // sniffer status
        0x06, 0xff, 0x03, 0x00, 0x04,
        0xb2, // MS/TP header without preamble: data to 255 from 3
        0x01, 0x00, 0x10, 0x08, // NPDU: who-Is
        0xbc, 0xf9, // data CRC
    ];
    let f = parse_cimetrics(&input).unwrap();
    assert!(f.anomalies.is_empty(), "{}", f.anomalies);
    assert_eq!(
        (f.frame_type, f.source, f.destination),
        (MstpFrameType::DATA_NOT_EXPECTING_REPLY, 3, 255)
    );
    let apdu = f.npdu.as_ref().and_then(Npdu::apdu);
    assert_eq!(apdu.and_then(Apdu::unconfirmed_service), Some(UnconfirmedService::WHO_IS));
    assert_eq!(parse_mstp_without_preamble(&input[8..]), Ok(f));
    assert_eq!(
        parse_cimetrics(&[0x00, 0x00, 0x0c, 0x20, 0x00, 0x01, 0x02]),
        Err(DecodeError::Malformed("bacnet: not a Cimetrics MS/TP SNAP frame"))
    );
}

#[rstest]
#[case::no_preamble(&[0x00, 0x55, 0xff, 0x00, 0x10, 0x05, 0x00, 0x00, 0x8c])]
#[case::half_preamble(&[0x55, 0x00, 0x00, 0x10, 0x05, 0x00, 0x00, 0x8c])]
fn mstp_without_preamble_is_malformed(#[case] input: &[u8]) {
    assert_eq!(parse_mstp(input), Err(DecodeError::Malformed("bacnet: no MS/TP preamble")));
    assert_eq!(mstp_frame_len(input), Err(DecodeError::Malformed("bacnet: no MS/TP preamble")));
}

#[test]
fn mstp_stream_framing_rejects_a_bad_header_crc() {
    assert_eq!(
        mstp_frame_len(&[0x55, 0xff, 0x00, 0x10, 0x05, 0x00, 0x00, 0x8d]),
        Err(DecodeError::Malformed("bacnet: MS/TP header CRC mismatch"))
    );
    assert!(matches!(mstp_frame_len(&[0x55, 0xff, 0x00]), Err(DecodeError::Incomplete { .. })));
}

#[rstest]
#[case::token_header(&[0x00, 0x10, 0x05, 0x00, 0x00], 0x8c)]
#[case::data_header(&[0x06, 0xff, 0x03, 0x00, 0x04], 0xb2)]
fn header_crc_vectors(#[case] header: &[u8], #[case] crc: u8) {
    assert_eq!(header_crc(header), crc);
}

#[rstest]
#[case::who_is_npdu(&[0x01, 0x00, 0x10, 0x08], 0xf9bc)]
#[case::two_octets(&[0xaa, 0xbb], 0x5690)]
#[case::one_octet(&[0x01], 0xe1f1)]
fn data_crc_vectors(#[case] data: &[u8], #[case] crc: u16) {
    assert_eq!(data_crc(data), crc);
}

/// A COBS-encoded BACnet Extended Data Not Expecting Reply frame carrying the
/// who-Is NPDU 01 00 10 08 (clause 9.10).
const COBS_WHO_IS: [u8; 18] = [
    0x55, 0xff, // preamble
    0x21, // frame type 33: BACnet Extended Data Not Expecting Reply
    0x05, 0x03, // to 5 from 3
    0x00, 0x08, // length: 5 encoded data + 5 encoded CRC - 2
    0x75, // header CRC
    0x57, 0x54, // COBS block "02 01" ^ 0x55: one octet (01), then a zero
    0x56, 0x45, 0x5d, // COBS block "03 10 08" ^ 0x55: two octets, end of data
    0x50, 0x8d, 0xd8, 0x9e, 0xab, // encoded CRC-32K 0xfecb8dd8 ("05 d8 8d cb fe" ^ 0x55)
];

#[test]
fn mstp_cobs_frames_are_framed_checked_and_decoded() {
    let f = parse_mstp(&COBS_WHO_IS).unwrap();
    assert!(f.anomalies.is_empty(), "{}", f.anomalies);
    assert_eq!(f.frame_type, MstpFrameType::EXTENDED_DATA_NOT_EXPECTING_REPLY);
    assert!(f.frame_type.is_cobs() && f.frame_type.carries_cobs_npdu());
    assert!(f.data_crc_ok);
    assert_eq!(f.data, &COBS_WHO_IS[8..]);
    assert_eq!(f.npdu, None);
    assert_eq!(mstp_frame_len(&COBS_WHO_IS), Ok(18));
    let mut out = Vec::new();
    assert_eq!(decode_cobs_data(f.data, &mut out), Ok(true));
    assert_eq!(out, [0x01, 0x00, 0x10, 0x08]);
    let n = parse_npdu(&out).unwrap();
    assert_eq!(n.apdu().and_then(Apdu::unconfirmed_service), Some(UnconfirmedService::WHO_IS));
    assert_eq!(crc32k(&COBS_WHO_IS[8..13]), 0xfecb_8dd8);
}

#[test]
fn mstp_cobs_crc_mismatch_is_flagged() {
    let mut frame = COBS_WHO_IS;
    frame[17] ^= 0x01; // damage the encoded CRC
    let f = parse_mstp(&frame).unwrap();
    assert!(f.anomalies.contains(Anomalies::MSTP_BAD_DATA_CRC));
    let mut out = Vec::new();
    assert_eq!(decode_cobs_data(f.data, &mut out), Ok(false));
    assert_eq!(out, [0x01, 0x00, 0x10, 0x08]);
}

#[test]
fn cobs_full_blocks_carry_no_implicit_zero() {
    // 254 octets of 0x01: one full block (code 0xff) and an empty last block.
    let mut field = vec![0xff ^ 0x55];
    field.extend(std::iter::repeat_n(0x01 ^ 0x55, 254));
    field.push(0x01 ^ 0x55);
    field.extend_from_slice(&[0x55; 5]); // a CRC field that does not decode
    let mut out = Vec::new();
    assert_eq!(decode_cobs_data(&field, &mut out), Ok(false));
    assert_eq!(out, vec![0x01; 254]);
}

#[rstest]
#[case::code_zero(&[0x55, 0x50, 0x8d, 0xd8, 0x9e, 0xab], "bacnet: COBS code octet 0")]
#[case::block_overrun(&[0x05 ^ 0x55, 0x01, 0x50, 0x8d, 0xd8, 0x9e, 0xab], "bacnet: COBS block overruns data")]
#[case::shorter_than_crc(&[0x50, 0x8d], "bacnet: COBS field shorter than its CRC")]
fn broken_cobs_is_malformed(#[case] field: &[u8], #[case] why: &'static str) {
    let mut out = Vec::new();
    assert_eq!(decode_cobs_data(field, &mut out), Err(DecodeError::Malformed(why)));
}

#[test]
fn cobs_decoding_is_bounded() {
    // 9 full blocks decode to 2286 octets, more than the 2032 allowed.
    let mut field = Vec::new();
    for _ in 0..9 {
        field.push(0xff ^ 0x55);
        field.extend(std::iter::repeat_n(0x01 ^ 0x55, 254));
    }
    field.extend_from_slice(&[0x55; 5]);
    let mut out = Vec::new();
    assert_eq!(
        decode_cobs_data(&field, &mut out),
        Err(DecodeError::Malformed("bacnet: COBS data too long"))
    );
    assert!(out.len() <= mstp::MSTP_COBS_MAX_DATA_LEN);
}

#[test]
fn mstp_cobs_length_below_minimum_is_flagged() {
    let mut frame = vec![0x55, 0xff, 0x21, 0x05, 0x03, 0x00, 0x02];
    frame.push(header_crc(&frame[2..7]));
    frame.extend_from_slice(&[0x56, 0x54, 0x55, 0x55]); // 4-octet field: no room for a CRC
    let f = parse_mstp(&frame).unwrap();
    assert!(f.anomalies.contains(Anomalies::MSTP_LENGTH_EXCEEDS_MAX));
    assert!(f.anomalies.contains(Anomalies::MSTP_BAD_DATA_CRC));
}

// ------------------------------------------------------------------ reassembly

#[test]
fn reassembly_joins_segments_in_order() {
    let svc = ConfirmedService::READ_PROPERTY_MULTIPLE;
    let mut r = Reassembly::new();
    assert_eq!(r.push(svc, 0, true, &[1, 2]), Reassembled::Pending);
    assert_eq!(r.push(svc, 0, true, &[1, 2]), Reassembled::Pending); // restart on a new first segment
    assert_eq!(r.push(svc, 1, true, &[3]), Reassembled::Pending);
    assert_eq!(r.push(svc, 1, true, &[3]), Reassembled::Ignored); // retransmission
    assert!(r.is_pending());
    assert_eq!(r.push(svc, 2, false, &[4, 5]), Reassembled::Complete(vec![1, 2, 3, 4, 5]));
    assert!(!r.is_pending());
}

#[rstest]
#[case::gap(&[(0, true), (2, false)], Reassembled::Discarded(Anomalies::SEGMENTATION_ERROR))]
#[case::no_first_segment(&[(3, false)], Reassembled::Ignored)]
#[case::single_segment(&[(0, false)], Reassembled::Complete(vec![0xab]))]
fn reassembly_edge_cases(#[case] segments: &[(u8, bool)], #[case] last: Reassembled) {
    let mut r = Reassembly::new();
    let mut out = Reassembled::Pending;
    for (seq, more) in segments {
        out = r.push(ConfirmedService::READ_PROPERTY, *seq, *more, &[0xab]);
    }
    assert_eq!(out, last);
    assert!(!r.is_pending());
}

#[test]
fn reassembly_discards_on_service_change_and_limits() {
    let mut r = Reassembly::new();
    r.push(ConfirmedService::READ_PROPERTY, 0, true, &[1]);
    assert_eq!(
        r.push(ConfirmedService::READ_RANGE, 1, false, &[2]),
        Reassembled::Discarded(Anomalies::SEGMENTATION_ERROR)
    );
    let big = vec![0u8; segment::MAX_REASSEMBLED_LEN / 2 + 1];
    assert_eq!(r.push(ConfirmedService::READ_RANGE, 0, true, &big), Reassembled::Pending);
    assert_eq!(
        r.push(ConfirmedService::READ_RANGE, 1, true, &big),
        Reassembled::Discarded(Anomalies::TOO_MANY_ITEMS)
    );
    let mut many = Reassembly::new();
    let mut out = Reassembled::Pending;
    for seq in 0..=255u8 {
        out = many.push(ConfirmedService::READ_RANGE, seq, true, &[0]);
    }
    assert_eq!(out, Reassembled::Discarded(Anomalies::TOO_MANY_ITEMS));
}

#[test]
fn reassembled_data_decodes_as_a_complex_ack() {
    // A ReadProperty-ACK split in two segments.
    let first = [0x0c, 0x02, 0x00, 0x00, 0x7b, 0x19, 0x2c]; // [0] device,123 [1] firmware-revision
    let second = [0x3e, 0x73, 0x00, b'v', b'2', 0x3f]; // [3] { "v2" }
    let mut r = Reassembly::new();
    r.push(ConfirmedService::READ_PROPERTY, 0, true, &first);
    let Reassembled::Complete(data) = r.push(ConfirmedService::READ_PROPERTY, 1, false, &second)
    else {
        panic!()
    };
    let mut an = Anomalies::NONE;
    let ComplexAckBody::ReadProperty(v) =
        decode_complex_ack(ConfirmedService::READ_PROPERTY, &data, &mut an)
    else {
        panic!()
    };
    assert!(an.is_empty());
    assert_eq!(v.first_value().and_then(|v| v.as_text()).as_deref(), Some("v2"));
}

// ------------------------------------------------------------------ robustness

/// Every vector above, truncated at every length, decodes or fails cleanly
/// through every entry point.
#[test]
fn every_prefix_of_every_vector_is_handled() {
    let vectors: &[&[u8]] = &[
        &[
            0x81, 0x04, 0x00, 0x1a, 0xc0, 0xa8, 0x00, 0x05, 0xba, 0xc0, 0x01, 0x00, 0x10, 0x00,
            0xc4, 0x02, 0x00, 0x00, 0x7b, 0x22, 0x05, 0xc4, 0x91, 0x03, 0x21, 0x2a,
        ],
        &[
            0x81, 0x0a, 0x00, 0x1b, 0x01, 0x2c, 0x00, 0x05, 0x01, 0x0c, 0x00, 0x02, 0x06, 0xc0,
            0xa8, 0x00, 0x0a, 0xba, 0xc0, 0xfe, 0x00, 0x05, 0x01, 0x0c, 0x0c, 0x02, 0x00,
        ],
        &[
            0x81, 0x0a, 0x00, 0x1e, 0x01, 0x04, 0x30, 0x02, 0x0e, 0x0c, 0x02, 0x00, 0x00, 0x7b,
            0x1e, 0x29, 0x79, 0x4e, 0x75, 0x05, 0x00, b'A', b'c', b'm', b'e', 0x4f, 0x29, 0x2c,
            0x5e, 0x91, 0x02, 0x91, 0x20, 0x5f, 0x1f,
        ],
        &[0x55, 0xff, 0x06, 0xff, 0x03, 0x00, 0x04, 0xb2, 0x01, 0x00, 0x10, 0x08, 0xbc, 0xf9],
        &[0x00, 0x05, 0x03, 0x11, 0x09, 0x3c, 0x19, 0x01, 0x2d, 0x09, 0x00, b'p', b'a', b's', b's'],
        &[
            0x00, 0x05, 0x02, 0x10, 0x0c, 0x01, 0x00, 0x00, 0x03, 0x1e, 0x09, 0x55, 0x2e, 0x91,
            0x01, 0x2f,
        ],
    ];
    for v in vectors {
        for end in 0..=v.len() {
            let part = &v[..end];
            let _ = parse(part);
            let _ = parse_ipv6(part);
            let _ = probe(part);
            let _ = parse_npdu(part);
            let _ = parse_llc(part);
            let _ = parse_mstp(part);
            let _ = mstp_frame_len(part);
            let mut an = Anomalies::NONE;
            let _ = parse_apdu(part, &mut an);
            for s in 0..=40u8 {
                let _ = decode_confirmed_request(ConfirmedService(s), part, &mut an);
                let _ = decode_complex_ack(ConfirmedService(s), part, &mut an);
                let _ = decode_unconfirmed_request(UnconfirmedService(s), part, &mut an);
            }
        }
    }
}

// ------------------------------------------------------------------ real captures

mod captures;
