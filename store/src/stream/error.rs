//! [`StoreError`]: everything that can go wrong opening, writing or reading a store.

use std::io;
use std::path::PathBuf;

use crate::block::BlockError;
use crate::generation::Generation;

/// Errors from the event store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// An I/O operation on a store file failed.
    #[error("{op} {path}: {source}")]
    Io {
        /// What was being done (`open`, `write`, `fsync`, …).
        op: &'static str,
        /// The file or directory involved.
        path: PathBuf,
        /// The operating system's error.
        source: io::Error,
    },
    /// Free space on the store's volume is below the configured floor.
    #[error("disk full: {available} bytes free, below the floor of {floor} bytes; writes are refused until space is freed")]
    DiskFull {
        /// Bytes available to the store's user.
        available: u64,
        /// The configured floor.
        floor: u64,
    },
    /// The manifest is missing, unreadable or inconsistent with the files.
    #[error("corrupt store manifest {path}: {reason}")]
    CorruptManifest {
        /// The manifest path.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A block that should be intact is not.
    #[error("corrupt block in segment {segment} at offset {offset}: {source}")]
    CorruptBlock {
        /// Segment id.
        segment: u64,
        /// Byte offset of the block.
        offset: u64,
        /// What the block decoder said.
        source: BlockError,
    },
    /// A previous write failed in a way that left the store's state uncertain;
    /// writes are refused until the store is reopened (which recovers).
    #[error("store is failed after an earlier write error; reopen to recover")]
    Failed,
    /// A replicated operation does not follow this store's generation.
    #[error("history out of order: store is at generation {at}, operation is for {op}")]
    OutOfOrder {
        /// This store's generation.
        at: Generation,
        /// The generation after the offered operation.
        op: Generation,
    },
    /// A replicated operation or snapshot file does not match this store.
    #[error("replication mismatch: {0}")]
    Mismatch(String),
    /// The batch is empty or too large for one block.
    #[error("invalid batch: {0}")]
    InvalidBatch(String),
}

impl StoreError {
    /// A copy of this error for every waiter of a failed group commit
    /// (I/O errors keep their kind and message).
    pub fn duplicate(&self) -> StoreError {
        match self {
            StoreError::Io { op, path, source } => StoreError::Io {
                op,
                path: path.clone(),
                source: io::Error::new(source.kind(), source.to_string()),
            },
            StoreError::DiskFull { available, floor } => StoreError::DiskFull {
                available: *available,
                floor: *floor,
            },
            StoreError::CorruptManifest { path, reason } => StoreError::CorruptManifest {
                path: path.clone(),
                reason: reason.clone(),
            },
            StoreError::CorruptBlock {
                segment,
                offset,
                source,
            } => StoreError::CorruptBlock {
                segment: *segment,
                offset: *offset,
                source: source.clone(),
            },
            StoreError::Failed => StoreError::Failed,
            StoreError::OutOfOrder { at, op } => StoreError::OutOfOrder { at: *at, op: *op },
            StoreError::Mismatch(m) => StoreError::Mismatch(m.clone()),
            StoreError::InvalidBatch(m) => StoreError::InvalidBatch(m.clone()),
        }
    }

    /// Wraps an I/O error with what was being done and to which path.
    pub fn io(op: &'static str, path: impl Into<PathBuf>) -> impl FnOnce(io::Error) -> StoreError {
        let path = path.into();
        move |source| StoreError::Io { op, path, source }
    }
}

/// The answer to "everything after generation G" when the store no longer has it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("history after generation {requested} is no longer held (oldest available: {oldest}); copy a snapshot")]
pub struct TooOld {
    /// The generation asked for.
    pub requested: Generation,
    /// The oldest generation from which history is still complete.
    pub oldest: Generation,
}
