//! `skein-actors`: Skein's node runtime.
//!
//! - [`messages`]: every message that crosses actor boundaries, and the
//!   node's published role (`RolePublisher`, `RoleView`, `RoleSnapshot`).
//! - [`node_supervisor`]: [`NodeSupervisor`] starts the node's actors
//!   ([`NodeActors::start`]) and steers the replication receiver by the
//!   `RoleChanged` announcements.
//! - [`ingestor`]: [`Ingestor`] parses, filters and encodes request bodies on
//!   blocking threads and hands batches to the writer.
//! - [`store_writer`]: [`StoreWriter`] owns the event store: durable appends
//!   (group commit), upkeep, generation announcements, store health.
//! - [`retention`]: the pure decision whether and before when upkeep
//!   deletes by retention.
//! - [`settings_follower`]: [`SettingsFollower`] keeps the node on the
//!   metastore's server-wide settings, whichever node changed them.
//! - [`cluster`]: the cluster core — the node's state (one enum), the pure
//!   decisions that change it, and [`ClusterCoordinator`], its one owner,
//!   which heartbeats, renews the leader's lease, fences and hands
//!   leadership over; the `LeaderGate` routes requests by what it publishes.
//! - [`health_reporter`]: [`HealthReporter`] answers `/health`.
//! - [`metastore`]: metadata shared by a cluster's nodes (API keys, settings,
//!   signals, users, cluster leadership and node rows) in SQLite or
//!   PostgreSQL, via sea-orm and `skein-migrations`.
//! - [`replication`]: leader → follower replication over WebSocket on the
//!   cluster port (`ReplicationSender`, `ReplicationReceiver`, frames, auth).

pub mod cluster;
pub mod health_reporter;
pub mod ingestor;
pub mod messages;
pub mod metastore;
pub mod node_supervisor;
pub mod replication;
pub mod retention;
pub mod settings_follower;
pub mod store_writer;

pub use cluster::ClusterCoordinator;
pub use health_reporter::HealthReporter;
pub use ingestor::Ingestor;
pub use node_supervisor::{NodeActors, NodeSupervisor};
pub use settings_follower::{SettingsFollower, SettingsView};
pub use store_writer::StoreWriter;
