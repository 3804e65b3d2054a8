//! Snapshots: copying a whole store when its history is too old to stream.
//!
//! The source describes its state as a [`SnapshotPlan`] (its manifest and the
//! files, with lengths and checksums, including the active segment's current
//! prefix) and serves file chunks. The replica stages files in a sibling
//! folder `<Stream>.staging`, resumes partial files after an interruption,
//! reuses identical local files instead of fetching them, verifies every
//! file, and only then swaps the staged store in. Bytes set aside by an
//! earlier recovery (`damaged/`, and `diverged/` of older versions) are
//! carried over; divergent tails are set aside outside `Stream/` altogether
//! ([`super::diverge`]), so no install can touch them.
//!
//! Segment summary files (`seg-N.sum`) are derived data and are not copied:
//! the installed store rebuilds them from its segments when it opens, the
//! same bytes as the source's.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::disk::available_bytes;
use super::error::StoreError;
use super::manifest::{self, Manifest, MANIFEST};
use super::segment;
use super::Store;
use crate::generation::Generation;

/// One file of a snapshot.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotFile {
    /// File name inside `Stream/`.
    pub name: String,
    /// Bytes to copy (for the active segment: its length when planned).
    pub len: u64,
    /// crc32c of those bytes.
    pub crc: u32,
}

/// What a replica needs to become a copy of a store at `generation`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotPlan {
    /// The source store's id.
    pub store_id: String,
    /// The generation the copy will have.
    pub generation: Generation,
    /// The source's manifest, byte for byte.
    #[serde(with = "serde_bytes")]
    pub manifest: Vec<u8>,
    /// Files to copy.
    pub files: Vec<SnapshotFile>,
}

impl SnapshotPlan {
    /// The bytes the plan's files add up to (an error past 2^64).
    pub fn total_bytes(&self) -> Result<u64, StoreError> {
        self.files
            .iter()
            .try_fold(0u64, |sum, f| sum.checked_add(f.len))
            .ok_or_else(|| {
                StoreError::Mismatch("the snapshot's files add up past 2^64 bytes".into())
            })
    }
}

/// Fetches `max_len` bytes of file `name` from `offset` at the source.
pub type FetchChunk<'a> = dyn FnMut(&str, u64, usize) -> Result<Vec<u8>, StoreError> + 'a;

/// What an install has staged, reported as it goes (for a caller showing
/// progress): until an error, every byte of the plan is reported once,
/// either kept or fetched.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Staged {
    /// Bytes already in place: staged by an earlier, interrupted copy, or
    /// an identical local file linked in.
    Kept(u64),
    /// Bytes fetched from the source and written to the staging folder.
    Fetched(u64),
}

/// Receives [`Staged`] reports.
pub type StageProgress<'a> = dyn FnMut(Staged) + 'a;

/// Subfolders of `Stream/` that hold set-aside data and survive a snapshot install.
const KEPT_DIRS: [&str; 2] = [super::recover::DAMAGED_DIR, "diverged"];
const READY: &str = "READY";
const STORE_ID: &str = "STORE_ID";
/// Largest chunk asked of the source at once.
pub const CHUNK_BYTES: usize = 4 << 20;

fn sibling(dir: &Path, suffix: &str) -> PathBuf {
    let mut s = dir.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

impl Store {
    /// Describes the store as it is now, for a replica to copy.
    pub fn snapshot_plan(&self) -> SnapshotPlan {
        let w = self.writer();
        let mut files = Vec::new();
        for s in &w.manifest.segments {
            if let Some(info) = s.sealed {
                files.push(SnapshotFile {
                    name: segment::log_name(s.id),
                    len: info.len,
                    crc: info.crc,
                });
                let dir_len =
                    12 + (8 + crate::block::HEADER_LEN as u64) * self.index_blocks_in(s.id);
                files.push(SnapshotFile {
                    name: segment::idx_name(s.id),
                    len: dir_len,
                    crc: info.idx_crc,
                });
            }
        }
        if let Some(a) = &w.active {
            files.push(SnapshotFile {
                name: segment::log_name(a.id),
                len: a.len,
                crc: a.crc,
            });
        }
        SnapshotPlan {
            store_id: w.manifest.store_id.clone(),
            generation: w.generation,
            manifest: w.manifest.to_bytes(),
            files,
        }
    }

    fn index_blocks_in(&self, segment: u64) -> u64 {
        self.index
            .read()
            .expect("index lock")
            .blocks()
            .iter()
            .filter(|b| b.segment == segment)
            .count() as u64
    }

    /// Reads up to `max_len` bytes of store file `name` from `offset`. Only
    /// segment files and block directories the store currently holds are served.
    pub fn read_chunk(
        &self,
        name: &str,
        offset: u64,
        max_len: usize,
    ) -> Result<Vec<u8>, StoreError> {
        let owned = {
            let w = self.writer();
            w.manifest.segments.iter().any(|s| {
                name == segment::log_name(s.id)
                    || (s.sealed.is_some() && name == segment::idx_name(s.id))
            })
        };
        if !owned {
            return Err(StoreError::Mismatch(format!(
                "{name} is not a file of this store"
            )));
        }
        let path = self.dir.join(name);
        let mut f = File::open(&path).map_err(StoreError::io("open", &path))?;
        std::io::Seek::seek(&mut f, std::io::SeekFrom::Start(offset))
            .map_err(StoreError::io("seek", &path))?;
        let mut buf = Vec::with_capacity(max_len.min(CHUNK_BYTES));
        f.take(max_len.min(CHUNK_BYTES) as u64)
            .read_to_end(&mut buf)
            .map_err(StoreError::io("read", &path))?;
        Ok(buf)
    }
}

/// Makes the (closed) store in `dir` a copy of the planned one, fetching
/// chunks with `fetch(name, offset, max_len)`. Resumable: call again after
/// any error. Refuses to start when the copy would cross the disk floor.
/// What is staged is reported to `progress` as it goes.
pub fn install_snapshot(
    dir: &Path,
    plan: &SnapshotPlan,
    disk_floor_bytes: u64,
    fetch: &mut FetchChunk<'_>,
    progress: &mut StageProgress<'_>,
) -> Result<(), StoreError> {
    let staging = sibling(dir, ".staging");
    prepare_staging(&staging, &plan.store_id)?;
    let needed = plan.total_bytes()?;
    let available = available_bytes(&staging).map_err(StoreError::io("statvfs", &staging))?;
    if available < needed.saturating_add(disk_floor_bytes) {
        return Err(StoreError::DiskFull {
            available,
            floor: disk_floor_bytes.saturating_add(needed),
        });
    }
    for file in &plan.files {
        if !is_store_file(&file.name) {
            return Err(StoreError::Mismatch(format!(
                "snapshot names a foreign file {:?}",
                file.name
            )));
        }
        stage_file(dir, &staging, file, fetch, progress)?;
    }
    let m = Manifest::from_bytes(&plan.manifest, &staging.join(MANIFEST))?;
    if m.store_id != plan.store_id {
        return Err(StoreError::Mismatch(
            "snapshot manifest belongs to another store".into(),
        ));
    }
    manifest::write_atomic(&staging, MANIFEST, &plan.manifest)?;
    manifest::write_atomic(&staging, READY, plan.generation.to_string().as_bytes())?;
    swap_in(dir, &staging)
}

fn is_store_file(name: &str) -> bool {
    name.starts_with("seg-")
        && (name.ends_with(".log") || name.ends_with(".idx"))
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
}

fn prepare_staging(staging: &Path, store_id: &str) -> Result<(), StoreError> {
    let id_path = staging.join(STORE_ID);
    if fs::read_to_string(&id_path).is_ok_and(|id| id != store_id) {
        fs::remove_dir_all(staging).map_err(StoreError::io("remove", staging))?;
    }
    fs::create_dir_all(staging).map_err(StoreError::io("create", staging))?;
    let _ = fs::remove_file(staging.join(READY));
    manifest::write_atomic(staging, STORE_ID, store_id.as_bytes())
}

/// Brings `staging/<name>` to the planned length and checksum: keeps it if
/// complete, resumes it if partial, links an identical local file, or fetches.
fn stage_file(
    dir: &Path,
    staging: &Path,
    file: &SnapshotFile,
    fetch: &mut FetchChunk<'_>,
    progress: &mut StageProgress<'_>,
) -> Result<(), StoreError> {
    let path = staging.join(&file.name);
    let have = fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    if have > file.len || (have == file.len && crc_of(&path, file.len)? != Some(file.crc)) {
        fs::remove_file(&path).map_err(StoreError::io("remove", &path))?;
    } else if have == file.len && path.exists() {
        progress(Staged::Kept(file.len));
        return Ok(());
    }
    let local = dir.join(&file.name);
    if !path.exists()
        && fs::metadata(&local).is_ok_and(|m| m.len() == file.len)
        && crc_of(&local, file.len)? == Some(file.crc)
    {
        fs::hard_link(&local, &path).map_err(StoreError::io("link", &path))?;
        progress(Staged::Kept(file.len));
        return Ok(());
    }
    let mut out = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(StoreError::io("open", &path))?;
    let mut at = out.metadata().map_err(StoreError::io("stat", &path))?.len();
    if at > 0 {
        progress(Staged::Kept(at));
    }
    while at < file.len {
        let want = ((file.len - at) as usize).min(CHUNK_BYTES);
        let chunk = fetch(&file.name, at, want)?;
        if chunk.is_empty() || chunk.len() > want {
            return Err(StoreError::Mismatch(format!(
                "source sent {} bytes of {} at {at}",
                chunk.len(),
                file.name
            )));
        }
        out.write_all(&chunk)
            .map_err(StoreError::io("write", &path))?;
        at += chunk.len() as u64;
        progress(Staged::Fetched(chunk.len() as u64));
    }
    out.sync_all().map_err(StoreError::io("fsync", &path))?;
    if crc_of(&path, file.len)? != Some(file.crc) {
        fs::remove_file(&path).map_err(StoreError::io("remove", &path))?;
        return Err(StoreError::Mismatch(format!(
            "{} failed its checksum; it will be fetched again",
            file.name
        )));
    }
    Ok(())
}

/// crc32c of the first `len` bytes of `path`, or `None` if it is shorter.
fn crc_of(path: &Path, len: u64) -> Result<Option<u32>, StoreError> {
    let f = File::open(path).map_err(StoreError::io("open", path))?;
    let mut r = f.take(len);
    let (mut crc, mut n, mut buf) = (0u32, 0u64, vec![0u8; 1 << 20]);
    loop {
        let k = r.read(&mut buf).map_err(StoreError::io("read", path))?;
        if k == 0 {
            break;
        }
        crc = crc32c::crc32c_append(crc, &buf[..k]);
        n += k as u64;
    }
    Ok((n == len).then_some(crc))
}

/// Replaces `dir` with the verified `staging` folder, keeping set-aside data.
fn swap_in(dir: &Path, staging: &Path) -> Result<(), StoreError> {
    let old = sibling(dir, ".old");
    if dir.exists() {
        if old.exists() {
            fs::remove_dir_all(&old).map_err(StoreError::io("remove", &old))?;
        }
        fs::rename(dir, &old).map_err(StoreError::io("rename", dir))?;
    }
    fs::rename(staging, dir).map_err(StoreError::io("rename", staging))?;
    if let Some(parent) = dir.parent() {
        manifest::sync_dir(parent)?;
    }
    finish_interrupted_install(dir)
}

/// Completes a swap a crash interrupted: moves a ready staging folder into
/// place when `dir` is missing, and carries set-aside data out of `.old`
/// before removing it. Called whenever a store is opened.
pub(crate) fn finish_interrupted_install(dir: &Path) -> Result<(), StoreError> {
    let (staging, old) = (sibling(dir, ".staging"), sibling(dir, ".old"));
    if !dir.exists() && staging.join(READY).exists() {
        fs::rename(&staging, dir).map_err(StoreError::io("rename", &staging))?;
    }
    if old.exists() && dir.exists() {
        for kept in KEPT_DIRS {
            let (from, to) = (old.join(kept), dir.join(kept));
            if from.is_dir() {
                fs::create_dir_all(&to).map_err(StoreError::io("create", &to))?;
                for e in fs::read_dir(&from).map_err(StoreError::io("list", &from))? {
                    let e = e.map_err(StoreError::io("list", &from))?;
                    fs::rename(e.path(), to.join(e.file_name()))
                        .map_err(StoreError::io("rename", e.path()))?;
                }
            }
        }
        fs::remove_dir_all(&old).map_err(StoreError::io("remove", &old))?;
    }
    for marker in [READY, STORE_ID] {
        let _ = fs::remove_file(dir.join(marker));
    }
    Ok(())
}

impl Store {
    /// Makes this open store a copy of the planned one ([`install_snapshot`]
    /// into its own folder, then rebuilt in place as [`Store::reopen`] does):
    /// readers holding this `Store` keep working. Writes wait meanwhile. For
    /// a replica whose history is too old to stream; resumable after errors.
    pub fn install_snapshot_in_place(
        &self,
        plan: &SnapshotPlan,
        fetch: &mut FetchChunk<'_>,
        progress: &mut StageProgress<'_>,
    ) -> Result<(), StoreError> {
        let mut w = self.writer();
        install_snapshot(&self.dir, plan, w.opts.disk_floor_bytes, fetch, progress)?;
        self.rebuild_in_place(&mut w, &plan.store_id)
    }
}
