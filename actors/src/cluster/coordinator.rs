//! [`ClusterCoordinator`]: the one owner of a clustered node's
//! [`NodeState`]; it keeps that state in step with the shared metastore's
//! leadership row and publishes every state it enters through the node's
//! [`RolePublisher`].
//!
//! Every [`ClusterTiming::heartbeat`] it upserts this node's row, reads the
//! leadership row, renews its lease in the term [`decide::renewal`] names
//! and enters [`decide::next`] of what it learnt; every quarter heartbeat
//! [`decide::on_clock`] fences a leader whose lease may run out within a
//! heartbeat. A leader that reads a newer term or cannot renew follows at
//! once; a node the row names in a newer term (a hand-over to it) leads —
//! once the previous leader's lease, if it was still running when that term
//! was taken, has run out by the database's clock. [`DemoteLeader`] hands
//! leadership over (`coordinator/demote.rs`).
//!
//! A leader's lease counts from an [`Instant`] taken before the renewing
//! statement is sent, so it always ends before the lease's expiry in the
//! database. What the coordinator publishes is all the rest of the node
//! sees: the StoreWriter acknowledges a write only within the published
//! lease, the [`LeaderGate`](super::LeaderGate) admits requests only while
//! the published state leads and is not draining. While requests are held
//! at the gate it heartbeats four times as often, to be promoted sooner.

use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use skein_store::{Generation, Store};

use super::decide::{self, Renewal};
use super::election::{self, Ballot, Candidacy, Position, Waiting};
use super::gate::LeaderGate;
use super::state::NodeState;
use crate::messages::LeaderAddress;
use crate::messages::{
    ComponentHealth, GetNodeRow, ReplicationReported, ReportHealth, Role, RolePublisher,
};
use crate::metastore::cluster::{Leadership, LeaseGrant, NodeRow};
use crate::metastore::{Metastore, MetastoreError};

/// Every cluster timing, in one place.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClusterTiming {
    /// How often a node heartbeats and a leader renews its lease.
    pub heartbeat: Duration,
    /// How long a renewed lease lasts; a leader that cannot renew within it
    /// stops accepting writes.
    pub lease: Duration,
    /// A node row older than this is shown as unreachable.
    pub node_stale: Duration,
}

impl Default for ClusterTiming {
    fn default() -> Self {
        ClusterTiming {
            heartbeat: Duration::from_secs(1),
            lease: Duration::from_secs(10),
            node_stale: Duration::from_secs(5),
        }
    }
}

impl ClusterTiming {
    /// The timing of a node that stands in automatic elections: a lease of
    /// 3 s renewed every 500 ms, so that a lost leader is replaced within
    /// a few seconds (the lease is what a fail-over waits out). A leader
    /// that cannot renew for 2.5 s fences itself.
    pub const AUTO_FAILOVER: ClusterTiming = ClusterTiming {
        heartbeat: Duration::from_millis(500),
        lease: Duration::from_secs(3),
        node_stale: Duration::from_secs(2),
    };

    /// The defaults ([`ClusterTiming::AUTO_FAILOVER`] when `auto_failover`),
    /// overridden (for tests) by `SKEIN_CLUSTER_HEARTBEAT_MS`,
    /// `SKEIN_CLUSTER_LEASE_MS` and `SKEIN_CLUSTER_NODE_STALE_MS` as
    /// `lookup` finds them; unparsable or zero values are ignored.
    pub fn from_env(auto_failover: bool, lookup: impl Fn(&str) -> Option<String>) -> ClusterTiming {
        let ms = |key: &str, default: Duration| {
            lookup(key)
                .and_then(|v| v.trim().parse::<u64>().ok())
                .filter(|&v| v > 0)
                .map_or(default, Duration::from_millis)
        };
        let d = match auto_failover {
            true => ClusterTiming::AUTO_FAILOVER,
            false => ClusterTiming::default(),
        };
        ClusterTiming {
            heartbeat: ms("SKEIN_CLUSTER_HEARTBEAT_MS", d.heartbeat),
            lease: ms("SKEIN_CLUSTER_LEASE_MS", d.lease),
            node_stale: ms("SKEIN_CLUSTER_NODE_STALE_MS", d.node_stale),
        }
    }
}

/// Why a cluster operation failed.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// Only the leader can be demoted.
    #[error("this node is not the leader")]
    NotLeader,
    /// One demotion at a time.
    #[error("a demotion is already in progress")]
    Busy,
    /// Requests admitted before the demotion did not finish in time; this
    /// node leads on.
    #[error("{running} request(s) still running after the drain limit; this node leads on")]
    Draining {
        /// How many were still running.
        running: usize,
    },
    /// The follower did not catch up; this node kept (or regained) leadership.
    #[error("follower {to} did not reach generation {generation} in time; {outcome}")]
    NotCaughtUp {
        /// The follower.
        to: String,
        /// The generation it had to reach.
        generation: Generation,
        /// Whether this node still leads.
        outcome: &'static str,
    },
    /// The metastore failed.
    #[error("shared metastore: {0}")]
    Metastore(#[from] MetastoreError),
}

/// Who this node is in the cluster.
#[derive(Clone, Debug)]
pub struct CoordinatorConfig {
    /// This node's name (its row's key, the leadership row's `leader_node`).
    pub me: String,
    /// This node's intra-cluster URI.
    pub cluster_uri: Option<String>,
    /// This node's internal API URI.
    pub internal_api_uri: Option<String>,
    /// Heartbeat, lease and freshness.
    pub timing: ClusterTiming,
    /// The gate the HTTP layer routes leader work through (the coordinator
    /// asks it whether requests are held or still running).
    pub gate: LeaderGate,
    /// This node's replication state: a demotion sees the follower's
    /// acknowledged generation there at once (else in its heartbeat row).
    pub replication: Option<crate::replication::ReplicationState>,
    /// Whether this node stands in automatic elections
    /// (`cluster.autoFailover`; see [`super::election`]).
    pub auto_failover: bool,
    /// How many followers this node, leading, waits for before it
    /// acknowledges a write (`replication.minimumAcknowledgingReplicas`):
    /// written with every lease it is granted.
    pub acknowledging_replicas: u32,
}

impl CoordinatorConfig {
    /// What this node's lease grants write.
    fn grant(&self) -> LeaseGrant {
        LeaseGrant {
            lease: self.timing.lease,
            acknowledging_replicas: self.acknowledging_replicas,
        }
    }
}

/// The coordinator actor.
pub struct ClusterCoordinator {
    ms: Metastore,
    store: Arc<Store>,
    config: CoordinatorConfig,
    publisher: RolePublisher,
    health: Option<Recipient<ReportHealth>>,
    state: NodeState,
    /// When the metastore last answered a whole round.
    contact_at: Instant,
    /// A round is running (one at a time).
    round_running: bool,
    replication: ReplicationReported,
    /// Why this node last did not stand in an election (logged on change).
    waiting: Option<Waiting>,
}

impl ClusterCoordinator {
    /// The state a node opens in, by the leadership row: leading when the
    /// row names `me` and the lease can be renewed (waiting while a previous
    /// leader's lease runs), or when `configured` is leader and nobody has
    /// ever led (then leadership is taken); otherwise following.
    pub async fn open(
        ms: &Metastore,
        me: &str,
        configured: Role,
        grant: LeaseGrant,
    ) -> Result<NodeState, MetastoreError> {
        let at = Instant::now();
        let row = ms.current_leadership().await?;
        let won = match decide::opening(&row, me, configured) {
            decide::Opening::Resume { term } => {
                ms.renew_lease(me, term, grant).await?.then_some(term)
            }
            decide::Opening::Take => ms.take_leadership(me, row.term, grant).await?,
            decide::Opening::Follow => None,
        };
        Ok(decide::opened(&row, won, at))
    }

    /// [`ClusterCoordinator::open`], or — when the metastore cannot be read
    /// — fenced in `store_term`, free to lead once the leadership row is
    /// seen to name this node.
    pub async fn open_or_fence(
        ms: &Metastore,
        me: &str,
        configured: Role,
        store_term: u64,
        grant: LeaseGrant,
    ) -> NodeState {
        match Self::open(ms, me, configured, grant).await {
            Ok(state) => state,
            Err(e) => {
                log::warn!("cluster: cannot read the leadership row ({e}); following for now");
                decide::opened_blind(store_term)
            }
        }
    }

    /// Publishes `state` through `publisher` (what the rest of the node sees).
    pub fn publish(publisher: &RolePublisher, state: &NodeState, timing: &ClusterTiming) {
        let lease_until = state.lease_until(timing.lease);
        publisher.publish(state.role(), state.term(), lease_until, state.is_draining());
    }

    /// Starts the coordinator of a node that opened in `state` (as
    /// [`ClusterCoordinator::open_or_fence`] decided), publishing it.
    pub fn start(
        ms: Metastore,
        store: Arc<Store>,
        config: CoordinatorConfig,
        (publisher, health): (RolePublisher, Option<Recipient<ReportHealth>>),
        state: NodeState,
    ) -> Addr<ClusterCoordinator> {
        Self::publish(&publisher, &state, &config.timing);
        ClusterCoordinator {
            ms,
            store,
            config,
            publisher,
            health,
            state,
            contact_at: Instant::now(),
            round_running: false,
            replication: ReplicationReported::default(),
            waiting: None,
        }
        .start()
    }

    /// Enters `next` and publishes it.
    fn enter(&mut self, next: NodeState) {
        if next == self.state {
            return;
        }
        let (role, term) = (next.role(), next.term());
        if (role, term) != (self.state.role(), self.state.term()) {
            log::info!("cluster: {} in term {term}", role.name());
        }
        self.state = next;
        Self::publish(&self.publisher, &self.state, &self.config.timing);
    }

    fn row(&self) -> NodeRow {
        let (store_term, g) = self.store.newest_position();
        let replication = self.replication.state.as_deref();
        NodeRow {
            name: self.config.me.clone(),
            role: self.state.role().name().to_lowercase(),
            term: self.state.term(),
            generation_model: g.model,
            generation_write: g.write,
            last_sync_at: self.replication.last_sync_at,
            seen_at: None,
            cluster_uri: self.config.cluster_uri.clone(),
            internal_api_uri: self.config.internal_api_uri.clone(),
            state: self.state.describe(replication),
            accepted: self.replication.accepted,
            invalid_key: self.replication.invalid_key,
            established: self.replication.established,
            refusals: self
                .config
                .replication
                .as_ref()
                .map(|r| r.refusals().counts())
                .unwrap_or_default(),
            catch_up: self.config.replication.as_ref().and_then(|r| r.catch_up()),
            store_term,
            auto_failover: self.config.auto_failover,
            sampled_at: None,
        }
    }

    /// Fences a leader whose lease may run out within a heartbeat.
    fn check_lease(&mut self) {
        let next = decide::on_clock(&self.state, Instant::now(), &self.config.timing);
        if next != self.state {
            log::error!(
                "cluster: the leadership lease was not renewed within {:?}; refusing writes",
                self.config.timing.lease
            );
            self.enter(next);
        }
    }

    fn tick(&mut self, ctx: &mut Context<Self>) {
        self.check_lease();
        self.report_health();
        if self.round_running {
            return;
        }
        self.round_running = true;
        let (ms, row, store) = (self.ms.clone(), self.row(), self.store.clone());
        let (planned, lease) = (self.state, self.config.timing.lease);
        let (grant, stands) = (self.config.grant(), self.standing());
        let work = async move {
            let round = round(&ms, (row, &store), &planned, grant, stands);
            match tokio::time::timeout(lease, round).await {
                Ok(r) => r.map_err(|e| e.to_string()),
                Err(_) => Err(format!("no answer within {lease:?}")),
            }
        };
        ctx.spawn(fut::wrap_future(work).map(move |res, act: &mut Self, ctx| {
            act.round_running = false;
            act.apply(res, &planned, ctx);
        }));
    }

    /// Enters what a round planned from `planned` learnt, unless the role or
    /// term changed meanwhile.
    fn apply(&mut self, res: Result<Round, String>, planned: &NodeState, ctx: &mut Context<Self>) {
        let Round {
            row,
            renewed,
            waiting,
        } = match res {
            Ok(r) => r,
            Err(e) => {
                log::warn!("cluster: cannot reach the shared metastore: {e}");
                return;
            }
        };
        self.contact_at = Instant::now();
        self.note_waiting(waiting);
        if let Some(term) = decide::leader_elsewhere(&row, &self.config.me) {
            self.publisher.leader_elsewhere(term);
            self.publisher.leader_address(LeaderAddress {
                name: row.leader_node.clone().unwrap_or_default(),
                term,
                cluster_uri: row.leader_cluster_uri.clone(),
                internal_api_uri: row.leader_internal_api_uri.clone(),
            });
        }
        if !decide::still_applies(planned, &self.state) {
            return;
        }
        let next = decide::next(&self.state, &row, renewed, &self.config.me);
        match next {
            NodeState::AwaitingLease {
                next: term, left, ..
            } => {
                if !matches!(self.state, NodeState::AwaitingLease { .. }) {
                    let waiting = super::state::waiting_state(left);
                    log::warn!("cluster: named leader in term {term}; {waiting}");
                }
                // Look again as soon as it has run out.
                ctx.run_later(left + Duration::from_millis(10), Self::tick);
            }
            _ if self.state.role() == Role::Leader && next.role() != Role::Leader => {
                let term = next.term();
                log::warn!("cluster: leadership lost (term {term}); refusing writes");
            }
            _ => {}
        }
        self.enter(next);
    }

    /// How this node enters an election, when it stands in them.
    fn standing(&self) -> Option<Standing> {
        self.config.auto_failover.then_some(Standing {
            node_stale: self.config.timing.node_stale,
        })
    }

    /// Logs why this node does not stand, when that changed.
    fn note_waiting(&mut self, waiting: Option<Waiting>) {
        if waiting != self.waiting {
            if let Some(w) = &waiting {
                log::info!("cluster: the leader's lease ran out; not standing yet: {w}");
            }
            self.waiting = waiting;
        }
    }

    /// Samples the leader's generation for the up-to-date judgement (see
    /// [`crate::replication::freshness`]).
    fn sample_freshness(&self) {
        let Some(state) = &self.config.replication else {
            return;
        };
        match self.state.role() {
            Role::Leader => state.note_leader_generation(Some(self.store.generation())),
            _ => state.note_leader_generation(None),
        }
    }

    fn report_health(&self) {
        let Some(health) = &self.health else { return };
        let lease = self.config.timing.lease;
        let silent = self.contact_at.elapsed();
        let (healthy, detail) = if silent > lease {
            let s = silent.as_secs();
            (false, format!("cannot reach the shared metastore for {s}s"))
        } else {
            let (role, term) = (self.state.role(), self.state.term());
            (true, format!("{} in term {term}", role.name()))
        };
        health.do_send(ReportHealth(ComponentHealth {
            component: "cluster",
            healthy,
            detail,
        }));
    }
}

/// What a round learnt.
struct Round {
    /// The leadership row (read again after an election this node won).
    row: Leadership,
    /// What renewing (or taking) the lease answered, when it was tried.
    renewed: Option<Renewal>,
    /// Why this node did not stand in an election under way.
    waiting: Option<Waiting>,
}

/// How a node that stands in automatic elections enters one: a node
/// silent for longer than `node_stale` is not waited for.
struct Standing {
    node_stale: Duration,
}

/// The store's position, as an election compares it.
fn position(store: &Store) -> Position {
    let (term, generation) = store.newest_position();
    Position { term, generation }
}

/// Read the leadership row, heartbeat (with the store's position sampled
/// after that read: the row's clock is then a time by which the position
/// held everything it reports), and renew the lease in the term
/// [`decide::renewal`] names for `planned` (after a refusal, reading the
/// newest term) — or, when the lease ran out and this node stands, take
/// the next term if [`election::election_open`] finds an election and
/// [`election::candidacy`] says to stand in it.
async fn round(
    ms: &Metastore,
    (mut heartbeat, store): (NodeRow, &Store),
    planned: &NodeState,
    grant: LeaseGrant,
    standing: Option<Standing>,
) -> Result<Round, MetastoreError> {
    let now = ms.current_leadership().await?;
    let me = heartbeat.name.clone();
    let at = position(store);
    heartbeat.store_term = at.term;
    (heartbeat.generation_model, heartbeat.generation_write) =
        (at.generation.model, at.generation.write);
    heartbeat.sampled_at = Some(now.read_at);
    ms.heartbeat(&heartbeat).await?;
    if let Some(term) = decide::renewal(planned, &now, &me) {
        let sent_at = Instant::now();
        let renewal = match ms.renew_lease(&me, term, grant).await? {
            true => Renewal::Held { sent_at },
            false => Renewal::Refused {
                newest_term: ms.current_leadership().await?.term,
            },
        };
        return Ok(Round {
            row: now,
            renewed: Some(renewal),
            waiting: None,
        });
    }
    let ballot = standing.map(|standing| Ballot {
        me: &me,
        position: at,
        auto_failover: true,
        node_stale: standing.node_stale,
    });
    // The node rows are read only when there is an election to decide.
    let Some(election) = ballot.and_then(|b| election::election_open(planned, &now, b)) else {
        return Ok(Round {
            row: now,
            renewed: None,
            waiting: None,
        });
    };
    let waiting = match election::candidacy(&election, &ms.electors().await?) {
        Candidacy::Stand => {
            let sent_at = Instant::now();
            if let Some(term) = ms.take_lapsed_leadership(&me, now.term, grant).await? {
                log::warn!(
                    "cluster: the leader's lease ran out; elected leader in term {term} at {at}"
                );
                return Ok(Round {
                    row: ms.current_leadership().await?,
                    renewed: Some(Renewal::Held { sent_at }),
                    waiting: None,
                });
            }
            None
        }
        Candidacy::Wait(w) => Some(w),
    };
    Ok(Round {
        row: now,
        renewed: None,
        waiting,
    })
}

impl Actor for ClusterCoordinator {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        self.tick(ctx);
        let heartbeat = self.config.timing.heartbeat;
        ctx.run_interval(heartbeat, Self::tick);
        let fast = (heartbeat / 4).max(Duration::from_millis(20));
        ctx.run_interval(fast, |act, ctx| {
            act.check_lease();
            act.sample_freshness();
            if act.config.gate.has_waiters() {
                act.tick(ctx);
            }
        });
    }
}

impl Handler<ReplicationReported> for ClusterCoordinator {
    type Result = ();

    fn handle(&mut self, msg: ReplicationReported, _: &mut Context<Self>) {
        self.replication = msg;
    }
}

impl Handler<GetNodeRow> for ClusterCoordinator {
    type Result = MessageResult<GetNodeRow>;

    fn handle(&mut self, _: GetNodeRow, _: &mut Context<Self>) -> MessageResult<GetNodeRow> {
        MessageResult(self.row())
    }
}

mod demote;

#[cfg(test)]
mod tests;
