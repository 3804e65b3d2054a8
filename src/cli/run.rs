//! `skein run`: the node service, in the foreground.

use std::io::Write;

use clap::Args;

use super::Context;

/// `run` arguments.
#[derive(Debug, Args)]
#[command(
    after_help = "Runs until SIGINT or SIGTERM; everything acknowledged is already on disk.\n\n\
Examples:\n  skein run\n  skein --storage /var/lib/skein run\n  SKEIN_API_LISTENURIS=http://0.0.0.0:5341 skein run"
)]
pub struct RunArgs {}

/// Executes `run`.
pub fn execute(ctx: &Context, _args: RunArgs, _out: &mut dyn Write) -> anyhow::Result<()> {
    crate::node::run(ctx)
}
