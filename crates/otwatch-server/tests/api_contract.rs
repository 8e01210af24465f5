//! The API's contract, point by point from the console-server issue: results
//! checked against direct SQL on the same file, devices/connections/events,
//! exclusion rules through the API (applied at ingest, audited with who and
//! from where), idempotent ingest, alert details, the Defender for IoT
//! endpoints in their documented shapes, users, and the OpenAPI document's
//! parameters and errors. The router runs without a socket on a real store.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

use otwatch_model::Timestamp;
use otwatch_server::api::specs;
use otwatch_server::{AppState, Settings, router};
use support::NOW;

struct T {
    app: axum::Router,
    f: support::Fixture,
}

fn setup() -> T {
    let f = support::fixture();
    let state = AppState::new(f.store.clone(), Settings::default(), Arc::new(|| Timestamp(NOW)));
    T { app: router(state), f }
}

impl T {
    fn tok(&self, who: &str) -> String {
        self.f.tokens[who].clone()
    }

    /// Calls the router as `who` (an API token), from `from` when given.
    async fn call_from(
        &self,
        who: &str,
        method: &str,
        uri: &str,
        body: Option<Value>,
        from: Option<&str>,
    ) -> (StatusCode, Value) {
        let mut b = Request::builder()
            .method(method)
            .uri(uri)
            .header(header::AUTHORIZATION, format!("Bearer {}", self.tok(who)));
        let body = match body {
            Some(v) => {
                b = b.header(header::CONTENT_TYPE, "application/json");
                Body::from(v.to_string())
            }
            None => Body::empty(),
        };
        let mut req = b.body(body).unwrap();
        if let Some(addr) = from {
            let sa: SocketAddr = addr.parse().unwrap();
            req.extensions_mut().insert(ConnectInfo(sa));
        }
        let resp = self.app.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        let v = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
        (status, v)
    }

    async fn call(
        &self,
        who: &str,
        method: &str,
        uri: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        self.call_from(who, method, uri, body, None).await
    }

    async fn get(&self, who: &str, uri: &str) -> Value {
        let (st, v) = self.call(who, "GET", uri, None).await;
        assert_eq!(st, StatusCode::OK, "GET {uri}: {v}");
        v
    }

    /// A direct SQL connection to the store's file (read-only).
    fn sql(&self) -> rusqlite::Connection {
        rusqlite::Connection::open_with_flags(
            self.f.store.path(),
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )
        .unwrap()
    }

    fn sql_count(&self, sql: &str) -> u64 {
        self.sql().query_row(sql, [], |r| r.get::<_, i64>(0)).unwrap() as u64
    }

    fn sql_groups(&self, sql: &str) -> BTreeMap<String, u64> {
        let c = self.sql();
        let mut st = c.prepare(sql).unwrap();
        st.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64)))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    }
}

/// Posts detections as an Analyst; returns the ingest report.
async fn ingest(t: &T, d: Vec<Value>) -> Value {
    let (st, r) =
        t.call("analyst", "POST", "/api/v1/alerts/ingest", Some(json!({"detections": d}))).await;
    assert_eq!(st, StatusCode::OK, "{r}");
    r
}

/// `PUT /external/v1/alerts/{uuid}` with an action, as an Analyst.
async fn handle(t: &T, uuid: &str, action: &str) -> Value {
    let uri = format!("/external/v1/alerts/{uuid}");
    t.call("analyst", "PUT", &uri, Some(json!({"action": action}))).await.1
}

fn groups_of(v: &Value) -> BTreeMap<String, u64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|g| (g["value"].as_str().unwrap().to_string(), g["count"].as_u64().unwrap()))
        .collect()
}

const SEVERITY_SQL: &str = "CASE severity WHEN 1 THEN 'Warning' WHEN 2 THEN 'Minor' WHEN 3 THEN 'Major' ELSE 'Critical' END";
const STATUS_SQL: &str = "CASE status WHEN 0 THEN 'New' WHEN 1 THEN 'Active' ELSE 'Closed' END";
const HOUR: i64 = 3_600_000_000;

/// List totals, group-by counts, facets and CSV rows equal hand-written SQL
/// on the same database, for several values per column, negation, free
/// text, relative and absolute time ranges.
#[tokio::test]
async fn api_results_agree_with_direct_sql() {
    let t = setup();
    // Some triage first, so status has more than one value.
    let ids: Vec<i64> = t.get("viewer", "/api/v1/alerts?fields=id&limit=10&sort=id").await["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_i64().unwrap())
        .collect();
    let (st, b) = t
        .call(
            "analyst",
            "POST",
            "/api/v1/alerts/bulk",
            Some(json!({"ids": ids[..6], "status": "Closed"})),
        )
        .await;
    assert_eq!((st, b["changed"].as_u64()), (StatusCode::OK, Some(6)), "{b}");
    let (st, b) = t
        .call(
            "analyst",
            "POST",
            "/api/v1/alerts/bulk",
            Some(json!({"ids": ids[6..], "status": "Active"})),
        )
        .await;
    assert_eq!((st, b["changed"].as_u64()), (StatusCode::OK, Some(4)), "{b}");

    let ten_hours_ago = NOW - 10 * HOUR;
    let day = "2024-03-02"; // the fixture's "now" is 2024-03-02T17:20:00Z
    let day_start = 1_709_337_600_000_000i64;
    let cases: Vec<(String, String)> = vec![
        ("severity=Critical,Minor".into(), "severity IN (4, 2)".into()),
        ("severity=Critical&severity=Minor".into(), "severity IN (4, 2)".into()),
        ("status__not=Closed".into(), "status <> 2".into()),
        (
            "site=Plant%20B&engine=Malware,Anomaly".into(),
            "site = 'Plant B' AND engine IN ('Malware', 'Anomaly')".into(),
        ),
        ("destination_name=a-plc-1,b-plc-2".into(), "dst_name IN ('a-plc-1', 'b-plc-2')".into()),
        ("name__contains=scan".into(), "lower(name) LIKE '%scan%'".into()),
        ("techniques=T0836".into(), "(',' || techniques || ',') LIKE '%,T0836,%'".into()),
        ("learnable=false&mutable=true".into(), "learnable = 0 AND mutable = 1".into()),
        ("id__gte=10&id__lte=20".into(), "id BETWEEN 10 AND 20".into()),
        ("q=b-eng".into(), "src_name LIKE '%b-eng%' OR dst_name LIKE '%b-eng%'".into()),
        ("from=10h".into(), format!("last_detection >= {ten_hours_ago}")),
        (format!("from={day}"), format!("last_detection >= {day_start}")),
        (format!("to={day}"), format!("last_detection < {day_start}")),
        (
            "time_field=first_detection&from=20h&to=10h".into(),
            format!("first_detection >= {} AND first_detection < {ten_hours_ago}", NOW - 20 * HOUR),
        ),
        (
            "severity=Critical&status__not=Closed&sensor=sensor-2&from=12h".into(),
            format!(
                "severity = 4 AND status <> 2 AND sensor = 'sensor-2' AND last_detection >= {}",
                NOW - 12 * HOUR
            ),
        ),
    ];
    for (qs, cond) in &cases {
        let want = t.sql_count(&format!("SELECT count(*) FROM alerts WHERE {cond}"));
        let v = t.get("viewer", &format!("/api/v1/alerts?{qs}&total=true&limit=1000")).await;
        assert_eq!(v["total"].as_u64(), Some(want), "{qs} vs {cond}");
        assert_eq!(v["items"].as_array().unwrap().len() as u64, want, "{qs}");
        let got: BTreeSet<i64> =
            v["items"].as_array().unwrap().iter().map(|a| a["id"].as_i64().unwrap()).collect();
        let c = t.sql();
        let mut st = c.prepare(&format!("SELECT id FROM alerts WHERE {cond}")).unwrap();
        let sql_ids: BTreeSet<i64> =
            st.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect();
        assert_eq!(got, sql_ids, "{qs}: the same rows, not just as many");
        // The CSV export of the same filter has one row per alert.
        let (st, csv) = t
            .call(
                "analyst",
                "GET",
                &format!("/api/v1/alerts/export.csv?{qs}&fields=id,severity"),
                None,
            )
            .await;
        assert_eq!(st, StatusCode::OK);
        let rows = support::csv_rows(csv.as_str().unwrap());
        assert_eq!(rows[0], ["ID", "Severity"]);
        let csv_ids: BTreeSet<i64> = rows[1..].iter().map(|r| r[0].parse().unwrap()).collect();
        assert_eq!(csv_ids, sql_ids, "CSV {qs}");
    }
    assert!(t.sql_count("SELECT count(*) FROM alerts WHERE severity IN (4, 2)") > 0);

    // Group-by counts for every column the issue names, under a filter.
    for (by, expr) in [
        ("engine", "engine"),
        ("name", "name"),
        ("sensor", "sensor"),
        ("severity", SEVERITY_SQL),
        ("site", "site"),
        ("zone", "zone"),
        ("status", STATUS_SQL),
        ("category", "category"),
        ("protocol", "protocol"),
        ("type", "alert_type"),
    ] {
        let v =
            t.get("viewer", &format!("/api/v1/alerts/groups?by={by}&severity__not=Minor")).await;
        let want = t.sql_groups(&format!(
            "SELECT {expr}, count(*) FROM alerts WHERE severity <> 2 GROUP BY 1"
        ));
        assert_eq!(groups_of(&v["groups"]), want, "groups by {by}");
        assert_eq!(v["total"].as_u64(), Some(want.values().sum::<u64>()), "{by}: {v}");
    }
    // Facets: each column's counts ignore that column's own filter.
    let v = t
        .get(
            "viewer",
            "/api/v1/alerts/facets?fields=severity,site,status&severity=Critical&site=Plant%20A",
        )
        .await;
    assert_eq!(
        groups_of(&v["facets"]["severity"]),
        t.sql_groups(&format!(
            "SELECT {SEVERITY_SQL}, count(*) FROM alerts WHERE site = 'Plant A' GROUP BY 1"
        ))
    );
    assert_eq!(
        groups_of(&v["facets"]["site"]),
        t.sql_groups("SELECT site, count(*) FROM alerts WHERE severity = 4 GROUP BY 1")
    );
    assert_eq!(
        groups_of(&v["facets"]["status"]),
        t.sql_groups(&format!("SELECT {STATUS_SQL}, count(*) FROM alerts WHERE severity = 4 AND site = 'Plant A' GROUP BY 1"))
    );
    // Sort and keyset paging: every row once, in the order SQL gives.
    let mut seen = Vec::new();
    let mut uri = "/api/v1/alerts?sort=-severity&limit=9&fields=id".to_string();
    loop {
        let v = t.get("viewer", &uri).await;
        seen.extend(v["items"].as_array().unwrap().iter().map(|a| a["id"].as_i64().unwrap()));
        match v["next"].as_str() {
            Some(c) => uri = format!("/api/v1/alerts?sort=-severity&limit=9&fields=id&after={c}"),
            None => break,
        }
    }
    let c = t.sql();
    let mut st = c
        .prepare("SELECT id FROM alerts ORDER BY severity DESC, last_detection DESC, id DESC")
        .unwrap();
    let ordered: Vec<i64> = st.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect();
    assert_eq!(seen, ordered);
}

/// The inventory, one device with its alerts, connections and events, and the
/// event timeline with its filters.
#[tokio::test]
async fn devices_connections_and_events() {
    let t = setup();
    // Inventory: filters and group-by equal SQL.
    let v = t.get("viewer", "/api/v1/devices?type=PLC&site=Plant%20A").await;
    let want =
        t.sql_count("SELECT count(*) FROM devices WHERE device_type = 'PLC' AND site = 'Plant A'");
    assert_eq!(want, 3);
    assert_eq!(v["total"].as_u64(), Some(want));
    assert!(v["items"].as_array().unwrap().iter().all(|d| d["site"] == "Plant A"), "{v}");
    let v = t.get("viewer", "/api/v1/devices?group_by=type&site=Plant%20B").await;
    assert_eq!(
        groups_of(&v["groups"]),
        t.sql_groups("SELECT device_type, count(*) FROM devices WHERE site = 'Plant B' GROUP BY 1")
    );
    let v = t.get("viewer", "/api/v1/devices?vendor=Siemens&is_ot=true").await;
    assert_eq!(
        v["total"].as_u64(),
        Some(t.sql_count("SELECT count(*) FROM devices WHERE vendor = 'Siemens' AND is_ot = 1"))
    );
    let v = t.get("viewer", "/api/v1/devices?q=historian").await;
    assert_eq!(v["total"].as_u64(), Some(2), "{v}");
    // One device: its alerts (either side), its connections and its events.
    let plc = t.f.devices["a-plc-1"];
    let d = t.get("viewer", &format!("/api/v1/devices/{plc}")).await;
    assert_eq!(d["device"]["name"], "a-plc-1");
    let ip = d["device"]["ip"].as_str().unwrap().to_string();
    let alerts = d["alerts"].as_array().unwrap();
    assert_eq!(
        alerts.len() as u64,
        t.sql_count(&format!(
            "SELECT count(*) FROM alerts WHERE src_ip = '{ip}' OR dst_ip = '{ip}'"
        ))
    );
    assert!(!alerts.is_empty());
    let conns = d["connections"].as_array().unwrap();
    assert_eq!(
        conns.len() as u64,
        t.sql_count(&format!(
            "SELECT count(*) FROM connections WHERE src_device_id = {plc} OR dst_device_id = {plc}"
        ))
    );
    assert!(conns.len() >= 3);
    let kinds: BTreeSet<&str> =
        d["events"].as_array().unwrap().iter().map(|e| e["event_type"].as_str().unwrap()).collect();
    assert_eq!(kinds, BTreeSet::from(["ALERT_REPORTED", "DEVICE_CREATE", "PROGRAM_DEVICE"]), "{d}");
    // The alerts' timeline entries are the device's too, on either side.
    assert!(
        d["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["event_type"] == "ALERT_REPORTED")
            .all(|e| e["src_ip"] == ip.as_str() || e["dst_ip"] == ip.as_str()),
        "{d}"
    );
    let (st, e) = t.call("viewer", "GET", "/api/v1/devices/999999", None).await;
    assert_eq!((st, e["error"]["code"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")));
    // Connections by device and by protocol.
    let v = t.get("viewer", "/api/v1/connections?protocol=Modbus,SNMP").await;
    assert_eq!(
        v["items"].as_array().unwrap().len() as u64,
        t.sql_count("SELECT count(*) FROM connections WHERE protocol IN ('Modbus', 'SNMP')")
    );
    // The timeline: by device, by type, by time, newest first, paged with `before`.
    let v = t.get("viewer", &format!("/api/v1/events?device_id={plc}&type=PROGRAM_DEVICE")).await;
    assert_eq!(v["items"].as_array().unwrap().len(), 1, "{v}");
    let v = t.get("viewer", "/api/v1/events?type=DEVICE_CREATE").await;
    let all = v["items"].as_array().unwrap();
    assert_eq!(
        all.len() as u64,
        t.sql_count("SELECT count(*) FROM events WHERE event_type = 'DEVICE_CREATE'")
    );
    let at = |e: &Value| Timestamp::parse(e["at"].as_str().unwrap()).unwrap();
    assert!(all.windows(2).all(|w| at(&w[0]) >= at(&w[1])), "newest first");
    let v = t.get("viewer", "/api/v1/events?from=2h").await;
    let recent = v["items"].as_array().unwrap();
    assert_eq!(
        recent.len() as u64,
        t.sql_count(&format!("SELECT count(*) FROM events WHERE at >= {}", NOW - 2 * HOUR))
    );
    assert_eq!(recent.len(), 1, "only the PLC programming event is that recent: {v}");
    let page = t.get("viewer", "/api/v1/events?type=DEVICE_CREATE&limit=5").await;
    let before = page["before"].as_i64().unwrap();
    let rest = t
        .get("viewer", &format!("/api/v1/events?type=DEVICE_CREATE&before={before}&limit=1000"))
        .await;
    assert_eq!(5 + rest["items"].as_array().unwrap().len(), all.len());
    // Misspelt or badly typed parameters name themselves and answer nothing.
    for (uri, field) in [
        ("/api/v1/devices?vendr=Siemens", "vendr"),
        ("/api/v1/devices?is_ot=maybe", "is_ot"),
        ("/api/v1/devices?type=Toaster", "type"),
        ("/api/v1/connections?protcol=Modbus", "protcol"),
        ("/api/v1/connections?from=yesterday", "from"),
        ("/api/v1/connections?limit=100000", "limit"),
        ("/api/v1/events?limit=100000", "limit"),
        ("/api/v1/devices?limit=100000", "limit"),
        ("/api/v1/events?device=5", "device"),
        // Defender's sensor event list is not emulated: its parameter is named, not ignored.
        ("/api/v1/events?minutesTimeFrame=60", "minutesTimeFrame"),
        ("/api/v1/events?device_id=abc", "device_id"),
        ("/api/v1/events?alert_id=0", "alert_id"),
        ("/api/v1/connections?device_id=x", "device_id"),
        ("/api/v1/events?to=soon", "to"),
    ] {
        let (st, e) = t.call("viewer", "GET", uri, None).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{uri}: {e}");
        assert_eq!(e["error"]["field"], field, "{uri}: {e}");
    }
}

/// Exclusion rules and maintenance windows through the API: created, listed,
/// updated and deleted by an Admin, applied at ingest, every change in the
/// audit log with who, when and from where.
#[tokio::test]
async fn exclusion_rules_apply_at_ingest_and_are_audited() {
    let t = setup();
    let scan = |src: &str, at: &str| json!({"type": "anomaly_port_scan", "time": at, "source": {"ip": src}, "destination": {"ip": "10.1.0.13"}, "sensor": "sensor-1"});
    let rule = json!({
        "name": "Pentest from the red team laptop",
        "reason": "Approved pentest, CHG-7",
        "alert_types": ["anomaly_port_scan"],
        "subnets": ["10.66.0.0/16"],
        "sensors": ["sensor-1"],
        "expires_at": "2024-03-09T00:00:00Z",
    });
    let (st, created) = t
        .call_from(
            "admin",
            "POST",
            "/api/v1/exclusions",
            Some(rule.clone()),
            Some("192.0.2.7:50000"),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{created}");
    let id = created["id"].as_i64().unwrap();
    assert_eq!(created["created_by"], "token:admin-token");
    assert_eq!(created["reason"], "Approved pentest, CHG-7");
    // Analysts read rules; the list holds it.
    let list = t.get("analyst", "/api/v1/exclusions").await;
    assert!(list["items"].as_array().unwrap().iter().any(|r| r["id"] == id));
    assert_eq!(t.get("analyst", &format!("/api/v1/exclusions/{id}")).await["name"], rule["name"]);
    // Applied at ingest: the pentest scan is excluded, the same scan from elsewhere is not.
    let r = ingest(
        &t,
        vec![scan("10.66.1.5", "2024-03-02T12:00:00Z"), scan("10.1.0.99", "2024-03-02T12:00:00Z")],
    )
    .await;
    assert_eq!((r["excluded"].as_u64(), r["opened"].as_u64()), (Some(1), Some(1)), "{r}");
    assert_eq!(t.sql_count("SELECT count(*) FROM alerts WHERE src_ip = '10.66.1.5'"), 0);
    assert_eq!(t.get("admin", &format!("/api/v1/exclusions/{id}")).await["hits"], 1);
    // An expired rule matches nothing.
    let old = json!({"name": "Last week's pentest", "subnets": ["10.77.0.0/16"], "expires_at": "2024-03-01T00:00:00Z"});
    let (st, old) = t.call("admin", "POST", "/api/v1/exclusions", Some(old)).await;
    assert_eq!(st, StatusCode::CREATED, "{old}");
    let r = ingest(&t, vec![scan("10.77.1.6", "2024-03-02T12:00:00Z")]).await;
    assert_eq!(
        (r["excluded"].as_u64(), r["opened"].as_u64()),
        (Some(0), Some(1)),
        "expired rules match nothing: {r}"
    );
    // Updated: now only a maintenance window for one hour on another sensor.
    let window = json!({
        "name": "Pentest from the red team laptop",
        "kind": "maintenance",
        "ticket_id": "CHG-7",
        "reason": "Approved pentest, CHG-7",
        "engines": ["Anomaly"],
        "sensors": ["sensor-2"],
        "window_start": "2024-03-02T13:00:00Z",
        "window_end": "2024-03-02T14:00:00Z",
    });
    let (st, upd) = t.call("admin", "PUT", &format!("/api/v1/exclusions/{id}"), Some(window)).await;
    assert_eq!(st, StatusCode::OK, "{upd}");
    assert_eq!(upd["kind"], "maintenance");
    let on2 = |src: &str, at: &str| {
        let mut d = scan(src, at);
        d["sensor"] = json!("sensor-2");
        d
    };
    let r = ingest(
        &t,
        vec![
            on2("10.2.0.50", "2024-03-02T13:30:00Z"),
            on2("10.2.0.51", "2024-03-02T14:30:00Z"),
            scan("10.66.1.7", "2024-03-02T13:30:00Z"),
        ],
    )
    .await;
    assert_eq!(
        (r["excluded"].as_u64(), r["opened"].as_u64()),
        (Some(1), Some(2)),
        "inside the window on sensor-2 only: {r}"
    );
    // Bad rules are refused, naming the field, and change nothing.
    for (body, field) in [
        (json!({"name": "x", "alert_types": ["no_such_type"]}), "alert_types"),
        (json!({"name": "say \"hi\"", "engines": ["Anomaly"]}), "name"),
        (json!({"name": "x", "kind": "maintenance", "engines": ["Anomaly"]}), "ticket_id"),
        (json!({"name": "x", "subnets": ["10.0.0.0/99"]}), "subnets"),
        (
            json!({"name": "x", "engines": ["Anomaly"], "window_start": "2024-03-02T14:00:00Z", "window_end": "2024-03-02T13:00:00Z"}),
            "window_end",
        ),
        (json!({"name": "x", "engines": ["Anomaly"], "sevrity": "High"}), "sevrity"),
    ] {
        let (st, e) = t.call("admin", "POST", "/api/v1/exclusions", Some(body.clone())).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{body}: {e}");
        assert!(e["error"]["field"].as_str().unwrap_or("").starts_with(field), "{body}: {e}");
    }
    assert_eq!(t.get("admin", "/api/v1/exclusions").await["items"].as_array().unwrap().len(), 2);
    // Analysts may not change rules.
    let (st, _) = t.call("analyst", "DELETE", &format!("/api/v1/exclusions/{id}"), None).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, _) = t
        .call_from(
            "admin",
            "DELETE",
            &format!("/api/v1/exclusions/{id}"),
            None,
            Some("192.0.2.8:50001"),
        )
        .await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (st, _) = t.call("admin", "GET", &format!("/api/v1/exclusions/{id}"), None).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    // The audit log: create, update, delete — who, when, from where.
    let a = t.get("admin", &format!("/api/v1/audit?object_type=exclusion&object_id={id}")).await;
    let recs = a["items"].as_array().unwrap();
    let actions: Vec<&str> = recs.iter().map(|r| r["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["exclusion_delete", "exclusion_update", "exclusion_create"], "{a}");
    assert!(recs.iter().all(|r| r["actor"]["name"] == "token:admin-token" && r["at"].is_string()));
    assert_eq!(recs[2]["actor"]["address"], "192.0.2.7");
    assert_eq!(recs[0]["actor"]["address"], "192.0.2.8");
    let (st, _) = t.call("analyst", "GET", "/api/v1/audit", None).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "the audit log is for Admins");
    let (st, e) = t.call("admin", "GET", "/api/v1/audit?who=me", None).await;
    assert_eq!((st, e["error"]["field"].as_str()), (StatusCode::BAD_REQUEST, Some("who")));
}

/// Ingest over the API: de-duplicated, idempotent on re-send, bad detections
/// reported by index while the good ones are stored.
#[tokio::test]
async fn ingest_is_idempotent_and_reports_bad_detections() {
    let t = setup();
    let before = t.sql_count("SELECT count(*) FROM alerts");
    let batch = json!({"detections": [
        {"type": "policy_modbus_function_code", "time": "2024-03-02T15:00:00Z", "id": "agent-1:1",
         "source": {"ip": "10.5.0.1"}, "destination": {"ip": "10.5.0.2"}, "protocol": "Modbus", "key": {"function_code": "90"}},
        {"type": "policy_modbus_function_code", "time": "2024-03-02T15:00:05Z", "id": "agent-1:2",
         "source": {"ip": "10.5.0.1"}, "destination": {"ip": "10.5.0.2"}, "protocol": "Modbus", "key": {"function_code": "90"}},
        {"type": "no_such_alert", "time": "2024-03-02T15:00:06Z"},
        {"type": "microagent_failed_local_login", "time": 1_709_391_600_000_i64, "source": {"name": "hmi-3"}},
    ]});
    let (st, r) = t.call("analyst", "POST", "/api/v1/alerts/ingest", Some(batch.clone())).await;
    assert_eq!(st, StatusCode::OK, "{r}");
    assert_eq!(
        (r["received"].as_u64(), r["opened"].as_u64(), r["updated"].as_u64()),
        (Some(4), Some(2), Some(1)),
        "{r}"
    );
    assert_eq!(r["rejected"][0]["index"], 2);
    assert!(r["rejected"][0]["error"].as_str().unwrap().contains("no_such_alert"), "{r}");
    let snapshot = |t: &T| {
        let c = t.sql();
        let mut st = c.prepare("SELECT id, occurrence_count, last_detection, last_activity FROM alerts ORDER BY id").unwrap();
        st.query_map([], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, r.get::<_, i64>(2)?, r.get::<_, i64>(3)?))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect::<Vec<_>>()
    };
    let after_first = snapshot(&t);
    assert_eq!(after_first.len() as u64, before + 2);
    let modbus = t.sql_count("SELECT occurrence_count FROM alerts WHERE src_ip = '10.5.0.1'");
    assert_eq!(modbus, 2);
    // Re-sending the same batch changes nothing.
    let (_, r2) = t.call("analyst", "POST", "/api/v1/alerts/ingest", Some(batch)).await;
    assert_eq!(
        (r2["opened"].as_u64(), r2["updated"].as_u64(), r2["duplicates"].as_u64()),
        (Some(0), Some(0), Some(3)),
        "{r2}"
    );
    assert_eq!(snapshot(&t), after_first);
    // Viewers may not ingest; malformed or unknown-field bodies change nothing.
    let (st, _) =
        t.call("viewer", "POST", "/api/v1/alerts/ingest", Some(json!({"detections": []}))).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, e) = t.call("analyst", "POST", "/api/v1/alerts/ingest", Some(json!({"detections": [{"type": "anomaly_port_scan", "time": "2024-03-02T15:00:00Z", "sevrity": "High"}]}))).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{e}");
    assert!(
        e["error"]["field"].as_str().unwrap_or("").contains("sevrity")
            || e["error"]["message"].as_str().unwrap().contains("sevrity"),
        "{e}"
    );
    assert_eq!(snapshot(&t), after_first);
}

/// One alert in full, and every triage action through the API, one and many.
#[tokio::test]
async fn alert_details_and_every_action() {
    let t = setup();
    let v =
        t.get("viewer", "/api/v1/alerts?type=anomaly_port_scan&limit=2&sort=id&fields=id").await;
    let (a, b) = (v["items"][0]["id"].as_i64().unwrap(), v["items"][1]["id"].as_i64().unwrap());
    let d = t.get("viewer", &format!("/api/v1/alerts/{a}")).await;
    let al = &d["alert"];
    for key in [
        "id",
        "type",
        "name",
        "engine",
        "category",
        "severity",
        "status",
        "first_detection",
        "last_detection",
        "last_activity",
        "occurrence_count",
        "source",
        "destination",
        "protocol",
        "sensor",
        "site",
        "zone",
        "tactics",
        "techniques",
        "description",
        "remediation",
        "learnable",
        "mutable",
    ] {
        assert!(al.get(key).is_some(), "alert details lack {key}: {al}");
    }
    for side in ["source", "destination"] {
        // mac is left out when unknown (the fixture's alerts carry none).
        for k in ["ip", "name"] {
            assert!(al[side][k].is_string(), "{side}.{k}: {al}");
        }
    }
    assert!(!al["description"].as_str().unwrap().is_empty());
    assert!(!al["remediation"].as_array().unwrap().is_empty());
    assert!(
        d["mitre"]["techniques"].as_array().unwrap().iter().all(|x| x["url"]
            .as_str()
            .unwrap()
            .starts_with("https://attack.mitre.org/techniques/T0")),
        "{d}"
    );
    assert!(
        d["mitre"]["tactics"]
            .as_array()
            .unwrap()
            .iter()
            .all(|x| x["url"].as_str().unwrap().starts_with("https://attack.mitre.org/tactics/TA")),
        "{d}"
    );
    let sev = al["severity"].as_str().unwrap();
    let scales = &d["severity_scales"];
    assert_eq!(scales["sensor"], sev);
    let (portal, cef) = match sev {
        "Critical" => ("High", 10),
        "Major" => ("Medium", 8),
        "Minor" => ("Low", 4),
        _ => ("Low", 1),
    };
    assert_eq!((scales["portal"].as_str(), scales["cef"].as_u64()), (Some(portal), Some(cef)));
    let src_name = al["source"]["name"].as_str().unwrap();
    assert!(d["devices"].to_string().contains(src_name), "the devices' inventory records: {d}");
    assert!(
        d["devices"].to_string().contains("Siemens") || d["devices"].to_string().contains("Dell"),
        "{d}"
    );
    // Mute → unmute, learn → unlearn, each in the history with who.
    for (path, field, want) in [
        ("mute", "disposition", "muted"),
        ("unmute", "disposition", "none"),
        ("learn", "disposition", "learned"),
        ("unlearn", "disposition", "none"),
    ] {
        let (st, r) = t.call("analyst", "POST", &format!("/api/v1/alerts/{a}/{path}"), None).await;
        assert_eq!(st, StatusCode::OK, "{path}: {r}");
        assert_eq!(r["alert"][field], want, "{path}: {r}");
    }
    let (st, e) = t.call("analyst", "POST", &format!("/api/v1/alerts/{a}/unmute"), None).await;
    assert_eq!(st, StatusCode::CONFLICT, "unmuting an alert that is not muted: {e}");
    assert!(e["error"]["message"].as_str().unwrap().contains("not muted"), "{e}");
    let d = t.get("viewer", &format!("/api/v1/alerts/{a}")).await;
    let actions: Vec<&str> =
        d["history"].as_array().unwrap().iter().map(|h| h["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["mute", "unmute", "learn", "unlearn"], "{d}");
    assert!(
        d["history"]
            .as_array()
            .unwrap()
            .iter()
            .all(|h| h["actor"]["name"] == "token:analyst-token")
    );
    // Many at once by ids: severity and an action; the answer lists each outcome.
    let (st, r) = t
        .call(
            "analyst",
            "POST",
            "/api/v1/alerts/bulk",
            Some(json!({"ids": [a, b, 999999], "severity": "Warning", "action": "mute"})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{r}");
    assert_eq!(
        (r["matched"].as_u64(), r["changed"].as_u64(), r["errors"].as_u64()),
        (Some(3), Some(2), Some(1)),
        "{r}"
    );
    for id in [a, b] {
        let d = t.get("viewer", &format!("/api/v1/alerts/{id}")).await;
        let al = &d["alert"];
        assert_eq!(
            (al["severity"].as_str(), al["disposition"].as_str(), al["status"].as_str()),
            (Some("Warning"), Some("muted"), Some("Closed"))
        );
    }
    // The aggregated view: same-type alerts per period with their devices.
    let v = t
        .get("viewer", "/api/v1/alerts/aggregated?period=1d&type=malware_known_malicious_ip")
        .await;
    let items = v["items"].as_array().unwrap();
    let n: u64 = items.iter().map(|i| i["alerts"].as_u64().unwrap()).sum();
    assert_eq!(
        n,
        t.sql_count("SELECT count(*) FROM alerts WHERE alert_type = 'malware_known_malicious_ip'")
    );
    assert!(
        items.iter().all(|i| i["type"] == "malware_known_malicious_ip"
            && !i["devices"].as_array().unwrap().is_empty()),
        "{v}"
    );
    let (st, e) = t.call("viewer", "GET", "/api/v1/alerts/aggregated?period=soon", None).await;
    assert_eq!((st, e["error"]["field"].as_str()), (StatusCode::BAD_REQUEST, Some("period")));
}

/// The Defender for IoT sensor and on-premises console alert endpoints, in the
/// documented shapes, with the documented handle/handleAndLearn outcomes.
#[tokio::test]
async fn defender_endpoints_answer_in_their_documented_shapes() {
    let t = setup();
    // Sensor API v2: v2 fields, no console fields.
    let (st, v) = t.call("viewer", "GET", "/api/v2/alerts", None).await;
    assert_eq!(st, StatusCode::OK);
    let arr = v.as_array().unwrap();
    assert_eq!(arr.len() as u64, t.sql_count("SELECT count(*) FROM alerts"));
    for a in arr {
        for k in [
            "id",
            "time",
            "title",
            "message",
            "severity",
            "engine",
            "sourceDevice",
            "destinationDevice",
            "additionalInformation",
            "sourceDeviceAddress",
            "destinationDeviceAddress",
            "remediationSteps",
        ] {
            assert!(a.get(k).is_some(), "sensor v2 lacks {k}: {a}");
        }
        assert!(a.get("handled").is_none() && a.get("siteId").is_none());
        assert!(
            ["Warning", "Minor", "Major", "Critical"].contains(&a["severity"].as_str().unwrap())
        );
        assert!(a["time"].is_i64());
        assert!(a["additionalInformation"]["information"].is_array());
    }
    // Times are epoch milliseconds: fromTime/toTime select the same rows as SQL.
    let (from_ms, to_ms) = ((NOW - 10 * HOUR) / 1000, (NOW - 5 * HOUR) / 1000);
    let (_, v) = t
        .call("viewer", "GET", &format!("/api/v2/alerts?fromTime={from_ms}&toTime={to_ms}"), None)
        .await;
    assert_eq!(
        v.as_array().unwrap().len() as u64,
        t.sql_count(&format!(
            "SELECT count(*) FROM alerts WHERE last_detection >= {} AND last_detection < {}",
            from_ms * 1000,
            to_ms * 1000 + 1000
        ))
    );
    let (st, e) = t.call("viewer", "GET", "/api/v2/alerts?fromTime=yesterday", None).await;
    assert_eq!((st, e["error"]["field"].as_str()), (StatusCode::BAD_REQUEST, Some("fromTime")));
    // Sensor API v1 on /api/v1/alerts: exactly the v1 fields; `type` picks new devices.
    ingest(
        &t,
        vec![json!({"type": "policy_new_asset", "time": "2024-03-02T16:00:00Z", "source": {"ip": "10.1.0.99"}})],
    )
    .await;
    let (st, v) = t
        .call(
            "viewer",
            "GET",
            "/api/v1/alerts?state=unhandled&type=unexpected%20new%20devices",
            None,
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let arr = v.as_array().unwrap();
    assert_eq!(
        arr.len() as u64,
        t.sql_count("SELECT count(*) FROM alerts WHERE category = 'Discovery' AND status <> 2")
    );
    assert!(!arr.is_empty());
    let v1: BTreeSet<&str> = [
        "id",
        "time",
        "title",
        "message",
        "severity",
        "engine",
        "sourceDevice",
        "destinationDevice",
        "additionalInformation",
    ]
    .into();
    for a in arr {
        let keys: BTreeSet<&str> = a.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, v1, "{a}");
    }
    let (_, v) =
        t.call("viewer", "GET", "/api/v1/alerts?state=unhandled&type=disconnections", None).await;
    assert_eq!(
        v.as_array().unwrap().len() as u64,
        t.sql_count("SELECT count(*) FROM alerts WHERE category = 'Unresponsive' AND status <> 2")
    );
    // Console API: site, zone and sensor filters; v2 names.
    let (_, v) = t
        .call("viewer", "GET", "/external/v2/alerts?siteId=Plant%20B&sensorId=sensor-2", None)
        .await;
    let arr = v.as_array().unwrap();
    assert_eq!(
        arr.len() as u64,
        t.sql_count("SELECT count(*) FROM alerts WHERE site = 'Plant B' AND sensor = 'sensor-2'")
    );
    assert!(arr.iter().all(|a| a["siteId"] == "Plant B"
        && a["siteName"] == "Plant B"
        && a["sensorName"] == "sensor-2"
        && a["zoneName"] == "Packaging"
        && a["handled"] == false));
    let (_, v) = t.call("viewer", "GET", "/external/v1/alerts?zoneId=Line%201", None).await;
    assert!(
        v.as_array()
            .unwrap()
            .iter()
            .all(|a| a["zoneId"] == "Line 1" && a.get("sourceDeviceAddress").is_none())
    );
    // handle, then handle again, then handleAndLearn on the handled alert: it becomes learned.
    let learnable = t
        .sql()
        .query_row("SELECT id, sensor FROM alerts WHERE alert_type = 'policy_modbus_function_code' ORDER BY id LIMIT 1", [], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))
        .unwrap();
    let uuid = format!("{}-{}", learnable.1, learnable.0);
    assert_eq!(
        handle(&t, &uuid, "handle").await["content"],
        "Alert update request finished successfully"
    );
    assert_eq!(handle(&t, &uuid, "handle").await["content"], "Alert was already handled");
    assert_eq!(
        handle(&t, &uuid, "handleAndLearn").await["content"],
        "Alert update request finished successfully"
    );
    let d = t.get("viewer", &format!("/api/v1/alerts/{}", learnable.0)).await;
    let al = &d["alert"];
    assert_eq!(
        (al["status"].as_str(), al["disposition"].as_str()),
        (Some("Closed"), Some("learned"))
    );
    // A learned alert that gets `handle` stays learned.
    assert_eq!(
        handle(&t, &uuid, "handle").await["content"],
        "Alert was already handled and learned"
    );
    assert_eq!(
        t.get("viewer", &format!("/api/v1/alerts/{}", learnable.0)).await["alert"]["disposition"],
        "learned"
    );
    // A type that cannot be learned is handled, and the answer says so.
    let stop = t.sql_count(
        "SELECT id FROM alerts WHERE alert_type = 'operational_s7_plc_stop' ORDER BY id LIMIT 1",
    );
    let (_, r) = t
        .call(
            "analyst",
            "PUT",
            &format!("/external/v1/alerts/{stop}"),
            Some(json!({"action": "handleAndLearn"})),
        )
        .await;
    assert!(r["content"].as_str().unwrap().contains("not learned"), "{r}");
    assert_eq!(
        t.get("viewer", &format!("/api/v1/alerts/{stop}")).await["alert"]["status"],
        "Closed"
    );
    let (st, r) = t
        .call(
            "analyst",
            "PUT",
            "/external/v1/alerts/sensor-1-999999",
            Some(json!({"action": "handle"})),
        )
        .await;
    assert_eq!(
        (st, r["error"].as_str()),
        (StatusCode::INTERNAL_SERVER_ERROR, Some("no alert was found for this UUID"))
    );
    // State filters after handling.
    let (_, h) = t.call("viewer", "GET", "/external/v1/alerts?state=handled", None).await;
    assert_eq!(
        h.as_array().unwrap().len() as u64,
        t.sql_count("SELECT count(*) FROM alerts WHERE status = 2")
    );
    let (st, e) = t.call("viewer", "GET", "/external/v1/alerts?state=sorta", None).await;
    assert_eq!((st, e["error"]["field"].as_str()), (StatusCode::BAD_REQUEST, Some("state")));
    // PCAP through the console's two-step flow, then the sensor endpoint.
    let with_pcap = t.sql_count("SELECT alert_id FROM alert_pcaps LIMIT 1");
    let (st, p) =
        t.call("analyst", "GET", &format!("/external/v2/alerts/pcap/{with_pcap}"), None).await;
    assert_eq!(st, StatusCode::OK, "{p}");
    for k in ["id", "xsenseId", "xsenseAlertId", "downloadUrl", "token"] {
        assert!(p.get(k).is_some(), "console pcap lacks {k}: {p}");
    }
    let url = p["downloadUrl"].as_str().unwrap().to_string();
    let resp = t
        .app
        .clone()
        .oneshot(
            Request::builder()
                .uri(&url)
                .header(header::AUTHORIZATION, t.tok("analyst"))
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(
        resp.status(),
        StatusCode::OK,
        "{url} with the bare token, as Defender scripts send it"
    );
    assert_eq!(&resp.into_body().collect().await.unwrap().to_bytes()[..], support::PCAP);
    let (st, e) = t.call("analyst", "GET", "/external/v2/alerts/pcap/999999", None).await;
    assert_eq!(
        (st, e["error"].as_str()),
        (StatusCode::INTERNAL_SERVER_ERROR, Some("alert not found"))
    );
    let (st, _) = t.call("viewer", "GET", &url, None).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "PCAP needs Analyst");
}

/// Users through the API: added, role changed, disabled, removed; audited.
#[tokio::test]
async fn users_are_managed_by_admins_and_audited() {
    let t = setup();
    let (st, u) = t
        .call_from(
            "admin",
            "POST",
            "/api/v1/users",
            Some(json!({"name": "olga", "role": "viewer", "password": "a long enough password"})),
            Some("198.51.100.4:4000"),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{u}");
    assert!(u.get("password_hash").is_none() && !u.to_string().contains("argon2"), "{u}");
    let (st, _) = t
        .call(
            "admin",
            "POST",
            "/api/v1/users",
            Some(json!({"name": "olga", "role": "viewer", "password": "a long enough password"})),
        )
        .await;
    assert_eq!(st, StatusCode::CONFLICT, "a second user with the same name");
    let (st, u) =
        t.call("admin", "PATCH", "/api/v1/users/olga", Some(json!({"role": "analyst"}))).await;
    assert_eq!((st, u["role"].as_str()), (StatusCode::OK, Some("analyst")), "{u}");
    let (st, u) =
        t.call("admin", "PATCH", "/api/v1/users/olga", Some(json!({"disabled": true}))).await;
    assert_eq!((st, u["disabled"].as_bool()), (StatusCode::OK, Some(true)), "{u}");
    let login = Request::builder()
        .method("POST")
        .uri("/api/v1/auth/login")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(
            json!({"username": "olga", "password": "a long enough password"}).to_string(),
        ))
        .unwrap();
    assert_eq!(
        t.app.clone().oneshot(login).await.unwrap().status(),
        StatusCode::UNAUTHORIZED,
        "disabled users cannot sign in"
    );
    let (st, _) = t.call("admin", "DELETE", "/api/v1/users/olga", None).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (st, _) = t.call("admin", "DELETE", "/api/v1/users/olga", None).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let users = t.get("admin", "/api/v1/users").await;
    assert!(users["items"].as_array().unwrap().iter().all(|u| u["name"] != "olga"));
    let a = t
        .get("admin", "/api/v1/audit?object_type=user&object_id=olga&actor=token:admin-token")
        .await;
    let recs = a["items"].as_array().unwrap();
    assert!(recs.len() >= 4, "{a}");
    assert_eq!(recs.last().unwrap()["actor"]["address"], "198.51.100.4");
    assert!(
        !a.to_string().contains("a long enough password"),
        "passwords never reach the audit log"
    );
}

/// The OpenAPI document lists, for every route, the parameters its handler
/// reads and the errors it can answer; handlers refuse undocumented
/// parameters, so the document and the code cannot drift.
#[tokio::test]
async fn openapi_documents_parameters_and_errors() {
    let t = setup();
    let (st, doc) = t.call("viewer", "GET", "/api/v1/openapi.json", None).await;
    assert_eq!(st, StatusCode::OK);
    let names = |path: &str, method: &str| -> BTreeSet<String> {
        doc["paths"][path][method]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap().to_string())
            .collect()
    };
    let want = |xs: &[&str]| xs.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
    assert_eq!(
        names("/api/v1/devices", "get"),
        want(&[
            "q", "type", "vendor", "site", "zone", "is_ot", "protocol", "limit", "offset",
            "group_by", "total"
        ])
    );
    assert_eq!(
        names("/api/v1/connections", "get"),
        want(&["device_id", "address", "protocol", "transport", "from", "to", "limit", "offset"])
    );
    assert_eq!(
        names("/api/v1/events", "get"),
        want(&["device_id", "alert_id", "type", "from", "to", "q", "limit", "before"])
    );
    assert_eq!(
        names("/api/v1/audit", "get"),
        want(&["object_type", "object_id", "actor", "from", "to", "limit"])
    );
    assert_eq!(names("/api/v2/alerts", "get"), want(&["state", "fromTime", "toTime", "type"]));
    for p in ["/external/v1/alerts", "/external/v2/alerts"] {
        assert!(
            names(p, "get").is_superset(&want(&[
                "state", "fromTime", "toTime", "siteId", "zoneId", "sensorId"
            ])),
            "{p}"
        );
    }
    assert!(names("/api/v1/alerts", "get").is_superset(&want(&[
        "q", "from", "to", "sort", "limit", "after", "fields", "total", "state", "fromTime",
        "toTime"
    ])));
    // Every documented query parameter is accepted by its handler (no 400 naming it).
    for s in specs() {
        if s.method != "GET"
            || s.role.is_none()
            || s.path.contains('{')
            || s.path.ends_with("openapi.json")
        {
            continue;
        }
        for p in s.params.iter().filter(|p| p.location == "query" && !p.name.starts_with('<')) {
            let (st, e) = t.call("admin", "GET", &format!("{}?{}=", s.path, p.name), None).await;
            assert!(
                !(st == StatusCode::BAD_REQUEST
                    && e["error"]["field"] == p.name
                    && (e["error"]["message"]
                        .as_str()
                        .unwrap_or("")
                        .contains("unknown parameter")
                        || e["error"]["message"]
                            .as_str()
                            .unwrap_or("")
                            .contains(&format!("\"{}\"", p.name)))),
                "{} documents {} but refuses it: {e}",
                s.path,
                p.name
            );
        }
    }
    // Errors: every route has its error responses; writes can conflict, bodies can be too large.
    for s in specs() {
        let r = &doc["paths"][s.path][s.method.to_ascii_lowercase()]["responses"];
        for code in ["400", "500", "503"] {
            assert!(r[code].is_object(), "{} {} lacks {code}", s.method, s.path);
        }
        if s.body.is_some() {
            assert!(r["413"].is_object(), "{} {} lacks 413", s.method, s.path);
        }
        if s.role.is_some() && s.method != "GET" {
            assert!(r["409"].is_object(), "{} {} lacks 409", s.method, s.path);
        }
        if s.path.contains('{') {
            assert!(r["404"].is_object(), "{} {} lacks 404", s.method, s.path);
        }
    }
    assert!(doc["paths"]["/api/v1/auth/login"]["post"]["responses"]["429"].is_object());
}

/// A failing store answers 500 with nothing internal in the body (the
/// details go to the server log).
#[tokio::test]
async fn server_errors_say_nothing_internal() {
    let t = setup();
    let id = t.sql_count("SELECT min(id) FROM alerts");
    let changes = |t: &T| {
        (
            t.sql_count("SELECT count(*) FROM audit_log"),
            t.sql_count(&format!("SELECT last_activity FROM alerts WHERE id = {id}")),
        )
    };
    let before = changes(&t);
    // Break the store under the server: the comments table disappears.
    let rw = rusqlite::Connection::open(t.f.store.path()).unwrap();
    rw.execute_batch("DROP TABLE comments").unwrap();
    for (method, uri, body) in [
        ("GET", format!("/api/v1/alerts/{id}"), None),
        ("POST", format!("/api/v1/alerts/{id}/comments"), Some(json!({"text": "checked"}))),
    ] {
        let (st, e) = t.call("analyst", method, &uri, body).await;
        assert_eq!(st, StatusCode::INTERNAL_SERVER_ERROR, "{method} {uri}: {e}");
        assert_eq!(e["error"]["code"], "internal");
        let text = e.to_string().to_lowercase();
        for leak in ["comments", "table", "sqlite", "select", "insert", "otwatch.db", "/tmp"] {
            assert!(!text.contains(leak), "{method} {uri} leaks {leak:?}: {e}");
        }
    }
    assert_eq!(changes(&t), before, "the failed comment left nothing behind");
}

/// A request that outlives `server.request_timeout` (here: a body that never
/// ends) is cut off with 503 `timeout` in the API's error shape.
#[tokio::test]
async fn requests_over_the_time_limit_get_503() {
    let f = support::fixture();
    let settings =
        Settings { request_timeout: std::time::Duration::from_millis(200), ..Settings::default() };
    let app = router(AppState::new(f.store.clone(), settings, Arc::new(|| Timestamp(NOW))));
    let never = futures_util::stream::pending::<Result<axum::body::Bytes, std::io::Error>>();
    let req = Request::builder()
        .method("POST")
        .uri("/api/v1/auth/login")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from_stream(never))
        .unwrap();
    let resp = app.oneshot(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    let e: Value =
        serde_json::from_slice(&resp.into_body().collect().await.unwrap().to_bytes()).unwrap();
    assert_eq!(e["error"]["code"], "timeout", "{e}");
}

/// Every request body has a schema in the OpenAPI document, and its
/// properties are exactly the fields the handler accepts: an unknown field
/// is refused with serde's list of the expected ones, which must equal the
/// documented properties.
#[tokio::test]
async fn openapi_body_schemas_match_what_handlers_accept() {
    let t = setup();
    let (_, doc) = t.call("viewer", "GET", "/api/v1/openapi.json", None).await;
    let resolve = |s: &Value| -> Value {
        match s["$ref"].as_str() {
            Some(r) => doc["components"]["schemas"][r.rsplit('/').next().unwrap()].clone(),
            None => s.clone(),
        }
    };
    let props = |s: &Value| -> BTreeSet<String> {
        s["properties"].as_object().unwrap().keys().cloned().collect()
    };
    // serde: "unknown field `zzz`, expected one of `a`, `b`" (or "expected `a`").
    let expected = |msg: &str| -> BTreeSet<String> {
        let tail = msg.split("expected").nth(1).unwrap_or_else(|| panic!("{msg}"));
        tail.split('`').skip(1).step_by(2).map(String::from).collect()
    };
    let mut checked = 0;
    for s in specs().into_iter().filter(|s| s.body.is_some()) {
        let m = s.method.to_ascii_lowercase();
        let schema = resolve(
            &doc["paths"][s.path][&m]["requestBody"]["content"]["application/json"]["schema"],
        );
        assert_eq!(schema["additionalProperties"], false, "{} {}: {schema}", s.method, s.path);
        let uri = s.path.replace("{id}", "999999").replace("{name}", "nobody");
        let (st, e) = t.call("admin", s.method, &uri, Some(json!({"zzz_unknown": 1}))).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{} {}: {e}", s.method, s.path);
        let msg = e["error"]["message"].as_str().unwrap();
        assert_eq!(expected(msg), props(&schema), "{} {}: {msg}", s.method, s.path);
        for r in schema["required"].as_array().unwrap() {
            assert!(props(&schema).contains(r.as_str().unwrap()), "{} {}", s.method, s.path);
        }
        checked += 1;
    }
    assert!(checked >= 14, "{checked} bodies");
    // The nested schemas too: a detection inside an ingest batch, an address inside a rule.
    let det = resolve(&json!({"$ref": "#/components/schemas/Detection"}));
    let (_, e) = t
        .call(
            "analyst",
            "POST",
            "/api/v1/alerts/ingest",
            Some(json!({"detections": [{"zzz_unknown": 1}]})),
        )
        .await;
    assert_eq!(expected(e["error"]["message"].as_str().unwrap()), props(&det), "{e}");
    let endpoint = &det["properties"]["source"];
    let (_, e) = t
        .call(
            "analyst",
            "POST",
            "/api/v1/alerts/ingest",
            Some(json!({"detections": [{"type": "anomaly_port_scan", "time": 0, "source": {"zzz_unknown": 1}}]})),
        )
        .await;
    assert_eq!(expected(e["error"]["message"].as_str().unwrap()), props(endpoint), "{e}");
    let rule = resolve(&json!({"$ref": "#/components/schemas/ExclusionSpec"}));
    let address = &rule["properties"]["addresses"]["items"];
    let (_, e) = t
        .call(
            "admin",
            "POST",
            "/api/v1/exclusions",
            Some(json!({"name": "x", "addresses": [{"zzz_unknown": 1}]})),
        )
        .await;
    assert_eq!(expected(e["error"]["message"].as_str().unwrap()), props(address), "{e}");
}

/// Every answer the route table writes as `{a, b, c?}` has exactly those
/// members (the optional ones only sometimes): called for real, not read
/// from the code. A route with such an answer that this test does not call
/// fails it, so new routes get checked too.
#[tokio::test]
async fn answers_have_the_documented_members() {
    let t = setup();
    let alert = t.sql_count("SELECT min(id) FROM alerts WHERE alert_type = 'anomaly_port_scan'");
    let device = t.f.devices["a-plc-1"];
    let calls: Vec<(&str, &str, String, Option<Value>)> = vec![
        ("GET", "/healthz", "/healthz".into(), None),
        ("GET", "/api/v1/auth/me", "/api/v1/auth/me".into(), None),
        ("GET", "/api/v1/alerts", "/api/v1/alerts?limit=2".into(), None),
        ("GET", "/api/v1/alerts", "/api/v1/alerts?limit=2&total=true".into(), None),
        ("GET", "/api/v1/alerts/groups", "/api/v1/alerts/groups?by=engine".into(), None),
        ("GET", "/api/v1/alerts/facets", "/api/v1/alerts/facets?fields=severity".into(), None),
        ("GET", "/api/v1/alerts/aggregated", "/api/v1/alerts/aggregated".into(), None),
        ("GET", "/api/v1/alerts/{id}", format!("/api/v1/alerts/{alert}"), None),
        (
            "PATCH",
            "/api/v1/alerts/{id}",
            format!("/api/v1/alerts/{alert}"),
            Some(json!({"status": "Active"})),
        ),
        ("POST", "/api/v1/alerts/{id}/mute", format!("/api/v1/alerts/{alert}/mute"), None),
        ("POST", "/api/v1/alerts/{id}/unmute", format!("/api/v1/alerts/{alert}/unmute"), None),
        ("POST", "/api/v1/alerts/{id}/learn", format!("/api/v1/alerts/{alert}/learn"), None),
        ("POST", "/api/v1/alerts/{id}/unlearn", format!("/api/v1/alerts/{alert}/unlearn"), None),
        (
            "POST",
            "/api/v1/alerts/{id}/comments",
            format!("/api/v1/alerts/{alert}/comments"),
            Some(json!({"text": "seen"})),
        ),
        (
            "POST",
            "/api/v1/alerts/bulk",
            "/api/v1/alerts/bulk".into(),
            Some(json!({"ids": [alert], "severity": "Minor"})),
        ),
        (
            "POST",
            "/api/v1/alerts/ingest",
            "/api/v1/alerts/ingest".into(),
            Some(
                json!({"detections": [{"type": "anomaly_port_scan", "time": "2024-03-02T12:00:00Z"}]}),
            ),
        ),
        ("GET", "/api/v1/devices/{id}", format!("/api/v1/devices/{device}"), None),
        ("GET", "/api/v1/connections", "/api/v1/connections".into(), None),
        ("GET", "/api/v1/events", "/api/v1/events".into(), None),
        ("GET", "/api/v1/sensors", "/api/v1/sensors".into(), None),
        ("GET", "/api/v1/catalog", "/api/v1/catalog".into(), None),
        ("GET", "/api/v1/exclusions", "/api/v1/exclusions".into(), None),
        ("GET", "/api/v1/users", "/api/v1/users".into(), None),
        ("GET", "/api/v1/tokens", "/api/v1/tokens".into(), None),
        (
            "POST",
            "/api/v1/tokens",
            "/api/v1/tokens".into(),
            Some(json!({"name": "shape", "role": "viewer"})),
        ),
        ("GET", "/api/v1/audit", "/api/v1/audit".into(), None),
        ("GET", "/api/v1/hunt/queries", "/api/v1/hunt/queries".into(), None),
        ("GET", "/external/v2/alerts/pcap/{id}", format!("/external/v2/alerts/pcap/{alert}"), None),
    ];
    let specs = specs();
    let mut called = BTreeSet::new();
    for (method, path, uri, body) in calls {
        let spec = specs.iter().find(|s| s.method == method && s.path == path).unwrap();
        let (always, sometimes) = otwatch_server::api::response_shape(spec.returns.1)
            .unwrap_or_else(|| panic!("{method} {path}: {:?} is not {{a, b}}", spec.returns.1));
        let (st, v) = t.call("admin", method, &uri, body).await;
        assert_eq!(st.as_u16(), spec.returns.0, "{method} {uri}: {v}");
        let keys: BTreeSet<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        for k in &always {
            assert!(keys.contains(k), "{method} {uri} lacks {k}: {v}");
        }
        for k in &keys {
            assert!(
                always.contains(k) || sometimes.contains(k),
                "{method} {uri} answers {k}, which {:?} does not document",
                spec.returns.1
            );
        }
        called.insert((method, path));
    }
    // Login too (no token).
    let login = Request::builder()
        .method("POST")
        .uri("/api/v1/auth/login")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(json!({"username": "viewer", "password": support::PASSWORD}).to_string()))
        .unwrap();
    let resp = t.app.clone().oneshot(login).await.unwrap();
    let v: Value =
        serde_json::from_slice(&resp.into_body().collect().await.unwrap().to_bytes()).unwrap();
    let spec = specs.iter().find(|s| s.path == "/api/v1/auth/login").unwrap();
    let (always, _) = otwatch_server::api::response_shape(spec.returns.1).unwrap();
    let keys: BTreeSet<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, always.iter().copied().collect::<BTreeSet<_>>(), "{v}");
    called.insert(("POST", "/api/v1/auth/login"));
    for s in &specs {
        if otwatch_server::api::response_shape(s.returns.1).is_some() {
            assert!(
                called.contains(&(s.method, s.path)),
                "{} {} is not checked here",
                s.method,
                s.path
            );
        }
    }
}
