//! The parsed event and the small value types it is made of.

use std::fmt;
use std::ops::Range;

use serde_json::value::RawValue;

/// An instant in UTC, as nanoseconds since the Unix epoch.
///
/// CLEF timestamps carry at most 100 ns precision (7 fractional digits); nanoseconds
/// keep every digit any client sends. The representable range is 1677-09-21 to
/// 2262-04-11; parsers reject timestamps outside it.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Default,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(transparent)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// Nanoseconds since the Unix epoch.
    pub fn as_nanos(self) -> i64 {
        self.0
    }
}

/// The canonical severity a level maps to, used for filtering and minimum-level rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum Severity {
    Verbose = 0,
    Debug = 1,
    Information = 2,
    Warning = 3,
    Error = 4,
    Fatal = 5,
}

impl Severity {
    /// Every severity, least severe first.
    pub const ALL: [Severity; 6] = [
        Severity::Verbose,
        Severity::Debug,
        Severity::Information,
        Severity::Warning,
        Severity::Error,
        Severity::Fatal,
    ];

    /// Serilog's name for this severity (`Information`, `Error`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Severity::Verbose => "Verbose",
            Severity::Debug => "Debug",
            Severity::Information => "Information",
            Severity::Warning => "Warning",
            Severity::Error => "Error",
            Severity::Fatal => "Fatal",
        }
    }

    /// The severity with this `repr(u8)` value.
    pub fn from_u8(v: u8) -> Option<Severity> {
        Severity::ALL.get(v as usize).copied()
    }
}

/// An event's level: the text exactly as the client sent it (`None` when absent,
/// which CLEF defines as `Information`) and the canonical severity it maps to.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Level {
    /// The level as sent (`"info"`, `"WARNING"`, `"Error"`), or `None` when absent.
    pub text: Option<Box<str>>,
    /// The canonical severity of `text`.
    pub severity: Severity,
}

impl Level {
    /// The level shown to users: the text as sent, or `Information` when absent.
    pub fn display(&self) -> &str {
        self.text.as_deref().unwrap_or("Information")
    }
}

/// An ordered map from names to raw JSON values, kept exactly as sent.
///
/// `text` is a valid JSON object (`{"A":1,"B":"x"}`) and `entries` locate each
/// name (the raw JSON string contents, escapes included, without quotes) and
/// value (raw JSON) inside it, in the order they were sent. Numbers keep their
/// original digits; nothing round-trips through floating point. Two allocations
/// per map, whatever its size.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct JsonMap {
    text: Box<str>,
    entries: Box<[JsonEntry]>,
}

/// Where one name/value pair of a [`JsonMap`] lies inside its text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JsonEntry {
    /// The name's raw (still escaped) contents, without the quotes.
    pub name: (u32, u32),
    /// The value's raw JSON text.
    pub value: (u32, u32),
}

fn range(r: (u32, u32)) -> Range<usize> {
    r.0 as usize..r.1 as usize
}

impl JsonMap {
    /// An empty map.
    pub fn new() -> JsonMap {
        JsonMap::default()
    }

    /// Assembles a map from its text and entry positions. The caller guarantees
    /// that `text` is a JSON object whose members are exactly `entries`.
    pub fn from_parts(text: Box<str>, entries: Box<[JsonEntry]>) -> JsonMap {
        JsonMap { text, entries }
    }

    /// Builds a map in its canonical text form `{"name":value,...}` from raw
    /// (escaped, unquoted) names and raw JSON values, in order. Every producer
    /// (parsers, block decoder) goes through here, so equal content means equal maps.
    pub fn from_raw_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> JsonMap {
        let mut b = JsonMapBuilder::default();
        for (n, v) in pairs {
            b.push(n, v);
        }
        b.finish()
    }

    /// The whole map as a JSON object.
    pub fn as_json(&self) -> &str {
        if self.text.is_empty() {
            "{}"
        } else {
            &self.text
        }
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when the map has no members.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The members in sent order: (raw escaped name, raw JSON value).
    pub fn iter_raw(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.entries
            .iter()
            .map(|e| (&self.text[range(e.name)], &self.text[range(e.value)]))
    }

    /// The raw JSON value of the first member whose (unescaped) name is `name`.
    pub fn get_raw(&self, name: &str) -> Option<&str> {
        self.iter_raw()
            .find(|(n, _)| raw_name_eq(n, name))
            .map(|(_, v)| v)
    }
}

/// Builds a [`JsonMap`] member by member without intermediate allocations.
#[derive(Debug, Default)]
pub struct JsonMapBuilder {
    text: String,
    entries: Vec<JsonEntry>,
}

impl JsonMapBuilder {
    /// A builder whose text buffer starts with `capacity` bytes.
    pub fn with_capacity(capacity: usize) -> JsonMapBuilder {
        JsonMapBuilder {
            text: String::with_capacity(capacity),
            entries: Vec::new(),
        }
    }

    /// A builder sized exactly: `text` bytes of map text (braces, quotes,
    /// colons and commas included) and `entries` members, so that `finish`
    /// needs no reallocation.
    pub fn with_capacities(text: usize, entries: usize) -> JsonMapBuilder {
        JsonMapBuilder {
            text: String::with_capacity(text),
            entries: Vec::with_capacity(entries),
        }
    }

    /// Appends a member: `raw_name` is a JSON string body (escapes kept, no
    /// quotes), `raw_value` valid JSON text.
    pub fn push(&mut self, raw_name: &str, raw_value: &str) {
        self.text
            .push(if self.entries.is_empty() { '{' } else { ',' });
        self.text.push('"');
        let n0 = self.text.len() as u32;
        self.text.push_str(raw_name);
        let n1 = self.text.len() as u32;
        self.text.push_str("\":");
        let v0 = self.text.len() as u32;
        self.text.push_str(raw_value);
        let v1 = self.text.len() as u32;
        self.entries.push(JsonEntry {
            name: (n0, n1),
            value: (v0, v1),
        });
    }

    /// Number of members pushed so far.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when nothing was pushed.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The finished map (`{}` text is implied when empty).
    pub fn finish(mut self) -> JsonMap {
        if !self.entries.is_empty() {
            self.text.push('}');
        }
        JsonMap {
            text: self.text.into_boxed_str(),
            entries: self.entries.into_boxed_slice(),
        }
    }
}

/// Compares a raw (possibly escaped) JSON string body with a plain name.
pub fn raw_name_eq(raw: &str, name: &str) -> bool {
    if !raw.contains('\\') {
        return raw == name;
    }
    unescape_json_str(raw).as_deref() == Some(name)
}

/// Unescapes the body of a JSON string literal (the text between the quotes).
/// Returns `None` when the escapes are invalid.
pub fn unescape_json_str(raw: &str) -> Option<String> {
    let quoted = format!("\"{raw}\"");
    serde_json::from_str::<String>(&quoted).ok()
}

/// One structured log event, parsed from CLEF or Seq's legacy JSON.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    /// `@t`: when the event happened.
    pub timestamp: Timestamp,
    /// `@l`: the level as sent, with its canonical severity.
    pub level: Level,
    /// `@mt`: the message template, if sent.
    pub message_template: Option<Box<str>>,
    /// `@m`: the rendered message, if the client sent one.
    pub message: Option<Box<str>>,
    /// `@x`: the exception text.
    pub exception: Option<Box<str>>,
    /// `@tr`: the trace id.
    pub trace_id: Option<Box<str>>,
    /// `@sp`: the span id.
    pub span_id: Option<Box<str>>,
    /// Every other `@`-field, raw and in sent order, keyed with its `@`
    /// (`@i`, `@r`, `@st`, `@ps`, `@sk`, and unknown ones).
    pub reified: JsonMap,
    /// The event's properties in sent order; `@@name` arrives here as `@name`.
    pub properties: JsonMap,
}

impl Event {
    /// `@i` as a number: numeric values as is, strings as hex (with or
    /// without a leading `$` or `0x`).
    pub fn event_type(&self) -> Option<u32> {
        parse_event_type(self.reified.get_raw("@i")?)
    }

    /// The raw JSON value of property `name`, if present.
    pub fn property_raw(&self, name: &str) -> Option<&RawValue> {
        let raw = self.properties.get_raw(name)?;
        // The map's text is valid JSON by construction.
        serde_json::from_str::<&RawValue>(raw).ok()
    }
}

/// Interprets a raw `@i` value: a JSON number, or a hex string.
pub fn parse_event_type(raw: &str) -> Option<u32> {
    let raw = raw.trim();
    if let Some(s) = raw.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
        let s = s.trim_start_matches('$');
        let s = s
            .strip_prefix("0x")
            .or_else(|| s.strip_prefix("0X"))
            .unwrap_or(s);
        u32::from_str_radix(s, 16).ok()
    } else {
        raw.parse::<u64>().ok().map(|v| v as u32)
    }
}

/// An event's identity: ordered by timestamp, then by arrival.
///
/// `arrival` is the store-wide sequence number the writer assigned when the
/// event was appended. Printed like Seq's ids: `event-` followed by 32 hex
/// digits (16 for the timestamp, 16 for the arrival number).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EventId {
    /// The event's timestamp.
    pub timestamp: Timestamp,
    /// The store-wide arrival sequence number.
    pub arrival: u64,
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Offset the signed timestamp so that hex order matches time order.
        let t = (self.timestamp.0 as u64) ^ (1u64 << 63);
        write!(f, "event-{t:016x}{:016x}", self.arrival)
    }
}

impl std::str::FromStr for EventId {
    type Err = InvalidEventId;

    fn from_str(s: &str) -> Result<EventId, InvalidEventId> {
        let hex = s.strip_prefix("event-").ok_or(InvalidEventId)?;
        if hex.len() != 32 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(InvalidEventId);
        }
        let t = u64::from_str_radix(&hex[..16], 16).map_err(|_| InvalidEventId)?;
        let arrival = u64::from_str_radix(&hex[16..], 16).map_err(|_| InvalidEventId)?;
        Ok(EventId {
            timestamp: Timestamp((t ^ (1u64 << 63)) as i64),
            arrival,
        })
    }
}

/// The text is not an event id of the form `event-` + 32 hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not an event id: expected `event-` followed by 32 hex digits")]
pub struct InvalidEventId;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_id_round_trips_and_orders_like_its_text() {
        let a = EventId {
            timestamp: Timestamp(-5),
            arrival: 9,
        };
        let b = EventId {
            timestamp: Timestamp(3),
            arrival: 1,
        };
        let (sa, sb) = (a.to_string(), b.to_string());
        assert_eq!(sa.parse::<EventId>().unwrap(), a);
        assert_eq!(sb.parse::<EventId>().unwrap(), b);
        assert!(a < b && sa < sb);
        assert!("event-xyz".parse::<EventId>().is_err());
    }

    #[test]
    fn event_type_accepts_numbers_and_hex() {
        assert_eq!(parse_event_type("3735928559"), Some(0xdeadbeef));
        assert_eq!(parse_event_type("\"$DEADBEEF\""), Some(0xdeadbeef));
        assert_eq!(parse_event_type("\"0xa1\""), Some(0xa1));
        assert_eq!(parse_event_type("\"nope\""), None);
    }

    #[test]
    fn json_map_keeps_order_and_raw_values() {
        let m = JsonMap::from_raw_pairs([("B", "1.50"), ("A", "{\"x\": [1]}")]);
        assert_eq!(m.as_json(), "{\"B\":1.50,\"A\":{\"x\": [1]}}");
        assert_eq!(m.get_raw("A"), Some("{\"x\": [1]}"));
        assert_eq!(m.iter_raw().map(|(n, _)| n).collect::<Vec<_>>(), ["B", "A"]);
        assert_eq!(JsonMap::from_raw_pairs([]).as_json(), "{}");
        let v: serde_json::Value = serde_json::from_str(m.as_json()).unwrap();
        assert_eq!(v["B"], serde_json::json!(1.5));
    }

    #[test]
    fn raw_names_compare_unescaped() {
        assert!(raw_name_eq("a\\u0062c", "abc"));
        assert!(!raw_name_eq("abd", "abc"));
    }
}
