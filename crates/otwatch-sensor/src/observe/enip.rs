//! EtherNet/IP and CIP to observations: encapsulation commands, CIP services with class/instance/tag, identities.
//!
//! Encapsulation commands other than the data carriers (SendRRData,
//! SendUnitData) are reported as [`Protocol::Enip`] messages, and the
//! carriers too when their status is not success. Every CIP request and
//! response is a [`Protocol::Cip`] message; services embedded in a Multiple
//! Service Packet or routed by an Unconnected Send are reported as well,
//! marked `embedded`. Responses are matched to their requests per flow
//! (the dissector's [`Transactions`], bounded by [`MAX_TRACKED_FLOWS`]) so
//! that they name the class they answer for. ListIdentity replies and
//! replies of the Identity object become the device's [`Identity`].
//! Class-1 I/O (UDP 2222) is left to the per-packet facts.

use std::collections::HashMap;

use otwatch_detect::Observation;
use otwatch_detect::observation::{
    AnomalyNames, AppMessage, Identity, Kind, Object, Operation, Protocol, Role, ShortText, Status,
};
use otwatch_dissect::DecodeError;
use otwatch_dissect::enip::{
    self, CipKind, CipMessage, ClassId, Command, EnipMessage, Operations, RequestInfo, ServiceCode,
    Target, Transactions,
};

use super::{ObserveHandler, Pending, from_pdu, malformed, names, role_by_direction};
use crate::summary::handler::{PduContext, ProtocolHandler};

/// Connections whose CIP requests are tracked at once for matching responses.
pub const MAX_TRACKED_FLOWS: usize = 4096;
/// Most CIP messages (outer and embedded) reported per encapsulation message.
pub const MAX_CIP_PER_MESSAGE: usize = 64;

/// Observes EtherNet/IP and CIP traffic.
#[derive(Debug, Default)]
pub struct EnipObserver {
    out: Pending,
    tx: HashMap<u64, Transactions>,
}

/// A few CIP vendor ids by name (ODVA's registry; the ones met in OT networks most).
pub fn cip_vendor(id: u16) -> Option<&'static str> {
    Some(match id {
        1 => "Rockwell Automation",
        2 => "Namco Controls",
        5 => "Rockwell Automation",
        40 => "WAGO",
        44 => "Schneider Electric",
        47 => "OMRON",
        48 => "Eaton",
        50 => "Phoenix Contact",
        90 => "HMS Industrial Networks",
        108 => "Beckhoff",
        161 => "Mitsubishi Electric",
        243 => "Schneider Electric",
        283 => "Hilscher",
        678 => "Cognex",
        _ => return None,
    })
}

/// The detection operation of a CIP request.
pub(crate) fn operation(ops: Operations, target: Target) -> Operation {
    if ops.contains(Operations::FIRMWARE_UPDATE) {
        Operation::FirmwareUpdate
    } else if ops.contains(Operations::STOP) {
        Operation::Stop
    } else if ops.contains(Operations::START) {
        Operation::Start
    } else if ops.contains(Operations::DEVICE_RESET) || ops.contains(Operations::RESET) {
        Operation::ColdRestart
    } else if ops.contains(Operations::PROGRAM_CHANGE) {
        Operation::ProgramDownload
    } else if ops.contains(Operations::TIME_CHANGE) {
        Operation::TimeSync
    } else if ops.contains(Operations::WRITE) {
        let process = ops.contains(Operations::TAG_ACCESS)
            || target == Target::Class(ClassId(0x04))
            || target == Target::Symbolic;
        if process { Operation::Write } else { Operation::ConfigWrite }
    } else if ops.contains(Operations::READ) {
        if target == Target::Class(ClassId::IDENTITY) {
            Operation::Identify
        } else {
            Operation::Read
        }
    } else if ops.contains(Operations::CONNECTION_OPEN)
        || ops.contains(Operations::CONNECTION_CLOSE)
    {
        Operation::Session
    } else if ops.contains(Operations::CREATE) || ops.contains(Operations::DELETE) {
        Operation::ConfigWrite
    } else {
        Operation::Other
    }
}

/// Maps a CIP request to its message.
pub(crate) fn request(m: &CipMessage<'_>, embedded: bool) -> AppMessage {
    let target = m.target();
    let mut a = AppMessage::new(
        Protocol::Cip,
        Role::Request,
        u32::from(m.service.0),
        operation(m.operations(), target),
    );
    a.function_name = m.service_name();
    a.embedded = embedded;
    a.length = u32::try_from(m.data.len()).unwrap_or(u32::MAX).saturating_add(2);
    if let Some(path) = m.path() {
        if let Some(class) = path.class() {
            a.object = Some(Object {
                class: class.0,
                instance: path.instance(),
                attribute: path.attribute(),
            });
        }
        let mut symbol = String::new();
        for s in path.symbols().take(4) {
            if !symbol.is_empty() {
                symbol.push('.');
            }
            symbol.push_str(&String::from_utf8_lossy(s));
        }
        if !symbol.is_empty() {
            a.symbol = Some(ShortText::new(&symbol));
        }
    }
    a
}

/// Maps a CIP response to its message; `answered` is the request it answers, if known.
pub(crate) fn response(
    m: &CipMessage<'_>,
    answered: Option<&RequestInfo>,
    embedded: bool,
) -> AppMessage {
    let mut a =
        AppMessage::new(Protocol::Cip, Role::Response, u32::from(m.service.0), Operation::Other);
    a.function_name = m.service_name();
    a.embedded = embedded;
    a.length = u32::try_from(m.data.len()).unwrap_or(u32::MAX).saturating_add(4);
    if let Some(info) = answered {
        if let Some(class) = info.target.class() {
            a.object = Some(Object { class: class.0, instance: info.instance, attribute: None });
        }
        a.operation = operation(enip::operations(info.service, info.target), info.target);
    }
    if let CipKind::Response { general_status, .. } = m.kind {
        if general_status.is_success() {
            a.status = Some(Status::Ok);
        } else {
            a.status = Some(Status::Error);
            a.error_code = Some(u32::from(general_status.0));
            a.error_name = general_status.name();
        }
    }
    a
}

fn identity_of(id: &enip::Identity<'_>) -> Identity {
    let name = String::from_utf8_lossy(id.product_name).trim().to_string();
    let mut details = vec![
        ("device_type", id.device_type.to_string()),
        ("product_code", id.product_code.to_string()),
        ("vendor_id", id.vendor_id.to_string()),
    ];
    details.sort();
    Identity {
        protocol: Protocol::Cip,
        vendor: cip_vendor(id.vendor_id)
            .map(str::to_string)
            .or(Some(format!("CIP vendor {}", id.vendor_id))),
        model: (!name.is_empty()).then_some(name),
        firmware: Some(format!("{}.{:03}", id.revision_major, id.revision_minor)),
        serial: Some(format!("{:08x}", id.serial_number)),
        name: None,
        details,
    }
}

impl EnipObserver {
    fn on_message(&mut self, cx: &PduContext<'_>, msg: &EnipMessage<'_>, len: usize) {
        let role = if cx.dst.port == enip::PORT {
            Role::Request
        } else if cx.src.port == enip::PORT {
            Role::Response
        } else {
            role_by_direction(cx.direction)
        };
        let cmd = msg.header.command;
        let carrier = cmd == Command::SEND_RR_DATA || cmd == Command::SEND_UNIT_DATA;
        let status = msg.header.status.0;
        let an = names(msg.anomalies.names());
        if !msg.anomalies.is_empty() {
            let k = malformed(Protocol::Enip, an, Some(u32::from(cmd.0)), Some(role));
            self.out.push(from_pdu(cx, k));
        }
        if !carrier || status != 0 {
            let op = match cmd {
                Command::LIST_IDENTITY | Command::LIST_SERVICES | Command::LIST_INTERFACES => {
                    Operation::Identify
                }
                Command::REGISTER_SESSION | Command::UNREGISTER_SESSION => Operation::Session,
                _ => Operation::Other,
            };
            let mut m = AppMessage::new(Protocol::Enip, role, u32::from(cmd.0), op);
            m.function_name = cmd.name();
            m.length = u32::try_from(len).unwrap_or(u32::MAX);
            m.anomalies = an;
            if role == Role::Response || status != 0 {
                m.status = Some(if status == 0 { Status::Ok } else { Status::Error });
                if status != 0 {
                    m.error_code = Some(status);
                    m.error_name = msg.header.status.name();
                }
            }
            self.out.push(from_pdu(cx, Kind::App(m)));
        }
        for item in msg.identities() {
            self.out.push(from_pdu(cx, Kind::Identity(identity_of(&item.identity))));
        }
        let mut any_request = false;
        let mut reported = 0usize;
        for payload in msg.cip() {
            let Some(m) = &payload.message else {
                if !payload.raw.is_empty() {
                    let mut n = AnomalyNames::default();
                    n.push("cip.undecodable");
                    self.out.push(from_pdu(cx, malformed(Protocol::Cip, n, None, Some(role))));
                }
                continue;
            };
            if m.is_response() {
                let info = self.tx.get_mut(&cx.flow_id).and_then(|t| t.response(msg));
                self.response_tree(cx, m, info.as_ref(), false, &mut reported);
            } else {
                any_request = true;
                self.request_tree(cx, m, false, &mut reported);
            }
        }
        if any_request {
            if !self.tx.contains_key(&cx.flow_id)
                && self.tx.len() >= MAX_TRACKED_FLOWS
                && let Some(&oldest) = self.tx.keys().min()
            {
                self.tx.remove(&oldest);
            }
            self.tx.entry(cx.flow_id).or_default().request(msg);
        }
    }

    fn request_tree(
        &mut self,
        cx: &PduContext<'_>,
        m: &CipMessage<'_>,
        embedded: bool,
        reported: &mut usize,
    ) {
        if *reported >= MAX_CIP_PER_MESSAGE {
            return;
        }
        *reported += 1;
        self.out.push(from_pdu(cx, Kind::App(request(m, embedded))));
        for e in m.embedded() {
            self.request_tree(cx, e, true, reported);
        }
    }

    fn response_tree(
        &mut self,
        cx: &PduContext<'_>,
        m: &CipMessage<'_>,
        info: Option<&RequestInfo>,
        embedded: bool,
        reported: &mut usize,
    ) {
        if *reported >= MAX_CIP_PER_MESSAGE {
            return;
        }
        *reported += 1;
        let answered = info.map(|i| i.answered_by(m));
        self.out.push(from_pdu(cx, Kind::App(response(m, answered, embedded))));
        if let Some(a) = answered
            && a.service == ServiceCode::GET_ATTRIBUTES_ALL
            && a.target == Target::Class(ClassId::IDENTITY)
            && m.general_status().is_some_and(|g| g.is_success())
            && let Some(id) = enip::parse_identity(m.data)
        {
            self.out.push(from_pdu(cx, Kind::Identity(identity_of(&id))));
        }
        for (i, e) in m.embedded().iter().enumerate() {
            let inner = answered.and_then(|a| a.embedded.get(i));
            self.response_tree(cx, e, inner, true, reported);
        }
    }
}

impl ProtocolHandler for EnipObserver {
    fn name(&self) -> &'static str {
        "enip"
    }

    fn active(&self) -> bool {
        true
    }

    fn tcp_ports(&self) -> &'static [u16] {
        &[enip::PORT]
    }

    fn udp_ports(&self) -> &'static [u16] {
        &[enip::PORT, enip::IO_PORT]
    }

    fn probe_tcp(&self, payload: &[u8]) -> bool {
        enip::probe(payload)
    }

    fn probe_udp(&self, payload: &[u8]) -> bool {
        enip::probe(payload)
    }

    fn pdu_len(&self, buf: &[u8]) -> Result<usize, DecodeError> {
        enip::pdu_len(buf)
    }

    fn on_pdu(&mut self, cx: &mut PduContext<'_>, pdu: &[u8]) {
        match enip::parse(pdu, cx.direction) {
            Ok((_, msg)) => self.on_message(cx, &msg, pdu.len()),
            Err(_) => {
                let mut n = AnomalyNames::default();
                n.push("enip.undecodable");
                self.out.push(from_pdu(cx, malformed(Protocol::Enip, n, None, None)));
            }
        }
    }

    fn on_datagram(&mut self, cx: &mut PduContext<'_>, payload: &[u8]) {
        let io = cx.src.port == enip::IO_PORT || cx.dst.port == enip::IO_PORT;
        let encap = cx.src.port == enip::PORT || cx.dst.port == enip::PORT;
        if io && !encap {
            return;
        }
        let dir = if cx.src.port == enip::PORT && cx.dst.port != enip::PORT {
            otwatch_dissect::Direction::ToClient
        } else {
            otwatch_dissect::Direction::ToServer
        };
        if let Ok((_, msg)) = enip::parse(payload, dir) {
            self.on_message(cx, &msg, payload.len());
        }
    }

    fn on_flow_end(&mut self, flow_id: u64) {
        self.tx.remove(&flow_id);
    }
}

impl ObserveHandler for EnipObserver {
    fn drain(&mut self, out: &mut Vec<Observation>) -> u64 {
        self.out.drain_into(out)
    }
}
