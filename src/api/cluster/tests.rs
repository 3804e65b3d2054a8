//! The cluster view computed from node rows.

use super::*;

fn row(name: &str, role: &str, generation: (u64, u64), synced_ms_ago: Option<i64>) -> NodeRow {
    let now = Utc::now();
    NodeRow {
        name: name.into(),
        role: role.into(),
        term: 3,
        generation_model: generation.0,
        generation_write: generation.1,
        last_sync_at: synced_ms_ago.map(|ms| now - chrono::Duration::milliseconds(ms)),
        seen_at: Some(now),
        state: format!("{role} state"),
        accepted: 1,
        invalid_key: 2,
        established: 3,
        refusals: skein_actors::replication::RefusalCounts {
            malformed_handshake: 4,
            session_check: 5,
            forged_leader: 6,
            forged_forwarding: 7,
        },
        store_term: 1,
        ..NodeRow::default()
    }
}

fn leadership(leader: Option<&str>) -> Leadership {
    Leadership {
        term: 3,
        leader_node: leader.map(str::to_string),
        lease_expires_at: None,
        lease_valid: true,
        ..Leadership::vacant()
    }
}

fn live(pairs: &[(&str, bool)]) -> BTreeMap<String, bool> {
    pairs.iter().map(|(n, f)| (n.to_string(), *f)).collect()
}

#[test]
fn a_leader_alone_is_degraded_with_no_up_to_date_follower() {
    let me = row("a", "leader", (2, 5), None);
    let v = view(
        &me,
        &[],
        &leadership(Some("a")),
        &live(&[]),
        Utc::now(),
        &ClusterTiming::default(),
    );
    assert_eq!(v.status, "Degraded");
    assert_eq!(v.notifications, vec![NO_UP_TO_DATE_FOLLOWER.to_string()]);
    assert_eq!(v.nodes[0]["Role"], "Leader");
    assert_eq!(v.nodes[0]["Generation"], "2.5");
    assert_eq!(v.nodes[0]["ConnectionsRejectedInvalidKey"], 2);
}

#[test]
fn every_node_shows_its_own_refusal_counters_from_its_row() {
    let me = row("a", "leader", (2, 5), None);
    let mut follower = row("b", "follower", (2, 5), Some(100));
    follower.refusals.forged_leader = 60;
    let v = view(
        &me,
        &[follower],
        &leadership(Some("a")),
        &live(&[("b", true)]),
        Utc::now(),
        &ClusterTiming::default(),
    );
    let counts = |i: usize| {
        [
            "ConnectionsRejectedMalformedHandshake",
            "FramesRejectedSessionCheck",
            "ConnectionsRejectedForgedLeader",
            "RequestsRejectedForgedForwarding",
        ]
        .map(|k| v.nodes[i][k].as_u64())
    };
    assert_eq!(counts(0), [Some(4), Some(5), Some(6), Some(7)]);
    assert_eq!(v.nodes[1]["Name"], "b");
    assert_eq!(counts(1), [Some(4), Some(5), Some(60), Some(7)]);
}

#[test]
fn a_follower_is_up_to_date_as_the_live_replication_state_says() {
    let me = row("a", "leader", (2, 9), None);
    let t = ClusterTiming::default();
    let l = leadership(Some("a"));
    // Its row may lag the leader's generation: the live state decides.
    let b = [row("b", "follower", (2, 5), Some(200))];
    let v = view(&me, &b, &l, &live(&[("b", true)]), Utc::now(), &t);
    assert_eq!(v.status, "Healthy", "{v:?}");
    assert_eq!(v.nodes[1]["IsUpToDate"], true);
    assert!(v.nodes[1]["MillisecondsSinceLastSync"].as_u64().unwrap() >= 200);
    for flags in [live(&[("b", false)]), live(&[]), live(&[("c", true)])] {
        let v = view(&me, &b, &l, &flags, Utc::now(), &t);
        assert_eq!(v.status, "Degraded");
        assert_eq!(v.nodes[1]["IsUpToDate"], false);
    }
    // A follower's own view agrees.
    let me = row("b", "follower", (2, 5), Some(200));
    let a = [row("a", "leader", (2, 9), None)];
    let v = view(&me, &a, &l, &live(&[("b", true)]), Utc::now(), &t);
    assert_eq!(
        (v.status, &v.nodes[0]["IsUpToDate"]),
        ("Healthy", &json!(true))
    );
}

#[test]
fn a_stale_row_is_unreachable_and_no_leader_is_unhealthy() {
    let me = row("b", "follower", (1, 1), Some(10));
    let mut old = row("a", "leader", (1, 1), None);
    old.seen_at = Some(Utc::now() - chrono::Duration::seconds(60));
    let v = view(
        &me,
        &[old],
        &leadership(Some("a")),
        &live(&[]),
        Utc::now(),
        &ClusterTiming::default(),
    );
    assert_eq!(v.status, "Unhealthy");
    assert!(v.nodes[1]["StateDescription"]
        .as_str()
        .unwrap()
        .starts_with("unreachable"));
    assert!(v
        .notifications
        .iter()
        .any(|n| n.contains("node a is unreachable")));
}

#[test]
fn a_standalone_node_is_healthy() {
    let me = row("s", "standalone", (0, 0), None);
    let v = view(
        &me,
        &[],
        &leadership(None),
        &live(&[]),
        Utc::now(),
        &ClusterTiming::default(),
    );
    assert_eq!((v.status, v.notifications.len()), ("Healthy", 0));
    assert_eq!(v.nodes[0]["Role"], "Standalone");
}

#[test]
fn a_follower_copying_a_snapshot_shows_its_progress_while_its_heartbeat_is_fresh() {
    let me = row("a", "leader", (2, 9), None);
    let mut b = row("b", "follower", (0, 0), None);
    let started_at = Utc::now() - chrono::Duration::seconds(3);
    b.catch_up = Some(CatchUpProgress {
        copied_bytes: 812_000_000,
        total_bytes: 1_590_000_000,
        bytes_per_second: Some(270_000_000),
        seconds_left: Some(3),
        started_at,
    });
    let (l, t) = (leadership(Some("a")), ClusterTiming::default());
    let v = view(
        &me,
        std::slice::from_ref(&b),
        &l,
        &live(&[]),
        Utc::now(),
        &t,
    );
    assert_eq!(
        v.nodes[0]["CatchUp"],
        Value::Null,
        "the leader copies nothing"
    );
    assert_eq!(
        v.nodes[1]["CatchUp"],
        json!({
            "CopiedBytes": 812_000_000u64,
            "TotalBytes": 1_590_000_000u64,
            "BytesPerSecond": 270_000_000u64,
            "EstimatedSecondsLeft": 3,
            "StartedAt": started_at,
            "Description": "812 MB of 1.59 GB (51%), 270 MB/s, about 3 s left",
        })
    );
    // The rate is not known before the first bytes arrive.
    let mut first = b.clone();
    first.catch_up.as_mut().unwrap().bytes_per_second = None;
    first.catch_up.as_mut().unwrap().seconds_left = None;
    let v = view(&me, &[first], &l, &live(&[]), Utc::now(), &t);
    assert_eq!(v.nodes[1]["CatchUp"]["BytesPerSecond"], Value::Null);
    assert_eq!(
        v.nodes[1]["CatchUp"]["Description"],
        "812 MB of 1.59 GB (51%), rate not known yet"
    );
    assert_eq!(v.nodes[1]["CatchUp"]["CopiedBytes"], 812_000_000u64);
    // A node whose heartbeat is stale copies nothing anyone can see.
    b.seen_at = Some(Utc::now() - chrono::Duration::seconds(60));
    let v = view(&me, &[b], &l, &live(&[]), Utc::now(), &t);
    assert_eq!(v.nodes[1]["CatchUp"], Value::Null);
}

#[test]
fn fewer_up_to_date_followers_than_acknowledgements_need_is_degraded() {
    let me = row("a", "leader", (2, 5), None);
    let rows = [
        row("b", "follower", (2, 5), Some(10)),
        row("c", "follower", (2, 1), Some(10)),
    ];
    let mut leading = leadership(Some("a"));
    leading.acknowledging_replicas = 2;
    let v = view(
        &me,
        &rows,
        &leading,
        &live(&[("b", true), ("c", false)]),
        Utc::now(),
        &ClusterTiming::default(),
    );
    assert_eq!(v.status, "Degraded");
    assert!(
        v.description.starts_with("1 of the 2 up-to-date"),
        "{}",
        v.description
    );
    assert_eq!(v.acknowledging_replicas, 2);
    let counts: Vec<bool> = v
        .nodes
        .iter()
        .map(|n| n["CountsTowardAcknowledgements"].as_bool().unwrap())
        .collect();
    assert_eq!(counts, [false, true, false]);
    // Both up to date: healthy.
    let v = view(
        &me,
        &rows,
        &leading,
        &live(&[("b", true), ("c", true)]),
        Utc::now(),
        &ClusterTiming::default(),
    );
    assert_eq!(v.status, "Healthy", "{}", v.description);
}
