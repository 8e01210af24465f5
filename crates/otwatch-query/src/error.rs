//! Query errors: a stable code, the position, a message and a hint, rendered with a caret.
//!
//! Codes never change meaning once published (`docs/hunting.md` lists them);
//! the message wording may improve. Positions are byte spans into the query
//! text; [`QueryError::line_col`] and [`QueryError::render`] turn them into
//! `line:column` (1-based, counted in characters) and a caret under the line.

use std::fmt;

/// A byte range in the query text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Span {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

impl Span {
    /// A span from `start` to `end` (swapped if reversed).
    pub fn new(start: usize, end: usize) -> Span {
        if end < start { Span { start: end, end: start } } else { Span { start, end } }
    }

    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span { start: self.start.min(other.start), end: self.end.max(other.end) }
    }
}

macro_rules! codes {
    ($($(#[$doc:meta])* $name:ident = $num:literal, $title:literal;)*) => {
        /// The stable error codes.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum Code {
            $($(#[$doc])* $name,)*
        }

        impl Code {
            /// The code as printed, e.g. `KQL0021`.
            pub fn as_str(self) -> &'static str {
                match self { $(Code::$name => concat!("KQL", $num),)* }
            }

            /// A short title for the documentation.
            pub fn title(self) -> &'static str {
                match self { $(Code::$name => $title,)* }
            }

            /// Every code, in order.
            pub const ALL: &'static [Code] = &[$(Code::$name,)*];
        }
    };
}

codes! {
    /// A character that cannot start any token.
    UnexpectedCharacter = "0001", "unexpected character";
    /// A string literal without its closing quote.
    UnterminatedString = "0002", "unterminated string literal";
    /// A malformed number, timespan, datetime or dynamic literal.
    BadLiteral = "0003", "invalid literal";
    /// The tokens do not form a query.
    Syntax = "0010", "syntax error";
    /// An unknown tabular operator after `|`.
    UnknownOperator = "0011", "unknown tabular operator";
    /// An operator or function is missing an expression.
    MissingExpression = "0012", "missing expression";
    /// The text has no tabular expression to run.
    NoQuery = "0013", "no query";
    /// A name that is no table.
    UnknownTable = "0020", "unknown table";
    /// A name that is no column or variable.
    UnknownColumn = "0021", "unknown column or variable";
    /// A name that is no function.
    UnknownFunction = "0022", "unknown function";
    /// A function called with the wrong number of arguments.
    ArgumentCount = "0023", "wrong number of arguments";
    /// An operator applied to types it is not defined for.
    TypeMismatch = "0024", "type mismatch";
    /// A function argument of the wrong type.
    ArgumentType = "0025", "wrong argument type";
    /// A filter that is not a boolean.
    NotBoolean = "0026", "predicate is not a boolean";
    /// An argument that must be a constant is not.
    NotConstant = "0027", "constant expected";
    /// Two output columns with the same name.
    DuplicateColumn = "0028", "duplicate column name";
    /// An aggregate outside `summarize`, or a scalar where an aggregate is needed.
    Aggregate = "0029", "misplaced aggregate";
    /// An invalid regular expression.
    BadRegex = "0030", "invalid regular expression";
    /// Valid KQL that otwatch does not support.
    Unsupported = "0031", "not supported";
    /// An invalid join condition.
    BadJoin = "0032", "invalid join";
    /// A tabular expression used as a scalar, or the reverse.
    Kind = "0033", "tabular and scalar mixed";
    /// The query ran longer than its time limit.
    TimeLimit = "0100", "time limit exceeded";
    /// The query would read more rows from storage than allowed.
    ScanLimit = "0101", "scan limit exceeded";
    /// `summarize`, `join`, `distinct`, `mv-expand` or `sort` would hold too many rows.
    MemoryLimit = "0102", "memory limit exceeded";
    /// The storage backend failed.
    Storage = "0103", "storage error";
    /// A value could not be computed (e.g. a result out of range).
    Runtime = "0104", "runtime error";
}

/// An error in a query: what, where, and how to fix it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueryError {
    /// Stable code.
    pub code: Code,
    /// Where in the query (byte range). Execution errors point at the whole query.
    pub span: Span,
    /// What is wrong.
    pub message: String,
    /// How to fix it, when we can tell.
    pub hint: Option<String>,
}

impl QueryError {
    /// A new error.
    pub fn new(code: Code, span: Span, message: impl Into<String>) -> QueryError {
        QueryError { code, span, message: message.into(), hint: None }
    }

    /// Adds a hint.
    pub fn with_hint(mut self, hint: impl Into<String>) -> QueryError {
        self.hint = Some(hint.into());
        self
    }

    /// 1-based line and column (in characters) of the start of the span.
    pub fn line_col(&self, text: &str) -> (usize, usize) {
        let start = self.span.start.min(text.len());
        let before = text.get(..start).unwrap_or(text);
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let col = before.get(line_start..).map_or(0, |s| s.chars().count()) + 1;
        (line, col)
    }

    /// The error as a multi-line message:
    ///
    /// ```text
    /// error[KQL0021]: unknown column Severityy (line 1, column 17)
    ///   |
    /// 1 | Alerts | where Severityy == "High"
    ///   |                ^^^^^^^^^
    ///   = hint: did you mean Severity?
    /// ```
    pub fn render(&self, text: &str) -> String {
        let (line, col) = self.line_col(text);
        let mut out = format!(
            "error[{}]: {} (line {line}, column {col})\n",
            self.code.as_str(),
            self.message
        );
        let src_line = text.lines().nth(line - 1).unwrap_or("");
        let num = line.to_string();
        let pad = " ".repeat(num.len());
        let width = {
            let start = self.span.start.min(text.len());
            let end = self.span.end.min(text.len()).max(start);
            let line_rest = src_line.chars().count().saturating_sub(col - 1);
            text.get(start..end)
                .map_or(1, |s| s.chars().take_while(|c| *c != '\n').count())
                .clamp(1, line_rest.max(1))
        };
        out.push_str(&format!(
            "{pad} |\n{num} | {src_line}\n{pad} | {}{}\n",
            " ".repeat(col - 1),
            "^".repeat(width)
        ));
        if let Some(h) = &self.hint {
            out.push_str(&format!("{pad} = hint: {h}\n"));
        }
        out
    }
}

impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.message)?;
        if let Some(h) = &self.hint {
            write!(f, " ({h})")?;
        }
        Ok(())
    }
}

impl std::error::Error for QueryError {}

/// The closest candidate to a misspelt name, for "did you mean" hints:
/// a case-insensitive match first, then the smallest edit distance (at most a
/// third of the name's length, and at least 1, allowed).
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let lower = name.to_lowercase();
    let mut best: Option<(usize, &'a str)> = None;
    for c in candidates {
        if c.to_lowercase() == lower {
            return Some(c);
        }
        let d = edit_distance(&lower, &c.to_lowercase());
        if best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, c));
        }
    }
    let limit = (name.chars().count() / 3).max(1);
    best.filter(|(d, _)| *d <= limit).map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_a_caret_under_the_span() {
        let q = "Alerts\n| where Severityy == \"High\"";
        let e = QueryError::new(Code::UnknownColumn, Span::new(15, 24), "unknown column Severityy")
            .with_hint("did you mean Severity?");
        assert_eq!(e.line_col(q), (2, 9));
        assert_eq!(
            e.render(q),
            "error[KQL0021]: unknown column Severityy (line 2, column 9)\n  |\n2 | | where Severityy == \"High\"\n  |         ^^^^^^^^^\n  = hint: did you mean Severity?\n"
        );
        assert_eq!(e.to_string(), "KQL0021: unknown column Severityy (did you mean Severity?)");
    }

    #[test]
    fn codes_are_unique() {
        let mut seen = std::collections::BTreeSet::new();
        for c in Code::ALL {
            assert!(seen.insert(c.as_str()), "{c:?}");
        }
    }

    #[test]
    fn suggestions() {
        assert_eq!(closest("Severityy", ["Title", "Severity"]), Some("Severity"));
        assert_eq!(closest("srcip", ["SrcIp", "DstIp"]), Some("SrcIp"));
        assert_eq!(closest("Zzzzzz", ["SrcIp", "DstIp"]), None);
    }
}
