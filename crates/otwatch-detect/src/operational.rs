//! The Operational engine: stops, starts, resets and restarts, failed
//! commands, outstations reporting trouble, devices that stop answering,
//! DHCP failures, illegal addresses, and silence on the monitored interface.
//!
//! - Controller commands (requests): S7 PLC Stop; stop, start and reset on
//!   other protocols (CIP, Modbus/UMAS, DNP3 warm restart, BACnet
//!   ReinitializeDevice); DNP3 cold restart ("Outstation Restarted").
//!   Restarts of one outstation (requests, or IIN1.7 newly reported) are
//!   also counted: 2 in 10 minutes is "Outstation Restarts Frequently".
//!   A start after a stop (or the reverse) of the same controller is "PLC
//!   Operating Mode Changed". Configuration writes to a DNP3 or IEC-104
//!   outstation are "Outstation's Configuration Changed".
//! - Failed responses: BACnet Error/Reject/Abort, CIP general status,
//!   EtherNet/IP encapsulation status, Modbus exception 4 (server failure).
//! - DNP3 IIN: 2.3 event buffer overflow (3 in 10 minutes: continuous),
//!   2.5 corrupt configuration, 1.6 device trouble; Secure Authentication
//!   error objects (group 120 variation 7).
//! - Unresponsive devices: a server port that accepted connections before
//!   and then lets 8 connection attempts in 5 minutes go unanswered (counted
//!   once [`RESPONSE_TIMEOUT`] has passed without an answer); a Modbus unit
//!   polled at least 3 times that has not answered for the whole window
//!   (5 minutes), so slow devices that answer late are not unresponsive. A
//!   later answer writes a `BACK_TO_NORMAL` event.
//! - DHCP: a client that sends 4 Discover/Request without an Offer/Ack, or
//!   gets a NAK.
//! - Illegal source addresses (broadcast, multicast, loopback on a real
//!   link, 0.0.0.0 outside DHCP, class E). Traffic from one loopback
//!   address to another (captured on a loopback interface) is not illegal.
//! - A gap in packet time longer than `silence_after` is "No Traffic
//!   Detected on Sensor Interface" at its start and "Traffic Detected on
//!   Sensor Interface" when packets come back.

use std::collections::BTreeMap;
use std::net::IpAddr;

use otwatch_model::time::format_duration;
use otwatch_model::{EventSeverity, NewEvent, Timestamp};

use crate::engine::{Ctx, DeviceId, device_id, key, protocol_label, sides};
use crate::net::illegal_source;
use crate::observation::{
    Address, AppMessage, Dhcp, Kind, MacAddr, Observation, Operation, Protocol, Role, TcpSignal,
    Transport,
};
use crate::window::{Bounded, RateWindow};

/// Time without any answer after which pending requests count as unanswered.
pub const RESPONSE_TIMEOUT: i64 = 5_000_000;

#[derive(Clone, Copy, Debug, Default)]
struct Waiting {
    unanswered: u64,
    first: Timestamp,
    answered_before: bool,
    alerted: bool,
}

#[derive(Debug)]
pub(crate) struct Operational {
    tcp: Bounded<(IpAddr, IpAddr, u16), Waiting>,
    modbus: Bounded<(DeviceId, DeviceId, u32), Waiting>,
    restarts: Bounded<DeviceId, RateWindow>,
    restart_flag: Bounded<DeviceId, bool>,
    overflows: Bounded<DeviceId, RateWindow>,
    modes: Bounded<DeviceId, &'static str>,
    dhcp: Bounded<[u8; 6], u32>,
    last_packet: Option<Timestamp>,
}

impl Operational {
    pub fn new(limit: usize) -> Operational {
        Operational {
            tcp: Bounded::new(limit),
            modbus: Bounded::new(limit),
            restarts: Bounded::new(limit),
            restart_flag: Bounded::new(limit),
            overflows: Bounded::new(limit),
            modes: Bounded::new(limit),
            dhcp: Bounded::new(limit),
            last_packet: None,
        }
    }

    pub fn evictions(&self, out: &mut BTreeMap<&'static str, u64>) {
        out.insert("operational.tcp_pairs", self.tcp.evicted());
        out.insert("operational.modbus_pairs", self.modbus.evicted());
        out.insert("operational.outstations", self.restarts.evicted() + self.overflows.evicted());
        out.insert("operational.dhcp_clients", self.dhcp.evicted());
    }

    pub fn observe(&mut self, obs: &Observation, cx: &mut Ctx<'_>) {
        self.silence(obs, cx);
        match &obs.kind {
            Kind::Packet(_) => self.illegal_address(obs, cx),
            Kind::Tcp(TcpSignal::Attempt) => self.attempt(obs, cx),
            Kind::Tcp(TcpSignal::Accept) => self.accepted(obs, cx),
            Kind::App(m) => self.app(obs, m, cx),
            Kind::Dhcp(d) => self.dhcp(obs, d, cx),
            _ => {}
        }
    }

    fn silence(&mut self, obs: &Observation, cx: &mut Ctx<'_>) {
        let t = obs.time;
        let Some(after) = cx.settings.silence_after else { return };
        if let Some(last) = self.last_packet
            && t.0.saturating_sub(last.0) >= after
        {
            let quiet_from = last.plus_micros(after);
            let iface = Address::default();
            let k = key(("silence", last));
            cx.raise("operational_no_traffic_on_interface", k, quiet_from, &[], |cx| {
                let mut d = cx.detection(
                    "operational_no_traffic_on_interface",
                    quiet_from,
                    &iface,
                    &iface,
                    None,
                );
                d.details.insert("interface".into(), "capture".into());
                d.details.insert("silent_for".into(), format_duration(t.0 - last.0));
                d
            });
            let k = key(("traffic", t));
            cx.raise("operational_traffic_on_interface", k, t, &[obs.frame], |cx| {
                let mut d =
                    cx.detection("operational_traffic_on_interface", t, &iface, &iface, None);
                d.details.insert("interface".into(), "capture".into());
                d
            });
        }
        if self.last_packet.is_none_or(|l| t > l) {
            self.last_packet = Some(t);
        }
    }

    fn illegal_address(&mut self, obs: &Observation, cx: &mut Ctx<'_>) {
        let Some(ip) = obs.src.ip else { return };
        let dhcp =
            obs.transport == Transport::Udp && obs.src.port == Some(68) && obs.dst.port == Some(67);
        let Some(why) = illegal_source(&ip, dhcp) else { return };
        // Traffic between loopback addresses was captured on a loopback
        // interface (test rigs); a forged loopback source on a real link goes elsewhere.
        if ip.is_loopback() && obs.dst.ip.is_some_and(|d| d.is_loopback()) {
            return;
        }
        let (src, dst) = (obs.src, obs.dst);
        let label = protocol_label(obs);
        let k = key(("illegal_ip", ip));
        cx.raise("operational_illegal_ip_address", k, obs.time, &[obs.frame], |cx| {
            let mut d =
                cx.detection("operational_illegal_ip_address", obs.time, &src, &dst, Some(label));
            d.key.insert("address".into(), ip.to_string());
            d.details.insert("reason".into(), why.to_string());
            d
        });
    }

    fn back_to_normal(cx: &mut Ctx<'_>, t: Timestamp, client: &Address, server: &Address) {
        let mut e = NewEvent::new(t, "BACK_TO_NORMAL", EventSeverity::Notice, "Back to Normal");
        let s = server.ip.map(|i| i.to_string()).unwrap_or_default();
        e.description = format!("{s} answers again.");
        e.src_ip = client.ip.map(|i| i.to_string());
        e.dst_ip = server.ip.map(|i| i.to_string());
        e.key = Some(format!("back_to_normal:{s}:{}", t.0));
        cx.event(e);
    }

    fn attempt(&mut self, obs: &Observation, cx: &mut Ctx<'_>) {
        let (Some(c), Some(s), Some(port)) = (obs.src.ip, obs.dst.ip, obs.dst.port) else { return };
        let Some(w) = self.tcp.get_mut(&(c, s, port)) else { return };
        if !w.answered_before {
            return;
        }
        let count = cx.settings.thresholds.count("operational_device_unresponsive", "count");
        let window = cx.settings.thresholds.window("operational_device_unresponsive", "window");
        if w.unanswered == 0 || obs.time.0.saturating_sub(w.first.0) > window {
            w.unanswered = 0;
            w.first = obs.time;
        }
        w.unanswered += 1;
        if w.unanswered >= count && obs.time.0.saturating_sub(w.first.0) >= RESPONSE_TIMEOUT {
            w.alerted = true;
            let n = w.unanswered;
            let (src, dst) = (obs.src, obs.dst);
            let label = obs.dst.port.and_then(crate::anomaly::port_protocol).unwrap_or("TCP");
            let k = key(("unresponsive", c, s, port));
            cx.raise("operational_device_unresponsive", k, obs.time, &[obs.frame], |cx| {
                let mut d = cx.detection(
                    "operational_device_unresponsive",
                    obs.time,
                    &src,
                    &dst,
                    Some(label),
                );
                d.details.insert("count".into(), n.to_string());
                d.details.insert("window".into(), format_duration(window));
                d
            });
        }
    }

    fn accepted(&mut self, obs: &Observation, cx: &mut Ctx<'_>) {
        // A SYN-ACK from the server (src) to the client (dst).
        let (Some(s), Some(c), Some(port)) = (obs.src.ip, obs.dst.ip, obs.src.port) else { return };
        let w = self.tcp.entry((c, s, port), obs.time, Waiting::default);
        let was = w.alerted;
        *w = Waiting { answered_before: true, ..Waiting::default() };
        if was {
            Self::back_to_normal(cx, obs.time, &obs.dst, &obs.src);
        }
    }

    fn app(&mut self, obs: &Observation, m: &AppMessage, cx: &mut Ctx<'_>) {
        let (client, server) = sides(obs);
        let (client, server) = (*client, *server);
        let label = protocol_label(obs);
        let t = obs.time;
        if m.protocol == Protocol::Modbus {
            self.modbus_waiting(obs, m, &client, &server, cx);
        }
        match m.role {
            Role::Request => self.command(obs, m, &client, &server, label, cx),
            Role::Response | Role::Unsolicited => {
                if m.is_error() {
                    self.failure(obs, m, &client, &server, label, cx);
                }
                if m.protocol == Protocol::Dnp3 {
                    self.dnp3_response(obs, m, &client, &server, cx);
                }
            }
        }
        let _ = t;
    }

    fn modbus_waiting(
        &mut self,
        obs: &Observation,
        m: &AppMessage,
        client: &Address,
        server: &Address,
        cx: &mut Ctx<'_>,
    ) {
        let (Some(c), Some(s)) = (device_id(client), device_id(server)) else { return };
        let unit = m.unit.unwrap_or(0);
        let t = obs.time;
        match m.role {
            Role::Request => {
                let requests =
                    cx.settings.thresholds.count("operational_modbus_unresponsive", "requests");
                let window =
                    cx.settings.thresholds.window("operational_modbus_unresponsive", "window");
                let w = self.modbus.entry((c, s, unit), t, Waiting::default);
                if w.unanswered == 0 {
                    w.first = t;
                }
                w.unanswered += 1;
                // Silent for the whole window while polled: slow or busy
                // devices that answer late are not unresponsive.
                if w.unanswered >= requests && t.0.saturating_sub(w.first.0) >= window {
                    w.alerted = true;
                    let n = w.unanswered;
                    let (client, server) = (*client, *server);
                    let k = key(("modbus_unresponsive", c, s, unit));
                    cx.raise("operational_modbus_unresponsive", k, t, &[obs.frame], |cx| {
                        let mut d = cx.detection(
                            "operational_modbus_unresponsive",
                            t,
                            &client,
                            &server,
                            Some("Modbus"),
                        );
                        d.details.insert("count".into(), n.to_string());
                        d.details.insert("window".into(), format_duration(window));
                        d.details.insert("unit".into(), unit.to_string());
                        d
                    });
                }
            }
            _ => {
                let w = self.modbus.entry((c, s, unit), t, Waiting::default);
                let was = w.alerted;
                *w = Waiting::default();
                if was {
                    Self::back_to_normal(cx, t, client, server);
                }
            }
        }
    }

    fn command(
        &mut self,
        obs: &Observation,
        m: &AppMessage,
        client: &Address,
        server: &Address,
        label: &'static str,
        cx: &mut Ctx<'_>,
    ) {
        let t = obs.time;
        let (client, server) = (*client, *server);
        let function =
            m.function_name.map_or_else(|| format!("0x{:02x}", m.function), str::to_string);
        let ty = match (m.operation, m.protocol) {
            (Operation::Stop, Protocol::S7comm) => Some("operational_s7_plc_stop"),
            (Operation::Stop, _) => Some("operational_controller_stop"),
            (Operation::Start, _) => Some("operational_controller_start"),
            (Operation::ColdRestart, Protocol::Dnp3) => Some("operational_dnp3_cold_restart"),
            (Operation::ColdRestart | Operation::WarmRestart, _) => {
                Some("operational_controller_reset")
            }
            (Operation::ConfigWrite, Protocol::Dnp3 | Protocol::Iec104) => {
                Some("operational_outstation_configuration_changed")
            }
            _ => None,
        };
        if let Some(ty) = ty {
            let k = key((ty, client.ip, server.ip, client.mac, server.mac, label));
            let f = function;
            cx.raise(ty, k, t, &[obs.frame], |cx| {
                let mut d = cx.detection(ty, t, &client, &server, Some(label));
                if ty == "operational_outstation_configuration_changed" {
                    d.key.insert("change".into(), f);
                } else {
                    d.details.insert("function".into(), f);
                }
                d
            });
        }
        // Operating mode from the commands a controller receives.
        if let (Some(mode), Some(s)) = (
            match m.operation {
                Operation::Stop => Some("stop"),
                Operation::Start => Some("run"),
                _ => None,
            },
            device_id(&server),
        ) {
            let prev = *self.modes.entry(s, t, || mode);
            if prev != mode {
                if let Some(v) = self.modes.get_mut(&s) {
                    *v = mode;
                }
                let k = key(("mode", s, prev, mode));
                cx.raise("operational_plc_operating_mode_changed", k, t, &[obs.frame], |cx| {
                    let mut d = cx.detection(
                        "operational_plc_operating_mode_changed",
                        t,
                        &server,
                        &client,
                        Some(label),
                    );
                    d.key.insert("mode_new".into(), mode.into());
                    d.details.insert("mode_old".into(), prev.into());
                    d
                });
            }
        }
        if m.protocol == Protocol::Dnp3
            && matches!(m.operation, Operation::ColdRestart | Operation::WarmRestart)
        {
            self.restart(obs, &client, &server, cx);
        }
    }

    fn restart(&mut self, obs: &Observation, client: &Address, server: &Address, cx: &mut Ctx<'_>) {
        let Some(s) = device_id(server) else { return };
        let t = obs.time;
        let count = cx.settings.thresholds.count("operational_dnp3_frequent_restarts", "count");
        let window = cx.settings.thresholds.window("operational_dnp3_frequent_restarts", "window");
        let n = self.restarts.entry(s, t, || RateWindow::new(count)).push(t, count, window);
        if n >= count {
            let (client, server) = (*client, *server);
            let k = key(("frequent_restarts", s));
            cx.raise("operational_dnp3_frequent_restarts", k, t, &[obs.frame], |cx| {
                let mut d = cx.detection(
                    "operational_dnp3_frequent_restarts",
                    t,
                    &client,
                    &server,
                    Some("DNP3"),
                );
                d.details.insert("count".into(), n.to_string());
                d.details.insert("window".into(), format_duration(window));
                d
            });
        }
    }

    fn failure(
        &mut self,
        obs: &Observation,
        m: &AppMessage,
        client: &Address,
        server: &Address,
        label: &'static str,
        cx: &mut Ctx<'_>,
    ) {
        let t = obs.time;
        let (client, server) = (*client, *server);
        let code = m.error_code.unwrap_or_default();
        let error = m.error_name.map_or_else(|| format!("0x{code:02x}"), str::to_string);
        let service =
            m.function_name.map_or_else(|| format!("0x{:02x}", m.function), str::to_string);
        let (ty, fields): (&'static str, Vec<(&'static str, String)>) = match m.protocol {
            Protocol::Bacnet => (
                "operational_bacnet_operation_failed",
                vec![("service", service), ("error", error.clone())],
            ),
            Protocol::Cip => {
                let class =
                    m.object.map_or_else(|| "unknown".into(), |o| format!("0x{:02x}", o.class));
                (
                    "operational_cip_service_failed",
                    vec![
                        ("service", format!("0x{:02x}", m.function)),
                        ("class", class),
                        ("status", format!("0x{code:02x}")),
                    ],
                )
            }
            Protocol::Enip => (
                "operational_enip_command_failed",
                vec![
                    ("command", format!("0x{:04x}", m.function)),
                    ("status", format!("0x{code:x}")),
                ],
            ),
            Protocol::Modbus if code == 4 => ("operational_modbus_unrecoverable_failure", vec![]),
            _ => return,
        };
        let k = key((ty, client.ip, server.ip, client.mac, server.mac, &fields));
        let names = m.function_name;
        cx.raise(ty, k, t, &[obs.frame], |cx| {
            let mut d = cx.detection(ty, t, &client, &server, Some(label));
            for (f, v) in fields {
                d.key.insert(f.into(), v);
            }
            if ty == "operational_cip_service_failed" {
                if let Some(n) = names {
                    d.details.insert("service_name".into(), n.into());
                }
                d.details.insert("status_name".into(), error.clone());
            }
            d
        });
    }

    fn dnp3_response(
        &mut self,
        obs: &Observation,
        m: &AppMessage,
        client: &Address,
        server: &Address,
        cx: &mut Ctx<'_>,
    ) {
        let t = obs.time;
        let Some(s) = device_id(server) else { return };
        let (client, server) = (*client, *server);
        let iin = m.iin.unwrap_or(0);
        let raise = |cx: &mut Ctx<'_>, ty: &'static str, extra: Vec<(&'static str, String)>| {
            let k = key((ty, client.ip, server.ip, client.mac, server.mac));
            cx.raise(ty, k, t, &[obs.frame], |cx| {
                let mut d = cx.detection(ty, t, &client, &server, Some("DNP3"));
                for (f, v) in extra {
                    d.details.insert(f.into(), v);
                }
                d
            });
        };
        if iin & 0x0008 != 0 {
            raise(cx, "operational_dnp3_event_buffer_overflow", vec![]);
            let count = cx
                .settings
                .thresholds
                .count("operational_dnp3_continuous_buffer_overflow", "count");
            let window = cx
                .settings
                .thresholds
                .window("operational_dnp3_continuous_buffer_overflow", "window");
            let n = self.overflows.entry(s, t, || RateWindow::new(count)).push(t, count, window);
            if n >= count {
                raise(
                    cx,
                    "operational_dnp3_continuous_buffer_overflow",
                    vec![("count", n.to_string()), ("window", format_duration(window))],
                );
            }
        }
        if iin & 0x0020 != 0 {
            raise(cx, "operational_dnp3_corrupted_configuration", vec![]);
        }
        if iin & 0x4000 != 0 {
            raise(cx, "operational_dnp3_hardware_problem", vec![]);
        }
        let auth_error = std::iter::once(m.object)
            .flatten()
            .chain(m.more_objects.as_slice().iter().copied())
            .any(|o| o.class == 120 && o.instance == Some(7));
        if auth_error {
            raise(cx, "operational_dnp3_authentication_error", vec![]);
        }
        // IIN1.7 newly set: the outstation restarted.
        let flag = iin & 0x8000 != 0;
        let was = self.restart_flag.entry(s, t, || false);
        let new = flag && !*was;
        *was = flag;
        if new {
            self.restart(obs, &client, &server, cx);
        }
    }

    fn dhcp(&mut self, obs: &Observation, d: &Dhcp, cx: &mut Ctx<'_>) {
        let Some(mac) = d.client_mac else { return };
        let t = obs.time;
        match d.message_type {
            Some(1) | Some(3) => {
                let n = self.dhcp.entry(mac.0, t, || 0);
                *n += 1;
                if *n >= 4 {
                    let n = *n;
                    Self::dhcp_failure(obs, mac, format!("{n} requests without an answer"), cx);
                }
            }
            Some(2) | Some(5) => {
                if let Some(n) = self.dhcp.get_mut(&mac.0) {
                    *n = 0;
                }
            }
            Some(6) => Self::dhcp_failure(obs, mac, "the server refused (NAK)".into(), cx),
            _ => {}
        }
    }

    fn dhcp_failure(obs: &Observation, mac: MacAddr, reason: String, cx: &mut Ctx<'_>) {
        let t = obs.time;
        let client = Address { mac: Some(mac), ip: None, port: None };
        let k = key(("dhcp", mac.0));
        cx.raise("operational_dhcp_failure", k, t, &[obs.frame], |cx| {
            let mut d = cx.detection(
                "operational_dhcp_failure",
                t,
                &client,
                &Address::default(),
                Some("DHCP"),
            );
            d.key.insert("mac".into(), mac.to_string());
            d.details.insert("reason".into(), reason);
            d
        });
    }

    pub fn tick(&mut self, _now: Timestamp, _cx: &mut Ctx<'_>) {}

    pub fn finish(&mut self, _now: Timestamp, _cx: &mut Ctx<'_>) {}
}
