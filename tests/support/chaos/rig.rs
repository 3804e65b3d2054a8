//! The cluster under test: two real `skein` nodes set up with the operator
//! guide's commands on a fresh PostgreSQL metastore, with fast cluster
//! timing. Each node reaches its peer (`--peer-cluster`,
//! `--peer-internal-api`) through fault-injecting TCP proxies, so the
//! replication link can be cut whichever node leads. The metastore is a
//! database on the shared server, or (for runs that restart PostgreSQL) a
//! private server of the rig's own; each node's storage root is on the
//! disk its run's faults need ([`NodeDisk`]).

use std::time::{Duration, Instant};

use crate::cli_support::TestDatabase;
use crate::cluster::{fast_timing, ClusterNode, CLUSTER_KEY};
use crate::private_postgres::PrivatePostgres;
use crate::tcp_proxy::TcpProxy;

use super::disk::NodeDisk;

/// Two nodes, their links and what happened to them.
pub struct Rig {
    /// `nodes[0]` is "a" (leads first), `nodes[1]` is "b".
    pub nodes: Vec<ClusterNode>,
    /// `links[i]`: node `i`'s way to its peer (cluster port, internal API).
    links: Vec<(TcpProxy, TcpProxy)>,
    /// `metastore_links[i]`: node `i`'s way to PostgreSQL.
    metastore_links: Vec<TcpProxy>,
    /// Processes that exited without being killed (node, log tail).
    pub crashes: Vec<String>,
    /// Spans in which the leader could not have renewed its lease (its
    /// metastore link cut for longer than the lease, plus a second).
    pub lease_gaps: Vec<(Instant, Instant)>,
    /// What each node's storage root stands on (dropped after the nodes).
    pub disks: Vec<NodeDisk>,
    /// The metastore's database or server, dropped last (after the nodes).
    metastore: Metastore,
}

/// What a run's cluster stands on.
#[derive(Clone, Copy, Debug, Default)]
pub struct RigOptions {
    /// A PostgreSQL server of the rig's own (which faults may restart)
    /// instead of a database on the shared server.
    pub private_postgres: bool,
    /// Storage roots on small disks that faults can fill.
    pub small_disks: bool,
    /// Storage roots on slow disks whose fsyncs faults can delay and whose
    /// power they can cut.
    pub slow_disks: bool,
}

/// Where the metastore lives.
pub enum Metastore {
    /// A fresh database on the shared PostgreSQL server.
    Shared(TestDatabase),
    /// A PostgreSQL server of the rig's own, which faults may restart.
    Private(PrivatePostgres),
}

impl Metastore {
    /// A private server when `private`, else a database on the shared one.
    fn new(private: bool) -> Metastore {
        match private {
            true => Metastore::Private(PrivatePostgres::start()),
            false => Metastore::Shared(TestDatabase::create()),
        }
    }

    fn url(&self) -> &str {
        match self {
            Metastore::Shared(db) => &db.url,
            Metastore::Private(pg) => &pg.url,
        }
    }
}

/// The last `n` lines of `text`.
pub fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// The port of a `postgres://user@127.0.0.1:PORT/db` URL and how to write
/// the URL with another port.
fn postgres_port(url: &str) -> (u16, impl Fn(u16) -> String) {
    let (head, rest) = url
        .split_once("@127.0.0.1:")
        .unwrap_or_else(|| panic!("the chaos suite needs PostgreSQL on 127.0.0.1 (tcp): {url}"));
    let (port, db) = rest.split_once('/').expect("a database name");
    let port = port.parse().expect("a port");
    let (head, db) = (head.to_owned(), db.to_owned());
    (port, move |p: u16| format!("{head}@127.0.0.1:{p}/{db}"))
}

impl Rig {
    /// Sets up and starts the pair; returns once "a" leads.
    pub fn start(options: RigOptions) -> Rig {
        let metastore = Metastore::new(options.private_postgres);
        let disks: Vec<NodeDisk> = (0..2)
            .map(|_| NodeDisk::new(options.small_disks, options.slow_disks))
            .collect();
        let nodes: Vec<ClusterNode> = ["a", "b"]
            .iter()
            .zip(&disks)
            .map(|(name, disk)| {
                let mut n = match disk.root() {
                    Some(root) => ClusterNode::new_in(name, root),
                    None => ClusterNode::new(name),
                };
                n.env.extend(fast_timing());
                n.env.extend(disk.env());
                n
            })
            .collect();
        let links: Vec<(TcpProxy, TcpProxy)> = (0..2)
            .map(|i| {
                let peer = &nodes[1 - i];
                (
                    TcpProxy::start(peer.cluster),
                    TcpProxy::start(peer.internal),
                )
            })
            .collect();
        let (pg_port, via) = postgres_port(metastore.url());
        let metastore_links: Vec<TcpProxy> = (0..2).map(|_| TcpProxy::start(pg_port)).collect();
        for i in 0..2 {
            // The peer as node `i` sees it: through the proxies.
            let mut seen = ClusterNode::new(&nodes[1 - i].name);
            seen.cluster = links[i].0.port();
            seen.internal = links[i].1.port();
            let url = via(metastore_links[i].port());
            nodes[i].setup(&seen, CLUSTER_KEY, Some(&url));
        }
        nodes[0].ok(&["node", "lead"]);
        nodes[1].ok(&["node", "follow"]);
        let mut rig = Rig {
            nodes,
            links,
            metastore_links,
            crashes: Vec::new(),
            lease_gaps: Vec::new(),
            disks,
            metastore,
        };
        rig.restart(0);
        rig.restart(1);
        let leader = rig.wait_leader(Duration::from_secs(60));
        assert_eq!(leader, Some(0), "a leads after set-up");
        rig
    }

    /// The nodes' public API ports.
    pub fn ports(&self) -> Vec<u16> {
        self.nodes.iter().map(|n| n.api).collect()
    }

    /// The index of the node whose `/health` says it leads (the first
    /// when, for a moment, both do).
    pub fn leader(&self) -> Option<usize> {
        (0..2).find(|&i| self.nodes[i].health()["role"] == "Leader")
    }

    /// Waits up to `limit` for a leader.
    pub fn wait_leader(&mut self, limit: Duration) -> Option<usize> {
        let started = Instant::now();
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

    /// Starts node `i` and waits (up to 60 s) until `/health` answers; a
    /// process that exits meanwhile is recorded as a crash.
    pub fn restart(&mut self, i: usize) {
        let node = &mut self.nodes[i];
        node.spawn();
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(60) {
            if !node.is_running() {
                let why = format!(
                    "{} exited while starting:\n{}",
                    node.name,
                    tail(&node.log(), 30)
                );
                self.crashes.push(why);
                node.kill();
                return;
            }
            if node.get("/health").0 != 0 {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Records (and restarts) every node whose process is gone although
    /// no fault killed it: faults always restart what they kill.
    pub fn check_running(&mut self) {
        for i in 0..2 {
            if !self.nodes[i].is_running() {
                let node = &self.nodes[i];
                self.crashes.push(format!(
                    "{} exited on its own:\n{}",
                    node.name,
                    tail(&node.log(), 30)
                ));
                self.nodes[i].kill();
                self.restart(i);
            }
        }
    }

    /// Cuts every link between the nodes (live connections reset, new ones refused).
    pub fn cut(&self) {
        for (c, i) in &self.links {
            c.cut();
            i.cut();
        }
    }

    /// Cuts node `i`'s link to PostgreSQL.
    pub fn cut_metastore(&self, i: usize) {
        self.metastore_links[i].cut();
    }

    /// Heals node `i`'s link to PostgreSQL.
    pub fn heal_metastore(&self, i: usize) {
        self.metastore_links[i].heal();
    }

    /// The rig's own PostgreSQL server, when it has one.
    pub fn private_postgres(&self) -> Option<&PrivatePostgres> {
        match &self.metastore {
            Metastore::Private(pg) => Some(pg),
            Metastore::Shared(_) => None,
        }
    }

    /// Heals every link.
    pub fn heal(&self) {
        for (c, i) in &self.links {
            c.heal();
            i.heal();
        }
    }
}
