//! [`HealthReporter`]: what `/health` answers. Components report their own
//! health; the reporter also checks that the required actors are running
//! and that no write has waited on the disk past [`WRITE_STALL_LIMIT`].

use std::collections::BTreeMap;
use std::sync::Arc;

use actix::prelude::*;
use skein_store::Store;

use crate::messages::{
    ComponentHealth, GetHealth, HealthReport, HealthStatus, ReportHealth, RequireActors, RoleView,
};

pub use crate::messages::health::Liveness;

/// How long one write may wait on the disk before the node reports itself
/// unhealthy: a commit stalled this long holds every acknowledgement back.
pub const WRITE_STALL_LIMIT: std::time::Duration = std::time::Duration::from_secs(5);

/// The health actor.
pub struct HealthReporter {
    store: Arc<Store>,
    role: RoleView,
    components: BTreeMap<&'static str, ComponentHealth>,
    required: Vec<(&'static str, Liveness)>,
}

impl HealthReporter {
    /// A reporter for a node holding `store`, in the role `role` shows.
    pub fn new(store: Arc<Store>, role: RoleView) -> HealthReporter {
        HealthReporter {
            store,
            role,
            components: BTreeMap::new(),
            required: Vec::new(),
        }
    }

    /// Requires actor `name` to be running (`alive` checks its mailbox).
    pub fn require(&mut self, name: &'static str, alive: Liveness) {
        self.required.push((name, alive));
    }

    fn report(&self) -> HealthReport {
        let role = self.role.now();
        let mut components: Vec<ComponentHealth> = self.components.values().cloned().collect();
        if let Some(waited) = self
            .store
            .write_waiting()
            .filter(|w| *w >= WRITE_STALL_LIMIT)
        {
            components.push(ComponentHealth {
                component: "disk",
                healthy: false,
                detail: format!(
                    "a write has waited {:.1} s for the disk (write and fsync)",
                    waited.as_secs_f64()
                ),
            });
        }
        for (name, alive) in &self.required {
            if !alive() {
                components.push(ComponentHealth {
                    component: name,
                    healthy: false,
                    detail: format!("the {name} is not running"),
                });
            }
        }
        let problems: Vec<String> = components
            .iter()
            .filter(|c| !c.healthy)
            .map(|c| format!("{}: {}", c.component, c.detail))
            .collect();
        HealthReport {
            status: if problems.is_empty() {
                HealthStatus::Healthy
            } else {
                HealthStatus::Unhealthy
            },
            role: role.role,
            term: role.term,
            generation: self.store.generation().to_string(),
            description: if problems.is_empty() {
                "ok".into()
            } else {
                problems.join("; ")
            },
            components,
        }
    }
}

impl Actor for HealthReporter {
    type Context = Context<Self>;
}

impl Handler<ReportHealth> for HealthReporter {
    type Result = ();

    fn handle(&mut self, msg: ReportHealth, _: &mut Context<Self>) {
        if !msg.0.healthy {
            log::warn!("{} unhealthy: {}", msg.0.component, msg.0.detail);
        } else if self
            .components
            .get(msg.0.component)
            .is_some_and(|c| !c.healthy)
        {
            log::info!("{} healthy again: {}", msg.0.component, msg.0.detail);
        }
        self.components.insert(msg.0.component, msg.0);
    }
}

impl Handler<GetHealth> for HealthReporter {
    type Result = MessageResult<GetHealth>;

    fn handle(&mut self, _: GetHealth, _: &mut Context<Self>) -> MessageResult<GetHealth> {
        MessageResult(self.report())
    }
}

impl Handler<RequireActors> for HealthReporter {
    type Result = ();

    fn handle(&mut self, msg: RequireActors, _: &mut Context<Self>) {
        for (name, alive) in msg.0 {
            self.require(name, alive);
        }
    }
}
