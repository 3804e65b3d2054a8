//! [`render_message`]: an event's message, rendered the way Serilog does.
//!
//! `@m` when the client sent one; otherwise `@mt` with each hole replaced by
//! its property: strings quoted (`"x"`, inner quotes escaped) unless the
//! format contains `l`; `j` writes the raw JSON; numbers exactly as sent, or
//! with a simple numeric format applied (`0.00`, `#,##0.0`, `F2`, `N0`,
//! `D5`); `true`/`false` as `True`/`False`; objects as `Tag { A: 1 }`
//! (`$type` gives the tag) and arrays as `[1, "a"]`, for `{X}`, `{@X}` and
//! `{$X}` alike (a stringified value already arrives as a string). A
//! well-formed `@r` (one string per hole that has a format, in order) is
//! preferred for those holes. Alignment pads with spaces. A hole whose
//! property is missing keeps its raw text.

use std::borrow::Cow;
use std::fmt;

use serde::de::{Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;

use super::raw::{str_field, Key, StrField};
use super::template::{tokens, Token};
use super::view::EventView;

/// How deep structured values are rendered before `...` stands in.
const MAX_RENDER_DEPTH: usize = 64;

/// The event's message: `@m` if sent, else `@mt` rendered with its
/// properties, else the empty string.
pub fn render_message<E: EventView + ?Sized>(e: &E) -> String {
    if let Some(m) = e.message() {
        return m.to_owned();
    }
    e.message_template()
        .map(|t| render_template(t, e))
        .unwrap_or_default()
}

/// Renders `template` with the properties (and `@r` renderings) of `e`.
pub fn render_template<E: EventView + ?Sized>(template: &str, e: &E) -> String {
    let renderings = e
        .reified_raw("@r")
        .and_then(|r| serde_json::from_str::<Vec<String>>(r).ok())
        .filter(|r| {
            let formatted = tokens(template)
                .filter(|t| matches!(t, Token::Hole(h) if h.format.is_some()))
                .count();
            r.len() == formatted
        });
    let mut out = String::with_capacity(template.len() + 32);
    let mut value = String::new();
    let mut formatted_index = 0;
    for token in tokens(template) {
        let h = match token {
            Token::Text(t) => {
                out.push_str(&t);
                continue;
            }
            Token::Hole(h) => h,
        };
        let rendering = match (h.format, &renderings) {
            (Some(_), Some(r)) => r.get(formatted_index).map(String::as_str),
            _ => None,
        };
        if h.format.is_some() {
            formatted_index += 1;
        }
        value.clear();
        match (rendering, e.property_raw(h.name)) {
            (Some(r), Some(_)) => value.push_str(r),
            (None, Some(raw)) => render_value(raw, h.format, 0, &mut value),
            (_, None) => {
                out.push_str(h.raw_text);
                continue;
            }
        }
        pad(&value, h.alignment, &mut out);
    }
    out
}

/// Appends `value`, padded with spaces to `alignment` characters.
fn pad(value: &str, alignment: Option<i32>, out: &mut String) {
    let width = alignment.map_or(0, |a| a.unsigned_abs() as usize);
    let fill = width.saturating_sub(value.chars().count());
    let left = alignment.is_some_and(|a| a < 0);
    if !left {
        out.extend(std::iter::repeat_n(' ', fill));
    }
    out.push_str(value);
    if left {
        out.extend(std::iter::repeat_n(' ', fill));
    }
}

/// Renders one raw JSON value as Serilog would.
fn render_value(raw: &str, format: Option<&str>, depth: usize, out: &mut String) {
    let fmt = format.unwrap_or("");
    if fmt.contains('j') {
        out.push_str(raw);
        return;
    }
    match raw.as_bytes().first() {
        Some(b'"') => match str_field(raw) {
            StrField::Str(s) if fmt.contains('l') => out.push_str(&s),
            StrField::Str(s) => {
                out.push('"');
                out.push_str(&s.replace('"', "\\\""));
                out.push('"');
            }
            _ => out.push_str(raw),
        },
        Some(b't') => out.push_str("True"),
        Some(b'f') => out.push_str("False"),
        Some(b'n') => out.push_str("null"),
        Some(b'{') if depth < MAX_RENDER_DEPTH => render_object(raw, depth, out),
        Some(b'[') if depth < MAX_RENDER_DEPTH => render_array(raw, depth, out),
        Some(b'{' | b'[') => out.push_str("..."),
        _ => match format.and_then(|f| format_number(raw, f)) {
            Some(s) => out.push_str(&s),
            None => out.push_str(raw),
        },
    }
}

fn render_array(raw: &str, depth: usize, out: &mut String) {
    let Ok(items) = serde_json::from_str::<Vec<&RawValue>>(raw) else {
        out.push_str(raw);
        return;
    };
    out.push('[');
    for (i, v) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        render_value(v.get(), None, depth + 1, out);
    }
    out.push(']');
}

fn render_object(raw: &str, depth: usize, out: &mut String) {
    let mut de = serde_json::Deserializer::from_str(raw);
    let Ok(members) = de.deserialize_map(MembersVisitor) else {
        out.push_str(raw);
        return;
    };
    let tag = members
        .iter()
        .find(|(k, _)| k == "$type")
        .and_then(|(_, v)| match str_field(v.get()) {
            StrField::Str(s) => Some(s),
            _ => None,
        });
    if let Some(tag) = tag {
        out.push_str(&tag);
        out.push(' ');
    }
    out.push_str("{ ");
    let mut first = true;
    for (k, v) in members.iter().filter(|(k, _)| k != "$type") {
        if !first {
            out.push_str(", ");
        }
        first = false;
        out.push_str(k);
        out.push_str(": ");
        render_value(v.get(), None, depth + 1, out);
    }
    out.push_str(" }");
}

/// Collects an object's members in order, keys unescaped.
struct MembersVisitor;

impl<'de> Visitor<'de> for MembersVisitor {
    type Value = Vec<(Cow<'de, str>, &'de RawValue)>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut v = Vec::new();
        while let Some(Key(k)) = map.next_key::<Key<'de>>()? {
            v.push((k, map.next_value::<&'de RawValue>()?));
        }
        Ok(v)
    }
}

/// A number's sign and digits, split at the decimal point.
struct Decimal {
    negative: bool,
    int: Vec<u8>,
    frac: Vec<u8>,
}

impl Decimal {
    /// Parses a JSON number; exponents go through `f64`.
    fn parse(raw: &str) -> Option<Decimal> {
        if raw.contains(['e', 'E']) {
            let v: f64 = raw.parse().ok()?;
            return Decimal::parse(&format!("{v:.17}"));
        }
        let (negative, digits) = match raw.strip_prefix('-') {
            Some(d) => (true, d),
            None => (false, raw),
        };
        let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
        let ok = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if int.is_empty() || !ok(int) || !ok(frac) {
            return None;
        }
        Some(Decimal {
            negative,
            int: int.as_bytes().to_vec(),
            frac: frac.as_bytes().to_vec(),
        })
    }

    /// Rounds half away from zero to `places` fractional digits.
    fn round(&mut self, places: usize) {
        if self.frac.len() <= places {
            self.frac.resize(places, b'0');
            return;
        }
        let up = self.frac[places] >= b'5';
        self.frac.truncate(places);
        if !up {
            return;
        }
        for d in self.frac.iter_mut().rev().chain(self.int.iter_mut().rev()) {
            if *d == b'9' {
                *d = b'0';
            } else {
                *d += 1;
                return;
            }
        }
        self.int.insert(0, b'1');
    }

    /// Writes the number with at least `min_int` integer digits, grouping
    /// them by thousands if asked.
    fn write(&self, group: bool, min_int: usize, out: &mut String) {
        let p = self.int.iter().position(|&d| d != b'0');
        let sig = p.map_or(&[][..], |p| &self.int[p..]);
        let width = sig.len().max(min_int).max(1);
        let zero = sig.is_empty() && self.frac.iter().all(|&d| d == b'0');
        if self.negative && !zero {
            out.push('-');
        }
        let pad = width - sig.len();
        for i in 0..width {
            if group && i > 0 && (width - i) % 3 == 0 {
                out.push(',');
            }
            out.push(if i < pad { '0' } else { sig[i - pad] as char });
        }
        if !self.frac.is_empty() {
            out.push('.');
            self.frac.iter().for_each(|&d| out.push(d as char));
        }
    }
}

/// Applies a simple .NET numeric format to a raw JSON number: custom
/// `0`, `0.00`, `#,##0.0`; standard `F`n, `N`n, `D`n. Others: `None`.
pub fn format_number(raw: &str, format: &str) -> Option<String> {
    let mut d = Decimal::parse(raw)?;
    let (places, group, min_int) = match format.as_bytes() {
        [c @ (b'F' | b'f' | b'N' | b'n'), rest @ ..] => {
            let places = if rest.is_empty() { 2 } else { digits(rest)? };
            (places, matches!(c, b'N' | b'n'), 1)
        }
        [b'D' | b'd', rest @ ..] => {
            if !d.frac.is_empty() {
                return None;
            }
            (0, false, if rest.is_empty() { 1 } else { digits(rest)? })
        }
        _ => {
            let (group, body) = match format.strip_prefix("#,##") {
                Some(b) => (true, b),
                None => (false, format),
            };
            let (int, frac) = body.split_once('.').unwrap_or((body, ""));
            let zeros = |s: &str| s.bytes().all(|b| b == b'0');
            if int.is_empty() || !zeros(int) || !zeros(frac) || body.ends_with('.') {
                return None;
            }
            (frac.len(), group, int.len())
        }
    };
    if places > 30 || min_int > 30 {
        return None;
    }
    d.round(places);
    let mut out = String::new();
    d.write(group, min_int, &mut out);
    Some(out)
}

fn digits(b: &[u8]) -> Option<usize> {
    std::str::from_utf8(b).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::clef::parse_clef;

    fn render(line: &str) -> String {
        let e = parse_clef(line.as_bytes()).unwrap().remove(0);
        render_message(&e)
    }

    fn ev(mt: &str, props: &str) -> String {
        let mt = serde_json::to_string(mt).unwrap();
        render(&format!(
            r#"{{"@t":"2025-01-01T00:00:00Z","@mt":{mt}{props}}}"#
        ))
    }

    #[test]
    fn message_wins_then_template() {
        assert_eq!(
            render(r#"{"@t":"2025-01-01T00:00:00Z","@m":"done","@mt":"x {A}","A":1}"#),
            "done"
        );
        assert_eq!(render(r#"{"@t":"2025-01-01T00:00:00Z"}"#), "");
        assert_eq!(
            ev("User {UserId} from {Ip}", r#","UserId":42,"Ip":"10.0.0.1""#),
            r#"User 42 from "10.0.0.1""#
        );
    }

    #[test]
    fn serilog_value_rendering() {
        assert_eq!(ev("{A}", r#","A":"say \"hi\"""#), r#""say \"hi\"""#);
        assert_eq!(ev("{A:l}", r#","A":"x""#), "x");
        assert_eq!(ev("{A:j}", r#","A":{"b":[1,2]}"#), r#"{"b":[1,2]}"#);
        assert_eq!(
            ev("{A} {B} {C}", r#","A":true,"B":false,"C":null"#),
            "True False null"
        );
        assert_eq!(
            ev("{A}", r#","A":12345678901234567890123"#),
            "12345678901234567890123"
        );
        assert_eq!(ev("{A}", r#","A":1.10"#), "1.10");
        assert_eq!(
            ev("{@A}", r#","A":{"$type":"User","Id":1,"Name":"x"}"#),
            r#"User { Id: 1, Name: "x" }"#
        );
        assert_eq!(ev("{A}", r#","A":{"Id":1}"#), "{ Id: 1 }");
        assert_eq!(ev("{$A}", r#","A":"Obj""#), r#""Obj""#);
        assert_eq!(ev("{A}", r#","A":[1,"a",[true]]"#), r#"[1, "a", [True]]"#);
        assert_eq!(ev("{{{A}}} {B}", r#","A":1"#), "{1} {B}");
        assert_eq!(
            ev("[{A,5}|{A,-5}|{B,3}]", r#","A":"ab","B":12345"#),
            r#"[ "ab"|"ab" |12345]"#
        );
        assert_eq!(ev("{A:yyyy}", r#","A":"2025""#), r#""2025""#);
    }

    #[test]
    fn numeric_formats() {
        assert_eq!(
            ev("{E:0.0000} ms", r#","E":21.73470815735404"#),
            "21.7347 ms"
        );
        assert_eq!(ev("{E:0.00}", r#","E":0.995"#), "1.00");
        assert_eq!(ev("{E:0.00}", r#","E":-0.001"#), "0.00");
        assert_eq!(ev("{E:0}", r#","E":2.5"#), "3");
        assert_eq!(ev("{E:#,##0.0}", r#","E":1234567.25"#), "1,234,567.3");
        assert_eq!(ev("{E:N2}", r#","E":1234"#), "1,234.00");
        assert_eq!(ev("{E:F1}", r#","E":99.96"#), "100.0");
        assert_eq!(ev("{E:D5}", r#","E":42"#), "00042");
        assert_eq!(ev("{E:D5}", r#","E":-42"#), "-00042");
        assert_eq!(ev("{E:000.0}", r#","E":4.25"#), "004.3");
        assert_eq!(ev("{E:F2}", r#","E":1e3"#), "1000.00");
        assert_eq!(ev("{E:X8}", r#","E":255"#), "255");
        assert_eq!(ev("{E:0.0#}", r#","E":1.5"#), "1.5");
    }

    #[test]
    fn renderings_preferred_when_well_formed() {
        let base = r#"{"@t":"2025-01-01T00:00:00Z","@mt":"{A:0.0} {B} {C:x}","A":1.25,"B":2,"C":3"#;
        assert_eq!(
            render(&format!(r#"{base},"@r":["one","three"]}}"#)),
            "one 2 three"
        );
        // Malformed (seqlog's positional arguments, wrong count, not strings): ignored.
        assert_eq!(render(&format!(r#"{base},"@r":[]}}"#)), "1.3 2 3");
        assert_eq!(render(&format!(r#"{base},"@r":[1,2]}}"#)), "1.3 2 3");
        assert_eq!(render(&format!(r#"{base},"@r":{{"a":1}}}}"#)), "1.3 2 3");
    }
}
