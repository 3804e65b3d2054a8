//! [`Filter`]: a compiled filter expression or free-text search.
//!
//! # Expression or free text
//!
//! What users type is first parsed as an expression.
//!
//! - Empty text matches everything.
//! - A phrase in double quotes (`"connection refused"`) searches for the phrase.
//! - A parsed expression that is a condition (a comparison, `like`, `in`,
//!   `is null`, `Has`/`Contains`/`StartsWith`/`EndsWith`, `true`/`false`, or
//!   logic with at least one of those) is a filter.
//! - A bare `/regex/` matches the rendered message.
//! - A parsed expression that is no condition and calls nothing
//!   (`timeout`, `error and timeout`, `user-service`, `404`, `'a b'`) is a
//!   free-text search: of the string's contents for a lone string literal, of
//!   the whole text otherwise.
//! - Text that does not parse is free text unless it clearly was meant as an
//!   expression: it holds a comparison operator (`= <> != < > <= >=`), a
//!   single quote that starts a token (`Name = 'x`, but not `can't`), an `@`
//!   that starts a token (`@Level`), or a name directly followed by `(`
//!   (`Foo(1)`). Then the parse error is returned, with its position.
//!
//! Free text matches the rendered message case-insensitively.

use std::sync::Arc;

use crate::{EventView, Severity, Timestamp};

use super::ast::Expr;
use super::compile::{lift, optimize, severity_requirement, time_bounds};
use super::error::FilterError;
use super::eval::{eval, message, Cx};
use super::functions::contains_ci;
use super::parser::{parse_filter_expr, NESTED_TOO_DEEPLY};
use super::value::Value;

/// What evaluation may read besides the event: the clock behind `Now()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EvalContext {
    /// The instant `Now()` returns.
    pub now: Timestamp,
}

impl EvalContext {
    /// A context whose `Now()` is `now`.
    pub fn new(now: Timestamp) -> EvalContext {
        EvalContext { now }
    }

    /// A context whose `Now()` is the system clock, read once.
    pub fn system() -> EvalContext {
        let ns = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX));
        EvalContext { now: Timestamp(ns) }
    }
}

#[derive(Debug, Clone)]
enum Kind {
    All,
    Expr(Arc<Expr>),
    /// Free text, already lowercased.
    Text(Arc<str>),
}

/// A compiled filter. Cheap to clone and share between threads.
#[derive(Debug, Clone)]
pub struct Filter {
    kind: Kind,
}

impl Filter {
    /// Parses and compiles filter text (see the module docs for the
    /// expression/free-text rule).
    pub fn parse(text: &str) -> Result<Filter, FilterError> {
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Ok(Filter::match_all());
        }
        if let Some(inner) = trimmed.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
            if !inner.contains('"') {
                return Ok(Filter::text(inner));
            }
        }
        match parse_filter_expr(text) {
            Ok(e) if e.is_predicate() => Filter::compile(e).map_err(|e| e.locate(text)),
            Ok(Expr::Regex(r)) => {
                let e = Expr::Cmp {
                    op: super::ast::CmpOp::Eq,
                    l: Box::new(Expr::Builtin(super::ast::Builtin::Message)),
                    r: Box::new(Expr::Regex(r)),
                    ci: false,
                };
                Ok(Filter {
                    kind: Kind::Expr(Arc::new(e)),
                })
            }
            Ok(Expr::Str(s)) => Ok(Filter::text(&s)),
            Ok(e) if calls_anything(&e) => Filter::compile(e).map_err(|e| e.locate(text)),
            Ok(_) => Ok(Filter::text(trimmed)),
            Err(err) if err.message == NESTED_TOO_DEEPLY || looks_like_expression(text) => {
                Err(err.locate(text))
            }
            Err(_) => Ok(Filter::text(trimmed)),
        }
    }

    /// The filter that matches every event.
    pub fn match_all() -> Filter {
        Filter { kind: Kind::All }
    }

    fn text(t: &str) -> Filter {
        if t.is_empty() {
            return Filter::match_all();
        }
        Filter {
            kind: Kind::Text(t.to_lowercase().into()),
        }
    }

    /// Compiles an already parsed expression (used by queries' `where`).
    pub(crate) fn compile(mut e: Expr) -> Result<Filter, super::error::ByteError> {
        lift(&mut e, 0)?;
        optimize(&mut e);
        Ok(Filter {
            kind: Kind::Expr(Arc::new(e)),
        })
    }

    /// True when the filter matches every event (empty text).
    pub fn is_match_all(&self) -> bool {
        matches!(self.kind, Kind::All)
    }

    /// The compiled expression, unless this is match-all or free text.
    pub(crate) fn expr(&self) -> Option<&Expr> {
        match &self.kind {
            Kind::Expr(x) => Some(x),
            _ => None,
        }
    }

    /// The (lowercased) search text when this is a free-text filter.
    pub fn free_text(&self) -> Option<&str> {
        match &self.kind {
            Kind::Text(t) => Some(t),
            _ => None,
        }
    }

    /// Whether `e` matches.
    pub fn matches<E: EventView + ?Sized>(&self, e: &E, ctx: &EvalContext) -> bool {
        match &self.kind {
            Kind::All => true,
            Kind::Expr(x) => matches!(eval(x, Some(e), Cx::at(ctx.now.0)), Value::Bool(true)),
            Kind::Text(t) => message(e).is_some_and(|m| contains_ci(&m, t)),
        }
    }

    /// Inclusive `(earliest, latest)` timestamps any matching event can have,
    /// from top-level `and`-ed `@Timestamp` comparisons with constants
    /// (`Now()` read from `ctx`). `None` means unbounded on that side.
    pub fn time_bounds(&self, ctx: &EvalContext) -> (Option<Timestamp>, Option<Timestamp>) {
        let Kind::Expr(x) = &self.kind else {
            return (None, None);
        };
        let clamp = |v: i128| Timestamp(v.clamp(i64::MIN as i128, i64::MAX as i128) as i64);
        let (lo, hi) = time_bounds(x, ctx.now.0);
        (lo.map(clamp), hi.map(clamp))
    }

    /// The severities (indexed by `Severity as usize`) one of which a
    /// matching event must have, from top-level `@Level = '…'` / `in`
    /// conditions; `None` when any severity may match.
    pub fn severity_requirement(&self) -> Option<[bool; 6]> {
        match &self.kind {
            Kind::Expr(x) => severity_requirement(x),
            _ => None,
        }
    }

    /// Whether a block (or segment) with these statistics can hold a match:
    /// the executor's pruning test over a block header.
    pub fn may_match_block(
        &self,
        ctx: &EvalContext,
        min_ts: Timestamp,
        max_ts: Timestamp,
        level_counts: &[u32; 6],
    ) -> bool {
        let (lo, hi) = self.time_bounds(ctx);
        if lo.is_some_and(|lo| max_ts < lo) || hi.is_some_and(|hi| min_ts > hi) {
            return false;
        }
        match self.severity_requirement() {
            Some(req) => Severity::ALL
                .iter()
                .any(|s| req[*s as usize] && level_counts[*s as usize] > 0),
            None => true,
        }
    }
}

/// True when the expression calls a function or reads a built-in.
fn calls_anything(e: &Expr) -> bool {
    let mut hit = matches!(e, Expr::Call { .. } | Expr::Builtin(_));
    e.children(&mut |c| hit |= calls_anything(c));
    hit
}

/// The signals that text which failed to parse was meant as an expression.
fn looks_like_expression(text: &str) -> bool {
    let mut prev: Option<char> = None;
    let mut in_ident = false;
    for (i, c) in text.char_indices() {
        let token_start = prev.is_none_or(|p| p.is_whitespace() || "(=<>,[!".contains(p));
        match c {
            '=' | '<' | '>' => return true,
            '\'' | '@' if token_start => return true,
            '(' if in_ident => return true,
            _ => {}
        }
        if text[i..].starts_with("!=") {
            return true;
        }
        in_ident = c.is_alphanumeric() || c == '_';
        prev = Some(c);
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heuristic_signals() {
        assert!(looks_like_expression("A = 'x"));
        assert!(looks_like_expression("Foo(1"));
        assert!(looks_like_expression("'abc"));
        assert!(!looks_like_expression("can't connect"));
        assert!(!looks_like_expression("failed (timeout"));
        assert!(!looks_like_expression("mail me@example.com"));
    }

    #[test]
    fn kinds() {
        assert!(Filter::parse("  ").unwrap().is_match_all());
        assert_eq!(
            Filter::parse("Timeout").unwrap().free_text(),
            Some("timeout")
        );
        assert_eq!(
            Filter::parse("\"a = b\"").unwrap().free_text(),
            Some("a = b")
        );
        assert_eq!(
            Filter::parse("can't connect").unwrap().free_text(),
            Some("can't connect")
        );
        assert!(Filter::parse("A = 1").unwrap().free_text().is_none());
        assert!(Filter::parse("A = ").is_err());
    }
}
