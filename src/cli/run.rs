//! `skein run`: the node service, in the foreground.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;

use super::Context;
use crate::log_file::{LogFile, DEFAULT_MAX_BYTES, MIN_MAX_BYTES};

/// `run` arguments.
#[derive(Debug, Args)]
#[command(
    after_help = "Runs until SIGINT or SIGTERM; everything acknowledged is already on disk.\n\n\
Examples:\n  skein run\n  skein --storage /var/lib/skein run\n  SKEIN_API_LISTENURIS=http://0.0.0.0:5341 skein run\n  \
skein run --log-file /var/log/skein/skein.log --log-file-max-bytes 52428800\n\n\
Without --log-file the node writes to standard output and error (the journal under systemd)."
)]
pub struct RunArgs {
    /// Append the node's output to this file (created 0600) instead of
    /// standard output and error, rotated at --log-file-max-bytes with
    /// 4 older files kept (FILE.1 … FILE.4); `skein service start` uses
    /// Logs/skein.log
    #[arg(long, value_name = "FILE")]
    pub log_file: Option<PathBuf>,
    /// The size at which --log-file is rotated
    #[arg(
        long,
        value_name = "BYTES",
        requires = "log_file",
        default_value_t = DEFAULT_MAX_BYTES,
        value_parser = clap::value_parser!(u64).range(MIN_MAX_BYTES..)
    )]
    pub log_file_max_bytes: u64,
}

impl RunArgs {
    /// The log file the node writes to, opened (and made its standard
    /// output and error) when `--log-file` is given.
    pub fn open_log_file(&self) -> anyhow::Result<Option<LogFile>> {
        let Some(path) = &self.log_file else {
            return Ok(None);
        };
        LogFile::open(path, self.log_file_max_bytes)
            .map(Some)
            .with_context(|| format!("cannot open the log file {}", path.display()))
    }
}

/// Executes `run`.
pub fn execute(ctx: &Context, _args: RunArgs, _out: &mut dyn Write) -> anyhow::Result<()> {
    crate::node::run(ctx)
}
