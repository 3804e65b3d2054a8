//! Small raw-JSON helpers shared by the wire parsers and the CLEF writer:
//! borrowed keys, string fields read from raw values, canonical name escaping
//! and the cheap nesting-depth check.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, Visitor};

/// A JSON object key, borrowed from the input unless it contained escapes.
pub(crate) struct Key<'de>(pub Cow<'de, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Key<'de>, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string key")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v)))
            }
        }
        d.deserialize_str(V)
    }
}

/// What a raw JSON value holds, when a string is expected.
pub(crate) enum StrField<'de> {
    /// A string, unescaped (borrowed when it had no escapes).
    Str(Cow<'de, str>),
    /// `null`: treated as absent.
    Null,
    /// Any other JSON type.
    WrongType,
}

/// Reads a raw JSON value (valid JSON, no surrounding whitespace) as a string.
pub(crate) fn str_field(raw: &str) -> StrField<'_> {
    let b = raw.as_bytes();
    if b.len() >= 2 && b[0] == b'"' && b[b.len() - 1] == b'"' {
        let inner = &raw[1..raw.len() - 1];
        if !inner.as_bytes().contains(&b'\\') {
            return StrField::Str(Cow::Borrowed(inner));
        }
        return match serde_json::from_str::<String>(raw) {
            Ok(s) => StrField::Str(Cow::Owned(s)),
            Err(_) => StrField::WrongType,
        };
    }
    if raw == "null" {
        StrField::Null
    } else {
        StrField::WrongType
    }
}

/// The raw (escaped, unquoted) form of a name: borrowed input text had no
/// escapes and is already canonical; unescaped text is escaped canonically.
pub(crate) fn raw_name<'de>(name: &Cow<'de, str>, start: usize) -> Cow<'de, str> {
    match name {
        Cow::Borrowed(s) => Cow::Borrowed(&s[start..]),
        Cow::Owned(s) => {
            let mut out = String::with_capacity(s.len() + 8);
            escape_into(&s[start..], &mut out);
            Cow::Owned(out)
        }
    }
}

/// Appends the body of a JSON string literal for `s` (no quotes), escaping
/// exactly what serde_json escapes: `"`, `\` and control characters.
pub fn escape_into(s: &str, out: &mut String) {
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let esc: &str = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0..=0x1f => "",
            _ => continue,
        };
        out.push_str(&s[start..i]);
        if esc.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.push_str("\\u00");
            out.push(HEX[(b >> 4) as usize] as char);
            out.push(HEX[(b & 0xf) as usize] as char);
        } else {
            out.push_str(esc);
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
}

/// True when `raw` (a valid JSON value found at nesting `base`, the depth of
/// the object holding it) nests objects/arrays no deeper than `limit` in all.
/// Values too short to exceed the limit are not scanned.
pub(crate) fn depth_ok(raw: &str, base: usize, limit: usize) -> bool {
    let b = raw.as_bytes();
    match b.first() {
        Some(b'{' | b'[') => {}
        _ => return true,
    }
    // A value nesting k levels needs at least 2k bytes.
    if base + b.len() / 2 <= limit {
        return true;
    }
    let mut depth = base;
    let mut in_str = false;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if in_str {
            match c {
                b'\\' => i += 1,
                b'"' => in_str = false,
                _ => {}
            }
        } else {
            match c {
                b'"' => in_str = true,
                b'{' | b'[' => {
                    depth += 1;
                    if depth > limit {
                        return false;
                    }
                }
                b'}' | b']' => depth -= 1,
                _ => {}
            }
        }
        i += 1;
    }
    true
}

/// True when `b` holds only JSON whitespace.
pub(crate) fn is_blank(b: &[u8]) -> bool {
    b.iter().all(|c| matches!(c, b' ' | b'\t' | b'\r' | b'\n'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_like_serde_json() {
        for s in [
            "plain",
            "q\"b\\s",
            "\n\r\t\u{8}\u{c}\u{1}\u{1f}",
            "é✓\u{7f}\u{2028}",
            "",
        ] {
            let mut out = String::new();
            escape_into(s, &mut out);
            let expected = serde_json::to_string(s).unwrap();
            assert_eq!(format!("\"{out}\""), expected);
        }
    }

    #[test]
    fn reads_string_fields() {
        assert!(matches!(
            str_field("\"a\""),
            StrField::Str(Cow::Borrowed("a"))
        ));
        assert!(matches!(str_field("\"a\\nb\""), StrField::Str(Cow::Owned(s)) if s == "a\nb"));
        assert!(matches!(str_field("null"), StrField::Null));
        assert!(matches!(str_field("1"), StrField::WrongType));
        assert!(matches!(str_field("[\"a\"]"), StrField::WrongType));
        // Not valid JSON (never stored), but must not panic.
        assert!(matches!(str_field("\"é"), StrField::WrongType));
    }

    #[test]
    fn depth_counts_only_structure() {
        let deep = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        assert!(depth_ok(&deep(63), 1, 64));
        assert!(!depth_ok(&deep(64), 1, 64));
        assert!(depth_ok(
            "\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\"",
            1,
            4
        ));
        let s = format!("[\"\\\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\",{}]", deep(2));
        assert!(depth_ok(&s, 1, 4));
        assert!(!depth_ok(&s, 2, 4));
    }
}
