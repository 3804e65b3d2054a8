//! CLEF parsing throughput on one core.
//!
//! The benchmark dataset (`skein_store::dataset`, ~290 B/event) is split
//! into 1,000-line bodies, as clients batch them, and every body is parsed on
//! this thread with `parse_clef`. Goal: ≥ 1,000,000 events/s. Also reports the legacy JSON
//! parser and the CLEF writer on the same events, for reference.

mod common;

use std::hint::black_box;

use skein_store::event::{parse_clef, parse_legacy, write_clef};

fn main() {
    let data = common::dataset();
    let bodies = common::bodies(&data, 1000);
    let mb = data.len() as f64 / 1e6;

    let (d, n) = common::best_of(5, || {
        let mut n = 0;
        for b in &bodies {
            n += black_box(parse_clef(b).expect("dataset parses")).len();
        }
        n
    });
    let secs = d.as_secs_f64();
    let rate = n as f64 / secs;
    common::report(
        "parse_clef, 1000-event bodies, one core",
        rate,
        "events/s",
        ">= 1000000",
        rate >= 1e6,
    );
    common::report("parse_clef throughput", mb / secs, "MB/s", "-", true);

    // Legacy bodies built from the same events, written back out as CLEF
    // first to exercise the writer.
    let mut legacy = Vec::new();
    let (dw, written) = common::best_of(3, || {
        let mut out = Vec::with_capacity(data.len() + data.len() / 4);
        for b in &bodies {
            for e in parse_clef(b).expect("dataset parses") {
                write_clef(&e, &mut out);
                out.push(b'\n');
            }
        }
        out
    });
    common::report(
        "parse_clef + write_clef",
        n as f64 / dw.as_secs_f64(),
        "events/s",
        "-",
        true,
    );
    for b in &bodies {
        let events: Vec<String> = std::str::from_utf8(b)
            .expect("utf-8")
            .lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).expect("json");
                let props: serde_json::Map<String, serde_json::Value> = v
                    .as_object()
                    .expect("object")
                    .iter()
                    .filter(|(k, _)| !k.starts_with('@'))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                serde_json::json!({
                    "Timestamp": v["@t"], "Level": v["@l"], "MessageTemplate": v["@mt"],
                    "Exception": v.get("@x"), "Properties": props,
                })
                .to_string()
            })
            .collect();
        legacy.push(format!("{{\"Events\":[{}]}}", events.join(",")).into_bytes());
    }
    let (dl, nl) = common::best_of(3, || {
        let mut n = 0;
        for b in &legacy {
            n += black_box(parse_legacy(b).expect("legacy parses")).len();
        }
        n
    });
    common::report(
        "parse_legacy, 1000-event bodies, one core",
        nl as f64 / dl.as_secs_f64(),
        "events/s",
        "-",
        true,
    );
    black_box(written);
}
