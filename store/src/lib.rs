//! `skein-store`: Skein's event model and generational, replayable event store.
//!
//! No actix, HTTP or SQL lives here, so everything can be tested, fuzzed and
//! benchmarked alone.
//!
//! - [`event`]: the parsed [`Event`], [`EventId`], levels, wire formats, and the
//!   [`EventView`] trait that owned events and decoded views share.
//! - [`generation`]: the two-part [`Generation`] (`model.write`).
//! - [`block`]: the block format: header, columnar compressed payload.
//! - [`dataset`]: the deterministic synthetic CLEF dataset that the
//!   benchmarks (these benches and `skein bench ingest`) generate.
//! - [`query`]: Seq's filter language and SQL-style queries over [`EventView`]s.
//! - [`search`]: pages of matching events, counts and queries over a
//!   [`Store`], scanning only the columns a filter reads.
//! - [`summary`]: per-block summaries (a token filter, property names,
//!   numeric ranges) that let searches skip blocks without reading them,
//!   and the summary files of sealed segments.
//! - [`stream`]: the generational [`Store`]: segments, manifest, group
//!   commit, recovery, retention, ordered reads, history and snapshots.

pub mod block;
pub mod dataset;
pub mod event;
pub mod generation;
pub mod query;
pub mod search;
pub mod stream;
pub mod summary;

pub use event::{Event, EventId, EventView, JsonMap, Level, Severity, Timestamp};
pub use generation::Generation;
pub use stream::{Store, StoreError, StoreOptions};
