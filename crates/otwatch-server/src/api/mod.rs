//! The REST API: one table of routes that builds the router, the OpenAPI
//! document and the role test matrix, so they cannot drift apart.

pub mod admin;
pub mod alerts;
pub mod compat;
pub mod hunt;
pub mod inventory;
pub mod json;
pub mod params;

use axum::extract::{Query, State};
use axum::http::Method;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, delete, get, patch, post, put};
use serde_json::{Value as J, json};

use otwatch_model::Role;

use crate::error::ApiResult;
use crate::state::AppState;

/// A documented parameter.
#[derive(Clone, Copy, Debug)]
pub struct Param {
    /// Name.
    pub name: &'static str,
    /// `path` or `query`.
    pub location: &'static str,
    /// What it does.
    pub doc: &'static str,
}

/// One API route.
#[derive(Clone, Copy, Debug)]
pub struct RouteSpec {
    /// HTTP method.
    pub method: &'static str,
    /// Path in axum syntax (`/api/v1/alerts/{id}`).
    pub path: &'static str,
    /// Least role allowed; `None` = public.
    pub role: Option<Role>,
    /// Grouping tag.
    pub tag: &'static str,
    /// One-line summary.
    pub summary: &'static str,
    /// Parameters.
    pub params: &'static [Param],
    /// Request body, if any: a short description of its JSON.
    pub body: Option<&'static str>,
    /// The success status and what it returns.
    pub returns: (u16, &'static str),
}

const P_ID: Param = Param { name: "id", location: "path", doc: "Numeric id." };
const P_FILTERS: Param = Param {
    name: "<column>",
    location: "query",
    doc: "Filter on any alert column (e.g. severity=High,Major; site=Plant A); suffixes __not, __contains, __gte, __lte. Columns: id, severity, name, type, engine, category, status, disposition, first_detection, last_detection, last_activity, occurrence_count, source_ip, source_mac, source_name, destination_ip, destination_mac, destination_name, protocol, sensor, site, zone, tactics, techniques, learnable, mutable, description.",
};
const P_Q: Param = Param {
    name: "q",
    location: "query",
    doc: "Free-text search over names, addresses, protocol, sensor, site, zone and type.",
};
const P_FROM: Param = Param {
    name: "from",
    location: "query",
    doc: "Start of the time range: RFC 3339, a date, epoch ms, or an age like 24h.",
};
const P_TO: Param =
    Param { name: "to", location: "query", doc: "End of the time range (exclusive)." };
const P_TIME_FIELD: Param = Param {
    name: "time_field",
    location: "query",
    doc: "Time column of the range (default last_detection).",
};
const P_SORT: Param = Param {
    name: "sort",
    location: "query",
    doc: "Sort column; -column for descending (default -last_detection).",
};
const P_LIMIT: Param =
    Param { name: "limit", location: "query", doc: "Page size (1–10000, default 100)." };
const P_AFTER: Param =
    Param { name: "after", location: "query", doc: "Cursor from the previous page's `next`." };
const P_FIELDS: Param = Param {
    name: "fields",
    location: "query",
    doc: "Comma-separated columns to return (flat objects).",
};
const P_TOTAL: Param =
    Param { name: "total", location: "query", doc: "true: also return the total count." };
const ALERT_QUERY: &[Param] =
    &[P_FILTERS, P_Q, P_FROM, P_TO, P_TIME_FIELD, P_SORT, P_LIMIT, P_AFTER, P_FIELDS, P_TOTAL];

/// `GET /api/v1/devices` parameters (the handler refuses any other).
pub const DEVICE_PARAMS: &[Param] = &[
    Param {
        name: "q",
        location: "query",
        doc: "Free text over name, addresses, vendor, model, firmware.",
    },
    Param { name: "type", location: "query", doc: "Device types (comma-separated), e.g. PLC,HMI." },
    Param { name: "vendor", location: "query", doc: "Vendors (comma-separated)." },
    Param { name: "site", location: "query", doc: "Sites (comma-separated)." },
    Param { name: "zone", location: "query", doc: "Zones (comma-separated)." },
    Param { name: "is_ot", location: "query", doc: "true: OT devices only; false: IT only." },
    Param { name: "protocol", location: "query", doc: "Devices that spoke this protocol." },
    Param { name: "limit", location: "query", doc: "Page size (at most 10000)." },
    Param { name: "offset", location: "query", doc: "Rows to skip." },
    Param {
        name: "group_by",
        location: "query",
        doc: "Counts instead of rows: type, vendor, site, zone or is_ot.",
    },
    Param {
        name: "total",
        location: "query",
        doc: "Accepted for symmetry with the alert list; the total is always returned.",
    },
];
/// `GET /api/v1/connections` parameters (the handler refuses any other).
pub const CONNECTION_PARAMS: &[Param] = &[
    Param {
        name: "device_id",
        location: "query",
        doc: "Connections of this device (either side).",
    },
    Param { name: "address", location: "query", doc: "Connections with this IP on either side." },
    Param { name: "protocol", location: "query", doc: "Protocols (comma-separated)." },
    Param { name: "transport", location: "query", doc: "tcp, udp, …" },
    Param {
        name: "from",
        location: "query",
        doc: "Last seen at or after: RFC 3339, a date, epoch ms, or an age like 24h.",
    },
    Param { name: "to", location: "query", doc: "Last seen before (same forms)." },
    Param { name: "limit", location: "query", doc: "Page size (at most 10000)." },
    Param { name: "offset", location: "query", doc: "Rows to skip." },
];
/// `GET /api/v1/events` parameters (the handler refuses any other).
pub const EVENT_PARAMS: &[Param] = &[
    Param { name: "device_id", location: "query", doc: "Events of this device." },
    Param { name: "alert_id", location: "query", doc: "Events of this alert." },
    Param {
        name: "type",
        location: "query",
        doc: "Event types (comma-separated), e.g. DEVICE_CREATE,PLC_STOP.",
    },
    Param {
        name: "from",
        location: "query",
        doc: "At or after: RFC 3339, a date, epoch ms, or an age like 24h.",
    },
    Param { name: "to", location: "query", doc: "Before (same forms)." },
    Param { name: "q", location: "query", doc: "Free text over title and description." },
    Param { name: "limit", location: "query", doc: "Page size (at most 10000)." },
    Param {
        name: "before",
        location: "query",
        doc: "Older than this event id (the previous page's `before`).",
    },
];
/// `GET /api/v1/audit` parameters (the handler refuses any other).
pub const AUDIT_PARAMS: &[Param] = &[
    Param {
        name: "object_type",
        location: "query",
        doc: "alert, exclusion, user, token, device, setting…",
    },
    Param { name: "object_id", location: "query", doc: "The object's id (with object_type)." },
    Param {
        name: "actor",
        location: "query",
        doc: "Who made the change (a user name, token:NAME, the host user of a CLI command, system).",
    },
    Param {
        name: "from",
        location: "query",
        doc: "At or after: RFC 3339, a date, epoch ms, or an age like 24h.",
    },
    Param { name: "to", location: "query", doc: "Before (same forms)." },
    Param { name: "limit", location: "query", doc: "Most records to return." },
];
const P_STATE: Param = Param {
    name: "state",
    location: "query",
    doc: "Defender: handled (status Closed) or unhandled (not Closed).",
};
const P_FROM_TIME: Param = Param {
    name: "fromTime",
    location: "query",
    doc: "Defender: last detection at or after, epoch milliseconds.",
};
const P_TO_TIME: Param = Param {
    name: "toTime",
    location: "query",
    doc: "Defender: last detection at or before, epoch milliseconds.",
};
const P_TYPE: Param = Param {
    name: "type",
    location: "query",
    doc: "Defender: `unexpected new devices` (category Discovery) or `disconnections` (category Unresponsive); other values are ignored.",
};
/// Parameters of the Defender for IoT sensor alert list.
const SENSOR_PARAMS: &[Param] = &[P_STATE, P_FROM_TIME, P_TO_TIME, P_TYPE];
/// Parameters of the Defender for IoT on-premises console alert list.
const CONSOLE_PARAMS: &[Param] = &[
    P_STATE,
    P_FROM_TIME,
    P_TO_TIME,
    Param { name: "siteId", location: "query", doc: "Defender: site (otwatch site name)." },
    Param { name: "zoneId", location: "query", doc: "Defender: zone (otwatch zone name)." },
    Param { name: "sensorId", location: "query", doc: "Defender: sensor (otwatch sensor name)." },
    P_TYPE,
];
const ALERT_LIST: &[Param] = &[
    P_FILTERS,
    P_Q,
    P_FROM,
    P_TO,
    P_TIME_FIELD,
    P_SORT,
    P_LIMIT,
    P_AFTER,
    P_FIELDS,
    P_TOTAL,
    P_STATE,
    P_FROM_TIME,
    P_TO_TIME,
];
const P_COMPAT_ID: Param =
    Param { name: "id", location: "path", doc: "Alert id, or the console form <sensor>-<id>." };

/// What the alert endpoints answer: the alert with everything the details page shows.
const ALERT_DETAILS: &str = "{alert, devices, mitre, severity_scales, comments, history, pcap_url}";

const V: Option<Role> = Some(Role::Viewer);
const A: Option<Role> = Some(Role::Analyst);
const AD: Option<Role> = Some(Role::Admin);

macro_rules! spec {
    ($m:literal, $p:literal, $role:expr, $tag:literal, $sum:literal, $params:expr, $body:expr, $ret:expr) => {
        RouteSpec {
            method: $m,
            path: $p,
            role: $role,
            tag: $tag,
            summary: $sum,
            params: $params,
            body: $body,
            returns: $ret,
        }
    };
}

/// Every route with its handler.
pub fn routes() -> Vec<(RouteSpec, MethodRouter<AppState>)> {
    vec![
        (
            spec!(
                "GET",
                "/healthz",
                None,
                "system",
                "Liveness: the server runs and the store answers.",
                &[],
                None,
                (200, "{status, schema_version}")
            ),
            get(crate::health),
        ),
        (
            spec!(
                "GET",
                "/metrics",
                None,
                "system",
                "Prometheus metrics (text format).",
                &[],
                None,
                (200, "text/plain")
            ),
            get(crate::metrics),
        ),
        (
            spec!(
                "GET",
                "/api/v1/openapi.json",
                None,
                "system",
                "This document.",
                &[],
                None,
                (200, "OpenAPI 3.1")
            ),
            get(openapi),
        ),
        (
            spec!(
                "POST",
                "/api/v1/auth/login",
                None,
                "auth",
                "Sign in; sets the session cookie and returns the CSRF token to send as X-CSRF-Token.",
                &[],
                Some("{username, password}"),
                (200, "{user, role, csrf_token, expires}")
            ),
            post(admin::login),
        ),
        (
            spec!("POST", "/api/v1/auth/logout", None, "auth", "Sign out.", &[], None, (204, "")),
            post(admin::logout),
        ),
        (
            spec!(
                "GET",
                "/api/v1/auth/me",
                V,
                "auth",
                "Who am I.",
                &[],
                None,
                (200, "{name, role, kind}")
            ),
            get(admin::me),
        ),
        (
            spec!(
                "GET",
                "/api/v1/alerts",
                V,
                "alerts",
                "List alerts (keyset paged). Called with state/fromTime/toTime, answers in the Defender sensor API's v1 shape (then `type` is the Defender type filter).",
                ALERT_LIST,
                None,
                (200, "{items, next, total?}")
            ),
            get(alerts_list),
        ),
        (
            spec!(
                "GET",
                "/api/v1/alerts/groups",
                V,
                "alerts",
                "Counts per value of one column (by=engine|name|sensor|severity|site|zone|status|category|protocol|type…) under the filters.",
                &[
                    Param { name: "by", location: "query", doc: "Column to group by." },
                    P_FILTERS,
                    P_Q,
                    P_FROM,
                    P_TO
                ],
                None,
                (200, "{by, total, groups:[{value, count}]}")
            ),
            get(alerts::groups),
        ),
        (
            spec!(
                "GET",
                "/api/v1/alerts/facets",
                V,
                "alerts",
                "Per-value counts for several columns (each ignoring its own filter), for filter menus.",
                &[P_FIELDS, P_FILTERS, P_Q, P_FROM, P_TO],
                None,
                (200, "{facets:{column:[{value, count}]}}")
            ),
            get(alerts::facets),
        ),
        (
            spec!(
                "GET",
                "/api/v1/alerts/aggregated",
                V,
                "alerts",
                "Same-type alerts from many devices per aggregation period (the micro-agent view).",
                &[
                    Param {
                        name: "period",
                        location: "query",
                        doc: "Aggregation period, e.g. 1d (default)."
                    },
                    P_FILTERS
                ],
                None,
                (200, "{period, items}")
            ),
            get(alerts::aggregated),
        ),
        (
            spec!(
                "GET",
                "/api/v1/alerts/export.csv",
                A,
                "alerts",
                "Streaming CSV (RFC 4180, spreadsheet-safe) of every alert matching the filters.",
                ALERT_QUERY,
                None,
                (200, "text/csv")
            ),
            get(alerts::export_csv),
        ),
        (
            spec!(
                "POST",
                "/api/v1/alerts/bulk",
                A,
                "alerts",
                "Change status/severity or learn/mute/unlearn/unmute many alerts, by ids or by the current filter.",
                &[],
                Some("{ids? | filter?, status?, severity?, action?}"),
                (200, "{matched, changed, errors, results}")
            ),
            post(alerts::bulk),
        ),
        (
            spec!(
                "POST",
                "/api/v1/alerts/ingest",
                A,
                "alerts",
                "Store detections from sensors and external sources (idempotent; de-duplicated).",
                &[],
                Some("{detections:[Detection]}"),
                (
                    200,
                    "{received, opened, updated, duplicates, excluded, suppressed_learned, suppressed_muted, auto_closed, rejected, new_alert_ids}"
                )
            ),
            post(alerts::ingest),
        ),
        (
            spec!(
                "GET",
                "/api/v1/alerts/{id}",
                V,
                "alerts",
                "One alert with devices, MITRE links, remediation, comments and history.",
                &[P_ID],
                None,
                (200, ALERT_DETAILS)
            ),
            get(alerts::one),
        ),
        (
            spec!(
                "PATCH",
                "/api/v1/alerts/{id}",
                A,
                "alerts",
                "Change an alert's status and/or severity.",
                &[P_ID],
                Some("{status?, severity?}"),
                (200, ALERT_DETAILS)
            ),
            patch(alerts::patch),
        ),
        (
            spec!(
                "POST",
                "/api/v1/alerts/{id}/learn",
                A,
                "alerts",
                "Close the alert and add its traffic to the baseline.",
                &[P_ID],
                None,
                (200, ALERT_DETAILS)
            ),
            post(alerts::learn),
        ),
        (
            spec!(
                "POST",
                "/api/v1/alerts/{id}/mute",
                A,
                "alerts",
                "Close the alert and suppress its traffic without learning.",
                &[P_ID],
                None,
                (200, ALERT_DETAILS)
            ),
            post(alerts::mute),
        ),
        (
            spec!(
                "POST",
                "/api/v1/alerts/{id}/unlearn",
                A,
                "alerts",
                "Remove the alert's traffic from the baseline.",
                &[P_ID],
                None,
                (200, ALERT_DETAILS)
            ),
            post(alerts::unlearn),
        ),
        (
            spec!(
                "POST",
                "/api/v1/alerts/{id}/unmute",
                A,
                "alerts",
                "Lift the alert's suppression.",
                &[P_ID],
                None,
                (200, ALERT_DETAILS)
            ),
            post(alerts::unmute),
        ),
        (
            spec!(
                "POST",
                "/api/v1/alerts/{id}/comments",
                A,
                "alerts",
                "Add a comment.",
                &[P_ID],
                Some("{text}"),
                (201, ALERT_DETAILS)
            ),
            post(alerts::comment),
        ),
        (
            spec!(
                "GET",
                "/api/v1/alerts/{id}/pcap",
                A,
                "alerts",
                "The alert's PCAP evidence.",
                &[P_ID],
                None,
                (200, "application/vnd.tcpdump.pcap")
            ),
            get(alerts::pcap),
        ),
        (
            spec!(
                "GET",
                "/api/v1/devices",
                V,
                "devices",
                "Device inventory (q, type, vendor, site, zone, is_ot, protocol, limit, offset; group_by=type|vendor|site|zone|is_ot).",
                DEVICE_PARAMS,
                None,
                (200, "{items, total} or {by, groups}")
            ),
            get(inventory::devices),
        ),
        (
            spec!(
                "GET",
                "/api/v1/devices/{id}",
                V,
                "devices",
                "One device with its alerts, connections and events.",
                &[P_ID],
                None,
                (200, "{device, alerts, connections, events}")
            ),
            get(inventory::device),
        ),
        (
            spec!(
                "PATCH",
                "/api/v1/devices/{id}",
                A,
                "devices",
                "Edit a device (name, type, authorized, programming device, scanner, importance).",
                &[P_ID],
                Some(
                    "{name?, device_type?, authorized?, programming_device?, scanner?, importance?}"
                ),
                (200, "device")
            ),
            patch(inventory::patch_device),
        ),
        (
            spec!(
                "GET",
                "/api/v1/connections",
                V,
                "devices",
                "Connections (device_id, address, protocol, transport, from, to, limit, offset).",
                CONNECTION_PARAMS,
                None,
                (200, "{items}")
            ),
            get(inventory::connections),
        ),
        (
            spec!(
                "GET",
                "/api/v1/events",
                V,
                "events",
                "Event timeline, newest first (device_id, alert_id, type, from, to, q, limit, before).",
                EVENT_PARAMS,
                None,
                (200, "{items, before}")
            ),
            get(inventory::events),
        ),
        (
            spec!(
                "GET",
                "/api/v1/sensors",
                V,
                "devices",
                "Sensors with their sites and zones.",
                &[],
                None,
                (200, "{items}")
            ),
            get(inventory::sensors),
        ),
        (
            spec!(
                "GET",
                "/api/v1/catalog",
                V,
                "alerts",
                "The alert-type catalogue.",
                &[],
                None,
                (200, "{items}")
            ),
            get(admin::catalog),
        ),
        (
            spec!(
                "GET",
                "/api/v1/exclusions",
                A,
                "rules",
                "Exclusion rules and maintenance windows.",
                &[],
                None,
                (200, "{items}")
            ),
            get(admin::exclusions),
        ),
        (
            spec!(
                "POST",
                "/api/v1/exclusions",
                AD,
                "rules",
                "Create an exclusion rule or maintenance window (audited).",
                &[],
                Some("ExclusionSpec"),
                (201, "rule")
            ),
            post(admin::add_exclusion),
        ),
        (
            spec!(
                "GET",
                "/api/v1/exclusions/{id}",
                A,
                "rules",
                "One rule.",
                &[P_ID],
                None,
                (200, "rule")
            ),
            get(admin::exclusion),
        ),
        (
            spec!(
                "PUT",
                "/api/v1/exclusions/{id}",
                AD,
                "rules",
                "Replace a rule's conditions (audited).",
                &[P_ID],
                Some("ExclusionSpec"),
                (200, "rule")
            ),
            put(admin::put_exclusion),
        ),
        (
            spec!(
                "DELETE",
                "/api/v1/exclusions/{id}",
                AD,
                "rules",
                "Delete a rule (audited).",
                &[P_ID],
                None,
                (204, "")
            ),
            delete(admin::delete_exclusion),
        ),
        (
            spec!("GET", "/api/v1/users", AD, "admin", "Users.", &[], None, (200, "{items}")),
            get(admin::users),
        ),
        (
            spec!(
                "POST",
                "/api/v1/users",
                AD,
                "admin",
                "Add a user.",
                &[],
                Some("{name, role, password}"),
                (201, "user")
            ),
            post(admin::add_user),
        ),
        (
            spec!(
                "PATCH",
                "/api/v1/users/{name}",
                AD,
                "admin",
                "Change a user's role, disable or enable, reset the password (ends their sessions).",
                &[Param { name: "name", location: "path", doc: "User name." }],
                Some("{role?, disabled?, password?}"),
                (200, "user")
            ),
            patch(admin::patch_user),
        ),
        (
            spec!(
                "DELETE",
                "/api/v1/users/{name}",
                AD,
                "admin",
                "Remove a user.",
                &[Param { name: "name", location: "path", doc: "User name." }],
                None,
                (204, "")
            ),
            delete(admin::delete_user),
        ),
        (
            spec!(
                "GET",
                "/api/v1/tokens",
                AD,
                "admin",
                "API tokens (never their secrets).",
                &[],
                None,
                (200, "{items}")
            ),
            get(admin::tokens),
        ),
        (
            spec!(
                "POST",
                "/api/v1/tokens",
                AD,
                "admin",
                "Create an API token; the secret is shown once.",
                &[],
                Some("{name, role, expires_in?}"),
                (201, "{token, secret, note}")
            ),
            post(admin::add_token),
        ),
        (
            spec!(
                "DELETE",
                "/api/v1/tokens/{id}",
                AD,
                "admin",
                "Revoke a token (at once).",
                &[P_ID],
                None,
                (204, "")
            ),
            delete(admin::revoke_token),
        ),
        (
            spec!(
                "GET",
                "/api/v1/audit",
                AD,
                "admin",
                "Audit log, newest first (object_type, object_id, actor, from, to, limit).",
                AUDIT_PARAMS,
                None,
                (200, "{items}")
            ),
            get(admin::audit),
        ),
        (
            spec!(
                "POST",
                "/api/v1/hunt",
                V,
                "hunting",
                "Run a KQL query over Alerts, Devices (DeviceInfo), Connections and Events (read-only, row- and time-limited); errors carry a code, line:column and a caret.",
                &[],
                Some("{query, limit?, format?: json|csv}"),
                (200, "{columns, rows, row_count, truncated, render, elapsed_ms} or text/csv")
            ),
            post(hunt::hunt),
        ),
        (
            spec!(
                "GET",
                "/api/v1/hunt/queries",
                V,
                "hunting",
                "The caller's saved queries.",
                &[],
                None,
                (200, "{items}")
            ),
            get(hunt::saved),
        ),
        (
            spec!(
                "POST",
                "/api/v1/hunt/queries",
                V,
                "hunting",
                "Save (or replace by name) a query; it is checked first.",
                &[],
                Some("{name, query}"),
                (201, "saved query")
            ),
            post(hunt::save),
        ),
        (
            spec!(
                "DELETE",
                "/api/v1/hunt/queries/{id}",
                V,
                "hunting",
                "Delete one of the caller's saved queries.",
                &[P_ID],
                None,
                (204, "")
            ),
            delete(hunt::delete),
        ),
        (
            spec!(
                "GET",
                "/api/v2/alerts",
                V,
                "defender",
                "Defender for IoT sensor API: alerts with v2 fields (state, fromTime, toTime, type).",
                SENSOR_PARAMS,
                None,
                (200, "[alert]")
            ),
            get(compat::sensor_v2),
        ),
        (
            spec!(
                "GET",
                "/api/v2/alerts/pcap/{id}",
                A,
                "defender",
                "Defender for IoT sensor API: an alert's PCAP.",
                &[P_COMPAT_ID],
                None,
                (200, "application/vnd.tcpdump.pcap")
            ),
            get(compat::sensor_pcap),
        ),
        (
            spec!(
                "GET",
                "/external/v1/alerts",
                V,
                "defender",
                "Defender for IoT on-premises console API: alerts (state, fromTime, toTime, siteId, zoneId, sensorId).",
                CONSOLE_PARAMS,
                None,
                (200, "[alert]")
            ),
            get(compat::console_v1),
        ),
        (
            spec!(
                "GET",
                "/external/v2/alerts",
                V,
                "defender",
                "Defender for IoT on-premises console API: alerts with v2 fields.",
                CONSOLE_PARAMS,
                None,
                (200, "[alert]")
            ),
            get(compat::console_v2),
        ),
        (
            spec!(
                "PUT",
                "/external/v1/alerts/{id}",
                A,
                "defender",
                "Defender for IoT console API: handle or handleAndLearn an alert.",
                &[P_COMPAT_ID],
                Some("{action: handle|handleAndLearn}"),
                (200, "{content} or {error}")
            ),
            put(compat::handle),
        ),
        (
            spec!(
                "GET",
                "/external/v2/alerts/pcap/{id}",
                A,
                "defender",
                "Defender for IoT console API: where to download an alert's PCAP.",
                &[P_COMPAT_ID],
                None,
                (200, "{id, xsenseId, xsenseAlertId, downloadUrl, token}")
            ),
            get(compat::console_pcap),
        ),
    ]
}

/// The specs alone (for the OpenAPI document and the role matrix).
pub fn specs() -> Vec<RouteSpec> {
    routes().into_iter().map(|(s, _)| s).collect()
}

/// GET /api/v1/alerts: our list, or the Defender sensor shape for its parameters.
async fn alerts_list(
    state: State<AppState>,
    q: Query<Vec<(String, String)>>,
) -> ApiResult<Response> {
    if compat::is_sensor_call(&q.0) {
        return compat::sensor_v1(&state.0, q.0).await;
    }
    alerts::list(state, q).await
}

/// The OpenAPI 3.1 document, generated from [`routes`].
pub fn openapi_doc() -> J {
    let mut paths = serde_json::Map::new();
    for s in specs() {
        let op_params: Vec<J> = s
            .params
            .iter()
            .map(|p| json!({"name": p.name, "in": p.location, "required": p.location == "path", "description": p.doc, "schema": {"type": "string"}}))
            .collect();
        let mut responses = serde_json::Map::new();
        let mut ok = json!({"description": s.returns.1});
        if let Some((required, optional)) = response_shape(s.returns.1) {
            let mut props = serde_json::Map::new();
            for name in required.iter().chain(&optional) {
                props.insert((*name).to_string(), json!({}));
            }
            ok["content"] = json!({"application/json": {"schema": {"type": "object", "properties": props, "required": required}}});
        }
        responses.insert(s.returns.0.to_string(), ok);
        let err = json!({"description": "Error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}});
        responses.insert("400".into(), err.clone());
        if s.role.is_some() {
            responses
                .insert("401".into(), json!({"description": "No valid session or API token."}));
            responses.insert("403".into(), json!({"description": format!("Needs role {} or higher (or a missing CSRF token).", s.role.map(|r| r.to_string()).unwrap_or_default())}));
        }
        if s.path.contains('{') {
            responses.insert("404".into(), json!({"description": "Not found."}));
        }
        if s.role.is_some() && s.method != "GET" {
            responses.insert(
                "409".into(),
                json!({"description": "Refused by the alert lifecycle (the message says why) or a duplicate name.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}),
            );
        }
        if s.body.is_some() {
            responses.insert(
                "413".into(),
                json!({"description": "Body larger than server.max_body_bytes.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}),
            );
        }
        if s.path == "/api/v1/auth/login" {
            responses.insert(
                "429".into(),
                json!({"description": "Too many failed sign-ins; see Retry-After.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}),
            );
        }
        responses.insert(
            "503".into(),
            json!({"description": "The request took longer than server.request_timeout.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}),
        );
        responses.insert(
            "500".into(),
            json!({"description": "Internal error (details are logged, not returned)."}),
        );
        let mut op = json!({
            "summary": s.summary,
            "tags": [s.tag],
            "parameters": op_params,
            "responses": responses,
            "x-otwatch-role": s.role.map(|r| r.to_string()).unwrap_or_else(|| "public".into()),
        });
        if let Some(b) = s.body {
            let schema = body_schema(s.method, s.path).unwrap_or_else(|| json!({"type": "object"}));
            op["requestBody"] = json!({"required": true, "description": b, "content": {"application/json": {"schema": schema}}});
        }
        if s.role.is_some() {
            op["security"] = json!([{"token": []}, {"session": []}]);
        }
        let entry = paths.entry(s.path.to_string()).or_insert_with(|| json!({}));
        entry[s.method.to_ascii_lowercase()] = op;
    }
    json!({
        "openapi": "3.1.0",
        "info": {"title": "otwatch API", "version": "1", "description": "The otwatch console API. Errors are {\"error\": {\"code\", \"message\", \"field\"}}."},
        "paths": paths,
        "components": {
            "securitySchemes": {
                "token": {"type": "http", "scheme": "bearer", "description": "API token (otw_…); Defender-style bare tokens in Authorization are accepted too."},
                "session": {"type": "apiKey", "in": "cookie", "name": crate::auth::SESSION_COOKIE, "description": "Browser session; unsafe methods need the X-CSRF-Token header."},
            },
            "schemas": {
                "Error": {"type": "object", "properties": {"error": {"type": "object", "properties": {"code": {"type": "string"}, "message": {"type": "string"}, "field": {"type": ["string", "null"]}}}}},
                "Detection": detection_schema(),
                "ExclusionSpec": exclusion_schema(),
            },
        },
    })
}

/// The top-level members of a success answer written as `{a, b, c?}` in a
/// route's spec (`?` = only sometimes present): (always, sometimes). `None`
/// for answers that are not one JSON object of that form.
pub fn response_shape(text: &str) -> Option<(Vec<&str>, Vec<&str>)> {
    let inner = text.strip_prefix('{')?.strip_suffix('}')?;
    let (mut always, mut sometimes) = (Vec::new(), Vec::new());
    let (mut depth, mut start) = (0i32, 0usize);
    let bytes = inner.as_bytes();
    for i in 0..=bytes.len() {
        let c = bytes.get(i).copied().unwrap_or(b',');
        match c {
            b'{' | b'[' => depth += 1,
            b'}' | b']' => depth -= 1,
            b',' if depth == 0 => {
                let item = inner.get(start..i)?.trim();
                let name = item.split([':', ' ']).next()?.trim();
                if name.is_empty() || depth < 0 {
                    return None;
                }
                match name.strip_suffix('?') {
                    Some(n) => sometimes.push(n),
                    None => always.push(name),
                }
                start = i + 1;
            }
            _ => {}
        }
        if depth < 0 {
            return None;
        }
    }
    Some((always, sometimes))
}

/// A JSON object schema: `props` are (name, JSON type, description); names
/// in `required` must be present; other fields are refused (the handlers'
/// bodies deny unknown fields).
fn object(props: &[(&str, J, &str)], required: &[&str]) -> J {
    let mut p = serde_json::Map::new();
    for (name, ty, doc) in props {
        let mut t = ty.clone();
        if !doc.is_empty() {
            t["description"] = json!(doc);
        }
        p.insert((*name).to_string(), t);
    }
    json!({"type": "object", "properties": p, "required": required, "additionalProperties": false})
}

fn ty(name: &str) -> J {
    json!({"type": name})
}

fn strings() -> J {
    json!({"type": "array", "items": {"type": "string"}})
}

fn string_map() -> J {
    json!({"type": "object", "additionalProperties": {"type": "string"}})
}

fn time() -> J {
    json!({"type": ["string", "integer"], "description": "RFC 3339 or epoch milliseconds"})
}

/// `components.schemas.Detection`: one detection, as `otwatch ingest` reads it (docs/ingest.md).
fn detection_schema() -> J {
    let endpoint = object(
        &[
            ("ip", ty("string"), ""),
            ("mac", ty("string"), ""),
            ("name", ty("string"), ""),
            ("device_id", ty("integer"), "Inventory id."),
        ],
        &[],
    );
    object(
        &[
            ("id", ty("string"), "The producer's id; re-sending it changes nothing."),
            ("type", ty("string"), "Alert type id from the catalogue."),
            ("time", time(), "When it was seen."),
            ("source", endpoint.clone(), ""),
            ("destination", endpoint, ""),
            ("protocol", ty("string"), ""),
            ("sensor", ty("string"), ""),
            ("site", ty("string"), ""),
            ("zone", ty("string"), ""),
            ("severity", ty("string"), "Critical, Major, Minor, Warning (or High, Medium, Low)."),
            ("title", ty("string"), "Overrides the type's name."),
            ("key", string_map(), "The type's own key fields (part of the fingerprint)."),
            ("details", string_map(), "Other facts."),
            ("count", ty("integer"), "Sightings the detection stands for (default 1)."),
        ],
        &["type", "time"],
    )
}

/// `components.schemas.ExclusionSpec`: an exclusion rule or maintenance window.
fn exclusion_schema() -> J {
    object(
        &[
            ("name", ty("string"), "Unique; no double quote."),
            ("kind", ty("string"), "exclusion (default) or maintenance (needs ticket_id)."),
            ("enabled", ty("boolean"), "Default true."),
            ("reason", ty("string"), "Why the rule exists."),
            ("ticket_id", ty("string"), ""),
            ("alert_types", strings(), "Alert type ids."),
            ("engines", strings(), "Engine names."),
            ("sensors", strings(), "Sensor ids."),
            (
                "addresses",
                json!({"type": "array", "items": object(&[("role", ty("string"), "source, destination or any"), ("address", ty("string"), "IP, MAC or CIDR")], &["role", "address"])}),
                "Any of these device addresses.",
            ),
            ("subnets", strings(), "CIDR subnets (source or destination inside)."),
            ("window_start", time(), "Detection time window start."),
            ("window_end", time(), "Detection time window end (exclusive)."),
            ("expires_at", time(), "After this time the rule matches nothing."),
        ],
        &["name"],
    )
}

/// The JSON Schema of a route's request body (the fields its handler accepts).
pub fn body_schema(method: &str, path: &str) -> Option<J> {
    let detection = || json!({"$ref": "#/components/schemas/Detection"});
    let exclusion = || json!({"$ref": "#/components/schemas/ExclusionSpec"});
    Some(match (method, path) {
        ("POST", "/api/v1/auth/login") => object(
            &[("username", ty("string"), ""), ("password", ty("string"), "")],
            &["username", "password"],
        ),
        ("POST", "/api/v1/alerts/bulk") => object(
            &[
                (
                    "ids",
                    json!({"type": "array", "items": {"type": "integer"}}),
                    "Alert ids (or give filter).",
                ),
                (
                    "filter",
                    string_map(),
                    "The grid filter as URL parameters: every matching alert.",
                ),
                ("status", ty("string"), "New, Active or Closed."),
                ("severity", ty("string"), "Critical, Major, Minor or Warning."),
                ("action", ty("string"), "learn, mute, unlearn or unmute."),
            ],
            &[],
        ),
        ("POST", "/api/v1/alerts/ingest") => object(
            &[("detections", json!({"type": "array", "items": detection()}), "At most 50,000.")],
            &["detections"],
        ),
        ("PATCH", "/api/v1/alerts/{id}") => object(
            &[
                ("status", ty("string"), "New, Active or Closed."),
                ("severity", ty("string"), "Critical, Major, Minor or Warning."),
            ],
            &[],
        ),
        ("POST", "/api/v1/alerts/{id}/comments") => {
            object(&[("text", ty("string"), "At most 4000 characters.")], &["text"])
        }
        ("PATCH", "/api/v1/devices/{id}") => object(
            &[
                ("name", ty("string"), ""),
                ("device_type", ty("string"), "PLC, RTU, HMI, …"),
                ("authorized", ty("boolean"), ""),
                ("programming_device", ty("boolean"), ""),
                ("scanner", ty("boolean"), ""),
                ("importance", ty("string"), "Low, Normal or High."),
            ],
            &[],
        ),
        ("POST" | "PUT", "/api/v1/exclusions" | "/api/v1/exclusions/{id}") => exclusion(),
        ("POST", "/api/v1/users") => object(
            &[
                ("name", ty("string"), ""),
                ("role", ty("string"), "viewer, analyst or admin."),
                ("password", ty("string"), "At least 10 characters."),
            ],
            &["name", "role", "password"],
        ),
        ("PATCH", "/api/v1/users/{name}") => object(
            &[
                ("role", ty("string"), "viewer, analyst or admin."),
                ("disabled", ty("boolean"), ""),
                ("password", ty("string"), "A new password (ends the user's sessions)."),
            ],
            &[],
        ),
        ("POST", "/api/v1/tokens") => object(
            &[
                ("name", ty("string"), ""),
                ("role", ty("string"), "viewer, analyst or admin."),
                ("expires_in", ty("string"), "A lifetime such as 90d; none = no expiry."),
            ],
            &["name", "role"],
        ),
        ("POST", "/api/v1/hunt") => object(
            &[
                ("query", ty("string"), "KQL text."),
                ("limit", ty("integer"), "Most rows (capped by hunt.row_limit)."),
                ("format", ty("string"), "json (default) or csv."),
            ],
            &["query"],
        ),
        ("POST", "/api/v1/hunt/queries") => object(
            &[("name", ty("string"), ""), ("query", ty("string"), "KQL text.")],
            &["name", "query"],
        ),
        ("PUT", "/external/v1/alerts/{id}") => {
            object(&[("action", ty("string"), "handle or handleAndLearn.")], &["action"])
        }
        _ => return None,
    })
}

async fn openapi() -> impl IntoResponse {
    axum::Json(openapi_doc())
}

/// The HTTP method of a spec.
pub fn method(s: &RouteSpec) -> Method {
    Method::from_bytes(s.method.as_bytes()).unwrap_or(Method::GET)
}
