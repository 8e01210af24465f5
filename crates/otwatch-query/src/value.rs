//! Values and types of the evaluator, with KQL's conversion, comparison and formatting rules.
//!
//! `int` and `long` values are both `i64` (the column type says which);
//! datetimes are microseconds since the epoch (UTC) and timespans are
//! microseconds, the store's resolution. Strings are never null: a null
//! string is the empty string, as in KQL.

use std::cmp::Ordering;
use std::fmt;
use std::sync::Arc;

use serde_json::Value as Json;

use crate::ast::TypeName;

/// A KQL scalar type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Type {
    /// bool
    Bool,
    /// int (32-bit in KQL; held as i64)
    Int,
    /// long
    Long,
    /// real
    Real,
    /// datetime
    DateTime,
    /// timespan
    TimeSpan,
    /// string
    String,
    /// dynamic
    Dynamic,
}

impl Type {
    /// The KQL name.
    pub fn name(self) -> &'static str {
        match self {
            Type::Bool => "bool",
            Type::Int => "int",
            Type::Long => "long",
            Type::Real => "real",
            Type::DateTime => "datetime",
            Type::TimeSpan => "timespan",
            Type::String => "string",
            Type::Dynamic => "dynamic",
        }
    }

    /// From a type name in the query.
    pub fn from_name(t: TypeName) -> Type {
        match t {
            TypeName::Bool => Type::Bool,
            TypeName::Int => Type::Int,
            TypeName::Long => Type::Long,
            TypeName::Real => Type::Real,
            TypeName::String => Type::String,
            TypeName::DateTime => Type::DateTime,
            TypeName::TimeSpan => Type::TimeSpan,
            TypeName::Dynamic => Type::Dynamic,
        }
    }

    /// From the model's hunting column type.
    pub fn from_model(t: otwatch_model::hunt::KqlType) -> Type {
        use otwatch_model::hunt::KqlType as K;
        match t {
            K::String => Type::String,
            K::Long => Type::Long,
            K::Int => Type::Int,
            K::Real => Type::Real,
            K::Bool => Type::Bool,
            K::DateTime => Type::DateTime,
            K::Dynamic => Type::Dynamic,
        }
    }

    /// int, long or real.
    pub fn is_numeric(self) -> bool {
        matches!(self, Type::Int | Type::Long | Type::Real)
    }

    /// int or long.
    pub fn is_integer(self) -> bool {
        matches!(self, Type::Int | Type::Long)
    }

    /// The null of this type (the empty string for strings).
    pub fn null(self) -> Value {
        if self == Type::String { Value::Str(Arc::from("")) } else { Value::Null }
    }
}

/// A scalar value.
#[derive(Clone, Debug)]
pub enum Value {
    /// null (never a string: strings use "").
    Null,
    /// bool
    Bool(bool),
    /// int or long
    Long(i64),
    /// real
    Real(f64),
    /// datetime, microseconds since the epoch
    DateTime(i64),
    /// timespan, microseconds
    TimeSpan(i64),
    /// string
    Str(Arc<str>),
    /// dynamic (never JSON null: that is `Null`)
    Dynamic(Arc<Json>),
}

impl PartialEq for Value {
    fn eq(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Null, Value::Null) => true,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Long(a), Value::Long(b)) => a == b,
            (Value::Real(a), Value::Real(b)) => a == b || (a.is_nan() && b.is_nan()),
            (Value::DateTime(a), Value::DateTime(b)) => a == b,
            (Value::TimeSpan(a), Value::TimeSpan(b)) => a == b,
            (Value::Str(a), Value::Str(b)) => a == b,
            (Value::Dynamic(a), Value::Dynamic(b)) => a == b,
            _ => false,
        }
    }
}

impl Value {
    /// A string value.
    pub fn str(s: &str) -> Value {
        Value::Str(Arc::from(s))
    }

    /// A dynamic value (JSON null becomes `Null`).
    pub fn dynamic(j: Json) -> Value {
        if j.is_null() { Value::Null } else { Value::Dynamic(Arc::new(j)) }
    }

    /// Whether this is null.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The boolean, if this is one.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            Value::Dynamic(j) => j.as_bool(),
            _ => None,
        }
    }

    /// The value as a string (`tostring`): "" for null, JSON text for arrays and objects.
    pub fn to_kql_string(&self) -> String {
        match self {
            Value::Null => String::new(),
            Value::Str(s) => s.to_string(),
            Value::Dynamic(j) => match &**j {
                Json::String(s) => s.clone(),
                other => other.to_string(),
            },
            other => other.to_string(),
        }
    }

    /// The value as a JSON value for the wire (datetimes as RFC 3339, timespans as `[d.]hh:mm:ss[.ffffff]`).
    pub fn to_json(&self) -> Json {
        match self {
            Value::Null => Json::Null,
            Value::Bool(b) => Json::Bool(*b),
            Value::Long(n) => Json::from(*n),
            Value::Real(r) => serde_json::Number::from_f64(*r).map_or(Json::Null, Json::Number),
            Value::Str(s) => Json::String(s.to_string()),
            Value::Dynamic(j) => (**j).clone(),
            Value::DateTime(_) | Value::TimeSpan(_) => Json::String(self.to_string()),
        }
    }

    /// Converts to a long (`tolong`): null when not convertible.
    pub fn to_long(&self) -> Option<i64> {
        match self {
            Value::Long(n) => Some(*n),
            Value::Real(r) if r.is_finite() => Some(r.trunc() as i64),
            Value::Bool(b) => Some(i64::from(*b)),
            Value::DateTime(t) | Value::TimeSpan(t) => Some(*t * 10),
            Value::Str(s) => parse_long(s),
            Value::Dynamic(j) => match &**j {
                Json::Number(n) => n
                    .as_i64()
                    .or_else(|| n.as_f64().filter(|f| f.is_finite()).map(|f| f.trunc() as i64)),
                Json::String(s) => parse_long(s),
                Json::Bool(b) => Some(i64::from(*b)),
                _ => None,
            },
            _ => None,
        }
    }

    /// Converts to a real (`todouble`): null when not convertible.
    pub fn to_real(&self) -> Option<f64> {
        match self {
            Value::Long(n) => Some(*n as f64),
            Value::Real(r) => Some(*r),
            Value::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
            Value::DateTime(t) | Value::TimeSpan(t) => Some(*t as f64 * 10.0),
            Value::Str(s) => parse_real(s),
            Value::Dynamic(j) => match &**j {
                Json::Number(n) => n.as_f64(),
                Json::String(s) => parse_real(s),
                Json::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
                _ => None,
            },
            _ => None,
        }
    }

    /// Converts to a bool (`tobool`).
    pub fn to_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            Value::Long(n) => Some(*n != 0),
            Value::Real(r) => Some(*r != 0.0),
            Value::Str(s) => parse_bool(s),
            Value::Dynamic(j) => match &**j {
                Json::Bool(b) => Some(*b),
                Json::Number(n) => n.as_f64().map(|f| f != 0.0),
                Json::String(s) => parse_bool(s),
                _ => None,
            },
            _ => None,
        }
    }

    /// Converts to a datetime (`todatetime`).
    pub fn to_datetime(&self) -> Option<i64> {
        match self {
            Value::DateTime(t) => Some(*t),
            Value::Str(s) => parse_datetime(s),
            Value::Dynamic(j) => match &**j {
                Json::String(s) => parse_datetime(s),
                _ => None,
            },
            _ => None,
        }
    }

    /// Converts to a timespan (`totimespan`).
    pub fn to_timespan(&self) -> Option<i64> {
        match self {
            Value::TimeSpan(t) => Some(*t),
            Value::Long(n) => Some(n / 10),
            Value::Str(s) => parse_timespan(s),
            Value::Dynamic(j) => match &**j {
                Json::String(s) => parse_timespan(s),
                Json::Number(n) => n.as_i64().map(|n| n / 10),
                _ => None,
            },
            _ => None,
        }
    }

    /// The value as JSON inside a dynamic (for `pack_array`, `make_set`, …).
    pub fn to_dynamic_json(&self) -> Json {
        self.to_json()
    }

    /// Converts to the given type (used for `to typeof(T)`, `parse`, union unification).
    pub fn convert(&self, ty: Type) -> Value {
        match ty {
            Type::Bool => self.to_bool().map_or(Value::Null, Value::Bool),
            Type::Int | Type::Long => self.to_long().map_or(Value::Null, Value::Long),
            Type::Real => self.to_real().map_or(Value::Null, Value::Real),
            Type::DateTime => self.to_datetime().map_or(Value::Null, Value::DateTime),
            Type::TimeSpan => self.to_timespan().map_or(Value::Null, Value::TimeSpan),
            Type::String => Value::str(&self.to_kql_string()),
            Type::Dynamic => match self {
                Value::Dynamic(_) | Value::Null => self.clone(),
                other => Value::dynamic(other.to_json()),
            },
        }
    }

    /// Unwraps a dynamic scalar into a plain value (strings, numbers, bools); arrays and objects stay dynamic.
    pub fn undynamic(&self) -> Value {
        match self {
            Value::Dynamic(j) => match &**j {
                Json::String(s) => Value::str(s),
                Json::Bool(b) => Value::Bool(*b),
                Json::Number(n) => match n.as_i64() {
                    Some(i) => Value::Long(i),
                    None => n.as_f64().map_or(Value::Null, Value::Real),
                },
                Json::Null => Value::Null,
                _ => self.clone(),
            },
            other => other.clone(),
        }
    }

    /// Total order used by sort, min/max and arg_max: values of one type in
    /// their natural order (strings by code point); nulls compare as `Less`.
    pub fn cmp_total(&self, other: &Value) -> Ordering {
        match (self, other) {
            (Value::Null, Value::Null) => Ordering::Equal,
            (Value::Null, _) => Ordering::Less,
            (_, Value::Null) => Ordering::Greater,
            _ => match compare(self, other) {
                Some(o) => o,
                None => rank(self)
                    .cmp(&rank(other))
                    .then_with(|| self.to_kql_string().cmp(&other.to_kql_string())),
            },
        }
    }

    /// A key for grouping and hashing: equal values (per KQL's `==` within one type) give equal keys.
    pub fn key(&self) -> Key {
        match self {
            Value::Null => Key::Null,
            Value::Bool(b) => Key::Long(i64::from(*b)),
            Value::Long(n) | Value::DateTime(n) | Value::TimeSpan(n) => Key::Long(*n),
            Value::Real(r) => {
                if r.fract() == 0.0 && r.abs() < 9.0e15 {
                    Key::Long(*r as i64)
                } else {
                    Key::Real(r.to_bits())
                }
            }
            Value::Str(s) => Key::Str(s.clone()),
            Value::Dynamic(j) => Key::Str(Arc::from(j.to_string())),
        }
    }
}

/// A hashable grouping key for one value.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Key {
    /// null
    Null,
    /// integers, bools, datetimes, timespans and whole reals
    Long(i64),
    /// other reals
    Real(u64),
    /// strings and dynamic JSON text
    Str(Arc<str>),
}

fn rank(v: &Value) -> u8 {
    match v {
        Value::Null => 0,
        Value::Bool(_) => 1,
        Value::Long(_) | Value::Real(_) => 2,
        Value::DateTime(_) => 3,
        Value::TimeSpan(_) => 4,
        Value::Str(_) => 5,
        Value::Dynamic(_) => 6,
    }
}

/// Compares two non-null values of compatible types (KQL `<`, `==`, …); None when not comparable.
pub fn compare(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Long(x), Value::Long(y)) => Some(x.cmp(y)),
        (Value::Long(x), Value::Real(y)) => (*x as f64).partial_cmp(y),
        (Value::Real(x), Value::Long(y)) => x.partial_cmp(&(*y as f64)),
        (Value::Real(x), Value::Real(y)) => x.partial_cmp(y),
        (Value::DateTime(x), Value::DateTime(y)) | (Value::TimeSpan(x), Value::TimeSpan(y)) => {
            Some(x.cmp(y))
        }
        (Value::Str(x), Value::Str(y)) => Some(x.cmp(y)),
        (Value::Bool(x), Value::Bool(y)) => Some(x.cmp(y)),
        (Value::Dynamic(x), Value::Dynamic(y)) => match (&**x, &**y) {
            (Json::Array(_), _)
            | (Json::Object(_), _)
            | (_, Json::Array(_))
            | (_, Json::Object(_)) => {
                if x == y {
                    Some(Ordering::Equal)
                } else {
                    None
                }
            }
            _ => compare(&a.undynamic(), &b.undynamic()),
        },
        (Value::Dynamic(_), other) => {
            let u = a.undynamic();
            if matches!(u, Value::Dynamic(_)) {
                None
            } else {
                compare(&coerce_like(&u, other), other)
            }
        }
        (other, Value::Dynamic(_)) => {
            let u = b.undynamic();
            if matches!(u, Value::Dynamic(_)) {
                None
            } else {
                compare(other, &coerce_like(&u, other))
            }
        }
        _ => None,
    }
}

/// Converts an unwrapped dynamic scalar towards the type of `like` (a JSON
/// string compared with a datetime is parsed as one, and so on).
fn coerce_like(v: &Value, like: &Value) -> Value {
    match like {
        Value::DateTime(_) => v.to_datetime().map_or(Value::Null, Value::DateTime),
        Value::TimeSpan(_) => v.to_timespan().map_or(Value::Null, Value::TimeSpan),
        Value::Str(_) => match v {
            Value::Str(_) => v.clone(),
            _ => Value::str(&v.to_kql_string()),
        },
        _ => v.clone(),
    }
}

fn parse_long(s: &str) -> Option<i64> {
    let t = s.trim();
    t.parse::<i64>()
        .ok()
        .or_else(|| t.parse::<f64>().ok().filter(|f| f.is_finite()).map(|f| f.trunc() as i64))
}

fn parse_real(s: &str) -> Option<f64> {
    let t = s.trim();
    match t {
        "NaN" | "nan" => Some(f64::NAN),
        "Infinity" | "+Infinity" | "inf" => Some(f64::INFINITY),
        "-Infinity" | "-inf" => Some(f64::NEG_INFINITY),
        _ => t.parse::<f64>().ok(),
    }
}

fn parse_bool(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "true" | "1" => Some(true),
        "false" | "0" => Some(false),
        _ => None,
    }
}

/// Parses a datetime: RFC 3339 (any offset), `YYYY-MM-DD`, `YYYY-MM-DD hh:mm[:ss[.f]]` (UTC),
/// with an optional trailing `Z`.
pub fn parse_datetime(s: &str) -> Option<i64> {
    let t = s.trim();
    if t.is_empty() {
        return None;
    }
    if let Ok(ts) = t.parse::<jiff::Timestamp>() {
        return Some(ts.as_microsecond());
    }
    let civil = t.strip_suffix('Z').unwrap_or(t).replacen(' ', "T", 1);
    if let Ok(dt) = civil.parse::<jiff::civil::DateTime>() {
        return jiff::tz::TimeZone::UTC.to_timestamp(dt).ok().map(|ts| ts.as_microsecond());
    }
    if let Ok(d) = civil.parse::<jiff::civil::Date>() {
        return jiff::tz::TimeZone::UTC
            .to_timestamp(d.to_datetime(jiff::civil::Time::midnight()))
            .ok()
            .map(|ts| ts.as_microsecond());
    }
    None
}

/// Parses a timespan: a literal like `1d`/`5m`, or `[-][d.]hh:mm[:ss[.fffffff]]`.
pub fn parse_timespan(s: &str) -> Option<i64> {
    let t = s.trim();
    if let Some(u) = t.find(|c: char| c.is_ascii_alphabetic()) {
        let (num, unit) = t.split_at(u);
        let per = crate::lexer::unit_micros(unit)?;
        let n: f64 = num.parse().ok()?;
        return Some((n * per).round() as i64);
    }
    let (neg, t) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t),
    };
    let (days, rest) = match t.split_once(':') {
        Some((head, tail)) => match head.split_once('.') {
            Some((d, h)) => (d.parse::<i64>().ok()?, format!("{h}:{tail}")),
            None => (0, t.to_string()),
        },
        None => return None,
    };
    let mut parts = rest.split(':');
    let h: i64 = parts.next()?.parse().ok()?;
    let m: i64 = parts.next()?.parse().ok()?;
    let sec: f64 = match parts.next() {
        Some(s) => s.parse().ok()?,
        None => 0.0,
    };
    if parts.next().is_some() {
        return None;
    }
    let total = (((days * 24 + h) * 60 + m) as f64 * 60.0 + sec) * 1e6;
    let v = total.round() as i64;
    Some(if neg { -v } else { v })
}

/// Formats a datetime as RFC 3339 UTC, with 7 fractional digits only when not whole seconds.
pub fn format_datetime(us: i64) -> String {
    match jiff::Timestamp::from_microsecond(us) {
        Ok(ts) => {
            let s = ts.strftime("%Y-%m-%dT%H:%M:%S").to_string();
            let frac = us.rem_euclid(1_000_000);
            if frac == 0 { format!("{s}Z") } else { format!("{s}.{:07}Z", frac * 10) }
        }
        Err(_) => us.to_string(),
    }
}

/// Formats a timespan as KQL does: `[-][d.]hh:mm:ss[.fffffff]`.
pub fn format_timespan(us: i64) -> String {
    let neg = us < 0;
    let a = us.unsigned_abs();
    let frac = a % 1_000_000;
    let secs = a / 1_000_000;
    let (d, h, m, s) = (secs / 86_400, (secs / 3600) % 24, (secs / 60) % 60, secs % 60);
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    if d > 0 {
        out.push_str(&format!("{d}."));
    }
    out.push_str(&format!("{h:02}:{m:02}:{s:02}"));
    if frac > 0 {
        out.push_str(&format!(".{:07}", frac * 10));
    }
    out
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => Ok(()),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Long(n) => write!(f, "{n}"),
            Value::Real(r) => {
                if r.is_nan() {
                    write!(f, "NaN")
                } else if r.is_infinite() {
                    write!(f, "{}", if *r > 0.0 { "Infinity" } else { "-Infinity" })
                } else {
                    write!(f, "{r}")
                }
            }
            Value::DateTime(t) => write!(f, "{}", format_datetime(*t)),
            Value::TimeSpan(t) => write!(f, "{}", format_timespan(*t)),
            Value::Str(s) => write!(f, "{s}"),
            Value::Dynamic(j) => write!(f, "{j}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datetime_and_timespan_text() {
        let t = parse_datetime("2024-03-01T10:00:00Z").unwrap();
        assert_eq!(format_datetime(t), "2024-03-01T10:00:00Z");
        assert_eq!(parse_datetime("2024-03-01 10:00"), Some(t));
        assert_eq!(
            parse_datetime("2024-03-01").map(format_datetime).unwrap(),
            "2024-03-01T00:00:00Z"
        );
        assert_eq!(format_datetime(t + 1500), "2024-03-01T10:00:00.0015000Z");
        assert_eq!(format_timespan(90 * 60 * 1_000_000), "01:30:00");
        assert_eq!(format_timespan(-(86_400 + 1) * 1_000_000), "-1.00:00:01");
        assert_eq!(
            parse_timespan("1.02:03:04"),
            Some(((86_400 + 2 * 3600 + 3 * 60 + 4) as i64) * 1_000_000)
        );
        assert_eq!(parse_timespan("5m"), Some(300_000_000));
        assert_eq!(parse_datetime("yesterday"), None);
    }

    #[test]
    fn conversions() {
        assert_eq!(Value::str(" 42 ").to_long(), Some(42));
        assert_eq!(Value::str("4.7").to_long(), Some(4));
        assert_eq!(Value::str("x").to_long(), None);
        assert_eq!(Value::dynamic(serde_json::json!("16")).to_long(), Some(16));
        assert_eq!(Value::dynamic(serde_json::json!([1, 2])).to_kql_string(), "[1,2]");
        assert_eq!(Value::dynamic(serde_json::json!("a")).to_kql_string(), "a");
        assert_eq!(Value::Null.to_kql_string(), "");
        assert_eq!(Value::str("TRUE").to_bool(), Some(true));
    }

    #[test]
    fn comparisons() {
        assert_eq!(compare(&Value::Long(2), &Value::Real(2.5)), Some(Ordering::Less));
        assert_eq!(compare(&Value::str("a"), &Value::Long(1)), None);
        assert_eq!(
            compare(&Value::dynamic(serde_json::json!("abc")), &Value::str("abc")),
            Some(Ordering::Equal)
        );
        assert_eq!(
            compare(&Value::dynamic(serde_json::json!(5)), &Value::Long(5)),
            Some(Ordering::Equal)
        );
        assert_eq!(Value::Null.cmp_total(&Value::Long(1)), Ordering::Less);
    }
}
