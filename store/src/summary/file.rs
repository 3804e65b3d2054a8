//! The summary file of a sealed segment, `seg-<id>.sum`: every block's
//! [`BlockSummary`], written when the segment seals.
//!
//! Layout (integers little-endian, varints LEB128):
//!
//! ```text
//! magic "SKS1"                       4 bytes
//! version                            u16 (SUMMARY_VERSION)
//! segment length, segment crc32c     u64, u32: the segment it describes
//! name_count, names                  varint; each varint len + UTF-8, sorted, unique
//! block_count                        varint; then per block:
//!   offset                           varint, increasing: where the block starts
//!   kind                             u8: 0 none (always scanned), 1 summary
//!   filter                           varint len (a multiple of 32) + bytes
//!   property_count, properties       varint; each varint name id (increasing),
//!                                    u8 range flag, then min and max numbers
//! crc32c of all the above            u32
//! ```
//!
//! A number is a tag byte and its value: 0 a zigzag varint `i64`, 1 an
//! `i128` (16 bytes), 2 a finite `f64` (8 bytes).
//!
//! The version covers the tokenization and the filter's parameters as well
//! as the layout: a change of either is a new version, and files of another
//! version are rebuilt. The file is derived data: the store rebuilds it from
//! its segment whenever it is missing, damaged or of another version.

use std::collections::BTreeSet;
use std::sync::Arc;

use sbbf_rs_safe::Filter;

use super::{BlockSummary, PropertyStats};
use crate::block::varint::{put_u64, unzigzag, zigzag, Reader};
use crate::block::BlockError;
use crate::query::Num;

const MAGIC: &[u8; 4] = b"SKS1";
/// The summary file format (layout, tokenization and filter parameters).
pub const SUMMARY_VERSION: u16 = 1;
/// Magic, version, segment length and crc.
const PREAMBLE: usize = 4 + 2 + 8 + 4;
/// Bytes of one filter bucket: a filter's length is a multiple of it.
const BUCKET: usize = 32;

/// Why a summary file cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SummaryError {
    /// Shorter than its fixed parts.
    #[error("summary file truncated ({0} bytes)")]
    Truncated(usize),
    /// Not a summary file.
    #[error("not a summary file: bad magic")]
    BadMagic,
    /// The checksum does not match: damaged or cut short.
    #[error("summary file checksum mismatch")]
    Checksum,
    /// Written by a format this build does not read.
    #[error("summary file version {0} (this build reads {SUMMARY_VERSION})")]
    Version(u16),
    /// Checksummed but malformed.
    #[error("corrupt summary file: {0}")]
    Corrupt(String),
}

impl From<BlockError> for SummaryError {
    fn from(e: BlockError) -> SummaryError {
        SummaryError::Corrupt(e.to_string())
    }
}

fn corrupt(what: &str) -> SummaryError {
    SummaryError::Corrupt(what.to_string())
}

/// The decoded summary file of one segment.
#[derive(Clone, Debug, PartialEq)]
pub struct SegmentSummaries {
    /// The length of the segment it describes.
    pub segment_len: u64,
    /// The crc32c of that segment.
    pub segment_crc: u32,
    /// Each block's offset and summary (`None`: scan it), in file order.
    pub blocks: Vec<(u64, Option<Arc<BlockSummary>>)>,
}

/// Encodes a segment's summaries. Deterministic: equal summaries give
/// equal bytes.
pub fn encode_summaries(
    segment_len: u64,
    segment_crc: u32,
    blocks: &[(u64, Option<&BlockSummary>)],
) -> Vec<u8> {
    let names: Vec<&str> = blocks
        .iter()
        .filter_map(|(_, s)| *s)
        .flat_map(|s| s.property_names())
        .collect::<BTreeSet<&str>>()
        .into_iter()
        .collect();
    let mut out = Vec::new();
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&SUMMARY_VERSION.to_le_bytes());
    out.extend_from_slice(&segment_len.to_le_bytes());
    out.extend_from_slice(&segment_crc.to_le_bytes());
    put_u64(&mut out, names.len() as u64);
    for n in &names {
        put_u64(&mut out, n.len() as u64);
        out.extend_from_slice(n.as_bytes());
    }
    put_u64(&mut out, blocks.len() as u64);
    for (offset, summary) in blocks {
        put_u64(&mut out, *offset);
        let Some(s) = summary else {
            out.push(0);
            continue;
        };
        out.push(1);
        let filter = s.filter_bytes();
        put_u64(&mut out, filter.len() as u64);
        out.extend_from_slice(filter);
        put_u64(&mut out, s.properties.len() as u64);
        for p in s.properties.iter() {
            let id = names.binary_search(&&*p.name).expect("name listed");
            put_u64(&mut out, id as u64);
            match p.range {
                None => out.push(0),
                Some((lo, hi)) => {
                    out.push(1);
                    put_num(&mut out, lo);
                    put_num(&mut out, hi);
                }
            }
        }
    }
    let crc = crc32c::crc32c(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// Decodes a summary file, checking its checksum, version and structure.
/// Never panics and allocates no more than the input justifies.
pub fn decode_summaries(bytes: &[u8]) -> Result<SegmentSummaries, SummaryError> {
    if bytes.len() < PREAMBLE + 4 {
        return Err(SummaryError::Truncated(bytes.len()));
    }
    if &bytes[..4] != MAGIC {
        return Err(SummaryError::BadMagic);
    }
    let (body, tail) = bytes.split_at(bytes.len() - 4);
    let crc = u32::from_le_bytes(tail.try_into().expect("4 bytes"));
    if crc32c::crc32c(body) != crc {
        return Err(SummaryError::Checksum);
    }
    let version = u16::from_le_bytes([body[4], body[5]]);
    if version != SUMMARY_VERSION {
        return Err(SummaryError::Version(version));
    }
    let segment_len = u64::from_le_bytes(body[6..14].try_into().expect("8 bytes"));
    let segment_crc = u32::from_le_bytes(body[14..18].try_into().expect("4 bytes"));
    let mut r = Reader::new(&body[PREAMBLE..]);
    let name_count = r.count()?;
    let mut names: Vec<Arc<str>> = Vec::with_capacity(name_count);
    for _ in 0..name_count {
        let len = r.u64()?;
        let len = usize::try_from(len).map_err(|_| corrupt("name too long"))?;
        let text = std::str::from_utf8(r.bytes(len)?).map_err(|_| corrupt("name not UTF-8"))?;
        if names.last().is_some_and(|prev| **prev >= *text) {
            return Err(corrupt("names out of order"));
        }
        names.push(Arc::from(text));
    }
    let block_count = r.count()?;
    let mut blocks = Vec::with_capacity(block_count);
    for _ in 0..block_count {
        let offset = r.u64()?;
        if blocks.last().is_some_and(|(prev, _)| *prev >= offset) {
            return Err(corrupt("block offsets out of order"));
        }
        let summary = match r.u8()? {
            0 => None,
            1 => Some(Arc::new(block_summary(&mut r, &names)?)),
            _ => return Err(corrupt("unknown block kind")),
        };
        blocks.push((offset, summary));
    }
    r.finish("summary file")?;
    Ok(SegmentSummaries {
        segment_len,
        segment_crc,
        blocks,
    })
}

fn block_summary(r: &mut Reader<'_>, names: &[Arc<str>]) -> Result<BlockSummary, SummaryError> {
    let len = usize::try_from(r.u64()?).map_err(|_| corrupt("filter too long"))?;
    let bytes = r.bytes(len)?;
    let filter = match len {
        0 => None,
        n if n % BUCKET == 0 => Some(Filter::from_bytes(bytes).ok_or_else(|| corrupt("filter"))?),
        _ => return Err(corrupt("filter length is not a whole number of buckets")),
    };
    let count = r.count()?;
    let mut properties: Vec<PropertyStats> = Vec::with_capacity(count);
    let mut last = None;
    for _ in 0..count {
        let id = r.u64()?;
        if last.is_some_and(|l| l >= id) {
            return Err(corrupt("property ids out of order"));
        }
        last = Some(id);
        let name = usize::try_from(id)
            .ok()
            .and_then(|i| names.get(i))
            .ok_or_else(|| corrupt("property id out of range"))?;
        let range = match r.u8()? {
            0 => None,
            1 => {
                let (lo, hi) = (num(r)?, num(r)?);
                if lo.cmp_num(hi).is_none_or(|o| o.is_gt()) {
                    return Err(corrupt("range minimum above its maximum"));
                }
                Some((lo, hi))
            }
            _ => return Err(corrupt("unknown range flag")),
        };
        properties.push(PropertyStats {
            name: name.clone(),
            range,
        });
    }
    Ok(BlockSummary {
        filter,
        properties: properties.into_boxed_slice(),
    })
}

fn put_num(out: &mut Vec<u8>, n: Num) {
    match n {
        Num::Int(i) => match i64::try_from(i) {
            Ok(small) => {
                out.push(0);
                put_u64(out, zigzag(small));
            }
            Err(_) => {
                out.push(1);
                out.extend_from_slice(&i.to_le_bytes());
            }
        },
        Num::Float(f) => {
            out.push(2);
            out.extend_from_slice(&f.to_le_bytes());
        }
    }
}

fn num(r: &mut Reader<'_>) -> Result<Num, SummaryError> {
    Ok(match r.u8()? {
        0 => Num::Int(unzigzag(r.u64()?) as i128),
        1 => Num::Int(i128::from_le_bytes(r.bytes(16)?.try_into().expect("16"))),
        2 => {
            let f = f64::from_le_bytes(r.bytes(8)?.try_into().expect("8"));
            if !f.is_finite() {
                return Err(corrupt("number not finite"));
            }
            Num::Float(f)
        }
        _ => return Err(corrupt("unknown number tag")),
    })
}
