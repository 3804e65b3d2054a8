//! Search benchmarks on the benchmark dataset (`SKEIN_BENCH_EVENTS`, default 1M),
//! with the goals of issue 3 (2 cores):
//!
//! - `@Level = 'Error'` count — goal < 100 ms;
//! - `TraceId = '<one id>'` (exactly one match), a newest-first page — < 150 ms;
//! - newest 50 events matching `Application = 'checkout' and StatusCode >= 500` — < 20 ms;
//! - `select count(*) from stream group by Application, time(1m)` — < 400 ms.
//!
//! `SKEIN_BENCH_ONLY=<text>` runs only the figures whose name contains it
//! (for profiling). The store is built from the dataset in 1,000-event batches (as the store
//! benchmark does) under `target/bench-data/query`, and reused while it
//! holds the same number of events.

mod common;

use std::path::PathBuf;
use std::sync::Arc;

use skein_store::block::encode_block;
use skein_store::event::parse_clef;
use skein_store::query::{EvalContext, Filter, Query};
use skein_store::search::{count_events, run_query, search_events, SearchRequest};
use skein_store::{Event, Store, StoreOptions};

const WRITERS: usize = 4;
/// Timed runs per figure (the best is reported); `SKEIN_BENCH_RUNS` overrides.
fn runs() -> usize {
    std::env::var("SKEIN_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(7)
}

fn options() -> StoreOptions {
    StoreOptions {
        disk_floor_bytes: 0,
        ..StoreOptions::default()
    }
}

/// The dataset's store, built once per event count.
fn build_store(data: &[u8]) -> Store {
    let n = common::event_count() as u64;
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/bench-data/query");
    if let Ok(store) = Store::open(&dir, options()) {
        if store.status().events == n {
            return store;
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    let batches: Vec<Vec<Event>> = common::bodies(data, 1000)
        .into_iter()
        .map(|b| parse_clef(b).expect("dataset parses"))
        .collect();
    let store = Arc::new(Store::open(&dir, options()).expect("open store"));
    std::thread::scope(|s| {
        for w in 0..WRITERS {
            let (store, batches) = (store.clone(), &batches);
            s.spawn(move || {
                for b in batches.iter().skip(w).step_by(WRITERS) {
                    store.append(encode_block(b)).expect("append");
                }
            });
        }
    });
    Arc::try_unwrap(store).ok().expect("writers done")
}

/// The `TraceId` of the event in the middle of the dataset.
fn middle_trace_id(data: &[u8]) -> String {
    let line = common::bodies(data, 1)
        .into_iter()
        .nth(common::event_count() / 2)
        .expect("dataset has events");
    let text = std::str::from_utf8(line).expect("utf-8");
    let at = text.find("\"TraceId\":\"").expect("TraceId") + 11;
    text[at..at + 32].to_string()
}

/// Whether the figure `name` was asked for (`SKEIN_BENCH_ONLY`).
fn wanted(name: &str) -> bool {
    std::env::var("SKEIN_BENCH_ONLY").map_or(true, |only| name.contains(&only))
}

fn ms(d: std::time::Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() {
    let data = common::dataset();
    let trace = middle_trace_id(&data);
    let store = build_store(&data);
    drop(data);
    let ctx = EvalContext::system();
    println!(
        "    ({} events in {} blocks, {} threads)",
        store.status().events,
        store.blocks(None, None).len(),
        rayon::current_num_threads()
    );

    let req = SearchRequest {
        count: 50,
        ..SearchRequest::default()
    };
    let name = "count @Level = 'Error'";
    if wanted(name) {
        let errors = Filter::parse("@Level = 'Error'").unwrap();
        let (d, n) = common::best_of(runs(), || {
            count_events(&store, &errors, None, None, &ctx).unwrap()
        });
        common::report(name, ms(d), "ms", "< 100", ms(d) < 100.0);
        println!("    ({n} events)");
    }

    let name = "TraceId = '<one id>', newest 50";
    if wanted(name) {
        let by_trace = Filter::parse(&format!("TraceId = '{trace}'")).unwrap();
        let (d, page) = common::best_of(runs(), || {
            search_events(&store, &by_trace, &req, &ctx).unwrap()
        });
        assert_eq!(page.events.len(), 1, "one event has TraceId {trace}");
        common::report(name, ms(d), "ms", "< 150", ms(d) < 150.0);
        println!("    ({:?})", page.stats);
    }

    let name = "newest 50: checkout and StatusCode >= 500";
    if wanted(name) {
        let checkout = Filter::parse("Application = 'checkout' and StatusCode >= 500").unwrap();
        let (d, page) = common::best_of(runs(), || {
            search_events(&store, &checkout, &req, &ctx).unwrap()
        });
        assert_eq!(page.events.len(), 50);
        common::report(name, ms(d), "ms", "< 20", ms(d) < 20.0);
        println!("    ({:?})", page.stats);
    }

    let name = "count(*) group by Application, time(1m)";
    if wanted(name) {
        let q = Query::parse("select count(*) from stream group by Application, time(1m)").unwrap();
        let (d, result) =
            common::best_of(runs(), || run_query(&store, &q, None, None, &ctx).unwrap());
        common::report(name, ms(d), "ms", "< 400", ms(d) < 400.0);
        println!("    ({} rows)", result.rows.len());
    }
}
