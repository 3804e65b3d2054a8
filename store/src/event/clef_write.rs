//! [`write_clef`]: any event back out as one CLEF line, for
//! `GET /api/events?clef` and exports.
//!
//! `@t` is written in Seq's form with every stored digit (7, or 9 when
//! needed). The line parses back ([`super::parse_clef`]) to the same event: `@t` is
//! written with full precision, typed fields as JSON strings, reified fields
//! and properties raw in their stored order, and property names that start
//! with `@` are escaped by doubling the `@`.

use super::raw::escape_into;
use super::timestamp::write_timestamp;
use super::view::EventView;

/// Appends one CLEF line for `e` to `out`, without a newline.
pub fn write_clef<E: EventView + ?Sized>(e: &E, out: &mut Vec<u8>) {
    let mut s = String::with_capacity(256);
    write_clef_string(e, &mut s);
    out.extend_from_slice(s.as_bytes());
}

/// Appends one CLEF line for `e` to a `String`, without a newline.
pub fn write_clef_string<E: EventView + ?Sized>(e: &E, out: &mut String) {
    out.push_str("{\"@t\":\"");
    write_timestamp(e.timestamp(), out);
    out.push('"');
    let typed = [
        ("@mt", e.message_template()),
        ("@m", e.message()),
        ("@l", e.level_text()),
        ("@x", e.exception()),
        ("@tr", e.trace_id()),
        ("@sp", e.span_id()),
    ];
    for (name, value) in typed {
        if let Some(v) = value {
            out.push_str(",\"");
            out.push_str(name);
            out.push_str("\":\"");
            escape_into(v, out);
            out.push('"');
        }
    }
    e.for_each_reified(&mut |name, value| {
        out.push_str(",\"");
        out.push_str(name);
        out.push_str("\":");
        out.push_str(value);
    });
    e.for_each_property(&mut |name, value| {
        out.push_str(if name.starts_with('@') { ",\"@" } else { ",\"" });
        out.push_str(name);
        out.push_str("\":");
        out.push_str(value);
    });
    out.push('}');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::clef::parse_clef;
    use crate::event::model::Event;

    fn round_trip(line: &str) -> Event {
        let parsed = parse_clef(line.as_bytes()).expect(line);
        assert_eq!(parsed.len(), 1);
        let mut out = Vec::new();
        write_clef(&parsed[0], &mut out);
        let again =
            parse_clef(&out).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out)));
        assert_eq!(again, parsed, "{}", String::from_utf8_lossy(&out));
        // Writing is stable too.
        let mut out2 = Vec::new();
        write_clef(&again[0], &mut out2);
        assert_eq!(out, out2);
        parsed.into_iter().next().unwrap()
    }

    #[test]
    fn varied_events_round_trip() {
        for line in [
            r#"{"@t":"2025-01-01T00:00:00Z"}"#,
            r#"{"@t":"2025-01-01T00:00:00.123456789+02:00","@l":"warn","@mt":"Hi {A}","@m":"Hi 1","A":1}"#,
            r#"{"@t":"2025-01-01 00:00:00.1","Big":12345678901234567890123,"Dec":1.10,"Exp":-1.5e-300}"#,
            r#"{"@t":"2025-01-01T00:00:00Z","N":{"a":[1, 2,{"b":null}],"c":"✓ é \u00e9"},"E":[]}"#,
            r#"{"@t":"2025-01-01T00:00:00Z","q\"uo\\te":"x","\u0041":"y","tab\tname":"\n","ünï":"😀"}"#,
            r#"{"@t":"2025-01-01T00:00:00Z","@@at":1,"@@@x":2,"@i":"a1b2c3d4","@r":[],"@st":"2025-01-01T00:00:00Z","@ps":"p","@sk":"Server","@custom":{"k":1}}"#,
            r#"{"@t":"2025-01-01T00:00:00Z","@x":"Boom\r\n  at X\u0000","@tr":"0af7651916cd43dd8448eb211c80319c","@sp":"b7ad6b7169203331"}"#,
            r#"{"@t":"1677-09-22T00:00:00.0000001Z","@l":"","@mt":"","@m":""}"#,
        ] {
            round_trip(line);
        }
    }

    #[test]
    fn at_names_are_doubled_back() {
        let e = round_trip(r#"{"@t":"2025-01-01T00:00:00Z","@@a":1,"@i":7}"#);
        assert_eq!(e.properties.as_json(), r#"{"@a":1}"#);
        let mut out = Vec::new();
        write_clef(&e, &mut out);
        let s = String::from_utf8(out).unwrap();
        assert_eq!(s, r#"{"@t":"2025-01-01T00:00:00.0000000Z","@i":7,"@@a":1}"#);
        assert!(s.contains("\"@@a\":1"));
    }

    #[test]
    fn sub_100ns_precision_is_kept() {
        let e = round_trip(r#"{"@t":"2025-01-01T00:00:00.000000001Z"}"#);
        assert_eq!(e.timestamp.0 % 1_000_000_000, 1);
    }
}
