//! `/api/v1/hunt`: run KQL over Alerts, Devices, Connections and Events; saved queries per user.

use axum::Extension;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use crate::api::json::Json;
use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Body of POST /api/v1/hunt.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HuntBody {
    /// The KQL text.
    query: String,
    /// Most rows (capped by hunt.row_limit).
    limit: Option<usize>,
    /// json (default) or csv.
    format: Option<String>,
}

/// POST /api/v1/hunt
pub async fn hunt(State(st): State<AppState>, Json(b): Json<HuntBody>) -> ApiResult<Response> {
    let csv = match b.format.as_deref() {
        None | Some("json") => false,
        Some("csv") => true,
        Some(f) => return Err(ApiError::field("format", format!("{f:?} is not json or csv"))),
    };
    if b.query.trim().is_empty() {
        return Err(ApiError::field("query", "write a query, e.g. Alerts | take 10"));
    }
    let crate::service::HuntOutcome { result: outcome, elapsed_ms: elapsed } =
        crate::service::hunt(&st, b.query.clone(), b.limit).await?;
    match outcome {
        Ok(r) if csv => {
            let mut out = Vec::new();
            let header: Vec<String> = r.columns.iter().map(|c| c.name.clone()).collect();
            crate::api::alerts::csv_line(&header, &mut out);
            for row in &r.rows {
                let cells: Vec<String> = row
                    .iter()
                    .map(|v| {
                        otwatch_model::spreadsheet_safe(&crate::hunt::value_text(v)).into_owned()
                    })
                    .collect();
                crate::api::alerts::csv_line(&cells, &mut out);
            }
            Ok((
                [
                    (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                    (
                        header::CONTENT_DISPOSITION,
                        "attachment; filename=\"otwatch-hunt.csv\"".to_string(),
                    ),
                ],
                out,
            )
                .into_response())
        }
        Ok(r) => {
            let mut v = crate::hunt::result_json(&r);
            v["elapsed_ms"] = json!(elapsed);
            Ok(axum::Json(v).into_response())
        }
        Err(e) => {
            let status = match e.code {
                otwatch_query::Code::TimeLimit => StatusCode::SERVICE_UNAVAILABLE,
                _ => StatusCode::BAD_REQUEST,
            };
            Ok((status, axum::Json(json!({"error": crate::hunt::error_json(&e, &b.query)})))
                .into_response())
        }
    }
}

/// GET /api/v1/hunt/queries — the caller's saved queries.
pub async fn saved(
    State(st): State<AppState>,
    Extension(who): Extension<Principal>,
) -> ApiResult<Response> {
    let owner = who.name.clone();
    let items = st.blocking(move |s| Ok(s.saved_queries(&owner)?)).await?;
    Ok(axum::Json(json!({"items": items.iter().map(|q| json!({"id": q.id, "name": q.name, "query": q.query, "updated_at": q.updated_at})).collect::<Vec<_>>()})).into_response())
}

/// Body of POST /api/v1/hunt/queries.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SaveBody {
    name: String,
    query: String,
}

/// POST /api/v1/hunt/queries — save (or replace by name) a query.
pub async fn save(
    State(st): State<AppState>,
    Extension(who): Extension<Principal>,
    Json(b): Json<SaveBody>,
) -> ApiResult<Response> {
    if let Err(e) = otwatch_query::compile(&b.query, st.now().0) {
        return Ok((
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"error": crate::hunt::error_json(&e, &b.query)})),
        )
            .into_response());
    }
    let owner = who.name.clone();
    let now = st.now();
    let q = st.blocking(move |s| Ok(s.save_query(&owner, &b.name, &b.query, now)?)).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(
            json!({"id": q.id, "name": q.name, "query": q.query, "updated_at": q.updated_at}),
        ),
    )
        .into_response())
}

/// DELETE /api/v1/hunt/queries/{id}
pub async fn delete(
    State(st): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let id: i64 =
        id.parse().map_err(|_| ApiError::field("id", format!("{id:?} is not a query id")))?;
    let owner = who.name.clone();
    st.blocking(move |s| Ok(s.delete_query(&owner, id)?)).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
