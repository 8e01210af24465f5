//! The protocol-independent part of the summary: capture, addresses, conversations, OT frame counts.
//!
//! Each key mirrors what the truth files compute from tshark's fields (see
//! `../shared/pcaps/MANIFEST.md`, "Ground-truth JSON"): addresses come from
//! the outer headers only, conversations are directional per IP packet with
//! the frame length on the wire as bytes, and the transport name is the IP
//! protocol (for IPv6 the first next header, or the upper protocol when
//! that is an extension header). Collecting allocates only when a new
//! address or conversation appears.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use otwatch_wire::{Frame, MacAddr, Payload, Transport as WireTransport};
use serde_json::{Map, Value, json};

use super::handler::{FrameMarks, OT_FRAME_TAGS, OT_FRAME_TAGS_ALWAYS};

/// IP protocol numbers the truth files name (others are `ipproto-N`).
fn ip_proto_name(p: u8) -> Option<&'static str> {
    Some(match p {
        1 => "icmp",
        2 => "igmp",
        6 => "tcp",
        17 => "udp",
        47 => "gre",
        50 => "esp",
        51 => "ah",
        58 => "icmpv6",
        89 => "ospf",
        103 => "pim",
        112 => "vrrp",
        132 => "sctp",
        _ => return None,
    })
}

/// The 802.1ad S-tag protocol id.
const ETHERTYPE_8021AD: u16 = 0x88a8;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct ConvKey {
    src: IpAddr,
    dst: IpAddr,
    protocol: u8,
    dst_port: Option<u16>,
}

/// Formats nanoseconds since the epoch as tshark's `frame.time_epoch`.
pub fn epoch_text(ts_ns: u64) -> String {
    format!("{}.{:09}", ts_ns / 1_000_000_000, ts_ns % 1_000_000_000)
}

/// Accumulates the generic keys frame by frame.
#[derive(Debug, Default)]
pub struct GenericCollector {
    packets: u64,
    first_ts: Option<u64>,
    last_ts: Option<u64>,
    macs: BTreeSet<MacAddr>,
    ipv4: BTreeSet<Ipv4Addr>,
    ipv6: BTreeSet<Ipv6Addr>,
    vlan_ids: BTreeMap<u16, u64>,
    conversations: BTreeMap<ConvKey, (u64, u64)>,
    ot_frames: [u64; OT_FRAME_TAGS.len()],
    malformed: u64,
}

impl GenericCollector {
    /// Counts one frame of `wire_len` bytes on the wire.
    pub fn observe(&mut self, frame: &Frame<'_>, ts_ns: u64, wire_len: u32, marks: FrameMarks) {
        self.packets = self.packets.saturating_add(1);
        self.first_ts.get_or_insert(ts_ns);
        self.last_ts = Some(ts_ns);
        if frame.is_malformed() {
            self.malformed = self.malformed.saturating_add(1);
        }
        for m in [frame.src_mac(), frame.dst_mac()].into_iter().flatten() {
            if !self.macs.contains(&m) {
                self.macs.insert(m);
            }
        }
        // tshark's `vlan.id` is the 802.1Q dissector's: 802.1ad S-tags (0x88a8) have their own field.
        if let Some((_, id)) = frame.vlan_ids.tags().find(|(tpid, _)| *tpid != ETHERTYPE_8021AD) {
            let c = self.vlan_ids.entry(id).or_insert(0);
            *c = c.saturating_add(1);
        }
        if let Payload::Ip(ip) = &frame.payload {
            // tshark's fields take the first header of each IP version: the
            // outer one, or a tunnelled one when the outer is the other version.
            let inner = ip.inner.filter(|i| i.src.is_ipv4() != ip.src.is_ipv4());
            let (v4, v6) = match (ip.src, inner) {
                (IpAddr::V4(_), i) => (Some((ip.src, ip.dst)), i.map(|i| (i.src, i.dst))),
                (IpAddr::V6(_), i) => (i.map(|i| (i.src, i.dst)), Some((ip.src, ip.dst))),
            };
            for a in [v4, v6].into_iter().flatten().flat_map(|(s, d)| [s, d]) {
                match a {
                    IpAddr::V4(a) => {
                        if !self.ipv4.contains(&a) {
                            self.ipv4.insert(a);
                        }
                    }
                    IpAddr::V6(a) => {
                        if !self.ipv6.contains(&a) {
                            self.ipv6.insert(a);
                        }
                    }
                }
            }
            // A conversation is keyed by the first IPv4 header if there is one.
            let key = match (ip.src, inner) {
                (IpAddr::V6(_), Some(i)) => ConvKey {
                    src: i.src,
                    dst: i.dst,
                    protocol: i.protocol,
                    dst_port: i.dst_port.filter(|_| matches!(i.protocol, 6 | 17)),
                },
                _ => {
                    let protocol = match ip.src {
                        IpAddr::V4(_) => ip.header_protocol,
                        IpAddr::V6(_) if ip_proto_name(ip.header_protocol).is_some() => {
                            ip.header_protocol
                        }
                        IpAddr::V6(_) if matches!(ip.protocol, 6 | 17 | 58 | 132) => ip.protocol,
                        IpAddr::V6(_) => ip.header_protocol,
                    };
                    let dst_port = match ip.transport {
                        WireTransport::Tcp(t) if protocol == 6 => Some(t.dst_port),
                        WireTransport::Udp(u) if protocol == 17 => Some(u.dst_port),
                        WireTransport::PortsOnly { dst_port, .. } if matches!(protocol, 6 | 17) => {
                            Some(dst_port)
                        }
                        _ => None,
                    };
                    ConvKey { src: ip.src, dst: ip.dst, protocol, dst_port }
                }
            };
            let e = self.conversations.entry(key).or_insert((0, 0));
            e.0 = e.0.saturating_add(1);
            e.1 = e.1.saturating_add(u64::from(wire_len));
        }
        if !marks.is_empty() {
            for i in marks.indices() {
                if let Some(c) = self.ot_frames.get_mut(i) {
                    *c = c.saturating_add(1);
                }
            }
        }
    }

    /// Frames seen.
    pub fn packets(&self) -> u64 {
        self.packets
    }

    /// Frames with a wire-level anomaly.
    pub fn malformed(&self) -> u64 {
        self.malformed
    }

    /// Writes `capture`, `addresses`, `conversations` and
    /// `protocols.ot_protocol_frames` (for the `covered` tags) into `out`.
    pub fn write(&self, covered: &[&'static str], out: &mut Map<String, Value>) {
        let mut capture = Map::new();
        capture.insert("packets".into(), json!(self.packets));
        if let (Some(f), Some(l)) = (self.first_ts, self.last_ts) {
            capture.insert("first_ts".into(), json!(epoch_text(f)));
            capture.insert("last_ts".into(), json!(epoch_text(l)));
        }
        capture.insert("malformed_frames".into(), json!(self.malformed));
        out.insert("capture".into(), Value::Object(capture));

        let vlans: Map<String, Value> =
            self.vlan_ids.iter().map(|(k, v)| (k.to_string(), json!(v))).collect();
        out.insert(
            "addresses".into(),
            json!({
                "macs": self.macs.iter().map(|m| m.to_string()).collect::<Vec<_>>(),
                "ipv4": self.ipv4.iter().map(|a| a.to_string()).collect::<Vec<_>>(),
                "ipv6": self.ipv6.iter().map(|a| a.to_string()).collect::<Vec<_>>(),
                "vlan_ids": vlans,
            }),
        );

        // The truth sorts by packets (descending), then by Python's text of
        // the key tuple; do the same so the two read alike.
        let mut convs: Vec<(String, &ConvKey, (u64, u64))> = self
            .conversations
            .iter()
            .map(|(k, v)| {
                let t = transport_name(k.protocol);
                let port = k.dst_port.map_or_else(|| "None".to_owned(), |p| p.to_string());
                (format!("('{}', '{}', '{t}', {port})", k.src, k.dst), k, *v)
            })
            .collect();
        convs.sort_by(|a, b| b.2.0.cmp(&a.2.0).then_with(|| a.0.cmp(&b.0)));
        let list: Vec<Value> = convs
            .into_iter()
            .map(|(_, k, (packets, bytes))| {
                json!({
                    "src": k.src.to_string(),
                    "dst": k.dst.to_string(),
                    "transport": transport_name(k.protocol),
                    "dst_port": k.dst_port,
                    "packets": packets,
                    "bytes": bytes,
                })
            })
            .collect();
        out.insert("conversations".into(), Value::Array(list));

        let mut ot = Map::new();
        for (i, tag) in OT_FRAME_TAGS.iter().enumerate() {
            let n = self.ot_frames.get(i).copied().unwrap_or(0);
            if covered.contains(tag) && (n > 0 || OT_FRAME_TAGS_ALWAYS.contains(tag)) {
                ot.insert((*tag).to_owned(), json!(n));
            }
        }
        let covered: Vec<&str> =
            OT_FRAME_TAGS.iter().copied().filter(|t| covered.contains(t)).collect();
        out.insert(
            "protocols".into(),
            json!({
                "ot_protocol_frames": ot,
                "ot_protocol_frames_covered": covered,
            }),
        );
    }
}

fn transport_name(p: u8) -> String {
    ip_proto_name(p).map_or_else(|| format!("ipproto-{p}"), str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_text_has_nine_decimals() {
        assert_eq!(epoch_text(1_400_547_199_329_569_000), "1400547199.329569000");
        assert_eq!(epoch_text(5), "0.000000005");
    }

    #[test]
    fn transport_names_follow_the_truth() {
        assert_eq!(transport_name(6), "tcp");
        assert_eq!(transport_name(2), "igmp");
        assert_eq!(transport_name(41), "ipproto-41");
    }
}
