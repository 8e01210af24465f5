//! SQL pushdown: the longest prefix of a chain that SQL answers exactly, as a small SQL AST rendered by a dialect.
//!
//! Rules that keep this safe and exact:
//!
//! - Every value from the query is a bound parameter ([`Param`]); identifiers
//!   are the catalogue's column and relation names (`&'static str` from
//!   `otwatch_model::hunt`) or generated aliases (`c0`, `t1`), never user text.
//! - A predicate is pushed only when SQL gives the same answer as the
//!   evaluator on every row (same null rules, binary string comparison, ASCII
//!   case folding for `LIKE`, see `text.rs`). A predicate SQL can only
//!   approximate from above (`has` as `LIKE '%term%'`) is pushed as a
//!   *prefilter* and the evaluator runs the operator again on what comes back.
//! - `summarize` is pushed only with aggregates whose SQL result is exactly
//!   ours (count, countif, dcount, integer sum, min, max) and keys that are
//!   columns or `bin()` of integer/datetime columns; `sort` only with a
//!   following `take` (or at the end), `take` as `LIMIT`.

use otwatch_model::hunt::HuntTable;

use crate::ast::{BinOp, StrOp};
use crate::func::Func;
use crate::plan::*;
use crate::text::like_escape;
use crate::value::{Type, Value};

/// A bound parameter.
#[derive(Clone, Debug, PartialEq)]
pub enum Param {
    /// NULL.
    Null,
    /// An integer (also datetimes, timespans and bools).
    Int(i64),
    /// A float.
    Real(f64),
    /// Text.
    Text(String),
}

/// The SQL dialect of a backend.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    /// SQLite (the embedded default).
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

impl Dialect {
    /// The dialect's renderer.
    pub fn renderer(self) -> &'static dyn SqlDialect {
        match self {
            Dialect::Sqlite => &SqliteDialect,
            Dialect::Postgres => &PostgresDialect,
        }
    }
}

/// What differs between SQL backends: capability questions and spellings.
pub trait SqlDialect: Sync {
    /// The placeholder of the n-th parameter (1-based).
    fn placeholder(&self, n: usize) -> String;
    /// Quotes an identifier (only ever called with catalogue names and generated aliases).
    fn quote(&self, ident: &str) -> String {
        format!("\"{ident}\"")
    }
    /// Whether `LIKE` folds exactly the ASCII letters and nothing else (then
    /// case-insensitive operators with ASCII needles are exact in SQL).
    fn like_folds_ascii_only(&self) -> bool;
    /// The 1-based position of `needle` in `hay` (0 when absent).
    fn position(&self, hay: &str, needle: &str) -> String;
    /// The last `n` characters of `e`.
    fn right(&self, e: &str, n: &str) -> String {
        format!("substr({e}, -{n})")
    }
    /// Whether `NULLS FIRST` / `NULLS LAST` may be written.
    fn nulls_ordering(&self) -> bool {
        true
    }
}

/// SQLite.
pub struct SqliteDialect;

impl SqlDialect for SqliteDialect {
    fn placeholder(&self, n: usize) -> String {
        format!("?{n}")
    }
    fn like_folds_ascii_only(&self) -> bool {
        // SQLite's built-in LIKE is case-insensitive for ASCII letters only
        // (unless PRAGMA case_sensitive_like, which the store never sets).
        true
    }
    fn position(&self, hay: &str, needle: &str) -> String {
        format!("instr({hay}, {needle})")
    }
}

/// PostgreSQL.
pub struct PostgresDialect;

impl SqlDialect for PostgresDialect {
    fn placeholder(&self, n: usize) -> String {
        format!("${n}")
    }
    fn like_folds_ascii_only(&self) -> bool {
        // LIKE is case-sensitive there and ILIKE folds by locale: not exact.
        false
    }
    fn position(&self, hay: &str, needle: &str) -> String {
        format!("strpos({hay}, {needle})")
    }
    fn right(&self, e: &str, n: &str) -> String {
        format!("right({e}, {n})")
    }
}

/// SQL binary operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SqlOp {
    /// =
    Eq,
    /// <>
    Ne,
    /// <
    Lt,
    /// <=
    Le,
    /// >
    Gt,
    /// >=
    Ge,
    /// AND
    And,
    /// OR
    Or,
    /// +
    Add,
    /// -
    Sub,
    /// %
    Mod,
}

impl SqlOp {
    fn text(self) -> &'static str {
        match self {
            SqlOp::Eq => "=",
            SqlOp::Ne => "<>",
            SqlOp::Lt => "<",
            SqlOp::Le => "<=",
            SqlOp::Gt => ">",
            SqlOp::Ge => ">=",
            SqlOp::And => "AND",
            SqlOp::Or => "OR",
            SqlOp::Add => "+",
            SqlOp::Sub => "-",
            SqlOp::Mod => "%",
        }
    }
}

/// A SQL expression.
#[derive(Clone, Debug, PartialEq)]
pub enum SqlExpr {
    /// A column of the hunting relation (catalogue name).
    Col(&'static str),
    /// An output column `c{n}` of the inner query.
    Alias(usize),
    /// A bound parameter (index into the parameter list).
    Param(usize),
    /// NULL.
    Null,
    /// A constant truth value.
    Bool(bool),
    /// `a op b`.
    Bin(SqlOp, Box<SqlExpr>, Box<SqlExpr>),
    /// `NOT (e)`.
    Not(Box<SqlExpr>),
    /// `e IS [NOT] NULL`.
    IsNull(Box<SqlExpr>, bool),
    /// `e [NOT] IN (…)`.
    In(Box<SqlExpr>, Vec<SqlExpr>, bool),
    /// `e [NOT] BETWEEN a AND b`.
    Between(Box<SqlExpr>, Box<SqlExpr>, Box<SqlExpr>, bool),
    /// `e [NOT] LIKE pattern ESCAPE '\'`.
    Like(Box<SqlExpr>, Box<SqlExpr>, bool),
    /// Position of a substring (1-based, 0 when absent).
    Position(Box<SqlExpr>, Box<SqlExpr>),
    /// `substr(e, -n)`: the last n characters.
    Right(Box<SqlExpr>, Box<SqlExpr>),
    /// COUNT(*).
    CountStar,
    /// COUNT(CASE WHEN p THEN 1 END).
    CountIf(Box<SqlExpr>),
    /// COUNT(DISTINCT e).
    CountDistinct(Box<SqlExpr>),
    /// SUM(e).
    Sum(Box<SqlExpr>),
    /// MIN(e).
    Min(Box<SqlExpr>),
    /// MAX(e).
    Max(Box<SqlExpr>),
}

/// Where a SELECT reads from.
#[derive(Clone, Debug, PartialEq)]
pub enum From {
    /// A hunting relation (catalogue name).
    Relation(&'static str),
    /// A subquery.
    Sub(Box<Select>),
}

/// A SELECT.
#[derive(Clone, Debug, PartialEq)]
pub struct Select {
    /// Output expressions, aliased `c0`, `c1`, …
    pub items: Vec<SqlExpr>,
    /// Source.
    pub from: From,
    /// Conditions, joined by AND.
    pub wheres: Vec<SqlExpr>,
    /// GROUP BY expressions.
    pub group_by: Vec<SqlExpr>,
    /// Whether to aggregate even without GROUP BY (an aggregate-only select).
    pub aggregate: bool,
    /// ORDER BY: expression, descending, nulls first.
    pub order_by: Vec<(SqlExpr, bool, bool)>,
    /// LIMIT (a parameter index).
    pub limit: Option<usize>,
}

impl Select {
    fn scan(rel: &'static str) -> Select {
        Select {
            items: Vec::new(),
            from: From::Relation(rel),
            wheres: Vec::new(),
            group_by: Vec::new(),
            aggregate: false,
            order_by: Vec::new(),
            limit: None,
        }
    }
}

/// The SQL for a chain prefix.
#[derive(Clone, Debug, PartialEq)]
pub struct Pushed {
    /// The statement.
    pub sql: String,
    /// Its parameters, in placeholder order.
    pub params: Vec<Param>,
    /// How many operators of the chain the SQL answers (the rest run in Rust).
    pub consumed: usize,
}

/// How well SQL answers a predicate.
enum Tr {
    Exact(SqlExpr),
    Superset(SqlExpr),
    No,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Shape {
    Scan,
    Grouped,
    Limited,
    Sorted,
}

struct Builder<'d> {
    d: &'d dyn SqlDialect,
    sel: Select,
    cols: Vec<SqlExpr>,
    types: Vec<Type>,
    params: Vec<Param>,
    shape: Shape,
}

fn param_of(v: &Value) -> Option<Param> {
    Some(match v {
        Value::Long(n) | Value::DateTime(n) | Value::TimeSpan(n) => Param::Int(*n),
        Value::Real(r) if r.is_finite() => Param::Real(*r),
        Value::Bool(b) => Param::Int(i64::from(*b)),
        Value::Str(s) => Param::Text(s.to_string()),
        _ => return None,
    })
}

/// Whether two types compare in SQL exactly as in the evaluator.
fn sql_comparable(a: Type, b: Type) -> bool {
    (a.is_numeric() && b.is_numeric())
        || (a == b && matches!(a, Type::DateTime | Type::TimeSpan | Type::String | Type::Bool))
}

impl Builder<'_> {
    fn param(&mut self, p: Param) -> SqlExpr {
        self.params.push(p);
        SqlExpr::Param(self.params.len() - 1)
    }

    /// Moves the current select into a subquery so more clauses can be added on top.
    fn wrap(&mut self) {
        let mut inner = std::mem::replace(&mut self.sel, Select::scan(""));
        inner.items = std::mem::take(&mut self.cols);
        let n = inner.items.len();
        self.sel = Select { from: From::Sub(Box::new(inner)), ..Select::scan("") };
        self.cols = (0..n).map(SqlExpr::Alias).collect();
        self.shape = Shape::Scan;
    }

    /// An exact scalar: a non-dynamic column or a non-null constant.
    fn scalar(&mut self, e: &BExpr) -> Option<(SqlExpr, Type)> {
        match e {
            BExpr::Col(i) => {
                let t = *self.types.get(*i)?;
                if t == Type::Dynamic {
                    return None;
                }
                Some((self.cols.get(*i)?.clone(), t))
            }
            BExpr::Lit(v) => {
                let t = match v {
                    Value::Long(_) => Type::Long,
                    Value::Real(_) => Type::Real,
                    Value::DateTime(_) => Type::DateTime,
                    Value::TimeSpan(_) => Type::TimeSpan,
                    Value::Str(_) => Type::String,
                    Value::Bool(_) => Type::Bool,
                    _ => return None,
                };
                let p = param_of(v)?;
                Some((self.param(p), t))
            }
            _ => None,
        }
    }

    fn string_col(&self, e: &BExpr) -> Option<SqlExpr> {
        match e {
            BExpr::Col(i) if self.types.get(*i) == Some(&Type::String) => {
                self.cols.get(*i).cloned()
            }
            _ => None,
        }
    }

    fn like(&mut self, col: SqlExpr, pattern: String, negated: bool) -> SqlExpr {
        let p = self.param(Param::Text(pattern));
        SqlExpr::Like(Box::new(col), Box::new(p), negated)
    }

    /// Translates a predicate. A predicate that cannot be translated leaves
    /// no parameters behind, so the numbering of the others stays dense.
    fn pred(&mut self, e: &BExpr) -> Tr {
        let save = self.params.len();
        let r = self.pred_inner(e);
        if matches!(r, Tr::No) {
            self.params.truncate(save);
        }
        r
    }

    fn pred_inner(&mut self, e: &BExpr) -> Tr {
        match e {
            BExpr::Lit(Value::Bool(b)) => Tr::Exact(SqlExpr::Bool(*b)),
            BExpr::Lit(Value::Null) => Tr::Exact(SqlExpr::Bool(false)),
            BExpr::Col(i) if self.types.get(*i) == Some(&Type::Bool) => {
                match self.cols.get(*i).cloned() {
                    Some(c) => {
                        let zero = self.param(Param::Int(0));
                        Tr::Exact(SqlExpr::Bin(SqlOp::Ne, Box::new(c), Box::new(zero)))
                    }
                    None => Tr::No,
                }
            }
            BExpr::Bin(BinOp::And, a, b) => match (self.pred(a), self.pred(b)) {
                (Tr::Exact(x), Tr::Exact(y)) => {
                    Tr::Exact(SqlExpr::Bin(SqlOp::And, Box::new(x), Box::new(y)))
                }
                (Tr::Exact(x) | Tr::Superset(x), Tr::Exact(y) | Tr::Superset(y)) => {
                    Tr::Superset(SqlExpr::Bin(SqlOp::And, Box::new(x), Box::new(y)))
                }
                (Tr::Exact(x) | Tr::Superset(x), Tr::No)
                | (Tr::No, Tr::Exact(x) | Tr::Superset(x)) => Tr::Superset(x),
                (Tr::No, Tr::No) => Tr::No,
            },
            BExpr::Bin(BinOp::Or, a, b) => match (self.pred(a), self.pred(b)) {
                (Tr::Exact(x), Tr::Exact(y)) => {
                    Tr::Exact(SqlExpr::Bin(SqlOp::Or, Box::new(x), Box::new(y)))
                }
                (Tr::Exact(x) | Tr::Superset(x), Tr::Exact(y) | Tr::Superset(y)) => {
                    Tr::Superset(SqlExpr::Bin(SqlOp::Or, Box::new(x), Box::new(y)))
                }
                _ => Tr::No,
            },
            BExpr::Call(Func::Not, args) => match args.first().map(|a| self.pred(a)) {
                Some(Tr::Exact(x)) => Tr::Exact(SqlExpr::Not(Box::new(x))),
                _ => Tr::No,
            },
            BExpr::Call(
                f @ (Func::IsNull | Func::IsNotNull | Func::IsEmpty | Func::IsNotEmpty),
                args,
            ) => {
                let Some(BExpr::Col(i)) = args.first() else { return Tr::No };
                let (Some(t), Some(c)) = (self.types.get(*i).copied(), self.cols.get(*i).cloned())
                else {
                    return Tr::No;
                };
                let positive = matches!(f, Func::IsNull | Func::IsEmpty);
                match (t, f) {
                    (Type::Dynamic, _) => Tr::No,
                    (Type::String, Func::IsEmpty | Func::IsNotEmpty) => {
                        let empty = self.param(Param::Text(String::new()));
                        let op = if positive { SqlOp::Eq } else { SqlOp::Ne };
                        Tr::Exact(SqlExpr::Bin(op, Box::new(c), Box::new(empty)))
                    }
                    (Type::String, _) => Tr::Exact(SqlExpr::Bool(!positive)),
                    _ => Tr::Exact(SqlExpr::IsNull(Box::new(c), !positive)),
                }
            }
            BExpr::Bin(
                op @ (BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge),
                a,
                b,
            ) => {
                let save = self.params.len();
                match (self.scalar(a), self.scalar(b)) {
                    (Some((x, ta)), Some((y, tb))) if sql_comparable(ta, tb) => {
                        let sop = match op {
                            BinOp::Eq => SqlOp::Eq,
                            BinOp::Ne => SqlOp::Ne,
                            BinOp::Lt => SqlOp::Lt,
                            BinOp::Le => SqlOp::Le,
                            BinOp::Gt => SqlOp::Gt,
                            _ => SqlOp::Ge,
                        };
                        if ta == Type::Bool && !matches!(sop, SqlOp::Eq | SqlOp::Ne) {
                            self.params.truncate(save);
                            return Tr::No;
                        }
                        Tr::Exact(SqlExpr::Bin(sop, Box::new(x), Box::new(y)))
                    }
                    _ => {
                        self.params.truncate(save);
                        Tr::No
                    }
                }
            }
            BExpr::Bin(op @ (BinOp::EqCi | BinOp::NeCi), a, b) => {
                let (Some(c), Some(Value::Str(s))) = (self.string_col(a), b.as_lit()) else {
                    return Tr::No;
                };
                if !s.is_ascii() || !self.d.like_folds_ascii_only() {
                    return Tr::No;
                }
                let pat = like_escape(s);
                Tr::Exact(self.like(c, pat, *op == BinOp::NeCi))
            }
            BExpr::In { expr, list: InList::Exprs(items), negated, ci } => {
                let save = self.params.len();
                if *ci {
                    let Some(c) = self.string_col(expr) else { return Tr::No };
                    if !self.d.like_folds_ascii_only() {
                        return Tr::No;
                    }
                    let mut ors: Option<SqlExpr> = None;
                    for it in items {
                        let Some(Value::Str(s)) = it.as_lit() else {
                            self.params.truncate(save);
                            return Tr::No;
                        };
                        if !s.is_ascii() {
                            self.params.truncate(save);
                            return Tr::No;
                        }
                        let l = self.like(c.clone(), like_escape(s), false);
                        ors = Some(match ors {
                            None => l,
                            Some(o) => SqlExpr::Bin(SqlOp::Or, Box::new(o), Box::new(l)),
                        });
                    }
                    let e = ors.unwrap_or(SqlExpr::Bool(false));
                    return Tr::Exact(if *negated { SqlExpr::Not(Box::new(e)) } else { e });
                }
                let Some((x, tx)) = self.scalar(expr) else { return Tr::No };
                let mut vals = Vec::new();
                for it in items {
                    match self.scalar(it) {
                        Some((y, ty)) if matches!(it, BExpr::Lit(_)) && sql_comparable(tx, ty) => {
                            vals.push(y)
                        }
                        _ => {
                            self.params.truncate(save);
                            return Tr::No;
                        }
                    }
                }
                if vals.is_empty() {
                    // x in () is false; x !in () is true unless x is null.
                    return Tr::Exact(if *negated {
                        SqlExpr::IsNull(Box::new(x), true)
                    } else {
                        SqlExpr::Bool(false)
                    });
                }
                Tr::Exact(SqlExpr::In(Box::new(x), vals, *negated))
            }
            BExpr::Between { expr, lo, hi, negated } => {
                let save = self.params.len();
                match (self.scalar(expr), self.scalar(lo), self.scalar(hi)) {
                    (Some((x, tx)), Some((l, tl)), Some((h, th)))
                        if sql_comparable(tx, tl) && sql_comparable(tx, th) && tx != Type::Bool =>
                    {
                        Tr::Exact(SqlExpr::Between(Box::new(x), Box::new(l), Box::new(h), *negated))
                    }
                    _ => {
                        self.params.truncate(save);
                        Tr::No
                    }
                }
            }
            BExpr::StrConst { op, negated, expr, needle } => {
                let Some(c) = self.string_col(expr) else { return Tr::No };
                let ascii_ci = self.d.like_folds_ascii_only();
                match needle {
                    Needle::Text(n) if !n.is_empty() => match op {
                        StrOp::Contains | StrOp::StartsWith | StrOp::EndsWith
                            if ascii_ci && n.is_ascii() =>
                        {
                            let e = like_escape(n);
                            let pat = match op {
                                StrOp::Contains => format!("%{e}%"),
                                StrOp::StartsWith => format!("{e}%"),
                                _ => format!("%{e}"),
                            };
                            Tr::Exact(self.like(c, pat, *negated))
                        }
                        StrOp::Has | StrOp::HasPrefix | StrOp::HasSuffix
                            if ascii_ci && n.is_ascii() && !*negated =>
                        {
                            let pat = format!("%{}%", like_escape(n));
                            Tr::Superset(self.like(c, pat, false))
                        }
                        StrOp::ContainsCs | StrOp::StartsWithCs | StrOp::EndsWithCs => {
                            let np = self.param(Param::Text(n.clone()));
                            let e = match op {
                                StrOp::ContainsCs => {
                                    let zero = self.param(Param::Int(0));
                                    SqlExpr::Bin(
                                        SqlOp::Gt,
                                        Box::new(SqlExpr::Position(Box::new(c), Box::new(np))),
                                        Box::new(zero),
                                    )
                                }
                                StrOp::StartsWithCs => {
                                    let one = self.param(Param::Int(1));
                                    SqlExpr::Bin(
                                        SqlOp::Eq,
                                        Box::new(SqlExpr::Position(Box::new(c), Box::new(np))),
                                        Box::new(one),
                                    )
                                }
                                _ => {
                                    let len = self.param(Param::Int(n.chars().count() as i64));
                                    SqlExpr::Bin(
                                        SqlOp::Eq,
                                        Box::new(SqlExpr::Right(Box::new(c), Box::new(len))),
                                        Box::new(np),
                                    )
                                }
                            };
                            Tr::Exact(if *negated { SqlExpr::Not(Box::new(e)) } else { e })
                        }
                        StrOp::HasCs | StrOp::HasPrefixCs | StrOp::HasSuffixCs if !*negated => {
                            let np = self.param(Param::Text(n.clone()));
                            let zero = self.param(Param::Int(0));
                            Tr::Superset(SqlExpr::Bin(
                                SqlOp::Gt,
                                Box::new(SqlExpr::Position(Box::new(c), Box::new(np))),
                                Box::new(zero),
                            ))
                        }
                        _ => Tr::No,
                    },
                    Needle::List(items)
                        if !*negated
                            && ascii_ci
                            && !items.is_empty()
                            && items.iter().all(|t| t.is_ascii() && !t.is_empty()) =>
                    {
                        let mut acc: Option<SqlExpr> = None;
                        let join = if *op == StrOp::HasAll { SqlOp::And } else { SqlOp::Or };
                        for t in items {
                            let l = self.like(c.clone(), format!("%{}%", like_escape(t)), false);
                            acc = Some(match acc {
                                None => l,
                                Some(a) => SqlExpr::Bin(join, Box::new(a), Box::new(l)),
                            });
                        }
                        acc.map_or(Tr::No, Tr::Superset)
                    }
                    _ => Tr::No,
                }
            }
            _ => Tr::No,
        }
    }

    /// A group key SQL computes exactly: a column, or bin() of an integer or datetime column.
    fn key(&mut self, e: &BExpr) -> Option<SqlExpr> {
        match e {
            BExpr::Col(i) => {
                let t = *self.types.get(*i)?;
                if t == Type::Dynamic || t == Type::Real {
                    return None;
                }
                self.cols.get(*i).cloned()
            }
            BExpr::Call(Func::Bin, args) => {
                let (Some(BExpr::Col(i)), Some(BExpr::Lit(size))) = (args.first(), args.get(1))
                else {
                    return None;
                };
                let t = *self.types.get(*i)?;
                let c = self.cols.get(*i)?.clone();
                let (sz, offset) = match (t, size) {
                    (Type::DateTime, Value::TimeSpan(s)) if *s > 0 => {
                        (*s, 62_135_596_800_000_000i64)
                    }
                    (Type::Long | Type::Int, Value::Long(s)) if *s > 0 => (*s, 0),
                    _ => return None,
                };
                // floor(x / sz) * sz for any sign: x - ((x % sz) + sz) % sz, on x shifted to KQL's epoch.
                let shifted = if offset == 0 {
                    c
                } else {
                    let off = self.param(Param::Int(offset));
                    SqlExpr::Bin(SqlOp::Add, Box::new(c), Box::new(off))
                };
                let p1 = self.param(Param::Int(sz));
                let p2 = self.param(Param::Int(sz));
                let p3 = self.param(Param::Int(sz));
                let rem = SqlExpr::Bin(
                    SqlOp::Mod,
                    Box::new(SqlExpr::Bin(
                        SqlOp::Add,
                        Box::new(SqlExpr::Bin(SqlOp::Mod, Box::new(shifted.clone()), Box::new(p1))),
                        Box::new(p2),
                    )),
                    Box::new(p3),
                );
                let floored = SqlExpr::Bin(SqlOp::Sub, Box::new(shifted), Box::new(rem));
                Some(if offset == 0 {
                    floored
                } else {
                    let off = self.param(Param::Int(offset));
                    SqlExpr::Bin(SqlOp::Sub, Box::new(floored), Box::new(off))
                })
            }
            _ => None,
        }
    }

    fn agg(&mut self, a: &BAgg) -> Option<SqlExpr> {
        let col = |this: &mut Self, e: &Option<BExpr>| -> Option<(SqlExpr, Type)> {
            match e {
                Some(BExpr::Col(i)) => {
                    let t = *this.types.get(*i)?;
                    Some((this.cols.get(*i)?.clone(), t))
                }
                _ => None,
            }
        };
        match a.kind {
            AggKind::Count => Some(SqlExpr::CountStar),
            AggKind::CountIf => match a.pred.as_ref().map(|p| self.pred(p)) {
                Some(Tr::Exact(p)) => Some(SqlExpr::CountIf(Box::new(p))),
                _ => None,
            },
            AggKind::DCount => {
                let (c, t) = col(self, &a.arg)?;
                (t != Type::Dynamic && t != Type::Real).then(|| SqlExpr::CountDistinct(Box::new(c)))
            }
            AggKind::Sum => {
                let (c, t) = col(self, &a.arg)?;
                t.is_integer().then(|| SqlExpr::Sum(Box::new(c)))
            }
            AggKind::Min | AggKind::Max => {
                let (c, t) = col(self, &a.arg)?;
                if !(t.is_integer() || matches!(t, Type::DateTime | Type::TimeSpan | Type::String))
                {
                    return None;
                }
                Some(if a.kind == AggKind::Min {
                    SqlExpr::Min(Box::new(c))
                } else {
                    SqlExpr::Max(Box::new(c))
                })
            }
            _ => None,
        }
    }

    /// Tries to push one operator; `next` is the following operator, if any.
    /// Returns false when the operator (or part of it) must run in Rust.
    fn push(&mut self, op: &POp, out: &Schema, rest: &[(POp, Schema)]) -> bool {
        match op {
            POp::Filter(e) => {
                if self.shape == Shape::Sorted {
                    return false;
                }
                if self.shape != Shape::Scan {
                    self.wrap();
                }
                let save = self.params.len();
                match self.pred(e) {
                    Tr::Exact(p) => {
                        self.sel.wheres.push(p);
                        true
                    }
                    Tr::Superset(p) => {
                        self.sel.wheres.push(p);
                        false
                    }
                    Tr::No => {
                        self.params.truncate(save);
                        false
                    }
                }
            }
            POp::Project(exprs) => {
                let mut cols = Vec::new();
                for e in exprs {
                    match e {
                        BExpr::Col(i) => match self.cols.get(*i) {
                            Some(c) => cols.push(c.clone()),
                            None => return false,
                        },
                        _ => return false,
                    }
                }
                self.cols = cols;
                self.types = out.iter().map(|c| c.ty).collect();
                true
            }
            POp::Summarize { keys, aggs } => {
                if self.shape != Shape::Scan {
                    if self.shape == Shape::Sorted {
                        return false;
                    }
                    self.wrap();
                }
                let save = self.params.len();
                let mut items = Vec::new();
                let mut group = Vec::new();
                for k in keys {
                    match self.key(k) {
                        Some(s) => {
                            items.push(s.clone());
                            group.push(s);
                        }
                        None => {
                            self.params.truncate(save);
                            return false;
                        }
                    }
                }
                for a in aggs {
                    match self.agg(a) {
                        Some(s) => items.push(s),
                        None => {
                            self.params.truncate(save);
                            return false;
                        }
                    }
                }
                self.sel.group_by = group;
                self.sel.aggregate = true;
                self.cols = items;
                self.types = out.iter().map(|c| c.ty).collect();
                self.shape = Shape::Grouped;
                true
            }
            POp::Sort(keys) => {
                // Only a take and column projections may follow a pushed sort.
                let tail_ok = rest.iter().all(|(o, _)| match o {
                    POp::Take(_) => true,
                    POp::Project(es) => es.iter().all(|e| matches!(e, BExpr::Col(_))),
                    _ => false,
                });
                if !tail_ok || self.shape == Shape::Limited || self.shape == Shape::Sorted {
                    return false;
                }
                let mut order = Vec::new();
                for k in keys {
                    let BExpr::Col(i) = k.expr else { return false };
                    let (Some(t), Some(c)) =
                        (self.types.get(i).copied(), self.cols.get(i).cloned())
                    else {
                        return false;
                    };
                    if t == Type::Dynamic || (k.nulls_first == k.desc && !self.d.nulls_ordering()) {
                        return false;
                    }
                    order.push((c, k.desc, k.nulls_first));
                }
                if self.shape == Shape::Grouped {
                    self.wrap();
                    // After wrapping, the order keys refer to the aliases.
                    for (o, k) in order.iter_mut().zip(keys) {
                        if let BExpr::Col(i) = k.expr {
                            o.0 = SqlExpr::Alias(i);
                        }
                    }
                }
                self.sel.order_by = order;
                self.shape = Shape::Sorted;
                true
            }
            POp::Take(n) => {
                if self.shape == Shape::Sorted && self.sel.limit.is_some() {
                    // Wrapping a sorted, limited select would lose its order.
                    return false;
                }
                if self.shape == Shape::Limited {
                    self.wrap();
                }
                let n = i64::try_from(*n).unwrap_or(i64::MAX);
                self.params.push(Param::Int(n));
                self.sel.limit = Some(self.params.len() - 1);
                if self.shape != Shape::Sorted {
                    self.shape = Shape::Limited;
                }
                true
            }
            POp::Count => {
                if self.shape == Shape::Sorted {
                    return false;
                }
                self.wrap();
                self.sel.aggregate = true;
                self.cols = vec![SqlExpr::CountStar];
                self.types = vec![Type::Long];
                self.shape = Shape::Grouped;
                true
            }
            _ => false,
        }
    }
}

/// Plans the SQL for a chain reading `table`: pushes operators while SQL is
/// exact, then selects the columns the rest of the chain needs (`needed`
/// is computed by the caller from the operators left over).
pub fn push_down(
    table: &'static HuntTable,
    source_schema: &Schema,
    ops: &[(POp, Schema)],
    dialect: Dialect,
    needed: &dyn Fn(usize) -> Vec<bool>,
) -> Pushed {
    let d = dialect.renderer();
    let mut b = Builder {
        d,
        sel: Select::scan(table.relation),
        cols: table.columns.iter().map(|(n, _, _)| SqlExpr::Col(n)).collect(),
        types: source_schema.iter().map(|c| c.ty).collect(),
        params: Vec::new(),
        shape: Shape::Scan,
    };
    let mut consumed = 0;
    for (i, (op, out)) in ops.iter().enumerate() {
        if !b.push(op, out, ops.get(i + 1..).unwrap_or(&[])) {
            break;
        }
        consumed = i + 1;
    }
    let need = needed(consumed);
    let items: Vec<SqlExpr> = b
        .cols
        .iter()
        .enumerate()
        .map(|(i, c)| if need.get(i).copied().unwrap_or(true) { c.clone() } else { SqlExpr::Null })
        .collect();
    b.sel.items = items;
    let mut out = String::new();
    render_select(&b.sel, d, &mut out, 0);
    Pushed { sql: out, params: b.params, consumed }
}

fn render_select(s: &Select, d: &dyn SqlDialect, out: &mut String, depth: usize) {
    out.push_str("SELECT ");
    if s.items.is_empty() {
        out.push_str("NULL AS c0");
    }
    for (i, it) in s.items.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        render_expr(it, d, out);
        out.push_str(" AS ");
        out.push_str(&d.quote(&format!("c{i}")));
    }
    out.push_str(" FROM ");
    match &s.from {
        From::Relation(r) => out.push_str(&d.quote(r)),
        From::Sub(inner) => {
            out.push('(');
            render_select(inner, d, out, depth + 1);
            out.push_str(") AS ");
            out.push_str(&d.quote(&format!("t{depth}")));
        }
    }
    if !s.wheres.is_empty() {
        out.push_str(" WHERE ");
        for (i, w) in s.wheres.iter().enumerate() {
            if i > 0 {
                out.push_str(" AND ");
            }
            out.push('(');
            render_expr(w, d, out);
            out.push(')');
        }
    }
    if !s.group_by.is_empty() {
        out.push_str(" GROUP BY ");
        for (i, g) in s.group_by.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            render_expr(g, d, out);
        }
    }
    if !s.order_by.is_empty() {
        out.push_str(" ORDER BY ");
        for (i, (e, desc, nulls_first)) in s.order_by.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            render_expr(e, d, out);
            out.push_str(if *desc { " DESC" } else { " ASC" });
            if *nulls_first == *desc {
                // Not SQL's default placement for this direction.
                out.push_str(if *nulls_first { " NULLS FIRST" } else { " NULLS LAST" });
            }
        }
    }
    if let Some(p) = s.limit {
        out.push_str(" LIMIT ");
        out.push_str(&d.placeholder(p + 1));
    }
}

fn render_expr(e: &SqlExpr, d: &dyn SqlDialect, out: &mut String) {
    let sub = |e: &SqlExpr, out: &mut String| {
        let mut s = String::new();
        render_expr(e, d, &mut s);
        out.push_str(&s);
    };
    match e {
        SqlExpr::Col(c) => out.push_str(&d.quote(c)),
        SqlExpr::Alias(i) => out.push_str(&d.quote(&format!("c{i}"))),
        SqlExpr::Param(i) => out.push_str(&d.placeholder(i + 1)),
        SqlExpr::Null => out.push_str("NULL"),
        SqlExpr::Bool(b) => out.push_str(if *b { "1 = 1" } else { "1 = 0" }),
        SqlExpr::Bin(op, a, b) => {
            out.push('(');
            sub(a, out);
            out.push(' ');
            out.push_str(op.text());
            out.push(' ');
            sub(b, out);
            out.push(')');
        }
        SqlExpr::Not(a) => {
            out.push_str("NOT (");
            sub(a, out);
            out.push(')');
        }
        SqlExpr::IsNull(a, neg) => {
            out.push('(');
            sub(a, out);
            out.push_str(if *neg { " IS NOT NULL)" } else { " IS NULL)" });
        }
        SqlExpr::In(a, items, neg) => {
            out.push('(');
            sub(a, out);
            out.push_str(if *neg { " NOT IN (" } else { " IN (" });
            for (i, it) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                sub(it, out);
            }
            out.push_str("))");
        }
        SqlExpr::Between(a, l, h, neg) => {
            out.push('(');
            sub(a, out);
            out.push_str(if *neg { " NOT BETWEEN " } else { " BETWEEN " });
            sub(l, out);
            out.push_str(" AND ");
            sub(h, out);
            out.push(')');
        }
        SqlExpr::Like(a, p, neg) => {
            out.push('(');
            sub(a, out);
            out.push_str(if *neg { " NOT LIKE " } else { " LIKE " });
            sub(p, out);
            out.push_str(" ESCAPE '\\')");
        }
        SqlExpr::Position(h, n) => {
            let (mut hs, mut ns) = (String::new(), String::new());
            render_expr(h, d, &mut hs);
            render_expr(n, d, &mut ns);
            out.push_str(&d.position(&hs, &ns));
        }
        SqlExpr::Right(a, n) => {
            let (mut es, mut ns) = (String::new(), String::new());
            render_expr(a, d, &mut es);
            render_expr(n, d, &mut ns);
            out.push_str(&d.right(&es, &ns));
        }
        SqlExpr::CountStar => out.push_str("COUNT(*)"),
        SqlExpr::CountIf(p) => {
            out.push_str("COUNT(CASE WHEN ");
            sub(p, out);
            out.push_str(" THEN 1 END)");
        }
        SqlExpr::CountDistinct(a) => {
            out.push_str("COUNT(DISTINCT ");
            sub(a, out);
            out.push(')');
        }
        SqlExpr::Sum(a) | SqlExpr::Min(a) | SqlExpr::Max(a) => {
            out.push_str(match e {
                SqlExpr::Sum(_) => "SUM(",
                SqlExpr::Min(_) => "MIN(",
                _ => "MAX(",
            });
            sub(a, out);
            out.push(')');
        }
    }
}
