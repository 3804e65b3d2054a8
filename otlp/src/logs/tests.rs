use opentelemetry_proto::tonic::common::v1::{
    AnyValue, ArrayValue, InstrumentationScope, KeyValue, KeyValueList,
};
use opentelemetry_proto::tonic::logs::v1::{ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::resource::v1::Resource;
use prost::Message;

use super::*;

fn kv(key: &str, value: Any) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue { value: Some(value) }),
        ..KeyValue::default()
    }
}

fn s(text: &str) -> Any {
    Any::StringValue(text.into())
}

fn request(records: Vec<LogRecord>) -> ExportLogsServiceRequest {
    ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: Some(Resource {
                attributes: vec![
                    kv("service.name", s("checkout")),
                    kv("host.name", s("web-1")),
                ],
                ..Resource::default()
            }),
            scope_logs: vec![ScopeLogs {
                scope: Some(InstrumentationScope {
                    name: "app.orders".into(),
                    version: "1.2".into(),
                    ..InstrumentationScope::default()
                }),
                log_records: records,
                ..ScopeLogs::default()
            }],
            ..ResourceLogs::default()
        }],
    }
}

fn record() -> LogRecord {
    LogRecord {
        time_unix_nano: 1_735_689_600_123_456_789,
        observed_time_unix_nano: 1_735_689_601_000_000_000,
        severity_number: 17,
        severity_text: String::new(),
        body: Some(AnyValue {
            value: Some(s("Order {OrderId} failed")),
        }),
        attributes: vec![
            kv("OrderId", s("ORD-7")),
            kv("http.route", s("/orders")),
            kv("http.status_code", Any::IntValue(500)),
            kv("exception.type", s("System.Exception")),
            kv("exception.message", s("boom")),
            kv("service.name", s("checkout-api")),
        ],
        trace_id: (1..=16).collect(),
        span_id: vec![0, 0, 0, 0, 0, 0, 0, 9],
        ..LogRecord::default()
    }
}

fn props(e: &Event) -> Value {
    serde_json::from_str(e.properties.as_json()).unwrap()
}

#[test]
fn a_protobuf_record_maps_as_seq_users_expect() {
    let body = request(vec![record()]).encode_to_vec();
    let events = decode_logs(&body, Encoding::Protobuf).unwrap();
    assert_eq!(events.len(), 1);
    let e = &events[0];
    assert_eq!(e.timestamp, Timestamp(1_735_689_600_123_456_789));
    assert_eq!(e.level.severity, Severity::Error);
    assert_eq!(e.level.text.as_deref(), Some("Error"));
    assert_eq!(
        e.message_template.as_deref(),
        Some("Order {OrderId} failed")
    );
    assert_eq!(e.exception.as_deref(), Some("System.Exception: boom"));
    assert_eq!(
        e.trace_id.as_deref(),
        Some("0102030405060708090a0b0c0d0e0f10")
    );
    assert_eq!(e.span_id.as_deref(), Some("0000000000000009"));
    let p = props(e);
    // The record's attribute wins over the resource's; dotted names nest.
    assert_eq!(p["service"]["name"], "checkout-api");
    assert_eq!(p["host"]["name"], "web-1");
    assert_eq!(p["http"]["status_code"], 500);
    assert_eq!(p["otel"]["scope"]["name"], "app.orders");
    assert_eq!(p["otel"]["scope"]["version"], "1.2");
    assert_eq!(p["OrderId"], "ORD-7");
    assert_eq!(p["exception"]["message"], "boom");
}

#[test]
fn the_same_request_in_otlp_json_maps_the_same() {
    let json = r#"{"resourceLogs":[{"resource":{"attributes":[
        {"key":"service.name","value":{"stringValue":"checkout"}},
        {"key":"host.name","value":{"stringValue":"web-1"}}]},
      "scopeLogs":[{"scope":{"name":"app.orders","version":"1.2"},
        "logRecords":[{"timeUnixNano":"1735689600123456789","observedTimeUnixNano":"1735689601000000000",
          "severityNumber":17,"body":{"stringValue":"Order {OrderId} failed"},
          "attributes":[{"key":"OrderId","value":{"stringValue":"ORD-7"}},
            {"key":"http.route","value":{"stringValue":"/orders"}},
            {"key":"http.status_code","value":{"intValue":"500"}},
            {"key":"exception.type","value":{"stringValue":"System.Exception"}},
            {"key":"exception.message","value":{"stringValue":"boom"}},
            {"key":"service.name","value":{"stringValue":"checkout-api"}}],
          "traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"0000000000000009"}]}]}]}"#;
    let from_json = decode_logs(json.as_bytes(), Encoding::Json).unwrap();
    let from_protobuf =
        decode_logs(&request(vec![record()]).encode_to_vec(), Encoding::Protobuf).unwrap();
    assert_eq!(from_json, from_protobuf);
}

#[test]
fn levels_come_from_the_text_else_the_number() {
    let level_of = |text: &str, number: i32| {
        let r = LogRecord {
            severity_text: text.into(),
            severity_number: number,
            ..record()
        };
        let e = &decode_logs(&request(vec![r]).encode_to_vec(), Encoding::Protobuf).unwrap()[0];
        (e.level.text.as_deref().map(str::to_owned), e.level.severity)
    };
    assert_eq!(
        level_of("WARN", 17),
        (Some("WARN".into()), Severity::Warning)
    );
    assert_eq!(level_of("", 1), (Some("Verbose".into()), Severity::Verbose));
    assert_eq!(level_of("", 6), (Some("Debug".into()), Severity::Debug));
    assert_eq!(
        level_of("", 9),
        (Some("Information".into()), Severity::Information)
    );
    assert_eq!(
        level_of("", 16),
        (Some("Warning".into()), Severity::Warning)
    );
    assert_eq!(level_of("", 24), (Some("Fatal".into()), Severity::Fatal));
    assert_eq!(level_of("", 0), (None, Severity::Information));
    assert_eq!(level_of("", 99), (None, Severity::Information));
}

#[test]
fn bodies_become_template_properties_or_message() {
    let with_body = |value: Any| {
        let r = LogRecord {
            body: Some(AnyValue { value: Some(value) }),
            attributes: vec![kv("a", Any::IntValue(1))],
            ..record()
        };
        decode_logs(&request(vec![r]).encode_to_vec(), Encoding::Protobuf).unwrap()[0].clone()
    };
    let structured = with_body(Any::KvlistValue(KeyValueList {
        values: vec![kv("user.id", Any::IntValue(42)), kv("a", Any::IntValue(0))],
    }));
    assert_eq!(structured.message_template, None);
    assert_eq!(props(&structured)["user"]["id"], 42);
    assert_eq!(props(&structured)["a"], 1, "attributes win over the body");
    let list = with_body(Any::ArrayValue(ArrayValue {
        values: vec![
            AnyValue {
                value: Some(Any::DoubleValue(f64::NAN)),
            },
            AnyValue {
                value: Some(Any::BytesValue(vec![0xab, 0x01])),
            },
        ],
    }));
    assert_eq!(list.message.as_deref(), Some(r#"["NaN","ab01"]"#));
}

#[test]
fn a_dotted_name_under_a_value_stays_flat() {
    let r = LogRecord {
        attributes: vec![
            kv("db", s("orders")),
            kv("db.system", s("postgresql")),
            kv("x..y", s("empty segment")),
        ],
        ..record()
    };
    let e = &decode_logs(&request(vec![r]).encode_to_vec(), Encoding::Protobuf).unwrap()[0];
    let p = props(e);
    assert_eq!(p["db"], "orders");
    assert_eq!(p["db.system"], "postgresql");
    assert_eq!(p["x..y"], "empty segment");
}

#[test]
fn the_observed_time_stands_in_and_a_record_without_time_refuses_the_request() {
    let observed = LogRecord {
        time_unix_nano: 0,
        ..record()
    };
    let e = &decode_logs(
        &request(vec![observed.clone()]).encode_to_vec(),
        Encoding::Protobuf,
    )
    .unwrap()[0];
    assert_eq!(e.timestamp, Timestamp(1_735_689_601_000_000_000));
    let timeless = LogRecord {
        observed_time_unix_nano: 0,
        ..observed
    };
    let err = decode_logs(
        &request(vec![record(), timeless]).encode_to_vec(),
        Encoding::Protobuf,
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "log record 1 of scope 0 of resource 0 has no time \
         (neither timeUnixNano nor observedTimeUnixNano)"
    );
    let late = LogRecord {
        time_unix_nano: u64::MAX,
        ..record()
    };
    let err = decode_logs(&request(vec![late]).encode_to_vec(), Encoding::Protobuf).unwrap_err();
    assert!(err.to_string().contains("after 2262"), "{err}");
}

#[test]
fn malformed_bodies_are_refused() {
    assert!(matches!(
        decode_logs(b"\xff\xff\xff", Encoding::Protobuf),
        Err(OtlpError::Malformed { .. })
    ));
    assert!(matches!(
        decode_logs(b"{\"resourceLogs\":7}", Encoding::Json),
        Err(OtlpError::Malformed { .. })
    ));
    let bad_hex = r#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"timeUnixNano":"1","traceId":"zz"}]}]}]}"#;
    assert!(decode_logs(bad_hex.as_bytes(), Encoding::Json).is_err());
    // An empty request is valid and holds nothing.
    assert_eq!(decode_logs(b"", Encoding::Protobuf).unwrap(), vec![]);
    assert_eq!(
        decode_logs(b"{\"resourceLogs\":[]}", Encoding::Json).unwrap(),
        vec![]
    );
}
