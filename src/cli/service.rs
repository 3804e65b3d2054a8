//! `skein service start | stop | restart | status`: the node as a
//! background service on its storage root — the guide's `seq service start`.
//!
//! `start` runs `skein --storage ROOT run --log-file Logs/skein.log`
//! detached (its own session, no terminal): the node appends its output
//! there and rotates the file at 10 MiB, keeping 4 older ones
//! ([`crate::log_file`]). `start` waits until the node says it is
//! listening; when the node stops instead, the reason (the log's new lines)
//! is the command's error. Whether a node runs is read from
//! its claim on the root ([`crate::run_lock`]), so `start` on a running node
//! and `stop` on a stopped one change nothing and succeed, as systemd's do.
//! `stop` sends SIGTERM (in-flight requests finish; everything acknowledged
//! is already on disk) and waits for the claim to be released.
//!
//! Under systemd, manage the installed unit (`deploy/skein.service`) with
//! `systemctl` instead: it restarts the node on failure and at boot.

use std::fs::OpenOptions;
use std::io::{Read as _, Seek as _, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt as _;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use clap::Subcommand;

use super::Context;
use crate::node::READY;
use crate::run_lock;

/// How long `start` waits for the node to listen.
pub const START_TIMEOUT: Duration = Duration::from_secs(60);
/// How long `stop` waits for the node to finish.
pub const STOP_TIMEOUT: Duration = Duration::from_secs(60);

/// `service` subcommands.
#[derive(Debug, Subcommand)]
#[command(
    after_help = "Examples:\n  skein service start\n  skein service status\n  \
skein --storage /srv/skein service stop\n\n\
The output goes to Logs/skein.log under the storage root, rotated at 10 MiB \
(Logs/skein.log.1 … .4 kept). Under systemd use \
`systemctl start|stop|status skein` with deploy/skein.service instead."
)]
pub enum ServiceCommand {
    /// Start the node in the background and wait until it listens
    #[command(after_help = "Examples:\n  skein service start\n  \
SKEIN_STORAGE_SECRETKEY=\"<secret key>\" skein --storage /srv/skein service start\n\n\
Runs `skein run` detached, its output appended to Logs/skein.log, and returns once the\n\
node listens, or fails with the node's own reason. A running node is left as it is.")]
    Start,
    /// Stop the running node (SIGTERM) and wait until it has stopped
    #[command(after_help = "Examples:\n  skein service stop\n\n\
In-flight requests finish; everything acknowledged is already on disk. A stopped node\n\
is left as it is.")]
    Stop,
    /// Stop the node if it runs, then start it
    #[command(after_help = "Examples:\n  skein service restart")]
    Restart,
    /// Say whether the node runs, with its process id and log file
    #[command(after_help = "Examples:\n  skein service status\n\n\
Fails (exit status 1) when no node runs on the storage root.")]
    Status,
}

/// Executes a `service` subcommand.
pub fn execute(ctx: &Context, cmd: ServiceCommand, out: &mut dyn Write) -> anyhow::Result<()> {
    let root = ctx.root.path();
    match cmd {
        ServiceCommand::Start => start(ctx, out),
        ServiceCommand::Stop => stop(root, out),
        ServiceCommand::Restart => {
            stop(root, out)?;
            start(ctx, out)
        }
        ServiceCommand::Status => match run_lock::running(root)? {
            Some(pid) => {
                writeln!(
                    out,
                    "skein is running on {} (pid {pid}); log: {}",
                    root.display(),
                    log_file(ctx).display()
                )?;
                Ok(())
            }
            None => bail!("skein is not running on {}", root.display()),
        },
    }
}

/// `Logs/skein.log` under the storage root.
fn log_file(ctx: &Context) -> PathBuf {
    ctx.root.logs_dir().join("skein.log")
}

fn start(ctx: &Context, out: &mut dyn Write) -> anyhow::Result<()> {
    let root = ctx.root.path();
    if let Some(pid) = run_lock::running(root)? {
        writeln!(
            out,
            "skein is already running on {} (pid {pid})",
            root.display()
        )?;
        return Ok(());
    }
    ctx.root
        .ensure()
        .context("cannot prepare the storage root")?;
    let path = log_file(ctx);
    let mut log = OpenOptions::new()
        .create(true)
        .append(true)
        .read(true)
        .mode(0o600)
        .open(&path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    let mut from = log.seek(SeekFrom::End(0))?;
    let exe = std::env::current_exe().context("cannot find the skein executable")?;
    let mut command = Command::new(exe);
    // The node opens and rotates the file itself; until it does (a refused
    // command line), its output goes there through these descriptors too.
    command
        .arg("--storage")
        .arg(root)
        .arg("run")
        .arg("--log-file")
        .arg(&path)
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log.try_clone()?);
    // SAFETY: setsid is async-signal-safe and touches no memory of ours.
    unsafe {
        command.pre_exec(|| {
            if libc::setsid() == -1 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = command.spawn().context("cannot start `skein run`")?;
    let started = Instant::now();
    let mut said = String::new();
    loop {
        said.push_str(&new_lines(&mut log, &mut from)?);
        // Rotated meanwhile: the rest is in the new file.
        if let Some(current) = replaced(&log, &path) {
            (log, from) = (current, 0);
            said.push_str(&new_lines(&mut log, &mut from)?);
        }
        if let Some(line) = said.lines().find(|l| l.contains(READY)) {
            writeln!(out, "{}", line.trim())?;
            writeln!(
                out,
                "skein started on {} (pid {}); log: {}",
                root.display(),
                child.id(),
                path.display()
            )?;
            return Ok(());
        }
        if let Some(status) = child.try_wait()? {
            bail!(
                "skein run stopped at start ({status}):\n{}",
                said.trim_end()
            );
        }
        if started.elapsed() > START_TIMEOUT {
            bail!(
                "skein run (pid {}) did not start listening within {}s; see {}",
                child.id(),
                START_TIMEOUT.as_secs(),
                path.display()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// What the log holds from `from` on; `from` moves past it.
fn new_lines(log: &mut std::fs::File, from: &mut u64) -> anyhow::Result<String> {
    let mut bytes = Vec::new();
    log.seek(SeekFrom::Start(*from))?;
    log.read_to_end(&mut bytes)?;
    *from += bytes.len() as u64;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// The file now at `path` when it is no longer `log` (the node rotated it).
fn replaced(log: &std::fs::File, path: &Path) -> Option<std::fs::File> {
    use std::os::unix::fs::MetadataExt as _;
    let (was, now) = (log.metadata().ok()?, std::fs::metadata(path).ok()?);
    let moved = (was.dev(), was.ino()) != (now.dev(), now.ino());
    moved.then(|| std::fs::File::open(path).ok()).flatten()
}

fn stop(root: &Path, out: &mut dyn Write) -> anyhow::Result<()> {
    let pid = match run_lock::running(root)? {
        None => {
            writeln!(out, "skein is not running on {}", root.display())?;
            return Ok(());
        }
        Some(0) => bail!(
            "skein runs on {} but {} holds no process id yet (it is starting, or its disk was \
             full when it started); try again in a moment, or stop it by its process id",
            root.display(),
            run_lock::pid_file(root).display()
        ),
        Some(pid) => pid,
    };
    let target = libc::pid_t::try_from(pid).context("a process id out of range")?;
    // SAFETY: kill(2) with a process id read from the claim and a valid signal.
    if unsafe { libc::kill(target, libc::SIGTERM) } == -1 {
        let e = std::io::Error::last_os_error();
        return Err(e).with_context(|| format!("cannot signal process {pid}"));
    }
    writeln!(out, "stopping skein (pid {pid}) …")?;
    let started = Instant::now();
    while run_lock::running(root)?.is_some() {
        if started.elapsed() > STOP_TIMEOUT {
            bail!(
                "skein (pid {pid}) is still running after {}s; `kill -9 {pid}` ends it \
                 (everything acknowledged is on disk)",
                STOP_TIMEOUT.as_secs()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    writeln!(out, "skein stopped on {}", root.display())?;
    Ok(())
}
