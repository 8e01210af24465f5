//! L2–L4 decoding of one captured frame into a borrowed view.
//!
//! [`Decoder::decode`] takes a frame and its capture link type and returns a
//! [`Frame`] that borrows from the input: link addresses, VLAN ids, then one
//! of ARP, 802.2 LLC, BACnet MS/TP, IP (with TCP, UDP or ICMP) or an unknown
//! EtherType. The standard headers are decoded with the etherparse crate;
//! this crate adds the link types etherparse does not know (BSD loopback,
//! raw IP, MS/TP), 802.3/LLC, and bounded IPv4 reassembly ([`defrag`]).
//!
//! Decoding never fails and never panics: what cannot be decoded is left
//! out of the view and named in [`Frame::anomalies`]. The only state is the
//! fragment table, whose buffers are recycled, so decoding a frame does not
//! allocate. The crate knows nothing about flows or application protocols.

#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing,
        clippy::arithmetic_side_effects
    )
)]
#![deny(missing_docs)]

mod anomaly;
pub mod defrag;

use std::fmt;
use std::net::{IpAddr, Ipv4Addr};

use etherparse::{
    ArpPacketSlice, Ethernet2Slice, Icmpv4Slice, Icmpv6Slice, LaxIpSlice, LinuxSllSlice,
    SingleVlanSlice, TcpSlice, UdpSlice,
};

pub use anomaly::WireAnomalies;
use defrag::{Defragmenter, Fragment, FragmentKey};

/// VLAN tags decoded per frame (QinQ and a little more); more sets an anomaly.
pub const MAX_VLAN_TAGS: usize = 4;

/// A capture's link-layer header type (the LINKTYPE_* registry numbers).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct LinkType(pub u32);

impl LinkType {
    /// BSD loopback: a 4-byte address family in the capturing host's byte order.
    pub const NULL: LinkType = LinkType(0);
    /// Ethernet II / 802.3.
    pub const ETHERNET: LinkType = LinkType(1);
    /// Raw IP on some BSDs (historic number 12).
    pub const RAW_12: LinkType = LinkType(12);
    /// Raw IP on some BSDs (historic number 14).
    pub const RAW_14: LinkType = LinkType(14);
    /// Raw IPv4 or IPv6, no link header.
    pub const RAW: LinkType = LinkType(101);
    /// OpenBSD loopback: like NULL but the family is in network byte order.
    pub const LOOP: LinkType = LinkType(108);
    /// Linux cooked capture v1 (SLL).
    pub const LINUX_SLL: LinkType = LinkType(113);
    /// Linux cooked capture v2 (SLL2).
    pub const LINUX_SLL2: LinkType = LinkType(276);
    /// BACnet MS/TP frames, preamble included.
    pub const BACNET_MSTP: LinkType = LinkType(165);

    /// The LINKTYPE_ name, or `None` for a type this crate does not decode.
    pub fn name(self) -> Option<&'static str> {
        Some(match self {
            LinkType::NULL => "NULL",
            LinkType::ETHERNET => "ETHERNET",
            LinkType::RAW_12 | LinkType::RAW_14 | LinkType::RAW => "RAW",
            LinkType::LOOP => "LOOP",
            LinkType::LINUX_SLL => "LINUX_SLL",
            LinkType::LINUX_SLL2 => "LINUX_SLL2",
            LinkType::BACNET_MSTP => "BACNET_MS_TP",
            _ => return None,
        })
    }
}

impl fmt::Debug for LinkType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => write!(f, "{n}({})", self.0),
            None => write!(f, "LinkType({})", self.0),
        }
    }
}

/// An EUI-48 (MAC) address.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct MacAddr(pub [u8; 6]);

impl MacAddr {
    /// The broadcast address ff:ff:ff:ff:ff:ff.
    pub const BROADCAST: MacAddr = MacAddr([0xff; 6]);

    /// Whether the group (multicast/broadcast) bit is set.
    pub fn is_group(self) -> bool {
        self.0[0] & 1 == 1
    }

    /// The first three bytes, the IEEE OUI of a universally administered address.
    pub fn oui(self) -> [u8; 3] {
        [self.0[0], self.0[1], self.0[2]]
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

/// Link-layer addressing of a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Link {
    /// Ethernet (or 802.3) header.
    Ethernet {
        /// Source MAC.
        src: MacAddr,
        /// Destination MAC.
        dst: MacAddr,
    },
    /// Linux cooked capture; the sender's address when it is a 6-byte MAC.
    LinuxSll {
        /// Packet type (0 to us, 1 broadcast, 2 multicast, 3 to someone else, 4 sent by us).
        packet_type: u16,
        /// Sender MAC, when the hardware type is Ethernet-like with a 6-byte address.
        src: Option<MacAddr>,
    },
    /// BSD loopback (NULL or LOOP link type).
    Loopback {
        /// The address family as read (AF_INET = 2; AF_INET6 = 10, 24, 28 or 30).
        family: u32,
    },
    /// Raw IP, no link header.
    RawIp,
    /// BACnet MS/TP serial link.
    MsTp,
    /// A link type this crate does not decode; nothing else is decoded.
    Unsupported,
}

/// The VLAN tags of a frame, outermost first.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct VlanIds {
    ids: [u16; MAX_VLAN_TAGS],
    tpids: [u16; MAX_VLAN_TAGS],
    len: usize,
}

impl VlanIds {
    /// The ids, outermost first.
    pub fn as_slice(&self) -> &[u16] {
        self.ids.get(..self.len).unwrap_or(&[])
    }

    /// (tag protocol id, VLAN id) pairs, outermost first: TPID 0x8100 is an
    /// 802.1Q C-tag, 0x88a8 an 802.1ad S-tag, 0x9100 a pre-standard QinQ tag.
    pub fn tags(&self) -> impl Iterator<Item = (u16, u16)> + '_ {
        self.tpids.iter().copied().zip(self.ids.iter().copied()).take(self.len)
    }

    fn push(&mut self, tpid: u16, id: u16) -> bool {
        match (self.ids.get_mut(self.len), self.tpids.get_mut(self.len)) {
            (Some(slot), Some(t)) => {
                *slot = id;
                *t = tpid;
                self.len = self.len.saturating_add(1);
                true
            }
            _ => false,
        }
    }
}

/// An ARP packet for IPv4 over Ethernet (RFC 826).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Arp {
    /// Operation (1 request, 2 reply).
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

/// An IEEE 802.2 LLC PDU carried in an 802.3 (length-field) frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Llc<'a> {
    /// Destination service access point (0x82 is BACnet, 0x42 spanning tree, 0xAA SNAP).
    pub dsap: u8,
    /// Source service access point.
    pub ssap: u8,
    /// Control field (one byte for U-format, two for I/S-format).
    pub control: u16,
    /// What follows the LLC header.
    pub payload: &'a [u8],
}

/// How an IP payload relates to fragmentation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fragmentation {
    /// Not a fragment.
    None,
    /// A fragment; its datagram is not complete yet (or cannot be reassembled).
    Pending,
    /// This fragment completed a datagram; the payload is the reassembled one.
    Reassembled {
        /// How many fragments it took.
        fragments: usize,
    },
}

/// TCP flag bits.
#[derive(Clone, Copy, PartialEq, Eq, Default)]
pub struct TcpFlags(pub u8);

impl TcpFlags {
    /// FIN.
    pub const FIN: u8 = 0x01;
    /// SYN.
    pub const SYN: u8 = 0x02;
    /// RST.
    pub const RST: u8 = 0x04;
    /// PSH.
    pub const PSH: u8 = 0x08;
    /// ACK.
    pub const ACK: u8 = 0x10;
    /// URG.
    pub const URG: u8 = 0x20;

    /// Whether FIN is set.
    pub fn fin(self) -> bool {
        self.0 & Self::FIN != 0
    }
    /// Whether SYN is set.
    pub fn syn(self) -> bool {
        self.0 & Self::SYN != 0
    }
    /// Whether RST is set.
    pub fn rst(self) -> bool {
        self.0 & Self::RST != 0
    }
    /// Whether ACK is set.
    pub fn ack(self) -> bool {
        self.0 & Self::ACK != 0
    }
}

impl fmt::Debug for TcpFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names = ["FIN", "SYN", "RST", "PSH", "ACK", "URG"];
        let mut first = true;
        for (i, n) in names.iter().enumerate() {
            if self.0 & (1u8 << i) != 0 {
                if !first {
                    f.write_str("|")?;
                }
                f.write_str(n)?;
                first = false;
            }
        }
        if first {
            f.write_str("-")?;
        }
        Ok(())
    }
}

/// A TCP segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tcp<'a> {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Sequence number.
    pub seq: u32,
    /// Acknowledgement number (meaningful when ACK is set).
    pub ack: u32,
    /// Flags.
    pub flags: TcpFlags,
    /// Receive window.
    pub window: u16,
    /// Segment payload (what was captured of it).
    pub payload: &'a [u8],
}

/// A UDP datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Udp<'a> {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Payload (what was captured of it, cut at the UDP length).
    pub payload: &'a [u8],
}

/// The layer above IP.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport<'a> {
    /// TCP.
    Tcp(Tcp<'a>),
    /// UDP.
    Udp(Udp<'a>),
    /// ICMP for IPv4.
    Icmpv4 {
        /// Type.
        icmp_type: u8,
        /// Code.
        code: u8,
    },
    /// ICMPv6.
    Icmpv6 {
        /// Type.
        icmp_type: u8,
        /// Code.
        code: u8,
    },
    /// A TCP or UDP header that did not decode (short, or a bad data
    /// offset), of which the ports could still be read.
    PortsOnly {
        /// Source port.
        src_port: u16,
        /// Destination port.
        dst_port: u16,
    },
    /// A fragment of a datagram that is not complete: nothing above IP yet.
    Fragment,
    /// Another protocol (or a header that did not decode: see the anomalies).
    Other {
        /// The bytes after the IP header(s).
        payload: &'a [u8],
    },
}

/// An IPv4 or IPv6 packet (the outer header).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ip<'a> {
    /// Source address.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// The protocol field of the IP header (IPv4 protocol or IPv6 first next header).
    pub header_protocol: u8,
    /// The protocol of the payload, after any IPv6 extension headers.
    pub protocol: u8,
    /// Time to live / hop limit.
    pub ttl: u8,
    /// Fragmentation state.
    pub fragmentation: Fragmentation,
    /// What the IP packet carries.
    pub transport: Transport<'a>,
    /// The inner header of IP-in-IP (protocol 4) or IPv6-in-IP (protocol 41), one level deep.
    pub inner: Option<InnerIp>,
}

/// The addresses of a tunnelled IP header (and the ports, when TCP or UDP follows).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InnerIp {
    /// Source address.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// The inner header's protocol field (IPv4 protocol or IPv6 first next header).
    pub protocol: u8,
    /// The inner TCP or UDP destination port.
    pub dst_port: Option<u16>,
}

/// What a frame carries above the link layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Payload<'a> {
    /// Nothing could be decoded (see the anomalies).
    None,
    /// ARP.
    Arp(Arp),
    /// 802.2 LLC (an 802.3 frame with a length instead of an EtherType).
    Llc(Llc<'a>),
    /// A BACnet MS/TP frame, preamble included, for the BACnet dissector.
    MsTp(&'a [u8]),
    /// IPv4 or IPv6.
    Ip(Ip<'a>),
    /// An EtherType this crate does not decode (LLDP, PROFINET, ...).
    Other {
        /// The EtherType (or the Linux SLL protocol field).
        ether_type: u16,
        /// The bytes after the link header(s).
        payload: &'a [u8],
    },
}

/// One decoded frame. Everything borrows from the input (or, for a
/// reassembled IPv4 datagram, from the decoder's reassembly buffer).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Frame<'a> {
    /// The link type the frame was decoded as.
    pub link_type: LinkType,
    /// Link-layer addressing.
    pub link: Link,
    /// VLAN tags, outermost first.
    pub vlan_ids: VlanIds,
    /// The EtherType after the VLAN tags, when the link has one.
    pub ether_type: Option<u16>,
    /// The VLAN of a Cisco ISL frame (the other fields describe the encapsulated frame).
    pub isl_vlan: Option<u16>,
    /// What the frame carries.
    pub payload: Payload<'a>,
    /// What went wrong while decoding.
    pub anomalies: WireAnomalies,
}

impl<'a> Frame<'a> {
    /// The IP layer, if any.
    pub fn ip(&self) -> Option<&Ip<'a>> {
        match &self.payload {
            Payload::Ip(ip) => Some(ip),
            _ => None,
        }
    }

    /// The TCP segment, if any.
    pub fn tcp(&self) -> Option<&Tcp<'a>> {
        match self.ip().map(|ip| &ip.transport) {
            Some(Transport::Tcp(t)) => Some(t),
            _ => None,
        }
    }

    /// The UDP datagram, if any.
    pub fn udp(&self) -> Option<&Udp<'a>> {
        match self.ip().map(|ip| &ip.transport) {
            Some(Transport::Udp(u)) => Some(u),
            _ => None,
        }
    }

    /// Source MAC (Ethernet source or Linux SLL sender).
    pub fn src_mac(&self) -> Option<MacAddr> {
        match self.link {
            Link::Ethernet { src, .. } => Some(src),
            Link::LinuxSll { src, .. } => src,
            _ => None,
        }
    }

    /// Destination MAC (Ethernet only).
    pub fn dst_mac(&self) -> Option<MacAddr> {
        match self.link {
            Link::Ethernet { dst, .. } => Some(dst),
            _ => None,
        }
    }

    /// Whether decoding found anything malformed.
    pub fn is_malformed(&self) -> bool {
        self.anomalies.is_malformed()
    }
}

const ETHERTYPE_IPV4: u16 = 0x0800;
const ETHERTYPE_ARP: u16 = 0x0806;
const ETHERTYPE_IPV6: u16 = 0x86dd;
const ETHERTYPE_VLAN: u16 = 0x8100;
const ETHERTYPE_QINQ: u16 = 0x88a8;
const ETHERTYPE_QINQ_OLD: u16 = 0x9100;
/// EtherType values up to this are 802.3 lengths.
const MAX_8023_LENGTH: u16 = 1500;
/// Linux SLL protocol value for an 802.2 LLC payload.
const SLL_PROTO_8022: u16 = 0x0004;
const SLL_HEADER_LEN: usize = 16;
const SLL2_HEADER_LEN: usize = 20;
const ARPHRD_ETHER: u16 = 1;
const ARPHRD_LOOPBACK: u16 = 772;

const IPPROTO_TCP: u8 = 6;
const IPPROTO_UDP: u8 = 17;
const IPPROTO_ICMP: u8 = 1;
const IPPROTO_ICMPV6: u8 = 58;
const IPPROTO_IPIP: u8 = 4;
const IPPROTO_IPV6: u8 = 41;

/// Decodes frames; holds the IPv4 reassembly table.
#[derive(Debug, Default)]
pub struct Decoder {
    defrag: Defragmenter,
}

impl Decoder {
    /// A decoder with an empty reassembly table.
    pub fn new() -> Decoder {
        Decoder::default()
    }

    /// IPv4 datagrams waiting for more fragments.
    pub fn pending_fragments(&self) -> usize {
        self.defrag.pending()
    }

    /// Decodes one frame captured with link type `link_type` at packet
    /// time `ts_ns` (nanoseconds since the epoch; used only to expire
    /// fragments).
    pub fn decode<'a>(&'a mut self, link_type: LinkType, data: &'a [u8], ts_ns: u64) -> Frame<'a> {
        let mut f = Frame {
            link_type,
            link: Link::Unsupported,
            vlan_ids: VlanIds::default(),
            ether_type: None,
            isl_vlan: None,
            payload: Payload::None,
            anomalies: WireAnomalies::NONE,
        };
        let mut cx = Cx { defrag: Some(&mut self.defrag), ts_ns };
        match link_type {
            LinkType::ETHERNET => ethernet(&mut f, data, &mut cx),
            LinkType::LINUX_SLL => linux_sll(&mut f, data, &mut cx),
            LinkType::LINUX_SLL2 => linux_sll2(&mut f, data, &mut cx),
            LinkType::NULL | LinkType::LOOP => loopback(&mut f, data, &mut cx),
            LinkType::RAW | LinkType::RAW_12 | LinkType::RAW_14 => {
                f.link = Link::RawIp;
                f.payload = ip(data, &mut f.anomalies, &mut cx);
            }
            LinkType::BACNET_MSTP => {
                f.link = Link::MsTp;
                f.payload = Payload::MsTp(data);
            }
            _ => f.anomalies.insert(WireAnomalies::UNSUPPORTED_LINK_TYPE),
        }
        f
    }
}

/// Decoding context: the reassembly table (taken by the one fragment that
/// may complete a datagram in this frame, so its buffer can be lent out for
/// the frame's lifetime) and the packet time.
struct Cx<'d> {
    defrag: Option<&'d mut Defragmenter>,
    ts_ns: u64,
}

fn ethernet<'a>(f: &mut Frame<'a>, data: &'a [u8], cx: &mut Cx<'a>) {
    let Ok(eth) = Ethernet2Slice::from_slice_without_fcs(data) else {
        f.anomalies.insert(WireAnomalies::TRUNCATED_LINK);
        return;
    };
    f.link = Link::Ethernet { src: MacAddr(eth.source()), dst: MacAddr(eth.destination()) };
    let mut ether_type = eth.ether_type().0;
    let mut rest = eth.payload_slice();
    if f.isl_vlan.is_none()
        && ether_type <= MAX_8023_LENGTH
        && let Some((vlan, inner)) = isl(eth.destination(), usize::from(ether_type), data)
    {
        // Cisco ISL: the addresses that matter are the encapsulated frame's.
        f.isl_vlan = Some(vlan);
        return ethernet(f, inner, cx);
    }
    while matches!(ether_type, ETHERTYPE_VLAN | ETHERTYPE_QINQ | ETHERTYPE_QINQ_OLD) {
        let Ok(tag) = SingleVlanSlice::from_slice(rest) else {
            f.anomalies.insert(WireAnomalies::TRUNCATED_LINK);
            return;
        };
        if !f.vlan_ids.push(ether_type, tag.vlan_identifier().value()) {
            f.anomalies.insert(WireAnomalies::TOO_MANY_VLAN_TAGS);
            return;
        }
        ether_type = tag.ether_type().0;
        rest = tag.payload_slice();
    }
    if ether_type <= MAX_8023_LENGTH {
        // 802.3: the field is the length of the LLC PDU; the rest is padding.
        let len = usize::from(ether_type);
        let pdu = match rest.get(..len) {
            Some(p) => p,
            None => {
                f.anomalies.insert(WireAnomalies::MALFORMED_LLC);
                rest
            }
        };
        f.payload = llc(pdu, &mut f.anomalies);
        return;
    }
    f.ether_type = Some(ether_type);
    f.payload = by_ether_type(ether_type, rest, &mut f.anomalies, cx);
}

/// ISL header length: DA(5) type/user(1) SA(6) length(2) AAAA03(3) HSA(3) VLAN(2) index(2) reserved(2).
const ISL_HEADER_LEN: usize = 26;
/// ISL trailer: the CRC of the encapsulated frame.
const ISL_CRC_LEN: usize = 4;

/// Recognises a Cisco ISL frame (destination 01-00-0C-00-00 or 03-00-0C-00-00
/// with frame type Ethernet); returns its VLAN id and the encapsulated frame.
fn isl(dst: [u8; 6], len: usize, frame: &[u8]) -> Option<(u16, &[u8])> {
    let [d0, d1, d2, d3, d4, type_user] = dst;
    if !(matches!(d0, 0x01 | 0x03)
        && [d1, d2, d3, d4] == [0x00, 0x0c, 0x00, 0x00]
        && type_user >> 4 == 0)
    {
        return None;
    }
    let vlan = match (frame.get(20), frame.get(21)) {
        (Some(&a), Some(&b)) => u16::from_be_bytes([a, b]) >> 1,
        _ => return None,
    };
    // The length field counts from after itself (offset 14) to the end, CRC included.
    let end = len.checked_add(14)?.checked_sub(ISL_CRC_LEN)?.min(frame.len());
    frame.get(ISL_HEADER_LEN..end).map(|inner| (vlan, inner))
}

fn by_ether_type<'a>(
    ether_type: u16,
    rest: &'a [u8],
    anomalies: &mut WireAnomalies,
    cx: &mut Cx<'a>,
) -> Payload<'a> {
    match ether_type {
        ETHERTYPE_IPV4 | ETHERTYPE_IPV6 => ip(rest, anomalies, cx),
        ETHERTYPE_ARP => arp(rest, anomalies),
        _ => Payload::Other { ether_type, payload: rest },
    }
}

fn llc<'a>(pdu: &'a [u8], anomalies: &mut WireAnomalies) -> Payload<'a> {
    let (Some(&dsap), Some(&ssap), Some(&c0)) = (pdu.first(), pdu.get(1), pdu.get(2)) else {
        anomalies.insert(WireAnomalies::MALFORMED_LLC);
        return Payload::None;
    };
    // U-format PDUs have the two low bits of the control field set; I- and
    // S-format PDUs have a second control byte (IEEE 802.2 clause 5.2).
    let (control, header) = if c0 & 0x03 == 0x03 {
        (u16::from(c0), 3)
    } else {
        match pdu.get(3) {
            Some(&c1) => (u16::from_le_bytes([c0, c1]), 4),
            None => {
                anomalies.insert(WireAnomalies::MALFORMED_LLC);
                return Payload::None;
            }
        }
    };
    Payload::Llc(Llc { dsap, ssap, control, payload: pdu.get(header..).unwrap_or(&[]) })
}

fn linux_sll<'a>(f: &mut Frame<'a>, data: &'a [u8], cx: &mut Cx<'a>) {
    // The header is 16 bytes (see the LINKTYPE_LINUX_SLL description): packet
    // type, ARPHRD type, address length, 8 address bytes, protocol.
    let Ok(sll) = LinuxSllSlice::from_slice(data) else {
        return sll_fallback(f, data, cx);
    };
    let hw = u16::from(sll.arp_hardware_type());
    let src = (sll.sender_address_valid_length() == 6
        && (hw == ARPHRD_ETHER || hw == ARPHRD_LOOPBACK))
        .then(|| sll.sender_address_full())
        .map(|[a, b, c, d, e, g, _, _]| MacAddr([a, b, c, d, e, g]));
    f.link = Link::LinuxSll { packet_type: u16::from(sll.packet_type()), src };
    let proto = u16::from(sll.protocol_type());
    let rest = sll.payload_slice();
    sll_payload(f, hw, proto, rest, cx);
}

/// Linux cooked capture v2 (etherparse has no decoder for it). The 20-byte
/// header (LINKTYPE_LINUX_SLL2): protocol (2), reserved (2), interface
/// index (4), ARPHRD type (2), packet type (1), address length (1), address (8).
fn linux_sll2<'a>(f: &mut Frame<'a>, data: &'a [u8], cx: &mut Cx<'a>) {
    let (Some(hdr), Some(rest)) = (data.get(..SLL2_HEADER_LEN), data.get(SLL2_HEADER_LEN..)) else {
        f.anomalies.insert(WireAnomalies::TRUNCATED_LINK);
        return;
    };
    let Ok(h) = <[u8; SLL2_HEADER_LEN]>::try_from(hdr) else {
        f.anomalies.insert(WireAnomalies::TRUNCATED_LINK);
        return;
    };
    let [p0, p1, _, _, _, _, _, _, hw0, hw1, packet_type, addr_len, a0, a1, a2, a3, a4, a5, _, _] =
        h;
    let hw = u16::from_be_bytes([hw0, hw1]);
    let src = (addr_len == 6 && (hw == ARPHRD_ETHER || hw == ARPHRD_LOOPBACK))
        .then_some(MacAddr([a0, a1, a2, a3, a4, a5]));
    f.link = Link::LinuxSll { packet_type: u16::from(packet_type), src };
    sll_payload(f, hw, u16::from_be_bytes([p0, p1]), rest, cx);
}

/// Decodes an SLL header etherparse refused (an ARPHRD type it does not know).
fn sll_fallback<'a>(f: &mut Frame<'a>, data: &'a [u8], cx: &mut Cx<'a>) {
    let (Some(hdr), Some(rest)) = (data.get(..SLL_HEADER_LEN), data.get(SLL_HEADER_LEN..)) else {
        f.anomalies.insert(WireAnomalies::TRUNCATED_LINK);
        return;
    };
    let be = |i: usize| match (hdr.get(i), hdr.get(i.saturating_add(1))) {
        (Some(&a), Some(&b)) => u16::from_be_bytes([a, b]),
        _ => 0,
    };
    f.link = Link::LinuxSll { packet_type: be(0), src: None };
    let hw = be(2);
    sll_payload(f, hw, be(14), rest, cx);
}

fn sll_payload<'a>(f: &mut Frame<'a>, _hw: u16, proto: u16, rest: &'a [u8], cx: &mut Cx<'a>) {
    if proto == SLL_PROTO_8022 {
        f.payload = llc(rest, &mut f.anomalies);
    } else if proto > MAX_8023_LENGTH {
        f.ether_type = Some(proto);
        f.payload = by_ether_type(proto, rest, &mut f.anomalies, cx);
    } else {
        f.payload = Payload::Other { ether_type: proto, payload: rest };
    }
}

fn loopback<'a>(f: &mut Frame<'a>, data: &'a [u8], cx: &mut Cx<'a>) {
    let (Some(hdr), Some(rest)) = (data.get(..4), data.get(4..)) else {
        f.anomalies.insert(WireAnomalies::TRUNCATED_LINK);
        return;
    };
    let Ok(raw) = <[u8; 4]>::try_from(hdr) else {
        f.anomalies.insert(WireAnomalies::TRUNCATED_LINK);
        return;
    };
    // LOOP is always network byte order; NULL is the capturing host's order,
    // which we tell apart by where the (small) family value sits.
    let family = if f.link_type == LinkType::LOOP || raw.starts_with(&[0, 0]) {
        u32::from_be_bytes(raw)
    } else {
        u32::from_le_bytes(raw)
    };
    f.link = Link::Loopback { family };
    match family {
        // AF_INET everywhere; AF_INET6 on Linux, NetBSD/OpenBSD, FreeBSD, macOS.
        2 | 10 | 24 | 28 | 30 => f.payload = ip(rest, &mut f.anomalies, cx),
        _ => f.payload = Payload::Other { ether_type: 0, payload: rest },
    }
}

fn arp<'a>(data: &'a [u8], anomalies: &mut WireAnomalies) -> Payload<'a> {
    let Ok(a) = ArpPacketSlice::from_slice(data) else {
        anomalies.insert(WireAnomalies::MALFORMED_ARP);
        return Payload::None;
    };
    let mac = |s: &[u8]| <[u8; 6]>::try_from(s).ok().map(MacAddr);
    let v4 = |s: &[u8]| <[u8; 4]>::try_from(s).ok().map(Ipv4Addr::from);
    match (
        mac(a.sender_hw_addr()),
        v4(a.sender_protocol_addr()),
        mac(a.target_hw_addr()),
        v4(a.target_protocol_addr()),
    ) {
        (Some(sender_mac), Some(sender_ip), Some(target_mac), Some(target_ip)) => {
            Payload::Arp(Arp {
                operation: a.operation().0,
                sender_mac,
                sender_ip,
                target_mac,
                target_ip,
            })
        }
        // Not Ethernet/IPv4 ARP: keep it visible but undecoded.
        _ => Payload::Other { ether_type: ETHERTYPE_ARP, payload: data },
    }
}

fn ip<'a>(data: &'a [u8], anomalies: &mut WireAnomalies, cx: &mut Cx<'a>) -> Payload<'a> {
    let Ok((slice, ext_err)) = LaxIpSlice::from_slice(data) else {
        anomalies.insert(WireAnomalies::MALFORMED_IP);
        return Payload::None;
    };
    if ext_err.is_some() {
        anomalies.insert(WireAnomalies::MALFORMED_IP_EXTENSION);
    }
    let pl = slice.payload();
    if pl.incomplete {
        anomalies.insert(WireAnomalies::TRUNCATED_IP);
    }
    let protocol = pl.ip_number.0;
    let (src, dst, header_protocol, ttl) = match &slice {
        LaxIpSlice::Ipv4(v4) => {
            let h = v4.header();
            (IpAddr::V4(h.source_addr()), IpAddr::V4(h.destination_addr()), h.protocol().0, h.ttl())
        }
        LaxIpSlice::Ipv6(v6) => {
            let h = v6.header();
            (
                IpAddr::V6(h.source_addr()),
                IpAddr::V6(h.destination_addr()),
                h.next_header().0,
                h.hop_limit(),
            )
        }
    };
    let mut out = Ip {
        src,
        dst,
        header_protocol,
        protocol,
        ttl,
        fragmentation: Fragmentation::None,
        transport: Transport::Fragment,
        inner: None,
    };
    if !pl.fragmented {
        out.transport = transport(protocol, pl.payload, anomalies);
        if matches!(protocol, IPPROTO_IPIP | IPPROTO_IPV6) {
            out.inner = inner_ip(pl.payload);
        }
        return Payload::Ip(out);
    }
    out.fragmentation = Fragmentation::Pending;
    let LaxIpSlice::Ipv4(v4) = &slice else {
        // IPv6 fragments are not reassembled.
        return Payload::Ip(out);
    };
    let h = v4.header();
    let key =
        FragmentKey { src: h.source(), dst: h.destination(), protocol, id: h.identification() };
    let offset = usize::from(h.fragments_offset().value()).saturating_mul(8);
    let frag = Fragment { offset, more: h.more_fragments(), payload: pl.payload };
    if pl.incomplete {
        // A truncated fragment cannot be placed reliably.
        return Payload::Ip(out);
    }
    let Some(defrag) = cx.defrag.take() else {
        return Payload::Ip(out);
    };
    if let Some((payload, fragments)) = defrag.push(key, frag, cx.ts_ns, anomalies) {
        out.fragmentation = Fragmentation::Reassembled { fragments };
        out.transport = transport(protocol, payload, anomalies);
    }
    Payload::Ip(out)
}

/// The addresses (and ports) of a tunnelled IP header; nothing deeper.
fn inner_ip(data: &[u8]) -> Option<InnerIp> {
    let (slice, _) = LaxIpSlice::from_slice(data).ok()?;
    let (src, dst, protocol) = match &slice {
        LaxIpSlice::Ipv4(v4) => {
            let h = v4.header();
            (IpAddr::V4(h.source_addr()), IpAddr::V4(h.destination_addr()), h.protocol().0)
        }
        LaxIpSlice::Ipv6(v6) => {
            let h = v6.header();
            (IpAddr::V6(h.source_addr()), IpAddr::V6(h.destination_addr()), h.next_header().0)
        }
    };
    let pl = slice.payload();
    let dst_port = match (pl.fragmented, pl.ip_number.0) {
        (false, IPPROTO_TCP) => TcpSlice::from_slice(pl.payload).ok().map(|t| t.destination_port()),
        (false, IPPROTO_UDP) => {
            UdpSlice::from_slice_lax(pl.payload).ok().map(|u| u.destination_port())
        }
        _ => None,
    };
    Some(InnerIp { src, dst, protocol, dst_port })
}

fn transport<'a>(protocol: u8, data: &'a [u8], anomalies: &mut WireAnomalies) -> Transport<'a> {
    let bad = |anomalies: &mut WireAnomalies| {
        anomalies.insert(WireAnomalies::MALFORMED_TRANSPORT);
        // TCP and UDP headers start with the two ports: keep them if present.
        match (protocol, data) {
            (IPPROTO_TCP | IPPROTO_UDP, [a, b, c, d, ..]) => Transport::PortsOnly {
                src_port: u16::from_be_bytes([*a, *b]),
                dst_port: u16::from_be_bytes([*c, *d]),
            },
            _ => Transport::Other { payload: data },
        }
    };
    match protocol {
        IPPROTO_TCP => match TcpSlice::from_slice(data) {
            Ok(t) => Transport::Tcp(Tcp {
                src_port: t.source_port(),
                dst_port: t.destination_port(),
                seq: t.sequence_number(),
                ack: t.acknowledgment_number(),
                flags: TcpFlags(t.header_slice().get(13).copied().unwrap_or(0)),
                window: t.window_size(),
                payload: t.payload(),
            }),
            Err(_) => bad(anomalies),
        },
        IPPROTO_UDP => match UdpSlice::from_slice_lax(data) {
            Ok(u) => Transport::Udp(Udp {
                src_port: u.source_port(),
                dst_port: u.destination_port(),
                payload: u.payload(),
            }),
            Err(_) => bad(anomalies),
        },
        IPPROTO_ICMP => match Icmpv4Slice::from_slice(data) {
            Ok(i) => Transport::Icmpv4 { icmp_type: i.type_u8(), code: i.code_u8() },
            Err(_) => bad(anomalies),
        },
        IPPROTO_ICMPV6 => match Icmpv6Slice::from_slice(data) {
            Ok(i) => Transport::Icmpv6 { icmp_type: i.type_u8(), code: i.code_u8() },
            Err(_) => bad(anomalies),
        },
        _ => Transport::Other { payload: data },
    }
}

#[cfg(test)]
mod tests;
