//! [`encode_block`]: turns a commit group of events into a block.
//!
//! Runs on the ingest threads: all the CPU work of storing events (column
//! building, zstd) happens here, so the store writer only writes and fsyncs.

use std::cell::RefCell;

use super::columns::{put_entry, ColumnKind, CODEC_RAW, CODEC_ZSTD};
use super::header::BlockHeader;
use super::maps::MapEncoder;
use super::strings::StrEncoder;
use super::varint::{put_u64, zigzag};
use crate::event::{Event, Timestamp};

/// zstd level for column bodies (measured in `benches/codec.rs`).
pub const ZSTD_LEVEL: i32 = 3;
/// Bodies smaller than this are stored uncompressed.
const MIN_COMPRESS: usize = 64;

thread_local! {
    static COMPRESSOR: RefCell<Option<zstd::bulk::Compressor<'static>>> =
        const { RefCell::new(None) };
}

/// A block ready to write: its header and payload.
///
/// `term`, `generation` and `first_arrival` are left 0 for the store writer
/// to set; the header's checksum is computed when it is encoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EncodedBlock {
    /// The header, with payload length and crc, event count, time range and
    /// level counts filled in.
    pub header: BlockHeader,
    /// The columnar payload.
    pub payload: Vec<u8>,
}

impl EncodedBlock {
    /// The block as written to disk: the encoded header, then the payload.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.header.block_len() as usize);
        out.extend_from_slice(&self.header.encode());
        out.extend_from_slice(&self.payload);
        out
    }
}

/// Encodes `events` (in arrival order) as one block.
///
/// An empty slice gives a valid block of zero events whose time range is
/// `0..=0`. Each event's text fields and properties are stored exactly, so
/// decoding gives back equal events.
pub fn encode_block(events: &[Event]) -> EncodedBlock {
    let mut columns: Vec<(ColumnKind, u32, Vec<u8>)> = Vec::new();
    let mut header = BlockHeader {
        event_count: events.len() as u32,
        ..BlockHeader::default()
    };

    let mut ts = Vec::with_capacity(events.len() * 3);
    let mut sev = Vec::with_capacity(events.len());
    let mut prev = 0i64;
    let (mut min, mut max) = (i64::MAX, i64::MIN);
    let mut strings: [StrEncoder; 6] = Default::default();
    let (mut props, mut reified) = (MapEncoder::default(), MapEncoder::default());
    for e in events {
        let t = e.timestamp.0;
        put_u64(&mut ts, zigzag(t.wrapping_sub(prev)));
        prev = t;
        (min, max) = (min.min(t), max.max(t));
        sev.push(e.level.severity as u8);
        header.level_counts[e.level.severity as usize] += 1;
        let texts = [
            &e.level.text,
            &e.message_template,
            &e.message,
            &e.exception,
            &e.trace_id,
            &e.span_id,
        ];
        for (enc, v) in strings.iter_mut().zip(texts) {
            enc.push(v.as_deref());
        }
        props.push(&e.properties);
        reified.push(&e.reified);
    }
    if !events.is_empty() {
        (header.min_ts, header.max_ts) = (Timestamp(min), Timestamp(max));
        columns.push((ColumnKind::Timestamps, 0, ts));
        columns.push((ColumnKind::Severities, 0, sev));
    }
    let kinds = [
        ColumnKind::LevelTexts,
        ColumnKind::Templates,
        ColumnKind::Messages,
        ColumnKind::Exceptions,
        ColumnKind::TraceIds,
        ColumnKind::SpanIds,
    ];
    for (kind, enc) in kinds.into_iter().zip(&strings) {
        if !enc.all_null() {
            columns.push((kind, 0, enc.finish()));
        }
    }
    for (enc, schema, values) in [
        (
            &reified,
            ColumnKind::ReifiedSchema,
            ColumnKind::ReifiedValues,
        ),
        (
            &props,
            ColumnKind::PropertySchema,
            ColumnKind::PropertyValues,
        ),
    ] {
        if enc.is_empty() {
            continue;
        }
        let (body, value_bodies) = enc.finish();
        columns.push((schema, 0, body));
        for (id, b) in value_bodies.into_iter().enumerate() {
            columns.push((values, id as u32, b));
        }
    }
    let payload = assemble(&columns);
    header.payload_len = payload.len() as u32;
    header.payload_crc = crc32c::crc32c(&payload);
    EncodedBlock { header, payload }
}

/// Compresses each column and lays out directory + bodies.
fn assemble(columns: &[(ColumnKind, u32, Vec<u8>)]) -> Vec<u8> {
    let stored: Vec<Option<Vec<u8>>> = COMPRESSOR.with(|c| {
        let mut c = c.borrow_mut();
        if c.is_none() {
            *c = zstd::bulk::Compressor::new(ZSTD_LEVEL).ok();
        }
        columns
            .iter()
            .map(|(_, _, raw)| match c.as_mut() {
                Some(c) if raw.len() >= MIN_COMPRESS => {
                    c.compress(raw).ok().filter(|z| z.len() < raw.len())
                }
                _ => None,
            })
            .collect()
    });
    let body_len: usize = columns
        .iter()
        .zip(&stored)
        .map(|((_, _, raw), z)| z.as_ref().map_or(raw.len(), Vec::len))
        .sum();
    let mut out = Vec::with_capacity(body_len + 8 * columns.len() + 8);
    put_u64(&mut out, columns.len() as u64);
    for ((kind, index, raw), z) in columns.iter().zip(&stored) {
        let (codec, len) = z
            .as_ref()
            .map_or((CODEC_RAW, raw.len()), |z| (CODEC_ZSTD, z.len()));
        put_entry(&mut out, *kind, *index, codec, len, raw.len());
    }
    for ((_, _, raw), z) in columns.iter().zip(&stored) {
        out.extend_from_slice(z.as_deref().unwrap_or(raw));
    }
    out
}
