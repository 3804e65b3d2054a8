//! Fuzzes the block decoder: it must return `Ok` or a `BlockError`, never
//! panic or allocate without bound, whatever the bytes.
//!
//! Input byte 0 picks the mode:
//! - even: the remaining bytes are decoded as a block (checksums stop most);
//! - odd: a valid block's payload is edited with the remaining bytes (pairs
//!   of position, xor value; a final odd byte truncates) and re-signed with a
//!   correct crc, so the edits reach the column decoders themselves.
//!
//! Whatever decodes is then read through every accessor.

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use skein_store::block::{decode_block, encode_block, BlockColumns, ColumnKind, EncodedBlock};
use skein_store::event::{Event, EventView, JsonMap, Level, Severity, Timestamp};

fn seed_block() -> &'static EncodedBlock {
    static BLOCK: OnceLock<EncodedBlock> = OnceLock::new();
    BLOCK.get_or_init(|| {
        let events: Vec<Event> = (0..40)
            .map(|i| Event {
                timestamp: Timestamp(1_700_000_000_000_000_000 + i * 1_000_000),
                level: Level {
                    text: Some(["Information", "Error", "warn"][i as usize % 3].into()),
                    severity: [Severity::Information, Severity::Error, Severity::Warning]
                        [i as usize % 3],
                },
                message_template: Some("User {UserId} did {Thing}".into()),
                message: (i % 5 == 0).then(|| "rendered \"text\"".into()),
                exception: (i % 7 == 0).then(|| "boom\n at X()".into()),
                trace_id: (i % 2 == 0).then(|| format!("{:032x}", i * 7919).into()),
                span_id: (i % 2 == 0).then(|| format!("{:016x}", i * 31).into()),
                reified: if i % 3 == 0 {
                    JsonMap::from_raw_pairs([("@i", "\"0xdead\""), ("@r", "[\"1.0\"]")])
                } else {
                    JsonMap::new()
                },
                properties: {
                    let user = (i * 12345).to_string();
                    let pairs = [
                        ("UserId", user.as_str()),
                        ("Thing", ["\"a\"", "\"b\\u00e9\""][i as usize % 2]),
                        ("Big", "123456789012345678901234567890"),
                        ("n\\\"q", "{\"x\":[1,2]}"),
                    ];
                    JsonMap::from_raw_pairs(pairs.into_iter().take(1 + i as usize % 4))
                },
            })
            .collect();
        encode_block(&events)
    })
}

fn exercise(bytes: &[u8]) {
    if let Ok(d) = decode_block(bytes) {
        for e in d.iter().rev() {
            let _ = (
                e.id(),
                e.timestamp(),
                e.severity(),
                e.level_display(),
                e.message_template(),
            );
            let _ = (
                e.message(),
                e.exception(),
                e.trace_id(),
                e.span_id(),
                e.property_raw("Thing"),
            );
            let _ = e.reified_raw("@i");
            e.for_each_property(&mut |n, v| assert!(n.len() + v.len() < bytes.len() * 64 + 1024));
            e.for_each_reified(&mut |_, _| {});
        }
        let events = d.to_events();
        assert_eq!(events.len(), d.len());
    }
    if let Ok(cols) = BlockColumns::open(bytes) {
        let _ = cols.timestamps();
        let _ = cols.severities();
        let _ = cols.strings(ColumnKind::Messages);
        let _ = cols.property("UserId");
        let _ = cols.reified("@i");
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode % 2 == 0 {
        exercise(rest);
        return;
    }
    let block = seed_block();
    let mut payload = block.payload.clone();
    let mut edits = rest.chunks_exact(2);
    for pair in &mut edits {
        if !payload.is_empty() {
            let at = (pair[0] as usize * 7 + mode as usize) % payload.len();
            payload[at] ^= pair[1];
        }
    }
    if let [cut] = edits.remainder() {
        let keep = payload.len() * *cut as usize / 255;
        payload.truncate(keep);
    }
    let mut header = block.header;
    header.payload_len = payload.len() as u32;
    header.payload_crc = crc32c::crc32c(&payload);
    let mut bytes = header.encode().to_vec();
    bytes.extend_from_slice(&payload);
    exercise(&bytes);
});
