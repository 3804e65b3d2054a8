//! Shared benchmark plumbing: the shared CLEF dataset and figure reporting.
//!
//! The dataset comes from `../shared/bench/gen-clef.py` (beside the repository
//! root, or `SKEIN_GEN_CLEF`), generated once into `target/bench-data/`.
//! `SKEIN_BENCH_EVENTS` sets the event count (default 1,000,000).

#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

/// The number of events the benchmarks use.
pub fn event_count() -> usize {
    std::env::var("SKEIN_BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000)
}

fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The shared dataset as raw CLEF bytes, generating it on first use.
pub fn dataset() -> Vec<u8> {
    let n = event_count();
    let dir = workspace_root().join("target").join("bench-data");
    std::fs::create_dir_all(&dir).expect("create target/bench-data");
    let path = dir.join(format!("events-{n}.clef"));
    if !path.exists() {
        let script = std::env::var_os("SKEIN_GEN_CLEF")
            .map(PathBuf::from)
            .unwrap_or_else(|| workspace_root().join("../shared/bench/gen-clef.py"));
        let tmp = path.with_extension("tmp");
        let status = Command::new("python3")
            .arg(&script)
            .arg(n.to_string())
            .arg(&tmp)
            .status()
            .unwrap_or_else(|e| panic!("run {}: {e}", script.display()));
        assert!(status.success(), "{} failed", script.display());
        std::fs::rename(&tmp, &path).expect("rename dataset");
    }
    std::fs::read(&path).expect("read dataset")
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
