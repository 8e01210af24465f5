//! DNS dissector tests: messages built field by field from RFC 1035.

use rstest::rstest;

use super::*;
use crate::DecodeError;

/// A standard query for www.example.com A, id 0x1234, RD set.
const QUERY: &[u8] = &[
    0x12, 0x34, // id
    0x01, 0x00, // flags: QR=0 opcode=0 RD=1
    0x00, 0x01, // qdcount 1
    0x00, 0x00, // ancount 0
    0x00, 0x00, // nscount 0
    0x00, 0x00, // arcount 0
    3, b'w', b'w', b'w', 7, b'e', b'x', b'a', b'm', b'p', b'l', b'e', 3, b'c', b'o', b'm',
    0, // name www.example.com (offset 12)
    0x00, 0x01, // qtype A
    0x00, 0x01, // qclass IN
];

/// The response: a CNAME to cdn.example.com (compressed), then an A and an
/// AAAA record for it.
const RESPONSE: &[u8] = &[
    0x12, 0x34, // id
    0x81, 0x80, // flags: QR=1 RD=1 RA=1 rcode 0
    0x00, 0x01, // qdcount 1
    0x00, 0x03, // ancount 3
    0x00, 0x00, // nscount 0
    0x00, 0x00, // arcount 0
    3, b'w', b'w', b'w', 7, b'e', b'x', b'a', b'm', b'p', b'l', b'e', 3, b'c', b'o', b'm',
    0, // question name (offset 12)
    0x00, 0x01, 0x00, 0x01, // A, IN
    // answer 1 (offset 33): www.example.com CNAME cdn.example.com
    0xC0, 0x0C, // name: pointer to offset 12
    0x00, 0x05, 0x00, 0x01, // CNAME, IN
    0x00, 0x00, 0x0E, 0x10, // TTL 3600
    0x00, 0x06, // rdlength 6
    3, b'c', b'd', b'n', 0xC0, 0x10, // "cdn" + pointer to "example.com" at offset 16
    // answer 2 (offset 51): cdn.example.com A 192.0.2.7
    0xC0, 0x2D, // name: pointer to offset 45 ("cdn...")
    0x00, 0x01, 0x00, 0x01, // A, IN
    0x00, 0x00, 0x00, 0x3C, // TTL 60
    0x00, 0x04, // rdlength 4
    192, 0, 2, 7, // address
    // answer 3: cdn.example.com AAAA 2001:db8::7
    0xC0, 0x2D, // name
    0x00, 0x1C, 0x00, 0x01, // AAAA, IN
    0x00, 0x00, 0x00, 0x3C, // TTL 60
    0x00, 0x10, // rdlength 16
    0x20, 0x01, 0x0D, 0xB8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x07,
];

fn check(bytes: &[u8]) -> Message<'_> {
    parse(bytes).expect("parses")
}

#[test]
fn decodes_a_query() {
    let m = check(QUERY);
    assert_eq!(m.anomalies, Anomalies::NONE);
    assert_eq!(m.header.id, 0x1234);
    assert!(!m.header.is_response());
    assert!(m.header.rd());
    assert_eq!(m.header.opcode(), Opcode::QUERY);
    assert_eq!(m.questions.len(), 1);
    assert_eq!(m.questions[0].name.to_string(), "www.example.com");
    assert_eq!(m.questions[0].qtype, RecordType::A);
    assert_eq!(m.questions[0].qclass, 1);
    assert!(m.answers.is_empty());
    assert!(probe(QUERY));
}

#[test]
fn decodes_a_compressed_response() {
    let m = check(RESPONSE);
    assert_eq!(m.anomalies, Anomalies::NONE);
    assert!(m.header.is_response() && m.header.ra());
    assert_eq!(m.header.rcode(), Rcode::NOERROR);
    let got: Vec<(String, Option<&str>, u32, String)> = m
        .answers
        .iter()
        .map(|a| {
            let data = match a.data {
                RData::A(ip) => std::net::Ipv4Addr::from(ip).to_string(),
                RData::Aaaa(ip) => std::net::Ipv6Addr::from(ip).to_string(),
                RData::Name(n) => n.to_string(),
                RData::Other => "other".to_string(),
            };
            (a.name.to_string(), a.rtype.name(), a.ttl, data)
        })
        .collect();
    assert_eq!(
        got,
        [
            ("www.example.com".to_string(), Some("CNAME"), 3600, "cdn.example.com".to_string()),
            ("cdn.example.com".to_string(), Some("A"), 60, "192.0.2.7".to_string()),
            ("cdn.example.com".to_string(), Some("AAAA"), 60, "2001:db8::7".to_string()),
        ]
    );
    assert!(probe(RESPONSE));
}

#[rstest]
#[case::noerror(0x8180, Some("NoError"))]
#[case::servfail(0x8182, Some("ServFail"))]
#[case::nxdomain(0x8183, Some("NXDomain"))]
#[case::refused(0x8185, Some("Refused"))]
#[case::unassigned(0x818F, None)]
fn reads_the_rcode(#[case] flags: u16, #[case] name: Option<&str>) {
    let mut bytes = QUERY.to_vec();
    bytes[2..4].copy_from_slice(&flags.to_be_bytes());
    let m = check(&bytes);
    assert_eq!(m.header.rcode().0, (flags & 0xF) as u8);
    assert_eq!(m.header.rcode().name(), name);
}

#[rstest]
// Header says 2 questions, one is there.
#[case::missing_question(&[0x00, 0x01, 0x01, 0x00, 0x00, 0x02, 0, 0, 0, 0, 0, 0,
    1, b'a', 0, 0x00, 0x01, 0x00, 0x01],
    Anomalies::TRUNCATED_MESSAGE | Anomalies::UNUSUAL_QUESTION_COUNT)]
// Name cut inside a label.
#[case::cut_label(&[0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 5, b'a', b'b'],
    Anomalies::TRUNCATED_MESSAGE)]
// A pointer to itself: a loop.
#[case::pointer_loop(&[0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0,
    0xC0, 0x0C, 0x00, 0x01, 0x00, 0x01], Anomalies::POINTER_LOOP)]
// Label type 0x40 (extended label, obsolete).
#[case::bad_label_type(&[0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0,
    0x41, 0x00, 0x00, 0x01, 0x00, 0x01], Anomalies::BAD_LABEL_TYPE)]
// Z bit set.
#[case::z_bit(&[0x00, 0x01, 0x01, 0x40, 0x00, 0x01, 0, 0, 0, 0, 0, 0,
    1, b'a', 0, 0x00, 0x01, 0x00, 0x01], Anomalies::NONZERO_Z)]
// Opcode 3 is unassigned.
#[case::unknown_opcode(&[0x00, 0x01, 0x19, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0,
    1, b'a', 0, 0x00, 0x01, 0x00, 0x01], Anomalies::UNKNOWN_OPCODE)]
// Two bytes after the question.
#[case::trailing(&[0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0,
    1, b'a', 0, 0x00, 0x01, 0x00, 0x01, 0xAA, 0xBB], Anomalies::TRAILING_BYTES)]
// A query (QR=0) with an answer count.
#[case::query_with_answers(&[0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0, 0, 0, 0,
    1, b'a', 0, 0x00, 0x01, 0x00, 0x01,
    0xC0, 0x0C, 0x00, 0x01, 0x00, 0x01, 0, 0, 0, 1, 0x00, 0x04, 10, 0, 0, 1],
    Anomalies::QUERY_WITH_ANSWERS)]
// An A record with 3 bytes of data.
#[case::short_a(&[0x00, 0x01, 0x81, 0x80, 0x00, 0x01, 0x00, 0x01, 0, 0, 0, 0,
    1, b'a', 0, 0x00, 0x01, 0x00, 0x01,
    0xC0, 0x0C, 0x00, 0x01, 0x00, 0x01, 0, 0, 0, 1, 0x00, 0x03, 10, 0, 0],
    Anomalies::INVALID_RDATA_LENGTH)]
// A record whose rdlength runs past the end.
#[case::rdata_past_end(&[0x00, 0x01, 0x81, 0x80, 0x00, 0x01, 0x00, 0x01, 0, 0, 0, 0,
    1, b'a', 0, 0x00, 0x01, 0x00, 0x01,
    0xC0, 0x0C, 0x00, 0x01, 0x00, 0x01, 0, 0, 0, 1, 0x00, 0x08, 10, 0, 0, 1],
    Anomalies::TRUNCATED_MESSAGE)]
fn flags_anomalies(#[case] bytes: &[u8], #[case] anomalies: Anomalies) {
    let m = check(bytes);
    assert_eq!(m.anomalies, anomalies, "got {}", m.anomalies);
    assert!(!probe(bytes));
}

#[test]
fn rejects_names_over_255_bytes() {
    let mut bytes = vec![0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0];
    for _ in 0..5 {
        bytes.push(63); // five 63-byte labels: 320 bytes
        bytes.extend_from_slice(&[b'x'; 63]);
    }
    bytes.extend_from_slice(&[0, 0x00, 0x01, 0x00, 0x01]);
    assert_eq!(check(&bytes).anomalies, Anomalies::NAME_TOO_LONG);
}

#[test]
fn a_long_pointer_chain_is_a_loop() {
    // Question name at offset 12 is a pointer to 14, which points to 16, ...
    let mut bytes = vec![0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0];
    for i in 0..20u8 {
        bytes.extend_from_slice(&[0xC0, 14 + 2 * i]);
    }
    bytes.push(0);
    assert_eq!(check(&bytes).anomalies, Anomalies::POINTER_LOOP);
}

#[test]
fn caps_kept_questions_and_answers() {
    let mut bytes = vec![0x00, 0x01, 0x81, 0x80, 0x00, 0x0A, 0x00, 0x50, 0, 0, 0, 0];
    for _ in 0..10 {
        bytes.extend_from_slice(&[1, b'a', 0, 0x00, 0x01, 0x00, 0x01]); // a. A IN
    }
    for _ in 0..80 {
        // pointer to "a." at 12, A, IN, TTL 1, 10.0.0.1
        bytes.extend_from_slice(&[0xC0, 0x0C, 0, 1, 0, 1, 0, 0, 0, 1, 0, 4, 10, 0, 0, 1]);
    }
    let m = check(&bytes);
    assert_eq!(m.questions.len(), MAX_QUESTIONS);
    assert_eq!(m.answers.len(), MAX_ANSWERS);
    assert_eq!(
        m.anomalies,
        Anomalies::TOO_MANY_QUESTIONS
            | Anomalies::TOO_MANY_RECORDS
            | Anomalies::UNUSUAL_QUESTION_COUNT
    );
}

#[rstest]
#[case::short(&[0x00], Err(DecodeError::incomplete(1)))]
#[case::too_small(&[0x00, 0x05], Err(DecodeError::Malformed("dns: TCP length shorter than a header")))]
#[case::query(&[0x00, 0x21], Ok(35))]
fn frames_tcp_messages(#[case] input: &[u8], #[case] expected: Result<usize, DecodeError>) {
    assert_eq!(pdu_len(input), expected);
}

#[test]
fn parses_dns_over_tcp() {
    let mut bytes = u16::try_from(QUERY.len()).unwrap().to_be_bytes().to_vec();
    bytes.extend_from_slice(QUERY);
    bytes.extend_from_slice(&[0x00]);
    let (rest, m) = parse_tcp(&bytes).unwrap();
    assert_eq!(rest, &[0x00]);
    assert_eq!(m.questions[0].name.to_string(), "www.example.com");
    assert!(probe_tcp(&bytes[..bytes.len() - 1]));
    assert!(!probe_tcp(QUERY));
}

#[rstest]
#[case::empty(&[])]
#[case::eleven_bytes(&[0; 11])]
fn rejects_short_headers(#[case] input: &[u8]) {
    assert_eq!(parse(input), Err(DecodeError::Malformed("dns: shorter than the header")));
    assert!(!probe(input));
}

#[test]
fn escapes_odd_bytes_in_names_and_prints_the_root() {
    let bytes = [
        0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0, // header
        3, b'a', b'.', 0x07, 0, // one label "a.\x07"
        0x00, 0x01, 0x00, 0x01,
    ];
    assert_eq!(check(&bytes).questions[0].name.to_string(), "a\\046\\007");
    let root = [0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x02, 0x00, 0x01];
    let m = check(&root);
    assert!(m.questions[0].name.is_root());
    assert_eq!(m.questions[0].name.to_string(), ".");
}

#[test]
fn never_panics_on_truncations_and_noise() {
    for n in 0..=RESPONSE.len() {
        if let Ok(m) = parse(&RESPONSE[..n]) {
            for a in &m.answers {
                let _ = a.name.to_string();
            }
        }
    }
    let mut x: u32 = 99;
    for _ in 0..3000 {
        let mut v = RESPONSE.to_vec();
        for b in v.iter_mut().skip(12) {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            if x >> 28 == 0 {
                *b = (x >> 16) as u8;
            }
        }
        if let Ok(m) = parse(&v) {
            for q in &m.questions {
                assert!(q.name.to_string().len() <= 4 * MAX_NAME_LEN + 1);
            }
            for a in &m.answers {
                let _ = (a.name.to_string(), a.data);
            }
        }
    }
}
