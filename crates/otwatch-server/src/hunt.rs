//! Hunting with KQL: runs `otwatch-query` over the store, for the API, the console and the CLI.

use std::time::Duration;

use serde_json::{Value as J, json};

use otwatch_query::{
    Dialect, FetchError, Param, QueryError, QueryResult, Rows, RunOptions, SqlSource, Value,
};
use otwatch_store::{SqlValue, Store, StoreError};

/// `SqlSource` over `Store::hunt_sql`.
pub struct StoreSource<'a>(pub &'a dyn Store);

impl SqlSource for StoreSource<'_> {
    fn dialect(&self) -> Dialect {
        match self.0.backend() {
            "postgres" => Dialect::Postgres,
            _ => Dialect::Sqlite,
        }
    }

    fn fetch(
        &self,
        sql: &str,
        params: &[Param],
        max_rows: usize,
        time_limit: Duration,
    ) -> Result<Rows, FetchError> {
        let ps: Vec<SqlValue> = params
            .iter()
            .map(|p| match p {
                Param::Null => SqlValue::Null,
                Param::Int(n) => SqlValue::Int(*n),
                Param::Real(r) => SqlValue::Real(*r),
                Param::Text(t) => SqlValue::Text(t.clone()),
            })
            .collect();
        match self.0.hunt_sql(sql, &ps, max_rows, time_limit) {
            Ok(r) => Ok(Rows {
                rows: r
                    .rows
                    .into_iter()
                    .map(|row| {
                        row.into_iter()
                            .map(|v| match v {
                                SqlValue::Null => Param::Null,
                                SqlValue::Int(n) => Param::Int(n),
                                SqlValue::Real(f) => Param::Real(f),
                                SqlValue::Text(t) => Param::Text(t),
                            })
                            .collect()
                    })
                    .collect(),
                truncated: r.truncated,
            }),
            Err(StoreError::TimeLimit(_)) => Err(FetchError::TimeLimit),
            Err(e) => Err(FetchError::Other(e.to_string())),
        }
    }
}

/// Runs a query on the store.
pub fn run(store: &dyn Store, text: &str, opts: &RunOptions) -> Result<QueryResult, QueryError> {
    otwatch_query::run(&StoreSource(store), text, opts)
}

/// One value as JSON: datetimes as RFC 3339, timespans as KQL text, dynamic as JSON.
pub fn value_json(v: &Value) -> J {
    match v {
        Value::Null => J::Null,
        Value::Bool(b) => json!(b),
        Value::Long(n) => json!(n),
        Value::Real(r) if r.is_finite() => json!(r),
        Value::Real(_) => J::Null,
        Value::DateTime(us) => json!(otwatch_query::format_datetime(*us)),
        Value::TimeSpan(us) => json!(otwatch_query::format_timespan(*us)),
        Value::Str(s) => json!(s.as_ref()),
        Value::Dynamic(_) => v.to_json(),
    }
}

/// A value as plain text, for tables and CSV.
pub fn value_text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::Str(s) => s.to_string(),
        Value::DateTime(us) => otwatch_query::format_datetime(*us),
        Value::TimeSpan(us) => otwatch_query::format_timespan(*us),
        Value::Dynamic(_) => v.to_json().to_string(),
        other => value_json(other).to_string(),
    }
}

/// A result as the API returns it.
pub fn result_json(r: &QueryResult) -> J {
    json!({
        "columns": r.columns.iter().map(|c| json!({"name": c.name, "type": c.ty.name()})).collect::<Vec<_>>(),
        "rows": r.rows.iter().map(|row| row.iter().map(value_json).collect::<Vec<_>>()).collect::<Vec<_>>(),
        "row_count": r.rows.len(),
        "truncated": r.truncated,
        "render": r.render,
    })
}

/// A query error as the API returns it (inside `{"error": …}`).
pub fn error_json(e: &QueryError, text: &str) -> J {
    let (line, column) = e.line_col(text);
    json!({
        "code": e.code.as_str(),
        "message": e.message,
        "hint": e.hint,
        "field": "query",
        "line": line,
        "column": column,
        "caret": e.render(text),
    })
}
