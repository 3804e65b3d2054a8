//! A follower's snapshot catch-up as an operator follows it: what
//! [`CatchUp`] has staged of the plan, the rate and time left estimated from
//! it ([`estimate`], a pure function), and how it reads in the follower's
//! log ([`CatchUpProgress`]'s `Display`):
//! `catch-up: 812 MB of 1.59 GB (51%), 270 MB/s, about 3 s left`.
//!
//! Bytes already in place when the copy started — staged by an earlier,
//! interrupted copy, or an identical local file linked in — count as copied
//! but not toward the rate: the rate is what this copy fetched over the time
//! it has run, so a resumed copy does not promise more than the link gives.

use std::fmt;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use skein_store::stream::snapshot::Staged;

/// A catch-up in progress, as the node publishes it (its heartbeat row,
/// `/api/cluster`, the cluster screen).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CatchUpProgress {
    /// Bytes of the snapshot in place so far (kept or fetched).
    pub copied_bytes: u64,
    /// Bytes the snapshot's files add up to.
    pub total_bytes: u64,
    /// Bytes fetched per second since the copy started (`None` until the
    /// first bytes arrived).
    pub bytes_per_second: Option<u64>,
    /// Seconds left at that rate, rounded up (`None` while the rate is unknown).
    pub seconds_left: Option<u64>,
    /// When the copy started.
    pub started_at: DateTime<Utc>,
}

/// The rate and time left of a copy.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Estimate {
    /// Bytes fetched per second (`None` before any byte was fetched, or
    /// with no time elapsed).
    pub bytes_per_second: Option<f64>,
    /// Seconds until every byte is copied (0 when none is left; `None`
    /// while the rate is unknown).
    pub seconds_left: Option<f64>,
}

/// Estimates a copy that has `copied` of `total` bytes in place after
/// `elapsed`, `kept` of them already there when it started (counted as
/// copied, not toward the rate).
pub fn estimate(copied: u64, kept: u64, total: u64, elapsed: Duration) -> Estimate {
    let left = total.saturating_sub(copied);
    let fetched = copied.saturating_sub(kept);
    let secs = elapsed.as_secs_f64();
    let bytes_per_second = (fetched > 0 && secs > 0.0).then(|| fetched as f64 / secs);
    let seconds_left = match left {
        0 => Some(0.0),
        left => bytes_per_second.map(|rate| left as f64 / rate),
    };
    Estimate {
        bytes_per_second,
        seconds_left,
    }
}

/// One snapshot copy's tally.
#[derive(Clone, Debug)]
pub struct CatchUp {
    total: u64,
    kept: u64,
    fetched: u64,
    started: Instant,
    started_at: DateTime<Utc>,
}

impl CatchUp {
    /// A copy of `total` bytes starting now (`started`, `started_at`).
    pub fn new(total: u64, started: Instant, started_at: DateTime<Utc>) -> CatchUp {
        CatchUp {
            total,
            kept: 0,
            fetched: 0,
            started,
            started_at,
        }
    }

    /// Counts what the installer staged.
    pub fn staged(&mut self, staged: Staged) {
        match staged {
            Staged::Kept(n) => self.kept = self.kept.saturating_add(n),
            Staged::Fetched(n) => self.fetched = self.fetched.saturating_add(n),
        }
    }

    /// The copy as of `now`.
    pub fn progress(&self, now: Instant) -> CatchUpProgress {
        let kept = self.kept.min(self.total);
        let copied = kept.saturating_add(self.fetched).min(self.total);
        let e = estimate(copied, kept, self.total, now - self.started);
        CatchUpProgress {
            copied_bytes: copied,
            total_bytes: self.total,
            bytes_per_second: e.bytes_per_second.map(|r| r.round() as u64),
            seconds_left: e.seconds_left.map(|s| s.ceil() as u64),
            started_at: self.started_at,
        }
    }
}

impl CatchUpProgress {
    /// Whole percent copied (100 for an empty snapshot).
    pub fn percent(&self) -> u64 {
        match self.total_bytes {
            0 => 100,
            total => (u128::from(self.copied_bytes.min(total)) * 100 / u128::from(total)) as u64,
        }
    }
}

impl CatchUpProgress {
    /// How far the copy is, as a person reads it (the cluster screen shows
    /// it beside its bar): `812 MB of 1.59 GB (51%), 270 MB/s, about 3 s left`.
    pub fn summary(&self) -> String {
        let done = format!(
            "{} of {} ({}%)",
            bytes(self.copied_bytes),
            bytes(self.total_bytes),
            self.percent()
        );
        match (self.bytes_per_second, self.seconds_left) {
            (Some(rate), Some(left)) => {
                format!("{done}, {}/s, about {} left", bytes(rate), seconds(left))
            }
            (None, Some(0)) => format!("{done}, done"),
            _ => format!("{done}, rate not known yet"),
        }
    }
}

/// The follower's log line: `catch-up: ` and the [`CatchUpProgress::summary`].
impl fmt::Display for CatchUpProgress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "catch-up: {}", self.summary())
    }
}

/// A byte count in decimal units with three significant digits:
/// `812 MB`, `1.59 GB`, `999 B`.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 6] = ["kB", "MB", "GB", "TB", "PB", "EB"];
    if n < 1000 {
        return format!("{n} B");
    }
    let mut v = n as f64;
    for unit in UNITS {
        v /= 1000.0;
        // Move up a unit when rounding would show four digits.
        if v < 999.5 || unit == "EB" {
            return match v {
                v if v < 9.995 => format!("{v:.2} {unit}"),
                v if v < 99.95 => format!("{v:.1} {unit}"),
                v => format!("{v:.0} {unit}"),
            };
        }
    }
    unreachable!("an exabyte count below 999.5 is returned above")
}

/// A time left: `42 s`, `17 min`, `3 h 5 min`.
pub fn seconds(s: u64) -> String {
    match s {
        s if s < 100 => format!("{s} s"),
        s if s < 100 * 60 => format!("{} min", s.div_ceil(60)),
        s => {
            let minutes = s.div_ceil(60);
            format!("{} h {} min", minutes / 60, minutes % 60)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MB: u64 = 1_000_000;

    #[test]
    fn estimates() {
        let s = Duration::from_secs;
        // (copied, kept, total, elapsed) → (bytes per second, seconds left)
        type Row = (u64, u64, u64, Duration, Option<f64>, Option<f64>);
        let table: [Row; 9] = [
            // Half of 100 MB in 5 s: 10 MB/s, 5 s left.
            (50 * MB, 0, 100 * MB, s(5), Some(10e6), Some(5.0)),
            // Nothing fetched yet: no rate, no time left.
            (0, 0, 100 * MB, s(5), None, None),
            // No time elapsed: no rate (never a division by zero).
            (10 * MB, 0, 100 * MB, Duration::ZERO, None, None),
            // An empty snapshot is done at once.
            (0, 0, 0, Duration::ZERO, None, Some(0.0)),
            (0, 0, 0, s(3), None, Some(0.0)),
            // Complete: nothing left, whatever the rate.
            (100 * MB, 0, 100 * MB, s(10), Some(10e6), Some(0.0)),
            // Resumed: 60 MB were staged before; 20 MB fetched in 2 s is
            // 10 MB/s, and the 20 MB left take 2 s.
            (80 * MB, 60 * MB, 100 * MB, s(2), Some(10e6), Some(2.0)),
            // Resumed, nothing fetched yet: copied, but no rate.
            (60 * MB, 60 * MB, 100 * MB, s(2), None, None),
            // Everything was already staged: done, no rate.
            (100 * MB, 100 * MB, 100 * MB, s(1), None, Some(0.0)),
        ];
        for (copied, kept, total, elapsed, rate, left) in table {
            let e = estimate(copied, kept, total, elapsed);
            assert_eq!(
                (e.bytes_per_second, e.seconds_left),
                (rate, left),
                "estimate({copied}, {kept}, {total}, {elapsed:?})"
            );
        }
    }

    #[test]
    fn a_copy_is_tallied_and_read_in_the_log() {
        let (t0, at) = (Instant::now(), Utc::now());
        let mut c = CatchUp::new(1_590 * MB, t0, at);
        let p = c.progress(t0);
        assert_eq!(
            (p.copied_bytes, p.bytes_per_second, p.seconds_left),
            (0, None, None)
        );
        assert_eq!(
            p.to_string(),
            "catch-up: 0 B of 1.59 GB (0%), rate not known yet"
        );
        c.staged(Staged::Kept(272 * MB));
        c.staged(Staged::Fetched(270 * MB));
        c.staged(Staged::Fetched(270 * MB));
        let p = c.progress(t0 + Duration::from_secs(2));
        assert_eq!(
            p,
            CatchUpProgress {
                copied_bytes: 812 * MB,
                total_bytes: 1_590 * MB,
                bytes_per_second: Some(270 * MB),
                seconds_left: Some(3),
                started_at: at,
            }
        );
        assert_eq!(
            p.to_string(),
            "catch-up: 812 MB of 1.59 GB (51%), 270 MB/s, about 3 s left"
        );
        c.staged(Staged::Fetched(778 * MB));
        let p = c.progress(t0 + Duration::from_secs(5));
        assert_eq!(
            (p.copied_bytes, p.seconds_left, p.percent()),
            (1_590 * MB, Some(0), 100)
        );
        assert_eq!(
            p.to_string(),
            "catch-up: 1.59 GB of 1.59 GB (100%), 264 MB/s, about 0 s left"
        );
        // More reported than planned (never expected) is shown as complete.
        c.staged(Staged::Kept(u64::MAX));
        assert_eq!(c.progress(t0).copied_bytes, 1_590 * MB);
        let empty = CatchUp::new(0, t0, at).progress(t0);
        assert_eq!(empty.summary(), "0 B of 0 B (100%), done");
    }

    #[test]
    fn bytes_and_times_read_well() {
        let table = [
            (0, "0 B"),
            (999, "999 B"),
            (1000, "1.00 kB"),
            (1_234_567, "1.23 MB"),
            (12_345_678, "12.3 MB"),
            (812_000_000, "812 MB"),
            (999_499_999, "999 MB"),
            (999_500_000, "1.00 GB"),
            (1_590_000_000, "1.59 GB"),
            (u64::MAX, "18.4 EB"),
        ];
        for (n, text) in table {
            assert_eq!(bytes(n), text, "{n}");
        }
        let table = [
            (0, "0 s"),
            (3, "3 s"),
            (99, "99 s"),
            (100, "2 min"),
            (5999, "100 min"),
            (6000, "1 h 40 min"),
            (7260, "2 h 1 min"),
        ];
        for (s, text) in table {
            assert_eq!(seconds(s), text, "{s}");
        }
    }
}
