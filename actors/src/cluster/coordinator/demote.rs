//! Graceful demotion of the leader ([`DemoteLeader`]): enter
//! [`NodeState::Draining`] — the [`LeaderGate`](crate::cluster::LeaderGate)
//! holds new requests — and let those already admitted finish; from then on
//! nothing reaches the StoreWriter, so the generation is final. Wait for the
//! chosen follower to reach it, and hand leadership to it in the next term;
//! the node then follows (the StoreWriter fenced by the published term) and
//! the held requests go to the new leader. Until the hand-over the node
//! keeps its lease and its ReplicationSender keeps serving the follower
//! that must catch up. When requests do not finish within [`DRAIN_LIMIT`],
//! or the follower does not catch up in time (and the demotion is not
//! forced), the node leads on and serves them. Every state it passes
//! through comes from [`decide::demotion_begins`] and
//! [`decide::demotion_ends`].

use std::time::{Duration, Instant};

use actix::prelude::*;
use skein_store::Generation;

use super::{ClusterCoordinator, ClusterError};
use crate::cluster::decide::{self, HandOver};
use crate::cluster::state::{Lease, NodeState};
use crate::messages::{DemoteLeader, DemoteReport};

/// How long a demotion waits for requests already admitted to finish
/// before it fences the StoreWriter anyway.
pub const DRAIN_LIMIT: Duration = Duration::from_secs(5);
use crate::metastore::cluster::LeaseGrant;
use crate::metastore::{Metastore, MetastoreError};
use crate::replication::ReplicationState;

/// Waits until node `to` has acknowledged at least `target` in its
/// replication session with this node, or reports it in its heartbeat row;
/// `false` on timeout.
async fn caught_up(
    (ms, acked): (&Metastore, Option<&ReplicationState>),
    to: &str,
    target: Generation,
    limit: Duration,
    poll: Duration,
) -> Result<bool, MetastoreError> {
    let deadline = Instant::now() + limit;
    loop {
        let session = acked.is_some_and(|state| {
            let followers = state.followers(target);
            followers
                .iter()
                .any(|f| f.node == to && f.generation >= target)
        });
        if session {
            return Ok(true);
        }
        let at = ms.nodes().await?.into_iter().find(|n| n.name == to);
        if at.is_some_and(|n| {
            (n.generation_model, n.generation_write) >= (target.model, target.write)
        }) {
            return Ok(true);
        }
        if Instant::now() >= deadline {
            return Ok(false);
        }
        tokio::time::sleep(poll).await;
    }
}

/// A demotion's result, with how the hand-over ended when it failed.
type Demoted = Result<DemoteReport, (ClusterError, HandOver)>;

impl Handler<DemoteLeader> for ClusterCoordinator {
    type Result = ResponseActFuture<Self, Result<DemoteReport, ClusterError>>;

    fn handle(&mut self, msg: DemoteLeader, _: &mut Context<Self>) -> Self::Result {
        let draining = match decide::demotion_begins(&self.state) {
            Ok(state) => state,
            Err(e) => return Box::pin(fut::ready(Err(e))),
        };
        let term = draining.term();
        self.enter(draining);
        let gate = self.config.gate.clone();
        let drain = async move { gate.drained(DRAIN_LIMIT).await };
        let (ms, me, store) = (self.ms.clone(), self.config.me.clone(), self.store.clone());
        let acked = self.config.replication.clone();
        let (grant, poll) = (self.config.grant(), self.config.timing.heartbeat / 4);
        let start = move |drained: bool, act: &mut Self, _: &mut Context<Self>| {
            let leads = matches!(act.state, NodeState::Draining { term: t, lease: Lease::Held { .. } } if t == term);
            let running = act.config.gate.in_flight();
            let lead_on = HandOver::Kept { renewed: None };
            fut::wrap_future(async move {
                if !leads {
                    return Err((ClusterError::NotLeader, lead_on));
                }
                if !drained {
                    return Err((ClusterError::Draining { running }, lead_on));
                }
                hand_over((ms, acked), me, store, msg, term, (grant, poll)).await
            })
        };
        Box::pin(
            fut::wrap_future(drain)
                .then(start)
                .map(move |res: Demoted, act: &mut Self, _| {
                    let ended = match &res {
                        Ok(report) => {
                            act.publisher.leader_elsewhere(report.term);
                            HandOver::Done { term: report.term }
                        }
                        Err((_, ended)) => *ended,
                    };
                    act.enter(decide::demotion_ends(&act.state, ended));
                    res.map_err(|(e, _)| e)
                }),
        )
    }
}

/// A demotion's steps so far, each also sent live when asked for.
struct Steps {
    all: Vec<String>,
    live: Option<tokio::sync::mpsc::UnboundedSender<String>>,
}

impl Steps {
    fn push(&mut self, step: String) {
        if let Some(live) = &self.live {
            // The caller may have gone; the demotion goes on regardless.
            let _ = live.send(step.clone());
        }
        self.all.push(step);
    }
}

/// Waits for `msg.to` to reach this (drained) node's generation, then hands
/// leadership over in the metastore.
async fn hand_over(
    (ms, acked): (Metastore, Option<ReplicationState>),
    me: String,
    store: std::sync::Arc<skein_store::Store>,
    msg: DemoteLeader,
    term: u64,
    (grant, poll): (LeaseGrant, Duration),
) -> Demoted {
    let target = store.generation();
    let mut steps = Steps {
        all: Vec::new(),
        live: msg.progress,
    };
    steps.push(format!(
        "stopped accepting writes at generation {target} (new requests are held; those running finished)"
    ));
    let to = msg.to;
    let ready = caught_up((&ms, acked.as_ref()), &to, target, msg.catch_up, poll)
        .await
        .map_err(|e| (e.into(), HandOver::Fence))?;
    if ready {
        steps.push(format!("{to} reached generation {target}"));
    } else if msg.force {
        steps.push(format!(
            "{to} had not reached {target}; handing over (forced)"
        ));
    } else {
        let started = Instant::now();
        let kept = ms.renew_lease(&me, term, grant).await.unwrap_or(false);
        let outcome = if kept {
            "this node leads on"
        } else {
            "this node does not accept writes"
        };
        let error = ClusterError::NotCaughtUp {
            to,
            generation: target,
            outcome,
        };
        let ended = match kept {
            true => HandOver::Kept {
                renewed: Some(started),
            },
            false => HandOver::Fence,
        };
        return Err((error, ended));
    }
    match ms.hand_over(&me, term, &to).await {
        Ok(Some(t)) => {
            steps.push(format!("handed leadership to {to} in term {t}"));
            Ok(DemoteReport {
                steps: steps.all,
                term: t,
                new_leader: to,
            })
        }
        Ok(None) => Err((ClusterError::NotLeader, HandOver::Fence)),
        Err(e) => Err((e.into(), HandOver::Fence)),
    }
}
