//! The expression grammar: precedence levels from `or` down to primaries.

use super::ast::{ArithOp, Builtin, CmpOp, Expr, Pos, Root, Seg};
use super::error::{ByteError, PResult};
use super::lexer::{Sym, Tok};
use super::like::LikePattern;
use super::parser::{build_regex, Parser, KEYWORDS, MAX_DEPTH, MAX_WILDCARDS};
use super::value::{parse_num, Num};

impl<'a> Parser<'a> {
    pub(crate) fn parse_or(&mut self) -> PResult<Expr> {
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

    pub(crate) fn parse_and(&mut self) -> PResult<Expr> {
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

    pub(crate) fn parse_not(&mut self) -> PResult<Expr> {
        if self.eat_kw("not") || self.eat_sym(Sym::Bang) {
            self.enter()?;
            let e = self.parse_not()?;
            self.depth -= 1;
            return Ok(Expr::Not(Box::new(e)));
        }
        self.parse_cmp()
    }

    pub(crate) fn cmp_op(&self) -> Option<CmpOp> {
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

    pub(crate) fn parse_cmp(&mut self) -> PResult<Expr> {
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

    pub(crate) fn parse_like(&mut self, l: Box<Expr>, negated: bool) -> PResult<Expr> {
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

    pub(crate) fn parse_list(&mut self) -> PResult<Vec<Expr>> {
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

    pub(crate) fn parse_add(&mut self) -> PResult<Expr> {
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

    pub(crate) fn parse_mul(&mut self) -> PResult<Expr> {
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

    pub(crate) fn parse_unary(&mut self) -> PResult<Expr> {
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

    pub(crate) fn parse_postfix(&mut self) -> PResult<Expr> {
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

    pub(crate) fn parse_seg(&mut self) -> PResult<Option<Seg>> {
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

    pub(crate) fn parse_primary(&mut self) -> PResult<Expr> {
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
