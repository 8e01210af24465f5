//! `/api/v1/devices`, `/api/v1/connections`, `/api/v1/events`, `/api/v1/sensors`.

use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use otwatch_model::DeviceType;
use otwatch_store::{ConnectionQuery, DeviceGroup, DeviceQuery, EventQuery};

use crate::api::json::Json;
use crate::api::params::{get, time_param};
use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

type Params = Query<Vec<(String, String)>>;

fn list(p: &[(String, String)], name: &str) -> Vec<String> {
    p.iter()
        .filter(|(k, _)| k == name)
        .flat_map(|(_, v)| v.split(','))
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

fn usize_param(p: &[(String, String)], name: &str) -> ApiResult<usize> {
    match get(p, name) {
        Some(v) => v.parse().map_err(|_| ApiError::field(name, format!("{v:?} is not a number"))),
        None => Ok(0),
    }
}

/// `limit`: a page size up to the store's largest page; 0 or absent = the default.
fn limit_param(p: &[(String, String)]) -> ApiResult<usize> {
    let limit = usize_param(p, "limit")?;
    if limit > otwatch_store::query::MAX_PAGE {
        return Err(ApiError::field(
            "limit",
            format!("at most {}", otwatch_store::query::MAX_PAGE),
        ));
    }
    Ok(limit)
}

fn bool_param(p: &[(String, String)], name: &str) -> ApiResult<Option<bool>> {
    match get(p, name) {
        None | Some("") => Ok(None),
        Some("true" | "1" | "yes") => Ok(Some(true)),
        Some("false" | "0" | "no") => Ok(Some(false)),
        Some(v) => Err(ApiError::field(name, format!("{v:?} is not true or false"))),
    }
}

/// Refuses a parameter the route does not document (a misspelt filter must
/// not silently widen the answer). The lists are the OpenAPI document's.
pub fn only_known(p: &[(String, String)], known: &[crate::api::Param]) -> ApiResult<()> {
    for (k, _) in p {
        if !known.iter().any(|q| q.name == k) {
            let names: Vec<&str> = known.iter().map(|q| q.name).collect();
            return Err(ApiError::field(
                k.clone(),
                format!("unknown parameter; use {}", names.join(", ")),
            ));
        }
    }
    Ok(())
}

/// Reads a device query.
pub fn device_query(p: &[(String, String)]) -> ApiResult<DeviceQuery> {
    only_known(p, crate::api::DEVICE_PARAMS)?;
    let types = list(p, "type");
    for t in &types {
        DeviceType::parse(t).map_err(|e| ApiError::field("type", e.to_string()))?;
    }
    let limit = limit_param(p)?;
    Ok(DeviceQuery {
        search: get(p, "q").map(String::from).filter(|s| !s.trim().is_empty()),
        device_types: types
            .iter()
            .filter_map(|t| DeviceType::parse(t).ok())
            .map(|t| t.as_str().to_string())
            .collect(),
        vendors: list(p, "vendor"),
        sites: list(p, "site"),
        zones: list(p, "zone"),
        is_ot: bool_param(p, "is_ot")?,
        protocol: get(p, "protocol").map(String::from).filter(|s| !s.is_empty()),
        limit,
        offset: usize_param(p, "offset")?,
    })
}

/// GET /api/v1/devices
pub async fn devices(State(st): State<AppState>, Query(p): Params) -> ApiResult<Response> {
    let q = device_query(&p)?;
    if let Some(g) = get(&p, "group_by") {
        let by = DeviceGroup::parse(g)?;
        let groups = st.blocking(move |s| Ok(s.group_devices(&q, by)?)).await?;
        return Ok(axum::Json(json!({"by": g, "groups": groups.iter().map(|x| json!({"value": x.value, "count": x.count})).collect::<Vec<_>>()})).into_response());
    }
    let (items, total) =
        st.blocking(move |s| Ok((s.list_devices(&q)?, s.count_devices(&q)?))).await?;
    Ok(axum::Json(json!({"items": items, "total": total})).into_response())
}

fn parse_id(text: &str, what: &str) -> ApiResult<i64> {
    id_param("id", text, what)
}

/// A positive id in parameter `name`; a bad one is an error naming `name`.
fn id_param(name: &str, text: &str, what: &str) -> ApiResult<i64> {
    text.parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| ApiError::field(name, format!("{text:?} is not a {what} id")))
}

/// GET /api/v1/devices/{id} — the device with its alerts, connections and events.
pub async fn device(State(st): State<AppState>, Path(id): Path<String>) -> ApiResult<Response> {
    let id = parse_id(&id, "device")?;
    let v = crate::service::device_view(&st, id, 200).await?;
    let out = json!({"device": v.device, "alerts": v.alerts, "connections": v.connections, "events": v.events});
    Ok(axum::Json(out).into_response())
}

/// Body of PATCH /api/v1/devices/{id}.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceBody {
    name: Option<String>,
    device_type: Option<String>,
    authorized: Option<bool>,
    programming_device: Option<bool>,
    scanner: Option<bool>,
    importance: Option<String>,
}

/// PATCH /api/v1/devices/{id}
pub async fn patch_device(
    State(st): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
    Json(b): Json<DeviceBody>,
) -> ApiResult<Response> {
    let id = parse_id(&id, "device")?;
    let edit = crate::service::DeviceEdit {
        name: b.name,
        device_type: b.device_type,
        authorized: b.authorized,
        programming_device: b.programming_device,
        scanner: b.scanner,
        importance: b.importance,
    };
    let (d, _changed) = crate::service::update_device(&st, who.actor(), id, edit).await?;
    Ok(axum::Json(d).into_response())
}

/// GET /api/v1/connections
pub async fn connections(State(st): State<AppState>, Query(p): Params) -> ApiResult<Response> {
    only_known(&p, crate::api::CONNECTION_PARAMS)?;
    let now = st.now();
    let q = ConnectionQuery {
        device_id: get(&p, "device_id").map(|v| id_param("device_id", v, "device")).transpose()?,
        address: get(&p, "address").map(String::from),
        protocols: list(&p, "protocol"),
        transport: get(&p, "transport").map(String::from),
        from: get(&p, "from").map(|v| time_param("from", v, now)).transpose()?,
        to: get(&p, "to").map(|v| time_param("to", v, now)).transpose()?,
        limit: limit_param(&p)?,
        offset: usize_param(&p, "offset")?,
    };
    let items = st.blocking(move |s| Ok(s.list_connections(&q)?)).await?;
    Ok(axum::Json(json!({"items": items})).into_response())
}

/// Reads an event query.
pub fn event_query(p: &[(String, String)], st: &AppState) -> ApiResult<EventQuery> {
    let now = st.now();
    Ok(EventQuery {
        device_id: get(p, "device_id").map(|v| id_param("device_id", v, "device")).transpose()?,
        alert_id: get(p, "alert_id").map(|v| id_param("alert_id", v, "alert")).transpose()?,
        event_types: list(p, "type"),
        from: get(p, "from")
            .filter(|v| !v.is_empty())
            .map(|v| time_param("from", v, now))
            .transpose()?,
        to: get(p, "to").filter(|v| !v.is_empty()).map(|v| time_param("to", v, now)).transpose()?,
        search: get(p, "q").map(String::from).filter(|s| !s.trim().is_empty()),
        limit: limit_param(p)?,
        before_id: get(p, "before").map(|v| id_param("before", v, "event")).transpose()?,
    })
}

/// GET /api/v1/events
pub async fn events(State(st): State<AppState>, Query(p): Params) -> ApiResult<Response> {
    only_known(&p, crate::api::EVENT_PARAMS)?;
    let q = event_query(&p, &st)?;
    let items = st.blocking(move |s| Ok(s.list_events(&q)?)).await?;
    let next = items.last().map(|e| e.id);
    Ok(axum::Json(json!({"items": items, "before": next})).into_response())
}

/// GET /api/v1/sensors
pub async fn sensors(State(st): State<AppState>) -> ApiResult<Response> {
    let items = st.blocking(|s| Ok(s.list_sensors()?)).await?;
    Ok(axum::Json(json!({"items": items})).into_response())
}
