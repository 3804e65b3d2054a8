//! Helpers for end-to-end tests of the offline commands: a `Node` runs the
//! real `skein` binary on a fresh temporary storage root with a cleared
//! environment; a `TestDatabase` is a throwaway PostgreSQL database.
//!
//! ```ignore
//! #[path = "support/cli.rs"]
//! mod cli_support;
//! ```

#![allow(dead_code)]

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use skein_actors::metastore::sea_orm::{ConnectionTrait, Database};

/// A temporary storage root and the environment the binary runs with.
pub struct Node {
    dir: tempfile::TempDir,
    /// Extra environment variables (the rest is cleared).
    pub env: HashMap<String, String>,
}

impl Node {
    /// A node on a fresh temporary directory.
    pub fn new() -> Self {
        Node {
            dir: tempfile::tempdir().expect("tempdir"),
            env: HashMap::new(),
        }
    }

    /// The storage root.
    pub fn root(&self) -> PathBuf {
        self.dir.path().join("storage")
    }

    /// Runs `skein --storage <root> ARGS` with only `self.env` set.
    pub fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_skein"))
            .env_clear()
            .env("HOME", self.dir.path())
            .envs(&self.env)
            .arg("--storage")
            .arg(self.root())
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("run skein")
    }

    /// Runs and expects success; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "skein {args:?} failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8 stdout")
    }

    /// Runs and expects failure; returns stderr.
    pub fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            !out.status.success(),
            "skein {args:?} unexpectedly succeeded:\n{}",
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8(out.stderr).expect("utf-8 stderr")
    }

    /// `skein show-key --generate`.
    pub fn generate_key(&self) -> String {
        self.ok(&["show-key", "--generate"]).trim().to_string()
    }
}

/// The token line of `apikey create` output.
pub fn token_of(out: &str) -> String {
    out.lines()
        .find_map(|l| l.strip_prefix("token: "))
        .unwrap_or_else(|| panic!("no token in {out}"))
        .to_string()
}

/// A randomly named database on the machine's PostgreSQL server
/// (`SKEIN_TEST_POSTGRES_URL`, else postgres@127.0.0.1:5432), dropped on drop.
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
        let name = format!("skein_cli_{hex}");
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
