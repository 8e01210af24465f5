//! Alerts: ingest with idempotency, exclusions and de-duplication; queries; triage.

use std::collections::{BTreeMap, HashMap};

use rusqlite::{Connection, OptionalExtension, params};

use otwatch_model::lifecycle::{self, Action, DetectionDecision, Effect, LifecycleState, Tracked};
use otwatch_model::{
    Actor, ActorKind, Alert, AlertField, AlertId, AlertType, Comment, Detection, Disposition,
    EventSeverity, ExclusionSpec, FieldKind, NewEvent, Severity, Status, Timestamp, baseline,
};
use otwatch_store::{
    ActionOutcome, AggregatedAlert, AlertDetails, AlertPage, AlertQuery, Cursor, GroupCount,
    IngestOptions, IngestReport, Result, StoreError, Value,
};

use crate::rows::{self, ALERT_COLUMNS, text};
use crate::sql::{alert_where, column, order_by};
use crate::{SqliteStore, auth, backend_err, inventory, rules};

/// The state of one fingerprint while a batch is applied.
#[derive(Clone)]
pub(crate) struct FpState {
    learned_alert: Option<Option<i64>>,
    muted_alert: Option<i64>,
    open: Option<OpenAlert>,
}

/// Most fingerprints remembered between batches before the cache starts over.
const MAX_FP_CACHE: usize = 262_144;

/// Fingerprint states remembered between ingest batches (see `SqliteStore::write_ingest`).
#[derive(Default)]
pub(crate) struct FpCache {
    data_version: Option<i64>,
    map: HashMap<String, FpState>,
}

impl FpCache {
    /// Drops everything.
    pub(crate) fn clear(&mut self) {
        self.map.clear();
        self.data_version = None;
    }

    /// Keeps the cache only if no other connection wrote since it was filled.
    pub(crate) fn validate(&mut self, data_version: i64) {
        if self.data_version != Some(data_version) {
            self.map.clear();
            self.data_version = Some(data_version);
        }
    }

    fn take(&mut self, fp: &str) -> Option<FpState> {
        self.map.remove(fp)
    }

    fn put(&mut self, fp: String, st: FpState) {
        if self.map.len() >= MAX_FP_CACHE {
            self.map.clear();
        }
        self.map.insert(fp, st);
    }
}

#[derive(Clone)]
struct OpenAlert {
    id: i64,
    status: Status,
    first: Timestamp,
    last: Timestamp,
    added: u64,
    dirty: bool,
}

pub(crate) fn ingest(
    store: &SqliteStore,
    detections: &[Detection],
    opts: &IngestOptions<'_>,
) -> Result<IngestReport> {
    store.write_ingest(|tx, cache| ingest_tx(tx, cache, detections, opts))
}

fn ingest_tx(
    tx: &Connection,
    cache: &mut FpCache,
    detections: &[Detection],
    opts: &IngestOptions<'_>,
) -> Result<IngestReport> {
    let mut report = IngestReport { received: detections.len() as u64, ..IngestReport::default() };
    // Alerts above this id are new in this batch; they enter the search index at the end.
    let max_before: i64 = tx
        .prepare_cached("SELECT coalesce(max(id), 0) FROM alerts")
        .map_err(backend_err)?
        .query_row([], |r| r.get(0))
        .map_err(backend_err)?;
    let active_rules: Vec<(i64, ExclusionSpec)> =
        rules::all_specs(tx)?.into_iter().filter(|(_, s)| s.active_at(opts.now)).collect();
    let mut rule_hits: BTreeMap<i64, u64> = BTreeMap::new();

    // Stage 1: validate, drop repeats and exclusions, group by fingerprint.
    let mut order: Vec<String> = Vec::new();
    let mut groups: HashMap<String, Vec<(usize, &AlertType)>> = HashMap::new();
    {
        let mut seen = tx
            .prepare_cached("INSERT OR IGNORE INTO ingest_keys (k, at) VALUES (?, ?)")
            .map_err(backend_err)?;
        for (i, d) in detections.iter().enumerate() {
            let ty = match opts.catalog.require(&d.alert_type) {
                Ok(t) => t,
                Err(m) => {
                    report.rejected.push((i, m));
                    continue;
                }
            };
            if d.count == 0 {
                report.rejected.push((i, "count must be at least 1".into()));
                continue;
            }
            let fp = d.fingerprint();
            if seen.execute(params![d.idempotency_key_for(&fp), d.time.0]).map_err(backend_err)?
                == 0
            {
                report.duplicates += 1;
                continue;
            }
            if let Some((rid, _)) =
                active_rules.iter().find(|(_, r)| r.matches(d, ty.engine, opts.now))
            {
                *rule_hits.entry(*rid).or_default() += 1;
                report.excluded += 1;
                continue;
            }
            match groups.get_mut(&fp) {
                Some(v) => v.push((i, ty)),
                None => {
                    order.push(fp.clone());
                    groups.insert(fp, vec![(i, ty)]);
                }
            }
        }
    }
    for (rid, n) in rule_hits {
        tx.execute(
            "UPDATE exclusion_rules SET hits = hits + ? WHERE id = ?",
            params![n as i64, rid],
        )
        .map_err(backend_err)?;
    }

    // Stage 2: apply the lifecycle per fingerprint, in time order.
    for fp in order {
        let Some(mut items) = groups.remove(&fp) else { continue };
        items.sort_by_key(|(i, _)| detections.get(*i).map(|d| d.time).unwrap_or_default());
        let mut st = match cache.take(&fp) {
            Some(s) => s,
            None => load_fp(tx, &fp)?,
        };
        for (i, ty) in items {
            let Some(d) = detections.get(i) else { continue };
            let tracked = if st.learned_alert.is_some() {
                Some(Tracked {
                    status: Status::Closed,
                    disposition: Disposition::Learned,
                    last_detection: d.time,
                })
            } else if st.muted_alert.is_some() {
                Some(Tracked {
                    status: Status::Closed,
                    disposition: Disposition::Muted,
                    last_detection: d.time,
                })
            } else {
                st.open.as_ref().map(|o| Tracked {
                    status: o.status,
                    disposition: Disposition::None,
                    last_detection: o.last,
                })
            };
            match lifecycle::on_detection(tracked.as_ref(), d.time, opts.auto_close_after) {
                DetectionDecision::Suppress(Disposition::Learned) => {
                    report.suppressed_learned += d.count;
                    if let Some(Some(id)) = st.learned_alert {
                        bump_suppressed(tx, id, d.count)?;
                    }
                }
                DetectionDecision::Suppress(_) => {
                    report.suppressed_muted += d.count;
                    if let Some(id) = st.muted_alert {
                        bump_suppressed(tx, id, d.count)?;
                    }
                }
                DetectionDecision::Update => {
                    if let Some(o) = st.open.as_mut() {
                        o.added += d.count;
                        o.first = o.first.min(d.time);
                        o.last = o.last.max(d.time);
                        o.dirty = true;
                        report.updated += 1;
                    }
                }
                DetectionDecision::CloseAndOpen | DetectionDecision::Open => {
                    if let Some(o) = st.open.take() {
                        flush_open(tx, &o, opts.now)?;
                        let changed = apply_one(
                            tx,
                            AlertId(o.id),
                            &Action::AutoClose,
                            &Actor::system(),
                            opts.now,
                        )?;
                        if changed == Ok(true) {
                            report.auto_closed += 1;
                        }
                    }
                    let id = insert_alert(tx, d, ty, &fp, opts.now)?;
                    report.opened += 1;
                    report.new_alert_ids.push(AlertId(id));
                    st.open = Some(OpenAlert {
                        id,
                        status: Status::New,
                        first: d.time,
                        last: d.time,
                        added: 0,
                        dirty: false,
                    });
                }
            }
        }
        if let Some(o) = st.open.as_mut() {
            flush_open(tx, o, opts.now)?;
            o.added = 0;
            o.dirty = false;
        }
        cache.put(fp, st);
    }
    if report.opened > 0 {
        index_new_alerts(tx, max_before)?;
    }
    Ok(report)
}

/// Adds the alerts above `after` to the free-text index, in one statement
/// (see migration 8: one FTS5 flush per batch, not one per alert).
fn index_new_alerts(tx: &Connection, after: i64) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO alerts_search (rowid, doc) SELECT id, \
         name || char(31) || alert_type || char(31) || src_ip || char(31) || src_mac || char(31) || src_name \
         || char(31) || dst_ip || char(31) || dst_mac || char(31) || dst_name || char(31) || protocol \
         || char(31) || sensor || char(31) || site || char(31) || zone \
         FROM alerts WHERE id > ?",
    )
    .map_err(backend_err)?
    .execute([after])
    .map_err(backend_err)?;
    Ok(())
}

fn load_fp(tx: &Connection, fp: &str) -> Result<FpState> {
    let learned_alert: Option<Option<i64>> = tx
        .prepare_cached("SELECT source_alert FROM baseline WHERE kind = ? AND key = ?")
        .map_err(backend_err)?
        .query_row(params![baseline::ALERT_KIND, fp], |r| r.get(0))
        .optional()
        .map_err(backend_err)?;
    let muted_alert: Option<i64> = tx
        .prepare_cached("SELECT id FROM alerts WHERE fingerprint = ? AND disposition = 2 ORDER BY id DESC LIMIT 1")
        .map_err(backend_err)?
        .query_row([fp], |r| r.get(0))
        .optional()
        .map_err(backend_err)?;
    let open = tx
        .prepare_cached(
            "SELECT id, status, first_detection, last_detection FROM alerts \
             WHERE fingerprint = ? AND status < 2 ORDER BY id DESC LIMIT 1",
        )
        .map_err(backend_err)?
        .query_row([fp], |r| {
            Ok(OpenAlert {
                id: r.get(0)?,
                status: Status::from_code(r.get(1)?).unwrap_or(Status::New),
                first: Timestamp(r.get(2)?),
                last: Timestamp(r.get(3)?),
                added: 0,
                dirty: false,
            })
        })
        .optional()
        .map_err(backend_err)?;
    Ok(FpState { learned_alert, muted_alert, open })
}

fn bump_suppressed(tx: &Connection, id: i64, n: u64) -> Result<()> {
    tx.prepare_cached("UPDATE alerts SET suppressed_count = suppressed_count + ? WHERE id = ?")
        .map_err(backend_err)?
        .execute(params![n as i64, id])
        .map_err(backend_err)?;
    Ok(())
}

fn flush_open(tx: &Connection, o: &OpenAlert, now: Timestamp) -> Result<()> {
    if !o.dirty {
        return Ok(());
    }
    tx.prepare_cached(
        "UPDATE alerts SET occurrence_count = occurrence_count + ?, first_detection = min(first_detection, ?), \
         last_detection = max(last_detection, ?), last_activity = max(last_activity, ?4), \
         last_touched = max(coalesce(last_touched, last_activity), ?4) WHERE id = ?",
    )
    .map_err(backend_err)?
    .execute(params![o.added as i64, o.first.0, o.last.0, now.0, o.id])
    .map_err(backend_err)?;
    Ok(())
}

/// The inventory device of an alert endpoint without a device id: by IP
/// (or by MAC for devices known only by MAC), preferring the alert's zone,
/// then the most recently seen.
fn endpoint_device(
    tx: &Connection,
    id: Option<i64>,
    ip: &Option<String>,
    mac: &Option<String>,
    zone: &Option<String>,
) -> Result<Option<i64>> {
    if id.is_some() {
        return Ok(id);
    }
    let ip = text(ip);
    let mac = mac.as_deref().unwrap_or("").to_ascii_lowercase();
    if ip.is_empty() && mac.is_empty() {
        return Ok(None);
    }
    tx.prepare_cached(
        "SELECT id FROM devices WHERE (?1 <> '' AND ip = ?1) OR (?1 = '' AND ?2 <> '' AND mac = ?2) \
         ORDER BY (zone = ?3) DESC, last_seen DESC LIMIT 1",
    )
    .map_err(backend_err)?
    .query_row(params![ip, mac, text(zone)], |r| r.get(0))
    .optional()
    .map_err(backend_err)
}

fn insert_alert(
    tx: &Connection,
    d: &Detection,
    ty: &AlertType,
    fp: &str,
    now: Timestamp,
) -> Result<i64> {
    let src_device = endpoint_device(tx, d.source.device_id, &d.source.ip, &d.source.mac, &d.zone)?;
    let dst_device = endpoint_device(
        tx,
        d.destination.device_id,
        &d.destination.ip,
        &d.destination.mac,
        &d.zone,
    )?;
    let severity = d.severity.unwrap_or(ty.severity);
    let name = d.title.clone().unwrap_or_else(|| ty.name.clone());
    let mut details = d.key.clone();
    details.extend(d.details.iter().map(|(k, v)| (k.clone(), v.clone())));
    let tactics: Vec<&str> = ty.tactics.iter().map(|t| t.as_str()).collect();
    let techniques: Vec<&str> = ty.techniques.iter().map(|t| t.id()).collect();
    let description = ty.describe(d);
    tx.prepare_cached(
        "INSERT INTO alerts (fingerprint, alert_type, name, engine, category, severity, status, disposition, \
         first_detection, last_detection, last_activity, occurrence_count, \
         src_device_id, src_ip, src_mac, src_name, dst_device_id, dst_ip, dst_mac, dst_name, \
         protocol, sensor, site, zone, tactics, techniques, description, remediation, learnable, mutable, details, \
         last_touched) \
         VALUES (?, ?, ?, ?, ?, ?, 0, 0, ?, ?, ?9, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?9)",
    )
    .map_err(backend_err)?
    .execute(params![
        fp,
        ty.id,
        name,
        ty.engine.as_str(),
        ty.category.as_str(),
        severity.rank(),
        d.time.0,
        d.time.0,
        now.0,
        d.count as i64,
        src_device,
        text(&d.source.ip),
        d.source.mac.as_deref().unwrap_or("").to_ascii_lowercase(),
        text(&d.source.name),
        dst_device,
        text(&d.destination.ip),
        d.destination.mac.as_deref().unwrap_or("").to_ascii_lowercase(),
        text(&d.destination.name),
        text(&d.protocol),
        text(&d.sensor),
        text(&d.site),
        text(&d.zone),
        tactics.join(";"),
        techniques.join(";"),
        description,
        serde_json::to_string(&ty.remediation_for(d)).unwrap_or_else(|_| "[]".into()),
        ty.learnable,
        ty.mutable,
        rows::map_json(&details),
    ])
    .map_err(backend_err)?;
    let id = tx.last_insert_rowid();
    let mut ev = NewEvent::new(
        d.time,
        "ALERT_REPORTED",
        EventSeverity::Alert,
        format!("Alert Detected: {name}"),
    );
    ev.description = format!("{} ({severity})", ty.describe(d));
    ev.alert_id = Some(AlertId(id));
    ev.device_id = src_device.or(dst_device);
    ev.src_ip = d.source.ip.clone();
    ev.dst_ip = d.destination.ip.clone();
    ev.protocol = d.protocol.clone();
    ev.sensor = d.sensor.clone();
    ev.site = d.site.clone();
    ev.zone = d.zone.clone();
    inventory::insert_event(tx, &ev)?;
    Ok(id)
}

pub(crate) fn get(c: &Connection, id: AlertId) -> Result<Alert> {
    c.prepare_cached(&format!("SELECT {ALERT_COLUMNS} FROM alerts WHERE id = ?"))
        .map_err(backend_err)?
        .query_row([id.0], rows::alert)
        .optional()
        .map_err(backend_err)?
        .ok_or_else(|| StoreError::not_found("alert", id))
}

pub(crate) fn details(c: &Connection, id: AlertId) -> Result<AlertDetails> {
    let alert = get(c, id)?;
    let mut st = c
        .prepare_cached(
            "SELECT id, alert_id, at, author, text FROM comments WHERE alert_id = ? ORDER BY id",
        )
        .map_err(backend_err)?;
    let comments = st
        .query_map([id.0], |r| {
            Ok(Comment {
                id: r.get(0)?,
                alert_id: AlertId(r.get(1)?),
                at: Timestamp(r.get(2)?),
                author: r.get(3)?,
                text: r.get(4)?,
            })
        })
        .map_err(backend_err)?
        .collect::<rusqlite::Result<Vec<_>>>()
        .map_err(backend_err)?;
    let history = auth::audit_for(c, "alert", &id.to_string())?;
    Ok(AlertDetails { alert, comments, history })
}

fn query_params(
    w: &crate::sql::Where,
) -> rusqlite::ParamsFromIter<std::slice::Iter<'_, rusqlite::types::Value>> {
    rusqlite::params_from_iter(w.params.iter())
}

pub(crate) fn list(c: &Connection, q: &AlertQuery) -> Result<AlertPage> {
    let w = alert_where(q, true)?;
    let sql =
        format!("SELECT {ALERT_COLUMNS} FROM alerts{}{} LIMIT {}", w.sql, order_by(q), q.limit + 1);
    let mut st = c.prepare_cached(&sql).map_err(backend_err)?;
    let mut items = st
        .query_map(query_params(&w), rows::alert)
        .map_err(backend_err)?
        .collect::<rusqlite::Result<Vec<_>>>()
        .map_err(backend_err)?;
    let next = if items.len() > q.limit {
        items.truncate(q.limit);
        items.last().map(|a| Cursor {
            value: sort_value(a, q.sort.field),
            tie: crate::sql::uses_tie(q).then_some(a.last_detection),
            id: a.id.0,
        })
    } else {
        None
    };
    Ok(AlertPage { items, next })
}

/// The value of the sort column for a row, as the cursor stores it.
fn sort_value(a: &Alert, f: AlertField) -> Value {
    match f.kind() {
        FieldKind::Severity => Value::Int(a.severity.rank()),
        FieldKind::Status => Value::Int(a.status.code()),
        FieldKind::Disposition => Value::Int(a.disposition.code()),
        FieldKind::Time => Value::Time(match f {
            AlertField::FirstDetection => a.first_detection,
            AlertField::LastActivity => a.last_activity,
            _ => a.last_detection,
        }),
        FieldKind::Integer => Value::Int(match f {
            AlertField::OccurrenceCount => a.occurrence_count as i64,
            _ => a.id.0,
        }),
        FieldKind::Bool => {
            Value::Bool(if f == AlertField::Mutable { a.mutable } else { a.learnable })
        }
        _ => Value::Text(a.field_text(f)),
    }
}

pub(crate) fn count(c: &Connection, q: &AlertQuery) -> Result<u64> {
    let w = alert_where(q, false)?;
    let n: i64 = c
        .prepare_cached(&format!("SELECT count(*) FROM alerts{}", w.sql))
        .map_err(backend_err)?
        .query_row(query_params(&w), |r| r.get(0))
        .map_err(backend_err)?;
    Ok(n.max(0) as u64)
}

pub(crate) fn count_up_to(c: &Connection, q: &AlertQuery, cap: u64) -> Result<(u64, bool)> {
    let w = alert_where(q, false)?;
    let limit = cap.saturating_add(1).min(i64::MAX as u64);
    let n: i64 = c
        .prepare_cached(&format!(
            "SELECT count(*) FROM (SELECT 1 FROM alerts{} LIMIT {limit})",
            w.sql
        ))
        .map_err(backend_err)?
        .query_row(query_params(&w), |r| r.get(0))
        .map_err(backend_err)?;
    let n = n.max(0) as u64;
    Ok((n.min(cap), n > cap))
}

fn display_value(f: AlertField, v: rusqlite::types::Value) -> String {
    use rusqlite::types::Value as V;
    match (f.kind(), v) {
        (FieldKind::Severity, V::Integer(n)) => {
            Severity::from_rank(n).map(|s| s.to_string()).unwrap_or_default()
        }
        (FieldKind::Status, V::Integer(n)) => {
            Status::from_code(n).map(|s| s.to_string()).unwrap_or_default()
        }
        (FieldKind::Disposition, V::Integer(n)) => {
            Disposition::from_code(n).map(|s| s.to_string()).unwrap_or_default()
        }
        (FieldKind::Bool, V::Integer(n)) => (n != 0).to_string(),
        (_, V::Integer(n)) => n.to_string(),
        (_, V::Text(s)) => s,
        (_, V::Real(r)) => r.to_string(),
        _ => String::new(),
    }
}

pub(crate) fn group(c: &Connection, q: &AlertQuery, by: AlertField) -> Result<Vec<GroupCount>> {
    if !by.groupable() {
        return Err(StoreError::invalid("group_by", format!("cannot group by {}", by.key())));
    }
    let w = alert_where(q, false)?;
    let col = column(by);
    let sql = format!("SELECT {col}, count(*) FROM alerts{} GROUP BY 1", w.sql);
    let mut st = c.prepare_cached(&sql).map_err(backend_err)?;
    let raw = st
        .query_map(query_params(&w), |r| {
            Ok((r.get::<_, rusqlite::types::Value>(0)?, r.get::<_, i64>(1)?))
        })
        .map_err(backend_err)?
        .collect::<rusqlite::Result<Vec<_>>>()
        .map_err(backend_err)?;
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    for (v, n) in raw {
        let text = display_value(by, v);
        if by.kind() == FieldKind::List {
            for part in text.split(';').filter(|s| !s.is_empty()) {
                *counts.entry(part.to_string()).or_default() += n as u64;
            }
        } else {
            *counts.entry(text).or_default() += n as u64;
        }
    }
    let mut out: Vec<GroupCount> =
        counts.into_iter().map(|(value, count)| GroupCount { value, count }).collect();
    out.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value)));
    Ok(out)
}

pub(crate) fn for_each(
    c: &Connection,
    q: &AlertQuery,
    f: &mut dyn FnMut(&Alert) -> Result<()>,
) -> Result<u64> {
    let w = alert_where(q, false)?;
    let sql = format!("SELECT {ALERT_COLUMNS} FROM alerts{}{}", w.sql, order_by(q));
    let mut st = c.prepare(&sql).map_err(backend_err)?;
    let mut rows = st.query(query_params(&w)).map_err(backend_err)?;
    let mut n = 0u64;
    while let Some(r) = rows.next().map_err(backend_err)? {
        let a = rows::alert(r).map_err(backend_err)?;
        f(&a)?;
        n += 1;
    }
    Ok(n)
}

pub(crate) fn apply(
    store: &SqliteStore,
    ids: &[AlertId],
    action: &Action,
    actor: &Actor,
    now: Timestamp,
) -> Result<Vec<ActionOutcome>> {
    store.write(|tx| {
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            out.push(ActionOutcome { id: *id, result: apply_one(tx, *id, action, actor, now)? });
        }
        Ok(out)
    })
}

/// Applies one action inside a transaction. The outer `Result` is a storage
/// failure (aborts the batch); the inner one is this alert's outcome.
fn apply_one(
    tx: &Connection,
    id: AlertId,
    action: &Action,
    actor: &Actor,
    now: Timestamp,
) -> Result<std::result::Result<bool, String>> {
    let row = tx
        .prepare_cached(
            "SELECT status, disposition, severity, learnable, mutable, fingerprint, alert_type, name, src_ip, dst_ip, \
             protocol, sensor, site, zone, src_device_id FROM alerts WHERE id = ?",
        )
        .map_err(backend_err)?
        .query_row([id.0], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, bool>(3)?,
                r.get::<_, bool>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, String>(6)?,
                r.get::<_, String>(7)?,
                (r.get::<_, String>(8)?, r.get::<_, String>(9)?, r.get::<_, String>(10)?),
                (r.get::<_, String>(11)?, r.get::<_, String>(12)?, r.get::<_, String>(13)?),
                r.get::<_, Option<i64>>(14)?,
            ))
        })
        .optional()
        .map_err(backend_err)?;
    let Some((
        status,
        disp,
        sev,
        learnable,
        mutable,
        fp,
        alert_type,
        name,
        (src, dst, proto),
        (sensor, site, zone),
        dev,
    )) = row
    else {
        return Ok(Err(format!("alert {id} not found")));
    };
    let state = LifecycleState {
        status: Status::from_code(status).unwrap_or(Status::New),
        disposition: Disposition::from_code(disp).unwrap_or(Disposition::None),
        severity: Severity::from_rank(sev).unwrap_or(Severity::Major),
        learnable,
        mutable,
    };
    let t = match lifecycle::apply(&state, action) {
        Ok(t) => t,
        Err(e) => return Ok(Err(format!("alert {id}: {e}"))),
    };
    if !t.changed {
        return Ok(Ok(false));
    }
    if state.status == Status::Closed && t.after.status.is_open() {
        let newer: Option<i64> = tx
            .prepare_cached(
                "SELECT id FROM alerts WHERE fingerprint = ? AND id > ? ORDER BY id DESC LIMIT 1",
            )
            .map_err(backend_err)?
            .query_row(params![fp, id.0], |r| r.get(0))
            .optional()
            .map_err(backend_err)?;
        if let Some(n) = newer {
            return Ok(Err(format!(
                "alert {id}: a newer alert ({n}) exists for the same traffic; triage that one instead of reopening this one"
            )));
        }
    }
    // A person's action keeps the alert from retention; otwatch's own (auto-close) does not.
    let touched = actor.kind != ActorKind::System;
    tx.prepare_cached(
        "UPDATE alerts SET status = ?, disposition = ?, severity = ?, last_activity = ?4, \
         last_touched = CASE WHEN ?5 THEN ?4 ELSE last_touched END WHERE id = ?6",
    )
    .map_err(backend_err)?
    .execute(params![
        t.after.status.code(),
        t.after.disposition.code(),
        t.after.severity.rank(),
        now.0,
        touched,
        id.0
    ])
    .map_err(backend_err)?;
    for e in &t.effects {
        match e {
            Effect::AddToBaseline => {
                let mut detail = BTreeMap::new();
                detail.insert("type".to_string(), alert_type.clone());
                detail.insert("name".to_string(), name.clone());
                for (k, v) in [("source", &src), ("destination", &dst), ("protocol", &proto)] {
                    if !v.is_empty() {
                        detail.insert(k.to_string(), v.clone());
                    }
                }
                tx.prepare_cached(
                    "INSERT OR REPLACE INTO baseline (kind, key, detail, source_alert, created_at, created_by) \
                     VALUES (?, ?, ?, ?, ?, ?)",
                )
                .map_err(backend_err)?
                .execute(params![baseline::ALERT_KIND, fp, rows::map_json(&detail), id.0, now.0, actor.name])
                .map_err(backend_err)?;
            }
            Effect::RemoveFromBaseline => {
                tx.prepare_cached("DELETE FROM baseline WHERE kind = ? AND key = ?")
                    .map_err(backend_err)?
                    .execute(params![baseline::ALERT_KIND, fp])
                    .map_err(backend_err)?;
            }
            Effect::AddComment(text) => {
                tx.prepare_cached(
                    "INSERT INTO comments (alert_id, at, author, text) VALUES (?, ?, ?, ?)",
                )
                .map_err(backend_err)?
                .execute(params![id.0, now.0, actor.name, text])
                .map_err(backend_err)?;
            }
            Effect::Timeline(kind) => {
                let mut ev = NewEvent::new(
                    now,
                    kind,
                    EventSeverity::Notice,
                    format!("{}: {name}", otwatch_model::event::event_title(kind)),
                );
                ev.description = t.summary.clone();
                ev.alert_id = Some(id);
                ev.owner = Some(actor.name.clone());
                ev.device_id = dev;
                ev.src_ip = rows::opt(src.clone());
                ev.dst_ip = rows::opt(dst.clone());
                ev.protocol = rows::opt(proto.clone());
                ev.sensor = rows::opt(sensor.clone());
                ev.site = rows::opt(site.clone());
                ev.zone = rows::opt(zone.clone());
                inventory::insert_event(tx, &ev)?;
            }
        }
    }
    let summary = match action {
        Action::Comment(text) => format!("comment: {}", text.chars().take(200).collect::<String>()),
        _ => t.summary,
    };
    auth::audit(tx, actor, action.verb(), "alert", &id.to_string(), &summary, now)?;
    Ok(Ok(true))
}

pub(crate) fn auto_close(
    store: &SqliteStore,
    now: Timestamp,
    quiet: i64,
    actor: &Actor,
) -> Result<u64> {
    let cutoff = now.0.saturating_sub(quiet);
    let ids: Vec<AlertId> = store.read(|c| {
        let mut st = c
            .prepare_cached(
                "SELECT id FROM alerts WHERE status < 2 AND last_detection < ? ORDER BY id",
            )
            .map_err(backend_err)?;
        st.query_map([cutoff], |r| Ok(AlertId(r.get(0)?)))
            .map_err(backend_err)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(backend_err)
    })?;
    let mut closed = 0;
    for chunk in ids.chunks(1000) {
        // Re-check inside the write: a detection may have arrived meanwhile.
        let outcomes = store.write(|tx| {
            let mut n = 0u64;
            for id in chunk {
                let still_due: bool = tx
                    .prepare_cached(
                        "SELECT status < 2 AND last_detection < ? FROM alerts WHERE id = ?",
                    )
                    .map_err(backend_err)?
                    .query_row(params![cutoff, id.0], |r| r.get(0))
                    .optional()
                    .map_err(backend_err)?
                    .unwrap_or(false);
                if still_due && apply_one(tx, *id, &Action::AutoClose, actor, now)? == Ok(true) {
                    n += 1;
                }
            }
            Ok(n)
        })?;
        closed += outcomes;
    }
    Ok(closed)
}

pub(crate) fn aggregate(
    c: &Connection,
    q: &AlertQuery,
    period: i64,
) -> Result<Vec<AggregatedAlert>> {
    if period <= 0 {
        return Err(StoreError::invalid("period", "the aggregation period must be positive"));
    }
    let w = alert_where(q, false)?;
    let sql = format!(
        "SELECT alert_type, name, engine, severity, first_detection, last_detection, occurrence_count, \
         (CASE WHEN src_name <> '' THEN src_name WHEN src_ip <> '' THEN src_ip ELSE src_mac END), id \
         FROM alerts{} ORDER BY alert_type, first_detection, id",
        w.sql
    );
    let mut st = c.prepare(&sql).map_err(backend_err)?;
    let mut rows = st.query(query_params(&w)).map_err(backend_err)?;
    let mut out: Vec<AggregatedAlert> = Vec::new();
    while let Some(r) = rows.next().map_err(backend_err)? {
        let alert_type: String = r.get(0).map_err(backend_err)?;
        let first = Timestamp(r.get(4).map_err(backend_err)?);
        let start = Timestamp(first.0.div_euclid(period) * period);
        let sev = Severity::from_rank(r.get(3).map_err(backend_err)?).unwrap_or(Severity::Major);
        let last = Timestamp(r.get(5).map_err(backend_err)?);
        let occ: i64 = r.get(6).map_err(backend_err)?;
        let device: String = r.get(7).map_err(backend_err)?;
        let id: i64 = r.get(8).map_err(backend_err)?;
        let same = out
            .last()
            .map(|a| a.alert_type == alert_type && a.period_start == start)
            .unwrap_or(false);
        if !same {
            let engine_text: String = r.get(2).map_err(backend_err)?;
            out.push(AggregatedAlert {
                alert_type,
                name: r.get(1).map_err(backend_err)?,
                engine: otwatch_model::Engine::parse(&engine_text)
                    .map_err(|e| StoreError::Backend(e.to_string()))?,
                severity: sev,
                period_start: start,
                alerts: 0,
                occurrences: 0,
                first_detection: first,
                last_detection: last,
                devices: vec![],
                alert_ids: vec![],
            });
        }
        if let Some(a) = out.last_mut() {
            a.alerts += 1;
            a.occurrences += occ.max(0) as u64;
            a.severity = a.severity.max(sev);
            a.first_detection = a.first_detection.min(first);
            a.last_detection = a.last_detection.max(last);
            if !device.is_empty() && !a.devices.contains(&device) {
                a.devices.push(device);
            }
            a.alert_ids.push(id);
        }
    }
    for a in &mut out {
        a.devices.sort();
    }
    out.sort_by(|a, b| {
        b.last_detection.cmp(&a.last_detection).then_with(|| a.alert_type.cmp(&b.alert_type))
    });
    Ok(out)
}

pub(crate) fn put_pcap(tx: &Connection, id: AlertId, pcap: &[u8]) -> Result<()> {
    get(tx, id)?;
    tx.execute(
        "INSERT INTO alert_pcaps (alert_id, bytes, pcap) VALUES (?, ?, ?) \
         ON CONFLICT (alert_id) DO UPDATE SET bytes = excluded.bytes, pcap = excluded.pcap",
        params![id.0, pcap.len() as i64, pcap],
    )
    .map_err(backend_err)?;
    Ok(())
}

pub(crate) fn pcap(c: &Connection, id: AlertId) -> Result<Option<Vec<u8>>> {
    c.prepare_cached("SELECT pcap FROM alert_pcaps WHERE alert_id = ?")
        .map_err(backend_err)?
        .query_row([id.0], |r| r.get(0))
        .optional()
        .map_err(backend_err)
}
