//! Devices, connections, the event timeline and sensors.

use std::collections::BTreeSet;

use rusqlite::types::Value as Sql;
use rusqlite::{Connection, OptionalExtension, params, params_from_iter};

use otwatch_model::inventory::normalize_mac;
use otwatch_model::{
    Actor, AlertId, Connection as Conn, ConnectionObservation, Device, DeviceObservation,
    DeviceType, Event, EventSeverity, Importance, NewEvent, Sensor, Timestamp,
};
use otwatch_store::{
    ConnectionQuery, DeviceGroup, DevicePatch, DeviceQuery, EventQuery, GroupCount, Result,
    StoreError, query::page_size,
};

use crate::rows::{json_map, map_json, opt, text};
use crate::sql::like_escape;
use crate::{auth, backend_err};

const DEVICE_COLUMNS: &str = "id, name, ip, mac, vendor, model, firmware, serial, device_type, is_ot, protocols, vlan, \
    sensor, site, zone, first_seen, last_seen, authorized, programming_device, scanner, importance, details";

fn device_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Device> {
    let protocols: String = r.get(10)?;
    Ok(Device {
        id: r.get(0)?,
        name: opt(r.get(1)?),
        ip: opt(r.get(2)?),
        mac: opt(r.get(3)?),
        vendor: opt(r.get(4)?),
        model: opt(r.get(5)?),
        firmware: opt(r.get(6)?),
        serial: opt(r.get(7)?),
        device_type: DeviceType::parse(&r.get::<_, String>(8)?).unwrap_or(DeviceType::Unknown),
        is_ot: r.get(9)?,
        protocols: protocols.split(';').filter(|s| !s.is_empty()).map(String::from).collect(),
        vlan: r.get(11)?,
        sensor: opt(r.get(12)?),
        site: opt(r.get(13)?),
        zone: opt(r.get(14)?),
        first_seen: Timestamp(r.get(15)?),
        last_seen: Timestamp(r.get(16)?),
        authorized: r.get(17)?,
        programming_device: r.get(18)?,
        scanner: r.get(19)?,
        importance: Importance::parse(&r.get::<_, String>(20)?).unwrap_or(Importance::Normal),
        details: json_map(&r.get::<_, String>(21)?),
    })
}

fn identity(zone: &str, ip: &str, mac: &str) -> String {
    format!("{zone}|{ip}|{mac}")
}

fn norm_mac(m: &Option<String>) -> String {
    m.as_deref()
        .map(|m| normalize_mac(m).unwrap_or_else(|| m.trim().to_ascii_lowercase()))
        .unwrap_or_default()
}

pub(crate) fn upsert_devices(tx: &Connection, obs: &[DeviceObservation]) -> Result<Vec<i64>> {
    let mut ids = Vec::with_capacity(obs.len());
    for o in obs {
        let ip = o.ip.as_deref().unwrap_or("").trim().to_string();
        let mac = norm_mac(&o.mac);
        if ip.is_empty() && mac.is_empty() {
            return Err(StoreError::invalid(
                "ip",
                "a device observation needs an IP or a MAC address",
            ));
        }
        let zone = text(&o.zone).to_string();
        let ident = identity(&zone, &ip, &mac);
        let existing = tx
            .prepare_cached(
                "SELECT id, protocols, details, device_type FROM devices WHERE identity = ?",
            )
            .map_err(backend_err)?
            .query_row([&ident], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                ))
            })
            .optional()
            .map_err(backend_err)?;
        let new_type = o.device_type.filter(|t| *t != DeviceType::Unknown);
        match existing {
            None => {
                let ty = o.device_type.unwrap_or(DeviceType::Unknown);
                let mut protos: BTreeSet<&str> = BTreeSet::new();
                protos.extend(o.protocols.iter().map(String::as_str));
                tx.prepare_cached(
                    "INSERT INTO devices (identity, name, ip, mac, vendor, model, firmware, serial, device_type, is_ot, \
                     protocols, vlan, sensor, site, zone, first_seen, last_seen, authorized, details) \
                     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                )
                .map_err(backend_err)?
                .execute(params![
                    ident,
                    text(&o.name),
                    ip,
                    mac,
                    text(&o.vendor),
                    text(&o.model),
                    text(&o.firmware),
                    text(&o.serial),
                    ty.as_str(),
                    o.is_ot.unwrap_or(ty.is_ot()),
                    protos.into_iter().collect::<Vec<_>>().join(";"),
                    o.vlan,
                    text(&o.sensor),
                    text(&o.site),
                    zone,
                    o.seen.0,
                    o.seen.0,
                    o.authorized.unwrap_or(false),
                    map_json(&o.details),
                ])
                .map_err(backend_err)?;
                ids.push(tx.last_insert_rowid());
            }
            Some((id, protocols, details, old_type)) => {
                let mut protos: BTreeSet<String> =
                    protocols.split(';').filter(|s| !s.is_empty()).map(String::from).collect();
                protos.extend(o.protocols.iter().cloned());
                let mut det = json_map(&details);
                det.extend(o.details.iter().map(|(k, v)| (k.clone(), v.clone())));
                let ty = new_type.map(|t| t.as_str().to_string()).unwrap_or(old_type);
                tx.prepare_cached(
                    "UPDATE devices SET name = CASE WHEN ? <> '' THEN ? ELSE name END, \
                     vendor = CASE WHEN ? <> '' THEN ? ELSE vendor END, \
                     model = CASE WHEN ? <> '' THEN ? ELSE model END, \
                     firmware = CASE WHEN ? <> '' THEN ? ELSE firmware END, \
                     serial = CASE WHEN ? <> '' THEN ? ELSE serial END, \
                     device_type = ?, is_ot = coalesce(?, is_ot), protocols = ?, vlan = coalesce(?, vlan), \
                     sensor = CASE WHEN ? <> '' THEN ? ELSE sensor END, site = CASE WHEN ? <> '' THEN ? ELSE site END, \
                     first_seen = min(first_seen, ?), last_seen = max(last_seen, ?), \
                     authorized = coalesce(?, authorized), details = ? WHERE id = ?",
                )
                .map_err(backend_err)?
                .execute(params![
                    text(&o.name), text(&o.name),
                    text(&o.vendor), text(&o.vendor),
                    text(&o.model), text(&o.model),
                    text(&o.firmware), text(&o.firmware),
                    text(&o.serial), text(&o.serial),
                    ty,
                    o.is_ot,
                    protos.into_iter().collect::<Vec<_>>().join(";"),
                    o.vlan,
                    text(&o.sensor), text(&o.sensor),
                    text(&o.site), text(&o.site),
                    o.seen.0,
                    o.seen.0,
                    o.authorized,
                    map_json(&det),
                    id,
                ])
                .map_err(backend_err)?;
                ids.push(id);
            }
        }
    }
    Ok(ids)
}

pub(crate) fn device(c: &Connection, id: i64) -> Result<Device> {
    c.prepare_cached(&format!("SELECT {DEVICE_COLUMNS} FROM devices WHERE id = ?"))
        .map_err(backend_err)?
        .query_row([id], device_row)
        .optional()
        .map_err(backend_err)?
        .ok_or_else(|| StoreError::not_found("device", id))
}

fn device_where(q: &DeviceQuery) -> (String, Vec<Sql>) {
    let mut clauses: Vec<String> = Vec::new();
    let mut ps: Vec<Sql> = Vec::new();
    if let Some(s) = q.search.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        let pat = format!("%{}%", like_escape(s));
        let cols = ["name", "ip", "mac", "vendor", "model", "firmware", "device_type", "protocols"];
        clauses.push(format!(
            "({})",
            cols.iter().map(|c| format!("{c} LIKE ? ESCAPE '\\'")).collect::<Vec<_>>().join(" OR ")
        ));
        ps.extend(cols.iter().map(|_| Sql::Text(pat.clone())));
    }
    for (col, vals) in [
        ("device_type", &q.device_types),
        ("vendor", &q.vendors),
        ("site", &q.sites),
        ("zone", &q.zones),
    ] {
        if !vals.is_empty() {
            clauses.push(format!("{col} IN ({})", vec!["?"; vals.len()].join(", ")));
            ps.extend(vals.iter().map(|v| Sql::Text(v.clone())));
        }
    }
    if let Some(ot) = q.is_ot {
        clauses.push("is_ot = ?".into());
        ps.push(Sql::Integer(i64::from(ot)));
    }
    if let Some(p) = &q.protocol {
        clauses.push("(';' || protocols || ';') LIKE ? ESCAPE '\\'".into());
        ps.push(Sql::Text(format!("%;{};%", like_escape(p))));
    }
    let sql = if clauses.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", clauses.join(" AND "))
    };
    (sql, ps)
}

pub(crate) fn list_devices(c: &Connection, q: &DeviceQuery) -> Result<Vec<Device>> {
    let (w, ps) = device_where(q);
    let sql = format!(
        "SELECT {DEVICE_COLUMNS} FROM devices{w} ORDER BY last_seen DESC, id DESC LIMIT {} OFFSET {}",
        page_size(q.limit),
        q.offset
    );
    let mut st = c.prepare_cached(&sql).map_err(backend_err)?;
    st.query_map(params_from_iter(ps.iter()), device_row)
        .map_err(backend_err)?
        .collect::<rusqlite::Result<Vec<_>>>()
        .map_err(backend_err)
}

pub(crate) fn count_devices(c: &Connection, q: &DeviceQuery) -> Result<u64> {
    let (w, ps) = device_where(q);
    let n: i64 = c
        .prepare_cached(&format!("SELECT count(*) FROM devices{w}"))
        .map_err(backend_err)?
        .query_row(params_from_iter(ps.iter()), |r| r.get(0))
        .map_err(backend_err)?;
    Ok(n.max(0) as u64)
}

pub(crate) fn group_devices(
    c: &Connection,
    q: &DeviceQuery,
    by: DeviceGroup,
) -> Result<Vec<GroupCount>> {
    let col = match by {
        DeviceGroup::DeviceType => "device_type",
        DeviceGroup::Vendor => "vendor",
        DeviceGroup::Site => "site",
        DeviceGroup::Zone => "zone",
        DeviceGroup::IsOt => "CASE WHEN is_ot THEN 'OT' ELSE 'IT' END",
    };
    let (w, ps) = device_where(q);
    let sql = format!("SELECT {col}, count(*) FROM devices{w} GROUP BY 1 ORDER BY 2 DESC, 1");
    let mut st = c.prepare_cached(&sql).map_err(backend_err)?;
    st.query_map(params_from_iter(ps.iter()), |r| {
        Ok(GroupCount { value: r.get(0)?, count: r.get::<_, i64>(1)?.max(0) as u64 })
    })
    .map_err(backend_err)?
    .collect::<rusqlite::Result<Vec<_>>>()
    .map_err(backend_err)
}

pub(crate) fn update_device(
    tx: &Connection,
    id: i64,
    p: &DevicePatch,
    actor: &Actor,
    now: Timestamp,
) -> Result<Device> {
    let before = device(tx, id)?;
    let mut changes = Vec::new();
    if let Some(n) = &p.name {
        if n.chars().count() > 200 {
            return Err(StoreError::invalid("name", "at most 200 characters"));
        }
        tx.execute("UPDATE devices SET name = ? WHERE id = ?", params![n.trim(), id])
            .map_err(backend_err)?;
        changes.push(format!(
            "name {:?} → {:?}",
            before.name.clone().unwrap_or_default(),
            n.trim()
        ));
    }
    if let Some(t) = p.device_type {
        tx.execute(
            "UPDATE devices SET device_type = ?, is_ot = ? WHERE id = ?",
            params![t.as_str(), t.is_ot() || before.is_ot, id],
        )
        .map_err(backend_err)?;
        changes.push(format!("type {} → {t}", before.device_type));
    }
    for (col, val, old) in [
        ("authorized", p.authorized, before.authorized),
        ("programming_device", p.programming_device, before.programming_device),
        ("scanner", p.scanner, before.scanner),
    ] {
        if let Some(v) = val {
            tx.execute(&format!("UPDATE devices SET {col} = ? WHERE id = ?"), params![v, id])
                .map_err(backend_err)?;
            changes.push(format!("{col} {old} → {v}"));
        }
    }
    if let Some(i) = p.importance {
        tx.execute("UPDATE devices SET importance = ? WHERE id = ?", params![i.as_str(), id])
            .map_err(backend_err)?;
        changes.push(format!("importance {} → {i}", before.importance));
    }
    if !changes.is_empty() {
        auth::audit(
            tx,
            actor,
            "device_update",
            "device",
            &id.to_string(),
            &changes.join("; "),
            now,
        )?;
    }
    device(tx, id)
}

fn device_id_for(
    tx: &Connection,
    zone: &str,
    addr: &str,
    mac: &Option<String>,
) -> Result<Option<i64>> {
    let mac = norm_mac(mac);
    let exact = tx
        .prepare_cached("SELECT id FROM devices WHERE identity = ?")
        .map_err(backend_err)?
        .query_row([identity(zone, addr, &mac)], |r| r.get(0))
        .optional()
        .map_err(backend_err)?;
    if exact.is_some() {
        return Ok(exact);
    }
    tx.prepare_cached("SELECT id FROM devices WHERE (ip = ?1 OR (ip = '' AND mac = ?1)) AND zone = ?2 ORDER BY last_seen DESC LIMIT 1")
        .map_err(backend_err)?
        .query_row(params![addr, zone], |r| r.get(0))
        .optional()
        .map_err(backend_err)
}

pub(crate) fn upsert_connections(tx: &Connection, obs: &[ConnectionObservation]) -> Result<u64> {
    let mut created = 0;
    for o in obs {
        if o.src.is_empty() || o.dst.is_empty() || o.transport.is_empty() {
            return Err(StoreError::invalid("src", "a connection needs src, dst and transport"));
        }
        let zone = text(&o.zone);
        let ident = format!(
            "{zone}|{}|{}|{}|{}|{}",
            o.src,
            o.dst,
            o.transport,
            o.dst_port.map(|p| p.to_string()).unwrap_or_default(),
            text(&o.protocol)
        );
        let src_dev = device_id_for(tx, zone, &o.src, &o.src_mac)?;
        let dst_dev = device_id_for(tx, zone, &o.dst, &o.dst_mac)?;
        let n = tx
            .prepare_cached(
                "UPDATE connections SET packets = packets + ?, bytes = bytes + ?, first_seen = min(first_seen, ?), \
                 last_seen = max(last_seen, ?), src_device_id = coalesce(?, src_device_id), \
                 dst_device_id = coalesce(?, dst_device_id), sensor = CASE WHEN ? <> '' THEN ? ELSE sensor END \
                 WHERE identity = ?",
            )
            .map_err(backend_err)?
            .execute(params![
                o.packets as i64,
                o.bytes as i64,
                o.first_seen.0,
                o.last_seen.0,
                src_dev,
                dst_dev,
                text(&o.sensor),
                text(&o.sensor),
                ident
            ])
            .map_err(backend_err)?;
        if n == 0 {
            tx.prepare_cached(
                "INSERT INTO connections (identity, src_device_id, dst_device_id, src, dst, transport, dst_port, protocol, \
                 packets, bytes, first_seen, last_seen, sensor, site, zone) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .map_err(backend_err)?
            .execute(params![
                ident,
                src_dev,
                dst_dev,
                o.src,
                o.dst,
                o.transport,
                o.dst_port,
                text(&o.protocol),
                o.packets as i64,
                o.bytes as i64,
                o.first_seen.0,
                o.last_seen.0,
                text(&o.sensor),
                text(&o.site),
                zone
            ])
            .map_err(backend_err)?;
            created += 1;
        }
    }
    Ok(created)
}

pub(crate) fn list_connections(c: &Connection, q: &ConnectionQuery) -> Result<Vec<Conn>> {
    let mut clauses: Vec<String> = Vec::new();
    let mut ps: Vec<Sql> = Vec::new();
    if let Some(d) = q.device_id {
        clauses.push("(src_device_id = ? OR dst_device_id = ?)".into());
        ps.push(Sql::Integer(d));
        ps.push(Sql::Integer(d));
    }
    if let Some(a) = &q.address {
        clauses.push("(src = ? OR dst = ?)".into());
        ps.push(Sql::Text(a.clone()));
        ps.push(Sql::Text(a.clone()));
    }
    if !q.protocols.is_empty() {
        clauses.push(format!("protocol IN ({})", vec!["?"; q.protocols.len()].join(", ")));
        ps.extend(q.protocols.iter().map(|p| Sql::Text(p.clone())));
    }
    if let Some(t) = &q.transport {
        clauses.push("transport = ?".into());
        ps.push(Sql::Text(t.clone()));
    }
    if let Some(f) = q.from {
        clauses.push("last_seen >= ?".into());
        ps.push(Sql::Integer(f.0));
    }
    if let Some(t) = q.to {
        clauses.push("first_seen < ?".into());
        ps.push(Sql::Integer(t.0));
    }
    let w = if clauses.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", clauses.join(" AND "))
    };
    let sql = format!(
        "SELECT id, src_device_id, dst_device_id, src, dst, transport, dst_port, protocol, packets, bytes, first_seen, \
         last_seen, sensor, site, zone FROM connections{w} ORDER BY last_seen DESC, id DESC LIMIT {} OFFSET {}",
        page_size(q.limit),
        q.offset
    );
    let mut st = c.prepare_cached(&sql).map_err(backend_err)?;
    st.query_map(params_from_iter(ps.iter()), |r| {
        Ok(Conn {
            id: r.get(0)?,
            src_device_id: r.get(1)?,
            dst_device_id: r.get(2)?,
            src: r.get(3)?,
            dst: r.get(4)?,
            transport: r.get(5)?,
            dst_port: r.get(6)?,
            protocol: opt(r.get(7)?),
            packets: r.get::<_, i64>(8)?.max(0) as u64,
            bytes: r.get::<_, i64>(9)?.max(0) as u64,
            first_seen: Timestamp(r.get(10)?),
            last_seen: Timestamp(r.get(11)?),
            sensor: opt(r.get(12)?),
            site: opt(r.get(13)?),
            zone: opt(r.get(14)?),
        })
    })
    .map_err(backend_err)?
    .collect::<rusqlite::Result<Vec<_>>>()
    .map_err(backend_err)
}

/// Inserts one event; returns its id, or `None` if its key was already stored.
pub(crate) fn insert_event(tx: &Connection, e: &NewEvent) -> Result<Option<i64>> {
    if e.event_type.trim().is_empty() {
        return Err(StoreError::invalid("event_type", "required"));
    }
    let n = tx
        .prepare_cached(
            "INSERT OR IGNORE INTO events (key, at, event_type, severity, title, description, device_id, src_ip, dst_ip, \
             protocol, sensor, site, zone, alert_id, owner, details) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .map_err(backend_err)?
        .execute(params![
            e.key,
            e.at.0,
            e.event_type,
            e.severity.as_str(),
            e.title,
            e.description,
            e.device_id,
            text(&e.src_ip),
            text(&e.dst_ip),
            text(&e.protocol),
            text(&e.sensor),
            text(&e.site),
            text(&e.zone),
            e.alert_id.map(|a| a.0),
            text(&e.owner),
            map_json(&e.details),
        ])
        .map_err(backend_err)?;
    Ok(if n > 0 { Some(tx.last_insert_rowid()) } else { None })
}

pub(crate) fn append_events(tx: &Connection, events: &[NewEvent]) -> Result<u64> {
    let mut n = 0;
    for e in events {
        if insert_event(tx, e)?.is_some() {
            n += 1;
        }
    }
    Ok(n)
}

pub(crate) fn list_events(c: &Connection, q: &EventQuery) -> Result<Vec<Event>> {
    let mut clauses: Vec<String> = Vec::new();
    let mut ps: Vec<Sql> = Vec::new();
    if let Some(d) = q.device_id {
        clauses.push(
            "(device_id = ?1 OR (src_ip <> '' AND src_ip = (SELECT ip FROM devices WHERE id = ?1)) \
             OR (dst_ip <> '' AND dst_ip = (SELECT ip FROM devices WHERE id = ?1)))"
                .replace("?1", &format!("?{}", ps.len() + 1)),
        );
        ps.push(Sql::Integer(d));
    }
    let push = |clause: &str, v: Sql, clauses: &mut Vec<String>, ps: &mut Vec<Sql>| {
        ps.push(v);
        clauses.push(clause.replace('?', &format!("?{}", ps.len())));
    };
    if let Some(a) = q.alert_id {
        push("alert_id = ?", Sql::Integer(a), &mut clauses, &mut ps);
    }
    if let Some(f) = q.from {
        push("at >= ?", Sql::Integer(f.0), &mut clauses, &mut ps);
    }
    if let Some(t) = q.to {
        push("at < ?", Sql::Integer(t.0), &mut clauses, &mut ps);
    }
    if let Some(b) = q.before_id {
        push("id < ?", Sql::Integer(b), &mut clauses, &mut ps);
    }
    if let Some(s) = q.search.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        let pat = Sql::Text(format!("%{}%", like_escape(s)));
        ps.push(pat);
        let n = ps.len();
        clauses.push(format!("(title LIKE ?{n} ESCAPE '\\' OR description LIKE ?{n} ESCAPE '\\')"));
    }
    if !q.event_types.is_empty() {
        let mut marks = Vec::new();
        for t in &q.event_types {
            ps.push(Sql::Text(t.clone()));
            marks.push(format!("?{}", ps.len()));
        }
        clauses.push(format!("event_type IN ({})", marks.join(", ")));
    }
    let w = if clauses.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", clauses.join(" AND "))
    };
    let sql = format!(
        "SELECT id, at, event_type, severity, title, description, device_id, src_ip, dst_ip, protocol, sensor, site, zone, \
         alert_id, owner, details FROM events{w} ORDER BY at DESC, id DESC LIMIT {}",
        page_size(q.limit)
    );
    let mut st = c.prepare_cached(&sql).map_err(backend_err)?;
    st.query_map(params_from_iter(ps.iter()), |r| {
        Ok(Event {
            id: r.get(0)?,
            at: Timestamp(r.get(1)?),
            event_type: r.get(2)?,
            severity: EventSeverity::parse(&r.get::<_, String>(3)?).unwrap_or(EventSeverity::Info),
            title: r.get(4)?,
            description: r.get(5)?,
            device_id: r.get(6)?,
            src_ip: opt(r.get(7)?),
            dst_ip: opt(r.get(8)?),
            protocol: opt(r.get(9)?),
            sensor: opt(r.get(10)?),
            site: opt(r.get(11)?),
            zone: opt(r.get(12)?),
            alert_id: r.get::<_, Option<i64>>(13)?.map(AlertId),
            owner: opt(r.get(14)?),
            details: json_map(&r.get::<_, String>(15)?),
        })
    })
    .map_err(backend_err)?
    .collect::<rusqlite::Result<Vec<_>>>()
    .map_err(backend_err)
}

pub(crate) fn upsert_sensor(tx: &Connection, s: &Sensor) -> Result<()> {
    if s.id.trim().is_empty() {
        return Err(StoreError::invalid("id", "a sensor needs an id"));
    }
    tx.execute(
        "INSERT INTO sensors (id, name, site, zone, last_seen) VALUES (?, ?, ?, ?, ?) \
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, site = excluded.site, zone = excluded.zone, \
         last_seen = max(coalesce(last_seen, 0), coalesce(excluded.last_seen, 0))",
        params![s.id, s.name, text(&s.site), text(&s.zone), s.last_seen.map(|t| t.0)],
    )
    .map_err(backend_err)?;
    Ok(())
}

pub(crate) fn list_sensors(c: &Connection) -> Result<Vec<Sensor>> {
    let mut st = c
        .prepare_cached("SELECT id, name, site, zone, last_seen FROM sensors ORDER BY id")
        .map_err(backend_err)?;
    st.query_map([], |r| {
        Ok(Sensor {
            id: r.get(0)?,
            name: r.get(1)?,
            site: opt(r.get(2)?),
            zone: opt(r.get(3)?),
            last_seen: r.get::<_, Option<i64>>(4)?.map(Timestamp),
        })
    })
    .map_err(backend_err)?
    .collect::<rusqlite::Result<Vec<_>>>()
    .map_err(backend_err)
}
