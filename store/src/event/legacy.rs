//! [`parse_legacy`]: Seq's legacy JSON body, `{"Events":[{...}, ...]}`, as
//! sent by seq-logging (npm) and seqlog (PyPI).
//!
//! Each event: `Timestamp` (required; a space separator is fine),
//! `Level` (any case and ecosystem: `INFO`, `info`, `CRITICAL`),
//! `MessageTemplate`, `RenderedMessage`, `Exception`, `TraceId`, `SpanId`
//! (strings; `null` is absent), `Properties` (an object, or `null`; names are
//! taken literally, so `@x` is property `@x`), `EventType` (kept raw as
//! `@i`) and `Renderings` (kept raw as `@r`). Line feeds between the tokens of a
//! raw value become spaces, so that every event fits on one CLEF line. Field names match in any ASCII
//! case, as Seq's .NET deserializer does; other fields are ignored; the first
//! of repeated fields or property names wins. Errors name the 0-based event
//! index and the line where that event starts.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use super::clef::{build_map, push_member, Member};
use super::error::{json_error, line_of, ParseError, ParseErrorKind, ParseLimits};
use super::level::severity_of;
use super::model::{Event, Level, Severity};
use super::raw::{depth_ok, raw_name, str_field, Key, StrField};
use super::timestamp::parse_timestamp;

/// Parses a legacy body with the default [`ParseLimits`].
pub fn parse_legacy(body: &[u8]) -> Result<Vec<Event>, ParseError> {
    parse_legacy_with(body, &ParseLimits::default())
}

/// Parses a legacy body: every event, or the first error.
pub fn parse_legacy_with(body: &[u8], limits: &ParseLimits) -> Result<Vec<Event>, ParseError> {
    let body_error = |line, kind| ParseError {
        line,
        event: None,
        kind,
    };
    let text = std::str::from_utf8(body)
        .map_err(|e| body_error(line_of(body, e.valid_up_to()), ParseErrorKind::InvalidUtf8))?;
    let first = text
        .bytes()
        .find(|b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n'));
    if first != Some(b'{') {
        let kind = match serde_json::from_str::<IgnoredAny>(text) {
            Ok(_) => ParseErrorKind::NotAnEventsBody,
            Err(e) => json_error(e, limits),
        };
        return Err(body_error(1, kind));
    }
    let mut raw_events: Option<Vec<&RawValue>> = None;
    let mut de = serde_json::Deserializer::from_str(text);
    let res = de::Deserializer::deserialize_map(&mut de, BodyVisitor(&mut raw_events))
        .and_then(|()| de.end());
    if let Err(e) = res {
        let line = e.line().max(1);
        let kind = if e.is_data() {
            ParseErrorKind::NotAnEventsBody
        } else {
            json_error(e, limits)
        };
        return Err(body_error(line, kind));
    }
    let raw_events = raw_events.ok_or_else(|| body_error(1, ParseErrorKind::NotAnEventsBody))?;
    let mut events = Vec::with_capacity(raw_events.len());
    let mut members = Vec::with_capacity(32);
    for (i, raw) in raw_events.iter().enumerate() {
        let raw = raw.get();
        match parse_event(raw, limits, &mut members) {
            Ok(e) => events.push(e),
            Err(kind) => {
                let offset = raw.as_ptr() as usize - text.as_ptr() as usize;
                return Err(ParseError {
                    line: line_of(body, offset),
                    event: Some(i),
                    kind,
                });
            }
        }
    }
    Ok(events)
}

/// The top-level object: finds `Events` (any case), ignores the rest.
struct BodyVisitor<'a, 'de>(&'a mut Option<Vec<&'de RawValue>>);

impl<'de> Visitor<'de> for BodyVisitor<'_, 'de> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object with an `Events` array")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(Key(k)) = map.next_key::<Key<'de>>()? {
            if self.0.is_none() && k.eq_ignore_ascii_case("events") {
                *self.0 = Some(map.next_value_seed(EventsSeed)?);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }
}

/// The `Events` array, each entry kept raw to be parsed on its own.
struct EventsSeed;

impl<'de> DeserializeSeed<'de> for EventsSeed {
    type Value = Vec<&'de RawValue>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for EventsSeed {
    type Value = Vec<&'de RawValue>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of events")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut v = Vec::with_capacity(seq.size_hint().unwrap_or(16));
        while let Some(e) = seq.next_element::<&'de RawValue>()? {
            v.push(e);
        }
        Ok(v)
    }
}

/// The named fields of one legacy event (raw values).
#[derive(Default)]
struct Fields<'de> {
    timestamp: Option<&'de str>,
    level: Option<&'de str>,
    template: Option<&'de str>,
    rendered: Option<&'de str>,
    exception: Option<&'de str>,
    trace_id: Option<&'de str>,
    span_id: Option<&'de str>,
    properties: Option<&'de str>,
    event_type: Option<&'de str>,
    renderings: Option<&'de str>,
}

impl<'de> Fields<'de> {
    fn slot(&mut self, key: &str) -> Option<&mut Option<&'de str>> {
        const NAMES: [&str; 10] = [
            "Timestamp",
            "Level",
            "MessageTemplate",
            "RenderedMessage",
            "Exception",
            "TraceId",
            "SpanId",
            "Properties",
            "EventType",
            "Renderings",
        ];
        let i = NAMES.iter().position(|n| n.eq_ignore_ascii_case(key))?;
        Some(match i {
            0 => &mut self.timestamp,
            1 => &mut self.level,
            2 => &mut self.template,
            3 => &mut self.rendered,
            4 => &mut self.exception,
            5 => &mut self.trace_id,
            6 => &mut self.span_id,
            7 => &mut self.properties,
            8 => &mut self.event_type,
            _ => &mut self.renderings,
        })
    }
}

/// Collects the raw fields of one event object.
struct FieldsVisitor<'a, 'de>(&'a mut Fields<'de>);

impl<'de> Visitor<'de> for FieldsVisitor<'_, 'de> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an event object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(Key(k)) = map.next_key::<Key<'de>>()? {
            let raw = map.next_value::<&'de RawValue>()?.get();
            if let Some(slot) = self.0.slot(&k) {
                if slot.is_none() {
                    *slot = Some(raw);
                }
            }
        }
        Ok(())
    }
}

/// Collects the members of `Properties`, first occurrence winning.
struct PropsVisitor<'a, 'de>(&'a mut Vec<Member<'de>>);

impl<'de> Visitor<'de> for PropsVisitor<'_, 'de> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object of properties")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen = 0u64;
        while let Some(Key(k)) = map.next_key::<Key<'de>>()? {
            let raw = map.next_value::<&'de RawValue>()?.get();
            push_member(self.0, &mut seen, raw_name(&k, 0), one_line(raw), false);
        }
        Ok(())
    }
}

/// A raw value with its line feeds (only ever whitespace between tokens,
/// since JSON strings cannot hold them raw) turned into spaces: the same JSON
/// value, and one that fits on a CLEF line when written back out.
fn one_line(raw: &str) -> Cow<'_, str> {
    if raw.as_bytes().contains(&b'\n') {
        Cow::Owned(raw.replace('\n', " "))
    } else {
        Cow::Borrowed(raw)
    }
}

/// Reads an optional string field.
fn string<'de>(
    raw: Option<&'de str>,
    field: &'static str,
) -> Result<Option<Cow<'de, str>>, ParseErrorKind> {
    match raw.map(str_field) {
        None | Some(StrField::Null) => Ok(None),
        Some(StrField::Str(s)) => Ok(Some(s)),
        Some(StrField::WrongType) => Err(ParseErrorKind::WrongType {
            field,
            expected: "a string",
        }),
    }
}

/// Parses one entry of `Events`.
fn parse_event<'de>(
    raw: &'de str,
    limits: &ParseLimits,
    members: &mut Vec<Member<'de>>,
) -> Result<Event, ParseErrorKind> {
    if raw.len() > limits.max_event_bytes {
        let (size, limit) = (raw.len(), limits.max_event_bytes);
        return Err(ParseErrorKind::TooLarge { size, limit });
    }
    if !raw.starts_with('{') {
        return Err(ParseErrorKind::NotAnObject);
    }
    if !depth_ok(raw, 0, limits.max_depth) {
        let limit = limits.max_depth;
        return Err(ParseErrorKind::TooDeep { limit });
    }
    let mut f = Fields::default();
    let mut de = serde_json::Deserializer::from_str(raw);
    de::Deserializer::deserialize_map(&mut de, FieldsVisitor(&mut f))
        .map_err(|e| json_error(e, limits))?;
    let timestamp = string(f.timestamp, "Timestamp")?
        .ok_or(ParseErrorKind::MissingTimestamp { field: "Timestamp" })?;
    let timestamp = parse_timestamp(&timestamp).map_err(|source| ParseErrorKind::BadTimestamp {
        field: "Timestamp",
        source,
    })?;
    let level = string(f.level, "Level")?;
    let severity = level.as_deref().map_or(Severity::Information, severity_of);
    members.clear();
    let mut seen = 0u64;
    if let Some(v) = f.event_type.filter(|v| *v != "null") {
        push_member(members, &mut seen, Cow::Borrowed("@i"), one_line(v), true);
    }
    if let Some(v) = f.renderings.filter(|v| *v != "null") {
        push_member(members, &mut seen, Cow::Borrowed("@r"), one_line(v), true);
    }
    match f.properties {
        None | Some("null") => {}
        Some(p) if p.starts_with('{') => {
            let mut de = serde_json::Deserializer::from_str(p);
            de::Deserializer::deserialize_map(&mut de, PropsVisitor(members))
                .map_err(|e| json_error(e, limits))?;
        }
        Some(_) => {
            return Err(ParseErrorKind::WrongType {
                field: "Properties",
                expected: "an object",
            })
        }
    }
    Ok(Event {
        timestamp,
        level: Level {
            text: level.map(Into::into),
            severity,
        },
        message_template: string(f.template, "MessageTemplate")?.map(Into::into),
        message: string(f.rendered, "RenderedMessage")?.map(Into::into),
        exception: string(f.exception, "Exception")?.map(Into::into),
        trace_id: string(f.trace_id, "TraceId")?.map(Into::into),
        span_id: string(f.span_id, "SpanId")?.map(Into::into),
        reified: build_map(members, true),
        properties: build_map(members, false),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::error::MAX_DEPTH;
    use crate::event::timestamp::{parse_timestamp, TimestampError};

    fn parse(s: &str) -> Result<Vec<Event>, ParseError> {
        parse_legacy(s.as_bytes())
    }

    #[test]
    fn seqlog_body() {
        let body = r#"{"Events": [{"Timestamp": "2026-11-25 16:43:33.837398+00:00", "Level": "WARNING", "MessageTemplate": "Hello {name}", "Properties": {"name": "world", "@x": 1.10, "logger": "app", "name": "dup"}}]}"#;
        let e = parse(body).unwrap().remove(0);
        assert_eq!(
            e.timestamp,
            parse_timestamp("2026-11-25T16:43:33.837398Z").unwrap()
        );
        assert_eq!(e.level.text.as_deref(), Some("WARNING"));
        assert_eq!(e.level.severity, Severity::Warning);
        assert_eq!(e.message_template.as_deref(), Some("Hello {name}"));
        assert_eq!(
            e.properties.as_json(),
            r#"{"name":"world","@x":1.10,"logger":"app"}"#
        );
        assert_eq!(e.exception, None);
    }

    #[test]
    fn seq_logging_body_and_all_fields() {
        let body = r#"{"Events":[
            {"Timestamp":"2025-01-01T00:00:00.000Z","Level":"info","MessageTemplate":"a","Properties":{}},
            {"timestamp":"2025-01-01T00:00:01Z","level":"CRITICAL","RenderedMessage":"r","Exception":"e\nx","TraceId":"t","SpanId":"s","EventType":"$1A","Renderings":[],"Properties":null,"Other":[1]}
        ],"Extra":true}"#;
        let v = parse(body).unwrap();
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].level.severity, Severity::Information);
        assert!(v[0].properties.is_empty());
        let e = &v[1];
        assert_eq!(e.level.severity, Severity::Fatal);
        assert_eq!(e.message.as_deref(), Some("r"));
        assert_eq!(e.exception.as_deref(), Some("e\nx"));
        assert_eq!(
            (e.trace_id.as_deref(), e.span_id.as_deref()),
            (Some("t"), Some("s"))
        );
        assert_eq!(e.reified.as_json(), r#"{"@i":"$1A","@r":[]}"#);
        assert_eq!(e.event_type(), Some(0x1a));
        assert!(parse(r#"{"Events":[]}"#).unwrap().is_empty());
        // Line feeds inside raw values become spaces: same JSON, one CLEF line.
        let body = "{\"Events\":[{\"Timestamp\":\"2025-01-01T00:00:00Z\",\"EventType\":\n1,\"Properties\":{\"A\":[\r\n1,\n2]}}]}";
        let e = parse(body).unwrap().remove(0);
        assert_eq!(e.properties.as_json(), "{\"A\":[\r 1, 2]}");
        let mut line = Vec::new();
        crate::event::write_clef(&e, &mut line);
        assert_eq!(crate::event::parse_clef(&line).unwrap(), [e]);
    }

    #[test]
    fn errors_name_event_and_line() {
        use ParseErrorKind::*;
        let ok = r#"{"Timestamp":"2025-01-01T00:00:00Z"}"#;
        let at1 = |bad: &str| parse(&format!("{{\"Events\":[\n{ok},\n{bad}]}}")).unwrap_err();
        let cases: Vec<(&str, ParseErrorKind)> = vec![
            ("1", NotAnObject),
            ("{}", MissingTimestamp { field: "Timestamp" }),
            (
                r#"{"Timestamp":"2025-02-30T00:00:00Z"}"#,
                BadTimestamp {
                    field: "Timestamp",
                    source: TimestampError::InvalidDate,
                },
            ),
            (
                r#"{"Timestamp":"2025-01-01T00:00:00Z","Level":3}"#,
                WrongType {
                    field: "Level",
                    expected: "a string",
                },
            ),
            (
                r#"{"Timestamp":"2025-01-01T00:00:00Z","Properties":[]}"#,
                WrongType {
                    field: "Properties",
                    expected: "an object",
                },
            ),
        ];
        for (bad, kind) in cases {
            let e = at1(bad);
            assert_eq!((e.event, e.line, &e.kind), (Some(1), 3, &kind), "{bad}");
        }
        let deep = format!(
            r#"{{"Timestamp":"2025-01-01T00:00:00Z","Properties":{{"A":{}{}}}}}"#,
            "[".repeat(MAX_DEPTH),
            "]".repeat(MAX_DEPTH)
        );
        assert_eq!(at1(&deep).kind, TooDeep { limit: MAX_DEPTH });
        let limits = ParseLimits {
            max_event_bytes: 40,
            ..Default::default()
        };
        let big = format!(
            "{{\"Events\":[{ok},{{\"Timestamp\":\"{}\"}}]}}",
            "x".repeat(40)
        );
        let e = parse_legacy_with(big.as_bytes(), &limits).unwrap_err();
        assert!(matches!(e.kind, TooLarge { limit: 40, .. }));
        assert_eq!(e.event, Some(1));
    }

    #[test]
    fn body_errors() {
        use ParseErrorKind::*;
        assert_eq!(parse("[]").unwrap_err().kind, NotAnEventsBody);
        assert_eq!(parse("{}").unwrap_err().kind, NotAnEventsBody);
        assert_eq!(parse(r#"{"Events":{}}"#).unwrap_err().kind, NotAnEventsBody);
        assert!(matches!(
            parse(r#"{"Events":[}"#).unwrap_err().kind,
            Json(_)
        ));
        assert!(matches!(parse("").unwrap_err().kind, Json(_)));
        let e = parse_legacy(b"{\"Events\":[\n\"\xff\"]}").unwrap_err();
        assert_eq!((e.kind, e.line), (InvalidUtf8, 2));
        let deep = format!("{}{}", "[".repeat(300), "]".repeat(300));
        assert_eq!(parse(&deep).unwrap_err().kind, NotAnEventsBody);
    }
}
