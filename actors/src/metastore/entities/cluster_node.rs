//! `cluster_nodes`: a node's heartbeat row.

use sea_orm::entity::prelude::*;

/// One row of `cluster_nodes`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "cluster_nodes")]
pub struct Model {
    /// The node's name.
    #[sea_orm(primary_key, auto_increment = false)]
    pub name: String,
    /// `leader`, `follower` or `standalone`.
    pub role: String,
    /// The leadership term the node last saw.
    pub term: i64,
    /// The model part of the node's storage generation.
    pub generation_model: i64,
    /// The write part of the node's storage generation.
    pub generation_write: i64,
    /// When a follower last synchronised with its leader.
    pub last_sync_at: Option<DateTimeUtc>,
    /// The node's last heartbeat.
    pub seen_at: DateTimeUtc,
    /// The node's intra-cluster URI.
    pub cluster_uri: Option<String>,
    /// The node's internal API URI.
    pub internal_api_uri: Option<String>,
    /// A human-readable state description.
    pub state: String,
    /// Cluster connections accepted.
    pub accepted: i64,
    /// Cluster connections refused for a wrong key.
    pub invalid_key: i64,
    /// Cluster sessions established.
    pub established: i64,
    /// Handshakes refused as malformed or out of order.
    pub refused_malformed_handshake: i64,
    /// Frames refused by the session check.
    pub refused_session_check: i64,
    /// Forged leader proofs refused.
    pub refused_forged_leader: i64,
    /// Forwarded requests whose proof of membership was refused.
    pub refused_forged_forwarding: i64,
    /// Bytes of its snapshot copy the node holds (null unless it copies one).
    pub catch_up_copied_bytes: Option<i64>,
    /// Bytes that snapshot's files add up to.
    pub catch_up_total_bytes: Option<i64>,
    /// Bytes fetched per second since that copy started (null while unknown).
    pub catch_up_bytes_per_second: Option<i64>,
    /// Seconds that copy has left at that rate (null while unknown).
    pub catch_up_seconds_left: Option<i64>,
    /// When that copy started.
    pub catch_up_started_at: Option<DateTimeUtc>,
    /// The term of the newest operation in the node's store.
    pub store_term: i64,
    /// Whether the node stands in automatic elections.
    pub auto_failover: bool,
    /// The database's clock read before the node sampled its position.
    pub sampled_at: Option<DateTimeUtc>,
}

/// `cluster_nodes` has no relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
