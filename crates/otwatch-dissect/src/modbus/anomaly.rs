//! Modbus anomaly flags: what is wrong with a message that could still be framed.
//!
//! Each flag has a stable snake_case name (`modbus.<name>`) that rules and
//! logs refer to; renaming one is a breaking change. This module only names
//! anomalies; it does not decide how severe they are.

/// A set of Modbus anomalies, as a bitset.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Anomalies(u32);

impl Anomalies {
    /// No anomaly.
    pub const NONE: Anomalies = Anomalies(0);
    /// The MBAP protocol identifier is not 0 (Modbus).
    pub const NONZERO_PROTOCOL_ID: Anomalies = Anomalies(1 << 0);
    /// A length does not match the shape of the function's request or
    /// response (MBAP length, byte count against the bytes present, a body
    /// shorter or longer than the function defines).
    pub const INVALID_LENGTH: Anomalies = Anomalies(1 << 1);
    /// Function code 0, which the specification does not allow, or an
    /// exception function code (bit 7 set) sent to the server.
    pub const INVALID_FUNCTION_CODE: Anomalies = Anomalies(1 << 2);
    /// A function code reserved by the specification (neither public nor
    /// user-defined, e.g. 9, 10, 13, 14, 41, 42, 125-127).
    pub const RESERVED_FUNCTION_CODE: Anomalies = Anomalies(1 << 3);
    /// A user-defined function code (65-72 or 100-110).
    pub const USER_DEFINED_FUNCTION_CODE: Anomalies = Anomalies(1 << 4);
    /// A quantity of coils, inputs or registers outside the range the
    /// specification allows for the function.
    pub const QUANTITY_OUT_OF_RANGE: Anomalies = Anomalies(1 << 5);
    /// Starting address plus quantity runs past the 65536-item address space.
    pub const ADDRESS_OUT_OF_RANGE: Anomalies = Anomalies(1 << 6);
    /// A byte count field disagrees with the quantity it describes.
    pub const BYTE_COUNT_MISMATCH: Anomalies = Anomalies(1 << 7);
    /// A value outside the range the function allows (Write Single Coil not
    /// 0x0000 or 0xFF00, a FIFO count over 31, a record number over 9999,
    /// a More Follows byte that is neither 0x00 nor 0xFF).
    pub const INVALID_VALUE: Anomalies = Anomalies(1 << 8);
    /// An exception code the specification does not define.
    pub const UNKNOWN_EXCEPTION_CODE: Anomalies = Anomalies(1 << 9);
    /// A Diagnostics (8) sub-function code the specification reserves.
    pub const RESERVED_DIAGNOSTIC_SUBFUNCTION: Anomalies = Anomalies(1 << 10);
    /// An Encapsulated Interface Transport (43) MEI type other than 13 or 14.
    pub const UNKNOWN_MEI_TYPE: Anomalies = Anomalies(1 << 11);
    /// A Read Device Identification code, conformity level or object id
    /// outside the values the specification defines.
    pub const INVALID_DEVICE_ID: Anomalies = Anomalies(1 << 12);
    /// A file record reference type other than 6.
    pub const INVALID_REFERENCE_TYPE: Anomalies = Anomalies(1 << 13);
    /// A response arrived for which no request was seen, or whose function
    /// code differs from the request's (set by [`super::Transactions`]).
    pub const UNMATCHED_RESPONSE: Anomalies = Anomalies(1 << 14);
    /// The transaction tracker was full and forgot the oldest request (set by
    /// [`super::Transactions`]).
    pub const TOO_MANY_PENDING_REQUESTS: Anomalies = Anomalies(1 << 15);

    /// Every flag with its stable name, in bit order.
    pub const ALL: [(Anomalies, &'static str); 16] = [
        (Anomalies::NONZERO_PROTOCOL_ID, "modbus.nonzero_protocol_id"),
        (Anomalies::INVALID_LENGTH, "modbus.invalid_length"),
        (Anomalies::INVALID_FUNCTION_CODE, "modbus.invalid_function_code"),
        (Anomalies::RESERVED_FUNCTION_CODE, "modbus.reserved_function_code"),
        (Anomalies::USER_DEFINED_FUNCTION_CODE, "modbus.user_defined_function_code"),
        (Anomalies::QUANTITY_OUT_OF_RANGE, "modbus.quantity_out_of_range"),
        (Anomalies::ADDRESS_OUT_OF_RANGE, "modbus.address_out_of_range"),
        (Anomalies::BYTE_COUNT_MISMATCH, "modbus.byte_count_mismatch"),
        (Anomalies::INVALID_VALUE, "modbus.invalid_value"),
        (Anomalies::UNKNOWN_EXCEPTION_CODE, "modbus.unknown_exception_code"),
        (Anomalies::RESERVED_DIAGNOSTIC_SUBFUNCTION, "modbus.reserved_diagnostic_subfunction"),
        (Anomalies::UNKNOWN_MEI_TYPE, "modbus.unknown_mei_type"),
        (Anomalies::INVALID_DEVICE_ID, "modbus.invalid_device_id"),
        (Anomalies::INVALID_REFERENCE_TYPE, "modbus.invalid_reference_type"),
        (Anomalies::UNMATCHED_RESPONSE, "modbus.unmatched_response"),
        (Anomalies::TOO_MANY_PENDING_REQUESTS, "modbus.too_many_pending_requests"),
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
