//! `skein-actors`: Skein's node runtime (actors arrive with the server issue).
//!
//! - [`metastore`]: metadata shared by a cluster's nodes (API keys, settings,
//!   signals, users, cluster leadership and node rows) in SQLite or
//!   PostgreSQL, via sea-orm and `skein-migrations`.

pub mod metastore;
