use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceResponse;
use serde_json::Value;

use super::*;

#[test]
fn answers_are_otlp_shaped() {
    let logs = |encoding, dropped| export_answer(Signal::Logs, encoding, dropped, "low");
    assert!(logs(Encoding::Protobuf, 0).is_empty());
    assert_eq!(logs(Encoding::Json, 0), b"{}");
    let partial = ExportLogsServiceResponse::decode(&logs(Encoding::Protobuf, 3)[..])
        .unwrap()
        .partial_success
        .unwrap();
    assert_eq!(
        (partial.rejected_log_records, partial.error_message.as_str()),
        (3, "low")
    );
    let json: Value = serde_json::from_slice(&logs(Encoding::Json, 2)).unwrap();
    assert_eq!(json["partialSuccess"]["rejectedLogRecords"], 2);
    let spans: Value =
        serde_json::from_slice(&export_answer(Signal::Traces, Encoding::Json, 4, "low")).unwrap();
    assert_eq!(spans["partialSuccess"]["rejectedSpans"], 4);
    let status = Status::decode(&error_answer(Encoding::Protobuf, 400, "bad")[..]).unwrap();
    assert_eq!((status.code, status.message.as_str()), (3, "bad"));
    let json: Value = serde_json::from_slice(&error_answer(Encoding::Json, 503, "later")).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"code": 14, "message": "later", "Error": "later"})
    );
}

#[test]
fn content_types_pick_the_encoding() {
    assert_eq!(
        Encoding::of_content_type("application/x-protobuf; charset=x"),
        Some(Encoding::Protobuf)
    );
    assert_eq!(
        Encoding::of_content_type("Application/JSON"),
        Some(Encoding::Json)
    );
    assert_eq!(Encoding::of_content_type("text/plain"), None);
}

#[test]
fn malformed_bodies_name_the_request_they_are_not() {
    let e = decode(Signal::Traces, b"\xff", Encoding::Protobuf).unwrap_err();
    assert!(
        e.to_string()
            .contains("ExportTraceServiceRequest (protobuf)"),
        "{e}"
    );
    let e = decode(Signal::Logs, b"[]", Encoding::Json).unwrap_err();
    assert!(
        e.to_string().contains("ExportLogsServiceRequest (JSON)"),
        "{e}"
    );
}
