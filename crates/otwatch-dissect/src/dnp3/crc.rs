//! CRC-16/DNP, the check sequence on the DNP3 link header and every user-data block.
//!
//! IEEE 1815-2012 9.2.4.1.4 (header CRC) and 9.2.4.2 (data block CRCs): the
//! generator polynomial is x^16 + x^13 + x^12 + x^11 + x^10 + x^8 + x^6 +
//! x^5 + x^2 + 1 (0x3D65), processed least significant bit first (reflected
//! 0xA6BC), initial value 0, and the result is complemented. It is sent low
//! octet first. Computed bit by bit: DNP3 traffic is light and this keeps the
//! code free of table indexing.

/// The reflected form of the CRC-16/DNP generator polynomial 0x3D65.
const POLY_REFLECTED: u16 = 0xA6BC;

/// CRC-16/DNP of `data`, as it appears on the wire (read little-endian).
pub fn crc16_dnp(data: &[u8]) -> u16 {
    let mut crc: u16 = 0;
    for &byte in data {
        crc ^= u16::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ POLY_REFLECTED } else { crc >> 1 };
        }
    }
    !crc
}
