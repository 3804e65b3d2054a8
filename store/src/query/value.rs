//! Runtime values and Seq's comparison rules.
//!
//! Numbers are exact where they can be: integral JSON numbers (also `1.0`,
//! `1.50e2`) become `i128`, the rest `f64`, and an integer compares with a
//! float exactly. Strings borrow from the event or the expression and are
//! unescaped only when the raw JSON holds a backslash. A comparison that
//! cannot be made (mismatched types, missing property) is *undefined*, which
//! never satisfies a filter.

use std::borrow::Cow;
use std::cmp::Ordering;

use crate::event::model::{parse_event_type, unescape_json_str};
use crate::{EventId, Severity};

use super::ast::RegexLit;
use super::levels::severity_of;

/// A number: exact integer, or floating point.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub(crate) enum Num {
    Int(i128),
    Float(f64),
}

/// Parses a JSON or filter-language number (`12`, `-1.50`, `1e3`, `0xFF`).
pub(crate) fn parse_num(raw: &str) -> Option<Num> {
    let raw = raw.trim();
    if let Some(hex) = raw.strip_prefix("0x").or_else(|| raw.strip_prefix("0X")) {
        return i128::from_str_radix(hex, 16).ok().map(Num::Int);
    }
    let (mantissa, exp) = match raw.find(['e', 'E']) {
        Some(k) => (&raw[..k], Some(&raw[k + 1..])),
        None => (raw, None),
    };
    let (int, frac) = match mantissa.find('.') {
        Some(k) => (&mantissa[..k], &mantissa[k + 1..]),
        None => (mantissa, ""),
    };
    let digits = int.strip_prefix('-').unwrap_or(int);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let exp: i32 = match exp {
        Some(e) => e.parse().ok()?,
        None => 0,
    };
    // Exact integer when the value is integral and fits.
    let frac_trim = frac.trim_end_matches('0');
    if (0..=38).contains(&exp) && frac_trim.len() <= exp as usize {
        let mut s = String::with_capacity(int.len() + exp as usize);
        s.push_str(int);
        s.push_str(frac_trim);
        for _ in frac_trim.len()..exp as usize {
            s.push('0');
        }
        if let Ok(i) = s.parse::<i128>() {
            return Some(Num::Int(i));
        }
    }
    raw.parse::<f64>()
        .ok()
        .filter(|f| f.is_finite())
        .map(Num::Float)
}

impl Num {
    /// The value as `f64` (possibly rounded).
    pub(crate) fn as_f64(self) -> f64 {
        match self {
            Num::Int(i) => i as f64,
            Num::Float(f) => f,
        }
    }

    /// A float holding an integral value becomes an `Int`.
    pub(crate) fn normalized(self) -> Num {
        match self {
            Num::Float(f) if f.fract() == 0.0 && f.abs() < 1.0e38 => Num::Int(f as i128),
            n => n,
        }
    }

    /// Numeric comparison, exact between integers and floats.
    pub(crate) fn cmp_num(self, other: Num) -> Option<Ordering> {
        match (self, other) {
            (Num::Int(a), Num::Int(b)) => Some(a.cmp(&b)),
            (Num::Float(a), Num::Float(b)) => a.partial_cmp(&b),
            (Num::Int(a), Num::Float(b)) => int_cmp_float(a, b),
            (Num::Float(a), Num::Int(b)) => int_cmp_float(b, a).map(Ordering::reverse),
        }
    }
}

fn int_cmp_float(i: i128, f: f64) -> Option<Ordering> {
    if f.is_nan() {
        return None;
    }
    if f >= 1.7e38 {
        return Some(Ordering::Less);
    }
    if f <= -1.7e38 {
        return Some(Ordering::Greater);
    }
    let fl = f.floor();
    match i.cmp(&(fl as i128)) {
        Ordering::Equal if f > fl => Some(Ordering::Less),
        o => Some(o),
    }
}

/// A value produced while evaluating an expression.
#[derive(Debug, Clone)]
pub(crate) enum Value<'a> {
    /// No such property (or an undefined result).
    Missing,
    Null,
    Bool(bool),
    Num(Num),
    Str(Cow<'a, str>),
    /// A raw JSON object or array.
    Json(&'a str),
    /// `@Properties` itself.
    Props,
    /// `@Level`: its canonical severity and its text as shown.
    Level(Severity, &'a str),
    /// `@Id`.
    Id(EventId),
    /// `@EventType`.
    EventType(u32),
    Regex(&'a RegexLit),
}

impl<'a> Value<'a> {
    /// Interprets raw JSON text (as stored) without copying unless escaped.
    pub(crate) fn from_raw(raw: &'a str) -> Value<'a> {
        let raw = raw.trim();
        match raw.as_bytes().first() {
            Some(b'"') => {
                let body = raw
                    .strip_prefix('"')
                    .and_then(|s| s.strip_suffix('"'))
                    .unwrap_or("");
                if body.contains('\\') {
                    match unescape_json_str(body) {
                        Some(s) => Value::Str(Cow::Owned(s)),
                        None => Value::Missing,
                    }
                } else {
                    Value::Str(Cow::Borrowed(body))
                }
            }
            Some(b'{') | Some(b'[') => Value::Json(raw),
            Some(b't') if raw == "true" => Value::Bool(true),
            Some(b'f') if raw == "false" => Value::Bool(false),
            Some(b'n') if raw == "null" => Value::Null,
            _ => parse_num(raw).map_or(Value::Missing, Value::Num),
        }
    }

    /// True for a missing property or JSON `null`.
    pub(crate) fn is_nullish(&self) -> bool {
        matches!(self, Value::Missing | Value::Null)
    }

    /// The text of a string-like value (strings and `@Level`).
    pub(crate) fn as_text(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            Value::Level(_, t) => Some(t),
            _ => None,
        }
    }
}

/// Compares text, optionally case-insensitively, without allocating.
pub(crate) fn text_cmp(a: &str, b: &str, ci: bool) -> Ordering {
    if !ci {
        return a.cmp(b);
    }
    if a.is_ascii() && b.is_ascii() {
        return a
            .bytes()
            .map(|c| c.to_ascii_lowercase())
            .cmp(b.bytes().map(|c| c.to_ascii_lowercase()));
    }
    a.chars()
        .flat_map(char::to_lowercase)
        .cmp(b.chars().flat_map(char::to_lowercase))
}

/// Seq equality: `Some(bool)` when comparable, `None` when undefined.
/// A JSON `null` equals only `null` (`x = null` in the language is
/// `x is null`, rewritten by the parser).
pub(crate) fn equals(a: &Value<'_>, b: &Value<'_>, ci: bool) -> Option<bool> {
    use Value as V;
    match (a, b) {
        (V::Null, V::Null) => Some(true),
        (V::Null, _) | (_, V::Null) => None,
        (V::Missing, _) | (_, V::Missing) => None,
        (V::Regex(r), x) | (x, V::Regex(r)) => x.as_text().map(|t| r.re.is_match(t)),
        (V::Num(x), V::Num(y)) => x.cmp_num(*y).map(|o| o == Ordering::Equal),
        (V::Bool(x), V::Bool(y)) => Some(x == y),
        (V::Str(x), V::Str(y)) => Some(text_cmp(x, y, ci) == Ordering::Equal),
        (V::Level(sev, text), V::Str(s)) | (V::Str(s), V::Level(sev, text)) => {
            Some(match severity_of(s) {
                Some(want) => want == *sev,
                None => text_cmp(text, s, ci) == Ordering::Equal,
            })
        }
        (V::Level(a, _), V::Level(b, _)) => Some(a == b),
        (V::Id(id), V::Str(s)) | (V::Str(s), V::Id(id)) => {
            Some(s.parse::<EventId>().is_ok_and(|p| p == *id))
        }
        (V::Id(x), V::Id(y)) => Some(x == y),
        (V::EventType(t), V::Num(n)) | (V::Num(n), V::EventType(t)) => n
            .cmp_num(Num::Int(*t as i128))
            .map(|o| o == Ordering::Equal),
        (V::EventType(t), V::Str(s)) | (V::Str(s), V::EventType(t)) => {
            Some(parse_event_type(&format!("\"{s}\"")) == Some(*t))
        }
        (V::EventType(x), V::EventType(y)) => Some(x == y),
        (V::Json(x), V::Json(y)) => Some(x == y),
        _ => None,
    }
}

/// Seq ordering: numbers numerically, strings ordinally; otherwise undefined.
pub(crate) fn compare(a: &Value<'_>, b: &Value<'_>, ci: bool) -> Option<Ordering> {
    match (a, b) {
        (Value::Num(x), Value::Num(y)) => x.cmp_num(*y),
        (Value::EventType(t), Value::Num(n)) => Num::Int(*t as i128).cmp_num(*n),
        (Value::Num(n), Value::EventType(t)) => n.cmp_num(Num::Int(*t as i128)),
        _ => match (a.as_text(), b.as_text()) {
            (Some(x), Some(y)) => Some(text_cmp(x, y, ci)),
            _ => None,
        },
    }
}

/// An owned, hashable value: group keys, distinct sets, query results.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub(crate) enum Key {
    Null,
    Bool(bool),
    Int(i128),
    /// A non-integral float's bits (ordered by bits, fine for grouping).
    Float(u64),
    Str(Box<str>),
    Json(Box<str>),
}

impl Key {
    /// The owned form of `v` (`Missing` becomes `Null`).
    pub(crate) fn from_value(v: &Value<'_>) -> Key {
        match v {
            Value::Missing | Value::Null | Value::Props | Value::Regex(_) => Key::Null,
            Value::Bool(b) => Key::Bool(*b),
            Value::Num(n) => match n.normalized() {
                Num::Int(i) => Key::Int(i),
                Num::Float(f) => Key::Float(f.to_bits()),
            },
            Value::Str(s) => Key::Str(s.as_ref().into()),
            Value::Json(j) => Key::Json((*j).into()),
            Value::Level(_, t) => Key::Str((*t).into()),
            Value::Id(id) => Key::Str(id.to_string().into()),
            Value::EventType(t) => Key::Str(format!("${t:08X}").into()),
        }
    }

    /// A borrowed value view of this key.
    pub(crate) fn as_value(&self) -> Value<'_> {
        match self {
            Key::Null => Value::Null,
            Key::Bool(b) => Value::Bool(*b),
            Key::Int(i) => Value::Num(Num::Int(*i)),
            Key::Float(f) => Value::Num(Num::Float(f64::from_bits(*f))),
            Key::Str(s) => Value::Str(Cow::Borrowed(s)),
            Key::Json(j) => Value::Json(j),
        }
    }

    /// Orders keys for result rows: numbers numerically, then by variant.
    pub(crate) fn sort_cmp(&self, other: &Key) -> Ordering {
        match (self.as_value(), other.as_value()) {
            (Value::Num(a), Value::Num(b)) => a.cmp_num(b).unwrap_or(Ordering::Equal),
            _ => self.cmp(other),
        }
    }

    /// The key as JSON for a result row.
    pub(crate) fn to_json(&self) -> serde_json::Value {
        match self {
            Key::Null => serde_json::Value::Null,
            Key::Bool(b) => serde_json::Value::Bool(*b),
            Key::Int(i) => num_json(Num::Int(*i)),
            Key::Float(f) => num_json(Num::Float(f64::from_bits(*f))),
            Key::Str(s) => serde_json::Value::String(s.to_string()),
            Key::Json(j) => serde_json::from_str(j).unwrap_or(serde_json::Value::Null),
        }
    }
}

/// A number as JSON: integers exactly when they fit 64 bits.
pub(crate) fn num_json(n: Num) -> serde_json::Value {
    match n {
        Num::Int(i) => {
            if let Ok(v) = i64::try_from(i) {
                v.into()
            } else if let Ok(v) = u64::try_from(i) {
                v.into()
            } else {
                serde_json::Number::from_f64(i as f64).map_or(serde_json::Value::Null, Into::into)
            }
        }
        Num::Float(f) => {
            serde_json::Number::from_f64(f).map_or(serde_json::Value::Null, Into::into)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_parse_exactly() {
        assert_eq!(parse_num("1.0"), Some(Num::Int(1)));
        assert_eq!(parse_num("1.50e2"), Some(Num::Int(150)));
        assert_eq!(parse_num("-12"), Some(Num::Int(-12)));
        assert_eq!(parse_num("0.5"), Some(Num::Float(0.5)));
        assert_eq!(
            parse_num("123456789012345678901234567890"),
            Some(Num::Int(123456789012345678901234567890))
        );
        assert_eq!(parse_num("1e400"), None);
        assert_eq!(parse_num("abc"), None);
        assert_eq!(parse_num("0x1F"), Some(Num::Int(31)));
    }

    #[test]
    fn int_float_comparison_is_exact() {
        let big = Num::Int(9_007_199_254_740_993);
        assert_eq!(
            big.cmp_num(Num::Float(9_007_199_254_740_992.0)),
            Some(Ordering::Greater)
        );
        assert_eq!(Num::Int(1).cmp_num(Num::Float(1.5)), Some(Ordering::Less));
        assert_eq!(
            Num::Int(2).cmp_num(Num::Float(1.5)),
            Some(Ordering::Greater)
        );
        assert_eq!(
            Num::Int(-1).cmp_num(Num::Float(-1.5)),
            Some(Ordering::Greater)
        );
        assert_eq!(Num::Float(f64::NAN).cmp_num(Num::Int(1)), None);
    }

    #[test]
    fn equality_rules() {
        let s = |x: &'static str| Value::Str(Cow::Borrowed(x));
        assert_eq!(equals(&s("a"), &s("A"), false), Some(false));
        assert_eq!(equals(&s("a"), &s("A"), true), Some(true));
        assert_eq!(equals(&s("1"), &Value::Num(Num::Int(1)), false), None);
        assert_eq!(equals(&Value::Null, &Value::Null, false), Some(true));
        assert_eq!(equals(&Value::Null, &s("x"), false), None);
        assert_eq!(equals(&Value::Missing, &s("x"), false), None);
        let lvl = Value::Level(Severity::Error, "ERROR");
        assert_eq!(equals(&lvl, &s("Error"), false), Some(true));
        assert_eq!(equals(&lvl, &s("warn"), false), Some(false));
        assert_eq!(
            equals(&Value::from_raw("\"a\\u0062\""), &s("ab"), false),
            Some(true)
        );
    }
}
