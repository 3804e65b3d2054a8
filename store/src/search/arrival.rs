//! [`events_since_arrival`]: matching events in ARRIVAL order (the order the
//! writer stored them), from an arrival number on — what a live tail reads.
//! Event ids sort by timestamp first, so "newer than the newest id shown"
//! misses an event that arrives now with an older `@t`; arrival numbers do
//! not.
//!
//! Each block holds a contiguous run of arrival numbers (its header's
//! `first_arrival` and `event_count`), and blocks never share one, so the
//! read keeps only blocks ending after the starting number, visits them by
//! `first_arrival` and stops as soon as the page is full.

use crate::query::{EvalContext, Filter};
use crate::stream::{BlockRef, Store};
use crate::{Event, EventId, EventView, Timestamp};

use super::aggregate::candidate_blocks;
use super::page::{materialize, Hit};
use super::prefilter::needles;
use super::scan::{scan_block, Bounds, Plan, Sink};
use super::{check_page, SearchError, SearchStats};

/// What to read: events that arrived at or after `since` and match.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ArrivalRequest {
    /// The first arrival number wanted, inclusive (`fromArrival`).
    pub since: u64,
    /// Earliest timestamp, inclusive.
    pub from: Option<Timestamp>,
    /// Latest timestamp, exclusive.
    pub to: Option<Timestamp>,
    /// Most events returned, at most [`MAX_PAGE`].
    pub count: usize,
}

/// Events in arrival order and where the next read starts.
#[derive(Clone, Debug, PartialEq)]
pub struct ArrivalPage {
    /// Matching events, oldest arrival first.
    pub events: Vec<(EventId, Event)>,
    /// The `since` of the next read: just after the last event returned
    /// when the page is full, else the store's next arrival number as of
    /// this read (nothing before it is left unread).
    pub next_arrival: u64,
    /// What the read did.
    pub stats: SearchStats,
}

/// One past the last arrival number of a block.
fn arrival_end(b: &BlockRef) -> u64 {
    let h = &b.meta.header;
    h.first_arrival.saturating_add(u64::from(h.event_count))
}

/// The arrival number the next stored event will get, as far as readers
/// see (a cursor for [`events_since_arrival`] that skips everything stored).
pub fn next_arrival(store: &Store) -> u64 {
    let blocks = store.blocks(None, None);
    blocks.iter().map(arrival_end).max().unwrap_or(0)
}

/// Keeps the first `keep` matches of a block in `since..until`, in row
/// (arrival) order.
struct FirstHits<'a> {
    filter: &'a Filter,
    ctx: &'a EvalContext,
    since: u64,
    until: u64,
    keep: usize,
    block: usize,
    hits: Vec<Hit>,
}

impl Sink for FirstHits<'_> {
    #[inline]
    fn event<E: EventView + ?Sized>(&mut self, e: &E, id: EventId, row: u32) {
        if self.hits.len() < self.keep
            && (self.since..self.until).contains(&id.arrival)
            && self.filter.matches(e, self.ctx)
        {
            self.hits.push(Hit {
                id,
                block: self.block,
                row,
            });
        }
    }
}

/// Returns up to `req.count` events matching `filter` that arrived at or
/// after `req.since` (and lie in the request's time range), oldest arrival
/// first.
pub fn events_since_arrival(
    store: &Store,
    filter: &Filter,
    req: &ArrivalRequest,
    ctx: &EvalContext,
) -> Result<ArrivalPage, SearchError> {
    check_page(req.count)?;
    let mut stats = SearchStats::default();
    // The end first: blocks stored after it are left for the next read.
    let store_end = next_arrival(store);
    let bounds = Bounds::range(req.from, req.to);
    let mut blocks = candidate_blocks(store, &bounds, Some(filter), ctx, None);
    blocks.retain(|b| arrival_end(b) > req.since && b.meta.header.first_arrival < store_end);
    blocks.sort_by_key(|b| b.meta.header.first_arrival);
    stats.blocks_in_range = blocks.len();
    let (fields, needles) = (filter.fields(), needles(Some(filter)));
    let plan = Plan::new(&fields, &needles, &bounds);
    let mut hits: Vec<Hit> = Vec::new();
    for (k, b) in blocks.iter().enumerate() {
        if hits.len() >= req.count {
            stats.blocks_skipped = blocks.len() - k;
            break;
        }
        let mut sink = FirstHits {
            filter,
            ctx,
            since: req.since,
            until: store_end,
            keep: req.count - hits.len(),
            block: k,
            hits: Vec::new(),
        };
        stats.events_scanned += scan_block(b, &plan, &mut sink)? as u64;
        stats.blocks_scanned += 1;
        hits.extend(sink.hits);
    }
    let full = req.count > 0 && hits.len() >= req.count;
    let next_arrival = match hits.last() {
        Some(last) if full => last.id.arrival.saturating_add(1),
        _ if req.count == 0 => req.since,
        _ => store_end.max(req.since),
    };
    let mut events = materialize(store, &blocks, &hits)?;
    events.sort_unstable_by_key(|(id, _)| id.arrival);
    Ok(ArrivalPage {
        events,
        next_arrival,
        stats,
    })
}
