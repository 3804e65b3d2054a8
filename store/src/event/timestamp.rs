//! ISO 8601 timestamps: [`parse_timestamp`] and [`format_timestamp`].
//!
//! Hand-rolled (days-from-civil) because every ingested event goes through
//! here. Accepted: `YYYY-MM-DD`, a `T`/`t` or space separator, `hh:mm:ss`,
//! 0–9 fractional digits (all kept, as nanoseconds; more than 9 are rejected),
//! then `Z`/`z`, `±hh:mm`, `±hhmm`, `±hh` or nothing (UTC). The output form is
//! Seq's: `2025-01-01T00:00:00.0000000Z`, with 9 digits when the value has
//! sub-100 ns digits so nothing is lost.

use super::model::Timestamp;

const NANOS_PER_SEC: i64 = 1_000_000_000;
const SECS_PER_DAY: i64 = 86_400;

/// Why a timestamp was rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TimestampError {
    /// The text is not of the form `YYYY-MM-DDThh:mm:ss[.f][offset]`.
    #[error("expected an ISO 8601 date and time like 2025-01-01T00:00:00.000Z")]
    Format,
    /// The fields are well-formed but do not name a real date or time.
    #[error("no such date or time")]
    InvalidDate,
    /// The offset is not a valid `±hh:mm`.
    #[error("invalid utc offset")]
    InvalidOffset,
    /// The instant is outside 1677-09-21..2262-04-11 (i64 nanoseconds).
    #[error("outside the storable range 1677-09-21 to 2262-04-11")]
    OutOfRange,
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// `days_from_civil`).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The (year, month, day) of a day number since 1970-01-01.
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

fn is_leap(y: i64) -> bool {
    y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Reads `n` ASCII digits at `pos`.
fn digits(b: &[u8], pos: usize, n: usize) -> Result<u32, TimestampError> {
    let s = b.get(pos..pos + n).ok_or(TimestampError::Format)?;
    let mut v = 0u32;
    for &c in s {
        if !c.is_ascii_digit() {
            return Err(TimestampError::Format);
        }
        v = v * 10 + (c - b'0') as u32;
    }
    Ok(v)
}

fn expect(b: &[u8], pos: usize, c: u8) -> Result<(), TimestampError> {
    if b.get(pos) == Some(&c) {
        Ok(())
    } else {
        Err(TimestampError::Format)
    }
}

/// Parses an ISO 8601 / RFC 3339 date and time into UTC nanoseconds.
pub fn parse_timestamp(text: &str) -> Result<Timestamp, TimestampError> {
    let b = text.as_bytes();
    let year = digits(b, 0, 4)? as i64;
    expect(b, 4, b'-')?;
    let month = digits(b, 5, 2)?;
    expect(b, 7, b'-')?;
    let day = digits(b, 8, 2)?;
    match b.get(10) {
        Some(b'T' | b't' | b' ') => {}
        _ => return Err(TimestampError::Format),
    }
    let hour = digits(b, 11, 2)?;
    expect(b, 13, b':')?;
    let minute = digits(b, 14, 2)?;
    expect(b, 16, b':')?;
    let second = digits(b, 17, 2)?;
    let mut pos = 19;
    let mut nanos = 0i64;
    if b.get(pos) == Some(&b'.') {
        pos += 1;
        let start = pos;
        while pos < b.len() && b[pos].is_ascii_digit() {
            if pos - start == 9 {
                return Err(TimestampError::Format);
            }
            nanos = nanos * 10 + (b[pos] - b'0') as i64;
            pos += 1;
        }
        let n = pos - start;
        if n == 0 {
            return Err(TimestampError::Format);
        }
        nanos *= 10i64.pow(9 - n as u32);
    }
    let offset_secs = parse_offset(&b[pos..])?;
    if !(1..=12).contains(&month)
        || day == 0
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return Err(TimestampError::InvalidDate);
    }
    let days = days_from_civil(year, month, day);
    let secs = days * SECS_PER_DAY + (hour * 3600 + minute * 60 + second) as i64 - offset_secs;
    let total = secs as i128 * NANOS_PER_SEC as i128 + nanos as i128;
    i64::try_from(total)
        .map(Timestamp)
        .map_err(|_| TimestampError::OutOfRange)
}

/// The offset east of UTC in seconds: `""`, `Z`, `±hh`, `±hh:mm`, `±hhmm`.
fn parse_offset(b: &[u8]) -> Result<i64, TimestampError> {
    let sign = match b {
        [] | [b'Z' | b'z'] => return Ok(0),
        [b'+', ..] => 1,
        [b'-', ..] => -1,
        _ => return Err(TimestampError::Format),
    };
    let h = digits(b, 1, 2).map_err(|_| TimestampError::InvalidOffset)?;
    let m = match b.len() {
        3 => Ok(0),
        5 => digits(b, 3, 2),
        6 if b[3] == b':' => digits(b, 4, 2),
        _ => Err(TimestampError::InvalidOffset),
    }
    .map_err(|_| TimestampError::InvalidOffset)?;
    if h > 23 || m > 59 {
        return Err(TimestampError::InvalidOffset);
    }
    Ok(sign * (h * 3600 + m * 60) as i64)
}

/// Appends `v` as exactly `width` zero-padded digits.
fn push_digits(out: &mut String, v: u64, width: usize) {
    let mut buf = [b'0'; 20];
    let mut v = v;
    for i in (0..width).rev() {
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
    }
    // Only ASCII digits were written.
    out.push_str(std::str::from_utf8(&buf[..width]).unwrap_or_default());
}

/// Appends `t` in Seq's form (see [`format_timestamp`]) to `out`.
pub fn write_timestamp(t: Timestamp, out: &mut String) {
    let secs = t.0.div_euclid(NANOS_PER_SEC);
    let nanos = t.0.rem_euclid(NANOS_PER_SEC) as u64;
    let days = secs.div_euclid(SECS_PER_DAY);
    let sod = secs.rem_euclid(SECS_PER_DAY) as u64;
    let (y, m, d) = civil_from_days(days);
    push_digits(out, y as u64, 4);
    out.push('-');
    push_digits(out, m as u64, 2);
    out.push('-');
    push_digits(out, d as u64, 2);
    out.push('T');
    push_digits(out, sod / 3600, 2);
    out.push(':');
    push_digits(out, sod / 60 % 60, 2);
    out.push(':');
    push_digits(out, sod % 60, 2);
    out.push('.');
    if nanos.is_multiple_of(100) {
        push_digits(out, nanos / 100, 7);
    } else {
        push_digits(out, nanos, 9);
    }
    out.push('Z');
}

/// Formats `t` as Seq does: `2025-01-01T00:00:00.0000000Z` (7 fractional
/// digits, or 9 when the value has sub-100 ns digits).
pub fn format_timestamp(t: Timestamp) -> String {
    let mut s = String::with_capacity(30);
    write_timestamp(t, &mut s);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Result<i64, TimestampError> {
        parse_timestamp(s).map(|t| t.0)
    }

    #[test]
    fn parses_common_forms() {
        assert_eq!(p("1970-01-01T00:00:00Z"), Ok(0));
        assert_eq!(p("1970-01-01T00:00:00"), Ok(0));
        assert_eq!(p("1970-01-01t00:00:01z"), Ok(1_000_000_000));
        assert_eq!(p("2025-01-01T00:00:00Z"), Ok(1_735_689_600_000_000_000));
        assert_eq!(
            p("2025-01-01T00:00:00.001000Z"),
            Ok(1_735_689_600_001_000_000)
        );
        // seqlog: space separator, microseconds, +00:00
        assert_eq!(
            p("2026-11-25 16:43:33.837398+00:00"),
            p("2026-11-25T16:43:33.837398Z")
        );
        assert_eq!(p("1970-01-01T00:00:00.123456789Z"), Ok(123_456_789));
        assert_eq!(p("1970-01-01T00:00:00.5"), Ok(500_000_000));
        assert_eq!(p("1970-01-01T01:00:00+01:00"), Ok(0));
        assert_eq!(p("1970-01-01T01:30:00+0130"), Ok(0));
        assert_eq!(p("1970-01-01T00:00:00-02"), Ok(7200 * NANOS_PER_SEC));
        assert_eq!(p("1969-12-31T23:59:59.9999999Z"), Ok(-100));
        assert!(p("2024-02-29T12:00:00Z").is_ok());
    }

    #[test]
    fn rejects_bad_text_and_dates() {
        use TimestampError::*;
        for s in [
            "",
            "2025",
            "2025-01-01",
            "2025-01-01X00:00:00Z",
            "2025-01-01T00:00Z",
            "2025-1-01T00:00:00Z",
            "2025-01-01T00:00:00.Z",
            "2025-01-01T00:00:00.1234567890Z",
            "2025-01-01T00:00:00ZZ",
            "2025-01-01T00:00:00 ",
            "２０２５-01-01T00:00:00Z",
        ] {
            assert_eq!(p(s), Err(Format), "{s:?}");
        }
        for s in [
            "2025-02-29T00:00:00Z",
            "2025-13-01T00:00:00Z",
            "2025-00-10T00:00:00Z",
            "2025-04-31T00:00:00Z",
            "2025-01-01T24:00:00Z",
            "2025-01-01T00:60:00Z",
            "2025-01-01T00:00:60Z",
        ] {
            assert_eq!(p(s), Err(InvalidDate), "{s:?}");
        }
        assert_eq!(p("2025-01-01T00:00:00+25:00"), Err(InvalidOffset));
        assert_eq!(p("2025-01-01T00:00:00+01:0"), Err(InvalidOffset));
        assert_eq!(p("2025-01-01T00:00:00+0"), Err(InvalidOffset));
        assert_eq!(p("2262-04-12T00:00:00Z"), Err(OutOfRange));
        assert_eq!(p("1677-09-20T00:00:00Z"), Err(OutOfRange));
        assert_eq!(p("9999-12-31T23:59:59Z"), Err(OutOfRange));
        assert!(p("2262-04-11T00:00:00Z").is_ok());
        assert!(p("1677-09-22T00:00:00Z").is_ok());
    }

    #[test]
    fn formats_like_seq_and_round_trips() {
        assert_eq!(
            format_timestamp(Timestamp(0)),
            "1970-01-01T00:00:00.0000000Z"
        );
        assert_eq!(
            format_timestamp(Timestamp(1_735_689_600_001_000_000)),
            "2025-01-01T00:00:00.0010000Z"
        );
        assert_eq!(
            format_timestamp(Timestamp(123_456_789)),
            "1970-01-01T00:00:00.123456789Z"
        );
        assert_eq!(
            format_timestamp(Timestamp(-100)),
            "1969-12-31T23:59:59.9999999Z"
        );
        for t in [
            i64::MIN,
            i64::MAX,
            0,
            -1,
            1,
            1_735_689_600_000_000_123,
            -9_000_000_000_000_000_007,
        ] {
            let s = format_timestamp(Timestamp(t));
            assert_eq!(p(&s), Ok(t), "{s}");
        }
    }

    #[test]
    fn civil_conversions_agree() {
        for days in (-120_000..120_000).step_by(7) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }
}
