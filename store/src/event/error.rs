//! [`ParseError`]: why an ingestion body was rejected, and where.
//!
//! Both wire parsers ([`super::clef`] and [`super::legacy`]) reject a whole
//! batch on the first bad event; the error names the 1-based line (and for the
//! legacy body the 0-based index of the event in `Events`) and a typed
//! [`ParseErrorKind`]. The limits they enforce live in [`ParseLimits`].

use std::fmt;

use super::timestamp::TimestampError;

/// The default maximum nesting of objects and arrays in one event, counting
/// the event object itself as depth 1 (`{"A":[{}]}` has depth 3).
pub const MAX_DEPTH: usize = 64;

/// The default maximum size of one event: 1 MiB of JSON text.
pub const MAX_EVENT_BYTES: usize = 1 << 20;

/// Limits the parsers enforce on each event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParseLimits {
    /// Maximum size of one event's JSON text in bytes (default [`MAX_EVENT_BYTES`]).
    pub max_event_bytes: usize,
    /// Maximum nesting of objects/arrays, the event object being depth 1
    /// (default [`MAX_DEPTH`]). serde_json itself stops at 128.
    pub max_depth: usize,
}

impl Default for ParseLimits {
    fn default() -> ParseLimits {
        ParseLimits {
            max_event_bytes: MAX_EVENT_BYTES,
            max_depth: MAX_DEPTH,
        }
    }
}

/// Why an event could not be parsed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ParseErrorKind {
    /// The body is not valid UTF-8.
    #[error("invalid utf-8")]
    InvalidUtf8,
    /// The text is not valid JSON; serde_json's message.
    #[error("malformed json: {0}")]
    Json(String),
    /// The line (or `Events` entry) is valid JSON but not an object.
    #[error("not a json object")]
    NotAnObject,
    /// A legacy body that is not an object with an `Events` array.
    #[error("expected an object with an `Events` array")]
    NotAnEventsBody,
    /// The event has no timestamp (`@t`, or `Timestamp` in the legacy body).
    #[error("missing `{field}`")]
    MissingTimestamp {
        /// The field that was expected.
        field: &'static str,
    },
    /// The timestamp is not an ISO 8601 date and time Skein can store.
    #[error("unparseable `{field}`: {source}")]
    BadTimestamp {
        /// The timestamp field.
        field: &'static str,
        /// What is wrong with it.
        source: TimestampError,
    },
    /// A field has the wrong JSON type (typed fields must be strings,
    /// legacy `Properties` an object).
    #[error("`{field}` must be {expected}")]
    WrongType {
        /// The offending field.
        field: &'static str,
        /// What it must be: `a string`, `an object`.
        expected: &'static str,
    },
    /// Objects and arrays nest deeper than the limit.
    #[error("nesting deeper than {limit} levels")]
    TooDeep {
        /// The limit in force.
        limit: usize,
    },
    /// The event's text is larger than the limit.
    #[error("event of {size} bytes is larger than the limit of {limit} bytes")]
    TooLarge {
        /// The event's size in bytes.
        size: usize,
        /// The limit in force.
        limit: usize,
    },
}

/// A rejected body: where the first bad event is and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    /// 1-based line of the body where the bad event starts.
    pub line: usize,
    /// For the legacy body: the 0-based index of the event in `Events`.
    pub event: Option<usize>,
    /// What is wrong.
    pub kind: ParseErrorKind,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.event {
            Some(i) => write!(f, "event {i} (line {}): {}", self.line, self.kind),
            None => write!(f, "line {}: {}", self.line, self.kind),
        }
    }
}

impl std::error::Error for ParseError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.kind)
    }
}

/// Maps a serde_json error to a reason, recognising its recursion limit.
pub(crate) fn json_error(e: serde_json::Error, limits: &ParseLimits) -> ParseErrorKind {
    let msg = e.to_string();
    if msg.starts_with("recursion limit exceeded") {
        ParseErrorKind::TooDeep {
            limit: limits.max_depth,
        }
    } else {
        ParseErrorKind::Json(msg)
    }
}

/// The 1-based line number of byte `offset` in `body`.
pub(crate) fn line_of(body: &[u8], offset: usize) -> usize {
    1 + body[..offset.min(body.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_line_and_event() {
        let e = ParseError {
            line: 3,
            event: None,
            kind: ParseErrorKind::MissingTimestamp { field: "@t" },
        };
        assert_eq!(e.to_string(), "line 3: missing `@t`");
        let e = ParseError {
            line: 4,
            event: Some(2),
            kind: ParseErrorKind::WrongType {
                field: "Level",
                expected: "a string",
            },
        };
        assert_eq!(e.to_string(), "event 2 (line 4): `Level` must be a string");
        assert_eq!(line_of(b"a\nb\nc", 4), 3);
        assert_eq!(line_of(b"abc", 99), 1);
    }
}
