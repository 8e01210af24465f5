//! Object sizes from the DNP3 object library, so the parser can step over objects it does not decode.
//!
//! IEEE 1815-2012 annex A defines every group and variation. Most have a
//! fixed size; a few are packed bits; device attributes (group 0) and octet
//! strings (groups 110-113) have a size the header or the object itself
//! gives; the rest (files, data sets, authentication...) are variable and are
//! only sized by an object-size prefix in the qualifier. A variation this
//! table does not know is reported as [`Layout::Unknown`] and the walk stops
//! there rather than guessing.

use super::types::{FunctionCode, Layout, ObjectGroup, PrefixCode};

/// Whether the objects after headers in a fragment with this function code
/// carry data, or only the headers (and their prefixes) are sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DataMode {
    /// Objects carry their data (Write, controls, responses...).
    WithData,
    /// Only headers: Read, Freeze, Enable/Disable Unsolicited, Assign Class.
    HeadersOnly,
    /// Freeze at Time: a group 50 time object with data, then headers only.
    FreezeAtTime,
}

impl DataMode {
    /// The mode for a function code (IEEE 1815-2012 clause 5, per function).
    pub(crate) fn for_function(function: FunctionCode) -> DataMode {
        match function {
            FunctionCode::READ
            | FunctionCode::IMMED_FREEZE
            | FunctionCode::IMMED_FREEZE_NR
            | FunctionCode::FREEZE_CLEAR
            | FunctionCode::FREEZE_CLEAR_NR
            | FunctionCode::ENABLE_UNSOLICITED
            | FunctionCode::DISABLE_UNSOLICITED
            | FunctionCode::ASSIGN_CLASS => DataMode::HeadersOnly,
            FunctionCode::FREEZE_AT_TIME | FunctionCode::FREEZE_AT_TIME_NR => {
                DataMode::FreezeAtTime
            }
            _ => DataMode::WithData,
        }
    }
}

/// Fixed object sizes in octets, by group and variation (annex A).
fn fixed_size(group: u8, variation: u8) -> Option<usize> {
    let size = match (group, variation) {
        // Binary input with flags; events with absolute (48-bit) or relative (16-bit) time.
        (1, 2) => 1,
        (2, 1) => 1,
        (2, 2) => 7,
        (2, 3) => 3,
        // Double-bit binary input with flags and its events.
        (3, 2) => 1,
        (4, 1) => 1,
        (4, 2) => 7,
        (4, 3) => 3,
        // Binary output status with flags and its events.
        (10, 2) => 1,
        (11, 1) => 1,
        (11, 2) => 7,
        // CROB and pattern control block: code, count, on time, off time, status.
        (12, 1) | (12, 2) => 11,
        // Binary output command events.
        (13, 1) => 1,
        (13, 2) => 7,
        // Counters: 32/16-bit, with or without flag, delta variants.
        (20, 1) | (20, 3) => 5,
        (20, 2) | (20, 4) => 3,
        (20, 5) | (20, 7) => 4,
        (20, 6) | (20, 8) => 2,
        // Frozen counters, with time of freeze in 5-8.
        (21, 1) | (21, 3) => 5,
        (21, 2) | (21, 4) => 3,
        (21, 5) | (21, 7) => 11,
        (21, 6) | (21, 8) => 9,
        (21, 9) | (21, 11) => 4,
        (21, 10) | (21, 12) => 2,
        // Counter events and frozen counter events, with time in 5-8.
        (22 | 23, 1) | (22 | 23, 3) => 5,
        (22 | 23, 2) | (22 | 23, 4) => 3,
        (22 | 23, 5) | (22 | 23, 7) => 11,
        (22 | 23, 6) | (22 | 23, 8) => 9,
        // Analog inputs: 32/16-bit with flag, without flag, float, double.
        (30, 1) => 5,
        (30, 2) => 3,
        (30, 3) => 4,
        (30, 4) => 2,
        (30, 5) => 5,
        (30, 6) => 9,
        // Frozen analog inputs, with time of freeze in 3-4.
        (31, 1) => 5,
        (31, 2) => 3,
        (31, 3) => 11,
        (31, 4) => 9,
        (31, 5) => 4,
        (31, 6) => 2,
        (31, 7) => 5,
        (31, 8) => 9,
        // Analog input events, frozen analog input events, analog output events
        // and analog output command events share one layout.
        (32 | 33 | 42 | 43, 1) => 5,
        (32 | 33 | 42 | 43, 2) => 3,
        (32 | 33 | 42 | 43, 3) => 11,
        (32 | 33 | 42 | 43, 4) => 9,
        (32 | 33 | 42 | 43, 5) => 5,
        (32 | 33 | 42 | 43, 6) => 9,
        (32 | 33 | 42 | 43, 7) => 11,
        (32 | 33 | 42 | 43, 8) => 15,
        // Analog input deadbands: 16-bit, 32-bit, float.
        (34, 1) => 2,
        (34, 2) | (34, 3) => 4,
        // Analog output status and analog output blocks: value plus flag/status.
        (40 | 41, 1) | (40 | 41, 3) => 5,
        (40 | 41, 2) => 3,
        (40 | 41, 4) => 9,
        // Time and date; with interval; last recorded time; indexed with long interval.
        (50, 1) | (50, 3) => 6,
        (50, 2) => 10,
        (50, 4) => 11,
        // Common time of occurrence, synchronised or not.
        (51, 1) | (51, 2) => 6,
        // Time delay, coarse (s) or fine (ms).
        (52, 1) | (52, 2) => 2,
        // Device storage (obsolete): overflow, group, variation.
        (81, 1) => 3,
        // BCD integers: small, medium, large.
        (101, 1) => 2,
        (101, 2) => 4,
        (101, 3) => 8,
        // Unsigned 8-bit integer.
        (102, 1) => 1,
        // Secure Authentication: aggressive mode request (CSQ, user), session
        // key status request (user).
        (120, 3) => 6,
        (120, 4) => 2,
        // Security statistics: flag, association, value; event with time.
        (121, 1) | (122, 1) => 7,
        (122, 2) => 13,
        _ => return None,
    };
    Some(size)
}

/// Bits per object of the packed variations, which never have a prefix.
fn packed_bits(group: u8, variation: u8) -> Option<u8> {
    match (group, variation) {
        (1, 1) | (10, 1) | (12, 3) | (80, 1) => Some(1),
        (3, 1) => Some(2),
        _ => None,
    }
}

/// How the objects after a header are laid out.
pub(crate) fn layout(
    group: ObjectGroup,
    variation: u8,
    prefix: PrefixCode,
    mode: DataMode,
) -> Layout {
    let g = group.0;
    // Class data objects never carry data.
    if group == ObjectGroup::CLASS_DATA {
        return Layout::NoData;
    }
    let with_data = match mode {
        DataMode::WithData => true,
        DataMode::HeadersOnly => false,
        DataMode::FreezeAtTime => group == ObjectGroup::TIME_AND_DATE,
    };
    if prefix.is_size() {
        return Layout::SizePrefixed;
    }
    if !with_data {
        return Layout::NoData;
    }
    if let Some(bits) = packed_bits(g, variation) {
        return Layout::Packed(bits);
    }
    if let Some(size) = fixed_size(g, variation) {
        return Layout::Fixed(size);
    }
    match group {
        // Attributes 1-253 and the attribute list (255); 254 is request-only.
        ObjectGroup::DEVICE_ATTRIBUTES if variation != 0 && variation != 254 => Layout::Attribute,
        // Octet strings and virtual terminal blocks: the variation is the length.
        ObjectGroup::OCTET_STRING
        | ObjectGroup::OCTET_STRING_EVENT
        | ObjectGroup::VIRTUAL_TERMINAL_OUTPUT
        | ObjectGroup::VIRTUAL_TERMINAL_EVENT
            if variation != 0 =>
        {
            Layout::Fixed(usize::from(variation))
        }
        _ => Layout::Unknown,
    }
}
