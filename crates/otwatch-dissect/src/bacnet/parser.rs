//! BACnet decoding: BVLC (Annex J), NPDU (clause 6), APDU (clause 20) and the
//! service parameters of clauses 13–17 that a security monitor needs.
//!
//! Every layer is tolerant once it can frame: a BVLC message whose NPDU cannot be
//! decoded is still returned (with `bacnet.npdu_malformed`), an APDU whose service
//! parameters do not decode keeps them raw (with `bacnet.service_malformed`).
//! Only a missing or wrong BVLC header is an error.

use super::anomaly::Anomalies;
use super::tag::{CharacterString, Tags};
use super::types::*;
use crate::DecodeError;
use crate::reader::Reader;

/// The BVLC type octet of BACnet/IP (Annex J.2).
pub const BVLC_TYPE_BIP: u8 = 0x81;
/// The BVLC type octet of BACnet/IPv6 (Annex U.2).
pub const BVLC_TYPE_BIP6: u8 = 0x82;
/// Length of the BVLC header: type, function, 2-octet length.
pub const BVLC_HEADER_LEN: usize = 4;
/// The UDP port BACnet/IP uses by default (0xBAC0).
pub const BACNET_IP_PORT: u16 = 47808;
/// Most list items (properties read or written, results) kept per message;
/// more set `bacnet.too_many_items`.
pub const MAX_LIST_ITEMS: usize = 256;
/// Longest DeviceCommunicationControl/ReinitializeDevice password the standard
/// allows, in characters (16.1.1.1.3).
pub const MAX_PASSWORD_LEN: usize = 20;
/// Highest valid object instance number (2^22 - 1).
pub const MAX_INSTANCE: u32 = ObjectId::WILDCARD_INSTANCE;

/// Whether `input` looks like a BACnet/IP datagram: BVLC type 0x81 (or 0x82,
/// BACnet/IPv6), a defined function, a length equal to the datagram length, and
/// a well-formed body (an NPDU of version 1 with no reserved bits, where the
/// function carries one).
pub fn probe(input: &[u8]) -> bool {
    if input.first() == Some(&BVLC_TYPE_BIP6) {
        return probe_ipv6(input);
    }
    let Ok(msg) = parse(input) else { return false };
    if msg.anomalies.intersects(PROBE_FATAL) {
        return false;
    }
    match msg.body {
        BvlcBody::ForwardedNpdu { npdu, .. }
        | BvlcBody::DistributeBroadcastToNetwork(npdu)
        | BvlcBody::OriginalUnicastNpdu(npdu)
        | BvlcBody::OriginalBroadcastNpdu(npdu) => npdu.is_some(),
        BvlcBody::Unknown(_) => false,
        _ => true,
    }
}

/// Probe for BACnet/IPv6: as [`probe`], for BVLC type 0x82.
fn probe_ipv6(input: &[u8]) -> bool {
    let Ok(msg) = parse_ipv6(input) else { return false };
    if msg.anomalies.intersects(PROBE_FATAL) {
        return false;
    }
    match msg.body {
        Bvlc6Body::OriginalUnicastNpdu { npdu, .. }
        | Bvlc6Body::ForwardedNpdu { npdu, .. }
        | Bvlc6Body::OriginalBroadcastNpdu(npdu)
        | Bvlc6Body::DistributeBroadcastToNetwork(npdu) => npdu.is_some(),
        Bvlc6Body::Unknown(_) => false,
        _ => true,
    }
}

/// Anomalies that make [`probe`] say no.
const PROBE_FATAL: Anomalies = Anomalies::BVLC_UNKNOWN_FUNCTION
    .union(Anomalies::BVLC_LENGTH_MISMATCH)
    .union(Anomalies::BVLC_BAD_BODY_LENGTH)
    .union(Anomalies::NPDU_BAD_VERSION)
    .union(Anomalies::NPDU_RESERVED_BITS)
    .union(Anomalies::NPDU_MALFORMED)
    .union(Anomalies::NPDU_RESERVED_MESSAGE_TYPE)
    .union(Anomalies::NPDU_MISSING_APDU)
    .union(Anomalies::APDU_RESERVED_TYPE)
    .union(Anomalies::APDU_TRUNCATED);

/// Decodes one BACnet/IP datagram (a BVLC message and what it carries).
///
/// Fails with `Incomplete` when the 4-octet BVLC header is not all there and with
/// `Malformed` when the type is not 0x81 or the length field is below 4; anything
/// else is returned with anomaly flags. The body runs to the end of the datagram:
/// a length field that disagrees is flagged, not trusted.
pub fn parse(input: &[u8]) -> Result<Message<'_>, DecodeError> {
    let mut r = Reader::new(input);
    let bvlc_type = r.u8()?;
    if bvlc_type != BVLC_TYPE_BIP {
        // Check the rest of the header is there first, so a short buffer is
        // reported as incomplete consistently.
        r.take(3)?;
        return Err(DecodeError::Malformed("bacnet: BVLC type is not 0x81 (BACnet/IP)"));
    }
    let function = BvlcFunction(r.u8()?);
    let length = r.u16_be()?;
    let mut an = Anomalies::NONE;
    let body_len = usize::from(length)
        .checked_sub(BVLC_HEADER_LEN)
        .ok_or(DecodeError::Malformed("bacnet: BVLC length below header size"))?;
    // UDP frames the datagram: the body runs to its end whatever the length
    // field says (as tshark decodes it); a disagreement is flagged.
    if body_len != r.left() {
        an |= Anomalies::BVLC_LENGTH_MISMATCH;
    }
    let body = parse_bvlc_body(function, r.take_rest(), &mut an);
    Ok(Message { function, length, body, anomalies: an })
}

fn parse_bvlc_body<'a>(function: BvlcFunction, body: &'a [u8], an: &mut Anomalies) -> BvlcBody<'a> {
    let mut r = Reader::new(body);
    let exact = |want: usize, an: &mut Anomalies| {
        if body.len() != want {
            *an |= Anomalies::BVLC_BAD_BODY_LENGTH;
        }
    };
    match function {
        BvlcFunction::RESULT => {
            exact(2, an);
            match r.u16_be() {
                Ok(code) => BvlcBody::Result(BvlcResultCode(code)),
                Err(_) => BvlcBody::Unknown(body),
            }
        }
        BvlcFunction::WRITE_BROADCAST_DISTRIBUTION_TABLE
        | BvlcFunction::READ_BROADCAST_DISTRIBUTION_TABLE_ACK => {
            if !body.len().is_multiple_of(10) {
                *an |= Anomalies::BVLC_BAD_BODY_LENGTH;
            }
            let entries = BdtEntries(body);
            if function == BvlcFunction::WRITE_BROADCAST_DISTRIBUTION_TABLE {
                BvlcBody::WriteBroadcastDistributionTable(entries)
            } else {
                BvlcBody::ReadBroadcastDistributionTableAck(entries)
            }
        }
        BvlcFunction::READ_BROADCAST_DISTRIBUTION_TABLE => {
            exact(0, an);
            BvlcBody::ReadBroadcastDistributionTable
        }
        BvlcFunction::FORWARDED_NPDU => match read_bip_address(&mut r) {
            Ok(origin) => BvlcBody::ForwardedNpdu { origin, npdu: nested_npdu(r.rest(), an) },
            Err(_) => {
                *an |= Anomalies::BVLC_BAD_BODY_LENGTH;
                BvlcBody::Unknown(body)
            }
        },
        BvlcFunction::REGISTER_FOREIGN_DEVICE => {
            exact(2, an);
            match r.u16_be() {
                Ok(ttl) => BvlcBody::RegisterForeignDevice { ttl },
                Err(_) => BvlcBody::Unknown(body),
            }
        }
        BvlcFunction::READ_FOREIGN_DEVICE_TABLE => {
            exact(0, an);
            BvlcBody::ReadForeignDeviceTable
        }
        BvlcFunction::READ_FOREIGN_DEVICE_TABLE_ACK => {
            if !body.len().is_multiple_of(10) {
                *an |= Anomalies::BVLC_BAD_BODY_LENGTH;
            }
            BvlcBody::ReadForeignDeviceTableAck(FdtEntries(body))
        }
        BvlcFunction::DELETE_FOREIGN_DEVICE_TABLE_ENTRY => {
            exact(6, an);
            match read_bip_address(&mut r) {
                Ok(a) => BvlcBody::DeleteForeignDeviceTableEntry(a),
                Err(_) => BvlcBody::Unknown(body),
            }
        }
        BvlcFunction::DISTRIBUTE_BROADCAST_TO_NETWORK => {
            BvlcBody::DistributeBroadcastToNetwork(nested_npdu(body, an))
        }
        BvlcFunction::ORIGINAL_UNICAST_NPDU => BvlcBody::OriginalUnicastNpdu(nested_npdu(body, an)),
        BvlcFunction::ORIGINAL_BROADCAST_NPDU => {
            BvlcBody::OriginalBroadcastNpdu(nested_npdu(body, an))
        }
        BvlcFunction::SECURE_BVLL => BvlcBody::SecureBvll(body),
        _ => {
            *an |= Anomalies::BVLC_UNKNOWN_FUNCTION;
            BvlcBody::Unknown(body)
        }
    }
}

/// Decodes one BACnet/IPv6 datagram (BVLC type 0x82, Annex U). As [`parse`]:
/// `Incomplete` for a short header, `Malformed` for another type or a length
/// below 4, anything else flagged.
pub fn parse_ipv6(input: &[u8]) -> Result<Bvlc6Message<'_>, DecodeError> {
    let mut r = Reader::new(input);
    let bvlc_type = r.u8()?;
    let function = Bvlc6Function(r.u8()?);
    let length = r.u16_be()?;
    if bvlc_type != BVLC_TYPE_BIP6 {
        return Err(DecodeError::Malformed("bacnet: BVLC type is not 0x82 (BACnet/IPv6)"));
    }
    let mut an = Anomalies::NONE;
    let body_len = usize::from(length)
        .checked_sub(BVLC_HEADER_LEN)
        .ok_or(DecodeError::Malformed("bacnet: BVLC length below header size"))?;
    if body_len != r.left() {
        an |= Anomalies::BVLC_LENGTH_MISMATCH;
    }
    let body = r.take_rest();
    let mut b = Reader::new(body);
    let known = function.is_known() && function != Bvlc6Function::SECURE_BVLL;
    let source = if known { b.take_array::<3>().ok() } else { None };
    let body = match source {
        Some(_) => parse_bvlc6_body(function, body, &mut b, &mut an),
        None if function == Bvlc6Function::SECURE_BVLL => Bvlc6Body::SecureBvll(body),
        None => {
            an |= if function.is_known() {
                Anomalies::BVLC_BAD_BODY_LENGTH
            } else {
                Anomalies::BVLC_UNKNOWN_FUNCTION
            };
            Bvlc6Body::Unknown(body)
        }
    };
    Ok(Bvlc6Message { function, length, source, body, anomalies: an })
}

fn parse_bvlc6_body<'a>(
    function: Bvlc6Function,
    body: &'a [u8],
    b: &mut Reader<'a>,
    an: &mut Anomalies,
) -> Bvlc6Body<'a> {
    let parsed = (|| -> Result<Bvlc6Body<'a>, DecodeError> {
        let fixed = |b: &Reader<'a>, an: &mut Anomalies| {
            if b.any_left() {
                *an |= Anomalies::BVLC_BAD_BODY_LENGTH;
            }
        };
        Ok(match function {
            Bvlc6Function::RESULT => {
                let code = b.u16_be()?;
                fixed(b, an);
                Bvlc6Body::Result(code)
            }
            Bvlc6Function::ORIGINAL_UNICAST_NPDU => {
                let destination = b.take_array::<3>()?;
                Bvlc6Body::OriginalUnicastNpdu { destination, npdu: nested_npdu(b.rest(), an) }
            }
            Bvlc6Function::ORIGINAL_BROADCAST_NPDU => {
                Bvlc6Body::OriginalBroadcastNpdu(nested_npdu(b.rest(), an))
            }
            Bvlc6Function::ADDRESS_RESOLUTION => {
                let target = b.take_array::<3>()?;
                fixed(b, an);
                Bvlc6Body::AddressResolution { target }
            }
            Bvlc6Function::FORWARDED_ADDRESS_RESOLUTION => {
                let target = b.take_array::<3>()?;
                let origin = read_bip6_address(b)?;
                fixed(b, an);
                Bvlc6Body::ForwardedAddressResolution { target, origin }
            }
            Bvlc6Function::ADDRESS_RESOLUTION_ACK
            | Bvlc6Function::VIRTUAL_ADDRESS_RESOLUTION_ACK => {
                let destination = b.take_array::<3>()?;
                fixed(b, an);
                Bvlc6Body::ResolutionAck { destination }
            }
            Bvlc6Function::VIRTUAL_ADDRESS_RESOLUTION => {
                fixed(b, an);
                Bvlc6Body::VirtualAddressResolution
            }
            Bvlc6Function::FORWARDED_NPDU => {
                let origin = read_bip6_address(b)?;
                Bvlc6Body::ForwardedNpdu { origin, npdu: nested_npdu(b.rest(), an) }
            }
            Bvlc6Function::REGISTER_FOREIGN_DEVICE => {
                let ttl = b.u16_be()?;
                fixed(b, an);
                Bvlc6Body::RegisterForeignDevice { ttl }
            }
            Bvlc6Function::DELETE_FOREIGN_DEVICE_TABLE_ENTRY => {
                let entry = read_bip6_address(b)?;
                fixed(b, an);
                Bvlc6Body::DeleteForeignDeviceTableEntry(entry)
            }
            Bvlc6Function::DISTRIBUTE_BROADCAST_TO_NETWORK => {
                Bvlc6Body::DistributeBroadcastToNetwork(nested_npdu(b.rest(), an))
            }
            _ => Bvlc6Body::Unknown(body),
        })
    })();
    parsed.unwrap_or_else(|_| {
        *an |= Anomalies::BVLC_BAD_BODY_LENGTH;
        Bvlc6Body::Unknown(body)
    })
}

fn read_bip6_address(r: &mut Reader<'_>) -> Result<Bip6Address, DecodeError> {
    let ip = r.take_array::<16>()?;
    let port = r.u16_be()?;
    Ok(Bip6Address { ip, port })
}

fn read_bip_address(r: &mut Reader<'_>) -> Result<BipAddress, DecodeError> {
    let ip = r.take_array::<4>()?;
    let port = r.u16_be()?;
    Ok(BipAddress { ip, port })
}

/// An NPDU inside a framed outer layer: failures become an anomaly.
fn nested_npdu<'a>(data: &'a [u8], an: &mut Anomalies) -> Option<Npdu<'a>> {
    match parse_npdu(data) {
        Ok(npdu) => {
            *an |= npdu.anomalies;
            Some(npdu)
        }
        Err(_) => {
            *an |= Anomalies::NPDU_MALFORMED;
            None
        }
    }
}

/// The LLC header BACnet uses on ISO 8802-2 (clause 7): DSAP and SSAP 0x82.
pub const LLC_SAP_BACNET: u8 = 0x82;
/// The LLC control value BACnet uses: UI (unnumbered information).
pub const LLC_CONTROL_UI: u8 = 0x03;

/// Decodes BACnet over ISO 8802-2 LLC (clause 7): `input` starts at the DSAP
/// octet (the 802.3 frame's data, padding removed) and carries DSAP 0x82,
/// SSAP 0x82, control 0x03, then an NPDU.
pub fn parse_llc(input: &[u8]) -> Result<Npdu<'_>, DecodeError> {
    let mut r = Reader::new(input);
    let [dsap, ssap, control] = r.take_array::<3>()?;
    if dsap != LLC_SAP_BACNET || ssap != LLC_SAP_BACNET {
        return Err(DecodeError::Malformed("bacnet: LLC SAPs are not 0x82"));
    }
    let mut npdu = parse_npdu(r.rest())?;
    if control != LLC_CONTROL_UI {
        npdu.anomalies |= Anomalies::LLC_UNEXPECTED_CONTROL;
    }
    Ok(npdu)
}

/// Decodes an NPDU and its payload (clause 6.2).
///
/// Fails (`Incomplete`) only when the version and control octets are not both
/// there. A header cut short after them (inside the addresses, before the hop
/// count or the message type) is returned with [`NpduPayload::HeaderTruncated`]
/// and `bacnet.npdu_malformed`; a payload that does not decode is flagged.
pub fn parse_npdu(input: &[u8]) -> Result<Npdu<'_>, DecodeError> {
    let mut r = Reader::new(input);
    let version = r.u8()?;
    let control = r.u8()?;
    let mut an = Anomalies::NONE;
    if version != 1 {
        an |= Anomalies::NPDU_BAD_VERSION;
    }
    if control & 0x50 != 0 {
        an |= Anomalies::NPDU_RESERVED_BITS;
    }
    let mut destination = None;
    let mut source = None;
    let mut hop_count = None;
    let mut rest = || -> Result<NpduPayload<'_>, DecodeError> {
        if control & 0x20 != 0 {
            let network = r.u16_be()?;
            let len = r.u8()?;
            let mac = r.take(usize::from(len))?;
            if network == 0 {
                an |= Anomalies::NPDU_INVALID_ADDRESS;
            }
            destination = Some(NetworkAddress { network, mac });
        }
        if control & 0x08 != 0 {
            let network = r.u16_be()?;
            let len = r.u8()?;
            let mac = r.take(usize::from(len))?;
            if network == 0 || network == 0xffff || len == 0 {
                an |= Anomalies::NPDU_INVALID_ADDRESS;
            }
            source = Some(NetworkAddress { network, mac });
        }
        if control & 0x20 != 0 {
            hop_count = Some(r.u8()?);
        }
        Ok(if control & 0x80 != 0 {
            let message_type = NetworkMessageType(r.u8()?);
            let vendor_id = if message_type.0 >= 0x80 { Some(r.u16_be()?) } else { None };
            if !message_type.is_known() && message_type.0 < 0x80 {
                an |= Anomalies::NPDU_RESERVED_MESSAGE_TYPE;
            }
            let body = parse_network_body(message_type, r.take_rest(), &mut an);
            NpduPayload::Network(NetworkMessage { message_type, vendor_id, body })
        } else if r.any_left() {
            NpduPayload::Apdu(parse_apdu(r.take_rest(), &mut an))
        } else {
            an |= Anomalies::NPDU_MISSING_APDU;
            NpduPayload::Missing
        })
    };
    let payload = rest().unwrap_or_else(|_| {
        an |= Anomalies::NPDU_MALFORMED;
        NpduPayload::HeaderTruncated
    });
    Ok(Npdu {
        version,
        control,
        destination,
        source,
        hop_count,
        expecting_reply: control & 0x04 != 0,
        priority: NetworkPriority(control & 0x03),
        payload,
        anomalies: an,
    })
}

fn parse_network_body<'a>(
    ty: NetworkMessageType,
    body: &'a [u8],
    an: &mut Anomalies,
) -> NetworkMessageBody<'a> {
    let mut r = Reader::new(body);
    let bad = |an: &mut Anomalies| *an |= Anomalies::NETWORK_MESSAGE_MALFORMED;
    match ty {
        NetworkMessageType::WHO_IS_ROUTER_TO_NETWORK => match body.len() {
            0 => NetworkMessageBody::WhoIsRouterToNetwork(None),
            _ => {
                let net = r.u16_be().ok();
                if r.any_left() || net.is_none() {
                    bad(an);
                }
                NetworkMessageBody::WhoIsRouterToNetwork(net)
            }
        },
        NetworkMessageType::I_AM_ROUTER_TO_NETWORK
        | NetworkMessageType::ROUTER_BUSY_TO_NETWORK
        | NetworkMessageType::ROUTER_AVAILABLE_TO_NETWORK => {
            if !body.len().is_multiple_of(2) {
                bad(an);
            }
            NetworkMessageBody::Networks(NetworkList(body))
        }
        NetworkMessageType::I_COULD_BE_ROUTER_TO_NETWORK => match (r.u16_be(), r.u8()) {
            (Ok(network), Ok(performance_index)) => {
                if r.any_left() {
                    bad(an);
                }
                NetworkMessageBody::ICouldBeRouterToNetwork { network, performance_index }
            }
            _ => {
                bad(an);
                NetworkMessageBody::Other(body)
            }
        },
        NetworkMessageType::REJECT_MESSAGE_TO_NETWORK => match (r.u8(), r.u16_be()) {
            (Ok(reason), Ok(network)) => {
                if r.any_left() {
                    bad(an);
                }
                NetworkMessageBody::RejectMessageToNetwork { reason, network }
            }
            _ => {
                bad(an);
                NetworkMessageBody::Other(body)
            }
        },
        NetworkMessageType::INITIALIZE_ROUTING_TABLE
        | NetworkMessageType::INITIALIZE_ROUTING_TABLE_ACK => match r.u8() {
            Ok(ports) => NetworkMessageBody::RoutingTable { ports, data: r.take_rest() },
            // An empty Initialize-Routing-Table-Ack acknowledges an update.
            Err(_) => NetworkMessageBody::RoutingTable { ports: 0, data: body },
        },
        NetworkMessageType::NETWORK_NUMBER_IS => match (r.u16_be(), r.u8()) {
            (Ok(network), Ok(flag)) => {
                if r.any_left() || flag > 1 {
                    bad(an);
                }
                NetworkMessageBody::NetworkNumberIs { network, configured: flag & 1 != 0 }
            }
            _ => {
                bad(an);
                NetworkMessageBody::Other(body)
            }
        },
        NetworkMessageType::WHAT_IS_NETWORK_NUMBER => {
            if !body.is_empty() {
                bad(an);
            }
            NetworkMessageBody::Other(body)
        }
        _ => NetworkMessageBody::Other(body),
    }
}

/// Decodes an APDU (clause 20.1). An APDU too short for its header is returned
/// as [`Apdu::Truncated`]; anomalies are added to `an`.
pub fn parse_apdu<'a>(input: &'a [u8], an: &mut Anomalies) -> Apdu<'a> {
    let Some(first) = Reader::new(input).peek_u8() else {
        *an |= Anomalies::APDU_TRUNCATED;
        return Apdu::Truncated { pdu_type: PduType(0), data: input };
    };
    let pdu_type = PduType(first >> 4);
    match parse_apdu_inner(pdu_type, first & 0x0f, input, an) {
        Ok(apdu) => apdu,
        Err(_) => {
            *an |= Anomalies::APDU_TRUNCATED;
            Apdu::Truncated { pdu_type, data: input }
        }
    }
}

fn parse_apdu_inner<'a>(
    pdu_type: PduType,
    flags: u8,
    input: &'a [u8],
    an: &mut Anomalies,
) -> Result<Apdu<'a>, DecodeError> {
    let mut r = Reader::new(input);
    r.u8()?;
    let reserved = |mask: u8, an: &mut Anomalies| {
        if flags & mask != 0 {
            *an |= Anomalies::APDU_RESERVED_BITS;
        }
    };
    let apdu = match pdu_type {
        PduType::CONFIRMED_REQUEST => {
            reserved(0x01, an);
            let segmented = flags & 0x08 != 0;
            let more_follows = flags & 0x04 != 0;
            let limits = r.u8()?;
            if limits & 0x80 != 0 {
                *an |= Anomalies::APDU_RESERVED_BITS;
            }
            let max_apdu = MaxApdu(limits & 0x0f);
            if !max_apdu.is_known() {
                *an |= Anomalies::APDU_INVALID_MAX_APDU;
            }
            let invoke_id = r.u8()?;
            let segment = read_segment_header(&mut r, segmented, more_follows, an)?;
            let service = ConfirmedService(r.u8()?);
            if !service.is_known() {
                *an |= Anomalies::UNKNOWN_SERVICE;
            }
            let data = r.take_rest();
            let body = if segmented {
                ConfirmedRequestBody::Segment(data)
            } else {
                decode_confirmed_request(service, data, an)
            };
            Apdu::ConfirmedRequest(ConfirmedRequest {
                segmented,
                more_follows,
                segmented_response_accepted: flags & 0x02 != 0,
                max_segments: MaxSegments((limits >> 4) & 0x07),
                max_apdu,
                invoke_id,
                segment,
                service,
                body,
                data,
            })
        }
        PduType::UNCONFIRMED_REQUEST => {
            reserved(0x0f, an);
            let service = UnconfirmedService(r.u8()?);
            if !service.is_known() {
                *an |= Anomalies::UNKNOWN_SERVICE;
            }
            let data = r.take_rest();
            let body = decode_unconfirmed_request(service, data, an);
            Apdu::UnconfirmedRequest(UnconfirmedRequest { service, body, data })
        }
        PduType::SIMPLE_ACK => {
            reserved(0x0f, an);
            let invoke_id = r.u8()?;
            let service = ConfirmedService(r.u8()?);
            if !service.is_known() {
                *an |= Anomalies::UNKNOWN_SERVICE;
            }
            trailing(&r, an);
            Apdu::SimpleAck { invoke_id, service }
        }
        PduType::COMPLEX_ACK => {
            reserved(0x03, an);
            let segmented = flags & 0x08 != 0;
            let more_follows = flags & 0x04 != 0;
            let invoke_id = r.u8()?;
            let segment = read_segment_header(&mut r, segmented, more_follows, an)?;
            let service = ConfirmedService(r.u8()?);
            if !service.is_known() {
                *an |= Anomalies::UNKNOWN_SERVICE;
            }
            let data = r.take_rest();
            let body = if segmented {
                ComplexAckBody::Segment(data)
            } else {
                decode_complex_ack(service, data, an)
            };
            Apdu::ComplexAck(ComplexAck {
                segmented,
                more_follows,
                invoke_id,
                segment,
                service,
                body,
                data,
            })
        }
        PduType::SEGMENT_ACK => {
            reserved(0x0c, an);
            let invoke_id = r.u8()?;
            let sequence_number = r.u8()?;
            let actual_window_size = r.u8()?;
            if actual_window_size == 0 || actual_window_size > 127 {
                *an |= Anomalies::SEGMENTATION_ERROR;
            }
            trailing(&r, an);
            Apdu::SegmentAck {
                negative: flags & 0x02 != 0,
                from_server: flags & 0x01 != 0,
                invoke_id,
                sequence_number,
                actual_window_size,
            }
        }
        PduType::ERROR => {
            reserved(0x0f, an);
            let invoke_id = r.u8()?;
            let service = ConfirmedService(r.u8()?);
            if !service.is_known() {
                *an |= Anomalies::UNKNOWN_SERVICE;
            }
            let data = r.take_rest();
            let error = decode_error(data, an);
            Apdu::Error(ErrorPdu { invoke_id, service, error, data })
        }
        PduType::REJECT => {
            reserved(0x0f, an);
            let invoke_id = r.u8()?;
            let reason = RejectReason(r.u8()?);
            trailing(&r, an);
            Apdu::Reject { invoke_id, reason }
        }
        PduType::ABORT => {
            reserved(0x0e, an);
            let invoke_id = r.u8()?;
            let reason = AbortReason(r.u8()?);
            trailing(&r, an);
            Apdu::Abort { from_server: flags & 0x01 != 0, invoke_id, reason }
        }
        _ => {
            *an |= Anomalies::APDU_RESERVED_TYPE;
            Apdu::Reserved { pdu_type, data: input }
        }
    };
    Ok(apdu)
}

fn trailing(r: &Reader<'_>, an: &mut Anomalies) {
    if r.any_left() {
        *an |= Anomalies::SERVICE_TRAILING_DATA;
    }
}

fn read_segment_header(
    r: &mut Reader<'_>,
    segmented: bool,
    more_follows: bool,
    an: &mut Anomalies,
) -> Result<Option<SegmentHeader>, DecodeError> {
    if !segmented {
        if more_follows {
            *an |= Anomalies::SEGMENTATION_ERROR;
        }
        return Ok(None);
    }
    let sequence_number = r.u8()?;
    let proposed_window_size = r.u8()?;
    if proposed_window_size == 0 || proposed_window_size > 127 {
        *an |= Anomalies::SEGMENTATION_ERROR;
    }
    Ok(Some(SegmentHeader { sequence_number, proposed_window_size }))
}

/// Runs a service decoder over `data`; failures keep the data raw and set
/// `bacnet.service_malformed`, leftovers set `bacnet.service_trailing_data`.
fn decode_with<'a, T>(
    data: &'a [u8],
    an: &mut Anomalies,
    raw: impl FnOnce(&'a [u8]) -> T,
    f: impl FnOnce(&mut Tags<'a>, &mut Anomalies) -> Result<T, DecodeError>,
) -> T {
    let mut t = Tags::new(data);
    let mut found = Anomalies::NONE;
    match f(&mut t, &mut found) {
        Ok(v) => {
            *an |= found;
            if !t.is_empty() {
                *an |= Anomalies::SERVICE_TRAILING_DATA;
            }
            v
        }
        Err(_) => {
            *an |= found | Anomalies::SERVICE_MALFORMED;
            raw(data)
        }
    }
}

fn to_u32(v: u64, an: &mut Anomalies) -> u32 {
    u32::try_from(v).unwrap_or_else(|_| {
        *an |= Anomalies::INVALID_PARAMETER;
        u32::MAX
    })
}

fn property_ref(
    t: &mut Tags<'_>,
    tags: [u8; 3],
    an: &mut Anomalies,
) -> Result<PropertyRef, DecodeError> {
    let [obj_tag, prop_tag, index_tag] = tags;
    let object = t.context_object_id(obj_tag)?;
    property_ref_for(object, t, [prop_tag, index_tag], an)
}

fn property_ref_for(
    object: ObjectId,
    t: &mut Tags<'_>,
    tags: [u8; 2],
    an: &mut Anomalies,
) -> Result<PropertyRef, DecodeError> {
    let [prop_tag, index_tag] = tags;
    let property = PropertyId(to_u32(t.context_unsigned(prop_tag)?, an));
    let array_index = t.opt_context_unsigned(index_tag)?.map(|v| to_u32(v, an));
    Ok(PropertyRef { object, property, array_index })
}

fn check_charset(s: &CharacterString<'_>, an: &mut Anomalies) {
    if !s.charset.is_known() {
        *an |= Anomalies::UNKNOWN_CHARACTER_SET;
    }
}

fn check_password(p: &Option<CharacterString<'_>>, an: &mut Anomalies) {
    if let Some(p) = p {
        check_charset(p, an);
        let chars = p.to_string_lossy().chars().count();
        if chars == 0 || chars > MAX_PASSWORD_LEN {
            *an |= Anomalies::INVALID_PARAMETER;
        }
    }
}

fn push_capped<T>(list: &mut Vec<T>, item: T, an: &mut Anomalies) {
    if list.len() < MAX_LIST_ITEMS {
        list.push(item);
    } else {
        *an |= Anomalies::TOO_MANY_ITEMS;
    }
}

/// Decodes the parameters of an unsegmented (or reassembled) Confirmed-Request.
pub fn decode_confirmed_request<'a>(
    service: ConfirmedService,
    data: &'a [u8],
    an: &mut Anomalies,
) -> ConfirmedRequestBody<'a> {
    use ConfirmedRequestBody as B;
    match service {
        ConfirmedService::READ_PROPERTY => decode_with(data, an, B::Other, |t, an| {
            Ok(B::ReadProperty(property_ref(t, [0, 1, 2], an)?))
        }),
        ConfirmedService::READ_RANGE => decode_with(data, an, B::Other, |t, an| {
            let p = property_ref(t, [0, 1, 2], an)?;
            // The range parameters are not needed; check they are well formed.
            while !t.is_empty() {
                t.skip_value()?;
            }
            Ok(B::ReadRange(p))
        }),
        ConfirmedService::READ_PROPERTY_MULTIPLE => decode_with(data, an, B::Other, |t, an| {
            let mut refs = Vec::new();
            while !t.is_empty() {
                let object = t.context_object_id(0)?;
                t.opening(1)?;
                while !t.at_closing(1) {
                    let p = property_ref_for(object, t, [0, 1], an)?;
                    push_capped(&mut refs, p, an);
                }
                t.closing(1)?;
            }
            if refs.is_empty() {
                return Err(DecodeError::Malformed("bacnet: empty ReadPropertyMultiple"));
            }
            Ok(B::ReadPropertyMultiple(refs))
        }),
        ConfirmedService::WRITE_PROPERTY => decode_with(data, an, B::Other, |t, an| {
            let target = property_ref(t, [0, 1, 2], an)?;
            let value = t.enclosed(3)?;
            let priority = priority(t.opt_context_unsigned(4)?, an);
            Ok(B::WriteProperty(PropertyWrite { target, value, priority }))
        }),
        ConfirmedService::WRITE_PROPERTY_MULTIPLE => decode_with(data, an, B::Other, |t, an| {
            let mut writes = Vec::new();
            while !t.is_empty() {
                let object = t.context_object_id(0)?;
                t.opening(1)?;
                while !t.at_closing(1) {
                    let target = property_ref_for(object, t, [0, 1], an)?;
                    let value = t.enclosed(2)?;
                    let priority = priority(t.opt_context_unsigned(3)?, an);
                    push_capped(&mut writes, PropertyWrite { target, value, priority }, an);
                }
                t.closing(1)?;
            }
            if writes.is_empty() {
                return Err(DecodeError::Malformed("bacnet: empty WritePropertyMultiple"));
            }
            Ok(B::WritePropertyMultiple(writes))
        }),
        ConfirmedService::DEVICE_COMMUNICATION_CONTROL => {
            decode_with(data, an, B::Other, |t, an| {
                let duration_minutes = t.opt_context_unsigned(0)?.map(|v| to_u32(v, an));
                if duration_minutes.is_some_and(|d| d > u32::from(u16::MAX)) {
                    *an |= Anomalies::INVALID_PARAMETER;
                }
                let state = EnableDisable(to_u32(t.context_unsigned(1)?, an));
                if !state.is_known() {
                    *an |= Anomalies::INVALID_PARAMETER;
                }
                let password = t.opt_context_string(2)?;
                check_password(&password, an);
                Ok(B::DeviceCommunicationControl(DeviceCommunicationControl {
                    duration_minutes,
                    state,
                    password,
                }))
            })
        }
        ConfirmedService::REINITIALIZE_DEVICE => decode_with(data, an, B::Other, |t, an| {
            let state = ReinitState(to_u32(t.context_unsigned(0)?, an));
            if !state.is_known() {
                *an |= Anomalies::INVALID_PARAMETER;
            }
            let password = t.opt_context_string(1)?;
            check_password(&password, an);
            Ok(B::ReinitializeDevice(ReinitializeDevice { state, password }))
        }),
        ConfirmedService::ATOMIC_READ_FILE => decode_with(data, an, B::Other, |t, _| {
            let file = t.app_object_id()?;
            let access = if t.at_opening(0) {
                t.opening(0)?;
                let start = t.app_signed()?;
                let count = t.app_unsigned()?;
                t.closing(0)?;
                FileAccess::Stream { start, count }
            } else {
                t.opening(1)?;
                let start = t.app_signed()?;
                let count = t.app_unsigned()?;
                t.closing(1)?;
                FileAccess::Record { start, count }
            };
            Ok(B::AtomicReadFile(AtomicReadFile { file, access }))
        }),
        ConfirmedService::ATOMIC_WRITE_FILE => decode_with(data, an, B::Other, |t, _| {
            let file = t.app_object_id()?;
            let (access, data) = if t.at_opening(0) {
                t.opening(0)?;
                let start = t.app_signed()?;
                let data = t.app_octets()?;
                t.closing(0)?;
                (
                    FileAccess::Stream {
                        start,
                        count: u64::try_from(data.len()).unwrap_or(u64::MAX),
                    },
                    data,
                )
            } else {
                t.opening(1)?;
                let start = t.app_signed()?;
                let count = t.app_unsigned()?;
                let mut first = None;
                while !t.at_closing(1) {
                    let record = t.app_octets()?;
                    first.get_or_insert(record);
                }
                t.closing(1)?;
                (FileAccess::Record { start, count }, first.unwrap_or_default())
            };
            Ok(B::AtomicWriteFile(AtomicWriteFile { file, access, data }))
        }),
        ConfirmedService::CONFIRMED_PRIVATE_TRANSFER => decode_with(data, an, B::Other, |t, an| {
            Ok(B::ConfirmedPrivateTransfer(private_transfer(t, an)?))
        }),
        ConfirmedService::LIFE_SAFETY_OPERATION => decode_with(data, an, B::Other, |t, an| {
            let process_id = to_u32(t.context_unsigned(0)?, an);
            let source = t.context_string(1)?;
            check_charset(&source, an);
            let operation = to_u32(t.context_unsigned(2)?, an);
            if operation > 9 && operation < 64 {
                *an |= Anomalies::INVALID_PARAMETER;
            }
            let object = t.opt_context_object_id(3)?;
            Ok(B::LifeSafetyOperation(LifeSafetyOperation {
                process_id,
                source,
                operation,
                object,
            }))
        }),
        ConfirmedService::CREATE_OBJECT => decode_with(data, an, B::Other, |t, an| {
            t.opening(0)?;
            let spec = if let Some(ty) = t.opt_context_unsigned(0)? {
                CreateObject::Type(ObjectType(u16::try_from(ty).unwrap_or_else(|_| {
                    *an |= Anomalies::INVALID_PARAMETER;
                    u16::MAX
                })))
            } else {
                CreateObject::Id(t.context_object_id(1)?)
            };
            t.closing(0)?;
            if t.at_opening(1) {
                t.enclosed(1)?;
            }
            Ok(B::CreateObject(spec))
        }),
        ConfirmedService::DELETE_OBJECT => {
            decode_with(data, an, B::Other, |t, _| Ok(B::DeleteObject(t.app_object_id()?)))
        }
        ConfirmedService::ADD_LIST_ELEMENT | ConfirmedService::REMOVE_LIST_ELEMENT => {
            decode_with(data, an, B::Other, |t, an| {
                let p = property_ref(t, [0, 1, 2], an)?;
                t.enclosed(3)?;
                Ok(B::ListElement(p))
            })
        }
        ConfirmedService::SUBSCRIBE_COV | ConfirmedService::SUBSCRIBE_COV_PROPERTY => {
            decode_with(data, an, B::Other, |t, an| {
                let process_id = to_u32(t.context_unsigned(0)?, an);
                let object = t.context_object_id(1)?;
                while !t.is_empty() {
                    t.skip_value()?;
                }
                Ok(B::SubscribeCov { process_id, object })
            })
        }
        _ => B::Other(data),
    }
}

fn priority(p: Option<u64>, an: &mut Anomalies) -> Option<u8> {
    p.map(|p| match u8::try_from(p) {
        Ok(v @ 1..=16) => v,
        _ => {
            *an |= Anomalies::INVALID_PARAMETER;
            u8::try_from(p).unwrap_or(u8::MAX)
        }
    })
}

fn private_transfer<'a>(
    t: &mut Tags<'a>,
    an: &mut Anomalies,
) -> Result<PrivateTransfer<'a>, DecodeError> {
    let vendor_id = to_u32(t.context_unsigned(0)?, an);
    let service_number = to_u32(t.context_unsigned(1)?, an);
    let parameters = if t.at_opening(2) { Some(t.enclosed(2)?) } else { None };
    Ok(PrivateTransfer { vendor_id, service_number, parameters })
}

/// Decodes the parameters of an unsegmented (or reassembled) ComplexACK.
pub fn decode_complex_ack<'a>(
    service: ConfirmedService,
    data: &'a [u8],
    an: &mut Anomalies,
) -> ComplexAckBody<'a> {
    use ComplexAckBody as B;
    match service {
        ConfirmedService::READ_PROPERTY => decode_with(data, an, B::Other, |t, an| {
            let target = property_ref(t, [0, 1, 2], an)?;
            let value = t.enclosed(3)?;
            Ok(B::ReadProperty(PropertyValue { target, value }))
        }),
        ConfirmedService::READ_PROPERTY_MULTIPLE => decode_with(data, an, B::Other, |t, an| {
            let mut results = Vec::new();
            while !t.is_empty() {
                let object = t.context_object_id(0)?;
                t.opening(1)?;
                while !t.at_closing(1) {
                    let target = property_ref_for(object, t, [2, 3], an)?;
                    let value = if t.at_opening(5) {
                        t.opening(5)?;
                        let e = error_pair(t, an)?;
                        t.closing(5)?;
                        Err(e)
                    } else {
                        Ok(t.enclosed(4)?)
                    };
                    push_capped(&mut results, PropertyResult { target, value }, an);
                }
                t.closing(1)?;
            }
            Ok(B::ReadPropertyMultiple(ReadPropertyMultipleAck { results }))
        }),
        ConfirmedService::ATOMIC_READ_FILE => decode_with(data, an, B::Other, |t, _| {
            let end_of_file = t.app_boolean()?;
            if t.at_opening(0) {
                t.opening(0)?;
                let start = t.app_signed()?;
                let data = t.app_octets()?;
                t.closing(0)?;
                let access = FileAccess::Stream {
                    start,
                    count: u64::try_from(data.len()).unwrap_or(u64::MAX),
                };
                Ok(B::AtomicReadFile { end_of_file, access, data })
            } else {
                t.opening(1)?;
                let start = t.app_signed()?;
                let count = t.app_unsigned()?;
                let mut first = None;
                while !t.at_closing(1) {
                    let record = t.app_octets()?;
                    first.get_or_insert(record);
                }
                t.closing(1)?;
                let access = FileAccess::Record { start, count };
                Ok(B::AtomicReadFile { end_of_file, access, data: first.unwrap_or_default() })
            }
        }),
        _ => B::Other(data),
    }
}

fn error_pair(t: &mut Tags<'_>, an: &mut Anomalies) -> Result<BacnetError, DecodeError> {
    let class = ErrorClass(to_u32(t.app_enumerated()?, an));
    let code = ErrorCode(to_u32(t.app_enumerated()?, an));
    Ok(BacnetError { class, code })
}

/// The error of an Error PDU: a plain class/code pair, or for services with a
/// structured error, the pair inside its `[0] errorType`.
fn decode_error(data: &[u8], an: &mut Anomalies) -> Option<BacnetError> {
    decode_with(
        data,
        an,
        |_| None,
        |t, an| {
            if t.at_opening(0) {
                t.opening(0)?;
                let e = error_pair(t, an)?;
                t.closing(0)?;
                // The rest (first failed element, vendor id, …) is service specific.
                while !t.is_empty() {
                    t.skip_value()?;
                }
                Ok(Some(e))
            } else {
                error_pair(t, an).map(Some)
            }
        },
    )
}

/// Decodes the parameters of an Unconfirmed-Request.
pub fn decode_unconfirmed_request<'a>(
    service: UnconfirmedService,
    data: &'a [u8],
    an: &mut Anomalies,
) -> UnconfirmedRequestBody<'a> {
    use UnconfirmedRequestBody as B;
    match service {
        UnconfirmedService::I_AM => decode_with(data, an, B::Other, |t, an| {
            let device = t.app_object_id()?;
            if device.object_type != ObjectType::DEVICE {
                *an |= Anomalies::INVALID_PARAMETER;
            }
            let max_apdu = to_u32(t.app_unsigned()?, an);
            let segmentation = Segmentation(to_u32(t.app_enumerated()?, an));
            if !segmentation.is_known() {
                *an |= Anomalies::INVALID_PARAMETER;
            }
            let vendor_id = to_u32(t.app_unsigned()?, an);
            if vendor_id > u32::from(u16::MAX) {
                *an |= Anomalies::INVALID_PARAMETER;
            }
            Ok(B::IAm(IAm { device, max_apdu, segmentation, vendor_id }))
        }),
        UnconfirmedService::I_HAVE => decode_with(data, an, B::Other, |t, an| {
            let device = t.app_object_id()?;
            let object = t.app_object_id()?;
            let name = t.app_string()?;
            check_charset(&name, an);
            Ok(B::IHave(IHave { device, object, name }))
        }),
        UnconfirmedService::WHO_IS => {
            decode_with(data, an, B::Other, |t, an| Ok(B::WhoIs { range: instance_range(t, an)? }))
        }
        UnconfirmedService::WHO_HAS => decode_with(data, an, B::Other, |t, an| {
            let range = instance_range(t, an)?;
            let object = if let Some(id) = t.opt_context_object_id(2)? {
                WhoHasObject::Id(id)
            } else {
                let name = t.context_string(3)?;
                check_charset(&name, an);
                WhoHasObject::Name(name)
            };
            Ok(B::WhoHas(WhoHas { range, object }))
        }),
        UnconfirmedService::TIME_SYNCHRONIZATION | UnconfirmedService::UTC_TIME_SYNCHRONIZATION => {
            decode_with(data, an, B::Other, |t, _| match (t.app_value()?, t.app_value()?) {
                (super::tag::Value::Date(date), super::tag::Value::Time(time)) => {
                    Ok(B::TimeSynchronization { date, time })
                }
                _ => Err(DecodeError::Malformed("bacnet: time synchronization without date/time")),
            })
        }
        UnconfirmedService::UNCONFIRMED_PRIVATE_TRANSFER => {
            decode_with(data, an, B::Other, |t, an| {
                Ok(B::UnconfirmedPrivateTransfer(private_transfer(t, an)?))
            })
        }
        UnconfirmedService::WHO_AM_I => {
            decode_with(data, an, B::Other, |t, an| Ok(B::WhoAmI(device_identity(t, an)?)))
        }
        UnconfirmedService::YOU_ARE => decode_with(data, an, B::Other, |t, an| {
            let identity = device_identity(t, an)?;
            let device = match t.peek() {
                Some(tag)
                    if tag.class == super::tag::TagClass::Application
                        && tag.number == super::tag::app::OBJECT_ID =>
                {
                    Some(t.app_object_id()?)
                }
                _ => None,
            };
            let mac = if t.is_empty() { None } else { Some(t.app_octets()?) };
            Ok(B::YouAre { identity, device, mac })
        }),
        _ => B::Other(data),
    }
}

fn device_identity<'a>(
    t: &mut Tags<'a>,
    an: &mut Anomalies,
) -> Result<DeviceIdentity<'a>, DecodeError> {
    let vendor_id = to_u32(t.app_unsigned()?, an);
    if vendor_id > u32::from(u16::MAX) {
        *an |= Anomalies::INVALID_PARAMETER;
    }
    let model_name = t.app_string()?;
    let serial_number = t.app_string()?;
    check_charset(&model_name, an);
    check_charset(&serial_number, an);
    Ok(DeviceIdentity { vendor_id, model_name, serial_number })
}

/// The optional `[0] low limit, [1] high limit` pair of Who-Is and Who-Has: both
/// or neither.
fn instance_range(t: &mut Tags<'_>, an: &mut Anomalies) -> Result<Option<(u32, u32)>, DecodeError> {
    let Some(low) = t.opt_context_unsigned(0)? else { return Ok(None) };
    let high = t.context_unsigned(1)?;
    let (low, high) = (to_u32(low, an), to_u32(high, an));
    if low > MAX_INSTANCE || high > MAX_INSTANCE {
        *an |= Anomalies::INVALID_PARAMETER;
    }
    Ok(Some((low, high)))
}
