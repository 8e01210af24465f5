//! S7comm (Siemens S7-300/400 "S7 communication") over ISO-on-TCP, port 102,
//! and recognition of S7comm-plus (S7-1200/1500).
//!
//! Layers and where they are specified:
//!
//! - **TPKT**, RFC 1006 section 6: version 3, a reserved byte, and a 16-bit
//!   length that covers the whole packet. [`pdu_len`] frames a TCP stream on it.
//! - **COTP**, ISO 8073 / ITU-T X.224 section 13 (class 0 as used by RFC 1006):
//!   length indicator, TPDU code, CR/CC with references, class and variable
//!   parameters (13.3.4: TPDU size 0xc0, calling TSAP 0xc1, called TSAP 0xc2),
//!   DR/DC, and DT with its EOT flag and TPDU number (13.7). A TSDU split over
//!   several DTs (EOT clear) is put back together by [`CotpReassembler`].
//! - **S7comm** (protocol id 0x32) has no public specification from Siemens;
//!   the layout follows the publicly documented descriptions of the protocol:
//!   a header with ROSCTR (1 Job, 2 Ack, 3 Ack_Data, 7 Userdata), PDU
//!   reference, parameter and data lengths and, in acknowledgements, error
//!   class and code; then a parameter part (function code and its fields, or
//!   the userdata function group/subfunction) and a data part.
//! - **S7comm-plus** (protocol id 0x72): version, data length, integrity
//!   digest (V2/V3), opcode, function code and sequence number are extracted;
//!   the object model inside is not decoded.
//!
//! Not done here: flow state beyond the small helpers ([`CotpReassembler`],
//! [`UserdataFragments`]), and any judgement about which operations are
//! dangerous (the types only say what an operation is).

pub mod anomaly;
mod parser;
pub mod types;

#[cfg(test)]
mod tests;

pub use anomaly::Anomalies;
pub use parser::{
    CotpReassembler, Reassembly, UserdataFragments, block_name, parse, parse_payload, parse_plus,
    parse_s7, pdu_len, probe,
};
pub use types::*;

/// Registered TCP port of ISO-on-TCP (RFC 1006).
pub const PORT: u16 = 102;
/// Most variable items (and data items, and write results) decoded per PDU; more set `TOO_MANY_ITEMS`.
pub const MAX_ITEMS: usize = 64;
/// Most block names decoded from one PI parameter block; more set `TOO_MANY_ITEMS`.
pub const MAX_PI_BLOCKS: usize = 64;
/// Largest TSDU the COTP reassembler buffers.
pub const MAX_TSDU_BYTES: usize = 65_536;
/// Most DT segments one TSDU may take.
pub const MAX_SEGMENTS: usize = 256;
