//! Calendar arithmetic on simulated time (microseconds since the epoch, UTC), for protocol
//! time stamps (CP56Time2a, HTTP dates) and the manifest, without reading any clock.

/// One second in microseconds.
pub const SEC: u64 = 1_000_000;
/// One millisecond in microseconds.
pub const MS: u64 = 1_000;

/// A broken-down UTC time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Civil {
    /// Year.
    pub year: i64,
    /// Month 1–12.
    pub month: u8,
    /// Day of month 1–31.
    pub day: u8,
    /// Hour 0–23.
    pub hour: u8,
    /// Minute 0–59.
    pub minute: u8,
    /// Second 0–59.
    pub second: u8,
    /// Microseconds within the second.
    pub micros: u32,
    /// ISO weekday, Monday = 1 … Sunday = 7.
    pub weekday_iso: u8,
}

impl Civil {
    /// Breaks down a time in microseconds since the epoch.
    pub fn from_micros(us: u64) -> Civil {
        let secs = us / SEC;
        let days = (secs / 86_400) as i64;
        let rem = secs % 86_400;
        // Howard Hinnant's days-to-civil algorithm.
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let y = yoe + era * 400;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let d = doy - (153 * mp + 2) / 5 + 1;
        let m = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = if m <= 2 { y + 1 } else { y };
        // 1970-01-01 was a Thursday (ISO 4).
        let weekday_iso = ((days + 3).rem_euclid(7) + 1) as u8;
        Civil {
            year,
            month: m as u8,
            day: d as u8,
            hour: (rem / 3600) as u8,
            minute: (rem / 60 % 60) as u8,
            second: (rem % 60) as u8,
            micros: (us % SEC) as u32,
            weekday_iso,
        }
    }

    /// RFC 3339 with microseconds, e.g. `2024-06-03T06:00:00.000000Z`.
    pub fn rfc3339(&self) -> String {
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
            self.year, self.month, self.day, self.hour, self.minute, self.second, self.micros
        )
    }

    /// The IMF-fixdate of RFC 9110 (HTTP `Date`).
    pub fn http_date(&self) -> String {
        const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
        const MONTHS: [&str; 12] =
            ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
        format!(
            "{}, {:02} {} {:04} {:02}:{:02}:{:02} GMT",
            DAYS[usize::from(self.weekday_iso - 1)],
            self.day,
            MONTHS[usize::from(self.month - 1)],
            self.year,
            self.hour,
            self.minute,
            self.second
        )
    }
}

/// Parses an RFC 3339 UTC time (`2024-06-03T06:00:00Z`, optional fraction) into microseconds.
pub fn parse_rfc3339(text: &str) -> Option<u64> {
    let t = text.trim();
    let t = t.strip_suffix('Z').or_else(|| t.strip_suffix("+00:00"))?;
    let (date, time) = t.split_once(['T', ' '])?;
    let mut dp = date.split('-');
    let y: i64 = dp.next()?.parse().ok()?;
    let m: i64 = dp.next()?.parse().ok()?;
    let d: i64 = dp.next()?.parse().ok()?;
    let (hms, frac) = time.split_once('.').unwrap_or((time, ""));
    let mut tp = hms.split(':');
    let hh: u64 = tp.next()?.parse().ok()?;
    let mm: u64 = tp.next()?.parse().ok()?;
    let ss: u64 = tp.next()?.parse().ok()?;
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    let micros: u64 = if frac.is_empty() {
        0
    } else {
        let f: String = frac.chars().chain(std::iter::repeat('0')).take(6).collect();
        f.parse().ok()?
    };
    // Civil-to-days (Hinnant).
    let y2 = if m <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    if days < 0 {
        return None;
    }
    Some((days as u64 * 86_400 + hh * 3600 + mm * 60 + ss) * SEC + micros)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        for text in ["2024-06-03T06:00:00Z", "2000-02-29T23:59:59.123456Z", "1970-01-01T00:00:00Z"]
        {
            let us = parse_rfc3339(text).unwrap();
            let c = Civil::from_micros(us);
            let back = parse_rfc3339(&c.rfc3339()).unwrap();
            assert_eq!(us, back, "{text}");
        }
        let c = Civil::from_micros(parse_rfc3339("2024-06-03T06:00:00Z").unwrap());
        assert_eq!(c.weekday_iso, 1);
        assert_eq!(c.http_date(), "Mon, 03 Jun 2024 06:00:00 GMT");
        assert!(parse_rfc3339("2024-13-01T00:00:00Z").is_none());
    }
}
