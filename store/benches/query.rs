//! Search benchmarks on the benchmark dataset (`SKEIN_BENCH_EVENTS`, default 1M),
//! with the goals of issue 3 (2 cores):
//!
//! - `@Level = 'Error'` count — goal < 100 ms;
//! - `TraceId = '<one id>'` (exactly one match), a newest-first page — < 150 ms;
//! - newest 50 events matching `Application = 'checkout' and StatusCode >= 500` — < 20 ms;
//! - `select count(*) from stream group by Application, time(1m)` — < 400 ms;
//!
//! and the lookups of issue 16, each matching one event, with VictoriaLogs'
//! figures on 2M events as goals: `OrderId = '<one id>'` (1.7 ms), `UserId =
//! <one number>` (1.9 ms), the free text `"<one order id>"` (17 ms); then
//! what block summaries cost and miss: their bytes as a share of the
//! segments', and the share of blocks a lookup of an absent `TraceId`, or of
//! an absent order id as free text, still reads (the filter's false
//! positives).
//!
//! `SKEIN_BENCH_ONLY=<text>` runs only the figures whose name contains it
//! (for profiling). The store is built from the dataset in 1,000-event batches (as the store
//! benchmark does) under `target/bench-data/query`, sealed (as every segment
//! but the newest is, so its summaries are on disk), and reused while it
//! holds the same number of events.

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use skein_store::block::encode_block;
use skein_store::dataset::Rng;
use skein_store::event::parse_clef;
use skein_store::query::{EvalContext, Filter, Query};
use skein_store::search::{count_events, run_query, search_events, SearchRequest};
use skein_store::{Event, EventView, Store, StoreOptions};

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

fn store_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/bench-data/query")
}

/// The dataset's store, built once per event count.
fn build_store(data: &[u8]) -> Store {
    let n = common::event_count() as u64;
    let dir = store_dir();
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
    store.seal().expect("seal");
    Arc::try_unwrap(store).ok().expect("writers done")
}

/// The raw value of property `name` of the first event from the middle of
/// the dataset on that has it (strings still quoted).
fn middle_value(data: &[u8], name: &str) -> String {
    let middle = common::event_count() / 2;
    let lines = common::bodies(data, 1);
    lines[middle..]
        .iter()
        .take(10)
        .flat_map(|line| parse_clef(line).expect("dataset parses"))
        .find_map(|e| EventView::property_raw(&e, name).map(str::to_owned))
        .expect("an event with the property")
}

/// Bytes of the files in `dir` whose names end with `suffix`.
fn bytes_of(dir: &Path, suffix: &str) -> u64 {
    std::fs::read_dir(dir)
        .expect("store folder")
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(suffix))
        .map(|e| e.metadata().map_or(0, |m| m.len()))
        .sum()
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
    let unquote = |s: String| s.trim_matches('"').to_owned();
    let trace = unquote(middle_value(&data, "TraceId"));
    let order = unquote(middle_value(&data, "OrderId"));
    let user = middle_value(&data, "UserId");
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

    let lookups = [
        (
            "OrderId = '<one id>', newest 50",
            format!("OrderId = '{order}'"),
            1.7,
        ),
        (
            "UserId = <one number>, newest 50",
            format!("UserId = {user}"),
            1.9,
        ),
        (
            "free text \"<one order id>\", newest 50",
            format!("\"{order}\""),
            17.0,
        ),
    ];
    for (name, text, goal) in lookups {
        if !wanted(name) {
            continue;
        }
        let filter = Filter::parse(&text).unwrap();
        let (d, page) = common::best_of(runs(), || {
            search_events(&store, &filter, &req, &ctx).unwrap()
        });
        assert!(!page.events.is_empty(), "{text} matches");
        common::report(name, ms(d), "ms", &format!("< {goal}"), ms(d) < goal);
        println!("    ({} events; {:?})", page.events.len(), page.stats);
    }

    let name = "count(*) group by Application, time(1m)";
    if wanted(name) {
        let q = Query::parse("select count(*) from stream group by Application, time(1m)").unwrap();
        let (d, result) =
            common::best_of(runs(), || run_query(&store, &q, None, None, &ctx).unwrap());
        common::report(name, ms(d), "ms", "< 400", ms(d) < 400.0);
        println!("    ({} rows)", result.rows.len());
    }

    let name = "summary files / segment files";
    if wanted(name) {
        let (sums, logs) = (
            bytes_of(&store_dir(), ".sum"),
            bytes_of(&store_dir(), ".log"),
        );
        let share = sums as f64 * 100.0 / logs as f64;
        common::report(name, share, "%", "<= 5", share <= 5.0);
        println!("    ({sums} bytes of summaries, {logs} of segments)");
    }

    let name = "blocks read for an absent TraceId";
    if wanted(name) {
        let mut rng = Rng::new(16);
        let absent = |rng: &mut Rng| format!("{:016x}{:016x}", rng.next_u64(), rng.next_u64());
        false_positives(&store, &ctx, name, |_| {
            format!("TraceId = '{}'", absent(&mut rng))
        });
    }
    let name = "blocks read for an absent order id, free text";
    if wanted(name) {
        let past = common::event_count() * 10;
        false_positives(&store, &ctx, name, |k| {
            format!("\"ORD-{}\"", past + k * 7919)
        });
    }
}

/// Searches 200 filters that match nothing and reports the share of
/// blocks their summaries still let through (the false-positive rate).
fn false_positives(store: &Store, ctx: &EvalContext, name: &str, f: impl FnMut(usize) -> String) {
    let req = SearchRequest {
        count: 50,
        ..SearchRequest::default()
    };
    let (mut read, mut blocks) = (0, 0);
    for text in (0..200).map(f) {
        let page = search_events(store, &Filter::parse(&text).unwrap(), &req, ctx).unwrap();
        assert!(page.events.is_empty(), "{text} matches nothing");
        read += page.stats.blocks_in_range - page.stats.blocks_pruned_by_summary;
        blocks += page.stats.blocks_in_range;
    }
    let rate = read as f64 * 100.0 / blocks as f64;
    common::report(name, rate, "%", "-", true);
}
