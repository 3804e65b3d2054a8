//! Summaries against their events: built alike from events and from the
//! stored block, round-tripped through their file, and never ruling out a
//! block that holds a match.

use super::*;
use crate::block::encode_block;
use crate::dataset;
use crate::event::{parse_clef, Event};
use crate::query::{EvalContext, Filter};
use crate::{EventView, Timestamp};

/// Events with every field the summaries read: escapes, non-ASCII text,
/// `@m`, `@r`, formatted holes, duplicate and escaped names, odd numbers.
fn varied() -> Vec<Event> {
    let body = r#"{"@t":"2025-01-01T00:00:00Z","@mt":"Order {OrderId} for {Amount:0.00} by {User}","OrderId":"ORD-\u0031\u0032","Amount":12.345,"User":{"Name":"Zoë"}}
{"@t":"2025-01-01T00:00:01Z","@m":"Prêt à ΣΟΦΙΑ \"quoted\"","@x":"System.Exception: boom\n at X()","@tr":"4bf92f3577b34da6a3ce929d0e0e4736","@sp":"00f067aa0ba902b7"}
{"@t":"2025-01-01T00:00:02Z","@mt":"Took {Elapsed:0.0} ms and {N}","Elapsed":1.25,"N":123456789012345678901234567890,"@r":["1.3"],"Dup":1,"Dup":"two"}
{"@t":"2025-01-01T00:00:03Z","@mt":"ID{X}","X":5,"a\"b":"esc name","\u00e9":-0.0,"Big":1e300,"T":true,"Z":null}
"#;
    parse_clef(body.as_bytes()).unwrap()
}

fn dataset_events(n: u64) -> Vec<Event> {
    parse_clef(&dataset::clef(n, dataset::DEFAULT_SEED)).unwrap()
}

#[test]
fn a_summary_from_events_equals_one_from_their_stored_block() {
    for events in [varied(), dataset_events(2000)] {
        let from_events = summarize(&events);
        let stored = encode_block(&events).to_bytes();
        assert_eq!(summarize_block(&stored).unwrap(), from_events);
        assert!(!from_events.filter_bytes().is_empty());
    }
    let s = summarize(&varied());
    let names: Vec<&str> = s.property_names().collect();
    assert_eq!(
        names,
        ["Amount", "Big", "Dup", "Elapsed", "N", "OrderId", "T", "User", "X", "Z", "a\"b", "é"]
    );
}

#[test]
fn numeric_ranges_hold_every_number_of_a_property() {
    let s = summarize(&varied());
    let range = |name: &str| s.property(name).unwrap().range;
    assert_eq!(range("Dup"), Some((Num::Int(1), Num::Int(1))));
    assert_eq!(range("OrderId"), None);
    assert_eq!(range("é"), Some((Num::Int(0), Num::Int(0))));
    assert_eq!(
        range("N"),
        Some((
            Num::Int(123456789012345678901234567890),
            Num::Int(123456789012345678901234567890)
        ))
    );
    assert!(s.property("Nope").is_none());
}

#[test]
fn the_file_round_trips_and_refuses_damage() {
    let blocks: Vec<BlockSummary> = [varied(), dataset_events(300), Vec::new()]
        .iter()
        .map(summarize)
        .collect();
    let entries: Vec<(u64, Option<&BlockSummary>)> = vec![
        (0, Some(&blocks[0])),
        (700, None),
        (900, Some(&blocks[1])),
        (5000, Some(&blocks[2])),
    ];
    let bytes = encode_summaries(6000, 0xabcd, &entries);
    let back = decode_summaries(&bytes).unwrap();
    assert_eq!((back.segment_len, back.segment_crc), (6000, 0xabcd));
    let got: Vec<(u64, Option<&BlockSummary>)> = back
        .blocks
        .iter()
        .map(|(o, s)| (*o, s.as_deref()))
        .collect();
    assert_eq!(got, entries);
    // Deterministic.
    assert_eq!(encode_summaries(6000, 0xabcd, &entries), bytes);
    for at in (0..bytes.len()).step_by(7) {
        let mut bad = bytes.clone();
        bad[at] ^= 0x20;
        assert!(decode_summaries(&bad).is_err(), "flip at {at}");
    }
    for len in [0, 3, 20, bytes.len() / 2, bytes.len() - 1] {
        assert!(decode_summaries(&bytes[..len]).is_err(), "cut at {len}");
    }
    let mut other = bytes[..bytes.len() - 4].to_vec();
    other[4] = 9;
    let crc = crc32c::crc32c(&other);
    other.extend_from_slice(&crc.to_le_bytes());
    assert_eq!(decode_summaries(&other), Err(SummaryError::Version(9)));
}

/// Guards the file's meaning: keys and filter bits written by one build
/// must read the same in the next (a dependency that changed either would
/// need a new [`file::SUMMARY_VERSION`]).
#[test]
fn keys_and_filter_layout_are_stable() {
    let key = tokens::token_key;
    assert_eq!(
        [key("ord"), key("1234562")],
        [3979040728659089759, 11564123345457261588]
    );
    let mut f = sbbf_rs_safe::Filter::new(8, 100);
    for k in 0..100u64 {
        f.insert_hash(k.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    }
    assert_eq!(f.as_bytes().len(), 128);
    assert_eq!(crc32c::crc32c(f.as_bytes()), 3414129236);
}

fn admits(filter: &str, s: &BlockSummary) -> bool {
    Filter::parse(filter)
        .unwrap()
        .block_needs(&EvalContext::new(Timestamp(0)))
        .admits(s)
}

/// In 100 dataset blocks of 100 events, a filter matching one event admits
/// its block and, for each kind of lookup, few others: the false positives
/// of the filter, and blocks where the same token appears elsewhere.
#[test]
fn lookups_of_one_event_admit_its_block_and_few_others() {
    let events = dataset_events(10_000);
    let blocks: Vec<BlockSummary> = events.chunks(100).map(summarize).collect();
    let probes = |i: usize| -> Vec<String> {
        let e = &events[i];
        let text = |name: &str| {
            EventView::property_raw(e, name)
                .unwrap()
                .trim_matches('"')
                .to_owned()
        };
        let mut v = vec![
            format!("TraceId = '{}'", text("TraceId")),
            format!("SpanId = '{}' ci", text("SpanId").to_uppercase()),
        ];
        match i % 5 {
            1 => {
                let user = EventView::property_raw(e, "UserId").unwrap();
                v.push(format!("UserId = {user}"));
                v.push(format!("\"User {user} logged\""));
            }
            2 => {
                let order = text("OrderId");
                v.push(format!("OrderId = '{order}'"));
                v.push(format!("OrderId like '%{}'", &order[2..]));
            }
            3 => v.push(format!("CacheKey = '{}'", text("CacheKey"))),
            _ => {}
        }
        v
    };
    // Lookups by kind (the filter's first word): (blocks asked, admitted).
    let mut kinds = std::collections::BTreeMap::<String, (u32, u32)>::new();
    for i in (0..events.len()).step_by(97) {
        for f in probes(i) {
            let matcher = Filter::parse(&f).unwrap();
            for (b, s) in blocks.iter().enumerate() {
                let holds = events[b * 100..(b + 1) * 100]
                    .iter()
                    .any(|e| matcher.matches(e, &EvalContext::new(Timestamp(0))));
                if holds {
                    assert!(
                        admits(&f, s),
                        "{f} rules out block {b}, which holds a match"
                    );
                } else {
                    let kind = f.split(' ').next().unwrap().to_string();
                    let (asked, admitted) = kinds.entry(kind).or_default();
                    *asked += 1;
                    *admitted += u32::from(admits(&f, s));
                }
            }
        }
    }
    assert_eq!(kinds.len(), 6, "{kinds:?}");
    for (kind, (asked, admitted)) in kinds {
        let rate = f64::from(admitted) / f64::from(asked);
        assert!(
            rate < 0.08,
            "{kind}: {admitted} of {asked} blocks without a match admitted"
        );
    }
}
