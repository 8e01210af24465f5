//! Anomaly flags for IEC 60870-5-104: what an IDS wants to alert on when an
//! APDU frames but is semantically wrong. Names are stable (`iec104.*`).

/// A set of anomaly flags (a bitset; stable snake_case names via [`Anomalies::names`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Anomalies(u32);

/// The table of every flag with its stable name, in bit order.
const NAMES: &[(Anomalies, &str)] = &[
    (Anomalies::INVALID_APCI_LENGTH, "iec104.invalid_apci_length"),
    (Anomalies::INVALID_U_FUNCTION, "iec104.invalid_u_function"),
    (Anomalies::RESERVED_NONZERO, "iec104.reserved_nonzero"),
    (Anomalies::ASDU_TRUNCATED, "iec104.asdu_truncated"),
    (Anomalies::UNKNOWN_TYPE_ID, "iec104.unknown_type_id"),
    (Anomalies::NO_OBJECTS, "iec104.no_objects"),
    (Anomalies::LENGTH_MISMATCH, "iec104.length_mismatch"),
    (Anomalies::UNKNOWN_CAUSE, "iec104.unknown_cause"),
    (Anomalies::ILLEGAL_CAUSE_FOR_TYPE, "iec104.illegal_cause_for_type"),
    (Anomalies::COMMON_ADDRESS_ZERO, "iec104.common_address_zero"),
];

impl Anomalies {
    /// No anomaly.
    pub const NONE: Anomalies = Anomalies(0);
    /// An S- or U-format APDU whose length is not 4, or an I-format one shorter than 4.
    pub const INVALID_APCI_LENGTH: Anomalies = Anomalies(1 << 0);
    /// A U-format APDU that does not set exactly one of STARTDT/STOPDT/TESTFR act/con.
    pub const INVALID_U_FUNCTION: Anomalies = Anomalies(1 << 1);
    /// Reserved control-field bits are set (S/U format, or the I-format receive LSB).
    pub const RESERVED_NONZERO: Anomalies = Anomalies(1 << 2);
    /// An I-format APDU too short for the 6-byte ASDU header.
    pub const ASDU_TRUNCATED: Anomalies = Anomalies(1 << 3);
    /// A type id that is reserved or unknown: its objects cannot be sized, so they are not iterated.
    pub const UNKNOWN_TYPE_ID: Anomalies = Anomalies(1 << 4);
    /// The variable structure qualifier declares zero objects.
    pub const NO_OBJECTS: Anomalies = Anomalies(1 << 5);
    /// The objects declared do not fill the ASDU exactly.
    pub const LENGTH_MISMATCH: Anomalies = Anomalies(1 << 6);
    /// The cause of transmission is 0 or a reserved value.
    pub const UNKNOWN_CAUSE: Anomalies = Anomalies(1 << 7);
    /// The cause of transmission is not one the standard allows for this type id.
    pub const ILLEGAL_CAUSE_FOR_TYPE: Anomalies = Anomalies(1 << 8);
    /// The common address (station) is 0, which is not used.
    pub const COMMON_ADDRESS_ZERO: Anomalies = Anomalies(1 << 9);

    /// The raw bits.
    pub fn bits(self) -> u32 {
        self.0
    }

    /// Whether no flag is set.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Whether every flag in `other` is set.
    pub fn contains(self, other: Anomalies) -> bool {
        self.0 & other.0 == other.0
    }

    /// Sets the flags in `other`.
    pub fn insert(&mut self, other: Anomalies) {
        self.0 |= other.0;
    }

    /// The union of two sets.
    pub fn union(self, other: Anomalies) -> Anomalies {
        Anomalies(self.0 | other.0)
    }

    /// The stable names of the flags that are set, in bit order.
    pub fn names(self) -> impl Iterator<Item = &'static str> {
        NAMES.iter().filter(move |(flag, _)| self.contains(*flag)).map(|(_, name)| *name)
    }

    /// Every flag name this module can raise (for rule files and documentation).
    pub fn all_names() -> impl Iterator<Item = &'static str> {
        NAMES.iter().map(|(_, name)| *name)
    }
}

impl std::ops::BitOr for Anomalies {
    type Output = Anomalies;
    fn bitor(self, rhs: Anomalies) -> Anomalies {
        self.union(rhs)
    }
}

impl std::ops::BitOrAssign for Anomalies {
    fn bitor_assign(&mut self, rhs: Anomalies) {
        self.insert(rhs);
    }
}
