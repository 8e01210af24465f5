//! Sign-in, users, API tokens, exclusion rules, the audit log and the catalogue.

use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use otwatch_model::{ExclusionSpec, Role};
use otwatch_store::AuditQuery;

use crate::api::json::Json;
use crate::api::params::{get, time_param};
use crate::auth::{self, Principal};
use crate::error::{ApiError, ApiResult};
use crate::state::{AppState, MAX_FAILURES_PER_ADDRESS, MAX_FAILURES_PER_USER, Metrics};

/// Body of POST /api/v1/auth/login.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Login {
    username: String,
    password: String,
}

/// The session and CSRF cookies (`max_age` 0 clears them).
pub fn session_cookies(
    st: &AppState,
    id: &str,
    csrf: &str,
    max_age: i64,
) -> axum::response::AppendHeaders<[(header::HeaderName, String); 2]> {
    let secure = if st.settings.secure_cookies { "; Secure" } else { "" };
    axum::response::AppendHeaders([
        (
            header::SET_COOKIE,
            format!(
                "{}={id}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}",
                auth::SESSION_COOKIE
            ),
        ),
        (
            header::SET_COOKIE,
            format!(
                "{}={csrf}; Path=/; SameSite=Strict; Max-Age={max_age}{secure}",
                auth::CSRF_COOKIE
            ),
        ),
    ])
}

/// Signs a user in with name and password; the one place passwords are checked.
pub async fn sign_in(
    st: &AppState,
    username: &str,
    password: &str,
    address: Option<String>,
) -> ApiResult<(String, crate::state::Session, Role)> {
    let now = st.now();
    let keys = vec![
        (format!("user:{}", username.to_ascii_lowercase()), MAX_FAILURES_PER_USER),
        (format!("addr:{}", address.as_deref().unwrap_or("?")), MAX_FAILURES_PER_ADDRESS),
    ];
    st.limiter.check(&keys, now)?;
    let name = username.to_string();
    let user = st.blocking(move |s| Ok(s.user_by_name(&name)?)).await?;
    let pw = password.to_string();
    let ok = match &user {
        Some(u) if !u.disabled => {
            let hash = u.password_hash.clone();
            tokio::task::spawn_blocking(move || auth::verify_password(&pw, &hash)).await?
        }
        _ => {
            // Same work whether or not the user exists.
            let _ = tokio::task::spawn_blocking(move || auth::verify_password(&pw, "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$qKKkk0Vq3+fZ7aVbmLd3m3fBi4sM1dZ1cKqf1qfB5Yk")).await;
            false
        }
    };
    let addr_text = address.clone().unwrap_or_default();
    let who = otwatch_model::Actor {
        name: username.to_string(),
        kind: otwatch_model::ActorKind::User,
        address: address.clone(),
    };
    match (ok, user) {
        (true, Some(u)) => {
            st.limiter.succeed(&keys[0].0);
            let (id, sess) = st.sessions.create(&u.name, now);
            let name = u.name.clone();
            let who2 = who.clone();
            st.blocking(move |s| {
                s.touch_login(&name, now)?;
                s.record_audit(
                    &who2,
                    "login",
                    "user",
                    &name,
                    &format!("signed in from {addr_text}"),
                    now,
                )?;
                Ok(())
            })
            .await?;
            Metrics::add(&st.metrics.logins, 1);
            Ok((id, sess, u.role))
        }
        _ => {
            st.limiter.fail(&keys, now);
            Metrics::add(&st.metrics.login_failures, 1);
            let name = username.chars().take(64).collect::<String>();
            let _ = st
                .blocking(move |s| {
                    Ok(s.record_audit(
                        &who,
                        "login_failed",
                        "user",
                        &name,
                        "wrong name or password",
                        now,
                    )?)
                })
                .await;
            Err(ApiError::Unauthenticated)
        }
    }
}

/// POST /api/v1/auth/login
pub async fn login(State(st): State<AppState>, req: axum::extract::Request) -> ApiResult<Response> {
    let address = auth::client_address(&req);
    let bytes = axum::body::to_bytes(req.into_body(), 64 * 1024)
        .await
        .map_err(|_| ApiError::TooLarge(64 * 1024))?;
    let b: Login = crate::api::json::parse(&bytes)?;
    let (id, sess, role) = sign_in(&st, &b.username, &b.password, address).await?;
    let max_age = (sess.expires.0 - sess.created.0) / 1_000_000;
    Ok((
        session_cookies(&st, &id, &sess.csrf, max_age),
        axum::Json(json!({"user": sess.user, "role": role, "csrf_token": sess.csrf, "expires": sess.expires})),
    )
        .into_response())
}

/// POST /api/v1/auth/logout
pub async fn logout(State(st): State<AppState>, headers: HeaderMap) -> ApiResult<Response> {
    if let Some(id) = auth::cookie(&headers, auth::SESSION_COOKIE) {
        st.sessions.remove(id);
    }
    Ok((session_cookies(&st, "", "", 0), StatusCode::NO_CONTENT).into_response())
}

/// GET /api/v1/auth/me
pub async fn me(Extension(who): Extension<Principal>) -> ApiResult<Response> {
    Ok(axum::Json(json!({"name": who.name, "role": who.role, "kind": who.kind})).into_response())
}

/// GET /api/v1/users
pub async fn users(State(st): State<AppState>) -> ApiResult<Response> {
    let u = st.blocking(|s| Ok(s.list_users()?)).await?;
    Ok(axum::Json(json!({"items": u})).into_response())
}

/// Body of POST /api/v1/users.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    name: String,
    role: String,
    password: String,
}

/// POST /api/v1/users
pub async fn add_user(
    State(st): State<AppState>,
    Extension(who): Extension<Principal>,
    Json(b): Json<NewUser>,
) -> ApiResult<Response> {
    let u = crate::service::add_user(&st, who.actor(), b.name, &b.role, b.password).await?;
    Ok((StatusCode::CREATED, axum::Json(u)).into_response())
}

/// Body of PATCH /api/v1/users/{name}.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    role: Option<String>,
    disabled: Option<bool>,
    password: Option<String>,
}

/// PATCH /api/v1/users/{name}
pub async fn patch_user(
    State(st): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(name): Path<String>,
    Json(b): Json<UserPatch>,
) -> ApiResult<Response> {
    let u = crate::service::update_user(
        &st,
        who.actor(),
        name,
        b.role.as_deref(),
        b.disabled,
        b.password,
    )
    .await?;
    Ok(axum::Json(u).into_response())
}

/// DELETE /api/v1/users/{name}
pub async fn delete_user(
    State(st): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(name): Path<String>,
) -> ApiResult<Response> {
    crate::service::delete_user(&st, who.actor(), name).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// GET /api/v1/tokens
pub async fn tokens(State(st): State<AppState>) -> ApiResult<Response> {
    let t = st.blocking(|s| Ok(s.list_tokens()?)).await?;
    Ok(axum::Json(json!({"items": t})).into_response())
}

/// Body of POST /api/v1/tokens.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    name: String,
    role: String,
    /// Lifetime, e.g. "90d"; none = no expiry.
    expires_in: Option<String>,
}

/// POST /api/v1/tokens — the secret is in this response only.
pub async fn add_token(
    State(st): State<AppState>,
    Extension(who): Extension<Principal>,
    Json(b): Json<NewToken>,
) -> ApiResult<Response> {
    let (t, secret) =
        crate::service::create_token(&st, &who, b.name, &b.role, b.expires_in.as_deref()).await?;
    Ok((StatusCode::CREATED, axum::Json(json!({"token": t, "secret": secret, "note": "store the secret now: it is not shown again"}))).into_response())
}

/// DELETE /api/v1/tokens/{id}
pub async fn revoke_token(
    State(st): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let id: i64 =
        id.parse().map_err(|_| ApiError::field("id", format!("{id:?} is not a token id")))?;
    let actor = who.actor();
    let now = st.now();
    st.blocking(move |s| Ok(s.revoke_token(id, &actor, now)?)).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// GET /api/v1/exclusions
pub async fn exclusions(State(st): State<AppState>) -> ApiResult<Response> {
    let r = st.blocking(|s| Ok(s.list_exclusions()?)).await?;
    Ok(axum::Json(json!({"items": r})).into_response())
}

/// GET /api/v1/exclusions/{id}
pub async fn exclusion(State(st): State<AppState>, Path(id): Path<String>) -> ApiResult<Response> {
    let id: i64 =
        id.parse().map_err(|_| ApiError::field("id", format!("{id:?} is not a rule id")))?;
    let r = st.blocking(move |s| Ok(s.exclusion(id)?)).await?;
    Ok(axum::Json(r).into_response())
}

/// POST /api/v1/exclusions
pub async fn add_exclusion(
    State(st): State<AppState>,
    Extension(who): Extension<Principal>,
    Json(spec): Json<ExclusionSpec>,
) -> ApiResult<Response> {
    let actor = who.actor();
    let now = st.now();
    let cat = st.catalog;
    let r = st.blocking(move |s| Ok(s.create_exclusion(&spec, cat, &actor, now)?)).await?;
    Ok((StatusCode::CREATED, axum::Json(r)).into_response())
}

/// PUT /api/v1/exclusions/{id}
pub async fn put_exclusion(
    State(st): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
    Json(spec): Json<ExclusionSpec>,
) -> ApiResult<Response> {
    let id: i64 =
        id.parse().map_err(|_| ApiError::field("id", format!("{id:?} is not a rule id")))?;
    let actor = who.actor();
    let now = st.now();
    let cat = st.catalog;
    let r = st.blocking(move |s| Ok(s.update_exclusion(id, &spec, cat, &actor, now)?)).await?;
    Ok(axum::Json(r).into_response())
}

/// DELETE /api/v1/exclusions/{id}
pub async fn delete_exclusion(
    State(st): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let id: i64 =
        id.parse().map_err(|_| ApiError::field("id", format!("{id:?} is not a rule id")))?;
    let actor = who.actor();
    let now = st.now();
    st.blocking(move |s| Ok(s.delete_exclusion(id, &actor, now)?)).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// GET /api/v1/audit
pub async fn audit(
    State(st): State<AppState>,
    Query(p): Query<Vec<(String, String)>>,
) -> ApiResult<Response> {
    crate::api::inventory::only_known(&p, crate::api::AUDIT_PARAMS)?;
    let now = st.now();
    let q = AuditQuery {
        object_type: get(&p, "object_type").map(String::from),
        object_id: get(&p, "object_id").map(String::from),
        actor: get(&p, "actor").map(String::from),
        from: get(&p, "from").map(|v| time_param("from", v, now)).transpose()?,
        to: get(&p, "to").map(|v| time_param("to", v, now)).transpose()?,
        limit: match get(&p, "limit") {
            Some(v) => {
                v.parse().map_err(|_| ApiError::field("limit", format!("{v:?} is not a number")))?
            }
            None => 0,
        },
    };
    let r = st.blocking(move |s| Ok(s.list_audit(&q)?)).await?;
    Ok(axum::Json(json!({"items": r})).into_response())
}

/// GET /api/v1/catalog
pub async fn catalog(State(st): State<AppState>) -> ApiResult<Response> {
    Ok(axum::Json(json!({"items": st.catalog.types()})).into_response())
}

/// Ensures there is an admin: creates `admin` with `password` (or a generated
/// one, returned so it can be printed once) when the store has no users.
pub async fn first_admin(st: &AppState, password: Option<String>) -> ApiResult<Option<String>> {
    let users = st.blocking(|s| Ok(s.list_users()?)).await?;
    if !users.is_empty() {
        return Ok(None);
    }
    let generated = password.is_none();
    let pw = password.unwrap_or_else(|| auth::random_hex(12));
    auth::check_password(&pw)?;
    let p2 = pw.clone();
    let hash = tokio::task::spawn_blocking(move || auth::hash_password(&p2)).await??;
    let now = st.now();
    st.blocking(move |s| {
        Ok(s.create_user("admin", Role::Admin, &hash, &otwatch_model::Actor::system(), now)?)
    })
    .await?;
    Ok(if generated { Some(pw) } else { Some(String::new()) })
}
