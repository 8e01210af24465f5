//! The Anomaly engine: rates and spreads over packet-time windows, with the
//! reference's thresholds as defaults (each overridable, see `settings.rs`).
//!
//! | alert | counted | default |
//! |---|---|---|
//! | Port Scan Detected | distinct TCP/UDP ports one source tries on one host | 25 / 2 min, or 10 / 1 s |
//! | Address Scan Detected | distinct hosts of one /16 one source tries, not counting hosts that accepted the connection within [`ACCEPT_GRACE`]; ping sweeps count every host | 50 / 2 min |
//! | Long Duration Address Scan Detected | the same over a longer window | 50 / 10 min |
//! | ARP Address Scan Detected | distinct addresses one sender asks for in ARP requests | 40 / 6 min |
//! | ARP Spoofing | ARP replies or announcements claiming an address bound to another MAC | 60 / 1 min |
//! | PLC Scan Detected | distinct controllers one source sends identification requests to, or tries on an OT port without being accepted | 10 / 2 min |
//! | Excessive Number of Sessions | new TCP connections from one source to one service (host and port) | 50 / 1 min |
//! | Excessive Login Attempts | sign-in attempts from one client to one server | 20 / 1 min |
//! | Password Guessing Attempt Detected | failed sign-ins from one client to one server | 100 / 1 min |
//! | ICMP Flooding | ICMP packets from one source to one host | 60 / 1 min |
//! | Abnormal Exception Pattern in Slave | error responses of one server to one client | 20 / 1 h |
//! | Excessive Restart Rate of an Outstation | restart requests to, or restarts reported by, one outstation | 10 / 1 h |
//! | Unexpected message length | an application message or HTTP header longer than | 32768 bytes |
//! | Unexpected Traffic for Standard Port | a flow on an OT protocol's port whose first message cannot be framed as that protocol | |
//! | Inactive Communication Channel | a polled channel (≥ [`ACTIVE_MESSAGES`] requests) silent for | 1 min |
//!
//! Sources configured as scanners (`detect.scanners`) raise no scan alerts.
//! Every table is bounded by the `tracked` limit, with least-recently-used
//! eviction counted in the detector's statistics.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use otwatch_model::time::format_duration;
use otwatch_model::{EventSeverity, NewEvent, Timestamp};

use crate::engine::{Ctx, DeviceId, device_id, key, protocol_label, sides};
use crate::net::{class_b, is_multicast_or_broadcast};
use crate::observation::{
    Address, AppMessage, Arp, Kind, LoginOutcome, Observation, Operation, Protocol, Role,
    TcpSignal, Transport,
};
use crate::window::{Bounded, DistinctWindow, RateWindow};

/// A connection accepted this soon after the attempt does not count as scanning.
pub const ACCEPT_GRACE: i64 = 1_000_000;
/// Requests a channel needs before its silence is reported.
pub const ACTIVE_MESSAGES: u64 = 10;
/// Ports of the OT protocols, for PLC scans and standard-port checks.
pub const OT_PORTS: &[(u16, &str)] = &[
    (502, "Modbus"),
    (102, "S7comm"),
    (44818, "EtherNet/IP"),
    (20000, "DNP3"),
    (2404, "IEC-104"),
    (47808, "BACnet"),
];

/// Name of the protocol a well-known port is reserved for.
pub(crate) fn port_protocol(port: u16) -> Option<&'static str> {
    OT_PORTS.iter().find(|(p, _)| *p == port).map(|(_, n)| *n).or(match port {
        21 => Some("FTP"),
        23 => Some("Telnet"),
        53 => Some("DNS"),
        80 | 8080 => Some("HTTP"),
        _ => None,
    })
}

#[derive(Debug, Default)]
struct Sweep {
    /// Destination → (first attempt, accepted, refused).
    hosts: BTreeMap<IpAddr, (Timestamp, bool, bool)>,
}

impl Sweep {
    fn attempt(&mut self, dst: IpAddr, t: Timestamp, window: i64, limit: usize) {
        let from = t.0.saturating_sub(window);
        if self.hosts.len() >= limit {
            self.hosts.retain(|_, (first, ..)| first.0 >= from);
            if self.hosts.len() >= limit {
                if let Some(oldest) =
                    self.hosts.iter().min_by_key(|(ip, (f, ..))| (*f, **ip)).map(|(ip, _)| *ip)
                {
                    self.hosts.remove(&oldest);
                }
            }
        }
        self.hosts.entry(dst).or_insert((t, false, false));
    }

    /// Hosts that count as probed at `t`: not accepted, and refused or
    /// unanswered for longer than the grace (or all, for sweeps that do not wait).
    fn probed(&self, t: Timestamp, window: i64, all: bool) -> usize {
        let from = t.0.saturating_sub(window);
        self.hosts
            .values()
            .filter(|(first, accepted, refused)| {
                first.0 >= from
                    && (all
                        || (!accepted && (*refused || t.0.saturating_sub(first.0) >= ACCEPT_GRACE)))
            })
            .count()
    }
}

#[derive(Debug, Default)]
struct Channel {
    requests: u64,
    first: Timestamp,
    last: Timestamp,
    silent_reported: bool,
    client: Address,
    server: Address,
    protocol: &'static str,
    frame: u64,
}

#[derive(Debug)]
pub(crate) struct Anomaly {
    ports: Bounded<(IpAddr, IpAddr), DistinctWindow<(u8, u16)>>,
    sweeps: Bounded<(IpAddr, String, bool), Sweep>,
    pings: Bounded<(IpAddr, String, bool), DistinctWindow<IpAddr>>,
    arp_targets: Bounded<IpAddr, DistinctWindow<IpAddr>>,
    arp_bindings: Bounded<IpAddr, [u8; 6]>,
    arp_conflicts: Bounded<[u8; 6], RateWindow>,
    plc: Bounded<IpAddr, Sweep>,
    sessions: Bounded<(IpAddr, IpAddr, u16), RateWindow>,
    logins: Bounded<(DeviceId, DeviceId, Protocol), RateWindow>,
    failures: Bounded<(DeviceId, DeviceId, Protocol), RateWindow>,
    icmp: Bounded<(IpAddr, IpAddr), RateWindow>,
    exceptions: Bounded<(DeviceId, DeviceId), RateWindow>,
    restarts: Bounded<DeviceId, RateWindow>,
    restart_flag: Bounded<DeviceId, bool>,
    decoded: Bounded<u64, bool>,
    channels: Bounded<(DeviceId, DeviceId, Protocol), Channel>,
    scanners_reported: BTreeSet<IpAddr>,
    last_sweep: Timestamp,
}

impl Anomaly {
    pub fn new(limit: usize) -> Anomaly {
        Anomaly {
            ports: Bounded::new(limit),
            sweeps: Bounded::new(limit),
            pings: Bounded::new(limit),
            arp_targets: Bounded::new(limit),
            arp_bindings: Bounded::new(limit),
            arp_conflicts: Bounded::new(limit),
            plc: Bounded::new(limit),
            sessions: Bounded::new(limit),
            logins: Bounded::new(limit),
            failures: Bounded::new(limit),
            icmp: Bounded::new(limit),
            exceptions: Bounded::new(limit),
            restarts: Bounded::new(limit),
            restart_flag: Bounded::new(limit),
            decoded: Bounded::new(limit),
            channels: Bounded::new(limit),
            scanners_reported: BTreeSet::new(),
            last_sweep: Timestamp(i64::MIN),
        }
    }

    pub fn evictions(&self, out: &mut BTreeMap<&'static str, u64>) {
        out.insert("anomaly.port_scans", self.ports.evicted());
        out.insert("anomaly.address_scans", self.sweeps.evicted() + self.pings.evicted());
        out.insert("anomaly.arp", self.arp_targets.evicted() + self.arp_bindings.evicted());
        out.insert("anomaly.plc_scans", self.plc.evicted());
        out.insert("anomaly.sessions", self.sessions.evicted());
        out.insert("anomaly.logins", self.logins.evicted() + self.failures.evicted());
        out.insert("anomaly.icmp", self.icmp.evicted());
        out.insert("anomaly.exceptions", self.exceptions.evicted());
        out.insert("anomaly.restarts", self.restarts.evicted());
        out.insert("anomaly.flows", self.decoded.evicted());
        out.insert("anomaly.channels", self.channels.evicted());
    }

    fn is_scanner(cx: &Ctx<'_>, ip: &IpAddr) -> bool {
        cx.settings.scanners.iter().any(|c| c.contains(ip))
    }

    fn scan_event(&mut self, cx: &mut Ctx<'_>, src: &Address, t: Timestamp, what: &str) {
        let Some(ip) = src.ip else { return };
        if !self.scanners_reported.insert(ip) {
            return;
        }
        let mut e = NewEvent::new(t, "SCAN", EventSeverity::Notice, "Scan Device Detected");
        e.description = format!("{ip} {what}.");
        e.src_ip = Some(ip.to_string());
        e.key = Some(format!("scan:{ip}:{}", t.0));
        cx.event(e);
    }

    pub fn observe(&mut self, obs: &Observation, cx: &mut Ctx<'_>) {
        match &obs.kind {
            Kind::Packet(p) => {
                if p.new_flow && obs.transport == Transport::Udp {
                    self.probe(obs, cx, false);
                }
                if p.new_flow
                    && obs.transport == Transport::Tcp
                    && p.tcp_flags.is_some_and(|f| f & 0x12 == 0x02)
                {
                    self.session(obs, cx);
                }
            }
            Kind::Tcp(TcpSignal::Attempt) => self.probe(obs, cx, false),
            Kind::Tcp(TcpSignal::Accept) => self.answered(obs, true),
            Kind::Tcp(TcpSignal::Reset) => self.answered(obs, false),
            Kind::Icmp(i) => {
                self.icmp(obs, cx);
                if i.is_echo_request() {
                    self.probe(obs, cx, true);
                }
            }
            Kind::Arp(a) => self.arp(obs, a, cx),
            Kind::App(m) => self.app(obs, m, cx),
            Kind::Malformed(m) => {
                if let Some(flow) = obs.flow
                    && m.anomalies.as_slice().iter().any(|n| n.ends_with(".undecodable"))
                {
                    let decoded = *self.decoded.entry(flow, obs.time, || false);
                    if !decoded {
                        self.decoded.entry(flow, obs.time, || true);
                        if let Some(f) = self.decoded.get_mut(&flow) {
                            *f = true;
                        }
                        self.standard_port(obs, m.protocol, cx);
                    }
                }
            }
            Kind::Login(l) => self.login(obs, l.outcome, l.protocol, cx),
            Kind::Http(h) => {
                let max =
                    cx.settings.thresholds.count("anomaly_unexpected_message_length", "max_length");
                if u64::from(h.header_len) > max {
                    self.long_message(obs, u64::from(h.header_len), max, "HTTP", cx);
                }
            }
            _ => {}
        }
    }

    /// A connection attempt, new UDP flow or ping: port and address scans, PLC scans.
    fn probe(&mut self, obs: &Observation, cx: &mut Ctx<'_>, ping: bool) {
        let (Some(sip), Some(dip)) = (obs.src.ip, obs.dst.ip) else { return };
        if is_multicast_or_broadcast(&dip) || Self::is_scanner(cx, &sip) {
            return;
        }
        let t = obs.time;
        // Port scan: the reference's rule, or a burst of ports within a second.
        if let Some(port) = obs.dst.port {
            let th = &cx.settings.thresholds;
            let count = th.count("anomaly_port_scan", "count");
            let window = th.window("anomaly_port_scan", "window");
            let burst = th.count("anomaly_port_scan", "burst_count");
            let burst_window = th.window("anomaly_port_scan", "burst_window");
            let proto = if obs.transport == Transport::Tcp { 6 } else { 17 };
            let w = self.ports.entry((sip, dip), t, DistinctWindow::new);
            let n = w.push((proto, port), t, window, count as usize + 1);
            let in_burst = w.count_since(t.0.saturating_sub(burst_window));
            let (fire, shown) = if n as u64 >= count {
                (true, window)
            } else if in_burst as u64 >= burst {
                (true, burst_window)
            } else {
                (false, window)
            };
            if fire {
                let (src, dst) = (obs.src, obs.dst);
                let k = key(("port_scan", sip, dip));
                let label = if proto == 6 { "TCP" } else { "UDP" };
                cx.raise("anomaly_port_scan", k, t, &[obs.frame], |cx| {
                    let mut d = cx.detection("anomaly_port_scan", t, &src, &dst, Some(label));
                    d.details.insert("ports".into(), n.to_string());
                    d.details.insert("window".into(), format_duration(shown));
                    d
                });
                self.scan_event(cx, &obs.src, t, "probed many ports of one host (port scan)");
            }
        }
        // Address scans (short and long windows).
        let subnet = class_b(&dip);
        for (ty, long) in
            [("anomaly_address_scan", false), ("anomaly_long_duration_address_scan", true)]
        {
            if !cx.on(ty) {
                continue;
            }
            let count = cx.settings.thresholds.count(ty, "count");
            let window = cx.settings.thresholds.window(ty, "window");
            let n = if ping {
                self.pings.entry((sip, subnet.clone(), long), t, DistinctWindow::new).push(
                    dip,
                    t,
                    window,
                    count as usize + 1,
                )
            } else {
                let s = self.sweeps.entry((sip, subnet.clone(), long), t, Sweep::default);
                s.attempt(dip, t, window, count as usize * 2 + 16);
                s.probed(t, window, false)
            };
            if n as u64 >= count {
                let src = obs.src;
                let subnet = subnet.clone();
                let k = key((ty, sip, &subnet));
                cx.raise(ty, k, t, &[obs.frame], |cx| {
                    let mut d =
                        cx.detection(ty, t, &src, &Address::default(), Some(protocol_label(obs)));
                    d.key.insert("subnet".into(), subnet);
                    d.details.insert("count".into(), n.to_string());
                    d.details.insert("window".into(), format_duration(window));
                    d
                });
                self.scan_event(cx, &obs.src, t, "contacted many addresses (address scan)");
            }
        }
        // PLC scan: attempts to OT ports that were not accepted.
        if !ping
            && obs.transport == Transport::Tcp
            && obs.dst.port.is_some_and(|p| OT_PORTS.iter().any(|(q, _)| *q == p))
        {
            let count = cx.settings.thresholds.count("anomaly_plc_scan", "count");
            let window = cx.settings.thresholds.window("anomaly_plc_scan", "window");
            let s = self.plc.entry(sip, t, Sweep::default);
            s.attempt(dip, t, window, count as usize * 2 + 16);
            let n = s.probed(t, window, false);
            self.plc_scan(obs, n, count, window, cx);
        }
    }

    fn plc_scan(&mut self, obs: &Observation, n: usize, count: u64, window: i64, cx: &mut Ctx<'_>) {
        if (n as u64) < count {
            return;
        }
        let src = obs.src;
        let Some(sip) = src.ip else { return };
        let label = obs
            .protocol()
            .map(|p| p.name())
            .or_else(|| obs.dst.port.and_then(port_protocol))
            .unwrap_or("TCP");
        let t = obs.time;
        let k = key(("plc_scan", sip));
        cx.raise("anomaly_plc_scan", k, t, &[obs.frame], |cx| {
            let mut d = cx.detection("anomaly_plc_scan", t, &src, &Address::default(), Some(label));
            d.details.insert("count".into(), n.to_string());
            d.details.insert("window".into(), format_duration(window));
            d
        });
        self.scan_event(cx, &obs.src, t, "probed many controllers (PLC scan)");
    }

    /// A SYN-ACK or RST from a probed host.
    fn answered(&mut self, obs: &Observation, accepted: bool) {
        let (Some(server), Some(client)) = (obs.src.ip, obs.dst.ip) else { return };
        let subnet = class_b(&server);
        for long in [false, true] {
            if let Some(s) = self.sweeps.get_mut(&(client, subnet.clone(), long))
                && let Some(h) = s.hosts.get_mut(&server)
            {
                if accepted {
                    h.1 = true;
                } else {
                    h.2 = true;
                }
            }
        }
        if let Some(s) = self.plc.get_mut(&client)
            && let Some(h) = s.hosts.get_mut(&server)
        {
            if accepted {
                h.1 = true;
            } else {
                h.2 = true;
            }
        }
    }

    fn session(&mut self, obs: &Observation, cx: &mut Ctx<'_>) {
        let (Some(sip), Some(dip)) = (obs.src.ip, obs.dst.ip) else { return };
        let count = cx.settings.thresholds.count("anomaly_excessive_sessions", "count");
        let window = cx.settings.thresholds.window("anomaly_excessive_sessions", "window");
        let port = obs.dst.port.unwrap_or(0);
        let n = self
            .sessions
            .entry((sip, dip, port), obs.time, || RateWindow::new(count))
            .push(obs.time, count, window);
        if n >= count {
            let (src, dst) = (obs.src, obs.dst);
            let label = obs.dst.port.and_then(port_protocol).unwrap_or("TCP");
            let t = obs.time;
            let k = key(("sessions", sip, dip, port));
            cx.raise("anomaly_excessive_sessions", k, t, &[obs.frame], |cx| {
                let mut d = cx.detection("anomaly_excessive_sessions", t, &src, &dst, Some(label));
                d.details.insert("count".into(), n.to_string());
                d.details.insert("window".into(), format_duration(window));
                d
            });
        }
    }

    fn icmp(&mut self, obs: &Observation, cx: &mut Ctx<'_>) {
        let (Some(sip), Some(dip)) = (obs.src.ip, obs.dst.ip) else { return };
        let count = cx.settings.thresholds.count("anomaly_icmp_flooding", "count");
        let window = cx.settings.thresholds.window("anomaly_icmp_flooding", "window");
        let n = self
            .icmp
            .entry((sip, dip), obs.time, || RateWindow::new(count))
            .push(obs.time, count, window);
        if n >= count {
            let (src, dst) = (obs.src, obs.dst);
            let t = obs.time;
            let k = key(("icmp", sip, dip));
            cx.raise("anomaly_icmp_flooding", k, t, &[obs.frame], |cx| {
                let mut d = cx.detection("anomaly_icmp_flooding", t, &src, &dst, Some("ICMP"));
                d.details.insert("count".into(), n.to_string());
                d.details.insert("window".into(), format_duration(window));
                d
            });
        }
    }

    fn arp(&mut self, obs: &Observation, a: &Arp, cx: &mut Ctx<'_>) {
        let sender = IpAddr::V4(a.sender_ip);
        let t = obs.time;
        let src = Address { mac: Some(a.sender_mac), ip: Some(sender), port: None };
        if a.is_request() && !a.is_gratuitous() && !a.sender_ip.is_unspecified() {
            if !Self::is_scanner(cx, &sender) {
                let count = cx.settings.thresholds.count("anomaly_arp_address_scan", "count");
                let window = cx.settings.thresholds.window("anomaly_arp_address_scan", "window");
                let n = self.arp_targets.entry(sender, t, DistinctWindow::new).push(
                    IpAddr::V4(a.target_ip),
                    t,
                    window,
                    count as usize + 1,
                );
                if n as u64 >= count {
                    let k = key(("arp_scan", sender));
                    cx.raise("anomaly_arp_address_scan", k, t, &[obs.frame], |cx| {
                        let mut d = cx.detection(
                            "anomaly_arp_address_scan",
                            t,
                            &src,
                            &Address::default(),
                            Some("ARP"),
                        );
                        d.details.insert("count".into(), n.to_string());
                        d.details.insert("window".into(), format_duration(window));
                        d
                    });
                    self.scan_event(cx, &src, t, "asked ARP for many addresses (ARP scan)");
                }
            }
        }
        if a.sender_ip.is_unspecified() || a.sender_mac.is_group() {
            return;
        }
        // Bindings: an address claimed by a MAC other than the one it was bound to.
        let bound = *self.arp_bindings.entry(sender, t, || a.sender_mac.0);
        if bound == a.sender_mac.0 {
            return;
        }
        if a.is_request() && !a.is_gratuitous() {
            // A plain request does not claim the address strongly; rebind quietly.
            if let Some(b) = self.arp_bindings.get_mut(&sender) {
                *b = a.sender_mac.0;
            }
            return;
        }
        let count = cx.settings.thresholds.count("anomaly_arp_spoofing", "count");
        let window = cx.settings.thresholds.window("anomaly_arp_spoofing", "window");
        let n = self
            .arp_conflicts
            .entry(a.sender_mac.0, t, || RateWindow::new(count))
            .push(t, count, window);
        if n >= count {
            let spoofer = Address { mac: Some(a.sender_mac), ip: None, port: None };
            let k = key(("arp_spoof", a.sender_mac.0));
            cx.raise("anomaly_arp_spoofing", k, t, &[obs.frame], |cx| {
                let mut d = cx.detection(
                    "anomaly_arp_spoofing",
                    t,
                    &spoofer,
                    &Address::default(),
                    Some("ARP"),
                );
                d.details.insert("count".into(), n.to_string());
                d.details.insert("window".into(), format_duration(window));
                d.details.insert("ip".into(), sender.to_string());
                d
            });
        }
    }

    fn login(
        &mut self,
        obs: &Observation,
        outcome: LoginOutcome,
        protocol: Protocol,
        cx: &mut Ctx<'_>,
    ) {
        let (client, server) = sides(obs);
        let (client, server) = (*client, *server);
        let (Some(c), Some(s)) = (device_id(&client), device_id(&server)) else { return };
        let t = obs.time;
        let label = protocol.name();
        let (ty, table) = match outcome {
            LoginOutcome::Attempt => ("anomaly_excessive_login_attempts", &mut self.logins),
            LoginOutcome::Failure => ("anomaly_password_guessing", &mut self.failures),
            _ => return,
        };
        let count = cx.settings.thresholds.count(ty, "count");
        let window = cx.settings.thresholds.window(ty, "window");
        let n = table.entry((c, s, protocol), t, || RateWindow::new(count)).push(t, count, window);
        if n >= count {
            let k = key((ty, c, s, protocol));
            cx.raise(ty, k, t, &[obs.frame], |cx| {
                let mut d = cx.detection(ty, t, &client, &server, Some(label));
                d.details.insert("count".into(), n.to_string());
                d.details.insert("window".into(), format_duration(window));
                d
            });
        }
    }

    fn long_message(
        &mut self,
        obs: &Observation,
        length: u64,
        max: u64,
        label: &'static str,
        cx: &mut Ctx<'_>,
    ) {
        let (src, dst) = (obs.src, obs.dst);
        let t = obs.time;
        let k = key(("long", src.ip, dst.ip, src.mac, label));
        cx.raise("anomaly_unexpected_message_length", k, t, &[obs.frame], |cx| {
            let mut d =
                cx.detection("anomaly_unexpected_message_length", t, &src, &dst, Some(label));
            d.details.insert("length".into(), length.to_string());
            d.details.insert("max_length".into(), max.to_string());
            d
        });
    }

    fn standard_port(&mut self, obs: &Observation, protocol: Protocol, cx: &mut Ctx<'_>) {
        let (client, server) = sides(obs);
        let (client, server) = (*client, *server);
        let Some(port) = server.port else { return };
        let expected = protocol.name();
        let t = obs.time;
        let k = key(("standard_port", client.ip, server.ip, port));
        cx.raise("anomaly_unexpected_traffic_standard_port", k, t, &[obs.frame], |cx| {
            let mut d = cx.detection(
                "anomaly_unexpected_traffic_standard_port",
                t,
                &client,
                &server,
                Some(transport_name(obs)),
            );
            d.key.insert("port".into(), port.to_string());
            d.details.insert("expected_protocol".into(), expected.into());
            d
        });
    }

    fn app(&mut self, obs: &Observation, m: &AppMessage, cx: &mut Ctx<'_>) {
        if let Some(flow) = obs.flow {
            if let Some(f) = self.decoded.get_mut(&flow) {
                *f = true;
            } else {
                self.decoded.entry(flow, obs.time, || true);
            }
        }
        let t = obs.time;
        let max = cx.settings.thresholds.count("anomaly_unexpected_message_length", "max_length");
        if u64::from(m.length) > max && !m.embedded {
            self.long_message(obs, u64::from(m.length), max, m.protocol.name(), cx);
        }
        let (client, server) = sides(obs);
        let (client, server) = (*client, *server);
        let (Some(c), Some(s)) = (device_id(&client), device_id(&server)) else { return };
        // PLC scan: identification requests to many controllers.
        if m.role == Role::Request
            && m.operation == Operation::Identify
            && m.protocol.is_ot()
            && let (Some(sip), Some(dip)) = (client.ip, server.ip)
            && !is_multicast_or_broadcast(&dip)
            && !Self::is_scanner(cx, &sip)
        {
            let count = cx.settings.thresholds.count("anomaly_plc_scan", "count");
            let window = cx.settings.thresholds.window("anomaly_plc_scan", "window");
            let st = self.plc.entry(sip, t, Sweep::default);
            st.attempt(dip, t, window, count as usize * 2 + 16);
            let n = st.probed(t, window, true);
            self.plc_scan(obs, n, count, window, cx);
        }
        // Error responses.
        if m.role == Role::Response && m.is_error() {
            let count = cx.settings.thresholds.count("anomaly_abnormal_exception_pattern", "count");
            let window =
                cx.settings.thresholds.window("anomaly_abnormal_exception_pattern", "window");
            let n =
                self.exceptions.entry((c, s), t, || RateWindow::new(count)).push(t, count, window);
            if n >= count {
                let label = protocol_label(obs);
                let k = key(("exceptions", c, s));
                cx.raise("anomaly_abnormal_exception_pattern", k, t, &[obs.frame], |cx| {
                    let mut d = cx.detection(
                        "anomaly_abnormal_exception_pattern",
                        t,
                        &client,
                        &server,
                        Some(label),
                    );
                    d.details.insert("count".into(), n.to_string());
                    d.details.insert("window".into(), format_duration(window));
                    d
                });
            }
        }
        // Restarts: requests, and DNP3 outstations reporting IIN1.7 (counted on each new report).
        let restart = match m.role {
            Role::Request => matches!(m.operation, Operation::ColdRestart | Operation::WarmRestart),
            _ if m.protocol == Protocol::Dnp3 => {
                let flag = m.iin.is_some_and(|i| i & 0x8000 != 0);
                let was = self.restart_flag.entry(s, t, || false);
                let new = flag && !*was;
                *was = flag;
                new
            }
            _ => false,
        };
        if restart {
            let count = cx.settings.thresholds.count("anomaly_excessive_restart_rate", "count");
            let window = cx.settings.thresholds.window("anomaly_excessive_restart_rate", "window");
            let n = self.restarts.entry(s, t, || RateWindow::new(count)).push(t, count, window);
            if n >= count {
                let label = protocol_label(obs);
                let k = key(("restarts", s));
                cx.raise("anomaly_excessive_restart_rate", k, t, &[obs.frame], |cx| {
                    let mut d = cx.detection(
                        "anomaly_excessive_restart_rate",
                        t,
                        &client,
                        &server,
                        Some(label),
                    );
                    d.details.insert("count".into(), n.to_string());
                    d.details.insert("window".into(), format_duration(window));
                    d
                });
            }
        }
        // Channels for inactivity.
        if m.role == Role::Request
            && m.protocol.is_ot()
            && cx.on("anomaly_inactive_communication_channel")
        {
            let label = protocol_label(obs);
            let ch = self.channels.entry((c, s, m.protocol), t, Channel::default);
            if ch.requests == 0 {
                ch.first = t;
                ch.client = client;
                ch.server = server;
                ch.protocol = label;
            }
            ch.requests = ch.requests.saturating_add(1);
            ch.last = t;
            ch.frame = obs.frame;
            ch.silent_reported = false;
        }
    }

    pub fn tick(&mut self, now: Timestamp, cx: &mut Ctx<'_>) {
        if !cx.on("anomaly_inactive_communication_channel")
            || now.0.saturating_sub(self.last_sweep.0) < 1_000_000
        {
            return;
        }
        self.last_sweep = now;
        let quiet =
            cx.settings.thresholds.window("anomaly_inactive_communication_channel", "quiet");
        let mut due = Vec::new();
        for (k, ch) in self.channels.iter_mut() {
            if ch.silent_reported || ch.requests < ACTIVE_MESSAGES {
                continue;
            }
            let span = ch.last.0.saturating_sub(ch.first.0);
            let mean = span / (ch.requests as i64 - 1).max(1);
            let silent = now.0.saturating_sub(ch.last.0);
            if mean.saturating_mul(4) <= quiet && silent >= quiet {
                ch.silent_reported = true;
                due.push((*k, ch.client, ch.server, ch.protocol, ch.frame, silent));
            }
        }
        for ((c, s, p), client, server, label, frame, silent) in due {
            let k = key(("inactive", c, s, p));
            cx.raise("anomaly_inactive_communication_channel", k, now, &[frame], |cx| {
                let mut d = cx.detection(
                    "anomaly_inactive_communication_channel",
                    now,
                    &client,
                    &server,
                    Some(label),
                );
                d.details.insert("silent_for".into(), format_duration(silent - silent % 1_000_000));
                d
            });
        }
    }
}

fn transport_name(obs: &Observation) -> &'static str {
    crate::engine::transport_label(obs)
}
