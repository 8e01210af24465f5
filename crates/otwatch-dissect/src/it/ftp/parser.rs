//! FTP line framing and decoding of commands and replies.

use crate::DecodeError;
use crate::it::{line_end, trim_eol};

use super::anomaly::Anomalies;
use super::types::{Command, Message, Reply};

/// Longest line; a longer one is cut here and flagged.
pub const MAX_LINE_LEN: usize = 2048;
/// Lines of one multi-line reply at most; a longer reply is cut and flagged.
pub const MAX_REPLY_LINES: usize = 64;

/// How many bytes the next message takes: one command line, or a whole
/// (possibly multi-line) reply. Replies start with three digits, commands
/// never do. A line without an end within [`MAX_LINE_LEN`] bytes is framed
/// at that length (and flagged by [`parse`]).
pub fn pdu_len(input: &[u8]) -> Result<usize, DecodeError> {
    frame(input).map(|(n, _)| n)
}

/// Frames the next message; also reports a cut line or reply.
fn frame(input: &[u8]) -> Result<(usize, Anomalies), DecodeError> {
    let first = line(input)?;
    let Some(code) = reply_code(input) else {
        return Ok(first);
    };
    if input.get(3) != Some(&b'-') {
        return Ok(first);
    }
    // Multi-line reply: until a line that starts with the same code and a space.
    let (mut pos, mut an) = first;
    for _ in 1..MAX_REPLY_LINES {
        let rest = input.get(pos..).unwrap_or(&[]);
        let (n, a) = line(rest)?;
        an |= a;
        pos = pos.saturating_add(n);
        if reply_code(rest) == Some(code) && rest.get(3) == Some(&b' ') {
            return Ok((pos, an));
        }
    }
    Ok((pos, an | Anomalies::TOO_MANY_REPLY_LINES))
}

/// One line, or [`MAX_LINE_LEN`] bytes when it has no end that soon.
fn line(input: &[u8]) -> Result<(usize, Anomalies), DecodeError> {
    match line_end(input, MAX_LINE_LEN) {
        Some(n) => Ok((n, Anomalies::NONE)),
        None if input.len() >= MAX_LINE_LEN => Ok((MAX_LINE_LEN, Anomalies::LINE_TOO_LONG)),
        None => Err(DecodeError::incomplete(0)),
    }
}

/// The code of a reply line (`ddd` followed by space, `-` or the line end).
fn reply_code(line: &[u8]) -> Option<u16> {
    match line {
        [a, b, c, rest @ ..]
            if a.is_ascii_digit()
                && b.is_ascii_digit()
                && c.is_ascii_digit()
                && matches!(rest.first(), None | Some(b' ' | b'-' | b'\r' | b'\n')) =>
        {
            let d = |x: &u8| u16::from(x.wrapping_sub(b'0'));
            Some(
                d(a).saturating_mul(100)
                    .saturating_add(d(b).saturating_mul(10))
                    .saturating_add(d(c)),
            )
        }
        _ => None,
    }
}

/// Decodes the next message; returns the bytes after it, the message and
/// its anomalies. `Malformed` for a line that is neither a reply nor a
/// command (no verb).
pub fn parse(input: &[u8]) -> Result<(&[u8], Message<'_>, Anomalies), DecodeError> {
    let (n, mut an) = frame(input)?;
    let bytes = input.get(..n).ok_or(DecodeError::incomplete(0))?;
    let rest = input.get(n..).unwrap_or(&[]);
    let first_end = line_end(bytes, n).unwrap_or(n);
    let (first, bare) = trim_eol(bytes.get(..first_end).unwrap_or(&[]));
    if bare {
        an |= Anomalies::BARE_LF;
    }
    if let Some(code) = reply_code(bytes) {
        if !(100..600).contains(&code) {
            an |= Anomalies::INVALID_REPLY_CODE;
        }
        let text = first.get(4..).unwrap_or(&[]);
        let lines = bytes.iter().filter(|&&b| b == b'\n').count().max(1);
        return Ok((rest, Message::Reply(Reply { code, text, lines }), an));
    }
    let (verb, argument) = match first.iter().position(|&b| b == b' ') {
        Some(i) => (first.get(..i).unwrap_or(&[]), first.get(i.saturating_add(1)..)),
        None => (first, None),
    };
    if verb.is_empty() || verb.len() > 8 || !verb.iter().all(u8::is_ascii_alphabetic) {
        return Err(DecodeError::Malformed("ftp: not a command or reply"));
    }
    if first.iter().any(|&b| b != b'\t' && (b < 0x20 || b == 0x7F)) {
        an |= Anomalies::CONTROL_CHARACTERS;
    }
    let password_sent = verb.eq_ignore_ascii_case(b"PASS");
    let argument = if password_sent { None } else { argument };
    let cmd = Command { verb, argument, password_sent };
    if !cmd.is_registered() {
        an |= Anomalies::UNKNOWN_COMMAND;
    }
    Ok((rest, Message::Command(cmd), an))
}
