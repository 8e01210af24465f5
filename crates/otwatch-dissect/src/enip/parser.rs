//! Decoding of the encapsulation header, CPF items, CIP messages and EPATHs.
//!
//! Framing errors (`Incomplete`/`Malformed`) come only from the
//! encapsulation header; everything inside a framed message is decoded
//! tolerantly and problems become anomaly flags. Nothing here keeps state.

use super::anomaly::Anomalies;
use super::types::*;
use super::{MAX_CIP_DEPTH, MAX_CPF_ITEMS, MAX_MSP_SERVICES};
use crate::reader::Reader;
use crate::{DecodeError, Direction};

/// Length of the encapsulation header.
pub const HEADER_LEN: usize = 24;

/// Which transport a CPF list travels in; it decides how connected data is read.
#[derive(Clone, Copy, PartialEq, Eq)]
enum CpfContext {
    /// SendRRData: unconnected CIP messages.
    SendRrData,
    /// SendUnitData: connected class-3 data (sequence count + CIP).
    SendUnitData,
    /// A List reply.
    ListReply,
    /// Class 0/1 I/O on UDP.
    Io,
}

/// Reads the encapsulation header.
pub fn header(r: &mut Reader<'_>) -> Result<EncapHeader, DecodeError> {
    Ok(EncapHeader {
        command: Command(r.u16_le()?),
        length: r.u16_le()?,
        session_handle: r.u32_le()?,
        status: EncapStatus(r.u32_le()?),
        sender_context: r.take_array::<8>()?,
        options: r.u32_le()?,
    })
}

/// Decodes the encapsulation header at the start of `input` alone (for a
/// datagram whose data is cut short).
pub fn parse_header(input: &[u8]) -> Result<EncapHeader, DecodeError> {
    header(&mut Reader::new(input))
}

/// Length of the encapsulation message at the start of `input`.
pub fn pdu_len(input: &[u8]) -> Result<usize, DecodeError> {
    if input.len() < HEADER_LEN {
        return Err(DecodeError::incomplete(HEADER_LEN.saturating_sub(input.len())));
    }
    let mut r = Reader::new(input);
    let command = Command(r.u16_le()?);
    let length = r.u16_le()?;
    if !command.is_frameable() {
        return Err(DecodeError::Malformed("enip: command outside the encapsulation range"));
    }
    HEADER_LEN
        .checked_add(usize::from(length))
        .ok_or(DecodeError::Malformed("enip: length overflow"))
}

/// Decodes one encapsulation message; returns the bytes after it.
pub fn parse<'a>(
    input: &'a [u8],
    dir: Direction,
) -> Result<(&'a [u8], EnipMessage<'a>), DecodeError> {
    let total = pdu_len(input)?;
    let mut outer = Reader::new(input);
    let pdu = outer.take(total)?;
    let mut r = Reader::new(pdu);
    let header = header(&mut r)?;
    let raw_data = r.take_rest();
    let mut an = Anomalies::NONE;
    if header.options != 0 {
        an.insert(Anomalies::NONZERO_OPTIONS);
    }
    let data = command_data(&header, raw_data, dir, &mut an);
    Ok((outer.rest(), EnipMessage { header, raw_data, data, anomalies: an }))
}

fn command_data<'a>(
    h: &EncapHeader,
    data: &'a [u8],
    dir: Direction,
    an: &mut Anomalies,
) -> CommandData<'a> {
    match h.command {
        Command::NOP => CommandData::Nop(data),
        Command::LIST_IDENTITY | Command::LIST_SERVICES | Command::LIST_INTERFACES => {
            if data.is_empty() {
                return CommandData::Empty;
            }
            if dir == Direction::ToServer {
                // Requests carry no data; tolerate and decode it as a reply anyway.
                an.insert(Anomalies::UNEXPECTED_DATA);
            }
            let mut r = Reader::new(data);
            CommandData::Items(cpf(&mut r, CpfContext::ListReply, 0, an))
        }
        Command::REGISTER_SESSION => {
            let mut r = Reader::new(data);
            match (r.u16_le(), r.u16_le()) {
                (Ok(protocol_version), Ok(options)) => {
                    if r.any_left() {
                        an.insert(Anomalies::INVALID_LENGTH);
                    }
                    if protocol_version != 1 {
                        an.insert(Anomalies::UNSUPPORTED_VERSION);
                    }
                    CommandData::RegisterSession { protocol_version, options }
                }
                _ => {
                    if h.status == EncapStatus::SUCCESS || !data.is_empty() {
                        an.insert(Anomalies::INVALID_LENGTH);
                    }
                    CommandData::Raw(data)
                }
            }
        }
        Command::UNREGISTER_SESSION => {
            if data.is_empty() {
                CommandData::Empty
            } else {
                an.insert(Anomalies::UNEXPECTED_DATA);
                CommandData::Raw(data)
            }
        }
        Command::SEND_RR_DATA | Command::SEND_UNIT_DATA => {
            if data.is_empty() && h.status != EncapStatus::SUCCESS {
                return CommandData::Empty;
            }
            if h.session_handle == 0 {
                an.insert(Anomalies::MISSING_SESSION);
            }
            let ctx = if h.command == Command::SEND_RR_DATA {
                CpfContext::SendRrData
            } else {
                CpfContext::SendUnitData
            };
            let mut r = Reader::new(data);
            match (r.u32_le(), r.u16_le()) {
                (Ok(interface_handle), Ok(timeout)) => {
                    if interface_handle != 0 {
                        an.insert(Anomalies::INVALID_INTERFACE);
                    }
                    let items = cpf(&mut r, ctx, 0, an);
                    check_send_items(ctx, &items, an);
                    CommandData::Send(SendData { interface_handle, timeout, items })
                }
                _ => {
                    an.insert(Anomalies::INVALID_LENGTH);
                    CommandData::Raw(data)
                }
            }
        }
        Command::INDICATE_STATUS | Command::CANCEL => CommandData::Raw(data),
        _ => {
            an.insert(Anomalies::UNKNOWN_COMMAND);
            if data.is_empty() { CommandData::Empty } else { CommandData::Raw(data) }
        }
    }
}

/// SendRRData carries a null address and unconnected data; SendUnitData a
/// connected address and connected data (sockaddr items may follow).
fn check_send_items(ctx: CpfContext, items: &[CpfItem<'_>], an: &mut Anomalies) {
    let (addr_ok, data_ok) = match ctx {
        CpfContext::SendRrData => (
            matches!(items.first(), Some(CpfItem::NullAddress)),
            matches!(items.get(1), Some(CpfItem::UnconnectedData(_))),
        ),
        _ => (
            matches!(items.first(), Some(CpfItem::ConnectedAddress { .. })),
            matches!(items.get(1), Some(CpfItem::ConnectedData { .. })),
        ),
    };
    if !addr_ok || !data_ok {
        an.insert(Anomalies::UNEXPECTED_ITEM);
    }
}

fn cpf<'a>(r: &mut Reader<'a>, ctx: CpfContext, depth: u8, an: &mut Anomalies) -> Vec<CpfItem<'a>> {
    let Ok(count) = r.u16_le() else {
        an.insert(Anomalies::INVALID_ITEM);
        return Vec::new();
    };
    let mut items = Vec::with_capacity(usize::from(count).min(MAX_CPF_ITEMS));
    for _ in 0..count {
        if items.len() >= MAX_CPF_ITEMS {
            an.insert(Anomalies::TOO_MANY_ITEMS);
            r.take_rest();
            break;
        }
        let (Ok(type_id), Ok(len)) = (r.u16_le(), r.u16_le()) else {
            an.insert(Anomalies::INVALID_ITEM);
            r.take_rest();
            break;
        };
        let Ok(body) = r.take(usize::from(len)) else {
            an.insert(Anomalies::INVALID_ITEM);
            let rest = r.take_rest();
            // I/O data is opaque: keep what arrived of a truncated data item.
            if ctx == CpfContext::Io && ItemType(type_id) == ItemType::CONNECTED_DATA {
                items.push(CpfItem::IoData(rest));
            }
            break;
        };
        items.push(item(ItemType(type_id), body, ctx, depth, an));
    }
    if r.any_left() {
        an.insert(Anomalies::INVALID_LENGTH);
    }
    items
}

fn item<'a>(
    t: ItemType,
    body: &'a [u8],
    ctx: CpfContext,
    depth: u8,
    an: &mut Anomalies,
) -> CpfItem<'a> {
    let mut r = Reader::new(body);
    let other = CpfItem::Other { item_type: t, data: body };
    match t {
        ItemType::NULL_ADDRESS => {
            if !body.is_empty() {
                an.insert(Anomalies::INVALID_ITEM);
            }
            CpfItem::NullAddress
        }
        ItemType::CONNECTED_ADDRESS => match r.u32_le() {
            Ok(connection_id) if !r.any_left() => CpfItem::ConnectedAddress { connection_id },
            _ => {
                an.insert(Anomalies::INVALID_ITEM);
                other
            }
        },
        ItemType::SEQUENCED_ADDRESS => match (r.u32_le(), r.u32_le()) {
            (Ok(connection_id), Ok(sequence)) if !r.any_left() => {
                CpfItem::SequencedAddress { connection_id, sequence }
            }
            _ => {
                an.insert(Anomalies::INVALID_ITEM);
                other
            }
        },
        ItemType::UNCONNECTED_DATA => {
            if ctx != CpfContext::SendRrData {
                an.insert(Anomalies::UNEXPECTED_ITEM);
            }
            CpfItem::UnconnectedData(cip_payload(body, depth, None, an))
        }
        ItemType::CONNECTED_DATA => match ctx {
            CpfContext::SendUnitData => match r.u16_le() {
                Ok(sequence_count) => CpfItem::ConnectedData {
                    sequence_count,
                    payload: cip_payload(r.rest(), depth, None, an),
                },
                Err(_) => {
                    an.insert(Anomalies::INVALID_ITEM);
                    other
                }
            },
            CpfContext::Io => CpfItem::IoData(body),
            _ => {
                an.insert(Anomalies::UNEXPECTED_ITEM);
                CpfItem::IoData(body)
            }
        },
        ItemType::LIST_IDENTITY => match list_identity(&mut r) {
            Ok(id) => CpfItem::ListIdentity(id),
            Err(_) => {
                an.insert(Anomalies::INVALID_ITEM);
                other
            }
        },
        ItemType::LIST_SERVICES => match service_info(&mut r) {
            Ok(s) => CpfItem::ListServices(s),
            Err(_) => {
                an.insert(Anomalies::INVALID_ITEM);
                other
            }
        },
        ItemType::SOCKADDR_O_T | ItemType::SOCKADDR_T_O => match sockaddr(&mut r) {
            Ok(addr) if !r.any_left() => CpfItem::SockAddr { item_type: t, addr },
            _ => {
                an.insert(Anomalies::INVALID_ITEM);
                other
            }
        },
        _ => other,
    }
}

fn sockaddr(r: &mut Reader<'_>) -> Result<SockAddr, DecodeError> {
    let family = r.u16_be()?;
    let port = r.u16_be()?;
    let addr = r.take_array::<4>()?;
    r.skip(8)?;
    Ok(SockAddr { family, port, addr })
}

fn short_string<'a>(r: &mut Reader<'a>) -> Result<&'a [u8], DecodeError> {
    let n = r.u8()?;
    r.take(usize::from(n))
}

fn identity_fields<'a>(r: &mut Reader<'a>) -> Result<Identity<'a>, DecodeError> {
    Ok(Identity {
        vendor_id: r.u16_le()?,
        device_type: r.u16_le()?,
        product_code: r.u16_le()?,
        revision_major: r.u8()?,
        revision_minor: r.u8()?,
        status: r.u16_le()?,
        serial_number: r.u32_le()?,
        product_name: short_string(r)?,
    })
}

fn list_identity<'a>(r: &mut Reader<'a>) -> Result<ListIdentityItem<'a>, DecodeError> {
    let protocol_version = r.u16_le()?;
    let socket = sockaddr(r)?;
    let identity = identity_fields(r)?;
    let state = r.u8().ok();
    Ok(ListIdentityItem { protocol_version, socket, identity, state })
}

fn service_info<'a>(r: &mut Reader<'a>) -> Result<ServiceInfo<'a>, DecodeError> {
    Ok(ServiceInfo {
        protocol_version: r.u16_le()?,
        capability_flags: r.u16_le()?,
        name: r.take(16)?,
    })
}

/// Decodes the Identity object's attributes 1–7 as returned by
/// Get_Attributes_All on class 0x01 (Vol. 1, §5-2.3); `None` if too short.
pub fn parse_identity(data: &[u8]) -> Option<Identity<'_>> {
    identity_fields(&mut Reader::new(data)).ok()
}

/// Decodes a successful Forward Open (or Large Forward Open) reply's data;
/// `None` if it does not fit the structure.
pub fn parse_forward_open_reply(data: &[u8]) -> Option<ForwardOpenReply<'_>> {
    forward_open_reply(&mut Reader::new(data)).ok()
}

fn forward_open_reply<'a>(r: &mut Reader<'a>) -> Result<ForwardOpenReply<'a>, DecodeError> {
    let o_t_connection_id = r.u32_le()?;
    let t_o_connection_id = r.u32_le()?;
    let connection_serial = r.u16_le()?;
    let originator_vendor_id = r.u16_le()?;
    let originator_serial = r.u32_le()?;
    let o_t_api = r.u32_le()?;
    let t_o_api = r.u32_le()?;
    let words = r.u8()?;
    let _reserved = r.u8()?;
    let application_reply = r.take(usize::from(words).saturating_mul(2))?;
    Ok(ForwardOpenReply {
        o_t_connection_id,
        t_o_connection_id,
        connection_serial,
        originator_vendor_id,
        originator_serial,
        o_t_api,
        t_o_api,
        application_reply,
    })
}

/// Decodes a CIP message into a payload, flagging it if it cannot be framed.
/// `expect_response` (when known) checks the direction of embedded messages.
fn cip_payload<'a>(
    raw: &'a [u8],
    depth: u8,
    expect_response: Option<bool>,
    an: &mut Anomalies,
) -> CipPayload<'a> {
    match cip_message(raw, depth, an) {
        Ok(m) => {
            if let Some(want) = expect_response
                && m.is_response() != want
            {
                an.insert(Anomalies::CIP_UNEXPECTED_DIRECTION);
            }
            CipPayload { raw, message: Some(m) }
        }
        Err(_) => {
            an.insert(Anomalies::CIP_MALFORMED);
            CipPayload { raw, message: None }
        }
    }
}

/// Decodes a CIP message (Message Router request or response, Vol. 1 §2-4).
///
/// Fails only when the header or request path runs past the data; service
/// data that does not fit its structure is flagged instead.
pub fn parse_cip(data: &[u8]) -> Result<(CipMessage<'_>, Anomalies), DecodeError> {
    let mut an = Anomalies::NONE;
    let m = cip_message(data, 0, &mut an)?;
    Ok((m, an))
}

fn cip_message<'a>(
    data: &'a [u8],
    depth: u8,
    an: &mut Anomalies,
) -> Result<CipMessage<'a>, DecodeError> {
    let mut r = Reader::new(data);
    let raw_service = r.u8()?;
    let service = ServiceCode(raw_service & 0x7F);
    if service.is_reserved() {
        an.insert(Anomalies::CIP_RESERVED_SERVICE);
    }
    if raw_service & 0x80 != 0 {
        let reserved = r.u8()?;
        let general_status = GeneralStatus(r.u8()?);
        let words = r.u8()?;
        let additional_status = r.take(usize::from(words).saturating_mul(2))?;
        if reserved != 0 {
            an.insert(Anomalies::CIP_RESERVED_NONZERO);
        }
        let data = r.take_rest();
        let body = if service == ServiceCode::MULTIPLE_SERVICE_PACKET && !data.is_empty() {
            ServiceBody::MultipleService(multiple_service(data, true, depth, an))
        } else {
            ServiceBody::None
        };
        Ok(CipMessage {
            raw_service,
            service,
            kind: CipKind::Response { general_status, additional_status },
            data,
            body,
        })
    } else {
        let words = r.u8()?;
        let path = Epath::new(r.take(usize::from(words).saturating_mul(2))?);
        if !path.is_well_formed() {
            an.insert(Anomalies::CIP_INVALID_PATH);
        }
        let data = r.take_rest();
        let body = request_body(service, path.target(), data, depth, an);
        Ok(CipMessage { raw_service, service, kind: CipKind::Request { path }, data, body })
    }
}

fn request_body<'a>(
    service: ServiceCode,
    target: Target,
    data: &'a [u8],
    depth: u8,
    an: &mut Anomalies,
) -> ServiceBody<'a> {
    if service == ServiceCode::MULTIPLE_SERVICE_PACKET {
        return ServiceBody::MultipleService(multiple_service(data, false, depth, an));
    }
    if target != Target::Class(ClassId::CONNECTION_MANAGER) {
        return ServiceBody::None;
    }
    let decoded = match service {
        ServiceCode::UNCONNECTED_SEND => {
            if depth >= MAX_CIP_DEPTH {
                an.insert(Anomalies::CIP_NESTING_TOO_DEEP);
                return ServiceBody::None;
            }
            unconnected_send(data, depth, an).map(|u| ServiceBody::UnconnectedSend(Box::new(u)))
        }
        ServiceCode::FORWARD_OPEN => forward_open(data, false).map(ServiceBody::ForwardOpen),
        ServiceCode::LARGE_FORWARD_OPEN => forward_open(data, true).map(ServiceBody::ForwardOpen),
        ServiceCode::FORWARD_CLOSE => forward_close(data).map(ServiceBody::ForwardClose),
        _ => return ServiceBody::None,
    };
    match decoded {
        Ok(b) => b,
        Err(_) => {
            an.insert(Anomalies::CIP_INVALID_SERVICE_DATA);
            ServiceBody::None
        }
    }
}

fn path_checked<'a>(bytes: &'a [u8], an: &mut Anomalies) -> Epath<'a> {
    let p = Epath::new(bytes);
    if !p.is_well_formed() {
        an.insert(Anomalies::CIP_INVALID_PATH);
    }
    p
}

fn unconnected_send<'a>(
    data: &'a [u8],
    depth: u8,
    an: &mut Anomalies,
) -> Result<UnconnectedSend<'a>, DecodeError> {
    let mut r = Reader::new(data);
    let priority_tick = r.u8()?;
    let timeout_ticks = r.u8()?;
    let size = r.u16_le()?;
    let embedded = r.take(usize::from(size))?;
    if size % 2 == 1 {
        r.skip(1)?;
    }
    let words = r.u8()?;
    let _reserved = r.u8()?;
    let route = r.take(usize::from(words).saturating_mul(2))?;
    if r.any_left() {
        an.insert(Anomalies::CIP_INVALID_SERVICE_DATA);
    }
    let next = depth.saturating_add(1);
    Ok(UnconnectedSend {
        priority_tick,
        timeout_ticks,
        message: cip_payload(embedded, next, Some(false), an),
        route_path: path_checked(route, an),
    })
}

fn forward_open(data: &[u8], large: bool) -> Result<ForwardOpen<'_>, DecodeError> {
    let mut r = Reader::new(data);
    let priority_tick = r.u8()?;
    let timeout_ticks = r.u8()?;
    let o_t_connection_id = r.u32_le()?;
    let t_o_connection_id = r.u32_le()?;
    let connection_serial = r.u16_le()?;
    let originator_vendor_id = r.u16_le()?;
    let originator_serial = r.u32_le()?;
    let timeout_multiplier = r.u8()?;
    r.skip(3)?;
    let params = |r: &mut Reader<'_>| if large { r.u32_le() } else { r.u16_le().map(u32::from) };
    let o_t_rpi = r.u32_le()?;
    let o_t_params = params(&mut r)?;
    let t_o_rpi = r.u32_le()?;
    let t_o_params = params(&mut r)?;
    let transport_trigger = r.u8()?;
    let words = r.u8()?;
    let path = r.take(usize::from(words).saturating_mul(2))?;
    r.expect_empty("forward open: trailing data")?;
    Ok(ForwardOpen {
        large,
        priority_tick,
        timeout_ticks,
        o_t_connection_id,
        t_o_connection_id,
        connection_serial,
        originator_vendor_id,
        originator_serial,
        timeout_multiplier,
        o_t_rpi,
        o_t_params,
        t_o_rpi,
        t_o_params,
        transport_trigger,
        connection_path: Epath::new(path),
    })
}

fn forward_close(data: &[u8]) -> Result<ForwardClose<'_>, DecodeError> {
    let mut r = Reader::new(data);
    let priority_tick = r.u8()?;
    let timeout_ticks = r.u8()?;
    let connection_serial = r.u16_le()?;
    let originator_vendor_id = r.u16_le()?;
    let originator_serial = r.u32_le()?;
    let words = r.u8()?;
    let _reserved = r.u8()?;
    let path = r.take(usize::from(words).saturating_mul(2))?;
    r.expect_empty("forward close: trailing data")?;
    Ok(ForwardClose {
        priority_tick,
        timeout_ticks,
        connection_serial,
        originator_vendor_id,
        originator_serial,
        connection_path: Epath::new(path),
    })
}

/// Multiple Service Packet data (Vol. 1, § ): a count, an offset per
/// service (from the start of the count), then the services.
fn multiple_service<'a>(
    data: &'a [u8],
    response: bool,
    depth: u8,
    an: &mut Anomalies,
) -> Vec<CipMessage<'a>> {
    if depth >= MAX_CIP_DEPTH {
        an.insert(Anomalies::CIP_NESTING_TOO_DEEP);
        return Vec::new();
    }
    let mut r = Reader::new(data);
    let Ok(count) = r.u16_le() else {
        an.insert(Anomalies::CIP_INVALID_SERVICE_DATA);
        return Vec::new();
    };
    let count = usize::from(count);
    let table_end = count.saturating_mul(2).saturating_add(2);
    if table_end > data.len() {
        an.insert(Anomalies::CIP_INVALID_SERVICE_DATA);
        return Vec::new();
    }
    if count > MAX_MSP_SERVICES {
        an.insert(Anomalies::CIP_TOO_MANY_SERVICES);
    }
    let mut out = Vec::with_capacity(count.min(MAX_MSP_SERVICES));
    let next = depth.saturating_add(1);
    let mut offsets = r;
    for i in 0..count.min(MAX_MSP_SERVICES) {
        let Ok(start) = offsets.u16_le().map(usize::from) else { break };
        let end = if i.saturating_add(1) < count {
            let mut peek = offsets;
            match peek.u16_le() {
                Ok(e) => usize::from(e),
                Err(_) => break,
            }
        } else {
            data.len()
        };
        // A service that does not fit between its offset and the next ends
        // the decoding: the rest of the table cannot be trusted.
        if start < table_end || end < start || end > data.len() {
            an.insert(Anomalies::CIP_INVALID_OFFSET);
            break;
        }
        let mut sr = Reader::new(data);
        let slice = sr.skip(start).and_then(|_| sr.take(end.saturating_sub(start)));
        let Ok(slice) = slice else {
            an.insert(Anomalies::CIP_INVALID_OFFSET);
            break;
        };
        match cip_message(slice, next, an) {
            Ok(m) => {
                if m.is_response() != response {
                    an.insert(Anomalies::CIP_UNEXPECTED_DIRECTION);
                }
                out.push(m);
            }
            Err(_) => an.insert(Anomalies::CIP_MALFORMED),
        }
    }
    out
}

/// Reads one EPATH segment (Vol. 1, Appendix C-1).
pub(super) fn segment<'a>(r: &mut Reader<'a>) -> Result<Segment<'a>, DecodeError> {
    let b = r.u8()?;
    match b >> 5 {
        0 => port_segment(b, r),
        1 => logical_segment(b, r),
        2 => {
            // Network segment: subtypes 0x10–0x1F carry a word count.
            if b & 0x10 != 0 {
                let words = r.u8()?;
                Ok(Segment::Network {
                    segment: b,
                    data: r.take(usize::from(words).saturating_mul(2))?,
                })
            } else {
                Ok(Segment::Network { segment: b, data: r.take(1)? })
            }
        }
        3 => {
            let size = b & 0x1F;
            if size == 0 {
                // Extended string: format in bits 7–5, size in bits 4–0.
                let ext = r.u8()?;
                let n = usize::from(ext & 0x1F);
                let len = match ext >> 5 {
                    1 => n.saturating_mul(2),
                    2 => n.saturating_mul(3),
                    6 => match n {
                        6 => 1,
                        7 => 2,
                        8 => 4,
                        _ => return Err(DecodeError::Malformed("epath: numeric symbol size")),
                    },
                    _ => return Err(DecodeError::Malformed("epath: extended symbol format")),
                };
                let name = r.take(len)?;
                pad(r, len.saturating_add(2))?;
                Ok(Segment::Symbolic(name))
            } else {
                let n = usize::from(size);
                let name = r.take(n)?;
                pad(r, n.saturating_add(1))?;
                Ok(Segment::Symbolic(name))
            }
        }
        4 => match b {
            0x80 => {
                let words = r.u8()?;
                Ok(Segment::Data(r.take(usize::from(words).saturating_mul(2))?))
            }
            0x91 => {
                let n = usize::from(r.u8()?);
                let name = r.take(n)?;
                pad(r, n)?;
                Ok(Segment::AnsiSymbol(name))
            }
            _ => Err(DecodeError::Malformed("epath: data segment subtype")),
        },
        _ => Err(DecodeError::Malformed("epath: segment type")),
    }
}

/// Skips the pad byte that follows an odd-length segment body.
fn pad(r: &mut Reader<'_>, body_len: usize) -> Result<(), DecodeError> {
    if body_len % 2 == 1 { r.skip(1) } else { Ok(()) }
}

fn port_segment<'a>(b: u8, r: &mut Reader<'a>) -> Result<Segment<'a>, DecodeError> {
    let extended_link = b & 0x10 != 0;
    let mut len = 1usize;
    let link_size = if extended_link {
        len = len.saturating_add(1);
        usize::from(r.u8()?)
    } else {
        1
    };
    let port = if b & 0x0F == 0x0F {
        len = len.saturating_add(2);
        r.u16_le()?
    } else {
        u16::from(b & 0x0F)
    };
    let link_address = r.take(link_size)?;
    pad(r, len.saturating_add(link_size))?;
    Ok(Segment::Port { port, link_address })
}

fn logical_segment<'a>(b: u8, r: &mut Reader<'a>) -> Result<Segment<'a>, DecodeError> {
    let kind = LogicalType((b >> 2) & 0x07);
    let format = b & 0x03;
    match kind {
        LogicalType::SPECIAL => {
            if format != 0 {
                return Err(DecodeError::Malformed("epath: special segment format"));
            }
            let key_format = r.u8()?;
            if key_format != 4 {
                return Err(DecodeError::Malformed("epath: electronic key format"));
            }
            Ok(Segment::ElectronicKey(r.take(8)?))
        }
        LogicalType::EXTENDED => {
            let ext = r.u8()?;
            let value = logical_value(format, r, false)?;
            Ok(Segment::ExtendedLogical { kind: ext, value })
        }
        LogicalType::SERVICE_ID if format != 0 => {
            Err(DecodeError::Malformed("epath: service id format"))
        }
        _ => Ok(Segment::Logical { kind, value: logical_value(format, r, true)? }),
    }
}

fn logical_value(format: u8, r: &mut Reader<'_>, padded: bool) -> Result<u32, DecodeError> {
    match format {
        0 => r.u8().map(u32::from),
        1 => {
            if padded {
                r.skip(1)?;
            }
            r.u16_le().map(u32::from)
        }
        2 => {
            if padded {
                r.skip(1)?;
            }
            r.u32_le()
        }
        _ => Err(DecodeError::Malformed("epath: logical format")),
    }
}

/// Decodes a class 0/1 I/O datagram (UDP port 2222): a CPF list without an
/// encapsulation header. Fails only if the item list cannot be framed at all.
pub fn parse_io(input: &[u8]) -> Result<IoFrame<'_>, DecodeError> {
    let mut r = Reader::new(input);
    if r.left() < 2 {
        return Err(DecodeError::Malformed("enip io: no item count"));
    }
    let mut an = Anomalies::NONE;
    let items = cpf(&mut r, CpfContext::Io, 0, &mut an);
    let mut connection_id = None;
    let mut sequence = None;
    let mut data = None;
    for i in &items {
        match i {
            CpfItem::SequencedAddress { connection_id: c, sequence: s } => {
                connection_id = Some(*c);
                sequence = Some(*s);
            }
            CpfItem::ConnectedAddress { connection_id: c } => connection_id = Some(*c),
            CpfItem::IoData(d) => data = Some(*d),
            _ => {}
        }
    }
    if items.is_empty() && an.contains(Anomalies::INVALID_ITEM) {
        return Err(DecodeError::Malformed("enip io: item list does not frame"));
    }
    if connection_id.is_none() || data.is_none() {
        an.insert(Anomalies::IO_INVALID_ITEMS);
    }
    Ok(IoFrame { connection_id, sequence, data, items, anomalies: an })
}

/// Content check for an encapsulation stream or datagram (see [`super::probe`]).
pub fn probe(input: &[u8]) -> bool {
    let mut r = Reader::new(input);
    let Ok(h) = header(&mut r) else { return false };
    // NOP says too little (24 bytes of zeros would pass), so it is not
    // accepted as the first message of a flow.
    if h.options != 0 || h.command.name().is_none() || h.command == Command::NOP {
        return false;
    }
    if h.status.name().is_none() {
        return false;
    }
    let len = usize::from(h.length);
    let plausible_len = match h.command {
        Command::REGISTER_SESSION => len == 4 || (len == 0 && h.status != EncapStatus::SUCCESS),
        Command::UNREGISTER_SESSION => len == 0,
        Command::SEND_RR_DATA | Command::SEND_UNIT_DATA => {
            h.session_handle != 0 && (len >= 10 || (len == 0 && h.status != EncapStatus::SUCCESS))
        }
        _ => true,
    };
    if !plausible_len {
        return false;
    }
    // When the whole message is present, its structure must decode cleanly.
    if r.left() >= len {
        let dir = Direction::ToServer;
        return match parse(input, dir) {
            Ok((_, m)) => {
                let bad = Anomalies::INVALID_LENGTH
                    | Anomalies::INVALID_ITEM
                    | Anomalies::UNEXPECTED_ITEM
                    | Anomalies::INVALID_INTERFACE
                    | Anomalies::CIP_MALFORMED;
                m.anomalies.bits() & bad.bits() == 0
            }
            Err(_) => false,
        };
    }
    true
}

/// Content check for a class 0/1 I/O datagram.
pub fn probe_io(input: &[u8]) -> bool {
    match parse_io(input) {
        Ok(f) => {
            f.anomalies.is_empty()
                && matches!(f.items.first(), Some(CpfItem::SequencedAddress { .. }))
                && matches!(f.items.get(1), Some(CpfItem::IoData(_)))
        }
        Err(_) => false,
    }
}
