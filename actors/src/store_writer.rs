//! [`StoreWriter`]: owns the node's event store. Appends run on blocking
//! threads where the store's group commit lets concurrent batches share one
//! fsync; a batch is answered only once durable, and only in a term whose
//! lease the node's published role holds ([`StoreWriter::fence`], the write
//! path's one check, made before the append and again before the answer).
//! With durable acknowledgements ([`Quorum`]) the answer also waits, without
//! holding up other batches, until enough followers hold the batch.
//! It runs periodic upkeep (seal by age, retention by
//! the server settings read since the node began accepting writes: see
//! [`crate::retention`]), announces new generations and reports the store's
//! health.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use actix::prelude::*;
use skein_store::stream::{AppendReceipt, StoreStatus};
use skein_store::{Store, StoreError};

use crate::messages::{
    AppendBatch, AppendError, ComponentHealth, GenerationAdvanced, GetStoreStatus, ReportHealth,
    RoleChanged, RoleView, SettingsRead, SettingsSnapshot, SubscribeGenerations,
};
use crate::replication::ReplicationState;
use crate::retention::{self, RetentionPlan};
use crate::settings_follower::period;

/// How often upkeep runs.
pub const MAINTENANCE_INTERVAL: Duration = Duration::from_secs(30);

/// Durable acknowledgements: a batch is answered only once `replicas`
/// followers hold it in its term (see [`crate::replication::quorum`]), or
/// fails after `timeout`.
#[derive(Clone, Debug)]
pub struct Quorum {
    /// `replication.minimumAcknowledgingReplicas` (at least 1).
    pub replicas: u32,
    /// `replication.acknowledgementTimeout`.
    pub timeout: Duration,
    /// Where the followers' acknowledgements are recorded.
    pub replication: ReplicationState,
}

/// The actor owning the event store.
pub struct StoreWriter {
    store: Arc<Store>,
    /// The node's role as its owner publishes it.
    role: RoleView,
    /// The `seq` of the last role announcement acted on.
    seen: Option<u64>,
    /// The newest server settings read ([`SettingsRead`]).
    settings: Option<SettingsSnapshot>,
    /// The retention plan upkeep last followed, without its cutoff.
    retention_followed: Option<RetentionPlan>,
    subscribers: Vec<Recipient<GenerationAdvanced>>,
    health: Option<Recipient<ReportHealth>>,
    healthy: Option<bool>,
    /// What a batch waits for before it is answered, beyond the leader's fsync.
    quorum: Option<Quorum>,
}

impl StoreWriter {
    /// A writer for `store`, writing while `role` shows it may, reporting
    /// health to `health`.
    pub fn new(
        store: Arc<Store>,
        role: RoleView,
        health: Option<Recipient<ReportHealth>>,
    ) -> StoreWriter {
        StoreWriter {
            store,
            role,
            seen: None,
            settings: None,
            retention_followed: None,
            subscribers: Vec::new(),
            health,
            healthy: None,
            quorum: None,
        }
    }

    /// Answers a batch only once `quorum` holds it (none, or a quorum of 0
    /// replicas: once it is durable here, Seq's asynchronous replication).
    pub fn acknowledging(mut self, quorum: Option<Quorum>) -> StoreWriter {
        self.quorum = quorum.filter(|q| q.replicas > 0);
        self
    }

    fn report(&mut self, healthy: bool, detail: String) {
        if self.healthy == Some(healthy) && healthy {
            return;
        }
        self.healthy = Some(healthy);
        if let Some(h) = &self.health {
            h.do_send(ReportHealth(ComponentHealth {
                component: "store",
                healthy,
                detail,
            }));
        }
    }

    fn note_outcome(&mut self, result: &Result<(), &StoreError>) {
        match result {
            Ok(()) => self.report(true, "accepting writes".into()),
            Err(e @ (StoreError::DiskFull { .. } | StoreError::Failed | StoreError::Io { .. })) => {
                log::error!("store refuses writes: {e}");
                self.report(false, e.to_string())
            }
            Err(_) => {}
        }
    }

    fn announce(&mut self, generation: skein_store::Generation) {
        self.subscribers.retain(|s| s.connected());
        for s in &self.subscribers {
            s.do_send(GenerationAdvanced { generation });
        }
    }

    /// The term in which a write may be acknowledged now: the write path's
    /// one fence (see [`crate::messages::RoleSnapshot::may_acknowledge`]).
    fn fence(&self) -> Result<u64, AppendError> {
        self.role
            .now()
            .may_acknowledge(Instant::now())
            .ok_or(AppendError::NotLeader)
    }

    /// The answer to a batch `stored` (and, with a quorum, replicated):
    /// durable here, but acknowledged only in the term it was stored in,
    /// and only while that term's lease still holds.
    fn answer(
        &self,
        stored: Result<AppendReceipt, AppendError>,
    ) -> Result<AppendReceipt, AppendError> {
        let receipt = stored?;
        match self.fence() {
            Ok(term) if term == receipt.term => Ok(receipt),
            _ => Err(AppendError::NotLeader),
        }
    }

    /// The retention plan for now.
    fn plan_now(&self) -> RetentionPlan {
        retention::plan(
            self.role.now().writing_since,
            self.settings.as_ref(),
            SystemTime::now(),
        )
    }

    /// The retention plan for now, logged when it differs from the last.
    fn retention_plan(&mut self) -> RetentionPlan {
        let plan = self.plan_now();
        if self.retention_followed != Some(plan.summary()) {
            self.retention_followed = Some(plan.summary());
            let term = self.role.now().term;
            match plan {
                RetentionPlan::NotWriting => {}
                RetentionPlan::AwaitingSettings => {
                    log::info!("retention waits for the server settings to be read in term {term}")
                }
                RetentionPlan::KeepEverything => {
                    log::info!("retention in term {term}: {}", period(None))
                }
                RetentionPlan::DeleteBefore { period: p, .. } => log::info!(
                    "retention in term {term}: events older than {} are deleted",
                    period(Some(p))
                ),
            }
        }
        plan
    }

    fn maintain(&mut self, ctx: &mut Context<Self>) {
        let store = self.store.clone();
        let plan = self.retention_plan();
        let cutoff = match plan {
            RetentionPlan::DeleteBefore { cutoff, .. } => Some(cutoff),
            _ => None,
        };
        // A follower's store changes only by replicating its leader's
        // operations (seal, retention): local upkeep would make it diverge.
        let local_upkeep = plan != RetentionPlan::NotWriting;
        let upkeep = async move {
            tokio::task::spawn_blocking(move || {
                let deleted = if local_upkeep {
                    store.maintain(cutoff)
                } else {
                    Ok(Vec::new())
                };
                (deleted, store.check_writable(), store.generation())
            })
            .await
        };
        upkeep
            .into_actor(self)
            .map(|joined, act, _| {
                let Ok((deleted, writable, generation)) = joined else {
                    return;
                };
                if let Err(e) = &deleted {
                    log::error!("store upkeep failed: {e}");
                }
                act.note_outcome(&writable.as_ref().map(|_| ()));
                act.announce(generation);
            })
            .wait(ctx);
    }
}

impl Actor for StoreWriter {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        self.maintain(ctx);
        ctx.run_interval(MAINTENANCE_INTERVAL, |act, ctx| act.maintain(ctx));
    }
}

impl Supervised for StoreWriter {
    fn restarting(&mut self, _: &mut Context<Self>) {
        // All durable state is in the store's files: rebuild from them.
        log::warn!("store writer restarting; recovering the store from its files");
        self.healthy = None;
        match self.store.reopen() {
            Ok(()) => self.report(true, "recovered; accepting writes".into()),
            Err(e) => self.report(false, format!("cannot recover the store: {e}")),
        }
    }
}

impl Handler<AppendBatch> for StoreWriter {
    type Result = ResponseActFuture<Self, Result<AppendReceipt, AppendError>>;

    fn handle(&mut self, msg: AppendBatch, _: &mut Context<Self>) -> Self::Result {
        let term = match self.fence() {
            Ok(term) => term,
            Err(e) => return Box::pin(fut::ready(Err(e))),
        };
        let store = self.store.clone();
        let append = async move {
            tokio::task::spawn_blocking(move || {
                // A promotion's first write moves the store to its term.
                store.advance_term(term);
                store.append(msg.block)
            })
            .await
        };
        let stored = append.into_actor(self).map(|joined, act, ctx| {
            let result = joined.map_err(|_| AppendError::Unavailable)?;
            act.note_outcome(&result.as_ref().map(|_| ()));
            if result.is_err() && act.store.is_failed() {
                // The store's state is uncertain: stop, and let the supervisor
                // restart this actor, which rebuilds the store from its files.
                log::error!("store failed; restarting the store writer");
                ctx.stop();
            }
            let receipt = result?;
            act.announce(receipt.generation);
            Ok(receipt)
        });
        // Without a quorum (N = 0) the answer follows the fsync at once.
        let Some(quorum) = self.quorum.clone() else {
            return Box::pin(stored.map(|stored, act, _| act.answer(stored)));
        };
        let replicated = stored.then(move |stored: Result<AppendReceipt, AppendError>, _, _| {
            fut::wrap_future(async move {
                let receipt = stored?;
                let required = quorum.replicas as usize;
                quorum
                    .replication
                    .replicated(receipt.term, receipt.generation, required, quorum.timeout)
                    .await?;
                Ok(receipt)
            })
        });
        Box::pin(replicated.map(|replicated, act, _| act.answer(replicated)))
    }
}

impl Handler<RoleChanged> for StoreWriter {
    type Result = ();

    /// Moves the store to the announced term.
    fn handle(&mut self, msg: RoleChanged, _: &mut Context<Self>) {
        if !msg.is_newer_than(&mut self.seen) {
            return;
        }
        if let Err(e) = self.store.set_term(msg.term) {
            log::error!("cannot move the store to term {}: {e}", msg.term);
        }
    }
}

impl Handler<SettingsRead> for StoreWriter {
    type Result = ();

    /// Runs upkeep at once when the settings change what retention does
    /// (a new period, or the first read since the node began writing).
    fn handle(&mut self, msg: SettingsRead, ctx: &mut Context<Self>) {
        self.settings = Some(msg.0);
        if self.retention_followed != Some(self.plan_now().summary()) {
            self.maintain(ctx);
        }
    }
}

impl Handler<SubscribeGenerations> for StoreWriter {
    type Result = ();

    fn handle(&mut self, msg: SubscribeGenerations, _: &mut Context<Self>) {
        self.subscribers.push(msg.0);
    }
}

impl Handler<GetStoreStatus> for StoreWriter {
    type Result = ResponseFuture<StoreStatus>;

    fn handle(&mut self, _: GetStoreStatus, _: &mut Context<Self>) -> Self::Result {
        // status() waits for the writer, which an fsync may hold: not on this thread.
        let store = self.store.clone();
        Box::pin(async move {
            let status = store.clone();
            tokio::task::spawn_blocking(move || status.status())
                .await
                .unwrap_or_else(|_| store.status())
        })
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use skein_store::block::encode_block;
    use skein_store::event::parse_clef;
    use skein_store::StoreOptions;

    use super::*;
    use crate::messages::{Role, RolePublisher, RoleSnapshot};
    use crate::metastore::test_support::tempdir;

    /// A fresh store in a temporary directory.
    fn store() -> Arc<Store> {
        let opts = StoreOptions {
            disk_floor_bytes: 0,
            ..StoreOptions::default()
        };
        Arc::new(Store::open(tempdir().join("stream"), opts).unwrap())
    }

    fn batch() -> AppendBatch {
        let line = br#"{"@t":"2025-01-01T00:00:00Z","@mt":"one"}"#;
        AppendBatch {
            block: encode_block(&parse_clef(line).unwrap()),
        }
    }

    #[actix::test]
    async fn a_write_is_acknowledged_only_in_a_published_term_whose_lease_holds() {
        let store = store();
        let owner = RolePublisher::new(RoleSnapshot::initial(Role::Follower, 1));
        let writer = StoreWriter::new(store.clone(), owner.view(), None).start();
        let refused = writer.send(batch()).await.unwrap();
        assert!(
            matches!(refused, Err(AppendError::NotLeader)),
            "{refused:?}"
        );

        // Promoted (no RoleChanged delivered: the published state is enough,
        // and the first write moves the store to the new term).
        let lease = Duration::from_millis(300);
        owner.publish(Role::Leader, 2, Some(Instant::now() + lease), false);
        let receipt = writer
            .send(batch())
            .await
            .unwrap()
            .expect("a leased leader writes");
        assert_eq!(receipt.term, 2);

        // The lease runs out without being renewed: refused.
        tokio::time::sleep(lease).await;
        let before = store.generation();
        let refused = writer.send(batch()).await.unwrap();
        assert!(
            matches!(refused, Err(AppendError::NotLeader)),
            "{refused:?}"
        );
        assert_eq!(store.generation(), before, "nothing was written");

        // Renewed: accepted again in the same term.
        owner.publish(Role::Leader, 2, Some(Instant::now() + lease), false);
        assert_eq!(writer.send(batch()).await.unwrap().unwrap().term, 2);
    }

    #[actix::test]
    async fn a_durable_acknowledgement_waits_for_the_followers_and_fails_without_them() {
        let store = store();
        let owner = RolePublisher::new(RoleSnapshot::initial(Role::Leader, 1));
        let replication = ReplicationState::default();
        let quorum = Quorum {
            replicas: 1,
            timeout: Duration::from_millis(300),
            replication: replication.clone(),
        };
        let writer = StoreWriter::new(store.clone(), owner.view(), None)
            .acknowledging(Some(quorum))
            .start();
        // No follower: stored, not acknowledged.
        let started = Instant::now();
        let refused = writer.send(batch()).await.unwrap();
        match refused {
            Err(AppendError::NotReplicated(n)) => {
                assert_eq!((n.held_by, n.required), (0, 1));
            }
            other => panic!("{other:?}"),
        }
        assert!(started.elapsed() >= Duration::from_millis(300));
        let stored = store.generation();
        assert!(
            stored > skein_store::Generation::ZERO,
            "the batch is stored on the leader"
        );

        // A follower of an earlier term does not count; one in the batch's
        // term that acknowledges it does — while the writer waits, other
        // batches are written (the wait holds nothing up).
        replication.follower_established(7, "old", 0, stored);
        replication.follower_established(8, "b", 1, stored);
        let pending = writer.send(batch());
        let other = writer.send(batch());
        let (pending, other) = tokio::join!(pending, async {
            tokio::time::sleep(Duration::from_millis(100)).await;
            replication.follower_acked(8, store.generation());
            other.await
        });
        let (a, b) = (pending.unwrap().unwrap(), other.unwrap().unwrap());
        assert!(a.generation <= store.generation() && b.generation <= store.generation());

        // Without a quorum (N = 0) nothing is waited for.
        let unused = ReplicationState::default();
        let plain = StoreWriter::new(store.clone(), owner.view(), None)
            .acknowledging(Some(Quorum {
                replicas: 0,
                timeout: Duration::from_millis(1),
                replication: unused.clone(),
            }))
            .start();
        assert!(plain.send(batch()).await.unwrap().is_ok());
        assert_eq!(unused.acknowledgements().waits, 0, "no wait was counted");
    }
}
