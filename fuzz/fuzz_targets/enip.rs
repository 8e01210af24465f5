//! Fuzz target for the enip dissector: any input must decode or fail cleanly, never panic.
//!
//! Checks beyond "no panic": `parse` agrees with `pdu_len` on how many bytes
//! a message takes, the header and data re-encode to exactly the input they
//! came from, every decoded CIP message (including embedded ones) re-encodes
//! to its raw bytes, EPATH iteration stays inside the path, the request
//! tracker stays bounded, and the I/O and bare CIP entry points hold up too.
#![no_main]

use otwatch_dissect::Direction;
use otwatch_dissect::enip::{self, CipKind, CipMessage, Transactions};

/// Re-encodes a CIP message from its decoded fields and checks it against `raw`.
fn check_cip(m: &CipMessage<'_>, raw: &[u8], depth: usize) {
    assert!(depth <= usize::from(enip::MAX_CIP_DEPTH) + 1);
    match m.kind {
        CipKind::Request { path } => {
            let mut enc = vec![m.raw_service, (path.raw().len() / 2) as u8];
            enc.extend_from_slice(path.raw());
            enc.extend_from_slice(m.data);
            assert_eq!(&enc[..], raw);
            assert!(path.segments().count() <= path.raw().len());
            let _ = path.target();
            let _ = path.symbols().count();
        }
        CipKind::Response { general_status, additional_status } => {
            assert_eq!(raw.first(), Some(&m.raw_service));
            assert_eq!(raw.get(2), Some(&general_status.0));
            assert_eq!(raw.len(), 4 + additional_status.len() + m.data.len());
            assert!(raw.ends_with(m.data));
        }
    }
    assert_eq!(m.service.0, m.raw_service & 0x7F);
    let _ = m.operations();
    let _ = m.service_name();
    assert!(m.embedded().len() <= enip::MAX_MSP_SERVICES);
    for e in m.embedded() {
        // Embedded messages are sub-slices of the outer data; re-encode them alone.
        let mut enc = vec![e.raw_service];
        match e.kind {
            CipKind::Request { path } => {
                enc.push((path.raw().len() / 2) as u8);
                enc.extend_from_slice(path.raw());
            }
            CipKind::Response { general_status, additional_status } => {
                enc.push(0);
                enc.push(general_status.0);
                enc.push((additional_status.len() / 2) as u8);
                enc.extend_from_slice(additional_status);
            }
        }
        enc.extend_from_slice(e.data);
        if let CipKind::Request { .. } = e.kind {
            check_cip(e, &enc, depth + 1);
        }
    }
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = enip::probe(data);
    let _ = enip::probe_io(data);
    if let Ok(f) = enip::parse_io(data) {
        assert!(f.items.len() <= enip::MAX_CPF_ITEMS);
    }
    if let Ok((m, _)) = enip::parse_cip(data) {
        check_cip(&m, data, 0);
    }
    let mut tx = Transactions::new();
    for dir in [Direction::ToServer, Direction::ToClient] {
        let mut rest = data;
        // A stream of messages, as a reassembled TCP payload would hold.
        for _ in 0..64 {
            let Ok((after, msg)) = enip::parse(rest, dir) else { break };
            let used = rest.len() - after.len();
            assert_eq!(enip::pdu_len(rest), Ok(used));
            let h = &msg.header;
            let mut enc = Vec::with_capacity(used);
            enc.extend_from_slice(&h.command.0.to_le_bytes());
            enc.extend_from_slice(&h.length.to_le_bytes());
            enc.extend_from_slice(&h.session_handle.to_le_bytes());
            enc.extend_from_slice(&h.status.0.to_le_bytes());
            enc.extend_from_slice(&h.sender_context);
            enc.extend_from_slice(&h.options.to_le_bytes());
            enc.extend_from_slice(msg.raw_data);
            assert_eq!(&enc[..], &rest[..used]);
            for p in msg.cip() {
                if let Some(m) = &p.message {
                    check_cip(m, p.raw, 0);
                }
            }
            for id in msg.identities() {
                let _ = id.identity.product_name_str();
            }
            let _ = msg.anomalies.to_string();
            if dir == Direction::ToServer {
                tx.request(&msg);
            } else if let Some(req) = tx.response(&msg) {
                for p in msg.cip() {
                    if let Some(m) = &p.message {
                        let _ = req.answered_by(m);
                        let _ = enip::parse_identity(m.data);
                        let _ = enip::parse_forward_open_reply(m.data);
                    }
                }
            }
            assert!(tx.len() <= enip::MAX_PENDING);
            rest = after;
        }
    }
});
