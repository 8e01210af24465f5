//! Per-packet facts: every IP packet, TCP control segments, ICMP, ARP, non-IP frames, wire anomalies, payload patterns.
//!
//! These need no application decoding: they come straight from the
//! `otwatch-wire` view of the frame and the flow it belongs to. The payload
//! pattern hook looks for the EICAR test string in every TCP segment and
//! UDP datagram as captured (a string split across two segments is not
//! seen; EICAR is 68 bytes and is normally sent in one).

use memchr::memmem::Finder;
use otwatch_detect::observation::{
    Address, Arp as ObsArp, Direction as ObsDirection, Icmp, Kind, LinkFrame, MacAddr as ObsMac,
    Observation, Packet as ObsPacket, Pattern, PayloadMatch, Protocol, TcpSignal,
    Transport as ObsTransport,
};
use otwatch_wire::{Arp, Frame, Ip, Payload, Transport as WireTransport};

use super::{mac, malformed, names, timestamp};
use crate::dispatch::FrameInfo;

/// The start of the EICAR anti-virus test string (the full string is 68
/// bytes; its first 34 are distinctive enough and survive a cut capture).
pub const EICAR_PREFIX: &[u8] = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR";

/// Flow facts of a TCP/UDP packet: flow id, direction, whether it created the flow.
pub(crate) type FlowFacts = (u64, ObsDirection, bool);

/// Observes the generic facts of every frame.
pub(crate) struct PacketObserver {
    eicar: Finder<'static>,
}

impl Default for PacketObserver {
    fn default() -> Self {
        PacketObserver { eicar: Finder::new(EICAR_PREFIX) }
    }
}

impl std::fmt::Debug for PacketObserver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PacketObserver")
    }
}

fn base(info: &FrameInfo, vlan: Option<u16>, kind: Kind) -> Observation {
    Observation {
        time: timestamp(info.ts_ns),
        frame: info.number,
        flow: None,
        src: Address { mac: info.src_mac.map(mac), ip: None, port: None },
        dst: Address { mac: info.dst_mac.map(mac), ip: None, port: None },
        transport: ObsTransport::Link,
        direction: None,
        vlan,
        kind,
    }
}

/// A name for a non-IP frame.
fn link_name(frame: &Frame<'_>) -> &'static str {
    match &frame.payload {
        Payload::Llc(l) => match l.dsap {
            0x82 => "bacnet",
            0x42 => "stp",
            0xaa => match l.payload {
                // SNAP with Cisco's OUI and CDP's protocol id.
                [0x00, 0x00, 0x0c, 0x20, 0x00, ..] => "cdp",
                _ => "snap",
            },
            0xfe => "osi",
            0xe0 => "ipx",
            _ => "llc",
        },
        Payload::Other { ether_type, .. } => match *ether_type {
            0x88cc => "lldp",
            0x8892 => "profinet",
            0x88b8 => "goose",
            0x88ba => "sampled_values",
            0x88e3 => "mrp",
            0x88f7 => "ptp",
            0x8899 => "realtek",
            0x9000 => "loopback",
            0x888e => "eapol",
            0x88a4 => "ethercat",
            0x8204 => "qnx",
            0x86dd | 0x0800 => "ip",
            _ => "ethertype",
        },
        _ => "link",
    }
}

impl PacketObserver {
    /// An IP packet: the packet fact, then TCP signals, ICMP, wire anomalies and payload patterns.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn on_ip(
        &self,
        info: &FrameInfo,
        vlan: Option<u16>,
        wire_len: u32,
        frame: &Frame<'_>,
        ip: &Ip<'_>,
        flow: Option<FlowFacts>,
        out: &mut Vec<Observation>,
    ) {
        let (transport, src_port, dst_port, tcp_flags, payload) = match &ip.transport {
            WireTransport::Tcp(t) => {
                (ObsTransport::Tcp, Some(t.src_port), Some(t.dst_port), Some(t.flags.0), t.payload)
            }
            WireTransport::Udp(u) => {
                (ObsTransport::Udp, Some(u.src_port), Some(u.dst_port), None, u.payload)
            }
            WireTransport::Icmpv4 { .. } | WireTransport::Icmpv6 { .. } => {
                (ObsTransport::Icmp, None, None, None, &[][..])
            }
            WireTransport::PortsOnly { src_port, dst_port } => {
                let t = if ip.protocol == 6 { ObsTransport::Tcp } else { ObsTransport::Udp };
                (t, Some(*src_port), Some(*dst_port), None, &[][..])
            }
            WireTransport::Fragment | WireTransport::Other { .. } => {
                (ObsTransport::OtherIp(ip.protocol), None, None, None, &[][..])
            }
        };
        let mut o = base(info, vlan, Kind::Packet(ObsPacket::default()));
        o.src.ip = Some(ip.src);
        o.dst.ip = Some(ip.dst);
        o.src.port = src_port;
        o.dst.port = dst_port;
        o.transport = transport;
        if let Some((id, dir, _)) = flow {
            o.flow = Some(id);
            o.direction = Some(dir);
        }
        let malformed_frame = frame.is_malformed();
        o.kind = Kind::Packet(ObsPacket {
            ip_protocol: ip.protocol,
            wire_len,
            payload_len: u32::try_from(payload.len()).unwrap_or(u32::MAX),
            ttl: ip.ttl,
            tcp_flags,
            new_flow: flow.is_some_and(|(_, _, new)| new),
            malformed: malformed_frame,
        });
        let template = o.clone();
        out.push(o);
        if let WireTransport::Tcp(t) = &ip.transport {
            let f = t.flags;
            let signal = if f.syn() && !f.ack() {
                Some(TcpSignal::Attempt)
            } else if f.syn() {
                Some(TcpSignal::Accept)
            } else if f.rst() {
                Some(TcpSignal::Reset)
            } else if f.fin() {
                Some(TcpSignal::Close)
            } else {
                None
            };
            if let Some(s) = signal {
                out.push(Observation { kind: Kind::Tcp(s), ..template });
            }
        }
        match ip.transport {
            WireTransport::Icmpv4 { icmp_type, code } => out.push(Observation {
                kind: Kind::Icmp(Icmp { v6: false, icmp_type, code }),
                ..template
            }),
            WireTransport::Icmpv6 { icmp_type, code } => out.push(Observation {
                kind: Kind::Icmp(Icmp { v6: true, icmp_type, code }),
                ..template
            }),
            _ => {}
        }
        if malformed_frame {
            out.push(Observation {
                kind: malformed(Protocol::Ip, names(frame.anomalies.names()), None, None),
                ..template
            });
        }
        if !payload.is_empty()
            && let Some(at) = self.eicar.find(payload)
        {
            out.push(Observation {
                kind: Kind::PayloadMatch(PayloadMatch {
                    pattern: Pattern::Eicar,
                    offset: u32::try_from(at).unwrap_or(u32::MAX),
                }),
                ..template
            });
        }
    }

    /// An ARP packet.
    pub(crate) fn on_arp(
        &self,
        info: &FrameInfo,
        vlan: Option<u16>,
        arp: &Arp,
        out: &mut Vec<Observation>,
    ) {
        let mut o = base(
            info,
            vlan,
            Kind::Arp(ObsArp {
                operation: arp.operation,
                sender_mac: ObsMac(arp.sender_mac.0),
                sender_ip: arp.sender_ip,
                target_mac: ObsMac(arp.target_mac.0),
                target_ip: arp.target_ip,
            }),
        );
        o.src.ip = Some(arp.sender_ip.into());
        o.dst.ip = Some(arp.target_ip.into());
        out.push(o);
    }

    /// A non-IP, non-ARP frame.
    pub(crate) fn on_link(
        &self,
        info: &FrameInfo,
        vlan: Option<u16>,
        wire_len: u32,
        frame: &Frame<'_>,
        out: &mut Vec<Observation>,
    ) {
        let (ether_type, llc_dsap) = match &frame.payload {
            Payload::Llc(l) => (None, Some(l.dsap)),
            Payload::Other { ether_type, .. } => (Some(*ether_type), None),
            _ => (frame.ether_type, None),
        };
        out.push(base(
            info,
            vlan,
            Kind::Link(LinkFrame { ether_type, llc_dsap, name: link_name(frame), wire_len }),
        ));
    }

    /// A frame nothing could be decoded from: reported as malformed when the wire layer says so.
    pub(crate) fn on_undecoded(
        &self,
        info: &FrameInfo,
        vlan: Option<u16>,
        frame: &Frame<'_>,
        out: &mut Vec<Observation>,
    ) {
        if frame.is_malformed() {
            out.push(base(
                info,
                vlan,
                malformed(Protocol::Ip, names(frame.anomalies.names()), None, None),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eicar_prefix_is_the_start_of_the_test_string() {
        let full: &[u8] = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";
        assert_eq!(full.len(), 68);
        assert!(full.starts_with(EICAR_PREFIX));
    }
}
