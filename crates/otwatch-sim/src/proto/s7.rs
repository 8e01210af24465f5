//! S7comm over ISO-on-TCP: TPKT (RFC 1006), COTP class 0 (ISO 8073 / RFC 905) and the S7
//! protocol PDUs (setup communication, read/write variable, SZL reads, PLC stop, block download).
//!
//! The S7 layer follows the publicly documented structure of the protocol (the
//! S7comm descriptions published with open-source S7 clients and the
//! Wireshark wiki's protocol pages); the bytes are produced here, not copied.

use crate::emit::{Layer, Rec};
use crate::tcp::Pdu;

/// ROSCTR values.
pub mod rosctr {
    /// Job request.
    pub const JOB: u8 = 1;
    /// Acknowledgement with data.
    pub const ACK_DATA: u8 = 3;
    /// Userdata (CPU functions, SZL).
    pub const USERDATA: u8 = 7;
}

/// Job functions.
pub mod func {
    /// Read variable.
    pub const READ_VAR: u8 = 0x04;
    /// Write variable.
    pub const WRITE_VAR: u8 = 0x05;
    /// Request download.
    pub const REQUEST_DOWNLOAD: u8 = 0x1a;
    /// Download block.
    pub const DOWNLOAD_BLOCK: u8 = 0x1b;
    /// Download ended.
    pub const DOWNLOAD_ENDED: u8 = 0x1c;
    /// PI service (program invocation).
    pub const PI_SERVICE: u8 = 0x28;
    /// PLC stop.
    pub const PLC_STOP: u8 = 0x29;
    /// Setup communication.
    pub const SETUP: u8 = 0xf0;
}

/// Memory areas.
pub mod area {
    /// Flags (M).
    pub const FLAGS: u8 = 0x83;
    /// Data blocks.
    pub const DB: u8 = 0x84;
}

fn tpkt(cotp_and_data: &[u8]) -> Vec<u8> {
    let mut b = Vec::with_capacity(4 + cotp_and_data.len());
    b.push(3);
    b.push(0);
    b.extend_from_slice(&((4 + cotp_and_data.len()) as u16).to_be_bytes());
    b.extend_from_slice(cotp_and_data);
    b
}

/// COTP parameters of a connection request/confirm: TPDU size 1024, TSAPs.
fn cotp_params(src_tsap: u16, dst_tsap: u16) -> Vec<u8> {
    let mut p = vec![0xc0, 1, 0x0a, 0xc1, 2];
    p.extend_from_slice(&src_tsap.to_be_bytes());
    p.push(0xc2);
    p.push(2);
    p.extend_from_slice(&dst_tsap.to_be_bytes());
    p
}

/// COTP Connection Request (CR) to rack 0 / slot `slot` from a PG/PC TSAP.
pub fn cotp_cr(src_ref: u16, slot: u8) -> Pdu {
    let params = cotp_params(0x0100, 0x0100 | u16::from(slot));
    let mut c = vec![(6 + params.len()) as u8, 0xe0, 0, 0];
    c.extend_from_slice(&src_ref.to_be_bytes());
    c.push(0);
    c.extend_from_slice(&params);
    Pdu::new(tpkt(&c), &[Layer::Tpkt, Layer::Cotp], Rec::Cotp)
}

/// COTP Connection Confirm (CC).
pub fn cotp_cc(dst_ref: u16, src_ref: u16, slot: u8) -> Pdu {
    let params = cotp_params(0x0100, 0x0100 | u16::from(slot));
    let mut c = vec![(6 + params.len()) as u8, 0xd0];
    c.extend_from_slice(&dst_ref.to_be_bytes());
    c.extend_from_slice(&src_ref.to_be_bytes());
    c.push(0);
    c.extend_from_slice(&params);
    Pdu::new(tpkt(&c), &[Layer::Tpkt, Layer::Cotp], Rec::Cotp)
}

/// An S7 PDU inside COTP DT (last data unit) inside TPKT.
fn s7(ros: u8, pduref: u16, params: &[u8], data: &[u8], rec: Rec) -> Pdu {
    let mut b = vec![0x02, 0xf0, 0x80, 0x32, ros, 0, 0];
    b.extend_from_slice(&pduref.to_be_bytes());
    b.extend_from_slice(&(params.len() as u16).to_be_bytes());
    b.extend_from_slice(&(data.len() as u16).to_be_bytes());
    if ros == 2 || ros == rosctr::ACK_DATA {
        b.push(0); // error class
        b.push(0); // error code
    }
    b.extend_from_slice(params);
    b.extend_from_slice(data);
    Pdu::new(tpkt(&b), &[Layer::Tpkt, Layer::Cotp, Layer::S7comm], rec)
}

fn rec(ros: u8, f: Option<u8>) -> Rec {
    Rec::S7 { rosctr: ros, func: f, userdata: None, szl: None, pi: None, blocks: Vec::new() }
}

/// Setup communication job.
pub fn setup_job(pduref: u16, pdu_len: u16) -> Pdu {
    let mut p = vec![func::SETUP, 0, 0, 1, 0, 1];
    p.extend_from_slice(&pdu_len.to_be_bytes());
    s7(rosctr::JOB, pduref, &p, &[], rec(rosctr::JOB, Some(func::SETUP)))
}

/// Setup communication acknowledgement with the negotiated PDU length.
pub fn setup_ack(pduref: u16, pdu_len: u16) -> Pdu {
    let mut p = vec![func::SETUP, 0, 0, 1, 0, 1];
    p.extend_from_slice(&pdu_len.to_be_bytes());
    s7(rosctr::ACK_DATA, pduref, &p, &[], rec(rosctr::ACK_DATA, Some(func::SETUP)))
}

/// One variable address: area, DB number, start byte, length in bytes.
#[derive(Clone, Copy, Debug)]
pub struct Item {
    /// Area.
    pub area: u8,
    /// DB number (0 outside data blocks).
    pub db: u16,
    /// Start byte.
    pub start: u32,
    /// Length in bytes.
    pub len: u16,
}

fn item_spec(it: &Item) -> [u8; 12] {
    let bit = it.start * 8;
    let l = it.len.to_be_bytes();
    let d = it.db.to_be_bytes();
    [
        0x12,
        0x0a,
        0x10,
        0x02, // transport size BYTE
        l[0],
        l[1],
        d[0],
        d[1],
        it.area,
        (bit >> 16) as u8,
        (bit >> 8) as u8,
        bit as u8,
    ]
}

fn items_params(f: u8, items: &[Item]) -> Vec<u8> {
    let mut p = vec![f, items.len() as u8];
    for it in items {
        p.extend_from_slice(&item_spec(it));
    }
    p
}

/// Read variable job.
pub fn read_var_job(pduref: u16, items: &[Item]) -> Pdu {
    let p = items_params(func::READ_VAR, items);
    s7(rosctr::JOB, pduref, &p, &[], rec(rosctr::JOB, Some(func::READ_VAR)))
}

fn item_data(first: u8, values: &[Vec<u8>]) -> Vec<u8> {
    let mut d = Vec::new();
    for (i, v) in values.iter().enumerate() {
        d.push(first);
        d.push(0x04); // BYTE/WORD/DWORD: length in bits
        d.extend_from_slice(&((v.len() * 8) as u16).to_be_bytes());
        d.extend_from_slice(v);
        if v.len() % 2 == 1 && i + 1 < values.len() {
            d.push(0);
        }
    }
    d
}

/// Read variable acknowledgement with one value per item.
pub fn read_var_ack(pduref: u16, values: &[Vec<u8>]) -> Pdu {
    let p = [func::READ_VAR, values.len() as u8];
    let d = item_data(0xff, values);
    s7(rosctr::ACK_DATA, pduref, &p, &d, rec(rosctr::ACK_DATA, Some(func::READ_VAR)))
}

/// Write variable job.
pub fn write_var_job(pduref: u16, items: &[Item], values: &[Vec<u8>]) -> Pdu {
    let p = items_params(func::WRITE_VAR, items);
    let d = item_data(0x00, values);
    s7(rosctr::JOB, pduref, &p, &d, rec(rosctr::JOB, Some(func::WRITE_VAR)))
}

/// Write variable acknowledgement (success per item).
pub fn write_var_ack(pduref: u16, n: usize) -> Pdu {
    let p = [func::WRITE_VAR, n as u8];
    let d = vec![0xff; n];
    s7(rosctr::ACK_DATA, pduref, &p, &d, rec(rosctr::ACK_DATA, Some(func::WRITE_VAR)))
}

/// Userdata request: CPU functions / Read SZL.
pub fn szl_request(pduref: u16, szl_id: u16, index: u16) -> Pdu {
    let p = [0x00, 0x01, 0x12, 0x04, 0x11, 0x44, 0x01, 0x00];
    let mut d = vec![0xff, 0x09, 0x00, 0x04];
    d.extend_from_slice(&szl_id.to_be_bytes());
    d.extend_from_slice(&index.to_be_bytes());
    let r = Rec::S7 {
        rosctr: rosctr::USERDATA,
        func: None,
        userdata: Some((4, 1, 4)),
        szl: Some(szl_id),
        pi: None,
        blocks: Vec::new(),
    };
    s7(rosctr::USERDATA, pduref, &p, &d, r)
}

/// Userdata response: Read SZL with records of `rec_len` bytes.
pub fn szl_response(
    pduref: u16,
    szl_id: u16,
    index: u16,
    rec_len: u16,
    records: &[Vec<u8>],
) -> Pdu {
    let p = [0x00, 0x01, 0x12, 0x08, 0x12, 0x84, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00];
    let body_len = 8 + records.iter().map(Vec::len).sum::<usize>();
    let mut d = vec![0xff, 0x09];
    d.extend_from_slice(&(body_len as u16).to_be_bytes());
    d.extend_from_slice(&szl_id.to_be_bytes());
    d.extend_from_slice(&index.to_be_bytes());
    d.extend_from_slice(&rec_len.to_be_bytes());
    d.extend_from_slice(&(records.len() as u16).to_be_bytes());
    for r in records {
        d.extend_from_slice(r);
    }
    let r = Rec::S7 {
        rosctr: rosctr::USERDATA,
        func: None,
        userdata: Some((4, 1, 8)),
        szl: Some(szl_id),
        pi: None,
        blocks: Vec::new(),
    };
    s7(rosctr::USERDATA, pduref, &p, &d, r)
}

fn padded(text: &str, len: usize) -> Vec<u8> {
    let mut v: Vec<u8> = text.bytes().take(len).collect();
    v.resize(len, b' ');
    v
}

/// SZL 0x0011 (module identification) records: module, basic hardware, basic firmware.
pub fn szl_0011_records(order_no: &str, module_type: u16, fw: (u8, u8, u8)) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for (index, mlfb, ausbg, ausbe) in [
        (0x0001u16, order_no, 1u16, 1u16),
        (0x0006, order_no, 1, 1),
        (0x0007, "", u16::from_be_bytes([b'V', fw.0]), u16::from_be_bytes([fw.1, fw.2])),
    ] {
        let mut r = index.to_be_bytes().to_vec();
        r.extend_from_slice(&padded(mlfb, 20));
        r.extend_from_slice(&module_type.to_be_bytes());
        r.extend_from_slice(&ausbg.to_be_bytes());
        r.extend_from_slice(&ausbe.to_be_bytes());
        out.push(r);
    }
    out
}

/// SZL 0x001C (component identification) records of 34 bytes.
pub fn szl_001c_records(
    station: &str,
    module: &str,
    serial: &str,
    module_type: &str,
) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for (index, text) in [
        (1u16, station),
        (2, module),
        (4, "Original Siemens Equipment"),
        (5, serial),
        (7, module_type),
    ] {
        let mut r = index.to_be_bytes().to_vec();
        let mut t: Vec<u8> = text.bytes().take(32).collect();
        t.resize(32, 0);
        r.extend_from_slice(&t);
        out.push(r);
    }
    out
}

/// PLC stop job (PI service P_PROGRAM).
pub fn plc_stop_job(pduref: u16) -> Pdu {
    let mut p = vec![func::PLC_STOP, 0, 0, 0, 0, 0, 9];
    p.extend_from_slice(b"P_PROGRAM");
    let r = Rec::S7 {
        rosctr: rosctr::JOB,
        func: Some(func::PLC_STOP),
        userdata: None,
        szl: None,
        pi: None,
        blocks: Vec::new(),
    };
    s7(rosctr::JOB, pduref, &p, &[], r)
}

/// A one-byte-parameter acknowledgement (PLC stop, request download, download ended, PI service).
pub fn short_ack(pduref: u16, f: u8) -> Pdu {
    s7(rosctr::ACK_DATA, pduref, &[f], &[], rec(rosctr::ACK_DATA, Some(f)))
}

/// Block file name, e.g. `_0A00001P` for DB 1 (complete module, passive file system).
pub fn block_file(block_type: &str, number: u32) -> String {
    format!("_{block_type}{number:05}P")
}

/// Request download job (PG → PLC).
pub fn request_download_job(pduref: u16, file: &str, load_len: u32, mc7_len: u32) -> Pdu {
    let mut p = vec![func::REQUEST_DOWNLOAD, 0x00, 0x01, 0x00, 0, 0, 0, 0, file.len() as u8];
    p.extend_from_slice(file.as_bytes());
    let part2 = format!("1{load_len:06}{mc7_len:06}");
    p.push(part2.len() as u8);
    p.extend_from_slice(part2.as_bytes());
    let r = Rec::S7 {
        rosctr: rosctr::JOB,
        func: Some(func::REQUEST_DOWNLOAD),
        userdata: None,
        szl: None,
        pi: None,
        blocks: vec![file.to_string()],
    };
    s7(rosctr::JOB, pduref, &p, &[], r)
}

/// Download block job (sent by the PLC to pull the block) and Download ended job.
pub fn block_job(pduref: u16, f: u8, file: &str) -> Pdu {
    let mut p = vec![f, 0x00, 0x00, 0x00, 0, 0, 0, 0, file.len() as u8];
    p.extend_from_slice(file.as_bytes());
    let r = Rec::S7 {
        rosctr: rosctr::JOB,
        func: Some(f),
        userdata: None,
        szl: None,
        pi: None,
        blocks: vec![file.to_string()],
    };
    s7(rosctr::JOB, pduref, &p, &[], r)
}

/// Download block acknowledgement carrying block bytes (PG → PLC); `more` if another part follows.
pub fn download_block_ack(pduref: u16, more: bool, block: &[u8]) -> Pdu {
    let p = [func::DOWNLOAD_BLOCK, u8::from(more)];
    let mut d = (block.len() as u16).to_be_bytes().to_vec();
    d.extend_from_slice(&[0x00, 0xfb]);
    d.extend_from_slice(block);
    s7(rosctr::ACK_DATA, pduref, &p, &d, rec(rosctr::ACK_DATA, Some(func::DOWNLOAD_BLOCK)))
}

/// PI service `_INSE` (activate the downloaded block) for `file` (without the leading `_`).
pub fn pi_insert_job(pduref: u16, block: &str) -> Pdu {
    let mut p = vec![func::PI_SERVICE, 0, 0, 0, 0, 0, 0, 0xfd];
    p.extend_from_slice(&((2 + block.len()) as u16).to_be_bytes());
    p.push(1);
    p.push(0);
    p.extend_from_slice(block.as_bytes());
    p.push(5);
    p.extend_from_slice(b"_INSE");
    let r = Rec::S7 {
        rosctr: rosctr::JOB,
        func: Some(func::PI_SERVICE),
        userdata: None,
        szl: None,
        pi: Some("_INSE".into()),
        blocks: Vec::new(),
    };
    s7(rosctr::JOB, pduref, &p, &[], r)
}

/// A data block image in MC7 load format: header, body of `body_len` bytes, footer.
pub fn db_image(number: u16, body_len: usize, seed: u32) -> Vec<u8> {
    let total = 36 + body_len + 36;
    let mut b = vec![0x70, 0x70, 0x01, 0x01, 0x05, 0x0a];
    b.extend_from_slice(&number.to_be_bytes());
    b.extend_from_slice(&(total as u32).to_be_bytes());
    b.resize(36, 0);
    let mut x = seed;
    for _ in 0..body_len {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
        b.push((x >> 16) as u8);
    }
    b.resize(total, 0);
    b
}

/// A deliberately malformed S7 job: the header's parameter length exceeds the bytes present.
pub fn malformed_job(pduref: u16) -> Pdu {
    let mut b = vec![0x02, 0xf0, 0x80, 0x32, rosctr::JOB, 0, 0];
    b.extend_from_slice(&pduref.to_be_bytes());
    b.extend_from_slice(&40u16.to_be_bytes()); // parameter length 40, only 2 present
    b.extend_from_slice(&0u16.to_be_bytes());
    b.extend_from_slice(&[func::READ_VAR, 0x01]);
    Pdu::new(
        tpkt(&b),
        &[Layer::Tpkt, Layer::Cotp, Layer::S7comm],
        Rec::S7 {
            rosctr: rosctr::JOB,
            func: Some(func::READ_VAR),
            userdata: None,
            szl: None,
            pi: None,
            blocks: Vec::new(),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tpkt_length_covers_everything() {
        let p = setup_job(1, 480);
        assert_eq!(usize::from(u16::from_be_bytes([p.bytes[2], p.bytes[3]])), p.bytes.len());
        assert_eq!(p.bytes.len(), 4 + 3 + 10 + 8);
        let cr = cotp_cr(0x0001, 2);
        assert_eq!(cr.bytes[4] as usize, cr.bytes.len() - 5);
    }

    #[test]
    fn request_download_parameters_are_32_bytes() {
        let p = request_download_job(1, &block_file("0A", 1), 216, 88);
        // TPKT 4 + COTP 3 + header 10 + params 32.
        assert_eq!(p.bytes.len(), 4 + 3 + 10 + 32);
        let pi = pi_insert_job(2, "0A00001P");
        assert_eq!(pi.bytes.len(), 4 + 3 + 10 + 26);
    }
}
