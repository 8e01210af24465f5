//! Every setting otwatch understands: its key, type, default and documentation.
//!
//! This table is the single source for validation, `otwatch config show`,
//! environment variable names and the documented example config.

/// The type of a setting and how its values are checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Any text.
    Text,
    /// A secret: shown redacted everywhere.
    Secret,
    /// A file-system path.
    Path,
    /// An integer within bounds.
    Int {
        /// Smallest allowed.
        min: i64,
        /// Largest allowed.
        max: i64,
    },
    /// true / false.
    Bool,
    /// One of a fixed set of words.
    Choice(&'static [&'static str]),
    /// A duration such as `90d`, `12h`, `30s`.
    Duration,
    /// A duration, or `off`.
    OptionalDuration,
    /// A socket address `host:port`.
    Addr,
    /// A list of CIDR subnets.
    Subnets,
}

impl Kind {
    /// How the type is described in errors and docs.
    pub fn describe(&self) -> String {
        match self {
            Kind::Text => "text".into(),
            Kind::Secret => "secret text".into(),
            Kind::Path => "a path".into(),
            Kind::Int { min, max } => format!("an integer from {min} to {max}"),
            Kind::Bool => "true or false".into(),
            Kind::Choice(c) => format!("one of {}", c.join(", ")),
            Kind::Duration => "a duration like 90d, 12h, 5m, 30s".into(),
            Kind::OptionalDuration => "a duration like 90d, or off".into(),
            Kind::Addr => "an address like 127.0.0.1:8080".into(),
            Kind::Subnets => "a list of subnets like [\"10.0.0.0/8\"]".into(),
        }
    }
}

/// One setting.
#[derive(Clone, Copy, Debug)]
pub struct Setting {
    /// Dotted key, `section.name`.
    pub key: &'static str,
    /// Type.
    pub kind: Kind,
    /// Default value as it would be written in the file (`""` = unset).
    pub default: &'static str,
    /// One-line documentation.
    pub doc: &'static str,
    /// An extra environment variable accepted besides `OTWATCH_<SECTION>_<NAME>`.
    pub env_alias: Option<&'static str>,
}

/// Log levels.
pub const LOG_LEVELS: &[&str] = &["error", "warn", "info", "debug", "trace"];

/// The settings table.
pub const SETTINGS: &[Setting] = &[
    Setting {
        key: "store.data_dir",
        kind: Kind::Path,
        default: "",
        doc: "Data directory (database, PCAP evidence). Default: $XDG_DATA_HOME/otwatch or ~/.local/share/otwatch.",
        env_alias: Some("OTWATCH_DATA_DIR"),
    },
    Setting {
        key: "store.max_size_bytes",
        kind: Kind::Int { min: 0, max: 1_099_511_627_776 },
        default: "0",
        doc: "Largest size of the database file (0: no cap). Writes beyond it fail with a clear \"storage is full\" error, as a full disk does; nothing stored is lost.",
        env_alias: None,
    },
    Setting {
        key: "lifecycle.auto_close_after",
        kind: Kind::Duration,
        default: "90d",
        doc: "Close an open alert when its traffic has been quiet this long.",
        env_alias: None,
    },
    Setting {
        key: "lifecycle.auto_close_interval",
        kind: Kind::Duration,
        default: "1h",
        doc: "How often the console looks for alerts to auto-close.",
        env_alias: None,
    },
    Setting {
        key: "log.level",
        kind: Kind::Text,
        default: "info",
        doc: "Log level (error, warn, info, debug, trace) or a RUST_LOG-style filter such as \"info,otwatch_store=debug\". RUST_LOG overrides it.",
        env_alias: None,
    },
    Setting {
        key: "log.format",
        kind: Kind::Choice(&["text", "json"]),
        default: "text",
        doc: "Log format: human-readable text or one JSON object per line.",
        env_alias: None,
    },
    Setting {
        key: "ingest.batch_size",
        kind: Kind::Int { min: 1, max: 100_000 },
        default: "20000",
        doc: "Detections stored per transaction by `otwatch ingest` and sensors.",
        env_alias: None,
    },
    Setting {
        key: "retention.alerts_max_age",
        kind: Kind::OptionalDuration,
        default: "90d",
        doc: "Delete alerts first detected longer ago than this and untouched for as long (no detection, no ingest, no action by a person; otwatch's own auto-close does not count), whatever their status (with their comments and PCAP); off keeps them.",
        env_alias: None,
    },
    Setting {
        key: "retention.alerts_max_count",
        kind: Kind::Int { min: 1000, max: 1_000_000_000 },
        default: "10000000",
        doc: "Keep at most this many alerts: beyond it, the least recently touched go first (with their comments and PCAP), whatever their status.",
        env_alias: None,
    },
    Setting {
        key: "retention.events_max_age",
        kind: Kind::OptionalDuration,
        default: "off",
        doc: "Delete timeline events older than this (packet time); off by default: the timeline is limited by count, as on Defender sensors.",
        env_alias: None,
    },
    Setting {
        key: "retention.events_max_count",
        kind: Kind::Int { min: 1000, max: 1_000_000_000 },
        default: "10000000",
        doc: "Keep at most this many timeline events (the oldest go first).",
        env_alias: None,
    },
    Setting {
        key: "retention.pcap_max_bytes",
        kind: Kind::Int { min: 1_048_576, max: 1_099_511_627_776 },
        default: "2684354560",
        doc: "Keep at most this many bytes of alert PCAP evidence (the oldest goes first).",
        env_alias: None,
    },
    Setting {
        key: "retention.interval",
        kind: Kind::Duration,
        default: "1h",
        doc: "How often the console applies the retention limits.",
        env_alias: None,
    },
    Setting {
        key: "server.listen",
        kind: Kind::Addr,
        default: "127.0.0.1:8080",
        doc: "Address the console listens on.",
        env_alias: None,
    },
    Setting {
        key: "server.tls_cert",
        kind: Kind::Path,
        default: "",
        doc: "PEM certificate chain; with tls_key, serve HTTPS.",
        env_alias: None,
    },
    Setting {
        key: "server.tls_key",
        kind: Kind::Path,
        default: "",
        doc: "PEM private key for tls_cert.",
        env_alias: None,
    },
    Setting {
        key: "server.session_ttl",
        kind: Kind::Duration,
        default: "12h",
        doc: "How long a sign-in lasts.",
        env_alias: None,
    },
    Setting {
        key: "server.request_timeout",
        kind: Kind::Duration,
        default: "30s",
        doc: "Longest time a request may take.",
        env_alias: None,
    },
    Setting {
        key: "server.max_body_bytes",
        kind: Kind::Int { min: 1024, max: 1_073_741_824 },
        default: "16777216",
        doc: "Largest request body accepted.",
        env_alias: None,
    },
    Setting {
        key: "server.admin_password",
        kind: Kind::Secret,
        default: "",
        doc: "Password of the first admin, created on first start (otherwise one is generated and printed once).",
        env_alias: Some("OTWATCH_ADMIN_PASSWORD"),
    },
    Setting {
        key: "sensor.id",
        kind: Kind::Text,
        default: "sensor-1",
        doc: "Stable id of this sensor.",
        env_alias: None,
    },
    Setting {
        key: "sensor.name",
        kind: Kind::Text,
        default: "",
        doc: "Display name of this sensor (defaults to the id).",
        env_alias: None,
    },
    Setting {
        key: "sensor.site",
        kind: Kind::Text,
        default: "",
        doc: "Site the sensor belongs to.",
        env_alias: None,
    },
    Setting {
        key: "sensor.zone",
        kind: Kind::Text,
        default: "",
        doc: "Zone the sensor belongs to.",
        env_alias: None,
    },
    Setting {
        key: "sensor.mode",
        kind: Kind::Choice(&["auto", "learning", "operational"]),
        default: "auto",
        doc: "auto: learn for learning_period, then operate; or force one mode.",
        env_alias: None,
    },
    Setting {
        key: "sensor.learning_period",
        kind: Kind::Duration,
        default: "7d",
        doc: "How long a new sensor learns its baseline in auto mode (packet time).",
        env_alias: None,
    },
    Setting {
        key: "sensor.ot_subnets",
        kind: Kind::Subnets,
        default: "",
        doc: "Subnets that hold OT devices (new-asset alerts fire only there). Empty: every private subnet.",
        env_alias: None,
    },
    Setting {
        key: "detect.indicator_feeds",
        kind: Kind::Text,
        default: "",
        doc: "Indicator feed files or directories of them, comma-separated (IPs, domains, URL paths, hashes; format in docs/detection.md); re-read when they change.",
        env_alias: None,
    },
    Setting {
        key: "detect.custom_rules",
        kind: Kind::Path,
        default: "",
        doc: "Custom rules file (TOML, format in docs/detection.md); validated at start, re-read when it changes.",
        env_alias: None,
    },
    Setting {
        key: "detect.thresholds",
        kind: Kind::Text,
        default: "",
        doc: "Threshold overrides as type.threshold=value, comma-separated, e.g. \"anomaly_port_scan.count=40, anomaly_port_scan.window=5m\" (`otwatch catalog` lists the thresholds).",
        env_alias: None,
    },
    Setting {
        key: "detect.enable_types",
        kind: Kind::Text,
        default: "",
        doc: "Alert types to raise although the catalogue has them off by default, comma-separated ids (or all).",
        env_alias: None,
    },
    Setting {
        key: "detect.disable_types",
        kind: Kind::Text,
        default: "",
        doc: "Alert types never to raise, comma-separated ids.",
        env_alias: None,
    },
    Setting {
        key: "detect.programming_devices",
        kind: Kind::Subnets,
        default: "",
        doc: "Devices allowed to program, upload from and configure controllers (besides devices flagged as programming devices in the inventory).",
        env_alias: None,
    },
    Setting {
        key: "detect.scanners",
        kind: Kind::Subnets,
        default: "",
        doc: "Devices allowed to scan (besides devices flagged as scanners in the inventory): no scan alerts for them.",
        env_alias: None,
    },
    Setting {
        key: "detect.report_interval",
        kind: Kind::Duration,
        default: "1m",
        doc: "Repeated sightings of the same alert are stored together at most this often (packet time); counts stay exact.",
        env_alias: None,
    },
    Setting {
        key: "detect.max_tracked",
        kind: Kind::Int { min: 1024, max: 10_000_000 },
        default: "65536",
        doc: "Sources, pairs, flows and devices each detection table tracks at most (least recently seen are dropped and counted).",
        env_alias: None,
    },
    Setting {
        key: "detect.silence_after",
        kind: Kind::Duration,
        default: "5m",
        doc: "Live capture: a gap this long without packets raises No Traffic Detected on Sensor Interface.",
        env_alias: None,
    },
    Setting {
        key: "detect.pcap_packets_before",
        kind: Kind::Int { min: 0, max: 10_000 },
        default: "10",
        doc: "Packets of the same flows kept before the triggering packets in an alert's PCAP.",
        env_alias: None,
    },
    Setting {
        key: "detect.pcap_packets_after",
        kind: Kind::Int { min: 0, max: 10_000 },
        default: "10",
        doc: "Packets of the same flows kept after the triggering packets in an alert's PCAP.",
        env_alias: None,
    },
    Setting {
        key: "detect.pcap_ring_packets",
        kind: Kind::Int { min: 0, max: 100_000 },
        default: "64",
        doc: "Recent packets kept per flow for PCAP evidence (0 keeps no evidence).",
        env_alias: None,
    },
    Setting {
        key: "detect.pcap_ring_bytes",
        kind: Kind::Int { min: 1_048_576, max: 17_179_869_184 },
        default: "67108864",
        doc: "Memory for the per-flow evidence rings, all flows together (least recently active flows go first).",
        env_alias: None,
    },
    Setting {
        key: "detect.engines.policy_violation",
        kind: Kind::Bool,
        default: "true",
        doc: "Run the Policy Violation engine.",
        env_alias: None,
    },
    Setting {
        key: "detect.engines.protocol_violation",
        kind: Kind::Bool,
        default: "true",
        doc: "Run the Protocol Violation engine.",
        env_alias: None,
    },
    Setting {
        key: "detect.engines.malware",
        kind: Kind::Bool,
        default: "true",
        doc: "Run the Malware engine.",
        env_alias: None,
    },
    Setting {
        key: "detect.engines.anomaly",
        kind: Kind::Bool,
        default: "true",
        doc: "Run the Anomaly engine.",
        env_alias: None,
    },
    Setting {
        key: "detect.engines.operational",
        kind: Kind::Bool,
        default: "true",
        doc: "Run the Operational engine.",
        env_alias: None,
    },
    Setting {
        key: "hunt.row_limit",
        kind: Kind::Int { min: 1, max: 1_000_000 },
        default: "10000",
        doc: "Most rows a hunting query returns.",
        env_alias: None,
    },
    Setting {
        key: "hunt.time_limit",
        kind: Kind::Duration,
        default: "30s",
        doc: "Longest a hunting query may run.",
        env_alias: None,
    },
];

/// Looks a setting up by key.
pub fn setting(key: &str) -> Option<&'static Setting> {
    SETTINGS.iter().find(|s| s.key == key)
}

/// The environment variable for a key: `OTWATCH_` + upper-case key with `.` → `_`.
pub fn env_name(key: &str) -> String {
    format!("OTWATCH_{}", key.replace('.', "_").to_ascii_uppercase())
}
