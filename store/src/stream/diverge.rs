//! Divergence: where two copies of one store's history part, and setting
//! aside what only this copy holds.
//!
//! A returning old leader may hold operations (a "divergent tail") that the
//! new leader never received. Before it follows, its tail is written out —
//! the events as a CLEF file that `skein ingest` takes back, and the raw
//! blocks byte for byte — durably, into a folder outside `Stream/`. Only
//! then is the store cut back to the common point: in place when the tail
//! is appends to the active segment (one `ftruncate`), otherwise the caller
//! replaces the store with a snapshot of its leader. A store holding
//! another store id entirely is moved aside as a whole folder.
//!
//! File names are deterministic (`term<T>-from<G>-to<G>`): the term's
//! leader alone wrote those operations, so a crash and retry rewrites the
//! same file with the same content instead of leaving a second copy.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use super::error::StoreError;
use super::index::BlockRef;
use super::manifest::{self, TermStart};
use super::read::read_block;
use super::Store;
use crate::block::decode_block;
use crate::event::write_clef;
use crate::generation::Generation;

/// The last position two copies of a store's history share, from their term
/// histories (oldest first) and current generations. Within one term only
/// that term's leader wrote, so two copies that started a term at the same
/// generation agree on its operations up to where the first of them left it.
pub fn common_point(
    local: &[TermStart],
    local_at: Generation,
    remote: &[TermStart],
    remote_at: Generation,
) -> Generation {
    let end = |h: &[TermStart], at: Generation, i: usize| h.get(i + 1).map_or(at, |t| t.generation);
    let mut common = Generation::ZERO;
    for (i, (l, r)) in local.iter().zip(remote).enumerate() {
        if l != r {
            break;
        }
        let (a, b) = (end(local, local_at, i), end(remote, remote_at, i));
        common = a.min(b);
        if a != b {
            break;
        }
    }
    common
}

/// What [`Store::set_aside_after`] wrote out and did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SetAside {
    /// The CLEF file holding the tail's events (`None` when the tail had none).
    pub clef: Option<PathBuf>,
    /// Events in the tail.
    pub events: u64,
    /// Blocks in the tail.
    pub blocks: u64,
    /// Operations in the tail (blocks and structural operations).
    pub ops: u64,
    /// The generation the tail followed (the common point).
    pub from: Generation,
    /// The store's generation before the tail was set aside.
    pub to: Generation,
    /// Whether the store was cut back to `from` in place; when not (the tail
    /// holds structural operations), the caller must install a snapshot.
    pub truncated: bool,
}

impl SetAside {
    /// One line for logs and the cluster screen.
    pub fn describe(&self) -> String {
        match &self.clef {
            Some(p) => format!(
                "set aside {} events from a divergent tail (generations {} to {}) to {}",
                self.events,
                self.from,
                self.to,
                p.display()
            ),
            None => format!(
                "set aside a divergent tail of {} operations without events (after {})",
                self.ops, self.from
            ),
        }
    }
}

impl Store {
    /// Writes every event after generation `common` durably into `dest`
    /// (`<name>.clef`, and the raw blocks as `<name>.blocks`), then — when the
    /// tail is only appends to the active segment — cuts the store back to
    /// `common` in place. A crash at any point leaves the store either as it
    /// was or cut back, and the set-aside files complete once it is cut.
    pub fn set_aside_after(&self, common: Generation, dest: &Path) -> Result<SetAside, StoreError> {
        let mut w = self.writer();
        let to = w.generation;
        if common.ops() > to.ops() {
            return Err(StoreError::Mismatch(format!(
                "generation {common} is past this store's generation {to}"
            )));
        }
        let (blocks, model_ops): (Vec<BlockRef>, u64) = {
            let index = self.index.read().expect("index lock");
            let blocks = index
                .blocks_after(common)
                .iter()
                .filter_map(|m| {
                    index.file(m.segment).map(|file| BlockRef {
                        meta: *m,
                        file,
                        summary: None,
                    })
                })
                .collect();
            let model_ops = w
                .manifest
                .recent_ops
                .iter()
                .filter(|r| r.generation.ops() > common.ops())
                .count() as u64;
            (blocks, model_ops)
        };
        let ops = to.ops() - common.ops();
        let mut done = SetAside {
            clef: None,
            events: blocks
                .iter()
                .map(|b| b.meta.header.event_count as u64)
                .sum(),
            blocks: blocks.len() as u64,
            ops,
            from: common,
            to,
            truncated: ops == 0,
        };
        if ops == 0 {
            return Ok(done);
        }
        // The term of the first operation after `common`.
        let term = w
            .term_history
            .iter()
            .take_while(|t| t.generation.ops() <= common.ops())
            .last()
            .map_or(w.term, |t| t.term);
        let name = format!("term{term}-from{common}-to{to}");
        if !blocks.is_empty() {
            fs::create_dir_all(dest).map_err(StoreError::io("create", dest))?;
            if let Some(parent) = dest.parent() {
                manifest::sync_dir(parent)?;
            }
            write_durably(dest, &format!("{name}.blocks"), |out| {
                for b in &blocks {
                    out.write_all(&read_block(b)?)
                        .map_err(StoreError::io("write", dest))?;
                }
                Ok(())
            })?;
            let clef = write_durably(dest, &format!("{name}.clef"), |out| {
                let mut line = Vec::new();
                for b in &blocks {
                    let block = decode_block(&read_block(b)?).map_err(|source| {
                        StoreError::CorruptBlock {
                            segment: b.meta.segment,
                            offset: b.meta.offset,
                            source,
                        }
                    })?;
                    for e in block.iter() {
                        line.clear();
                        write_clef(&e, &mut line);
                        line.push(b'\n');
                        out.write_all(&line)
                            .map_err(StoreError::io("write", dest))?;
                    }
                }
                Ok(())
            })?;
            done.clef = Some(clef);
        }
        // Cut back in place only when the tail is appends to the active segment.
        let active = w.active.as_ref().map(|a| (a.id, a.file.clone()));
        let in_active = |id: u64| blocks.iter().all(|b| b.meta.segment == id);
        if let (0, Some((id, file)), Some(first)) = (model_ops, active, blocks.first()) {
            if in_active(id) && model_ops + blocks.len() as u64 == ops {
                let path = super::segment::log_path(&self.dir, id);
                file.set_len(first.meta.offset)
                    .and_then(|_| file.sync_all())
                    .map_err(StoreError::io("truncate", &path))?;
                let store_id = w.manifest.store_id.clone();
                self.rebuild_in_place(&mut w, &store_id)?;
                done.truncated = true;
            }
        }
        log::warn!("{}", done.describe());
        Ok(done)
    }

    /// Moves this store's whole folder into `dest` (named after its id and
    /// generation) and starts over empty with id `store_id`: for a node that
    /// holds another store than the one it is to replicate. Returns where
    /// the old store now lies.
    pub fn set_aside_store(&self, dest: &Path, store_id: &str) -> Result<PathBuf, StoreError> {
        let mut w = self.writer();
        fs::create_dir_all(dest).map_err(StoreError::io("create", dest))?;
        let moved = dest.join(format!("store-{}-at-{}", w.manifest.store_id, w.generation));
        fs::rename(&self.dir, &moved).map_err(StoreError::io("rename", &self.dir))?;
        manifest::sync_dir(dest)?;
        if let Some(parent) = self.dir.parent() {
            manifest::sync_dir(parent)?;
        }
        log::warn!(
            "moved store {} (at {}) aside to {}",
            w.manifest.store_id,
            w.generation,
            moved.display()
        );
        self.rebuild_in_place(&mut w, store_id)?;
        Ok(moved)
    }
}

/// Writes `dir/name` through `fill`, fsyncs it, renames it into place and
/// fsyncs `dir`; returns its path. A file already there is complete (only a
/// finished write is renamed into place) and, its name being deterministic,
/// holds the same operations: it is kept, so a retry after an interruption
/// (a crash, a session cut off while exporting) does not export again.
fn write_durably(
    dir: &Path,
    name: &str,
    fill: impl FnOnce(&mut BufWriter<&File>) -> Result<(), StoreError>,
) -> Result<PathBuf, StoreError> {
    let (tmp, dst) = (dir.join(format!("{name}.tmp")), dir.join(name));
    if dst.exists() {
        return Ok(dst);
    }
    let f = File::create(&tmp).map_err(StoreError::io("create", &tmp))?;
    let mut out = BufWriter::new(&f);
    fill(&mut out)?;
    out.flush().map_err(StoreError::io("write", &tmp))?;
    drop(out);
    f.sync_all().map_err(StoreError::io("fsync", &tmp))?;
    fs::rename(&tmp, &dst).map_err(StoreError::io("rename", &dst))?;
    manifest::sync_dir(dir)?;
    Ok(dst)
}
