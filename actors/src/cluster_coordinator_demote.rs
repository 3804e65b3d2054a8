//! Graceful demotion of the leader ([`DemoteLeader`]): stop admitting
//! requests at the [`LeaderGate`](super::LeaderGate) (new ones are held) and
//! let those already admitted finish, then fence the StoreWriter, wait for
//! the chosen follower to reach this node's generation, and hand leadership
//! to it in the next term; the held requests then go to the new leader.
//! When the follower does not catch up in time (and the demotion is not
//! forced) the node leads on and serves them itself.

use std::time::{Duration, Instant};

use actix::prelude::*;
use skein_store::Generation;

use super::{ClusterCoordinator, ClusterError};
use crate::messages::{DemoteLeader, DemoteReport, Role};

/// How long a demotion waits for requests already admitted to finish
/// before it fences the StoreWriter anyway.
pub const DRAIN_LIMIT: Duration = Duration::from_secs(5);
use crate::metastore::{Metastore, MetastoreError};

/// Waits until node `to` reports at least `target`; `false` on timeout.
async fn caught_up(
    ms: &Metastore,
    to: &str,
    target: Generation,
    limit: Duration,
    poll: Duration,
) -> Result<bool, MetastoreError> {
    let deadline = Instant::now() + limit;
    loop {
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

/// A demotion's result, with what the actor must do afterwards.
type Demoted = Result<DemoteReport, (ClusterError, Option<Instant>)>;

impl Handler<DemoteLeader> for ClusterCoordinator {
    type Result = ResponseActFuture<Self, Result<DemoteReport, ClusterError>>;

    fn handle(&mut self, msg: DemoteLeader, _: &mut Context<Self>) -> Self::Result {
        if self.demoting {
            return Box::pin(fut::ready(Err(ClusterError::Busy)));
        }
        if self.role != Role::Leader {
            return Box::pin(fut::ready(Err(ClusterError::NotLeader)));
        }
        let term = self.term;
        self.demoting = true;
        let gate = self.config.gate.clone();
        gate.begin_drain();
        let drain = async move { gate.drained(DRAIN_LIMIT).await };
        let (ms, me, store) = (self.ms.clone(), self.config.me.clone(), self.store.clone());
        let (lease, poll) = (self.config.timing.lease, self.config.timing.heartbeat / 4);
        let fence = move |drained: bool, act: &mut Self, _: &mut Context<Self>| {
            if !drained {
                log::warn!("cluster: requests still running after {DRAIN_LIMIT:?}; fencing anyway");
            }
            let delivered = ((act.role, act.term) == (Role::Leader, term)).then(|| {
                let fenced = act.record(Role::Follower, term);
                act.config.gate.set(Role::Follower, term);
                act.supervisor.send(fenced)
            });
            fut::wrap_future(async move {
                let Some(delivered) = delivered else {
                    return Err((ClusterError::NotLeader, None));
                };
                // The StoreWriter has the fence queued before the target is read.
                let _ = delivered.await;
                hand_over(ms, me, store, msg, term, (lease, poll)).await
            })
        };
        Box::pin(fut::wrap_future(drain).then(fence).map(
            move |res: Demoted, act: &mut Self, ctx| {
                act.demoting = false;
                let gate = act.config.gate.clone();
                match res {
                    Ok(report) => {
                        act.may_resume = false;
                        act.change(Role::Follower, report.term, ctx);
                        gate.leader_elsewhere(report.term);
                        gate.end_drain();
                        Ok(report)
                    }
                    Err((e, Some(renewed))) => {
                        // Held requests are served once the gate opens again
                        // (which ends the drain).
                        act.renewed_at = renewed;
                        act.change(Role::Leader, term, ctx);
                        Err(e)
                    }
                    Err((e, None)) => {
                        act.may_resume = true;
                        gate.end_drain();
                        Err(e)
                    }
                }
            },
        ))
    }
}

/// Waits for `msg.to` to reach this (fenced) node's generation, then hands
/// leadership over in the metastore.
async fn hand_over(
    ms: Metastore,
    me: String,
    store: std::sync::Arc<skein_store::Store>,
    msg: DemoteLeader,
    term: u64,
    (lease, poll): (Duration, Duration),
) -> Demoted {
    let target = store.generation();
    let mut steps = vec![format!(
        "stopped admitting requests, let those running finish and stopped accepting writes at generation {target}"
    )];
    let to = msg.to;
    let ready = caught_up(&ms, &to, target, msg.catch_up, poll)
        .await
        .map_err(|e| (e.into(), None))?;
    if ready {
        steps.push(format!("{to} reached generation {target}"));
    } else if msg.force {
        steps.push(format!(
            "{to} had not reached {target}; handing over (forced)"
        ));
    } else {
        let started = Instant::now();
        let kept = ms.renew_lease(&me, term, lease).await.unwrap_or(false);
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
        return Err((error, kept.then_some(started)));
    }
    match ms.hand_over(&me, term, &to).await {
        Ok(Some(t)) => {
            steps.push(format!("handed leadership to {to} in term {t}"));
            Ok(DemoteReport {
                steps,
                term: t,
                new_leader: to,
            })
        }
        Ok(None) => Err((ClusterError::NotLeader, None)),
        Err(e) => Err((e.into(), None)),
    }
}
