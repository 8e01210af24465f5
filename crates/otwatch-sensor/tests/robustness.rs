//! Robustness: mutated real frames through the whole pipeline (every handler) never panic.
//!
//! Not a replacement for the fuzz targets, but it runs on every `cargo test`:
//! frames of each public capture are truncated and bit-flipped with a fixed
//! pseudo-random sequence, interleaved with the originals (so flows and
//! reassembly carry state across good and bad frames), and processed to the
//! end, including the final flush of every flow.

use std::path::{Path, PathBuf};

use otwatch_sensor::intake::{CaptureFile, Packet};
use otwatch_sensor::pipeline::Pipeline;
use otwatch_sensor::summary::registry;

/// Frames taken from each capture.
const FRAMES_PER_CAPTURE: usize = 2000;

fn pcaps_dir() -> PathBuf {
    let dir = match std::env::var_os("OTWATCH_PCAPS") {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/pcaps"),
    };
    assert!(dir.is_dir(), "capture corpus not found at {} (set OTWATCH_PCAPS)", dir.display());
    dir
}

/// xorshift64*: a fixed, dependency-free pseudo-random sequence.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 { 0 } else { (self.next() % n as u64) as usize }
    }
}

#[test]
fn mutated_frames_never_panic_the_pipeline() {
    let mut files = Vec::new();
    let mut stack = vec![pcaps_dir()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if !p.to_string_lossy().ends_with(".json")
                && !p.to_string_lossy().ends_with(".md")
            {
                files.push(p);
            }
        }
    }
    files.sort();
    assert!(!files.is_empty());
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut total = 0u64;
    for path in &files {
        let Ok(mut cap) = CaptureFile::open(path, 0) else { continue };
        let mut pipeline = Pipeline::new(registry(), Default::default());
        let mut n = 0;
        while let Ok(Some(p)) = cap.next_packet() {
            if n == FRAMES_PER_CAPTURE {
                break;
            }
            n += 1;
            pipeline.process(&p);
            let mut bytes = p.data.to_vec();
            // Flip a few bytes past the link header, where the protocols are.
            for _ in 0..1 + rng.below(4) {
                let i = rng.below(bytes.len());
                if let Some(b) = bytes.get_mut(i) {
                    *b ^= 1 << rng.below(8);
                }
            }
            let cut = rng.below(bytes.len() + 1);
            for data in [&bytes[..], &bytes[..cut]] {
                let m = Packet { data, ..p };
                pipeline.process(&m);
            }
        }
        total += pipeline.frames();
        let _ = pipeline.finish();
    }
    assert!(total > 10_000, "only {total} frames processed");
}
