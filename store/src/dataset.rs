//! The benchmark dataset, generated in memory: the one generator that the
//! store's benchmarks (`store/benches`) and `skein bench ingest` share, so a
//! fresh clone needs nothing outside the repository.
//!
//! Newline-delimited CLEF events of about 290 bytes each, with the mix of the
//! original Python generator (`gen-clef.py`) that the README's figures were
//! first measured on: 80% Information, 10% Debug, 7% Warning, 3% Error (errors
//! carry `@x`); five message templates in turn (event `i` uses template
//! `i % 5`) with typed properties; five applications; sixteen machines
//! (`web-00`..`web-15`, event `i` on `i % 16`); random 128-bit `TraceId` and
//! 64-bit `SpanId` (they limit compressibility, as real traces do); one event
//! per millisecond from 2025-01-01T00:00:00Z. The same seed gives the same
//! bytes; the random stream is SplitMix64, not Python's, so the values differ
//! from the script's while the distribution is the same.

use std::io::Write;

use crate::event::timestamp::civil_from_days;

/// The seed the benchmarks use unless told otherwise.
pub const DEFAULT_SEED: u64 = 42;

/// The levels with their share in percent.
pub const LEVELS: [(&str, u64); 4] = [
    ("Information", 80),
    ("Debug", 10),
    ("Warning", 7),
    ("Error", 3),
];
const APPS: [&str; 5] = ["billing", "checkout", "auth", "search", "inventory"];
const TEMPLATES: [&str; 5] = [
    "HTTP {RequestMethod} {RequestPath} responded {StatusCode} in {Elapsed:0.0000} ms",
    "User {UserId} logged in from {ClientIp}",
    "Order {OrderId} placed for {Amount} {Currency}",
    "Cache miss for key {CacheKey}",
    "Retrying {Operation} attempt {Attempt} of {MaxAttempts}",
];
const EXCEPTION: &str =
    "System.InvalidOperationException: boom\\n   at Foo.Bar() in /src/Foo.cs:line 42";
/// 2025-01-01T00:00:00Z in seconds since the epoch.
const START_SECS: i64 = 1_735_689_600;
const STEP_MICROS: u64 = 1000;

/// A small, fast, deterministic generator (SplitMix64).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        ((self.next_u64() as u128 * n as u128) >> 64) as u64
    }

    /// A number in `lo..=hi`.
    pub fn between(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }

    /// A float in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The level of a draw in `0..100`, by the shares of [`LEVELS`].
fn level(draw: u64) -> &'static str {
    let mut upto = 0;
    for (name, share) in LEVELS {
        upto += share;
        if draw < upto {
            return name;
        }
    }
    LEVELS[LEVELS.len() - 1].0
}

/// Appends event `i` of the dataset, as one CLEF line with its line feed.
pub fn write_event(i: u64, rng: &mut Rng, out: &mut Vec<u8>) {
    let level = level(rng.below(100));
    let k = (i % 5) as usize;
    out.extend_from_slice(b"{\"@t\":\"");
    write_time(i, out);
    let app = APPS[rng.below(5) as usize];
    let (trace_hi, trace_lo, span) = (rng.next_u64(), rng.next_u64(), rng.next_u64());
    // Writing to a Vec cannot fail.
    let _ = write!(
        out,
        "\",\"@mt\":\"{}\",\"@l\":\"{level}\",\"Application\":\"{app}\",\"MachineName\":\"web-{:02}\",\"TraceId\":\"{trace_hi:016x}{trace_lo:016x}\",\"SpanId\":\"{span:016x}\"",
        TEMPLATES[k],
        i % 16,
    );
    let _ = match k {
        0 => write!(
            out,
            ",\"RequestMethod\":\"{}\",\"RequestPath\":\"/api/orders/{}\",\"StatusCode\":{},\"Elapsed\":{}",
            ["GET", "POST"][rng.below(2) as usize],
            rng.between(1, 99_999),
            [200, 200, 200, 404, 500][rng.below(5) as usize],
            rng.unit() * 250.0
        ),
        1 => write!(
            out,
            ",\"UserId\":{},\"ClientIp\":\"10.{}.{}.{}\"",
            rng.between(1, 1_000_000),
            rng.below(256),
            rng.below(256),
            rng.between(1, 254)
        ),
        2 => write!(
            out,
            ",\"OrderId\":\"ORD-{i}\",\"Amount\":{},\"Currency\":\"EUR\"",
            (rng.unit() * 50_000.0).round() / 100.0
        ),
        3 => write!(out, ",\"CacheKey\":\"product:{}\"", rng.between(1, 50_000)),
        _ => write!(
            out,
            ",\"Operation\":\"db.query\",\"Attempt\":{},\"MaxAttempts\":3",
            rng.between(1, 3)
        ),
    };
    if level == "Error" {
        let _ = write!(out, ",\"@x\":\"{EXCEPTION}\"");
    }
    out.extend_from_slice(b"}\n");
}

/// The timestamp of event `i` as Python's `isoformat` writes it
/// (`2025-01-01T00:00:00.001000Z`, no fraction on whole seconds).
fn write_time(i: u64, out: &mut Vec<u8>) {
    let micros = i * STEP_MICROS;
    let secs = START_SECS + (micros / 1_000_000) as i64;
    let frac = micros % 1_000_000;
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let sod = secs.rem_euclid(86_400);
    let _ = write!(
        out,
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        sod / 3600,
        sod / 60 % 60,
        sod % 60
    );
    if frac != 0 {
        let _ = write!(out, ".{frac:06}");
    }
    out.push(b'Z');
}

/// The first `events` events of the dataset as one CLEF text.
pub fn clef(events: u64, seed: u64) -> Vec<u8> {
    clef_bodies(events, usize::MAX, seed)
        .pop()
        .unwrap_or_default()
}

/// The first `events` events of the dataset as CLEF bodies of at most
/// `batch` events each (a `batch` of 0 counts as 1).
pub fn clef_bodies(events: u64, batch: usize, seed: u64) -> Vec<Vec<u8>> {
    let batch = (batch.max(1) as u64).min(events.max(1));
    let mut rng = Rng::new(seed);
    let mut bodies = Vec::with_capacity(events.div_ceil(batch) as usize);
    let mut i = 0;
    while i < events {
        let n = batch.min(events - i);
        let mut body = Vec::with_capacity(n as usize * 300);
        for j in i..i + n {
            write_event(j, &mut rng, &mut body);
        }
        bodies.push(body);
        i += n;
    }
    bodies
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::parse_clef;

    #[test]
    fn the_same_seed_gives_the_same_bytes_and_another_seed_others() {
        assert_eq!(clef(2000, DEFAULT_SEED), clef(2000, DEFAULT_SEED));
        assert_ne!(clef(2000, DEFAULT_SEED), clef(2000, 7));
        // A longer run starts with the shorter one.
        assert!(clef(3000, 7).starts_with(&clef(2000, 7)));
    }

    #[test]
    fn batches_split_the_same_stream() {
        let one: Vec<u8> = clef_bodies(1234, 1000, 7).concat();
        assert_eq!(one, clef(1234, 7));
        let bodies = clef_bodies(1234, 100, 7);
        assert_eq!(bodies.len(), 13);
        assert_eq!(bodies.concat(), one);
        assert!(clef_bodies(0, 100, 7).is_empty());
        assert!(clef(0, 7).is_empty());
        assert_eq!(clef_bodies(3, 0, 7).len(), 3);
    }

    #[test]
    fn the_store_parses_every_event_with_its_level_template_and_fields() {
        let n = 20_000;
        let data = clef(n, DEFAULT_SEED);
        let events = parse_clef(&data).expect("valid CLEF");
        assert_eq!(events.len(), n as usize);
        let mean = data.len() / n as usize;
        assert!((270..310).contains(&mean), "{mean} bytes per event");
        for (i, e) in events.iter().enumerate() {
            let template = TEMPLATES[i % 5];
            assert_eq!(e.message_template.as_deref(), Some(template));
            for field in ["Application", "MachineName", "TraceId", "SpanId"] {
                assert!(e.property_raw(field).is_some(), "event {i} lacks {field}");
            }
            // Every property the template names is there.
            for name in template.split('{').skip(1) {
                let name = name.split(['}', ':']).next().unwrap_or_default();
                assert!(e.property_raw(name).is_some(), "event {i} lacks {name}");
            }
            assert_eq!(e.exception.is_some(), e.level.display() == "Error");
            let since_first = e.timestamp.0 - events[0].timestamp.0;
            assert_eq!(since_first, i as i64 * 1_000_000, "event {i} is {i} ms in");
        }
        let first = std::str::from_utf8(&data).unwrap().lines().next().unwrap();
        assert!(first.starts_with("{\"@t\":\"2025-01-01T00:00:00Z\",\"@mt\":\"HTTP "));
    }

    #[test]
    fn levels_come_in_their_shares() {
        let n = 100_000;
        for seed in [DEFAULT_SEED, 1, 2] {
            let text = String::from_utf8(clef(n, seed)).unwrap();
            // The shares of the Python original, not read from LEVELS.
            for (name, share) in [
                ("Information", 80),
                ("Debug", 10),
                ("Warning", 7),
                ("Error", 3),
            ] {
                let needle = format!("\"@l\":\"{name}\"");
                let count = text.lines().filter(|l| l.contains(&needle)).count();
                let percent = count as f64 * 100.0 / n as f64;
                assert!(
                    (percent - share as f64).abs() < 0.5,
                    "seed {seed}: {name} {percent:.2}% (want {share}%)"
                );
            }
        }
    }

    #[test]
    fn timestamps_cross_days_in_the_calendar() {
        let mut out = Vec::new();
        write_time(86_400_000, &mut out);
        assert_eq!(out, b"2025-01-02T00:00:00Z");
        out.clear();
        write_time(365 * 86_400_000 + 1, &mut out);
        assert_eq!(out, b"2026-01-01T00:00:00.001000Z");
    }

    #[test]
    fn level_draws_map_to_their_shares() {
        assert_eq!(level(0), "Information");
        assert_eq!(level(79), "Information");
        assert_eq!(level(80), "Debug");
        assert_eq!(level(89), "Debug");
        assert_eq!(level(90), "Warning");
        assert_eq!(level(96), "Warning");
        assert_eq!(level(97), "Error");
        assert_eq!(level(99), "Error");
    }
}
