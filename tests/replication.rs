//! End-to-end tests of replication: two real `skein run` processes set up
//! with the CLI as the operator guide does (`node setup`, a leader and a
//! follower), each on its own ports and storage root.

use skein_harness::{
    cluster::assert_same_files, cluster::outgrow_history, fast_timing, node::files, request,
    wait_for, Cluster, Node, CLEF,
};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Ingests `batches` requests of `per_batch` events with poorly compressible
/// payloads of about `payload` bytes each.
fn ingest_noise(node: &Node, batches: usize, per_batch: usize, payload: usize) {
    skein_harness::cluster::ingest_noise(node, batches, per_batch, payload, "2026-01-01T00:00:00Z");
}

fn stream_bytes(node: &Node) -> u64 {
    files(&node.root().join("Stream"))
        .iter()
        .map(|(_, b)| b.len() as u64)
        .sum()
}

fn ingest(node: &Node, batches: usize, per_batch: usize) {
    for batch in 0..batches {
        let body: String = (0..per_batch)
            .map(|i| {
                format!(
                    "{{\"@t\":\"2026-01-01T00:00:{:02}.{:03}Z\",\"@mt\":\"Event {{N}} of batch {{B}}\",\"N\":{i},\"B\":{batch},\"Payload\":\"{}\"}}\n",
                    i % 60,
                    i % 1000,
                    "x".repeat(200)
                )
            })
            .collect();
        let (status, text) = request(
            node.api,
            "POST",
            "/ingest/clef",
            &[("Content-Type", CLEF)],
            body.as_bytes(),
        );
        assert_eq!(status, 201, "{text}\n{}", node.log());
    }
}

#[test]
fn the_follower_reaches_the_leaders_generation_with_byte_identical_files() {
    let mut cluster = Cluster::sized(2).start();
    let [a, b] = cluster.nodes_mut();
    assert_eq!(a.health()["role"], "Leader", "{}", a.log());
    assert_eq!(b.health()["role"], "Follower", "{}", b.log());
    ingest(a, 20, 50);
    let started = Instant::now();
    let target = a.generation();
    wait_for(
        Duration::from_secs(30),
        "the follower reaches the leader's generation",
        || b.generation() == target,
    );
    eprintln!("follower caught up to {target} in {:?}", started.elapsed());
    // New writes keep flowing while connected.
    ingest(a, 5, 10);
    let target = a.generation();
    wait_for(
        Duration::from_secs(30),
        "the follower follows new writes",
        || b.generation() == target,
    );
    let detail = a.health().to_string();
    assert!(detail.contains("b at"), "{detail}");
    a.stop();
    b.stop();
    assert_same_files(a, b);
}

#[test]
fn an_empty_follower_catches_up_and_resumes_after_a_crash() {
    let mut cluster = Cluster::sized(2).configure();
    let [a, b] = cluster.nodes_mut();
    a.start();
    ingest_noise(a, 40, 500, 1000);
    let (target, bytes) = (a.generation(), stream_bytes(a));
    let started = Instant::now();
    b.start();
    wait_for(
        Duration::from_secs(60),
        "the empty follower catches up",
        || b.generation() == target,
    );
    let took = started.elapsed();
    eprintln!(
        "catch-up of {:.1} MB to {target} in {took:?} (including process start): {:.0} MB/s",
        bytes as f64 / 1e6,
        bytes as f64 / 1e6 / took.as_secs_f64()
    );
    // A crashed follower resumes from its own generation.
    b.kill();
    ingest_noise(a, 10, 100, 1000);
    let target = a.generation();
    b.start();
    wait_for(
        Duration::from_secs(60),
        "the restarted follower catches up",
        || b.generation() == target,
    );
    a.stop();
    b.stop();
    assert_same_files(a, b);
}

/// The bytes a snapshot of `node`'s store copies: its segment files and
/// block directories (while nothing is written).
fn snapshot_bytes(node: &Node) -> u64 {
    files(&node.root().join("Stream"))
        .iter()
        .filter(|(name, _)| {
            name.starts_with("seg-") && (name.ends_with(".log") || name.ends_with(".idx"))
        })
        .map(|(_, b)| b.len() as u64)
        .sum()
}

/// An empty follower copying a snapshot shows how far it is: in
/// `/api/cluster` asked through either node (the follower publishes its
/// progress in its heartbeat row) with 0 < copied < total and the total the
/// snapshot's size, in its log every 2 s, and nowhere once the copy has
/// ended. The follower reaches the leader's cluster port through a proxy
/// that holds every read of at most 64 KB for 20 ms: the copy runs at most
/// about 3 MB/s, so it lasts seconds whatever the machine.
#[test]
fn an_empty_follower_copying_a_snapshot_shows_its_progress() {
    let mut cluster = Cluster::sized(2).linked().configure();
    let link = cluster.link(1).cluster;
    let [a, b] = cluster.nodes_mut();
    a.start();
    // The leader's history no longer reaches back to an empty store.
    outgrow_history(a);
    skein_harness::cluster::ingest_noise(a, 24, 1000, 1000, "2099-01-01T00:00:00Z");
    let (total, target) = (snapshot_bytes(a), a.generation());
    assert!(
        total > 16_000_000,
        "a snapshot of {total} bytes copies too fast"
    );

    link.delay(Duration::from_millis(20));
    b.start();
    let mut seen: Vec<(&str, serde_json::Value)> = Vec::new();
    let started = Instant::now();
    while b.generation() != target {
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "no catch-up in 300 s:\n{}",
            b.log()
        );
        for (via, node) in [("a", &a), ("b", &b)] {
            let (_, c) = node.json("/api/cluster");
            let entry = c["Nodes"]
                .as_array()
                .and_then(|n| n.iter().find(|r| r["Name"] == "b").cloned())
                .unwrap_or_default();
            if !entry["CatchUp"].is_null() {
                seen.push((via, entry["CatchUp"].clone()));
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let log = b.log();
    let midway = |via: &str| {
        seen.iter().any(|(v, c)| {
            let copied = c["CopiedBytes"].as_u64().unwrap_or(0);
            *v == via
                && 0 < copied
                && copied < total
                && c["TotalBytes"].as_u64() == Some(total)
                && c["BytesPerSecond"].as_u64() > Some(0)
                && c["EstimatedSecondsLeft"].is_u64()
                && c["StartedAt"].is_string()
                && c["Description"]
                    .as_str()
                    .is_some_and(|d| d.contains(" of ") && d.ends_with(" left"))
        })
    };
    assert!(
        midway("a") && midway("b"),
        "no progress midway through the copy seen through both nodes: {seen:?}\n{log}"
    );
    assert!(
        seen.iter()
            .all(|(_, c)| c["TotalBytes"].as_u64() == Some(total)),
        "{seen:?}"
    );
    let lines: Vec<&str> = log.lines().filter(|l| l.contains("catch-up: ")).collect();
    assert!(
        !lines.is_empty() && lines.iter().all(|l| l.contains(" of ") && l.contains("%)")),
        "the follower logs its progress every 2 s:\n{log}"
    );
    assert!(log.contains("snapshot installed at generation"), "{log}");
    eprintln!(
        "{} progress reports of a {total}-byte snapshot; the follower logged:\n{}",
        seen.len(),
        lines.join("\n")
    );
    // Installed: neither node shows a copy any more.
    link.delay(Duration::ZERO);
    wait_for(Duration::from_secs(30), "the progress is cleared", || {
        [&a, &b].iter().all(|node| {
            let (status, c) = node.json("/api/cluster");
            status == 200
                && c["Nodes"]
                    .as_array()
                    .is_some_and(|n| n.len() == 2 && n.iter().all(|r| r["CatchUp"].is_null()))
        })
    });
}

/// Catch-up rate of an empty follower (`SKEIN_CATCHUP_BATCHES` × 500 events of
/// ~1 KB of noise; default 400 ≈ 100 MB stored). Run with `--ignored --nocapture`.
#[test]
#[ignore = "benchmark: catch-up rate, reported in the README"]
fn catch_up_rate() {
    let batches = std::env::var("SKEIN_CATCHUP_BATCHES")
        .ok()
        .and_then(|b| b.parse().ok())
        .unwrap_or(400);
    let mut cluster = Cluster::sized(2).configure();
    let [a, b] = cluster.nodes_mut();
    a.start();
    ingest_noise(a, batches, 500, 1000);
    let (target, bytes) = (a.generation(), stream_bytes(a));
    let started = Instant::now();
    b.start();
    let up = started.elapsed();
    wait_for(
        Duration::from_secs(600),
        "the empty follower catches up",
        || b.generation() == target,
    );
    let took = started.elapsed();
    eprintln!(
        "catch-up of {:.1} MB ({target}) in {took:?} ({up:?} of it process start): {:.0} MB/s",
        bytes as f64 / 1e6,
        bytes as f64 / 1e6 / took.as_secs_f64()
    );
}

/// Runs `skein bench ingest` (the shared benchmark dataset, 1000-event
/// batches, 4 connections) against `node` with `args`; its throughput line's
/// events per second.
fn bench_ingest(node: &Node, args: &[&str]) -> f64 {
    let url = node.url();
    let mut all = vec!["bench", "ingest", "--url", url.as_str()];
    all.extend_from_slice(args);
    let out = node.ok(&all);
    eprint!("skein {}:\n{out}", all.join(" "));
    out.lines()
        .find_map(|l| l.strip_prefix("throughput:"))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.replace(',', "").parse().ok())
        .unwrap_or_else(|| panic!("no throughput in\n{out}"))
}

/// The store operations of a `model.write` generation.
fn ops(generation: &str) -> u64 {
    generation
        .split('.')
        .filter_map(|p| p.parse::<u64>().ok())
        .sum()
}

/// Replication lag at half of this machine's single-node peak. In one run:
/// (1) the leader alone takes `skein bench ingest` (1M events in 1000-event
/// batches, 4 connections) at full speed: its peak; (2) the follower starts and catches
/// up; (3) `skein bench ingest --rate PEAK/2` runs for `SKEIN_LAG_SECONDS`
/// (default 25) while a probe posts a one-event batch every 50 ms and, from
/// each 201, times how long until the follower's `/health` shows the
/// leader's generation read right after that 201 (an upper bound for that
/// write). Run with `--ignored --nocapture`.
#[test]
#[ignore = "benchmark: replication lag, reported in the README"]
fn replication_lag_under_ingestion() {
    let seconds: f64 = std::env::var("SKEIN_LAG_SECONDS")
        .ok()
        .and_then(|b| b.parse().ok())
        .unwrap_or(25.0);
    let mut cluster = Cluster::sized(2).configure();
    let [a, b] = cluster.nodes_mut();
    a.start();
    let peak = bench_ingest(
        a,
        &["--events", "1m", "--batch", "1000", "--connections", "4"],
    );
    let rate = peak / 2.0;
    b.start();
    let target = a.generation();
    wait_for(
        Duration::from_secs(120),
        "the follower catches up before the measurement",
        || b.generation() == target,
    );

    let (tx, rx) = std::sync::mpsc::channel::<(u64, Instant)>();
    let follower_port = b.api;
    let watcher = std::thread::spawn(move || {
        let mut pending: Vec<(u64, Instant)> = Vec::new();
        let mut lags = Vec::new();
        let mut done = false;
        while !(done && pending.is_empty()) {
            loop {
                match rx.try_recv() {
                    Ok(p) => pending.push(p),
                    Err(std::sync::mpsc::TryRecvError::Empty) => break,
                    Err(std::sync::mpsc::TryRecvError::Disconnected) => {
                        done = true;
                        break;
                    }
                }
            }
            let body = request(follower_port, "GET", "/health", &[], b"").1;
            let h: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
            let at = ops(h["generation"].as_str().unwrap_or(""));
            let now = Instant::now();
            pending.retain(|(g, t)| {
                if *g <= at {
                    lags.push(now.duration_since(*t));
                    false
                } else {
                    true
                }
            });
            std::thread::sleep(Duration::from_millis(5));
        }
        lags
    });
    let events = ((rate * seconds) as u64).max(1000).to_string();
    let rate_arg = format!("{rate:.0}");
    let load = {
        let mut cmd = a.command();
        cmd.args(["bench", "ingest", "--url", &a.url(), "--batch", "1000"])
            .args([
                "--connections",
                "4",
                "--events",
                &events,
                "--rate",
                &rate_arg,
            ])
            .args(["--seed", "7"])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        cmd.spawn().expect("start skein bench ingest")
    };
    let mut load = load;
    let mut probe = 0u64;
    while load.try_wait().expect("bench ingest").is_none() {
        let body =
            format!("{{\"@t\":\"2026-01-01T00:00:00Z\",\"@mt\":\"Probe {{P}}\",\"P\":{probe}}}\n");
        let (status, text) = request(
            a.api,
            "POST",
            "/ingest/clef",
            &[("Content-Type", CLEF)],
            body.as_bytes(),
        );
        let acked = Instant::now();
        assert_eq!(status, 201, "{text}");
        tx.send((ops(&a.generation()), acked)).unwrap();
        probe += 1;
        std::thread::sleep(Duration::from_millis(50));
    }
    drop(tx);
    let out = load.wait_with_output().unwrap();
    let report = String::from_utf8_lossy(&out.stdout);
    eprint!("skein bench ingest --rate {rate_arg} --events {events}:\n{report}");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut lags = watcher.join().unwrap();
    lags.sort();
    let pct = |p: f64| lags[((lags.len() as f64 * p) as usize).min(lags.len() - 1)];
    eprintln!(
        "single-node peak {peak:.0} events/s; at {rate:.0} events/s (50%) replication lag over {} probes: p50 {:?}, p99 {:?}, max {:?}",
        lags.len(),
        pct(0.5),
        pct(0.99),
        lags[lags.len() - 1]
    );
    wait_for(
        Duration::from_secs(120),
        "the follower catches up at the end",
        || b.generation() == a.generation(),
    );
}

#[test]
fn a_follower_with_a_wrong_cluster_key_is_refused_and_counted() {
    let cluster = Cluster::sized(2).key(1, "not-the-cluster-key").start();
    let [a, b] = cluster.nodes();
    ingest(a, 3, 10);
    wait_for(
        Duration::from_secs(30),
        "the leader counts two invalid keys",
        || {
            let h = a.health().to_string();
            [
                "invalid key 2",
                "invalid key 3",
                "invalid key 4",
                "invalid key 5",
            ]
            .iter()
            .any(|s| h.contains(s))
        },
    );
    assert_eq!(b.generation(), "0.0", "{}", b.log());
    let h = a.health().to_string();
    assert!(h.contains("established 0"), "{h}");
    assert!(
        b.log().contains("does not know the cluster key"),
        "{}\n-----\n{}",
        b.log(),
        a.log()
    );
}

/// `/metrics` of `node` as sample (name with labels) → value.
#[test]
fn replication_metrics_agree_with_the_cluster_api() {
    let cluster = Cluster::sized(2).env(&fast_timing()).start();
    let [a, b] = cluster.nodes();
    ingest(a, 5, 20);
    let b_connected = "skein_replication_follower_connected{follower=\"b\"}";
    let b_lag = "skein_replication_follower_lag_operations{follower=\"b\"}";
    let mut last = String::new();
    wait_for(
        Duration::from_secs(60),
        "both nodes' metrics agree with /api/cluster",
        || {
            let (_, c) = a.json("/api/cluster");
            let row = |name: &str| {
                c["Nodes"]
                    .as_array()
                    .and_then(|n| n.iter().find(|r| r["Name"] == name).cloned())
                    .unwrap_or_default()
            };
            let (ra, rb) = (row("a"), row("b"));
            let (ma, mb) = (a.metrics(), b.metrics());
            let m = |m: &HashMap<String, f64>, k: &str| m.get(k).copied();
            let count = |r: &serde_json::Value, k: &str| r[k].as_f64();
            let generation = a.generation();
            last = format!("{c}\n{ma:?}\n{mb:?}");
            rb["IsUpToDate"] == true
                && rb["Generation"] == generation.as_str()
                && b.generation() == generation
                && m(&ma, b_connected) == Some(1.0)
                && m(&ma, b_lag) == Some(0.0)
                && m(&mb, "skein_replication_leader_connected") == Some(1.0)
                && m(&mb, "skein_replication_leader_lag_operations") == Some(0.0)
                && m(&ma, "skein_replication_sessions_accepted_total")
                    == count(&ra, "ConnectionsAccepted")
                && m(&ma, "skein_replication_sessions_invalid_key_total")
                    == count(&ra, "ConnectionsRejectedInvalidKey")
                && m(&ma, "skein_replication_sessions_established_total")
                    == count(&ra, "ConnectionsEstablished")
                && m(&ma, "skein_replication_sessions_established_total") >= Some(1.0)
        },
    );
    let (ma, mb) = (a.metrics(), b.metrics());
    let sent = ma["skein_replication_sent_bytes_total"];
    let received = mb["skein_replication_received_bytes_total"];
    assert!(
        received > 0.0 && received <= sent,
        "{received} of {sent}\n{last}"
    );
    assert!(ma["skein_replication_sent_frames_total"] > 0.0, "{last}");
    assert!(
        ma.contains_key("skein_replication_snapshot_sent_bytes_total"),
        "{last}"
    );
    // Heartbeats (every second) are acknowledged: both ages stay small.
    let ack_age = "skein_replication_follower_last_ack_age_seconds{follower=\"b\"}";
    assert!(ma[ack_age] < 5.0, "{last}");
    assert!(
        mb["skein_replication_leader_last_sync_age_seconds"] < 5.0,
        "{last}"
    );
    // Each node shows only its own side.
    assert!(
        !ma.contains_key("skein_replication_leader_connected"),
        "{last}"
    );
    assert!(!mb.contains_key(b_connected), "{last}");
}
