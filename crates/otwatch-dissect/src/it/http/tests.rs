//! HTTP dissector tests: heads written out as on the wire (RFC 9112).

use rstest::rstest;

use super::*;
use crate::DecodeError;

fn check(bytes: &[u8]) -> Head<'_> {
    let (_, head) = parse(bytes).expect("parses");
    head
}

#[test]
fn decodes_a_request_head() {
    let bytes = b"POST /api/plc/write?tag=7 HTTP/1.1\r\n\
        Host: 10.0.0.5:8080\r\n\
        User-Agent: curl/8.5.0\r\n\
        Authorization: Basic YWRtaW46c2VjcmV0\r\n\
        Content-Length: 4\r\n\
        \r\n\
        abcdNEXT";
    let (rest, h) = parse(bytes).unwrap();
    assert_eq!(rest, b"abcdNEXT");
    assert_eq!(h.anomalies, Anomalies::NONE);
    let StartLine::Request { method, target, version } = h.start else { panic!("not a request") };
    assert_eq!(method.as_str(), Some("POST"));
    assert!(method.is_write());
    assert_eq!(target, b"/api/plc/write?tag=7");
    assert_eq!(version, Version { major: 1, minor: 1 });
    assert_eq!(h.host, Some(&b"10.0.0.5:8080"[..]));
    assert_eq!(h.user_agent, Some(&b"curl/8.5.0"[..]));
    assert_eq!(h.authorization_scheme, Some(&b"Basic"[..]));
    assert_eq!(h.content_length, Some(4));
    assert_eq!(h.body, BodyLength::ContentLength(4));
    assert_eq!(h.headers.len(), 4);
    // The credentials are not kept anywhere in the head.
    assert!(h.headers.iter().all(|f| !f.value.windows(4).any(|w| w == b"YWRt")));
    assert_eq!(pdu_len(bytes), Ok(bytes.len() - 4));
    assert!(probe(bytes));
}

#[test]
fn decodes_a_response_head() {
    let bytes = b"HTTP/1.1 401 Unauthorized\r\nServer: Boa/0.94.14rc21\r\n\
        WWW-Authenticate: Basic realm=\"PLC\"\r\n\r\n";
    let h = check(bytes);
    assert_eq!(h.anomalies, Anomalies::NONE);
    assert_eq!(h.status(), Some(401));
    assert_eq!(h.server, Some(&b"Boa/0.94.14rc21"[..]));
    assert_eq!(h.body, BodyLength::UntilClose);
    assert_eq!(pdu_len(bytes), Ok(bytes.len()));
    assert!(probe(bytes));
}

#[rstest]
#[case::get_without_body(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n", BodyLength::None)]
#[case::no_content(b"HTTP/1.1 204 No Content\r\n\r\n", BodyLength::None)]
#[case::not_modified(b"HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n", BodyLength::None)]
#[case::chunked(
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
    BodyLength::Chunked
)]
#[case::close(b"HTTP/1.0 200 OK\r\n\r\n", BodyLength::UntilClose)]
fn decides_the_body_length(#[case] bytes: &[u8], #[case] body: BodyLength) {
    assert_eq!(check(bytes).body, body);
}

#[test]
fn frames_a_chunked_body() {
    let head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    let body = b"4;ext=1\r\nWiki\r\n5\r\npedia\r\n0\r\nExpires: never\r\n\r\n";
    let mut bytes = head.to_vec();
    bytes.extend_from_slice(body);
    assert_eq!(pdu_len(&bytes), Ok(head.len() + body.len()));
    bytes.extend_from_slice(b"HTTP/1.1 200 OK\r\n");
    assert_eq!(pdu_len(&bytes), Ok(head.len() + body.len()));
    // Cut anywhere inside the body: incomplete.
    for cut in head.len()..head.len() + body.len() {
        assert_eq!(pdu_len(&bytes[..cut]), Err(DecodeError::incomplete(0)), "cut at {cut}");
    }
    let bad = [&head[..], b"zz\r\n"].concat();
    assert_eq!(pdu_len(&bad), Err(DecodeError::Malformed("http: bad chunk size")));
}

#[rstest]
#[case::partial_method(b"GE", Err(DecodeError::incomplete(0)))]
#[case::partial_head(b"GET / HTTP/1.1\r\nHost: a\r\n", Err(DecodeError::incomplete(0)))]
#[case::partial_body(b"PUT /x HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n12345", Ok(58))]
#[case::binary(
    b"\x16\x03\x01\x02\x00",
    Err(DecodeError::Malformed("http: not a request or status line"))
)]
#[case::not_http(
    b"USER anonymous\r\n",
    Err(DecodeError::Malformed("http: not a request or status line"))
)]
fn frames_messages(#[case] input: &[u8], #[case] expected: Result<usize, DecodeError>) {
    assert_eq!(pdu_len(input), expected);
}

#[test]
fn refuses_heads_over_the_limit() {
    let mut bytes = b"GET / HTTP/1.1\r\nX-Big: ".to_vec();
    bytes.resize(MAX_HEAD_LEN + 10, b'a');
    assert_eq!(head_len(&bytes), Err(DecodeError::Malformed("http: head too long")));
}

#[rstest]
#[case::long_header(format!("GET / HTTP/1.1\r\nHost: a\r\nX-A: {}\r\n\r\n", "a".repeat(5000)),
    Anomalies::LONG_HEADER)]
#[case::no_colon("GET / HTTP/1.1\r\nHost: a\r\nNoColonHere\r\n\r\n".to_string(),
    Anomalies::INVALID_HEADER)]
#[case::space_before_colon("GET / HTTP/1.1\r\nHost : a\r\n\r\n".to_string(),
    Anomalies::INVALID_HEADER | Anomalies::MISSING_HOST)]
#[case::bare_lf("GET / HTTP/1.1\nHost: a\n\n".to_string(), Anomalies::BARE_LF)]
#[case::unknown_method("BREW /pot HTTP/1.1\r\nHost: a\r\n\r\n".to_string(),
    Anomalies::UNKNOWN_METHOD)]
#[case::http_2_0("GET / HTTP/2.0\r\nHost: a\r\n\r\n".to_string(), Anomalies::INVALID_VERSION)]
#[case::bad_content_length("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1x\r\n\r\n".to_string(),
    Anomalies::INVALID_CONTENT_LENGTH)]
#[case::two_content_lengths(
    "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n".to_string(),
    Anomalies::INVALID_CONTENT_LENGTH)]
#[case::smuggling(
    "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
        .to_string(),
    Anomalies::CONTENT_LENGTH_WITH_TRANSFER_ENCODING)]
#[case::duplicate_host("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n".to_string(),
    Anomalies::DUPLICATE_HOST)]
#[case::missing_host("GET / HTTP/1.1\r\nAccept: */*\r\n\r\n".to_string(), Anomalies::MISSING_HOST)]
#[case::http_1_0_needs_no_host("GET / HTTP/1.0\r\n\r\n".to_string(), Anomalies::NONE)]
#[case::folding("GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n  c\r\n\r\n".to_string(),
    Anomalies::OBSOLETE_LINE_FOLDING)]
#[case::nul("GET / HTTP/1.1\r\nHost: a\x00b\r\n\r\n".to_string(), Anomalies::CONTROL_CHARACTERS)]
#[case::status_999("HTTP/1.1 999 Odd\r\n\r\n".to_string(), Anomalies::INVALID_STATUS)]
#[case::long_target(format!("GET /{} HTTP/1.1\r\nHost: a\r\n\r\n", "a".repeat(5000)),
    Anomalies::LONG_TARGET)]
fn flags_anomalies(#[case] text: String, #[case] anomalies: Anomalies) {
    let h = check(text.as_bytes());
    assert_eq!(h.anomalies, anomalies, "got {}", h.anomalies);
}

#[test]
fn keeps_at_most_max_headers() {
    let mut text = "GET / HTTP/1.1\r\nHost: a\r\n".to_string();
    for i in 0..MAX_HEADERS + 5 {
        text.push_str(&format!("X-{i}: v\r\n"));
    }
    text.push_str("\r\n");
    let h = check(text.as_bytes());
    assert_eq!(h.headers.len(), MAX_HEADERS);
    assert_eq!(h.anomalies, Anomalies::TOO_MANY_HEADERS);
}

#[rstest]
#[case::get(b"GET /index.html HTTP/1.1\r\n", true)]
#[case::status(b"HTTP/1.0 200 OK\r\n", true)]
#[case::no_line_end_yet(b"GET /index.html HTTP/1.1", false)]
#[case::unknown_method(b"FOO / HTTP/1.1\r\n", false)]
#[case::http_09(b"GET /\r\n", false)]
#[case::rtsp(b"OPTIONS * RTSP/1.0\r\n", false)]
#[case::modbus(&[0, 1, 0, 0, 0, 6, 1, 3, 0, 0, 0, 1], false)]
fn probe_is_strict(#[case] input: &[u8], #[case] expected: bool) {
    assert_eq!(probe(input), expected);
}

#[test]
fn never_panics_on_truncations_and_noise() {
    let base =
        b"POST /a HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n";
    for n in 0..=base.len() {
        let _ = (pdu_len(&base[..n]), parse(&base[..n]).map(|(_, h)| h.headers.len()));
    }
    let mut x: u32 = 5;
    for _ in 0..3000 {
        let mut v = base.to_vec();
        for b in v.iter_mut() {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            if x >> 28 == 0 {
                *b = (x >> 16) as u8;
            }
        }
        let _ = (pdu_len(&v), parse(&v).map(|(_, h)| h.anomalies.to_string()), probe(&v));
    }
}
