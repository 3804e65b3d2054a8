//! [`SlowFs`]: a FUSE passthrough filesystem over a backing directory whose
//! `fsync`, `fdatasync` and directory fsyncs (and, optionally, writes) wait
//! a delay that the test changes while it is mounted (through [`Knobs`]).
//!
//! Writes go through to the backing files at once (no write-back cache), so
//! what a delay stalls is exactly the durability barrier: a caller that
//! waits for its fsync waits for the delay. Each fsync sleeps on a thread of
//! its own, never on a FUSE worker, so reads, writes and `statvfs` go on
//! while fsyncs stall (as on a disk whose flushes are slow).
//!
//! Inodes are the backing inodes (the root is `FUSE_ROOT_ID`); each is
//! remembered with its backing path, renames included. Open files and
//! directories are backing [`File`]s, so I/O on them follows the file, not
//! its name. Locks stay in the kernel (no lock capability is asked for).
//! Every change to file contents is noted in an [`UndoLog`] until an fsync
//! covers it, so that a test can cut the power.

use std::collections::HashMap;
use std::ffi::OsStr;
use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::{
    DirBuilderExt, DirEntryExt, FileExt, MetadataExt, OpenOptionsExt, PermissionsExt,
};
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use super::convert::{check, cstr, errno, file_attr, kind, timespec};
use super::undo::UndoLog;
use fuser::{
    Errno, FileAttr, FileHandle, FileType, Filesystem, FopenFlags, Generation, INodeNo, OpenFlags,
    RenameFlags, ReplyAttr, ReplyCreate, ReplyData, ReplyDirectory, ReplyEmpty, ReplyEntry,
    ReplyOpen, ReplyStatfs, ReplyWrite, Request, TimeOrNow,
};

/// Attributes and entries are not cached by the kernel: every change goes
/// through this filesystem, but backing inode numbers are reused.
const TTL: Duration = Duration::ZERO;

/// What the test turns and reads while the filesystem is mounted.
#[derive(Debug, Default)]
pub struct Knobs {
    /// Delay before each file or directory fsync, in microseconds.
    pub fsync_delay_us: AtomicU64,
    /// Delay before each write, in microseconds.
    pub write_delay_us: AtomicU64,
    /// Fsyncs (files and directories) completed since the mount.
    pub fsyncs: AtomicU64,
    /// Fsyncs waiting for their delay or the backing fsync right now.
    pub fsyncs_in_flight: AtomicU64,
}

impl Knobs {
    fn delay(cell: &AtomicU64) -> Duration {
        Duration::from_micros(cell.load(Ordering::Relaxed))
    }
}

/// The filesystem.
pub struct SlowFs {
    root: PathBuf,
    root_ino: u64,
    paths: Mutex<HashMap<u64, PathBuf>>,
    handles: Mutex<HashMap<u64, Arc<File>>>,
    next_fh: AtomicU64,
    knobs: Arc<Knobs>,
    undo: Arc<UndoLog>,
}

impl SlowFs {
    /// A filesystem serving `root` (which must exist), turned by `knobs`,
    /// noting unsynced changes in `undo`.
    pub fn new(root: &Path, knobs: Arc<Knobs>, undo: Arc<UndoLog>) -> io::Result<SlowFs> {
        let root = root.canonicalize()?;
        let root_ino = fs::metadata(&root)?.ino();
        Ok(SlowFs {
            paths: Mutex::new(HashMap::from([(INodeNo::ROOT.0, root.clone())])),
            root,
            root_ino,
            handles: Mutex::new(HashMap::new()),
            next_fh: AtomicU64::new(1),
            knobs,
            undo,
        })
    }

    fn ino_of(&self, m: &fs::Metadata) -> u64 {
        if m.ino() == self.root_ino {
            INodeNo::ROOT.0
        } else {
            m.ino()
        }
    }

    fn attr(&self, m: &fs::Metadata) -> FileAttr {
        file_attr(m, self.ino_of(m))
    }

    fn path(&self, ino: INodeNo) -> Result<PathBuf, Errno> {
        self.paths
            .lock()
            .unwrap()
            .get(&ino.0)
            .cloned()
            .ok_or(Errno::ENOENT)
    }

    fn child(&self, parent: INodeNo, name: &OsStr) -> Result<PathBuf, Errno> {
        Ok(self.path(parent)?.join(name))
    }

    /// Stats `path`, remembers its inode's path, and answers its entry.
    fn remember(&self, path: PathBuf) -> Result<FileAttr, Errno> {
        let m = fs::symlink_metadata(&path).map_err(errno)?;
        let attr = self.attr(&m);
        self.paths.lock().unwrap().insert(attr.ino.0, path);
        Ok(attr)
    }

    fn handle(&self, fh: FileHandle) -> Result<Arc<File>, Errno> {
        self.handles
            .lock()
            .unwrap()
            .get(&fh.0)
            .cloned()
            .ok_or(Errno::EBADF)
    }

    fn keep(&self, file: File) -> FileHandle {
        self.keep_shared(Arc::new(file))
    }

    fn keep_shared(&self, file: Arc<File>) -> FileHandle {
        let fh = self.next_fh.fetch_add(1, Ordering::Relaxed);
        self.handles.lock().unwrap().insert(fh, file);
        FileHandle(fh)
    }

    /// Backing open flags: the caller's, less what the kernel already did
    /// (create, truncate, append offsets) or what the backing file must not
    /// see (direct I/O alignment). Write-only files are opened for reading
    /// too, for the undo log.
    fn open_options(flags: i32) -> OpenOptions {
        let mut o = OpenOptions::new();
        o.read(true)
            .write(flags & libc::O_ACCMODE != libc::O_RDONLY);
        let dropped = libc::O_ACCMODE
            | libc::O_CREAT
            | libc::O_EXCL
            | libc::O_TRUNC
            | libc::O_APPEND
            | libc::O_DIRECT
            | libc::O_NOCTTY;
        o.custom_flags(flags & !dropped);
        o
    }

    /// Moves every remembered path under `from` to `to`.
    fn renamed(&self, from: &Path, to: &Path) {
        for path in self.paths.lock().unwrap().values_mut() {
            if let Ok(rest) = path.strip_prefix(from) {
                *path = if rest.as_os_str().is_empty() {
                    to.to_path_buf()
                } else {
                    to.join(rest)
                };
            }
        }
    }

    /// Waits the fsync delay, then fsyncs `file` (inode `ino`), on a
    /// thread of its own.
    fn delayed_sync(&self, ino: u64, file: Arc<File>, datasync: bool, reply: ReplyEmpty) {
        let knobs = self.knobs.clone();
        let undo = self.undo.clone();
        let mark = match undo.sync_started() {
            Ok(mark) => mark,
            Err(e) => return reply.error(errno(e)),
        };
        knobs.fsyncs_in_flight.fetch_add(1, Ordering::SeqCst);
        std::thread::spawn(move || {
            undo.wait(mark, Knobs::delay(&knobs.fsync_delay_us));
            let done = if datasync {
                file.sync_data()
            } else {
                file.sync_all()
            }
            .and_then(|_| undo.synced(ino, mark));
            knobs.fsyncs.fetch_add(1, Ordering::SeqCst);
            knobs.fsyncs_in_flight.fetch_sub(1, Ordering::SeqCst);
            match done {
                Ok(()) => reply.ok(),
                Err(e) => reply.error(errno(e)),
            }
        });
    }
}

impl Filesystem for SlowFs {
    fn lookup(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEntry) {
        match self.child(parent, name).and_then(|p| self.remember(p)) {
            Ok(attr) => reply.entry(&TTL, &attr, Generation(0)),
            Err(e) => reply.error(e),
        }
    }

    fn getattr(&self, _req: &Request, ino: INodeNo, fh: Option<FileHandle>, reply: ReplyAttr) {
        let meta = match fh.map(|fh| self.handle(fh)) {
            Some(Ok(file)) => file.metadata().map_err(errno),
            _ => self
                .path(ino)
                .and_then(|p| fs::symlink_metadata(p).map_err(errno)),
        };
        match meta {
            Ok(m) => reply.attr(&TTL, &self.attr(&m)),
            Err(e) => reply.error(e),
        }
    }

    fn setattr(
        &self,
        _req: &Request,
        ino: INodeNo,
        mode: Option<u32>,
        uid: Option<u32>,
        gid: Option<u32>,
        size: Option<u64>,
        atime: Option<TimeOrNow>,
        mtime: Option<TimeOrNow>,
        _ctime: Option<SystemTime>,
        fh: Option<FileHandle>,
        _crtime: Option<SystemTime>,
        _chgtime: Option<SystemTime>,
        _bkuptime: Option<SystemTime>,
        _flags: Option<fuser::BsdFileFlags>,
        reply: ReplyAttr,
    ) {
        let run = || -> Result<fs::Metadata, Errno> {
            self.undo.check_on().map_err(errno)?;
            let path = self.path(ino)?;
            if let Some(mode) = mode {
                fs::set_permissions(&path, fs::Permissions::from_mode(mode & 0o7777))
                    .map_err(errno)?;
            }
            if uid.is_some() || gid.is_some() {
                std::os::unix::fs::lchown(&path, uid, gid).map_err(errno)?;
            }
            if let Some(size) = size {
                let file = match fh.map(|fh| self.handle(fh)) {
                    Some(Ok(file)) => file,
                    _ => Arc::new(
                        OpenOptions::new()
                            .read(true)
                            .write(true)
                            .open(&path)
                            .map_err(errno)?,
                    ),
                };
                self.undo
                    .change(ino.0, &file, size, 0, |f| f.set_len(size))
                    .map_err(errno)?;
            }
            if atime.is_some() || mtime.is_some() {
                let times = [timespec(atime), timespec(mtime)];
                let c = cstr(&path).map_err(errno)?;
                // SAFETY: a valid C path and two timespecs.
                check(unsafe { libc::utimensat(libc::AT_FDCWD, c.as_ptr(), times.as_ptr(), 0) })
                    .map_err(errno)?;
            }
            fs::symlink_metadata(&path).map_err(errno)
        };
        match run() {
            Ok(m) => reply.attr(&TTL, &self.attr(&m)),
            Err(e) => reply.error(e),
        }
    }

    fn mkdir(
        &self,
        _req: &Request,
        parent: INodeNo,
        name: &OsStr,
        mode: u32,
        umask: u32,
        reply: ReplyEntry,
    ) {
        let run = || {
            self.undo.check_on().map_err(errno)?;
            let path = self.child(parent, name)?;
            fs::DirBuilder::new()
                .mode(mode & !umask & 0o7777)
                .create(&path)
                .map_err(errno)?;
            self.remember(path)
        };
        match run() {
            Ok(attr) => reply.entry(&TTL, &attr, Generation(0)),
            Err(e) => reply.error(e),
        }
    }

    fn unlink(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEmpty) {
        match self
            .undo
            .check_on()
            .map_err(errno)
            .and_then(|_| self.child(parent, name))
            .and_then(|p| fs::remove_file(p).map_err(errno))
        {
            Ok(()) => reply.ok(),
            Err(e) => reply.error(e),
        }
    }

    fn rmdir(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEmpty) {
        match self
            .undo
            .check_on()
            .map_err(errno)
            .and_then(|_| self.child(parent, name))
            .and_then(|p| fs::remove_dir(p).map_err(errno))
        {
            Ok(()) => reply.ok(),
            Err(e) => reply.error(e),
        }
    }

    fn rename(
        &self,
        _req: &Request,
        parent: INodeNo,
        name: &OsStr,
        newparent: INodeNo,
        newname: &OsStr,
        flags: RenameFlags,
        reply: ReplyEmpty,
    ) {
        let run = || {
            self.undo.check_on().map_err(errno)?;
            let from = self.child(parent, name)?;
            let to = self.child(newparent, newname)?;
            let (f, t) = (cstr(&from).map_err(errno)?, cstr(&to).map_err(errno)?);
            // SAFETY: two valid C paths.
            check(unsafe {
                libc::renameat2(
                    libc::AT_FDCWD,
                    f.as_ptr(),
                    libc::AT_FDCWD,
                    t.as_ptr(),
                    flags.bits(),
                )
            })
            .map_err(errno)?;
            self.renamed(&from, &to);
            Ok(())
        };
        match run() {
            Ok(()) => reply.ok(),
            Err(e) => reply.error(e),
        }
    }

    fn open(&self, _req: &Request, ino: INodeNo, flags: OpenFlags, reply: ReplyOpen) {
        match self
            .path(ino)
            .and_then(|p| Self::open_options(flags.0).open(p).map_err(errno))
        {
            Ok(file) => reply.opened(self.keep(file), FopenFlags::empty()),
            Err(e) => reply.error(e),
        }
    }

    fn create(
        &self,
        _req: &Request,
        parent: INodeNo,
        name: &OsStr,
        mode: u32,
        umask: u32,
        flags: i32,
        reply: ReplyCreate,
    ) {
        let run = || {
            self.undo.check_on().map_err(errno)?;
            let path = self.child(parent, name)?;
            let mut o = Self::open_options(flags);
            o.write(true)
                .create(true)
                .truncate(false)
                .create_new(flags & libc::O_EXCL != 0)
                .mode(mode & !umask & 0o7777);
            let file = Arc::new(o.open(&path).map_err(errno)?);
            let attr = self.remember(path)?;
            if flags & libc::O_TRUNC != 0 {
                self.undo
                    .change(attr.ino.0, &file, 0, 0, |f| f.set_len(0))
                    .map_err(errno)?;
            }
            Ok((attr, self.keep_shared(file)))
        };
        match run() {
            Ok((attr, fh)) => reply.created(&TTL, &attr, Generation(0), fh, FopenFlags::empty()),
            Err(e) => reply.error(e),
        }
    }

    fn read(
        &self,
        _req: &Request,
        _ino: INodeNo,
        fh: FileHandle,
        offset: u64,
        size: u32,
        _flags: OpenFlags,
        _lock_owner: Option<fuser::LockOwner>,
        reply: ReplyData,
    ) {
        let run = || {
            let file = self.handle(fh)?;
            let mut buf = vec![0u8; size as usize];
            let mut got = 0;
            while got < buf.len() {
                match file.read_at(&mut buf[got..], offset + got as u64) {
                    Ok(0) => break,
                    Ok(n) => got += n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(errno(e)),
                }
            }
            buf.truncate(got);
            Ok(buf)
        };
        match run() {
            Ok(data) => reply.data(&data),
            Err(e) => reply.error(e),
        }
    }

    fn write(
        &self,
        _req: &Request,
        ino: INodeNo,
        fh: FileHandle,
        offset: u64,
        data: &[u8],
        _write_flags: fuser::WriteFlags,
        _flags: OpenFlags,
        _lock_owner: Option<fuser::LockOwner>,
        reply: ReplyWrite,
    ) {
        let delay = Knobs::delay(&self.knobs.write_delay_us);
        if !delay.is_zero() {
            std::thread::sleep(delay);
        }
        let run = || {
            let file = self.handle(fh)?;
            self.undo
                .change(ino.0, &file, offset, data.len() as u64, |f| {
                    f.write_all_at(data, offset)
                })
                .map_err(errno)
        };
        match run() {
            Ok(()) => reply.written(data.len() as u32),
            Err(e) => reply.error(e),
        }
    }

    fn flush(
        &self,
        _req: &Request,
        _ino: INodeNo,
        _fh: FileHandle,
        _lock_owner: fuser::LockOwner,
        reply: ReplyEmpty,
    ) {
        reply.ok();
    }

    fn release(
        &self,
        _req: &Request,
        _ino: INodeNo,
        fh: FileHandle,
        _flags: OpenFlags,
        _lock_owner: Option<fuser::LockOwner>,
        _flush: bool,
        reply: ReplyEmpty,
    ) {
        self.handles.lock().unwrap().remove(&fh.0);
        reply.ok();
    }

    fn fsync(
        &self,
        _req: &Request,
        ino: INodeNo,
        fh: FileHandle,
        datasync: bool,
        reply: ReplyEmpty,
    ) {
        match self.handle(fh) {
            Ok(file) => self.delayed_sync(ino.0, file, datasync, reply),
            Err(e) => reply.error(e),
        }
    }

    fn opendir(&self, _req: &Request, ino: INodeNo, _flags: OpenFlags, reply: ReplyOpen) {
        match self.path(ino).and_then(|p| File::open(p).map_err(errno)) {
            Ok(dir) => reply.opened(self.keep(dir), FopenFlags::empty()),
            Err(e) => reply.error(e),
        }
    }

    fn readdir(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        offset: u64,
        mut reply: ReplyDirectory,
    ) {
        let run = || -> Result<Vec<(u64, FileType, std::ffi::OsString)>, Errno> {
            let path = self.path(ino)?;
            let mut entries = vec![
                (ino.0, FileType::Directory, ".".into()),
                (ino.0, FileType::Directory, "..".into()),
            ];
            for e in fs::read_dir(&path).map_err(errno)? {
                let e = e.map_err(errno)?;
                let t = e.file_type().map_err(errno)?;
                entries.push((e.ino(), kind(t), e.file_name()));
            }
            Ok(entries)
        };
        match run() {
            Ok(entries) => {
                for (i, (ino, kind, name)) in entries.into_iter().enumerate().skip(offset as usize)
                {
                    if reply.add(INodeNo(ino), i as u64 + 1, kind, name) {
                        break;
                    }
                }
                reply.ok();
            }
            Err(e) => reply.error(e),
        }
    }

    fn releasedir(
        &self,
        _req: &Request,
        _ino: INodeNo,
        fh: FileHandle,
        _flags: OpenFlags,
        reply: ReplyEmpty,
    ) {
        self.handles.lock().unwrap().remove(&fh.0);
        reply.ok();
    }

    fn fsyncdir(
        &self,
        _req: &Request,
        ino: INodeNo,
        fh: FileHandle,
        datasync: bool,
        reply: ReplyEmpty,
    ) {
        match self.handle(fh) {
            Ok(dir) => self.delayed_sync(ino.0, dir, datasync, reply),
            Err(e) => reply.error(e),
        }
    }

    fn statfs(&self, _req: &Request, _ino: INodeNo, reply: ReplyStatfs) {
        let run = || -> io::Result<libc::statvfs> {
            let c = cstr(&self.root)?;
            // SAFETY: a valid C path and a zeroed statvfs to fill.
            let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
            check(unsafe { libc::statvfs(c.as_ptr(), &mut st) })?;
            Ok(st)
        };
        match run() {
            Ok(st) => reply.statfs(
                st.f_blocks,
                st.f_bfree,
                st.f_bavail,
                st.f_files,
                st.f_ffree,
                st.f_bsize as u32,
                st.f_namemax as u32,
                st.f_frsize as u32,
            ),
            Err(e) => reply.error(errno(e)),
        }
    }

    fn access(&self, _req: &Request, _ino: INodeNo, _mask: fuser::AccessFlags, reply: ReplyEmpty) {
        reply.ok();
    }

    fn fallocate(
        &self,
        _req: &Request,
        ino: INodeNo,
        fh: FileHandle,
        offset: u64,
        length: u64,
        mode: i32,
        reply: ReplyEmpty,
    ) {
        let run = || {
            let file = self.handle(fh)?;
            self.undo
                .change(ino.0, &file, offset, length, |f| {
                    // SAFETY: an open descriptor; the kernel checks the range.
                    check(unsafe {
                        libc::fallocate(
                            f.as_raw_fd(),
                            mode,
                            offset as libc::off_t,
                            length as libc::off_t,
                        )
                    })
                })
                .map_err(errno)
        };
        match run() {
            Ok(()) => reply.ok(),
            Err(e) => reply.error(e),
        }
    }
}
