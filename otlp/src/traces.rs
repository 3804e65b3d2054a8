//! OTLP traces (`ExportTraceServiceRequest`, protobuf or OTLP/JSON) as
//! Skein events, one per span, in the shape Seq gives spans, so
//! `@TraceId = '…'` shows a trace's spans beside its logs:
//!
//! - `@st`: `startTimeUnixNano` (a span without it refuses the request);
//!   `@t`: `endTimeUnixNano` (else the start) — the duration is `@t − @st`;
//! - `@mt`: the span's name; `@tr`, `@sp`: its trace and span ids, `@ps`
//!   its parent span id (lower-case hex; absent for a root span), `@sk` its
//!   kind (`Internal`, `Server`, `Client`, `Producer`, `Consumer`);
//! - `@l`: `Error` when the span's status is ERROR, else no level
//!   (`Information`); `@x`: the exception attributes of an `exception`
//!   span event, else an ERROR status's message;
//! - properties as for logs (`logs`): scope name and version, resource
//!   attributes, the span's attributes, dotted names nested. Other span
//!   events and links are not kept.

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use opentelemetry_proto::tonic::trace::v1::status::StatusCode;
use opentelemetry_proto::tonic::trace::v1::Span;
use serde_json::Value;
use skein_store::event::{format_timestamp, Event, JsonMap, Level, Severity, Timestamp};

use crate::properties::{exception_text, hex_id, Properties};
use crate::{decode_message, Encoding, OtlpError, Place};

/// Decodes an OTLP traces request into events, one per span, in request
/// order.
pub fn decode_traces(body: &[u8], encoding: Encoding) -> Result<Vec<Event>, OtlpError> {
    let request: ExportTraceServiceRequest = decode_message(body, encoding)?;
    let mut events = Vec::new();
    for (ri, resource_spans) in request.resource_spans.iter().enumerate() {
        let resource = resource_spans
            .resource
            .as_ref()
            .map_or(&[][..], |r| &r.attributes[..]);
        for (si, scope_spans) in resource_spans.scope_spans.iter().enumerate() {
            for (i, span) in scope_spans.spans.iter().enumerate() {
                let mut properties = Properties::default();
                properties.scope(scope_spans.scope.as_ref());
                properties.attributes(resource);
                properties.attributes(&span.attributes);
                events.push(span_event(span, (ri, si, i), properties)?);
            }
        }
    }
    Ok(events)
}

fn span_event(span: &Span, place: Place, properties: Properties) -> Result<Event, OtlpError> {
    let time = |nanos: u64| {
        i64::try_from(nanos)
            .map(Timestamp)
            .map_err(|_| OtlpError::out_of_range("span", place))
    };
    if span.start_time_unix_nano == 0 {
        return Err(OtlpError::no_time("span", place, "startTimeUnixNano"));
    }
    let start = time(span.start_time_unix_nano)?;
    let end = match span.end_time_unix_nano {
        0 => start,
        t => time(t)?,
    };
    let failed = span
        .status
        .as_ref()
        .filter(|s| s.code == StatusCode::Error as i32);
    let exception = span
        .events
        .iter()
        .filter(|e| e.name == "exception")
        .find_map(|e| exception_text(&e.attributes))
        .or_else(|| {
            failed
                .filter(|s| !s.message.is_empty())
                .map(|s| s.message.as_str().into())
        });
    let mut reified = vec![("@st", Value::String(format_timestamp(start)))];
    if let Some(parent) = hex_id(&span.parent_span_id) {
        reified.push(("@ps", Value::String(parent.into())));
    }
    if let Some(kind) = kind_name(span.kind) {
        reified.push(("@sk", Value::String(kind.into())));
    }
    let reified: Vec<(&str, String)> = reified
        .into_iter()
        .map(|(k, v)| (k, v.to_string()))
        .collect();
    Ok(Event {
        timestamp: end,
        level: match failed {
            Some(_) => Level {
                text: Some("Error".into()),
                severity: Severity::Error,
            },
            None => Level {
                text: None,
                severity: Severity::Information,
            },
        },
        message_template: Some(span.name.as_str().into()),
        message: None,
        exception,
        trace_id: hex_id(&span.trace_id),
        span_id: hex_id(&span.span_id),
        reified: JsonMap::from_raw_pairs(reified.iter().map(|(k, v)| (*k, v.as_str()))),
        properties: properties.finish(),
    })
}

/// Seq's name of a span kind; `None` when unspecified or unknown.
fn kind_name(kind: i32) -> Option<&'static str> {
    Some(match SpanKind::try_from(kind).ok()? {
        SpanKind::Unspecified => return None,
        SpanKind::Internal => "Internal",
        SpanKind::Server => "Server",
        SpanKind::Client => "Client",
        SpanKind::Producer => "Producer",
        SpanKind::Consumer => "Consumer",
    })
}

#[cfg(test)]
mod tests;
