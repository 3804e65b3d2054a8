//! [`Query`]: Seq's SQL-style queries, parsed into a plan.
//!
//! `select <columns> from stream [where <filter>] [group by <keys>]
//! [having <condition>] [order by <expr> [asc|desc], …] [limit N]`.
//! Columns are aggregates (`count(*)`, `count(x)`, `distinct(x)`, `min`,
//! `max`, `mean`, `sum`, `percentile(x, p)`), expressions over them and over
//! group keys, each optionally `as Alias`. Group keys are expressions or one
//! `time(<duration>)` bucket. `having` and `order by` may name aliases.
//! A query with no aggregate and no `group by` returns one row per matching
//! event.

use std::sync::Arc;

use super::aggregate::AggCall;
use super::ast::{Expr, Root};
use super::compile::lift;
use super::error::{ByteError, FilterError, PResult};
use super::filter::{EvalContext, Filter};
use super::lexer::{Sym, Tok};
use super::parser::Parser;
use super::runner::QueryRunner;

/// A named expression: a result column or a group key.
#[derive(Debug, Clone)]
pub(crate) struct Column {
    pub name: String,
    pub expr: Expr,
}

/// A parsed query.
#[derive(Debug)]
pub(crate) struct Plan {
    /// Selected columns: row expressions when aggregating, event expressions otherwise.
    pub columns: Vec<Column>,
    pub aggs: Vec<AggCall>,
    pub filter: Option<Filter>,
    /// Group keys (event expressions).
    pub keys: Vec<Column>,
    /// `time(…)` bucket width in nanoseconds; its key comes first.
    pub bucket: Option<i64>,
    pub having: Option<Expr>,
    /// Sort expressions and whether descending.
    pub order: Vec<(Expr, bool)>,
    pub limit: Option<usize>,
    /// False for one row per event.
    pub aggregate: bool,
    /// Group keys shown as their own columns (those not selected outright).
    pub key_columns: Vec<usize>,
}

/// A compiled query. Cheap to clone and share between threads.
#[derive(Debug, Clone)]
pub struct Query {
    plan: Arc<Plan>,
}

impl Query {
    /// Parses and compiles query text; errors name the character position.
    pub fn parse(text: &str) -> Result<Query, FilterError> {
        let plan = parse_plan(text).map_err(|e| e.locate(text))?;
        Ok(Query {
            plan: Arc::new(plan),
        })
    }

    /// The `where` filter, for the executor's pruning (`time_bounds`,
    /// `severity_requirement`, `may_match_block`).
    pub fn filter(&self) -> Option<&Filter> {
        self.plan.filter.as_ref()
    }

    /// The result column names, in order.
    pub fn column_names(&self) -> Vec<String> {
        let p = &self.plan;
        let mut names = Vec::new();
        if p.bucket.is_some() {
            names.push("time".to_string());
        }
        names.extend(p.key_columns.iter().map(|&j| p.keys[j].name.clone()));
        names.extend(p.columns.iter().map(|c| c.name.clone()));
        names
    }

    /// Whether the query aggregates (groups or aggregate calls) rather than
    /// returning one row per event: its partial results are per group, so
    /// a scale-out run ships little.
    pub fn aggregates(&self) -> bool {
        self.plan.aggregate
    }

    /// A fresh runner: feed it events, merge runners, then finish.
    pub fn runner(&self, ctx: &EvalContext) -> QueryRunner {
        QueryRunner::new(self.clone(), ctx.now.0)
    }

    pub(crate) fn plan(&self) -> &Plan {
        &self.plan
    }
}

fn err_at(at: usize, m: impl Into<String>) -> ByteError {
    ByteError::new(at, m)
}

/// Replaces names of aliases with the aliased expressions.
fn resolve_aliases(e: &mut Expr, cols: &[Column]) {
    if let Expr::Path {
        root: Root::Property(n),
        segs,
        ..
    } = e
    {
        if segs.is_empty() {
            if let Some(c) = cols.iter().find(|c| c.name.eq_ignore_ascii_case(n)) {
                *e = c.expr.clone();
            }
        }
        return;
    }
    e.children_mut(&mut |c| resolve_aliases(c, cols));
}

/// Rewrites an expression to read a result row: group keys and aggregates.
fn to_row(e: &mut Expr, keys: &[Column], bucket: bool, at: usize) -> PResult<()> {
    let offset = usize::from(bucket);
    if let Some(j) = keys.iter().position(|k| k.expr == *e) {
        *e = Expr::GroupKey(j + offset);
        return Ok(());
    }
    match e {
        Expr::Path {
            root: Root::Property(n),
            segs,
            ..
        } if segs.is_empty() && bucket && n.eq_ignore_ascii_case("time") => {
            *e = Expr::GroupKey(0);
            return Ok(());
        }
        Expr::Path { root, pos, .. } => {
            let name = match root {
                Root::Property(n) => n.to_string(),
                _ => "@Properties".into(),
            };
            return Err(err_at(
                pos.0,
                format!("`{name}` must be in `group by` or inside an aggregate"),
            ));
        }
        Expr::Builtin(_) => {
            return Err(err_at(
                at,
                "built-in properties must be in `group by` or inside an aggregate",
            ))
        }
        _ => {}
    }
    let mut first: Option<ByteError> = None;
    e.children_mut(&mut |c| {
        if first.is_none() {
            first = to_row(c, keys, bucket, at).err();
        }
    });
    first.map_or(Ok(()), Err)
}

fn parse_plan(text: &str) -> PResult<Plan> {
    let mut p = Parser::new(text)?;
    p.expect_kw("select")?;
    p.aggs = Some(Vec::new());
    let mut columns = Vec::new();
    let mut starts = Vec::new();
    loop {
        let start = p.cur().start;
        let expr = p.parse_expr()?;
        let mut name = p.source(start, p.prev_end()).to_string();
        if p.eat_kw("as") {
            let t = p.bump();
            name = match t.tok {
                Tok::Ident(n) => n.to_string(),
                Tok::Str(s) => s,
                _ => return Err(err_at(t.start, "expected a column name after `as`")),
            };
        }
        columns.push(Column { name, expr });
        starts.push(start);
        if !p.eat_sym(Sym::Comma) {
            break;
        }
    }
    let aggs = p.aggs.take();
    p.expect_kw("from")?;
    p.expect_kw("stream")?;
    let filter = if p.eat_kw("where") {
        Some(Filter::compile(p.parse_expr()?)?)
    } else {
        None
    };
    let (mut keys, mut bucket) = (Vec::new(), None);
    if p.eat_kw("group") {
        p.expect_kw("by")?;
        loop {
            let start = p.cur().start;
            if p.is_kw("time") && *p.peek_next() == Tok::Sym(Sym::LParen) {
                p.bump();
                p.bump();
                let t = p.bump();
                let ns = match t.tok {
                    Tok::Duration(ns) if ns > 0 => i64::try_from(ns).unwrap_or(i64::MAX),
                    _ => {
                        return Err(err_at(
                            t.start,
                            "`time` needs a positive duration such as `1m`",
                        ))
                    }
                };
                if !p.eat_sym(Sym::RParen) {
                    return Err(p.unexpected("expected `)`"));
                }
                if bucket.replace(ns).is_some() {
                    return Err(err_at(start, "only one `time(…)` bucket is allowed"));
                }
            } else {
                let expr = p.parse_expr()?;
                keys.push(Column {
                    name: p.source(start, p.prev_end()).to_string(),
                    expr,
                });
            }
            if !p.eat_sym(Sym::Comma) {
                break;
            }
        }
    }
    p.aggs = aggs;
    let having = if p.eat_kw("having") {
        Some((p.cur().start, p.parse_expr()?))
    } else {
        None
    };
    let mut order = Vec::new();
    if p.eat_kw("order") {
        p.expect_kw("by")?;
        loop {
            let start = p.cur().start;
            let e = p.parse_expr()?;
            let desc = p.eat_kw("desc");
            if !desc {
                p.eat_kw("asc");
            }
            order.push((start, e, desc));
            if !p.eat_sym(Sym::Comma) {
                break;
            }
        }
    }
    let limit = if p.eat_kw("limit") {
        let t = p.bump();
        match t.tok {
            Tok::Num(n) => Some(
                n.parse::<usize>()
                    .map_err(|_| err_at(t.start, "`limit` needs a whole number"))?,
            ),
            _ => return Err(err_at(t.start, "`limit` needs a whole number")),
        }
    } else {
        None
    };
    p.expect_eof()?;
    let mut aggs = p.aggs.take().unwrap_or_default();
    let aggregate = !aggs.is_empty() || !keys.is_empty() || bucket.is_some();

    let mut having_expr = None;
    if let Some((at, mut e)) = having {
        if !aggregate {
            return Err(err_at(at, "`having` needs an aggregate or `group by`"));
        }
        resolve_aliases(&mut e, &columns);
        to_row(&mut e, &keys, bucket.is_some(), at)?;
        having_expr = Some(e);
    }
    let mut order_exprs = Vec::new();
    for (at, mut e, desc) in order {
        resolve_aliases(&mut e, &columns);
        if aggregate {
            to_row(&mut e, &keys, bucket.is_some(), at)?;
        } else {
            lift(&mut e, 0)?;
        }
        order_exprs.push((e, desc));
    }
    for (c, at) in columns.iter_mut().zip(starts) {
        if aggregate {
            to_row(&mut c.expr, &keys, bucket.is_some(), at)?;
        } else {
            lift(&mut c.expr, 0)?;
        }
    }
    let offset = usize::from(bucket.is_some());
    let key_columns = (0..keys.len())
        .filter(|j| !columns.iter().any(|c| c.expr == Expr::GroupKey(j + offset)))
        .collect();
    for k in &mut keys {
        lift(&mut k.expr, 0)?;
    }
    for a in &mut aggs {
        if let Some(arg) = &mut a.arg {
            lift(arg, 0)?;
        }
    }
    Ok(Plan {
        columns,
        aggs,
        filter,
        keys,
        bucket,
        having: having_expr,
        order: order_exprs,
        limit,
        aggregate,
        key_columns,
    })
}
