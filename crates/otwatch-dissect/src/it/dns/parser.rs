//! DNS decoding: header, then each section in order, with names checked
//! for label types, length and pointer loops.

use crate::DecodeError;
use crate::reader::Reader;

use super::anomaly::Anomalies;
use super::types::{Header, Message, Name, Question, RData, Record, RecordType};

/// Bytes of the fixed header.
pub const HEADER_LEN: usize = 12;
/// Longest name on the wire, in bytes (RFC 1035 2.3.4).
pub const MAX_NAME_LEN: usize = 255;
/// Compression pointers followed in one name at most.
pub const MAX_POINTER_JUMPS: usize = 16;
/// Questions kept at most.
pub const MAX_QUESTIONS: usize = 8;
/// Answer records kept at most.
pub const MAX_ANSWERS: usize = 64;
/// Records (all sections) walked at most.
pub const MAX_RECORDS: usize = 256;

/// How many bytes the next DNS-over-TCP message takes (two-byte length
/// prefix plus message). `Malformed` if the length cannot hold a header.
pub fn pdu_len(input: &[u8]) -> Result<usize, DecodeError> {
    let mut r = Reader::new(input);
    let len = r.u16_be()?;
    if usize::from(len) < HEADER_LEN {
        return Err(DecodeError::Malformed("dns: TCP length shorter than a header"));
    }
    2usize.checked_add(usize::from(len)).ok_or(DecodeError::Malformed("length overflow"))
}

/// Decodes one DNS-over-TCP message from the start of a stream; returns the
/// bytes after it and the message.
pub fn parse_tcp(input: &[u8]) -> Result<(&[u8], Message<'_>), DecodeError> {
    let n = pdu_len(input)?;
    let mut r = Reader::new(input);
    let mut whole = r.sub(n)?;
    whole.skip(2)?;
    let msg = parse(whole.rest())?;
    Ok((r.rest(), msg))
}

/// Decodes one whole DNS message (a UDP payload, or a TCP message without
/// its length prefix). `Malformed` only when the header is not all there;
/// sections that run short set [`Anomalies::TRUNCATED_MESSAGE`].
pub fn parse(msg: &[u8]) -> Result<Message<'_>, DecodeError> {
    let mut r = Reader::new(msg);
    if r.left() < HEADER_LEN {
        return Err(DecodeError::Malformed("dns: shorter than the header"));
    }
    let header = Header {
        id: r.u16_be()?,
        flags: r.u16_be()?,
        qdcount: r.u16_be()?,
        ancount: r.u16_be()?,
        nscount: r.u16_be()?,
        arcount: r.u16_be()?,
    };
    let mut an = Anomalies::NONE;
    if header.z() {
        an |= Anomalies::NONZERO_Z;
    }
    let opcode = header.opcode();
    if opcode.name().is_none() {
        an |= Anomalies::UNKNOWN_OPCODE;
    }
    if opcode == super::Opcode::QUERY && header.qdcount != 1 {
        an |= Anomalies::UNUSUAL_QUESTION_COUNT;
    }
    if opcode == super::Opcode::QUERY && !header.is_response() && header.ancount != 0 {
        an |= Anomalies::QUERY_WITH_ANSWERS;
    }
    let mut out = Message { header, questions: Vec::new(), answers: Vec::new(), anomalies: an };
    if let Err(a) = sections(msg, &mut r, &mut out) {
        out.anomalies |= a;
    } else if r.any_left() {
        out.anomalies |= Anomalies::TRAILING_BYTES;
    }
    Ok(out)
}

/// Reads every section; an `Err` is the anomaly that stopped it.
fn sections<'a>(msg: &'a [u8], r: &mut Reader<'a>, out: &mut Message<'a>) -> Result<(), Anomalies> {
    for _ in 0..out.header.qdcount {
        let name = name(msg, r)?;
        let qtype = RecordType(r.u16_be().map_err(|_| Anomalies::TRUNCATED_MESSAGE)?);
        let qclass = r.u16_be().map_err(|_| Anomalies::TRUNCATED_MESSAGE)?;
        if out.questions.len() < MAX_QUESTIONS {
            out.questions.push(Question { name, qtype, qclass });
        } else {
            out.anomalies |= Anomalies::TOO_MANY_QUESTIONS;
        }
    }
    let answers = usize::from(out.header.ancount);
    let total = answers
        .saturating_add(usize::from(out.header.nscount))
        .saturating_add(usize::from(out.header.arcount));
    for i in 0..total {
        if i >= MAX_RECORDS {
            // Stop walking; what is left is not checked.
            out.anomalies |= Anomalies::TOO_MANY_RECORDS;
            r.take_rest();
            return Ok(());
        }
        let rec = record(msg, r, &mut out.anomalies)?;
        if i < answers {
            if out.answers.len() < MAX_ANSWERS {
                out.answers.push(rec);
            } else {
                out.anomalies |= Anomalies::TOO_MANY_RECORDS;
            }
        }
    }
    Ok(())
}

/// Reads one resource record at the reader's position.
fn record<'a>(
    msg: &'a [u8],
    r: &mut Reader<'a>,
    an: &mut Anomalies,
) -> Result<Record<'a>, Anomalies> {
    let t = Anomalies::TRUNCATED_MESSAGE;
    let owner = name(msg, r)?;
    let rtype = RecordType(r.u16_be().map_err(|_| t)?);
    let class = r.u16_be().map_err(|_| t)?;
    let ttl = r.u32_be().map_err(|_| t)?;
    let rdlength = r.u16_be().map_err(|_| t)?;
    let start = r.position();
    let rdata = r.take(usize::from(rdlength)).map_err(|_| t)?;
    let data = match rtype {
        RecordType::A | RecordType::AAAA => {
            let d = match rtype {
                RecordType::A => <[u8; 4]>::try_from(rdata).ok().map(RData::A),
                _ => <[u8; 16]>::try_from(rdata).ok().map(RData::Aaaa),
            };
            if d.is_none() {
                *an |= Anomalies::INVALID_RDATA_LENGTH;
            }
            d.unwrap_or(RData::Other)
        }
        RecordType::CNAME | RecordType::NS | RecordType::PTR => {
            // The target is a name inside the record data that may point
            // back into the message.
            let mut sub = Reader::new(msg);
            match sub.skip(start) {
                Ok(()) => match name(msg, &mut sub) {
                    Ok(n) if sub.position() == start.saturating_add(usize::from(rdlength)) => {
                        RData::Name(n)
                    }
                    Ok(_) => {
                        *an |= Anomalies::INVALID_RDATA_LENGTH;
                        RData::Other
                    }
                    Err(a) => {
                        *an |= a;
                        RData::Other
                    }
                },
                Err(_) => RData::Other,
            }
        }
        _ => RData::Other,
    };
    Ok(Record { name: owner, rtype, class, ttl, rdata, data })
}

/// Checks the name at the reader's position and moves the reader past it
/// (past the first pointer, if any).
fn name<'a>(msg: &'a [u8], r: &mut Reader<'a>) -> Result<Name<'a>, Anomalies> {
    let offset = r.position();
    let t = Anomalies::TRUNCATED_MESSAGE;
    let mut pos = offset;
    let mut jumps = 0usize;
    let mut total = 0usize;
    let mut end_in_place: Option<usize> = None;
    loop {
        let len = *msg.get(pos).ok_or(t)?;
        match len & 0xC0 {
            0x00 if len == 0 => {
                let end = end_in_place.unwrap_or(pos.saturating_add(1));
                r.skip(end.saturating_sub(offset)).map_err(|_| t)?;
                return Ok(Name { msg, offset });
            }
            0x00 => {
                total = total.saturating_add(usize::from(len)).saturating_add(1);
                if total > MAX_NAME_LEN {
                    return Err(Anomalies::NAME_TOO_LONG);
                }
                pos = pos.saturating_add(usize::from(len)).saturating_add(1);
            }
            0xC0 => {
                let lo = *msg.get(pos.saturating_add(1)).ok_or(t)?;
                if end_in_place.is_none() {
                    end_in_place = Some(pos.saturating_add(2));
                }
                jumps = jumps.saturating_add(1);
                if jumps > MAX_POINTER_JUMPS {
                    return Err(Anomalies::POINTER_LOOP);
                }
                pos = (usize::from(len & 0x3F) << 8) | usize::from(lo);
            }
            _ => return Err(Anomalies::BAD_LABEL_TYPE),
        }
    }
}
