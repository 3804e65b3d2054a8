//! The storage root: where a node keeps everything it owns.
//!
//! ```text
//! <storage>/
//!   skein.json      local configuration (see `settings`)
//!   Secrets/        values encrypted with `storage.secretKey` (see `secrets`)
//!   Certificates/   PFX files for https:// and wss:// listeners
//!   Stream/         the event store
//!   Metastore/      metastore.db, the embedded SQLite metastore
//!   Logs/           the server's own diagnostic logs (`skein service`'s output)
//!   skein.pid       the running node's claim on the root (see `run_lock`)
//! ```
//!
//! The root is `--storage DIR`, else `SKEIN_STORAGE`, else a default chosen by
//! [`default_root`]. Directories are created mode 0700 and files mode 0600, so
//! only the node's own user can read them; files are replaced atomically
//! (write a temporary sibling, fsync, rename).

use std::collections::HashMap;
use std::fs::{self, DirBuilder, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Errors raised while laying out or writing the storage root.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// No storage root was given and none could be derived from the environment.
    #[error("cannot choose a storage root: pass --storage DIR or set SKEIN_STORAGE")]
    NoDefaultRoot,
    /// A file system operation failed.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done (`create directory`, `write`, ...).
        action: &'static str,
        /// The path involved.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
}

impl StorageError {
    fn io(action: &'static str, path: &Path, source: io::Error) -> Self {
        StorageError::Io {
            action,
            path: path.to_path_buf(),
            source,
        }
    }
}

/// The name of the configuration file under the storage root.
pub const CONFIG_FILE: &str = "skein.json";
/// The sub-directories every storage root has.
pub const SUBDIRS: [&str; 5] = ["Secrets", "Certificates", "Stream", "Metastore", "Logs"];

/// A node's storage root and the paths inside it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StorageRoot {
    root: PathBuf,
}

impl StorageRoot {
    /// The storage root at `root` (nothing is created until [`StorageRoot::ensure`]).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        StorageRoot { root: root.into() }
    }

    /// The root chosen by `--storage` (`explicit`), else `SKEIN_STORAGE` in
    /// `env`, else [`default_root`].
    pub fn resolve(
        explicit: Option<&Path>,
        env: &HashMap<String, String>,
    ) -> Result<Self, StorageError> {
        if let Some(path) = explicit {
            return Ok(StorageRoot::new(path));
        }
        match env.get("SKEIN_STORAGE").filter(|v| !v.is_empty()) {
            Some(path) => Ok(StorageRoot::new(path)),
            None => default_root(env).map(StorageRoot::new),
        }
    }

    /// The root directory itself.
    pub fn path(&self) -> &Path {
        &self.root
    }

    /// `<root>/skein.json`.
    pub fn config_file(&self) -> PathBuf {
        self.root.join(CONFIG_FILE)
    }

    /// `<root>/Secrets`.
    pub fn secrets_dir(&self) -> PathBuf {
        self.root.join("Secrets")
    }

    /// `<root>/Certificates`.
    pub fn certificates_dir(&self) -> PathBuf {
        self.root.join("Certificates")
    }

    /// `<root>/Stream`.
    pub fn stream_dir(&self) -> PathBuf {
        self.root.join("Stream")
    }

    /// `<root>/Metastore`.
    pub fn metastore_dir(&self) -> PathBuf {
        self.root.join("Metastore")
    }

    /// `<root>/Metastore/metastore.db`, the embedded SQLite metastore.
    pub fn metastore_db(&self) -> PathBuf {
        self.metastore_dir().join("metastore.db")
    }

    /// `<root>/Logs`.
    pub fn logs_dir(&self) -> PathBuf {
        self.root.join("Logs")
    }

    /// Creates the root and its sub-directories (mode 0700) where missing,
    /// and tightens the root, `Secrets/` and `Certificates/` to 0700 when
    /// they exist with looser permissions (logging each change).
    pub fn ensure(&self) -> Result<(), StorageError> {
        create_private_dir(&self.root)?;
        for sub in SUBDIRS {
            create_private_dir(&self.root.join(sub))?;
        }
        for dir in [
            self.root.clone(),
            self.secrets_dir(),
            self.certificates_dir(),
        ] {
            tighten_dir(&dir)?;
        }
        Ok(())
    }
}

/// The default storage root when neither `--storage` nor `SKEIN_STORAGE` is given:
///
/// 1. `$STATE_DIRECTORY` (set by systemd's `StateDirectory=skein`);
/// 2. `/var/lib/skein` when running as root;
/// 3. `$XDG_DATA_HOME/skein`, else `$HOME/.local/share/skein`.
pub fn default_root(env: &HashMap<String, String>) -> Result<PathBuf, StorageError> {
    if let Some(state) = env.get("STATE_DIRECTORY") {
        if let Some(first) = state.split(':').find(|p| !p.is_empty()) {
            return Ok(PathBuf::from(first));
        }
    }
    if running_as_root() {
        return Ok(PathBuf::from("/var/lib/skein"));
    }
    if let Some(data) = env.get("XDG_DATA_HOME").filter(|v| v.starts_with('/')) {
        return Ok(Path::new(data).join("skein"));
    }
    match env.get("HOME").filter(|v| !v.is_empty()) {
        Some(home) => Ok(Path::new(home).join(".local/share/skein")),
        None => Err(StorageError::NoDefaultRoot),
    }
}

fn running_as_root() -> bool {
    fs::metadata("/proc/self")
        .map(|m| m.uid() == 0)
        .unwrap_or(false)
}

/// Creates `path` and any missing parents with mode 0700.
pub fn create_private_dir(path: &Path) -> Result<(), StorageError> {
    DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(path)
        .map_err(|e| StorageError::io("create directory", path, e))
}

/// Sets directory `path` to mode 0700 when group or others have any
/// access to it; says so in the log.
pub fn tighten_dir(path: &Path) -> Result<(), StorageError> {
    let mode = fs::metadata(path)
        .map_err(|e| StorageError::io("inspect directory", path, e))?
        .permissions()
        .mode()
        & 0o7777;
    if mode & 0o077 == 0 {
        return Ok(());
    }
    fs::set_permissions(path, fs::Permissions::from_mode(0o700))
        .map_err(|e| StorageError::io("restrict the permissions of", path, e))?;
    log::warn!(
        "{} was readable by others (mode {mode:04o}): restricted to the service's user (0700)",
        path.display()
    );
    Ok(())
}

/// Replaces `path` atomically with `contents`, mode 0600: writes a temporary
/// sibling, fsyncs it, renames it over `path` and fsyncs the directory.
pub fn write_private_file(path: &Path, contents: &[u8]) -> Result<(), StorageError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| {
        let mut file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(|e| StorageError::io("create", &tmp, e))?;
        file.write_all(contents)
            .and_then(|_| file.sync_all())
            .map_err(|e| StorageError::io("write", &tmp, e))?;
        fs::rename(&tmp, path).map_err(|e| StorageError::io("replace", path, e))?;
        if let Ok(d) = fs::File::open(dir) {
            // Best effort: makes the rename itself durable.
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Creates `path` empty with mode 0600 if it does not exist (used for files
/// that other libraries then open, such as the SQLite metastore).
pub fn touch_private_file(path: &Path) -> Result<(), StorageError> {
    match OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(StorageError::io("create", path, e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn explicit_beats_env_beats_default() {
        let e = env(&[("SKEIN_STORAGE", "/from/env"), ("HOME", "/home/u")]);
        let explicit = StorageRoot::resolve(Some(Path::new("/explicit")), &e).unwrap();
        assert_eq!(explicit.path(), Path::new("/explicit"));
        let from_env = StorageRoot::resolve(None, &e).unwrap();
        assert_eq!(from_env.path(), Path::new("/from/env"));
    }

    #[test]
    fn systemd_state_directory_is_the_default() {
        let e = env(&[("STATE_DIRECTORY", "/var/lib/skein:/other")]);
        assert_eq!(default_root(&e).unwrap(), PathBuf::from("/var/lib/skein"));
    }

    #[test]
    fn layout_is_private() {
        let tmp = tempfile::tempdir().unwrap();
        let root = StorageRoot::new(tmp.path().join("root"));
        root.ensure().unwrap();
        for dir in [
            root.path().to_path_buf(),
            root.secrets_dir(),
            root.logs_dir(),
        ] {
            let mode = fs::metadata(&dir).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o700, "{}", dir.display());
        }
        write_private_file(&root.config_file(), b"{}").unwrap();
        write_private_file(&root.config_file(), b"{\"a\":1}").unwrap();
        let meta = fs::metadata(root.config_file()).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        assert_eq!(fs::read(root.config_file()).unwrap(), b"{\"a\":1}");
        touch_private_file(&root.metastore_db()).unwrap();
        let meta = fs::metadata(root.metastore_db()).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    }

    #[test]
    fn loose_existing_directories_are_tightened() {
        let tmp = tempfile::tempdir().unwrap();
        let root = StorageRoot::new(tmp.path().join("root"));
        let loose = [
            root.path().to_path_buf(),
            root.secrets_dir(),
            root.certificates_dir(),
        ];
        for dir in &loose {
            fs::create_dir_all(dir).unwrap();
            fs::set_permissions(dir, fs::Permissions::from_mode(0o755)).unwrap();
        }
        fs::create_dir_all(root.stream_dir()).unwrap();
        fs::set_permissions(root.stream_dir(), fs::Permissions::from_mode(0o750)).unwrap();
        root.ensure().unwrap();
        for dir in &loose {
            let mode = fs::metadata(dir).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o700, "{}", dir.display());
        }
        // Only the root and the secret folders are changed.
        let stream = fs::metadata(root.stream_dir())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(stream & 0o777, 0o750);
    }
}
