//! The decode path allocates nothing per packet: a counting global allocator over every public capture.
//!
//! The capture intake (`MergedCaptures`) and the L2–L4 decoder
//! (`otwatch_wire::Decoder`) read packets from a reused window and borrow
//! them; after opening a file, the only allocations allowed are the few
//! that grow a reused buffer to the largest record seen (a handful per
//! file, whatever its length). The test counts every allocation the loop
//! makes and checks that the count does not grow with the packets. It
//! also prints what the next layers (flows, reassembly, dissectors,
//! observations) allocate per packet, for `BENCHMARKS.md`; that figure is
//! reported, not checked.

use std::alloc::System;
use std::path::{Path, PathBuf};

use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

use otwatch_sensor::MergedCaptures;
use otwatch_sensor::observe::Observer;

/// Counts every allocation (the crate forbids `unsafe`, so the counting
/// allocator comes from `stats_alloc`).
#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Allocations a file's loop may make whatever its length (buffer growth).
const PER_FILE_BUDGET: u64 = 16;

fn corpus() -> PathBuf {
    let dir = match std::env::var_os("OTWATCH_PCAPS") {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/pcaps"),
    };
    assert!(
        dir.is_dir(),
        "capture corpus not found at {} (set OTWATCH_PCAPS to the shared/pcaps directory)",
        dir.display()
    );
    dir
}

fn captures(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "pcap" || x == "pcapng" || x == "cap") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// Runs `per_packet` over every packet of `file`, counting the loop's allocations: (packets, allocations).
fn count(file: &Path, mut per_packet: impl FnMut(&otwatch_sensor::Packet<'_>)) -> (u64, u64) {
    let Ok(mut input) = MergedCaptures::open(&[file.to_path_buf()]) else { return (0, 0) };
    let mut packets = 0u64;
    let region = Region::new(GLOBAL);
    while let Some(pkt) = input.next_packet() {
        packets += 1;
        per_packet(&pkt);
    }
    let stats = region.change();
    (packets, (stats.allocations + stats.reallocations) as u64)
}

#[test]
fn intake_and_decode_allocate_nothing_per_packet() {
    let files = captures(&corpus());
    assert!(!files.is_empty());
    let (mut total_packets, mut total_allocs, mut obs_packets, mut obs_allocs) = (0, 0, 0, 0);
    let mut worst = (0u64, PathBuf::new());
    for f in &files {
        let mut decoder = otwatch_wire::Decoder::new();
        let (packets, allocs) = count(f, |pkt| {
            let frame = decoder.decode(pkt.link_type, pkt.data, pkt.ts_ns);
            std::hint::black_box(&frame);
        });
        if allocs > worst.0 {
            worst = (allocs, f.clone());
        }
        assert!(
            allocs <= PER_FILE_BUDGET,
            "{}: {allocs} allocations over {packets} packets in intake + decode (budget {PER_FILE_BUDGET} per file)",
            f.display()
        );
        total_packets += packets;
        total_allocs += allocs;

        let mut observer = Observer::new(Default::default());
        let mut buf = Vec::with_capacity(256);
        let (p, a) = count(f, |pkt| {
            buf.clear();
            observer.process(pkt, &mut buf);
        });
        obs_packets += p;
        obs_allocs += a;
    }
    assert!(total_packets > 10_000, "too few packets to show anything: {total_packets}");
    eprintln!(
        "intake + decode: {total_allocs} allocations over {total_packets} packets in {} files \
         (most in one file: {} in {})",
        files.len(),
        worst.0,
        worst.1.display()
    );
    eprintln!(
        "intake + decode + observe: {obs_allocs} allocations over {obs_packets} packets \
         ({:.3} per packet; reported, not checked)",
        obs_allocs as f64 / obs_packets.max(1) as f64
    );
}
