//! BACnet tag encoding (clause 20.2): tags, primitive values, and a tag cursor.
//!
//! Every APDU parameter is a tagged value: an initial octet with a tag number, a
//! class (application or context-specific) and a length/value/type field,
//! possibly extended by following octets. Constructed values sit between
//! matching opening and closing context tags. This module decodes tags one at a
//! time through the checked [`Reader`]; nesting is bounded by
//! [`MAX_TAG_DEPTH`], and every step consumes at least one octet, so no input
//! makes it loop.

use std::borrow::Cow;
use std::fmt;

use super::types::ObjectId;
use crate::DecodeError;
use crate::reader::Reader;

/// Deepest nesting of opening/closing tags followed; deeper values are malformed.
pub const MAX_TAG_DEPTH: usize = 32;

/// Tag class (20.2.1.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TagClass {
    /// An application tag: the tag number is the datatype.
    Application,
    /// A context-specific tag: the tag number is the parameter position.
    Context,
}

/// What follows a tag's initial octets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TagContent<'a> {
    /// Primitive data octets.
    Data(&'a [u8]),
    /// An application-tagged Boolean, whose value is in the tag itself (20.2.3).
    Boolean(bool),
    /// An opening tag (start of a constructed value).
    Opening,
    /// A closing tag.
    Closing,
}

/// One decoded tag (20.2.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tag<'a> {
    /// Tag number (0–254).
    pub number: u8,
    /// Tag class.
    pub class: TagClass,
    /// Content.
    pub content: TagContent<'a>,
}

impl<'a> Tag<'a> {
    /// Whether this is the opening tag `n`.
    pub fn is_opening(&self, n: u8) -> bool {
        self.number == n && self.content == TagContent::Opening
    }

    /// Whether this is the closing tag `n`.
    pub fn is_closing(&self, n: u8) -> bool {
        self.number == n && self.content == TagContent::Closing
    }

    /// The data octets of a primitive context tag `n`.
    pub fn context_data(&self, n: u8) -> Option<&'a [u8]> {
        match (self.class, self.content) {
            (TagClass::Context, TagContent::Data(d)) if self.number == n => Some(d),
            _ => None,
        }
    }
}

/// Application tag numbers (20.2.1.4).
pub mod app {
    /// Null.
    pub const NULL: u8 = 0;
    /// Boolean.
    pub const BOOLEAN: u8 = 1;
    /// Unsigned Integer.
    pub const UNSIGNED: u8 = 2;
    /// Signed Integer.
    pub const SIGNED: u8 = 3;
    /// Real (IEEE-754 single).
    pub const REAL: u8 = 4;
    /// Double (IEEE-754 double).
    pub const DOUBLE: u8 = 5;
    /// Octet String.
    pub const OCTET_STRING: u8 = 6;
    /// Character String.
    pub const CHARACTER_STRING: u8 = 7;
    /// Bit String.
    pub const BIT_STRING: u8 = 8;
    /// Enumerated.
    pub const ENUMERATED: u8 = 9;
    /// Date.
    pub const DATE: u8 = 10;
    /// Time.
    pub const TIME: u8 = 11;
    /// BACnetObjectIdentifier.
    pub const OBJECT_ID: u8 = 12;
}

/// Reads one tag with its content.
pub fn read_tag<'a>(r: &mut Reader<'a>) -> Result<Tag<'a>, DecodeError> {
    let initial = r.u8()?;
    let mut number = initial >> 4;
    let class = if initial & 0x08 != 0 { TagClass::Context } else { TagClass::Application };
    let lvt = initial & 0x07;
    if number == 0x0f {
        number = r.u8()?;
        if number == 0xff {
            return Err(DecodeError::Malformed("bacnet: reserved extended tag number 255"));
        }
    }
    let content = match (class, lvt) {
        (TagClass::Application, _) if number == app::BOOLEAN => TagContent::Boolean(lvt != 0),
        (TagClass::Context, 6) => TagContent::Opening,
        (TagClass::Context, 7) => TagContent::Closing,
        (TagClass::Application, 6 | 7) => {
            return Err(DecodeError::Malformed("bacnet: opening/closing application tag"));
        }
        (_, 5) => {
            let len = match r.u8()? {
                254 => usize::from(r.u16_be()?),
                255 => usize::try_from(r.u32_be()?)
                    .map_err(|_| DecodeError::Malformed("bacnet: tag length overflow"))?,
                n => usize::from(n),
            };
            TagContent::Data(r.take(len)?)
        }
        (_, n) => TagContent::Data(r.take(usize::from(n))?),
    };
    Ok(Tag { number, class, content })
}

/// Decodes a big-endian unsigned integer of 1 to 8 octets (20.2.4).
pub fn decode_unsigned(data: &[u8]) -> Option<u64> {
    if data.is_empty() || data.len() > 8 {
        return None;
    }
    Some(data.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b)))
}

/// Decodes a big-endian two's complement integer of 1 to 8 octets (20.2.5).
pub fn decode_signed(data: &[u8]) -> Option<i64> {
    let first = *data.first()?;
    if data.len() > 8 {
        return None;
    }
    let init: u64 = if first & 0x80 != 0 { u64::MAX } else { 0 };
    let bits = data.iter().fold(init, |acc, b| (acc << 8) | u64::from(*b));
    Some(i64::from_ne_bytes(bits.to_ne_bytes()))
}

wire_enum! {
    /// Character set of a Character String (20.2.9).
    CharacterSet(u8);
    fallback |_v| "reserved";
    UTF8 = 0 => "ANSI X3.4 / UTF-8",
    DBCS = 1 => "IBM/Microsoft DBCS",
    JIS_X_0208 = 2 => "JIS X 0208",
    UCS4 = 3 => "ISO 10646 (UCS-4)",
    UCS2 = 4 => "ISO 10646 (UCS-2)",
    ISO_8859_1 = 5 => "ISO 8859-1",
}

/// A Character String value (20.2.9): character set and encoded octets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CharacterString<'a> {
    /// Character set.
    pub charset: CharacterSet,
    /// DBCS code page, for character set 1.
    pub code_page: Option<u16>,
    /// The encoded characters (after the character set and code page octets).
    pub bytes: &'a [u8],
}

impl<'a> CharacterString<'a> {
    /// Splits the data octets of a Character String.
    pub fn decode(data: &'a [u8]) -> Result<CharacterString<'a>, DecodeError> {
        let mut r = Reader::new(data);
        let charset = CharacterSet(r.u8()?);
        let code_page = if charset == CharacterSet::DBCS { Some(r.u16_be()?) } else { None };
        Ok(CharacterString { charset, code_page, bytes: r.take_rest() })
    }

    /// The text, with undecodable characters replaced by U+FFFD. UTF-8 and the
    /// single-octet sets are decoded; UCS-2 and UCS-4 are big-endian.
    pub fn to_string_lossy(&self) -> Cow<'a, str> {
        match self.charset {
            CharacterSet::ISO_8859_1 => {
                Cow::Owned(self.bytes.iter().map(|b| char::from(*b)).collect())
            }
            CharacterSet::UCS2 => Cow::Owned(
                char::decode_utf16(self.bytes.chunks(2).map(|c| {
                    let mut r = Reader::new(c);
                    r.u16_be().unwrap_or(0xfffd)
                }))
                .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
                .collect(),
            ),
            CharacterSet::UCS4 => Cow::Owned(
                self.bytes
                    .chunks(4)
                    .map(|c| {
                        let mut r = Reader::new(c);
                        r.u32_be()
                            .ok()
                            .and_then(char::from_u32)
                            .unwrap_or(char::REPLACEMENT_CHARACTER)
                    })
                    .collect(),
            ),
            _ => String::from_utf8_lossy(self.bytes),
        }
    }
}

impl fmt::Display for CharacterString<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_string_lossy())
    }
}

/// A Date value (20.2.12); 255 in any field means "unspecified".
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Date {
    /// Year minus 1900.
    pub year_since_1900: u8,
    /// Month 1–12 (13 odd, 14 even months).
    pub month: u8,
    /// Day 1–31 (32 last day, 33 odd, 34 even days).
    pub day: u8,
    /// Day of week 1 (Monday) – 7 (Sunday).
    pub weekday: u8,
}

impl Date {
    /// The year, if specified.
    pub fn year(&self) -> Option<u16> {
        (self.year_since_1900 != 0xff)
            .then(|| 1900u16.saturating_add(u16::from(self.year_since_1900)))
    }
}

/// A Time value (20.2.13); 255 in any field means "unspecified".
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Time {
    /// Hour 0–23.
    pub hour: u8,
    /// Minute 0–59.
    pub minute: u8,
    /// Second 0–59.
    pub second: u8,
    /// Hundredths 0–99.
    pub hundredths: u8,
}

/// A Bit String value (20.2.10).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BitString<'a> {
    /// Unused bits in the last octet.
    pub unused_bits: u8,
    /// The bit octets, first bit in the most significant position.
    pub bytes: &'a [u8],
}

/// A primitive application-tagged value (20.2.2–20.2.14).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Value<'a> {
    /// Null.
    Null,
    /// Boolean.
    Boolean(bool),
    /// Unsigned Integer.
    Unsigned(u64),
    /// Signed Integer.
    Signed(i64),
    /// Real.
    Real(f32),
    /// Double.
    Double(f64),
    /// Octet String.
    OctetString(&'a [u8]),
    /// Character String.
    CharacterString(CharacterString<'a>),
    /// Bit String.
    BitString(BitString<'a>),
    /// Enumerated.
    Enumerated(u64),
    /// Date.
    Date(Date),
    /// Time.
    Time(Time),
    /// BACnetObjectIdentifier.
    ObjectId(ObjectId),
    /// A reserved application tag (13–15) or a context tag, kept raw.
    Raw {
        /// The tag.
        tag: u8,
        /// Its data octets.
        data: &'a [u8],
    },
}

impl<'a> Value<'a> {
    /// Decodes the content of an application tag.
    pub fn decode(tag: &Tag<'a>) -> Result<Value<'a>, DecodeError> {
        let bad = DecodeError::Malformed("bacnet: bad application value length");
        let data = match tag.content {
            TagContent::Boolean(b) if tag.class == TagClass::Application => {
                return Ok(Value::Boolean(b));
            }
            TagContent::Data(d) => d,
            _ => {
                return Err(DecodeError::Malformed(
                    "bacnet: constructed value where primitive expected",
                ));
            }
        };
        if tag.class == TagClass::Context {
            return Ok(Value::Raw { tag: tag.number, data });
        }
        let mut r = Reader::new(data);
        let v = match tag.number {
            app::NULL if data.is_empty() => Value::Null,
            app::NULL => return Err(bad),
            app::UNSIGNED => Value::Unsigned(decode_unsigned(data).ok_or(bad)?),
            app::SIGNED => Value::Signed(decode_signed(data).ok_or(bad)?),
            app::REAL if data.len() == 4 => Value::Real(f32::from_bits(r.u32_be()?)),
            app::DOUBLE if data.len() == 8 => Value::Double(f64::from_bits(r.u64_be()?)),
            app::REAL | app::DOUBLE => return Err(bad),
            app::OCTET_STRING => Value::OctetString(data),
            app::CHARACTER_STRING => Value::CharacterString(CharacterString::decode(data)?),
            app::BIT_STRING => {
                let unused_bits = r.u8()?;
                Value::BitString(BitString { unused_bits, bytes: r.take_rest() })
            }
            app::ENUMERATED => Value::Enumerated(decode_unsigned(data).ok_or(bad)?),
            app::DATE if data.len() == 4 => {
                let [year_since_1900, month, day, weekday] = r.take_array::<4>()?;
                Value::Date(Date { year_since_1900, month, day, weekday })
            }
            app::TIME if data.len() == 4 => {
                let [hour, minute, second, hundredths] = r.take_array::<4>()?;
                Value::Time(Time { hour, minute, second, hundredths })
            }
            app::OBJECT_ID if data.len() == 4 => Value::ObjectId(ObjectId::from_raw(r.u32_be()?)),
            app::DATE | app::TIME | app::OBJECT_ID => return Err(bad),
            n => Value::Raw { tag: n, data },
        };
        Ok(v)
    }

    /// The text of a Character String value.
    pub fn as_text(&self) -> Option<Cow<'a, str>> {
        match self {
            Value::CharacterString(s) => Some(s.to_string_lossy()),
            _ => None,
        }
    }

    /// An Unsigned or Enumerated value.
    pub fn as_unsigned(&self) -> Option<u64> {
        match self {
            Value::Unsigned(v) | Value::Enumerated(v) => Some(*v),
            _ => None,
        }
    }
}

/// Decodes the first application-tagged value in `data` (e.g. a property value).
pub fn first_value(data: &[u8]) -> Option<Value<'_>> {
    let mut r = Reader::new(data);
    let tag = read_tag(&mut r).ok()?;
    if tag.class != TagClass::Application {
        return None;
    }
    Value::decode(&tag).ok()
}

const MISSING: DecodeError = DecodeError::Malformed("bacnet: missing or unexpected tag");

/// A cursor over a sequence of tags, with helpers for the productions of clause 21.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Tags<'a> {
    r: Reader<'a>,
}

impl<'a> Tags<'a> {
    pub(crate) fn new(data: &'a [u8]) -> Tags<'a> {
        Tags { r: Reader::new(data) }
    }

    pub(crate) fn is_empty(&self) -> bool {
        !self.r.any_left()
    }

    /// The next tag, without consuming it.
    pub(crate) fn peek(&self) -> Option<Tag<'a>> {
        let mut r = self.r;
        read_tag(&mut r).ok()
    }

    pub(crate) fn next_tag(&mut self) -> Result<Tag<'a>, DecodeError> {
        read_tag(&mut self.r)
    }

    /// The data of the primitive context tag `n`, which must come next.
    pub(crate) fn context(&mut self, n: u8) -> Result<&'a [u8], DecodeError> {
        self.opt_context(n)?.ok_or(MISSING)
    }

    /// The data of the primitive context tag `n`, if it comes next.
    pub(crate) fn opt_context(&mut self, n: u8) -> Result<Option<&'a [u8]>, DecodeError> {
        match self.peek().and_then(|t| t.context_data(n)) {
            Some(_) => Ok(self.next_tag()?.context_data(n)),
            None => Ok(None),
        }
    }

    pub(crate) fn context_unsigned(&mut self, n: u8) -> Result<u64, DecodeError> {
        decode_unsigned(self.context(n)?).ok_or(MISSING)
    }

    pub(crate) fn opt_context_unsigned(&mut self, n: u8) -> Result<Option<u64>, DecodeError> {
        self.opt_context(n)?.map(|d| decode_unsigned(d).ok_or(MISSING)).transpose()
    }

    pub(crate) fn context_object_id(&mut self, n: u8) -> Result<ObjectId, DecodeError> {
        object_id(self.context(n)?)
    }

    pub(crate) fn opt_context_object_id(&mut self, n: u8) -> Result<Option<ObjectId>, DecodeError> {
        self.opt_context(n)?.map(object_id).transpose()
    }

    pub(crate) fn context_string(&mut self, n: u8) -> Result<CharacterString<'a>, DecodeError> {
        CharacterString::decode(self.context(n)?)
    }

    pub(crate) fn opt_context_string(
        &mut self,
        n: u8,
    ) -> Result<Option<CharacterString<'a>>, DecodeError> {
        self.opt_context(n)?.map(CharacterString::decode).transpose()
    }

    /// The next value, which must be application-tagged.
    pub(crate) fn app_value(&mut self) -> Result<Value<'a>, DecodeError> {
        let tag = self.next_tag()?;
        if tag.class != TagClass::Application {
            return Err(MISSING);
        }
        Value::decode(&tag)
    }

    pub(crate) fn app_unsigned(&mut self) -> Result<u64, DecodeError> {
        match self.app_value()? {
            Value::Unsigned(v) => Ok(v),
            _ => Err(MISSING),
        }
    }

    pub(crate) fn app_signed(&mut self) -> Result<i64, DecodeError> {
        match self.app_value()? {
            Value::Signed(v) => Ok(v),
            _ => Err(MISSING),
        }
    }

    pub(crate) fn app_enumerated(&mut self) -> Result<u64, DecodeError> {
        match self.app_value()? {
            Value::Enumerated(v) => Ok(v),
            _ => Err(MISSING),
        }
    }

    pub(crate) fn app_object_id(&mut self) -> Result<ObjectId, DecodeError> {
        match self.app_value()? {
            Value::ObjectId(v) => Ok(v),
            _ => Err(MISSING),
        }
    }

    pub(crate) fn app_string(&mut self) -> Result<CharacterString<'a>, DecodeError> {
        match self.app_value()? {
            Value::CharacterString(v) => Ok(v),
            _ => Err(MISSING),
        }
    }

    pub(crate) fn app_octets(&mut self) -> Result<&'a [u8], DecodeError> {
        match self.app_value()? {
            Value::OctetString(v) => Ok(v),
            _ => Err(MISSING),
        }
    }

    pub(crate) fn app_boolean(&mut self) -> Result<bool, DecodeError> {
        match self.app_value()? {
            Value::Boolean(v) => Ok(v),
            _ => Err(MISSING),
        }
    }

    /// Whether the opening tag `n` comes next.
    pub(crate) fn at_opening(&self, n: u8) -> bool {
        self.peek().is_some_and(|t| t.is_opening(n))
    }

    /// Whether the closing tag `n` comes next.
    pub(crate) fn at_closing(&self, n: u8) -> bool {
        self.peek().is_some_and(|t| t.is_closing(n))
    }

    pub(crate) fn opening(&mut self, n: u8) -> Result<(), DecodeError> {
        if self.next_tag()?.is_opening(n) { Ok(()) } else { Err(MISSING) }
    }

    pub(crate) fn closing(&mut self, n: u8) -> Result<(), DecodeError> {
        if self.next_tag()?.is_closing(n) { Ok(()) } else { Err(MISSING) }
    }

    /// Consumes the opening tag `n`, everything up to its matching closing tag, and
    /// the closing tag; returns the octets in between.
    pub(crate) fn enclosed(&mut self, n: u8) -> Result<&'a [u8], DecodeError> {
        self.opening(n)?;
        let start = self.r;
        let mut stack = [0u8; MAX_TAG_DEPTH];
        let mut depth = 0usize;
        loop {
            let before = self.r.position();
            let tag = self.next_tag()?;
            match tag.content {
                TagContent::Opening => {
                    let slot = stack
                        .get_mut(depth)
                        .ok_or(DecodeError::Malformed("bacnet: tags nested too deep"))?;
                    *slot = tag.number;
                    depth = depth.saturating_add(1);
                }
                TagContent::Closing if depth == 0 => {
                    if tag.number != n {
                        return Err(DecodeError::Malformed("bacnet: unbalanced closing tag"));
                    }
                    let len = before.saturating_sub(start.position());
                    let mut inner = start;
                    return inner.take(len);
                }
                TagContent::Closing => {
                    depth = depth.saturating_sub(1);
                    if stack.get(depth).copied() != Some(tag.number) {
                        return Err(DecodeError::Malformed("bacnet: unbalanced closing tag"));
                    }
                }
                _ => {}
            }
        }
    }

    /// Skips one complete value: a primitive tag, or a constructed value from its
    /// opening tag to the matching closing tag.
    pub(crate) fn skip_value(&mut self) -> Result<(), DecodeError> {
        match self.peek() {
            Some(t) if t.content == TagContent::Opening => self.enclosed(t.number).map(|_| ()),
            Some(t) if t.content == TagContent::Closing => Err(MISSING),
            _ => self.next_tag().map(|_| ()),
        }
    }
}

/// Decodes the 4 data octets of an object identifier.
pub(crate) fn object_id(data: &[u8]) -> Result<ObjectId, DecodeError> {
    let mut r = Reader::new(data);
    let raw = r.u32_be()?;
    r.expect_empty("bacnet: object identifier longer than 4 octets")?;
    Ok(ObjectId::from_raw(raw))
}
