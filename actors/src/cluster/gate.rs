//! [`LeaderGate`]: where a request that needs the leader goes, asked per
//! request by every HTTP worker's ProxyForwarder ([`LeaderGate::route`]).
//! It decides by the node's published [`RoleSnapshot`] (the
//! ClusterCoordinator's state) and keeps only its own counts.
//!
//! A request is served here while this node accepts writes and is not
//! draining; it is forwarded to the peer while this node follows (once more
//! when it came from the peer and this node knows of a newer leader than
//! the peer did); otherwise it is held — during a graceful hand-over, or on
//! a node waiting to be promoted — until one of those holds, at most
//! [`HOLD_LIMIT`]. Requests served here are counted while their handlers run
//! so that a demoting leader can drain them ([`LeaderGate::drained`]) before
//! it hands over.

use std::fmt;
use std::sync::atomic::{fence, AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Notify;

use crate::messages::{Role, RoleSnapshot, RoleView};

/// How long a request may be held waiting for a node that accepts writes;
/// well below a load balancer's server timeout (60 s in `deploy/haproxy.cfg`).
pub const HOLD_LIMIT: Duration = Duration::from_secs(10);

/// How many times one request may cross between nodes: follower → leader,
/// and back once when leadership moved meanwhile. No request loops.
pub const MAX_HOPS: u8 = 2;

/// The gate; cheap to clone.
#[derive(Clone)]
pub struct LeaderGate(Arc<Inner>);

struct Inner {
    role: RoleView,
    in_flight: AtomicUsize,
    waiting: AtomicUsize,
    /// Notified when the last admitted request ends.
    idle: Notify,
}

/// Where one request goes.
#[derive(Debug)]
pub enum Route {
    /// Serve it here; keep the admission until the handler has answered.
    Serve(Admission),
    /// Forward it to the peer, saying this node is in `term`.
    Forward {
        /// This node's term, sent along so the peer can tell whether it
        /// knows of a newer leader.
        term: u64,
    },
    /// No node accepted it within the hold limit.
    Unavailable(String),
}

/// A request being served here; dropping it ends the count.
#[derive(Debug)]
pub struct Admission(LeaderGate);

impl Drop for Admission {
    fn drop(&mut self) {
        if self.0 .0.in_flight.fetch_sub(1, SeqCst) == 1 {
            self.0 .0.idle.notify_waiters();
        }
    }
}

impl fmt::Debug for LeaderGate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LeaderGate")
            .field("role", &self.0.role.now())
            .field("in_flight", &self.in_flight())
            .finish()
    }
}

/// One decision, without waiting.
enum Step {
    Forward(u64),
    Hold,
}

impl LeaderGate {
    /// A gate deciding by what `role` shows.
    pub fn new(role: RoleView) -> LeaderGate {
        LeaderGate(Arc::new(Inner {
            role,
            in_flight: AtomicUsize::new(0),
            waiting: AtomicUsize::new(0),
            idle: Notify::new(),
        }))
    }

    /// The node's published state now.
    pub fn snapshot(&self) -> RoleSnapshot {
        self.0.role.now()
    }

    /// Whether requests are being held here now (the coordinator then
    /// polls the metastore faster, to be promoted sooner).
    pub fn has_waiters(&self) -> bool {
        self.0.waiting.load(SeqCst) > 0
    }

    /// How many requests are being served here now.
    pub fn in_flight(&self) -> usize {
        self.0.in_flight.load(SeqCst)
    }

    /// Admits a request when this node accepts writes and is not draining.
    /// (Counted first, checked second, with a fence matching the one in
    /// [`LeaderGate::drained`]: a drain that then reads zero in flight
    /// cannot miss a request that was admitted.)
    pub fn admit(&self) -> Option<Admission> {
        self.0.in_flight.fetch_add(1, SeqCst);
        let admission = Admission(self.clone());
        fence(SeqCst);
        let now = self.snapshot();
        (now.role.accepts_writes() && !now.draining).then_some(admission)
    }

    fn step(&self, hops: u8, sender_term: u64) -> Result<Admission, Step> {
        if let Some(admission) = self.admit() {
            return Ok(admission);
        }
        let now = self.snapshot();
        if now.draining || now.role != Role::Follower {
            return Err(Step::Hold);
        }
        let newer_elsewhere = now.leader_elsewhere > sender_term;
        if hops == 0 || (hops < MAX_HOPS && newer_elsewhere) {
            Err(Step::Forward(now.term))
        } else {
            Err(Step::Hold)
        }
    }

    /// Where a request that crossed `hops` nodes already (sent by a node in
    /// `sender_term`) goes, holding it up to `limit` while no node here
    /// can take it.
    pub async fn route(&self, hops: u8, sender_term: u64, limit: Duration) -> Route {
        let deadline = Instant::now() + limit;
        let mut waiting = None;
        let mut changes = self.0.role.clone();
        loop {
            changes.mark_seen();
            match self.step(hops, sender_term) {
                Ok(admission) => return Route::Serve(admission),
                Err(Step::Forward(term)) => return Route::Forward { term },
                Err(Step::Hold) => {}
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Route::Unavailable(format!(
                    "no node accepted the request within {}s (leadership is changing or no node leads); retry",
                    limit.as_secs()
                ));
            }
            waiting.get_or_insert_with(|| Waiting::new(self));
            let _ = tokio::time::timeout(left, changes.changed()).await;
        }
    }

    /// Waits until no request is being served here (once the published
    /// state drains); `false` when `limit` passed first.
    pub async fn drained(&self, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        loop {
            let notified = self.0.idle.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            fence(SeqCst);
            if self.in_flight() == 0 {
                return true;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            let _ = tokio::time::timeout(left, notified).await;
        }
    }
}

/// Counts a held request while it waits.
struct Waiting(LeaderGate);

impl Waiting {
    fn new(gate: &LeaderGate) -> Waiting {
        gate.0.waiting.fetch_add(1, SeqCst);
        Waiting(gate.clone())
    }
}

impl Drop for Waiting {
    fn drop(&mut self) {
        self.0 .0.waiting.fetch_sub(1, SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::messages::RolePublisher;

    const SHORT: Duration = Duration::from_millis(100);

    fn gate_for(role: Role, term: u64) -> (RolePublisher, LeaderGate) {
        let publisher = RolePublisher::new(RoleSnapshot::initial(role, term));
        let gate = LeaderGate::new(publisher.view());
        (publisher, gate)
    }

    #[tokio::test]
    async fn a_leader_serves_and_counts() {
        let (_owner, gate) = gate_for(Role::Leader, 1);
        let Route::Serve(admission) = gate.route(0, 0, SHORT).await else {
            panic!("a leader serves");
        };
        assert_eq!(gate.in_flight(), 1);
        drop(admission);
        assert_eq!(gate.in_flight(), 0);
        let (_fixed, standalone) = gate_for(Role::Standalone, 0);
        assert!(matches!(
            standalone.route(1, 0, SHORT).await,
            Route::Serve(_)
        ));
    }

    #[tokio::test]
    async fn a_follower_forwards_once_and_back_only_to_a_newer_leader() {
        let (owner, gate) = gate_for(Role::Follower, 3);
        assert!(matches!(
            gate.route(0, 0, SHORT).await,
            Route::Forward { term: 3 }
        ));
        // From the peer (which followed in term 3): held, nobody newer known.
        assert!(matches!(
            gate.route(1, 3, SHORT).await,
            Route::Unavailable(_)
        ));
        owner.leader_elsewhere(4);
        assert!(matches!(
            gate.route(1, 3, SHORT).await,
            Route::Forward { .. }
        ));
        // Never a third crossing.
        assert!(matches!(
            gate.route(MAX_HOPS, 0, SHORT).await,
            Route::Unavailable(_)
        ));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_held_request_is_served_once_the_node_is_promoted() {
        let (owner, gate) = gate_for(Role::Follower, 1);
        let g = gate.clone();
        let held = tokio::spawn(async move {
            matches!(
                g.route(MAX_HOPS, 1, Duration::from_secs(5)).await,
                Route::Serve(_)
            )
        });
        while !gate.has_waiters() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        owner.publish(Role::Leader, 2, None, false);
        assert!(held.await.unwrap());
        assert!(!gate.has_waiters());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn draining_holds_new_requests_and_waits_for_admitted_ones() {
        let (owner, gate) = gate_for(Role::Leader, 1);
        let admitted = gate.admit().expect("a leader admits");
        owner.publish(Role::Leader, 1, None, true);
        assert!(gate.admit().is_none(), "no admission while draining");
        assert!(!gate.drained(Duration::from_millis(50)).await);
        let g = gate.clone();
        let waiter = tokio::spawn(async move { g.drained(Duration::from_secs(5)).await });
        tokio::time::sleep(Duration::from_millis(20)).await;
        drop(admitted);
        assert!(waiter.await.unwrap());
        // A request held by the drain goes to the new leader once it ends.
        let g = gate.clone();
        let held = tokio::spawn(async move { g.route(0, 1, Duration::from_secs(5)).await });
        while !gate.has_waiters() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        owner.leader_elsewhere(2);
        owner.publish(Role::Follower, 2, None, false);
        assert!(matches!(held.await.unwrap(), Route::Forward { term: 2 }));
    }
}
