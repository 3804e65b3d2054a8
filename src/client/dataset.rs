//! The benchmark dataset, generated in memory: CLEF events shaped like
//! `shared/bench/gen-clef.py` (about 290 bytes each; 80% Information, 10%
//! Debug, 7% Warning, 3% Error with `@x`; five message templates with typed
//! properties; random 128-bit `TraceId` and 64-bit `SpanId`; one event per
//! millisecond from 2025-01-01). The same seed gives the same bytes; the
//! random stream is not Python's, so the values differ from the script's.

use std::io::Write;

use bytes::Bytes;
use skein_store::event::timestamp::civil_from_days;

/// The seed the benchmarks use unless told otherwise.
pub const DEFAULT_SEED: u64 = 42;

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

/// Appends event `i` of the dataset, as one CLEF line with its line feed.
pub fn write_event(i: u64, rng: &mut Rng, out: &mut Vec<u8>) {
    let level = match rng.below(100) {
        0..80 => "Information",
        80..90 => "Debug",
        90..97 => "Warning",
        _ => "Error",
    };
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

/// `events` events of the dataset as CLEF bodies of at most `batch` events.
pub fn clef_bodies(events: u64, batch: usize, seed: u64) -> Vec<Bytes> {
    let batch = batch.max(1) as u64;
    let mut rng = Rng::new(seed);
    let mut bodies = Vec::with_capacity(events.div_ceil(batch) as usize);
    let mut i = 0;
    while i < events {
        let n = batch.min(events - i);
        let mut body = Vec::with_capacity(n as usize * 300);
        for j in i..i + n {
            write_event(j, &mut rng, &mut body);
        }
        bodies.push(Bytes::from(body));
        i += n;
    }
    bodies
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_valid_clef_of_the_expected_shape_and_deterministic() {
        let bodies = clef_bodies(10_000, 1000, DEFAULT_SEED);
        assert_eq!(bodies.len(), 10);
        assert_eq!(bodies, clef_bodies(10_000, 1000, DEFAULT_SEED));
        let all: Vec<u8> = bodies.iter().flat_map(|b| b.iter().copied()).collect();
        let mean = all.len() / 10_000;
        assert!((250..330).contains(&mean), "{mean} bytes per event");
        let events = skein_store::event::parse_clef(&all).expect("valid CLEF");
        assert_eq!(events.len(), 10_000);
        let text = String::from_utf8(all).unwrap();
        let first = text.lines().next().unwrap();
        assert!(first.starts_with("{\"@t\":\"2025-01-01T00:00:00Z\",\"@mt\":\"HTTP "));
        assert!(text
            .lines()
            .nth(1)
            .unwrap()
            .contains("2025-01-01T00:00:00.001000Z"));
        let errors = text
            .lines()
            .filter(|l| l.contains("\"@l\":\"Error\""))
            .count();
        assert!((150..450).contains(&errors), "{errors} errors");
        assert_eq!(
            errors,
            text.lines().filter(|l| l.contains("\"@x\"")).count()
        );
    }

    #[test]
    fn batches_split_the_same_stream() {
        let one: Vec<u8> = clef_bodies(1234, 1000, 7).concat();
        let other: Vec<u8> = clef_bodies(1234, 100, 7).concat();
        assert_eq!(one, other);
        assert_eq!(clef_bodies(1234, 100, 7).len(), 13);
    }
}
