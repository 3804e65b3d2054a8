//! Round-trip and corruption tests for the whole block codec.

use super::*;
use crate::event::{Event, EventId, EventView, JsonMap, Level, Severity, Timestamp};

fn event(t: i64, sev: Severity, props: &[(&str, &str)]) -> Event {
    Event {
        timestamp: Timestamp(t),
        level: Level {
            text: Some(sev.name().into()),
            severity: sev,
        },
        message_template: Some("Hello {Name}".into()),
        message: None,
        exception: None,
        trace_id: None,
        span_id: None,
        reified: JsonMap::new(),
        properties: JsonMap::from_raw_pairs(props.iter().copied()),
    }
}

/// A varied set: every field, odd names, escapes, big numbers, shapes.
fn sample() -> Vec<Event> {
    let mut full = event(
        -5,
        Severity::Error,
        &[("Name", "\"wörld\""), ("N", "12345678901234567890123")],
    );
    full.level.text = Some("ERR".into());
    full.message = Some("Hello \"wörld\"\n".into());
    full.exception = Some("System.Exception: boom\r\n   at X()".into());
    full.trace_id = Some("4bf92f3577b34da6a3ce929d0e0e4736".into());
    full.span_id = Some("00f067aa0ba902b7".into());
    full.reified = JsonMap::from_raw_pairs([
        ("@i", "\"a1b2c3d4\""),
        ("@r", "[\"12.30\"]"),
        ("@zz", "null"),
    ]);
    let mut bare = event(i64::MAX, Severity::Verbose, &[]);
    bare.level.text = None;
    bare.message_template = None;
    let mut v = vec![
        full,
        bare,
        event(
            i64::MIN,
            Severity::Fatal,
            &[("", "0"), ("a\\\"b", "-0.000e-7"), ("\\u00e9", "true")],
        ),
        event(
            3,
            Severity::Debug,
            &[("Dup", "1"), ("Dup", "2"), ("x y", "{\"a\": [1, 2.50]}")],
        ),
        event(
            0,
            Severity::Warning,
            &[("@Name", "\"at-escaped\""), ("😀", "\"emoji\"")],
        ),
    ];
    for i in 0..300 {
        let app = ["billing", "checkout", "auth"][i % 3];
        let mut e = event(1_000_000 * i as i64, Severity::Information, &[]);
        let mut b = crate::event::JsonMapBuilder::default();
        b.push("Application", &format!("\"{app}\""));
        b.push("Elapsed", &format!("{}.{:04}", i * 7, i));
        if i % 4 == 0 {
            b.push("StatusCode", &(200 + i % 5 * 100).to_string());
        }
        e.properties = b.finish();
        v.push(e);
    }
    v
}

fn round_trip(events: &[Event]) -> DecodedBlock {
    let enc = encode_block(events);
    let mut bytes = enc.to_bytes();
    assert_eq!(bytes.len() as u64, enc.header.block_len());
    bytes.extend_from_slice(b"trailing bytes are ignored");
    let d = decode_block(&bytes).unwrap();
    assert_eq!(d.len(), events.len());
    assert_eq!(d.to_events(), events);
    d
}

#[test]
fn empty_and_single_event_blocks_round_trip() {
    let d = round_trip(&[]);
    assert!(d.is_empty() && d.get(0).is_none());
    assert_eq!(d.header().event_count, 0);
    let d = round_trip(&[event(42, Severity::Information, &[("A", "1")])]);
    assert_eq!(d.header().min_ts, Timestamp(42));
    assert_eq!(d.event(0).property_raw("A"), Some("1"));
}

#[test]
fn varied_events_round_trip_and_views_match() {
    let events = sample();
    let d = round_trip(&events);
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for (e, v) in events.iter().zip(d.iter()) {
        assert_eq!(v.timestamp(), e.timestamp());
        assert_eq!(v.level_text(), e.level_text());
        assert_eq!(v.severity(), e.severity());
        assert_eq!(v.message_template(), e.message_template());
        assert_eq!(v.message(), e.message());
        assert_eq!(v.exception(), e.exception());
        assert_eq!(v.trace_id(), e.trace_id());
        assert_eq!(v.span_id(), e.span_id());
        for name in [
            "Name",
            "N",
            "",
            "a\"b",
            "é",
            "Dup",
            "@Name",
            "Missing",
            "Application",
        ] {
            assert_eq!(
                v.property_raw(name),
                EventView::property_raw(e, name),
                "{name}"
            );
        }
        assert_eq!(v.reified_raw("@i"), e.reified_raw("@i"));
        v.for_each_property(&mut |n, x| a.push(format!("{n}={x}")));
        e.for_each_property(&mut |n, x| b.push(format!("{n}={x}")));
        v.for_each_reified(&mut |n, x| a.push(format!("{n}={x}")));
        e.for_each_reified(&mut |n, x| b.push(format!("{n}={x}")));
    }
    assert_eq!(a, b);
    assert_eq!(d.event(3).property_raw("Dup"), Some("1"));
}

#[test]
fn header_carries_stats_and_ids_follow_arrival() {
    let events = sample();
    let enc = encode_block(&events);
    let h = enc.header;
    assert_eq!(
        (h.min_ts, h.max_ts),
        (Timestamp(i64::MIN), Timestamp(i64::MAX))
    );
    assert_eq!(h.level_counts, [1, 1, 300, 1, 1, 1]);
    assert_eq!((h.term, h.first_arrival), (0, 0));
    let mut written = enc.clone();
    written.header.first_arrival = 1000;
    written.header.term = 7;
    let d = decode_block(&written.to_bytes()).unwrap();
    assert_eq!(d.header().term, 7);
    let id = d.event(2).id().unwrap();
    assert_eq!(
        id,
        EventId {
            timestamp: Timestamp(i64::MIN),
            arrival: 1002
        }
    );
}

#[test]
fn columns_read_selectively() {
    let events = sample();
    let bytes = encode_block(&events).to_bytes();
    let cols = BlockColumns::open(&bytes).unwrap();
    assert_eq!(cols.len(), events.len());
    let ts: Vec<_> = events.iter().map(|e| e.timestamp).collect();
    assert_eq!(cols.timestamps().unwrap(), ts);
    let sev: Vec<_> = events.iter().map(|e| e.level.severity).collect();
    assert_eq!(cols.severities().unwrap(), sev);
    let levels = cols.level_texts().unwrap();
    assert!(levels
        .iter()
        .eq(events.iter().map(|e| e.level.text.as_deref())));
    let tpl = cols.templates().unwrap();
    assert!(tpl
        .iter()
        .eq(events.iter().map(|e| e.message_template.as_deref())));
    let trace = cols.strings(ColumnKind::TraceIds).unwrap();
    assert_eq!(trace.get(0), events[0].trace_id.as_deref());
    assert_eq!(trace.get(1), None);
    for name in ["StatusCode", "Application", "Dup", "é", "a\"b", ""] {
        let col = cols.property(name).unwrap().unwrap();
        assert_eq!(col.len(), events.len());
        assert!(
            col.iter()
                .eq(events.iter().map(|e| e.properties.get_raw(name))),
            "{name}"
        );
    }
    assert!(cols.property("Nope").unwrap().is_none());
    let i = cols.reified("@i").unwrap().unwrap();
    assert_eq!(i.get(0), Some("\"a1b2c3d4\""));
    assert_eq!(i.get(1), None);
    // Absent optional columns are left out of the payload entirely.
    let one = encode_block(&[event(1, Severity::Debug, &[])]).to_bytes();
    let kinds: Vec<_> = BlockColumns::open(&one)
        .unwrap()
        .directory()
        .iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(
        kinds,
        [
            ColumnKind::Timestamps,
            ColumnKind::Severities,
            ColumnKind::LevelTexts,
            ColumnKind::Templates
        ]
    );
}

#[test]
fn truncation_and_bit_flips_are_errors() {
    let bytes = encode_block(&sample()[..20]).to_bytes();
    for n in 0..bytes.len() {
        assert!(decode_block(&bytes[..n]).is_err(), "prefix {n}");
    }
    for at in (0..bytes.len()).step_by(7) {
        let mut b = bytes.clone();
        b[at] ^= 0x10;
        assert!(decode_block(&b).is_err(), "flip at {at}");
    }
    assert!(matches!(
        decode_block(&[]),
        Err(BlockError::Truncated { .. })
    ));
    let mut b = bytes.clone();
    let last = b.len() - 1;
    b[last] ^= 1;
    assert_eq!(decode_block(&b).unwrap_err(), BlockError::PayloadChecksum);
}

/// Re-signs a payload so that corruption reaches the decoder itself.
fn resign(mut header: BlockHeader, payload: &[u8]) -> Vec<u8> {
    header.payload_len = payload.len() as u32;
    header.payload_crc = crc32c::crc32c(payload);
    let mut out = header.encode().to_vec();
    out.extend_from_slice(payload);
    out
}

#[test]
fn corrupt_payloads_past_the_checksum_never_panic() {
    let enc = encode_block(&sample());
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut errors = 0;
    for _ in 0..3000 {
        let mut p = enc.payload.clone();
        for _ in 0..1 + next() % 3 {
            let at = (next() % p.len() as u64) as usize;
            p[at] = next() as u8;
        }
        if next() % 4 == 0 {
            p.truncate((next() % p.len() as u64) as usize);
        }
        match decode_block(&resign(enc.header, &p)) {
            Err(BlockError::Corrupt(_)) => errors += 1,
            Err(e) => panic!("unexpected error {e}"),
            Ok(d) => assert_eq!(d.len(), enc.header.event_count as usize),
        }
    }
    assert!(errors > 1000, "{errors}");
    // A forged event count cannot make the decoder allocate for it.
    let mut h = enc.header;
    h.event_count = u32::MAX;
    assert!(decode_block(&resign(h, &enc.payload)).is_err());
    // Nor can a forged column count or a huge declared column size.
    assert!(decode_block(&resign(enc.header, &[0xff, 0xff, 0xff, 0x0f])).is_err());
    let mut p = vec![1, 1, 0, 1, 1];
    p.extend_from_slice(&[0xff, 0xff, 0xff, 0xff, 0x0f, 0]);
    assert!(decode_block(&resign(enc.header, &p)).is_err());
}
