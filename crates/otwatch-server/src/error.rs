//! One error type for every handler, turned into a response in one place.
//!
//! 4xx bodies are JSON `{"error": {"code", "message", "field"}}` that say
//! what was wrong and, when a request value was at fault, which field. 5xx
//! bodies say nothing internal; the detail is logged.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use otwatch_store::StoreError;

/// A handler failure.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No valid session or token.
    #[error("sign in first: no valid session or API token")]
    Unauthenticated,
    /// Signed in, but the role may not do this.
    #[error("your role ({have}) may not do this; it needs {need}")]
    Forbidden {
        /// The caller's role.
        have: String,
        /// The role needed.
        need: String,
    },
    /// A state-changing request from a browser session without the CSRF token.
    #[error("missing or wrong CSRF token: send the X-CSRF-Token header you got at sign-in")]
    Csrf,
    /// A request value is wrong.
    #[error("{message}")]
    BadRequest {
        /// The field at fault, if one.
        field: Option<String>,
        /// What is wrong.
        message: String,
    },
    /// Nothing with that id.
    #[error("{0}")]
    NotFound(String),
    /// Conflicts with stored state.
    #[error("{0}")]
    Conflict(String),
    /// The body is larger than allowed.
    #[error("the request body is larger than {0} bytes")]
    TooLarge(usize),
    /// Too many sign-in failures.
    #[error("too many failed sign-ins; try again in {0} s")]
    TooManyAttempts(u64),
    /// Took too long.
    #[error("{0}")]
    Timeout(String),
    /// The store is full (disk or `store.max_size_bytes`): a sender must
    /// know its batch was not stored, and why, to keep it and retry.
    #[error("{0}")]
    StorageFull(String),
    /// Anything else; the detail is logged, not returned.
    #[error("internal error")]
    Internal(String),
}

impl ApiError {
    /// A 400 naming a field.
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> ApiError {
        ApiError::BadRequest { field: Some(field.into()), message: message.into() }
    }

    /// A 400 without a field.
    pub fn bad(message: impl Into<String>) -> ApiError {
        ApiError::BadRequest { field: None, message: message.into() }
    }

    fn status_code(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::Unauthenticated => (StatusCode::UNAUTHORIZED, "unauthenticated"),
            ApiError::Forbidden { .. } => (StatusCode::FORBIDDEN, "forbidden"),
            ApiError::Csrf => (StatusCode::FORBIDDEN, "csrf"),
            ApiError::BadRequest { .. } => (StatusCode::BAD_REQUEST, "invalid_request"),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            ApiError::TooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "too_large"),
            ApiError::TooManyAttempts(_) => (StatusCode::TOO_MANY_REQUESTS, "too_many_attempts"),
            ApiError::Timeout(_) => (StatusCode::SERVICE_UNAVAILABLE, "timeout"),
            ApiError::StorageFull(_) => (StatusCode::INSUFFICIENT_STORAGE, "storage_full"),
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        match e {
            StoreError::NotFound { .. } => ApiError::NotFound(e.to_string()),
            StoreError::Invalid { field, message } => {
                ApiError::BadRequest { field: Some(field), message }
            }
            StoreError::Conflict(m) => ApiError::Conflict(m),
            StoreError::Lifecycle { .. } => ApiError::Conflict(e.to_string()),
            StoreError::TimeLimit(_) => ApiError::Timeout(e.to_string()),
            StoreError::Full(_) => ApiError::StorageFull(e.to_string()),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<tokio::task::JoinError> for ApiError {
    fn from(e: tokio::task::JoinError) -> ApiError {
        ApiError::Internal(format!("a worker task failed: {e}"))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_code();
        let message = self.to_string();
        if let ApiError::Internal(detail) = &self {
            tracing::error!(message = "Request failed.", error = %detail);
        }
        let field = match &self {
            ApiError::BadRequest { field, .. } => field.clone(),
            _ => None,
        };
        let mut resp = (
            status,
            axum::Json(json!({"error": {"code": code, "message": message, "field": field}})),
        )
            .into_response();
        if let ApiError::TooManyAttempts(secs) = self
            && let Ok(v) = axum::http::HeaderValue::from_str(&secs.to_string())
        {
            resp.headers_mut().insert(axum::http::header::RETRY_AFTER, v);
        }
        if status == StatusCode::UNAUTHORIZED {
            resp.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer"),
            );
        }
        resp
    }
}

/// Result alias for handlers.
pub type ApiResult<T> = Result<T, ApiError>;
