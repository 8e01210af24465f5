//! The web console: server-rendered pages over the same service functions as the API.
//!
//! One module per page area; each page is an Askama template (checked at
//! compile time) filled from a plain view model, and fragments that scripts
//! fetch (grid rows, the alert side pane) are `*_partial.html` templates. Like
//! the API, every page comes from one table ([`routes`]) with a least role
//! each, checked by [`guard`] before the handler runs; a signed-out browser is
//! sent to the sign-in page, a role too low gets a 403 page. Forms that change
//! state carry the session's CSRF token in a hidden field, checked by
//! [`CsrfForm`] with the same constant-time compare as the API's header check.
//! Templates hold no logic beyond loops and conditions: handlers read
//! parameters, call `service`/store functions and format values.

pub mod alerts;
pub mod chart;
pub mod devices;
pub mod events;
pub mod hunt;
pub mod login;
pub mod map;
pub mod settings;
pub mod sites;
pub mod statics;

use askama::Template;
use axum::extract::{FromRequest, FromRequestParts, OriginalUri, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{MethodRouter, get, post};

use otwatch_model::{ActorKind, Role, Timestamp};

use crate::api::RouteSpec;
use crate::auth::{self, Principal};
use crate::error::ApiError;
use crate::state::AppState;

/// Name of the form field that carries the CSRF token.
pub const CSRF_FIELD: &str = "csrf";
/// Cookie holding a one-time message for the next page (set after a form post).
pub const FLASH_COOKIE: &str = "otwatch_flash";

const V: Option<Role> = Some(Role::Viewer);
const A: Option<Role> = Some(Role::Analyst);
const AD: Option<Role> = Some(Role::Admin);

fn page(
    method: &'static str,
    path: &'static str,
    role: Option<Role>,
    summary: &'static str,
) -> RouteSpec {
    RouteSpec {
        method,
        path,
        role,
        tag: "console",
        summary,
        params: &[],
        body: None,
        returns: (200, "text/html"),
    }
}

/// Every console route with its handler.
pub fn routes() -> Vec<(RouteSpec, MethodRouter<AppState>)> {
    vec![
        (page("GET", "/", V, "Start page: the Alerts grid."), get(home)),
        (page("GET", "/login", None, "Sign-in form."), get(login::form)),
        (page("POST", "/login", None, "Sign in."), post(login::submit)),
        (page("POST", "/logout", V, "Sign out."), post(login::logout)),
        (page("GET", "/static/{file}", None, "Style sheet and scripts."), get(statics::file)),
        (page("GET", "/alerts", V, "Alerts grid."), get(alerts::grid)),
        (page("POST", "/alerts/bulk", A, "Bulk triage."), post(alerts::bulk)),
        (page("POST", "/alerts/columns", V, "Save the grid's columns."), post(alerts::columns)),
        (page("GET", "/alerts/{id}", V, "Alert details."), get(alerts::details)),
        (page("GET", "/alerts/{id}/pane", V, "Alert side pane."), get(alerts::pane)),
        (page("POST", "/alerts/{id}/status", A, "Change status/severity."), post(alerts::status)),
        (
            page("POST", "/alerts/{id}/action", A, "Learn/mute/unlearn/unmute."),
            post(alerts::action),
        ),
        (page("POST", "/alerts/{id}/comments", A, "Add a comment."), post(alerts::comment)),
        (page("GET", "/devices", V, "Device inventory."), get(devices::grid)),
        (page("GET", "/devices/{id}", V, "Device details."), get(devices::details)),
        (page("POST", "/devices/{id}/edit", A, "Edit a device."), post(devices::edit)),
        (page("GET", "/map", V, "Device map."), get(map::page)),
        (page("GET", "/events", V, "Event timeline."), get(events::page)),
        (page("GET", "/sensors", V, "Sensors, sites and zones."), get(sites::page)),
        (
            page("GET", "/hunt", V, "Hunting: the KQL editor (?q= runs, ?saved= loads)."),
            get(hunt::page),
        ),
        (page("POST", "/hunt", V, "Run a hunting query."), post(hunt::run)),
        (page("POST", "/hunt/export", V, "A hunting result as CSV."), post(hunt::export)),
        (page("POST", "/hunt/queries", V, "Save a hunting query."), post(hunt::save)),
        (page("POST", "/hunt/queries/{id}/delete", V, "Delete a saved query."), post(hunt::delete)),
        (page("GET", "/settings", AD, "Settings."), get(settings::page)),
        (page("POST", "/settings/users", AD, "Add a user."), post(settings::add_user)),
        (page("POST", "/settings/users/{name}", AD, "Change a user."), post(settings::change_user)),
        (page("POST", "/settings/tokens", AD, "Create an API token."), post(settings::add_token)),
        (
            page("POST", "/settings/tokens/{id}/revoke", AD, "Revoke a token."),
            post(settings::revoke_token),
        ),
        (page("POST", "/settings/exclusions", AD, "Add a rule."), post(settings::add_rule)),
        (
            page("POST", "/settings/engines/{name}", AD, "Switch a detection engine."),
            post(settings::set_engine),
        ),
        (
            page("POST", "/settings/exclusions/{id}/delete", AD, "Delete a rule."),
            post(settings::delete_rule),
        ),
    ]
}

/// The console's route specs (for the role matrix test).
pub fn specs() -> Vec<RouteSpec> {
    routes().into_iter().map(|(s, _)| s).collect()
}

async fn home() -> Response {
    Redirect::to("/alerts").into_response()
}

/// Middleware: like [`auth::guard`], but answers browsers in HTML: a
/// signed-out GET goes to the sign-in page, a role too low gets a 403 page.
pub async fn guard(
    State((state, need)): State<(AppState, Option<Role>)>,
    mut req: Request,
    next: Next,
) -> Response {
    let Some(need) = need else { return next.run(req).await };
    let address = auth::client_address(&req);
    let principal = match auth::resolve(&state, req.headers(), address).await {
        Ok(Some(p)) => p,
        Ok(None) | Err(ApiError::Unauthenticated) => {
            if req.method() == Method::GET {
                let target = req
                    .uri()
                    .path_and_query()
                    .map(|p| p.as_str().to_string())
                    .unwrap_or_else(|| "/".into());
                return Redirect::to(&format!("/login?next={}", pct(&target))).into_response();
            }
            return error_page(None, StatusCode::UNAUTHORIZED, "Sign in first.");
        }
        Err(e) => {
            let (status, msg) = status_of(e);
            return error_page(None, status, &msg);
        }
    };
    if principal.role < need {
        let msg = format!(
            "Your role ({}) may not do this; it needs {}.",
            capitalized(&principal.role.to_string()),
            capitalized(&need.to_string())
        );
        return error_page(Some(&principal), StatusCode::FORBIDDEN, &msg);
    }
    req.extensions_mut().insert(principal);
    next.run(req).await
}

/// What every page's frame shows: who is signed in, where we are, what they may do.
#[derive(Clone, Debug, Default)]
pub struct Chrome {
    /// User name (empty when signed out).
    pub user: String,
    /// Role name.
    pub role: String,
    /// CSRF token for forms.
    pub csrf: String,
    /// Active navigation entry.
    pub nav: &'static str,
    /// Page title.
    pub title: String,
    /// May triage (Analyst or Admin).
    pub can_triage: bool,
    /// Admin.
    pub is_admin: bool,
    /// One-time message from the previous action.
    pub flash: String,
    /// The flash is an error.
    pub flash_error: bool,
}

/// Everything a page handler needs about the request: who, the flash message, the URL.
#[derive(Clone, Debug)]
pub struct Ctx {
    /// The caller.
    pub who: Principal,
    /// Flash message (and whether it is an error).
    pub flash: Option<(String, bool)>,
    /// Path and query of this request.
    pub uri: String,
    /// A script asked for the fragment only.
    pub partial: bool,
    /// Request headers (cookies).
    pub headers: HeaderMap,
}

impl<S: Send + Sync> FromRequestParts<S> for Ctx {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let Some(who) = parts.extensions.get::<Principal>().cloned() else {
            return Err(error_page(None, StatusCode::UNAUTHORIZED, "Sign in first."));
        };
        let flash = auth::cookie(&parts.headers, FLASH_COOKIE).and_then(|v| {
            let text = pct_decode(v);
            let (err, msg) = match text.strip_prefix("!") {
                Some(m) => (true, m.to_string()),
                None => (false, text),
            };
            if msg.is_empty() { None } else { Some((msg, err)) }
        });
        let uri = parts
            .extensions
            .get::<OriginalUri>()
            .map(|u| u.0.clone())
            .unwrap_or_else(|| parts.uri.clone());
        let partial = parts.headers.contains_key("x-otwatch-partial");
        Ok(Ctx {
            who,
            flash,
            uri: uri.path_and_query().map(|p| p.as_str().to_string()).unwrap_or_default(),
            partial,
            headers: parts.headers.clone(),
        })
    }
}

impl Ctx {
    /// The page frame for a page under `nav`.
    pub fn chrome(&self, nav: &'static str, title: impl Into<String>) -> Chrome {
        let (flash, flash_error) = self.flash.clone().unwrap_or_default();
        Chrome {
            user: self.who.name.clone(),
            role: capitalized(&self.who.role.to_string()),
            csrf: self.who.csrf.clone().unwrap_or_default(),
            nav,
            title: title.into(),
            can_triage: self.who.role >= Role::Analyst,
            is_admin: self.who.role >= Role::Admin,
            flash,
            flash_error,
        }
    }

    /// Renders a page, clearing the flash message it showed.
    pub fn render(&self, t: &impl Template) -> Response {
        let mut r = render(t);
        if self.flash.is_some() {
            r.headers_mut().append(
                header::SET_COOKIE,
                HeaderValue::from_static("otwatch_flash=; Path=/; Max-Age=0; SameSite=Strict"),
            );
        }
        r
    }
}

/// `analyst` → `Analyst`.
pub fn capitalized(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// Renders a template as an HTML response (500 page if rendering fails).
pub fn render(t: &impl Template) -> Response {
    match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(message = "Template failed.", error = %e);
            (StatusCode::INTERNAL_SERVER_ERROR, Html("<h1>Internal error</h1>".to_string()))
                .into_response()
        }
    }
}

/// Renders a template to a string for embedding in a page (empty on failure, logged).
pub fn render_str(t: &impl Template) -> String {
    t.render().unwrap_or_else(|e| {
        tracing::error!(message = "Template failed.", error = %e);
        String::new()
    })
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    chrome: Chrome,
    status: u16,
    reason: String,
    message: String,
}

/// An error page with the frame (when signed in).
pub fn error_page(who: Option<&Principal>, status: StatusCode, message: &str) -> Response {
    let chrome = match who {
        Some(p) => Ctx {
            who: p.clone(),
            flash: None,
            uri: String::new(),
            partial: false,
            headers: HeaderMap::new(),
        }
        .chrome("", "Error"),
        None => Chrome { title: "Error".into(), ..Chrome::default() },
    };
    let page = ErrorPage {
        chrome,
        status: status.as_u16(),
        reason: status.canonical_reason().unwrap_or("Error").to_string(),
        message: message.to_string(),
    };
    (status, render(&page)).into_response()
}

/// A handler failure shown as an HTML page with the API error's status and message.
#[derive(Debug)]
pub struct WebError(pub ApiError);

impl From<ApiError> for WebError {
    fn from(e: ApiError) -> WebError {
        WebError(e)
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let (status, msg) = status_of(self.0);
        error_page(None, status, &msg)
    }
}

/// The HTTP status and message of an API error (internal details are logged, not shown).
pub fn status_of(e: ApiError) -> (StatusCode, String) {
    let msg = e.to_string();
    (e.into_response().status(), msg)
}

/// Result of a page handler.
pub type WebResult = Result<Response, WebError>;

/// A submitted form whose CSRF field was checked (for session callers).
#[derive(Clone, Debug)]
pub struct CsrfForm(pub Vec<(String, String)>);

impl<S: Send + Sync> FromRequest<S> for CsrfForm {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let who = req.extensions().get::<Principal>().cloned();
        let axum::extract::Form(pairs) =
            axum::extract::Form::<Vec<(String, String)>>::from_request(req, state)
                .await
                .map_err(|e| error_page(who.as_ref(), StatusCode::BAD_REQUEST, &e.body_text()))?;
        if let Some(p) = &who
            && p.kind == ActorKind::User
        {
            let sent = pairs.iter().find(|(k, _)| k == CSRF_FIELD).map(|(_, v)| v.as_str());
            let ok = match (&p.csrf, sent) {
                (Some(want), Some(got)) => auth::constant_time_eq(want.as_bytes(), got.as_bytes()),
                _ => false,
            };
            if !ok {
                return Err(error_page(
                    who.as_ref(),
                    StatusCode::FORBIDDEN,
                    "The form's security token is missing or stale; reload the page and try again.",
                ));
            }
        }
        Ok(CsrfForm(pairs))
    }
}

impl CsrfForm {
    /// A field's first value.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// A field's first non-blank value.
    pub fn nonblank(&self, name: &str) -> Option<&str> {
        self.get(name).map(str::trim).filter(|v| !v.is_empty())
    }

    /// Every value of a field.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0.iter().filter(|(k, _)| k == name).map(|(_, v)| v.as_str()).collect()
    }
}

/// Redirects (303) to `to` with a one-time message shown there.
pub fn redirect_flash(to: &str, message: &str, error: bool) -> Response {
    let text = if error { format!("!{message}") } else { message.to_string() };
    let cookie = format!("{FLASH_COOKIE}={}; Path=/; Max-Age=60; SameSite=Strict", pct(&text));
    let mut r = Redirect::to(to).into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}

/// A same-site path to return to after a form (anything else becomes `fallback`).
pub fn safe_return<'a>(to: Option<&'a str>, fallback: &'a str) -> &'a str {
    match to {
        Some(t) if t.starts_with('/') && !t.starts_with("//") && !t.contains('\\') => t,
        _ => fallback,
    }
}

/// Percent-encodes a URL component (RFC 3986 unreserved characters stay).
pub fn pct(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Decodes percent-encoding (and `+` as space); bad escapes are kept as they are.
pub fn pct_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if c == b'%'
            && let Some(h) = b.get(i + 1..i + 3)
            && let Ok(hex) = std::str::from_utf8(h)
            && let Ok(v) = u8::from_str_radix(hex, 16)
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(if c == b'+' { b' ' } else { c });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A query string from pairs (without the `?`).
pub fn qs<K: AsRef<str>, V: AsRef<str>>(pairs: &[(K, V)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", pct(k.as_ref()), pct(v.as_ref())))
        .collect::<Vec<_>>()
        .join("&")
}

/// `path?query`, or just `path` when there are no pairs.
pub fn href<K: AsRef<str>, V: AsRef<str>>(path: &str, pairs: &[(K, V)]) -> String {
    if pairs.is_empty() { path.to_string() } else { format!("{path}?{}", qs(pairs)) }
}

/// A time for templates: machine form for `<time datetime>` and a UTC fallback text
/// (the console's script rewrites it into the browser's time zone).
#[derive(Clone, Debug, Default)]
pub struct When {
    /// RFC 3339, or empty for no time.
    pub iso: String,
    /// `2024-03-02 17:20:00 UTC`.
    pub text: String,
}

impl When {
    /// Formats a timestamp.
    pub fn of(t: Timestamp) -> When {
        let iso = t.to_rfc3339();
        let mut text: String = iso.chars().take(19).collect::<String>().replacen('T', " ", 1);
        text.push_str(" UTC");
        When { iso, text }
    }

    /// Formats an optional timestamp (empty when none).
    pub fn opt(t: Option<Timestamp>) -> When {
        t.map(When::of).unwrap_or_default()
    }
}

/// A label with a link.
#[derive(Clone, Debug, Default)]
pub struct Link {
    /// Text.
    pub text: String,
    /// Target.
    pub href: String,
}

/// An option of a `<select>`.
#[derive(Clone, Debug)]
pub struct Opt {
    /// Submitted value.
    pub value: String,
    /// Shown text.
    pub label: String,
    /// Selected now.
    pub selected: bool,
}

/// Options from (value, label) pairs with `current` selected.
pub fn options(choices: &[(&str, &str)], current: &str) -> Vec<Opt> {
    choices
        .iter()
        .map(|(v, l)| Opt { value: v.to_string(), label: l.to_string(), selected: *v == current })
        .collect()
}

/// Thousands separators for counts.
pub fn count(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// CSS class of a severity badge.
pub fn severity_class(s: otwatch_model::Severity) -> &'static str {
    match s {
        otwatch_model::Severity::Critical => "sev sev-critical",
        otwatch_model::Severity::Major => "sev sev-major",
        otwatch_model::Severity::Minor => "sev sev-minor",
        otwatch_model::Severity::Warning => "sev sev-warning",
    }
}

/// CSS class of a status badge.
pub fn status_class(s: otwatch_model::Status) -> &'static str {
    match s {
        otwatch_model::Status::New => "st st-new",
        otwatch_model::Status::Active => "st st-active",
        otwatch_model::Status::Closed => "st st-closed",
    }
}

/// The time-range presets of the filter bars: (value, label).
pub const TIME_RANGES: &[(&str, &str)] = &[
    ("", "Any time"),
    ("1h", "Last hour"),
    ("24h", "Last 24 hours"),
    ("7d", "Last 7 days"),
    ("30d", "Last 30 days"),
    ("90d", "Last 90 days"),
];

/// The time-range controls of a filter bar: the presets, or a custom from/to.
#[derive(Clone, Debug)]
pub struct TimeRange {
    /// The preset menu (with "Custom range…" last).
    pub presets: Vec<Opt>,
    /// A custom range is shown.
    pub custom: bool,
    /// `datetime-local` value of the start (UTC), or the text as given.
    pub from_at: String,
    /// `datetime-local` value of the end (UTC), or the text as given.
    pub to_at: String,
}

/// A parameter value as a `datetime-local` value in UTC (the text itself when it is not a time).
fn local_value(text: &str, now: Timestamp) -> String {
    match crate::api::params::time_param("from", text, now) {
        Ok(t) => {
            let iso = t.to_rfc3339();
            let n = if iso.get(16..19) == Some(":00") { 16 } else { 19 };
            iso.chars().take(n).collect()
        }
        Err(_) => text.to_string(),
    }
}

/// The time-range controls for the `from`/`to` parameters of a view.
pub fn time_range(from: &str, to: &str, now: Timestamp) -> TimeRange {
    let preset = to.is_empty() && TIME_RANGES.iter().any(|(k, _)| *k == from);
    let custom = !preset;
    let mut presets = options(TIME_RANGES, if preset { from } else { "" });
    presets.push(Opt { value: "custom".into(), label: "Custom range…".into(), selected: custom });
    TimeRange {
        presets,
        custom,
        from_at: if custom && !from.is_empty() { local_value(from, now) } else { String::new() },
        to_at: if custom && !to.is_empty() { local_value(to, now) } else { String::new() },
    }
}

/// A `datetime-local` value (`2024-03-02T10:00`, UTC) as RFC 3339; other text unchanged.
fn utc_text(v: &str) -> String {
    let v = v.trim();
    let is_local = v.get(10..11) == Some("T") && !v.ends_with('Z') && !v.contains('+');
    match v.len() {
        16 if is_local => format!("{v}:00Z"),
        19 if is_local => format!("{v}Z"),
        _ => v.to_string(),
    }
}

/// A filter bar's submitted time controls (`range`, `from_at`, `to_at`) as the view's
/// `from`/`to` parameters: `Some(pairs)` to redirect to, `None` when there were none.
pub fn normalize_range(p: &[(String, String)]) -> Option<Vec<(String, String)>> {
    let range = p.iter().find(|(k, _)| k == "range").map(|(_, v)| v.trim().to_string())?;
    let get = |name: &str| {
        p.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim().to_string()).unwrap_or_default()
    };
    let (from_at, to_at) = (get("from_at"), get("to_at"));
    let mut out: Vec<(String, String)> = p
        .iter()
        .filter(|(k, v)| {
            !matches!(k.as_str(), "range" | "from_at" | "to_at" | "from" | "to" | "after" | "page")
                && !v.trim().is_empty()
        })
        .cloned()
        .collect();
    if range == "custom" {
        if !from_at.is_empty() {
            out.push(("from".into(), utc_text(&from_at)));
        }
        if !to_at.is_empty() {
            out.push(("to".into(), utc_text(&to_at)));
        }
    } else if !range.is_empty() {
        out.push(("from".into(), range));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_encoding_round_trips() {
        let s = "Plant A & B=ü/%";
        assert_eq!(pct_decode(&pct(s)), s);
        assert_eq!(pct_decode("a+b%2"), "a b%2");
        assert_eq!(
            qs(&[("severity", "High"), ("site", "Plant A")]),
            "severity=High&site=Plant%20A"
        );
    }

    #[test]
    fn returns_stay_on_site() {
        assert_eq!(safe_return(Some("/alerts?x=1"), "/"), "/alerts?x=1");
        assert_eq!(safe_return(Some("//evil.example"), "/"), "/");
        assert_eq!(safe_return(Some("https://evil.example"), "/"), "/");
        assert_eq!(safe_return(None, "/a"), "/a");
    }

    #[test]
    fn time_ranges_read_presets_and_custom_ranges() {
        let now = Timestamp::from_secs(1_709_400_000);
        let t = time_range("24h", "", now);
        assert!(!t.custom && t.presets.iter().any(|o| o.selected && o.value == "24h"));
        let t = time_range("2024-03-01T10:00:00Z", "2024-03-02", now);
        assert!(t.custom);
        assert_eq!(
            (t.from_at.as_str(), t.to_at.as_str()),
            ("2024-03-01T10:00", "2024-03-02T00:00")
        );
        assert!(!time_range("", "", now).custom);
        let p = |v: &[(&str, &str)]| -> Vec<(String, String)> {
            v.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
        };
        assert_eq!(normalize_range(&p(&[("q", "x"), ("from", "1h")])), None);
        assert_eq!(
            normalize_range(&p(&[
                ("q", "x"),
                ("range", "custom"),
                ("from_at", "2024-03-01T10:00"),
                ("to_at", ""),
                ("from", "1h")
            ])),
            Some(p(&[("q", "x"), ("from", "2024-03-01T10:00:00Z")]))
        );
        assert_eq!(
            normalize_range(&p(&[("range", "7d"), ("from_at", "2024-03-01T10:00")])),
            Some(p(&[("from", "7d")]))
        );
        assert_eq!(normalize_range(&p(&[("range", ""), ("site", "A")])), Some(p(&[("site", "A")])));
    }

    #[test]
    fn counts_and_times_format() {
        assert_eq!(count(1234567), "1,234,567");
        assert_eq!(count(12), "12");
        assert_eq!(When::of(Timestamp::from_secs(1_709_400_000)).text, "2024-03-02 17:20:00 UTC");
    }
}
