//! Scale-out queries: the leader splits a large aggregating query by
//! arrival number ([`skein_store::search::plan_shares`]) over itself and
//! its up-to-date followers, which hold the same events, runs its own
//! share, has each follower run one on its cluster port, and merges the
//! partial results — the answer its own scan would give.
//!
//! - [`choose`]: which followers may take a share, how many nodes a query
//!   is worth, whether a follower runs a share it is asked for (pure,
//!   tested alone).
//! - [`scatter`]: [`ScaleOut`], the leader's side: plan, send, scan its own
//!   share, take back a share a follower refuses, fails or is late with,
//!   merge.
//! - [`serve`]: the follower's side, `POST /cluster/share` on the cluster
//!   port (the wire format is `skein_wire::share`).

pub mod choose;
pub mod scatter;
pub mod serve;

pub use scatter::{ScaleOut, ScaleOutCounters, ScaleOutSetup};
pub use serve::ShareServer;
