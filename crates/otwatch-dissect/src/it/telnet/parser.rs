//! Telnet stream units: text runs, commands, negotiations, subnegotiations.

use crate::DecodeError;
use crate::reader::Reader;

use super::anomaly::Anomalies;
use super::types::{Command, TelnetOption, Unit};

/// Longest text run handed out as one unit.
pub const MAX_TEXT_RUN: usize = 1024;
/// Longest subnegotiation; a longer one is cut here and flagged.
pub const MAX_SUBNEGOTIATION_LEN: usize = 512;

const IAC: u8 = 255;

/// How many bytes the next unit takes. Text runs end before an IAC, after a
/// line end, at [`MAX_TEXT_RUN`] bytes or at the end of the input (a prompt
/// has no line end), so only a partial IAC sequence is `Incomplete`.
pub fn pdu_len(input: &[u8]) -> Result<usize, DecodeError> {
    frame(input).map(|(n, _)| n)
}

fn frame(input: &[u8]) -> Result<(usize, Anomalies), DecodeError> {
    let mut r = Reader::new(input);
    let first = r.u8()?;
    if first != IAC {
        let run = input.iter().take(MAX_TEXT_RUN).position(|&b| b == IAC || b == b'\n').map_or(
            input.len().min(MAX_TEXT_RUN),
            |i| {
                if input.get(i) == Some(&b'\n') { i.saturating_add(1) } else { i }
            },
        );
        return Ok((run, Anomalies::NONE));
    }
    let cmd = Command(r.u8()?);
    Ok(match cmd {
        Command::WILL | Command::WONT | Command::DO | Command::DONT => {
            r.u8()?;
            (3, Anomalies::NONE)
        }
        Command::SB => {
            // Find IAC SE, skipping IAC IAC.
            let body = r.rest();
            let mut i = 0usize;
            loop {
                if i >= MAX_SUBNEGOTIATION_LEN {
                    return Ok((
                        MAX_SUBNEGOTIATION_LEN.saturating_add(2),
                        Anomalies::LONG_SUBNEGOTIATION,
                    ));
                }
                match (body.get(i), body.get(i.saturating_add(1))) {
                    (Some(&IAC), Some(&240)) => break (i.saturating_add(4), Anomalies::NONE),
                    (Some(&IAC), Some(_)) => i = i.saturating_add(2),
                    (Some(_), _) if body.get(i) != Some(&IAC) => i = i.saturating_add(1),
                    _ => return Err(DecodeError::incomplete(0)),
                }
            }
        }
        Command::SE => (2, Anomalies::UNEXPECTED_SE),
        Command(c) if c < 240 => (2, Anomalies::INVALID_COMMAND),
        _ => (2, Anomalies::NONE),
    })
}

/// Decodes the next unit; returns the bytes after it, the unit and its
/// anomalies. Never `Malformed`: every byte is part of some unit.
pub fn parse(input: &[u8]) -> Result<(&[u8], Unit<'_>, Anomalies), DecodeError> {
    let (n, an) = frame(input)?;
    let mut r = Reader::new(input);
    let mut unit = r.sub(n)?;
    let rest = r.rest();
    let first = unit.u8()?;
    if first != IAC {
        return Ok((rest, Unit::Text(input.get(..n).unwrap_or(&[])), an));
    }
    let cmd = Command(unit.u8()?);
    let u = match cmd {
        Command::IAC => Unit::Text(input.get(1..2).unwrap_or(&[])),
        Command::WILL | Command::WONT | Command::DO | Command::DONT => {
            Unit::Negotiation { verb: cmd, option: TelnetOption(unit.u8()?) }
        }
        Command::SB => {
            let option = TelnetOption(unit.u8().unwrap_or(0));
            let data = unit.rest();
            let data = if an.contains(Anomalies::LONG_SUBNEGOTIATION) {
                data
            } else {
                data.get(..data.len().saturating_sub(2)).unwrap_or(&[])
            };
            Unit::Subnegotiation { option, data }
        }
        c => Unit::Command(c),
    };
    Ok((rest, u, an))
}
