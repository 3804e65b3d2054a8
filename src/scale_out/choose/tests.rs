use chrono::Utc;
use skein_store::Generation;

use super::*;

fn follower(node: &str, term: u64) -> FollowerInfo {
    FollowerInfo {
        node: node.into(),
        term,
        generation: Generation::default(),
        ops_behind: 0,
        last_ack_at: Utc::now(),
        connected_since: Utc::now(),
    }
}

fn row(name: &str, cluster_uri: &str) -> NodeRow {
    NodeRow {
        name: name.into(),
        cluster_uri: Some(cluster_uri.into()).filter(|u: &String| !u.is_empty()),
        ..NodeRow::default()
    }
}

fn fresh(names: &[(&str, bool)]) -> BTreeMap<String, bool> {
    names.iter().map(|(n, f)| (n.to_string(), *f)).collect()
}

#[test]
fn helpers_are_up_to_date_followers_of_this_term_with_a_reachable_cluster_port() {
    let followers = [
        follower("c", 3),
        follower("b", 3),
        follower("stale", 3),
        follower("old-term", 2),
        follower("no-row", 3),
        follower("localhost", 3),
        follower("no-uri", 3),
    ];
    let fresh = fresh(&[
        ("b", true),
        ("c", true),
        ("stale", false),
        ("old-term", true),
        ("no-row", true),
        ("localhost", true),
        ("no-uri", true),
    ]);
    let rows = [
        row("b", "ws://10.0.0.2:5344"),
        row("c", "wss://c.example:5344/"),
        row("stale", "ws://10.0.0.4:5344"),
        row("old-term", "ws://10.0.0.5:5344"),
        row("localhost", "ws://localhost:5344"),
        row("no-uri", ""),
    ];
    let got = helpers(3, &followers, &fresh, &rows);
    let names: Vec<(&str, &str)> = got
        .iter()
        .map(|h| (h.name.as_str(), h.cluster_port.as_str()))
        .collect();
    assert_eq!(
        names,
        [
            ("b", "http://10.0.0.2:5344/"),
            ("c", "https://c.example:5344/")
        ]
    );
}

#[test]
fn a_follower_with_two_sessions_is_one_helper() {
    let followers = [follower("b", 3), follower("b", 3)];
    let rows = [row("b", "ws://10.0.0.2:5344")];
    assert_eq!(
        helpers(3, &followers, &fresh(&[("b", true)]), &rows).len(),
        1
    );
}

#[test]
fn a_query_is_split_only_when_each_share_is_worth_it() {
    assert_eq!(nodes_for(0, 2, 100), 1);
    assert_eq!(nodes_for(199, 2, 100), 1);
    assert_eq!(nodes_for(200, 2, 100), 2);
    assert_eq!(nodes_for(300, 2, 100), 3);
    assert_eq!(nodes_for(1_000_000, 2, 100), 3);
    assert_eq!(nodes_for(1_000_000, 0, 100), 1);
    assert_eq!(nodes_for(5, 4, 0), 5);
}

#[test]
fn a_follower_runs_a_share_only_for_the_leader_it_follows_in_that_term() {
    let following = |term| RoleSnapshot::initial(Role::Follower, term);
    let session = |leader: &str, connected| LeaderSession {
        connected,
        leader: Some(leader.into()),
        ..LeaderSession::default()
    };
    assert!(may_run(4, "a", &following(4), &session("a", true)).is_ok());
    let refusals = [
        may_run(4, "a", &following(5), &session("a", true)),
        may_run(
            4,
            "a",
            &RoleSnapshot::initial(Role::Leader, 4),
            &session("a", true),
        ),
        may_run(4, "a", &following(4), &session("b", true)),
        may_run(4, "a", &following(4), &session("a", false)),
        may_run(4, "a", &following(4), &LeaderSession::default()),
    ];
    for r in refusals {
        let why = r.unwrap_err();
        assert!(
            why.contains("term") || why.contains("does not follow a"),
            "{why}"
        );
    }
}
