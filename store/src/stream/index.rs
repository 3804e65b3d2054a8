//! The in-memory block index: every block's place, header and summary, in
//! generation order, with the open segment files readers use.

use std::collections::BTreeMap;
use std::fs::File;
use std::sync::Arc;

use super::segment::BlockMeta;
use crate::generation::Generation;
use crate::summary::BlockSummary;
use crate::Timestamp;

/// A block's summary, when the store has one yet (the background
/// summarizer gives each appended block its own; the seal completes them).
pub type Summary = Option<Arc<BlockSummary>>;

/// A block a reader can fetch: its place, header and the file holding it.
#[derive(Clone, Debug)]
pub struct BlockRef {
    /// Where the block is, and its header.
    pub meta: BlockMeta,
    /// The segment file (kept open, so retention cannot pull it away mid-read).
    pub file: Arc<File>,
    /// What the block holds, to skip it without reading (`None`: read it).
    pub summary: Summary,
}

/// Every block of the store, oldest generation first.
#[derive(Debug, Default)]
pub struct BlockIndex {
    blocks: Vec<BlockMeta>,
    /// `summaries[i]` is the summary of `blocks[i]`.
    summaries: Vec<Summary>,
    files: BTreeMap<u64, Arc<File>>,
}

impl BlockIndex {
    /// Registers a segment file for reading.
    pub fn add_segment(&mut self, id: u64, file: Arc<File>) {
        self.files.insert(id, file);
    }

    /// Forgets a deleted segment and its blocks.
    pub fn remove_segment(&mut self, id: u64) {
        self.files.remove(&id);
        let blocks = std::mem::take(&mut self.blocks);
        let summaries = std::mem::take(&mut self.summaries);
        (self.blocks, self.summaries) = blocks
            .into_iter()
            .zip(summaries)
            .filter(|(b, _)| b.segment != id)
            .unzip();
    }

    /// Appends newly committed blocks (in generation order) with their
    /// summaries.
    pub fn push(&mut self, blocks: impl IntoIterator<Item = (BlockMeta, Summary)>) {
        for (meta, summary) in blocks {
            self.blocks.push(meta);
            self.summaries.push(summary);
        }
    }

    /// All blocks, oldest generation first.
    pub fn blocks(&self) -> &[BlockMeta] {
        &self.blocks
    }

    /// Blocks committed after generation `g`, oldest first.
    pub fn blocks_after(&self, g: Generation) -> &[BlockMeta] {
        let i = self
            .blocks
            .partition_point(|b| b.header.generation.ops() <= g.ops());
        &self.blocks[i..]
    }

    /// The blocks of one segment, in file order.
    pub fn segment_blocks(&self, id: u64) -> Vec<BlockMeta> {
        self.blocks
            .iter()
            .filter(|b| b.segment == id)
            .copied()
            .collect()
    }

    /// The summaries of one segment's blocks, in file order.
    pub fn segment_summaries(&self, id: u64) -> Vec<Summary> {
        self.blocks
            .iter()
            .zip(&self.summaries)
            .filter(|(b, _)| b.segment == id)
            .map(|(_, s)| s.clone())
            .collect()
    }

    /// Gives block `meta` (the same place and header) its summary, unless
    /// it has one or is gone.
    pub fn set_summary(&mut self, meta: &BlockMeta, summary: Arc<BlockSummary>) {
        let at = self
            .blocks
            .binary_search_by_key(&(meta.segment, meta.offset), |b| (b.segment, b.offset));
        if let Ok(i) = at {
            if self.blocks[i] == *meta && self.summaries[i].is_none() {
                self.summaries[i] = Some(summary);
            }
        }
    }

    /// The blocks that have no summary yet, with their files.
    pub fn unsummarized(&self) -> Vec<BlockRef> {
        self.blocks
            .iter()
            .zip(&self.summaries)
            .filter(|(_, s)| s.is_none())
            .filter_map(|(b, _)| {
                let file = self.files.get(&b.segment)?.clone();
                Some(BlockRef {
                    meta: *b,
                    file,
                    summary: None,
                })
            })
            .collect()
    }

    /// Gives the blocks of segment `id` the `summaries` they lack (in file
    /// order, one per block; a block keeps a summary it has).
    pub fn fill_summaries(&mut self, id: u64, summaries: Vec<Summary>) {
        let mut given = summaries.into_iter();
        for (b, s) in self.blocks.iter().zip(&mut self.summaries) {
            if b.segment == id {
                let new = given.next().flatten();
                if s.is_none() {
                    *s = new;
                }
            }
        }
    }

    /// Blocks that may hold events in `[from, to)`, with their files and
    /// summaries.
    pub fn select(&self, from: Option<Timestamp>, to: Option<Timestamp>) -> Vec<BlockRef> {
        self.blocks
            .iter()
            .zip(&self.summaries)
            .filter(|(b, _)| from.is_none_or(|f| b.header.max_ts >= f))
            .filter(|(b, _)| to.is_none_or(|t| b.header.min_ts < t))
            .filter_map(|(b, summary)| {
                let file = self.files.get(&b.segment)?.clone();
                Some(BlockRef {
                    meta: *b,
                    file,
                    summary: summary.clone(),
                })
            })
            .collect()
    }

    /// The open file of segment `id`.
    pub fn file(&self, id: u64) -> Option<Arc<File>> {
        self.files.get(&id).cloned()
    }

    /// Total events indexed.
    pub fn event_count(&self) -> u64 {
        self.blocks
            .iter()
            .map(|b| b.header.event_count as u64)
            .sum()
    }
}
