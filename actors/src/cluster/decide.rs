//! The cluster's decisions, as pure functions of what the node knows: its
//! [`NodeState`], the leadership row it read, what its lease renewal
//! answered, the clock. No I/O and no actix: the ClusterCoordinator does
//! the reading and writing and enters the state these return, so every
//! transition is tested alone (`decide/tests.rs`).
//!
//! A round ([`renewal`] then [`next`]): the coordinator reads the row,
//! renews its lease in the term [`renewal`] names (if any), and enters
//! [`next`] of what it learnt — but only when the state it planned from
//! still has the same role and term ([`still_applies`]). Between rounds the
//! clock fences a leader whose lease may run out ([`on_clock`]). A start
//! ([`opening`], [`opened`]) and a graceful hand-over ([`demotion_begins`],
//! [`demotion_ends`]) are the other transitions.

use std::time::Instant;

use super::coordinator::{ClusterError, ClusterTiming};
use super::state::{Lease, NodeState};
use crate::messages::Role;
use crate::metastore::cluster::Leadership;

/// What renewing the lease answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Renewal {
    /// Renewed by a statement sent at `sent_at`.
    Held {
        /// When the statement was sent.
        sent_at: Instant,
    },
    /// Refused: the row no longer names this node in that term; the
    /// newest term read afterwards.
    Refused {
        /// The newest term.
        newest_term: u64,
    },
}

fn named(row: &Leadership, me: &str) -> bool {
    row.leader_node.as_deref() == Some(me)
}

/// The term in which another node leads, when the row names one.
pub fn leader_elsewhere(row: &Leadership, me: &str) -> Option<u64> {
    row.leader_node
        .as_deref()
        .is_some_and(|n| n != me)
        .then_some(row.term)
}

/// The term in which a round renews this node's lease: a leader's own
/// term while the row still names it there; the row's term for a node the
/// row names in a term it may lead in (a hand-over to it, or — for a node
/// fenced or waiting — the term it already holds). `None`: nothing to
/// renew.
pub fn renewal(state: &NodeState, row: &Leadership, me: &str) -> Option<u64> {
    if !named(row, me) {
        return None;
    }
    let may_lead_from = match *state {
        NodeState::Leading { term, .. }
        | NodeState::Draining {
            term,
            lease: Lease::Held { .. },
        } => return (row.term == term).then_some(term),
        // A draining node whose lease lapsed waits for its hand-over to end.
        NodeState::Draining {
            lease: Lease::Lapsed,
            ..
        } => return None,
        NodeState::Following { term } => term + 1,
        NodeState::Fenced { term } => term,
        NodeState::AwaitingLease { next, .. } => next,
    };
    (row.term >= may_lead_from).then_some(row.term)
}

/// Whether a round planned from `planned` may still be applied to `now`:
/// neither the role nor the term changed meanwhile (a demotion beginning
/// changes neither).
pub fn still_applies(planned: &NodeState, now: &NodeState) -> bool {
    (planned.role(), planned.term()) == (now.role(), now.term())
}

/// The state after a round that read `row` and, when [`renewal`] named a
/// term, renewed the lease with result `renewed`.
pub fn next(state: &NodeState, row: &Leadership, renewed: Option<Renewal>, me: &str) -> NodeState {
    let term = state.term();
    let newer = |t: u64| NodeState::Following { term: t.max(term) };
    match (*state, renewed) {
        // A leader not named in its own term any more has lost it.
        (NodeState::Leading { .. }, _) | (NodeState::Draining { .. }, _)
            if state.role() == Role::Leader && (!named(row, me) || row.term != term) =>
        {
            newer(row.term)
        }
        (NodeState::Leading { .. }, Some(Renewal::Held { sent_at })) => NodeState::Leading {
            term,
            renewed_at: sent_at,
        },
        (NodeState::Draining { .. }, Some(Renewal::Held { sent_at })) => NodeState::Draining {
            term,
            lease: Lease::Held {
                renewed_at: sent_at,
            },
        },
        (
            NodeState::Leading { .. } | NodeState::Draining { .. },
            Some(Renewal::Refused { newest_term }),
        ) => newer(newest_term),
        // Named and renewed in the row's term: lead, once any previous
        // leader's lease is over.
        (_, Some(Renewal::Held { sent_at })) => match row.previous_lease_remaining {
            left if left.is_zero() => NodeState::Leading {
                term: row.term,
                renewed_at: sent_at,
            },
            left => NodeState::AwaitingLease {
                term,
                next: row.term,
                left,
            },
        },
        _ if row.term > term => newer(row.term),
        // Waiting, and no longer renewed in the term it was named in.
        (NodeState::AwaitingLease { next, .. }, _) if next == term => NodeState::Fenced { term },
        (NodeState::AwaitingLease { .. }, _) => NodeState::Following { term },
        _ => *state,
    }
}

/// The state once the clock reads `now`: a leader fences itself when its
/// lease may run out within a heartbeat (the coordinator looks every
/// quarter heartbeat, so at least three quarters of one before the lease
/// runs out in the database — time for admitted requests to finish).
pub fn on_clock(state: &NodeState, now: Instant, timing: &ClusterTiming) -> NodeState {
    let expiring = |renewed_at: Instant| now + timing.heartbeat >= renewed_at + timing.lease;
    match *state {
        NodeState::Leading { term, renewed_at } if expiring(renewed_at) => {
            NodeState::Fenced { term }
        }
        NodeState::Draining {
            term,
            lease: Lease::Held { renewed_at },
        } if expiring(renewed_at) => NodeState::Draining {
            term,
            lease: Lease::Lapsed,
        },
        _ => *state,
    }
}

/// How a node opens, by the leadership row it read at start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Opening {
    /// The row names this node: renew its lease in `term` and lead.
    Resume {
        /// The row's term.
        term: u64,
    },
    /// Nobody has ever led and this node is configured to: take leadership.
    Take,
    /// Follow.
    Follow,
}

/// How a node configured as `configured` opens, by `row`.
pub fn opening(row: &Leadership, me: &str, configured: Role) -> Opening {
    if named(row, me) {
        Opening::Resume { term: row.term }
    } else if configured == Role::Leader && row.leader_node.is_none() {
        Opening::Take
    } else {
        Opening::Follow
    }
}

/// The state a node opens in: `won` is the term whose lease it holds after
/// [`opening`] (renewed or taken at `at`), if any.
pub fn opened(row: &Leadership, won: Option<u64>, at: Instant) -> NodeState {
    match won {
        Some(term) if term == row.term && !row.previous_lease_remaining.is_zero() => {
            NodeState::AwaitingLease {
                term,
                next: term,
                left: row.previous_lease_remaining,
            }
        }
        Some(term) => NodeState::Leading {
            term,
            renewed_at: at,
        },
        None => NodeState::Following { term: row.term },
    }
}

/// The state a node opens in when the metastore cannot be read: fenced in
/// its store's term, free to lead once the row is seen to name it.
pub fn opened_blind(store_term: u64) -> NodeState {
    NodeState::Fenced { term: store_term }
}

/// The state while a graceful hand-over runs; only a leader not already
/// handing over may begin one.
pub fn demotion_begins(state: &NodeState) -> Result<NodeState, ClusterError> {
    match *state {
        NodeState::Draining { .. } => Err(ClusterError::Busy),
        NodeState::Leading { term, renewed_at } => Ok(NodeState::Draining {
            term,
            lease: Lease::Held { renewed_at },
        }),
        _ => Err(ClusterError::NotLeader),
    }
}

/// How a hand-over ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HandOver {
    /// Leadership went to the successor in `term`.
    Done {
        /// The successor's term.
        term: u64,
    },
    /// It did not happen; this node leads on (its lease renewed at
    /// `renewed`, when it was).
    Kept {
        /// When the lease was renewed at the end.
        renewed: Option<Instant>,
    },
    /// It did not happen and this node's leadership is in doubt: stop
    /// accepting writes, lead again if the row still names it.
    Fence,
}

/// The state after a hand-over ended as `ended`.
pub fn demotion_ends(state: &NodeState, ended: HandOver) -> NodeState {
    match (*state, ended) {
        (_, HandOver::Done { term }) => NodeState::Following {
            term: term.max(state.term()),
        },
        (
            NodeState::Draining {
                term,
                lease: Lease::Held { renewed_at },
            },
            HandOver::Kept { renewed },
        ) => NodeState::Leading {
            term,
            renewed_at: renewed.unwrap_or(renewed_at).max(renewed_at),
        },
        (NodeState::Draining { term, .. }, _) => NodeState::Fenced { term },
        _ => *state,
    }
}

#[cfg(test)]
mod tests;
