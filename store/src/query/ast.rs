//! The compiled expression tree shared by filters and queries.
//!
//! The parser builds it directly (literals typed, regexes compiled, `like`
//! patterns split into tokens); [`super::compile`] then lifts `[?]`/`[*]`
//! wildcards into explicit quantifiers.

use regex::Regex;

use super::like::LikePattern;
use super::value::Num;

/// A source position that every `Pos` equals, so structurally equal
/// expressions compare equal wherever they were written.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Pos(pub usize);

impl PartialEq for Pos {
    fn eq(&self, _: &Pos) -> bool {
        true
    }
}

/// Built-in `@` properties.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Builtin {
    Timestamp,
    Level,
    Message,
    MessageTemplate,
    Exception,
    EventType,
    Id,
    TraceId,
    SpanId,
}

impl Builtin {
    /// The built-in named `name` (without `@`, any case); `Properties` is a path root instead.
    pub(crate) fn lookup(name: &str) -> Option<Builtin> {
        const ALL: [(&str, Builtin); 9] = [
            ("Timestamp", Builtin::Timestamp),
            ("Level", Builtin::Level),
            ("Message", Builtin::Message),
            ("MessageTemplate", Builtin::MessageTemplate),
            ("Exception", Builtin::Exception),
            ("EventType", Builtin::EventType),
            ("Id", Builtin::Id),
            ("TraceId", Builtin::TraceId),
            ("SpanId", Builtin::SpanId),
        ];
        ALL.iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, b)| *b)
    }
}

/// Where a property path starts.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Root {
    /// A top-level property by name.
    Property(Box<str>),
    /// `@Properties`: the property map itself.
    Properties,
    /// The array element bound by the quantifier at this depth (0 = outermost).
    Bound(usize),
}

/// One step of a property path.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Seg {
    /// `.Name` or `['Name']`.
    Name(Box<str>),
    /// `[3]` (negative counts from the end).
    Index(i64),
    /// `[?]`: any element.
    Any,
    /// `[*]`: every element.
    All,
}

/// Comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CmpOp {
    /// The operator with its operands swapped (`a < b` is `b > a`).
    pub(crate) fn flipped(self) -> CmpOp {
        match self {
            CmpOp::Lt => CmpOp::Gt,
            CmpOp::Le => CmpOp::Ge,
            CmpOp::Gt => CmpOp::Lt,
            CmpOp::Ge => CmpOp::Le,
            op => op,
        }
    }
}

/// Arithmetic operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ArithOp {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
}

/// Built-in functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Func {
    Has,
    Contains,
    StartsWith,
    EndsWith,
    IndexOf,
    Length,
    ToLower,
    ToUpper,
    Substring,
    Coalesce,
    Now,
}

impl Func {
    /// The function named `name` (any case) and its (min, max) argument count.
    pub(crate) fn lookup(name: &str) -> Option<(Func, usize, usize)> {
        const ALL: [(&str, Func, usize, usize); 11] = [
            ("Has", Func::Has, 1, 1),
            ("Contains", Func::Contains, 2, 2),
            ("StartsWith", Func::StartsWith, 2, 2),
            ("EndsWith", Func::EndsWith, 2, 2),
            ("IndexOf", Func::IndexOf, 2, 2),
            ("Length", Func::Length, 1, 1),
            ("ToLower", Func::ToLower, 1, 1),
            ("ToUpper", Func::ToUpper, 1, 1),
            ("Substring", Func::Substring, 2, 3),
            ("Coalesce", Func::Coalesce, 1, usize::MAX),
            ("Now", Func::Now, 0, 0),
        ];
        ALL.iter()
            .find(|(n, ..)| n.eq_ignore_ascii_case(name))
            .map(|(_, f, lo, hi)| (*f, *lo, *hi))
    }

    /// True for the functions whose result is a boolean.
    pub(crate) fn is_predicate(self) -> bool {
        matches!(
            self,
            Func::Has | Func::Contains | Func::StartsWith | Func::EndsWith
        )
    }
}

/// A regex literal, compiled (case-insensitively once `ci` applies).
#[derive(Debug, Clone)]
pub(crate) struct RegexLit {
    pub pattern: Box<str>,
    pub re: Regex,
}

impl PartialEq for RegexLit {
    fn eq(&self, other: &RegexLit) -> bool {
        self.pattern == other.pattern && self.re.as_str() == other.re.as_str()
    }
}

/// An expression node.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Expr {
    Null,
    Bool(bool),
    Num(Num),
    Str(Box<str>),
    Regex(Box<RegexLit>),
    Builtin(Builtin),
    /// A property path; `pos` is its byte offset in the source.
    Path {
        root: Root,
        segs: Box<[Seg]>,
        pos: Pos,
    },
    Not(Box<Expr>),
    Neg(Box<Expr>),
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Cmp {
        op: CmpOp,
        l: Box<Expr>,
        r: Box<Expr>,
        ci: bool,
    },
    Arith {
        op: ArithOp,
        l: Box<Expr>,
        r: Box<Expr>,
    },
    Like {
        expr: Box<Expr>,
        pattern: Box<LikePattern>,
        ci: bool,
        negated: bool,
    },
    In {
        expr: Box<Expr>,
        list: Vec<Expr>,
        ci: bool,
        negated: bool,
    },
    IsNull {
        expr: Box<Expr>,
        negated: bool,
    },
    Call {
        func: Func,
        args: Vec<Expr>,
        ci: bool,
    },
    /// `body` holds for any (or every) element of `array`; inside `body`,
    /// `Root::Bound(depth)` is the element.
    Quant {
        all: bool,
        array: Box<Expr>,
        body: Box<Expr>,
        depth: usize,
    },
    /// `@Level = '…'` / `in […]` / `<>` with known level names, by severity
    /// (index `Severity as usize`), precomputed by [`super::compile::optimize`].
    LevelIn {
        set: [bool; 6],
        negated: bool,
    },
    /// A query row's aggregate value, by slot (query row context only).
    Agg(usize),
    /// A query row's group key, by index (query row context only).
    GroupKey(usize),
}

impl Expr {
    /// True when the node yields a boolean (comparisons, `like`, `in`,
    /// `is null`, predicate functions, logic over them, boolean literals).
    pub(crate) fn is_predicate(&self) -> bool {
        match self {
            Expr::Bool(_)
            | Expr::Cmp { .. }
            | Expr::Like { .. }
            | Expr::In { .. }
            | Expr::IsNull { .. }
            | Expr::LevelIn { .. }
            | Expr::Quant { .. } => true,
            Expr::Call { func, .. } => func.is_predicate(),
            Expr::Not(e) => e.is_predicate(),
            Expr::And(v) | Expr::Or(v) => v.iter().any(Expr::is_predicate),
            _ => false,
        }
    }

    /// True when the node reads nothing from an event (so it can be
    /// evaluated once with only the clock).
    pub(crate) fn is_constant(&self) -> bool {
        match self {
            Expr::Null | Expr::Bool(_) | Expr::Num(_) | Expr::Str(_) => true,
            Expr::Neg(e) => e.is_constant(),
            Expr::Arith { l, r, .. } => l.is_constant() && r.is_constant(),
            Expr::Call { func, args, .. } => {
                *func != Func::Has && args.iter().all(Expr::is_constant)
            }
            _ => false,
        }
    }

    /// Calls `f` on each direct child.
    pub(crate) fn children(&self, f: &mut dyn FnMut(&Expr)) {
        match self {
            Expr::Not(e) | Expr::Neg(e) => f(e),
            Expr::And(v) | Expr::Or(v) | Expr::Call { args: v, .. } => v.iter().for_each(f),
            Expr::Cmp { l, r, .. } | Expr::Arith { l, r, .. } => {
                f(l);
                f(r);
            }
            Expr::Like { expr, .. } | Expr::IsNull { expr, .. } => f(expr),
            Expr::In { expr, list, .. } => {
                f(expr);
                list.iter().for_each(f);
            }
            Expr::Quant { array, body, .. } => {
                f(array);
                f(body);
            }
            _ => {}
        }
    }

    /// Calls `f` on each direct child, mutably.
    pub(crate) fn children_mut(&mut self, f: &mut dyn FnMut(&mut Expr)) {
        match self {
            Expr::Not(e) | Expr::Neg(e) => f(e),
            Expr::And(v) | Expr::Or(v) => v.iter_mut().for_each(f),
            Expr::Cmp { l, r, .. } | Expr::Arith { l, r, .. } => {
                f(l);
                f(r);
            }
            Expr::Like { expr, .. } | Expr::IsNull { expr, .. } => f(expr),
            Expr::In { expr, list, .. } => {
                f(expr);
                list.iter_mut().for_each(f);
            }
            Expr::Call { args, .. } => args.iter_mut().for_each(f),
            Expr::Quant { array, body, .. } => {
                f(array);
                f(body);
            }
            _ => {}
        }
    }
}
