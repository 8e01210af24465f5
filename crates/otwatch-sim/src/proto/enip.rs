//! EtherNet/IP encapsulation and CIP messages, built from the ODVA CIP and EtherNet/IP
//! specifications (Volumes 1 and 2): RegisterSession, ListIdentity, SendRRData and
//! SendUnitData with the common packet format, Message Router requests and replies,
//! the Identity object, Forward Open, and class-1 I/O datagrams on UDP 2222.
//!
//! Read Tag / Write Tag (services 0x4C/0x4D on a symbolic path) are the Logix
//! data-table services described in Rockwell's public "Logix5000 Data Access"
//! programming manual.

use std::net::Ipv4Addr;

use crate::emit::{Layer, Rec};
use crate::plant::Identity;
use crate::tcp::Pdu;

/// Encapsulation commands.
pub mod cmd {
    /// ListIdentity.
    pub const LIST_IDENTITY: u16 = 0x0063;
    /// RegisterSession.
    pub const REGISTER_SESSION: u16 = 0x0065;
    /// UnRegisterSession.
    pub const UNREGISTER_SESSION: u16 = 0x0066;
    /// SendRRData (unconnected messages).
    pub const SEND_RR_DATA: u16 = 0x006f;
    /// SendUnitData (connected messages).
    pub const SEND_UNIT_DATA: u16 = 0x0070;
}

/// CIP services.
pub mod svc {
    /// Get_Attribute_All.
    pub const GET_ATTRIBUTE_ALL: u8 = 0x01;
    /// Reset.
    pub const RESET: u8 = 0x05;
    /// Get_Attribute_Single.
    pub const GET_ATTRIBUTE_SINGLE: u8 = 0x0e;
    /// Read Tag (Logix).
    pub const READ_TAG: u8 = 0x4c;
    /// Write Tag (Logix).
    pub const WRITE_TAG: u8 = 0x4d;
    /// Forward Open.
    pub const FORWARD_OPEN: u8 = 0x54;
    /// Forward Close.
    pub const FORWARD_CLOSE: u8 = 0x4e;
}

/// The vendor-specific firmware-update object class used by ControlFLASH-style updates.
pub const FIRMWARE_CLASS: u8 = 0xa1;

/// EtherNet/IP TCP and UDP port.
pub const PORT: u16 = 44818;
/// Class-1 I/O UDP port.
pub const IO_PORT: u16 = 2222;

/// A CIP request: service, EPATH and data.
#[derive(Clone, Debug)]
pub struct CipMsg {
    /// Encoded message.
    pub bytes: Vec<u8>,
    /// (service, is reply).
    pub service: (u8, bool),
    /// Addressed to a class tshark has no specific dissector for (a vendor class):
    /// tshark adds its generic `cipcls` layer.
    pub generic: bool,
}

/// An 8-bit class / instance path, optionally with an attribute.
pub fn path(class: u8, instance: u8, attribute: Option<u8>) -> Vec<u8> {
    let mut p = vec![0x20, class, 0x24, instance];
    if let Some(a) = attribute {
        p.extend_from_slice(&[0x30, a]);
    }
    p
}

/// An ANSI extended symbolic segment (tag name), padded to a 16-bit boundary.
pub fn symbol(name: &str) -> Vec<u8> {
    let mut p = vec![0x91, name.len() as u8];
    p.extend_from_slice(name.as_bytes());
    if p.len() % 2 == 1 {
        p.push(0);
    }
    p
}

/// A CIP request.
pub fn request(service: u8, epath: &[u8], data: &[u8]) -> CipMsg {
    debug_assert!(epath.len().is_multiple_of(2));
    let mut b = vec![service, (epath.len() / 2) as u8];
    b.extend_from_slice(epath);
    b.extend_from_slice(data);
    let generic = epath.first() == Some(&0x20) && epath.get(1).is_some_and(|c| *c >= 0x64);
    CipMsg { bytes: b, service: (service, false), generic }
}

/// A CIP reply with general status `status` (0 = success).
pub fn reply(service: u8, status: u8, data: &[u8]) -> CipMsg {
    let mut b = vec![service | 0x80, 0, status, 0];
    b.extend_from_slice(data);
    CipMsg { bytes: b, service: (service, true), generic: false }
}

fn encap(command: u16, session: u32, context: u64, data: &[u8]) -> Vec<u8> {
    let mut b = Vec::with_capacity(24 + data.len());
    b.extend_from_slice(&command.to_le_bytes());
    b.extend_from_slice(&(data.len() as u16).to_le_bytes());
    b.extend_from_slice(&session.to_le_bytes());
    b.extend_from_slice(&0u32.to_le_bytes());
    b.extend_from_slice(&context.to_le_bytes());
    b.extend_from_slice(&0u32.to_le_bytes());
    b.extend_from_slice(data);
    b
}

fn enip_rec(command: u16, udp: bool, cip: Option<&CipMsg>, cm: bool) -> Rec {
    Rec::Enip {
        command,
        udp,
        cip: cip.map(|c| vec![(c.service.0, c.service.1, true)]).unwrap_or_default(),
        cm,
    }
}

/// RegisterSession request (session 0) or reply (with the session handle).
pub fn register_session(session: u32, context: u64) -> Pdu {
    let b = encap(cmd::REGISTER_SESSION, session, context, &[1, 0, 0, 0]);
    Pdu::new(b, &[Layer::Enip], enip_rec(cmd::REGISTER_SESSION, false, None, false))
}

/// UnRegisterSession.
pub fn unregister_session(session: u32, context: u64) -> Pdu {
    let b = encap(cmd::UNREGISTER_SESSION, session, context, &[]);
    Pdu::new(b, &[Layer::Enip], enip_rec(cmd::UNREGISTER_SESSION, false, None, false))
}

/// ListIdentity request (no data).
pub fn list_identity_request(context: u64, udp: bool) -> Pdu {
    let b = encap(cmd::LIST_IDENTITY, 0, context, &[]);
    Pdu::new(b, &[Layer::Enip], enip_rec(cmd::LIST_IDENTITY, udp, None, false))
}

/// CIP device type of an identity (PLC 14, communications adapter 12).
pub fn device_type(ident: &Identity) -> u16 {
    if ident.model.starts_with("1756-L") { 0x0e } else { 0x0c }
}

fn identity_attrs(ident: &Identity, out: &mut Vec<u8>) {
    out.extend_from_slice(&ident.vendor_id.to_le_bytes());
    out.extend_from_slice(&device_type(ident).to_le_bytes());
    out.extend_from_slice(&ident.product_code.to_le_bytes());
    out.push(ident.revision.0);
    out.push(ident.revision.1);
    out.extend_from_slice(&0x0060u16.to_le_bytes());
    let serial = u32::from_str_radix(&ident.serial, 16).unwrap_or(0x0012_3456);
    out.extend_from_slice(&serial.to_le_bytes());
    out.push(ident.model.len() as u8);
    out.extend_from_slice(ident.model.as_bytes());
}

/// ListIdentity reply with one CIP identity item.
pub fn list_identity_reply(context: u64, ident: &Identity, ip: Ipv4Addr, udp: bool) -> Pdu {
    let mut item = vec![1, 0];
    item.extend_from_slice(&2u16.to_be_bytes());
    item.extend_from_slice(&PORT.to_be_bytes());
    item.extend_from_slice(&ip.octets());
    item.extend_from_slice(&[0; 8]);
    identity_attrs(ident, &mut item);
    item.push(3); // state: operational
    let mut d = 1u16.to_le_bytes().to_vec();
    d.extend_from_slice(&0x000cu16.to_le_bytes());
    d.extend_from_slice(&(item.len() as u16).to_le_bytes());
    d.extend_from_slice(&item);
    let b = encap(cmd::LIST_IDENTITY, 0, context, &d);
    Pdu::new(b, &[Layer::Enip], enip_rec(cmd::LIST_IDENTITY, udp, None, false))
}

/// Get_Attribute_All reply data of the Identity object (attributes 1–7).
pub fn identity_reply(ident: &Identity) -> CipMsg {
    let mut d = Vec::new();
    identity_attrs(ident, &mut d);
    reply(svc::GET_ATTRIBUTE_ALL, 0, &d)
}

/// SendRRData carrying one unconnected CIP message.
pub fn send_rr_data(session: u32, context: u64, msg: &CipMsg) -> Pdu {
    let mut d = vec![0, 0, 0, 0]; // interface handle
    d.extend_from_slice(&(if msg.service.1 { 0u16 } else { 10u16 }).to_le_bytes());
    d.extend_from_slice(&2u16.to_le_bytes());
    d.extend_from_slice(&[0, 0, 0, 0]); // null address item
    d.extend_from_slice(&0x00b2u16.to_le_bytes());
    d.extend_from_slice(&(msg.bytes.len() as u16).to_le_bytes());
    d.extend_from_slice(&msg.bytes);
    let b = encap(cmd::SEND_RR_DATA, session, context, &d);
    let cm = msg.service.0 == svc::FORWARD_OPEN || msg.service.0 == svc::FORWARD_CLOSE;
    let mut layers = vec![Layer::Enip, Layer::Cip];
    if cm {
        layers.push(Layer::Cipcm);
    }
    if msg.generic {
        layers.push(Layer::Cipcls);
    }
    Pdu::new(b, &layers, enip_rec(cmd::SEND_RR_DATA, false, Some(msg), cm))
}

/// SendUnitData carrying one connected (class 3) CIP message.
pub fn send_unit_data(session: u32, conn_id: u32, seq: u16, msg: &CipMsg) -> Pdu {
    let mut d = vec![0, 0, 0, 0, 0, 0];
    d.extend_from_slice(&2u16.to_le_bytes());
    d.extend_from_slice(&0x00a1u16.to_le_bytes());
    d.extend_from_slice(&4u16.to_le_bytes());
    d.extend_from_slice(&conn_id.to_le_bytes());
    d.extend_from_slice(&0x00b1u16.to_le_bytes());
    d.extend_from_slice(&((msg.bytes.len() + 2) as u16).to_le_bytes());
    d.extend_from_slice(&seq.to_le_bytes());
    d.extend_from_slice(&msg.bytes);
    let b = encap(cmd::SEND_UNIT_DATA, session, 0, &d);
    Pdu::new(
        b,
        &[Layer::Enip, Layer::Cip, Layer::Cipcls],
        enip_rec(cmd::SEND_UNIT_DATA, false, Some(msg), false),
    )
}

/// Parameters of one Forward Open.
#[derive(Clone, Copy, Debug)]
pub struct ForwardOpen {
    /// O→T connection id (chosen by the target; 0 in the request).
    pub o_t_id: u32,
    /// T→O connection id (chosen by the originator).
    pub t_o_id: u32,
    /// Connection serial number.
    pub serial: u16,
    /// Originator vendor id.
    pub vendor: u16,
    /// Originator serial number.
    pub orig_serial: u32,
    /// Requested packet interval, microseconds (both directions).
    pub rpi: u32,
    /// Class-1 cyclic I/O (else class-3 explicit messaging).
    pub io: bool,
    /// O→T and T→O connection sizes (class 1).
    pub sizes: (u16, u16),
}

/// Forward Open request to the Connection Manager.
pub fn forward_open_request(fo: &ForwardOpen) -> CipMsg {
    let mut d = vec![0x0a, 0x0e];
    d.extend_from_slice(&0u32.to_le_bytes());
    d.extend_from_slice(&fo.t_o_id.to_le_bytes());
    d.extend_from_slice(&fo.serial.to_le_bytes());
    d.extend_from_slice(&fo.vendor.to_le_bytes());
    d.extend_from_slice(&fo.orig_serial.to_le_bytes());
    d.push(1); // timeout multiplier x8
    d.extend_from_slice(&[0, 0, 0]);
    let (o_t_params, t_o_params, trigger, conn_path): (u16, u16, u8, Vec<u8>) = if fo.io {
        (
            0x4000 | 0x0400 | fo.sizes.0,
            0x4000 | 0x0400 | fo.sizes.1,
            0x01,
            vec![0x20, 0x04, 0x24, 0x01, 0x2c, 0x96, 0x2c, 0x64],
        )
    } else {
        (
            0x4000 | 0x0200 | 500,
            0x4000 | 0x0200 | 500,
            0xa3,
            vec![0x01, 0x00, 0x20, 0x02, 0x24, 0x01],
        )
    };
    d.extend_from_slice(&fo.rpi.to_le_bytes());
    d.extend_from_slice(&o_t_params.to_le_bytes());
    d.extend_from_slice(&fo.rpi.to_le_bytes());
    d.extend_from_slice(&t_o_params.to_le_bytes());
    d.push(trigger);
    d.push((conn_path.len() / 2) as u8);
    d.extend_from_slice(&conn_path);
    request(svc::FORWARD_OPEN, &path(0x06, 0x01, None), &d)
}

/// Successful Forward Open reply.
pub fn forward_open_reply(fo: &ForwardOpen) -> CipMsg {
    let mut d = fo.o_t_id.to_le_bytes().to_vec();
    d.extend_from_slice(&fo.t_o_id.to_le_bytes());
    d.extend_from_slice(&fo.serial.to_le_bytes());
    d.extend_from_slice(&fo.vendor.to_le_bytes());
    d.extend_from_slice(&fo.orig_serial.to_le_bytes());
    d.extend_from_slice(&fo.rpi.to_le_bytes());
    d.extend_from_slice(&fo.rpi.to_le_bytes());
    d.push(0);
    d.push(0);
    reply(svc::FORWARD_OPEN, 0, &d)
}

/// Logix Read Tag request for one element.
pub fn read_tag(tag: &str) -> CipMsg {
    request(svc::READ_TAG, &symbol(tag), &1u16.to_le_bytes())
}

/// Logix Read Tag reply with a REAL value.
pub fn read_tag_reply_real(value: f32) -> CipMsg {
    let mut d = 0x00cau16.to_le_bytes().to_vec();
    d.extend_from_slice(&value.to_le_bytes());
    reply(svc::READ_TAG, 0, &d)
}

/// Logix Read Tag reply with a DINT value.
pub fn read_tag_reply_dint(value: i32) -> CipMsg {
    let mut d = 0x00c4u16.to_le_bytes().to_vec();
    d.extend_from_slice(&value.to_le_bytes());
    reply(svc::READ_TAG, 0, &d)
}

/// Logix Write Tag request writing one REAL.
pub fn write_tag_real(tag: &str, value: f32) -> CipMsg {
    let mut d = 0x00cau16.to_le_bytes().to_vec();
    d.extend_from_slice(&1u16.to_le_bytes());
    d.extend_from_slice(&value.to_le_bytes());
    request(svc::WRITE_TAG, &symbol(tag), &d)
}

/// Class-1 I/O datagram: sequenced address item and connected data item.
pub fn io_datagram(
    conn_id: u32,
    encap_seq: u32,
    cip_seq: u16,
    run_idle: Option<u32>,
    data: &[u8],
) -> Vec<u8> {
    let mut b = 2u16.to_le_bytes().to_vec();
    b.extend_from_slice(&0x8002u16.to_le_bytes());
    b.extend_from_slice(&8u16.to_le_bytes());
    b.extend_from_slice(&conn_id.to_le_bytes());
    b.extend_from_slice(&encap_seq.to_le_bytes());
    b.extend_from_slice(&0x00b1u16.to_le_bytes());
    let len = 2 + run_idle.map_or(0, |_| 4) + data.len();
    b.extend_from_slice(&(len as u16).to_le_bytes());
    b.extend_from_slice(&cip_seq.to_le_bytes());
    if let Some(h) = run_idle {
        b.extend_from_slice(&h.to_le_bytes());
    }
    b.extend_from_slice(data);
    b
}

/// A deliberately malformed SendRRData: correctly framed, but its unconnected data item
/// claims 64 bytes where a 6-byte CIP request follows.
pub fn malformed(session: u32, context: u64) -> Pdu {
    let msg = request(svc::GET_ATTRIBUTE_ALL, &path(0x01, 0x01, None), &[]);
    let mut d = vec![0, 0, 0, 0, 10, 0, 2, 0, 0, 0, 0, 0];
    d.extend_from_slice(&0x00b2u16.to_le_bytes());
    d.extend_from_slice(&64u16.to_le_bytes());
    d.extend_from_slice(&msg.bytes);
    let b = encap(cmd::SEND_RR_DATA, session, context, &d);
    let mut p = Pdu::new(
        b,
        &[Layer::Enip, Layer::Cip],
        enip_rec(cmd::SEND_RR_DATA, false, Some(&msg), false),
    );
    p.malformed = true;
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encapsulation_length_is_data_length() {
        let p = register_session(0, 7);
        assert_eq!(p.bytes.len(), 28);
        assert_eq!(u16::from_le_bytes([p.bytes[2], p.bytes[3]]), 4);
        let m = read_tag("Line1_Speed");
        // service, path words, 0x91, len, 11 chars + pad, element count.
        assert_eq!(m.bytes[1] as usize * 2, 2 + 11 + 1);
    }
}
