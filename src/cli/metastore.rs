//! `skein metastore to-postgresql`: moves this node's metadata from the
//! embedded SQLite metastore into a PostgreSQL database, then makes the node
//! use it by storing the connection string as the secret
//! `metastore.postgres.connectionString`. The embedded copy is kept.
//!
//! The copy ([`Metastore::copy_into`]) creates the schema with the same
//! migrations as SQLite, refuses a target that holds other data unless
//! `--force`, and is idempotent: running it again changes nothing. Each
//! table's line is printed as soon as it is copied, with a spinner on
//! stderr when it is a terminal.

use std::io::Write;

use anyhow::{bail, Context as _};
use clap::{Args, Subcommand};
use skein_actors::metastore::copy::TableCopy;
use skein_actors::metastore::{redact, Metastore};

use super::{block_on, Context};
use crate::client::progress;
use crate::metastore_url::{postgres_url, POSTGRES_SECRET};
use crate::{run_lock, storage};

/// `skein metastore ...`
#[derive(Debug, Subcommand)]
#[command(
    after_help = "Examples:\n  skein metastore to-postgresql --connection-string=\"postgres://skein:pw@db.example.local/skein\""
)]
pub enum MetastoreCommand {
    /// Copy the embedded metastore into PostgreSQL and use PostgreSQL from now on
    #[command(
        name = "to-postgresql",
        after_help = "Examples:\n  skein metastore to-postgresql --connection-string=\"postgres://skein:pw@db.example.local/skein\"\n  skein metastore to-postgresql --connection-string=\"Host=db;Database=skein;Username=skein;Password=pw\" --force\n\nStop the node first. The connection string is stored encrypted (needs storage.secretKey);\nthe embedded metastore is kept. Running the command again changes nothing.\nWhile a node runs on this storage root the command is refused, naming its process."
    )]
    ToPostgresql(ToPostgresqlArgs),
    /// Seq's move to SQL Server: refused with a pointer to `to-postgresql`
    #[command(
        name = "to-mssql",
        hide = true,
        disable_help_flag = true,
        after_help = "Examples:\n  skein metastore to-postgresql --connection-string=\"postgres://skein:pw@db.example.local/skein\""
    )]
    ToMssql {
        /// Whatever was given (ignored).
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, hide = true)]
        args: Vec<String>,
    },
}

/// `metastore to-postgresql` arguments.
#[derive(Debug, Args)]
pub struct ToPostgresqlArgs {
    /// The PostgreSQL connection string (postgres://... or Host=...;Database=...;Username=...;Password=...)
    #[arg(long, value_name = "CONNECTION STRING")]
    pub connection_string: String,
    /// Copy even into a database that holds other or different metadata (its rows are overwritten or kept, never deleted)
    #[arg(long)]
    pub force: bool,
}

/// Executes a `metastore` command.
pub fn execute(ctx: &Context, cmd: MetastoreCommand, out: &mut dyn Write) -> anyhow::Result<()> {
    match cmd {
        MetastoreCommand::ToPostgresql(args) => to_postgresql(ctx, &args, out),
        MetastoreCommand::ToMssql { .. } => bail!(
            "Skein's shared metastore is PostgreSQL, not SQL Server: use `skein metastore to-postgresql --connection-string=\"postgres://user:password@host/database\"`"
        ),
    }
}

/// One table's copy, as the command shows it.
fn table_line(t: &TableCopy) -> String {
    format!(
        "  {:<19} {} copied, {} updated, {} unchanged{}",
        t.table,
        t.inserted,
        t.updated,
        t.unchanged,
        if t.target_only > 0 {
            format!(", {} only in the target (kept)", t.target_only)
        } else {
            String::new()
        }
    )
}

fn to_postgresql(
    ctx: &Context,
    args: &ToPostgresqlArgs,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let target_url = postgres_url(&args.connection_string)?;
    if ctx.runtime()?.secret_key.is_none() {
        bail!("storage.secretKey is not set: the connection string is stored encrypted with it (see `skein show-key --generate` and `skein config set -k storage.secretKey`)");
    }
    let secrets = ctx.secrets()?;
    secrets
        .verify_key()
        .context("the configured storage.secretKey cannot open the stored secrets")?;
    ctx.root.ensure()?;
    // A running node would go on writing the embedded metastore after the
    // copy: refuse, naming it; and hold its claim on the storage root, so
    // that no node starts on it until the copy is done.
    let _claim = run_lock::claim(ctx.root.path())
        .context("the metastore cannot be moved while the node runs on it")?;
    storage::create_private_dir(&ctx.root.metastore_dir())?;
    storage::touch_private_file(&ctx.root.metastore_db())?;
    let source_url = Metastore::sqlite_url(&ctx.root.metastore_db());
    writeln!(
        out,
        "Copying {} to {}",
        ctx.root.metastore_db().display(),
        redact(&target_url)
    )?;
    block_on(async {
        let source = Metastore::open(&source_url).await?;
        let target = Metastore::open(&target_url).await?;
        // Each table is reported as soon as it is written (plain lines on
        // stdout, printed while the copy goes on); on a terminal a spinner on
        // stderr shows the rows copied so far.
        let bar = progress::bar(None, "{spinner} {msg} ({elapsed})");
        bar.set_message("copying the metastore's tables");
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
        let copy = async {
            let shown = bar.clone();
            let mut rows = 0;
            let result = source
                .copy_into(&target, args.force, &mut |t| {
                    rows += t.inserted + t.updated;
                    shown.set_message(format!("{}: {rows} rows copied so far", t.table));
                    let _ = tx.send(table_line(t));
                })
                .await;
            drop(tx);
            result
        };
        let print = async {
            while let Some(line) = rx.recv().await {
                bar.suspend(|| writeln!(out, "{line}").and_then(|()| out.flush()))?;
            }
            std::io::Result::Ok(())
        };
        let (result, printed) = futures_util::future::join(copy, print).await;
        bar.finish_and_clear();
        let _ = target.close().await;
        let _ = source.close().await;
        printed?;
        let tables = result?;
        let changed: usize = tables.iter().map(|t| t.inserted + t.updated).sum();
        if changed == 0 {
            writeln!(
                out,
                "The target already holds this metastore's data; nothing changed."
            )?;
        }
        anyhow::Ok(())
    })??;
    if secrets.get(POSTGRES_SECRET)?.as_deref() == Some(args.connection_string.as_str()) {
        writeln!(
            out,
            "Secret {POSTGRES_SECRET} already holds this connection string."
        )?;
    } else {
        secrets.set(POSTGRES_SECRET, &args.connection_string)?;
        writeln!(
            out,
            "Stored the connection string as secret {POSTGRES_SECRET} (encrypted)."
        )?;
    }
    writeln!(
        out,
        "The embedded metastore {} is kept but no longer used.",
        ctx.root.metastore_db().display()
    )?;
    writeln!(
        out,
        "Restart the node (`skein run`) for the change to take effect."
    )?;
    Ok(())
}
