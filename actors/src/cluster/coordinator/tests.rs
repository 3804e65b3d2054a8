//! ClusterCoordinator against a SQLite metastore in an actix system: losing
//! leadership, a hand-over to a follower, fencing when the metastore is
//! gone, and a graceful demotion.

use std::sync::{Arc, Mutex};

use chrono::Utc;
use skein_store::StoreOptions;

use super::*;
use crate::cluster::Route;
use crate::messages::{DemoteLeader, RoleChanged, RoleSnapshot};
use crate::metastore::test_support::tempdir;

const FAST: ClusterTiming = ClusterTiming {
    heartbeat: Duration::from_millis(50),
    lease: Duration::from_millis(600),
    node_stale: Duration::from_secs(1),
};

/// Records the role and term of every RoleChanged it receives.
struct Probe(Arc<Mutex<Vec<(Role, u64)>>>);

impl Actor for Probe {
    type Context = Context<Self>;
}

impl Handler<RoleChanged> for Probe {
    type Result = ();

    fn handle(&mut self, msg: RoleChanged, _: &mut Context<Self>) {
        self.0.lock().unwrap().push((msg.role, msg.term));
    }
}

struct Node {
    coordinator: Addr<ClusterCoordinator>,
    seen: Arc<Mutex<Vec<(Role, u64)>>>,
    gate: LeaderGate,
}

impl Node {
    /// Waits up to 3 s for `expected` to arrive.
    async fn expect(&self, expected: (Role, u64)) {
        for _ in 0..60 {
            if self.seen.lock().unwrap().contains(&expected) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "{expected:?} never arrived: {:?}",
            self.seen.lock().unwrap()
        );
    }
}

async fn metastore() -> Metastore {
    let dir = tempdir();
    Metastore::open(&Metastore::sqlite_url(&dir.join("metastore.db")))
        .await
        .unwrap()
}

async fn node(ms: &Metastore, me: &str, configured: Role) -> Node {
    let store = Arc::new(Store::open(tempdir().join("stream"), StoreOptions::default()).unwrap());
    let state = ClusterCoordinator::open(ms, me, configured, FAST.lease.into())
        .await
        .unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let mut publisher = RolePublisher::new(RoleSnapshot::initial(Role::Follower, 0));
    ClusterCoordinator::publish(&publisher, &state, &FAST);
    publisher.announce_to(Probe(seen.clone()).start().recipient());
    let gate = LeaderGate::new(publisher.view());
    let config = CoordinatorConfig {
        me: me.into(),
        cluster_uri: Some(format!("ws://{me}:5344")),
        internal_api_uri: None,
        timing: FAST,
        gate: gate.clone(),
        replication: None,
        auto_failover: false,
        acknowledging_replicas: 0,
    };
    let coordinator =
        ClusterCoordinator::start(ms.clone(), store, config, (publisher, None), state);
    Node {
        coordinator,
        seen,
        gate,
    }
}

#[actix::test]
async fn the_initial_role_follows_the_leadership_row() {
    let ms = metastore().await;
    let ms = &ms;
    let r = |me, role| async move {
        ClusterCoordinator::open(ms, me, role, FAST.lease.into())
            .await
            .unwrap()
    };
    assert_eq!(
        r("a", Role::Follower).await,
        NodeState::Following { term: 0 }
    );
    assert!(matches!(
        r("a", Role::Leader).await,
        NodeState::Leading { term: 1, .. }
    ));
    assert!(matches!(
        r("a", Role::Follower).await,
        NodeState::Leading { term: 1, .. }
    ));
    assert_eq!(r("b", Role::Leader).await, NodeState::Following { term: 1 });
    // Named while a's lease still runs: b starts waiting it out.
    assert_eq!(
        ms.take_leadership("b", 1, FAST.lease).await.unwrap(),
        Some(2)
    );
    assert!(matches!(
        r("b", Role::Follower).await,
        NodeState::AwaitingLease {
            term: 2,
            next: 2,
            ..
        }
    ));
    // A leader that cannot reach the metastore at start is fenced in its
    // store's term.
    ms.clone().close().await.unwrap();
    assert_eq!(
        ClusterCoordinator::open_or_fence(ms, "a", Role::Leader, 7, FAST.lease.into()).await,
        NodeState::Fenced { term: 7 }
    );
}

#[actix::test]
async fn a_node_that_takes_leadership_from_a_live_lease_waits_it_out() {
    let ms = metastore().await;
    let _a = node(&ms, "a", Role::Leader).await;
    let b = node(&ms, "b", Role::Follower).await;
    tokio::time::sleep(Duration::from_millis(150)).await;
    let before = ms.current_leadership().await.unwrap().lease_expires_at;
    // `node lead` on b while a's lease runs.
    assert_eq!(
        ms.take_leadership("b", 1, FAST.lease).await.unwrap(),
        Some(2)
    );
    let row = ms.current_leadership().await.unwrap();
    assert!(!row.previous_lease_remaining.is_zero());
    // a's lease, perhaps renewed once more since it was read.
    let a_lease = row.previous_lease_expires_at.unwrap();
    assert!(a_lease >= before.unwrap());
    tokio::time::sleep(Duration::from_millis(150)).await;
    let waiting = b.coordinator.send(GetNodeRow).await.unwrap();
    assert!(
        waiting.state.starts_with("waiting ")
            && waiting
                .state
                .ends_with(" s for the previous leader's lease to run out"),
        "{}",
        waiting.state
    );
    // SQLite's clock is this machine's: b leads only once a's lease is over.
    let promoted = |b: &Node| b.seen.lock().unwrap().iter().any(|m| m.0 == Role::Leader);
    let deadline = Instant::now() + Duration::from_secs(3);
    while !promoted(&b) {
        assert!(
            Utc::now() < a_lease + chrono::Duration::seconds(2),
            "b never led"
        );
        assert!(Instant::now() < deadline, "b never led");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let at = Utc::now();
    assert!(
        at >= a_lease,
        "b led at {at}, before a's lease ran out at {a_lease}"
    );
    b.expect((Role::Leader, 2)).await;
}

#[actix::test]
async fn a_leader_that_reads_a_newer_term_stops_accepting_writes() {
    let ms = metastore().await;
    let a = node(&ms, "a", Role::Leader).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!a.seen.lock().unwrap().iter().any(|m| m.0 == Role::Follower));
    let rows = ms.nodes().await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!((rows[0].role.as_str(), rows[0].term), ("leader", 1));
    assert_eq!(
        ms.take_leadership("b", 1, FAST.lease).await.unwrap(),
        Some(2)
    );
    a.expect((Role::Follower, 2)).await;
    let row = a.coordinator.send(GetNodeRow).await.unwrap();
    assert_eq!((row.role.as_str(), row.term), ("follower", 2));
}

#[actix::test]
async fn a_follower_handed_leadership_leads_in_the_new_term() {
    let ms = metastore().await;
    let _a = node(&ms, "a", Role::Leader).await;
    let b = node(&ms, "b", Role::Follower).await;
    assert_eq!(ms.hand_over("a", 1, "b").await.unwrap(), Some(2));
    b.expect((Role::Leader, 2)).await;
    assert!(ms.current_leadership().await.unwrap().lease_valid);
}

#[actix::test]
async fn a_leader_that_cannot_reach_the_metastore_stops_within_its_lease() {
    let ms = metastore().await;
    let a = node(&ms, "a", Role::Leader).await;
    tokio::time::sleep(Duration::from_millis(150)).await;
    let cut = Instant::now();
    ms.clone().close().await.unwrap();
    a.expect((Role::Follower, 1)).await;
    assert!(
        cut.elapsed() <= FAST.lease,
        "fenced after {:?}",
        cut.elapsed()
    );
}

#[actix::test]
async fn demotion_hands_leadership_to_a_caught_up_follower() {
    let ms = metastore().await;
    let a = node(&ms, "a", Role::Leader).await;
    let b = node(&ms, "b", Role::Follower).await;
    tokio::time::sleep(Duration::from_millis(150)).await;
    let (live, mut steps) = tokio::sync::mpsc::unbounded_channel();
    let demote = DemoteLeader {
        to: "b".into(),
        catch_up: Duration::from_secs(2),
        force: false,
        progress: Some(live),
    };
    let report = a.coordinator.send(demote).await.unwrap().unwrap();
    assert_eq!((report.term, report.new_leader.as_str()), (2, "b"));
    assert_eq!(report.steps.len(), 3, "{:?}", report.steps);
    let mut sent = Vec::new();
    while let Some(step) = steps.recv().await {
        sent.push(step);
    }
    assert_eq!(sent, report.steps, "every step is sent live, in order");
    a.expect((Role::Follower, 2)).await;
    b.expect((Role::Leader, 2)).await;
    let again = DemoteLeader {
        to: "b".into(),
        catch_up: Duration::ZERO,
        force: true,
        progress: None,
    };
    let refused = a.coordinator.send(again).await.unwrap();
    assert!(matches!(refused, Err(ClusterError::NotLeader)));
}

#[actix::test]
async fn demotion_drains_admitted_requests_before_fencing_and_the_gates_follow() {
    let ms = metastore().await;
    let a = node(&ms, "a", Role::Leader).await;
    let b = node(&ms, "b", Role::Follower).await;
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(b.gate.snapshot().role, Role::Follower);
    let running = a.gate.admit().expect("the leader admits");
    let demote = DemoteLeader {
        to: "b".into(),
        catch_up: Duration::from_secs(2),
        force: false,
        progress: None,
    };
    let report = tokio::spawn(a.coordinator.send(demote));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(a.gate.admit().is_none(), "new requests are held");
    let fenced = |n: &Node| n.seen.lock().unwrap().iter().any(|m| m.0 == Role::Follower);
    assert!(!fenced(&a), "still the leader while a request runs");
    drop(running);
    let report = report.await.unwrap().unwrap().unwrap();
    assert_eq!(report.term, 2);
    a.expect((Role::Follower, 2)).await;
    let now = a.gate.snapshot();
    assert_eq!((now.role, now.term), (Role::Follower, 2));
    // Held requests on `a` now go to `b`; `b` admits once promoted.
    assert!(matches!(
        a.gate.route(1, 1, Duration::from_millis(10)).await,
        Route::Forward { term: 2 }
    ));
    b.expect((Role::Leader, 2)).await;
    for _ in 0..60 {
        if b.gate.admit().is_some() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("b's gate never opened: {:?}", b.gate);
}

#[test]
fn timing_comes_from_the_environment_when_given() {
    let t = ClusterTiming::from_env(false, |k| match k {
        "SKEIN_CLUSTER_LEASE_MS" => Some("1500".into()),
        "SKEIN_CLUSTER_HEARTBEAT_MS" => Some("zero".into()),
        _ => None,
    });
    assert_eq!(t.lease, Duration::from_millis(1500));
    assert_eq!(t.heartbeat, ClusterTiming::default().heartbeat);
}
