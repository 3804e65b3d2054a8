//! The manifest: the store's structural state, replaced atomically.
//!
//! Appends never touch the manifest (their blocks describe themselves); every
//! structural operation rewrites it with temp file + fsync + rename + fsync of
//! the directory. It also keeps the most recent structural operations, which
//! together with the blocks in the segments form the replayable history.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::error::StoreError;
use crate::generation::Generation;
use crate::Timestamp;

/// Manifest file name inside `Stream/`.
pub const MANIFEST: &str = "manifest";
/// Current manifest format.
pub const MANIFEST_FORMAT: u32 = 1;

/// One leadership term's start: the generation before its first operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TermStart {
    /// The term number.
    pub term: u64,
    /// The store generation when the term's first operation was applied.
    pub generation: Generation,
}

/// What is known of a sealed (immutable) segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealInfo {
    /// Final byte length.
    pub len: u64,
    /// crc32c of the whole file.
    pub crc: u32,
    /// crc32c of its block directory file (`seg-N.idx`).
    pub idx_crc: u32,
    /// Events in the segment.
    pub events: u64,
    /// Earliest event timestamp (ns), if any events.
    pub min_ts: Option<Timestamp>,
    /// Latest event timestamp (ns), if any events.
    pub max_ts: Option<Timestamp>,
}

/// A segment as the manifest lists it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SegmentEntry {
    /// Segment id; files are `seg-<id>.log` and `seg-<id>.idx`.
    pub id: u64,
    /// Present once sealed; the last segment is the active one while `None`.
    pub sealed: Option<SealInfo>,
}

/// A structural operation, each bumping `Generation::model`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ModelOp {
    /// A new, empty active segment.
    NewSegment {
        /// Its id.
        segment: u64,
    },
    /// The active segment became immutable, with this final length and checksum.
    Seal {
        /// Its id.
        segment: u64,
        /// Seal details.
        info: SealInfo,
    },
    /// A sealed segment was deleted by retention.
    Delete {
        /// Its id.
        segment: u64,
    },
}

/// A structural operation stamped with its term and the generation after it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpRecord {
    /// The term in which it was performed.
    pub term: u64,
    /// The generation after the operation.
    pub generation: Generation,
    /// What was done.
    pub op: ModelOp,
}

/// The store's structural state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// Format version.
    pub format: u32,
    /// Random id fixed when the store (or the store it replicates) was created.
    pub store_id: String,
    /// Generation after the last structural operation.
    pub generation: Generation,
    /// Arrival number the next event gets, as of the last structural operation.
    pub next_arrival: u64,
    /// Term starts, oldest first, as of the last structural operation.
    pub term_history: Vec<TermStart>,
    /// Segments, oldest first; the last unsealed one is active.
    pub segments: Vec<SegmentEntry>,
    /// The most recent structural operations, oldest first.
    pub recent_ops: Vec<OpRecord>,
}

impl Manifest {
    /// A manifest for a store that has no operations yet.
    pub fn empty(store_id: String) -> Manifest {
        Manifest {
            format: MANIFEST_FORMAT,
            store_id,
            generation: Generation::ZERO,
            next_arrival: 0,
            term_history: Vec::new(),
            segments: Vec::new(),
            recent_ops: Vec::new(),
        }
    }

    /// Serialised form; deterministic for equal manifests.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut b = serde_json::to_vec_pretty(self).expect("manifest serialises");
        b.push(b'\n');
        b
    }

    /// Parses a manifest read from `path`.
    pub fn from_bytes(bytes: &[u8], path: &Path) -> Result<Manifest, StoreError> {
        let m: Manifest =
            serde_json::from_slice(bytes).map_err(|e| StoreError::CorruptManifest {
                path: path.to_path_buf(),
                reason: e.to_string(),
            })?;
        if m.format != MANIFEST_FORMAT {
            return Err(StoreError::CorruptManifest {
                path: path.to_path_buf(),
                reason: format!("unsupported manifest format {}", m.format),
            });
        }
        Ok(m)
    }

    /// Loads `dir/manifest`, or `None` when the store has none yet.
    pub fn load(dir: &Path) -> Result<Option<Manifest>, StoreError> {
        let path = dir.join(MANIFEST);
        match fs::read(&path) {
            Ok(b) => Manifest::from_bytes(&b, &path).map(Some),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(StoreError::io("read", &path)(e)),
        }
    }

    /// Replaces `dir/manifest` atomically and durably.
    pub fn save(&self, dir: &Path) -> Result<(), StoreError> {
        write_atomic(dir, MANIFEST, &self.to_bytes())
    }

    /// The active segment's id, if any.
    pub fn active_segment(&self) -> Option<u64> {
        self.segments
            .last()
            .filter(|s| s.sealed.is_none())
            .map(|s| s.id)
    }

    /// Records a structural operation: applies it to the segment list, stamps
    /// it, and keeps at most `keep` recent operations.
    pub fn record(&mut self, term: u64, op: ModelOp, keep: usize) -> OpRecord {
        match op {
            ModelOp::NewSegment { segment } => self.segments.push(SegmentEntry {
                id: segment,
                sealed: None,
            }),
            ModelOp::Seal { segment, info } => {
                if let Some(s) = self.segments.iter_mut().find(|s| s.id == segment) {
                    s.sealed = Some(info);
                }
            }
            ModelOp::Delete { segment } => self.segments.retain(|s| s.id != segment),
        }
        self.generation = self.generation.next_model();
        let rec = OpRecord {
            term,
            generation: self.generation,
            op,
        };
        self.recent_ops.push(rec);
        if self.recent_ops.len() > keep {
            let drop = self.recent_ops.len() - keep;
            self.recent_ops.drain(..drop);
        }
        rec
    }
}

/// Writes `dir/name` atomically: temp file, fsync, rename, fsync the directory.
pub fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> Result<(), StoreError> {
    let tmp: PathBuf = dir.join(format!("{name}.tmp"));
    let dst = dir.join(name);
    let mut f = File::create(&tmp).map_err(StoreError::io("create", &tmp))?;
    f.write_all(bytes).map_err(StoreError::io("write", &tmp))?;
    f.sync_all().map_err(StoreError::io("fsync", &tmp))?;
    drop(f);
    fs::rename(&tmp, &dst).map_err(StoreError::io("rename", &dst))?;
    sync_dir(dir)
}

/// fsyncs a directory so that renames and creations in it are durable.
pub fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(StoreError::io("fsync", dir))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saves_atomically_and_loads_back() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(Manifest::load(dir.path()).unwrap(), None);
        let mut m = Manifest::empty("abc".into());
        m.record(1, ModelOp::NewSegment { segment: 1 }, 2);
        m.record(1, ModelOp::Delete { segment: 1 }, 2);
        m.record(1, ModelOp::NewSegment { segment: 2 }, 2);
        assert_eq!(m.recent_ops.len(), 2);
        assert_eq!(m.generation, Generation { model: 3, write: 0 });
        assert_eq!(m.active_segment(), Some(2));
        m.save(dir.path()).unwrap();
        assert_eq!(Manifest::load(dir.path()).unwrap(), Some(m));
        assert!(!dir.path().join("manifest.tmp").exists());
    }

    #[test]
    fn rejects_garbage() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(MANIFEST), b"{nope").unwrap();
        assert!(matches!(
            Manifest::load(dir.path()),
            Err(StoreError::CorruptManifest { .. })
        ));
    }
}
