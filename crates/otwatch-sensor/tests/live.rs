//! Live capture for real: capture on the loopback interface while tcpreplay replays a public capture onto it.
//!
//! Needs the `live` feature (libpcap-dev), root or CAP_NET_RAW, and
//! tcpreplay (`apt-get install tcpreplay`); it fails loudly without them.
#![cfg(feature = "live")]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use otwatch_sensor::live::LiveCapture;
use otwatch_sensor::pipeline::Pipeline;
use otwatch_sensor::summary::registry;

fn pcaps_dir() -> PathBuf {
    let dir = match std::env::var_os("OTWATCH_PCAPS") {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/pcaps"),
    };
    assert!(dir.is_dir(), "capture corpus not found at {} (set OTWATCH_PCAPS)", dir.display());
    dir
}

#[test]
fn captures_a_replayed_capture_on_loopback() {
    let file = pcaps_dir().join("modbus/modbusSmall.pcap");
    // Every packet of this capture is to or from this address; nothing else on lo is.
    let mut cap = LiveCapture::open("lo", Some("host 118.189.96.132"))
        .expect("open lo (root and libpcap needed)");
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    let worker = std::thread::spawn(move || {
        let mut pipeline = Pipeline::new(registry(), Default::default());
        let n = cap.run(&flag, |p| pipeline.process(p)).expect("capture");
        (n, pipeline)
    });
    std::thread::sleep(Duration::from_millis(300));
    let status = Command::new("tcpreplay")
        .args(["--intf1=lo", "--topspeed", "--quiet"])
        .arg(&file)
        .status()
        .expect("run tcpreplay (apt-get install tcpreplay)");
    assert!(status.success(), "tcpreplay failed: {status}");
    std::thread::sleep(Duration::from_millis(1000));
    stop.store(true, Ordering::Relaxed);
    let (n, pipeline) = worker.join().unwrap();
    assert_eq!(n, 166, "packets captured");
    assert_eq!(pipeline.generic().packets(), 166);
    // The Modbus sessions became flows in the table.
    assert!(pipeline.flows().stats().created >= 16, "{:?}", pipeline.flows().stats());
}
