//! `skein config`: the node's local configuration in `<storage>/skein.json`.
//!
//! `set` and `clear` validate the whole resulting configuration before
//! writing, so a bad value changes nothing. Changing `storage.secretKey`
//! re-encrypts stored secrets under the new key.

use std::io::Write;

use anyhow::{bail, Context as _};
use clap::{Args, Subcommand};
use serde_json::Value;

use super::Context;
use crate::secrets::{SecretKey, SecretStore};
use crate::settings::{keys, read_config_file, RuntimeConfig, Settings, KEYS};
use crate::storage::write_private_file;

const SECRET_KEY: &str = "storage.secretKey";
const AUTH_REQUIRED: &str = "auth.required";

/// `skein config ...`
#[derive(Debug, Subcommand)]
#[command(
    after_help = "Examples:\n  skein config create\n  skein config list\n  skein config set -k api.canonicalUri -v https://logs.example.com"
)]
pub enum ConfigCommand {
    /// Create the storage root and a skein.json holding the defaults
    #[command(
        after_help = "Examples:\n  skein config create\n  skein --storage /var/lib/skein config create"
    )]
    Create,
    /// Print the effective value of a key
    #[command(
        after_help = "Examples:\n  skein config get -k api.listenUris\n  skein config get -k storage.secretKey"
    )]
    Get(KeyArg),
    /// Set a key in skein.json
    #[command(
        after_help = "Examples:\n  skein config set -k storage.secretKey -v \"$(skein show-key --generate)\"\n  skein config set -k api.listenUris -v http://0.0.0.0:5341,https://0.0.0.0:443\n  skein config set -k ingestion.maxPayloadBytes -v 20MB\n\nLists take a JSON array or comma-separated values; byte counts take KB/MB/GB or KiB/MiB/GiB."
    )]
    Set(SetArgs),
    /// List every key with its effective value and where it comes from
    #[command(
        after_help = "Examples:\n  skein config list\n  SKEIN_API_LISTENURIS=http://0.0.0.0:80 skein config list"
    )]
    List,
    /// Remove a key from skein.json, restoring its default
    #[command(after_help = "Examples:\n  skein config clear -k api.canonicalUri")]
    Clear(KeyArg),
    /// Hash a password read from standard input (for SKEIN_FIRSTRUN_ADMINPASSWORDHASH)
    #[command(
        after_help = "Examples:\n  echo \"$PASSWORD\" | skein config hash\n  SKEIN_FIRSTRUN_ADMINPASSWORDHASH=\"$(skein config hash < password.txt)\" skein run"
    )]
    Hash,
}

/// A key argument.
#[derive(Debug, Args)]
pub struct KeyArg {
    /// The dotted key, e.g. api.listenUris
    #[arg(short, long)]
    pub key: String,
}

/// `config set` arguments.
#[derive(Debug, Args)]
pub struct SetArgs {
    /// The dotted key, e.g. api.listenUris
    #[arg(short, long)]
    pub key: String,
    /// The new value
    #[arg(short, long, allow_hyphen_values = true)]
    pub value: String,
}

/// Executes a `config` command.
pub fn execute(ctx: &Context, cmd: ConfigCommand, out: &mut dyn Write) -> anyhow::Result<()> {
    match cmd {
        ConfigCommand::Create => create(ctx, out),
        ConfigCommand::Get(a) => get(ctx, &a.key, out),
        ConfigCommand::Set(a) => set(ctx, &a.key, &a.value, out),
        ConfigCommand::List => list(ctx, out),
        ConfigCommand::Clear(a) => clear(ctx, &a.key, out),
        ConfigCommand::Hash => {
            let password = super::user::read_password()?;
            let hash = skein_actors::metastore::users::hash_password(&password)?;
            writeln!(out, "{hash}")?;
            Ok(())
        }
    }
}

fn create(ctx: &Context, out: &mut dyn Write) -> anyhow::Result<()> {
    ctx.root.ensure()?;
    let path = ctx.root.config_file();
    if read_config_file(&ctx.root)?.is_some() {
        writeln!(out, "{} already exists; left unchanged", path.display())?;
        return Ok(());
    }
    let text = serde_json::to_string_pretty(&Settings::default())?;
    write_private_file(&path, format!("{text}\n").as_bytes())?;
    writeln!(out, "Created {}", path.display())?;
    Ok(())
}

fn get(ctx: &Context, key: &str, out: &mut dyn Write) -> anyhow::Result<()> {
    keys::find(key)?;
    let value = ctx.settings()?.value_of(key)?;
    match value {
        Value::Null => {}
        Value::Array(items) => {
            for item in items {
                writeln!(out, "{}", plain(&item))?;
            }
        }
        other => writeln!(out, "{}", plain(&other))?,
    }
    Ok(())
}

fn list(ctx: &Context, out: &mut dyn Write) -> anyhow::Result<()> {
    let settings = ctx.settings()?;
    let file = file_doc(ctx)?;
    for info in KEYS {
        let value = settings.value_of(info.name)?;
        let shown = match (&value, info.sensitive) {
            (Value::Null, _) if info.name == AUTH_REQUIRED => {
                let on = RuntimeConfig::from_settings(&settings)?.auth_required;
                format!(
                    "(not set: {}, as the API binds {})",
                    if on { "on" } else { "off" },
                    if on {
                        "beyond localhost"
                    } else {
                        "to localhost only"
                    }
                )
            }
            (Value::Null, _) => "(not set)".to_string(),
            (_, true) => "(set; hidden)".to_string(),
            (v, false) => plain(v),
        };
        let source = if ctx.env.contains_key(&info.env_name()) {
            format!("from {}", info.env_name())
        } else if keys::get_path(&file, info.name).is_some_and(|v| !v.is_null()) {
            "from skein.json".to_string()
        } else {
            "default".to_string()
        };
        writeln!(out, "{} = {shown}  [{source}]", info.name)?;
    }
    Ok(())
}

fn set(ctx: &Context, key: &str, raw: &str, out: &mut dyn Write) -> anyhow::Result<()> {
    let info = keys::find(key)?;
    let value = info.parse(raw)?;
    let mut doc = file_doc(ctx)?;
    keys::set_path(&mut doc, info.name, value)?;
    let text = validated(ctx, &doc)?;

    let env_overrides = ctx.env.contains_key(&info.env_name());
    let rekey = if info.name == SECRET_KEY && !env_overrides {
        prepare_rekey(ctx, raw)?
    } else {
        None
    };
    ctx.root.ensure()?;
    write_private_file(&ctx.root.config_file(), text.as_bytes())?;
    if let Some((store, new_key)) = rekey {
        let n = store
            .rekey(&new_key)
            .context("skein.json now holds the new key, but re-encrypting secrets failed")?;
        writeln!(out, "Re-encrypted {n} secret(s) with the new key.")?;
    }
    writeln!(
        out,
        "Set {} in {}",
        info.name,
        ctx.root.config_file().display()
    )?;
    notes(ctx, info, out)
}

fn clear(ctx: &Context, key: &str, out: &mut dyn Write) -> anyhow::Result<()> {
    let mut doc = file_doc(ctx)?;
    let info = match keys::find(key) {
        Ok(info) => info,
        // A key this version does not know (a typo, or from a newer version)
        // can still be removed from skein.json.
        Err(unknown) => {
            if !keys::remove_path(&mut doc, key) {
                return Err(unknown.into());
            }
            let text = validated(ctx, &doc)?;
            write_private_file(&ctx.root.config_file(), text.as_bytes())?;
            writeln!(out, "Removed unknown key {key} from skein.json")?;
            return Ok(());
        }
    };
    if !keys::remove_path(&mut doc, info.name) {
        writeln!(
            out,
            "{} is not set in skein.json; nothing changed",
            info.name
        )?;
        return Ok(());
    }
    if info.name == SECRET_KEY && !ctx.env.contains_key(&info.env_name()) {
        let stored = SecretStore::new(&ctx.root, None).names()?;
        if !stored.is_empty() {
            bail!(
                "refusing to clear storage.secretKey: {} secret(s) are encrypted with it ({}); clear them first",
                stored.len(),
                stored.join(", ")
            );
        }
    }
    let text = validated(ctx, &doc)?;
    write_private_file(&ctx.root.config_file(), text.as_bytes())?;
    writeln!(out, "Cleared {}; its default applies", info.name)?;
    notes(ctx, info, out)
}

/// Checks the secrets the current key protects before the key changes, and
/// returns the store to re-encrypt once the new key is written.
fn prepare_rekey(ctx: &Context, raw: &str) -> anyhow::Result<Option<(SecretStore, SecretKey)>> {
    let new_key = SecretKey::from_base64(raw)?;
    let current = SecretStore::new(&ctx.root, ctx.runtime()?.secret_key);
    if current.names()?.is_empty() {
        return Ok(None);
    }
    current
        .verify_key()
        .context("the current storage.secretKey cannot open the stored secrets, so they cannot be moved to the new key")?;
    Ok(Some((current, new_key)))
}

fn notes(ctx: &Context, info: &keys::KeyInfo, out: &mut dyn Write) -> anyhow::Result<()> {
    if ctx.env.contains_key(&info.env_name()) {
        writeln!(
            out,
            "Note: {} is set in the environment and overrides skein.json.",
            info.env_name()
        )?;
    }
    if info.restart_required {
        writeln!(
            out,
            "Restart the node (`skein run`) for the change to take effect."
        )?;
    }
    Ok(())
}

/// The current skein.json as JSON (an empty object when absent).
pub(super) fn file_doc(ctx: &Context) -> anyhow::Result<Value> {
    match read_config_file(&ctx.root)? {
        None => Ok(Value::Object(Default::default())),
        Some(text) => serde_json::from_str(&text)
            .with_context(|| format!("{} is not valid JSON", ctx.root.config_file().display())),
    }
}

/// Renders `doc` and checks that it, under the current environment, gives a
/// valid runtime configuration.
pub(super) fn validated(ctx: &Context, doc: &Value) -> anyhow::Result<String> {
    let text = format!("{}\n", serde_json::to_string_pretty(doc)?);
    let settings = Settings::layer(Some(&text), ctx.env)?;
    RuntimeConfig::from_settings(&settings)?;
    Ok(text)
}

fn plain(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(plain).collect::<Vec<_>>().join(","),
        other => other.to_string(),
    }
}
