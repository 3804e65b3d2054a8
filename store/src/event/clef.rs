//! [`parse_clef`]: CLEF bodies (one JSON object per line) into [`Event`]s.
//!
//! Lines end in LF or CRLF, the last one optionally; blank lines are skipped
//! but still counted for error positions. A body with any bad event yields a
//! [`ParseError`] naming its 1-based line, and no events.
//!
//! Fields: `@t` (required), `@l`, `@mt`, `@m`, `@x`, `@tr`, `@sp` must be
//! strings (`null` counts as absent) and are typed into [`Event`]; every
//! other `@`-field (`@i`, `@r`, `@st`, `@ps`, `@sk`, unknown ones, even a
//! malformed `@r`) goes raw into [`Event::reified`]; `@@name` is property
//! `@name`; all other keys are properties, values kept exactly as sent.
//! When a key repeats (after unescaping), the first occurrence wins.
//!
//! Speed matters (≥ 1M events/s on one core): keys are borrowed from the
//! input, values are borrowed [`RawValue`]s copied once into the event's
//! [`JsonMap`] text, and no `serde_json::Value` is ever built.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, Visitor};
use serde_json::value::RawValue;

use super::error::{json_error, line_of, ParseError, ParseErrorKind, ParseLimits};
use super::level::severity_of;
use super::model::{Event, JsonMap, JsonMapBuilder, Level, Severity};
use super::raw::{depth_ok, is_blank, raw_name, str_field, Key, StrField};
use super::timestamp::parse_timestamp;

/// Parses a CLEF body with the default [`ParseLimits`].
pub fn parse_clef(body: &[u8]) -> Result<Vec<Event>, ParseError> {
    parse_clef_with(body, &ParseLimits::default())
}

/// Parses a CLEF body: every event, or the first error.
pub fn parse_clef_with(body: &[u8], limits: &ParseLimits) -> Result<Vec<Event>, ParseError> {
    let text = match std::str::from_utf8(body) {
        Ok(t) => t,
        Err(e) => {
            // Report an earlier bad line if there is one, else the bad bytes.
            let bad_line_start = body[..e.valid_up_to()]
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |p| p + 1);
            let prefix = std::str::from_utf8(&body[..bad_line_start]).unwrap_or_default();
            parse_text(prefix, limits)?;
            return Err(ParseError {
                line: line_of(body, e.valid_up_to()),
                event: None,
                kind: ParseErrorKind::InvalidUtf8,
            });
        }
    };
    parse_text(text, limits)
}

fn parse_text(text: &str, limits: &ParseLimits) -> Result<Vec<Event>, ParseError> {
    let lines = count_newlines(text.as_bytes()) + 1;
    let mut events = Vec::with_capacity(lines);
    let mut parser = LineParser::new(limits);
    for (i, line) in text.split('\n').enumerate() {
        if is_blank(line.as_bytes()) {
            continue;
        }
        match parser.parse(line) {
            Ok(e) => events.push(e),
            Err(kind) => {
                return Err(ParseError {
                    line: i + 1,
                    event: None,
                    kind,
                })
            }
        }
    }
    Ok(events)
}

/// Counts line feeds, 255 bytes at a time in a `u8` so that it vectorizes.
fn count_newlines(b: &[u8]) -> usize {
    b.chunks(255)
        .map(|c| c.iter().fold(0u8, |n, &x| n + u8::from(x == b'\n')) as usize)
        .sum()
}

/// Parses one CLEF line with the default limits (no line splitting).
pub fn parse_clef_line(line: &str) -> Result<Event, ParseErrorKind> {
    LineParser::new(&ParseLimits::default()).parse(line)
}

/// A member collected from a line before the maps are built.
pub(crate) struct Member<'de> {
    pub raw_name: Cow<'de, str>,
    pub raw_value: Cow<'de, str>,
    pub reified: bool,
}

/// The typed fields of one line, as found.
#[derive(Default)]
struct Typed<'de> {
    t: Option<Cow<'de, str>>,
    l: Option<Cow<'de, str>>,
    mt: Option<Cow<'de, str>>,
    m: Option<Cow<'de, str>>,
    x: Option<Cow<'de, str>>,
    tr: Option<Cow<'de, str>>,
    sp: Option<Cow<'de, str>>,
}

/// Parses lines, reusing its scratch space from one line to the next.
struct LineParser<'de, 'l> {
    limits: &'l ParseLimits,
    members: Vec<Member<'de>>,
}

impl<'de, 'l> LineParser<'de, 'l> {
    fn new(limits: &'l ParseLimits) -> Self {
        LineParser {
            limits,
            members: Vec::with_capacity(32),
        }
    }

    fn parse(&mut self, line: &'de str) -> Result<Event, ParseErrorKind> {
        if line.len() > self.limits.max_event_bytes {
            return Err(ParseErrorKind::TooLarge {
                size: line.len(),
                limit: self.limits.max_event_bytes,
            });
        }
        let first = line.bytes().find(|b| !matches!(b, b' ' | b'\t' | b'\r'));
        if first != Some(b'{') {
            return Err(match serde_json::from_str::<de::IgnoredAny>(line) {
                Ok(_) => ParseErrorKind::NotAnObject,
                Err(e) => json_error(e, self.limits),
            });
        }
        self.members.clear();
        let mut typed = Typed::default();
        let mut failure = None;
        let mut de = serde_json::Deserializer::from_str(line);
        let seed = LineSeed {
            members: &mut self.members,
            typed: &mut typed,
            failure: &mut failure,
            limits: self.limits,
        };
        let res = de::Deserializer::deserialize_map(&mut de, seed).and_then(|()| de.end());
        if let Some(kind) = failure {
            return Err(kind);
        }
        res.map_err(|e| json_error(e, self.limits))?;
        build_event(typed, &self.members)
    }
}

/// Builds the event from the fields and members found on one line.
fn build_event(typed: Typed<'_>, members: &[Member<'_>]) -> Result<Event, ParseErrorKind> {
    let t = typed
        .t
        .as_deref()
        .ok_or(ParseErrorKind::MissingTimestamp { field: "@t" })?;
    let timestamp = parse_timestamp(t).map_err(|source| ParseErrorKind::BadTimestamp {
        field: "@t",
        source,
    })?;
    let severity = typed
        .l
        .as_deref()
        .map_or(Severity::Information, severity_of);
    Ok(Event {
        timestamp,
        level: Level {
            text: typed.l.map(Into::into),
            severity,
        },
        message_template: typed.mt.map(Into::into),
        message: typed.m.map(Into::into),
        exception: typed.x.map(Into::into),
        trace_id: typed.tr.map(Into::into),
        span_id: typed.sp.map(Into::into),
        reified: build_map(members, true),
        properties: build_map(members, false),
    })
}

/// Builds one of the two maps with exactly sized buffers.
pub(crate) fn build_map(members: &[Member<'_>], reified: bool) -> JsonMap {
    let mut n = 0;
    let mut text = 1;
    for m in members.iter().filter(|m| m.reified == reified) {
        n += 1;
        text += m.raw_name.len() + m.raw_value.len() + 4;
    }
    if n == 0 {
        return JsonMap::new();
    }
    let mut b = JsonMapBuilder::with_capacities(text, n);
    for m in members.iter().filter(|m| m.reified == reified) {
        b.push(&m.raw_name, &m.raw_value);
    }
    b.finish()
}

/// Deserializes the line's top-level object into `typed` and `members`.
struct LineSeed<'a, 'de> {
    members: &'a mut Vec<Member<'de>>,
    typed: &'a mut Typed<'de>,
    failure: &'a mut Option<ParseErrorKind>,
    limits: &'a ParseLimits,
}

impl<'de> DeserializeSeed<'de> for LineSeed<'_, 'de> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

/// Stops deserialization, leaving the typed reason in `failure`.
fn fail<E: de::Error>(failure: &mut Option<ParseErrorKind>, kind: ParseErrorKind) -> E {
    *failure = Some(kind);
    E::custom("invalid event")
}

/// Stores a string field unless already set (the first occurrence wins).
fn set_str<'de, E: de::Error>(
    slot: &mut Option<Cow<'de, str>>,
    raw: &'de str,
    field: &'static str,
    failure: &mut Option<ParseErrorKind>,
) -> Result<(), E> {
    if slot.is_some() {
        return Ok(());
    }
    match str_field(raw) {
        StrField::Str(s) => *slot = Some(s),
        StrField::Null => {}
        StrField::WrongType => {
            return Err(fail(
                failure,
                ParseErrorKind::WrongType {
                    field,
                    expected: "a string",
                },
            ))
        }
    }
    Ok(())
}

/// A 64-bit filter over names already seen, so that duplicate checks scan
/// the member list only on a (rare) collision.
pub(crate) fn name_bit(name: &str) -> u64 {
    let b = name.as_bytes();
    let at = |i: usize| b.get(i).map_or(0, |&c| c as u64);
    let mix =
        (b.len() as u64) ^ at(0) << 8 ^ at(b.len() / 2) << 16 ^ at(b.len().wrapping_sub(1)) << 24;
    1u64 << (mix.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 58)
}

impl<'de> Visitor<'de> for LineSeed<'_, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a CLEF event object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let LineSeed {
            members,
            typed,
            failure,
            limits,
        } = self;
        let (mut seen_props, mut seen_reified) = (0u64, 0u64);
        while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
            let raw = map.next_value::<&'de RawValue>()?.get();
            if !depth_ok(raw, 1, limits.max_depth) {
                let limit = limits.max_depth;
                return Err(fail(failure, ParseErrorKind::TooDeep { limit }));
            }
            let reified = match key.as_bytes() {
                [b'@', b'@', ..] => false,
                [b'@', ..] => true,
                _ => false,
            };
            if reified {
                match &*key {
                    "@t" => set_str(&mut typed.t, raw, "@t", failure)?,
                    "@l" => set_str(&mut typed.l, raw, "@l", failure)?,
                    "@mt" => set_str(&mut typed.mt, raw, "@mt", failure)?,
                    "@m" => set_str(&mut typed.m, raw, "@m", failure)?,
                    "@x" => set_str(&mut typed.x, raw, "@x", failure)?,
                    "@tr" => set_str(&mut typed.tr, raw, "@tr", failure)?,
                    "@sp" => set_str(&mut typed.sp, raw, "@sp", failure)?,
                    _ => push_member(
                        members,
                        &mut seen_reified,
                        raw_name(&key, 0),
                        Cow::Borrowed(raw),
                        true,
                    ),
                }
            } else {
                let start = if key.starts_with('@') { 1 } else { 0 };
                push_member(
                    members,
                    &mut seen_props,
                    raw_name(&key, start),
                    Cow::Borrowed(raw),
                    false,
                );
            }
        }
        Ok(())
    }
}

/// Adds a member unless one of the same kind and name was already seen.
pub(crate) fn push_member<'de>(
    members: &mut Vec<Member<'de>>,
    seen: &mut u64,
    raw_name: Cow<'de, str>,
    raw_value: Cow<'de, str>,
    reified: bool,
) {
    let bit = name_bit(&raw_name);
    if *seen & bit != 0
        && members
            .iter()
            .any(|m| m.reified == reified && m.raw_name == raw_name)
    {
        return;
    }
    *seen |= bit;
    members.push(Member {
        raw_name,
        raw_value,
        reified,
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::error::MAX_DEPTH;
    use crate::event::timestamp::TimestampError;

    fn err(body: &str) -> ParseError {
        parse_clef(body.as_bytes()).expect_err(body)
    }

    fn one(line: &str) -> Event {
        let mut v = parse_clef(line.as_bytes()).expect(line);
        assert_eq!(v.len(), 1);
        v.remove(0)
    }

    const T: &str = r#""@t":"2025-01-01T00:00:00Z""#;

    #[test]
    fn typed_fields_reified_and_properties() {
        let e = one(&format!(
            r#"{{{T},"@l":"WRN","@mt":"m {{A}}","@m":"m 1","@x":"boom","@tr":"tr1","@sp":"sp1","@i":"A1B2C3D4","@r":["x"],"@st":"s","@ps":"p","@sk":"Client","@zz":[1],"A":1,"@@B":"b","C":{{"d":[1,2]}}}}"#
        ));
        assert_eq!(e.timestamp.0, 1_735_689_600_000_000_000);
        assert_eq!(e.level.text.as_deref(), Some("WRN"));
        assert_eq!(e.level.severity, Severity::Warning);
        assert_eq!(e.message_template.as_deref(), Some("m {A}"));
        assert_eq!(e.message.as_deref(), Some("m 1"));
        assert_eq!(e.exception.as_deref(), Some("boom"));
        assert_eq!(e.trace_id.as_deref(), Some("tr1"));
        assert_eq!(e.span_id.as_deref(), Some("sp1"));
        assert_eq!(
            e.reified.as_json(),
            r#"{"@i":"A1B2C3D4","@r":["x"],"@st":"s","@ps":"p","@sk":"Client","@zz":[1]}"#
        );
        assert_eq!(e.event_type(), Some(0xA1B2C3D4));
        assert_eq!(
            e.properties.as_json(),
            r#"{"A":1,"@B":"b","C":{"d":[1,2]}}"#
        );
    }

    #[test]
    fn absent_level_and_messages() {
        let e = one(&format!("{{{T}}}"));
        assert_eq!(e.level.text, None);
        assert_eq!(e.level.severity, Severity::Information);
        assert_eq!((e.message_template, e.message), (None, None));
        assert!(e.properties.is_empty() && e.reified.is_empty());
        let e = one(&format!(r#"{{{T},"@l":null,"@x":null}}"#));
        assert_eq!((e.level.text, e.exception), (None, None));
    }

    #[test]
    fn raw_values_kept_exactly() {
        let e = one(&format!(
            r#"{{{T},"Big":12345678901234567890123,"Dec":1.10,"Exp":1E+2,"S":"\u00e9\n","U":"é","Sp":[1, 2 ,{{"a" : 3}}]}}"#
        ));
        let p = |n| e.properties.get_raw(n).unwrap();
        assert_eq!(p("Big"), "12345678901234567890123");
        assert_eq!(p("Dec"), "1.10");
        assert_eq!(p("Exp"), "1E+2");
        assert_eq!(p("S"), r#""\u00e9\n""#);
        assert_eq!(p("U"), r#""é""#);
        assert_eq!(p("Sp"), r#"[1, 2 ,{"a" : 3}]"#);
    }

    #[test]
    fn escaped_names_are_canonical_and_first_key_wins() {
        let e = one(&format!(
            r#"{{{T},"\u0041":1,"A":2,"q\"x":3,"\u0040\u0040y":4,"@@y":5,"@t":"1999-01-01T00:00:00Z","@l":"Error","@l":"Debug"}}"#
        ));
        assert_eq!(e.properties.as_json(), r#"{"A":1,"q\"x":3,"@y":4}"#);
        assert_eq!(e.timestamp.0, 1_735_689_600_000_000_000);
        assert_eq!(e.level.text.as_deref(), Some("Error"));
        let e = one(&format!(r#"{{{T},"\u0040mt":"x","@r":1,"@r":2}}"#));
        assert_eq!(e.message_template.as_deref(), Some("x"));
        assert_eq!(e.reified.as_json(), r#"{"@r":1}"#);
    }

    #[test]
    fn line_endings_and_blank_lines() {
        let l = format!("{{{T}}}");
        for body in [
            format!("{l}\n{l}"),
            format!("{l}\n{l}\n"),
            format!("{l}\r\n{l}"),
            format!("{l}\r\n{l}\r\n"),
            format!("\n\r\n  \n{l}\n\n{l}\n\n"),
        ] {
            assert_eq!(parse_clef(body.as_bytes()).unwrap().len(), 2, "{body:?}");
        }
        assert!(parse_clef(b"").unwrap().is_empty());
        assert!(parse_clef(b"\r\n").unwrap().is_empty());
        // seqlog's malformed `@r` is tolerated and kept raw.
        let e = one(&format!(r#"{{{T},"@mt":"{{0}}","@r":[]}}"#));
        assert_eq!(e.reified.get_raw("@r"), Some("[]"));
    }

    #[test]
    fn every_error_kind_names_its_line() {
        use ParseErrorKind::*;
        let ok = format!("{{{T}}}");
        let at2 = |bad: &str| err(&format!("{ok}\n{bad}\n{ok}"));
        assert!(matches!(at2("{").kind, Json(_)));
        assert!(matches!(at2(r#"{"@t":"x",}"#).kind, Json(_)));
        assert!(matches!(at2(&format!("{ok} x")).kind, Json(_)));
        assert!(matches!(at2("nope").kind, Json(_)));
        assert_eq!(at2("[1]").kind, NotAnObject);
        assert_eq!(at2("\"x\"").kind, NotAnObject);
        assert_eq!(at2(r#"{"A":1}"#).kind, MissingTimestamp { field: "@t" });
        assert_eq!(at2(r#"{"@t":null}"#).kind, MissingTimestamp { field: "@t" });
        assert_eq!(
            at2(r#"{"@t":"yesterday"}"#).kind,
            BadTimestamp {
                field: "@t",
                source: TimestampError::Format
            }
        );
        for f in ["@t", "@l", "@mt", "@m", "@x", "@tr", "@sp"] {
            let line = match f {
                "@t" => r#"{"@t":1}"#.to_owned(),
                _ => format!(r#"{{{T},"{f}":1}}"#),
            };
            let e = at2(&line);
            assert_eq!(
                e.kind,
                WrongType {
                    field: f,
                    expected: "a string"
                }
            );
        }
        let deep = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        assert!(parse_clef(format!(r#"{{{T},"A":{}}}"#, deep(MAX_DEPTH - 1)).as_bytes()).is_ok());
        let e = at2(&format!(r#"{{{T},"A":{}}}"#, deep(MAX_DEPTH)));
        assert_eq!(e.kind, TooDeep { limit: MAX_DEPTH });
        let e = at2(&format!(r#"{{{T},"A":{}}}"#, deep(200)));
        assert_eq!(e.kind, TooDeep { limit: MAX_DEPTH });
        for e in [
            at2("{"),
            at2("[1]"),
            at2(r#"{"A":1}"#),
            at2(&format!(r#"{{{T},"A":{}}}"#, deep(MAX_DEPTH))),
        ] {
            assert_eq!((e.line, e.event), (2, None), "{e}");
        }
        let mut body = format!("{ok}\r\n{ok}\r\n").into_bytes();
        body.extend_from_slice(b"{\"@t\":\"2025-01-01T00:00:00Z\",\"A\":\"\xff\"}");
        assert_eq!(parse_clef(&body).unwrap_err().kind, InvalidUtf8);
        assert_eq!(parse_clef(&body).unwrap_err().line, 3);
        // An earlier bad line is reported before later invalid UTF-8.
        let mut body = b"{\n".to_vec();
        body.extend_from_slice(b"\xff\n");
        assert_eq!(parse_clef(&body).unwrap_err().line, 1);
    }

    #[test]
    fn counts_newlines() {
        let body = "a\n".repeat(1000);
        assert_eq!(count_newlines(body.as_bytes()), 1000);
        assert_eq!(count_newlines(b""), 0);
    }

    #[test]
    fn size_limit_is_enforced() {
        let limits = ParseLimits {
            max_event_bytes: 64,
            ..ParseLimits::default()
        };
        let big = format!(r#"{{{T},"A":"{}"}}"#, "x".repeat(64));
        let e = parse_clef_with(big.as_bytes(), &limits).unwrap_err();
        assert_eq!(
            e.kind,
            ParseErrorKind::TooLarge {
                size: big.len(),
                limit: 64
            }
        );
        assert!(parse_clef(big.as_bytes()).is_ok());
        let huge = format!(r#"{{{T},"A":"{}"}}"#, "x".repeat(1 << 20));
        assert!(matches!(
            parse_clef(huge.as_bytes()).unwrap_err().kind,
            ParseErrorKind::TooLarge { .. }
        ));
    }

    #[test]
    fn dataset_shape_parses() {
        let line = r#"{"@t":"2025-01-01T00:00:00.001000Z","@mt":"User {UserId} logged in from {ClientIp}","@l":"Information","Application":"billing","MachineName":"web-01","TraceId":"3b8faa1837f8a88b17fc695a07a0ca6e","SpanId":"9a1de644815ef6d1","UserId":27825,"ClientIp":"10.101.214.57"}"#;
        let e = one(line);
        assert_eq!(e.properties.len(), 6);
        assert_eq!(e.trace_id, None);
        assert_eq!(e.properties.get_raw("UserId"), Some("27825"));
        assert_eq!(parse_clef_line(line).unwrap(), e);
    }
}
