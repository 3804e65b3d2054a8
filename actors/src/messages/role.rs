//! The node's role and its changes.

use actix::Message;
use serde::Serialize;

/// What a node does in its cluster.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Role {
    /// A single node, not part of a cluster: accepts writes.
    Standalone,
    /// The cluster's leader in a term: accepts writes.
    Leader,
    /// Replicates from the leader; proxies API traffic; refuses local writes.
    Follower,
}

impl Role {
    /// Whether this role accepts writes from clients.
    pub fn accepts_writes(self) -> bool {
        matches!(self, Role::Standalone | Role::Leader)
    }

    /// Seq's name for the role.
    pub fn name(self) -> &'static str {
        match self {
            Role::Standalone => "Standalone",
            Role::Leader => "Leader",
            Role::Follower => "Follower",
        }
    }
}

/// Ask the supervisor for the current role and term.
#[derive(Debug, Message)]
#[rtype(result = "(Role, u64)")]
pub struct GetRole;

/// The node's role changed (delivered to NodeSupervisor, which tells the
/// role-dependent actors).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Message)]
#[rtype(result = "()")]
pub struct RoleChanged {
    /// The new role.
    pub role: Role,
    /// The leadership term the role belongs to (0 when standalone).
    pub term: u64,
}
