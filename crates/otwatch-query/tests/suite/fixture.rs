//! The fixed dataset of the golden tests, written through the store API, and the SqlSource adapter.
//!
//! "now" is pinned to 2024-03-02T00:00:00Z. Every row is listed here so the
//! expected results in `tests/golden/` can be checked by hand:
//!
//! Alerts (ids in this order; all New unless said; Timestamp = detection time):
//! 1. "Modbus write to holding register", Major, Modbus, 10.10.5.20 → 10.10.1.10, s1, SanFrancisco/Line1, 03-01 23:00, {"function_code":"16","register":"40001"}
//! 2. "Modbus rewrite of coils", Minor, MODBUS, 10.10.5.21 → 10.10.1.10, s1, SanFrancisco/Line1, 03-01 22:00, {"function_code":"5","register":"1"}
//! 3. "Modbus write test", Warning, modbus, 10.10.5.20 → 10.10.1.11, s2, SanFrancisco/Line1, 03-01 20:00, {"function_code":"6"}
//! 4. "Port Scan Detected", Critical, TCP, 192.168.7.7 → 10.10.1.10, s2, Oakland/Line2, 03-01 12:30, {"ports":"25"}; seen again 03-01 12:40 (OccurrenceCount 2)
//! 5. "Connection Attempt to Known Malicious IP", Critical, HTTP, 10.10.1.11 → 203.0.113.5, s1, SanFrancisco/Line1, 02-28 08:00, {}; Closed
//! 6. "An S7 Stop PLC Command was Sent", Warning, S7comm, 10.10.5.22 → 10.10.1.12, s3, Oakland/Line2, 03-01 01:15, {"function_code":"41"}
//!
//! Devices (ids in this order):
//! 1. plc-01 10.10.1.10 Siemens S7-1500 V2.9.2 PLC, SanFrancisco/Line1, s1, [Modbus,S7comm], authorized, seen 03-01 10:00 and 23:00
//! 2. plc-02 10.10.1.11 "Schneider Electric" M340 3.20 PLC, SanFrancisco/Line1, s1, [Modbus], seen 03-01 09:00
//! 3. rtu-07.plant.local 10.10.1.12 Siemens S7-300 V3.3 RTU, Oakland/Line2, s3, [S7comm,DNP3], seen 02-27 10:00
//! 4. eng-ws-01 10.10.5.20 Dell "Precision 3660" "" Engineering Station, SanFrancisco/Line1, s1, [Modbus,ENIP], authorized, seen 03-01 23:00
//! 5. laptop-17 192.168.1.1 Lenovo T14 "" Workstation, SanFrancisco/Office, s1, [], seen 03-01 08:00
//! 6. vpn-gw 198.51.100.7 Cisco ASA "9.16" Server, SanFrancisco/DMZ, s1, [HTTPS], seen 03-01 07:00
//! 7. lab-ws-02.plant.local 10.10.5.22 HP Z2 "" Workstation, Oakland/Line2, s3, [S7comm], seen 03-01 01:00
//! 8. switch-01 10.20.0.5 Cisco C9300 "17.3" Network Device, Oakland/Line2, s3, [], seen 02-29 12:00
//!
//! Connections (Timestamp = LastSeen): see `connections()`.
//! Events: the six ALERT_REPORTED events the store writes with the alerts,
//! plus the five in `events()`.

use std::collections::BTreeMap;
use std::time::Duration;

use otwatch_model::lifecycle::Action;
use otwatch_model::{
    Actor, Catalog, ConnectionObservation, Detection, DeviceObservation, DeviceType, EventSeverity,
    NewEvent, Severity, Status, Timestamp,
};
use otwatch_query::{Dialect, FetchError, Param, Rows, SqlSource};
use otwatch_store::{IngestOptions, SqlValue, Store, StoreError};
use otwatch_store_sqlite::SqliteStore;

/// 2024-03-01T00:00:00Z in seconds.
const T0: i64 = 1_709_251_200;

/// "now" of the golden tests: 2024-03-02T00:00:00Z, in microseconds.
pub const NOW: i64 = (T0 + 86_400) * 1_000_000;

/// A time on 2024-03-01 (negative days for earlier dates): day offset, hour, minute.
pub fn at(day: i64, h: i64, m: i64) -> Timestamp {
    Timestamp::from_secs(T0 + day * 86_400 + h * 3600 + m * 60)
}

const CATALOG: &str = r#"
[[alert]]
id = "t_policy"
name = "Unpermitted Usage of Modbus Function Code"
engine = "Policy Violation"
category = "Unauthorized Communication Behavior"
severity = "Major"
tactics = ["Impair Process Control"]
techniques = ["T0836"]
description = "{source} used a function code on {destination}"
remediation = ["Check it."]
learnable = true
mutable = false

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

/// A fresh store in a temporary directory.
pub struct Fixture {
    /// The store.
    pub store: SqliteStore,
    _dir: tempfile::TempDir,
}

#[allow(clippy::too_many_arguments)]
fn device(
    ip: &str,
    name: &str,
    vendor: &str,
    model: &str,
    firmware: &str,
    ty: DeviceType,
    site: &str,
    zone: &str,
    sensor: &str,
    protocols: &[&str],
    authorized: bool,
    seen: Timestamp,
) -> DeviceObservation {
    DeviceObservation {
        ip: Some(ip.into()),
        name: Some(name.into()),
        vendor: Some(vendor.into()),
        model: Some(model.into()),
        firmware: (!firmware.is_empty()).then(|| firmware.into()),
        device_type: Some(ty),
        sensor: Some(sensor.into()),
        site: Some(site.into()),
        zone: Some(zone.into()),
        protocols: protocols.iter().map(|p| (*p).to_string()).collect(),
        authorized: Some(authorized),
        seen,
        ..Default::default()
    }
}

#[allow(clippy::too_many_arguments)]
fn conn(
    src: &str,
    dst: &str,
    transport: &str,
    port: Option<u16>,
    protocol: &str,
    packets: u64,
    bytes: u64,
    first: Timestamp,
    last: Timestamp,
    sensor: &str,
    site: &str,
    zone: &str,
) -> ConnectionObservation {
    ConnectionObservation {
        src: src.into(),
        dst: dst.into(),
        src_mac: None,
        dst_mac: None,
        transport: transport.into(),
        dst_port: port,
        protocol: (!protocol.is_empty()).then(|| protocol.into()),
        packets,
        bytes,
        first_seen: first,
        last_seen: last,
        sensor: Some(sensor.into()),
        site: Some(site.into()),
        zone: Some(zone.into()),
    }
}

/// The connections (Timestamp = last).
pub fn connections() -> Vec<ConnectionObservation> {
    vec![
        conn(
            "10.10.5.20",
            "10.10.1.10",
            "tcp",
            Some(502),
            "Modbus",
            100,
            6400,
            at(0, 8, 0),
            at(0, 23, 0),
            "s1",
            "SanFrancisco",
            "Line1",
        ),
        conn(
            "10.10.5.21",
            "10.10.1.10",
            "tcp",
            Some(502),
            "Modbus",
            50,
            3200,
            at(0, 9, 0),
            at(0, 22, 0),
            "s1",
            "SanFrancisco",
            "Line1",
        ),
        conn(
            "10.10.5.20",
            "10.10.1.11",
            "tcp",
            Some(502),
            "Modbus",
            10,
            640,
            at(-10, 10, 0),
            at(-10, 11, 0),
            "s1",
            "SanFrancisco",
            "Line1",
        ),
        conn(
            "192.168.7.7",
            "10.10.1.10",
            "tcp",
            Some(102),
            "S7comm",
            5,
            300,
            at(0, 12, 30),
            at(0, 12, 31),
            "s2",
            "Oakland",
            "Line2",
        ),
        conn(
            "10.10.1.11",
            "203.0.113.5",
            "tcp",
            Some(80),
            "HTTP",
            20,
            15000,
            at(-2, 8, 0),
            at(-2, 8, 5),
            "s1",
            "SanFrancisco",
            "Line1",
        ),
        conn(
            "10.10.5.22",
            "10.10.1.12",
            "tcp",
            Some(102),
            "S7comm",
            30,
            2000,
            at(0, 1, 0),
            at(0, 1, 20),
            "s3",
            "Oakland",
            "Line2",
        ),
        conn(
            "10.10.1.10",
            "10.20.0.5",
            "icmp",
            None,
            "",
            4,
            256,
            at(0, 5, 0),
            at(0, 5, 0),
            "s1",
            "SanFrancisco",
            "Line1",
        ),
        conn(
            "172.16.4.4",
            "10.10.1.12",
            "tcp",
            Some(20000),
            "DNP3",
            40,
            5000,
            at(0, 14, 0),
            at(0, 15, 0),
            "s3",
            "Oakland",
            "Line2",
        ),
        conn(
            "10.10.5.20",
            "10.10.1.12",
            "tcp",
            Some(44818),
            "ENIP",
            60,
            9000,
            at(0, 16, 0),
            at(0, 16, 30),
            "s1",
            "SanFrancisco",
            "Line1",
        ),
        conn(
            "192.168.7.7",
            "10.10.1.11",
            "tcp",
            Some(502),
            "Modbus",
            7,
            420,
            at(0, 12, 35),
            at(0, 12, 36),
            "s2",
            "Oakland",
            "Line2",
        ),
    ]
}

#[allow(clippy::too_many_arguments)]
fn event(
    at: Timestamp,
    ty: &str,
    title: &str,
    device: Option<i64>,
    src: &str,
    dst: &str,
    proto: &str,
    details: &[(&str, &str)],
) -> NewEvent {
    let mut e = NewEvent::new(at, ty, EventSeverity::Notice, title);
    e.device_id = device;
    e.src_ip = (!src.is_empty()).then(|| src.into());
    e.dst_ip = (!dst.is_empty()).then(|| dst.into());
    e.protocol = (!proto.is_empty()).then(|| proto.into());
    e.sensor = Some("s1".into());
    e.site = Some("SanFrancisco".into());
    e.details = details.iter().map(|(k, v)| ((*k).to_string(), (*v).to_string())).collect();
    e
}

/// The events appended after the alerts (device ids as created).
pub fn events(d: &[i64]) -> Vec<NewEvent> {
    vec![
        event(
            at(0, 3, 0),
            "PLC_STOP",
            "PLC stop command",
            Some(d[0]),
            "10.10.5.22",
            "10.10.1.10",
            "S7comm",
            &[("user", "eng"), ("code", "29")],
        ),
        event(
            at(0, 4, 0),
            "FIRMWARE_DOWNLOAD",
            "Firmware download",
            Some(d[1]),
            "10.10.5.20",
            "10.10.1.11",
            "Modbus",
            &[],
        ),
        event(
            at(0, 6, 0),
            "PROGRAM_UPLOAD",
            "Program upload",
            Some(d[0]),
            "10.10.5.21",
            "10.10.1.10",
            "Modbus",
            &[],
        ),
        event(at(-5, 10, 0), "DEVICE_CREATE", "Device Detected", Some(d[1]), "", "", "", &[]),
        event(
            at(0, 7, 0),
            "COLD_RESTART",
            "Cold restart",
            None,
            "192.168.7.7",
            "10.10.1.12",
            "S7comm",
            &[],
        ),
    ]
}

#[allow(clippy::too_many_arguments)]
fn det(
    ty: &str,
    title: &str,
    sev: Severity,
    proto: &str,
    src: (&str, Option<i64>),
    dst: (&str, Option<i64>),
    sensor: &str,
    site: &str,
    zone: &str,
    time: Timestamp,
    details: &[(&str, &str)],
) -> Detection {
    let mut d = Detection::new(ty, time);
    d.title = Some(title.into());
    d.severity = Some(sev);
    d.protocol = Some(proto.into());
    d.source.ip = Some(src.0.into());
    d.source.device_id = src.1;
    d.destination.ip = Some(dst.0.into());
    d.destination.device_id = dst.1;
    d.sensor = Some(sensor.into());
    d.site = Some(site.into());
    d.zone = Some(zone.into());
    d.details = details
        .iter()
        .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
        .collect::<BTreeMap<_, _>>();
    d
}

impl Fixture {
    /// The fixed dataset.
    pub fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open_dir(dir.path()).unwrap();
        use DeviceType as T;
        let devs = store
            .upsert_devices(&[
                device(
                    "10.10.1.10",
                    "plc-01",
                    "Siemens",
                    "S7-1500",
                    "V2.9.2",
                    T::Plc,
                    "SanFrancisco",
                    "Line1",
                    "s1",
                    &["Modbus", "S7comm"],
                    true,
                    at(0, 10, 0),
                ),
                device(
                    "10.10.1.11",
                    "plc-02",
                    "Schneider Electric",
                    "M340",
                    "3.20",
                    T::Plc,
                    "SanFrancisco",
                    "Line1",
                    "s1",
                    &["Modbus"],
                    false,
                    at(0, 9, 0),
                ),
                device(
                    "10.10.1.12",
                    "rtu-07.plant.local",
                    "Siemens",
                    "S7-300",
                    "V3.3",
                    T::Rtu,
                    "Oakland",
                    "Line2",
                    "s3",
                    &["S7comm", "DNP3"],
                    false,
                    at(-3, 10, 0),
                ),
                device(
                    "10.10.5.20",
                    "eng-ws-01",
                    "Dell",
                    "Precision 3660",
                    "",
                    T::EngineeringStation,
                    "SanFrancisco",
                    "Line1",
                    "s1",
                    &["Modbus", "ENIP"],
                    true,
                    at(0, 23, 0),
                ),
                device(
                    "192.168.1.1",
                    "laptop-17",
                    "Lenovo",
                    "T14",
                    "",
                    T::Workstation,
                    "SanFrancisco",
                    "Office",
                    "s1",
                    &[],
                    false,
                    at(0, 8, 0),
                ),
                device(
                    "198.51.100.7",
                    "vpn-gw",
                    "Cisco",
                    "ASA",
                    "9.16",
                    T::Server,
                    "SanFrancisco",
                    "DMZ",
                    "s1",
                    &["HTTPS"],
                    false,
                    at(0, 7, 0),
                ),
                device(
                    "10.10.5.22",
                    "lab-ws-02.plant.local",
                    "HP",
                    "Z2",
                    "",
                    T::Workstation,
                    "Oakland",
                    "Line2",
                    "s3",
                    &["S7comm"],
                    false,
                    at(0, 1, 0),
                ),
                device(
                    "10.20.0.5",
                    "switch-01",
                    "Cisco",
                    "C9300",
                    "17.3",
                    T::NetworkDevice,
                    "Oakland",
                    "Line2",
                    "s3",
                    &[],
                    false,
                    at(-1, 12, 0),
                ),
                // plc-01 seen again later: LastSeen 23:00.
                device(
                    "10.10.1.10",
                    "plc-01",
                    "Siemens",
                    "S7-1500",
                    "V2.9.2",
                    T::Plc,
                    "SanFrancisco",
                    "Line1",
                    "s1",
                    &["Modbus"],
                    true,
                    at(0, 23, 0),
                ),
            ])
            .unwrap();
        assert_eq!(devs, vec![1, 2, 3, 4, 5, 6, 7, 8, 1]);
        let catalog = Catalog::parse(CATALOG).unwrap();
        let opts = IngestOptions {
            catalog: &catalog,
            now: at(1, 0, 0),
            auto_close_after: 90 * 86_400_000_000,
        };
        let (s, c) = ("SanFrancisco", "Oakland");
        let dets = vec![
            det(
                "t_policy",
                "Modbus write to holding register",
                Severity::Major,
                "Modbus",
                ("10.10.5.20", Some(4)),
                ("10.10.1.10", Some(1)),
                "s1",
                s,
                "Line1",
                at(0, 23, 0),
                &[("function_code", "16"), ("register", "40001")],
            ),
            det(
                "t_policy",
                "Modbus rewrite of coils",
                Severity::Minor,
                "MODBUS",
                ("10.10.5.21", None),
                ("10.10.1.10", Some(1)),
                "s1",
                s,
                "Line1",
                at(0, 22, 0),
                &[("function_code", "5"), ("register", "1")],
            ),
            det(
                "t_policy",
                "Modbus write test",
                Severity::Warning,
                "modbus",
                ("10.10.5.20", Some(4)),
                ("10.10.1.11", Some(2)),
                "s2",
                s,
                "Line1",
                at(0, 20, 0),
                &[("function_code", "6")],
            ),
            det(
                "t_anomaly",
                "Port Scan Detected",
                Severity::Critical,
                "TCP",
                ("192.168.7.7", None),
                ("10.10.1.10", Some(1)),
                "s2",
                c,
                "Line2",
                at(0, 12, 30),
                &[("ports", "25")],
            ),
            det(
                "t_malware",
                "Connection Attempt to Known Malicious IP",
                Severity::Critical,
                "HTTP",
                ("10.10.1.11", Some(2)),
                ("203.0.113.5", None),
                "s1",
                s,
                "Line1",
                at(-2, 8, 0),
                &[],
            ),
            det(
                "t_operational",
                "An S7 Stop PLC Command was Sent",
                Severity::Warning,
                "S7comm",
                ("10.10.5.22", Some(7)),
                ("10.10.1.12", Some(3)),
                "s3",
                c,
                "Line2",
                at(0, 1, 15),
                &[("function_code", "41")],
            ),
        ];
        let r = store.ingest(&dets, &opts).unwrap();
        assert_eq!(r.opened, 6, "{r:?}");
        // The port scan is seen again ten minutes later.
        let again = det(
            "t_anomaly",
            "Port Scan Detected",
            Severity::Critical,
            "TCP",
            ("192.168.7.7", None),
            ("10.10.1.10", Some(1)),
            "s2",
            c,
            "Line2",
            at(0, 12, 40),
            &[("ports", "25")],
        );
        let r = store.ingest(&[again], &opts).unwrap();
        assert_eq!(r.updated, 1, "{r:?}");
        let out = store
            .apply(
                &[otwatch_model::AlertId(5)],
                &Action::SetStatus(Status::Closed),
                &Actor::system(),
                at(1, 0, 0),
            )
            .unwrap();
        assert_eq!(out[0].result, Ok(true), "{out:?}");
        store.upsert_connections(&connections()).unwrap();
        store.append_events(&events(&devs)).unwrap();
        Fixture { store, _dir: dir }
    }

    /// An empty store (for the empty-table cases).
    pub fn empty() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open_dir(dir.path()).unwrap();
        Fixture { store, _dir: dir }
    }
}

/// `SqlSource` over `Store::hunt_sql`, as the CLI and the server implement it.
pub struct StoreSource<'a>(pub &'a dyn Store);

impl SqlSource for StoreSource<'_> {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    fn fetch(
        &self,
        sql: &str,
        params: &[Param],
        max_rows: usize,
        time_limit: Duration,
    ) -> Result<Rows, FetchError> {
        let ps: Vec<SqlValue> = params
            .iter()
            .map(|p| match p {
                Param::Null => SqlValue::Null,
                Param::Int(n) => SqlValue::Int(*n),
                Param::Real(r) => SqlValue::Real(*r),
                Param::Text(t) => SqlValue::Text(t.clone()),
            })
            .collect();
        match self.0.hunt_sql(sql, &ps, max_rows, time_limit) {
            Ok(r) => Ok(Rows {
                rows: r
                    .rows
                    .into_iter()
                    .map(|row| {
                        row.into_iter()
                            .map(|v| match v {
                                SqlValue::Null => Param::Null,
                                SqlValue::Int(n) => Param::Int(n),
                                SqlValue::Real(f) => Param::Real(f),
                                SqlValue::Text(t) => Param::Text(t),
                            })
                            .collect()
                    })
                    .collect(),
                truncated: r.truncated,
            }),
            Err(StoreError::TimeLimit(_)) => Err(FetchError::TimeLimit),
            Err(e) => Err(FetchError::Other(e.to_string())),
        }
    }
}
