//! `skein-migrations`: the metastore schema, one migration per file.
//!
//! The same migrations build the embedded SQLite metastore and a shared
//! PostgreSQL one. They are applied in order by [`Migrator`] (the actors
//! crate runs them on every open; applied migrations are recorded in
//! `seaql_migrations`, and every table is created `IF NOT EXISTS`, so
//! running them again changes nothing). Never edit a released migration:
//! add a new file.
//!
//! - [`m20251125_000001_create_api_keys`] creates `api_keys`
//! - [`m20251125_000002_create_settings`] creates `settings`
//! - [`m20251125_000003_create_signals`] creates `signals`
//! - [`m20251125_000004_create_users`] creates `users`
//! - [`m20251125_000005_create_cluster_leadership`] creates `cluster_leadership`
//! - [`m20251125_000006_create_cluster_nodes`] creates `cluster_nodes`
//! - [`m20251126_000007_create_sessions`] adds a role and a failed-login
//!   throttle to `users` and creates `sessions`
//! - [`m20251126_000008_api_key_applied_properties`] adds
//!   `api_keys.applied_properties`
//! - [`m20251126_000009_leadership_previous_lease`] adds
//!   `cluster_leadership.previous_lease_expires_at`
//! - [`m20251126_000010_cluster_node_refusals`] adds the refusal counters
//!   to `cluster_nodes`
//! - [`m20251127_000011_cluster_node_catch_up`] adds a follower's snapshot
//!   catch-up progress to `cluster_nodes`
//! - [`m20261207_000012_cluster_election`] adds what automatic election
//!   reads: the leader's acknowledging replicas, each node's store term,
//!   whether it stands, and when it sampled its position

pub use sea_orm_migration::prelude::*;

pub mod m20251125_000001_create_api_keys;
pub mod m20251125_000002_create_settings;
pub mod m20251125_000003_create_signals;
pub mod m20251125_000004_create_users;
pub mod m20251125_000005_create_cluster_leadership;
pub mod m20251125_000006_create_cluster_nodes;
pub mod m20251126_000007_create_sessions;
pub mod m20251126_000008_api_key_applied_properties;
pub mod m20251126_000009_leadership_previous_lease;
pub mod m20251126_000010_cluster_node_refusals;
pub mod m20251127_000011_cluster_node_catch_up;
pub mod m20261207_000012_cluster_election;

/// Applies Skein's metastore migrations in order.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20251125_000001_create_api_keys::Migration),
            Box::new(m20251125_000002_create_settings::Migration),
            Box::new(m20251125_000003_create_signals::Migration),
            Box::new(m20251125_000004_create_users::Migration),
            Box::new(m20251125_000005_create_cluster_leadership::Migration),
            Box::new(m20251125_000006_create_cluster_nodes::Migration),
            Box::new(m20251126_000007_create_sessions::Migration),
            Box::new(m20251126_000008_api_key_applied_properties::Migration),
            Box::new(m20251126_000009_leadership_previous_lease::Migration),
            Box::new(m20251126_000010_cluster_node_refusals::Migration),
            Box::new(m20251127_000011_cluster_node_catch_up::Migration),
            Box::new(m20261207_000012_cluster_election::Migration),
        ]
    }
}
