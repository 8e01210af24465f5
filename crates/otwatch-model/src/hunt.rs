//! The hunting tables: their stable names, columns and KQL types.
//!
//! This is the contract between the query language (`otwatch-query`) and the
//! storage backends: every backend exposes, for each table here, a read-only
//! relation named `hunt_<table>` (lower case) with exactly these columns in
//! this order. Times are integers (microseconds since the epoch, UTC);
//! `dynamic` columns hold JSON text; strings are never NULL (empty instead);
//! `long` columns may be NULL where noted.

/// A column type in KQL terms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KqlType {
    /// `string`.
    String,
    /// `long` (64-bit integer).
    Long,
    /// `int` (32-bit integer).
    Int,
    /// `real`.
    Real,
    /// `bool`.
    Bool,
    /// `datetime` (stored as microseconds since the epoch).
    DateTime,
    /// `dynamic` (stored as JSON text).
    Dynamic,
}

impl KqlType {
    /// The KQL type name.
    pub fn name(self) -> &'static str {
        match self {
            KqlType::String => "string",
            KqlType::Long => "long",
            KqlType::Int => "int",
            KqlType::Real => "real",
            KqlType::Bool => "bool",
            KqlType::DateTime => "datetime",
            KqlType::Dynamic => "dynamic",
        }
    }
}

/// A hunting table.
#[derive(Clone, Copy, Debug)]
pub struct HuntTable {
    /// KQL name.
    pub name: &'static str,
    /// Other names accepted (e.g. `DeviceInfo`).
    pub aliases: &'static [&'static str],
    /// Name of the backing relation in the store.
    pub relation: &'static str,
    /// Columns in order: (name, type, description).
    pub columns: &'static [(&'static str, KqlType, &'static str)],
}

use KqlType::{Bool, DateTime, Dynamic, Int, Long, String as Str};

/// Every hunting table.
pub const HUNT_TABLES: &[HuntTable] = &[
    HuntTable {
        name: "Alerts",
        aliases: &[],
        relation: "hunt_alerts",
        columns: &[
            ("AlertId", Long, "Unique alert id."),
            ("Timestamp", DateTime, "Last detection (same as LastDetection)."),
            ("FirstDetection", DateTime, "First time the traffic was seen."),
            ("LastDetection", DateTime, "Last time the traffic was seen."),
            ("LastActivity", DateTime, "Last change of any kind."),
            ("Title", Str, "Alert name."),
            ("AlertType", Str, "Catalogue type id."),
            ("Severity", Str, "Critical, Major, Minor or Warning."),
            ("Status", Str, "New, Active or Closed."),
            ("Engine", Str, "Raising engine."),
            ("Category", Str, "Alert category."),
            ("Protocol", Str, "Alert protocol."),
            ("SrcIp", Str, "Source IP address."),
            ("SrcMac", Str, "Source MAC address."),
            ("SrcDeviceId", Long, "Source device id (may be null)."),
            ("DstIp", Str, "Destination IP address."),
            ("DstMac", Str, "Destination MAC address."),
            ("DstDeviceId", Long, "Destination device id (may be null)."),
            ("SensorId", Str, "Detecting sensor."),
            ("Site", Str, "Site."),
            ("Zone", Str, "Zone."),
            ("Tactics", Dynamic, "MITRE ATT&CK for ICS tactic names (array)."),
            ("Techniques", Dynamic, "MITRE ATT&CK for ICS technique ids (array)."),
            ("OccurrenceCount", Long, "Sightings while open."),
            ("Details", Dynamic, "Type-specific facts (object)."),
        ],
    },
    HuntTable {
        name: "Devices",
        aliases: &["DeviceInfo"],
        relation: "hunt_devices",
        columns: &[
            ("DeviceId", Long, "Inventory id."),
            ("Timestamp", DateTime, "Last seen (same as LastSeen)."),
            ("FirstSeen", DateTime, "First seen."),
            ("LastSeen", DateTime, "Last seen."),
            ("DeviceName", Str, "Name."),
            ("IpAddress", Str, "IP address."),
            ("PublicIP", Str, "The IP address when it is a public (Internet) address, else empty."),
            ("MacAddress", Str, "MAC address."),
            ("Vendor", Str, "Vendor."),
            ("Model", Str, "Model."),
            ("Firmware", Str, "Firmware version."),
            ("DeviceType", Str, "PLC, RTU, HMI, Engineering Station, …"),
            ("DeviceCategory", Str, "OT, IoT, Endpoint or NetworkDevice."),
            ("IsOT", Bool, "OT (true) or IT."),
            ("Site", Str, "Site."),
            ("Zone", Str, "Zone."),
            ("SensorId", Str, "Sensor."),
            ("Protocols", Dynamic, "Protocols spoken (array)."),
            ("Authorized", Bool, "Authorized device."),
            ("IsProgrammingDevice", Bool, "Allowed to program controllers."),
        ],
    },
    HuntTable {
        name: "Connections",
        aliases: &[],
        relation: "hunt_connections",
        columns: &[
            ("Timestamp", DateTime, "Last seen (same as LastSeen)."),
            ("FirstSeen", DateTime, "First packet."),
            ("LastSeen", DateTime, "Last packet."),
            ("SrcIp", Str, "Source (client) address."),
            ("SrcDeviceId", Long, "Source device id (may be null)."),
            ("DstIp", Str, "Destination (server) address."),
            ("DstDeviceId", Long, "Destination device id (may be null)."),
            ("Transport", Str, "tcp, udp, icmp, …"),
            ("DstPort", Int, "Destination port (may be null)."),
            ("Protocol", Str, "Application protocol."),
            ("Packets", Long, "Packets."),
            ("Bytes", Long, "Bytes."),
            ("SensorId", Str, "Sensor."),
            ("Site", Str, "Site."),
        ],
    },
    HuntTable {
        name: "Events",
        aliases: &[],
        relation: "hunt_events",
        columns: &[
            ("Timestamp", DateTime, "When it happened."),
            ("EventType", Str, "DEVICE_CREATE, ALERT_REPORTED, PLC_STOP, …"),
            ("Title", Str, "Title."),
            ("DeviceId", Long, "Device id (may be null)."),
            ("SrcIp", Str, "Source IP."),
            ("DstIp", Str, "Destination IP."),
            ("Protocol", Str, "Protocol."),
            ("SensorId", Str, "Sensor."),
            ("Site", Str, "Site."),
            ("Details", Dynamic, "Extra facts (object)."),
        ],
    },
];

/// Finds a table by name or alias (exact, then case-insensitive).
pub fn hunt_table(name: &str) -> Option<&'static HuntTable> {
    HUNT_TABLES.iter().find(|t| t.name == name || t.aliases.contains(&name)).or_else(|| {
        HUNT_TABLES.iter().find(|t| {
            t.name.eq_ignore_ascii_case(name)
                || t.aliases.iter().any(|a| a.eq_ignore_ascii_case(name))
        })
    })
}
