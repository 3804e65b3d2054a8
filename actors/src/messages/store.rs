//! The StoreWriter's commands and announcements.

use actix::{Message, Recipient};
use skein_store::block::EncodedBlock;
use skein_store::stream::{AppendReceipt, StoreStatus};
use skein_store::{Generation, StoreError};

/// Durably append one encoded batch; answered after the fsync.
#[derive(Debug)]
pub struct AppendBatch {
    /// The batch, encoded on an ingest thread.
    pub block: EncodedBlock,
}

/// Why an append was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum AppendError {
    /// This node does not accept writes in its current role.
    #[error("this node is not the leader; writes go to the leader")]
    NotLeader,
    /// The store refused or failed the write.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The StoreWriter is not running.
    #[error("the store writer is unavailable")]
    Unavailable,
    /// Stored on the leader, but too few followers held it in time
    /// (durable acknowledgements).
    #[error(transparent)]
    NotReplicated(#[from] crate::replication::quorum::NotReplicated),
}

impl Message for AppendBatch {
    type Result = Result<AppendReceipt, AppendError>;
}

/// The store reached a new generation (after an append or structural operation).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Message)]
#[rtype(result = "()")]
pub struct GenerationAdvanced {
    /// The new generation.
    pub generation: Generation,
}

/// Subscribe to [`GenerationAdvanced`] announcements.
#[derive(Message)]
#[rtype(result = "()")]
pub struct SubscribeGenerations(pub Recipient<GenerationAdvanced>);

/// Ask the StoreWriter for the store's status.
#[derive(Debug, Message)]
#[rtype(result = "StoreStatus")]
pub struct GetStoreStatus;
