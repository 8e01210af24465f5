//! The otwatch configuration, read in two stages.
//!
//! Stage one gathers what the user wrote: the TOML file (with the line of
//! every value), `OTWATCH_*` environment variables and `--set key=value`
//! flags, in that order of precedence (flags win). Unknown keys and syntax
//! errors are collected, not returned at the first one. Stage two checks every
//! value against the settings table in [`schema`] and builds the typed
//! [`Config`]. Every problem is reported at once, each with its origin (file
//! and line, variable or flag) and the valid choices.
//!
//! Secrets are wrapped in [`Secret`], whose `Debug` and `Display` print
//! `<redacted>`; `otwatch config show` prints them redacted too.

pub mod schema;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use otwatch_model::{Cidr, Engine};

use schema::{Kind, SETTINGS, Setting};

/// Where a value came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// The built-in default.
    Default,
    /// The config file, at a line.
    File {
        /// File path.
        path: String,
        /// 1-based line.
        line: usize,
    },
    /// An environment variable.
    Env(String),
    /// A command-line flag.
    Flag(String),
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::Default => f.write_str("default"),
            Origin::File { path, line } => write!(f, "{path}:{line}"),
            Origin::Env(v) => write!(f, "environment {v}"),
            Origin::Flag(n) => write!(f, "flag {n}"),
        }
    }
}

/// One configuration problem.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    /// Where the bad value came from.
    pub origin: Origin,
    /// The setting, when known.
    pub key: Option<String>,
    /// What is wrong and what would be right.
    pub message: String,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.key {
            Some(k) => write!(f, "{}: {k}: {}", self.origin, self.message),
            None => write!(f, "{}: {}", self.origin, self.message),
        }
    }
}

/// Every problem found, reported together.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl std::fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "invalid configuration ({} problem{}):",
            self.0.len(),
            if self.0.len() == 1 { "" } else { "s" }
        )?;
        for e in &self.0 {
            writeln!(f, "  {e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

/// A secret value: never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(s: impl Into<String>) -> Secret {
        Secret(s.into())
    }

    /// The secret itself; call only where it is used.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

impl std::fmt::Display for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Log format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable.
    Text,
    /// One JSON object per line.
    Json,
}

/// Sensor operating mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SensorMode {
    /// Learn for the learning period, then operate.
    Auto,
    /// Learn only: policy alerts held back.
    Learning,
    /// Operate: every deviation from the baseline alerts.
    Operational,
}

/// Console server settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerConfig {
    /// Listen address.
    pub listen: SocketAddr,
    /// TLS certificate chain (PEM).
    pub tls_cert: Option<PathBuf>,
    /// TLS key (PEM).
    pub tls_key: Option<PathBuf>,
    /// Session lifetime, microseconds.
    pub session_ttl: i64,
    /// Request timeout, microseconds.
    pub request_timeout: i64,
    /// Largest request body.
    pub max_body_bytes: usize,
    /// First admin's password.
    pub admin_password: Option<Secret>,
}

/// Sensor settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SensorConfig {
    /// Sensor id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Site.
    pub site: Option<String>,
    /// Zone.
    pub zone: Option<String>,
    /// Mode.
    pub mode: SensorMode,
    /// Learning period, microseconds.
    pub learning_period: i64,
    /// OT subnets.
    pub ot_subnets: Vec<Cidr>,
}

/// Hunting limits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HuntConfig {
    /// Row limit.
    pub row_limit: usize,
    /// Time limit, microseconds.
    pub time_limit: i64,
}

/// Retention limits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetentionConfig {
    /// Alert age limit, microseconds (0 = off).
    pub alerts_max_age: i64,
    /// Alert count limit.
    pub alerts_max_count: u64,
    /// Event age limit, microseconds (0 = off).
    pub events_max_age: i64,
    /// Event count limit.
    pub events_max_count: u64,
    /// PCAP evidence size limit, bytes.
    pub pcap_max_bytes: u64,
    /// How often to apply them, microseconds.
    pub interval: i64,
}

/// One effective setting, for `config show`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Effective {
    /// Key.
    pub key: &'static str,
    /// Value as text (secrets redacted).
    pub value: String,
    /// Where it came from.
    pub origin: Origin,
}

/// The validated configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// Data directory.
    pub data_dir: PathBuf,
    /// Cap on the database size in bytes (0: none).
    pub max_store_bytes: u64,
    /// Auto-close period, microseconds.
    pub auto_close_after: i64,
    /// Auto-close sweep interval, microseconds.
    pub auto_close_interval: i64,
    /// Log filter.
    pub log_level: String,
    /// Log format.
    pub log_format: LogFormat,
    /// Ingest batch size.
    pub ingest_batch: usize,
    /// Server.
    pub server: ServerConfig,
    /// Sensor.
    pub sensor: SensorConfig,
    /// Engines switched on.
    pub engines: BTreeMap<Engine, bool>,
    /// Hunting.
    pub hunt: HuntConfig,
    /// Retention.
    pub retention: RetentionConfig,
    /// Every setting with its value and origin.
    pub effective: Vec<Effective>,
}

/// What stage one collected for one key.
#[derive(Clone, Debug)]
enum Raw {
    Str(String),
    Int(i64),
    Bool(bool),
    List(Vec<String>),
    Other(&'static str),
}

/// Where to read from.
#[derive(Clone, Debug, Default)]
pub struct Sources {
    /// Config file; `required` makes a missing file an error.
    pub file: Option<(PathBuf, bool)>,
    /// `--set key=value` and dedicated flags: (key, value, flag as typed).
    pub flags: Vec<(String, String, String)>,
}

fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset).map(|s| s.bytes().filter(|b| *b == b'\n').count() + 1).unwrap_or(1)
}

fn suggest(key: &str) -> String {
    match otwatch_model::text::closest(key, SETTINGS.iter().map(|s| s.key)) {
        Some(k) => format!("; did you mean {k}?"),
        None => {
            let sections: std::collections::BTreeSet<&str> =
                SETTINGS.iter().filter_map(|s| s.key.rsplit_once('.').map(|(a, _)| a)).collect();
            format!("; known sections: {}", sections.into_iter().collect::<Vec<_>>().join(", "))
        }
    }
}

/// Stage one for the file: flattens the TOML into keys with origins.
fn read_file(
    path: &Path,
    text: &str,
    out: &mut BTreeMap<String, (Raw, Origin)>,
    errs: &mut Vec<ConfigError>,
) {
    let p = path.display().to_string();
    let (doc, syntax) = toml::de::DeTable::parse_recoverable(text);
    for e in syntax {
        let line = e.span().map(|s| line_of(text, s.start)).unwrap_or(1);
        errs.push(ConfigError {
            origin: Origin::File { path: p.clone(), line },
            key: None,
            message: format!("TOML syntax: {}", e.message()),
        });
    }
    fn walk(
        prefix: &str,
        table: &toml::de::DeTable<'_>,
        text: &str,
        p: &str,
        out: &mut BTreeMap<String, (Raw, Origin)>,
        errs: &mut Vec<ConfigError>,
    ) {
        for (k, v) in table.iter() {
            let key = if prefix.is_empty() {
                k.get_ref().to_string()
            } else {
                format!("{prefix}.{}", k.get_ref())
            };
            let origin = Origin::File { path: p.to_string(), line: line_of(text, k.span().start) };
            use toml::de::DeValue as V;
            match v.get_ref() {
                V::Table(t) if schema::setting(&key).is_none() => walk(&key, t, text, p, out, errs),
                value => {
                    if schema::setting(&key).is_none() {
                        errs.push(ConfigError {
                            origin,
                            key: None,
                            message: format!("unknown setting {key}{}", suggest(&key)),
                        });
                        continue;
                    }
                    let raw = match value {
                        V::String(s) => Raw::Str(s.to_string()),
                        V::Integer(i) => {
                            match i64::from_str_radix(&i.as_str().replace('_', ""), i.radix()) {
                                Ok(n) => Raw::Int(n),
                                Err(_) => Raw::Other("an out-of-range integer"),
                            }
                        }
                        V::Boolean(b) => Raw::Bool(*b),
                        V::Array(a) => {
                            let mut items = Vec::new();
                            let mut bad = false;
                            for item in a.iter() {
                                match item.get_ref() {
                                    V::String(s) => items.push(s.to_string()),
                                    _ => bad = true,
                                }
                            }
                            if bad {
                                Raw::Other("an array with non-text items")
                            } else {
                                Raw::List(items)
                            }
                        }
                        V::Float(_) => Raw::Other("a float"),
                        V::Datetime(_) => Raw::Other("a date"),
                        V::Table(_) => Raw::Other("a table"),
                    };
                    out.insert(key, (raw, origin));
                }
            }
        }
    }
    walk("", doc.get_ref(), text, &p, out, errs);
}

impl Config {
    /// Loads the configuration: file, then environment (through `env`), then flags.
    pub fn load(
        sources: &Sources,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigErrors> {
        let mut raw: BTreeMap<String, (Raw, Origin)> = BTreeMap::new();
        let mut errs = Vec::new();
        if let Some((path, required)) = &sources.file {
            match std::fs::read_to_string(path) {
                Ok(text) => read_file(path, &text, &mut raw, &mut errs),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => {}
                Err(e) => errs.push(ConfigError {
                    origin: Origin::File { path: path.display().to_string(), line: 0 },
                    key: None,
                    message: format!("cannot read the config file: {e}"),
                }),
            }
        }
        for s in SETTINGS {
            let mut names = vec![schema::env_name(s.key)];
            if let Some(a) = s.env_alias {
                names.push(a.to_string());
            }
            for n in names {
                if let Some(v) = env(&n) {
                    raw.insert(s.key.to_string(), (Raw::Str(v), Origin::Env(n)));
                }
            }
        }
        for (key, value, flag) in &sources.flags {
            if schema::setting(key).is_none() {
                errs.push(ConfigError {
                    origin: Origin::Flag(flag.clone()),
                    key: None,
                    message: format!("unknown setting {key}{}", suggest(key)),
                });
                continue;
            }
            raw.insert(key.clone(), (Raw::Str(value.clone()), Origin::Flag(flag.clone())));
        }
        let mut b = Builder { raw, errs, effective: Vec::new(), env };
        let cfg = b.build();
        if b.errs.is_empty()
            && let Some(mut c) = cfg
        {
            c.effective = b.effective;
            return Ok(c);
        }
        Err(ConfigErrors(b.errs))
    }

    /// The documented example configuration (every setting, commented out, with its default).
    pub fn example() -> String {
        let mut out = String::from(
            "# otwatch configuration.\n#\n# Every setting is shown with its default value, commented out.\n\
             # Any setting can also be given as an environment variable OTWATCH_<SECTION>_<NAME>\n\
             # (e.g. OTWATCH_SERVER_LISTEN) or on the command line with --set section.name=value;\n\
             # flags win over the environment, which wins over this file.\n\
             # Check a file with `otwatch config check`; see effective values with `otwatch config show`.\n",
        );
        let mut section = "";
        for s in SETTINGS {
            let (sec, name) = s.key.rsplit_once('.').unwrap_or(("", s.key));
            if sec != section {
                out.push_str(&format!("\n[{sec}]\n"));
                section = sec;
            }
            out.push_str(&format!("# {}\n# ({}", s.doc, s.kind.describe()));
            out.push_str(&format!("; env {}", schema::env_name(s.key)));
            if let Some(a) = s.env_alias {
                out.push_str(&format!(" or {a}"));
            }
            out.push_str(")\n");
            let value = match s.kind {
                Kind::Int { .. } | Kind::Bool => s.default.to_string(),
                Kind::Subnets => "[]".to_string(),
                _ => format!("{:?}", s.default),
            };
            out.push_str(&format!("#{name} = {value}\n"));
        }
        out
    }
}

struct Builder<'a> {
    raw: BTreeMap<String, (Raw, Origin)>,
    errs: Vec<ConfigError>,
    effective: Vec<Effective>,
    env: &'a dyn Fn(&str) -> Option<String>,
}

enum Typed {
    Text(String),
    Int(i64),
    Bool(bool),
    Duration(i64),
    Addr(SocketAddr),
    Subnets(Vec<Cidr>),
}

impl Builder<'_> {
    fn value(&mut self, key: &'static str) -> Option<Typed> {
        let s: &Setting = schema::setting(key)?;
        let (raw, origin) = match self.raw.get(key) {
            Some((r, o)) => (r.clone(), o.clone()),
            None => (Raw::Str(s.default.to_string()), Origin::Default),
        };
        let fail = |this: &mut Self, m: String| {
            this.errs.push(ConfigError {
                origin: origin.clone(),
                key: Some(key.to_string()),
                message: m,
            });
            None
        };
        let text = match &raw {
            Raw::Str(t) => Some(t.trim().to_string()),
            Raw::Int(n) if matches!(s.kind, Kind::Int { .. }) => Some(n.to_string()),
            Raw::Bool(b) if s.kind == Kind::Bool => Some(b.to_string()),
            Raw::List(items) if s.kind == Kind::Subnets => Some(items.join(",")),
            Raw::Other(what) => {
                return fail(self, format!("expected {}, found {what}", s.kind.describe()));
            }
            _ => return fail(self, format!("expected {}", s.kind.describe())),
        }?;
        let typed = match s.kind {
            Kind::Text | Kind::Path | Kind::Secret => Typed::Text(text.clone()),
            Kind::Int { min, max } => match text.replace('_', "").parse::<i64>() {
                Ok(n) if n >= min && n <= max => Typed::Int(n),
                _ => return fail(self, format!("{text:?} is not {}", s.kind.describe())),
            },
            Kind::Bool => match text.to_ascii_lowercase().as_str() {
                "true" | "yes" | "1" | "on" => Typed::Bool(true),
                "false" | "no" | "0" | "off" => Typed::Bool(false),
                _ => return fail(self, format!("{text:?} is not true or false")),
            },
            Kind::Choice(choices) => {
                let lower = text.to_ascii_lowercase();
                if choices.contains(&lower.as_str()) {
                    Typed::Text(lower)
                } else {
                    return fail(
                        self,
                        format!("{text:?} is not valid; choose one of {}", choices.join(", ")),
                    );
                }
            }
            Kind::OptionalDuration if text.eq_ignore_ascii_case("off") => Typed::Duration(0),
            Kind::Duration | Kind::OptionalDuration => {
                match otwatch_model::time::parse_duration(&text) {
                    Ok(us) if us > 0 => Typed::Duration(us),
                    Ok(_) => return fail(self, "the duration must be longer than zero".into()),
                    Err(e) => return fail(self, e),
                }
            }
            Kind::Addr => {
                let t = text.replacen("localhost:", "127.0.0.1:", 1);
                match t.parse::<SocketAddr>() {
                    Ok(a) => Typed::Addr(a),
                    Err(_) => return fail(self, format!("{text:?} is not {}", s.kind.describe())),
                }
            }
            Kind::Subnets => {
                let mut v = Vec::new();
                for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                    match Cidr::parse(part) {
                        Ok(c) => v.push(c),
                        Err(e) => return fail(self, e),
                    }
                }
                Typed::Subnets(v)
            }
        };
        let shown = if s.kind == Kind::Secret && !text.is_empty() {
            "<redacted>".to_string()
        } else {
            text
        };
        self.effective.push(Effective { key: s.key, value: shown, origin });
        Some(typed)
    }

    fn text(&mut self, key: &'static str) -> Option<String> {
        match self.value(key)? {
            Typed::Text(t) => Some(t),
            _ => None,
        }
    }
    fn int(&mut self, key: &'static str) -> Option<i64> {
        match self.value(key)? {
            Typed::Int(n) => Some(n),
            _ => None,
        }
    }
    fn boolean(&mut self, key: &'static str) -> Option<bool> {
        match self.value(key)? {
            Typed::Bool(b) => Some(b),
            _ => None,
        }
    }
    fn duration(&mut self, key: &'static str) -> Option<i64> {
        match self.value(key)? {
            Typed::Duration(d) => Some(d),
            _ => None,
        }
    }

    fn build(&mut self) -> Option<Config> {
        // Evaluate every setting, even after an error, so all errors are reported.
        let data_dir = self.text("store.data_dir");
        let max_store_bytes = self.int("store.max_size_bytes");
        let auto_close_after = self.duration("lifecycle.auto_close_after");
        let auto_close_interval = self.duration("lifecycle.auto_close_interval");
        let log_level = self.text("log.level");
        let log_format = self.text("log.format");
        let ingest_batch = self.int("ingest.batch_size");
        let r_alerts = self.duration("retention.alerts_max_age");
        let r_alert_count = self.int("retention.alerts_max_count");
        let r_events = self.duration("retention.events_max_age");
        let r_count = self.int("retention.events_max_count");
        let r_pcap = self.int("retention.pcap_max_bytes");
        let r_interval = self.duration("retention.interval");
        let listen = match self.value("server.listen") {
            Some(Typed::Addr(a)) => Some(a),
            _ => None,
        };
        let tls_cert = self.text("server.tls_cert");
        let tls_key = self.text("server.tls_key");
        let session_ttl = self.duration("server.session_ttl");
        let request_timeout = self.duration("server.request_timeout");
        let max_body = self.int("server.max_body_bytes");
        let admin_password = self.text("server.admin_password");
        let sensor_id = self.text("sensor.id");
        let sensor_name = self.text("sensor.name");
        let site = self.text("sensor.site");
        let zone = self.text("sensor.zone");
        let mode = self.text("sensor.mode");
        let learning_period = self.duration("sensor.learning_period");
        let ot_subnets = match self.value("sensor.ot_subnets") {
            Some(Typed::Subnets(s)) => Some(s),
            _ => None,
        };
        let mut engines = BTreeMap::new();
        for (e, key) in [
            (Engine::PolicyViolation, "detect.engines.policy_violation"),
            (Engine::ProtocolViolation, "detect.engines.protocol_violation"),
            (Engine::Malware, "detect.engines.malware"),
            (Engine::Anomaly, "detect.engines.anomaly"),
            (Engine::Operational, "detect.engines.operational"),
        ] {
            if let Some(b) = self.boolean(key) {
                engines.insert(e, b);
            }
        }
        engines.insert(Engine::MicroAgent, true);
        let row_limit = self.int("hunt.row_limit");
        let time_limit = self.duration("hunt.time_limit");
        // Settings read by name from `effective` (detection): validated here too.
        for s in SETTINGS {
            if s.key.starts_with("detect.") && !self.effective.iter().any(|e| e.key == s.key) {
                self.value(s.key);
            }
        }

        if let (Some(c), Some(k)) = (&tls_cert, &tls_key)
            && c.is_empty() != k.is_empty()
        {
            self.errs.push(ConfigError {
                origin: Origin::Default,
                key: Some("server.tls_cert".into()),
                message: "tls_cert and tls_key must be set together".into(),
            });
        }
        if let Some(s) = &sensor_id
            && (s.is_empty()
                || !s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        {
            self.errs.push(ConfigError {
                origin: self
                    .raw
                    .get("sensor.id")
                    .map(|(_, o)| o.clone())
                    .unwrap_or(Origin::Default),
                key: Some("sensor.id".into()),
                message: "a sensor id is 1 or more letters, digits, - _ .".into(),
            });
        }
        let data_dir = data_dir
            .map(|d| if d.is_empty() { default_data_dir(self.env) } else { PathBuf::from(d) });
        let opt = |s: String| if s.is_empty() { None } else { Some(s) };
        Some(Config {
            data_dir: data_dir?,
            max_store_bytes: max_store_bytes? as u64,
            auto_close_after: auto_close_after?,
            auto_close_interval: auto_close_interval?,
            log_level: log_level?,
            log_format: if log_format? == "json" { LogFormat::Json } else { LogFormat::Text },
            ingest_batch: ingest_batch? as usize,
            server: ServerConfig {
                listen: listen?,
                tls_cert: opt(tls_cert?).map(PathBuf::from),
                tls_key: opt(tls_key?).map(PathBuf::from),
                session_ttl: session_ttl?,
                request_timeout: request_timeout?,
                max_body_bytes: max_body? as usize,
                admin_password: opt(admin_password?).map(Secret),
            },
            sensor: SensorConfig {
                name: opt(sensor_name?).unwrap_or_else(|| sensor_id.clone().unwrap_or_default()),
                id: sensor_id?,
                site: opt(site?),
                zone: opt(zone?),
                mode: match mode?.as_str() {
                    "learning" => SensorMode::Learning,
                    "operational" => SensorMode::Operational,
                    _ => SensorMode::Auto,
                },
                learning_period: learning_period?,
                ot_subnets: ot_subnets?,
            },
            engines,
            hunt: HuntConfig { row_limit: row_limit? as usize, time_limit: time_limit? },
            retention: RetentionConfig {
                alerts_max_age: r_alerts?,
                alerts_max_count: r_alert_count? as u64,
                events_max_age: r_events?,
                events_max_count: r_count? as u64,
                pcap_max_bytes: r_pcap? as u64,
                interval: r_interval?,
            },
            effective: vec![],
        })
    }
}

/// The default data directory: `$XDG_DATA_HOME/otwatch`, `~/.local/share/otwatch`, or `./otwatch-data`.
pub fn default_data_dir(env: &dyn Fn(&str) -> Option<String>) -> PathBuf {
    if let Some(x) = env("XDG_DATA_HOME").filter(|s| !s.is_empty()) {
        return PathBuf::from(x).join("otwatch");
    }
    if let Some(h) = env("HOME").filter(|s| !s.is_empty()) {
        return PathBuf::from(h).join(".local/share/otwatch");
    }
    PathBuf::from("otwatch-data")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn load_with(
        text: &str,
        env: &[(&str, &str)],
        flags: &[(&str, &str)],
    ) -> Result<Config, ConfigErrors> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("otwatch.toml");
        std::fs::write(&path, text).unwrap();
        let env: HashMap<String, String> =
            env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let sources = Sources {
            file: Some((path, true)),
            flags: flags
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string(), format!("--set {k}")))
                .collect(),
        };
        Config::load(&sources, &|k| env.get(k).cloned())
    }

    #[test]
    fn defaults_apply() {
        let c = load_with("", &[("HOME", "/home/op")], &[]).unwrap();
        assert_eq!(c.data_dir, PathBuf::from("/home/op/.local/share/otwatch"));
        assert_eq!(c.auto_close_after, 90 * otwatch_model::time::MICROS_PER_DAY);
        assert_eq!(c.server.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(c.sensor.mode, SensorMode::Auto);
        assert_eq!(c.engines.get(&Engine::Anomaly), Some(&true));
        assert!(c.effective.iter().all(|e| e.origin == Origin::Default));
    }

    #[test]
    fn every_error_is_reported_at_once_with_line_and_choices() {
        let text = "[server]\nlisten = \"nowhere\"\n\n[log]\nformat = \"xml\"\n\n[lifecycle]\nauto_close_after = \"90\"\n\n[sensr]\nid = \"x\"\n\n[ingest]\nbatch_size = 0\n";
        let errs = load_with(text, &[("OTWATCH_HUNT_ROW_LIMIT", "lots")], &[("server.lisen", "1")])
            .unwrap_err();
        let all = errs.to_string();
        assert!(
            all.contains("otwatch.toml:2: server.listen: \"nowhere\" is not an address"),
            "{all}"
        );
        assert!(
            all.contains(
                "otwatch.toml:5: log.format: \"xml\" is not valid; choose one of text, json"
            ),
            "{all}"
        );
        assert!(all.contains("otwatch.toml:8: lifecycle.auto_close_after: bad duration"), "{all}");
        assert!(
            all.contains("otwatch.toml:11: unknown setting sensr.id; did you mean sensor.id?"),
            "{all}"
        );
        assert!(
            all.contains(
                "otwatch.toml:14: ingest.batch_size: \"0\" is not an integer from 1 to 100000"
            ),
            "{all}"
        );
        assert!(all.contains("environment OTWATCH_HUNT_ROW_LIMIT: hunt.row_limit"), "{all}");
        assert!(
            all.contains(
                "flag --set server.lisen: unknown setting server.lisen; did you mean server.listen?"
            ),
            "{all}"
        );
        assert_eq!(errs.0.len(), 7, "{all}");
    }

    #[test]
    fn syntax_errors_carry_the_line() {
        let errs = load_with("[server]\nlisten = \"127.0.0.1:1\n", &[], &[]).unwrap_err();
        assert!(errs.0[0].to_string().contains("otwatch.toml:2: TOML syntax"), "{errs}");
        let errs = load_with("[server]\nlisten = 8080\n", &[], &[]).unwrap_err();
        assert!(
            errs.to_string().contains("otwatch.toml:2: server.listen: expected an address"),
            "{errs}"
        );
    }

    #[test]
    fn flags_beat_environment_beat_file() {
        let text =
            "[server]\nlisten = \"127.0.0.1:1000\"\n[sensor]\nsite = \"File\"\nzone = \"File\"\n";
        let c = load_with(
            text,
            &[
                ("OTWATCH_SENSOR_SITE", "Env"),
                ("OTWATCH_SENSOR_ZONE", "Env"),
                ("OTWATCH_DATA_DIR", "/data"),
            ],
            &[("sensor.zone", "Flag")],
        )
        .unwrap();
        assert_eq!(c.server.listen.port(), 1000);
        assert_eq!(c.sensor.site.as_deref(), Some("Env"));
        assert_eq!(c.sensor.zone.as_deref(), Some("Flag"));
        assert_eq!(c.data_dir, PathBuf::from("/data"));
        let origin = |k: &str| c.effective.iter().find(|e| e.key == k).unwrap().origin.clone();
        assert_eq!(origin("server.listen"), Origin::File { path: origin_path(&c), line: 2 });
        assert_eq!(origin("sensor.site"), Origin::Env("OTWATCH_SENSOR_SITE".into()));
        assert_eq!(origin("store.data_dir"), Origin::Env("OTWATCH_DATA_DIR".into()));
    }

    fn origin_path(c: &Config) -> String {
        c.effective
            .iter()
            .find_map(|e| match &e.origin {
                Origin::File { path, .. } => Some(path.clone()),
                _ => None,
            })
            .unwrap()
    }

    #[test]
    fn secrets_are_redacted() {
        let c = load_with("[server]\nadmin_password = \"hunter2-long\"\n", &[], &[]).unwrap();
        assert_eq!(c.server.admin_password.as_ref().unwrap().expose(), "hunter2-long");
        assert!(!format!("{c:?}").contains("hunter2"));
        let shown = c.effective.iter().find(|e| e.key == "server.admin_password").unwrap();
        assert_eq!(shown.value, "<redacted>");
    }

    #[test]
    fn subnets_and_lists() {
        let c =
            load_with("[sensor]\not_subnets = [\"10.10.0.0/16\", \"192.168.0.0/24\"]\n", &[], &[])
                .unwrap();
        assert_eq!(c.sensor.ot_subnets.len(), 2);
        let c = load_with("", &[("OTWATCH_SENSOR_OT_SUBNETS", "10.0.0.0/8, 172.16.0.0/12")], &[])
            .unwrap();
        assert_eq!(c.sensor.ot_subnets.len(), 2);
        let e = load_with("[sensor]\not_subnets = [\"10.0.0.0/99\"]\n", &[], &[]).unwrap_err();
        assert!(e.to_string().contains("prefix length"), "{e}");
    }

    #[test]
    fn the_example_is_valid_and_complete() {
        let ex = Config::example();
        for s in SETTINGS {
            let name = s.key.rsplit_once('.').unwrap().1;
            assert!(ex.contains(&format!("#{name} = ")), "{} missing from the example", s.key);
        }
        // Uncommenting every line gives a valid file equal to the defaults.
        let uncommented: String = ex
            .lines()
            .map(|l| if l.starts_with('#') && l.contains(" = ") { &l[1..] } else { l })
            .collect::<Vec<_>>()
            .join("\n");
        let c = load_with(&uncommented, &[("HOME", "/h")], &[]).unwrap();
        let d = load_with("", &[("HOME", "/h")], &[]).unwrap();
        assert_eq!(Config { effective: vec![], ..c }, Config { effective: vec![], ..d });
    }
}

#[cfg(test)]
mod doc_tests {
    /// The documented example in docs/ is the generated one (regenerate with
    /// `otwatch config example > docs/otwatch.example.toml`).
    #[test]
    fn documented_example_is_current() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../docs/otwatch.example.toml");
        let doc = std::fs::read_to_string(&path).expect("docs/otwatch.example.toml");
        assert_eq!(
            doc,
            super::Config::example(),
            "regenerate with: otwatch config example > docs/otwatch.example.toml"
        );
    }
}
