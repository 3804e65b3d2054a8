//! The cluster sandbox: [`Cluster`] sets up nodes as each other's peers
//! with the operator guide's commands (`show-key --generate`, `config
//! set -k storage.secretKey`, `secret set -k
//! metastore.postgres.connectionString`, `node setup`, `node lead` /
//! `node follow`) on a fresh PostgreSQL database of its own, and then
//! kills, partitions, restarts and waits for the followers to reach the
//! leader's generation.
//!
//! ```ignore
//! let mut cluster = Cluster::sized(2).env(&fast_timing()).linked().start();
//! cluster.partition();            // every peer link cut
//! cluster.heal();
//! cluster.wait_generations(Duration::from_secs(60), "the follower catches up");
//! let [a, b] = cluster.nodes_mut();
//! ```
//!
//! Every node has every other as a peer (in index order); two nodes are
//! the guide's layout, three or more an HA cluster. Node `0` ("a") leads
//! first.
//!
//! Dropping a cluster kills its nodes, then stops its proxies, then drops
//! its database.

use std::collections::HashMap;
use std::ops::{Index, IndexMut};
use std::sync::Arc;
use std::time::Duration;

use crate::database::TestDatabase;
use crate::http::{ingest_clef, request};
use crate::node::{wait_for, Node};
use crate::tcp_proxy::TcpProxy;

/// The cluster key the harness's nodes share.
pub const CLUSTER_KEY: &str = "cluster-key-0123456789";

/// Cluster timings short enough for tests (heartbeat 200 ms, lease 3 s).
pub fn fast_timing() -> HashMap<String, String> {
    HashMap::from([
        ("SKEIN_CLUSTER_HEARTBEAT_MS".to_string(), "200".to_string()),
        ("SKEIN_CLUSTER_LEASE_MS".to_string(), "3000".to_string()),
        (
            "SKEIN_CLUSTER_NODE_STALE_MS".to_string(),
            "2000".to_string(),
        ),
    ])
}

/// How a [`Cluster`] is made: [`Cluster::sized`] or [`Cluster::of`], then
/// [`ClusterBuilder::configure`] or [`ClusterBuilder::start`].
pub struct ClusterBuilder {
    nodes: Vec<Node>,
    keys: Vec<String>,
    metastore: Option<String>,
    linked: bool,
    metastore_linked: bool,
}

/// Node `i`'s way to its peer, through fault-injecting proxies (shared
/// handles: a test can hold them while it borrows the nodes).
#[derive(Clone)]
pub struct PeerLink {
    /// To the peer's cluster (replication) port.
    pub cluster: Arc<TcpProxy>,
    /// To the peer's internal API.
    pub internal: Arc<TcpProxy>,
}

/// How a node was set up.
struct Setup {
    peers: Vec<(u16, u16)>,
    key: String,
    metastore: String,
}

/// Nodes set up as each other's peers on one metastore.
pub struct Cluster {
    // Field order is drop order: processes first, the database last.
    /// The nodes; `nodes[0]` ("a") was told to lead.
    pub nodes: Vec<Node>,
    /// `links[i][k]`: node `i`'s way to its `k`-th peer (the others in
    /// index order).
    links: Vec<Vec<PeerLink>>,
    metastore_links: Vec<Arc<TcpProxy>>,
    /// How each node was set up (its peers' ports, key and metastore URL),
    /// to set it up again after [`Cluster::wipe`].
    setups: Vec<Setup>,
    /// The metastore the caller gave ([`ClusterBuilder::metastore`]).
    given_metastore: Option<String>,
    /// Else the cluster's own database.
    database: Option<TestDatabase>,
}

impl Cluster {
    /// `n` fresh nodes named "a", "b", …
    pub fn sized(n: usize) -> ClusterBuilder {
        let names = (b'a'..).take(n).map(|c| char::from(c).to_string());
        Cluster::of(names.map(|name| Node::new(&name)).collect())
    }

    /// Nodes made by the caller (e.g. with [`Node::new_in`]).
    pub fn of(nodes: Vec<Node>) -> ClusterBuilder {
        ClusterBuilder {
            keys: vec![CLUSTER_KEY.to_owned(); nodes.len()],
            nodes,
            metastore: None,
            linked: false,
            metastore_linked: false,
        }
    }

    /// The nodes, as an array of `N` (panics unless there are `N`).
    pub fn nodes<const N: usize>(&self) -> [&Node; N] {
        let count = self.nodes.len();
        let all: &[Node; N] = self.nodes[..]
            .try_into()
            .unwrap_or_else(|_| panic!("the cluster has {count} nodes, not {N}"));
        all.each_ref()
    }

    /// [`Cluster::nodes`], to change.
    pub fn nodes_mut<const N: usize>(&mut self) -> [&mut Node; N] {
        let count = self.nodes.len();
        let all: &mut [Node; N] = (&mut self.nodes[..])
            .try_into()
            .unwrap_or_else(|_| panic!("the cluster has {count} nodes, not {N}"));
        all.each_mut()
    }

    /// The metastore's connection string (as the test reaches it).
    pub fn metastore_url(&self) -> &str {
        match (&self.database, &self.given_metastore) {
            (Some(db), _) => &db.url,
            (None, url) => url.as_deref().expect("a given metastore"),
        }
    }

    /// `skein config set -k KEY -v VALUE` on every node (it takes effect
    /// when a node starts); see [`Node::config_set`].
    pub fn config_set_all(&self, key: &str, value: &str) {
        for node in &self.nodes {
            node.config_set(key, value);
        }
    }

    /// Starts every node; see [`Node::start`].
    pub fn start_all(&mut self) {
        for node in &mut self.nodes {
            node.start();
        }
    }

    /// Kills node `i` (SIGKILL).
    pub fn kill(&mut self, i: usize) {
        self.nodes[i].kill();
    }

    /// Kills node `i`, deletes its whole storage root (events,
    /// configuration, secrets) and sets it up again as a follower, the way
    /// it was first set up — a lost disk replaced. Not started.
    pub fn wipe(&mut self, i: usize) {
        self.nodes[i].kill();
        let root = self.nodes[i].root();
        std::fs::remove_dir_all(&root).unwrap_or_else(|e| panic!("removing {root:?}: {e}"));
        std::fs::create_dir_all(&root).unwrap();
        let setup = &self.setups[i];
        let node = &self.nodes[i];
        node.setup_with_peers(&setup.peers, &setup.key, Some(&setup.metastore));
        node.ok(&["node", "follow", "--force"]);
    }

    /// Kills node `i` and starts it again (until `/health` answers at all:
    /// a follower catching up answers 503).
    pub fn restart(&mut self, i: usize) {
        self.nodes[i].kill();
        self.nodes[i].start();
    }

    /// Node `i`'s link to its (first) peer (after [`ClusterBuilder::linked`]).
    pub fn link(&self, i: usize) -> PeerLink {
        self.links
            .get(i)
            .and_then(|l| l.first())
            .expect("a cluster made with .linked() has peer links")
            .clone()
    }

    /// Node `i`'s link to node `j` (after [`ClusterBuilder::linked`]).
    pub fn link_to(&self, i: usize, j: usize) -> PeerLink {
        assert_ne!(i, j, "a node has no link to itself");
        let k = if j < i { j } else { j - 1 };
        self.links
            .get(i)
            .and_then(|l| l.get(k))
            .expect("a cluster made with .linked() has peer links")
            .clone()
    }

    /// Cuts node `i` off from every other node, both ways (the metastore
    /// stays reachable).
    pub fn isolate(&self, i: usize) {
        for j in (0..self.nodes.len()).filter(|&j| j != i) {
            for link in [self.link_to(i, j), self.link_to(j, i)] {
                link.cluster.cut();
                link.internal.cut();
            }
        }
    }

    /// Node `i`'s link to PostgreSQL (after
    /// [`ClusterBuilder::metastore_linked`]).
    pub fn metastore_link(&self, i: usize) -> Arc<TcpProxy> {
        self.metastore_links
            .get(i)
            .expect("a cluster made with .metastore_linked() has metastore links")
            .clone()
    }

    /// Cuts every link between the nodes (live connections reset, new ones
    /// refused); the metastore stays reachable.
    pub fn partition(&self) {
        for link in self.links.iter().flatten() {
            link.cluster.cut();
            link.internal.cut();
        }
    }

    /// Heals every link between the nodes.
    pub fn heal(&self) {
        for link in self.links.iter().flatten() {
            link.cluster.heal();
            link.internal.heal();
        }
    }

    /// The index of the node whose `/health` says it leads (the first
    /// when, for a moment, two do).
    pub fn leader(&self) -> Option<usize> {
        (0..self.nodes.len()).find(|&i| self.nodes[i].health()["role"] == "Leader")
    }

    /// Polls (every 100 ms, up to `limit`) for a leader.
    pub fn wait_leader(&self, limit: Duration) -> Option<usize> {
        let started = std::time::Instant::now();
        loop {
            if let Some(l) = self.leader() {
                return Some(l);
            }
            if started.elapsed() > limit {
                return None;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Whether the cluster has settled: the leader's index when one node
    /// leads at a generation and every other node answers `/health` 200 as
    /// its follower at that same generation; else what it looks like.
    pub fn settled(&self) -> Result<usize, String> {
        let Some(l) = self.leader() else {
            let healths: Vec<String> = self.nodes.iter().map(|n| n.health().to_string()).collect();
            return Err(format!("no leader: {healths:?}"));
        };
        let leader = &self.nodes[l];
        let target = leader.generation();
        for (i, follower) in self.nodes.iter().enumerate().filter(|(i, _)| *i != l) {
            let (status, health) = follower.json("/health");
            let caught_up = status == 200
                && health["role"] == "Follower"
                && !target.is_empty()
                && health["generation"] == target.as_str();
            if !caught_up {
                let name = &self.nodes[i].name;
                return Err(format!(
                    "{} leads at {target}; {name}: {status} {health}",
                    leader.name
                ));
            }
        }
        Ok(l)
    }

    /// Waits (up to `limit`) until the cluster has [settled](Cluster::settled),
    /// every process still running; panics, saying `what`, when it does not.
    pub fn wait_generations(&mut self, limit: Duration, what: &str) {
        wait_for(limit, what, || {
            self.nodes.iter_mut().for_each(Node::assert_running);
            self.settled().is_ok()
        });
    }
}

impl Index<usize> for Cluster {
    type Output = Node;

    fn index(&self, i: usize) -> &Node {
        &self.nodes[i]
    }
}

impl IndexMut<usize> for Cluster {
    fn index_mut(&mut self, i: usize) -> &mut Node {
        &mut self.nodes[i]
    }
}

impl ClusterBuilder {
    /// Adds `env` to every node's environment.
    pub fn env(mut self, env: &HashMap<String, String>) -> Self {
        for node in &mut self.nodes {
            node.env.extend(env.clone());
        }
        self
    }

    /// Node `i`'s cluster key (`-k`); the others keep [`CLUSTER_KEY`].
    pub fn key(mut self, i: usize, key: &str) -> Self {
        self.keys[i] = key.to_owned();
        self
    }

    /// Puts the metastore at `url` (e.g. a private PostgreSQL server)
    /// instead of a fresh database of the cluster's own.
    pub fn metastore(mut self, url: &str) -> Self {
        self.metastore = Some(url.to_owned());
        self
    }

    /// Every node reaches its peer (`--peer-cluster`,
    /// `--peer-internal-api`) through [`TcpProxy`]s, so that the links
    /// can be cut ([`Cluster::partition`]), blackholed or slowed
    /// ([`Cluster::link`]).
    pub fn linked(mut self) -> Self {
        self.linked = true;
        self
    }

    /// Every node reaches PostgreSQL (which must be on 127.0.0.1, over
    /// TCP) through a [`TcpProxy`] of its own ([`Cluster::metastore_link`]).
    pub fn metastore_linked(mut self) -> Self {
        self.metastore_linked = true;
        self
    }

    /// Sets every node up as the guide does, each with every other as a
    /// peer; node 0 is told to lead (`node lead`), the others to follow.
    /// Not started.
    pub fn configure(self) -> Cluster {
        let n = self.nodes.len();
        assert!(n >= 2, "a cluster has two nodes or more: {n} asked for");
        let database = match self.metastore {
            Some(_) => None,
            None => Some(TestDatabase::create()),
        };
        let metastore_url = match (&database, &self.metastore) {
            (Some(db), _) => db.url.clone(),
            (None, url) => url.clone().expect("a given metastore"),
        };
        let nodes = self.nodes;
        let peers = |i: usize| (0..n).filter(move |&j| j != i).map(|j| &nodes[j]);
        let links: Vec<Vec<PeerLink>> = match self.linked {
            true => (0..n)
                .map(|i| {
                    peers(i)
                        .map(|peer| PeerLink {
                            cluster: Arc::new(TcpProxy::start(peer.cluster)),
                            internal: Arc::new(TcpProxy::start(peer.internal)),
                        })
                        .collect()
                })
                .collect(),
            false => Vec::new(),
        };
        let metastore_links: Vec<Arc<TcpProxy>> = match self.metastore_linked {
            true => {
                let (port, _) = postgres_port(&metastore_url);
                (0..n).map(|_| Arc::new(TcpProxy::start(port))).collect()
            }
            false => Vec::new(),
        };
        let mut setups = Vec::new();
        for (i, node) in nodes.iter().enumerate() {
            let ports: Vec<(u16, u16)> = match links.get(i) {
                Some(links) => links
                    .iter()
                    .map(|l| (l.cluster.port(), l.internal.port()))
                    .collect(),
                None => peers(i).map(|p| (p.cluster, p.internal)).collect(),
            };
            let url = match metastore_links.get(i) {
                Some(link) => postgres_port(&metastore_url).1(link.port()),
                None => metastore_url.clone(),
            };
            node.setup_with_peers(&ports, &self.keys[i], Some(&url));
            setups.push(Setup {
                peers: ports,
                key: self.keys[i].clone(),
                metastore: url,
            });
        }
        nodes[0].ok(&["node", "lead"]);
        for node in &nodes[1..] {
            node.ok(&["node", "follow"]);
        }
        Cluster {
            nodes,
            links,
            metastore_links,
            setups,
            given_metastore: self.metastore,
            database,
        }
    }

    /// [`ClusterBuilder::configure`], then every node started (until its
    /// `/health` answers at all).
    pub fn start(self) -> Cluster {
        let mut cluster = self.configure();
        cluster.start_all();
        cluster
    }
}

/// The port of a `postgres://user@127.0.0.1:PORT/db` URL and how to write
/// the URL with another port.
fn postgres_port(url: &str) -> (u16, impl Fn(u16) -> String) {
    let (head, rest) = url.split_once("@127.0.0.1:").unwrap_or_else(|| {
        panic!("a metastore behind a proxy must be PostgreSQL on 127.0.0.1 (tcp): {url}")
    });
    let (port, db) = rest.split_once('/').expect("a database name");
    let port = port.parse().expect("a port");
    let (head, db) = (head.to_owned(), db.to_owned());
    (port, move |p: u16| format!("{head}@127.0.0.1:{p}/{db}"))
}

/// Ingests `batches` acknowledged requests of `per_batch` events dated
/// `timestamp`, each with a poorly compressible payload of about `payload`
/// bytes (random base64 characters: 6 bits of entropy each).
pub fn ingest_noise(
    node: &Node,
    batches: usize,
    per_batch: usize,
    payload: usize,
    timestamp: &str,
) {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for batch in 0..batches {
        let mut body = String::with_capacity(per_batch * (payload + 100));
        for i in 0..per_batch {
            let mut noise = String::with_capacity(payload + 10);
            while noise.len() < payload {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                for k in 0..10 {
                    noise.push(ALPHABET[((x >> (k * 6)) & 63) as usize] as char);
                }
            }
            body.push_str(&format!(
                "{{\"@t\":\"{timestamp}\",\"@mt\":\"Noise {{N}}\",\"N\":{i},\"B\":{batch},\"X\":\"{noise}\"}}\n"
            ));
        }
        let (status, text) = ingest_clef(node.api, &body);
        assert_eq!(status, 201, "{text}\n{}", node.log());
    }
}

/// Moves `leader`'s history past any follower that stopped before: about
/// 90 MB of events dated 2020 seal the first 64 MB segment, retention (set
/// to one day) deletes it, and this waits until it is gone. A follower
/// behind that point then needs a snapshot.
pub fn outgrow_history(leader: &Node) {
    ingest_noise(leader, 90, 1000, 1000, "2020-01-01T00:00:00Z");
    let (status, body) = request(
        leader.api,
        "PUT",
        "/api/settings/retention.period",
        &[("Content-Type", "application/json")],
        br#"{"Value":"1d"}"#,
    );
    assert_eq!(status, 200, "{body}");
    wait_for(
        Duration::from_secs(60),
        "retention deletes the first segment",
        || !leader.root().join("Stream").join("seg-000001.log").exists(),
    );
}

/// Panics unless both nodes' `Stream` directories hold the same files
/// with the same bytes.
pub fn assert_same_files(a: &Node, b: &Node) {
    let (fa, fb) = (a.stream_files(), b.stream_files());
    let names = |f: &[(String, Vec<u8>)]| f.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    assert_eq!(names(&fb), names(&fa));
    for ((name, x), (_, y)) in fa.iter().zip(&fb) {
        assert!(x == y, "{name} differs between {} and {}", a.name, b.name);
    }
}
