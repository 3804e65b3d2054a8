//! The metastore: metadata shared by a cluster's nodes, in SQL.
//!
//! The embedded default is SQLite at `<storage>/Metastore/metastore.db`; a
//! cluster shares one PostgreSQL database. [`Metastore::open`] connects and
//! applies `skein-migrations` (idempotent) before returning.
//!
//! - [`entities`]: sea-orm entities, one per table.
//! - [`api_keys`]: create, list, remove and verify API keys (salted SHA-256
//!   of high-entropy tokens; the token itself is never stored).
//! - [`settings`]: server-wide settings, JSON values by key.
//! - [`signals`]: saved filters (CRUD).
//! - [`users`]: accounts (argon2id password hashes, roles, failed-login locks).
//! - [`sessions`]: server-side login sessions (only token hashes stored).
//! - [`cluster`]: leadership terms (compare-and-swap, leases by the
//!   database's clock) and node heartbeat rows.
//! - [`copy`]: copying every table into another metastore (SQLite to
//!   PostgreSQL), idempotent.

pub mod api_keys;
pub mod cluster;
pub mod copy;
pub mod entities;
pub mod sessions;
pub mod settings;
pub mod signals;
pub mod users;

use std::time::Duration;

use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbBackend, DbErr};
use skein_migrations::{Migrator, MigratorTrait};

/// The sea-orm version the metastore uses, for callers' own queries.
pub use sea_orm;

pub use api_keys::{ApiKeyInfo, CreatedApiKey, NewApiKey, Permissions, VerifiedApiKey};
pub use cluster::{Leadership, NodeRow};
pub use copy::TableCopy;
pub use sessions::NewSession;
pub use settings::setting_names;
pub use signals::{NewSignal, Signal};
pub use users::{LoginOutcome, Role, UserInfo};

impl MetastoreError {
    /// Whether the metastore could not be reached (an outage a caller may
    /// retry), rather than a query that failed.
    pub fn is_unreachable(&self) -> bool {
        matches!(
            self,
            MetastoreError::Connect { .. }
                | MetastoreError::Unanswered(_)
                | MetastoreError::Db(DbErr::Conn(_) | DbErr::ConnectionAcquire(_))
        )
    }
}

/// Errors raised by the metastore.
#[derive(Debug, thiserror::Error)]
pub enum MetastoreError {
    /// Connecting failed (the URL is shown without its password).
    #[error("cannot open the metastore at {url}: {source}")]
    Connect {
        /// The redacted connection URL.
        url: String,
        /// The underlying error.
        source: DbErr,
    },
    /// Applying migrations failed.
    #[error("cannot migrate the metastore: {0}")]
    Migrate(DbErr),
    /// A query failed.
    #[error("metastore query failed: {0}")]
    Db(#[from] DbErr),
    /// Nothing matched an id or title.
    #[error("no {kind} matches `{what}`")]
    NotFound {
        /// What was looked for (`API key`, `signal`, `user`).
        kind: &'static str,
        /// The id or title given.
        what: String,
    },
    /// A title matched more than one row.
    #[error("`{0}` matches more than one API key: remove it by id")]
    Ambiguous(String),
    /// Input was rejected before reaching the database.
    #[error("{0}")]
    Invalid(String),
    /// A stored value could not be decoded.
    #[error("metastore holds a damaged value for `{key}`: {detail}")]
    Corrupt {
        /// Which row or key.
        key: String,
        /// What is wrong.
        detail: String,
    },
    /// The system random number generator failed.
    #[error("cannot get random bytes: {0}")]
    Random(String),
    /// The metastore did not answer within the time a caller allowed.
    #[error("the metastore did not answer within {} s", .0.as_secs())]
    Unanswered(Duration),
}

/// A connection pool to the metastore.
#[derive(Clone, Debug)]
pub struct Metastore {
    db: DatabaseConnection,
}

impl Metastore {
    /// Connects to `url` (`sqlite://PATH?mode=rwc`, `sqlite::memory:` or
    /// `postgres://...`), then applies pending migrations.
    pub async fn open(url: &str) -> Result<Self, MetastoreError> {
        let mut options = ConnectOptions::new(url.to_string());
        options
            .sqlx_logging(false)
            .connect_timeout(Duration::from_secs(10));
        if url.starts_with("sqlite") && url.contains("memory") {
            // Every connection to an in-memory database is a new database.
            options.max_connections(1).min_connections(1);
        }
        let db = Database::connect(options)
            .await
            .map_err(|source| MetastoreError::Connect {
                url: redact(url),
                source,
            })?;
        migrate(&db).await?;
        Ok(Metastore { db })
    }

    /// The URL of the embedded SQLite metastore file at `path`.
    pub fn sqlite_url(path: &std::path::Path) -> String {
        let mut encoded = String::new();
        for c in path.to_string_lossy().chars() {
            match c {
                '%' | '?' | '#' | ' ' => encoded.push_str(&format!("%{:02X}", c as u32)),
                c => encoded.push(c),
            }
        }
        format!("sqlite://{encoded}?mode=rwc")
    }

    /// The underlying sea-orm connection, for actors with their own queries.
    pub fn connection(&self) -> &DatabaseConnection {
        &self.db
    }

    /// Which database this is (SQLite or PostgreSQL).
    pub fn backend(&self) -> DbBackend {
        self.db.get_database_backend()
    }

    /// Whether several nodes can share this metastore (PostgreSQL, not the
    /// embedded SQLite file).
    pub fn is_shared(&self) -> bool {
        self.backend() != DbBackend::Sqlite
    }

    /// Closes every pooled connection.
    pub async fn close(self) -> Result<(), MetastoreError> {
        self.db.close().await.map_err(MetastoreError::Db)
    }
}

/// Applies migrations, retrying briefly: two nodes starting together against
/// a fresh shared database may race to create the same table.
async fn migrate(db: &DatabaseConnection) -> Result<(), MetastoreError> {
    let mut attempt = 0;
    loop {
        match Migrator::up(db, None).await {
            Ok(()) => return Ok(()),
            Err(e) if attempt < 3 => {
                attempt += 1;
                log::warn!("metastore migration failed (attempt {attempt}), retrying: {e}");
                tokio::time::sleep(Duration::from_millis(200 * attempt)).await;
            }
            Err(e) => return Err(MetastoreError::Migrate(e)),
        }
    }
}

/// `url` with any password replaced by `***`.
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        Ok(_) => url.to_string(),
        Err(_) => "(unparseable connection string)".to_string(),
    }
}

/// Fills `buf` from the operating system's random number generator.
pub(crate) fn random(buf: &mut [u8]) -> Result<(), MetastoreError> {
    getrandom::fill(buf).map_err(|e| MetastoreError::Random(e.to_string()))
}

/// `prefix` followed by 16 random hex digits.
pub(crate) fn new_id(prefix: &str) -> Result<String, MetastoreError> {
    let mut bytes = [0u8; 8];
    random(&mut bytes)?;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    Ok(format!("{prefix}-{hex}"))
}

#[cfg(test)]
pub(crate) mod test_support;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_redacted_and_paths_encoded() {
        assert_eq!(
            redact("postgres://skein:hunter2@db:5432/skein"),
            "postgres://skein:***@db:5432/skein"
        );
        assert!(!redact("postgres://u:p@h/d").contains(":p@"));
        assert_eq!(
            Metastore::sqlite_url(std::path::Path::new("/a b/m?.db")),
            "sqlite:///a%20b/m%3F.db?mode=rwc"
        );
    }

    #[tokio::test]
    async fn migrations_are_idempotent_on_sqlite() {
        let tmp = test_support::tempdir();
        let url = Metastore::sqlite_url(&tmp.join("metastore.db"));
        let first = Metastore::open(&url).await.unwrap();
        first.close().await.unwrap();
        let second = Metastore::open(&url).await.unwrap();
        assert_eq!(second.backend(), DbBackend::Sqlite);
        second.close().await.unwrap();
        std::fs::remove_dir_all(tmp).unwrap();
    }
}
