//! End to end: fail-over by hand and what follows it, with real `skein`
//! processes, a real PostgreSQL metastore (a fresh database per test) and
//! real signals.
//!
//! - kill -9 the leader, `skein node lead` on the follower: every event
//!   that had reached the follower is searchable there, and it takes writes;
//! - the old leader returns holding acknowledged events the new leader never
//!   received: it sets that divergent tail aside (a CLEF file under
//!   `<storage>/Divergent`, holding exactly those events, which `skein
//!   ingest` takes back), follows, and ends byte-identical to the new leader;
//! - an empty node replacing a lost one catches up fully;
//! - a non-empty follower whose position the leader's history no longer
//!   reaches (retention deleted it) copies a snapshot instead of being refused;
//! - a follower holding another store moves it aside whole and copies the leader's;
//! - `node lead` while the old leader, cut off from PostgreSQL, still
//!   writes: the new leader acknowledges nothing before the old one's last
//!   acknowledgement, and no acknowledged event is lost;
//! - `node follow` on a running leader hands leadership over gracefully and
//!   the node stays a follower across a restart; on a stopped node the
//!   metastore names leader it is refused (unless `--force`);
//! - server-wide settings changed through either node act on every node:
//!   a retention period lengthened through the follower deletes nothing
//!   inside it once that follower leads, and the ingestion settings hold
//!   on a new leader from its first request.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Duration;

use skein_harness::{
    cluster::assert_same_files, cluster::ingest_noise, cluster::outgrow_history, fast_timing,
    http::ingest_clef_answer, ingest_clef, request, wait_for, Cluster, Node, TestDatabase,
    CLUSTER_KEY,
};
use skein_store::event::timestamp::format_timestamp;
use skein_store::Timestamp;

const LIMIT: Duration = Duration::from_secs(60);

/// Ingests `batches` acknowledged batches of `per` events tagged
/// `K = "<tag>-<batch>-<i>"`; returns the keys.
fn ingest(node: &Node, tag: &str, batches: usize, per: usize) -> BTreeSet<String> {
    let mut keys = BTreeSet::new();
    for b in 0..batches {
        let mut body = String::new();
        for i in 0..per {
            let k = format!("{tag}-{b}-{i}");
            body.push_str(&format!(
                "{{\"@t\":\"2026-01-01T00:00:00Z\",\"@mt\":\"Event {{K}}\",\"K\":\"{k}\"}}\n"
            ));
            keys.insert(k);
        }
        let (status, text) = ingest_clef(node.api, &body);
        assert_eq!(status, 201, "{text}\n{}", node.log());
    }
    keys
}

/// The `K` of every event a CLEF text holds.
fn keys_in(clef: &str) -> BTreeSet<String> {
    clef.lines()
        .filter(|l| !l.trim().is_empty())
        .filter_map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            v["K"].as_str().map(str::to_owned)
        })
        .collect()
}

/// The `K` of every event a (leading) node finds.
fn keys_on(node: &Node) -> BTreeSet<String> {
    let (status, body) = node.get("/api/events?clef&count=10000");
    assert_eq!(status, 200, "{body}");
    assert!(body.lines().count() < 10000, "more events than one page");
    keys_in(&body)
}

fn wait_role(node: &mut Node, role: &str) {
    wait_for(LIMIT, &format!("{} is {role}", node.name), || {
        node.assert_running();
        node.health()["role"] == role
    });
}

fn wait_caught_up(follower: &Node, leader: &Node) {
    let target = leader.generation();
    assert!(!target.is_empty());
    wait_for(
        LIMIT,
        &format!(
            "{} reaches {}'s generation {target}",
            follower.name, leader.name
        ),
        || follower.generation() == target,
    );
}

/// `skein node lead` on a (running or stopped) node, which must take
/// leadership in a new term.
fn lead(node: &Node) {
    let out = node.ok(&["node", "lead"]);
    assert!(out.contains("leads the cluster in term"), "{out}");
}

/// The files a node set aside under `<storage>/Divergent`.
fn set_aside(node: &Node) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(node.root().join("Divergent"))
        .map(|d| d.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    v.sort();
    v
}

#[test]
fn killing_the_leader_then_node_lead_keeps_every_event_the_follower_had() {
    let mut cluster = Cluster::sized(2).env(&fast_timing()).start();
    let [a, b] = cluster.nodes_mut();
    wait_role(a, "Leader");
    let mut acked = ingest(a, "before", 10, 20);
    // An acknowledgement names the node that stored the events and its
    // term, also when the follower forwarded the request.
    let (by, old_term) = acknowledged_by(b, "via-b");
    assert_eq!(by, "a", "the leader stored what the follower forwarded");
    assert_eq!(acknowledged_by(a, "on-a"), ("a".to_string(), old_term));
    acked.extend(["via-b".to_string(), "on-a".to_string()]);
    wait_caught_up(b, a);
    let reached = b.generation();
    a.kill();
    lead(b);
    wait_role(b, "Leader");
    assert_eq!(b.generation(), reached, "nothing was lost or added");
    assert_eq!(keys_on(b), acked, "every acknowledged event is searchable");
    // The new leader takes writes, in a newer term.
    let (by, new_term) = acknowledged_by(b, "new-term");
    assert!(
        by == "b" && new_term > old_term,
        "{by} {new_term} after {old_term}"
    );
    // /health says the role and its term in one answer (the chaos monitor
    // once read them from two requests and saw a leader in a term it had
    // just handed over).
    let health = b.health();
    assert_eq!(
        (health["role"].as_str(), health["term"].as_u64()),
        (Some("Leader"), Some(new_term))
    );
    let mut after = ingest(b, "after", 2, 5);
    after.insert("new-term".into());
    let all: BTreeSet<String> = acked.union(&after).cloned().collect();
    assert_eq!(keys_on(b), all);
}

/// Ingests one event `K = key` through `node`; the answer's
/// `X-Skein-Acked-By` and `X-Skein-Acked-Term`.
fn acknowledged_by(node: &Node, key: &str) -> (String, u64) {
    let body = format!("{{\"@t\":\"2026-01-01T00:00:00Z\",\"@mt\":\"k\",\"K\":\"{key}\"}}\n");
    let answer = ingest_clef_answer(node.api, &body);
    assert_eq!(answer.status, 201, "{}", answer.body);
    let by = answer.header("x-skein-acked-by").expect("X-Skein-Acked-By");
    let term = answer
        .header("x-skein-acked-term")
        .expect("X-Skein-Acked-Term");
    (by.to_owned(), term.parse().expect("a term"))
}

#[test]
fn an_old_leader_returning_with_a_divergent_tail_sets_it_aside_and_follows() {
    let mut cluster = Cluster::sized(2).env(&fast_timing()).start();
    let [a, b] = cluster.nodes_mut();
    wait_role(a, "Leader");
    let common = ingest(a, "common", 5, 10);
    wait_caught_up(b, a);
    // The follower misses what follows: frozen, then killed (so nothing in
    // flight reaches it), while the leader acknowledges three batches.
    b.pause();
    let lost = ingest(a, "lost", 3, 7);
    b.kill();
    a.kill();
    lead(b);
    b.start();
    wait_role(b, "Leader");
    assert_eq!(
        keys_on(b),
        common,
        "the new leader never had the lost batches"
    );
    let new = ingest(b, "new", 4, 5);

    // The old leader returns: it sets its divergent tail aside, then follows.
    a.start();
    wait_role(a, "Follower");
    wait_caught_up(a, b);
    let files = set_aside(a);
    let clef: Vec<&PathBuf> = files
        .iter()
        .filter(|p| p.extension().is_some_and(|x| x == "clef"))
        .collect();
    assert_eq!(clef.len(), 1, "{files:?}\n{}", a.log());
    let text = std::fs::read_to_string(clef[0]).unwrap();
    assert_eq!(
        keys_in(&text),
        lost,
        "exactly the events the new leader never had"
    );
    assert_eq!(text.lines().count(), lost.len(), "each once");
    assert!(a.log().contains("set aside 21 events"), "{}", a.log());
    let health = a.health().to_string();
    assert!(health.contains("set aside 21 events"), "{health}");
    // The cluster screen shows it in the old leader's state.
    wait_for(LIMIT, "/api/cluster shows the set-aside tail", || {
        b.get("/api/cluster").1.contains("set aside 21 events")
    });

    // The set-aside file is re-ingestable with `skein ingest`.
    let url = b.url();
    let path = clef[0].to_str().unwrap();
    b.ok(&["ingest", path, "--url", &url]);
    let all: BTreeSet<String> = common.iter().chain(&lost).chain(&new).cloned().collect();
    assert_eq!(keys_on(b), all);
    wait_caught_up(a, b);
    a.stop();
    b.stop();
    assert_same_files(a, b);
}

#[test]
fn an_empty_node_replacing_a_lost_one_catches_up_fully() {
    let db = TestDatabase::create();
    let mut cluster = Cluster::sized(2)
        .env(&fast_timing())
        .metastore(&db.url)
        .start();
    let [a, b] = cluster.nodes_mut();
    wait_role(a, "Leader");
    let acked = ingest(a, "kept", 8, 25);
    wait_caught_up(b, a);
    // `a` is lost with its disk; `b` leads; a new, empty node takes a's name.
    a.kill();
    std::fs::remove_dir_all(a.root()).expect("remove a's storage root");
    lead(b);
    wait_role(b, "Leader");
    let more = ingest(b, "more", 3, 10);
    let mut c = Node::new("a");
    c.env.extend(fast_timing());
    c.setup(b, CLUSTER_KEY, Some(&db.url));
    c.ok(&["node", "follow"]);
    c.start();
    wait_role(&mut c, "Follower");
    wait_caught_up(&c, b);
    let all: BTreeSet<String> = acked.union(&more).cloned().collect();
    assert_eq!(keys_on(b), all);
    assert!(set_aside(&c).is_empty(), "an empty node sets nothing aside");
    c.stop();
    b.stop();
    assert_same_files(b, &c);
}

/// Ingests about `mb` MB of poorly compressible events dated 2020.
fn ingest_old_noise(node: &Node, mb: usize) {
    ingest_noise(node, mb, 1000, 1000, "2020-01-01T00:00:00Z");
}

#[test]
fn a_non_empty_follower_behind_the_kept_history_copies_a_snapshot() {
    let mut cluster = Cluster::sized(2).env(&fast_timing()).start();
    let [a, b] = cluster.nodes_mut();
    wait_role(a, "Leader");
    ingest_old_noise(a, 2);
    wait_caught_up(b, a);
    let behind = b.generation();
    b.stop();
    outgrow_history(a);
    ingest(a, "kept", 2, 5);
    b.start();
    wait_role(b, "Follower");
    wait_caught_up(b, a);
    assert_ne!(b.generation(), behind);
    assert!(b.log().contains("copying a snapshot"), "{}", b.log());
    assert!(set_aside(b).is_empty(), "nothing only the follower held");
    a.stop();
    b.stop();
    assert_same_files(a, b);
}

/// Copies the folder `from` to `to` (which must not exist), recursively.
fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

#[test]
fn a_follower_holding_another_store_moves_it_aside_and_copies_the_leaders() {
    let mut cluster = Cluster::sized(2).env(&fast_timing()).start();
    let [a, b] = cluster.nodes_mut();
    wait_role(a, "Leader");
    let acked = ingest(a, "cluster", 4, 10);
    wait_caught_up(b, a);
    // A standalone node's store takes the place of the follower's.
    let mut x = Node::new("x");
    x.start();
    ingest(&x, "foreign", 3, 4);
    let foreign_at = x.generation();
    x.stop();
    b.stop();
    let stream = b.root().join("Stream");
    std::fs::remove_dir_all(&stream).unwrap();
    copy_dir(&x.root().join("Stream"), &stream);
    b.start();
    wait_role(b, "Follower");
    wait_caught_up(b, a);
    let moved = set_aside(b);
    assert_eq!(moved.len(), 1, "{moved:?}\n{}", b.log());
    let name = moved[0].file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        name.starts_with("store-") && name.ends_with(&format!("-at-{foreign_at}")),
        "{name}"
    );
    assert!(moved[0].join("manifest").exists());
    let health = b.health().to_string();
    assert!(health.contains("moved another store"), "{health}");
    assert_eq!(keys_on(a), acked);
    a.stop();
    b.stop();
    assert_same_files(a, b);
}

/// One acknowledged ingestion: when its 201 arrived, who acknowledged it
/// in which term, and the event's key.
struct Ack {
    at: std::time::SystemTime,
    by: String,
    term: u64,
    key: String,
}

/// Ingests one event per request into `port` until `stop`; every 201.
fn ingest_until(
    port: u16,
    tag: &'static str,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> std::thread::JoinHandle<Vec<Ack>> {
    std::thread::spawn(move || {
        let mut acks = Vec::new();
        let mut i = 0;
        while !stop.load(std::sync::atomic::Ordering::SeqCst) {
            i += 1;
            let key = format!("{tag}-{i}");
            let body =
                format!("{{\"@t\":\"2026-01-01T00:00:00Z\",\"@mt\":\"k\",\"K\":\"{key}\"}}\n");
            let answer = ingest_clef_answer(port, &body);
            let at = std::time::SystemTime::now();
            if answer.status != 201 {
                std::thread::sleep(Duration::from_millis(20));
                continue;
            }
            let by = answer.header("x-skein-acked-by").expect("X-Skein-Acked-By");
            let term = answer.header("x-skein-acked-term").expect("a term");
            acks.push(Ack {
                at,
                by: by.to_owned(),
                term: term.parse().expect("a term"),
                key,
            });
        }
        acks
    })
}

#[test]
fn node_lead_while_the_cut_off_leader_still_writes_never_makes_two_writers() {
    // `a` reaches PostgreSQL through a proxy that can blackhole the link.
    let mut cluster = Cluster::sized(2)
        .env(&fast_timing())
        .metastore_linked()
        .configure();
    let link = cluster.metastore_link(0);
    let [a, b] = cluster.nodes_mut();
    a.start();
    b.start();
    wait_role(a, "Leader");
    wait_role(b, "Follower");

    // Clients write into both nodes directly, all along.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writers = [
        ingest_until(a.api, "to-a", stop.clone()),
        ingest_until(b.api, "to-b", stop.clone()),
    ];
    std::thread::sleep(Duration::from_secs(1));
    // a can no longer reach PostgreSQL (nor tell that it lost leadership);
    // its lease still runs when b is told to lead.
    link.blackhole();
    let out = b.ok(&["node", "lead"]);
    assert!(
        out.contains("waiting") && out.contains("for the previous leader's lease to run out"),
        "{out}"
    );
    assert!(out.contains("b leads the cluster in term 2"), "{out}");
    wait_role(b, "Leader");
    std::thread::sleep(Duration::from_secs(2));
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let acks: Vec<Ack> = writers
        .into_iter()
        .flat_map(|w| w.join().unwrap())
        .collect();

    let last_old = acks.iter().filter(|k| k.by == "a").map(|k| k.at).max();
    let first_new = acks.iter().filter(|k| k.by == "b").map(|k| k.at).min();
    let (last_old, first_new) = (
        last_old.expect("a acknowledged"),
        first_new.expect("b acknowledged"),
    );
    assert!(
        first_new > last_old,
        "b acknowledged at {first_new:?}, before a's last acknowledgement at {last_old:?}"
    );
    assert!(acks
        .iter()
        .all(|k| (k.by.as_str(), k.term) == ("a", 1) || (k.by.as_str(), k.term) == ("b", 2)));

    // Healed, a follows b. Every acknowledged event is on the leader, or —
    // acknowledged by a just before it fenced itself, should b have been
    // promoted before a's session streamed them to it (a fenced leader
    // drains its sessions, and b follows while it waits out a's lease, so
    // this takes a replication lag longer than that wait) — set aside on a,
    // kept for export.
    link.heal();
    wait_role(a, "Follower");
    wait_caught_up(a, b);
    let acked: BTreeSet<String> = acks.iter().map(|k| k.key.clone()).collect();
    let on_b = keys_on(b);
    let aside: BTreeSet<String> = set_aside(a)
        .iter()
        .filter(|p| p.extension().is_some_and(|x| x == "clef"))
        .flat_map(|p| keys_in(&std::fs::read_to_string(p).unwrap()))
        .collect();
    eprintln!(
        "{} acknowledged, {} of them set aside on a: {aside:?}",
        acked.len(),
        acked.intersection(&aside).count()
    );
    let lost: Vec<&String> = acked
        .iter()
        .filter(|k| !on_b.contains(*k) && !aside.contains(*k))
        .collect();
    assert!(
        lost.is_empty(),
        "{} acknowledged events lost: {lost:?}",
        lost.len()
    );
}

#[test]
fn node_follow_hands_a_running_leaders_role_over_and_refuses_a_stopped_leader() {
    let mut cluster = Cluster::sized(2).env(&fast_timing()).start();
    let [a, b] = cluster.nodes_mut();
    wait_role(a, "Leader");
    let keys = ingest(a, "follow", 5, 20);
    wait_caught_up(b, a);

    // No --url: the command finds the running node from its local config
    // (the harness passes the API address to `skein run` in the
    // environment; an operator's skein.json holds it).
    a.ok(&["config", "set", "-k", "api.listenUris", "-v", &a.url()]);
    let out = a.ok(&["node", "follow"]);
    assert!(
        out.contains(&format!("{} leads in term", b.name))
            && out.contains("This node will follow the cluster's leader."),
        "{out}"
    );
    wait_role(b, "Leader");
    wait_role(a, "Follower");
    assert_eq!(keys_on(b), keys, "every event is on the new leader");
    a.stop();
    a.start();
    wait_role(a, "Follower");

    // The leader stopped: the metastore still names it, so `node follow`
    // would not stop it leading again at start; refused unless --force.
    b.stop();
    let refused = b.run(&["node", "follow"]);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        !refused.status.success() && stderr.contains("names this node"),
        "{stderr}"
    );
    let forced = b.ok(&["node", "follow", "--force"]);
    assert!(forced.contains("leads again when started"), "{forced}");
}

/// `PUT /api/settings/{name}` with `{"Value": value}` on `node`, which must
/// answer 200.
fn set_setting(node: &Node, name: &str, value: &str) {
    let (status, body) = request(
        node.api,
        "PUT",
        &format!("/api/settings/{name}"),
        &[("Content-Type", "application/json")],
        format!(r#"{{"Value":{value}}}"#).as_bytes(),
    );
    assert_eq!(status, 200, "{body}\n{}", node.log());
}

/// The term `node` reports on `/health`.
fn term_of(node: &Node) -> u64 {
    node.health()["term"].as_u64().expect("a term on /health")
}

/// The #13 data-loss defect: a node read `retention.period` once at start,
/// and a change served by the leader (a follower proxies it there) never
/// reached it; promoted later, it deleted segments by the stale period, and
/// the deletion replicated.
#[test]
fn a_retention_lengthened_through_the_follower_deletes_nothing_inside_it_after_fail_over() {
    let mut cluster = Cluster::sized(2).env(&fast_timing()).configure();
    let [a, b] = cluster.nodes_mut();
    a.start();
    set_setting(a, "retention.period", r#""1d""#);
    // The follower starts while the period is one day...
    b.start();
    wait_role(b, "Follower");
    // ...and the operator lengthens it through the follower.
    set_setting(b, "retention.period", r#""30d""#);
    wait_for(LIMIT, "the follower applies the new period", || {
        b.log().contains("retention.period is now 30d (was 1d)")
    });
    // Events three days old fill and seal the first segment: inside the
    // new period, outside the old one.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    let three_days_ago = now - Duration::from_secs(3 * 86_400);
    let stamp = format_timestamp(Timestamp(three_days_ago.as_nanos() as i64));
    ingest_noise(a, 90, 1000, 1000, &stamp);
    wait_caught_up(b, a);
    let first = |n: &Node| n.root().join("Stream").join("seg-000001.idx");
    assert!(
        first(b).exists(),
        "the first segment is sealed on the follower"
    );

    a.ok(&["node", "demote", "--url", &a.url(), "--wait"]);
    wait_role(b, "Leader");
    let term = term_of(b);
    // The new leader acts on retention only with settings it read in its
    // own term; its first upkeep after that keeps the segment.
    let line = format!("retention in term {term}: ");
    wait_for(LIMIT, "the new leader decides on retention", || {
        b.log().contains(&line)
    });
    let log = b.log();
    let decided = log.lines().find(|l| l.contains(&line)).unwrap();
    assert!(
        decided.contains("events older than 30d are deleted"),
        "{decided}"
    );
    // Upkeep runs on the decision itself; one more ingested batch and a
    // caught-up follower show it has run and replicated.
    let _ = ingest(b, "after", 1, 10);
    wait_caught_up(a, b);
    for node in [&a, &b] {
        assert!(
            first(node).exists(),
            "{} deleted events inside the retention period:\n{}",
            node.name,
            node.log()
        );
    }
    assert!(
        !b.log().contains("retention deleted segment"),
        "{}",
        b.log()
    );
}

/// `ingestion.requireApiKey` and `ingestion.minimumLevel`, changed through
/// either node, hold on the node that leads next from its first request,
/// and every node logs the change it applied.
#[test]
fn ingestion_settings_changed_through_either_node_hold_on_the_next_leader() {
    let mut cluster = Cluster::sized(2).env(&fast_timing()).start();
    let [a, b] = cluster.nodes_mut();
    wait_role(b, "Follower");
    set_setting(b, "ingestion.requireApiKey", "true");
    set_setting(b, "ingestion.minimumLevel", r#""Warning""#);
    for node in [&a, &b] {
        wait_for(LIMIT, "every node applies the settings", || {
            let log = node.log();
            log.contains("ingestion.requireApiKey is now true")
                && log.contains("ingestion.minimumLevel is now Warning")
        });
    }
    let event = |level: &str, k: &str| {
        format!("{{\"@t\":\"2026-01-01T00:00:00Z\",\"@l\":\"{level}\",\"@mt\":\"E {{K}}\",\"K\":\"{k}\"}}\n")
    };
    let (status, body) = ingest_clef(a.api, &event("Warning", "refused"));
    assert_eq!(status, 401, "{body}");

    a.ok(&["node", "demote", "--url", &a.url(), "--wait"]);
    wait_role(b, "Leader");
    let (status, body) = ingest_clef(b.api, &event("Warning", "refused-too"));
    assert_eq!(status, 401, "the new leader requires a key at once: {body}");

    // Cleared through the node that now follows: the leader applies it.
    set_setting(a, "ingestion.requireApiKey", "false");
    wait_for(
        LIMIT,
        "the leader applies the cleared key requirement",
        || b.log().contains("ingestion.requireApiKey is now false"),
    );
    let body = event("Information", "dropped") + &event("Warning", "kept");
    let (status, text) = ingest_clef(b.api, &body);
    assert_eq!(status, 201, "{text}");
    assert_eq!(
        keys_on(b),
        BTreeSet::from(["kept".to_string()]),
        "the new leader drops events below the minimum level"
    );
}
