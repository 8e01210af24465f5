//! The Alerts grid, the alert side pane and the alert details page, with triage forms.
//!
//! The grid's URL is the view: the API's own parameters (column filters, `q`,
//! `from`/`to`, `sort`, `after`) read by `api::params::alert_query`, plus a few
//! that only the page knows (`group`, `cols`, `facet`, `page`). Triage goes
//! through `service` exactly as the API's does; this module formats values
//! for the templates and never decides anything about alerts itself.

use std::collections::BTreeSet;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::IntoResponse;

use otwatch_model::{Alert, AlertField, AlertId, Disposition, EventSeverity, Severity, Status};
use otwatch_store::{AlertQuery, GroupCount};

use crate::api::params::{RESERVED, alert_query};
use crate::error::{ApiError, ApiResult};
use crate::service::{self, BulkTarget};
use crate::state::AppState;
use crate::views::map::{self, MapEdge, MapNode};
use crate::views::{
    Chrome, CsrfForm, Ctx, Link, Opt, TimeRange, WebResult, When, count, href, normalize_range,
    options, qs, redirect_flash, render, render_str, safe_return, severity_class, status_class,
    time_range,
};

/// Parameters only the page reads (never passed to the alert query).
const VIEW_ONLY: &[&str] = &["group", "cols", "facet", "page", "partial"];
/// The user preference (`Store::user_pref`) holding the grid's columns, comma-separated keys.
pub const COLUMNS_PREF: &str = "alerts.columns";
/// The cookie that held the columns before they were kept in the store (cleared when saving).
const OLD_COLUMNS_COOKIE: &str = "otwatch_cols";
/// Columns the grid can group by.
pub const GROUPS: &[AlertField] = &[
    AlertField::Engine,
    AlertField::Name,
    AlertField::Sensor,
    AlertField::Severity,
    AlertField::Site,
    AlertField::Status,
    AlertField::Zone,
    AlertField::Category,
    AlertField::Protocol,
];
/// Rows per grid page.
pub const PAGE_ROWS: usize = 50;

type Params = Query<Vec<(String, String)>>;

/// The grid's view, read from the URL.
#[derive(Clone, Debug)]
struct View {
    /// Every non-empty parameter except paging and `partial`, in order.
    pairs: Vec<(String, String)>,
    /// The parameters of the alert query (view-only ones removed).
    api: Vec<(String, String)>,
    group: Option<AlertField>,
    facet: Option<AlertField>,
    cols: Vec<AlertField>,
    page: u64,
    after: Option<String>,
}

fn parse_cols(text: &str) -> Vec<AlertField> {
    let mut out = Vec::new();
    for k in text.split([',', '.']).map(str::trim).filter(|s| !s.is_empty()) {
        if let Ok(f) = AlertField::parse(k)
            && !out.contains(&f)
        {
            out.push(f);
        }
    }
    out
}

/// The columns the user saved, if any (read only when the URL names none).
async fn saved_cols(
    st: &AppState,
    ctx: &Ctx,
    p: &[(String, String)],
) -> ApiResult<Option<Vec<AlertField>>> {
    if p.iter().any(|(k, v)| k == "cols" && !parse_cols(v).is_empty()) {
        return Ok(None);
    }
    let owner = ctx.who.name.clone();
    let v = st.blocking(move |s| Ok(s.user_pref(&owner, COLUMNS_PREF)?)).await?;
    let cols = v.map(|t| parse_cols(&t)).unwrap_or_default();
    Ok(if cols.is_empty() { None } else { Some(cols) })
}

impl View {
    fn read(p: &[(String, String)], saved: Option<Vec<AlertField>>) -> View {
        let mut pairs = Vec::new();
        let mut cols_text = Vec::new();
        let mut page = 1;
        let mut after = None;
        for (k, v) in p {
            let v = v.trim();
            if v.is_empty() || k == "partial" {
                continue;
            }
            match k.as_str() {
                "page" => page = v.parse::<u64>().unwrap_or(1).max(1),
                "after" => after = Some(v.to_string()),
                "cols" => cols_text.push(v.to_string()),
                "limit" => {}
                _ => pairs.push((k.clone(), v.to_string())),
            }
        }
        let mut cols = parse_cols(&cols_text.join(","));
        if !cols.is_empty() {
            pairs.push(("cols".into(), cols.iter().map(|c| c.key()).collect::<Vec<_>>().join(",")));
        } else {
            cols = saved.unwrap_or_else(|| AlertField::DEFAULT_COLUMNS.to_vec());
        }
        let find = |name: &str| {
            pairs.iter().find(|(k, _)| k == name).and_then(|(_, v)| AlertField::parse(v).ok())
        };
        let group = find("group").filter(|f| GROUPS.contains(f));
        let facet = find("facet").filter(|f| f.groupable());
        let api = pairs.iter().filter(|(k, _)| !VIEW_ONLY.contains(&k.as_str())).cloned().collect();
        View { pairs, api, group, facet, cols, page, after }
    }

    /// The alert query of this view (one page of `limit` rows).
    fn query(&self, st: &AppState, limit: usize) -> ApiResult<AlertQuery> {
        let mut p = self.api.clone();
        p.push(("limit".into(), limit.to_string()));
        if let Some(a) = &self.after {
            p.push(("after".into(), a.clone()));
        }
        alert_query(&p, st.now())
    }

    fn get(&self, name: &str) -> &str {
        self.pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).unwrap_or("")
    }

    /// The view's pairs with `name` set to `value` (or removed when empty).
    fn with(&self, name: &str, value: &str) -> Vec<(String, String)> {
        let mut v: Vec<(String, String)> =
            self.pairs.iter().filter(|(k, _)| k != name).cloned().collect();
        if !value.is_empty() {
            v.push((name.into(), value.into()));
        }
        v
    }

    fn without(&self, drop: impl Fn(&str, &str) -> bool) -> Vec<(String, String)> {
        self.pairs.iter().filter(|(k, v)| !drop(k, v)).cloned().collect()
    }
}

/// One grid cell, formatted.
#[derive(Clone, Debug, Default)]
pub struct Cell {
    text: String,
    iso: String,
    href: String,
    pane: String,
    badge: String,
    class: &'static str,
    title: String,
}

/// One grid row.
#[derive(Clone, Debug)]
pub struct Row {
    id: i64,
    name: String,
    cells: Vec<Cell>,
}

/// A column header with its sort link.
#[derive(Clone, Debug)]
pub struct Head {
    label: &'static str,
    key: &'static str,
    sort_href: String,
    aria_sort: &'static str,
    sortable: bool,
}

fn cell(a: &Alert, f: AlertField) -> Cell {
    let mut c = Cell { text: a.field_text(f), ..Cell::default() };
    match f {
        AlertField::Severity => c.badge = severity_class(a.severity).into(),
        AlertField::Status => {
            c.badge = status_class(a.status).into();
            if a.disposition != Disposition::None {
                c.text = format!("{} · {}", a.status, a.disposition);
            }
        }
        AlertField::Name => {
            c.href = format!("/alerts/{}", a.id);
            c.pane = format!("/alerts/{}/pane", a.id);
            c.class = "name";
        }
        AlertField::FirstDetection | AlertField::LastDetection | AlertField::LastActivity => {
            let t = match f {
                AlertField::FirstDetection => a.first_detection,
                AlertField::LastDetection => a.last_detection,
                _ => a.last_activity,
            };
            let w = When::of(t);
            c.iso = w.iso;
            c.text = w.text;
            c.class = "time";
        }
        AlertField::SourceName | AlertField::SourceIp => {
            if let Some(d) = a.source.device_id {
                c.href = format!("/devices/{d}");
            }
        }
        AlertField::DestinationName | AlertField::DestinationIp => {
            if let Some(d) = a.destination.device_id {
                c.href = format!("/devices/{d}");
            }
        }
        AlertField::Id | AlertField::OccurrenceCount => c.class = "num",
        AlertField::Tactics | AlertField::Techniques | AlertField::Description => {
            c.class = "clip";
            c.title = c.text.clone();
        }
        _ => {}
    }
    c
}

fn rows(items: &[Alert], cols: &[AlertField]) -> Vec<Row> {
    items
        .iter()
        .map(|a| Row {
            id: a.id.0,
            name: a.name.clone(),
            cells: cols.iter().map(|f| cell(a, *f)).collect(),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "alerts_rows_partial.html")]
struct RowsPartial<'a> {
    rows: &'a [Row],
    ncols: usize,
    total: u64,
    can_triage: bool,
}

/// A filter shown as a removable pill.
#[derive(Clone, Debug)]
pub struct Pill {
    pub(crate) label: String,
    pub(crate) remove: String,
}

/// A value of the "Add filter" menu.
#[derive(Clone, Debug)]
pub struct FacetValue {
    pub(crate) value: String,
    pub(crate) label: String,
    pub(crate) count: String,
    pub(crate) checked: bool,
}

/// A group of the grouped grid.
#[derive(Clone, Debug)]
pub struct GroupRow {
    label: String,
    count: String,
    href: String,
    rows_href: String,
    badge: String,
}

/// A checkbox of the "Edit columns" panel.
#[derive(Clone, Debug)]
pub struct ColChoice {
    key: &'static str,
    label: &'static str,
    checked: bool,
}

#[derive(Template)]
#[template(path = "alerts.html")]
struct AlertsPage {
    chrome: Chrome,
    error: String,
    total: String,
    heads: Vec<Head>,
    rows_html: String,
    ncols: usize,
    q: String,
    time: TimeRange,
    group_opts: Vec<Opt>,
    hidden: Vec<(String, String)>,
    pills: Vec<Pill>,
    clear_href: String,
    facet_opts: Vec<Opt>,
    facet_hidden: Vec<(String, String)>,
    facet_key: String,
    facet_label: String,
    facet_values: Vec<FacetValue>,
    facet_open: bool,
    groups: Vec<GroupRow>,
    grouped: bool,
    group_label: String,
    col_choices: Vec<ColChoice>,
    view_pairs: Vec<(String, String)>,
    view_url: String,
    export_href: String,
    first_href: String,
    next_href: String,
    range: String,
    page: u64,
    statuses: Vec<Opt>,
    severities: Vec<Opt>,
}

fn filter_label(key: &str, value: &str) -> Option<String> {
    let (field, op) = match key.rsplit_once("__") {
        Some((f, op)) => (f, op),
        None => (key, "in"),
    };
    let f = AlertField::parse(field).ok()?;
    let op = match op {
        "not" => "is not",
        "contains" => "contains",
        "gte" => "≥",
        "lte" => "≤",
        _ => "is",
    };
    Some(format!("{} {op} {}", f.label(), value.replace(',', ", ")))
}

fn sort_head(v: &View, f: AlertField) -> Head {
    let current = v.get("sort");
    let current = if current.is_empty() { "-last_detection" } else { current };
    let (cur_field, cur_desc) = match current.strip_prefix('-') {
        Some(k) => (AlertField::parse(k).ok(), true),
        None => (AlertField::parse(current).ok(), false),
    };
    let sortable = f.sortable();
    let on = cur_field == Some(f);
    let desc_first = matches!(
        f,
        AlertField::Severity
            | AlertField::FirstDetection
            | AlertField::LastDetection
            | AlertField::LastActivity
            | AlertField::OccurrenceCount
            | AlertField::Id
    );
    let next = if on { !cur_desc } else { desc_first };
    let value = if next { format!("-{}", f.key()) } else { f.key().to_string() };
    let mut pairs = v.with("sort", &value);
    pairs.retain(|(k, _)| k != "after" && k != "page");
    Head {
        label: f.label(),
        key: f.key(),
        sort_href: href("/alerts", &pairs),
        aria_sort: match (on, cur_desc) {
            (false, _) => "none",
            (true, true) => "descending",
            (true, false) => "ascending",
        },
        sortable,
    }
}

struct Loaded {
    items: Vec<Alert>,
    next: Option<String>,
    total: u64,
    total_more: bool,
    groups: Vec<GroupCount>,
    facet: Vec<GroupCount>,
}

/// Matching alerts are counted up to this many (the page then says
/// "10,000+"; the API's `total=true` counts exactly). At 100,000, counting
/// a two-column filter over 1,000,000 alerts was most of the page's time:
/// severity=Critical & site=Plant B 180 ms p50, 24 ms at 10,000
/// (`cargo bench -p otwatch-server --bench pages`, same machine and hour).
const TOTAL_CAP: u64 = 10_000;

fn total_text(l: &Loaded) -> String {
    if l.total_more { format!("{}+", count(l.total)) } else { count(l.total) }
}

async fn load(
    st: &AppState,
    q: AlertQuery,
    group: Option<AlertField>,
    facet: Option<AlertField>,
) -> ApiResult<Loaded> {
    st.blocking(move |s| {
        let (items, next) = if group.is_none() {
            let page = s.list_alerts(&q)?;
            (page.items, page.next.map(|c| c.encode()))
        } else {
            (vec![], None)
        };
        // Counting stops at a cap so huge stores answer fast ("10,000+").
        let (total, total_more) = s.count_alerts_up_to(&q, TOTAL_CAP)?;
        let groups = match group {
            Some(g) => s.group_alerts(&q, g)?,
            None => vec![],
        };
        let facet = match facet {
            Some(f) => {
                let mut q2 = q;
                q2.filters.retain(|x| x.field != f);
                q2.after = None;
                s.group_alerts(&q2, f)?
            }
            None => vec![],
        };
        Ok(Loaded { items, next, total, total_more, groups, facet })
    })
    .await
}

/// GET /alerts — the grid (or, for the page's script, just its rows).
pub async fn grid(State(st): State<AppState>, ctx: Ctx, Query(p): Params) -> WebResult {
    if let Some(pairs) = normalize_range(&p) {
        return Ok(axum::response::Redirect::to(&href("/alerts", &pairs)).into_response());
    }
    let v = View::read(&p, saved_cols(&st, &ctx, &p).await?);
    let can_triage = ctx.who.role >= otwatch_model::Role::Analyst;
    let (loaded, error) = match v.query(&st, PAGE_ROWS) {
        Ok(q) => {
            let group = if ctx.partial { None } else { v.group };
            let facet = if ctx.partial { None } else { v.facet };
            match load(&st, q, group, facet).await {
                Ok(l) => (l, String::new()),
                Err(e @ ApiError::BadRequest { .. }) => (empty(), e.to_string()),
                Err(e) => return Err(e.into()),
            }
        }
        Err(e) => (empty(), e.to_string()),
    };
    let rows = rows(&loaded.items, &v.cols);
    let rows_html = render_str(&RowsPartial {
        rows: &rows,
        ncols: v.cols.len() + 1,
        total: loaded.total,
        can_triage,
    });
    if ctx.partial {
        return Ok(([(header::CACHE_CONTROL, "no-store")], axum::response::Html(rows_html))
            .into_response());
    }
    let heads = v.cols.iter().map(|f| sort_head(&v, *f)).collect();
    let hidden = v.without(|k, _| matches!(k, "q" | "from" | "to" | "group"));
    let pills = v
        .pairs
        .iter()
        .filter(|(k, _)| !RESERVED.contains(&k.as_str()) && !VIEW_ONLY.contains(&k.as_str()))
        .filter_map(|(k, val)| {
            let label = filter_label(k, val)?;
            let rest = v.without(|k2, v2| (k2 == k && v2 == val) || k2 == "facet");
            Some(Pill { label, remove: href("/alerts", &rest) })
        })
        .collect();
    let clear = v.without(|k, _| {
        !(matches!(k, "group" | "cols" | "sort")
            || (RESERVED.contains(&k) && k != "q" && k != "from" && k != "to"))
    });
    let group_opts = {
        let mut o = vec![Opt {
            value: String::new(),
            label: "No grouping".into(),
            selected: v.group.is_none(),
        }];
        o.extend(GROUPS.iter().map(|f| Opt {
            value: f.key().into(),
            label: f.label().into(),
            selected: v.group == Some(*f),
        }));
        o
    };
    let facet_opts = AlertField::ALL
        .iter()
        .filter(|f| f.groupable())
        .map(|f| Opt {
            value: f.key().into(),
            label: f.label().into(),
            selected: v.facet == Some(*f),
        })
        .collect();
    let (facet_key, facet_label, facet_values, facet_hidden) = match v.facet {
        Some(f) => {
            let chosen: BTreeSet<String> = v
                .pairs
                .iter()
                .filter(|(k, _)| AlertField::parse(k).ok() == Some(f))
                .flat_map(|(_, val)| val.split(',').map(|s| s.trim().to_string()))
                .collect();
            let values = loaded
                .facet
                .iter()
                .filter(|g| !g.value.is_empty())
                .take(200)
                .map(|g| FacetValue {
                    value: g.value.clone(),
                    label: g.value.clone(),
                    count: count(g.count),
                    checked: chosen.contains(&g.value),
                })
                .collect();
            let hidden = v.without(|k, _| {
                AlertField::parse(k).ok() == Some(f) || matches!(k, "facet" | "after" | "page")
            });
            (f.key().to_string(), f.label().to_string(), values, hidden)
        }
        None => (String::new(), String::new(), vec![], vec![]),
    };
    let groups = match v.group {
        Some(g) => loaded
            .groups
            .iter()
            .map(|gc| {
                let mut pairs = v.without(|k, _| matches!(k, "group" | "facet"));
                let label =
                    if gc.value.is_empty() { "(none)".to_string() } else { gc.value.clone() };
                let filterable = !gc.value.is_empty();
                if filterable {
                    pairs.push((g.key().into(), gc.value.clone()));
                }
                let badge = match g {
                    AlertField::Severity => {
                        Severity::parse(&gc.value).map(severity_class).unwrap_or("")
                    }
                    AlertField::Status => Status::parse(&gc.value).map(status_class).unwrap_or(""),
                    _ => "",
                };
                GroupRow {
                    label,
                    count: count(gc.count),
                    href: if filterable { href("/alerts", &pairs) } else { String::new() },
                    rows_href: if filterable { href("/alerts", &pairs) } else { String::new() },
                    badge: badge.into(),
                }
            })
            .collect(),
        None => vec![],
    };
    let col_choices = AlertField::ALL
        .iter()
        .map(|f| ColChoice { key: f.key(), label: f.label(), checked: v.cols.contains(f) })
        .collect();
    let mut export = v.api.clone();
    export.push(("fields".into(), v.cols.iter().map(|c| c.key()).collect::<Vec<_>>().join(",")));
    let first = v.without(|k, _| k == "facet");
    let next_href = match &loaded.next {
        Some(c) if loaded.items.len() >= PAGE_ROWS => {
            let mut p = first.clone();
            p.push(("after".into(), c.clone()));
            p.push(("page".into(), (v.page + 1).to_string()));
            href("/alerts", &p)
        }
        _ => String::new(),
    };
    let start = (v.page - 1) * PAGE_ROWS as u64;
    let range = if loaded.items.is_empty() {
        String::new()
    } else {
        format!(
            "{}–{} of {}",
            count(start + 1),
            count(start + loaded.items.len() as u64),
            total_text(&loaded)
        )
    };
    let page = AlertsPage {
        chrome: ctx.chrome("alerts", "Alerts"),
        error,
        total: total_text(&loaded),
        heads,
        rows_html,
        ncols: v.cols.len() + 1,
        q: v.get("q").to_string(),
        time: time_range(v.get("from"), v.get("to"), st.now()),
        group_opts,
        hidden,
        pills,
        clear_href: href("/alerts", &clear),
        facet_opts,
        facet_hidden,
        facet_key,
        facet_label,
        facet_values,
        facet_open: v.facet.is_some(),
        grouped: v.group.is_some(),
        group_label: v.group.map(|g| g.label().to_string()).unwrap_or_default(),
        groups,
        col_choices,
        view_pairs: v.without(|k, _| k == "facet"),
        view_url: href("/alerts", &v.without(|k, _| k == "facet")),
        export_href: href("/api/v1/alerts/export.csv", &export),
        first_href: if v.page > 1 { href("/alerts", &first) } else { String::new() },
        next_href,
        range,
        page: v.page,
        statuses: options(
            &[("", "Status…"), ("New", "New"), ("Active", "Active"), ("Closed", "Closed")],
            "",
        ),
        severities: options(
            &[
                ("", "Severity…"),
                ("Critical", "Critical"),
                ("Major", "Major"),
                ("Minor", "Minor"),
                ("Warning", "Warning"),
            ],
            "",
        ),
    };
    Ok(ctx.render(&page))
}

fn empty() -> Loaded {
    Loaded { items: vec![], next: None, total: 0, total_more: false, groups: vec![], facet: vec![] }
}

/// The `view.`-prefixed fields of a form: the grid's parameters at the time of the post.
fn view_of(f: &CsrfForm) -> Vec<(String, String)> {
    f.0.iter()
        .filter_map(|(k, v)| k.strip_prefix("view.").map(|k| (k.to_string(), v.clone())))
        .filter(|(_, v)| !v.is_empty())
        .collect()
}

/// POST /alerts/bulk — change the selected alerts, or all matching the view.
pub async fn bulk(State(st): State<AppState>, ctx: Ctx, f: CsrfForm) -> WebResult {
    let view = view_of(&f);
    let back = href("/alerts", &view);
    let mut actions = service::patch_actions(f.nonblank("status"), f.nonblank("severity"))?;
    if let Some(a) = f.nonblank("action") {
        actions.push(service::named_action(a)?);
    }
    if actions.is_empty() {
        return Ok(redirect_flash(
            &back,
            "Choose a status, a severity, Learn or Mute first.",
            true,
        ));
    }
    let target = if f.get("all") == Some("1") {
        let api: Vec<(String, String)> = view
            .iter()
            .filter(|(k, _)| !VIEW_ONLY.contains(&k.as_str()) && k != "after")
            .cloned()
            .collect();
        BulkTarget::Query(alert_query(&api, st.now())?)
    } else {
        let mut ids = Vec::new();
        for v in f.all("id") {
            ids.push(crate::api::alerts::parse_id(v)?);
        }
        if ids.is_empty() {
            return Ok(redirect_flash(&back, "Select some alerts first.", true));
        }
        BulkTarget::Ids(ids)
    };
    let out = service::bulk(&st, ctx.who.actor(), target, actions).await?;
    let changed = out.values().filter(|(c, e)| *c && e.is_none()).count();
    let refused: Vec<String> =
        out.iter().filter_map(|(id, (_, e))| e.as_ref().map(|m| format!("#{id}: {m}"))).collect();
    let mut msg = format!("Changed {changed} of {} alerts.", out.len());
    if !refused.is_empty() {
        msg.push_str(&format!(
            " {} refused: {}",
            refused.len(),
            refused.iter().take(3).cloned().collect::<Vec<_>>().join("; ")
        ));
    }
    Ok(redirect_flash(&back, &msg, !refused.is_empty() && changed == 0))
}

/// POST /alerts/columns — saves the grid's columns for this user (a preference in the store,
/// so they follow the user from browser to browser); "Default columns" removes it.
pub async fn columns(State(st): State<AppState>, ctx: Ctx, f: CsrfForm) -> WebResult {
    let mut view = view_of(&f);
    view.retain(|(k, _)| k != "cols");
    let reset = f.get("reset").is_some();
    let cols: Vec<AlertField> = if reset {
        AlertField::DEFAULT_COLUMNS.to_vec()
    } else {
        parse_cols(&f.all("col").join(","))
    };
    if cols.is_empty() {
        return Ok(redirect_flash(&href("/alerts", &view), "Choose at least one column.", true));
    }
    let keys = cols.iter().map(|c| c.key()).collect::<Vec<_>>().join(",");
    let owner = ctx.who.name.clone();
    let value = if reset { String::new() } else { keys.clone() };
    st.blocking(move |s| Ok(s.set_user_pref(&owner, COLUMNS_PREF, &value)?)).await?;
    if !reset {
        view.push(("cols".into(), keys));
    }
    let mut r = redirect_flash(&href("/alerts", &view), "Columns saved.", false);
    if crate::auth::cookie(&ctx.headers, OLD_COLUMNS_COOKIE).is_some() {
        let gone = format!("{OLD_COLUMNS_COOKIE}=; Path=/; Max-Age=0; SameSite=Strict; HttpOnly");
        if let Ok(v) = HeaderValue::from_str(&gone) {
            r.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    Ok(r)
}

/// An endpoint of the alert, for the details page.
#[derive(Clone, Debug, Default)]
pub struct EndpointView {
    label: String,
    ip: String,
    mac: String,
    href: String,
    kind: String,
    vendor: String,
}

/// A MITRE ATT&CK for ICS link.
#[derive(Clone, Debug)]
pub struct Mitre {
    id: String,
    name: String,
    url: String,
}

/// A comment or history line.
#[derive(Clone, Debug)]
pub struct Note {
    at: When,
    who: String,
    text: String,
}

/// A timeline row.
#[derive(Clone, Debug)]
pub struct EventRow {
    pub(crate) at: When,
    pub(crate) kind: String,
    pub(crate) title: String,
    pub(crate) text: String,
    pub(crate) severity: String,
    pub(crate) sev_class: &'static str,
    pub(crate) href: String,
}

/// Formats timeline events.
pub fn event_rows(events: &[otwatch_model::Event]) -> Vec<EventRow> {
    events
        .iter()
        .map(|e| EventRow {
            at: When::of(e.at),
            kind: e.event_type.clone(),
            title: e.title.clone(),
            text: e.description.clone(),
            severity: e.severity.to_string(),
            sev_class: match e.severity {
                EventSeverity::Alert => "ev ev-alert",
                EventSeverity::Notice => "ev ev-notice",
                EventSeverity::Info => "ev ev-info",
            },
            href: match (e.alert_id, e.device_id) {
                (Some(a), _) => format!("/alerts/{a}"),
                (None, Some(d)) => format!("/devices/{d}"),
                _ => String::new(),
            },
        })
        .collect()
}

/// Everything the details page and the side pane show about one alert.
#[derive(Clone, Debug)]
pub struct AlertModel {
    id: i64,
    name: String,
    severity: String,
    sev_class: &'static str,
    status: String,
    st_class: &'static str,
    disposition: String,
    engine: String,
    category: String,
    kind: String,
    description: String,
    protocol: String,
    sensor: String,
    site: String,
    zone: String,
    first: When,
    last: When,
    activity: When,
    occurrences: String,
    suppressed: String,
    portal_severity: String,
    source: EndpointView,
    destination: EndpointView,
    tactics: Vec<Mitre>,
    techniques: Vec<Mitre>,
    remediation: Vec<String>,
    facts: Vec<(String, String)>,
    comments: Vec<Note>,
    history: Vec<Note>,
    learnable: bool,
    mutable: bool,
    can_learn: bool,
    can_mute: bool,
    can_unlearn: bool,
    can_unmute: bool,
    has_pcap: bool,
    statuses: Vec<Opt>,
    severities: Vec<Opt>,
}

/// The value, or an em dash for none.
pub fn dash(v: &Option<String>) -> String {
    match v.as_deref().map(str::trim) {
        Some(s) if !s.is_empty() => s.to_string(),
        _ => "—".into(),
    }
}

fn endpoint(ep: &otwatch_model::Endpoint, dev: Option<&otwatch_model::Device>) -> EndpointView {
    EndpointView {
        label: dev.map(|d| d.label()).unwrap_or_else(|| ep.label().to_string()),
        ip: ep.ip.clone().unwrap_or_default(),
        mac: ep.mac.clone().unwrap_or_default(),
        href: ep.device_id.map(|d| format!("/devices/{d}")).unwrap_or_default(),
        kind: dev.map(|d| d.device_type.to_string()).unwrap_or_default(),
        vendor: dev.and_then(|d| d.vendor.clone()).unwrap_or_default(),
    }
}

fn model(v: &service::AlertView, has_pcap: bool) -> AlertModel {
    let a = &v.details.alert;
    let sev = a.severity.to_string();
    let status = a.status.to_string();
    AlertModel {
        id: a.id.0,
        name: a.name.clone(),
        severity: sev.clone(),
        sev_class: severity_class(a.severity),
        status: status.clone(),
        st_class: status_class(a.status),
        disposition: if a.disposition == Disposition::None {
            String::new()
        } else {
            a.disposition.to_string()
        },
        engine: a.engine.to_string(),
        category: a.category.to_string(),
        kind: a.alert_type.clone(),
        description: a.description.clone(),
        protocol: dash(&a.protocol),
        sensor: dash(&a.sensor),
        site: dash(&a.site),
        zone: dash(&a.zone),
        first: When::of(a.first_detection),
        last: When::of(a.last_detection),
        activity: When::of(a.last_activity),
        occurrences: count(a.occurrence_count),
        suppressed: count(a.suppressed_count),
        portal_severity: a.severity.portal().as_str().to_string(),
        source: endpoint(&a.source, v.devices.get("source")),
        destination: endpoint(&a.destination, v.devices.get("destination")),
        tactics: a
            .tactics
            .iter()
            .map(|t| Mitre { id: t.id().into(), name: t.as_str().into(), url: t.url() })
            .collect(),
        techniques: a
            .techniques
            .iter()
            .map(|t| Mitre { id: t.id().into(), name: t.name().into(), url: t.url() })
            .collect(),
        remediation: a.remediation.clone(),
        facts: a.details.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        comments: v
            .details
            .comments
            .iter()
            .map(|c| Note { at: When::of(c.at), who: c.author.clone(), text: c.text.clone() })
            .collect(),
        history: v
            .details
            .history
            .iter()
            .rev()
            .map(|h| Note {
                at: When::of(h.at),
                who: h.actor.name.clone(),
                text: h.summary.clone(),
            })
            .collect(),
        learnable: a.learnable,
        mutable: a.mutable,
        can_learn: a.learnable && a.disposition != Disposition::Learned,
        can_mute: a.mutable && a.disposition != Disposition::Muted,
        can_unlearn: a.disposition == Disposition::Learned,
        can_unmute: a.disposition == Disposition::Muted,
        has_pcap,
        statuses: options(&[("New", "New"), ("Active", "Active"), ("Closed", "Closed")], &status),
        severities: options(
            &[
                ("Critical", "Critical"),
                ("Major", "Major"),
                ("Minor", "Minor"),
                ("Warning", "Warning"),
            ],
            &sev,
        ),
    }
}

#[derive(Template)]
#[template(path = "alert.html")]
struct AlertPage {
    chrome: Chrome,
    a: AlertModel,
    tab: String,
    tabs: Vec<Tab>,
    t_csrf: String,
    t_back: String,
    map_html: String,
    events: Vec<EventRow>,
    back: String,
}

#[derive(Template)]
#[template(path = "alert_pane_partial.html")]
struct PanePartial {
    a: AlertModel,
    t_csrf: String,
    can_triage: bool,
    t_back: String,
}

/// A tab link.
#[derive(Clone, Debug)]
pub struct Tab {
    /// Parameter value.
    pub key: String,
    /// Shown text.
    pub label: String,
    /// The tab shown.
    pub active: bool,
}

/// Tabs from (key, label) with `current` active.
pub fn tabs(list: &[(&str, &str)], current: &str) -> Vec<Tab> {
    list.iter()
        .map(|(k, l)| Tab { key: k.to_string(), label: l.to_string(), active: *k == current })
        .collect()
}

async fn load_alert(st: &AppState, id: &str) -> ApiResult<(service::AlertView, bool)> {
    let id = crate::api::alerts::parse_id(id)?;
    let v = service::alert_view(st, id).await?;
    let has_pcap = st.blocking(move |s| Ok(s.alert_pcap(AlertId(id))?.is_some())).await?;
    Ok((v, has_pcap))
}

/// The map of an alert: its two devices and their neighbours.
async fn alert_map(st: &AppState, a: &Alert) -> ApiResult<String> {
    let src = a.source.clone();
    let dst = a.destination.clone();
    let (nodes, edges) = st
        .blocking(move |s| {
            let mut nodes: Vec<MapNode> = Vec::new();
            let mut edges: Vec<MapEdge> = Vec::new();
            let mut keys = Vec::new();
            for ep in [&src, &dst] {
                let key = match ep.device_id {
                    Some(id) => {
                        if let Ok(d) = s.device(id) {
                            let mut n = MapNode::of_device(&d, 0);
                            n.highlight = true;
                            if !nodes.iter().any(|x| x.key == n.key) {
                                nodes.push(n);
                            }
                            for c in s.list_connections(&otwatch_store::ConnectionQuery {
                                device_id: Some(id),
                                limit: 40,
                                ..Default::default()
                            })? {
                                for other in
                                    [c.src_device_id, c.dst_device_id].into_iter().flatten()
                                {
                                    if other != id
                                        && !nodes.iter().any(|x| x.key == format!("d{other}"))
                                        && nodes.len() < 40
                                        && let Ok(od) = s.device(other)
                                    {
                                        nodes.push(MapNode::of_device(&od, 0));
                                    }
                                }
                                edges.push(MapEdge::of_connection(&c));
                            }
                        }
                        format!("d{id}")
                    }
                    None => {
                        let label = ep.label().to_string();
                        let key = format!("a{label}");
                        if !label.is_empty() && !nodes.iter().any(|x| x.key == key) {
                            nodes.push(MapNode::address(&label));
                        }
                        key
                    }
                };
                keys.push(key);
            }
            if let [k1, k2] = keys.as_slice() {
                edges.push(MapEdge {
                    a: k1.clone(),
                    b: k2.clone(),
                    label: "alert traffic".into(),
                    hot: true,
                });
            }
            Ok((nodes, edges))
        })
        .await?;
    Ok(map::svg(&map::layout(nodes, edges), "Map of the alert's devices and their neighbours"))
}

/// GET /alerts/{id} — the full details page with its tabs.
pub async fn details(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Query(p): Params,
) -> WebResult {
    let (v, has_pcap) = load_alert(&st, &id).await?;
    let a = v.details.alert.clone();
    let map_html = alert_map(&st, &a).await?;
    let alert_id = a.id.0;
    let devs: Vec<i64> =
        [a.source.device_id, a.destination.device_id].into_iter().flatten().collect();
    let events = st
        .blocking(move |s| {
            let mut ev = s.list_events(&otwatch_store::EventQuery {
                alert_id: Some(alert_id),
                limit: 100,
                ..Default::default()
            })?;
            for d in devs {
                ev.extend(s.list_events(&otwatch_store::EventQuery {
                    device_id: Some(d),
                    limit: 50,
                    ..Default::default()
                })?);
            }
            ev.sort_by(|x, y| y.at.cmp(&x.at).then(y.id.cmp(&x.id)));
            ev.dedup_by_key(|e| e.id);
            Ok(ev)
        })
        .await?;
    let tab = p
        .iter()
        .find(|(k, _)| k == "tab")
        .map(|(_, v)| v.as_str())
        .filter(|t| matches!(*t, "overview" | "action" | "map" | "timeline"))
        .unwrap_or("overview")
        .to_string();
    let tabs = tabs(
        &[
            ("overview", "Overview"),
            ("action", "Take action"),
            ("map", "Map view"),
            ("timeline", "Event timeline"),
        ],
        &tab,
    );
    let back = p
        .iter()
        .find(|(k, _)| k == "back")
        .map(|(_, v)| safe_return(Some(v), "/alerts").to_string())
        .unwrap_or_else(|| "/alerts".into());
    let page = AlertPage {
        t_csrf: ctx.who.csrf.clone().unwrap_or_default(),
        t_back: format!("/alerts/{}?tab=action", a.id),
        chrome: ctx.chrome("alerts", format!("Alert {} · {}", a.id, a.name)),
        a: model(&v, has_pcap),
        tab,
        tabs,
        map_html,
        events: event_rows(&events),
        back,
    };
    Ok(ctx.render(&page))
}

/// GET /alerts/{id}/pane — the side pane the grid opens.
pub async fn pane(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Query(p): Params,
) -> WebResult {
    let (v, has_pcap) = load_alert(&st, &id).await?;
    let back = p
        .iter()
        .find(|(k, _)| k == "back")
        .map(|(_, v)| safe_return(Some(v), "/alerts").to_string())
        .unwrap_or_else(|| "/alerts".into());
    Ok(render(&PanePartial {
        a: model(&v, has_pcap),
        t_csrf: ctx.who.csrf.clone().unwrap_or_default(),
        can_triage: ctx.who.role >= otwatch_model::Role::Analyst,
        t_back: back,
    }))
}

fn back_to(f: &CsrfForm, id: i64) -> String {
    safe_return(f.get("back"), &format!("/alerts/{id}")).to_string()
}

async fn act(
    st: &AppState,
    ctx: &Ctx,
    id: i64,
    f: &CsrfForm,
    actions: Vec<otwatch_model::lifecycle::Action>,
    done: &str,
) -> WebResult {
    let back = back_to(f, id);
    match service::act(st, ctx.who.actor(), id, actions).await {
        Ok(()) => Ok(redirect_flash(&back, done, false)),
        Err(e @ (ApiError::Conflict(_) | ApiError::BadRequest { .. })) => {
            Ok(redirect_flash(&back, &e.to_string(), true))
        }
        Err(e) => Err(e.into()),
    }
}

/// POST /alerts/{id}/status — status and/or severity.
pub async fn status(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    f: CsrfForm,
) -> WebResult {
    let id = crate::api::alerts::parse_id(&id)?;
    let actions = service::patch_actions(f.nonblank("status"), f.nonblank("severity"))?;
    if actions.is_empty() {
        return Ok(redirect_flash(&back_to(&f, id), "Choose a status or severity.", true));
    }
    act(&st, &ctx, id, &f, actions, "Alert updated.").await
}

/// POST /alerts/{id}/action — learn, mute, unlearn or unmute.
pub async fn action(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    f: CsrfForm,
) -> WebResult {
    let id = crate::api::alerts::parse_id(&id)?;
    let name = f.nonblank("action").unwrap_or("");
    let a = service::named_action(name)?;
    let done = match name {
        "learn" => "Alert learned: closed, and its traffic added to the baseline.",
        "mute" => "Alert muted: closed, and its traffic suppressed.",
        "unlearn" => "Alert unlearned: its traffic is no longer in the baseline.",
        "unmute" => "Alert unmuted.",
        _ => "Alert updated.",
    };
    act(&st, &ctx, id, &f, vec![a], done).await
}

/// POST /alerts/{id}/comments
pub async fn comment(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    f: CsrfForm,
) -> WebResult {
    let id = crate::api::alerts::parse_id(&id)?;
    let a = match service::comment_action(f.get("text").unwrap_or("")) {
        Ok(a) => a,
        Err(e) => return Ok(redirect_flash(&back_to(&f, id), &e.to_string(), true)),
    };
    act(&st, &ctx, id, &f, vec![a], "Comment added.").await
}

/// A link to the Alerts grid filtered on one column value.
pub fn grid_link(field: AlertField, value: &str) -> Link {
    Link {
        text: "Open in the Alerts grid".into(),
        href: format!("/alerts?{}", qs(&[(field.key(), value)])),
    }
}
