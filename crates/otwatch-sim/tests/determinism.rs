//! The simulator's promises that need no outside tool: the same options give the same bytes,
//! scenarios that only add traffic leave the plant's own frames untouched, size limits and
//! both file formats hold, and every scenario's expected alerts name real catalogue types.

use std::collections::BTreeMap;
use std::io::Cursor;

use otwatch_sim::{Format, Options, Plant, Scenario, ScenarioRun, generate};
use pcap_file::pcap::PcapReader;
use pcap_file::pcapng::{Block, PcapNgReader};

const SEC: u64 = 1_000_000;

fn run(opts: &Options) -> (otwatch_sim::Manifest, Vec<u8>) {
    generate(opts, Vec::new()).unwrap()
}

/// (time, bytes) of every frame of a classic pcap file.
fn frames(bytes: &[u8]) -> Vec<(u128, Vec<u8>)> {
    let mut r = PcapReader::new(Cursor::new(bytes)).unwrap();
    let mut out = Vec::new();
    while let Some(p) = r.next_packet() {
        let p = p.unwrap();
        out.push((p.timestamp.as_micros(), p.data.into_owned()));
    }
    out
}

#[test]
fn same_options_same_bytes() {
    let opts = Options { duration_us: Some(60 * SEC), devices: 30, ..Options::default() };
    let (m1, a) = run(&opts);
    let (m2, b) = run(&opts);
    assert_eq!(a, b);
    assert_eq!(m1.truth, m2.truth);
    let (_, c) = run(&Options { seed: 2, ..opts.clone() });
    assert_ne!(a, c, "another seed gives another capture");
    let ng = Options { format: Format::Pcapng, ..opts };
    assert_eq!(run(&ng).1, run(&ng).1);
}

#[test]
fn the_manifest_counts_what_was_written() {
    let opts = Options { duration_us: Some(90 * SEC), ..Options::default() };
    let (m, bytes) = run(&opts);
    let fs = frames(&bytes);
    assert_eq!(fs.len() as u64, m.packets);
    assert_eq!(bytes.len() as u64, m.file_bytes);
    assert_eq!(fs.iter().map(|(_, d)| d.len() as u64).sum::<u64>(), m.wire_bytes);
    assert!(fs.windows(2).all(|w| w[0].0 <= w[1].0), "frames are in time order");
    let start = u128::from(opts.start_us);
    assert!(fs.first().unwrap().0 >= start && fs.last().unwrap().0 < start + 90 * u128::from(SEC));
    assert_eq!(m.truth["capture"]["packets"], m.packets);
}

#[test]
fn additive_scenarios_leave_the_plant_untouched() {
    let base = Options { duration_us: Some(130 * SEC), ..Options::default() };
    let (_, clean) = run(&base);
    let clean = frames(&clean);
    for s in Scenario::ALL.into_iter().filter(|s| !s.intrusive()) {
        let opts = Options {
            scenarios: vec![ScenarioRun { scenario: s, offset_us: 20 * SEC }],
            ..base.clone()
        };
        let (m, bytes) = run(&opts);
        let with = frames(&bytes);
        let mut count: BTreeMap<&(u128, Vec<u8>), i64> = BTreeMap::new();
        for f in &with {
            *count.entry(f).or_default() += 1;
        }
        for f in &clean {
            let c = count.entry(f).or_default();
            *c -= 1;
            assert!(*c >= 0, "{}: a plant frame at {} changed or disappeared", s.name(), f.0);
        }
        let added: i64 = count.values().sum();
        assert!(added > 0, "{} added nothing", s.name());
        assert_eq!(with.len() as i64, clean.len() as i64 + added);
        assert!(!m.scenarios[0].expected_alerts.is_empty());
    }
}

#[test]
fn a_size_limit_ends_the_file_near_it() {
    let opts = Options { duration_us: None, size_limit: Some(3_000_000), ..Options::default() };
    let (m, bytes) = run(&opts);
    assert!(m.stopped_by_size);
    assert!(bytes.len() >= 3_000_000 && bytes.len() < 3_000_000 + 2_000, "{} bytes", bytes.len());
    assert_eq!(frames(&bytes).len() as u64, m.packets);
    let ng = Options { format: Format::Pcapng, ..opts };
    let (m, bytes) = run(&ng);
    assert!(bytes.len() >= 3_000_000 && bytes.len() < 3_000_000 + 2_000, "{} bytes", bytes.len());
    let mut r = PcapNgReader::new(Cursor::new(&bytes[..])).unwrap();
    let mut n = 0;
    while let Some(b) = r.next_block() {
        if let Block::EnhancedPacket(_) = b.unwrap() {
            n += 1;
        }
    }
    assert_eq!(n, m.packets);
}

#[test]
fn scenario_offsets_must_fit_the_capture() {
    let opts = Options {
        duration_us: Some(60 * SEC),
        scenarios: vec![ScenarioRun { scenario: Scenario::DeviceSilent, offset_us: 30 * SEC }],
        ..Options::default()
    };
    let e = generate(&opts, Vec::new()).unwrap_err().to_string();
    assert!(e.contains("device-silent") && e.contains("needs 120 s"), "{e}");
}

#[test]
fn device_counts_scale_sites_and_zones() {
    for (n, sites) in [(6, 1), (12, 1), (24, 2), (100, 9)] {
        let p = Plant::build(1, n);
        assert_eq!(p.sites.len(), sites, "{n} devices");
    }
    let (m, _) = run(&Options { duration_us: Some(20 * SEC), devices: 100, ..Options::default() });
    assert!(m.devices.len() > 100);
    assert!(otwatch_sim::devices_for_rate(1, 2000.0) > otwatch_sim::devices_for_rate(1, 200.0));
}

#[test]
fn expected_alerts_are_in_the_manifest_and_the_catalogue() {
    let cat = otwatch_model::catalog::builtin();
    let runs: Vec<ScenarioRun> = Scenario::ALL
        .iter()
        .enumerate()
        .map(|(i, s)| ScenarioRun { scenario: *s, offset_us: (30 + 300 * i as u64) * SEC })
        .collect();
    let opts = Options { duration_us: Some(4200 * SEC), scenarios: runs, ..Options::default() };
    let (m, _) = run(&opts);
    assert_eq!(m.scenarios.len(), Scenario::ALL.len());
    for s in &m.scenarios {
        for a in s.expected_alerts.iter().chain(&s.expected_if_enabled) {
            assert!(cat.get(a.alert_type).is_some(), "{}: {}", s.name, a.alert_type);
        }
    }
    assert_eq!(m.indicator_feed.len(), 3);
    assert!(m.feed_text().contains("203.0.113.66\n"));
    assert!(m.devices.iter().any(|d| d.added_by_scenario.as_deref() == Some("plc-scan")));
}
