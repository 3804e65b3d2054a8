//! [`UndoLog`]: what a power cut would take back. Every write and
//! truncation reaches the backing file at once; until an fsync of that file
//! that began after it completes, the log keeps what the bytes and the
//! length were before, so that [`UndoLog::cut`] can put each file back the
//! way a disk that lost its volatile cache would hold it. After a cut the
//! disk is off: every change and fsync fails (EIO) until [`UndoLog::restore`].
//!
//! File contents only: creations, renames and unlinks are kept (as on a
//! journaling filesystem that committed its metadata).

use std::collections::HashMap;
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// One change to take back: the file's length and the bytes of the changed
/// range (within that length) just before it.
struct Record {
    seq: u64,
    old_len: u64,
    offset: u64,
    old: Vec<u8>,
}

#[derive(Default)]
struct Inner {
    /// Orders records and fsync starts.
    seq: u64,
    /// Moves on at each cut: fsyncs begun before it made nothing durable.
    epoch: u64,
    /// Cut and not yet restored.
    off: bool,
    files: HashMap<u64, (Arc<File>, Vec<Record>)>,
}

/// Where an fsync began, for [`UndoLog::synced`].
#[derive(Clone, Copy, Debug)]
pub struct SyncMark {
    seq: u64,
    epoch: u64,
}

/// The changes not yet made durable, per inode.
#[derive(Default)]
pub struct UndoLog {
    inner: Mutex<Inner>,
    /// Wakes fsyncs waiting out their delay when the power is cut.
    cut_happened: Condvar,
}

impl UndoLog {
    /// Runs `change` on `file` (inode `ino`), which overwrites its bytes
    /// `offset..offset+len` or (`len` 0) sets its length to `offset`, after
    /// noting what they were; EIO while the power is off.
    pub fn change(
        &self,
        ino: u64,
        file: &Arc<File>,
        offset: u64,
        len: u64,
        change: impl FnOnce(&File) -> io::Result<()>,
    ) -> io::Result<()> {
        let mut inner = self.inner.lock().unwrap();
        if inner.off {
            return Err(io::Error::from_raw_os_error(libc::EIO));
        }
        let old_len = file.metadata()?.len();
        let end = if len == 0 {
            old_len
        } else {
            (offset + len).min(old_len)
        };
        let mut old = vec![0u8; end.saturating_sub(offset) as usize];
        file.read_exact_at(&mut old, offset)?;
        inner.seq += 1;
        let seq = inner.seq;
        let entry = inner
            .files
            .entry(ino)
            .or_insert_with(|| (file.clone(), Vec::new()));
        entry.1.push(Record {
            seq,
            old_len,
            offset,
            old,
        });
        change(file)
    }

    /// EIO while the power is off.
    pub fn check_on(&self) -> io::Result<()> {
        if self.inner.lock().unwrap().off {
            return Err(io::Error::from_raw_os_error(libc::EIO));
        }
        Ok(())
    }

    /// An fsync begins (EIO while the power is off).
    pub fn sync_started(&self) -> io::Result<SyncMark> {
        let mut inner = self.inner.lock().unwrap();
        if inner.off {
            return Err(io::Error::from_raw_os_error(libc::EIO));
        }
        inner.seq += 1;
        Ok(SyncMark {
            seq: inner.seq,
            epoch: inner.epoch,
        })
    }

    /// Waits `delay`, or less when the power is cut meanwhile (a dead disk
    /// fails its pending flushes at once).
    pub fn wait(&self, mark: SyncMark, delay: Duration) {
        let until = Instant::now() + delay;
        let mut inner = self.inner.lock().unwrap();
        while inner.epoch == mark.epoch {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return;
            }
            inner = self.cut_happened.wait_timeout(inner, left).unwrap().0;
        }
    }

    /// An fsync of inode `ino` that began at `mark` completed: what changed
    /// before it began is durable, unless the power was cut meanwhile (EIO).
    pub fn synced(&self, ino: u64, mark: SyncMark) -> io::Result<()> {
        let mut inner = self.inner.lock().unwrap();
        if inner.epoch != mark.epoch {
            return Err(io::Error::from_raw_os_error(libc::EIO));
        }
        if let Some((_, records)) = inner.files.get_mut(&ino) {
            records.retain(|r| r.seq > mark.seq);
            if records.is_empty() {
                inner.files.remove(&ino);
            }
        }
        Ok(())
    }

    /// Cuts the power: takes back every change not made durable, newest
    /// first; fsyncs in flight make nothing durable and fail; the disk stays
    /// off until [`UndoLog::restore`]. Roughly how many bytes it took back.
    pub fn cut(&self) -> io::Result<u64> {
        let mut inner = self.inner.lock().unwrap();
        inner.off = true;
        inner.epoch += 1;
        self.cut_happened.notify_all();
        let mut undone = 0;
        for (file, mut records) in std::mem::take(&mut inner.files).into_values() {
            records.sort_by_key(|r| r.seq);
            for r in records.into_iter().rev() {
                let len = file.metadata()?.len();
                undone += len.abs_diff(r.old_len) + r.old.len() as u64;
                file.set_len(r.old_len)?;
                file.write_all_at(&r.old, r.offset)?;
            }
            file.sync_all()?;
        }
        Ok(undone)
    }

    /// Turns the power back on.
    pub fn restore(&self) {
        self.inner.lock().unwrap().off = false;
    }
}
