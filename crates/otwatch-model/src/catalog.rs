//! The alert-type catalogue: every alert otwatch can raise, as data.
//!
//! The catalogue lives in `catalog/alert-types.toml` (embedded at build time)
//! and is validated when first used: an unknown engine, category or tactic, a
//! technique id that is not in the ATT&CK for ICS table, a duplicate id, a
//! template placeholder that is not declared, or a missing remediation step is
//! an error that names the line. All errors are reported at once.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::{Category, Detection, Engine, Severity, Tactic, Technique};

/// One alert type.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AlertType {
    /// Stable id (snake_case), e.g. `policy_new_asset`.
    pub id: String,
    /// Title shown in the grid.
    pub name: String,
    /// Engine that raises it.
    pub engine: Engine,
    /// Category (alert group).
    pub category: Category,
    /// Default severity.
    pub severity: Severity,
    /// MITRE ATT&CK for ICS tactics.
    pub tactics: Vec<Tactic>,
    /// MITRE ATT&CK for ICS techniques.
    pub techniques: Vec<Technique>,
    /// Description template; `{source}`, `{destination}`, `{protocol}`,
    /// `{sensor}`, `{site}`, `{zone}` and the declared `fields` are filled in.
    pub description: String,
    /// Remediation steps a plant engineer can follow.
    pub remediation: Vec<String>,
    /// Whether Learn is allowed.
    pub learnable: bool,
    /// Whether Mute is allowed.
    pub mutable: bool,
    /// Whether the type is raised unless configured off.
    pub enabled: bool,
    /// Detail fields the type fills (and its template may use).
    pub fields: Vec<String>,
    /// Named thresholds (counts and time windows) with their defaults.
    pub thresholds: BTreeMap<String, Threshold>,
}

/// A threshold value: a count, or a time window.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Threshold {
    /// A count ("25 scans").
    Count(u64),
    /// A time window in microseconds ("2m").
    #[serde(serialize_with = "ser_window")]
    Window(i64),
}

fn ser_window<S: serde::Serializer>(v: &i64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&crate::time::format_duration(*v))
}

impl std::fmt::Display for Threshold {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Threshold::Count(n) => write!(f, "{n}"),
            Threshold::Window(us) => f.write_str(&crate::time::format_duration(*us)),
        }
    }
}

/// The validated catalogue.
#[derive(Clone, Debug, PartialEq)]
pub struct Catalog {
    types: Vec<AlertType>,
    by_id: BTreeMap<String, usize>,
}

/// A catalogue problem, with the line it is on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CatalogError {
    /// 1-based line in the catalogue file (0 when unknown).
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for CatalogError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// All problems found in a catalogue.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid alert catalogue ({} error(s)):\n{}", .0.len(), .0.iter().map(|e| format!("  {e}")).collect::<Vec<_>>().join("\n"))]
pub struct CatalogErrors(pub Vec<CatalogError>);

/// The built-in catalogue file.
pub const BUILTIN_CATALOG: &str = include_str!("../catalog/alert-types.toml");

/// The built-in catalogue, validated once. It is a bug (caught by tests) if it
/// does not validate, so a failure here is reported rather than ignored.
pub fn builtin() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(|| match Catalog::parse(BUILTIN_CATALOG) {
        Ok(c) => c,
        Err(e) => {
            // The built-in file is checked by `catalog_is_valid` in this crate's
            // tests, so this branch means a broken build; fail loudly.
            #[allow(clippy::panic)]
            {
                panic!("built-in alert catalogue is invalid: {e}")
            }
        }
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    alert: Vec<toml::Spanned<RawType>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawType {
    id: toml::Spanned<String>,
    name: String,
    engine: toml::Spanned<String>,
    category: toml::Spanned<String>,
    severity: toml::Spanned<String>,
    #[serde(default)]
    tactics: Vec<toml::Spanned<String>>,
    #[serde(default)]
    techniques: Vec<toml::Spanned<String>>,
    description: toml::Spanned<String>,
    #[serde(default)]
    remediation: Vec<String>,
    learnable: bool,
    mutable: bool,
    #[serde(default = "yes")]
    enabled: bool,
    #[serde(default)]
    fields: Vec<String>,
    #[serde(default)]
    thresholds: BTreeMap<String, toml::Spanned<RawThreshold>>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawThreshold {
    Count(u64),
    Text(String),
}

fn yes() -> bool {
    true
}

/// Placeholders every template may use.
pub const BUILTIN_PLACEHOLDERS: &[&str] =
    &["source", "destination", "protocol", "sensor", "site", "zone"];

fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset).map(|s| s.bytes().filter(|b| *b == b'\n').count() + 1).unwrap_or(0)
}

impl Catalog {
    /// Parses and validates a catalogue file.
    pub fn parse(text: &str) -> Result<Catalog, CatalogErrors> {
        let raw: RawFile = toml::from_str(text).map_err(|e| {
            let line = e.span().map(|s| line_of(text, s.start)).unwrap_or(0);
            CatalogErrors(vec![CatalogError { line, message: e.message().to_string() }])
        })?;
        let mut errors = Vec::new();
        let mut types = Vec::new();
        let mut by_id = BTreeMap::new();
        let mut seen = BTreeSet::new();
        for entry in raw.alert {
            let line = line_of(text, entry.span().start);
            let r = entry.into_inner();
            let mut err = |span: std::ops::Range<usize>, message: String| {
                errors.push(CatalogError { line: line_of(text, span.start).max(line), message });
            };
            let id = r.id.get_ref().clone();
            if id.is_empty()
                || !id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            {
                err(r.id.span(), format!("alert id {id:?} must be snake_case (a-z, 0-9, _)"));
            }
            if !seen.insert(id.clone()) {
                err(r.id.span(), format!("duplicate alert id {id:?}"));
            }
            let engine = Engine::parse(r.engine.get_ref())
                .map_err(|e| err(r.engine.span(), format!("{id}: {e}")));
            let category = Category::parse(r.category.get_ref())
                .map_err(|e| err(r.category.span(), format!("{id}: {e}")));
            let severity = Severity::parse(r.severity.get_ref())
                .map_err(|e| err(r.severity.span(), format!("{id}: {e}")));
            let mut tactics = Vec::new();
            for t in &r.tactics {
                match Tactic::parse(t.get_ref()) {
                    Ok(t) => tactics.push(t),
                    Err(e) => err(t.span(), format!("{id}: {e}")),
                }
            }
            let mut techniques = Vec::new();
            for t in &r.techniques {
                match Technique::parse(t.get_ref()) {
                    Ok(t) => techniques.push(t),
                    Err(e) => err(t.span(), format!("{id}: {e}")),
                }
            }
            if r.name.trim().is_empty() {
                err(r.id.span(), format!("{id}: name is empty"));
            }
            if r.remediation.is_empty() || r.remediation.iter().any(|s| s.trim().is_empty()) {
                err(
                    r.id.span(),
                    format!("{id}: at least one non-empty remediation step is required"),
                );
            }
            let declared: BTreeSet<&str> = BUILTIN_PLACEHOLDERS
                .iter()
                .copied()
                .chain(r.fields.iter().map(String::as_str))
                .collect();
            let remediation_text = r.remediation.join(" ");
            for ph in placeholders(r.description.get_ref())
                .into_iter()
                .chain(placeholders(&remediation_text))
            {
                if !declared.contains(ph.as_str()) {
                    err(
                        r.description.span(),
                        format!(
                            "{id}: description or remediation uses {{{ph}}} but it is not declared in fields (declared: {})",
                            declared.iter().copied().collect::<Vec<_>>().join(", ")
                        ),
                    );
                }
            }
            let mut thresholds = BTreeMap::new();
            for (name, v) in &r.thresholds {
                let th = match v.get_ref() {
                    RawThreshold::Count(n) => Threshold::Count(*n),
                    RawThreshold::Text(s) => match crate::time::parse_duration(s) {
                        Ok(us) => Threshold::Window(us),
                        Err(e) => {
                            err(v.span(), format!("{id}: threshold {name}: {e}"));
                            continue;
                        }
                    },
                };
                thresholds.insert(name.clone(), th);
            }
            if let (Ok(engine), Ok(category), Ok(severity)) = (engine, category, severity) {
                by_id.insert(id.clone(), types.len());
                types.push(AlertType {
                    id,
                    name: r.name,
                    engine,
                    category,
                    severity,
                    tactics,
                    techniques,
                    description: r.description.into_inner(),
                    remediation: r.remediation,
                    learnable: r.learnable,
                    mutable: r.mutable,
                    enabled: r.enabled,
                    fields: r.fields,
                    thresholds,
                });
            }
        }
        if errors.is_empty() { Ok(Catalog { types, by_id }) } else { Err(CatalogErrors(errors)) }
    }

    /// Every type, in file order.
    pub fn types(&self) -> &[AlertType] {
        &self.types
    }

    /// A type by id.
    pub fn get(&self, id: &str) -> Option<&AlertType> {
        self.by_id.get(id).and_then(|i| self.types.get(*i))
    }

    /// Like [`Catalog::get`], with an error that suggests the nearest id.
    pub fn require(&self, id: &str) -> Result<&AlertType, String> {
        self.get(id).ok_or_else(|| {
            let near = crate::text::closest(id, self.types.iter().map(|t| t.id.as_str()));
            match near {
                Some(n) => format!(
                    "unknown alert type {id:?}; did you mean {n:?}? (`otwatch catalog` lists them)"
                ),
                None => format!("unknown alert type {id:?} (`otwatch catalog` lists them)"),
            }
        })
    }
}

impl AlertType {
    /// Fills the description template from a detection.
    pub fn describe(&self, d: &Detection) -> String {
        fill_from(&self.description, d)
    }

    /// The remediation steps with their placeholders filled from a detection.
    pub fn remediation_for(&self, d: &Detection) -> Vec<String> {
        self.remediation.iter().map(|s| fill_from(s, d)).collect()
    }

    /// A threshold by name, if the type has it.
    pub fn threshold(&self, name: &str) -> Option<Threshold> {
        self.thresholds.get(name).copied()
    }
}

fn fill_from(template: &str, d: &Detection) -> String {
    {
        fill(template, |name| match name {
            "source" => Some(d.source.label().to_string()).filter(|s| !s.is_empty()),
            "destination" => Some(d.destination.label().to_string()).filter(|s| !s.is_empty()),
            "protocol" => d.protocol.clone(),
            "sensor" => d.sensor.clone(),
            "site" => d.site.clone(),
            "zone" => d.zone.clone(),
            other => d.key.get(other).or_else(|| d.details.get(other)).cloned(),
        })
    }
}

/// The `{name}` placeholders of a template, in order.
pub fn placeholders(template: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        let after = &rest[start + 1..];
        match after.find('}') {
            Some(end) => {
                out.push(after[..end].to_string());
                rest = &after[end + 1..];
            }
            None => break,
        }
    }
    out
}

/// Fills `{name}` placeholders; unknown or missing values become "unknown".
pub fn fill(template: &str, mut value: impl FnMut(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        match after.find('}') {
            Some(end) => {
                let name = &after[..end];
                out.push_str(&value(name).unwrap_or_else(|| "unknown".into()));
                rest = &after[end + 1..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_is_valid() {
        if let Err(e) = Catalog::parse(BUILTIN_CATALOG) {
            panic!("{e}");
        }
        let c = builtin();
        assert!(!c.types().is_empty());
        for t in c.types() {
            assert!(!t.tactics.is_empty(), "{} has no tactic", t.id);
            assert!(
                !t.techniques.is_empty() || t.engine == Engine::MicroAgent,
                "{} has no technique",
                t.id
            );
        }
    }

    #[test]
    fn every_error_is_reported_with_its_line() {
        let text = r#"
[[alert]]
id = "a_one"
name = "One"
engine = "Policy Violation"
category = "Nonsense"
severity = "Major"
tactics = ["Discovery"]
techniques = ["T9999"]
description = "{source} did {thing}"
remediation = ["Check it."]
learnable = true
mutable = false

[[alert]]
id = "a_one"
name = "Two"
engine = "Steam"
category = "Scan"
severity = "Major"
tactics = ["Discovery"]
techniques = ["T0842"]
description = "x"
remediation = []
learnable = true
mutable = false
"#;
        let errs = Catalog::parse(text).unwrap_err().0;
        let msgs: Vec<String> = errs.iter().map(|e| e.to_string()).collect();
        let all = msgs.join("\n");
        assert!(all.contains("line 6: a_one: unknown category \"Nonsense\""), "{all}");
        assert!(
            all.contains("line 9: a_one: unknown MITRE ATT&CK for ICS technique \"T9999\""),
            "{all}"
        );
        assert!(all.contains("{thing}"), "{all}");
        assert!(all.contains("duplicate alert id \"a_one\""), "{all}");
        assert!(all.contains("unknown engine \"Steam\""), "{all}");
        assert!(all.contains("remediation step"), "{all}");
        assert_eq!(errs.len(), 6, "{all}");
    }

    #[test]
    fn templates_fill() {
        let mut d = Detection::new("x", crate::Timestamp(0));
        d.source.ip = Some("10.0.0.1".into());
        d.key.insert("function_code".into(), "16".into());
        let s = fill("{source} used FC {function_code} on {destination}", |n| match n {
            "source" => d.source.ip.clone(),
            "function_code" => d.key.get("function_code").cloned(),
            _ => None,
        });
        assert_eq!(s, "10.0.0.1 used FC 16 on unknown");
    }
}
