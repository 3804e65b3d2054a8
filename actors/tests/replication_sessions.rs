//! In-process replication sessions: a leader's cluster endpoint on an
//! ephemeral port and a ReplicationReceiver (or a raw WebSocket client)
//! against it; covers catch-up, live pushes, refusals and malformed frames.

use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::{web, App, HttpServer};
use awc::ws;
use futures_util::{SinkExt as _, StreamExt as _};
use skein_actors::messages::{Role, RolePublisher, RoleSnapshot};
use skein_actors::replication::endpoint::{self, SenderHub};
use skein_actors::replication::protocol::{Frame, PROTOCOL_VERSION};
use skein_actors::replication::seal::SessionSeal;
use skein_actors::replication::timing::HEARTBEAT;
use skein_actors::replication::{ClusterKey, ClusterSetup, ReplicationReceiver, ReplicationState};
use skein_actors::NodeActors;
use skein_store::event::parse_clef;
use skein_store::{Generation, Store, StoreOptions};

type Conn = actix_codec::Framed<awc::BoxedSocket, ws::Codec>;

fn opts() -> StoreOptions {
    StoreOptions {
        disk_floor_bytes: 0,
        ..StoreOptions::default()
    }
}

fn setup(name: &str, key: &str, peer: Option<String>) -> ClusterSetup {
    ClusterSetup {
        node_name: name.into(),
        key: ClusterKey::new(key).unwrap(),
        peer_cluster_uris: peer.into_iter().collect(),
        state: ReplicationState::default(),
        client_tls: None,
    }
}

fn append(store: &Store, n: usize) {
    let body: String = (0..n)
        .map(|i| format!("{{\"@t\":\"2026-01-01T00:00:00Z\",\"@mt\":\"n {{N}}\",\"N\":{i}}}\n"))
        .collect();
    store
        .append_events(&parse_clef(body.as_bytes()).unwrap())
        .unwrap();
}

/// Starts a node's actors in `role` and its cluster endpoint; returns them,
/// the owner of their role (the test plays the ClusterCoordinator) and the URL.
fn leader(
    store: Arc<Store>,
    role: Role,
    setup: ClusterSetup,
) -> (NodeActors, RolePublisher, String) {
    let mut owner = RolePublisher::new(RoleSnapshot::initial(role, 1));
    let actors = NodeActors::start_clustered(store.clone(), &mut owner, Some(setup.clone()), None);
    let hub = web::Data::new(SenderHub {
        store,
        generations: actors.store_writer.clone().recipient(),
        role: actors.role.clone(),
        setup,
        health: None,
    });
    let server = HttpServer::new(move || {
        App::new()
            .app_data(hub.clone())
            .configure(endpoint::configure)
    })
    .workers(1)
    .bind(("127.0.0.1", 0))
    .unwrap();
    let port = server.addrs()[0].port();
    actix_rt::spawn(server.run());
    (actors, owner, format!("ws://127.0.0.1:{port}/"))
}

async fn wait_until(limit: Duration, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < limit, "timed out after {limit:?}");
        actix_rt::time::sleep(Duration::from_millis(20)).await;
    }
}

#[test]
fn a_receiver_catches_up_follows_live_writes_and_reports_its_session() {
    actix_rt::System::new().block_on(async {
        let (da, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let a = Arc::new(Store::open(da.path(), opts()).unwrap());
        for _ in 0..30 {
            append(&a, 20);
        }
        let leader_setup = setup("a", "k3y", None);
        let (actors, _owner, url) = leader(a.clone(), Role::Leader, leader_setup.clone());
        let b = Arc::new(Store::open(db.path(), opts()).unwrap());
        let follower = setup("b", "k3y", Some(url));
        let _rx = actix::Actor::start(ReplicationReceiver::new(b.clone(), follower.clone(), None));
        wait_until(Duration::from_secs(10), || b.generation() == a.generation()).await;
        assert_eq!(
            b.status().store_id,
            a.status().store_id,
            "the empty store adopted the id"
        );
        // Live writes are pushed (through the StoreWriter's announcements).
        let body = b"{\"@t\":\"2026-01-01T00:00:00Z\",\"@mt\":\"live\"}\n";
        let block = skein_store::block::encode_block(&parse_clef(body).unwrap());
        actors
            .store_writer
            .send(skein_actors::messages::AppendBatch { block })
            .await
            .unwrap()
            .unwrap();
        wait_until(Duration::from_secs(10), || b.generation() == a.generation()).await;
        wait_until(Duration::from_secs(5), || {
            leader_setup
                .state
                .followers(a.generation())
                .first()
                .map(|f| f.generation)
                == Some(a.generation())
        })
        .await;
        let session = follower.state.leader_session();
        assert!(session.connected && session.leader.as_deref() == Some("a"));
        let c = leader_setup.state.counters();
        assert_eq!((c.invalid_key, c.established), (0, 1));
    });
}

async fn raw(url: &str) -> Conn {
    awc::Client::new().ws(url).connect().await.unwrap().1
}

async fn send(conn: &mut Conn, bytes: Vec<u8>) {
    conn.send(ws::Message::Binary(bytes.into())).await.unwrap();
}

async fn next_refusal(conn: &mut Conn) -> String {
    loop {
        match tokio::time::timeout(Duration::from_secs(5), conn.next()).await {
            Ok(Some(Ok(ws::Frame::Binary(b)))) => {
                if let Frame::Refused { reason } = Frame::decode(&b).unwrap() {
                    return reason;
                }
            }
            Ok(Some(Ok(_))) => {}
            other => panic!("no Refused frame: {other:?}"),
        }
    }
}

fn hello(protocol: u32) -> Vec<u8> {
    Frame::Hello {
        protocol,
        node: "b".into(),
        store_id: "x".into(),
        term_history: Vec::new(),
        generation: Generation::ZERO,
        nonce_f: vec![7; 32],
    }
    .encode()
    .unwrap()
}

#[test]
fn malformed_frames_wrong_versions_and_followers_are_refused_without_panics() {
    actix_rt::System::new().block_on(async {
        let d = tempfile::tempdir().unwrap();
        let store = Arc::new(Store::open(d.path(), opts()).unwrap());
        let leader_setup = setup("a", "k", None);
        let refusals = leader_setup.state.clone();
        let (_a, _owner, url) = leader(store, Role::Leader, leader_setup);
        let malformed = || refusals.refusals().counts().malformed_handshake;
        let mut c = raw(&url).await;
        send(&mut c, b"\xc1 not msgpack".to_vec()).await;
        assert!(next_refusal(&mut c).await.contains("malformed"));
        assert_eq!(malformed(), 1);

        let mut c = raw(&url).await;
        send(&mut c, hello(99)).await;
        assert!(next_refusal(&mut c).await.contains("protocol version 99"));
        assert_eq!(malformed(), 1, "an old peer is not an attack");

        let mut c = raw(&url).await;
        let ack = Frame::Ack {
            generation: Generation::ZERO,
        };
        send(&mut c, ack.encode().unwrap()).await;
        assert!(next_refusal(&mut c).await.contains("unexpected Ack"));
        assert_eq!(malformed(), 2);

        let d2 = tempfile::tempdir().unwrap();
        let other = Arc::new(Store::open(d2.path(), opts()).unwrap());
        let peer = Some("ws://127.0.0.1:9/".to_owned());
        let (_f, _owner, url) = leader(other, Role::Follower, setup("f", "k", peer));
        let mut c = raw(&url).await;
        send(&mut c, hello(PROTOCOL_VERSION)).await;
        assert!(next_refusal(&mut c).await.contains("not the leader"));
    });
}

#[test]
fn a_non_empty_store_of_another_id_is_moved_aside_and_the_leaders_store_copied() {
    actix_rt::System::new().block_on(async {
        let (da, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let a = Arc::new(Store::open(da.path(), opts()).unwrap());
        append(&a, 5);
        let (_actors, _owner, url) = leader(a.clone(), Role::Leader, setup("a", "k", None));
        let b = Arc::new(Store::open(db.path().join("Stream"), opts()).unwrap());
        append(&b, 7);
        let (old_id, old_at) = (b.status().store_id, b.generation());
        let follower = setup("b", "k", Some(url));
        let _rx = actix::Actor::start(ReplicationReceiver::new(b.clone(), follower.clone(), None));
        wait_until(Duration::from_secs(10), || {
            b.status().store_id == a.status().store_id && b.generation() == a.generation()
        })
        .await;
        assert_eq!(b.status().events, 5);
        let moved = db
            .path()
            .join("Divergent")
            .join(format!("store-{old_id}-at-{old_at}"));
        let old = Store::open(&moved, opts()).unwrap();
        assert_eq!((old.generation(), old.status().events), (old_at, 7));
        let aside = follower.state.leader_session().set_aside;
        assert_eq!(aside.len(), 1, "{aside:?}");
        assert!(aside[0].contains("moved another store"), "{aside:?}");
    });
}

/// A new leader `a` (term 2) and an old leader `b` that holds two batches
/// of term 1 that `a` never received (sealed afterwards when `seal`).
fn parted(da: &std::path::Path, db: &std::path::Path, seal: bool) -> (Arc<Store>, Arc<Store>) {
    let b = Arc::new(Store::open(db.join("Stream"), opts()).unwrap());
    b.set_term(1).unwrap();
    append(&b, 5);
    append(&b, 5);
    let a = Arc::new(Store::open_replica(da.join("Stream"), opts(), &b.status().store_id).unwrap());
    a.apply(&b.history_after(Generation::ZERO, 1 << 30).unwrap().unwrap())
        .unwrap();
    append(&b, 3);
    append(&b, 4);
    if seal {
        b.seal().unwrap();
    }
    a.set_term(2).unwrap();
    append(&a, 6);
    (a, b)
}

fn stream_files(dir: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<_> = std::fs::read_dir(dir.join("Stream"))
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().unwrap().is_file())
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

fn divergent_tail_is_set_aside_then_followed(seal: bool) {
    actix_rt::System::new().block_on(async {
        let (da, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let (a, b) = parted(da.path(), db.path(), seal);
        let (_actors, _owner, url) = leader(a.clone(), Role::Leader, setup("a", "k", None));
        let follower = setup("b", "k", Some(url));
        let _rx = actix::Actor::start(ReplicationReceiver::new(b.clone(), follower.clone(), None));
        wait_until(Duration::from_secs(10), || {
            b.generation() == a.generation() && b.status().events == a.status().events
        })
        .await;
        assert_eq!(
            b.status().events,
            16,
            "10 common events and the new leader's 6"
        );
        let aside = follower.state.leader_session().set_aside;
        assert_eq!(aside.len(), 1, "{aside:?}");
        assert!(aside[0].contains("set aside 7 events"), "{aside:?}");
        let dir = db.path().join("Divergent");
        let clef: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "clef"))
            .collect();
        assert_eq!(clef.len(), 1, "{clef:?}");
        let events = parse_clef(&std::fs::read(&clef[0]).unwrap()).unwrap();
        assert_eq!(events.len(), 7, "the two batches the new leader never had");
        assert!(follower
            .state
            .reported()
            .state
            .unwrap()
            .contains("set aside 7 events"));
        drop(_rx);
        wait_until(Duration::from_secs(10), || {
            stream_files(db.path()) == stream_files(da.path())
        })
        .await;
    });
}

#[test]
fn a_divergent_tail_of_appends_is_set_aside_and_cut_off_then_followed() {
    divergent_tail_is_set_aside_then_followed(false);
}

#[test]
fn a_divergent_tail_with_a_seal_is_set_aside_and_replaced_by_a_snapshot() {
    divergent_tail_is_set_aside_then_followed(true);
}

#[test]
fn a_leader_that_stops_leading_ends_its_sessions() {
    actix_rt::System::new().block_on(async {
        let (da, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let a = Arc::new(Store::open(da.path(), opts()).unwrap());
        append(&a, 5);
        let (_actors, owner, url) = leader(a.clone(), Role::Leader, setup("a", "k", None));
        let b = Arc::new(Store::open(db.path(), opts()).unwrap());
        let follower = setup("b", "k", Some(url));
        let _rx = actix::Actor::start(ReplicationReceiver::new(b.clone(), follower.clone(), None));
        wait_until(Duration::from_secs(10), || b.generation() == a.generation()).await;
        owner.publish(Role::Follower, 2, None, false);
        wait_until(Duration::from_secs(10), || {
            follower
                .state
                .leader_session()
                .last_error
                .is_some_and(|e| e.contains("now Follower in term 2"))
        })
        .await;
    });
}

#[test]
fn a_follower_behind_the_kept_history_copies_a_snapshot_then_streams() {
    actix_rt::System::new().block_on(async {
        let (da, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let short = StoreOptions {
            segment_max_bytes: 1500,
            recent_ops_kept: 2,
            ..opts()
        };
        let a = Arc::new(Store::open(da.path(), short).unwrap());
        for _ in 0..12 {
            append(&a, 10);
        }
        assert!(a.history_after(Generation::ZERO, 1 << 20).unwrap().is_err());
        let leader_setup = setup("a", "k", None);
        let (actors, _owner, url) = leader(a.clone(), Role::Leader, leader_setup.clone());
        let b_dir = db.path().join("Stream");
        let b = Arc::new(Store::open(&b_dir, opts()).unwrap());
        let follower = setup("b", "k", Some(url));
        let _rx = actix::Actor::start(ReplicationReceiver::new(b.clone(), follower.clone(), None));
        wait_until(Duration::from_secs(10), || b.generation() == a.generation()).await;
        let body = b"{\"@t\":\"2026-01-01T00:00:00Z\",\"@mt\":\"after the snapshot\"}\n";
        let block = skein_store::block::encode_block(&parse_clef(body).unwrap());
        actors
            .store_writer
            .send(skein_actors::messages::AppendBatch { block })
            .await
            .unwrap()
            .unwrap();
        wait_until(Duration::from_secs(10), || b.generation() == a.generation()).await;
        assert_eq!(b.status().events, a.status().events);
        assert_eq!(
            leader_setup.state.counters().established,
            2,
            "snapshot, then stream"
        );
    });
}

/// The next binary frame (pings and the like skipped).
async fn next_frame(conn: &mut Conn) -> Frame {
    next_frame_opened(conn, None).await
}

/// The next binary frame, opened with the session's `seal` when given.
async fn next_frame_opened(conn: &mut Conn, mut seal: Option<&mut SessionSeal>) -> Frame {
    loop {
        match tokio::time::timeout(Duration::from_secs(5), conn.next()).await {
            Ok(Some(Ok(ws::Frame::Binary(b)))) => {
                let bytes = match seal.as_mut() {
                    Some(seal) => seal.open(&b).unwrap(),
                    None => &b[..],
                };
                return Frame::decode(bytes).unwrap();
            }
            Ok(Some(Ok(_))) => {}
            other => panic!("no frame: {other:?}"),
        }
    }
}

async fn challenge(conn: &mut Conn) -> Vec<u8> {
    send(conn, hello(PROTOCOL_VERSION)).await;
    match next_frame(conn).await {
        Frame::Challenge { nonce_l } => nonce_l,
        other => panic!("expected a Challenge, got {other:?}"),
    }
}

#[test]
fn a_replayed_or_forged_handshake_is_refused_and_counted() {
    actix_rt::System::new().block_on(async {
        let d = tempfile::tempdir().unwrap();
        let store = Arc::new(Store::open(d.path(), opts()).unwrap());
        let leader_setup = setup("a", "the-cluster-key", None);
        let state = leader_setup.state.clone();
        let (_a, _owner, url) = leader(store, Role::Leader, leader_setup);
        let key = ClusterKey::new("the-cluster-key").unwrap();

        // A genuine follower's handshake, as an eavesdropper records it.
        let mut genuine = raw(&url).await;
        let nonce_l = challenge(&mut genuine).await;
        let recorded = key.follower_proof(&nonce_l, &[7; 32], "b");
        let proof = Frame::Proof {
            hmac: recorded.clone(),
        };
        send(&mut genuine, proof.encode().unwrap()).await;
        assert!(matches!(
            next_frame(&mut genuine).await,
            Frame::Welcome { .. }
        ));
        assert_eq!(state.counters().invalid_key, 0);
        // Past the handshake, a frame not sealed by the session is refused.
        let ack = Frame::Ack {
            generation: Generation::ZERO,
        };
        send(&mut genuine, ack.encode().unwrap()).await;
        wait_until(Duration::from_secs(5), || {
            state.refusals().counts().session_check == 1
        })
        .await;

        // Replayed word for word on a new connection: the leader's fresh
        // nonce makes the recorded proof worthless.
        let mut replay = raw(&url).await;
        let fresh = challenge(&mut replay).await;
        assert_ne!(fresh, nonce_l, "every session gets a fresh nonce");
        let proof = Frame::Proof { hmac: recorded };
        send(&mut replay, proof.encode().unwrap()).await;
        assert!(next_refusal(&mut replay).await.contains("key"));
        assert_eq!(state.counters().invalid_key, 1);

        // Forged: a proof made with another key.
        let mut forged = raw(&url).await;
        let nonce_l = challenge(&mut forged).await;
        let other = ClusterKey::new("a-guessed-key").unwrap();
        let hmac = other.follower_proof(&nonce_l, &[7; 32], "b");
        send(&mut forged, Frame::Proof { hmac }.encode().unwrap()).await;
        assert!(next_refusal(&mut forged).await.contains("key"));
        assert_eq!(state.counters().invalid_key, 2);
        assert_eq!(state.counters().established, 1);
    });
}

#[test]
fn a_leader_fenced_in_its_own_term_ends_a_session_only_once_the_follower_holds_all() {
    actix_rt::System::new().block_on(async {
        let d = tempfile::tempdir().unwrap();
        let store = Arc::new(Store::open(d.path(), opts()).unwrap());
        append(&store, 50);
        let (_actors, owner, url) = leader(store.clone(), Role::Leader, setup("a", "k3y", None));
        let key = ClusterKey::new("k3y").unwrap();

        // A follower that receives the leader's operations and does not yet
        // acknowledge them.
        let mut conn = raw(&url).await;
        let nonce_l = challenge(&mut conn).await;
        let hmac = key.follower_proof(&nonce_l, &[7; 32], "b");
        send(&mut conn, Frame::Proof { hmac }.encode().unwrap()).await;
        assert!(matches!(next_frame(&mut conn).await, Frame::Welcome { .. }));
        let mut seal = SessionSeal::follower(&key, &nonce_l, &[7; 32], "b");
        while !matches!(
            next_frame_opened(&mut conn, Some(&mut seal)).await,
            Frame::Ops { .. }
        ) {}

        // The leader's lease runs out: it accepts no more writes, in the
        // same term (no newer leader is known).
        owner.publish(Role::Follower, 1, None, false);
        // Two heartbeats later the session is still open: the follower has
        // not acknowledged what it was sent.
        let until = Instant::now() + 2 * HEARTBEAT + HEARTBEAT / 2;
        while Instant::now() < until {
            match next_frame_opened(&mut conn, Some(&mut seal)).await {
                Frame::Refused { reason } => {
                    panic!("the session ended before the follower held everything: {reason}")
                }
                _ => continue,
            }
        }
        // Once it has, the session ends.
        let ack = Frame::Ack {
            generation: store.generation(),
        };
        send(&mut conn, seal.seal(ack.encode().unwrap())).await;
        loop {
            if let Frame::Refused { reason } = next_frame_opened(&mut conn, Some(&mut seal)).await {
                assert!(reason.contains("holds all it had"), "{reason}");
                break;
            }
        }
    });
}

/// A fake leader: answers a Hello with a Challenge and any Proof with a
/// Welcome whose leader proof is forged.
struct FakeLeader;

impl actix::Actor for FakeLeader {
    type Context = actix_web_actors::ws::WebsocketContext<Self>;
}

impl
    actix::StreamHandler<Result<actix_web_actors::ws::Message, actix_web_actors::ws::ProtocolError>>
    for FakeLeader
{
    fn handle(
        &mut self,
        msg: Result<actix_web_actors::ws::Message, actix_web_actors::ws::ProtocolError>,
        ctx: &mut actix_web_actors::ws::WebsocketContext<Self>,
    ) {
        let Ok(actix_web_actors::ws::Message::Binary(bytes)) = msg else {
            return;
        };
        let answer = match Frame::decode(&bytes) {
            Ok(Frame::Hello { .. }) => Frame::Challenge {
                nonce_l: vec![1; 32],
            },
            Ok(Frame::Proof { .. }) => Frame::Welcome {
                leader: "mallory".into(),
                term: 1,
                store_id: "x".into(),
                generation: Generation::ZERO,
                common: Generation::ZERO,
                proof_l: vec![0; 32],
            },
            _ => return,
        };
        ctx.binary(answer.encode().unwrap());
    }
}

#[test]
fn a_follower_refuses_and_counts_a_forged_leader_proof() {
    actix_rt::System::new().block_on(async {
        let server = HttpServer::new(|| {
            App::new().route(
                "/",
                web::get().to(
                    |req: actix_web::HttpRequest, body: web::Payload| async move {
                        actix_web_actors::ws::start(FakeLeader, &req, body)
                    },
                ),
            )
        })
        .workers(1)
        .bind(("127.0.0.1", 0))
        .unwrap();
        let port = server.addrs()[0].port();
        actix_rt::spawn(server.run());
        let d = tempfile::tempdir().unwrap();
        let store = Arc::new(Store::open(d.path(), opts()).unwrap());
        let follower = setup("b", "k3y", Some(format!("ws://127.0.0.1:{port}/")));
        let _rx = actix::Actor::start(ReplicationReceiver::new(store, follower.clone(), None));
        wait_until(Duration::from_secs(10), || {
            follower.state.refusals().counts().forged_leader >= 1
        })
        .await;
        let session = follower.state.leader_session();
        assert!(!session.connected);
        assert!(
            session
                .last_error
                .unwrap_or_default()
                .contains("cluster key"),
            "{:?}",
            follower.state.leader_session()
        );
    });
}
