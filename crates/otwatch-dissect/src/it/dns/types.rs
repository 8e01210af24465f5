//! DNS message, names and wire enums: what [`super::parse`] returns.

use super::anomaly::Anomalies;
use super::parser::{MAX_NAME_LEN, MAX_POINTER_JUMPS};

/// The fixed 12-byte header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    /// Query identifier.
    pub id: u16,
    /// The flags word: QR, opcode, AA, TC, RD, RA, Z, AD, CD, rcode.
    pub flags: u16,
    /// Questions.
    pub qdcount: u16,
    /// Answer records.
    pub ancount: u16,
    /// Authority records.
    pub nscount: u16,
    /// Additional records.
    pub arcount: u16,
}

impl Header {
    /// Whether this is a response (QR set).
    pub fn is_response(&self) -> bool {
        self.flags & 0x8000 != 0
    }

    /// The opcode.
    pub fn opcode(&self) -> Opcode {
        Opcode(((self.flags >> 11) & 0x0F) as u8)
    }

    /// Authoritative answer.
    pub fn aa(&self) -> bool {
        self.flags & 0x0400 != 0
    }

    /// Truncated (the answer did not fit in UDP).
    pub fn tc(&self) -> bool {
        self.flags & 0x0200 != 0
    }

    /// Recursion desired.
    pub fn rd(&self) -> bool {
        self.flags & 0x0100 != 0
    }

    /// Recursion available.
    pub fn ra(&self) -> bool {
        self.flags & 0x0080 != 0
    }

    /// The reserved Z bit.
    pub fn z(&self) -> bool {
        self.flags & 0x0040 != 0
    }

    /// The response code (low 4 bits; extended rcodes live in EDNS).
    pub fn rcode(&self) -> Rcode {
        Rcode((self.flags & 0x000F) as u8)
    }
}

/// A DNS opcode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Opcode(pub u8);

impl Opcode {
    /// 0: standard query.
    pub const QUERY: Opcode = Opcode(0);

    /// The registered name, if assigned.
    pub fn name(self) -> Option<&'static str> {
        match self.0 {
            0 => Some("QUERY"),
            1 => Some("IQUERY"),
            2 => Some("STATUS"),
            4 => Some("NOTIFY"),
            5 => Some("UPDATE"),
            6 => Some("DSO"),
            _ => None,
        }
    }
}

/// A DNS response code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Rcode(pub u8);

impl Rcode {
    /// 0: no error.
    pub const NOERROR: Rcode = Rcode(0);
    /// 2: server failure.
    pub const SERVFAIL: Rcode = Rcode(2);
    /// 3: the name does not exist.
    pub const NXDOMAIN: Rcode = Rcode(3);
    /// 5: refused.
    pub const REFUSED: Rcode = Rcode(5);

    /// The registered name, if assigned.
    pub fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            0 => "NoError",
            1 => "FormErr",
            2 => "ServFail",
            3 => "NXDomain",
            4 => "NotImp",
            5 => "Refused",
            6 => "YXDomain",
            7 => "YXRRSet",
            8 => "NXRRSet",
            9 => "NotAuth",
            10 => "NotZone",
            11 => "DSOTYPENI",
            _ => return None,
        })
    }
}

/// A resource record type (also used as question type).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RecordType(pub u16);

impl RecordType {
    /// 1: IPv4 address.
    pub const A: RecordType = RecordType(1);
    /// 2: name server.
    pub const NS: RecordType = RecordType(2);
    /// 5: canonical name.
    pub const CNAME: RecordType = RecordType(5);
    /// 12: pointer (reverse lookup).
    pub const PTR: RecordType = RecordType(12);
    /// 16: text.
    pub const TXT: RecordType = RecordType(16);
    /// 28: IPv6 address.
    pub const AAAA: RecordType = RecordType(28);
    /// 41: EDNS(0) pseudo-record.
    pub const OPT: RecordType = RecordType(41);

    /// The registered mnemonic, for common types.
    pub fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            1 => "A",
            2 => "NS",
            5 => "CNAME",
            6 => "SOA",
            12 => "PTR",
            15 => "MX",
            16 => "TXT",
            28 => "AAAA",
            33 => "SRV",
            41 => "OPT",
            64 => "SVCB",
            65 => "HTTPS",
            252 => "AXFR",
            255 => "ANY",
            _ => return None,
        })
    }
}

/// A domain name inside a message, checked while parsing; read it with
/// [`Name::labels`] or `to_string()`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Name<'a> {
    pub(crate) msg: &'a [u8],
    pub(crate) offset: usize,
}

impl<'a> Name<'a> {
    /// The labels, following compression pointers (at most
    /// [`MAX_POINTER_JUMPS`] of them and [`MAX_NAME_LEN`] bytes).
    pub fn labels(&self) -> Labels<'a> {
        Labels { msg: self.msg, pos: self.offset, jumps: 0, total: 0, done: false }
    }

    /// Whether this is the root name (no labels).
    pub fn is_root(&self) -> bool {
        self.labels().next().is_none()
    }
}

impl std::fmt::Display for Name<'_> {
    /// Labels joined by dots; bytes outside printable ASCII, dots and
    /// backslashes inside labels are escaped as `\DDD` (RFC 1035 5.1).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut first = true;
        for label in self.labels() {
            if !first {
                f.write_str(".")?;
            }
            first = false;
            for &b in label {
                if b.is_ascii_graphic() && b != b'.' && b != b'\\' {
                    write!(f, "{}", char::from(b))?;
                } else {
                    write!(f, "\\{b:03}")?;
                }
            }
        }
        if first {
            f.write_str(".")?;
        }
        Ok(())
    }
}

/// Iterator over the labels of a [`Name`].
#[derive(Clone, Debug)]
pub struct Labels<'a> {
    msg: &'a [u8],
    pos: usize,
    jumps: usize,
    total: usize,
    done: bool,
}

impl<'a> Iterator for Labels<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        while !self.done {
            let len = *self.msg.get(self.pos)?;
            match len & 0xC0 {
                0x00 if len == 0 => self.done = true,
                0x00 => {
                    let start = self.pos.checked_add(1)?;
                    let end = start.checked_add(usize::from(len))?;
                    let label = self.msg.get(start..end)?;
                    self.total = self.total.saturating_add(usize::from(len)).saturating_add(1);
                    if self.total > MAX_NAME_LEN {
                        self.done = true;
                        return None;
                    }
                    self.pos = end;
                    return Some(label);
                }
                0xC0 => {
                    let lo = *self.msg.get(self.pos.checked_add(1)?)?;
                    self.jumps = self.jumps.saturating_add(1);
                    if self.jumps > MAX_POINTER_JUMPS {
                        self.done = true;
                        return None;
                    }
                    self.pos = (usize::from(len & 0x3F) << 8) | usize::from(lo);
                }
                _ => self.done = true,
            }
        }
        None
    }
}

/// One question.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Question<'a> {
    /// The name asked about.
    pub name: Name<'a>,
    /// The type asked for.
    pub qtype: RecordType,
    /// The class (1 IN); bit 15 is the mDNS unicast-response bit.
    pub qclass: u16,
}

/// Decoded record data for the types the monitor uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RData<'a> {
    /// An A record.
    A([u8; 4]),
    /// An AAAA record.
    Aaaa([u8; 16]),
    /// A CNAME, NS or PTR target.
    Name(Name<'a>),
    /// Anything else (or a record whose data did not fit its type); the
    /// bytes are in [`Record::rdata`].
    Other,
}

/// One resource record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Record<'a> {
    /// The owner name.
    pub name: Name<'a>,
    /// The type.
    pub rtype: RecordType,
    /// The class.
    pub class: u16,
    /// Time to live in seconds.
    pub ttl: u32,
    /// The raw record data.
    pub rdata: &'a [u8],
    /// The decoded record data.
    pub data: RData<'a>,
}

/// A DNS message: header, questions and answers (authority and additional
/// records are checked but not kept).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message<'a> {
    /// The header.
    pub header: Header,
    /// The questions (at most [`super::MAX_QUESTIONS`]).
    pub questions: Vec<Question<'a>>,
    /// The answer records (at most [`super::MAX_ANSWERS`]).
    pub answers: Vec<Record<'a>>,
    /// What is wrong with it.
    pub anomalies: Anomalies,
}
