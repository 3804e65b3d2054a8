//! The cluster core: who leads, and how a write is fenced.
//!
//! - [`state`]: [`NodeState`], what a clustered node is (following,
//!   fenced, waiting out a previous leader's lease, leading, draining
//!   before a hand-over) — one enum, owned by the coordinator.
//! - [`decide`]: every transition of that state as a pure function of what
//!   the node knows (the leadership row, its lease renewal, the clock), with
//!   table-driven tests.
//! - [`election`]: whether a follower stands for the next term once the
//!   leader's lease has run out (`cluster.autoFailover`) — the rule that
//!   keeps every acknowledged write, written down and proved by its tests.
//! - [`coordinator`]: [`ClusterCoordinator`], the actor that does the I/O
//!   (heartbeats, lease renewal against the shared metastore), enters the
//!   states [`decide`] returns and publishes each through the node's
//!   [`RolePublisher`](crate::messages::RolePublisher); its graceful
//!   hand-over ([`crate::messages::DemoteLeader`]) is in
//!   `coordinator/demote.rs`.
//! - [`gate`]: [`LeaderGate`], what each API request does by the published
//!   state: serve here, forward to the leader, or wait while leadership
//!   moves.
//!
//! A write is fenced in one place: the StoreWriter acknowledges it only in
//! a term whose lease the published snapshot holds
//! ([`RoleSnapshot::may_acknowledge`](crate::messages::RoleSnapshot::may_acknowledge)).
//! The gate admitting requests only while the node leads keeps them from
//! reaching a node that would refuse them.

pub mod coordinator;
pub mod decide;
pub mod election;
pub mod gate;
pub mod state;

pub use coordinator::{ClusterCoordinator, ClusterError, ClusterTiming, CoordinatorConfig};
pub use gate::{LeaderGate, Route};
pub use state::NodeState;
