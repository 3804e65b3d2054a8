//! Replication from the leader to its followers over WebSocket on the
//! cluster port.
//!
//! - [`protocol`], [`auth`], [`seal`]: the wire format, from the
//!   `skein-wire` crate: frames (MessagePack, versioned), challenge–response
//!   with the cluster key (HMAC-SHA256), sealing of a session's frames.
//! - [`state`]: what replication reports: per-follower positions on the
//!   leader, the session on a follower, connection counters.
//! - [`refusals`]: what this node refused from peers, counted by kind.
//! - [`freshness`]: whether a follower is up to date while the leader keeps
//!   committing.
//! - [`quorum`]: durable acknowledgements — how many followers hold a
//!   write in the leader's term.
//! - [`sender`]: [`ReplicationSender`], one WebSocket actor per follower
//!   session on the leader.
//! - [`source`]: the sender's store reads: `Ops` frames, snapshots.
//! - [`endpoint`]: the cluster port's route, [`endpoint::accept`].
//! - [`set_aside`]: a follower's side of divergence: what it holds past the
//!   common point is set aside (a divergent tail, a foreign store), then it follows.
//! - [`receiver`]: [`ReplicationReceiver`] on a follower: connects, applies
//!   the leader's operations, acknowledges, reconnects with backoff.
//! - [`find_leader`]: where a follower finds the leader, for replication
//!   and for the API proxy alike.
//! - [`snapshot_copy`]: a follower's snapshot copy over its session.
//! - [`catch_up`]: that copy's progress: bytes copied of the total, the
//!   rate and time left, the log line.

pub mod catch_up;
pub mod endpoint;
pub mod find_leader;
pub mod freshness;
pub mod quorum;
pub mod receiver;
pub mod refusals;
pub mod sender;
pub mod set_aside;
pub mod snapshot_copy;
pub mod source;
pub mod state;

use std::time::Duration;

pub use catch_up::CatchUpProgress;
pub use receiver::ReplicationReceiver;
pub use refusals::{RefusalCounts, Refusals};
pub use sender::ReplicationSender;
pub use skein_wire::{auth, protocol, seal, ClusterKey, WireError};
pub use state::{
    AcknowledgementCounters, FollowerInfo, LeaderSession, ReplicationCounters, ReplicationState,
    TrafficCounters,
};

/// Timing and sizing of replication, in one place.
pub mod timing {
    use super::Duration;

    /// How often the leader sends a heartbeat (and a follower answers it).
    pub const HEARTBEAT: Duration = Duration::from_secs(1);
    /// A session with no frame from the peer for this long is closed.
    pub const IDLE_TIMEOUT: Duration = Duration::from_secs(10);
    /// The handshake must finish within this.
    pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
    /// First reconnection delay; doubles after each failure.
    pub const BACKOFF_MIN: Duration = Duration::from_millis(100);
    /// Longest reconnection delay.
    pub const BACKOFF_MAX: Duration = Duration::from_secs(5);
    /// Block bytes per `Ops` frame (about; one block may exceed it).
    pub const OPS_FRAME_BYTES: usize = 4 << 20;
    /// `Ops` frames sent but not yet acknowledged, at most.
    pub const MAX_UNACKED_FRAMES: usize = 4;
    /// A follower unable to replicate for this long reports itself unhealthy.
    pub const UNHEALTHY_AFTER: Duration = Duration::from_secs(10);
    /// Largest frame a follower accepts (one frame holds at least one block).
    pub const MAX_FRAME_BYTES: usize = 64 << 20;
    /// How often a follower copying a snapshot logs its progress (a line
    /// every 2 s is steady enough to watch and short enough to read: a
    /// 1 GB copy at 100 MB/s logs five).
    pub const CATCH_UP_LOG_EVERY: Duration = Duration::from_secs(2);
}

/// Runs a store call on a blocking thread.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, skein_store::StoreError> + Send + 'static,
) -> Result<T, ReplicationError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ReplicationError::Connection(e.to_string()))?
        .map_err(ReplicationError::from)
}

/// How this node takes part in replication.
#[derive(Clone, Debug)]
pub struct ClusterSetup {
    /// This node's name.
    pub node_name: String,
    /// The shared cluster key.
    pub key: ClusterKey,
    /// The configured peers' cluster URIs (`ws://host:port`), among which a
    /// follower looks for the leader (see [`receiver::leader_uri`]).
    pub peer_cluster_uris: Vec<String>,
    /// Replication's shared state (counters, followers, the follower session).
    pub state: ReplicationState,
    /// The roots a follower verifies a `wss://` leader against (`None`:
    /// awc's default connector, which speaks plain `ws://` only).
    pub client_tls: Option<std::sync::Arc<rustls::ClientConfig>>,
}

/// Why replication failed.
#[derive(Debug, thiserror::Error)]
pub enum ReplicationError {
    /// The wire format refused a frame (malformed, unsealed, not
    /// encodable) or the cluster key.
    #[error(transparent)]
    Wire(#[from] WireError),
    /// A frame arrived that the session's state does not allow.
    #[error("unexpected {0} frame")]
    Unexpected(&'static str),
    /// The peer refused the session.
    #[error("refused by the peer: {0}")]
    Refused(String),
    /// The peer's proof of the cluster key is wrong.
    #[error("the peer does not know the cluster key")]
    InvalidKey,
    /// The cluster connection failed or closed.
    #[error("connection: {0}")]
    Connection(String),
    /// The peer went silent.
    #[error("no frame from the peer for {0:?}")]
    Timeout(Duration),
    /// The local store refused an operation.
    #[error("store: {0}")]
    Store(#[from] skein_store::StoreError),
    /// The trusted CAs were reloaded; the session reconnects to verify the
    /// leader's certificate again.
    #[error("the trusted CAs were reloaded: reconnecting to verify the leader again")]
    TrustReloaded,
    /// Another node leads now; the session reconnects to it.
    #[error("another node leads now: reconnecting to it")]
    LeaderMoved,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The wire format's errors read, in logs and in the reasons sent to a
    /// peer, as they did before it had a crate of its own.
    #[test]
    fn wire_errors_read_as_replication_errors_did() {
        let read = |e: WireError| ReplicationError::from(e).to_string();
        assert_eq!(read(WireError::Malformed("x".into())), "malformed frame: x");
        assert_eq!(
            read(WireError::Encode("x".into())),
            "cannot encode a frame: x"
        );
        assert_eq!(read(WireError::Config("x".into())), "x");
    }
}
