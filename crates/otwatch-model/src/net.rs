//! IP subnets (CIDR) for exclusion rules, filters and OT-subnet settings.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

/// An IPv4 or IPv6 network, e.g. `10.10.0.0/16`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Cidr {
    addr: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// Parses `a.b.c.d/n`, an IPv6 `x::/n`, or a bare address (a host network).
    pub fn parse(text: &str) -> Result<Cidr, String> {
        let t = text.trim();
        let (a, p) = match t.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (t, None),
        };
        let addr: IpAddr =
            a.parse().map_err(|_| format!("{t:?} is not a subnet like 10.10.0.0/16"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix =
            match p {
                Some(p) => p.parse::<u8>().ok().filter(|n| *n <= max).ok_or_else(|| {
                    format!("{t:?}: prefix length must be a number from 0 to {max}")
                })?,
                None => max,
            };
        Ok(Cidr { addr, prefix })
    }

    /// The prefix length.
    pub fn prefix(&self) -> u8 {
        self.prefix
    }

    /// Whether the network contains `ip`.
    pub fn contains(&self, ip: &IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let mask =
                    if self.prefix == 0 { 0 } else { u32::MAX << (32 - u32::from(self.prefix)) };
                (u32::from(n) & mask) == (u32::from(*a) & mask)
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let mask =
                    if self.prefix == 0 { 0 } else { u128::MAX << (128 - u32::from(self.prefix)) };
                (u128::from(n) & mask) == (u128::from(*a) & mask)
            }
            _ => false,
        }
    }

    /// Whether the network contains the address in `text` (false if it is not an address).
    pub fn contains_str(&self, text: &str) -> bool {
        text.parse::<IpAddr>().map(|ip| self.contains(&ip)).unwrap_or(false)
    }
}

impl std::fmt::Display for Cidr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

impl TryFrom<String> for Cidr {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Cidr::parse(&s)
    }
}

impl From<Cidr> for String {
    fn from(c: Cidr) -> String {
        c.to_string()
    }
}

/// Whether an address is private, loopback, link-local or otherwise not on the Internet.
pub fn is_internal(ip: &IpAddr) -> bool {
    match ip {
        IpAddr::V4(a) => {
            a.is_private()
                || a.is_loopback()
                || a.is_link_local()
                || a.is_broadcast()
                || a.is_multicast()
                || a.is_unspecified()
                || (a.octets()[0] == 100 && (a.octets()[1] & 0xc0) == 64)
        }
        IpAddr::V6(a) => {
            a.is_loopback()
                || a.is_multicast()
                || a.is_unspecified()
                || (a.segments()[0] & 0xfe00) == 0xfc00
                || (a.segments()[0] & 0xffc0) == 0xfe80
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidr_contains() {
        let c = Cidr::parse("10.10.0.0/16").unwrap();
        assert!(c.contains_str("10.10.200.1"));
        assert!(!c.contains_str("10.11.0.1"));
        assert!(!c.contains_str("fe80::1"));
        assert!(Cidr::parse("0.0.0.0/0").unwrap().contains_str("8.8.8.8"));
        assert!(Cidr::parse("10.0.0.1").unwrap().contains_str("10.0.0.1"));
        assert!(Cidr::parse("fd00::/8").unwrap().contains_str("fd12::5"));
        assert!(Cidr::parse("10.0.0.0/33").is_err());
        assert!(Cidr::parse("ten/8").is_err());
    }

    #[test]
    fn internal_addresses() {
        assert!(is_internal(&"192.168.1.1".parse().unwrap()));
        assert!(!is_internal(&"8.8.8.8".parse().unwrap()));
    }
}
