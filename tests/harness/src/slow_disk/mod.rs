//! A real slow disk for end-to-end tests: [`SlowDisk`] mounts a FUSE
//! passthrough of a backing directory (served by this test process, see
//! `passthrough`) whose fsyncs wait a delay the test changes
//! while processes use it. Put a node's storage root under
//! [`SlowDisk::path`]; the mount is taken down when the value is dropped
//! (lazily when still busy), panics included. It can also cut the power
//! ([`SlowDisk::cut_power`]): file changes no fsync covered are taken back
//! and the disk fails every change until [`SlowDisk::restore_power`].
//!
//! ```ignore
//! let dir = tempfile::tempdir().unwrap();
//! let disk = slow_disk::SlowDisk::mount(&dir.path().join("backing"), &dir.path().join("mnt"));
//! let mut node = Node::new_in("slow", disk.path().join("storage"));
//! node.start_healthy();
//! disk.set_fsync_delay(Duration::from_millis(300));
//! ```
//!
//! Needs root and `/dev/fuse` (the `fuse` kernel module); both missing
//! cases panic with what to do.

mod convert;
mod passthrough;
mod undo;

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use passthrough::{Knobs, SlowFs};
use undo::UndoLog;

/// A mounted slow disk; unmounted on drop.
pub struct SlowDisk {
    mount_point: PathBuf,
    control: SlowDiskControl,
    session: Option<fuser::BackgroundSession>,
}

/// A handle that turns a [`SlowDisk`]'s delays from any thread (cheap to
/// clone; it outlives nothing: once the disk is unmounted it turns nothing).
#[derive(Clone)]
pub struct SlowDiskControl {
    knobs: Arc<Knobs>,
    undo: Arc<UndoLog>,
}

impl SlowDiskControl {
    /// Every fsync, fdatasync and directory fsync from now on waits `delay`
    /// before it reaches the backing disk (zero: no delay). Fsyncs already
    /// waiting keep the delay they started with. A process killed (even
    /// with SIGKILL) while in a delayed fsync exits only once that fsync is
    /// answered: the kernel waits for a FUSE request already taken by the
    /// filesystem, so `kill` + `wait` can take up to the delay.
    pub fn set_fsync_delay(&self, delay: Duration) {
        let us = delay.as_micros().min(u64::MAX as u128) as u64;
        self.knobs.fsync_delay_us.store(us, Ordering::SeqCst);
    }

    /// The current fsync delay.
    pub fn fsync_delay(&self) -> Duration {
        Duration::from_micros(self.knobs.fsync_delay_us.load(Ordering::SeqCst))
    }

    /// Every write from now on waits `delay` (zero: no delay). Writes wait
    /// on the filesystem's worker threads, so long delays slow reads too.
    pub fn set_write_delay(&self, delay: Duration) {
        let us = delay.as_micros().min(u64::MAX as u128) as u64;
        self.knobs.write_delay_us.store(us, Ordering::SeqCst);
    }

    /// Fsyncs (files and directories) completed since the mount.
    pub fn fsyncs(&self) -> u64 {
        self.knobs.fsyncs.load(Ordering::SeqCst)
    }

    /// Fsyncs waiting right now (for their delay or the backing disk).
    pub fn fsyncs_in_flight(&self) -> u64 {
        self.knobs.fsyncs_in_flight.load(Ordering::SeqCst)
    }

    /// Cuts the power: every file write or truncation that no completed
    /// fsync of its file (begun after it) covers is taken back, newest
    /// first; fsyncs in flight fail (EIO) at once and make nothing durable;
    /// then every change and fsync fails (EIO) until [`Self::restore_power`].
    /// File contents only: creations, renames and unlinks stay. Kill the
    /// processes using the disk right after (a write or fsync error may
    /// make a store refuse writes, which is no crash). Returns roughly how
    /// many bytes were taken back.
    pub fn cut_power(&self) -> u64 {
        self.undo.cut().expect("take back the unsynced writes")
    }

    /// Turns the disk back on after [`Self::cut_power`].
    pub fn restore_power(&self) {
        self.undo.restore();
    }
}

impl SlowDisk {
    /// Mounts a slow view of `backing` at `mount_point` (both created when
    /// missing; `mount_point` must not be inside `backing`), with no delay
    /// yet. Panics, saying what is missing, when FUSE cannot be used here.
    pub fn mount(backing: &Path, mount_point: &Path) -> SlowDisk {
        std::fs::create_dir_all(backing).expect("create the slow disk's backing directory");
        std::fs::create_dir_all(mount_point).expect("create the slow disk's mount point");
        assert!(
            Path::new("/dev/fuse").exists(),
            "the slow-disk tests need FUSE: /dev/fuse is missing (load the module: \
             `modprobe fuse`; in a container, pass the device: --device /dev/fuse \
             --cap-add SYS_ADMIN)"
        );
        // SAFETY: geteuid has no preconditions.
        let root = unsafe { libc::geteuid() } == 0;
        assert!(
            root,
            "the slow-disk tests mount a FUSE filesystem and must run as root"
        );
        let knobs = Arc::new(Knobs::default());
        let undo = Arc::new(UndoLog::default());
        let fs = SlowFs::new(backing, knobs.clone(), undo.clone())
            .expect("open the slow disk's backing");
        let mut config = fuser::Config::default();
        config.mount_options = vec![
            fuser::MountOption::FSName(format!("slowdisk:{}", backing.display())),
            fuser::MountOption::Subtype("slowdisk".into()),
        ];
        config.n_threads = Some(4);
        let session = fuser::Session::new(fs, mount_point, &config)
            .and_then(fuser::Session::spawn)
            .unwrap_or_else(|e| {
                panic!(
                    "cannot mount the slow disk at {}: {e} (the slow-disk tests need \
                     the fuse kernel module, /dev/fuse and root)",
                    mount_point.display()
                )
            });
        let disk = SlowDisk {
            mount_point: mount_point.canonicalize().expect("the mount point"),
            control: SlowDiskControl { knobs, undo },
            session: Some(session),
        };
        let backing_dev = std::fs::metadata(backing).unwrap().dev();
        let mounted_dev = std::fs::metadata(&disk.mount_point).unwrap().dev();
        assert_ne!(backing_dev, mounted_dev, "the slow disk did not mount");
        disk
    }

    /// Where the slow disk is mounted: put storage roots under it.
    pub fn path(&self) -> &Path {
        &self.mount_point
    }

    /// A handle to turn the delays from another thread or harness.
    pub fn control(&self) -> SlowDiskControl {
        self.control.clone()
    }

    /// See [`SlowDiskControl::set_fsync_delay`].
    pub fn set_fsync_delay(&self, delay: Duration) {
        self.control.set_fsync_delay(delay);
    }

    /// See [`SlowDiskControl::set_write_delay`].
    pub fn set_write_delay(&self, delay: Duration) {
        self.control.set_write_delay(delay);
    }

    /// See [`SlowDiskControl::fsyncs`].
    pub fn fsyncs(&self) -> u64 {
        self.control.fsyncs()
    }

    /// See [`SlowDiskControl::fsyncs_in_flight`].
    pub fn fsyncs_in_flight(&self) -> u64 {
        self.control.fsyncs_in_flight()
    }

    /// See [`SlowDiskControl::cut_power`].
    pub fn cut_power(&self) -> u64 {
        self.control.cut_power()
    }

    /// See [`SlowDiskControl::restore_power`].
    pub fn restore_power(&self) {
        self.control.restore_power();
    }
}

impl Drop for SlowDisk {
    /// Lifts the delays, unmounts (lazily, `MNT_DETACH`, when a process
    /// still holds a file there), then ends the session.
    fn drop(&mut self) {
        self.set_fsync_delay(Duration::ZERO);
        self.set_write_delay(Duration::ZERO);
        if let Ok(path) = CString::new(self.mount_point.as_os_str().as_bytes()) {
            // SAFETY: a valid C path.
            let plain = unsafe { libc::umount2(path.as_ptr(), 0) };
            if plain != 0 {
                // SAFETY: as above.
                unsafe { libc::umount2(path.as_ptr(), libc::MNT_DETACH) };
            }
        }
        drop(self.session.take());
    }
}
