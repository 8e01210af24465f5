//! Who is calling: sessions (cookie + CSRF token), API tokens, password hashing, role checks.

use std::collections::HashMap;
use std::sync::Mutex;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use otwatch_model::{Actor, ActorKind, Role};

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "otwatch_session";
/// Name of the (script-readable) CSRF cookie.
pub const CSRF_COOKIE: &str = "otwatch_csrf";
/// Header that carries the CSRF token.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// Prefix of API token secrets.
pub const TOKEN_PREFIX: &str = "otw_";
/// Shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 10;

/// The authenticated caller.
#[derive(Clone, Debug)]
pub struct Principal {
    /// User or token name.
    pub name: String,
    /// Role.
    pub role: Role,
    /// User (session) or token.
    pub kind: ActorKind,
    /// The session's CSRF token (sessions only).
    pub csrf: Option<String>,
    /// Client address.
    pub address: Option<String>,
}

impl Principal {
    /// The audit actor.
    pub fn actor(&self) -> Actor {
        Actor { name: self.name.clone(), kind: self.kind, address: self.address.clone() }
    }
}

/// Random bytes as lower-case hex (from the OS generator).
pub fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    if getrandom::fill(&mut buf).is_err() {
        // The OS generator is required for secrets; without it, refuse to make weak ones.
        #[allow(clippy::panic)]
        {
            panic!("the operating system's random number generator failed");
        }
    }
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

/// SHA-256 as hex.
pub fn sha256_hex(s: &str) -> String {
    Sha256::digest(s.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// Hashes a password with argon2id (PHC string).
pub fn hash_password(password: &str) -> ApiResult<String> {
    let salt_bytes: [u8; 16] = {
        let mut b = [0u8; 16];
        getrandom::fill(&mut b).map_err(|e| ApiError::Internal(format!("random: {e}")))?;
        b
    };
    let salt = SaltString::encode_b64(&salt_bytes)
        .map_err(|e| ApiError::Internal(format!("salt: {e}")))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| ApiError::Internal(format!("hashing: {e}")))
}

/// Checks a password against a PHC hash.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
        .unwrap_or(false)
}

/// Checks a new password's strength.
pub fn check_password(password: &str) -> ApiResult<()> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(ApiError::field(
            "password",
            format!("a password needs at least {MIN_PASSWORD_CHARS} characters"),
        ));
    }
    if password.len() > 1024 {
        return Err(ApiError::field("password", "a password may have at most 1024 bytes"));
    }
    Ok(())
}

/// A new API token secret and its stored form: (secret, sha256 hex, display prefix).
pub fn new_token() -> (String, String, String) {
    let secret = format!("{TOKEN_PREFIX}{}", random_hex(20));
    let hash = sha256_hex(&secret);
    let prefix: String = secret.chars().take(TOKEN_PREFIX.len() + 6).collect();
    (secret, hash, prefix)
}

/// Reads one cookie from the headers.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let t = v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")).unwrap_or(v).trim();
    if t.is_empty() { None } else { Some(t) }
}

/// The client address, when the server recorded it.
pub fn client_address(req: &Request) -> Option<String> {
    req.extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip().to_string())
}

/// How often a token's last use is written (microseconds).
const TOKEN_TOUCH_EVERY_US: i64 = 60_000_000;

/// Claims the right to record a token's use now; false when another request
/// claimed it less than `TOKEN_TOUCH_EVERY_US` ago.
fn claim_touch(claims: &Mutex<HashMap<i64, i64>>, id: i64, now: i64) -> bool {
    let mut m = claims.lock().unwrap_or_else(|p| p.into_inner());
    match m.get(&id) {
        Some(&at) if now.saturating_sub(at) < TOKEN_TOUCH_EVERY_US && at <= now => false,
        _ => {
            m.insert(id, now);
            true
        }
    }
}

/// Works out who is calling: an API token (`Authorization: Bearer otw_…` or
/// the bare token, as Defender for IoT scripts send it) or a session cookie.
pub async fn resolve(
    state: &AppState,
    headers: &HeaderMap,
    address: Option<String>,
) -> ApiResult<Option<Principal>> {
    let now = state.now();
    if let Some(secret) = bearer(headers) {
        let hash = sha256_hex(secret);
        let tok = state.blocking(move |s| Ok(s.token_by_hash(&hash)?)).await?;
        return match tok {
            Some(t) if t.usable_at(now) => {
                let id = t.id;
                // Recording use is best effort; a read-only moment must not fail the request.
                // At most once a minute per token: the write transaction it takes was most
                // of a grid request's time (about 2 of 2.5 ms, BENCHMARKS.md).
                // The in-memory claim keeps a burst of concurrent requests (which all read
                // the same stale time) from queueing one write each.
                if t.last_used_at.is_none_or(|u| now.0.saturating_sub(u.0) >= TOKEN_TOUCH_EVERY_US)
                    && claim_touch(&state.token_touches, id, now.0)
                {
                    let _ = state.blocking(move |s| Ok(s.touch_token(id, now)?)).await;
                }
                Ok(Some(Principal {
                    name: format!("token:{}", t.name),
                    role: t.role,
                    kind: ActorKind::Token,
                    csrf: None,
                    address,
                }))
            }
            _ => Err(ApiError::Unauthenticated),
        };
    }
    let Some(id) = cookie(headers, SESSION_COOKIE) else { return Ok(None) };
    let Some(sess) = state.sessions.get(id, now) else { return Ok(None) };
    let name = sess.user.clone();
    let user = state.blocking(move |s| Ok(s.user_by_name(&name)?)).await?;
    match user {
        Some(u) if !u.disabled => Ok(Some(Principal {
            name: u.name,
            role: u.role,
            kind: ActorKind::User,
            csrf: Some(sess.csrf),
            address,
        })),
        _ => {
            state.sessions.remove(id);
            Ok(None)
        }
    }
}

/// Middleware: requires `need` (or nothing, for public routes), checks CSRF
/// on unsafe methods from browser sessions, and records the caller.
pub async fn guard(
    State((state, need)): State<(AppState, Option<Role>)>,
    mut req: Request,
    next: Next,
) -> Response {
    let Some(need) = need else { return next.run(req).await };
    let address = client_address(&req);
    let principal = match resolve(&state, req.headers(), address).await {
        Ok(Some(p)) => p,
        Ok(None) => return ApiError::Unauthenticated.into_response(),
        Err(e) => return e.into_response(),
    };
    if principal.role < need {
        return ApiError::Forbidden { have: principal.role.to_string(), need: need.to_string() }
            .into_response();
    }
    let unsafe_method = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if unsafe_method && principal.kind == ActorKind::User {
        let sent = req.headers().get(CSRF_HEADER).and_then(|v| v.to_str().ok());
        let ok = match (&principal.csrf, sent) {
            (Some(want), Some(got)) => constant_time_eq(want.as_bytes(), got.as_bytes()),
            _ => false,
        };
        if !ok {
            return ApiError::Csrf.into_response();
        }
    }
    req.extensions_mut().insert(principal);
    next.run(req).await
}

/// Compares secrets without leaking where they differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_and_verify() {
        let h = hash_password("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &h));
        assert!(!verify_password("wrong", &h));
        assert!(!verify_password("x", "not a hash"));
        assert!(check_password("short").is_err());
    }

    #[test]
    fn a_token_use_is_claimed_once_a_minute() {
        let claims = Mutex::new(HashMap::new());
        assert!(claim_touch(&claims, 1, 1_000_000), "the first request records");
        assert!(!claim_touch(&claims, 1, 1_000_001), "a concurrent request does not");
        assert!(claim_touch(&claims, 2, 1_000_001), "another token does");
        assert!(!claim_touch(&claims, 1, 1_000_000 + TOKEN_TOUCH_EVERY_US - 1));
        assert!(claim_touch(&claims, 1, 1_000_000 + TOKEN_TOUCH_EVERY_US), "a minute later");
        // A clock set back does not silence the token for the difference.
        assert!(claim_touch(&claims, 2, 500));
    }

    #[test]
    fn tokens_are_random_and_hashed() {
        let (a, ha, pa) = new_token();
        let (b, _, _) = new_token();
        assert_ne!(a, b);
        assert!(a.starts_with("otw_") && a.len() == 44);
        assert_eq!(ha, sha256_hex(&a));
        assert!(a.starts_with(&pa));
    }

    #[test]
    fn cookies_parse() {
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, "a=1; otwatch_session=abc ; b=2".parse().unwrap());
        assert_eq!(cookie(&h, SESSION_COOKIE), Some("abc"));
        assert_eq!(cookie(&h, "c"), None);
    }
}
