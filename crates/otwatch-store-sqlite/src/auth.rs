//! Users, API tokens and the audit log.

use rusqlite::types::Value as Sql;
use rusqlite::{Connection, OptionalExtension, params, params_from_iter};

use otwatch_model::{Actor, ActorKind, ApiToken, AuditRecord, Role, Timestamp, User};
use otwatch_store::{AuditQuery, Result, StoreError, query::page_size};

use crate::backend_err;

/// Writes one audit record.
pub(crate) fn audit(
    tx: &Connection,
    actor: &Actor,
    action: &str,
    object_type: &str,
    object_id: &str,
    summary: &str,
    now: Timestamp,
) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO audit_log (at, actor, actor_kind, address, action, object_type, object_id, summary) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .map_err(backend_err)?
    .execute(params![
        now.0,
        actor.name,
        actor.kind.as_str(),
        actor.address.as_deref().unwrap_or(""),
        action,
        object_type,
        object_id,
        summary
    ])
    .map_err(backend_err)?;
    Ok(())
}

fn audit_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<AuditRecord> {
    let address: String = r.get(4)?;
    Ok(AuditRecord {
        id: r.get(0)?,
        at: Timestamp(r.get(1)?),
        actor: Actor {
            name: r.get(2)?,
            kind: ActorKind::parse(&r.get::<_, String>(3)?).unwrap_or(ActorKind::System),
            address: if address.is_empty() { None } else { Some(address) },
        },
        action: r.get(5)?,
        object_type: r.get(6)?,
        object_id: r.get(7)?,
        summary: r.get(8)?,
    })
}

const AUDIT_COLUMNS: &str =
    "id, at, actor, actor_kind, address, action, object_type, object_id, summary";

/// The history of one object, oldest first.
pub(crate) fn audit_for(
    c: &Connection,
    object_type: &str,
    object_id: &str,
) -> Result<Vec<AuditRecord>> {
    let mut st = c
        .prepare_cached(&format!("SELECT {AUDIT_COLUMNS} FROM audit_log WHERE object_type = ? AND object_id = ? ORDER BY id"))
        .map_err(backend_err)?;
    st.query_map(params![object_type, object_id], audit_row)
        .map_err(backend_err)?
        .collect::<rusqlite::Result<Vec<_>>>()
        .map_err(backend_err)
}

pub(crate) fn list_audit(c: &Connection, q: &AuditQuery) -> Result<Vec<AuditRecord>> {
    let mut clauses = Vec::new();
    let mut ps: Vec<Sql> = Vec::new();
    for (col, v) in
        [("object_type", &q.object_type), ("object_id", &q.object_id), ("actor", &q.actor)]
    {
        if let Some(v) = v {
            clauses.push(format!("{col} = ?"));
            ps.push(Sql::Text(v.clone()));
        }
    }
    if let Some(f) = q.from {
        clauses.push("at >= ?".to_string());
        ps.push(Sql::Integer(f.0));
    }
    if let Some(t) = q.to {
        clauses.push("at < ?".to_string());
        ps.push(Sql::Integer(t.0));
    }
    let w = if clauses.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", clauses.join(" AND "))
    };
    let sql = format!(
        "SELECT {AUDIT_COLUMNS} FROM audit_log{w} ORDER BY id DESC LIMIT {}",
        page_size(q.limit)
    );
    let mut st = c.prepare_cached(&sql).map_err(backend_err)?;
    st.query_map(params_from_iter(ps.iter()), audit_row)
        .map_err(backend_err)?
        .collect::<rusqlite::Result<Vec<_>>>()
        .map_err(backend_err)
}

const USER_COLUMNS: &str = "id, name, role, password_hash, created_at, disabled, last_login";

fn user_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<User> {
    Ok(User {
        id: r.get(0)?,
        name: r.get(1)?,
        role: Role::parse(&r.get::<_, String>(2)?).unwrap_or(Role::Viewer),
        password_hash: r.get(3)?,
        created_at: Timestamp(r.get(4)?),
        disabled: r.get(5)?,
        last_login: r.get::<_, Option<i64>>(6)?.map(Timestamp),
    })
}

fn check_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'));
    if ok {
        Ok(())
    } else {
        Err(StoreError::invalid(
            "name",
            "user names are 1–64 characters of letters, digits, . _ - @",
        ))
    }
}

pub(crate) fn create_user(
    tx: &Connection,
    name: &str,
    role: Role,
    hash: &str,
    actor: &Actor,
    now: Timestamp,
) -> Result<User> {
    check_name(name)?;
    if hash.is_empty() {
        return Err(StoreError::invalid("password", "a password hash is required"));
    }
    tx.execute(
        "INSERT INTO users (name, role, password_hash, created_at) VALUES (?, ?, ?, ?)",
        params![name, role.as_str(), hash, now.0],
    )
    .map_err(|e| match &e {
        rusqlite::Error::SqliteFailure(f, _)
            if f.code == rusqlite::ErrorCode::ConstraintViolation =>
        {
            StoreError::Conflict(format!("name: a user named {name:?} already exists"))
        }
        _ => backend_err(e),
    })?;
    audit(tx, actor, "user_add", "user", name, &format!("role {role}"), now)?;
    user_by_name(tx, name)?.ok_or_else(|| StoreError::not_found("user", name))
}

pub(crate) fn user_by_name(c: &Connection, name: &str) -> Result<Option<User>> {
    c.prepare_cached(&format!("SELECT {USER_COLUMNS} FROM users WHERE name = ?"))
        .map_err(backend_err)?
        .query_row([name], user_row)
        .optional()
        .map_err(backend_err)
}

pub(crate) fn list_users(c: &Connection) -> Result<Vec<User>> {
    let mut st = c
        .prepare_cached(&format!("SELECT {USER_COLUMNS} FROM users ORDER BY name"))
        .map_err(backend_err)?;
    st.query_map([], user_row)
        .map_err(backend_err)?
        .collect::<rusqlite::Result<Vec<_>>>()
        .map_err(backend_err)
}

fn must_exist(tx: &Connection, name: &str) -> Result<User> {
    user_by_name(tx, name)?.ok_or_else(|| StoreError::not_found("user", name))
}

/// Refuses a change that would leave no enabled admin.
fn keep_an_admin(tx: &Connection, name: &str) -> Result<()> {
    let others: i64 = tx
        .query_row(
            "SELECT count(*) FROM users WHERE role = 'admin' AND disabled = 0 AND name <> ?",
            [name],
            |r| r.get(0),
        )
        .map_err(backend_err)?;
    if others == 0 {
        return Err(StoreError::Conflict(format!(
            "{name} is the last enabled admin; add another admin first"
        )));
    }
    Ok(())
}

pub(crate) fn set_role(
    tx: &Connection,
    name: &str,
    role: Role,
    actor: &Actor,
    now: Timestamp,
) -> Result<User> {
    let before = must_exist(tx, name)?;
    if before.role == Role::Admin && role != Role::Admin && !before.disabled {
        keep_an_admin(tx, name)?;
    }
    tx.execute("UPDATE users SET role = ? WHERE name = ?", params![role.as_str(), name])
        .map_err(backend_err)?;
    audit(
        tx,
        actor,
        "user_set_role",
        "user",
        name,
        &format!("role {} → {role}", before.role),
        now,
    )?;
    must_exist(tx, name)
}

pub(crate) fn set_password(
    tx: &Connection,
    name: &str,
    hash: &str,
    actor: &Actor,
    now: Timestamp,
) -> Result<()> {
    must_exist(tx, name)?;
    tx.execute("UPDATE users SET password_hash = ? WHERE name = ?", params![hash, name])
        .map_err(backend_err)?;
    audit(tx, actor, "user_reset_password", "user", name, "password changed", now)
}

pub(crate) fn set_disabled(
    tx: &Connection,
    name: &str,
    disabled: bool,
    actor: &Actor,
    now: Timestamp,
) -> Result<()> {
    let before = must_exist(tx, name)?;
    if disabled && before.role == Role::Admin && !before.disabled {
        keep_an_admin(tx, name)?;
    }
    tx.execute("UPDATE users SET disabled = ? WHERE name = ?", params![disabled, name])
        .map_err(backend_err)?;
    audit(tx, actor, if disabled { "user_disable" } else { "user_enable" }, "user", name, "", now)
}

pub(crate) fn delete_user(
    tx: &Connection,
    name: &str,
    actor: &Actor,
    now: Timestamp,
) -> Result<()> {
    let before = must_exist(tx, name)?;
    if before.role == Role::Admin && !before.disabled {
        keep_an_admin(tx, name)?;
    }
    tx.execute("DELETE FROM users WHERE name = ?", [name]).map_err(backend_err)?;
    audit(tx, actor, "user_remove", "user", name, &format!("role was {}", before.role), now)
}

pub(crate) fn touch_login(tx: &Connection, name: &str, now: Timestamp) -> Result<()> {
    tx.execute("UPDATE users SET last_login = ? WHERE name = ?", params![now.0, name])
        .map_err(backend_err)?;
    Ok(())
}

const TOKEN_COLUMNS: &str =
    "id, name, role, hash, prefix, created_at, created_by, expires_at, revoked_at, last_used_at";

fn token_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ApiToken> {
    Ok(ApiToken {
        id: r.get(0)?,
        name: r.get(1)?,
        role: Role::parse(&r.get::<_, String>(2)?).unwrap_or(Role::Viewer),
        hash: r.get(3)?,
        prefix: r.get(4)?,
        created_at: Timestamp(r.get(5)?),
        created_by: r.get(6)?,
        expires_at: r.get::<_, Option<i64>>(7)?.map(Timestamp),
        revoked_at: r.get::<_, Option<i64>>(8)?.map(Timestamp),
        last_used_at: r.get::<_, Option<i64>>(9)?.map(Timestamp),
    })
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn create_token(
    tx: &Connection,
    name: &str,
    role: Role,
    hash: &str,
    prefix: &str,
    expires_at: Option<Timestamp>,
    actor: &Actor,
    now: Timestamp,
) -> Result<ApiToken> {
    if name.trim().is_empty() || name.len() > 100 {
        return Err(StoreError::invalid("name", "a token needs a name of 1–100 characters"));
    }
    if hash.len() < 32 {
        return Err(StoreError::invalid("hash", "a token hash is required"));
    }
    tx.execute(
        "INSERT INTO tokens (name, role, hash, prefix, created_at, created_by, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        params![name, role.as_str(), hash, prefix, now.0, actor.name, expires_at.map(|t| t.0)],
    )
    .map_err(backend_err)?;
    let id = tx.last_insert_rowid();
    audit(
        tx,
        actor,
        "token_create",
        "token",
        &id.to_string(),
        &format!("{name:?} role {role}"),
        now,
    )?;
    tx.prepare_cached(&format!("SELECT {TOKEN_COLUMNS} FROM tokens WHERE id = ?"))
        .map_err(backend_err)?
        .query_row([id], token_row)
        .map_err(backend_err)
}

pub(crate) fn token_by_hash(c: &Connection, hash: &str) -> Result<Option<ApiToken>> {
    c.prepare_cached(&format!("SELECT {TOKEN_COLUMNS} FROM tokens WHERE hash = ?"))
        .map_err(backend_err)?
        .query_row([hash], token_row)
        .optional()
        .map_err(backend_err)
}

pub(crate) fn list_tokens(c: &Connection) -> Result<Vec<ApiToken>> {
    let mut st = c
        .prepare_cached(&format!("SELECT {TOKEN_COLUMNS} FROM tokens ORDER BY id"))
        .map_err(backend_err)?;
    st.query_map([], token_row)
        .map_err(backend_err)?
        .collect::<rusqlite::Result<Vec<_>>>()
        .map_err(backend_err)
}

pub(crate) fn revoke_token(tx: &Connection, id: i64, actor: &Actor, now: Timestamp) -> Result<()> {
    let revoked: Option<Option<i64>> = tx
        .query_row("SELECT revoked_at FROM tokens WHERE id = ?", [id], |r| r.get(0))
        .optional()
        .map_err(backend_err)?;
    match revoked {
        None => Err(StoreError::not_found("token", id)),
        Some(Some(_)) => Ok(()),
        Some(None) => {
            tx.execute("UPDATE tokens SET revoked_at = ? WHERE id = ?", params![now.0, id])
                .map_err(backend_err)?;
            audit(tx, actor, "token_revoke", "token", &id.to_string(), "", now)
        }
    }
}

pub(crate) fn touch_token(tx: &Connection, id: i64, now: Timestamp) -> Result<()> {
    tx.execute("UPDATE tokens SET last_used_at = ? WHERE id = ?", params![now.0, id])
        .map_err(backend_err)?;
    Ok(())
}
