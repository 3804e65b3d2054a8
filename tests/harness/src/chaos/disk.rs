//! What a chaos node's storage root stands on: the test machine's disk,
//! a small tmpfs that faults can fill ([`DISK_BYTES`], refusing writes
//! below [`DISK_FLOOR`]), a [`SlowDisk`] whose fsyncs faults can delay and
//! whose power they can cut — or a slow disk backed by a small tmpfs.

use std::path::PathBuf;
use std::time::Duration;

use crate::slow_disk::SlowDisk;
use crate::tmpfs::Tmpfs;

/// The size of a small disk.
pub const DISK_BYTES: u64 = 256 << 20;
/// The free space below which a node on a small disk refuses writes.
pub const DISK_FLOOR: u64 = 16 << 20;
/// The file that fills a disk.
const BALLAST: &str = "ballast.bin";

/// One node's disk; unmounted when dropped (after the node is gone).
pub struct NodeDisk {
    // Field order is drop order: the FUSE mount before the tmpfs under it.
    slow: Option<SlowDisk>,
    small: Option<Tmpfs>,
    dir: tempfile::TempDir,
}

impl NodeDisk {
    /// A disk that is `small` (a tmpfs) and/or `slow` (a FUSE pass-through).
    pub fn new(small: bool, slow: bool) -> NodeDisk {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let backing = dir.path().join("disk");
        let small = small.then(|| Tmpfs::mount(&backing, DISK_BYTES));
        let slow = slow.then(|| SlowDisk::mount(&backing, &dir.path().join("mnt")));
        NodeDisk { slow, small, dir }
    }

    /// Where the node's storage root goes (None: the node's own default).
    pub fn root(&self) -> Option<PathBuf> {
        match (&self.slow, &self.small) {
            (Some(slow), _) => Some(slow.path().join("storage")),
            (None, Some(_)) => Some(self.dir.path().join("disk").join("storage")),
            (None, None) => None,
        }
    }

    /// Environment the node needs on this disk (the free-space floor).
    pub fn env(&self) -> Vec<(String, String)> {
        match self.small {
            Some(_) => vec![(
                "SKEIN_STORAGE_FLUSHFLOORBYTES".into(),
                DISK_FLOOR.to_string(),
            )],
            None => Vec::new(),
        }
    }

    /// Fills the small disk until half the floor is left free (the node
    /// must refuse writes, not fail); the bytes taken.
    pub fn fill(&self) -> u64 {
        let tmpfs = self
            .small
            .as_ref()
            .expect("a run that fills disks has small ones");
        let ballast = tmpfs.available().saturating_sub(DISK_FLOOR / 2);
        let out = std::process::Command::new("fallocate")
            .args(["-l", &ballast.to_string()])
            .arg(self.ballast())
            .output()
            .expect("the fallocate command");
        assert!(
            out.status.success(),
            "fallocate: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        ballast
    }

    /// Frees what [`NodeDisk::fill`] took.
    pub fn free(&self) {
        std::fs::remove_file(self.ballast()).expect("remove the ballast");
    }

    fn ballast(&self) -> PathBuf {
        // Beside the storage root, on the same file system.
        self.dir.path().join("disk").join(BALLAST)
    }

    /// The slow disk.
    pub fn slow(&self) -> &SlowDisk {
        self.slow
            .as_ref()
            .expect("a run that slows disks has slow ones")
    }

    /// Delays every fsync on the slow disk by `delay` (zero: none).
    pub fn set_fsync_delay(&self, delay: Duration) {
        self.slow().set_fsync_delay(delay);
    }
}
