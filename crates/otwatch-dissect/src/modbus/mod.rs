//! Modbus/TCP dissector.
//!
//! Specifications (Modbus Organization):
//! - *MODBUS Messaging on TCP/IP Implementation Guide V1.0b*, 3.1.3 (MBAP
//!   header: transaction id, protocol id 0, length, unit id) and 4.4.1
//!   (an ADU is at most 260 bytes, so the MBAP length is at most 254).
//! - *MODBUS Application Protocol Specification V1.1b3*: 4.1 (PDU, at most
//!   253 bytes), 5.1 (public, user-defined 65-72 and 100-110, reserved
//!   codes), 6.1-6.21 (request and response of every public function code
//!   and their quantity limits), 7 (exception responses and codes 1-6, 8,
//!   0x0A, 0x0B), Annex A (reserved function codes and sub-codes).
//! - Function code 90 (0x5A) is reserved in the specification and used by
//!   Schneider Electric's UMAS; only its pairing key and UMAS code byte are
//!   decoded (names from public research), never the UMAS payload.
//!
//! The surface: [`probe`] (content-based identification), [`pdu_len`]
//! (stream framing), [`parse`] (one ADU, by direction), [`parse_pdu`] (a
//! bare PDU) and [`Transactions`] (request/response matching with a bounded
//! table). Requests and responses of the same function differ in shape, so
//! decoding needs the [`Direction`].

mod anomaly;
mod parser;
mod types;

#[cfg(test)]
mod tests;

use std::collections::VecDeque;

pub use anomaly::Anomalies;
pub use parser::{
    FILE_REFERENCE_TYPE, MAX_FIFO_COUNT, MAX_FILE_RECORD_NUMBER, MAX_MBAP_LENGTH, MAX_PDU_LEN,
    MAX_READ_BITS, MAX_READ_REGISTERS, MAX_READ_WRITE_WRITE_REGISTERS, MAX_WRITE_COILS,
    MAX_WRITE_REGISTERS, MBAP_LEN, MBAP_PREFIX_LEN, MIN_MBAP_LENGTH, MbapPrefix, mbap_prefix,
    parse, parse_pdu, pdu_len,
};
pub use types::{
    Adu, Body, ConformityLevel, DeviceObject, DeviceObjectId, DeviceObjectIter, DeviceObjects,
    DiagnosticSubFunction, ExceptionCode, FileRecord, FileRecordIter, FileRecordKind, FileRecords,
    FunctionCode, Mbap, MeiType, Operation, Pdu, ReadDeviceIdCode, UmasCode,
};

use crate::{DecodeError, Direction};

/// The registered Modbus/TCP port.
pub const PORT: u16 = 502;

/// How many ADUs [`probe`] looks at in one buffer.
pub const MAX_PROBE_ADUS: usize = 8;

/// Whether `input` (the start of a TCP payload in either direction) looks
/// like Modbus/TCP: one or more whole ADUs with protocol id 0, a public
/// function code (or UMAS) and a body that fits the function without any
/// anomaly, optionally followed by the start of another ADU. Derived from
/// [`parse`], so it never claims what `parse` would flag.
pub fn probe(input: &[u8]) -> bool {
    probe_dir(input, Direction::ToServer) || probe_dir(input, Direction::ToClient)
}

fn probe_dir(input: &[u8], dir: Direction) -> bool {
    let mut rest = input;
    let mut seen = 0usize;
    while !rest.is_empty() && seen < MAX_PROBE_ADUS {
        match parse(rest, dir) {
            Ok((after, adu)) => {
                if !adu.anomalies.is_empty() || adu.pdu.body == Body::Raw {
                    return false;
                }
                rest = after;
                seen = seen.saturating_add(1);
            }
            // A trailing partial ADU is fine once a whole one was seen.
            Err(DecodeError::Incomplete { .. }) => return seen > 0 && plausible_prefix(rest),
            Err(DecodeError::Malformed(_)) => return false,
        }
    }
    seen > 0
}

/// Whether a partial ADU at least has protocol id 0 where it is visible.
fn plausible_prefix(partial: &[u8]) -> bool {
    let mut r = crate::reader::Reader::new(partial);
    match (r.skip(2), r.u16_be()) {
        (Ok(()), Ok(protocol_id)) => protocol_id == 0,
        _ => true,
    }
}

/// Matches responses to requests by (transaction id, unit id) on one
/// connection, to flag responses nobody asked for and function code
/// mismatches. Holds at most [`Transactions::MAX_PENDING`] requests.
#[derive(Clone, Debug, Default)]
pub struct Transactions {
    pending: VecDeque<(u16, u8, FunctionCode)>,
}

impl Transactions {
    /// Requests remembered at most; the oldest is forgotten past this.
    pub const MAX_PENDING: usize = 64;

    /// An empty table.
    pub fn new() -> Transactions {
        Transactions::default()
    }

    /// Requests waiting for a response.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Records a request or matches a response; returns the anomalies this
    /// adds ([`Anomalies::UNMATCHED_RESPONSE`],
    /// [`Anomalies::TOO_MANY_PENDING_REQUESTS`]).
    pub fn observe(&mut self, adu: &Adu<'_>) -> Anomalies {
        let key = (adu.header.transaction_id, adu.header.unit_id);
        let found = self.pending.iter().position(|&(t, u, _)| (t, u) == key);
        if adu.pdu.is_request {
            if let Some(i) = found {
                self.pending.remove(i);
            }
            let mut an = Anomalies::NONE;
            if self.pending.len() >= Transactions::MAX_PENDING {
                self.pending.pop_front();
                an |= Anomalies::TOO_MANY_PENDING_REQUESTS;
            }
            self.pending.push_back((key.0, key.1, adu.pdu.function.base()));
            an
        } else {
            match found.and_then(|i| self.pending.remove(i)) {
                Some((_, _, fc)) if fc == adu.pdu.function.base() => Anomalies::NONE,
                _ => Anomalies::UNMATCHED_RESPONSE,
            }
        }
    }
}
