//! Seeded values that satisfy a JSON Schema (the subset the published
//! OpenAPI document uses: `$ref`, `examples`/`example`, `enum`, `type`
//! (one or a list), string `minLength`/`maxLength`/`format: date-time`/
//! `pattern` for event ids, integer `minimum`, objects with `properties`,
//! `required` and `additionalProperties: false`, arrays with `items`, and
//! `{}` for any value), and their text in a URL.

use serde_json::{json, Map, Value};
use skein::client::dataset::Rng;

/// Characters of generated text: ASCII letters and digits, punctuation,
/// and a few multi-byte ones.
const CHARS: &[char] = &[
    'a', 'b', 'c', 'x', 'y', 'z', 'A', 'Q', 'Z', '0', '1', '7', '9', ' ', '-', '_', '.', '\'', '"',
    '%', '{', '}', '@', '=', '/', '\\', 'é', '€', '😀', '\u{7f}',
];

/// A value satisfying `schema`; `$ref`s resolve in `doc`.
pub fn value(rng: &mut Rng, schema: &Value, doc: &Value) -> Value {
    if let Some(r) = schema["$ref"].as_str() {
        let target = r
            .trim_start_matches("#/")
            .split('/')
            .fold(doc, |v, part| &v[part]);
        return value(rng, target, doc);
    }
    let examples = match (&schema["examples"], &schema["example"]) {
        (Value::Array(e), _) => e.clone(),
        (_, e) if !e.is_null() => vec![e.clone()],
        _ => Vec::new(),
    };
    if !examples.is_empty() && rng.below(2) == 0 {
        return examples[rng.below(examples.len() as u64) as usize].clone();
    }
    if let Some(Value::Array(choices)) = schema.get("enum") {
        return choices[rng.below(choices.len() as u64) as usize].clone();
    }
    let ty = match &schema["type"] {
        Value::String(t) => t.as_str(),
        Value::Array(ts) => ts[rng.below(ts.len() as u64) as usize]
            .as_str()
            .unwrap_or("null"),
        _ => return any(rng, 2),
    };
    match ty {
        "string" => string(rng, schema),
        "integer" => {
            let min = schema["minimum"].as_i64().unwrap_or(-1000);
            json!(min + [0, 1, 30, 1000, 1 << 40][rng.below(5) as usize])
        }
        "boolean" => json!(rng.below(2) == 0),
        "object" => object(rng, schema, doc),
        "array" => {
            let n = rng.below(4);
            Value::Array((0..n).map(|_| value(rng, &schema["items"], doc)).collect())
        }
        _ => Value::Null,
    }
}

fn string(rng: &mut Rng, schema: &Value) -> Value {
    if schema["format"] == "date-time" {
        return json!(format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
            rng.between(1970, 2200),
            rng.between(1, 12),
            rng.between(1, 28),
            rng.below(24),
            rng.below(60),
            rng.below(60),
            rng.below(1000)
        ));
    }
    if schema["pattern"]
        .as_str()
        .is_some_and(|p| p.starts_with("^event-"))
    {
        let hex: String = (0..32)
            .map(|_| char::from_digit(rng.below(16) as u32, 16).unwrap())
            .collect();
        return json!(format!("event-{hex}"));
    }
    let min = schema["minLength"].as_u64().unwrap_or(0);
    let max = schema["maxLength"].as_u64().unwrap_or(24).min(min + 24);
    let len = rng.between(min, max.max(min));
    let text: String = (0..len)
        .map(|_| CHARS[rng.below(CHARS.len() as u64) as usize])
        .collect();
    // A string that must not be empty must not be blank either (titles
    // are trimmed).
    match text.trim().is_empty() && min > 0 {
        true => json!(format!("t{}", &text[1..])),
        false => json!(text),
    }
}

fn object(rng: &mut Rng, schema: &Value, doc: &Value) -> Value {
    let mut out = Map::new();
    let required: Vec<&str> = schema["required"]
        .as_array()
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if let Some(props) = schema["properties"].as_object() {
        for (name, s) in props {
            if required.contains(&name.as_str()) || rng.below(2) == 0 {
                out.insert(name.clone(), value(rng, s, doc));
            }
        }
    }
    if schema["additionalProperties"] != json!(false) && rng.below(4) == 0 {
        out.insert("Extra".into(), any(rng, 1));
    }
    Value::Object(out)
}

/// Any JSON value, nested at most `depth` deep.
pub fn any(rng: &mut Rng, depth: u32) -> Value {
    match rng.below(if depth == 0 { 4 } else { 6 }) {
        0 => Value::Null,
        1 => json!(rng.below(2) == 0),
        2 => json!(rng.below(2000) as i64 - 1000),
        3 => string(rng, &json!({})),
        4 => Value::Array((0..rng.below(3)).map(|_| any(rng, depth - 1)).collect()),
        _ => json!({ "k": any(rng, depth - 1) }),
    }
}

/// `v` as a query or path parameter's text (strings as they are).
pub fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `s` percent-encoded for a path segment or query component.
pub fn encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}
