//! Link, network and transport headers, built byte by byte with correct checksums.
//!
//! Ethernet II (RFC 894), ARP (RFC 826), IPv4 (RFC 791), ICMP (RFC 792),
//! UDP (RFC 768) and TCP (RFC 9293) headers are written here from the
//! RFCs, with the Internet checksum of RFC 1071. Frames shorter than the
//! Ethernet minimum are padded to 60 bytes, as a switch's mirror port
//! delivers them.

use std::fmt;
use std::net::Ipv4Addr;

/// An Ethernet MAC address.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Mac(pub [u8; 6]);

impl Mac {
    /// ff:ff:ff:ff:ff:ff.
    pub const BROADCAST: Mac = Mac([0xff; 6]);
    /// 00:00:00:00:00:00 (unknown target hardware address in ARP requests).
    pub const ZERO: Mac = Mac([0; 6]);

    /// The three-byte vendor prefix (OUI) and a three-byte suffix.
    pub fn new(oui: [u8; 3], suffix: [u8; 3]) -> Mac {
        Mac([oui[0], oui[1], oui[2], suffix[0], suffix[1], suffix[2]])
    }
}

impl fmt::Display for Mac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = self.0;
        write!(f, "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", m[0], m[1], m[2], m[3], m[4], m[5])
    }
}

/// Source and destination MAC of one frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct L2 {
    /// Sender's MAC.
    pub src: Mac,
    /// Next hop's MAC (the peer on the same subnet, else the gateway).
    pub dst: Mac,
}

/// The IPv4 header fields that vary between packets.
#[derive(Clone, Copy, Debug)]
pub struct Ip {
    /// Source address.
    pub src: Ipv4Addr,
    /// Destination address.
    pub dst: Ipv4Addr,
    /// Time to live as sent (the capture point is the sender's access link).
    pub ttl: u8,
    /// Identification.
    pub id: u16,
    /// Don't-fragment flag.
    pub df: bool,
}

/// TCP flag bits.
pub mod flags {
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
}

/// The TCP header fields of one segment.
#[derive(Clone, Copy, Debug)]
pub struct Tcp<'a> {
    /// Source port.
    pub sport: u16,
    /// Destination port.
    pub dport: u16,
    /// Sequence number.
    pub seq: u32,
    /// Acknowledgement number (0 unless ACK is set).
    pub ack: u32,
    /// Flag bits ([`flags`]).
    pub flags: u8,
    /// Receive window.
    pub window: u16,
    /// Options, already padded to a multiple of four bytes.
    pub options: &'a [u8],
}

const ETH_MIN: usize = 60;
const ETHERTYPE_IPV4: u16 = 0x0800;
const ETHERTYPE_ARP: u16 = 0x0806;

/// Adds `data` to a one's-complement running sum (RFC 1071).
pub fn sum_words(mut sum: u32, data: &[u8]) -> u32 {
    let mut chunks = data.chunks_exact(2);
    for c in &mut chunks {
        sum += u32::from(u16::from_be_bytes([c[0], c[1]]));
    }
    if let [last] = chunks.remainder() {
        sum += u32::from(*last) << 8;
    }
    sum
}

/// Folds a running sum into the final checksum.
pub fn fold(mut sum: u32) -> u16 {
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

fn put16(buf: &mut Vec<u8>, v: u16) {
    buf.extend_from_slice(&v.to_be_bytes());
}

fn eth_header(buf: &mut Vec<u8>, l2: L2, ethertype: u16) {
    buf.extend_from_slice(&l2.dst.0);
    buf.extend_from_slice(&l2.src.0);
    put16(buf, ethertype);
}

fn pad(mut buf: Vec<u8>) -> Vec<u8> {
    if buf.len() < ETH_MIN {
        buf.resize(ETH_MIN, 0);
    }
    buf
}

/// Writes an IPv4 header (no options) at the end of `buf` for a payload of `l4_len` bytes.
fn ipv4_header(buf: &mut Vec<u8>, ip: &Ip, proto: u8, l4_len: usize) {
    let start = buf.len();
    buf.push(0x45);
    buf.push(0);
    put16(buf, (20 + l4_len) as u16);
    put16(buf, ip.id);
    put16(buf, if ip.df { 0x4000 } else { 0 });
    buf.push(ip.ttl);
    buf.push(proto);
    put16(buf, 0);
    buf.extend_from_slice(&ip.src.octets());
    buf.extend_from_slice(&ip.dst.octets());
    let c = fold(sum_words(0, &buf[start..start + 20]));
    buf[start + 10..start + 12].copy_from_slice(&c.to_be_bytes());
}

fn pseudo_sum(ip: &Ip, proto: u8, len: usize) -> u32 {
    let mut s = sum_words(0, &ip.src.octets());
    s = sum_words(s, &ip.dst.octets());
    s += u32::from(proto);
    s + len as u32
}

/// An Ethernet/IPv4/TCP frame.
pub fn tcp_frame(l2: L2, ip: &Ip, tcp: &Tcp<'_>, payload: &[u8]) -> Vec<u8> {
    debug_assert!(tcp.options.len().is_multiple_of(4));
    let tcp_len = 20 + tcp.options.len() + payload.len();
    let mut buf = Vec::with_capacity(14 + 20 + tcp_len.max(26));
    eth_header(&mut buf, l2, ETHERTYPE_IPV4);
    ipv4_header(&mut buf, ip, 6, tcp_len);
    let start = buf.len();
    put16(&mut buf, tcp.sport);
    put16(&mut buf, tcp.dport);
    buf.extend_from_slice(&tcp.seq.to_be_bytes());
    buf.extend_from_slice(&tcp.ack.to_be_bytes());
    buf.push((((20 + tcp.options.len()) / 4) as u8) << 4);
    buf.push(tcp.flags);
    put16(&mut buf, tcp.window);
    put16(&mut buf, 0);
    put16(&mut buf, 0);
    buf.extend_from_slice(tcp.options);
    buf.extend_from_slice(payload);
    let c = fold(sum_words(pseudo_sum(ip, 6, tcp_len), &buf[start..]));
    buf[start + 16..start + 18].copy_from_slice(&c.to_be_bytes());
    pad(buf)
}

/// An Ethernet/IPv4/UDP frame.
pub fn udp_frame(l2: L2, ip: &Ip, sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let udp_len = 8 + payload.len();
    let mut buf = Vec::with_capacity(14 + 20 + udp_len.max(26));
    eth_header(&mut buf, l2, ETHERTYPE_IPV4);
    ipv4_header(&mut buf, ip, 17, udp_len);
    let start = buf.len();
    put16(&mut buf, sport);
    put16(&mut buf, dport);
    put16(&mut buf, udp_len as u16);
    put16(&mut buf, 0);
    buf.extend_from_slice(payload);
    let mut c = fold(sum_words(pseudo_sum(ip, 17, udp_len), &buf[start..]));
    if c == 0 {
        c = 0xffff;
    }
    buf[start + 6..start + 8].copy_from_slice(&c.to_be_bytes());
    pad(buf)
}

/// An Ethernet/IPv4/ICMP frame (`rest` is the 4-byte rest-of-header, e.g. identifier and sequence).
pub fn icmp_frame(l2: L2, ip: &Ip, kind: u8, code: u8, rest: [u8; 4], payload: &[u8]) -> Vec<u8> {
    let len = 8 + payload.len();
    let mut buf = Vec::with_capacity(14 + 20 + len.max(26));
    eth_header(&mut buf, l2, ETHERTYPE_IPV4);
    ipv4_header(&mut buf, ip, 1, len);
    let start = buf.len();
    buf.push(kind);
    buf.push(code);
    put16(&mut buf, 0);
    buf.extend_from_slice(&rest);
    buf.extend_from_slice(payload);
    let c = fold(sum_words(0, &buf[start..]));
    buf[start + 2..start + 4].copy_from_slice(&c.to_be_bytes());
    pad(buf)
}

/// ARP operation codes.
pub mod arp_op {
    /// Request.
    pub const REQUEST: u16 = 1;
    /// Reply.
    pub const REPLY: u16 = 2;
}

/// An Ethernet/ARP frame for IPv4 over Ethernet.
pub fn arp_frame(l2: L2, op: u16, sender: (Mac, Ipv4Addr), target: (Mac, Ipv4Addr)) -> Vec<u8> {
    let mut buf = Vec::with_capacity(ETH_MIN);
    eth_header(&mut buf, l2, ETHERTYPE_ARP);
    put16(&mut buf, 1); // Ethernet
    put16(&mut buf, ETHERTYPE_IPV4);
    buf.push(6);
    buf.push(4);
    put16(&mut buf, op);
    buf.extend_from_slice(&sender.0.0);
    buf.extend_from_slice(&sender.1.octets());
    buf.extend_from_slice(&target.0.0);
    buf.extend_from_slice(&target.1.octets());
    pad(buf)
}

/// TCP options of a SYN: MSS, and for full stacks SACK-permitted (padded with NOPs).
pub fn syn_options(mss: u16, sack: bool) -> Vec<u8> {
    let mut o = vec![2, 4];
    o.extend_from_slice(&mss.to_be_bytes());
    if sack {
        o.extend_from_slice(&[1, 1, 4, 2]);
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip() -> Ip {
        Ip {
            src: Ipv4Addr::new(10, 0, 0, 1),
            dst: Ipv4Addr::new(10, 0, 0, 2),
            ttl: 64,
            id: 0x1234,
            df: true,
        }
    }

    const L: L2 = L2 { src: Mac([0, 1, 2, 3, 4, 5]), dst: Mac([6, 7, 8, 9, 10, 11]) };

    #[test]
    fn checksums_verify_to_zero() {
        let f = tcp_frame(
            L,
            &ip(),
            &Tcp {
                sport: 50000,
                dport: 502,
                seq: 1,
                ack: 2,
                flags: flags::ACK | flags::PSH,
                window: 8192,
                options: &[],
            },
            b"hello",
        );
        // IP header checksum.
        assert_eq!(fold(sum_words(0, &f[14..34])), 0);
        // TCP checksum over pseudo header + segment.
        let seg = &f[34..34 + 20 + 5];
        assert_eq!(fold(sum_words(pseudo_sum(&ip(), 6, seg.len()), seg)), 0);
        let u = udp_frame(L, &ip(), 47808, 47808, b"abc");
        let seg = &u[34..34 + 8 + 3];
        assert_eq!(fold(sum_words(pseudo_sum(&ip(), 17, seg.len()), seg)), 0);
    }

    #[test]
    fn short_frames_are_padded() {
        let a = arp_frame(
            L2 { src: L.src, dst: Mac::BROADCAST },
            arp_op::REQUEST,
            (L.src, Ipv4Addr::new(10, 0, 0, 1)),
            (Mac::ZERO, Ipv4Addr::new(10, 0, 0, 2)),
        );
        assert_eq!(a.len(), 60);
        assert_eq!(Mac([0, 0x1b, 0x1b, 1, 2, 0xff]).to_string(), "00:1b:1b:01:02:ff");
    }
}
