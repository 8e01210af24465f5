//! Row ↔ domain conversions for the SQLite schema.

use std::collections::BTreeMap;

use rusqlite::Row;

use otwatch_model::{
    Alert, AlertId, Category, Disposition, Endpoint, Engine, Severity, Status, Tactic, Technique,
    Timestamp,
};

/// The SELECT list that [`alert`] reads.
pub(crate) const ALERT_COLUMNS: &str = "id, alert_type, name, engine, category, severity, status, disposition, \
    first_detection, last_detection, last_activity, occurrence_count, suppressed_count, \
    src_device_id, src_ip, src_mac, src_name, dst_device_id, dst_ip, dst_mac, dst_name, \
    protocol, sensor, site, zone, tactics, techniques, description, remediation, learnable, mutable, \
    fingerprint, details";

pub(crate) fn opt(s: String) -> Option<String> {
    if s.is_empty() { None } else { Some(s) }
}

pub(crate) fn text(o: &Option<String>) -> &str {
    o.as_deref().unwrap_or("")
}

fn conv<T, E: std::fmt::Display>(col: usize, r: Result<T, E>) -> rusqlite::Result<T> {
    r.map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(
            col,
            rusqlite::types::Type::Text,
            e.to_string().into(),
        )
    })
}

pub(crate) fn json_map(s: &str) -> BTreeMap<String, String> {
    serde_json::from_str(s).unwrap_or_default()
}

pub(crate) fn map_json(m: &BTreeMap<String, String>) -> String {
    serde_json::to_string(m).unwrap_or_else(|_| "{}".into())
}

/// Reads an alert row selected with [`ALERT_COLUMNS`].
pub(crate) fn alert(r: &Row<'_>) -> rusqlite::Result<Alert> {
    let sev: i64 = r.get(5)?;
    let status: i64 = r.get(6)?;
    let disp: i64 = r.get(7)?;
    let tactics: String = r.get(25)?;
    let techniques: String = r.get(26)?;
    let remediation: String = r.get(28)?;
    let details: String = r.get(32)?;
    Ok(Alert {
        id: AlertId(r.get(0)?),
        alert_type: r.get(1)?,
        name: r.get(2)?,
        engine: conv(3, Engine::parse(&r.get::<_, String>(3)?))?,
        category: conv(4, Category::parse(&r.get::<_, String>(4)?))?,
        severity: conv(5, Severity::from_rank(sev).ok_or("bad severity"))?,
        status: conv(6, Status::from_code(status).ok_or("bad status"))?,
        disposition: conv(7, Disposition::from_code(disp).ok_or("bad disposition"))?,
        first_detection: Timestamp(r.get(8)?),
        last_detection: Timestamp(r.get(9)?),
        last_activity: Timestamp(r.get(10)?),
        occurrence_count: r.get::<_, i64>(11)?.max(0) as u64,
        suppressed_count: r.get::<_, i64>(12)?.max(0) as u64,
        source: Endpoint {
            device_id: r.get(13)?,
            ip: opt(r.get(14)?),
            mac: opt(r.get(15)?),
            name: opt(r.get(16)?),
        },
        destination: Endpoint {
            device_id: r.get(17)?,
            ip: opt(r.get(18)?),
            mac: opt(r.get(19)?),
            name: opt(r.get(20)?),
        },
        protocol: opt(r.get(21)?),
        sensor: opt(r.get(22)?),
        site: opt(r.get(23)?),
        zone: opt(r.get(24)?),
        tactics: tactics
            .split(';')
            .filter(|s| !s.is_empty())
            .filter_map(|s| Tactic::parse(s).ok())
            .collect(),
        techniques: techniques
            .split(';')
            .filter(|s| !s.is_empty())
            .filter_map(|s| Technique::parse(s).ok())
            .collect(),
        description: r.get(27)?,
        remediation: serde_json::from_str(&remediation).unwrap_or_default(),
        learnable: r.get(29)?,
        mutable: r.get(30)?,
        fingerprint: r.get(31)?,
        details: json_map(&details),
    })
}
