//! [`ReplicationSender`]: the leader's side of one follower session, a
//! WebSocket actor on the cluster port. It authenticates the follower, finds
//! the last position the follower's history shares with its own (a follower
//! past it — a returning old leader — sets its tail aside first), then
//! streams the store's history after that position in `Ops`
//! frames of bounded size, keeping at most a few unacknowledged (a slow
//! follower slows only its own stream), pushes new operations as soon as the
//! StoreWriter announces them, and sends heartbeats; when the follower's
//! position is older than the history kept, it serves a snapshot instead
//! ([`super::source`]). A malformed or
//! unexpected frame ends the session with a logged reason. A node that
//! learns of a newer term ends its sessions at once; one fenced in its own
//! term (its lease ran out) first streams the follower the rest of what it
//! holds.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Instant;

use actix::prelude::*;
use actix_web_actors::ws;
use skein_store::stream::{common_point, TermStart};
use skein_store::{Generation, Store};

use super::auth::{new_nonce, NONCE_LEN};
use super::endpoint::SenderHub;
use super::protocol::{Frame, PROTOCOL_VERSION};
use super::seal::SessionSeal;
use super::source::{self, NextOps};
use super::timing::{HANDSHAKE_TIMEOUT, HEARTBEAT, IDLE_TIMEOUT, MAX_UNACKED_FRAMES};
use super::{ClusterSetup, ReplicationError, WireError};
use crate::messages::{GenerationAdvanced, ReportHealth, Role, RoleView, SubscribeGenerations};

pub(super) enum Phase {
    AwaitHello,
    AwaitProof {
        node: String,
        nonce_l: Vec<u8>,
        nonce_f: Vec<u8>,
        store_id: String,
        term_history: Vec<TermStart>,
        generation: Generation,
    },
    /// The follower sets aside what it holds past `common`.
    AwaitSetAside {
        node: String,
        common: Generation,
    },
    Streaming {
        node: String,
    },
    /// The follower copies a snapshot (it reconnects afterwards).
    Snapshotting,
    Closed,
}

/// The leader's side of one follower session.
pub struct ReplicationSender {
    pub(super) store: Arc<Store>,
    generations: Recipient<SubscribeGenerations>,
    /// The node's role as its owner publishes it.
    role: RoleView,
    setup: ClusterSetup,
    health: Option<Recipient<ReportHealth>>,
    /// The term this session serves (the node's when it was accepted).
    term: u64,
    store_id: String,
    session: u64,
    pub(super) peer: String,
    pub(super) phase: Phase,
    last_heard: Instant,
    sent: Generation,
    unacked: VecDeque<Generation>,
    fetching: bool,
    /// The node stopped leading in this term; the session ends once the
    /// follower holds everything ([`ReplicationSender::drain_then_end`]).
    draining: bool,
    /// Seals frames once `Welcome` is sent.
    seal: Option<SessionSeal>,
}

pub(super) type Ctx = ws::WebsocketContext<ReplicationSender>;

impl ReplicationSender {
    /// A session in the node's current term for a connection from `peer`.
    pub fn new(hub: &SenderHub, store_id: String, session: u64, peer: String) -> ReplicationSender {
        ReplicationSender {
            store: hub.store.clone(),
            generations: hub.generations.clone(),
            role: hub.role.clone(),
            setup: hub.setup.clone(),
            health: hub.health.clone(),
            term: hub.role.now().term,
            store_id,
            session,
            peer,
            phase: Phase::AwaitHello,
            last_heard: Instant::now(),
            sent: Generation::ZERO,
            unacked: VecDeque::new(),
            fetching: false,
            draining: false,
            seal: None,
        }
    }

    /// Shows the followers and counters as the (healthy) `replication` component.
    fn report(&self) {
        if let Some(health) = &self.health {
            let summary = self.setup.state.summary(self.store.generation());
            health.do_send(ReportHealth(summary));
        }
    }

    pub(super) fn send(&mut self, ctx: &mut Ctx, frame: &Frame) {
        match frame.encode() {
            Ok(bytes) => {
                let chunk = matches!(frame, Frame::FileChunk { .. });
                self.binary(ctx, bytes, chunk);
            }
            Err(e) => self.end(ctx, &e.to_string()),
        }
    }

    /// Sends an encoded frame, sealed once the session is established.
    fn binary(&mut self, ctx: &mut Ctx, bytes: Vec<u8>, chunk: bool) {
        let bytes = match &mut self.seal {
            Some(seal) => seal.seal(bytes),
            None => bytes,
        };
        self.setup.state.frame_sent(bytes.len(), chunk);
        ctx.binary(bytes);
    }

    /// Sends `Refused { reason }`, logs it and closes the session.
    pub(super) fn end(&mut self, ctx: &mut Ctx, reason: &str) {
        if matches!(self.phase, Phase::Closed) {
            return;
        }
        log::warn!("replication session with {} ended: {reason}", self.peer);
        self.phase = Phase::Closed;
        if let Ok(bytes) = (Frame::Refused {
            reason: reason.to_owned(),
        })
        .encode()
        {
            self.binary(ctx, bytes, false);
        }
        ctx.close(Some(ws::CloseReason {
            code: ws::CloseCode::Policy,
            description: Some(reason.chars().take(100).collect()),
        }));
        ctx.stop();
    }

    fn on_frame(&mut self, ctx: &mut Ctx, frame: Frame) -> Result<(), ReplicationError> {
        match (&self.phase, frame) {
            (
                Phase::AwaitHello,
                Frame::Hello {
                    protocol,
                    node,
                    store_id,
                    term_history,
                    generation,
                    nonce_f,
                },
            ) => {
                if protocol != PROTOCOL_VERSION {
                    return Err(ReplicationError::Refused(format!(
                        "protocol version {protocol} is not supported (this node speaks {PROTOCOL_VERSION})"
                    )));
                }
                let now = self.role.now();
                if !now.role.accepts_writes() || now.term != self.term {
                    return Err(ReplicationError::Refused(format!(
                        "this node is a {} in term {}, not the leader",
                        now.role.name(),
                        now.term
                    )));
                }
                if nonce_f.len() != NONCE_LEN || node.is_empty() || node.len() > 255 {
                    return Err(WireError::Malformed("bad Hello".into()).into());
                }
                let nonce_l = new_nonce()?;
                self.send(
                    ctx,
                    &Frame::Challenge {
                        nonce_l: nonce_l.clone(),
                    },
                );
                self.phase = Phase::AwaitProof {
                    node,
                    nonce_l,
                    nonce_f,
                    store_id,
                    term_history,
                    generation,
                };
                Ok(())
            }
            (Phase::AwaitProof { .. }, Frame::Proof { hmac }) => {
                let Phase::AwaitProof {
                    node,
                    nonce_l,
                    nonce_f,
                    store_id,
                    term_history,
                    generation,
                } = std::mem::replace(&mut self.phase, Phase::AwaitHello)
                else {
                    return Err(ReplicationError::Unexpected("Proof"));
                };
                if !self
                    .setup
                    .key
                    .verify_follower(&nonce_l, &nonce_f, &node, &hmac)
                {
                    self.setup.state.invalid_key();
                    self.report();
                    return Err(ReplicationError::InvalidKey);
                }
                let follower = (store_id, term_history, generation);
                self.welcome(ctx, node, &nonce_l, &nonce_f, follower)
            }
            (Phase::AwaitSetAside { .. }, Frame::SetAside { at, need_snapshot }) => {
                let Phase::AwaitSetAside { node, common } =
                    std::mem::replace(&mut self.phase, Phase::AwaitHello)
                else {
                    return Err(ReplicationError::Unexpected("SetAside"));
                };
                if need_snapshot {
                    log::info!("follower {node} set its divergent tail aside at {at}");
                    self.start_snapshot(ctx, format!("its store past {common} was set aside"));
                    return Ok(());
                }
                if at.ops() > common.ops() {
                    return Err(ReplicationError::Refused(format!(
                        "the follower is at {at}, past the common point {common}"
                    )));
                }
                log::info!("follower {node} set its divergent tail aside; streaming after {at}");
                self.stream_from(ctx, node, at);
                Ok(())
            }
            (Phase::Streaming { .. }, Frame::Ack { generation }) => {
                if generation > self.sent {
                    return Err(ReplicationError::Refused(format!(
                        "acknowledged generation {generation} was never sent"
                    )));
                }
                while self.unacked.front().is_some_and(|g| *g <= generation) {
                    self.unacked.pop_front();
                }
                self.setup.state.follower_acked(self.session, generation);
                self.pump(ctx);
                Ok(())
            }
            (
                Phase::Snapshotting,
                Frame::ChunkRequest {
                    name,
                    offset,
                    max_len,
                },
            ) => {
                self.serve_chunk(ctx, name, offset, max_len);
                Ok(())
            }
            // An answer to a heartbeat sent before the snapshot began.
            (Phase::Snapshotting, Frame::Ack { .. }) => Ok(()),
            (_, Frame::Refused { reason }) => Err(ReplicationError::Refused(reason)),
            (_, other) => Err(ReplicationError::Unexpected(other.kind())),
        }
    }

    fn welcome(
        &mut self,
        ctx: &mut Ctx,
        node: String,
        nonce_l: &[u8],
        nonce_f: &[u8],
        (store_id, term_history, generation): (String, Vec<TermStart>, Generation),
    ) -> Result<(), ReplicationError> {
        let ours = self.store.generation();
        // Another store shares nothing with ours: the follower moves it aside whole.
        let common = if store_id != self.store_id {
            Generation::ZERO
        } else {
            let history = self.store.term_history();
            common_point(&term_history, generation, &history, ours)
        };
        let proof_l = self.setup.key.leader_proof(nonce_l, nonce_f, &node);
        self.send(
            ctx,
            &Frame::Welcome {
                leader: self.setup.node_name.clone(),
                term: self.term,
                store_id: self.store_id.clone(),
                generation: ours,
                common,
                proof_l,
            },
        );
        self.seal = Some(SessionSeal::leader(
            &self.setup.key,
            nonce_l,
            nonce_f,
            &node,
        ));
        log::info!(
            "follower {node} ({}) connected at generation {generation}; leader at {ours}",
            self.peer
        );
        self.setup.state.follower_established(
            self.session,
            &node,
            self.term,
            common.min(generation),
        );
        self.report();
        ctx.run_interval(HEARTBEAT, |act, ctx| act.heartbeat(ctx));
        if generation == common {
            self.stream_from(ctx, node, generation);
        } else {
            log::warn!(
                "follower {node} holds operations this leader never had (it is at {generation}, \
                 the histories part after {common}); it sets them aside before following"
            );
            self.phase = Phase::AwaitSetAside { node, common };
        }
        Ok(())
    }

    /// Starts streaming the history after `at`, which the follower holds.
    fn stream_from(&mut self, ctx: &mut Ctx, node: String, at: Generation) {
        self.phase = Phase::Streaming { node };
        self.sent = at;
        self.generations
            .do_send(SubscribeGenerations(ctx.address().recipient()));
        self.pump(ctx);
    }

    fn heartbeat(&mut self, ctx: &mut Ctx) {
        if self.last_heard.elapsed() > IDLE_TIMEOUT {
            let e = ReplicationError::Timeout(IDLE_TIMEOUT);
            return self.end(ctx, &e.to_string());
        }
        let generation = self.store.generation();
        self.send(ctx, &Frame::Heartbeat { generation });
        self.pump(ctx);
        // A node that moved to another term ends its sessions; one that
        // stopped leading in this term drains them first.
        let now = self.role.now();
        if now.term != self.term {
            let why = format!("this node is now {} in term {}", now.role.name(), now.term);
            self.end(ctx, &why);
        } else if now.role.accepts_writes() {
            self.draining = false;
        } else {
            self.drain_then_end(ctx, now.role);
        }
    }

    /// A leader fenced in the session's own term (its lease ran out and no
    /// newer leader is known) accepts no more writes, but the follower may
    /// still lack the last ones it acknowledged to clients. The session
    /// streams on until the follower has acknowledged everything this store
    /// holds, then ends: those writes reach the node that leads next instead
    /// of being set aside on this one when it follows.
    fn drain_then_end(&mut self, ctx: &mut Ctx, role: Role) {
        let streaming = matches!(self.phase, Phase::Streaming { .. });
        let holds_all = self.unacked.is_empty() && self.sent >= self.store.generation();
        if !streaming || holds_all {
            let mut why = format!("this node is now {} in term {}", role.name(), self.term);
            if streaming {
                why.push_str("; the follower holds all it had");
            }
            return self.end(ctx, &why);
        }
        if !self.draining {
            self.draining = true;
            log::warn!(
                "stopped leading in term {}: streaming the rest to {} before ending the session",
                self.term,
                self.peer
            );
        }
    }

    /// Sends the next `Ops` frame when the follower is behind and the window allows.
    fn pump(&mut self, ctx: &mut Ctx) {
        if !matches!(self.phase, Phase::Streaming { .. })
            || self.fetching
            || self.unacked.len() >= MAX_UNACKED_FRAMES
            || self.sent >= self.store.generation()
        {
            return;
        }
        self.fetching = true;
        let (store, after) = (self.store.clone(), self.sent);
        let read = async move {
            tokio::task::spawn_blocking(move || source::next_ops(&store, after))
                .await
                .unwrap_or_else(|e| Err(ReplicationError::Connection(e.to_string())))
        };
        ctx.spawn(read.into_actor(self).map(|read, act, ctx| {
            act.fetching = false;
            match read {
                Ok(NextOps::Frame(bytes, last)) => {
                    act.binary(ctx, bytes, false);
                    act.sent = last;
                    act.unacked.push_back(last);
                    act.pump(ctx);
                }
                Ok(NextOps::UpToDate) => {}
                // Streaming starts only at a position the follower shares with
                // this history (a divergent tail was set aside first), so a
                // snapshot replaces nothing that only the follower holds.
                Ok(NextOps::TooOld(why)) => act.start_snapshot(ctx, why),
                Err(e) => act.end(ctx, &e.to_string()),
            }
        }));
    }
}

impl Actor for ReplicationSender {
    type Context = Ctx;

    fn started(&mut self, ctx: &mut Ctx) {
        ctx.run_later(HANDSHAKE_TIMEOUT, |act, ctx| {
            if matches!(act.phase, Phase::AwaitHello | Phase::AwaitProof { .. }) {
                act.end(ctx, "the handshake timed out");
            }
        });
    }

    fn stopped(&mut self, _: &mut Ctx) {
        self.setup.state.follower_gone(self.session);
        if let Phase::Streaming { node } = &self.phase {
            log::info!("follower {node} disconnected");
        }
        self.report();
    }
}

impl StreamHandler<Result<ws::Message, ws::ProtocolError>> for ReplicationSender {
    fn handle(&mut self, msg: Result<ws::Message, ws::ProtocolError>, ctx: &mut Ctx) {
        self.last_heard = Instant::now();
        let outcome = match msg {
            Ok(ws::Message::Binary(bytes)) => {
                let refusals = self.setup.state.refusals();
                let opened = match &mut self.seal {
                    Some(seal) => seal.open(&bytes).inspect_err(|_| refusals.session_check()),
                    None => Ok(&bytes[..]),
                };
                let handshake = self.seal.is_none();
                opened
                    .and_then(Frame::decode)
                    .map_err(ReplicationError::from)
                    .and_then(|frame| self.on_frame(ctx, frame))
                    .inspect_err(|e| {
                        let bad = matches!(
                            e,
                            ReplicationError::Wire(WireError::Malformed(_))
                                | ReplicationError::Unexpected(_)
                        );
                        if handshake && bad {
                            self.setup.state.refusals().malformed_handshake();
                        }
                    })
            }
            Ok(ws::Message::Ping(p)) => {
                ctx.pong(&p);
                Ok(())
            }
            Ok(ws::Message::Pong(_) | ws::Message::Nop) => Ok(()),
            Ok(ws::Message::Close(reason)) => {
                log::info!("{} closed the replication session: {reason:?}", self.peer);
                self.phase = Phase::Closed;
                ctx.stop();
                Ok(())
            }
            Ok(ws::Message::Text(_) | ws::Message::Continuation(_)) => Err(ReplicationError::from(
                WireError::Malformed("only binary frames are spoken here".into()),
            )),
            Err(e) => Err(ReplicationError::Connection(e.to_string())),
        };
        if let Err(e) = outcome {
            self.end(ctx, &e.to_string());
        }
    }
}

impl Handler<GenerationAdvanced> for ReplicationSender {
    type Result = ();

    fn handle(&mut self, _: GenerationAdvanced, ctx: &mut Ctx) {
        self.pump(ctx);
    }
}
