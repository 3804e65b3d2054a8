//! The log file of a node started by `skein service start`
//! (`skein run --log-file Logs/skein.log`), rotated at a size cap.
//!
//! The node opens the file itself (0600, appending) and puts it in place
//! of its standard output and error, so that everything it writes — log
//! records, the ready line, a panic, the last error — lands there directly,
//! with no process left to copy a pipe after `skein service` exits. Log
//! records go through [`LogFile`]: before a record that would take the
//! file past its cap, the file is rotated (`skein.log` → `skein.log.1` …
//! → `skein.log.{KEPT-1}`, the oldest dropped), a new one is opened and
//! becomes standard output and error. Under systemd the node logs to the
//! journal instead (no `--log-file`).

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::fd::AsRawFd as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// The cap when none is given: 10 MiB.
pub const DEFAULT_MAX_BYTES: u64 = 10 << 20;
/// The smallest cap accepted (a few log records).
pub const MIN_MAX_BYTES: u64 = 4096;
/// Files kept: the current one and `KEPT - 1` rotated ones.
pub const KEPT: usize = 5;

/// `path.N`: the N-th newest rotated file.
pub fn rotated(path: &Path, n: usize) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".{n}"));
    PathBuf::from(name)
}

/// The renames of one rotation, in the order to do them: each rotated file
/// moves one up (the oldest is replaced), then the current file becomes `.1`.
pub fn rotation_renames(path: &Path, kept: usize) -> Vec<(PathBuf, PathBuf)> {
    let mut out: Vec<(PathBuf, PathBuf)> = (1..kept.saturating_sub(1))
        .rev()
        .map(|n| (rotated(path, n), rotated(path, n + 1)))
        .collect();
    if kept > 1 {
        out.push((path.to_owned(), rotated(path, 1)));
    }
    out
}

/// Whether a file of `len` bytes must be rotated before `incoming` more
/// bytes are written to it (an empty file takes any record whole).
pub fn needs_rotation(len: u64, incoming: usize, max_bytes: u64) -> bool {
    len > 0 && len.saturating_add(incoming as u64) > max_bytes
}

/// The node's log file; cheap to clone, every clone writes to it.
#[derive(Clone)]
pub struct LogFile {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    max_bytes: u64,
    file: Mutex<File>,
}

/// Opens `path` for appending (created 0600) and makes it this process's
/// standard output and error.
fn open_as_stdio(path: &Path) -> io::Result<File> {
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)?;
    for fd in [libc::STDOUT_FILENO, libc::STDERR_FILENO] {
        // SAFETY: dup2 of a file descriptor we own onto a standard one.
        if unsafe { libc::dup2(file.as_raw_fd(), fd) } == -1 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(file)
}

impl LogFile {
    /// Opens `path` (appending, created 0600) as the process's standard
    /// output and error, rotated at `max_bytes` (at least [`MIN_MAX_BYTES`]).
    pub fn open(path: &Path, max_bytes: u64) -> io::Result<LogFile> {
        if max_bytes < MIN_MAX_BYTES {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("the log file cap must be at least {MIN_MAX_BYTES} bytes, not {max_bytes}"),
            ));
        }
        let file = open_as_stdio(path)?;
        Ok(LogFile {
            inner: Arc::new(Inner {
                path: path.to_owned(),
                max_bytes,
                file: Mutex::new(file),
            }),
        })
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    fn rotate(&self, file: &mut File) -> io::Result<()> {
        for (from, to) in rotation_renames(&self.inner.path, KEPT) {
            match std::fs::rename(&from, &to) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
        *file = open_as_stdio(&self.inner.path)?;
        Ok(())
    }
}

impl Write for LogFile {
    /// Writes `buf` whole (one log record), rotating first when it would
    /// take the file past its cap. A rotation that fails keeps the current
    /// file (the record is not lost).
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut file = self.inner.file.lock().unwrap_or_else(|e| e.into_inner());
        let len = file.metadata().map_or(0, |m| m.len());
        if needs_rotation(len, buf.len(), self.inner.max_bytes) {
            if let Err(e) = self.rotate(&mut file) {
                let _ = writeln!(file, "cannot rotate {}: {e}", self.inner.path.display());
            }
        }
        file.write_all(buf)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rotation_shifts_every_kept_file_up_oldest_first() {
        let p = Path::new("/r/Logs/skein.log");
        let names = |v: Vec<(PathBuf, PathBuf)>| {
            v.into_iter()
                .map(|(a, b)| format!("{} -> {}", a.display(), b.display()))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            names(rotation_renames(p, 4)),
            [
                "/r/Logs/skein.log.2 -> /r/Logs/skein.log.3",
                "/r/Logs/skein.log.1 -> /r/Logs/skein.log.2",
                "/r/Logs/skein.log -> /r/Logs/skein.log.1",
            ]
        );
        assert_eq!(
            names(rotation_renames(p, 2)),
            ["/r/Logs/skein.log -> /r/Logs/skein.log.1"]
        );
        assert!(rotation_renames(p, 1).is_empty());
    }

    #[test]
    fn a_record_that_would_pass_the_cap_rotates_first() {
        assert!(
            !needs_rotation(0, 10_000, 4096),
            "an empty file takes it whole"
        );
        assert!(!needs_rotation(4000, 96, 4096));
        assert!(needs_rotation(4000, 97, 4096));
        assert!(needs_rotation(u64::MAX, 1, 4096));
    }
}
