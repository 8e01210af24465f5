//! Decoding of TPKT, COTP, S7comm and S7comm-plus over the checked [`Reader`].
//! Framing failures are `DecodeError`s; everything that frames but is wrong
//! becomes an anomaly flag on the returned message.

use crate::reader::Reader;
use crate::{DecodeError, Direction};

use super::anomaly::Anomalies;
use super::types::*;
use super::{MAX_ITEMS, MAX_PI_BLOCKS, MAX_SEGMENTS, MAX_TSDU_BYTES};

/// TPKT version (RFC 1006, section 6).
const TPKT_VERSION: u8 = 3;
/// TPKT header length.
const TPKT_HEADER_LEN: usize = 4;
/// Smallest TPKT packet: header plus the smallest COTP TPDU (a 3-byte class 0 DT).
const TPKT_MIN_LEN: usize = 7;
/// S7comm protocol id.
const S7_PROTOCOL_ID: u8 = 0x32;
/// S7comm-plus protocol id.
const S7PLUS_PROTOCOL_ID: u8 = 0x72;
/// Userdata parameter head used by every userdata function except mode transitions.
const USERDATA_HEAD: [u8; 3] = [0x00, 0x01, 0x12];
/// Variable specification type byte that starts every Read/Write Var item.
const VAR_SPEC: u8 = 0x12;
/// Length of an S7comm-plus V2/V3 integrity digest.
const PLUS_DIGEST_LEN: u8 = 32;

/// How many bytes the TPKT packet at the start of `input` takes (its TPKT length).
///
/// `Incomplete` if fewer than the 4 header bytes are present; `Malformed` if
/// the header cannot be TPKT (wrong version or a length below 7).
pub fn pdu_len(input: &[u8]) -> Result<usize, DecodeError> {
    if input.len() < TPKT_HEADER_LEN {
        return Err(DecodeError::incomplete(TPKT_HEADER_LEN.saturating_sub(input.len())));
    }
    let mut r = Reader::new(input);
    let [version, _reserved] = r.take_array::<2>()?;
    let len = usize::from(r.u16_be()?);
    if version != TPKT_VERSION {
        return Err(DecodeError::Malformed("not TPKT version 3"));
    }
    if len < TPKT_MIN_LEN {
        return Err(DecodeError::Malformed("TPKT length below minimum"));
    }
    Ok(len)
}

/// Content-based identification: TPKT v3 carrying a COTP connection TPDU, or
/// a class 0 DT whose user data starts with the S7comm or S7comm-plus id.
pub fn probe(input: &[u8]) -> bool {
    probe_inner(input).unwrap_or(false)
}

fn probe_inner(input: &[u8]) -> Result<bool, DecodeError> {
    let mut r = Reader::new(input);
    let [version, reserved] = r.take_array::<2>()?;
    let len = usize::from(r.u16_be()?);
    if version != TPKT_VERSION || reserved != 0 || len < TPKT_MIN_LEN {
        return Ok(false);
    }
    let li = usize::from(r.u8()?);
    let cotp_room = len.saturating_sub(TPKT_HEADER_LEN).saturating_sub(1);
    if li == 0 || li > cotp_room {
        return Ok(false);
    }
    let code = CotpPduType(r.u8()? & 0xf0);
    Ok(match code {
        CotpPduType::DT => {
            let nr = r.u8()?;
            let _ = nr;
            li == 2 && matches!(r.u8()?, S7_PROTOCOL_ID | S7PLUS_PROTOCOL_ID)
        }
        CotpPduType::CR | CotpPduType::CC => {
            let _refs = r.take(4)?;
            let class = r.u8()?;
            li >= 6 && class & 0xf0 <= 0x40
        }
        _ => false,
    })
}

/// Decodes one TPKT packet with its COTP TPDU and, for a DT with EOT, the S7
/// PDU it carries. Returns the input after the packet.
///
/// `dir` is accepted for uniformity with the other dissectors; S7comm says in
/// its own header (ROSCTR) whether a message is a request or a reply.
pub fn parse<'a>(input: &'a [u8], dir: Direction) -> Result<(&'a [u8], Tpdu<'a>), DecodeError> {
    let _ = dir;
    let len = pdu_len(input)?;
    let mut outer = Reader::new(input);
    let mut r = outer.sub(len)?;
    let rest = outer.rest();

    let mut anomalies = Anomalies::NONE;
    let [tpkt_version, reserved] = r.take_array::<2>()?;
    let tpkt_length = r.u16_be()?;
    if reserved != 0 {
        anomalies |= Anomalies::TPKT_RESERVED_NONZERO;
    }
    let cotp = parse_cotp(&mut r, &mut anomalies)?;
    let payload = match cotp.kind {
        CotpKind::Data { .. } if cotp.user_data.is_empty() => Payload::None,
        CotpKind::Data { eot: true, .. } => parse_payload(cotp.user_data),
        CotpKind::Data { eot: false, .. } => Payload::Segment(cotp.user_data),
        _ if cotp.user_data.is_empty() => Payload::None,
        _ => Payload::Unknown(cotp.user_data),
    };
    Ok((rest, Tpdu { tpkt_version, tpkt_length, cotp, payload, anomalies }))
}

fn parse_cotp<'a>(r: &mut Reader<'a>, anomalies: &mut Anomalies) -> Result<Cotp<'a>, DecodeError> {
    let length_indicator = r.u8().map_err(|_| DecodeError::Malformed("no COTP header"))?;
    if length_indicator == 0 || usize::from(length_indicator) > r.left() {
        return Err(DecodeError::Malformed("COTP length indicator outside the TPKT packet"));
    }
    let mut h = r.sub(usize::from(length_indicator))?;
    let type_byte = h.u8()?;
    let pdu_type = CotpPduType(type_byte & 0xf0);
    let kind = match pdu_type {
        CotpPduType::DT => {
            // Class 0/1: LI 2 (type, EOT/NR). Classes 2-4 add a 2-byte destination reference.
            match length_indicator {
                2 => {}
                4 => {
                    let _dst_ref = h.u16_be()?;
                }
                _ => *anomalies |= Anomalies::COTP_INVALID_LENGTH,
            }
            let nr = h.u8()?;
            CotpKind::Data { eot: nr & 0x80 != 0, tpdu_number: nr & 0x7f }
        }
        CotpPduType::CR | CotpPduType::CC if length_indicator >= 6 => {
            CotpKind::Connect(parse_connect(&mut h, anomalies)?)
        }
        CotpPduType::DR if length_indicator >= 6 => {
            let dst_ref = h.u16_be()?;
            let src_ref = h.u16_be()?;
            let reason = Some(h.u8()?);
            h.take_rest();
            CotpKind::Disconnect { dst_ref, src_ref, reason }
        }
        CotpPduType::DC if length_indicator >= 5 => {
            let dst_ref = h.u16_be()?;
            let src_ref = h.u16_be()?;
            h.take_rest();
            CotpKind::Disconnect { dst_ref, src_ref, reason: None }
        }
        CotpPduType::CR | CotpPduType::CC | CotpPduType::DR | CotpPduType::DC => {
            *anomalies |= Anomalies::COTP_INVALID_LENGTH;
            CotpKind::Other(h.take_rest())
        }
        known if known.is_known() => CotpKind::Other(h.take_rest()),
        _ => {
            *anomalies |= Anomalies::COTP_UNKNOWN_PDU_TYPE;
            CotpKind::Other(h.take_rest())
        }
    };
    Ok(Cotp { length_indicator, pdu_type, type_byte, kind, user_data: r.take_rest() })
}

fn parse_connect<'a>(
    h: &mut Reader<'a>,
    anomalies: &mut Anomalies,
) -> Result<ConnectParams<'a>, DecodeError> {
    let dst_ref = h.u16_be()?;
    let src_ref = h.u16_be()?;
    let class_option = h.u8()?;
    let parameters = h.rest();
    let mut params =
        ConnectParams { dst_ref, src_ref, class_option, parameters, ..Default::default() };
    while h.any_left() {
        let Ok([code, len]) = h.take_array::<2>() else {
            *anomalies |= Anomalies::COTP_INVALID_PARAMETER;
            break;
        };
        let Ok(value) = h.take(usize::from(len)) else {
            *anomalies |= Anomalies::COTP_INVALID_PARAMETER;
            break;
        };
        match (code, value) {
            (0xc0, [size]) => params.tpdu_size = Some(*size),
            (0xc0, _) => *anomalies |= Anomalies::COTP_INVALID_PARAMETER,
            (0xc1, tsap) => params.calling_tsap = Some(tsap),
            (0xc2, tsap) => params.called_tsap = Some(tsap),
            _ => {}
        }
    }
    h.take_rest();
    Ok(params)
}

/// Decodes complete COTP user data (one TSDU): S7comm, S7comm-plus or unknown.
pub fn parse_payload(data: &[u8]) -> Payload<'_> {
    match data.first() {
        None => Payload::None,
        Some(&S7_PROTOCOL_ID) => match parse_s7(data) {
            Ok(pdu) => Payload::S7(pdu),
            Err(_) => Payload::Unknown(data),
        },
        Some(&S7PLUS_PROTOCOL_ID) => match parse_plus(data) {
            Ok(pdu) => Payload::S7Plus(pdu),
            Err(_) => Payload::Unknown(data),
        },
        Some(_) => Payload::Unknown(data),
    }
}

/// Decodes an S7comm PDU (protocol id 0x32) from complete COTP user data.
///
/// `Malformed` only if the fixed header is not all there; declared lengths
/// that overrun the data are flagged and decoding goes on with what is present.
pub fn parse_s7(data: &[u8]) -> Result<Pdu<'_>, DecodeError> {
    let mut r = Reader::new(data);
    let short = |_| DecodeError::Malformed("S7comm header truncated");
    if r.u8().map_err(short)? != S7_PROTOCOL_ID {
        return Err(DecodeError::Malformed("not S7comm (protocol id 0x32)"));
    }
    let rosctr = Rosctr(r.u8().map_err(short)?);
    let redundancy_id = r.u16_be().map_err(short)?;
    let pdu_ref = r.u16_be().map_err(short)?;
    let param_len = r.u16_be().map_err(short)?;
    let data_len = r.u16_be().map_err(short)?;
    let (error_class, error_code) = if matches!(rosctr, Rosctr::ACK | Rosctr::ACK_DATA) {
        (Some(ErrorClass(r.u8().map_err(short)?)), Some(r.u8().map_err(short)?))
    } else {
        (None, None)
    };
    let header =
        Header { rosctr, redundancy_id, pdu_ref, param_len, data_len, error_class, error_code };

    let mut anomalies = Anomalies::NONE;
    if !rosctr.is_known() {
        anomalies |= Anomalies::UNKNOWN_ROSCTR;
    }
    if redundancy_id != 0 {
        anomalies |= Anomalies::RESERVED_NONZERO;
    }
    let param = take_declared(&mut r, param_len, &mut anomalies);
    let data_part = take_declared(&mut r, data_len, &mut anomalies);
    if r.any_left() {
        anomalies |= Anomalies::TRAILING_BYTES;
    }

    let param = if param.is_empty() {
        Param::None
    } else {
        match rosctr {
            Rosctr::JOB | Rosctr::ACK | Rosctr::ACK_DATA => {
                Param::Function(parse_function(rosctr, param, data_part, &mut anomalies))
            }
            Rosctr::USERDATA => parse_userdata(param, data_part, &mut anomalies),
            _ => Param::Raw(param),
        }
    };
    Ok(Pdu { header, param, data: data_part, anomalies })
}

/// Takes `declared` bytes, or what is left (flagging `INVALID_LENGTH`) if fewer remain.
fn take_declared<'a>(r: &mut Reader<'a>, declared: u16, anomalies: &mut Anomalies) -> &'a [u8] {
    match r.take(usize::from(declared)) {
        Ok(b) => b,
        Err(_) => {
            *anomalies |= Anomalies::INVALID_LENGTH;
            r.take_rest()
        }
    }
}

fn parse_function<'a>(
    rosctr: Rosctr,
    param: &'a [u8],
    data: &'a [u8],
    anomalies: &mut Anomalies,
) -> FunctionParam<'a> {
    let mut p = Reader::new(param);
    // `param` is non-empty, so the function byte is there.
    let function = Function(p.u8().unwrap_or(0));
    if !function.is_known() {
        *anomalies |= Anomalies::UNKNOWN_FUNCTION;
    }
    let is_job = rosctr == Rosctr::JOB;
    let detail = match function {
        Function::SETUP_COMMUNICATION => parse_setup(&mut p, anomalies),
        Function::READ_VAR | Function::WRITE_VAR => {
            parse_variables(function, rosctr, &mut p, data, anomalies)
        }
        f if f.is_download() || f.is_upload() => {
            parse_block_control(f, is_job, &mut p, data, anomalies)
        }
        Function::PI_SERVICE | Function::PLC_STOP if is_job => {
            parse_pi(function, &mut p, anomalies)
        }
        _ if !p.any_left() => FunctionDetail::Empty,
        _ => FunctionDetail::Raw(p.take_rest()),
    };
    FunctionParam { function, detail }
}

fn parse_setup<'a>(p: &mut Reader<'a>, anomalies: &mut Anomalies) -> FunctionDetail<'a> {
    let read = |p: &mut Reader<'a>| -> Result<SetupCommunication, DecodeError> {
        Ok(SetupCommunication {
            reserved: p.u8()?,
            max_amq_calling: p.u16_be()?,
            max_amq_called: p.u16_be()?,
            pdu_length: p.u16_be()?,
        })
    };
    match read(p) {
        Ok(s) => FunctionDetail::Setup(s),
        Err(_) => {
            *anomalies |= Anomalies::TRUNCATED_PARAMETER;
            FunctionDetail::Raw(p.take_rest())
        }
    }
}

fn parse_variables<'a>(
    function: Function,
    rosctr: Rosctr,
    p: &mut Reader<'a>,
    data: &'a [u8],
    anomalies: &mut Anomalies,
) -> FunctionDetail<'a> {
    let Ok(item_count) = p.u8() else {
        *anomalies |= Anomalies::TRUNCATED_PARAMETER;
        return FunctionDetail::Empty;
    };
    let mut access = VarAccess {
        item_count,
        items: Vec::new(),
        data_items: Vec::new(),
        write_results: Vec::new(),
    };
    if rosctr == Rosctr::JOB {
        parse_var_items(p, item_count, &mut access.items, anomalies);
        if function == Function::WRITE_VAR {
            parse_data_items(data, item_count, &mut access.data_items, anomalies);
        }
    } else if rosctr == Rosctr::ACK_DATA {
        if function == Function::READ_VAR {
            parse_data_items(data, item_count, &mut access.data_items, anomalies);
        } else {
            let mut d = Reader::new(data);
            for _ in 0..item_count {
                if access.write_results.len() >= MAX_ITEMS {
                    *anomalies |= Anomalies::TOO_MANY_ITEMS;
                    break;
                }
                match d.u8() {
                    Ok(code) => access.write_results.push(ReturnCode(code)),
                    Err(_) => {
                        *anomalies |= Anomalies::ITEM_COUNT_MISMATCH;
                        break;
                    }
                }
            }
        }
    }
    if p.any_left() {
        *anomalies |= Anomalies::ITEM_COUNT_MISMATCH;
        p.take_rest();
    }
    FunctionDetail::Variables(access)
}

fn parse_var_items<'a>(
    p: &mut Reader<'a>,
    count: u8,
    items: &mut Vec<VarItem<'a>>,
    anomalies: &mut Anomalies,
) {
    for _ in 0..count {
        if items.len() >= MAX_ITEMS {
            *anomalies |= Anomalies::TOO_MANY_ITEMS;
            p.take_rest();
            return;
        }
        if !p.any_left() {
            *anomalies |= Anomalies::ITEM_COUNT_MISMATCH;
            return;
        }
        let Ok([spec_type, spec_len]) = p.take_array::<2>() else {
            *anomalies |= Anomalies::INVALID_ITEM;
            p.take_rest();
            return;
        };
        if spec_type != VAR_SPEC {
            *anomalies |= Anomalies::INVALID_ITEM;
        }
        let Ok(mut spec) = p.sub(usize::from(spec_len)) else {
            *anomalies |= Anomalies::INVALID_ITEM;
            p.take_rest();
            return;
        };
        let Ok(syntax) = spec.u8() else {
            *anomalies |= Anomalies::INVALID_ITEM;
            continue;
        };
        let syntax_id = SyntaxId(syntax);
        let item = if syntax_id == SyntaxId::S7ANY {
            match parse_any(&mut spec) {
                Ok(a) => VarItem::Any(a),
                Err(_) => {
                    *anomalies |= Anomalies::INVALID_ITEM;
                    VarItem::Other { syntax_id, address: spec.take_rest() }
                }
            }
        } else {
            VarItem::Other { syntax_id, address: spec.take_rest() }
        };
        items.push(item);
    }
}

fn parse_any(spec: &mut Reader<'_>) -> Result<AnyAddress, DecodeError> {
    let transport_size = TransportSize(spec.u8()?);
    let length = spec.u16_be()?;
    let db_number = spec.u16_be()?;
    let area = Area(spec.u8()?);
    let address = spec.u24_be()?;
    spec.expect_empty("S7ANY address longer than 10 bytes")?;
    Ok(AnyAddress {
        transport_size,
        length,
        db_number,
        area,
        byte_address: address.wrapping_shr(3),
        bit_address: (address & 0x07) as u8,
    })
}

fn parse_data_items<'a>(
    data: &'a [u8],
    count: u8,
    out: &mut Vec<DataItem<'a>>,
    anomalies: &mut Anomalies,
) {
    let mut d = Reader::new(data);
    for i in 0..count {
        if out.len() >= MAX_ITEMS {
            *anomalies |= Anomalies::TOO_MANY_ITEMS;
            return;
        }
        if !d.any_left() {
            *anomalies |= Anomalies::ITEM_COUNT_MISMATCH;
            return;
        }
        let Ok([ret, ts]) = d.take_array::<2>() else {
            *anomalies |= Anomalies::INVALID_ITEM;
            return;
        };
        let return_code = ReturnCode(ret);
        let transport_size = DataTransportSize(ts);
        let Ok(length) = d.u16_be() else {
            // A bare return code (error item without type and length) at the end.
            out.push(DataItem { return_code, transport_size, length: 0, value: &[] });
            *anomalies |= Anomalies::INVALID_ITEM;
            return;
        };
        let byte_len = if transport_size == DataTransportSize::NULL {
            // A NULL item (an error reply) carries no value whatever its length says.
            if length != 0 {
                *anomalies |= Anomalies::INVALID_ITEM;
            }
            0
        } else if transport_size.length_in_bits() {
            usize::from(length.div_ceil(8))
        } else {
            usize::from(length)
        };
        let value = match d.take(byte_len) {
            Ok(v) => v,
            Err(_) => {
                *anomalies |= Anomalies::INVALID_ITEM;
                d.take_rest()
            }
        };
        out.push(DataItem { return_code, transport_size, length, value });
        let last = u16::from(i).saturating_add(1) >= u16::from(count);
        if !last && byte_len % 2 == 1 && d.any_left() {
            let _fill = d.u8();
        }
    }
    if d.any_left() {
        *anomalies |= Anomalies::ITEM_COUNT_MISMATCH;
    }
}

fn parse_block_control<'a>(
    function: Function,
    is_job: bool,
    p: &mut Reader<'a>,
    data: &'a [u8],
    anomalies: &mut Anomalies,
) -> FunctionDetail<'a> {
    let mut b = BlockControl::default();
    let needs_name = is_job
        && matches!(
            function,
            Function::REQUEST_DOWNLOAD
                | Function::DOWNLOAD_BLOCK
                | Function::DOWNLOAD_ENDED
                | Function::START_UPLOAD
        );
    let result = (|| -> Result<(), DecodeError> {
        if !p.any_left() {
            return if is_job { Err(DecodeError::incomplete(1)) } else { Ok(()) };
        }
        b.function_status = Some(p.u8()?);
        // Acks carry only the status, except a successful Start upload ack
        // (an error reply stops after the status too).
        if !is_job && (function != Function::START_UPLOAD || !p.any_left()) {
            return Ok(());
        }
        let _unknown_or_error = p.u16_be()?;
        b.session_id = Some(p.u32_be()?);
        if needs_name {
            let name_len = p.u8()?;
            let name = p.take(usize::from(name_len))?;
            b.filename = Some(name);
            b.block = block_name(name);
            if b.block.is_none() {
                *anomalies |= Anomalies::INVALID_BLOCK_NAME;
            }
            if function == Function::REQUEST_DOWNLOAD && p.any_left() {
                let part2_len = p.u8()?;
                let mut part2 = p.sub(usize::from(part2_len))?;
                let _kind = part2.u8()?;
                b.load_memory_length = ascii_decimal(part2.take(6)?);
                b.mc7_length = ascii_decimal(part2.take(6)?);
            }
        } else if !is_job {
            // Start upload ack: the block length as a length-prefixed decimal string.
            let len = p.u8()?;
            b.block_length = ascii_decimal(p.take(usize::from(len))?);
        }
        Ok(())
    })();
    if result.is_err() {
        *anomalies |= Anomalies::TRUNCATED_PARAMETER;
    }
    if p.any_left() {
        p.take_rest();
    }
    if !is_job && matches!(function, Function::DOWNLOAD_BLOCK | Function::UPLOAD) && data.len() >= 4
    {
        let mut d = Reader::new(data);
        let len = d.u16_be().unwrap_or(0);
        let _unknown = d.u16_be();
        b.block_data = Some(match d.take(usize::from(len)) {
            Ok(v) => v,
            Err(_) => {
                *anomalies |= Anomalies::INVALID_LENGTH;
                d.take_rest()
            }
        });
    }
    FunctionDetail::Block(b)
}

/// Decodes a block name: an optional `_` file identifier, two hex digits of
/// block type, five decimal digits of block number and a file-system letter.
pub fn block_name(name: &[u8]) -> Option<BlockName> {
    let body = match name {
        [b'_', rest @ ..] => rest,
        other => other,
    };
    let [t1, t2, n1, n2, n3, n4, n5, fs] = body else {
        return None;
    };
    let hex = |c: u8| char::from(c).to_digit(16);
    let block_type = hex(*t1)?.checked_mul(16)?.checked_add(hex(*t2)?)?;
    let number = ascii_decimal(&[*n1, *n2, *n3, *n4, *n5])?;
    if !fs.is_ascii_alphabetic() {
        return None;
    }
    Some(BlockName {
        block_type: BlockType(u8::try_from(block_type).ok()?),
        number,
        filesystem: *fs,
    })
}

/// Parses ASCII decimal digits (leading spaces allowed); `None` on anything else.
fn ascii_decimal(digits: &[u8]) -> Option<u32> {
    let digits = digits.trim_ascii_start();
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0u32, |acc, c| {
        let d = char::from(*c).to_digit(10)?;
        acc.checked_mul(10)?.checked_add(d)
    })
}

fn parse_pi<'a>(
    function: Function,
    p: &mut Reader<'a>,
    anomalies: &mut Anomalies,
) -> FunctionDetail<'a> {
    let mut blocks = Vec::new();
    let result = (|| -> Result<PiService<'a>, DecodeError> {
        let parameter_block = if function == Function::PI_SERVICE {
            p.skip(7)?;
            let len = p.u16_be()?;
            p.take(usize::from(len))?
        } else {
            p.skip(5)?;
            &[]
        };
        let name_len = p.u8()?;
        let service = p.take(usize::from(name_len))?;
        Ok(PiService { service, parameter_block, blocks: Vec::new() })
    })();
    match result {
        Ok(mut pi) => {
            pi_blocks(pi.parameter_block, &mut blocks, anomalies);
            pi.blocks = blocks;
            if p.any_left() {
                *anomalies |= Anomalies::TRAILING_BYTES;
                p.take_rest();
            }
            FunctionDetail::Pi(pi)
        }
        Err(_) => {
            *anomalies |= Anomalies::TRUNCATED_PARAMETER;
            FunctionDetail::Raw(p.take_rest())
        }
    }
}

/// Block names in a PI parameter block: a count, a reserved byte, then
/// `count` eight-character names. Any other layout (e.g. `P_PROGRAM`'s
/// argument string) yields no blocks.
fn pi_blocks<'a>(
    block: &'a [u8],
    out: &mut Vec<(&'a [u8], Option<BlockName>)>,
    anomalies: &mut Anomalies,
) {
    let mut r = Reader::new(block);
    let Ok([count, _reserved]) = r.take_array::<2>() else { return };
    let names = r.rest();
    if count == 0 || names.len() != usize::from(count).saturating_mul(8) {
        return;
    }
    for name in names.chunks_exact(8) {
        if out.len() >= MAX_PI_BLOCKS {
            *anomalies |= Anomalies::TOO_MANY_ITEMS;
            return;
        }
        let parsed = block_name(name);
        if parsed.is_none() {
            *anomalies |= Anomalies::INVALID_BLOCK_NAME;
        }
        out.push((name, parsed));
    }
}

fn parse_userdata<'a>(param: &'a [u8], data: &'a [u8], anomalies: &mut Anomalies) -> Param<'a> {
    let mut p = Reader::new(param);
    let fixed =
        (|| -> Result<([u8; 3], [u8; 5]), DecodeError> { Ok((p.take_array()?, p.take_array()?)) })(
        );
    let Ok((head, [param_len, method, type_group, subfunction, sequence])) = fixed else {
        *anomalies |= Anomalies::TRUNCATED_PARAMETER;
        return Param::Raw(param);
    };
    let kind = UserdataType(type_group.wrapping_shr(4));
    let group = FunctionGroup(type_group & 0x0f);
    if group != FunctionGroup::MODE_TRANSITION
        && (head != USERDATA_HEAD || !matches!(param_len, 4 | 8 | 12))
    {
        *anomalies |= Anomalies::USERDATA_INVALID_HEADER;
    }
    let (mut data_unit_ref, mut last_data_unit, mut error_code) = (None, None, None);
    if p.left() >= 4 {
        data_unit_ref = p.u8().ok();
        last_data_unit = p.u8().ok();
        error_code = p.u16_be().ok();
    }
    p.take_rest();

    let mut ud = Userdata {
        head,
        param_len,
        method,
        kind,
        group,
        subfunction,
        sequence,
        data_unit_ref,
        last_data_unit,
        error_code,
        data: None,
    };
    let mut d = Reader::new(data);
    if let Ok([ret, ts]) = d.take_array::<2>() {
        let length = d.u16_be().unwrap_or(0);
        let payload = match d.take(usize::from(length)) {
            Ok(v) => v,
            Err(_) => {
                *anomalies |= Anomalies::INVALID_LENGTH;
                d.take_rest()
            }
        };
        let return_code = ReturnCode(ret);
        let szl =
            if group == FunctionGroup::CPU_FUNCTIONS && subfunction == subfunction::CPU_READ_SZL {
                parse_szl(kind, return_code, payload, anomalies)
            } else {
                None
            };
        ud.data = Some(UserdataData {
            return_code,
            transport_size: DataTransportSize(ts),
            length,
            payload,
            szl,
        });
    }
    Param::Userdata(ud)
}

/// SZL id and index of a read-SZL request, or id, index and partial list of a
/// successful response. Follow-up requests and error replies carry none.
fn parse_szl<'a>(
    kind: UserdataType,
    return_code: ReturnCode,
    payload: &'a [u8],
    anomalies: &mut Anomalies,
) -> Option<Szl<'a>> {
    if return_code != ReturnCode::SUCCESS || payload.is_empty() {
        return None;
    }
    let mut r = Reader::new(payload);
    let head = (|| -> Result<(u16, u16), DecodeError> { Ok((r.u16_be()?, r.u16_be()?)) })();
    let Ok((id, index)) = head else {
        *anomalies |= Anomalies::INVALID_SZL;
        return None;
    };
    let list = if kind == UserdataType::RESPONSE {
        match (r.u16_be(), r.u16_be()) {
            (Ok(record_len), Ok(record_count)) => {
                Some(SzlList { record_len, record_count, records: r.take_rest() })
            }
            _ => {
                *anomalies |= Anomalies::INVALID_SZL;
                None
            }
        }
    } else {
        if r.any_left() {
            *anomalies |= Anomalies::INVALID_SZL;
        }
        None
    };
    Some(Szl { id, index, list })
}

/// Decodes an S7comm-plus PDU (protocol id 0x72): version, length, and the
/// opcode, function and sequence number where present.
pub fn parse_plus(data: &[u8]) -> Result<PlusPdu<'_>, DecodeError> {
    let mut r = Reader::new(data);
    let short = |_| DecodeError::Malformed("S7comm-plus header truncated");
    if r.u8().map_err(short)? != S7PLUS_PROTOCOL_ID {
        return Err(DecodeError::Malformed("not S7comm-plus (protocol id 0x72)"));
    }
    let version = PlusVersion(r.u8().map_err(short)?);
    let data_len = r.u16_be().map_err(short)?;
    let mut anomalies = Anomalies::NONE;
    if !version.is_known() {
        anomalies |= Anomalies::PLUS_UNKNOWN_VERSION;
    }
    let body = match r.take(usize::from(data_len)) {
        Ok(b) => b,
        Err(_) => {
            anomalies |= Anomalies::PLUS_INVALID_LENGTH;
            r.take_rest()
        }
    };
    let has_trailer = matches!(r.rest(), [S7PLUS_PROTOCOL_ID, v, 0, 0, ..] if *v == version.0);

    let mut pdu = PlusPdu {
        version,
        data_len,
        digest: None,
        opcode: None,
        function: None,
        sequence: None,
        session_id: None,
        has_trailer,
        anomalies,
    };
    let mut b = Reader::new(body);
    let with_integrity = matches!(version, PlusVersion::V2 | PlusVersion::V3);
    if with_integrity
        && b.peek_u8() == Some(PLUS_DIGEST_LEN)
        && b.left() > usize::from(PLUS_DIGEST_LEN)
    {
        let _len = b.u8();
        pdu.digest = b.take(usize::from(PLUS_DIGEST_LEN)).ok();
    }
    if version == PlusVersion::SYSTEM_EVENT {
        return Ok(pdu);
    }
    let Ok(op) = b.u8() else { return Ok(pdu) };
    let opcode = PlusOpcode(op);
    pdu.opcode = Some(opcode);
    match opcode {
        PlusOpcode::REQUEST | PlusOpcode::RESPONSE | PlusOpcode::RESPONSE2 => {
            let fields = (|| -> Result<(u16, u16), DecodeError> {
                let _reserved = b.u16_be()?;
                let function = b.u16_be()?;
                let _reserved2 = b.u16_be()?;
                Ok((function, b.u16_be()?))
            })();
            if let Ok((function, sequence)) = fields {
                pdu.function = Some(PlusFunction(function));
                pdu.sequence = Some(sequence);
                if opcode == PlusOpcode::REQUEST {
                    pdu.session_id = b.u32_be().ok();
                }
            }
        }
        PlusOpcode::NOTIFICATION => {}
        _ => pdu.anomalies |= Anomalies::PLUS_UNKNOWN_OPCODE,
    }
    Ok(pdu)
}

/// Reassembles a TSDU split over several COTP DT TPDUs (EOT clear on all but
/// the last). Holds at most [`MAX_TSDU_BYTES`] in at most [`MAX_SEGMENTS`] segments.
#[derive(Clone, Debug, Default)]
pub struct CotpReassembler {
    buf: Vec<u8>,
    active: bool,
    segments: usize,
    overflowed: bool,
    complete: bool,
}

/// The outcome of feeding one DT TPDU to a [`CotpReassembler`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reassembly<'r> {
    /// More segments are needed.
    Pending,
    /// The complete TSDU (the input itself when it was not segmented).
    Complete(&'r [u8]),
    /// The TSDU exceeded a limit and was dropped (raise `REASSEMBLY_OVERFLOW`).
    Dropped,
}

impl CotpReassembler {
    /// An empty reassembler.
    pub fn new() -> CotpReassembler {
        CotpReassembler::default()
    }

    /// Whether earlier segments are waiting for their last one.
    pub fn is_pending(&self) -> bool {
        self.active
    }

    /// Bytes currently buffered.
    pub fn buffered(&self) -> usize {
        if self.complete { 0 } else { self.buf.len() }
    }

    /// Forgets any partial TSDU (e.g. after a stream gap).
    pub fn reset(&mut self) {
        self.buf.clear();
        self.active = false;
        self.segments = 0;
        self.overflowed = false;
        self.complete = false;
    }

    /// Feeds the user data of one DT TPDU and its EOT flag.
    pub fn push<'r>(&'r mut self, eot: bool, data: &'r [u8]) -> Reassembly<'r> {
        if self.complete {
            self.buf.clear();
            self.complete = false;
        }
        if !self.active {
            if eot {
                return Reassembly::Complete(data);
            }
            if data.is_empty() {
                // An empty DT without EOT (S7 stacks send these as keep-alives) starts nothing.
                return Reassembly::Pending;
            }
            self.active = true;
            self.segments = 0;
            self.overflowed = false;
        }
        self.segments = self.segments.saturating_add(1);
        if !self.overflowed {
            let fits = self.buf.len().checked_add(data.len()).is_some_and(|n| n <= MAX_TSDU_BYTES)
                && self.segments <= MAX_SEGMENTS;
            if fits {
                self.buf.extend_from_slice(data);
            } else {
                self.overflowed = true;
                self.buf.clear();
            }
        }
        if !eot {
            return if self.overflowed { Reassembly::Dropped } else { Reassembly::Pending };
        }
        self.active = false;
        if self.overflowed {
            self.overflowed = false;
            return Reassembly::Dropped;
        }
        self.complete = true;
        Reassembly::Complete(&self.buf)
    }
}

/// Tracks fragmented userdata responses on one connection so that SZL headers
/// are read only from the first data unit of a response (follow-up data units
/// continue the record list without a header).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UserdataFragments {
    /// Whether the last response said more data units follow.
    more_follow: bool,
}

impl UserdataFragments {
    /// A tracker with nothing pending.
    pub fn new() -> UserdataFragments {
        UserdataFragments::default()
    }

    /// Feeds a userdata message; returns whether it is the first (or only)
    /// data unit of its response, i.e. whether its SZL header is real.
    /// Requests and pushes always return `true`.
    pub fn observe(&mut self, ud: &Userdata<'_>) -> bool {
        if ud.kind != UserdataType::RESPONSE {
            return true;
        }
        let first = !self.more_follow;
        self.more_follow = ud.last_data_unit.is_some_and(|l| l != 0);
        first
    }
}
