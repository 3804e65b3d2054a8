//! The evaluator: an [`Expr`] over one event, read through [`EventView`].
//!
//! Logic is three-valued as in Seq: a comparison that cannot be made is
//! *undefined* ([`Value::Missing`]); `not` keeps it undefined, `and` is false
//! if any side is false, `or` true if any side is true. Only `true` matches.
//! Values borrow from the event and the expression; recursion is bounded by
//! the parser's depth limit.

use std::borrow::Cow;

use crate::event::model::parse_event_type;
use crate::event::render_message;
use crate::EventView;

use super::ast::{Builtin, CmpOp, Expr, Root, Seg};
use super::functions::{arith, call};
use super::json;
use super::value::{compare, equals, Key, Num, Value};

/// An array element bound by a `[?]`/`[*]` quantifier.
pub(crate) struct Scope<'a> {
    pub depth: usize,
    pub raw: &'a str,
    pub parent: Option<&'a Scope<'a>>,
}

/// Everything an expression may read besides the event.
#[derive(Clone, Copy)]
pub(crate) struct Cx<'a> {
    /// `Now()` in nanoseconds.
    pub now: i64,
    pub scope: Option<&'a Scope<'a>>,
    /// A query row: (aggregate values, group keys).
    pub row: Option<(&'a [Key], &'a [Key])>,
}

impl Cx<'_> {
    /// A context with only a clock.
    pub(crate) fn at(now: i64) -> Cx<'static> {
        Cx {
            now,
            scope: None,
            row: None,
        }
    }
}

/// The rendered message used by `@Message` and free-text search.
/// Borrowed when the client sent `@m`; rendered from the template otherwise.
pub(crate) fn message<'a, E: EventView + ?Sized>(ev: &'a E) -> Option<Cow<'a, str>> {
    if let Some(m) = ev.message() {
        return Some(Cow::Borrowed(m));
    }
    ev.message_template()?;
    Some(Cow::Owned(render_message(ev)))
}

fn builtin<'a, E: EventView + ?Sized>(b: Builtin, ev: &'a E) -> Value<'a> {
    let text = |s: Option<&'a str>| s.map_or(Value::Missing, |s| Value::Str(Cow::Borrowed(s)));
    match b {
        Builtin::Timestamp => Value::Num(Num::Int(ev.timestamp().0 as i128)),
        Builtin::Level => Value::Level(ev.severity(), ev.level_display()),
        Builtin::Message => message(ev).map_or(Value::Missing, Value::Str),
        Builtin::MessageTemplate => text(ev.message_template()),
        Builtin::Exception => text(ev.exception()),
        Builtin::EventType => ev
            .reified_raw("@i")
            .and_then(parse_event_type)
            .map_or(Value::Missing, Value::EventType),
        Builtin::Id => ev.id().map_or(Value::Missing, Value::Id),
        Builtin::TraceId => text(ev.trace_id()),
        Builtin::SpanId => text(ev.span_id()),
    }
}

fn path<'a, E: EventView + ?Sized>(
    root: &Root,
    segs: &[Seg],
    ev: Option<&'a E>,
    cx: Cx<'a>,
) -> Value<'a> {
    let mut raw = match root {
        Root::Property(name) => match ev.and_then(|e| e.property_raw(name)) {
            Some(r) => r,
            None => return Value::Missing,
        },
        Root::Properties if segs.is_empty() && ev.is_some() => return Value::Props,
        Root::Properties => return Value::Missing,
        Root::Bound(d) => {
            let mut s = cx.scope;
            loop {
                match s {
                    Some(f) if f.depth == *d => break f.raw,
                    Some(f) => s = f.parent,
                    None => return Value::Missing,
                }
            }
        }
    };
    for seg in segs {
        let next = match seg {
            Seg::Name(n) => json::member(raw, n),
            Seg::Index(i) => json::element(raw, *i),
            Seg::Any | Seg::All => None,
        };
        match next {
            Some(r) => raw = r,
            None => return Value::Missing,
        }
    }
    Value::from_raw(raw)
}

fn truth(b: Option<bool>) -> Value<'static> {
    b.map_or(Value::Missing, Value::Bool)
}

/// Evaluates `x` against `ev` (absent for constants and query rows).
pub(crate) fn eval<'a, E: EventView + ?Sized>(
    x: &'a Expr,
    ev: Option<&'a E>,
    cx: Cx<'a>,
) -> Value<'a> {
    match x {
        Expr::Null => Value::Null,
        Expr::Bool(b) => Value::Bool(*b),
        Expr::Num(n) => Value::Num(*n),
        Expr::Str(s) => Value::Str(Cow::Borrowed(s)),
        Expr::Regex(r) => Value::Regex(r),
        Expr::Builtin(b) => ev.map_or(Value::Missing, |e| builtin(*b, e)),
        Expr::Path { root, segs, .. } => path(root, segs, ev, cx),
        Expr::Not(e) => match eval(e, ev, cx) {
            Value::Bool(b) => Value::Bool(!b),
            _ => Value::Missing,
        },
        Expr::Neg(e) => match eval(e, ev, cx) {
            Value::Num(Num::Int(i)) => i
                .checked_neg()
                .map_or(Value::Missing, |i| Value::Num(Num::Int(i))),
            Value::Num(Num::Float(f)) => Value::Num(Num::Float(-f)),
            _ => Value::Missing,
        },
        Expr::And(v) => {
            let mut undefined = false;
            for e in v {
                match eval(e, ev, cx) {
                    Value::Bool(false) => return Value::Bool(false),
                    Value::Bool(true) => {}
                    _ => undefined = true,
                }
            }
            if undefined {
                Value::Missing
            } else {
                Value::Bool(true)
            }
        }
        Expr::Or(v) => {
            let mut undefined = false;
            for e in v {
                match eval(e, ev, cx) {
                    Value::Bool(true) => return Value::Bool(true),
                    Value::Bool(false) => {}
                    _ => undefined = true,
                }
            }
            if undefined {
                Value::Missing
            } else {
                Value::Bool(false)
            }
        }
        Expr::Cmp { op, l, r, ci } => {
            let (a, b) = (eval(l, ev, cx), eval(r, ev, cx));
            truth(match op {
                CmpOp::Eq => equals(&a, &b, *ci),
                CmpOp::Ne => equals(&a, &b, *ci).map(|e| !e),
                CmpOp::Lt => compare(&a, &b, *ci).map(|o| o.is_lt()),
                CmpOp::Le => compare(&a, &b, *ci).map(|o| o.is_le()),
                CmpOp::Gt => compare(&a, &b, *ci).map(|o| o.is_gt()),
                CmpOp::Ge => compare(&a, &b, *ci).map(|o| o.is_ge()),
            })
        }
        Expr::Arith { op, l, r } => arith(*op, eval(l, ev, cx), eval(r, ev, cx)),
        Expr::Like {
            expr,
            pattern,
            ci,
            negated,
        } => {
            let v = eval(expr, ev, cx);
            truth(v.as_text().map(|t| pattern.matches(t, *ci) != *negated))
        }
        Expr::In {
            expr,
            list,
            ci,
            negated,
        } => {
            let v = eval(expr, ev, cx);
            let mut comparable = false;
            for item in list {
                match equals(&v, &eval(item, ev, cx), *ci) {
                    Some(true) => return Value::Bool(!*negated),
                    Some(false) => comparable = true,
                    None => {}
                }
            }
            if comparable {
                Value::Bool(*negated)
            } else {
                Value::Missing
            }
        }
        Expr::IsNull { expr, negated } => Value::Bool(eval(expr, ev, cx).is_nullish() != *negated),
        Expr::Call { func, args, ci } => call(*func, args, *ci, ev, cx),
        Expr::Quant {
            all,
            array,
            body,
            depth,
        } => {
            let arr = eval(array, ev, cx);
            let Value::Json(raw) = arr else {
                return Value::Missing;
            };
            let Some(items) = json::elements(raw) else {
                return Value::Missing;
            };
            for item in items {
                let frame = Scope {
                    depth: *depth,
                    raw: item,
                    parent: cx.scope,
                };
                let inner = Cx {
                    scope: Some(&frame),
                    ..cx
                };
                let hit = matches!(eval(body, ev, inner), Value::Bool(true));
                if hit != *all {
                    return Value::Bool(hit);
                }
            }
            Value::Bool(*all)
        }
        Expr::LevelIn { set, negated } => match ev {
            Some(e) => Value::Bool(set[e.severity() as usize] != *negated),
            None => Value::Missing,
        },
        Expr::Agg(i) => cx
            .row
            .and_then(|(a, _)| a.get(*i))
            .map_or(Value::Missing, Key::as_value),
        Expr::GroupKey(i) => cx
            .row
            .and_then(|(_, k)| k.get(*i))
            .map_or(Value::Missing, Key::as_value),
    }
}

/// Evaluates an expression that reads no event (constants, `Now()`).
pub(crate) fn eval_const(x: &Expr, now: i64) -> Value<'_> {
    eval::<crate::Event>(x, None, Cx::at(now))
}
