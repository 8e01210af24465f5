//! The Policy Violation engine: deviations from the learned baseline.
//!
//! Every check names a baseline fact (see `baseline.rs`): a device, a pair,
//! a protocol or port, an operation (function code, ASDU type, CIP class or
//! service, S7 function or data block, BACnet object, DNP3 IIN…), a Modbus
//! address range, a firmware version, Internet or multicast use, a name
//! query, an HTTP user agent, an engineering operation. In learning mode an
//! unknown fact is learned (and queued for the store) and nothing is raised;
//! in operational mode an unknown fact raises its policy alert every time it
//! is seen (the reporter aggregates the repeats).
//!
//! Rules that keep the alerts readable (documented in `docs/detection.md`):
//! - a new pair is raised once, with the application protocol it turned out
//!   to speak (the engine waits up to [`PAIR_SETTLE`] of packet time for the
//!   first application message, else names the transport); "new protocol"
//!   is raised only for pairs already in the baseline;
//! - devices are new assets only on OT subnets; a device that answers an OT
//!   protocol without being in the baseline is a field device discovered;
//! - the first firmware version reported by a device is recorded (in both
//!   modes) without an alert; a different one later is a change;
//! - engineering operations (program download/upload, configuration
//!   read/write) from a device configured or flagged as a programming
//!   device never alert; from others they are checked per pair.
//!
//! A decision per fact is cached (`decided`, bounded) so that ordinary
//! traffic costs one hash lookup per check; the cache is cleared whenever
//! the baseline changes.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::IpAddr;

use otwatch_model::Timestamp;

use crate::baseline::FactKind;
use crate::engine::{Ctx, DeviceId, device_id, device_name, key, protocol_label, sides};
use crate::learn::FACT_FIELDS;
use crate::net::{is_documentation, is_multicast_or_broadcast, is_public};
use crate::observation::{
    Address, AppMessage, Direction, Dns, HttpRequest, Identity, Kind, Login, Observation,
    Operation, Protocol, Role, TcpSignal, Transport,
};
use crate::settings::Mode;

/// How long (packet time) a new pair waits for its first application
/// message before it is reported with its transport only.
pub const PAIR_SETTLE: i64 = 3_000_000;

/// A new pair seen, waiting for its application protocol.
#[derive(Clone, Debug)]
struct PendingPair {
    client: Address,
    server: Address,
    first: Timestamp,
    frame: u64,
    label: &'static str,
}

/// State of the policy engine.
#[derive(Debug)]
pub(crate) struct Policy {
    decided: HashMap<u64, bool>,
    pending_pairs: BTreeMap<(DeviceId, DeviceId), PendingPair>,
    alerted_pairs: HashMap<(DeviceId, DeviceId), &'static str>,
    ot_devices: HashSet<IpAddr>,
    internet_types: HashMap<(IpAddr, IpAddr), &'static str>,
    last_firmware: HashMap<DeviceId, String>,
    limit: usize,
    evicted: u64,
}

/// Pairs the policy engine keeps: two different devices, neither on the
/// Internet, at least one on an OT subnet.
fn relevant_pair(c: DeviceId, s: DeviceId, cx: &Ctx<'_>) -> bool {
    if c == s {
        return false;
    }
    match (c, s) {
        (DeviceId::Ip(a), DeviceId::Ip(b)) => {
            (cx.settings.is_ot(&a) || cx.settings.is_ot(&b))
                && !is_public(&a)
                && !is_public(&b)
                && !is_documentation(&a)
                && !is_documentation(&b)
                && !is_multicast_or_broadcast(&b)
        }
        _ => true,
    }
}

fn usable_source(ip: &IpAddr) -> bool {
    !(is_multicast_or_broadcast(ip) || ip.is_unspecified() || ip.is_loopback())
}

/// The fact value of an operation dimension and its display parts.
fn hex(v: u32) -> String {
    format!("0x{v:02x}")
}

impl Policy {
    pub fn new(limit: usize) -> Policy {
        Policy {
            decided: HashMap::new(),
            pending_pairs: BTreeMap::new(),
            alerted_pairs: HashMap::new(),
            ot_devices: HashSet::new(),
            internet_types: HashMap::new(),
            last_firmware: HashMap::new(),
            limit,
            evicted: 0,
        }
    }

    pub fn baseline_changed(&mut self) {
        self.decided.clear();
        self.alerted_pairs.clear();
    }

    pub fn evictions(&self, out: &mut BTreeMap<&'static str, u64>) {
        out.insert("policy.decisions", self.evicted);
    }

    /// Whether the fact is a deviation to raise now. In learning mode an
    /// unknown fact is learned and this returns false.
    fn deviates(
        &mut self,
        cx: &mut Ctx<'_>,
        raw: u64,
        kind: FactKind,
        time: Timestamp,
        parts: impl FnOnce() -> Vec<String>,
    ) -> bool {
        let raw = raw ^ key(kind);
        if let Some(known) = self.decided.get(&raw) {
            return !known;
        }
        let parts = parts();
        let refs: Vec<&str> = parts.iter().map(String::as_str).collect();
        let deviation = if cx.baseline.knows(kind, &refs) {
            false
        } else if cx.mode() == Mode::Learning {
            cx.baseline.learn(kind, &refs, BTreeMap::new(), time);
            false
        } else {
            true
        };
        if self.decided.len() >= self.limit {
            self.evicted += self.decided.len() as u64;
            self.decided.clear();
        }
        self.decided.insert(raw, !deviation);
        deviation
    }

    /// Learns a fact in any mode, silently (first firmware version of a device).
    fn record(cx: &mut Ctx<'_>, kind: FactKind, parts: &[&str], time: Timestamp) {
        if !cx.baseline.knows(kind, parts) {
            cx.baseline.learn(kind, parts, BTreeMap::new(), time);
        }
    }

    pub fn observe(&mut self, obs: &Observation, cx: &mut Ctx<'_>) {
        match &obs.kind {
            Kind::Packet(_) => self.packet(obs, cx),
            Kind::Tcp(TcpSignal::Accept) => self.port(obs, cx),
            // A ping forms a pair only when it is answered: the reply's sender is
            // the pair's server (a sweep of empty addresses is no communication).
            Kind::Icmp(i) if i.is_echo_reply() => self.pair(obs, &obs.dst, &obs.src, None, cx),
            Kind::Arp(a) => {
                let ip = IpAddr::V4(a.sender_ip);
                if usable_source(&ip) {
                    let mut src = obs.src;
                    src.ip = Some(ip);
                    self.device(obs, &src, cx);
                }
            }
            Kind::App(m) => self.app(obs, m, cx),
            Kind::Identity(i) => self.identity(obs, i, cx),
            Kind::Dns(d) if !d.response => self.dns(obs, d, cx),
            Kind::Http(h) => self.http(obs, h, cx),
            Kind::Login(l) => self.login(obs, l, cx),
            _ => {}
        }
    }

    fn packet(&mut self, obs: &Observation, cx: &mut Ctx<'_>) {
        let (Some(sip), Some(dip)) = (obs.src.ip, obs.dst.ip) else { return };
        if usable_source(&sip) && !is_public(&sip) {
            self.device(obs, &obs.src, cx);
        }
        if is_multicast_or_broadcast(&dip) {
            self.multicast(obs, cx);
            return;
        }
        let (sp, dp) = (is_public(&sip), is_public(&dip));
        if sp != dp {
            let (internal, external) = if sp { (&obs.dst, &obs.src) } else { (&obs.src, &obs.dst) };
            self.internet(obs, internal, external, cx);
            return;
        }
        if sp {
            return;
        }
        if obs.flow.is_some() && obs.direction == Some(Direction::ToServer) {
            self.pair(obs, &obs.src, &obs.dst, None, cx);
        }
    }

    fn device(&mut self, obs: &Observation, dev: &Address, cx: &mut Ctx<'_>) {
        let Some(ip) = dev.ip else { return };
        if !cx.settings.is_ot(&ip) {
            return;
        }
        let raw = key(("device", ip));
        if self.deviates(cx, raw, FactKind::Device, obs.time, || vec![ip.to_string()]) {
            let dev = *dev;
            cx.raise("policy_new_asset", raw, obs.time, &[obs.frame], |cx| {
                cx.detection("policy_new_asset", obs.time, &dev, &Address::default(), None)
            });
        }
    }

    /// A pair (client → server). `protocol` is the application protocol when known.
    fn pair(
        &mut self,
        obs: &Observation,
        client: &Address,
        server: &Address,
        protocol: Option<&'static str>,
        cx: &mut Ctx<'_>,
    ) {
        let (Some(c), Some(s)) = (device_id(client), device_id(server)) else { return };
        if !relevant_pair(c, s, cx) {
            return;
        }
        let raw = key(("pair", c, s));
        let deviation = self.deviates(cx, raw, FactKind::Pair, obs.time, || {
            vec![device_name(client).unwrap_or_default(), device_name(server).unwrap_or_default()]
        });
        if !deviation {
            return;
        }
        if let Some(label) = self.alerted_pairs.get(&(c, s)).copied() {
            let (client, server) = (*client, *server);
            Self::raise_pair(cx, obs.time, &[obs.frame], raw, client, server, label);
            return;
        }
        match protocol {
            Some(p) => {
                let mut frames = vec![obs.frame];
                if let Some(pp) = self.pending_pairs.remove(&(c, s)) {
                    frames.insert(0, pp.frame);
                }
                self.remember_pair(c, s, p);
                Self::raise_pair(cx, obs.time, &frames, raw, *client, *server, p);
            }
            None => {
                if !self.pending_pairs.contains_key(&(c, s)) {
                    if self.pending_pairs.len() >= self.limit {
                        self.flush_pairs(None, cx);
                    }
                    let label = crate::engine::transport_label(obs);
                    self.pending_pairs.insert(
                        (c, s),
                        PendingPair {
                            client: *client,
                            server: *server,
                            first: obs.time,
                            frame: obs.frame,
                            label,
                        },
                    );
                }
            }
        }
    }

    fn remember_pair(&mut self, c: DeviceId, s: DeviceId, label: &'static str) {
        if self.alerted_pairs.len() >= self.limit {
            self.evicted += self.alerted_pairs.len() as u64;
            self.alerted_pairs.clear();
        }
        self.alerted_pairs.insert((c, s), label);
    }

    fn raise_pair(
        cx: &mut Ctx<'_>,
        time: Timestamp,
        frames: &[u64],
        raw: u64,
        client: Address,
        server: Address,
        label: &'static str,
    ) {
        let mut server_port = server.port;
        if !matches!(label, "TCP" | "UDP") {
            server_port = None;
        }
        cx.raise("policy_new_communication_pair", raw, time, frames, move |cx| {
            let mut d =
                cx.detection("policy_new_communication_pair", time, &client, &server, Some(label));
            if let Some(p) = server_port {
                d.details.insert("port".into(), p.to_string());
            }
            d
        });
    }

    /// Reports pending pairs older than [`PAIR_SETTLE`] (all with `None`).
    fn flush_pairs(&mut self, now: Option<Timestamp>, cx: &mut Ctx<'_>) {
        let due: Vec<(DeviceId, DeviceId)> = self
            .pending_pairs
            .iter()
            .filter(|(_, p)| now.is_none_or(|n| n.0.saturating_sub(p.first.0) >= PAIR_SETTLE))
            .map(|(k, _)| *k)
            .collect();
        for k in due {
            if let Some(p) = self.pending_pairs.remove(&k) {
                let raw = key(("pair", k.0, k.1));
                self.remember_pair(k.0, k.1, p.label);
                Self::raise_pair(cx, p.first, &[p.frame], raw, p.client, p.server, p.label);
            }
        }
    }

    pub fn tick(&mut self, now: Timestamp, cx: &mut Ctx<'_>) {
        if !self.pending_pairs.is_empty() {
            self.flush_pairs(Some(now), cx);
        }
    }

    pub fn finish(&mut self, _now: Timestamp, cx: &mut Ctx<'_>) {
        self.flush_pairs(None, cx);
    }

    /// The protocol of a pair already in the baseline.
    fn protocol_fact(
        &mut self,
        obs: &Observation,
        client: &Address,
        server: &Address,
        label: &'static str,
        cx: &mut Ctx<'_>,
    ) {
        let (Some(c), Some(s)) = (device_id(client), device_id(server)) else { return };
        if !relevant_pair(c, s, cx) {
            return;
        }
        let raw = key(("protocol", c, s, label));
        let deviation = self.deviates(cx, raw, FactKind::Protocol, obs.time, || {
            vec![
                device_name(client).unwrap_or_default(),
                device_name(server).unwrap_or_default(),
                label.to_string(),
            ]
        });
        if deviation && label != "HTTP" {
            let (client, server) = (*client, *server);
            cx.raise("policy_new_protocol", raw, obs.time, &[obs.frame], |cx| {
                cx.detection("policy_new_protocol", obs.time, &client, &server, Some(label))
            });
        }
    }

    /// The protocol of a pair: a new pair if the pair is unknown, else a new protocol.
    fn pair_protocol(
        &mut self,
        obs: &Observation,
        client: &Address,
        server: &Address,
        label: &'static str,
        cx: &mut Ctx<'_>,
    ) -> bool {
        let (Some(c), Some(s)) = (device_id(client), device_id(server)) else { return false };
        if !relevant_pair(c, s, cx) {
            return false;
        }
        let pair_known = {
            let raw = key(("pair", c, s)) ^ key(FactKind::Pair);
            match self.decided.get(&raw) {
                Some(k) => *k,
                None => {
                    let parts = [
                        device_name(client).unwrap_or_default(),
                        device_name(server).unwrap_or_default(),
                    ];
                    cx.baseline.knows(FactKind::Pair, &[&parts[0], &parts[1]])
                }
            }
        };
        if pair_known || cx.mode() == Mode::Learning {
            if !pair_known {
                self.pair(obs, client, server, Some(label), cx);
            }
            self.protocol_fact(obs, client, server, label, cx);
            pair_known
        } else {
            self.pair(obs, client, server, Some(label), cx);
            false
        }
    }

    fn port(&mut self, obs: &Observation, cx: &mut Ctx<'_>) {
        // A SYN-ACK: the sender serves the port.
        let (Some(sip), Some(port)) = (obs.src.ip, obs.src.port) else { return };
        let remote = |ip: &IpAddr| is_public(ip) || is_documentation(ip);
        if remote(&sip) || obs.dst.ip.is_some_and(|ip| remote(&ip)) {
            return;
        }
        let raw = key(("port", sip, port));
        if self.deviates(cx, raw, FactKind::Port, obs.time, || {
            vec![sip.to_string(), format!("tcp/{port}")]
        }) {
            let (server, client) = (obs.src, obs.dst);
            cx.raise("policy_new_port", raw, obs.time, &[obs.frame], |cx| {
                let mut d =
                    cx.detection("policy_new_port", obs.time, &client, &server, Some("TCP"));
                d.key.insert("transport".into(), "tcp".into());
                d.key.insert("port".into(), port.to_string());
                d
            });
        }
    }

    fn internet(
        &mut self,
        obs: &Observation,
        internal: &Address,
        external: &Address,
        cx: &mut Ctx<'_>,
    ) {
        let (Some(i), Some(e)) = (internal.ip, external.ip) else { return };
        if !usable_source(&i) || !usable_source(&e) {
            return;
        }
        let raw = key(("internet", i, e));
        if self
            .deviates(cx, raw, FactKind::Internet, obs.time, || vec![i.to_string(), e.to_string()])
        {
            // The type is decided once per pair, when it is first seen.
            let ot = self.ot_devices.contains(&i) && cx.settings.is_ot(&i);
            if self.internet_types.len() >= self.limit {
                self.evicted += self.internet_types.len() as u64;
                self.internet_types.clear();
            }
            let ty = *self.internet_types.entry((i, e)).or_insert(if ot {
                "policy_unauthorized_internet_connectivity"
            } else {
                "policy_internet_access"
            });
            let (internal, external) = (*internal, *external);
            let label = protocol_label(obs);
            cx.raise(ty, raw, obs.time, &[obs.frame], |cx| {
                cx.detection(ty, obs.time, &internal, &external, Some(label))
            });
        }
    }

    fn multicast(&mut self, obs: &Observation, cx: &mut Ctx<'_>) {
        let (Some(sip), Some(group)) = (obs.src.ip, obs.dst.ip) else { return };
        if !usable_source(&sip) || is_public(&sip) {
            return;
        }
        let label = match (obs.transport, obs.dst.port) {
            (Transport::Udp, Some(p)) => format!("udp/{p}"),
            (Transport::Tcp, Some(p)) => format!("tcp/{p}"),
            (Transport::Icmp, _) => "icmp".to_string(),
            (Transport::OtherIp(n), _) => format!("ip/{n}"),
            _ => "ip".to_string(),
        };
        let raw = key(("multicast", sip, group, obs.transport, obs.dst.port));
        if self.deviates(cx, raw, FactKind::Multicast, obs.time, || {
            vec![sip.to_string(), group.to_string(), label.clone()]
        }) {
            let (src, dst) = (obs.src, obs.dst);
            cx.raise(
                "policy_unauthorized_multicast_broadcast",
                raw,
                obs.time,
                &[obs.frame],
                |cx| {
                    let mut d = cx.detection(
                        "policy_unauthorized_multicast_broadcast",
                        obs.time,
                        &src,
                        &dst,
                        Some(&label),
                    );
                    d.destination.mac = None;
                    d
                },
            );
        }
    }

    fn app(&mut self, obs: &Observation, m: &AppMessage, cx: &mut Ctx<'_>) {
        let (client, server) = sides(obs);
        let (client, server) = (*client, *server);
        if m.protocol.is_ot() {
            for ip in [client.ip, server.ip].into_iter().flatten() {
                if self.ot_devices.len() < self.limit {
                    self.ot_devices.insert(ip);
                }
            }
        }
        let broadcast = server.ip.is_some_and(|ip| is_multicast_or_broadcast(&ip))
            || server.mac.is_some_and(|m| m.is_group()) && server.ip.is_none();
        if m.protocol.is_ot() && m.role != Role::Request && !broadcast {
            self.field_device(obs, m, &server, cx);
        }
        if broadcast || m.protocol == Protocol::Dhcp {
            return;
        }
        let label = protocol_label(obs);
        // Responses carry no new facts about the pair; only their findings below.
        if m.role == Role::Request
            || (m.role == Role::Unsolicited && m.protocol == Protocol::Bacnet)
        {
            self.pair_protocol(obs, &client, &server, label, cx);
            self.engineering(obs, m, &client, &server, label, cx);
        }
        self.operations(obs, m, &client, &server, cx);
    }

    fn field_device(
        &mut self,
        obs: &Observation,
        m: &AppMessage,
        server: &Address,
        cx: &mut Ctx<'_>,
    ) {
        let Some(dev) = device_id(server) else { return };
        if let DeviceId::Ip(ip) = dev
            && (!cx.settings.is_ot(&ip) || !usable_source(&ip))
        {
            return;
        }
        let raw = key(("device", dev));
        let raw = match dev {
            DeviceId::Ip(ip) => key(("device", ip)),
            DeviceId::Mac(_) => raw,
        };
        if self.deviates(cx, raw, FactKind::Device, obs.time, || {
            vec![device_name(server).unwrap_or_default()]
        }) {
            let device_type = match m.protocol {
                Protocol::Dnp3 | Protocol::Iec104 => "RTU",
                Protocol::Bacnet => "Controller",
                _ => "PLC",
            };
            let server = *server;
            let label = m.protocol.name();
            cx.raise("policy_field_device_discovered", raw, obs.time, &[obs.frame], |cx| {
                let mut d = cx.detection(
                    "policy_field_device_discovered",
                    obs.time,
                    &server,
                    &Address::default(),
                    Some(label),
                );
                d.details.insert("device_type".into(), device_type.into());
                d
            });
        }
    }

    /// Program download/upload and configuration read/write by a device not allowed to program.
    fn engineering(
        &mut self,
        obs: &Observation,
        m: &AppMessage,
        client: &Address,
        server: &Address,
        label: &'static str,
        cx: &mut Ctx<'_>,
    ) {
        let (ty, op) = match m.operation {
            Operation::ProgramDownload => {
                ("policy_unauthorized_plc_programming", "program_download")
            }
            Operation::ProgramUpload => {
                ("policy_unauthorized_plc_program_upload", "program_upload")
            }
            Operation::ConfigRead => ("policy_unauthorized_plc_configuration_read", "config_read"),
            Operation::ConfigWrite => {
                ("policy_unauthorized_plc_configuration_write", "config_write")
            }
            _ => return,
        };
        if client
            .ip
            .is_some_and(|ip| cx.settings.programming_devices.iter().any(|c| c.contains(&ip)))
        {
            return;
        }
        let (Some(c), Some(s)) = (device_id(client), device_id(server)) else { return };
        let raw = key(("engineering", c, s, label, op));
        if self.deviates(cx, raw, FactKind::Operation, obs.time, || {
            vec![
                device_name(client).unwrap_or_default(),
                device_name(server).unwrap_or_default(),
                label.to_string(),
                "engineering".to_string(),
                op.to_string(),
            ]
        }) {
            let (client, server) = (*client, *server);
            let function = m.function_name.map_or_else(|| hex(m.function), str::to_string);
            cx.raise(ty, raw, obs.time, &[obs.frame], |cx| {
                let mut d = cx.detection(ty, obs.time, &client, &server, Some(label));
                d.details.insert("function".into(), function);
                d
            });
        }
    }

    /// One operation-level fact of the pair (see `learn::FACT_FIELDS`).
    #[allow(clippy::too_many_arguments)]
    fn operation_fact(
        &mut self,
        obs: &Observation,
        ty: &'static str,
        client: &Address,
        server: &Address,
        key_fields: &[(&'static str, String)],
        detail_fields: &[(&'static str, String)],
        cx: &mut Ctx<'_>,
    ) {
        let Some((_, proto, dim, fields)) = FACT_FIELDS.iter().find(|(t, ..)| *t == ty) else {
            return;
        };
        let (Some(c), Some(s)) = (device_id(client), device_id(server)) else { return };
        let value: Vec<&str> = fields
            .iter()
            .filter_map(|f| key_fields.iter().chain(detail_fields).find(|(k, _)| k == f))
            .map(|(_, v)| v.as_str())
            .collect();
        let value = if fields.is_empty() { "yes".to_string() } else { value.join("/") };
        let raw = key((ty, c, s, &value));
        if self.deviates(cx, raw, FactKind::Operation, obs.time, || {
            vec![
                device_name(client).unwrap_or_default(),
                device_name(server).unwrap_or_default(),
                proto.to_string(),
                dim.to_string(),
                value.clone(),
            ]
        }) {
            let (client, server) = (*client, *server);
            let (kf, df) = (key_fields.to_vec(), detail_fields.to_vec());
            cx.raise(ty, raw, obs.time, &[obs.frame], |cx| {
                let mut d = cx.detection(ty, obs.time, &client, &server, Some(proto));
                for (k, v) in kf {
                    d.key.insert(k.into(), v);
                }
                for (k, v) in df {
                    d.details.insert(k.into(), v);
                }
                d
            });
        }
    }

    fn operations(
        &mut self,
        obs: &Observation,
        m: &AppMessage,
        client: &Address,
        server: &Address,
        cx: &mut Ctx<'_>,
    ) {
        let req = m.role == Role::Request;
        match m.protocol {
            Protocol::Modbus if req => {
                let fc = m.function;
                if fc & 0x80 != 0 {
                    return;
                }
                self.operation_fact(
                    obs,
                    "policy_modbus_function_code",
                    client,
                    server,
                    &[("function_code", fc.to_string())],
                    &[],
                    cx,
                );
                if fc == 90
                    && let Some(code) = m.sub_function
                {
                    self.operation_fact(
                        obs,
                        "policy_modbus_schneider_extension",
                        client,
                        server,
                        &[("umas_code", hex(code))],
                        &[],
                        cx,
                    );
                }
                for r in m.ranges.as_slice() {
                    self.modbus_range(obs, m, r, client, server, cx);
                }
            }
            Protocol::Modbus if m.is_error() => {
                let fc = m.function & 0x7f;
                let code = m.error_code.unwrap_or_default();
                self.operation_fact(
                    obs,
                    "policy_modbus_unauthorized_exception",
                    client,
                    server,
                    &[("function_code", fc.to_string()), ("exception_code", code.to_string())],
                    &[],
                    cx,
                );
            }
            Protocol::Dnp3 if req => {
                self.operation_fact(
                    obs,
                    "policy_dnp3_function_code",
                    client,
                    server,
                    &[("function_code", m.function.to_string())],
                    &[],
                    cx,
                );
                let class0 = std::iter::once(m.object)
                    .flatten()
                    .chain(m.more_objects.as_slice().iter().copied())
                    .any(|o| o.class == 60 && o.instance == Some(1));
                if m.function == 1 && class0 {
                    self.operation_fact(
                        obs,
                        "policy_dnp3_illegal_integrity_scan",
                        client,
                        server,
                        &[],
                        &[],
                        cx,
                    );
                }
            }
            Protocol::Dnp3 => {
                if let Some(iin) = m.iin {
                    for (bit, name) in IIN_NAMES {
                        if iin & bit != 0 {
                            self.operation_fact(
                                obs,
                                "policy_dnp3_internal_indication",
                                client,
                                server,
                                &[("iin", (*name).to_string())],
                                &[],
                                cx,
                            );
                        }
                    }
                }
            }
            Protocol::Iec104 if m.function < 0x10000 => {
                let type_name = m.function_name.unwrap_or("");
                self.operation_fact(
                    obs,
                    "policy_iec104_asdu_type",
                    client,
                    server,
                    &[("type_id", m.function.to_string())],
                    &[("type_name", type_name.to_string())],
                    cx,
                );
            }
            Protocol::Cip if req => {
                let class = match m.object {
                    Some(o) => hex(o.class),
                    None if m.symbol.is_some() => "symbolic".to_string(),
                    None => "none".to_string(),
                };
                let service = hex(m.function);
                let service_name = m.function_name.unwrap_or("").to_string();
                self.operation_fact(
                    obs,
                    "policy_cip_class",
                    client,
                    server,
                    &[("class", class.clone())],
                    &[],
                    cx,
                );
                self.operation_fact(
                    obs,
                    "policy_cip_class_service",
                    client,
                    server,
                    &[("service", service), ("class", class)],
                    &[("service_name", service_name)],
                    cx,
                );
                let forward_open =
                    matches!(m.function, 0x54 | 0x5b) && m.object.is_some_and(|o| o.class == 0x06);
                if forward_open {
                    let name = m.function_name.unwrap_or("Forward Open").to_string();
                    self.operation_fact(
                        obs,
                        "policy_enip_io_connection",
                        client,
                        server,
                        &[("connection", name)],
                        &[],
                        cx,
                    );
                }
            }
            Protocol::Enip if req => {
                let name = m.function_name.unwrap_or("").to_string();
                self.operation_fact(
                    obs,
                    "policy_enip_command",
                    client,
                    server,
                    &[("command", hex(m.function))],
                    &[("command_name", name)],
                    cx,
                );
            }
            Protocol::S7comm if req => self.s7(obs, m, client, server, cx),
            Protocol::Bacnet if req || m.role == Role::Unsolicited => {
                let service =
                    m.function_name.map_or_else(|| m.function.to_string(), str::to_string);
                let object = match m.object {
                    Some(o) => bacnet_object_type(o.class),
                    // A malformed message that lost its object identifier tells
                    // nothing about object access (the protocol alert covers it).
                    None if !m.anomalies.is_empty() => return,
                    None => "none".to_string(),
                };
                self.operation_fact(
                    obs,
                    "policy_bacnet_object_access",
                    client,
                    server,
                    &[("service", service), ("object", object)],
                    &[],
                    cx,
                );
            }
            _ => {}
        }
    }

    fn s7(
        &mut self,
        obs: &Observation,
        m: &AppMessage,
        client: &Address,
        server: &Address,
        cx: &mut Ctx<'_>,
    ) {
        if m.function >= 0x100 {
            // Userdata: 0x1000 | group << 8 | subfunction.
            let group = (m.function >> 8) & 0x0f;
            let sub = m.sub_function.unwrap_or(m.function & 0xff);
            let group_name = m.function_name.unwrap_or("").to_string();
            self.operation_fact(
                obs,
                "policy_s7_user_defined_function",
                client,
                server,
                &[("function_group", group.to_string()), ("subfunction", sub.to_string())],
                &[("group_name", group_name)],
                cx,
            );
            return;
        }
        match m.operation {
            Operation::Read | Operation::Write => {
                let op = if m.operation == Operation::Read { "read" } else { "write" };
                let dbs = std::iter::once(m.object)
                    .flatten()
                    .chain(m.more_objects.as_slice().iter().copied())
                    .filter(|o| o.class == 0x84)
                    .filter_map(|o| o.instance);
                let mut seen = Vec::new();
                for db in dbs {
                    if seen.contains(&db) {
                        continue;
                    }
                    seen.push(db);
                    self.operation_fact(
                        obs,
                        "policy_s7_data_block",
                        client,
                        server,
                        &[("operation", op.to_string()), ("data_block", db.to_string())],
                        &[],
                        cx,
                    );
                }
            }
            _ => {
                let name = m.function_name.unwrap_or("").to_string();
                self.operation_fact(
                    obs,
                    "policy_s7_control_function",
                    client,
                    server,
                    &[("function", hex(m.function))],
                    &[("function_name", name)],
                    cx,
                );
            }
        }
    }

    fn modbus_range(
        &mut self,
        obs: &Observation,
        m: &AppMessage,
        r: &crate::observation::AddressRange,
        client: &Address,
        server: &Address,
        cx: &mut Ctx<'_>,
    ) {
        let (Some(c), Some(s)) = (device_id(client), device_id(server)) else { return };
        let unit = m.unit.unwrap_or(0);
        let raw = key(("range", c, s, unit, r.space, r.start, r.count)) ^ key(FactKind::Range);
        if let Some(known) = self.decided.get(&raw) {
            if *known {
                return;
            }
        } else {
            let (cn, sn) =
                (device_name(client).unwrap_or_default(), device_name(server).unwrap_or_default());
            let table = format!("{cn}|{sn}|{unit}|{}", r.space);
            let covered = cx.baseline.range_covered(&table, r.start, r.count);
            let known = match (covered, cx.mode()) {
                (Some(true), _) => true,
                (_, Mode::Learning) => {
                    let parts = [
                        cn.as_str(),
                        sn.as_str(),
                        &unit.to_string(),
                        r.space,
                        &r.start.to_string(),
                        &r.count.to_string(),
                    ];
                    cx.baseline.learn(FactKind::Range, &parts, BTreeMap::new(), obs.time);
                    true
                }
                // Nothing learned for this table: the function-code check covers it.
                (None, Mode::Operational) => true,
                (Some(false), Mode::Operational) => false,
            };
            if self.decided.len() >= self.limit {
                self.evicted += self.decided.len() as u64;
                self.decided.clear();
            }
            self.decided.insert(raw, known);
            if known {
                return;
            }
        }
        let (client, server) = (*client, *server);
        let (space, start, count, fc) = (r.space, r.start, r.count, m.function);
        let end = start.saturating_add(count.max(1)).saturating_sub(1);
        cx.raise("policy_modbus_address_range", raw, obs.time, &[obs.frame], |cx| {
            let mut d = cx.detection(
                "policy_modbus_address_range",
                obs.time,
                &client,
                &server,
                Some("Modbus"),
            );
            d.key.insert("registers".into(), format!("{space} {start}-{end}"));
            d.details.insert("function_code".into(), fc.to_string());
            d.details.insert("unit".into(), unit.to_string());
            d.details.insert("space".into(), space.to_string());
            d.details.insert("start".into(), start.to_string());
            d.details.insert("quantity".into(), count.to_string());
            d
        });
    }

    fn identity(&mut self, obs: &Observation, i: &Identity, cx: &mut Ctx<'_>) {
        let Some(version) = i.firmware.as_deref().filter(|v| !v.trim().is_empty()) else { return };
        let Some(dev) = device_id(&obs.src) else { return };
        if self.last_firmware.get(&dev).is_some_and(|v| v == version) {
            return;
        }
        let Some(name) = device_name(&obs.src) else { return };
        let known = cx.baseline.firmware(&name).cloned().unwrap_or_default();
        let previous = self.last_firmware.get(&dev).cloned();
        if self.last_firmware.len() >= self.limit {
            self.evicted += self.last_firmware.len() as u64;
            self.last_firmware.clear();
        }
        self.last_firmware.insert(dev, version.to_string());
        if known.contains(version) {
            return;
        }
        if known.is_empty() || cx.mode() == Mode::Learning {
            Self::record(cx, FactKind::Firmware, &[&name, version], obs.time);
            return;
        }
        let old = previous
            .filter(|p| known.contains(p))
            .or_else(|| known.iter().next_back().cloned())
            .unwrap_or_default();
        let ty = if i.protocol == Protocol::Modbus {
            "policy_modbus_firmware_version_changed"
        } else {
            "policy_firmware_version_changed"
        };
        let raw = key(("firmware", dev, version));
        let src = obs.src;
        let label = i.protocol.name();
        let version = version.to_string();
        cx.raise(ty, raw, obs.time, &[obs.frame], |cx| {
            let mut d = cx.detection(ty, obs.time, &src, &Address::default(), Some(label));
            d.key.insert("firmware_new".into(), version);
            d.details.insert("firmware_old".into(), old);
            d
        });
    }

    fn dns(&mut self, obs: &Observation, q: &Dns, cx: &mut Ctx<'_>) {
        let (Some(c), Some(_)) = (obs.src.ip, obs.dst.ip) else { return };
        if q.name.is_empty() || !cx.settings.is_ot(&c) || is_public(&c) {
            return;
        }
        self.pair_protocol(obs, &obs.src, &obs.dst, "DNS", cx);
        let raw = key(("domain", c, &q.name));
        if self.deviates(cx, raw, FactKind::Domain, obs.time, || {
            vec![c.to_string(), q.name.replace('|', "/")]
        }) {
            let (src, dst) = (obs.src, obs.dst);
            let name = q.name.clone();
            cx.raise("policy_unauthorized_name_query", raw, obs.time, &[obs.frame], |cx| {
                let mut d = cx.detection(
                    "policy_unauthorized_name_query",
                    obs.time,
                    &src,
                    &dst,
                    Some("DNS"),
                );
                d.key.insert("domain".into(), name);
                d
            });
        }
    }

    fn http(&mut self, obs: &Observation, h: &HttpRequest, cx: &mut Ctx<'_>) {
        let (client, server) = (obs.src, obs.dst);
        let pair_known = self.pair_protocol_http(obs, &client, &server, h, cx);
        let _ = pair_known;
        if let (Some(ua), Some(c)) = (h.user_agent.as_deref(), client.ip) {
            let ua = ua.replace('|', "/");
            let raw = key(("user_agent", c, &ua));
            if self.deviates(cx, raw, FactKind::UserAgent, obs.time, || {
                vec![c.to_string(), ua.clone()]
            }) {
                cx.raise(
                    "policy_unauthorized_http_user_agent",
                    raw,
                    obs.time,
                    &[obs.frame],
                    |cx| {
                        let mut d = cx.detection(
                            "policy_unauthorized_http_user_agent",
                            obs.time,
                            &client,
                            &server,
                            Some("HTTP"),
                        );
                        d.key.insert("user_agent".into(), ua);
                        d
                    },
                );
            }
        }
    }

    /// HTTP between a known pair that never used HTTP: Unauthorized HTTP Activity.
    fn pair_protocol_http(
        &mut self,
        obs: &Observation,
        client: &Address,
        server: &Address,
        h: &HttpRequest,
        cx: &mut Ctx<'_>,
    ) -> bool {
        let (Some(c), Some(s)) = (device_id(client), device_id(server)) else { return false };
        let known = self.pair_protocol(obs, client, server, "HTTP", cx);
        if !known {
            return false;
        }
        let raw = key(("protocol", c, s, "HTTP")) ^ key(FactKind::Protocol);
        if self.decided.get(&raw) == Some(&false) {
            let (client, server) = (*client, *server);
            let method = h.method.as_str().to_string();
            let host = h.host.clone().unwrap_or_default();
            cx.raise("policy_unauthorized_http_activity", raw, obs.time, &[obs.frame], |cx| {
                let mut d = cx.detection(
                    "policy_unauthorized_http_activity",
                    obs.time,
                    &client,
                    &server,
                    Some("HTTP"),
                );
                d.key.insert("method".into(), method);
                d.key.insert("host".into(), host);
                d
            });
        }
        true
    }

    fn login(&mut self, obs: &Observation, l: &Login, cx: &mut Ctx<'_>) {
        if !matches!(l.protocol, Protocol::Ftp | Protocol::Telnet) {
            return;
        }
        let (client, server) = sides(obs);
        let (client, server) = (*client, *server);
        self.pair_protocol(obs, &client, &server, l.protocol.name(), cx);
        // A refused FTP sign-in is a policy finding (held back while learning, like all policy alerts).
        if l.protocol == Protocol::Ftp
            && l.outcome == crate::observation::LoginOutcome::Failure
            && cx.mode() == Mode::Operational
        {
            let user = l.user.clone().unwrap_or_default();
            let k = key(("ftp_login_failed", client.ip, server.ip, &user));
            cx.raise("policy_ftp_login_failed", k, obs.time, &[obs.frame], |cx| {
                let mut d = cx.detection(
                    "policy_ftp_login_failed",
                    obs.time,
                    &client,
                    &server,
                    Some("FTP"),
                );
                d.key.insert("user".into(), user);
                d
            });
        }
    }
}

/// DNP3 internal indications by bit (IIN1 in the high byte).
pub(crate) const IIN_NAMES: &[(u16, &str)] = &[
    (0x0100, "IIN1.0 all stations"),
    (0x0200, "IIN1.1 class 1 events"),
    (0x0400, "IIN1.2 class 2 events"),
    (0x0800, "IIN1.3 class 3 events"),
    (0x1000, "IIN1.4 need time"),
    (0x2000, "IIN1.5 local control"),
    (0x4000, "IIN1.6 device trouble"),
    (0x8000, "IIN1.7 device restart"),
    (0x0001, "IIN2.0 function code not supported"),
    (0x0002, "IIN2.1 object unknown"),
    (0x0004, "IIN2.2 parameter error"),
    (0x0008, "IIN2.3 event buffer overflow"),
    (0x0010, "IIN2.4 already executing"),
    (0x0020, "IIN2.5 configuration corrupt"),
    (0x0040, "IIN2.6 reserved"),
    (0x0080, "IIN2.7 reserved"),
];

/// A BACnet object type by number (ASHRAE 135 clause 21), or the number.
pub(crate) fn bacnet_object_type(t: u32) -> String {
    const NAMES: &[&str] = &[
        "analog-input",
        "analog-output",
        "analog-value",
        "binary-input",
        "binary-output",
        "binary-value",
        "calendar",
        "command",
        "device",
        "event-enrollment",
        "file",
        "group",
        "loop",
        "multi-state-input",
        "multi-state-output",
        "notification-class",
        "program",
        "schedule",
        "averaging",
        "multi-state-value",
        "trend-log",
    ];
    NAMES.get(t as usize).map_or_else(|| format!("object-type-{t}"), |n| (*n).to_string())
}
