//! Exclusion rules (audited) and baseline entries.

use rusqlite::{Connection, OptionalExtension, params};

use otwatch_model::{
    Actor, AlertId, BaselineEntry, Catalog, EventSeverity, ExclusionRule, ExclusionSpec, NewEvent,
    Timestamp,
};
use otwatch_store::{Result, StoreError};

use crate::rows::{json_map, map_json};
use crate::{SqliteStore, auth, backend_err, inventory};

const RULE_COLUMNS: &str = "id, spec, created_by, created_at, updated_by, updated_at, hits";

fn rule(r: &rusqlite::Row<'_>) -> rusqlite::Result<ExclusionRule> {
    let spec: String = r.get(1)?;
    let spec: ExclusionSpec = serde_json::from_str(&spec).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(1, rusqlite::types::Type::Text, Box::new(e))
    })?;
    Ok(ExclusionRule {
        id: r.get(0)?,
        spec,
        created_by: r.get(2)?,
        created_at: Timestamp(r.get(3)?),
        updated_by: r.get(4)?,
        updated_at: Timestamp(r.get(5)?),
        hits: r.get::<_, i64>(6)?.max(0) as u64,
    })
}

fn validate(spec: &ExclusionSpec, catalog: &Catalog) -> Result<()> {
    spec.validate(catalog).map_err(|errs| {
        let field = errs.first().map(|(f, _)| f.clone()).unwrap_or_default();
        let message = errs.iter().map(|(f, m)| format!("{f}: {m}")).collect::<Vec<_>>().join("; ");
        StoreError::Invalid { field, message }
    })
}

fn summary(spec: &ExclusionSpec) -> String {
    let mut parts = vec![format!("{} {:?}", spec.kind, spec.name)];
    if !spec.alert_types.is_empty() {
        parts.push(format!("types {}", spec.alert_types.join(",")));
    }
    if !spec.engines.is_empty() {
        parts.push(format!(
            "engines {}",
            spec.engines.iter().map(|e| e.api_name()).collect::<Vec<_>>().join(",")
        ));
    }
    if !spec.sensors.is_empty() {
        parts.push(format!("sensors {}", spec.sensors.join(",")));
    }
    if !spec.addresses.is_empty() {
        parts.push(format!(
            "addresses {}",
            spec.addresses
                .iter()
                .map(|a| format!("{}:{}", a.role, a.address))
                .collect::<Vec<_>>()
                .join(",")
        ));
    }
    if !spec.subnets.is_empty() {
        parts.push(format!(
            "subnets {}",
            spec.subnets.iter().map(|s| s.to_string()).collect::<Vec<_>>().join(",")
        ));
    }
    if let Some(e) = spec.expires_at {
        parts.push(format!("expires {e}"));
    }
    if !spec.reason.is_empty() {
        parts.push(format!("reason: {}", spec.reason));
    }
    parts.join("; ")
}

fn timeline(
    tx: &Connection,
    kind: &str,
    spec: &ExclusionSpec,
    actor: &Actor,
    now: Timestamp,
) -> Result<()> {
    let mut ev = NewEvent::new(
        now,
        kind,
        EventSeverity::Info,
        format!("{}: {}", otwatch_model::event::event_title(kind), spec.name),
    );
    ev.description = summary(spec);
    ev.owner = Some(actor.name.clone());
    inventory::insert_event(tx, &ev)?;
    Ok(())
}

fn conflict(e: rusqlite::Error, name: &str) -> StoreError {
    match &e {
        rusqlite::Error::SqliteFailure(f, _)
            if f.code == rusqlite::ErrorCode::ConstraintViolation =>
        {
            StoreError::Conflict(format!("name: a rule named {name:?} already exists"))
        }
        _ => backend_err(e),
    }
}

pub(crate) fn create(
    store: &SqliteStore,
    spec: &ExclusionSpec,
    catalog: &Catalog,
    actor: &Actor,
    now: Timestamp,
) -> Result<ExclusionRule> {
    validate(spec, catalog)?;
    store.write(|tx| {
        let json = serde_json::to_string(spec).map_err(|e| StoreError::Backend(e.to_string()))?;
        tx.execute(
            "INSERT INTO exclusion_rules (name, spec, enabled, created_by, created_at, updated_by, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?)",
            params![spec.name, json, spec.enabled, actor.name, now.0, actor.name, now.0],
        )
        .map_err(|e| conflict(e, &spec.name))?;
        let id = tx.last_insert_rowid();
        auth::audit(tx, actor, "exclusion_create", "exclusion", &id.to_string(), &summary(spec), now)?;
        timeline(tx, "EXCLUSION_RULE_CREATED", spec, actor, now)?;
        get(tx, id)
    })
}

pub(crate) fn update(
    store: &SqliteStore,
    id: i64,
    spec: &ExclusionSpec,
    catalog: &Catalog,
    actor: &Actor,
    now: Timestamp,
) -> Result<ExclusionRule> {
    validate(spec, catalog)?;
    store.write(|tx| {
        let before = get(tx, id)?;
        let json = serde_json::to_string(spec).map_err(|e| StoreError::Backend(e.to_string()))?;
        tx.execute(
            "UPDATE exclusion_rules SET name = ?, spec = ?, enabled = ?, updated_by = ?, updated_at = ? WHERE id = ?",
            params![spec.name, json, spec.enabled, actor.name, now.0, id],
        )
        .map_err(|e| conflict(e, &spec.name))?;
        let msg = format!("{} (was: {})", summary(spec), summary(&before.spec));
        auth::audit(tx, actor, "exclusion_update", "exclusion", &id.to_string(), &msg, now)?;
        timeline(tx, "EXCLUSION_RULE_UPDATED", spec, actor, now)?;
        get(tx, id)
    })
}

pub(crate) fn delete(store: &SqliteStore, id: i64, actor: &Actor, now: Timestamp) -> Result<()> {
    store.write(|tx| {
        let before = get(tx, id)?;
        tx.execute("DELETE FROM exclusion_rules WHERE id = ?", [id]).map_err(backend_err)?;
        auth::audit(
            tx,
            actor,
            "exclusion_delete",
            "exclusion",
            &id.to_string(),
            &summary(&before.spec),
            now,
        )?;
        timeline(tx, "EXCLUSION_RULE_REMOVED", &before.spec, actor, now)?;
        Ok(())
    })
}

pub(crate) fn get(c: &Connection, id: i64) -> Result<ExclusionRule> {
    c.prepare_cached(&format!("SELECT {RULE_COLUMNS} FROM exclusion_rules WHERE id = ?"))
        .map_err(backend_err)?
        .query_row([id], rule)
        .optional()
        .map_err(backend_err)?
        .ok_or_else(|| StoreError::not_found("exclusion rule", id))
}

pub(crate) fn list(c: &Connection) -> Result<Vec<ExclusionRule>> {
    let mut st = c
        .prepare_cached(&format!("SELECT {RULE_COLUMNS} FROM exclusion_rules ORDER BY id DESC"))
        .map_err(backend_err)?;
    st.query_map([], rule)
        .map_err(backend_err)?
        .collect::<rusqlite::Result<Vec<_>>>()
        .map_err(backend_err)
}

/// Every enabled rule's conditions, for ingest.
pub(crate) fn all_specs(c: &Connection) -> Result<Vec<(i64, ExclusionSpec)>> {
    Ok(list(c)?.into_iter().filter(|r| r.spec.enabled).map(|r| (r.id, r.spec)).collect())
}

pub(crate) fn baseline(c: &Connection, kind: Option<&str>) -> Result<Vec<BaselineEntry>> {
    let mut st = c
        .prepare_cached(
            "SELECT kind, key, detail, source_alert, created_at, created_by FROM baseline \
             WHERE (?1 IS NULL OR kind = ?1) ORDER BY kind, key",
        )
        .map_err(backend_err)?;
    st.query_map([kind], |r| {
        Ok(BaselineEntry {
            kind: r.get(0)?,
            key: r.get(1)?,
            detail: json_map(&r.get::<_, String>(2)?),
            source_alert: r.get::<_, Option<i64>>(3)?.map(AlertId),
            created_at: Timestamp(r.get(4)?),
            created_by: r.get(5)?,
        })
    })
    .map_err(backend_err)?
    .collect::<rusqlite::Result<Vec<_>>>()
    .map_err(backend_err)
}

pub(crate) fn add_baseline(tx: &Connection, entries: &[BaselineEntry]) -> Result<u64> {
    let mut st = tx
        .prepare_cached(
            "INSERT OR IGNORE INTO baseline (kind, key, detail, source_alert, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?)",
        )
        .map_err(backend_err)?;
    let mut n = 0;
    for e in entries {
        if e.kind.is_empty() || e.key.is_empty() {
            return Err(StoreError::invalid("kind", "baseline entries need a kind and a key"));
        }
        n += st
            .execute(params![
                e.kind,
                e.key,
                map_json(&e.detail),
                e.source_alert.map(|a| a.0),
                e.created_at.0,
                e.created_by
            ])
            .map_err(backend_err)? as u64;
    }
    Ok(n)
}

pub(crate) fn remove_baseline(tx: &Connection, kind: &str, key: &str) -> Result<bool> {
    Ok(tx
        .execute("DELETE FROM baseline WHERE kind = ? AND key = ?", params![kind, key])
        .map_err(backend_err)?
        > 0)
}
