//! `otwatch bench-stage` (hidden): one stage of the sensor pipeline over capture files, for `cargo xtask bench`.
//!
//! The benchmark harness times whole processes from outside (wall time,
//! CPU time, peak memory) and compares them with other tools run the same
//! way; this command lets it stop the sensor's own path after a given
//! stage. Every stage runs the production code up to that point:
//!
//! - `read`: the capture intake (pcap/pcapng records, merged in time order);
//! - `decode`: intake and L2–L4 decoding (`otwatch-wire`);
//! - `observe`: intake, decoding, the flow table, TCP reassembly, the
//!   protocol dissectors and the observations (the sensor's observe layer);
//! - `pipeline`: the whole `otwatch sensor` run (observations, inventory,
//!   detection) built exactly as `otwatch sensor` builds it, with the store
//!   writes left out.
//!
//! The full run with the store is `otwatch sensor --pcap` itself.

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Result, bail};

use otwatch_sensor::MergedCaptures;
use otwatch_sensor::observe::Observer;
use otwatch_sensor::run::{BatchPolicy, run_files};

use crate::context::Ctx;
use crate::sensor;

/// Where the sensor's path stops.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Stage {
    /// Capture intake only.
    Read,
    /// Intake and L2–L4 decoding.
    Decode,
    /// Decoding, flows, reassembly, dissectors and observations.
    Observe,
    /// The whole sensor run without store writes.
    Pipeline,
}

/// `otwatch bench-stage` arguments.
#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// The stage to stop after.
    #[arg(long, value_enum)]
    pub stage: Stage,
    /// Capture files (pcap or pcapng), merged in time order.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
}

/// Runs one stage and prints a JSON line: stage, packets, bytes, seconds.
pub fn run(config: otwatch_config::Config, a: &BenchArgs, out: &mut dyn Write) -> Result<()> {
    for p in &a.files {
        if !p.is_file() {
            bail!("{}: no such capture file", p.display());
        }
    }
    let started = Instant::now();
    let (packets, bytes, observations) = match a.stage {
        Stage::Read | Stage::Decode | Stage::Observe => {
            let mut input = MergedCaptures::open(&a.files)?;
            let mut decoder = otwatch_wire::Decoder::new();
            let mut observer = Observer::new(Default::default());
            let mut buf = Vec::with_capacity(256);
            let (mut packets, mut bytes, mut observations) = (0u64, 0u64, 0u64);
            while let Some(pkt) = input.next_packet() {
                packets += 1;
                bytes += u64::from(pkt.orig_len);
                match a.stage {
                    Stage::Read => {
                        std::hint::black_box(pkt.data);
                    }
                    Stage::Decode => {
                        let frame = decoder.decode(pkt.link_type, pkt.data, pkt.ts_ns);
                        std::hint::black_box(&frame);
                    }
                    _ => {
                        buf.clear();
                        observer.process(&pkt, &mut buf);
                        observations += buf.len() as u64;
                    }
                }
            }
            if let Some(e) = input.take_errors().into_iter().next() {
                bail!(e);
            }
            if a.stage == Stage::Observe {
                buf.clear();
                observer.finish(&mut buf);
                observations += buf.len() as u64;
            }
            (packets, bytes, observations)
        }
        Stage::Pipeline => {
            let ctx = Ctx::open(config)?;
            let choice = sensor::DetectChoice::default();
            let run =
                sensor::build_run(&ctx, sensor::options(&ctx, BatchPolicy::FILES, None), &choice)?
                    .without_writes();
            let (report, damage) = run_files(run, &a.files, false)?;
            if let Some(e) = damage.into_iter().next() {
                bail!(e);
            }
            (report.packets, report.bytes, report.observations)
        }
    };
    let seconds = started.elapsed().as_secs_f64();
    let stage = format!("{:?}", a.stage).to_lowercase();
    let v = serde_json::json!({
        "stage": stage,
        "packets": packets,
        "bytes": bytes,
        "observations": observations,
        "seconds": seconds,
    });
    writeln!(out, "{v}")?;
    Ok(())
}
