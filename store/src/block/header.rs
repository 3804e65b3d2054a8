//! The fixed 96-byte block header: what the store needs without decompressing.
//!
//! Layout (little-endian):
//!
//! | offset | field | type |
//! | --- | --- | --- |
//! | 0 | magic `SKB1` | [u8; 4] |
//! | 4 | format version | u16 |
//! | 6 | flags (0) | u16 |
//! | 8 | payload length | u32 |
//! | 12 | payload crc32c | u32 |
//! | 16 | event count | u32 |
//! | 20 | first arrival number | u64 |
//! | 28 | term | u64 |
//! | 36 | generation after this block: model | u64 |
//! | 44 | generation after this block: write | u64 |
//! | 52 | min timestamp (ns) | i64 |
//! | 60 | max timestamp (ns) | i64 |
//! | 68 | event count per severity, Verbose..Fatal | [u32; 6] |
//! | 92 | crc32c of bytes 0..92 | u32 |

use crate::generation::Generation;
use crate::Timestamp;

/// Block magic number.
pub const MAGIC: [u8; 4] = *b"SKB1";
/// Current block format version.
pub const FORMAT_VERSION: u16 = 1;
/// Size of the encoded header in bytes.
pub const HEADER_LEN: usize = 96;

/// Errors reading a block.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BlockError {
    /// Fewer bytes than a header or than the payload length says.
    #[error("block truncated: need {needed} bytes, have {have}")]
    Truncated { needed: usize, have: usize },
    /// The magic number is wrong: not a block, or not aligned on one.
    #[error("not a block: bad magic")]
    BadMagic,
    /// A format version this build cannot read.
    #[error("unsupported block format version {0}")]
    UnsupportedVersion(u16),
    /// The header's checksum does not match.
    #[error("block header checksum mismatch")]
    HeaderChecksum,
    /// The payload's checksum does not match.
    #[error("block payload checksum mismatch")]
    PayloadChecksum,
    /// The payload is well-checksummed but does not decode.
    #[error("corrupt block payload: {0}")]
    Corrupt(String),
}

/// The decoded fixed header of one block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BlockHeader {
    /// Length of the compressed payload that follows the header.
    pub payload_len: u32,
    /// crc32c of the payload.
    pub payload_crc: u32,
    /// Events in the block.
    pub event_count: u32,
    /// Arrival number of the block's first event; event `i` has `first_arrival + i`.
    pub first_arrival: u64,
    /// The leadership term in which the block was written.
    pub term: u64,
    /// The store generation after this block was committed.
    pub generation: Generation,
    /// Earliest event timestamp in the block.
    pub min_ts: Timestamp,
    /// Latest event timestamp in the block.
    pub max_ts: Timestamp,
    /// Events per severity, indexed by `Severity as usize`.
    pub level_counts: [u32; 6],
}

impl BlockHeader {
    /// Total bytes of the block on disk: header plus payload.
    pub fn block_len(&self) -> u64 {
        HEADER_LEN as u64 + self.payload_len as u64
    }

    /// Encodes the header, computing its checksum.
    pub fn encode(&self) -> [u8; HEADER_LEN] {
        let mut b = [0u8; HEADER_LEN];
        b[0..4].copy_from_slice(&MAGIC);
        b[4..6].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
        b[8..12].copy_from_slice(&self.payload_len.to_le_bytes());
        b[12..16].copy_from_slice(&self.payload_crc.to_le_bytes());
        b[16..20].copy_from_slice(&self.event_count.to_le_bytes());
        b[20..28].copy_from_slice(&self.first_arrival.to_le_bytes());
        b[28..36].copy_from_slice(&self.term.to_le_bytes());
        b[36..44].copy_from_slice(&self.generation.model.to_le_bytes());
        b[44..52].copy_from_slice(&self.generation.write.to_le_bytes());
        b[52..60].copy_from_slice(&self.min_ts.0.to_le_bytes());
        b[60..68].copy_from_slice(&self.max_ts.0.to_le_bytes());
        for (i, c) in self.level_counts.iter().enumerate() {
            b[68 + 4 * i..72 + 4 * i].copy_from_slice(&c.to_le_bytes());
        }
        let crc = crc32c::crc32c(&b[..HEADER_LEN - 4]);
        b[HEADER_LEN - 4..].copy_from_slice(&crc.to_le_bytes());
        b
    }

    /// Decodes and verifies a header from the first [`HEADER_LEN`] bytes of `bytes`.
    pub fn decode(bytes: &[u8]) -> Result<BlockHeader, BlockError> {
        if bytes.len() < HEADER_LEN {
            return Err(BlockError::Truncated {
                needed: HEADER_LEN,
                have: bytes.len(),
            });
        }
        let b = &bytes[..HEADER_LEN];
        if b[0..4] != MAGIC {
            return Err(BlockError::BadMagic);
        }
        let u32_at = |o: usize| u32::from_le_bytes(b[o..o + 4].try_into().unwrap());
        let u64_at = |o: usize| u64::from_le_bytes(b[o..o + 8].try_into().unwrap());
        if crc32c::crc32c(&b[..HEADER_LEN - 4]) != u32_at(HEADER_LEN - 4) {
            return Err(BlockError::HeaderChecksum);
        }
        let version = u16::from_le_bytes([b[4], b[5]]);
        if version != FORMAT_VERSION {
            return Err(BlockError::UnsupportedVersion(version));
        }
        let mut level_counts = [0u32; 6];
        for (i, c) in level_counts.iter_mut().enumerate() {
            *c = u32_at(68 + 4 * i);
        }
        Ok(BlockHeader {
            payload_len: u32_at(8),
            payload_crc: u32_at(12),
            event_count: u32_at(16),
            first_arrival: u64_at(20),
            term: u64_at(28),
            generation: Generation {
                model: u64_at(36),
                write: u64_at(44),
            },
            min_ts: Timestamp(u64_at(52) as i64),
            max_ts: Timestamp(u64_at(60) as i64),
            level_counts,
        })
    }

    /// Checks `payload` against the header's length and checksum.
    pub fn verify_payload(&self, payload: &[u8]) -> Result<(), BlockError> {
        if payload.len() < self.payload_len as usize {
            return Err(BlockError::Truncated {
                needed: self.payload_len as usize,
                have: payload.len(),
            });
        }
        if crc32c::crc32c(&payload[..self.payload_len as usize]) != self.payload_crc {
            return Err(BlockError::PayloadChecksum);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trips_and_detects_corruption() {
        let h = BlockHeader {
            payload_len: 10,
            payload_crc: 7,
            event_count: 3,
            first_arrival: 99,
            term: 2,
            generation: Generation { model: 1, write: 5 },
            min_ts: Timestamp(-1),
            max_ts: Timestamp(1),
            level_counts: [0, 1, 2, 0, 0, 0],
        };
        let mut b = h.encode();
        assert_eq!(BlockHeader::decode(&b).unwrap(), h);
        b[30] ^= 1;
        assert_eq!(BlockHeader::decode(&b), Err(BlockError::HeaderChecksum));
        assert!(matches!(
            BlockHeader::decode(&b[..10]),
            Err(BlockError::Truncated { .. })
        ));
    }
}
