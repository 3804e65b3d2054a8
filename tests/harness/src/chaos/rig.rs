//! The cluster under test: a [`Cluster`] of two real `skein` nodes set up
//! with the operator guide's commands, with fast cluster timing, each
//! reaching its peer (`--peer-cluster`, `--peer-internal-api`) and
//! PostgreSQL through fault-injecting TCP proxies, so the replication link
//! and each node's metastore link can be cut whichever node leads. The
//! metastore is the cluster's own database on the shared server, or (for
//! runs that restart PostgreSQL) a private server of the rig's own; each
//! node's storage root is on the disk its run's faults need ([`NodeDisk`]).

use std::time::{Duration, Instant};

use crate::cluster::{fast_timing, Cluster};
use crate::node::{Node, NotReady};
use crate::private_postgres::PrivatePostgres;

use super::disk::NodeDisk;

/// Two nodes, their links and what happened to them.
pub struct Rig {
    // Field order is drop order: the nodes before their disks and the
    // private PostgreSQL server.
    /// `cluster.nodes[0]` is "a" (leads first), `cluster.nodes[1]` is "b".
    pub cluster: Cluster,
    /// Processes that exited without being killed (node, log tail).
    pub crashes: Vec<String>,
    /// Spans in which the leader could not have renewed its lease (its
    /// metastore link cut for longer than the lease, plus a second).
    pub lease_gaps: Vec<(Instant, Instant)>,
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
}

/// The last `n` lines of `text`.
pub fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

impl Rig {
    /// Sets up and starts the pair; returns once "a" leads.
    pub fn start(options: RigOptions) -> Rig {
        let postgres = options.private_postgres.then(PrivatePostgres::start);
        let disks: Vec<NodeDisk> = (0..2)
            .map(|_| NodeDisk::new(options.small_disks, options.slow_disks))
            .collect();
        let nodes: Vec<Node> = ["a", "b"]
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
        let mut rig = Rig {
            cluster: builder.configure(),
            crashes: Vec::new(),
            lease_gaps: Vec::new(),
            disks,
            postgres,
        };
        rig.restart(0);
        rig.restart(1);
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
        for i in 0..2 {
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

    /// The rig's own PostgreSQL server, when it has one.
    pub fn private_postgres(&self) -> Option<&PrivatePostgres> {
        self.postgres.as_ref()
    }
}
