//! Engine behaviour on hand-built observations: learning then operating,
//! thresholds, learned alerts, determinism. (Every catalogue type is also
//! made to fire from generated packets through the real sensor pipeline in
//! `otwatch-sensor/tests/detect_catalogue.rs`.)

use std::collections::BTreeSet;
use std::net::IpAddr;

use otwatch_detect::learn::facts_for_alert;
use otwatch_detect::observation::{
    Address, AppMessage, Direction, Kind, MacAddr, Observation, Operation, Packet, Protocol, Role,
    TcpSignal, Transport,
};
use otwatch_detect::settings::TypeSwitches;
use otwatch_detect::{Engines, Finding, Mode, Settings};
use otwatch_model::Timestamp;
use otwatch_model::catalog::builtin;

const HMI: &str = "10.0.0.5";
const PLC: &str = "10.0.0.9";

fn addr(ip: &str, port: u16, mac: u8) -> Address {
    Address {
        mac: Some(MacAddr([0, 0x1d, 0x9c, 0, 0, mac])),
        ip: Some(ip.parse::<IpAddr>().unwrap()),
        port: Some(port),
    }
}

struct Gen {
    frame: u64,
    ms: i64,
}

impl Gen {
    fn new() -> Gen {
        Gen { frame: 0, ms: 1_700_000_000_000 }
    }

    fn next(&mut self, step_ms: i64) -> (u64, Timestamp) {
        self.frame += 1;
        self.ms += step_ms;
        (self.frame, Timestamp::from_millis(self.ms))
    }

    fn obs(&mut self, src: Address, dst: Address, to_server: bool, kind: Kind) -> Observation {
        let (frame, time) = self.next(10);
        Observation {
            time,
            frame,
            flow: Some(1),
            src,
            dst,
            transport: Transport::Tcp,
            direction: Some(if to_server { Direction::ToServer } else { Direction::ToClient }),
            vlan: None,
            kind,
        }
    }

    /// A Modbus request and its packet observation.
    fn modbus(&mut self, fc: u32) -> Vec<Observation> {
        let src = addr(HMI, 50000, 5);
        let dst = addr(PLC, 502, 9);
        let packet = Kind::Packet(Packet { ip_protocol: 6, wire_len: 66, ..Packet::default() });
        let mut m = AppMessage::new(Protocol::Modbus, Role::Request, fc, Operation::Read);
        m.unit = Some(1);
        let mut r = AppMessage::new(Protocol::Modbus, Role::Response, fc, Operation::Read);
        r.unit = Some(1);
        r.status = Some(otwatch_detect::observation::Status::Ok);
        vec![
            self.obs(src, dst, true, packet),
            self.obs(src, dst, true, Kind::App(m)),
            self.obs(dst, src, false, Kind::App(r)),
        ]
    }
}

fn settings(mode: Mode) -> Settings {
    let mut s = Settings::new(builtin());
    s.mode = mode;
    s.types = TypeSwitches::all(builtin());
    s
}

fn run(engines: &mut Engines, obs: &[Observation]) -> Vec<Finding> {
    for o in obs {
        engines.observe(o);
    }
    engines.finish();
    engines.take_output().findings
}

fn types(f: &[Finding]) -> BTreeSet<String> {
    f.iter().map(|f| f.detection.alert_type.clone()).collect()
}

#[test]
fn learning_then_operating_raises_only_the_new_function_code() {
    let mut g = Gen::new();
    let learn: Vec<Observation> = (0..5).flat_map(|_| g.modbus(3)).collect();
    let mut e = Engines::new(settings(Mode::Learning), builtin());
    let held = run(&mut e, &learn);
    assert!(held.is_empty(), "policy alerts are held back while learning: {held:#?}");
    let entries = e.take_baseline_entries();
    let kinds: BTreeSet<&str> = entries.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, BTreeSet::from(["device", "operation", "pair", "protocol"]), "{entries:#?}");

    let mut op = Engines::new(settings(Mode::Operational), builtin());
    op.load_baseline(&entries);
    let mut rest: Vec<Observation> = (0..3).flat_map(|_| g.modbus(3)).collect();
    rest.extend(g.modbus(16));
    rest.extend(g.modbus(16));
    let found = run(&mut op, &rest);
    assert_eq!(types(&found), BTreeSet::from(["policy_modbus_function_code".to_string()]));
    let first = &found[0];
    assert!(first.first);
    assert_eq!(first.detection.key.get("function_code").map(String::as_str), Some("16"));
    assert_eq!(first.detection.source.ip.as_deref(), Some(HMI));
    assert_eq!(first.detection.destination.ip.as_deref(), Some(PLC));
    assert_eq!(found.iter().map(|f| f.detection.count).sum::<u64>(), 2, "both sightings counted");
}

#[test]
fn learning_an_alert_teaches_its_fact() {
    let mut g = Gen::new();
    let learn: Vec<Observation> = (0..2).flat_map(|_| g.modbus(3)).collect();
    let mut e = Engines::new(settings(Mode::Learning), builtin());
    run(&mut e, &learn);
    let entries = e.take_baseline_entries();
    let rest: Vec<Observation> = g.modbus(16);

    let mut op = Engines::new(settings(Mode::Operational), builtin());
    op.load_baseline(&entries);
    let found = run(&mut op, &rest);
    assert_eq!(found.len(), 1);
    let d = &found[0].detection;
    // Learn it: the fact, not only the fingerprint.
    let mut details = d.key.clone();
    details.extend(d.details.clone());
    let facts =
        facts_for_alert(&d.alert_type, &d.source, &d.destination, d.protocol.as_deref(), &details);
    let mut op = Engines::new(settings(Mode::Operational), builtin());
    op.load_baseline(&entries);
    op.set_learned_alerts(BTreeSet::new(), &facts);
    assert!(run(&mut op, &g.modbus(16)).is_empty(), "the learned function code no longer alerts");
    // Unlearn: the facts go away with the alert entry.
    let mut op = Engines::new(settings(Mode::Operational), builtin());
    op.load_baseline(&entries);
    op.set_learned_alerts(BTreeSet::new(), &[]);
    assert_eq!(run(&mut op, &g.modbus(16)).len(), 1);
}

#[test]
fn port_scan_at_the_threshold_names_the_scanner() {
    let mut g = Gen::new();
    let mut obs = Vec::new();
    for port in 1..=30u16 {
        let src = addr("10.0.0.66", 40000, 66);
        let dst = addr(PLC, port, 9);
        obs.push(g.obs(src, dst, true, Kind::Tcp(TcpSignal::Attempt)));
    }
    let mut e = Engines::new(settings(Mode::Learning), builtin());
    let found = run(&mut e, &obs);
    let scans: Vec<&Finding> =
        found.iter().filter(|f| f.detection.alert_type == "anomaly_port_scan").collect();
    assert_eq!(scans.len(), 2, "first report and the aggregate: {found:#?}");
    assert!(scans[0].first);
    assert_eq!(scans[0].detection.source.ip.as_deref(), Some("10.0.0.66"));
    // Ten ports within a second: the burst rule fires before the 25-in-2-minutes rule.
    assert_eq!(scans[0].detection.details.get("ports").map(String::as_str), Some("10"));
    assert_eq!(scans[0].detection.details.get("window").map(String::as_str), Some("1s"));
    assert_eq!(scans[0].evidence.frames, vec![10]);
    assert_eq!(scans[1].detection.count, 20);
    let events = e.take_output().events;
    assert!(events.is_empty(), "events were taken with the findings");
}

#[test]
fn the_same_observations_give_the_same_findings() {
    let mut g = Gen::new();
    let mut obs: Vec<Observation> = (0..3).flat_map(|_| g.modbus(3)).collect();
    for port in 1..=40u16 {
        obs.push(g.obs(
            addr("10.0.0.66", 40000, 66),
            addr(PLC, port, 9),
            true,
            Kind::Tcp(TcpSignal::Attempt),
        ));
    }
    obs.extend(g.modbus(0x83));
    let a = run(&mut Engines::new(settings(Mode::Operational), builtin()), &obs);
    let b = run(&mut Engines::new(settings(Mode::Operational), builtin()), &obs);
    assert!(!a.is_empty());
    let json = |f: &[Finding]| {
        f.iter().map(|f| serde_json::to_string(&f.detection).unwrap()).collect::<Vec<_>>()
    };
    assert_eq!(json(&a), json(&b));
}

/// An ICMP observation (no flow) from `src` to `dst`.
fn icmp(g: &mut Gen, src: &str, dst: &str, icmp_type: u8) -> Observation {
    let (frame, time) = g.next(10);
    Observation {
        time,
        frame,
        flow: None,
        src: addr(src, 0, 1),
        dst: addr(dst, 0, 2),
        transport: Transport::Icmp,
        direction: None,
        vlan: None,
        kind: Kind::Icmp(otwatch_detect::observation::Icmp { v6: false, icmp_type, code: 0 }),
    }
}

fn pairs(found: &[Finding]) -> BTreeSet<(String, String)> {
    found
        .iter()
        .filter(|f| f.detection.alert_type == "policy_new_communication_pair")
        .map(|f| {
            let d = &f.detection;
            (d.source.ip.clone().unwrap_or_default(), d.destination.ip.clone().unwrap_or_default())
        })
        .collect()
}

#[test]
fn only_answered_pings_form_pairs() {
    let mut g = Gen::new();
    // A sweep: 10.0.0.9 answers, 10.0.0.10 does not exist.
    let obs = vec![
        icmp(&mut g, "10.0.0.66", PLC, 8),
        icmp(&mut g, PLC, "10.0.0.66", 0),
        icmp(&mut g, "10.0.0.66", "10.0.0.10", 8),
    ];
    let found = run(&mut Engines::new(settings(Mode::Operational), builtin()), &obs);
    assert_eq!(pairs(&found), BTreeSet::from([("10.0.0.66".to_string(), PLC.to_string())]));
}

#[test]
fn documentation_addresses_are_neither_assets_nor_pairs() {
    let mut g = Gen::new();
    let ws = addr("10.0.200.101", 61000, 5);
    let remote = addr("203.0.113.66", 80, 6);
    let packet = || Kind::Packet(Packet { ip_protocol: 6, wire_len: 66, ..Packet::default() });
    let obs = vec![
        g.obs(ws, remote, true, Kind::Tcp(TcpSignal::Attempt)),
        g.obs(remote, ws, false, Kind::Tcp(TcpSignal::Accept)),
        g.obs(ws, remote, true, packet()),
        g.obs(remote, ws, false, packet()),
    ];
    let found = run(&mut Engines::new(settings(Mode::Operational), builtin()), &obs);
    let raised = types(&found);
    assert!(!raised.contains("policy_new_communication_pair"), "{raised:?}");
    assert!(!raised.contains("policy_new_port"), "{raised:?}");
    let assets: Vec<_> = found
        .iter()
        .filter(|f| f.detection.alert_type == "policy_new_asset")
        .map(|f| f.detection.source.ip.clone())
        .collect();
    assert_eq!(assets, vec![Some("10.0.200.101".to_string())], "only the workstation is an asset");
}

#[test]
fn s7_jobs_sent_by_the_plc_belong_to_the_programming_connection() {
    let mut g = Gen::new();
    let pg = addr(HMI, 50000, 5);
    let plc = addr(PLC, 102, 9);
    let job = |f: u32| {
        Kind::App(AppMessage::new(Protocol::S7comm, Role::Request, f, Operation::ProgramDownload))
    };
    // Request download from the PG; the PLC pulls the block (Download block, Download ended).
    let obs = vec![
        g.obs(pg, plc, true, job(0x1a)),
        g.obs(plc, pg, false, job(0x1b)),
        g.obs(plc, pg, false, job(0x1c)),
    ];
    let found = run(&mut Engines::new(settings(Mode::Operational), builtin()), &obs);
    assert!(!found.is_empty());
    for f in &found {
        let d = &f.detection;
        assert_eq!(d.source.ip.as_deref(), Some(HMI), "{d:#?}");
        assert_eq!(d.destination.ip.as_deref(), Some(PLC), "{d:#?}");
    }
    assert_eq!(pairs(&found).len(), 1);
}

#[test]
fn a_malformed_bacnet_request_without_its_object_is_no_object_access() {
    let mut g = Gen::new();
    let hmi = addr(HMI, 47808, 5);
    let ctl = addr(PLC, 47808, 9);
    let mut cut = AppMessage::new(Protocol::Bacnet, Role::Request, 12, Operation::Read);
    cut.function_name = Some("readProperty");
    cut.anomalies.push("bacnet.service_malformed");
    let mut whole = cut;
    whole.anomalies = Default::default();
    whole.object =
        Some(otwatch_detect::observation::Object { class: 8, instance: Some(1), attribute: None });
    let mut udp = |m: AppMessage| {
        let mut o = g.obs(hmi, ctl, true, Kind::App(m));
        o.transport = Transport::Udp;
        o
    };
    let found =
        run(&mut Engines::new(settings(Mode::Operational), builtin()), &[udp(cut), udp(whole)]);
    let access: Vec<_> = found
        .iter()
        .filter(|f| f.detection.alert_type == "policy_bacnet_object_access")
        .map(|f| f.detection.key.get("object").cloned())
        .collect();
    assert_eq!(access, vec![Some("device".to_string())], "{found:#?}");
}
