//! HTTP message head and wire types: what [`super::parse`] returns.

use super::anomaly::Anomalies;

/// A request method, as sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Method<'a>(pub &'a [u8]);

impl Method<'_> {
    /// Whether the method is registered (RFC 9110 and the common WebDAV ones).
    pub fn is_registered(&self) -> bool {
        matches!(
            self.0,
            b"GET"
                | b"HEAD"
                | b"POST"
                | b"PUT"
                | b"DELETE"
                | b"CONNECT"
                | b"OPTIONS"
                | b"TRACE"
                | b"PATCH"
                | b"PROPFIND"
                | b"PROPPATCH"
                | b"MKCOL"
                | b"COPY"
                | b"MOVE"
                | b"LOCK"
                | b"UNLOCK"
                | b"SEARCH"
                | b"REPORT"
        )
    }

    /// Whether the method changes state on the server.
    pub fn is_write(&self) -> bool {
        matches!(self.0, b"POST" | b"PUT" | b"DELETE" | b"PATCH" | b"PROPPATCH" | b"MKCOL")
    }

    /// The method as text.
    pub fn as_str(&self) -> Option<&str> {
        std::str::from_utf8(self.0).ok()
    }
}

/// An HTTP version `HTTP/major.minor`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Version {
    /// Major digit.
    pub major: u8,
    /// Minor digit.
    pub minor: u8,
}

impl Version {
    /// Whether this is HTTP/1.0 or HTTP/1.1.
    pub fn is_1x(self) -> bool {
        self.major == 1 && self.minor <= 1
    }
}

/// The first line of a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StartLine<'a> {
    /// A request line.
    Request {
        /// The method.
        method: Method<'a>,
        /// The request target (path and query, or absolute URI).
        target: &'a [u8],
        /// The version.
        version: Version,
    },
    /// A status line.
    Response {
        /// The version.
        version: Version,
        /// The status code.
        status: u16,
        /// The reason phrase.
        reason: &'a [u8],
    },
}

/// One header field. For `Authorization` and `Proxy-Authorization` the
/// value holds only the scheme (e.g. `Basic`), never the credentials.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header<'a> {
    /// The field name as sent.
    pub name: &'a [u8],
    /// The value, without surrounding white space.
    pub value: &'a [u8],
}

/// How the body after the head is delimited (RFC 9112 6.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyLength {
    /// No body (a request without Content-Length or Transfer-Encoding,
    /// or a 1xx/204/304 response).
    None,
    /// Exactly this many bytes.
    ContentLength(u64),
    /// Chunked transfer coding.
    Chunked,
    /// Until the connection closes (a response without a length).
    UntilClose,
}

/// A message head: start line and header fields.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Head<'a> {
    /// The start line.
    pub start: StartLine<'a>,
    /// The header fields (at most [`super::MAX_HEADERS`]).
    pub headers: Vec<Header<'a>>,
    /// The Host field.
    pub host: Option<&'a [u8]>,
    /// The User-Agent field.
    pub user_agent: Option<&'a [u8]>,
    /// The Server field (responses).
    pub server: Option<&'a [u8]>,
    /// The scheme of the Authorization field (e.g. `Basic`, `Bearer`).
    pub authorization_scheme: Option<&'a [u8]>,
    /// The Content-Length, when valid.
    pub content_length: Option<u64>,
    /// How the body is delimited.
    pub body: BodyLength,
    /// Bytes of the head, including the empty line.
    pub head_len: usize,
    /// What is wrong with it.
    pub anomalies: Anomalies,
}

impl Head<'_> {
    /// Whether this is a request.
    pub fn is_request(&self) -> bool {
        matches!(self.start, StartLine::Request { .. })
    }

    /// The status code, for responses.
    pub fn status(&self) -> Option<u16> {
        match self.start {
            StartLine::Response { status, .. } => Some(status),
            StartLine::Request { .. } => None,
        }
    }
}
