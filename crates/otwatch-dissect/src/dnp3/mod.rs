//! DNP3 (IEEE 1815-2012) dissector: link frames, transport reassembly, application fragments.
//!
//! Specification sections this module follows (IEEE Std 1815-2012):
//! - Clause 9, data link layer: the 10-octet header (start octets 0x05 0x64,
//!   length, control with DIR/PRM/FCB/FCV/DFC and the primary and secondary
//!   function codes of tables 9-1 and 9-2, destination, source), CRC-16/DNP
//!   on the header and on every block of up to 16 user-data octets (9.2.4).
//! - Clause 8, transport function: the FIN/FIR/sequence octet and the
//!   reassembly of application fragments from segments.
//! - Clause 4, application layer: application control (FIR/FIN/CON/UNS/SEQ,
//!   4.2.2.4), function codes (table 4-1), internal indications (4.2.2.6),
//!   object headers with qualifier, prefix and range codes (4.2.2.7).
//! - Annex A, object library: object sizes, CROB (group 12), analog output
//!   blocks (group 41), device attributes (group 0), file commands (group 70),
//!   Secure Authentication objects (group 120, A.45).
//! - IEEE 1815-2012 annex on IP networking: TCP and UDP port 20000, one or
//!   more whole link frames per UDP datagram or TCP stream.
//!
//! The surface: [`probe`] (content-based identification), [`pdu_len`]
//! (stream framing: one link frame), [`parse`] (one link frame),
//! [`Reassembler`] (transport function, per address pair, bounded),
//! [`parse_application`] (one fragment, with [`Objects`] walking its object
//! headers lazily) and decoders for the objects detection cares about
//! ([`Crob`], [`AnalogOutput`], [`DeviceAttribute`], [`FileCommand`], and
//! the Secure Authentication [`AuthChallenge`], [`AuthReply`], [`AuthError`]).
//! Nothing here allocates except the reassembler's bounded buffers.

mod anomaly;
mod crc;
mod objects;
mod parser;
mod reassembly;
mod types;

#[cfg(test)]
mod tests;

pub use anomaly::Anomalies;
pub use crc::crc16_dnp;
pub use parser::{Objects, encode_link, frame_len, parse, parse_application, pdu_len, probe};
pub use reassembly::{Reassembler, Segment};
pub use types::{
    AnalogOutput, AnalogValue, AppControl, AppFragment, AttributeDataType, AttributeVariation,
    AuthChallenge, AuthError, AuthErrorCode, AuthReply, CommandStatus, ControlCode, Crob,
    DataChunk, DataChunks, DeviceAttribute, FileCommand, FileMode, FunctionCode, Iin, Layout,
    LinkControl, LinkFrame, LinkFunction, LinkHeader, ObjectGroup, ObjectHeader, ObjectStatus,
    OpType, Operation, Point, Points, PrefixCode, PrimaryFunction, Qualifier, Range, RangeCode,
    SecondaryFunction, TransportHeader, TripCloseCode,
};

/// The registered DNP3 port, TCP and UDP.
pub const PORT: u16 = 20000;

/// The two octets every link frame starts with.
pub const START_BYTES: [u8; 2] = [0x05, 0x64];

/// Octets of the link header, including its CRC.
pub const LINK_HEADER_LEN: usize = 10;

/// The smallest link length field (control and addresses, no user data).
pub const MIN_LINK_LENGTH: u8 = 5;

/// User-data octets per CRC-protected block.
pub const BLOCK_LEN: usize = 16;

/// Octets of a CRC.
pub const CRC_LEN: usize = 2;

/// The largest link frame on the wire: length 255 gives 250 user-data octets
/// in 16 blocks.
pub const MAX_FRAME_LEN: usize = 292;

/// The largest application fragment the reassembler builds. IEEE 1815-2012
/// lets devices choose their fragment size; 2048 is the usual maximum, so this
/// leaves room for large Secure Authentication certificates.
pub const MAX_FRAGMENT_LEN: usize = 8192;

/// How many address pairs one [`Reassembler`] assembles fragments for at once.
pub const MAX_REASSEMBLY_SLOTS: usize = 8;

/// The most object headers decoded from one fragment (a 2048-octet fragment
/// holds at most 682 headers of 3 octets).
pub const MAX_OBJECT_HEADERS: usize = 1024;
