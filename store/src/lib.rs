//! `skein-store`: Skein's event model and generational, replayable event store.
//!
//! No actix, HTTP or SQL lives here, so everything can be tested, fuzzed and
//! benchmarked alone.
//!
//! - [`event`]: the parsed [`Event`], [`EventId`], levels, and the
//!   [`EventView`] trait that owned events and decoded views share.

pub mod event;

pub use event::{Event, EventId, EventView, JsonMap, Level, Severity, Timestamp};
