//! HTTP/1.x dissector: request and status lines and header fields, for
//! client inventory (User-Agent, Host, Server) and abnormal requests.
//!
//! Specifications: RFC 9112 sections 2 (message format), 3 (request line),
//! 4 (status line), 5 (field syntax; obsolete line folding in 5.2), 6
//! (message body length: Content-Length, chunked transfer coding 7.1);
//! RFC 9110 sections 9 (methods), 11.6.2 (Authorization: only the scheme is
//! kept, never the credentials). Bodies are framed but not decoded; HTTP/2
//! and TLS are out of scope. Heads longer than [`MAX_HEAD_LEN`] cannot be
//! framed and are `Malformed`.

mod anomaly;
mod parser;
mod types;

#[cfg(test)]
mod tests;

pub use anomaly::Anomalies;
pub use parser::{
    MAX_CHUNK_LINE_LEN, MAX_HEAD_LEN, MAX_HEADER_LINE_LEN, MAX_HEADERS, head_len, parse, pdu_len,
};
pub use types::{BodyLength, Head, Header, Method, StartLine, Version};

/// The registered HTTP port.
pub const PORT: u16 = 80;

/// Whether `input` starts with an HTTP/1.x request line with a registered
/// method, or an HTTP/1.x status line (only the first line is looked at).
pub fn probe(input: &[u8]) -> bool {
    let Some(end) = crate::it::line_end(input, parser::MAX_START_LINE_LEN) else {
        return false;
    };
    let (line, _) = crate::it::trim_eol(input.get(..end).unwrap_or(&[]));
    match parser::start_line(line) {
        Some((StartLine::Request { method, version, .. }, an)) => {
            method.is_registered() && version.is_1x() && an.is_empty()
        }
        Some((StartLine::Response { version, .. }, an)) => version.is_1x() && an.is_empty(),
        None => false,
    }
}
