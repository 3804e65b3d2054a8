//! [`ClusterCoordinator`]: keeps this node's role in step with the shared
//! metastore's leadership row.
//!
//! Every [`ClusterTiming::heartbeat`] it upserts this node's row, reads the
//! leadership row and, as leader, renews its lease. A leader that reads a
//! newer term, fails to renew, or cannot renew for [`ClusterTiming::lease`]
//! sends `RoleChanged { Follower, .. }` to the NodeSupervisor at once
//! (fencing: the StoreWriter stops accepting writes). A follower that the
//! leadership row names in a newer term (a graceful hand-over to it) renews
//! the lease and becomes leader — but when that term was taken while the
//! previous leader's lease still ran, only once the database's clock has
//! passed that lease (until then it renews its own and reports that it is
//! waiting), so two nodes never both accept writes. [`DemoteLeader`] hands
//! leadership over.
//!
//! A leader's own lease deadline counts from an [`Instant`] taken before
//! the renewing statement is sent, so it always falls before the lease's
//! expiry in the database; it fences itself at least a heartbeat before it.
//!
//! The coordinator keeps the node's [`LeaderGate`] current: closed at once
//! when the node stops leading; opened only after the NodeSupervisor has
//! passed a promotion on (so the StoreWriter accepts before any request is
//! admitted); told which term another node leads in. While requests are
//! held at the gate it heartbeats four times as often, to be promoted sooner.

use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use skein_store::{Generation, Store};

use crate::messages::{ComponentHealth, ReplicationReported, ReportHealth, Role, RoleChanged};
use crate::metastore::cluster::NodeRow;
use crate::metastore::{Metastore, MetastoreError};

use super::gate::LeaderGate;

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
    /// The defaults, overridden (for tests) by `SKEIN_CLUSTER_HEARTBEAT_MS`,
    /// `SKEIN_CLUSTER_LEASE_MS` and `SKEIN_CLUSTER_NODE_STALE_MS` as
    /// `lookup` finds them; unparsable or
    /// zero values are ignored.
    pub fn from_env(lookup: impl Fn(&str) -> Option<String>) -> ClusterTiming {
        let ms = |key: &str, default: Duration| {
            lookup(key)
                .and_then(|v| v.trim().parse::<u64>().ok())
                .filter(|&v| v > 0)
                .map_or(default, Duration::from_millis)
        };
        let d = ClusterTiming::default();
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
    /// The gate the HTTP layer routes leader work through.
    pub gate: LeaderGate,
    /// This node's replication state: a demotion sees the follower's
    /// acknowledged generation there at once (else in its heartbeat row).
    pub replication: Option<crate::replication::ReplicationState>,
}

/// How a node starts, as [`ClusterCoordinator::decide`] read the leadership
/// row.
#[derive(Clone, Copy, Debug)]
pub struct Start {
    /// The role to start in.
    pub role: Role,
    /// The term to start in.
    pub term: u64,
    /// Free to lead once the leadership row is seen to name this node (and
    /// any lease of the previous leader has run out).
    pub may_resume: bool,
    /// Taken before the lease was last renewed: a leader's local lease
    /// deadline counts from here.
    pub renewed_at: Instant,
}

/// Ask for this node's row as it would be heartbeated now.
#[derive(Debug, Message)]
#[rtype(result = "NodeRow")]
pub struct GetNodeRow;

/// The coordinator actor.
pub struct ClusterCoordinator {
    ms: Metastore,
    store: Arc<Store>,
    config: CoordinatorConfig,
    supervisor: Recipient<RoleChanged>,
    health: Option<Recipient<ReportHealth>>,
    role: Role,
    term: u64,
    /// When the last successful renewal (or promotion) was sent.
    renewed_at: Instant,
    /// When the metastore last answered a whole round.
    contact_at: Instant,
    /// Named leader, waiting this long (as of the last round) for the
    /// previous leader's lease to run out.
    waiting: Option<Duration>,
    /// Fenced only for want of the metastore: leads again if still named.
    may_resume: bool,
    in_flight: bool,
    demoting: bool,
    replication: ReplicationReported,
}

/// What one heartbeat round learnt.
enum Outcome {
    Renewed,
    Lost(u64),
    Promoted(u64),
    /// Named leader in this term, but the previous leader's lease runs for
    /// this long yet.
    Waiting(u64, Duration),
    Follows(u64),
}

impl ClusterCoordinator {
    /// How to start: leader when the leadership row names `me`, the lease
    /// can be renewed and no previous leader's lease still runs (while one
    /// does, follower free to lead once it has run out), or when
    /// `configured` is leader and nobody has ever led (then leadership is
    /// taken); otherwise follower.
    pub async fn initial_role(
        ms: &Metastore,
        me: &str,
        configured: Role,
        timing: &ClusterTiming,
    ) -> Result<Start, MetastoreError> {
        let renewed_at = Instant::now();
        let start = |role, term, may_resume| Start {
            role,
            term,
            may_resume,
            renewed_at,
        };
        let now = ms.current_leadership().await?;
        if now.leader_node.as_deref() == Some(me) {
            if ms.renew_lease(me, now.term, timing.lease).await? {
                if !now.previous_lease_remaining.is_zero() {
                    return Ok(start(Role::Follower, now.term, true));
                }
                return Ok(start(Role::Leader, now.term, false));
            }
        } else if configured == Role::Leader && now.leader_node.is_none() {
            if let Some(term) = ms.take_leadership(me, now.term, timing.lease).await? {
                return Ok(start(Role::Leader, term, false));
            }
        }
        Ok(start(Role::Follower, now.term, false))
    }

    /// [`ClusterCoordinator::initial_role`], or — when the metastore cannot
    /// be read — follower in `store_term`, free to lead once the leadership
    /// row is seen to name this node.
    pub async fn decide(
        ms: &Metastore,
        me: &str,
        configured: Role,
        store_term: u64,
        timing: &ClusterTiming,
    ) -> Start {
        match Self::initial_role(ms, me, configured, timing).await {
            Ok(start) => start,
            Err(e) => {
                log::warn!("cluster: cannot read the leadership row ({e}); following for now");
                Start {
                    role: Role::Follower,
                    term: store_term,
                    may_resume: true,
                    renewed_at: Instant::now(),
                }
            }
        }
    }

    /// Starts the coordinator for a node already running as `start` says
    /// (as decided by [`ClusterCoordinator::decide`]).
    pub fn start(
        ms: Metastore,
        store: Arc<Store>,
        config: CoordinatorConfig,
        supervisor: Recipient<RoleChanged>,
        health: Option<Recipient<ReportHealth>>,
        start: Start,
    ) -> Addr<ClusterCoordinator> {
        let Start {
            role,
            term,
            may_resume,
            renewed_at,
        } = start;
        ClusterCoordinator {
            ms,
            store,
            config,
            supervisor,
            health,
            role,
            term,
            renewed_at,
            contact_at: Instant::now(),
            waiting: None,
            may_resume,
            in_flight: false,
            demoting: false,
            replication: ReplicationReported::default(),
        }
        .start()
    }

    /// Records a role change here (without telling anyone).
    fn record(&mut self, role: Role, term: u64) -> RoleChanged {
        if (role, term) != (self.role, self.term) {
            log::info!("cluster: {} in term {term}", role.name());
        }
        self.role = role;
        self.term = term;
        RoleChanged { role, term }
    }

    /// Changes the node's role: a node that stops accepting writes closes
    /// its gate at once; one that starts opens it once the NodeSupervisor
    /// has handled the change (which it passes on to the StoreWriter before
    /// any request admitted afterwards can reach it).
    fn change(&mut self, role: Role, term: u64, ctx: &mut Context<Self>) {
        let msg = self.record(role, term);
        if !role.accepts_writes() {
            self.config.gate.set(role, term);
            self.supervisor.do_send(msg);
            return;
        }
        let delivered = self.supervisor.send(msg);
        ctx.spawn(
            fut::wrap_future(delivered).map(move |res, act: &mut Self, _| {
                if res.is_err() {
                    log::error!("cluster: the node supervisor did not take the role change");
                }
                if (act.role, act.term) == (role, term) {
                    act.config.gate.set(role, term);
                }
                if !act.demoting {
                    act.config.gate.end_drain();
                }
            }),
        );
    }

    fn row(&self) -> NodeRow {
        let g = self.store.generation();
        // The replication state describes this node's follower session: a
        // leader's is left over from before its promotion.
        let state = match (&self.replication.state, self.role) {
            _ if self.demoting => "handing leadership over".to_string(),
            (_, Role::Follower) if self.waiting.is_some() => waiting_state(self.waiting),
            (_, Role::Leader) => format!("leading in term {}", self.term),
            (Some(s), _) => s.clone(),
            (None, _) if self.may_resume => "not accepting writes: lease not renewed".into(),
            (None, _) => format!("following in term {}", self.term),
        };
        NodeRow {
            name: self.config.me.clone(),
            role: self.role.name().to_lowercase(),
            term: self.term,
            generation_model: g.model,
            generation_write: g.write,
            last_sync_at: self.replication.last_sync_at,
            seen_at: None,
            cluster_uri: self.config.cluster_uri.clone(),
            internal_api_uri: self.config.internal_api_uri.clone(),
            state,
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
        }
    }

    /// Fences a leader whose lease may run out within a heartbeat (checked
    /// every quarter heartbeat, so at least three quarters of one before
    /// the lease runs out in the database: time for requests admitted
    /// before the fence to finish).
    fn check_lease(&mut self, ctx: &mut Context<Self>) {
        let timing = self.config.timing;
        if self.role == Role::Leader && self.renewed_at.elapsed() + timing.heartbeat >= timing.lease
        {
            log::error!(
                "cluster: the leadership lease was not renewed within {:?}; refusing writes",
                timing.lease
            );
            self.may_resume = true;
            self.change(Role::Follower, self.term, ctx);
        }
    }

    fn tick(&mut self, ctx: &mut Context<Self>) {
        self.check_lease(ctx);
        self.report_health();
        if self.in_flight {
            return;
        }
        self.in_flight = true;
        let (ms, row, me) = (self.ms.clone(), self.row(), self.config.me.clone());
        let (role, term, lease) = (self.role, self.term, self.config.timing.lease);
        let promote = !self.demoting && (self.may_resume || role == Role::Follower);
        let resume = self.may_resume;
        let started = Instant::now();
        let work = async move {
            let round = round(&ms, &me, &row, (role, term), lease, (promote, resume));
            match tokio::time::timeout(lease, round).await {
                Ok(r) => r.map_err(|e| e.to_string()),
                Err(_) => Err(format!("no answer within {lease:?}")),
            }
        };
        ctx.spawn(fut::wrap_future(work).map(move |res, act: &mut Self, ctx| {
            act.in_flight = false;
            act.apply(res, started, (role, term), ctx);
        }));
    }

    fn apply(
        &mut self,
        res: Result<(Outcome, Option<u64>), String>,
        started: Instant,
        was: (Role, u64),
        ctx: &mut Context<Self>,
    ) {
        let (outcome, elsewhere) = match res {
            Ok(o) => o,
            Err(e) => {
                log::warn!("cluster: cannot reach the shared metastore: {e}");
                return;
            }
        };
        self.contact_at = Instant::now();
        self.waiting = None;
        if let Some(term) = elsewhere {
            self.config.gate.leader_elsewhere(term);
        }
        if (self.role, self.term) != was {
            return;
        }
        match outcome {
            Outcome::Renewed => self.renewed_at = started,
            Outcome::Lost(term) => {
                log::warn!("cluster: leadership lost (term {term}); refusing writes");
                self.may_resume = false;
                self.change(Role::Follower, term, ctx);
            }
            Outcome::Waiting(term, left) => {
                if self.waiting.is_none() {
                    log::warn!(
                        "cluster: named leader in term {term}; {}",
                        waiting_state(Some(left))
                    );
                }
                self.waiting = Some(left);
                // Look again as soon as it has run out.
                ctx.run_later(left + Duration::from_millis(10), Self::tick);
            }
            Outcome::Promoted(term) => {
                self.renewed_at = started;
                self.may_resume = false;
                self.change(Role::Leader, term, ctx);
            }
            Outcome::Follows(term) if term > self.term => {
                self.may_resume = false;
                self.change(Role::Follower, term, ctx);
            }
            Outcome::Follows(_) => {}
        }
    }

    /// Samples the leader's generation for the up-to-date judgement (see
    /// [`crate::replication::freshness`]).
    fn sample_freshness(&self) {
        let Some(state) = &self.config.replication else {
            return;
        };
        match self.role {
            Role::Leader => state.note_leader_generation(Some(self.store.generation())),
            Role::Follower => state.note_leader_generation(None),
            Role::Standalone => {}
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
            (true, format!("{} in term {}", self.role.name(), self.term))
        };
        health.do_send(ReportHealth(ComponentHealth {
            component: "cluster",
            healthy,
            detail,
        }));
    }
}

/// The state a node waiting `left` for the previous leader's lease reports.
fn waiting_state(left: Option<Duration>) -> String {
    let secs = left.unwrap_or_default().as_secs_f64().ceil();
    format!("waiting {secs:.0} s for the previous leader's lease to run out")
}

/// Heartbeat, read the leadership row, renew or take over as the row says;
/// also the term in which the row names another node, if it does.
async fn round(
    ms: &Metastore,
    me: &str,
    row: &NodeRow,
    was: (Role, u64),
    lease: Duration,
    flags: (bool, bool),
) -> Result<(Outcome, Option<u64>), MetastoreError> {
    ms.heartbeat(row).await?;
    let now = ms.current_leadership().await?;
    let elsewhere = now
        .leader_node
        .as_deref()
        .is_some_and(|n| n != me)
        .then_some(now.term);
    let outcome = decide_round(ms, me, &now, was, lease, flags).await?;
    Ok((outcome, elsewhere))
}

/// What the leadership row `now` means for this node (renewing its lease
/// or taking a handed-over leadership on the way).
async fn decide_round(
    ms: &Metastore,
    me: &str,
    now: &crate::metastore::cluster::Leadership,
    (role, term): (Role, u64),
    lease: Duration,
    (promote, resume): (bool, bool),
) -> Result<Outcome, MetastoreError> {
    let named = now.leader_node.as_deref() == Some(me);
    if role == Role::Leader {
        if !named || now.term != term {
            return Ok(Outcome::Lost(now.term.max(term)));
        }
        if ms.renew_lease(me, term, lease).await? {
            return Ok(Outcome::Renewed);
        }
        let again = ms.current_leadership().await?;
        return Ok(Outcome::Lost(again.term.max(term)));
    }
    let handed_over = now.term > term || (resume && now.term == term);
    if named && promote && handed_over && ms.renew_lease(me, now.term, lease).await? {
        if !now.previous_lease_remaining.is_zero() {
            return Ok(Outcome::Waiting(now.term, now.previous_lease_remaining));
        }
        return Ok(Outcome::Promoted(now.term));
    }
    Ok(Outcome::Follows(now.term))
}

impl Actor for ClusterCoordinator {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        self.tick(ctx);
        let heartbeat = self.config.timing.heartbeat;
        ctx.run_interval(heartbeat, Self::tick);
        let fast = (heartbeat / 4).max(Duration::from_millis(20));
        ctx.run_interval(fast, |act, ctx| {
            act.check_lease(ctx);
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
