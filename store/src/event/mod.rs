//! The event model and its wire formats.
//!
//! - [`model`]: the parsed [`Event`], its [`Timestamp`], [`Level`]/[`Severity`],
//!   [`EventId`] and the ordered raw-JSON property map [`JsonMap`].
//! - [`view`]: [`EventView`], the read-only accessor trait shared by owned events
//!   and zero-copy views decoded from blocks (what the filter language evaluates).
//! - [`timestamp`]: ISO 8601 [`parse_timestamp`] and Seq's [`format_timestamp`].
//! - [`level`]: [`severity_of`] for Serilog's and other ecosystems' level names.
//! - [`clef`]: [`parse_clef`], CLEF bodies (one JSON object per line) into events.
//! - [`legacy`]: [`parse_legacy`], Seq's `{"Events":[...]}` JSON bodies.
//! - [`error`]: [`ParseError`] (line, event index, typed reason) and [`ParseLimits`].
//! - [`template`]: Serilog message templates and their API tokens [`MessageTemplateTokens`].
//! - [`render`]: [`render_message`], an event's message rendered like Serilog does.
//! - [`clef_write`]: [`write_clef`], any event back out as one CLEF line.

pub mod clef;
pub mod clef_write;
pub mod error;
pub mod legacy;
pub mod level;
pub mod model;
mod raw;
pub mod render;
pub mod template;
pub mod timestamp;
pub mod view;

pub use clef::{parse_clef, parse_clef_with};
pub use clef_write::write_clef;
pub use error::{ParseError, ParseErrorKind, ParseLimits, MAX_DEPTH, MAX_EVENT_BYTES};
pub use legacy::{parse_legacy, parse_legacy_with};
pub use level::severity_of;
pub use model::{Event, EventId, JsonMap, JsonMapBuilder, Level, Severity, Timestamp};
pub use render::render_message;
pub use template::{MessageTemplateToken, MessageTemplateTokens};
pub use timestamp::{format_timestamp, parse_timestamp, TimestampError};
pub use view::EventView;
