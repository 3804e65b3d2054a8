//! The cluster under test: a [`Cluster`] of two real `skein` nodes (the
//! guide's layout, fail-over by hand) or of three or more (automatic
//! fail-over, durable acknowledgements: `replication.minimumAcknowledgingReplicas
//! = 1`), set up with the operator guide's commands, with fast cluster
//! timing, each reaching its peers (`--peer-cluster`, `--peer-internal-api`)
//! and PostgreSQL through fault-injecting TCP proxies, so every replication
//! link and each node's metastore link can be cut whichever node leads. The
//! metastore is the cluster's own database on the shared server, or (for
//! runs that restart PostgreSQL) a private server of the rig's own; each
//! node's storage root is on the disk its run's faults need ([`NodeDisk`]).

use std::time::{Duration, Instant};

use crate::cluster::{fast_timing, Cluster};
use crate::http::ingest_clef;
use crate::node::{Node, NotReady};
use crate::private_postgres::PrivatePostgres;

use super::disk::NodeDisk;
use super::invariants::Fence;

/// The nodes, their links and what happened to them.
pub struct Rig {
    // Field order is drop order: the nodes before their disks and the
    // private PostgreSQL server.
    /// `cluster.nodes[0]` is "a" (leads first), then "b", "c", …
    pub cluster: Cluster,
    /// Whether every acknowledgement waited for a follower
    /// (`replication.minimumAcknowledgingReplicas = 1`, the N-node rig).
    pub durable: bool,
    /// Processes that exited without being killed (node, log tail).
    pub crashes: Vec<String>,
    /// Spans in which the leader could not have renewed its lease (its
    /// metastore link cut for longer than the lease, plus a second).
    pub lease_gaps: Vec<(Instant, Instant)>,
    /// Spans in which one node (by name) may acknowledge nothing: requests
    /// sent within one and answered by that node (`X-Skein-Acked-By`)
    /// break the rule (an old leader cut off, or frozen past its lease).
    pub fenced: Vec<Fence>,
    /// When the cluster had recovered from each fault of the N-node rig (a
    /// leader, every other node a healthy follower; None: not within 60 s):
    /// writes must succeed after each.
    pub recovered: Vec<Option<Instant>>,
    /// What each node's storage root stands on.
    pub disks: Vec<NodeDisk>,
    /// The rig's own PostgreSQL server, when the run restarts it.
    postgres: Option<PrivatePostgres>,
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
    /// How many nodes (0 or 2: the guide's two-node layout; 3 or more:
    /// automatic fail-over with durable acknowledgements).
    pub nodes: usize,
}

/// The last `n` lines of `text`.
pub fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

impl Rig {
    /// Sets up and starts the nodes; returns once "a" leads.
    pub fn start(options: RigOptions) -> Rig {
        let count = options.nodes.max(2);
        let postgres = options.private_postgres.then(PrivatePostgres::start);
        let disks: Vec<NodeDisk> = (0..count)
            .map(|_| NodeDisk::new(options.small_disks, options.slow_disks))
            .collect();
        let names: Vec<String> = (b'a'..)
            .take(count)
            .map(|c| char::from(c).to_string())
            .collect();
        let nodes: Vec<Node> = names
            .iter()
            .zip(&disks)
            .map(|(name, disk)| {
                let mut n = match disk.root() {
                    Some(root) => Node::new_in(name, root),
                    None => Node::new(name),
                };
                n.env.extend(disk.env());
                n
            })
            .collect();
        let mut builder = Cluster::of(nodes)
            .env(&fast_timing())
            .linked()
            .metastore_linked();
        if let Some(pg) = &postgres {
            builder = builder.metastore(&pg.url);
        }
        let cluster = builder.configure();
        // Three nodes or more: automatic fail-over (`cluster.autoFailover`'s
        // default with two peers or more), every 201 only once a follower
        // holds the batch.
        let durable = count >= 3;
        if durable {
            cluster.config_set_all("replication.minimumAcknowledgingReplicas", "1");
        }
        let mut rig = Rig {
            cluster,
            durable,
            crashes: Vec::new(),
            lease_gaps: Vec::new(),
            fenced: Vec::new(),
            recovered: Vec::new(),
            disks,
            postgres,
        };
        for i in 0..count {
            rig.restart(i);
        }
        let leader = rig.cluster.wait_leader(Duration::from_secs(60));
        assert_eq!(leader, Some(0), "a leads after set-up");
        rig
    }

    /// The nodes' public API ports.
    pub fn ports(&self) -> Vec<u16> {
        self.cluster.nodes.iter().map(|n| n.api).collect()
    }

    /// Starts node `i` and waits (up to 60 s) until `/health` answers; a
    /// process that exits meanwhile is recorded as a crash.
    pub fn restart(&mut self, i: usize) {
        let node = &mut self.cluster[i];
        node.spawn();
        if let Err(NotReady::Exited(_)) = node.wait_until(Duration::from_secs(60), |s| s != 0) {
            let why = format!(
                "{} exited while starting:\n{}",
                node.name,
                tail(&node.log(), 30)
            );
            self.crashes.push(why);
            node.kill();
        }
    }

    /// Records (and restarts) every node whose process is gone although
    /// no fault killed it: faults always restart what they kill.
    pub fn check_running(&mut self) {
        for i in 0..self.cluster.nodes.len() {
            if !self.cluster[i].is_running() {
                let node = &self.cluster[i];
                self.crashes.push(format!(
                    "{} exited on its own:\n{}",
                    node.name,
                    tail(&node.log(), 30)
                ));
                self.cluster.kill(i);
                self.restart(i);
            }
        }
    }

    /// Waits (up to `limit`) until a node other than `old` leads; its index.
    pub fn wait_other_leader(&self, old: usize, limit: Duration) -> Option<usize> {
        let started = Instant::now();
        loop {
            let other = (0..self.cluster.nodes.len())
                .filter(|&j| j != old)
                .find(|&j| self.cluster[j].health()["role"] == "Leader");
            if other.is_some() || started.elapsed() > limit {
                return other;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Waits (up to 60 s, writes going on) until one node leads, every
    /// other answers `/health` 200 as its follower and a probe write to the
    /// leader is acknowledged (a follower's `/health` may still say 200 just
    /// after a cut healed, before its replication session is back), and
    /// records when; what it saw when it gave up otherwise (the run's final
    /// settling judges too).
    pub fn recover(&mut self) -> String {
        let started = Instant::now();
        let mut seen = String::new();
        while started.elapsed() < Duration::from_secs(60) {
            self.check_running();
            let healths: Vec<(u16, serde_json::Value)> = self
                .cluster
                .nodes
                .iter()
                .map(|n| n.json("/health"))
                .collect();
            let leaders: Vec<usize> = (0..healths.len())
                .filter(|&i| healths[i].1["role"] == "Leader")
                .collect();
            let followers = healths
                .iter()
                .filter(|(s, h)| *s == 200 && h["role"] == "Follower")
                .count();
            seen = format!("{healths:?}");
            if let ([l], true) = (&leaders[..], followers == healths.len() - 1) {
                // Not a chaos event (no `ChaosId`): the invariants ignore it.
                let probe = "{\"@t\":\"2026-01-01T00:00:00Z\",\"@mt\":\"chaos probe\"}\n";
                let (status, text) = ingest_clef(self.cluster[*l].api, probe);
                seen = format!("probe to {}: {status} {text}", self.cluster[*l].name);
                if status == 201 {
                    self.recovered.push(Some(Instant::now()));
                    return format!(
                        "writes acknowledged again {:.1}s after the recovery began",
                        started.elapsed().as_secs_f64()
                    );
                }
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        self.recovered.push(None);
        format!("NOT recovered after 60 s: {seen}")
    }

    /// The rig's own PostgreSQL server, when it has one.
    pub fn private_postgres(&self) -> Option<&PrivatePostgres> {
        self.postgres.as_ref()
    }
}
