//! Defender for IoT compatibility: the alert endpoints of the sensor and of the
//! retired on-premises management console, at their documented paths and in
//! their documented shapes, authenticated with otwatch API tokens (the bare
//! token in `Authorization`, as those scripts send it).
//!
//! Field mapping (documented in docs/api.md):
//! - `id` → our alert id (console form `<sensor>-<id>` is accepted on input);
//! - `time` → last detection, epoch milliseconds; `title` → name; `message` → description;
//! - `severity` → sensor scale (Warning/Minor/Major/Critical); `engine` → engine name;
//! - `sourceDevice` / `destinationDevice` → device ids (or null);
//! - `sourceDeviceAddress` / `destinationDeviceAddress` → IP, else MAC (v2);
//! - `remediationSteps` → remediation (v2); `handled` → status is Closed;
//! - `additionalInformation` → description and the alert's details.

use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value as J, json};

use otwatch_model::lifecycle::Action;
use otwatch_model::{Alert, AlertField, AlertId, Disposition, Status};
use otwatch_store::{AlertQuery, Filter, Sort, TimeRange};

use crate::api::json::Json;
use crate::api::params::get;
use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

type Params = Query<Vec<(String, String)>>;

/// Most alerts one compatibility list returns.
pub const MAX_COMPAT_ALERTS: usize = 10_000;

fn address(ep: &otwatch_model::Endpoint) -> J {
    ep.ip.clone().or_else(|| ep.mac.clone()).map(J::String).unwrap_or(J::Null)
}

/// One alert in Defender's shape; `v2` adds the v2 fields, `console` the console's.
pub fn defender_alert(a: &Alert, v2: bool, console: bool, sensor: &str) -> J {
    let mut info = vec![];
    for (k, v) in &a.details {
        info.push(format!("{k}: {v}"));
    }
    let mut o = json!({
        "id": a.id.0,
        "time": a.last_detection.as_millis(),
        "title": a.name,
        "message": a.description,
        "severity": a.severity.as_str(),
        "engine": a.engine.as_str(),
        "sourceDevice": a.source.device_id,
        "destinationDevice": a.destination.device_id,
        "additionalInformation": {"description": a.description, "information": info},
    });
    if v2 {
        o["sourceDeviceAddress"] = address(&a.source);
        o["destinationDeviceAddress"] = address(&a.destination);
        o["remediationSteps"] = json!(a.remediation);
    }
    if console {
        o["sensorId"] = json!(a.sensor.clone().unwrap_or_else(|| sensor.to_string()));
        o["zoneId"] = json!(a.zone);
        o["siteId"] = json!(a.site);
        o["handled"] = json!(a.status == Status::Closed);
        o["remediationSteps"] = json!(a.remediation);
        if v2 {
            o["sensorName"] = json!(a.sensor.clone().unwrap_or_else(|| sensor.to_string()));
            o["zoneName"] = json!(a.zone);
            o["siteName"] = json!(a.site);
        }
    }
    o
}

fn query(p: &[(String, String)], console: bool) -> ApiResult<AlertQuery> {
    let mut q = AlertQuery {
        limit: MAX_COMPAT_ALERTS,
        sort: Sort { field: AlertField::LastDetection, descending: true },
        ..AlertQuery::default()
    };
    match get(p, "state") {
        None | Some("") => {}
        Some("handled") => q.filters.push(Filter::any_of(AlertField::Status, &["Closed"])?),
        Some("unhandled") => q.filters.push(Filter::none_of(AlertField::Status, &["Closed"])?),
        Some(v) => {
            return Err(ApiError::field("state", format!("{v:?} is not handled or unhandled")));
        }
    }
    let ms = |name: &str| -> ApiResult<Option<otwatch_model::Timestamp>> {
        match get(p, name) {
            None | Some("") => Ok(None),
            Some(v) => v
                .parse::<i64>()
                .map(|n| Some(otwatch_model::Timestamp::from_millis(n)))
                .map_err(|_| ApiError::field(name, format!("{v:?} is not epoch milliseconds"))),
        }
    };
    let (from, to) = (ms("fromTime")?, ms("toTime")?);
    if from.is_some() || to.is_some() {
        q.time = Some(TimeRange {
            field: AlertField::LastDetection,
            from,
            to: to.map(|t| t.plus_micros(1000)),
        });
    }
    // `type`: the sensor API knows "unexpected new devices" and "disconnections"; others are ignored.
    match get(p, "type").map(str::to_ascii_lowercase).as_deref() {
        Some("unexpected new devices") => {
            q.filters.push(Filter::any_of(AlertField::Category, &["Discovery"])?)
        }
        Some("disconnections") => {
            q.filters.push(Filter::any_of(AlertField::Category, &["Unresponsive"])?)
        }
        _ => {}
    }
    if console {
        for (param, field) in [
            ("sensorId", AlertField::Sensor),
            ("zoneId", AlertField::Zone),
            ("siteId", AlertField::Site),
        ] {
            if let Some(v) = get(p, param).filter(|v| !v.is_empty()) {
                q.filters.push(Filter::any_of(field, &[v])?);
            }
        }
    }
    Ok(q)
}

async fn list(
    st: &AppState,
    p: Vec<(String, String)>,
    v2: bool,
    console: bool,
) -> ApiResult<Response> {
    let q = query(&p, console)?;
    let page = st.blocking(move |s| Ok(s.list_alerts(&q)?)).await?;
    let sensor = st.settings.sensor_name.clone();
    let items: Vec<J> =
        page.items.iter().map(|a| defender_alert(a, v2, console, &sensor)).collect();
    Ok(axum::Json(items).into_response())
}

/// GET /api/v2/alerts (sensor API, v2 fields)
pub async fn sensor_v2(State(st): State<AppState>, Query(p): Params) -> ApiResult<Response> {
    list(&st, p, true, false).await
}

/// GET /external/v1/alerts (console API)
pub async fn console_v1(State(st): State<AppState>, Query(p): Params) -> ApiResult<Response> {
    list(&st, p, false, true).await
}

/// GET /external/v2/alerts (console API, v2 fields)
pub async fn console_v2(State(st): State<AppState>, Query(p): Params) -> ApiResult<Response> {
    list(&st, p, true, true).await
}

/// GET /api/v1/alerts called with the sensor API's parameters (`state`,
/// `fromTime`, `toTime`): answered in the sensor's v1 shape.
pub async fn sensor_v1(st: &AppState, p: Vec<(String, String)>) -> ApiResult<Response> {
    list(st, p, false, false).await
}

/// Whether a request to /api/v1/alerts is a Defender sensor-API call.
pub fn is_sensor_call(p: &[(String, String)]) -> bool {
    p.iter().any(|(k, _)| k == "state" || k == "fromTime" || k == "toTime")
}

/// Body of PUT /external/v1/alerts/{uuid}.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Handle {
    action: String,
}

fn console_id(text: &str) -> ApiResult<i64> {
    let last = text.rsplit('-').next().unwrap_or(text);
    let direct = text.parse::<i64>().ok();
    direct
        .or_else(|| last.parse::<i64>().ok())
        .filter(|n| *n > 0)
        .ok_or_else(|| ApiError::field("id", format!("{text:?} is not an alert id")))
}

/// PUT /external/v1/alerts/{uuid} with `{"action": "handle" | "handleAndLearn"}`.
pub async fn handle(
    State(st): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
    Json(b): Json<Handle>,
) -> ApiResult<Response> {
    let id = console_id(&id)?;
    let learn = match b.action.as_str() {
        "handle" => false,
        "handleAndLearn" => true,
        _ => {
            return Ok((
                axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                axum::Json(json!({"error": "Invalid action"})),
            )
                .into_response());
        }
    };
    let actor = who.actor();
    let now = st.now();
    let msg = st
        .blocking(move |s| {
            let a = match s.alert(AlertId(id)) {
                Ok(a) => a,
                Err(otwatch_store::StoreError::NotFound { .. }) => return Ok(Err("no alert was found for this UUID")),
                Err(e) => return Err(e.into()),
            };
            Ok(Ok(match (learn, a.status, a.disposition) {
                (false, _, Disposition::Learned) => "Alert was already handled and learned".to_string(),
                (false, Status::Closed, _) => "Alert was already handled".to_string(),
                (true, Status::Closed, Disposition::Learned) => "Alert was already handled and learned".to_string(),
                (true, _, _) => {
                    let r = s.apply(&[AlertId(id)], &Action::Learn, &actor, now)?;
                    match r.into_iter().next().map(|o| o.result) {
                        Some(Err(e)) => {
                            // Not learnable: handle (close) it instead, and say so.
                            s.apply(&[AlertId(id)], &Action::SetStatus(Status::Closed), &actor, now)?;
                            format!("Alert update request finished successfully (handled; not learned: {e})")
                        }
                        _ => "Alert update request finished successfully".into(),
                    }
                }
                (false, _, _) => {
                    s.apply(&[AlertId(id)], &Action::SetStatus(Status::Closed), &actor, now)?;
                    "Alert update request finished successfully".into()
                }
            }))
        })
        .await?;
    match msg {
        Ok(m) => Ok(axum::Json(json!({"content": m})).into_response()),
        Err(e) => {
            Ok((axum::http::StatusCode::INTERNAL_SERVER_ERROR, axum::Json(json!({"error": e})))
                .into_response())
        }
    }
}

/// GET /api/v2/alerts/pcap/{id} (sensor): the PCAP, or `{"error": "PCAP file is not available"}`.
pub async fn sensor_pcap(
    State(st): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let id = console_id(&id)?;
    let bytes = st.blocking(move |s| Ok(s.alert_pcap(AlertId(id)).ok().flatten())).await?;
    Ok(match bytes {
        Some(b) => ([(axum::http::header::CONTENT_TYPE, "application/vnd.tcpdump.pcap")], b)
            .into_response(),
        None => (
            axum::http::StatusCode::NOT_FOUND,
            axum::Json(json!({"error": "PCAP file is not available"})),
        )
            .into_response(),
    })
}

/// GET /external/v2/alerts/pcap/{id} (console): where to download the PCAP.
/// otwatch serves the PCAP itself, so the URL points here and the token is the caller's own.
pub async fn console_pcap(
    State(st): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let id = console_id(&id)?;
    let exists = st.blocking(move |s| Ok(s.alert(AlertId(id)).is_ok())).await?;
    if !exists {
        return Ok((
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            axum::Json(json!({"error": "alert not found"})),
        )
            .into_response());
    }
    Ok(axum::Json(json!({
        "id": id,
        "xsenseId": st.settings.sensor_name,
        "xsenseAlertId": id,
        "downloadUrl": format!("/api/v2/alerts/pcap/{id}"),
        "token": "use your own API token",
    }))
    .into_response())
}
