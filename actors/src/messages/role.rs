//! The node's role: what it is ([`Role`]), the snapshot its one owner
//! publishes ([`RoleSnapshot`], read through a [`RoleView`]), and the
//! message that announces a change ([`RoleChanged`]).
//!
//! The publisher also tells where the leader is when another node leads
//! ([`LeaderAddress`], read with [`RoleView::leader`]): a follower
//! replicates from it and proxies API requests to it.
//!
//! One [`RolePublisher`] exists per node. In a cluster with a shared
//! metastore the ClusterCoordinator holds it and publishes every state it
//! enters; a standalone node (or a cluster without a shared metastore)
//! publishes its configured role once. No other component keeps a role or
//! a term of its own: each reads the snapshot when it needs one, and a
//! receiver of [`RoleChanged`] drops a message whose `seq` it has passed.

use std::time::Instant;

use actix::{Message, Recipient};
use serde::Serialize;
use tokio::sync::watch;

/// What a node does in its cluster.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Role {
    /// A single node, not part of a cluster: accepts writes.
    Standalone,
    /// The cluster's leader in a term: accepts writes.
    Leader,
    /// Replicates from the leader; proxies API traffic; refuses local writes.
    Follower,
}

impl Role {
    /// Whether this role accepts writes from clients.
    pub fn accepts_writes(self) -> bool {
        matches!(self, Role::Standalone | Role::Leader)
    }

    /// Seq's name for the role.
    pub fn name(self) -> &'static str {
        match self {
            Role::Standalone => "Standalone",
            Role::Leader => "Leader",
            Role::Follower => "Follower",
        }
    }
}

/// The node's state as its owner last published it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RoleSnapshot {
    /// The role.
    pub role: Role,
    /// The leadership term the role belongs to (0 when standalone).
    pub term: u64,
    /// Counts publications: a newer snapshot has a higher `seq`.
    pub seq: u64,
    /// Until when (by this node's clock) its lease lets it acknowledge
    /// writes; `None` when its role needs no lease (standalone, or a
    /// cluster without a shared metastore).
    pub lease_until: Option<Instant>,
    /// A leader draining before a hand-over: it admits no new requests.
    pub draining: bool,
    /// The newest term in which another node is known to lead (0: none).
    pub leader_elsewhere: u64,
    /// Since when the node accepts writes in this term (`None`: it does not).
    pub writing_since: Option<Instant>,
}

impl RoleSnapshot {
    /// The state a node starts in before its owner publishes anything.
    pub fn initial(role: Role, term: u64) -> RoleSnapshot {
        RoleSnapshot {
            role,
            term,
            seq: 0,
            lease_until: None,
            draining: false,
            leader_elsewhere: 0,
            writing_since: role.accepts_writes().then(Instant::now),
        }
    }

    /// The write path's one fence: the term in which this node may
    /// acknowledge a write at `now` — only while its role accepts writes
    /// and, when it needs a lease, before that lease runs out.
    pub fn may_acknowledge(&self, now: Instant) -> Option<u64> {
        let leased = self.lease_until.is_none_or(|until| now < until);
        (self.role.accepts_writes() && leased).then_some(self.term)
    }
}

/// Where another node that leads listens, as the shared metastore lists
/// it (its heartbeat row).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeaderAddress {
    /// The leader's node name.
    pub name: String,
    /// The term it leads in.
    pub term: u64,
    /// Its intra-cluster URI (`ws`/`wss`), when its row has one.
    pub cluster_uri: Option<String>,
    /// Its internal API URI (`http`/`https`), when its row has one.
    pub internal_api_uri: Option<String>,
}

/// A reader of the node's published [`RoleSnapshot`] and of where the
/// leader is; cheap to clone.
#[derive(Clone, Debug)]
pub struct RoleView {
    role: watch::Receiver<RoleSnapshot>,
    leader: watch::Receiver<Option<LeaderAddress>>,
}

impl RoleView {
    /// The snapshot now.
    pub fn now(&self) -> RoleSnapshot {
        *self.role.borrow()
    }

    /// Waits until a newer snapshot than the last one this view looked at
    /// is published (forever when the publisher is gone).
    pub async fn changed(&mut self) {
        if self.role.changed().await.is_err() {
            std::future::pending::<()>().await;
        }
    }

    /// Marks the current snapshot seen (so that [`RoleView::changed`] waits
    /// for the next).
    pub fn mark_seen(&mut self) {
        self.role.borrow_and_update();
    }

    /// The newest leader known elsewhere, when another node leads (or led
    /// last); `None` before one is known.
    pub fn leader(&self) -> Option<LeaderAddress> {
        self.leader.borrow().clone()
    }

    /// Waits until another leader address than the last one this view
    /// looked at is published (forever when the publisher is gone).
    pub async fn leader_changed(&mut self) {
        if self.leader.changed().await.is_err() {
            std::future::pending::<()>().await;
        }
    }

    /// Marks the current leader address seen.
    pub fn mark_leader_seen(&mut self) {
        self.leader.borrow_and_update();
    }
}

/// The one writer of the node's [`RoleSnapshot`]: publishes each state the
/// node enters and announces a changed role or term as [`RoleChanged`].
pub struct RolePublisher {
    tx: watch::Sender<RoleSnapshot>,
    leader: watch::Sender<Option<LeaderAddress>>,
    announce: Option<Recipient<RoleChanged>>,
}

impl RolePublisher {
    /// A publisher starting at `initial`, with no leader known elsewhere.
    pub fn new(initial: RoleSnapshot) -> RolePublisher {
        let (tx, _) = watch::channel(initial);
        let (leader, _) = watch::channel(None);
        RolePublisher {
            tx,
            leader,
            announce: None,
        }
    }

    /// Where role changes are announced (the NodeSupervisor); announces
    /// the current snapshot there at once.
    pub fn announce_to(&mut self, to: Recipient<RoleChanged>) {
        to.do_send(RoleChanged::of(&self.now()));
        self.announce = Some(to);
    }

    /// The snapshot now.
    pub fn now(&self) -> RoleSnapshot {
        *self.tx.borrow()
    }

    /// A view of what this publisher publishes.
    pub fn view(&self) -> RoleView {
        RoleView {
            role: self.tx.subscribe(),
            leader: self.leader.subscribe(),
        }
    }

    /// Publishes where the leader of `address.term` is, unless a leader of
    /// a newer term is known or nothing changed.
    pub fn leader_address(&self, address: LeaderAddress) {
        self.leader.send_if_modified(|known| {
            let newer = known
                .as_ref()
                .is_none_or(|k| address.term > k.term || (address.term == k.term && *k != address));
            if newer {
                *known = Some(address);
            }
            newer
        });
    }

    /// Publishes `role` in `term` with `lease_until` and `draining`; a
    /// changed role or term is announced as [`RoleChanged`].
    pub fn publish(&self, role: Role, term: u64, lease_until: Option<Instant>, draining: bool) {
        let before = self.now();
        let writing = (role.accepts_writes(), term);
        let writing_since = match writing == (before.role.accepts_writes(), before.term) {
            true => before.writing_since,
            false => role.accepts_writes().then(Instant::now),
        };
        let next = RoleSnapshot {
            role,
            term,
            seq: before.seq + 1,
            lease_until,
            draining,
            leader_elsewhere: before.leader_elsewhere,
            writing_since,
        };
        if next
            == (RoleSnapshot {
                seq: next.seq,
                ..before
            })
        {
            return;
        }
        self.tx.send_replace(next);
        if (role, term) != (before.role, before.term) {
            if let Some(to) = &self.announce {
                to.do_send(RoleChanged::of(&next));
            }
        }
    }

    /// Another node leads in `term` (kept when newer than what is known).
    pub fn leader_elsewhere(&self, term: u64) {
        self.tx.send_if_modified(|s| {
            let newer = term > s.leader_elsewhere;
            if newer {
                s.leader_elsewhere = term;
                s.seq += 1;
            }
            newer
        });
    }
}

/// The node's role or term changed (sent by the [`RolePublisher`] to the
/// NodeSupervisor, which passes it to the role-dependent actors).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Message)]
#[rtype(result = "()")]
pub struct RoleChanged {
    /// The new role.
    pub role: Role,
    /// The leadership term the role belongs to (0 when standalone).
    pub term: u64,
    /// The publication it announces: a receiver drops a message with a
    /// `seq` no newer than the last one it acted on.
    pub seq: u64,
}

impl RoleChanged {
    /// The announcement of `snapshot`.
    pub fn of(snapshot: &RoleSnapshot) -> RoleChanged {
        RoleChanged {
            role: snapshot.role,
            term: snapshot.term,
            seq: snapshot.seq,
        }
    }

    /// Whether this is newer than the announcement last acted on (`seen`),
    /// recording it when it is.
    pub fn is_newer_than(&self, seen: &mut Option<u64>) -> bool {
        let newer = seen.is_none_or(|s| self.seq > s);
        if newer {
            *seen = Some(self.seq);
        }
        newer
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_write_is_acknowledged_only_in_a_writing_role_within_its_lease() {
        let now = Instant::now();
        let at = |role, lease_until| RoleSnapshot {
            lease_until,
            ..RoleSnapshot::initial(role, 4)
        };
        let later = Some(now + Duration::from_secs(1));
        let earlier = Some(now - Duration::from_millis(1));
        assert_eq!(at(Role::Standalone, None).may_acknowledge(now), Some(4));
        assert_eq!(at(Role::Leader, None).may_acknowledge(now), Some(4));
        assert_eq!(at(Role::Leader, later).may_acknowledge(now), Some(4));
        assert_eq!(at(Role::Leader, earlier).may_acknowledge(now), None);
        assert_eq!(at(Role::Leader, Some(now)).may_acknowledge(now), None);
        assert_eq!(at(Role::Follower, None).may_acknowledge(now), None);
        assert_eq!(at(Role::Follower, later).may_acknowledge(now), None);
    }

    #[test]
    fn publishing_counts_and_keeps_writing_since_within_a_term() {
        let publisher = RolePublisher::new(RoleSnapshot::initial(Role::Follower, 1));
        let view = publisher.view();
        assert_eq!(view.now().writing_since, None);
        let lease = Some(Instant::now() + Duration::from_secs(10));
        publisher.publish(Role::Leader, 2, lease, false);
        let leading = view.now();
        assert_eq!(
            (leading.role, leading.term, leading.seq),
            (Role::Leader, 2, 1)
        );
        let since = leading.writing_since.expect("a leader writes");
        // A renewed lease and a drain keep the term's start.
        publisher.publish(
            Role::Leader,
            2,
            lease.map(|l| l + Duration::from_secs(1)),
            true,
        );
        assert_eq!(view.now().writing_since, Some(since));
        assert_eq!(view.now().seq, 2);
        // Publishing the same state again changes nothing.
        publisher.publish(Role::Leader, 2, view.now().lease_until, true);
        assert_eq!(view.now().seq, 2);
        publisher.leader_elsewhere(3);
        publisher.leader_elsewhere(2);
        assert_eq!((view.now().leader_elsewhere, view.now().seq), (3, 3));
        publisher.publish(Role::Follower, 3, None, false);
        assert_eq!(view.now().writing_since, None);
    }

    #[test]
    fn the_newest_leader_address_is_kept() {
        let publisher = RolePublisher::new(RoleSnapshot::initial(Role::Follower, 1));
        let view = publisher.view();
        assert_eq!(view.leader(), None);
        let at = |name: &str, term, uri: &str| LeaderAddress {
            name: name.into(),
            term,
            cluster_uri: Some(format!("ws://{uri}")),
            internal_api_uri: Some(format!("http://{uri}")),
        };
        publisher.leader_address(at("b", 3, "b:1"));
        publisher.leader_address(at("a", 2, "a:1"));
        assert_eq!(view.leader(), Some(at("b", 3, "b:1")));
        // The same leader's row changed its URIs in the same term.
        publisher.leader_address(at("b", 3, "b:2"));
        assert_eq!(view.leader(), Some(at("b", 3, "b:2")));
        publisher.leader_address(at("c", 4, "c:1"));
        assert_eq!(view.leader().map(|l| l.name), Some("c".to_string()));
    }

    #[test]
    fn a_receiver_drops_announcements_it_has_passed() {
        let mut seen = None;
        let at = |seq| RoleChanged {
            role: Role::Leader,
            term: 1,
            seq,
        };
        assert!(at(0).is_newer_than(&mut seen));
        assert!(at(2).is_newer_than(&mut seen));
        assert!(!at(1).is_newer_than(&mut seen));
        assert!(!at(2).is_newer_than(&mut seen));
        assert!(at(3).is_newer_than(&mut seen));
    }
}
