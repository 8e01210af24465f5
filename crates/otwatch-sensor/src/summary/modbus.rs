//! Modbus/TCP summary handler: maps the modbus dissector's output to the truth-file keys.
//!
//! Counting follows the truth files (see `../shared/pcaps/MANIFEST.md`):
//! request or response is decided by port (to the server port is a
//! request), function codes are counted with the exception bit stripped,
//! unit ids per PDU, servers and clients per frame.
//!
//! Framing follows what tshark accepts, measured on hand-made captures:
//! every ADU is framed by its MBAP length (6 + length, whatever the length).
//! Where tshark starts dissecting (at the start of a segment, or of bytes
//! kept from the previous one) it first checks that at least 8 bytes are
//! there, the protocol id is 0 and the length is at least 2; if not, the
//! rest of the segment is not Modbus. ADUs after the first in the same
//! buffer are not checked: they count whatever their protocol id, except
//! those too short to hold a function code.
//!
//! The hook does not say where a segment starts, but the pipeline frames a
//! buffer by calling [`ProtocolHandler::pdu_len`] on it and then on what
//! follows each ADU in the same buffer. So a call whose buffer begins
//! exactly where the previous call's ADU ended, with the remaining length,
//! is a continuation; any other call is a fresh start and gets the checks.

use std::cell::Cell;
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use otwatch_dissect::modbus::{self, Body, DeviceObjectId, FunctionCode};
use otwatch_dissect::{DecodeError, Direction};
use serde_json::{Value, json};

use super::handler::{PduContext, ProtocolHandler};

/// Distinct server or client addresses kept at most (each list).
const MAX_ADDRESSES: usize = 4096;
/// Distinct (function, exception) pairs kept at most.
const MAX_EXCEPTION_KINDS: usize = 1024;
/// Distinct (source, device identification string) pairs kept at most.
const MAX_DEVICE_STRINGS: usize = 1024;
/// Distinct server ports kept at most.
const MAX_SERVER_PORTS: usize = 64;
/// Bytes tshark needs at the start of a dissection to look at a segment.
const MIN_FIRST_BYTES: usize = 8;

/// Counts Modbus/TCP traffic for the `modbus` section of the summary.
#[derive(Debug, Default)]
pub struct ModbusSummary {
    frames: u64,
    last_frame: Option<u64>,
    pdus: u64,
    requests: u64,
    responses: u64,
    unknown_direction: u64,
    server_ports: BTreeSet<u16>,
    function_codes: BTreeMap<u8, u64>,
    function_codes_requests: BTreeMap<u8, u64>,
    function_codes_responses: BTreeMap<u8, u64>,
    exceptions: BTreeMap<(u8, u8), u64>,
    unit_ids: BTreeMap<u8, u64>,
    servers: BTreeSet<IpAddr>,
    clients: BTreeSet<IpAddr>,
    device_identification: BTreeSet<(IpAddr, String)>,
    /// Where the next continuation call of `pdu_len` would start (buffer
    /// address) and how many bytes it would see.
    continuation: Cell<Option<(usize, usize)>>,
}

/// How the truth files classify a PDU: by port.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PortDirection {
    Request,
    Response,
    Unknown,
}

fn bump<K: Ord>(map: &mut BTreeMap<K, u64>, key: K) {
    let n = map.entry(key).or_insert(0);
    *n = n.saturating_add(1);
}

fn insert_bounded<T: Ord>(set: &mut BTreeSet<T>, value: T, max: usize) {
    if set.len() < max || set.contains(&value) {
        set.insert(value);
    }
}

fn counts<K: ToString>(map: &BTreeMap<K, u64>) -> Value {
    // Keys are decimal strings, as in the truth files.
    Value::Object(map.iter().map(|(k, v)| (k.to_string(), json!(v))).collect())
}

/// tshark's Modbus/TCP (and /UDP) layer reads a few bytes after the
/// function code for its summary line (the exception code, the Diagnostics
/// sub-function, the MEI type); when they are missing it gives up on the
/// ADU: the frame still shows the transport layer, nothing is counted.
fn mbtcp_layer_complete(adu: &modbus::Adu<'_>) -> bool {
    let needed = if adu.pdu.function.is_exception() {
        1
    } else {
        match adu.pdu.function {
            FunctionCode::DIAGNOSTICS => 2,
            FunctionCode::ENCAPSULATED_INTERFACE_TRANSPORT => 1,
            _ => 0,
        }
    };
    adu.pdu.data.len() >= needed
}

impl ModbusSummary {
    /// The server port of this flow: the registered port when either side
    /// uses it, else the server the pipeline decided on (a probed flow).
    fn server_port(cx: &PduContext<'_>) -> u16 {
        if cx.src.port == modbus::PORT || cx.dst.port == modbus::PORT {
            modbus::PORT
        } else {
            cx.server.port
        }
    }

    fn port_direction(cx: &PduContext<'_>, server_port: u16) -> PortDirection {
        match (cx.src.port == server_port, cx.dst.port == server_port) {
            (false, true) => PortDirection::Request,
            (true, false) => PortDirection::Response,
            _ => PortDirection::Unknown,
        }
    }
}

impl ProtocolHandler for ModbusSummary {
    fn name(&self) -> &'static str {
        "modbus"
    }

    fn active(&self) -> bool {
        true
    }

    fn frame_tags(&self) -> &'static [&'static str] {
        &["mbtcp", "modbus", "mbudp"]
    }

    fn tcp_ports(&self) -> &'static [u16] {
        &[modbus::PORT]
    }

    fn udp_ports(&self) -> &'static [u16] {
        &[modbus::PORT]
    }

    fn on_datagram(&mut self, cx: &mut PduContext<'_>, payload: &[u8]) {
        // Modbus/UDP counts only in `protocols.ot_protocol_frames` (the truth
        // files' modbus section is Modbus/TCP); tshark applies the same
        // first checks as on TCP and looks at the first ADU only.
        let Ok(prefix) = modbus::mbap_prefix(payload) else { return };
        if payload.len() < MIN_FIRST_BYTES
            || prefix.protocol_id != 0
            || prefix.length < modbus::MIN_MBAP_LENGTH
        {
            return;
        }
        cx.mark("mbudp");
        let server_port = ModbusSummary::server_port(cx);
        let dir = match ModbusSummary::port_direction(cx, server_port) {
            PortDirection::Request => Direction::ToServer,
            PortDirection::Response => Direction::ToClient,
            PortDirection::Unknown => cx.direction,
        };
        if let Ok((_, adu)) = modbus::parse(payload, dir)
            && mbtcp_layer_complete(&adu)
        {
            cx.mark("modbus");
        }
    }

    fn probe_tcp(&self, payload: &[u8]) -> bool {
        modbus::probe(payload)
    }

    fn pdu_len(&self, buf: &[u8]) -> Result<usize, DecodeError> {
        // The address is only compared, never dereferenced.
        let start = buf.as_ptr() as usize;
        let fresh = self.continuation.get() != Some((start, buf.len()));
        self.continuation.set(None);
        if fresh && buf.len() < MIN_FIRST_BYTES {
            return Err(DecodeError::Malformed("modbus: too short to start a segment"));
        }
        let prefix = modbus::mbap_prefix(buf)?;
        if fresh && (prefix.protocol_id != 0 || prefix.length < modbus::MIN_MBAP_LENGTH) {
            return Err(DecodeError::Malformed("modbus: not an MBAP header"));
        }
        let n = prefix.adu_len();
        if let Some(left) = buf.len().checked_sub(n) {
            self.continuation.set(Some((start.wrapping_add(n), left)));
        }
        Ok(n)
    }

    fn on_pdu(&mut self, cx: &mut PduContext<'_>, pdu: &[u8]) {
        let server_port = ModbusSummary::server_port(cx);
        let pd = ModbusSummary::port_direction(cx, server_port);
        let dir = match pd {
            PortDirection::Request => Direction::ToServer,
            PortDirection::Response => Direction::ToClient,
            PortDirection::Unknown => cx.direction,
        };
        // ADUs too short for a function code are skipped, as tshark does.
        let Ok((_, adu)) = modbus::parse(pdu, dir) else { return };
        cx.mark("mbtcp");
        if !mbtcp_layer_complete(&adu) {
            return;
        }
        cx.mark("modbus");
        if self.last_frame != Some(cx.frame_number) {
            self.last_frame = Some(cx.frame_number);
            self.frames = self.frames.saturating_add(1);
        }
        self.pdus = self.pdus.saturating_add(1);
        insert_bounded(&mut self.server_ports, server_port, MAX_SERVER_PORTS);
        bump(&mut self.unit_ids, adu.header.unit_id);
        let fc = adu.pdu.function.base().0;
        bump(&mut self.function_codes, fc);
        match pd {
            PortDirection::Request => {
                self.requests = self.requests.saturating_add(1);
                bump(&mut self.function_codes_requests, fc);
                insert_bounded(&mut self.servers, cx.dst.addr, MAX_ADDRESSES);
                insert_bounded(&mut self.clients, cx.src.addr, MAX_ADDRESSES);
            }
            PortDirection::Response => {
                self.responses = self.responses.saturating_add(1);
                bump(&mut self.function_codes_responses, fc);
                insert_bounded(&mut self.servers, cx.src.addr, MAX_ADDRESSES);
                insert_bounded(&mut self.clients, cx.dst.addr, MAX_ADDRESSES);
            }
            PortDirection::Unknown => {
                self.unknown_direction = self.unknown_direction.saturating_add(1);
            }
        }
        // An exception code is read whenever bit 7 is set, whichever way the
        // PDU travels; tshark takes code 0 for "no exception".
        if adu.pdu.function.is_exception()
            && let Some(&code) = adu.pdu.data.first()
            && code != 0
            && (self.exceptions.len() < MAX_EXCEPTION_KINDS
                || self.exceptions.contains_key(&(fc, code)))
        {
            bump(&mut self.exceptions, (fc, code));
        }
        if let Body::ReadDeviceIdResponse { objects, .. } = adu.pdu.body {
            for o in objects.iter() {
                if o.id.0 <= DeviceObjectId::USER_APPLICATION_NAME.0
                    && let Some(s) = o.value_str()
                {
                    insert_bounded(
                        &mut self.device_identification,
                        (cx.src.addr, s.to_string()),
                        MAX_DEVICE_STRINGS,
                    );
                }
            }
        }
    }

    fn summary(&self) -> Option<Value> {
        if self.frames == 0 {
            return None;
        }
        // The truth files order exceptions by the function code as text.
        let mut exc: Vec<(String, u8, u8, u64)> =
            self.exceptions.iter().map(|(&(f, e), &c)| (f.to_string(), e, f, c)).collect();
        exc.sort();
        let exceptions: Vec<Value> = exc
            .into_iter()
            .map(|(_, e, f, c)| json!({"function_code": f, "exception_code": e, "count": c}))
            .collect();
        let addrs = |s: &BTreeSet<IpAddr>| {
            let mut v: Vec<String> = s.iter().map(ToString::to_string).collect();
            v.sort();
            v
        };
        let mut ids: Vec<(String, &String)> =
            self.device_identification.iter().map(|(src, v)| (src.to_string(), v)).collect();
        ids.sort();
        let devid: Vec<Value> =
            ids.into_iter().map(|(src, v)| json!({"src": src, "value": v})).collect();
        Some(json!({
            "frames": self.frames,
            "pdus": self.pdus,
            "requests": self.requests,
            "responses": self.responses,
            "unknown_direction": self.unknown_direction,
            "server_ports": self.server_ports.iter().collect::<Vec<_>>(),
            "function_codes": counts(&self.function_codes),
            "function_codes_requests": counts(&self.function_codes_requests),
            "function_codes_responses": counts(&self.function_codes_responses),
            "exception_responses": self.exceptions.values().sum::<u64>(),
            "exceptions": exceptions,
            "unit_ids": counts(&self.unit_ids),
            "servers": addrs(&self.servers),
            "clients": addrs(&self.clients),
            "device_identification": devid,
        }))
    }
}
