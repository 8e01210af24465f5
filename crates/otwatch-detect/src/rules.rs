//! Custom rules: user-defined conditions on traffic that raise "Unauthorized
//! Operation was detected by a User Defined Rule" alerts (or timeline events).
//!
//! Rules are written in TOML, one `[[rule]]` table each (the format is in
//! `docs/detection.md`). Every problem in a file — an unknown key, a bad
//! address, a range the wrong way round, a placeholder the message cannot
//! fill, a duplicate id — is reported at once with its line and, for names,
//! the valid choices. Parsing and matching are pure: the sensor reads the
//! file; [`RuleSet::matches`] is given one observation at a time.
//!
//! Conditions are AND-ed; the values of one condition are OR-ed. Address
//! lists accept `!` to exclude. Numbers accept decimal or `0x` hex, and
//! ranges `a-b`, `a-` and `-b`.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use otwatch_model::{Cidr, Severity};

/// Most rules in one file.
pub const MAX_RULES: usize = 1000;
/// Most values in one condition.
pub const MAX_VALUES: usize = 1000;

/// What a rule does when it matches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuleAction {
    /// Raise an alert (with PCAP evidence).
    Alert,
    /// Write a timeline event (`USER_DEFINED_RULE_OPERATION`).
    Event,
}

/// An inclusive range of numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NumRange {
    /// Lowest value.
    pub lo: u64,
    /// Highest value.
    pub hi: u64,
}

impl NumRange {
    /// Whether `v` is inside.
    pub fn contains(&self, v: u64) -> bool {
        self.lo <= v && v <= self.hi
    }

    /// Whether `[start, start+count)` overlaps.
    pub fn overlaps(&self, start: u64, count: u64) -> bool {
        let end = start.saturating_add(count.max(1)).saturating_sub(1);
        start <= self.hi && end >= self.lo
    }
}

/// Addresses a condition includes and excludes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AddressSet {
    /// Any of these (empty: any address).
    pub include: Vec<Cidr>,
    /// None of these.
    pub exclude: Vec<Cidr>,
}

impl AddressSet {
    /// Whether `ip` passes (an observation without an address passes only an empty set).
    pub fn matches(&self, ip: Option<&IpAddr>) -> bool {
        match ip {
            None => self.include.is_empty(),
            Some(ip) => {
                (self.include.is_empty() || self.include.iter().any(|c| c.contains(ip)))
                    && !self.exclude.iter().any(|c| c.contains(ip))
            }
        }
    }

    fn is_empty(&self) -> bool {
        self.include.is_empty() && self.exclude.is_empty()
    }
}

/// A time-of-week window in packet time.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TimeWindow {
    /// Days (0 = Sunday … 6 = Saturday); empty means every day.
    pub days: BTreeSet<u8>,
    /// Minute-of-day ranges `[from, to)`; `to < from` wraps past midnight. Empty means all day.
    pub hours: Vec<(u16, u16)>,
    /// Offset of the rule's local time from UTC, minutes.
    pub utc_offset_minutes: i32,
}

impl TimeWindow {
    /// Whether a packet time (microseconds since the epoch) is inside.
    pub fn contains(&self, micros: i64) -> bool {
        if self.days.is_empty() && self.hours.is_empty() {
            return true;
        }
        let local = micros.div_euclid(1_000_000) + i64::from(self.utc_offset_minutes) * 60;
        let day = local.div_euclid(86_400);
        // 1970-01-01 was a Thursday (4).
        let weekday = (day + 4).rem_euclid(7) as u8;
        let minute = (local.rem_euclid(86_400) / 60) as u16;
        let day_ok = self.days.is_empty() || self.days.contains(&weekday);
        let hour_ok = self.hours.is_empty()
            || self.hours.iter().any(|(from, to)| {
                if from <= to {
                    (*from..*to).contains(&minute)
                } else {
                    minute >= *from || minute < *to
                }
            });
        day_ok && hour_ok
    }

    fn is_empty(&self) -> bool {
        self.days.is_empty() && self.hours.is_empty()
    }
}

/// The conditions of one rule; `None`/empty means "any".
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Conditions {
    /// Protocol names (`modbus`, `dnp3`, `s7comm`, `s7comm-plus`, `enip`,
    /// `cip`, `bacnet`, `iec104`, `dhcp`, `dns`, `http`, `ftp`, `telnet`,
    /// `tcp`, `udp`, `icmp`, `arp`).
    pub protocols: BTreeSet<String>,
    /// Source addresses.
    pub source: AddressSet,
    /// Destination addresses.
    pub destination: AddressSet,
    /// Either side (source or destination).
    pub address: AddressSet,
    /// Source ports.
    pub source_port: Vec<NumRange>,
    /// Destination ports.
    pub destination_port: Vec<NumRange>,
    /// Operation names (`write`, `program_download`, `stop`…).
    pub operations: BTreeSet<String>,
    /// Function, service, command or type codes.
    pub function: Vec<NumRange>,
    /// Sub-function codes.
    pub sub_function: Vec<NumRange>,
    /// Unit, station or common addresses.
    pub unit: Vec<NumRange>,
    /// Object classes (CIP class, BACnet object type, S7 area, DNP3 group).
    pub object_class: Vec<NumRange>,
    /// Object instances.
    pub object_instance: Vec<NumRange>,
    /// Register, point, offset or IOA ranges (overlap).
    pub register: Vec<NumRange>,
    /// Address spaces of `register` (`holding_registers`, `coils`…).
    pub register_space: BTreeSet<String>,
    /// Message lengths.
    pub length: Vec<NumRange>,
    /// `request`, `response`, `unsolicited`.
    pub roles: BTreeSet<String>,
    /// `ok` or `error`.
    pub status: Option<String>,
    /// Error or exception codes.
    pub error_code: Vec<NumRange>,
    /// Symbols (tag names, block names): exact, or with `*` wildcards, case-insensitive.
    pub symbol: Vec<String>,
    /// IEC-104 causes of transmission.
    pub cot: Vec<NumRange>,
    /// VLAN ids.
    pub vlan: Vec<NumRange>,
    /// When.
    pub time: TimeWindow,
}

impl Conditions {
    /// Whether any application-level condition is set (then only
    /// application messages can match).
    pub fn needs_message(&self) -> bool {
        !(self.operations.is_empty()
            && self.function.is_empty()
            && self.sub_function.is_empty()
            && self.unit.is_empty()
            && self.object_class.is_empty()
            && self.object_instance.is_empty()
            && self.register.is_empty()
            && self.register_space.is_empty()
            && self.length.is_empty()
            && self.roles.is_empty()
            && self.status.is_none()
            && self.error_code.is_empty()
            && self.symbol.is_empty()
            && self.cot.is_empty())
    }

    fn is_empty(&self) -> bool {
        !self.needs_message()
            && self.protocols.is_empty()
            && self.source.is_empty()
            && self.destination.is_empty()
            && self.address.is_empty()
            && self.source_port.is_empty()
            && self.destination_port.is_empty()
            && self.vlan.is_empty()
            && self.time.is_empty()
    }
}

/// One custom rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    /// Stable id (letters, digits, `-`, `_`, `.`); part of the alert fingerprint.
    pub id: String,
    /// Readable name.
    pub name: String,
    /// Message template (placeholders in [`MESSAGE_PLACEHOLDERS`]).
    pub message: String,
    /// Severity of the alert (default Major).
    pub severity: Severity,
    /// Alert or event.
    pub action: RuleAction,
    /// Whether it runs.
    pub enabled: bool,
    /// Conditions.
    pub when: Conditions,
    /// Line of the `[[rule]]` header.
    pub line: usize,
}

/// Placeholders a rule message may use.
pub const MESSAGE_PLACEHOLDERS: &[&str] = &[
    "source",
    "destination",
    "src_port",
    "dst_port",
    "protocol",
    "function",
    "function_name",
    "operation",
    "unit",
    "register",
    "symbol",
    "rule",
    "rule_name",
];

/// Protocol names a rule may name.
pub const PROTOCOL_NAMES: &[&str] = &[
    "modbus",
    "dnp3",
    "s7comm",
    "s7comm-plus",
    "enip",
    "cip",
    "bacnet",
    "iec104",
    "dhcp",
    "dns",
    "http",
    "ftp",
    "telnet",
    "tcp",
    "udp",
    "icmp",
    "arp",
];

/// Operation names a rule may name.
pub const OPERATION_NAMES: &[&str] = &[
    "read",
    "write",
    "command",
    "program_download",
    "program_upload",
    "firmware_update",
    "stop",
    "start",
    "cold_restart",
    "warm_restart",
    "config_read",
    "config_write",
    "diagnostics",
    "identify",
    "session",
    "file",
    "time_sync",
    "acknowledge",
    "error",
    "other",
];

/// Keys a `[[rule]]` table may have.
const RULE_KEYS: &[&str] = &[
    "id",
    "name",
    "message",
    "severity",
    "action",
    "enabled",
    "protocol",
    "source",
    "destination",
    "address",
    "source_port",
    "destination_port",
    "operation",
    "function",
    "sub_function",
    "unit",
    "object_class",
    "object_instance",
    "register",
    "register_space",
    "length",
    "role",
    "status",
    "error_code",
    "symbol",
    "cot",
    "vlan",
    "days",
    "hours",
    "utc_offset",
];

/// A problem in a rules file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleError {
    /// 1-based line.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for RuleError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// Every problem of a rules file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleErrors(pub Vec<RuleError>);

impl std::fmt::Display for RuleErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} problem(s) in the custom rules:", self.0.len())?;
        for e in &self.0 {
            write!(f, "\n  {e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for RuleErrors {}

/// A validated set of rules.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RuleSet {
    rules: Vec<Rule>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    rule: Vec<toml::Spanned<BTreeMap<String, toml::Spanned<toml::Value>>>>,
}

fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset).map(|s| s.bytes().filter(|b| *b == b'\n').count() + 1).unwrap_or(0)
}

impl RuleSet {
    /// No rules.
    pub fn empty() -> RuleSet {
        RuleSet::default()
    }

    /// Parses and validates a rules file.
    pub fn parse(text: &str) -> Result<RuleSet, RuleErrors> {
        let raw: RawFile = toml::from_str(text).map_err(|e| {
            let line = e.span().map(|s| line_of(text, s.start)).unwrap_or(0);
            RuleErrors(vec![RuleError { line, message: e.message().trim().to_string() }])
        })?;
        let mut errors = Vec::new();
        let mut rules = Vec::new();
        let mut ids = BTreeSet::new();
        if raw.rule.len() > MAX_RULES {
            errors.push(RuleError {
                line: 0,
                message: format!("{} rules; at most {MAX_RULES} are allowed", raw.rule.len()),
            });
        }
        for table in raw.rule.iter().take(MAX_RULES) {
            let line = line_of(text, table.span().start);
            let mut p = RuleParser { text, errors: &mut errors, rule_line: line };
            if let Some(rule) = p.rule(table.get_ref(), line) {
                if !ids.insert(rule.id.clone()) {
                    errors.push(RuleError {
                        line,
                        message: format!("duplicate rule id {:?}", rule.id),
                    });
                }
                rules.push(rule);
            }
        }
        if errors.is_empty() {
            Ok(RuleSet { rules })
        } else {
            errors.sort_by_key(|e| e.line);
            Err(RuleErrors(errors))
        }
    }

    /// The rules, in file order.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// Whether there are no enabled rules.
    pub fn is_empty(&self) -> bool {
        !self.rules.iter().any(|r| r.enabled)
    }
}

struct RuleParser<'a> {
    text: &'a str,
    errors: &'a mut Vec<RuleError>,
    rule_line: usize,
}

type Table = BTreeMap<String, toml::Spanned<toml::Value>>;

impl RuleParser<'_> {
    fn err(&mut self, v: Option<&toml::Spanned<toml::Value>>, message: String) {
        let line = v.map(|v| line_of(self.text, v.span().start)).unwrap_or(self.rule_line);
        self.errors.push(RuleError { line, message });
    }

    fn rule(&mut self, t: &Table, line: usize) -> Option<Rule> {
        let before = self.errors.len();
        for (k, v) in t {
            if !RULE_KEYS.contains(&k.as_str()) {
                let near = otwatch_model::text::closest(k, RULE_KEYS.iter().copied());
                let hint = match near {
                    Some(n) => format!("; did you mean {n:?}?"),
                    None => format!("; valid keys: {}", RULE_KEYS.join(", ")),
                };
                self.err(Some(v), format!("unknown rule key {k:?}{hint}"));
            }
        }
        let id = self.string(t, "id");
        let name = self.string(t, "name");
        match &id {
            None => self.err(None, "a rule needs an id (letters, digits, - _ .)".into()),
            Some(id)
                if id.is_empty()
                    || id.len() > 64
                    || !id
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')) =>
            {
                self.err(
                    t.get("id"),
                    format!("rule id {id:?} must be 1 to 64 letters, digits, - _ ."),
                );
            }
            _ => {}
        }
        if name.as_deref().is_none_or(|n| n.trim().is_empty()) {
            self.err(t.get("name").or(None), "a rule needs a non-empty name".into());
        }
        let message = self.string(t, "message").unwrap_or_else(|| {
            "{rule_name}: {protocol} {operation} from {source} to {destination}".to_string()
        });
        for ph in otwatch_model::catalog::placeholders(&message) {
            if !MESSAGE_PLACEHOLDERS.contains(&ph.as_str()) {
                self.err(
                    t.get("message"),
                    format!(
                        "the message uses {{{ph}}}, which a rule cannot fill; use one of {}",
                        MESSAGE_PLACEHOLDERS.join(", ")
                    ),
                );
            }
        }
        let severity = match self.string(t, "severity") {
            None => Severity::Major,
            Some(s) => match Severity::parse(&s) {
                Ok(v) => v,
                Err(e) => {
                    self.err(t.get("severity"), e.to_string());
                    Severity::Major
                }
            },
        };
        let action = match self.string(t, "action").as_deref() {
            None | Some("alert") => RuleAction::Alert,
            Some("event") => RuleAction::Event,
            Some(other) => {
                self.err(t.get("action"), format!("action {other:?} is not alert or event"));
                RuleAction::Alert
            }
        };
        let enabled = match t.get("enabled").map(|v| v.get_ref()) {
            None => true,
            Some(toml::Value::Boolean(b)) => *b,
            Some(_) => {
                self.err(t.get("enabled"), "enabled is true or false".into());
                true
            }
        };
        let mut when = Conditions {
            protocols: self.names(t, "protocol", PROTOCOL_NAMES),
            source: self.addresses(t, "source"),
            destination: self.addresses(t, "destination"),
            address: self.addresses(t, "address"),
            source_port: self.ranges(t, "source_port", 65_535),
            destination_port: self.ranges(t, "destination_port", 65_535),
            operations: self.names(t, "operation", OPERATION_NAMES),
            function: self.ranges(t, "function", u64::from(u32::MAX)),
            sub_function: self.ranges(t, "sub_function", u64::from(u32::MAX)),
            unit: self.ranges(t, "unit", u64::from(u32::MAX)),
            object_class: self.ranges(t, "object_class", u64::from(u32::MAX)),
            object_instance: self.ranges(t, "object_instance", u64::from(u32::MAX)),
            register: self.ranges(t, "register", u64::from(u32::MAX)),
            register_space: self.names(
                t,
                "register_space",
                &[
                    "coils",
                    "discrete_inputs",
                    "holding_registers",
                    "input_registers",
                    "file",
                    "s7_db",
                    "s7_area",
                    "dnp3_points",
                    "ioa",
                ],
            ),
            length: self.ranges(t, "length", u64::from(u32::MAX)),
            roles: self.names(t, "role", &["request", "response", "unsolicited"]),
            status: self.names(t, "status", &["ok", "error"]).into_iter().next(),
            error_code: self.ranges(t, "error_code", u64::from(u32::MAX)),
            symbol: self.strings(t, "symbol"),
            cot: self.ranges(t, "cot", 63),
            vlan: self.ranges(t, "vlan", 4095),
            time: TimeWindow::default(),
        };
        when.time.days = self.days(t);
        when.time.hours = self.hours(t);
        when.time.utc_offset_minutes = self.offset(t);
        let has_condition_key = t.keys().any(|k| {
            RULE_KEYS.contains(&k.as_str())
                && !matches!(
                    k.as_str(),
                    "id" | "name" | "message" | "severity" | "action" | "enabled" | "utc_offset"
                )
        });
        if when.is_empty() && !has_condition_key {
            self.err(
                None,
                "a rule needs at least one condition (protocol, source, function…)".into(),
            );
        }
        if self.errors.len() > before {
            return None;
        }
        Some(Rule {
            id: id.unwrap_or_default(),
            name: name.unwrap_or_default(),
            message,
            severity,
            action,
            enabled,
            when,
            line,
        })
    }

    fn string(&mut self, t: &Table, key: &str) -> Option<String> {
        match t.get(key).map(|v| v.get_ref()) {
            None => None,
            Some(toml::Value::String(s)) => Some(s.clone()),
            Some(_) => {
                self.err(t.get(key), format!("{key} must be a string"));
                None
            }
        }
    }

    /// A string or integer, or a list of them, as texts.
    fn items(&mut self, t: &Table, key: &str) -> Vec<String> {
        let Some(v) = t.get(key) else { return Vec::new() };
        let one = |x: &toml::Value| match x {
            toml::Value::String(s) => Some(s.trim().to_string()),
            toml::Value::Integer(i) => Some(i.to_string()),
            _ => None,
        };
        let out: Option<Vec<String>> = match v.get_ref() {
            toml::Value::Array(a) => a.iter().map(one).collect(),
            other => one(other).map(|s| vec![s]),
        };
        match out {
            Some(list) if list.len() > MAX_VALUES => {
                self.err(Some(v), format!("{key} has {} values; at most {MAX_VALUES}", list.len()));
                Vec::new()
            }
            Some(list) if list.is_empty() || list.iter().any(String::is_empty) => {
                self.err(Some(v), format!("{key} has an empty value"));
                Vec::new()
            }
            Some(list) => list,
            None => {
                self.err(Some(v), format!("{key} must be a string, a number or a list of them"));
                Vec::new()
            }
        }
    }

    fn strings(&mut self, t: &Table, key: &str) -> Vec<String> {
        self.items(t, key)
    }

    fn names(&mut self, t: &Table, key: &str, valid: &[&str]) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        for item in self.items(t, key) {
            let lower = item.to_ascii_lowercase().replace(['/', ' '], "");
            let lower = match lower.as_str() {
                "ethernetip" | "ethernet/ip" => "enip".to_string(),
                "iec-104" | "iec60870-5-104" => "iec104".to_string(),
                "s7" => "s7comm".to_string(),
                _ => lower,
            };
            if valid.contains(&lower.as_str()) {
                out.insert(lower);
            } else {
                let near = otwatch_model::text::closest(&lower, valid.iter().copied());
                let hint = match near {
                    Some(n) => format!("did you mean {n:?}? "),
                    None => String::new(),
                };
                self.err(
                    t.get(key),
                    format!("{key} {item:?} is not known; {hint}valid: {}", valid.join(", ")),
                );
            }
        }
        out
    }

    fn addresses(&mut self, t: &Table, key: &str) -> AddressSet {
        let mut set = AddressSet::default();
        for item in self.items(t, key) {
            let (neg, text) = match item.strip_prefix('!') {
                Some(rest) => (true, rest.trim()),
                None => (false, item.as_str()),
            };
            match Cidr::parse(text) {
                Ok(c) if neg => set.exclude.push(c),
                Ok(c) => set.include.push(c),
                Err(e) => self.err(t.get(key), format!("{key}: {e}")),
            }
        }
        set
    }

    fn ranges(&mut self, t: &Table, key: &str, max: u64) -> Vec<NumRange> {
        let mut out = Vec::new();
        for item in self.items(t, key) {
            match parse_range(&item, max) {
                Ok(r) => out.push(r),
                Err(e) => self.err(t.get(key), format!("{key} {item:?}: {e}")),
            }
        }
        out
    }

    fn days(&mut self, t: &Table) -> BTreeSet<u8> {
        const DAYS: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
        let mut out = BTreeSet::new();
        for item in self.items(t, "days") {
            let lower = item.to_ascii_lowercase();
            match DAYS.iter().position(|d| lower.starts_with(d)) {
                Some(i) => {
                    out.insert(i as u8);
                }
                None => self.err(
                    t.get("days"),
                    format!("days {item:?} is not a day; use mon, tue, wed, thu, fri, sat, sun"),
                ),
            }
        }
        out
    }

    fn hours(&mut self, t: &Table) -> Vec<(u16, u16)> {
        let mut out = Vec::new();
        for item in self.items(t, "hours") {
            let parsed = item.split_once('-').and_then(|(a, b)| Some((hhmm(a)?, hhmm(b)?)));
            match parsed {
                Some((a, b)) if a != b => out.push((a, b)),
                _ => self.err(
                    t.get("hours"),
                    format!("hours {item:?} is not a range like \"08:00-17:30\" (it may wrap past midnight)"),
                ),
            }
        }
        out
    }

    fn offset(&mut self, t: &Table) -> i32 {
        let Some(s) = self.string(t, "utc_offset") else { return 0 };
        let parsed = (|| {
            let (sign, rest) = match s.as_bytes().first()? {
                b'+' => (1, &s[1..]),
                b'-' => (-1, &s[1..]),
                _ => return None,
            };
            let m = i32::from(hhmm(rest).filter(|m| *m <= 14 * 60)?);
            Some(sign * m)
        })();
        parsed.unwrap_or_else(|| {
            self.err(
                t.get("utc_offset"),
                format!("utc_offset {s:?} is not like \"+01:00\" or \"-05:00\""),
            );
            0
        })
    }
}

fn hhmm(s: &str) -> Option<u16> {
    let (h, m) = s.trim().split_once(':')?;
    let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
    (h <= 24 && m < 60 && h * 60 + m <= 24 * 60).then_some(h * 60 + m)
}

fn parse_num(s: &str) -> Option<u64> {
    let s = s.trim().replace('_', "");
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => s.parse().ok(),
    }
}

/// Parses `n`, `a-b`, `a-` or `-b` (decimal or 0x hex), each at most `max`.
pub fn parse_range(text: &str, max: u64) -> Result<NumRange, String> {
    let t = text.trim();
    let (lo, hi) = match t.split_once('-') {
        None => {
            let n = parse_num(t).ok_or("not a number")?;
            (n, n)
        }
        Some((a, b)) => {
            let lo =
                if a.trim().is_empty() { 0 } else { parse_num(a).ok_or("not a number range")? };
            let hi =
                if b.trim().is_empty() { max } else { parse_num(b).ok_or("not a number range")? };
            (lo, hi)
        }
    };
    if lo > hi {
        return Err(format!("the range is the wrong way round ({lo} > {hi})"));
    }
    if hi > max {
        return Err(format!("{hi} is above the largest value, {max}"));
    }
    Ok(NumRange { lo, hi })
}

/// Case-insensitive match with `*` wildcards.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let p = pattern.to_ascii_lowercase();
    let t = text.to_ascii_lowercase();
    let parts: Vec<&str> = p.split('*').collect();
    if parts.len() == 1 {
        return p == t;
    }
    let mut rest = t.as_str();
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            match rest.strip_prefix(part) {
                Some(r) => rest = r,
                None => return false,
            }
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else {
            match rest.find(part) {
                Some(pos) => rest = &rest[pos + part.len()..],
                None => return false,
            }
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[[rule]]
id = "writes-outside-eng"
name = "Modbus writes from outside engineering"
protocol = "modbus"
operation = ["write"]
source = ["10.0.0.0/8", "!10.1.2.0/24"]
destination = "10.1.1.10"
function = [5, 6, "15-16"]
register = "0-99"
severity = "Critical"
message = "{source} wrote FC {function} to {destination}"

[[rule]]
id = "night-s7"
name = "S7 at night"
protocol = ["s7"]
days = ["sat", "sun"]
hours = ["22:00-06:00"]
utc_offset = "+01:00"
action = "event"
"#;

    #[test]
    fn a_good_file_parses() {
        let set = RuleSet::parse(GOOD).unwrap();
        assert_eq!(set.rules().len(), 2);
        let r = &set.rules()[0];
        assert_eq!(r.line, 2);
        assert_eq!(r.severity, Severity::Critical);
        assert_eq!(
            r.when.function,
            vec![NumRange { lo: 5, hi: 5 }, NumRange { lo: 6, hi: 6 }, NumRange { lo: 15, hi: 16 }]
        );
        assert!(r.when.source.matches(Some(&"10.9.9.9".parse().unwrap())));
        assert!(!r.when.source.matches(Some(&"10.1.2.3".parse().unwrap())));
        assert!(r.when.needs_message());
        let n = &set.rules()[1];
        assert_eq!(n.action, RuleAction::Event);
        assert!(n.when.protocols.contains("s7comm"));
        assert!(!n.when.needs_message());
        // Saturday 2024-03-02 23:30 local (+01:00) = 22:30 UTC.
        let sat_night = otwatch_model::Timestamp::parse("2024-03-02T22:30:00Z").unwrap().0;
        let sat_noon = otwatch_model::Timestamp::parse("2024-03-02T11:00:00Z").unwrap().0;
        let mon_night = otwatch_model::Timestamp::parse("2024-03-04T22:30:00Z").unwrap().0;
        assert!(n.when.time.contains(sat_night));
        assert!(!n.when.time.contains(sat_noon));
        assert!(!n.when.time.contains(mon_night));
    }

    #[test]
    fn every_problem_is_reported_with_its_line() {
        let bad = r#"
[[rule]]
id = "a"
name = "A"
protocl = "modbus"
function = ["20-10"]
source = ["10.0.0.300"]
operation = ["wirte"]
message = "{source} {colour}"

[[rule]]
id = "a"
name = ""

[[rule]]
id = "bad id!"
name = "X"
hours = "25:00-26:00"
protocol = "modbus"
"#;
        let errs = RuleSet::parse(bad).unwrap_err();
        let all = errs.to_string();
        for needle in [
            "line 5: unknown rule key \"protocl\"; did you mean \"protocol\"?",
            "line 6: function \"20-10\": the range is the wrong way round (20 > 10)",
            "line 7: source: \"10.0.0.300\" is not a subnet",
            "line 8: operation \"wirte\" is not known; did you mean \"write\"?",
            "line 9: the message uses {colour}",
            "line 13: a rule needs a non-empty name",
            "line 11: a rule needs at least one condition",
            "line 16: rule id \"bad id!\"",
            "line 18: hours \"25:00-26:00\"",
        ] {
            assert!(all.contains(needle), "missing {needle:?} in:\n{all}");
        }
    }

    #[test]
    fn syntax_errors_have_a_line() {
        let e = RuleSet::parse("[[rule]]\nid = \"x\nname = 1\n").unwrap_err();
        assert_eq!(e.0.len(), 1);
        assert!(e.0[0].line >= 2, "{e}");
    }

    #[test]
    fn ranges_and_globs() {
        assert_eq!(parse_range("0x4c", 255).unwrap(), NumRange { lo: 0x4c, hi: 0x4c });
        assert_eq!(parse_range("1000-", 65535).unwrap(), NumRange { lo: 1000, hi: 65535 });
        assert!(parse_range("70000", 65535).is_err());
        assert!(glob_match("*program*", "P_PROGRAM"));
        assert!(glob_match("Line1_*", "line1_valve"));
        assert!(!glob_match("Line1_*", "line2_valve"));
        assert!(NumRange { lo: 10, hi: 20 }.overlaps(5, 6));
        assert!(!NumRange { lo: 10, hi: 20 }.overlaps(0, 10));
    }
}
