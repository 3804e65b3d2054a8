//! Health: components report, `/health` asks.

use actix::Message;
use serde::Serialize;

/// Overall health.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum HealthStatus {
    /// Everything required is running.
    Healthy,
    /// Something required is down or refusing work.
    Unhealthy,
}

/// One component's health, reported by the component itself.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ComponentHealth {
    /// The component (`store`, `ingestor`, …).
    pub component: &'static str,
    /// Whether it can do its job.
    pub healthy: bool,
    /// What is wrong, or what it is doing.
    pub detail: String,
}

/// A component's health changed.
#[derive(Clone, Debug, Message)]
#[rtype(result = "()")]
pub struct ReportHealth(pub ComponentHealth);

/// Ask for the node's health.
#[derive(Debug, Message)]
#[rtype(result = "HealthReport")]
pub struct GetHealth;

/// The node's health as `/health` shows it.
#[derive(Clone, Debug, Serialize)]
pub struct HealthReport {
    /// `Healthy` or `Unhealthy`.
    pub status: HealthStatus,
    /// The node's role.
    pub role: super::Role,
    /// The leadership term of that role (the term it leads, or the newest
    /// it knows of; 0 for a node never clustered).
    pub term: u64,
    /// The store's generation, `model.write`.
    pub generation: String,
    /// One line on what is wrong, or "ok".
    pub description: String,
    /// Every component's latest report.
    pub components: Vec<ComponentHealth>,
}

/// Whether a required actor runs (its mailbox is open).
pub type Liveness = Box<dyn Fn() -> bool + Send>;

/// Tells the health reporter which actors must be running, by name.
#[derive(Message)]
#[rtype(result = "()")]
pub struct RequireActors(pub Vec<(&'static str, Liveness)>);
