//! Telnet dissector tests: streams written byte by byte from RFC 854/855.

use rstest::rstest;

use super::*;
use crate::{DecodeError, Direction};

fn units(mut bytes: &[u8]) -> Vec<(Unit<'_>, Anomalies)> {
    let mut out = Vec::new();
    while !bytes.is_empty() {
        let (rest, u, an) = parse(bytes).expect("parses");
        out.push((u, an));
        bytes = rest;
    }
    out
}

#[test]
fn splits_a_stream_into_units() {
    let bytes = [
        0xFF, 0xFD, 0x18, // IAC DO Terminal Type
        0xFF, 0xFB, 0x01, // IAC WILL Echo
        0xFF, 0xFA, 0x18, 0x00, b'V', b'T', 0xFF, 0xFF, 0xFF,
        0xF0, // SB TT IS "VT" 0xFF(esc) SE
        b'H', b'i', b'\r', b'\n', // a line
        b'l', b'o', b'g', b'i', b'n', b':', b' ', // a prompt without line end
        0xFF, 0xFF, // an escaped 0xFF data byte
        0xFF, 0xF1, // IAC NOP
    ];
    let got = units(&bytes);
    assert_eq!(
        got,
        [
            (
                Unit::Negotiation { verb: Command::DO, option: TelnetOption::TERMINAL_TYPE },
                Anomalies::NONE
            ),
            (
                Unit::Negotiation { verb: Command::WILL, option: TelnetOption::ECHO },
                Anomalies::NONE
            ),
            (
                Unit::Subnegotiation {
                    option: TelnetOption::TERMINAL_TYPE,
                    data: &[0x00, b'V', b'T', 0xFF, 0xFF]
                },
                Anomalies::NONE
            ),
            (Unit::Text(b"Hi\r\n"), Anomalies::NONE),
            (Unit::Text(b"login: "), Anomalies::NONE),
            (Unit::Text(&[0xFF]), Anomalies::NONE),
            (Unit::Command(Command(241)), Anomalies::NONE),
        ]
    );
}

#[rstest]
#[case::empty(&[], Err(DecodeError::incomplete(1)))]
#[case::lone_iac(&[0xFF], Err(DecodeError::incomplete(1)))]
#[case::negotiation_without_option(&[0xFF, 0xFD], Err(DecodeError::incomplete(1)))]
#[case::open_subnegotiation(&[0xFF, 0xFA, 0x18, 0x00, b'x'], Err(DecodeError::incomplete(0)))]
#[case::text_until_iac(&[b'a', b'b', 0xFF, 0xF1], Ok(2))]
#[case::text_until_lf(b"ab\ncd", Ok(3))]
#[case::text_to_end(b"Password: ", Ok(10))]
fn frames_units(#[case] input: &[u8], #[case] expected: Result<usize, DecodeError>) {
    assert_eq!(pdu_len(input), expected);
}

#[rstest]
#[case::invalid_command(&[0xFF, 0x10], Anomalies::INVALID_COMMAND)]
#[case::stray_se(&[0xFF, 0xF0], Anomalies::UNEXPECTED_SE)]
fn flags_anomalies(#[case] input: &[u8], #[case] anomalies: Anomalies) {
    let (_, _, an) = parse(input).unwrap();
    assert_eq!(an, anomalies);
}

#[test]
fn cuts_endless_subnegotiations() {
    let mut bytes = vec![0xFF, 0xFA, 0x18];
    bytes.resize(MAX_SUBNEGOTIATION_LEN + 100, b'x');
    let (rest, u, an) = parse(&bytes).unwrap();
    assert_eq!(an, Anomalies::LONG_SUBNEGOTIATION);
    assert!(matches!(u, Unit::Subnegotiation { .. }));
    assert_eq!(rest.len(), 98);
}

#[test]
fn long_text_is_cut_into_runs() {
    let bytes = vec![b'a'; MAX_TEXT_RUN * 2 + 5];
    assert_eq!(units(&bytes).len(), 3);
}

#[rstest]
#[case::negotiation(&[0xFF, 0xFD, 0x01, 0xFF, 0xFB, 0x03], true)]
#[case::negotiation_then_banner(&[0xFF, 0xFB, 0x01, b'W', b'e', b'l'], true)]
#[case::text_only(b"login: ", false)]
#[case::invalid_command(&[0xFF, 0x10], false)]
#[case::modbus(&[0, 1, 0, 0, 0, 6, 1, 3, 0, 0, 0, 1], false)]
fn probe_is_strict(#[case] input: &[u8], #[case] expected: bool) {
    assert_eq!(probe(input), expected);
}

const S: Direction = Direction::ToClient;
const C: Direction = Direction::ToServer;

/// Feeds (direction, bytes) through `parse` and `Logins`; returns the events.
fn session(steps: &[(Direction, &[u8])]) -> (Vec<LoginEvent>, Logins) {
    let mut logins = Logins::new();
    let mut events = Vec::new();
    for (dir, bytes) in steps {
        for (u, _) in units(bytes) {
            if let Some(e) = logins.observe(*dir, &u) {
                events.push(e);
            }
        }
    }
    (events, logins)
}

fn ev(outcome: LoginOutcome, user: &str) -> LoginEvent {
    LoginEvent { outcome, user: Some(user.to_string()) }
}

#[test]
fn counts_a_failed_then_a_successful_sign_in() {
    let (events, logins) = session(&[
        (S, &[0xFF, 0xFD, 0x18]), // IAC DO Terminal Type
        (S, b"\r\nrouter login: "),
        (C, b"r"), // typed one key at a time
        (C, b"oot\r"),
        (S, b"Password: "),
        (C, b"wrong\r\n"),
        (S, b"\r\nLogin incorrect\r\nrouter login: "),
        (C, b"root\r\n"),
        (S, b"Pass"), // prompt split across segments
        (S, b"word:"),
        (C, b"hunter2\r\n"),
        (S, b"\r\nLast login: Mon Jan  1 00:00:00 from 10.0.0.9\r\n# "),
    ]);
    assert_eq!(
        events,
        [
            ev(LoginOutcome::Attempt, "root"),
            ev(LoginOutcome::Failure, "root"),
            ev(LoginOutcome::Attempt, "root"),
            ev(LoginOutcome::Success, "root"),
        ]
    );
    assert_eq!((logins.attempts, logins.failures, logins.successes), (2, 1, 1));
    let debug = format!("{logins:?}");
    assert!(!debug.contains("hunter2") && !debug.contains("wrong"));
}

#[test]
fn a_new_login_prompt_after_a_password_is_a_failure() {
    let (events, _) = session(&[
        (S, b"Username: "),
        (C, b"admin\r\n"),
        (S, b"Password: "),
        (C, b"x\r\n"),
        (S, b"\r\nUsername: "),
    ]);
    assert_eq!(events, [ev(LoginOutcome::Attempt, "admin"), ev(LoginOutcome::Failure, "admin")]);
}

#[test]
fn a_shell_prompt_after_a_password_is_a_success() {
    let (events, _) = session(&[
        (S, b"login: "),
        (C, b"op\r\n"),
        (S, b"Password:"),
        (C, b"secret\r\n"),
        (S, b"\r\n$ "),
    ]);
    assert_eq!(events, [ev(LoginOutcome::Attempt, "op"), ev(LoginOutcome::Success, "op")]);
}

#[test]
fn never_panics_on_noise() {
    let mut x: u32 = 11;
    let mut logins = Logins::new();
    for len in 0..300usize {
        let mut v = Vec::with_capacity(len);
        for _ in 0..len {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            let b = (x >> 16) as u8;
            v.push(if b.is_multiple_of(3) { 0xFF } else { b });
        }
        let mut rest = &v[..];
        while let Ok((r, u, _)) = parse(rest) {
            assert!(r.len() < rest.len());
            let _ = logins.observe(if len % 2 == 0 { S } else { C }, &u);
            rest = r;
        }
    }
}
