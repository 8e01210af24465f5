//! BACnet anomaly flags: things a message can get wrong while still being framable.
//!
//! Each flag has a stable snake_case name (`bacnet.<name>`) that rules and logs refer
//! to; renaming one is a breaking change. The set is a plain bitset so a message
//! carries every anomaly found in all of its layers (BVLC, NPDU, APDU, service) at
//! no allocation cost.

use std::fmt;

/// A set of BACnet anomalies found while decoding one message.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Anomalies(u64);

macro_rules! anomalies {
    ($( $(#[$doc:meta])* $konst:ident = $bit:expr => $name:literal, )*) => {
        impl Anomalies {
            $( $(#[$doc])* pub const $konst: Anomalies = Anomalies(1 << $bit); )*

            /// Every flag with its stable name, in bit order.
            pub const ALL: &'static [(Anomalies, &'static str)] = &[
                $( (Anomalies::$konst, $name), )*
            ];
        }
    };
}

anomalies! {
    /// The BVLC function code is not one Annex J defines (0x00–0x0C).
    BVLC_UNKNOWN_FUNCTION = 0 => "bacnet.bvlc_unknown_function",
    /// The BVLC length field disagrees with the datagram length.
    BVLC_LENGTH_MISMATCH = 1 => "bacnet.bvlc_length_mismatch",
    /// A BVLC body has the wrong size for its function (e.g. a BDT that is not a
    /// whole number of 10-octet entries, a result code that is not 2 octets).
    BVLC_BAD_BODY_LENGTH = 2 => "bacnet.bvlc_bad_body_length",
    /// The NPDU protocol version is not 1.
    NPDU_BAD_VERSION = 3 => "bacnet.npdu_bad_version",
    /// Reserved bits of the NPDU control octet are set.
    NPDU_RESERVED_BITS = 4 => "bacnet.npdu_reserved_bits",
    /// The NPDU header cannot be decoded (cut short inside its address fields).
    NPDU_MALFORMED = 5 => "bacnet.npdu_malformed",
    /// A network address is invalid: SNET or DNET 0, SNET 0xFFFF, or SLEN 0.
    NPDU_INVALID_ADDRESS = 6 => "bacnet.npdu_invalid_address",
    /// The network layer message type is in the reserved range 0x14–0x7F.
    NPDU_RESERVED_MESSAGE_TYPE = 7 => "bacnet.npdu_reserved_message_type",
    /// The NPDU says it carries an APDU but no APDU octets follow.
    NPDU_MISSING_APDU = 8 => "bacnet.npdu_missing_apdu",
    /// A network layer message body is shorter or longer than its type requires.
    NETWORK_MESSAGE_MALFORMED = 9 => "bacnet.network_message_malformed",
    /// The APDU header is cut short (the fixed fields of its PDU type are missing).
    APDU_TRUNCATED = 10 => "bacnet.apdu_truncated",
    /// The APDU type is reserved (8–15).
    APDU_RESERVED_TYPE = 11 => "bacnet.apdu_reserved_type",
    /// Bits that must be zero in the APDU header are set.
    APDU_RESERVED_BITS = 12 => "bacnet.apdu_reserved_bits",
    /// The max-APDU-length-accepted code is reserved (6–15).
    APDU_INVALID_MAX_APDU = 13 => "bacnet.apdu_invalid_max_apdu",
    /// The service choice is not one the standard defines.
    UNKNOWN_SERVICE = 14 => "bacnet.unknown_service",
    /// The service parameters cannot be decoded (bad tag, missing required
    /// parameter, unbalanced opening/closing tags).
    SERVICE_MALFORMED = 15 => "bacnet.service_malformed",
    /// Octets remain after the last service parameter.
    SERVICE_TRAILING_DATA = 16 => "bacnet.service_trailing_data",
    /// A parameter is outside its legal range (write priority outside 1–16,
    /// vendor id above 65535, unknown reinitialize state, …).
    INVALID_PARAMETER = 17 => "bacnet.invalid_parameter",
    /// A list in the message is longer than this dissector keeps; the rest was
    /// skipped (see the `MAX_*` limits).
    TOO_MANY_ITEMS = 18 => "bacnet.too_many_items",
    /// The MS/TP header CRC does not match.
    MSTP_BAD_HEADER_CRC = 19 => "bacnet.mstp_bad_header_crc",
    /// The MS/TP data CRC does not match.
    MSTP_BAD_DATA_CRC = 20 => "bacnet.mstp_bad_data_crc",
    /// The MS/TP data length is outside the range of the frame type (above 501
    /// octets for a plain frame, outside 5–2043 for a COBS-encoded one).
    MSTP_LENGTH_EXCEEDS_MAX = 21 => "bacnet.mstp_length_exceeds_max",
    /// The MS/TP frame type is reserved (11–127).
    MSTP_UNKNOWN_FRAME_TYPE = 22 => "bacnet.mstp_unknown_frame_type",
    /// An MS/TP frame that carries no data (token, poll-for-master, …) has data.
    MSTP_UNEXPECTED_DATA = 23 => "bacnet.mstp_unexpected_data",
    /// The MS/TP source address is the broadcast address 255.
    MSTP_INVALID_SOURCE = 24 => "bacnet.mstp_invalid_source",
    /// The 802.2 LLC control field is not UI (0x03).
    LLC_UNEXPECTED_CONTROL = 25 => "bacnet.llc_unexpected_control",
    /// A segment carries a sequence number or window size that does not fit
    /// (window size 0 or above 127, a segment that is out of order).
    SEGMENTATION_ERROR = 26 => "bacnet.segmentation_error",
    /// A character string uses a character set the standard does not define.
    UNKNOWN_CHARACTER_SET = 27 => "bacnet.unknown_character_set",
    /// An MS/TP frame ends before its data (or data CRC) does: the capture lost
    /// the end of the frame.
    MSTP_TRUNCATED = 28 => "bacnet.mstp_truncated",
}

impl Anomalies {
    /// The empty set.
    pub const NONE: Anomalies = Anomalies(0);

    /// Both sets together (usable in constants).
    pub const fn union(self, other: Anomalies) -> Anomalies {
        Anomalies(self.0 | other.0)
    }

    /// Whether no flag is set.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Whether every flag in `other` is set.
    pub fn contains(self, other: Anomalies) -> bool {
        self.0 & other.0 == other.0
    }

    /// Whether any flag in `other` is set.
    pub fn intersects(self, other: Anomalies) -> bool {
        self.0 & other.0 != 0
    }

    /// Sets the flags in `other`.
    pub fn insert(&mut self, other: Anomalies) {
        self.0 |= other.0;
    }

    /// The raw bits (stable: bit positions never change meaning).
    pub fn bits(self) -> u64 {
        self.0
    }

    /// The stable names of the flags that are set, in bit order.
    pub fn names(self) -> impl Iterator<Item = &'static str> {
        Anomalies::ALL.iter().filter(move |(flag, _)| self.contains(*flag)).map(|(_, name)| *name)
    }
}

impl std::ops::BitOr for Anomalies {
    type Output = Anomalies;
    fn bitor(self, rhs: Anomalies) -> Anomalies {
        Anomalies(self.0 | rhs.0)
    }
}

impl std::ops::BitOrAssign for Anomalies {
    fn bitor_assign(&mut self, rhs: Anomalies) {
        self.0 |= rhs.0;
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
        for name in self.names() {
            if !first {
                f.write_str(",")?;
            }
            f.write_str(name)?;
            first = false;
        }
        Ok(())
    }
}
