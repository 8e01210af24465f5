//! The otwatch domain model: alerts and their lifecycle, the alert-type
//! catalogue, devices, connections, events, exclusion rules, users and the
//! audit record.
//!
//! This crate does no I/O, reads no clock and knows nothing of storage,
//! HTTP or packets. Time arrives as [`Timestamp`] parameters. The lifecycle
//! rules are pure functions in [`lifecycle`], so every caller (store, API,
//! CLI, sync) applies the same rules.

pub mod alert;
pub mod baseline;
pub mod catalog;
pub mod detection;
pub mod engine;
pub mod event;
pub mod exclusion;
pub mod hunt;
pub mod inventory;
pub mod lifecycle;
pub mod mitre;
mod named;
pub mod net;
pub mod security;
pub mod severity;
pub mod text;
pub mod time;

pub use alert::{
    Alert, AlertField, AlertId, Comment, Disposition, Endpoint, FieldKind, Status, spreadsheet_safe,
};
pub use baseline::BaselineEntry;
pub use catalog::{AlertType, Catalog, Threshold};
pub use detection::Detection;
pub use engine::{Category, Engine};
pub use event::{Event, EventSeverity, NewEvent};
pub use exclusion::{AddressMatch, AddressRole, ExclusionRule, ExclusionSpec, RuleKind};
pub use inventory::{
    Connection, ConnectionObservation, Device, DeviceObservation, DeviceType, Importance, Sensor,
    Site,
};
pub use mitre::{Tactic, Technique};
pub use named::UnknownName;
pub use net::Cidr;
pub use security::{Actor, ActorKind, ApiToken, AuditRecord, Role, User};
pub use severity::{PortalSeverity, Severity};
pub use time::Timestamp;
