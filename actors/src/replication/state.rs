//! [`ReplicationState`]: what replication reports, shared (cheaply cloned)
//! between the replication actors and whoever shows it (`/health/cluster`,
//! the cluster screen, the node's heartbeat row).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use actix::Recipient;
use chrono::{DateTime, Utc};
use serde::Serialize;
use skein_store::Generation;

use super::catch_up::{CatchUp, CatchUpProgress};
use super::freshness::{Freshness, Source};
use super::quorum::{holders, NotReplicated};
use crate::messages::{ComponentHealth, ReplicationReported};

/// One follower session on the leader.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FollowerInfo {
    /// The follower's node name.
    pub node: String,
    /// The leader's term the session was established in.
    pub term: u64,
    /// The generation the follower last acknowledged.
    pub generation: Generation,
    /// Operations the follower is behind the leader's current generation.
    pub ops_behind: u64,
    /// When the follower last acknowledged (an `Ack` answers every heartbeat).
    pub last_ack_at: DateTime<Utc>,
    /// When the session was established.
    pub connected_since: DateTime<Utc>,
}

/// A follower's view of its session with the leader.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct LeaderSession {
    /// Whether a session is established now.
    pub connected: bool,
    /// The leader's node name (once welcomed).
    pub leader: Option<String>,
    /// The leader's generation, from its last frame.
    pub leader_generation: Option<Generation>,
    /// This node's generation after the last applied operations.
    pub generation: Generation,
    /// When this node last heard from the leader while connected.
    pub last_sync_at: Option<DateTime<Utc>>,
    /// Why the last session ended or failed, if it did.
    pub last_error: Option<String>,
    /// What this node set aside before following (a divergent tail, or a
    /// whole foreign store), one line each, oldest first, since it started.
    pub set_aside: Vec<String>,
}

impl LeaderSession {
    /// Whether this follower holds everything the leader announced last.
    pub fn up_to_date(&self) -> bool {
        self.connected && self.leader_generation == Some(self.generation)
    }
}

/// Connection counters of the cluster port.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ReplicationCounters {
    /// WebSocket connections accepted on the cluster port.
    pub accepted: u64,
    /// Sessions refused because the peer's key proof was wrong.
    pub invalid_key: u64,
    /// Sessions that completed the handshake.
    pub established: u64,
}

/// Durable acknowledgements on a leader, since start: batches that waited
/// for followers, how long in all, and how many were refused (503) for want
/// of them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct AcknowledgementCounters {
    /// Batches that waited for followers.
    pub waits: u64,
    /// Microseconds those waits took, in all.
    pub wait_micros: u64,
    /// Batches refused because too few followers held them in time.
    pub refused: u64,
}

/// Bytes and frames replication moved over the cluster port, since start.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct TrafficCounters {
    /// Frames a leader sent to its followers.
    pub sent_frames: u64,
    /// Bytes of those frames.
    pub sent_bytes: u64,
    /// Bytes of those frames that carried snapshot file chunks.
    pub snapshot_sent_bytes: u64,
    /// Frame bytes a follower received from its leader.
    pub received_bytes: u64,
}

#[derive(Default)]
struct Inner {
    accepted: AtomicU64,
    invalid_key: AtomicU64,
    established: AtomicU64,
    next_session: AtomicU64,
    sent_frames: AtomicU64,
    sent_bytes: AtomicU64,
    snapshot_sent_bytes: AtomicU64,
    received_bytes: AtomicU64,
    followers: Mutex<BTreeMap<u64, FollowerInfo>>,
    known_followers: Mutex<std::collections::BTreeSet<String>>,
    leader: Mutex<LeaderSession>,
    freshness: Mutex<Freshness>,
    /// The follower's snapshot copy in progress, with the id it began with.
    catch_up: Mutex<Option<(u64, CatchUp)>>,
    next_catch_up: AtomicU64,
    listeners: Mutex<Vec<Recipient<ReplicationReported>>>,
    refusals: super::Refusals,
    /// Set when the trusted CAs were reloaded: the follower's session ends
    /// at its next wait for a frame and reconnects, verifying the leader's
    /// certificate against the new roots.
    leader_trust_changed: tokio::sync::Notify,
    /// Set when another node is published as leader than the one a
    /// follower's session replicates from: the session ends at its next
    /// wait for a frame and reconnects to the new leader.
    leader_moved: tokio::sync::Notify,
    /// The cluster URI that welcomed each leader a follower replicated
    /// from, by the leader's name: where it is found again.
    leaders_reached: Mutex<BTreeMap<String, String>>,
    /// Bumped whenever a follower's acknowledged position may have changed
    /// (durable acknowledgements wait on it).
    acks: tokio::sync::watch::Sender<u64>,
    ack_waits: AtomicU64,
    ack_wait_micros: AtomicU64,
    ack_refused: AtomicU64,
}

/// Replication's shared state.
#[derive(Clone, Default)]
pub struct ReplicationState(Arc<Inner>);

impl std::fmt::Debug for ReplicationState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReplicationState")
            .field("counters", &self.counters())
            .finish_non_exhaustive()
    }
}

impl ReplicationState {
    /// The connection counters.
    pub fn counters(&self) -> ReplicationCounters {
        ReplicationCounters {
            accepted: self.0.accepted.load(Ordering::Relaxed),
            invalid_key: self.0.invalid_key.load(Ordering::Relaxed),
            established: self.0.established.load(Ordering::Relaxed),
        }
    }

    /// The traffic counters.
    pub fn traffic(&self) -> TrafficCounters {
        TrafficCounters {
            sent_frames: self.0.sent_frames.load(Ordering::Relaxed),
            sent_bytes: self.0.sent_bytes.load(Ordering::Relaxed),
            snapshot_sent_bytes: self.0.snapshot_sent_bytes.load(Ordering::Relaxed),
            received_bytes: self.0.received_bytes.load(Ordering::Relaxed),
        }
    }

    /// Counts a frame of `bytes` a leader sent (`snapshot`: a file chunk).
    pub fn frame_sent(&self, bytes: usize, snapshot: bool) {
        self.0.sent_frames.fetch_add(1, Ordering::Relaxed);
        self.0.sent_bytes.fetch_add(bytes as u64, Ordering::Relaxed);
        if snapshot {
            let b = &self.0.snapshot_sent_bytes;
            b.fetch_add(bytes as u64, Ordering::Relaxed);
        }
    }

    /// Counts a frame of `bytes` a follower received.
    pub fn frame_received(&self, bytes: usize) {
        self.0
            .received_bytes
            .fetch_add(bytes as u64, Ordering::Relaxed);
    }

    /// What replication reports for this node's heartbeat row.
    pub fn reported(&self) -> ReplicationReported {
        let c = self.counters();
        let s = self.leader_session();
        let state = match (&s.leader, s.connected, &s.last_error) {
            (Some(leader), true, _) if s.up_to_date() => {
                Some(format!("replicating from {leader}; up to date"))
            }
            (Some(leader), true, _) => Some(format!("replicating from {leader}; catching up")),
            (_, false, Some(e)) => Some(format!("not replicating: {e}")),
            _ => None,
        };
        let state = match (state, s.set_aside.last()) {
            (Some(state), Some(aside)) => Some(format!("{state}; {aside}")),
            (None, Some(aside)) => Some(aside.clone()),
            (state, None) => state,
        };
        ReplicationReported {
            last_sync_at: s.last_sync_at,
            accepted: c.accepted,
            invalid_key: c.invalid_key,
            established: c.established,
            state,
        }
    }

    /// Sends [`ReplicationReported`] to `listener` now and whenever it changes
    /// (e.g. to the ClusterCoordinator, which publishes it in the node's row).
    pub fn report_to(&self, listener: Recipient<ReplicationReported>) {
        listener.do_send(self.reported());
        lock(&self.0.listeners).push(listener);
    }

    fn notify(&self) {
        let listeners = lock(&self.0.listeners).clone();
        if listeners.is_empty() {
            return;
        }
        let report = self.reported();
        for l in listeners {
            l.do_send(report.clone());
        }
    }

    /// Counts an accepted connection; returns a session id.
    pub fn connection_accepted(&self) -> u64 {
        self.0.accepted.fetch_add(1, Ordering::Relaxed);
        let id = self.0.next_session.fetch_add(1, Ordering::Relaxed);
        self.notify();
        id
    }

    /// Counts a session refused for a wrong key.
    pub fn invalid_key(&self) {
        self.0.invalid_key.fetch_add(1, Ordering::Relaxed);
        self.notify();
    }

    /// Records an established session of follower `node`, in the leader's
    /// term `term`, at `generation`.
    pub fn follower_established(
        &self,
        session: u64,
        node: &str,
        term: u64,
        generation: Generation,
    ) {
        self.0.established.fetch_add(1, Ordering::Relaxed);
        let now = Utc::now();
        let info = FollowerInfo {
            node: node.to_owned(),
            term,
            generation,
            ops_behind: 0,
            last_ack_at: now,
            connected_since: now,
        };
        self.followers_mut().insert(session, info);
        lock(&self.0.known_followers).insert(node.to_owned());
        self.notify();
        self.0.acks.send_modify(|n| *n += 1);
    }

    /// Records a follower's acknowledgement of `generation`.
    pub fn follower_acked(&self, session: u64, generation: Generation) {
        if let Some(info) = self.followers_mut().get_mut(&session) {
            info.generation = generation;
            info.last_ack_at = Utc::now();
        }
        self.0.acks.send_modify(|n| *n += 1);
    }

    /// Waits until `required` distinct followers hold `generation` of term
    /// `term` durably (see [`super::quorum`]), for at most `limit`.
    pub async fn replicated(
        &self,
        term: u64,
        generation: Generation,
        required: usize,
        limit: std::time::Duration,
    ) -> Result<(), NotReplicated> {
        let started = std::time::Instant::now();
        let mut acks = self.0.acks.subscribe();
        let held = || holders(self.followers_mut().values(), term, generation);
        let wait = async {
            loop {
                acks.borrow_and_update();
                if held() >= required {
                    return;
                }
                if acks.changed().await.is_err() {
                    std::future::pending::<()>().await;
                }
            }
        };
        let outcome = tokio::time::timeout(limit, wait).await;
        let waited = started.elapsed();
        self.0.ack_waits.fetch_add(1, Ordering::Relaxed);
        let micros = u64::try_from(waited.as_micros()).unwrap_or(u64::MAX);
        self.0.ack_wait_micros.fetch_add(micros, Ordering::Relaxed);
        match outcome {
            Ok(()) => Ok(()),
            Err(_) => {
                self.0.ack_refused.fetch_add(1, Ordering::Relaxed);
                Err(NotReplicated {
                    held_by: held(),
                    required,
                    waited,
                })
            }
        }
    }

    /// The durable-acknowledgement counters.
    pub fn acknowledgements(&self) -> AcknowledgementCounters {
        AcknowledgementCounters {
            waits: self.0.ack_waits.load(Ordering::Relaxed),
            wait_micros: self.0.ack_wait_micros.load(Ordering::Relaxed),
            refused: self.0.ack_refused.load(Ordering::Relaxed),
        }
    }

    /// The names of every follower that has had a session since start
    /// (connected now or not).
    pub fn known_followers(&self) -> Vec<String> {
        lock(&self.0.known_followers).iter().cloned().collect()
    }

    /// Forgets a session that ended.
    pub fn follower_gone(&self, session: u64) {
        self.followers_mut().remove(&session);
        self.0.acks.send_modify(|n| *n += 1);
    }

    /// The connected followers, with their lag behind `leader` (the leader's
    /// current generation).
    pub fn followers(&self, leader: Generation) -> Vec<FollowerInfo> {
        self.followers_mut()
            .values()
            .cloned()
            .map(|mut f| {
                f.ops_behind = leader.ops().saturating_sub(f.generation.ops());
                f
            })
            .collect()
    }

    fn followers_mut(&self) -> std::sync::MutexGuard<'_, BTreeMap<u64, FollowerInfo>> {
        lock(&self.0.followers)
    }

    /// The leader's followers and counters as a (healthy) `replication`
    /// health component; `leader` is the leader's current generation.
    pub fn summary(&self, leader: Generation) -> ComponentHealth {
        let c = self.counters();
        let names: Vec<String> = self
            .followers(leader)
            .iter()
            .map(|f| format!("{} at {}", f.node, f.generation))
            .collect();
        ComponentHealth {
            component: "replication",
            healthy: true,
            detail: format!(
                "followers: [{}]; connections accepted {}, invalid key {}, established {}",
                names.join(", "),
                c.accepted,
                c.invalid_key,
                c.established
            ),
        }
    }

    /// A follower's session with its leader.
    pub fn leader_session(&self) -> LeaderSession {
        lock(&self.0.leader).clone()
    }

    /// Records (and reports) that this follower set something aside.
    pub fn note_set_aside(&self, description: String) {
        self.update_leader_session(|s| s.set_aside.push(description));
    }

    /// Samples the leader's generation for [`Freshness`]: `Some(own)` (this
    /// node's store) while this node leads, `None` while it follows (the
    /// leader's, from its last frame, while connected).
    pub fn note_leader_generation(&self, leading: Option<Generation>) {
        let (source, generation) = match leading {
            Some(own) => (Source::OwnStore, own),
            None => match self.leader_session() {
                LeaderSession {
                    connected: true,
                    leader_generation: Some(g),
                    ..
                } => (Source::LeaderFrames, g),
                _ => return,
            },
        };
        let now = std::time::Instant::now();
        lock(&self.0.freshness).note(source, now, generation);
    }

    /// Which nodes this node's live replication state calls up to date (see
    /// [`Freshness`]): on a leader at `leading`, each connected follower;
    /// on a follower, `me` itself.
    pub fn up_to_date(&self, leading: Option<Generation>, me: &str) -> BTreeMap<String, bool> {
        let now = std::time::Instant::now();
        let freshness = lock(&self.0.freshness);
        match leading {
            Some(leader) => self
                .followers(leader)
                .into_iter()
                .map(|f| {
                    let fresh = freshness.up_to_date(Source::OwnStore, now, f.generation, leader);
                    (f.node, fresh)
                })
                .fold(BTreeMap::new(), |mut m, (node, fresh)| {
                    *m.entry(node).or_insert(false) |= fresh;
                    m
                }),
            None => {
                let s = self.leader_session();
                let fresh = s.connected
                    && s.leader_generation.is_some_and(|l| {
                        freshness.up_to_date(Source::LeaderFrames, now, s.generation, l)
                    });
                BTreeMap::from([(me.to_owned(), fresh)])
            }
        }
    }

    /// Updates the follower's session record.
    pub fn update_leader_session(&self, f: impl FnOnce(&mut LeaderSession)) {
        f(&mut lock(&self.0.leader));
        self.notify();
    }

    /// A follower's snapshot copy of `total` bytes begins now; its id, for
    /// [`ReplicationState::catch_up_staged`] and
    /// [`ReplicationState::catch_up_ended`] (a copy that outlived its
    /// session cannot touch the next one's).
    pub fn catch_up_began(&self, total: u64) -> u64 {
        let id = self.0.next_catch_up.fetch_add(1, Ordering::Relaxed);
        let copy = CatchUp::new(total, std::time::Instant::now(), Utc::now());
        *lock(&self.0.catch_up) = Some((id, copy));
        id
    }

    /// Counts what copy `id`'s installer staged.
    pub fn catch_up_staged(&self, id: u64, staged: skein_store::stream::snapshot::Staged) {
        if let Some((current, copy)) = lock(&self.0.catch_up).as_mut() {
            if *current == id {
                copy.staged(staged);
            }
        }
    }

    /// Copy `id` ended (installed, failed or abandoned): no progress to show.
    pub fn catch_up_ended(&self, id: u64) {
        let mut copy = lock(&self.0.catch_up);
        if copy.as_ref().is_some_and(|(current, _)| *current == id) {
            *copy = None;
        }
    }

    /// The follower's snapshot copy in progress, as of now.
    pub fn catch_up(&self) -> Option<CatchUpProgress> {
        let copy = lock(&self.0.catch_up);
        copy.as_ref()
            .map(|(_, c)| c.progress(std::time::Instant::now()))
    }

    /// What this node refused from peers, by kind.
    pub fn refusals(&self) -> &super::Refusals {
        &self.0.refusals
    }

    /// The trusted CAs were reloaded: the follower's session with its
    /// leader (over `wss://`) reconnects, so a leader whose certificate is
    /// no longer trusted is refused instead of kept on an old verification.
    pub fn verify_leader_again(&self) {
        self.0.leader_trust_changed.notify_one();
    }

    /// Resolves once [`ReplicationState::verify_leader_again`] was called.
    pub(super) async fn leader_trust_changed(&self) {
        self.0.leader_trust_changed.notified().await;
    }

    /// Ends a follower's session with a node that no longer leads, so that
    /// it reconnects to the one that does.
    pub fn follow_new_leader(&self) {
        self.0.leader_moved.notify_one();
    }

    /// Resolves once [`ReplicationState::follow_new_leader`] was called.
    pub(super) async fn leader_moved(&self) {
        self.0.leader_moved.notified().await;
    }

    /// Records that the leader `name` welcomed this follower at `uri`.
    pub fn leader_reached(&self, name: &str, uri: &str) {
        lock(&self.0.leaders_reached).insert(name.to_owned(), uri.to_owned());
    }

    /// The cluster URI at which the leader `name` welcomed this follower.
    pub fn where_leader_was_reached(&self, name: &str) -> Option<String> {
        lock(&self.0.leaders_reached).get(name).cloned()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn followers_are_tracked_with_their_lag() {
        let s = ReplicationState::default();
        let id = s.connection_accepted();
        s.follower_established(id, "b", 1, Generation::ZERO);
        let g = Generation { model: 1, write: 5 };
        s.follower_acked(id, g);
        let f = s.followers(Generation { model: 1, write: 8 });
        assert_eq!(f.len(), 1);
        assert_eq!(
            (f[0].node.as_str(), f[0].generation, f[0].ops_behind),
            ("b", g, 3)
        );
        s.invalid_key();
        assert_eq!(
            s.counters(),
            ReplicationCounters {
                accepted: 1,
                invalid_key: 1,
                established: 1
            }
        );
        let r = s.reported();
        assert_eq!((r.accepted, r.invalid_key, r.established), (1, 1, 1));
        assert_eq!(
            r.state, None,
            "a leader leaves the state to the coordinator"
        );
        s.update_leader_session(|l| {
            l.last_error = Some("connection refused".into());
        });
        assert_eq!(
            s.reported().state.as_deref(),
            Some("not replicating: connection refused")
        );
        s.note_set_aside("set aside 3 events from a divergent tail to /x.clef".into());
        assert_eq!(
            s.reported().state.as_deref(),
            Some("not replicating: connection refused; set aside 3 events from a divergent tail to /x.clef")
        );
        assert_eq!(s.leader_session().set_aside.len(), 1);
        s.follower_gone(id);
        assert!(s.followers(g).is_empty());
        assert_eq!(s.known_followers(), ["b"]);
    }

    #[test]
    fn a_catch_up_is_shown_while_it_runs_and_only_its_own_reports_count() {
        use skein_store::stream::snapshot::Staged;
        let s = ReplicationState::default();
        assert_eq!(s.catch_up(), None);
        let old = s.catch_up_began(100);
        s.catch_up_staged(old, Staged::Fetched(10));
        let new = s.catch_up_began(200);
        s.catch_up_staged(old, Staged::Fetched(5));
        s.catch_up_staged(new, Staged::Kept(50));
        s.catch_up_staged(new, Staged::Fetched(30));
        let p = s.catch_up().expect("a copy runs");
        assert_eq!((p.copied_bytes, p.total_bytes), (80, 200));
        s.catch_up_ended(old);
        assert!(
            s.catch_up().is_some(),
            "an older copy's end leaves the newer one"
        );
        s.catch_up_ended(new);
        assert_eq!(s.catch_up(), None);
    }

    #[test]
    fn traffic_is_counted() {
        let s = ReplicationState::default();
        s.frame_sent(100, false);
        s.frame_sent(40, true);
        s.frame_received(7);
        let t = s.traffic();
        assert_eq!(
            (
                t.sent_frames,
                t.sent_bytes,
                t.snapshot_sent_bytes,
                t.received_bytes
            ),
            (2, 140, 40, 7)
        );
    }
}
