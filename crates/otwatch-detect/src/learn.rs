//! What learning an alert teaches the engines: the mapping from a learned
//! alert to the baseline facts it stands for.
//!
//! The store already suppresses the exact traffic of a learned alert (its
//! fingerprint). Learning should also teach the engine the underlying fact,
//! so that related detections stop too: learning "Unpermitted Usage of
//! Modbus Function Code 16" between A and B teaches the operation fact
//! `A|B|Modbus|fc|16` (and that A and B talk Modbus), which also quiets the
//! same function code seen by another sensor in the zone or under another
//! key. The mapping reads only what an alert keeps (type, source,
//! destination, protocol, details), so it works on any stored alert; the
//! policy engine fills those details with the same names (see
//! [`FACT_FIELDS`] and the round-trip tests in `tests/`).
//!
//! | alert type | facts learned |
//! |---|---|
//! | new asset, field device discovered | `device` source |
//! | new communication pair | `pair` source→destination, `protocol` of the pair |
//! | new protocol, unauthorized HTTP activity | `pair`, `protocol` |
//! | new port | `port` destination transport/port |
//! | firmware version changed (any vendor) | `firmware` source new version |
//! | PLC operating mode changed | `mode` source new mode |
//! | internet access, unauthorized internet connectivity | `internet` source→destination |
//! | multicast/broadcast | `multicast` source→group over protocol |
//! | name query | `domain` source→name |
//! | HTTP user agent | `user_agent` source→agent |
//! | Modbus address range | `range` pair, unit, table, start, quantity |
//! | function code, ASDU type, CIP class/service, ENIP command/I/O, S7 function/DB/user data, BACnet object, DNP3 IIN/integrity poll, Modbus exception/UMAS | `operation` pair, protocol, dimension, value; plus `pair` and `protocol` |
//! | unauthorized PLC programming / upload / configuration read / write | `operation` pair, protocol, `engineering`, the operation; plus `pair` and `protocol` |
//!
//! Other learnable types (anomalies) are learned by fingerprint only.

use std::collections::BTreeMap;

use otwatch_model::Endpoint;

use crate::baseline::{Fact, FactKind};

/// For each operation-level policy type: the protocol it is about, the
/// dimension name in the fact key, and the detail fields whose values
/// (joined with `/`) form the fact value.
pub const FACT_FIELDS: &[(&str, &str, &str, &[&str])] = &[
    ("policy_modbus_function_code", "Modbus", "fc", &["function_code"]),
    ("policy_modbus_schneider_extension", "Modbus", "umas", &["umas_code"]),
    (
        "policy_modbus_unauthorized_exception",
        "Modbus",
        "exception",
        &["function_code", "exception_code"],
    ),
    ("policy_dnp3_function_code", "DNP3", "fc", &["function_code"]),
    ("policy_dnp3_illegal_integrity_scan", "DNP3", "integrity", &[]),
    ("policy_dnp3_internal_indication", "DNP3", "iin", &["iin"]),
    ("policy_iec104_asdu_type", "IEC-104", "asdu", &["type_id"]),
    ("policy_cip_class", "CIP", "class", &["class"]),
    ("policy_cip_class_service", "CIP", "service", &["service", "class"]),
    ("policy_enip_io_connection", "EtherNet/IP", "io", &["connection"]),
    ("policy_enip_command", "EtherNet/IP", "command", &["command"]),
    ("policy_s7_data_block", "S7comm", "db", &["operation", "data_block"]),
    ("policy_s7_control_function", "S7comm", "function", &["function"]),
    ("policy_s7_user_defined_function", "S7comm", "userdata", &["function_group", "subfunction"]),
    ("policy_bacnet_object_access", "BACnet", "object", &["service", "object"]),
];

/// The engineering (programming) policy types and the operation each stands for.
pub const ENGINEERING_TYPES: &[(&str, &str)] = &[
    ("policy_unauthorized_plc_programming", "program_download"),
    ("policy_unauthorized_plc_program_upload", "program_upload"),
    ("policy_unauthorized_plc_configuration_read", "config_read"),
    ("policy_unauthorized_plc_configuration_write", "config_write"),
];

/// How a device is named in facts: its IP address, else its MAC address.
pub fn device_key(ep: &Endpoint) -> Option<&str> {
    ep.ip.as_deref().or(ep.mac.as_deref()).filter(|s| !s.is_empty())
}

/// The value part of an operation fact: the detail values joined with `/`.
pub fn operation_value(details: &BTreeMap<String, String>, fields: &[&str]) -> Option<String> {
    if fields.is_empty() {
        return Some("yes".into());
    }
    let mut parts = Vec::with_capacity(fields.len());
    for f in fields {
        parts.push(details.get(*f)?.replace('|', "/"));
    }
    Some(parts.join("/"))
}

/// The facts a learned alert stands for (empty for types learned by fingerprint only).
pub fn facts_for_alert(
    alert_type: &str,
    source: &Endpoint,
    destination: &Endpoint,
    protocol: Option<&str>,
    details: &BTreeMap<String, String>,
) -> Vec<Fact> {
    let src = device_key(source);
    let dst = device_key(destination);
    let proto = protocol.unwrap_or("");
    let d = |k: &str| details.get(k).map(|v| v.replace('|', "/"));
    let mut out = Vec::new();
    let pair_and_protocol = |out: &mut Vec<Fact>, proto: &str| {
        if let (Some(s), Some(t)) = (src, dst) {
            out.push(Fact::new(FactKind::Pair, &[s, t]));
            if !proto.is_empty() {
                out.push(Fact::new(FactKind::Protocol, &[s, t, proto]));
            }
        }
    };
    match alert_type {
        "policy_new_asset" | "policy_field_device_discovered" => {
            if let Some(s) = src {
                out.push(Fact::new(FactKind::Device, &[s]));
            }
        }
        "policy_new_communication_pair" | "policy_new_protocol" => {
            pair_and_protocol(&mut out, proto)
        }
        "policy_unauthorized_http_activity" => pair_and_protocol(&mut out, "HTTP"),
        "policy_new_port" => {
            if let (Some(t), Some(tr), Some(p)) = (dst, d("transport"), d("port")) {
                out.push(Fact::new(FactKind::Port, &[t, &format!("{tr}/{p}")]));
            }
        }
        "policy_firmware_version_changed" | "policy_modbus_firmware_version_changed" => {
            if let (Some(s), Some(v)) = (src, d("firmware_new")) {
                out.push(Fact::new(FactKind::Firmware, &[s, &v]));
            }
        }
        "operational_plc_operating_mode_changed" => {
            if let (Some(s), Some(v)) = (src, d("mode_new")) {
                out.push(Fact::new(FactKind::Mode, &[s, &v]));
            }
        }
        "policy_internet_access" | "policy_unauthorized_internet_connectivity" => {
            if let (Some(s), Some(t)) = (src, dst) {
                out.push(Fact::new(FactKind::Internet, &[s, t]));
            }
        }
        "policy_unauthorized_multicast_broadcast" => {
            if let (Some(s), Some(t)) = (src, dst) {
                out.push(Fact::new(FactKind::Multicast, &[s, t, proto]));
            }
        }
        "policy_unauthorized_name_query" => {
            if let (Some(s), Some(n)) = (src, d("domain")) {
                out.push(Fact::new(FactKind::Domain, &[s, &n]));
            }
        }
        "policy_unauthorized_http_user_agent" => {
            if let (Some(s), Some(ua)) = (src, d("user_agent")) {
                out.push(Fact::new(FactKind::UserAgent, &[s, &ua]));
            }
        }
        "policy_modbus_address_range" => {
            if let (Some(s), Some(t), Some(unit), Some(space), Some(start), Some(qty)) =
                (src, dst, d("unit"), d("space"), d("start"), d("quantity"))
            {
                out.push(Fact::new(FactKind::Range, &[s, t, &unit, &space, &start, &qty]));
                pair_and_protocol(&mut out, "Modbus");
            }
        }
        other => {
            if let Some((_, p, dim, fields)) = FACT_FIELDS.iter().find(|(t, ..)| *t == other) {
                if let (Some(s), Some(t), Some(v)) = (src, dst, operation_value(details, fields)) {
                    out.push(Fact::new(FactKind::Operation, &[s, t, p, dim, &v]));
                    pair_and_protocol(&mut out, p);
                }
            } else if let Some((_, op)) = ENGINEERING_TYPES.iter().find(|(t, _)| *t == other)
                && let (Some(s), Some(t)) = (src, dst)
            {
                out.push(Fact::new(FactKind::Operation, &[s, t, proto, "engineering", op]));
                pair_and_protocol(&mut out, proto);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ep(ip: &str) -> Endpoint {
        Endpoint { ip: Some(ip.into()), ..Endpoint::default() }
    }

    #[test]
    fn function_code_alert_teaches_the_operation_pair_and_protocol() {
        let details = BTreeMap::from([("function_code".to_string(), "16".to_string())]);
        let f = facts_for_alert(
            "policy_modbus_function_code",
            &ep("10.0.0.5"),
            &ep("10.0.0.9"),
            Some("Modbus"),
            &details,
        );
        let keys: Vec<String> = f.iter().map(ToString::to_string).collect();
        assert_eq!(
            keys,
            [
                "operation:10.0.0.5|10.0.0.9|Modbus|fc|16",
                "pair:10.0.0.5|10.0.0.9",
                "protocol:10.0.0.5|10.0.0.9|Modbus"
            ]
        );
    }

    #[test]
    fn device_level_alerts_teach_device_facts() {
        let none = BTreeMap::new();
        let mac_only = Endpoint { mac: Some("00:1d:9c:01:02:03".into()), ..Endpoint::default() };
        let f = facts_for_alert("policy_new_asset", &mac_only, &Endpoint::default(), None, &none);
        assert_eq!(f, vec![Fact::new(FactKind::Device, &["00:1d:9c:01:02:03"])]);
        let details = BTreeMap::from([
            ("transport".to_string(), "tcp".to_string()),
            ("port".to_string(), "502".to_string()),
        ]);
        let f = facts_for_alert("policy_new_port", &ep("a"), &ep("b"), None, &details);
        assert_eq!(f, vec![Fact::new(FactKind::Port, &["b", "tcp/502"])]);
        assert!(facts_for_alert("anomaly_port_scan", &ep("a"), &ep("b"), None, &none).is_empty());
    }
}
