//! Alert severity and the one mapping between its three scales.
//!
//! Sensors use Critical / Major / Minor / Warning; the portal shows High /
//! Medium / Low; syslog CEF carries 10 / 8 / 4 / 1. The sensor scale is the
//! stored one because it is the finest. The mapping (reference §1.5):
//!
//! | sensor   | portal | CEF |
//! |----------|--------|-----|
//! | Critical | High   | 10  |
//! | Major    | Medium | 8   |
//! | Minor    | Low    | 4   |
//! | Warning  | Low    | 1   |
//!
//! Parsing a portal name picks the highest sensor level that maps to it
//! (Low → Minor), so a round trip portal → sensor → portal is stable.

crate::named_enum! {
    /// Severity on the sensor scale; ordered Warning < Minor < Major < Critical.
    pub enum Severity: "severity" {
        /// Deviation that may or may not be a threat (portal Low, CEF 1).
        Warning = "Warning",
        /// Deviation from the baseline (portal Low, CEF 4).
        Minor = "Minor" | "Low",
        /// Important security threat (portal Medium, CEF 8).
        Major = "Major" | "Medium",
        /// Malicious attack; handle immediately (portal High, CEF 10).
        Critical = "Critical" | "High",
    }
}

/// Severity on the Azure portal's three-level scale.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PortalSeverity {
    /// Minor and Warning.
    Low,
    /// Major.
    Medium,
    /// Critical.
    High,
}

impl PortalSeverity {
    /// The portal's name.
    pub fn as_str(self) -> &'static str {
        match self {
            PortalSeverity::Low => "Low",
            PortalSeverity::Medium => "Medium",
            PortalSeverity::High => "High",
        }
    }
}

impl Severity {
    /// The portal scale.
    pub fn portal(self) -> PortalSeverity {
        match self {
            Severity::Critical => PortalSeverity::High,
            Severity::Major => PortalSeverity::Medium,
            Severity::Minor | Severity::Warning => PortalSeverity::Low,
        }
    }

    /// The CEF integer severity.
    pub fn cef(self) -> u8 {
        match self {
            Severity::Critical => 10,
            Severity::Major => 8,
            Severity::Minor => 4,
            Severity::Warning => 1,
        }
    }

    /// A rank for storage and sorting: Warning 1 … Critical 4.
    pub fn rank(self) -> i64 {
        match self {
            Severity::Warning => 1,
            Severity::Minor => 2,
            Severity::Major => 3,
            Severity::Critical => 4,
        }
    }

    /// The inverse of [`Severity::rank`].
    pub fn from_rank(rank: i64) -> Option<Severity> {
        match rank {
            1 => Some(Severity::Warning),
            2 => Some(Severity::Minor),
            3 => Some(Severity::Major),
            4 => Some(Severity::Critical),
            _ => None,
        }
    }

    /// The nearest severity for a CEF integer (0–10).
    pub fn from_cef(value: u8) -> Severity {
        match value {
            0..=3 => Severity::Warning,
            4..=7 => Severity::Minor,
            8..=9 => Severity::Major,
            _ => Severity::Critical,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_mapping_for_all_scales() {
        let rows = [
            (Severity::Critical, "High", 10),
            (Severity::Major, "Medium", 8),
            (Severity::Minor, "Low", 4),
            (Severity::Warning, "Low", 1),
        ];
        for (sev, portal, cef) in rows {
            assert_eq!(sev.portal().as_str(), portal);
            assert_eq!(sev.cef(), cef);
            assert_eq!(Severity::from_cef(cef), sev);
            assert_eq!(Severity::from_rank(sev.rank()), Some(sev));
        }
        assert_eq!(Severity::parse("high").unwrap(), Severity::Critical);
        assert_eq!(Severity::parse("Low").unwrap(), Severity::Minor);
        assert!(Severity::Warning < Severity::Critical);
        let err = Severity::parse("urgent").unwrap_err().to_string();
        assert!(err.contains("Warning, Minor, Major, Critical"), "{err}");
    }
}
