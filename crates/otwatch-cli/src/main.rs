//! The `otwatch` command: one program for the sensor, the console and every tool around them.
//!
//! This crate is the composition root: it reads the configuration, picks the
//! store backend (SQLite, the embedded default), and calls the library crates.
//! It is the only crate that reads the wall clock or uses `anyhow`.

mod admin;
mod alerts;
mod baseline;
mod bench;
mod context;
mod db;
mod demo;
mod detection;
mod generate;
mod hunt;
mod ingest;
mod inventory;
mod logging;
mod output;
mod sensor;
mod simulate;

use std::io::{BufReader, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, Result};
use clap::{Parser, Subcommand};

use otwatch_model::lifecycle::Action;
use otwatch_model::{Engine, catalog};

use context::{Ctx, GlobalOpts};
use output::{Format, table};

/// otwatch — a self-hosted security monitor for OT and IoT networks.
///
/// It reads industrial traffic, keeps a device inventory, raises alerts and
/// lets you triage them. Every command that touches stored data takes
/// --data-dir DIR (or OTWATCH_DATA_DIR). Start with `otwatch gen-alerts |
/// otwatch ingest -` and `otwatch alerts list`.
#[derive(Debug, Parser)]
#[command(name = "otwatch", version, about, long_about, max_term_width = 100)]
struct Cli {
    #[command(flatten)]
    global: GlobalOpts,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
#[allow(clippy::large_enum_variant)] // parsed once per process
enum Command {
    /// List, inspect, triage and export alerts.
    #[command(subcommand)]
    Alerts(AlertsCmd),
    /// Print the catalogue of alert types otwatch can raise.
    Catalog {
        /// table or json.
        #[arg(long, value_enum, default_value_t = CatalogFormat::Table)]
        format: CatalogFormat,
        /// Only this engine.
        #[arg(long)]
        engine: Option<String>,
    },
    /// Store alerts from an external source: JSON Lines from FILE, or - for standard input.
    ///
    /// One detection per line, e.g.
    /// {"type":"policy_new_asset","time":"2024-03-02T10:00:00Z","source":{"ip":"10.0.0.5"}}.
    /// The schema is in docs/ingest.md. Bad lines are reported with their line
    /// number and skipped; good lines are stored. Re-sending the same lines changes nothing.
    Ingest {
        /// Input file, or - for standard input.
        input: String,
        /// Print the summary as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Write synthetic detections (JSON Lines) for trying otwatch out and load tests.
    GenAlerts(generate::GenArgs),
    /// Write a capture of a simulated plant (optionally with attack scenarios); see docs/simulator.md.
    Simulate(simulate::SimulateArgs),
    /// Check and show the configuration.
    #[command(subcommand)]
    Config(ConfigCmd),
    /// Run the console (REST API) on the data directory until Ctrl-C.
    ///
    /// On first start it creates the user `admin` and prints its password once
    /// (or takes it from OTWATCH_ADMIN_PASSWORD / server.admin_password).
    Serve {
        /// Listen address (overrides server.listen), e.g. 0.0.0.0:8080.
        #[arg(long)]
        listen: Option<String>,
    },
    /// Read captures (--pcap FILE...) or a live interface (--interface IF): inventory and alerts.
    ///
    /// Decodes the traffic, keeps the device inventory (devices, connections,
    /// timeline events) and runs the five detection engines and the custom
    /// rules; alerts go to the store with their PCAP evidence. A new sensor
    /// learns its baseline for sensor.learning_period, then operates (--mode
    /// overrides). Writes are batched; re-running the same files adds no
    /// counts twice. See docs/detection.md.
    Sensor(sensor::SensorArgs),
    /// List the device inventory.
    #[command(subcommand)]
    Devices(inventory::DevicesCmd),
    /// List connections between devices.
    #[command(subcommand)]
    Connections(inventory::ConnectionsCmd),
    /// Work with capture files.
    #[command(subcommand)]
    Pcap(sensor::PcapCmd),
    /// Manage console users (argon2-hashed passwords; roles viewer, analyst, admin).
    #[command(subcommand)]
    Users(admin::UsersCmd),
    /// Manage API tokens for scripts and sensors (stored hashed; shown once).
    #[command(subcommand)]
    Tokens(admin::TokensCmd),
    /// Hunt with KQL over the tables Alerts, Devices (DeviceInfo), Connections and Events.
    ///
    /// Example: otwatch hunt 'Alerts | where Severity == "Critical" | summarize count() by Engine'.
    /// The language is documented in docs/hunting.md. Use - to read the query from standard input.
    Hunt {
        /// The query, or - for standard input.
        query: String,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
        /// Most rows (capped by hunt.row_limit).
        #[arg(long)]
        limit: Option<usize>,
    },
    /// Back up, restore, check and trim the data directory.
    #[command(subcommand)]
    Db(db::DbCmd),
    /// Export, import and summarise the learned baseline.
    #[command(subcommand)]
    Baseline(baseline::BaselineCmd),
    /// A simulated plant under attack, watched live in the console.
    Demo(demo::DemoArgs),
    /// One stage of the sensor pipeline over captures, timed (for `cargo xtask bench`).
    #[command(hide = true)]
    BenchStage(bench::BenchArgs),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum CatalogFormat {
    Table,
    Json,
}

#[derive(Debug, Subcommand)]
enum ConfigCmd {
    /// Validate the configuration (file, environment, flags); report every problem.
    Check,
    /// Print the effective settings and where each came from (secrets redacted).
    Show,
    /// Print a documented example configuration file with every setting.
    Example,
}

#[derive(Debug, Subcommand)]
enum AlertsCmd {
    /// List alerts (newest last detection first), or count them per value with --group-by.
    List(alerts::ListArgs),
    /// Show one alert with its description, MITRE ATT&CK links, remediation, comments and history.
    Show {
        /// Alert id.
        id: i64,
        /// text or json.
        #[arg(long, value_enum, default_value_t = ShowFormat::Text)]
        format: ShowFormat,
    },
    /// Change the status and/or severity of one or more alerts.
    Set {
        /// New status: New, Active or Closed.
        #[arg(long)]
        status: Option<String>,
        /// New severity: Critical, Major, Minor, Warning (or High, Medium, Low).
        #[arg(long)]
        severity: Option<String>,
        /// Alert ids.
        #[arg(required = true)]
        ids: Vec<i64>,
    },
    /// Close alerts and add their traffic to the baseline (no more alerts for it).
    Learn {
        /// Alert ids.
        #[arg(required = true)]
        ids: Vec<i64>,
    },
    /// Close alerts and suppress their traffic without learning it.
    Mute {
        /// Alert ids.
        #[arg(required = true)]
        ids: Vec<i64>,
    },
    /// Remove learned alerts' traffic from the baseline; it alerts again next time.
    Unlearn {
        /// Alert ids.
        #[arg(required = true)]
        ids: Vec<i64>,
    },
    /// Lift the suppression of muted alerts; the traffic alerts again next time.
    Unmute {
        /// Alert ids.
        #[arg(required = true)]
        ids: Vec<i64>,
    },
    /// Add a comment to an alert.
    Comment {
        /// Alert id.
        id: i64,
        /// The comment.
        text: String,
    },
    /// Export every matching alert (CSV by default), streaming.
    Export(alerts::ExportArgs),
    /// Same-type alerts from many devices, grouped per aggregation period.
    Aggregated {
        #[command(flatten)]
        filter: alerts::FilterArgs,
        /// Aggregation period.
        #[arg(long, default_value = "1d")]
        period: String,
        /// table or json.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Close open alerts whose traffic has been quiet longer than lifecycle.auto_close_after.
    AutoClose,
    /// Write an alert's PCAP evidence (triggering packets and some around them).
    Pcap {
        /// Alert id.
        id: i64,
        /// File to write (default: standard output, when it is not a terminal).
        #[arg(long, short = 'o', value_name = "FILE")]
        out: Option<PathBuf>,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum ShowFormat {
    Text,
    Json,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            if is_broken_pipe(&e) {
                return ExitCode::SUCCESS;
            }
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .map(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            .unwrap_or(false)
    })
}

fn run(cli: Cli) -> Result<ExitCode> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    // Commands that must work with a broken configuration come first.
    if let Command::Config(ConfigCmd::Example) = cli.command {
        write!(out, "{}", otwatch_config::Config::example())?;
        return Ok(ExitCode::SUCCESS);
    }
    if let Command::Config(ConfigCmd::Check) = cli.command {
        return match cli.global.load_config() {
            Ok(c) => {
                let file = c.effective.iter().find_map(|e| match &e.origin {
                    otwatch_config::Origin::File { path, .. } => Some(path.clone()),
                    _ => None,
                });
                writeln!(
                    out,
                    "configuration OK ({})",
                    file.map(|f| format!("file {f}"))
                        .unwrap_or_else(|| "defaults, environment and flags".into())
                )?;
                Ok(ExitCode::SUCCESS)
            }
            Err(e) => {
                eprint!("{e}");
                Ok(ExitCode::FAILURE)
            }
        };
    }
    let mut global = cli.global.clone();
    if let Command::Serve { listen: Some(l) } = &cli.command {
        global.set.push(format!("server.listen={l}"));
    }
    let mut demo_setup = None;
    if let Command::Demo(a) = &cli.command {
        demo_setup = Some(demo::prepare(&mut global, a)?);
    }
    let config = match global.load_config() {
        Ok(c) => c,
        Err(e) => {
            eprint!("{e}");
            return Ok(ExitCode::FAILURE);
        }
    };
    logging::init(&config.log_level, config.log_format)?;
    match cli.command {
        Command::Config(ConfigCmd::Show) => {
            let rows: Vec<Vec<String>> = config
                .effective
                .iter()
                .map(|e| vec![e.key.to_string(), e.value.clone(), e.origin.to_string()])
                .collect();
            table(&mut out, &["setting", "value", "from"], &rows)?;
            writeln!(out, "data directory: {}", config.data_dir.display())?;
        }
        Command::Config(_) => {}
        Command::Catalog { format, engine } => {
            let cat = catalog::builtin();
            let engine = engine.as_deref().map(Engine::parse).transpose()?;
            let types: Vec<_> =
                cat.types().iter().filter(|t| engine.is_none_or(|e| t.engine == e)).collect();
            match format {
                CatalogFormat::Json => writeln!(out, "{}", serde_json::to_string_pretty(&types)?)?,
                CatalogFormat::Table => {
                    let rows: Vec<Vec<String>> = types
                        .iter()
                        .map(|t| {
                            vec![
                                t.id.clone(),
                                t.engine.to_string(),
                                t.severity.to_string(),
                                t.name.clone(),
                                t.category.to_string(),
                                format!(
                                    "{}{}",
                                    if t.learnable { "L" } else { "-" },
                                    if t.mutable { "M" } else { "-" }
                                ),
                                if t.enabled { "on".into() } else { "off".into() },
                            ]
                        })
                        .collect();
                    table(
                        &mut out,
                        &["id", "engine", "severity", "name", "category", "learn/mute", "default"],
                        &rows,
                    )?;
                    writeln!(out, "{} alert types", types.len())?;
                }
            }
        }
        Command::GenAlerts(a) => generate::run(&a, &mut out)?,
        Command::BenchStage(a) => bench::run(config, &a, &mut out)?,
        Command::Simulate(a) => simulate::run(&a, &mut out)?,
        Command::Sensor(a) => {
            if !sensor::run(&Ctx::open(config)?, &a, &mut out)? {
                out.flush()?;
                return Ok(ExitCode::FAILURE);
            }
        }
        Command::Devices(inventory::DevicesCmd::List(a)) => {
            inventory::devices(&Ctx::open(config)?, &a, &mut out)?
        }
        Command::Connections(inventory::ConnectionsCmd::List(a)) => {
            inventory::connections(&Ctx::open(config)?, &a, &mut out)?
        }
        Command::Pcap(cmd) => {
            if !sensor::pcap(&cmd, &mut out)? {
                out.flush()?;
                return Ok(ExitCode::FAILURE);
            }
        }
        Command::Serve { .. } => admin::serve(Ctx::open(config)?, &mut out)?,
        Command::Users(cmd) => admin::users(&Ctx::open(config)?, cmd, &mut out)?,
        Command::Tokens(cmd) => admin::tokens(&Ctx::open(config)?, cmd, &mut out)?,
        Command::Hunt { query, format, limit } => {
            let ctx = Ctx::open(config)?;
            let stderr = std::io::stderr();
            if !hunt::command(&ctx, &query, format, limit, &mut out, &mut stderr.lock())? {
                return Ok(ExitCode::FAILURE);
            }
        }
        Command::Baseline(cmd) => {
            if !baseline::run(&Ctx::open(config)?, &cmd, &mut out)? {
                out.flush()?;
                return Ok(ExitCode::FAILURE);
            }
        }
        Command::Demo(a) => {
            let setup = demo_setup.take().context("demo set-up missing")?;
            demo::run(config, &a, setup)?
        }
        Command::Db(cmd) => {
            if !db::run(config, cmd, &mut out)? {
                return Ok(ExitCode::FAILURE);
            }
        }
        Command::Ingest { input, json } => {
            let ctx = Ctx::open(config)?;
            let stderr = std::io::stderr();
            let mut err = stderr.lock();
            let summary = if input == "-" {
                let stdin = std::io::stdin();
                let mut lock = stdin.lock();
                ingest::run(&ctx, &mut lock, &mut err)?
            } else {
                let f = std::fs::File::open(PathBuf::from(&input))
                    .with_context(|| format!("opening {input}"))?;
                ingest::run(&ctx, &mut BufReader::with_capacity(1 << 20, f), &mut err)?
            };
            if json {
                writeln!(out, "{}", serde_json::to_string_pretty(&summary.to_json())?)?;
            } else {
                ingest::print(&summary, &mut out)?;
            }
            if !summary.rejected.is_empty() {
                return Ok(ExitCode::FAILURE);
            }
        }
        Command::Alerts(cmd) => {
            let ctx = Ctx::open(config)?;
            let ok = match cmd {
                AlertsCmd::List(a) => {
                    alerts::list(&ctx, &a, &mut out)?;
                    true
                }
                AlertsCmd::Show { id, format } => {
                    alerts::show(&ctx, id, format == ShowFormat::Json, &mut out)?;
                    true
                }
                AlertsCmd::Set { status, severity, ids } => {
                    let actions = alerts::set_actions(status.as_deref(), severity.as_deref())?;
                    alerts::act(&ctx, &ids, &actions, &mut out)?
                }
                AlertsCmd::Learn { ids } => alerts::act(&ctx, &ids, &[Action::Learn], &mut out)?,
                AlertsCmd::Mute { ids } => alerts::act(&ctx, &ids, &[Action::Mute], &mut out)?,
                AlertsCmd::Unlearn { ids } => {
                    alerts::act(&ctx, &ids, &[Action::Unlearn], &mut out)?
                }
                AlertsCmd::Unmute { ids } => alerts::act(&ctx, &ids, &[Action::Unmute], &mut out)?,
                AlertsCmd::Comment { id, text } => {
                    alerts::act(&ctx, &[id], &[Action::Comment(text)], &mut out)?
                }
                AlertsCmd::Export(a) => {
                    let n = alerts::export(&ctx, &a, &mut out)?;
                    if a.output.is_some() {
                        writeln!(out, "exported {n} alerts")?;
                    }
                    true
                }
                AlertsCmd::Aggregated { filter, period, format } => {
                    alerts::aggregated(&ctx, &filter, &period, format, &mut out)?;
                    true
                }
                AlertsCmd::Pcap { id, out: file } => {
                    alerts::pcap(&ctx, id, file.as_deref(), &mut out)?;
                    true
                }
                AlertsCmd::AutoClose => {
                    let n = ctx.store.auto_close(
                        context::now(),
                        ctx.config.auto_close_after,
                        &otwatch_model::Actor::system(),
                    )?;
                    writeln!(
                        out,
                        "auto-closed {n} alert(s) quiet for more than {}",
                        otwatch_model::time::format_duration(ctx.config.auto_close_after)
                    )?;
                    true
                }
            };
            if !ok {
                return Ok(ExitCode::FAILURE);
            }
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
