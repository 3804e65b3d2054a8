//! The integration tests' harness: everything `tests/*.rs` needs to run
//! real `skein` processes and to hurt them.
//!
//! - [`Node`] ([`node`]): one node — a temporary home and storage root,
//!   its ports, and when started its `skein run` process — with the one
//!   implementation of start, stop and wait, the CLI, and HTTP helpers.
//! - [`Cluster`] ([`cluster`]): a sandbox of nodes set up as each other's
//!   peers with the operator guide's commands on a fresh PostgreSQL
//!   database, which can kill, partition, restart and wait for the
//!   followers to reach the leader's generation.
//! - [`TestDatabase`] ([`database`]): a randomly named PostgreSQL database
//!   dropped on drop.
//! - [`http`]: raw HTTP/1.1 requests and answers; [`process`]: the `skein`
//!   binary, its cleared environment, reserved ports.
//! - Faults and surroundings: [`tcp_proxy`] (a link that can be cut,
//!   blackholed or delayed), [`slow_disk`] (FUSE), [`tmpfs`] (a disk that
//!   fills), [`private_postgres`], [`haproxy`], [`certs`] (openssl), the
//!   guide's configuration steps ([`guide`]) and the [`chaos`] rig.
//!
//! ```ignore
//! use skein_harness::{fast_timing, Cluster, Node};
//! let node = Node::standalone();
//! let (status, body) = node.post("/api/events/raw?clef", "application/json", body);
//! let mut cluster = Cluster::sized(2).env(&fast_timing()).start();
//! let [a, b] = cluster.nodes_mut();
//! ```
//!
//! The binary under test is found next to the test executable (see
//! [`process::skein_bin`]): the harness is a library, so only the root
//! package's integration tests, which build the binary, can use it.

pub mod certs;
pub mod chaos;
pub mod cluster;
pub mod database;
pub mod guide;
pub mod haproxy;
pub mod http;
pub mod node;
pub mod private_postgres;
pub mod process;
pub mod slow_disk;
pub mod tcp_proxy;
pub mod tmpfs;

pub use cluster::{fast_timing, Cluster, CLUSTER_KEY};
pub use database::{sql, TestDatabase};
pub use http::{exchange, ingest_clef, request, Answer, CLEF};
pub use node::{wait_for, Node};
pub use process::free_port;
