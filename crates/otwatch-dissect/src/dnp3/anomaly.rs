//! DNP3 anomaly flags: what is wrong with a frame or fragment that could still be framed.
//!
//! Each flag has a stable snake_case name (`dnp3.<name>`) that rules and logs
//! refer to; renaming one is a breaking change. Flags from the three layers
//! (link, transport, application) share one bitset so a caller can merge them.
//! This module only names anomalies; it does not decide how severe they are.

/// A set of DNP3 anomalies, as a bitset.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Anomalies(u32);

impl Anomalies {
    /// No anomaly.
    pub const NONE: Anomalies = Anomalies(0);

    // ---- Data link layer (IEEE 1815-2012 clause 9).
    /// The CRC over the 8 header octets does not match. The length field is
    /// still used to find the next frame.
    pub const BAD_HEADER_CRC: Anomalies = Anomalies(1 << 0);
    /// At least one user-data block's CRC does not match; the frame's user
    /// data is not passed to the transport function.
    pub const BAD_DATA_CRC: Anomalies = Anomalies(1 << 1);
    /// A link function code the specification does not define for the frame's
    /// PRM bit (primary 5-8 and 10-15, secondary 2-10, 12 and 13), or an
    /// obsolete one (primary 1 Reset User Process, secondary 14 Not
    /// Functioning).
    pub const RESERVED_LINK_FUNCTION: Anomalies = Anomalies(1 << 2);
    /// User data on a frame whose function carries none (anything but primary
    /// Confirmed/Unconfirmed User Data), or no user data on one that must.
    pub const UNEXPECTED_USER_DATA: Anomalies = Anomalies(1 << 3);
    /// A source address in the broadcast range (0xFFFD-0xFFFF), or either
    /// address in the reserved range 0xFFF0-0xFFFB.
    pub const INVALID_ADDRESS: Anomalies = Anomalies(1 << 4);

    // ---- Transport function (clause 8).
    /// A segment without FIR arrived while no fragment was being assembled;
    /// it was discarded.
    pub const TRANSPORT_MISSING_FIR: Anomalies = Anomalies(1 << 5);
    /// A segment's sequence number did not follow the previous one; the
    /// partial fragment and the segment were discarded.
    pub const TRANSPORT_OUT_OF_SEQUENCE: Anomalies = Anomalies(1 << 6);
    /// A segment with FIR arrived while another fragment was still being
    /// assembled; the partial fragment was discarded.
    pub const TRANSPORT_FRAGMENT_DISCARDED: Anomalies = Anomalies(1 << 7);
    /// A fragment grew past [`super::MAX_FRAGMENT_LEN`]; it was discarded.
    pub const FRAGMENT_TOO_LONG: Anomalies = Anomalies(1 << 8);
    /// More address pairs were assembling fragments at once than
    /// [`super::MAX_REASSEMBLY_SLOTS`]; the least recently used was dropped.
    pub const TOO_MANY_REASSEMBLIES: Anomalies = Anomalies(1 << 9);

    // ---- Application layer (clause 4).
    /// A function code the specification reserves (34-128, 132-255).
    pub const RESERVED_FUNCTION_CODE: Anomalies = Anomalies(1 << 10);
    /// A function code the specification marks obsolete or deprecated:
    /// 15 Initialize Data, 19 Save Configuration.
    pub const OBSOLETE_FUNCTION_CODE: Anomalies = Anomalies(1 << 11);
    /// Application control bits that do not fit the function: a request that
    /// is not a single fragment (FIR and FIN), UNS on a request other than a
    /// confirm or a Secure Authentication message, UNS on a solicited
    /// response, an unsolicited response without UNS, or CON on a request.
    pub const INVALID_APP_CONTROL: Anomalies = Anomalies(1 << 12);
    /// A response shorter than its 4-octet header (no room for the IIN).
    pub const TRUNCATED_HEADER: Anomalies = Anomalies(1 << 13);
    /// IIN2.6 or IIN2.7 set; the specification reserves both and requires 0.
    pub const IIN_RESERVED_BITS: Anomalies = Anomalies(1 << 14);
    /// IIN1.7 (Device Restart) set: the outstation restarted and has not been
    /// told so by a write. Not malformed, but an event detection wants.
    pub const DEVICE_RESTART: Anomalies = Anomalies(1 << 15);
    /// A qualifier with the reserved bit 7 set, a reserved prefix code (7) or
    /// a reserved range specifier code (0xA, 0xC-0xF), or a combination that
    /// cannot be decoded (free-format range without an object-size prefix).
    pub const INVALID_QUALIFIER: Anomalies = Anomalies(1 << 16);
    /// A start/stop range whose stop is below its start.
    pub const INVALID_RANGE: Anomalies = Anomalies(1 << 17);
    /// An object header or its objects run past the end of the fragment.
    pub const TRUNCATED_OBJECT: Anomalies = Anomalies(1 << 18);
    /// Objects whose size cannot be computed (unknown group or variation,
    /// variation 0 carrying data, a variable-size object without a size
    /// prefix); decoding of the fragment's objects stopped there.
    pub const UNKNOWN_OBJECT: Anomalies = Anomalies(1 << 19);
    /// More object headers than [`super::MAX_OBJECT_HEADERS`]; the rest were
    /// not decoded.
    pub const TOO_MANY_OBJECT_HEADERS: Anomalies = Anomalies(1 << 20);
    /// Objects in a message whose function code takes none (Confirm, Cold or
    /// Warm Restart, Delay Measurement, Record Current Time, Save
    /// Configuration).
    pub const UNEXPECTED_OBJECTS: Anomalies = Anomalies(1 << 21);

    /// Every flag with its stable name, in bit order.
    pub const ALL: [(Anomalies, &'static str); 22] = [
        (Anomalies::BAD_HEADER_CRC, "dnp3.bad_header_crc"),
        (Anomalies::BAD_DATA_CRC, "dnp3.bad_data_crc"),
        (Anomalies::RESERVED_LINK_FUNCTION, "dnp3.reserved_link_function"),
        (Anomalies::UNEXPECTED_USER_DATA, "dnp3.unexpected_user_data"),
        (Anomalies::INVALID_ADDRESS, "dnp3.invalid_address"),
        (Anomalies::TRANSPORT_MISSING_FIR, "dnp3.transport_missing_fir"),
        (Anomalies::TRANSPORT_OUT_OF_SEQUENCE, "dnp3.transport_out_of_sequence"),
        (Anomalies::TRANSPORT_FRAGMENT_DISCARDED, "dnp3.transport_fragment_discarded"),
        (Anomalies::FRAGMENT_TOO_LONG, "dnp3.fragment_too_long"),
        (Anomalies::TOO_MANY_REASSEMBLIES, "dnp3.too_many_reassemblies"),
        (Anomalies::RESERVED_FUNCTION_CODE, "dnp3.reserved_function_code"),
        (Anomalies::OBSOLETE_FUNCTION_CODE, "dnp3.obsolete_function_code"),
        (Anomalies::INVALID_APP_CONTROL, "dnp3.invalid_app_control"),
        (Anomalies::TRUNCATED_HEADER, "dnp3.truncated_header"),
        (Anomalies::IIN_RESERVED_BITS, "dnp3.iin_reserved_bits"),
        (Anomalies::DEVICE_RESTART, "dnp3.device_restart"),
        (Anomalies::INVALID_QUALIFIER, "dnp3.invalid_qualifier"),
        (Anomalies::INVALID_RANGE, "dnp3.invalid_range"),
        (Anomalies::TRUNCATED_OBJECT, "dnp3.truncated_object"),
        (Anomalies::UNKNOWN_OBJECT, "dnp3.unknown_object"),
        (Anomalies::TOO_MANY_OBJECT_HEADERS, "dnp3.too_many_object_headers"),
        (Anomalies::UNEXPECTED_OBJECTS, "dnp3.unexpected_objects"),
    ];

    /// The raw bits.
    pub fn bits(self) -> u32 {
        self.0
    }

    /// Whether no flag is set.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Whether every flag in `other` is set here.
    pub fn contains(self, other: Anomalies) -> bool {
        self.0 & other.0 == other.0
    }

    /// Sets the flags in `other`.
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

impl std::ops::BitOrAssign for Anomalies {
    fn bitor_assign(&mut self, rhs: Anomalies) {
        self.0 |= rhs.0;
    }
}

impl std::fmt::Display for Anomalies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
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
