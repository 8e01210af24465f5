//! String matching with KQL's rules: case folding, `has` term boundaries, LIKE pattern escaping.
//!
//! Case-insensitive operators (`=~`, `has`, `contains`, `startswith`, …)
//! compare strings after [`fold`]: ASCII letters fold to lower case, other
//! characters fold by Unicode's simple lower-case mapping *unless* that
//! would give an ASCII character (the Kelvin sign does not equal `k`). So an
//! ASCII needle matches exactly where SQLite's ASCII-only `LIKE` matches,
//! which lets those operators run in SQL with the same answers.
//!
//! `has` matches whole terms: a term is a maximal run of letters and digits
//! (Unicode alphanumerics). `x has "t"` is true when `t` occurs in `x` (case
//! folded) with no letter or digit right before or right after the
//! occurrence (the check applies only on the sides where `t` itself starts
//! or ends with a letter or digit). `hasprefix` checks the start only,
//! `hassuffix` the end only.

/// Folds one character (see the module documentation).
pub fn fold_char(c: char) -> char {
    if c.is_ascii() {
        return c.to_ascii_lowercase();
    }
    let mut l = c.to_lowercase();
    match (l.next(), l.next()) {
        (Some(x), None) if !x.is_ascii() => x,
        _ => c,
    }
}

/// Folds a string (same number of characters).
pub fn fold(s: &str) -> String {
    if s.is_ascii() { s.to_ascii_lowercase() } else { s.chars().map(fold_char).collect() }
}

fn is_term_char(c: char) -> bool {
    c.is_alphanumeric()
}

/// Where a whole-term match must hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TermMode {
    /// Both ends (`has`).
    Whole,
    /// Start only (`hasprefix`).
    Prefix,
    /// End only (`hassuffix`).
    Suffix,
}

/// Whether `needle` occurs in `hay` on term boundaries. Both are compared as given
/// (fold them first for the case-insensitive forms).
pub fn has_term(hay: &str, needle: &str, mode: TermMode) -> bool {
    if needle.is_empty() {
        return true;
    }
    let check_start = mode != TermMode::Suffix && needle.chars().next().is_some_and(is_term_char);
    let check_end =
        mode != TermMode::Prefix && needle.chars().next_back().is_some_and(is_term_char);
    let mut from = 0;
    while let Some(i) = hay.get(from..).and_then(|h| h.find(needle)) {
        let start = from + i;
        let end = start + needle.len();
        let before_ok = !check_start
            || hay
                .get(..start)
                .and_then(|s| s.chars().next_back())
                .is_none_or(|c| !is_term_char(c));
        let after_ok = !check_end
            || hay.get(end..).and_then(|s| s.chars().next()).is_none_or(|c| !is_term_char(c));
        if before_ok && after_ok {
            return true;
        }
        // Continue after the first character of this occurrence.
        from = start + hay.get(start..).and_then(|s| s.chars().next()).map_or(1, char::len_utf8);
    }
    false
}

/// Escapes `%`, `_` and `\` for a LIKE pattern with `ESCAPE '\'`.
pub fn like_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn has_is_whole_term() {
        assert!(has_term("modbus write request", "write", TermMode::Whole));
        assert!(!has_term("rewrite coils", "write", TermMode::Whole));
        assert!(!has_term("writes", "write", TermMode::Whole));
        assert!(has_term("rewrite write", "write", TermMode::Whole));
        assert!(has_term("10.1.2.3:502", "10.1.2.3", TermMode::Whole));
        assert!(!has_term("110.1.2.3", "10.1.2.3", TermMode::Whole));
        assert!(has_term("plc_stop now", "plc_stop", TermMode::Whole));
        assert!(has_term("writes", "write", TermMode::Prefix));
        assert!(!has_term("rewrite", "write", TermMode::Prefix));
        assert!(has_term("rewrite", "write", TermMode::Suffix));
        assert!(has_term("écrire écrit", "écrit", TermMode::Whole));
    }

    #[test]
    fn folding_never_maps_to_ascii_from_outside() {
        assert_eq!(fold("MODBUS"), "modbus");
        assert_eq!(fold("ÉCOLE"), "école");
        assert_eq!(fold("\u{212A}"), "\u{212A}"); // Kelvin sign stays
        assert_eq!(fold("İ"), "İ"); // would become two characters
        assert_eq!(like_escape("50%_a\\"), "50\\%\\_a\\\\");
    }
}
