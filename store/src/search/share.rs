//! Scale-out queries: a whole-range query split into [`Share`]s of the
//! events by arrival number, one per node, each run where it is sent
//! ([`query_share`]) and merged ([`crate::query::QueryRunner::absorb`]).
//!
//! Every node that replicated the same history holds the same events under
//! the same arrival numbers (the leader numbers them, followers store its
//! blocks). A share is a set of arrival ranges, and the shares of one
//! [`SharePlan`] cover every arrival number below the plan's snapshot
//! exactly once: an event counts in exactly one share, whatever each
//! node's block layout, so the merged answer is the single node's. Events
//! stored after the plan was made are in no share (the answer is as of the
//! plan, as a single node's is as of its scan).
//!
//! [`plan_shares`] cuts the blocks the query would scan (pruned as for a
//! local run) into runs of about equal event counts and deals the runs
//! round-robin, so each share spans the whole time range and a burst of
//! matching events is spread over the nodes.

use serde::{Deserialize, Serialize};

use crate::query::{EvalContext, PartialQuery, Query};
use crate::stream::Store;
use crate::Timestamp;

use super::aggregate::{candidate_blocks, scan_query};
use super::arrival::next_arrival;
use super::scan::{id_span, Bounds};
use super::SearchError;

/// Runs of blocks dealt to each share: more spreads a time-narrow burst of
/// matches over the nodes, fewer keeps each node's reads sequential.
const RUNS_PER_SHARE: u64 = 8;

/// The events one node scans: half-open arrival ranges `[start, end)`,
/// sorted and disjoint. Decoded from the wire only through [`Share::new`]'s
/// checks.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Vec<(u64, u64)>", into = "Vec<(u64, u64)>")]
pub struct Share {
    ranges: Vec<(u64, u64)>,
}

/// Arrival ranges that do not make a share.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("arrival ranges must be non-empty, sorted and disjoint: {0}")]
pub struct ShareError(String);

impl Share {
    /// The share of the arrival ranges `[start, end)`, which must each be
    /// non-empty, in order and disjoint.
    pub fn new(ranges: Vec<(u64, u64)>) -> Result<Share, ShareError> {
        if let Some(&(s, e)) = ranges.iter().find(|(s, e)| s >= e) {
            return Err(ShareError(format!("[{s}, {e}) is empty")));
        }
        if let Some(w) = ranges.windows(2).find(|w| w[0].1 > w[1].0) {
            return Err(ShareError(format!(
                "[{}, {}) does not end before [{}, {})",
                w[0].0, w[0].1, w[1].0, w[1].1
            )));
        }
        Ok(Share { ranges })
    }

    /// The arrival ranges.
    pub fn ranges(&self) -> &[(u64, u64)] {
        &self.ranges
    }

    /// Whether the share holds no arrival number.
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// The arrival numbers the share holds.
    pub fn len(&self) -> u64 {
        self.ranges.iter().map(|(s, e)| e - s).sum()
    }

    /// Whether `arrival` is in the share.
    #[inline]
    pub(crate) fn admits(&self, arrival: u64) -> bool {
        let i = self.ranges.partition_point(|&(_, end)| end <= arrival);
        self.ranges
            .get(i)
            .is_some_and(|&(start, _)| start <= arrival)
    }

    /// Whether the share holds any arrival number in `first..=last`.
    pub(crate) fn meets(&self, first: u64, last: u64) -> bool {
        let i = self.ranges.partition_point(|&(_, end)| end <= first);
        self.ranges.get(i).is_some_and(|&(start, _)| start <= last)
    }
}

impl TryFrom<Vec<(u64, u64)>> for Share {
    type Error = ShareError;

    fn try_from(ranges: Vec<(u64, u64)>) -> Result<Share, ShareError> {
        Share::new(ranges)
    }
}

impl From<Share> for Vec<(u64, u64)> {
    fn from(share: Share) -> Vec<(u64, u64)> {
        share.ranges
    }
}

/// A query split into shares.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SharePlan {
    /// One share per node asked; together they hold every arrival number
    /// below [`SharePlan::below`], each once.
    pub shares: Vec<Share>,
    /// The events of the blocks the query scans (what is worth splitting).
    pub events: u64,
    /// The snapshot: the arrival number the next stored event gets. A node
    /// can run a share once it holds every event below it.
    pub below: u64,
}

/// Splits `query` over `from <= timestamp < to` into `nodes` shares (at
/// least one).
pub fn plan_shares(
    store: &Store,
    query: &Query,
    (from, to): (Option<Timestamp>, Option<Timestamp>),
    ctx: &EvalContext,
    nodes: usize,
) -> SharePlan {
    let below = next_arrival(store);
    let blocks = candidate_blocks(store, &Bounds::range(from, to), query.filter(), ctx, None);
    let mut spans: Vec<(u64, u64)> = blocks
        .iter()
        .map(|b| {
            let (first, last) = id_span(&b.meta.header);
            (first.arrival, last.arrival.saturating_add(1).min(below))
        })
        .filter(|(first, end)| first < end)
        .collect();
    spans.sort_unstable();
    deal(&spans, below, nodes.max(1))
}

/// Deals the block spans `[first, end)` (sorted) into `nodes` shares
/// covering `0..below`: cut after runs of about `events / (nodes × runs)`
/// events, run `k` going to share `k mod nodes`.
fn deal(spans: &[(u64, u64)], below: u64, nodes: usize) -> SharePlan {
    let events: u64 = spans.iter().map(|(s, e)| e - s).sum();
    let runs = nodes as u64 * RUNS_PER_SHARE;
    let run_size = events.div_ceil(runs).max(1);
    let mut cuts = vec![0];
    let mut in_run = 0;
    for &(first, end) in spans {
        in_run += end - first;
        if in_run >= run_size && end < below {
            cuts.push(end);
            in_run = 0;
        }
    }
    cuts.push(below);
    cuts.dedup();
    let mut ranges = vec![Vec::new(); nodes];
    for (k, w) in cuts.windows(2).enumerate() {
        if w[0] < w[1] {
            ranges[k % nodes].push((w[0], w[1]));
        }
    }
    SharePlan {
        shares: ranges.into_iter().map(|ranges| Share { ranges }).collect(),
        events,
        below,
    }
}

/// Runs an aggregating `query` over the events of `share` with `from <=
/// timestamp < to`: this node's part of a scale-out query.
pub fn query_share(
    store: &Store,
    query: &Query,
    (from, to): (Option<Timestamp>, Option<Timestamp>),
    ctx: &EvalContext,
    share: &Share,
) -> Result<PartialQuery, SearchError> {
    let runner = scan_query(store, query, &Bounds::range(from, to), ctx, Some(share))?;
    Ok(runner.into_partial())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn covered(plan: &SharePlan) -> Vec<u64> {
        let mut all: Vec<u64> = plan
            .shares
            .iter()
            .flat_map(|s| s.ranges().iter().flat_map(|&(a, b)| a..b))
            .collect();
        all.sort_unstable();
        all
    }

    #[test]
    fn shares_cover_every_arrival_below_the_snapshot_once() {
        let spans: Vec<(u64, u64)> = (0..50).map(|i| (i * 10, i * 10 + 10)).collect();
        for nodes in 1..5 {
            let plan = deal(&spans, 500, nodes);
            assert_eq!(plan.shares.len(), nodes);
            assert_eq!(covered(&plan), (0..500).collect::<Vec<_>>());
            assert_eq!(plan.events, 500);
            for s in &plan.shares {
                assert!(Share::new(s.ranges().to_vec()).is_ok(), "{s:?}");
            }
        }
    }

    #[test]
    fn shares_get_about_equal_events_and_span_the_whole_range() {
        let spans: Vec<(u64, u64)> = (0..300).map(|i| (i * 100, i * 100 + 100)).collect();
        let plan = deal(&spans, 30_000, 3);
        for s in &plan.shares {
            let n = s.len();
            assert!((9_000..=11_000).contains(&n), "{n} of 30000 in {s:?}");
            assert!(s.ranges().first().unwrap().0 < 5_000, "{s:?}");
            assert!(s.ranges().last().unwrap().1 > 25_000, "{s:?}");
        }
    }

    #[test]
    fn gaps_between_pruned_blocks_fall_in_some_share() {
        // Blocks pruned away leave gaps; an event there still has one share.
        let spans = [(100, 200), (5_000, 5_100), (9_000, 9_050)];
        let plan = deal(&spans, 10_000, 2);
        assert_eq!(covered(&plan), (0..10_000).collect::<Vec<_>>());
    }

    #[test]
    fn nothing_to_scan_gives_one_share_of_everything() {
        let plan = deal(&[], 42, 3);
        assert_eq!(plan.events, 0);
        assert_eq!(covered(&plan), (0..42).collect::<Vec<_>>());
        assert_eq!(deal(&[], 0, 2).shares, vec![Share::default(); 2]);
    }

    #[test]
    fn admits_and_meets_follow_the_ranges() {
        let s = Share::new(vec![(10, 20), (30, 31)]).unwrap();
        let admitted: Vec<u64> = (0..40).filter(|&a| s.admits(a)).collect();
        assert_eq!(admitted, [(10..20).collect::<Vec<_>>(), vec![30]].concat());
        assert!(s.meets(0, 10) && s.meets(19, 29) && s.meets(25, 30) && s.meets(30, 99));
        assert!(!s.meets(0, 9) && !s.meets(20, 29) && !s.meets(31, 99));
    }

    #[test]
    fn malformed_ranges_are_refused() {
        assert!(Share::new(vec![(5, 5)]).is_err());
        assert!(Share::new(vec![(6, 5)]).is_err());
        assert!(Share::new(vec![(0, 10), (9, 12)]).is_err());
        assert!(Share::new(vec![(10, 12), (0, 5)]).is_err());
        assert!(Share::new(vec![(0, 10), (10, 12)]).is_ok());
        let bytes = serde_json::to_vec(&[(3u64, 1u64)]).unwrap();
        assert!(serde_json::from_slice::<Share>(&bytes).is_err());
    }
}
