//! Summary files of sealed segments (`seg-N.sum`, [`crate::summary::file`]):
//! written when a segment seals, loaded when the store opens, and rebuilt
//! from the segment when missing, damaged (checksum), cut short, of another
//! version or describing other bytes than the segment holds.
//!
//! They are derived data outside the replicated history. A follower writes
//! its own when it applies a seal, from the same blocks, so its file equals
//! the leader's byte for byte; a snapshot does not carry them: the copy
//! rebuilds them from its segments when the installed store opens.
//!
//! Blocks of the active segment get their summaries as they are appended
//! (built from the events on the ingest thread, or from the bytes of a
//! replicated block); blocks recovered into it on open have none, and are
//! read by searches as before, until the seal summarizes them.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::Arc;

use rayon::prelude::*;

use super::error::StoreError;
use super::index::Summary;
use super::manifest::{self, SealInfo};
use super::segment::{self, BlockMeta};
use crate::summary::{decode_summaries, encode_summaries, summarize_block, SegmentSummaries};

/// The summaries of sealed segment `id` (its `blocks`, its `file`): from its
/// summary file when that describes exactly this segment, otherwise
/// rebuilt from the segment and written anew.
pub(crate) fn load(
    dir: &Path,
    id: u64,
    info: &SealInfo,
    file: &File,
    blocks: &[BlockMeta],
) -> Result<Vec<Summary>, StoreError> {
    let path = segment::sum_path(dir, id);
    let found = std::fs::read(&path).map_err(|e| e.to_string());
    match found.and_then(|b| decode_summaries(&b).map_err(|e| e.to_string())) {
        Ok(s) if fits(&s, info, blocks) => {
            return Ok(s.blocks.into_iter().map(|(_, s)| s).collect());
        }
        Ok(_) => log::warn!(
            "summary file {} describes another segment; rebuilding it",
            path.display()
        ),
        Err(why) => log::warn!(
            "summary file {} unusable ({why}); rebuilding it from the segment",
            path.display()
        ),
    }
    let log = segment::log_path(dir, id);
    let summaries = complete(file, &log, blocks, vec![None; blocks.len()])?;
    write(dir, id, info, blocks, &summaries)?;
    Ok(summaries)
}

/// Whether a decoded summary file describes this segment: its length,
/// checksum and every block's offset.
pub(crate) fn fits(s: &SegmentSummaries, info: &SealInfo, blocks: &[BlockMeta]) -> bool {
    s.segment_len == info.len
        && s.segment_crc == info.crc
        && s.blocks.len() == blocks.len()
        && s.blocks
            .iter()
            .zip(blocks)
            .all(|((o, _), b)| *o == b.offset)
}

/// `have` (one per block of `blocks`, in file order) with every missing
/// summary built from the block's bytes, in parallel. A block that does not
/// decode keeps none: searches read it, and report it, as before.
pub(crate) fn complete(
    file: &File,
    path: &Path,
    blocks: &[BlockMeta],
    have: Vec<Summary>,
) -> Result<Vec<Summary>, StoreError> {
    blocks
        .par_iter()
        .zip(have)
        .map(|(b, s)| match s {
            Some(s) => Ok(Some(s)),
            None => {
                let mut bytes = vec![0u8; b.header.block_len() as usize];
                file.read_exact_at(&mut bytes, b.offset)
                    .map_err(StoreError::io("read", path))?;
                Ok(summarize_block(&bytes).ok().map(Arc::new))
            }
        })
        .collect()
}

/// Writes sealed segment `id`'s summary file (atomically, fsynced).
pub(crate) fn write(
    dir: &Path,
    id: u64,
    info: &SealInfo,
    blocks: &[BlockMeta],
    summaries: &[Summary],
) -> Result<(), StoreError> {
    let entries: Vec<_> = blocks
        .iter()
        .zip(summaries)
        .map(|(b, s)| (b.offset, s.as_deref()))
        .collect();
    let bytes = encode_summaries(info.len, info.crc, &entries);
    manifest::write_atomic(dir, &segment::sum_name(id), &bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::block::BlockHeader;
    use crate::summary::summarize;

    #[test]
    fn a_file_fits_only_the_segment_it_describes() {
        let info = SealInfo {
            len: 500,
            crc: 7,
            idx_crc: 0,
            events: 0,
            min_ts: None,
            max_ts: None,
        };
        let meta = |offset| BlockMeta {
            segment: 1,
            offset,
            header: BlockHeader::default(),
        };
        let blocks = [meta(0), meta(200)];
        let one = Some(Arc::new(summarize::<crate::Event>([])));
        let file = SegmentSummaries {
            segment_len: 500,
            segment_crc: 7,
            blocks: vec![(0, one.clone()), (200, None)],
        };
        assert!(fits(&file, &info, &blocks));
        assert!(!fits(&file, &SealInfo { crc: 8, ..info }, &blocks));
        assert!(!fits(&file, &SealInfo { len: 501, ..info }, &blocks));
        assert!(!fits(&file, &info, &blocks[..1]));
        assert!(!fits(&file, &info, &[meta(0), meta(201)]));
    }
}
