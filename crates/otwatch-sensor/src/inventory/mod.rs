//! The device inventory, connections and timeline events, built from observations.
//!
//! [`Inventory::observe`] takes every [`Observation`]; [`Inventory::flush`]
//! returns what changed since the last flush as store-ready records
//! ([`Batch`]). State is kept in memory for the whole run (bounded by
//! [`MAX_DEVICES`] and [`MAX_CONNECTIONS`]), so inference uses everything
//! seen so far, and only deltas are written.
//!
//! **Addresses.** A device is an IP address with the MAC that belongs to it
//! (or a MAC alone, for devices that speak no IP). The MAC of an IP packet
//! is the sender's only on the local link: traffic routed from elsewhere
//! carries the router's MAC. So a MAC is bound to an IP only on evidence:
//! an ARP packet from that IP, or IP packets from it whose TTL is still an
//! initial value (255, 128, 64, 60, 32, 30: not decremented by a router).
//! A MAC that sends packets from two or more IPs, some with decremented
//! TTLs, is a router: the IPs behind it keep no MAC, and the router itself
//! becomes a network device. Devices are kept for private, link-local and
//! configured OT addresses, for any address bound to a local MAC, and for
//! any address that sent with an initial TTL (captures without MACs:
//! Linux cooked, loopback, raw IP);
//! addresses seen only through a router outside those ranges are the
//! internet, not the inventory (their connections are still counted).
//! A device's identity (IP + MAC) is settled when it is first written
//! ([`SETTLE_NS`] after it was first seen, or at the end of the input) and
//! not changed afterwards, as the store consolidates by IP + MAC + zone.
//!
//! **Types** (first rule that applies; the reason is kept in the device's
//! details as `type_reason`): a device that tried many ports or hosts with
//! few answers, or ARP-probed many addresses, is a scanner; one that
//! programmed, stopped, started, reset or updated a controller is an
//! engineering station; a DNP3 or IEC-104 server is an RTU, a BACnet device
//! a controller, a Modbus, S7 or CIP server a PLC; a client of OT servers
//! is a historian when it only reads from three or more of them, a SCADA
//! server when it polls three or more, an HMI otherwise; a router or a
//! device speaking only link-layer management protocols (LLDP, STP, CDP) is
//! a network device; a server of IT protocols a server; an IT client a
//! workstation.
//!
//! **Vendor** comes from the MAC OUI ([`oui`]); model, firmware, serial and
//! name from protocol identification replies (and DHCP host names); the
//! vendor a protocol reports is used when there is no OUI vendor, and kept
//! in the details as `reported_vendor`.
//!
//! **Connections** are keyed by client, server, transport, server port and
//! application protocol; packets and bytes of both directions count.
//! **Events**: `DEVICE_CREATE` the first time a device is written,
//! `DEVICE_CONNECTION_CREATED` for a new connection, and the OT operations
//! worth a timeline entry (program download `PROGRAM_DEVICE`, program upload
//! `PROGRAM_UPLOAD_DEVICE`, `FIRMWARE_UPDATE`, `PLC_STOP`, `PLC_START`,
//! `PLC_RESET`, `CONFIGURATION_CHANGE`), and FTP/Telnet sign-in failures,
//! one per source, destination and type per [`OPERATION_EVENT_GAP_NS`] of
//! packet time. Every event has an idempotency key, so writing the same
//! traffic twice stores it once.

pub mod oui;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::IpAddr;

use otwatch_detect::observation::{
    Direction, Kind, LoginOutcome, MacAddr, Observation, Operation, Protocol, Role, TcpSignal,
    Transport,
};
use otwatch_model::{
    Cidr, ConnectionObservation, DeviceObservation, DeviceType, EventSeverity, NewEvent, Timestamp,
};

/// Devices tracked at most; past this new addresses are counted, not kept.
pub const MAX_DEVICES: usize = 65_536;
/// Connections tracked at most; past this new ones are counted, not kept.
pub const MAX_CONNECTIONS: usize = 262_144;
/// Flows remembered for their application protocol.
pub const MAX_FLOW_PROTOCOLS: usize = 65_536;
/// MACs remembered per IP, IPs per MAC, peers and ports per device.
const MAX_SMALL_SET: usize = 64;
/// A device is written at the earliest this long (packet time) after it was
/// first seen, so that its MAC binding rests on more than one packet.
pub const SETTLE_NS: u64 = 10_000_000_000;
/// Repeats of the same operation event (type, source, destination) within
/// this packet time are folded into the first.
pub const OPERATION_EVENT_GAP_NS: u64 = 60_000_000_000;
/// Distinct ports probed (mostly unanswered) that make a scanner.
pub const SCANNER_MIN_PORTS: usize = 25;
/// Distinct hosts probed (mostly unanswered) that make a scanner.
pub const SCANNER_MIN_HOSTS: usize = 50;
/// Distinct ARP targets asked for that make a scanner.
pub const SCANNER_MIN_ARP_TARGETS: usize = 40;
/// Servers polled from which a client is a SCADA server or historian rather than an HMI.
pub const MANY_SERVERS: usize = 3;

/// Where the sensor sits, stamped on everything it writes.
#[derive(Clone, Debug, Default)]
pub struct Placement {
    /// Sensor id.
    pub sensor: Option<String>,
    /// Site.
    pub site: Option<String>,
    /// Zone.
    pub zone: Option<String>,
    /// Subnets holding OT devices (always kept in the inventory).
    pub ot_subnets: Vec<Cidr>,
}

/// What one flush produced, ready for the store.
#[derive(Clone, Debug, Default)]
pub struct Batch {
    /// Device observations (new and changed devices).
    pub devices: Vec<DeviceObservation>,
    /// The inventory's handle of each device (same order), for [`Inventory::set_device_ids`].
    pub device_handles: Vec<usize>,
    /// Connection counts since the last flush.
    pub connections: Vec<ConnectionObservation>,
    /// Events; their `device_id` is filled by [`Inventory::resolve_events`].
    pub events: Vec<(NewEvent, Option<usize>)>,
}

impl Batch {
    /// Whether there is nothing to write.
    pub fn is_empty(&self) -> bool {
        self.devices.is_empty() && self.connections.is_empty() && self.events.is_empty()
    }
}

/// Counters of the inventory.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct InventoryStats {
    /// Devices written at least once.
    pub devices: u64,
    /// Connections created.
    pub connections: u64,
    /// Addresses not tracked because [`MAX_DEVICES`] was reached.
    pub devices_dropped: u64,
    /// Connections not tracked because [`MAX_CONNECTIONS`] was reached.
    pub connections_dropped: u64,
}

const PROTOCOLS: [Protocol; 13] = [
    Protocol::Modbus,
    Protocol::Dnp3,
    Protocol::S7comm,
    Protocol::S7commPlus,
    Protocol::Enip,
    Protocol::Cip,
    Protocol::Bacnet,
    Protocol::Iec104,
    Protocol::Dhcp,
    Protocol::Dns,
    Protocol::Http,
    Protocol::Ftp,
    Protocol::Telnet,
];

fn bit(p: Protocol) -> u16 {
    PROTOCOLS.iter().position(|q| *q == p).map_or(0, |i| 1 << i)
}

fn names_of(bits: u16) -> Vec<&'static str> {
    PROTOCOLS
        .iter()
        .enumerate()
        .filter(|(i, _)| bits & (1 << i) != 0)
        .map(|(_, p)| p.name())
        .collect()
}

const OT_BITS: u16 = 0xff;

#[derive(Clone, Copy, Debug, Default)]
struct MacEvidence {
    mac: MacAddr,
    arp: u32,
    local_ttl: u32,
    routed_ttl: u32,
    as_destination: u32,
}

#[derive(Clone, Debug, Default)]
struct MacInfo {
    ips: BTreeSet<IpAddr>,
    routed: bool,
    management_frames: u32,
    other_link_frames: u32,
    profinet_frames: u32,
}

#[derive(Clone, Debug)]
struct Dev {
    ip: Option<IpAddr>,
    mac_only: Option<MacAddr>,
    macs: Vec<MacEvidence>,
    first_ns: u64,
    last_ns: u64,
    vlan: Option<u16>,
    dirty: bool,
    identity: Option<Option<MacAddr>>,
    store_id: Option<i64>,
    served: u16,
    client_of: u16,
    servers_polled: BTreeSet<IpAddr>,
    clients: BTreeSet<IpAddr>,
    ot_writes: u32,
    engineering: u32,
    syn_ports: BTreeSet<u16>,
    syn_hosts: BTreeSet<IpAddr>,
    syn_sent: u32,
    accepted: u32,
    arp_targets: BTreeSet<std::net::Ipv4Addr>,
    tcp_server: bool,
    local_ttl_seen: bool,
    /// Services by well-known port (names from [`port_protocol`]) it serves and uses.
    port_served: BTreeSet<&'static str>,
    port_used: BTreeSet<&'static str>,
    vendor: Option<String>,
    model: Option<String>,
    firmware: Option<String>,
    serial: Option<String>,
    name: Option<String>,
    details: BTreeMap<String, String>,
}

impl Dev {
    fn new(ip: Option<IpAddr>, mac_only: Option<MacAddr>, ts: u64) -> Dev {
        Dev {
            ip,
            mac_only,
            macs: Vec::new(),
            first_ns: ts,
            last_ns: ts,
            vlan: None,
            dirty: true,
            identity: None,
            store_id: None,
            served: 0,
            client_of: 0,
            servers_polled: BTreeSet::new(),
            clients: BTreeSet::new(),
            ot_writes: 0,
            engineering: 0,
            syn_ports: BTreeSet::new(),
            syn_hosts: BTreeSet::new(),
            syn_sent: 0,
            accepted: 0,
            arp_targets: BTreeSet::new(),
            tcp_server: false,
            local_ttl_seen: false,
            port_served: BTreeSet::new(),
            port_used: BTreeSet::new(),
            vendor: None,
            model: None,
            firmware: None,
            serial: None,
            name: None,
            details: BTreeMap::new(),
        }
    }

    fn evidence(&mut self, mac: MacAddr) -> Option<&mut MacEvidence> {
        if let Some(i) = self.macs.iter().position(|e| e.mac == mac) {
            return self.macs.get_mut(i);
        }
        if self.macs.len() >= 4 {
            return None;
        }
        self.macs.push(MacEvidence { mac, ..MacEvidence::default() });
        self.macs.last_mut()
    }
}

fn insert_small<T: Ord>(set: &mut BTreeSet<T>, v: T) {
    if set.len() < MAX_SMALL_SET || set.contains(&v) {
        set.insert(v);
    }
}

/// Whether a TTL looks like an initial value (not decremented by a router).
pub fn initial_ttl(ttl: u8) -> bool {
    matches!(ttl, 255 | 128 | 64 | 60 | 32 | 30)
}

/// Whether a port-derived protocol name is an OT protocol (those are typed by their decoded messages).
fn is_ot_name(name: &str) -> bool {
    matches!(
        name,
        "Modbus" | "S7comm" | "EtherNet/IP" | "EtherNet/IP I/O" | "DNP3" | "IEC-104" | "BACnet"
    )
}

fn unicast(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(a) => !(a.is_broadcast() || a.is_multicast() || a.is_unspecified()),
        IpAddr::V6(a) => !(a.is_multicast() || a.is_unspecified()),
    }
}

fn local_range(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(a) => a.is_private() || a.is_link_local() || a.is_loopback(),
        IpAddr::V6(a) => {
            a.is_loopback()
                || (a.segments()[0] & 0xfe00) == 0xfc00
                || (a.segments()[0] & 0xffc0) == 0xfe80
        }
    }
}

/// The protocol a well-known server port suggests, for connections whose
/// payload was never decoded.
pub fn port_protocol(transport: Transport, port: u16) -> Option<&'static str> {
    let tcp = transport == Transport::Tcp;
    Some(match port {
        502 => "Modbus",
        102 if tcp => "S7comm",
        44818 => "EtherNet/IP",
        2222 if !tcp => "EtherNet/IP I/O",
        20000 => "DNP3",
        2404 if tcp => "IEC-104",
        47808 if !tcp => "BACnet",
        53 => "DNS",
        67 | 68 if !tcp => "DHCP",
        80 | 8080 if tcp => "HTTP",
        443 if tcp => "HTTPS",
        21 if tcp => "FTP",
        22 if tcp => "SSH",
        23 if tcp => "Telnet",
        25 if tcp => "SMTP",
        123 if !tcp => "NTP",
        137 | 138 if !tcp => "NetBIOS",
        139 | 445 if tcp => "SMB",
        161 | 162 if !tcp => "SNMP",
        135 if tcp => "DCE/RPC",
        1433 if tcp => "TDS",
        1900 if !tcp => "SSDP",
        3389 if tcp => "RDP",
        5353 if !tcp => "mDNS",
        5355 => "LLMNR",
        _ => return None,
    })
}

#[derive(Clone, Debug)]
struct Conn {
    client: Endpoint,
    server: Endpoint,
    transport: &'static str,
    port: Option<u16>,
    protocol: Option<&'static str>,
    emitted_protocol: Option<Option<&'static str>>,
    packets: u64,
    bytes: u64,
    first: u64,
    last: u64,
    written: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Endpoint {
    Ip(IpAddr),
    Mac(MacAddr),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct ConnKey {
    client: Endpoint,
    server: Endpoint,
    transport: &'static str,
    port: Option<u16>,
}

/// The inventory builder. See the module documentation.
#[derive(Debug, Default)]
pub struct Inventory {
    placement: Placement,
    devices: Vec<Dev>,
    by_ip: HashMap<IpAddr, usize>,
    by_mac: HashMap<MacAddr, usize>,
    macs: HashMap<MacAddr, MacInfo>,
    conns: Vec<Conn>,
    conn_index: HashMap<ConnKey, usize>,
    flow_conn: HashMap<u64, usize>,
    flow_protocol: HashMap<u64, &'static str>,
    pending_events: Vec<(NewEvent, Option<usize>)>,
    last_op_event: HashMap<(&'static str, Option<IpAddr>, Option<IpAddr>), u64>,
    stats: InventoryStats,
    now_ns: u64,
}

impl Inventory {
    /// An empty inventory for a sensor at `placement`.
    pub fn new(placement: Placement) -> Inventory {
        Inventory { placement, ..Inventory::default() }
    }

    /// Counters.
    pub fn stats(&self) -> InventoryStats {
        self.stats
    }

    fn keep_ip(&self, ip: IpAddr) -> bool {
        local_range(ip) || self.placement.ot_subnets.iter().any(|c| c.contains(&ip))
    }

    fn device_by_ip(&mut self, ip: IpAddr, ts: u64) -> Option<usize> {
        if !unicast(ip) {
            return None;
        }
        if let Some(&i) = self.by_ip.get(&ip) {
            return Some(i);
        }
        if self.devices.len() >= MAX_DEVICES {
            self.stats.devices_dropped += 1;
            return None;
        }
        self.devices.push(Dev::new(Some(ip), None, ts));
        let i = self.devices.len() - 1;
        self.by_ip.insert(ip, i);
        Some(i)
    }

    fn device_by_mac(&mut self, mac: MacAddr, ts: u64) -> Option<usize> {
        if mac.is_group() || mac == MacAddr::default() {
            return None;
        }
        if let Some(&i) = self.by_mac.get(&mac) {
            return Some(i);
        }
        if self.devices.len() >= MAX_DEVICES {
            self.stats.devices_dropped += 1;
            return None;
        }
        self.devices.push(Dev::new(None, Some(mac), ts));
        let i = self.devices.len() - 1;
        self.by_mac.insert(mac, i);
        Some(i)
    }

    fn touch(&mut self, i: usize, ts: u64, vlan: Option<u16>) {
        if let Some(d) = self.devices.get_mut(i) {
            d.last_ns = d.last_ns.max(ts);
            d.first_ns = d.first_ns.min(ts);
            if vlan.is_some() {
                d.vlan = vlan;
            }
            d.dirty = true;
        }
    }

    /// Takes one observation into account.
    pub fn observe(&mut self, o: &Observation) {
        let ts = u64::try_from(o.time.0).unwrap_or(0).saturating_mul(1_000);
        self.now_ns = self.now_ns.max(ts);
        match &o.kind {
            Kind::Packet(p) => self.on_packet(o, ts, p.ttl, u64::from(p.wire_len)),
            Kind::Tcp(s) => self.on_tcp(o, *s),
            Kind::Arp(a) => {
                if let Some(i) = self.device_by_ip(IpAddr::V4(a.sender_ip), ts)
                    && !a.sender_mac.is_group()
                    && a.sender_mac != MacAddr::default()
                {
                    self.touch(i, ts, o.vlan);
                    if let Some(e) = self.devices.get_mut(i).and_then(|d| d.evidence(a.sender_mac))
                    {
                        e.arp += 1;
                    }
                    let info = self.macs.entry(a.sender_mac).or_default();
                    insert_small(&mut info.ips, IpAddr::V4(a.sender_ip));
                    if a.is_request()
                        && a.sender_ip != a.target_ip
                        && let Some(d) = self.devices.get_mut(i)
                    {
                        insert_small(&mut d.arp_targets, a.target_ip);
                    }
                }
            }
            Kind::Link(l) => {
                if let Some(src) = o.src.mac
                    && !src.is_group()
                {
                    let info = self.macs.entry(src).or_default();
                    if matches!(l.name, "lldp" | "stp" | "cdp") {
                        info.management_frames += 1;
                    } else if l.name == "profinet" {
                        info.profinet_frames += 1;
                    } else {
                        info.other_link_frames += 1;
                    }
                    if (self.by_mac.contains_key(&src) || info.ips.is_empty())
                        && let Some(i) = self.device_by_mac(src, ts)
                    {
                        self.touch(i, ts, o.vlan);
                    }
                }
                if let (Some(s), Some(d)) = (o.src.mac, o.dst.mac) {
                    self.count_conn(
                        ConnKey {
                            client: Endpoint::Mac(s),
                            server: Endpoint::Mac(d),
                            transport: l.name,
                            port: None,
                        },
                        None,
                        ts,
                        u64::from(l.wire_len),
                    );
                }
            }
            Kind::App(m) => self.on_app(o, m, ts),
            Kind::Identity(id) => {
                let Some(i) = self.src_device(o, ts) else { return };
                let d = &mut self.devices[i];
                let mut changed = false;
                let mut set = |slot: &mut Option<String>, v: &Option<String>| {
                    if v.is_some() && slot != v {
                        *slot = v.clone();
                        changed = true;
                    }
                };
                set(&mut d.vendor, &id.vendor);
                set(&mut d.model, &id.model);
                set(&mut d.firmware, &id.firmware);
                set(&mut d.serial, &id.serial);
                set(&mut d.name, &id.name);
                for (k, v) in &id.details {
                    if d.details.get(*k) != Some(v) {
                        d.details.insert((*k).to_string(), v.clone());
                        changed = true;
                    }
                }
                if changed {
                    d.dirty = true;
                }
            }
            Kind::Dhcp(dh) => {
                if let (Some(name), Some(mac)) = (&dh.host_name, dh.client_mac) {
                    let ip = dh.your_ip.or(dh.client_ip).or(dh.requested_ip);
                    if let Some(ip) = ip
                        && let Some(i) = self.device_by_ip(IpAddr::V4(ip), ts)
                    {
                        let d = &mut self.devices[i];
                        if d.name.is_none() {
                            d.name = Some(name.clone());
                            d.dirty = true;
                        }
                        d.details.insert("dhcp_mac".into(), mac.to_string());
                    }
                }
                self.mark_protocol(o, Protocol::Dhcp, ts);
            }
            Kind::Dns(_) => self.mark_protocol(o, Protocol::Dns, ts),
            Kind::Http(_) | Kind::HttpResponse(_) => self.mark_protocol(o, Protocol::Http, ts),
            Kind::Login(l) => {
                self.mark_protocol(o, l.protocol, ts);
                if l.outcome == LoginOutcome::Failure {
                    let ty = match l.protocol {
                        Protocol::Ftp => "FTP_AUTHENTICATION_FAILURE",
                        Protocol::Telnet => "TELNET_AUTHENTICATION_FAILURE",
                        _ => "HTTP_BASIC_AUTHENTICATION",
                    };
                    // The failure travels server to client: the event is about the client's attempt.
                    self.operation_event(
                        ty,
                        "Sign-in failed",
                        o.dst.ip,
                        o.src.ip,
                        l.protocol,
                        ts,
                        o,
                    );
                }
            }
            _ => {}
        }
    }

    fn src_device(&mut self, o: &Observation, ts: u64) -> Option<usize> {
        match o.src.ip {
            Some(ip) => self.device_by_ip(ip, ts),
            None => o.src.mac.and_then(|m| self.device_by_mac(m, ts)),
        }
    }

    fn on_packet(&mut self, o: &Observation, ts: u64, ttl: u8, wire_len: u64) {
        let (Some(src_ip), Some(dst_ip)) = (o.src.ip, o.dst.ip) else { return };
        if let Some(i) = self.device_by_ip(src_ip, ts) {
            self.touch(i, ts, o.vlan);
            if initial_ttl(ttl) {
                self.devices[i].local_ttl_seen = true;
            }
            if let Some(mac) = o.src.mac.filter(|m| !m.is_group() && *m != MacAddr::default()) {
                let local = initial_ttl(ttl);
                if let Some(e) = self.devices[i].evidence(mac) {
                    if local {
                        e.local_ttl += 1;
                    } else {
                        e.routed_ttl += 1;
                    }
                }
                let info = self.macs.entry(mac).or_default();
                insert_small(&mut info.ips, src_ip);
                if !local {
                    info.routed = true;
                }
            }
        }
        let dst_group = o.dst.mac.is_some_and(|m| m.is_group());
        if !dst_group && let Some(i) = self.device_by_ip(dst_ip, ts) {
            self.touch(i, ts, o.vlan);
            if let Some(mac) = o.dst.mac.filter(|m| *m != MacAddr::default())
                && let Some(e) = self.devices[i].evidence(mac)
            {
                e.as_destination += 1;
            }
        }
        // Connection: client to server for flows, as sent otherwise.
        let (client, server, port) = match (o.direction, o.transport) {
            (Some(Direction::ToClient), Transport::Tcp | Transport::Udp) => {
                (dst_ip, src_ip, o.src.port)
            }
            (_, Transport::Tcp | Transport::Udp) => (src_ip, dst_ip, o.dst.port),
            _ => (src_ip, dst_ip, None),
        };
        let transport = match o.transport {
            Transport::Tcp => "tcp",
            Transport::Udp => "udp",
            Transport::Icmp => "icmp",
            _ => "ip",
        };
        let key =
            ConnKey { client: Endpoint::Ip(client), server: Endpoint::Ip(server), transport, port };
        let by_port = port.and_then(|p| port_protocol(o.transport, p));
        let proto = o.flow.and_then(|f| self.flow_protocol.get(&f).copied()).or(by_port);
        if let Some(name) = by_port
            && o.direction.is_some()
        {
            for (addr, serving) in [(server, true), (client, false)] {
                if let Some(&i) = self.by_ip.get(&addr) {
                    let d = &mut self.devices[i];
                    let set = if serving { &mut d.port_served } else { &mut d.port_used };
                    if !set.contains(name) {
                        insert_small(set, name);
                        d.dirty = true;
                    }
                }
            }
        }
        if let Some(ci) = self.count_conn(key, proto, ts, wire_len)
            && let Some(f) = o.flow
        {
            if !self.flow_conn.contains_key(&f) && self.flow_conn.len() >= MAX_FLOW_PROTOCOLS {
                // A cache: old flows are forgotten wholesale, new ones fill it again.
                self.flow_conn.clear();
            }
            self.flow_conn.insert(f, ci);
        }
    }

    fn count_conn(
        &mut self,
        key: ConnKey,
        protocol: Option<&'static str>,
        ts: u64,
        bytes: u64,
    ) -> Option<usize> {
        let i = match self.conn_index.get(&key) {
            Some(&i) => i,
            None => {
                if self.conns.len() >= MAX_CONNECTIONS {
                    self.stats.connections_dropped += 1;
                    return None;
                }
                self.conns.push(Conn {
                    client: key.client,
                    server: key.server,
                    transport: key.transport,
                    port: key.port,
                    protocol,
                    emitted_protocol: None,
                    packets: 0,
                    bytes: 0,
                    first: ts,
                    last: ts,
                    written: false,
                });
                let i = self.conns.len() - 1;
                self.conn_index.insert(key, i);
                i
            }
        };
        let c = &mut self.conns[i];
        if c.packets == 0 {
            c.first = ts;
        }
        c.packets += 1;
        c.bytes += bytes;
        c.last = c.last.max(ts);
        if c.protocol.is_none() {
            c.protocol = protocol;
        }
        Some(i)
    }

    fn on_tcp(&mut self, o: &Observation, s: TcpSignal) {
        let ts = u64::try_from(o.time.0).unwrap_or(0).saturating_mul(1_000);
        match s {
            TcpSignal::Attempt => {
                let Some(i) = o.src.ip.and_then(|ip| self.device_by_ip(ip, ts)) else { return };
                let d = &mut self.devices[i];
                d.syn_sent += 1;
                if let Some(p) = o.dst.port {
                    insert_small(&mut d.syn_ports, p);
                }
                if let Some(ip) = o.dst.ip {
                    insert_small(&mut d.syn_hosts, ip);
                }
            }
            TcpSignal::Accept => {
                if let Some(i) = o.dst.ip.and_then(|ip| self.by_ip.get(&ip).copied()) {
                    self.devices[i].accepted += 1;
                }
                if let Some(i) = o.src.ip.and_then(|ip| self.by_ip.get(&ip).copied()) {
                    let d = &mut self.devices[i];
                    if !d.tcp_server {
                        d.tcp_server = true;
                        d.dirty = true;
                    }
                }
            }
            _ => {}
        }
    }

    /// Records that the flow of `o` speaks `protocol` (client and server sides).
    fn mark_protocol(&mut self, o: &Observation, protocol: Protocol, ts: u64) {
        let (client_ip, server_ip) = match o.direction {
            Some(Direction::ToClient) => (o.dst.ip, o.src.ip),
            _ => (o.src.ip, o.dst.ip),
        };
        if let Some(f) = o.flow {
            if !self.flow_protocol.contains_key(&f)
                && self.flow_protocol.len() >= MAX_FLOW_PROTOCOLS
            {
                self.flow_protocol.clear();
            }
            self.flow_protocol.insert(f, protocol.name());
            if let Some(&ci) = self.flow_conn.get(&f)
                && let Some(c) = self.conns.get_mut(ci)
                && c.emitted_protocol.is_none()
            {
                c.protocol = Some(protocol.name());
            }
        }
        let b = bit(protocol);
        if let Some(i) = client_ip.and_then(|ip| self.device_by_ip(ip, ts)) {
            let d = &mut self.devices[i];
            if d.client_of & b == 0 {
                d.client_of |= b;
                d.dirty = true;
            }
            if let Some(s) = server_ip {
                insert_small(&mut d.servers_polled, s);
            }
        }
        if let Some(i) = server_ip.and_then(|ip| self.device_by_ip(ip, ts)) {
            let d = &mut self.devices[i];
            if d.served & b == 0 {
                d.served |= b;
                d.dirty = true;
            }
            if let Some(c) = client_ip {
                insert_small(&mut d.clients, c);
            }
        }
    }

    fn on_app(&mut self, o: &Observation, m: &otwatch_detect::observation::AppMessage, ts: u64) {
        let protocol = if m.protocol == Protocol::Cip { Protocol::Enip } else { m.protocol };
        if o.transport == Transport::Link {
            // BACnet/Ethernet: a device by MAC; requests make the receiver a server.
            let (srv, cli) = match m.role {
                Role::Request => (o.dst.mac, o.src.mac),
                Role::Response | Role::Unsolicited => (o.src.mac, o.dst.mac),
            };
            let b = bit(protocol);
            if let Some(i) = srv.and_then(|mac| self.device_by_mac(mac, ts)) {
                self.touch(i, ts, o.vlan);
                self.devices[i].served |= b;
            }
            if let Some(i) = cli.and_then(|mac| self.device_by_mac(mac, ts)) {
                self.touch(i, ts, o.vlan);
                self.devices[i].client_of |= b;
            }
            return;
        }
        if m.role == Role::Unsolicited && protocol == Protocol::Bacnet {
            // I-Am and friends come from BACnet devices, whatever the ports say.
            if let Some(i) = o.src.ip.and_then(|ip| self.device_by_ip(ip, ts)) {
                self.devices[i].served |= bit(protocol);
            }
            return;
        }
        self.mark_protocol(o, protocol, ts);
        if m.role != Role::Request {
            return;
        }
        let is_write = matches!(m.operation, Operation::Write | Operation::Command);
        if let Some(i) = o.src.ip.and_then(|ip| self.by_ip.get(&ip).copied()) {
            let d = &mut self.devices[i];
            if is_write {
                d.ot_writes = d.ot_writes.saturating_add(1);
            }
            if m.operation.is_engineering() && m.operation != Operation::ConfigWrite {
                d.engineering = d.engineering.saturating_add(1);
                d.dirty = true;
            }
        }
        let event = match m.operation {
            Operation::ProgramDownload => Some(("PROGRAM_DEVICE", "PLC Programming")),
            Operation::ProgramUpload => Some(("PROGRAM_UPLOAD_DEVICE", "PLC Program Upload")),
            Operation::FirmwareUpdate => Some(("FIRMWARE_UPDATE", "Firmware Update")),
            Operation::Stop => Some(("PLC_STOP", "PLC Stop")),
            Operation::Start => Some(("PLC_START", "PLC Start")),
            Operation::ColdRestart | Operation::WarmRestart => Some(("PLC_RESET", "PLC Reset")),
            Operation::ConfigWrite => Some(("CONFIGURATION_CHANGE", "PLC Configuration Write")),
            _ => None,
        };
        if let Some((ty, title)) = event {
            self.operation_event(ty, title, o.src.ip, o.dst.ip, protocol, ts, o);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn operation_event(
        &mut self,
        ty: &'static str,
        title: &str,
        src: Option<IpAddr>,
        dst: Option<IpAddr>,
        protocol: Protocol,
        ts: u64,
        o: &Observation,
    ) {
        let k = (ty, src, dst);
        if let Some(&last) = self.last_op_event.get(&k)
            && ts.saturating_sub(last) < OPERATION_EVENT_GAP_NS
        {
            return;
        }
        if self.last_op_event.len() >= MAX_CONNECTIONS {
            self.last_op_event.clear();
        }
        self.last_op_event.insert(k, ts);
        let show = |ip: Option<IpAddr>| ip.map(|i| i.to_string()).unwrap_or_default();
        let mut e = NewEvent::new(o.time, ty, EventSeverity::Notice, title);
        e.key = Some(format!("op:{ty}:{}:{}:{}", show(src), show(dst), o.time.0));
        e.description = match &o.kind {
            Kind::App(m) => format!(
                "{} {} from {} to {} ({}).",
                protocol.name(),
                m.function_name.unwrap_or("request"),
                show(src),
                show(dst),
                m.operation.name()
            ),
            _ => format!("{} from {} to {}.", title, show(src), show(dst)),
        };
        e.src_ip = src.map(|i| i.to_string());
        e.dst_ip = dst.map(|i| i.to_string());
        e.protocol = Some(protocol.name().to_string());
        e.details.insert("frame".into(), o.frame.to_string());
        if let Kind::App(m) = &o.kind {
            e.details.insert("function".into(), m.function.to_string());
            if let Some(s) = &m.symbol {
                e.details.insert("symbol".into(), s.to_string());
            }
        }
        self.stamp(&mut e);
        let target = dst.and_then(|ip| self.by_ip.get(&ip).copied());
        self.pending_events.push((e, target));
    }

    fn stamp(&self, e: &mut NewEvent) {
        e.sensor = self.placement.sensor.clone();
        e.site = self.placement.site.clone();
        e.zone = self.placement.zone.clone();
    }

    fn is_router_mac(&self, mac: MacAddr) -> bool {
        self.macs.get(&mac).is_some_and(|m| m.routed && m.ips.len() >= 2)
    }

    /// The MAC that belongs to an IP device, if the evidence says one does.
    fn bound_mac(&self, d: &Dev) -> Option<MacAddr> {
        let mut best: Option<(u8, u32, MacAddr)> = None;
        for e in &d.macs {
            let router = self.is_router_mac(e.mac);
            let multi = self.macs.get(&e.mac).is_some_and(|m| m.ips.len() >= 2);
            let rank = if e.arp > 0 {
                3
            } else if e.local_ttl > 0 && (!router || e.routed_ttl == 0) {
                2
            } else if e.local_ttl == 0
                && e.routed_ttl == 0
                && e.as_destination > 0
                && !multi
                && !router
            {
                1
            } else {
                0
            };
            if rank == 0 {
                continue;
            }
            let weight = e.arp + e.local_ttl + e.as_destination;
            if best.is_none_or(|(r, w, _)| (rank, weight) > (r, w)) {
                best = Some((rank, weight, e.mac));
            }
        }
        best.map(|(_, _, m)| m)
    }

    fn infer_type(&self, d: &Dev, mac: Option<MacAddr>) -> (DeviceType, String) {
        let unanswered = d.syn_sent > 0 && d.accepted.saturating_mul(2) < d.syn_sent;
        if unanswered && d.syn_ports.len() >= SCANNER_MIN_PORTS {
            return (
                DeviceType::Scanner,
                format!("probed {}+ ports, mostly unanswered", d.syn_ports.len()),
            );
        }
        if unanswered && d.syn_hosts.len() >= SCANNER_MIN_HOSTS {
            return (
                DeviceType::Scanner,
                format!("probed {}+ hosts, mostly unanswered", d.syn_hosts.len()),
            );
        }
        if d.arp_targets.len() >= SCANNER_MIN_ARP_TARGETS {
            return (DeviceType::Scanner, format!("ARP-probed {}+ addresses", d.arp_targets.len()));
        }
        if d.engineering > 0 {
            return (
                DeviceType::EngineeringStation,
                "programmed, started/stopped, reset or updated a controller".into(),
            );
        }
        let served_ot = d.served & OT_BITS;
        let serves = |p: Protocol| d.served & bit(p) != 0;
        if served_ot != 0 {
            let list = names_of(served_ot).join(", ");
            let ty = if serves(Protocol::Dnp3) || serves(Protocol::Iec104) {
                DeviceType::Rtu
            } else if serves(Protocol::Bacnet)
                && !(serves(Protocol::Modbus) || serves(Protocol::S7comm) || serves(Protocol::Enip))
            {
                DeviceType::Controller
            } else {
                DeviceType::Plc
            };
            return (ty, format!("serves {list}"));
        }
        let client_ot = d.client_of & OT_BITS;
        if client_ot != 0 {
            let n = d.servers_polled.len();
            let list = names_of(client_ot).join(", ");
            if n >= MANY_SERVERS && d.ot_writes == 0 {
                return (
                    DeviceType::Historian,
                    format!("reads {list} from {n} servers, never writes"),
                );
            }
            if n >= MANY_SERVERS {
                return (DeviceType::ScadaServer, format!("polls {n} {list} servers"));
            }
            return (DeviceType::Hmi, format!("polls {n} {list} server(s)"));
        }
        let router = mac.is_some_and(|m| self.is_router_mac(m))
            || d.mac_only.is_some_and(|m| self.is_router_mac(m));
        if router {
            return (DeviceType::NetworkDevice, "routes traffic for other addresses".into());
        }
        if let Some(m) = d.mac_only
            && self.macs.get(&m).is_some_and(|i| i.management_frames > 0 && i.ips.is_empty())
        {
            return (
                DeviceType::NetworkDevice,
                "sends only link management frames (LLDP/STP/CDP)".into(),
            );
        }
        let it_served = d.served & !OT_BITS;
        let mut served: Vec<&str> = names_of(it_served & !bit(Protocol::Dhcp));
        served.extend(d.port_served.iter().copied().filter(|p| !is_ot_name(p) && *p != "DHCP"));
        served.sort_unstable();
        served.dedup();
        if !served.is_empty() || (d.tcp_server && d.clients.len() >= 2) {
            let what = if served.is_empty() { "TCP services".into() } else { served.join(", ") };
            return (DeviceType::Server, format!("serves {what}"));
        }
        let mut used: Vec<&str> = names_of(d.client_of);
        used.extend(d.port_used.iter().copied().filter(|p| !is_ot_name(p)));
        used.sort_unstable();
        used.dedup();
        if !used.is_empty() {
            return (DeviceType::Workstation, format!("client of {}", used.join(", ")));
        }
        (DeviceType::Unknown, String::new())
    }

    /// What changed since the last flush. With `final_flush`, devices not yet
    /// settled are written too (end of input).
    pub fn flush(&mut self, final_flush: bool) -> Batch {
        let mut batch = Batch::default();
        let now = self.now_ns;
        for i in 0..self.devices.len() {
            let (dirty, first, settled_identity) = {
                let d = &self.devices[i];
                (d.dirty, d.first_ns, d.identity)
            };
            if !dirty {
                continue;
            }
            if settled_identity.is_none() && !final_flush && now.saturating_sub(first) < SETTLE_NS {
                continue;
            }
            let d = &self.devices[i];
            let mac = match (settled_identity, d.ip, d.mac_only) {
                (Some(m), _, _) => m,
                (None, Some(_), _) => self.bound_mac(d),
                (None, None, m) => m,
            };
            // A MAC-only device whose MAC later got an IP is that IP's device.
            if d.ip.is_none()
                && settled_identity.is_none()
                && self.macs.get(&d.mac_only.unwrap_or_default()).is_some_and(|m| !m.ips.is_empty())
            {
                self.devices[i].dirty = false;
                continue;
            }
            if let Some(ip) = d.ip
                && mac.is_none()
                && !d.local_ttl_seen
                && !self.keep_ip(ip)
            {
                // Only ever seen through a router, outside the local ranges: not inventory.
                self.devices[i].dirty = false;
                continue;
            }
            let (ty, reason) = self.infer_type(d, mac);
            let oui_vendor = mac.and_then(oui::vendor);
            let mut details = d.details.clone();
            if !reason.is_empty() {
                details.insert("type_reason".into(), reason);
            }
            let served = names_of(d.served);
            if !served.is_empty() {
                details.insert("serves".into(), served.join(", "));
            }
            if let (Some(_), Some(reported)) = (oui_vendor, &d.vendor) {
                details.insert("reported_vendor".into(), reported.clone());
            }
            let mut protocols: Vec<String> =
                names_of(d.served | d.client_of).into_iter().map(String::from).collect();
            protocols.extend(d.port_served.iter().chain(&d.port_used).map(|p| p.to_string()));
            let profinet = mac
                .or(d.mac_only)
                .and_then(|m| self.macs.get(&m))
                .is_some_and(|i| i.profinet_frames > 0);
            if profinet {
                protocols.push("PROFINET".into());
            }
            protocols.sort();
            protocols.dedup();
            let is_ot = ty.is_ot() || (d.served | d.client_of) & OT_BITS != 0 || profinet;
            let obs = DeviceObservation {
                ip: d.ip.map(|ip| ip.to_string()),
                mac: mac.map(|m| m.to_string()),
                name: d.name.clone(),
                vendor: oui_vendor.map(str::to_string).or_else(|| d.vendor.clone()),
                model: d.model.clone(),
                firmware: d.firmware.clone(),
                serial: d.serial.clone(),
                device_type: Some(ty),
                is_ot: is_ot.then_some(true),
                protocols,
                vlan: d.vlan,
                sensor: self.placement.sensor.clone(),
                site: self.placement.site.clone(),
                zone: self.placement.zone.clone(),
                seen: timestamp(d.first_ns),
                authorized: None,
                details,
            };
            let first_write = settled_identity.is_none();
            let mut last = obs.clone();
            last.seen = timestamp(d.last_ns);
            batch.devices.push(obs);
            batch.device_handles.push(i);
            // Two observations: first and last seen (the store keeps min and max).
            batch.devices.push(last);
            batch.device_handles.push(i);
            if first_write {
                self.stats.devices += 1;
                let label =
                    d.ip.map(|ip| ip.to_string())
                        .or_else(|| mac.map(|m| m.to_string()))
                        .unwrap_or_default();
                let mut e = NewEvent::new(
                    timestamp(d.first_ns),
                    "DEVICE_CREATE",
                    EventSeverity::Info,
                    "Device Detected",
                );
                e.key = Some(format!(
                    "device:{}|{}|{}",
                    self.placement.zone.as_deref().unwrap_or(""),
                    d.ip.map(|i| i.to_string()).unwrap_or_default(),
                    mac.map(|m| m.to_string()).unwrap_or_default()
                ));
                e.description = format!("New device {label} ({ty}).");
                e.src_ip = d.ip.map(|i| i.to_string());
                self.stamp(&mut e);
                batch.events.push((e, Some(i)));
            }
            let dm = &mut self.devices[i];
            dm.identity = Some(mac);
            dm.dirty = false;
        }
        // Connections with new counts.
        let zone = self.placement.zone.clone().unwrap_or_default();
        for ci in 0..self.conns.len() {
            if self.conns[ci].packets == 0 {
                continue;
            }
            let (client, server) = (self.conns[ci].client, self.conns[ci].server);
            let src_mac = self.endpoint_mac(client);
            let dst_mac = self.endpoint_mac(server);
            let c = &mut self.conns[ci];
            let protocol = match c.emitted_protocol {
                Some(p) => p,
                None => {
                    c.emitted_protocol = Some(c.protocol);
                    c.protocol
                }
            };
            let show = |e: Endpoint| match e {
                Endpoint::Ip(ip) => ip.to_string(),
                Endpoint::Mac(m) => m.to_string(),
            };
            let obs = ConnectionObservation {
                src: show(client),
                dst: show(server),
                src_mac: src_mac.map(|m| m.to_string()),
                dst_mac: dst_mac.map(|m| m.to_string()),
                transport: c.transport.to_string(),
                dst_port: c.port,
                protocol: protocol.map(str::to_string),
                packets: c.packets,
                bytes: c.bytes,
                first_seen: timestamp(c.first),
                last_seen: timestamp(c.last),
                sensor: self.placement.sensor.clone(),
                site: self.placement.site.clone(),
                zone: self.placement.zone.clone(),
            };
            let new = !c.written;
            c.written = true;
            c.packets = 0;
            c.bytes = 0;
            if new {
                self.stats.connections += 1;
                let mut e = NewEvent::new(
                    obs.first_seen,
                    "DEVICE_CONNECTION_CREATED",
                    EventSeverity::Info,
                    "Device Connection Detected",
                );
                e.key = Some(format!(
                    "connection:{zone}|{}|{}|{}|{}|{}",
                    obs.src,
                    obs.dst,
                    obs.transport,
                    obs.dst_port.map(|p| p.to_string()).unwrap_or_default(),
                    obs.protocol.clone().unwrap_or_default()
                ));
                e.description = format!(
                    "{} connected to {} ({}{}{}).",
                    obs.src,
                    obs.dst,
                    obs.protocol.clone().unwrap_or_else(|| obs.transport.clone()),
                    if obs.dst_port.is_some() { " port " } else { "" },
                    obs.dst_port.map(|p| p.to_string()).unwrap_or_default()
                );
                e.src_ip = Some(obs.src.clone());
                e.dst_ip = Some(obs.dst.clone());
                e.protocol = obs.protocol.clone();
                self.stamp(&mut e);
                let dev = match client {
                    Endpoint::Ip(ip) => self.by_ip.get(&ip).copied(),
                    Endpoint::Mac(m) => self.by_mac.get(&m).copied(),
                };
                batch.events.push((e, dev));
            }
            batch.connections.push(obs);
        }
        batch.events.append(&mut self.pending_events);
        batch
    }

    fn endpoint_mac(&self, e: Endpoint) -> Option<MacAddr> {
        match e {
            Endpoint::Mac(m) => Some(m),
            Endpoint::Ip(ip) => {
                let d = self.devices.get(*self.by_ip.get(&ip)?)?;
                d.identity.flatten()
            }
        }
    }

    /// Records the store ids of the devices of a batch (from `upsert_devices`).
    pub fn set_device_ids(&mut self, handles: &[usize], ids: &[i64]) {
        for (h, id) in handles.iter().zip(ids) {
            if let Some(d) = self.devices.get_mut(*h) {
                d.store_id = Some(*id);
            }
        }
    }

    /// The events of a batch with their device ids filled in.
    pub fn resolve_events(&self, events: Vec<(NewEvent, Option<usize>)>) -> Vec<NewEvent> {
        events
            .into_iter()
            .map(|(mut e, h)| {
                e.device_id = h.and_then(|h| self.devices.get(h)).and_then(|d| d.store_id);
                e
            })
            .collect()
    }
}

fn timestamp(ns: u64) -> Timestamp {
    Timestamp(i64::try_from(ns / 1_000).unwrap_or(i64::MAX))
}
