//! The in-memory block index: every block's place and header, in generation
//! order, with the open segment files readers use.

use std::collections::BTreeMap;
use std::fs::File;
use std::sync::Arc;

use super::segment::BlockMeta;
use crate::generation::Generation;
use crate::Timestamp;

/// A block a reader can fetch: its place, header and the file holding it.
#[derive(Clone, Debug)]
pub struct BlockRef {
    /// Where the block is, and its header.
    pub meta: BlockMeta,
    /// The segment file (kept open, so retention cannot pull it away mid-read).
    pub file: Arc<File>,
}

/// Every block of the store, oldest generation first.
#[derive(Debug, Default)]
pub struct BlockIndex {
    blocks: Vec<BlockMeta>,
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
        self.blocks.retain(|b| b.segment != id);
    }

    /// Appends newly committed blocks (in generation order).
    pub fn push(&mut self, metas: impl IntoIterator<Item = BlockMeta>) {
        self.blocks.extend(metas);
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

    /// Blocks that may hold events in `[from, to)`, with their files.
    pub fn select(&self, from: Option<Timestamp>, to: Option<Timestamp>) -> Vec<BlockRef> {
        self.blocks
            .iter()
            .filter(|b| from.is_none_or(|f| b.header.max_ts >= f))
            .filter(|b| to.is_none_or(|t| b.header.min_ts < t))
            .filter_map(|b| {
                let file = self.files.get(&b.segment)?.clone();
                Some(BlockRef { meta: *b, file })
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
