//! End to end: one real node leading a cluster whose metastore is a real
//! PostgreSQL database. `/api/cluster` and `/health/cluster` show it as the
//! leader with no up-to-date follower; when a second node takes leadership
//! with `skein node lead`, the first stops accepting writes (fencing). A
//! follower keeping up under continuous ingestion is shown up to date.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde_json::Value;
use skein_harness::{fast_timing, free_port, ingest_clef, wait_for, Cluster, Node, TestDatabase};

const EVENT: &[u8] = b"{\"@t\":\"2025-01-01T00:00:00Z\",\"@mt\":\"Hello {Name}\",\"Name\":\"x\"}";

/// A node's internal API and cluster ports (the internal API is bound too,
/// so a peer can proxy to it whatever port the harness listens on).
struct Ports {
    api: u16,
    cluster: u16,
}

impl Ports {
    fn free() -> Ports {
        Ports {
            api: free_port(),
            cluster: free_port(),
        }
    }
}

/// The guide's configuration, run through `run` (a node's CLI).
fn configure(
    run: impl Fn(&[&str]) -> String,
    key: &str,
    db: &str,
    name: &str,
    me: &Ports,
    peer: &Ports,
) {
    run(&["config", "set", "-k", "storage.secretKey", "-v", key]);
    let pg = "metastore.postgres.connectionString";
    run(&["secret", "set", "-k", pg, "-v", db]);
    let args = [
        "node".to_string(),
        "setup".into(),
        "--cluster-listen".into(),
        format!("ws://127.0.0.1:{}", me.cluster),
        "--internal-api".into(),
        format!("http://127.0.0.1:{}", me.api),
        "--peer-cluster".into(),
        format!("ws://127.0.0.1:{}", peer.cluster),
        "--peer-internal-api".into(),
        format!("http://127.0.0.1:{}", peer.api),
        "-k".into(),
        "cluster-key-0123456789".into(),
        "--node-name".into(),
        name.into(),
    ];
    run(&args.iter().map(String::as_str).collect::<Vec<_>>());
}

fn json(server: &Node, path: &str) -> (u16, Value) {
    let (status, body) = server.get(path);
    let value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path}: {e}: {body}"));
    (status, value)
}

#[test]
fn a_leader_shows_itself_and_is_fenced_when_another_node_takes_over() {
    let db = TestDatabase::create();
    let env = HashMap::from([
        ("SKEIN_CLUSTER_HEARTBEAT_MS".to_string(), "200".to_string()),
        ("SKEIN_CLUSTER_LEASE_MS".to_string(), "3000".to_string()),
    ]);
    let mut first = Node::standalone_with(env);
    let key = first.ok(&["show-key", "--generate"]).trim().to_string();
    let (pa, pb) = (Ports::free(), Ports::free());
    configure(|a| first.ok(a), &key, &db.url, "node-a", &pa, &pb);
    assert!(first.ok(&["node", "lead"]).contains("term 1"));
    first.restart();

    let (status, _) = first.post("/api/events/raw?clef", "application/json", EVENT);
    assert_eq!(status, 201, "{}", first.log());
    let (_, health) = json(&first, "/health");
    let (status, cluster) = json(&first, "/api/cluster");
    assert_eq!(status, 200, "{cluster}");
    let me = &cluster["Nodes"][0];
    assert_eq!(me["Name"], "node-a", "{cluster}");
    assert_eq!(me["Role"], "Leader", "{cluster}");
    assert_eq!(me["Generation"], health["generation"], "{cluster} {health}");
    assert_eq!(me["IsUpToDate"], true, "{cluster}");
    let notes = cluster["Notifications"].to_string();
    assert!(notes.contains("no up-to-date follower"), "{cluster}");
    let (status, h) = json(&first, "/health/cluster");
    assert_eq!(
        (status, &h["Status"]),
        (200, &Value::from("Degraded")),
        "{h}"
    );
    assert!(h["Description"]
        .to_string()
        .contains("no up-to-date follower"));

    let second = Node::new("node");
    configure(|a| second.ok(a), &key, &db.url, "node-b", &pb, &pa);
    // node-a's lease still runs: `node lead` waits it out before it returns,
    // by which time node-a must have stopped acknowledging writes.
    let taken = Instant::now();
    let lead = second.ok(&["node", "lead"]);
    assert!(
        lead.contains("node-b leads the cluster in term 2"),
        "{lead}"
    );
    assert!(
        lead.contains("for the previous leader's lease to run out"),
        "{lead}"
    );
    eprintln!("node lead returned after {:?}", taken.elapsed());
    let (status, _) = first.post("/api/events/raw?clef", "application/json", EVENT);
    assert_eq!(
        status,
        503,
        "the old leader acknowledged a write after node lead returned:\n{}",
        first.log()
    );
    assert!(first.log().contains("leadership lost"), "{}", first.log());
    // Its heartbeat row says so too (its own /api/cluster is now proxied).
    let started = Instant::now();
    while !first
        .ok(&["node", "status"])
        .contains("node-a  role=follower term=2")
    {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{}",
            first.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn demote_hands_leadership_to_the_follower() {
    let db = TestDatabase::create();
    let env = HashMap::from([("SKEIN_CLUSTER_HEARTBEAT_MS".to_string(), "200".to_string())]);
    let mut a = Node::standalone_with(env.clone());
    let mut b = Node::standalone_with(env);
    let key = a.ok(&["show-key", "--generate"]).trim().to_string();
    let (pa, pb) = (Ports::free(), Ports::free());
    configure(|x| a.ok(x), &key, &db.url, "node-a", &pa, &pb);
    configure(|x| b.ok(x), &key, &db.url, "node-b", &pb, &pa);
    a.ok(&["node", "lead"]);
    a.restart();
    b.restart();
    let started = Instant::now();
    while !b.ok(&["node", "status"]).contains("node-b  role=follower") {
        assert!(started.elapsed() < Duration::from_secs(5), "{}", b.log());
        std::thread::sleep(Duration::from_millis(100));
    }
    let (status, _) = a.post("/api/events/raw?clef", "application/json", EVENT);
    assert_eq!(status, 201, "{}", a.log());
    // The follower catches up: the cluster becomes healthy and the
    // generations match ("up to date" alone allows the follower to hold
    // what the leader had up to 2 s ago).
    let started = Instant::now();
    loop {
        let (_, h) = json(&a, "/api/cluster");
        if h["Status"] == "Healthy" && h["Nodes"][1]["Generation"] == h["Nodes"][0]["Generation"] {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{h}\n{}",
            b.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let (_, cluster) = json(&a, "/api/cluster");
    assert_eq!(cluster["Nodes"][1]["IsUpToDate"], true, "{cluster}");
    assert_eq!(
        cluster["Nodes"][1]["Generation"],
        cluster["Nodes"][0]["Generation"]
    );
    let url = a.url().clone();
    let out = a.ok(&["node", "demote", "--url", &url, "--wait"]);
    assert!(out.contains("stopped accepting writes"), "{out}");
    assert!(out.contains("node-b reached generation"), "{out}");
    assert!(
        out.contains("handed leadership to node-b in term 2"),
        "{out}"
    );
    assert!(out.contains("node-b leads in term 2."), "{out}");
    let status = b.ok(&["node", "status"]);
    assert!(status.contains("node-b"), "{status}");
    // The old leader now proxies to the new one, which accepts the write.
    let started = Instant::now();
    loop {
        let (status, body) = a.post("/api/events/raw?clef", "application/json", EVENT);
        if status == 201 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{status} {body}\n{}\n{}",
            a.log(),
            b.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let (_, cluster) = json(&b, "/api/cluster");
    assert_eq!(
        cluster["Nodes"][0]["Name"], "node-b",
        "served by node-b: {cluster}"
    );
    assert_eq!(cluster["Nodes"][0]["Role"], "Leader", "{cluster}");
    // Its state is its own, not its ended follower session's.
    let started = Instant::now();
    loop {
        let (_, cluster) = json(&b, "/api/cluster");
        let state = cluster["Nodes"][0]["StateDescription"].to_string();
        if state.contains("leading in term 2") {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(5), "{cluster}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `POST /api/cluster/demote` with `Accept: application/x-ndjson` on `port`:
/// each JSON line of the answer with the time it arrived (read as it
/// streams), and the answer's head.
fn demote_lines(port: u16, query: &str) -> (String, Vec<(Instant, Value)>) {
    use std::io::{BufRead as _, BufReader, Write as _};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    write!(
        s,
        "POST /api/cluster/demote?{query} HTTP/1.1\r\nHost: test\r\nAccept: application/x-ndjson\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut reader = BufReader::new(s);
    let mut head = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap() == 0 || line == "\r\n" {
            break;
        }
        head.push_str(&line);
    }
    let mut lines = Vec::new();
    for line in reader.lines() {
        let line = line.expect("read the answer");
        // Chunk sizes and chunk ends are not JSON; every step is one chunk.
        if line.trim_start().starts_with('{') {
            let value: Value = serde_json::from_str(line.trim()).expect("a JSON line");
            lines.push((Instant::now(), value));
        }
    }
    (head, lines)
}

#[test]
fn demote_streams_its_steps_as_they_happen_directly_through_a_proxy_and_in_the_cli() {
    let cluster = Cluster::sized(2).env(&fast_timing()).start();
    let [a, b] = cluster.nodes();
    let healthy = |n: &Node| n.json("/health/cluster").1["Status"] == "Healthy";
    wait_for(Duration::from_secs(20), "a healthy cluster", || healthy(a));

    // A demotion towards a node that never catches up (`ghost`) waits
    // `catchUpSeconds`: its first step must arrive long before its end,
    // asked of the leader and through the follower's proxy alike.
    for (via, port) in [("the leader", a.api), ("the follower's proxy", b.api)] {
        let asked = Instant::now();
        let (head, lines) = demote_lines(port, "to=ghost&catchUpSeconds=3");
        assert!(head.starts_with("HTTP/1.1 200"), "{via}: {head}");
        assert!(
            head.to_ascii_lowercase()
                .contains("content-type: application/x-ndjson"),
            "{via}: {head}"
        );
        assert!(lines.len() >= 2, "{via}: {lines:?}");
        let (first_at, first) = &lines[0];
        let (last_at, last) = lines.last().unwrap();
        assert!(
            first["Step"]
                .as_str()
                .unwrap_or("")
                .starts_with("stopped accepting writes"),
            "{via}: {lines:?}"
        );
        assert!(
            last["Error"].as_str().unwrap_or("").contains("ghost"),
            "{via}: {last}"
        );
        assert!(
            first_at.duration_since(asked) < Duration::from_millis(2000),
            "{via}: the first step came only after {:?}",
            first_at.duration_since(asked)
        );
        assert!(
            last_at.duration_since(*first_at) >= Duration::from_millis(2500),
            "{via}: the steps were not streamed: {:?} between the first and the last",
            last_at.duration_since(*first_at)
        );
        wait_for(Duration::from_secs(20), "a leads on", || healthy(a));
    }

    // A real hand-over with the follower frozen: `skein node demote` prints
    // the first step while the follower cannot catch up, the last only
    // after it is thawed.
    b.pause();
    let (status, body) = a.post("/api/events/raw?clef", "application/json", EVENT);
    assert_eq!(status, 201, "{body}");
    let mut child = a
        .command()
        .args(["node", "demote", "--url", &a.url()])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start node demote");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        use std::io::BufRead as _;
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            let _ = tx.send((Instant::now(), line));
        }
    });
    let mut seen = Vec::new();
    let first_step = loop {
        let (at, line) = rx
            .recv_timeout(Duration::from_secs(20))
            .unwrap_or_else(|e| panic!("no step printed ({e}): {seen:?}"));
        seen.push(line.clone());
        if line.contains("stopped accepting writes") {
            break at;
        }
    };
    std::thread::sleep(Duration::from_millis(1500));
    let thawed = Instant::now();
    b.resume();
    let status = child.wait().unwrap();
    reader.join().unwrap();
    let rest: Vec<(Instant, String)> = rx.try_iter().collect();
    seen.extend(rest.iter().map(|(_, l)| l.clone()));
    assert!(status.success(), "{seen:?}\n{}", a.log());
    assert!(first_step < thawed);
    let (last_at, last) = rest.last().expect("more lines after the first step");
    assert!(last.contains("Leadership handed to b"), "{seen:?}");
    assert!(
        *last_at > thawed,
        "the last line came before the follower was thawed: {seen:?}"
    );
}

#[test]
fn under_continuous_ingestion_a_keeping_up_follower_is_up_to_date() {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
    use std::sync::Arc;
    let cluster = Cluster::sized(2).env(&fast_timing()).start();
    let [a, b] = cluster.nodes();
    let healthy = |n: &Node| n.json("/api/cluster").1["Status"] == "Healthy";
    wait_for(Duration::from_secs(30), "a leads a healthy cluster", || {
        a.health()["role"] == "Leader" && healthy(a)
    });
    let stop = Arc::new(AtomicBool::new(false));
    let acked = Arc::new(AtomicUsize::new(0));
    let writer = {
        let (stop, acked, port) = (stop.clone(), acked.clone(), a.api);
        std::thread::spawn(move || {
            while !stop.load(SeqCst) {
                let body = "{\"@t\":\"2026-01-01T00:00:00Z\",\"@mt\":\"load\"}\n";
                if ingest_clef(port, body).0 == 201 {
                    acked.fetch_add(1, SeqCst);
                }
            }
        })
    };
    std::thread::sleep(Duration::from_secs(1));
    let (mut polls, mut good, mut seen) = (0, 0, Vec::new());
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(5) {
        let (_, view) = a.json("/api/cluster");
        polls += 1;
        let follower = view["Nodes"]
            .as_array()
            .and_then(|n| n.iter().find(|n| n["Name"] == "b"))
            .cloned()
            .unwrap_or_default();
        if view["Status"] == "Healthy" && follower["IsUpToDate"] == true {
            good += 1;
        } else {
            seen.push(view.to_string());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let during = acked.load(SeqCst);
    stop.store(true, SeqCst);
    writer.join().unwrap();
    eprintln!("{good}/{polls} polls healthy while {during} batches were acknowledged");
    assert!(during > 50, "too little ingestion to judge: {during}");
    assert!(
        good * 10 >= polls * 9,
        "{good}/{polls} polls healthy; e.g. {:?}\n--- b\n{}",
        seen.first(),
        b.log()
    );
}
