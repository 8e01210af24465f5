//! The evaluator: runs a chain's operators over rows, after the part pushed down to SQL.
//!
//! One implementation for every backend, so results do not depend on the
//! database. Memory is bounded: every operator that holds rows (summarize
//! groups, join tables, sort, mv-expand, distinct) counts them against
//! [`RunOptions::max_memory_rows`](crate::RunOptions) and fails with
//! `KQL0102` rather than growing without limit; the time limit is checked
//! every few thousand rows.

use std::collections::{HashMap, HashSet};
use std::time::Instant;

use serde_json::Value as Json;

use crate::error::{Code, QueryError, Span};
use crate::eval::{EvalCx, SubSet, eval, truthy};
use crate::plan::*;
use crate::sql::{self, Param};
use crate::value::{Key, Type, Value};
use crate::{FetchError, RunOptions, SqlSource};

/// Rows with their schema.
#[derive(Clone, Debug)]
pub struct Table {
    /// Columns.
    pub schema: Schema,
    /// Rows.
    pub rows: Vec<Vec<Value>>,
}

/// One SQL statement the run sent, for tests and diagnostics.
#[derive(Clone, Debug, PartialEq)]
pub struct SqlLog {
    /// The statement.
    pub sql: String,
    /// Its parameters.
    pub params: Vec<Param>,
    /// Operators answered by SQL.
    pub consumed: usize,
    /// Operators in the chain.
    pub total: usize,
}

pub(crate) struct Runner<'a> {
    pub source: &'a dyn SqlSource,
    pub opts: &'a RunOptions,
    pub deadline: Instant,
    pub now: i64,
    pub subs: Vec<SubSet>,
    pub log: Vec<SqlLog>,
    ticks: usize,
}

fn whole() -> Span {
    Span::new(0, 0)
}

impl<'a> Runner<'a> {
    pub fn new(source: &'a dyn SqlSource, opts: &'a RunOptions, now: i64) -> Runner<'a> {
        Runner {
            source,
            opts,
            deadline: Instant::now() + opts.time_limit,
            now,
            subs: Vec::new(),
            log: Vec::new(),
            ticks: 0,
        }
    }

    fn cx(&self) -> EvalCx<'_> {
        EvalCx { f: crate::func::Ctx { now: self.now }, subs: &self.subs }
    }

    /// Checks the time limit every 4096 calls.
    fn tick(&mut self) -> Result<(), QueryError> {
        self.ticks += 1;
        if self.ticks.is_multiple_of(4096) && Instant::now() > self.deadline {
            return Err(self.time_error());
        }
        Ok(())
    }

    fn time_error(&self) -> QueryError {
        QueryError::new(
            Code::TimeLimit,
            whole(),
            format!("the query ran longer than its time limit ({:?})", self.opts.time_limit),
        )
        .with_hint("narrow the time range or the tables, or raise hunt.time_limit")
    }

    fn memory(&self, n: usize, what: &str) -> Result<(), QueryError> {
        if n > self.opts.max_memory_rows {
            return Err(QueryError::new(
                Code::MemoryLimit,
                whole(),
                format!("{what} would hold more than {} rows", self.opts.max_memory_rows),
            )
            .with_hint("filter earlier, or summarize by fewer or coarser keys"));
        }
        Ok(())
    }

    /// Runs a chain. `result` is true for the query's output (its row limit
    /// then applies); otherwise every row is needed and a scan over the
    /// limit is an error.
    pub fn chain(&mut self, chain: &Chain, result: bool) -> Result<(Table, bool), QueryError> {
        let (mut table, consumed, mut truncated) = match &chain.source {
            ChainSource::Table(t) => {
                let ops = &chain.ops;
                let source_schema = &chain.source_schema;
                let needed = |k: usize| -> Vec<bool> {
                    let width = if k == 0 { source_schema.len() } else { ops[k - 1].1.len() };
                    needed_columns(
                        &ops[k..],
                        width,
                        if k == 0 { source_schema } else { &ops[k - 1].1 },
                    )
                };
                let pushed = sql::push_down(t, source_schema, ops, self.source.dialect(), &needed);
                let fully = pushed.consumed == ops.len();
                let limit =
                    if fully && result { self.opts.max_rows } else { self.opts.max_scan_rows };
                let remaining = self.deadline.saturating_duration_since(Instant::now());
                let fetched = self
                    .source
                    .fetch(&pushed.sql, &pushed.params, limit, remaining)
                    .map_err(|e| match e {
                        FetchError::TimeLimit => self.time_error(),
                        FetchError::Other(m) => {
                            QueryError::new(Code::Storage, whole(), format!("storage error: {m}"))
                        }
                    })?;
                self.log.push(SqlLog {
                    sql: pushed.sql.clone(),
                    params: pushed.params.clone(),
                    consumed: pushed.consumed,
                    total: ops.len(),
                });
                if fetched.truncated && !(fully && result) {
                    return Err(QueryError::new(
                        Code::ScanLimit,
                        whole(),
                        format!("the query would read more than {} rows from {}", self.opts.max_scan_rows, t.name),
                    )
                    .with_hint("add a where on Timestamp or other columns before the operators that need every row"));
                }
                let schema = if pushed.consumed == 0 {
                    chain.source_schema.clone()
                } else {
                    ops[pushed.consumed - 1].1.clone()
                };
                let rows = fetched
                    .rows
                    .into_iter()
                    .map(|r| {
                        r.into_iter().zip(schema.iter()).map(|(v, c)| from_sql(v, c.ty)).collect()
                    })
                    .collect();
                (Table { schema, rows }, pushed.consumed, fetched.truncated)
            }
            ChainSource::Union { legs, maps, withsource, names } => {
                let mut rows = Vec::new();
                for (i, leg) in legs.iter().enumerate() {
                    let (t, _) = self.chain(leg, false)?;
                    let map = &maps[i];
                    for r in t.rows {
                        self.tick()?;
                        let mut out = Vec::with_capacity(map.len() + 1);
                        if *withsource {
                            out.push(Value::str(&names[i]));
                        }
                        let offset = usize::from(*withsource);
                        for (j, m) in map.iter().enumerate() {
                            let ty = chain.source_schema[j + offset].ty;
                            out.push(match m {
                                Some(k) => r.get(*k).cloned().unwrap_or(Value::Null),
                                None => ty.null(),
                            });
                        }
                        rows.push(out);
                    }
                    self.memory(rows.len(), "union")?;
                }
                (Table { schema: chain.source_schema.clone(), rows }, 0, false)
            }
        };
        for (op, schema) in &chain.ops[consumed..] {
            table = self.op(op, schema, table)?;
        }
        if result && table.rows.len() > self.opts.max_rows {
            table.rows.truncate(self.opts.max_rows);
            truncated = true;
        }
        Ok((table, truncated))
    }

    fn op(&mut self, op: &POp, schema: &Schema, input: Table) -> Result<Table, QueryError> {
        let rows = match op {
            POp::Filter(e) => {
                let mut out = Vec::new();
                for r in input.rows {
                    self.tick()?;
                    if truthy(e, &r, &self.cx()) {
                        out.push(r);
                    }
                }
                out
            }
            POp::Project(exprs) => {
                let mut out = Vec::with_capacity(input.rows.len());
                for r in input.rows {
                    self.tick()?;
                    let cx = self.cx();
                    out.push(
                        exprs
                            .iter()
                            .zip(schema.iter())
                            .map(|(e, c)| normalize(eval(e, &r, &cx), c.ty))
                            .collect(),
                    );
                }
                out
            }
            POp::Summarize { keys, aggs } => self.summarize(keys, aggs, schema, input.rows)?,
            POp::Sort(keys) => {
                self.memory(input.rows.len(), "sort")?;
                let cx = self.cx();
                let mut keyed: Vec<(Vec<Value>, Vec<Value>)> = input
                    .rows
                    .into_iter()
                    .map(|r| (keys.iter().map(|k| eval(&k.expr, &r, &cx)).collect(), r))
                    .collect();
                keyed.sort_by(|(a, _), (b, _)| {
                    for (i, k) in keys.iter().enumerate() {
                        let (x, y) = (&a[i], &b[i]);
                        let o = match (x.is_null(), y.is_null()) {
                            (true, true) => std::cmp::Ordering::Equal,
                            (true, false) => {
                                if k.nulls_first {
                                    std::cmp::Ordering::Less
                                } else {
                                    std::cmp::Ordering::Greater
                                }
                            }
                            (false, true) => {
                                if k.nulls_first {
                                    std::cmp::Ordering::Greater
                                } else {
                                    std::cmp::Ordering::Less
                                }
                            }
                            _ => {
                                let o = x.cmp_total(y);
                                if k.desc { o.reverse() } else { o }
                            }
                        };
                        if o != std::cmp::Ordering::Equal {
                            return o;
                        }
                    }
                    std::cmp::Ordering::Equal
                });
                keyed.into_iter().map(|(_, r)| r).collect()
            }
            POp::Take(n) => {
                let mut rows = input.rows;
                rows.truncate(*n);
                rows
            }
            POp::Count => vec![vec![Value::Long(input.rows.len() as i64)]],
            POp::Join { right, kind, left_keys, right_keys } => {
                let (rt, _) = self.chain(right, false)?;
                self.join(*kind, left_keys, right_keys, input, rt)?
            }
            POp::MvExpand { items, limit } => {
                let mut out = Vec::new();
                for r in input.rows {
                    self.tick()?;
                    let cx = self.cx();
                    let arrays: Vec<Vec<Value>> =
                        items.iter().map(|(e, _, _)| expand(eval(e, &r, &cx))).collect();
                    let n = arrays.iter().map(Vec::len).max().unwrap_or(0).min(*limit);
                    for k in 0..n {
                        let mut row = r.clone();
                        row.resize(schema.len(), Value::Null);
                        for ((_, idx, ty), arr) in items.iter().zip(&arrays) {
                            let v = arr.get(k).cloned().unwrap_or(Value::Null);
                            let v =
                                if *ty == Type::Dynamic { v } else { v.undynamic().convert(*ty) };
                            if let Some(slot) = row.get_mut(*idx) {
                                *slot = v;
                            }
                        }
                        out.push(row);
                    }
                    self.memory(out.len(), "mv-expand")?;
                }
                out
            }
            POp::Parse { expr, parts } => {
                let mut out = Vec::with_capacity(input.rows.len());
                for r in input.rows {
                    self.tick()?;
                    let text = eval(expr, &r, &self.cx()).to_kql_string();
                    let mut row = r;
                    row.resize(schema.len(), Value::Null);
                    let found = parse_simple(&text, parts);
                    for p in parts {
                        if let BParsePart::Column(idx, ty) = p {
                            let v = found
                                .as_ref()
                                .and_then(|f| f.get(idx))
                                .map_or(ty.null(), |s| Value::str(s).convert(*ty));
                            if let Some(slot) = row.get_mut(*idx) {
                                *slot = v;
                            }
                        }
                    }
                    out.push(row);
                }
                out
            }
            POp::MakeSeries { keys, aggs, on, from, to, step, datetime_axis } => {
                self.make_series(keys, aggs, on, (*from, *to, *step), *datetime_axis, input.rows)?
            }
        };
        self.memory(rows.len(), "an operator's output")?;
        Ok(Table { schema: schema.clone(), rows })
    }

    fn summarize(
        &mut self,
        keys: &[BExpr],
        aggs: &[BAgg],
        schema: &Schema,
        rows: Vec<Vec<Value>>,
    ) -> Result<Vec<Vec<Value>>, QueryError> {
        let mut index: HashMap<Vec<Key>, usize> = HashMap::new();
        let mut groups: Vec<(Vec<Value>, Vec<AggState>)> = Vec::new();
        let mut held = 0usize;
        for r in rows {
            self.tick()?;
            let cx = self.cx();
            let kv: Vec<Value> = keys
                .iter()
                .zip(schema.iter())
                .map(|(k, c)| normalize(eval(k, &r, &cx), c.ty))
                .collect();
            let kk: Vec<Key> = kv.iter().map(Value::key).collect();
            let gi = match index.get(&kk) {
                Some(i) => *i,
                None => {
                    groups.push((kv, aggs.iter().map(AggState::new).collect()));
                    index.insert(kk, groups.len() - 1);
                    self.memory(groups.len(), "summarize")?;
                    groups.len() - 1
                }
            };
            for (a, st) in aggs.iter().zip(groups[gi].1.iter_mut()) {
                held += st.update(a, &r, &cx)?;
            }
            if held > self.opts.max_memory_rows {
                self.memory(
                    held,
                    "summarize (values kept by dcount, make_set, make_list or percentiles)",
                )?;
            }
        }
        if keys.is_empty() && groups.is_empty() {
            groups.push((Vec::new(), aggs.iter().map(AggState::new).collect()));
        }
        let mut out = Vec::with_capacity(groups.len());
        for (kv, states) in groups {
            let mut row = kv;
            for (a, st) in aggs.iter().zip(states) {
                row.extend(st.finish(a));
            }
            let row = row.into_iter().zip(schema.iter()).map(|(v, c)| normalize(v, c.ty)).collect();
            out.push(row);
        }
        Ok(out)
    }

    fn join(
        &mut self,
        kind: JoinKind,
        lk: &[usize],
        rk: &[usize],
        left: Table,
        right: Table,
    ) -> Result<Vec<Vec<Value>>, QueryError> {
        let key = |r: &[Value], ks: &[usize]| -> Option<Vec<Key>> {
            let mut out = Vec::with_capacity(ks.len());
            for k in ks {
                let v = r.get(*k).cloned().unwrap_or(Value::Null);
                if v.is_null() {
                    // Null keys never match.
                    return None;
                }
                out.push(v.key());
            }
            Some(out)
        };
        self.memory(right.rows.len(), "join (right side)")?;
        let lw = left.schema.len();
        let rw = right.schema.len();
        let mut left_rows = left.rows;
        if kind == JoinKind::InnerUnique {
            // innerunique: one left row per key value (the first), then inner.
            let mut seen: HashSet<Option<Vec<Key>>> = HashSet::new();
            left_rows.retain(|r| seen.insert(key(r, lk)));
        }
        let mut index: HashMap<Vec<Key>, Vec<usize>> = HashMap::new();
        for (i, r) in right.rows.iter().enumerate() {
            if let Some(k) = key(r, rk) {
                index.entry(k).or_default().push(i);
            }
        }
        let left_nulls: Vec<Value> = left.schema.iter().map(|c| c.ty.null()).collect();
        let right_nulls: Vec<Value> = right.schema.iter().map(|c| c.ty.null()).collect();
        let mut right_matched = vec![false; right.rows.len()];
        let mut out = Vec::new();
        for l in &left_rows {
            self.tick()?;
            let matches: &[usize] =
                key(l, lk).and_then(|k| index.get(&k)).map_or(&[], |v| v.as_slice());
            match kind {
                JoinKind::InnerUnique
                | JoinKind::Inner
                | JoinKind::LeftOuter
                | JoinKind::FullOuter
                | JoinKind::RightOuter => {
                    for &ri in matches {
                        right_matched[ri] = true;
                        let mut row = Vec::with_capacity(lw + rw);
                        row.extend(l.iter().cloned());
                        row.extend(right.rows[ri].iter().cloned());
                        out.push(row);
                    }
                    if matches.is_empty()
                        && matches!(kind, JoinKind::LeftOuter | JoinKind::FullOuter)
                    {
                        let mut row = l.clone();
                        row.extend(right_nulls.iter().cloned());
                        out.push(row);
                    }
                }
                JoinKind::LeftSemi => {
                    if !matches.is_empty() {
                        out.push(l.clone());
                    }
                }
                JoinKind::LeftAnti => {
                    if matches.is_empty() {
                        out.push(l.clone());
                    }
                }
                JoinKind::RightSemi | JoinKind::RightAnti => {
                    for &ri in matches {
                        right_matched[ri] = true;
                    }
                }
            }
            self.memory(out.len(), "join")?;
        }
        match kind {
            JoinKind::RightOuter | JoinKind::FullOuter => {
                for (i, r) in right.rows.iter().enumerate() {
                    if !right_matched[i] {
                        let mut row = left_nulls.clone();
                        row.extend(r.iter().cloned());
                        out.push(row);
                    }
                }
            }
            JoinKind::RightSemi | JoinKind::RightAnti => {
                let want = kind == JoinKind::RightSemi;
                for (i, r) in right.rows.into_iter().enumerate() {
                    if right_matched[i] == want {
                        out.push(r);
                    }
                }
            }
            _ => {}
        }
        Ok(out)
    }

    fn make_series(
        &mut self,
        keys: &[BExpr],
        aggs: &[(BAgg, Value)],
        on: &BExpr,
        (from, to, step): (i64, i64, i64),
        datetime_axis: bool,
        rows: Vec<Vec<Value>>,
    ) -> Result<Vec<Vec<Value>>, QueryError> {
        let nbins = usize::try_from((to - from + step - 1) / step).unwrap_or(0);
        let mut index: HashMap<Vec<Key>, usize> = HashMap::new();
        let mut groups: Vec<SeriesGroup> = Vec::new();
        for r in rows {
            self.tick()?;
            let cx = self.cx();
            let (Value::DateTime(axis) | Value::Long(axis)) = eval(on, &r, &cx) else { continue };
            if axis < from || axis >= to {
                continue;
            }
            let bin = usize::try_from((axis - from) / step).unwrap_or(0);
            let kv: Vec<Value> = keys.iter().map(|k| eval(k, &r, &cx)).collect();
            let kk: Vec<Key> = kv.iter().map(Value::key).collect();
            let gi = match index.get(&kk) {
                Some(i) => *i,
                None => {
                    groups.push((
                        kv,
                        aggs.iter().map(|_| (0..nbins).map(|_| None).collect()).collect(),
                    ));
                    index.insert(kk, groups.len() - 1);
                    self.memory(groups.len().saturating_mul(nbins.max(1)), "make-series")?;
                    groups.len() - 1
                }
            };
            for (ai, (a, _)) in aggs.iter().enumerate() {
                if let Some(slot) = groups[gi].1[ai].get_mut(bin) {
                    let st = slot.get_or_insert_with(|| AggState::new(a));
                    st.update(a, &r, &cx)?;
                }
            }
        }
        let axis: Vec<Json> = (0..nbins)
            .map(|i| {
                let v = from + step * i as i64;
                if datetime_axis { Value::DateTime(v).to_json() } else { Json::from(v) }
            })
            .collect();
        let mut out = Vec::new();
        for (kv, series) in groups {
            let mut row = kv;
            for ((a, default), bins) in aggs.iter().zip(series) {
                let vals: Vec<Json> = bins
                    .into_iter()
                    .map(|b| match b {
                        Some(st) => {
                            st.finish(a).into_iter().next().unwrap_or(Value::Null).to_json()
                        }
                        None => default.to_json(),
                    })
                    .collect();
                row.push(Value::dynamic(Json::Array(vals)));
            }
            row.push(Value::dynamic(Json::Array(axis.clone())));
            out.push(row);
        }
        Ok(out)
    }
}

/// Which columns of the schema before `ops` are needed to compute every output column.
pub fn needed_columns(ops: &[(POp, Schema)], width: usize, _schema: &Schema) -> Vec<bool> {
    let mut widths = vec![width];
    for (_, s) in ops {
        widths.push(s.len());
    }
    let mut need = vec![true; widths.last().copied().unwrap_or(width)];
    for (i, (op, _)) in ops.iter().enumerate().rev() {
        let in_w = widths[i];
        let mut n = vec![false; in_w];
        let pass = |n: &mut Vec<bool>, need: &[bool]| {
            for (j, x) in need.iter().enumerate().take(in_w) {
                if *x {
                    n[j] = true;
                }
            }
        };
        match op {
            POp::Filter(e) => {
                pass(&mut n, &need);
                e.columns(&mut n);
            }
            POp::Project(exprs) => {
                for (j, e) in exprs.iter().enumerate() {
                    if need.get(j).copied().unwrap_or(false) {
                        e.columns(&mut n);
                    }
                }
            }
            POp::Summarize { keys, aggs } => {
                keys.iter().for_each(|k| k.columns(&mut n));
                for a in aggs {
                    agg_columns(a, &mut n);
                }
            }
            POp::Sort(keys) => {
                pass(&mut n, &need);
                keys.iter().for_each(|k| k.expr.columns(&mut n));
            }
            POp::Take(_) => pass(&mut n, &need),
            POp::Count => {}
            POp::Join { kind, left_keys, .. } => {
                if kind.keeps_left() {
                    pass(&mut n, &need);
                }
                for k in left_keys {
                    if let Some(x) = n.get_mut(*k) {
                        *x = true;
                    }
                }
            }
            POp::MvExpand { items, .. } => {
                pass(&mut n, &need);
                items.iter().for_each(|(e, _, _)| e.columns(&mut n));
            }
            POp::Parse { expr, .. } => {
                pass(&mut n, &need);
                expr.columns(&mut n);
            }
            POp::MakeSeries { keys, aggs, on, .. } => {
                keys.iter().for_each(|k| k.columns(&mut n));
                aggs.iter().for_each(|(a, _)| agg_columns(a, &mut n));
                on.columns(&mut n);
            }
        }
        need = n;
    }
    need
}

fn agg_columns(a: &BAgg, n: &mut [bool]) {
    if let Some(e) = &a.arg {
        e.columns(n);
    }
    if let Some(e) = &a.pred {
        e.columns(n);
    }
    a.ret.iter().for_each(|e| e.columns(n));
}

/// Converts a SQL value to a typed value.
fn from_sql(v: Param, ty: Type) -> Value {
    match (v, ty) {
        (Param::Null, t) => t.null(),
        (Param::Int(n), Type::Bool) => Value::Bool(n != 0),
        (Param::Int(n), Type::Int | Type::Long) => Value::Long(n),
        (Param::Int(n), Type::DateTime) => Value::DateTime(n),
        (Param::Int(n), Type::TimeSpan) => Value::TimeSpan(n),
        (Param::Int(n), Type::Real) => Value::Real(n as f64),
        (Param::Real(r), Type::Real) => Value::Real(r),
        (Param::Real(r), t) => Value::Real(r).convert(t),
        (Param::Text(s), Type::String) => Value::str(&s),
        (Param::Text(s), Type::Dynamic) => match serde_json::from_str::<Json>(&s) {
            Ok(j) => Value::dynamic(j),
            Err(_) => Value::dynamic(Json::String(s)),
        },
        (Param::Text(s), t) => Value::str(&s).convert(t),
        (Param::Int(n), t) => Value::Long(n).convert(t),
    }
}

/// Makes a computed value fit its column type (null strings are "").
fn normalize(v: Value, ty: Type) -> Value {
    match (&v, ty) {
        (Value::Null, Type::String) => Value::str(""),
        _ => v,
    }
}

/// The elements mv-expand produces from one value.
fn expand(v: Value) -> Vec<Value> {
    match v {
        Value::Dynamic(j) => match &*j {
            Json::Array(items) => items.iter().cloned().map(Value::dynamic).collect(),
            Json::Object(m) => m
                .iter()
                .map(|(k, x)| {
                    let mut one = serde_json::Map::new();
                    one.insert(k.clone(), x.clone());
                    Value::dynamic(Json::Object(one))
                })
                .collect(),
            _ => vec![Value::Dynamic(j)],
        },
        Value::Null => Vec::new(),
        other => vec![other],
    }
}

/// Matches a simple parse pattern; returns the extracted text per output column.
fn parse_simple(text: &str, parts: &[BParsePart]) -> Option<HashMap<usize, String>> {
    let mut out = HashMap::new();
    let mut pos = 0usize;
    let mut pending: Option<Option<usize>> = None; // a column (Some) or * (None) waiting for the next literal
    for p in parts {
        match p {
            BParsePart::Text(t) => {
                let rest = text.get(pos..)?;
                match pending.take() {
                    None => {
                        if !rest.starts_with(t.as_str()) {
                            return None;
                        }
                        pos += t.len();
                    }
                    Some(target) => {
                        let i = rest.find(t.as_str())?;
                        if let Some(c) = target {
                            out.insert(c, rest.get(..i)?.to_string());
                        }
                        pos += i + t.len();
                    }
                }
            }
            BParsePart::Skip => {
                if pending.is_some() {
                    return None;
                }
                pending = Some(None);
            }
            BParsePart::Column(c, _) => {
                if let Some(Some(prev)) = pending {
                    // Two columns in a row: the first gets nothing.
                    out.insert(prev, String::new());
                }
                pending = Some(Some(*c));
            }
        }
    }
    if let Some(Some(c)) = pending {
        out.insert(c, text.get(pos..)?.to_string());
    }
    Some(out)
}

/// One make-series group: its keys, and per aggregate the state of each bin.
type SeriesGroup = (Vec<Value>, Vec<Vec<Option<AggState>>>);

/// The running state of one aggregate in one group.
enum AggState {
    Count(i64),
    Distinct(HashSet<Key>),
    SumInt(Option<i64>),
    SumReal(Option<f64>),
    Best(Option<Value>),
    Avg(f64, i128, bool, i64),
    Set(HashSet<Key>, Vec<Json>),
    List(Vec<Json>),
    Arg(Option<Value>, Vec<Value>),
    Values(Vec<Value>),
}

impl AggState {
    fn new(a: &BAgg) -> AggState {
        match &a.kind {
            AggKind::Count | AggKind::CountIf => AggState::Count(0),
            AggKind::DCount | AggKind::DCountIf => AggState::Distinct(HashSet::new()),
            AggKind::Sum | AggKind::SumIf => {
                if a.out.first().is_some_and(|t| t.is_integer() || *t == Type::TimeSpan) {
                    AggState::SumInt(None)
                } else {
                    AggState::SumReal(None)
                }
            }
            AggKind::Min | AggKind::Max | AggKind::Any => AggState::Best(None),
            AggKind::Avg | AggKind::AvgIf => AggState::Avg(0.0, 0, true, 0),
            AggKind::MakeSet(_) | AggKind::MakeSetIf(_) => {
                AggState::Set(HashSet::new(), Vec::new())
            }
            AggKind::MakeList(_) | AggKind::MakeListIf(_) => AggState::List(Vec::new()),
            AggKind::ArgMax | AggKind::ArgMin => AggState::Arg(None, Vec::new()),
            AggKind::Percentiles(_) => AggState::Values(Vec::new()),
        }
    }

    /// Adds a row; returns how many values it now holds in addition (for the memory limit).
    fn update(&mut self, a: &BAgg, row: &[Value], cx: &EvalCx<'_>) -> Result<usize, QueryError> {
        if let Some(p) = &a.pred
            && !truthy(p, row, cx)
        {
            return Ok(0);
        }
        let v = || a.arg.as_ref().map_or(Value::Null, |e| eval(e, row, cx));
        match (self, &a.kind) {
            (AggState::Count(n), _) => *n += 1,
            (AggState::Distinct(s), _) => {
                let x = v();
                if !x.is_null() && s.insert(x.undynamic().key()) {
                    return Ok(1);
                }
            }
            (AggState::SumInt(acc), _) => {
                let x = v().undynamic();
                let n = match x {
                    Value::Long(n) | Value::TimeSpan(n) => n,
                    Value::Null => return Ok(0),
                    other => match other.to_long() {
                        Some(n) => n,
                        None => return Ok(0),
                    },
                };
                *acc = Some(acc.unwrap_or(0).checked_add(n).ok_or_else(|| {
                    QueryError::new(Code::Runtime, whole(), "sum() overflowed a long")
                        .with_hint("use sum(todouble(x))")
                })?);
            }
            (AggState::SumReal(acc), _) => {
                if let Some(f) = v().to_real() {
                    *acc = Some(acc.unwrap_or(0.0) + f);
                }
            }
            (AggState::Best(best), kind) => {
                let x = v();
                if x.is_null() {
                    return Ok(0);
                }
                let replace = match (&best, kind) {
                    (None, _) => true,
                    (Some(_), AggKind::Any) => false,
                    (Some(b), AggKind::Min) => x.cmp_total(b).is_lt(),
                    (Some(b), _) => x.cmp_total(b).is_gt(),
                };
                if replace {
                    *best = Some(x);
                }
            }
            (AggState::Avg(fsum, isum, ints, n), _) => match v().undynamic() {
                Value::Long(x) => {
                    *isum += i128::from(x);
                    *n += 1;
                }
                Value::Null => {}
                other => {
                    if let Some(f) = other.to_real() {
                        *fsum += f;
                        *ints = false;
                        *n += 1;
                    }
                }
            },
            (AggState::Set(seen, items), AggKind::MakeSet(max) | AggKind::MakeSetIf(max)) => {
                let x = v();
                if !x.is_null() && items.len() < *max && seen.insert(x.undynamic().key()) {
                    items.push(x.to_json());
                    return Ok(1);
                }
            }
            (AggState::List(items), AggKind::MakeList(max) | AggKind::MakeListIf(max)) => {
                let x = v();
                if !x.is_null() && items.len() < *max {
                    items.push(x.to_json());
                    return Ok(1);
                }
            }
            (AggState::Arg(best, ret), kind) => {
                let x = v();
                let better = match &best {
                    _ if x.is_null() => ret.is_empty() && best.is_none(),
                    None => true,
                    Some(b) if b.is_null() => true,
                    Some(b) => {
                        let o = x.cmp_total(b);
                        if *kind == AggKind::ArgMax { o.is_gt() } else { o.is_lt() }
                    }
                };
                if better {
                    *ret = a.ret.iter().map(|e| eval(e, row, cx)).collect();
                    *best = Some(x);
                }
            }
            (AggState::Values(vals), _) => {
                let x = v().undynamic();
                if !x.is_null() {
                    vals.push(x);
                    return Ok(1);
                }
            }
            _ => {}
        }
        Ok(0)
    }

    fn finish(self, a: &BAgg) -> Vec<Value> {
        match self {
            AggState::Count(n) => vec![Value::Long(n)],
            AggState::Distinct(s) => vec![Value::Long(s.len() as i64)],
            AggState::SumInt(acc) => vec![match (acc, a.out.first()) {
                (None, _) => Value::Null,
                (Some(n), Some(Type::TimeSpan)) => Value::TimeSpan(n),
                (Some(n), _) => Value::Long(n),
            }],
            AggState::SumReal(acc) => vec![acc.map_or(Value::Null, Value::Real)],
            AggState::Best(b) => vec![b.unwrap_or(Value::Null)],
            AggState::Avg(fsum, isum, ints, n) => vec![if n == 0 {
                Value::Null
            } else if ints {
                Value::Real(isum as f64 / n as f64)
            } else {
                Value::Real((fsum + isum as f64) / n as f64)
            }],
            AggState::Set(_, items) | AggState::List(items) => {
                vec![Value::dynamic(Json::Array(items))]
            }
            AggState::Arg(best, ret) => {
                let mut out = vec![best.unwrap_or(Value::Null)];
                if ret.is_empty() {
                    out.extend(a.out.iter().skip(1).map(|t| t.null()));
                } else {
                    out.extend(ret);
                }
                out
            }
            AggState::Values(mut vals) => {
                let AggKind::Percentiles(ps) = &a.kind else { return vec![Value::Null] };
                vals.sort_by(|x, y| x.cmp_total(y));
                ps.iter()
                    .zip(a.out.iter())
                    .map(|(p, t)| {
                        if vals.is_empty() {
                            return Value::Null;
                        }
                        let n = vals.len();
                        let rank = ((p / 100.0) * n as f64).ceil() as usize;
                        let v = vals[rank.clamp(1, n) - 1].clone();
                        match (t, &v) {
                            (Type::Real, Value::Long(x)) => Value::Real(*x as f64),
                            _ => v,
                        }
                    })
                    .collect()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simple_parse_patterns() {
        let parts = vec![
            BParsePart::Skip,
            BParsePart::Text("port ".into()),
            BParsePart::Column(0, Type::Long),
            BParsePart::Text(" on ".into()),
            BParsePart::Column(1, Type::String),
        ];
        let m = parse_simple("open port 502 on plc-1", &parts).unwrap();
        assert_eq!(m.get(&0).map(String::as_str), Some("502"));
        assert_eq!(m.get(&1).map(String::as_str), Some("plc-1"));
        assert!(parse_simple("nothing here", &parts).is_none());
    }

    #[test]
    fn expand_values() {
        assert_eq!(expand(Value::dynamic(serde_json::json!([1, "a"]))).len(), 2);
        assert_eq!(expand(Value::dynamic(serde_json::json!([]))).len(), 0);
        assert_eq!(expand(Value::dynamic(serde_json::json!({"a": 1, "b": 2}))).len(), 2);
        assert_eq!(expand(Value::Null).len(), 0);
    }
}
