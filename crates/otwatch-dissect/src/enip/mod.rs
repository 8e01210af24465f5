//! EtherNet/IP encapsulation and CIP explicit messaging, plus class-1 I/O framing.
//!
//! Written from the ODVA specifications:
//!
//! - CIP Vol. 2 (EtherNet/IP adaptation), chapter 2: the 24-byte
//!   encapsulation header (§2-3.1), the commands and status codes
//!   (Tables 2-3.2, 2-3.3), ListIdentity/ListServices/ListInterfaces
//!   replies (§2-4), SendRRData/SendUnitData (§2-4.7, §2-4.8) and the
//!   Common Packet Format (§2-6); chapter 3 for class 0/1 I/O on UDP 2222.
//! - CIP Vol. 1: the Message Router request/response format (§2-4), the
//!   padded EPATH (Appendix C: port, logical, network, symbolic and data
//!   segments, including the ANSI extended symbol segment used for Logix
//!   tag names), general status codes (Appendix B), common services
//!   (Appendix A, with Multiple Service Packet, § ), the Connection
//!   Manager's Forward Open, Large Forward Open, Forward Close and
//!   Unconnected Send (§3-5.6) and the Identity object (§5-2).
//!
//! Entry points: [`probe`], [`pdu_len`] and [`parse`] for encapsulation
//! messages on TCP or UDP 44818; [`probe_io`] and [`parse_io`] for I/O
//! datagrams on UDP 2222; [`parse_cip`] for a bare CIP message;
//! [`parse_header`] for the header of a datagram cut short. Response
//! data whose meaning depends on the request (class-specific replies, the
//! Identity object's attributes) is decoded by [`parse_identity`] and
//! [`parse_forward_open_reply`] once [`Transactions`] has matched the
//! response to its request.
//!
//! This module knows nothing about flows or addresses; it decodes bytes.

mod anomaly;
mod parser;
mod transaction;
mod types;

#[cfg(test)]
mod tests;

pub use anomaly::Anomalies;
pub use parser::{
    HEADER_LEN, parse_cip, parse_forward_open_reply, parse_header, parse_identity, parse_io,
};
pub use transaction::{
    MAX_CONNECTIONS, MAX_PATH_CLASSES, MAX_PENDING, MAX_PENDING_NODES, RequestInfo, Transactions,
    TxKey,
};
pub use types::*;

use crate::{DecodeError, Direction};

/// Most CPF items decoded per message (SendRRData needs two, plus two
/// optional sockaddr items); more sets [`Anomalies::TOO_MANY_ITEMS`].
pub const MAX_CPF_ITEMS: usize = 16;

/// Most services decoded from one Multiple Service Packet; more sets
/// [`Anomalies::CIP_TOO_MANY_SERVICES`].
pub const MAX_MSP_SERVICES: usize = 512;

/// Deepest nesting of CIP messages decoded (Unconnected Send and Multiple
/// Service Packet inside each other); deeper sets
/// [`Anomalies::CIP_NESTING_TOO_DEEP`].
pub const MAX_CIP_DEPTH: u8 = 4;

/// TCP and UDP port of the encapsulation protocol.
pub const PORT: u16 = 44818;

/// UDP port of class 0/1 I/O.
pub const IO_PORT: u16 = 2222;

/// Whether `input` starts with a plausible encapsulation message: a known
/// command other than NOP, zero options, a known status, a length that fits
/// the command, a session for SendRRData/SendUnitData and, when the whole
/// message is present, items that decode cleanly.
pub fn probe(input: &[u8]) -> bool {
    parser::probe(input)
}

/// Bytes taken by the encapsulation message at the start of `input`
/// (24 + length). `Incomplete` until the header is there; `Malformed` if the
/// command is outside the encapsulation range, so a stream can resynchronise.
pub fn pdu_len(input: &[u8]) -> Result<usize, DecodeError> {
    parser::pdu_len(input)
}

/// Decodes the encapsulation message at the start of `input` and returns
/// the bytes after it. `dir` is used only for anomaly checks (a List
/// request carrying data).
pub fn parse(input: &[u8], dir: Direction) -> Result<(&[u8], EnipMessage<'_>), DecodeError> {
    parser::parse(input, dir)
}

/// Whether `input` looks like a class 0/1 I/O datagram (sequenced address
/// item followed by a connected data item).
pub fn probe_io(input: &[u8]) -> bool {
    parser::probe_io(input)
}
