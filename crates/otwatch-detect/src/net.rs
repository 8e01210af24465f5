//! Address classification the engines need: private or public (Internet
//! access), multicast and broadcast, and addresses that are never valid as a
//! packet source on a wire ("Illegal IP Address").

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// RFC 1918, carrier-grade NAT, link-local, unique-local, loopback, and the
/// documentation ranges (so examples never look like the Internet).
pub fn is_private(ip: &IpAddr) -> bool {
    match ip {
        IpAddr::V4(a) => {
            let o = a.octets();
            a.is_private()
                || a.is_loopback()
                || a.is_link_local()
                || (o[0] == 100 && (64..128).contains(&o[1]))
                || is_documentation_v4(a)
        }
        IpAddr::V6(a) => {
            let s = a.segments();
            a.is_loopback()
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
                || (s[0] == 0x2001 && s[1] == 0x0db8)
        }
    }
}

/// The documentation ranges (RFC 5737 192.0.2.0/24, 198.51.100.0/24,
/// 203.0.113.0/24; RFC 3849 2001:db8::/32). They never belong to a real
/// network: they stand for remote hosts in examples and simulations, so they
/// are neither the Internet nor devices of the plant (no asset, pair or port).
pub fn is_documentation(ip: &IpAddr) -> bool {
    match ip {
        IpAddr::V4(a) => is_documentation_v4(a),
        IpAddr::V6(a) => {
            let s = a.segments();
            s[0] == 0x2001 && s[1] == 0x0db8
        }
    }
}

fn is_documentation_v4(a: &Ipv4Addr) -> bool {
    let o = a.octets();
    matches!((o[0], o[1], o[2]), (192, 0, 2) | (198, 51, 100) | (203, 0, 113))
}

/// Multicast, or the limited broadcast address.
pub fn is_multicast_or_broadcast(ip: &IpAddr) -> bool {
    match ip {
        IpAddr::V4(a) => a.is_multicast() || a.is_broadcast(),
        IpAddr::V6(a) => a.is_multicast(),
    }
}

/// A public unicast address: not private, not multicast, not unspecified,
/// not reserved. Traffic with one of these is Internet traffic.
pub fn is_public(ip: &IpAddr) -> bool {
    if is_private(ip) || is_multicast_or_broadcast(ip) {
        return false;
    }
    match ip {
        IpAddr::V4(a) => {
            let o = a.octets();
            !(a.is_unspecified() || o[0] == 0 || o[0] >= 240 || is_documentation_v4(a))
        }
        IpAddr::V6(a) => !(a.is_unspecified() || is_ipv4_mapped(a)),
    }
}

fn is_ipv4_mapped(a: &Ipv6Addr) -> bool {
    let s = a.segments();
    s[..5].iter().all(|x| *x == 0) && s[5] == 0xffff
}

/// Why an address cannot be the source of a packet on the wire, if it cannot:
/// multicast, broadcast, loopback (seen on a real interface), class E
/// (reserved), or `0.0.0.0` outside DHCP.
pub fn illegal_source(ip: &IpAddr, dhcp: bool) -> Option<&'static str> {
    match ip {
        IpAddr::V4(a) => {
            let o = a.octets();
            if a.is_broadcast() {
                Some("the limited broadcast address")
            } else if a.is_multicast() {
                Some("a multicast address")
            } else if a.is_unspecified() && !dhcp {
                Some("the unspecified address 0.0.0.0")
            } else if o[0] == 0 && !a.is_unspecified() {
                Some("an address in 0.0.0.0/8")
            } else if a.is_loopback() {
                Some("a loopback address")
            } else if o[0] >= 240 {
                Some("a reserved (class E) address")
            } else {
                None
            }
        }
        IpAddr::V6(a) => {
            if a.is_multicast() {
                Some("a multicast address")
            } else if a.is_loopback() {
                Some("the loopback address")
            } else {
                None
            }
        }
    }
}

/// The /16 ("class B") network of an IPv4 address, or the /64 of an IPv6 one.
pub fn class_b(ip: &IpAddr) -> String {
    match ip {
        IpAddr::V4(a) => {
            let o = a.octets();
            format!("{}.{}.0.0/16", o[0], o[1])
        }
        IpAddr::V6(a) => {
            let s = a.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn classification() {
        assert!(is_private(&ip("10.1.2.3")));
        assert!(is_private(&ip("192.168.0.1")));
        assert!(is_private(&ip("fd00::1")));
        assert!(!is_private(&ip("8.8.8.8")));
        assert!(is_public(&ip("8.8.8.8")));
        assert!(!is_public(&ip("203.0.113.5")), "documentation range");
        assert!(!is_public(&ip("224.0.0.251")));
        assert!(!is_public(&ip("255.255.255.255")));
        assert!(is_multicast_or_broadcast(&ip("239.1.1.1")));
        assert_eq!(class_b(&ip("172.16.5.9")), "172.16.0.0/16");
    }

    #[test]
    fn illegal_sources() {
        assert!(illegal_source(&ip("127.0.0.1"), false).is_some());
        assert!(illegal_source(&ip("0.0.0.0"), true).is_none());
        assert!(illegal_source(&ip("0.0.0.0"), false).is_some());
        assert!(illegal_source(&ip("240.0.0.1"), false).is_some());
        assert!(illegal_source(&ip("10.0.0.1"), false).is_none());
    }
}
