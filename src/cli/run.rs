//! `skein run`: the node service. Declared here so the command line is
//! complete; the server itself arrives with the server issue.

use std::io::Write;

use anyhow::bail;
use clap::Args;

use super::Context;

/// `run` arguments.
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  skein run\n  skein --storage /var/lib/skein run")]
pub struct RunArgs {}

/// Executes `run`: validates the configuration, then reports that the
/// server is not part of this build yet.
pub fn execute(ctx: &Context, _args: RunArgs, _out: &mut dyn Write) -> anyhow::Result<()> {
    ctx.runtime()?;
    bail!("`skein run` is not yet available in this build")
}
