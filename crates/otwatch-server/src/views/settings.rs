//! Settings for Admins: users and roles, API tokens, exclusion rules and
//! maintenance windows, detection engines, and the audit log.
//!
//! Every change goes through the same `service` functions or store calls as
//! the API's admin endpoints, audited the same way. A new token's secret is
//! rendered in the response to the form that created it and nowhere else.
//! Detection engines: the configuration file's `detect.engines.*` is the
//! default, and an Admin's switch here is a console setting
//! (`detect.engines.<key>` = `true`/`false`, audited) that overrides it;
//! sensors read the settings when they start or refresh.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::IntoResponse;

use otwatch_model::{
    AddressMatch, AddressRole, AlertField, Cidr, Engine, ExclusionSpec, RuleKind, Timestamp,
};
use otwatch_store::{AlertQuery, AuditQuery};

use crate::error::{ApiError, ApiResult};
use crate::service;
use crate::state::AppState;
use crate::views::alerts::{Tab, tabs};
use crate::views::{
    Chrome, CsrfForm, Ctx, Opt, WebResult, When, capitalized, count, options, redirect_flash,
};

/// A user row.
#[derive(Clone, Debug)]
pub struct UserRow {
    name: String,
    role: String,
    roles: Vec<Opt>,
    disabled: bool,
    last_login: When,
    me: bool,
}

/// A token row.
#[derive(Clone, Debug)]
pub struct TokenRow {
    id: i64,
    name: String,
    role: String,
    prefix: String,
    created_by: String,
    expires: When,
    last_used: When,
    revoked: bool,
}

/// A rule row.
#[derive(Clone, Debug)]
pub struct RuleRow {
    id: i64,
    name: String,
    kind: String,
    enabled: bool,
    conditions: String,
    /// A maintenance window's times (shown as `<time>`, in the browser's zone).
    window: bool,
    window_start: When,
    window_end: When,
    reason: String,
    expires: When,
    hits: String,
}

/// An engine row.
#[derive(Clone, Debug)]
pub struct EngineRow {
    name: &'static str,
    /// `Engine::config_key()`, the last part of the setting's key.
    slug: &'static str,
    key: String,
    on: bool,
    configured: bool,
    /// "on" / "off" when the console overrides the configuration, else empty.
    overridden: String,
    alerts: String,
    href: String,
}

/// An audit row.
#[derive(Clone, Debug)]
pub struct AuditRow {
    at: When,
    who: String,
    action: String,
    object: String,
    summary: String,
}

#[derive(Template)]
#[template(path = "settings.html")]
struct SettingsPage {
    chrome: Chrome,
    tab: String,
    tabs: Vec<Tab>,
    users: Vec<UserRow>,
    roles: Vec<Opt>,
    tokens: Vec<TokenRow>,
    new_secret: String,
    new_token_name: String,
    rules: Vec<RuleRow>,
    engines: Vec<EngineRow>,
    engine_choices: Vec<Opt>,
    audit: Vec<AuditRow>,
}

const ROLES: &[(&str, &str)] = &[("Viewer", "Viewer"), ("Analyst", "Analyst"), ("Admin", "Admin")];

async fn build(st: &AppState, ctx: &Ctx, tab: &str) -> ApiResult<SettingsPage> {
    let engine_states = service::engine_states(st).await?;
    let (users, toks, rules, groups, audit) = st
        .blocking(|s| {
            Ok((
                s.list_users()?,
                s.list_tokens()?,
                s.list_exclusions()?,
                s.group_alerts(&AlertQuery::default(), AlertField::Engine)?,
                s.list_audit(&AuditQuery { limit: 100, ..Default::default() })?,
            ))
        })
        .await?;
    let tab =
        if ["users", "tokens", "rules", "engines", "audit"].contains(&tab) { tab } else { "users" };
    Ok(SettingsPage {
        chrome: ctx.chrome("settings", "Settings"),
        tab: tab.to_string(),
        tabs: tabs(
            &[
                ("users", "Users and roles"),
                ("tokens", "API tokens"),
                ("rules", "Exclusion rules"),
                ("engines", "Detection engines"),
                ("audit", "Audit log"),
            ],
            tab,
        ),
        users: users
            .iter()
            .map(|u| UserRow {
                name: u.name.clone(),
                role: capitalized(u.role.as_str()),
                roles: options(ROLES, &capitalized(u.role.as_str())),
                disabled: u.disabled,
                last_login: When::opt(u.last_login),
                me: u.name == ctx.who.name,
            })
            .collect(),
        roles: options(ROLES, "Viewer"),
        tokens: toks
            .iter()
            .map(|t| TokenRow {
                id: t.id,
                name: t.name.clone(),
                role: capitalized(t.role.as_str()),
                prefix: t.prefix.clone(),
                created_by: t.created_by.clone(),
                expires: When::opt(t.expires_at),
                last_used: When::opt(t.last_used_at),
                revoked: t.revoked_at.is_some(),
            })
            .collect(),
        new_secret: String::new(),
        new_token_name: String::new(),
        rules: rules
            .iter()
            .map(|r| {
                let s = &r.spec;
                let mut c = Vec::new();
                if !s.alert_types.is_empty() {
                    c.push(format!("types: {}", s.alert_types.join(", ")));
                }
                if !s.engines.is_empty() {
                    c.push(format!(
                        "engines: {}",
                        s.engines.iter().map(|e| e.as_str()).collect::<Vec<_>>().join(", ")
                    ));
                }
                if !s.sensors.is_empty() {
                    c.push(format!("sensors: {}", s.sensors.join(", ")));
                }
                if !s.addresses.is_empty() {
                    c.push(format!(
                        "addresses: {}",
                        s.addresses
                            .iter()
                            .map(|a| format!("{} {}", a.role, a.address))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                }
                if !s.subnets.is_empty() {
                    c.push(format!(
                        "subnets: {}",
                        s.subnets.iter().map(|n| n.to_string()).collect::<Vec<_>>().join(", ")
                    ));
                }
                RuleRow {
                    id: r.id,
                    name: s.name.clone(),
                    kind: match s.kind {
                        RuleKind::Maintenance => format!(
                            "Maintenance window{}",
                            s.ticket_id.as_ref().map(|t| format!(" ({t})")).unwrap_or_default()
                        ),
                        RuleKind::Exclusion => "Exclusion rule".into(),
                    },
                    enabled: s.enabled,
                    conditions: c.join("; "),
                    window: s.window_start.is_some() || s.window_end.is_some(),
                    window_start: When::opt(s.window_start),
                    window_end: When::opt(s.window_end),
                    reason: s.reason.clone(),
                    expires: When::opt(s.expires_at),
                    hits: count(r.hits),
                }
            })
            .collect(),
        engines: engine_states
            .iter()
            .map(|e| EngineRow {
                name: e.engine.as_str(),
                slug: e.engine.config_key(),
                key: e.key.clone(),
                on: e.effective,
                configured: e.configured,
                overridden: match e.override_ {
                    Some(true) => "on".into(),
                    Some(false) => "off".into(),
                    None => String::new(),
                },
                alerts: count(
                    groups.iter().filter(|g| g.value == e.engine.as_str()).map(|g| g.count).sum(),
                ),
                href: format!("/alerts?engine={}", crate::views::pct(e.engine.as_str())),
            })
            .collect(),
        engine_choices: Engine::ALL
            .iter()
            .filter(|e| **e != Engine::MicroAgent)
            .map(|e| Opt { value: e.as_str().into(), label: e.as_str().into(), selected: false })
            .collect(),
        audit: audit
            .iter()
            .map(|a| AuditRow {
                at: When::of(a.at),
                who: a.actor.name.clone(),
                action: a.action.clone(),
                object: format!("{} {}", a.object_type, a.object_id),
                summary: a.summary.clone(),
            })
            .collect(),
    })
}

/// GET /settings
pub async fn page(
    State(st): State<AppState>,
    ctx: Ctx,
    Query(p): Query<Vec<(String, String)>>,
) -> WebResult {
    let tab = p.iter().find(|(k, _)| k == "tab").map(|(_, v)| v.as_str()).unwrap_or("users");
    Ok(ctx.render(&build(&st, &ctx, tab).await?))
}

fn back(tab: &str) -> String {
    format!("/settings?tab={tab}")
}

/// Turns a form error into a message on the page; other errors stay errors.
fn flash_or(e: ApiError, tab: &str) -> WebResult {
    match e {
        ApiError::BadRequest { .. } | ApiError::Conflict(_) | ApiError::NotFound(_) => {
            Ok(redirect_flash(&back(tab), &e.to_string(), true))
        }
        other => Err(other.into()),
    }
}

/// POST /settings/users
pub async fn add_user(State(st): State<AppState>, ctx: Ctx, f: CsrfForm) -> WebResult {
    let name = f.nonblank("name").unwrap_or("").to_string();
    if name.is_empty() {
        return Ok(redirect_flash(&back("users"), "A user needs a name.", true));
    }
    let r = service::add_user(
        &st,
        ctx.who.actor(),
        name.clone(),
        f.get("role").unwrap_or("Viewer"),
        f.get("password").unwrap_or("").to_string(),
    )
    .await;
    match r {
        Ok(_) => Ok(redirect_flash(&back("users"), &format!("User {name} added."), false)),
        Err(e) => flash_or(e, "users"),
    }
}

/// POST /settings/users/{name} — `op` is role, disable, enable, password or delete.
pub async fn change_user(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(name): Path<String>,
    f: CsrfForm,
) -> WebResult {
    let op = f.get("op").unwrap_or("");
    if name == ctx.who.name && matches!(op, "disable" | "delete" | "role") {
        return Ok(redirect_flash(
            &back("users"),
            "You cannot disable, remove or change the role of your own account here.",
            true,
        ));
    }
    let actor = ctx.who.actor();
    let r = match op {
        "role" => service::update_user(&st, actor, name.clone(), f.get("role"), None, None)
            .await
            .map(|_| format!("{name} is now {}.", f.get("role").unwrap_or(""))),
        "disable" => service::update_user(&st, actor, name.clone(), None, Some(true), None)
            .await
            .map(|_| format!("{name} is disabled and signed out.")),
        "enable" => service::update_user(&st, actor, name.clone(), None, Some(false), None)
            .await
            .map(|_| format!("{name} is enabled.")),
        "password" => service::update_user(
            &st,
            actor,
            name.clone(),
            None,
            None,
            Some(f.get("password").unwrap_or("").to_string()),
        )
        .await
        .map(|_| format!("{name}'s password was reset; their sessions ended.")),
        "delete" => service::delete_user(&st, actor, name.clone())
            .await
            .map(|_| format!("{name} was removed.")),
        _ => Err(ApiError::field("op", "use role, disable, enable, password or delete")),
    };
    match r {
        Ok(msg) => Ok(redirect_flash(&back("users"), &msg, false)),
        Err(e) => flash_or(e, "users"),
    }
}

/// POST /settings/tokens — shows the new secret once, in this response.
pub async fn add_token(State(st): State<AppState>, ctx: Ctx, f: CsrfForm) -> WebResult {
    let name = f.nonblank("name").unwrap_or("").to_string();
    if name.is_empty() {
        return Ok(redirect_flash(&back("tokens"), "A token needs a name.", true));
    }
    let r = service::create_token(
        &st,
        &ctx.who,
        name.clone(),
        f.get("role").unwrap_or("Viewer"),
        f.nonblank("expires_in"),
    )
    .await;
    match r {
        Ok((_, secret)) => {
            let mut page = build(&st, &ctx, "tokens").await?;
            page.new_secret = secret;
            page.new_token_name = name;
            let mut resp = ctx.render(&page);
            resp.headers_mut().insert(
                axum::http::header::CACHE_CONTROL,
                axum::http::HeaderValue::from_static("no-store"),
            );
            Ok(resp.into_response())
        }
        Err(e) => flash_or(e, "tokens"),
    }
}

/// POST /settings/tokens/{id}/revoke
pub async fn revoke_token(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    _f: CsrfForm,
) -> WebResult {
    let id: i64 =
        id.parse().map_err(|_| ApiError::field("id", format!("{id:?} is not a token id")))?;
    let actor = ctx.who.actor();
    let now = st.now();
    match st.blocking(move |s| Ok(s.revoke_token(id, &actor, now)?)).await {
        Ok(()) => Ok(redirect_flash(&back("tokens"), "Token revoked.", false)),
        Err(e) => flash_or(e, "tokens"),
    }
}

fn list(f: &CsrfForm, name: &str) -> Vec<String> {
    f.all(name)
        .iter()
        .flat_map(|v| v.split(','))
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

fn time_field(f: &CsrfForm, name: &str) -> ApiResult<Option<Timestamp>> {
    match f.nonblank(name) {
        None => Ok(None),
        Some(v) => {
            // datetime-local sends 2024-03-02T10:00 (the form says UTC).
            let text = if v.len() == 16 { format!("{v}:00Z") } else { v.to_string() };
            Timestamp::parse(&text).map(Some).map_err(|e| ApiError::field(name, e.to_string()))
        }
    }
}

fn rule_spec(st: &AppState, f: &CsrfForm) -> ApiResult<ExclusionSpec> {
    let kind = RuleKind::parse(f.get("kind").unwrap_or("exclusion"))
        .map_err(|e| ApiError::field("kind", e.to_string()))?;
    let mut engines = Vec::new();
    for e in f.all("engine") {
        engines.push(Engine::parse(e).map_err(|x| ApiError::field("engines", x.to_string()))?);
    }
    let mut subnets = Vec::new();
    for s in list(f, "subnets") {
        subnets.push(Cidr::parse(&s).map_err(|e| ApiError::field("subnets", e))?);
    }
    let expires_at = match f.nonblank("expires_in") {
        Some(d) => Some(st.now().plus_micros(
            otwatch_model::time::parse_duration(d).map_err(|e| ApiError::field("expires_in", e))?,
        )),
        None => None,
    };
    Ok(ExclusionSpec {
        name: f.get("name").unwrap_or("").trim().to_string(),
        kind,
        enabled: true,
        reason: f.get("reason").unwrap_or("").trim().to_string(),
        ticket_id: f.nonblank("ticket_id").map(String::from),
        alert_types: list(f, "alert_types"),
        engines,
        sensors: list(f, "sensors"),
        addresses: list(f, "addresses")
            .into_iter()
            .map(|a| AddressMatch { role: AddressRole::Any, address: a })
            .collect(),
        subnets,
        window_start: time_field(f, "window_start")?,
        window_end: time_field(f, "window_end")?,
        expires_at,
    })
}

/// POST /settings/exclusions
pub async fn add_rule(State(st): State<AppState>, ctx: Ctx, f: CsrfForm) -> WebResult {
    let spec = match rule_spec(&st, &f) {
        Ok(s) => s,
        Err(e) => return flash_or(e, "rules"),
    };
    let actor = ctx.who.actor();
    let now = st.now();
    let cat = st.catalog;
    let name = spec.name.clone();
    match st.blocking(move |s| Ok(s.create_exclusion(&spec, cat, &actor, now)?)).await {
        Ok(_) => Ok(redirect_flash(&back("rules"), &format!("Rule {name} created."), false)),
        Err(e) => flash_or(e, "rules"),
    }
}

/// POST /settings/exclusions/{id}/delete
pub async fn delete_rule(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    _f: CsrfForm,
) -> WebResult {
    let id: i64 =
        id.parse().map_err(|_| ApiError::field("id", format!("{id:?} is not a rule id")))?;
    let actor = ctx.who.actor();
    let now = st.now();
    match st.blocking(move |s| Ok(s.delete_exclusion(id, &actor, now)?)).await {
        Ok(()) => Ok(redirect_flash(&back("rules"), "Rule deleted.", false)),
        Err(e) => flash_or(e, "rules"),
    }
}

/// POST /settings/engines/{name} — `state` is `on`, `off` or `default` (back to the
/// configuration file's value). Sensors pick the change up at their next start or refresh.
pub async fn set_engine(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(name): Path<String>,
    f: CsrfForm,
) -> WebResult {
    let engine = match Engine::parse(&name) {
        Ok(e) if e != Engine::MicroAgent => e,
        _ => {
            return Ok(redirect_flash(
                &back("engines"),
                &format!("{name:?} is not a detection engine that can be switched."),
                true,
            ));
        }
    };
    let (on, what) = match f.get("state") {
        Some("on") => (Some(true), "switched on"),
        Some("off") => (Some(false), "switched off"),
        Some("default") => (None, "back to the configuration file's setting"),
        _ => return Ok(redirect_flash(&back("engines"), "Choose on, off or default.", true)),
    };
    match service::set_engine(&st, ctx.who.actor(), engine, on).await {
        Ok(()) => Ok(redirect_flash(
            &back("engines"),
            &format!(
                "{} engine {what}. Sensors pick this up at their next start or refresh.",
                engine.as_str()
            ),
            false,
        )),
        Err(e) => flash_or(e, "engines"),
    }
}
