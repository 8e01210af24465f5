//! The benchmark report: Markdown sections with tables, in the order `BENCHMARKS.md` shows them (summary and ratios first).

/// One part of the report.
#[derive(Clone, Debug, Default)]
pub struct Section {
    /// Heading (without the hashes).
    pub title: String,
    /// Markdown body.
    pub body: String,
}

/// Where a section goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    /// The summary: ratios and targets.
    Summary,
    /// The detailed tables.
    Detail,
}

/// The whole report.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// Machine and run description.
    pub header: String,
    /// Summary sections (ratios, targets).
    pub summary: Vec<Section>,
    /// Detail sections.
    pub detail: Vec<Section>,
}

impl Report {
    /// Adds a section and prints it at once (so a long run shows progress).
    pub fn add(&mut self, part: Part, title: &str, body: String) {
        println!("\n### {title}\n\n{body}");
        let s = Section { title: title.into(), body };
        match part {
            Part::Summary => self.summary.push(s),
            Part::Detail => self.detail.push(s),
        }
    }

    /// The report as Markdown.
    pub fn markdown(&self) -> String {
        let mut out = String::new();
        out.push_str(&self.header);
        if !self.summary.is_empty() {
            out.push_str("\n## Summary\n");
            for s in &self.summary {
                out.push_str(&format!("\n### {}\n\n{}\n", s.title, s.body.trim_end()));
            }
        }
        if !self.detail.is_empty() {
            out.push_str("\n## Details\n");
            for s in &self.detail {
                out.push_str(&format!("\n### {}\n\n{}\n", s.title, s.body.trim_end()));
            }
        }
        out
    }
}

/// A Markdown table; columns after the first are right-aligned.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut out = String::new();
    out.push_str(&format!("| {} |\n", header.join(" | ")));
    let align: Vec<&str> =
        header.iter().enumerate().map(|(i, _)| if i == 0 { "---" } else { "---:" }).collect();
    out.push_str(&format!("|{}|\n", align.join("|")));
    for r in rows {
        out.push_str(&format!("| {} |\n", r.join(" | ")));
    }
    out
}

/// A number with thousands separators and no decimals: `1,234,567`.
pub fn int(v: f64) -> String {
    if !v.is_finite() {
        return "-".into();
    }
    let n = v.round() as i128;
    let digits = n.abs().to_string();
    let mut s = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            s.push(',');
        }
        s.push(c);
    }
    if n < 0 { format!("-{s}") } else { s }
}

/// A number with about three significant digits: `0.0123`, `1.23`, `123`, `12,345`.
pub fn num(v: f64) -> String {
    if !v.is_finite() {
        return "-".into();
    }
    let a = v.abs();
    if a >= 1000.0 {
        int(v)
    } else if a >= 100.0 {
        format!("{v:.0}")
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else if a >= 1.0 {
        format!("{v:.2}")
    } else if a >= 0.01 {
        format!("{v:.3}")
    } else if a == 0.0 {
        "0".into()
    } else {
        format!("{v:.4}")
    }
}

/// A ratio: `3.2×`.
pub fn ratio(v: f64) -> String {
    if !v.is_finite() || v <= 0.0 {
        return "-".into();
    }
    if v >= 100.0 {
        format!("{v:.0}×")
    } else if v >= 10.0 {
        format!("{v:.1}×")
    } else {
        format!("{v:.2}×")
    }
}

/// Median with the range: `1.23 (1.20–1.40)`.
pub fn spread(median: f64, min: f64, max: f64) -> String {
    format!("{} ({}–{})", num(median), num(min), num(max))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_well() {
        assert_eq!(int(1_234_567.4), "1,234,567");
        assert_eq!(int(999.0), "999");
        assert_eq!(int(-1000.0), "-1,000");
        assert_eq!(num(0.01234), "0.012");
        assert_eq!(num(12.345), "12.3");
        assert_eq!(num(123_456.0), "123,456");
        assert_eq!(ratio(3.214), "3.21×");
        assert_eq!(ratio(0.0), "-");
        assert_eq!(spread(1.5, 1.0, 2.0), "1.50 (1.00–2.00)");
    }

    #[test]
    fn tables_are_markdown() {
        let t = table(&["a", "b"], &[vec!["x".into(), "1".into()]]);
        assert_eq!(t, "| a | b |\n|---|---:|\n| x | 1 |\n");
    }
}
