//! Industrial (OT) and IT protocol dissectors for a passive sensor.
//!
//! Every dissector is a pure function over a borrowed buffer that returns a
//! message borrowing from it, or a [`DecodeError`]. The rules (see
//! ARCHITECTURE.md and the house style):
//!
//! - Input is read only through [`reader::Reader`]; no indexing, no panics,
//!   on any input. Fuzz targets in `fuzz/` check this.
//! - `DecodeError::Incomplete` means "give me more bytes" (a normal outcome
//!   on a stream); `DecodeError::Malformed` means the bytes cannot be framed.
//! - A message that can be framed but is wrong (bad length field, reserved
//!   function code, out-of-range quantity) is returned with its anomaly flags
//!   set, because the anomaly is what an IDS wants to alert on.
//! - Wire enums keep the raw value, so unknown codes survive.
//! - This crate knows nothing about flows, IP addresses, storage or alerts.
//!
//! Each protocol family is a cargo feature (all on by default).

#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing,
        clippy::arithmetic_side_effects
    )
)]
#![deny(missing_docs)]

pub mod reader;

#[cfg(feature = "bacnet")]
pub mod bacnet;
#[cfg(feature = "dnp3")]
pub mod dnp3;
#[cfg(feature = "enip")]
pub mod enip;
#[cfg(feature = "iec104")]
pub mod iec104;
#[cfg(feature = "it")]
pub mod it;
#[cfg(feature = "modbus")]
pub mod modbus;
#[cfg(feature = "s7comm")]
pub mod s7comm;

use std::num::NonZeroUsize;

/// Which way a message travels relative to the protocol's server.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Client (master, primary, requester) to server (outstation, PLC).
    ToServer,
    /// Server to client.
    ToClient,
}

/// Why bytes could not be decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecodeError {
    /// More input is needed; `needed` is how many more bytes, when known.
    Incomplete {
        /// Bytes still missing, if known.
        needed: Option<NonZeroUsize>,
    },
    /// The input cannot be framed as this protocol.
    Malformed(&'static str),
}

impl DecodeError {
    /// An `Incomplete` error for `n` more bytes (unknown if `n == 0`).
    pub fn incomplete(n: usize) -> DecodeError {
        DecodeError::Incomplete { needed: NonZeroUsize::new(n) }
    }
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DecodeError::Incomplete { needed: Some(n) } => {
                write!(f, "incomplete: {n} more bytes needed")
            }
            DecodeError::Incomplete { needed: None } => {
                f.write_str("incomplete: more bytes needed")
            }
            DecodeError::Malformed(why) => write!(f, "malformed: {why}"),
        }
    }
}

impl std::error::Error for DecodeError {}
