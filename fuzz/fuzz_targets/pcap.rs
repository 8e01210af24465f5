//! Fuzz target for the capture intake: any file must be read up to its damage, never panic.
//!
//! The input is written to a file (on tmpfs) and read as `otwatch sensor
//! --pcap` reads it: `MergedCaptures` (pcap or pcapng by magic number, both
//! byte orders, any timestamp resolution, several sections and interfaces),
//! then every packet goes through the summary pipeline and the observer
//! (decoding, flows, reassembly, every protocol handler) into the
//! inventory, which is flushed as the sensor flushes it. An odd first byte
//! merges the file with itself, so the merge order sees equal timestamps.
//! Checked: errors name the file, offsets lie inside it, the read position
//! never passes the end.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use otwatch_sensor::inventory::{Inventory, Placement};
use otwatch_sensor::observe::Observer;
use otwatch_sensor::{IntakeError, MergedCaptures, Pipeline};

fn path() -> &'static PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let dir = if std::path::Path::new("/dev/shm").is_dir() {
            PathBuf::from("/dev/shm")
        } else {
            std::env::temp_dir()
        };
        dir.join(format!("otwatch-fuzz-pcap-{}.cap", std::process::id()))
    })
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let p = path();
    if std::fs::write(p, data).is_err() {
        return;
    }
    let twice = data.first().is_some_and(|b| b & 1 == 1);
    let paths = if twice { vec![p.clone(), p.clone()] } else { vec![p.clone()] };
    let size = data.len() as u64;
    let mut input = match MergedCaptures::open(&paths) {
        Ok(i) => i,
        Err(e) => {
            check(&e, size);
            return;
        }
    };
    let mut summary = Pipeline::new(otwatch_sensor::summary::registry(), Default::default());
    let mut observer = Observer::new(Default::default());
    let mut inventory = Inventory::new(Placement {
        sensor: Some("fuzz".into()),
        site: Some("site".into()),
        zone: None,
        ot_subnets: Vec::new(),
    });
    let mut out = Vec::new();
    let mut n = 0u64;
    while let Some(pkt) = input.next_packet() {
        summary.process(&pkt);
        out.clear();
        observer.process(&pkt, &mut out);
        for o in &out {
            inventory.observe(o);
        }
        n += 1;
        if n % 64 == 0 {
            let batch = inventory.flush(false);
            let ids: Vec<i64> = (1..=batch.devices.len() as i64).collect();
            inventory.set_device_ids(&batch.device_handles, &ids);
            let _ = inventory.resolve_events(batch.events);
        }
    }
    assert!(input.position() <= size * paths.len() as u64);
    out.clear();
    observer.finish(&mut out);
    for o in &out {
        inventory.observe(o);
    }
    let batch = inventory.flush(true);
    let _ = inventory.resolve_events(batch.events);
    let _ = summary.finish();
    for e in input.take_errors() {
        check(&e, size);
    }
});

fn check(e: &IntakeError, size: u64) {
    let text = e.to_string();
    assert!(text.contains("otwatch-fuzz-pcap"), "the error names the file: {text}");
    match e {
        IntakeError::Corrupt { offset, .. } | IntakeError::Truncated { offset, .. } => {
            assert!(*offset <= size, "offset {offset} beyond the file ({size} bytes): {text}");
        }
        _ => {}
    }
}
