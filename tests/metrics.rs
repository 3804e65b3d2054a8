//! `GET /metrics` of real nodes: what an operator alerts on (build, role
//! and term, process figures, fsync latency, per-follower replication lag
//! in operations and bytes), and request labels bounded to fixed sets so
//! that no client can create series.

use skein_harness::{http::metric_samples as samples, request, wait_for, Cluster, Node, CLEF};
use std::collections::HashMap;
use std::time::Duration;

const EVENT: &[u8] = b"{\"@t\":\"2026-01-01T00:00:00Z\",\"@mt\":\"m {N}\",\"N\":1}\n";

fn scrape(node: &Node) -> (String, HashMap<String, f64>) {
    let (status, text) = node.get("/metrics");
    assert_eq!(status, 200, "{text}");
    let m = samples(&text);
    (text, m)
}

#[test]
fn a_node_shows_build_role_term_process_and_fsync_metrics() {
    let node = Node::standalone();
    let (status, body) = node.post("/ingest/clef", CLEF, EVENT);
    assert_eq!(status, 201, "{body}");
    let (text, m) = scrape(&node);
    let version = env!("CARGO_PKG_VERSION");
    assert_eq!(
        m.get(&format!("skein_build_info{{version=\"{version}\"}}")),
        Some(&1.0),
        "{text}"
    );
    assert_eq!(m["skein_node_role{role=\"standalone\"}"], 1.0, "{text}");
    assert_eq!(m["skein_node_role{role=\"leader\"}"], 0.0, "{text}");
    assert_eq!(m["skein_node_role{role=\"follower\"}"], 0.0, "{text}");
    assert_eq!(m["skein_node_term"], 0.0, "{text}");

    // The ingested batch was fsynced (creating the segment may add more).
    let fsyncs = m["skein_store_fsync_duration_seconds_count"];
    assert!(fsyncs >= 1.0, "{text}");
    assert_eq!(
        m["skein_store_fsync_duration_seconds_bucket{le=\"+Inf\"}"], fsyncs,
        "{text}"
    );
    assert!(m["skein_store_fsync_duration_seconds_sum"] > 0.0, "{text}");

    let cpu = m["process_cpu_seconds_total"];
    assert!(cpu > 0.0 && cpu < 3600.0, "{text}");
    assert!(m["process_resident_memory_bytes"] > 1e6, "{text}");
    assert!(m["process_virtual_memory_bytes"] >= m["process_resident_memory_bytes"]);
    let (open, max) = (m["process_open_fds"], m["process_max_fds"]);
    assert!(open >= 3.0 && open < max, "{text}");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let started = m["process_start_time_seconds"];
    assert!(started <= now + 1.0 && started > now - 600.0, "{text}");
}

#[test]
fn request_labels_come_from_fixed_sets() {
    let node = Node::standalone();
    for method in ["FOOBAR", "FOOBAZ", "get"] {
        let (status, _) = request(node.api, method, "/api/events", &[], b"");
        assert_ne!(status, 0, "{method} was answered");
    }
    // A raw path no route matches is one series, not one per path.
    for path in ["/no/such/a", "/no/such/b"] {
        assert_eq!(node.get(path).0, 404);
    }
    let (text, m) = scrape(&node);
    let methods: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("skein_http_requests_total{"))
        .filter_map(|l| l.split("method=\"").nth(1)?.split('"').next())
        .collect();
    assert!(!methods.is_empty(), "{text}");
    for m in &methods {
        assert!(
            ["GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH", "other"].contains(m),
            "method label {m:?}:\n{text}"
        );
    }
    assert!(
        !text.contains("FOOBAR") && !text.contains("FOOBAZ"),
        "{text}"
    );
    assert!(!text.contains("/no/such"), "{text}");
    let other = m
        .iter()
        .filter(|(k, _)| k.starts_with("skein_http_requests_total{") && k.contains("\"other\""))
        .map(|(_, v)| v)
        .sum::<f64>();
    assert_eq!(
        other, 3.0,
        "the three unknown methods are counted as other:\n{text}"
    );
    assert!(
        m.iter().any(|(k, v)| k.contains("route=\"unmatched\"")
            && k.contains("status=\"404\"")
            && *v == 2.0),
        "{text}"
    );
}

#[test]
fn role_term_and_per_follower_lag_on_a_leader_and_its_follower() {
    let cluster = Cluster::sized(2).start();
    let [a, b] = cluster.nodes();
    let b_lag_ops = "skein_replication_follower_lag_operations{follower=\"b\"}";
    let b_lag_bytes = "skein_replication_follower_lag_bytes{follower=\"b\"}";
    let role = |n: &Node, r: &str| {
        n.metrics()
            .get(&format!("skein_node_role{{role=\"{r}\"}}"))
            .copied()
    };
    wait_for(
        Duration::from_secs(60),
        "a leads, b follows and holds everything",
        || {
            let (ma, mb) = (a.metrics(), b.metrics());
            role(a, "leader") == Some(1.0)
                && role(b, "follower") == Some(1.0)
                && ma.get(b_lag_ops) == Some(&0.0)
                && ma.get(b_lag_bytes) == Some(&0.0)
                && mb.get("skein_replication_leader_connected") == Some(&1.0)
        },
    );
    let (ma, mb) = (a.metrics(), b.metrics());
    assert_eq!(ma["skein_node_role{role=\"follower\"}"], 0.0);
    assert_eq!(mb["skein_node_role{role=\"leader\"}"], 0.0);
    let term = ma["skein_node_term"];
    assert!(term >= 1.0, "{ma:?}");
    assert_eq!(
        term,
        a.health()["term"].as_f64().unwrap(),
        "as /health says"
    );
    assert_eq!(
        mb["skein_node_term"], term,
        "the follower knows the leader's term"
    );
    assert!(
        !mb.contains_key(b_lag_bytes),
        "a follower lists no followers"
    );

    // A frozen follower acknowledges nothing: the leader shows it behind
    // by the batch just stored (sessions end only after 10 s of silence).
    b.pause();
    let (status, body) = a.post("/ingest/clef", CLEF, EVENT);
    assert_eq!(status, 201, "{body}");
    let ma = a.metrics();
    b.resume();
    assert!(ma[b_lag_ops] >= 1.0, "{ma:?}");
    // At least one block: its 96-byte header and its payload.
    assert!(ma[b_lag_bytes] > 96.0, "{ma:?}");
    wait_for(Duration::from_secs(60), "b catches up", || {
        let ma = a.metrics();
        ma.get(b_lag_ops) == Some(&0.0) && ma.get(b_lag_bytes) == Some(&0.0)
    });
}
