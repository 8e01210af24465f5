//! Modbus/TCP messages, built from the Modbus Application Protocol Specification V1.1b3 and
//! the Modbus Messaging on TCP/IP Implementation Guide V1.0b (MBAP header).

use crate::emit::{Layer, Rec};
use crate::tcp::Pdu;

/// Function codes used by the simulator.
pub mod fc {
    /// Read Coils.
    pub const READ_COILS: u8 = 1;
    /// Read Discrete Inputs.
    pub const READ_DISCRETE_INPUTS: u8 = 2;
    /// Read Holding Registers.
    pub const READ_HOLDING: u8 = 3;
    /// Read Input Registers.
    pub const READ_INPUT: u8 = 4;
    /// Write Single Coil.
    pub const WRITE_COIL: u8 = 5;
    /// Write Single Register.
    pub const WRITE_REGISTER: u8 = 6;
    /// Diagnostics.
    pub const DIAGNOSTICS: u8 = 8;
    /// Write Multiple Coils.
    pub const WRITE_COILS: u8 = 15;
    /// Write Multiple Registers.
    pub const WRITE_REGISTERS: u8 = 16;
    /// Encapsulated Interface Transport (MEI 14: Read Device Identification).
    pub const MEI: u8 = 43;
}

/// A request or response PDU (function code and data) inside an MBAP header.
fn adu(tid: u16, unit: u8, pdu: &[u8]) -> Vec<u8> {
    let mut b = Vec::with_capacity(7 + pdu.len());
    b.extend_from_slice(&tid.to_be_bytes());
    b.extend_from_slice(&0u16.to_be_bytes());
    b.extend_from_slice(&((pdu.len() + 1) as u16).to_be_bytes());
    b.push(unit);
    b.extend_from_slice(pdu);
    b
}

fn wrap(tid: u16, unit: u8, pdu: Vec<u8>, exception: Option<u8>, ident: Vec<String>) -> Pdu {
    let fc = pdu[0] & 0x7f;
    Pdu::new(
        adu(tid, unit, &pdu),
        &[Layer::Mbtcp, Layer::Modbus],
        Rec::Modbus { unit, fc, exception, ident },
    )
}

/// A read request (FC 1, 2, 3 or 4).
pub fn read_request(tid: u16, unit: u8, fc: u8, start: u16, qty: u16) -> Pdu {
    let mut p = vec![fc];
    p.extend_from_slice(&start.to_be_bytes());
    p.extend_from_slice(&qty.to_be_bytes());
    wrap(tid, unit, p, None, Vec::new())
}

/// The response to a register read (FC 3 or 4).
pub fn read_registers_response(tid: u16, unit: u8, fc: u8, values: &[u16]) -> Pdu {
    let mut p = vec![fc, (values.len() * 2) as u8];
    for v in values {
        p.extend_from_slice(&v.to_be_bytes());
    }
    wrap(tid, unit, p, None, Vec::new())
}

/// The response to a bit read (FC 1 or 2).
pub fn read_bits_response(tid: u16, unit: u8, fc: u8, bits: &[bool]) -> Pdu {
    let n = bits.len().div_ceil(8);
    let mut p = vec![fc, n as u8];
    let mut bytes = vec![0u8; n];
    for (i, b) in bits.iter().enumerate() {
        if *b {
            bytes[i / 8] |= 1 << (i % 8);
        }
    }
    p.extend_from_slice(&bytes);
    wrap(tid, unit, p, None, Vec::new())
}

/// Write Single Register (FC 6); the normal response is an echo of the request.
pub fn write_register(tid: u16, unit: u8, addr: u16, value: u16) -> Pdu {
    let mut p = vec![fc::WRITE_REGISTER];
    p.extend_from_slice(&addr.to_be_bytes());
    p.extend_from_slice(&value.to_be_bytes());
    wrap(tid, unit, p, None, Vec::new())
}

/// Write Single Coil (FC 5); the normal response is an echo of the request.
pub fn write_coil(tid: u16, unit: u8, addr: u16, on: bool) -> Pdu {
    let mut p = vec![fc::WRITE_COIL];
    p.extend_from_slice(&addr.to_be_bytes());
    p.extend_from_slice(&(if on { 0xff00u16 } else { 0 }).to_be_bytes());
    wrap(tid, unit, p, None, Vec::new())
}

/// Write Multiple Registers (FC 16) request.
pub fn write_registers(tid: u16, unit: u8, start: u16, values: &[u16]) -> Pdu {
    let mut p = vec![fc::WRITE_REGISTERS];
    p.extend_from_slice(&start.to_be_bytes());
    p.extend_from_slice(&(values.len() as u16).to_be_bytes());
    p.push((values.len() * 2) as u8);
    for v in values {
        p.extend_from_slice(&v.to_be_bytes());
    }
    wrap(tid, unit, p, None, Vec::new())
}

/// The response to FC 15 or FC 16: start address and quantity.
pub fn write_multiple_response(tid: u16, unit: u8, fc: u8, start: u16, qty: u16) -> Pdu {
    let mut p = vec![fc];
    p.extend_from_slice(&start.to_be_bytes());
    p.extend_from_slice(&qty.to_be_bytes());
    wrap(tid, unit, p, None, Vec::new())
}

/// Read Device Identification request (FC 43 / MEI 14), basic category, from object 0.
pub fn read_device_id_request(tid: u16, unit: u8) -> Pdu {
    wrap(tid, unit, vec![fc::MEI, 0x0e, 0x01, 0x00], None, Vec::new())
}

/// Read Device Identification response with the three basic objects
/// (VendorName, ProductCode, MajorMinorRevision).
pub fn read_device_id_response(tid: u16, unit: u8, vendor: &str, product: &str, rev: &str) -> Pdu {
    let mut p = vec![fc::MEI, 0x0e, 0x01, 0x01, 0x00, 0x00, 0x03];
    for (id, s) in [(0u8, vendor), (1, product), (2, rev)] {
        p.push(id);
        p.push(s.len() as u8);
        p.extend_from_slice(s.as_bytes());
    }
    let ident = vec![vendor.to_string(), product.to_string(), rev.to_string()];
    wrap(tid, unit, p, None, ident)
}

/// An exception response.
pub fn exception(tid: u16, unit: u8, fc: u8, code: u8) -> Pdu {
    wrap(tid, unit, vec![fc | 0x80, code], Some(code), Vec::new())
}

/// A deliberately malformed request: a Read Holding Registers PDU cut after the start address
/// (no quantity); the MBAP length matches the short PDU.
pub fn malformed_request(tid: u16, unit: u8) -> Pdu {
    let mut pdu = wrap(tid, unit, vec![fc::READ_HOLDING, 0x00, 0x10], None, Vec::new());
    pdu.malformed = true;
    pdu
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mbap_length_counts_unit_and_pdu() {
        let p = read_request(7, 1, fc::READ_HOLDING, 0, 10);
        assert_eq!(p.bytes, vec![0, 7, 0, 0, 0, 6, 1, 3, 0, 0, 0, 10]);
        let r = read_registers_response(7, 1, 3, &[1, 2]);
        assert_eq!(r.bytes, vec![0, 7, 0, 0, 0, 7, 1, 3, 4, 0, 1, 0, 2]);
        let e = exception(9, 1, 16, 2);
        assert_eq!(e.bytes, vec![0, 9, 0, 0, 0, 3, 1, 0x90, 2]);
    }
}
