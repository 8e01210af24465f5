//! Measures pipeline throughput: reads captures several times through the full pipeline.
//!
//! Usage: `cargo run --release -p otwatch-sensor --example throughput -- ROUNDS FILE...`
//! Prints packets/s and MB/s (of capture file bytes) and the peak resident memory.

use std::path::PathBuf;
use std::time::Instant;

use otwatch_sensor::intake::MergedCaptures;
use otwatch_sensor::pipeline::Pipeline;
use otwatch_sensor::summary::registry;

fn peak_rss_kib() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn main() {
    let mut args = std::env::args().skip(1);
    let rounds: u32 = args.next().and_then(|a| a.parse().ok()).unwrap_or(10);
    let paths: Vec<PathBuf> = args.map(PathBuf::from).collect();
    let (mut packets, mut bytes) = (0u64, 0u64);
    let start = Instant::now();
    for _ in 0..rounds {
        let mut input = match MergedCaptures::open(&paths) {
            Ok(i) => i,
            Err(e) => {
                eprintln!("error: {e}");
                std::process::exit(1);
            }
        };
        bytes += input.total_size();
        let mut p = Pipeline::new(registry(), Default::default());
        while let Some(pkt) = input.next_packet() {
            p.process(&pkt);
        }
        packets += p.frames();
        let _ = p.finish();
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{rounds} rounds, {packets} packets, {:.1} MB in {secs:.3} s: {:.0} packets/s, {:.1} MB/s; peak RSS {} KiB",
        bytes as f64 / 1e6,
        packets as f64 / secs,
        bytes as f64 / 1e6 / secs,
        peak_rss_kib().map_or_else(|| "?".to_owned(), |k| k.to_string())
    );
}
