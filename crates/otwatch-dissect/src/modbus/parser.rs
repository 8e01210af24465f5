//! Modbus/TCP framing and PDU decoding.
//!
//! [`pdu_len`] frames an ADU from the MBAP length alone; [`parse`] decodes
//! one ADU and [`parse_pdu`] decodes a bare PDU by direction. A body whose
//! shape does not fit its function code is kept raw with anomaly flags; only
//! an MBAP header that cannot describe a PDU is `Malformed`.

use crate::reader::Reader;
use crate::{DecodeError, Direction};

use super::anomaly::Anomalies;
use super::types::{
    Adu, Body, ConformityLevel, DeviceObjectId, DeviceObjects, DiagnosticSubFunction,
    ExceptionCode, FileRecordKind, FileRecords, FunctionCode, Mbap, MeiType, Pdu, ReadDeviceIdCode,
    UmasCode,
};

/// Bytes of the MBAP header up to and including the length field.
pub const MBAP_PREFIX_LEN: usize = 6;
/// Bytes of the whole MBAP header (with the unit id).
pub const MBAP_LEN: usize = 7;
/// Largest PDU (function code plus data) the specification allows.
pub const MAX_PDU_LEN: usize = 253;
/// Smallest MBAP length: unit id plus function code.
pub const MIN_MBAP_LENGTH: u16 = 2;
/// Largest MBAP length: unit id plus the largest PDU.
pub const MAX_MBAP_LENGTH: u16 = 254;

/// Coils or discrete inputs one read may ask for (0x7D0).
pub const MAX_READ_BITS: u16 = 2000;
/// Registers one read may ask for (0x7D).
pub const MAX_READ_REGISTERS: u16 = 125;
/// Coils one Write Multiple Coils may set (0x7B0).
pub const MAX_WRITE_COILS: u16 = 1968;
/// Registers one Write Multiple Registers may set (0x7B).
pub const MAX_WRITE_REGISTERS: u16 = 123;
/// Registers Read/Write Multiple Registers may write (0x79).
pub const MAX_READ_WRITE_WRITE_REGISTERS: u16 = 121;
/// Registers a FIFO queue may hold.
pub const MAX_FIFO_COUNT: u16 = 31;
/// Highest file record number.
pub const MAX_FILE_RECORD_NUMBER: u16 = 9999;
/// The only file record reference type.
pub const FILE_REFERENCE_TYPE: u8 = 6;

/// The MBAP fields before the unit id: enough to frame an ADU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MbapPrefix {
    /// Transaction identifier.
    pub transaction_id: u16,
    /// Protocol identifier (0 for Modbus).
    pub protocol_id: u16,
    /// Bytes that follow the length field.
    pub length: u16,
}

impl MbapPrefix {
    /// Bytes of the whole ADU this prefix announces (6 + length).
    pub fn adu_len(&self) -> usize {
        MBAP_PREFIX_LEN.saturating_add(usize::from(self.length))
    }
}

/// Reads the first six MBAP bytes without judging them; `Incomplete` until
/// they are all there. For callers that must frame exactly as another
/// implementation does (see [`pdu_len`] for the judging variant).
pub fn mbap_prefix(input: &[u8]) -> Result<MbapPrefix, DecodeError> {
    let mut r = Reader::new(input);
    if r.left() < MBAP_PREFIX_LEN {
        return Err(DecodeError::incomplete(MBAP_PREFIX_LEN.saturating_sub(r.left())));
    }
    Ok(MbapPrefix { transaction_id: r.u16_be()?, protocol_id: r.u16_be()?, length: r.u16_be()? })
}

/// How many bytes the next Modbus/TCP ADU takes (MBAP header plus PDU).
///
/// `Incomplete` until the length field is there; `Malformed` when the
/// length is under 2 (no room for the unit id and a function code), so a
/// stream can resynchronise. A length over [`MAX_MBAP_LENGTH`] still frames
/// (up to 65541 bytes) and [`parse`] flags it as
/// [`Anomalies::INVALID_LENGTH`]; a non-zero protocol identifier also
/// frames and is flagged.
pub fn pdu_len(input: &[u8]) -> Result<usize, DecodeError> {
    let prefix = mbap_prefix(input)?;
    if prefix.length < MIN_MBAP_LENGTH {
        return Err(DecodeError::Malformed("modbus: MBAP length under 2"));
    }
    Ok(prefix.adu_len())
}

/// Decodes one Modbus/TCP ADU from the start of `input`; returns the bytes
/// after it and the ADU. `dir` says whether it travels to the server
/// (request) or from it (response), which decides the body's shape.
pub fn parse(input: &[u8], dir: Direction) -> Result<(&[u8], Adu<'_>), DecodeError> {
    let total = pdu_len(input)?;
    let mut r = Reader::new(input);
    let mut adu = r.sub(total)?;
    let transaction_id = adu.u16_be()?;
    let protocol_id = adu.u16_be()?;
    let length = adu.u16_be()?;
    let unit_id = adu.u8()?;
    let header = Mbap { transaction_id, protocol_id, length, unit_id };
    let mut anomalies = Anomalies::NONE;
    if protocol_id != 0 {
        anomalies |= Anomalies::NONZERO_PROTOCOL_ID;
    }
    let (pdu, pdu_anomalies) = parse_pdu(adu.take_rest(), dir)?;
    anomalies |= pdu_anomalies;
    Ok((r.rest(), Adu { header, pdu, anomalies }))
}

/// Decodes a bare PDU (function code plus data), as carried by any Modbus
/// transport. `Malformed` only when `pdu` is empty.
pub fn parse_pdu(pdu: &[u8], dir: Direction) -> Result<(Pdu<'_>, Anomalies), DecodeError> {
    let mut r = Reader::new(pdu);
    let function = FunctionCode(r.u8().map_err(|_| DecodeError::Malformed("modbus: empty PDU"))?);
    let data = r.rest();
    let is_request = dir == Direction::ToServer;
    let mut an = Anomalies::NONE;
    if pdu.len() > MAX_PDU_LEN {
        // Over the 260-byte ADU limit of the specification (4.1).
        an |= Anomalies::INVALID_LENGTH;
    }
    let body = if function.is_exception() {
        if is_request {
            an |= Anomalies::INVALID_FUNCTION_CODE;
            Body::Raw
        } else {
            exception(r, &mut an)
        }
    } else {
        let mut b = BodyReader { r, an: Anomalies::NONE };
        let body = match decode_body(function, is_request, &mut b) {
            Some(body) if !b.r.any_left() => body,
            _ => {
                b.an |= Anomalies::INVALID_LENGTH;
                Body::Raw
            }
        };
        an |= b.an;
        body
    };
    let base = function.base();
    if base.0 == 0 {
        an |= Anomalies::INVALID_FUNCTION_CODE;
    } else if function.is_user_defined() {
        an |= Anomalies::USER_DEFINED_FUNCTION_CODE;
    } else if function.is_reserved() {
        an |= Anomalies::RESERVED_FUNCTION_CODE;
    }
    Ok((Pdu { function, is_request, body, data }, an))
}

fn exception<'a>(mut r: Reader<'a>, an: &mut Anomalies) -> Body<'a> {
    match r.u8() {
        Ok(code) => {
            let code = ExceptionCode(code);
            if code.name().is_none() {
                *an |= Anomalies::UNKNOWN_EXCEPTION_CODE;
            }
            if r.any_left() {
                *an |= Anomalies::INVALID_LENGTH;
            }
            Body::Exception { code }
        }
        Err(_) => {
            *an |= Anomalies::INVALID_LENGTH;
            Body::Raw
        }
    }
}

/// A reader that also collects semantic anomalies while a body is decoded.
struct BodyReader<'a> {
    r: Reader<'a>,
    an: Anomalies,
}

impl<'a> BodyReader<'a> {
    fn u8(&mut self) -> Option<u8> {
        self.r.u8().ok()
    }

    fn u16(&mut self) -> Option<u16> {
        self.r.u16_be().ok()
    }

    fn flag(&mut self, cond: bool, a: Anomalies) {
        if cond {
            self.an |= a;
        }
    }

    /// A start address and quantity, with the quantity limited to `1..=max`.
    fn range(&mut self, max: u16) -> Option<(u16, u16)> {
        let start = self.u16()?;
        let quantity = self.u16()?;
        self.check_range(start, quantity, max);
        Some((start, quantity))
    }

    fn check_range(&mut self, start: u16, quantity: u16, max: u16) {
        self.flag(quantity == 0 || quantity > max, Anomalies::QUANTITY_OUT_OF_RANGE);
        self.flag(
            u32::from(start).saturating_add(u32::from(quantity)) > 0x1_0000,
            Anomalies::ADDRESS_OUT_OF_RANGE,
        );
    }

    /// A one-byte count followed by exactly that many bytes (the rest of the PDU).
    fn counted(&mut self) -> Option<(u8, &'a [u8])> {
        let byte_count = self.u8()?;
        let values = self.r.take_rest();
        self.flag(values.len() != usize::from(byte_count), Anomalies::BYTE_COUNT_MISMATCH);
        Some((byte_count, values))
    }
}

/// Bytes needed for `quantity` bit-packed coils.
fn coil_bytes(quantity: u16) -> usize {
    usize::from(quantity).div_ceil(8)
}

/// Bytes needed for `quantity` registers.
fn register_bytes(quantity: u16) -> usize {
    usize::from(quantity).saturating_mul(2)
}

/// Decodes the body after the function code; `None` when the bytes run out.
/// Leftover bytes are detected by the caller.
fn decode_body<'a>(
    function: FunctionCode,
    is_request: bool,
    b: &mut BodyReader<'a>,
) -> Option<Body<'a>> {
    let fc = function.0;
    Some(match (fc, is_request) {
        (1 | 2, true) => {
            let (start, quantity) = b.range(MAX_READ_BITS)?;
            Body::ReadRequest { start, quantity }
        }
        (3 | 4, true) => {
            let (start, quantity) = b.range(MAX_READ_REGISTERS)?;
            Body::ReadRequest { start, quantity }
        }
        (1 | 2, false) => {
            let (byte_count, values) = b.counted()?;
            Body::ReadResponse { byte_count, values }
        }
        (3 | 4 | 23, false) => {
            let (byte_count, values) = b.counted()?;
            b.flag(byte_count % 2 != 0, Anomalies::BYTE_COUNT_MISMATCH);
            Body::ReadResponse { byte_count, values }
        }
        (5, _) => {
            let address = b.u16()?;
            let value = b.u16()?;
            b.flag(value != 0x0000 && value != 0xFF00, Anomalies::INVALID_VALUE);
            Body::WriteSingle { address, value }
        }
        (6, _) => Body::WriteSingle { address: b.u16()?, value: b.u16()? },
        (15 | 16, true) => {
            let (max, needed): (u16, fn(u16) -> usize) = if fc == 15 {
                (MAX_WRITE_COILS, coil_bytes)
            } else {
                (MAX_WRITE_REGISTERS, register_bytes)
            };
            let (start, quantity) = b.range(max)?;
            let (byte_count, values) = b.counted()?;
            b.flag(usize::from(byte_count) != needed(quantity), Anomalies::BYTE_COUNT_MISMATCH);
            Body::WriteMultipleRequest { start, quantity, byte_count, values }
        }
        (15 | 16, false) => {
            let max = if fc == 15 { MAX_WRITE_COILS } else { MAX_WRITE_REGISTERS };
            let (start, quantity) = b.range(max)?;
            Body::WriteMultipleResponse { start, quantity }
        }
        (7 | 11 | 12 | 17, true) => Body::Empty,
        (7, false) => Body::ExceptionStatus { outputs: b.u8()? },
        (8, _) => {
            let sub_function = DiagnosticSubFunction(b.u16()?);
            b.flag(sub_function.name().is_none(), Anomalies::RESERVED_DIAGNOSTIC_SUBFUNCTION);
            Body::Diagnostics { sub_function, data: b.r.take_rest() }
        }
        (11, false) => Body::CommEventCounter { status: b.u16()?, event_count: b.u16()? },
        (12, false) => {
            let byte_count = b.u8()?;
            let mut inner = BodyReader { r: b.r.sub(usize::from(byte_count)).ok()?, an: b.an };
            let status = inner.u16()?;
            let event_count = inner.u16()?;
            let message_count = inner.u16()?;
            let events = inner.r.take_rest();
            b.an = inner.an;
            Body::CommEventLog { byte_count, status, event_count, message_count, events }
        }
        (17, false) => {
            let (byte_count, data) = b.counted()?;
            Body::ReportServerId { byte_count, data }
        }
        (20 | 21, _) => {
            let byte_count = b.u8()?;
            let bytes = b.r.take_rest();
            b.flag(bytes.len() != usize::from(byte_count), Anomalies::BYTE_COUNT_MISMATCH);
            let kind = match (fc, is_request) {
                (20, true) => FileRecordKind::ReadRequest,
                (20, false) => FileRecordKind::ReadResponse,
                _ => FileRecordKind::Write,
            };
            let records = FileRecords { kind, bytes };
            check_file_records(records, b);
            Body::FileRecords { byte_count, records }
        }
        (22, _) => Body::MaskWrite { address: b.u16()?, and_mask: b.u16()?, or_mask: b.u16()? },
        (23, true) => {
            let (read_start, read_quantity) = b.range(MAX_READ_REGISTERS)?;
            let (write_start, write_quantity) = b.range(MAX_READ_WRITE_WRITE_REGISTERS)?;
            let (byte_count, values) = b.counted()?;
            b.flag(
                usize::from(byte_count) != register_bytes(write_quantity),
                Anomalies::BYTE_COUNT_MISMATCH,
            );
            Body::ReadWriteRequest {
                read_start,
                read_quantity,
                write_start,
                write_quantity,
                byte_count,
                values,
            }
        }
        (24, true) => Body::ReadFifoRequest { address: b.u16()? },
        (24, false) => {
            let byte_count = b.u16()?;
            let fifo_count = b.u16()?;
            let values = b.r.take_rest();
            b.flag(
                usize::from(byte_count) != values.len().saturating_add(2)
                    || values.len() != register_bytes(fifo_count),
                Anomalies::BYTE_COUNT_MISMATCH,
            );
            b.flag(fifo_count > MAX_FIFO_COUNT, Anomalies::INVALID_VALUE);
            Body::ReadFifoResponse { byte_count, fifo_count, values }
        }
        (43, _) => encapsulated(is_request, b)?,
        (90, _) => {
            Body::Umas { pairing_key: b.u8()?, code: UmasCode(b.u8()?), data: b.r.take_rest() }
        }
        _ => {
            // Unknown, reserved and user-defined codes: the body is the
            // device's business; keep it raw without calling it too long.
            b.r.take_rest();
            Body::Raw
        }
    })
}

/// Checks every record of a file record list for shape and values.
fn check_file_records(records: FileRecords<'_>, b: &mut BodyReader<'_>) {
    let mut used = 0usize;
    let mut count = 0usize;
    for rec in records.iter() {
        count = count.saturating_add(1);
        used = used.saturating_add(match records.kind {
            FileRecordKind::ReadRequest => 7,
            FileRecordKind::ReadResponse => rec.data.len().saturating_add(2),
            FileRecordKind::Write => rec.data.len().saturating_add(7),
        });
        b.flag(rec.reference_type != FILE_REFERENCE_TYPE, Anomalies::INVALID_REFERENCE_TYPE);
        b.flag(
            rec.record_number.is_some_and(|n| n > MAX_FILE_RECORD_NUMBER),
            Anomalies::INVALID_VALUE,
        );
    }
    // Records must fill the list exactly, and the list must hold at least one.
    b.flag(count == 0 || used != records.bytes.len(), Anomalies::INVALID_LENGTH);
}

/// Decodes an Encapsulated Interface Transport (43) body.
fn encapsulated<'a>(is_request: bool, b: &mut BodyReader<'a>) -> Option<Body<'a>> {
    let mei_type = MeiType(b.u8()?);
    if mei_type != MeiType::READ_DEVICE_IDENTIFICATION {
        b.flag(mei_type != MeiType::CANOPEN_GENERAL_REFERENCE, Anomalies::UNKNOWN_MEI_TYPE);
        return Some(Body::Mei { mei_type, data: b.r.take_rest() });
    }
    let code = ReadDeviceIdCode(b.u8()?);
    b.flag(code.name().is_none(), Anomalies::INVALID_DEVICE_ID);
    if is_request {
        let object_id = DeviceObjectId(b.u8()?);
        return Some(Body::ReadDeviceIdRequest { code, object_id });
    }
    let conformity = ConformityLevel(b.u8()?);
    b.flag(conformity.name().is_none(), Anomalies::INVALID_DEVICE_ID);
    let more_follows = b.u8()?;
    b.flag(more_follows != 0x00 && more_follows != 0xFF, Anomalies::INVALID_VALUE);
    let next_object_id = DeviceObjectId(b.u8()?);
    let number_of_objects = b.u8()?;
    let objects = DeviceObjects { bytes: b.r.take_rest() };
    let mut count = 0usize;
    let mut used = 0usize;
    for o in objects.iter() {
        count = count.saturating_add(1);
        used = used.saturating_add(o.value.len().saturating_add(2));
    }
    b.flag(
        count != usize::from(number_of_objects) || used != objects.bytes.len(),
        Anomalies::INVALID_LENGTH,
    );
    Some(Body::ReadDeviceIdResponse {
        code,
        conformity,
        more_follows,
        next_object_id,
        number_of_objects,
        objects,
    })
}
