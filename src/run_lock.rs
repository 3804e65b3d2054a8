//! The running node's claim on its storage root: `<storage>/skein.pid`,
//! locked exclusively (an advisory `flock`) for as long as `skein run`
//! runs, and holding its process id.
//!
//! Two processes writing one event store would corrupt it, so a second
//! `skein run` on the same root is refused, naming the first. The lock goes
//! with the process however it ends (the kernel releases it, also after
//! `kill -9`), so a stale file never blocks a start, and whether a node runs
//! is read from the lock, not from a process id that may have been reused
//! ([`running`]; `skein service status | stop`).

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read as _, Seek as _, SeekFrom, Write as _};
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;

/// The file's name under the storage root.
pub const PID_FILE: &str = "skein.pid";

/// How often a claim is tried, 20 ms apart, before it is refused.
const CLAIM_TRIES: u32 = 10;

/// The held claim; dropping it (or the process ending) releases it.
#[derive(Debug)]
pub struct RunLock {
    _file: File,
}

/// The pid file of the storage root `root`.
pub fn pid_file(root: &Path) -> PathBuf {
    root.join(PID_FILE)
}

/// Claims `root` for this process, or says which process holds it.
pub fn claim(root: &Path) -> anyhow::Result<RunLock> {
    let path = pid_file(root);
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(&path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    // `running` takes the lock shared for an instant; only a claim held
    // for longer than that is another node's.
    let mut tries = 0;
    let locked = loop {
        match file.try_lock() {
            Err(TryLockError::WouldBlock) if tries < CLAIM_TRIES => {
                tries += 1;
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            other => break other,
        }
    };
    match locked {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            let holder =
                read_pid(&mut file).map_or("another process".into(), |p| format!("process {p}"));
            anyhow::bail!(
                "skein is already running on the storage root {} ({holder} holds {}); \
                 stop it first (`skein service stop`)",
                root.display(),
                path.display()
            );
        }
        Err(TryLockError::Error(e)) => {
            return Err(e).with_context(|| format!("cannot lock {}", path.display()))
        }
    }
    // The lock is the claim; the id is for people and `service stop`. A
    // full disk must not keep the node from starting, so it is best effort.
    let written = file
        .set_len(0)
        .and_then(|()| file.seek(SeekFrom::Start(0)))
        .and_then(|_| writeln!(file, "{}", std::process::id()));
    if let Err(e) = written {
        log::warn!("cannot write the process id to {}: {e}", path.display());
    }
    Ok(RunLock { _file: file })
}

/// Whether a node runs on `root`: `Some(pid)` while one holds the claim
/// (`pid` 0 in the instant before it has written its id), else `None`.
pub fn running(root: &Path) -> anyhow::Result<Option<u32>> {
    let path = pid_file(root);
    let mut file = match File::open(&path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("cannot open {}", path.display())),
    };
    match file.try_lock_shared() {
        Ok(()) => Ok(None),
        Err(TryLockError::WouldBlock) => Ok(Some(read_pid(&mut file).unwrap_or(0))),
        Err(TryLockError::Error(e)) => {
            Err(e).with_context(|| format!("cannot read the lock on {}", path.display()))
        }
    }
}

fn read_pid(file: &mut File) -> Option<u32> {
    let mut text = String::new();
    file.seek(SeekFrom::Start(0)).ok()?;
    file.read_to_string(&mut text).ok()?;
    text.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_claim_at_a_time_and_it_ends_with_its_holder() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(running(dir.path()).unwrap(), None, "no file yet");
        let lock = claim(dir.path()).unwrap();
        assert_eq!(running(dir.path()).unwrap(), Some(std::process::id()));
        let again = claim(dir.path()).unwrap_err().to_string();
        assert!(
            again.contains("already running") && again.contains(&std::process::id().to_string()),
            "{again}"
        );
        drop(lock);
        assert_eq!(
            running(dir.path()).unwrap(),
            None,
            "a stale file is not a claim"
        );
        let _lock = claim(dir.path()).unwrap();
        assert_eq!(running(dir.path()).unwrap(), Some(std::process::id()));
    }
}
