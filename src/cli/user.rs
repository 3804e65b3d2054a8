//! `skein user`: users, managed offline against the node's metastore (the
//! embedded SQLite file, or the shared PostgreSQL database). The first-run
//! administrator is the node's own business ([`crate::first_admin`]).
//!
//! Passwords are only ever read from standard input (`--password-stdin`),
//! never from the command line, where other users could see them.

use std::io::Write;

use anyhow::{bail, Context as _};
use clap::{Args, Subcommand};
use skein_actors::metastore::users::hash_password;
use skein_actors::metastore::{Metastore, Role};

use super::{block_on, Context};
use crate::metastore_url::metastore_url;

/// `skein user ...`
#[derive(Debug, Subcommand)]
#[command(
    after_help = "Examples:\n  echo \"$PASSWORD\" | skein user create --username admin --password-stdin\n  skein user list"
)]
pub enum UserCommand {
    /// Create a user; the password is read from standard input
    #[command(
        after_help = "Examples:\n  echo \"$PASSWORD\" | skein user create --username admin --password-stdin\n  skein user create --username ann --role Reader --password-stdin < password.txt"
    )]
    Create(CreateArgs),
    /// List users (never their password hashes)
    #[command(after_help = "Examples:\n  skein user list")]
    List,
    /// Remove a user and end their sessions
    #[command(after_help = "Examples:\n  skein user delete --username ann")]
    Delete(UsernameArg),
    /// Give a user a new password (read from standard input); ends their sessions
    #[command(
        after_help = "Examples:\n  echo \"$PASSWORD\" | skein user set-password --username ann --password-stdin"
    )]
    SetPassword(PasswordArgs),
}

/// `user create` arguments.
#[derive(Debug, Args)]
pub struct CreateArgs {
    /// The login name
    #[arg(long)]
    pub username: String,
    /// Read the password from standard input (required)
    #[arg(long, required = true)]
    pub password_stdin: bool,
    /// Administrator, User or Reader
    #[arg(long, default_value = "Administrator")]
    pub role: String,
}

/// A username argument.
#[derive(Debug, Args)]
pub struct UsernameArg {
    /// The login name
    #[arg(long)]
    pub username: String,
}

/// `user set-password` arguments.
#[derive(Debug, Args)]
pub struct PasswordArgs {
    /// The login name
    #[arg(long)]
    pub username: String,
    /// Read the password from standard input (required)
    #[arg(long, required = true)]
    pub password_stdin: bool,
}

/// Executes a `user` command.
pub fn execute(ctx: &Context, cmd: UserCommand, out: &mut dyn Write) -> anyhow::Result<()> {
    // Read and hash the password before touching the metastore.
    let hash = match &cmd {
        UserCommand::Create(_) | UserCommand::SetPassword(_) => {
            Some(hash_password(&read_password()?)?)
        }
        _ => None,
    };
    let role = match &cmd {
        UserCommand::Create(args) => parse_role(&args.role)?,
        _ => Role::Administrator,
    };
    with_metastore(ctx, |metastore| async move {
        match (cmd, hash) {
            (UserCommand::Create(args), Some(hash)) => {
                let u = metastore.create_user(&args.username, &hash, role).await?;
                writeln!(
                    out,
                    "Created user {} ({}), id {}",
                    u.username,
                    u.role.name(),
                    u.id
                )?;
            }
            (UserCommand::SetPassword(args), Some(hash)) => {
                let u = metastore.set_password(&args.username, &hash, None).await?;
                writeln!(
                    out,
                    "Set a new password for {}; their sessions ended",
                    u.username
                )?;
            }
            (UserCommand::Delete(args), _) => {
                let u = metastore.delete_user(&args.username).await?;
                writeln!(out, "Removed user {} ({})", u.username, u.id)?;
            }
            (UserCommand::List, _) => list(&metastore, out).await?,
            (_, None) => bail!("internal: no password hash"),
        }
        Ok(())
    })
}

async fn list(metastore: &Metastore, out: &mut dyn Write) -> anyhow::Result<()> {
    let users = metastore.list_users().await?;
    if users.is_empty() {
        writeln!(out, "No users.")?;
        return Ok(());
    }
    writeln!(
        out,
        "{:<21} {:<14} {:<21} USERNAME",
        "ID", "ROLE", "LOCKED UNTIL"
    )?;
    for u in users {
        let locked = u
            .locked_until
            .filter(|_| u.is_locked())
            .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
            .unwrap_or_else(|| "-".into());
        writeln!(
            out,
            "{:<21} {:<14} {:<21} {}",
            u.id,
            u.role.name(),
            locked,
            u.username
        )?;
    }
    Ok(())
}

/// Opens the node's metastore, runs `work` on it, then closes it.
pub(super) fn with_metastore<F, Fut>(ctx: &Context, work: F) -> anyhow::Result<()>
where
    F: FnOnce(Metastore) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    ctx.root.ensure()?;
    let url = metastore_url(&ctx.root, &ctx.secrets()?)?;
    block_on(async {
        let metastore = Metastore::open(&url).await?;
        let result = work(metastore.clone()).await;
        metastore.close().await?;
        result
    })?
}

/// Parses a role name, listing the roles when it is unknown.
pub(super) fn parse_role(name: &str) -> anyhow::Result<Role> {
    Role::parse(name)
        .with_context(|| format!("unknown role `{name}` (use Administrator, User or Reader)"))
}

/// Reads a password from standard input: its first line, without the
/// line ending.
pub(super) fn read_password() -> anyhow::Result<String> {
    let mut text = String::new();
    std::io::stdin()
        .read_line(&mut text)
        .context("cannot read the password from standard input")?;
    let password = text
        .strip_suffix('\n')
        .map(|t| t.strip_suffix('\r').unwrap_or(t))
        .unwrap_or(&text);
    if password.is_empty() {
        bail!("no password on standard input");
    }
    Ok(password.to_owned())
}
