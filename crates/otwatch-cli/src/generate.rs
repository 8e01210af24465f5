//! `otwatch gen-alerts`: deterministic synthetic detections as JSON Lines, for trying
//! otwatch out and for load tests. The same seed gives the same output.

use std::io::Write;

use anyhow::{Result, bail};

use otwatch_model::{Detection, Engine, Timestamp};

/// A small deterministic generator (xorshift64*), so no RNG dependency is needed.
pub struct Rng(u64);

impl Rng {
    /// Seeds the generator (0 is mapped to a fixed non-zero seed).
    pub fn new(seed: u64) -> Rng {
        Rng(if seed == 0 { 0x9E37_79B9_7F4A_7C15 } else { seed })
    }

    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
}

/// Options of the generator.
#[derive(Clone, Debug, clap::Args)]
pub struct GenArgs {
    /// Detections to write.
    #[arg(long, default_value_t = 1000)]
    pub count: u64,
    /// Distinct traffic fingerprints (fewer means more repeats).
    #[arg(long, default_value_t = 100)]
    pub distinct: u64,
    /// Random seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Time of the first detection (RFC 3339).
    #[arg(long, default_value = "2024-03-01T00:00:00Z")]
    pub start: String,
    /// Time between detections.
    #[arg(long, default_value = "1s")]
    pub step: String,
}

const SITES: &[(&str, &str)] = &[
    ("Plant A", "Line 1"),
    ("Plant A", "Line 2"),
    ("Plant B", "Boiler house"),
    ("Plant C", "Substation"),
];
const PROTOCOLS: &[&str] = &["Modbus", "S7comm", "EtherNet/IP", "DNP3", "IEC-104", "BACnet"];

/// A plausible value for a catalogue detail field, so generated alerts read well.
fn sample_value(field: &str, r: &mut Rng) -> String {
    match field {
        "function_code" => ["5", "6", "15", "16", "90"][r.below(5) as usize].into(),
        "count" | "ports" | "hosts" | "attempts" | "sessions" => (25 + r.below(200)).to_string(),
        "window" => "2m".into(),
        "firmware_old" => "V2.1.4".into(),
        "firmware_new" => "V2.3.0".into(),
        "domain" => "update-check.example.net".into(),
        "indicator" => "203.0.113.66".into(),
        f if f.contains("code") => r.below(10).to_string(),
        f if f.contains("address") => format!("{}", 40001 + r.below(1000)),
        _ => format!("sample-{}", r.below(100)),
    }
}

/// Writes `count` detections.
pub fn run(a: &GenArgs, out: &mut dyn Write) -> Result<()> {
    if a.distinct == 0 {
        bail!("--distinct must be at least 1");
    }
    let start = Timestamp::parse(&a.start)?;
    let step = otwatch_model::time::parse_duration(&a.step).map_err(anyhow::Error::msg)?;
    let types: Vec<&otwatch_model::AlertType> = otwatch_model::catalog::builtin()
        .types()
        .iter()
        .filter(|t| t.engine != Engine::MicroAgent)
        .collect();
    if types.is_empty() {
        bail!("the catalogue has no alert types");
    }
    let mut rng = Rng::new(a.seed);
    let mut w = std::io::BufWriter::new(out);
    for i in 0..a.count {
        // Each fingerprint index maps to fixed traffic, so repeats de-duplicate.
        let f = rng.below(a.distinct);
        let mut fr = Rng::new(f.wrapping_mul(0x9E37_79B9).wrapping_add(a.seed));
        let ty = types[fr.below(types.len() as u64) as usize];
        let (site, zone) = SITES[fr.below(SITES.len() as u64) as usize];
        let mut d = Detection::new(ty.id.as_str(), Timestamp(start.0 + step * i as i64));
        d.source.ip = Some(format!("10.{}.{}.{}", fr.below(4), fr.below(250), 1 + fr.below(250)));
        d.destination.ip =
            Some(format!("10.{}.{}.{}", fr.below(4), fr.below(250), 1 + fr.below(250)));
        d.protocol = Some(PROTOCOLS[fr.below(PROTOCOLS.len() as u64) as usize].into());
        d.sensor = Some(format!("sensor-{}", 1 + fr.below(3)));
        d.site = Some(site.into());
        d.zone = Some(zone.into());
        d.key.insert("variant".into(), (f % 7).to_string());
        for field in &ty.fields {
            d.details.insert(field.clone(), sample_value(field, &mut fr));
        }
        serde_json::to_writer(&mut w, &d)?;
        w.write_all(b"\n")?;
    }
    w.flush()?;
    Ok(())
}
