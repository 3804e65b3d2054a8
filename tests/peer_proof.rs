//! Forwarded identity is trusted only from a proven cluster peer: a client
//! that sends the crossing headers (`X-Skein-Proxied`, `X-Skein-Term`) with
//! a forged `X-Skein-Peer-Proof` is handled as any client (its headers are
//! dropped and the attempt logged), while the follower's own forwarding —
//! signed with the cluster key — is accepted by the leader.

#[path = "support/cli.rs"]
mod cli_support;
#[path = "support/cluster.rs"]
mod cluster;
mod support;

use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use cluster::{pair, wait_for, CLEF};
use support::request;

const EVENT: &str = "{\"@t\":\"2026-01-01T00:00:00Z\",\"@mt\":\"Forwarded {N}\",\"N\":1}\n";

#[test]
fn forged_forwarding_headers_are_dropped_and_real_forwarding_is_proven() {
    let (a, b) = pair(None, &HashMap::new());
    wait_for(Duration::from_secs(30), "the leader accepts writes", || {
        cluster::ingest_clef(a.api, EVENT).0 == 201
    });

    // The follower's own forwarding carries a proof the leader accepts.
    let (status, body) = cluster::ingest_clef(b.api, EVENT);
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
