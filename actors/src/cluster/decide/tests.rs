//! Every transition of the cluster's decisions, table by table, then the
//! sequences the chaos suite found: a lease gap around a PostgreSQL
//! restart, a fenced leader draining, a newer term learnt mid-session.

use std::time::Duration;

use super::*;

const ME: &str = "a";

const TIMING: ClusterTiming = ClusterTiming {
    heartbeat: Duration::from_secs(1),
    lease: Duration::from_secs(10),
    node_stale: Duration::from_secs(5),
};

fn row(term: u64, leader: Option<&str>, previous_left_s: u64) -> Leadership {
    Leadership {
        term,
        leader_node: leader.map(str::to_owned),
        lease_valid: leader.is_some(),
        previous_lease_remaining: Duration::from_secs(previous_left_s),
        ..Leadership::vacant()
    }
}

fn named(term: u64) -> Leadership {
    row(term, Some(ME), 0)
}

fn other(term: u64) -> Leadership {
    row(term, Some("b"), 0)
}

fn at(s: u64) -> Instant {
    // A fixed origin keeps every case's instants comparable.
    thread_local!(static ORIGIN: Instant = Instant::now());
    ORIGIN.with(|o| *o + Duration::from_secs(s))
}

fn leading(term: u64, renewed_s: u64) -> NodeState {
    NodeState::Leading {
        term,
        renewed_at: at(renewed_s),
    }
}

fn draining(term: u64, renewed_s: Option<u64>) -> NodeState {
    NodeState::Draining {
        term,
        lease: match renewed_s {
            Some(s) => Lease::Held { renewed_at: at(s) },
            None => Lease::Lapsed,
        },
    }
}

fn following(term: u64) -> NodeState {
    NodeState::Following { term }
}

fn fenced(term: u64) -> NodeState {
    NodeState::Fenced { term }
}

fn awaiting(term: u64, next: u64, left_s: u64) -> NodeState {
    NodeState::AwaitingLease {
        term,
        next,
        left: Duration::from_secs(left_s),
    }
}

fn held(s: u64) -> Option<Renewal> {
    Some(Renewal::Held { sent_at: at(s) })
}

fn refused(newest_term: u64) -> Option<Renewal> {
    Some(Renewal::Refused { newest_term })
}

#[test]
fn a_round_renews_only_in_a_term_the_node_may_lead_in() {
    let cases = [
        // (state, row read, term renewed in)
        (leading(1, 0), named(1), Some(1)),
        (leading(1, 0), named(2), None),
        (leading(1, 0), other(2), None),
        (draining(1, Some(0)), named(1), Some(1)),
        (draining(1, None), named(1), None),
        (following(1), named(2), Some(2)),
        (following(1), named(1), None),
        (following(1), other(2), None),
        (following(1), row(2, None, 0), None),
        (fenced(3), named(3), Some(3)),
        (fenced(3), named(4), Some(4)),
        (fenced(3), other(4), None),
        (awaiting(1, 2, 3), named(2), Some(2)),
        (awaiting(2, 2, 3), named(2), Some(2)),
        (awaiting(1, 2, 3), other(3), None),
    ];
    for (state, row, expected) in cases {
        assert_eq!(
            renewal(&state, &row, ME),
            expected,
            "{state:?} reading {row:?}"
        );
    }
}

#[test]
fn a_round_moves_the_node_as_the_row_and_its_renewal_say() {
    let cases = [
        // (state, row read, renewal, next state)
        // A leader renews, or learns of a newer term and follows it.
        (leading(1, 0), named(1), held(5), leading(1, 5)),
        (leading(1, 0), other(2), None, following(2)),
        (leading(1, 0), named(1), refused(3), following(3)),
        (leading(1, 0), row(1, None, 0), None, following(1)),
        // A leader handing over renews its lease until the hand-over.
        (
            draining(1, Some(0)),
            named(1),
            held(5),
            draining(1, Some(5)),
        ),
        (draining(1, Some(0)), other(2), None, following(2)),
        (draining(1, Some(0)), named(1), refused(2), following(2)),
        // A fenced leader draining does not lead again by itself ...
        (draining(1, None), named(1), None, draining(1, None)),
        // ... unless a newer term shows its hand-over is moot.
        (draining(1, None), other(2), None, following(2)),
        // A follower handed leadership leads, after any previous lease.
        (following(1), named(2), held(5), leading(2, 5)),
        (following(1), named(2), held(5), leading(2, 5)),
        (
            following(1),
            row(2, Some(ME), 3),
            held(5),
            awaiting(1, 2, 3),
        ),
        (following(1), named(2), refused(2), following(2)),
        (following(1), other(2), None, following(2)),
        (following(2), other(2), None, following(2)),
        // A fenced leader resumes when still named, else follows.
        (fenced(3), named(3), held(5), leading(3, 5)),
        (fenced(3), other(4), None, following(4)),
        (fenced(3), named(3), refused(3), fenced(3)),
        // A node waiting out the previous lease leads once it is over.
        (
            awaiting(1, 2, 3),
            row(2, Some(ME), 1),
            held(5),
            awaiting(1, 2, 1),
        ),
        (awaiting(1, 2, 3), named(2), held(5), leading(2, 5)),
        (awaiting(1, 2, 3), other(3), None, following(3)),
        (awaiting(1, 2, 3), named(2), refused(2), following(2)),
        (awaiting(2, 2, 3), named(2), refused(2), fenced(2)),
    ];
    for (state, row, renewed, expected) in cases {
        assert_eq!(
            next(&state, &row, renewed, ME),
            expected,
            "{state:?} reading {row:?}, renewal {renewed:?}"
        );
    }
}

#[test]
fn a_round_applies_only_while_role_and_term_are_unchanged() {
    assert!(still_applies(&leading(1, 0), &leading(1, 5)));
    assert!(still_applies(&leading(1, 0), &draining(1, Some(0))));
    assert!(!still_applies(&leading(1, 0), &fenced(1)));
    assert!(!still_applies(&leading(1, 0), &draining(1, None)));
    assert!(!still_applies(&following(1), &following(2)));
    assert!(still_applies(&following(1), &awaiting(1, 2, 3)));
}

#[test]
fn the_clock_fences_a_leader_a_heartbeat_before_its_lease_runs_out() {
    let last_safe = at(10) - TIMING.heartbeat - Duration::from_millis(1);
    let fence_at = at(10) - TIMING.heartbeat;
    let cases = [
        (leading(1, 0), last_safe, leading(1, 0)),
        (leading(1, 0), fence_at, fenced(1)),
        (draining(1, Some(0)), last_safe, draining(1, Some(0))),
        (draining(1, Some(0)), fence_at, draining(1, None)),
        (draining(1, None), at(100), draining(1, None)),
        (following(1), at(100), following(1)),
        (fenced(1), at(100), fenced(1)),
        (awaiting(1, 2, 3), at(100), awaiting(1, 2, 3)),
    ];
    for (state, now, expected) in cases {
        assert_eq!(on_clock(&state, now, &TIMING), expected, "{state:?}");
    }
}

#[test]
fn a_node_opens_by_the_row_it_reads_at_start() {
    assert_eq!(opening(&row(0, None, 0), ME, Role::Leader), Opening::Take);
    assert_eq!(
        opening(&row(0, None, 0), ME, Role::Follower),
        Opening::Follow
    );
    assert_eq!(
        opening(&named(4), ME, Role::Follower),
        Opening::Resume { term: 4 }
    );
    assert_eq!(opening(&other(4), ME, Role::Leader), Opening::Follow);
    assert_eq!(opening(&row(4, None, 0), ME, Role::Leader), Opening::Take);
    let cases = [
        // (row read, term whose lease it holds, state)
        (named(1), Some(1), leading(1, 5)),
        (row(2, Some(ME), 3), Some(2), awaiting(2, 2, 3)),
        (row(0, None, 0), Some(1), leading(1, 5)),
        (named(1), None, following(1)),
        (other(3), None, following(3)),
    ];
    for (row, won, expected) in cases {
        assert_eq!(opened(&row, won, at(5)), expected, "{row:?} won {won:?}");
    }
    assert_eq!(opened_blind(5), fenced(5));
}

#[test]
fn only_a_leader_not_handing_over_begins_a_hand_over() {
    assert_eq!(
        demotion_begins(&leading(2, 5)).unwrap(),
        draining(2, Some(5))
    );
    for state in [draining(2, Some(5)), draining(2, None)] {
        assert!(matches!(demotion_begins(&state), Err(ClusterError::Busy)));
    }
    for state in [following(2), fenced(2), awaiting(1, 2, 3)] {
        assert!(matches!(
            demotion_begins(&state),
            Err(ClusterError::NotLeader)
        ));
    }
}

#[test]
fn a_hand_over_ends_following_leading_on_or_fenced() {
    let cases = [
        (
            draining(1, Some(0)),
            HandOver::Done { term: 2 },
            following(2),
        ),
        (draining(1, None), HandOver::Done { term: 2 }, following(2)),
        (
            draining(1, Some(0)),
            HandOver::Kept {
                renewed: Some(at(7)),
            },
            leading(1, 7),
        ),
        (
            draining(1, Some(3)),
            HandOver::Kept { renewed: None },
            leading(1, 3),
        ),
        (
            draining(1, None),
            HandOver::Kept { renewed: None },
            fenced(1),
        ),
        (draining(1, Some(0)), HandOver::Fence, fenced(1)),
        // A newer term arrived meanwhile: the hand-over's end changes nothing.
        (following(3), HandOver::Fence, following(3)),
        (following(3), HandOver::Kept { renewed: None }, following(3)),
    ];
    for (state, ended, expected) in cases {
        assert_eq!(
            demotion_ends(&state, ended),
            expected,
            "{state:?} {ended:?}"
        );
    }
}

#[test]
fn a_lease_gap_around_a_postgresql_restart_fences_then_resumes_in_the_same_term() {
    // Leading in term 3; PostgreSQL goes away: no round answers.
    let mut state = leading(3, 0);
    state = on_clock(&state, at(5), &TIMING);
    assert_eq!(state, leading(3, 0), "within the lease it leads on");
    state = on_clock(&state, at(9), &TIMING);
    assert_eq!(state, fenced(3), "fenced a heartbeat before the lease ends");
    assert_eq!(
        state.lease_until(TIMING.lease),
        None,
        "acknowledges nothing"
    );
    // PostgreSQL is back and the row still names it in term 3.
    let row = named(3);
    assert_eq!(renewal(&state, &row, ME), Some(3));
    state = next(&state, &row, held(20), ME);
    assert_eq!(state, leading(3, 20));
    // Had the other node taken over meanwhile, it would follow instead.
    assert_eq!(renewal(&fenced(3), &other(4), ME), None);
    assert_eq!(next(&fenced(3), &other(4), None, ME), following(4));
}

#[test]
fn a_fenced_leader_draining_waits_for_its_hand_over_then_resumes() {
    let mut state = demotion_begins(&leading(1, 0)).unwrap();
    state = on_clock(&state, at(9), &TIMING);
    assert_eq!(state, draining(1, None));
    assert_eq!(
        state.role(),
        Role::Follower,
        "a lapsed lease acknowledges nothing"
    );
    assert!(state.is_draining(), "and new requests are still held");
    // Rounds during the hand-over neither renew nor promote it.
    assert_eq!(renewal(&state, &named(1), ME), None);
    state = next(&state, &named(1), None, ME);
    assert_eq!(state, draining(1, None));
    // The successor did not catch up: fenced; the next round resumes.
    state = demotion_ends(&state, HandOver::Kept { renewed: None });
    assert_eq!(state, fenced(1));
    state = next(&state, &named(1), held(12), ME);
    assert_eq!(state, leading(1, 12));
}

#[test]
fn a_newer_term_learnt_mid_session_ends_leadership_at_once() {
    let state = leading(2, 0);
    let row = other(3);
    assert_eq!(renewal(&state, &row, ME), None);
    let state = next(&state, &row, None, ME);
    assert_eq!((state.role(), state.term()), (Role::Follower, 3));
    assert_eq!(leader_elsewhere(&row, ME), Some(3));
    assert_eq!(leader_elsewhere(&named(3), ME), None);
    // A hand-over that ends after it changes nothing.
    assert_eq!(demotion_ends(&state, HandOver::Fence), following(3));
}

#[test]
fn a_state_plays_a_role_and_leases_only_while_leading() {
    let cases = [
        (leading(1, 0), Role::Leader, Some(at(10)), false),
        (draining(1, Some(0)), Role::Leader, Some(at(10)), true),
        (draining(1, None), Role::Follower, None, true),
        (following(1), Role::Follower, None, false),
        (fenced(1), Role::Follower, None, false),
        (awaiting(1, 2, 3), Role::Follower, None, false),
    ];
    for (state, role, lease_until, draining) in cases {
        assert_eq!(state.role(), role, "{state:?}");
        assert_eq!(state.lease_until(TIMING.lease), lease_until, "{state:?}");
        assert_eq!(state.is_draining(), draining, "{state:?}");
    }
}
