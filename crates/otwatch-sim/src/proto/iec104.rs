//! IEC 60870-5-104: APCI frames (I, S and U formats with 15-bit sequence numbers) carrying
//! IEC 60870-5-101 ASDUs (monitoring, interrogation, clock synchronisation, commands).

use crate::emit::{Iec104Asdu, Layer, Rec};
use crate::tcp::Pdu;
use crate::time::Civil;

/// IEC-104 TCP port.
pub const PORT: u16 = 2404;

/// Type identifications used by the simulator.
pub mod ty {
    /// Single-point information.
    pub const M_SP_NA_1: u8 = 1;
    /// Measured value, short floating point.
    pub const M_ME_NC_1: u8 = 13;
    /// Single-point information with CP56Time2a.
    pub const M_SP_TB_1: u8 = 30;
    /// Measured value, short float with CP56Time2a.
    pub const M_ME_TF_1: u8 = 36;
    /// Single command.
    pub const C_SC_NA_1: u8 = 45;
    /// Interrogation command.
    pub const C_IC_NA_1: u8 = 100;
    /// Clock synchronisation command.
    pub const C_CS_NA_1: u8 = 103;
}

/// Causes of transmission.
pub mod cot {
    /// Spontaneous.
    pub const SPONTANEOUS: u8 = 3;
    /// Activation.
    pub const ACT: u8 = 6;
    /// Activation confirmation.
    pub const ACTCON: u8 = 7;
    /// Activation termination.
    pub const ACTTERM: u8 = 10;
    /// Interrogated by station interrogation.
    pub const INROGEN: u8 = 20;
}

/// U-format functions (first control octet).
pub mod u {
    /// STARTDT act.
    pub const STARTDT_ACT: u8 = 0x07;
    /// STARTDT con.
    pub const STARTDT_CON: u8 = 0x0b;
    /// TESTFR act.
    pub const TESTFR_ACT: u8 = 0x43;
    /// TESTFR con.
    pub const TESTFR_CON: u8 = 0x83;
}

fn apci(control: [u8; 4], asdu: &[u8]) -> Vec<u8> {
    let mut b = vec![0x68, (4 + asdu.len()) as u8];
    b.extend_from_slice(&control);
    b.extend_from_slice(asdu);
    b
}

/// A U-format frame.
pub fn u_frame(function: u8) -> Pdu {
    Pdu::new(
        apci([function, 0, 0, 0], &[]),
        &[Layer::Iec104],
        Rec::Iec104 { apci: 'U', utype: Some(function >> 2), asdu: None },
    )
}

/// An S-format frame acknowledging up to `nr`.
pub fn s_frame(nr: u16) -> Pdu {
    let r = (nr << 1).to_le_bytes();
    Pdu::new(
        apci([0x01, 0x00, r[0], r[1]], &[]),
        &[Layer::Iec104],
        Rec::Iec104 { apci: 'S', utype: None, asdu: None },
    )
}

/// One ASDU.
#[derive(Clone, Debug)]
pub struct Asdu {
    /// Type identification.
    pub type_id: u8,
    /// Cause of transmission.
    pub cot: u8,
    /// Negative confirmation.
    pub negative: bool,
    /// Common address.
    pub ca: u16,
    /// Information objects: (IOA, element bytes).
    pub objects: Vec<(u32, Vec<u8>)>,
}

impl Asdu {
    fn encode(&self) -> Vec<u8> {
        let mut b = vec![
            self.type_id,
            self.objects.len() as u8,
            self.cot | if self.negative { 0x40 } else { 0 },
            0,
        ];
        b.extend_from_slice(&self.ca.to_le_bytes());
        for (ioa, el) in &self.objects {
            b.extend_from_slice(&ioa.to_le_bytes()[..3]);
            b.extend_from_slice(el);
        }
        b
    }
}

/// An I-format frame with send and receive sequence numbers.
pub fn i_frame(ns: u16, nr: u16, asdu: &Asdu) -> Pdu {
    let s = (ns << 1).to_le_bytes();
    let r = (nr << 1).to_le_bytes();
    let body = asdu.encode();
    Pdu::new(
        apci([s[0], s[1], r[0], r[1]], &body),
        &[Layer::Iec104, Layer::Iec104Asdu],
        Rec::Iec104 {
            apci: 'I',
            utype: None,
            asdu: Some(Iec104Asdu {
                type_id: asdu.type_id,
                cot: asdu.cot,
                ca: asdu.ca,
                ioas: asdu.objects.len() as u16,
                negative: asdu.negative,
            }),
        },
    )
}

/// CP56Time2a for a time in microseconds since the epoch (UTC, standard time).
pub fn cp56(us: u64) -> Vec<u8> {
    let c = Civil::from_micros(us);
    let ms = (c.second as u16) * 1000 + (c.micros / 1000) as u16;
    let mut b = ms.to_le_bytes().to_vec();
    b.push(c.minute);
    b.push(c.hour);
    b.push(c.day | (c.weekday_iso << 5));
    b.push(c.month);
    b.push((c.year % 100) as u8);
    b
}

/// Short float element with quality descriptor.
pub fn float_qds(v: f32) -> Vec<u8> {
    let mut b = v.to_le_bytes().to_vec();
    b.push(0);
    b
}

/// A deliberately malformed I-frame: the APDU length claims more than the ASDU holds.
pub fn malformed_i_frame(ns: u16, nr: u16, ca: u16) -> Pdu {
    let s = (ns << 1).to_le_bytes();
    let r = (nr << 1).to_le_bytes();
    // Interrogation ASDU announcing 5 objects but carrying one truncated object.
    let mut asdu = vec![ty::C_IC_NA_1, 5, cot::ACT, 0];
    asdu.extend_from_slice(&ca.to_le_bytes());
    asdu.extend_from_slice(&[0, 0]);
    Pdu::new(
        apci([s[0], s[1], r[0], r[1]], &asdu),
        &[Layer::Iec104, Layer::Iec104Asdu],
        Rec::Iec104 {
            apci: 'I',
            utype: None,
            asdu: Some(Iec104Asdu {
                type_id: ty::C_IC_NA_1,
                cot: cot::ACT,
                ca,
                ioas: 0,
                negative: false,
            }),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_have_the_right_lengths() {
        assert_eq!(u_frame(u::STARTDT_ACT).bytes, vec![0x68, 4, 7, 0, 0, 0]);
        assert_eq!(s_frame(3).bytes, vec![0x68, 4, 1, 0, 6, 0]);
        let a = Asdu {
            type_id: ty::C_IC_NA_1,
            cot: cot::ACT,
            negative: false,
            ca: 1,
            objects: vec![(0, vec![20])],
        };
        let f = i_frame(1, 2, &a);
        assert_eq!(f.bytes.len(), 6 + 6 + 4);
        assert_eq!(f.bytes[1] as usize, f.bytes.len() - 2);
        assert_eq!(&f.bytes[2..6], &[2, 0, 4, 0]);
    }

    #[test]
    fn cp56_encodes_the_date() {
        // 2024-06-03T06:00:01.5Z, a Monday.
        let us = 1_717_394_401_500_000;
        let b = cp56(us);
        assert_eq!(u16::from_le_bytes([b[0], b[1]]), 1500);
        assert_eq!(b[2], 0);
        assert_eq!(b[3], 6);
        assert_eq!(b[4], 3 | (1 << 5));
        assert_eq!(b[5], 6);
        assert_eq!(b[6], 24);
    }
}
