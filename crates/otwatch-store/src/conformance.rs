//! The conformance suite every storage backend must pass.
//!
//! Each check is a function over a fresh, empty [`Store`]. A backend runs the
//! whole suite with [`conformance_tests!`](crate::conformance_tests), giving a
//! factory that returns a new store (and whatever keeps it alive, such as a
//! temporary directory). The checks use only the trait, so the same
//! behaviour is required of SQLite and of PostgreSQL.

#![allow(clippy::unwrap_used, clippy::panic, missing_docs)]

use otwatch_model::lifecycle::Action;
use otwatch_model::{
    Actor, AddressMatch, AddressRole, AlertField, AlertId, Catalog, Cidr, ConnectionObservation,
    Detection, DeviceObservation, DeviceType, Disposition, Engine, EventSeverity, ExclusionSpec,
    NewEvent, Role, RuleKind, Severity, Status, Timestamp,
};

use crate::{
    AlertQuery, ConnectionQuery, Cursor, DeviceGroup, DeviceQuery, EventQuery, Filter,
    IngestOptions, Sort, Store, TimeRange,
};

/// The catalogue the suite uses (independent of the built-in one, so catalogue edits don't break it).
pub const TEST_CATALOG: &str = r#"
[[alert]]
id = "t_policy"
name = "Unpermitted Usage of Modbus Function Code"
engine = "Policy Violation"
category = "Unauthorized Communication Behavior"
severity = "Major"
tactics = ["Impair Process Control"]
techniques = ["T0836"]
description = "{source} used function code {function_code} on {destination}"
remediation = ["Check it."]
learnable = true
mutable = false
fields = ["function_code"]

[[alert]]
id = "t_anomaly"
name = "Port Scan Detected"
engine = "Anomaly"
category = "Scan"
severity = "Critical"
tactics = ["Discovery"]
techniques = ["T0842"]
description = "{source} scanned {destination}"
remediation = ["Find the scanner."]
learnable = true
mutable = true

[[alert]]
id = "t_operational"
name = "An S7 Stop PLC Command was Sent"
engine = "Operational"
category = "Restart/Stop Commands"
severity = "Warning"
tactics = ["Inhibit Response Function", "Execution"]
techniques = ["T0858", "T0814"]
description = "{source} stopped {destination}"
remediation = ["Ask operations."]
learnable = false
mutable = true

[[alert]]
id = "t_malware"
name = "Connection Attempt to Known Malicious IP"
engine = "Malware"
category = "Suspicion of malicious activity"
severity = "Critical"
tactics = ["Initial Access", "Command and Control"]
techniques = ["T0883", "T0884"]
description = "{source} contacted {destination}"
remediation = ["Isolate."]
learnable = false
mutable = false
"#;

/// The suite's catalogue, parsed.
pub fn catalog() -> Catalog {
    Catalog::parse(TEST_CATALOG).unwrap()
}

const DAY: i64 = otwatch_model::time::MICROS_PER_DAY;
const T0: i64 = 1_700_000_000_000_000;

fn t(sec: i64) -> Timestamp {
    Timestamp(T0 + sec * 1_000_000)
}

fn analyst() -> Actor {
    Actor {
        name: "ann".into(),
        kind: otwatch_model::ActorKind::User,
        address: Some("10.9.9.9".into()),
    }
}

fn det(ty: &str, src: &str, dst: &str, at: i64) -> Detection {
    let mut d = Detection::new(ty, t(at));
    d.source.ip = Some(src.into());
    d.destination.ip = Some(dst.into());
    d.protocol = Some("Modbus".into());
    d.sensor = Some("sensor-1".into());
    d.site = Some("Plant A".into());
    d.zone = Some("Line 1".into());
    if ty == "t_policy" {
        d.key.insert("function_code".into(), "16".into());
    }
    d
}

fn ingest(s: &dyn Store, c: &Catalog, ds: &[Detection], now: i64) -> crate::IngestReport {
    s.ingest(ds, &IngestOptions { catalog: c, now: t(now), auto_close_after: 90 * DAY }).unwrap()
}

fn all(s: &dyn Store) -> Vec<otwatch_model::Alert> {
    let q = AlertQuery {
        limit: 10_000,
        sort: Sort { field: AlertField::Id, descending: false },
        ..AlertQuery::default()
    };
    s.list_alerts(&q).unwrap().items
}

pub fn schema_is_versioned(s: &dyn Store) {
    assert!(s.schema_version().unwrap() >= 1);
    assert!(!s.backend().is_empty());
}

pub fn repeats_update_one_alert(s: &dyn Store) {
    let c = catalog();
    let r = ingest(
        s,
        &c,
        &[det("t_policy", "10.0.0.5", "10.0.0.9", 10), det("t_policy", "10.0.0.5", "10.0.0.9", 5)],
        20,
    );
    assert_eq!((r.received, r.opened, r.updated, r.duplicates), (2, 1, 1, 0));
    let r2 = ingest(s, &c, &[det("t_policy", "10.0.0.5", "10.0.0.9", 30)], 40);
    assert_eq!((r2.opened, r2.updated), (0, 1));
    let a = all(s);
    assert_eq!(a.len(), 1);
    let a = &a[0];
    assert_eq!(a.occurrence_count, 3);
    assert_eq!(a.first_detection, t(5));
    assert_eq!(a.last_detection, t(30));
    assert_eq!(a.last_activity, t(40));
    assert_eq!(a.status, Status::New);
    assert_eq!(a.name, "Unpermitted Usage of Modbus Function Code");
    assert_eq!(a.engine, Engine::PolicyViolation);
    assert_eq!(a.severity, Severity::Major);
    assert_eq!(a.description, "10.0.0.5 used function code 16 on 10.0.0.9");
    assert_eq!(a.details.get("function_code").map(String::as_str), Some("16"));
    assert_eq!(a.source.ip.as_deref(), Some("10.0.0.5"));
    assert_eq!(a.site.as_deref(), Some("Plant A"));
    assert_eq!(a.techniques.len(), 1);
    // Different key fields are different traffic.
    let mut other = det("t_policy", "10.0.0.5", "10.0.0.9", 50);
    other.key.insert("function_code".into(), "15".into());
    assert_eq!(ingest(s, &c, &[other], 60).opened, 1);
    // A new alert leaves an "Alert Detected" event on the timeline.
    let ev = s
        .list_events(&EventQuery {
            event_types: vec!["ALERT_REPORTED".into()],
            ..EventQuery::default()
        })
        .unwrap();
    assert_eq!(ev.len(), 2);
    assert!(ev.iter().all(|e| e.severity == EventSeverity::Alert && e.alert_id.is_some()));
}

pub fn resending_a_batch_changes_nothing(s: &dyn Store) {
    let c = catalog();
    let batch: Vec<Detection> = (0..20)
        .map(|i| {
            det(
                if i % 2 == 0 { "t_policy" } else { "t_anomaly" },
                "10.0.0.5",
                &format!("10.0.0.{}", i % 4),
                i,
            )
        })
        .collect();
    let first = ingest(s, &c, &batch, 100);
    assert_eq!(first.duplicates, 0);
    let before = all(s);
    let events_before = s.list_events(&EventQuery::default()).unwrap().len();
    let again = ingest(s, &c, &batch, 200);
    assert_eq!(again.duplicates, 20);
    assert_eq!((again.opened, again.updated), (0, 0));
    assert_eq!(
        all(s),
        before,
        "a re-sent batch must not change any alert (not even last activity)"
    );
    assert_eq!(s.list_events(&EventQuery::default()).unwrap().len(), events_before);
    // Producer ids make re-sends idempotent even if the content differs.
    let mut a = det("t_malware", "10.0.0.7", "203.0.113.9", 300);
    a.id = Some("ext-1".into());
    let mut b = a.clone();
    b.time = t(301);
    assert_eq!(ingest(s, &c, &[a], 400).opened, 1);
    assert_eq!(ingest(s, &c, &[b], 401).duplicates, 1);
}

pub fn closed_alerts_reopen_as_new_alerts(s: &dyn Store) {
    let c = catalog();
    ingest(s, &c, &[det("t_anomaly", "10.0.0.66", "10.0.0.1", 1)], 2);
    let id = all(s)[0].id;
    let out = s.apply(&[id], &Action::SetStatus(Status::Closed), &analyst(), t(3)).unwrap();
    assert_eq!(out[0].result, Ok(true));
    let r = ingest(s, &c, &[det("t_anomaly", "10.0.0.66", "10.0.0.1", 4)], 5);
    assert_eq!(r.opened, 1);
    let alerts = all(s);
    assert_eq!(alerts.len(), 2);
    assert_eq!(alerts[0].status, Status::Closed);
    assert_eq!(alerts[0].last_detection, t(1), "closed alert's last detection must not move");
    assert_eq!(alerts[1].status, Status::New);
    // Reopening the older one is refused: a newer alert exists for that traffic.
    let out = s.apply(&[id], &Action::SetStatus(Status::Active), &analyst(), t(6)).unwrap();
    assert!(out[0].result.as_ref().unwrap_err().contains("newer alert"), "{:?}", out[0].result);
    assert_eq!(s.alert(id).unwrap().status, Status::Closed);
    // The newest may go Active, then be closed again; a no-op reports false.
    let newest = alerts[1].id;
    assert_eq!(
        s.apply(&[newest], &Action::SetStatus(Status::Active), &analyst(), t(7)).unwrap()[0].result,
        Ok(true)
    );
    assert_eq!(
        s.apply(&[newest], &Action::SetStatus(Status::Active), &analyst(), t(8)).unwrap()[0].result,
        Ok(false)
    );
    assert_eq!(s.alert(newest).unwrap().last_activity, t(7));
}

pub fn learn_suppresses_and_unlearn_restores(s: &dyn Store) {
    let c = catalog();
    ingest(s, &c, &[det("t_policy", "10.0.0.5", "10.0.0.9", 1)], 2);
    let id = all(s)[0].id;
    assert_eq!(s.apply(&[id], &Action::Learn, &analyst(), t(3)).unwrap()[0].result, Ok(true));
    let a = s.alert(id).unwrap();
    assert_eq!((a.status, a.disposition), (Status::Closed, Disposition::Learned));
    let b = s.baseline(Some("alert")).unwrap();
    assert_eq!(b.len(), 1);
    assert_eq!(b[0].key, a.fingerprint);
    assert_eq!(b[0].source_alert, Some(id));
    let r = ingest(s, &c, &[det("t_policy", "10.0.0.5", "10.0.0.9", 10)], 11);
    assert_eq!((r.opened, r.suppressed_learned), (0, 1));
    assert_eq!(s.alert(id).unwrap().suppressed_count, 1);
    assert_eq!(all(s).len(), 1);
    // Learning twice is a no-op; muting a learned alert is refused.
    assert_eq!(s.apply(&[id], &Action::Learn, &analyst(), t(12)).unwrap()[0].result, Ok(false));
    assert!(s.apply(&[id], &Action::Mute, &analyst(), t(12)).unwrap()[0].result.is_err());
    assert_eq!(s.apply(&[id], &Action::Unlearn, &analyst(), t(13)).unwrap()[0].result, Ok(true));
    assert!(s.baseline(Some("alert")).unwrap().is_empty());
    assert_eq!(s.alert(id).unwrap().status, Status::Closed);
    let r = ingest(s, &c, &[det("t_policy", "10.0.0.5", "10.0.0.9", 20)], 21);
    assert_eq!(r.opened, 1, "after unlearn the same traffic raises again");
}

pub fn mute_suppresses_and_unmute_restores(s: &dyn Store) {
    let c = catalog();
    ingest(s, &c, &[det("t_operational", "10.0.0.20", "10.0.0.30", 1)], 2);
    let id = all(s)[0].id;
    assert_eq!(s.apply(&[id], &Action::Mute, &analyst(), t(3)).unwrap()[0].result, Ok(true));
    assert!(s.baseline(None).unwrap().is_empty(), "mute must not learn");
    let r = ingest(s, &c, &[det("t_operational", "10.0.0.20", "10.0.0.30", 5)], 6);
    assert_eq!((r.opened, r.suppressed_muted), (0, 1));
    // Learn is refused: the type is not learnable (and the alert is muted).
    let out = s.apply(&[id], &Action::Learn, &analyst(), t(7)).unwrap();
    assert!(
        out[0].result.as_ref().unwrap_err().contains("cannot be learned"),
        "{:?}",
        out[0].result
    );
    assert!(
        s.apply(&[id], &Action::SetStatus(Status::New), &analyst(), t(7)).unwrap()[0]
            .result
            .is_err()
    );
    assert_eq!(s.apply(&[id], &Action::Unmute, &analyst(), t(8)).unwrap()[0].result, Ok(true));
    assert!(s.apply(&[id], &Action::Unmute, &analyst(), t(9)).unwrap()[0].result.is_err());
    assert_eq!(ingest(s, &c, &[det("t_operational", "10.0.0.20", "10.0.0.30", 10)], 11).opened, 1);
}

pub fn forbidden_actions_change_nothing(s: &dyn Store) {
    let c = catalog();
    ingest(s, &c, &[det("t_malware", "10.0.0.5", "198.51.100.7", 1)], 2);
    let id = all(s)[0].id;
    let before = s.alert(id).unwrap();
    let out = s.apply(&[id, AlertId(999_999)], &Action::Learn, &analyst(), t(3)).unwrap();
    assert!(out[0].result.as_ref().unwrap_err().contains("cannot be learned"));
    assert!(out[1].result.as_ref().unwrap_err().contains("not found"));
    assert!(
        s.apply(&[id], &Action::Mute, &analyst(), t(3)).unwrap()[0]
            .result
            .as_ref()
            .unwrap_err()
            .contains("cannot be muted")
    );
    assert!(s.apply(&[id], &Action::Unlearn, &analyst(), t(3)).unwrap()[0].result.is_err());
    assert!(
        s.apply(&[id], &Action::Comment("  ".into()), &analyst(), t(3)).unwrap()[0].result.is_err()
    );
    assert_eq!(s.alert(id).unwrap(), before);
    assert!(s.alert_details(id).unwrap().history.is_empty(), "refused actions leave no history");
    assert!(matches!(s.alert(AlertId(424242)), Err(crate::StoreError::NotFound { .. })));
}

pub fn quiet_alerts_auto_close(s: &dyn Store) {
    let c = catalog();
    ingest(
        s,
        &c,
        &[det("t_anomaly", "10.0.0.1", "10.0.0.2", 0), det("t_anomaly", "10.0.0.3", "10.0.0.2", 0)],
        1,
    );
    // A sighting after the quiet period closes the old alert and opens a new one.
    let late = 91 * 86_400;
    let r = ingest(s, &c, &[det("t_anomaly", "10.0.0.1", "10.0.0.2", late)], late + 1);
    assert_eq!((r.auto_closed, r.opened), (1, 1));
    // The other alert is closed by the periodic sweep.
    let n = s.auto_close(t(late + 2), 90 * DAY, &Actor::system()).unwrap();
    assert_eq!(n, 1);
    let alerts = all(s);
    assert_eq!(alerts.iter().filter(|a| a.status == Status::Closed).count(), 2);
    assert_eq!(alerts.iter().filter(|a| a.status == Status::New).count(), 1);
    let h = s.alert_details(alerts[1].id).unwrap().history;
    assert_eq!(h.len(), 1);
    assert_eq!(h[0].action, "auto_close");
    assert_eq!(h[0].actor.name, "system");
    assert_eq!(s.auto_close(t(late + 3), 90 * DAY, &Actor::system()).unwrap(), 0);
}

pub fn unknown_types_are_rejected_and_the_rest_stored(s: &dyn Store) {
    let c = catalog();
    let r = ingest(
        s,
        &c,
        &[
            det("t_anomaly", "10.0.0.1", "10.0.0.2", 0),
            det("no_such_type", "10.0.0.1", "10.0.0.2", 0),
            det("t_policy", "10.0.0.1", "10.0.0.2", 0),
        ],
        1,
    );
    assert_eq!(r.opened, 2);
    assert_eq!(r.rejected.len(), 1);
    assert_eq!(r.rejected[0].0, 1);
    assert!(r.rejected[0].1.contains("unknown alert type"), "{}", r.rejected[0].1);
}

fn spec(name: &str) -> ExclusionSpec {
    ExclusionSpec {
        name: name.into(),
        kind: RuleKind::Exclusion,
        enabled: true,
        reason: "test".into(),
        ticket_id: None,
        alert_types: vec![],
        engines: vec![],
        sensors: vec![],
        addresses: vec![],
        subnets: vec![],
        window_start: None,
        window_end: None,
        expires_at: None,
    }
}

pub fn exclusion_rules_stop_alerts_and_are_audited(s: &dyn Store) {
    let c = catalog();
    let mut by_type = spec("no scans from the scanner");
    by_type.alert_types = vec!["t_anomaly".into()];
    by_type.addresses =
        vec![AddressMatch { role: AddressRole::Source, address: "10.0.0.66".into() }];
    let r1 = s.create_exclusion(&by_type, &c, &analyst(), t(0)).unwrap();
    let mut by_subnet = spec("maintenance subnet");
    by_subnet.subnets = vec![Cidr::parse("192.168.50.0/24").unwrap()];
    by_subnet.window_start = Some(t(100));
    by_subnet.window_end = Some(t(200));
    s.create_exclusion(&by_subnet, &c, &analyst(), t(0)).unwrap();
    let mut expired = spec("expired");
    expired.engines = vec![Engine::Operational];
    expired.expires_at = Some(t(50));
    s.create_exclusion(&expired, &c, &analyst(), t(0)).unwrap();
    let mut disabled = spec("disabled");
    disabled.engines = vec![Engine::Malware];
    disabled.enabled = false;
    s.create_exclusion(&disabled, &c, &analyst(), t(0)).unwrap();

    let batch = vec![
        det("t_anomaly", "10.0.0.66", "10.0.0.1", 150), // excluded by type+source
        det("t_anomaly", "10.0.0.67", "10.0.0.1", 150), // other source: raised
        det("t_policy", "10.0.0.5", "192.168.50.9", 150), // in subnet and window: excluded
        det("t_policy", "10.0.0.5", "192.168.50.9", 250), // after the window: raised
        det("t_operational", "10.0.0.5", "10.0.0.9", 150), // rule expired: raised
        det("t_malware", "10.0.0.5", "203.0.113.1", 150), // rule disabled: raised
    ];
    let r = ingest(s, &c, &batch, 300);
    assert_eq!((r.excluded, r.opened), (2, 4));
    assert_eq!(s.exclusion(r1.id).unwrap().hits, 1);
    // Validation names the field; a rule with no condition is refused.
    let err = s.create_exclusion(&spec("empty"), &c, &analyst(), t(0)).unwrap_err().to_string();
    assert!(err.contains("at least one condition"), "{err}");
    let mut bad = spec("bad \"name\"");
    bad.alert_types = vec!["nope".into()];
    let err = s.create_exclusion(&bad, &c, &analyst(), t(0)).unwrap_err().to_string();
    assert!(err.contains("name") && err.contains("alert_types"), "{err}");
    assert!(matches!(
        s.create_exclusion(&by_type, &c, &analyst(), t(0)),
        Err(crate::StoreError::Conflict(_))
    ));
    // Update and delete are audited; the list shows current rules.
    let mut changed = by_type;
    changed.reason = "scanner replaced".into();
    s.update_exclusion(r1.id, &changed, &c, &analyst(), t(400)).unwrap();
    s.delete_exclusion(r1.id, &analyst(), t(500)).unwrap();
    assert!(s.exclusion(r1.id).is_err());
    assert_eq!(s.list_exclusions().unwrap().len(), 3);
    let audit = s
        .list_audit(&crate::AuditQuery {
            object_type: Some("exclusion".into()),
            ..Default::default()
        })
        .unwrap();
    let actions: Vec<&str> = audit.iter().map(|a| a.action.as_str()).collect();
    assert_eq!(actions.iter().filter(|a| **a == "exclusion_create").count(), 4);
    assert!(actions.contains(&"exclusion_update") && actions.contains(&"exclusion_delete"));
    assert!(
        audit
            .iter()
            .all(|a| a.actor.name == "ann" && a.actor.address.as_deref() == Some("10.9.9.9"))
    );
    let ev = s
        .list_events(&EventQuery {
            event_types: vec!["EXCLUSION_RULE_CREATED".into(), "EXCLUSION_RULE_REMOVED".into()],
            ..Default::default()
        })
        .unwrap();
    assert_eq!(ev.len(), 5);
    // Maintenance windows need a ticket.
    let mut mw = spec("Maintenance-ops-CHG1");
    mw.kind = RuleKind::Maintenance;
    mw.engines = vec![Engine::Anomaly];
    assert!(
        s.create_exclusion(&mw, &c, &analyst(), t(0)).unwrap_err().to_string().contains("ticket")
    );
}

fn seed_grid(s: &dyn Store, c: &Catalog) -> Vec<otwatch_model::Alert> {
    let types = ["t_policy", "t_anomaly", "t_operational", "t_malware"];
    let sites = ["Plant A", "Plant B", "Plant C"];
    let mut batch = Vec::new();
    for i in 0..37i64 {
        let mut d = det(
            types[(i % 4) as usize],
            &format!("10.0.{}.{}", i % 3, i),
            "10.0.0.250",
            1000 - (i * 7) % 50,
        );
        d.site = Some(sites[(i % 3) as usize].into());
        if i % 5 == 0 {
            d.severity = Some(Severity::Minor);
        }
        if i == 3 {
            d.source.name = Some("hmi-3".into());
        }
        batch.push(d);
    }
    ingest(s, c, &batch, 2000);
    let ids: Vec<AlertId> = all(s).iter().filter(|a| a.id.0 % 4 == 0).map(|a| a.id).collect();
    s.apply(&ids, &Action::SetStatus(Status::Closed), &analyst(), t(2001)).unwrap();
    all(s)
}

pub fn filters_match_what_they_say(s: &dyn Store) {
    let c = catalog();
    let rows = seed_grid(s, &c);
    let count = |q: AlertQuery| s.count_alerts(&q).unwrap() as usize;
    let with = |f: Vec<Filter>| AlertQuery { filters: f, ..AlertQuery::default() };
    let sev =
        rows.iter().filter(|a| matches!(a.severity, Severity::Critical | Severity::Minor)).count();
    assert_eq!(
        count(with(vec![Filter::any_of(AlertField::Severity, &["Critical", "Minor"]).unwrap()])),
        sev
    );
    let not_closed = rows.iter().filter(|a| a.status != Status::Closed).count();
    assert_eq!(
        count(with(vec![Filter::none_of(AlertField::Status, &["Closed"]).unwrap()])),
        not_closed
    );
    let site_b_anomaly = rows
        .iter()
        .filter(|a| a.site.as_deref() == Some("Plant B") && a.engine == Engine::Anomaly)
        .count();
    assert!(site_b_anomaly > 0);
    assert_eq!(
        count(with(vec![
            Filter::any_of(AlertField::Site, &["Plant B"]).unwrap(),
            Filter::any_of(AlertField::Engine, &["ANOMALY"]).unwrap()
        ])),
        site_b_anomaly
    );
    let tactic =
        rows.iter().filter(|a| a.tactics.iter().any(|t| t.as_str() == "Execution")).count();
    assert!(tactic > 0);
    assert_eq!(
        count(with(vec![Filter::any_of(AlertField::Tactics, &["Execution"]).unwrap()])),
        tactic
    );
    let named = rows.iter().filter(|a| a.name.to_lowercase().contains("scan")).count();
    assert_eq!(count(with(vec![Filter::contains(AlertField::Name, "SCAN").unwrap()])), named);
    assert_eq!(count(with(vec![Filter::any_of(AlertField::SourceName, &["hmi-3"]).unwrap()])), 1);
    let recent = rows.iter().filter(|a| a.last_detection >= t(980)).count();
    assert_eq!(
        count(AlertQuery {
            time: Some(TimeRange {
                field: AlertField::LastDetection,
                from: Some(t(980)),
                to: None
            }),
            ..AlertQuery::default()
        }),
        recent
    );
    assert_eq!(
        count(AlertQuery { search: Some("10.0.1.".into()), ..AlertQuery::default() }),
        rows.iter().filter(|a| a.source.ip.as_deref().unwrap_or("").contains("10.0.1.")).count()
    );
    // Wildcards in user text are literal.
    assert_eq!(count(AlertQuery { search: Some("%".into()), ..AlertQuery::default() }), 0);
    assert_eq!(
        count(AlertQuery {
            search: Some("'; DROP TABLE alerts; --".into()),
            ..AlertQuery::default()
        }),
        0
    );
    assert_eq!(count(AlertQuery::default()), rows.len());
    assert_eq!(s.count_alerts_up_to(&AlertQuery::default(), 10).unwrap(), (10, true));
    assert_eq!(
        s.count_alerts_up_to(&AlertQuery::default(), 1000).unwrap(),
        (rows.len() as u64, false)
    );
    assert_eq!(
        s.count_alerts_up_to(&AlertQuery::default(), rows.len() as u64).unwrap(),
        (rows.len() as u64, false)
    );
    let bad = AlertQuery {
        time: Some(TimeRange { field: AlertField::Name, from: None, to: None }),
        ..AlertQuery::default()
    };
    assert!(s.count_alerts(&bad).unwrap_err().to_string().starts_with("time_field"));
}

pub fn keyset_paging_visits_every_row_once(s: &dyn Store) {
    let c = catalog();
    let rows = seed_grid(s, &c);
    for sort in [
        Sort { field: AlertField::LastDetection, descending: true },
        Sort { field: AlertField::Severity, descending: true },
        Sort { field: AlertField::Name, descending: false },
        Sort { field: AlertField::SourceName, descending: false },
        Sort { field: AlertField::Id, descending: true },
    ] {
        let mut seen = Vec::new();
        let mut after: Option<Cursor> = None;
        let mut pages = 0;
        loop {
            let q = AlertQuery { sort, limit: 7, after: after.clone(), ..AlertQuery::default() };
            let p = s.list_alerts(&q).unwrap();
            pages += 1;
            seen.extend(p.items.iter().cloned());
            match p.next {
                Some(c) => after = Some(Cursor::decode(&c.encode()).unwrap()),
                None => break,
            }
            assert!(pages < 100);
        }
        assert_eq!(seen.len(), rows.len(), "{sort:?}");
        let mut ids: Vec<i64> = seen.iter().map(|a| a.id.0).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), rows.len(), "no row twice ({sort:?})");
        for w in seen.windows(2) {
            let (a, b) = (&w[0], &w[1]);
            let ord = match sort.field {
                AlertField::LastDetection => a.last_detection.cmp(&b.last_detection),
                AlertField::Severity => a.severity.cmp(&b.severity),
                AlertField::Name => a.name.cmp(&b.name),
                AlertField::SourceName => a.source.label().cmp(b.source.label()),
                _ => a.id.cmp(&b.id),
            };
            // Equal values are ordered by last detection, then id.
            let ord = match sort.field {
                AlertField::LastDetection | AlertField::Id => ord.then(a.id.cmp(&b.id)),
                _ => ord.then(a.last_detection.cmp(&b.last_detection)).then(a.id.cmp(&b.id)),
            };
            assert_eq!(
                ord,
                if sort.descending {
                    std::cmp::Ordering::Greater
                } else {
                    std::cmp::Ordering::Less
                },
                "{sort:?}"
            );
        }
    }
    // A cursor from another sort order is refused.
    let p = s.list_alerts(&AlertQuery { limit: 3, ..AlertQuery::default() }).unwrap();
    let q = AlertQuery {
        sort: Sort { field: AlertField::Name, descending: false },
        after: p.next,
        ..AlertQuery::default()
    };
    assert!(s.list_alerts(&q).is_err());
}

pub fn group_by_counts_add_up(s: &dyn Store) {
    let c = catalog();
    let rows = seed_grid(s, &c);
    for by in [
        AlertField::Engine,
        AlertField::Severity,
        AlertField::Site,
        AlertField::Status,
        AlertField::Name,
        AlertField::Sensor,
    ] {
        let g = s.group_alerts(&AlertQuery::default(), by).unwrap();
        assert_eq!(g.iter().map(|x| x.count).sum::<u64>() as usize, rows.len(), "{by:?}");
        for x in &g {
            let n = rows.iter().filter(|a| a.field_text(by) == x.value).count() as u64;
            assert_eq!(n, x.count, "{by:?} {}", x.value);
        }
        assert!(g.windows(2).all(|w| w[0].count >= w[1].count));
    }
    let g = s
        .group_alerts(
            &AlertQuery {
                filters: vec![Filter::any_of(AlertField::Site, &["Plant A"]).unwrap()],
                ..AlertQuery::default()
            },
            AlertField::Severity,
        )
        .unwrap();
    assert_eq!(
        g.iter().map(|x| x.count).sum::<u64>() as usize,
        rows.iter().filter(|a| a.site.as_deref() == Some("Plant A")).count()
    );
    let tactics = s.group_alerts(&AlertQuery::default(), AlertField::Tactics).unwrap();
    let exe = tactics.iter().find(|g| g.value == "Execution").unwrap().count as usize;
    assert_eq!(
        exe,
        rows.iter().filter(|a| a.tactics.iter().any(|t| t.as_str() == "Execution")).count()
    );
    assert!(s.group_alerts(&AlertQuery::default(), AlertField::Description).is_err());
}

pub fn export_streams_every_matching_row(s: &dyn Store) {
    let c = catalog();
    let rows = seed_grid(s, &c);
    let q = AlertQuery {
        filters: vec![Filter::none_of(AlertField::Engine, &["Malware"]).unwrap()],
        limit: 5,
        ..AlertQuery::default()
    };
    let mut got = Vec::new();
    let n = s
        .for_each_alert(&q, &mut |a| {
            got.push(a.id);
            Ok(())
        })
        .unwrap();
    assert_eq!(n as usize, got.len());
    assert_eq!(n, s.count_alerts(&q).unwrap());
    assert_eq!(got.len(), rows.iter().filter(|a| a.engine != Engine::Malware).count());
    let full = s.list_alerts(&AlertQuery { limit: 1000, ..q.clone() }).unwrap();
    assert_eq!(
        full.items.iter().map(|a| a.id).collect::<Vec<_>>(),
        got,
        "export keeps the grid's order"
    );
    // An error from the sink stops the export and is returned.
    let mut k = 0;
    let r = s.for_each_alert(&q, &mut |_| {
        k += 1;
        if k == 3 { Err(crate::StoreError::Backend("sink closed".into())) } else { Ok(()) }
    });
    assert!(r.is_err());
    assert_eq!(k, 3);
}

pub fn comments_and_history_are_kept(s: &dyn Store) {
    let c = catalog();
    ingest(s, &c, &[det("t_anomaly", "10.0.0.1", "10.0.0.2", 0)], 1);
    let id = all(s)[0].id;
    s.apply(&[id], &Action::Comment("Checked with the night shift.".into()), &analyst(), t(10))
        .unwrap();
    s.apply(&[id], &Action::SetSeverity(Severity::Minor), &analyst(), t(11)).unwrap();
    s.apply(&[id], &Action::SetStatus(Status::Active), &analyst(), t(12)).unwrap();
    let d = s.alert_details(id).unwrap();
    assert_eq!(d.comments.len(), 1);
    assert_eq!(d.comments[0].text, "Checked with the night shift.");
    assert_eq!(d.comments[0].author, "ann");
    assert_eq!(
        d.history.iter().map(|h| h.action.as_str()).collect::<Vec<_>>(),
        vec!["comment", "set_severity", "set_status"]
    );
    assert_eq!(d.history[1].summary, "severity Critical → Minor");
    assert_eq!(d.alert.severity, Severity::Minor);
    assert_eq!(d.alert.last_activity, t(12));
    let g = s
        .list_audit(&crate::AuditQuery { actor: Some("ann".into()), ..Default::default() })
        .unwrap();
    assert_eq!(g.len(), 3);
    assert!(g[0].id > g[1].id, "audit log is newest first");
}

pub fn aggregated_view_lists_devices(s: &dyn Store) {
    let c = catalog();
    let mut batch = Vec::new();
    for i in 0..6 {
        batch.push(det("t_malware", &format!("10.1.0.{i}"), "203.0.113.5", i * 60));
    }
    batch.push(det("t_malware", "10.1.0.9", "203.0.113.5", 2 * 86_400));
    ingest(s, &c, &batch, 3 * 86_400);
    let agg = s.aggregate_alerts(&AlertQuery::default(), DAY).unwrap();
    assert_eq!(agg.len(), 2);
    let first = agg.iter().find(|a| a.alerts == 6).unwrap();
    assert_eq!(first.devices, (0..6).map(|i| format!("10.1.0.{i}")).collect::<Vec<_>>());
    assert_eq!(first.alert_ids.len(), 6);
    assert_eq!(first.severity, Severity::Critical);
    assert!(s.aggregate_alerts(&AlertQuery::default(), 0).is_err());
}

pub fn inventory_merges_observations(s: &dyn Store) {
    let mut o = DeviceObservation {
        ip: Some("10.0.0.9".into()),
        mac: Some("00-1D-9C-C8-03-E8".into()),
        zone: Some("Line 1".into()),
        seen: t(10),
        ..Default::default()
    };
    o.protocols = vec!["Modbus".into()];
    let id = s.upsert_devices(&[o.clone()]).unwrap()[0];
    let mut o2 = o.clone();
    o2.seen = t(5);
    o2.vendor = Some("Rockwell Automation".into());
    o2.device_type = Some(DeviceType::Plc);
    o2.protocols = vec!["EtherNet/IP".into()];
    o2.details.insert("plc_mode".into(), "Run".into());
    let mut o3 = o.clone();
    o3.seen = t(20);
    o3.device_type = Some(DeviceType::Unknown);
    let ids = s.upsert_devices(&[o2, o3]).unwrap();
    assert_eq!(ids, vec![id, id]);
    let d = s.device(id).unwrap();
    assert_eq!(d.mac.as_deref(), Some("00:1d:9c:c8:03:e8"));
    assert_eq!((d.first_seen, d.last_seen), (t(5), t(20)));
    assert_eq!(d.device_type, DeviceType::Plc, "Unknown never overwrites a known type");
    assert_eq!(d.vendor.as_deref(), Some("Rockwell Automation"));
    assert_eq!(d.protocols, vec!["EtherNet/IP".to_string(), "Modbus".to_string()]);
    assert_eq!(d.details.get("plc_mode").map(String::as_str), Some("Run"));
    // Same IP in another zone, or same MAC with another IP, is another device.
    let other_zone = DeviceObservation { zone: Some("Line 2".into()), ..o.clone() };
    let other_ip = DeviceObservation { ip: Some("10.0.0.10".into()), ..o };
    let hmi = DeviceObservation {
        ip: Some("10.0.0.2".into()),
        device_type: Some(DeviceType::Hmi),
        zone: Some("Line 1".into()),
        seen: t(1),
        ..Default::default()
    };
    let more = s.upsert_devices(&[other_zone, other_ip, hmi]).unwrap();
    assert!(more.iter().all(|m| *m != id));
    assert_eq!(s.count_devices(&DeviceQuery::default()).unwrap(), 4);
    assert_eq!(
        s.list_devices(&DeviceQuery { device_types: vec!["PLC".into()], ..Default::default() })
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        s.list_devices(&DeviceQuery { search: Some("rockwell".into()), ..Default::default() })
            .unwrap()[0]
            .id,
        id
    );
    assert_eq!(
        s.list_devices(&DeviceQuery { protocol: Some("Modbus".into()), ..Default::default() })
            .unwrap()
            .len(),
        3
    );
    let g = s.group_devices(&DeviceQuery::default(), DeviceGroup::IsOt).unwrap();
    assert_eq!(g.iter().map(|x| x.count).sum::<u64>(), 4);
    assert!(s.upsert_devices(&[DeviceObservation::default()]).is_err());
    // Connections accumulate and link to devices.
    let c = ConnectionObservation {
        src: "10.0.0.2".into(),
        dst: "10.0.0.9".into(),
        transport: "tcp".into(),
        dst_port: Some(502),
        protocol: Some("Modbus".into()),
        packets: 10,
        bytes: 700,
        first_seen: t(1),
        last_seen: t(2),
        zone: Some("Line 1".into()),
        dst_mac: Some("00:1d:9c:c8:03:e8".into()),
        ..Default::default()
    };
    assert_eq!(s.upsert_connections(std::slice::from_ref(&c)).unwrap(), 1);
    assert_eq!(
        s.upsert_connections(&[ConnectionObservation {
            packets: 5,
            bytes: 300,
            first_seen: t(3),
            last_seen: t(9),
            ..c
        }])
        .unwrap(),
        0
    );
    let conns =
        s.list_connections(&ConnectionQuery { device_id: Some(id), ..Default::default() }).unwrap();
    assert_eq!(conns.len(), 1);
    assert_eq!(
        (conns[0].packets, conns[0].bytes, conns[0].first_seen, conns[0].last_seen),
        (15, 1000, t(1), t(9))
    );
    assert_eq!(conns[0].dst_device_id, Some(id));
    assert!(conns[0].src_device_id.is_some());
    // Device edits are audited.
    let patch = crate::DevicePatch {
        name: Some("plc-line1".into()),
        programming_device: Some(false),
        ..Default::default()
    };
    let d = s.update_device(id, &patch, &analyst(), t(30)).unwrap();
    assert_eq!(d.name.as_deref(), Some("plc-line1"));
    assert_eq!(
        s.list_audit(&crate::AuditQuery {
            object_type: Some("device".into()),
            ..Default::default()
        })
        .unwrap()
        .len(),
        1
    );
}

pub fn events_are_idempotent_by_key(s: &dyn Store) {
    let mut e = NewEvent::new(t(5), "PLC_STOP", EventSeverity::Alert, "PLC Stop");
    e.key = Some("sensor-1:42".into());
    e.src_ip = Some("10.0.0.2".into());
    let mut other = NewEvent::new(t(6), "DEVICE_CREATE", EventSeverity::Info, "Device Detected");
    other.device_id = Some(77);
    assert_eq!(s.append_events(&[e.clone(), other]).unwrap(), 2);
    assert_eq!(s.append_events(&[e]).unwrap(), 0);
    let all = s.list_events(&EventQuery::default()).unwrap();
    assert_eq!(all.len(), 2);
    assert!(all[0].at >= all[1].at, "newest first");
    assert_eq!(
        s.list_events(&EventQuery { event_types: vec!["PLC_STOP".into()], ..Default::default() })
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        s.list_events(&EventQuery { from: Some(t(6)), ..Default::default() }).unwrap().len(),
        1
    );
    assert_eq!(
        s.list_events(&EventQuery { search: Some("stop".into()), ..Default::default() })
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        s.list_events(&EventQuery { device_id: Some(77), ..Default::default() }).unwrap().len(),
        1
    );
}

pub fn users_and_tokens(s: &dyn Store) {
    let sys = Actor::system();
    let u = s.create_user("admin", Role::Admin, "$argon2id$v=19$fake", &sys, t(0)).unwrap();
    assert_eq!(u.role, Role::Admin);
    assert!(matches!(
        s.create_user("admin", Role::Viewer, "$h", &sys, t(0)),
        Err(crate::StoreError::Conflict(_))
    ));
    assert!(s.create_user("bad name!", Role::Viewer, "$h", &sys, t(0)).is_err());
    s.create_user("vic", Role::Viewer, "$argon2id$v=19$fake2", &sys, t(1)).unwrap();
    // The last admin cannot be demoted, disabled or removed.
    assert!(s.set_user_role("admin", Role::Viewer, &sys, t(2)).is_err());
    assert!(s.set_user_disabled("admin", true, &sys, t(2)).is_err());
    assert!(s.delete_user("admin", &sys, t(2)).is_err());
    s.set_user_role("vic", Role::Admin, &sys, t(3)).unwrap();
    s.set_user_role("admin", Role::Analyst, &sys, t(4)).unwrap();
    s.set_user_password("admin", "$argon2id$new", &sys, t(5)).unwrap();
    assert_eq!(s.user_by_name("admin").unwrap().unwrap().password_hash, "$argon2id$new");
    s.touch_login("admin", t(6)).unwrap();
    assert_eq!(s.user_by_name("admin").unwrap().unwrap().last_login, Some(t(6)));
    assert_eq!(s.list_users().unwrap().len(), 2);
    s.delete_user("admin", &sys, t(7)).unwrap();
    assert!(s.user_by_name("admin").unwrap().is_none());
    let audit = s
        .list_audit(&crate::AuditQuery { object_type: Some("user".into()), ..Default::default() })
        .unwrap();
    assert!(
        audit.iter().all(|a| !a.summary.contains("argon2")),
        "hashes never reach the audit log"
    );
    let hash = "a".repeat(64);
    let tok =
        s.create_token("ci", Role::Analyst, &hash, "otw_abcd", Some(t(1000)), &sys, t(8)).unwrap();
    let found = s.token_by_hash(&hash).unwrap().unwrap();
    assert_eq!(found.id, tok.id);
    assert!(found.usable_at(t(9)) && !found.usable_at(t(1000)));
    s.revoke_token(tok.id, &sys, t(10)).unwrap();
    s.revoke_token(tok.id, &sys, t(11)).unwrap();
    assert!(!s.token_by_hash(&hash).unwrap().unwrap().usable_at(t(12)));
    assert!(s.revoke_token(9999, &sys, t(12)).is_err());
    assert!(s.token_by_hash(&"b".repeat(64)).unwrap().is_none());
}

pub fn hunting_relations_have_the_documented_columns(s: &dyn Store) {
    let c = catalog();
    let mut d = det("t_anomaly", "10.0.0.5", "10.0.0.9", 1);
    d.details.insert("ports".into(), "25".into());
    ingest(s, &c, &[d], 2);
    s.upsert_devices(&[DeviceObservation {
        ip: Some("8.8.4.4".into()),
        protocols: vec!["DNS".into()],
        seen: t(1),
        ..Default::default()
    }])
    .unwrap();
    let limit = std::time::Duration::from_secs(5);
    for table in otwatch_model::hunt::HUNT_TABLES {
        let rows = s
            .hunt_sql(&format!("SELECT * FROM {} LIMIT 0", table.relation), &[], 10, limit)
            .unwrap();
        let want: Vec<&str> = table.columns.iter().map(|c| c.0).collect();
        assert_eq!(rows.columns, want, "{}", table.name);
    }
    let r = s
        .hunt_sql(
            "SELECT Severity, Status, Tactics, Details, Timestamp FROM hunt_alerts WHERE SrcIp = ?",
            &[crate::SqlValue::Text("10.0.0.5".into())],
            10,
            limit,
        )
        .unwrap();
    assert_eq!(r.rows.len(), 1);
    assert_eq!(r.rows[0][0], crate::SqlValue::Text("Critical".into()));
    assert_eq!(r.rows[0][1], crate::SqlValue::Text("New".into()));
    assert_eq!(r.rows[0][2], crate::SqlValue::Text("[\"Discovery\"]".into()));
    assert_eq!(r.rows[0][3], crate::SqlValue::Text("{\"ports\":\"25\"}".into()));
    assert_eq!(r.rows[0][4], crate::SqlValue::Int(t(1).0));
    let dev =
        s.hunt_sql("SELECT PublicIP, Protocols, IsOT FROM hunt_devices", &[], 10, limit).unwrap();
    assert_eq!(
        dev.rows[0],
        vec![
            crate::SqlValue::Text("8.8.4.4".into()),
            crate::SqlValue::Text("[\"DNS\"]".into()),
            crate::SqlValue::Int(0)
        ]
    );
    // Row limit, and writes are refused.
    ingest(
        s,
        &c,
        &[det("t_policy", "10.0.0.6", "10.0.0.9", 3), det("t_malware", "10.0.0.7", "10.0.0.9", 3)],
        4,
    );
    let r = s.hunt_sql("SELECT AlertId FROM hunt_alerts", &[], 2, limit).unwrap();
    assert_eq!((r.rows.len(), r.truncated), (2, true));
    assert!(s.hunt_sql("DELETE FROM alerts", &[], 10, limit).is_err());
    assert!(s.hunt_sql("SELECT 1; DELETE FROM alerts", &[], 10, limit).is_err());
    assert_eq!(s.count_alerts(&AlertQuery::default()).unwrap(), 3);
    // A query over its time limit is stopped.
    let slow =
        "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n) SELECT count(*) FROM n";
    assert!(matches!(
        s.hunt_sql(slow, &[], 10, std::time::Duration::from_millis(100)),
        Err(crate::StoreError::TimeLimit(_))
    ));
}

pub fn pcap_evidence_is_kept_per_alert(s: &dyn Store) {
    let c = catalog();
    ingest(s, &c, &[det("t_anomaly", "10.0.0.1", "10.0.0.2", 0)], 1);
    let id = all(s)[0].id;
    assert_eq!(s.alert_pcap(id).unwrap(), None);
    s.put_alert_pcap(id, b"\xd4\xc3\xb2\xa1first").unwrap();
    s.put_alert_pcap(id, b"\xd4\xc3\xb2\xa1second").unwrap();
    assert_eq!(s.alert_pcap(id).unwrap().as_deref(), Some(&b"\xd4\xc3\xb2\xa1second"[..]));
    assert!(s.put_alert_pcap(AlertId(99_999), b"x").is_err());
}

pub fn retention_removes_only_what_the_policy_drops(s: &dyn Store) {
    let c = catalog();
    let old = det("t_anomaly", "10.0.0.1", "10.0.0.2", 0);
    let new = det("t_anomaly", "10.0.0.3", "10.0.0.2", 100 * 86_400);
    // Old traffic, but ingested (active) recently: kept, like a replayed capture.
    let replayed = det("t_policy", "10.0.0.4", "10.0.0.2", 0);
    ingest(s, &c, &[old, new, replayed], 100 * 86_400);
    let ids: Vec<AlertId> = all(s).iter().map(|a| a.id).collect();
    s.apply(&[ids[0]], &Action::Comment("old one".into()), &analyst(), t(5)).unwrap();
    s.put_alert_pcap(ids[0], &[0u8; 1000]).unwrap();
    s.put_alert_pcap(ids[1], &[0u8; 600]).unwrap();
    for i in 0..10 {
        s.append_events(&[NewEvent::new(t(i * 86_400), "DEVICE_UPDATE", EventSeverity::Info, "x")])
            .unwrap();
    }
    let before = s.stats().unwrap();
    assert_eq!((before.alerts, before.pcaps, before.pcap_bytes), (3, 2, 1600));
    let p = crate::RetentionPolicy {
        alert_max_age: Some(90 * DAY),
        alert_max_count: None,
        event_max_age: None,
        event_max_count: Some(5),
        pcap_max_bytes: None,
    };
    let r = s.apply_retention(&p, t(100 * 86_400)).unwrap();
    assert_eq!((r.alerts, r.pcaps, r.pcap_bytes), (1, 1, 1000));
    assert!(r.ingest_keys >= 1);
    let left: Vec<AlertId> = all(s).iter().map(|a| a.id).collect();
    assert_eq!(left, vec![ids[1], ids[2]], "the idle old alert went; the active ones stayed");
    assert!(s.alert(ids[0]).is_err());
    assert_eq!(s.list_events(&EventQuery { limit: 1000, ..Default::default() }).unwrap().len(), 5);
    // PCAP by total size: the oldest evidence goes first.
    let p2 = crate::RetentionPolicy { pcap_max_bytes: Some(100), ..Default::default() };
    let r2 = s.apply_retention(&p2, t(100 * 86_400)).unwrap();
    assert_eq!((r2.pcaps, r2.pcap_bytes), (1, 600));
    assert_eq!(s.stats().unwrap().pcap_bytes, 0);
    // An empty policy removes nothing.
    assert_eq!(
        s.apply_retention(&crate::RetentionPolicy::default(), t(10_000 * 86_400)).unwrap(),
        crate::RetentionReport::default()
    );
    assert_eq!(s.stats().unwrap().alerts, 2);
}

pub fn auto_close_does_not_extend_retention(s: &dyn Store) {
    let c = catalog();
    ingest(
        s,
        &c,
        &[det("t_anomaly", "10.0.0.1", "10.0.0.2", 0), det("t_anomaly", "10.0.0.3", "10.0.0.2", 0)],
        1,
    );
    let ids: Vec<AlertId> = all(s).iter().map(|a| a.id).collect();
    // Quiet for 91 days: otwatch closes both; an analyst then reviews the second.
    assert_eq!(s.auto_close(t(91 * 86_400), 90 * DAY, &Actor::system()).unwrap(), 2);
    s.apply(&[ids[1]], &Action::Comment("still relevant".into()), &analyst(), t(91 * 86_400))
        .unwrap();
    let closed = s.alert(ids[0]).unwrap();
    assert_eq!(closed.status, Status::Closed);
    assert_eq!(closed.last_activity, t(91 * 86_400), "closing is shown as activity");
    let p = crate::RetentionPolicy { alert_max_age: Some(90 * DAY), ..Default::default() };
    let r = s.apply_retention(&p, t(100 * 86_400)).unwrap();
    assert_eq!(
        r.alerts, 1,
        "the auto-closed alert is past retention: its last detection and ingest are 100 days old"
    );
    let left: Vec<AlertId> = all(s).iter().map(|a| a.id).collect();
    assert_eq!(left, vec![ids[1]], "the alert a person acted on 9 days ago is kept");
}

pub fn retention_keeps_at_most_the_alert_count(s: &dyn Store) {
    let c = catalog();
    for i in 0..5 {
        ingest(s, &c, &[det("t_anomaly", &format!("10.0.0.{}", i + 1), "10.0.0.9", i)], 10 + i);
    }
    let mut ids: Vec<AlertId> = all(s).iter().map(|a| a.id).collect();
    ids.sort_by_key(|id| id.0);
    // The first alert stored is the oldest, but a person acts on it last.
    s.apply(&[ids[0]], &Action::Comment("keep".into()), &analyst(), t(100)).unwrap();
    s.put_alert_pcap(ids[1], &[0u8; 700]).unwrap();
    let p = crate::RetentionPolicy { alert_max_count: Some(3), ..Default::default() };
    let r = s.apply_retention(&p, t(200)).unwrap();
    assert_eq!((r.alerts, r.pcaps, r.pcap_bytes), (2, 1, 700));
    let mut left: Vec<AlertId> = all(s).iter().map(|a| a.id).collect();
    left.sort_by_key(|id| id.0);
    assert_eq!(left, vec![ids[0], ids[3], ids[4]], "the least recently touched went");
    assert_eq!(s.stats().unwrap().pcap_bytes, 0);
    assert_eq!(s.apply_retention(&p, t(300)).unwrap().alerts, 0, "at the limit nothing goes");
}

pub fn saved_queries_belong_to_their_owner(s: &dyn Store) {
    let a = s.save_query("ann", "scans", "Alerts | where Category == 'Scan'", t(1)).unwrap();
    s.save_query("ann", "plcs", "Devices | where DeviceType == 'PLC'", t(2)).unwrap();
    let replaced = s.save_query("ann", "scans", "Alerts | take 5", t(3)).unwrap();
    assert_eq!(replaced.id, a.id, "saving under the same name replaces");
    s.save_query("bob", "scans", "Alerts", t(4)).unwrap();
    let mine = s.saved_queries("ann").unwrap();
    assert_eq!(mine.iter().map(|q| q.name.as_str()).collect::<Vec<_>>(), vec!["plcs", "scans"]);
    assert_eq!(mine[1].query, "Alerts | take 5");
    assert!(s.delete_query("bob", a.id).is_err(), "another user's query cannot be deleted");
    s.delete_query("ann", a.id).unwrap();
    assert_eq!(s.saved_queries("ann").unwrap().len(), 1);
    assert_eq!(s.saved_queries("bob").unwrap().len(), 1);
    assert!(s.save_query("ann", "  ", "x", t(5)).is_err());
    assert!(s.save_query("ann", "empty", "   ", t(5)).is_err());
}

pub fn preferences_and_settings(s: &dyn Store) {
    assert_eq!(s.user_pref("ann", "alerts.columns").unwrap(), None);
    s.set_user_pref("ann", "alerts.columns", "severity,name,site").unwrap();
    s.set_user_pref("bob", "alerts.columns", "id").unwrap();
    assert_eq!(
        s.user_pref("ann", "alerts.columns").unwrap().as_deref(),
        Some("severity,name,site")
    );
    s.set_user_pref("ann", "alerts.columns", "").unwrap();
    assert_eq!(s.user_pref("ann", "alerts.columns").unwrap(), None);
    assert_eq!(s.user_pref("bob", "alerts.columns").unwrap().as_deref(), Some("id"));
    assert!(s.set_user_pref("ann", "bad key!", "x").is_err());
    assert!(s.settings().unwrap().is_empty());
    s.set_setting("detect.engines.anomaly", "false", &analyst(), t(1)).unwrap();
    s.set_setting("detect.engines.anomaly", "true", &analyst(), t(2)).unwrap();
    assert_eq!(
        s.settings().unwrap().get("detect.engines.anomaly").map(String::as_str),
        Some("true")
    );
    let audit = s
        .list_audit(&crate::AuditQuery {
            object_type: Some("setting".into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(audit.len(), 2);
    assert_eq!(audit[0].summary, "detect.engines.anomaly: false → true");
}

/// Generates one `#[test]` per conformance check. `$factory` is an
/// expression returning `(store, guard)`; the guard is kept alive for the test.
#[macro_export]
macro_rules! conformance_tests {
    ($factory:expr) => {
        $crate::conformance_tests!(@each $factory;
            schema_is_versioned, repeats_update_one_alert, resending_a_batch_changes_nothing,
            closed_alerts_reopen_as_new_alerts, learn_suppresses_and_unlearn_restores,
            mute_suppresses_and_unmute_restores, forbidden_actions_change_nothing, quiet_alerts_auto_close,
            unknown_types_are_rejected_and_the_rest_stored, exclusion_rules_stop_alerts_and_are_audited,
            filters_match_what_they_say, keyset_paging_visits_every_row_once, group_by_counts_add_up,
            export_streams_every_matching_row, comments_and_history_are_kept, aggregated_view_lists_devices,
            inventory_merges_observations, events_are_idempotent_by_key, users_and_tokens,
            hunting_relations_have_the_documented_columns, pcap_evidence_is_kept_per_alert,
            retention_removes_only_what_the_policy_drops, auto_close_does_not_extend_retention,
            retention_keeps_at_most_the_alert_count,
            saved_queries_belong_to_their_owner,
            preferences_and_settings);
    };
    (@each $factory:expr; $($name:ident),+) => {
        $(
            #[test]
            fn $name() {
                let (store, _guard) = $factory;
                $crate::conformance::$name(&store);
            }
        )+
    };
}
