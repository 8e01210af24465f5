//! Read-only execution of compiled hunting queries, with row and time limits.

use std::time::{Duration, Instant};

use rusqlite::Connection;
use rusqlite::types::{Value as V, ValueRef};

use otwatch_model::Timestamp;
use otwatch_store::{Result, SavedQuery, SqlRows, SqlValue, StoreError};

use crate::backend_err;

/// Runs one read-only statement on a reader connection.
pub(crate) fn run(
    c: &mut Connection,
    sql: &str,
    params: &[SqlValue],
    max_rows: usize,
    time_limit: Duration,
) -> Result<SqlRows> {
    let deadline = Instant::now() + time_limit;
    c.progress_handler(10_000, Some(move || Instant::now() > deadline)).map_err(backend_err)?;
    let result = execute(c, sql, params, max_rows);
    c.progress_handler(0, None::<fn() -> bool>).map_err(backend_err)?;
    match result {
        Err(StoreError::Backend(m)) if m.contains("interrupt") => Err(StoreError::TimeLimit(
            otwatch_model::time::format_duration(time_limit.as_micros() as i64),
        )),
        other => other,
    }
}

fn execute(c: &Connection, sql: &str, params: &[SqlValue], max_rows: usize) -> Result<SqlRows> {
    let mut st = c
        .prepare(sql)
        .map_err(|e| StoreError::invalid("query", format!("the compiled SQL was refused: {e}")))?;
    if !st.readonly() {
        return Err(StoreError::invalid("query", "only read-only statements may run"));
    }
    let columns: Vec<String> = st.column_names().map(|s| s.to_string()).collect();
    let bound: Vec<V> = params
        .iter()
        .map(|p| match p {
            SqlValue::Null => V::Null,
            SqlValue::Int(n) => V::Integer(*n),
            SqlValue::Real(r) => V::Real(*r),
            SqlValue::Text(t) => V::Text(t.clone()),
        })
        .collect();
    {
        let mut rows = st.query(rusqlite::params_from_iter(bound.iter())).map_err(backend_err)?;
        let mut out = SqlRows { columns: columns.clone(), rows: Vec::new(), truncated: false };
        while let Some(r) = rows.next().map_err(backend_err)? {
            if out.rows.len() >= max_rows {
                out.truncated = true;
                break;
            }
            let mut row = Vec::with_capacity(columns.len());
            for i in 0..columns.len() {
                row.push(match r.get_ref(i).map_err(backend_err)? {
                    ValueRef::Null => SqlValue::Null,
                    ValueRef::Integer(n) => SqlValue::Int(n),
                    ValueRef::Real(f) => SqlValue::Real(f),
                    ValueRef::Text(t) => SqlValue::Text(String::from_utf8_lossy(t).into_owned()),
                    ValueRef::Blob(b) => SqlValue::Text(String::from_utf8_lossy(b).into_owned()),
                });
            }
            out.rows.push(row);
        }
        Ok(out)
    }
}

/// Longest saved query text.
const MAX_SAVED_QUERY: usize = 64 * 1024;

pub(crate) fn save(
    tx: &Connection,
    owner: &str,
    name: &str,
    query: &str,
    now: Timestamp,
) -> Result<SavedQuery> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(StoreError::invalid("name", "a saved query needs a name of 1–100 characters"));
    }
    if query.trim().is_empty() || query.len() > MAX_SAVED_QUERY {
        return Err(StoreError::invalid(
            "query",
            format!("the query must have 1 to {MAX_SAVED_QUERY} bytes"),
        ));
    }
    tx.execute(
        "INSERT INTO saved_queries (owner, name, query, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?4) \
         ON CONFLICT (owner, name) DO UPDATE SET query = excluded.query, updated_at = excluded.updated_at",
        rusqlite::params![owner, name, query, now.0],
    )
    .map_err(backend_err)?;
    tx.query_row(
        "SELECT id, owner, name, query, updated_at FROM saved_queries WHERE owner = ? AND name = ?",
        rusqlite::params![owner, name],
        row,
    )
    .map_err(backend_err)
}

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<SavedQuery> {
    Ok(SavedQuery {
        id: r.get(0)?,
        owner: r.get(1)?,
        name: r.get(2)?,
        query: r.get(3)?,
        updated_at: Timestamp(r.get(4)?),
    })
}

pub(crate) fn saved(c: &Connection, owner: &str) -> Result<Vec<SavedQuery>> {
    let mut st = c
        .prepare_cached("SELECT id, owner, name, query, updated_at FROM saved_queries WHERE owner = ? ORDER BY name")
        .map_err(backend_err)?;
    st.query_map([owner], row)
        .map_err(backend_err)?
        .collect::<rusqlite::Result<Vec<_>>>()
        .map_err(backend_err)
}

pub(crate) fn delete(tx: &Connection, owner: &str, id: i64) -> Result<()> {
    let n = tx
        .execute(
            "DELETE FROM saved_queries WHERE id = ? AND owner = ?",
            rusqlite::params![id, owner],
        )
        .map_err(backend_err)?;
    if n == 0 {
        return Err(StoreError::not_found("saved query", id));
    }
    Ok(())
}
