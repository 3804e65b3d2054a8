//! Blocks: the unit of storage and replication.
//!
//! A block is a fixed [`header::BlockHeader`] followed by a columnar payload
//! holding one commit group of events, each column compressed on its own.
//!
//! - [`header`]: the 96-byte header layout, its checksum and [`BlockError`].
//! - [`encode`]: [`encode_block`], events → [`EncodedBlock`] (on ingest threads).
//! - [`decode`]: [`decode_block`], a whole block → [`DecodedBlock`] of
//!   [`BlockEvent`] views (which implement [`crate::EventView`]).
//! - [`columns`]: the payload's column directory and [`BlockColumns`], which
//!   decompresses only the columns a scan asks for.
//! - [`strings`]: the string column ([`StrColumn`]), plain or dictionary-coded.
//! - [`maps`]: properties and reified fields as names, shapes and value columns.
//! - [`property`]: [`PropertyColumn`], one field's values across a block.
//! - `varint`: LEB128/zigzag and the bounds-checked reader.

pub mod columns;
pub mod decode;
pub mod encode;
pub mod header;
pub mod maps;
pub mod property;
pub mod strings;
pub(crate) mod varint;

pub use columns::{BlockColumns, ColumnKind, MAX_BLOCK_RAW_BYTES};
pub use decode::{decode_block, BlockEvent, DecodedBlock};
pub use encode::{encode_block, EncodedBlock};
pub use header::{BlockError, BlockHeader, HEADER_LEN};
pub use maps::MapSchema;
pub use property::PropertyColumn;
pub use strings::StrColumn;

#[cfg(test)]
mod codec_tests;
