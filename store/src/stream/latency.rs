//! How long the store's appends wait on `fsync`: a fixed-bucket histogram
//! ([`FsyncLatency`]) the writer updates with a few relaxed atomic adds per
//! group commit, read lock-free as plain numbers ([`LatencySnapshot`]) by
//! whoever exports metrics (the store knows nothing of Prometheus).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds (seconds) of the histogram's buckets; one more bucket
/// (+Inf) holds everything slower.
pub const FSYNC_BUCKETS: [f64; 16] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0,
];

/// Counts of fsync durations by bucket, their sum and count.
#[derive(Debug, Default)]
pub struct FsyncLatency {
    /// One counter per bound of [`FSYNC_BUCKETS`], then +Inf (not cumulative).
    buckets: [AtomicU64; FSYNC_BUCKETS.len() + 1],
    sum_nanos: AtomicU64,
    count: AtomicU64,
}

/// The histogram at one moment.
#[derive(Clone, Debug, PartialEq)]
pub struct LatencySnapshot {
    /// `(upper bound in seconds, observations in this bucket)`, one per
    /// bound of [`FSYNC_BUCKETS`] (not cumulative); slower ones are only
    /// in `count`.
    pub buckets: Vec<(f64, u64)>,
    /// Observations, all buckets and +Inf.
    pub count: u64,
    /// Sum of the observed durations, in seconds.
    pub sum_seconds: f64,
}

/// The bucket `seconds` falls in: the first bound at or above it, or
/// `FSYNC_BUCKETS.len()` (+Inf).
pub fn bucket_of(seconds: f64) -> usize {
    FSYNC_BUCKETS.partition_point(|&bound| bound < seconds)
}

impl FsyncLatency {
    /// Records one fsync that took `took`.
    pub fn record(&self, took: Duration) {
        let i = bucket_of(took.as_secs_f64());
        self.buckets[i].fetch_add(1, Ordering::Relaxed);
        let nanos = u64::try_from(took.as_nanos()).unwrap_or(u64::MAX);
        self.sum_nanos.fetch_add(nanos, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
    }

    /// The counts so far (each field read once; a record racing the read
    /// may show in some and not yet in others).
    pub fn snapshot(&self) -> LatencySnapshot {
        let buckets = FSYNC_BUCKETS
            .iter()
            .zip(&self.buckets)
            .map(|(&bound, n)| (bound, n.load(Ordering::Relaxed)))
            .collect::<Vec<_>>();
        let in_buckets: u64 = buckets.iter().map(|(_, n)| n).sum::<u64>()
            + self.buckets[FSYNC_BUCKETS.len()].load(Ordering::Relaxed);
        LatencySnapshot {
            buckets,
            // Never fewer than the buckets hold, so the +Inf bucket is never negative.
            count: self.count.load(Ordering::Relaxed).max(in_buckets),
            sum_seconds: self.sum_nanos.load(Ordering::Relaxed) as f64 / 1e9,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_duration_falls_in_the_first_bucket_at_or_above_it() {
        assert_eq!(bucket_of(0.0), 0);
        assert_eq!(bucket_of(0.0001), 0);
        assert_eq!(bucket_of(0.00011), 1);
        assert_eq!(bucket_of(0.003), 5);
        assert_eq!(bucket_of(10.0), 15);
        assert_eq!(bucket_of(10.5), FSYNC_BUCKETS.len());
    }

    #[test]
    fn records_show_in_their_bucket_count_and_sum() {
        let h = FsyncLatency::default();
        h.record(Duration::from_micros(50));
        h.record(Duration::from_millis(3));
        h.record(Duration::from_secs(20));
        let s = h.snapshot();
        assert_eq!(s.count, 3);
        assert!((s.sum_seconds - 20.00305).abs() < 1e-9, "{}", s.sum_seconds);
        assert_eq!(s.buckets.len(), FSYNC_BUCKETS.len());
        assert_eq!(s.buckets[0], (0.0001, 1));
        assert_eq!(s.buckets[5], (0.005, 1));
        assert_eq!(s.buckets.iter().map(|(_, n)| n).sum::<u64>(), 2);
    }
}
