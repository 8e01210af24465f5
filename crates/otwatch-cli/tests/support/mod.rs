//! Helpers shared by the end-to-end tests that run the `otwatch` binary on a data directory.

use std::path::Path;
use std::process::{Command, Output};

/// Runs `otwatch --data-dir DIR ARGS…` in DIR, without the caller's config file or log filter.
pub fn otwatch(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_otwatch"))
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .env_remove("OTWATCH_CONFIG")
        .env_remove("RUST_LOG")
        .current_dir(dir)
        .output()
        .expect("run otwatch")
}

/// [`otwatch`] that must succeed; its standard output.
pub fn ok(dir: &Path, args: &[&str]) -> String {
    let o = otwatch(dir, args);
    assert!(
        o.status.success(),
        "otwatch {args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// [`ok`] whose output is JSON.
pub fn json(dir: &Path, args: &[&str]) -> serde_json::Value {
    let text = ok(dir, args);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
}
