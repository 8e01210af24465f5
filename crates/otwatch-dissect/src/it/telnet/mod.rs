//! Telnet dissector, to count sign-in attempts and failures.
//!
//! Specifications: RFC 854 (NVT, IAC commands 240-255, IAC IAC for a data
//! byte 255), RFC 855 (option negotiation WILL/WONT/DO/DONT, subnegotiation
//! SB ... IAC SE). Telnet has no messages, so a "PDU" here is one unit of
//! the stream: a run of text (up to a line end, an IAC or
//! [`MAX_TEXT_RUN`] bytes), one command, one negotiation or one
//! subnegotiation. Option negotiation is recognised and skipped. Sign-ins
//! are a heuristic over the text ([`Logins`]): a `login:` prompt, the user
//! name typed, a `Password:` prompt, the password line (counted, never
//! kept), then a failure message such as `Login incorrect` or a shell prompt.

mod anomaly;
mod parser;
mod types;

#[cfg(test)]
mod tests;

pub use anomaly::Anomalies;
pub use parser::{MAX_SUBNEGOTIATION_LEN, MAX_TEXT_RUN, parse, pdu_len};
pub use types::{Command, LoginEvent, LoginOutcome, Logins, TelnetOption, Unit};

/// The Telnet port.
pub const PORT: u16 = 23;

/// Whether `input` starts like a Telnet session: option negotiation (what
/// servers and clients send first) with valid verbs, at least one.
pub fn probe(input: &[u8]) -> bool {
    let mut rest = input;
    let mut negotiations = 0usize;
    while !rest.is_empty() && negotiations < 8 {
        match parse(rest) {
            Ok((r, Unit::Negotiation { .. } | Unit::Subnegotiation { .. }, an))
                if an.is_empty() =>
            {
                negotiations = negotiations.saturating_add(1);
                rest = r;
            }
            Ok((_, Unit::Text(_), _)) => break,
            _ => return false,
        }
    }
    negotiations > 0
}
