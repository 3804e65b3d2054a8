//! End-to-end tests of the follower's proxy (ProxyForwarder): two real
//! `skein run` processes, a leader (standalone) and a follower whose
//! `cluster.peerInternalApiUri` points at it.

use skein_harness::{free_port, request, Node, TestDatabase};
use std::collections::HashMap;
use std::time::{Duration, Instant};

const CLEF: &str = "application/vnd.serilog.clef";
/// A storage secret key (`skein show-key --generate`), for tests only.
const SECRET_KEY: &str = "jabax75mGuaEDQuAg3PGoO5vWTt9ApVgKe8hvw1jXlI=";

/// The environment of a follower whose leader's internal API is `leader`.
fn follower_env(leader: &str, extra: &[(&str, &str)]) -> HashMap<String, String> {
    let mut env: HashMap<String, String> = [
        ("SKEIN_CLUSTER_ROLE", "follower".to_owned()),
        ("SKEIN_CLUSTER_NODENAME", "b".to_owned()),
        (
            "SKEIN_CLUSTER_LISTENURI",
            format!("ws://127.0.0.1:{}", free_port()),
        ),
        (
            "SKEIN_CLUSTER_INTERNALAPIURI",
            format!("http://127.0.0.1:{}", free_port()),
        ),
        (
            "SKEIN_CLUSTER_PEERCLUSTERURI",
            format!("ws://127.0.0.1:{}", free_port()),
        ),
        ("SKEIN_CLUSTER_PEERINTERNALAPIURI", leader.to_owned()),
        // Secrets (the cluster key, which a clustered node needs) are readable.
        ("SKEIN_STORAGE_SECRETKEY", SECRET_KEY.to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    for (k, v) in extra {
        env.insert((*k).to_owned(), (*v).to_owned());
    }
    env
}

/// Starts a follower with `env` and a cluster key (a clustered node refuses
/// to start without one).
fn follower(env: HashMap<String, String>) -> (Node, TestDatabase) {
    // A clustered node needs the shared metastore too.
    let db = TestDatabase::create();
    let mut node = Node::new("node").with_env(env);
    node.set_secret("cluster.authenticationKey", "cluster-key-0123456789");
    node.set_secret("metastore.postgres.connectionString", &db.url);
    node.start_healthy();
    (node, db)
}

/// The node's own `/health` report (200 or 503: a follower without its
/// leader may report itself unhealthy, but it always answers).
fn health(node: &Node) -> serde_json::Value {
    let (status, body) = node.get("/health");
    assert!(status == 200 || status == 503, "{status}: {body}");
    serde_json::from_str(&body).unwrap()
}

#[test]
fn follower_forwards_to_the_leader_and_answers_503_when_it_is_gone() {
    let mut a = Node::standalone();
    let (b, _db) = follower(follower_env(&a.url(), &[]));
    let (ha, hb) = (health(&a), health(&b));
    assert_eq!(hb["role"], "Follower", "B answers its own /health: {hb}");
    assert_eq!(ha["role"], "Standalone");
    let (gen_a, gen_b) = (ha["generation"].clone(), hb["generation"].clone());

    // Ingestion through B lands on A.
    let (status, body) = b.post(
        "/ingest/clef",
        CLEF,
        b"{\"@t\":\"2025-01-01T00:00:00Z\",\"@mt\":\"through the follower {N}\",\"N\":1}",
    );
    assert_eq!(
        (status, body.as_str()),
        (201, "{\"MinimumLevelAccepted\":null}")
    );
    assert_ne!(health(&a)["generation"], gen_a, "A stored the batch");
    assert_eq!(health(&b)["generation"], gen_b, "B stored nothing itself");

    // A gzip body, passed through undecoded.
    let gz = gzip_stored(b"{\"@t\":\"2025-01-01T00:00:01Z\",\"@mt\":\"zipped\"}\n");
    let (status, body) = request(
        b.api,
        "POST",
        "/ingest/clef",
        &[("Content-Type", CLEF), ("Content-Encoding", "gzip")],
        &gz,
    );
    assert_eq!(status, 201, "{body}");

    // Reads through B are A's.
    let (status, events) = b.get("/api/events?count=10");
    assert_eq!(status, 200, "{events}");
    assert!(events.contains("through the follower"), "{events}");
    assert!(events.contains("zipped"), "{events}");
    assert_eq!(events, a.get("/api/events?count=10").1);

    // A's 400 comes back unchanged.
    let direct = a.post("/ingest/clef", CLEF, b"[1,2]");
    assert_eq!(direct.0, 400);
    assert_eq!(b.post("/ingest/clef", CLEF, b"[1,2]"), direct);
    // So does a 404 on an unknown path (the leader decides what exists).
    assert_eq!(b.get("/api/nope"), a.get("/api/nope"));

    // With A gone: a prompt 503 naming the leader; B's /health still answers.
    a.kill();
    let started = Instant::now();
    let (status, body) = b.post("/ingest/clef", CLEF, b"{\"@t\":\"2025-01-01T00:00:00Z\"}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(status, 503, "{body}");
    let error: serde_json::Value = serde_json::from_str(&body).unwrap();
    let message = error["Error"].as_str().unwrap();
    assert!(message.contains("the leader at"), "{message}");
    assert!(message.contains("is unreachable"), "{message}");
    assert!(message.contains(&a.url()), "{message}");
    assert_eq!(health(&b)["role"], "Follower");
}

#[test]
fn follower_enforces_the_payload_limit_and_survives_an_unroutable_leader() {
    // 192.0.2.1 (TEST-NET-1) never answers: the connect timeout must apply.
    let (b, _db) = follower(follower_env(
        "http://192.0.2.1:9",
        &[("SKEIN_INGESTION_MAXPAYLOADBYTES", "2048")],
    ));
    let big = vec![b' '; 4096];
    let (status, body) = b.post("/ingest/clef", CLEF, &big);
    assert_eq!(status, 413, "{body}");
    assert!(body.contains("payload limit"), "{body}");

    let started = Instant::now();
    let (status, body) = b.get("/api/events");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("http://192.0.2.1:9 is unreachable"), "{body}");
    assert_eq!(health(&b)["role"], "Follower");
    assert_eq!(b.get("/metrics").0, 200, "metrics are the node's own");
}

/// A gzip member holding `data` in one stored (uncompressed) deflate block.
fn gzip_stored(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    let len = data.len() as u16;
    out.push(1);
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&(!len).to_le_bytes());
    out.extend_from_slice(data);
    out.extend_from_slice(&crc32(data).to_le_bytes());
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}
