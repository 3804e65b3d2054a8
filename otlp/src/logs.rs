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

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as Any;
use opentelemetry_proto::tonic::logs::v1::LogRecord;
use serde_json::Value;
use skein_store::event::{severity_of, Event, JsonMap, Level, Severity, Timestamp};

use crate::properties::{exception_text, hex_id, value_json, Properties};
use crate::{decode_message, Encoding, OtlpError};

/// Decodes an OTLP logs request into events, in request order.
pub fn decode_logs(body: &[u8], encoding: Encoding) -> Result<Vec<Event>, OtlpError> {
    let request: ExportLogsServiceRequest = decode_message(body, encoding)?;
    let mut events = Vec::new();
    for (ri, resource_logs) in request.resource_logs.iter().enumerate() {
        let resource = resource_logs
            .resource
            .as_ref()
            .map_or(&[][..], |r| &r.attributes[..]);
        for (si, scope_logs) in resource_logs.scope_logs.iter().enumerate() {
            for (li, record) in scope_logs.log_records.iter().enumerate() {
                let place = (ri, si, li);
                let nanos = match (record.time_unix_nano, record.observed_time_unix_nano) {
                    (0, 0) => {
                        let field = "time (neither timeUnixNano nor observedTimeUnixNano)";
                        return Err(OtlpError::no_time("log record", place, field));
                    }
                    (0, t) | (t, _) => t,
                };
                let nanos = i64::try_from(nanos)
                    .map_err(|_| OtlpError::out_of_range("log record", place))?;
                let mut properties = Properties::default();
                properties.scope(scope_logs.scope.as_ref());
                properties.attributes(resource);
                events.push(record_event(record, Timestamp(nanos), properties));
            }
        }
    }
    Ok(events)
}

/// The event of one record, over `properties` (scope and resource).
fn record_event(record: &LogRecord, timestamp: Timestamp, mut properties: Properties) -> Event {
    let (mut template, mut message) = (None, None);
    match record.body.as_ref().and_then(|b| b.value.as_ref()) {
        None => {}
        Some(Any::StringValue(s)) => template = Some(s.as_str().into()),
        Some(Any::KvlistValue(list)) => properties.attributes(&list.values),
        Some(other) => message = Some(value_json(other).to_string().into()),
    }
    properties.attributes(&record.attributes);
    if !record.event_name.is_empty() {
        properties.set("EventName", Value::String(record.event_name.clone()));
    }
    Event {
        timestamp,
        level: level(record),
        message_template: template,
        message,
        exception: exception_text(&record.attributes),
        trace_id: hex_id(&record.trace_id),
        span_id: hex_id(&record.span_id),
        reified: JsonMap::new(),
        properties: properties.finish(),
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

#[cfg(test)]
mod tests;
