//! Scale-out queries end to end: three real `skein` processes (a leader and
//! two followers) on a real PostgreSQL, and a standalone node given the
//! same events as the reference answer.
//!
//! - aggregating queries through the leader (and through a follower, which
//!   forwards them) equal the standalone node's answers, and the followers
//!   ran their shares (the leader's `skein_scale_out_*` metrics);
//! - a paused follower (SIGSTOP) changes no answer: the leader takes its
//!   share back once the follower is late;
//! - a follower's cluster port refuses share requests without the cluster
//!   key's proof (403), with a body other than the one signed (400), with a
//!   malformed body (400), and from a leader it does not follow in that
//!   term (503) — each with a clear error.

use std::time::Duration;

use skein::api::peer_proof::{Crossing, PeerProof};
use skein_actors::replication::ClusterKey;
use skein_harness::http::{exchange, request};
use skein_harness::{ingest_clef, Cluster, Node, CLUSTER_KEY};
use skein_wire::share::{body_digest, ShareRequest, SHARE_PATH};

const LIMIT: Duration = Duration::from_secs(60);
const EVENTS: usize = 24_000;
const BATCH: usize = 1_000;

const QUERIES: &[&str] = &[
    "select count(*) from stream",
    "select count(*), sum(Elapsed), min(Elapsed), max(Elapsed), mean(Elapsed) from stream group by App",
    "select count(*) as n from stream where Code >= 500 group by @Level, time(1h) order by n desc",
    "select distinct(Code) as codes, percentile(Elapsed, 95) as p95 from stream group by App",
    "select count(*) from stream where App = 'billing' and Elapsed > 100 and @Message like '%GET%'",
];

/// Batch `b` of the deterministic dataset (events an hour apart per 3,600).
fn batch(b: usize) -> String {
    let apps = ["checkout", "billing", "auth", "search", "mail"];
    let levels = ["Information", "Warning", "Error", "Debug"];
    let mut body = String::new();
    for i in b * BATCH..(b + 1) * BATCH {
        let x = (i as u64).wrapping_mul(2_654_435_761) % 1_000_003;
        body += &format!(
            "{{\"@t\":\"2025-03-01T{:02}:{:02}:{:02}Z\",\"@mt\":\"{} {{Path}} in {{Elapsed}}\",\"@l\":\"{}\",\
             \"App\":\"{}\",\"Code\":{},\"Elapsed\":{},\"Path\":\"/p/{}\"}}\n",
            (i / 3_600) % 24,
            (i / 60) % 60,
            i % 60,
            ["GET", "POST"][(x % 2) as usize],
            levels[(x % 4) as usize],
            apps[(x % 5) as usize],
            [200, 201, 404, 500, 503][(x % 7 % 5) as usize],
            x % 997,
            x % 13,
        );
    }
    body
}

fn answer(node: &Node, query: &str) -> serde_json::Value {
    let path = format!("/api/data?q={}", urlencode(query));
    let (status, body) = node.get(&path);
    assert_eq!(status, 200, "{query}: {body}");
    serde_json::from_str(&body).unwrap()
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn counter(node: &Node, name: &str) -> f64 {
    node.metrics()
        .get(&format!("skein_scale_out_{name}_total"))
        .copied()
        .unwrap_or_else(|| panic!("no skein_scale_out_{name}_total on {}", node.url()))
}

/// A leader and two followers holding the dataset, every share worth
/// splitting, and the standalone reference.
fn cluster_and_reference() -> (Cluster, Node) {
    let env = [("SKEIN_SCALE_OUT_MIN_EVENTS", "1000")]
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .into();
    let mut cluster = Cluster::sized(3).env(&env).configure();
    cluster.start_all();
    let reference = Node::standalone();
    for b in 0..EVENTS / BATCH {
        let body = batch(b);
        for node in [&cluster[0], &reference] {
            let (status, text) = ingest_clef(node.api, &body);
            assert_eq!(status, 201, "{text}");
        }
    }
    cluster.wait_generations(LIMIT, "the followers hold every event");
    (cluster, reference)
}

#[test]
fn split_queries_answer_as_one_node_and_survive_a_paused_follower() {
    let (cluster, reference) = cluster_and_reference();
    let leader = &cluster[0];
    for query in QUERIES {
        let want = answer(&reference, query);
        assert!(
            !want["Rows"].as_array().unwrap().is_empty(),
            "{query}: {want}"
        );
        assert_eq!(answer(leader, query), want, "{query} on the leader");
        assert_eq!(
            answer(&cluster[1], query),
            want,
            "{query} through a follower"
        );
    }
    // Every query was split three ways; each follower share was run there
    // or, late on a loaded machine, taken back — and followers ran some.
    let asked = 2.0 * QUERIES.len() as f64;
    assert_eq!(counter(leader, "queries"), asked);
    let (remote, taken_back) = (
        counter(leader, "shares_remote"),
        counter(leader, "shares_taken_back"),
    );
    assert_eq!(remote + taken_back, 2.0 * asked);
    assert!(remote > 0.0, "no follower ran a share");

    // A follower stops answering: the leader runs its share itself.
    cluster[2].pause();
    let query = QUERIES[1];
    let got = answer(leader, query);
    cluster[2].resume();
    assert_eq!(
        got,
        answer(&reference, query),
        "{query} with a paused follower"
    );
    assert!(counter(leader, "shares_taken_back") > taken_back);
}

/// The headers of a share request signed by `node` with the cluster key.
fn signed(node: &str, path_and_query: &str, term: u64) -> Vec<(String, String)> {
    signed_with(CLUSTER_KEY, node, path_and_query, term)
}

/// The headers of a share request signed by `node` with `key`.
fn signed_with(key: &str, node: &str, path_and_query: &str, term: u64) -> Vec<(String, String)> {
    let proof = PeerProof::new(ClusterKey::new(key).unwrap(), node);
    let term = term.to_string();
    let value = proof.sign(&Crossing {
        method: "POST",
        path_and_query,
        hops: "1",
        term: &term,
        forwarded_for: "",
    });
    vec![
        ("X-Skein-Peer-Proof".into(), value),
        ("X-Skein-Proxied".into(), "1".into()),
        ("X-Skein-Term".into(), term),
    ]
}

fn post(port: u16, path: &str, headers: &[(String, String)], body: &[u8]) -> (u16, String) {
    let headers: Vec<(&str, &str)> = headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    request(port, "POST", path, &headers, body)
}

#[test]
fn a_follower_refuses_share_requests_it_cannot_trust_or_serve() {
    let mut cluster = Cluster::sized(2).configure();
    cluster.start_all();
    cluster.wait_generations(LIMIT, "the follower connects");
    let term = cluster[0].health()["term"].as_u64().unwrap();
    let follower = cluster[1].cluster;
    let good = ShareRequest {
        term,
        below: 0,
        now: 0,
        query: "select count(*) from stream".into(),
        from: None,
        to: None,
        share: skein_store::search::Share::new(vec![(0, 10)]).unwrap(),
    }
    .encode()
    .unwrap();
    let path = |body: &[u8]| format!("{SHARE_PATH}?digest={}", body_digest(body));

    // Well signed, by the leader, in its term: run.
    let p = path(&good);
    let ok = exchange(
        follower,
        "POST",
        &p,
        &signed("a", &p, term)
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect::<Vec<_>>(),
        &good,
    );
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_eq!(ok.header("content-type"), Some("application/msgpack"));

    let refusals = [
        ("no proof", post(follower, &p, &[], &good), 403, "proof"),
        (
            "another key",
            post(
                follower,
                &p,
                &signed_with("another-key-0123456789", "a", &p, term),
                &good,
            ),
            403,
            "proof",
        ),
        (
            "a body other than the signed one",
            post(follower, &p, &signed("a", &p, term), b"\x90"),
            400,
            "digest",
        ),
        (
            "a malformed body",
            post(
                follower,
                &path(b"\x90"),
                &signed("a", &path(b"\x90"), term),
                b"\x90",
            ),
            400,
            "malformed",
        ),
        (
            "a node it does not follow",
            post(follower, &p, &signed("b", &p, term), &good),
            503,
            "does not follow b",
        ),
        (
            "another term",
            {
                let other = ShareRequest::decode(&good)
                    .map(|mut r| {
                        r.term = term + 1;
                        r.encode().unwrap()
                    })
                    .unwrap();
                let p = path(&other);
                post(follower, &p, &signed("a", &p, term + 1), &other)
            },
            503,
            "not a follower in term",
        ),
    ];
    for (what, (status, body), want, says) in refusals {
        assert_eq!(status, want, "{what}: {body}");
        assert!(body.contains(says), "{what}: {body}");
        assert!(body.contains("\"Error\""), "{what}: {body}");
    }
}

/// Equal, except that floating-point numbers may differ in their last
/// bits: a mean sums in whatever order the scan's parallel tasks (or the
/// nodes) meet, as a single node's parallel scan already does.
fn same_up_to_float_rounding(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    use serde_json::Value;
    match (a, b) {
        (Value::Number(x), Value::Number(y)) if x.is_f64() || y.is_f64() => {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            (x - y).abs() <= 1e-9 * x.abs().max(y.abs())
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|(x, y)| same_up_to_float_rounding(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| same_up_to_float_rounding(v, w)))
        }
        _ => a == b,
    }
}

/// Pins every thread of `node`'s process to `cpus` (threads made later
/// inherit it).
fn pin(node: &Node, cpus: &str) {
    let pid = node.pid().expect("a running node").to_string();
    let out = std::process::Command::new("taskset")
        .args(["-a", "-p", "-c", cpus, &pid])
        .output()
        .expect("taskset (util-linux)");
    assert!(out.status.success(), "{out:?}");
}

/// Times `query` on `node`: the best and the median of `runs`, after one
/// warm-up.
fn time_query(node: &Node, query: &str, runs: usize) -> (Duration, Duration) {
    answer(node, query);
    let mut took: Vec<Duration> = (0..runs)
        .map(|_| {
            let started = std::time::Instant::now();
            answer(node, query);
            started.elapsed()
        })
        .collect();
    took.sort();
    (took[0], took[runs / 2])
}

#[test]
#[ignore = "benchmark: scale-out speed-up, reported in the README (run with --release)"]
fn scale_out_speedup() {
    let events: u64 = std::env::var("SKEIN_BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000_000);
    let queries = [
        "select count(*), mean(Elapsed), max(StatusCode) from stream group by Application",
        "select count(*) from stream where @Message like '%ORD-1%' group by time(1h)",
    ];
    let mut cluster = Cluster::sized(2).configure();
    cluster.start_all();
    let single = Node::standalone();
    let bodies =
        skein_store::dataset::clef_bodies(events, 1_000, skein_store::dataset::DEFAULT_SEED);
    for body in &bodies {
        let body = std::str::from_utf8(body).unwrap();
        for node in [&cluster[0], &single] {
            let (status, text) = ingest_clef(node.api, body);
            assert_eq!(status, 201, "{text}");
        }
    }
    cluster.wait_generations(Duration::from_secs(600), "the follower holds every event");
    for query in queries {
        let (split, alone) = (answer(&cluster[0], query), answer(&single, query));
        assert!(
            same_up_to_float_rounding(&split, &alone),
            "{query}: {split} vs {alone}"
        );
    }
    let runs = 9;
    println!("{events} events, best and median of {runs}:");
    for query in queries {
        pin(&single, "0,1");
        let (both_best, both_median) = time_query(&single, query, runs);
        pin(&single, "0");
        let (one_best, one_median) = time_query(&single, query, runs);
        pin(&cluster[0], "0");
        pin(&cluster[1], "1");
        let (split_best, split_median) = time_query(&cluster[0], query, runs);
        pin(&cluster[0], "0,1");
        pin(&cluster[1], "0,1");
        println!("  {query}");
        println!(
            "    one node, one core (taskset -c 0):           best {one_best:?}, median {one_median:?}"
        );
        println!(
            "    leader on core 0 + follower on core 1:       best {split_best:?}, median {split_median:?} \
             (speed-up {:.2}x best, {:.2}x median)",
            one_best.as_secs_f64() / split_best.as_secs_f64(),
            one_median.as_secs_f64() / split_median.as_secs_f64()
        );
        println!(
            "    one node, both cores (no scale-out needed):  best {both_best:?}, median {both_median:?}"
        );
    }
}
