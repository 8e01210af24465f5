//! Minimal driver for working on the simulator without building the whole `otwatch` binary:
//! `cargo run -p otwatch-sim --example simulate -- OUT.pcap [SECONDS] [DEVICES] [SCENARIO@SECONDS…]`.

use std::io::BufWriter;

use otwatch_sim::{Options, Scenario, ScenarioRun, generate};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let out = args.first().expect("usage: simulate OUT [SECONDS] [DEVICES] [SCENARIO@SECONDS...]");
    let secs: u64 = args.get(1).map_or(120, |s| s.parse().expect("seconds"));
    let devices: u32 = args.get(2).map_or(24, |s| s.parse().expect("devices"));
    let scenarios = args
        .iter()
        .skip(3)
        .map(|a| {
            let (name, at) = a.split_once('@').unwrap_or((a, "30"));
            ScenarioRun {
                scenario: Scenario::parse(name).expect("scenario"),
                offset_us: at.parse::<u64>().expect("offset") * 1_000_000,
            }
        })
        .collect();
    let opts =
        Options { duration_us: Some(secs * 1_000_000), devices, scenarios, ..Options::default() };
    let f = std::fs::File::create(out).expect("create");
    let (m, _) = generate(&opts, BufWriter::new(f)).expect("generate");
    std::fs::write(format!("{out}.manifest.json"), serde_json::to_string_pretty(&m).unwrap())
        .unwrap();
    eprintln!("{} packets, {} bytes", m.packets, m.file_bytes);
}
