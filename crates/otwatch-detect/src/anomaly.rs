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
//! | Unexpected Traffic for Standard Port | a flow to an OT protocol's port whose first message cannot be framed as that protocol, or that carries [`STANDARD_PORT_PACKETS`] data packets (or [`STANDARD_PORT_BYTES`] bytes) without one message decoded | |
//! | Inactive Communication Channel | a polled channel (≥ [`ACTIVE_MESSAGES`] requests) silent for | 1 min |
//! | Abnormal Periodic Behavior In Communication Channel | requests per [`RATE_BUCKET`] of a channel that polled regularly (every learned bucket within ±50 % of the mean, at least [`PERIODIC_MIN_RATE`] requests) in its first [`LEARN_BUCKETS`] buckets | ×2.5 or ÷2.5 for two buckets in a row |
//! | Abnormal Traffic Bandwidth (Between Devices) | bytes per [`BANDWIDTH_BUCKET`] of a source (pair), against its first [`LEARN_BUCKETS`] buckets | ×4 above the highest (or ÷4 below the lowest) and [`BANDWIDTH_FLOOR`] bytes |
//!
//! The periodic and bandwidth models are learned in the run itself (the
//! first buckets of each channel or source); they are not stored in the
//! baseline, so a restart learns them again.
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
/// Length of a request-rate bucket of a channel.
pub const RATE_BUCKET: i64 = 30_000_000;
/// Length of a bandwidth bucket.
pub const BANDWIDTH_BUCKET: i64 = 60_000_000;
/// Buckets a channel or source is observed before it is judged.
pub const LEARN_BUCKETS: u32 = 4;
/// Requests per rate bucket a channel needs to count as periodic.
pub const PERIODIC_MIN_RATE: u64 = 4;
/// Bytes per bandwidth bucket below which no bandwidth alert is raised.
pub const BANDWIDTH_FLOOR: u64 = 100_000;

/// Data packets to a standard OT port without any decoded message that make it unexpected traffic.
pub const STANDARD_PORT_PACKETS: u32 = 3;
/// Bytes to a standard OT port without any decoded message that make it unexpected traffic.
pub const STANDARD_PORT_BYTES: u64 = 2048;

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
    /// The prober, for alerts raised later (ticks).
    src: Address,
    label: &'static str,
    frame: u64,
}

impl Sweep {
    fn attempt(&mut self, dst: IpAddr, t: Timestamp, window: i64, limit: usize) {
        let from = t.0.saturating_sub(window);
        if self.hosts.len() >= limit {
            self.hosts.retain(|_, (first, ..)| first.0 >= from);
            if self.hosts.len() >= limit
                && let Some(oldest) =
                    self.hosts.iter().min_by_key(|(ip, (f, ..))| (*f, **ip)).map(|(ip, _)| *ip)
            {
                self.hosts.remove(&oldest);
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

/// Counts per bucket of one channel or source, and what was learned.
#[derive(Debug, Default)]
struct Buckets {
    start: i64,
    current: u64,
    learned_sum: u64,
    learned_min: u64,
    learned_max: u64,
    learned: u32,
    /// The first bucket closed: it began at the channel's first packet, not at
    /// the bucket's start, so it is partial and never learned.
    warmed: bool,
    abnormal: bool,
    streak: u32,
}

impl Buckets {
    /// Adds `n` at `t`; returns the value of the bucket that just closed,
    /// once the learning buckets are over.
    fn add(&mut self, t: Timestamp, n: u64, width: i64) -> Option<u64> {
        let mut closed = None;
        if self.start == 0 {
            self.start = t.0 - t.0.rem_euclid(width);
        } else if t.0 >= self.start + width {
            let v = self.current;
            if !self.warmed {
                self.warmed = true;
            } else if self.learned < LEARN_BUCKETS {
                self.learned_sum += v;
                self.learned_min = if self.learned == 0 { v } else { self.learned_min.min(v) };
                self.learned_max = self.learned_max.max(v);
                self.learned += 1;
            } else {
                closed = Some(v);
            }
            self.current = 0;
            self.start = t.0 - t.0.rem_euclid(width);
        }
        self.current = self.current.saturating_add(n);
        closed
    }

    fn mean(&self) -> u64 {
        self.learned_sum / u64::from(self.learned.max(1))
    }
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
    periods: Bounded<(DeviceId, DeviceId, Protocol), Buckets>,
    bandwidth: Bounded<(IpAddr, &'static str), Buckets>,
    pair_bandwidth: Bounded<(IpAddr, IpAddr), Buckets>,
    scanners_reported: BTreeSet<IpAddr>,
    armed: BTreeSet<(IpAddr, String, bool)>,
    plc_armed: BTreeSet<IpAddr>,
    /// Flows to a standard OT port: (payload packets to the server, payload bytes, a message seen).
    standard: Bounded<u64, (u32, u64, bool)>,
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
            periods: Bounded::new(limit),
            bandwidth: Bounded::new(limit),
            pair_bandwidth: Bounded::new(limit),
            scanners_reported: BTreeSet::new(),
            armed: BTreeSet::new(),
            plc_armed: BTreeSet::new(),
            standard: Bounded::new(limit),
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
        out.insert("anomaly.channels", self.channels.evicted() + self.periods.evicted());
        out.insert("anomaly.bandwidth", self.bandwidth.evicted() + self.pair_bandwidth.evicted());
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
                self.bandwidth(obs, u64::from(p.wire_len), cx);
                if p.payload_len > 0 {
                    self.standard_payload(obs, p.payload_len, cx);
                }
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
                s.src = obs.src;
                s.label = protocol_label(obs);
                s.frame = obs.frame;
                let n = s.probed(t, window, false);
                if (n as u64) < count && s.hosts.len() as u64 >= count {
                    // Enough hosts tried; some may still prove unanswered: look again on ticks.
                    self.armed.insert((sip, subnet.clone(), long));
                }
                n
            };
            if n as u64 >= count {
                let (src, label) = (obs.src, protocol_label(obs));
                self.raise_address_scan(cx, ty, &src, &subnet, n, window, t, obs.frame, label);
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
            s.src = obs.src;
            s.label = obs.dst.port.and_then(port_protocol).unwrap_or("TCP");
            s.frame = obs.frame;
            let n = s.probed(t, window, false);
            if (n as u64) < count && s.hosts.len() as u64 >= count {
                self.plc_armed.insert(sip);
            }
            self.plc_scan(obs, n, count, window, cx);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn raise_address_scan(
        &mut self,
        cx: &mut Ctx<'_>,
        ty: &'static str,
        src: &Address,
        subnet: &str,
        n: usize,
        window: i64,
        t: Timestamp,
        frame: u64,
        label: &'static str,
    ) {
        let Some(sip) = src.ip else { return };
        let src = *src;
        let subnet = subnet.to_string();
        let k = key((ty, sip, &subnet));
        cx.raise(ty, k, t, &[frame], |cx| {
            let mut d = cx.detection(ty, t, &src, &Address::default(), Some(label));
            d.key.insert("subnet".into(), subnet);
            d.details.insert("count".into(), n.to_string());
            d.details.insert("window".into(), format_duration(window));
            d
        });
        self.scan_event(cx, &src, t, "contacted many addresses (address scan)");
    }

    /// The input ended: no answer can come any more, so every host tried
    /// and not answered counts.
    pub fn finish(&mut self, now: Timestamp, cx: &mut Ctx<'_>) {
        if !self.armed.is_empty() || !self.plc_armed.is_empty() {
            self.sweeps_tick(now.plus_micros(ACCEPT_GRACE), cx);
        }
    }

    /// Sweeps with enough hosts tried are looked at again as packet time
    /// passes: hosts that never answered count once the grace is over.
    fn sweeps_tick(&mut self, now: Timestamp, cx: &mut Ctx<'_>) {
        for k in std::mem::take(&mut self.armed) {
            let ty =
                if k.2 { "anomaly_long_duration_address_scan" } else { "anomaly_address_scan" };
            let count = cx.settings.thresholds.count(ty, "count");
            let window = cx.settings.thresholds.window(ty, "window");
            let Some(s) = self.sweeps.get(&k) else { continue };
            let n = s.probed(now, window, false);
            let (src, label, frame) = (s.src, s.label, s.frame);
            let live = s.hosts.values().any(|(first, ..)| now.0.saturating_sub(first.0) <= window);
            if n as u64 >= count {
                self.raise_address_scan(cx, ty, &src, &k.1, n, window, now, frame, label);
            } else if live {
                self.armed.insert(k);
            }
        }
        for sip in std::mem::take(&mut self.plc_armed) {
            let count = cx.settings.thresholds.count("anomaly_plc_scan", "count");
            let window = cx.settings.thresholds.window("anomaly_plc_scan", "window");
            let Some(s) = self.plc.get(&sip) else { continue };
            let n = s.probed(now, window, false);
            let (src, label, frame) = (s.src, s.label, s.frame);
            let live = s.hosts.values().any(|(first, ..)| now.0.saturating_sub(first.0) <= window);
            if n as u64 >= count {
                let k = key(("plc_scan", sip));
                cx.raise("anomaly_plc_scan", k, now, &[frame], |cx| {
                    let mut d = cx.detection(
                        "anomaly_plc_scan",
                        now,
                        &src,
                        &Address::default(),
                        Some(label),
                    );
                    d.details.insert("count".into(), n.to_string());
                    d.details.insert("window".into(), format_duration(window));
                    d
                });
                self.scan_event(cx, &src, now, "probed many controllers (PLC scan)");
            } else if live {
                self.plc_armed.insert(sip);
            }
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
        if a.is_request()
            && !a.is_gratuitous()
            && !a.sender_ip.is_unspecified()
            && !Self::is_scanner(cx, &sender)
        {
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

    /// Payload to a standard OT port that never frames as the port's protocol:
    /// [`STANDARD_PORT_PACKETS`] data packets or [`STANDARD_PORT_BYTES`] bytes
    /// to the server without a single message (or malformed message) decoded.
    fn standard_payload(&mut self, obs: &Observation, len: u32, cx: &mut Ctx<'_>) {
        let Some(flow) = obs.flow else { return };
        if obs.direction != Some(crate::observation::Direction::ToServer) {
            return;
        }
        let Some(port) = obs.dst.port else { return };
        // DNP3 link-layer keep-alives carry no application message: not judged by volume.
        let Some(expected) =
            OT_PORTS.iter().find(|(p, _)| *p == port && *p != 20000).map(|(_, n)| *n)
        else {
            return;
        };
        let st = self.standard.entry(flow, obs.time, || (0, 0, false));
        if st.2 {
            return;
        }
        st.0 = st.0.saturating_add(1);
        st.1 = st.1.saturating_add(u64::from(len));
        if st.0 < STANDARD_PORT_PACKETS && st.1 < STANDARD_PORT_BYTES {
            return;
        }
        st.2 = true;
        let (client, server) = (obs.src, obs.dst);
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
        if let Some(flow) = obs.flow
            && let Some(st) = self.standard.get_mut(&flow)
        {
            st.2 = true;
        }
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
        if m.role == Role::Request && m.protocol.is_ot() {
            self.periodic(obs, c, s, m.protocol, &client, &server, cx);
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

    /// Request rate of a polled channel against the rate it started with.
    #[allow(clippy::too_many_arguments)]
    fn periodic(
        &mut self,
        obs: &Observation,
        c: DeviceId,
        s: DeviceId,
        protocol: Protocol,
        client: &Address,
        server: &Address,
        cx: &mut Ctx<'_>,
    ) {
        const TY: &str = "anomaly_abnormal_periodic_behavior";
        if !cx.on(TY) {
            return;
        }
        let t = obs.time;
        let b = self.periods.entry((c, s, protocol), t, Buckets::default);
        let Some(rate) = b.add(t, 1, RATE_BUCKET) else { return };
        let learned = b.mean();
        // Only channels that were regular while learned: every learned bucket
        // within half and one and a half times the mean.
        let regular = b.learned_min * 2 >= learned && b.learned_max * 2 <= learned * 3;
        if learned < PERIODIC_MIN_RATE || !regular || rate == 0 {
            return;
        }
        let off = rate * 10 > learned * 25 || rate * 25 < learned * 10;
        // The change must last two buckets in a row.
        let streak = if off { b.streak.saturating_add(1) } else { 0 };
        b.streak = streak;
        let abnormal = streak >= 2;
        let was = std::mem::replace(&mut b.abnormal, abnormal);
        if !abnormal || was {
            return;
        }
        let period = |r: u64| format_duration((RATE_BUCKET / r.max(1) as i64) / 1000 * 1000);
        let (old, new) = (period(learned), period(rate));
        let (client, server) = (*client, *server);
        let label = protocol_label(obs);
        let k = key((TY, c, s, protocol));
        cx.raise(TY, k, t, &[obs.frame], |cx| {
            let mut d = cx.detection(TY, t, &client, &server, Some(label));
            d.details.insert("period_old".into(), old);
            d.details.insert("period_new".into(), new);
            d
        });
    }

    /// Bytes per minute of a source and of a pair against their first minutes.
    fn bandwidth(&mut self, obs: &Observation, bytes: u64, cx: &mut Ctx<'_>) {
        const SRC: &str = "anomaly_abnormal_traffic_bandwidth";
        const PAIR: &str = "anomaly_abnormal_traffic_bandwidth_between_devices";
        let (Some(sip), Some(dip)) = (obs.src.ip, obs.dst.ip) else { return };
        let t = obs.time;
        let judge = |b: &mut Buckets, v: u64| -> Option<(String, String)> {
            let high = v > b.learned_max.saturating_mul(4) && v >= BANDWIDTH_FLOOR;
            let low =
                v > 0 && v.saturating_mul(4) < b.learned_min && b.learned_min >= BANDWIDTH_FLOOR;
            let abnormal = high || low;
            let was = std::mem::replace(&mut b.abnormal, abnormal);
            (abnormal && !was).then(|| {
                let kb = |x: u64| format!("{} kB/min", x / 1000);
                (kb(v), format!("{} to {}", kb(b.learned_min), kb(b.learned_max)))
            })
        };
        if cx.on(SRC) {
            let label = crate::engine::transport_label(obs);
            let b = self.bandwidth.entry((sip, label), t, Buckets::default);
            if let Some(v) = b.add(t, bytes, BANDWIDTH_BUCKET)
                && let Some((rate, expected)) = judge(b, v)
            {
                let src = obs.src;
                let k = key((SRC, sip, label));
                cx.raise(SRC, k, t, &[obs.frame], |cx| {
                    let mut d = cx.detection(SRC, t, &src, &Address::default(), Some(label));
                    d.details.insert("rate".into(), rate);
                    d.details.insert("expected".into(), expected);
                    d
                });
            }
        }
        if cx.on(PAIR) {
            let b = self.pair_bandwidth.entry((sip, dip), t, Buckets::default);
            if let Some(v) = b.add(t, bytes, BANDWIDTH_BUCKET)
                && let Some((rate, expected)) = judge(b, v)
            {
                let (src, dst) = (obs.src, obs.dst);
                let k = key((PAIR, sip, dip));
                cx.raise(PAIR, k, t, &[obs.frame], |cx| {
                    let mut d = cx.detection(PAIR, t, &src, &dst, Some("IP"));
                    d.details.insert("rate".into(), rate);
                    d.details.insert("expected".into(), expected);
                    d
                });
            }
        }
    }

    pub fn tick(&mut self, now: Timestamp, cx: &mut Ctx<'_>) {
        if !self.armed.is_empty() || !self.plc_armed.is_empty() {
            self.sweeps_tick(now, cx);
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_channel_that_starts_mid_bucket_learns_full_buckets_only() {
        // One request per second, from 20 s into a rate bucket.
        let base = 1_700_000_010 + 20;
        let mut b = Buckets::default();
        let mut closed = Vec::new();
        for s in base..base + 300 {
            closed.extend(b.add(Timestamp::from_secs(s), 1, RATE_BUCKET));
        }
        assert_eq!(b.learned, LEARN_BUCKETS);
        assert_eq!((b.learned_min, b.learned_max, b.mean()), (30, 30, 30));
        assert!(!closed.is_empty() && closed.iter().all(|v| *v == 30), "{closed:?}");
    }
}
