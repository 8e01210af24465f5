//! The scalar evaluator: one bound expression on one row, with KQL's null and case rules.
//!
//! Comparisons with null give null, and a filter keeps a row only when its
//! predicate is `true`, so `!=` drops rows where the column is null.
//! `and`/`or` use three-valued logic (`null and false` is false, `null or
//! true` is true).

use std::cmp::Ordering;
use std::collections::HashSet;

use serde_json::Value as Json;

use crate::ast::{BinOp, StrOp};
use crate::func::{self, Ctx};
use crate::plan::{BExpr, InList, Needle};
use crate::text::{TermMode, fold, has_term};
use crate::value::{Key, Value, compare};

/// The rows of an `in (subquery)`, as a set.
#[derive(Debug, Default)]
pub struct SubSet {
    /// Keys of the values (case-sensitive).
    pub keys: HashSet<Key>,
    /// Case-folded strings (for `in~`).
    pub folded: HashSet<String>,
}

impl SubSet {
    /// Builds the set from the first column's values.
    pub fn new(values: impl Iterator<Item = Value>) -> SubSet {
        let mut s = SubSet::default();
        for v in values {
            if v.is_null() {
                continue;
            }
            let u = v.undynamic();
            s.folded.insert(fold(&u.to_kql_string()));
            s.keys.insert(u.key());
        }
        s
    }
}

/// What evaluation needs besides the row.
pub struct EvalCx<'a> {
    /// Function context ("now").
    pub f: Ctx,
    /// Results of the query's subqueries.
    pub subs: &'a [SubSet],
}

impl EvalCx<'static> {
    /// A context for folding constants.
    pub fn constant(now: i64) -> EvalCx<'static> {
        EvalCx { f: Ctx { now }, subs: &[] }
    }
}

/// Whether a predicate is true on a row.
pub fn truthy(e: &BExpr, row: &[Value], cx: &EvalCx<'_>) -> bool {
    eval(e, row, cx).as_bool() == Some(true)
}

/// Evaluates an expression on a row.
pub fn eval(e: &BExpr, row: &[Value], cx: &EvalCx<'_>) -> Value {
    match e {
        BExpr::Lit(v) => v.clone(),
        BExpr::Col(i) => row.get(*i).cloned().unwrap_or(Value::Null),
        BExpr::Call(f, args) => {
            let vals: Vec<Value> = args.iter().map(|a| eval(a, row, cx)).collect();
            func::eval(*f, &vals, &cx.f)
        }
        BExpr::Neg(a) => match eval(a, row, cx).undynamic() {
            Value::Long(n) => Value::Long(n.wrapping_neg()),
            Value::Real(r) => Value::Real(-r),
            Value::TimeSpan(t) => Value::TimeSpan(t.wrapping_neg()),
            _ => Value::Null,
        },
        BExpr::Bin(op, a, b) => match op {
            BinOp::And => {
                let x = eval(a, row, cx).as_bool();
                if x == Some(false) {
                    return Value::Bool(false);
                }
                let y = eval(b, row, cx).as_bool();
                match (x, y) {
                    (_, Some(false)) => Value::Bool(false),
                    (Some(true), Some(true)) => Value::Bool(true),
                    _ => Value::Null,
                }
            }
            BinOp::Or => {
                let x = eval(a, row, cx).as_bool();
                if x == Some(true) {
                    return Value::Bool(true);
                }
                let y = eval(b, row, cx).as_bool();
                match (x, y) {
                    (_, Some(true)) => Value::Bool(true),
                    (Some(false), Some(false)) => Value::Bool(false),
                    _ => Value::Null,
                }
            }
            _ => binary(*op, &eval(a, row, cx), &eval(b, row, cx)),
        },
        BExpr::StrConst { op, negated, expr, needle } => {
            let v = eval(expr, row, cx);
            let hay = v.to_kql_string();
            let r = str_match(*op, &hay, needle);
            Value::Bool(r != *negated)
        }
        BExpr::In { expr, list, negated, ci } => {
            let x = eval(expr, row, cx);
            if x.is_null() {
                return Value::Null;
            }
            let found = match list {
                InList::Exprs(items) => {
                    let x = x.undynamic();
                    if *ci {
                        let fx = fold(&x.to_kql_string());
                        items.iter().any(|it| fold(&eval(it, row, cx).to_kql_string()) == fx)
                    } else {
                        items.iter().any(|it| {
                            let y = eval(it, row, cx);
                            !y.is_null() && compare(&x, &y.undynamic()) == Some(Ordering::Equal)
                        })
                    }
                }
                InList::Sub(i) => match cx.subs.get(*i) {
                    Some(set) => {
                        let u = x.undynamic();
                        if *ci {
                            set.folded.contains(&fold(&u.to_kql_string()))
                        } else {
                            set.keys.contains(&u.key())
                        }
                    }
                    None => false,
                },
            };
            Value::Bool(found != *negated)
        }
        BExpr::Between { expr, lo, hi, negated } => {
            let x = eval(expr, row, cx);
            let (l, h) = (eval(lo, row, cx), eval(hi, row, cx));
            if x.is_null() || l.is_null() || h.is_null() {
                return Value::Null;
            }
            match (compare(&x, &l), compare(&x, &h)) {
                (Some(a), Some(b)) => {
                    Value::Bool((a != Ordering::Less && b != Ordering::Greater) != *negated)
                }
                _ => Value::Null,
            }
        }
        BExpr::Member(a, name) => match eval(a, row, cx) {
            Value::Dynamic(j) => match &*j {
                Json::Object(m) => m.get(name).cloned().map_or(Value::Null, Value::dynamic),
                _ => Value::Null,
            },
            _ => Value::Null,
        },
        BExpr::Index(a, i) => {
            let base = eval(a, row, cx);
            let idx = eval(i, row, cx).undynamic();
            match (base, idx) {
                (Value::Dynamic(j), Value::Long(n)) => match &*j {
                    Json::Array(v) => {
                        let len = v.len() as i64;
                        let k = if n < 0 { len + n } else { n };
                        usize::try_from(k)
                            .ok()
                            .and_then(|k| v.get(k))
                            .cloned()
                            .map_or(Value::Null, Value::dynamic)
                    }
                    _ => Value::Null,
                },
                (Value::Dynamic(j), Value::Str(k)) => match &*j {
                    Json::Object(m) => m.get(&*k).cloned().map_or(Value::Null, Value::dynamic),
                    _ => Value::Null,
                },
                _ => Value::Null,
            }
        }
    }
}

fn str_match(op: StrOp, hay: &str, needle: &Needle) -> bool {
    match needle {
        Needle::Regex(re) => re.is_match(hay),
        Needle::List(items) => {
            let f = fold(hay);
            match op {
                StrOp::HasAll => items.iter().all(|n| has_term(&f, n, TermMode::Whole)),
                _ => items.iter().any(|n| has_term(&f, n, TermMode::Whole)),
            }
        }
        Needle::Text(n) => text_op(op, hay, n),
    }
}

/// A string operator with a needle already folded for the case-insensitive forms.
fn text_op(op: StrOp, hay: &str, n: &str) -> bool {
    match op {
        StrOp::Has => has_term(&fold(hay), n, TermMode::Whole),
        StrOp::HasCs => has_term(hay, n, TermMode::Whole),
        StrOp::HasPrefix => has_term(&fold(hay), n, TermMode::Prefix),
        StrOp::HasPrefixCs => has_term(hay, n, TermMode::Prefix),
        StrOp::HasSuffix => has_term(&fold(hay), n, TermMode::Suffix),
        StrOp::HasSuffixCs => has_term(hay, n, TermMode::Suffix),
        StrOp::Contains => fold(hay).contains(n),
        StrOp::ContainsCs => hay.contains(n),
        StrOp::StartsWith => fold(hay).starts_with(n),
        StrOp::StartsWithCs => hay.starts_with(n),
        StrOp::EndsWith => fold(hay).ends_with(n),
        StrOp::EndsWithCs => hay.ends_with(n),
        StrOp::Matches => regex::Regex::new(n).is_ok_and(|re| re.is_match(hay)),
        StrOp::HasAny | StrOp::HasAll => has_term(&fold(hay), n, TermMode::Whole),
    }
}

fn ci_op(op: StrOp) -> bool {
    matches!(
        op,
        StrOp::Has
            | StrOp::HasPrefix
            | StrOp::HasSuffix
            | StrOp::Contains
            | StrOp::StartsWith
            | StrOp::EndsWith
            | StrOp::HasAny
            | StrOp::HasAll
    )
}

/// A binary operator other than and/or.
pub fn binary(op: BinOp, a: &Value, b: &Value) -> Value {
    if let BinOp::Str(sop, neg) = op {
        let hay = a.to_kql_string();
        let n = b.to_kql_string();
        let n = if ci_op(sop) { fold(&n) } else { n };
        return Value::Bool(text_op(sop, &hay, &n) != neg);
    }
    if a.is_null() || b.is_null() {
        return Value::Null;
    }
    match op {
        BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
            let o = compare(a, b);
            let r = match (op, o) {
                (BinOp::Eq, o) => o == Some(Ordering::Equal),
                (BinOp::Ne, o) => o != Some(Ordering::Equal),
                (_, None) => return Value::Null,
                (BinOp::Lt, Some(o)) => o == Ordering::Less,
                (BinOp::Le, Some(o)) => o != Ordering::Greater,
                (BinOp::Gt, Some(o)) => o == Ordering::Greater,
                (_, Some(o)) => o != Ordering::Less,
            };
            Value::Bool(r)
        }
        BinOp::EqCi | BinOp::NeCi => {
            let eq = fold(&a.to_kql_string()) == fold(&b.to_kql_string());
            Value::Bool(eq == (op == BinOp::EqCi))
        }
        _ => arith(op, &a.undynamic(), &b.undynamic()),
    }
}

fn arith(op: BinOp, a: &Value, b: &Value) -> Value {
    use Value::*;
    match (a, b) {
        (Long(x), Long(y)) => match op {
            BinOp::Add => Long(x.wrapping_add(*y)),
            BinOp::Sub => Long(x.wrapping_sub(*y)),
            BinOp::Mul => Long(x.wrapping_mul(*y)),
            BinOp::Div => x.checked_div(*y).map_or(Null, Long),
            BinOp::Mod => x.checked_rem(*y).map_or(Null, Long),
            _ => Null,
        },
        (DateTime(x), TimeSpan(y)) => match op {
            BinOp::Add => DateTime(x.saturating_add(*y)),
            BinOp::Sub => DateTime(x.saturating_sub(*y)),
            _ => Null,
        },
        (TimeSpan(x), DateTime(y)) if op == BinOp::Add => DateTime(y.saturating_add(*x)),
        (DateTime(x), DateTime(y)) if op == BinOp::Sub => TimeSpan(x.saturating_sub(*y)),
        (TimeSpan(x), TimeSpan(y)) => match op {
            BinOp::Add => TimeSpan(x.saturating_add(*y)),
            BinOp::Sub => TimeSpan(x.saturating_sub(*y)),
            BinOp::Div => {
                if *y == 0 {
                    Null
                } else {
                    Real(*x as f64 / *y as f64)
                }
            }
            BinOp::Mod => x.checked_rem(*y).map_or(Null, TimeSpan),
            _ => Null,
        },
        (TimeSpan(x), n) | (n, TimeSpan(x))
            if matches!(op, BinOp::Mul) && matches!(n, Long(_) | Real(_)) =>
        {
            n.to_real().map_or(Null, |f| TimeSpan((*x as f64 * f).round() as i64))
        }
        (TimeSpan(x), n) if op == BinOp::Div && matches!(n, Long(_) | Real(_)) => match n.to_real()
        {
            Some(f) if f != 0.0 => TimeSpan((*x as f64 / f).round() as i64),
            _ => Null,
        },
        (x, y) => match (x, y) {
            (Long(_) | Real(_), Long(_) | Real(_)) => {
                let (Some(p), Some(q)) = (x.to_real(), y.to_real()) else { return Null };
                Real(match op {
                    BinOp::Add => p + q,
                    BinOp::Sub => p - q,
                    BinOp::Mul => p * q,
                    BinOp::Div => p / q,
                    BinOp::Mod => p % q,
                    _ => return Null,
                })
            }
            _ => Null,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn null_logic() {
        let cx = EvalCx::constant(0);
        let null = BExpr::Lit(Value::Null);
        let t = BExpr::Lit(Value::Bool(true));
        let f = BExpr::Lit(Value::Bool(false));
        let and = |a: &BExpr, b: &BExpr| {
            eval(&BExpr::Bin(BinOp::And, Box::new(a.clone()), Box::new(b.clone())), &[], &cx)
        };
        let or = |a: &BExpr, b: &BExpr| {
            eval(&BExpr::Bin(BinOp::Or, Box::new(a.clone()), Box::new(b.clone())), &[], &cx)
        };
        assert_eq!(and(&null, &f), Value::Bool(false));
        assert_eq!(and(&null, &t), Value::Null);
        assert_eq!(or(&null, &t), Value::Bool(true));
        assert_eq!(or(&null, &f), Value::Null);
        assert_eq!(binary(BinOp::Ne, &Value::Null, &Value::Long(1)), Value::Null);
    }

    #[test]
    fn arithmetic() {
        assert_eq!(binary(BinOp::Div, &Value::Long(7), &Value::Long(2)), Value::Long(3));
        assert_eq!(binary(BinOp::Div, &Value::Long(-7), &Value::Long(2)), Value::Long(-3));
        assert_eq!(binary(BinOp::Div, &Value::Long(1), &Value::Long(0)), Value::Null);
        assert_eq!(
            binary(BinOp::Div, &Value::TimeSpan(90_000_000), &Value::TimeSpan(60_000_000)),
            Value::Real(1.5)
        );
        assert_eq!(
            binary(BinOp::Sub, &Value::DateTime(10), &Value::DateTime(4)),
            Value::TimeSpan(6)
        );
        assert_eq!(binary(BinOp::Mul, &Value::Long(2), &Value::TimeSpan(5)), Value::TimeSpan(10));
        assert_eq!(binary(BinOp::Add, &Value::Long(1), &Value::Real(0.5)), Value::Real(1.5));
    }

    #[test]
    fn case_rules() {
        assert_eq!(
            binary(BinOp::Eq, &Value::str("Modbus"), &Value::str("modbus")),
            Value::Bool(false)
        );
        assert_eq!(
            binary(BinOp::EqCi, &Value::str("Modbus"), &Value::str("MODBUS")),
            Value::Bool(true)
        );
        assert_eq!(
            binary(
                BinOp::Str(StrOp::Has, false),
                &Value::str("Modbus WRITE"),
                &Value::str("write")
            ),
            Value::Bool(true)
        );
        assert_eq!(
            binary(
                BinOp::Str(StrOp::HasCs, false),
                &Value::str("Modbus WRITE"),
                &Value::str("write")
            ),
            Value::Bool(false)
        );
        assert_eq!(
            binary(BinOp::Str(StrOp::Contains, true), &Value::str("rewrite"), &Value::str("WRITE")),
            Value::Bool(false)
        );
    }
}
