//! Search over the store: filter pages, counts and queries.
//!
//! - [`search_events`]: one newest-first (or oldest-first) page of matching
//!   events in exact [`EventId`] order, with `afterId`/`startAtId` paging,
//!   block pruning, parallel windows and an exact early stop (`page`).
//! - [`count_events`]: matches in a range, from block headers alone when the
//!   filter tests only the level (`aggregate`).
//! - [`events_since_arrival`]: matching events in arrival order from an
//!   arrival number on (the live tail), pruned by the blocks' arrival spans
//!   (`arrival`).
//! - [`run_query`]: a SQL-style [`crate::query::Query`], one runner per
//!   parallel task, merged (`aggregate`).
//! - [`plan_shares`], [`query_share`]: an aggregating query split by arrival
//!   number into [`Share`]s, one per node, each run where it is sent and
//!   merged (`share`: scale-out queries over a cluster).
//!
//! Inside: `scan` reads one block and feeds its in-range events to a sink
//! through `projection`, which decompresses only the columns the filter
//! reads ([`crate::query::Fields`]); a filter that renders messages (free
//! text, `@Message`) decodes whole blocks instead. `prefilter` skips a block
//! without reading it when its summary ([`crate::summary`]) lacks what every
//! match needs (`OrderId = 'ORD-1234562'`, `UserId = 400458`, free text),
//! and once read when a text every match must equal (`TraceId = '…'`)
//! appears nowhere in its column. Full events are decoded only for the page.

mod aggregate;
mod arrival;
mod page;
mod prefilter;
mod projection;
mod scan;
mod share;

#[cfg(test)]
mod tests;

pub use aggregate::{count_events, run_query};
pub use arrival::{events_since_arrival, next_arrival, ArrivalPage, ArrivalRequest};
pub use page::search_events;
pub use share::{plan_shares, query_share, Share, ShareError, SharePlan};

use crate::stream::{Order, StoreError};
use crate::{Event, EventId, Timestamp};

/// The largest page [`search_events`] returns.
pub const MAX_PAGE: usize = 10_000;

/// Events per page when the client names no count (Seq's default).
pub const DEFAULT_COUNT: usize = 30;

/// Refuses a page larger than [`MAX_PAGE`].
fn check_page(count: usize) -> Result<(), SearchError> {
    if count > MAX_PAGE {
        return Err(SearchError::PageTooLarge {
            requested: count,
            max: MAX_PAGE,
        });
    }
    Ok(())
}

/// What page of events to return.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SearchRequest {
    /// Earliest timestamp, inclusive (`fromDateUtc`).
    pub from: Option<Timestamp>,
    /// Latest timestamp, exclusive (`toDateUtc`).
    pub to: Option<Timestamp>,
    /// Most events on the page (`count`), at most [`MAX_PAGE`].
    pub count: usize,
    /// Start strictly after this id in result order (`afterId`: the next page).
    pub after_id: Option<EventId>,
    /// Start at this id, inclusive (`startAtId`).
    pub start_at_id: Option<EventId>,
    /// Result order; newest first unless asked otherwise.
    pub order: Order,
}

impl Default for SearchRequest {
    fn default() -> SearchRequest {
        SearchRequest {
            from: None,
            to: None,
            count: DEFAULT_COUNT,
            after_id: None,
            start_at_id: None,
            order: Order::NewestFirst,
        }
    }
}

/// What a search did, for logs and benchmarks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SearchStats {
    /// Blocks whose time range meets the request's.
    pub blocks_in_range: usize,
    /// Of those, blocks ruled out without reading them: by their header
    /// (time, ids, severities) or their summary.
    pub blocks_pruned: usize,
    /// Of the pruned, blocks ruled out by their summary (tokens, property
    /// names, numeric ranges).
    pub blocks_pruned_by_summary: usize,
    /// Blocks read and scanned.
    pub blocks_scanned: usize,
    /// Blocks never read because the page was full before their turn.
    pub blocks_skipped: usize,
    /// Events the filter was evaluated on.
    pub events_scanned: u64,
}

/// One page of matching events.
#[derive(Clone, Debug, PartialEq)]
pub struct SearchPage {
    /// The events in result order, each with its id.
    pub events: Vec<(EventId, Event)>,
    /// What the search read.
    pub stats: SearchStats,
}

/// Errors from searching.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// Reading the store failed (I/O, a corrupt block).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The requested page is larger than [`MAX_PAGE`].
    #[error("count {requested} is larger than the largest page, {max}")]
    PageTooLarge {
        /// The count asked for.
        requested: usize,
        /// [`MAX_PAGE`].
        max: usize,
    },
}
