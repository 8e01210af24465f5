//! DNP3 decoding: link frames from a byte stream, and application fragments with their object headers.
//!
//! The link parser checks both kinds of CRC but frames by the length field
//! alone, so a corrupted frame never costs the frames after it. The
//! application parser walks the object headers once to count them and collect
//! anomalies; [`Objects`] walks them again lazily for callers that want them,
//! so nothing is allocated. This module does not reassemble transport
//! segments (see `reassembly.rs`).

use crate::DecodeError;
use crate::reader::Reader;

use super::anomaly::Anomalies;
use super::crc::crc16_dnp;
use super::objects::{DataMode, layout};
use super::types::{
    AppControl, AppFragment, FunctionCode, Iin, Layout, LinkControl, LinkFrame, LinkHeader,
    ObjectGroup, ObjectHeader, ObjectStatus, PrefixCode, Qualifier, Range,
};
use super::{
    BLOCK_LEN, CRC_LEN, LINK_HEADER_LEN, MAX_OBJECT_HEADERS, MIN_LINK_LENGTH, START_BYTES,
};

/// Octets on the wire of a frame whose length field is `length` (at least 5):
/// the 10-octet header, the user data, and a CRC after every block of 16.
pub fn frame_len(length: u8) -> usize {
    let data = usize::from(length.saturating_sub(MIN_LINK_LENGTH));
    let blocks = data.div_ceil(BLOCK_LEN);
    LINK_HEADER_LEN.saturating_add(data).saturating_add(blocks.saturating_mul(CRC_LEN))
}

/// How many octets the link frame at the start of `input` takes.
///
/// Needs the two start octets and the length field; `Malformed` if the start
/// octets are not 0x05 0x64 or the length is below 5 (so a stream can
/// resynchronise). The header CRC is not checked here: a frame with a bad
/// header CRC still frames, and [`parse`] flags it.
pub fn pdu_len(input: &[u8]) -> Result<usize, DecodeError> {
    let mut r = Reader::new(input);
    let [s0, s1] = START_BYTES;
    match r.u8() {
        Ok(b) if b == s0 => {}
        Ok(_) => return Err(DecodeError::Malformed("dnp3: first start octet is not 0x05")),
        Err(_) => return Err(DecodeError::incomplete(3)),
    }
    match r.u8() {
        Ok(b) if b == s1 => {}
        Ok(_) => return Err(DecodeError::Malformed("dnp3: second start octet is not 0x64")),
        Err(_) => return Err(DecodeError::incomplete(2)),
    }
    let length = r.u8().map_err(|_| DecodeError::incomplete(1))?;
    if length < MIN_LINK_LENGTH {
        return Err(DecodeError::Malformed("dnp3: link length below 5"));
    }
    Ok(frame_len(length))
}

/// Decodes the link frame at the start of `input` and returns the rest.
///
/// CRC errors, reserved function codes and bad addresses are anomalies, not
/// errors. The direction is carried in the frame (the DIR bit), so none is
/// passed in.
pub fn parse(input: &[u8]) -> Result<(&[u8], LinkFrame<'_>), DecodeError> {
    let total = pdu_len(input)?;
    let mut outer = Reader::new(input);
    let mut r = outer.sub(total)?;
    let covered = r.take(LINK_HEADER_LEN.saturating_sub(CRC_LEN))?;
    let mut h = Reader::new(covered);
    h.skip(START_BYTES.len())?;
    let length = h.u8()?;
    let control = LinkControl(h.u8()?);
    let destination = h.u16_le()?;
    let source = h.u16_le()?;
    let crc = r.u16_le()?;
    let blocks = r.take_rest();
    let header = LinkHeader { length, control, destination, source, crc };
    let mut frame = LinkFrame { header, blocks, anomalies: Anomalies::NONE };
    frame.anomalies = link_anomalies(&frame, covered);
    Ok((outer.rest(), frame))
}

/// Appends the link frame carrying `user_data` to `out`, with both kinds of
/// CRC computed: the inverse of [`parse`] for frames without CRC errors.
/// `Malformed` if the user data is longer than 250 octets.
pub fn encode_link(
    control: LinkControl,
    destination: u16,
    source: u16,
    user_data: &[u8],
    out: &mut Vec<u8>,
) -> Result<(), DecodeError> {
    let length = user_data
        .len()
        .checked_add(usize::from(MIN_LINK_LENGTH))
        .and_then(|n| u8::try_from(n).ok())
        .ok_or(DecodeError::Malformed("dnp3: more than 250 octets of user data"))?;
    let start = out.len();
    out.extend_from_slice(&START_BYTES);
    out.push(length);
    out.push(control.0);
    out.extend_from_slice(&destination.to_le_bytes());
    out.extend_from_slice(&source.to_le_bytes());
    let crc = crc16_dnp(out.get(start..).unwrap_or(&[]));
    out.extend_from_slice(&crc.to_le_bytes());
    for block in user_data.chunks(BLOCK_LEN) {
        out.extend_from_slice(block);
        out.extend_from_slice(&crc16_dnp(block).to_le_bytes());
    }
    Ok(())
}

/// Whether `input` starts with something that looks like a DNP3 link frame:
/// the start octets, a length of at least 5 and a correct header CRC (32 bits
/// of evidence). Needs the 10-octet header; the user data may be cut short.
pub fn probe(input: &[u8]) -> bool {
    if pdu_len(input).is_err() {
        return false;
    }
    let mut r = Reader::new(input);
    let (Ok(covered), Ok(crc)) = (r.take(LINK_HEADER_LEN.saturating_sub(CRC_LEN)), r.u16_le())
    else {
        return false;
    };
    crc16_dnp(covered) == crc
}

fn link_anomalies(frame: &LinkFrame<'_>, covered: &[u8]) -> Anomalies {
    let mut a = Anomalies::NONE;
    let h = &frame.header;
    if crc16_dnp(covered) != h.crc {
        a |= Anomalies::BAD_HEADER_CRC;
    }
    if frame.chunks().any(|c| !c.crc_ok()) {
        a |= Anomalies::BAD_DATA_CRC;
    }
    let function = h.control.function();
    if !function.is_defined() {
        a |= Anomalies::RESERVED_LINK_FUNCTION;
    }
    let has_data = h.user_data_len() > 0;
    if has_data != function.carries_user_data() {
        a |= Anomalies::UNEXPECTED_USER_DATA;
    }
    let reserved = |addr: u16| (0xFFF0..=0xFFFB).contains(&addr);
    if h.source >= 0xFFFD || reserved(h.source) || reserved(h.destination) {
        a |= Anomalies::INVALID_ADDRESS;
    }
    a
}

/// Decodes one reassembled application fragment.
///
/// `Malformed` only when the fragment is too short to hold the control octet
/// and function code; everything after that frames (the fragment's end is
/// known) and problems become anomalies.
pub fn parse_application(fragment: &[u8]) -> Result<AppFragment<'_>, DecodeError> {
    let mut r = Reader::new(fragment);
    let (Ok(control), Ok(function)) = (r.u8(), r.u8()) else {
        return Err(DecodeError::Malformed("dnp3: application fragment shorter than 2 octets"));
    };
    let control = AppControl(control);
    let function = FunctionCode(function);
    let mut anomalies = Anomalies::NONE;
    let iin = if function.is_response() {
        match r.u16_be() {
            Ok(v) => Some(Iin(v)),
            Err(_) => {
                anomalies |= Anomalies::TRUNCATED_HEADER;
                r.take_rest();
                None
            }
        }
    } else {
        None
    };
    if let Some(iin) = iin {
        if iin.reserved_bits() {
            anomalies |= Anomalies::IIN_RESERVED_BITS;
        }
        if iin.device_restart() {
            anomalies |= Anomalies::DEVICE_RESTART;
        }
    }
    if function.is_reserved() {
        anomalies |= Anomalies::RESERVED_FUNCTION_CODE;
    }
    if function.is_obsolete() {
        anomalies |= Anomalies::OBSOLETE_FUNCTION_CODE;
    }
    if !control_fits(control, function) {
        anomalies |= Anomalies::INVALID_APP_CONTROL;
    }
    let object_bytes = r.take_rest();
    if !object_bytes.is_empty() && takes_no_objects(function) {
        anomalies |= Anomalies::UNEXPECTED_OBJECTS;
    }
    let mut objects = Objects::new(object_bytes, function);
    let mut count = 0usize;
    for header in objects.by_ref() {
        count = count.saturating_add(1);
        anomalies |= match header.status {
            ObjectStatus::Complete => Anomalies::NONE,
            ObjectStatus::Truncated => Anomalies::TRUNCATED_OBJECT,
            ObjectStatus::InvalidQualifier => Anomalies::INVALID_QUALIFIER,
            ObjectStatus::InvalidRange | ObjectStatus::EmptyRange => Anomalies::INVALID_RANGE,
            ObjectStatus::UnknownSize => Anomalies::UNKNOWN_OBJECT,
        };
    }
    if objects.hit_limit() {
        anomalies |= Anomalies::TOO_MANY_OBJECT_HEADERS;
    } else if objects.leftover() {
        // One octet: not even a group and variation.
        anomalies |= Anomalies::TRUNCATED_OBJECT;
    }
    Ok(AppFragment { control, function, iin, object_bytes, object_headers: count, anomalies })
}

/// Whether the application control bits fit the function (IEEE 1815-2012 4.2.2.4).
fn control_fits(control: AppControl, function: FunctionCode) -> bool {
    match function {
        FunctionCode::RESPONSE => !control.uns(),
        FunctionCode::UNSOLICITED_RESPONSE => control.uns(),
        // Secure Authentication messages set UNS when they belong to an
        // unsolicited exchange (IEEE 1815-2012 7.5).
        FunctionCode::AUTHENTICATE_RESP => true,
        // A confirm carries UNS when it confirms an unsolicited response.
        FunctionCode::CONFIRM | FunctionCode::AUTHENTICATE_REQ | FunctionCode::AUTH_REQ_NO_ACK => {
            control.fir() && control.fin() && !control.con()
        }
        // Requests are single fragments, never ask for confirmation and are solicited.
        _ => control.fir() && control.fin() && !control.con() && !control.uns(),
    }
}

/// Function codes whose requests carry no object headers.
fn takes_no_objects(function: FunctionCode) -> bool {
    matches!(
        function,
        FunctionCode::CONFIRM
            | FunctionCode::COLD_RESTART
            | FunctionCode::WARM_RESTART
            | FunctionCode::SAVE_CONFIG
            | FunctionCode::DELAY_MEASURE
            | FunctionCode::RECORD_CURRENT_TIME
    )
}

/// Lazy iterator over the object headers of a fragment.
///
/// Each step consumes at least the 3 octets of group, variation and
/// qualifier, and at most [`MAX_OBJECT_HEADERS`] headers are returned. The
/// walk stops after the first header whose status is neither `Complete` nor
/// `EmptyRange`.
#[derive(Clone, Debug)]
pub struct Objects<'a> {
    reader: Reader<'a>,
    mode: DataMode,
    yielded: usize,
    done: bool,
}

impl<'a> Objects<'a> {
    /// Objects in `bytes` (the octets after the application header) of a
    /// fragment with `function`, which decides whether objects carry data.
    pub fn new(bytes: &'a [u8], function: FunctionCode) -> Objects<'a> {
        Objects {
            reader: Reader::new(bytes),
            mode: DataMode::for_function(function),
            yielded: 0,
            done: false,
        }
    }

    /// Whether the walk stopped at [`MAX_OBJECT_HEADERS`] with octets left.
    pub fn hit_limit(&self) -> bool {
        !self.done && self.yielded >= MAX_OBJECT_HEADERS && self.reader.any_left()
    }

    /// Whether the walk ended on a single stray octet (no room for a header).
    pub fn leftover(&self) -> bool {
        !self.done && self.reader.left() == 1
    }

    fn finish(&mut self, header: ObjectHeader<'a>) -> Option<ObjectHeader<'a>> {
        if header.status != ObjectStatus::Complete {
            self.done = true;
        }
        Some(header)
    }
}

impl<'a> Iterator for Objects<'a> {
    type Item = ObjectHeader<'a>;

    fn next(&mut self) -> Option<ObjectHeader<'a>> {
        if self.done || self.yielded >= MAX_OBJECT_HEADERS || self.reader.left() < 2 {
            return None;
        }
        let group = ObjectGroup(self.reader.u8().ok()?);
        let variation = self.reader.u8().ok()?;
        self.yielded = self.yielded.saturating_add(1);
        let mut header = ObjectHeader {
            group,
            variation,
            qualifier: None,
            range: None,
            layout: Layout::Unknown,
            data: &[],
            status: ObjectStatus::Truncated,
        };
        let Ok(q) = self.reader.u8() else {
            return self.finish(header);
        };
        let qualifier = Qualifier(q);
        header.qualifier = Some(qualifier);
        if !qualifier.is_valid() {
            header.status = ObjectStatus::InvalidQualifier;
            header.data = self.reader.take_rest();
            return self.finish(header);
        }
        let Ok(range) = read_range(&mut self.reader, qualifier) else {
            header.data = self.reader.take_rest();
            return self.finish(header);
        };
        header.range = Some(range);
        let Some(count) = range.count() else {
            if let Range::StartStop { start, stop } = range
                && stop.checked_add(1) == Some(start)
            {
                header.layout = Layout::NoData;
                header.status = ObjectStatus::EmptyRange;
                return Some(header);
            }
            header.status = ObjectStatus::InvalidRange;
            header.data = self.reader.take_rest();
            return self.finish(header);
        };
        let prefix = qualifier.prefix();
        header.layout = layout(group, variation, prefix, self.mode);
        match data_len(&self.reader, header.layout, prefix, count) {
            Ok(len) => match self.reader.take(len) {
                Ok(data) => {
                    header.data = data;
                    header.status = ObjectStatus::Complete;
                }
                Err(_) => header.data = self.reader.take_rest(),
            },
            Err(status) => {
                header.status = status;
                header.data = self.reader.take_rest();
            }
        }
        self.finish(header)
    }
}

/// Reads the range field the qualifier calls for.
fn read_range(r: &mut Reader<'_>, qualifier: Qualifier) -> Result<Range, DecodeError> {
    let range = match qualifier.range().0 {
        0 => Range::StartStop { start: u32::from(r.u8()?), stop: u32::from(r.u8()?) },
        1 => Range::StartStop { start: u32::from(r.u16_le()?), stop: u32::from(r.u16_le()?) },
        2 => Range::StartStop { start: r.u32_le()?, stop: r.u32_le()? },
        3 => Range::Address(u32::from(r.u8()?)),
        4 => Range::Address(u32::from(r.u16_le()?)),
        5 => Range::Address(r.u32_le()?),
        6 => Range::All,
        7 => Range::Count(u32::from(r.u8()?)),
        8 => Range::Count(u32::from(r.u16_le()?)),
        9 => Range::Count(r.u32_le()?),
        11 => Range::FreeFormat(r.u8()?),
        _ => return Err(DecodeError::Malformed("dnp3: reserved range code")),
    };
    Ok(range)
}

/// Octets taken by `count` objects of `layout` after the header, measured on
/// a copy of the reader; the status says why it cannot be computed.
fn data_len(
    r: &Reader<'_>,
    layout: Layout,
    prefix: PrefixCode,
    count: u64,
) -> Result<usize, ObjectStatus> {
    let prefix_len = prefix.octets() as u64;
    let too_long = |n: Option<u64>| -> Result<usize, ObjectStatus> {
        let n = n.ok_or(ObjectStatus::Truncated)?;
        let n = usize::try_from(n).map_err(|_| ObjectStatus::Truncated)?;
        if n > r.left() { Err(ObjectStatus::Truncated) } else { Ok(n) }
    };
    match layout {
        Layout::NoData => too_long(count.checked_mul(prefix_len)),
        Layout::Fixed(size) => {
            too_long(prefix_len.checked_add(size as u64).and_then(|s| s.checked_mul(count)))
        }
        Layout::Packed(bits) => {
            if prefix != PrefixCode::NONE {
                return Err(ObjectStatus::InvalidQualifier);
            }
            too_long(count.checked_mul(u64::from(bits)).map(|b| b.div_ceil(8)))
        }
        Layout::SizePrefixed | Layout::Attribute => {
            // Each object takes at least one octet (its prefix or data type),
            // so this loop ends when the input does.
            let mut walk = *r;
            let mut left = count;
            while left > 0 {
                left = left.saturating_sub(1);
                let size = match (layout, prefix.0) {
                    (Layout::SizePrefixed, 4) => walk.u8().map(usize::from),
                    (Layout::SizePrefixed, 5) => walk.u16_le().map(usize::from),
                    (Layout::SizePrefixed, _) => {
                        walk.u32_le().map(|s| usize::try_from(s).unwrap_or(usize::MAX))
                    }
                    _ => walk
                        .skip(prefix.octets())
                        .and_then(|()| walk.u8())
                        .and_then(|_| walk.u8().map(usize::from)),
                };
                let size = size.map_err(|_| ObjectStatus::Truncated)?;
                walk.skip(size).map_err(|_| ObjectStatus::Truncated)?;
            }
            Ok(walk.position().saturating_sub(r.position()))
        }
        Layout::Unknown => {
            if count == 0 {
                Ok(0)
            } else {
                Err(ObjectStatus::UnknownSize)
            }
        }
    }
}
