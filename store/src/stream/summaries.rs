//! Summary files of sealed segments (`seg-N.sum`, [`crate::summary::file`]):
//! written when a segment seals, loaded when the store opens, and rebuilt
//! from the segment when missing, damaged (checksum), cut short, of another
//! version or describing other bytes than the segment holds.
//!
//! They are derived data outside the replicated history. A follower writes
//! its own when it applies a seal, from the same blocks, so its file equals
//! the leader's byte for byte; a snapshot does not carry them: the copy
//! rebuilds them from its segments when the installed store opens.
//!
//! Blocks of the active segment (appended, replicated, or recovered into it
//! on open) are summarized off the append path by the store's
//! [`Summarizer`], one thread that runs only when the CPU is otherwise idle
//! (`SCHED_IDLE`), so ingestion never waits for it; searches read a block
//! that has no summary yet, as before. While appends come back to back (the
//! last less than [`BUSY`] ago: ingestion running flat out) it also works
//! at most a tenth of the time, so that its memory traffic takes little from
//! ingestion; under a lighter load, or none, it keeps up at full speed.
//! The seal summarizes, in parallel, whatever blocks the summarizer has not
//! reached, so a sealed segment always has its complete file.
//!
//! What that costs ingestion (`cargo bench -p skein-store --bench store`,
//! 2 cores): a burst of 1M events that seals nothing runs within noise of a
//! store without summaries (best of 3: 1.44M vs 1.51M events/s); ingestion
//! that keeps the CPU busy across seals pays for the summaries at each seal
//! (4M events, two seals: 0.65M vs 1.49M events/s), since summarizing takes
//! about twice the CPU of encoding.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, OnceLock, RwLock, Weak};
use std::time::{Duration, Instant};

use rayon::prelude::*;

use super::error::StoreError;
use super::index::{BlockIndex, BlockRef, Summary};
use super::manifest::{self, SealInfo};
use super::read::read_block;
use super::segment::{self, BlockMeta};
use crate::block::BlockHeader;
use crate::summary::{
    decode_summaries, encode_summaries, summarize_block, BlockSummary, SegmentSummaries,
};

/// How recent an append keeps the summarizer to its tenth of the time.
pub(crate) const BUSY: Duration = Duration::from_millis(10);

/// Summarizes blocks in the background: a handle on the store's summarizer
/// thread, which ends with the store.
#[derive(Clone, Debug)]
pub(crate) struct Summarizer {
    jobs: mpsc::Sender<BlockRef>,
    /// When blocks were last queued ([`since_epoch`]).
    last_queued: Arc<AtomicU64>,
}

/// Nanoseconds since the first call in this process.
fn since_epoch() -> u64 {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    EPOCH.get_or_init(Instant::now).elapsed().as_nanos() as u64
}

impl Summarizer {
    /// Starts the summarizer of the store whose block index is `index`.
    pub(crate) fn spawn(index: &Arc<RwLock<BlockIndex>>) -> Summarizer {
        let (jobs, queue) = mpsc::channel::<BlockRef>();
        let last_queued = Arc::new(AtomicU64::new(0));
        let (index, busy) = (Arc::downgrade(index), last_queued.clone());
        std::thread::Builder::new()
            .name("skein-summarizer".into())
            .spawn(move || run(&index, &queue, &busy))
            .expect("start the summarizer thread");
        Summarizer { jobs, last_queued }
    }

    /// Queues blocks to summarize.
    pub(crate) fn enqueue(&self, blocks: impl IntoIterator<Item = BlockRef>) {
        self.last_queued.store(since_epoch(), Ordering::Relaxed);
        for b in blocks {
            // The thread ends only once the store is gone.
            let _ = self.jobs.send(b);
        }
    }
}

/// How long to rest after `worked`, with blocks last queued at `queued`
/// and the clock at `now` (nanoseconds since the epoch): nine times as long
/// while appends are recent, so that it works a tenth of the time; not at
/// all once they have stopped.
pub(crate) fn rest(worked: Duration, queued: u64, now: u64) -> Duration {
    let busy = now.saturating_sub(queued) < BUSY.as_nanos() as u64;
    if busy {
        worked * 9
    } else {
        Duration::ZERO
    }
}

/// Makes the calling thread run only when the CPU is otherwise idle
/// (`SCHED_IDLE`), or at the lowest nice value where that is refused.
fn run_when_idle() {
    let param = libc::sched_param { sched_priority: 0 };
    // SAFETY: both calls take `0` for the calling thread (Linux keeps the
    // scheduling policy and nice value per thread) and read only `param`.
    unsafe {
        if libc::sched_setscheduler(0, libc::SCHED_IDLE, &param) != 0 {
            libc::setpriority(libc::PRIO_PROCESS, 0, 19);
        }
    }
}

/// The summarizer thread: when the CPU is idle, summarizes queued blocks
/// into `index` until the store (its index) is dropped.
fn run(index: &Weak<RwLock<BlockIndex>>, queue: &mpsc::Receiver<BlockRef>, queued: &AtomicU64) {
    run_when_idle();
    while let Ok(b) = queue.recv() {
        if index.strong_count() == 0 {
            return;
        }
        let started = Instant::now();
        let Some(summary) = summarize_ref(&b) else {
            continue;
        };
        let Some(index) = index.upgrade() else {
            return;
        };
        index
            .write()
            .expect("index lock")
            .set_summary(&b.meta, Arc::new(summary));
        drop(index);
        let pause = rest(
            started.elapsed(),
            queued.load(Ordering::Relaxed),
            since_epoch(),
        );
        std::thread::sleep(pause);
    }
}

/// The summary of block `b`, read from its file (`None` when it cannot be
/// read or decoded, or another block now lies there).
fn summarize_ref(b: &BlockRef) -> Option<BlockSummary> {
    let bytes = read_block(b).ok()?;
    let same = BlockHeader::decode(&bytes).is_ok_and(|h| h == b.meta.header);
    same.then(|| summarize_block(&bytes).ok()).flatten()
}

/// The summaries of sealed segment `id` (its `blocks`, its `file`): from its
/// summary file when that describes exactly this segment, otherwise
/// rebuilt from the segment and written anew.
pub(crate) fn load(
    dir: &Path,
    id: u64,
    info: &SealInfo,
    file: &File,
    blocks: &[BlockMeta],
) -> Result<Vec<Summary>, StoreError> {
    let path = segment::sum_path(dir, id);
    let found = std::fs::read(&path).map_err(|e| e.to_string());
    match found.and_then(|b| decode_summaries(&b).map_err(|e| e.to_string())) {
        Ok(s) if fits(&s, info, blocks) => {
            return Ok(s.blocks.into_iter().map(|(_, s)| s).collect());
        }
        Ok(_) => log::warn!(
            "summary file {} describes another segment; rebuilding it",
            path.display()
        ),
        Err(why) => log::warn!(
            "summary file {} unusable ({why}); rebuilding it from the segment",
            path.display()
        ),
    }
    let log = segment::log_path(dir, id);
    let summaries = complete(file, &log, blocks, vec![None; blocks.len()])?;
    write(dir, id, info, blocks, &summaries)?;
    Ok(summaries)
}

/// Whether a decoded summary file describes this segment: its length,
/// checksum and every block's offset.
pub(crate) fn fits(s: &SegmentSummaries, info: &SealInfo, blocks: &[BlockMeta]) -> bool {
    s.segment_len == info.len
        && s.segment_crc == info.crc
        && s.blocks.len() == blocks.len()
        && s.blocks
            .iter()
            .zip(blocks)
            .all(|((o, _), b)| *o == b.offset)
}

/// `have` (one per block of `blocks`, in file order) with every missing
/// summary built from the block's bytes, in parallel. A block that does not
/// decode keeps none: searches read it, and report it, as before.
pub(crate) fn complete(
    file: &File,
    path: &Path,
    blocks: &[BlockMeta],
    have: Vec<Summary>,
) -> Result<Vec<Summary>, StoreError> {
    blocks
        .par_iter()
        .zip(have)
        .map(|(b, s)| match s {
            Some(s) => Ok(Some(s)),
            None => {
                let mut bytes = vec![0u8; b.header.block_len() as usize];
                file.read_exact_at(&mut bytes, b.offset)
                    .map_err(StoreError::io("read", path))?;
                Ok(summarize_block(&bytes).ok().map(Arc::new))
            }
        })
        .collect()
}

/// Writes sealed segment `id`'s summary file (atomically, fsynced).
pub(crate) fn write(
    dir: &Path,
    id: u64,
    info: &SealInfo,
    blocks: &[BlockMeta],
    summaries: &[Summary],
) -> Result<(), StoreError> {
    let entries: Vec<_> = blocks
        .iter()
        .zip(summaries)
        .map(|(b, s)| (b.offset, s.as_deref()))
        .collect();
    let bytes = encode_summaries(info.len, info.crc, &entries);
    manifest::write_atomic(dir, &segment::sum_name(id), &bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::summary::summarize;

    #[test]
    fn the_summarizer_rests_nine_tenths_while_appends_keep_coming() {
        let ms = |n: u64| Duration::from_millis(n);
        let at = |d: Duration| d.as_nanos() as u64;
        assert_eq!(rest(ms(3), at(ms(1000)), at(ms(1005))), ms(27));
        assert_eq!(rest(ms(3), at(ms(1000)), at(ms(1010))), Duration::ZERO);
        assert_eq!(rest(ms(3), at(ms(1000)), at(ms(999))), ms(27));
    }

    #[test]
    fn a_file_fits_only_the_segment_it_describes() {
        let info = SealInfo {
            len: 500,
            crc: 7,
            idx_crc: 0,
            events: 0,
            min_ts: None,
            max_ts: None,
        };
        let meta = |offset| BlockMeta {
            segment: 1,
            offset,
            header: BlockHeader::default(),
        };
        let blocks = [meta(0), meta(200)];
        let one = Some(Arc::new(summarize::<crate::Event>([])));
        let file = SegmentSummaries {
            segment_len: 500,
            segment_crc: 7,
            blocks: vec![(0, one.clone()), (200, None)],
        };
        assert!(fits(&file, &info, &blocks));
        assert!(!fits(&file, &SealInfo { crc: 8, ..info }, &blocks));
        assert!(!fits(&file, &SealInfo { len: 501, ..info }, &blocks));
        assert!(!fits(&file, &info, &blocks[..1]));
        assert!(!fits(&file, &info, &[meta(0), meta(201)]));
    }
}
