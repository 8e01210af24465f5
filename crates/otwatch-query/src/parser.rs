//! The parser: tokens to a syntax tree, by recursive descent with Pratt precedence for expressions.
//!
//! It never panics and stops at the first error, which carries the span of
//! the offending token. Operator and keyword names are matched exactly as KQL
//! spells them (lower case). Nesting is bounded so hostile input cannot
//! overflow the stack.

#![cfg_attr(not(test), deny(clippy::indexing_slicing))]

use crate::ast::*;
use crate::error::{Code, QueryError, Span};
use crate::lexer::{Tok, Token, lex};

/// Deepest nesting of expressions and subqueries.
const MAX_DEPTH: usize = 64;

/// Deepest expression tree (operators, calls, property access) after parsing.
const MAX_TREE_DEPTH: usize = 200;

/// The depth of an expression tree, computed without recursion.
fn tree_depth(e: &Expr) -> usize {
    let mut max = 0;
    let mut stack = vec![(e, 1usize)];
    while let Some((e, d)) = stack.pop() {
        max = max.max(d);
        if d > MAX_TREE_DEPTH {
            break;
        }
        match &e.kind {
            ExprKind::Call(_, args) => stack.extend(args.iter().map(|a| (a, d + 1))),
            ExprKind::Neg(a) | ExprKind::Member(a, _) => stack.push((a, d + 1)),
            ExprKind::Binary(_, a, b) | ExprKind::Index(a, b) => {
                stack.push((a, d + 1));
                stack.push((b, d + 1));
            }
            ExprKind::In { expr, list, .. } => {
                stack.push((expr, d + 1));
                stack.extend(list.iter().map(|a| (a, d + 1)));
            }
            ExprKind::Between { expr, lo, hi, .. } => {
                stack.push((expr, d + 1));
                stack.push((lo, d + 1));
                stack.push((hi, d + 1));
            }
            ExprKind::Lit(_)
            | ExprKind::Name(_)
            | ExprKind::Star
            | ExprKind::TypeOf(_)
            | ExprKind::Tabular(_) => {}
        }
    }
    max
}

/// Tabular operators that exist in KQL but that otwatch does not run.
const KNOWN_UNSUPPORTED: &[&str] = &[
    "as",
    "consume",
    "evaluate",
    "externaldata",
    "facet",
    "find",
    "fork",
    "getschema",
    "invoke",
    "lookup",
    "materialize",
    "mv-apply",
    "parse-where",
    "parse-kv",
    "partition",
    "print",
    "range",
    "reduce",
    "sample",
    "sample-distinct",
    "scan",
    "search",
    "serialize",
    "top-hitters",
    "top-nested",
    "datatable",
];

/// Every tabular operator the parser accepts, for hints.
const OPERATORS: &[&str] = &[
    "where",
    "filter",
    "extend",
    "project",
    "project-away",
    "project-keep",
    "project-rename",
    "project-reorder",
    "summarize",
    "sort",
    "order",
    "top",
    "take",
    "limit",
    "count",
    "distinct",
    "join",
    "union",
    "mv-expand",
    "mvexpand",
    "render",
    "parse",
    "make-series",
];

/// Parses a whole query.
pub fn parse(text: &str) -> Result<Query, QueryError> {
    let tokens = lex(text)?;
    let mut p = Parser { tokens, pos: 0, depth: 0, expr_nesting: 0 };
    p.query()
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
    depth: usize,
    /// Nesting of `expr()` calls within the current tabular expression.
    expr_nesting: usize,
}

fn describe(t: &Tok) -> String {
    match t {
        Tok::Ident(s) => format!("'{s}'"),
        Tok::Str(_) => "a string".into(),
        Tok::Long(_) | Tok::Real(_) => "a number".into(),
        Tok::TimeSpan(_) => "a timespan".into(),
        Tok::DateTime(_) => "a datetime".into(),
        Tok::Sym(s) => format!("'{s}'"),
        Tok::Eof => "the end of the query".into(),
    }
}

impl Parser {
    fn tok(&self) -> &Tok {
        self.tokens.get(self.pos).map_or(&Tok::Eof, |t| &t.tok)
    }

    fn tok_at(&self, off: usize) -> &Tok {
        self.tokens.get(self.pos + off).map_or(&Tok::Eof, |t| &t.tok)
    }

    fn span(&self) -> Span {
        match self.tokens.get(self.pos) {
            // At the end, point just after the last token rather than at trailing blank lines.
            Some(Token { tok: Tok::Eof, .. }) | None => Span::new(self.prev_end(), self.prev_end()),
            Some(t) => t.span,
        }
    }

    fn prev_end(&self) -> usize {
        self.pos.checked_sub(1).and_then(|i| self.tokens.get(i)).map_or(0, |t| t.span.end)
    }

    fn bump(&mut self) -> Token {
        let t = self.tokens.get(self.pos).cloned().unwrap_or(Token {
            tok: Tok::Eof,
            span: self.tokens.last().map_or(Span::default(), |t| t.span),
        });
        if self.pos < self.tokens.len() {
            self.pos += 1;
        }
        t
    }

    fn is_sym(&self, s: &str) -> bool {
        matches!(self.tok(), Tok::Sym(x) if *x == s)
    }

    fn is_word(&self, w: &str) -> bool {
        matches!(self.tok(), Tok::Ident(x) if x == w)
    }

    fn eat_sym(&mut self, s: &str) -> bool {
        if self.is_sym(s) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn eat_word(&mut self, w: &str) -> bool {
        if self.is_word(w) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn err_expected(&self, what: &str) -> QueryError {
        let found = describe(self.tok());
        let code = if matches!(self.tok(), Tok::Eof | Tok::Sym("|") | Tok::Sym(";") | Tok::Sym(")"))
        {
            Code::MissingExpression
        } else {
            Code::Syntax
        };
        QueryError::new(code, self.span(), format!("expected {what}, found {found}"))
    }

    fn expect_sym(&mut self, s: &str) -> Result<Span, QueryError> {
        if self.is_sym(s) {
            Ok(self.bump().span)
        } else {
            Err(self.err_expected(&format!("'{s}'")))
        }
    }

    fn expect_word(&mut self, w: &str) -> Result<Span, QueryError> {
        if self.is_word(w) {
            Ok(self.bump().span)
        } else {
            Err(self.err_expected(&format!("'{w}'")))
        }
    }

    fn ident(&mut self, what: &str) -> Result<Ident, QueryError> {
        match self.tok().clone() {
            Tok::Ident(name) if !name.starts_with('!') && !name.starts_with('$') => {
                let span = self.bump().span;
                Ok(Ident { name, span })
            }
            Tok::Sym("[") => {
                // ['Column name'] quoted identifier.
                let start = self.span();
                if let Tok::Str(name) = self.tok_at(1).clone()
                    && matches!(self.tok_at(2), Tok::Sym("]"))
                {
                    self.pos += 3;
                    return Ok(Ident {
                        name,
                        span: start.to(Span::new(self.prev_end(), self.prev_end())),
                    });
                }
                Err(self.err_expected(what))
            }
            _ => Err(self.err_expected(what)),
        }
    }

    fn enter(&mut self) -> Result<(), QueryError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(QueryError::new(
                Code::Syntax,
                self.span(),
                format!("the query nests deeper than {MAX_DEPTH} levels"),
            ));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    // ---- statements ---------------------------------------------------

    fn query(&mut self) -> Result<Query, QueryError> {
        let mut lets = Vec::new();
        let mut body = None;
        loop {
            while self.eat_sym(";") {}
            if matches!(self.tok(), Tok::Eof) {
                break;
            }
            if self.is_word("let") {
                self.bump();
                let name = self.ident("a name after let")?;
                self.expect_sym("=")?;
                let value = self.let_value()?;
                lets.push(Let { name, value });
                if !matches!(self.tok(), Tok::Eof) {
                    self.expect_sym(";")?;
                }
                continue;
            }
            if body.is_some() {
                return Err(QueryError::new(
                    Code::Syntax,
                    self.span(),
                    "only one tabular expression may follow the let statements",
                ));
            }
            let t = self.tabular()?;
            body = Some(t);
            if !matches!(self.tok(), Tok::Eof) && !self.is_sym(";") {
                return Err(self.unexpected_after_query());
            }
        }
        match body {
            Some(body) => Ok(Query { lets, body }),
            None => Err(QueryError::new(
                Code::NoQuery,
                self.span(),
                "the query has no tabular expression to run",
            )
            .with_hint("end with a table and its operators, e.g. Alerts | take 10")),
        }
    }

    fn unexpected_after_query(&self) -> QueryError {
        QueryError::new(
            Code::Syntax,
            self.span(),
            format!("unexpected {} after the query", describe(self.tok())),
        )
        .with_hint("operators are separated by |")
    }

    fn let_value(&mut self) -> Result<LetValue, QueryError> {
        if self.is_word("union") || (self.is_sym("(") && self.paren_is_tabular()) {
            return Ok(LetValue::Tabular(self.tabular()?));
        }
        let e = self.expr()?;
        if self.is_sym("|") {
            let Some(name) = e.as_name().map(String::from) else {
                return Err(QueryError::new(
                    Code::Syntax,
                    self.span(),
                    "only a table can be followed by |",
                ));
            };
            let source = Source::Name(Ident { name, span: e.span });
            let ops = self.ops()?;
            let span = e.span.to(Span::new(self.prev_end(), self.prev_end()));
            return Ok(LetValue::Tabular(Tabular { source, ops, span }));
        }
        Ok(LetValue::Expr(e))
    }

    /// After `(`: does a pipe appear at this nesting level before the matching `)`?
    fn paren_is_tabular(&self) -> bool {
        let mut depth = 0usize;
        let mut i = self.pos;
        while let Some(t) = self.tokens.get(i) {
            match &t.tok {
                Tok::Sym("(") | Tok::Sym("[") | Tok::Sym("{") => depth += 1,
                Tok::Sym(")") | Tok::Sym("]") | Tok::Sym("}") => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        return false;
                    }
                }
                Tok::Sym("|") if depth == 1 => return true,
                Tok::Ident(w) if depth == 1 && i == self.pos + 1 && w == "union" => return true,
                Tok::Eof => return false,
                _ => {}
            }
            i += 1;
        }
        false
    }

    // ---- tabular expressions -------------------------------------------

    fn tabular(&mut self) -> Result<Tabular, QueryError> {
        // Expressions inside a subquery are checked on their own.
        let saved = std::mem::replace(&mut self.expr_nesting, 0);
        let t = self.tabular_inner();
        self.expr_nesting = saved;
        t
    }

    fn tabular_inner(&mut self) -> Result<Tabular, QueryError> {
        self.enter()?;
        let start = self.span();
        let source = if self.is_word("union") {
            let s = self.bump().span;
            Source::Union(self.union_spec(s)?)
        } else if self.is_sym("(") {
            self.bump();
            let inner = self.tabular()?;
            self.expect_sym(")")?;
            Source::Paren(Box::new(inner))
        } else {
            match self.tok() {
                Tok::Ident(w) if KNOWN_UNSUPPORTED.contains(&w.as_str()) => {
                    return Err(QueryError::new(
                        Code::Unsupported,
                        self.span(),
                        format!("'{w}' is KQL but otwatch does not support it"),
                    ));
                }
                Tok::Ident(_) => Source::Name(self.ident("a table name")?),
                _ => return Err(self.err_expected("a table name")),
            }
        };
        let ops = self.ops()?;
        self.leave();
        Ok(Tabular { source, ops, span: start.to(Span::new(self.prev_end(), self.prev_end())) })
    }

    fn ops(&mut self) -> Result<Vec<Op>, QueryError> {
        let mut ops = Vec::new();
        while self.eat_sym("|") {
            ops.push(self.op()?);
        }
        Ok(ops)
    }

    fn union_spec(&mut self, start: Span) -> Result<UnionSpec, QueryError> {
        let mut withsource = None;
        loop {
            if self.is_word("withsource") && matches!(self.tok_at(1), Tok::Sym("=")) {
                self.pos += 2;
                withsource = Some(self.ident("a column name after withsource=")?);
            } else if self.is_word("kind") && matches!(self.tok_at(1), Tok::Sym("=")) {
                self.pos += 2;
                let k = self.ident("inner or outer")?;
                if k.name != "outer" {
                    return Err(QueryError::new(
                        Code::Unsupported,
                        k.span,
                        format!("union kind={} is not supported", k.name),
                    )
                    .with_hint("otwatch supports kind=outer (the default)"));
                }
            } else if self.is_word("isfuzzy") && matches!(self.tok_at(1), Tok::Sym("=")) {
                self.pos += 2;
                self.bump();
            } else {
                break;
            }
        }
        let mut legs = Vec::new();
        loop {
            if self.is_sym("(") {
                self.bump();
                let t = self.tabular()?;
                self.expect_sym(")")?;
                legs.push(t);
            } else {
                let id = self.ident("a table name")?;
                let span = id.span;
                legs.push(Tabular { source: Source::Name(id), ops: Vec::new(), span });
            }
            if !self.eat_sym(",") {
                break;
            }
        }
        Ok(UnionSpec {
            withsource,
            legs,
            span: start.to(Span::new(self.prev_end(), self.prev_end())),
        })
    }

    fn op(&mut self) -> Result<Op, QueryError> {
        let start = self.span();
        let word = match self.tok() {
            Tok::Ident(w) => w.clone(),
            _ => return Err(self.err_expected("a tabular operator (where, project, summarize, …)")),
        };
        self.bump();
        let kind = match word.as_str() {
            "where" | "filter" => {
                let e = self.expr_or_missing("where", start)?;
                OpKind::Where(e)
            }
            "extend" => OpKind::Extend(self.assign_list()?),
            "project" => OpKind::Project(self.assign_list()?),
            "project-away" => OpKind::ProjectAway(self.ident_list()?),
            "project-keep" => OpKind::ProjectKeep(self.ident_list()?),
            "project-reorder" => OpKind::ProjectReorder(self.ident_list()?),
            "project-rename" => {
                let mut v = Vec::new();
                loop {
                    let new = self.ident("a new column name")?;
                    self.expect_sym("=")?;
                    let old = self.ident("an existing column name")?;
                    v.push((new, old));
                    if !self.eat_sym(",") {
                        break;
                    }
                }
                OpKind::ProjectRename(v)
            }
            "summarize" => {
                self.hints();
                let aggs = if self.is_word("by") { Vec::new() } else { self.assign_list()? };
                let by = if self.eat_word("by") { self.assign_list()? } else { Vec::new() };
                if aggs.is_empty() && by.is_empty() {
                    return Err(self.err_expected("an aggregate or 'by'"));
                }
                OpKind::Summarize { aggs, by }
            }
            "sort" | "order" => {
                self.expect_word("by")?;
                let mut keys = Vec::new();
                loop {
                    keys.push(self.sort_key()?);
                    if !self.eat_sym(",") {
                        break;
                    }
                }
                OpKind::Sort(keys)
            }
            "top" => {
                let n = self.expr()?;
                self.expect_word("by")?;
                let key = self.sort_key()?;
                OpKind::Top { n, key }
            }
            "take" | "limit" => OpKind::Take(self.expr_or_missing(&word, start)?),
            "count" => OpKind::Count,
            "distinct" => {
                if self.eat_sym("*") {
                    OpKind::Distinct(None)
                } else {
                    let mut v = Vec::new();
                    loop {
                        v.push(self.expr()?);
                        if !self.eat_sym(",") {
                            break;
                        }
                    }
                    OpKind::Distinct(Some(v))
                }
            }
            "join" => self.join()?,
            "union" => OpKind::Union(self.union_spec(start)?),
            "mv-expand" | "mvexpand" => self.mv_expand()?,
            "render" => {
                let kind = self.ident("a chart kind (timechart, barchart, piechart, …)")?;
                if self.eat_word("with") {
                    self.skip_parens()?;
                }
                OpKind::Render(kind)
            }
            "parse" => self.parse_op()?,
            "make-series" => self.make_series()?,
            w if KNOWN_UNSUPPORTED.contains(&w) => {
                return Err(QueryError::new(
                    Code::Unsupported,
                    start,
                    format!("'{w}' is KQL but otwatch does not support it"),
                )
                .with_hint(format!("supported operators: {}", OPERATORS.join(", "))));
            }
            w => {
                let mut e = QueryError::new(
                    Code::UnknownOperator,
                    start,
                    format!("unknown tabular operator '{w}'"),
                );
                e = match crate::error::closest(w, OPERATORS.iter().copied()) {
                    Some(s) => e.with_hint(format!("did you mean {s}?")),
                    None => e.with_hint(format!("supported operators: {}", OPERATORS.join(", "))),
                };
                return Err(e);
            }
        };
        Ok(Op { kind, span: start.to(Span::new(self.prev_end(), self.prev_end())) })
    }

    /// Skips `hint.x = y` arguments.
    fn hints(&mut self) {
        while matches!(self.tok(), Tok::Ident(w) if w.starts_with("hint"))
            && matches!(self.tok_at(1), Tok::Sym("."))
        {
            // hint . name = value
            self.pos += 3;
            if self.eat_sym("=") {
                self.bump();
            }
        }
    }

    fn skip_parens(&mut self) -> Result<(), QueryError> {
        self.expect_sym("(")?;
        let mut depth = 1usize;
        while depth > 0 {
            match self.bump().tok {
                Tok::Sym("(") => depth += 1,
                Tok::Sym(")") => depth -= 1,
                Tok::Eof => return Err(self.err_expected("')'")),
                _ => {}
            }
        }
        Ok(())
    }

    fn expr_or_missing(&mut self, op: &str, start: Span) -> Result<Expr, QueryError> {
        if matches!(self.tok(), Tok::Eof | Tok::Sym("|") | Tok::Sym(";") | Tok::Sym(")")) {
            return Err(QueryError::new(
                Code::MissingExpression,
                start.to(self.span()),
                format!("'{op}' needs an expression"),
            ));
        }
        self.expr()
    }

    fn sort_key(&mut self) -> Result<SortKey, QueryError> {
        let expr = self.expr()?;
        let mut desc = true;
        if self.eat_word("asc") {
            desc = false;
        } else if self.eat_word("desc") {
            desc = true;
        }
        let mut nulls_first = None;
        if self.eat_word("nulls") {
            if self.eat_word("first") {
                nulls_first = Some(true);
            } else if self.eat_word("last") {
                nulls_first = Some(false);
            } else {
                return Err(self.err_expected("'first' or 'last'"));
            }
        }
        Ok(SortKey { expr, desc, nulls_first })
    }

    fn ident_list(&mut self) -> Result<Vec<Ident>, QueryError> {
        let mut v = Vec::new();
        loop {
            v.push(self.ident("a column name")?);
            if self.is_sym("*") {
                return Err(QueryError::new(
                    Code::Unsupported,
                    self.span(),
                    "column wildcards are not supported",
                ));
            }
            if self.is_word("asc") || self.is_word("desc") {
                return Err(QueryError::new(
                    Code::Unsupported,
                    self.span(),
                    "sorting columns by name in project-reorder is not supported",
                ));
            }
            if !self.eat_sym(",") {
                break;
            }
        }
        Ok(v)
    }

    fn assign(&mut self) -> Result<Assign, QueryError> {
        let is_named = matches!(self.tok(), Tok::Ident(w) if !w.starts_with('!') && !w.starts_with('$'))
            && matches!(self.tok_at(1), Tok::Sym("="));
        let is_quoted = matches!(self.tok(), Tok::Sym("["))
            && matches!(self.tok_at(1), Tok::Str(_))
            && matches!(self.tok_at(2), Tok::Sym("]"))
            && matches!(self.tok_at(3), Tok::Sym("="));
        if is_named || is_quoted {
            let name = self.ident("a column name")?;
            self.expect_sym("=")?;
            let expr = self.expr()?;
            return Ok(Assign { name: Some(name), expr });
        }
        if self.is_sym("(")
            && matches!(self.tok_at(1), Tok::Ident(_))
            && matches!(self.tok_at(2), Tok::Sym(","))
        {
            return Err(QueryError::new(
                Code::Unsupported,
                self.span(),
                "assigning to several columns at once is not supported",
            ));
        }
        Ok(Assign { name: None, expr: self.expr()? })
    }

    fn assign_list(&mut self) -> Result<Vec<Assign>, QueryError> {
        if matches!(self.tok(), Tok::Eof | Tok::Sym("|") | Tok::Sym(";") | Tok::Sym(")")) {
            return Err(self.err_expected("an expression"));
        }
        let mut v = Vec::new();
        loop {
            v.push(self.assign()?);
            if !self.eat_sym(",") {
                break;
            }
        }
        Ok(v)
    }

    fn join(&mut self) -> Result<OpKind, QueryError> {
        let mut kind = None;
        loop {
            if self.is_word("kind") && matches!(self.tok_at(1), Tok::Sym("=")) {
                self.pos += 2;
                kind = Some(self.ident("a join kind")?);
            } else if matches!(self.tok(), Tok::Ident(w) if w.starts_with("hint"))
                && matches!(self.tok_at(1), Tok::Sym("."))
            {
                self.hints();
            } else {
                break;
            }
        }
        let right = if self.is_sym("(") {
            self.bump();
            let t = self.tabular()?;
            self.expect_sym(")")?;
            t
        } else {
            let id = self.ident("the right side of the join (a table or a parenthesized query)")?;
            let span = id.span;
            Tabular { source: Source::Name(id), ops: Vec::new(), span }
        };
        if !self.is_word("on") {
            return Err(QueryError::new(
                Code::BadJoin,
                self.span(),
                "join needs 'on' with the key columns",
            )
            .with_hint(
                "e.g. join kind=inner (Devices) on DeviceId, or on $left.DstIp == $right.IpAddress",
            ));
        }
        self.bump();
        let mut on = Vec::new();
        loop {
            on.push(self.expr()?);
            if !self.eat_sym(",") {
                break;
            }
        }
        Ok(OpKind::Join { kind, right: Box::new(right), on })
    }

    fn type_of(&mut self) -> Result<TypeName, QueryError> {
        self.expect_word("typeof")?;
        self.expect_sym("(")?;
        let t = self.ident("a type name")?;
        self.expect_sym(")")?;
        TypeName::parse(&t.name).ok_or_else(|| {
            QueryError::new(Code::Syntax, t.span, format!("unknown type {}", t.name))
                .with_hint("types: bool, int, long, real, string, datetime, timespan, dynamic")
        })
    }

    fn mv_expand(&mut self) -> Result<OpKind, QueryError> {
        loop {
            if self.is_word("kind") && matches!(self.tok_at(1), Tok::Sym("=")) {
                self.pos += 2;
                let k = self.ident("bag or array")?;
                if k.name != "array" && k.name != "bag" {
                    return Err(QueryError::new(Code::Syntax, k.span, "kind must be bag or array"));
                }
            } else if self.is_word("with_itemindex") || self.is_word("bagexpansion") {
                return Err(QueryError::new(
                    Code::Unsupported,
                    self.span(),
                    "this mv-expand option is not supported",
                ));
            } else {
                break;
            }
        }
        let mut items = Vec::new();
        loop {
            let a = self.assign()?;
            let ty = if self.eat_word("to") { Some(self.type_of()?) } else { None };
            items.push((a, ty));
            if !self.eat_sym(",") {
                break;
            }
        }
        let limit = if self.eat_word("limit") { Some(self.expr()?) } else { None };
        Ok(OpKind::MvExpand { items, limit })
    }

    fn parse_op(&mut self) -> Result<OpKind, QueryError> {
        if self.is_word("kind") && matches!(self.tok_at(1), Tok::Sym("=")) {
            self.pos += 2;
            let k = self.ident("simple")?;
            if k.name != "simple" {
                return Err(QueryError::new(
                    Code::Unsupported,
                    k.span,
                    format!("parse kind={} is not supported", k.name),
                )
                .with_hint("otwatch supports simple patterns"));
            }
        }
        let expr = self.expr()?;
        self.expect_word("with")?;
        let mut parts = Vec::new();
        loop {
            match self.tok().clone() {
                Tok::Str(s) => {
                    self.bump();
                    parts.push(ParsePart::Text(s));
                }
                Tok::Sym("*") => {
                    self.bump();
                    parts.push(ParsePart::Skip);
                }
                Tok::Ident(w) if !w.starts_with('!') && !w.starts_with('$') => {
                    let id = self.ident("a column name")?;
                    let ty = if self.eat_sym(":") {
                        let t = self.ident("a type name")?;
                        Some(TypeName::parse(&t.name).ok_or_else(|| {
                            QueryError::new(
                                Code::Syntax,
                                t.span,
                                format!("unknown type {}", t.name),
                            )
                        })?)
                    } else {
                        None
                    };
                    parts.push(ParsePart::Column(id, ty));
                }
                _ => break,
            }
        }
        if parts.is_empty() {
            return Err(self.err_expected("a parse pattern"));
        }
        Ok(OpKind::Parse { expr, parts })
    }

    fn make_series(&mut self) -> Result<OpKind, QueryError> {
        let mut aggs = Vec::new();
        loop {
            let agg = self.assign()?;
            let default = if self.is_word("default") && matches!(self.tok_at(1), Tok::Sym("=")) {
                self.pos += 2;
                Some(self.expr()?)
            } else {
                None
            };
            aggs.push(SeriesAgg { agg, default });
            if !self.eat_sym(",") {
                break;
            }
        }
        self.expect_word("on")?;
        let on = self.expr()?;
        if self.is_word("in") {
            return Err(QueryError::new(
                Code::Unsupported,
                self.span(),
                "make-series ... in range() is not supported",
            )
            .with_hint("use from … to … step …"));
        }
        self.expect_word("from")?;
        let from = self.expr()?;
        self.expect_word("to")?;
        let to = self.expr()?;
        self.expect_word("step")?;
        let step = self.expr()?;
        let by = if self.eat_word("by") { self.assign_list()? } else { Vec::new() };
        Ok(OpKind::MakeSeries { aggs, on, from, to, step, by })
    }

    // ---- expressions ----------------------------------------------------

    fn expr(&mut self) -> Result<Expr, QueryError> {
        self.enter()?;
        self.expr_nesting += 1;
        let e = self.binary(0);
        self.expr_nesting -= 1;
        self.leave();
        let e = e?;
        if self.expr_nesting == 0 && tree_depth(&e) > MAX_TREE_DEPTH {
            // Long operator chains (1+1+1+…) nest without recursion here, but
            // every later stage walks the tree recursively.
            return Err(QueryError::new(
                Code::Syntax,
                e.span,
                format!("the expression nests deeper than {MAX_TREE_DEPTH} levels"),
            ));
        }
        Ok(e)
    }

    /// Binding power of the binary operator at the cursor (left, right), or None.
    fn infix(&self) -> Option<(u8, u8)> {
        Some(match self.tok() {
            Tok::Ident(w) => match w.as_str() {
                "or" => (1, 2),
                "and" => (3, 4),
                "in" | "!in" | "in~" | "!in~" | "between" | "!between" | "matches" => (5, 6),
                w if StrOp::parse(w.trim_start_matches('!')).is_some() => (5, 6),
                _ => return None,
            },
            Tok::Sym("==" | "!=" | "<>" | "<" | "<=" | ">" | ">=" | "=~" | "!~") => (5, 6),
            Tok::Sym("+" | "-") => (7, 8),
            Tok::Sym("*" | "/" | "%") => (9, 10),
            _ => return None,
        })
    }

    /// Fails when an expression built by a loop (operator chains, property
    /// chains) gets too deep: every later stage, and dropping the tree, recurses.
    fn check_depth(&self, e: &Expr) -> Result<(), QueryError> {
        if tree_depth(e) > MAX_TREE_DEPTH {
            return Err(QueryError::new(
                Code::Syntax,
                e.span,
                format!("the expression nests deeper than {MAX_TREE_DEPTH} levels"),
            ));
        }
        Ok(())
    }

    fn binary(&mut self, min_bp: u8) -> Result<Expr, QueryError> {
        let mut lhs = self.unary()?;
        while let Some((lbp, rbp)) = self.infix() {
            if lbp < min_bp {
                break;
            }
            self.check_depth(&lhs)?;
            let op_tok = self.bump();
            let start = lhs.span;
            lhs = match op_tok.tok {
                Tok::Ident(w) if w == "in" || w == "!in" || w == "in~" || w == "!in~" => {
                    let list = self.in_list()?;
                    let span = start.to(Span::new(self.prev_end(), self.prev_end()));
                    Expr {
                        kind: ExprKind::In {
                            expr: Box::new(lhs),
                            list,
                            negated: w.starts_with('!'),
                            ci: w.ends_with('~'),
                        },
                        span,
                    }
                }
                Tok::Ident(w) if w == "between" || w == "!between" => {
                    self.expect_sym("(")?;
                    let lo = self.binary(7)?;
                    self.expect_sym("..")?;
                    let hi = self.binary(7)?;
                    self.expect_sym(")")?;
                    let span = start.to(Span::new(self.prev_end(), self.prev_end()));
                    Expr {
                        kind: ExprKind::Between {
                            expr: Box::new(lhs),
                            lo: Box::new(lo),
                            hi: Box::new(hi),
                            negated: w.starts_with('!'),
                        },
                        span,
                    }
                }
                Tok::Ident(w) if w == "matches" => {
                    self.expect_word("regex")?;
                    let rhs = self.binary(rbp)?;
                    let span = start.to(rhs.span);
                    Expr {
                        kind: ExprKind::Binary(
                            BinOp::Str(StrOp::Matches, false),
                            Box::new(lhs),
                            Box::new(rhs),
                        ),
                        span,
                    }
                }
                Tok::Ident(w) if w == "and" || w == "or" => {
                    if matches!(
                        self.tok(),
                        Tok::Eof | Tok::Sym("|") | Tok::Sym(";") | Tok::Sym(")") | Tok::Sym(",")
                    ) {
                        return Err(QueryError::new(
                            Code::MissingExpression,
                            op_tok.span.to(self.span()),
                            format!("'{w}' needs an expression on its right"),
                        ));
                    }
                    let rhs = self.binary(rbp)?;
                    let span = start.to(rhs.span);
                    let op = if w == "and" { BinOp::And } else { BinOp::Or };
                    Expr { kind: ExprKind::Binary(op, Box::new(lhs), Box::new(rhs)), span }
                }
                Tok::Ident(w) => {
                    let negated = w.starts_with('!');
                    let Some(op) = StrOp::parse(w.trim_start_matches('!')) else {
                        return Err(QueryError::new(Code::Syntax, op_tok.span, "unknown operator"));
                    };
                    if negated && matches!(op, StrOp::HasAny | StrOp::HasAll) {
                        return Err(QueryError::new(
                            Code::Syntax,
                            op_tok.span,
                            format!("{w} is not an operator"),
                        ));
                    }
                    let rhs = if matches!(op, StrOp::HasAny | StrOp::HasAll) {
                        let list = self.in_list()?;
                        let span = list
                            .first()
                            .map_or(op_tok.span, |f| f.span)
                            .to(Span::new(self.prev_end(), self.prev_end()));
                        Expr {
                            kind: ExprKind::Call(Ident { name: "pack_array".into(), span }, list),
                            span,
                        }
                    } else {
                        self.binary(rbp)?
                    };
                    let span = start.to(rhs.span);
                    Expr {
                        kind: ExprKind::Binary(
                            BinOp::Str(op, negated),
                            Box::new(lhs),
                            Box::new(rhs),
                        ),
                        span,
                    }
                }
                Tok::Sym(s) => {
                    let op = match s {
                        "==" => BinOp::Eq,
                        "!=" | "<>" => BinOp::Ne,
                        "<" => BinOp::Lt,
                        "<=" => BinOp::Le,
                        ">" => BinOp::Gt,
                        ">=" => BinOp::Ge,
                        "=~" => BinOp::EqCi,
                        "!~" => BinOp::NeCi,
                        "+" => BinOp::Add,
                        "-" => BinOp::Sub,
                        "*" => BinOp::Mul,
                        "/" => BinOp::Div,
                        _ => BinOp::Mod,
                    };
                    if matches!(
                        self.tok(),
                        Tok::Eof | Tok::Sym("|") | Tok::Sym(";") | Tok::Sym(")") | Tok::Sym(",")
                    ) {
                        return Err(QueryError::new(
                            Code::MissingExpression,
                            op_tok.span.to(self.span()),
                            format!("'{s}' needs an expression on its right"),
                        ));
                    }
                    let rhs = self.binary(rbp)?;
                    let span = start.to(rhs.span);
                    Expr { kind: ExprKind::Binary(op, Box::new(lhs), Box::new(rhs)), span }
                }
                _ => return Err(QueryError::new(Code::Syntax, op_tok.span, "unexpected token")),
            };
        }
        Ok(lhs)
    }

    fn in_list(&mut self) -> Result<Vec<Expr>, QueryError> {
        self.expect_sym("(")?;
        if self.paren_is_tabular_inside() {
            let t = self.tabular()?;
            self.expect_sym(")")?;
            let span = t.span;
            return Ok(vec![Expr { kind: ExprKind::Tabular(Box::new(t)), span }]);
        }
        let mut list = Vec::new();
        if !self.is_sym(")") {
            loop {
                list.push(self.expr()?);
                if !self.eat_sym(",") {
                    break;
                }
            }
        }
        self.expect_sym(")")?;
        Ok(list)
    }

    /// Inside `(`, already consumed: is the content a tabular expression (a pipe at this level)?
    fn paren_is_tabular_inside(&self) -> bool {
        let mut depth = 0usize;
        let mut i = self.pos;
        if matches!(self.tok(), Tok::Ident(w) if w == "union") {
            return true;
        }
        while let Some(t) = self.tokens.get(i) {
            match &t.tok {
                Tok::Sym("(") | Tok::Sym("[") | Tok::Sym("{") => depth += 1,
                Tok::Sym(")") | Tok::Sym("]") | Tok::Sym("}") => {
                    if depth == 0 {
                        return false;
                    }
                    depth -= 1;
                }
                Tok::Sym("|") if depth == 0 => return true,
                Tok::Sym(",") if depth == 0 => return false,
                Tok::Eof => return false,
                _ => {}
            }
            i += 1;
        }
        false
    }

    fn unary(&mut self) -> Result<Expr, QueryError> {
        if self.is_sym("-") || self.is_sym("+") {
            let t = self.bump();
            self.enter()?;
            let e = self.unary();
            self.leave();
            let e = e?;
            let span = t.span.to(e.span);
            if t.tok == Tok::Sym("+") {
                return Ok(Expr { kind: e.kind, span });
            }
            // Fold negative literals so `-5` is a constant.
            return Ok(match e.kind {
                ExprKind::Lit(Lit::Long(n, int)) => {
                    Expr { kind: ExprKind::Lit(Lit::Long(n.wrapping_neg(), int)), span }
                }
                ExprKind::Lit(Lit::Real(r)) => Expr { kind: ExprKind::Lit(Lit::Real(-r)), span },
                ExprKind::Lit(Lit::TimeSpan(n)) => {
                    Expr { kind: ExprKind::Lit(Lit::TimeSpan(n.wrapping_neg())), span }
                }
                kind => Expr { kind: ExprKind::Neg(Box::new(Expr { kind, span: e.span })), span },
            });
        }
        let mut e = self.primary()?;
        loop {
            if self.is_sym(".") || self.is_sym("[") {
                self.check_depth(&e)?;
            }
            if self.is_sym(".") {
                self.bump();
                let name = match self.tok().clone() {
                    Tok::Ident(n) if !n.starts_with('!') => {
                        let span = self.bump().span;
                        Ident { name: n, span }
                    }
                    _ => return Err(self.err_expected("a property name after '.'")),
                };
                let span = e.span.to(name.span);
                e = Expr { kind: ExprKind::Member(Box::new(e), name), span };
            } else if self.is_sym("[") {
                self.bump();
                let idx = self.expr()?;
                let end = self.expect_sym("]")?;
                let span = e.span.to(end);
                e = Expr { kind: ExprKind::Index(Box::new(e), Box::new(idx)), span };
            } else {
                break;
            }
        }
        Ok(e)
    }

    fn primary(&mut self) -> Result<Expr, QueryError> {
        let t = self
            .tokens
            .get(self.pos)
            .cloned()
            .unwrap_or(Token { tok: Tok::Eof, span: self.span() });
        let span = t.span;
        let lit = |l: Lit| Expr { kind: ExprKind::Lit(l), span };
        match t.tok {
            Tok::Str(s) => {
                self.bump();
                Ok(lit(Lit::Str(s)))
            }
            Tok::Long(n) => {
                self.bump();
                Ok(lit(Lit::Long(n, false)))
            }
            Tok::Real(r) => {
                self.bump();
                Ok(lit(Lit::Real(r)))
            }
            Tok::TimeSpan(n) => {
                self.bump();
                Ok(lit(Lit::TimeSpan(n)))
            }
            Tok::DateTime(raw) => {
                self.bump();
                Ok(lit(Lit::DateTime(raw)))
            }
            Tok::Sym("(") => {
                self.bump();
                if self.paren_is_tabular_inside() {
                    let t = self.tabular()?;
                    let end = self.expect_sym(")")?;
                    return Ok(Expr { kind: ExprKind::Tabular(Box::new(t)), span: span.to(end) });
                }
                let e = self.expr()?;
                let end = self.expect_sym(")")?;
                Ok(Expr { kind: e.kind, span: span.to(end) })
            }
            Tok::Sym("*") => {
                self.bump();
                Ok(Expr { kind: ExprKind::Star, span })
            }
            Tok::Sym("[") => {
                let id = self.ident("an expression")?;
                Ok(Expr { kind: ExprKind::Name(id.name), span: id.span })
            }
            Tok::Ident(name) if !name.starts_with('!') => {
                self.bump();
                match name.as_str() {
                    "true" => return Ok(lit(Lit::Bool(true))),
                    "false" => return Ok(lit(Lit::Bool(false))),
                    _ => {}
                }
                if !self.is_sym("(") {
                    return Ok(Expr { kind: ExprKind::Name(name), span });
                }
                if name == "dynamic" {
                    self.bump();
                    let v = self.json()?;
                    let end = self.expect_sym(")")?;
                    return Ok(Expr { kind: ExprKind::Lit(Lit::Dynamic(v)), span: span.to(end) });
                }
                if name == "typeof" {
                    self.bump();
                    let t = self.ident("a type name")?;
                    let end = self.expect_sym(")")?;
                    let ty = TypeName::parse(&t.name).ok_or_else(|| {
                        QueryError::new(Code::Syntax, t.span, format!("unknown type {}", t.name))
                    })?;
                    return Ok(Expr { kind: ExprKind::TypeOf(ty), span: span.to(end) });
                }
                if let Some(ty) = TypeName::parse(&name)
                    && !matches!(ty, TypeName::Dynamic)
                {
                    // Typed literals: long(null), int(5), real(1.5), bool(true), timespan(1d), string(null).
                    self.bump();
                    let (neg, inner) = if self.is_sym("-") {
                        self.bump();
                        (true, self.tok().clone())
                    } else {
                        (false, self.tok().clone())
                    };
                    let l = match (ty, inner) {
                        (_, Tok::Ident(w)) if w == "null" && !neg => Lit::Null(Some(ty)),
                        (TypeName::Int | TypeName::Long, Tok::Long(n)) => {
                            Lit::Long(if neg { n.wrapping_neg() } else { n }, ty == TypeName::Int)
                        }
                        (TypeName::Real, Tok::Long(n)) => {
                            Lit::Real(if neg { -(n as f64) } else { n as f64 })
                        }
                        (TypeName::Real, Tok::Real(r)) => Lit::Real(if neg { -r } else { r }),
                        (TypeName::Bool, Tok::Ident(w))
                            if !neg && (w == "true" || w == "false") =>
                        {
                            Lit::Bool(w == "true")
                        }
                        (TypeName::TimeSpan, Tok::TimeSpan(n)) => {
                            Lit::TimeSpan(if neg { n.wrapping_neg() } else { n })
                        }
                        (TypeName::String, Tok::Str(s)) if !neg => Lit::Str(s),
                        _ => {
                            return Err(QueryError::new(
                                Code::BadLiteral,
                                self.span(),
                                format!("invalid {name} literal"),
                            ));
                        }
                    };
                    self.bump();
                    let end = self.expect_sym(")")?;
                    return Ok(Expr { kind: ExprKind::Lit(l), span: span.to(end) });
                }
                self.bump();
                let mut args = Vec::new();
                if !self.is_sym(")") {
                    loop {
                        args.push(self.expr()?);
                        if !self.eat_sym(",") {
                            break;
                        }
                    }
                }
                let end = self.expect_sym(")")?;
                Ok(Expr { kind: ExprKind::Call(Ident { name, span }, args), span: span.to(end) })
            }
            _ => Err(self.err_expected("an expression")),
        }
    }

    /// The JSON-like content of `dynamic(...)`.
    fn json(&mut self) -> Result<serde_json::Value, QueryError> {
        use serde_json::Value as J;
        self.enter()?;
        let t = self.bump();
        let v = match t.tok {
            Tok::Sym("[") => {
                let mut v = Vec::new();
                if !self.eat_sym("]") {
                    loop {
                        v.push(self.json()?);
                        if self.eat_sym("]") {
                            break;
                        }
                        self.expect_sym(",")?;
                    }
                }
                J::Array(v)
            }
            Tok::Sym("{") => {
                let mut m = serde_json::Map::new();
                if !self.eat_sym("}") {
                    loop {
                        let (Tok::Str(key) | Tok::Ident(key)) = self.bump().tok else {
                            return Err(self.err_expected("a property name"));
                        };
                        self.expect_sym(":")?;
                        let val = self.json()?;
                        m.insert(key, val);
                        if self.eat_sym("}") {
                            break;
                        }
                        self.expect_sym(",")?;
                    }
                }
                J::Object(m)
            }
            Tok::Str(s) => J::String(s),
            Tok::Long(n) => J::from(n),
            Tok::Real(r) => serde_json::Number::from_f64(r).map_or(J::Null, J::Number),
            Tok::Sym("-") => match self.bump().tok {
                Tok::Long(n) => J::from(n.wrapping_neg()),
                Tok::Real(r) => serde_json::Number::from_f64(-r).map_or(J::Null, J::Number),
                _ => {
                    return Err(QueryError::new(
                        Code::BadLiteral,
                        t.span,
                        "invalid dynamic literal",
                    ));
                }
            },
            Tok::Ident(w) if w == "true" => J::Bool(true),
            Tok::Ident(w) if w == "false" => J::Bool(false),
            Tok::Ident(w) if w == "null" => J::Null,
            _ => {
                return Err(QueryError::new(
                    Code::BadLiteral,
                    t.span,
                    "invalid dynamic literal: use JSON values (arrays, objects, strings, numbers, true, false, null)",
                ));
            }
        };
        self.leave();
        Ok(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(q: &str) -> Query {
        match parse(q) {
            Ok(x) => x,
            Err(e) => panic!("{}", e.render(q)),
        }
    }

    #[test]
    fn pipelines_and_lets() {
        let q = ok("let x = 5; let t = Alerts | where a > x; t | project a, b = c + 1 | take 3");
        assert_eq!(q.lets.len(), 2);
        assert!(matches!(q.lets[1].value, LetValue::Tabular(_)));
        assert_eq!(q.body.ops.len(), 2);
        let q = ok("let l = dynamic([\"a\", 1, {\"k\": -2.5}]); Alerts");
        match &q.lets[0].value {
            LetValue::Expr(Expr { kind: ExprKind::Lit(Lit::Dynamic(v)), .. }) => {
                assert_eq!(v.to_string(), "[\"a\",1,{\"k\":-2.5}]")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn precedence() {
        let q = ok("T | where a or b and c == 1 + 2 * 3");
        let OpKind::Where(e) = &q.body.ops[0].kind else { panic!() };
        let ExprKind::Binary(BinOp::Or, _, r) = &e.kind else { panic!("{e:?}") };
        let ExprKind::Binary(BinOp::And, _, r) = &r.kind else { panic!() };
        let ExprKind::Binary(BinOp::Eq, _, r) = &r.kind else { panic!() };
        let ExprKind::Binary(BinOp::Add, _, r) = &r.kind else { panic!() };
        assert!(matches!(r.kind, ExprKind::Binary(BinOp::Mul, _, _)));
    }

    #[test]
    fn every_operator_parses() {
        for q in [
            "T | where x has_any (\"a\", \"b\") and y !in~ (\"c\") and z between (1 .. 5) and w matches regex @\"^a\"",
            "T | extend a = d.x[0], b = d[\"k\"], c = -x | project-away a | project-rename n = b | project-reorder c",
            "T | summarize count(), S = sum(x) by bin(t, 1h), k | sort by S desc nulls first, k asc | top 3 by S",
            "T | join kind=leftouter (U | project k) on k, $left.a == $right.b | distinct * | count",
            "union withsource=Src A, (B | take 1) | union C | mv-expand x to typeof(string) limit 5 | render timechart",
            "T | parse Title with * \"port \" Port:long \" on \" Host | make-series c = count() default = 0 on t from datetime(2024-01-01) to datetime(2024-01-02) step 1h by k",
            "T | where x in (U | project y) | project-keep x | limit 1",
        ] {
            ok(q);
        }
    }

    #[test]
    fn errors() {
        let e = parse("Alerts | frobnicate Title").unwrap_err();
        assert_eq!((e.code, e.span.start), (Code::UnknownOperator, 9));
        let e = parse("Alerts | where").unwrap_err();
        assert_eq!(e.code, Code::MissingExpression);
        let e = parse("Alerts | wher x").unwrap_err();
        assert_eq!(e.hint.as_deref(), Some("did you mean where?"));
        let e = parse("let x = 1;").unwrap_err();
        assert_eq!(e.code, Code::NoQuery);
        let e = parse("Alerts | evaluate bag_unpack(x)").unwrap_err();
        assert_eq!(e.code, Code::Unsupported);
        let deep = format!("T | where {}1{}", "(".repeat(200), ")".repeat(200));
        assert_eq!(parse(&deep).unwrap_err().code, Code::Syntax);
        assert_eq!(parse("T | where a ==").unwrap_err().code, Code::MissingExpression);
    }
}
