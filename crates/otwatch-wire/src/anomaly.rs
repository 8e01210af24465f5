//! Anomaly flags for frames that decode only partly: a bitset with stable names.
//!
//! A frame that cannot be decoded completely is still returned, with the
//! layers that did decode and one or more of these flags. The flags are what
//! an IDS alerts on ("malformed packet"), so their names are stable.

use std::fmt;

/// A set of wire-level anomalies found while decoding one frame.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct WireAnomalies(u32);

/// Every flag with its stable name, in bit order.
const NAMES: [(WireAnomalies, &str); 14] = [
    (WireAnomalies::TRUNCATED_LINK, "wire.truncated_link"),
    (WireAnomalies::UNSUPPORTED_LINK_TYPE, "wire.unsupported_link_type"),
    (WireAnomalies::TOO_MANY_VLAN_TAGS, "wire.too_many_vlan_tags"),
    (WireAnomalies::MALFORMED_ARP, "wire.malformed_arp"),
    (WireAnomalies::MALFORMED_LLC, "wire.malformed_llc"),
    (WireAnomalies::MALFORMED_IP, "wire.malformed_ip"),
    (WireAnomalies::TRUNCATED_IP, "wire.truncated_ip"),
    (WireAnomalies::MALFORMED_IP_EXTENSION, "wire.malformed_ip_extension"),
    (WireAnomalies::MALFORMED_TRANSPORT, "wire.malformed_transport"),
    (WireAnomalies::FRAGMENT_OVERLAP, "wire.fragment_overlap"),
    (WireAnomalies::FRAGMENT_TOO_LARGE, "wire.fragment_too_large"),
    (WireAnomalies::FRAGMENT_TABLE_FULL, "wire.fragment_table_full"),
    (WireAnomalies::TOO_MANY_FRAGMENTS, "wire.too_many_fragments"),
    (WireAnomalies::FRAGMENT_TIMEOUT, "wire.fragment_timeout"),
];

impl WireAnomalies {
    /// No anomaly.
    pub const NONE: WireAnomalies = WireAnomalies(0);
    /// The frame is shorter than its link-layer header.
    pub const TRUNCATED_LINK: WireAnomalies = WireAnomalies(1 << 0);
    /// The capture's link type is not one this crate decodes.
    pub const UNSUPPORTED_LINK_TYPE: WireAnomalies = WireAnomalies(1 << 1);
    /// More VLAN tags than [`crate::MAX_VLAN_TAGS`]; the rest was not decoded.
    pub const TOO_MANY_VLAN_TAGS: WireAnomalies = WireAnomalies(1 << 2);
    /// An ARP packet too short for its declared address sizes.
    pub const MALFORMED_ARP: WireAnomalies = WireAnomalies(1 << 3);
    /// An 802.3 frame whose LLC header is missing or whose length field is wrong.
    pub const MALFORMED_LLC: WireAnomalies = WireAnomalies(1 << 4);
    /// An IP header that cannot be decoded (bad version, header length, short).
    pub const MALFORMED_IP: WireAnomalies = WireAnomalies(1 << 5);
    /// The IP total length says more bytes than the frame holds.
    pub const TRUNCATED_IP: WireAnomalies = WireAnomalies(1 << 6);
    /// An IPv6 extension header (or IPv4 AH) that cannot be decoded.
    pub const MALFORMED_IP_EXTENSION: WireAnomalies = WireAnomalies(1 << 7);
    /// A TCP/UDP/ICMP header that cannot be decoded.
    pub const MALFORMED_TRANSPORT: WireAnomalies = WireAnomalies(1 << 8);
    /// An IPv4 fragment overlaps bytes already received for the same datagram.
    pub const FRAGMENT_OVERLAP: WireAnomalies = WireAnomalies(1 << 9);
    /// IPv4 fragments describe a datagram larger than [`crate::defrag::MAX_DATAGRAM_LEN`].
    pub const FRAGMENT_TOO_LARGE: WireAnomalies = WireAnomalies(1 << 10);
    /// The reassembly table was full ([`crate::defrag::MAX_PENDING_DATAGRAMS`]); the oldest datagram was dropped.
    pub const FRAGMENT_TABLE_FULL: WireAnomalies = WireAnomalies(1 << 11);
    /// More fragments for one datagram than [`crate::defrag::MAX_FRAGMENTS_PER_DATAGRAM`].
    pub const TOO_MANY_FRAGMENTS: WireAnomalies = WireAnomalies(1 << 12);
    /// Incomplete datagrams expired ([`crate::defrag::FRAGMENT_TIMEOUT_NS`]) while decoding this frame.
    pub const FRAGMENT_TIMEOUT: WireAnomalies = WireAnomalies(1 << 13);

    /// Whether no flag is set.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Whether every flag of `other` is set in `self`.
    pub fn contains(self, other: WireAnomalies) -> bool {
        self.0 & other.0 == other.0
    }

    /// Sets the flags of `other`.
    pub fn insert(&mut self, other: WireAnomalies) {
        self.0 |= other.0;
    }

    /// The raw bits.
    pub fn bits(self) -> u32 {
        self.0
    }

    /// The stable names of the flags that are set, in bit order.
    pub fn names(self) -> impl Iterator<Item = &'static str> {
        NAMES.into_iter().filter(move |(f, _)| self.contains(*f)).map(|(_, n)| n)
    }

    /// Whether the frame is malformed, i.e. any flag other than the
    /// bookkeeping ones of the reassembly table is set.
    pub fn is_malformed(self) -> bool {
        let bookkeeping = WireAnomalies::FRAGMENT_TABLE_FULL.0 | WireAnomalies::FRAGMENT_TIMEOUT.0;
        self.0 & !bookkeeping != 0
    }
}

impl std::ops::BitOr for WireAnomalies {
    type Output = WireAnomalies;
    fn bitor(self, rhs: WireAnomalies) -> WireAnomalies {
        WireAnomalies(self.0 | rhs.0)
    }
}

impl fmt::Debug for WireAnomalies {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.names()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_stable_and_in_bit_order() {
        let a = WireAnomalies::MALFORMED_IP | WireAnomalies::TRUNCATED_LINK;
        assert_eq!(a.names().collect::<Vec<_>>(), ["wire.truncated_link", "wire.malformed_ip"]);
        assert!(a.is_malformed());
        assert!(!WireAnomalies::FRAGMENT_TABLE_FULL.is_malformed());
        // Every constant has exactly one bit and one name.
        for (i, (flag, _)) in NAMES.iter().enumerate() {
            assert_eq!(flag.bits(), 1 << i);
        }
    }
}
