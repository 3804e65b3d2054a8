//! The payload's column directory and column-selective reading.
//!
//! Payload layout (after the 96-byte header):
//!
//! ```text
//! varint column_count
//! column_count × { kind u8, varint index, codec u8, varint stored_len, varint raw_len }
//! the column bodies, in directory order, each stored_len bytes
//! ```
//!
//! Entries are sorted by (kind, index) without duplicates. `codec` 0 stores
//! the body as is, 1 compresses it with zstd on its own, so a scan
//! decompresses only the columns it touches. A column may be left out when
//! it holds nothing: absent string columns read as all-missing, absent map
//! sets as events without members.

use std::cell::RefCell;
use std::ops::Range;

use super::header::{BlockError, BlockHeader, HEADER_LEN};
use super::maps::MapSchema;
use super::property::PropertyColumn;
use super::strings::StrColumn;
use super::varint::{corrupt, put_u64, unzigzag, Reader};
use crate::event::{Severity, Timestamp};

/// Largest total uncompressed size of one block's columns. A block whose
/// directory claims more is rejected before anything is allocated; writers
/// keep commit groups far below it.
pub const MAX_BLOCK_RAW_BYTES: u64 = 1 << 30;

/// Store the body as is.
pub(crate) const CODEC_RAW: u8 = 0;
/// Compress the body with zstd.
pub(crate) const CODEC_ZSTD: u8 = 1;

/// What a column holds. The discriminant is its on-disk tag.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum ColumnKind {
    /// Zigzag varint deltas of `@t` nanoseconds (the first from 0).
    Timestamps = 1,
    /// One byte per event: `Severity as u8`.
    Severities = 2,
    /// `@l` as sent ([`StrColumn`]).
    LevelTexts = 3,
    /// `@mt` ([`StrColumn`]).
    Templates = 4,
    /// `@m` ([`StrColumn`]).
    Messages = 5,
    /// `@x` ([`StrColumn`]).
    Exceptions = 6,
    /// `@tr` ([`StrColumn`]).
    TraceIds = 7,
    /// `@sp` ([`StrColumn`]).
    SpanIds = 8,
    /// Names and shapes of the other `@`-fields ([`MapSchema`]).
    ReifiedSchema = 9,
    /// Values of reified name `index` ([`StrColumn`] of raw JSON).
    ReifiedValues = 10,
    /// Property names and shapes ([`MapSchema`]).
    PropertySchema = 11,
    /// Values of property name `index` ([`StrColumn`] of raw JSON).
    PropertyValues = 12,
}

impl ColumnKind {
    fn from_u8(v: u8) -> Option<ColumnKind> {
        use ColumnKind::*;
        [
            Timestamps,
            Severities,
            LevelTexts,
            Templates,
            Messages,
            Exceptions,
            TraceIds,
            SpanIds,
            ReifiedSchema,
            ReifiedValues,
            PropertySchema,
            PropertyValues,
        ]
        .get((v as usize).wrapping_sub(1))
        .copied()
    }
}

/// One directory entry: where a column lies and how it is stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ColumnEntry {
    /// What the column holds.
    pub kind: ColumnKind,
    /// The name id for value columns, 0 otherwise.
    pub index: u32,
    codec: u8,
    body: Range<usize>,
    raw_len: usize,
}

impl ColumnEntry {
    /// Bytes the column takes in the payload.
    pub fn stored_len(&self) -> usize {
        self.body.len()
    }

    /// Bytes once decompressed.
    pub fn raw_len(&self) -> usize {
        self.raw_len
    }
}

/// Appends a directory entry (used by the encoder).
pub(crate) fn put_entry(
    out: &mut Vec<u8>,
    kind: ColumnKind,
    index: u32,
    codec: u8,
    stored: usize,
    raw: usize,
) {
    out.push(kind as u8);
    put_u64(out, index as u64);
    out.push(codec);
    put_u64(out, stored as u64);
    put_u64(out, raw as u64);
}

thread_local! {
    static DECOMPRESSOR: RefCell<Option<zstd::bulk::Decompressor<'static>>> =
        const { RefCell::new(None) };
}

/// A verified block whose columns are decoded on demand.
#[derive(Clone, Debug)]
pub struct BlockColumns<'a> {
    header: BlockHeader,
    payload: &'a [u8],
    directory: Vec<ColumnEntry>,
}

impl<'a> BlockColumns<'a> {
    /// Verifies the header and payload checksums of the block at the start of
    /// `bytes` (bytes after the block are ignored) and reads its directory.
    pub fn open(bytes: &'a [u8]) -> Result<BlockColumns<'a>, BlockError> {
        let header = BlockHeader::decode(bytes)?;
        let end = HEADER_LEN + header.payload_len as usize;
        if bytes.len() < end {
            return Err(BlockError::Truncated {
                needed: end,
                have: bytes.len(),
            });
        }
        let payload = &bytes[HEADER_LEN..end];
        header.verify_payload(payload)?;
        let mut r = Reader::new(payload);
        let count = r.count()?;
        let mut entries = Vec::with_capacity(count);
        let mut total_raw = 0u64;
        for _ in 0..count {
            let kind =
                ColumnKind::from_u8(r.u8()?).ok_or_else(|| corrupt("unknown column kind"))?;
            let index = r.u32()?;
            let codec = r.u8()?;
            let (stored, raw) = (r.u64()?, r.u64()?);
            total_raw = total_raw.saturating_add(raw);
            if codec > CODEC_ZSTD || (codec == CODEC_RAW && stored != raw) {
                return Err(corrupt("bad column codec"));
            }
            if total_raw > MAX_BLOCK_RAW_BYTES || stored > payload.len() as u64 {
                return Err(corrupt("column too large"));
            }
            entries.push((kind, index, codec, stored as usize, raw as usize));
        }
        let mut at = payload.len() - r.remaining();
        let mut directory = Vec::with_capacity(count);
        for (kind, index, codec, stored, raw_len) in entries {
            let end = at.checked_add(stored).filter(|&e| e <= payload.len());
            let end = end.ok_or_else(|| corrupt("column past end of payload"))?;
            if directory
                .last()
                .is_some_and(|e: &ColumnEntry| (e.kind, e.index) >= (kind, index))
            {
                return Err(corrupt("column directory out of order"));
            }
            directory.push(ColumnEntry {
                kind,
                index,
                codec,
                body: at..end,
                raw_len,
            });
            at = end;
        }
        if at != payload.len() {
            return Err(corrupt("bytes after the last column"));
        }
        Ok(BlockColumns {
            header,
            payload,
            directory,
        })
    }

    /// The block's header.
    pub fn header(&self) -> &BlockHeader {
        &self.header
    }

    /// Number of events.
    pub fn len(&self) -> usize {
        self.header.event_count as usize
    }

    /// True when the block holds no events.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The column directory, in on-disk order.
    pub fn directory(&self) -> &[ColumnEntry] {
        &self.directory
    }

    /// The uncompressed body of a column, `None` when it is absent.
    pub fn column_bytes(
        &self,
        kind: ColumnKind,
        index: u32,
    ) -> Result<Option<Vec<u8>>, BlockError> {
        let Ok(at) = self
            .directory
            .binary_search_by(|e| (e.kind, e.index).cmp(&(kind, index)))
        else {
            return Ok(None);
        };
        let e = &self.directory[at];
        let body = &self.payload[e.body.clone()];
        if e.codec == CODEC_RAW {
            return Ok(Some(body.to_vec()));
        }
        let mut out = Vec::with_capacity(e.raw_len);
        let n = DECOMPRESSOR.with(|d| {
            let mut d = d.borrow_mut();
            if d.is_none() {
                *d = Some(zstd::bulk::Decompressor::new().map_err(|_| corrupt("zstd context"))?);
            }
            let d = d.as_mut().ok_or_else(|| corrupt("zstd context"))?;
            d.decompress_to_buffer(body, &mut out)
                .map_err(|_| corrupt("column does not decompress"))
        })?;
        if n != e.raw_len {
            return Err(corrupt("column decompresses to the wrong length"));
        }
        Ok(Some(out))
    }

    /// `@t` of every event.
    pub fn timestamps(&self) -> Result<Vec<Timestamp>, BlockError> {
        let Some(buf) = self.column_bytes(ColumnKind::Timestamps, 0)? else {
            return self.required_empty(Vec::new());
        };
        let mut r = Reader::new(&buf);
        if self.len() > r.remaining() {
            return Err(corrupt("too few timestamps"));
        }
        let mut out = Vec::with_capacity(self.len());
        let mut t = 0i64;
        for _ in 0..self.len() {
            t = t.wrapping_add(unzigzag(r.u64()?));
            out.push(Timestamp(t));
        }
        r.finish("timestamps")?;
        Ok(out)
    }

    /// The canonical severity of every event.
    pub fn severities(&self) -> Result<Vec<Severity>, BlockError> {
        let Some(buf) = self.column_bytes(ColumnKind::Severities, 0)? else {
            return self.required_empty(Vec::new());
        };
        if buf.len() != self.len() {
            return Err(corrupt("wrong number of severities"));
        }
        buf.iter()
            .map(|&b| Severity::from_u8(b).ok_or_else(|| corrupt("unknown severity")))
            .collect()
    }

    fn required_empty<T>(&self, empty: T) -> Result<T, BlockError> {
        if self.is_empty() {
            Ok(empty)
        } else {
            Err(corrupt("required column missing"))
        }
    }

    /// A string column by kind (`LevelTexts`, `Templates`, `Messages`,
    /// `Exceptions`, `TraceIds`, `SpanIds`); absent columns read as all-missing.
    pub fn strings(&self, kind: ColumnKind) -> Result<StrColumn, BlockError> {
        match self.column_bytes(kind, 0)? {
            Some(buf) => StrColumn::decode(buf, self.len()),
            None => Ok(StrColumn::nulls(self.len())),
        }
    }

    /// `@l` as sent, per event.
    pub fn level_texts(&self) -> Result<StrColumn, BlockError> {
        self.strings(ColumnKind::LevelTexts)
    }

    /// `@mt`, per event.
    pub fn templates(&self) -> Result<StrColumn, BlockError> {
        self.strings(ColumnKind::Templates)
    }

    /// The schema of a map set (`PropertySchema` or `ReifiedSchema`).
    pub fn schema(&self, kind: ColumnKind) -> Result<MapSchema, BlockError> {
        match self.column_bytes(kind, 0)? {
            Some(buf) => MapSchema::decode(&buf, self.len()),
            None => Ok(MapSchema::empty(self.len())),
        }
    }

    /// Value column `id` of a map set (`PropertyValues` or `ReifiedValues`),
    /// checked against the number of values `schema` says it holds.
    pub fn values(
        &self,
        kind: ColumnKind,
        schema: &MapSchema,
        id: u32,
    ) -> Result<StrColumn, BlockError> {
        let expect = schema.occurrences().get(id as usize).copied().unwrap_or(0);
        self.values_expecting(kind, id, expect)
    }

    pub(crate) fn values_expecting(
        &self,
        kind: ColumnKind,
        id: u32,
        expect: u64,
    ) -> Result<StrColumn, BlockError> {
        let buf = self.column_bytes(kind, id)?;
        let buf = buf.ok_or_else(|| corrupt("map value column missing"))?;
        let rows = usize::try_from(expect).map_err(|_| corrupt("too many map values"))?;
        StrColumn::decode(buf, rows)
    }

    /// Each event's raw JSON value of property `name` (unescaped name),
    /// or `None` when no event in the block has it.
    pub fn property(&self, name: &str) -> Result<Option<PropertyColumn>, BlockError> {
        self.map_field(ColumnKind::PropertySchema, ColumnKind::PropertyValues, name)
    }

    /// Each event's raw JSON value of reified field `name` (with its `@`).
    pub fn reified(&self, name: &str) -> Result<Option<PropertyColumn>, BlockError> {
        self.map_field(ColumnKind::ReifiedSchema, ColumnKind::ReifiedValues, name)
    }

    fn map_field(
        &self,
        schema: ColumnKind,
        values: ColumnKind,
        name: &str,
    ) -> Result<Option<PropertyColumn>, BlockError> {
        let schema = self.schema(schema)?;
        let ids = schema.ids_of(name);
        if ids.is_empty() {
            return Ok(None);
        }
        let occ = schema.occurrences();
        let mut columns = Vec::with_capacity(ids.len());
        for &id in &ids {
            columns.push(self.values_expecting(values, id, occ[id as usize])?);
        }
        Ok(Some(PropertyColumn::build(&schema, &ids, columns)))
    }
}
