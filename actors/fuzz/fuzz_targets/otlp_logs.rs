//! Fuzzes the OTLP logs decoder (`skein_otlp::decode_logs`): what an
//! OpenTelemetry exporter — or anyone — posts to `/ingest/otlp/v1/logs`.
//! Nothing may panic, whatever the bytes.
//!
//! Input byte 0 picks the encoding (even: protobuf, odd: OTLP/JSON); the
//! rest is the body. Every event a body decodes to is encoded into a block
//! and decoded back, as the store would keep it, and must come back equal.

#![no_main]

use libfuzzer_sys::fuzz_target;
use skein_otlp::{decode_logs, Encoding};
use skein_store::block::{decode_block, encode_block};

fuzz_target!(|data: &[u8]| {
    let Some((&mode, body)) = data.split_first() else {
        return;
    };
    let encoding = match mode % 2 {
        0 => Encoding::Protobuf,
        _ => Encoding::Json,
    };
    let Ok(events) = decode_logs(body, encoding) else {
        return;
    };
    if events.is_empty() {
        return;
    }
    let block = encode_block(&events);
    let decoded = decode_block(&block.to_bytes()).expect("a block the encoder made decodes");
    for (i, e) in events.iter().enumerate() {
        assert_eq!(&decoded.to_event(i), e, "event {i}");
    }
});
