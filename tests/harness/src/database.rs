//! Throwaway PostgreSQL databases on the machine's shared server
//! (`SKEIN_TEST_POSTGRES_URL`, else postgres@127.0.0.1:5432): every
//! clustered test gets a metastore of its own.

use skein_actors::metastore::sea_orm::{ConnectionTrait, Database};

/// A randomly named database on the machine's PostgreSQL server, dropped
/// (`WITH (FORCE)`) on drop.
pub struct TestDatabase {
    admin: String,
    name: String,
    /// The database's URL.
    pub url: String,
}

impl TestDatabase {
    /// Creates the database.
    pub fn create() -> Self {
        let admin = std::env::var("SKEIN_TEST_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string());
        let mut bytes = [0u8; 8];
        getrandom::fill(&mut bytes).unwrap();
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let name = format!("skein_test_{hex}");
        sql(&admin, &format!("CREATE DATABASE \"{name}\""));
        let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin);
        let url = format!("{base}/{name}");
        TestDatabase { admin, name, url }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        sql(
            &self.admin,
            &format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name),
        );
    }
}

/// Runs one SQL statement against `url`.
pub fn sql(url: &str, statement: &str) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let db = Database::connect(url)
            .await
            .unwrap_or_else(|e| panic!("PostgreSQL at {url} is needed for this test: {e}"));
        db.execute_unprepared(statement).await.unwrap();
        db.close().await.unwrap();
    });
}
