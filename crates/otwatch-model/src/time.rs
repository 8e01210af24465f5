//! UTC timestamps with microsecond resolution, the one time type of the domain.
//!
//! Packet timestamps, detections and every stored time use [`Timestamp`]. It is a
//! plain count of microseconds since the Unix epoch so it sorts, indexes and
//! compares cheaply; it is rendered as RFC 3339 in UTC. Nothing here reads the
//! wall clock: "now" always arrives as a parameter.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A point in time, microseconds since 1970-01-01T00:00:00Z.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(pub i64);

/// Microseconds in one second.
pub const MICROS_PER_SEC: i64 = 1_000_000;
/// Microseconds in one day.
pub const MICROS_PER_DAY: i64 = 86_400 * MICROS_PER_SEC;

impl Timestamp {
    /// The Unix epoch.
    pub const EPOCH: Timestamp = Timestamp(0);

    /// Builds a timestamp from whole seconds since the epoch.
    pub fn from_secs(secs: i64) -> Timestamp {
        Timestamp(secs.saturating_mul(MICROS_PER_SEC))
    }

    /// Builds a timestamp from milliseconds since the epoch.
    pub fn from_millis(ms: i64) -> Timestamp {
        Timestamp(ms.saturating_mul(1000))
    }

    /// Microseconds since the epoch.
    pub fn as_micros(self) -> i64 {
        self.0
    }

    /// Milliseconds since the epoch (rounded down).
    pub fn as_millis(self) -> i64 {
        self.0.div_euclid(1000)
    }

    /// Seconds since the epoch (rounded down).
    pub fn as_secs(self) -> i64 {
        self.0.div_euclid(MICROS_PER_SEC)
    }

    /// This time plus a number of microseconds (saturating).
    pub fn plus_micros(self, micros: i64) -> Timestamp {
        Timestamp(self.0.saturating_add(micros))
    }

    /// Parses RFC 3339 (`2024-03-02T10:00:00Z`, with any offset), a date
    /// (`2024-03-02`, midnight UTC) or an integer of epoch milliseconds.
    pub fn parse(text: &str) -> Result<Timestamp, TimeParseError> {
        let t = text.trim();
        if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
            return t
                .parse::<i64>()
                .map(Timestamp::from_millis)
                .map_err(|_| TimeParseError(text.into()));
        }
        if let Ok(ts) = t.parse::<jiff::Timestamp>() {
            return Ok(Timestamp(ts.as_microsecond()));
        }
        if let Ok(date) = t.parse::<jiff::civil::Date>()
            && let Ok(ts) = jiff::tz::TimeZone::UTC
                .to_timestamp(date.to_datetime(jiff::civil::Time::midnight()))
        {
            return Ok(Timestamp(ts.as_microsecond()));
        }
        Err(TimeParseError(text.into()))
    }

    /// RFC 3339 in UTC, with fractional seconds only when they are not zero.
    pub fn to_rfc3339(self) -> String {
        self.to_string()
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match jiff::Timestamp::from_microsecond(self.0) {
            Ok(ts) => write!(f, "{ts}"),
            Err(_) => write!(f, "@{}us", self.0),
        }
    }
}

/// A time that could not be understood; the text is kept for the message.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "cannot read time {0:?}: expected RFC 3339 like 2024-03-02T10:00:00Z, a date like 2024-03-02, or epoch milliseconds"
)]
pub struct TimeParseError(pub String);

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Timestamp;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an RFC 3339 time string or epoch milliseconds")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Timestamp, E> {
                Timestamp::parse(v).map_err(E::custom)
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Timestamp, E> {
                Ok(Timestamp::from_millis(v))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Timestamp, E> {
                i64::try_from(v)
                    .map(Timestamp::from_millis)
                    .map_err(|_| E::custom("time out of range"))
            }
        }
        d.deserialize_any(V)
    }
}

/// Parses a human duration: `90d`, `12h`, `5m`, `30s`, `250ms`, or combinations like `1h30m`.
/// Returns microseconds.
pub fn parse_duration(text: &str) -> Result<i64, String> {
    let t = text.trim();
    if t.is_empty() {
        return Err("empty duration".into());
    }
    let mut total: i64 = 0;
    let mut num = String::new();
    let mut chars = t.chars().peekable();
    let mut saw_unit = false;
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() {
            num.push(c);
            continue;
        }
        let mut unit = String::from(c);
        while let Some(&n) = chars.peek() {
            if n.is_ascii_alphabetic() {
                unit.push(n);
                chars.next();
            } else {
                break;
            }
        }
        let n: i64 = num
            .parse()
            .map_err(|_| format!("bad duration {text:?}: number expected before {unit:?}"))?;
        num.clear();
        let scale = match unit.as_str() {
            "d" => MICROS_PER_DAY,
            "h" => 3600 * MICROS_PER_SEC,
            "m" | "min" => 60 * MICROS_PER_SEC,
            "s" => MICROS_PER_SEC,
            "ms" => 1000,
            "us" => 1,
            _ => {
                return Err(format!(
                    "bad duration {text:?}: unknown unit {unit:?} (use d, h, m, s, ms)"
                ));
            }
        };
        total = total.saturating_add(n.saturating_mul(scale));
        saw_unit = true;
    }
    if !num.is_empty() || !saw_unit {
        return Err(format!(
            "bad duration {text:?}: a unit is required (d, h, m, s, ms), e.g. 90d"
        ));
    }
    Ok(total)
}

/// Formats microseconds as the shortest exact duration text (`90d`, `2m`, `1h30m`).
pub fn format_duration(micros: i64) -> String {
    if micros == 0 {
        return "0s".into();
    }
    let mut rest = micros;
    let mut out = String::new();
    for (unit, scale) in [
        ("d", MICROS_PER_DAY),
        ("h", 3600 * MICROS_PER_SEC),
        ("m", 60 * MICROS_PER_SEC),
        ("s", MICROS_PER_SEC),
        ("ms", 1000),
        ("us", 1),
    ] {
        let n = rest / scale;
        if n != 0 {
            out.push_str(&format!("{n}{unit}"));
            rest -= n * scale;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_rfc3339() {
        let t = Timestamp::parse("2024-03-02T10:00:00Z").unwrap();
        assert_eq!(t.as_secs(), 1_709_373_600);
        assert_eq!(t.to_string(), "2024-03-02T10:00:00Z");
        let frac = Timestamp(t.0 + 1500);
        assert_eq!(frac.to_string(), "2024-03-02T10:00:00.0015Z");
        assert_eq!(Timestamp::parse("2024-03-02").unwrap().as_secs(), 1_709_337_600);
        assert_eq!(Timestamp::parse("1594550943000").unwrap().as_millis(), 1_594_550_943_000);
        assert!(Timestamp::parse("yesterday").is_err());
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90d").unwrap(), 90 * MICROS_PER_DAY);
        assert_eq!(parse_duration("1h30m").unwrap(), 5400 * MICROS_PER_SEC);
        assert_eq!(format_duration(5400 * MICROS_PER_SEC), "1h30m");
        assert!(parse_duration("90").is_err());
        assert!(parse_duration("3w").is_err());
    }
}
