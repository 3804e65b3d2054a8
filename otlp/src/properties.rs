//! What the log and trace mappings share: attributes as JSON properties
//! (dotted names nested), the scope's name and version, the exception text
//! of the OpenTelemetry exception attributes, ids in hex.

use opentelemetry_proto::tonic::common::v1::any_value::Value as Any;
use opentelemetry_proto::tonic::common::v1::{AnyValue, InstrumentationScope, KeyValue};
use serde_json::{Map, Value};
use skein_store::event::JsonMap;

/// Properties built in precedence order: a later insert wins.
#[derive(Default)]
pub(crate) struct Properties(Map<String, Value>);

impl Properties {
    /// The scope's name and version (`otel.scope.name`, `otel.scope.version`).
    pub(crate) fn scope(&mut self, scope: Option<&InstrumentationScope>) {
        let Some(s) = scope else { return };
        for (k, v) in [
            ("otel.scope.name", &s.name),
            ("otel.scope.version", &s.version),
        ] {
            if !v.is_empty() {
                insert_dotted(&mut self.0, k, Value::String(v.clone()));
            }
        }
    }

    /// Each attribute, under its (dotted) name.
    pub(crate) fn attributes(&mut self, attributes: &[KeyValue]) {
        for kv in attributes {
            insert_dotted(&mut self.0, &kv.key, any_json(kv.value.as_ref()));
        }
    }

    /// `value` under the plain `name`.
    pub(crate) fn set(&mut self, name: &str, value: Value) {
        self.0.insert(name.to_owned(), value);
    }

    /// The store's property map (names escaped as JSON).
    pub(crate) fn finish(self) -> JsonMap {
        json_map(&self.0)
    }
}

/// The exception text of OpenTelemetry's exception attributes:
/// `exception.stacktrace`, else `exception.type: exception.message`.
pub(crate) fn exception_text(attributes: &[KeyValue]) -> Option<Box<str>> {
    let attribute = |name: &str| {
        attributes.iter().find(|kv| kv.key == name).and_then(|kv| {
            match kv.value.as_ref()?.value.as_ref()? {
                Any::StringValue(s) if !s.is_empty() => Some(s.as_str()),
                _ => None,
            }
        })
    };
    let text = attribute("exception.stacktrace")
        .map(str::to_owned)
        .or_else(
            || match (attribute("exception.type"), attribute("exception.message")) {
                (Some(t), Some(m)) => Some(format!("{t}: {m}")),
                (t, m) => t.or(m).map(str::to_owned),
            },
        );
    text.map(Into::into)
}

/// A trace or span id in lower-case hex; `None` when empty or all zeros.
pub(crate) fn hex_id(bytes: &[u8]) -> Option<Box<str>> {
    bytes
        .iter()
        .any(|&b| b != 0)
        .then(|| hex::encode(bytes).into())
}

/// An attribute value as JSON (absent: `null`).
pub(crate) fn any_json(value: Option<&AnyValue>) -> Value {
    value
        .and_then(|v| v.value.as_ref())
        .map_or(Value::Null, value_json)
}

pub(crate) fn value_json(value: &Any) -> Value {
    match value {
        Any::StringValue(s) => Value::String(s.clone()),
        Any::BoolValue(b) => Value::Bool(*b),
        Any::IntValue(i) => Value::from(*i),
        Any::DoubleValue(d) => serde_json::Number::from_f64(*d).map_or_else(
            || {
                let text = if d.is_nan() {
                    "NaN"
                } else if *d > 0.0 {
                    "Infinity"
                } else {
                    "-Infinity"
                };
                Value::String(text.into())
            },
            Value::Number,
        ),
        Any::ArrayValue(a) => Value::Array(a.values.iter().map(|v| any_json(Some(v))).collect()),
        Any::KvlistValue(list) => {
            let mut map = Map::new();
            for kv in &list.values {
                insert_dotted(&mut map, &kv.key, any_json(kv.value.as_ref()));
            }
            Value::Object(map)
        }
        Any::BytesValue(b) => Value::String(hex::encode(b)),
        // An index into a profile's string table: logs carry no table.
        Any::StringValueStrindex(_) => Value::Null,
    }
}

/// Inserts `value` under `name`, nesting at each dot (`a.b` → `{"a":{"b":…}}`)
/// while the path is free or an object; otherwise (a prefix already holds
/// another value, or an empty segment) under the flat name.
fn insert_dotted(map: &mut Map<String, Value>, name: &str, value: Value) {
    let parts: Vec<&str> = name.split('.').collect();
    if parts.len() < 2 || parts.iter().any(|p| p.is_empty()) {
        map.insert(name.to_owned(), value);
    } else if let Some(blocked) = insert_path(map, &parts, value) {
        map.insert(name.to_owned(), blocked);
    }
}

/// Inserts `value` at `path`, making objects on the way; gives the value
/// back when a prefix holds something other than an object.
fn insert_path(map: &mut Map<String, Value>, path: &[&str], value: Value) -> Option<Value> {
    let Some((first, rest)) = path.split_first() else {
        return Some(value);
    };
    if rest.is_empty() {
        map.insert((*first).to_owned(), value);
        return None;
    }
    match map
        .entry((*first).to_owned())
        .or_insert_with(|| Value::Object(Map::new()))
    {
        Value::Object(inner) => insert_path(inner, rest, value),
        _ => Some(value),
    }
}

/// A JSON object as the store's property map (names escaped as JSON).
fn json_map(map: &Map<String, Value>) -> JsonMap {
    let pairs: Vec<(String, String)> = map
        .iter()
        .map(|(k, v)| {
            let quoted = Value::String(k.clone()).to_string();
            (quoted[1..quoted.len() - 1].to_owned(), v.to_string())
        })
        .collect();
    JsonMap::from_raw_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
}

#[cfg(test)]
mod tests;
