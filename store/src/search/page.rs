//! [`search_events`]: one page of matching events in exact id order.
//!
//! 1. Select blocks by time range (the request's, the filter's `@Timestamp`
//!    bounds, the paging id), prune them by header (time, id span, required
//!    severities) and by summary (tokens, properties, numeric ranges).
//! 2. Sort them by their *leading edge*: the first id any of their events
//!    could have in result order (newest first: `(max_ts, last arrival)`).
//! 3. Scan windows of blocks in parallel (the first as wide as the thread
//!    pool, doubling up to [`MAX_WINDOW`]); each block keeps its best `count`
//!    matches; merge them into the page.
//! 4. Stop once the page is full and the next block's leading edge does not
//!    come before the page's last id: blocks may overlap in time, but no
//!    unscanned block can then hold an event that belongs on the page. Blocks
//!    of a window that cannot beat the page are skipped the same way.
//! 5. Decode in full only the blocks holding the page's events.

use std::cmp::Ordering;

use rayon::prelude::*;

use crate::query::{EvalContext, Filter};
use crate::stream::{BlockRef, Order, Store, StoreError};
use crate::{Event, EventId, EventView};

use super::prefilter::{admitted, needles};
use super::scan::{id_span, scan_block, Bounds, Plan, Sink};
use super::{check_page, SearchError, SearchPage, SearchRequest, SearchStats};

/// Most blocks scanned in one parallel window.
const MAX_WINDOW: usize = 64;

/// `a` against `b` in result order (`Less`: `a` comes first).
fn rank(order: Order, a: EventId, b: EventId) -> Ordering {
    match order {
        Order::NewestFirst => b.cmp(&a),
        Order::OldestFirst => a.cmp(&b),
    }
}

/// The first id a block's events could have in result order.
fn leading_edge(order: Order, b: &BlockRef) -> EventId {
    let (first, last) = id_span(&b.meta.header);
    match order {
        Order::NewestFirst => last,
        Order::OldestFirst => first,
    }
}

/// A match: its id, the block (index into the sorted block list) and row.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Hit {
    /// The event's id.
    pub id: EventId,
    /// Index of its block in the list the search scanned.
    pub block: usize,
    /// Its row in that block.
    pub row: u32,
}

/// Collects one block's matches, keeping its best `keep` in result order.
struct TopHits<'a> {
    filter: &'a Filter,
    ctx: &'a EvalContext,
    order: Order,
    keep: usize,
    block: usize,
    hits: Vec<Hit>,
}

impl TopHits<'_> {
    fn trim(&mut self) {
        let order = self.order;
        self.hits.sort_unstable_by(|a, b| rank(order, a.id, b.id));
        self.hits.truncate(self.keep);
    }
}

impl Sink for TopHits<'_> {
    #[inline]
    fn event<E: EventView + ?Sized>(&mut self, e: &E, id: EventId, row: u32) {
        if self.filter.matches(e, self.ctx) {
            self.hits.push(Hit {
                id,
                block: self.block,
                row,
            });
            if self.hits.len() >= 2 * self.keep.max(512) {
                self.trim();
            }
        }
    }
}

/// Returns one page of events matching `filter`, in exact id order (newest
/// first by default). `after_id` starts strictly after that id in result
/// order, `start_at_id` at it (inclusive).
pub fn search_events(
    store: &Store,
    filter: &Filter,
    req: &SearchRequest,
    ctx: &EvalContext,
) -> Result<SearchPage, SearchError> {
    check_page(req.count)?;
    Ok(search_unbounded(store, filter, req, ctx)?)
}

/// [`search_events`] without the page-size limit (queries feeding a runner).
pub(crate) fn search_unbounded(
    store: &Store,
    filter: &Filter,
    req: &SearchRequest,
    ctx: &EvalContext,
) -> Result<SearchPage, StoreError> {
    let mut stats = SearchStats::default();
    if req.count == 0 {
        return Ok(SearchPage {
            events: Vec::new(),
            stats,
        });
    }
    let bounds = request_bounds(req);
    let select = bounds.narrowed(Some(filter), ctx);
    let mut blocks = store.blocks(select.from, select.to);
    stats.blocks_in_range = blocks.len();
    blocks.retain(|b| {
        let h = &b.meta.header;
        select.may_hold(h) && filter.may_match_block(ctx, h.min_ts, h.max_ts, &h.level_counts)
    });
    let by_header = blocks.len();
    let need = filter.block_needs(ctx);
    blocks.retain(|b| admitted(&need, b));
    stats.blocks_pruned_by_summary = by_header - blocks.len();
    stats.blocks_pruned = stats.blocks_in_range - blocks.len();
    let order = req.order;
    blocks.sort_by(|a, b| rank(order, leading_edge(order, a), leading_edge(order, b)));

    let (fields, needles) = (filter.fields(), needles(Some(filter)));
    let plan = Plan::new(&fields, &needles, &bounds);
    let mut page: Vec<Hit> = Vec::new();
    let mut window = rayon::current_num_threads().max(1);
    let mut next = 0;
    while next < blocks.len() {
        let worst = (page.len() >= req.count).then(|| page[page.len() - 1].id);
        let could_enter = |b: &BlockRef| {
            worst.is_none_or(|w| rank(order, leading_edge(order, b), w) == Ordering::Less)
        };
        if !could_enter(&blocks[next]) {
            stats.blocks_skipped += blocks.len() - next;
            break;
        }
        let end = (next + window).min(blocks.len());
        let scanned: Vec<Option<(Vec<Hit>, usize)>> = (next..end)
            .into_par_iter()
            .map(|k| {
                if !could_enter(&blocks[k]) {
                    return Ok(None);
                }
                let mut sink = TopHits {
                    filter,
                    ctx,
                    order,
                    keep: req.count,
                    block: k,
                    hits: Vec::new(),
                };
                let fed = scan_block(&blocks[k], &plan, &mut sink)?;
                sink.trim();
                Ok(Some((sink.hits, fed)))
            })
            .collect::<Result<_, StoreError>>()?;
        for s in scanned {
            match s {
                None => stats.blocks_skipped += 1,
                Some((hits, fed)) => {
                    stats.blocks_scanned += 1;
                    stats.events_scanned += fed as u64;
                    page.extend(hits);
                }
            }
        }
        page.sort_unstable_by(|a, b| rank(order, a.id, b.id));
        page.truncate(req.count);
        next = end;
        window = (window * 2).min(MAX_WINDOW);
    }
    let mut events = materialize(store, &blocks, &page)?;
    events.sort_unstable_by(|a, b| rank(order, a.0, b.0));
    Ok(SearchPage { events, stats })
}

/// Decodes the page's events, each of their blocks once, in parallel
/// (in no particular order: the caller sorts them).
pub(crate) fn materialize(
    store: &Store,
    blocks: &[BlockRef],
    page: &[Hit],
) -> Result<Vec<(EventId, Event)>, StoreError> {
    let mut by_block: Vec<usize> = page.iter().map(|h| h.block).collect();
    by_block.sort_unstable();
    by_block.dedup();
    let decoded: Vec<Vec<(EventId, Event)>> = by_block
        .par_iter()
        .map(|&k| {
            let block = store.read_block(&blocks[k])?;
            let rows = page.iter().filter(|h| h.block == k);
            let get = |h: &Hit| {
                let i = h.row as usize;
                block.get(i).map(|_| (h.id, block.to_event(i)))
            };
            Ok(rows.filter_map(get).collect())
        })
        .collect::<Result<_, StoreError>>()?;
    Ok(decoded.into_iter().flatten().collect())
}

/// The request's time range and paging ids as [`Bounds`].
fn request_bounds(req: &SearchRequest) -> Bounds {
    let mut b = Bounds::range(req.from, req.to);
    for (id, inclusive) in [(req.after_id, false), (req.start_at_id, true)] {
        let Some(id) = id else { continue };
        let slot = match req.order {
            Order::NewestFirst => &mut b.hi,
            Order::OldestFirst => &mut b.lo,
        };
        let tighter = match *slot {
            None => true,
            Some((cur, cur_inc)) => {
                rank(req.order, id, cur) == Ordering::Greater
                    || (id == cur && !inclusive && cur_inc)
            }
        };
        if tighter {
            *slot = Some((id, inclusive));
        }
    }
    b
}
