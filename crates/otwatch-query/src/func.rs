//! Scalar functions: their signatures (checked by the binder), result names and evaluation.
//!
//! Each function is a [`Func`]; [`signature`] checks the argument count and
//! types and gives the result type; [`eval`] computes a value. Functions
//! return null (or "" for strings) rather than failing on bad values, as KQL
//! does.

use std::net::Ipv4Addr;

use serde_json::Value as Json;

use crate::value::{Type, Value};

/// Microseconds between 0001-01-01 and 1970-01-01: KQL bins datetimes from 0001-01-01.
const TICKS_EPOCH_OFFSET: i64 = 62_135_596_800_000_000;
const DAY: i64 = 86_400_000_000;

macro_rules! funcs {
    ($($name:ident = $($kql:literal)|+ ;)*) => {
        /// The scalar functions.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum Func {
            $(
                #[doc = concat!($($kql, " "),+)]
                $name,
            )*
        }

        impl Func {
            /// Looks a function up by its KQL name.
            pub fn lookup(name: &str) -> Option<Func> {
                match name {
                    $($($kql)|+ => Some(Func::$name),)*
                    _ => None,
                }
            }

            /// Every KQL name, for hints and documentation.
            pub const NAMES: &'static [&'static str] = &[$($($kql,)+)*];
        }
    };
}

funcs! {
    Ago = "ago";
    Now = "now";
    Bin = "bin" | "floor";
    BinAt = "bin_at";
    StartOfDay = "startofday";
    StartOfWeek = "startofweek";
    StartOfMonth = "startofmonth";
    StartOfYear = "startofyear";
    EndOfDay = "endofday";
    DatetimeDiff = "datetime_diff";
    DatetimeAdd = "datetime_add";
    ToString = "tostring";
    ToInt = "toint";
    ToLong = "tolong";
    ToReal = "todouble" | "toreal";
    ToBool = "tobool" | "toboolean";
    ToDatetime = "todatetime";
    ToTimespan = "totimespan";
    ParseJson = "parse_json" | "todynamic" | "parsejson" | "toobject";
    IsEmpty = "isempty";
    IsNotEmpty = "isnotempty";
    IsNull = "isnull";
    IsNotNull = "isnotnull";
    Iff = "iff" | "iif";
    Case = "case";
    Coalesce = "coalesce";
    Not = "not";
    Strcat = "strcat";
    StrcatArray = "strcat_array";
    ToLower = "tolower";
    ToUpper = "toupper";
    Split = "split";
    Substring = "substring";
    Strlen = "strlen";
    ReplaceString = "replace_string";
    ReplaceRegex = "replace_regex";
    Trim = "trim";
    TrimStart = "trim_start";
    TrimEnd = "trim_end";
    Extract = "extract";
    IndexOf = "indexof";
    CountOf = "countof";
    ArrayLength = "array_length";
    ArraySortAsc = "array_sort_asc";
    ArraySortDesc = "array_sort_desc";
    PackArray = "pack_array";
    SetHasElement = "set_has_element";
    Ipv4IsInRange = "ipv4_is_in_range";
    Ipv4IsPrivate = "ipv4_is_private";
    Round = "round";
    Abs = "abs";
    MinOf = "min_of";
    MaxOf = "max_of";
    HourOfDay = "hourofday";
    DayOfWeek = "dayofweek";
    DayOfMonth = "dayofmonth";
    MonthOfYear = "monthofyear";
    GetYear = "getyear";
}

/// How a function's result column is named when the query gives no name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Naming {
    /// `ColumnN`.
    Anonymous,
    /// The first argument's name (`tostring(X)` → `X`).
    FirstArg,
    /// A prefix and the first argument's name (`strlen(X)` → `strlen_X`).
    Prefix(&'static str),
    /// The first argument's name and a suffix (`array_sort_asc(X)` → `X_sorted`).
    Suffix(&'static str),
}

impl Func {
    /// Naming rule, as Kusto's analyzer applies it.
    pub fn naming(self) -> Naming {
        use Func::*;
        match self {
            Bin | BinAt | StartOfDay | ToString | ToInt | ToLong | ToReal | ToBool | ToDatetime
            | ToTimespan | ParseJson | Split | Abs | Round => Naming::FirstArg,
            Strlen => Naming::Prefix("strlen"),
            ArraySortAsc | ArraySortDesc => Naming::Suffix("sorted"),
            _ => Naming::Anonymous,
        }
    }

    /// Whether the value depends only on the arguments (so constant calls can
    /// be folded). True for all: `now()` and `ago()` read the query's pinned
    /// "now", which is a constant of the query.
    pub fn is_pure(self) -> bool {
        true
    }
}

/// Argument classes for signatures.
fn stringish(t: Type) -> bool {
    matches!(t, Type::String | Type::Dynamic)
}
fn numeric(t: Type) -> bool {
    t.is_numeric() || t == Type::Dynamic
}
fn datetimeish(t: Type) -> bool {
    matches!(t, Type::DateTime | Type::Dynamic)
}

/// A signature problem: which argument (None: the count) and what was expected.
pub struct SigError {
    /// The argument index, or None when the count is wrong.
    pub arg: Option<usize>,
    /// What was expected.
    pub expected: String,
}

fn want(types: &[Type], i: usize, ok: bool, what: &str) -> Result<(), SigError> {
    if ok || types.get(i) == Some(&Type::Dynamic) && what != "a constant" {
        Ok(())
    } else {
        Err(SigError { arg: Some(i), expected: what.to_string() })
    }
}

fn count(types: &[Type], min: usize, max: usize) -> Result<(), SigError> {
    if types.len() < min || types.len() > max {
        let expected = if min == max {
            format!("{min} argument{}", if min == 1 { "" } else { "s" })
        } else if max == usize::MAX {
            format!("at least {min} arguments")
        } else {
            format!("{min} to {max} arguments")
        };
        return Err(SigError { arg: None, expected });
    }
    Ok(())
}

/// Checks arguments and returns the result type.
pub fn signature(f: Func, t: &[Type]) -> Result<Type, SigError> {
    use Func::*;
    let g = |i: usize| t.get(i).copied().unwrap_or(Type::Dynamic);
    Ok(match f {
        Ago => {
            count(t, 1, 1)?;
            want(t, 0, g(0) == Type::TimeSpan, "a timespan")?;
            Type::DateTime
        }
        Now => {
            count(t, 0, 1)?;
            if !t.is_empty() {
                want(t, 0, g(0) == Type::TimeSpan, "a timespan")?;
            }
            Type::DateTime
        }
        Bin => {
            count(t, 2, 2)?;
            match g(0) {
                Type::DateTime => {
                    want(t, 1, g(1) == Type::TimeSpan, "a timespan")?;
                    Type::DateTime
                }
                Type::TimeSpan => {
                    want(t, 1, g(1) == Type::TimeSpan, "a timespan")?;
                    Type::TimeSpan
                }
                Type::Int | Type::Long => {
                    want(t, 1, g(1).is_numeric(), "a number")?;
                    if g(1) == Type::Real { Type::Real } else { g(0) }
                }
                Type::Real => {
                    want(t, 1, g(1).is_numeric(), "a number")?;
                    Type::Real
                }
                Type::Dynamic => Type::Dynamic,
                _ => {
                    return Err(SigError {
                        arg: Some(0),
                        expected: "a number, datetime or timespan".into(),
                    });
                }
            }
        }
        BinAt => {
            count(t, 3, 3)?;
            want(
                t,
                0,
                matches!(g(0), Type::DateTime | Type::TimeSpan) || g(0).is_numeric(),
                "a number, datetime or timespan",
            )?;
            want(t, 2, g(2) == g(0), "a value of the same type as the first argument")?;
            g(0)
        }
        StartOfDay | StartOfWeek | StartOfMonth | StartOfYear | EndOfDay => {
            count(t, 1, 1)?;
            want(t, 0, datetimeish(g(0)), "a datetime")?;
            Type::DateTime
        }
        DatetimeDiff => {
            count(t, 3, 3)?;
            want(t, 0, g(0) == Type::String, "a string (the part)")?;
            want(t, 1, datetimeish(g(1)), "a datetime")?;
            want(t, 2, datetimeish(g(2)), "a datetime")?;
            Type::Long
        }
        DatetimeAdd => {
            count(t, 3, 3)?;
            want(t, 0, g(0) == Type::String, "a string (the part)")?;
            want(t, 1, g(1).is_integer(), "an integer")?;
            want(t, 2, datetimeish(g(2)), "a datetime")?;
            Type::DateTime
        }
        ToString => {
            count(t, 1, 1)?;
            Type::String
        }
        ToInt => {
            count(t, 1, 1)?;
            Type::Int
        }
        ToLong => {
            count(t, 1, 1)?;
            Type::Long
        }
        ToReal => {
            count(t, 1, 1)?;
            Type::Real
        }
        ToBool => {
            count(t, 1, 1)?;
            Type::Bool
        }
        ToDatetime => {
            count(t, 1, 1)?;
            Type::DateTime
        }
        ToTimespan => {
            count(t, 1, 1)?;
            Type::TimeSpan
        }
        ParseJson => {
            count(t, 1, 1)?;
            Type::Dynamic
        }
        IsEmpty | IsNotEmpty | IsNull | IsNotNull => {
            count(t, 1, 1)?;
            Type::Bool
        }
        Not => {
            count(t, 1, 1)?;
            want(t, 0, g(0) == Type::Bool, "a bool")?;
            Type::Bool
        }
        Iff => {
            count(t, 3, 3)?;
            want(t, 0, g(0) == Type::Bool, "a bool")?;
            unify(g(1), g(2)).ok_or(SigError {
                arg: Some(2),
                expected: format!("a {} like the second argument", g(1).name()),
            })?
        }
        Case => {
            count(t, 3, usize::MAX)?;
            if t.len().is_multiple_of(2) {
                return Err(SigError {
                    arg: None,
                    expected: "pairs of condition and value, then an else value".into(),
                });
            }
            let mut ty = g(t.len() - 1);
            for i in (0..t.len() - 1).step_by(2) {
                want(t, i, g(i) == Type::Bool, "a bool")?;
                ty = unify(ty, g(i + 1))
                    .ok_or(SigError { arg: Some(i + 1), expected: format!("a {}", ty.name()) })?;
            }
            ty
        }
        Coalesce => {
            count(t, 1, 64)?;
            let mut ty = g(0);
            for i in 1..t.len() {
                ty = unify(ty, g(i))
                    .ok_or(SigError { arg: Some(i), expected: format!("a {}", ty.name()) })?;
            }
            ty
        }
        MinOf | MaxOf => {
            count(t, 1, 64)?;
            let mut ty = g(0);
            for i in 1..t.len() {
                ty = unify(ty, g(i))
                    .ok_or(SigError { arg: Some(i), expected: format!("a {}", ty.name()) })?;
            }
            ty
        }
        Strcat => {
            count(t, 1, 64)?;
            Type::String
        }
        StrcatArray => {
            count(t, 2, 2)?;
            want(t, 0, g(0) == Type::Dynamic, "a dynamic array")?;
            want(t, 1, stringish(g(1)), "a string")?;
            Type::String
        }
        ToLower | ToUpper => {
            count(t, 1, 1)?;
            want(t, 0, stringish(g(0)), "a string")?;
            Type::String
        }
        Split => {
            count(t, 2, 3)?;
            want(t, 0, stringish(g(0)), "a string")?;
            want(t, 1, stringish(g(1)), "a string")?;
            if t.len() == 3 {
                want(t, 2, g(2).is_integer(), "an integer")?;
            }
            Type::Dynamic
        }
        Substring => {
            count(t, 2, 3)?;
            want(t, 1, numeric(g(1)), "a number")?;
            if t.len() == 3 {
                want(t, 2, numeric(g(2)), "a number")?;
            }
            Type::String
        }
        Strlen => {
            count(t, 1, 1)?;
            want(t, 0, stringish(g(0)), "a string")?;
            Type::Long
        }
        ReplaceString | ReplaceRegex => {
            count(t, 3, 3)?;
            for i in 0..3 {
                want(t, i, stringish(g(i)), "a string")?;
            }
            Type::String
        }
        Trim | TrimStart | TrimEnd => {
            count(t, 2, 2)?;
            want(t, 0, stringish(g(0)), "a string (a regular expression)")?;
            want(t, 1, stringish(g(1)), "a string")?;
            Type::String
        }
        Extract => {
            count(t, 3, 4)?;
            want(t, 0, g(0) == Type::String, "a string (a regular expression)")?;
            want(t, 1, g(1).is_integer(), "an integer (the capture group)")?;
            want(t, 2, stringish(g(2)), "a string")?;
            Type::String
        }
        IndexOf => {
            count(t, 2, 2)?;
            want(t, 0, stringish(g(0)), "a string")?;
            want(t, 1, stringish(g(1)), "a string")?;
            Type::Long
        }
        CountOf => {
            count(t, 2, 2)?;
            want(t, 0, stringish(g(0)), "a string")?;
            want(t, 1, stringish(g(1)), "a string")?;
            Type::Long
        }
        ArrayLength => {
            count(t, 1, 1)?;
            want(t, 0, g(0) == Type::Dynamic, "a dynamic array")?;
            Type::Long
        }
        ArraySortAsc | ArraySortDesc => {
            count(t, 1, 1)?;
            want(t, 0, g(0) == Type::Dynamic, "a dynamic array")?;
            Type::Dynamic
        }
        PackArray => {
            count(t, 1, 64)?;
            Type::Dynamic
        }
        SetHasElement => {
            count(t, 2, 2)?;
            want(t, 0, g(0) == Type::Dynamic, "a dynamic array")?;
            Type::Bool
        }
        Ipv4IsInRange => {
            count(t, 2, 2)?;
            want(t, 0, stringish(g(0)), "a string")?;
            want(t, 1, stringish(g(1)), "a string")?;
            Type::Bool
        }
        Ipv4IsPrivate => {
            count(t, 1, 1)?;
            want(t, 0, stringish(g(0)), "a string")?;
            Type::Bool
        }
        Round => {
            count(t, 1, 2)?;
            want(t, 0, numeric(g(0)), "a number")?;
            if t.len() == 2 {
                want(t, 1, g(1).is_integer(), "an integer")?;
            }
            if g(0).is_integer() { g(0) } else { Type::Real }
        }
        Abs => {
            count(t, 1, 1)?;
            want(t, 0, numeric(g(0)) || g(0) == Type::TimeSpan, "a number")?;
            if g(0) == Type::Dynamic { Type::Real } else { g(0) }
        }
        HourOfDay | DayOfMonth | MonthOfYear | GetYear => {
            count(t, 1, 1)?;
            want(t, 0, datetimeish(g(0)), "a datetime")?;
            Type::Int
        }
        DayOfWeek => {
            count(t, 1, 1)?;
            want(t, 0, datetimeish(g(0)), "a datetime")?;
            Type::TimeSpan
        }
    })
}

/// The common type of two branches (int and long give long, numbers give real).
pub fn unify(a: Type, b: Type) -> Option<Type> {
    if a == b {
        return Some(a);
    }
    match (a, b) {
        (Type::Int, Type::Long) | (Type::Long, Type::Int) => Some(Type::Long),
        (x, y) if x.is_numeric() && y.is_numeric() => Some(Type::Real),
        (Type::Dynamic, x) | (x, Type::Dynamic) => Some(x),
        _ => None,
    }
}

/// What [`eval`] needs besides the arguments.
pub struct Ctx {
    /// "now" for this query.
    pub now: i64,
}

fn s(v: &Value) -> String {
    v.to_kql_string()
}

fn dt(v: &Value) -> Option<i64> {
    v.to_datetime()
}

fn civil(us: i64) -> Option<jiff::civil::DateTime> {
    jiff::Timestamp::from_microsecond(us).ok().map(|t| jiff::tz::TimeZone::UTC.to_datetime(t))
}

fn from_civil(d: jiff::civil::DateTime) -> Value {
    jiff::tz::TimeZone::UTC
        .to_timestamp(d)
        .ok()
        .map_or(Value::Null, |t| Value::DateTime(t.as_microsecond()))
}

/// Rounds `v` down to a multiple of `size` (datetimes from 0001-01-01, as KQL).
pub fn bin_value(v: &Value, size: &Value) -> Value {
    match (v, size) {
        (Value::DateTime(t), Value::TimeSpan(sz)) if *sz > 0 => {
            let shifted = t.saturating_add(TICKS_EPOCH_OFFSET);
            Value::DateTime(shifted.div_euclid(*sz) * sz - TICKS_EPOCH_OFFSET)
        }
        (Value::TimeSpan(t), Value::TimeSpan(sz)) if *sz > 0 => {
            Value::TimeSpan(t.div_euclid(*sz) * sz)
        }
        (Value::Long(n), Value::Long(sz)) if *sz > 0 => Value::Long(n.div_euclid(*sz) * sz),
        (a, b) => match (a.to_real(), b.to_real()) {
            (Some(x), Some(sz))
                if sz > 0.0
                    && !matches!(a, Value::DateTime(_) | Value::TimeSpan(_) | Value::Null) =>
            {
                Value::Real((x / sz).floor() * sz)
            }
            _ => Value::Null,
        },
    }
}

fn ipv4(s: &str) -> Option<u32> {
    s.trim().parse::<Ipv4Addr>().ok().map(u32::from)
}

/// Parses `a.b.c.d[/n]` into (network, prefix length).
fn cidr(s: &str) -> Option<(u32, u32)> {
    let (ip, len) = match s.trim().split_once('/') {
        Some((ip, n)) => (ip, n.trim().parse::<u32>().ok().filter(|n| *n <= 32)?),
        None => (s, 32),
    };
    Some((ipv4(ip)?, len))
}

fn mask(len: u32) -> u32 {
    if len == 0 { 0 } else { u32::MAX << (32 - len) }
}

fn json_sort_key(a: &Json, b: &Json) -> std::cmp::Ordering {
    let va = Value::dynamic(a.clone()).undynamic();
    let vb = Value::dynamic(b.clone()).undynamic();
    va.cmp_total(&vb)
}

fn regex_of(v: &Value) -> Option<regex::Regex> {
    regex::RegexBuilder::new(&s(v)).size_limit(1 << 20).build().ok()
}

/// Evaluates a function on its argument values.
pub fn eval(f: Func, a: &[Value], cx: &Ctx) -> Value {
    use Func::*;
    let arg = |i: usize| a.get(i).cloned().unwrap_or(Value::Null);
    match f {
        Ago => match arg(0) {
            Value::TimeSpan(t) => Value::DateTime(cx.now.saturating_sub(t)),
            _ => Value::Null,
        },
        Now => match arg(0) {
            Value::TimeSpan(t) => Value::DateTime(cx.now.saturating_add(t)),
            _ => Value::DateTime(cx.now),
        },
        Bin => bin_value(&arg(0).undynamic(), &arg(1)),
        BinAt => {
            let (v, sz, at) = (arg(0), arg(1), arg(2));
            match (&v, &sz, &at) {
                (Value::DateTime(t), Value::TimeSpan(z), Value::DateTime(x)) if *z > 0 => {
                    Value::DateTime((t - x).div_euclid(*z) * z + x)
                }
                (Value::Long(t), Value::Long(z), Value::Long(x)) if *z > 0 => {
                    Value::Long((t - x).div_euclid(*z) * z + x)
                }
                _ => Value::Null,
            }
        }
        StartOfDay => dt(&arg(0)).map_or(Value::Null, |t| Value::DateTime(t.div_euclid(DAY) * DAY)),
        EndOfDay => {
            dt(&arg(0)).map_or(Value::Null, |t| Value::DateTime(t.div_euclid(DAY) * DAY + DAY - 1))
        }
        StartOfWeek => dt(&arg(0)).map_or(Value::Null, |t| {
            // 1970-01-01 was a Thursday; weeks start on Sunday.
            let day = t.div_euclid(DAY);
            let dow = (day + 4).rem_euclid(7);
            Value::DateTime((day - dow) * DAY)
        }),
        StartOfMonth => dt(&arg(0)).and_then(civil).map_or(Value::Null, |d| {
            from_civil(
                jiff::civil::date(d.year(), d.month(), 1)
                    .to_datetime(jiff::civil::Time::midnight()),
            )
        }),
        StartOfYear => dt(&arg(0)).and_then(civil).map_or(Value::Null, |d| {
            from_civil(jiff::civil::date(d.year(), 1, 1).to_datetime(jiff::civil::Time::midnight()))
        }),
        DatetimeDiff => {
            let (Some(x), Some(y)) = (dt(&arg(1)), dt(&arg(2))) else { return Value::Null };
            let part = s(&arg(0)).to_ascii_lowercase();
            let by = |unit: i64| Value::Long(x.div_euclid(unit) - y.div_euclid(unit));
            match part.as_str() {
                "year" => match (civil(x), civil(y)) {
                    (Some(a), Some(b)) => Value::Long(i64::from(a.year()) - i64::from(b.year())),
                    _ => Value::Null,
                },
                "quarter" => match (civil(x), civil(y)) {
                    (Some(a), Some(b)) => Value::Long(
                        (i64::from(a.year()) * 4 + i64::from(a.month() - 1) / 3)
                            - (i64::from(b.year()) * 4 + i64::from(b.month() - 1) / 3),
                    ),
                    _ => Value::Null,
                },
                "month" => match (civil(x), civil(y)) {
                    (Some(a), Some(b)) => Value::Long(
                        (i64::from(a.year()) * 12 + i64::from(a.month()))
                            - (i64::from(b.year()) * 12 + i64::from(b.month())),
                    ),
                    _ => Value::Null,
                },
                "week" => {
                    let sw = |t: i64| {
                        let day = t.div_euclid(DAY);
                        day - (day + 4).rem_euclid(7)
                    };
                    Value::Long((sw(x) - sw(y)) / 7)
                }
                "day" => by(DAY),
                "hour" => by(3_600_000_000),
                "minute" => by(60_000_000),
                "second" => by(1_000_000),
                "millisecond" => by(1_000),
                "microsecond" => by(1),
                _ => Value::Null,
            }
        }
        DatetimeAdd => {
            let (Some(t), Some(n)) = (dt(&arg(2)), arg(1).to_long()) else { return Value::Null };
            let part = s(&arg(0)).to_ascii_lowercase();
            let add = |unit: i64| {
                n.checked_mul(unit)
                    .and_then(|d| t.checked_add(d))
                    .map_or(Value::Null, Value::DateTime)
            };
            match part.as_str() {
                "year" | "quarter" | "month" => {
                    let months = match part.as_str() {
                        "year" => n.saturating_mul(12),
                        "quarter" => n.saturating_mul(3),
                        _ => n,
                    };
                    let Some(d) = civil(t) else { return Value::Null };
                    match jiff::Span::new()
                        .try_months(months)
                        .ok()
                        .and_then(|sp| d.checked_add(sp).ok())
                    {
                        Some(r) => from_civil(r),
                        None => Value::Null,
                    }
                }
                "week" => add(7 * DAY),
                "day" => add(DAY),
                "hour" => add(3_600_000_000),
                "minute" => add(60_000_000),
                "second" => add(1_000_000),
                "millisecond" => add(1_000),
                "microsecond" => add(1),
                _ => Value::Null,
            }
        }
        ToString => Value::str(&s(&arg(0))),
        ToInt => {
            arg(0).to_long().filter(|n| i32::try_from(*n).is_ok()).map_or(Value::Null, Value::Long)
        }
        ToLong => arg(0).to_long().map_or(Value::Null, Value::Long),
        ToReal => arg(0).to_real().map_or(Value::Null, Value::Real),
        ToBool => arg(0).to_bool().map_or(Value::Null, Value::Bool),
        ToDatetime => arg(0).to_datetime().map_or(Value::Null, Value::DateTime),
        ToTimespan => arg(0).to_timespan().map_or(Value::Null, Value::TimeSpan),
        ParseJson => match arg(0) {
            Value::Str(t) => match serde_json::from_str::<Json>(&t) {
                Ok(j) => Value::dynamic(j),
                Err(_) => Value::dynamic(Json::String(t.to_string())),
            },
            Value::Dynamic(j) => Value::Dynamic(j),
            Value::Null => Value::Null,
            other => Value::dynamic(other.to_json()),
        },
        IsEmpty => Value::Bool(match arg(0) {
            Value::Null => true,
            Value::Str(t) => t.is_empty(),
            Value::Dynamic(j) => matches!(&*j, Json::String(t) if t.is_empty()),
            _ => false,
        }),
        IsNotEmpty => Value::Bool(match arg(0) {
            Value::Null => false,
            Value::Str(t) => !t.is_empty(),
            Value::Dynamic(j) => !matches!(&*j, Json::String(t) if t.is_empty()),
            _ => true,
        }),
        IsNull => Value::Bool(arg(0).is_null()),
        IsNotNull => Value::Bool(!arg(0).is_null()),
        Not => match arg(0).as_bool() {
            Some(b) => Value::Bool(!b),
            None => Value::Null,
        },
        Iff => {
            if arg(0).as_bool() == Some(true) {
                arg(1)
            } else {
                arg(2)
            }
        }
        Case => {
            let n = a.len();
            let mut i = 0;
            while i + 1 < n {
                if arg(i).as_bool() == Some(true) {
                    return arg(i + 1);
                }
                i += 2;
            }
            arg(n.saturating_sub(1))
        }
        Coalesce => a
            .iter()
            .find(|v| match v {
                Value::Null => false,
                Value::Str(t) => !t.is_empty(),
                _ => true,
            })
            .cloned()
            .unwrap_or_else(|| arg(a.len().saturating_sub(1))),
        MinOf | MaxOf => {
            let mut best: Option<Value> = None;
            for v in a.iter().filter(|v| !v.is_null()) {
                best = Some(match best {
                    None => v.clone(),
                    Some(b) => {
                        let o = v.cmp_total(&b);
                        if (f == MinOf && o.is_lt()) || (f == MaxOf && o.is_gt()) {
                            v.clone()
                        } else {
                            b
                        }
                    }
                });
            }
            best.unwrap_or(Value::Null)
        }
        Strcat => {
            let mut out = String::new();
            for v in a {
                out.push_str(&s(v));
            }
            Value::str(&out)
        }
        StrcatArray => match arg(0) {
            Value::Dynamic(j) => match &*j {
                Json::Array(items) => {
                    let parts: Vec<String> =
                        items.iter().map(|x| Value::dynamic(x.clone()).to_kql_string()).collect();
                    Value::str(&parts.join(&s(&arg(1))))
                }
                _ => Value::str(""),
            },
            _ => Value::str(""),
        },
        ToLower => Value::str(&s(&arg(0)).to_lowercase()),
        ToUpper => Value::str(&s(&arg(0)).to_uppercase()),
        Split => {
            let text = s(&arg(0));
            let delim = s(&arg(1));
            let parts: Vec<Json> = if delim.is_empty() {
                vec![Json::String(text)]
            } else {
                text.split(delim.as_str()).map(|p| Json::String(p.to_string())).collect()
            };
            if a.len() == 3 {
                match arg(2)
                    .to_long()
                    .and_then(|i| usize::try_from(i).ok())
                    .and_then(|i| parts.get(i))
                {
                    Some(p) => Value::dynamic(Json::Array(vec![p.clone()])),
                    None => Value::dynamic(Json::Array(Vec::new())),
                }
            } else {
                Value::dynamic(Json::Array(parts))
            }
        }
        Substring => {
            let text = s(&arg(0));
            let chars: Vec<char> = text.chars().collect();
            let n = chars.len() as i64;
            let Some(mut start) = arg(1).to_long() else { return Value::str("") };
            if start < 0 {
                start = 0;
            }
            let len = if a.len() == 3 { arg(2).to_long().unwrap_or(0) } else { n };
            let end = start.saturating_add(len.max(0)).min(n);
            if start >= n || end <= start {
                return Value::str("");
            }
            Value::str(&chars[start as usize..end as usize].iter().collect::<String>())
        }
        Strlen => Value::Long(s(&arg(0)).chars().count() as i64),
        ReplaceString => {
            let lookup = s(&arg(1));
            if lookup.is_empty() {
                return Value::str(&s(&arg(0)));
            }
            Value::str(&s(&arg(0)).replace(&lookup, &s(&arg(2))))
        }
        ReplaceRegex => match regex_of(&arg(1)) {
            Some(re) => {
                let rewrite = regex_rewrite(&s(&arg(2)));
                Value::str(&re.replace_all(&s(&arg(0)), rewrite.as_str()))
            }
            None => Value::Null,
        },
        Trim | TrimStart | TrimEnd => {
            let pat = s(&arg(0));
            let start = regex::Regex::new(&format!("^(?:{pat})+"));
            let end = regex::Regex::new(&format!("(?:{pat})+$"));
            let (Ok(start), Ok(end)) = (start, end) else { return Value::Null };
            let mut out = s(&arg(1));
            if f != TrimEnd {
                out = start.replace(&out, "").into_owned();
            }
            if f != TrimStart {
                out = end.replace(&out, "").into_owned();
            }
            Value::str(&out)
        }
        Extract => {
            let Some(re) = regex_of(&arg(0)) else { return Value::Null };
            let group = arg(1).to_long().and_then(|g| usize::try_from(g).ok()).unwrap_or(0);
            let text = s(&arg(2));
            let found =
                re.captures(&text).and_then(|c| c.get(group)).map(|m| m.as_str().to_string());
            match (found, a.get(3)) {
                (Some(m), None) => Value::str(&m),
                (None, None) => Value::str(""),
                (Some(m), Some(Value::Str(ty))) => Value::str(&m)
                    .convert(crate::ast::TypeName::parse(ty).map_or(Type::String, Type::from_name)),
                _ => Value::Null,
            }
        }
        IndexOf => {
            let text = s(&arg(0));
            let needle = s(&arg(1));
            match text.find(&needle) {
                Some(i) => Value::Long(text.get(..i).map_or(0, |p| p.chars().count()) as i64),
                None => Value::Long(-1),
            }
        }
        CountOf => {
            let needle = s(&arg(1));
            if needle.is_empty() {
                return Value::Long(0);
            }
            Value::Long(s(&arg(0)).matches(&needle).count() as i64)
        }
        ArrayLength => match arg(0) {
            Value::Dynamic(j) => match &*j {
                Json::Array(v) => Value::Long(v.len() as i64),
                _ => Value::Null,
            },
            _ => Value::Null,
        },
        ArraySortAsc | ArraySortDesc => match arg(0) {
            Value::Dynamic(j) => match &*j {
                Json::Array(v) => {
                    let mut v = v.clone();
                    // Nulls last in both directions.
                    v.sort_by(|x, y| match (x.is_null(), y.is_null()) {
                        (true, true) => std::cmp::Ordering::Equal,
                        (true, false) => std::cmp::Ordering::Greater,
                        (false, true) => std::cmp::Ordering::Less,
                        _ => {
                            let o = json_sort_key(x, y);
                            if f == ArraySortDesc { o.reverse() } else { o }
                        }
                    });
                    Value::dynamic(Json::Array(v))
                }
                _ => Value::Null,
            },
            _ => Value::Null,
        },
        PackArray => Value::dynamic(Json::Array(a.iter().map(Value::to_json).collect())),
        SetHasElement => match arg(0) {
            Value::Dynamic(j) => match &*j {
                Json::Array(v) => {
                    let want = arg(1);
                    Value::Bool(v.iter().any(|x| {
                        let x = Value::dynamic(x.clone()).undynamic();
                        crate::value::compare(&x, &want.undynamic()).is_some_and(|o| o.is_eq())
                    }))
                }
                _ => Value::Null,
            },
            _ => Value::Null,
        },
        Ipv4IsInRange => match (ipv4(&s(&arg(0))), cidr(&s(&arg(1)))) {
            (Some(ip), Some((net, len))) => Value::Bool(ip & mask(len) == net & mask(len)),
            _ => Value::Null,
        },
        Ipv4IsPrivate => match ipv4(&s(&arg(0))) {
            Some(ip) => {
                let in_net = |net: u32, len: u32| ip & mask(len) == net & mask(len);
                Value::Bool(
                    in_net(0x0A00_0000, 8) || in_net(0xAC10_0000, 12) || in_net(0xC0A8_0000, 16),
                )
            }
            None => Value::Null,
        },
        Round => {
            let digits = if a.len() == 2 { arg(1).to_long().unwrap_or(0) } else { 0 };
            match arg(0).undynamic() {
                Value::Long(n) => {
                    if digits >= 0 {
                        Value::Long(n)
                    } else {
                        let p =
                            10i64.checked_pow(digits.unsigned_abs().min(18) as u32).unwrap_or(1);
                        let r = (n as f64 / p as f64).round() as i64 * p;
                        Value::Long(r)
                    }
                }
                other => match other.to_real() {
                    Some(x) => {
                        let p = 10f64.powi(digits.clamp(-300, 300) as i32);
                        Value::Real((x * p).round() / p)
                    }
                    None => Value::Null,
                },
            }
        }
        Abs => match arg(0).undynamic() {
            Value::Long(n) => Value::Long(n.wrapping_abs()),
            Value::Real(r) => Value::Real(r.abs()),
            Value::TimeSpan(t) => Value::TimeSpan(t.wrapping_abs()),
            _ => Value::Null,
        },
        HourOfDay => {
            dt(&arg(0)).map_or(Value::Null, |t| Value::Long(t.rem_euclid(DAY) / 3_600_000_000))
        }
        DayOfWeek => dt(&arg(0)).map_or(Value::Null, |t| {
            let day = t.div_euclid(DAY);
            Value::TimeSpan((day + 4).rem_euclid(7) * DAY)
        }),
        DayOfMonth => {
            dt(&arg(0)).and_then(civil).map_or(Value::Null, |d| Value::Long(i64::from(d.day())))
        }
        MonthOfYear => {
            dt(&arg(0)).and_then(civil).map_or(Value::Null, |d| Value::Long(i64::from(d.month())))
        }
        GetYear => {
            dt(&arg(0)).and_then(civil).map_or(Value::Null, |d| Value::Long(i64::from(d.year())))
        }
    }
}

/// Turns KQL's `\1` group references into the regex crate's `${1}`.
fn regex_rewrite(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek().is_some_and(char::is_ascii_digit) => {
                let d = chars.next().unwrap_or('0');
                out.push_str(&format!("${{{d}}}"));
            }
            '$' => out.push_str("$$"),
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn string(s: &str) -> Value {
        Value::str(s)
    }

    fn call(f: Func, a: &[Value]) -> Value {
        eval(f, a, &Ctx { now: 1_000 * DAY })
    }

    fn d(s: &str) -> Value {
        Value::DateTime(crate::value::parse_datetime(s).unwrap())
    }

    #[test]
    fn dates() {
        assert_eq!(call(Func::StartOfWeek, &[d("2024-03-06T10:00:00Z")]), d("2024-03-03"));
        assert_eq!(call(Func::StartOfMonth, &[d("2024-03-06T10:00:00Z")]), d("2024-03-01"));
        assert_eq!(call(Func::DayOfWeek, &[d("2024-03-04")]), Value::TimeSpan(DAY)); // Monday
        assert_eq!(call(Func::HourOfDay, &[d("2024-03-04T13:59:00Z")]), Value::Long(13));
        assert_eq!(
            call(
                Func::DatetimeDiff,
                &[string("day"), d("2024-03-02T00:00:01Z"), d("2024-03-01T23:59:59Z")]
            ),
            Value::Long(1)
        );
        assert_eq!(
            call(Func::DatetimeDiff, &[string("month"), d("2024-03-01"), d("2023-12-31")]),
            Value::Long(3)
        );
        assert_eq!(
            call(Func::DatetimeAdd, &[string("month"), Value::Long(1), d("2024-01-31")]),
            d("2024-02-29")
        );
        // bin on 7d aligns to 0001-01-01 (a Monday).
        assert_eq!(
            bin_value(&d("2024-03-06T10:00:00Z"), &Value::TimeSpan(7 * DAY)),
            d("2024-03-04")
        );
        assert_eq!(
            bin_value(&d("2024-03-06T10:20:00Z"), &Value::TimeSpan(3_600_000_000)),
            d("2024-03-06T10:00:00Z")
        );
        assert_eq!(bin_value(&Value::Long(-7), &Value::Long(5)), Value::Long(-10));
        assert_eq!(bin_value(&Value::Real(7.5), &Value::Long(2)), Value::Real(6.0));
    }

    #[test]
    fn strings() {
        assert_eq!(
            call(Func::Substring, &[string("abcdef"), Value::Long(1), Value::Long(3)]),
            string("bcd")
        );
        assert_eq!(call(Func::Substring, &[string("abc"), Value::Long(5)]), string(""));
        assert_eq!(call(Func::Trim, &[string(" "), string("  a b  ")]), string("a b"));
        assert_eq!(call(Func::TrimStart, &[string("x"), string("xxaxx")]), string("axx"));
        assert_eq!(call(Func::TrimEnd, &[string("x"), string("xxaxx")]), string("xxa"));
        assert_eq!(
            call(Func::Extract, &[string("port (\\d+)"), Value::Long(1), string("port 502 open")]),
            string("502")
        );
        assert_eq!(call(Func::IndexOf, &[string("héllo"), string("llo")]), Value::Long(2));
        assert_eq!(
            call(Func::ReplaceRegex, &[string("a1b22"), string("(\\d+)"), string("<\\1>")]),
            string("a<1>b<22>")
        );
        assert_eq!(
            call(Func::Split, &[string("10.1.2.3"), string("."), Value::Long(2)]).to_kql_string(),
            "[\"2\"]"
        );
        assert_eq!(call(Func::Coalesce, &[string(""), string("x")]), string("x"));
    }

    #[test]
    fn ip_functions() {
        assert_eq!(
            call(Func::Ipv4IsInRange, &[string("10.10.5.20"), string("10.10.0.0/16")]),
            Value::Bool(true)
        );
        assert_eq!(
            call(Func::Ipv4IsInRange, &[string("10.11.5.20"), string("10.10.0.0/16")]),
            Value::Bool(false)
        );
        assert_eq!(
            call(Func::Ipv4IsInRange, &[string("nope"), string("10.10.0.0/16")]),
            Value::Null
        );
        assert_eq!(call(Func::Ipv4IsPrivate, &[string("172.20.1.1")]), Value::Bool(true));
        assert_eq!(call(Func::Ipv4IsPrivate, &[string("8.8.8.8")]), Value::Bool(false));
    }

    #[test]
    fn numbers() {
        assert_eq!(call(Func::Round, &[Value::Real(2.5)]), Value::Real(3.0));
        assert_eq!(call(Func::Round, &[Value::Real(1.23456), Value::Long(2)]), Value::Real(1.23));
        assert_eq!(call(Func::ToInt, &[string("3000000000")]), Value::Null);
        assert_eq!(call(Func::Abs, &[Value::Long(-3)]), Value::Long(3));
    }
}
