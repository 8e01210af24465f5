//! BACnet (over IP and over Ethernet/LLC) to observations: services, errors, I-Am and device properties.
//!
//! Confirmed requests are requests; SimpleACK/ComplexACK answers are
//! successful responses; Error, Reject and Abort are failed responses with
//! their class/code or reason; unconfirmed services (I-Am, Who-Is,
//! time synchronisation…) are unsolicited. Operations: writes and object
//! creation/deletion are writes, reinitializeDevice is a cold or warm
//! restart (other states are configuration writes), device communication
//! control is a configuration write, file writes are program downloads
//! when they target a device's program file (BACnet has no program service
//! of its own) and otherwise file operations. I-Am gives the device
//! instance and vendor id; a ReadProperty(Multiple) answer with the device
//! object's vendor, model, firmware or name properties gives an identity.
//! MS/TP serial frames are not observed (no IP or MAC devices to tie them to).

use otwatch_detect::Observation;
use otwatch_detect::observation::{
    AnomalyNames, AppMessage, Identity, Kind, Object, Operation, Protocol, Role, Status,
};
use otwatch_dissect::bacnet::{
    self, Apdu, ConfirmedRequestBody, ConfirmedService, ObjectType, PropertyId, ReinitState,
    UnconfirmedRequestBody, Value,
};

use super::{ObserveHandler, Pending, from_link, from_pdu, malformed, names};
use crate::summary::handler::{LinkContext, LinkPayload, PduContext, ProtocolHandler};

/// LLC service access point of BACnet/Ethernet.
const LLC_SAP_BACNET: u8 = 0x82;

/// Observes BACnet traffic.
#[derive(Debug, Default)]
pub struct BacnetObserver {
    out: Pending,
}

fn confirmed_operation(
    service: ConfirmedService,
    body: Option<&ConfirmedRequestBody<'_>>,
) -> Operation {
    match service {
        ConfirmedService::REINITIALIZE_DEVICE => match body {
            Some(ConfirmedRequestBody::ReinitializeDevice(r)) => match r.state {
                ReinitState::COLDSTART => Operation::ColdRestart,
                ReinitState::WARMSTART => Operation::WarmRestart,
                _ => Operation::ConfigWrite,
            },
            _ => Operation::ColdRestart,
        },
        ConfirmedService::DEVICE_COMMUNICATION_CONTROL => Operation::ConfigWrite,
        ConfirmedService::ATOMIC_WRITE_FILE => Operation::File,
        ConfirmedService::ATOMIC_READ_FILE => Operation::File,
        ConfirmedService::CREATE_OBJECT | ConfirmedService::DELETE_OBJECT => Operation::ConfigWrite,
        ConfirmedService::LIFE_SAFETY_OPERATION => Operation::Command,
        s if s.is_write() => Operation::Write,
        ConfirmedService::READ_PROPERTY
        | ConfirmedService::READ_PROPERTY_MULTIPLE
        | ConfirmedService::READ_PROPERTY_CONDITIONAL
        | ConfirmedService::READ_RANGE => Operation::Read,
        ConfirmedService::SUBSCRIBE_COV
        | ConfirmedService::SUBSCRIBE_COV_PROPERTY
        | ConfirmedService::SUBSCRIBE_COV_PROPERTY_MULTIPLE => Operation::Read,
        ConfirmedService::AUTHENTICATE | ConfirmedService::REQUEST_KEY => Operation::Session,
        ConfirmedService::ACKNOWLEDGE_ALARM => Operation::Acknowledge,
        _ => Operation::Other,
    }
}

fn object(id: bacnet::ObjectId) -> Object {
    Object { class: u32::from(id.object_type.0), instance: Some(id.instance), attribute: None }
}

/// Maps an APDU to its message (and the device identity it reveals, if any).
pub(crate) fn message(apdu: &Apdu<'_>, length: usize) -> (Option<AppMessage>, Option<Identity>) {
    let mut identity = None;
    let mut m = match apdu {
        Apdu::ConfirmedRequest(r) => {
            let mut m = AppMessage::new(
                Protocol::Bacnet,
                Role::Request,
                u32::from(r.service.0),
                confirmed_operation(r.service, Some(&r.body)),
            );
            m.function_name = Some(r.service.name());
            match &r.body {
                ConfirmedRequestBody::ReadProperty(p) | ConfirmedRequestBody::ReadRange(p) => {
                    m.object = Some(Object { attribute: Some(p.property.0), ..object(p.object) });
                }
                ConfirmedRequestBody::ReadPropertyMultiple(list) => {
                    for p in list.iter().take(5) {
                        let o = Object { attribute: Some(p.property.0), ..object(p.object) };
                        if m.object.is_none() {
                            m.object = Some(o);
                        } else {
                            m.more_objects.push(o);
                        }
                    }
                }
                ConfirmedRequestBody::WriteProperty(w) => {
                    m.object = Some(Object {
                        attribute: Some(w.target.property.0),
                        ..object(w.target.object)
                    });
                }
                ConfirmedRequestBody::WritePropertyMultiple(list) => {
                    for w in list.iter().take(5) {
                        let o = Object {
                            attribute: Some(w.target.property.0),
                            ..object(w.target.object)
                        };
                        if m.object.is_none() {
                            m.object = Some(o);
                        } else {
                            m.more_objects.push(o);
                        }
                    }
                }
                ConfirmedRequestBody::DeleteObject(o) => m.object = Some(object(*o)),
                ConfirmedRequestBody::SubscribeCov { object: o, .. } => m.object = Some(object(*o)),
                _ => {}
            }
            m
        }
        Apdu::UnconfirmedRequest(u) => {
            let op = match &u.body {
                UnconfirmedRequestBody::IAm(_) | UnconfirmedRequestBody::WhoIs { .. } => {
                    Operation::Identify
                }
                UnconfirmedRequestBody::IHave(_) | UnconfirmedRequestBody::WhoHas(_) => {
                    Operation::Identify
                }
                UnconfirmedRequestBody::TimeSynchronization { .. } => Operation::TimeSync,
                _ => Operation::Other,
            };
            let mut m =
                AppMessage::new(Protocol::Bacnet, Role::Unsolicited, u32::from(u.service.0), op);
            m.function_name = Some(u.service.name());
            m.sub_function = Some(1);
            if let UnconfirmedRequestBody::IAm(i) = &u.body {
                m.object = Some(object(i.device));
                m.unit = Some(i.device.instance);
                identity = Some(Identity {
                    protocol: Protocol::Bacnet,
                    vendor: Some(format!("BACnet vendor {}", i.vendor_id)),
                    details: vec![
                        ("device_instance", i.device.instance.to_string()),
                        ("vendor_id", i.vendor_id.to_string()),
                    ],
                    ..Identity::default()
                });
            }
            m
        }
        Apdu::SimpleAck { service, .. } => {
            let mut m = AppMessage::new(
                Protocol::Bacnet,
                Role::Response,
                u32::from(service.0),
                confirmed_operation(*service, None),
            );
            m.function_name = Some(service.name());
            m.status = Some(Status::Ok);
            m
        }
        Apdu::ComplexAck(a) => {
            let mut m = AppMessage::new(
                Protocol::Bacnet,
                Role::Response,
                u32::from(a.service.0),
                confirmed_operation(a.service, None),
            );
            m.function_name = Some(a.service.name());
            m.status = Some(Status::Ok);
            identity = device_identity(apdu);
            m
        }
        Apdu::Error(e) => {
            let mut m = AppMessage::new(
                Protocol::Bacnet,
                Role::Response,
                u32::from(e.service.0),
                Operation::Error,
            );
            m.function_name = Some(e.service.name());
            m.status = Some(Status::Error);
            if let Some(err) = e.error {
                m.error_code = Some((err.class.0 << 16) | err.code.0);
                m.error_name = Some(err.code.name());
            }
            m
        }
        Apdu::Reject { reason, .. } => {
            let mut m = AppMessage::new(Protocol::Bacnet, Role::Response, 0x100, Operation::Error);
            m.function_name = Some("reject");
            m.status = Some(Status::Error);
            m.error_code = Some(u32::from(reason.0));
            m.error_name = Some(reason.name());
            m
        }
        Apdu::Abort { reason, .. } => {
            let mut m = AppMessage::new(Protocol::Bacnet, Role::Response, 0x101, Operation::Error);
            m.function_name = Some("abort");
            m.status = Some(Status::Error);
            m.error_code = Some(u32::from(reason.0));
            m.error_name = Some(reason.name());
            m
        }
        Apdu::SegmentAck { .. } | Apdu::Reserved { .. } | Apdu::Truncated { .. } => {
            return (None, None);
        }
    };
    m.length = u32::try_from(length).unwrap_or(u32::MAX);
    (Some(m), identity)
}

/// Vendor, model, firmware and name from a device object's properties.
fn device_identity(apdu: &Apdu<'_>) -> Option<Identity> {
    let mut id = Identity { protocol: Protocol::Bacnet, ..Identity::default() };
    for (p, v) in apdu.read_values() {
        if p.object.object_type != ObjectType::DEVICE {
            continue;
        }
        let Value::CharacterString(s) = v else { continue };
        let text = s.to_string_lossy().trim().to_string();
        if text.is_empty() {
            continue;
        }
        match p.property {
            PropertyId::VENDOR_NAME => id.vendor = Some(text),
            PropertyId::MODEL_NAME => id.model = Some(text),
            PropertyId::FIRMWARE_REVISION => id.firmware = Some(text),
            PropertyId::OBJECT_NAME => id.name = Some(text),
            PropertyId::APPLICATION_SOFTWARE_VERSION => {
                id.details.push(("application_software", text))
            }
            _ => {}
        }
    }
    let useful =
        id.vendor.is_some() || id.model.is_some() || id.firmware.is_some() || id.name.is_some();
    useful.then_some(id)
}

impl BacnetObserver {
    fn on_npdu(
        &mut self,
        npdu: Option<&bacnet::Npdu<'_>>,
        an: bacnet::Anomalies,
        length: usize,
    ) -> (Option<AppMessage>, Option<Identity>, AnomalyNames) {
        let mut anomalies = an;
        let mut result = (None, None);
        if let Some(n) = npdu {
            anomalies |= n.anomalies;
            if let Some(apdu) = n.apdu() {
                result = message(apdu, length);
            }
        }
        let names = names(anomalies.names());
        if let Some(m) = result.0.as_mut() {
            m.anomalies = names;
        }
        (result.0, result.1, names)
    }
}

impl ProtocolHandler for BacnetObserver {
    fn name(&self) -> &'static str {
        "bacnet"
    }

    fn active(&self) -> bool {
        true
    }

    fn udp_ports(&self) -> &'static [u16] {
        &[bacnet::BACNET_IP_PORT]
    }

    fn probe_udp(&self, payload: &[u8]) -> bool {
        bacnet::probe(payload)
    }

    fn on_datagram(&mut self, cx: &mut PduContext<'_>, payload: &[u8]) {
        match bacnet::parse(payload) {
            Ok(msg) => {
                let (m, id, an) = self.on_npdu(msg.npdu(), msg.anomalies, payload.len());
                if !an.is_empty() {
                    let (f, r) =
                        m.as_ref().map_or((None, None), |m| (Some(m.function), Some(m.role)));
                    self.out.push(from_pdu(cx, malformed(Protocol::Bacnet, an, f, r)));
                }
                if let Some(m) = m {
                    self.out.push(from_pdu(cx, Kind::App(m)));
                }
                if let Some(id) = id {
                    self.out.push(from_pdu(cx, Kind::Identity(id)));
                }
            }
            Err(_) => {
                let mut n = AnomalyNames::default();
                n.push("bacnet.undecodable");
                self.out.push(from_pdu(cx, malformed(Protocol::Bacnet, n, None, None)));
            }
        }
    }

    fn on_link(&mut self, cx: &mut LinkContext<'_>, payload: LinkPayload<'_>) {
        let LinkPayload::Llc { dsap: LLC_SAP_BACNET, payload, .. } = payload else { return };
        let npdu = bacnet::parse_npdu(payload).ok();
        let (m, id, an) = self.on_npdu(npdu.as_ref(), bacnet::Anomalies::NONE, payload.len());
        if !an.is_empty() {
            let (f, r) = m.as_ref().map_or((None, None), |m| (Some(m.function), Some(m.role)));
            self.out.push(from_link(cx, malformed(Protocol::Bacnet, an, f, r)));
        }
        if let Some(m) = m {
            self.out.push(from_link(cx, Kind::App(m)));
        }
        if let Some(id) = id {
            self.out.push(from_link(cx, Kind::Identity(id)));
        }
    }
}

impl ObserveHandler for BacnetObserver {
    fn drain(&mut self, out: &mut Vec<Observation>) -> u64 {
        self.out.drain_into(out)
    }
}
