//! IEC 60870-5-104 (telecontrol over TCP, port 2404) with the IEC 60870-5-101
//! application layer it carries.
//!
//! Where things are specified:
//!
//! - **APCI**, IEC 60870-5-104 clause 5: start octet 0x68, APDU length
//!   (4..253), and a 4-octet control field in one of three formats: I
//!   (numbered information transfer with send/receive sequence numbers, 5.1),
//!   S (numbered supervisory, 5.2) and U (unnumbered control: STARTDT,
//!   STOPDT, TESTFR act/con, 5.3). [`pdu_len`] frames a TCP stream on it.
//! - **ASDU**, IEC 60870-5-101 clause 7 with the -104 field sizes (-104
//!   clause 9): type identification (7.2.1), variable structure qualifier
//!   with the SQ bit and number of objects (7.2.2), cause of transmission
//!   with P/N and T bits (7.2.3), originator address, 2-octet common address
//!   (7.2.4), and information objects with 3-octet addresses (7.2.5) whose
//!   element sizes follow from the type id (7.3). Types the dissector cannot
//!   size stop object iteration with `UNKNOWN_TYPE_ID`.
//!
//! Not done here: sequence-number tracking across APDUs (needs flow state),
//! value scaling, and judging which commands are dangerous beyond
//! [`TypeId::is_control`].

pub mod anomaly;
mod parser;
pub mod types;

#[cfg(test)]
mod tests;

pub use anomaly::Anomalies;
pub use parser::{parse, parse_asdu, pdu_len, probe};
pub use types::*;

/// Registered TCP port of IEC 60870-5-104.
pub const PORT: u16 = 2404;
/// Most information objects decoded per ASDU: the 7-bit object count's maximum,
/// so every object of a well-formed ASDU is kept.
pub const MAX_OBJECTS: usize = 127;
