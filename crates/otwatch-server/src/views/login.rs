//! Sign-in and sign-out pages over the API's one sign-in function.
//!
//! The password check, rate limits, audit records and session cookies are
//! exactly the API's (`api::admin::sign_in`, `api::admin::session_cookies`);
//! this module only reads a form and answers in HTML.

use askama::Template;
use axum::extract::{FromRequest, Query, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};

use crate::api::admin::{session_cookies, sign_in};
use crate::auth;
use crate::error::ApiError;
use crate::state::AppState;
use crate::views::{Chrome, CsrfForm, render, safe_return};

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    chrome: Chrome,
    error: String,
    next: String,
    username: String,
}

fn login_page(status: StatusCode, error: &str, next: &str, username: &str) -> Response {
    let page = LoginPage {
        chrome: Chrome { title: "Sign in".into(), ..Chrome::default() },
        error: error.into(),
        next: next.into(),
        username: username.into(),
    };
    (status, render(&page)).into_response()
}

/// GET /login — the form, or straight on when a session is live.
pub async fn form(
    State(st): State<AppState>,
    headers: HeaderMap,
    Query(p): Query<Vec<(String, String)>>,
) -> Response {
    let next = p.iter().find(|(k, _)| k == "next").map(|(_, v)| v.as_str());
    let next = safe_return(next, "/alerts");
    if let Ok(Some(_)) = auth::resolve(&st, &headers, None).await {
        return Redirect::to(next).into_response();
    }
    login_page(StatusCode::OK, "", next, "")
}

/// POST /login
pub async fn submit(State(st): State<AppState>, req: Request) -> Response {
    let address = auth::client_address(&req);
    let f = match axum::extract::Form::<Vec<(String, String)>>::from_request(req, &st).await {
        Ok(form) => CsrfForm(form.0),
        Err(e) => return login_page(StatusCode::BAD_REQUEST, &e.body_text(), "/alerts", ""),
    };
    let user = f.get("username").unwrap_or("").trim().to_string();
    let pw = f.get("password").unwrap_or("").to_string();
    let next = safe_return(f.get("next"), "/alerts").to_string();
    if user.is_empty() || pw.is_empty() {
        return login_page(
            StatusCode::BAD_REQUEST,
            "Enter your user name and password.",
            &next,
            &user,
        );
    }
    match sign_in(&st, &user, &pw, address).await {
        Ok((id, sess, _role)) => {
            let max_age = (sess.expires.0 - sess.created.0) / 1_000_000;
            (session_cookies(&st, &id, &sess.csrf, max_age), Redirect::to(&next)).into_response()
        }
        Err(ApiError::Unauthenticated) => {
            login_page(StatusCode::UNAUTHORIZED, "Wrong user name or password.", &next, &user)
        }
        Err(e @ ApiError::TooManyAttempts(_)) => {
            login_page(StatusCode::TOO_MANY_REQUESTS, &e.to_string(), &next, &user)
        }
        Err(e) => {
            let (status, msg) = crate::views::status_of(e);
            login_page(status, &msg, &next, &user)
        }
    }
}

/// POST /logout
pub async fn logout(State(st): State<AppState>, headers: HeaderMap, _f: CsrfForm) -> Response {
    if let Some(id) = auth::cookie(&headers, auth::SESSION_COOKIE) {
        st.sessions.remove(id);
    }
    (session_cookies(&st, "", "", 0), Redirect::to("/login")).into_response()
}
