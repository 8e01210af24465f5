//! Fuzz target for the configuration: any file, environment and flags give a config or every error, never a panic or a leaked secret.
//!
//! The input is split at the first NUL byte: before it, the TOML file
//! (written to tmpfs and loaded as `--config FILE`); after it, lines of
//! `KEY=VALUE`, each given both as an environment variable (`KEY` is taken
//! as written, so `OTWATCH_SERVER_LISTEN=…` reaches the setting) and, when
//! the key has a dot, as a `--set` flag. A secret is always passed too,
//! as `OTWATCH_SERVER_ADMIN_PASSWORD`: whatever else happens, it must not
//! appear in the `Debug` output of the config, in `config show` values or
//! in any error message.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use otwatch_config::{Config, Sources};

const SECRET: &str = "fuzz-secret-q8Zr4w";

fn path() -> &'static PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let dir = if std::path::Path::new("/dev/shm").is_dir() {
            PathBuf::from("/dev/shm")
        } else {
            std::env::temp_dir()
        };
        dir.join(format!("otwatch-fuzz-config-{}.toml", std::process::id()))
    })
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let (file, rest) = match data.iter().position(|b| *b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    if file.windows(SECRET.len()).any(|w| w == SECRET.as_bytes()) {
        return;
    }
    if std::fs::write(path(), file).is_err() {
        return;
    }
    let rest = String::from_utf8_lossy(rest);
    let mut env: Vec<(String, String)> = Vec::new();
    let mut flags = Vec::new();
    for line in rest.lines().take(16) {
        let Some((k, v)) = line.split_once('=') else { continue };
        if v.contains(SECRET) || k.contains(SECRET) {
            continue;
        }
        env.push((k.to_string(), v.to_string()));
        if k.contains('.') {
            flags.push((k.trim().to_string(), v.to_string(), format!("--set {}", k.trim())));
        }
    }
    if !env.iter().any(|(k, _)| k == "OTWATCH_SERVER_ADMIN_PASSWORD") {
        env.push(("OTWATCH_SERVER_ADMIN_PASSWORD".into(), SECRET.into()));
    }
    let lookup = |k: &str| env.iter().rev().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let sources = Sources { file: Some((path().clone(), true)), flags };
    match Config::load(&sources, &lookup) {
        Ok(c) => {
            let debug = format!("{c:?}");
            assert!(!debug.contains(SECRET), "the secret leaked into Debug: {debug}");
            for e in &c.effective {
                assert!(!e.value.contains(SECRET), "the secret leaked into {}", e.key);
            }
        }
        Err(errors) => {
            assert!(!errors.0.is_empty(), "an error without problems");
            let text = errors.to_string();
            assert!(!text.contains(SECRET), "the secret leaked into an error: {text}");
            let debug = format!("{errors:?}");
            assert!(!debug.contains(SECRET), "the secret leaked into an error: {debug}");
        }
    }
    let _ = Config::example();
});
