//! Property tests of the store's round-trips:
//!
//! - CLEF → parse → CLEF writer → parse gives the same events, and so does
//!   CLEF → parse → store → read back;
//! - a random run of appends and seals on one store, replayed from
//!   [`Generation::ZERO`] into an empty replica, leaves both at the same
//!   generation with byte-identical files.

use std::collections::BTreeMap;
use std::ops::ControlFlow;
use std::path::Path;

use proptest::prelude::*;
use serde_json::{json, Map, Value};
use skein_store::event::{format_timestamp, parse_clef, view::to_event, write_clef};
use skein_store::stream::Order;
use skein_store::{Event, Generation, Store, StoreOptions, Timestamp};

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 32,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Store options with segments of at most `segment_max_bytes`.
fn opts(segment_max_bytes: u64) -> StoreOptions {
    StoreOptions {
        segment_max_bytes,
        disk_floor_bytes: 0,
        ..StoreOptions::default()
    }
}

/// The production segment size, or one small enough that a few events
/// fill a segment and the store seals on its own.
fn segment_size() -> impl Strategy<Value = u64> {
    prop_oneof![
        Just(StoreOptions::default().segment_max_bytes),
        256u64..8192
    ]
}

/// Nanoseconds from 1970 to 2200, sometimes whole 100 ns ticks (7 digits
/// written), sometimes not (9 digits).
fn timestamp() -> impl Strategy<Value = i64> {
    const END: i64 = 7_258_118_400_000_000_000; // 2200-01-01
    prop_oneof![(0..END / 100).prop_map(|t| t * 100), 0..END]
}

/// Standard levels in several spellings, and custom ones.
fn level() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        Just(None),
        prop::sample::select(vec![
            "Verbose",
            "Debug",
            "Information",
            "Warning",
            "Error",
            "Fatal",
            "info",
            "WARN",
            "err",
            "crit",
            "trace",
            "notice",
            "Alert",
            "",
        ])
        .prop_map(|s| Some(s.to_string())),
        "[a-zA-Z]{1,12}".prop_map(Some),
    ]
}

/// Any JSON value: strings, integers, floats, bools, null, nested arrays and objects.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (-1e300f64..1e300).prop_map(Value::from),
        any::<String>().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[^\"]{0,6}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// One event as a CLEF object (its `@t` in nanoseconds alongside).
fn clef_event() -> impl Strategy<Value = (i64, Map<String, Value>)> {
    (
        timestamp(),
        level(),
        prop::collection::btree_map("@?[A-Za-z_][A-Za-z0-9_]{0,7}", json_value(), 0..6),
        prop::collection::vec("[^{}]{0,8}", 0..4),
        prop::option::of(any::<String>()),
        prop::option::of(any::<String>()),
        prop::option::of(("[0-9a-f]{32}", "[0-9a-f]{16}")),
    )
        .prop_map(|(t, level, props, texts, message, exception, trace)| {
            let props: BTreeMap<String, Value> = props;
            let mut o = Map::new();
            o.insert("@t".into(), json!(format_timestamp(Timestamp(t))));
            // A template whose holes name the properties, between literal text.
            let names: Vec<&String> = props.keys().collect();
            let template: String = texts
                .iter()
                .enumerate()
                .map(|(i, text)| match names.get(i) {
                    Some(name) => format!("{text}{{{}}}", name.trim_start_matches('@')),
                    None => text.clone(),
                })
                .collect();
            o.insert("@mt".into(), json!(template));
            if let Some(l) = level {
                o.insert("@l".into(), json!(l));
            }
            if let Some(m) = message {
                o.insert("@m".into(), json!(m));
            }
            if let Some(x) = exception {
                o.insert("@x".into(), json!(x));
            }
            if let Some((tr, sp)) = trace {
                o.insert("@tr".into(), json!(tr));
                o.insert("@sp".into(), json!(sp));
            }
            for (name, value) in props {
                // A property whose name starts with `@` is sent as `@@name`.
                let name = if name.starts_with('@') {
                    format!("@{name}")
                } else {
                    name
                };
                o.insert(name, value);
            }
            (t, o)
        })
}

/// The CLEF body of `events`, one line each.
fn clef_body(events: &[(i64, Map<String, Value>)]) -> String {
    events
        .iter()
        .map(|(_, o)| serde_json::to_string(o).unwrap() + "\n")
        .collect()
}

/// Every event of `store`, in timestamp-then-arrival order.
fn read_all(store: &Store) -> Vec<Event> {
    let mut out = Vec::new();
    store
        .visit(None, None, Order::OldestFirst, &mut |e| {
            out.push(to_event(e));
            ControlFlow::Continue(())
        })
        .unwrap();
    out
}

/// Every file under `dir` (recursively), relative path → bytes, sorted.
fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let name = path.strip_prefix(root).unwrap().display().to_string();
                out.push((name, std::fs::read(&path).unwrap()));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

proptest! {
    #![proptest_config(config())]

    /// CLEF parses to events whose timestamps are the ones written; the
    /// crate's CLEF writer gives lines that parse back to the same events;
    /// and the events read back from a store equal the ones appended.
    #[test]
    fn clef_and_store_round_trip(
        sent in prop::collection::vec(clef_event(), 1..40),
        segment in segment_size(),
        batch in 1usize..40,
    ) {
        let parsed = parse_clef(clef_body(&sent).as_bytes()).unwrap();
        prop_assert_eq!(parsed.len(), sent.len());
        for (e, (t, _)) in parsed.iter().zip(&sent) {
            prop_assert_eq!(e.timestamp, Timestamp(*t));
        }

        let mut rewritten = Vec::new();
        for e in &parsed {
            write_clef(e, &mut rewritten);
            rewritten.push(b'\n');
        }
        prop_assert_eq!(&parse_clef(&rewritten).unwrap(), &parsed);

        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), opts(segment)).unwrap();
        for events in parsed.chunks(batch) {
            store.append_events(events).unwrap();
        }
        // Read back in timestamp order, arrival (= sent order) breaking ties.
        let mut expected = parsed.clone();
        expected.sort_by_key(|e| e.timestamp);
        prop_assert_eq!(&read_all(&store), &expected);
        drop(store);
        let reopened = Store::open(dir.path(), opts(segment)).unwrap();
        prop_assert_eq!(&read_all(&reopened), &expected);
    }

    /// Appends and seals (explicit, and automatic at the segment size) on a
    /// store, replayed from the start into an empty replica (in pages of
    /// about `page` bytes), give the same generation and byte-identical
    /// files; the replica reads the same events.
    #[test]
    fn history_replay_gives_identical_replica(
        ops in prop::collection::vec(
            prop_oneof![4 => prop::collection::vec(clef_event(), 1..8).prop_map(Some), 1 => Just(None)],
            1..12,
        ),
        page in prop_oneof![Just(usize::MAX), 1usize..4096],
        segment in segment_size(),
    ) {
        let (a_dir, b_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let a = Store::open(a_dir.path(), opts(segment)).unwrap();
        for op in &ops {
            match op {
                Some(events) => {
                    a.append_events(&parse_clef(clef_body(events).as_bytes()).unwrap()).unwrap();
                }
                None => a.seal().unwrap(),
            }
        }

        let b = Store::open_replica(b_dir.path(), opts(segment), &a.status().store_id).unwrap();
        let mut at = Generation::ZERO;
        while at != a.generation() {
            let items = a.history_after(at, page).unwrap().unwrap();
            prop_assert!(!items.is_empty());
            at = b.apply(&items).unwrap();
        }
        prop_assert_eq!(b.generation(), a.generation());
        prop_assert_eq!(read_all(&b), read_all(&a));
        drop((a, b));
        prop_assert!(files(a_dir.path()) == files(b_dir.path()), "files differ");
    }
}
