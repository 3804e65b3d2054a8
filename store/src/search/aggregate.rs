//! [`count_events`] and [`run_query`]: whole-range answers, scanned in
//! parallel over blocks.
//!
//! A filter that reads nothing but the severity (`@Level = 'Error'`, `@Level
//! in [...]`, their `not`/`and`/`or`, or no filter) is counted from block
//! headers alone: it is evaluated once per severity, and each block wholly
//! inside the range adds its per-severity counts. Other blocks, and other
//! filters, are scanned through a projection of the columns they read.

use rayon::prelude::*;

use crate::query::{EvalContext, Filter, Query, QueryResult, QueryRunner};
use crate::stream::{BlockRef, Store, StoreError};
use crate::{EventId, EventView, Severity, Timestamp};

use super::page::search_unbounded;
use super::prefilter::{admitted, needles};
use super::projection::SeverityOnly;
use super::scan::{id_span, scan_block, Bounds, Plan, Sink};
use super::share::Share;
use super::{SearchError, SearchRequest};

/// Counts matches.
struct Counter<'a> {
    filter: &'a Filter,
    ctx: &'a EvalContext,
    n: u64,
}

impl Sink for Counter<'_> {
    #[inline]
    fn event<E: EventView + ?Sized>(&mut self, e: &E, _: EventId, _: u32) {
        self.n += u64::from(self.filter.matches(e, self.ctx));
    }
}

/// Feeds every event to a query runner (which applies the `where` filter).
struct Feed<'a>(&'a mut QueryRunner);

impl Sink for Feed<'_> {
    #[inline]
    fn event<E: EventView + ?Sized>(&mut self, e: &E, _: EventId, _: u32) {
        self.0.accept(e);
    }
}

/// Blocks in `[from, to)` that `filter` may match, pruned by header and
/// summary (and to those holding an event of `share`, when given).
pub(crate) fn candidate_blocks(
    store: &Store,
    bounds: &Bounds,
    filter: Option<&Filter>,
    ctx: &EvalContext,
    share: Option<&Share>,
) -> Vec<BlockRef> {
    let select = bounds.narrowed(filter, ctx);
    let need = filter.map(|f| f.block_needs(ctx));
    let mut blocks = store.blocks(select.from, select.to);
    blocks.retain(|b| {
        let h = &b.meta.header;
        let (first, last) = id_span(h);
        select.may_hold(h)
            && filter.is_none_or(|f| f.may_match_block(ctx, h.min_ts, h.max_ts, &h.level_counts))
            && share.is_none_or(|s| s.meets(first.arrival, last.arrival))
            && need.as_ref().is_none_or(|n| admitted(n, b))
    });
    blocks
}

/// The severities a severity-only filter matches, `None` for other filters.
fn severity_table(filter: &Filter, ctx: &EvalContext) -> Option<[bool; 6]> {
    if !filter.fields().severity_only() {
        return None;
    }
    Some(Severity::ALL.map(|s| filter.matches(&SeverityOnly(s), ctx)))
}

/// Counts the events with `from <= timestamp < to` that match `filter`.
pub fn count_events(
    store: &Store,
    filter: &Filter,
    from: Option<Timestamp>,
    to: Option<Timestamp>,
    ctx: &EvalContext,
) -> Result<u64, SearchError> {
    let bounds = Bounds::range(from, to);
    let blocks = candidate_blocks(store, &bounds, Some(filter), ctx, None);
    let table = severity_table(filter, ctx);
    if table == Some([false; 6]) {
        return Ok(0);
    }
    let (fields, needles) = (filter.fields(), needles(Some(filter)));
    let plan = Plan::new(&fields, &needles, &bounds);
    let total = blocks
        .par_iter()
        .map(|b| {
            let h = &b.meta.header;
            if let Some(set) = table.filter(|_| bounds.holds_all(h)) {
                let counts = h.level_counts.iter().zip(set);
                return Ok(counts
                    .filter(|(_, on)| *on)
                    .map(|(&c, _)| u64::from(c))
                    .sum());
            }
            let mut sink = Counter { filter, ctx, n: 0 };
            scan_block(b, &plan, &mut sink)?;
            Ok(sink.n)
        })
        .try_reduce(|| 0, |a, b| Ok(a + b))
        .map_err(|e: StoreError| SearchError::Store(e))?;
    Ok(total)
}

/// Runs `query` over the events with `from <= timestamp < to`.
///
/// Aggregating queries (and ordered per-event queries) scan blocks in
/// parallel, one [`QueryRunner`] per task, merged at the end. A per-event
/// query with `limit` and no `order by` keeps the newest matching events: it
/// is answered from one search page.
pub fn run_query(
    store: &Store,
    query: &Query,
    from: Option<Timestamp>,
    to: Option<Timestamp>,
    ctx: &EvalContext,
) -> Result<QueryResult, SearchError> {
    if let Some(limit) = query.ordered_limit() {
        return ordered(store, query, limit, (from, to), ctx);
    }
    let runner = scan_query(store, query, &Bounds::range(from, to), ctx, None)?;
    Ok(runner.finish())
}

/// Feeds every event within `bounds` (and `share`) to runners of `query`,
/// one per parallel task, and merges them.
pub(crate) fn scan_query(
    store: &Store,
    query: &Query,
    bounds: &Bounds,
    ctx: &EvalContext,
    share: Option<&Share>,
) -> Result<QueryRunner, StoreError> {
    let filter = query.filter();
    let blocks = candidate_blocks(store, bounds, filter, ctx, share);
    let fields = query.fields();
    let needles = needles(filter);
    let plan = Plan {
        share,
        ..Plan::new(&fields, &needles, bounds)
    };
    blocks
        .par_iter()
        .try_fold(
            || query.runner(ctx),
            |mut runner, b| {
                scan_block(b, &plan, &mut Feed(&mut runner))?;
                Ok::<_, StoreError>(runner)
            },
        )
        .try_reduce(
            || query.runner(ctx),
            |mut a, b| {
                a.merge(b);
                Ok(a)
            },
        )
}

/// A per-event query with `limit` and no `order by`: its newest matches,
/// found by one search page and fed in result order.
fn ordered(
    store: &Store,
    query: &Query,
    limit: usize,
    bounds: (Option<Timestamp>, Option<Timestamp>),
    ctx: &EvalContext,
) -> Result<QueryResult, SearchError> {
    let all = Filter::match_all();
    let req = SearchRequest {
        from: bounds.0,
        to: bounds.1,
        count: limit,
        ..SearchRequest::default()
    };
    let page = search_unbounded(store, query.filter().unwrap_or(&all), &req, ctx)?;
    let mut runner = query.runner(ctx);
    for (_, e) in &page.events {
        runner.accept(e);
    }
    Ok(runner.finish())
}
