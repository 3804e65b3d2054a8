//! The replayable history: "everything after generation G", and applying it.
//!
//! Appends are their own history (each block carries its term and the
//! generation after it); structural operations are kept in the manifest's
//! `recent_ops`. Merged by generation they form the exact ordered list of
//! operations. A replica applies them by copying bytes, so at equal
//! generations its files are byte-identical to the source's.

use serde::{Deserialize, Serialize};

use super::error::{StoreError, TooOld};
use super::index::BlockRef;
use super::manifest::{ModelOp, OpRecord};
use super::read::read_block;
use super::Store;
use crate::block::BlockHeader;
use crate::generation::Generation;

/// One operation of the history, as shipped to a replica.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum HistoryItem {
    /// A block appended to the active segment, with its complete bytes.
    Append {
        /// Segment id.
        segment: u64,
        /// Offset in the segment.
        offset: u64,
        /// Header and payload, exactly as on disk.
        #[serde(with = "serde_bytes")]
        bytes: Vec<u8>,
    },
    /// A structural operation.
    Model(OpRecord),
}

impl HistoryItem {
    /// The generation after this operation (None for undecodable bytes).
    pub fn generation(&self) -> Option<Generation> {
        match self {
            HistoryItem::Append { bytes, .. } => {
                BlockHeader::decode(bytes).ok().map(|h| h.generation)
            }
            HistoryItem::Model(r) => Some(r.generation),
        }
    }
}

/// A planned history entry before block bytes are read.
enum Planned {
    Block(BlockRef),
    Model(OpRecord),
}

impl Planned {
    fn ops(&self) -> u64 {
        match self {
            Planned::Block(b) => b.meta.header.generation.ops(),
            Planned::Model(r) => r.generation.ops(),
        }
    }
}

impl Store {
    /// The operations after generation `after`, oldest first, reading at most
    /// about `max_bytes` of block data (always at least one operation when any
    /// exist). `Ok(Err(TooOld))` when the store no longer holds all of them:
    /// the caller then copies a snapshot.
    pub fn history_after(
        &self,
        after: Generation,
        max_bytes: usize,
    ) -> Result<Result<Vec<HistoryItem>, TooOld>, StoreError> {
        let plan = {
            let w = self.writer();
            if after.ops() > w.generation.ops()
                || (after.ops() == w.generation.ops() && after != w.generation)
            {
                return Err(StoreError::Mismatch(format!(
                    "generation {after} is not in this store's history (at {})",
                    w.generation
                )));
            }
            let index = self.index.read().expect("index lock");
            let mut plan: Vec<Planned> = index
                .blocks_after(after)
                .iter()
                .filter_map(|m| {
                    index.file(m.segment).map(|file| {
                        Planned::Block(BlockRef {
                            meta: *m,
                            file,
                            summary: None,
                        })
                    })
                })
                .collect();
            plan.extend(
                w.manifest
                    .recent_ops
                    .iter()
                    .filter(|r| r.generation.ops() > after.ops())
                    .map(|r| Planned::Model(*r)),
            );
            plan.sort_by_key(Planned::ops);
            let contiguous = plan
                .iter()
                .enumerate()
                .all(|(i, p)| p.ops() == after.ops() + 1 + i as u64);
            let complete = plan.len() as u64 == w.generation.ops() - after.ops();
            if !(contiguous && complete) {
                let oldest = w
                    .manifest
                    .recent_ops
                    .first()
                    .map_or(w.generation, |r| r.generation);
                return Ok(Err(TooOld {
                    requested: after,
                    oldest,
                }));
            }
            plan
        };
        let mut items = Vec::new();
        let mut bytes = 0usize;
        for p in plan {
            if !items.is_empty() && bytes >= max_bytes {
                break;
            }
            items.push(match p {
                Planned::Block(b) => {
                    let data = read_block(&b)?;
                    bytes += data.len();
                    HistoryItem::Append {
                        segment: b.meta.segment,
                        offset: b.meta.offset,
                        bytes: data,
                    }
                }
                Planned::Model(r) => HistoryItem::Model(r),
            });
        }
        Ok(Ok(items))
    }

    /// Applies operations from another store's history, in order. Consecutive
    /// appends share one fsync. Every item must follow the current generation
    /// exactly and match what this store holds; nothing is applied past the
    /// first item that does not. Returns the generation reached.
    pub fn apply(&self, items: &[HistoryItem]) -> Result<Generation, StoreError> {
        let mut w = self.writer();
        w.check_writable()?;
        let mut i = 0;
        while i < items.len() {
            match &items[i] {
                HistoryItem::Model(rec) => {
                    let expected = w.generation.next_model();
                    if rec.generation != expected {
                        return Err(StoreError::OutOfOrder {
                            at: w.generation,
                            op: rec.generation,
                        });
                    }
                    w.term = w.term.max(rec.term);
                    apply_model(&mut w, rec)?;
                    i += 1;
                }
                HistoryItem::Append { .. } => {
                    let run: Vec<&HistoryItem> = items[i..]
                        .iter()
                        .take_while(|it| matches!(it, HistoryItem::Append { .. }))
                        .collect();
                    if let Some(g) = run[0]
                        .generation()
                        .filter(|g| *g != w.generation.next_write())
                    {
                        return Err(StoreError::OutOfOrder {
                            at: w.generation,
                            op: g,
                        });
                    }
                    let mut blocks = Vec::with_capacity(run.len());
                    let (mut gen, mut arrival) = (w.generation, w.next_arrival);
                    let (active_id, mut offset) =
                        w.active.as_ref().map(|a| (a.id, a.len)).ok_or_else(|| {
                            StoreError::Mismatch("append offered with no active segment".into())
                        })?;
                    for it in &run {
                        let HistoryItem::Append {
                            segment,
                            offset: at,
                            bytes,
                        } = it
                        else {
                            unreachable!()
                        };
                        let h = BlockHeader::decode(bytes)
                            .and_then(|h| {
                                h.verify_payload(&bytes[crate::block::HEADER_LEN..])
                                    .map(|_| h)
                            })
                            .map_err(|source| StoreError::CorruptBlock {
                                segment: *segment,
                                offset: *at,
                                source,
                            })?;
                        if h.generation != gen.next_write() {
                            return Err(StoreError::OutOfOrder {
                                at: gen,
                                op: h.generation,
                            });
                        }
                        if *segment != active_id
                            || *at != offset
                            || h.first_arrival != arrival
                            || bytes.len() as u64 != h.block_len()
                        {
                            return Err(StoreError::Mismatch(format!(
                                "append at segment {segment} offset {at} does not follow segment {active_id} offset {offset}"
                            )));
                        }
                        gen = h.generation;
                        arrival = arrival.saturating_add(h.event_count as u64);
                        offset += h.block_len();
                        w.term = w.term.max(h.term);
                        blocks.push((h, &bytes[crate::block::HEADER_LEN..]));
                    }
                    w.write_blocks(&blocks)?;
                    i += run.len();
                }
            }
        }
        Ok(w.generation)
    }
}

fn apply_model(w: &mut super::writer::Writer, rec: &OpRecord) -> Result<(), StoreError> {
    let saved_term = w.term;
    w.term = rec.term;
    let result = match rec.op {
        ModelOp::NewSegment { segment } => {
            let expected = w.manifest.segments.last().map_or(1, |s| s.id + 1);
            if w.active.is_some() || segment != expected {
                Err(StoreError::Mismatch(format!(
                    "new segment {segment} where {expected} was expected"
                )))
            } else {
                w.open_segment(segment)
            }
        }
        ModelOp::Seal { segment, info } => match w.seal_info() {
            Some((id, local, _)) if id == segment && local == info => w.seal(),
            other => Err(StoreError::Mismatch(format!(
                "seal of segment {segment} ({info:?}) does not match local state {:?}",
                other.map(|(id, i, _)| (id, i))
            ))),
        },
        ModelOp::Delete { segment } => {
            if w.manifest
                .segments
                .iter()
                .any(|s| s.id == segment && s.sealed.is_some())
            {
                w.delete_segment(segment)
            } else {
                Err(StoreError::Mismatch(format!(
                    "delete of segment {segment}, which is not sealed here"
                )))
            }
        }
    };
    w.term = saved_term.max(rec.term);
    result
}
