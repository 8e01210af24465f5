//! Observations: what the sensor saw, in the words detection needs, with no dissector types.
//!
//! The sensor's observe layer (`otwatch-sensor/src/observe/`) turns decoded
//! traffic into [`Observation`]s; the inventory and the detection engines
//! read them. An observation is plain data: when (packet time and frame
//! number, for PCAP evidence), between whom (MAC, IP and port on each
//! side, VLAN, transport, flow), and what ([`Kind`]). Protocol messages are
//! described in a protocol-neutral form ([`AppMessage`]: protocol,
//! function code and name, operation category, object, unit, address
//! range, result), so an engine rule such as "a PLC was stopped" reads the
//! same for S7, CIP, Modbus/UMAS, DNP3 and BACnet.
//!
//! Names that come from the dissectors (function names, anomaly names) are
//! `&'static str`, and short texts are kept inline ([`ShortText`]), so the
//! observations of ordinary traffic are built without allocating; only rare
//! kinds (identities, DNS, HTTP, DHCP, sign-ins) own `String`s.
//!
//! Compatibility: the engines are written against this module. Fields and
//! variants are only ever added (the enums are `#[non_exhaustive]`), never
//! renamed or removed. `OBSERVATIONS.md` beside `src/` explains each kind
//! and the catalogue alert types it feeds.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr};

use otwatch_model::Timestamp;

/// One thing the sensor saw.
#[derive(Clone, Debug, PartialEq)]
pub struct Observation {
    /// Packet time of the frame it was seen in.
    pub time: Timestamp,
    /// Frame number, 1-based over the whole (merged) input: where the PCAP
    /// evidence is. For a message spread over several TCP segments, the
    /// frame in which it completed.
    pub frame: u64,
    /// Flow id (TCP and UDP), unique for the sensor's run; `None` for
    /// traffic outside a TCP/UDP flow (ARP, ICMP, non-IP frames).
    pub flow: Option<u64>,
    /// Sender.
    pub src: Address,
    /// Receiver.
    pub dst: Address,
    /// Transport.
    pub transport: Transport,
    /// Direction relative to the flow's server (the side that answered the
    /// handshake, else the well-known port, else the lower port); `None`
    /// outside flows.
    pub direction: Option<Direction>,
    /// Outermost VLAN id, if the frame was tagged.
    pub vlan: Option<u16>,
    /// What was seen.
    pub kind: Kind,
}

impl Observation {
    /// The protocol of an application-level kind (message, malformed
    /// message, identity, sign-in…), if it has one.
    pub fn protocol(&self) -> Option<Protocol> {
        match &self.kind {
            Kind::App(m) => Some(m.protocol),
            Kind::Malformed(m) => Some(m.protocol),
            Kind::Identity(i) => Some(i.protocol),
            Kind::Login(l) => Some(l.protocol),
            Kind::Dns(_) => Some(Protocol::Dns),
            Kind::Http(_) | Kind::HttpResponse(_) => Some(Protocol::Http),
            Kind::Dhcp(_) => Some(Protocol::Dhcp),
            _ => None,
        }
    }
}

/// An EUI-48 (MAC) address.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct MacAddr(pub [u8; 6]);

impl MacAddr {
    /// ff:ff:ff:ff:ff:ff.
    pub const BROADCAST: MacAddr = MacAddr([0xff; 6]);

    /// Whether the group bit is set (multicast or broadcast).
    pub fn is_group(self) -> bool {
        self.0[0] & 1 == 1
    }

    /// Whether this is the broadcast address.
    pub fn is_broadcast(self) -> bool {
        self == MacAddr::BROADCAST
    }

    /// Whether the address is locally administered (not from a vendor's OUI).
    pub fn is_local(self) -> bool {
        self.0[0] & 2 == 2
    }

    /// The IEEE OUI (first three bytes) as a number.
    pub fn oui(self) -> u32 {
        u32::from_be_bytes([0, self.0[0], self.0[1], self.0[2]])
    }
}

impl fmt::Display for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d, e, g] = self.0;
        write!(f, "{a:02x}:{b:02x}:{c:02x}:{d:02x}:{e:02x}:{g:02x}")
    }
}

impl fmt::Debug for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// One side of an observation: what is known of its addresses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Address {
    /// Link address (Ethernet or Linux SLL sender). For IP traffic through
    /// a router this is the router's MAC, not the far host's.
    pub mac: Option<MacAddr>,
    /// IP address.
    pub ip: Option<IpAddr>,
    /// TCP or UDP port.
    pub port: Option<u16>,
}

/// The transport an observation travelled on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Transport {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
    /// ICMP or ICMPv6.
    Icmp,
    /// Another IP protocol (the protocol number).
    OtherIp(u8),
    /// No IP: a link-layer frame (ARP, LLC, PROFINET, LLDP…; see [`Kind::Link`]).
    Link,
}

impl Transport {
    /// `tcp`, `udp`, `icmp`, `ip-<n>` or `link`.
    pub fn name(self) -> &'static str {
        match self {
            Transport::Tcp => "tcp",
            Transport::Udp => "udp",
            Transport::Icmp => "icmp",
            Transport::OtherIp(_) => "ip",
            Transport::Link => "link",
        }
    }
}

/// Which way a message travels relative to its flow's server.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Client to server.
    ToServer,
    /// Server to client.
    ToClient,
}

/// Up to [`ShortText::CAPACITY`] bytes of UTF-8 text kept inline (no
/// allocation); longer text is cut at a character boundary and marked.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ShortText {
    bytes: [u8; ShortText::CAPACITY],
    len: u8,
    cut: bool,
}

impl ShortText {
    /// Bytes kept at most.
    pub const CAPACITY: usize = 48;

    /// The text, cut to [`ShortText::CAPACITY`] bytes.
    pub fn new(text: &str) -> ShortText {
        let mut end = text.len().min(ShortText::CAPACITY);
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        let mut bytes = [0u8; ShortText::CAPACITY];
        bytes[..end].copy_from_slice(&text.as_bytes()[..end]);
        ShortText { bytes, len: end as u8, cut: end < text.len() }
    }

    /// Text from bytes: invalid UTF-8 is replaced by `?` per byte, control
    /// characters by spaces.
    pub fn lossy(raw: &[u8]) -> ShortText {
        let mut bytes = [0u8; ShortText::CAPACITY];
        let mut len = 0usize;
        let mut cut = false;
        for chunk in raw.utf8_chunks() {
            for c in chunk.valid().chars().map(|c| if c.is_control() { ' ' } else { c }) {
                let n = c.len_utf8();
                if len + n > ShortText::CAPACITY {
                    cut = true;
                    break;
                }
                c.encode_utf8(&mut bytes[len..len + n]);
                len += n;
            }
            for _ in chunk.invalid() {
                if cut || len >= ShortText::CAPACITY {
                    cut = true;
                    break;
                }
                bytes[len] = b'?';
                len += 1;
            }
            if cut {
                break;
            }
        }
        ShortText { bytes, len: len as u8, cut }
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.bytes[..usize::from(self.len)]).unwrap_or("")
    }

    /// Whether the original text was longer and was cut.
    pub fn was_cut(&self) -> bool {
        self.cut
    }
}

impl fmt::Display for ShortText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())?;
        if self.cut { f.write_str("…") } else { Ok(()) }
    }
}

impl fmt::Debug for ShortText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

/// A short list kept inline: at most `N` items, then only counted.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Inline<T: Copy + Default, const N: usize> {
    items: [T; N],
    len: u8,
    dropped: u16,
}

impl<T: Copy + Default, const N: usize> Default for Inline<T, N> {
    fn default() -> Self {
        Inline { items: [T::default(); N], len: 0, dropped: 0 }
    }
}

impl<T: Copy + Default, const N: usize> Inline<T, N> {
    /// Adds an item, or counts it as dropped when full.
    pub fn push(&mut self, item: T) {
        if usize::from(self.len) < N {
            self.items[usize::from(self.len)] = item;
            self.len += 1;
        } else {
            self.dropped = self.dropped.saturating_add(1);
        }
    }

    /// The items kept.
    pub fn as_slice(&self) -> &[T] {
        &self.items[..usize::from(self.len)]
    }

    /// Whether nothing was pushed.
    pub fn is_empty(&self) -> bool {
        self.len == 0 && self.dropped == 0
    }

    /// Items pushed after the list was full (not kept).
    pub fn dropped(&self) -> u16 {
        self.dropped
    }

    /// Whether `item` is kept.
    pub fn contains(&self, item: &T) -> bool
    where
        T: PartialEq,
    {
        self.as_slice().contains(item)
    }
}

impl<T: Copy + Default + fmt::Debug, const N: usize> fmt::Debug for Inline<T, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut l = f.debug_list();
        l.entries(self.as_slice());
        if self.dropped > 0 {
            l.entry(&format_args!("+{} more", self.dropped));
        }
        l.finish()
    }
}

/// Stable anomaly names (`modbus.invalid_length`, `dnp3.bad_crc`…), as the
/// dissectors declare them; at most 6 per message (more are counted).
pub type AnomalyNames = Inline<&'static str, 6>;

/// What was seen.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Kind {
    /// Every IP packet (one per packet, before anything else about it).
    Packet(Packet),
    /// A TCP segment with SYN, SYN-ACK, RST or FIN (also reported as a [`Kind::Packet`]).
    Tcp(TcpSignal),
    /// ICMP or ICMPv6 (also reported as a [`Kind::Packet`]).
    Icmp(Icmp),
    /// ARP.
    Arp(Arp),
    /// A frame without IP other than ARP (LLDP, STP, PROFINET, BACnet/Ethernet…).
    Link(LinkFrame),
    /// An application request, response or unsolicited message, protocol-neutral.
    App(AppMessage),
    /// A message that is malformed: decoded with anomaly flags, or not decodable at all.
    Malformed(Malformed),
    /// What a device said about itself in an identification reply; it
    /// describes the observation's `src`.
    Identity(Identity),
    /// A sign-in attempt or its result (FTP, Telnet, HTTP basic).
    Login(Login),
    /// A DNS query or answer.
    Dns(Dns),
    /// An HTTP request.
    Http(HttpRequest),
    /// An HTTP response status line.
    HttpResponse(HttpResponse),
    /// A DHCP (or BOOTP) message.
    Dhcp(Dhcp),
    /// A known byte pattern in a cleartext TCP or UDP payload.
    PayloadMatch(PayloadMatch),
}

/// Facts of one IP packet.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Packet {
    /// IP protocol number (6 TCP, 17 UDP, 1 ICMP, 58 ICMPv6…).
    pub ip_protocol: u8,
    /// Bytes on the wire (the frame's original length).
    pub wire_len: u32,
    /// Transport payload bytes captured (0 for bare TCP control segments).
    pub payload_len: u32,
    /// IP time to live / hop limit as received.
    pub ttl: u8,
    /// TCP flags, if TCP.
    pub tcp_flags: Option<u8>,
    /// This packet created its flow (the first packet of the conversation
    /// the sensor saw, in either direction).
    pub new_flow: bool,
    /// The IP layer or transport header was malformed (see the wire anomalies
    /// reported as [`Kind::Malformed`] with protocol [`Protocol::Ip`]).
    pub malformed: bool,
}

/// What a TCP control segment means.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TcpSignal {
    /// SYN without ACK: a connection attempt from `src` to `dst`.
    Attempt,
    /// SYN with ACK: `src` accepted a connection from `dst`.
    Accept,
    /// RST: `src` refused or aborted.
    Reset,
    /// FIN: `src` closed its side.
    Close,
}

/// An ICMP message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Icmp {
    /// IPv6 (ICMPv6) rather than ICMP for IPv4.
    pub v6: bool,
    /// Type.
    pub icmp_type: u8,
    /// Code.
    pub code: u8,
}

impl Icmp {
    /// Echo request (ping).
    pub fn is_echo_request(self) -> bool {
        if self.v6 { self.icmp_type == 128 } else { self.icmp_type == 8 }
    }

    /// Echo reply (the answer to a ping).
    pub fn is_echo_reply(self) -> bool {
        if self.v6 { self.icmp_type == 129 } else { self.icmp_type == 0 }
    }

    /// Destination unreachable.
    pub fn is_unreachable(self) -> bool {
        if self.v6 { self.icmp_type == 1 } else { self.icmp_type == 3 }
    }
}

/// An ARP packet (IPv4 over Ethernet).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Arp {
    /// Operation: 1 request, 2 reply.
    pub operation: u16,
    /// Sender hardware address.
    pub sender_mac: MacAddr,
    /// Sender protocol address.
    pub sender_ip: Ipv4Addr,
    /// Target hardware address.
    pub target_mac: MacAddr,
    /// Target protocol address.
    pub target_ip: Ipv4Addr,
}

impl Arp {
    /// A request.
    pub fn is_request(self) -> bool {
        self.operation == 1
    }

    /// A reply.
    pub fn is_reply(self) -> bool {
        self.operation == 2
    }

    /// A gratuitous announcement (sender and target IP are the same).
    pub fn is_gratuitous(self) -> bool {
        self.sender_ip == self.target_ip
    }
}

/// A frame without IP.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LinkFrame {
    /// The EtherType, if the frame has one (none for 802.3/LLC frames).
    pub ether_type: Option<u16>,
    /// The LLC destination SAP for 802.3 frames (0x82 BACnet, 0x42 STP).
    pub llc_dsap: Option<u8>,
    /// What it is: `lldp`, `stp`, `cdp`, `profinet`, `bacnet`, `goose`,
    /// `llc`, `ethertype-0x88b5`…
    pub name: &'static str,
    /// Bytes on the wire.
    pub wire_len: u32,
}

/// An application protocol.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Protocol {
    /// Modbus/TCP (and Modbus/UDP).
    Modbus,
    /// DNP3 over TCP or UDP.
    Dnp3,
    /// Siemens S7comm (S7-300/400).
    S7comm,
    /// Siemens S7comm-plus (S7-1200/1500), recognised but not decoded.
    S7commPlus,
    /// EtherNet/IP encapsulation.
    Enip,
    /// CIP carried by EtherNet/IP.
    Cip,
    /// BACnet (over IP, Ethernet or MS/TP).
    Bacnet,
    /// IEC 60870-5-104.
    Iec104,
    /// DHCP / BOOTP.
    Dhcp,
    /// DNS.
    Dns,
    /// HTTP.
    Http,
    /// FTP.
    Ftp,
    /// Telnet.
    Telnet,
    /// The IP/TCP/UDP layers themselves (wire anomalies).
    #[default]
    Ip,
}

impl Protocol {
    /// Display name, as used in alerts and the inventory: `Modbus`, `DNP3`,
    /// `S7comm`, `S7comm-plus`, `EtherNet/IP`, `CIP`, `BACnet`, `IEC-104`,
    /// `DHCP`, `DNS`, `HTTP`, `FTP`, `Telnet`, `IP`.
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Modbus => "Modbus",
            Protocol::Dnp3 => "DNP3",
            Protocol::S7comm => "S7comm",
            Protocol::S7commPlus => "S7comm-plus",
            Protocol::Enip => "EtherNet/IP",
            Protocol::Cip => "CIP",
            Protocol::Bacnet => "BACnet",
            Protocol::Iec104 => "IEC-104",
            Protocol::Dhcp => "DHCP",
            Protocol::Dns => "DNS",
            Protocol::Http => "HTTP",
            Protocol::Ftp => "FTP",
            Protocol::Telnet => "Telnet",
            Protocol::Ip => "IP",
        }
    }

    /// Whether it is an industrial (OT) protocol.
    pub fn is_ot(self) -> bool {
        matches!(
            self,
            Protocol::Modbus
                | Protocol::Dnp3
                | Protocol::S7comm
                | Protocol::S7commPlus
                | Protocol::Enip
                | Protocol::Cip
                | Protocol::Bacnet
                | Protocol::Iec104
        )
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Whether a message asks, answers or reports on its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// A request (master / client / primary to outstation / server).
    Request,
    /// A response to a request.
    Response,
    /// A message nobody asked for: DNP3 unsolicited responses, IEC-104
    /// spontaneous data, BACnet unconfirmed services (I-Am, Who-Is…).
    Unsolicited,
}

/// What a message does, coarsely, across protocols.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Operation {
    /// Reads process data (registers, tags, points, properties).
    Read,
    /// Writes process data.
    Write,
    /// Operates an output (select/operate, direct operate, IEC-104 commands, set points).
    Command,
    /// Writes a program or logic block to the controller.
    ProgramDownload,
    /// Reads a program or logic block from the controller.
    ProgramUpload,
    /// Updates firmware.
    FirmwareUpdate,
    /// Stops the controller or its application.
    Stop,
    /// Starts (runs) the controller or its application.
    Start,
    /// Cold restart / full reset.
    ColdRestart,
    /// Warm restart.
    WarmRestart,
    /// Reads configuration (or the controller's system data).
    ConfigRead,
    /// Writes configuration (settings, time, communication parameters, attributes).
    ConfigWrite,
    /// Diagnostics and counters.
    Diagnostics,
    /// Asks a device to identify itself (or the identification reply).
    Identify,
    /// Session and connection management (register session, setup
    /// communication, reservations, STARTDT, Forward Open…).
    Session,
    /// File operations (open, read, write, delete, directory).
    File,
    /// Time synchronisation.
    TimeSync,
    /// A confirmation or acknowledgement with no other meaning.
    Acknowledge,
    /// An exception or error response (see [`AppMessage::status`]).
    Error,
    /// Anything else.
    Other,
}

impl Operation {
    /// Stable snake_case name.
    pub fn name(self) -> &'static str {
        match self {
            Operation::Read => "read",
            Operation::Write => "write",
            Operation::Command => "command",
            Operation::ProgramDownload => "program_download",
            Operation::ProgramUpload => "program_upload",
            Operation::FirmwareUpdate => "firmware_update",
            Operation::Stop => "stop",
            Operation::Start => "start",
            Operation::ColdRestart => "cold_restart",
            Operation::WarmRestart => "warm_restart",
            Operation::ConfigRead => "config_read",
            Operation::ConfigWrite => "config_write",
            Operation::Diagnostics => "diagnostics",
            Operation::Identify => "identify",
            Operation::Session => "session",
            Operation::File => "file",
            Operation::TimeSync => "time_sync",
            Operation::Acknowledge => "acknowledge",
            Operation::Error => "error",
            Operation::Other => "other",
        }
    }

    /// Whether it changes how the controller runs or what it runs
    /// (program, firmware, run state, configuration): the operations worth
    /// a timeline entry and, by a device not allowed to program, an alert.
    pub fn is_engineering(self) -> bool {
        matches!(
            self,
            Operation::ProgramDownload
                | Operation::ProgramUpload
                | Operation::FirmwareUpdate
                | Operation::Stop
                | Operation::Start
                | Operation::ColdRestart
                | Operation::WarmRestart
                | Operation::ConfigWrite
        )
    }
}

/// An object addressed by a message: a CIP class/instance/attribute, a
/// BACnet object type/instance (and property as attribute), an S7 memory
/// area/DB number or block type/number, a DNP3 object group/variation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Object {
    /// Class, object type, memory area, block type or DNP3 group.
    pub class: u32,
    /// Instance, DB or block number, or DNP3 variation.
    pub instance: Option<u32>,
    /// Attribute or property.
    pub attribute: Option<u32>,
}

/// A range of addresses read or written: Modbus coils/registers, S7 byte
/// offsets, DNP3 point indexes, IEC-104 information object addresses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AddressRange {
    /// The address space: `coils`, `discrete_inputs`, `holding_registers`,
    /// `input_registers`, `file`, `s7_db`, `s7_area`, `dnp3_points`, `ioa`.
    pub space: &'static str,
    /// First address.
    pub start: u32,
    /// How many items.
    pub count: u32,
}

/// Outcome of a response.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Status {
    /// Success.
    Ok,
    /// An error or exception; see [`AppMessage::error_code`] and [`AppMessage::error_name`].
    Error,
}

/// One application message in a protocol-neutral form.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AppMessage {
    /// Protocol.
    pub protocol: Protocol,
    /// Request, response or unsolicited.
    pub role: Role,
    /// The function, command, service or type id as sent (Modbus FC with
    /// the exception bit, DNP3 application FC, S7 function, CIP service,
    /// BACnet service choice, IEC-104 ASDU type id; for ENIP encapsulation
    /// commands the command code).
    pub function: u32,
    /// Its name, when the protocol defines one ("Read Holding Registers",
    /// "Cold Restart", "PLC Stop", "Set Attribute List", "C_SC_NA_1").
    pub function_name: Option<&'static str>,
    /// A sub-function or vendor command inside the function (Modbus
    /// Diagnostics sub-function or UMAS code, S7 userdata sub-function,
    /// BACnet confirmed/unconfirmed flag as 0/1 is not used here).
    pub sub_function: Option<u32>,
    /// What it does.
    pub operation: Operation,
    /// The object addressed.
    pub object: Option<Object>,
    /// Further objects (DNP3 object headers, S7 items, BACnet
    /// ReadPropertyMultiple), when a message addresses several.
    pub more_objects: Inline<Object, 4>,
    /// A symbolic name addressed or carried: CIP tag name, S7 block name or
    /// PI service ("P_PROGRAM"), BACnet object name.
    pub symbol: Option<ShortText>,
    /// The unit or station addressed: Modbus unit id, DNP3 destination
    /// address, IEC-104 common address, BACnet device instance when known.
    pub unit: Option<u32>,
    /// The sending station's own protocol address (DNP3 source address).
    pub source_unit: Option<u32>,
    /// Address ranges read or written.
    pub ranges: Inline<AddressRange, 3>,
    /// Outcome (responses; `None` when the protocol does not say).
    pub status: Option<Status>,
    /// Exception, error or status code (Modbus exception code, CIP general
    /// status, S7 error class/code, BACnet error/reject/abort reason,
    /// ENIP encapsulation status).
    pub error_code: Option<u32>,
    /// Its name.
    pub error_name: Option<&'static str>,
    /// IEC-104 cause of transmission (6 bits), and whether it was negative (P/N).
    pub cot: Option<u8>,
    /// IEC-104 negative confirmation bit.
    pub negative: bool,
    /// IEC-104 common address of the ASDU.
    pub common_address: Option<u16>,
    /// DNP3 internal indications (IIN1 in the high byte, IIN2 in the low byte).
    pub iin: Option<u16>,
    /// Carried inside another message (a CIP service inside Multiple
    /// Service Packet or Unconnected Send).
    pub embedded: bool,
    /// Length of the application message in bytes.
    pub length: u32,
    /// Anomaly names of a message that decoded with flags (the same names
    /// are reported once more as a [`Kind::Malformed`]).
    pub anomalies: AnomalyNames,
}

impl AppMessage {
    /// A message with the given protocol, role and function, everything else empty.
    pub fn new(protocol: Protocol, role: Role, function: u32, operation: Operation) -> AppMessage {
        AppMessage {
            protocol,
            role,
            function,
            function_name: None,
            sub_function: None,
            operation,
            object: None,
            more_objects: Inline::default(),
            symbol: None,
            unit: None,
            source_unit: None,
            ranges: Inline::default(),
            status: None,
            error_code: None,
            error_name: None,
            cot: None,
            negative: false,
            common_address: None,
            iin: None,
            embedded: false,
            length: 0,
            anomalies: Inline::default(),
        }
    }

    /// Whether the response reports an error.
    pub fn is_error(&self) -> bool {
        self.status == Some(Status::Error)
    }
}

/// A malformed message.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Malformed {
    /// Protocol (or [`Protocol::Ip`] for wire-level anomalies).
    pub protocol: Protocol,
    /// The anomaly names; for bytes that could not be framed at all, a
    /// `<proto>.undecodable` name.
    pub anomalies: AnomalyNames,
    /// Function code, when the message decoded far enough to have one.
    pub function: Option<u32>,
    /// Request or response, when known.
    pub role: Option<Role>,
}

/// What a device reported about itself. Every field is optional; it
/// describes the observation's `src` (the replying device).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Identity {
    /// Protocol of the identification.
    pub protocol: Protocol,
    /// Vendor name (or the protocol's vendor id rendered as text when no name is known).
    pub vendor: Option<String>,
    /// Product or model.
    pub model: Option<String>,
    /// Firmware or revision.
    pub firmware: Option<String>,
    /// Serial number.
    pub serial: Option<String>,
    /// Device or station name.
    pub name: Option<String>,
    /// Other facts (`product_code`, `device_type`, `device_instance`,
    /// `module`, `plc_state`…), sorted by key.
    pub details: Vec<(&'static str, String)>,
}

/// Stage of a sign-in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LoginOutcome {
    /// Credentials were sent (or asked for); the result is not known yet.
    Attempt,
    /// The server accepted them.
    Success,
    /// The server refused them.
    Failure,
}

/// A sign-in seen in cleartext.
#[derive(Clone, Debug, PartialEq)]
pub struct Login {
    /// FTP, Telnet or HTTP (basic authentication).
    pub protocol: Protocol,
    /// Attempt, success or failure.
    pub outcome: LoginOutcome,
    /// User name, when it was seen.
    pub user: Option<String>,
    /// Whether a password crossed the wire in cleartext.
    pub cleartext_password: bool,
}

/// A DNS message.
#[derive(Clone, Debug, PartialEq)]
pub struct Dns {
    /// A response (else a query).
    pub response: bool,
    /// Transaction id.
    pub id: u16,
    /// The first question's name (lower case, no trailing dot).
    pub name: String,
    /// The first question's type (1 A, 28 AAAA, 12 PTR…).
    pub qtype: u16,
    /// Response code (responses).
    pub rcode: Option<u8>,
    /// Addresses in the answers (at most 8).
    pub answers: Vec<IpAddr>,
}

/// An HTTP request.
#[derive(Clone, Debug, PartialEq)]
pub struct HttpRequest {
    /// Method.
    pub method: ShortText,
    /// Host header.
    pub host: Option<String>,
    /// Request target (path and query).
    pub path: String,
    /// User-Agent header.
    pub user_agent: Option<String>,
    /// Bytes of the request line and headers.
    pub header_len: u32,
    /// Number of header fields.
    pub header_count: u32,
    /// SOAPAction header, if any.
    pub soap_action: Option<String>,
    /// Anomaly names of the request (`http.*`).
    pub anomalies: AnomalyNames,
}

/// An HTTP response status line.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// Bytes of the status line and headers.
    pub header_len: u32,
}

/// A DHCP or BOOTP message.
#[derive(Clone, Debug, PartialEq)]
pub struct Dhcp {
    /// DHCP message type (1 Discover, 2 Offer, 3 Request, 4 Decline, 5 Ack,
    /// 6 Nak, 7 Release, 8 Inform); `None` for plain BOOTP.
    pub message_type: Option<u8>,
    /// Client hardware address.
    pub client_mac: Option<MacAddr>,
    /// Host name option (12).
    pub host_name: Option<String>,
    /// Vendor class identifier option (60).
    pub vendor_class: Option<String>,
    /// Requested IP address option (50).
    pub requested_ip: Option<Ipv4Addr>,
    /// Address assigned by the server ("your" address).
    pub your_ip: Option<Ipv4Addr>,
    /// Client address ("client" address, when the client already has one).
    pub client_ip: Option<Ipv4Addr>,
}

/// Patterns the sensor looks for in cleartext payloads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Pattern {
    /// The EICAR anti-virus test string.
    Eicar,
}

/// A pattern found in a payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PayloadMatch {
    /// Which pattern.
    pub pattern: Pattern,
    /// Byte offset in the segment or datagram payload.
    pub offset: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_text_cuts_on_char_boundaries() {
        let t = ShortText::new("abc");
        assert_eq!(t.as_str(), "abc");
        assert!(!t.was_cut());
        let long = "é".repeat(40);
        let t = ShortText::new(&long);
        assert_eq!(t.as_str().len(), 48);
        assert!(t.was_cut());
        let t = ShortText::lossy(b"ab\xffc\n");
        assert_eq!(t.as_str(), "ab?c ");
    }

    #[test]
    fn inline_lists_count_what_they_drop() {
        let mut l: Inline<u8, 2> = Inline::default();
        assert!(l.is_empty());
        l.push(1);
        l.push(2);
        l.push(3);
        assert_eq!(l.as_slice(), &[1, 2]);
        assert_eq!(l.dropped(), 1);
        assert_eq!(format!("{l:?}"), "[1, 2, +1 more]");
    }

    #[test]
    fn macs() {
        let m = MacAddr([0x00, 0x1d, 0x9c, 1, 2, 3]);
        assert_eq!(m.to_string(), "00:1d:9c:01:02:03");
        assert_eq!(m.oui(), 0x001d9c);
        assert!(!m.is_group());
        assert!(MacAddr::BROADCAST.is_broadcast());
    }

    #[test]
    fn observation_size_stays_modest() {
        // Observations are buffered per packet; keep them cache-friendly.
        assert!(
            std::mem::size_of::<Observation>() <= 576,
            "{}",
            std::mem::size_of::<Observation>()
        );
    }
}
