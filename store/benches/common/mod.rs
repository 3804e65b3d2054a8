//! Shared benchmark plumbing: the benchmark dataset and figure reporting.
//!
//! The dataset is generated in memory by [`skein_store::dataset`] (seed
//! [`DEFAULT_SEED`]), the generator `skein bench ingest` uses too.
//! `SKEIN_BENCH_EVENTS` sets the event count (default 1,000,000).

#![allow(dead_code)]

use std::time::{Duration, Instant};

use skein_store::dataset::{self, DEFAULT_SEED};

/// The number of events the benchmarks use.
pub fn event_count() -> usize {
    std::env::var("SKEIN_BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000)
}

/// The dataset as raw CLEF bytes, `event_count()` events.
pub fn dataset() -> Vec<u8> {
    dataset::clef(event_count() as u64, DEFAULT_SEED)
}

/// Runs `f` `runs` times and returns the fastest wall time.
pub fn best_of<T>(runs: usize, mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut best = None;
    let mut last = None;
    for _ in 0..runs {
        let t = Instant::now();
        let out = f();
        let d = t.elapsed();
        best = Some(best.map_or(d, |b: Duration| b.min(d)));
        last = Some(out);
    }
    (best.unwrap(), last.unwrap())
}

/// Prints one figure with its goal: `name: value unit (goal: …) PASS|MISS`.
pub fn report(name: &str, value: f64, unit: &str, goal: &str, met: bool) {
    println!(
        "{name:<48} {value:>14.1} {unit:<10} goal {goal:<14} {}",
        if met { "MET" } else { "MISSED" }
    );
}

/// Splits `data` into bodies of `per` lines each (the last may be shorter).
pub fn bodies(data: &[u8], per: usize) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let (mut start, mut lines) = (0, 0);
    for (i, &b) in data.iter().enumerate() {
        if b == b'\n' {
            lines += 1;
            if lines == per {
                out.push(&data[start..=i]);
                start = i + 1;
                lines = 0;
            }
        }
    }
    if start < data.len() {
        out.push(&data[start..]);
    }
    out
}
