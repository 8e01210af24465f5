//! The syntax tree the parser builds: names as written, every node with its span.
//!
//! Nothing here is resolved: a `Name` may turn out to be a column, a `let`
//! variable or a table. The binder (`bind.rs`) resolves names and types.

use crate::error::Span;

/// A name and where it was written.
#[derive(Clone, Debug, PartialEq)]
pub struct Ident {
    /// The name.
    pub name: String,
    /// Where.
    pub span: Span,
}

/// A whole query: `let` statements, then one tabular expression.
#[derive(Clone, Debug, PartialEq)]
pub struct Query {
    /// The `let` statements, in order.
    pub lets: Vec<Let>,
    /// The tabular expression whose result is returned.
    pub body: Tabular,
}

/// `let name = value;`
#[derive(Clone, Debug, PartialEq)]
pub struct Let {
    /// The name.
    pub name: Ident,
    /// The value.
    pub value: LetValue,
}

/// The right-hand side of a `let`.
#[derive(Clone, Debug, PartialEq)]
pub enum LetValue {
    /// A scalar expression, or a bare name that may be a table.
    Expr(Expr),
    /// A tabular expression.
    Tabular(Tabular),
}

/// A source followed by piped operators.
#[derive(Clone, Debug, PartialEq)]
pub struct Tabular {
    /// Where rows come from.
    pub source: Source,
    /// The operators, in order.
    pub ops: Vec<Op>,
    /// The whole expression.
    pub span: Span,
}

/// The start of a tabular expression.
#[derive(Clone, Debug, PartialEq)]
pub enum Source {
    /// A table or a tabular `let` name.
    Name(Ident),
    /// `union T1, T2`.
    Union(UnionSpec),
    /// `( tabular )`.
    Paren(Box<Tabular>),
}

/// The arguments of `union`.
#[derive(Clone, Debug, PartialEq)]
pub struct UnionSpec {
    /// `withsource=Name`.
    pub withsource: Option<Ident>,
    /// The tables, in order.
    pub legs: Vec<Tabular>,
    /// The `union` keyword and its arguments.
    pub span: Span,
}

/// A tabular operator.
#[derive(Clone, Debug, PartialEq)]
pub struct Op {
    /// Which operator.
    pub kind: OpKind,
    /// The operator with its arguments.
    pub span: Span,
}

/// `Name = expr` or a bare `expr`.
#[derive(Clone, Debug, PartialEq)]
pub struct Assign {
    /// The output name, if given.
    pub name: Option<Ident>,
    /// The value.
    pub expr: Expr,
}

/// A sort key.
#[derive(Clone, Debug, PartialEq)]
pub struct SortKey {
    /// What to sort on.
    pub expr: Expr,
    /// Descending (the default).
    pub desc: bool,
    /// Explicit null placement.
    pub nulls_first: Option<bool>,
}

/// One piece of a `parse` pattern.
#[derive(Clone, Debug, PartialEq)]
pub enum ParsePart {
    /// A literal string to match.
    Text(String),
    /// `*`: skip anything.
    Skip,
    /// A column to extract, with its type.
    Column(Ident, Option<TypeName>),
}

/// An aggregate of `make-series`.
#[derive(Clone, Debug, PartialEq)]
pub struct SeriesAgg {
    /// The aggregate.
    pub agg: Assign,
    /// The value of empty bins.
    pub default: Option<Expr>,
}

/// A type name as written in `to typeof(T)`, `parse` or typed literals.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TypeName {
    /// bool
    Bool,
    /// int
    Int,
    /// long
    Long,
    /// real / double
    Real,
    /// string
    String,
    /// datetime / date
    DateTime,
    /// timespan / time
    TimeSpan,
    /// dynamic
    Dynamic,
}

impl TypeName {
    /// Parses a KQL type name.
    pub fn parse(s: &str) -> Option<TypeName> {
        Some(match s {
            "bool" | "boolean" => TypeName::Bool,
            "int" => TypeName::Int,
            "long" => TypeName::Long,
            "real" | "double" => TypeName::Real,
            "string" => TypeName::String,
            "datetime" | "date" => TypeName::DateTime,
            "timespan" | "time" => TypeName::TimeSpan,
            "dynamic" => TypeName::Dynamic,
            _ => return None,
        })
    }
}

/// The tabular operators.
#[derive(Clone, Debug, PartialEq)]
pub enum OpKind {
    /// `where` / `filter`.
    Where(Expr),
    /// `extend`.
    Extend(Vec<Assign>),
    /// `project`.
    Project(Vec<Assign>),
    /// `project-away`.
    ProjectAway(Vec<Ident>),
    /// `project-keep`.
    ProjectKeep(Vec<Ident>),
    /// `project-rename New = Old`.
    ProjectRename(Vec<(Ident, Ident)>),
    /// `project-reorder`.
    ProjectReorder(Vec<Ident>),
    /// `summarize aggs by keys`.
    Summarize {
        /// Aggregates.
        aggs: Vec<Assign>,
        /// Group keys.
        by: Vec<Assign>,
    },
    /// `sort by` / `order by`.
    Sort(Vec<SortKey>),
    /// `top N by key`.
    Top {
        /// How many.
        n: Expr,
        /// The key.
        key: SortKey,
    },
    /// `take` / `limit`.
    Take(Expr),
    /// `count`.
    Count,
    /// `distinct` (None: `*`).
    Distinct(Option<Vec<Expr>>),
    /// `join`.
    Join {
        /// `kind=`.
        kind: Option<Ident>,
        /// The right side.
        right: Box<Tabular>,
        /// The `on` conditions.
        on: Vec<Expr>,
    },
    /// `| union`.
    Union(UnionSpec),
    /// `mv-expand`.
    MvExpand {
        /// `[Name =] expr [to typeof(T)]`.
        items: Vec<(Assign, Option<TypeName>)>,
        /// `limit N`.
        limit: Option<Expr>,
    },
    /// `render kind`.
    Render(Ident),
    /// `parse expr with pattern`.
    Parse {
        /// The text to parse.
        expr: Expr,
        /// The pattern.
        parts: Vec<ParsePart>,
    },
    /// `make-series`.
    MakeSeries {
        /// Aggregates with their defaults.
        aggs: Vec<SeriesAgg>,
        /// The time axis column.
        on: Expr,
        /// First bin.
        from: Expr,
        /// End (exclusive).
        to: Expr,
        /// Bin size.
        step: Expr,
        /// Group keys.
        by: Vec<Assign>,
    },
}

/// An expression.
#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    /// What it is.
    pub kind: ExprKind,
    /// Where.
    pub span: Span,
}

/// A literal.
#[derive(Clone, Debug, PartialEq)]
pub enum Lit {
    /// A typed null (`long(null)`) or untyped.
    Null(Option<TypeName>),
    /// `true` / `false`.
    Bool(bool),
    /// An integer (typed int when written `int(5)`).
    Long(i64, bool),
    /// A real.
    Real(f64),
    /// A string.
    Str(String),
    /// A timespan in microseconds.
    TimeSpan(i64),
    /// `datetime(...)` raw text.
    DateTime(String),
    /// `dynamic(...)`.
    Dynamic(serde_json::Value),
}

/// Binary operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    /// or
    Or,
    /// and
    And,
    /// ==
    Eq,
    /// !=
    Ne,
    /// <
    Lt,
    /// <=
    Le,
    /// >
    Gt,
    /// >=
    Ge,
    /// =~
    EqCi,
    /// !~
    NeCi,
    /// +
    Add,
    /// -
    Sub,
    /// *
    Mul,
    /// /
    Div,
    /// %
    Mod,
    /// A string operator, possibly negated.
    Str(StrOp, bool),
}

/// String operators (`has`, `contains`, …).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StrOp {
    /// has
    Has,
    /// has_cs
    HasCs,
    /// hasprefix
    HasPrefix,
    /// hasprefix_cs
    HasPrefixCs,
    /// hassuffix
    HasSuffix,
    /// hassuffix_cs
    HasSuffixCs,
    /// contains
    Contains,
    /// contains_cs
    ContainsCs,
    /// startswith
    StartsWith,
    /// startswith_cs
    StartsWithCs,
    /// endswith
    EndsWith,
    /// endswith_cs
    EndsWithCs,
    /// matches regex
    Matches,
    /// has_any
    HasAny,
    /// has_all
    HasAll,
}

impl StrOp {
    /// Parses an operator word (without `!`).
    pub fn parse(s: &str) -> Option<StrOp> {
        Some(match s {
            "has" => StrOp::Has,
            "has_cs" => StrOp::HasCs,
            "hasprefix" => StrOp::HasPrefix,
            "hasprefix_cs" => StrOp::HasPrefixCs,
            "hassuffix" => StrOp::HasSuffix,
            "hassuffix_cs" => StrOp::HasSuffixCs,
            "contains" => StrOp::Contains,
            "contains_cs" => StrOp::ContainsCs,
            "startswith" => StrOp::StartsWith,
            "startswith_cs" => StrOp::StartsWithCs,
            "endswith" => StrOp::EndsWith,
            "endswith_cs" => StrOp::EndsWithCs,
            "has_any" => StrOp::HasAny,
            "has_all" => StrOp::HasAll,
            _ => return None,
        })
    }
}

/// Expression forms.
#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    /// A literal.
    Lit(Lit),
    /// A name: column, variable, or (in some places) a table.
    Name(String),
    /// `*` (in `count()`-like calls and `arg_max(x, *)`).
    Star,
    /// `f(args)`.
    Call(Ident, Vec<Expr>),
    /// `-x`.
    Neg(Box<Expr>),
    /// `a op b`.
    Binary(BinOp, Box<Expr>, Box<Expr>),
    /// `x in (...)`, `!in`, `in~`, `!in~`.
    In {
        /// The tested value.
        expr: Box<Expr>,
        /// The list (or one tabular subquery).
        list: Vec<Expr>,
        /// `!in`.
        negated: bool,
        /// `in~`.
        ci: bool,
    },
    /// `x between (lo .. hi)`.
    Between {
        /// The tested value.
        expr: Box<Expr>,
        /// Lower bound.
        lo: Box<Expr>,
        /// Upper bound (or a timespan after a datetime).
        hi: Box<Expr>,
        /// `!between`.
        negated: bool,
    },
    /// `x.name`.
    Member(Box<Expr>, Ident),
    /// `x[i]`.
    Index(Box<Expr>, Box<Expr>),
    /// `typeof(T)` as an argument.
    TypeOf(TypeName),
    /// A tabular subquery in a scalar position (`in (T | project x)`).
    Tabular(Box<Tabular>),
}

impl Expr {
    /// The name when the expression is a bare name.
    pub fn as_name(&self) -> Option<&str> {
        match &self.kind {
            ExprKind::Name(n) => Some(n),
            _ => None,
        }
    }
}
