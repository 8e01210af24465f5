//! BACnet/IP (ANSI/ASHRAE 135, Annex J and clauses 6, 15, 16, 20): BVLC, NPDU and APDUs for
//! Who-Is / I-Am, ReadProperty and its ComplexACK, with application-tagged values.

use crate::emit::{BacApdu, Rec};

/// BACnet/IP UDP port.
pub const PORT: u16 = 47808;

/// BVLC functions.
pub mod bvlc {
    /// Original-Unicast-NPDU.
    pub const UNICAST: u8 = 0x0a;
    /// Original-Broadcast-NPDU.
    pub const BROADCAST: u8 = 0x0b;
}

/// Object types.
pub mod obj {
    /// analog-input.
    pub const ANALOG_INPUT: u16 = 0;
    /// analog-value.
    pub const ANALOG_VALUE: u16 = 2;
    /// binary-input.
    pub const BINARY_INPUT: u16 = 3;
    /// device.
    pub const DEVICE: u16 = 8;
}

/// Property identifiers.
pub mod prop {
    /// application-software-version.
    pub const APPLICATION_SOFTWARE_VERSION: u8 = 12;
    /// firmware-revision.
    pub const FIRMWARE_REVISION: u8 = 44;
    /// model-name.
    pub const MODEL_NAME: u8 = 70;
    /// object-name.
    pub const OBJECT_NAME: u8 = 77;
    /// present-value.
    pub const PRESENT_VALUE: u8 = 85;
    /// vendor-name.
    pub const VENDOR_NAME: u8 = 121;
}

/// A BACnet/IP message and its manifest record.
#[derive(Clone, Debug)]
pub struct Msg {
    /// UDP payload.
    pub bytes: Vec<u8>,
    /// Manifest record.
    pub rec: Rec,
}

fn msg(function: u8, expecting_reply: bool, apdu: &[u8], rec: BacApdu) -> Msg {
    let mut b = vec![0x81, function, 0, 0, 0x01, if expecting_reply { 0x04 } else { 0x00 }];
    b.extend_from_slice(apdu);
    let len = b.len() as u16;
    b[2..4].copy_from_slice(&len.to_be_bytes());
    Msg { bytes: b, rec: Rec::Bacnet { bvlc: function, apdu: Some(rec) } }
}

fn object_id(kind: u16, instance: u32) -> [u8; 4] {
    ((u32::from(kind) << 22) | (instance & 0x3f_ffff)).to_be_bytes()
}

fn unsigned_app(v: u32) -> Vec<u8> {
    match v {
        0..=0xff => vec![0x21, v as u8],
        0x100..=0xffff => {
            let b = (v as u16).to_be_bytes();
            vec![0x22, b[0], b[1]]
        }
        _ => {
            let mut b = vec![0x24];
            b.extend_from_slice(&v.to_be_bytes());
            b
        }
    }
}

/// An application-tagged value.
#[derive(Clone, Debug)]
pub enum Value {
    /// REAL.
    Real(f32),
    /// Enumerated.
    Enum(u8),
    /// CharacterString (ANSI X3.4 / UTF-8).
    Text(String),
}

impl Value {
    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Value::Real(v) => {
                out.push(0x44);
                out.extend_from_slice(&v.to_be_bytes());
            }
            Value::Enum(v) => {
                out.push(0x91);
                out.push(*v);
            }
            Value::Text(s) => {
                let len = s.len() + 1;
                if len <= 4 {
                    out.push(0x70 | len as u8);
                } else {
                    out.push(0x75);
                    out.push(len as u8);
                }
                out.push(0x00);
                out.extend_from_slice(s.as_bytes());
            }
        }
    }
}

/// Who-Is without range, broadcast.
pub fn who_is() -> Msg {
    msg(
        bvlc::BROADCAST,
        false,
        &[0x10, 0x08],
        BacApdu { pdu_type: 1, confirmed: None, unconfirmed: Some(8), i_am: None },
    )
}

/// I-Am, broadcast.
pub fn i_am(instance: u32, vendor: u16) -> Msg {
    let mut a = vec![0x10, 0x00, 0xc4];
    a.extend_from_slice(&object_id(obj::DEVICE, instance));
    a.extend_from_slice(&[0x22, 0x05, 0xc4, 0x91, 0x03]);
    a.extend_from_slice(&unsigned_app(u32::from(vendor)));
    msg(
        bvlc::BROADCAST,
        false,
        &a,
        BacApdu {
            pdu_type: 1,
            confirmed: None,
            unconfirmed: Some(0),
            i_am: Some((instance, vendor)),
        },
    )
}

fn prop_ctx(p: u8, out: &mut Vec<u8>) {
    out.push(0x19);
    out.push(p);
}

/// ReadProperty confirmed request.
pub fn read_property(invoke: u8, kind: u16, instance: u32, property: u8) -> Msg {
    let mut a = vec![0x00, 0x05, invoke, 0x0c, 0x0c];
    a.extend_from_slice(&object_id(kind, instance));
    prop_ctx(property, &mut a);
    msg(
        bvlc::UNICAST,
        true,
        &a,
        BacApdu { pdu_type: 0, confirmed: Some(12), unconfirmed: None, i_am: None },
    )
}

/// ReadProperty ComplexACK.
pub fn read_property_ack(invoke: u8, kind: u16, instance: u32, property: u8, value: &Value) -> Msg {
    let mut a = vec![0x30, invoke, 0x0c, 0x0c];
    a.extend_from_slice(&object_id(kind, instance));
    prop_ctx(property, &mut a);
    a.push(0x3e);
    value.encode(&mut a);
    a.push(0x3f);
    msg(
        bvlc::UNICAST,
        false,
        &a,
        BacApdu { pdu_type: 3, confirmed: Some(12), unconfirmed: None, i_am: None },
    )
}

/// A deliberately malformed message: the BVLC length exceeds the datagram.
pub fn malformed(invoke: u8, instance: u32) -> Msg {
    let mut m = read_property(invoke, obj::DEVICE, instance, prop::OBJECT_NAME);
    // Truncate inside the object identifier and keep the original BVLC length.
    m.bytes.truncate(11);
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bvlc_length_is_the_datagram_length() {
        for m in
            [who_is(), i_am(1001, 5), read_property(1, obj::ANALOG_INPUT, 1, prop::PRESENT_VALUE)]
        {
            assert_eq!(usize::from(u16::from_be_bytes([m.bytes[2], m.bytes[3]])), m.bytes.len());
        }
        let m = read_property_ack(1, obj::DEVICE, 1, prop::MODEL_NAME, &Value::Text("FEC".into()));
        assert_eq!(&m.bytes[m.bytes.len() - 7..], &[0x3e, 0x74, 0x00, b'F', b'E', b'C', 0x3f][..]);
    }
}
