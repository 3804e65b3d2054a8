//! Function and aggregate calls: `Name(args)`, arity checks, `count(*)`.

use super::aggregate::{AggCall, AggKind};
use super::ast::{Expr, Func};
use super::error::{ByteError, PResult};
use super::lexer::Sym;
use super::parser::Parser;

impl<'a> Parser<'a> {
    pub(crate) fn parse_call(&mut self, name: &'a str, at: usize) -> PResult<Expr> {
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

    pub(crate) fn parse_agg(
        &mut self,
        kind: AggKind,
        name: &str,
        at: usize,
        open: usize,
    ) -> PResult<Expr> {
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
