//! The cluster core: who leads, and how a write is fenced.
//!
//! - [`coordinator`]: [`ClusterCoordinator`], the actor that keeps this
//!   node's role and term in step with the shared metastore's leadership
//!   row (heartbeats, lease renewal, fencing, promotion after a previous
//!   leader's lease); its graceful hand-over ([`crate::messages::DemoteLeader`])
//!   is in `coordinator/demote.rs`, its tests in `coordinator/tests.rs`.
//! - [`gate`]: [`LeaderGate`], what each API request does by the node's
//!   current leadership: serve here, forward to the leader, or wait while
//!   leadership moves.
//!
//! A write is fenced twice: the StoreWriter refuses appends unless the
//! role it was last told accepts writes, and the gate admits a request to
//! this node only while it leads.

pub mod coordinator;
pub mod gate;

pub use coordinator::{
    ClusterCoordinator, ClusterError, ClusterTiming, CoordinatorConfig, GetNodeRow, Start,
};
pub use gate::{LeaderGate, Route};
