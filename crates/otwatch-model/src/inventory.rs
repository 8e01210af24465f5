//! Devices, their connections, and the sensors, sites and zones that see them.
//!
//! A device is identified within a zone by its IP and MAC together (the
//! reference's consolidation rule: same zone + same IP + same MAC = one
//! device; the same MAC with different IPs stays separate). Sensors report
//! [`DeviceObservation`]s and [`ConnectionObservation`]s; the store merges
//! them into [`Device`]s and [`Connection`]s.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::Timestamp;

crate::named_enum! {
    /// What a device is, inferred from its behaviour or set by a user.
    pub enum DeviceType: "device type" {
        /// Programmable logic controller.
        Plc = "PLC",
        /// Remote terminal unit / outstation.
        Rtu = "RTU",
        /// Other field controller (building automation, DCS controller).
        Controller = "Controller",
        /// Human-machine interface.
        Hmi = "HMI",
        /// SCADA server polling field devices.
        ScadaServer = "SCADA Server",
        /// Engineering workstation (programs controllers).
        EngineeringStation = "Engineering Station",
        /// Process historian.
        Historian = "Historian",
        /// IT server.
        Server = "Server",
        /// IT workstation.
        Workstation = "Workstation",
        /// Switch, router, firewall.
        NetworkDevice = "Network Device",
        /// Something that scans the network.
        Scanner = "Scanner",
        /// Not yet known.
        Unknown = "Miscellaneous" | "Unknown",
    }
}

impl DeviceType {
    /// Whether the type lives on the OT side.
    pub fn is_ot(self) -> bool {
        matches!(
            self,
            DeviceType::Plc
                | DeviceType::Rtu
                | DeviceType::Controller
                | DeviceType::Hmi
                | DeviceType::ScadaServer
                | DeviceType::EngineeringStation
                | DeviceType::Historian
        )
    }
}

crate::named_enum! {
    /// How much a device matters.
    pub enum Importance: "importance" {
        /// Low.
        Low = "Low",
        /// Normal.
        Normal = "Normal" | "Medium",
        /// High.
        High = "High",
    }
}

/// A device in the inventory.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Device {
    /// Inventory id.
    pub id: i64,
    /// Name (host name, protocol-reported name, or user-given).
    pub name: Option<String>,
    /// IP address.
    pub ip: Option<String>,
    /// MAC address (lower-case, colon separated).
    pub mac: Option<String>,
    /// Vendor (from the MAC OUI or protocol identification).
    pub vendor: Option<String>,
    /// Model (from protocol identification).
    pub model: Option<String>,
    /// Firmware version.
    pub firmware: Option<String>,
    /// Serial number.
    pub serial: Option<String>,
    /// Type.
    pub device_type: DeviceType,
    /// OT (true) or IT.
    pub is_ot: bool,
    /// Protocols the device speaks (as client or server).
    pub protocols: Vec<String>,
    /// VLAN id, if tagged.
    pub vlan: Option<u16>,
    /// Sensor that saw it.
    pub sensor: Option<String>,
    /// Site.
    pub site: Option<String>,
    /// Zone.
    pub zone: Option<String>,
    /// First seen.
    pub first_seen: Timestamp,
    /// Last seen.
    pub last_seen: Timestamp,
    /// Authorized by a user (or seen during learning).
    pub authorized: bool,
    /// Allowed to program controllers.
    pub programming_device: bool,
    /// Known scanner.
    pub scanner: bool,
    /// Importance.
    pub importance: Importance,
    /// Other facts (PLC mode, rack/slot, DHCP name…).
    pub details: BTreeMap<String, String>,
}

impl Device {
    /// A short label: name, else IP, else MAC.
    pub fn label(&self) -> String {
        self.name
            .clone()
            .or_else(|| self.ip.clone())
            .or_else(|| self.mac.clone())
            .unwrap_or_else(|| format!("#{}", self.id))
    }
}

/// What a sensor learned about a device; `None` fields leave stored values alone.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DeviceObservation {
    /// IP address (part of the identity).
    pub ip: Option<String>,
    /// MAC address (part of the identity).
    pub mac: Option<String>,
    /// Name.
    pub name: Option<String>,
    /// Vendor.
    pub vendor: Option<String>,
    /// Model.
    pub model: Option<String>,
    /// Firmware.
    pub firmware: Option<String>,
    /// Serial number.
    pub serial: Option<String>,
    /// Inferred type; `Unknown` never overwrites a known type.
    pub device_type: Option<DeviceType>,
    /// OT or IT.
    pub is_ot: Option<bool>,
    /// Protocols seen; merged into the stored set.
    pub protocols: Vec<String>,
    /// VLAN id.
    pub vlan: Option<u16>,
    /// Sensor.
    pub sensor: Option<String>,
    /// Site.
    pub site: Option<String>,
    /// Zone (part of the identity).
    pub zone: Option<String>,
    /// When it was seen (first_seen = min, last_seen = max).
    pub seen: Timestamp,
    /// Authorized (set during learning).
    pub authorized: Option<bool>,
    /// Extra facts, merged key by key.
    pub details: BTreeMap<String, String>,
}

/// Traffic between two devices on one service.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Connection {
    /// Id.
    pub id: i64,
    /// Source (client) device id.
    pub src_device_id: Option<i64>,
    /// Destination (server) device id.
    pub dst_device_id: Option<i64>,
    /// Source IP (or MAC for non-IP traffic).
    pub src: String,
    /// Destination IP (or MAC).
    pub dst: String,
    /// tcp, udp, icmp, or the EtherType name.
    pub transport: String,
    /// Destination port, when there is one.
    pub dst_port: Option<u16>,
    /// Application protocol.
    pub protocol: Option<String>,
    /// Packets seen.
    pub packets: u64,
    /// Bytes seen (frame lengths).
    pub bytes: u64,
    /// First seen.
    pub first_seen: Timestamp,
    /// Last seen.
    pub last_seen: Timestamp,
    /// Sensor.
    pub sensor: Option<String>,
    /// Site.
    pub site: Option<String>,
    /// Zone.
    pub zone: Option<String>,
}

/// What a sensor counted on a connection since its last report.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConnectionObservation {
    /// Source IP (or MAC).
    pub src: String,
    /// Destination IP (or MAC).
    pub dst: String,
    /// Source MAC, to link the device.
    pub src_mac: Option<String>,
    /// Destination MAC, to link the device.
    pub dst_mac: Option<String>,
    /// Transport.
    pub transport: String,
    /// Destination port.
    pub dst_port: Option<u16>,
    /// Application protocol.
    pub protocol: Option<String>,
    /// Packets since the last report (added).
    pub packets: u64,
    /// Bytes since the last report (added).
    pub bytes: u64,
    /// First packet time of this report.
    pub first_seen: Timestamp,
    /// Last packet time of this report.
    pub last_seen: Timestamp,
    /// Sensor.
    pub sensor: Option<String>,
    /// Site.
    pub site: Option<String>,
    /// Zone.
    pub zone: Option<String>,
}

/// A sensor, and where it sits.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sensor {
    /// Stable id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Site.
    pub site: Option<String>,
    /// Zone.
    pub zone: Option<String>,
    /// Last time it reported.
    pub last_seen: Option<Timestamp>,
}

/// A site and its zones.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Site {
    /// Name.
    pub name: String,
    /// Zones in the site.
    pub zones: Vec<String>,
}

/// Normalises a MAC address to lower-case colon form; `None` if it is not one.
pub fn normalize_mac(text: &str) -> Option<String> {
    let hex: String = text.chars().filter(|c| c.is_ascii_hexdigit()).collect();
    let seps = text.chars().filter(|c| matches!(c, ':' | '-' | '.')).count();
    if hex.len() != 12 || hex.len() + seps != text.len() {
        return None;
    }
    let lower = hex.to_ascii_lowercase();
    let parts: Vec<&str> = (0..6).filter_map(|i| lower.get(i * 2..i * 2 + 2)).collect();
    Some(parts.join(":"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macs_normalise() {
        assert_eq!(normalize_mac("00-1D-9C-C8-03-E8").as_deref(), Some("00:1d:9c:c8:03:e8"));
        assert_eq!(normalize_mac("001d.9cc8.03e8").as_deref(), Some("00:1d:9c:c8:03:e8"));
        assert_eq!(normalize_mac("00:1d:9c"), None);
        assert_eq!(normalize_mac("zz:1d:9c:c8:03:e8"), None);
    }

    #[test]
    fn ot_types() {
        assert!(DeviceType::Plc.is_ot());
        assert!(!DeviceType::Workstation.is_ot());
        assert_eq!(DeviceType::parse("plc").unwrap(), DeviceType::Plc);
    }
}
