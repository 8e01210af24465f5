//! Decoding of IEC 60870-5-104 APDUs and their ASDUs over the checked
//! [`Reader`]. Framing failures are `DecodeError`s; everything that frames
//! but is wrong becomes an anomaly flag on the returned APDU.

use crate::reader::Reader;
use crate::{DecodeError, Direction};

use super::MAX_OBJECTS;
use super::anomaly::Anomalies;
use super::types::*;

/// Start octet of every APDU.
const START: u8 = 0x68;
/// Length of the control field; the smallest meaningful APDU length.
const CONTROL_LEN: u8 = 4;
/// Largest APDU length (APDU of 255 octets minus start and length).
const MAX_APDU_LEN: u8 = 253;
/// ASDU data unit identifier: type, VSQ, COT, originator, common address (2).
const ASDU_HEADER_LEN: usize = 6;
/// F_SG_NA_1 (segment) has a variable element: NOF(2) NOS(1) LOS(1) and LOS octets.
const SEGMENT_FIXED_LEN: usize = 4;

/// How many bytes the APDU at the start of `input` takes (2 + its length octet).
///
/// `Incomplete` if the length octet is not there yet; `Malformed` if the first
/// byte is not the start octet 0x68 or the length exceeds 253. Lengths below
/// 4 frame (the APDU is returned with `INVALID_APCI_LENGTH`).
pub fn pdu_len(input: &[u8]) -> Result<usize, DecodeError> {
    let mut r = Reader::new(input);
    match r.u8() {
        Err(_) => return Err(DecodeError::incomplete(2)),
        Ok(START) => {}
        Ok(_) => return Err(DecodeError::Malformed("no start octet 0x68")),
    }
    let len = r.u8()?;
    if len > MAX_APDU_LEN {
        return Err(DecodeError::Malformed("APDU length above 253"));
    }
    Ok(usize::from(len).saturating_add(2))
}

/// Content-based identification: a well-formed S or U APDU, or an I APDU with
/// a known type id, a known cause and at least one object.
pub fn probe(input: &[u8]) -> bool {
    let Ok(len) = pdu_len(input) else { return false };
    let Some(apdu_bytes) = input.get(..len) else { return false };
    let Ok((_, apdu)) = parse(apdu_bytes, Direction::ToServer) else { return false };
    let clean = !apdu.anomalies.intersects_framing();
    match (apdu.apci, &apdu.asdu) {
        (Apci::S { .. } | Apci::U { .. }, _) => clean,
        (Apci::I { .. }, Some(asdu)) => {
            clean && asdu.type_id.is_known() && asdu.cot.cause.is_known() && asdu.count > 0
        }
        _ => false,
    }
}

impl Anomalies {
    /// Whether any flag says the APCI itself is wrong (as opposed to the ASDU's content).
    fn intersects_framing(self) -> bool {
        self.contains(Anomalies::INVALID_APCI_LENGTH)
            || self.contains(Anomalies::INVALID_U_FUNCTION)
            || self.contains(Anomalies::RESERVED_NONZERO)
            || self.contains(Anomalies::ASDU_TRUNCATED)
            || self.contains(Anomalies::LENGTH_MISMATCH)
    }
}

/// Decodes one APDU and returns the input after it.
///
/// `dir` is accepted for uniformity with the other dissectors; the APDU
/// itself does not depend on direction.
pub fn parse<'a>(input: &'a [u8], dir: Direction) -> Result<(&'a [u8], Apdu<'a>), DecodeError> {
    let _ = dir;
    let total = pdu_len(input)?;
    let mut outer = Reader::new(input);
    let mut r = outer.sub(total)?;
    let rest = outer.rest();
    let _start = r.u8()?;
    let length = r.u8()?;
    let mut anomalies = Anomalies::NONE;

    if length < CONTROL_LEN {
        anomalies |= Anomalies::INVALID_APCI_LENGTH;
        r.take_rest();
        return Ok((rest, Apdu { length, apci: Apci::Short, asdu: None, anomalies }));
    }
    let [c1, c2, c3, c4] = r.take_array::<4>()?;
    let recv_seq = u16::from_le_bytes([c3, c4]).wrapping_shr(1);
    let apci = if c1 & 0x01 == 0 {
        if c3 & 0x01 != 0 {
            anomalies |= Anomalies::RESERVED_NONZERO;
        }
        Apci::I { send_seq: u16::from_le_bytes([c1, c2]).wrapping_shr(1), recv_seq }
    } else if c1 & 0x03 == 0x01 {
        if c1 != 0x01 || c2 != 0 || c3 & 0x01 != 0 {
            anomalies |= Anomalies::RESERVED_NONZERO;
        }
        Apci::S { recv_seq }
    } else {
        let function = UFunction(c1.wrapping_shr(2));
        if function.0.count_ones() != 1 {
            anomalies |= Anomalies::INVALID_U_FUNCTION;
        }
        if c2 != 0 || c3 != 0 || c4 != 0 {
            anomalies |= Anomalies::RESERVED_NONZERO;
        }
        Apci::U { function }
    };

    let asdu = match apci {
        Apci::I { .. } if r.left() >= ASDU_HEADER_LEN => {
            Some(parse_asdu(r.take_rest(), &mut anomalies)?)
        }
        Apci::I { .. } => {
            anomalies |= Anomalies::ASDU_TRUNCATED;
            r.take_rest();
            None
        }
        _ => {
            if length != CONTROL_LEN {
                anomalies |= Anomalies::INVALID_APCI_LENGTH;
            }
            r.take_rest();
            None
        }
    };
    Ok((rest, Apdu { length, apci, asdu, anomalies }))
}

/// Decodes an ASDU (data unit identifier and information objects).
pub fn parse_asdu<'a>(bytes: &'a [u8], anomalies: &mut Anomalies) -> Result<Asdu<'a>, DecodeError> {
    let mut r = Reader::new(bytes);
    let type_id = TypeId(r.u8()?);
    let vsq = r.u8()?;
    let cot = r.u8()?;
    let originator = r.u8()?;
    let common_address = r.u16_le()?;
    let body = r.rest();
    let sequence = vsq & 0x80 != 0;
    let count = vsq & 0x7f;
    let cot = CauseOfTransmission {
        cause: Cause(cot & 0x3f),
        negative: cot & 0x40 != 0,
        test: cot & 0x80 != 0,
    };
    if !type_id.is_known() {
        *anomalies |= Anomalies::UNKNOWN_TYPE_ID;
    }
    if count == 0 {
        *anomalies |= Anomalies::NO_OBJECTS;
    }
    if !cot.cause.is_known() {
        *anomalies |= Anomalies::UNKNOWN_CAUSE;
    } else if !type_id.allows_cause(cot.cause) {
        *anomalies |= Anomalies::ILLEGAL_CAUSE_FOR_TYPE;
    }
    if common_address == 0 {
        *anomalies |= Anomalies::COMMON_ADDRESS_ZERO;
    }
    let mut objects = Vec::new();
    if type_id.is_known()
        && (read_objects(&mut r, type_id, sequence, count, &mut objects).is_err() || r.any_left())
    {
        *anomalies |= Anomalies::LENGTH_MISMATCH;
    }
    Ok(Asdu { type_id, sequence, count, cot, originator, common_address, objects, body })
}

fn element_len(r: &Reader<'_>, type_id: TypeId) -> Result<usize, DecodeError> {
    match type_id.element_size() {
        Some(n) => Ok(n),
        None if type_id == TypeId::F_SG_NA_1 => {
            let los = r.rest().get(3).copied().ok_or(DecodeError::incomplete(SEGMENT_FIXED_LEN))?;
            Ok(SEGMENT_FIXED_LEN.saturating_add(usize::from(los)))
        }
        None => Err(DecodeError::Malformed("element size unknown")),
    }
}

fn read_objects<'a>(
    r: &mut Reader<'a>,
    type_id: TypeId,
    sequence: bool,
    count: u8,
    out: &mut Vec<InfoObject<'a>>,
) -> Result<(), DecodeError> {
    let n = usize::from(count).min(MAX_OBJECTS);
    if sequence {
        let base = r.u24_le()?;
        for i in 0..n {
            let size = element_len(r, type_id)?;
            let element = r.take(size)?;
            let offset = u32::try_from(i).unwrap_or(0);
            out.push(InfoObject { address: base.wrapping_add(offset) & 0x00ff_ffff, element });
        }
    } else {
        for _ in 0..n {
            let address = r.u24_le()?;
            let size = element_len(r, type_id)?;
            let element = r.take(size)?;
            out.push(InfoObject { address, element });
        }
    }
    Ok(())
}
