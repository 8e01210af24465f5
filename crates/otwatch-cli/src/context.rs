//! What every command needs: the loaded configuration, the store, the clock and the acting user.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context as _, Result};

use otwatch_config::{Config, Sources};
use otwatch_model::{Actor, Timestamp};
use otwatch_store::Store;
use otwatch_store_sqlite::SqliteStore;

/// Global options shared by every command.
#[derive(Clone, Debug, Default, clap::Args)]
pub struct GlobalOpts {
    /// Config file (TOML). Default: ./otwatch.toml if it exists.
    #[arg(long, global = true, env = "OTWATCH_CONFIG", value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Data directory (database and evidence). Overrides store.data_dir.
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Log format: text or json. Overrides log.format.
    #[arg(long, global = true, value_name = "FORMAT")]
    pub log_format: Option<String>,
    /// Log level or filter (error, warn, info, debug, trace). Overrides log.level.
    #[arg(long, global = true, value_name = "LEVEL")]
    pub log_level: Option<String>,
    /// Override any setting: --set section.name=value (repeatable).
    #[arg(long = "set", global = true, value_name = "KEY=VALUE")]
    pub set: Vec<String>,
}

impl GlobalOpts {
    /// Loads and validates the configuration from file, environment and flags.
    pub fn load_config(&self) -> Result<Config> {
        let file = match &self.config {
            Some(p) => Some((p.clone(), true)),
            None => Some((PathBuf::from("otwatch.toml"), false)),
        };
        let mut flags = Vec::new();
        for s in &self.set {
            let (k, v) = s.split_once('=').with_context(|| {
                format!("--set {s}: expected KEY=VALUE, e.g. --set server.listen=0.0.0.0:8080")
            })?;
            flags.push((k.trim().to_string(), v.to_string(), format!("--set {}", k.trim())));
        }
        if let Some(d) = &self.data_dir {
            flags.push(("store.data_dir".into(), d.display().to_string(), "--data-dir".into()));
        }
        if let Some(f) = &self.log_format {
            flags.push(("log.format".into(), f.clone(), "--log-format".into()));
        }
        if let Some(l) = &self.log_level {
            flags.push(("log.level".into(), l.clone(), "--log-level".into()));
        }
        let sources = Sources { file, flags };
        Config::load(&sources, &|k| std::env::var(k).ok()).map_err(anyhow::Error::new)
    }
}

/// A command's working context.
pub struct Ctx {
    /// Configuration.
    pub config: Config,
    /// The store.
    pub store: Arc<dyn Store>,
}

impl Ctx {
    /// Opens the store in the configured data directory.
    pub fn open(config: Config) -> Result<Ctx> {
        let store = SqliteStore::open_dir(&config.data_dir)
            .with_context(|| format!("opening the store in {}", config.data_dir.display()))?;
        if config.max_store_bytes > 0 {
            store.set_max_size(config.max_store_bytes)?;
        }
        tracing::debug!(message = "Store opened.", path = %store.path().display());
        Ok(Ctx { config, store: Arc::new(store) })
    }
}

/// Wall-clock now. Only the composition root reads the clock.
pub fn now() -> Timestamp {
    let d = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    Timestamp(d.as_micros() as i64)
}

/// The acting user of command-line changes: the OS user.
pub fn cli_actor() -> Actor {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "cli".into());
    Actor::cli(user)
}
