//! The Protocol Violation engine: messages that break their protocol's rules.
//!
//! It reads the dissectors' anomaly names (`Malformed` observations) and the
//! protocol-neutral messages (`App`): function code zero, exception codes
//! sent by a Modbus master, reserved and obsolete function codes, illegal
//! protocol versions, DNP3 internal indications that report a bad request
//! (IIN2.0-2.2) or reserved bits (IIN2.6/2.7), malformed DNP3 requests and
//! responses, illegal BACnet messages, IEC-104 negative confirmations and
//! illegal causes, connections to port 0, firmware update commands, Modbus
//! exceptions, and sessions with repeated malformed messages.
//!
//! Per-flow state (the last DNP3 request, malformed counts) lives in
//! bounded tables; the same flow always leads to the same alerts.

use std::collections::BTreeMap;

use crate::engine::{Ctx, key, protocol_label, sides};
use crate::observation::{
    AppMessage, Kind, Malformed, Observation, Operation, Protocol, Role, Transport,
};
use crate::window::{Bounded, RateWindow};

/// Anomaly names that are reported as `Malformed` but do not make a message malformed.
const NOT_MALFORMED: &[&str] = &[
    "dnp3.device_restart",
    "modbus.unmatched_response",
    "modbus.too_many_pending_requests",
    "modbus.user_defined_function_code",
];

/// The last DNP3 request of a flow: function and first object.
#[derive(Clone, Copy, Debug, Default)]
struct LastRequest {
    function: u32,
    object: Option<(u32, u32)>,
}

#[derive(Debug)]
pub(crate) struct ProtocolViolation {
    dnp3_requests: Bounded<u64, LastRequest>,
    malformed: Bounded<u64, RateWindow>,
}

impl ProtocolViolation {
    pub fn new(limit: usize) -> ProtocolViolation {
        ProtocolViolation { dnp3_requests: Bounded::new(limit), malformed: Bounded::new(limit) }
    }

    pub fn evictions(&self, out: &mut BTreeMap<&'static str, u64>) {
        out.insert("protocol.dnp3_requests", self.dnp3_requests.evicted());
        out.insert("protocol.malformed_sessions", self.malformed.evicted());
    }

    pub fn observe(&mut self, obs: &Observation, cx: &mut Ctx<'_>) {
        match &obs.kind {
            Kind::Packet(_)
                if matches!(obs.transport, Transport::Tcp | Transport::Udp)
                    && obs.dst.port == Some(0) =>
            {
                let t = if obs.transport == Transport::Tcp { "tcp" } else { "udp" };
                let k = key(("port0", obs.src.ip, obs.dst.ip, t));
                let (src, dst) = (obs.src, obs.dst);
                let label = protocol_label(obs);
                cx.raise("protocol_port_zero", k, obs.time, &[obs.frame], |cx| {
                    let mut d =
                        cx.detection("protocol_port_zero", obs.time, &src, &dst, Some(label));
                    d.key.insert("transport".into(), t.into());
                    d
                });
            }
            Kind::Malformed(m) => self.malformed(obs, m, cx),
            Kind::App(m) => self.app(obs, m, cx),
            _ => {}
        }
    }

    fn malformed(&mut self, obs: &Observation, m: &Malformed, cx: &mut Ctx<'_>) {
        let names: Vec<&'static str> =
            m.anomalies.as_slice().iter().copied().filter(|n| !NOT_MALFORMED.contains(n)).collect();
        if names.is_empty() || m.protocol == Protocol::Ip {
            return;
        }
        let (client, server) = sides(obs);
        let (client, server) = (*client, *server);
        let label = m.protocol.name();
        let function = m.function;
        let from_client = match m.role {
            Some(Role::Request) => true,
            Some(Role::Unsolicited) => m.protocol == Protocol::Bacnet,
            Some(Role::Response) => false,
            None => obs.direction != Some(crate::observation::Direction::ToClient),
        };
        let has = |n: &str| names.iter().any(|x| x.ends_with(n));
        // Reserved function codes.
        if (has(".reserved_function_code")
            || has("cip.reserved_service")
            || has("s7comm.unknown_function"))
            && let Some(fc) = function
        {
            let k = key(("reserved_fc", client.ip, server.ip, label, fc));
            cx.raise("protocol_reserved_function_code", k, obs.time, &[obs.frame], |cx| {
                let mut d = cx.detection(
                    "protocol_reserved_function_code",
                    obs.time,
                    &client,
                    &server,
                    Some(label),
                );
                d.key.insert("function_code".into(), fc.to_string());
                d
            });
        }
        // Illegal protocol versions.
        let version = if has("modbus.nonzero_protocol_id") {
            Some("non-zero Modbus protocol identifier")
        } else if has("enip.unsupported_version") {
            Some("unsupported EtherNet/IP encapsulation version")
        } else if has("bacnet.npdu_bad_version") {
            Some("BACnet NPDU version other than 1")
        } else if has("s7comm.plus_unknown_version") {
            Some("unknown S7comm-plus version")
        } else {
            None
        };
        if let Some(v) = version {
            let k = key(("version", client.ip, server.ip, label, v));
            cx.raise("protocol_illegal_protocol_version", k, obs.time, &[obs.frame], |cx| {
                let mut d = cx.detection(
                    "protocol_illegal_protocol_version",
                    obs.time,
                    &client,
                    &server,
                    Some(label),
                );
                d.key.insert("version".into(), v.into());
                d
            });
        }
        if m.protocol == Protocol::Modbus
            && has("modbus.invalid_function_code")
            && function == Some(0)
        {
            Self::modbus_fc_zero(obs, &client, &server, cx);
        }
        let reason = || names.join(", ");
        match m.protocol {
            Protocol::Dnp3 => {
                let semantic = [
                    "dnp3.reserved_function_code",
                    "dnp3.obsolete_function_code",
                    "dnp3.iin_reserved_bits",
                ];
                let structural: Vec<&str> =
                    names.iter().copied().filter(|n| !semantic.contains(n)).collect();
                if !structural.is_empty() {
                    let reason = structural.join(", ");
                    let ty = if from_client {
                        "protocol_illegal_dnp3_operation"
                    } else {
                        "protocol_dnp3_improper_formatting"
                    };
                    let k = key((ty, client.ip, server.ip, client.mac, server.mac, &reason));
                    cx.raise(ty, k, obs.time, &[obs.frame], |cx| {
                        let mut d = cx.detection(ty, obs.time, &client, &server, Some(label));
                        d.key.insert("reason".into(), reason);
                        d
                    });
                }
            }
            Protocol::Bacnet if from_client && version.is_none() => {
                let reason = reason();
                let (src, dst) = (obs.src, obs.dst);
                let k = key(("bacnet", src.ip, dst.ip, src.mac, &reason));
                cx.raise("protocol_illegal_bacnet_message", k, obs.time, &[obs.frame], |cx| {
                    let mut d = cx.detection(
                        "protocol_illegal_bacnet_message",
                        obs.time,
                        &src,
                        &dst,
                        Some(label),
                    );
                    d.key.insert("reason".into(), reason);
                    d
                });
            }
            _ => {}
        }
        // Repeated malformed messages in one session.
        if let Some(flow) = obs.flow {
            let count =
                cx.settings.thresholds.count("protocol_excessive_malformed_packets", "count");
            let window =
                cx.settings.thresholds.window("protocol_excessive_malformed_packets", "window");
            let w = self.malformed.entry(flow, obs.time, || RateWindow::new(count));
            let n = w.push(obs.time, count, window);
            if n >= count {
                let k = key(("malformed_session", flow));
                cx.raise("protocol_excessive_malformed_packets", k, obs.time, &[obs.frame], |cx| {
                    let mut d = cx.detection(
                        "protocol_excessive_malformed_packets",
                        obs.time,
                        &client,
                        &server,
                        Some(label),
                    );
                    d.details.insert("count".into(), n.to_string());
                    d.details.insert("window".into(), otwatch_model::time::format_duration(window));
                    d
                });
            }
        }
    }

    fn modbus_fc_zero(
        obs: &Observation,
        client: &crate::observation::Address,
        server: &crate::observation::Address,
        cx: &mut Ctx<'_>,
    ) {
        let (client, server) = (*client, *server);
        let k = key(("fc0", client.ip, server.ip));
        cx.raise("protocol_modbus_function_code_zero", k, obs.time, &[obs.frame], |cx| {
            cx.detection(
                "protocol_modbus_function_code_zero",
                obs.time,
                &client,
                &server,
                Some("Modbus"),
            )
        });
    }

    fn app(&mut self, obs: &Observation, m: &AppMessage, cx: &mut Ctx<'_>) {
        let (client, server) = sides(obs);
        let (client, server) = (*client, *server);
        let label = protocol_label(obs);
        if m.role == Role::Request && m.operation == Operation::FirmwareUpdate {
            let k = key(("firmware_update", client.ip, server.ip, label));
            let name = m.function_name.unwrap_or("").to_string();
            cx.raise("protocol_firmware_update", k, obs.time, &[obs.frame], |cx| {
                let mut d = cx.detection(
                    "protocol_firmware_update",
                    obs.time,
                    &client,
                    &server,
                    Some(label),
                );
                d.details.insert("function".into(), name);
                d
            });
        }
        match m.protocol {
            Protocol::Modbus => self.modbus(obs, m, &client, &server, cx),
            Protocol::Dnp3 => self.dnp3(obs, m, &client, &server, cx),
            Protocol::Iec104 => self.iec104(obs, m, &client, &server, cx),
            _ => {}
        }
    }

    fn modbus(
        &mut self,
        obs: &Observation,
        m: &AppMessage,
        client: &crate::observation::Address,
        server: &crate::observation::Address,
        cx: &mut Ctx<'_>,
    ) {
        let (client, server) = (*client, *server);
        match m.role {
            Role::Request if m.function == 0 => Self::modbus_fc_zero(obs, &client, &server, cx),
            Role::Request if m.function & 0x80 != 0 => {
                let fc = m.function;
                let k = key(("exception_by_master", client.ip, server.ip, fc));
                cx.raise("protocol_modbus_exception_by_master", k, obs.time, &[obs.frame], |cx| {
                    let mut d = cx.detection(
                        "protocol_modbus_exception_by_master",
                        obs.time,
                        &client,
                        &server,
                        Some("Modbus"),
                    );
                    d.key.insert("function_code".into(), fc.to_string());
                    d
                });
            }
            Role::Response if m.is_error() && m.function & 0x80 != 0 => {
                let fc = m.function & 0x7f;
                let code = m.error_code.unwrap_or_default();
                let name = m.error_name.unwrap_or("").to_string();
                let k = key(("modbus_exception", client.ip, server.ip, fc, code));
                cx.raise("protocol_modbus_exception", k, obs.time, &[obs.frame], |cx| {
                    let mut d = cx.detection(
                        "protocol_modbus_exception",
                        obs.time,
                        &client,
                        &server,
                        Some("Modbus"),
                    );
                    d.key.insert("function_code".into(), fc.to_string());
                    d.key.insert("exception_code".into(), code.to_string());
                    d.details.insert("exception".into(), name);
                    d
                });
            }
            _ => {}
        }
    }

    fn dnp3(
        &mut self,
        obs: &Observation,
        m: &AppMessage,
        client: &crate::observation::Address,
        server: &crate::observation::Address,
        cx: &mut Ctx<'_>,
    ) {
        let (client, server) = (*client, *server);
        let raise = |cx: &mut Ctx<'_>, ty: &'static str, extra: Option<(&'static str, String)>| {
            let k = key((ty, client.ip, server.ip, client.mac, server.mac, &extra));
            cx.raise(ty, k, obs.time, &[obs.frame], |cx| {
                let mut d = cx.detection(ty, obs.time, &client, &server, Some("DNP3"));
                if let Some((name, value)) = extra {
                    d.key.insert(name.into(), value);
                }
                d
            });
        };
        match m.role {
            Role::Request => {
                match m.function {
                    15 => raise(cx, "protocol_dnp3_obsolete_initialize_data", None),
                    19 => raise(cx, "protocol_dnp3_obsolete_save_config", None),
                    _ => {}
                }
                if let Some(flow) = obs.flow {
                    let object = m.object.map(|o| (o.class, o.instance.unwrap_or(0)));
                    *self.dnp3_requests.entry(flow, obs.time, LastRequest::default) =
                        LastRequest { function: m.function, object };
                }
            }
            Role::Response | Role::Unsolicited => {
                let Some(iin) = m.iin else { return };
                let last = obs.flow.and_then(|f| self.dnp3_requests.get(&f)).copied();
                if iin & 0x0001 != 0 {
                    let fc = last.map_or_else(|| "unknown".to_string(), |l| l.function.to_string());
                    raise(
                        cx,
                        "protocol_dnp3_function_code_not_supported",
                        Some(("function_code", fc)),
                    );
                }
                if iin & 0x0002 != 0 {
                    let object = last
                        .and_then(|l| l.object)
                        .map_or_else(|| "unknown".to_string(), |(g, v)| format!("g{g}v{v}"));
                    raise(cx, "protocol_dnp3_unknown_object", Some(("object", object)));
                }
                if iin & 0x0004 != 0 {
                    raise(cx, "protocol_dnp3_incorrect_parameter", None);
                }
                if iin & 0x00c0 != 0 {
                    let bits = match iin & 0x00c0 {
                        0x0040 => "IIN2.6",
                        0x0080 => "IIN2.7",
                        _ => "IIN2.6, IIN2.7",
                    };
                    raise(cx, "protocol_dnp3_reserved_iin", Some(("iin", bits.to_string())));
                }
            }
        }
    }

    fn iec104(
        &mut self,
        obs: &Observation,
        m: &AppMessage,
        client: &crate::observation::Address,
        server: &crate::observation::Address,
        cx: &mut Ctx<'_>,
    ) {
        if m.function >= 0x10000 {
            return;
        }
        let (client, server) = (*client, *server);
        let has = |n: &str| m.anomalies.as_slice().contains(&n);
        let mut found: Vec<(&'static str, &'static str, String)> = Vec::new();
        // What the sending station did wrong (requests), or what the outstation refused.
        let from_client = m.role == Role::Request;
        if from_client && has("iec104.unknown_type_id") || m.cot == Some(44) {
            found.push(("protocol_iec104_illegal_asdu_type", "type_id", m.function.to_string()));
        }
        if from_client && (has("iec104.unknown_cause") || has("iec104.illegal_cause_for_type"))
            || m.cot == Some(45)
        {
            let cot = if m.cot == Some(45) {
                "rejected by the outstation (45)".to_string()
            } else {
                m.cot.map_or_else(|| "unknown".into(), |c| c.to_string())
            };
            found.push(("protocol_iec104_illegal_cot", "cot", cot));
        }
        if from_client && has("iec104.common_address_zero") || m.cot == Some(46) {
            let ca = m.common_address.map_or_else(|| "unknown".into(), |c| c.to_string());
            found.push(("protocol_iec104_illegal_common_address", "common_address", ca));
        }
        if m.cot == Some(47) {
            let ioa = m
                .ranges
                .as_slice()
                .first()
                .map_or_else(|| "unknown".into(), |r| r.start.to_string());
            found.push(("protocol_iec104_illegal_ioa", "ioa", ioa));
        }
        for (ty, field, value) in found {
            let k = key((ty, client.ip, server.ip, &value));
            cx.raise(ty, k, obs.time, &[obs.frame], |cx| {
                let mut d = cx.detection(ty, obs.time, &client, &server, Some("IEC-104"));
                d.key.insert(field.into(), value);
                d
            });
        }
    }
}
