//! Store benchmarks on the benchmark dataset (`SKEIN_BENCH_EVENTS`, default 1M).
//!
//! - durable append of pre-parsed 1,000-event batches from 4 writer threads
//!   (each thread encodes its batch, then appends; group commit shares fsyncs)
//!   — goal ≥ 400,000 events/s;
//! - bytes on disk vs the raw CLEF — goal ≤ 1/6;
//! - full newest-first read of every event — goal ≥ 3,000,000 events/s;
//! - opening (recovering) a ~1 GB store — goal < 2 s
//!   (`SKEIN_BENCH_OPEN_BYTES` changes the size).
//!
//! Stores live under `target/bench-data/` on the same disk as the repository.

mod common;

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use skein_store::block::{encode_block, EncodedBlock};
use skein_store::event::parse_clef;
use skein_store::stream::Order;
use skein_store::{Event, EventView, Store, StoreOptions};

const WRITERS: usize = 4;

fn bench_dir(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../target/bench-data")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn options() -> StoreOptions {
    StoreOptions {
        disk_floor_bytes: 0,
        ..StoreOptions::default()
    }
}

fn dir_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().len())
        .sum()
}

/// Appends `batches` from `WRITERS` threads, round-robin; `prepare` turns a
/// batch into a block on the writer thread.
fn append_all<T: Sync>(
    store: &Arc<Store>,
    batches: &[T],
    prepare: impl Fn(&T) -> EncodedBlock + Sync,
) {
    std::thread::scope(|s| {
        for w in 0..WRITERS {
            let (store, prepare) = (store.clone(), &prepare);
            s.spawn(move || {
                for b in batches.iter().skip(w).step_by(WRITERS) {
                    store.append(prepare(b)).expect("append");
                }
            });
        }
    });
}

fn main() {
    let data = common::dataset();
    let batches: Vec<Vec<Event>> = common::bodies(&data, 1000)
        .into_iter()
        .map(|b| parse_clef(b).expect("dataset parses"))
        .collect();
    let events: usize = batches.iter().map(Vec::len).sum();

    // Durable append, encode included.
    let dir = bench_dir("append");
    let store = Arc::new(Store::open(&dir, options()).unwrap());
    let t = Instant::now();
    append_all(&store, &batches, |b| encode_block(b));
    let secs = t.elapsed().as_secs_f64();
    let rate = events as f64 / secs;
    common::report(
        "durable append, 1000-event batches, 4 writers",
        rate,
        "events/s",
        ">= 400000",
        rate >= 400_000.0,
    );
    println!(
        "    ({} batches; generation {})",
        batches.len(),
        store.generation()
    );

    // Bytes on disk.
    let on_disk = dir_bytes(&dir);
    let ratio = data.len() as f64 / on_disk as f64;
    common::report("raw CLEF / bytes on disk", ratio, "x", ">= 6", ratio >= 6.0);
    println!(
        "    ({:.1} B/event on disk, {:.1} B/event raw)",
        on_disk as f64 / events as f64,
        data.len() as f64 / events as f64
    );

    // Full newest-first read.
    let (d, n) = common::best_of(3, || {
        let mut n = 0usize;
        let mut checksum = 0i64;
        store
            .visit(None, None, Order::NewestFirst, &mut |e| {
                n += 1;
                checksum = checksum.wrapping_add(e.timestamp().0);
                ControlFlow::Continue(())
            })
            .unwrap();
        std::hint::black_box(checksum);
        n
    });
    assert_eq!(n, events);
    let rate = n as f64 / d.as_secs_f64();
    common::report(
        "full newest-first read",
        rate,
        "events/s",
        ">= 3000000",
        rate >= 3_000_000.0,
    );
    drop(store);

    // Open a ~1 GB store: append the encoded dataset repeatedly.
    let target: u64 = std::env::var("SKEIN_BENCH_OPEN_BYTES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1 << 30);
    let blocks: Vec<EncodedBlock> = batches.iter().map(|b| encode_block(b)).collect();
    let dir = bench_dir("open");
    {
        let store = Arc::new(Store::open(&dir, options()).unwrap());
        while dir_bytes(&dir) < target {
            append_all(&store, &blocks, |b| b.clone());
        }
    }
    let size = dir_bytes(&dir);
    let (d, store) = common::best_of(3, || Store::open(&dir, options()).unwrap());
    let status = store.status();
    common::report(
        &format!(
            "open a {:.2} GB store ({} segments)",
            size as f64 / 1e9,
            status.segments
        ),
        d.as_secs_f64() * 1000.0,
        "ms",
        "< 2000",
        d.as_secs_f64() < 2.0,
    );
    println!(
        "    ({} events, generation {})",
        status.events, status.generation
    );
    drop(store);
    let _ = std::fs::remove_dir_all(&dir);
}
