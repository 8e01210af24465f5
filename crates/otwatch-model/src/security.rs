//! Users, roles, API tokens, actors and the audit record.
//!
//! Only hashes of passwords and tokens ever reach this layer; hashing itself
//! happens at the edge (server, CLI). `Debug` of records that hold a hash
//! prints `<redacted>`.

use serde::{Deserialize, Serialize};

use crate::Timestamp;

crate::named_enum! {
    /// Access roles, ordered Viewer < Analyst < Admin.
    pub enum Role: "role" {
        /// Read everything (reference: Read Only).
        Viewer = "viewer" | "read_only" | "readonly",
        /// Triage: status, severity, learn, mute, comments, PCAP, export (Security Analyst).
        Analyst = "analyst" | "security_analyst",
        /// Users, rules, tokens, settings.
        Admin = "admin",
    }
}

crate::named_enum! {
    /// What kind of principal acted.
    pub enum ActorKind: "actor kind" {
        /// A signed-in user.
        User = "user",
        /// An API token.
        Token = "token",
        /// A sensor.
        Sensor = "sensor",
        /// otwatch itself (auto-close, retention).
        System = "system",
        /// The command line on the host.
        Cli = "cli",
    }
}

/// Who did something, and from where.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    /// User name, token name, sensor id, or `system`.
    pub name: String,
    /// Kind of principal.
    pub kind: ActorKind,
    /// Network address or host the action came from.
    pub address: Option<String>,
}

impl Actor {
    /// otwatch itself.
    pub fn system() -> Actor {
        Actor { name: "system".into(), kind: ActorKind::System, address: None }
    }

    /// The local command line, as the OS user.
    pub fn cli(user: impl Into<String>) -> Actor {
        Actor { name: user.into(), kind: ActorKind::Cli, address: Some("localhost".into()) }
    }
}

/// One audit-log record: who changed what, when, from where.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// Id.
    pub id: i64,
    /// When.
    pub at: Timestamp,
    /// Who.
    pub actor: Actor,
    /// Verb (`set_status`, `learn`, `exclusion_create`, `user_add`…).
    pub action: String,
    /// Object kind (`alert`, `exclusion`, `user`, `token`).
    pub object_type: String,
    /// Object id.
    pub object_id: String,
    /// Human summary ("status New → Closed").
    pub summary: String,
}

/// A stored user.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// Id.
    pub id: i64,
    /// Login name.
    pub name: String,
    /// Role.
    pub role: Role,
    /// PHC-format password hash (argon2id).
    #[serde(skip_serializing)]
    pub password_hash: String,
    /// Created.
    pub created_at: Timestamp,
    /// Disabled users cannot sign in.
    pub disabled: bool,
    /// Last successful sign-in.
    pub last_login: Option<Timestamp>,
}

impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("role", &self.role)
            .field("password_hash", &"<redacted>")
            .field("disabled", &self.disabled)
            .finish()
    }
}

/// A stored API token (the secret itself is never stored).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiToken {
    /// Id.
    pub id: i64,
    /// Name (what it is for).
    pub name: String,
    /// Role the token acts with.
    pub role: Role,
    /// SHA-256 of the secret, hex.
    #[serde(skip_serializing)]
    pub hash: String,
    /// First characters of the secret, to recognise it in lists.
    pub prefix: String,
    /// Created.
    pub created_at: Timestamp,
    /// Creator.
    pub created_by: String,
    /// Expiry.
    pub expires_at: Option<Timestamp>,
    /// Revoked at.
    pub revoked_at: Option<Timestamp>,
    /// Last use.
    pub last_used_at: Option<Timestamp>,
}

impl std::fmt::Debug for ApiToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiToken")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("role", &self.role)
            .field("hash", &"<redacted>")
            .field("prefix", &self.prefix)
            .field("revoked_at", &self.revoked_at)
            .finish()
    }
}

impl ApiToken {
    /// Whether the token may be used at `now`.
    pub fn usable_at(&self, now: Timestamp) -> bool {
        self.revoked_at.is_none() && self.expires_at.map(|e| now < e).unwrap_or(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_ordered() {
        assert!(Role::Viewer < Role::Analyst && Role::Analyst < Role::Admin);
        assert_eq!(Role::parse("Security_Analyst").unwrap(), Role::Analyst);
    }

    #[test]
    fn hashes_are_redacted_in_debug() {
        let u = User {
            id: 1,
            name: "ann".into(),
            role: Role::Admin,
            password_hash: "$argon2id$secret".into(),
            created_at: Timestamp(0),
            disabled: false,
            last_login: None,
        };
        let s = format!("{u:?}");
        assert!(!s.contains("secret") && s.contains("<redacted>"), "{s}");
        assert!(!serde_json::to_string(&u).unwrap().contains("argon2"));
    }
}
