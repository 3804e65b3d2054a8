//! [`Filter::block_needs`]: what a block must hold for a filter to match
//! one of its events, as a [`Need`] over block summaries.
//!
//! Only conditions that are *true* for a match give needs: `and` needs
//! all its parts, `or` one of them; `not` and anything the summaries cannot
//! judge need nothing. Judged:
//!
//! - a comparison of a top-level property with a constant (any operator,
//!   `ci` or not) needs the property to be present (a missing one makes it
//!   undefined); `= 'text'` needs the text's tokens, `= 5` the number's key
//!   and a range holding 5, `>= 500` (and the other orders) a range;
//! - `@MessageTemplate`, `@Exception`, `@TraceId`, `@SpanId` and `@Message`
//!   `= 'text'` need the text's tokens;
//! - `like` needs the tokens of its literal runs (whole where the pattern
//!   bounds them, a prefix where a wildcard cuts their end);
//!   `Contains`, `StartsWith`, `EndsWith` likewise;
//! - `in [...]` needs one of its equalities; `Has(P)`, `P is not null`,
//!   `P not like`/`not in` the presence of `P`; `false` needs what no block
//!   holds;
//! - free text needs the tokens of the text as found inside the message.

use super::ast::{Builtin, CmpOp, Expr, Func, Root};
use super::eval::eval_const;
use super::filter::{EvalContext, Filter};
use super::like::LikePattern;
use super::value::Value;
use crate::summary::need::Need;
use crate::summary::tokens::{number_key, text_need, Placement};

impl Filter {
    /// What a block must hold for this filter to match one of its events
    /// (`Now()` read from `ctx`).
    pub(crate) fn block_needs(&self, ctx: &EvalContext) -> Need {
        if let Some(text) = self.free_text() {
            return text_need(text, Placement::INSIDE);
        }
        match self.expr() {
            Some(e) => needs(e, ctx.now.0),
            None => Need::Anything,
        }
    }
}

/// A field whose text the summaries tokenize.
enum Field<'a> {
    /// A top-level property, by name.
    Property(&'a str),
    /// A built-in text field (`@Message`, `@MessageTemplate`, ...).
    Text,
}

fn field(e: &Expr) -> Option<Field<'_>> {
    match e {
        Expr::Path {
            root: Root::Property(name),
            segs,
            ..
        } if segs.is_empty() => Some(Field::Property(name)),
        Expr::Builtin(
            Builtin::Message
            | Builtin::MessageTemplate
            | Builtin::Exception
            | Builtin::TraceId
            | Builtin::SpanId,
        ) => Some(Field::Text),
        _ => None,
    }
}

/// The presence of `e`'s property, when `e` is a top-level property.
fn presence(e: &Expr) -> Need {
    match field(e) {
        Some(Field::Property(name)) => Need::Property(name.into()),
        _ => Need::Anything,
    }
}

fn needs(e: &Expr, now: i64) -> Need {
    match e {
        Expr::And(v) => Need::all(v.iter().map(|c| needs(c, now)).collect()),
        Expr::Or(v) => Need::any_of(v.iter().map(|c| needs(c, now)).collect()),
        Expr::Bool(false) => Need::any_of(Vec::new()),
        Expr::Cmp { op, l, r, .. } => compared(*op, l, r, now),
        Expr::Like {
            expr,
            pattern,
            negated: false,
            ..
        } => like(expr, pattern),
        Expr::In {
            expr,
            list,
            negated: false,
            ..
        } => Need::any_of(
            list.iter()
                .map(|item| compared(CmpOp::Eq, expr, item, now))
                .collect(),
        ),
        Expr::Like { expr, .. }
        | Expr::In { expr, .. }
        | Expr::IsNull {
            expr,
            negated: true,
        } => presence(expr),
        Expr::Call { func, args, .. } => called(*func, args, now),
        _ => Need::Anything,
    }
}

/// `l op r`, where one side may be a field and the other a constant.
fn compared(op: CmpOp, l: &Expr, r: &Expr, now: i64) -> Need {
    let (op, f, c) = match (l.is_constant(), r.is_constant()) {
        (false, true) => (op, l, r),
        (true, false) => (op.flipped(), r, l),
        _ => return Need::Anything,
    };
    let Some(field) = field(f) else {
        return Need::Anything;
    };
    let value = eval_const(c, now);
    let on_value = match (&value, op, &field) {
        (Value::Str(s), CmpOp::Eq, _) => text_need(s, Placement::EQUAL),
        (Value::Num(n), _, Field::Property(name)) => {
            let range = Need::Number {
                name: (*name).into(),
                op,
                value: *n,
            };
            match (op, number_key(*n)) {
                (CmpOp::Eq, Some(key)) => Need::all(vec![range, Need::Key(key)]),
                _ => range,
            }
        }
        _ => Need::Anything,
    };
    Need::all(vec![presence(f), on_value])
}

/// `expr like pattern`.
fn like(expr: &Expr, pattern: &LikePattern) -> Need {
    if field(expr).is_none() {
        return Need::Anything;
    }
    let mut parts = vec![presence(expr)];
    for (anchored_start, run, anchored_end) in pattern.literal_runs() {
        let at = Placement {
            anchored_start,
            anchored_end,
        };
        parts.push(text_need(&run, at));
    }
    Need::all(parts)
}

/// A predicate function call.
fn called(func: Func, args: &[Expr], now: i64) -> Need {
    let at = match func {
        Func::Has => return args.first().map_or(Need::Anything, presence),
        Func::Contains => Placement::INSIDE,
        Func::StartsWith => Placement {
            anchored_start: true,
            anchored_end: false,
        },
        Func::EndsWith => Placement {
            anchored_start: false,
            anchored_end: true,
        },
        _ => return Need::Anything,
    };
    let [hay, needle] = args else {
        return Need::Anything;
    };
    if field(hay).is_none() {
        return Need::Anything;
    }
    let text = match needle.is_constant().then(|| eval_const(needle, now)) {
        Some(Value::Str(s)) => text_need(&s, at),
        _ => Need::Anything,
    };
    Need::all(vec![presence(hay), text])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::summary::need::Need as N;
    use crate::Timestamp;

    fn needs_of(text: &str) -> Need {
        Filter::parse(text)
            .unwrap()
            .block_needs(&EvalContext::new(Timestamp(0)))
    }

    fn p(name: &str) -> Need {
        N::Property(name.into())
    }

    #[test]
    fn what_filters_need() {
        assert_eq!(needs_of(""), N::Anything);
        assert_eq!(needs_of("not (A = 'x')"), N::Anything);
        assert_eq!(needs_of("A[?] = 'x'"), N::Anything);
        assert_eq!(needs_of("Has(A)"), p("A"));
        assert_eq!(needs_of("A is not null"), p("A"));
        assert_eq!(needs_of("A is null"), N::Anything);
        assert_eq!(needs_of("A <> 'x'"), p("A"));
        assert_eq!(
            needs_of("A = 'x' ci"),
            N::all(vec![p("A"), text_need("x", Placement::EQUAL)])
        );
        assert_eq!(needs_of("'x' = @TraceId"), text_need("x", Placement::EQUAL));
        assert_eq!(
            needs_of("500 <= StatusCode"),
            N::all(vec![
                p("StatusCode"),
                N::Number {
                    name: "StatusCode".into(),
                    op: CmpOp::Ge,
                    value: crate::query::Num::Int(500)
                }
            ])
        );
        let eq5 = needs_of("N = 5");
        assert!(matches!(&eq5, N::All(v) if v.len() == 3), "{eq5:?}");
        assert_eq!(needs_of("N = -5"), {
            let n = crate::query::Num::Int(-5);
            N::all(vec![
                p("N"),
                N::Number {
                    name: "N".into(),
                    op: CmpOp::Eq,
                    value: n,
                },
                N::Key(number_key(n).unwrap()),
            ])
        });
        assert!(matches!(needs_of("A = 1 or B = 2"), N::AnyOf(v) if v.len() == 2));
        assert_eq!(needs_of("A = 1 or true"), N::Anything);
        assert_eq!(needs_of("@Level = 'Error' and false"), N::AnyOf(vec![]));
        assert_eq!(needs_of("A in []"), N::AnyOf(vec![]));
        assert_eq!(
            needs_of("A like '%ORD-1234562%'"),
            N::all(vec![p("A"), text_need("ORD-1234562", Placement::INSIDE)])
        );
        assert_eq!(
            needs_of("StartsWith(A, 'ORD-12')"),
            needs_of("A like 'ORD-12%'")
        );
        assert_eq!(needs_of("Contains('x', A)"), N::Anything);
        assert_eq!(
            needs_of("ORD-1234562"),
            text_need("ord-1234562", Placement::INSIDE)
        );
    }
}
