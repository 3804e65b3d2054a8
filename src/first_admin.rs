//! The first-run administrator: created by a starting node from
//! `SKEIN_FIRSTRUN_ADMINUSERNAME` and `SKEIN_FIRSTRUN_ADMINPASSWORDHASH`
//! (from `skein config hash`) when the metastore has no user yet.

use std::collections::HashMap;

use anyhow::{bail, Context as _};
use skein_actors::metastore::users::check_password_hash;
use skein_actors::metastore::{Metastore, Role};

/// The first administrator's name, created on first start when no user exists.
pub const FIRSTRUN_USERNAME: &str = "SKEIN_FIRSTRUN_ADMINUSERNAME";
/// Their password hash, from `skein config hash`.
pub const FIRSTRUN_HASH: &str = "SKEIN_FIRSTRUN_ADMINPASSWORDHASH";

/// Creates the first administrator from the first-run variables when the
/// metastore has no user yet; returns their name when one was created.
pub async fn create_first_admin(
    metastore: &Metastore,
    env: &HashMap<String, String>,
) -> anyhow::Result<Option<String>> {
    let name = env
        .get(FIRSTRUN_USERNAME)
        .map(|s| s.trim())
        .filter(|s| !s.is_empty());
    let hash = env
        .get(FIRSTRUN_HASH)
        .map(|s| s.trim())
        .filter(|s| !s.is_empty());
    let (name, hash) = match (name, hash) {
        (None, None) => return Ok(None),
        (Some(n), Some(h)) => (n, h),
        _ => bail!("{FIRSTRUN_USERNAME} and {FIRSTRUN_HASH} must be set together"),
    };
    check_password_hash(hash).with_context(|| format!("{FIRSTRUN_HASH} is not usable"))?;
    if metastore.count_users().await? > 0 {
        return Ok(None);
    }
    metastore
        .create_user(name, hash, Role::Administrator)
        .await?;
    Ok(Some(name.to_owned()))
}
