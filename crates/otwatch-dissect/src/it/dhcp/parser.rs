//! DHCP decoding: the fixed BOOTP header, then the options after the cookie.

use crate::DecodeError;
use crate::reader::Reader;

use super::anomaly::Anomalies;
use super::types::{Message, MessageType, Op, OptionCode, Options};

/// Bytes of the fixed BOOTP header (before the magic cookie).
pub const FIXED_LEN: usize = 236;
/// The DHCP magic cookie (99.130.83.99).
pub const MAGIC_COOKIE: [u8; 4] = [99, 130, 83, 99];
/// Options read at most; the iterator stops there.
pub const MAX_OPTIONS: usize = 128;
/// Largest hardware address.
const MAX_HLEN: u8 = 16;

/// Decodes one DHCP/BOOTP message (a whole UDP payload). `Malformed` when
/// it is shorter than the fixed BOOTP header.
pub fn parse(input: &[u8]) -> Result<Message<'_>, DecodeError> {
    let mut r = Reader::new(input);
    if r.left() < FIXED_LEN {
        return Err(DecodeError::Malformed("dhcp: shorter than the BOOTP header"));
    }
    let mut an = Anomalies::NONE;
    let op = Op(r.u8()?);
    if op.name().is_none() {
        an |= Anomalies::INVALID_OP;
    }
    let htype = r.u8()?;
    let hlen = r.u8()?;
    if hlen > MAX_HLEN {
        an |= Anomalies::INVALID_HLEN;
    }
    let hops = r.u8()?;
    let xid = r.u32_be()?;
    let secs = r.u16_be()?;
    let flags = r.u16_be()?;
    let ciaddr = r.take_array()?;
    let yiaddr = r.take_array()?;
    let siaddr = r.take_array()?;
    let giaddr = r.take_array()?;
    let chaddr_field = r.take(16)?;
    let chaddr = chaddr_field.get(..usize::from(hlen.min(MAX_HLEN))).unwrap_or(chaddr_field);
    let sname = r.take(64)?;
    let file = r.take(128)?;
    let mut msg = Message {
        op,
        htype,
        hlen,
        hops,
        xid,
        secs,
        flags,
        ciaddr,
        yiaddr,
        siaddr,
        giaddr,
        chaddr,
        sname,
        file,
        has_magic_cookie: false,
        message_type: None,
        host_name: None,
        vendor_class_id: None,
        parameter_request_list: None,
        requested_ip: None,
        server_id: None,
        client_id: None,
        options: Options { bytes: &[] },
        anomalies: an,
    };
    match r.take_array::<4>() {
        Ok(cookie) if cookie == MAGIC_COOKIE => msg.has_magic_cookie = true,
        // Plain BOOTP: the vendor area is opaque.
        _ => return Ok(msg),
    }
    msg.options = Options { bytes: r.rest() };
    read_options(&mut msg);
    Ok(msg)
}

/// Fills the well-known option fields and checks the option area.
fn read_options(msg: &mut Message<'_>) {
    let mut an = Anomalies::NONE;
    let mut seen = [false; 256];
    let mut count = 0usize;
    for o in msg.options.iter() {
        count = count.saturating_add(1);
        let slot = seen.get_mut(usize::from(o.code.0));
        if let Some(s) = slot {
            if *s {
                an |= Anomalies::DUPLICATE_OPTION;
            }
            *s = true;
        }
        let v = o.value;
        match o.code {
            OptionCode::MESSAGE_TYPE => match v {
                [t] => msg.message_type = Some(MessageType(*t)),
                _ => an |= Anomalies::INVALID_OPTION_LENGTH,
            },
            OptionCode::HOST_NAME => {
                if v.is_empty() {
                    an |= Anomalies::INVALID_OPTION_LENGTH;
                }
                msg.host_name = Some(v);
            }
            OptionCode::VENDOR_CLASS_ID => {
                if v.is_empty() {
                    an |= Anomalies::INVALID_OPTION_LENGTH;
                }
                msg.vendor_class_id = Some(v);
            }
            OptionCode::PARAMETER_REQUEST_LIST => {
                if v.is_empty() {
                    an |= Anomalies::INVALID_OPTION_LENGTH;
                }
                msg.parameter_request_list = Some(v);
            }
            OptionCode::CLIENT_ID => {
                if v.len() < 2 {
                    an |= Anomalies::INVALID_OPTION_LENGTH;
                }
                msg.client_id = Some(v);
            }
            OptionCode::REQUESTED_IP => match <[u8; 4]>::try_from(v) {
                Ok(a) => msg.requested_ip = Some(a),
                Err(_) => an |= Anomalies::INVALID_OPTION_LENGTH,
            },
            OptionCode::SERVER_ID => match <[u8; 4]>::try_from(v) {
                Ok(a) => msg.server_id = Some(a),
                Err(_) => an |= Anomalies::INVALID_OPTION_LENGTH,
            },
            _ => {}
        }
    }
    if count >= MAX_OPTIONS {
        an |= Anomalies::TOO_MANY_OPTIONS;
    } else {
        an |= check_termination(msg.options.bytes);
    }
    match msg.message_type {
        // BOOTP with vendor extensions: nothing to check.
        None => {}
        Some(t) if t.name().is_none() => an |= Anomalies::UNKNOWN_MESSAGE_TYPE,
        Some(t) => {
            let wrong = match msg.op {
                Op::BOOTREQUEST => !t.is_from_client(),
                Op::BOOTREPLY => t.is_from_client(),
                _ => false,
            };
            if wrong {
                an |= Anomalies::WRONG_DIRECTION;
            }
        }
    }
    msg.anomalies |= an;
}

/// Walks the option area to see how it ends: End, truncation, or nothing.
fn check_termination(bytes: &[u8]) -> Anomalies {
    let mut r = Reader::new(bytes);
    // Each step consumes at least one byte, so this ends.
    while let Ok(code) = r.u8() {
        match OptionCode(code) {
            OptionCode::END => return Anomalies::NONE,
            OptionCode::PAD => {}
            _ => {
                let Ok(len) = r.u8() else { return Anomalies::TRUNCATED_OPTION };
                if r.skip(usize::from(len)).is_err() {
                    return Anomalies::TRUNCATED_OPTION;
                }
            }
        }
    }
    Anomalies::MISSING_END
}
