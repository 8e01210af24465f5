//! Exclusion rules and maintenance windows: conditions that stop alerts from being raised.
//!
//! Conditions are AND-ed; a condition left empty matches everything
//! (reference §4.1). A rule must have at least one condition, so an empty rule
//! cannot silence the whole system by accident. A disabled or expired rule
//! matches nothing. Excluded detections never become alerts.

use serde::{Deserialize, Serialize};

use crate::{Cidr, Detection, Endpoint, Engine, Timestamp};

crate::named_enum! {
    /// Which side of the traffic an address condition looks at.
    pub enum AddressRole: "address role" {
        /// The source device.
        Source = "source" | "src",
        /// The destination device.
        Destination = "destination" | "dst",
        /// Either side.
        Any = "any" | "both",
    }
}

/// An address condition: an IP, a MAC or a subnet, on one side of the traffic.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddressMatch {
    /// Which side.
    pub role: AddressRole,
    /// An IP address, a MAC address, or a CIDR subnet.
    pub address: String,
}

impl AddressMatch {
    fn matches_endpoint(&self, ep: &Endpoint) -> bool {
        let a = self.address.trim();
        if let Some(mac) = crate::inventory::normalize_mac(a) {
            return ep.mac.as_deref().map(|m| m.eq_ignore_ascii_case(&mac)).unwrap_or(false);
        }
        match Cidr::parse(a) {
            Ok(c) => ep.ip.as_deref().map(|ip| c.contains_str(ip)).unwrap_or(false),
            Err(_) => false,
        }
    }

    /// Whether the condition holds for a detection.
    pub fn matches(&self, d: &Detection) -> bool {
        match self.role {
            AddressRole::Source => self.matches_endpoint(&d.source),
            AddressRole::Destination => self.matches_endpoint(&d.destination),
            AddressRole::Any => {
                self.matches_endpoint(&d.source) || self.matches_endpoint(&d.destination)
            }
        }
    }
}

crate::named_enum! {
    /// An ordinary exclusion rule, or a maintenance window opened for a ticket.
    pub enum RuleKind: "rule kind" {
        /// A standing exclusion rule.
        Exclusion = "exclusion",
        /// A time-boxed maintenance window.
        Maintenance = "maintenance",
    }
}

/// The editable part of a rule (what a user sends to create or update one).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExclusionSpec {
    /// Name; must not contain `"`.
    pub name: String,
    /// Exclusion or maintenance window.
    #[serde(default = "default_kind")]
    pub kind: RuleKind,
    /// Enabled.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Why the rule exists.
    #[serde(default)]
    pub reason: String,
    /// Ticket id (maintenance windows).
    #[serde(default)]
    pub ticket_id: Option<String>,
    /// Alert type ids.
    #[serde(default)]
    pub alert_types: Vec<String>,
    /// Engines.
    #[serde(default)]
    pub engines: Vec<Engine>,
    /// Sensor ids.
    #[serde(default)]
    pub sensors: Vec<String>,
    /// Device address conditions (any of them).
    #[serde(default)]
    pub addresses: Vec<AddressMatch>,
    /// Subnets: the source or the destination is inside one of them.
    #[serde(default)]
    pub subnets: Vec<Cidr>,
    /// Start of the time window (detection time).
    #[serde(default)]
    pub window_start: Option<Timestamp>,
    /// End of the time window (exclusive).
    #[serde(default)]
    pub window_end: Option<Timestamp>,
    /// After this time the rule no longer applies.
    #[serde(default)]
    pub expires_at: Option<Timestamp>,
}

fn default_kind() -> RuleKind {
    RuleKind::Exclusion
}

fn yes() -> bool {
    true
}

/// A stored rule.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExclusionRule {
    /// Id.
    pub id: i64,
    /// The conditions.
    #[serde(flatten)]
    pub spec: ExclusionSpec,
    /// Who created it.
    pub created_by: String,
    /// When.
    pub created_at: Timestamp,
    /// Who changed it last.
    pub updated_by: String,
    /// When.
    pub updated_at: Timestamp,
    /// Detections it has excluded.
    pub hits: u64,
}

impl ExclusionSpec {
    /// Checks the rule; returns every problem, each naming its field.
    pub fn validate(&self, catalog: &crate::Catalog) -> Result<(), Vec<(String, String)>> {
        let mut errs = Vec::new();
        if self.name.trim().is_empty() {
            errs.push(("name".into(), "name is required".into()));
        }
        if self.name.contains('"') {
            errs.push(("name".into(), "name must not contain a double quote".into()));
        }
        if self.name.chars().count() > 200 {
            errs.push(("name".into(), "name may have at most 200 characters".into()));
        }
        for t in &self.alert_types {
            if let Err(e) = catalog.require(t) {
                errs.push(("alert_types".into(), e));
            }
        }
        for a in &self.addresses {
            let ok = crate::inventory::normalize_mac(&a.address).is_some()
                || Cidr::parse(&a.address).is_ok();
            if !ok {
                errs.push((
                    "addresses".into(),
                    format!("{:?} is not an IP, MAC or subnet", a.address),
                ));
            }
        }
        if let (Some(s), Some(e)) = (self.window_start, self.window_end)
            && e <= s
        {
            errs.push(("window_end".into(), "window_end must be after window_start".into()));
        }
        if self.kind == RuleKind::Maintenance
            && self.ticket_id.as_deref().unwrap_or("").trim().is_empty()
        {
            errs.push(("ticket_id".into(), "a maintenance window needs a ticket id".into()));
        }
        let has_condition = !self.alert_types.is_empty()
            || !self.engines.is_empty()
            || !self.sensors.is_empty()
            || !self.addresses.is_empty()
            || !self.subnets.is_empty()
            || self.window_start.is_some()
            || self.window_end.is_some();
        if !has_condition {
            errs.push((
                "alert_types".into(),
                "a rule needs at least one condition (alert types, engines, sensors, addresses, subnets or a time window)".into(),
            ));
        }
        if errs.is_empty() { Ok(()) } else { Err(errs) }
    }

    /// Whether the rule is in force at `now` (enabled and not expired).
    pub fn active_at(&self, now: Timestamp) -> bool {
        self.enabled && self.expires_at.map(|e| now < e).unwrap_or(true)
    }

    /// Whether the rule excludes a detection of an alert type raised by
    /// `engine`, evaluated at `now` for expiry.
    pub fn matches(&self, d: &Detection, engine: Engine, now: Timestamp) -> bool {
        if !self.active_at(now) {
            return false;
        }
        if !self.alert_types.is_empty() && !self.alert_types.contains(&d.alert_type) {
            return false;
        }
        if !self.engines.is_empty() && !self.engines.contains(&engine) {
            return false;
        }
        if !self.sensors.is_empty() {
            match &d.sensor {
                Some(s) if self.sensors.iter().any(|x| x == s) => {}
                _ => return false,
            }
        }
        if !self.addresses.is_empty() && !self.addresses.iter().any(|a| a.matches(d)) {
            return false;
        }
        if !self.subnets.is_empty() {
            let inside = |ep: &Endpoint| {
                ep.ip
                    .as_deref()
                    .map(|ip| self.subnets.iter().any(|c| c.contains_str(ip)))
                    .unwrap_or(false)
            };
            if !inside(&d.source) && !inside(&d.destination) {
                return false;
            }
        }
        if let Some(s) = self.window_start
            && d.time < s
        {
            return false;
        }
        if let Some(e) = self.window_end
            && d.time >= e
        {
            return false;
        }
        true
    }
}
