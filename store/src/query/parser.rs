//! Recursive-descent parser for the expression language, depth-bounded.
//!
//! Precedence, loosest first: `or`, `and`, `not`, comparison (`= <> < <= > >=
//! like in is`, then an optional `ci`), `+ -`, `* / %`, unary `-`, postfix
//! paths (`.Name`, `['name']`, `[0]`, `[?]`, `[*]`). `and`/`or` chains are
//! flattened, so long conjunctions do not deepen the tree; every other level
//! of nesting counts against [`MAX_DEPTH`].

use regex::{Regex, RegexBuilder};

use super::aggregate::{AggCall, AggKind};
use super::ast::{ArithOp, Builtin, CmpOp, Expr, Func, Pos, RegexLit, Root, Seg};
use super::error::{ByteError, PResult};
use super::lexer::{lex, Sym, Tok, Token};
use super::like::LikePattern;
use super::value::{parse_num, Num};

/// How deeply expressions may nest (parentheses, operators, calls).
pub(crate) const MAX_DEPTH: usize = 64;
/// The error for input past [`MAX_DEPTH`]; always reported, never free text.
pub(crate) const NESTED_TOO_DEEPLY: &str = "expression nested too deeply";
/// Wildcards (`[?]`, `[*]`) allowed in one property path.
const MAX_WILDCARDS: usize = 4;

const KEYWORDS: &[&str] = &["and", "or", "not", "like", "in", "is", "ci"];

/// Compiles a regex literal with limits that keep hostile patterns cheap.
pub(crate) fn build_regex(pattern: &str, ci: bool) -> Result<Regex, String> {
    RegexBuilder::new(pattern)
        .case_insensitive(ci)
        .size_limit(1 << 20)
        .dfa_size_limit(1 << 20)
        .nest_limit(64)
        .build()
        .map_err(|e| format!("invalid regular expression: {}", first_line(&e.to_string())))
}

fn first_line(s: &str) -> &str {
    s.lines().last().unwrap_or(s).trim()
}

/// The parser state over one text's tokens.
pub(crate) struct Parser<'a> {
    text: &'a str,
    toks: Vec<Token<'a>>,
    pos: usize,
    depth: usize,
    /// Aggregate calls found so far; `Some` where aggregates are allowed.
    pub(crate) aggs: Option<Vec<AggCall>>,
}

impl<'a> Parser<'a> {
    /// Lexes `text`.
    pub(crate) fn new(text: &'a str) -> PResult<Parser<'a>> {
        Ok(Parser {
            text,
            toks: lex(text)?,
            pos: 0,
            depth: 0,
            aggs: None,
        })
    }

    pub(crate) fn tok(&self) -> &Tok<'a> {
        &self.cur().tok
    }

    pub(crate) fn cur(&self) -> &Token<'a> {
        // `lex` always ends with Eof and `bump` never passes it.
        &self.toks[self.pos.min(self.toks.len() - 1)]
    }

    pub(crate) fn peek_next(&self) -> &Tok<'a> {
        &self.toks[(self.pos + 1).min(self.toks.len() - 1)].tok
    }

    pub(crate) fn bump(&mut self) -> Token<'a> {
        let t = self.cur().clone();
        if self.pos < self.toks.len() - 1 {
            self.pos += 1;
        }
        t
    }

    /// Byte offset where the previous token ended.
    pub(crate) fn prev_end(&self) -> usize {
        self.pos.checked_sub(1).map_or(0, |p| self.toks[p].end)
    }

    pub(crate) fn source(&self, start: usize, end: usize) -> &'a str {
        self.text.get(start..end).unwrap_or("").trim()
    }

    pub(crate) fn is_kw(&self, kw: &str) -> bool {
        matches!(self.tok(), Tok::Ident(w) if w.eq_ignore_ascii_case(kw))
    }

    pub(crate) fn eat_kw(&mut self, kw: &str) -> bool {
        let hit = self.is_kw(kw);
        if hit {
            self.bump();
        }
        hit
    }

    pub(crate) fn expect_kw(&mut self, kw: &str) -> PResult<()> {
        if self.eat_kw(kw) {
            Ok(())
        } else {
            Err(self.unexpected(&format!("expected `{kw}`")))
        }
    }

    pub(crate) fn is_sym(&self, s: Sym) -> bool {
        *self.tok() == Tok::Sym(s)
    }

    pub(crate) fn eat_sym(&mut self, s: Sym) -> bool {
        let hit = self.is_sym(s);
        if hit {
            self.bump();
        }
        hit
    }

    /// Consumes the closing bracket of the one opened at `open`.
    fn close(&mut self, s: Sym, open: usize, what: &str) -> PResult<()> {
        if self.eat_sym(s) {
            Ok(())
        } else if *self.tok() == Tok::Eof {
            Err(ByteError::new(open, format!("unclosed `{what}`")))
        } else {
            Err(self.unexpected(&format!("expected `{}` to close `{what}`", closer(what))))
        }
    }

    /// An error at the current token.
    pub(crate) fn unexpected(&self, context: &str) -> ByteError {
        let t = self.cur();
        let found = match &t.tok {
            Tok::Eof => "end of input".to_string(),
            _ => format!("`{}`", self.source(t.start, t.end)),
        };
        ByteError::new(t.start, format!("{context}, found {found}"))
    }

    /// Fails unless all input was consumed.
    pub(crate) fn expect_eof(&self) -> PResult<()> {
        match self.tok() {
            Tok::Eof => Ok(()),
            Tok::Sym(Sym::RParen) => Err(ByteError::new(self.cur().start, "unmatched `)`")),
            Tok::Sym(Sym::RBracket) => Err(ByteError::new(self.cur().start, "unmatched `]`")),
            _ => Err(self.unexpected("expected an operator or the end of the expression")),
        }
    }

    fn enter(&mut self) -> PResult<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(ByteError::new(
                self.cur().start,
                "expression nested too deeply",
            ));
        }
        Ok(())
    }

    /// Parses a full expression.
    pub(crate) fn parse_expr(&mut self) -> PResult<Expr> {
        self.enter()?;
        let r = self.parse_or();
        self.depth -= 1;
        r
    }

    fn parse_or(&mut self) -> PResult<Expr> {
        let mut terms = vec![self.parse_and()?];
        while self.eat_kw("or") || self.eat_sym(Sym::OrOr) {
            terms.push(self.parse_and()?);
        }
        Ok(if terms.len() == 1 {
            terms.remove(0)
        } else {
            Expr::Or(terms)
        })
    }

    fn parse_and(&mut self) -> PResult<Expr> {
        let mut terms = vec![self.parse_not()?];
        while self.eat_kw("and") || self.eat_sym(Sym::AndAnd) {
            terms.push(self.parse_not()?);
        }
        Ok(if terms.len() == 1 {
            terms.remove(0)
        } else {
            Expr::And(terms)
        })
    }

    fn parse_not(&mut self) -> PResult<Expr> {
        if self.eat_kw("not") || self.eat_sym(Sym::Bang) {
            self.enter()?;
            let e = self.parse_not()?;
            self.depth -= 1;
            return Ok(Expr::Not(Box::new(e)));
        }
        self.parse_cmp()
    }

    fn cmp_op(&self) -> Option<CmpOp> {
        Some(match self.tok() {
            Tok::Sym(Sym::Eq) => CmpOp::Eq,
            Tok::Sym(Sym::Ne) => CmpOp::Ne,
            Tok::Sym(Sym::Lt) => CmpOp::Lt,
            Tok::Sym(Sym::Le) => CmpOp::Le,
            Tok::Sym(Sym::Gt) => CmpOp::Gt,
            Tok::Sym(Sym::Ge) => CmpOp::Ge,
            _ => return None,
        })
    }

    fn parse_cmp(&mut self) -> PResult<Expr> {
        let l = Box::new(self.parse_add()?);
        let negated_kw = self.is_kw("not")
            && matches!(self.peek_next(), Tok::Ident(w) if w.eq_ignore_ascii_case("like") || w.eq_ignore_ascii_case("in"));
        if negated_kw {
            self.bump();
        }
        let mut node = if let Some(op) = self.cmp_op() {
            self.bump();
            let r = Box::new(self.parse_add()?);
            match (op, &*l, &*r) {
                // `x = null` / `x <> null` test presence, not equality.
                (CmpOp::Eq | CmpOp::Ne, Expr::Null, _) => Expr::IsNull {
                    expr: r,
                    negated: op == CmpOp::Ne,
                },
                (CmpOp::Eq | CmpOp::Ne, _, Expr::Null) => Expr::IsNull {
                    expr: l,
                    negated: op == CmpOp::Ne,
                },
                _ => Expr::Cmp {
                    op,
                    l,
                    r,
                    ci: false,
                },
            }
        } else if self.eat_kw("like") {
            self.parse_like(l, negated_kw)?
        } else if self.eat_kw("in") {
            let list = self.parse_list()?;
            Expr::In {
                expr: l,
                list,
                ci: false,
                negated: negated_kw,
            }
        } else if self.eat_kw("is") {
            let negated = self.eat_kw("not");
            if !self.eat_kw("null") {
                return Err(self.unexpected("expected `null` after `is`"));
            }
            Expr::IsNull { expr: l, negated }
        } else {
            *l
        };
        if self.is_kw("ci") {
            let at = self.bump().start;
            apply_ci(&mut node).map_err(|m| ByteError::new(at, m))?;
        }
        Ok(node)
    }

    fn parse_like(&mut self, l: Box<Expr>, negated: bool) -> PResult<Expr> {
        let t = self.bump();
        match t.tok {
            Tok::Str(s) => Ok(Expr::Like {
                expr: l,
                pattern: Box::new(LikePattern::new(&s)),
                ci: false,
                negated,
            }),
            Tok::Regex(p) => {
                let r = Box::new(self.regex(p, t.start)?);
                let op = if negated { CmpOp::Ne } else { CmpOp::Eq };
                Ok(Expr::Cmp {
                    op,
                    l,
                    r,
                    ci: false,
                })
            }
            _ => {
                self.pos -= 1;
                Err(self.missing_or_unexpected("`like` needs a string pattern"))
            }
        }
    }

    fn parse_list(&mut self) -> PResult<Vec<Expr>> {
        let open = self.cur().start;
        let (closer, what) = if self.eat_sym(Sym::LBracket) {
            (Sym::RBracket, "[")
        } else if self.eat_sym(Sym::LParen) {
            (Sym::RParen, "(")
        } else {
            return Err(self.missing_or_unexpected("`in` needs a list like `['a', 'b']`"));
        };
        let mut list = Vec::new();
        if !self.eat_sym(closer) {
            loop {
                list.push(self.parse_expr()?);
                if !self.eat_sym(Sym::Comma) {
                    break;
                }
            }
            self.close(closer, open, what)?;
        }
        Ok(list)
    }

    fn parse_add(&mut self) -> PResult<Expr> {
        let depth = self.depth;
        let mut l = self.parse_mul()?;
        loop {
            let op = match self.tok() {
                Tok::Sym(Sym::Plus) => ArithOp::Add,
                Tok::Sym(Sym::Minus) => ArithOp::Sub,
                _ => break,
            };
            self.bump();
            self.enter()?;
            let r = self.parse_mul()?;
            l = Expr::Arith {
                op,
                l: Box::new(l),
                r: Box::new(r),
            };
        }
        self.depth = depth;
        Ok(l)
    }

    fn parse_mul(&mut self) -> PResult<Expr> {
        let depth = self.depth;
        let mut l = self.parse_unary()?;
        loop {
            let op = match self.tok() {
                Tok::Sym(Sym::Star) => ArithOp::Mul,
                Tok::Sym(Sym::Slash) => ArithOp::Div,
                Tok::Sym(Sym::Percent) => ArithOp::Rem,
                _ => break,
            };
            self.bump();
            self.enter()?;
            let r = self.parse_unary()?;
            l = Expr::Arith {
                op,
                l: Box::new(l),
                r: Box::new(r),
            };
        }
        self.depth = depth;
        Ok(l)
    }

    fn parse_unary(&mut self) -> PResult<Expr> {
        if self.eat_sym(Sym::Minus) {
            self.enter()?;
            let e = self.parse_unary()?;
            self.depth -= 1;
            return Ok(match e {
                Expr::Num(Num::Int(i)) => Expr::Num(Num::Int(-i)),
                Expr::Num(Num::Float(f)) => Expr::Num(Num::Float(-f)),
                e => Expr::Neg(Box::new(e)),
            });
        }
        self.parse_postfix()
    }

    fn parse_postfix(&mut self) -> PResult<Expr> {
        let mut e = self.parse_primary()?;
        if let Expr::Path { segs, .. } = &mut e {
            let mut v: Vec<Seg> = std::mem::take(segs).into_vec();
            while let Some(seg) = self.parse_seg()? {
                v.push(seg);
                let wild = v
                    .iter()
                    .filter(|s| matches!(s, Seg::Any | Seg::All))
                    .count();
                if wild > MAX_WILDCARDS || v.len() > 4 * MAX_DEPTH {
                    return Err(ByteError::new(self.prev_end(), "property path too long"));
                }
            }
            *segs = v.into_boxed_slice();
        }
        if let Expr::Path {
            root: root @ Root::Properties,
            segs,
            ..
        } = &mut e
        {
            if let Some(Seg::Name(n)) = segs.first() {
                *root = Root::Property(n.clone());
                *segs = segs[1..].into();
            }
        }
        Ok(e)
    }

    fn parse_seg(&mut self) -> PResult<Option<Seg>> {
        if self.eat_sym(Sym::Dot) {
            return match self.bump().tok {
                Tok::Ident(n) => Ok(Some(Seg::Name(n.into()))),
                _ => {
                    self.pos -= 1;
                    Err(self.unexpected("expected a property name after `.`"))
                }
            };
        }
        let open = self.cur().start;
        if !self.eat_sym(Sym::LBracket) {
            return Ok(None);
        }
        let neg = self.eat_sym(Sym::Minus);
        let seg = match self.bump().tok {
            Tok::Str(s) if !neg => Seg::Name(s.into()),
            Tok::Sym(Sym::Question) if !neg => Seg::Any,
            Tok::Sym(Sym::Star) if !neg => Seg::All,
            Tok::Num(n) => match parse_num(n) {
                Some(Num::Int(i)) => {
                    let i = i64::try_from(i).unwrap_or(i64::MAX);
                    Seg::Index(if neg { -i } else { i })
                }
                _ => return Err(ByteError::new(open + 1, "array index must be an integer")),
            },
            _ => {
                self.pos -= 1;
                return Err(self.unexpected("expected `'name'`, an index, `?` or `*` inside `[ ]`"));
            }
        };
        self.close(Sym::RBracket, open, "[")?;
        Ok(Some(seg))
    }

    fn regex(&self, pattern: String, at: usize) -> PResult<Expr> {
        let re = build_regex(&pattern, false).map_err(|m| ByteError::new(at, m))?;
        Ok(Expr::Regex(Box::new(RegexLit {
            pattern: pattern.into(),
            re,
        })))
    }

    /// "missing operand after `op`" when the previous token is an operator
    /// and the current one cannot start an operand; otherwise `context`.
    fn missing_or_unexpected(&self, context: &str) -> ByteError {
        if self.pos > 0 {
            let prev = &self.toks[self.pos - 1];
            let is_op = match &prev.tok {
                Tok::Sym(s) => !matches!(
                    s,
                    Sym::RParen | Sym::RBracket | Sym::LParen | Sym::LBracket | Sym::Comma
                ),
                Tok::Ident(w) => KEYWORDS.iter().any(|k| k.eq_ignore_ascii_case(w)),
                _ => false,
            };
            let cur_starts = match self.tok() {
                Tok::Eof => false,
                Tok::Sym(s) => matches!(s, Sym::LParen | Sym::LBracket | Sym::Minus | Sym::Bang),
                Tok::Ident(w) => !KEYWORDS.iter().any(|k| k.eq_ignore_ascii_case(w)),
                _ => true,
            };
            if is_op && !cur_starts {
                let op = self.source(prev.start, prev.end);
                return ByteError::new(prev.start, format!("`{op}` is missing its right operand"));
            }
        }
        self.unexpected(context)
    }

    fn parse_primary(&mut self) -> PResult<Expr> {
        let t = self.cur().clone();
        let e = match t.tok {
            Tok::Num(raw) => Expr::Num(
                parse_num(raw).ok_or_else(|| ByteError::new(t.start, "number out of range"))?,
            ),
            Tok::Duration(ns) => Expr::Num(Num::Int(ns)),
            Tok::Str(s) => Expr::Str(s.into()),
            Tok::Regex(p) => self.regex(p, t.start)?,
            Tok::Sym(Sym::LParen) => {
                self.bump();
                let e = self.parse_expr()?;
                self.close(Sym::RParen, t.start, "(")?;
                return Ok(e);
            }
            Tok::Builtin(name) => {
                if name.eq_ignore_ascii_case("Properties") {
                    Expr::Path {
                        root: Root::Properties,
                        segs: Box::new([]),
                        pos: Pos(t.start),
                    }
                } else {
                    Expr::Builtin(Builtin::lookup(name).ok_or_else(|| {
                        ByteError::new(t.start, format!("unknown built-in property `@{name}`"))
                    })?)
                }
            }
            Tok::Ident(w) if *self.peek_next() == Tok::Sym(Sym::LParen) => {
                return self.parse_call(w, t.start);
            }
            Tok::Ident(w) if w.eq_ignore_ascii_case("null") => Expr::Null,
            Tok::Ident(w) if w.eq_ignore_ascii_case("true") => Expr::Bool(true),
            Tok::Ident(w) if w.eq_ignore_ascii_case("false") => Expr::Bool(false),
            Tok::Ident(w) if !KEYWORDS.iter().any(|k| k.eq_ignore_ascii_case(w)) => Expr::Path {
                root: Root::Property(w.into()),
                segs: Box::new([]),
                pos: Pos(t.start),
            },
            _ => return Err(self.missing_or_unexpected("expected a value")),
        };
        self.bump();
        Ok(e)
    }

    fn parse_args(&mut self, open: usize) -> PResult<Vec<Expr>> {
        let mut args = Vec::new();
        if self.eat_sym(Sym::RParen) {
            return Ok(args);
        }
        loop {
            args.push(self.parse_expr()?);
            if !self.eat_sym(Sym::Comma) {
                break;
            }
        }
        self.close(Sym::RParen, open, "(")?;
        Ok(args)
    }

    fn parse_call(&mut self, name: &'a str, at: usize) -> PResult<Expr> {
        self.bump();
        let open = self.bump().start;
        self.enter()?;
        if let Some(kind) = AggKind::lookup(name) {
            let r = self.parse_agg(kind, name, at, open);
            self.depth -= 1;
            return r;
        }
        let (func, lo, hi) = Func::lookup(name)
            .ok_or_else(|| ByteError::new(at, format!("unknown function `{name}`")))?;
        let args = self.parse_args(open)?;
        self.depth -= 1;
        if args.len() < lo || args.len() > hi {
            let want = match (lo, hi) {
                (l, h) if l == h => format!("{l} argument{}", if l == 1 { "" } else { "s" }),
                (l, usize::MAX) => format!("at least {l} argument"),
                (l, h) => format!("{l} to {h} arguments"),
            };
            return Err(ByteError::new(at, format!("`{name}` takes {want}")));
        }
        Ok(Expr::Call {
            func,
            args,
            ci: false,
        })
    }

    fn parse_agg(&mut self, kind: AggKind, name: &str, at: usize, open: usize) -> PResult<Expr> {
        let Some(mut aggs) = self.aggs.take() else {
            return Err(ByteError::new(
                at,
                format!(
                    "aggregate `{name}` is only allowed in a query's select, having or order by"
                ),
            ));
        };
        let star = kind == AggKind::Count && self.eat_sym(Sym::Star);
        let args = if star {
            self.close(Sym::RParen, open, "(")?;
            Vec::new()
        } else {
            self.parse_args(open)?
        };
        let want = if kind == AggKind::Percentile { 2 } else { 1 };
        if !star && args.len() != want {
            return Err(ByteError::new(
                at,
                format!(
                    "`{name}` takes {want} argument{}",
                    if want == 1 { "" } else { "s" }
                ),
            ));
        }
        let mut args = args.into_iter();
        let arg = args.next();
        let p = match args.next() {
            Some(Expr::Num(n)) if (0.0..=100.0).contains(&n.as_f64()) => n.as_f64(),
            Some(_) => {
                return Err(ByteError::new(
                    at,
                    "a percentile must be a number from 0 to 100",
                ))
            }
            None => 0.0,
        };
        let text = self.source(at, self.prev_end()).to_string();
        let call = AggCall { kind, arg, p, text };
        let slot = match aggs
            .iter()
            .position(|a| a.kind == call.kind && a.arg == call.arg && a.p == call.p)
        {
            Some(i) => i,
            None => {
                aggs.push(call);
                aggs.len() - 1
            }
        };
        self.aggs = Some(aggs);
        Ok(Expr::Agg(slot))
    }
}

fn closer(open: &str) -> &'static str {
    if open == "[" {
        "]"
    } else {
        ")"
    }
}

/// Applies a trailing `ci` to the comparison, `like`, `in` or call it follows.
fn apply_ci(node: &mut Expr) -> Result<(), String> {
    match node {
        Expr::Cmp { l, r, ci, .. } => {
            *ci = true;
            for side in [l, r] {
                if let Expr::Regex(lit) = &mut **side {
                    lit.re = build_regex(&lit.pattern, true)?;
                }
            }
        }
        Expr::Like { ci, .. } | Expr::In { ci, .. } | Expr::Call { ci, .. } => *ci = true,
        _ => return Err("`ci` must follow a comparison, `like`, `in` or a function call".into()),
    }
    Ok(())
}

/// Parses a whole filter expression (no aggregates).
pub(crate) fn parse_filter_expr(text: &str) -> PResult<Expr> {
    let mut p = Parser::new(text)?;
    let e = p.parse_expr()?;
    p.expect_eof()?;
    Ok(e)
}
