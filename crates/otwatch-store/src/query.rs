//! Typed queries over alerts, devices, connections, events and the audit log.
//!
//! Queries name columns through closed enums ([`AlertField`]) and carry typed
//! values ([`Value`]); a backend maps each column to its own SQL column and
//! binds every value as a parameter, so no user text ever becomes SQL. Values
//! arrive as text from the CLI and the API and are checked here, with errors
//! that name the field.

use otwatch_model::{
    AlertField, Category, Disposition, Engine, FieldKind, Severity, Status, Timestamp,
};

use crate::StoreError;

/// A typed filter value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    /// Text.
    Text(String),
    /// Integer (also severity rank, status and disposition codes).
    Int(i64),
    /// Time.
    Time(Timestamp),
    /// Boolean.
    Bool(bool),
}

/// How a filter compares.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FilterOp {
    /// The column equals one of the values (a list column contains one of them).
    In(Vec<Value>),
    /// The column equals none of the values.
    NotIn(Vec<Value>),
    /// The column contains the text, case-insensitively.
    Contains(String),
    /// The column is within an inclusive range (either end open).
    Range {
        /// Lower bound, inclusive.
        min: Option<Value>,
        /// Upper bound, inclusive.
        max: Option<Value>,
    },
}

/// One condition on one alert column.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Filter {
    /// Column.
    pub field: AlertField,
    /// Comparison.
    pub op: FilterOp,
}

/// Maximum values in one filter.
pub const MAX_FILTER_VALUES: usize = 1000;
/// Largest page.
pub const MAX_PAGE: usize = 10_000;
/// Default page.
pub const DEFAULT_PAGE: usize = 100;
/// Most alerts one bulk action may change.
pub const MAX_PAGE_FOR_BULK: usize = 100_000;

impl Filter {
    /// `field` equals any of `values` (text, checked and typed for the column).
    pub fn any_of(field: AlertField, values: &[&str]) -> Result<Filter, StoreError> {
        Ok(Filter { field, op: FilterOp::In(parse_values(field, values)?) })
    }

    /// `field` equals none of `values`.
    pub fn none_of(field: AlertField, values: &[&str]) -> Result<Filter, StoreError> {
        Ok(Filter { field, op: FilterOp::NotIn(parse_values(field, values)?) })
    }

    /// `field` contains `text` (text columns only).
    pub fn contains(field: AlertField, text: &str) -> Result<Filter, StoreError> {
        if !matches!(field.kind(), FieldKind::Text | FieldKind::List) {
            return Err(StoreError::invalid(field.key(), "contains works on text columns only"));
        }
        Ok(Filter { field, op: FilterOp::Contains(text.to_string()) })
    }

    /// `field` between `min` and `max` inclusive (numbers and times).
    pub fn range(
        field: AlertField,
        min: Option<&str>,
        max: Option<&str>,
    ) -> Result<Filter, StoreError> {
        if !matches!(field.kind(), FieldKind::Integer | FieldKind::Time | FieldKind::Severity) {
            return Err(StoreError::invalid(
                field.key(),
                "ranges work on numbers, times and severity only",
            ));
        }
        let min = min.map(|v| parse_value(field, v)).transpose()?;
        let max = max.map(|v| parse_value(field, v)).transpose()?;
        Ok(Filter { field, op: FilterOp::Range { min, max } })
    }
}

fn parse_values(field: AlertField, values: &[&str]) -> Result<Vec<Value>, StoreError> {
    if values.is_empty() {
        return Err(StoreError::invalid(field.key(), "at least one value is required"));
    }
    if values.len() > MAX_FILTER_VALUES {
        return Err(StoreError::invalid(
            field.key(),
            format!("at most {MAX_FILTER_VALUES} values per filter"),
        ));
    }
    values.iter().map(|v| parse_value(field, v)).collect()
}

/// Reads one text value for a column, with an error naming the field.
pub fn parse_value(field: AlertField, text: &str) -> Result<Value, StoreError> {
    let bad = |m: String| StoreError::invalid(field.key(), m);
    Ok(match field.kind() {
        FieldKind::Text | FieldKind::List => {
            if text.len() > 1024 {
                return Err(bad("value longer than 1024 bytes".into()));
            }
            match field {
                AlertField::Tactics => Value::Text(
                    otwatch_model::Tactic::parse(text)
                        .map_err(|e| bad(e.to_string()))?
                        .as_str()
                        .into(),
                ),
                AlertField::Techniques => Value::Text(
                    otwatch_model::Technique::parse(text).map_err(&bad)?.id().to_string(),
                ),
                _ => Value::Text(text.to_string()),
            }
        }
        FieldKind::Integer => {
            Value::Int(text.trim().parse().map_err(|_| bad(format!("{text:?} is not an integer")))?)
        }
        FieldKind::Time => Value::Time(Timestamp::parse(text).map_err(|e| bad(e.to_string()))?),
        FieldKind::Severity => {
            Value::Int(Severity::parse(text).map_err(|e| bad(e.to_string()))?.rank())
        }
        FieldKind::Status => {
            Value::Int(Status::parse(text).map_err(|e| bad(e.to_string()))?.code())
        }
        FieldKind::Disposition => {
            Value::Int(Disposition::parse(text).map_err(|e| bad(e.to_string()))?.code())
        }
        FieldKind::Engine => {
            Value::Text(Engine::parse(text).map_err(|e| bad(e.to_string()))?.as_str().into())
        }
        FieldKind::Category => {
            Value::Text(Category::parse(text).map_err(|e| bad(e.to_string()))?.as_str().into())
        }
        FieldKind::Bool => Value::Bool(match text.trim().to_ascii_lowercase().as_str() {
            "true" | "yes" | "1" => true,
            "false" | "no" | "0" => false,
            _ => return Err(bad(format!("{text:?} is not true or false"))),
        }),
    })
}

/// A time range on one time column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimeRange {
    /// The time column (defaults to last detection).
    pub field: AlertField,
    /// From, inclusive.
    pub from: Option<Timestamp>,
    /// To, exclusive.
    pub to: Option<Timestamp>,
}

impl TimeRange {
    /// Checks the range: a time column, and from before to.
    pub fn validate(&self) -> Result<(), StoreError> {
        if self.field.kind() != FieldKind::Time {
            return Err(StoreError::invalid(
                "time_field",
                format!("{} is not a time column", self.field.key()),
            ));
        }
        if let (Some(f), Some(t)) = (self.from, self.to)
            && t <= f
        {
            return Err(StoreError::invalid(
                "to",
                "the end of the time range must be after its start",
            ));
        }
        Ok(())
    }
}

/// Sort order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sort {
    /// Column.
    pub field: AlertField,
    /// Descending.
    pub descending: bool,
}

impl Default for Sort {
    fn default() -> Sort {
        Sort { field: AlertField::LastDetection, descending: true }
    }
}

impl Sort {
    /// Parses `field` or `-field` (descending) or `field:desc`.
    pub fn parse(text: &str) -> Result<Sort, StoreError> {
        let t = text.trim();
        let (name, desc) = if let Some(n) = t.strip_prefix('-') {
            (n, true)
        } else if let Some((n, d)) = t.rsplit_once(':') {
            match d.to_ascii_lowercase().as_str() {
                "desc" => (n, true),
                "asc" => (n, false),
                _ => return Err(StoreError::invalid("sort", format!("{d:?} is not asc or desc"))),
            }
        } else {
            (t, false)
        };
        let field =
            AlertField::parse(name).map_err(|e| StoreError::invalid("sort", e.to_string()))?;
        if !field.sortable() {
            return Err(StoreError::invalid("sort", format!("cannot sort by {}", field.key())));
        }
        Ok(Sort { field, descending: desc })
    }
}

/// A position in a sorted result, for keyset paging.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cursor {
    /// Value of the sort column in the last row of the previous page.
    pub value: Value,
    /// Its last detection: the tie-breaker when sorting by another column
    /// (rows with equal values are ordered by last detection, then id).
    pub tie: Option<Timestamp>,
    /// Id of that row.
    pub id: i64,
}

impl Cursor {
    /// An opaque, URL-safe form.
    pub fn encode(&self) -> String {
        let v = match &self.value {
            Value::Int(n) => format!("i{n}"),
            Value::Time(t) => format!("t{}", t.0),
            Value::Bool(b) => format!("b{}", u8::from(*b)),
            Value::Text(s) => {
                let mut h = String::from("s");
                for b in s.as_bytes() {
                    h.push_str(&format!("{b:02x}"));
                }
                h
            }
        };
        match self.tie {
            Some(t) => format!("{v}.{}.{}", t.0, self.id),
            None => format!("{v}.{}", self.id),
        }
    }

    /// Reads [`Cursor::encode`]'s output.
    pub fn decode(text: &str) -> Result<Cursor, StoreError> {
        let bad = || StoreError::invalid("after", "not a cursor returned by a previous page");
        let (rest, id) = text.rsplit_once('.').ok_or_else(bad)?;
        let id: i64 = id.parse().map_err(|_| bad())?;
        // An optional tie-breaker (digits, possibly negative) before the id.
        let (v, tie) = match rest.rsplit_once('.') {
            Some((v, t))
                if !t.is_empty()
                    && t.trim_start_matches('-').bytes().all(|b| b.is_ascii_digit()) =>
            {
                (v, Some(Timestamp(t.parse().map_err(|_| bad())?)))
            }
            _ => (rest, None),
        };
        let (tag, body) = v.split_at_checked(1).ok_or_else(bad)?;
        let value = match tag {
            "i" => Value::Int(body.parse().map_err(|_| bad())?),
            "t" => Value::Time(Timestamp(body.parse().map_err(|_| bad())?)),
            "b" => Value::Bool(body == "1"),
            "s" => {
                if body.len() % 2 != 0 || body.len() > 4096 {
                    return Err(bad());
                }
                let mut bytes = Vec::with_capacity(body.len() / 2);
                for i in (0..body.len()).step_by(2) {
                    let pair = body.get(i..i + 2).ok_or_else(bad)?;
                    bytes.push(u8::from_str_radix(pair, 16).map_err(|_| bad())?);
                }
                Value::Text(String::from_utf8(bytes).map_err(|_| bad())?)
            }
            _ => return Err(bad()),
        };
        Ok(Cursor { value, tie, id })
    }
}

/// A query over alerts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AlertQuery {
    /// Conditions, AND-ed.
    pub filters: Vec<Filter>,
    /// Free text matched against names, addresses, protocol, sensor, site, zone and type.
    pub search: Option<String>,
    /// Time range.
    pub time: Option<TimeRange>,
    /// Sort.
    pub sort: Sort,
    /// Page size.
    pub limit: usize,
    /// Continue after this row.
    pub after: Option<Cursor>,
}

impl Default for AlertQuery {
    fn default() -> AlertQuery {
        AlertQuery {
            filters: vec![],
            search: None,
            time: None,
            sort: Sort::default(),
            limit: DEFAULT_PAGE,
            after: None,
        }
    }
}

impl AlertQuery {
    /// Checks limits and ranges; errors name the field.
    pub fn validate(&self) -> Result<(), StoreError> {
        if self.limit == 0 || self.limit > MAX_PAGE {
            return Err(StoreError::invalid("limit", format!("must be between 1 and {MAX_PAGE}")));
        }
        if let Some(t) = &self.time {
            t.validate()?;
        }
        if let Some(s) = &self.search
            && s.len() > 1024
        {
            return Err(StoreError::invalid("search", "longer than 1024 bytes"));
        }
        if let Some(c) = &self.after {
            let ok = matches!(
                (&c.value, self.sort.field.kind()),
                (
                    Value::Int(_),
                    FieldKind::Integer
                        | FieldKind::Severity
                        | FieldKind::Status
                        | FieldKind::Disposition
                ) | (Value::Time(_), FieldKind::Time)
                    | (Value::Bool(_), FieldKind::Bool)
                    | (Value::Text(_), FieldKind::Text | FieldKind::Engine | FieldKind::Category)
            );
            if !ok {
                return Err(StoreError::invalid(
                    "after",
                    "the cursor belongs to a different sort order",
                ));
            }
        }
        Ok(())
    }
}

/// One page of alerts.
#[derive(Clone, Debug, PartialEq)]
pub struct AlertPage {
    /// The rows.
    pub items: Vec<otwatch_model::Alert>,
    /// Cursor for the next page, if there may be one.
    pub next: Option<Cursor>,
}

/// A group-by row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupCount {
    /// The column value as text (empty for none).
    pub value: String,
    /// Alerts with that value.
    pub count: u64,
}

/// Same-type alerts from many devices in one aggregation period.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AggregatedAlert {
    /// Alert type id.
    pub alert_type: String,
    /// Title.
    pub name: String,
    /// Engine.
    pub engine: Engine,
    /// Highest severity among the alerts.
    pub severity: Severity,
    /// Start of the aggregation period.
    pub period_start: Timestamp,
    /// Number of alerts aggregated.
    pub alerts: u64,
    /// Sum of their occurrence counts.
    pub occurrences: u64,
    /// Earliest first detection.
    pub first_detection: Timestamp,
    /// Latest last detection.
    pub last_detection: Timestamp,
    /// Devices that raised it (source labels), sorted.
    pub devices: Vec<String>,
    /// Ids of the aggregated alerts.
    pub alert_ids: Vec<i64>,
}

/// A query over devices.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeviceQuery {
    /// Free text over name, addresses, vendor, model, firmware.
    pub search: Option<String>,
    /// Device types (names).
    pub device_types: Vec<String>,
    /// Vendors.
    pub vendors: Vec<String>,
    /// Sites.
    pub sites: Vec<String>,
    /// Zones.
    pub zones: Vec<String>,
    /// OT or IT.
    pub is_ot: Option<bool>,
    /// Speaks this protocol.
    pub protocol: Option<String>,
    /// Page size (0 = default).
    pub limit: usize,
    /// Rows to skip.
    pub offset: usize,
}

/// Device columns that group-by accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeviceGroup {
    /// Type.
    DeviceType,
    /// Vendor.
    Vendor,
    /// Site.
    Site,
    /// Zone.
    Zone,
    /// OT/IT.
    IsOt,
}

impl DeviceGroup {
    /// Parses a column name.
    pub fn parse(text: &str) -> Result<DeviceGroup, StoreError> {
        Ok(match text.trim().to_ascii_lowercase().replace('-', "_").as_str() {
            "type" | "device_type" => DeviceGroup::DeviceType,
            "vendor" => DeviceGroup::Vendor,
            "site" => DeviceGroup::Site,
            "zone" => DeviceGroup::Zone,
            "is_ot" | "ot" => DeviceGroup::IsOt,
            _ => {
                return Err(StoreError::invalid(
                    "group_by",
                    format!(
                        "cannot group devices by {text:?}; use type, vendor, site, zone or is_ot"
                    ),
                ));
            }
        })
    }
}

/// A query over connections.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConnectionQuery {
    /// Either end is this device.
    pub device_id: Option<i64>,
    /// Either end has this address.
    pub address: Option<String>,
    /// Application protocols.
    pub protocols: Vec<String>,
    /// Transport.
    pub transport: Option<String>,
    /// Seen at or after.
    pub from: Option<Timestamp>,
    /// Seen before.
    pub to: Option<Timestamp>,
    /// Page size (0 = default).
    pub limit: usize,
    /// Rows to skip.
    pub offset: usize,
}

/// A query over the event timeline.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EventQuery {
    /// Concerning this device (by id, or by its address as source or destination).
    pub device_id: Option<i64>,
    /// Related to this alert.
    pub alert_id: Option<i64>,
    /// Event types to include.
    pub event_types: Vec<String>,
    /// At or after.
    pub from: Option<Timestamp>,
    /// Before.
    pub to: Option<Timestamp>,
    /// Free text over title and description.
    pub search: Option<String>,
    /// Page size (0 = default).
    pub limit: usize,
    /// Only events older than this id (keyset paging, newest first).
    pub before_id: Option<i64>,
}

/// A query over the audit log.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuditQuery {
    /// Object kind.
    pub object_type: Option<String>,
    /// Object id.
    pub object_id: Option<String>,
    /// Actor name.
    pub actor: Option<String>,
    /// At or after.
    pub from: Option<Timestamp>,
    /// Before.
    pub to: Option<Timestamp>,
    /// Page size (0 = default).
    pub limit: usize,
}

/// Resolves a requested page size: 0 means the default; capped at [`MAX_PAGE`].
pub fn page_size(limit: usize) -> usize {
    if limit == 0 { DEFAULT_PAGE } else { limit.min(MAX_PAGE) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_typed_per_column() {
        let f = Filter::any_of(AlertField::Severity, &["high", "Major"]).unwrap();
        assert_eq!(f.op, FilterOp::In(vec![Value::Int(4), Value::Int(3)]));
        let e = Filter::any_of(AlertField::Severity, &["urgent"]).unwrap_err().to_string();
        assert!(e.starts_with("severity: unknown severity"), "{e}");
        let e = Filter::range(AlertField::Name, Some("a"), None).unwrap_err().to_string();
        assert!(e.starts_with("name:"), "{e}");
        let f = Filter::any_of(AlertField::Engine, &["POLICY_VIOLATION"]).unwrap();
        assert_eq!(f.op, FilterOp::In(vec![Value::Text("Policy Violation".into())]));
    }

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        for v in [
            Value::Int(-3),
            Value::Time(Timestamp(17)),
            Value::Text("a.b'\"; --".into()),
            Value::Bool(true),
        ] {
            for tie in [None, Some(Timestamp(-5)), Some(Timestamp(1_700_000_000_000_000))] {
                let c = Cursor { value: v.clone(), tie, id: 42 };
                assert_eq!(Cursor::decode(&c.encode()).unwrap(), c);
            }
        }
        for bad in ["", "x1.2", "i1", "s6.1", "szz.1", "i1.x"] {
            assert!(Cursor::decode(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn sort_parses() {
        assert_eq!(
            Sort::parse("-severity").unwrap(),
            Sort { field: AlertField::Severity, descending: true }
        );
        assert_eq!(
            Sort::parse("name:asc").unwrap(),
            Sort { field: AlertField::Name, descending: false }
        );
        assert!(Sort::parse("tactics").is_err());
    }
}
