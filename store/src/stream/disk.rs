//! The disk as the store sees it: free space (for the disk floor) and how
//! long the write in progress has waited on it (for health).

use std::ffi::CString;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// When the write now in progress (write plus fsync) began, readable
/// without the writer's lock, which that write holds.
#[derive(Debug, Default)]
pub struct WriteClock {
    /// Nanoseconds since [`epoch`] plus one at the start; 0 when idle.
    started: AtomicU64,
}

/// The process-wide origin of [`WriteClock`] readings.
fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

impl WriteClock {
    /// Marks a write as started.
    pub fn start(&self) {
        let at = epoch().elapsed().as_nanos() as u64 + 1;
        self.started.store(at, Ordering::Relaxed);
    }

    /// Marks the write as finished (or failed).
    pub fn stop(&self) {
        self.started.store(0, Ordering::Relaxed);
    }

    /// How long the write in progress has waited so far (None when idle).
    pub fn waiting(&self) -> Option<Duration> {
        match self.started.load(Ordering::Relaxed) {
            0 => None,
            at => Some(
                epoch()
                    .elapsed()
                    .saturating_sub(Duration::from_nanos(at - 1)),
            ),
        }
    }
}

/// Bytes available to unprivileged users on the volume holding `path`.
pub fn available_bytes(path: &Path) -> io::Result<u64> {
    let c = CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "path contains NUL"))?;
    // SAFETY: `c` is a valid NUL-terminated string and `st` a properly sized,
    // zero-initialised out-parameter that statvfs fills in.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::statvfs(c.as_ptr(), &mut st) };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    #[allow(clippy::unnecessary_cast)]
    Ok(st.f_bavail as u64 * st.f_frsize as u64)
}

#[cfg(test)]
mod tests {
    use super::WriteClock;

    #[test]
    fn the_write_clock_runs_only_while_a_write_is_in_progress() {
        let clock = WriteClock::default();
        assert_eq!(clock.waiting(), None);
        clock.start();
        std::thread::sleep(std::time::Duration::from_millis(20));
        assert!(clock.waiting().unwrap() >= std::time::Duration::from_millis(20));
        clock.stop();
        assert_eq!(clock.waiting(), None);
    }

    #[test]
    fn reports_some_space_for_the_temp_dir() {
        let n = super::available_bytes(&std::env::temp_dir()).unwrap();
        assert!(n > 0);
    }
}
