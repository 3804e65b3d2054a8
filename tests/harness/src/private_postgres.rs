//! A PostgreSQL server of the test's own (initdb + pg_ctl in a temporary
//! directory, on a reserved port), so a test can stop, crash and restart
//! the metastore's server without touching the machine's shared one.
//! Stopped (immediate mode) and removed when dropped.
//!
//! The binaries come from `SKEIN_TEST_PG_BIN` or the newest
//! `/usr/lib/postgresql/*/bin` (Debian's `postgresql` package, which
//! `tests/run-all.sh` installs when missing). As root, the server runs as
//! the `postgres` user, as PostgreSQL requires.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::process::free_port;

/// A running (or stopped) private PostgreSQL server.
pub struct PrivatePostgres {
    /// Its TCP port on 127.0.0.1.
    pub port: u16,
    /// `postgres://postgres@127.0.0.1:PORT/postgres` (trust authentication).
    pub url: String,
    bin: PathBuf,
    dir: tempfile::TempDir,
}

/// The directory holding `initdb` and `pg_ctl`.
fn binaries() -> PathBuf {
    if let Ok(dir) = std::env::var("SKEIN_TEST_PG_BIN") {
        return PathBuf::from(dir);
    }
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|d| {
            d.filter_map(Result::ok)
                .filter_map(|e| {
                    let version = e.file_name().to_str()?.parse().ok()?;
                    Some((version, e.path().join("bin")))
                })
                .filter(|(_, bin)| bin.join("initdb").exists())
                .collect()
        })
        .unwrap_or_default();
    found.sort();
    found.pop().map(|(_, bin)| bin).unwrap_or_else(|| {
        panic!(
            "this test needs PostgreSQL's server binaries (initdb, pg_ctl): install Debian's \
             postgresql package (tests/run-all.sh does) or set SKEIN_TEST_PG_BIN"
        )
    })
}

/// Runs `program args…` as the `postgres` user when we are root.
fn as_postgres(program: &Path, args: &[&str]) -> Output {
    // SAFETY: getuid has no preconditions.
    let root = unsafe { libc::getuid() } == 0;
    let mut cmd = if root {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    };
    cmd.args(args)
        .output()
        .unwrap_or_else(|e| panic!("running {}: {e}", program.display()))
}

impl PrivatePostgres {
    /// Creates a cluster with initdb and starts it.
    pub fn start() -> PrivatePostgres {
        let bin = binaries();
        let dir = tempfile::Builder::new()
            .prefix("skein-pg.")
            .tempdir()
            .expect("a temporary directory");
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        // SAFETY: getuid has no preconditions.
        if unsafe { libc::getuid() } == 0 {
            let chown = Command::new("chown")
                .arg("postgres")
                .arg(dir.path())
                .status();
            assert!(
                chown.is_ok_and(|s| s.success()),
                "chown postgres {:?}",
                dir.path()
            );
        }
        let data = dir.path().join("data");
        let out = as_postgres(
            &bin.join("initdb"),
            &[
                "-D",
                data.to_str().unwrap(),
                "-U",
                "postgres",
                "--auth=trust",
                "--no-sync",
            ],
        );
        assert!(
            out.status.success(),
            "initdb: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let port = free_port();
        let pg = PrivatePostgres {
            port,
            url: format!("postgres://postgres@127.0.0.1:{port}/postgres"),
            bin,
            dir,
        };
        pg.start_again();
        pg
    }

    /// Starts the (stopped) server and waits until it accepts connections.
    pub fn start_again(&self) {
        let dir = self.dir.path();
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1",
            self.port,
            dir.display()
        );
        let out = self.pg_ctl(&[
            "-o",
            &options,
            "-w",
            "-t",
            "60",
            "-l",
            &self.log_path(),
            "start",
        ]);
        assert!(
            out.status.success(),
            "pg_ctl start: {}\n{}",
            String::from_utf8_lossy(&out.stderr),
            self.log()
        );
    }

    /// Stops the server: `mode` is `fast` (clean shut-down) or `immediate`
    /// (a crash: no checkpoint, recovery at the next start).
    pub fn stop(&self, mode: &str) {
        let out = self.pg_ctl(&["-m", mode, "-w", "-t", "60", "stop"]);
        assert!(
            out.status.success(),
            "pg_ctl stop -m {mode}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// The server's log.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    fn log_path(&self) -> String {
        self.dir.path().join("log").display().to_string()
    }

    fn pg_ctl(&self, args: &[&str]) -> Output {
        let data = self.dir.path().join("data");
        let mut all = vec!["-D", data.to_str().unwrap()];
        all.extend_from_slice(args);
        as_postgres(&self.bin.join("pg_ctl"), &all)
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let _ = self.pg_ctl(&["-m", "immediate", "-w", "stop"]);
    }
}
