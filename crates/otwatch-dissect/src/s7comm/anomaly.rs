//! Anomaly flags for TPKT/COTP/S7comm: what an IDS wants to alert on when a
//! message frames but is semantically wrong. Names are stable (`s7comm.*`).

/// A set of anomaly flags (a bitset; stable snake_case names via [`Anomalies::names`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Anomalies(u32);

/// The table of every flag with its stable name, in bit order.
const NAMES: &[(Anomalies, &str)] = &[
    (Anomalies::TPKT_RESERVED_NONZERO, "s7comm.tpkt_reserved_nonzero"),
    (Anomalies::COTP_INVALID_LENGTH, "s7comm.cotp_invalid_length"),
    (Anomalies::COTP_UNKNOWN_PDU_TYPE, "s7comm.cotp_unknown_pdu_type"),
    (Anomalies::COTP_INVALID_PARAMETER, "s7comm.cotp_invalid_parameter"),
    (Anomalies::UNKNOWN_PAYLOAD, "s7comm.unknown_payload"),
    (Anomalies::MALFORMED_PDU, "s7comm.malformed_pdu"),
    (Anomalies::INVALID_LENGTH, "s7comm.invalid_length"),
    (Anomalies::TRAILING_BYTES, "s7comm.trailing_bytes"),
    (Anomalies::UNKNOWN_ROSCTR, "s7comm.unknown_rosctr"),
    (Anomalies::RESERVED_NONZERO, "s7comm.reserved_nonzero"),
    (Anomalies::UNKNOWN_FUNCTION, "s7comm.unknown_function"),
    (Anomalies::TRUNCATED_PARAMETER, "s7comm.truncated_parameter"),
    (Anomalies::ITEM_COUNT_MISMATCH, "s7comm.item_count_mismatch"),
    (Anomalies::TOO_MANY_ITEMS, "s7comm.too_many_items"),
    (Anomalies::INVALID_ITEM, "s7comm.invalid_item"),
    (Anomalies::INVALID_BLOCK_NAME, "s7comm.invalid_block_name"),
    (Anomalies::USERDATA_INVALID_HEADER, "s7comm.userdata_invalid_header"),
    (Anomalies::INVALID_SZL, "s7comm.invalid_szl"),
    (Anomalies::ERROR_FIELDS_IN_REQUEST, "s7comm.error_fields_in_request"),
    (Anomalies::REASSEMBLY_OVERFLOW, "s7comm.reassembly_overflow"),
    (Anomalies::PLUS_UNKNOWN_OPCODE, "s7comm.plus_unknown_opcode"),
    (Anomalies::PLUS_INVALID_LENGTH, "s7comm.plus_invalid_length"),
    (Anomalies::PLUS_UNKNOWN_VERSION, "s7comm.plus_unknown_version"),
];

impl Anomalies {
    /// No anomaly.
    pub const NONE: Anomalies = Anomalies(0);
    /// The TPKT reserved byte is not zero (RFC 1006 requires 0).
    pub const TPKT_RESERVED_NONZERO: Anomalies = Anomalies(1 << 0);
    /// The COTP length indicator disagrees with the TPDU type or the TPKT length.
    pub const COTP_INVALID_LENGTH: Anomalies = Anomalies(1 << 1);
    /// The COTP TPDU type code is not one defined by ISO 8073.
    pub const COTP_UNKNOWN_PDU_TYPE: Anomalies = Anomalies(1 << 2);
    /// A COTP variable parameter runs past the header or has a bad length.
    pub const COTP_INVALID_PARAMETER: Anomalies = Anomalies(1 << 3);
    /// COTP user data is neither S7comm (0x32) nor S7comm-plus (0x72).
    pub const UNKNOWN_PAYLOAD: Anomalies = Anomalies(1 << 4);
    /// The S7comm header could not be read at all (too short).
    pub const MALFORMED_PDU: Anomalies = Anomalies(1 << 5);
    /// The S7comm parameter/data lengths exceed the bytes carried.
    pub const INVALID_LENGTH: Anomalies = Anomalies(1 << 6);
    /// Bytes follow the declared S7comm parameter and data parts.
    pub const TRAILING_BYTES: Anomalies = Anomalies(1 << 7);
    /// The ROSCTR (message type) is not Job, Ack, Ack_Data or Userdata.
    pub const UNKNOWN_ROSCTR: Anomalies = Anomalies(1 << 8);
    /// The redundancy identification (reserved) is not zero.
    pub const RESERVED_NONZERO: Anomalies = Anomalies(1 << 9);
    /// The function code is not a known S7comm function.
    pub const UNKNOWN_FUNCTION: Anomalies = Anomalies(1 << 10);
    /// The parameter part is shorter than its function requires.
    pub const TRUNCATED_PARAMETER: Anomalies = Anomalies(1 << 11);
    /// The item count disagrees with the items actually present.
    pub const ITEM_COUNT_MISMATCH: Anomalies = Anomalies(1 << 12);
    /// More items than [`super::MAX_ITEMS`] (or blocks than [`super::MAX_PI_BLOCKS`]); the rest were not decoded.
    pub const TOO_MANY_ITEMS: Anomalies = Anomalies(1 << 13);
    /// A variable specification or data item is malformed.
    pub const INVALID_ITEM: Anomalies = Anomalies(1 << 14);
    /// A block file name is not `_TTNNNNNF` / `TTNNNNNF` (type, number, file system).
    pub const INVALID_BLOCK_NAME: Anomalies = Anomalies(1 << 15);
    /// The userdata parameter header is not the usual `00 01 12` with a 4/8/12-byte length.
    pub const USERDATA_INVALID_HEADER: Anomalies = Anomalies(1 << 16);
    /// An SZL request or response does not have the SZL layout.
    pub const INVALID_SZL: Anomalies = Anomalies(1 << 17);
    /// A Job or Userdata message is longer than its header because it carries error fields.
    pub const ERROR_FIELDS_IN_REQUEST: Anomalies = Anomalies(1 << 18);
    /// COTP reassembly exceeded [`super::MAX_TSDU_BYTES`] or [`super::MAX_SEGMENTS`]; the TSDU was dropped.
    pub const REASSEMBLY_OVERFLOW: Anomalies = Anomalies(1 << 19);
    /// The S7comm-plus opcode is not Request, Response, Notification or Response2.
    pub const PLUS_UNKNOWN_OPCODE: Anomalies = Anomalies(1 << 20);
    /// The S7comm-plus data length exceeds the bytes carried.
    pub const PLUS_INVALID_LENGTH: Anomalies = Anomalies(1 << 21);
    /// The S7comm-plus protocol version is not 1, 2, 3 or 0xfe.
    pub const PLUS_UNKNOWN_VERSION: Anomalies = Anomalies(1 << 22);

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
