//! `skein show-key [--generate]`: print the configured storage secret key,
//! or a new random one (which is printed once and stored nowhere).

use std::io::Write;

use anyhow::bail;
use clap::Args;

use super::Context;
use crate::secrets::SecretKey;

/// `show-key` arguments.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  skein show-key\n  skein show-key --generate\n  skein config set -k storage.secretKey -v \"$(skein show-key --generate)\"\n\nKeep the key outside the node too: every node of a cluster needs the same key,\nand secrets cannot be recovered without it."
)]
pub struct ShowKeyArgs {
    /// Print a new random 256-bit key instead (it is not saved: set it with `skein config set -k storage.secretKey`)
    #[arg(long)]
    pub generate: bool,
}

/// Executes `show-key`.
pub fn execute(ctx: &Context, args: ShowKeyArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    if args.generate {
        let key = SecretKey::generate()?;
        writeln!(out, "{}", key.to_base64())?;
        eprintln!("This key is not saved anywhere: store it with `skein config set -k storage.secretKey -v <key>` or in SKEIN_STORAGE_SECRETKEY.");
        return Ok(());
    }
    match ctx.runtime()?.secret_key {
        Some(key) => writeln!(out, "{}", key.to_base64())?,
        None => bail!(
            "no storage.secretKey is configured (generate one with `skein show-key --generate`)"
        ),
    }
    Ok(())
}
