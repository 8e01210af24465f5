//! Read-only execution of compiled hunting queries, with row and time limits.

use std::time::{Duration, Instant};

use rusqlite::Connection;
use rusqlite::types::{Value as V, ValueRef};

use otwatch_store::{Result, SqlRows, SqlValue, StoreError};

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
