//! SQL fragments for alert queries, built from closed enums and bound values.
//!
//! Column names come only from [`column`] (a match over `AlertField`); every
//! user value goes into `params` and appears in the SQL as `?`.

use rusqlite::types::Value as Sql;

use otwatch_model::AlertField;
use otwatch_store::{AlertQuery, Cursor, FilterOp, Result, StoreError, Value};

/// The SQL expression of an alert column.
pub(crate) fn column(f: AlertField) -> &'static str {
    match f {
        AlertField::Id => "id",
        AlertField::Severity => "severity",
        AlertField::Name => "name",
        AlertField::Type => "alert_type",
        AlertField::Engine => "engine",
        AlertField::Category => "category",
        AlertField::Status => "status",
        AlertField::Disposition => "disposition",
        AlertField::FirstDetection => "first_detection",
        AlertField::LastDetection => "last_detection",
        AlertField::LastActivity => "last_activity",
        AlertField::OccurrenceCount => "occurrence_count",
        AlertField::SourceIp => "src_ip",
        AlertField::SourceMac => "src_mac",
        AlertField::SourceName => {
            "(CASE WHEN src_name <> '' THEN src_name WHEN src_ip <> '' THEN src_ip ELSE src_mac END)"
        }
        AlertField::DestinationIp => "dst_ip",
        AlertField::DestinationMac => "dst_mac",
        AlertField::DestinationName => {
            "(CASE WHEN dst_name <> '' THEN dst_name WHEN dst_ip <> '' THEN dst_ip ELSE dst_mac END)"
        }
        AlertField::Protocol => "protocol",
        AlertField::Sensor => "sensor",
        AlertField::Site => "site",
        AlertField::Zone => "zone",
        AlertField::Tactics => "tactics",
        AlertField::Techniques => "techniques",
        AlertField::Learnable => "learnable",
        AlertField::Mutable => "mutable",
        AlertField::Description => "description",
    }
}

// Free text is searched in `alerts_search` (migration 6; new alerts added per ingest batch, 8): name, type,
// source and destination IP, MAC and name, protocol, sensor, site, zone.

pub(crate) fn to_sql(v: &Value) -> Sql {
    match v {
        Value::Text(s) => Sql::Text(s.clone()),
        Value::Int(n) => Sql::Integer(*n),
        Value::Time(t) => Sql::Integer(t.0),
        Value::Bool(b) => Sql::Integer(i64::from(*b)),
    }
}

/// Escapes `%`, `_` and `\` for a LIKE pattern with `ESCAPE '\'`.
pub(crate) fn like_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A WHERE clause with its parameters.
#[derive(Default)]
pub(crate) struct Where {
    pub(crate) sql: String,
    pub(crate) params: Vec<Sql>,
}

impl Where {
    fn and(&mut self, clause: &str) {
        self.sql.push_str(if self.sql.is_empty() { " WHERE " } else { " AND " });
        self.sql.push_str(clause);
    }
}

/// Builds the WHERE clause of an alert query; with `paged`, includes the cursor.
pub(crate) fn alert_where(q: &AlertQuery, paged: bool) -> Result<Where> {
    q.validate()?;
    let mut w = Where::default();
    for f in &q.filters {
        let col = column(f.field);
        let is_list = matches!(f.field, AlertField::Tactics | AlertField::Techniques);
        match &f.op {
            FilterOp::In(vals) | FilterOp::NotIn(vals) => {
                if vals.is_empty() {
                    return Err(StoreError::invalid(
                        f.field.key(),
                        "at least one value is required",
                    ));
                }
                let negate = matches!(f.op, FilterOp::NotIn(_));
                let clause = if is_list {
                    let parts: Vec<String> = vals
                        .iter()
                        .map(|v| {
                            let text = match v {
                                Value::Text(s) => s.clone(),
                                other => format!("{other:?}"),
                            };
                            w.params.push(Sql::Text(format!("%;{};%", like_escape(&text))));
                            format!("(';' || {col} || ';') LIKE ? ESCAPE '\\'")
                        })
                        .collect();
                    format!("({})", parts.join(" OR "))
                } else {
                    let marks = vec!["?"; vals.len()].join(", ");
                    w.params.extend(vals.iter().map(to_sql));
                    format!("{col} IN ({marks})")
                };
                if negate {
                    w.and(&format!("NOT {clause}"));
                } else {
                    w.and(&clause);
                }
            }
            FilterOp::Contains(text) => {
                w.params.push(Sql::Text(format!("%{}%", like_escape(text))));
                w.and(&format!("{col} LIKE ? ESCAPE '\\'"));
            }
            FilterOp::Range { min, max } => {
                if let Some(v) = min {
                    w.params.push(to_sql(v));
                    w.and(&format!("{col} >= ?"));
                }
                if let Some(v) = max {
                    w.params.push(to_sql(v));
                    w.and(&format!("{col} <= ?"));
                }
            }
        }
    }
    if let Some(s) = q.search.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        // The trigram index answers substring matches (case-insensitive, as
        // LIKE), but not a LIKE with an ESCAPE clause (FTS5 then scans every
        // row: 377 ms against 42 ms over 1,000,000 alerts, BENCHMARKS.md), so
        // ESCAPE is only added when the text holds a wildcard to escape.
        if s.contains(['%', '_', '\\']) {
            w.params.push(Sql::Text(format!("%{}%", like_escape(s))));
            w.and("id IN (SELECT rowid FROM alerts_search WHERE doc LIKE ? ESCAPE '\\')");
        } else {
            w.params.push(Sql::Text(format!("%{s}%")));
            w.and("id IN (SELECT rowid FROM alerts_search WHERE doc LIKE ?)");
        }
    }
    if let Some(t) = &q.time {
        let col = column(t.field);
        if let Some(from) = t.from {
            w.params.push(Sql::Integer(from.0));
            w.and(&format!("{col} >= ?"));
        }
        if let Some(to) = t.to {
            w.params.push(Sql::Integer(to.0));
            w.and(&format!("{col} < ?"));
        }
    }
    if paged && let Some(Cursor { value, tie, id }) = &q.after {
        let col = column(q.sort.field);
        let cmp = if q.sort.descending { "<" } else { ">" };
        if q.sort.field == AlertField::Id {
            w.params.push(Sql::Integer(*id));
            w.and(&format!("id {cmp} ?"));
        } else if uses_tie(q) {
            let Some(tie) = tie else {
                return Err(StoreError::invalid(
                    "after",
                    "the cursor belongs to a different sort order",
                ));
            };
            w.params.push(to_sql(value));
            w.params.push(Sql::Integer(tie.0));
            w.params.push(Sql::Integer(*id));
            w.and(&format!("({col}, last_detection, id) {cmp} (?, ?, ?)"));
        } else {
            w.params.push(to_sql(value));
            w.params.push(Sql::Integer(*id));
            w.and(&format!("({col}, id) {cmp} (?, ?)"));
        }
    }
    Ok(w)
}

/// Whether rows with equal sort values are ordered by last detection before id.
/// (The indexes are (column, last_detection); SQLite appends the row id, so
/// this order is read straight from an index, with no sort step.)
pub(crate) fn uses_tie(q: &AlertQuery) -> bool {
    !matches!(q.sort.field, AlertField::Id | AlertField::LastDetection)
}

/// The ORDER BY clause for a query's sort.
pub(crate) fn order_by(q: &AlertQuery) -> String {
    let dir = if q.sort.descending { "DESC" } else { "ASC" };
    let col = column(q.sort.field);
    if q.sort.field == AlertField::Id {
        format!(" ORDER BY id {dir}")
    } else if uses_tie(q) {
        format!(" ORDER BY {col} {dir}, last_detection {dir}, id {dir}")
    } else {
        format!(" ORDER BY {col} {dir}, id {dir}")
    }
}
