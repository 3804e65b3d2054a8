//! [`EventView`]: read access to an event, whether owned or decoded in place.
//!
//! The filter language, the CLEF writer and the HTTP layer read events only
//! through this trait, so a block's zero-copy views and an owned [`Event`] are
//! interchangeable.

use super::model::{Event, EventId, Severity, Timestamp};

/// Read-only access to one event's fields. Raw values are JSON text exactly
/// as stored (strings still quoted and escaped, numbers with their digits).
pub trait EventView {
    /// The event's id, once the store has assigned one.
    fn id(&self) -> Option<EventId>;
    /// `@t`.
    fn timestamp(&self) -> Timestamp;
    /// `@l` exactly as sent, `None` when absent.
    fn level_text(&self) -> Option<&str>;
    /// The canonical severity of the level.
    fn severity(&self) -> Severity;
    /// `@mt`.
    fn message_template(&self) -> Option<&str>;
    /// `@m` as sent (not rendered from the template).
    fn message(&self) -> Option<&str>;
    /// `@x`.
    fn exception(&self) -> Option<&str>;
    /// `@tr`.
    fn trace_id(&self) -> Option<&str>;
    /// `@sp`.
    fn span_id(&self) -> Option<&str>;
    /// The raw JSON value of a reified `@`-field other than the typed ones
    /// above, by its name with the `@` (`"@i"`, `"@r"`).
    fn reified_raw(&self, name: &str) -> Option<&str>;
    /// Calls `f(raw_name, raw_value)` for every reified `@`-field in order.
    fn for_each_reified(&self, f: &mut dyn FnMut(&str, &str));
    /// The raw JSON value of property `name`.
    fn property_raw(&self, name: &str) -> Option<&str>;
    /// Calls `f(raw_name, raw_value)` for every property in order. Names are
    /// the raw JSON string bodies (escapes kept, no quotes).
    fn for_each_property(&self, f: &mut dyn FnMut(&str, &str));

    /// The level shown to users: as sent, or `Information` when absent.
    fn level_display(&self) -> &str {
        self.level_text().unwrap_or("Information")
    }
}

impl EventView for Event {
    fn id(&self) -> Option<EventId> {
        None
    }
    fn timestamp(&self) -> Timestamp {
        self.timestamp
    }
    fn level_text(&self) -> Option<&str> {
        self.level.text.as_deref()
    }
    fn severity(&self) -> Severity {
        self.level.severity
    }
    fn message_template(&self) -> Option<&str> {
        self.message_template.as_deref()
    }
    fn message(&self) -> Option<&str> {
        self.message.as_deref()
    }
    fn exception(&self) -> Option<&str> {
        self.exception.as_deref()
    }
    fn trace_id(&self) -> Option<&str> {
        self.trace_id.as_deref()
    }
    fn span_id(&self) -> Option<&str> {
        self.span_id.as_deref()
    }
    fn reified_raw(&self, name: &str) -> Option<&str> {
        self.reified.get_raw(name)
    }
    fn for_each_reified(&self, f: &mut dyn FnMut(&str, &str)) {
        self.reified.iter_raw().for_each(|(n, v)| f(n, v))
    }
    fn property_raw(&self, name: &str) -> Option<&str> {
        self.properties.get_raw(name)
    }
    fn for_each_property(&self, f: &mut dyn FnMut(&str, &str)) {
        self.properties.iter_raw().for_each(|(n, v)| f(n, v))
    }
}

/// Copies any event view into an owned [`Event`].
pub fn to_event<E: EventView + ?Sized>(e: &E) -> Event {
    use super::model::{JsonMapBuilder, Level};
    let boxed = |s: Option<&str>| s.map(Box::<str>::from);
    let mut reified = JsonMapBuilder::default();
    e.for_each_reified(&mut |n, v| reified.push(n, v));
    let mut properties = JsonMapBuilder::default();
    e.for_each_property(&mut |n, v| properties.push(n, v));
    Event {
        timestamp: e.timestamp(),
        level: Level {
            text: boxed(e.level_text()),
            severity: e.severity(),
        },
        message_template: boxed(e.message_template()),
        message: boxed(e.message()),
        exception: boxed(e.exception()),
        trace_id: boxed(e.trace_id()),
        span_id: boxed(e.span_id()),
        reified: reified.finish(),
        properties: properties.finish(),
    }
}
