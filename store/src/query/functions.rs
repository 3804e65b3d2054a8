//! Built-in functions and arithmetic.
//!
//! String functions accept strings and `@Level`; anything else (numbers,
//! missing properties) makes the result undefined. Positions and lengths
//! count characters. `ci` makes `Contains`, `StartsWith`, `EndsWith` and
//! `IndexOf` case-insensitive; ASCII text is compared without allocating.

use std::borrow::Cow;

use crate::EventView;

use super::ast::{ArithOp, Expr, Func};
use super::eval::{eval, Cx};
use super::json;
use super::value::{Num, Value};

/// Case-folds `s` for a case-insensitive search (borrowed when unchanged).
fn fold(s: &str) -> Cow<'_, str> {
    if s.chars().any(char::is_uppercase) {
        Cow::Owned(s.to_lowercase())
    } else {
        Cow::Borrowed(s)
    }
}

fn ascii_find_ci(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    hay.windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle))
}

/// Byte offset of `needle` in `hay`, optionally case-insensitively, plus
/// the haystack actually searched (folded when `ci` needed it).
fn find<'h>(hay: &'h str, needle: &str, ci: bool) -> (Option<usize>, Cow<'h, str>) {
    if !ci {
        return (hay.find(needle), Cow::Borrowed(hay));
    }
    if hay.is_ascii() && needle.is_ascii() {
        return (
            ascii_find_ci(hay.as_bytes(), needle.as_bytes()),
            Cow::Borrowed(hay),
        );
    }
    let (h, n) = (fold(hay), fold(needle));
    let at = h.find(&*n);
    (at, h)
}

/// Case-insensitive `contains` for a needle that is already lowercase.
pub(crate) fn contains_ci(hay: &str, needle_lower: &str) -> bool {
    find(hay, needle_lower, true).0.is_some()
}

fn starts(hay: &str, p: &str, ci: bool) -> bool {
    if !ci {
        return hay.starts_with(p);
    }
    if hay.is_ascii() && p.is_ascii() {
        return hay.len() >= p.len()
            && hay.as_bytes()[..p.len()].eq_ignore_ascii_case(p.as_bytes());
    }
    fold(hay).starts_with(&*fold(p))
}

fn ends(hay: &str, p: &str, ci: bool) -> bool {
    if !ci {
        return hay.ends_with(p);
    }
    if hay.is_ascii() && p.is_ascii() {
        return hay.len() >= p.len()
            && hay.as_bytes()[hay.len() - p.len()..].eq_ignore_ascii_case(p.as_bytes());
    }
    fold(hay).ends_with(&*fold(p))
}

fn int(i: usize) -> Value<'static> {
    Value::Num(Num::Int(i as i128))
}

fn as_int(v: &Value<'_>) -> Option<i128> {
    match v {
        Value::Num(n) => match n.normalized() {
            Num::Int(i) => Some(i),
            Num::Float(_) => None,
        },
        _ => None,
    }
}

/// Evaluates a call; arguments are evaluated as needed.
pub(crate) fn call<'a, E: EventView + ?Sized>(
    func: Func,
    args: &'a [Expr],
    ci: bool,
    ev: Option<&'a E>,
    cx: Cx<'a>,
) -> Value<'a> {
    let arg = |i: usize| args.get(i).map_or(Value::Missing, |a| eval(a, ev, cx));
    match func {
        Func::Has => Value::Bool(!arg(0).is_nullish()),
        Func::Now => Value::Num(Num::Int(cx.now as i128)),
        Func::Coalesce => {
            for a in args {
                let v = eval(a, ev, cx);
                if !v.is_nullish() {
                    return v;
                }
            }
            Value::Null
        }
        Func::Length => match arg(0) {
            Value::Json(raw) => json::elements(raw).map_or(Value::Missing, |e| int(e.count())),
            v => v
                .as_text()
                .map_or(Value::Missing, |t| int(t.chars().count())),
        },
        Func::ToLower | Func::ToUpper => {
            let v = arg(0);
            match v.as_text() {
                Some(t) if func == Func::ToLower => Value::Str(Cow::Owned(t.to_lowercase())),
                Some(t) => Value::Str(Cow::Owned(t.to_uppercase())),
                None => Value::Missing,
            }
        }
        Func::Substring => {
            let (s, start) = (arg(0), arg(1));
            let len = if args.len() > 2 {
                as_int(&arg(2))
            } else {
                Some(i128::MAX)
            };
            match (s.as_text(), as_int(&start), len) {
                (Some(t), Some(st), Some(len)) if st >= 0 && len >= 0 => {
                    let st = usize::try_from(st).unwrap_or(usize::MAX);
                    let len = usize::try_from(len).unwrap_or(usize::MAX);
                    Value::Str(Cow::Owned(t.chars().skip(st).take(len).collect()))
                }
                _ => Value::Missing,
            }
        }
        Func::Contains | Func::StartsWith | Func::EndsWith | Func::IndexOf => {
            let (a, b) = (arg(0), arg(1));
            let (Some(hay), Some(needle)) = (a.as_text(), b.as_text()) else {
                return Value::Missing;
            };
            match func {
                Func::Contains => Value::Bool(find(hay, needle, ci).0.is_some()),
                Func::StartsWith => Value::Bool(starts(hay, needle, ci)),
                Func::EndsWith => Value::Bool(ends(hay, needle, ci)),
                _ => match find(hay, needle, ci) {
                    (Some(at), searched) => int(searched[..at].chars().count()),
                    (None, _) => Value::Num(Num::Int(-1)),
                },
            }
        }
    }
}

fn int_op(op: ArithOp, a: i128, b: i128) -> Option<Num> {
    match op {
        ArithOp::Add => a.checked_add(b).map(Num::Int),
        ArithOp::Sub => a.checked_sub(b).map(Num::Int),
        ArithOp::Mul => a.checked_mul(b).map(Num::Int),
        ArithOp::Div if b == 0 => None,
        ArithOp::Div => match a.checked_rem(b) {
            Some(0) => a.checked_div(b).map(Num::Int),
            _ => Some(Num::Float(a as f64 / b as f64)),
        },
        ArithOp::Rem if b == 0 => None,
        ArithOp::Rem => a.checked_rem(b).map(Num::Int),
    }
}

fn float_op(op: ArithOp, a: f64, b: f64) -> Option<Num> {
    let r = match op {
        ArithOp::Add => a + b,
        ArithOp::Sub => a - b,
        ArithOp::Mul => a * b,
        ArithOp::Div => a / b,
        ArithOp::Rem => a % b,
    };
    r.is_finite().then_some(Num::Float(r))
}

/// `a op b`: numbers (exact for integers, falling back to floating point on
/// overflow), or `+` joining two strings; anything else is undefined.
pub(crate) fn arith<'a>(op: ArithOp, a: Value<'a>, b: Value<'a>) -> Value<'a> {
    match (&a, &b) {
        (Value::Num(x), Value::Num(y)) => {
            let exact = match (x, y) {
                (Num::Int(x), Num::Int(y)) => int_op(op, *x, *y),
                _ => None,
            };
            exact
                .or_else(|| float_op(op, x.as_f64(), y.as_f64()))
                .map_or(Value::Missing, Value::Num)
        }
        _ => match (op, a.as_text(), b.as_text()) {
            (ArithOp::Add, Some(x), Some(y)) => Value::Str(Cow::Owned(format!("{x}{y}"))),
            _ => Value::Missing,
        },
    }
}
