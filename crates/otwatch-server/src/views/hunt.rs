//! The Hunting page: a KQL editor, the result grid, a chart when the query
//! ends in `render`, errors with their code and caret, saved queries per user,
//! CSV export, and example queries to start from.
//!
//! Queries run through `service::hunt` (the console's row and time limits,
//! its clock) over `crate::hunt::run`; cells are `crate::hunt::value_text`,
//! errors `crate::hunt::error_json`. Export hands the editor's text to the
//! API's own handler (`POST /api/v1/hunt` with `"format": "csv"`), so the
//! file is the API's file. Every role may hunt: queries are read-only. The
//! editor posts (a query can be long); `GET /hunt?q=…` runs a query from a
//! link (examples, bookmarks) and `?saved=ID` one of the user's saved queries.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde_json::json;

use otwatch_model::hunt::HUNT_TABLES;

use crate::error::ApiError;
use crate::service;
use crate::state::AppState;
use crate::views::chart::{self, Chart};
use crate::views::{Chrome, CsrfForm, Ctx, WebResult, When, count, href, redirect_flash};

/// Rows shown in the page's grid (the whole result is in the CSV export).
pub const GRID_ROWS: usize = 1_000;
/// Queries up to this long get a bookmarkable `/hunt?q=…` address after running.
pub const LINKABLE_QUERY: usize = 2_000;

/// Example queries: (title, query).
pub const EXAMPLES: &[(&str, &str)] = &[
    (
        "Open alerts by severity",
        "Alerts\n| where Status != \"Closed\"\n| summarize Alerts = count() by Severity\n| order by Alerts desc\n| render piechart",
    ),
    (
        "Alerts per hour, by severity",
        "Alerts\n| where Timestamp > ago(7d)\n| summarize Alerts = count() by bin(Timestamp, 1h), Severity\n| render timechart",
    ),
    (
        "Traffic by protocol",
        "Connections\n| summarize Packets = sum(Packets) by Protocol\n| order by Packets desc\n| render columnchart",
    ),
    (
        "Devices by vendor",
        "DeviceInfo\n| summarize Devices = count() by Vendor\n| order by Devices desc\n| render barchart",
    ),
    (
        "Who talks to the PLCs",
        "let plcs = DeviceInfo | where DeviceType == \"PLC\" | project DeviceId;\nConnections\n| where DstDeviceId in (plcs)\n| summarize PLCs = dcount(DstIp), Packets = sum(Packets) by SrcIp, Protocol\n| order by Packets desc",
    ),
    (
        "Programming and PLC stop events",
        "Events\n| where EventType in (\"PROGRAM_DEVICE\", \"PLC_STOP\", \"FIRMWARE_UPDATE\")\n| project Timestamp, EventType, Title, SrcIp, DstIp, Site\n| order by Timestamp desc",
    ),
    (
        "Unauthorized or new devices",
        "DeviceInfo\n| where not(Authorized) or FirstSeen > ago(1d)\n| project DeviceName, IpAddress, MacAddress, Vendor, DeviceType, Site, FirstSeen\n| order by FirstSeen desc",
    ),
];

/// A result column's header.
#[derive(Clone, Debug)]
pub struct ColHead {
    name: String,
    ty: &'static str,
    num: bool,
}

/// A result cell.
#[derive(Clone, Debug)]
pub struct CellView {
    text: String,
    /// RFC 3339 for datetimes (the script shows them in local time).
    iso: String,
    class: &'static str,
}

/// The error of the last run.
#[derive(Clone, Debug)]
pub struct ErrorView {
    code: String,
    message: String,
    hint: String,
    line: u64,
    column: u64,
    /// The query line with the caret under the error.
    caret: String,
    /// Characters the caret covers.
    width: usize,
}

/// A saved query of the user.
#[derive(Clone, Debug)]
pub struct SavedRow {
    id: i64,
    name: String,
    query: String,
    href: String,
    updated: When,
    current: bool,
}

/// An example query.
#[derive(Clone, Debug)]
pub struct ExampleRow {
    title: &'static str,
    query: &'static str,
    href: String,
}

/// A table of the schema panel.
#[derive(Clone, Debug)]
pub struct TableDoc {
    name: &'static str,
    aliases: String,
    columns: Vec<(&'static str, &'static str, &'static str)>,
}

#[derive(Template)]
#[template(path = "hunt.html")]
struct HuntPage {
    chrome: Chrome,
    query: String,
    /// Editor height in lines (the query's, within bounds).
    rows_shown: usize,
    save_name: String,
    ran: bool,
    message: String,
    error: Option<ErrorView>,
    columns: Vec<ColHead>,
    rows: Vec<Vec<CellView>>,
    row_count: String,
    shown_note: String,
    truncated: bool,
    row_limit: String,
    elapsed: String,
    render: String,
    chart: Chart,
    link: String,
    saved: Vec<SavedRow>,
    examples: Vec<ExampleRow>,
    tables: Vec<TableDoc>,
}

fn base_page(ctx: &Ctx, query: String) -> HuntPage {
    HuntPage {
        chrome: ctx.chrome("hunt", "Hunting"),
        rows_shown: 0,
        query,
        save_name: String::new(),
        ran: false,
        message: String::new(),
        error: None,
        columns: vec![],
        rows: vec![],
        row_count: String::new(),
        shown_note: String::new(),
        truncated: false,
        row_limit: String::new(),
        elapsed: String::new(),
        render: String::new(),
        chart: Chart::default(),
        link: String::new(),
        saved: vec![],
        examples: EXAMPLES
            .iter()
            .map(|(title, query)| ExampleRow {
                title,
                query,
                href: href("/hunt", &[("q", *query)]),
            })
            .collect(),
        tables: HUNT_TABLES
            .iter()
            .map(|t| TableDoc {
                name: t.name,
                aliases: t.aliases.join(", "),
                columns: t.columns.iter().map(|(n, ty, d)| (*n, ty.name(), *d)).collect(),
            })
            .collect(),
    }
}

/// Renders the page, sizing the editor to the query (4 to 16 lines).
fn show(ctx: &Ctx, mut page: HuntPage) -> axum::response::Response {
    page.rows_shown = (page.query.lines().count() + 1).clamp(4, 16);
    ctx.render(&page)
}

fn cell(v: &otwatch_query::Value) -> CellView {
    use otwatch_query::Value as V;
    let text = crate::hunt::value_text(v);
    match v {
        V::DateTime(us) => {
            CellView { iso: otwatch_model::Timestamp(*us).to_rfc3339(), text, class: "time" }
        }
        V::Long(_) | V::Real(_) | V::TimeSpan(_) => {
            CellView { text, iso: String::new(), class: "num" }
        }
        V::Null => CellView { text, iso: String::new(), class: "null" },
        V::Dynamic(_) => CellView { text, iso: String::new(), class: "mono clip" },
        _ => CellView { text, iso: String::new(), class: "" },
    }
}

fn error_view(e: &otwatch_query::QueryError, text: &str) -> ErrorView {
    let j = crate::hunt::error_json(e, text);
    let caret_full = j["caret"].as_str().unwrap_or("");
    // The rendered error repeats the message and the hint, shown beside it on the page: keep
    // the source line and the caret.
    let caret: Vec<&str> =
        caret_full.lines().skip(1).filter(|l| !l.trim_start().starts_with("= hint:")).collect();
    let width = caret.iter().map(|l| l.matches('^').count()).max().unwrap_or(1).max(1);
    ErrorView {
        code: j["code"].as_str().unwrap_or("").to_string(),
        message: j["message"].as_str().unwrap_or("").to_string(),
        hint: j["hint"].as_str().unwrap_or("").to_string(),
        line: j["line"].as_u64().unwrap_or(1),
        column: j["column"].as_u64().unwrap_or(1),
        caret: caret.join("\n"),
        width,
    }
}

/// Fills the page with the outcome of running `page.query`.
async fn run_into(st: &AppState, page: &mut HuntPage) -> Result<(), ApiError> {
    let text = page.query.clone();
    if text.trim().is_empty() {
        page.message = "Write a query first, e.g. Alerts | take 10.".into();
        return Ok(());
    }
    let out = service::hunt(st, text.clone(), None).await?;
    page.ran = true;
    page.elapsed = if out.elapsed_ms < 10.0 {
        format!("{:.1} ms", out.elapsed_ms)
    } else {
        format!("{} ms", count(out.elapsed_ms.round() as u64))
    };
    if text.len() <= LINKABLE_QUERY {
        page.link = href("/hunt", &[("q", text.as_str())]);
    }
    match out.result {
        Ok(r) => {
            page.columns = r
                .columns
                .iter()
                .map(|c| ColHead {
                    name: c.name.clone(),
                    ty: c.ty.name(),
                    num: matches!(
                        c.ty,
                        otwatch_query::Type::Int
                            | otwatch_query::Type::Long
                            | otwatch_query::Type::Real
                            | otwatch_query::Type::TimeSpan
                    ),
                })
                .collect();
            page.rows =
                r.rows.iter().take(GRID_ROWS).map(|row| row.iter().map(cell).collect()).collect();
            page.row_count = count(r.rows.len() as u64);
            if r.rows.len() > GRID_ROWS {
                page.shown_note = format!(
                    "The grid shows the first {} rows; Export CSV has all {}.",
                    count(GRID_ROWS as u64),
                    count(r.rows.len() as u64)
                );
            }
            page.truncated = r.truncated;
            page.row_limit = count(st.settings.hunt_row_limit as u64);
            if let Some(kind) = &r.render {
                page.render = kind.clone();
                page.chart = chart::draw(kind, &r);
            }
        }
        Err(e) => page.error = Some(error_view(&e, &text)),
    }
    Ok(())
}

async fn with_saved(
    st: &AppState,
    ctx: &Ctx,
    page: &mut HuntPage,
    current: Option<i64>,
) -> Result<(), ApiError> {
    let owner = ctx.who.name.clone();
    let saved = st.blocking(move |s| Ok(s.saved_queries(&owner)?)).await?;
    if let Some(id) = current
        && let Some(q) = saved.iter().find(|q| q.id == id)
    {
        page.save_name = q.name.clone();
    }
    page.saved = saved
        .into_iter()
        .map(|q| SavedRow {
            href: format!("/hunt?saved={}", q.id),
            current: Some(q.id) == current,
            id: q.id,
            name: q.name,
            query: q.query,
            updated: When::of(q.updated_at),
        })
        .collect();
    Ok(())
}

/// GET /hunt — the editor; `?q=` runs a query, `?saved=ID` loads and runs a saved one.
pub async fn page(
    State(st): State<AppState>,
    ctx: Ctx,
    Query(p): Query<Vec<(String, String)>>,
) -> WebResult {
    let get = |k: &str| p.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let mut current = None;
    let mut query = get("q").unwrap_or("").to_string();
    let mut page = base_page(&ctx, String::new());
    if let Some(id) = get("saved") {
        let id: i64 = id
            .parse()
            .map_err(|_| ApiError::field("saved", format!("{id:?} is not a saved query id")))?;
        let owner = ctx.who.name.clone();
        let found = st
            .blocking(move |s| Ok(s.saved_queries(&owner)?.into_iter().find(|q| q.id == id)))
            .await?;
        match found {
            Some(q) => {
                query = q.query;
                current = Some(id);
            }
            None => return Ok(redirect_flash("/hunt", "That saved query no longer exists.", true)),
        }
    }
    if query.is_empty() && current.is_none() {
        page.query = EXAMPLES.first().map(|e| e.1.to_string()).unwrap_or_default();
    } else {
        page.query = query;
        run_into(&st, &mut page).await?;
    }
    with_saved(&st, &ctx, &mut page, current).await?;
    Ok(show(&ctx, page))
}

/// POST /hunt — runs the editor's query.
pub async fn run(State(st): State<AppState>, ctx: Ctx, f: CsrfForm) -> WebResult {
    let mut page = base_page(&ctx, f.get("q").unwrap_or("").to_string());
    page.save_name = f.get("name").unwrap_or("").trim().to_string();
    run_into(&st, &mut page).await?;
    with_saved(&st, &ctx, &mut page, None).await?;
    Ok(show(&ctx, page))
}

/// POST /hunt/export — the editor's query as CSV, from the API's own handler.
pub async fn export(State(st): State<AppState>, ctx: Ctx, f: CsrfForm) -> WebResult {
    let q = f.get("q").unwrap_or("").to_string();
    if q.trim().is_empty() {
        return Ok(redirect_flash("/hunt", "Write a query first, then export its result.", true));
    }
    let body: crate::api::hunt::HuntBody =
        serde_json::from_value(json!({"query": q, "format": "csv"}))
            .map_err(|e| ApiError::bad(e.to_string()))?;
    let resp = crate::api::hunt::hunt(State(st.clone()), crate::api::json::Json(body)).await?;
    if resp.status().is_success() {
        return Ok(resp);
    }
    // The query failed: show the page with the error instead of the API's JSON.
    let mut page = base_page(&ctx, q);
    page.save_name = f.get("name").unwrap_or("").trim().to_string();
    run_into(&st, &mut page).await?;
    with_saved(&st, &ctx, &mut page, None).await?;
    Ok(show(&ctx, page))
}

/// POST /hunt/queries — saves the editor's query under a name (replacing one of that name).
pub async fn save(State(st): State<AppState>, ctx: Ctx, f: CsrfForm) -> WebResult {
    let q = f.get("q").unwrap_or("").to_string();
    let name = f.nonblank("name").unwrap_or("").to_string();
    if name.is_empty() || q.trim().is_empty() {
        let mut page = base_page(&ctx, q);
        page.message = "To save a query, write it and give it a name.".into();
        with_saved(&st, &ctx, &mut page, None).await?;
        return Ok((StatusCode::BAD_REQUEST, show(&ctx, page)).into_response());
    }
    if let Err(e) = otwatch_query::compile(&q, st.now().0) {
        let mut page = base_page(&ctx, q.clone());
        page.save_name = name;
        page.ran = true;
        page.message = "The query was not saved: it has an error.".into();
        page.error = Some(error_view(&e, &q));
        with_saved(&st, &ctx, &mut page, None).await?;
        return Ok((StatusCode::BAD_REQUEST, show(&ctx, page)).into_response());
    }
    let owner = ctx.who.name.clone();
    let now = st.now();
    let n = name.clone();
    match st.blocking(move |s| Ok(s.save_query(&owner, &n, &q, now)?)).await {
        Ok(saved) => Ok(redirect_flash(
            &format!("/hunt?saved={}", saved.id),
            &format!("Query “{name}” saved."),
            false,
        )),
        Err(e @ ApiError::BadRequest { .. }) => Ok(redirect_flash("/hunt", &e.to_string(), true)),
        Err(e) => Err(e.into()),
    }
}

/// POST /hunt/queries/{id}/delete — deletes one of the user's saved queries.
pub async fn delete(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    _f: CsrfForm,
) -> WebResult {
    let id: i64 =
        id.parse().map_err(|_| ApiError::field("id", format!("{id:?} is not a query id")))?;
    let owner = ctx.who.name.clone();
    match st.blocking(move |s| Ok(s.delete_query(&owner, id)?)).await {
        Ok(()) => Ok(redirect_flash("/hunt", "Saved query deleted.", false)),
        Err(e @ (ApiError::NotFound(_) | ApiError::BadRequest { .. })) => {
            Ok(redirect_flash("/hunt", &e.to_string(), true))
        }
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn examples_are_valid_queries() {
        for (title, q) in EXAMPLES {
            if let Err(e) = otwatch_query::compile(q, 0) {
                panic!("example {title:?}: {}", e.render(q));
            }
        }
    }
}
