//! [`NodeState`]: what a clustered node is, as one value. The
//! ClusterCoordinator holds it and publishes it (as a
//! [`RoleSnapshot`](crate::messages::role::RoleSnapshot)); every change is
//! computed by [`super::decide`].
//!
//! A standalone node (or one without a shared metastore) has no
//! coordinator and no `NodeState`: its role is fixed.

use std::time::{Duration, Instant};

use crate::messages::Role;

/// Whether a draining leader still holds its lease.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lease {
    /// Renewed by a statement sent at `renewed_at`.
    Held {
        /// When the renewing statement was sent.
        renewed_at: Instant,
    },
    /// Not renewed in time: the node acknowledges nothing.
    Lapsed,
}

/// What a clustered node is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeState {
    /// Follows whoever leads in `term` (or nobody yet).
    Following {
        /// The newest term it knows of.
        term: u64,
    },
    /// Stopped accepting writes in `term` for want of the metastore (its
    /// lease could not be renewed in time, or the leadership row could not
    /// be read at start); leads again once the row is seen to still name
    /// it in `term` and its lease is renewed.
    Fenced {
        /// The term it led (or may lead) in.
        term: u64,
    },
    /// Named leader in term `next`, holding that lease, while the previous
    /// leader's lease still runs for `left` (as of the last round): follows
    /// in `term` until that lease has run out.
    AwaitingLease {
        /// The term it follows in meanwhile.
        term: u64,
        /// The term it is named leader in.
        next: u64,
        /// How long the previous leader's lease ran for yet.
        left: Duration,
    },
    /// Leads in `term`.
    Leading {
        /// The term.
        term: u64,
        /// When the statement that last renewed its lease was sent: its
        /// lease runs until at least this plus the lease duration.
        renewed_at: Instant,
    },
    /// A leader handing over: it admits no new requests while those
    /// running finish and the successor catches up, and its lease may
    /// lapse meanwhile.
    Draining {
        /// The term it leads in.
        term: u64,
        /// Its lease.
        lease: Lease,
    },
}

impl NodeState {
    /// The role this state plays: a leader only while it holds its lease.
    pub fn role(&self) -> Role {
        match self {
            NodeState::Leading { .. }
            | NodeState::Draining {
                lease: Lease::Held { .. },
                ..
            } => Role::Leader,
            _ => Role::Follower,
        }
    }

    /// The term this state belongs to.
    pub fn term(&self) -> u64 {
        match *self {
            NodeState::Following { term }
            | NodeState::Fenced { term }
            | NodeState::AwaitingLease { term, .. }
            | NodeState::Leading { term, .. }
            | NodeState::Draining { term, .. } => term,
        }
    }

    /// When the lease was last renewed, while this state holds one.
    pub fn renewed_at(&self) -> Option<Instant> {
        match *self {
            NodeState::Leading { renewed_at, .. }
            | NodeState::Draining {
                lease: Lease::Held { renewed_at },
                ..
            } => Some(renewed_at),
            _ => None,
        }
    }

    /// Until when this state may acknowledge writes, given the lease's
    /// duration (`None` when it may not).
    pub fn lease_until(&self, lease: Duration) -> Option<Instant> {
        self.renewed_at().map(|at| at + lease)
    }

    /// Whether new requests are held (a hand-over is under way).
    pub fn is_draining(&self) -> bool {
        matches!(self, NodeState::Draining { .. })
    }

    /// What the node's heartbeat row says it is doing; a following node's
    /// replication state, when it has one, says more than "following".
    pub fn describe(&self, replication: Option<&str>) -> String {
        match *self {
            NodeState::Draining { .. } => "handing leadership over".into(),
            NodeState::AwaitingLease { left, .. } => waiting_state(left),
            NodeState::Leading { term, .. } => format!("leading in term {term}"),
            _ if replication.is_some() => replication.unwrap_or_default().into(),
            NodeState::Fenced { .. } => "not accepting writes: lease not renewed".into(),
            NodeState::Following { term } => format!("following in term {term}"),
        }
    }
}

/// What a node waiting `left` for the previous leader's lease reports.
pub fn waiting_state(left: Duration) -> String {
    let secs = left.as_secs_f64().ceil();
    format!("waiting {secs:.0} s for the previous leader's lease to run out")
}
