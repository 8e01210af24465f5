//! The binder: resolves names against the schema catalogue, checks types, names output columns, builds the plan.
//!
//! Input is the syntax tree; output is a [`Compiled`] query: one [`Chain`]
//! for the result, the chains of `in (subquery)` lists, and the chart kind of
//! `render`. Scalar `let`s and every expression without a column in it are
//! folded to constants here (with "now" pinned), so `Timestamp > ago(1d)`
//! reaches the SQL layer as a comparison with a bound parameter.
//!
//! Output column names follow Kusto's analyzer (checked against it by the
//! oracle test): `count_`, `sum_Bytes`, `set_SrcIp`, `tostring(X)` named `X`,
//! `Column1`…, and a numeric suffix on clashes (`DeviceId1`).

use std::cell::RefCell;
use std::collections::HashMap;

use otwatch_model::hunt::{HUNT_TABLES, HuntTable};

use crate::ast::{self, BinOp, Expr, ExprKind, Lit, OpKind, StrOp, Tabular};
use crate::error::{Code, QueryError, Span, closest};
use crate::eval;
use crate::func::{self, Func, Naming};
use crate::plan::*;
use crate::text::fold;
use crate::value::{Type, Value, parse_datetime};

/// Limits the binder enforces.
const MAX_IN_LIST: usize = 10_000;

/// A query ready to run.
#[derive(Clone, Debug)]
pub struct Compiled {
    /// The result.
    pub chain: Chain,
    /// Subqueries of `in (…)`, run first.
    pub subqueries: Vec<Chain>,
    /// The chart kind of `render`, if any.
    pub render: Option<String>,
    /// "now", in microseconds since the epoch.
    pub now: i64,
}

/// Chart kinds `render` accepts.
pub const CHART_KINDS: &[&str] = &[
    "table",
    "timechart",
    "linechart",
    "barchart",
    "columnchart",
    "piechart",
    "areachart",
    "stackedareachart",
    "scatterchart",
    "card",
    "anomalychart",
    "pivotchart",
    "ladderchart",
    "timepivot",
    "treemap",
];

/// Aggregate function names.
pub const AGGREGATES: &[&str] = &[
    "count",
    "countif",
    "dcount",
    "dcountif",
    "sum",
    "sumif",
    "min",
    "max",
    "avg",
    "avgif",
    "make_set",
    "makeset",
    "make_set_if",
    "make_list",
    "makelist",
    "make_list_if",
    "any",
    "take_any",
    "arg_max",
    "argmax",
    "arg_min",
    "argmin",
    "percentile",
    "percentiles",
];

/// Binds a parsed query.
pub fn bind(q: &ast::Query, now: i64) -> Result<Compiled, QueryError> {
    let mut b = Binder {
        now,
        scalars: HashMap::new(),
        tabulars: HashMap::new(),
        subqueries: RefCell::new(Vec::new()),
        render: None,
    };
    for l in &q.lets {
        b.bind_let(l)?;
    }
    let chain = b.tabular(&q.body, true)?;
    Ok(Compiled { chain, subqueries: b.subqueries.into_inner(), render: b.render, now })
}

struct Binder {
    now: i64,
    scalars: HashMap<String, (Value, Type)>,
    tabulars: HashMap<String, Chain>,
    subqueries: RefCell<Vec<Chain>>,
    render: Option<String>,
}

/// An aggregate and the generated names of its output columns.
type NamedAgg = (BAgg, Vec<Option<String>>);

/// A bound expression with its type and, when it has one, its derived column name.
struct Bound {
    e: BExpr,
    ty: Type,
}

fn table_by_name(name: &str) -> Option<&'static HuntTable> {
    HUNT_TABLES.iter().find(|t| t.name == name || t.aliases.contains(&name))
}

fn table_schema(t: &HuntTable) -> Schema {
    t.columns
        .iter()
        .map(|(n, ty, _)| Column { name: (*n).to_string(), ty: Type::from_model(*ty) })
        .collect()
}

fn col_index(schema: &Schema, name: &str) -> Option<usize> {
    schema.iter().position(|c| c.name == name)
}

/// `base`, or `base1`, `base2`… — the first name not in `used`.
fn unique(base: &str, used: &[String]) -> String {
    if !used.iter().any(|u| u == base) {
        return base.to_string();
    }
    (1..)
        .map(|i| format!("{base}{i}"))
        .find(|n| !used.iter().any(|u| u == n))
        .unwrap_or_else(|| base.to_string())
}

/// The next `ColumnN` not in `used`.
fn next_column(counter: &mut usize, used: &[String]) -> String {
    loop {
        *counter += 1;
        let n = format!("Column{counter}");
        if !used.contains(&n) {
            return n;
        }
    }
}

/// The column name Kusto derives from an expression, if any.
fn derived_name(e: &Expr) -> Option<String> {
    match &e.kind {
        ExprKind::Name(n) if !n.starts_with('$') => Some(n.clone()),
        ExprKind::Member(base, f) => derived_name(base).map(|b| format!("{b}_{}", f.name)),
        ExprKind::Index(base, idx) => {
            let b = derived_name(base)?;
            match &idx.kind {
                ExprKind::Lit(Lit::Str(s)) => Some(format!("{b}_{s}")),
                ExprKind::Lit(Lit::Long(n, _)) => Some(format!("{b}_{n}")),
                _ => None,
            }
        }
        ExprKind::Call(f, args) => {
            let func = Func::lookup(&f.name)?;
            let first = args.first().and_then(derived_name);
            match func.naming() {
                Naming::Anonymous => None,
                Naming::FirstArg => first,
                Naming::Prefix(p) => first.map(|a| format!("{p}_{a}")),
                Naming::Suffix(s) => first.map(|a| format!("{a}_{s}")),
            }
        }
        _ => None,
    }
}

fn type_err(span: Span, op: &str, a: Type, b: Type) -> QueryError {
    QueryError::new(
        Code::TypeMismatch,
        span,
        format!("the operator {op} is not defined for {} and {}", a.name(), b.name()),
    )
}

fn comparable(a: Type, b: Type) -> bool {
    a == b || (a.is_numeric() && b.is_numeric()) || a == Type::Dynamic || b == Type::Dynamic
}

fn op_text(op: BinOp) -> &'static str {
    match op {
        BinOp::Or => "or",
        BinOp::And => "and",
        BinOp::Eq => "==",
        BinOp::Ne => "!=",
        BinOp::Lt => "<",
        BinOp::Le => "<=",
        BinOp::Gt => ">",
        BinOp::Ge => ">=",
        BinOp::EqCi => "=~",
        BinOp::NeCi => "!~",
        BinOp::Add => "+",
        BinOp::Sub => "-",
        BinOp::Mul => "*",
        BinOp::Div => "/",
        BinOp::Mod => "%",
        BinOp::Str(..) => "string operator",
    }
}

fn numeric_result(a: Type, b: Type) -> Type {
    if a == Type::Real || b == Type::Real || a == Type::Dynamic || b == Type::Dynamic {
        Type::Real
    } else if a == Type::Int && b == Type::Int {
        Type::Int
    } else {
        Type::Long
    }
}

/// Arithmetic result type, or None when not defined.
fn arith_type(op: BinOp, a: Type, b: Type) -> Option<Type> {
    use Type::*;
    if a == Dynamic && b == Dynamic {
        return Some(Dynamic);
    }
    Some(match op {
        BinOp::Add => match (a, b) {
            (DateTime, TimeSpan) | (TimeSpan, DateTime) => DateTime,
            (TimeSpan, TimeSpan) => TimeSpan,
            (x, y) if (x.is_numeric() || x == Dynamic) && (y.is_numeric() || y == Dynamic) => {
                numeric_result(x, y)
            }
            (Dynamic, x) | (x, Dynamic) if matches!(x, DateTime | TimeSpan) => x,
            _ => return None,
        },
        BinOp::Sub => match (a, b) {
            (DateTime, DateTime) => TimeSpan,
            (DateTime, TimeSpan) => DateTime,
            (TimeSpan, TimeSpan) => TimeSpan,
            (x, y) if (x.is_numeric() || x == Dynamic) && (y.is_numeric() || y == Dynamic) => {
                numeric_result(x, y)
            }
            _ => return None,
        },
        BinOp::Mul => match (a, b) {
            (TimeSpan, x) | (x, TimeSpan) if x.is_numeric() => TimeSpan,
            (x, y) if (x.is_numeric() || x == Dynamic) && (y.is_numeric() || y == Dynamic) => {
                numeric_result(x, y)
            }
            _ => return None,
        },
        BinOp::Div => match (a, b) {
            (TimeSpan, TimeSpan) => Real,
            (TimeSpan, x) if x.is_numeric() => TimeSpan,
            (x, y) if (x.is_numeric() || x == Dynamic) && (y.is_numeric() || y == Dynamic) => {
                numeric_result(x, y)
            }
            _ => return None,
        },
        BinOp::Mod => match (a, b) {
            (x, y) if (x.is_numeric() || x == Dynamic) && (y.is_numeric() || y == Dynamic) => {
                numeric_result(x, y)
            }
            _ => return None,
        },
        _ => return None,
    })
}

impl Binder {
    fn fold(&self, e: BExpr) -> BExpr {
        if !matches!(e, BExpr::Lit(_)) && e.is_constant() {
            BExpr::Lit(eval::eval(&e, &[], &eval::EvalCx::constant(self.now)))
        } else {
            e
        }
    }

    fn bind_let(&mut self, l: &ast::Let) -> Result<(), QueryError> {
        let name = l.name.name.clone();
        match &l.value {
            ast::LetValue::Tabular(t) => {
                let c = self.tabular(t, false)?;
                self.scalars.remove(&name);
                self.tabulars.insert(name, c);
            }
            ast::LetValue::Expr(e) => {
                if let Some(n) = e.as_name()
                    && !self.scalars.contains_key(n)
                    && (table_by_name(n).is_some() || self.tabulars.contains_key(n))
                {
                    let t = Tabular {
                        source: ast::Source::Name(ast::Ident { name: n.to_string(), span: e.span }),
                        ops: Vec::new(),
                        span: e.span,
                    };
                    let c = self.tabular(&t, false)?;
                    self.scalars.remove(&name);
                    self.tabulars.insert(name, c);
                    return Ok(());
                }
                let b = self.expr(e, &Vec::new())?;
                let BExpr::Lit(v) = self.fold(b.e) else {
                    return Err(QueryError::new(
                        Code::NotConstant,
                        e.span,
                        "a scalar let must be a constant expression",
                    )
                    .with_hint("toscalar() is not supported; use a tabular let and `in`"));
                };
                self.tabulars.remove(&name);
                self.scalars.insert(name, (v, b.ty));
            }
        }
        Ok(())
    }

    // ---- tabular ----------------------------------------------------------

    fn source_chain(&mut self, t: &Tabular) -> Result<Chain, QueryError> {
        match &t.source {
            ast::Source::Name(id) => {
                if let Some(c) = self.tabulars.get(&id.name) {
                    return Ok(c.clone());
                }
                if let Some(tab) = table_by_name(&id.name) {
                    return Ok(Chain {
                        source: ChainSource::Table(tab),
                        source_schema: table_schema(tab),
                        ops: Vec::new(),
                    });
                }
                if self.scalars.contains_key(&id.name) {
                    return Err(QueryError::new(
                        Code::Kind,
                        id.span,
                        format!("{} is a scalar, not a table", id.name),
                    ));
                }
                let mut names: Vec<&str> = HUNT_TABLES
                    .iter()
                    .flat_map(|t| std::iter::once(t.name).chain(t.aliases.iter().copied()))
                    .collect();
                names.extend(self.tabulars.keys().map(String::as_str));
                let mut err = QueryError::new(
                    Code::UnknownTable,
                    id.span,
                    format!("unknown table {}", id.name),
                );
                err = match closest(&id.name, names.iter().copied()) {
                    Some(s) => {
                        err.with_hint(format!("did you mean {s}? Table names are case-sensitive"))
                    }
                    None => err.with_hint(format!(
                        "tables: {}",
                        HUNT_TABLES.iter().map(|t| t.name).collect::<Vec<_>>().join(", ")
                    )),
                };
                Err(err)
            }
            ast::Source::Paren(inner) => self.tabular(inner, false),
            ast::Source::Union(u) => self.union(None, u),
        }
    }

    fn union(&mut self, first: Option<Chain>, u: &ast::UnionSpec) -> Result<Chain, QueryError> {
        let mut legs = Vec::new();
        let mut names = Vec::new();
        if let Some(c) = first {
            names.push(c.source_name());
            legs.push(c);
        }
        for (i, leg) in u.legs.iter().enumerate() {
            let c = self.tabular(leg, false)?;
            names.push(match (&leg.source, leg.ops.is_empty()) {
                (ast::Source::Name(id), true) => id.name.clone(),
                _ => format!("union_arg{i}"),
            });
            legs.push(c);
        }
        // Columns by name in order of first appearance; a name with several types becomes Name_type.
        let mut order: Vec<String> = Vec::new();
        let mut types: HashMap<String, Vec<Type>> = HashMap::new();
        for c in &legs {
            for col in c.schema() {
                let e = types.entry(col.name.clone()).or_default();
                if e.is_empty() {
                    order.push(col.name.clone());
                }
                if !e.contains(&col.ty) {
                    e.push(col.ty);
                }
            }
        }
        let mut schema: Schema = Vec::new();
        let mut out_key: Vec<(String, Type)> = Vec::new();
        if let Some(ws) = &u.withsource {
            schema.push(Column { name: ws.name.clone(), ty: Type::String });
        }
        for name in &order {
            let ts = types.get(name).cloned().unwrap_or_default();
            if ts.len() == 1 {
                schema.push(Column { name: name.clone(), ty: ts[0] });
                out_key.push((name.clone(), ts[0]));
            } else {
                for t in ts {
                    schema.push(Column { name: format!("{name}_{}", t.name()), ty: t });
                    out_key.push((name.clone(), t));
                }
            }
        }
        let used: Vec<String> = schema.iter().map(|c| c.name.clone()).collect();
        if used.iter().enumerate().any(|(i, n)| used.iter().skip(i + 1).any(|m| m == n)) {
            return Err(QueryError::new(
                Code::DuplicateColumn,
                u.span,
                "withsource names a column the tables already have",
            ));
        }
        let maps = legs
            .iter()
            .map(|c| {
                out_key
                    .iter()
                    .map(|(n, t)| c.schema().iter().position(|col| &col.name == n && col.ty == *t))
                    .collect()
            })
            .collect();
        Ok(Chain {
            source: ChainSource::Union { legs, maps, withsource: u.withsource.is_some(), names },
            source_schema: schema,
            ops: Vec::new(),
        })
    }

    fn tabular(&mut self, t: &Tabular, top: bool) -> Result<Chain, QueryError> {
        let mut chain = self.source_chain(t)?;
        let last = t.ops.len().saturating_sub(1);
        for (i, op) in t.ops.iter().enumerate() {
            if let OpKind::Render(kind) = &op.kind {
                if !top || i != last {
                    return Err(QueryError::new(
                        Code::Syntax,
                        op.span,
                        "render must be the last operator of the query",
                    ));
                }
                if !CHART_KINDS.contains(&kind.name.as_str()) {
                    let mut e = QueryError::new(
                        Code::Syntax,
                        kind.span,
                        format!("unknown chart kind {}", kind.name),
                    );
                    e = match closest(&kind.name, CHART_KINDS.iter().copied()) {
                        Some(s) => e.with_hint(format!("did you mean {s}?")),
                        None => e.with_hint(format!("chart kinds: {}", CHART_KINDS.join(", "))),
                    };
                    return Err(e);
                }
                self.render = Some(kind.name.clone());
                continue;
            }
            if let OpKind::Union(u) = &op.kind {
                chain = self.union(Some(chain), u)?;
                continue;
            }
            let input = chain.schema().clone();
            for (pop, schema) in self.op(op, &input)? {
                chain.ops.push((pop, schema));
            }
        }
        Ok(chain)
    }

    fn op(&mut self, op: &ast::Op, input: &Schema) -> Result<Vec<(POp, Schema)>, QueryError> {
        let find = |id: &ast::Ident| -> Result<usize, QueryError> {
            col_index(input, &id.name).ok_or_else(|| unknown_column(&id.name, id.span, input, &[]))
        };
        Ok(match &op.kind {
            OpKind::Where(e) => {
                let b = self.expr(e, input)?;
                if b.ty != Type::Bool && b.ty != Type::Dynamic {
                    return Err(QueryError::new(
                        Code::NotBoolean,
                        e.span,
                        format!("where needs a bool, this is a {}", b.ty.name()),
                    ));
                }
                vec![(POp::Filter(b.e), input.clone())]
            }
            OpKind::Extend(items) => {
                let mut exprs: Vec<BExpr> = (0..input.len()).map(BExpr::Col).collect();
                let mut schema = input.clone();
                let mut counter = 0;
                for a in items {
                    let b = self.expr(&a.expr, input)?;
                    let name = match &a.name {
                        Some(n) => n.name.clone(),
                        None => match derived_name(&a.expr) {
                            Some(n) => n,
                            None => next_column(
                                &mut counter,
                                &schema.iter().map(|c| c.name.clone()).collect::<Vec<_>>(),
                            ),
                        },
                    };
                    match col_index(&schema, &name) {
                        Some(i) => {
                            exprs[i] = b.e;
                            schema[i].ty = b.ty;
                        }
                        None => {
                            exprs.push(b.e);
                            schema.push(Column { name, ty: b.ty });
                        }
                    }
                }
                vec![(POp::Project(exprs), schema)]
            }
            OpKind::Project(items) => {
                let mut exprs = Vec::new();
                let mut schema: Schema = Vec::new();
                let mut counter = 0;
                for a in items {
                    let b = self.expr(&a.expr, input)?;
                    let used: Vec<String> = schema.iter().map(|c| c.name.clone()).collect();
                    let name = match &a.name {
                        Some(n) => {
                            if used.contains(&n.name) {
                                return Err(QueryError::new(
                                    Code::DuplicateColumn,
                                    n.span,
                                    format!("the column name {} is used twice", n.name),
                                ));
                            }
                            n.name.clone()
                        }
                        None => match derived_name(&a.expr) {
                            Some(n) => unique(&n, &used),
                            None => next_column(&mut counter, &used),
                        },
                    };
                    exprs.push(b.e);
                    schema.push(Column { name, ty: b.ty });
                }
                vec![(POp::Project(exprs), schema)]
            }
            OpKind::ProjectAway(ids) => {
                let mut drop = vec![false; input.len()];
                for id in ids {
                    drop[find(id)?] = true;
                }
                let keep: Vec<usize> = (0..input.len()).filter(|i| !drop[*i]).collect();
                projection(input, &keep)
            }
            OpKind::ProjectKeep(ids) => {
                let mut keep = vec![false; input.len()];
                for id in ids {
                    keep[find(id)?] = true;
                }
                let keep: Vec<usize> = (0..input.len()).filter(|i| keep[*i]).collect();
                projection(input, &keep)
            }
            OpKind::ProjectReorder(ids) => {
                let mut order = Vec::new();
                for id in ids {
                    let i = find(id)?;
                    if !order.contains(&i) {
                        order.push(i);
                    }
                }
                let rest: Vec<usize> = (0..input.len()).filter(|i| !order.contains(i)).collect();
                order.extend(rest);
                projection(input, &order)
            }
            OpKind::ProjectRename(pairs) => {
                let mut schema = input.clone();
                for (new, old) in pairs {
                    let i = col_index(&schema, &old.name)
                        .ok_or_else(|| unknown_column(&old.name, old.span, &schema, &[]))?;
                    if schema.iter().enumerate().any(|(j, c)| j != i && c.name == new.name) {
                        return Err(QueryError::new(
                            Code::DuplicateColumn,
                            new.span,
                            format!("a column named {} already exists", new.name),
                        ));
                    }
                    schema[i].name = new.name.clone();
                }
                vec![(POp::Project((0..input.len()).map(BExpr::Col).collect()), schema)]
            }
            OpKind::Summarize { aggs, by } => self.summarize(aggs, by, input)?,
            OpKind::Sort(keys) => {
                let keys =
                    keys.iter().map(|k| self.sort_key(k, input)).collect::<Result<Vec<_>, _>>()?;
                vec![(POp::Sort(keys), input.clone())]
            }
            OpKind::Top { n, key } => {
                let n = self.const_count(n, "top")?;
                let key = self.sort_key(key, input)?;
                vec![(POp::Sort(vec![key]), input.clone()), (POp::Take(n), input.clone())]
            }
            OpKind::Take(n) => {
                let n = self.const_count(n, "take")?;
                vec![(POp::Take(n), input.clone())]
            }
            OpKind::Count => {
                vec![(POp::Count, vec![Column { name: "Count".into(), ty: Type::Long }])]
            }
            OpKind::Distinct(cols) => {
                let (keys, schema) = match cols {
                    None => ((0..input.len()).map(BExpr::Col).collect(), input.clone()),
                    Some(list) => {
                        let mut keys = Vec::new();
                        let mut schema: Schema = Vec::new();
                        let mut counter = 0;
                        for e in list {
                            let b = self.expr(e, input)?;
                            let used: Vec<String> = schema.iter().map(|c| c.name.clone()).collect();
                            let name = match derived_name(e) {
                                Some(n) => unique(&n, &used),
                                None => next_column(&mut counter, &used),
                            };
                            keys.push(b.e);
                            schema.push(Column { name, ty: b.ty });
                        }
                        (keys, schema)
                    }
                };
                vec![(POp::Summarize { keys, aggs: Vec::new() }, schema)]
            }
            OpKind::Join { kind, right, on } => {
                self.join(kind.as_ref(), right, on, input, op.span)?
            }
            OpKind::MvExpand { items, limit } => {
                let mut schema = input.clone();
                let mut out = Vec::new();
                let mut counter = 0;
                for (a, ty) in items {
                    let b = self.expr(&a.expr, input)?;
                    if b.ty != Type::Dynamic {
                        return Err(QueryError::new(
                            Code::ArgumentType,
                            a.expr.span,
                            format!("mv-expand needs a dynamic value, this is a {}", b.ty.name()),
                        ));
                    }
                    let name = match &a.name {
                        Some(n) => n.name.clone(),
                        None => match derived_name(&a.expr) {
                            Some(n) => n,
                            None => next_column(
                                &mut counter,
                                &schema.iter().map(|c| c.name.clone()).collect::<Vec<_>>(),
                            ),
                        },
                    };
                    let t = ty.map_or(Type::Dynamic, Type::from_name);
                    let idx = match col_index(&schema, &name) {
                        Some(i) => {
                            schema[i].ty = t;
                            i
                        }
                        None => {
                            schema.push(Column { name, ty: t });
                            schema.len() - 1
                        }
                    };
                    out.push((b.e, idx, t));
                }
                let limit = match limit {
                    Some(e) => self.const_count(e, "mv-expand limit")?,
                    None => usize::MAX,
                };
                vec![(POp::MvExpand { items: out, limit }, schema)]
            }
            OpKind::Parse { expr, parts } => {
                let b = self.expr(expr, input)?;
                let mut schema = input.clone();
                let mut bparts = Vec::new();
                for p in parts {
                    bparts.push(match p {
                        ast::ParsePart::Text(s) => BParsePart::Text(s.clone()),
                        ast::ParsePart::Skip => BParsePart::Skip,
                        ast::ParsePart::Column(id, ty) => {
                            let t = ty.map_or(Type::String, Type::from_name);
                            let idx = match col_index(&schema, &id.name) {
                                Some(i) => {
                                    schema[i].ty = t;
                                    i
                                }
                                None => {
                                    schema.push(Column { name: id.name.clone(), ty: t });
                                    schema.len() - 1
                                }
                            };
                            BParsePart::Column(idx, t)
                        }
                    });
                }
                vec![(POp::Parse { expr: b.e, parts: bparts }, schema)]
            }
            OpKind::MakeSeries { aggs, on, from, to, step, by } => {
                self.make_series(aggs, on, from, to, step, by, input)?
            }
            OpKind::Render(_) | OpKind::Union(_) => Vec::new(),
        })
    }

    fn const_count(&self, e: &Expr, what: &str) -> Result<usize, QueryError> {
        let b = match self.expr(e, &Vec::new()) {
            Ok(b) => b,
            Err(err) if err.code == Code::UnknownColumn => {
                return Err(QueryError::new(
                    Code::NotConstant,
                    e.span,
                    format!("{what} needs a constant, non-negative integer"),
                ));
            }
            Err(err) => return Err(err),
        };
        match self.fold(b.e) {
            BExpr::Lit(Value::Long(n)) if n >= 0 => Ok(usize::try_from(n).unwrap_or(usize::MAX)),
            _ => Err(QueryError::new(
                Code::NotConstant,
                e.span,
                format!("{what} needs a constant, non-negative integer"),
            )),
        }
    }

    fn sort_key(&self, k: &ast::SortKey, input: &Schema) -> Result<BSortKey, QueryError> {
        let b = self.expr(&k.expr, input)?;
        Ok(BSortKey { expr: b.e, desc: k.desc, nulls_first: k.nulls_first.unwrap_or(!k.desc) })
    }

    fn join(
        &mut self,
        kind: Option<&ast::Ident>,
        right: &Tabular,
        on: &[Expr],
        input: &Schema,
        span: Span,
    ) -> Result<Vec<(POp, Schema)>, QueryError> {
        let kind = match kind {
            None => JoinKind::InnerUnique,
            Some(k) => JoinKind::parse(&k.name).ok_or_else(|| {
                QueryError::new(Code::BadJoin, k.span, format!("unknown join kind {}", k.name)).with_hint(
                    "kinds: innerunique (default), inner, leftouter, rightouter, fullouter, leftanti, rightanti, leftsemi, rightsemi",
                )
            })?,
        };
        let rchain = self.tabular(right, false)?;
        let rschema = rchain.schema().clone();
        let mut lk = Vec::new();
        let mut rk = Vec::new();
        for cond in on {
            self.join_cond(cond, input, &rschema, &mut lk, &mut rk)?;
        }
        if lk.is_empty() {
            return Err(QueryError::new(Code::BadJoin, span, "join needs at least one key"));
        }
        let mut schema: Schema = Vec::new();
        if kind.keeps_left() {
            schema.extend(input.iter().cloned());
        }
        if kind.keeps_right() {
            for c in &rschema {
                let used: Vec<String> = schema.iter().map(|c| c.name.clone()).collect();
                schema.push(Column { name: unique(&c.name, &used), ty: c.ty });
            }
        }
        Ok(vec![(
            POp::Join { right: Box::new(rchain), kind, left_keys: lk, right_keys: rk },
            schema,
        )])
    }

    fn join_cond(
        &self,
        cond: &Expr,
        left: &Schema,
        right: &Schema,
        lk: &mut Vec<usize>,
        rk: &mut Vec<usize>,
    ) -> Result<(), QueryError> {
        let side = |e: &Expr| -> Option<(bool, ast::Ident)> {
            if let ExprKind::Member(base, f) = &e.kind {
                match base.as_name() {
                    Some("$left") => return Some((true, f.clone())),
                    Some("$right") => return Some((false, f.clone())),
                    _ => {}
                }
            }
            None
        };
        let mut push = |l: &ast::Ident, r: &ast::Ident| -> Result<(), QueryError> {
            let li = col_index(left, &l.name).ok_or_else(|| {
                unknown_column(&l.name, l.span, left, &[])
                    .with_hint(format!("{} is not a column of the left side", l.name))
            })?;
            let ri = col_index(right, &r.name).ok_or_else(|| {
                let mut e = QueryError::new(
                    Code::BadJoin,
                    r.span,
                    format!("{} is not a column of the right side", r.name),
                );
                if let Some(s) = closest(&r.name, right.iter().map(|c| c.name.as_str())) {
                    e = e.with_hint(format!("did you mean {s}?"));
                }
                e
            })?;
            let (a, b) = (left[li].ty, right[ri].ty);
            if !(a == b || (a.is_integer() && b.is_integer())) {
                return Err(QueryError::new(
                    Code::TypeMismatch,
                    l.span.to(r.span),
                    format!(
                        "join keys {} ({}) and {} ({}) have different types",
                        l.name,
                        a.name(),
                        r.name,
                        b.name()
                    ),
                ));
            }
            lk.push(li);
            rk.push(ri);
            Ok(())
        };
        match &cond.kind {
            ExprKind::Name(n) => {
                let id = ast::Ident { name: n.clone(), span: cond.span };
                push(&id, &id)
            }
            ExprKind::Binary(BinOp::And, a, b) => {
                self.join_cond(a, left, right, lk, rk)?;
                self.join_cond(b, left, right, lk, rk)
            }
            ExprKind::Binary(BinOp::Eq, a, b) => match (side(a), side(b)) {
                (Some((true, l)), Some((false, r))) | (Some((false, r)), Some((true, l))) => {
                    push(&l, &r)
                }
                _ => Err(QueryError::new(
                    Code::BadJoin,
                    cond.span,
                    "a join condition compares $left.Column with $right.Column",
                )),
            },
            _ => Err(QueryError::new(
                Code::BadJoin,
                cond.span,
                "join conditions are column names or $left.A == $right.B",
            )
            .with_hint("only equality joins are supported")),
        }
    }

    // ---- summarize ------------------------------------------------------------

    fn keys(
        &self,
        by: &[ast::Assign],
        input: &Schema,
        used: &mut Vec<String>,
        counter: &mut usize,
    ) -> Result<(Vec<BExpr>, Schema), QueryError> {
        let mut keys = Vec::new();
        let mut schema = Vec::new();
        for a in by {
            let b = self.expr(&a.expr, input)?;
            // Grouping by a dynamic value groups by its JSON text.
            let name = match &a.name {
                Some(n) => {
                    if used.contains(&n.name) {
                        return Err(QueryError::new(
                            Code::DuplicateColumn,
                            n.span,
                            format!("the column name {} is used twice", n.name),
                        ));
                    }
                    n.name.clone()
                }
                None => match derived_name(&a.expr) {
                    Some(n) => unique(&n, used),
                    None => next_column(counter, used),
                },
            };
            used.push(name.clone());
            keys.push(b.e);
            schema.push(Column { name, ty: b.ty });
        }
        Ok((keys, schema))
    }

    fn summarize(
        &mut self,
        aggs: &[ast::Assign],
        by: &[ast::Assign],
        input: &Schema,
    ) -> Result<Vec<(POp, Schema)>, QueryError> {
        let mut used: Vec<String> = Vec::new();
        let mut counter = 0;
        let (keys, mut schema) = self.keys(by, input, &mut used, &mut counter)?;
        let key_cols: Vec<usize> = keys
            .iter()
            .filter_map(|k| if let BExpr::Col(i) = k { Some(*i) } else { None })
            .collect();
        let mut baggs: Vec<BAgg> = Vec::new();
        // Post-aggregation expressions: Some(expr over the summarize output) when an item is not a bare aggregate.
        let mut post: Vec<(Option<BExpr>, Column)> = Vec::new();
        let mut needs_post = false;
        let nkeys = keys.len();
        for (i, k) in schema.iter().enumerate() {
            post.push((Some(BExpr::Col(i)), k.clone()));
        }
        for a in aggs {
            if let Some((agg, names)) = self.bare_agg(&a.expr, input, &key_cols)? {
                let n_out = agg.out.len();
                let base = nkeys + baggs.iter().map(|g| g.out.len()).sum::<usize>();
                let names: Vec<String> = match (&a.name, n_out) {
                    (Some(n), 1) => {
                        if used.contains(&n.name) {
                            return Err(QueryError::new(
                                Code::DuplicateColumn,
                                n.span,
                                format!("the column name {} is used twice", n.name),
                            ));
                        }
                        vec![n.name.clone()]
                    }
                    (Some(n), _) => {
                        return Err(QueryError::new(
                            Code::Unsupported,
                            n.span,
                            "this aggregate returns several columns and cannot be named",
                        ));
                    }
                    (None, _) => names
                        .into_iter()
                        .map(|n| {
                            let n = match n {
                                Some(n) => unique(&n, &used),
                                None => next_column(&mut counter, &used),
                            };
                            used.push(n.clone());
                            n
                        })
                        .collect(),
                };
                if a.name.is_some() {
                    used.extend(names.iter().cloned());
                }
                for (j, (n, t)) in names.into_iter().zip(agg.out.iter()).enumerate() {
                    post.push((Some(BExpr::Col(base + j)), Column { name: n, ty: *t }));
                }
                baggs.push(agg);
            } else {
                // An expression over aggregates, e.g. count() * 2 or round(avg(x), 1).
                needs_post = true;
                let mut inner: Vec<BAgg> = Vec::new();
                let base = nkeys + baggs.iter().map(|g| g.out.len()).sum::<usize>();
                let b = self.agg_expr(&a.expr, input, &key_cols, &mut inner, base)?;
                let name = match &a.name {
                    Some(n) => {
                        if used.contains(&n.name) {
                            return Err(QueryError::new(
                                Code::DuplicateColumn,
                                n.span,
                                format!("the column name {} is used twice", n.name),
                            ));
                        }
                        n.name.clone()
                    }
                    None => next_column(&mut counter, &used),
                };
                used.push(name.clone());
                baggs.extend(inner);
                post.push((Some(b.e), Column { name, ty: b.ty }));
            }
        }
        // The summarize schema: keys then every aggregate output.
        for g in &baggs {
            for t in &g.out {
                schema.push(Column { name: format!("__agg{}", schema.len()), ty: *t });
            }
        }
        let final_schema: Schema = post.iter().map(|(_, c)| c.clone()).collect();
        if !needs_post {
            return Ok(vec![(POp::Summarize { keys, aggs: baggs }, final_schema)]);
        }
        let exprs: Vec<BExpr> =
            post.into_iter().map(|(e, _)| e.unwrap_or(BExpr::Lit(Value::Null))).collect();
        Ok(vec![
            (POp::Summarize { keys, aggs: baggs }, schema),
            (POp::Project(exprs), final_schema),
        ])
    }

    /// Binds an expression containing aggregates: each aggregate becomes a column reference past `base`.
    fn agg_expr(
        &self,
        e: &Expr,
        input: &Schema,
        key_cols: &[usize],
        out: &mut Vec<BAgg>,
        base: usize,
    ) -> Result<Bound, QueryError> {
        if let ExprKind::Call(f, _) = &e.kind
            && AGGREGATES.contains(&f.name.as_str())
        {
            let Some((agg, _)) = self.bare_agg(e, input, key_cols)? else {
                return Err(QueryError::new(Code::Aggregate, e.span, "expected an aggregate"));
            };
            if agg.out.len() != 1 {
                return Err(QueryError::new(
                    Code::Unsupported,
                    e.span,
                    "this aggregate returns several columns and cannot be used in an expression",
                ));
            }
            let idx = base + out.iter().map(|g| g.out.len()).sum::<usize>();
            let ty = agg.out[0];
            out.push(agg);
            return Ok(Bound { e: BExpr::Col(idx), ty });
        }
        // Rebuild the expression around the aggregates.
        match &e.kind {
            ExprKind::Lit(_) => self.expr(e, &Vec::new()),
            ExprKind::Call(f, args) => {
                let mut bargs = Vec::new();
                for a in args {
                    bargs.push(self.agg_expr(a, input, key_cols, out, base)?);
                }
                self.call_bound(f, bargs, e.span)
            }
            ExprKind::Binary(op, a, b) => {
                let x = self.agg_expr(a, input, key_cols, out, base)?;
                let y = self.agg_expr(b, input, key_cols, out, base)?;
                self.binary_bound(*op, x, y, e.span, b.span)
            }
            ExprKind::Neg(a) => {
                let x = self.agg_expr(a, input, key_cols, out, base)?;
                Ok(Bound { e: BExpr::Neg(Box::new(x.e)), ty: x.ty })
            }
            _ => Err(QueryError::new(
                Code::Aggregate,
                e.span,
                "summarize needs aggregates (count(), sum(x), …) or expressions over them",
            )
            .with_hint("group columns go after 'by'")),
        }
    }

    /// A top-level aggregate call: the bound aggregate and the generated names of its outputs.
    fn bare_agg(
        &self,
        e: &Expr,
        input: &Schema,
        key_cols: &[usize],
    ) -> Result<Option<NamedAgg>, QueryError> {
        let ExprKind::Call(f, args) = &e.kind else { return Ok(None) };
        let name = f.name.as_str();
        if !AGGREGATES.contains(&name) {
            return Ok(None);
        }
        let argc = |min: usize, max: usize| -> Result<(), QueryError> {
            if args.len() < min || args.len() > max {
                let want = if min == max { format!("{min}") } else { format!("{min} to {max}") };
                return Err(QueryError::new(
                    Code::ArgumentCount,
                    e.span,
                    format!("{name}() takes {want} arguments, not {}", args.len()),
                ));
            }
            Ok(())
        };
        let arg0 = |this: &Binder| -> Result<Bound, QueryError> {
            match args.first() {
                Some(a) if matches!(a.kind, ExprKind::Star) => Err(QueryError::new(
                    Code::Unsupported,
                    a.span,
                    format!("{name}(*) is not supported"),
                )),
                Some(a) => this.expr(a, input),
                None => Err(QueryError::new(
                    Code::ArgumentCount,
                    e.span,
                    format!("{name}() needs an argument"),
                )),
            }
        };
        let pred = |this: &Binder, i: usize| -> Result<BExpr, QueryError> {
            let a = args.get(i).ok_or_else(|| {
                QueryError::new(Code::ArgumentCount, e.span, format!("{name}() needs a condition"))
            })?;
            let b = this.expr(a, input)?;
            if b.ty != Type::Bool && b.ty != Type::Dynamic {
                return Err(QueryError::new(
                    Code::NotBoolean,
                    a.span,
                    "the condition must be a bool",
                ));
            }
            Ok(b.e)
        };
        let max_arg = |this: &Binder, i: usize| -> Result<usize, QueryError> {
            match args.get(i) {
                Some(a) => this.const_count(a, name),
                None => Ok(1_048_576),
            }
        };
        let arg_name = args.first().and_then(derived_name);
        let prefixed = |p: &str| Some(format!("{p}_{}", arg_name.clone().unwrap_or_default()));
        let simple = |kind: AggKind,
                      arg: Option<BExpr>,
                      pred: Option<BExpr>,
                      ty: Type,
                      n: Option<String>| {
            Ok(Some((BAgg { kind, arg, pred, ret: Vec::new(), out: vec![ty] }, vec![n])))
        };
        match name {
            "count" => {
                if !(args.is_empty() || (args.len() == 1 && matches!(args[0].kind, ExprKind::Star)))
                {
                    return Err(QueryError::new(
                        Code::ArgumentCount,
                        e.span,
                        "count() takes no arguments",
                    )
                    .with_hint("use countif(condition) or dcount(column)"));
                }
                simple(AggKind::Count, None, None, Type::Long, Some("count_".into()))
            }
            "countif" => {
                argc(1, 1)?;
                let p = pred(self, 0)?;
                simple(AggKind::CountIf, None, Some(p), Type::Long, Some("countif_".into()))
            }
            "dcount" => {
                argc(1, 2)?;
                let a = arg0(self)?;
                simple(AggKind::DCount, Some(a.e), None, Type::Long, prefixed("dcount"))
            }
            "dcountif" => {
                argc(2, 3)?;
                let a = arg0(self)?;
                let p = pred(self, 1)?;
                simple(AggKind::DCountIf, Some(a.e), Some(p), Type::Long, prefixed("dcountif"))
            }
            "sum" | "sumif" => {
                argc(if name == "sum" { 1 } else { 2 }, if name == "sum" { 1 } else { 2 })?;
                let a = arg0(self)?;
                let ty = match a.ty {
                    Type::Int | Type::Long => Type::Long,
                    Type::Real | Type::Dynamic => Type::Real,
                    Type::TimeSpan => Type::TimeSpan,
                    t => {
                        return Err(QueryError::new(
                            Code::ArgumentType,
                            args[0].span,
                            format!("{name}() needs a number, this is a {}", t.name()),
                        ));
                    }
                };
                if name == "sum" {
                    simple(AggKind::Sum, Some(a.e), None, ty, prefixed("sum"))
                } else {
                    let p = pred(self, 1)?;
                    simple(AggKind::SumIf, Some(a.e), Some(p), ty, prefixed("sumif"))
                }
            }
            "min" | "max" => {
                argc(1, 1)?;
                let a = arg0(self)?;
                let kind = if name == "min" { AggKind::Min } else { AggKind::Max };
                simple(kind, Some(a.e), None, a.ty, prefixed(name))
            }
            "avg" | "avgif" => {
                argc(if name == "avg" { 1 } else { 2 }, if name == "avg" { 1 } else { 2 })?;
                let a = arg0(self)?;
                if !(a.ty.is_numeric() || a.ty == Type::Dynamic) {
                    return Err(QueryError::new(
                        Code::ArgumentType,
                        args[0].span,
                        format!("{name}() needs a number, this is a {}", a.ty.name()),
                    ));
                }
                if name == "avg" {
                    simple(AggKind::Avg, Some(a.e), None, Type::Real, prefixed("avg"))
                } else {
                    let p = pred(self, 1)?;
                    simple(AggKind::AvgIf, Some(a.e), Some(p), Type::Real, prefixed("avgif"))
                }
            }
            "make_set" | "makeset" => {
                argc(1, 2)?;
                let a = arg0(self)?;
                let m = max_arg(self, 1)?;
                simple(AggKind::MakeSet(m), Some(a.e), None, Type::Dynamic, prefixed("set"))
            }
            "make_set_if" => {
                argc(2, 3)?;
                let a = arg0(self)?;
                let p = pred(self, 1)?;
                let m = max_arg(self, 2)?;
                simple(AggKind::MakeSetIf(m), Some(a.e), Some(p), Type::Dynamic, prefixed("set"))
            }
            "make_list" | "makelist" => {
                argc(1, 2)?;
                let a = arg0(self)?;
                let m = max_arg(self, 1)?;
                simple(AggKind::MakeList(m), Some(a.e), None, Type::Dynamic, prefixed("list"))
            }
            "make_list_if" => {
                argc(2, 3)?;
                let a = arg0(self)?;
                let p = pred(self, 1)?;
                let m = max_arg(self, 2)?;
                simple(AggKind::MakeListIf(m), Some(a.e), Some(p), Type::Dynamic, prefixed("list"))
            }
            "any" | "take_any" => {
                argc(1, 1)?;
                let a = arg0(self)?;
                let n = if name == "any" { prefixed("any") } else { arg_name.clone() };
                simple(AggKind::Any, Some(a.e), None, a.ty, n)
            }
            "arg_max" | "argmax" | "arg_min" | "argmin" => {
                if args.len() < 2 {
                    return Err(QueryError::new(
                        Code::ArgumentCount,
                        e.span,
                        format!(
                            "{name}() needs the expression to maximize and the columns to return (or *)"
                        ),
                    ));
                }
                let a = arg0(self)?;
                let mut names = vec![arg_name.clone()];
                let mut out = vec![a.ty];
                let mut ret = Vec::new();
                let maximized = if let BExpr::Col(i) = a.e { Some(i) } else { None };
                for r in &args[1..] {
                    if matches!(r.kind, ExprKind::Star) {
                        for (i, c) in input.iter().enumerate() {
                            if Some(i) == maximized || key_cols.contains(&i) {
                                continue;
                            }
                            ret.push(BExpr::Col(i));
                            out.push(c.ty);
                            names.push(Some(c.name.clone()));
                        }
                    } else {
                        let b = self.expr(r, input)?;
                        ret.push(b.e);
                        out.push(b.ty);
                        names.push(derived_name(r));
                    }
                }
                let kind = if name.contains("max") { AggKind::ArgMax } else { AggKind::ArgMin };
                Ok(Some((BAgg { kind, arg: Some(a.e), pred: None, ret, out }, names)))
            }
            "percentile" | "percentiles" => {
                if name == "percentile" {
                    argc(2, 2)?;
                } else if args.len() < 2 {
                    return Err(QueryError::new(
                        Code::ArgumentCount,
                        e.span,
                        "percentiles() needs a value and at least one percentage",
                    ));
                }
                let a = arg0(self)?;
                if !(a.ty.is_numeric()
                    || matches!(a.ty, Type::DateTime | Type::TimeSpan | Type::Dynamic))
                {
                    return Err(QueryError::new(
                        Code::ArgumentType,
                        args[0].span,
                        format!("{name}() needs a number, this is a {}", a.ty.name()),
                    ));
                }
                let mut ps = Vec::new();
                let mut names = Vec::new();
                for p in &args[1..] {
                    let b = self.expr(p, &Vec::new())?;
                    let v = match self.fold(b.e) {
                        BExpr::Lit(v) => v.to_real(),
                        _ => None,
                    };
                    let Some(v) = v.filter(|v| (0.0..=100.0).contains(v)) else {
                        return Err(QueryError::new(
                            Code::NotConstant,
                            p.span,
                            "a percentage is a constant from 0 to 100",
                        ));
                    };
                    ps.push(v);
                    let text = if v.fract() == 0.0 {
                        format!("{}", v as i64)
                    } else {
                        format!("{v}").replace('.', "_")
                    };
                    names.push(Some(format!(
                        "percentile_{}_{text}",
                        arg_name.clone().unwrap_or_default()
                    )));
                }
                let ty = if a.ty == Type::Int {
                    Type::Long
                } else if a.ty == Type::Dynamic {
                    Type::Real
                } else {
                    a.ty
                };
                let out = vec![ty; ps.len()];
                Ok(Some((
                    BAgg {
                        kind: AggKind::Percentiles(ps),
                        arg: Some(a.e),
                        pred: None,
                        ret: Vec::new(),
                        out,
                    },
                    names,
                )))
            }
            _ => Ok(None),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn make_series(
        &mut self,
        aggs: &[ast::SeriesAgg],
        on: &Expr,
        from: &Expr,
        to: &Expr,
        step: &Expr,
        by: &[ast::Assign],
        input: &Schema,
    ) -> Result<Vec<(POp, Schema)>, QueryError> {
        let mut used = Vec::new();
        let mut counter = 0;
        let (keys, mut schema) = self.keys(by, input, &mut used, &mut counter)?;
        let on_b = self.expr(on, input)?;
        let datetime_axis = match on_b.ty {
            Type::DateTime => true,
            t if t.is_numeric() => false,
            t => {
                return Err(QueryError::new(
                    Code::ArgumentType,
                    on.span,
                    format!("make-series needs a datetime or number axis, this is a {}", t.name()),
                ));
            }
        };
        let constant = |this: &Binder, e: &Expr, what: &str| -> Result<Value, QueryError> {
            let b = this.expr(e, &Vec::new())?;
            match this.fold(b.e) {
                BExpr::Lit(v) if !v.is_null() => Ok(v),
                _ => Err(QueryError::new(
                    Code::NotConstant,
                    e.span,
                    format!("make-series needs a constant {what}"),
                )),
            }
        };
        let (fv, tv, sv) = (
            constant(self, from, "start")?,
            constant(self, to, "end")?,
            constant(self, step, "step")?,
        );
        let (f, t, s) = match (datetime_axis, &fv, &tv, &sv) {
            (true, Value::DateTime(f), Value::DateTime(t), Value::TimeSpan(s)) => (*f, *t, *s),
            (false, Value::Long(f), Value::Long(t), Value::Long(s)) => (*f, *t, *s),
            _ => {
                return Err(QueryError::new(
                    Code::TypeMismatch,
                    from.span.to(step.span),
                    "from and to must match the axis type and step must be a timespan (or a number for a numeric axis)",
                ));
            }
        };
        if s <= 0 || t < f || (t - f) / s > 100_000 {
            return Err(QueryError::new(
                Code::Runtime,
                step.span,
                "make-series needs a positive step and at most 100000 bins",
            ));
        }
        let mut baggs = Vec::new();
        for sa in aggs {
            let Some((agg, names)) = self.bare_agg(&sa.agg.expr, input, &[])? else {
                return Err(QueryError::new(
                    Code::Aggregate,
                    sa.agg.expr.span,
                    "make-series needs an aggregate such as count() or sum(x)",
                ));
            };
            if agg.out.len() != 1 {
                return Err(QueryError::new(
                    Code::Unsupported,
                    sa.agg.expr.span,
                    "this aggregate is not supported in make-series",
                ));
            }
            let default = match &sa.default {
                Some(d) => constant(self, d, "default")?,
                None => Value::Long(0),
            };
            let name = match &sa.agg.name {
                Some(n) => n.name.clone(),
                None => match names.into_iter().next().flatten() {
                    Some(n) => unique(&n, &used),
                    None => next_column(&mut counter, &used),
                },
            };
            used.push(name.clone());
            schema.push(Column { name, ty: Type::Dynamic });
            baggs.push((agg, default));
        }
        let axis = derived_name(on).unwrap_or_else(|| next_column(&mut counter, &used));
        schema.push(Column { name: unique(&axis, &used), ty: Type::Dynamic });
        Ok(vec![(
            POp::MakeSeries {
                keys,
                aggs: baggs,
                on: on_b.e,
                from: f,
                to: t,
                step: s,
                datetime_axis,
            },
            schema,
        )])
    }

    // ---- scalar expressions ----------------------------------------------------

    fn expr(&self, e: &Expr, schema: &Schema) -> Result<Bound, QueryError> {
        let b = self.expr_inner(e, schema)?;
        Ok(Bound { e: self.fold(b.e), ty: b.ty })
    }

    fn expr_inner(&self, e: &Expr, schema: &Schema) -> Result<Bound, QueryError> {
        match &e.kind {
            ExprKind::Lit(l) => self.lit(l, e.span),
            ExprKind::Name(n) => {
                if let Some(i) = col_index(schema, n) {
                    return Ok(Bound { e: BExpr::Col(i), ty: schema[i].ty });
                }
                if let Some((v, t)) = self.scalars.get(n) {
                    return Ok(Bound { e: BExpr::Lit(v.clone()), ty: *t });
                }
                if table_by_name(n).is_some() || self.tabulars.contains_key(n) {
                    return Err(QueryError::new(
                        Code::Kind,
                        e.span,
                        format!("{n} is a table, not a scalar"),
                    ));
                }
                let lets: Vec<&str> = self.scalars.keys().map(String::as_str).collect();
                Err(unknown_column(n, e.span, schema, &lets))
            }
            ExprKind::Star => Err(QueryError::new(
                Code::Syntax,
                e.span,
                "* is only allowed in count(*) and arg_max(x, *)",
            )),
            ExprKind::TypeOf(t) => Ok(Bound {
                e: BExpr::Lit(Value::str(Type::from_name(*t).name())),
                ty: Type::String,
            }),
            ExprKind::Tabular(_) => Err(QueryError::new(
                Code::Kind,
                e.span,
                "a tabular expression cannot be used as a value",
            )
            .with_hint("use it in `in (…)`")),
            ExprKind::Neg(a) => {
                let x = self.expr(a, schema)?;
                if !(x.ty.is_numeric() || matches!(x.ty, Type::TimeSpan | Type::Dynamic)) {
                    return Err(QueryError::new(
                        Code::TypeMismatch,
                        e.span,
                        format!("cannot negate a {}", x.ty.name()),
                    ));
                }
                Ok(Bound { e: BExpr::Neg(Box::new(x.e)), ty: x.ty })
            }
            ExprKind::Member(base, f) => {
                let b = self.expr(base, schema)?;
                if b.ty != Type::Dynamic {
                    return Err(QueryError::new(
                        Code::TypeMismatch,
                        e.span,
                        format!(
                            "only dynamic values have properties; {} is a {}",
                            derived_name(base).unwrap_or_default(),
                            b.ty.name()
                        ),
                    ));
                }
                Ok(Bound { e: BExpr::Member(Box::new(b.e), f.name.clone()), ty: Type::Dynamic })
            }
            ExprKind::Index(base, idx) => {
                let b = self.expr(base, schema)?;
                if b.ty != Type::Dynamic {
                    return Err(QueryError::new(
                        Code::TypeMismatch,
                        e.span,
                        format!("only dynamic values can be indexed; this is a {}", b.ty.name()),
                    ));
                }
                let i = self.expr(idx, schema)?;
                match (&i.e, i.ty) {
                    (BExpr::Lit(Value::Str(s)), _) => Ok(Bound {
                        e: BExpr::Member(Box::new(b.e), s.to_string()),
                        ty: Type::Dynamic,
                    }),
                    (_, t) if t.is_integer() || t == Type::String || t == Type::Dynamic => {
                        Ok(Bound {
                            e: BExpr::Index(Box::new(b.e), Box::new(i.e)),
                            ty: Type::Dynamic,
                        })
                    }
                    (_, t) => Err(QueryError::new(
                        Code::TypeMismatch,
                        idx.span,
                        format!("an index is an integer or a string, not a {}", t.name()),
                    )),
                }
            }
            ExprKind::Call(f, args) => {
                if AGGREGATES.contains(&f.name.as_str()) && Func::lookup(&f.name).is_none() {
                    return Err(QueryError::new(
                        Code::Aggregate,
                        f.span,
                        format!("{}() is an aggregate: use it in summarize", f.name),
                    ));
                }
                if matches!(f.name.as_str(), "toscalar" | "materialize") {
                    return Err(QueryError::new(
                        Code::Unsupported,
                        f.span,
                        format!("{}() is not supported", f.name),
                    ));
                }
                let mut bargs = Vec::new();
                for a in args {
                    if matches!(a.kind, ExprKind::Star) {
                        return Err(QueryError::new(
                            Code::Syntax,
                            a.span,
                            "* is not an argument of this function",
                        ));
                    }
                    bargs.push(self.expr(a, schema)?);
                }
                self.call_bound(f, bargs, e.span)
            }
            ExprKind::Binary(op, a, b) => {
                if let BinOp::Str(sop, neg) = op {
                    return self.str_op(*sop, *neg, a, b, schema, e.span);
                }
                let x = self.expr(a, schema)?;
                let y = self.expr(b, schema)?;
                self.binary_bound(*op, x, y, e.span, b.span)
            }
            ExprKind::In { expr, list, negated, ci } => {
                self.in_expr(expr, list, *negated, *ci, schema, e.span)
            }
            ExprKind::Between { expr, lo, hi, negated } => {
                let x = self.expr(expr, schema)?;
                let l = self.expr(lo, schema)?;
                let mut h = self.expr(hi, schema)?;
                if x.ty == Type::DateTime && l.ty == Type::DateTime && h.ty == Type::TimeSpan {
                    h = Bound {
                        e: self.fold(BExpr::Bin(BinOp::Add, Box::new(l.e.clone()), Box::new(h.e))),
                        ty: Type::DateTime,
                    };
                }
                for (bound, span) in [(&l, lo.span), (&h, hi.span)] {
                    if !comparable(x.ty, bound.ty) {
                        return Err(type_err(span, "between", x.ty, bound.ty));
                    }
                }
                Ok(Bound {
                    e: BExpr::Between {
                        expr: Box::new(x.e),
                        lo: Box::new(l.e),
                        hi: Box::new(h.e),
                        negated: *negated,
                    },
                    ty: Type::Bool,
                })
            }
        }
    }

    fn lit(&self, l: &Lit, span: Span) -> Result<Bound, QueryError> {
        Ok(match l {
            Lit::Null(t) => {
                let ty = t.map_or(Type::Dynamic, Type::from_name);
                Bound { e: BExpr::Lit(ty.null()), ty }
            }
            Lit::Bool(b) => Bound { e: BExpr::Lit(Value::Bool(*b)), ty: Type::Bool },
            Lit::Long(n, int) => Bound {
                e: BExpr::Lit(Value::Long(*n)),
                ty: if *int { Type::Int } else { Type::Long },
            },
            Lit::Real(r) => Bound { e: BExpr::Lit(Value::Real(*r)), ty: Type::Real },
            Lit::Str(s) => Bound { e: BExpr::Lit(Value::str(s)), ty: Type::String },
            Lit::TimeSpan(t) => Bound { e: BExpr::Lit(Value::TimeSpan(*t)), ty: Type::TimeSpan },
            Lit::DateTime(raw) => {
                let text = raw.trim().trim_matches(|c| c == '"' || c == '\'');
                if text == "null" {
                    return Ok(Bound { e: BExpr::Lit(Value::Null), ty: Type::DateTime });
                }
                let t = parse_datetime(text).ok_or_else(|| {
                    QueryError::new(Code::BadLiteral, span, format!("invalid datetime {raw:?}"))
                        .with_hint("write datetime(2024-03-01), datetime(2024-03-01 10:00) or datetime(2024-03-01T10:00:00Z)")
                })?;
                Bound { e: BExpr::Lit(Value::DateTime(t)), ty: Type::DateTime }
            }
            Lit::Dynamic(j) => {
                Bound { e: BExpr::Lit(Value::dynamic(j.clone())), ty: Type::Dynamic }
            }
        })
    }

    fn call_bound(
        &self,
        f: &ast::Ident,
        args: Vec<Bound>,
        span: Span,
    ) -> Result<Bound, QueryError> {
        let Some(func) = Func::lookup(&f.name) else {
            let mut err = QueryError::new(
                Code::UnknownFunction,
                f.span,
                format!("unknown function {}()", f.name),
            );
            let all = Func::NAMES.iter().chain(AGGREGATES.iter()).copied();
            if let Some(s) = closest(&f.name, all) {
                err = err.with_hint(format!("did you mean {s}()?"));
            }
            return Err(err);
        };
        let types: Vec<Type> = args.iter().map(|a| a.ty).collect();
        let ty = match func::signature(func, &types) {
            Ok(t) => t,
            Err(se) => {
                return Err(match se.arg {
                    None => QueryError::new(
                        Code::ArgumentCount,
                        span,
                        format!("{}() takes {}, not {}", f.name, se.expected, args.len()),
                    ),
                    Some(i) => QueryError::new(
                        Code::ArgumentType,
                        span,
                        format!(
                            "argument {} of {}() must be {}, not a {}",
                            i + 1,
                            f.name,
                            se.expected,
                            types.get(i).map_or("?", |t| t.name())
                        ),
                    ),
                });
            }
        };
        // Regex arguments must compile.
        let regex_arg = match func {
            Func::Extract | Func::Trim | Func::TrimStart | Func::TrimEnd => Some(0),
            Func::ReplaceRegex => Some(1),
            _ => None,
        };
        if let Some(i) = regex_arg
            && let Some(BExpr::Lit(v)) = args.get(i).map(|a| &a.e)
            && let Err(e) = regex::RegexBuilder::new(&v.to_kql_string()).size_limit(1 << 20).build()
        {
            return Err(QueryError::new(
                Code::BadRegex,
                span,
                format!("invalid regular expression: {}", first_line(&e.to_string())),
            ));
        }
        let ty = if func == Func::Extract && args.len() == 4 {
            match args[3].e.as_lit() {
                Some(Value::Str(t)) => {
                    ast::TypeName::parse(t).map_or(Type::String, Type::from_name)
                }
                _ => {
                    return Err(QueryError::new(
                        Code::ArgumentType,
                        span,
                        "the fourth argument of extract() is typeof(T)",
                    ));
                }
            }
        } else {
            ty
        };
        Ok(Bound { e: BExpr::Call(func, args.into_iter().map(|a| a.e).collect()), ty })
    }

    fn binary_bound(
        &self,
        op: BinOp,
        x: Bound,
        y: Bound,
        span: Span,
        _rspan: Span,
    ) -> Result<Bound, QueryError> {
        let ty = match op {
            BinOp::And | BinOp::Or => {
                for b in [&x, &y] {
                    if b.ty != Type::Bool && b.ty != Type::Dynamic {
                        return Err(type_err(span, op_text(op), x.ty, y.ty));
                    }
                }
                Type::Bool
            }
            BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
                if !comparable(x.ty, y.ty) {
                    return Err(type_err(span, op_text(op), x.ty, y.ty));
                }
                Type::Bool
            }
            BinOp::EqCi | BinOp::NeCi => {
                for t in [x.ty, y.ty] {
                    if t != Type::String && t != Type::Dynamic {
                        return Err(type_err(span, op_text(op), x.ty, y.ty));
                    }
                }
                Type::Bool
            }
            BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Mod => {
                arith_type(op, x.ty, y.ty).ok_or_else(|| type_err(span, op_text(op), x.ty, y.ty))?
            }
            BinOp::Str(..) => Type::Bool,
        };
        Ok(Bound { e: BExpr::Bin(op, Box::new(x.e), Box::new(y.e)), ty })
    }

    fn str_op(
        &self,
        op: StrOp,
        negated: bool,
        a: &Expr,
        b: &Expr,
        schema: &Schema,
        span: Span,
    ) -> Result<Bound, QueryError> {
        let x = self.expr(a, schema)?;
        if x.ty != Type::String && x.ty != Type::Dynamic {
            return Err(QueryError::new(
                Code::TypeMismatch,
                span,
                format!("string operators need a string on the left, this is a {}", x.ty.name()),
            ));
        }
        let ci = matches!(
            op,
            StrOp::Has
                | StrOp::HasPrefix
                | StrOp::HasSuffix
                | StrOp::Contains
                | StrOp::StartsWith
                | StrOp::EndsWith
                | StrOp::HasAny
                | StrOp::HasAll
        );
        match op {
            StrOp::HasAny | StrOp::HasAll => {
                let ExprKind::Call(_, items) = &b.kind else {
                    return Err(QueryError::new(
                        Code::Syntax,
                        b.span,
                        "expected a list in parentheses",
                    ));
                };
                let mut list = Vec::new();
                for it in items {
                    let v = self.expr(it, schema)?;
                    let BExpr::Lit(v) = v.e else {
                        return Err(QueryError::new(
                            Code::NotConstant,
                            it.span,
                            "has_any and has_all need constant values",
                        ));
                    };
                    match v {
                        Value::Dynamic(j) if j.is_array() => {
                            for el in j.as_array().into_iter().flatten() {
                                list.push(Value::dynamic(el.clone()).to_kql_string());
                            }
                        }
                        other => list.push(other.to_kql_string()),
                    }
                }
                if list.len() > MAX_IN_LIST {
                    return Err(QueryError::new(
                        Code::Unsupported,
                        b.span,
                        format!("at most {MAX_IN_LIST} values"),
                    ));
                }
                let list = list.into_iter().map(|s| fold(&s)).collect();
                Ok(Bound {
                    e: BExpr::StrConst {
                        op,
                        negated,
                        expr: Box::new(x.e),
                        needle: Needle::List(list),
                    },
                    ty: Type::Bool,
                })
            }
            StrOp::Matches => {
                let y = self.expr(b, schema)?;
                let BExpr::Lit(v) = y.e else {
                    return Err(QueryError::new(
                        Code::NotConstant,
                        b.span,
                        "matches regex needs a constant pattern",
                    ));
                };
                let re = regex::RegexBuilder::new(&v.to_kql_string())
                    .size_limit(1 << 20)
                    .build()
                    .map_err(|e| {
                    QueryError::new(
                        Code::BadRegex,
                        b.span,
                        format!("invalid regular expression: {}", first_line(&e.to_string())),
                    )
                })?;
                Ok(Bound {
                    e: BExpr::StrConst {
                        op,
                        negated,
                        expr: Box::new(x.e),
                        needle: Needle::Regex(std::sync::Arc::new(re)),
                    },
                    ty: Type::Bool,
                })
            }
            _ => {
                let y = self.expr(b, schema)?;
                if y.ty != Type::String && y.ty != Type::Dynamic && !y.ty.is_numeric() {
                    return Err(type_err(span, "string operator", x.ty, y.ty));
                }
                match y.e {
                    BExpr::Lit(v) => {
                        let t = v.to_kql_string();
                        let t = if ci { fold(&t) } else { t };
                        Ok(Bound {
                            e: BExpr::StrConst {
                                op,
                                negated,
                                expr: Box::new(x.e),
                                needle: Needle::Text(t),
                            },
                            ty: Type::Bool,
                        })
                    }
                    other => Ok(Bound {
                        e: BExpr::Bin(BinOp::Str(op, negated), Box::new(x.e), Box::new(other)),
                        ty: Type::Bool,
                    }),
                }
            }
        }
    }

    fn in_expr(
        &self,
        expr: &Expr,
        list: &[Expr],
        negated: bool,
        ci: bool,
        schema: &Schema,
        span: Span,
    ) -> Result<Bound, QueryError> {
        let x = self.expr(expr, schema)?;
        if ci && x.ty != Type::String && x.ty != Type::Dynamic {
            return Err(QueryError::new(
                Code::TypeMismatch,
                span,
                format!("in~ compares strings, this is a {}", x.ty.name()),
            ));
        }
        // A subquery: `in (T | project x)` or `in (tabular_let)`.
        let sub = match list {
            [one] => match &one.kind {
                ExprKind::Tabular(t) => Some(t.as_ref().clone()),
                ExprKind::Name(n)
                    if col_index(schema, n).is_none()
                        && !self.scalars.contains_key(n)
                        && (self.tabulars.contains_key(n) || table_by_name(n).is_some()) =>
                {
                    Some(Tabular {
                        source: ast::Source::Name(ast::Ident { name: n.clone(), span: one.span }),
                        ops: Vec::new(),
                        span: one.span,
                    })
                }
                _ => None,
            },
            _ => None,
        };
        if let Some(t) = sub {
            // Subqueries are bound in a fresh binder state sharing the lets.
            let mut inner = Binder {
                now: self.now,
                scalars: self.scalars.clone(),
                tabulars: self.tabulars.clone(),
                subqueries: RefCell::new(Vec::new()),
                render: None,
            };
            let c = inner.tabular(&t, false)?;
            let Some(first) = c.schema().first() else {
                return Err(QueryError::new(Code::Kind, t.span, "the subquery has no columns"));
            };
            if !comparable(x.ty, first.ty) {
                return Err(type_err(span, "in", x.ty, first.ty));
            }
            // Nested subqueries of the subquery are not supported (kept simple).
            if !inner.subqueries.borrow().is_empty() {
                return Err(QueryError::new(
                    Code::Unsupported,
                    t.span,
                    "nested in-subqueries are not supported",
                ));
            }
            let idx = self.subquery_slot(c);
            return Ok(Bound {
                e: BExpr::In { expr: Box::new(x.e), list: InList::Sub(idx), negated, ci },
                ty: Type::Bool,
            });
        }
        let mut items = Vec::new();
        for it in list {
            let b = self.expr(it, schema)?;
            match (&b.e, b.ty) {
                (BExpr::Lit(Value::Dynamic(j)), _) if j.is_array() => {
                    for el in j.as_array().into_iter().flatten() {
                        items.push(BExpr::Lit(Value::dynamic(el.clone()).undynamic()));
                    }
                }
                // Kusto accepts values of other types here; they never match.
                _ => items.push(b.e),
            }
        }
        if items.len() > MAX_IN_LIST {
            return Err(QueryError::new(
                Code::Unsupported,
                span,
                format!("at most {MAX_IN_LIST} values in a list"),
            ));
        }
        Ok(Bound {
            e: BExpr::In { expr: Box::new(x.e), list: InList::Exprs(items), negated, ci },
            ty: Type::Bool,
        })
    }

    fn subquery_slot(&self, c: Chain) -> usize {
        let mut s = self.subqueries.borrow_mut();
        s.push(c);
        s.len() - 1
    }
}

fn first_line(s: &str) -> String {
    s.lines().rfind(|l| !l.trim().is_empty()).unwrap_or(s).trim().to_string()
}

fn projection(input: &Schema, cols: &[usize]) -> Vec<(POp, Schema)> {
    let schema = cols.iter().map(|i| input[*i].clone()).collect();
    vec![(POp::Project(cols.iter().map(|i| BExpr::Col(*i)).collect()), schema)]
}

fn unknown_column(name: &str, span: Span, schema: &Schema, lets: &[&str]) -> QueryError {
    let mut e = QueryError::new(Code::UnknownColumn, span, format!("unknown column {name}"));
    let cands = schema.iter().map(|c| c.name.as_str()).chain(lets.iter().copied());
    if let Some(s) = closest(name, cands) {
        e = e.with_hint(format!("did you mean {s}?"));
    } else if !schema.is_empty() {
        let cols: Vec<&str> = schema.iter().map(|c| c.name.as_str()).take(30).collect();
        e = e.with_hint(format!("columns here: {}", cols.join(", ")));
    }
    e
}
