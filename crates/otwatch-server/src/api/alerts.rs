//! `/api/v1/alerts…`: list, group, facets, details, triage, comments, export, PCAP, ingest.

use std::collections::BTreeMap;

use axum::Extension;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value as J, json};

use otwatch_model::lifecycle::Action;
use otwatch_model::{Alert, AlertField, AlertId, Detection, FieldKind};
use otwatch_store::{AlertQuery, IngestOptions};

use crate::api::json::Json;
use crate::api::params::{self, alert_query, get};
use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};
use crate::service::{self, BulkTarget};
use crate::state::{AppState, Metrics};

type Params = Query<Vec<(String, String)>>;

/// One alert as the API returns it.
pub fn alert_json(a: &Alert) -> J {
    serde_json::to_value(a).unwrap_or(J::Null)
}

/// Only the chosen columns, flat.
fn project(a: &Alert, fields: &[AlertField]) -> J {
    let mut m = serde_json::Map::new();
    for f in fields {
        let v = match f.kind() {
            FieldKind::Integer => match f {
                AlertField::Id => json!(a.id.0),
                _ => json!(a.occurrence_count),
            },
            FieldKind::Bool => {
                json!(if *f == AlertField::Mutable { a.mutable } else { a.learnable })
            }
            FieldKind::List => {
                if *f == AlertField::Tactics {
                    json!(a.tactics.iter().map(|t| t.as_str()).collect::<Vec<_>>())
                } else {
                    json!(a.techniques.iter().map(|t| t.id()).collect::<Vec<_>>())
                }
            }
            _ => json!(a.field_text(*f)),
        };
        m.insert(f.key().to_string(), v);
    }
    J::Object(m)
}

/// GET /api/v1/alerts
pub async fn list(State(st): State<AppState>, Query(p): Params) -> ApiResult<Response> {
    let q = alert_query(&p, st.now())?;
    let fields = params::fields(&p)?;
    let want_total = get(&p, "total").is_some_and(|v| v == "true" || v == "1");
    let (page, total) = st
        .blocking(move |s| {
            let page = s.list_alerts(&q)?;
            let total = if want_total { Some(s.count_alerts(&q)?) } else { None };
            Ok((page, total))
        })
        .await?;
    let items: Vec<J> = page
        .items
        .iter()
        .map(|a| match &fields {
            Some(f) => project(a, f),
            None => alert_json(a),
        })
        .collect();
    let mut body = json!({"items": items, "next": page.next.map(|c| c.encode())});
    if let Some(t) = total {
        body["total"] = json!(t);
    }
    Ok(axum::Json(body).into_response())
}

/// GET /api/v1/alerts/groups?by=…
pub async fn groups(State(st): State<AppState>, Query(p): Params) -> ApiResult<Response> {
    let by = get(&p, "by")
        .ok_or_else(|| ApiError::field("by", "say which column to group by, e.g. by=engine"))?;
    let field = AlertField::parse(by).map_err(|e| ApiError::field("by", e.to_string()))?;
    if !field.groupable() {
        return Err(ApiError::field("by", format!("cannot group by {}", field.key())));
    }
    let q = alert_query(&p, st.now())?;
    let groups = st.blocking(move |s| Ok(s.group_alerts(&q, field)?)).await?;
    let total: u64 = groups.iter().map(|g| g.count).sum();
    Ok(axum::Json(json!({
        "by": field.key(),
        "total": total,
        "groups": groups.iter().map(|g| json!({"value": g.value, "count": g.count})).collect::<Vec<_>>(),
    }))
    .into_response())
}

/// GET /api/v1/alerts/facets?fields=… — per-value counts for the filter menus.
/// Each column's counts ignore that column's own filter, so every choice shows.
pub async fn facets(State(st): State<AppState>, Query(p): Params) -> ApiResult<Response> {
    let fields = params::fields(&p)?.unwrap_or_else(|| {
        vec![
            AlertField::Severity,
            AlertField::Status,
            AlertField::Engine,
            AlertField::Site,
            AlertField::Name,
            AlertField::Sensor,
        ]
    });
    let q = alert_query(&p, st.now())?;
    let mut out = serde_json::Map::new();
    for (f, g) in service::facets(&st, q, fields).await? {
        out.insert(
            f.key().into(),
            json!(
                g.iter().map(|x| json!({"value": x.value, "count": x.count})).collect::<Vec<_>>()
            ),
        );
    }
    Ok(axum::Json(json!({"facets": out})).into_response())
}

/// The details of one alert, as the details page needs them.
pub async fn details_json(st: &AppState, id: i64) -> ApiResult<J> {
    let service::AlertView { details: d, devices } = service::alert_view(st, id).await?;
    let a = &d.alert;
    Ok(json!({
        "alert": alert_json(a),
        "devices": devices,
        "mitre": {
            "tactics": a.tactics.iter().map(|t| json!({"id": t.id(), "name": t.as_str(), "url": t.url()})).collect::<Vec<_>>(),
            "techniques": a.techniques.iter().map(|t| json!({"id": t.id(), "name": t.name(), "url": t.url()})).collect::<Vec<_>>(),
        },
        "severity_scales": {"sensor": a.severity.as_str(), "portal": a.severity.portal().as_str(), "cef": a.severity.cef()},
        "comments": d.comments,
        "history": d.history,
        "pcap_url": format!("/api/v1/alerts/{}/pcap", a.id),
    }))
}

/// GET /api/v1/alerts/{id}
pub async fn one(State(st): State<AppState>, Path(id): Path<String>) -> ApiResult<Response> {
    let id = parse_id(&id)?;
    Ok(axum::Json(details_json(&st, id).await?).into_response())
}

/// Reads an alert id from the path.
pub fn parse_id(text: &str) -> ApiResult<i64> {
    text.parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| ApiError::field("id", format!("{text:?} is not an alert id")))
}

/// Body of PATCH /api/v1/alerts/{id}.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Patch {
    status: Option<String>,
    severity: Option<String>,
}

use crate::service::patch_actions;

async fn act_one(
    st: &AppState,
    who: &Principal,
    id: i64,
    actions: Vec<Action>,
) -> ApiResult<Response> {
    service::act(st, who.actor(), id, actions).await?;
    Ok(axum::Json(details_json(st, id).await?).into_response())
}

/// PATCH /api/v1/alerts/{id}
pub async fn patch(
    State(st): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
    Json(b): Json<Patch>,
) -> ApiResult<Response> {
    let id = parse_id(&id)?;
    let actions = patch_actions(b.status.as_deref(), b.severity.as_deref())?;
    if actions.is_empty() {
        return Err(ApiError::bad("send status and/or severity"));
    }
    act_one(&st, &who, id, actions).await
}

/// POST /api/v1/alerts/{id}/learn (and mute, unlearn, unmute)
pub async fn action(
    st: AppState,
    who: Principal,
    id: String,
    action: Action,
) -> ApiResult<Response> {
    let id = parse_id(&id)?;
    act_one(&st, &who, id, vec![action]).await
}

/// POST /api/v1/alerts/{id}/learn
pub async fn learn(
    State(st): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    action(st, who, id, Action::Learn).await
}
/// POST /api/v1/alerts/{id}/mute
pub async fn mute(
    State(st): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    action(st, who, id, Action::Mute).await
}
/// POST /api/v1/alerts/{id}/unlearn
pub async fn unlearn(
    State(st): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    action(st, who, id, Action::Unlearn).await
}
/// POST /api/v1/alerts/{id}/unmute
pub async fn unmute(
    State(st): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    action(st, who, id, Action::Unmute).await
}

/// Body of POST /api/v1/alerts/{id}/comments.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewComment {
    text: String,
}

/// POST /api/v1/alerts/{id}/comments
pub async fn comment(
    State(st): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
    Json(b): Json<NewComment>,
) -> ApiResult<Response> {
    let id = parse_id(&id)?;
    let r = act_one(&st, &who, id, vec![service::comment_action(&b.text)?]).await?;
    Ok((StatusCode::CREATED, r).into_response())
}

/// Body of POST /api/v1/alerts/bulk.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bulk {
    /// Alert ids; or give `filter`.
    #[serde(default)]
    ids: Vec<i64>,
    /// The current grid filter, as URL parameters (all matching alerts).
    #[serde(default)]
    filter: Option<BTreeMap<String, String>>,
    status: Option<String>,
    severity: Option<String>,
    /// learn, mute, unlearn or unmute.
    action: Option<String>,
}

/// POST /api/v1/alerts/bulk — one change to many alerts, by ids or by filter.
pub async fn bulk(
    State(st): State<AppState>,
    Extension(who): Extension<Principal>,
    Json(b): Json<Bulk>,
) -> ApiResult<Response> {
    let mut actions = patch_actions(b.status.as_deref(), b.severity.as_deref())?;
    if let Some(a) = &b.action {
        actions.push(service::named_action(a)?);
    }
    if actions.is_empty() {
        return Err(ApiError::bad("send status, severity and/or action"));
    }
    if b.ids.is_empty() == b.filter.is_none() {
        return Err(ApiError::field("ids", "send either ids or filter (not both)"));
    }
    let target = match &b.filter {
        Some(f) => {
            let pairs: Vec<(String, String)> =
                f.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
            BulkTarget::Query(alert_query(&pairs, st.now())?)
        }
        None => BulkTarget::Ids(b.ids),
    };
    let results = service::bulk(&st, who.actor(), target, actions).await?;
    let changed = results.values().filter(|(c, e)| *c && e.is_none()).count();
    let errors = results.values().filter(|(_, e)| e.is_some()).count();
    Ok(axum::Json(json!({
        "matched": results.len(),
        "changed": changed,
        "errors": errors,
        "results": results.iter().map(|(id, (c, e))| json!({"id": id, "changed": c, "error": e})).collect::<Vec<_>>(),
    }))
    .into_response())
}

/// GET /api/v1/alerts/aggregated?period=1d
pub async fn aggregated(State(st): State<AppState>, Query(p): Params) -> ApiResult<Response> {
    let period = get(&p, "period").unwrap_or("1d");
    let period_us =
        otwatch_model::time::parse_duration(period).map_err(|e| ApiError::field("period", e))?;
    let q = alert_query(&p, st.now())?;
    let rows = st.blocking(move |s| Ok(s.aggregate_alerts(&q, period_us)?)).await?;
    Ok(axum::Json(json!({"period": period, "items": rows.iter().map(|r| json!({
        "type": r.alert_type, "name": r.name, "engine": r.engine, "severity": r.severity,
        "period_start": r.period_start, "alerts": r.alerts, "occurrences": r.occurrences,
        "first_detection": r.first_detection, "last_detection": r.last_detection,
        "devices": r.devices, "alert_ids": r.alert_ids,
    })).collect::<Vec<_>>()}))
    .into_response())
}

/// GET /api/v1/alerts/export.csv — streams every matching alert as RFC 4180 CSV.
pub async fn export_csv(State(st): State<AppState>, Query(p): Params) -> ApiResult<Response> {
    let mut q = alert_query(&p, st.now())?;
    q.limit = 1;
    let cols = params::fields(&p)?.unwrap_or_else(|| AlertField::ALL.to_vec());
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(16);
    let store = st.store.clone();
    tokio::task::spawn_blocking(move || {
        let mut buf: Vec<u8> = Vec::with_capacity(1 << 16);
        let header: Vec<String> = cols.iter().map(|c| c.label().to_string()).collect();
        csv_line(&header, &mut buf);
        let r = store.for_each_alert(&q, &mut |a| {
            let row: Vec<String> = cols
                .iter()
                .map(|c| otwatch_model::spreadsheet_safe(&a.field_text(*c)).into_owned())
                .collect();
            csv_line(&row, &mut buf);
            if buf.len() >= 1 << 16 {
                let chunk = std::mem::replace(&mut buf, Vec::with_capacity(1 << 16));
                if tx.blocking_send(Ok(chunk)).is_err() {
                    return Err(otwatch_store::StoreError::Backend("client went away".into()));
                }
            }
            Ok(())
        });
        match r {
            Ok(_) => {
                let _ = tx.blocking_send(Ok(buf));
            }
            Err(e) => {
                tracing::warn!(message = "CSV export stopped.", error = %e);
                let _ = tx.blocking_send(Err(std::io::Error::other(e.to_string())));
            }
        }
    });
    let stream =
        futures_util::stream::unfold(
            rx,
            |mut rx| async move { rx.recv().await.map(|item| (item, rx)) },
        );
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (header::CONTENT_DISPOSITION, "attachment; filename=\"otwatch-alerts.csv\""),
        ],
        Body::from_stream(stream),
    )
        .into_response())
}

/// GET /api/v1/alerts/{id}/pcap
pub async fn pcap(State(st): State<AppState>, Path(id): Path<String>) -> ApiResult<Response> {
    let id = parse_id(&id)?;
    let bytes = st
        .blocking(move |s| {
            s.alert(AlertId(id))?;
            Ok(s.alert_pcap(AlertId(id))?)
        })
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no PCAP evidence is stored for alert {id}")))?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/vnd.tcpdump.pcap".to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"alert-{id}.pcap\"")),
        ],
        bytes,
    )
        .into_response())
}

/// Body of POST /api/v1/alerts/ingest.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IngestBody {
    detections: Vec<Detection>,
}

/// Most detections in one ingest request.
pub const MAX_INGEST_BATCH: usize = 50_000;

/// POST /api/v1/alerts/ingest — detections from sensors and external sources; idempotent.
pub async fn ingest(State(st): State<AppState>, Json(b): Json<IngestBody>) -> ApiResult<Response> {
    if b.detections.len() > MAX_INGEST_BATCH {
        return Err(ApiError::field(
            "detections",
            format!("at most {MAX_INGEST_BATCH} per request"),
        ));
    }
    let n = b.detections.len() as u64;
    let catalog = st.catalog;
    let opts_now = st.now();
    let auto = st.settings.auto_close_after;
    let r = st
        .blocking(move |s| {
            Ok(s.ingest(
                &b.detections,
                &IngestOptions { catalog, now: opts_now, auto_close_after: auto },
            )?)
        })
        .await?;
    Metrics::add(&st.metrics.detections_received, n);
    Metrics::add(&st.metrics.alerts_opened, r.opened);
    Ok(axum::Json(json!({
        "received": r.received,
        "opened": r.opened,
        "updated": r.updated,
        "duplicates": r.duplicates,
        "excluded": r.excluded,
        "suppressed_learned": r.suppressed_learned,
        "suppressed_muted": r.suppressed_muted,
        "auto_closed": r.auto_closed,
        "rejected": r.rejected.iter().map(|(i, m)| json!({"index": i, "error": m})).collect::<Vec<_>>(),
        "new_alert_ids": r.new_alert_ids,
    }))
    .into_response())
}

/// The query the grid would run for these parameters (used by views too).
pub fn query_for(p: &[(String, String)], st: &AppState) -> ApiResult<AlertQuery> {
    alert_query(p, st.now())
}

/// Appends one RFC 4180 record (CRLF-terminated): cells with a comma, quote or
/// line break are quoted, quotes doubled.
pub fn csv_line(cells: &[String], out: &mut Vec<u8>) {
    for (i, c) in cells.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        if c.contains([',', '"', '\r', '\n']) {
            out.push(b'"');
            out.extend_from_slice(c.replace('"', "\"\"").as_bytes());
            out.push(b'"');
        } else {
            out.extend_from_slice(c.as_bytes());
        }
    }
    out.extend_from_slice(b"\r\n");
}

#[cfg(test)]
mod tests {
    #[test]
    fn csv_lines_follow_rfc4180() {
        let mut out = Vec::new();
        super::csv_line(
            &["a".into(), "b,c".into(), "say \"hi\"".into(), "two\nlines".into()],
            &mut out,
        );
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "a,\"b,c\",\"say \"\"hi\"\"\",\"two\nlines\"\r\n"
        );
    }
}
