//! [`NodeSupervisor`]: starts the node's actors. A role change arrives as
//! [`RoleChanged`] from the node's [`RolePublisher`]; the supervisor drops
//! one it has passed (by `seq`), logs it and passes it to the StoreWriter.
//! In a cluster it also starts the [`ReplicationReceiver`] while the node
//! follows and stops it otherwise. It keeps no role of its own: whoever
//! needs the current one reads the published snapshot ([`NodeActors::role`]).

use std::sync::Arc;

use actix::prelude::*;
use skein_store::Store;

use crate::health_reporter::HealthReporter;
use crate::ingestor::Ingestor;
use crate::messages::{
    ReportHealth, RequireActors, Role, RoleChanged, RolePublisher, RoleSnapshot, RoleView,
    StopReceiver,
};
use crate::replication::{ClusterSetup, ReplicationReceiver};
use crate::store_writer::{Quorum, StoreWriter};

/// The supervisor of one node's actors.
pub struct NodeSupervisor {
    /// The `seq` of the last announcement acted on.
    seen: Option<u64>,
    followers_of_role: Vec<Recipient<RoleChanged>>,
    store: Arc<Store>,
    health: Recipient<ReportHealth>,
    cluster: Option<ClusterSetup>,
    receiver: Option<Addr<ReplicationReceiver>>,
    /// Where the receiver learns which node leads.
    role: RoleView,
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
    /// Starts and stops the role-dependent actors.
    pub supervisor: Addr<NodeSupervisor>,
    /// The node's role as its owner last published it.
    pub role: RoleView,
    /// The store, for readers (search runs on blocking threads against it).
    pub store: Arc<Store>,
    /// Replication's setup and shared state, when the node is clustered.
    pub cluster: Option<ClusterSetup>,
}

impl NodeActors {
    /// Starts a node's actors around `store`, in a role fixed at `role` and
    /// `term` (in an actix system).
    pub fn start(store: Arc<Store>, role: Role, term: u64) -> NodeActors {
        let mut fixed = RolePublisher::new(RoleSnapshot::initial(role, term));
        NodeActors::start_clustered(store, &mut fixed, None, None)
    }

    /// Starts a node's actors in the role `publisher` publishes (announcing
    /// its changes to the supervisor); with `cluster`, a follower
    /// replicates from its peer (the supervisor starts and stops the
    /// receiver as the role changes); with `quorum`, the leader answers a
    /// batch only once that many followers hold it
    /// ([`StoreWriter::acknowledging`]).
    pub fn start_clustered(
        store: Arc<Store>,
        publisher: &mut RolePublisher,
        cluster: Option<ClusterSetup>,
        quorum: Option<Quorum>,
    ) -> NodeActors {
        let role = publisher.view();
        let health_store = store.clone();
        let health_role = role.clone();
        let health = HealthReporter::create(|_| HealthReporter::new(health_store, health_role));
        let writer_store = store.clone();
        let writer_health = health.clone().recipient();
        let writer_role = role.clone();
        let store_writer = Supervisor::start(move |_| {
            StoreWriter::new(
                writer_store.clone(),
                writer_role.clone(),
                Some(writer_health.clone()),
            )
            .acknowledging(quorum.clone())
        });
        let writer = store_writer.clone().recipient();
        let ingestor = Supervisor::start(move |_| Ingestor::new(writer.clone()));
        let (w, i) = (store_writer.clone(), ingestor.clone());
        health.do_send(RequireActors(vec![
            ("store writer", Box::new(move || w.connected())),
            ("ingestor", Box::new(move || i.connected())),
        ]));
        let supervisor = NodeSupervisor {
            seen: None,
            followers_of_role: vec![store_writer.clone().recipient()],
            store: store.clone(),
            health: health.clone().recipient(),
            cluster: cluster.clone(),
            receiver: None,
            role: role.clone(),
        }
        .start();
        publisher.announce_to(supervisor.clone().recipient());
        NodeActors {
            ingestor,
            store_writer,
            health,
            supervisor,
            role,
            store,
            cluster,
        }
    }
}

impl NodeSupervisor {
    /// Runs the replication receiver exactly while the node follows.
    fn steer_receiver(&mut self, role: Role) {
        let following = role == Role::Follower;
        match (&self.cluster, &self.receiver) {
            (Some(setup), None) if following => {
                log::info!("starting replication (peers {:?})", setup.peer_cluster_uris);
                let (store, setup, health) =
                    (self.store.clone(), setup.clone(), self.health.clone());
                let receiver = ReplicationReceiver::new(store, setup, Some(health));
                self.receiver = Some(receiver.following(self.role.clone()).start());
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
        if !msg.is_newer_than(&mut self.seen) {
            return;
        }
        log::info!("role changed: {:?} in term {}", msg.role, msg.term);
        for r in &self.followers_of_role {
            r.do_send(msg);
        }
        self.steer_receiver(msg.role);
    }
}
