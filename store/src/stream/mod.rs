//! The generational event store kept under `<storage>/Stream/`.
//!
//! - [`manifest`]: structural state and recent structural ops, replaced atomically.
//! - [`segment`]: segment files, block scanning, sealed block directories.
//! - `summaries`: the background summarizer of appended blocks, and sealed
//!   segments' summary files (written at seal, loaded or rebuilt on open;
//!   derived data, not replicated).
//! - [`index`]: the in-memory block index (with each block's summary)
//!   readers select from.
//! - `writer`: the mutable state; every file-changing operation.
//! - `commit`: group commit in front of the writer.
//! - `recover`: opening a store after a clean stop or a crash.
//! - [`read`]: ordered visits over a time range (newest or oldest first).
//! - [`history`]: "everything after generation G", and applying it on a replica.
//! - [`snapshot`]: copying a whole store in resumable, checksummed chunks.
//! - [`diverge`]: where two copies' histories part; setting aside a tail
//!   only this copy holds.
//! - `disk`: free-space checks for the disk floor.
//! - [`latency`]: the fsync latency histogram appends update.

mod commit;
mod disk;
pub mod diverge;
mod error;
pub mod history;
pub mod index;
pub mod latency;
pub mod manifest;
pub mod read;
mod recover;
pub mod segment;
pub mod snapshot;
mod summaries;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

pub use diverge::{common_point, SetAside};
pub use error::{StoreError, TooOld};
pub use index::BlockRef;
pub use latency::{FsyncLatency, LatencySnapshot, FSYNC_BUCKETS};
pub use manifest::TermStart;
pub use read::Order;
pub use writer::AppendReceipt;

use crate::block::{decode_block, encode_block, DecodedBlock, EncodedBlock};
use crate::generation::Generation;
use crate::{Event, Timestamp};
use commit::GroupCommit;
use index::BlockIndex;
use writer::Writer;

/// Tunables of a store; `Default` gives the production values.
#[derive(Clone, Debug)]
pub struct StoreOptions {
    /// Seal the active segment once it holds this many bytes.
    pub segment_max_bytes: u64,
    /// Seal a non-empty active segment once it is this old.
    pub segment_max_age: Duration,
    /// Refuse appends while less than this many bytes are free (0 disables).
    pub disk_floor_bytes: u64,
    /// Structural operations kept for replication before followers need a snapshot.
    pub recent_ops_kept: usize,
    /// Most payload bytes written by one group commit.
    pub max_group_bytes: usize,
}

impl Default for StoreOptions {
    fn default() -> StoreOptions {
        StoreOptions {
            segment_max_bytes: 64 << 20,
            segment_max_age: Duration::from_secs(3600),
            disk_floor_bytes: 1 << 30,
            recent_ops_kept: 10_000,
            max_group_bytes: 16 << 20,
        }
    }
}

/// A point-in-time description of the store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoreStatus {
    /// The store's id.
    pub store_id: String,
    /// Current generation.
    pub generation: Generation,
    /// Term stamped on new writes.
    pub term: u64,
    /// Events held.
    pub events: u64,
    /// Bytes of segment files.
    pub bytes: u64,
    /// Segments held (sealed and active).
    pub segments: usize,
    /// Arrival number of the next event.
    pub next_arrival: u64,
}

/// The event store. Cheap to share behind an `Arc`; every method takes `&self`.
pub struct Store {
    dir: PathBuf,
    writer: Mutex<Writer>,
    commit: GroupCommit,
    index: Arc<RwLock<BlockIndex>>,
    published: Arc<Mutex<(u64, Generation)>>,
    /// A term the store has reached (its writer's term never goes back):
    /// lets [`Store::advance_term`] skip the writer lock on every append.
    term_reached: AtomicU64,
    write_clock: Arc<disk::WriteClock>,
    fsync_latency: Arc<FsyncLatency>,
}

impl Store {
    /// Opens the store in `dir` (its `Stream/` folder), creating it when absent,
    /// and recovers from any crash.
    pub fn open(dir: impl AsRef<Path>, opts: StoreOptions) -> Result<Store, StoreError> {
        Store::from_writer(recover::open(dir.as_ref(), opts, None)?)
    }

    /// Opens or creates a replica of the store with id `store_id`.
    pub fn open_replica(
        dir: impl AsRef<Path>,
        opts: StoreOptions,
        store_id: &str,
    ) -> Result<Store, StoreError> {
        Store::from_writer(recover::open(dir.as_ref(), opts, Some(store_id))?)
    }

    fn from_writer(mut w: Writer) -> Result<Store, StoreError> {
        let summarizer = summaries::Summarizer::spawn(&w.index);
        summarizer.enqueue(w.index.read().expect("index lock").unsummarized());
        w.summarizer = Some(summarizer);
        Ok(Store {
            dir: w.dir.clone(),
            index: w.index.clone(),
            published: w.published.clone(),
            term_reached: AtomicU64::new(w.term),
            write_clock: w.write_clock.clone(),
            fsync_latency: w.fsync_latency.clone(),
            writer: Mutex::new(w),
            commit: GroupCommit::default(),
        })
    }

    /// The store's folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn writer(&self) -> std::sync::MutexGuard<'_, Writer> {
        self.writer.lock().expect("writer lock")
    }

    /// Appends an encoded batch; returns once it is fsynced.
    pub fn append(&self, block: EncodedBlock) -> Result<AppendReceipt, StoreError> {
        if block.header.event_count == 0 {
            return Err(StoreError::InvalidBatch(
                "a batch must hold at least one event".into(),
            ));
        }
        let max = self.writer().opts.max_group_bytes;
        self.commit.append(&self.writer, block, max)
    }

    /// Encodes and appends a batch of events; returns once it is fsynced.
    pub fn append_events(&self, events: &[Event]) -> Result<AppendReceipt, StoreError> {
        self.append(encode_block(events))
    }

    /// Whether an earlier write failure left the store refusing writes until
    /// [`Store::reopen`].
    pub fn is_failed(&self) -> bool {
        self.writer().failed
    }

    /// Rebuilds the store's state from its files exactly as opening it would
    /// (verifying the active segment, setting a torn tail aside), in place:
    /// readers holding this `Store` keep working. Clears a failed state.
    pub fn reopen(&self) -> Result<(), StoreError> {
        let mut w = self.writer();
        let store_id = w.manifest.store_id.clone();
        self.rebuild_in_place(&mut w, &store_id)
    }

    /// Recovers the store of id `store_id` from the files in its folder and
    /// swaps the result in behind `w`, keeping the shared index and published
    /// generation that readers hold.
    fn rebuild_in_place(&self, w: &mut Writer, store_id: &str) -> Result<(), StoreError> {
        let mut fresh = recover::open(&self.dir, w.opts.clone(), Some(store_id))?;
        let rebuilt = std::mem::take(&mut *fresh.index.write().expect("index lock"));
        *self.index.write().expect("index lock") = rebuilt;
        fresh.index = self.index.clone();
        fresh.published = self.published.clone();
        fresh.write_clock = self.write_clock.clone();
        fresh.fsync_latency = self.fsync_latency.clone();
        fresh.summarizer = w.summarizer.clone();
        if let Some(s) = &fresh.summarizer {
            s.enqueue(self.index.read().expect("index lock").unsummarized());
        }
        fresh.term = fresh.term.max(w.term);
        fresh.publish();
        *w = fresh;
        Ok(())
    }

    /// Whether an append now would be refused (failed store, disk floor).
    pub fn check_writable(&self) -> Result<(), StoreError> {
        self.writer().check_writable()
    }

    /// How long the write in progress has waited on the disk (write and
    /// fsync) so far; None when no write is in progress. Never waits.
    pub fn write_waiting(&self) -> Option<std::time::Duration> {
        self.write_clock.waiting()
    }

    /// How long appends (group commits and replicated batches) have waited
    /// on fsync since the store was opened. Never waits.
    pub fn fsync_latency(&self) -> LatencySnapshot {
        self.fsync_latency.snapshot()
    }

    /// Segment bytes (block headers and payloads) of the batches this store
    /// holds after generation `g`: how far behind a copy at `g` is, in bytes.
    pub fn bytes_after(&self, g: Generation) -> u64 {
        let index = self.index.read().expect("index lock");
        index
            .blocks_after(g)
            .iter()
            .map(|b| b.header.block_len())
            .sum()
    }

    /// The current generation (never waits for an fsync in flight).
    pub fn generation(&self) -> Generation {
        self.newest_position().1
    }

    /// The term of the newest operation (0 when none) and the generation
    /// it reached, read together without waiting for the writer (a
    /// snapshot install or an fsync in flight holds it).
    pub fn newest_position(&self) -> (u64, Generation) {
        *self.published.lock().expect("published generation")
    }

    /// The store's id, term, size and position.
    pub fn status(&self) -> StoreStatus {
        let w = self.writer();
        let index = self.index.read().expect("index lock");
        let bytes = w
            .manifest
            .segments
            .iter()
            .map(|s| s.sealed.map_or(0, |i| i.len))
            .sum::<u64>()
            + w.active.as_ref().map_or(0, |a| a.len);
        StoreStatus {
            store_id: w.manifest.store_id.clone(),
            generation: w.generation,
            term: w.term,
            events: index.event_count(),
            bytes,
            segments: w.manifest.segments.len(),
            next_arrival: w.next_arrival,
        }
    }

    /// Sets the term stamped on subsequent writes; terms never go back.
    pub fn set_term(&self, term: u64) -> Result<(), StoreError> {
        let mut w = self.writer();
        if term < w.term {
            return Err(StoreError::Mismatch(format!(
                "term {term} is older than the store's term {}",
                w.term
            )));
        }
        w.term = term;
        self.term_reached.fetch_max(term, Ordering::AcqRel);
        Ok(())
    }

    /// Moves the store to `term` when it is behind it (never back); takes
    /// the writer lock only for a term newer than any it has reached here.
    pub fn advance_term(&self, term: u64) {
        if self.term_reached.load(Ordering::Acquire) >= term {
            return;
        }
        let mut w = self.writer();
        w.term = w.term.max(term);
        self.term_reached.fetch_max(w.term, Ordering::AcqRel);
    }

    /// Gives an empty store (generation zero, no segments) the id `id`, so that
    /// it can replicate the store with that id. A store holding anything keeps
    /// its id: the call fails with `Mismatch`.
    pub fn adopt_store_id(&self, id: &str) -> Result<(), StoreError> {
        recover::check_store_id(id)?;
        let mut w = self.writer();
        if w.manifest.store_id == id {
            return Ok(());
        }
        if w.generation != Generation::ZERO || !w.manifest.segments.is_empty() {
            return Err(StoreError::Mismatch(format!(
                "store {} is at generation {}, not empty: it cannot take id {id}",
                w.manifest.store_id, w.generation
            )));
        }
        let mut manifest = w.manifest.clone();
        manifest.store_id = id.to_owned();
        manifest.save(&w.dir)?;
        w.manifest = manifest;
        Ok(())
    }

    /// Term starts, oldest first.
    pub fn term_history(&self) -> Vec<TermStart> {
        self.writer().term_history.clone()
    }

    /// Seals the active segment now (no-op when empty or absent).
    pub fn seal(&self) -> Result<(), StoreError> {
        self.writer().seal()
    }

    /// Periodic upkeep: seals the active segment when it is too old, then
    /// deletes sealed segments whose newest event is older than `cutoff`.
    /// Returns the deleted segment ids.
    pub fn maintain(&self, cutoff: Option<Timestamp>) -> Result<Vec<u64>, StoreError> {
        let mut w = self.writer();
        w.maybe_seal()?;
        let Some(cutoff) = cutoff else {
            return Ok(Vec::new());
        };
        let expired: Vec<u64> = w
            .manifest
            .segments
            .iter()
            .filter(|s| {
                s.sealed
                    .is_some_and(|i| i.max_ts.is_none_or(|t| t < cutoff))
            })
            .map(|s| s.id)
            .collect();
        for id in &expired {
            w.delete_segment(*id)?;
            log::info!("retention deleted segment {id} (all events before the cutoff)");
        }
        Ok(expired)
    }

    /// Blocks that may hold events in `[from, to)`, oldest generation first.
    pub fn blocks(&self, from: Option<Timestamp>, to: Option<Timestamp>) -> Vec<BlockRef> {
        self.index.read().expect("index lock").select(from, to)
    }

    /// Reads, verifies and decodes one block.
    pub fn read_block(&self, block: &BlockRef) -> Result<DecodedBlock, StoreError> {
        read::read_block(block).and_then(|bytes| {
            decode_block(&bytes).map_err(|source| StoreError::CorruptBlock {
                segment: block.meta.segment,
                offset: block.meta.offset,
                source,
            })
        })
    }
}

#[cfg(test)]
mod tests;
