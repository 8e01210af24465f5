//! DHCP (and BOOTP) dissector, for inventory: host names, vendor classes,
//! client identifiers and requested addresses.
//!
//! Specifications: RFC 951 (BOOTP message), RFC 2131 section 2 and 3
//! (DHCP message format, magic cookie 99.130.83.99, message types), RFC 2132
//! (options: 12 Host Name, 50 Requested IP Address, 53 DHCP Message Type,
//! 54 Server Identifier, 55 Parameter Request List, 60 Vendor Class
//! Identifier, 61 Client Identifier; 0 Pad and 255 End). DHCP runs on UDP
//! 67/68, one message per datagram, so there is no `pdu_len`. Option
//! overload (option 52) is not followed: options in `sname`/`file` are not
//! read.

mod anomaly;
mod parser;
mod types;

#[cfg(test)]
mod tests;

pub use anomaly::Anomalies;
pub use parser::{FIXED_LEN, MAGIC_COOKIE, MAX_OPTIONS, parse};
pub use types::{DhcpOption, Message, MessageType, Op, OptionCode, OptionIter, Options};

/// The server port.
pub const SERVER_PORT: u16 = 67;
/// The client port.
pub const CLIENT_PORT: u16 = 68;

/// Whether `input` (a UDP payload) looks like DHCP or BOOTP with vendor
/// extensions: a BOOTP header with a valid op and hardware address length,
/// the magic cookie, and no anomaly.
pub fn probe(input: &[u8]) -> bool {
    match parse(input) {
        Ok(m) => m.anomalies.is_empty() && m.has_magic_cookie,
        Err(_) => false,
    }
}
