//! Baseline entries: traffic that is known to be normal.
//!
//! Learning an alert adds an entry for exactly its traffic (its fingerprint);
//! unlearning removes it. Detection engines add entries of their own kinds
//! (pairs, protocols, function codes) while learning.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{AlertId, Timestamp};

/// One baseline entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BaselineEntry {
    /// Kind (`alert` for learned alerts, or an engine's own kind).
    pub kind: String,
    /// Canonical key within the kind (for `alert`: the fingerprint).
    pub key: String,
    /// Readable facts about the entry (type, devices, protocol…).
    pub detail: BTreeMap<String, String>,
    /// The alert it was learned from, if any.
    pub source_alert: Option<AlertId>,
    /// When it was added.
    pub created_at: Timestamp,
    /// Who added it.
    pub created_by: String,
}

/// The kind of entries that learned alerts create.
pub const ALERT_KIND: &str = "alert";
