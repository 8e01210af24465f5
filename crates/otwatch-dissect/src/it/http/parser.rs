//! HTTP/1.x head decoding and message framing.

use crate::DecodeError;
use crate::it::{line_end, trim_eol};

use super::anomaly::Anomalies;
use super::types::{BodyLength, Head, Header, Method, StartLine, Version};

/// Longest head (start line, fields, empty line) that can be framed.
pub const MAX_HEAD_LEN: usize = 16 * 1024;
/// Header lines longer than this are flagged.
pub const MAX_HEADER_LINE_LEN: usize = 4096;
/// Header fields kept at most.
pub const MAX_HEADERS: usize = 64;
/// Longest chunk-size line in a chunked body.
pub const MAX_CHUNK_LINE_LEN: usize = 1024;
/// Longest start line looked at by [`super::probe`].
pub(crate) const MAX_START_LINE_LEN: usize = 8192;
/// Longest method token.
const MAX_METHOD_LEN: usize = 16;

/// How many bytes the head at the start of `input` takes, including the
/// empty line. `Incomplete` until the empty line arrives; `Malformed` if
/// the first line is not a request or status line, or the head is longer
/// than [`MAX_HEAD_LEN`].
pub fn head_len(input: &[u8]) -> Result<usize, DecodeError> {
    let Some(first) = line_end(input, MAX_HEAD_LEN) else {
        return if input.len() >= MAX_HEAD_LEN {
            Err(DecodeError::Malformed("http: head too long"))
        } else if plausible_prefix(input) {
            Err(DecodeError::incomplete(0))
        } else {
            Err(DecodeError::Malformed("http: not a request or status line"))
        };
    };
    let (line, _) = trim_eol(input.get(..first).unwrap_or(&[]));
    if start_line(line).is_none() {
        return Err(DecodeError::Malformed("http: not a request or status line"));
    }
    let mut pos = first;
    loop {
        let rest = input.get(pos..).unwrap_or(&[]);
        let budget = MAX_HEAD_LEN.saturating_sub(pos);
        let Some(n) = line_end(rest, budget) else {
            return if input.len() >= MAX_HEAD_LEN {
                Err(DecodeError::Malformed("http: head too long"))
            } else {
                Err(DecodeError::incomplete(0))
            };
        };
        pos = pos.saturating_add(n);
        let (line, _) = trim_eol(rest.get(..n).unwrap_or(&[]));
        if line.is_empty() {
            return Ok(pos);
        }
    }
}

/// Whether the bytes so far could still begin a request or status line.
fn plausible_prefix(input: &[u8]) -> bool {
    match input.iter().position(|&b| b == b' ') {
        // No space yet: a method or "HTTP/" still being received.
        None => input.len() <= MAX_METHOD_LEN && input.iter().all(|&b| is_tchar(b) || b == b'/'),
        Some(i) => {
            let word = input.get(..i).unwrap_or(&[]);
            (word.len() <= MAX_METHOD_LEN && is_token(word)) || word.starts_with(b"HTTP/")
        }
    }
}

/// How many bytes the next message takes: head plus body when the body
/// length is known from the head (Content-Length, or a chunked body that is
/// all there). A response delimited by connection close counts its head
/// only. `Incomplete` while a chunked body is still arriving.
pub fn pdu_len(input: &[u8]) -> Result<usize, DecodeError> {
    let (_, head) = parse(input)?;
    let body = match head.body {
        BodyLength::None | BodyLength::UntilClose => 0,
        BodyLength::ContentLength(n) => {
            usize::try_from(n).map_err(|_| DecodeError::Malformed("http: body too long"))?
        }
        BodyLength::Chunked => chunked_len(input.get(head.head_len..).unwrap_or(&[]))?,
    };
    head.head_len.checked_add(body).ok_or(DecodeError::Malformed("http: body too long"))
}

/// Length of a chunked body (chunks, last chunk, trailer fields, empty line).
fn chunked_len(body: &[u8]) -> Result<usize, DecodeError> {
    let mut pos = 0usize;
    // Every round consumes at least three bytes, so this ends.
    loop {
        let rest = body.get(pos..).unwrap_or(&[]);
        let Some(n) = line_end(rest, MAX_CHUNK_LINE_LEN) else {
            return if rest.len() >= MAX_CHUNK_LINE_LEN {
                Err(DecodeError::Malformed("http: chunk size line too long"))
            } else {
                Err(DecodeError::incomplete(0))
            };
        };
        let (line, _) = trim_eol(rest.get(..n).unwrap_or(&[]));
        let size_text = line.split(|&b| b == b';').next().unwrap_or(&[]);
        let size =
            parse_hex(trim_ows(size_text)).ok_or(DecodeError::Malformed("http: bad chunk size"))?;
        pos = pos.saturating_add(n);
        if size == 0 {
            // Trailer fields, then the empty line.
            loop {
                let rest = body.get(pos..).unwrap_or(&[]);
                let Some(n) = line_end(rest, MAX_HEADER_LINE_LEN) else {
                    return if rest.len() >= MAX_HEADER_LINE_LEN {
                        Err(DecodeError::Malformed("http: trailer line too long"))
                    } else {
                        Err(DecodeError::incomplete(0))
                    };
                };
                pos = pos.saturating_add(n);
                if trim_eol(rest.get(..n).unwrap_or(&[])).0.is_empty() {
                    return Ok(pos);
                }
            }
        }
        let data_end =
            pos.checked_add(size).ok_or(DecodeError::Malformed("http: bad chunk size"))?;
        let rest = body.get(data_end..).ok_or(DecodeError::incomplete(0))?;
        let eol = match rest {
            [b'\r', b'\n', ..] => 2,
            [b'\n', ..] => 1,
            [] | [b'\r'] => return Err(DecodeError::incomplete(0)),
            _ => return Err(DecodeError::Malformed("http: chunk without line end")),
        };
        pos = data_end.saturating_add(eol);
    }
}

fn parse_hex(s: &[u8]) -> Option<usize> {
    if s.is_empty() || s.len() > 15 {
        return None;
    }
    s.iter().try_fold(0usize, |acc, &b| {
        let d = char::from(b).to_digit(16)?;
        acc.checked_mul(16)?.checked_add(usize::try_from(d).ok()?)
    })
}

/// Decodes the head at the start of `input`; returns the bytes after the
/// head (the body, if any, comes first) and the head.
pub fn parse(input: &[u8]) -> Result<(&[u8], Head<'_>), DecodeError> {
    let len = head_len(input)?;
    let head_bytes = input.get(..len).ok_or(DecodeError::incomplete(0))?;
    let first = line_end(head_bytes, len).ok_or(DecodeError::Malformed("http: no start line"))?;
    let (line, bare) = trim_eol(head_bytes.get(..first).unwrap_or(&[]));
    let (start, mut an) =
        start_line(line).ok_or(DecodeError::Malformed("http: not a request or status line"))?;
    if bare {
        an |= Anomalies::BARE_LF;
    }
    let mut head = Head {
        start,
        headers: Vec::new(),
        host: None,
        user_agent: None,
        server: None,
        authorization_scheme: None,
        content_length: None,
        body: BodyLength::None,
        head_len: len,
        anomalies: an,
    };
    let mut transfer_encoding: Option<&[u8]> = None;
    let mut saw_content_length = false;
    let mut pos = first;
    while let Some(n) = line_end(head_bytes.get(pos..).unwrap_or(&[]), len) {
        let raw = head_bytes.get(pos..pos.saturating_add(n)).unwrap_or(&[]);
        pos = pos.saturating_add(n);
        let (line, bare) = trim_eol(raw);
        if bare {
            head.anomalies |= Anomalies::BARE_LF;
        }
        if line.is_empty() {
            break;
        }
        if line.len() > MAX_HEADER_LINE_LEN {
            head.anomalies |= Anomalies::LONG_HEADER;
        }
        if line.iter().any(|&b| b != b'\t' && (b < 0x20 || b == 0x7F)) {
            head.anomalies |= Anomalies::CONTROL_CHARACTERS;
        }
        if matches!(line.first(), Some(b' ' | b'\t')) {
            head.anomalies |= Anomalies::OBSOLETE_LINE_FOLDING;
            continue;
        }
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            head.anomalies |= Anomalies::INVALID_HEADER;
            continue;
        };
        let name = line.get(..colon).unwrap_or(&[]);
        if !is_token(name) {
            head.anomalies |= Anomalies::INVALID_HEADER;
            continue;
        }
        let mut value = trim_ows(line.get(colon.saturating_add(1)..).unwrap_or(&[]));
        match name.to_ascii_lowercase().as_slice() {
            b"host" => {
                if head.host.is_some() {
                    head.anomalies |= Anomalies::DUPLICATE_HOST;
                }
                head.host = Some(value);
            }
            b"user-agent" => head.user_agent = Some(value),
            b"server" => head.server = Some(value),
            b"authorization" | b"proxy-authorization" => {
                // Keep the scheme only; the credentials never leave here.
                value = value.split(|&b| b == b' ').next().unwrap_or(&[]);
                if name.eq_ignore_ascii_case(b"authorization") {
                    head.authorization_scheme = Some(value);
                }
            }
            b"content-length" => {
                saw_content_length = true;
                let parsed = parse_decimal(value);
                match (parsed, head.content_length) {
                    (None, _) => head.anomalies |= Anomalies::INVALID_CONTENT_LENGTH,
                    (Some(a), Some(b)) if a != b => {
                        head.anomalies |= Anomalies::INVALID_CONTENT_LENGTH;
                    }
                    (Some(a), _) => head.content_length = Some(a),
                }
            }
            b"transfer-encoding" => transfer_encoding = Some(value),
            _ => {}
        }
        if head.headers.len() < MAX_HEADERS {
            head.headers.push(Header { name, value });
        } else {
            head.anomalies |= Anomalies::TOO_MANY_HEADERS;
        }
    }
    if saw_content_length && transfer_encoding.is_some() {
        head.anomalies |= Anomalies::CONTENT_LENGTH_WITH_TRANSFER_ENCODING;
    }
    head.body = body_length(&head, transfer_encoding);
    if let StartLine::Request { version, .. } = head.start
        && version == (Version { major: 1, minor: 1 })
        && head.host.is_none()
    {
        head.anomalies |= Anomalies::MISSING_HOST;
    }
    let rest = input.get(len..).unwrap_or(&[]);
    Ok((rest, head))
}

/// Decides how the body is delimited (RFC 9112 6.3).
fn body_length(head: &Head<'_>, transfer_encoding: Option<&[u8]>) -> BodyLength {
    let status = head.status();
    if status.is_some_and(|s| (100..200).contains(&s) || s == 204 || s == 304) {
        return BodyLength::None;
    }
    if let Some(te) = transfer_encoding {
        let last = te.rsplit(|&b| b == b',').next().map(trim_ows).unwrap_or(&[]);
        if last.eq_ignore_ascii_case(b"chunked") {
            return BodyLength::Chunked;
        }
        return if head.is_request() { BodyLength::None } else { BodyLength::UntilClose };
    }
    match head.content_length {
        Some(n) => BodyLength::ContentLength(n),
        None if head.is_request() => BodyLength::None,
        None => BodyLength::UntilClose,
    }
}

/// Decodes a start line (without its line end) and its anomalies.
pub(crate) fn start_line(line: &[u8]) -> Option<(StartLine<'_>, Anomalies)> {
    let mut an = Anomalies::NONE;
    if line.starts_with(b"HTTP/") {
        let mut parts = line.splitn(3, |&b| b == b' ');
        let version = version(parts.next()?)?;
        let code = parts.next()?;
        let reason = parts.next().unwrap_or(&[]);
        if code.len() != 3 {
            return None;
        }
        let status = u16::try_from(parse_decimal(code)?).ok()?;
        if !(100..=599).contains(&status) {
            an |= Anomalies::INVALID_STATUS;
        }
        if !version.is_1x() {
            an |= Anomalies::INVALID_VERSION;
        }
        return Some((StartLine::Response { version, status, reason }, an));
    }
    let mut parts = line.split(|&b| b == b' ');
    let method = parts.next()?;
    let target = parts.next()?;
    let version = version(parts.next()?)?;
    if parts.next().is_some() || target.is_empty() {
        return None;
    }
    if method.len() > MAX_METHOD_LEN || !is_token(method) {
        return None;
    }
    let method = Method(method);
    if !method.is_registered() {
        an |= Anomalies::UNKNOWN_METHOD;
    }
    if !version.is_1x() {
        an |= Anomalies::INVALID_VERSION;
    }
    if target.len() > MAX_HEADER_LINE_LEN {
        an |= Anomalies::LONG_TARGET;
    }
    if target.iter().any(|&b| b < 0x20 || b == 0x7F) {
        an |= Anomalies::CONTROL_CHARACTERS;
    }
    Some((StartLine::Request { method, target, version }, an))
}

/// `HTTP/d.d`.
fn version(s: &[u8]) -> Option<Version> {
    match s {
        [b'H', b'T', b'T', b'P', b'/', major, b'.', minor]
            if major.is_ascii_digit() && minor.is_ascii_digit() =>
        {
            Some(Version { major: major.wrapping_sub(b'0'), minor: minor.wrapping_sub(b'0') })
        }
        _ => None,
    }
}

fn parse_decimal(s: &[u8]) -> Option<u64> {
    if s.is_empty() || s.len() > 19 {
        return None;
    }
    s.iter().try_fold(0u64, |acc, &b| {
        if !b.is_ascii_digit() {
            return None;
        }
        acc.checked_mul(10)?.checked_add(u64::from(b.wrapping_sub(b'0')))
    })
}

fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn is_token(s: &[u8]) -> bool {
    !s.is_empty() && s.iter().all(|&b| is_tchar(b))
}

/// Strips optional white space (SP, HTAB) on both sides.
fn trim_ows(s: &[u8]) -> &[u8] {
    let start = s.iter().position(|&b| b != b' ' && b != b'\t').unwrap_or(s.len());
    let end =
        s.iter().rposition(|&b| b != b' ' && b != b'\t').map_or(start, |i| i.saturating_add(1));
    s.get(start..end).unwrap_or(&[])
}
