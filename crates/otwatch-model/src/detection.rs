//! A detection: one sighting of alert-worthy traffic, before de-duplication.
//!
//! Engines, sensors and external sources all produce [`Detection`]s; the store
//! turns them into alerts. Two detections are "the same traffic" when their
//! [`Detection::fingerprint`] matches: alert type + source + destination +
//! protocol + site/zone + the type's own key fields. The sensor is left out
//! on purpose so that sensors in one zone that see the same traffic update one
//! alert (the reference's cross-sensor unification).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{Endpoint, Severity, Timestamp};

/// One sighting of alert-worthy traffic.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Detection {
    /// Idempotency key from the producer. Re-sending a detection with the same
    /// id (and sensor) changes nothing. Without it, the content is the key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Catalogue type id.
    #[serde(rename = "type")]
    pub alert_type: String,
    /// When the traffic was seen (packet time, not wall time).
    pub time: Timestamp,
    /// Source device.
    #[serde(default, skip_serializing_if = "Endpoint::is_empty")]
    pub source: Endpoint,
    /// Destination device.
    #[serde(default, skip_serializing_if = "Endpoint::is_empty")]
    pub destination: Endpoint,
    /// Alert protocol.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
    /// Sensor that saw it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sensor: Option<String>,
    /// Site of the sensor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site: Option<String>,
    /// Zone of the sensor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone: Option<String>,
    /// Severity override; the type's default otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<Severity>,
    /// Title override (external sources may name their own alerts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The type's key fields: part of the fingerprint.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub key: BTreeMap<String, String>,
    /// Other facts for the description and details; not part of the fingerprint.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub details: BTreeMap<String, String>,
    /// How many sightings this record stands for (at least 1).
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub count: u64,
}

fn one() -> u64 {
    1
}

fn is_one(n: &u64) -> bool {
    *n == 1
}

impl Detection {
    /// A detection of `alert_type` at `time` with everything else empty.
    pub fn new(alert_type: impl Into<String>, time: Timestamp) -> Detection {
        Detection {
            id: None,
            alert_type: alert_type.into(),
            time,
            source: Endpoint::default(),
            destination: Endpoint::default(),
            protocol: None,
            sensor: None,
            site: None,
            zone: None,
            severity: None,
            title: None,
            key: BTreeMap::new(),
            details: BTreeMap::new(),
            count: 1,
        }
    }

    /// The traffic fingerprint (32 hex digits).
    pub fn fingerprint(&self) -> String {
        let mut h = Sha256::new();
        let mut put = |s: &str| {
            h.update(s.as_bytes());
            h.update([0u8]);
        };
        put("fp1");
        put(&self.alert_type);
        for ep in [&self.source, &self.destination] {
            put(ep.ip.as_deref().unwrap_or(""));
            put(&ep.mac.as_deref().unwrap_or("").to_ascii_lowercase());
        }
        put(&self.protocol.as_deref().unwrap_or("").to_ascii_lowercase());
        put(self.site.as_deref().unwrap_or(""));
        put(self.zone.as_deref().unwrap_or(""));
        for (k, v) in &self.key {
            put(k);
            put(v);
        }
        hex16(&h.finalize())
    }

    /// The idempotency key: a 63-bit hash of the producer's id (with the
    /// sensor), or of the whole content when there is no id.
    pub fn idempotency_key(&self) -> i64 {
        self.idempotency_key_for(&self.fingerprint())
    }

    /// [`Detection::idempotency_key`] with the fingerprint already computed.
    pub fn idempotency_key_for(&self, fingerprint: &str) -> i64 {
        let mut h = Sha256::new();
        match &self.id {
            Some(id) => {
                h.update(b"id\0");
                h.update(self.sensor.as_deref().unwrap_or("").as_bytes());
                h.update([0]);
                h.update(id.as_bytes());
            }
            None => {
                h.update(b"content\0");
                h.update(fingerprint.as_bytes());
                h.update(self.time.0.to_le_bytes());
                h.update(self.count.to_le_bytes());
                h.update(self.sensor.as_deref().unwrap_or("").as_bytes());
                h.update([0]);
                h.update(self.title.as_deref().unwrap_or("").as_bytes());
                h.update([0]);
                for ep in [&self.source, &self.destination] {
                    h.update(ep.name.as_deref().unwrap_or("").as_bytes());
                    h.update([0]);
                }
                for (k, v) in &self.details {
                    h.update(k.as_bytes());
                    h.update([0]);
                    h.update(v.as_bytes());
                    h.update([0]);
                }
            }
        }
        let d = h.finalize();
        let mut b = [0u8; 8];
        b.copy_from_slice(&d[..8]);
        (u64::from_le_bytes(b) >> 1) as i64
    }
}

fn hex16(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(32);
    for b in bytes.iter().take(16) {
        s.push(HEX[(b >> 4) as usize] as char);
        s.push(HEX[(b & 15) as usize] as char);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d() -> Detection {
        let mut d = Detection::new("policy_new_function_code", Timestamp::from_secs(100));
        d.source.ip = Some("10.0.0.5".into());
        d.destination.ip = Some("10.0.0.9".into());
        d.protocol = Some("Modbus".into());
        d.key.insert("function_code".into(), "16".into());
        d
    }

    #[test]
    fn fingerprint_ignores_time_sensor_and_details() {
        let a = d();
        let mut b = d();
        b.time = Timestamp::from_secs(999);
        b.sensor = Some("other".into());
        b.details.insert("register".into(), "40001".into());
        b.protocol = Some("MODBUS".into());
        assert_eq!(a.fingerprint(), b.fingerprint());
        assert_eq!(a.fingerprint().len(), 32);
    }

    #[test]
    fn fingerprint_changes_with_key_fields_and_endpoints() {
        let a = d();
        let mut b = d();
        b.key.insert("function_code".into(), "15".into());
        assert_ne!(a.fingerprint(), b.fingerprint());
        let mut c = d();
        c.destination.ip = Some("10.0.0.10".into());
        assert_ne!(a.fingerprint(), c.fingerprint());
        let mut e = d();
        e.zone = Some("Line 2".into());
        assert_ne!(a.fingerprint(), e.fingerprint());
    }

    #[test]
    fn idempotency_key_follows_id_or_content() {
        let a = d();
        let mut b = d();
        assert_eq!(a.idempotency_key(), b.idempotency_key());
        b.time = Timestamp::from_secs(101);
        assert_ne!(a.idempotency_key(), b.idempotency_key());
        let mut x = d();
        x.id = Some("ext-1".into());
        let mut y = d();
        y.id = Some("ext-1".into());
        y.time = Timestamp::from_secs(5000);
        assert_eq!(x.idempotency_key(), y.idempotency_key());
        assert!(x.idempotency_key() >= 0);
    }
}
