//! Forwarded identity is trusted only from a proven cluster peer: a client
//! that sends the crossing headers (`X-Skein-Proxied`, `X-Skein-Term`) with
//! a forged `X-Skein-Peer-Proof` is handled as any client (its headers are
//! dropped and the attempt logged), while the follower's own forwarding —
//! signed with the cluster key — is accepted by the leader.

use skein_harness::{ingest_clef, request, wait_for, Cluster, CLEF, CLUSTER_KEY};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const EVENT: &str = "{\"@t\":\"2026-01-01T00:00:00Z\",\"@mt\":\"Forwarded {N}\",\"N\":1}\n";

#[test]
fn forged_forwarding_headers_are_dropped_and_real_forwarding_is_proven() {
    let cluster = Cluster::sized(2).start();
    let [a, b] = cluster.nodes();
    wait_for(Duration::from_secs(30), "the leader accepts writes", || {
        ingest_clef(a.api, EVENT).0 == 201
    });

    // The follower's own forwarding carries a proof the leader accepts.
    let (status, body) = ingest_clef(b.api, EVENT);
    assert_eq!(status, 201, "{body}\n{}", b.log());
    assert!(!a.log().contains("not proven"), "{}", a.log());

    // A client claiming to be the peer at its last hop: without a valid
    // proof the claim is ignored, so the follower forwards at once instead
    // of holding a request that may not cross again.
    let ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis()
        .to_string();
    let forged = format!("a;{ms};{}", "00".repeat(32));
    let started = Instant::now();
    let (status, body) = request(
        b.api,
        "POST",
        "/ingest/clef",
        &[
            ("Content-Type", CLEF),
            ("X-Skein-Proxied", "2"),
            ("X-Skein-Term", "99"),
            ("X-Skein-Peer-Proof", &forged),
            ("X-Forwarded-For", "203.0.113.66"),
        ],
        EVENT.as_bytes(),
    );
    assert_eq!(status, 201, "{body}\n{}", b.log());
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "held for {:?}",
        started.elapsed()
    );
    assert!(b.log().contains("not proven"), "{}", b.log());
    // The follower counted it, and the cluster screen shows it from any
    // node: the follower's API is proxied to the leader, which reads the
    // follower's counters from its heartbeat row.
    for via in [a.api, b.api] {
        wait_for(
            Duration::from_secs(10),
            "the follower's refusal in /api/cluster",
            || node_counter(via, "b", "RequestsRejectedForgedForwarding").is_some_and(|n| n >= 1),
        );
    }

    // Sent straight to the leader, the forged claim is dropped there too.
    let (status, body) = request(
        a.api,
        "POST",
        "/ingest/clef",
        &[
            ("Content-Type", CLEF),
            ("X-Skein-Proxied", "1"),
            ("X-Skein-Term", "1"),
        ],
        EVENT.as_bytes(),
    );
    assert_eq!(status, 201, "{body}");
    assert!(a.log().contains("not proven"), "{}", a.log());
}

/// `/api/cluster`'s node entries as asked on `port`, the answering node first.
fn cluster_nodes(port: u16) -> Vec<serde_json::Value> {
    let (status, body) = request(port, "GET", "/api/cluster", &[], b"");
    assert_eq!(status, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    v["Nodes"].as_array().cloned().unwrap_or_default()
}

/// The counter `name` of one `/api/cluster` node entry.
fn counter(entry: &serde_json::Value, name: &str) -> u64 {
    entry[name]
        .as_u64()
        .unwrap_or_else(|| panic!("no {name} in {entry}"))
}

/// `name` in `/api/cluster`'s entry for the node answering on `port`.
fn cluster_counter(port: u16, name: &str) -> u64 {
    counter(&cluster_nodes(port)[0], name)
}

/// `name` in the entry for `node` of `/api/cluster` as asked on `port`;
/// `None` while the node has no entry (before its first heartbeat).
fn node_counter(port: u16, node: &str, name: &str) -> Option<u64> {
    let nodes = cluster_nodes(port);
    let entry = nodes.iter().find(|n| n["Name"] == node)?;
    Some(counter(entry, name))
}

#[test]
fn proofs_cover_the_client_address_are_good_once_and_forged_addresses_do_not_throttle() {
    use skein::api::peer_proof::{Crossing, PeerProof, PROOF_HEADER};
    use skein_actors::replication::ClusterKey;

    let cluster = Cluster::sized(2).start();
    let [a, _b] = cluster.nodes();
    wait_for(Duration::from_secs(30), "the leader accepts writes", || {
        ingest_clef(a.api, EVENT).0 == 201
    });
    // A proof as the follower `b` makes them (the test knows the cluster key).
    let follower = PeerProof::new(ClusterKey::new(CLUSTER_KEY).unwrap(), "b");
    const COUNTER: &str = "RequestsRejectedForgedForwarding";
    let refused_before = cluster_counter(a.api, COUNTER);
    let login = |proof: Option<&str>, forwarded_for: &str, user: &str| {
        let body = format!("{{\"Username\":\"{user}\",\"Password\":\"wrong\"}}");
        let mut headers = vec![
            ("Content-Type", "application/json"),
            ("X-Forwarded-For", forwarded_for),
        ];
        if let Some(p) = proof {
            headers.extend([
                ("X-Skein-Proxied", "1"),
                ("X-Skein-Term", "1"),
                (PROOF_HEADER, p),
            ]);
        }
        request(a.api, "POST", "/api/users/login", &headers, body.as_bytes()).0
    };
    let signed = |forwarded_for: &str| {
        follower.sign(&Crossing {
            method: "POST",
            path_and_query: "/api/users/login",
            hops: "1",
            term: "1",
            forwarded_for,
        })
    };

    // A genuine proof: the signed client address is the caller's.
    let proof = signed("192.0.2.50");
    assert_eq!(login(Some(&proof), "192.0.2.50", "proven"), 401);
    assert!(
        a.log()
            .contains("failed login for `proven` from 192.0.2.50"),
        "{}",
        a.log()
    );
    assert_eq!(cluster_counter(a.api, COUNTER), refused_before);

    // Replayed word for word: refused, counted, the address not trusted.
    assert_eq!(login(Some(&proof), "192.0.2.50", "replayed"), 401);
    assert!(a.log().contains("replayed proof"), "{}", a.log());
    assert!(
        a.log()
            .contains("failed login for `replayed` from 127.0.0.1"),
        "{}",
        a.log()
    );
    assert_eq!(cluster_counter(a.api, COUNTER), refused_before + 1);

    // A fresh proof sent with another client address: refused too.
    let proof = signed("192.0.2.51");
    assert_eq!(login(Some(&proof), "198.51.100.1", "moved"), 401);
    assert!(
        a.log().contains("failed login for `moved` from 127.0.0.1"),
        "{}",
        a.log()
    );
    assert_eq!(cluster_counter(a.api, COUNTER), refused_before + 2);

    // A client's own X-Forwarded-For (no proof) changes nothing: every
    // failure counts against its real address, which is then throttled.
    let mut last = 0;
    for i in 0..25 {
        last = login(None, &format!("198.51.100.{i}"), &format!("guess{i}"));
        if last == 429 {
            break;
        }
    }
    assert_eq!(last, 429, "{}", a.log());
    assert!(
        a.log()
            .contains("login refused: too many failed logins from 127.0.0.1"),
        "{}",
        a.log()
    );
}
