//! BACnet MS/TP framing (clause 9.3) with its header CRC-8 and data CRC-16 (Annex G).
//!
//! An MS/TP frame is: preamble 0x55 0xFF, frame type, destination, source, a
//! 2-octet big-endian data length, a header CRC, then (when the length is not
//! zero) the data and a 2-octet data CRC sent least significant octet first. Only
//! BACnet data frames (types 5 and 6) carry an NPDU. The pcap link type 165
//! (LINKTYPE_BACNET_MS_TP) stores one frame per record, from the preamble on.
//!
//! Extended (COBS-encoded) frames, types 8–10, are framed but their data is not
//! decoded and their CRC-32K is not checked.

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
/// data frame. CRC mismatches and out-of-range fields are flagged; a frame
/// shorter than its length field says is `Incomplete`. Octets after the data
/// CRC (a pad octet) are ignored.
pub fn parse_mstp(input: &[u8]) -> Result<MstpFrame<'_>, DecodeError> {
    let mut r = Reader::new(input);
    for want in MSTP_PREAMBLE {
        if r.u8()? != want {
            return Err(DecodeError::Malformed("bacnet: no MS/TP preamble"));
        }
    }
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
    let (data, data_crc_ok) = if length == 0 {
        (&[][..], true)
    } else {
        let data = r.take(usize::from(length))?;
        let sent = r.take_array::<2>()?;
        let extended = matches!(frame_type.0, 8..=10);
        // Extended frames carry a COBS-encoded CRC-32K instead; not checked here.
        (data, extended || data_crc(data) == u16::from_le_bytes(sent))
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
    if data.len() > MSTP_MAX_DATA_LEN && matches!(frame_type.0, 3..=6) {
        an |= Anomalies::MSTP_LENGTH_EXCEEDS_MAX;
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
