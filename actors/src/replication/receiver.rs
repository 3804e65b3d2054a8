//! [`ReplicationReceiver`]: a follower's side of replication. It connects to
//! the leader's cluster port (awc), authenticates with the cluster key and
//! checks the leader's proof, sets aside whatever it holds past the point
//! its history shares with the leader's ([`super::set_aside`]), then
//! applies the leader's operations (by
//! copying bytes, on a blocking thread) and acknowledges each generation it
//! holds durably. A lost or failed session is retried with exponential
//! backoff; the session's state is published in [`ReplicationState`] and as
//! the `replication` health component. When the trusted CAs are reloaded
//! (SIGHUP) the session reconnects, verifying the leader again.

use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use awc::ws;
use chrono::Utc;
use futures_util::{SinkExt as _, StreamExt as _};
use skein_store::Store;

use super::auth::new_nonce;
use super::find_leader::{find_leader, LeaderAt, Port};
use super::protocol::{Frame, PROTOCOL_VERSION};
use super::seal::SessionSeal;
use super::set_aside::reconcile;
use super::snapshot_copy::install_snapshot;
use super::timing::{
    BACKOFF_MAX, BACKOFF_MIN, HANDSHAKE_TIMEOUT, IDLE_TIMEOUT, MAX_FRAME_BYTES, UNHEALTHY_AFTER,
};
use super::{blocking, ClusterSetup, ReplicationError, ReplicationState, WireError};
use crate::messages::{ComponentHealth, LeaderAddress, ReportHealth, RoleView, StopReceiver};

/// The follower's replication actor.
pub struct ReplicationReceiver {
    store: Arc<Store>,
    setup: ClusterSetup,
    health: Option<Recipient<ReportHealth>>,
    /// Where the node's owner publishes the leader (absent: the configured
    /// peers are tried in turn).
    leader: Option<RoleView>,
}

impl ReplicationReceiver {
    /// A receiver replicating into `store` from `setup.peer_cluster_uri`.
    pub fn new(
        store: Arc<Store>,
        setup: ClusterSetup,
        health: Option<Recipient<ReportHealth>>,
    ) -> ReplicationReceiver {
        ReplicationReceiver {
            store,
            setup,
            health,
            leader: None,
        }
    }

    /// Follows the leader `view` publishes: connects to it, and leaves a
    /// session with a node that no longer leads.
    pub fn following(mut self, view: RoleView) -> ReplicationReceiver {
        self.leader = Some(view);
        self
    }
}

/// Where a follower looks for the leader on its `attempt`-th try, by
/// [`find_leader`]'s rule: where the published leader welcomed it before (a
/// configured peer); else the cluster URI in the leader's heartbeat row,
/// when that names a host peers can reach; else the configured peers in
/// turn (a node that does not lead refuses the session, and the next is
/// tried).
pub fn leader_uri(
    setup: &ClusterSetup,
    leader: Option<&LeaderAddress>,
    attempt: usize,
) -> Option<String> {
    let reached = leader.and_then(|l| setup.state.where_leader_was_reached(&l.name));
    let peers = &setup.peer_cluster_uris;
    let at = find_leader(
        leader,
        reached.as_deref(),
        peers.iter().map(String::as_str),
        Port::Cluster,
        attempt,
    )?;
    Some(match at {
        LeaderAt::Peer(i) => peers[i].clone(),
        LeaderAt::Listed(uri) => uri.to_owned(),
    })
}

impl Actor for ReplicationReceiver {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        let run = run_forever(
            self.store.clone(),
            self.setup.clone(),
            self.health.clone(),
            self.leader.clone(),
        );
        ctx.spawn(run.into_actor(self));
        if let Some(view) = self.leader.clone() {
            ctx.spawn(leave_former_leaders(view, self.setup.state.clone()).into_actor(self));
        }
    }

    fn stopped(&mut self, _: &mut Context<Self>) {
        self.setup
            .state
            .update_leader_session(|s| s.connected = false);
        // The node no longer follows: an earlier failure must not linger in /health.
        report(&self.health, true, "not following".into());
        log::info!("replication receiver stopped");
    }
}

impl Handler<StopReceiver> for ReplicationReceiver {
    type Result = ();

    fn handle(&mut self, _: StopReceiver, ctx: &mut Context<Self>) {
        ctx.stop();
    }
}

fn report(health: &Option<Recipient<ReportHealth>>, healthy: bool, detail: String) {
    if let Some(h) = health {
        h.do_send(ReportHealth(ComponentHealth {
            component: "replication",
            healthy,
            detail,
        }));
    }
}

/// Ends the session with a leader that another node replaced, each time
/// `view` publishes a leader the session does not replicate from.
async fn leave_former_leaders(mut view: RoleView, state: ReplicationState) {
    loop {
        view.leader_changed().await;
        let published = view.leader().map(|l| l.name);
        let session = state.leader_session();
        if session.connected && published.is_some() && session.leader != published {
            state.follow_new_leader();
        }
    }
}

/// Sessions, one after another, with exponential backoff between failures.
async fn run_forever(
    store: Arc<Store>,
    setup: ClusterSetup,
    health: Option<Recipient<ReportHealth>>,
    mut leader: Option<RoleView>,
) {
    let mut backoff = BACKOFF_MIN;
    let (mut logged, mut reported) = (String::new(), String::new());
    let mut failing_since = Instant::now();
    for attempt in 0usize.. {
        if let Some(view) = leader.as_mut() {
            view.mark_leader_seen();
        }
        let published = leader.as_ref().and_then(RoleView::leader);
        let Some(url) = leader_uri(&setup, published.as_ref(), attempt) else {
            report(
                &health,
                false,
                "no peer is configured (cluster.peerClusterUri)".into(),
            );
            return;
        };
        let mut established = false;
        let outcome = session(&store, &setup, &url, &health, &mut established).await;
        let error = match outcome {
            Ok(()) => {
                // A snapshot was installed: stream what follows it at once.
                backoff = BACKOFF_MIN;
                continue;
            }
            Err(ReplicationError::LeaderMoved) => {
                log::info!("replication from {url}: another node leads now; reconnecting");
                backoff = BACKOFF_MIN;
                continue;
            }
            Err(e @ (ReplicationError::Connection(_) | ReplicationError::Timeout(_))) => {
                format!("cannot reach the leader: {e}")
            }
            Err(e) => e.to_string(),
        };
        setup.state.update_leader_session(|s| {
            s.connected = false;
            s.last_error = Some(error.clone());
        });
        if established {
            backoff = BACKOFF_MIN;
            failing_since = Instant::now();
            (logged, reported) = (String::new(), String::new());
        }
        if error != logged {
            log::warn!("replication from {url}: {error}; retrying");
            logged = error.clone();
        }
        // Brief interruptions (a reconnect) do not flap the node's health.
        if failing_since.elapsed() >= UNHEALTHY_AFTER && error != reported {
            report(
                &health,
                false,
                format!("not replicating from {url}: {error}"),
            );
            reported = error;
        }
        // A newly published leader is tried at once.
        let moved = async {
            match leader.as_mut() {
                Some(view) => view.leader_changed().await,
                None => std::future::pending().await,
            }
        };
        backoff = tokio::select! {
            () = tokio::time::sleep(backoff) => (backoff * 2).min(BACKOFF_MAX),
            () = moved => BACKOFF_MIN,
        };
    }
}

type Conn = actix_codec::Framed<awc::BoxedSocket, ws::Codec>;

/// The connection to the leader, its frames sealed once the session is
/// established (see [`SessionSeal`]).
pub(super) struct Channel {
    conn: Conn,
    seal: Option<SessionSeal>,
}

impl Channel {
    pub(super) async fn send(&mut self, frame: &Frame) -> Result<(), ReplicationError> {
        let bytes = frame.encode()?;
        let bytes = match &mut self.seal {
            Some(seal) => seal.seal(bytes),
            None => bytes,
        };
        self.conn
            .send(ws::Message::Binary(bytes.into()))
            .await
            .map_err(|e| ReplicationError::Connection(e.to_string()))
    }

    /// The next frame from the leader (its bytes counted in `state`),
    /// answering pings on the way.
    pub(super) async fn next_frame(
        &mut self,
        limit: Duration,
        state: &ReplicationState,
    ) -> Result<Frame, ReplicationError> {
        next_frame(&mut self.conn, &mut self.seal, limit, state).await
    }
}

async fn next_frame(
    conn: &mut Conn,
    seal: &mut Option<SessionSeal>,
    limit: Duration,
    state: &ReplicationState,
) -> Result<Frame, ReplicationError> {
    loop {
        // Only a wait is cut short, never an apply: a reconnect resumes
        // from what the store durably holds.
        let item = tokio::select! {
            item = tokio::time::timeout(limit, conn.next()) => {
                item.map_err(|_| ReplicationError::Timeout(limit))?
            }
            () = state.leader_trust_changed() => return Err(ReplicationError::TrustReloaded),
            () = state.leader_moved() => return Err(ReplicationError::LeaderMoved),
        };
        let frame = match item {
            None => return Err(ReplicationError::Connection("closed by the leader".into())),
            Some(f) => f.map_err(|e| ReplicationError::Connection(e.to_string()))?,
        };
        match frame {
            ws::Frame::Binary(bytes) => {
                state.frame_received(bytes.len());
                let frame = match seal {
                    Some(seal) => seal
                        .open(&bytes)
                        .inspect_err(|_| state.refusals().session_check())?,
                    None => &bytes[..],
                };
                return match Frame::decode(frame)? {
                    Frame::Refused { reason } => Err(ReplicationError::Refused(reason)),
                    f => Ok(f),
                };
            }
            ws::Frame::Ping(p) => conn
                .send(ws::Message::Pong(p))
                .await
                .map_err(|e| ReplicationError::Connection(e.to_string()))?,
            ws::Frame::Pong(_) => {}
            ws::Frame::Close(reason) => {
                return Err(ReplicationError::Connection(format!(
                    "closed by the leader: {reason:?}"
                )))
            }
            ws::Frame::Text(_) | ws::Frame::Continuation(_) => {
                return Err(
                    WireError::Malformed("only binary frames are spoken here".into()).into(),
                )
            }
        }
    }
}

/// One session: handshake, then apply and acknowledge until it fails.
async fn session(
    store: &Arc<Store>,
    setup: &ClusterSetup,
    url: &str,
    health: &Option<Recipient<ReportHealth>>,
    established: &mut bool,
) -> Result<(), ReplicationError> {
    let builder = awc::Client::builder().timeout(HANDSHAKE_TIMEOUT);
    let client = match &setup.client_tls {
        Some(tls) => builder
            .connector(awc::Connector::new().rustls_0_23(tls.clone()))
            .finish(),
        None => builder.finish(),
    };
    let (_, conn) = client
        .ws(url)
        .max_frame_size(MAX_FRAME_BYTES)
        .connect()
        .await
        .map_err(|e| ReplicationError::Connection(e.to_string()))?;
    let mut conn = Channel { conn, seal: None };
    let s = store.clone();
    let (status, term_history) = blocking(move || Ok((s.status(), s.term_history()))).await?;
    let node = setup.node_name.clone();
    let nonce_f = new_nonce()?;
    let hello = Frame::Hello {
        protocol: PROTOCOL_VERSION,
        node: node.clone(),
        store_id: status.store_id.clone(),
        term_history,
        generation: status.generation,
        nonce_f: nonce_f.clone(),
    };
    conn.send(&hello).await?;
    let nonce_l = match conn.next_frame(HANDSHAKE_TIMEOUT, &setup.state).await? {
        Frame::Challenge { nonce_l } => nonce_l,
        f => {
            setup.state.refusals().malformed_handshake();
            return Err(ReplicationError::Unexpected(f.kind()));
        }
    };
    let hmac = setup.key.follower_proof(&nonce_l, &nonce_f, &node);
    conn.send(&Frame::Proof { hmac }).await?;
    let (leader, leader_generation) = match conn.next_frame(HANDSHAKE_TIMEOUT, &setup.state).await?
    {
        Frame::Welcome {
            leader,
            term,
            store_id,
            generation,
            common,
            proof_l,
        } => {
            if !setup.key.verify_leader(&nonce_l, &nonce_f, &node, &proof_l) {
                setup.state.refusals().forged_leader();
                return Err(ReplicationError::InvalidKey);
            }
            conn.seal = Some(SessionSeal::follower(&setup.key, &nonce_l, &nonce_f, &node));
            let state = &setup.state;
            state.leader_reached(&leader, url);
            if let Some(answer) = reconcile(store, state, &status, store_id, common).await? {
                conn.send(&answer).await?;
            }
            log::info!(
                "replicating from {leader} (term {term}, generation {generation}); this node is at {}",
                status.generation
            );
            (leader, generation)
        }
        f => {
            setup.state.refusals().malformed_handshake();
            return Err(ReplicationError::Unexpected(f.kind()));
        }
    };
    *established = true;
    let state: &ReplicationState = &setup.state;
    state.update_leader_session(|s| {
        s.connected = true;
        s.leader = Some(leader.clone());
        s.leader_generation = Some(leader_generation);
        s.generation = store.generation();
        s.last_sync_at = Some(Utc::now());
        s.last_error = None;
    });
    let aside = state.leader_session().set_aside;
    let note = aside.last().map(|a| format!("; {a}")).unwrap_or_default();
    report(health, true, format!("replicating from {leader}{note}"));
    loop {
        let acked = match conn.next_frame(IDLE_TIMEOUT, state).await? {
            Frame::Ops { items } => {
                let s = store.clone();
                blocking(move || s.apply(&items)).await?
            }
            Frame::Heartbeat { generation } => {
                state.update_leader_session(|s| s.leader_generation = Some(generation));
                store.generation()
            }
            Frame::Snapshot { plan } => {
                let reached = install_snapshot(store, &mut conn, plan, state, &leader).await?;
                state.update_leader_session(|s| s.generation = reached);
                return Ok(());
            }
            f => return Err(ReplicationError::Unexpected(f.kind())),
        };
        state.update_leader_session(|s| {
            s.generation = acked;
            s.last_sync_at = Some(Utc::now());
        });
        conn.send(&Frame::Ack { generation: acked }).await?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::replication::ClusterKey;

    /// Replication connects at cluster URIs, as configured: the peers in
    /// turn, the leader's listed one, the peer that welcomed it.
    #[test]
    fn the_leader_is_looked_for_at_cluster_uris() {
        let setup = ClusterSetup {
            node_name: "a".into(),
            key: ClusterKey::new("k3y").unwrap(),
            peer_cluster_uris: vec!["ws://b.example:5344/".into(), "ws://c.example:5344/".into()],
            state: ReplicationState::default(),
            client_tls: None,
        };
        let uri = |leader, attempt| leader_uri(&setup, leader, attempt);
        assert_eq!(uri(None, 0).as_deref(), Some("ws://b.example:5344/"));
        assert_eq!(uri(None, 1).as_deref(), Some("ws://c.example:5344/"));
        let d = LeaderAddress {
            name: "node-d".into(),
            term: 2,
            cluster_uri: Some("ws://d.example:5344".into()),
            internal_api_uri: Some("http://d.example".into()),
        };
        assert_eq!(uri(Some(&d), 0).as_deref(), Some("ws://d.example:5344"));
        setup.state.leader_reached("node-d", "ws://c.example:5344/");
        assert_eq!(uri(Some(&d), 0).as_deref(), Some("ws://c.example:5344/"));
    }
}
