use super::*;

fn kv(key: &str, value: Any) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue { value: Some(value) }),
        ..KeyValue::default()
    }
}

#[test]
fn later_attributes_win_and_dotted_names_nest() {
    let mut p = Properties::default();
    p.attributes(&[
        kv("service.name", Any::StringValue("a".into())),
        kv("n", Any::IntValue(1)),
    ]);
    p.attributes(&[kv("service.name", Any::StringValue("b".into()))]);
    let json: Value = serde_json::from_str(p.finish().as_json()).unwrap();
    assert_eq!(json, serde_json::json!({"service": {"name": "b"}, "n": 1}));
}

#[test]
fn exception_text_prefers_the_stack_trace() {
    let s = |t: &str| Any::StringValue(t.into());
    let typed = [
        kv("exception.type", s("E")),
        kv("exception.message", s("boom")),
    ];
    assert_eq!(exception_text(&typed).as_deref(), Some("E: boom"));
    let traced = [
        kv("exception.message", s("boom")),
        kv("exception.stacktrace", s("E: boom\n at f")),
    ];
    assert_eq!(exception_text(&traced).as_deref(), Some("E: boom\n at f"));
    assert_eq!(
        exception_text(&[kv("exception.message", s("boom"))]).as_deref(),
        Some("boom")
    );
    assert_eq!(exception_text(&[]), None);
}

#[test]
fn ids_are_lower_case_hex_and_zero_ids_absent() {
    assert_eq!(hex_id(&[0xAB, 0x01]).as_deref(), Some("ab01"));
    assert_eq!(hex_id(&[0, 0]), None);
    assert_eq!(hex_id(&[]), None);
}
