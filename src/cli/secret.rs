//! `skein secret`: values encrypted with `storage.secretKey` under `Secrets/`.

use std::io::{Read, Write};

use anyhow::{bail, Context as _};
use clap::{Args, Subcommand};

use super::Context;
use crate::metastore_url::{postgres_url, POSTGRES_SECRET};

/// `skein secret ...`
#[derive(Debug, Subcommand)]
#[command(
    after_help = "Examples:\n  skein secret set -k certificates.defaultPassword -v \"<password>\"\n  skein secret list\n\nSecrets need storage.secretKey (or SKEIN_STORAGE_SECRETKEY); a missing or wrong key changes nothing."
)]
pub enum SecretCommand {
    /// Encrypt and store a secret
    #[command(
        after_help = "Examples:\n  skein secret set -k metastore.postgres.connectionString -v \"postgres://skein:pw@db/skein\"\n  skein secret set -k certificates.defaultPassword -v \"<password>\"\n  printf '%s' \"$PASSWORD\" | skein secret set -k certificates.defaultPassword --value-stdin"
    )]
    Set(SetArgs),
    /// List stored secrets (names only) and whether the configured key opens them
    #[command(after_help = "Examples:\n  skein secret list")]
    List,
    /// Remove a secret
    #[command(
        after_help = "Examples:\n  skein secret clear -k metastore.postgres.connectionString"
    )]
    Clear(ClearArgs),
}

/// `secret set` arguments.
#[derive(Debug, Args)]
pub struct SetArgs {
    /// The secret's name, e.g. certificates.defaultPassword
    #[arg(short, long)]
    pub key: String,
    /// The value (visible to other local users in the process list; see --value-stdin)
    #[arg(
        short,
        long,
        allow_hyphen_values = true,
        required_unless_present = "value_stdin",
        conflicts_with = "value_stdin"
    )]
    pub value: Option<String>,
    /// Read the value from standard input (one trailing newline is dropped)
    #[arg(long)]
    pub value_stdin: bool,
}

/// `secret clear` arguments.
#[derive(Debug, Args)]
pub struct ClearArgs {
    /// The secret's name
    #[arg(short, long)]
    pub key: String,
}

/// Executes a `secret` command.
pub fn execute(ctx: &Context, cmd: SecretCommand, out: &mut dyn Write) -> anyhow::Result<()> {
    match cmd {
        SecretCommand::Set(args) => {
            let value = match args.value {
                Some(v) => v,
                None => read_stdin()?,
            };
            if args.key == POSTGRES_SECRET {
                postgres_url(&value)?;
            }
            ctx.secrets()?.set(&args.key, &value)?;
            writeln!(out, "Stored secret {} (encrypted)", args.key)?;
            writeln!(
                out,
                "Restart the node (`skein run`) for the change to take effect."
            )?;
        }
        SecretCommand::List => {
            let store = ctx.secrets()?;
            let names = store.names()?;
            if names.is_empty() {
                writeln!(out, "No secrets stored.")?;
            }
            for name in names {
                let status = match store.get(&name) {
                    Ok(_) => "ok".to_string(),
                    Err(e) => e.to_string(),
                };
                writeln!(out, "{name}  [{status}]")?;
            }
        }
        SecretCommand::Clear(args) => {
            if ctx.secrets()?.clear(&args.key)? {
                writeln!(out, "Removed secret {}", args.key)?;
                writeln!(
                    out,
                    "Restart the node (`skein run`) for the change to take effect."
                )?;
            } else {
                bail!("no secret named `{}` is stored", args.key);
            }
        }
    }
    Ok(())
}

fn read_stdin() -> anyhow::Result<String> {
    let mut value = String::new();
    std::io::stdin()
        .read_to_string(&mut value)
        .context("cannot read the value from standard input")?;
    if value.ends_with('\n') {
        value.pop();
        if value.ends_with('\r') {
            value.pop();
        }
    }
    Ok(value)
}
