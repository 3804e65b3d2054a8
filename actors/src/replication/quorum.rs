//! Durable acknowledgements: how many followers hold a write durably in
//! the leader's term ([`holders`], a pure function of the followers'
//! sessions), and why a write waited for them in vain ([`NotReplicated`]).
//!
//! With `replication.minimumAcknowledgingReplicas = N` the leader answers
//! a batch only once N distinct followers, each in a session established
//! in the batch's term, have acknowledged a generation at or past the
//! batch's (a follower acknowledges only what it has fsynced). A session of
//! an earlier term does not count: what it holds was copied from another
//! history.

use std::time::Duration;

use skein_store::Generation;

use super::state::FollowerInfo;

/// How many distinct followers hold `generation` of term `term`.
pub fn holders<'a>(
    followers: impl IntoIterator<Item = &'a FollowerInfo>,
    term: u64,
    generation: Generation,
) -> usize {
    let mut nodes: Vec<&str> = followers
        .into_iter()
        .filter(|f| f.term == term && f.generation >= generation)
        .map(|f| f.node.as_str())
        .collect();
    nodes.sort_unstable();
    nodes.dedup();
    nodes.len()
}

/// A write stored on the leader that too few followers acknowledged in time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "{held_by} of the {required} follower(s) required by replication.minimumAcknowledgingReplicas \
     held the batch durably within {waited:?}: it is stored on the leader but not acknowledged \
     (retry it; events are kept at most once per retry only if the client deduplicates)"
)]
pub struct NotReplicated {
    /// Followers that held it.
    pub held_by: usize,
    /// Followers required.
    pub required: usize,
    /// How long the write waited.
    pub waited: Duration,
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;

    fn session(node: &str, term: u64, write: u64) -> FollowerInfo {
        FollowerInfo {
            node: node.into(),
            term,
            generation: Generation { model: 1, write },
            ops_behind: 0,
            last_ack_at: Utc::now(),
            connected_since: Utc::now(),
        }
    }

    #[test]
    fn holders_are_distinct_followers_at_or_past_the_write_in_its_term() {
        let at = Generation { model: 1, write: 5 };
        let table: [(&[FollowerInfo], usize); 6] = [
            (&[], 0),
            (&[session("b", 3, 5)], 1),
            (&[session("b", 3, 4)], 0),
            // Another term's session holds another history.
            (&[session("b", 2, 9)], 0),
            // Two sessions of one follower count once.
            (&[session("b", 3, 5), session("b", 3, 7)], 1),
            (
                &[session("b", 3, 6), session("c", 3, 5), session("d", 3, 4)],
                2,
            ),
        ];
        for (followers, expected) in table {
            assert_eq!(holders(followers, 3, at), expected, "{followers:?}");
        }
    }
}
