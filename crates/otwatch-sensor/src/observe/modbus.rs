//! Modbus/TCP (and Modbus/UDP) to observations: requests, responses, exceptions, identification, anomalies.
//!
//! Requests and responses are told apart by direction (to the server is a
//! request). Requests carry their address range in the register space of
//! the function; exception responses carry the exception code. Read Device
//! Identification (FC 43/14) responses become an [`Identity`] of the
//! server (vendor, product code, revision, product and model names), and
//! UMAS (FC 90) codes become the engineering operations they stand for.

use std::collections::HashMap;

use otwatch_detect::observation::{
    AddressRange, AppMessage, Identity, Kind, Operation, Protocol, Role, Status,
};
use otwatch_dissect::modbus::{self, Body, DeviceObjectId, FunctionCode, Transactions};
use otwatch_dissect::{DecodeError, Direction};

use super::{ObserveHandler, Pending, from_pdu, malformed, names};
use crate::summary::handler::{PduContext, ProtocolHandler};
use otwatch_detect::Observation;

/// Connections whose request/response matching is tracked at once.
pub const MAX_TRACKED_FLOWS: usize = 4096;

/// Observes Modbus traffic.
#[derive(Debug, Default)]
pub struct ModbusObserver {
    out: Pending,
    tx: HashMap<u64, Transactions>,
}

/// The detection operation of a Modbus PDU.
fn operation(pdu: &modbus::Pdu<'_>) -> Operation {
    use modbus::Operation as M;
    match pdu.operation() {
        M::Read => Operation::Read,
        M::Write => Operation::Write,
        M::Diagnostic => Operation::Diagnostics,
        M::Identification => Operation::Identify,
        M::Configure => Operation::ConfigWrite,
        M::Restart => Operation::WarmRestart,
        M::ListenOnly => Operation::ConfigWrite,
        M::Start => Operation::Start,
        M::Stop => Operation::Stop,
        M::ProgramUpload => Operation::ProgramUpload,
        M::ProgramDownload => Operation::ProgramDownload,
        M::Session => Operation::Session,
        M::Exception => Operation::Error,
        M::Other => Operation::Other,
    }
}

/// The register space a function code addresses.
fn space(fc: FunctionCode) -> &'static str {
    match fc.base().0 {
        1 | 5 | 15 => "coils",
        2 => "discrete_inputs",
        4 => "input_registers",
        20 | 21 => "file",
        _ => "holding_registers",
    }
}

/// Maps one decoded ADU to its application message.
pub(crate) fn message(adu: &modbus::Adu<'_>, role: Role) -> AppMessage {
    let pdu = &adu.pdu;
    let mut m = AppMessage::new(Protocol::Modbus, role, u32::from(pdu.function.0), operation(pdu));
    m.function_name = pdu.function.name();
    m.unit = Some(u32::from(adu.header.unit_id));
    m.length = u32::from(adu.header.length).saturating_add(6);
    m.anomalies = names(adu.anomalies.names());
    let range = |start: u16, count: u16| AddressRange {
        space: space(pdu.function),
        start: u32::from(start),
        count: u32::from(count),
    };
    match pdu.body {
        Body::ReadRequest { start, quantity } => m.ranges.push(range(start, quantity)),
        Body::WriteSingle { address, .. } if role == Role::Request => {
            m.ranges.push(range(address, 1))
        }
        Body::WriteMultipleRequest { start, quantity, .. } => m.ranges.push(range(start, quantity)),
        Body::MaskWrite { address, .. } if role == Role::Request => {
            m.ranges.push(range(address, 1))
        }
        Body::ReadWriteRequest {
            read_start, read_quantity, write_start, write_quantity, ..
        } => {
            m.ranges.push(AddressRange {
                space: "holding_registers",
                start: u32::from(read_start),
                count: u32::from(read_quantity),
            });
            m.ranges.push(AddressRange {
                space: "holding_registers",
                start: u32::from(write_start),
                count: u32::from(write_quantity),
            });
        }
        Body::ReadFifoRequest { address } => m.ranges.push(range(address, 1)),
        Body::Diagnostics { sub_function, .. } => m.sub_function = Some(u32::from(sub_function.0)),
        Body::Umas { code, .. } => {
            m.sub_function = Some(u32::from(code.0));
            m.function_name = code.name().or(m.function_name);
        }
        Body::Exception { code } => {
            m.status = Some(Status::Error);
            m.error_code = Some(u32::from(code.0));
            m.error_name = code.name();
        }
        _ => {}
    }
    if role == Role::Response && m.status.is_none() {
        m.status = Some(match pdu.body {
            Body::Umas { code, .. } if code == modbus::UmasCode::RESPONSE_ERROR => Status::Error,
            _ => Status::Ok,
        });
        if m.status == Some(Status::Error) {
            m.operation = Operation::Error;
        }
    }
    m
}

/// The identity in a Read Device Identification response, if any.
pub(crate) fn identity(adu: &modbus::Adu<'_>) -> Option<Identity> {
    let Body::ReadDeviceIdResponse { objects, .. } = adu.pdu.body else { return None };
    let mut id = Identity { protocol: Protocol::Modbus, ..Identity::default() };
    let text = |v: &[u8]| {
        let s = String::from_utf8_lossy(v).trim().to_string();
        if s.is_empty() { None } else { Some(s) }
    };
    for o in objects.iter() {
        let value = text(o.value);
        match o.id {
            DeviceObjectId::VENDOR_NAME => id.vendor = value,
            DeviceObjectId::PRODUCT_CODE => {
                if let Some(v) = value {
                    id.details.push(("product_code", v));
                }
            }
            DeviceObjectId::MAJOR_MINOR_REVISION => id.firmware = value,
            DeviceObjectId::PRODUCT_NAME if id.model.is_none() => id.model = value,
            DeviceObjectId::MODEL_NAME => id.model = value.or(id.model.take()),
            DeviceObjectId::USER_APPLICATION_NAME => id.name = value,
            DeviceObjectId::VENDOR_URL => {
                if let Some(v) = value {
                    id.details.push(("vendor_url", v));
                }
            }
            _ => {}
        }
    }
    id.details.sort();
    let empty = id.vendor.is_none() && id.model.is_none() && id.firmware.is_none();
    if empty { None } else { Some(id) }
}

impl ModbusObserver {
    fn on_adu(&mut self, cx: &PduContext<'_>, bytes: &[u8], track: bool) {
        let dir = if cx.dst.port == modbus::PORT {
            Direction::ToServer
        } else if cx.src.port == modbus::PORT {
            Direction::ToClient
        } else {
            cx.direction
        };
        let role = super::role_by_direction(dir);
        match modbus::parse(bytes, dir) {
            Ok((_, mut adu)) => {
                if track {
                    if !self.tx.contains_key(&cx.flow_id) && self.tx.len() >= MAX_TRACKED_FLOWS {
                        // Flow ids grow, so the smallest is the oldest flow.
                        if let Some(&oldest) = self.tx.keys().min() {
                            self.tx.remove(&oldest);
                        }
                    }
                    adu.anomalies |= self.tx.entry(cx.flow_id).or_default().observe(&adu);
                }
                let m = message(&adu, role);
                if !adu.anomalies.is_empty() {
                    let k = malformed(Protocol::Modbus, m.anomalies, Some(m.function), Some(role));
                    self.out.push(from_pdu(cx, k));
                }
                self.out.push(from_pdu(cx, Kind::App(m)));
                if let Some(id) = identity(&adu) {
                    self.out.push(from_pdu(cx, Kind::Identity(id)));
                }
            }
            Err(DecodeError::Malformed(_)) | Err(DecodeError::Incomplete { .. }) => {
                let mut n = otwatch_detect::observation::AnomalyNames::default();
                n.push("modbus.undecodable");
                self.out.push(from_pdu(cx, malformed(Protocol::Modbus, n, None, Some(role))));
            }
        }
    }
}

impl ProtocolHandler for ModbusObserver {
    fn name(&self) -> &'static str {
        "modbus"
    }

    fn active(&self) -> bool {
        true
    }

    fn tcp_ports(&self) -> &'static [u16] {
        &[modbus::PORT]
    }

    fn udp_ports(&self) -> &'static [u16] {
        &[modbus::PORT]
    }

    fn probe_tcp(&self, payload: &[u8]) -> bool {
        modbus::probe(payload)
    }

    fn pdu_len(&self, buf: &[u8]) -> Result<usize, DecodeError> {
        modbus::pdu_len(buf)
    }

    fn on_pdu(&mut self, cx: &mut PduContext<'_>, pdu: &[u8]) {
        self.on_adu(cx, pdu, true);
    }

    fn on_datagram(&mut self, cx: &mut PduContext<'_>, payload: &[u8]) {
        self.on_adu(cx, payload, false);
    }

    fn on_flow_end(&mut self, flow_id: u64) {
        self.tx.remove(&flow_id);
    }
}

impl ObserveHandler for ModbusObserver {
    fn drain(&mut self, out: &mut Vec<Observation>) -> u64 {
        self.out.drain_into(out)
    }
}
