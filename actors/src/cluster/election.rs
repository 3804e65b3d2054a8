//! Automatic election, as pure functions: whether there is an election at
//! all ([`election_open`], rule 1 below) and, in one, whether this node may
//! take the next term now that the leader's lease has run out
//! ([`candidacy`], rules 2–4).
//!
//! **The rule.** Let the leader of term T have acknowledged a write only
//! once `N` followers held it durably in T (`replication.minimumAcknowledgingReplicas`,
//! written into the leadership row by the statement that granted its
//! lease), and let the cluster have `F` followers (every node with a row in
//! the shared metastore but T's leader). A node stands for term T + 1 only
//! when:
//!
//! 1. it stands in elections at all (`cluster.autoFailover`), follows, and
//!    the row's lease has run out by the database's clock (the old leader
//!    fences itself before that, so the set of acknowledged writes is
//!    final);
//! 2. it knows the positions of at least `F − N + 1` followers, itself
//!    included, each sampled after the lease ran out (a node samples its
//!    store's position after reading the database's clock, and reports
//!    that clock with it);
//! 3. no position it knows is ahead of its own: positions order by the term
//!    of the newest operation, then by generation;
//! 4. no live candidate is ahead of it, or level with it and first by name
//!    (the stable tie-break).
//!
//! **Why no acknowledged write is lost.** A write acknowledged in T is held
//! by at least `N` of the `F` followers (a node that joined later only
//! makes `F` larger). Any `F − N + 1` followers include one of them
//! (pigeonhole), and that one's position is at or past the write's, since
//! in T only the leader writes and followers copy its operations in order.
//! A candidate at or ahead of every position it knows holds the write; the
//! term is then taken by compare-and-swap on the row, only while its lease
//! has run out, so at most one node wins each term. With `N = 0` (Seq's
//! asynchronous replication) nothing is promised and one report — the
//! candidate's own — suffices; rule 4 still prefers the most up-to-date
//! node. Tests: `election/tests.rs`.

use std::cmp::Ordering;
use std::time::Duration;

use skein_store::Generation;

use super::state::NodeState;
use crate::metastore::cluster::{Elector, Leadership};

/// How far a node's store has come: the term of its newest operation,
/// then its generation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Position {
    /// The term of the store's newest operation (0: none).
    pub term: u64,
    /// The store's generation.
    pub generation: Generation,
}

impl Ord for Position {
    fn cmp(&self, other: &Position) -> Ordering {
        (self.term, self.generation).cmp(&(other.term, other.generation))
    }
}

impl PartialOrd for Position {
    fn partial_cmp(&self, other: &Position) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl std::fmt::Display for Position {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} in term {}", self.generation, self.term)
    }
}

/// This node, as it enters an election.
#[derive(Clone, Copy, Debug)]
pub struct Ballot<'a> {
    /// Its name.
    pub me: &'a str,
    /// Its store's position, read now.
    pub position: Position,
    /// Whether it stands at all (`cluster.autoFailover`).
    pub auto_failover: bool,
    /// A node silent for longer is not waited for.
    pub node_stale: Duration,
}

/// Whether to stand for the next term.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Candidacy {
    /// Take the term after the row's by compare-and-swap.
    Stand,
    /// Not now.
    Wait(Waiting),
}

/// Why a node in an election does not stand.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Waiting {
    /// Fewer followers than needed reported after the lease ran out.
    TooFewReports {
        /// Positions known (its own included).
        known: usize,
        /// Positions needed.
        needed: usize,
    },
    /// Another follower holds more: this node might lack acknowledged writes.
    Behind {
        /// That follower.
        node: String,
        /// Its position.
        position: Position,
    },
    /// A live candidate is ahead, or level and first by name.
    Defers {
        /// That candidate.
        node: String,
    },
}

impl std::fmt::Display for Waiting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Waiting::TooFewReports { known, needed } => write!(
                f,
                "{known} of the {needed} follower positions needed were reported after the lease ran out"
            ),
            Waiting::Behind { node, position } => {
                write!(f, "{node} holds more ({position})")
            }
            Waiting::Defers { node } => write!(f, "{node} stands first"),
        }
    }
}

/// How many follower positions (the candidate's own included) an election
/// needs when the lost leader waited for `acknowledging` followers of
/// `followers`: enough to include one that held every acknowledged write.
pub fn reports_needed(followers: usize, acknowledging: u32) -> usize {
    match acknowledging as usize {
        0 => 1,
        n => (followers + 1).saturating_sub(n).max(1),
    }
}

/// An election under way, as [`election_open`] found it: the only way
/// into [`candidacy`].
#[derive(Clone, Copy, Debug)]
pub struct Election<'a> {
    /// The leadership row whose lease ran out.
    row: &'a Leadership,
    /// This node.
    ballot: Ballot<'a>,
}

/// Whether a node in `state` that read `row` is in an election (rule 1):
/// it stands in elections at all, follows, the row's lease has run out and
/// the row does not name it (then it renews; it is not elected). `None`:
/// no election, and the node rows need not be read.
pub fn election_open<'a>(
    state: &NodeState,
    row: &'a Leadership,
    ballot: Ballot<'a>,
) -> Option<Election<'a>> {
    let following = matches!(state, NodeState::Following { .. });
    let named = row.leader_node.as_deref() == Some(ballot.me);
    let open = ballot.auto_failover && following && !row.lease_valid && !named;
    open.then_some(Election { row, ballot })
}

/// Whether a node in `election`, having read `electors` (every node's
/// row), should stand for the next term (rules 2–4).
pub fn candidacy(election: &Election, electors: &[Elector]) -> Candidacy {
    let Election { row, ballot } = *election;
    let leader = row.leader_node.as_deref();
    let others: Vec<&Elector> = electors
        .iter()
        .filter(|e| Some(e.name.as_str()) != leader && e.name != ballot.me)
        .collect();
    let position = |e: &Elector| Position {
        term: e.store_term,
        generation: e.generation,
    };
    let followers = others.len() + 1;
    let acknowledging = match leader {
        Some(_) => row.acknowledging_replicas,
        None => 0,
    };
    let needed = reports_needed(followers, acknowledging);
    let reported: Vec<&&Elector> = others.iter().filter(|e| e.sampled_after_lease).collect();
    let known = reported.len() + 1;
    if known < needed {
        return Candidacy::Wait(Waiting::TooFewReports { known, needed });
    }
    if acknowledging > 0 {
        if let Some(ahead) = reported
            .iter()
            .filter(|e| position(e) > ballot.position)
            .max_by_key(|e| position(e))
        {
            return Candidacy::Wait(Waiting::Behind {
                node: ahead.name.clone(),
                position: position(ahead),
            });
        }
    }
    let first = others.iter().find(|e| {
        let live = e.auto_failover && e.silent < ballot.node_stale;
        let theirs = position(e);
        live && (theirs > ballot.position
            || (theirs == ballot.position && e.name.as_str() < ballot.me))
    });
    match first {
        Some(e) => Candidacy::Wait(Waiting::Defers {
            node: e.name.clone(),
        }),
        None => Candidacy::Stand,
    }
}

#[cfg(test)]
mod tests;
