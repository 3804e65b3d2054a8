//! Messages that cross actor boundaries.
//!
//! Commands are imperative (`AppendBatch`, `IngestBody`), facts past tense
//! (`RoleChanged`, `GenerationAdvanced`), data named for what it carries.
//!
//! - [`ingest`]: HTTP ingestion → Ingestor.
//! - [`store`]: Ingestor → StoreWriter, and what the writer announces.
//! - [`role`]: the node's role, the snapshot its owner publishes, and its changes.
//! - [`health`]: health questions and answers.
//! - [`cluster`]: replication facts for the heartbeat; this node's row; demotion requests.
//! - [`settings`]: the server-wide settings as last read from the metastore.

pub mod cluster;
pub mod health;
pub mod ingest;
pub mod role;
pub mod settings;
pub mod store;

pub use cluster::{DemoteLeader, DemoteReport, GetNodeRow, ReplicationReported, StopReceiver};
pub use health::{
    ComponentHealth, GetHealth, HealthReport, HealthStatus, ReportHealth, RequireActors,
};
pub use ingest::{IngestBody, IngestError, IngestFormat, Ingested};
pub use role::{LeaderAddress, Role, RoleChanged, RolePublisher, RoleSnapshot, RoleView};
pub use settings::{RefreshSettings, SettingsRead, SettingsSnapshot};
pub use store::{
    AppendBatch, AppendError, GenerationAdvanced, GetStoreStatus, SubscribeGenerations,
};
