//! Benchmark inputs, made once and cached under `target/bench-inputs/`: simulated plant captures, the real captures joined into one file, alert sets.
//!
//! Simulated captures come from the release `otwatch simulate` (seeded,
//! byte-identical for the same options); their file names carry the seed,
//! the size and a hash of the simulator's sources, so a changed simulator
//! makes new files instead of reusing stale ones. Files are written under
//! a temporary name and renamed when complete.

use std::fs;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};

/// Parses a size such as `10MB`, `1GB`, `500KB` or `2MiB` into bytes (KB/MB/GB are powers of 1000).
pub fn parse_size(text: &str) -> Result<u64> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: u64 = num.parse().with_context(|| format!("bad size {text:?}: expected e.g. 100MB"))?;
    let scale: u64 = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "kb" => 1_000,
        "mb" => 1_000_000,
        "gb" => 1_000_000_000,
        "kib" => 1 << 10,
        "mib" => 1 << 20,
        "gib" => 1 << 30,
        u => bail!("bad size {text:?}: unknown unit {u:?} (KB, MB, GB, KiB, MiB, GiB)"),
    };
    if n == 0 {
        bail!("bad size {text:?}: must be positive");
    }
    Ok(n * scale)
}

/// A size for people and file names: `10MB`, `1GB`, `2500KB`.
pub fn size_label(bytes: u64) -> String {
    for (unit, scale) in [("GB", 1_000_000_000u64), ("MB", 1_000_000), ("KB", 1_000)] {
        if bytes >= scale && bytes.is_multiple_of(scale) {
            return format!("{}{unit}", bytes / scale);
        }
    }
    format!("{bytes}B")
}

/// FNV-1a, for cache keys.
fn fnv(h: &mut u64, bytes: &[u8]) {
    for b in bytes {
        *h ^= u64::from(*b);
        *h = h.wrapping_mul(0x100_0000_01b3);
    }
}

/// A short hash of every file under `dir` (names and contents, in name order).
pub fn tree_hash(dir: &Path) -> String {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = fs::read_dir(&d) else { continue };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                files.push(p);
            }
        }
    }
    files.sort();
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    for f in files {
        fnv(&mut h, f.strip_prefix(dir).unwrap_or(&f).to_string_lossy().as_bytes());
        fnv(&mut h, &fs::read(&f).unwrap_or_default());
    }
    format!("{:08x}", h >> 32)
}

/// The simulated plant capture of `size` bytes for `seed`, made if missing.
pub fn sim_capture(
    otwatch: &Path,
    dir: &Path,
    root: &Path,
    size: u64,
    seed: u64,
) -> Result<PathBuf> {
    let key = tree_hash(&root.join("crates/otwatch-sim/src"));
    let path = dir.join(format!("sim-{}-seed{seed}-{key}.pcap", size_label(size)));
    if path.is_file() {
        return Ok(path);
    }
    fs::create_dir_all(dir)?;
    let tmp = dir.join(format!("sim-{}-seed{seed}.tmp.pcap", size_label(size)));
    eprintln!("bench: simulating a {} plant capture (seed {seed})…", size_label(size));
    let out = Command::new(otwatch)
        .args(["simulate", "--size", &size.to_string(), "--seed", &seed.to_string(), "--out"])
        .arg(&tmp)
        .stdout(Stdio::null())
        .output()
        .context("running otwatch simulate")?;
    if !out.status.success() {
        bail!("otwatch simulate failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    fs::rename(&tmp, &path)?;
    Ok(path)
}

/// Little-endian, microsecond classic pcap with Ethernet frames: the
/// captures that can be joined into one file record by record.
fn joinable(head: &[u8]) -> bool {
    head.len() >= 24 && head[..4] == [0xd4, 0xc3, 0xb2, 0xa1] && head[20..24] == [1, 0, 0, 0]
}

/// The public captures under `pcaps` that are little-endian microsecond
/// pcap with Ethernet frames, joined record by record into one file
/// (time order is kept within each file, not across them). Returns the
/// file and how many captures went in; `None` when there are none.
pub fn real_capture(pcaps: &Path, dir: &Path) -> Result<Option<(PathBuf, usize)>> {
    let mut files = Vec::new();
    let mut stack = vec![pcaps.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = fs::read_dir(&d) else { continue };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "pcap" || x == "cap") {
                files.push(p);
            }
        }
    }
    files.sort();
    let mut chosen = Vec::new();
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    for f in files {
        let mut head = [0u8; 24];
        let ok = fs::File::open(&f).and_then(|mut r| r.read_exact(&mut head)).is_ok();
        if ok && joinable(&head) {
            fnv(&mut h, f.to_string_lossy().as_bytes());
            fnv(&mut h, &fs::metadata(&f)?.len().to_le_bytes());
            chosen.push(f);
        }
    }
    if chosen.is_empty() {
        return Ok(None);
    }
    let path = dir.join(format!("real-ethernet-{:08x}.pcap", h >> 32));
    if path.is_file() {
        return Ok(Some((path, chosen.len())));
    }
    fs::create_dir_all(dir)?;
    let tmp = dir.join("real-ethernet.tmp.pcap");
    let mut w = BufWriter::new(fs::File::create(&tmp)?);
    let mut header_written = false;
    for f in &chosen {
        let data = fs::read(f)?;
        let Some((head, records)) = data.split_at_checked(24) else { continue };
        if !header_written {
            let mut h = head.to_vec();
            h[16..20].copy_from_slice(&262_144u32.to_le_bytes());
            w.write_all(&h)?;
            header_written = true;
        }
        // Copy whole records only (a damaged tail is left out).
        let mut pos = 0usize;
        while let Some(rec) = records.get(pos..pos + 16) {
            let incl = u32::from_le_bytes([rec[8], rec[9], rec[10], rec[11]]) as usize;
            let Some(whole) = records.get(pos..pos + 16 + incl) else { break };
            w.write_all(whole)?;
            pos += 16 + incl;
        }
    }
    w.flush()?;
    drop(w);
    fs::rename(&tmp, &path)?;
    Ok(Some((path, chosen.len())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_and_print() {
        assert_eq!(parse_size("10MB").unwrap(), 10_000_000);
        assert_eq!(parse_size("1GB").unwrap(), 1_000_000_000);
        assert_eq!(parse_size("2MiB").unwrap(), 2 << 20);
        assert!(parse_size("0MB").is_err());
        assert!(parse_size("10XB").is_err());
        assert_eq!(size_label(100_000_000), "100MB");
        assert_eq!(size_label(1_000_000_000), "1GB");
        assert_eq!(size_label(2_500_000), "2500KB");
    }

    #[test]
    fn only_little_endian_microsecond_ethernet_pcap_is_joined() {
        let mut h = [0u8; 24];
        h[..4].copy_from_slice(&[0xd4, 0xc3, 0xb2, 0xa1]);
        h[20] = 1;
        assert!(joinable(&h));
        h[20] = 113; // Linux cooked capture
        assert!(!joinable(&h));
        h[20] = 1;
        h[..4].copy_from_slice(&[0x0a, 0x0d, 0x0d, 0x0a]); // pcapng
        assert!(!joinable(&h));
    }
}
