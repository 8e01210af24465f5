//! Shared state of the console: the store, the clock, sessions, sign-in limits and metrics.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use otwatch_model::{Catalog, Engine, Timestamp};
use otwatch_store::Store;

use crate::error::{ApiError, ApiResult};

/// A clock: the console's only source of "now" (tests pin it).
pub type Clock = Arc<dyn Fn() -> Timestamp + Send + Sync>;

/// The wall clock.
pub fn system_clock() -> Clock {
    Arc::new(|| {
        let d =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        Timestamp(d.as_micros() as i64)
    })
}

/// Console settings the handlers need.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Session lifetime, microseconds.
    pub session_ttl: i64,
    /// Auto-close period, microseconds.
    pub auto_close_after: i64,
    /// Largest request body.
    pub max_body_bytes: usize,
    /// Request timeout.
    pub request_timeout: std::time::Duration,
    /// Whether cookies get the Secure flag (served over TLS).
    pub secure_cookies: bool,
    /// Rows a hunting query may return.
    pub hunt_row_limit: usize,
    /// Time a hunting query may take.
    pub hunt_time_limit: std::time::Duration,
    /// Sensor id, name, site and zone of the built-in sensor (for compatibility APIs).
    pub sensor_name: String,
    /// Detection engines on or off in the configuration (`detect.engines.*`); the console's
    /// setting `detect.engines.<key>` (`true`/`false`) overrides them.
    pub engines: BTreeMap<Engine, bool>,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            session_ttl: 12 * 3600 * 1_000_000,
            auto_close_after: otwatch_model::lifecycle::DEFAULT_AUTO_CLOSE,
            max_body_bytes: 16 << 20,
            request_timeout: std::time::Duration::from_secs(30),
            secure_cookies: false,
            hunt_row_limit: 10_000,
            hunt_time_limit: std::time::Duration::from_secs(30),
            sensor_name: "sensor-1".into(),
            engines: Engine::ALL.iter().map(|e| (*e, true)).collect(),
        }
    }
}

/// Everything a handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The store.
    pub store: Arc<dyn Store>,
    /// The alert catalogue.
    pub catalog: &'static Catalog,
    /// Settings.
    pub settings: Arc<Settings>,
    /// Now.
    pub clock: Clock,
    /// Browser sessions.
    pub sessions: Arc<Sessions>,
    /// Sign-in failure tracking.
    pub limiter: Arc<LoginLimiter>,
    /// Counters for /metrics.
    pub metrics: Arc<Metrics>,
    /// When each API token's last use was last claimed for writing
    /// (microseconds), so concurrent requests write it once, not once each.
    pub token_touches: Arc<Mutex<HashMap<i64, i64>>>,
}

impl AppState {
    /// State over a store with default settings and the wall clock.
    pub fn new(store: Arc<dyn Store>, settings: Settings, clock: Clock) -> AppState {
        AppState {
            store,
            catalog: otwatch_model::catalog::builtin(),
            sessions: Arc::new(Sessions::new(settings.session_ttl)),
            settings: Arc::new(settings),
            clock,
            limiter: Arc::new(LoginLimiter::default()),
            metrics: Arc::new(Metrics::default()),
            token_touches: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// Now.
    pub fn now(&self) -> Timestamp {
        (self.clock)()
    }

    /// Runs blocking store work off the async threads.
    pub async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&dyn Store) -> ApiResult<T> + Send + 'static,
    ) -> ApiResult<T> {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || f(store.as_ref())).await?
    }
}

/// One signed-in browser session.
#[derive(Clone, Debug)]
pub struct Session {
    /// User name.
    pub user: String,
    /// The CSRF token that unsafe requests must echo.
    pub csrf: String,
    /// Created.
    pub created: Timestamp,
    /// Expires.
    pub expires: Timestamp,
}

/// Sessions, keyed by the SHA-256 of the session id (the id itself is only in the cookie).
pub struct Sessions {
    ttl: i64,
    map: Mutex<HashMap<String, Session>>,
}

/// Most sessions kept; the oldest are dropped beyond this.
pub const MAX_SESSIONS: usize = 10_000;

impl Sessions {
    /// Sessions lasting `ttl` microseconds.
    pub fn new(ttl: i64) -> Sessions {
        Sessions { ttl, map: Mutex::new(HashMap::new()) }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Session>> {
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Starts a new session (a fresh id every time: no session fixation). Returns (id, session).
    pub fn create(&self, user: &str, now: Timestamp) -> (String, Session) {
        let id = crate::auth::random_hex(32);
        let s = Session {
            user: user.to_string(),
            csrf: crate::auth::random_hex(24),
            created: now,
            expires: now.plus_micros(self.ttl),
        };
        let mut m = self.lock();
        m.retain(|_, v| v.expires > now);
        if m.len() >= MAX_SESSIONS
            && let Some(oldest) = m.iter().min_by_key(|(_, v)| v.created).map(|(k, _)| k.clone())
        {
            m.remove(&oldest);
        }
        m.insert(crate::auth::sha256_hex(&id), s.clone());
        (id, s)
    }

    /// The live session for an id.
    pub fn get(&self, id: &str, now: Timestamp) -> Option<Session> {
        let key = crate::auth::sha256_hex(id);
        let mut m = self.lock();
        match m.get(&key) {
            Some(s) if s.expires > now => Some(s.clone()),
            Some(_) => {
                m.remove(&key);
                None
            }
            None => None,
        }
    }

    /// Ends a session.
    pub fn remove(&self, id: &str) {
        self.lock().remove(&crate::auth::sha256_hex(id));
    }

    /// Ends every session of a user (after removal, disabling or a password reset).
    pub fn remove_user(&self, user: &str) {
        self.lock().retain(|_, s| s.user != user);
    }

    /// Live sessions.
    pub fn count(&self, now: Timestamp) -> usize {
        self.lock().values().filter(|s| s.expires > now).count()
    }
}

/// Failed sign-ins allowed per user name within the window.
pub const MAX_FAILURES_PER_USER: usize = 5;
/// Failed sign-ins allowed per client address within the window.
pub const MAX_FAILURES_PER_ADDRESS: usize = 20;
/// The window, microseconds.
pub const FAILURE_WINDOW: i64 = 5 * 60 * 1_000_000;

/// Counts failed sign-ins per user and per address.
#[derive(Default)]
pub struct LoginLimiter {
    failures: Mutex<HashMap<String, VecDeque<Timestamp>>>,
}

impl LoginLimiter {
    /// Refuses when a key has too many recent failures; returns seconds to wait.
    pub fn check(&self, keys: &[(String, usize)], now: Timestamp) -> ApiResult<()> {
        let mut m = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        for (key, max) in keys {
            if let Some(q) = m.get_mut(key) {
                while q.front().is_some_and(|t| t.0 <= now.0 - FAILURE_WINDOW) {
                    q.pop_front();
                }
                if q.len() >= *max {
                    let oldest = q.front().copied().unwrap_or(now);
                    let wait = ((oldest.0 + FAILURE_WINDOW - now.0) / 1_000_000).max(1) as u64;
                    return Err(ApiError::TooManyAttempts(wait));
                }
            }
        }
        Ok(())
    }

    /// Records a failure for every key.
    pub fn fail(&self, keys: &[(String, usize)], now: Timestamp) {
        let mut m = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if m.len() > 100_000 {
            m.clear();
        }
        for (key, _) in keys {
            let q = m.entry(key.clone()).or_default();
            q.push_back(now);
            while q.len() > 100 {
                q.pop_front();
            }
        }
    }

    /// Forgets a user's failures after a success.
    pub fn succeed(&self, user_key: &str) {
        self.failures.lock().unwrap_or_else(|p| p.into_inner()).remove(user_key);
    }
}

/// Counters exported at /metrics.
#[derive(Default)]
pub struct Metrics {
    /// Requests by (method, route, status).
    pub requests: Mutex<BTreeMap<(String, String, u16), u64>>,
    /// Sum of request durations by route, microseconds.
    pub request_micros: Mutex<BTreeMap<String, u64>>,
    /// Failed sign-ins.
    pub login_failures: AtomicU64,
    /// Successful sign-ins.
    pub logins: AtomicU64,
    /// Detections received through the API.
    pub detections_received: AtomicU64,
    /// Alerts opened through the API.
    pub alerts_opened: AtomicU64,
    /// Alerts auto-closed by the sweep.
    pub auto_closed: AtomicU64,
    /// Alerts deleted by retention.
    pub retention_alerts: AtomicU64,
    /// Events deleted by retention.
    pub retention_events: AtomicU64,
    /// PCAP bytes freed by retention.
    pub retention_pcap_bytes: AtomicU64,
    /// Retention passes run.
    pub retention_runs: AtomicU64,
}

impl Metrics {
    /// Counts one request.
    pub fn observe(&self, method: &str, route: &str, status: u16, micros: u64) {
        *self
            .requests
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry((method.to_string(), route.to_string(), status))
            .or_default() += 1;
        *self
            .request_micros
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(route.to_string())
            .or_default() += micros;
    }

    /// Adds to a counter.
    pub fn add(c: &AtomicU64, n: u64) {
        c.fetch_add(n, Ordering::Relaxed);
    }
}
