//! Block codec: compression ratio, encode and decode+visit throughput.
//!
//! The benchmark dataset (`skein_store::dataset`, ~290 B/event) is parsed
//! with `parse_clef` into 1,000-event batches (not timed), then:
//! - every batch is encoded with `encode_block` on 2 threads: goal ≥ 400,000
//!   events/s, and raw CLEF bytes / block bytes (headers included) ≥ 6;
//! - every block is decoded with `decode_block` and every field of every
//!   event visited newest-first through `EventView`, on 2 threads: goal
//!   ≥ 3,000,000 events/s (what a full newest-first store read needs);
//! - for reference: single-thread figures, a one-column scan via
//!   `BlockColumns::property`, and the stored bytes per column kind.

mod common;

use std::collections::BTreeMap;
use std::hint::black_box;

use skein_store::block::{decode_block, encode_block, BlockColumns, ColumnKind};
use skein_store::event::{parse_clef, Event, EventView};

const THREADS: usize = 2;

/// Runs `f` over `items` split into `threads` contiguous shares; sums results.
fn parallel<T: Sync>(items: &[T], threads: usize, f: impl Fn(&[T]) -> u64 + Sync) -> u64 {
    let share = items.len().div_ceil(threads).max(1);
    std::thread::scope(|s| {
        let handles: Vec<_> = items.chunks(share).map(|c| s.spawn(|| f(c))).collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("bench thread"))
            .sum()
    })
}

fn encode_all(batches: &[Vec<Event>]) -> u64 {
    batches
        .iter()
        .map(|b| black_box(encode_block(b)).payload.len() as u64)
        .sum()
}

/// Decodes each block and visits every field of every event, newest first.
fn decode_visit(blocks: &[Vec<u8>]) -> u64 {
    let mut n = 0u64;
    let mut sum = 0usize;
    for b in blocks.iter().rev() {
        let d = decode_block(b).expect("decode");
        for e in d.iter().rev() {
            let id = e.id().expect("id");
            sum += id.arrival as usize + e.timestamp().0 as usize + e.severity() as usize;
            sum += e.level_display().len() + e.message_template().map_or(0, str::len);
            for s in [e.message(), e.exception(), e.trace_id(), e.span_id()] {
                sum += s.map_or(0, str::len);
            }
            e.for_each_reified(&mut |k, v| sum += k.len() + v.len());
            e.for_each_property(&mut |k, v| sum += k.len() + v.len());
            n += 1;
        }
    }
    black_box(sum);
    n
}

fn main() {
    let data = common::dataset();
    let bodies = common::bodies(&data, 1000);
    let batches: Vec<Vec<Event>> = bodies
        .iter()
        .map(|b| parse_clef(b).expect("parse"))
        .collect();
    let events: usize = batches.iter().map(Vec::len).sum();
    let ev = events as f64;
    println!(
        "codec: {events} events, {} raw CLEF bytes, {} blocks",
        data.len(),
        batches.len()
    );

    let blocks: Vec<Vec<u8>> = batches.iter().map(|b| encode_block(b).to_bytes()).collect();
    let stored: usize = blocks.iter().map(Vec::len).sum();
    let ratio = data.len() as f64 / stored as f64;
    common::report(
        "block bytes: raw CLEF / stored",
        ratio,
        "x",
        ">= 6",
        ratio >= 6.0,
    );
    let per_event = stored as f64 / ev;
    common::report("block bytes per event", per_event, "B", "(info)", true);

    let (d, _) = common::best_of(3, || parallel(&batches, THREADS, encode_all));
    let rate = ev / d.as_secs_f64();
    common::report(
        "encode_block, 2 threads",
        rate,
        "events/s",
        ">= 400000",
        rate >= 400_000.0,
    );
    let (d, _) = common::best_of(3, || encode_all(&batches));
    common::report(
        "encode_block, 1 thread",
        ev / d.as_secs_f64(),
        "events/s",
        "(info)",
        true,
    );

    let (d, n) = common::best_of(5, || parallel(&blocks, THREADS, decode_visit));
    assert_eq!(n as usize, events);
    let rate = ev / d.as_secs_f64();
    common::report(
        "decode_block + visit all, 2 threads",
        rate,
        "events/s",
        ">= 3000000",
        rate >= 3e6,
    );
    let (d, _) = common::best_of(3, || decode_visit(&blocks));
    common::report(
        "decode_block + visit all, 1 thread",
        ev / d.as_secs_f64(),
        "events/s",
        "(info)",
        true,
    );

    let (d, _) = common::best_of(3, || {
        parallel(&blocks, THREADS, |bs| {
            let mut hits = 0;
            for b in bs {
                let cols = BlockColumns::open(b).expect("open");
                if let Some(c) = cols.property("StatusCode").expect("column") {
                    hits += c.iter().filter(|v| v.is_some_and(|v| v >= "500")).count() as u64;
                }
            }
            hits
        })
    });
    common::report(
        "scan one property column, 2 threads",
        ev / d.as_secs_f64(),
        "events/s",
        "(info)",
        true,
    );

    // Where the bytes go.
    let mut by_kind: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let first = BlockColumns::open(&blocks[0]).expect("open");
    let schema = first.schema(ColumnKind::PropertySchema).expect("schema");
    for b in &blocks {
        let cols = BlockColumns::open(b).expect("open");
        let names = cols.schema(ColumnKind::PropertySchema).expect("schema");
        for e in cols.directory() {
            let key = match e.kind {
                ColumnKind::PropertyValues => names.name(e.index).unwrap_or("?").to_string(),
                k => format!("{k:?}"),
            };
            let slot = by_kind.entry(key).or_default();
            slot.0 += e.stored_len();
            slot.1 += e.raw_len();
        }
    }
    let _ = schema;
    println!("stored bytes per event by column (raw → stored):");
    for (k, (s, r)) in by_kind {
        println!("  {k:<24} {:>8.2} → {:>6.2}", r as f64 / ev, s as f64 / ev);
    }
}
