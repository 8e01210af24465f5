//! Indicator feeds for the Malware engine: IP addresses and networks,
//! domains, URL paths and file hashes, parsed from text.
//!
//! The format (documented in `docs/detection.md`): one indicator per line;
//! blank lines and lines starting with `#` are ignored; anything after the
//! first whitespace is a free-text description kept with the indicator. The
//! kind is recognised from the value, or forced with a prefix:
//!
//! | line | kind |
//! |---|---|
//! | `203.0.113.7`, `2001:db8::1`, `198.51.100.0/24` | IP address or network |
//! | `evil.example`, `*.evil.example` | domain (and every subdomain) |
//! | `/wp-admin/shell.php`, `/cgi-bin/*` | URL path (exact, or prefix with `*`) |
//! | `http://evil.example/payload.bin` | domain + exact path on that host |
//! | 32, 40 or 64 hex digits | MD5, SHA-1 or SHA-256 file hash |
//! | `ip:`, `domain:`, `url:`, `path:`, `hash:` + value | forced kind |
//!
//! Parsing is pure (text in, indicators and per-line problems out); reading
//! the files and reloading them when they change is the sensor's job. A bad
//! line is reported with its number and skipped, never fatal. The number of
//! indicators is bounded by [`MAX_INDICATORS`]; lines beyond it are reported.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use otwatch_model::Cidr;

/// Most indicators held across all feeds.
pub const MAX_INDICATORS: usize = 2_000_000;
/// Longest indicator line accepted, in bytes.
pub const MAX_LINE: usize = 4096;

/// What an indicator matched, for the alert details.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndicatorHit {
    /// The indicator as written in the feed.
    pub indicator: String,
    /// The feed's name (its file name).
    pub feed: String,
    /// The description written after the indicator, if any.
    pub description: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Meta {
    indicator: String,
    feed: String,
    description: String,
}

impl Meta {
    fn hit(&self) -> IndicatorHit {
        IndicatorHit {
            indicator: self.indicator.clone(),
            feed: self.feed.clone(),
            description: self.description.clone(),
        }
    }
}

/// A problem on one line of a feed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FeedProblem {
    /// Feed name.
    pub feed: String,
    /// 1-based line number.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for FeedProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {}", self.feed, self.line, self.message)
    }
}

/// Counts per indicator kind, for reporting what a load did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FeedCounts {
    /// IP addresses and networks.
    pub ips: usize,
    /// Domains.
    pub domains: usize,
    /// URL paths (with or without a host).
    pub paths: usize,
    /// File hashes.
    pub hashes: usize,
}

impl FeedCounts {
    /// All indicators.
    pub fn total(&self) -> usize {
        self.ips + self.domains + self.paths + self.hashes
    }
}

/// The indicators of every loaded feed, ready for matching.
#[derive(Clone, Debug, Default)]
pub struct Indicators {
    ips: BTreeMap<IpAddr, Meta>,
    networks: Vec<(Cidr, Meta)>,
    domains: BTreeMap<String, Meta>,
    /// (host or "", path) → meta; a path ending in `*` is a prefix.
    paths: BTreeMap<(String, String), Meta>,
    prefix_paths: Vec<(String, String, Meta)>,
    hashes: BTreeMap<String, Meta>,
    counts: FeedCounts,
    full: bool,
}

impl Indicators {
    /// No indicators.
    pub fn new() -> Indicators {
        Indicators::default()
    }

    /// Adds the indicators of one feed; returns the problems found (bad lines,
    /// the limit reached). Indicators already present keep their first feed.
    pub fn add_feed(&mut self, feed: &str, text: &str) -> Vec<FeedProblem> {
        let mut problems = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let line_no = i + 1;
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let mut problem = |message: String| {
                problems.push(FeedProblem { feed: feed.to_string(), line: line_no, message })
            };
            if line.len() > MAX_LINE {
                problem(format!("line longer than {MAX_LINE} bytes; skipped"));
                continue;
            }
            if self.counts.total() >= MAX_INDICATORS {
                if !self.full {
                    problem(format!(
                        "the limit of {MAX_INDICATORS} indicators is reached; the rest of the feeds is ignored"
                    ));
                    self.full = true;
                }
                break;
            }
            let (value, description) = match line.split_once(char::is_whitespace) {
                Some((v, d)) => (v, d.trim().trim_start_matches('#').trim()),
                None => (line, ""),
            };
            let meta = Meta {
                indicator: value.to_string(),
                feed: feed.to_string(),
                description: description.to_string(),
            };
            match parse_indicator(value) {
                Ok(Parsed::Ip(ip)) => {
                    if let std::collections::btree_map::Entry::Vacant(e) = self.ips.entry(ip) {
                        e.insert(meta);
                        self.counts.ips += 1;
                    }
                }
                Ok(Parsed::Network(c)) => {
                    if !self.networks.iter().any(|(n, _)| *n == c) {
                        self.networks.push((c, meta));
                        self.counts.ips += 1;
                    }
                }
                Ok(Parsed::Domain(d)) => {
                    if let std::collections::btree_map::Entry::Vacant(e) = self.domains.entry(d) {
                        e.insert(meta);
                        self.counts.domains += 1;
                    }
                }
                Ok(Parsed::Path { host, path }) => {
                    if let Some(prefix) = path.strip_suffix('*') {
                        let prefix = prefix.to_string();
                        if !self.prefix_paths.iter().any(|(h, p, _)| *h == host && *p == prefix) {
                            self.prefix_paths.push((host, prefix, meta));
                            self.counts.paths += 1;
                        }
                    } else if let std::collections::btree_map::Entry::Vacant(e) =
                        self.paths.entry((host, path))
                    {
                        e.insert(meta);
                        self.counts.paths += 1;
                    }
                }
                Ok(Parsed::Hash(h)) => {
                    if let std::collections::btree_map::Entry::Vacant(e) = self.hashes.entry(h) {
                        e.insert(meta);
                        self.counts.hashes += 1;
                    }
                }
                Err(e) => problem(format!("{value:?}: {e}; skipped")),
            }
        }
        problems
    }

    /// How many indicators of each kind are loaded.
    pub fn counts(&self) -> FeedCounts {
        self.counts
    }

    /// Whether nothing is loaded.
    pub fn is_empty(&self) -> bool {
        self.counts.total() == 0
    }

    /// The indicator an IP address matches.
    pub fn match_ip(&self, ip: &IpAddr) -> Option<IndicatorHit> {
        if let Some(m) = self.ips.get(ip) {
            return Some(m.hit());
        }
        self.networks
            .iter()
            .filter(|(c, _)| c.contains(ip))
            .max_by_key(|(c, _)| c.prefix())
            .map(|(_, m)| m.hit())
    }

    /// The indicator a domain name (or any parent domain of it) matches.
    pub fn match_domain(&self, name: &str) -> Option<IndicatorHit> {
        let name = normalize_domain(name)?;
        let mut rest = name.as_str();
        loop {
            if let Some(m) = self.domains.get(rest) {
                return Some(m.hit());
            }
            match rest.split_once('.') {
                Some((_, parent)) => rest = parent,
                None => return None,
            }
        }
    }

    /// The indicator an HTTP request path (on `host`, if known) matches. The
    /// query string is ignored.
    pub fn match_path(&self, host: Option<&str>, path: &str) -> Option<IndicatorHit> {
        let path = path.split(['?', '#']).next().unwrap_or(path);
        let host = host.and_then(normalize_domain).unwrap_or_default();
        for h in [host.as_str(), ""] {
            if let Some(m) = self.paths.get(&(h.to_string(), path.to_string())) {
                return Some(m.hit());
            }
        }
        self.prefix_paths
            .iter()
            .filter(|(h, p, _)| (h.is_empty() || *h == host) && path.starts_with(p.as_str()))
            .max_by_key(|(_, p, _)| p.len())
            .map(|(_, _, m)| m.hit())
    }

    /// The indicator a file hash (hex, any case) matches.
    pub fn match_hash(&self, hex: &str) -> Option<IndicatorHit> {
        self.hashes.get(&hex.to_ascii_lowercase()).map(Meta::hit)
    }

    /// The distinct feed names loaded, sorted.
    pub fn feeds(&self) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        out.extend(self.ips.values().map(|m| m.feed.clone()));
        out.extend(self.networks.iter().map(|(_, m)| m.feed.clone()));
        out.extend(self.domains.values().map(|m| m.feed.clone()));
        out.extend(self.paths.values().map(|m| m.feed.clone()));
        out.extend(self.prefix_paths.iter().map(|(_, _, m)| m.feed.clone()));
        out.extend(self.hashes.values().map(|m| m.feed.clone()));
        out
    }
}

enum Parsed {
    Ip(IpAddr),
    Network(Cidr),
    Domain(String),
    Path { host: String, path: String },
    Hash(String),
}

fn parse_indicator(value: &str) -> Result<Parsed, String> {
    if let Some((prefix, rest)) = value.split_once(':') {
        let rest = rest.trim();
        match prefix.to_ascii_lowercase().as_str() {
            "ip" => return parse_ip(rest).ok_or_else(|| "not an IP address or network".into()),
            "domain" => {
                return normalize_domain(rest.trim_start_matches("*."))
                    .map(Parsed::Domain)
                    .ok_or_else(|| "not a domain name".into());
            }
            "path" => {
                return if rest.starts_with('/') {
                    Ok(Parsed::Path { host: String::new(), path: rest.to_string() })
                } else {
                    Err("a URL path starts with /".into())
                };
            }
            "url" => return parse_url(rest),
            "hash" => {
                return parse_hash(rest)
                    .ok_or_else(|| "not an MD5, SHA-1 or SHA-256 hex digest".into());
            }
            "http" | "https" => return parse_url(value),
            _ => {}
        }
    }
    if let Some(p) = parse_ip(value) {
        return Ok(p);
    }
    if value.starts_with('/') {
        return Ok(Parsed::Path { host: String::new(), path: value.to_string() });
    }
    if let Some(h) = parse_hash(value) {
        return Ok(h);
    }
    if let Some(d) = normalize_domain(value.trim_start_matches("*.")) {
        return Ok(Parsed::Domain(d));
    }
    Err("not an IP address, network, domain, URL, URL path or file hash".into())
}

fn parse_ip(text: &str) -> Option<Parsed> {
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Some(Parsed::Ip(ip));
    }
    if text.contains('/') {
        let c = Cidr::parse(text).ok()?;
        let host = if text.contains(':') { 128 } else { 32 };
        return Some(if c.prefix() == host {
            Parsed::Ip(text.split('/').next()?.parse().ok()?)
        } else {
            Parsed::Network(c)
        });
    }
    None
}

fn parse_hash(text: &str) -> Option<Parsed> {
    let ok = matches!(text.len(), 32 | 40 | 64) && text.bytes().all(|b| b.is_ascii_hexdigit());
    ok.then(|| Parsed::Hash(text.to_ascii_lowercase()))
}

fn parse_url(text: &str) -> Result<Parsed, String> {
    let rest = text
        .strip_prefix("http://")
        .or_else(|| text.strip_prefix("https://"))
        .ok_or("a URL starts with http:// or https://")?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if host.starts_with('[') {
        host.split(']').next().unwrap_or(host).trim_start_matches('[')
    } else {
        host.split(':').next().unwrap_or(host)
    };
    let host = normalize_domain(host)
        .or_else(|| host.parse::<IpAddr>().ok().map(|ip| ip.to_string()))
        .ok_or("the URL has no valid host")?;
    let path = path.split(['?', '#']).next().unwrap_or(path);
    Ok(Parsed::Path { host, path: path.to_string() })
}

/// Lower-cases a domain name and strips a trailing dot; `None` if it is not
/// a plausible host name (letters, digits, `-`, `_`, at least one dot, no IP).
pub fn normalize_domain(name: &str) -> Option<String> {
    let n = name.trim().trim_end_matches('.').to_ascii_lowercase();
    let valid = !n.is_empty()
        && n.len() <= 253
        && n.contains('.')
        && n.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
        && n.parse::<IpAddr>().is_err()
        && !n.bytes().all(|b| b.is_ascii_digit() || b == b'.');
    valid.then_some(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FEED: &str = "\
# test feed
203.0.113.7   C2 server of campaign X
198.51.100.0/24
2001:db8::66
evil.example
*.bad.example  phishing
/wp-content/shell.php
/cgi-bin/*
http://dl.example.org/payload.bin?x=1
44d88612fea8a8f36de82e1278abb02f  EICAR md5
hash:275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f
not an indicator!
ip:10.0.0.300
";

    fn loaded() -> (Indicators, Vec<FeedProblem>) {
        let mut i = Indicators::new();
        let p = i.add_feed("test.txt", FEED);
        (i, p)
    }

    #[test]
    fn every_kind_is_recognised_and_bad_lines_are_reported() {
        let (i, problems) = loaded();
        assert_eq!(i.counts(), FeedCounts { ips: 3, domains: 2, paths: 3, hashes: 2 });
        let lines: Vec<usize> = problems.iter().map(|p| p.line).collect();
        assert_eq!(lines, vec![12, 13], "{problems:?}");
        assert!(problems[1].to_string().starts_with("test.txt:13: \"ip:10.0.0.300\""));
    }

    #[test]
    fn matching() {
        let (i, _) = loaded();
        let hit = i.match_ip(&"203.0.113.7".parse().unwrap()).unwrap();
        assert_eq!(hit.description, "C2 server of campaign X");
        assert_eq!(hit.feed, "test.txt");
        assert!(i.match_ip(&"198.51.100.99".parse().unwrap()).is_some());
        assert!(i.match_ip(&"198.51.101.1".parse().unwrap()).is_none());
        assert!(i.match_ip(&"2001:db8::66".parse().unwrap()).is_some());
        assert!(i.match_domain("EVIL.example.").is_some());
        assert!(i.match_domain("www.evil.example").is_some());
        assert!(i.match_domain("notevil.example").is_none());
        assert!(i.match_domain("x.y.bad.example").is_some());
        assert!(i.match_path(None, "/wp-content/shell.php?cmd=id").is_some());
        assert!(i.match_path(Some("any.host"), "/cgi-bin/test.sh").is_some());
        assert!(i.match_path(Some("dl.example.org"), "/payload.bin").is_some());
        assert!(i.match_path(Some("other.org"), "/payload.bin").is_none());
        assert!(i.match_hash("44D88612FEA8A8F36DE82E1278ABB02F").is_some());
        assert!(i.match_hash("00d88612fea8a8f36de82e1278abb02f").is_none());
    }
}
