//! Opening a store: load or create the manifest, index sealed segments from
//! their block directories and summary files, verify the active segment
//! block by block, set a torn tail aside, and remove files the manifest no
//! longer owns.

use std::fs::{self, File};
use std::path::Path;
use std::sync::{Arc, Mutex, RwLock};

use super::error::StoreError;
use super::index::BlockIndex;
use super::manifest::{self, Manifest, SegmentEntry};
use super::segment;
use super::writer::{note_term, open_segment_file, Active, Writer};
use super::{summaries, StoreOptions};

/// Folder (inside `Stream/`) where bytes cut off a damaged segment are kept.
pub const DAMAGED_DIR: &str = "damaged";

/// Opens (creating when absent) the store in `dir`. `store_id` fixes the id of
/// a newly created store (a replica takes its leader's); when the store exists
/// it must match.
pub(crate) fn open(
    dir: &Path,
    opts: StoreOptions,
    store_id: Option<&str>,
) -> Result<Writer, StoreError> {
    if let Some(id) = store_id {
        check_store_id(id)?;
    }
    super::snapshot::finish_interrupted_install(dir)?;
    fs::create_dir_all(dir).map_err(StoreError::io("create", dir))?;
    let manifest = match Manifest::load(dir)? {
        Some(m) => {
            if let Some(id) = store_id.filter(|id| *id != m.store_id) {
                return Err(StoreError::Mismatch(format!(
                    "store in {} has id {}, expected {id}",
                    dir.display(),
                    m.store_id
                )));
            }
            m
        }
        None => {
            let m = Manifest::empty(store_id.map_or_else(new_store_id, str::to_owned));
            m.save(dir)?;
            m
        }
    };
    let mut index = BlockIndex::default();
    let mut active = None;
    for entry in &manifest.segments {
        match entry.sealed {
            Some(_) => index_sealed(dir, entry, &mut index)?,
            None => active = Some(recover_active(dir, entry.id, &mut index)?),
        }
    }
    remove_orphans(dir, &manifest)?;

    let mut generation = manifest.generation;
    let mut term_history = manifest.term_history.clone();
    let mut next_arrival = manifest.next_arrival;
    for b in index.blocks_after(manifest.generation) {
        note_term(&mut term_history, b.header.term, generation);
        generation = b.header.generation;
        next_arrival = next_arrival.max(
            b.header
                .first_arrival
                .saturating_add(b.header.event_count as u64),
        );
    }
    let term = term_history.last().map_or(0, |t| t.term);
    Ok(Writer {
        dir: dir.to_path_buf(),
        opts,
        manifest,
        active,
        generation,
        term,
        term_history,
        next_arrival,
        failed: false,
        index: Arc::new(RwLock::new(index)),
        published: Arc::new(Mutex::new((term, generation))),
        write_clock: Arc::default(),
        fsync_latency: Arc::default(),
        buf: Vec::new(),
        summarizer: None,
    })
}

/// Refuses a store id that is not 1 to 64 ASCII letters, digits or dashes:
/// ids come from peers and end up in file names (`Divergent/store-<id>-…`).
pub fn check_store_id(id: &str) -> Result<(), StoreError> {
    let valid =
        (1..=64).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    match valid {
        true => Ok(()),
        false => Err(StoreError::Mismatch(format!(
            "{:?} is not a store id (1 to 64 letters, digits or dashes)",
            id.chars().take(80).collect::<String>()
        ))),
    }
}

/// A fresh random store id (128 bits, hex).
pub fn new_store_id() -> String {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).expect("operating system random source");
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Indexes a sealed segment from its block directory and summary file,
/// rebuilding either from the segment itself if it is missing or damaged.
fn index_sealed(
    dir: &Path,
    entry: &SegmentEntry,
    index: &mut BlockIndex,
) -> Result<(), StoreError> {
    let info = entry.sealed.expect("sealed entry");
    let log = segment::log_path(dir, entry.id);
    let file = File::open(&log).map_err(StoreError::io("open", &log))?;
    let len = file.metadata().map_err(StoreError::io("stat", &log))?.len();
    if len != info.len {
        return Err(StoreError::CorruptManifest {
            path: log,
            reason: format!("sealed segment is {len} bytes, manifest says {}", info.len),
        });
    }
    let idx = segment::idx_path(dir, entry.id);
    let from_directory = fs::read(&idx)
        .ok()
        .filter(|b| crc32c::crc32c(b) == info.idx_crc)
        .and_then(|b| segment::decode_directory(&b, entry.id).ok());
    let blocks = match from_directory {
        Some(blocks) => blocks,
        None => {
            log::warn!(
                "block directory {} missing or damaged; rebuilding it from the segment",
                idx.display()
            );
            let scan = segment::scan(&file, &log, entry.id)?;
            if scan.valid_len != info.len || scan.crc != info.crc {
                return Err(StoreError::CorruptManifest {
                    path: log,
                    reason: "sealed segment does not match its recorded checksum".into(),
                });
            }
            manifest::write_atomic(
                dir,
                &segment::idx_name(entry.id),
                &segment::encode_directory(&scan.blocks),
            )?;
            scan.blocks
        }
    };
    let summaries = summaries::load(dir, entry.id, &info, &file, &blocks)?;
    index.add_segment(entry.id, Arc::new(file));
    index.push(blocks.into_iter().zip(summaries));
    Ok(())
}

/// Verifies every block of the active segment; bytes after the last intact
/// block (a torn write) are copied to `damaged/` and cut off.
fn recover_active(dir: &Path, id: u64, index: &mut BlockIndex) -> Result<Active, StoreError> {
    let path = segment::log_path(dir, id);
    let file = open_segment_file(dir, id, true)?;
    let scan = segment::scan(&file, &path, id)?;
    if let Some(why) = &scan.stopped_by {
        let tail = scan.file_len - scan.valid_len;
        log::warn!(
            "segment {} has {tail} bytes after its last intact block at {} ({why}); setting them aside",
            path.display(),
            scan.valid_len
        );
        set_aside_tail(dir, &file, &path, id, scan.valid_len, scan.file_len)?;
        file.set_len(scan.valid_len)
            .map_err(StoreError::io("truncate", &path))?;
        file.sync_all().map_err(StoreError::io("fsync", &path))?;
    }
    let file = Arc::new(file);
    let mut active = Active::new(id, file.clone());
    let mut buf = Vec::new();
    for b in &scan.blocks {
        buf.resize(b.header.block_len() as usize, 0);
        std::os::unix::fs::FileExt::read_exact_at(&*file, &mut buf, b.offset)
            .map_err(StoreError::io("read", &path))?;
        active.note(&b.header, &buf);
    }
    debug_assert_eq!(active.crc, scan.crc);
    index.add_segment(id, file);
    index.push(scan.blocks.iter().map(|b| (*b, None)));
    Ok(active)
}

fn set_aside_tail(
    dir: &Path,
    file: &File,
    path: &Path,
    id: u64,
    from: u64,
    to: u64,
) -> Result<(), StoreError> {
    let damaged = dir.join(DAMAGED_DIR);
    fs::create_dir_all(&damaged).map_err(StoreError::io("create", &damaged))?;
    let mut bytes = vec![0u8; (to - from) as usize];
    std::os::unix::fs::FileExt::read_exact_at(file, &mut bytes, from)
        .map_err(StoreError::io("read", path))?;
    manifest::write_atomic(&damaged, &format!("seg-{id:06}-at-{from}.tail"), &bytes)
}

/// Removes segment files and temp files that the manifest does not list
/// (left by a crash between recording a deletion and unlinking its files),
/// and summary files of segments not sealed (left by a crash while one
/// sealed).
fn remove_orphans(dir: &Path, manifest: &Manifest) -> Result<(), StoreError> {
    let owned: Vec<String> = manifest
        .segments
        .iter()
        .flat_map(|s| {
            let summary = s.sealed.map(|_| segment::sum_name(s.id));
            [segment::log_name(s.id), segment::idx_name(s.id)]
                .into_iter()
                .chain(summary)
        })
        .collect();
    for entry in fs::read_dir(dir).map_err(StoreError::io("list", dir))? {
        let entry = entry.map_err(StoreError::io("list", dir))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let ours =
            name.starts_with("seg-") && [".log", ".idx", ".sum"].iter().any(|x| name.ends_with(x));
        let marker = name == "READY" || name == "STORE_ID";
        if (ours && !owned.contains(&name)) || name.ends_with(".tmp") || marker {
            log::info!("removing {name}, which the manifest no longer lists");
            fs::remove_file(entry.path()).map_err(StoreError::io("remove", entry.path()))?;
        }
    }
    Ok(())
}
