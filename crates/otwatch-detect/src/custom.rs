//! Custom rules at work: each observation is matched against the enabled
//! rules of the [`RuleSet`](crate::rules::RuleSet).
//!
//! Which observations a rule looks at follows from its conditions: a rule
//! with any message condition (operation, function, unit, object, register,
//! length, role, status, error code, symbol, cause) matches application
//! messages only; a rule naming an application protocol matches that
//! protocol's messages (DNS queries, HTTP requests, sign-ins and DHCP for
//! the IT protocols); a rule naming `tcp`, `udp` or `icmp`, or only
//! addresses, ports and times, matches the first packet of each flow (and
//! every packet outside flows); `arp` matches ARP packets. "Source" and
//! "destination" are the sender and receiver of the observation.
//!
//! An `alert` rule raises "Unauthorized Operation was detected by a User
//! Defined Rule" with the rule id as key and the filled message; an `event`
//! rule writes one `USER_DEFINED_RULE_OPERATION` timeline event per rule,
//! source and destination (bounded).

use std::collections::BTreeMap;

use otwatch_model::{EventSeverity, NewEvent, Severity};

use crate::engine::{Ctx, key, protocol_label};
use crate::observation::{AppMessage, Kind, Observation, Protocol, Role, Status, Transport};
use crate::rules::{Conditions, NumRange, Rule, RuleAction, glob_match};
use crate::window::Bounded;

#[derive(Debug)]
pub(crate) struct Custom {
    events: Bounded<u64, ()>,
}

fn in_ranges(ranges: &[NumRange], v: Option<u64>) -> bool {
    ranges.is_empty() || v.is_some_and(|v| ranges.iter().any(|r| r.contains(v)))
}

fn rule_protocol(p: Protocol) -> &'static str {
    match p {
        Protocol::Modbus => "modbus",
        Protocol::Dnp3 => "dnp3",
        Protocol::S7comm => "s7comm",
        Protocol::S7commPlus => "s7comm-plus",
        Protocol::Enip => "enip",
        Protocol::Cip => "cip",
        Protocol::Bacnet => "bacnet",
        Protocol::Iec104 => "iec104",
        Protocol::Dhcp => "dhcp",
        Protocol::Dns => "dns",
        Protocol::Http => "http",
        Protocol::Ftp => "ftp",
        Protocol::Telnet => "telnet",
        _ => "ip",
    }
}

/// Whether the observation is one the rule looks at, by kind and protocol.
fn candidate(w: &Conditions, obs: &Observation) -> bool {
    let protos = &w.protocols;
    match &obs.kind {
        Kind::App(m) => {
            let name = rule_protocol(m.protocol);
            protos.is_empty() && w.needs_message()
                || protos.contains(name)
                || (m.protocol == Protocol::Cip && protos.contains("enip"))
        }
        _ if w.needs_message() => false,
        Kind::Packet(p) => {
            let first = p.new_flow || obs.flow.is_none();
            let t = match obs.transport {
                Transport::Tcp => "tcp",
                Transport::Udp => "udp",
                Transport::Icmp => "icmp",
                _ => "ip",
            };
            first && (protos.is_empty() || protos.contains(t))
        }
        Kind::Arp(_) => protos.contains("arp"),
        Kind::Dns(d) => !d.response && protos.contains("dns"),
        Kind::Http(_) => protos.contains("http"),
        Kind::Login(l) => protos.contains(rule_protocol(l.protocol)),
        Kind::Dhcp(_) => protos.contains("dhcp"),
        _ => false,
    }
}

fn message_matches(w: &Conditions, m: &AppMessage) -> bool {
    if !w.operations.is_empty() && !w.operations.contains(m.operation.name()) {
        return false;
    }
    let role = match m.role {
        Role::Request => "request",
        Role::Response => "response",
        Role::Unsolicited => "unsolicited",
    };
    if !w.roles.is_empty() && !w.roles.contains(role) {
        return false;
    }
    if let Some(st) = &w.status {
        let ok = match m.status {
            Some(Status::Ok) => st == "ok",
            Some(Status::Error) => st == "error",
            None => false,
        };
        if !ok {
            return false;
        }
    }
    let objects: Vec<_> = std::iter::once(m.object)
        .flatten()
        .chain(m.more_objects.as_slice().iter().copied())
        .collect();
    let registers_ok = (w.register.is_empty() && w.register_space.is_empty())
        || m.ranges.as_slice().iter().any(|r| {
            (w.register_space.is_empty() || w.register_space.contains(r.space))
                && (w.register.is_empty()
                    || w.register
                        .iter()
                        .any(|x| x.overlaps(u64::from(r.start), u64::from(r.count))))
        });
    in_ranges(&w.function, Some(u64::from(m.function)))
        && in_ranges(&w.sub_function, m.sub_function.map(u64::from))
        && in_ranges(&w.unit, m.unit.map(u64::from))
        && in_ranges(&w.length, Some(u64::from(m.length)))
        && in_ranges(&w.error_code, m.error_code.map(u64::from))
        && in_ranges(&w.cot, m.cot.map(u64::from))
        && (w.object_class.is_empty()
            || objects
                .iter()
                .any(|o| w.object_class.iter().any(|r| r.contains(u64::from(o.class)))))
        && (w.object_instance.is_empty()
            || objects.iter().any(|o| {
                o.instance
                    .is_some_and(|i| w.object_instance.iter().any(|r| r.contains(u64::from(i))))
            }))
        && registers_ok
        && (w.symbol.is_empty()
            || m.symbol.is_some_and(|s| w.symbol.iter().any(|p| glob_match(p, s.as_str()))))
}

/// Whether a rule matches an observation.
pub(crate) fn matches(rule: &Rule, obs: &Observation) -> bool {
    let w = &rule.when;
    if !candidate(w, obs) {
        return false;
    }
    let (src, dst) = (obs.src.ip, obs.dst.ip);
    if !w.source.matches(src.as_ref()) || !w.destination.matches(dst.as_ref()) {
        return false;
    }
    let any_address = w.address.include.is_empty() && w.address.exclude.is_empty();
    if !any_address && !w.address.matches(src.as_ref()) && !w.address.matches(dst.as_ref()) {
        return false;
    }
    if !in_ranges(&w.source_port, obs.src.port.map(u64::from))
        || !in_ranges(&w.destination_port, obs.dst.port.map(u64::from))
        || !in_ranges(&w.vlan, obs.vlan.map(u64::from))
        || !w.time.contains(obs.time.0)
    {
        return false;
    }
    match &obs.kind {
        Kind::App(m) => message_matches(w, m),
        _ => true,
    }
}

fn fill(rule: &Rule, obs: &Observation) -> String {
    let m = match &obs.kind {
        Kind::App(m) => Some(m),
        _ => None,
    };
    otwatch_model::catalog::fill(&rule.message, |name| match name {
        "source" => obs.src.ip.map(|i| i.to_string()).or(obs.src.mac.map(|m| m.to_string())),
        "destination" => obs.dst.ip.map(|i| i.to_string()).or(obs.dst.mac.map(|m| m.to_string())),
        "src_port" => obs.src.port.map(|p| p.to_string()),
        "dst_port" => obs.dst.port.map(|p| p.to_string()),
        "protocol" => Some(protocol_label(obs).to_string()),
        "function" => m.map(|m| m.function.to_string()),
        "function_name" => m.and_then(|m| m.function_name).map(str::to_string),
        "operation" => m.map(|m| m.operation.name().to_string()),
        "unit" => m.and_then(|m| m.unit).map(|u| u.to_string()),
        "register" => m.and_then(|m| m.ranges.as_slice().first().copied()).map(|r| {
            format!("{} {}-{}", r.space, r.start, r.start.saturating_add(r.count.max(1)) - 1)
        }),
        "symbol" => m.and_then(|m| m.symbol).map(|s| s.to_string()),
        "rule" => Some(rule.id.clone()),
        "rule_name" => Some(rule.name.clone()),
        _ => None,
    })
}

impl Custom {
    pub fn new(limit: usize) -> Custom {
        Custom { events: Bounded::new(limit) }
    }

    pub fn evictions(&self, out: &mut BTreeMap<&'static str, u64>) {
        out.insert("custom.events", self.events.evicted());
    }

    pub fn observe(&mut self, obs: &Observation, cx: &mut Ctx<'_>) {
        let rules = cx.rules;
        for (i, rule) in rules.rules().iter().enumerate() {
            if !rule.enabled || !matches(rule, obs) {
                continue;
            }
            let label = protocol_label(obs);
            let message = fill(rule, obs);
            let (src, dst) = (obs.src, obs.dst);
            let function = match &obs.kind {
                Kind::App(m) => Some(m.function),
                _ => None,
            };
            let k = key(("rule", i, src.ip, dst.ip, src.mac, dst.mac, function));
            match rule.action {
                RuleAction::Alert => {
                    let (id, name, severity) = (rule.id.clone(), rule.name.clone(), rule.severity);
                    cx.raise("custom_user_defined_rule", k, obs.time, &[obs.frame], |cx| {
                        let mut d = cx.detection(
                            "custom_user_defined_rule",
                            obs.time,
                            &src,
                            &dst,
                            Some(label),
                        );
                        d.severity = Some(severity);
                        d.key.insert("rule".into(), id);
                        d.details.insert("rule_name".into(), name);
                        d.details.insert("message".into(), message);
                        d
                    });
                }
                RuleAction::Event => {
                    let ek = key(("rule_event", i, src.ip, dst.ip, src.mac, dst.mac));
                    if self.events.get(&ek).is_some() {
                        continue;
                    }
                    self.events.entry(ek, obs.time, || ());
                    let severity = match rule.severity {
                        Severity::Critical | Severity::Major => EventSeverity::Alert,
                        _ => EventSeverity::Notice,
                    };
                    let mut e = NewEvent::new(
                        obs.time,
                        "USER_DEFINED_RULE_OPERATION",
                        severity,
                        format!("User Defined Rule: {}", rule.name),
                    );
                    e.description = message;
                    e.src_ip = src.ip.map(|i| i.to_string());
                    e.dst_ip = dst.ip.map(|i| i.to_string());
                    e.protocol = Some(label.to_string());
                    e.details.insert("rule".into(), rule.id.clone());
                    e.key = Some(format!(
                        "rule:{}:{}:{}:{}",
                        rule.id,
                        e.src_ip.as_deref().unwrap_or(""),
                        e.dst_ip.as_deref().unwrap_or(""),
                        obs.time.0
                    ));
                    cx.event(e);
                }
            }
        }
    }
}
