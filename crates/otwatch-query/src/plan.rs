//! The logical plan: resolved, typed operators over column positions, ready to push down or evaluate.
//!
//! A plan is a [`Chain`]: a source (a hunting table, or a union of chains)
//! followed by operators. Names are gone (columns are positions in the input
//! schema); every operator knows its output schema. The SQL layer
//! (`sql.rs`) takes the longest prefix of a chain it can answer exactly; the
//! evaluator (`exec.rs`) runs the rest.

use std::sync::Arc;

use otwatch_model::hunt::HuntTable;

use crate::ast::{BinOp, StrOp};
use crate::func::Func;
use crate::value::{Type, Value};

/// A named, typed column.
#[derive(Clone, Debug, PartialEq)]
pub struct Column {
    /// Name.
    pub name: String,
    /// Type.
    pub ty: Type,
}

/// Columns in order.
pub type Schema = Vec<Column>;

/// A bound scalar expression.
#[derive(Clone, Debug)]
pub enum BExpr {
    /// A constant.
    Lit(Value),
    /// An input column.
    Col(usize),
    /// A scalar function.
    Call(Func, Vec<BExpr>),
    /// A binary operator.
    Bin(BinOp, Box<BExpr>, Box<BExpr>),
    /// `-x`.
    Neg(Box<BExpr>),
    /// `in`, `!in`, `in~`, `!in~`.
    In {
        /// The tested value.
        expr: Box<BExpr>,
        /// The list.
        list: InList,
        /// `!in`.
        negated: bool,
        /// `in~`.
        ci: bool,
    },
    /// `between` (inclusive).
    Between {
        /// The tested value.
        expr: Box<BExpr>,
        /// Lower bound.
        lo: Box<BExpr>,
        /// Upper bound.
        hi: Box<BExpr>,
        /// `!between`.
        negated: bool,
    },
    /// A string operator with a constant right side that needs preparation
    /// (a compiled regex, or the list of `has_any`/`has_all`).
    StrConst {
        /// The operator.
        op: StrOp,
        /// `!` form.
        negated: bool,
        /// The text tested.
        expr: Box<BExpr>,
        /// The prepared right side.
        needle: Needle,
    },
    /// Dynamic property access `x.name` / `x["name"]`.
    Member(Box<BExpr>, String),
    /// Dynamic element access `x[i]` (or `x[expr]`).
    Index(Box<BExpr>, Box<BExpr>),
}

/// The prepared right side of a string operator.
#[derive(Clone, Debug)]
pub enum Needle {
    /// One string (already case-folded for case-insensitive operators).
    Text(String),
    /// Several strings (has_any / has_all), folded.
    List(Vec<String>),
    /// A compiled regex.
    Regex(Arc<regex::Regex>),
}

/// The right side of `in`.
#[derive(Clone, Debug)]
pub enum InList {
    /// Expressions (usually constants).
    Exprs(Vec<BExpr>),
    /// The first column of a subquery (index into [`Compiled::subqueries`](crate::Compiled)).
    Sub(usize),
}

impl BExpr {
    /// The constant, when this is one.
    pub fn as_lit(&self) -> Option<&Value> {
        match self {
            BExpr::Lit(v) => Some(v),
            _ => None,
        }
    }

    /// Whether any part reads a column or a subquery (otherwise it can be folded).
    pub fn is_constant(&self) -> bool {
        match self {
            BExpr::Lit(_) => true,
            BExpr::Col(_) => false,
            BExpr::Call(f, args) => f.is_pure() && args.iter().all(BExpr::is_constant),
            BExpr::Bin(_, a, b) | BExpr::Index(a, b) => a.is_constant() && b.is_constant(),
            BExpr::Neg(a) | BExpr::Member(a, _) => a.is_constant(),
            BExpr::In { expr, list, .. } => {
                expr.is_constant()
                    && match list {
                        InList::Exprs(v) => v.iter().all(BExpr::is_constant),
                        InList::Sub(_) => false,
                    }
            }
            BExpr::Between { expr, lo, hi, .. } => {
                expr.is_constant() && lo.is_constant() && hi.is_constant()
            }
            BExpr::StrConst { expr, .. } => expr.is_constant(),
        }
    }

    /// Marks every input column this expression reads.
    pub fn columns(&self, out: &mut [bool]) {
        match self {
            BExpr::Lit(_) => {}
            BExpr::Col(i) => {
                if let Some(x) = out.get_mut(*i) {
                    *x = true;
                }
            }
            BExpr::Call(_, args) => args.iter().for_each(|a| a.columns(out)),
            BExpr::Bin(_, a, b) | BExpr::Index(a, b) => {
                a.columns(out);
                b.columns(out);
            }
            BExpr::Neg(a) | BExpr::Member(a, _) | BExpr::StrConst { expr: a, .. } => a.columns(out),
            BExpr::In { expr, list, .. } => {
                expr.columns(out);
                if let InList::Exprs(v) = list {
                    v.iter().for_each(|e| e.columns(out));
                }
            }
            BExpr::Between { expr, lo, hi, .. } => {
                expr.columns(out);
                lo.columns(out);
                hi.columns(out);
            }
        }
    }
}

/// Aggregate functions.
#[derive(Clone, Debug, PartialEq)]
pub enum AggKind {
    /// count()
    Count,
    /// countif(pred)
    CountIf,
    /// dcount(x) — exact in otwatch.
    DCount,
    /// dcountif(x, pred)
    DCountIf,
    /// sum(x)
    Sum,
    /// sumif(x, pred)
    SumIf,
    /// min(x)
    Min,
    /// max(x)
    Max,
    /// avg(x)
    Avg,
    /// avgif(x, pred)
    AvgIf,
    /// make_set(x [, max])
    MakeSet(usize),
    /// make_set_if(x, pred [, max])
    MakeSetIf(usize),
    /// make_list(x [, max])
    MakeList(usize),
    /// make_list_if(x, pred [, max])
    MakeListIf(usize),
    /// any(x) / take_any(x)
    Any,
    /// arg_max(by, cols…)
    ArgMax,
    /// arg_min(by, cols…)
    ArgMin,
    /// percentile(s)(x, p…): nearest rank.
    Percentiles(Vec<f64>),
}

/// A bound aggregate: `args[0]` is the value (absent for count/countif),
/// `pred` the condition of the `…if` forms, `ret` the columns returned by
/// arg_max/arg_min. One aggregate may produce several output columns
/// (arg_max, percentiles).
#[derive(Clone, Debug)]
pub struct BAgg {
    /// Which aggregate.
    pub kind: AggKind,
    /// The value expression (arg_max: the maximized expression).
    pub arg: Option<BExpr>,
    /// Condition of the `…if` forms.
    pub pred: Option<BExpr>,
    /// arg_max/arg_min: the returned expressions.
    pub ret: Vec<BExpr>,
    /// The output types, one per output column.
    pub out: Vec<Type>,
}

/// A sort key over input columns.
#[derive(Clone, Debug)]
pub struct BSortKey {
    /// The key.
    pub expr: BExpr,
    /// Descending.
    pub desc: bool,
    /// Nulls first.
    pub nulls_first: bool,
}

/// Join kinds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JoinKind {
    /// innerunique (the default): left de-duplicated on the keys, then inner.
    InnerUnique,
    /// inner
    Inner,
    /// leftouter
    LeftOuter,
    /// rightouter
    RightOuter,
    /// fullouter
    FullOuter,
    /// leftanti / anti
    LeftAnti,
    /// rightanti
    RightAnti,
    /// leftsemi
    LeftSemi,
    /// rightsemi
    RightSemi,
}

impl JoinKind {
    /// From the `kind=` name.
    pub fn parse(s: &str) -> Option<JoinKind> {
        Some(match s {
            "innerunique" => JoinKind::InnerUnique,
            "inner" => JoinKind::Inner,
            "leftouter" => JoinKind::LeftOuter,
            "rightouter" => JoinKind::RightOuter,
            "fullouter" | "outer" => JoinKind::FullOuter,
            "leftanti" | "anti" | "leftantisemi" => JoinKind::LeftAnti,
            "rightanti" | "rightantisemi" => JoinKind::RightAnti,
            "leftsemi" => JoinKind::LeftSemi,
            "rightsemi" => JoinKind::RightSemi,
            _ => return None,
        })
    }

    /// Whether output rows carry the left columns.
    pub fn keeps_left(self) -> bool {
        !matches!(self, JoinKind::RightAnti | JoinKind::RightSemi)
    }

    /// Whether output rows carry the right columns.
    pub fn keeps_right(self) -> bool {
        !matches!(self, JoinKind::LeftAnti | JoinKind::LeftSemi)
    }
}

/// One `parse` pattern element, bound.
#[derive(Clone, Debug)]
pub enum BParsePart {
    /// Literal text.
    Text(String),
    /// `*`.
    Skip,
    /// Extract into the output column at this position, converting to the type.
    Column(usize, Type),
}

/// A plan operator. `Project` covers extend, project, project-away/keep/rename/reorder.
#[derive(Clone, Debug)]
pub enum POp {
    /// Keep rows where the predicate is true.
    Filter(BExpr),
    /// Compute the output columns from each input row.
    Project(Vec<BExpr>),
    /// Group and aggregate (also `distinct`).
    Summarize {
        /// Group keys.
        keys: Vec<BExpr>,
        /// Aggregates.
        aggs: Vec<BAgg>,
    },
    /// Sort.
    Sort(Vec<BSortKey>),
    /// Keep the first N rows.
    Take(usize),
    /// One row with the row count.
    Count,
    /// Join with another chain.
    Join {
        /// The right side.
        right: Box<Chain>,
        /// The kind.
        kind: JoinKind,
        /// Key columns on the left.
        left_keys: Vec<usize>,
        /// Key columns on the right.
        right_keys: Vec<usize>,
    },
    /// Expand dynamic arrays into rows: (source expression, output column, element type).
    MvExpand {
        /// What to expand, where it goes, as what type.
        items: Vec<(BExpr, usize, Type)>,
        /// Most rows per input row.
        limit: usize,
    },
    /// Extract columns from text with a simple pattern (columns appended or replaced).
    Parse {
        /// The text.
        expr: BExpr,
        /// The pattern.
        parts: Vec<BParsePart>,
    },
    /// make-series: per group, one array per aggregate over fixed time bins.
    MakeSeries {
        /// Group keys.
        keys: Vec<BExpr>,
        /// Aggregates with their default values.
        aggs: Vec<(BAgg, Value)>,
        /// The axis expression.
        on: BExpr,
        /// First bin.
        from: i64,
        /// End (exclusive).
        to: i64,
        /// Bin size.
        step: i64,
        /// The axis is a datetime (else a number).
        datetime_axis: bool,
    },
}

/// Where a chain's rows come from.
#[derive(Clone, Debug)]
pub enum ChainSource {
    /// A hunting table.
    Table(&'static HuntTable),
    /// A union: for each leg, for each output column, the leg's column (or None: null-filled).
    Union {
        /// The legs.
        legs: Vec<Chain>,
        /// Output column → leg column, per leg.
        maps: Vec<Vec<Option<usize>>>,
        /// Add the table name as the first column.
        withsource: bool,
        /// The leg names for withsource.
        names: Vec<String>,
    },
}

/// A source and its operators, each with its output schema.
#[derive(Clone, Debug)]
pub struct Chain {
    /// The source.
    pub source: ChainSource,
    /// The source's schema.
    pub source_schema: Schema,
    /// The operators with their output schemas.
    pub ops: Vec<(POp, Schema)>,
}

impl Chain {
    /// The output schema.
    pub fn schema(&self) -> &Schema {
        self.ops.last().map_or(&self.source_schema, |(_, s)| s)
    }

    /// A display name for withsource.
    pub fn source_name(&self) -> String {
        match &self.source {
            ChainSource::Table(t) => t.name.to_string(),
            ChainSource::Union { .. } => "union".into(),
        }
    }
}
