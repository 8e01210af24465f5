//! The otwatch console server: REST API and web console over the store.
//!
//! [`router`] is the only way the application is built, so handler tests run
//! it without a socket (`tower::ServiceExt::oneshot`) and the server runs the
//! same thing on a listener. Every route comes from one table
//! ([`api::routes`]) that also produces the OpenAPI document and the role test
//! matrix; each route's least role is checked by one middleware
//! ([`auth::guard`]). Handlers hold no business logic: they read parameters,
//! call the store (on blocking threads) and shape JSON.

pub mod api;
pub mod auth;
pub mod error;
pub mod hunt;
pub mod service;
pub mod state;
pub mod views;

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::error::ApiError;
pub use crate::state::{AppState, Settings, system_clock};

/// Builds the whole application.
pub fn router(state: AppState) -> Router {
    let mut r: Router<AppState> = Router::new();
    for (spec, handler) in api::routes() {
        let guard = middleware::from_fn_with_state((state.clone(), spec.role), auth::guard);
        r = r.route(spec.path, handler.layer(guard));
    }
    for (spec, handler) in views::routes() {
        let guard = middleware::from_fn_with_state((state.clone(), spec.role), views::guard);
        r = r.route(spec.path, handler.layer(guard));
    }
    let limit = state.settings.max_body_bytes;
    let timeout = state.settings.request_timeout;
    r.fallback(not_found)
        .layer(middleware::from_fn_with_state(state.clone(), observe))
        .layer(middleware::from_fn(move |req: Request, next: Next| limit_time(req, next, timeout)))
        .layer(DefaultBodyLimit::max(limit))
        .layer(SetResponseHeaderLayer::if_not_present(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        .layer(SetResponseHeaderLayer::if_not_present(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
        .layer(SetResponseHeaderLayer::if_not_present(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(HeaderName::from_static("cross-origin-opener-policy"), HeaderValue::from_static("same-origin")))
        .with_state(state)
}

async fn not_found() -> Response {
    ApiError::NotFound("no such endpoint; see /api/v1/openapi.json".into()).into_response()
}

/// Stops a request that runs longer than the configured timeout.
async fn limit_time(req: Request, next: Next, timeout: Duration) -> Response {
    match tokio::time::timeout(timeout, next.run(req)).await {
        Ok(r) => r,
        Err(_) => {
            ApiError::Timeout(format!("the request took longer than {} s", timeout.as_secs()))
                .into_response()
        }
    }
}

/// Counts and logs every request; turns oversized bodies into the API's error shape.
async fn observe(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().to_string();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| "(none)".into());
    let resp = next.run(req).await;
    let resp = if resp.status() == StatusCode::PAYLOAD_TOO_LARGE
        && resp.headers().get(header::CONTENT_TYPE).is_none_or(|c| c != "application/json")
    {
        ApiError::TooLarge(st.settings.max_body_bytes).into_response()
    } else {
        resp
    };
    let micros = started.elapsed().as_micros() as u64;
    st.metrics.observe(&method, &route, resp.status().as_u16(), micros);
    tracing::info!(message = "Request.", method = %method, route = %route, status = resp.status().as_u16(), micros);
    resp
}

/// GET /healthz
pub async fn health(State(st): State<AppState>) -> Response {
    match st.blocking(|s| Ok(s.schema_version()?)).await {
        Ok(v) => axum::Json(json!({"status": "ok", "schema_version": v})).into_response(),
        Err(_) => {
            (StatusCode::SERVICE_UNAVAILABLE, axum::Json(json!({"status": "store unavailable"})))
                .into_response()
        }
    }
}

/// GET /metrics (Prometheus text format)
pub async fn metrics(State(st): State<AppState>) -> Response {
    use std::fmt::Write;
    let mut out = String::new();
    let m = &st.metrics;
    let _ = writeln!(
        out,
        "# HELP otwatch_http_requests_total HTTP requests by method, route and status.\n# TYPE otwatch_http_requests_total counter"
    );
    for ((method, route, status), n) in m.requests.lock().unwrap_or_else(|p| p.into_inner()).iter()
    {
        let _ = writeln!(
            out,
            "otwatch_http_requests_total{{method=\"{method}\",route=\"{}\",status=\"{status}\"}} {n}",
            route.replace('"', "'")
        );
    }
    let _ = writeln!(
        out,
        "# HELP otwatch_http_request_seconds_sum Time spent per route.\n# TYPE otwatch_http_request_seconds_sum counter"
    );
    for (route, us) in m.request_micros.lock().unwrap_or_else(|p| p.into_inner()).iter() {
        let _ = writeln!(
            out,
            "otwatch_http_request_seconds_sum{{route=\"{}\"}} {:.6}",
            route.replace('"', "'"),
            *us as f64 / 1e6
        );
    }
    for (name, help, v) in [
        ("otwatch_logins_total", "Successful sign-ins.", m.logins.load(Ordering::Relaxed)),
        (
            "otwatch_login_failures_total",
            "Failed sign-ins.",
            m.login_failures.load(Ordering::Relaxed),
        ),
        (
            "otwatch_detections_received_total",
            "Detections received through the API.",
            m.detections_received.load(Ordering::Relaxed),
        ),
        (
            "otwatch_alerts_opened_total",
            "Alerts opened through the API.",
            m.alerts_opened.load(Ordering::Relaxed),
        ),
        (
            "otwatch_retention_runs_total",
            "Retention passes run.",
            m.retention_runs.load(Ordering::Relaxed),
        ),
        (
            "otwatch_retention_alerts_deleted_total",
            "Alerts deleted by retention.",
            m.retention_alerts.load(Ordering::Relaxed),
        ),
        (
            "otwatch_retention_events_deleted_total",
            "Events deleted by retention.",
            m.retention_events.load(Ordering::Relaxed),
        ),
        (
            "otwatch_retention_pcap_bytes_freed_total",
            "PCAP evidence bytes freed by retention.",
            m.retention_pcap_bytes.load(Ordering::Relaxed),
        ),
        (
            "otwatch_alerts_auto_closed_total",
            "Alerts closed by the auto-close sweep.",
            m.auto_closed.load(Ordering::Relaxed),
        ),
    ] {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter\n{name} {v}");
    }
    let _ = writeln!(
        out,
        "# HELP otwatch_sessions Live browser sessions.\n# TYPE otwatch_sessions gauge\notwatch_sessions {}",
        st.sessions.count(st.now())
    );
    let counts = st
        .blocking(|s| {
            Ok(s.group_alerts(
                &otwatch_store::AlertQuery::default(),
                otwatch_model::AlertField::Status,
            )?)
        })
        .await;
    if let Ok(groups) = counts {
        let _ = writeln!(
            out,
            "# HELP otwatch_alerts Stored alerts by status.\n# TYPE otwatch_alerts gauge"
        );
        for g in groups {
            let _ = writeln!(out, "otwatch_alerts{{status=\"{}\"}} {}", g.value, g.count);
        }
    }
    if let Ok(stats) = st.blocking(|s| Ok(s.stats()?)).await {
        for (name, help, v) in [
            ("otwatch_store_events", "Stored timeline events.", stats.events),
            ("otwatch_store_devices", "Devices in the inventory.", stats.devices),
            ("otwatch_store_pcap_bytes", "Bytes of alert PCAP evidence kept.", stats.pcap_bytes),
            ("otwatch_store_size_bytes", "Size of the database on disk.", stats.size_bytes),
        ] {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {v}");
        }
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out).into_response()
}

/// How to run the server.
#[derive(Clone, Debug)]
pub struct ServeOptions {
    /// Listen address.
    pub listen: SocketAddr,
    /// TLS certificate and key files (PEM).
    pub tls: Option<(std::path::PathBuf, std::path::PathBuf)>,
    /// How often to auto-close quiet alerts.
    pub auto_close_interval: Duration,
    /// Retention limits and how often to apply them.
    pub retention: Option<(otwatch_store::RetentionPolicy, Duration)>,
}

/// Runs the server until `shutdown` resolves; finishes in-flight requests.
/// `on_ready` is called with the bound address once the listener is open.
pub async fn serve(
    state: AppState,
    opts: ServeOptions,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    on_ready: impl FnOnce(SocketAddr),
) -> std::io::Result<()> {
    let listener = std::net::TcpListener::bind(opts.listen)?;
    listener.set_nonblocking(true)?;
    let bound = listener.local_addr()?;
    let app = router(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
    let sweeper = tokio::spawn(auto_close_loop(state.clone(), opts.auto_close_interval));
    let trimmer = opts
        .retention
        .map(|(policy, every)| tokio::spawn(retention_loop(state.clone(), policy, every)));
    let handle = axum_server::Handle::new();
    let h2 = handle.clone();
    tokio::spawn(async move {
        shutdown.await;
        tracing::info!(message = "Shutting down; finishing requests in flight.");
        h2.graceful_shutdown(Some(Duration::from_secs(10)));
    });
    let result = match opts.tls {
        Some((cert, key)) => {
            let _ = rustls::crypto::ring::default_provider().install_default();
            let cfg = axum_server::tls_rustls::RustlsConfig::from_pem_file(&cert, &key)
                .await
                .map_err(|e| {
                    std::io::Error::new(
                        e.kind(),
                        format!("TLS certificate {} / key {}: {e}", cert.display(), key.display()),
                    )
                })?;
            on_ready(bound);
            axum_server::from_tcp_rustls(listener, cfg).handle(handle).serve(app).await
        }
        None => {
            on_ready(bound);
            axum_server::from_tcp(listener).handle(handle).serve(app).await
        }
    };
    sweeper.abort();
    if let Some(t) = trimmer {
        t.abort();
    }
    result
}

async fn retention_loop(st: AppState, policy: otwatch_store::RetentionPolicy, every: Duration) {
    let every = every.max(Duration::from_secs(1));
    // The first pass runs one interval after start, not at once.
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    loop {
        tick.tick().await;
        let now = st.now();
        match st.blocking(move |s| Ok(s.apply_retention(&policy, now)?)).await {
            Ok(r) => {
                let m = &st.metrics;
                crate::state::Metrics::add(&m.retention_runs, 1);
                crate::state::Metrics::add(&m.retention_alerts, r.alerts);
                crate::state::Metrics::add(&m.retention_events, r.events);
                crate::state::Metrics::add(&m.retention_pcap_bytes, r.pcap_bytes);
                if r != otwatch_store::RetentionReport::default() {
                    tracing::info!(
                        message = "Retention applied.",
                        alerts = r.alerts,
                        events = r.events,
                        pcaps = r.pcaps,
                        pcap_bytes = r.pcap_bytes
                    );
                }
            }
            Err(e) => tracing::warn!(message = "Retention failed.", error = %e),
        }
    }
}

async fn auto_close_loop(st: AppState, every: Duration) {
    let mut tick = tokio::time::interval(every.max(Duration::from_secs(1)));
    loop {
        tick.tick().await;
        let now = st.now();
        let quiet = st.settings.auto_close_after;
        match st
            .blocking(move |s| Ok(s.auto_close(now, quiet, &otwatch_model::Actor::system())?))
            .await
        {
            Ok(n) if n > 0 => {
                crate::state::Metrics::add(&st.metrics.auto_closed, n);
                tracing::info!(message = "Auto-closed quiet alerts.", count = n);
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(message = "Auto-close failed.", error = %e),
        }
    }
}
