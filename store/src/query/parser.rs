//! The recursive-descent [`Parser`]: token access, errors, depth bound.
//!
//! The grammar itself is in `grammar` (operators) and `calls` (functions
//! and aggregates); `select` drives it for queries.
//!
//! Precedence, loosest first: `or`, `and`, `not`, comparison (`= <> < <= > >=
//! like in is`, then an optional `ci`), `+ -`, `* / %`, unary `-`, postfix
//! paths (`.Name`, `['name']`, `[0]`, `[?]`, `[*]`). `and`/`or` chains are
//! flattened, so long conjunctions do not deepen the tree; every other level
//! of nesting counts against [`MAX_DEPTH`].

use regex::{Regex, RegexBuilder};

use super::aggregate::AggCall;
use super::ast::{Expr, RegexLit};
use super::error::{ByteError, PResult};
use super::lexer::{lex, Sym, Tok, Token};

/// How deeply expressions may nest (parentheses, operators, calls).
pub(crate) const MAX_DEPTH: usize = 64;
/// The error for input past [`MAX_DEPTH`]; always reported, never free text.
pub(crate) const NESTED_TOO_DEEPLY: &str = "expression nested too deeply";
/// Wildcards (`[?]`, `[*]`) allowed in one property path.
pub(crate) const MAX_WILDCARDS: usize = 4;

pub(crate) const KEYWORDS: &[&str] = &["and", "or", "not", "like", "in", "is", "ci"];

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
    pub(crate) text: &'a str,
    pub(crate) toks: Vec<Token<'a>>,
    pub(crate) pos: usize,
    pub(crate) depth: usize,
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
    pub(crate) fn close(&mut self, s: Sym, open: usize, what: &str) -> PResult<()> {
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

    pub(crate) fn enter(&mut self) -> PResult<()> {
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

    pub(crate) fn regex(&self, pattern: String, at: usize) -> PResult<Expr> {
        let re = build_regex(&pattern, false).map_err(|m| ByteError::new(at, m))?;
        Ok(Expr::Regex(Box::new(RegexLit {
            pattern: pattern.into(),
            re,
        })))
    }

    /// "missing operand after `op`" when the previous token is an operator
    /// and the current one cannot start an operand; otherwise `context`.
    pub(crate) fn missing_or_unexpected(&self, context: &str) -> ByteError {
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

    pub(crate) fn parse_args(&mut self, open: usize) -> PResult<Vec<Expr>> {
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
}

fn closer(open: &str) -> &'static str {
    if open == "[" {
        "]"
    } else {
        ")"
    }
}

/// Parses a whole filter expression (no aggregates).
pub(crate) fn parse_filter_expr(text: &str) -> PResult<Expr> {
    let mut p = Parser::new(text)?;
    let e = p.parse_expr()?;
    p.expect_eof()?;
    Ok(e)
}
