//! The alert record and its columns.
//!
//! An [`Alert`] is one row of the Alerts grid: one alert type seen on one
//! traffic fingerprint, with its occurrence count, lifecycle state and the
//! catalogue facts copied in when it was raised (so a later catalogue change
//! does not rewrite history). Its serialised form (snake_case) is the JSON of
//! the CLI and of the REST API.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{Category, Engine, Severity, Tactic, Technique, Timestamp};

/// An alert's numeric id, unique within one store.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AlertId(pub i64);

impl std::fmt::Display for AlertId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

crate::named_enum! {
    /// Triage status (reference §1.4). The on-prem console calls New
    /// "Unacknowledged" and Closed "Acknowledged"; the API says unhandled/handled.
    pub enum Status: "status" {
        /// Not yet triaged.
        New = "New" | "Unacknowledged" | "unhandled",
        /// Under investigation.
        Active = "Active",
        /// Investigated; the same traffic later opens a new alert.
        Closed = "Closed" | "Acknowledged" | "handled",
    }
}

impl Status {
    /// Storage code.
    pub fn code(self) -> i64 {
        match self {
            Status::New => 0,
            Status::Active => 1,
            Status::Closed => 2,
        }
    }

    /// Inverse of [`Status::code`].
    pub fn from_code(code: i64) -> Option<Status> {
        match code {
            0 => Some(Status::New),
            1 => Some(Status::Active),
            2 => Some(Status::Closed),
            _ => None,
        }
    }

    /// New or Active.
    pub fn is_open(self) -> bool {
        self != Status::Closed
    }
}

crate::named_enum! {
    /// Why a closed alert stays quiet: learned into the baseline, muted, or neither.
    pub enum Disposition: "disposition" {
        /// No suppression; the same traffic after Closed opens a new alert.
        None = "none",
        /// Closed and its traffic added to the baseline.
        Learned = "learned",
        /// Closed and the same traffic suppressed without learning.
        Muted = "muted",
    }
}

impl Disposition {
    /// Storage code.
    pub fn code(self) -> i64 {
        match self {
            Disposition::None => 0,
            Disposition::Learned => 1,
            Disposition::Muted => 2,
        }
    }

    /// Inverse of [`Disposition::code`].
    pub fn from_code(code: i64) -> Option<Disposition> {
        match code {
            0 => Some(Disposition::None),
            1 => Some(Disposition::Learned),
            2 => Some(Disposition::Muted),
            _ => None,
        }
    }
}

/// One side of the traffic: a device as the alert saw it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Endpoint {
    /// IPv4 or IPv6 address, if the traffic had one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    /// MAC address, lower-case colon form.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mac: Option<String>,
    /// Device name (host name or inventory name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Inventory id of the device, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_id: Option<i64>,
}

impl Endpoint {
    /// True when nothing identifies the endpoint.
    pub fn is_empty(&self) -> bool {
        self.ip.is_none() && self.mac.is_none() && self.name.is_none() && self.device_id.is_none()
    }

    /// A short label: name, else IP, else MAC.
    pub fn label(&self) -> &str {
        self.name.as_deref().or(self.ip.as_deref()).or(self.mac.as_deref()).unwrap_or("")
    }
}

/// One alert.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// Unique id.
    pub id: AlertId,
    /// Catalogue type id (stable, e.g. `policy_new_asset`).
    #[serde(rename = "type")]
    pub alert_type: String,
    /// Title.
    pub name: String,
    /// Raising engine.
    pub engine: Engine,
    /// Category (alert group).
    pub category: Category,
    /// Current severity (may differ from the type's default after a change).
    pub severity: Severity,
    /// Triage status.
    pub status: Status,
    /// Learned / muted / none.
    pub disposition: Disposition,
    /// First time the traffic was seen.
    pub first_detection: Timestamp,
    /// Last time the traffic was seen.
    pub last_detection: Timestamp,
    /// Last change of any kind (detection update, triage, comment).
    pub last_activity: Timestamp,
    /// How many times the traffic was seen while the alert was open.
    pub occurrence_count: u64,
    /// Hits suppressed after the alert was learned or muted.
    pub suppressed_count: u64,
    /// Source device.
    pub source: Endpoint,
    /// Destination device.
    pub destination: Endpoint,
    /// The alert protocol.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
    /// Detecting sensor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sensor: Option<String>,
    /// Site of the sensor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site: Option<String>,
    /// Zone of the sensor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone: Option<String>,
    /// MITRE ATT&CK for ICS tactics.
    pub tactics: Vec<Tactic>,
    /// MITRE ATT&CK for ICS techniques.
    pub techniques: Vec<Technique>,
    /// Description, with the type's template filled in.
    pub description: String,
    /// Remediation steps.
    pub remediation: Vec<String>,
    /// Whether Learn is allowed.
    pub learnable: bool,
    /// Whether Mute is allowed.
    pub mutable: bool,
    /// The traffic fingerprint that de-duplicates repeats.
    pub fingerprint: String,
    /// Type-specific facts (function code, counts, the scanner's targets…).
    pub details: BTreeMap<String, String>,
}

/// A comment on an alert.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Comment {
    /// Comment id.
    pub id: i64,
    /// The alert it belongs to.
    pub alert_id: AlertId,
    /// When it was written.
    pub at: Timestamp,
    /// Who wrote it.
    pub author: String,
    /// The text.
    pub text: String,
}

/// How a column is typed, which decides how filter values are read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldKind {
    /// Free text, compared exactly (and with `contains`).
    Text,
    /// An integer.
    Integer,
    /// A time.
    Time,
    /// A severity name.
    Severity,
    /// A status name.
    Status,
    /// A disposition name.
    Disposition,
    /// An engine name.
    Engine,
    /// A category name.
    Category,
    /// true/false.
    Bool,
    /// A list (tactics, techniques): filters match any element.
    List,
}

macro_rules! alert_fields {
    ($( $variant:ident = $key:literal, $label:literal, $kind:ident ; )+) => {
        /// Every alert column that can be shown, filtered, sorted, grouped or exported.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum AlertField { $( #[doc = $label] $variant ),+ }

        impl AlertField {
            /// Every column, in display order.
            pub const ALL: &'static [AlertField] = &[ $( AlertField::$variant ),+ ];

            /// The API / CSV key (snake_case).
            pub fn key(self) -> &'static str {
                match self { $( AlertField::$variant => $key ),+ }
            }

            /// The column title shown in the grid and CSV header.
            pub fn label(self) -> &'static str {
                match self { $( AlertField::$variant => $label ),+ }
            }

            /// How values of this column are typed.
            pub fn kind(self) -> FieldKind {
                match self { $( AlertField::$variant => FieldKind::$kind ),+ }
            }
        }
    };
}

alert_fields! {
    Id = "id", "ID", Integer;
    Severity = "severity", "Severity", Severity;
    Name = "name", "Name", Text;
    Type = "type", "Type", Text;
    Engine = "engine", "Engine", Engine;
    Category = "category", "Category", Category;
    Status = "status", "Status", Status;
    Disposition = "disposition", "Disposition", Disposition;
    FirstDetection = "first_detection", "First detection", Time;
    LastDetection = "last_detection", "Last detection", Time;
    LastActivity = "last_activity", "Last activity", Time;
    OccurrenceCount = "occurrence_count", "Occurrences", Integer;
    SourceIp = "source_ip", "Source device address", Text;
    SourceMac = "source_mac", "Source MAC", Text;
    SourceName = "source_name", "Source device", Text;
    DestinationIp = "destination_ip", "Destination device address", Text;
    DestinationMac = "destination_mac", "Destination MAC", Text;
    DestinationName = "destination_name", "Destination device", Text;
    Protocol = "protocol", "Protocol", Text;
    Sensor = "sensor", "Sensor", Text;
    Site = "site", "Site", Text;
    Zone = "zone", "Zone", Text;
    Tactics = "tactics", "Tactics", List;
    Techniques = "techniques", "Techniques", List;
    Learnable = "learnable", "Learnable", Bool;
    Mutable = "mutable", "Mutable", Bool;
    Description = "description", "Description", Text;
}

impl AlertField {
    /// Parses an API key (`last_detection`), accepting the label too, case-insensitively.
    pub fn parse(text: &str) -> Result<AlertField, crate::UnknownName> {
        let t = text.trim();
        let norm = t.replace([' ', '-'], "_");
        for f in AlertField::ALL {
            if f.key().eq_ignore_ascii_case(&norm) || f.label().eq_ignore_ascii_case(t) {
                return Ok(*f);
            }
        }
        // Common aliases.
        let alias = match norm.to_ascii_lowercase().as_str() {
            "title" | "alert" => Some(AlertField::Name),
            "alert_type" => Some(AlertField::Type),
            "source" | "source_device" | "src" => Some(AlertField::SourceName),
            "destination" | "destination_device" | "dst" => Some(AlertField::DestinationName),
            "src_ip" => Some(AlertField::SourceIp),
            "dst_ip" => Some(AlertField::DestinationIp),
            "occurrences" | "count" => Some(AlertField::OccurrenceCount),
            _ => None,
        };
        alias.ok_or_else(|| crate::UnknownName {
            what: "alert column",
            value: t.to_string(),
            choices: AlertField::ALL.iter().map(|f| f.key()).collect(),
        })
    }

    /// The columns the Alerts grid shows by default (reference §1.1).
    pub const DEFAULT_COLUMNS: &'static [AlertField] = &[
        AlertField::Severity,
        AlertField::Name,
        AlertField::Site,
        AlertField::Engine,
        AlertField::LastDetection,
        AlertField::Status,
        AlertField::SourceName,
        AlertField::Tactics,
    ];

    /// Columns that group-by accepts.
    pub fn groupable(self) -> bool {
        !matches!(
            self,
            AlertField::Id
                | AlertField::Description
                | AlertField::FirstDetection
                | AlertField::LastDetection
                | AlertField::LastActivity
                | AlertField::OccurrenceCount
        )
    }

    /// Columns that sort accepts.
    pub fn sortable(self) -> bool {
        !matches!(self, AlertField::Tactics | AlertField::Techniques | AlertField::Description)
    }
}

impl Alert {
    /// The text value of a column, as shown in tables and CSV.
    pub fn field_text(&self, field: AlertField) -> String {
        fn opt(o: &Option<String>) -> String {
            o.clone().unwrap_or_default()
        }
        match field {
            AlertField::Id => self.id.to_string(),
            AlertField::Severity => self.severity.to_string(),
            AlertField::Name => self.name.clone(),
            AlertField::Type => self.alert_type.clone(),
            AlertField::Engine => self.engine.to_string(),
            AlertField::Category => self.category.to_string(),
            AlertField::Status => self.status.to_string(),
            AlertField::Disposition => self.disposition.to_string(),
            AlertField::FirstDetection => self.first_detection.to_string(),
            AlertField::LastDetection => self.last_detection.to_string(),
            AlertField::LastActivity => self.last_activity.to_string(),
            AlertField::OccurrenceCount => self.occurrence_count.to_string(),
            AlertField::SourceIp => opt(&self.source.ip),
            AlertField::SourceMac => opt(&self.source.mac),
            AlertField::SourceName => self.source.label().to_string(),
            AlertField::DestinationIp => opt(&self.destination.ip),
            AlertField::DestinationMac => opt(&self.destination.mac),
            AlertField::DestinationName => self.destination.label().to_string(),
            AlertField::Protocol => opt(&self.protocol),
            AlertField::Sensor => opt(&self.sensor),
            AlertField::Site => opt(&self.site),
            AlertField::Zone => opt(&self.zone),
            AlertField::Tactics => {
                self.tactics.iter().map(|t| t.as_str()).collect::<Vec<_>>().join("; ")
            }
            AlertField::Techniques => {
                self.techniques.iter().map(|t| t.id()).collect::<Vec<_>>().join("; ")
            }
            AlertField::Learnable => self.learnable.to_string(),
            AlertField::Mutable => self.mutable.to_string(),
            AlertField::Description => self.description.clone(),
        }
    }
}

/// Makes a cell safe to open in a spreadsheet: a value that starts with
/// `=`, `+`, `-`, `@`, tab or carriage return is prefixed with `'` so it is
/// read as text, not as a formula (OWASP CSV injection guidance).
pub fn spreadsheet_safe(cell: &str) -> std::borrow::Cow<'_, str> {
    match cell.as_bytes().first() {
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r') => format!("'{cell}").into(),
        _ => cell.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_keys_parse_back() {
        for f in AlertField::ALL {
            assert_eq!(AlertField::parse(f.key()).unwrap(), *f);
            assert_eq!(AlertField::parse(f.label()).unwrap(), *f);
        }
        assert_eq!(AlertField::parse("Last Detection").unwrap(), AlertField::LastDetection);
        let err = AlertField::parse("severityy").unwrap_err().to_string();
        assert!(err.contains("severity"), "{err}");
    }

    #[test]
    fn formula_cells_are_neutralised() {
        assert_eq!(spreadsheet_safe("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(spreadsheet_safe("-1+2"), "'-1+2");
        assert_eq!(spreadsheet_safe("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(spreadsheet_safe("10.0.0.1"), "10.0.0.1");
    }
}
