//! Fuzzes the OTLP decoders (`skein_otlp::decode`): what an OpenTelemetry
//! exporter — or anyone — posts to `/ingest/otlp/v1/logs` and
//! `/ingest/otlp/v1/traces`. Nothing may panic, whatever the bytes.
//!
//! Input byte 0 picks the encoding (bit 0: protobuf or OTLP/JSON) and the
//! signal (bit 1: logs or traces); the rest is the body. Every event a body decodes to is encoded into a block
//! and decoded back, as the store would keep it, and must come back equal.

#![no_main]

use libfuzzer_sys::fuzz_target;
use skein_otlp::{decode, Encoding, Signal};
use skein_store::block::{decode_block, encode_block};

fuzz_target!(|data: &[u8]| {
    let Some((&mode, body)) = data.split_first() else {
        return;
    };
    let encoding = match mode & 1 {
        0 => Encoding::Protobuf,
        _ => Encoding::Json,
    };
    let signal = match mode & 2 {
        0 => Signal::Logs,
        _ => Signal::Traces,
    };
    let Ok(events) = decode(signal, body, encoding) else {
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
