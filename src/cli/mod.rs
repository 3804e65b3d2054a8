//! The `skein` command line (clap derive), one file per command group.
//!
//! - [`config`]: `skein config create | get | set | list | clear | hash`
//! - [`show_key`]: `skein show-key [--generate]`
//! - [`secret`]: `skein secret set | list | clear`
//! - [`apikey`]: `skein apikey create | list | remove` (offline, on the metastore)
//! - [`user`]: `skein user create | list | delete | set-password` (offline)
//! - [`auth`]: `skein auth reset` (recover a locked-out administrator)
//! - [`node`]: `skein node setup | lead | follow | status` (cluster membership;
//!   [`node_status`] prints the status)
//! - [`metastore`]: `skein metastore to-postgresql` (move the embedded
//!   metastore into a shared PostgreSQL database)
//! - [`run`]: `skein run` (the node, in the foreground)
//! - [`service`]: `skein service start | stop | restart | status` (the node
//!   in the background)
//! - [`ingest`], [`search`], [`bench`]: client commands that talk to a
//!   server over HTTP (see [`crate::client`]); they need no storage root
//!
//! Every command takes the global `--storage DIR`. Commands write their
//! results to the `out` they are given; errors travel back to `main` as
//! `anyhow` errors with context.

pub mod apikey;
pub mod auth;
pub mod bench;
pub mod config;
pub mod ingest;
pub mod metastore;
pub mod node;
pub mod node_demote;
pub mod node_status;
pub mod run;
pub mod search;
pub mod secret;
pub mod service;
pub mod show_key;
pub mod user;

use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Parser, Subcommand};

pub use crate::context::{process_env, Context};
use crate::storage::StorageRoot;

const EXAMPLES: &str = "\
Examples:
  skein show-key --generate
  skein config create
  skein config set -k storage.secretKey -v \"<secret key>\"
  skein secret set -k metastore.postgres.connectionString -v \"postgres://...\"
  skein apikey create --title \"Web app\" --ingest
  echo \"$PASSWORD\" | skein user create --username admin --password-stdin
  skein --storage /srv/skein config list

Storage root: --storage DIR, else $SKEIN_STORAGE, else $STATE_DIRECTORY
(systemd), else /var/lib/skein when run as root, else
$XDG_DATA_HOME/skein or ~/.local/share/skein.";

/// Skein: a structured-log server that speaks Seq's API.
#[derive(Debug, Parser)]
#[command(name = "skein", version, about, after_help = EXAMPLES)]
pub struct Cli {
    /// The node's storage root (default: $SKEIN_STORAGE, else a per-user or system data directory)
    #[arg(long, global = true, value_name = "DIR")]
    pub storage: Option<PathBuf>,
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// The top-level commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the node in the foreground
    Run(run::RunArgs),
    /// Start, stop or check the node in the background
    #[command(subcommand)]
    Service(service::ServiceCommand),
    /// Create, read and change the node's local configuration (skein.json)
    #[command(subcommand)]
    Config(config::ConfigCommand),
    /// Print the storage secret key, or generate a new one
    ShowKey(show_key::ShowKeyArgs),
    /// Store, list and remove encrypted secrets
    #[command(subcommand)]
    Secret(secret::SecretCommand),
    /// Create, list and remove API keys
    #[command(subcommand)]
    Apikey(apikey::ApikeyCommand),
    /// Create, list and remove users (passwords from standard input)
    #[command(subcommand)]
    User(user::UserCommand),
    /// Recover a locked-out administrator
    #[command(subcommand)]
    Auth(auth::AuthCommand),
    /// Configure this node's place in a leader/follower cluster
    #[command(subcommand)]
    Node(node::NodeCommand),
    /// Move the metastore to a shared PostgreSQL database
    #[command(subcommand)]
    Metastore(metastore::MetastoreCommand),
    /// Post CLEF or JSON lines from a file or stdin to a server
    Ingest(ingest::IngestArgs),
    /// Print a server's events that match a filter, newest first
    Search(search::SearchArgs),
    /// Load generators that measure a server
    #[command(subcommand)]
    Bench(bench::BenchCommand),
}

/// Executes a parsed command against the storage root it names.
pub fn run(cli: Cli, env: &HashMap<String, String>, out: &mut dyn Write) -> anyhow::Result<()> {
    // Client commands talk to a server and need no storage root.
    let storage = cli.storage;
    let ctx = || -> anyhow::Result<Context> {
        let root = StorageRoot::resolve(storage.as_deref(), env)?;
        Ok(Context { root, env })
    };
    match cli.command {
        Command::Run(args) => run::execute(&ctx()?, args, out),
        Command::Service(cmd) => service::execute(&ctx()?, cmd, out),
        Command::Config(cmd) => config::execute(&ctx()?, cmd, out),
        Command::ShowKey(args) => show_key::execute(&ctx()?, args, out),
        Command::Secret(cmd) => secret::execute(&ctx()?, cmd, out),
        Command::Apikey(cmd) => apikey::execute(&ctx()?, cmd, out),
        Command::User(cmd) => user::execute(&ctx()?, cmd, out),
        Command::Auth(cmd) => auth::execute(&ctx()?, cmd, out),
        Command::Node(cmd) => node::execute(&ctx()?, cmd, out),
        Command::Metastore(cmd) => metastore::execute(&ctx()?, cmd, out),
        Command::Ingest(args) => ingest::execute(args, out),
        Command::Search(args) => search::execute(args, out),
        Command::Bench(cmd) => bench::execute(cmd, out),
    }
}

/// An error and its causes on one line, leaving out causes whose text the
/// message already shows (many errors embed their source in their text).
pub fn error_message(error: &anyhow::Error) -> String {
    let mut message = String::new();
    for cause in error.chain() {
        let text = cause.to_string();
        if !message.contains(&text) {
            if !message.is_empty() {
                message.push_str(": ");
            }
            message.push_str(&text);
        }
    }
    message
}

/// Runs `future` to completion on a small single-threaded runtime (the
/// offline commands' metastore access).
pub(crate) fn block_on<F: std::future::Future>(future: F) -> anyhow::Result<F::Output> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    Ok(runtime.block_on(future))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn error_messages_do_not_repeat_causes() {
        let inner = crate::secrets::SecretsError::MissingKey;
        let text = inner.to_string();
        let e = anyhow::Error::new(inner).context("cannot store the secret");
        assert_eq!(
            error_message(&e),
            format!("cannot store the secret: {text}")
        );
        let wrapped = crate::metastore_url::MetastoreUrlError::from(
            crate::secrets::SecretsError::WrongKey("x".into()),
        );
        let msg = error_message(&anyhow::Error::new(wrapped));
        assert_eq!(msg.matches("wrong").count(), 1, "{msg}");
    }

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn every_command_has_examples() {
        let mut cli = Cli::command();
        cli.build();
        fn check(cmd: &clap::Command, path: &str) {
            let path = format!("{path} {}", cmd.get_name());
            if cmd.get_subcommands().next().is_none() {
                let help = cmd
                    .get_after_help()
                    .map(|h| h.to_string())
                    .unwrap_or_default();
                assert!(help.contains("Examples:"), "`{path}` has no examples");
            }
            for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
                check(sub, &path);
            }
        }
        check(&cli, "");
    }
}
