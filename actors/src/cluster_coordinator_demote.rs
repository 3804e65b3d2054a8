//! Graceful demotion of the leader ([`DemoteLeader`]): stop accepting
//! writes, wait for the chosen follower to reach this node's generation,
//! then hand leadership to it in the next term. When the follower does not
//! catch up in time (and the demotion is not forced) the node leads on.

use std::time::{Duration, Instant};

use actix::prelude::*;
use skein_store::Generation;

use super::{ClusterCoordinator, ClusterError};
use crate::messages::{DemoteLeader, DemoteReport, Role};
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
        self.change(Role::Follower, term);
        let (ms, me, store) = (self.ms.clone(), self.config.me.clone(), self.store.clone());
        let (lease, poll) = (self.config.timing.lease, self.config.timing.heartbeat / 4);
        let work = async move {
            let target = store.generation();
            let mut steps = vec![format!("stopped accepting writes at generation {target}")];
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
        };
        Box::pin(
            fut::wrap_future(work).map(move |res: Demoted, act: &mut Self, _| {
                act.demoting = false;
                match res {
                    Ok(report) => {
                        act.may_resume = false;
                        act.change(Role::Follower, report.term);
                        Ok(report)
                    }
                    Err((e, Some(renewed))) => {
                        act.renewed_at = renewed;
                        act.change(Role::Leader, term);
                        Err(e)
                    }
                    Err((e, None)) => {
                        act.may_resume = true;
                        Err(e)
                    }
                }
            }),
        )
    }
}
