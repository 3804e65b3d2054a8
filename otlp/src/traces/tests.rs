use opentelemetry_proto::tonic::common::v1::any_value::Value as Any;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::span::Event as SpanEvent;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Status};
use prost::Message;

use super::*;

fn kv(key: &str, value: &str) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue {
            value: Some(Any::StringValue(value.into())),
        }),
        ..KeyValue::default()
    }
}

fn request(spans: Vec<Span>) -> Vec<u8> {
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![kv("service.name", "checkout")],
                ..Resource::default()
            }),
            scope_spans: vec![ScopeSpans {
                spans,
                ..ScopeSpans::default()
            }],
            ..ResourceSpans::default()
        }],
    }
    .encode_to_vec()
}

fn span() -> Span {
    Span {
        trace_id: vec![0xab; 16],
        span_id: vec![2; 8],
        parent_span_id: vec![1; 8],
        name: "GET /orders".into(),
        kind: SpanKind::Server as i32,
        start_time_unix_nano: 1_735_689_600_000_000_000,
        end_time_unix_nano: 1_735_689_600_250_000_000,
        attributes: vec![kv("http.route", "/orders")],
        ..Span::default()
    }
}

fn reified(e: &Event) -> Value {
    serde_json::from_str(e.reified.as_json()).unwrap()
}

#[test]
fn a_span_is_an_event_shaped_as_seq_shapes_spans() {
    let e = &decode_traces(&request(vec![span()]), Encoding::Protobuf).unwrap()[0];
    assert_eq!(e.timestamp, Timestamp(1_735_689_600_250_000_000));
    assert_eq!(e.message_template.as_deref(), Some("GET /orders"));
    assert_eq!(
        e.trace_id.as_deref(),
        Some("abababababababababababababababab")
    );
    assert_eq!(e.span_id.as_deref(), Some("0202020202020202"));
    assert_eq!(e.level.severity, Severity::Information);
    assert_eq!(
        reified(e),
        serde_json::json!({"@st": "2025-01-01T00:00:00.0000000Z", "@ps": "0101010101010101", "@sk": "Server"})
    );
    let p: Value = serde_json::from_str(e.properties.as_json()).unwrap();
    assert_eq!(p["service"]["name"], "checkout");
    assert_eq!(p["http"]["route"], "/orders");
}

#[test]
fn a_failed_span_is_an_error_with_its_exception() {
    let failed = Span {
        status: Some(Status {
            code: StatusCode::Error as i32,
            message: "timed out".into(),
        }),
        ..span()
    };
    let e = &decode_traces(&request(vec![failed.clone()]), Encoding::Protobuf).unwrap()[0];
    assert_eq!(e.level.severity, Severity::Error);
    assert_eq!(e.exception.as_deref(), Some("timed out"));
    let thrown = Span {
        events: vec![SpanEvent {
            name: "exception".into(),
            attributes: vec![
                kv("exception.type", "IOError"),
                kv("exception.message", "reset"),
            ],
            ..SpanEvent::default()
        }],
        ..failed
    };
    let e = &decode_traces(&request(vec![thrown]), Encoding::Protobuf).unwrap()[0];
    assert_eq!(e.exception.as_deref(), Some("IOError: reset"));
}

#[test]
fn a_root_span_has_no_parent_and_an_open_span_ends_at_its_start() {
    let root = Span {
        parent_span_id: Vec::new(),
        kind: 0,
        end_time_unix_nano: 0,
        ..span()
    };
    let e = &decode_traces(&request(vec![root]), Encoding::Protobuf).unwrap()[0];
    assert_eq!(
        reified(e),
        serde_json::json!({"@st": "2025-01-01T00:00:00.0000000Z"})
    );
    assert_eq!(e.timestamp, Timestamp(1_735_689_600_000_000_000));
}

#[test]
fn a_span_without_a_start_refuses_the_request() {
    let startless = Span {
        start_time_unix_nano: 0,
        ..span()
    };
    let e = decode_traces(&request(vec![span(), startless]), Encoding::Protobuf).unwrap_err();
    assert_eq!(
        e.to_string(),
        "span 1 of scope 0 of resource 0 has no startTimeUnixNano"
    );
}

#[test]
fn otlp_json_spans_decode_as_protobuf_ones() {
    let json = r#"{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"checkout"}}]},
      "scopeSpans":[{"spans":[{"traceId":"abababababababababababababababab","spanId":"0202020202020202",
        "parentSpanId":"0101010101010101","name":"GET /orders","kind":2,
        "startTimeUnixNano":"1735689600000000000","endTimeUnixNano":"1735689600250000000",
        "attributes":[{"key":"http.route","value":{"stringValue":"/orders"}}]}]}]}]}"#;
    assert_eq!(
        decode_traces(json.as_bytes(), Encoding::Json).unwrap(),
        decode_traces(&request(vec![span()]), Encoding::Protobuf).unwrap()
    );
}
