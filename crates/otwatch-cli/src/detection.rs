//! Detection settings from the configuration: what `otwatch sensor` gives the engines.
//!
//! Reads the `detect.*` and `sensor.*` settings (validated when the
//! configuration was loaded), checks the ones the configuration cannot check
//! alone against the catalogue (threshold overrides, alert type ids) and
//! reports every problem at once, then builds the engines' [`Settings`] and
//! the sensor stage's [`DetectOptions`].

use std::path::PathBuf;

use anyhow::{Result, bail};

use otwatch_config::{Config, SensorMode};
use otwatch_detect::settings::{Limits, SettingError, parse_subnets};
use otwatch_detect::{Mode, Settings};
use otwatch_model::{Catalog, Engine, time::parse_duration};
use otwatch_sensor::detect::evidence::EvidenceConfig;
use otwatch_sensor::detect::{DetectFiles, DetectOptions, ModeChoice};

/// The text value of a setting as loaded (its default when unset).
pub fn setting<'c>(config: &'c Config, key: &str) -> &'c str {
    config.effective.iter().find(|e| e.key == key).map_or("", |e| e.value.as_str())
}

fn int(config: &Config, key: &str) -> u64 {
    setting(config, key).replace('_', "").parse().unwrap_or(0)
}

fn duration(config: &Config, key: &str) -> Option<i64> {
    parse_duration(setting(config, key)).ok()
}

/// The mode asked for: `--mode` when given, else `sensor.mode`.
pub fn mode_choice(config: &Config, flag: Option<&str>) -> Result<ModeChoice> {
    let m = match flag {
        Some("learning") => SensorMode::Learning,
        Some("operational") => SensorMode::Operational,
        Some("auto") => SensorMode::Auto,
        Some(other) => bail!("--mode {other:?}: choose auto, learning or operational"),
        None => config.sensor.mode,
    };
    Ok(match m {
        SensorMode::Auto => ModeChoice::Auto { learning_period: config.sensor.learning_period },
        SensorMode::Learning => ModeChoice::Learning,
        SensorMode::Operational => ModeChoice::Operational,
    })
}

/// The engines' settings. Every problem is reported at once.
pub fn settings(config: &Config, catalog: &Catalog, live: bool) -> Result<Settings> {
    let mut s = Settings::new(catalog);
    let mut problems: Vec<(String, SettingError)> = Vec::new();
    let mut note = |key: &str, errs: Vec<SettingError>| {
        problems.extend(errs.into_iter().map(|e| (key.to_string(), e)));
    };
    s.engines = config.engines.clone();
    s.engines.insert(Engine::MicroAgent, true);
    s.sensor = Some(config.sensor.id.clone());
    s.site = config.sensor.site.clone();
    s.zone = config.sensor.zone.clone();
    s.ot_subnets = config.sensor.ot_subnets.clone();
    for (key, target) in [
        ("detect.programming_devices", &mut s.programming_devices),
        ("detect.scanners", &mut s.scanners),
    ] {
        match parse_subnets(setting(config, key)) {
            Ok(v) => *target = v,
            Err(e) => note(key, e),
        }
    }
    note("detect.thresholds", s.thresholds.apply(setting(config, "detect.thresholds"), catalog));
    note("detect.enable_types", s.types.set(setting(config, "detect.enable_types"), true, catalog));
    note(
        "detect.disable_types",
        s.types.set(setting(config, "detect.disable_types"), false, catalog),
    );
    if let Some(d) = duration(config, "detect.report_interval") {
        s.report_interval = d;
    }
    if live {
        s.silence_after = duration(config, "detect.silence_after");
    }
    let tracked = int(config, "detect.max_tracked");
    s.limits = Limits { tracked: (tracked as usize).max(1024), ..Limits::default() };
    if !problems.is_empty() {
        let lines: Vec<String> = problems.iter().map(|(k, e)| format!("  {k}: {e}")).collect();
        bail!("invalid detection settings ({} problem(s)):\n{}", problems.len(), lines.join("\n"));
    }
    Ok(s)
}

/// The sensor stage's options.
pub fn options(
    config: &Config,
    mode: ModeChoice,
    detections_out: Option<PathBuf>,
) -> DetectOptions {
    let feeds: Vec<PathBuf> = setting(config, "detect.indicator_feeds")
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(PathBuf::from)
        .collect();
    let rules =
        Some(setting(config, "detect.custom_rules")).filter(|s| !s.is_empty()).map(PathBuf::from);
    let ring = int(config, "detect.pcap_ring_packets") as usize;
    let evidence = (ring > 0).then(|| EvidenceConfig {
        per_flow: ring,
        max_bytes: int(config, "detect.pcap_ring_bytes") as usize,
        before: int(config, "detect.pcap_packets_before") as usize,
        after: int(config, "detect.pcap_packets_after") as usize,
        ..EvidenceConfig::default()
    });
    DetectOptions {
        sensor: config.sensor.id.clone(),
        mode,
        files: DetectFiles { indicator_feeds: feeds, custom_rules: rules },
        evidence,
        pcap_max_bytes: Some(config.retention.pcap_max_bytes),
        auto_close_after: config.auto_close_after,
        ingest_batch: config.ingest_batch,
        detections_out,
    }
}

/// `learning` or `operational`, for messages.
pub fn mode_name(m: Mode) -> &'static str {
    m.as_str()
}
