//! `skein auth reset`: recovers a locked-out administrator from the node's
//! shell, offline against its metastore. The user (default `admin`) gets
//! the password read from standard input and the Administrator role (it is
//! created when missing); any failed-login lock is cleared and the user's
//! sessions end.

use std::io::Write;

use clap::{Args, Subcommand};
use skein_actors::metastore::users::hash_password;
use skein_actors::metastore::{MetastoreError, Role};

use super::user::{read_password, with_metastore};
use super::Context;

/// `skein auth ...`
#[derive(Debug, Subcommand)]
#[command(after_help = "Examples:\n  echo \"$NEW_PASSWORD\" | skein auth reset --password-stdin")]
pub enum AuthCommand {
    /// Give an administrator a new password and unlock them (creates the user if missing)
    #[command(
        after_help = "Examples:\n  echo \"$NEW_PASSWORD\" | skein auth reset --password-stdin\n  skein auth reset --username ops --password-stdin < password.txt"
    )]
    Reset(ResetArgs),
}

/// `auth reset` arguments.
#[derive(Debug, Args)]
pub struct ResetArgs {
    /// The administrator's login name
    #[arg(long, default_value = "admin")]
    pub username: String,
    /// Read the new password from standard input (required)
    #[arg(long, required = true)]
    pub password_stdin: bool,
}

/// Executes an `auth` command.
pub fn execute(ctx: &Context, cmd: AuthCommand, out: &mut dyn Write) -> anyhow::Result<()> {
    let AuthCommand::Reset(args) = cmd;
    let hash = hash_password(&read_password()?)?;
    with_metastore(ctx, |metastore| async move {
        let role = Some(Role::Administrator);
        match metastore.set_password(&args.username, &hash, role).await {
            Ok(u) => writeln!(
                out,
                "Reset {}: new password, Administrator role, unlocked; their sessions ended",
                u.username
            )?,
            Err(MetastoreError::NotFound { .. }) => {
                let u = metastore
                    .create_user(&args.username, &hash, Role::Administrator)
                    .await?;
                writeln!(out, "Created administrator {} ({})", u.username, u.id)?;
            }
            Err(e) => return Err(e.into()),
        }
        Ok(())
    })
}
