//! DNS dissector: header, questions and answers, for internet-access and
//! malicious-domain detection.
//!
//! Specifications: RFC 1035 sections 4.1.1 (header), 4.1.2 (question),
//! 4.1.3 (resource record), 4.1.4 (message compression) and 4.2.2 (TCP:
//! two-byte length prefix); RFC 3596 (AAAA); RFC 6895 section 2 (opcode,
//! rcode and the AD/CD bits). Names are checked once while parsing (labels,
//! pointers with a bound on jumps, 255-byte limit) and then read lazily
//! from the message, so nothing is copied unless asked for.

mod anomaly;
mod parser;
mod types;

#[cfg(test)]
mod tests;

pub use anomaly::Anomalies;
pub use parser::{
    HEADER_LEN, MAX_ANSWERS, MAX_NAME_LEN, MAX_POINTER_JUMPS, MAX_QUESTIONS, MAX_RECORDS, parse,
    parse_tcp, pdu_len,
};
pub use types::{
    Header, Labels, Message, Name, Opcode, Question, RData, Rcode, Record, RecordType,
};

/// The DNS port (UDP and TCP).
pub const PORT: u16 = 53;

/// Whether `input` (a UDP payload) looks like DNS: a known opcode, exactly
/// one question, and every section parses without anomaly.
pub fn probe(input: &[u8]) -> bool {
    parse(input).is_ok_and(|m| {
        m.anomalies.is_empty() && m.header.qdcount == 1 && m.header.opcode().name().is_some()
    })
}

/// Whether `input` (the start of a TCP stream) looks like DNS over TCP.
pub fn probe_tcp(input: &[u8]) -> bool {
    match pdu_len(input) {
        Ok(n) => input.get(2..n).is_some_and(probe),
        Err(_) => false,
    }
}
