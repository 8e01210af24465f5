//! DNP3 to observations: application functions with their objects, IIN bits and station addresses.
//!
//! Link frames are reassembled into application fragments per flow and
//! direction (the dissector's transport [`Reassembler`], one per direction,
//! bounded by [`MAX_REASSEMBLY_FLOWS`]); each fragment becomes one
//! [`AppMessage`] whose `unit` is the link destination and `source_unit`
//! the link source. Responses carry the IIN bits; IIN2.0–2.2 (function not
//! supported, object unknown, parameter error) make the status an error.
//! Anomalies of the link frame, the transport segment and the fragment are
//! reported together as one [`Kind::Malformed`].

use std::collections::BTreeMap;

use otwatch_detect::Observation;
use otwatch_detect::observation::{
    AnomalyNames, AppMessage, Kind, Object, Operation, Protocol, Role, Status,
};
use otwatch_dissect::DecodeError;
use otwatch_dissect::dnp3::{self, FunctionCode, Iin, Reassembler};

use super::{ObserveHandler, Pending, from_pdu, malformed, names};
use crate::summary::handler::{PduContext, ProtocolHandler};

/// Flow directions with transport reassembly state kept at once.
pub const MAX_REASSEMBLY_FLOWS: usize = 2048;

/// Observes DNP3 traffic.
#[derive(Debug, Default)]
pub struct Dnp3Observer {
    out: Pending,
    reassembly: BTreeMap<(u64, bool), Reassembler>,
}

/// The detection operation of a DNP3 function code.
pub(crate) fn operation(fc: FunctionCode) -> Operation {
    use dnp3::Operation as D;
    match fc.0 {
        13 => return Operation::ColdRestart,
        14 => return Operation::WarmRestart,
        16 | 17 => return Operation::Start,
        18 => return Operation::Stop,
        _ => {}
    }
    match fc.operation() {
        D::Confirm => Operation::Acknowledge,
        D::Read => Operation::Read,
        D::Write => Operation::Write,
        D::Control | D::Freeze => Operation::Command,
        D::Restart => Operation::ColdRestart,
        D::ApplicationControl => Operation::Command,
        D::Configuration | D::UnsolicitedControl => Operation::ConfigWrite,
        D::TimeSync => Operation::TimeSync,
        D::File => Operation::File,
        D::Authentication => Operation::Session,
        D::Response | D::Reserved => Operation::Other,
    }
}

/// IIN2 bits that report a failed request.
const IIN_ERRORS: u16 =
    Iin::NO_FUNC_CODE_SUPPORT.0 | Iin::OBJECT_UNKNOWN.0 | Iin::PARAMETER_ERROR.0;

/// Maps one application fragment to its message.
pub(crate) fn message(
    app: &dnp3::AppFragment<'_>,
    source: u16,
    destination: u16,
    length: usize,
) -> AppMessage {
    let fc = app.function;
    let role = if fc == FunctionCode::UNSOLICITED_RESPONSE {
        Role::Unsolicited
    } else if fc.is_response() {
        Role::Response
    } else {
        Role::Request
    };
    let mut m = AppMessage::new(Protocol::Dnp3, role, u32::from(fc.0), operation(fc));
    m.function_name = fc.name();
    m.unit = Some(u32::from(destination));
    m.source_unit = Some(u32::from(source));
    m.length = u32::try_from(length).unwrap_or(u32::MAX);
    m.iin = app.iin.map(|i| i.0);
    if let Some(iin) = app.iin {
        let failed = iin.0 & IIN_ERRORS;
        m.status = Some(if failed != 0 { Status::Error } else { Status::Ok });
        if failed != 0 {
            m.error_code = Some(u32::from(failed));
            m.error_name = Iin(failed).names().next();
        }
    }
    for h in app.objects() {
        let o = Object {
            class: u32::from(h.group.0),
            instance: Some(u32::from(h.variation)),
            attribute: None,
        };
        if m.object.is_none() {
            m.object = Some(o);
        } else {
            m.more_objects.push(o);
        }
        if let Some(dnp3::Range::StartStop { start, stop }) = h.range {
            m.ranges.push(otwatch_detect::observation::AddressRange {
                space: "dnp3_points",
                start,
                count: stop.saturating_sub(start).saturating_add(1),
            });
        }
    }
    m.anomalies = names(app.anomalies.names());
    m
}

impl Dnp3Observer {
    fn on_frame(&mut self, cx: &PduContext<'_>, bytes: &[u8], stream: bool) {
        let Ok((_, frame)) = dnp3::parse(bytes) else {
            let mut n = AnomalyNames::default();
            n.push("dnp3.undecodable");
            self.out.push(from_pdu(cx, malformed(Protocol::Dnp3, n, None, None)));
            return;
        };
        let mut anomalies = frame.anomalies;
        let key = (cx.flow_id, cx.direction == otwatch_dissect::Direction::ToServer);
        if stream && cx.after_gap {
            self.reassembly.remove(&key);
        }
        if !self.reassembly.contains_key(&key) && self.reassembly.len() >= MAX_REASSEMBLY_FLOWS {
            // Flow ids grow, so the first key belongs to the oldest flow.
            self.reassembly.pop_first();
        }
        let (source, destination) = (frame.header.source, frame.header.destination);
        let r = self.reassembly.entry(key).or_default();
        let mut app_msg = None;
        if let Some(seg) = r.push(&frame) {
            anomalies |= seg.anomalies;
            if let Some(fragment) = seg.fragment {
                match dnp3::parse_application(fragment) {
                    Ok(app) => {
                        anomalies |= app.anomalies;
                        app_msg = Some(message(&app, source, destination, fragment.len()));
                    }
                    Err(_) => anomalies |= dnp3::Anomalies::NONE,
                }
            }
        }
        if !anomalies.is_empty() {
            let (f, role) =
                app_msg.as_ref().map_or((None, None), |m| (Some(m.function), Some(m.role)));
            self.out
                .push(from_pdu(cx, malformed(Protocol::Dnp3, names(anomalies.names()), f, role)));
        }
        if let Some(mut m) = app_msg {
            m.anomalies = names(anomalies.names());
            self.out.push(from_pdu(cx, Kind::App(m)));
        }
    }
}

impl ProtocolHandler for Dnp3Observer {
    fn name(&self) -> &'static str {
        "dnp3"
    }

    fn active(&self) -> bool {
        true
    }

    fn tcp_ports(&self) -> &'static [u16] {
        &[dnp3::PORT]
    }

    fn udp_ports(&self) -> &'static [u16] {
        &[dnp3::PORT]
    }

    fn probe_tcp(&self, payload: &[u8]) -> bool {
        dnp3::probe(payload)
    }

    fn probe_udp(&self, payload: &[u8]) -> bool {
        dnp3::probe(payload)
    }

    fn pdu_len(&self, buf: &[u8]) -> Result<usize, DecodeError> {
        dnp3::pdu_len(buf)
    }

    fn on_pdu(&mut self, cx: &mut PduContext<'_>, pdu: &[u8]) {
        self.on_frame(cx, pdu, true);
    }

    fn on_datagram(&mut self, cx: &mut PduContext<'_>, payload: &[u8]) {
        // A datagram may hold several link frames.
        let mut rest = payload;
        let mut guard = 0usize;
        while !rest.is_empty() && guard < 64 {
            guard += 1;
            let Ok(n) = dnp3::pdu_len(rest) else {
                self.on_frame(cx, rest, false);
                return;
            };
            let (one, after) = rest.split_at(n.min(rest.len()));
            self.on_frame(cx, one, false);
            rest = after;
        }
    }

    fn on_flow_end(&mut self, flow_id: u64) {
        self.reassembly.remove(&(flow_id, true));
        self.reassembly.remove(&(flow_id, false));
    }
}

impl ObserveHandler for Dnp3Observer {
    fn drain(&mut self, out: &mut Vec<Observation>) -> u64 {
        self.out.drain_into(out)
    }
}
