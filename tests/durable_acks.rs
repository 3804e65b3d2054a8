//! End to end: durable acknowledgements (`replication.minimumAcknowledgingReplicas`)
//! on a real two-node cluster, set with `skein config set` before the nodes
//! start, on a fresh PostgreSQL metastore.
//!
//! - with 1 and the follower up, every write is answered 201 and the
//!   follower's own store (its `/health`, never proxied) holds it by then;
//! - the follower killed (SIGKILL), every write is answered 503 after the
//!   timeout with an error saying how many of the required followers hold
//!   it — never 201 — and `/metrics` counts them;
//! - the follower restarted, writes are answered 201 again.
//!
//! (The cost of durable acknowledgements is measured by
//! `tests/ha.rs`'s `durable_acknowledgement_cost`.)

use std::time::{Duration, Instant};

use skein_harness::{fast_timing, ingest_clef, wait_for, Cluster, Node};

const LIMIT: Duration = Duration::from_secs(60);

/// A cluster of two whose nodes require `replicas` acknowledging followers
/// (waiting at most `timeout`), configured but not started.
fn cluster(replicas: u32, timeout: &str) -> Cluster {
    let cluster = Cluster::sized(2).env(&fast_timing()).configure();
    let n = replicas.to_string();
    cluster.config_set_all("replication.minimumAcknowledgingReplicas", &n);
    cluster.config_set_all("replication.acknowledgementTimeout", timeout);
    cluster
}

/// The store operations of a `model.write` generation.
fn ops(generation: &str) -> u64 {
    generation
        .split('.')
        .filter_map(|p| p.parse::<u64>().ok())
        .sum()
}

fn event(n: usize) -> String {
    format!("{{\"@t\":\"2026-01-01T00:00:00Z\",\"@mt\":\"Durable {{N}}\",\"N\":{n}}}\n")
}

/// Whether the leader's `/api/cluster` counts `follower` toward its quorum.
fn counts_toward_quorum(leader: &Node, follower: &str) -> bool {
    let (status, cluster) = leader.json("/api/cluster");
    let nodes = cluster["Nodes"].as_array().cloned().unwrap_or_default();
    status == 200
        && nodes
            .iter()
            .any(|n| n["Name"] == follower && n["CountsTowardAcknowledgements"] == true)
}

/// Writes one event to `leader`, which must answer 201, and checks that
/// `follower` holds it by then: its own generation has reached the
/// leader's right after the answer.
fn acknowledged_and_held(leader: &Node, follower: &Node, n: usize) {
    let (status, body) = ingest_clef(leader.api, &event(n));
    assert_eq!(status, 201, "write {n}: {body}\n{}", leader.log());
    let (leader_at, follower_at) = (leader.generation(), follower.generation());
    assert!(
        ops(&follower_at) >= ops(&leader_at),
        "write {n} was acknowledged but the follower is at {follower_at}, the leader at {leader_at}"
    );
}

#[test]
fn a_write_is_acknowledged_only_while_a_follower_holds_it() {
    let mut cluster = cluster(1, "1s");
    cluster.start_all();
    cluster.wait_generations(LIMIT, "the follower follows");
    let [a, b] = cluster.nodes();
    assert_eq!(a.health()["role"], "Leader", "{}", a.log());
    let (_, view) = a.json("/api/cluster");
    assert_eq!(view["MinimumAcknowledgingReplicas"], 1, "{view}");
    wait_for(LIMIT, "the follower counts toward the quorum", || {
        counts_toward_quorum(a, "b")
    });
    for n in 0..20 {
        acknowledged_and_held(a, b, n);
    }

    cluster.kill(1);
    let a = &cluster[0];
    for n in 100..103 {
        let started = Instant::now();
        let (status, body) = ingest_clef(a.api, &event(n));
        assert_eq!(status, 503, "write {n} without the follower: {body}");
        let error: serde_json::Value = serde_json::from_str(&body).expect("a JSON error");
        let error = error["Error"].as_str().unwrap_or_default();
        assert!(
            error.contains("stored on the leader but not acknowledged")
                && error.contains("0 of the 1 follower(s) required"),
            "{body}"
        );
        assert!(
            started.elapsed() >= Duration::from_millis(900),
            "refused after the timeout, not before ({:?})",
            started.elapsed()
        );
    }
    let metrics = a.metrics();
    let refused = metrics
        .get("skein_replication_acknowledgements_refused_total")
        .copied();
    assert!(refused.is_some_and(|r| r >= 3.0), "{metrics:?}");

    cluster[1].start();
    let [a, _] = cluster.nodes();
    wait_for(LIMIT, "the restarted follower counts again", || {
        counts_toward_quorum(a, "b")
    });
    let [a, b] = cluster.nodes();
    for n in 200..210 {
        acknowledged_and_held(a, b, n);
    }
    // What was refused was stored on the leader: the follower gets it too.
    cluster.wait_generations(LIMIT, "the follower holds everything the leader does");
}
