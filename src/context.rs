//! What the node and every command start from: the storage root and the
//! environment, and what they give — the layered settings, the validated
//! runtime configuration and the secret store.

use std::collections::HashMap;

use anyhow::Context as _;

use crate::secrets::SecretStore;
use crate::settings::{RuntimeConfig, Settings};
use crate::storage::StorageRoot;

/// What every command needs: the storage root and the environment.
pub struct Context<'a> {
    /// The node's storage root.
    pub root: StorageRoot,
    /// The environment (`SKEIN_*` overrides), injected for tests.
    pub env: &'a HashMap<String, String>,
}

impl Context<'_> {
    /// The layered settings.
    pub fn settings(&self) -> anyhow::Result<Settings> {
        Settings::load(&self.root, self.env).context("cannot load configuration")
    }

    /// The validated runtime configuration.
    pub fn runtime(&self) -> anyhow::Result<RuntimeConfig> {
        Ok(RuntimeConfig::from_settings(&self.settings()?)?)
    }

    /// The secret store opened with the configured key (if any).
    pub fn secrets(&self) -> anyhow::Result<SecretStore> {
        Ok(SecretStore::new(&self.root, self.runtime()?.secret_key))
    }
}

/// The process environment as UTF-8 pairs (others are skipped, not fatal).
pub fn process_env() -> HashMap<String, String> {
    std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .collect()
}
