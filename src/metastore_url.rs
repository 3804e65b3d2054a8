//! Which metastore a node uses.
//!
//! When the secret `metastore.postgres.connectionString` is set, the node
//! uses that PostgreSQL database (shared by a cluster's nodes); otherwise the
//! embedded SQLite file `<storage>/Metastore/metastore.db`, created mode 0600.
//! Connection strings are accepted as URLs (`postgres://user:pass@host/db`)
//! or in Npgsql's `Host=...;Database=...;Username=...;Password=...` form.

use url::Url;

use crate::secrets::{SecretStore, SecretsError};
use crate::storage::{self, StorageError, StorageRoot};

pub use crate::secrets::POSTGRES_SECRET;

/// Errors raised while locating the metastore.
#[derive(Debug, thiserror::Error)]
pub enum MetastoreUrlError {
    /// The connection string secret could not be read.
    #[error("cannot read secret {POSTGRES_SECRET}: {0}")]
    Secret(#[from] SecretsError),
    /// The connection string is not understood (its text is never echoed).
    #[error("secret {POSTGRES_SECRET} is not a PostgreSQL connection string: {0}")]
    BadConnectionString(String),
    /// The embedded metastore file could not be prepared.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// The metastore URL for the node at `root`, preparing the SQLite file when
/// that is what the node uses.
pub fn metastore_url(
    root: &StorageRoot,
    secrets: &SecretStore,
) -> Result<String, MetastoreUrlError> {
    if secrets.contains(POSTGRES_SECRET)? {
        let text = secrets.get(POSTGRES_SECRET)?.unwrap_or_default();
        return postgres_url(&text);
    }
    storage::create_private_dir(&root.metastore_dir())?;
    storage::touch_private_file(&root.metastore_db())?;
    Ok(skein_actors::metastore::Metastore::sqlite_url(
        &root.metastore_db(),
    ))
}

/// Normalises a PostgreSQL connection string into a URL.
pub fn postgres_url(text: &str) -> Result<String, MetastoreUrlError> {
    let text = text.trim();
    let bad = |d: &str| MetastoreUrlError::BadConnectionString(d.to_string());
    if text.starts_with("postgres://") || text.starts_with("postgresql://") {
        Url::parse(text).map_err(|e| bad(&e.to_string()))?;
        return Ok(text.to_string());
    }
    let mut url = Url::parse("postgres://localhost").map_err(|e| bad(&e.to_string()))?;
    let mut query: Vec<(String, String)> = Vec::new();
    for pair in text.split(';').map(str::trim).filter(|p| !p.is_empty()) {
        let (key, value) = pair
            .split_once('=')
            .ok_or_else(|| bad("expected a URL or `Key=Value;` pairs"))?;
        let value = value.trim();
        match key.trim().to_ascii_lowercase().replace(' ', "").as_str() {
            "host" | "server" => url.set_host(Some(value)).map_err(|e| bad(&e.to_string()))?,
            "port" => {
                let port = value.parse().map_err(|_| bad("Port is not a number"))?;
                url.set_port(Some(port))
                    .map_err(|_| bad("cannot set Port"))?;
            }
            "database" | "dbname" => url.set_path(value),
            "username" | "user" | "userid" => url
                .set_username(value)
                .map_err(|_| bad("cannot set Username"))?,
            "password" => url
                .set_password(Some(value))
                .map_err(|_| bad("cannot set Password"))?,
            "sslmode" => query.push(("sslmode".into(), value.to_ascii_lowercase())),
            other => return Err(bad(&format!("unsupported key `{other}`"))),
        }
    }
    if !query.is_empty() {
        url.query_pairs_mut().extend_pairs(query);
    }
    Ok(url.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_pass_through_and_npgsql_strings_convert() {
        assert_eq!(
            postgres_url("postgres://u:p@db:5432/skein").unwrap(),
            "postgres://u:p@db:5432/skein"
        );
        let err = postgres_url("Host=db;Password=s3;cr@t")
            .unwrap_err()
            .to_string();
        assert!(!err.contains("cr@t"), "{err}");
        assert_eq!(
            postgres_url(
                "Host=db.local; Port=5433; Database=skein; Username=app; Password=p@ss word"
            )
            .unwrap(),
            "postgres://app:p%40ss%20word@db.local:5433/skein"
        );
        assert!(postgres_url("nonsense").is_err());
    }

    #[test]
    fn the_embedded_metastore_is_the_default() {
        let tmp = tempfile::tempdir().unwrap();
        let root = StorageRoot::new(tmp.path());
        root.ensure().unwrap();
        let url = metastore_url(&root, &SecretStore::new(&root, None)).unwrap();
        assert!(url.starts_with("sqlite://") && url.ends_with("metastore.db?mode=rwc"));
        assert!(root.metastore_db().exists());
    }
}
