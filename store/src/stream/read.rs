//! Ordered reads: every event in a time range, newest or oldest first, in
//! exact `(timestamp, arrival)` order.
//!
//! Blocks are pruned by their header's time range, decoded a window at a time
//! in parallel, and merged lazily: a block is decoded only once the next event
//! to emit could come from it, so an early stop reads little.

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::ops::ControlFlow;
use std::os::unix::fs::FileExt;

use rayon::prelude::*;

use super::error::StoreError;
use super::index::BlockRef;
use super::Store;
use crate::block::{BlockEvent, DecodedBlock};
use crate::event::EventView;
use crate::Timestamp;

/// Which end of the range comes first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Order {
    /// Latest timestamp first (what the events screen shows).
    NewestFirst,
    /// Earliest timestamp first.
    OldestFirst,
}

/// Blocks decoded per parallel window.
const WINDOW: usize = 16;

/// Reads a block's bytes (header and payload) from its segment.
pub fn read_block(block: &BlockRef) -> Result<Vec<u8>, StoreError> {
    let mut buf = vec![0u8; block.meta.header.block_len() as usize];
    block
        .file
        .read_exact_at(&mut buf, block.meta.offset)
        .map_err(|source| StoreError::Io {
            op: "read block",
            path: format!("segment {}", block.meta.segment).into(),
            source,
        })?;
    Ok(buf)
}

/// One decoded block with its in-range events sorted in emission order.
struct Loaded {
    block: DecodedBlock,
    order: Vec<u32>,
}

/// A merge cursor: the key of the next event of `loaded[slot]`.
#[derive(PartialEq, Eq)]
struct Cursor {
    key: (Timestamp, u64),
    slot: usize,
    pos: usize,
    newest_first: bool,
}

impl Ord for Cursor {
    fn cmp(&self, other: &Self) -> Ordering {
        let c = self.key.cmp(&other.key);
        if self.newest_first {
            c
        } else {
            c.reverse()
        }
    }
}

impl PartialOrd for Cursor {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

fn key_of(e: &BlockEvent<'_>) -> (Timestamp, u64) {
    (e.timestamp(), e.id().map_or(0, |id| id.arrival))
}

impl Store {
    /// Calls `f` for every event with `from <= timestamp < to`, in exact
    /// order, until `f` breaks. Corrupt blocks are an error, never skipped.
    pub fn visit(
        &self,
        from: Option<Timestamp>,
        to: Option<Timestamp>,
        order: Order,
        f: &mut dyn FnMut(&BlockEvent<'_>) -> ControlFlow<()>,
    ) -> Result<(), StoreError> {
        let newest_first = order == Order::NewestFirst;
        let mut blocks = self.blocks(from, to);
        // Emission order of the blocks' leading edges.
        if newest_first {
            blocks.sort_by_key(|b| std::cmp::Reverse(b.meta.header.max_ts));
        } else {
            blocks.sort_by_key(|b| b.meta.header.min_ts);
        }
        let edge = |b: &BlockRef| {
            if newest_first {
                b.meta.header.max_ts
            } else {
                b.meta.header.min_ts
            }
        };
        let in_range = |t: Timestamp| from.is_none_or(|f| t >= f) && to.is_none_or(|e| t < e);

        let mut loaded: Vec<Option<Loaded>> = Vec::new();
        let mut ready: std::collections::VecDeque<Loaded> = Default::default();
        let mut heap = BinaryHeap::new();
        let mut next = 0;
        loop {
            // Load every block whose leading edge could precede the heap's top.
            while next < blocks.len()
                && heap.peek().is_none_or(|c: &Cursor| {
                    let e = edge(&blocks[next]);
                    if newest_first {
                        e >= c.key.0
                    } else {
                        e <= c.key.0
                    }
                })
            {
                if ready.is_empty() {
                    let window = &blocks[next..(next + WINDOW).min(blocks.len())];
                    let decoded: Result<Vec<Loaded>, StoreError> = window
                        .par_iter()
                        .map(|b| self.load(b, newest_first, &in_range))
                        .collect();
                    ready.extend(decoded?);
                }
                let l = ready.pop_front().expect("window decoded");
                next += 1;
                if let Some(&first) = l.order.first() {
                    let key = key_of(&l.block.event(first as usize));
                    heap.push(Cursor {
                        key,
                        slot: loaded.len(),
                        pos: 0,
                        newest_first,
                    });
                    loaded.push(Some(l));
                }
            }
            let Some(mut c) = heap.pop() else {
                return Ok(());
            };
            let l = loaded[c.slot].as_ref().expect("cursor's block is loaded");
            let e = l.block.event(l.order[c.pos] as usize);
            if f(&e).is_break() {
                return Ok(());
            }
            c.pos += 1;
            if c.pos < l.order.len() {
                c.key = key_of(&l.block.event(l.order[c.pos] as usize));
                heap.push(c);
            } else {
                loaded[c.slot] = None;
            }
        }
    }

    fn load(
        &self,
        b: &BlockRef,
        newest_first: bool,
        in_range: &(dyn Fn(Timestamp) -> bool + Sync),
    ) -> Result<Loaded, StoreError> {
        let block = self.read_block(b)?;
        let mut keyed: Vec<((Timestamp, u64), u32)> = (0..block.len())
            .map(|i| (key_of(&block.event(i)), i as u32))
            .filter(|(k, _)| in_range(k.0))
            .collect();
        let sorted = keyed.windows(2).all(|w| w[0].0 <= w[1].0);
        if !sorted {
            keyed.sort_unstable();
        }
        if newest_first {
            keyed.reverse();
        }
        Ok(Loaded {
            block,
            order: keyed.into_iter().map(|(_, i)| i).collect(),
        })
    }
}
