//! IEC 60870-5-104 to observations: ASDUs with type id, cause of transmission, common address, IOAs; U-format control.
//!
//! An I-format APDU becomes one message whose function is the ASDU type id
//! (`C_SC_NA_1`…). Control-direction types (commands, set points,
//! parameters) are commands; the system commands map to their meaning
//! (interrogation and read are reads, clock synchronisation is time sync,
//! reset process is a restart). The role follows the cause of
//! transmission: activation and deactivation are requests, their
//! confirmations and terminations responses, anything else (periodic,
//! spontaneous, interrogated data) unsolicited. U-format frames are
//! session control (STARTDT/STOPDT/TESTFR); S-format acknowledgements are
//! not reported.

use otwatch_detect::Observation;
use otwatch_detect::observation::{
    AddressRange, AnomalyNames, AppMessage, Kind, Operation, Protocol, Role, Status,
};
use otwatch_dissect::DecodeError;
use otwatch_dissect::iec104::{self, Apci, Cause, TypeCategory, TypeId};

use super::{ObserveHandler, Pending, from_pdu, malformed, names, role_by_direction};
use crate::summary::handler::{PduContext, ProtocolHandler};

/// Observes IEC-104 traffic.
#[derive(Debug, Default)]
pub struct Iec104Observer {
    out: Pending,
}

/// The operation of an ASDU type.
pub(crate) fn operation(t: TypeId) -> Operation {
    match t.0 {
        100..=102 => Operation::Read,
        103 => Operation::TimeSync,
        104 => Operation::Diagnostics,
        105 => Operation::ColdRestart,
        106 => Operation::TimeSync,
        107 => Operation::Diagnostics,
        70 => Operation::Start,
        _ => match t.category() {
            TypeCategory::Monitor => Operation::Read,
            TypeCategory::Command => Operation::Command,
            TypeCategory::Parameter => Operation::ConfigWrite,
            TypeCategory::File => Operation::File,
            _ => Operation::Other,
        },
    }
}

/// The role of an ASDU by its cause of transmission.
fn role(cause: Cause) -> Role {
    match cause.0 {
        6 | 8 => Role::Request,
        7 | 9 | 10 | 44..=47 => Role::Response,
        _ => Role::Unsolicited,
    }
}

/// Maps an APDU carrying an ASDU to its message.
pub(crate) fn message(apdu: &iec104::Apdu<'_>, asdu: &iec104::Asdu<'_>) -> AppMessage {
    let mut m = AppMessage::new(
        Protocol::Iec104,
        role(asdu.cot.cause),
        u32::from(asdu.type_id.0),
        operation(asdu.type_id),
    );
    m.function_name = asdu.type_id.name();
    m.cot = Some(asdu.cot.cause.0);
    m.negative = asdu.cot.negative;
    m.common_address = Some(asdu.common_address);
    m.unit = Some(u32::from(asdu.common_address));
    m.length = u32::from(apdu.length).saturating_add(2);
    if asdu.cot.negative || matches!(asdu.cot.cause.0, 44..=47) {
        m.status = Some(Status::Error);
        m.error_code = Some(u32::from(asdu.cot.cause.0));
        m.error_name = asdu.cot.cause.name();
    } else if m.role == Role::Response {
        m.status = Some(Status::Ok);
    }
    // Information object addresses as ranges: runs of consecutive addresses.
    let mut run: Option<(u32, u32)> = None;
    for o in &asdu.objects {
        run = match run {
            Some((start, count)) if start.saturating_add(count) == o.address => {
                Some((start, count.saturating_add(1)))
            }
            Some((start, count)) => {
                m.ranges.push(AddressRange { space: "ioa", start, count });
                Some((o.address, 1))
            }
            None => Some((o.address, 1)),
        };
    }
    if let Some((start, count)) = run {
        m.ranges.push(AddressRange { space: "ioa", start, count });
    }
    m.anomalies = names(apdu.anomalies.names());
    m
}

impl ProtocolHandler for Iec104Observer {
    fn name(&self) -> &'static str {
        "iec104"
    }

    fn active(&self) -> bool {
        true
    }

    fn tcp_ports(&self) -> &'static [u16] {
        &[iec104::PORT]
    }

    fn probe_tcp(&self, payload: &[u8]) -> bool {
        iec104::probe(payload)
    }

    fn pdu_len(&self, buf: &[u8]) -> Result<usize, DecodeError> {
        iec104::pdu_len(buf)
    }

    fn on_pdu(&mut self, cx: &mut PduContext<'_>, pdu: &[u8]) {
        let Ok((_, apdu)) = iec104::parse(pdu, cx.direction) else {
            let mut n = AnomalyNames::default();
            n.push("iec104.undecodable");
            self.out.push(from_pdu(cx, malformed(Protocol::Iec104, n, None, None)));
            return;
        };
        match (&apdu.apci, &apdu.asdu) {
            (_, Some(asdu)) => {
                let m = message(&apdu, asdu);
                if !apdu.anomalies.is_empty() {
                    let k =
                        malformed(Protocol::Iec104, m.anomalies, Some(m.function), Some(m.role));
                    self.out.push(from_pdu(cx, k));
                }
                self.out.push(from_pdu(cx, Kind::App(m)));
            }
            (Apci::U { function }, None) => {
                let mut m = AppMessage::new(
                    Protocol::Iec104,
                    role_by_direction(cx.direction),
                    0x1_0000 | u32::from(function.0),
                    Operation::Session,
                );
                m.function_name = function.name();
                m.length = u32::from(apdu.length).saturating_add(2);
                m.anomalies = names(apdu.anomalies.names());
                if !apdu.anomalies.is_empty() {
                    let k = malformed(Protocol::Iec104, m.anomalies, Some(m.function), None);
                    self.out.push(from_pdu(cx, k));
                }
                self.out.push(from_pdu(cx, Kind::App(m)));
            }
            _ => {
                if !apdu.anomalies.is_empty() {
                    let k = malformed(Protocol::Iec104, names(apdu.anomalies.names()), None, None);
                    self.out.push(from_pdu(cx, k));
                }
            }
        }
    }
}

impl ObserveHandler for Iec104Observer {
    fn drain(&mut self, out: &mut Vec<Observation>) -> u64 {
        self.out.drain_into(out)
    }
}
