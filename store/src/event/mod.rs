//! The event model and its wire formats.
//!
//! - [`model`]: the parsed [`Event`], its [`Timestamp`], [`Level`]/[`Severity`],
//!   [`EventId`] and the ordered raw-JSON property map [`JsonMap`].
//! - [`view`]: [`EventView`], the read-only accessor trait shared by owned events
//!   and zero-copy views decoded from blocks (what the filter language evaluates).

pub mod model;
pub mod view;

pub use model::{Event, EventId, JsonMap, JsonMapBuilder, Level, Severity, Timestamp};
pub use view::EventView;
