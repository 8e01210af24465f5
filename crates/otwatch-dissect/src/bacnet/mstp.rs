//! BACnet MS/TP framing (clause 9.3) with its header CRC-8 and data CRC-16 (Annex G).
//!
//! An MS/TP frame is: preamble 0x55 0xFF, frame type, destination, source, a
//! 2-octet big-endian data length, a header CRC, then (when the length is not
//! zero) the data and a 2-octet data CRC sent least significant octet first. Only
//! BACnet data frames (types 5 and 6) carry an NPDU. The pcap link type 165
//! (LINKTYPE_BACNET_MS_TP) stores one frame per record, from the preamble on.
//!
//! Extended frames (types 32–127, clause 9.10) carry their data COBS-encoded,
//! every octet XORed with 0x55 so no preamble octet appears inside, followed by
//! a 5-octet encoded CRC-32K computed over the encoded data; their length field
//! is the encoded length minus two, so every frame takes `8 + length + 2`
//! octets. [`parse_mstp`] checks the CRC-32K in place; [`decode_cobs_data`]
//! decodes the data (an NPDU for types 32 and 33) into a caller's buffer.

use super::anomaly::Anomalies;
use super::parser::parse_npdu;
use super::types::{MstpFrame, MstpFrameType};
use crate::DecodeError;
use crate::reader::Reader;

/// The MS/TP preamble.
pub const MSTP_PREAMBLE: [u8; 2] = [0x55, 0xff];
/// Length of an MS/TP header, preamble and header CRC included.
pub const MSTP_HEADER_LEN: usize = 8;
/// Largest data field of a BACnet data or test frame (9.3, NPDU of 501 octets).
pub const MSTP_MAX_DATA_LEN: usize = 501;
/// Length of the data CRC that follows a non-empty data field.
pub const MSTP_DATA_CRC_LEN: usize = 2;
/// The MS/TP broadcast address.
pub const MSTP_BROADCAST: u8 = 255;
/// Length of the Encoded CRC-32K field that ends a COBS-encoded data field.
pub const MSTP_COBS_CRC_LEN: usize = 5;
/// Smallest length field of a COBS-encoded frame (1 data octet, 1 code octet,
/// the encoded CRC, minus two).
pub const MSTP_COBS_MIN_LENGTH: usize = 5;
/// Largest length field of a COBS-encoded frame (2032 data octets, 8 code
/// octets, the encoded CRC, minus two).
pub const MSTP_COBS_MAX_LENGTH: usize = 2043;
/// Largest decoded data of a COBS-encoded frame.
pub const MSTP_COBS_MAX_DATA_LEN: usize = 2032;
/// The mask XORed into every COBS-encoded octet.
const COBS_MASK: u8 = 0x55;

/// The header CRC to transmit for the five header octets after the preamble
/// (frame type, destination, source, length): CRC-8 with polynomial
/// x^8 + x^7 + 1, initial value 0xFF, ones complement sent (Annex G.1).
pub fn header_crc(header: &[u8]) -> u8 {
    let mut crc: u8 = 0xff;
    for b in header {
        crc ^= *b;
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0x81 } else { crc >> 1 };
        }
    }
    !crc
}

/// The data CRC to transmit for a data field: CRC-CCITT (x^16 + x^12 + x^5 + 1),
/// least significant bit first, initial value 0xFFFF, ones complement sent
/// (Annex G.2). It goes on the wire least significant octet first.
pub fn data_crc(data: &[u8]) -> u16 {
    let mut crc: u16 = 0xffff;
    for b in data {
        crc ^= u16::from(*b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0x8408 } else { crc >> 1 };
        }
    }
    !crc
}

/// The CRC-32K to transmit for the Encoded Data field of a COBS-encoded frame:
/// the Koopman polynomial 0x741B8CD7, least significant bit first (0xEB31D82E
/// reflected), initial value 0xFFFFFFFF, ones complement sent least significant
/// octet first and then COBS-encoded (Annex G.3).
pub fn crc32k(data: &[u8]) -> u32 {
    let mut crc: u32 = 0xffff_ffff;
    for b in data {
        crc ^= u32::from(*b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0xeb31_d82e } else { crc >> 1 };
        }
    }
    !crc
}

/// COBS-decodes `encoded` (octets XORed with 0x55), handing each decoded octet
/// to `emit`.
fn cobs_decode(
    encoded: &[u8],
    mut emit: impl FnMut(u8) -> Result<(), DecodeError>,
) -> Result<(), DecodeError> {
    let mut r = Reader::new(encoded);
    while r.any_left() {
        let code = r.u8()? ^ COBS_MASK;
        let run = usize::from(code)
            .checked_sub(1)
            .ok_or(DecodeError::Malformed("bacnet: COBS code octet 0"))?;
        let block =
            r.take(run).map_err(|_| DecodeError::Malformed("bacnet: COBS block overruns data"))?;
        for b in block {
            emit(b ^ COBS_MASK)?;
        }
        // Every block but a full one (254 octets) and the last ends in a zero.
        if code != 0xff && r.any_left() {
            emit(0)?;
        }
    }
    Ok(())
}

/// Whether the Encoded CRC-32K at the end of a COBS-encoded data field matches
/// the encoded data before it.
fn cobs_crc_ok(field: &[u8]) -> bool {
    let Some(split) = field.len().checked_sub(MSTP_COBS_CRC_LEN) else { return false };
    let mut r = Reader::new(field);
    let (Ok(data), Ok(crc_field)) = (r.take(split), r.take(MSTP_COBS_CRC_LEN)) else {
        return false;
    };
    let mut crc = [0u8; 4];
    let mut n = 0usize;
    let decoded = cobs_decode(crc_field, |b| {
        let slot = crc.get_mut(n).ok_or(DecodeError::Malformed("bacnet: COBS CRC too long"))?;
        *slot = b;
        n = n.saturating_add(1);
        Ok(())
    });
    decoded.is_ok() && n == 4 && u32::from_le_bytes(crc) == crc32k(data)
}

/// Decodes the data of a COBS-encoded frame (its [`MstpFrame::data`]: Encoded
/// Data then Encoded CRC-32K) into `out`, which is cleared first; returns whether
/// the CRC-32K checks. Fails when the encoding is broken or the decoded data
/// would exceed [`MSTP_COBS_MAX_DATA_LEN`].
pub fn decode_cobs_data(field: &[u8], out: &mut Vec<u8>) -> Result<bool, DecodeError> {
    out.clear();
    let split = field
        .len()
        .checked_sub(MSTP_COBS_CRC_LEN)
        .ok_or(DecodeError::Malformed("bacnet: COBS field shorter than its CRC"))?;
    let mut r = Reader::new(field);
    let data = r.take(split)?;
    cobs_decode(data, |b| {
        if out.len() >= MSTP_COBS_MAX_DATA_LEN {
            return Err(DecodeError::Malformed("bacnet: COBS data too long"));
        }
        out.push(b);
        Ok(())
    })?;
    Ok(cobs_crc_ok(field))
}

/// How many octets the MS/TP frame at the start of `input` takes (for a serial
/// byte stream): `Incomplete` until the header is there, `Malformed` when the
/// input does not start with a preamble or the header CRC is wrong, so the caller
/// can skip an octet and resynchronise. A trailing pad octet is not counted.
pub fn mstp_frame_len(input: &[u8]) -> Result<usize, DecodeError> {
    let mut r = Reader::new(input);
    for want in MSTP_PREAMBLE {
        if r.u8()? != want {
            return Err(DecodeError::Malformed("bacnet: no MS/TP preamble"));
        }
    }
    let header = r.take(5)?;
    let crc = r.u8()?;
    if header_crc(header) != crc {
        return Err(DecodeError::Malformed("bacnet: MS/TP header CRC mismatch"));
    }
    let mut h = Reader::new(header);
    h.skip(3)?;
    let len = usize::from(h.u16_be()?);
    let data = if len == 0 { 0 } else { len.saturating_add(MSTP_DATA_CRC_LEN) };
    Ok(MSTP_HEADER_LEN.saturating_add(data))
}

/// Decodes one MS/TP frame starting at its preamble, and the NPDU of a BACnet
/// data frame. CRC mismatches and out-of-range fields are flagged; a frame cut
/// short after its header (a capture that lost the end of the frame) is decoded
/// as far as it goes, its last two octets taken as the data CRC, and flagged
/// `bacnet.mstp_truncated`; a header cut short is `Incomplete`. Octets after the data CRC (a pad octet) are ignored.
pub fn parse_mstp(input: &[u8]) -> Result<MstpFrame<'_>, DecodeError> {
    let mut r = Reader::new(input);
    for want in MSTP_PREAMBLE {
        if r.u8()? != want {
            return Err(DecodeError::Malformed("bacnet: no MS/TP preamble"));
        }
    }
    parse_mstp_without_preamble(r.rest())
}

/// The OUI under which Cimetrics MS/TP sniffers send MS/TP frames in 802.2 SNAP
/// frames on Ethernet.
pub const CIMETRICS_OUI: [u8; 3] = [0x00, 0x10, 0x90];
/// The SNAP protocol id of those frames.
pub const CIMETRICS_PID_MSTP: u16 = 0x0001;

/// Decodes an MS/TP frame captured by a Cimetrics sniffer and relayed in an 802.2
/// SNAP frame: `input` starts at the SNAP OUI (00-10-90) and PID (0x0001), then
/// carries a 2-octet delta time, one octet of sniffer status and the MS/TP frame
/// without its preamble. Fails with `Malformed` for any other OUI or PID.
pub fn parse_cimetrics(input: &[u8]) -> Result<MstpFrame<'_>, DecodeError> {
    let mut r = Reader::new(input);
    let oui = r.take_array::<3>()?;
    let pid = r.u16_be()?;
    if oui != CIMETRICS_OUI || pid != CIMETRICS_PID_MSTP {
        return Err(DecodeError::Malformed("bacnet: not a Cimetrics MS/TP SNAP frame"));
    }
    let _delta_time = r.u16_le()?;
    let _status = r.u8()?;
    parse_mstp_without_preamble(r.rest())
}

/// Decodes an MS/TP frame whose preamble has been stripped: `input` starts at
/// the frame type. Otherwise as [`parse_mstp`].
pub fn parse_mstp_without_preamble(input: &[u8]) -> Result<MstpFrame<'_>, DecodeError> {
    let mut r = Reader::new(input);
    let header = r.take(5)?;
    let crc = r.u8()?;
    let mut h = Reader::new(header);
    let frame_type = MstpFrameType(h.u8()?);
    let destination = h.u8()?;
    let source = h.u8()?;
    let length = h.u16_be()?;
    let mut an = Anomalies::NONE;
    let header_crc_ok = header_crc(header) == crc;
    if !header_crc_ok {
        an |= Anomalies::MSTP_BAD_HEADER_CRC;
    }
    let len = usize::from(length);
    // The data field and its CRC, as far as the capture has them. When the frame
    // is cut short, its last two captured octets are taken as the data CRC (as
    // tshark does, so that counts agree) and the data is what precedes them.
    let field_len = if length == 0 { 0 } else { len.saturating_add(MSTP_DATA_CRC_LEN) };
    let cut = r.left() < field_len;
    if cut {
        an |= Anomalies::MSTP_TRUNCATED;
    }
    let (data, data_crc_ok) = if length == 0 {
        (&[][..], true)
    } else if frame_type.is_cobs() {
        let field = r.take(field_len.min(r.left()))?;
        if !(MSTP_COBS_MIN_LENGTH..=MSTP_COBS_MAX_LENGTH).contains(&len) {
            an |= Anomalies::MSTP_LENGTH_EXCEEDS_MAX;
        }
        (field, !cut && cobs_crc_ok(field))
    } else {
        let available = if cut { r.left().saturating_sub(MSTP_DATA_CRC_LEN) } else { len };
        let data = r.take(available)?;
        if len > MSTP_MAX_DATA_LEN && frame_type.0 < 32 {
            an |= Anomalies::MSTP_LENGTH_EXCEEDS_MAX;
        }
        let crc_ok = !cut
            && r.take_array::<2>().is_ok_and(|sent| data_crc(data) == u16::from_le_bytes(sent));
        (data, crc_ok)
    };
    if !data_crc_ok {
        an |= Anomalies::MSTP_BAD_DATA_CRC;
    }
    if !frame_type.is_known() && frame_type.0 < 128 {
        an |= Anomalies::MSTP_UNKNOWN_FRAME_TYPE;
    }
    if !data.is_empty() && frame_type.is_known() && !frame_type.may_carry_data() {
        an |= Anomalies::MSTP_UNEXPECTED_DATA;
    }
    if source == MSTP_BROADCAST {
        an |= Anomalies::MSTP_INVALID_SOURCE;
    }
    let npdu = if frame_type.carries_npdu() {
        match parse_npdu(data) {
            Ok(npdu) => {
                an |= npdu.anomalies;
                Some(npdu)
            }
            Err(_) => {
                an |= Anomalies::NPDU_MALFORMED;
                None
            }
        }
    } else {
        None
    };
    Ok(MstpFrame {
        frame_type,
        destination,
        source,
        length,
        header_crc_ok,
        data,
        data_crc_ok,
        npdu,
        anomalies: an,
    })
}
