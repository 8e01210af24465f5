//! Fuzz target for the it dissector: any input must decode or fail cleanly, never panic.
//!
//! The first byte picks the protocol (DHCP, DNS, DNS over TCP, HTTP, FTP,
//! Telnet) so one target covers all five; the rest is the input. Stream
//! protocols are walked unit by unit, checking that `parse` agrees with
//! `pdu_len` and always makes progress, and the sign-in trackers are fed.
#![no_main]

use otwatch_dissect::Direction;
use otwatch_dissect::it::{dhcp, dns, ftp, http, telnet};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some((&selector, input)) = data.split_first() else { return };
    match selector % 6 {
        0 => {
            let _ = dhcp::probe(input);
            if let Ok(m) = dhcp::parse(input) {
                assert!(m.options.iter().count() <= dhcp::MAX_OPTIONS);
                let _ = (m.host_name_str(), m.vendor_class_str(), m.anomalies.to_string());
            }
        }
        1 => {
            let _ = dns::probe(input);
            if let Ok(m) = dns::parse(input) {
                assert!(m.questions.len() <= dns::MAX_QUESTIONS);
                assert!(m.answers.len() <= dns::MAX_ANSWERS);
                for q in &m.questions {
                    assert!(q.name.labels().count() <= dns::MAX_NAME_LEN);
                    let _ = q.name.to_string();
                }
                for a in &m.answers {
                    let _ = (a.name.to_string(), a.data);
                }
            }
        }
        2 => {
            let _ = dns::probe_tcp(input);
            let mut rest = input;
            for _ in 0..16 {
                let Ok((r, _)) = dns::parse_tcp(rest) else { break };
                assert_eq!(dns::pdu_len(rest), Ok(rest.len() - r.len()));
                rest = r;
            }
        }
        3 => {
            let _ = http::probe(input);
            let _ = http::pdu_len(input);
            if let Ok((rest, head)) = http::parse(input) {
                assert_eq!(input.len() - rest.len(), head.head_len);
                assert!(head.headers.len() <= http::MAX_HEADERS);
                assert!(head.head_len <= http::MAX_HEAD_LEN);
            }
        }
        4 => {
            let _ = ftp::probe(input);
            let mut logins = ftp::Logins::new();
            let mut rest = input;
            while let Ok((r, m, _)) = ftp::parse(rest) {
                assert!(r.len() < rest.len());
                assert_eq!(ftp::pdu_len(rest), Ok(rest.len() - r.len()));
                if let ftp::Message::Command(c) = m
                    && c.password_sent
                {
                    assert!(c.argument.is_none());
                }
                let _ = logins.observe(&m);
                rest = r;
            }
        }
        _ => {
            let _ = telnet::probe(input);
            let mut logins = telnet::Logins::new();
            let mut rest = input;
            let mut i = 0usize;
            while let Ok((r, u, _)) = telnet::parse(rest) {
                assert!(r.len() < rest.len());
                assert_eq!(telnet::pdu_len(rest), Ok(rest.len() - r.len()));
                let dir = if i % 2 == 0 { Direction::ToClient } else { Direction::ToServer };
                let _ = logins.observe(dir, &u);
                i += 1;
                rest = r;
            }
        }
    }
});
