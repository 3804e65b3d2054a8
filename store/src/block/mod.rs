//! Blocks: the unit of storage and replication.
//!
//! A block is a fixed [`header::BlockHeader`] followed by a compressed,
//! checksummed payload holding one batch of events.
//!
//! - [`header`]: the 96-byte header layout, its checksum and [`BlockError`].

pub mod header;

pub use header::{BlockError, BlockHeader, HEADER_LEN};
