//! `skein apikey`: API keys, managed offline against the node's metastore
//! (the embedded SQLite file, or the shared PostgreSQL database when
//! `metastore.postgres.connectionString` is set).

use std::io::Write;

use anyhow::{anyhow, Context as _};
use clap::{Args, Subcommand};
use skein_actors::metastore::api_keys::parse_level;
use skein_actors::metastore::{Metastore, NewApiKey, Permissions};

use super::{block_on, Context};
use crate::metastore_url::metastore_url;

/// `skein apikey ...`
#[derive(Debug, Subcommand)]
#[command(
    after_help = "Examples:\n  skein apikey create --title \"Web app\" --ingest\n  skein apikey list\n  skein apikey remove \"Web app\""
)]
pub enum ApikeyCommand {
    /// Create an API key and print its token (shown only this once)
    #[command(
        after_help = "Examples:\n  skein apikey create --title \"Web app\"\n  skein apikey create --title Dashboards --read\n  skein apikey create --title \"Noisy service\" --ingest --minimum-level Warning\n  skein apikey create --title Shop --property App=shop --property Environment=prod\n\nWithout permission flags the key may ingest only."
    )]
    Create(CreateArgs),
    /// List API keys (never their tokens)
    #[command(after_help = "Examples:\n  skein apikey list")]
    List,
    /// Remove an API key by id or title
    #[command(
        after_help = "Examples:\n  skein apikey remove ApiKey-0123456789abcdef\n  skein apikey remove \"Web app\""
    )]
    Remove(RemoveArgs),
}

/// `apikey create` arguments.
#[derive(Debug, Args)]
pub struct CreateArgs {
    /// A title identifying the key's user
    #[arg(long)]
    pub title: String,
    /// The key may ingest events (the default when no permission is given)
    #[arg(long)]
    pub ingest: bool,
    /// The key may read events and metadata
    #[arg(long)]
    pub read: bool,
    /// The key may change signals and similar objects
    #[arg(long)]
    pub write: bool,
    /// The key may change project-wide settings
    #[arg(long)]
    pub project: bool,
    /// The key may administer the server
    #[arg(long)]
    pub system: bool,
    /// Drop events below this level when ingested with this key (Verbose, Debug, Information, Warning, Error, Fatal)
    #[arg(long, value_name = "LEVEL")]
    pub minimum_level: Option<String>,
    /// Set this property on every event ingested with the key (repeatable; VALUE is JSON, else text)
    #[arg(long = "property", value_name = "NAME=VALUE")]
    pub properties: Vec<String>,
}

/// `apikey remove` arguments.
#[derive(Debug, Args)]
pub struct RemoveArgs {
    /// The key's id (ApiKey-...) or its title
    pub id_or_title: String,
}

/// Executes an `apikey` command.
pub fn execute(ctx: &Context, cmd: ApikeyCommand, out: &mut dyn Write) -> anyhow::Result<()> {
    // Validate arguments before touching the metastore.
    let new_key = match &cmd {
        ApikeyCommand::Create(args) => Some(new_api_key(args)?),
        _ => None,
    };
    ctx.root.ensure()?;
    let url = metastore_url(&ctx.root, &ctx.secrets()?)?;
    block_on(async {
        let metastore = Metastore::open(&url).await?;
        let result = match (cmd, new_key) {
            (ApikeyCommand::Create(_), Some(new)) => {
                let created = metastore.create_api_key(new).await?;
                let i = &created.info;
                writeln!(out, "id: {}", i.id)?;
                writeln!(out, "title: {}", i.title)?;
                writeln!(out, "permissions: {}", i.permissions)?;
                writeln!(out, "minimum level: {}", level_name(i.minimum_level))?;
                writeln!(out, "token: {}", created.token)?;
                eprintln!("The token is shown only once: it is stored as a salted hash and cannot be retrieved.");
                Ok(())
            }
            (ApikeyCommand::List, _) => list(&metastore, out).await,
            (ApikeyCommand::Remove(args), _) => {
                let removed = metastore.remove_api_key(&args.id_or_title).await?;
                writeln!(out, "Removed API key {} ({})", removed.id, removed.title)?;
                Ok(())
            }
            (ApikeyCommand::Create(_), None) => Err(anyhow!("internal: missing key description")),
        };
        metastore.close().await?;
        result
    })?
}

async fn list(metastore: &Metastore, out: &mut dyn Write) -> anyhow::Result<()> {
    let keys = metastore.list_api_keys().await?;
    if keys.is_empty() {
        writeln!(out, "No API keys.")?;
        return Ok(());
    }
    writeln!(
        out,
        "{:<23} {:<11} {:<26} {:<12} TITLE",
        "ID", "TOKEN", "PERMISSIONS", "MIN LEVEL"
    )?;
    for k in keys {
        writeln!(
            out,
            "{:<23} {:<11} {:<26} {:<12} {}",
            k.id,
            format!("{}…", k.token_prefix),
            k.permissions.to_string(),
            level_name(k.minimum_level),
            k.title
        )?;
    }
    Ok(())
}

fn new_api_key(args: &CreateArgs) -> anyhow::Result<NewApiKey> {
    let mut permissions = Permissions {
        ingest: args.ingest,
        read: args.read,
        write: args.write,
        project: args.project,
        system: args.system,
    };
    if permissions == Permissions::default() {
        permissions.ingest = true;
    }
    let minimum_level = match args.minimum_level.as_deref() {
        None => None,
        Some(text) => Some(parse_level(text).with_context(|| {
            format!(
                "unknown level `{text}` (use Verbose, Debug, Information, Warning, Error or Fatal)"
            )
        })?),
    };
    if args.title.trim().is_empty() {
        anyhow::bail!("--title must not be empty");
    }
    let applied_properties = args
        .properties
        .iter()
        .map(|p| {
            let (name, value) = p
                .split_once('=')
                .with_context(|| format!("--property `{p}`: expected NAME=VALUE"))?;
            let value = serde_json::from_str(value)
                .unwrap_or_else(|_| serde_json::Value::String(value.to_owned()));
            Ok((name.trim().to_owned(), value))
        })
        .collect::<anyhow::Result<_>>()?;
    Ok(NewApiKey {
        title: args.title.clone(),
        permissions,
        minimum_level,
        applied_properties,
    })
}

fn level_name(level: Option<skein_store::Severity>) -> &'static str {
    level.map(|l| l.name()).unwrap_or("(none)")
}
