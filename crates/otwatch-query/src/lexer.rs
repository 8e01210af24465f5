//! The lexer: query text to tokens with byte spans, never panicking on any input.
//!
//! KQL has a few lexical quirks handled here so the parser stays simple:
//! hyphenated operator names (`project-away`, `mv-expand`) are one token,
//! negated and case-insensitive operators (`!has`, `in~`, `!in~`) are one
//! token, number literals with a unit are timespans (`5m`, `1.5h`), and the
//! raw text inside `datetime(...)` is kept as one token because it is not an
//! expression (`datetime(2024-03-01 10:00)`).

#![cfg_attr(not(test), deny(clippy::indexing_slicing))]

use crate::error::{Code, QueryError, Span};

/// What a token is.
#[derive(Clone, Debug, PartialEq)]
pub enum Tok {
    /// A name or keyword (`where`, `Alerts`, `project-away`, `!has`, `in~`, `$left`).
    Ident(String),
    /// A string literal, already unescaped.
    Str(String),
    /// An integer literal.
    Long(i64),
    /// A real literal.
    Real(f64),
    /// A timespan literal in microseconds.
    TimeSpan(i64),
    /// `datetime(...)`: the raw text between the parentheses.
    DateTime(String),
    /// Punctuation or an operator symbol.
    Sym(&'static str),
    /// End of input.
    Eof,
}

/// A token and where it is.
#[derive(Clone, Debug, PartialEq)]
pub struct Token {
    /// The token.
    pub tok: Tok,
    /// Its byte range in the query.
    pub span: Span,
}

/// Operator names written with a hyphen.
const HYPHENATED: &[&str] = &[
    "project-away",
    "project-rename",
    "project-reorder",
    "project-keep",
    "mv-expand",
    "make-series",
    "parse-where",
    "mv-apply",
    "top-nested",
    "top-hitters",
    "parse-kv",
];

/// Words that can follow `!` to form a negated operator.
const NEGATABLE: &[&str] = &[
    "has",
    "has_cs",
    "hasprefix",
    "hasprefix_cs",
    "hassuffix",
    "hassuffix_cs",
    "contains",
    "contains_cs",
    "startswith",
    "startswith_cs",
    "endswith",
    "endswith_cs",
    "in",
    "between",
];

/// Symbols, longest first.
const SYMBOLS: &[&str] = &[
    "==", "!=", "<=", ">=", "=~", "!~", "..", "<>", "|", "(", ")", "[", "]", "{", "}", ",", ";",
    ".", ":", "=", "<", ">", "+", "-", "*", "/", "%", "?",
];

/// Splits a query into tokens; the last token is always `Eof`.
pub fn lex(text: &str) -> Result<Vec<Token>, QueryError> {
    let mut lx = Lexer { text, bytes: text.as_bytes(), pos: 0, out: Vec::new() };
    lx.run()?;
    Ok(lx.out)
}

struct Lexer<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    out: Vec<Token>,
}

fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}

fn is_ident_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

impl Lexer<'_> {
    fn peek(&self, off: usize) -> Option<u8> {
        self.bytes.get(self.pos.saturating_add(off)).copied()
    }

    fn push(&mut self, tok: Tok, start: usize) {
        self.out.push(Token { tok, span: Span::new(start, self.pos) });
    }

    fn run(&mut self) -> Result<(), QueryError> {
        while let Some(b) = self.peek(0) {
            let start = self.pos;
            if b.is_ascii_whitespace() {
                self.pos += 1;
            } else if b == b'/' && self.peek(1) == Some(b'/') {
                while let Some(c) = self.peek(0) {
                    if c == b'\n' {
                        break;
                    }
                    self.pos += 1;
                }
            } else if b == b'"' || b == b'\'' {
                let s = self.quoted(b, false)?;
                self.push(Tok::Str(s), start);
            } else if (b == b'@' || b == b'h' || b == b'H')
                && matches!(self.peek(1), Some(b'"') | Some(b'\''))
            {
                let q = self.peek(1).unwrap_or(b'"');
                self.pos += 1;
                let s = self.quoted(q, b == b'@')?;
                self.push(Tok::Str(s), start);
            } else if (b == b'h' || b == b'H')
                && self.peek(1) == Some(b'@')
                && matches!(self.peek(2), Some(b'"') | Some(b'\''))
            {
                let q = self.peek(2).unwrap_or(b'"');
                self.pos += 2;
                let s = self.quoted(q, true)?;
                self.push(Tok::Str(s), start);
            } else if b.is_ascii_digit()
                || (b == b'.'
                    && self.peek(1).is_some_and(|c| c.is_ascii_digit())
                    && !self.after_value())
            {
                self.number()?;
            } else if is_ident_start(b) || (b == b'$' && self.peek(1).is_some_and(is_ident_start)) {
                self.ident()?;
            } else if b == b'!' && self.peek(1).is_some_and(|c| c.is_ascii_alphabetic()) {
                self.pos += 1;
                let word = self.word().to_string();
                if NEGATABLE.contains(&word.to_ascii_lowercase().as_str()) {
                    let mut name = format!("!{word}");
                    if word == "in" && self.peek(0) == Some(b'~') {
                        self.pos += 1;
                        name.push('~');
                    }
                    self.push(Tok::Ident(name), start);
                } else {
                    return Err(QueryError::new(
                        Code::UnexpectedCharacter,
                        Span::new(start, self.pos),
                        format!("unknown operator !{word}"),
                    ));
                }
            } else if let Some(sym) = SYMBOLS
                .iter()
                .find(|s| self.bytes.get(self.pos..).is_some_and(|r| r.starts_with(s.as_bytes())))
            {
                self.pos += sym.len();
                self.push(Tok::Sym(sym), start);
            } else {
                let ch = self.text.get(self.pos..).and_then(|r| r.chars().next()).unwrap_or('?');
                return Err(QueryError::new(
                    Code::UnexpectedCharacter,
                    Span::new(start, start + ch.len_utf8()),
                    format!("unexpected character {ch:?}"),
                ));
            }
        }
        let end = self.text.len();
        self.out.push(Token { tok: Tok::Eof, span: Span::new(end, end) });
        Ok(())
    }

    /// Whether the previous token ends a value (so `.5` after it is a member access, not a number).
    fn after_value(&self) -> bool {
        matches!(
            self.out.last().map(|t| &t.tok),
            Some(Tok::Ident(_)) | Some(Tok::Sym(")")) | Some(Tok::Sym("]"))
        ) && self.out.last().is_some_and(|t| t.span.end == self.pos)
    }

    fn word(&mut self) -> &str {
        let start = self.pos;
        while self.peek(0).is_some_and(is_ident_char) {
            self.pos += 1;
        }
        self.text.get(start..self.pos).unwrap_or("")
    }

    fn ident(&mut self) -> Result<(), QueryError> {
        let start = self.pos;
        if self.peek(0) == Some(b'$') {
            self.pos += 1;
        }
        self.word();
        let mut name = self.text.get(start..self.pos).unwrap_or("").to_string();
        // Hyphenated operator names.
        if self.peek(0) == Some(b'-') && self.peek(1).is_some_and(is_ident_start) {
            let save = self.pos;
            self.pos += 1;
            let rest = self.word().to_string();
            let joined = format!("{name}-{rest}");
            if HYPHENATED.contains(&joined.as_str()) {
                name = joined;
            } else {
                self.pos = save;
            }
        }
        if name == "in" && self.peek(0) == Some(b'~') {
            self.pos += 1;
            name.push('~');
        }
        if name == "datetime" {
            // `datetime(...)`: keep the raw text between the parentheses.
            let mut p = self.pos;
            while self.bytes.get(p).is_some_and(|b| b.is_ascii_whitespace()) {
                p += 1;
            }
            if self.bytes.get(p) == Some(&b'(') {
                let inner_start = p + 1;
                let mut q = inner_start;
                let mut quote: Option<u8> = None;
                loop {
                    match self.bytes.get(q) {
                        None => {
                            return Err(QueryError::new(
                                Code::BadLiteral,
                                Span::new(start, self.text.len()),
                                "datetime( is not closed",
                            ));
                        }
                        Some(&c) if quote == Some(c) => quote = None,
                        Some(&c) if quote.is_none() && (c == b'"' || c == b'\'') => quote = Some(c),
                        Some(b')') if quote.is_none() => break,
                        Some(_) => {}
                    }
                    q += 1;
                }
                let raw = self.text.get(inner_start..q).unwrap_or("").trim().to_string();
                self.pos = q + 1;
                self.push(Tok::DateTime(raw), start);
                return Ok(());
            }
        }
        self.push(Tok::Ident(name), start);
        Ok(())
    }

    fn quoted(&mut self, q: u8, verbatim: bool) -> Result<String, QueryError> {
        let start = self.pos;
        self.pos += 1;
        let mut out = String::new();
        loop {
            let Some(rest) = self.text.get(self.pos..) else {
                return Err(self.unterminated(start));
            };
            let Some(c) = rest.chars().next() else {
                return Err(self.unterminated(start));
            };
            if c == '\n' && !verbatim {
                return Err(self.unterminated(start));
            }
            self.pos += c.len_utf8();
            if c as u32 == q as u32 {
                if verbatim && self.peek(0) == Some(q) {
                    self.pos += 1;
                    out.push(c);
                    continue;
                }
                return Ok(out);
            }
            if c == '\\' && !verbatim {
                let Some(e) = self.text.get(self.pos..).and_then(|r| r.chars().next()) else {
                    return Err(self.unterminated(start));
                };
                self.pos += e.len_utf8();
                match e {
                    'n' => out.push('\n'),
                    't' => out.push('\t'),
                    'r' => out.push('\r'),
                    '0' => out.push('\0'),
                    '\\' | '"' | '\'' => out.push(e),
                    'u' => {
                        let hex = self.text.get(self.pos..self.pos + 4).unwrap_or("");
                        let code = u32::from_str_radix(hex, 16).ok().and_then(char::from_u32);
                        match code {
                            Some(ch) if hex.len() == 4 => {
                                self.pos += 4;
                                out.push(ch);
                            }
                            _ => {
                                return Err(QueryError::new(
                                    Code::BadLiteral,
                                    Span::new(self.pos.saturating_sub(2), self.pos),
                                    "\\u must be followed by four hexadecimal digits",
                                ));
                            }
                        }
                    }
                    other => {
                        return Err(QueryError::new(
                            Code::BadLiteral,
                            Span::new(self.pos - 1 - other.len_utf8(), self.pos),
                            format!("unknown escape \\{other} in a string"),
                        )
                        .with_hint("use \\\\ for a backslash, or a verbatim string @\"...\""));
                    }
                }
            } else {
                out.push(c);
            }
        }
    }

    fn unterminated(&self, start: usize) -> QueryError {
        let line_end = self
            .text
            .get(start..)
            .and_then(|r| r.find('\n'))
            .map_or(self.text.len(), |i| start + i);
        QueryError::new(
            Code::UnterminatedString,
            Span::new(start, line_end),
            "unterminated string literal",
        )
        .with_hint("close the string with the quote it starts with")
    }

    fn number(&mut self) -> Result<(), QueryError> {
        let start = self.pos;
        if self.peek(0) == Some(b'0') && matches!(self.peek(1), Some(b'x') | Some(b'X')) {
            self.pos += 2;
            let ds = self.pos;
            while self.peek(0).is_some_and(|c| c.is_ascii_hexdigit()) {
                self.pos += 1;
            }
            let digits = self.text.get(ds..self.pos).unwrap_or("");
            let v = i64::from_str_radix(digits, 16).map_err(|_| {
                QueryError::new(
                    Code::BadLiteral,
                    Span::new(start, self.pos),
                    "invalid hexadecimal number",
                )
            })?;
            self.push(Tok::Long(v), start);
            return Ok(());
        }
        let mut real = false;
        while self.peek(0).is_some_and(|c| c.is_ascii_digit()) {
            self.pos += 1;
        }
        if self.peek(0) == Some(b'.') && self.peek(1).is_some_and(|c| c.is_ascii_digit()) {
            real = true;
            self.pos += 1;
            while self.peek(0).is_some_and(|c| c.is_ascii_digit()) {
                self.pos += 1;
            }
        }
        if matches!(self.peek(0), Some(b'e') | Some(b'E'))
            && (self.peek(1).is_some_and(|c| c.is_ascii_digit())
                || (matches!(self.peek(1), Some(b'+') | Some(b'-'))
                    && self.peek(2).is_some_and(|c| c.is_ascii_digit())))
        {
            real = true;
            self.pos += 2;
            while self.peek(0).is_some_and(|c| c.is_ascii_digit()) {
                self.pos += 1;
            }
        }
        let num_text = self.text.get(start..self.pos).unwrap_or("").to_string();
        if self.peek(0).is_some_and(is_ident_start) {
            let unit_start = self.pos;
            let unit = self.word().to_string();
            let Some(per) = unit_micros(&unit) else {
                return Err(QueryError::new(
                    Code::BadLiteral,
                    Span::new(start, self.pos),
                    format!("{num_text}{unit} is not a number or a timespan"),
                )
                .with_hint(
                    "timespan units are d, h, m, s, ms, microsecond and tick (e.g. 5m, 1.5h)",
                ));
            };
            let _ = unit_start;
            let n: f64 = num_text.parse().map_err(|_| {
                QueryError::new(Code::BadLiteral, Span::new(start, self.pos), "invalid number")
            })?;
            let micros = (n * per).round();
            if !micros.is_finite() || micros.abs() > 9.0e18 {
                return Err(QueryError::new(
                    Code::BadLiteral,
                    Span::new(start, self.pos),
                    "timespan out of range",
                ));
            }
            self.push(Tok::TimeSpan(micros as i64), start);
            return Ok(());
        }
        if real {
            let v: f64 = num_text.parse().map_err(|_| {
                QueryError::new(Code::BadLiteral, Span::new(start, self.pos), "invalid number")
            })?;
            self.push(Tok::Real(v), start);
        } else {
            match num_text.parse::<i64>() {
                Ok(v) => self.push(Tok::Long(v), start),
                Err(_) => {
                    return Err(QueryError::new(
                        Code::BadLiteral,
                        Span::new(start, self.pos),
                        format!("{num_text} does not fit in a long"),
                    ));
                }
            }
        }
        Ok(())
    }
}

/// Microseconds in one unit of a timespan literal.
pub fn unit_micros(unit: &str) -> Option<f64> {
    Some(match unit {
        "d" | "day" | "days" => 86_400e6,
        "h" | "hr" | "hrs" | "hour" | "hours" => 3_600e6,
        "m" | "min" | "minute" | "minutes" => 60e6,
        "s" | "sec" | "second" | "seconds" => 1e6,
        "ms" | "milli" | "millis" | "millisecond" | "milliseconds" => 1e3,
        "microsecond" | "microseconds" => 1.0,
        "tick" | "ticks" => 0.1,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<Tok> {
        lex(s).unwrap().into_iter().map(|t| t.tok).collect()
    }

    #[test]
    fn operators_and_hyphenated_names_are_single_tokens() {
        assert_eq!(
            toks("T | project-away a | where x !has \"b\" and y in~ (1) and z !in~ (2)"),
            vec![
                Tok::Ident("T".into()),
                Tok::Sym("|"),
                Tok::Ident("project-away".into()),
                Tok::Ident("a".into()),
                Tok::Sym("|"),
                Tok::Ident("where".into()),
                Tok::Ident("x".into()),
                Tok::Ident("!has".into()),
                Tok::Str("b".into()),
                Tok::Ident("and".into()),
                Tok::Ident("y".into()),
                Tok::Ident("in~".into()),
                Tok::Sym("("),
                Tok::Long(1),
                Tok::Sym(")"),
                Tok::Ident("and".into()),
                Tok::Ident("z".into()),
                Tok::Ident("!in~".into()),
                Tok::Sym("("),
                Tok::Long(2),
                Tok::Sym(")"),
                Tok::Eof
            ]
        );
        // A minus between names stays a minus.
        assert_eq!(toks("a-b")[1], Tok::Sym("-"));
    }

    #[test]
    fn literals() {
        assert_eq!(toks("1d")[0], Tok::TimeSpan(86_400_000_000));
        assert_eq!(toks("1.5h")[0], Tok::TimeSpan(5_400_000_000));
        assert_eq!(toks("30s")[0], Tok::TimeSpan(30_000_000));
        assert_eq!(toks("100ms")[0], Tok::TimeSpan(100_000));
        assert_eq!(toks("0x1F")[0], Tok::Long(31));
        assert_eq!(toks("2.5e1")[0], Tok::Real(25.0));
        assert_eq!(toks(r#""a\"b\\c\n""#)[0], Tok::Str("a\"b\\c\n".into()));
        assert_eq!(toks(r#"@"C:\x""y""#)[0], Tok::Str("C:\\x\"y".into()));
        assert_eq!(toks("'it''s'")[0], Tok::Str("it".into()));
        assert_eq!(toks("datetime(2024-03-01 10:00)")[0], Tok::DateTime("2024-03-01 10:00".into()));
        assert_eq!(toks("h'secret'")[0], Tok::Str("secret".into()));
        assert_eq!(toks("$left.a")[0], Tok::Ident("$left".into()));
        assert_eq!(
            toks("d.x // comment\n"),
            vec![Tok::Ident("d".into()), Tok::Sym("."), Tok::Ident("x".into()), Tok::Eof]
        );
    }

    #[test]
    fn errors_have_positions() {
        let e = lex("T | where a == \"abc").unwrap_err();
        assert_eq!(e.code, Code::UnterminatedString);
        assert_eq!(e.span.start, 15);
        assert_eq!(lex("5parsecs").unwrap_err().code, Code::BadLiteral);
        assert_eq!(lex("a # b").unwrap_err().span.start, 2);
        assert_eq!(lex("a !foo b").unwrap_err().code, Code::UnexpectedCharacter);
        assert_eq!(lex("99999999999999999999").unwrap_err().code, Code::BadLiteral);
    }
}
