//! The event timeline page: alerts raised, triage, network and user events, newest first.
//!
//! Filters are the API's (`api::inventory::event_query`): type, free text,
//! time range (a preset or a custom from/to), device and alert; paging goes
//! backwards by event id.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::IntoResponse;

use crate::api::inventory::event_query;
use crate::state::AppState;
use crate::views::alerts::{EventRow, event_rows};
use crate::views::{Chrome, Ctx, TimeRange, WebResult, href, normalize_range, time_range};

/// Events per page.
pub const PAGE_EVENTS: usize = 100;

#[derive(Template)]
#[template(path = "events.html")]
struct EventsPage {
    chrome: Chrome,
    error: String,
    events: Vec<EventRow>,
    q: String,
    kind: String,
    time: TimeRange,
    hidden: Vec<(String, String)>,
    older_href: String,
    newest_href: String,
}

/// GET /events
pub async fn page(
    State(st): State<AppState>,
    ctx: Ctx,
    Query(p): Query<Vec<(String, String)>>,
) -> WebResult {
    if let Some(pairs) = normalize_range(&p) {
        return Ok(axum::response::Redirect::to(&href("/events", &pairs)).into_response());
    }
    let pairs: Vec<(String, String)> = p
        .iter()
        .filter(|(k, v)| !v.trim().is_empty() && k != "limit")
        .map(|(k, v)| (k.clone(), v.trim().to_string()))
        .collect();
    let get = |name: &str| {
        pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default()
    };
    let mut api = pairs.clone();
    api.push(("limit".into(), PAGE_EVENTS.to_string()));
    let (events, error) = match event_query(&api, &st) {
        Ok(q) => (st.blocking(move |s| Ok(s.list_events(&q)?)).await?, String::new()),
        Err(e) => (vec![], e.to_string()),
    };
    let base: Vec<(String, String)> =
        pairs.iter().filter(|(k, _)| k != "before").cloned().collect();
    let older_href = match events.last() {
        Some(e) if events.len() >= PAGE_EVENTS => {
            let mut v = base.clone();
            v.push(("before".into(), e.id.to_string()));
            href("/events", &v)
        }
        _ => String::new(),
    };
    let page = EventsPage {
        chrome: ctx.chrome("events", "Event timeline"),
        error,
        events: event_rows(&events),
        q: get("q"),
        kind: get("type"),
        time: time_range(&get("from"), &get("to"), st.now()),
        hidden: pairs
            .iter()
            .filter(|(k, _)| !matches!(k.as_str(), "q" | "type" | "from" | "to" | "before"))
            .cloned()
            .collect(),
        older_href,
        newest_href: if pairs.iter().any(|(k, _)| k == "before") {
            href("/events", &base)
        } else {
            String::new()
        },
    };
    Ok(ctx.render(&page))
}
