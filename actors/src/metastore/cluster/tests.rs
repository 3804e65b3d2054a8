//! The leadership protocol and heartbeats, on SQLite and real PostgreSQL.

use std::time::{Duration, Instant};

use super::*;
use crate::metastore::test_support::{tempdir, with_postgres};

const LONG: Duration = Duration::from_secs(30);

async fn suite(ms: &Metastore) {
    let start = ms.current_leadership().await.unwrap();
    assert_eq!(
        (start.term, start.leader_node, start.lease_valid),
        (0, None, false)
    );

    // Eight contenders with the same seen term: exactly one wins.
    let mut tasks = Vec::new();
    for i in 0..8 {
        let ms = ms.clone();
        tasks.push(tokio::spawn(async move {
            (
                i,
                ms.take_leadership(&format!("node{i}"), 0, LONG)
                    .await
                    .unwrap(),
            )
        }));
    }
    let mut winners = Vec::new();
    for task in tasks {
        let (i, won) = task.await.unwrap();
        if let Some(term) = won {
            assert_eq!(term, 1);
            winners.push(format!("node{i}"));
        }
    }
    assert_eq!(winners.len(), 1, "{winners:?}");
    let a = winners.remove(0);
    let b = if a == "node0" { "node1" } else { "node0" };
    let now = ms.current_leadership().await.unwrap();
    assert_eq!(
        (now.term, now.leader_node.as_deref()),
        (1, Some(a.as_str()))
    );
    assert!(now.lease_valid && now.lease_expires_at.is_some());

    // A stale term loses; renewing is only for the leader of that term.
    assert_eq!(ms.take_leadership(b, 0, LONG).await.unwrap(), None);
    assert!(!ms.renew_lease(b, 1, LONG).await.unwrap());
    assert!(ms.renew_lease(&a, 1, LONG).await.unwrap());
    assert_eq!(
        ms.current_leadership()
            .await
            .unwrap()
            .previous_lease_remaining,
        Duration::ZERO
    );
    assert_eq!(ms.take_leadership(b, 1, LONG).await.unwrap(), Some(2));
    assert!(
        !ms.renew_lease(&a, 1, LONG).await.unwrap(),
        "the old leader lost"
    );
    // Taken while a's lease ran: b must wait it out.
    let taken = ms.current_leadership().await.unwrap();
    let left = taken.previous_lease_remaining;
    assert!(
        left > LONG - Duration::from_secs(10) && left <= LONG,
        "{left:?}"
    );
    assert!(taken.previous_lease_expires_at.is_some());
    assert!(ms.renew_lease(b, 2, LONG).await.unwrap());

    // Hand-over: only the current leader, in its term.
    assert_eq!(ms.hand_over(&a, 1, b).await.unwrap(), None);
    assert_eq!(ms.hand_over(&a, 2, b).await.unwrap(), None);
    assert_eq!(ms.hand_over(b, 2, &a).await.unwrap(), Some(3));
    let handed = ms.current_leadership().await.unwrap();
    assert_eq!(
        (handed.term, handed.leader_node.as_deref()),
        (3, Some(a.as_str()))
    );
    assert!(!handed.lease_valid, "no lease until the new leader renews");
    assert_eq!(
        (
            handed.previous_lease_expires_at,
            handed.previous_lease_remaining
        ),
        (None, Duration::ZERO),
        "a graceful hand-over waits for nothing"
    );
    assert!(ms.renew_lease(&a, 3, LONG).await.unwrap());
    assert!(ms.current_leadership().await.unwrap().lease_valid);
    assert!(matches!(
        ms.take_leadership(" ", 3, LONG).await,
        Err(MetastoreError::Invalid(_))
    ));

    // A short lease runs out by the database's clock.
    assert_eq!(
        ms.take_leadership(b, 3, Duration::from_millis(300))
            .await
            .unwrap(),
        Some(4)
    );
    assert!(ms.current_leadership().await.unwrap().lease_valid);
    let deadline = Instant::now() + Duration::from_secs(10);
    while ms.current_leadership().await.unwrap().lease_valid {
        assert!(Instant::now() < deadline, "the lease never ran out");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let expired = ms.current_leadership().await.unwrap();
    assert_eq!((expired.term, expired.leader_node.as_deref()), (4, Some(b)));
    // Renewing an expired lease nobody took is still safe.
    assert!(ms.renew_lease(b, 4, LONG).await.unwrap());
    assert!(ms.current_leadership().await.unwrap().lease_valid);

    // The wait for a previous lease ends with it, by the database's clock.
    assert_eq!(ms.hand_over(b, 4, &a).await.unwrap(), Some(5));
    assert!(ms
        .renew_lease(&a, 5, Duration::from_millis(300))
        .await
        .unwrap());
    assert_eq!(ms.take_leadership(b, 5, LONG).await.unwrap(), Some(6));
    let left = ms
        .current_leadership()
        .await
        .unwrap()
        .previous_lease_remaining;
    assert!(
        left > Duration::ZERO && left <= Duration::from_millis(300),
        "{left:?}"
    );
    while !ms
        .current_leadership()
        .await
        .unwrap()
        .previous_lease_remaining
        .is_zero()
    {
        assert!(
            Instant::now() < deadline,
            "the previous lease never ran out"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn heartbeats(ms: &Metastore) {
    assert!(ms.nodes().await.unwrap().is_empty());
    let mut row = NodeRow {
        name: "seq002".into(),
        role: "follower".into(),
        term: 1,
        generation_model: 5,
        generation_write: 10,
        last_sync_at: Some(Utc::now()),
        seen_at: None,
        cluster_uri: Some("ws://seq002:5344".into()),
        internal_api_uri: Some("http://seq002".into()),
        state: "synchronising".into(),
        accepted: 1,
        invalid_key: 0,
        established: 1,
        refusals: RefusalCounts {
            malformed_handshake: 2,
            session_check: 3,
            forged_leader: 4,
            forged_forwarding: 5,
        },
        catch_up: None,
        store_term: 1,
        auto_failover: false,
        sampled_at: None,
    };
    ms.heartbeat(&row).await.unwrap();
    let first = ms.nodes().await.unwrap();
    assert_eq!(first.len(), 1);
    let seen = first[0].seen_at.expect("seen_at is set");
    assert!((Utc::now() - seen).num_seconds().abs() < 60, "{seen}");
    row.generation_write = 11;
    row.state = "up to date".into();
    row.last_sync_at = None;
    ms.heartbeat(&row).await.unwrap();
    let mut leader = row.clone();
    leader.name = "seq001".into();
    leader.role = "leader".into();
    ms.heartbeat(&leader).await.unwrap();
    let nodes = ms.nodes().await.unwrap();
    assert_eq!(nodes.len(), 2);
    assert_eq!(nodes[0].name, "seq001");
    let follower = &nodes[1];
    assert_eq!(
        (follower.generation_write, follower.state.as_str()),
        (11, "up to date")
    );
    assert_eq!(follower.last_sync_at, None);
    assert_eq!(follower.cluster_uri.as_deref(), Some("ws://seq002:5344"));
    assert_eq!(
        follower.refusals, row.refusals,
        "the refusal counters round-trip"
    );
    assert_eq!(follower.catch_up, None);
    // A snapshot copy in progress round-trips (timestamps at microseconds,
    // PostgreSQL's precision), its rate unknown at first; it is cleared
    // by the next heartbeat without one.
    let started_at = DateTime::from_timestamp_micros(Utc::now().timestamp_micros()).unwrap();
    let mut copying = CatchUpProgress {
        copied_bytes: 4 << 20,
        total_bytes: 1 << 40,
        bytes_per_second: None,
        seconds_left: None,
        started_at,
    };
    for _ in 0..2 {
        row.catch_up = Some(copying.clone());
        ms.heartbeat(&row).await.unwrap();
        let nodes = ms.nodes().await.unwrap();
        assert_eq!(nodes[1].catch_up.as_ref(), Some(&copying));
        copying.bytes_per_second = Some(270_000_000);
        copying.seconds_left = Some(4_000);
    }
    row.catch_up = None;
    ms.heartbeat(&row).await.unwrap();
    assert_eq!(ms.nodes().await.unwrap()[1].catch_up, None);
    // Too large for the metastore: refused, the row unchanged.
    row.catch_up = Some(CatchUpProgress {
        total_bytes: u64::MAX,
        ..copying
    });
    assert!(ms.heartbeat(&row).await.is_err());
    assert_eq!(ms.nodes().await.unwrap()[1].catch_up, None);
    row.catch_up = None;
    row.name = String::new();
    assert!(ms.heartbeat(&row).await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn leadership_on_sqlite() {
    let dir = tempdir();
    let ms = Metastore::open(&Metastore::sqlite_url(&dir.join("metastore.db")))
        .await
        .unwrap();
    suite(&ms).await;
    heartbeats(&ms).await;
    ms.close().await.unwrap();
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn leadership_on_postgres() {
    with_postgres(|url| async move {
        let ms = Metastore::open(&url).await.unwrap();
        suite(&ms).await;
        heartbeats(&ms).await;
        ms.close().await.unwrap();
    })
    .await;
}

/// What an automatic election reads and writes: positions judged against
/// the lease by the database's clock, the acknowledging replicas the
/// leader's grant wrote, and a term taken only once the lease ran out.
async fn elections(ms: &Metastore) {
    let report = |name: &str, write: u64, sampled_at| NodeRow {
        name: name.into(),
        role: "follower".into(),
        term: 1,
        generation_model: 1,
        generation_write: write,
        cluster_uri: Some(format!("ws://{name}:5344")),
        internal_api_uri: Some(format!("http://{name}")),
        state: "following".into(),
        store_term: 1,
        auto_failover: true,
        sampled_at,
        ..NodeRow::default()
    };
    let grant = LeaseGrant {
        lease: Duration::from_millis(300),
        acknowledging_replicas: 1,
    };
    assert_eq!(ms.take_leadership("a", 0, grant).await.unwrap(), Some(1));
    let row = ms.current_leadership().await.unwrap();
    assert_eq!(row.acknowledging_replicas, 1);
    for (name, write) in [("a", 9), ("b", 8), ("c", 7)] {
        ms.heartbeat(&report(name, write, Some(row.read_at)))
            .await
            .unwrap();
    }
    let row = ms.current_leadership().await.unwrap();
    assert_eq!(row.leader_cluster_uri.as_deref(), Some("ws://a:5344"));
    assert_eq!(row.leader_internal_api_uri.as_deref(), Some("http://a"));
    // The lease runs: nobody takes the next term, and nothing sampled so
    // far counts as reported after it.
    assert_eq!(
        ms.take_lapsed_leadership("b", 1, grant).await.unwrap(),
        None
    );
    let electors = ms.electors().await.unwrap();
    let names: Vec<&str> = electors.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["a", "b", "c"]);
    assert!(electors.iter().all(|e| !e.sampled_after_lease));
    assert!(electors.iter().all(|e| e.silent < Duration::from_secs(30)));
    assert_eq!(
        electors[1].generation,
        skein_store::Generation { model: 1, write: 8 }
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while ms.current_leadership().await.unwrap().lease_valid {
        assert!(Instant::now() < deadline, "the lease never ran out");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let lapsed = ms.current_leadership().await.unwrap();
    ms.heartbeat(&report("b", 8, Some(lapsed.read_at)))
        .await
        .unwrap();
    let after: Vec<bool> = ms
        .electors()
        .await
        .unwrap()
        .iter()
        .map(|e| e.sampled_after_lease)
        .collect();
    assert_eq!(after, [false, true, false]);
    // One taker wins the next term by compare-and-swap.
    let b_grant = LeaseGrant {
        lease: LONG,
        acknowledging_replicas: 2,
    };
    assert_eq!(
        ms.take_lapsed_leadership("b", 1, b_grant).await.unwrap(),
        Some(2)
    );
    assert_eq!(
        ms.take_lapsed_leadership("c", 1, grant).await.unwrap(),
        None
    );
    let won = ms.current_leadership().await.unwrap();
    assert_eq!(
        (won.term, won.leader_node.as_deref(), won.lease_valid),
        (2, Some("b"), true)
    );
    assert_eq!(won.acknowledging_replicas, 2);
    assert_eq!(won.previous_lease_remaining, Duration::ZERO);
    // The new lease runs: no election.
    assert_eq!(
        ms.take_lapsed_leadership("c", 2, grant).await.unwrap(),
        None
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn elections_on_sqlite() {
    let dir = tempdir();
    let ms = Metastore::open(&Metastore::sqlite_url(&dir.join("metastore.db")))
        .await
        .unwrap();
    elections(&ms).await;
    ms.close().await.unwrap();
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn elections_on_postgres() {
    with_postgres(|url| async move {
        let ms = Metastore::open(&url).await.unwrap();
        elections(&ms).await;
        ms.close().await.unwrap();
    })
    .await;
}

/// `remove_node` deletes a follower's row, and refuses (changing nothing)
/// the leader and a name without a row.
async fn removal(ms: &Metastore) {
    let row = |name: &str| NodeRow {
        name: name.into(),
        role: "follower".into(),
        term: 1,
        state: "up to date".into(),
        ..NodeRow::default()
    };
    let names = || async {
        ms.nodes()
            .await
            .unwrap()
            .into_iter()
            .map(|n| n.name)
            .collect::<Vec<_>>()
    };
    for name in ["a", "b", "c"] {
        ms.heartbeat(&row(name)).await.unwrap();
    }
    assert_eq!(ms.take_leadership("a", 0, LONG).await.unwrap(), Some(1));

    let err = ms.remove_node("a").await.unwrap_err().to_string();
    assert!(err.contains("node a leads the cluster (term 1)"), "{err}");
    let err = ms.remove_node("z").await.unwrap_err().to_string();
    assert_eq!(err, "no node named z in the cluster; known: a, b, c");
    assert!(ms.remove_node(" ").await.is_err());
    assert_eq!(names().await, ["a", "b", "c"], "refusals change nothing");

    ms.remove_node("b").await.unwrap();
    assert_eq!(names().await, ["a", "c"]);
    let err = ms.remove_node("b").await.unwrap_err().to_string();
    assert!(err.ends_with("known: a, c"), "{err}");
    // Leadership moves: the former leader can go, the new one cannot.
    assert_eq!(ms.take_leadership("c", 1, LONG).await.unwrap(), Some(2));
    ms.remove_node("a").await.unwrap();
    assert!(ms.remove_node("c").await.is_err());
    assert_eq!(names().await, ["c"]);
}

#[tokio::test]
async fn removal_on_sqlite() {
    let dir = tempdir();
    let ms = Metastore::open(&Metastore::sqlite_url(&dir.join("metastore.db")))
        .await
        .unwrap();
    removal(&ms).await;
    ms.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn removal_on_postgres() {
    with_postgres(|url| async move {
        let ms = Metastore::open(&url).await.unwrap();
        removal(&ms).await;
        ms.close().await.unwrap();
    })
    .await;
}
