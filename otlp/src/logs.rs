//! OTLP logs (`ExportLogsServiceRequest`, protobuf or OTLP/JSON) as Skein
//! events, mapped the way Seq users expect to see them:
//!
//! - `@t`: `timeUnixNano`, else `observedTimeUnixNano`; a record with
//!   neither is refused (the whole request stores nothing, as a CLEF body
//!   with a bad event);
//! - `@l`: `severityText` as sent, else the `severityNumber` range's
//!   Serilog name (TRACE → `Verbose`, DEBUG, INFO → `Information`, WARN →
//!   `Warning`, ERROR, FATAL); neither: no level (`Information`);
//! - the body: a string is the message template (`{Name}` holes render from
//!   the properties); a key/value list becomes properties; any other value
//!   is the rendered message, as JSON text;
//! - properties, later ones winning: the scope's name and version
//!   (`otel.scope.name`, `otel.scope.version`), the resource attributes,
//!   a key/value body, the record's attributes. Dotted names nest
//!   (`service.name` is `{"service":{"name":…}}`), so filters read them as
//!   Seq's paths do (`service.name = 'checkout'`); a name whose prefix is
//!   already a non-object value stays flat;
//! - `@x`: `exception.stacktrace`, else `exception.type: exception.message`
//!   (the attributes stay properties too);
//! - `@tr`, `@sp`: the trace and span ids in lower-case hex (all-zero ids
//!   are absent); `eventName`, when set, is the property `EventName`.
//!
//! Attribute values map to JSON: strings, booleans, integers and finite
//! doubles as themselves (non-finite doubles as the strings `NaN`,
//! `Infinity`, `-Infinity`), arrays and key/value lists as arrays and
//! objects, bytes as lower-case hex (a string-table index, which only
//! profiles resolve, as `null`).

use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsPartialSuccess, ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::any_value::Value as Any;
use opentelemetry_proto::tonic::common::v1::{AnyValue, InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::logs::v1::LogRecord;
use prost::Message;
use serde_json::{Map, Value};
use skein_store::event::{severity_of, Event, JsonMap, Level, Severity, Timestamp};

/// How an OTLP body is encoded (its `Content-Type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    /// `application/x-protobuf`.
    Protobuf,
    /// `application/json` (OTLP/JSON: hex ids, 64-bit integers as strings).
    Json,
}

impl Encoding {
    /// The encoding of a `Content-Type` (parameters ignored), if OTLP has one.
    pub fn of_content_type(content_type: &str) -> Option<Encoding> {
        let essence = content_type.split(';').next().unwrap_or("").trim();
        match essence.to_ascii_lowercase().as_str() {
            "application/x-protobuf" | "application/protobuf" => Some(Encoding::Protobuf),
            "application/json" => Some(Encoding::Json),
            _ => None,
        }
    }

    /// The content type answers in this encoding carry.
    pub fn content_type(self) -> &'static str {
        match self {
            Encoding::Protobuf => "application/x-protobuf",
            Encoding::Json => "application/json",
        }
    }
}

/// Why an OTLP logs request was refused (nothing of it is stored).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OtlpError {
    /// The body is not an `ExportLogsServiceRequest` in its encoding.
    #[error("the body is not an OTLP ExportLogsServiceRequest ({encoding}): {reason}")]
    Malformed {
        /// `protobuf` or `JSON`.
        encoding: &'static str,
        /// The decoder's message.
        reason: String,
    },
    /// A record has neither `timeUnixNano` nor `observedTimeUnixNano`.
    #[error(
        "log record {record} of scope {scope} of resource {resource} has no time \
         (neither timeUnixNano nor observedTimeUnixNano is set)"
    )]
    NoTime {
        /// The resource's index in `resourceLogs`.
        resource: usize,
        /// The scope's index in `scopeLogs`.
        scope: usize,
        /// The record's index in `logRecords`.
        record: usize,
    },
    /// A time beyond what a timestamp holds (after the year 2262).
    #[error("log record {record} of scope {scope} of resource {resource} has a time after 2262")]
    TimeOutOfRange {
        /// The resource's index in `resourceLogs`.
        resource: usize,
        /// The scope's index in `scopeLogs`.
        scope: usize,
        /// The record's index in `logRecords`.
        record: usize,
    },
}

/// Decodes an OTLP logs request into events, in request order.
pub fn decode_logs(body: &[u8], encoding: Encoding) -> Result<Vec<Event>, OtlpError> {
    let request = match encoding {
        Encoding::Protobuf => {
            ExportLogsServiceRequest::decode(body).map_err(|e| OtlpError::Malformed {
                encoding: "protobuf",
                reason: e.to_string(),
            })?
        }
        Encoding::Json => serde_json::from_slice(body).map_err(|e| OtlpError::Malformed {
            encoding: "JSON",
            reason: e.to_string(),
        })?,
    };
    to_events(&request)
}

/// The answer to an accepted request, in `encoding`: empty, or naming the
/// records dropped (below the API key's minimum level) as rejected.
pub fn export_answer(encoding: Encoding, dropped: usize, why: &str) -> Vec<u8> {
    let response = ExportLogsServiceResponse {
        partial_success: (dropped > 0).then(|| ExportLogsPartialSuccess {
            rejected_log_records: dropped as i64,
            error_message: why.to_owned(),
        }),
    };
    match (encoding, &response.partial_success) {
        (Encoding::Protobuf, _) => response.encode_to_vec(),
        // A full success is the empty object, not `{"partialSuccess":null}`.
        (Encoding::Json, None) => b"{}".to_vec(),
        (Encoding::Json, Some(_)) => {
            serde_json::to_vec(&response).unwrap_or_else(|_| b"{}".to_vec())
        }
    }
}

/// `google.rpc.Status`, the body of an OTLP/HTTP error answer.
#[derive(Clone, PartialEq, Message)]
struct Status {
    #[prost(int32, tag = "1")]
    code: i32,
    #[prost(string, tag = "2")]
    message: String,
}

/// The body of an OTLP/HTTP error answer (`google.rpc.Status` with the gRPC
/// `code` matching the HTTP status), in `encoding`; in JSON it also carries
/// the message as `Error`, as every error answer of Skein's API does.
pub fn error_answer(encoding: Encoding, http_status: u16, message: &str) -> Vec<u8> {
    // The gRPC codes OTLP/HTTP pairs with these statuses.
    let code = match http_status {
        400 | 413 | 415 => 3, // INVALID_ARGUMENT
        401 => 16,            // UNAUTHENTICATED
        403 => 7,             // PERMISSION_DENIED
        429 => 8,             // RESOURCE_EXHAUSTED
        503 => 14,            // UNAVAILABLE
        _ => 13,              // INTERNAL
    };
    match encoding {
        Encoding::Protobuf => Status {
            code,
            message: message.to_owned(),
        }
        .encode_to_vec(),
        // `Error` repeats the message: every 4xx of Skein's API carries it.
        Encoding::Json => serde_json::to_vec(
            &serde_json::json!({ "code": code, "message": message, "Error": message }),
        )
        .unwrap_or_default(),
    }
}

fn to_events(request: &ExportLogsServiceRequest) -> Result<Vec<Event>, OtlpError> {
    let mut events = Vec::new();
    for (ri, resource_logs) in request.resource_logs.iter().enumerate() {
        let resource = resource_logs
            .resource
            .as_ref()
            .map_or(&[][..], |r| &r.attributes[..]);
        for (si, scope_logs) in resource_logs.scope_logs.iter().enumerate() {
            let scope = scope_properties(scope_logs.scope.as_ref());
            for (li, record) in scope_logs.log_records.iter().enumerate() {
                let at = |f: fn(usize, usize, usize) -> OtlpError| f(ri, si, li);
                let nanos = match (record.time_unix_nano, record.observed_time_unix_nano) {
                    (0, 0) => return Err(at(no_time)),
                    (0, t) | (t, _) => t,
                };
                let nanos = i64::try_from(nanos).map_err(|_| at(out_of_range))?;
                events.push(record_event(record, Timestamp(nanos), &scope, resource));
            }
        }
    }
    Ok(events)
}

fn no_time(resource: usize, scope: usize, record: usize) -> OtlpError {
    OtlpError::NoTime {
        resource,
        scope,
        record,
    }
}

fn out_of_range(resource: usize, scope: usize, record: usize) -> OtlpError {
    OtlpError::TimeOutOfRange {
        resource,
        scope,
        record,
    }
}

/// The scope's name and version as (dotted) attributes.
fn scope_properties(scope: Option<&InstrumentationScope>) -> Vec<(String, Value)> {
    let Some(s) = scope else { return Vec::new() };
    [
        ("otel.scope.name", &s.name),
        ("otel.scope.version", &s.version),
    ]
    .into_iter()
    .filter(|(_, v)| !v.is_empty())
    .map(|(k, v)| (k.to_owned(), Value::String(v.clone())))
    .collect()
}

fn record_event(
    record: &LogRecord,
    timestamp: Timestamp,
    scope: &[(String, Value)],
    resource: &[KeyValue],
) -> Event {
    let mut properties = Map::new();
    for (k, v) in scope {
        insert_dotted(&mut properties, k, v.clone());
    }
    for kv in resource {
        insert_dotted(&mut properties, &kv.key, any_json(kv.value.as_ref()));
    }
    let (mut template, mut message) = (None, None);
    match record.body.as_ref().and_then(|b| b.value.as_ref()) {
        None => {}
        Some(Any::StringValue(s)) => template = Some(s.as_str().into()),
        Some(Any::KvlistValue(list)) => {
            for kv in &list.values {
                insert_dotted(&mut properties, &kv.key, any_json(kv.value.as_ref()));
            }
        }
        Some(other) => message = Some(value_json(other).to_string().into()),
    }
    for kv in &record.attributes {
        insert_dotted(&mut properties, &kv.key, any_json(kv.value.as_ref()));
    }
    if !record.event_name.is_empty() {
        properties.insert("EventName".into(), Value::String(record.event_name.clone()));
    }
    let attribute = |name: &str| {
        record
            .attributes
            .iter()
            .find(|kv| kv.key == name)
            .and_then(|kv| match kv.value.as_ref()?.value.as_ref()? {
                Any::StringValue(s) if !s.is_empty() => Some(s.as_str()),
                _ => None,
            })
    };
    let exception = attribute("exception.stacktrace")
        .map(str::to_owned)
        .or_else(
            || match (attribute("exception.type"), attribute("exception.message")) {
                (Some(t), Some(m)) => Some(format!("{t}: {m}")),
                (t, m) => t.or(m).map(str::to_owned),
            },
        );
    Event {
        timestamp,
        level: level(record),
        message_template: template,
        message,
        exception: exception.map(Into::into),
        trace_id: hex_id(&record.trace_id),
        span_id: hex_id(&record.span_id),
        reified: JsonMap::new(),
        properties: json_map(&properties),
    }
}

/// `@l` from the severity text, else from the severity number's range.
fn level(record: &LogRecord) -> Level {
    if !record.severity_text.is_empty() {
        let text = record.severity_text.as_str();
        return Level {
            text: Some(text.into()),
            severity: severity_of(text),
        };
    }
    let severity = match record.severity_number {
        1..=4 => Severity::Verbose,
        5..=8 => Severity::Debug,
        9..=12 => Severity::Information,
        13..=16 => Severity::Warning,
        17..=20 => Severity::Error,
        21..=24 => Severity::Fatal,
        _ => {
            return Level {
                text: None,
                severity: Severity::Information,
            }
        }
    };
    Level {
        text: Some(severity.name().into()),
        severity,
    }
}

/// A trace or span id in lower-case hex; `None` when empty or all zeros.
fn hex_id(bytes: &[u8]) -> Option<Box<str>> {
    bytes
        .iter()
        .any(|&b| b != 0)
        .then(|| hex::encode(bytes).into())
}

/// An attribute value as JSON (absent: `null`).
fn any_json(value: Option<&AnyValue>) -> Value {
    value
        .and_then(|v| v.value.as_ref())
        .map_or(Value::Null, value_json)
}

fn value_json(value: &Any) -> Value {
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
