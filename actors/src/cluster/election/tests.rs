//! The election rule, case by case: when there is an election, who stands
//! in one, who waits and why; then the safety argument checked exhaustively
//! on small clusters — whatever the acknowledged write's holders and
//! whichever followers report, a node that stands holds every acknowledged
//! write.

use std::time::Duration;

use super::*;

const STALE: Duration = Duration::from_secs(2);

fn g(write: u64) -> Generation {
    Generation { model: 1, write }
}

fn pos(term: u64, write: u64) -> Position {
    Position {
        term,
        generation: g(write),
    }
}

/// The row after leader `x`'s lease (term 3) ran out; it waited for `n`.
fn lapsed(n: u32) -> Leadership {
    Leadership {
        term: 3,
        leader_node: Some("x".into()),
        acknowledging_replicas: n,
        ..Leadership::vacant()
    }
}

fn elector(name: &str, at: Position, reported: bool) -> Elector {
    Elector {
        name: name.into(),
        store_term: at.term,
        generation: at.generation,
        auto_failover: true,
        sampled_after_lease: reported,
        silent: Duration::from_millis(100),
    }
}

fn ballot(me: &str, at: Position) -> Ballot<'_> {
    Ballot {
        me,
        position: at,
        auto_failover: true,
        node_stale: STALE,
    }
}

const FOLLOWING: NodeState = NodeState::Following { term: 3 };

/// The candidacy of follower `me` after `row`'s lease ran out.
fn candidacy_in(row: &Leadership, electors: &[Elector], me: Ballot) -> Candidacy {
    let election = election_open(&FOLLOWING, row, me).expect("an election is open");
    candidacy(&election, electors)
}

#[test]
fn positions_order_by_term_then_generation() {
    assert!(pos(3, 1) > pos(2, 100));
    assert!(pos(3, 5) > pos(3, 4));
    assert_eq!(pos(3, 5).cmp(&pos(3, 5)), Ordering::Equal);
    let model = Position {
        term: 3,
        generation: Generation { model: 2, write: 4 },
    };
    assert!(model > pos(3, 4) && model < pos(3, 6));
}

#[test]
fn reports_needed_follow_the_acknowledging_replicas() {
    // (followers, N) -> positions needed
    let table = [
        ((1, 0), 1),
        ((1, 1), 1),
        ((2, 0), 1),
        ((2, 1), 2),
        ((2, 2), 1),
        ((4, 1), 4),
        ((4, 2), 3),
        ((4, 9), 1),
    ];
    for ((followers, n), needed) in table {
        assert_eq!(reports_needed(followers, n), needed, "F={followers} N={n}");
    }
}

#[test]
fn an_election_is_open_only_to_a_standing_follower_once_the_lease_ran_out() {
    let me = ballot("a", pos(3, 9));
    assert!(election_open(&FOLLOWING, &lapsed(0), me).is_some());
    let mut valid = lapsed(0);
    valid.lease_valid = true;
    assert!(election_open(&FOLLOWING, &valid, me).is_none());
    let off = Ballot {
        auto_failover: false,
        ..me
    };
    assert!(election_open(&FOLLOWING, &lapsed(0), off).is_none());
    for state in [
        NodeState::Fenced { term: 3 },
        NodeState::AwaitingLease {
            term: 2,
            next: 3,
            left: Duration::from_secs(1),
        },
    ] {
        assert!(election_open(&state, &lapsed(0), me).is_none(), "{state:?}");
    }
    // The row names this node: it renews, it is not elected.
    let mut mine = lapsed(0);
    mine.leader_node = Some("a".into());
    assert!(election_open(&FOLLOWING, &mine, me).is_none());
}

#[test]
fn asynchronous_replication_elects_the_most_up_to_date_live_candidate() {
    let me = ballot("b", pos(3, 5));
    let table: [(&[Elector], Candidacy); 6] = [
        // Alone with the dead leader.
        (&[], Candidacy::Stand),
        // Ahead of the other follower.
        (&[elector("c", pos(3, 4), true)], Candidacy::Stand),
        // Behind a live candidate: it stands instead.
        (
            &[elector("c", pos(3, 6), false)],
            Candidacy::Wait(Waiting::Defers { node: "c".into() }),
        ),
        // Level: the first name stands.
        (
            &[elector("a", pos(3, 5), true)],
            Candidacy::Wait(Waiting::Defers { node: "a".into() }),
        ),
        (&[elector("c", pos(3, 5), true)], Candidacy::Stand),
        // The dead leader's row does not count.
        (&[elector("x", pos(3, 9), true)], Candidacy::Stand),
    ];
    for (electors, expected) in table {
        assert_eq!(
            candidacy_in(&lapsed(0), electors, me),
            expected,
            "{electors:?}"
        );
    }
    // A silent or non-standing node ahead is not waited for.
    let mut silent = elector("c", pos(3, 9), true);
    silent.silent = STALE * 2;
    let mut off = elector("d", pos(3, 9), true);
    off.auto_failover = false;
    assert_eq!(
        candidacy_in(&lapsed(0), &[silent, off], me),
        Candidacy::Stand
    );
}

#[test]
fn durable_acknowledgements_need_enough_reports_and_no_follower_ahead() {
    // Three followers b, c, d; the leader x waited for one.
    let me = ballot("b", pos(3, 5));
    let too_few = candidacy_in(
        &lapsed(1),
        &[
            elector("c", pos(3, 5), true),
            elector("d", pos(3, 5), false),
        ],
        me,
    );
    assert_eq!(
        too_few,
        Candidacy::Wait(Waiting::TooFewReports {
            known: 2,
            needed: 3
        })
    );
    let all = [elector("c", pos(3, 4), true), elector("d", pos(3, 5), true)];
    assert_eq!(candidacy_in(&lapsed(1), &all, me), Candidacy::Stand);
    // A follower ahead that does not stand still stops it: it may hold an
    // acknowledged write this node lacks.
    let mut ahead = elector("d", pos(3, 6), true);
    ahead.auto_failover = false;
    assert_eq!(
        candidacy_in(&lapsed(1), &[elector("c", pos(3, 4), true), ahead], me),
        Candidacy::Wait(Waiting::Behind {
            node: "d".into(),
            position: pos(3, 6)
        })
    );
    // With two of three acknowledging, two reports (its own and one) do.
    assert_eq!(
        candidacy_in(
            &lapsed(2),
            &[
                elector("c", pos(3, 5), true),
                elector("d", pos(3, 1), false)
            ],
            me
        ),
        Candidacy::Stand
    );
}

/// Every way an acknowledged write can be held and reported in a cluster
/// of `followers` followers waiting for `n`: whoever stands holds it.
fn no_acknowledged_write_is_lost(followers: usize, n: u32) {
    let names: Vec<String> = (0..followers).map(|i| format!("f{i}")).collect();
    let subsets = 1u32 << followers;
    for holders in 0..subsets {
        if (holders.count_ones() as usize) < n as usize {
            continue; // not acknowledged: fewer than N held it
        }
        for reported in 0..subsets {
            // Positions: holders at 10 (the write), others anywhere below.
            for lag in 0..3u64 {
                let at = |i: usize| match holders >> i & 1 {
                    1 => pos(3, 10 + (i as u64 % 2)),
                    _ => pos(3, 7 + (i as u64 + lag) % 3),
                };
                let electors: Vec<Elector> = (0..followers)
                    .map(|i| elector(&names[i], at(i), reported >> i & 1 == 1))
                    .collect();
                for (i, name) in names.iter().enumerate() {
                    let me = ballot(name, at(i));
                    let stands = candidacy_in(&lapsed(n), &electors, me);
                    if stands == Candidacy::Stand {
                        assert!(
                            at(i) >= pos(3, 10),
                            "{name} stood without the write: holders {holders:b}, \
                             reported {reported:b}, N={n}"
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn whoever_stands_holds_every_acknowledged_write() {
    for followers in 1..=5 {
        for n in 1..=followers as u32 {
            no_acknowledged_write_is_lost(followers, n);
        }
    }
}

#[test]
fn an_election_is_decided_while_enough_nodes_are_up() {
    // Liveness: with every follower reporting, exactly one stands.
    for n in 0..=3u32 {
        let at = [pos(3, 4), pos(3, 9), pos(3, 9), pos(2, 20)];
        let names = ["b", "c", "d", "e"];
        let electors: Vec<Elector> = names
            .iter()
            .zip(at)
            .map(|(name, p)| elector(name, p, true))
            .collect();
        let standing: Vec<&str> = names
            .iter()
            .zip(at)
            .filter(|(name, p)| {
                candidacy_in(&lapsed(n), &electors, ballot(name, *p)) == Candidacy::Stand
            })
            .map(|(name, _)| *name)
            .collect();
        assert_eq!(standing, ["c"], "N={n}");
    }
}
