//! The storage port of otwatch.
//!
//! [`Store`] is the one interface every part of otwatch stores through:
//! alert ingest with de-duplication and exclusion rules, alert queries and
//! triage, exclusion rules, the baseline, the inventory, the event timeline,
//! users, tokens and the audit log. Backends (`otwatch-store-sqlite`, later
//! PostgreSQL) implement it and must pass the conformance suite in
//! [`conformance`] (feature `testsuite`).
//!
//! The trait is synchronous: storage calls are short and a server calls them
//! from a blocking thread. Every method that changes state takes the acting
//! [`Actor`] and `now`, because the store never reads a clock. No SQL type,
//! row type or connection appears in this API.

#[cfg(feature = "testsuite")]
pub mod conformance;
mod error;
pub mod query;

pub use error::{Result, StoreError};
pub use query::{
    AggregatedAlert, AlertPage, AlertQuery, AuditQuery, ConnectionQuery, Cursor, DeviceGroup,
    DeviceQuery, EventQuery, Filter, FilterOp, GroupCount, MAX_PAGE_FOR_BULK, Sort, TimeRange,
    Value,
};

use otwatch_model::lifecycle::Action;
use otwatch_model::{
    Actor, Alert, AlertField, AlertId, ApiToken, AuditRecord, BaselineEntry, Catalog, Comment,
    Connection, ConnectionObservation, Detection, Device, DeviceObservation, Event, ExclusionRule,
    ExclusionSpec, NewEvent, Role, Sensor, Timestamp, User,
};

/// Settings for one ingest call.
#[derive(Clone, Copy, Debug)]
pub struct IngestOptions<'a> {
    /// The alert catalogue (type facts are copied into new alerts).
    pub catalog: &'a Catalog,
    /// Wall time of the ingest, for last activity and rule expiry.
    pub now: Timestamp,
    /// Auto-close period in microseconds.
    pub auto_close_after: i64,
}

/// What an ingest call did, detection by detection, in totals.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IngestReport {
    /// Detections received.
    pub received: u64,
    /// Already ingested before (same idempotency key): skipped.
    pub duplicates: u64,
    /// Rejected (unknown alert type…), with the index in the batch and the reason.
    pub rejected: Vec<(usize, String)>,
    /// Dropped by an exclusion rule or maintenance window.
    pub excluded: u64,
    /// Suppressed because the traffic is learned.
    pub suppressed_learned: u64,
    /// Suppressed because the traffic is muted.
    pub suppressed_muted: u64,
    /// New alerts opened.
    pub opened: u64,
    /// Sightings that updated an open alert.
    pub updated: u64,
    /// Open alerts auto-closed because a sighting came after the quiet period.
    pub auto_closed: u64,
    /// Ids of the alerts opened, in order.
    pub new_alert_ids: Vec<AlertId>,
}

impl IngestReport {
    /// Adds another report's counts to this one (for several batches).
    pub fn merge(&mut self, other: IngestReport, offset: usize) {
        self.received += other.received;
        self.duplicates += other.duplicates;
        self.rejected.extend(other.rejected.into_iter().map(|(i, m)| (i + offset, m)));
        self.excluded += other.excluded;
        self.suppressed_learned += other.suppressed_learned;
        self.suppressed_muted += other.suppressed_muted;
        self.opened += other.opened;
        self.updated += other.updated;
        self.auto_closed += other.auto_closed;
        self.new_alert_ids.extend(other.new_alert_ids);
    }
}

/// An alert with everything the details page shows.
#[derive(Clone, Debug, PartialEq)]
pub struct AlertDetails {
    /// The alert.
    pub alert: Alert,
    /// Its comments, oldest first.
    pub comments: Vec<Comment>,
    /// Its history from the audit log, oldest first.
    pub history: Vec<AuditRecord>,
}

/// Outcome of a triage action on one alert.
#[derive(Clone, Debug, PartialEq)]
pub struct ActionOutcome {
    /// The alert.
    pub id: AlertId,
    /// `Ok(true)` changed, `Ok(false)` already so (no-op), `Err` refused.
    pub result: std::result::Result<bool, String>,
}

/// A change to a device's user-editable properties.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DevicePatch {
    /// Name.
    pub name: Option<String>,
    /// Type.
    pub device_type: Option<otwatch_model::DeviceType>,
    /// Authorized.
    pub authorized: Option<bool>,
    /// Programming device.
    pub programming_device: Option<bool>,
    /// Known scanner.
    pub scanner: Option<bool>,
    /// Importance.
    pub importance: Option<otwatch_model::Importance>,
}

/// How much to keep. `None` means no limit of that kind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RetentionPolicy {
    /// Alerts first detected longer ago than this (microseconds), and with no
    /// activity (detection or triage) for as long, are deleted whatever their
    /// status (with their comments and PCAP). Alerts from an old capture
    /// replayed today are kept until they have been idle that long.
    pub alert_max_age: Option<i64>,
    /// At most this many alerts are kept: the least recently touched (by a
    /// detection, an ingest or a person) go first, whatever their status.
    pub alert_max_count: Option<u64>,
    /// Events older than this are deleted.
    pub event_max_age: Option<i64>,
    /// At most this many events are kept (the oldest go first).
    pub event_max_count: Option<u64>,
    /// PCAP evidence is kept up to this many bytes in all (the oldest goes first).
    pub pcap_max_bytes: Option<u64>,
}

/// What a retention pass removed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RetentionReport {
    /// Alerts deleted.
    pub alerts: u64,
    /// Events deleted.
    pub events: u64,
    /// PCAP evidence files deleted.
    pub pcaps: u64,
    /// PCAP bytes freed.
    pub pcap_bytes: u64,
    /// Idempotency keys forgotten (older than the alert age limit).
    pub ingest_keys: u64,
}

/// Sizes of what is stored, for status pages and metrics.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StoreStats {
    /// Alerts.
    pub alerts: u64,
    /// Events.
    pub events: u64,
    /// Devices.
    pub devices: u64,
    /// Connections.
    pub connections: u64,
    /// Alerts with PCAP evidence.
    pub pcaps: u64,
    /// Bytes of PCAP evidence.
    pub pcap_bytes: u64,
    /// Size of the database on disk, bytes.
    pub size_bytes: u64,
}

/// A hunting query saved by a user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SavedQuery {
    /// Id.
    pub id: i64,
    /// The user it belongs to.
    pub owner: String,
    /// Its name.
    pub name: String,
    /// The KQL text.
    pub query: String,
    /// Last saved.
    pub updated_at: Timestamp,
}

/// A value passed to or returned from a hunting read.
#[derive(Clone, Debug, PartialEq)]
pub enum SqlValue {
    /// SQL NULL.
    Null,
    /// An integer.
    Int(i64),
    /// A float.
    Real(f64),
    /// Text.
    Text(String),
}

/// Rows returned by a hunting read.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SqlRows {
    /// Column names, in order.
    pub columns: Vec<String>,
    /// The rows.
    pub rows: Vec<Vec<SqlValue>>,
    /// More rows existed than `max_rows`.
    pub truncated: bool,
}

/// Storage for everything otwatch keeps. See the crate documentation.
pub trait Store: Send + Sync {
    /// Backend name, e.g. `sqlite`.
    fn backend(&self) -> &'static str;

    /// Schema version of the open database.
    fn schema_version(&self) -> Result<u32>;

    // ---- alerts -------------------------------------------------------

    /// Stores detections: idempotent (a detection already ingested is
    /// skipped), applies exclusion rules, then the lifecycle's de-duplication
    /// (update the open alert, open a new one, or suppress). All or nothing.
    fn ingest(&self, detections: &[Detection], opts: &IngestOptions<'_>) -> Result<IngestReport>;

    /// One alert.
    fn alert(&self, id: AlertId) -> Result<Alert>;

    /// One alert with comments and history.
    fn alert_details(&self, id: AlertId) -> Result<AlertDetails>;

    /// A page of alerts.
    fn list_alerts(&self, q: &AlertQuery) -> Result<AlertPage>;

    /// How many alerts match (paging ignored).
    fn count_alerts(&self, q: &AlertQuery) -> Result<u64>;

    /// How many alerts match, counting no further than `cap`: `(count, more)`
    /// where `more` says there are more than `cap`. Fast on huge stores.
    fn count_alerts_up_to(&self, q: &AlertQuery, cap: u64) -> Result<(u64, bool)> {
        let n = self.count_alerts(q)?;
        Ok((n.min(cap), n > cap))
    }

    /// Counts per value of one column among matching alerts, largest first.
    fn group_alerts(&self, q: &AlertQuery, by: AlertField) -> Result<Vec<GroupCount>>;

    /// Calls `f` for every matching alert in sort order (paging ignored);
    /// returns how many. For exports: memory stays flat.
    fn for_each_alert(
        &self,
        q: &AlertQuery,
        f: &mut dyn FnMut(&Alert) -> Result<()>,
    ) -> Result<u64>;

    /// Applies a triage action to each alert; one outcome per id. Refusals
    /// don't stop the others.
    fn apply(
        &self,
        ids: &[AlertId],
        action: &Action,
        actor: &Actor,
        now: Timestamp,
    ) -> Result<Vec<ActionOutcome>>;

    /// Closes open alerts quiet for longer than `quiet_period`; returns how many.
    fn auto_close(&self, now: Timestamp, quiet_period: i64, actor: &Actor) -> Result<u64>;

    /// Same-type alerts grouped per aggregation period (the micro-agent view).
    fn aggregate_alerts(&self, q: &AlertQuery, period: i64) -> Result<Vec<AggregatedAlert>>;

    /// Stores the PCAP evidence of an alert (replacing any before).
    fn put_alert_pcap(&self, id: AlertId, pcap: &[u8]) -> Result<()>;

    /// The PCAP evidence of an alert, if any is kept.
    fn alert_pcap(&self, id: AlertId) -> Result<Option<Vec<u8>>>;

    // ---- exclusion rules ---------------------------------------------

    /// Creates a rule (validated against the catalogue); audited.
    fn create_exclusion(
        &self,
        spec: &ExclusionSpec,
        catalog: &Catalog,
        actor: &Actor,
        now: Timestamp,
    ) -> Result<ExclusionRule>;

    /// Replaces a rule's conditions; audited.
    fn update_exclusion(
        &self,
        id: i64,
        spec: &ExclusionSpec,
        catalog: &Catalog,
        actor: &Actor,
        now: Timestamp,
    ) -> Result<ExclusionRule>;

    /// Deletes a rule; audited.
    fn delete_exclusion(&self, id: i64, actor: &Actor, now: Timestamp) -> Result<()>;

    /// One rule.
    fn exclusion(&self, id: i64) -> Result<ExclusionRule>;

    /// All rules, newest first.
    fn list_exclusions(&self) -> Result<Vec<ExclusionRule>>;

    // ---- baseline -----------------------------------------------------

    /// Baseline entries, optionally of one kind.
    fn baseline(&self, kind: Option<&str>) -> Result<Vec<BaselineEntry>>;

    /// Adds entries (existing keys are kept); returns how many were new.
    fn add_baseline(&self, entries: &[BaselineEntry]) -> Result<u64>;

    /// Removes one entry; returns whether it existed.
    fn remove_baseline(&self, kind: &str, key: &str) -> Result<bool>;

    // ---- inventory and timeline ----------------------------------------

    /// Merges device observations; returns the device id of each.
    fn upsert_devices(&self, obs: &[DeviceObservation]) -> Result<Vec<i64>>;

    /// One device.
    fn device(&self, id: i64) -> Result<Device>;

    /// Devices matching a query, most recently seen first.
    fn list_devices(&self, q: &DeviceQuery) -> Result<Vec<Device>>;

    /// How many devices match.
    fn count_devices(&self, q: &DeviceQuery) -> Result<u64>;

    /// Device counts per value of one column.
    fn group_devices(&self, q: &DeviceQuery, by: DeviceGroup) -> Result<Vec<GroupCount>>;

    /// Changes user-editable device properties; audited.
    fn update_device(
        &self,
        id: i64,
        patch: &DevicePatch,
        actor: &Actor,
        now: Timestamp,
    ) -> Result<Device>;

    /// Merges connection counts; returns how many connections were new.
    fn upsert_connections(&self, obs: &[ConnectionObservation]) -> Result<u64>;

    /// Merges one input batch's connection counts exactly once: stores the
    /// keyed event `key` (a sensor's `CAPTURE_BATCH`) and the counts
    /// together, or, when that key is already stored, nothing (`None`).
    /// Returns how many connections were new. A backend must do both in one
    /// transaction, so that a crash or a full disk between them cannot leave
    /// a key whose counts are missing (a re-run would then skip them for
    /// ever); the default, for backends without transactions, cannot promise that.
    fn upsert_connections_once(
        &self,
        key: &NewEvent,
        obs: &[ConnectionObservation],
    ) -> Result<Option<u64>> {
        if self.append_events(std::slice::from_ref(key))? == 0 {
            return Ok(None);
        }
        self.upsert_connections(obs).map(Some)
    }

    /// Connections matching a query, most recently seen first.
    fn list_connections(&self, q: &ConnectionQuery) -> Result<Vec<Connection>>;

    /// Appends timeline events (an event whose key is already stored is
    /// skipped); returns how many were stored.
    fn append_events(&self, events: &[NewEvent]) -> Result<u64>;

    /// Events, newest first.
    fn list_events(&self, q: &EventQuery) -> Result<Vec<Event>>;

    /// Records a sensor (insert or update).
    fn upsert_sensor(&self, sensor: &Sensor) -> Result<()>;

    /// All sensors.
    fn list_sensors(&self) -> Result<Vec<Sensor>>;

    // ---- users, tokens, audit -----------------------------------------

    /// Creates a user with an already-hashed password; audited.
    fn create_user(
        &self,
        name: &str,
        role: Role,
        password_hash: &str,
        actor: &Actor,
        now: Timestamp,
    ) -> Result<User>;

    /// A user by login name.
    fn user_by_name(&self, name: &str) -> Result<Option<User>>;

    /// All users.
    fn list_users(&self) -> Result<Vec<User>>;

    /// Changes a user's role; audited.
    fn set_user_role(&self, name: &str, role: Role, actor: &Actor, now: Timestamp) -> Result<User>;

    /// Replaces a user's password hash; audited (the hash is not recorded).
    fn set_user_password(
        &self,
        name: &str,
        password_hash: &str,
        actor: &Actor,
        now: Timestamp,
    ) -> Result<()>;

    /// Enables or disables a user; audited.
    fn set_user_disabled(
        &self,
        name: &str,
        disabled: bool,
        actor: &Actor,
        now: Timestamp,
    ) -> Result<()>;

    /// Removes a user; audited.
    fn delete_user(&self, name: &str, actor: &Actor, now: Timestamp) -> Result<()>;

    /// Records a successful sign-in.
    fn touch_login(&self, name: &str, now: Timestamp) -> Result<()>;

    /// Stores a token (its hash); audited.
    #[allow(clippy::too_many_arguments)]
    fn create_token(
        &self,
        name: &str,
        role: Role,
        hash: &str,
        prefix: &str,
        expires_at: Option<Timestamp>,
        actor: &Actor,
        now: Timestamp,
    ) -> Result<ApiToken>;

    /// A token by the hash of its secret.
    fn token_by_hash(&self, hash: &str) -> Result<Option<ApiToken>>;

    /// All tokens.
    fn list_tokens(&self) -> Result<Vec<ApiToken>>;

    /// Revokes a token; audited. Revoking twice is a no-op.
    fn revoke_token(&self, id: i64, actor: &Actor, now: Timestamp) -> Result<()>;

    /// Records that a token was used.
    fn touch_token(&self, id: i64, now: Timestamp) -> Result<()>;

    /// Writes an audit record for something done outside the store.
    fn record_audit(
        &self,
        actor: &Actor,
        action: &str,
        object_type: &str,
        object_id: &str,
        summary: &str,
        now: Timestamp,
    ) -> Result<()>;

    /// Audit records, newest first.
    fn list_audit(&self, q: &AuditQuery) -> Result<Vec<AuditRecord>>;

    // ---- operations -----------------------------------------------------

    /// Deletes what the policy no longer keeps; returns what went.
    fn apply_retention(&self, policy: &RetentionPolicy, now: Timestamp) -> Result<RetentionReport>;

    /// Counts and sizes.
    fn stats(&self) -> Result<StoreStats>;

    // ---- preferences and settings -------------------------------------

    /// A user's preference, if set.
    fn user_pref(&self, owner: &str, key: &str) -> Result<Option<String>>;

    /// Sets a user's preference (empty value removes it).
    fn set_user_pref(&self, owner: &str, key: &str, value: &str) -> Result<()>;

    /// Console-wide settings changed at run time (key → value).
    fn settings(&self) -> Result<std::collections::BTreeMap<String, String>>;

    /// Changes a console-wide setting; audited.
    fn set_setting(&self, key: &str, value: &str, actor: &Actor, now: Timestamp) -> Result<()>;

    // ---- hunting --------------------------------------------------------

    /// Saves (or replaces, by name) a user's hunting query.
    fn save_query(
        &self,
        owner: &str,
        name: &str,
        query: &str,
        now: Timestamp,
    ) -> Result<SavedQuery>;

    /// A user's saved queries, by name.
    fn saved_queries(&self, owner: &str) -> Result<Vec<SavedQuery>>;

    /// Deletes one of a user's saved queries.
    fn delete_query(&self, owner: &str, id: i64) -> Result<()>;

    /// Runs one read-only SELECT over the hunting relations (see
    /// `otwatch_model::hunt`), built by the query compiler with every user
    /// value as a bound parameter. Refuses anything that is not a single
    /// read-only statement; stops after `time_limit` with `TimeLimit`;
    /// returns at most `max_rows` rows (`truncated` says if there were more).
    fn hunt_sql(
        &self,
        sql: &str,
        params: &[SqlValue],
        max_rows: usize,
        time_limit: std::time::Duration,
    ) -> Result<SqlRows>;
}
