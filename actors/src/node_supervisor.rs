//! [`NodeSupervisor`]: holds the node's role and starts the node's actors.
//! A role change arrives as [`RoleChanged`]; the supervisor records it and
//! passes it to every role-dependent actor. In a cluster it also starts the
//! [`ReplicationReceiver`] while the node follows and stops it otherwise.

use std::sync::Arc;

use actix::prelude::*;
use skein_store::Store;

use crate::health_reporter::HealthReporter;
use crate::ingestor::Ingestor;
use crate::messages::{GetRole, ReportHealth, RequireActors, Role, RoleChanged, StopReceiver};
use crate::replication::{ClusterSetup, ReplicationReceiver};
use crate::store_writer::StoreWriter;

/// The supervisor of one node's actors.
pub struct NodeSupervisor {
    role: Role,
    term: u64,
    followers_of_role: Vec<Recipient<RoleChanged>>,
    store: Arc<Store>,
    health: Recipient<ReportHealth>,
    cluster: Option<ClusterSetup>,
    receiver: Option<Addr<ReplicationReceiver>>,
}

/// Addresses of a running node's actors.
#[derive(Clone)]
pub struct NodeActors {
    /// Parses and stores request bodies.
    pub ingestor: Addr<Ingestor>,
    /// Owns the event store.
    pub store_writer: Addr<StoreWriter>,
    /// Answers `/health`.
    pub health: Addr<HealthReporter>,
    /// Holds the role.
    pub supervisor: Addr<NodeSupervisor>,
    /// The store, for readers (search runs on blocking threads against it).
    pub store: Arc<Store>,
    /// Replication's setup and shared state, when the node is clustered.
    pub cluster: Option<ClusterSetup>,
}

impl NodeActors {
    /// Starts a node's actors around `store`, in `role` (in an actix system).
    pub fn start(store: Arc<Store>, role: Role, term: u64) -> NodeActors {
        NodeActors::start_clustered(store, role, term, None)
    }

    /// Starts a node's actors; with `cluster`, a follower replicates from its
    /// peer (the supervisor starts and stops the receiver as the role changes).
    pub fn start_clustered(
        store: Arc<Store>,
        role: Role,
        term: u64,
        cluster: Option<ClusterSetup>,
    ) -> NodeActors {
        let health_store = store.clone();
        let health = HealthReporter::create(|_| HealthReporter::new(health_store, role, term));
        let writer_store = store.clone();
        let writer_health = health.clone().recipient();
        let store_writer = Supervisor::start(move |_| {
            StoreWriter::new(writer_store.clone(), role, Some(writer_health.clone()))
        });
        let writer = store_writer.clone().recipient();
        let ingestor = Supervisor::start(move |_| Ingestor::new(writer.clone()));
        let (w, i) = (store_writer.clone(), ingestor.clone());
        health.do_send(RequireActors(vec![
            ("store writer", Box::new(move || w.connected())),
            ("ingestor", Box::new(move || i.connected())),
        ]));
        let supervisor = NodeSupervisor {
            role,
            term,
            followers_of_role: vec![store_writer.clone().recipient(), health.clone().recipient()],
            store: store.clone(),
            health: health.clone().recipient(),
            cluster: cluster.clone(),
            receiver: None,
        }
        .start();
        supervisor.do_send(RoleChanged { role, term });
        NodeActors {
            ingestor,
            store_writer,
            health,
            supervisor,
            store,
            cluster,
        }
    }
}

impl NodeSupervisor {
    /// Runs the replication receiver exactly while the node follows.
    fn steer_receiver(&mut self) {
        let following = self.role == Role::Follower;
        match (&self.cluster, &self.receiver) {
            (Some(setup), None) if following => {
                log::info!("starting replication from {:?}", setup.peer_cluster_uri);
                let (store, setup, health) =
                    (self.store.clone(), setup.clone(), self.health.clone());
                self.receiver = Some(ReplicationReceiver::new(store, setup, Some(health)).start());
            }
            (_, Some(receiver)) if !following => {
                receiver.do_send(StopReceiver);
                self.receiver = None;
            }
            _ => {}
        }
    }
}

impl Actor for NodeSupervisor {
    type Context = Context<Self>;
}

impl Handler<RoleChanged> for NodeSupervisor {
    type Result = ();

    fn handle(&mut self, msg: RoleChanged, _: &mut Context<Self>) {
        if (msg.role, msg.term) != (self.role, self.term) {
            log::info!(
                "role changed: {:?} in term {} (was {:?} in term {})",
                msg.role,
                msg.term,
                self.role,
                self.term
            );
        }
        self.role = msg.role;
        self.term = msg.term;
        for r in &self.followers_of_role {
            r.do_send(msg);
        }
        self.steer_receiver();
    }
}

impl Handler<GetRole> for NodeSupervisor {
    type Result = MessageResult<GetRole>;

    fn handle(&mut self, _: GetRole, _: &mut Context<Self>) -> MessageResult<GetRole> {
        MessageResult((self.role, self.term))
    }
}
