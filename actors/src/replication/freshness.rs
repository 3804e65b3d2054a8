//! [`Freshness`]: whether a follower is up to date while the leader keeps
//! committing.
//!
//! Comparing a follower with the leader's generation *now* calls every
//! follower stale under continuous ingestion (the leader is always a few
//! writes ahead). Instead a follower is up to date when it is connected and
//! holds everything the leader had committed [`UP_TO_DATE_WITHIN`] ago. The
//! leader's generation over time is sampled (by the ClusterCoordinator,
//! several times a heartbeat) from the store on the leader and from the
//! leader's frames on a follower, so both sides judge the same way.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use skein_store::Generation;

/// A follower is up to date when it holds everything the leader had
/// committed this long ago.
pub const UP_TO_DATE_WITHIN: Duration = Duration::from_secs(2);

/// Where the samples of the leader's generation come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// This node's store, while it leads.
    OwnStore,
    /// The leader's frames, while this node follows.
    LeaderFrames,
}

/// The leader's generation over the last [`UP_TO_DATE_WITHIN`] and a bit:
/// the moments it was seen to change.
#[derive(Debug, Default)]
pub struct Freshness {
    source: Option<Source>,
    samples: VecDeque<(Instant, Generation)>,
}

impl Freshness {
    /// Records that the leader's generation was `generation` at `at`
    /// (samples from another source start the record afresh).
    pub fn note(&mut self, source: Source, at: Instant, generation: Generation) {
        if self.source != Some(source) {
            self.source = Some(source);
            self.samples.clear();
        }
        if self.samples.back().is_none_or(|(_, g)| *g != generation) {
            self.samples.push_back((at, generation));
        }
        // Keep the newest sample at least UP_TO_DATE_WITHIN old, and after.
        while self.samples.len() > 1
            && at.saturating_duration_since(self.samples[1].0) >= UP_TO_DATE_WITHIN
        {
            self.samples.pop_front();
        }
    }

    /// What a follower must hold at `now` (from `source`'s samples): the
    /// leader's generation [`UP_TO_DATE_WITHIN`] ago, or — without samples
    /// that old — the oldest one seen (stricter); `None` without any.
    pub fn required(&self, source: Source, now: Instant) -> Option<Generation> {
        if self.source != Some(source) {
            return None;
        }
        self.samples
            .iter()
            .rev()
            .find(|(at, _)| now.saturating_duration_since(*at) >= UP_TO_DATE_WITHIN)
            .or(self.samples.front())
            .map(|(_, g)| *g)
    }

    /// Whether a connected follower at `follower` is up to date when the
    /// leader is at `leader` now: it holds the leader's current generation
    /// or what [`Freshness::required`] asks.
    pub fn up_to_date(
        &self,
        source: Source,
        now: Instant,
        follower: Generation,
        leader: Generation,
    ) -> bool {
        follower.ops() >= leader.ops()
            || self
                .required(source, now)
                .is_some_and(|r| follower.ops() >= r.ops())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(write: u64) -> Generation {
        Generation { model: 1, write }
    }

    #[test]
    fn a_follower_holding_what_was_committed_two_seconds_ago_is_up_to_date() {
        let t0 = Instant::now();
        let s = Source::OwnStore;
        let mut f = Freshness::default();
        // The leader commits every 100 ms for 5 s.
        for i in 0..50u64 {
            f.note(s, t0 + Duration::from_millis(100 * i), g(i));
        }
        let now = t0 + Duration::from_millis(4_900);
        // 2 s ago the leader was at write 29.
        assert_eq!(f.required(s, now), Some(g(29)));
        assert!(f.up_to_date(s, now, g(30), g(49)), "1.8 s behind");
        assert!(!f.up_to_date(s, now, g(20), g(49)), "2.9 s behind");
        assert!(f.up_to_date(s, now, g(49), g(49)), "at the leader");
        // Samples from the other side do not count.
        assert_eq!(f.required(Source::LeaderFrames, now), None);
        assert!(!f.up_to_date(Source::LeaderFrames, now, g(30), g(49)));
        // Old samples are dropped, all but the one still needed.
        assert!(f.samples.len() <= 22, "{}", f.samples.len());
    }

    #[test]
    fn young_samples_are_strict_and_a_new_source_starts_afresh() {
        let t0 = Instant::now();
        let mut f = Freshness::default();
        f.note(Source::LeaderFrames, t0, g(5));
        f.note(Source::LeaderFrames, t0 + Duration::from_millis(500), g(7));
        let now = t0 + Duration::from_secs(1);
        assert_eq!(f.required(Source::LeaderFrames, now), Some(g(5)));
        assert!(!f.up_to_date(Source::LeaderFrames, now, g(4), g(7)));
        f.note(Source::OwnStore, now, g(9));
        assert_eq!(f.required(Source::OwnStore, now), Some(g(9)));
        assert_eq!(f.required(Source::LeaderFrames, now), None);
    }
}
