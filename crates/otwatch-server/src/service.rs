//! Operations shared by the REST API (`api/`) and the web console (`views/`).
//!
//! Both front ends read their parameters in their own way (JSON bodies,
//! forms, URL parameters) and then call these functions, so a triage action,
//! a bulk change or a device's details behave the same whether they come from
//! a script or from a browser. Nothing here knows JSON or HTML.

use std::collections::BTreeMap;

use otwatch_model::lifecycle::Action;
use otwatch_model::{
    Actor, AlertField, AlertId, ApiToken, Connection, Device, Event, Role, Severity, Status, User,
};
use otwatch_store::{
    AlertDetails, AlertQuery, ConnectionQuery, EventQuery, Filter, GroupCount, MAX_PAGE_FOR_BULK,
};

use crate::auth::{self, Principal};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// An alert with its comments, history and the inventory records of its two devices.
#[derive(Clone, Debug)]
pub struct AlertView {
    /// The alert, comments and history.
    pub details: AlertDetails,
    /// Inventory records by role (`source`, `destination`), when known.
    pub devices: BTreeMap<&'static str, Device>,
}

/// Loads one alert for the details page or `GET /api/v1/alerts/{id}`.
pub async fn alert_view(st: &AppState, id: i64) -> ApiResult<AlertView> {
    st.blocking(move |s| {
        let details = s.alert_details(AlertId(id))?;
        let mut devices = BTreeMap::new();
        for (role, ep) in
            [("source", &details.alert.source), ("destination", &details.alert.destination)]
        {
            if let Some(dev) = ep.device_id
                && let Ok(dv) = s.device(dev)
            {
                devices.insert(role, dv);
            }
        }
        Ok(AlertView { details, devices })
    })
    .await
}

/// The actions of a status and/or severity change, read from their names.
pub fn patch_actions(status: Option<&str>, severity: Option<&str>) -> ApiResult<Vec<Action>> {
    let mut v = Vec::new();
    if let Some(s) = status {
        v.push(Action::SetStatus(
            Status::parse(s).map_err(|e| ApiError::field("status", e.to_string()))?,
        ));
    }
    if let Some(s) = severity {
        v.push(Action::SetSeverity(
            Severity::parse(s).map_err(|e| ApiError::field("severity", e.to_string()))?,
        ));
    }
    Ok(v)
}

/// A named triage action of the bulk endpoint and the grid's toolbar.
pub fn named_action(name: &str) -> ApiResult<Action> {
    Ok(match name.to_ascii_lowercase().as_str() {
        "learn" => Action::Learn,
        "mute" => Action::Mute,
        "unlearn" => Action::Unlearn,
        "unmute" => Action::Unmute,
        "close" => Action::SetStatus(Status::Closed),
        _ => {
            return Err(ApiError::field(
                "action",
                format!("{name:?} is not one of learn, mute, unlearn, unmute, close"),
            ));
        }
    })
}

/// Applies actions to one alert, in order; a refused action stops with 409.
pub async fn act(st: &AppState, actor: Actor, id: i64, actions: Vec<Action>) -> ApiResult<()> {
    let now = st.now();
    st.blocking(move |s| {
        s.alert(AlertId(id))?;
        for a in &actions {
            let r = s.apply(&[AlertId(id)], a, &actor, now)?;
            if let Some(Err(e)) = r.into_iter().next().map(|o| o.result) {
                return Err(ApiError::Conflict(e));
            }
        }
        Ok(())
    })
    .await
}

/// Checks a comment's text.
pub fn comment_action(text: &str) -> ApiResult<Action> {
    if text.trim().is_empty() {
        return Err(ApiError::field("text", "a comment needs some text"));
    }
    if text.chars().count() > otwatch_model::lifecycle::MAX_COMMENT_CHARS {
        return Err(ApiError::field(
            "text",
            format!("at most {} characters", otwatch_model::lifecycle::MAX_COMMENT_CHARS),
        ));
    }
    Ok(Action::Comment(text.to_string()))
}

/// Which alerts a bulk change goes to.
#[derive(Clone, Debug)]
pub enum BulkTarget {
    /// These ids.
    Ids(Vec<i64>),
    /// Every alert the grid's filter matches (at most [`MAX_PAGE_FOR_BULK`]).
    Query(AlertQuery),
}

/// Per alert id: (changed, refusal).
pub type BulkOutcome = BTreeMap<i64, (bool, Option<String>)>;

/// Applies actions to many alerts; refusals do not stop the others.
pub async fn bulk(
    st: &AppState,
    actor: Actor,
    target: BulkTarget,
    actions: Vec<Action>,
) -> ApiResult<BulkOutcome> {
    if let BulkTarget::Ids(ids) = &target
        && ids.len() > MAX_PAGE_FOR_BULK
    {
        return Err(ApiError::field("ids", format!("at most {MAX_PAGE_FOR_BULK} ids per request")));
    }
    let now = st.now();
    st.blocking(move |s| {
        let ids: Vec<AlertId> = match target {
            BulkTarget::Query(q) => {
                let mut v = Vec::new();
                s.for_each_alert(&q, &mut |a| {
                    if v.len() >= MAX_PAGE_FOR_BULK {
                        return Err(otwatch_store::StoreError::invalid(
                            "filter",
                            format!(
                                "the filter matches more than {MAX_PAGE_FOR_BULK} alerts; narrow it"
                            ),
                        ));
                    }
                    v.push(a.id);
                    Ok(())
                })?;
                v
            }
            BulkTarget::Ids(ids) => ids.into_iter().map(AlertId).collect(),
        };
        let mut per: BulkOutcome = ids.iter().map(|i| (i.0, (false, None))).collect();
        for a in &actions {
            for o in s.apply(&ids, a, &actor, now)? {
                let e = per.entry(o.id.0).or_default();
                match o.result {
                    Ok(true) => e.0 = true,
                    Ok(false) => {}
                    Err(m) => e.1 = Some(m),
                }
            }
        }
        Ok(per)
    })
    .await
}

/// Per-value counts of several columns, each ignoring its own filter (filter menus).
pub async fn facets(
    st: &AppState,
    q: AlertQuery,
    fields: Vec<AlertField>,
) -> ApiResult<Vec<(AlertField, Vec<GroupCount>)>> {
    for f in &fields {
        if !f.groupable() {
            return Err(ApiError::field("fields", format!("no counts for {}", f.key())));
        }
    }
    st.blocking(move |s| {
        let mut out = Vec::new();
        for f in fields {
            let mut q2 = q.clone();
            q2.filters.retain(|x| x.field != f);
            out.push((f, s.group_alerts(&q2, f)?));
        }
        Ok(out)
    })
    .await
}

/// A device with what its details page shows.
#[derive(Clone, Debug)]
pub struct DeviceView {
    /// The device.
    pub device: Device,
    /// Alerts where it is the source or destination, newest first.
    pub alerts: Vec<otwatch_model::Alert>,
    /// Its connections, most recent first.
    pub connections: Vec<Connection>,
    /// Its events, newest first.
    pub events: Vec<Event>,
}

/// Loads a device with up to `limit` alerts, connections and events each.
pub async fn device_view(st: &AppState, id: i64, limit: usize) -> ApiResult<DeviceView> {
    st.blocking(move |s| {
        let device = s.device(id)?;
        let mut alerts = Vec::new();
        if let Some(ip) = &device.ip {
            for f in [AlertField::SourceIp, AlertField::DestinationIp] {
                let q = AlertQuery {
                    filters: vec![Filter::any_of(f, &[ip])?],
                    limit,
                    ..AlertQuery::default()
                };
                alerts.extend(s.list_alerts(&q)?.items);
            }
        }
        alerts.sort_by(|a, b| b.last_detection.cmp(&a.last_detection).then(b.id.cmp(&a.id)));
        alerts.dedup_by_key(|a| a.id);
        let connections = s.list_connections(&ConnectionQuery {
            device_id: Some(id),
            limit,
            ..Default::default()
        })?;
        let events =
            s.list_events(&EventQuery { device_id: Some(id), limit, ..Default::default() })?;
        Ok(DeviceView { device, alerts, connections, events })
    })
    .await
}

/// Adds a user (role by name; the password is checked and hashed here).
pub async fn add_user(
    st: &AppState,
    actor: Actor,
    name: String,
    role: &str,
    password: String,
) -> ApiResult<User> {
    let role = Role::parse(role).map_err(|e| ApiError::field("role", e.to_string()))?;
    auth::check_password(&password)?;
    let hash = tokio::task::spawn_blocking(move || auth::hash_password(&password)).await??;
    let now = st.now();
    st.blocking(move |s| Ok(s.create_user(&name, role, &hash, &actor, now)?)).await
}

/// Creates an API token; returns it with its secret, which is shown this once.
pub async fn create_token(
    st: &AppState,
    who: &Principal,
    name: String,
    role: &str,
    expires_in: Option<&str>,
) -> ApiResult<(ApiToken, String)> {
    let role = Role::parse(role).map_err(|e| ApiError::field("role", e.to_string()))?;
    if role > who.role {
        return Err(ApiError::field("role", "a token cannot have a higher role than its creator"));
    }
    let now = st.now();
    let expires = match expires_in {
        Some(d) => Some(now.plus_micros(
            otwatch_model::time::parse_duration(d).map_err(|e| ApiError::field("expires_in", e))?,
        )),
        None => None,
    };
    let (secret, hash, prefix) = auth::new_token();
    let actor = who.actor();
    let t = st
        .blocking(move |s| Ok(s.create_token(&name, role, &hash, &prefix, expires, &actor, now)?))
        .await?;
    Ok((t, secret))
}

/// Changes a user's role, enables or disables them, or resets their password;
/// a reset or a disable ends their sessions. Returns the user, or 404.
pub async fn update_user(
    st: &AppState,
    actor: Actor,
    name: String,
    role: Option<&str>,
    disabled: Option<bool>,
    password: Option<String>,
) -> ApiResult<Option<User>> {
    let role =
        role.map(Role::parse).transpose().map_err(|e| ApiError::field("role", e.to_string()))?;
    let hash = match password {
        Some(pw) => {
            auth::check_password(&pw)?;
            Some(tokio::task::spawn_blocking(move || auth::hash_password(&pw)).await??)
        }
        None => None,
    };
    let now = st.now();
    let n = name.clone();
    let revoke = hash.is_some() || disabled == Some(true);
    let u = st
        .blocking(move |s| {
            if s.user_by_name(&n)?.is_none() {
                return Err(ApiError::NotFound(format!("user {n} not found")));
            }
            if let Some(r) = role {
                s.set_user_role(&n, r, &actor, now)?;
            }
            if let Some(d) = disabled {
                s.set_user_disabled(&n, d, &actor, now)?;
            }
            if let Some(h) = hash {
                s.set_user_password(&n, &h, &actor, now)?;
            }
            Ok(s.user_by_name(&n)?)
        })
        .await?;
    if revoke {
        st.sessions.remove_user(&name);
    }
    Ok(u)
}

/// Removes a user and ends their sessions.
pub async fn delete_user(st: &AppState, actor: Actor, name: String) -> ApiResult<()> {
    let now = st.now();
    let n = name.clone();
    st.blocking(move |s| Ok(s.delete_user(&n, &actor, now)?)).await?;
    st.sessions.remove_user(&name);
    Ok(())
}

/// What a hunting query gave: its result or its error, and how long it took.
#[derive(Debug)]
pub struct HuntOutcome {
    /// The result, or the query's error (with code and position).
    pub result: Result<otwatch_query::QueryResult, otwatch_query::QueryError>,
    /// Wall time of the run, milliseconds.
    pub elapsed_ms: f64,
}

/// Runs a hunting query with the console's limits (rows: at most `hunt.row_limit`; time:
/// `hunt.time_limit`), "now" from the console's clock.
pub async fn hunt(st: &AppState, text: String, limit: Option<usize>) -> ApiResult<HuntOutcome> {
    let mut opts = otwatch_query::RunOptions::new(st.now().0);
    opts.max_rows =
        limit.unwrap_or(st.settings.hunt_row_limit).clamp(1, st.settings.hunt_row_limit);
    opts.time_limit = st.settings.hunt_time_limit;
    let started = std::time::Instant::now();
    let result = st.blocking(move |s| Ok(crate::hunt::run(s, &text, &opts))).await?;
    Ok(HuntOutcome { result, elapsed_ms: started.elapsed().as_secs_f64() * 1000.0 })
}

/// A device edit as a form or a script sends it: names of types, `None` for "unchanged".
#[derive(Clone, Debug, Default)]
pub struct DeviceEdit {
    /// New name (blank clears it).
    pub name: Option<String>,
    /// Device type by name (`PLC`, `HMI`, …).
    pub device_type: Option<String>,
    /// Authorized device.
    pub authorized: Option<bool>,
    /// Allowed to program controllers.
    pub programming_device: Option<bool>,
    /// Known scanner.
    pub scanner: Option<bool>,
    /// Importance by name (`Low`, `Normal`, `High`).
    pub importance: Option<String>,
}

/// Reads a device edit into the store's patch; a bad name of a type or importance names its field.
pub fn device_patch(e: &DeviceEdit) -> ApiResult<otwatch_store::DevicePatch> {
    Ok(otwatch_store::DevicePatch {
        name: e.name.clone(),
        device_type: e
            .device_type
            .as_deref()
            .map(otwatch_model::DeviceType::parse)
            .transpose()
            .map_err(|x| ApiError::field("device_type", x.to_string()))?,
        authorized: e.authorized,
        programming_device: e.programming_device,
        scanner: e.scanner,
        importance: e
            .importance
            .as_deref()
            .map(otwatch_model::Importance::parse)
            .transpose()
            .map_err(|x| ApiError::field("importance", x.to_string()))?,
    })
}

/// Changes a device's user-editable properties (`Store::update_device`, audited), as
/// `PATCH /api/v1/devices/{id}` does. Only the fields that differ from the stored device
/// are written, so the audit record lists real changes.
pub async fn update_device(
    st: &AppState,
    actor: Actor,
    id: i64,
    edit: DeviceEdit,
) -> ApiResult<(Device, bool)> {
    let mut patch = device_patch(&edit)?;
    let now = st.now();
    st.blocking(move |s| {
        let d = s.device(id)?;
        if patch.name.as_deref().map(str::trim) == Some(d.name.as_deref().unwrap_or("").trim()) {
            patch.name = None;
        }
        if patch.device_type == Some(d.device_type) {
            patch.device_type = None;
        }
        if patch.authorized == Some(d.authorized) {
            patch.authorized = None;
        }
        if patch.programming_device == Some(d.programming_device) {
            patch.programming_device = None;
        }
        if patch.scanner == Some(d.scanner) {
            patch.scanner = None;
        }
        if patch.importance == Some(d.importance) {
            patch.importance = None;
        }
        let changed = patch != otwatch_store::DevicePatch::default();
        if !changed {
            return Ok((d, false));
        }
        Ok((s.update_device(id, &patch, &actor, now)?, true))
    })
    .await
}

/// The console setting that switches an engine (`detect.engines.<config key>`).
pub fn engine_setting(e: otwatch_model::Engine) -> String {
    format!("detect.engines.{}", e.config_key())
}

/// One detection engine's state.
#[derive(Clone, Debug)]
pub struct EngineState {
    /// The engine.
    pub engine: otwatch_model::Engine,
    /// On in the configuration file.
    pub configured: bool,
    /// The console's override, if set.
    pub override_: Option<bool>,
    /// What sensors use: the override, else the configuration.
    pub effective: bool,
    /// The console setting's key (`detect.engines.<config key>`).
    pub key: String,
}

/// Engines that run in sensors and can be switched (alerts from agents always come in).
pub fn switchable_engines() -> impl Iterator<Item = otwatch_model::Engine> {
    otwatch_model::Engine::ALL.iter().copied().filter(|e| *e != otwatch_model::Engine::MicroAgent)
}

/// Every switchable engine with its configured and effective state.
pub async fn engine_states(st: &AppState) -> ApiResult<Vec<EngineState>> {
    let settings = st.blocking(|s| Ok(s.settings()?)).await?;
    Ok(switchable_engines()
        .map(|e| {
            let key = engine_setting(e);
            let configured = st.settings.engines.get(&e).copied().unwrap_or(true);
            let override_ = match settings.get(&key).map(String::as_str) {
                Some("true") => Some(true),
                Some("false") => Some(false),
                _ => None,
            };
            EngineState {
                engine: e,
                configured,
                override_,
                effective: override_.unwrap_or(configured),
                key,
            }
        })
        .collect())
}

/// Switches an engine on or off for the sensors (`Some`), or back to the configuration's
/// value (`None`, stored as an empty value); audited.
pub async fn set_engine(
    st: &AppState,
    actor: Actor,
    engine: otwatch_model::Engine,
    on: Option<bool>,
) -> ApiResult<()> {
    if engine == otwatch_model::Engine::MicroAgent {
        return Err(ApiError::field("engine", "alerts from agents cannot be switched off here"));
    }
    let key = engine_setting(engine);
    let value = match on {
        Some(true) => "true",
        Some(false) => "false",
        None => "",
    };
    let now = st.now();
    st.blocking(move |s| Ok(s.set_setting(&key, value, &actor, now)?)).await
}
