//! Event-timeline entries: alerts raised, triage actions, network events.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{AlertId, Timestamp};

crate::named_enum! {
    /// Event severity on the timeline (reference §6.2).
    pub enum EventSeverity: "event severity" {
        /// Informational.
        Info = "INFO",
        /// Worth a look.
        Notice = "NOTICE",
        /// An alert.
        Alert = "ALERT",
    }
}

/// One timeline entry.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Id.
    pub id: i64,
    /// When it happened (packet time for network events).
    pub at: Timestamp,
    /// Type, e.g. `DEVICE_CREATE`, `ALERT_REPORTED`, `PLC_STOP` (reference §6.2 names).
    pub event_type: String,
    /// Severity.
    pub severity: EventSeverity,
    /// Title.
    pub title: String,
    /// Longer text.
    pub description: String,
    /// Device concerned.
    pub device_id: Option<i64>,
    /// Source IP.
    pub src_ip: Option<String>,
    /// Destination IP.
    pub dst_ip: Option<String>,
    /// Protocol.
    pub protocol: Option<String>,
    /// Sensor.
    pub sensor: Option<String>,
    /// Site.
    pub site: Option<String>,
    /// Zone.
    pub zone: Option<String>,
    /// Related alert.
    pub alert_id: Option<AlertId>,
    /// User who caused it, for user operations.
    pub owner: Option<String>,
    /// Extra facts.
    pub details: BTreeMap<String, String>,
}

/// A new timeline entry, before it has an id.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewEvent {
    /// Idempotency key; an event with a key already stored is skipped.
    #[serde(default)]
    pub key: Option<String>,
    /// When.
    pub at: Timestamp,
    /// Type.
    pub event_type: String,
    /// Severity.
    pub severity: EventSeverity,
    /// Title.
    pub title: String,
    /// Longer text.
    #[serde(default)]
    pub description: String,
    /// Device id, if known.
    #[serde(default)]
    pub device_id: Option<i64>,
    /// Source IP.
    #[serde(default)]
    pub src_ip: Option<String>,
    /// Destination IP.
    #[serde(default)]
    pub dst_ip: Option<String>,
    /// Protocol.
    #[serde(default)]
    pub protocol: Option<String>,
    /// Sensor.
    #[serde(default)]
    pub sensor: Option<String>,
    /// Site.
    #[serde(default)]
    pub site: Option<String>,
    /// Zone.
    #[serde(default)]
    pub zone: Option<String>,
    /// Related alert.
    #[serde(default)]
    pub alert_id: Option<AlertId>,
    /// User.
    #[serde(default)]
    pub owner: Option<String>,
    /// Extra facts.
    #[serde(default)]
    pub details: BTreeMap<String, String>,
}

impl NewEvent {
    /// An event with the required fields and nothing else.
    pub fn new(
        at: Timestamp,
        event_type: &str,
        severity: EventSeverity,
        title: impl Into<String>,
    ) -> NewEvent {
        NewEvent {
            key: None,
            at,
            event_type: event_type.into(),
            severity,
            title: title.into(),
            description: String::new(),
            device_id: None,
            src_ip: None,
            dst_ip: None,
            protocol: None,
            sensor: None,
            site: None,
            zone: None,
            alert_id: None,
            owner: None,
            details: BTreeMap::new(),
        }
    }
}

/// The title of a known event type (reference §6.2), or the type itself.
pub fn event_title(event_type: &str) -> &str {
    match event_type {
        "DEVICE_CREATE" => "Device Detected",
        "DEVICE_UPDATE" => "Device Updated",
        "ALERT_REPORTED" => "Alert Detected",
        "ALERT_UPDATED" => "Alert Updated",
        "ALERT_CLOSED" => "Alert Closed",
        "ALERT_LEARNED" => "Alert Learned",
        "ALERT_UNLEARNED" => "Alert Unlearned",
        "SCAN" => "Scan Device Detected",
        "PROGRAM_DEVICE" => "PLC Programming",
        "PROGRAM_UPLOAD_DEVICE" => "PLC Program Upload",
        "EXCLUSION_RULE_CREATED" => "Exclusion Rule Created",
        "EXCLUSION_RULE_UPDATED" => "Exclusion Rule Updated",
        "EXCLUSION_RULE_REMOVED" => "Exclusion Rule Removed",
        "DEVICE_CONNECTION_CREATED" => "Device Connection Detected",
        "USER_LOGIN" => "User Login Attempt",
        "FILE_TRANSFER" => "File Transfer Detected",
        "BACK_TO_NORMAL" => "Back to Normal",
        "FIRMWARE_UPDATE" => "Firmware Update",
        "FIRMWARE_CHANGED" => "PLC Firmware Changed",
        "PLC_START" => "PLC Start",
        "PLC_STOP" => "PLC Stop",
        "CONFIGURATION_CHANGE" => "PLC Configuration Write",
        "CONFIGURATION_READ" => "PLC Configuration Read",
        "INTERNET_ACCESS" => "Internet Access",
        "MUTED_ALERT" => "Event Detected and Muted",
        "DHCP_UPDATE" => "Address Update",
        other => other,
    }
}
