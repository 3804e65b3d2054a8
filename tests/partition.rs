//! End to end: network partitions between a follower and its leader. Two
//! real `skein run` processes share a real PostgreSQL metastore (as the
//! operator guide sets them up, so leadership stays with the leader, which
//! still reaches the database); the follower's `--peer-cluster` and
//! `--peer-internal-api` point at fault-injecting TCP proxies (a
//! [`skein_harness::Cluster`] made `.linked()`) that forward to the
//! leader's cluster port and internal API. The tests cut (or silence)
//! those links while the leader keeps ingesting, then heal them.
//!
//! Also here: a clustered node without its cluster key refuses to start.

use skein_harness::{
    cluster::assert_same_files, fast_timing, ingest_clef, wait_for, Cluster, Node, CLUSTER_KEY,
};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Posts small batches to `port` until stopped; counts acknowledged batches
/// and fails on anything but 201.
struct Ingestion {
    stop: Arc<AtomicBool>,
    acked: Arc<AtomicU64>,
    thread: Option<JoinHandle<Vec<String>>>,
}

impl Ingestion {
    fn start(port: u16) -> Ingestion {
        let stop = Arc::new(AtomicBool::new(false));
        let acked = Arc::new(AtomicU64::new(0));
        let (s, n) = (stop.clone(), acked.clone());
        let thread = std::thread::spawn(move || {
            let mut failures = Vec::new();
            let mut batch = 0u64;
            while !s.load(Ordering::SeqCst) {
                let body: String = (0..20)
                    .map(|i| {
                        format!(
                            "{{\"@t\":\"2026-01-01T00:00:00Z\",\"@mt\":\"Partition {{B}} {{N}}\",\"B\":{batch},\"N\":{i}}}\n"
                        )
                    })
                    .collect();
                let (status, text) = ingest_clef(port, &body);
                if status == 201 {
                    n.fetch_add(1, Ordering::SeqCst);
                } else {
                    failures.push(format!("batch {batch}: {status} {text}"));
                }
                batch += 1;
                std::thread::sleep(Duration::from_millis(20));
            }
            failures
        });
        Ingestion {
            stop,
            acked,
            thread: Some(thread),
        }
    }

    fn acked(&self) -> u64 {
        self.acked.load(Ordering::SeqCst)
    }

    /// Waits until `more` further batches were acknowledged.
    fn wait_for_more(&self, more: u64, what: &str) {
        let from = self.acked();
        wait_for(Duration::from_secs(30), what, || {
            self.acked() >= from + more
        });
    }

    /// Stops; panics on any failed batch.
    fn finish(mut self) -> u64 {
        self.stop.store(true, Ordering::SeqCst);
        let failures = self.thread.take().unwrap().join().unwrap();
        assert!(failures.is_empty(), "failed batches: {failures:?}");
        self.acked()
    }
}

/// Starts the pair (`a` leads; each reaches its peer through proxies,
/// `cluster.link(1)` being `b`'s way to `a`) and ingestion on the leader;
/// returns once the follower has replicated some of it.
fn replicating_pair() -> (Cluster, Ingestion) {
    let mut cluster = Cluster::sized(2).env(&fast_timing()).linked().start();
    let ingestion = Ingestion::start(cluster[0].api);
    ingestion.wait_for_more(10, "the leader acknowledges");
    cluster.wait_generations(Duration::from_secs(60), "the follower replicates");
    (cluster, ingestion)
}

/// Waits (up to `limit`) until `node`'s `/health` answers 503; its body.
fn wait_unhealthy(node: &Node, limit: Duration, after: &str) -> String {
    let (started, mut body) = (Instant::now(), String::new());
    wait_for(
        limit,
        &format!("{} is unhealthy {after}", node.name),
        || {
            let (status, b) = node.get("/health");
            body = b;
            status == 503
        },
    );
    eprintln!("{} unhealthy {:?} {after}", node.name, started.elapsed());
    body
}

/// The value of the sample `name` (with its labels) in `/metrics`.
fn metric(node: &Node, name: &str) -> Option<f64> {
    let (_, text) = node.get("/metrics");
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
}

#[test]
fn a_cut_link_makes_the_follower_unhealthy_and_it_catches_up_once_healed() {
    let (mut p, ingestion) = replicating_pair();

    p.link(1).cluster.cut();
    p.link(1).internal.cut();
    // The follower says why it is unhealthy (after replication's grace period).
    let body = wait_unhealthy(&p[1], Duration::from_secs(60), "after the cut");
    let reason = format!(
        "not replicating from ws://127.0.0.1:{}",
        p.link(1).cluster.port()
    );
    assert!(body.contains(&reason), "{body}");
    assert!(body.contains("cannot reach the leader"), "{body}");
    eprintln!("the follower's /health: {body}");
    // Requests it would proxy answer 503, naming the unreachable leader.
    let (status, answer) = p[1].get("/api/events?count=1");
    assert_eq!(status, 503, "{answer}");
    let leader = format!("http://127.0.0.1:{}", p.link(1).internal.port());
    assert!(
        answer.contains(&format!("the leader at {leader}")),
        "{answer}"
    );
    assert!(answer.contains("is unreachable"), "{answer}");
    // Both sides show the broken session in their metrics.
    assert_eq!(
        metric(&p[1], "skein_replication_leader_connected"),
        Some(0.0)
    );
    wait_for(Duration::from_secs(30), "the leader sees b gone", || {
        metric(
            &p[0],
            "skein_replication_follower_connected{follower=\"b\"}",
        ) == Some(0.0)
    });
    // The leader keeps acknowledging; the follower's generation stands still.
    let frozen = p[1].generation();
    ingestion.wait_for_more(20, "the leader acknowledges during the partition");
    assert_eq!(p[1].generation(), frozen, "nothing crosses a cut link");
    assert_eq!(p[0].health()["role"], "Leader");

    p.link(1).cluster.heal();
    p.link(1).internal.heal();
    ingestion.wait_for_more(10, "the leader acknowledges after the heal");
    let acked = ingestion.finish();
    p.wait_generations(
        Duration::from_secs(60),
        "the follower catches up after the heal",
    );
    assert_eq!(
        metric(&p[1], "skein_replication_leader_connected"),
        Some(1.0)
    );
    // Proxying works again: a batch posted to the follower lands on the leader.
    let (status, answer) = ingest_clef(
        p[1].api,
        "{\"@t\":\"2026-01-01T00:00:01Z\",\"@mt\":\"after the heal\"}\n",
    );
    assert_eq!(status, 201, "{answer}");
    p.wait_generations(
        Duration::from_secs(60),
        "the follower replicates the proxied batch",
    );
    eprintln!("{acked} batches acknowledged, none failed");
    p[0].stop();
    p[1].stop();
    assert_same_files(&p[0], &p[1]);
}

#[test]
fn a_silent_half_open_link_is_noticed_by_timeouts_and_recovers() {
    let (mut p, ingestion) = replicating_pair();

    // Connections stay up, but no byte moves: only heartbeats and idle
    // timeouts can tell.
    p.link(1).cluster.blackhole();
    let body = wait_unhealthy(&p[1], Duration::from_secs(90), "after the link went silent");
    assert!(body.contains("not replicating from"), "{body}");
    assert!(body.contains("cannot reach the leader"), "{body}");
    // The live session ended by the idle timeout (no heartbeat), not by an error.
    let log = p[1].log();
    assert!(
        log.contains("cannot reach the leader: no frame from the peer for 10s"),
        "{log}"
    );
    wait_for(
        Duration::from_secs(60),
        "the leader ends the silent session",
        || {
            metric(
                &p[0],
                "skein_replication_follower_connected{follower=\"b\"}",
            ) == Some(0.0)
        },
    );
    ingestion.wait_for_more(10, "the leader acknowledges during the partition");

    p.link(1).cluster.heal();
    let acked = ingestion.finish();
    p.wait_generations(
        Duration::from_secs(90),
        "the follower catches up after the heal",
    );
    eprintln!("{acked} batches acknowledged, none failed");
    p[0].stop();
    p[1].stop();
    assert_same_files(&p[0], &p[1]);
}

#[test]
fn a_clustered_node_without_its_cluster_key_refuses_to_start() {
    let (mut a, b) = (Node::new("a"), Node::new("b"));
    a.setup(&b, CLUSTER_KEY, None);
    a.ok(&["secret", "clear", "-k", "cluster.authenticationKey"]);
    a.spawn();
    let status = a.wait_exit(Duration::from_secs(30));
    assert!(!status.success(), "{status}\n{}", a.log());
    let log = a.log();
    assert!(log.contains("cluster.authenticationKey"), "{log}");
    assert!(log.contains("skein node setup"), "{log}");
    assert!(
        log.contains("skein secret set -k cluster.authenticationKey -v KEY"),
        "{log}"
    );
    assert!(a.get("/health").0 == 0, "nothing listens");
}
