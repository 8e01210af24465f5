//! Project checks ("tidy"): dependency rules from ARCHITECTURE.md, file headers, banned constructs.
//!
//! They run as ordinary tests (`cargo test -p xtask`) and as `cargo xtask tidy`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

pub mod bench;

/// The workspace root (the parent of this crate).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// Crates that may use `anyhow`.
const ANYHOW_ALLOWED: &[&str] = &["otwatch-cli", "xtask"];

/// Reads the allowed dependencies of each crate from ARCHITECTURE.md.
pub fn allowed_edges(architecture: &str) -> Result<BTreeMap<String, BTreeSet<String>>> {
    let mut out = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in architecture.lines() {
        if let Some(h) = line.strip_prefix("### ") {
            current = Some(h.trim().to_string());
        } else if let Some(rest) = line.strip_prefix("**May depend on:**") {
            let Some(name) = current.take() else {
                bail!("a May depend on line without a crate heading: {line}")
            };
            let rest = rest.trim().trim_end_matches('.');
            let set: BTreeSet<String> = if rest.starts_with("nothing") {
                BTreeSet::new()
            } else {
                rest.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect()
            };
            out.insert(name, set);
        }
    }
    Ok(out)
}

/// One workspace package from `cargo metadata`.
#[derive(Debug)]
pub struct Package {
    /// Name.
    pub name: String,
    /// Workspace crates it depends on (normal and build dependencies).
    pub deps: BTreeSet<String>,
    /// Workspace crates it depends on for tests only.
    pub dev_deps: BTreeSet<String>,
    /// All dependency names (any source).
    pub all_deps: BTreeSet<String>,
    /// Its manifest directory.
    pub dir: PathBuf,
}

/// Reads the workspace packages with `cargo metadata`.
pub fn packages() -> Result<Vec<Package>> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--no-deps", "--offline"])
        .current_dir(root())
        .output()
        .context("running cargo metadata")?;
    if !out.status.success() {
        bail!("cargo metadata failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    let members: BTreeSet<String> = v["packages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["name"].as_str().map(String::from))
        .collect();
    let mut pkgs = Vec::new();
    for p in v["packages"].as_array().into_iter().flatten() {
        let name = p["name"].as_str().unwrap_or_default().to_string();
        let mut deps = BTreeSet::new();
        let mut dev_deps = BTreeSet::new();
        let mut all_deps = BTreeSet::new();
        for d in p["dependencies"].as_array().into_iter().flatten() {
            let dn = d["name"].as_str().unwrap_or_default().to_string();
            all_deps.insert(dn.clone());
            if members.contains(&dn) {
                if d["kind"].as_str() == Some("dev") {
                    dev_deps.insert(dn);
                } else {
                    deps.insert(dn);
                }
            }
        }
        let dir = PathBuf::from(p["manifest_path"].as_str().unwrap_or_default())
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        pkgs.push(Package { name, deps, dev_deps, all_deps, dir });
    }
    Ok(pkgs)
}

/// Checks every crate's workspace dependencies against ARCHITECTURE.md.
pub fn check_dependencies() -> Result<Vec<String>> {
    let arch = std::fs::read_to_string(root().join("ARCHITECTURE.md"))
        .context("reading ARCHITECTURE.md")?;
    let allowed = allowed_edges(&arch)?;
    let mut problems = check_edges(&allowed, &packages()?);
    for name in allowed.keys() {
        if !root().join("crates").join(name).exists() && name != "xtask" {
            problems.push(format!("ARCHITECTURE.md describes {name}, which does not exist"));
        }
    }
    Ok(problems)
}

/// Checks packages against a rule set; returns one line per broken rule.
pub fn check_edges(
    allowed: &BTreeMap<String, BTreeSet<String>>,
    packages: &[Package],
) -> Vec<String> {
    let mut problems = Vec::new();
    for p in packages {
        let Some(ok) = allowed.get(&p.name) else {
            problems.push(format!(
                "{}: no entry with a **May depend on:** line in ARCHITECTURE.md",
                p.name
            ));
            continue;
        };
        for d in &p.deps {
            if !ok.contains(d) {
                problems.push(format!(
                    "{} depends on {d}, which ARCHITECTURE.md does not allow",
                    p.name
                ));
            }
        }
        if p.all_deps.contains("anyhow") && !ANYHOW_ALLOWED.contains(&p.name.as_str()) {
            problems.push(format!(
                "{} uses anyhow; only {} may",
                p.name,
                ANYHOW_ALLOWED.join(", ")
            ));
        }
    }
    problems
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else { return };
    for e in rd.flatten() {
        let p = e.path();
        let name = e.file_name();
        let n = name.to_string_lossy();
        if p.is_dir() {
            if n == "target" || n.starts_with('.') || n == "corpus" || n == "artifacts" {
                continue;
            }
            rust_files(&p, out);
        } else if n.ends_with(".rs") {
            out.push(p);
        }
    }
}

/// Every Rust source file of the project.
pub fn sources() -> Vec<PathBuf> {
    let mut v = Vec::new();
    for d in ["crates", "xtask", "fuzz"] {
        rust_files(&root().join(d), &mut v);
    }
    v.sort();
    v
}

/// Checks file headers and banned constructs.
pub fn check_sources() -> Result<Vec<String>> {
    // Built from pieces so this file does not trip its own check.
    let banned = [
        ["#[", "ignore]"].concat(),
        ["#[", "should_panic"].concat(),
        ["todo", "!("].concat(),
        ["unimplemented", "!("].concat(),
        ["dbg", "!("].concat(),
    ];
    let mut problems = Vec::new();
    for f in sources() {
        let text =
            std::fs::read_to_string(&f).with_context(|| format!("reading {}", f.display()))?;
        let rel = f.strip_prefix(root()).unwrap_or(&f).display().to_string();
        let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
        if !first.starts_with("//!") {
            problems.push(format!("{rel}: must start with a //! line saying why the file exists"));
        }
        for (i, line) in text.lines().enumerate() {
            for b in &banned {
                if line.contains(b.as_str()) {
                    problems.push(format!("{rel}:{}: {b} is not allowed", i + 1));
                }
            }
        }
    }
    Ok(problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_rules() {
        let md = "### a\n\ntext\n\n**May depend on:** nothing in the workspace.\n\n### b\n**May depend on:** a, c.\n";
        let e = allowed_edges(md).unwrap();
        assert!(e["a"].is_empty());
        assert_eq!(
            e["b"].iter().cloned().collect::<Vec<_>>(),
            vec!["a".to_string(), "c".to_string()]
        );
    }
}
