//! The console's style sheet, script and icon, compiled into the binary.
//!
//! Files are embedded with `include_str!` so `otwatch serve` needs nothing on
//! disk and the CSP can stay `script-src 'self'; style-src 'self'` (no inline
//! code anywhere). The script is small vanilla JavaScript; no build step.

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

const FILES: &[(&str, &str, &str)] = &[
    ("app.css", "text/css; charset=utf-8", include_str!("../../static/app.css")),
    ("print.css", "text/css; charset=utf-8", include_str!("../../static/print.css")),
    ("app.js", "text/javascript; charset=utf-8", include_str!("../../static/app.js")),
    ("icon.svg", "image/svg+xml", include_str!("../../static/icon.svg")),
];

/// GET /static/{file}
pub async fn file(Path(name): Path<String>) -> Response {
    match FILES.iter().find(|(n, _, _)| *n == name) {
        Some((_, ct, body)) => {
            ([(header::CONTENT_TYPE, *ct), (header::CACHE_CONTROL, "public, max-age=300")], *body)
                .into_response()
        }
        None => (StatusCode::NOT_FOUND, "no such file").into_response(),
    }
}
