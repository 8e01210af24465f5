//! FTP dissector tests: control-connection lines as in RFC 959.

use rstest::rstest;

use super::*;
use crate::DecodeError;

fn check(bytes: &[u8]) -> (Message<'_>, Anomalies) {
    let (rest, m, an) = parse(bytes).expect("parses");
    assert!(rest.is_empty(), "left over: {rest:?}");
    (m, an)
}

#[rstest]
#[case::user(b"USER operator\r\n", "USER", Some(&b"operator"[..]), false)]
#[case::lowercase(b"user operator\r\n", "USER", Some(&b"operator"[..]), false)]
#[case::pass_is_not_kept(b"PASS s3cret!\r\n", "PASS", None, true)]
#[case::stor(b"STOR firmware.bin\r\n", "STOR", Some(&b"firmware.bin"[..]), false)]
#[case::no_argument(b"PWD\r\n", "PWD", None, false)]
fn decodes_commands(
    #[case] bytes: &[u8],
    #[case] verb: &str,
    #[case] argument: Option<&[u8]>,
    #[case] password_sent: bool,
) {
    let (m, an) = check(bytes);
    assert_eq!(an, Anomalies::NONE);
    let Message::Command(c) = m else { panic!("not a command: {m:?}") };
    assert!(c.is(verb));
    assert_eq!(c.argument, argument);
    assert_eq!(c.password_sent, password_sent);
    if password_sent {
        assert_eq!(c.to_string(), "PASS ****");
    }
}

#[rstest]
#[case::greeting(b"220 Device FTP server ready\r\n", 220, &b"Device FTP server ready"[..], 1)]
#[case::logged_in(b"230 User logged in\r\n", 230, &b"User logged in"[..], 1)]
#[case::multiline(b"230-Welcome\r\n Line two\r\n230 Done\r\n", 230, &b"Welcome"[..], 3)]
#[case::code_only(b"200\r\n", 200, &b""[..], 1)]
fn decodes_replies(
    #[case] bytes: &[u8],
    #[case] code: u16,
    #[case] text: &[u8],
    #[case] lines: usize,
) {
    let (m, an) = check(bytes);
    assert_eq!(an, Anomalies::NONE);
    assert_eq!(m, Message::Reply(Reply { code, text, lines }));
}

#[rstest]
#[case::bare_lf(b"USER a\n".to_vec(), Anomalies::BARE_LF)]
#[case::unknown_command(b"XYZZY now\r\n".to_vec(), Anomalies::UNKNOWN_COMMAND)]
#[case::bad_reply_code(b"999 odd\r\n".to_vec(), Anomalies::INVALID_REPLY_CODE)]
#[case::control_chars(b"CWD a\x00b\r\n".to_vec(), Anomalies::CONTROL_CHARACTERS)]
#[case::too_long([b"USER ".to_vec(), vec![b'A'; MAX_LINE_LEN]].concat(), Anomalies::LINE_TOO_LONG)]
fn flags_anomalies(#[case] bytes: Vec<u8>, #[case] anomalies: Anomalies) {
    let (_, _, an) = parse(&bytes).unwrap();
    assert_eq!(an, anomalies);
}

#[test]
fn cuts_endless_multiline_replies() {
    let mut bytes = b"211-Features\r\n".to_vec();
    for _ in 0..MAX_REPLY_LINES + 5 {
        bytes.extend_from_slice(b" MDTM\r\n");
    }
    let (rest, m, an) = parse(&bytes).unwrap();
    assert_eq!(an, Anomalies::TOO_MANY_REPLY_LINES);
    let Message::Reply(r) = m else { panic!("not a reply") };
    assert_eq!(r.lines, MAX_REPLY_LINES);
    assert_eq!(rest.len(), 6 * 7); // 69 continuation lines, 63 read
}

#[rstest]
#[case::empty(b"", Err(DecodeError::incomplete(0)))]
#[case::partial_line(b"USER adm", Err(DecodeError::incomplete(0)))]
#[case::partial_multiline(b"230-Hi\r\n more\r\n", Err(DecodeError::incomplete(0)))]
#[case::two_commands(b"USER a\r\nPASS b\r\n", Ok(8))]
#[case::endless_line(&[b'A'; MAX_LINE_LEN + 1], Ok(MAX_LINE_LEN))]
fn frames_lines_and_replies(#[case] input: &[u8], #[case] expected: Result<usize, DecodeError>) {
    assert_eq!(pdu_len(input), expected);
}

#[rstest]
#[case::binary(b"\x16\x03\x01\r\n")]
#[case::digits_then_text(b"12ab\r\n")]
fn rejects_lines_that_are_neither(#[case] input: &[u8]) {
    assert_eq!(parse(input), Err(DecodeError::Malformed("ftp: not a command or reply")));
}

#[rstest]
#[case::greeting(b"220 ProFTPD Server\r\n", true)]
#[case::user(b"USER anonymous\r\n", true)]
#[case::other_reply(b"331 Password required\r\n", false)]
#[case::http(b"GET / HTTP/1.1\r\n", false)]
#[case::smtp_ehlo(b"EHLO mail\r\n", false)]
#[case::partial(b"220 ProFTPD", false)]
fn probe_is_strict(#[case] input: &[u8], #[case] expected: bool) {
    assert_eq!(probe(input), expected);
}

/// A session: failed sign-in, then a successful one, then an upload.
#[test]
fn counts_sign_in_attempts_and_failures() {
    let stream: &[&[u8]] = &[
        b"220 ready\r\n",
        b"USER admin\r\n",
        b"331 Password required\r\n",
        b"PASS wrong\r\n",
        b"530 Login incorrect\r\n",
        b"USER admin\r\n",
        b"331 Password required\r\n",
        b"PASS right\r\n",
        b"230 Logged in\r\n",
        b"STOR plc.bin\r\n",
        b"530 stray\r\n",
    ];
    let mut logins = Logins::new();
    let mut events = Vec::new();
    for line in stream {
        let (m, _) = check(line);
        if let Some(e) = logins.observe(&m) {
            events.push(e);
        }
    }
    let user = Some("admin".to_string());
    assert_eq!(
        events,
        [
            LoginEvent { outcome: LoginOutcome::Attempt, user: user.clone() },
            LoginEvent { outcome: LoginOutcome::Failure, user: user.clone() },
            LoginEvent { outcome: LoginOutcome::Attempt, user: user.clone() },
            LoginEvent { outcome: LoginOutcome::Success, user },
        ]
    );
    assert_eq!((logins.attempts, logins.successes, logins.failures), (2, 1, 1));
    assert!(format!("{logins:?}").contains("admin"));
    assert!(!format!("{logins:?}").contains("right"));
}

#[test]
fn never_panics_on_noise() {
    let mut x: u32 = 3;
    for len in 0..200usize {
        let mut v = Vec::with_capacity(len);
        for _ in 0..len {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            let b = (x >> 16) as u8;
            v.push(if b.is_multiple_of(7) {
                b'\n'
            } else if b.is_multiple_of(5) {
                b'2'
            } else {
                b
            });
        }
        let mut rest = &v[..];
        for _ in 0..50 {
            match parse(rest) {
                Ok((r, _, _)) => rest = r,
                Err(_) => break,
            }
        }
    }
}
