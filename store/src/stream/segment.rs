//! Segment files: naming, scanning blocks on open, and the block directory
//! (`seg-N.idx`) written when a segment seals (as is its summary file,
//! `seg-N.sum`, written by the `summaries` module).
//!
//! A segment is a plain concatenation of blocks. Its directory file lists
//! every block's offset and header so that opening a store reads a few
//! kilobytes per sealed segment instead of the segment itself.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use super::error::StoreError;
use crate::block::{BlockError, BlockHeader, HEADER_LEN};

/// Where one block lies, with its decoded header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockMeta {
    /// Segment id.
    pub segment: u64,
    /// Byte offset of the block's header in the segment file.
    pub offset: u64,
    /// The block's header.
    pub header: BlockHeader,
}

/// `seg-<id>.log` inside `dir`.
pub fn log_path(dir: &Path, id: u64) -> PathBuf {
    dir.join(log_name(id))
}

/// `seg-<id>.idx` inside `dir`.
pub fn idx_path(dir: &Path, id: u64) -> PathBuf {
    dir.join(idx_name(id))
}

/// `seg-<id>.sum` inside `dir`.
pub fn sum_path(dir: &Path, id: u64) -> PathBuf {
    dir.join(sum_name(id))
}

/// The file name of segment `id`'s blocks.
pub fn log_name(id: u64) -> String {
    format!("seg-{id:06}.log")
}

/// The file name of segment `id`'s block directory.
pub fn idx_name(id: u64) -> String {
    format!("seg-{id:06}.idx")
}

/// The file name of segment `id`'s block summaries.
pub fn sum_name(id: u64) -> String {
    format!("seg-{id:06}.sum")
}

/// What scanning a segment file found.
#[derive(Debug)]
pub struct Scan {
    /// The intact blocks, in file order.
    pub blocks: Vec<BlockMeta>,
    /// Length of the intact prefix.
    pub valid_len: u64,
    /// crc32c of the intact prefix.
    pub crc: u32,
    /// Length of the file as found.
    pub file_len: u64,
    /// Why the scan stopped before the end of the file, if it did.
    pub stopped_by: Option<BlockError>,
}

/// Reads every block of a segment from the start, verifying header and
/// payload checksums, and stops at the first block that is not intact.
pub fn scan(file: &File, path: &Path, segment: u64) -> Result<Scan, StoreError> {
    let file_len = file.metadata().map_err(StoreError::io("stat", path))?.len();
    let mut blocks = Vec::new();
    let (mut offset, mut crc) = (0u64, 0u32);
    let mut buf = Vec::new();
    let mut stopped_by = None;
    while offset < file_len {
        match read_block_at(file, path, offset, file_len, &mut buf)? {
            Ok(header) => {
                crc = crc32c::crc32c_append(crc, &buf);
                blocks.push(BlockMeta {
                    segment,
                    offset,
                    header,
                });
                offset += header.block_len();
            }
            Err(e) => {
                stopped_by = Some(e);
                break;
            }
        }
    }
    Ok(Scan {
        blocks,
        valid_len: offset,
        crc,
        file_len,
        stopped_by,
    })
}

/// Reads and verifies the block at `offset` into `buf` (header + payload).
/// The outer error is I/O; the inner one says the block is not intact.
pub fn read_block_at(
    file: &File,
    path: &Path,
    offset: u64,
    file_len: u64,
    buf: &mut Vec<u8>,
) -> Result<Result<BlockHeader, BlockError>, StoreError> {
    let left = file_len.saturating_sub(offset);
    if left < HEADER_LEN as u64 {
        return Ok(Err(BlockError::Truncated {
            needed: HEADER_LEN,
            have: left as usize,
        }));
    }
    buf.resize(HEADER_LEN, 0);
    file.read_exact_at(buf, offset)
        .map_err(StoreError::io("read", path))?;
    let header = match BlockHeader::decode(buf) {
        Ok(h) => h,
        Err(e) => return Ok(Err(e)),
    };
    if header.block_len() > left {
        return Ok(Err(BlockError::Truncated {
            needed: header.block_len() as usize,
            have: left as usize,
        }));
    }
    buf.resize(header.block_len() as usize, 0);
    file.read_exact_at(&mut buf[HEADER_LEN..], offset + HEADER_LEN as u64)
        .map_err(StoreError::io("read", path))?;
    Ok(header.verify_payload(&buf[HEADER_LEN..]).map(|_| header))
}

const IDX_MAGIC: &[u8; 4] = b"SKI1";

/// Encodes a sealed segment's block directory: magic, count, then each
/// block's offset and raw header, then a crc32c of all that. Deterministic.
pub fn encode_directory(blocks: &[BlockMeta]) -> Vec<u8> {
    let mut b = Vec::with_capacity(12 + blocks.len() * (8 + HEADER_LEN));
    b.extend_from_slice(IDX_MAGIC);
    b.extend_from_slice(&(blocks.len() as u32).to_le_bytes());
    for m in blocks {
        b.extend_from_slice(&m.offset.to_le_bytes());
        b.extend_from_slice(&m.header.encode());
    }
    let crc = crc32c::crc32c(&b);
    b.extend_from_slice(&crc.to_le_bytes());
    b
}

/// Decodes a block directory written by [`encode_directory`].
pub fn decode_directory(bytes: &[u8], segment: u64) -> Result<Vec<BlockMeta>, String> {
    if bytes.len() < 12 || &bytes[..4] != IDX_MAGIC {
        return Err("not a block directory".into());
    }
    let (body, tail) = bytes.split_at(bytes.len() - 4);
    if crc32c::crc32c(body) != u32::from_le_bytes(tail.try_into().unwrap()) {
        return Err("block directory checksum mismatch".into());
    }
    let count = u32::from_le_bytes(body[4..8].try_into().unwrap()) as usize;
    let entry = 8 + HEADER_LEN;
    if body.len() != 8 + count * entry {
        return Err("block directory length mismatch".into());
    }
    body[8..]
        .chunks_exact(entry)
        .map(|c| {
            let offset = u64::from_le_bytes(c[..8].try_into().unwrap());
            let header = BlockHeader::decode(&c[8..]).map_err(|e| e.to_string())?;
            Ok(BlockMeta {
                segment,
                offset,
                header,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generation::Generation;

    fn meta(offset: u64, w: u64) -> BlockMeta {
        let header = BlockHeader {
            payload_len: 3,
            generation: Generation { model: 1, write: w },
            ..Default::default()
        };
        BlockMeta {
            segment: 7,
            offset,
            header,
        }
    }

    #[test]
    fn directory_round_trips_and_detects_damage() {
        let blocks = vec![meta(0, 1), meta(99, 2)];
        let mut b = encode_directory(&blocks);
        assert_eq!(decode_directory(&b, 7).unwrap(), blocks);
        b[20] ^= 0xff;
        assert!(decode_directory(&b, 7).is_err());
        assert!(decode_directory(b"xx", 7).is_err());
    }

    #[test]
    fn scan_stops_at_a_torn_tail() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("seg");
        let payload = b"abc";
        let header = BlockHeader {
            payload_len: 3,
            payload_crc: crc32c::crc32c(payload),
            ..Default::default()
        };
        let mut bytes = header.encode().to_vec();
        bytes.extend_from_slice(payload);
        bytes.extend_from_slice(&header.encode()[..50]);
        std::fs::write(&path, &bytes).unwrap();
        let f = File::open(&path).unwrap();
        let s = scan(&f, &path, 1).unwrap();
        assert_eq!(s.blocks.len(), 1);
        assert_eq!(s.valid_len, 99);
        assert_eq!(s.file_len, 149);
        assert!(s.stopped_by.is_some());
    }
}
