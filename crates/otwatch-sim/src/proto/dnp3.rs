//! DNP3 (IEEE 1815) over TCP: data link frames with their CRC blocks, the transport
//! function, and application fragments (requests, responses, object headers).

use crate::emit::{Dnp3App, Layer, Rec};
use crate::tcp::Pdu;

/// Application function codes.
pub mod fc {
    /// Confirm.
    pub const CONFIRM: u8 = 0;
    /// Read.
    pub const READ: u8 = 1;
    /// Write.
    pub const WRITE: u8 = 2;
    /// Cold restart.
    pub const COLD_RESTART: u8 = 13;
    /// Enable unsolicited responses.
    pub const ENABLE_UNSOLICITED: u8 = 20;
    /// Disable unsolicited responses.
    pub const DISABLE_UNSOLICITED: u8 = 21;
    /// Response.
    pub const RESPONSE: u8 = 129;
}

/// IIN1 bits.
pub mod iin1 {
    /// Class 1 events available.
    pub const CLASS1: u8 = 0x02;
    /// Class 2 events available.
    pub const CLASS2: u8 = 0x04;
    /// Device restart.
    pub const RESTART: u8 = 0x80;
}

/// DNP3 TCP port.
pub const PORT: u16 = 20000;

/// Largest application payload per link frame (250 user octets minus the transport header).
const MAX_APP_PER_FRAME: usize = 249;

/// DNP3 CRC-16 (polynomial 0x3D65, reflected, complemented), as appended LSB first.
pub fn crc(data: &[u8]) -> u16 {
    let mut c: u16 = 0;
    for b in data {
        c ^= u16::from(*b);
        for _ in 0..8 {
            c = if c & 1 != 0 { (c >> 1) ^ 0xa6bc } else { c >> 1 };
        }
    }
    !c
}

/// One link-layer frame: header block and user data in 16-byte CRC blocks.
pub fn link_frame(ctrl: u8, dst: u16, src: u16, user: &[u8]) -> Vec<u8> {
    let mut b = vec![0x05, 0x64, (5 + user.len()) as u8, ctrl];
    b.extend_from_slice(&dst.to_le_bytes());
    b.extend_from_slice(&src.to_le_bytes());
    let c = crc(&b);
    b.extend_from_slice(&c.to_le_bytes());
    for chunk in user.chunks(16) {
        b.extend_from_slice(chunk);
        b.extend_from_slice(&crc(chunk).to_le_bytes());
    }
    b
}

/// Link control byte for user data: DIR from the master, PRM set, unconfirmed user data (4).
fn user_data_ctrl(from_master: bool) -> u8 {
    (if from_master { 0x80 } else { 0 }) | 0x40 | 0x04
}

/// One application fragment.
#[derive(Clone, Debug)]
pub struct Fragment {
    /// Application bytes (control, function, [IIN], objects).
    pub bytes: Vec<u8>,
    /// What it is, for the manifest.
    pub app: Dnp3App,
}

/// Application control octet: FIR, FIN, optional CON, sequence.
fn app_ctrl(seq: u8, con: bool, uns: bool) -> u8 {
    0xc0 | if con { 0x20 } else { 0 } | if uns { 0x10 } else { 0 } | (seq & 0x0f)
}

/// A request fragment with object headers already encoded.
pub fn request(seq: u8, func: u8, objects: &[u8], headers: Vec<(u8, u8)>) -> Fragment {
    let mut b = vec![app_ctrl(seq, false, false), func];
    b.extend_from_slice(objects);
    Fragment { bytes: b, app: Dnp3App { func, objects: headers, restart: false } }
}

/// A response fragment.
pub fn response(
    seq: u8,
    con: bool,
    iin: (u8, u8),
    objects: &[u8],
    headers: Vec<(u8, u8)>,
) -> Fragment {
    let mut b = vec![app_ctrl(seq, con, false), fc::RESPONSE, iin.0, iin.1];
    b.extend_from_slice(objects);
    Fragment {
        bytes: b,
        app: Dnp3App { func: fc::RESPONSE, objects: headers, restart: iin.0 & iin1::RESTART != 0 },
    }
}

/// Splits a fragment into transport segments and link frames, one TCP PDU each.
/// `tseq` is the sender's transport sequence number, advanced per segment.
pub fn frames(frag: Fragment, from_master: bool, dst: u16, src: u16, tseq: &mut u8) -> Vec<Pdu> {
    let chunks: Vec<&[u8]> = frag.bytes.chunks(MAX_APP_PER_FRAME).collect();
    let n = chunks.len();
    let mut app = Some(Box::new(frag.app.clone()));
    chunks
        .into_iter()
        .enumerate()
        .map(|(i, c)| {
            let th = (if i == 0 { 0x40 } else { 0 })
                | (if i + 1 == n { 0x80 } else { 0 })
                | (*tseq & 0x3f);
            *tseq = tseq.wrapping_add(1) & 0x3f;
            let mut user = vec![th];
            user.extend_from_slice(c);
            let rec = Rec::Dnp3 {
                src,
                dst,
                from_master,
                link_fn: 4,
                primary: true,
                app: if i + 1 == n { app.take() } else { None },
            };
            Pdu::new(link_frame(user_data_ctrl(from_master), dst, src, &user), &[Layer::Dnp3], rec)
        })
        .collect()
}

/// Object headers of a class read: (group 60, variations) with qualifier 0x06 (all).
pub fn class_read(variations: &[u8]) -> (Vec<u8>, Vec<(u8, u8)>) {
    let mut b = Vec::new();
    let mut h = Vec::new();
    for v in variations {
        b.extend_from_slice(&[60, *v, 0x06]);
        h.push((60, *v));
    }
    (b, h)
}

/// Write g80v1 (internal indications), clearing IIN1.7 DEVICE_RESTART.
pub fn clear_restart() -> (Vec<u8>, Vec<(u8, u8)>) {
    (vec![80, 1, 0x00, 7, 7, 0x00], vec![(80, 1)])
}

/// Static data of an outstation: binary inputs (g1v2), analog inputs (g30v1), counters (g20v1).
pub fn static_data(
    binaries: &[bool],
    analogs: &[i32],
    counters: &[u32],
) -> (Vec<u8>, Vec<(u8, u8)>) {
    let mut b = Vec::new();
    let mut h = Vec::new();
    if !binaries.is_empty() {
        b.extend_from_slice(&[1, 2, 0x00, 0, (binaries.len() - 1) as u8]);
        for v in binaries {
            b.push(0x01 | if *v { 0x80 } else { 0 });
        }
        h.push((1, 2));
    }
    if !analogs.is_empty() {
        b.extend_from_slice(&[30, 1, 0x00, 0, (analogs.len() - 1) as u8]);
        for v in analogs {
            b.push(0x01);
            b.extend_from_slice(&v.to_le_bytes());
        }
        h.push((30, 1));
    }
    if !counters.is_empty() {
        b.extend_from_slice(&[20, 1, 0x00, 0, (counters.len() - 1) as u8]);
        for v in counters {
            b.push(0x01);
            b.extend_from_slice(&v.to_le_bytes());
        }
        h.push((20, 1));
    }
    (b, h)
}

/// Event data: binary input events (g2v1) and analog input events (g32v1), index-prefixed.
pub fn events(binaries: &[(u8, bool)], analogs: &[(u8, i32)]) -> (Vec<u8>, Vec<(u8, u8)>) {
    let mut b = Vec::new();
    let mut h = Vec::new();
    if !binaries.is_empty() {
        b.extend_from_slice(&[2, 1, 0x17, binaries.len() as u8]);
        for (i, v) in binaries {
            b.push(*i);
            b.push(0x01 | if *v { 0x80 } else { 0 });
        }
        h.push((2, 1));
    }
    if !analogs.is_empty() {
        b.extend_from_slice(&[32, 1, 0x17, analogs.len() as u8]);
        for (i, v) in analogs {
            b.push(*i);
            b.push(0x01);
            b.extend_from_slice(&v.to_le_bytes());
        }
        h.push((32, 1));
    }
    (b, h)
}

/// Time delay fine (g52v2) in milliseconds, the answer to a cold restart.
pub fn time_delay_fine(ms: u16) -> (Vec<u8>, Vec<(u8, u8)>) {
    let mut b = vec![52, 2, 0x07, 1];
    b.extend_from_slice(&ms.to_le_bytes());
    (b, vec![(52, 2)])
}

/// A class-data read whose first user-data block has a wrong CRC (the header CRC is right, so
/// the frame is still recognisable as DNP3). The outstation discards it.
pub fn bad_crc_frame(from_master: bool, dst: u16, src: u16, seq: u8) -> Pdu {
    let (objs, headers) = class_read(&[2, 3, 4]);
    let frag = request(seq, fc::READ, &objs, headers);
    let mut user = vec![0xc0 | (seq & 0x3f)];
    user.extend_from_slice(&frag.bytes);
    let mut b = link_frame(user_data_ctrl(from_master), dst, src, &user);
    // Header block is 10 bytes; the first data block's CRC follows its (up to) 16 bytes.
    let crc_at = 10 + user.len().min(16);
    b[crc_at] ^= 0x5a;
    b[crc_at + 1] ^= 0xa5;
    let mut p = Pdu::new(
        b,
        &[Layer::Dnp3],
        Rec::Dnp3 { src, dst, from_master, link_fn: 4, primary: true, app: None },
    );
    p.malformed = true;
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_matches_the_standard_check_value() {
        // CRC-16/DNP check value for "123456789" is 0xEA82.
        assert_eq!(crc(b"123456789"), 0xea82);
    }

    #[test]
    fn long_fragments_span_link_frames() {
        let frag = response(1, false, (0, 0), &[0u8; 600], vec![]);
        let mut tseq = 62;
        let pdus = frames(frag, false, 1, 10, &mut tseq);
        assert_eq!(pdus.len(), 3);
        assert_eq!(tseq, 1);
        // First: FIR set, FIN clear; last: FIN set.
        assert_eq!(pdus[0].bytes[10] & 0xc0, 0x40);
        assert_eq!(pdus[2].bytes[10] & 0xc0, 0x80);
        // Length byte counts control, addresses and user data without CRCs.
        assert_eq!(pdus[0].bytes[2] as usize, 5 + 250);
    }
}
