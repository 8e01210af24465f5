//! Anomaly flags for EtherNet/IP and CIP: things that frame but are wrong.
//!
//! Each flag has a stable snake_case name (`enip.*` for the encapsulation
//! and CPF layers, `cip.*` for CIP messages, `enip_io.*` for class-1 I/O)
//! that rules and logs refer to. Names never change once released; new
//! flags get new bits.

use std::fmt;

/// A set of anomaly flags (a bitset with named constants).
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Anomalies(u32);

impl Anomalies {
    /// No anomaly.
    pub const NONE: Anomalies = Anomalies(0);
    /// Command code not defined by the specification (legacy or reserved).
    pub const UNKNOWN_COMMAND: Anomalies = Anomalies(0x0000_0001);
    /// The options field of the header is not zero.
    pub const NONZERO_OPTIONS: Anomalies = Anomalies(0x0000_0002);
    /// The command data is shorter or longer than its structure requires.
    pub const INVALID_LENGTH: Anomalies = Anomalies(0x0000_0004);
    /// A Common Packet Format item overruns the data or is malformed.
    pub const INVALID_ITEM: Anomalies = Anomalies(0x0000_0008);
    /// More CPF items than [`super::MAX_CPF_ITEMS`]; the rest were skipped.
    pub const TOO_MANY_ITEMS: Anomalies = Anomalies(0x0000_0010);
    /// A CPF item type that does not belong to this command.
    pub const UNEXPECTED_ITEM: Anomalies = Anomalies(0x0000_0020);
    /// The interface handle of SendRRData/SendUnitData is not 0 (CIP).
    pub const INVALID_INTERFACE: Anomalies = Anomalies(0x0000_0040);
    /// A session-based command is sent with session handle 0.
    pub const MISSING_SESSION: Anomalies = Anomalies(0x0000_0080);
    /// RegisterSession asks for a protocol version other than 1.
    pub const UNSUPPORTED_VERSION: Anomalies = Anomalies(0x0000_0100);
    /// Data where the command carries none (e.g. a List request with a body).
    pub const UNEXPECTED_DATA: Anomalies = Anomalies(0x0000_0200);
    /// A CIP message inside an item cannot be framed (truncated header or path).
    pub const CIP_MALFORMED: Anomalies = Anomalies(0x0000_0400);
    /// A request path (EPATH) with an invalid or truncated segment.
    pub const CIP_INVALID_PATH: Anomalies = Anomalies(0x0000_0800);
    /// A CIP service code in a reserved range.
    pub const CIP_RESERVED_SERVICE: Anomalies = Anomalies(0x0000_1000);
    /// The reserved byte of a CIP response is not zero.
    pub const CIP_RESERVED_NONZERO: Anomalies = Anomalies(0x0000_2000);
    /// A Multiple Service Packet with more services than [`super::MAX_MSP_SERVICES`].
    pub const CIP_TOO_MANY_SERVICES: Anomalies = Anomalies(0x0000_4000);
    /// A Multiple Service Packet offset outside the packet or out of order.
    pub const CIP_INVALID_OFFSET: Anomalies = Anomalies(0x0000_8000);
    /// Messages nested deeper than [`super::MAX_CIP_DEPTH`]; the inner ones were not decoded.
    pub const CIP_NESTING_TOO_DEEP: Anomalies = Anomalies(0x0001_0000);
    /// Service data (Unconnected Send, Forward Open/Close, MSP) that does not fit its structure.
    pub const CIP_INVALID_SERVICE_DATA: Anomalies = Anomalies(0x0002_0000);
    /// A request where a response is expected, or the other way round.
    pub const CIP_UNEXPECTED_DIRECTION: Anomalies = Anomalies(0x0004_0000);
    /// Class-1 I/O datagram without a sequenced address and connected data item.
    pub const IO_INVALID_ITEMS: Anomalies = Anomalies(0x0008_0000);

    /// Every flag with its stable name, in bit order.
    pub const ALL: [(Anomalies, &'static str); 20] = [
        (Anomalies::UNKNOWN_COMMAND, "enip.unknown_command"),
        (Anomalies::NONZERO_OPTIONS, "enip.nonzero_options"),
        (Anomalies::INVALID_LENGTH, "enip.invalid_length"),
        (Anomalies::INVALID_ITEM, "enip.invalid_item"),
        (Anomalies::TOO_MANY_ITEMS, "enip.too_many_items"),
        (Anomalies::UNEXPECTED_ITEM, "enip.unexpected_item"),
        (Anomalies::INVALID_INTERFACE, "enip.invalid_interface"),
        (Anomalies::MISSING_SESSION, "enip.missing_session"),
        (Anomalies::UNSUPPORTED_VERSION, "enip.unsupported_version"),
        (Anomalies::UNEXPECTED_DATA, "enip.unexpected_data"),
        (Anomalies::CIP_MALFORMED, "cip.malformed"),
        (Anomalies::CIP_INVALID_PATH, "cip.invalid_path"),
        (Anomalies::CIP_RESERVED_SERVICE, "cip.reserved_service"),
        (Anomalies::CIP_RESERVED_NONZERO, "cip.reserved_nonzero"),
        (Anomalies::CIP_TOO_MANY_SERVICES, "cip.too_many_services"),
        (Anomalies::CIP_INVALID_OFFSET, "cip.invalid_offset"),
        (Anomalies::CIP_NESTING_TOO_DEEP, "cip.nesting_too_deep"),
        (Anomalies::CIP_INVALID_SERVICE_DATA, "cip.invalid_service_data"),
        (Anomalies::CIP_UNEXPECTED_DIRECTION, "cip.unexpected_direction"),
        (Anomalies::IO_INVALID_ITEMS, "enip_io.invalid_items"),
    ];

    /// The raw bits.
    pub fn bits(self) -> u32 {
        self.0
    }

    /// Whether no flag is set.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Whether every flag of `other` is set.
    pub fn contains(self, other: Anomalies) -> bool {
        self.0 & other.0 == other.0
    }

    /// Sets the flags of `other`.
    pub fn insert(&mut self, other: Anomalies) {
        self.0 |= other.0;
    }

    /// The stable names of the flags that are set, in bit order.
    pub fn names(self) -> impl Iterator<Item = &'static str> {
        Anomalies::ALL.into_iter().filter(move |(f, _)| self.contains(*f)).map(|(_, n)| n)
    }
}

impl std::ops::BitOr for Anomalies {
    type Output = Anomalies;
    fn bitor(self, rhs: Anomalies) -> Anomalies {
        Anomalies(self.0 | rhs.0)
    }
}

impl fmt::Debug for Anomalies {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.names()).finish()
    }
}

impl fmt::Display for Anomalies {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for n in self.names() {
            if !first {
                f.write_str(",")?;
            }
            f.write_str(n)?;
            first = false;
        }
        Ok(())
    }
}
