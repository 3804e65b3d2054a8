//! Fuzzes the filter and query languages: any text parsed as a filter and as
//! a query, then evaluated against a fixed event, must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use skein_store::query::{EvalContext, Filter, Query};
use skein_store::{Event, JsonMap, Level, Severity, Timestamp};

fn event() -> Event {
    Event {
        timestamp: Timestamp(1_735_732_800_000_000_000),
        level: Level {
            text: Some("ERROR".into()),
            severity: Severity::Error,
        },
        message_template: Some("User {UserId} failed {@Order}".into()),
        message: None,
        exception: Some("System.TimeoutException: boom".into()),
        trace_id: Some("abc".into()),
        span_id: None,
        reified: JsonMap::from_raw_pairs([("@i", "\"$A1B2C3D4\"")]),
        properties: JsonMap::from_raw_pairs([
            ("UserId", "42"),
            ("Big", "123456789012345678901234567890"),
            ("Name", "\"a\\\"b\""),
            (
                "Order",
                "{\"Lines\":[{\"Sku\":\"x\",\"Qty\":2}],\"Total\":1.5e2}",
            ),
            ("Tags", "[\"a\", null, true, [1, [2]]]"),
            ("Nothing", "null"),
        ]),
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let e = event();
    let ctx = EvalContext::new(Timestamp(1_735_732_900_000_000_000));
    if let Ok(f) = Filter::parse(text) {
        let _ = f.matches(&e, &ctx);
        let _ = f.time_bounds(&ctx);
        let _ = f.severity_requirement();
    }
    if let Ok(q) = Query::parse(text) {
        let mut a = q.runner(&ctx);
        a.accept(&e);
        let mut b = q.runner(&ctx);
        b.accept(&e);
        a.merge(b);
        let _ = a.finish();
    }
});
