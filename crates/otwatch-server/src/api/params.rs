//! Reading alert queries from URL parameters, with errors that name the parameter.
//!
//! `?severity=High,Major&site=Plant%20A` filters a column by any of several
//! values (repeat the parameter or separate with commas); `field__not=`,
//! `field__contains=`, `field__gte=` and `field__lte=` give the other
//! comparisons. `q` is free text, `from`/`to` a time range (RFC 3339, a date,
//! epoch milliseconds, or an age such as `24h` meaning "24 hours ago") on
//! `time_field` (default `last_detection`), `sort` a column (`-column` for
//! descending), `limit` the page size and `after` the cursor of the previous page.

use otwatch_model::{AlertField, Timestamp};
use otwatch_store::{AlertQuery, Cursor, Filter, Sort, TimeRange};

use crate::error::{ApiError, ApiResult};

/// Parameters that are not column filters.
pub const RESERVED: &[&str] = &[
    "q",
    "from",
    "to",
    "time_field",
    "sort",
    "limit",
    "after",
    "fields",
    "total",
    "by",
    "period",
    "format",
    "fields_csv",
];

/// Reads a time parameter: absolute, or an age relative to now.
pub fn time_param(name: &str, text: &str, now: Timestamp) -> ApiResult<Timestamp> {
    if let Ok(us) = otwatch_model::time::parse_duration(text) {
        return Ok(Timestamp(now.0.saturating_sub(us)));
    }
    Timestamp::parse(text).map_err(|e| ApiError::field(name, format!("{e}, or an age such as 24h")))
}

/// Builds an alert query from URL parameters.
pub fn alert_query(params: &[(String, String)], now: Timestamp) -> ApiResult<AlertQuery> {
    let mut q = AlertQuery::default();
    let mut from = None;
    let mut to = None;
    let mut time_field = AlertField::LastDetection;
    let mut grouped: Vec<(String, String, Vec<String>)> = Vec::new();
    for (k, v) in params {
        match k.as_str() {
            "q" => q.search = Some(v.clone()).filter(|s| !s.trim().is_empty()),
            "from" if !v.is_empty() => from = Some(time_param("from", v, now)?),
            "to" if !v.is_empty() => to = Some(time_param("to", v, now)?),
            "time_field" => {
                time_field = AlertField::parse(v)
                    .map_err(|e| ApiError::field("time_field", e.to_string()))?;
            }
            "sort" if !v.is_empty() => q.sort = Sort::parse(v).map_err(ApiError::from)?,
            "limit" => {
                q.limit = v
                    .parse()
                    .map_err(|_| ApiError::field("limit", format!("{v:?} is not a number")))?;
            }
            "after" if !v.is_empty() => q.after = Some(Cursor::decode(v).map_err(ApiError::from)?),
            k if RESERVED.contains(&k) => {}
            k => {
                let (field, op) = match k.rsplit_once("__") {
                    Some((f, op)) => (f, op),
                    None => (k, "in"),
                };
                let values: Vec<String> =
                    v.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect();
                if values.is_empty() {
                    continue;
                }
                match grouped.iter_mut().find(|(f, o, _)| f == field && o == op) {
                    Some((_, _, vs)) => vs.extend(values),
                    None => grouped.push((field.to_string(), op.to_string(), values)),
                }
            }
        }
    }
    for (name, op, values) in grouped {
        let field =
            AlertField::parse(&name).map_err(|e| ApiError::field(name.clone(), e.to_string()))?;
        let refs: Vec<&str> = values.iter().map(String::as_str).collect();
        let first = values.first().map(String::as_str);
        let f = match op.as_str() {
            "in" => Filter::any_of(field, &refs),
            "not" => Filter::none_of(field, &refs),
            "contains" => Filter::contains(field, &values.join(",")),
            "gte" => Filter::range(field, first, None),
            "lte" => Filter::range(field, None, first),
            other => {
                return Err(ApiError::field(
                    format!("{name}__{other}"),
                    "unknown comparison; use field, field__not, field__contains, field__gte or field__lte",
                ));
            }
        };
        q.filters.push(f.map_err(ApiError::from)?);
    }
    if from.is_some() || to.is_some() {
        q.time = Some(TimeRange { field: time_field, from, to });
    }
    q.validate().map_err(ApiError::from)?;
    Ok(q)
}

/// Reads `fields=` (comma-separated column keys).
pub fn fields(params: &[(String, String)]) -> ApiResult<Option<Vec<AlertField>>> {
    let Some((_, v)) = params.iter().find(|(k, _)| k == "fields") else { return Ok(None) };
    let mut out = Vec::new();
    for f in v.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        out.push(AlertField::parse(f).map_err(|e| ApiError::field("fields", e.to_string()))?);
    }
    Ok(if out.is_empty() { None } else { Some(out) })
}

/// A parameter's value, if given.
pub fn get<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
    }

    #[test]
    fn builds_queries_and_names_bad_fields() {
        let now = Timestamp::from_secs(1_000_000);
        let q = alert_query(
            &p(&[
                ("severity", "High"),
                ("severity", "Major"),
                ("site__not", "B"),
                ("from", "1h"),
                ("sort", "-name"),
            ]),
            now,
        )
        .unwrap();
        assert_eq!(q.filters.len(), 2);
        assert_eq!(q.time.unwrap().from, Some(Timestamp::from_secs(1_000_000 - 3600)));
        assert!(q.sort.descending);
        let e = alert_query(&p(&[("severty", "High")]), now).unwrap_err();
        assert!(
            matches!(e, ApiError::BadRequest { field: Some(ref f), .. } if f == "severty"),
            "{e:?}"
        );
        let e = alert_query(&p(&[("severity", "urgent")]), now).unwrap_err();
        assert!(matches!(e, ApiError::BadRequest { field: Some(ref f), .. } if f == "severity"));
        let e = alert_query(&p(&[("limit", "0")]), now).unwrap_err();
        assert!(matches!(e, ApiError::BadRequest { field: Some(ref f), .. } if f == "limit"));
        let e = alert_query(&p(&[("from", "2024-03-02"), ("to", "2024-03-01")]), now).unwrap_err();
        assert!(matches!(e, ApiError::BadRequest { field: Some(ref f), .. } if f == "to"));
        let e = alert_query(&p(&[("from", "last tuesday")]), now).unwrap_err();
        assert!(matches!(e, ApiError::BadRequest { field: Some(ref f), .. } if f == "from"));
    }
}
