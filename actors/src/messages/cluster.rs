//! Cluster coordination: what replication reports about this node, and the
//! operator's request to hand leadership over.

use std::time::Duration;

use actix::Message;
use chrono::{DateTime, Utc};

/// Replication's view of this node, published in its heartbeat row (sent
/// to the ClusterCoordinator by the replication actors whenever it changes).
#[derive(Clone, Debug, Default, PartialEq, Eq, Message)]
#[rtype(result = "()")]
pub struct ReplicationReported {
    /// When this node (a follower) last synchronised with its leader.
    pub last_sync_at: Option<DateTime<Utc>>,
    /// Cluster connections accepted.
    pub accepted: u64,
    /// Cluster connections refused for a wrong key.
    pub invalid_key: u64,
    /// Cluster sessions established.
    pub established: u64,
    /// A human-readable replication state, when replication has one.
    pub state: Option<String>,
}

/// Ask the ClusterCoordinator for this node's row as it would be
/// heartbeated now.
#[derive(Debug, Message)]
#[rtype(result = "crate::metastore::cluster::NodeRow")]
pub struct GetNodeRow;

/// Graceful fail-over: stop accepting writes, let follower `to` catch up,
/// then hand leadership to it in the next term.
#[derive(Clone, Debug, Message)]
#[rtype(result = "Result<DemoteReport, crate::cluster::ClusterError>")]
pub struct DemoteLeader {
    /// The node that is to lead.
    pub to: String,
    /// How long to wait for `to` to reach this node's generation.
    pub catch_up: Duration,
    /// Hand over even when `to` has not caught up in time.
    pub force: bool,
    /// Where each step is sent as it happens (the report lists them all at
    /// the end), for a caller that shows progress live.
    pub progress: Option<tokio::sync::mpsc::UnboundedSender<String>>,
}

/// What a demotion did, step by step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DemoteReport {
    /// Each state change, in order.
    pub steps: Vec<String>,
    /// The term the new leader leads in.
    pub term: u64,
    /// The new leader.
    pub new_leader: String,
}

/// Stops the replication receiver (the node is no longer a follower).
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct StopReceiver;
