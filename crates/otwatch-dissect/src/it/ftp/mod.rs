//! FTP control-connection dissector, to count sign-in attempts and failures
//! and to see file transfers to and from devices.
//!
//! Specifications: RFC 959 sections 4.1 (commands, USER and PASS), 4.2
//! (replies: three digits, multi-line replies `ddd-` ... `ddd `), 5.3
//! (command syntax); RFC 2228, 2389, 2428, 3659 for the later commands
//! recognised. The PASS argument is never kept: a [`Command`] only says a
//! password was sent. [`Logins`] pairs USER/PASS with reply 230 (success) or
//! 530 (failure).

mod anomaly;
mod parser;
mod types;

#[cfg(test)]
mod tests;

pub use anomaly::Anomalies;
pub use parser::{MAX_LINE_LEN, MAX_REPLY_LINES, parse, pdu_len};
pub use types::{Command, LoginEvent, LoginOutcome, Logins, Message, Reply};

/// The FTP control port.
pub const PORT: u16 = 21;

/// Whether `input` starts like an FTP control connection: a `220` greeting
/// (what a server sends first) or a registered command, on a whole line.
pub fn probe(input: &[u8]) -> bool {
    match parse(input) {
        Ok((_, Message::Reply(r), an)) => an.is_empty() && r.code == 220,
        Ok((_, Message::Command(c), an)) => an.is_empty() && c.is_registered(),
        Err(_) => false,
    }
}
