-- otwatch schema, version 1.
-- Text columns are NOT NULL with '' for "none", so sorting and keyset paging
-- never meet NULLs. Times are INTEGER microseconds since the epoch (UTC).

CREATE TABLE alerts (
    id               INTEGER PRIMARY KEY,
    fingerprint      TEXT    NOT NULL,
    alert_type       TEXT    NOT NULL,
    name             TEXT    NOT NULL,
    engine           TEXT    NOT NULL,
    category         TEXT    NOT NULL,
    severity         INTEGER NOT NULL,
    status           INTEGER NOT NULL,
    disposition      INTEGER NOT NULL DEFAULT 0,
    first_detection  INTEGER NOT NULL,
    last_detection   INTEGER NOT NULL,
    last_activity    INTEGER NOT NULL,
    occurrence_count INTEGER NOT NULL,
    suppressed_count INTEGER NOT NULL DEFAULT 0,
    src_device_id    INTEGER,
    src_ip           TEXT    NOT NULL DEFAULT '',
    src_mac          TEXT    NOT NULL DEFAULT '',
    src_name         TEXT    NOT NULL DEFAULT '',
    dst_device_id    INTEGER,
    dst_ip           TEXT    NOT NULL DEFAULT '',
    dst_mac          TEXT    NOT NULL DEFAULT '',
    dst_name         TEXT    NOT NULL DEFAULT '',
    protocol         TEXT    NOT NULL DEFAULT '',
    sensor           TEXT    NOT NULL DEFAULT '',
    site             TEXT    NOT NULL DEFAULT '',
    zone             TEXT    NOT NULL DEFAULT '',
    tactics          TEXT    NOT NULL DEFAULT '',
    techniques       TEXT    NOT NULL DEFAULT '',
    description      TEXT    NOT NULL DEFAULT '',
    remediation      TEXT    NOT NULL DEFAULT '[]',
    learnable        INTEGER NOT NULL,
    mutable          INTEGER NOT NULL,
    details          TEXT    NOT NULL DEFAULT '{}'
);
CREATE INDEX alerts_fingerprint ON alerts (fingerprint, id);
CREATE INDEX alerts_last_detection ON alerts (last_detection, id);
CREATE INDEX alerts_status ON alerts (status, last_detection);
CREATE INDEX alerts_severity ON alerts (severity, last_detection);
CREATE INDEX alerts_site ON alerts (site, last_detection);
CREATE INDEX alerts_type ON alerts (alert_type, last_detection);

-- Idempotency keys of ingested detections (63-bit hashes).
CREATE TABLE ingest_keys (k INTEGER PRIMARY KEY);

CREATE TABLE comments (
    id       INTEGER PRIMARY KEY,
    alert_id INTEGER NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
    at       INTEGER NOT NULL,
    author   TEXT    NOT NULL,
    text     TEXT    NOT NULL
);
CREATE INDEX comments_alert ON comments (alert_id, id);

CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY,
    at          INTEGER NOT NULL,
    actor       TEXT    NOT NULL,
    actor_kind  TEXT    NOT NULL,
    address     TEXT    NOT NULL DEFAULT '',
    action      TEXT    NOT NULL,
    object_type TEXT    NOT NULL,
    object_id   TEXT    NOT NULL,
    summary     TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX audit_object ON audit_log (object_type, object_id, id);
CREATE INDEX audit_at ON audit_log (at);

CREATE TABLE exclusion_rules (
    id           INTEGER PRIMARY KEY,
    name         TEXT    NOT NULL,
    spec         TEXT    NOT NULL,
    enabled      INTEGER NOT NULL,
    created_by   TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    updated_by   TEXT    NOT NULL,
    updated_at   INTEGER NOT NULL,
    hits         INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX exclusion_rules_name ON exclusion_rules (name);

CREATE TABLE baseline (
    kind         TEXT    NOT NULL,
    key          TEXT    NOT NULL,
    detail       TEXT    NOT NULL DEFAULT '{}',
    source_alert INTEGER,
    created_at   INTEGER NOT NULL,
    created_by   TEXT    NOT NULL,
    PRIMARY KEY (kind, key)
) WITHOUT ROWID;

CREATE TABLE devices (
    id                 INTEGER PRIMARY KEY,
    identity           TEXT    NOT NULL UNIQUE,
    name               TEXT    NOT NULL DEFAULT '',
    ip                 TEXT    NOT NULL DEFAULT '',
    mac                TEXT    NOT NULL DEFAULT '',
    vendor             TEXT    NOT NULL DEFAULT '',
    model              TEXT    NOT NULL DEFAULT '',
    firmware           TEXT    NOT NULL DEFAULT '',
    serial             TEXT    NOT NULL DEFAULT '',
    device_type        TEXT    NOT NULL DEFAULT 'Miscellaneous',
    is_ot              INTEGER NOT NULL DEFAULT 0,
    protocols          TEXT    NOT NULL DEFAULT '',
    vlan               INTEGER,
    sensor             TEXT    NOT NULL DEFAULT '',
    site               TEXT    NOT NULL DEFAULT '',
    zone               TEXT    NOT NULL DEFAULT '',
    first_seen         INTEGER NOT NULL,
    last_seen          INTEGER NOT NULL,
    authorized         INTEGER NOT NULL DEFAULT 0,
    programming_device INTEGER NOT NULL DEFAULT 0,
    scanner            INTEGER NOT NULL DEFAULT 0,
    importance         TEXT    NOT NULL DEFAULT 'Normal',
    details            TEXT    NOT NULL DEFAULT '{}'
);
CREATE INDEX devices_ip ON devices (ip);
CREATE INDEX devices_mac ON devices (mac);
CREATE INDEX devices_last_seen ON devices (last_seen, id);

CREATE TABLE connections (
    id            INTEGER PRIMARY KEY,
    identity      TEXT    NOT NULL UNIQUE,
    src_device_id INTEGER,
    dst_device_id INTEGER,
    src           TEXT    NOT NULL,
    dst           TEXT    NOT NULL,
    transport     TEXT    NOT NULL,
    dst_port      INTEGER,
    protocol      TEXT    NOT NULL DEFAULT '',
    packets       INTEGER NOT NULL DEFAULT 0,
    bytes         INTEGER NOT NULL DEFAULT 0,
    first_seen    INTEGER NOT NULL,
    last_seen     INTEGER NOT NULL,
    sensor        TEXT    NOT NULL DEFAULT '',
    site          TEXT    NOT NULL DEFAULT '',
    zone          TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX connections_src ON connections (src);
CREATE INDEX connections_dst ON connections (dst);
CREATE INDEX connections_last_seen ON connections (last_seen, id);

CREATE TABLE events (
    id          INTEGER PRIMARY KEY,
    key         TEXT UNIQUE,
    at          INTEGER NOT NULL,
    event_type  TEXT    NOT NULL,
    severity    TEXT    NOT NULL,
    title       TEXT    NOT NULL,
    description TEXT    NOT NULL DEFAULT '',
    device_id   INTEGER,
    src_ip      TEXT    NOT NULL DEFAULT '',
    dst_ip      TEXT    NOT NULL DEFAULT '',
    protocol    TEXT    NOT NULL DEFAULT '',
    sensor      TEXT    NOT NULL DEFAULT '',
    site        TEXT    NOT NULL DEFAULT '',
    zone        TEXT    NOT NULL DEFAULT '',
    alert_id    INTEGER,
    owner       TEXT    NOT NULL DEFAULT '',
    details     TEXT    NOT NULL DEFAULT '{}'
);
CREATE INDEX events_at ON events (at, id);
CREATE INDEX events_device ON events (device_id, at);
CREATE INDEX events_alert ON events (alert_id);

CREATE TABLE sensors (
    id        TEXT PRIMARY KEY,
    name      TEXT NOT NULL,
    site      TEXT NOT NULL DEFAULT '',
    zone      TEXT NOT NULL DEFAULT '',
    last_seen INTEGER
);

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    name          TEXT    NOT NULL UNIQUE,
    role          TEXT    NOT NULL,
    password_hash TEXT    NOT NULL,
    created_at    INTEGER NOT NULL,
    disabled      INTEGER NOT NULL DEFAULT 0,
    last_login    INTEGER
);

CREATE TABLE tokens (
    id           INTEGER PRIMARY KEY,
    name         TEXT    NOT NULL,
    role         TEXT    NOT NULL,
    hash         TEXT    NOT NULL UNIQUE,
    prefix       TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    created_by   TEXT    NOT NULL,
    expires_at   INTEGER,
    revoked_at   INTEGER,
    last_used_at INTEGER
);
