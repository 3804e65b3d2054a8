//! [`Writer`]: the store's mutable state and every operation that changes
//! files. Only one thread holds it at a time (the group committer, or a
//! structural operation), so nothing here needs finer locking.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;

use super::disk::{available_bytes, WriteClock};
use super::error::StoreError;
use super::index::{BlockIndex, BlockRef};
use super::latency::FsyncLatency;
use super::manifest::{self, Manifest, ModelOp, OpRecord, SealInfo, TermStart};
use super::segment::{self, BlockMeta};
use super::summaries::{self, Summarizer};
use super::StoreOptions;
use crate::block::{BlockHeader, EncodedBlock};
use crate::generation::Generation;
use crate::Timestamp;

/// The active (unsealed) segment being appended to.
#[derive(Debug)]
pub(crate) struct Active {
    pub id: u64,
    pub file: Arc<File>,
    pub len: u64,
    pub crc: u32,
    pub events: u64,
    pub min_ts: Option<Timestamp>,
    pub max_ts: Option<Timestamp>,
    pub opened: Instant,
}

impl Active {
    pub fn new(id: u64, file: Arc<File>) -> Active {
        Active {
            id,
            file,
            len: 0,
            crc: 0,
            events: 0,
            min_ts: None,
            max_ts: None,
            opened: Instant::now(),
        }
    }

    /// Accounts for blocks now durable at the end of the segment.
    pub fn note(&mut self, header: &BlockHeader, bytes: &[u8]) {
        self.crc = crc32c::crc32c_append(self.crc, bytes);
        self.len += bytes.len() as u64;
        self.events += header.event_count as u64;
        if header.event_count > 0 {
            self.min_ts = Some(self.min_ts.map_or(header.min_ts, |m| m.min(header.min_ts)));
            self.max_ts = Some(self.max_ts.map_or(header.max_ts, |m| m.max(header.max_ts)));
        }
    }
}

/// What an acknowledged append got.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AppendReceipt {
    /// The generation after this batch.
    pub generation: Generation,
    /// Arrival number of the batch's first event.
    pub first_arrival: u64,
    /// Events in the batch.
    pub events: u32,
    /// The leadership term the batch was stored in (stamped in its block).
    pub term: u64,
}

/// The store's mutable state.
#[derive(Debug)]
pub(crate) struct Writer {
    pub dir: PathBuf,
    pub opts: StoreOptions,
    pub manifest: Manifest,
    pub active: Option<Active>,
    pub generation: Generation,
    pub term: u64,
    pub term_history: Vec<TermStart>,
    pub next_arrival: u64,
    pub failed: bool,
    pub index: Arc<RwLock<BlockIndex>>,
    /// The position readers see without taking the writer's lock (which is
    /// held across fsyncs): the term of the newest operation and the
    /// generation; updated whenever `generation` moves.
    pub published: Arc<Mutex<(u64, Generation)>>,
    /// Runs while [`Writer::write_blocks`] waits on the disk (shared with
    /// the [`super::Store`], which reads it without the lock).
    pub write_clock: Arc<WriteClock>,
    /// Durations of the fsyncs in [`Writer::write_blocks`] (shared with the
    /// [`super::Store`], which reads it without the lock).
    pub fsync_latency: Arc<FsyncLatency>,
    pub buf: Vec<u8>,
    /// Summarizes appended blocks in the background (shared with the
    /// [`super::Store`], which starts it once the writer exists).
    pub summarizer: Option<Summarizer>,
}

impl Writer {
    /// Makes the current position visible to lock-free readers.
    pub fn publish(&self) {
        *self.published.lock().expect("published generation") = self.position();
    }

    /// The term of the newest operation (0 when none) and the generation.
    pub fn position(&self) -> (u64, Generation) {
        let term = self.term_history.last().map_or(0, |t| t.term);
        (term, self.generation)
    }

    /// Refuses writes when failed or below the disk floor.
    pub fn check_writable(&self) -> Result<(), StoreError> {
        if self.failed {
            return Err(StoreError::Failed);
        }
        if self.opts.disk_floor_bytes > 0 {
            let available =
                available_bytes(&self.dir).map_err(StoreError::io("statvfs", &self.dir))?;
            if available < self.opts.disk_floor_bytes {
                return Err(StoreError::DiskFull {
                    available,
                    floor: self.opts.disk_floor_bytes,
                });
            }
        }
        Ok(())
    }

    /// Stamps and durably appends a group of locally encoded blocks.
    pub fn commit_group(
        &mut self,
        blocks: &[EncodedBlock],
    ) -> Result<Vec<AppendReceipt>, StoreError> {
        self.check_writable()?;
        self.ensure_active()?;
        let mut gen = self.generation;
        let mut arrival = self.next_arrival;
        let mut stamped = Vec::with_capacity(blocks.len());
        let mut receipts = Vec::with_capacity(blocks.len());
        for b in blocks {
            gen = gen.next_write();
            let mut h = b.header;
            h.term = self.term;
            h.generation = gen;
            h.first_arrival = arrival;
            receipts.push(AppendReceipt {
                generation: gen,
                first_arrival: arrival,
                events: h.event_count,
                term: h.term,
            });
            arrival += h.event_count as u64;
            stamped.push((h, b.payload.as_slice()));
        }
        self.write_blocks(&stamped)?;
        self.maybe_seal()?;
        Ok(receipts)
    }

    /// Writes complete blocks at the end of the active segment, fsyncs, and
    /// only then advances the generation and publishes them to readers (and
    /// queues them for the summarizer). On a failed write the segment is cut
    /// back to its previous length; if even that fails the store refuses
    /// further writes.
    pub fn write_blocks(&mut self, blocks: &[(BlockHeader, &[u8])]) -> Result<(), StoreError> {
        let dir = self.dir.clone();
        let active = self.active.as_mut().ok_or(StoreError::Failed)?;
        let path = segment::log_path(&dir, active.id);
        self.buf.clear();
        for (h, payload) in blocks {
            self.buf.extend_from_slice(&h.encode());
            self.buf.extend_from_slice(payload);
        }
        let start = active.len;
        self.write_clock.start();
        let written = active.file.write_all_at(&self.buf, start).and_then(|_| {
            let synced = Instant::now();
            let done = active.file.sync_data();
            self.fsync_latency.record(synced.elapsed());
            done
        });
        self.write_clock.stop();
        if let Err(e) = written {
            let undone = active
                .file
                .set_len(start)
                .and_then(|_| active.file.sync_data());
            if undone.is_err() {
                self.failed = true;
            }
            return Err(StoreError::io("append", path)(e));
        }
        let mut metas = Vec::with_capacity(blocks.len());
        let mut offset = start;
        for (h, _) in blocks {
            let bytes = &self.buf[(offset - start) as usize..][..h.block_len() as usize];
            active.note(h, bytes);
            metas.push(BlockMeta {
                segment: active.id,
                offset,
                header: *h,
            });
            offset += h.block_len();
            note_term(&mut self.term_history, h.term, self.generation);
            self.generation = h.generation;
            self.next_arrival = h.first_arrival.saturating_add(h.event_count as u64);
        }
        let file = active.file.clone();
        let refs: Vec<BlockRef> = metas
            .iter()
            .map(|m| BlockRef {
                meta: *m,
                file: file.clone(),
                summary: None,
            })
            .collect();
        self.index
            .write()
            .expect("index lock")
            .push(metas.into_iter().map(|m| (m, None)));
        self.publish();
        if let Some(s) = &self.summarizer {
            s.enqueue(refs);
        }
        Ok(())
    }

    /// Creates the next active segment if there is none.
    pub fn ensure_active(&mut self) -> Result<(), StoreError> {
        if self.active.is_some() {
            return Ok(());
        }
        let id = self.manifest.segments.last().map_or(1, |s| s.id + 1);
        self.open_segment(id)
    }

    /// Records `NewSegment { id }` and opens its (empty) file.
    pub fn open_segment(&mut self, id: u64) -> Result<(), StoreError> {
        self.record(ModelOp::NewSegment { segment: id })?;
        let file = Arc::new(open_segment_file(&self.dir, id, true)?);
        manifest::sync_dir(&self.dir)?;
        self.index
            .write()
            .expect("index lock")
            .add_segment(id, file.clone());
        self.active = Some(Active::new(id, file));
        Ok(())
    }

    /// Seals the active segment when it reached its size or age limit.
    pub fn maybe_seal(&mut self) -> Result<(), StoreError> {
        let due = self.active.as_ref().is_some_and(|a| {
            a.len >= self.opts.segment_max_bytes
                || (a.len > 0 && a.opened.elapsed() >= self.opts.segment_max_age)
        });
        if due {
            self.seal()?;
        }
        Ok(())
    }

    /// What sealing the active segment now would record.
    pub fn seal_info(&self) -> Option<(u64, SealInfo, Vec<u8>)> {
        let a = self.active.as_ref()?;
        let blocks = self.index.read().expect("index lock").segment_blocks(a.id);
        let directory = segment::encode_directory(&blocks);
        let info = SealInfo {
            len: a.len,
            crc: a.crc,
            idx_crc: crc32c::crc32c(&directory),
            events: a.events,
            min_ts: a.min_ts,
            max_ts: a.max_ts,
        };
        Some((a.id, info, directory))
    }

    /// Makes the active segment immutable: writes its summary file and its
    /// block directory, then records `Seal`. The next append opens a new
    /// segment.
    pub fn seal(&mut self) -> Result<(), StoreError> {
        let Some((id, info, directory)) = self.seal_info() else {
            return Ok(());
        };
        self.write_summaries(id, &info)?;
        manifest::write_atomic(&self.dir, &segment::idx_name(id), &directory)?;
        self.record(ModelOp::Seal { segment: id, info })?;
        self.active = None;
        Ok(())
    }

    /// Writes the summary file of the active segment `id` about to seal as
    /// `info`, summarizing first the blocks that have no summary yet (those
    /// recovered into it when the store opened).
    fn write_summaries(&mut self, id: u64, info: &SealInfo) -> Result<(), StoreError> {
        let (blocks, have) = {
            let index = self.index.read().expect("index lock");
            (index.segment_blocks(id), index.segment_summaries(id))
        };
        let file = self.active.as_ref().ok_or(StoreError::Failed)?.file.clone();
        let log = segment::log_path(&self.dir, id);
        let all = summaries::complete(&file, &log, &blocks, have)?;
        summaries::write(&self.dir, id, info, &blocks, &all)?;
        self.index
            .write()
            .expect("index lock")
            .fill_summaries(id, all);
        Ok(())
    }

    /// Deletes a sealed segment: records `Delete` first, then removes files.
    pub fn delete_segment(&mut self, id: u64) -> Result<(), StoreError> {
        self.record(ModelOp::Delete { segment: id })?;
        self.index.write().expect("index lock").remove_segment(id);
        for path in [
            segment::log_path(&self.dir, id),
            segment::idx_path(&self.dir, id),
            segment::sum_path(&self.dir, id),
        ] {
            match std::fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(StoreError::io("remove", path)(e)),
            }
        }
        manifest::sync_dir(&self.dir)
    }

    /// Applies a structural operation to the manifest and saves it durably.
    pub fn record(&mut self, op: ModelOp) -> Result<OpRecord, StoreError> {
        note_term(&mut self.term_history, self.term, self.generation);
        let mut next = self.manifest.clone();
        next.generation = self.generation;
        next.next_arrival = self.next_arrival;
        next.term_history = self.term_history.clone();
        let rec = next.record(self.term, op, self.opts.recent_ops_kept);
        next.save(&self.dir)?;
        self.manifest = next;
        self.generation = rec.generation;
        self.publish();
        Ok(rec)
    }
}

/// Extends the term history when an operation of a newer term is applied at
/// generation `before`.
pub(crate) fn note_term(history: &mut Vec<TermStart>, term: u64, before: Generation) {
    if history.last().is_none_or(|t| term > t.term) {
        history.push(TermStart {
            term,
            generation: before,
        });
    }
}

/// Opens segment `id`'s log file for reading and appending.
pub(crate) fn open_segment_file(
    dir: &std::path::Path,
    id: u64,
    create: bool,
) -> Result<File, StoreError> {
    let path = segment::log_path(dir, id);
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(create)
        .truncate(false)
        .open(&path)
        .map_err(StoreError::io("open", path))
}
