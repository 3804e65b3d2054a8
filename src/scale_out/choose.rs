//! The decisions of a scale-out query, pure and tested alone: which
//! followers may take a share ([`helpers`]), how many nodes a query is worth
//! ([`nodes_for`]), and whether a follower runs a share it is asked for
//! ([`may_run`]).

use std::collections::BTreeMap;

use skein_actors::messages::{Role, RoleSnapshot};
use skein_actors::metastore::cluster::NodeRow;
use skein_actors::replication::find_leader::reachable;
use skein_actors::replication::{FollowerInfo, LeaderSession};
use url::Url;

/// Events a share must be worth before a query is split: below it the
/// round trip costs more than the scan it saves.
pub const MIN_EVENTS_PER_SHARE: u64 = 200_000;

/// A follower that may run a share.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Helper {
    /// Its node name.
    pub name: String,
    /// Its cluster port as an HTTP URI (`ws://` → `http://`, `wss://` →
    /// `https://`).
    pub cluster_port: Url,
}

/// The followers that may run a share of a query planned in `term`: with a
/// replication session established in that term, up to date by the live
/// replication state (`fresh`), and whose heartbeat row names a cluster URI
/// a peer can reach; in name order.
pub fn helpers(
    term: u64,
    followers: &[FollowerInfo],
    fresh: &BTreeMap<String, bool>,
    rows: &[NodeRow],
) -> Vec<Helper> {
    let mut names: Vec<&str> = followers
        .iter()
        .filter(|f| f.term == term && fresh.get(&f.node).copied().unwrap_or(false))
        .map(|f| f.node.as_str())
        .collect();
    names.sort_unstable();
    names.dedup();
    names
        .into_iter()
        .filter_map(|name| {
            let row = rows.iter().find(|r| r.name == name)?;
            let uri = row.cluster_uri.as_deref().filter(|u| reachable(u))?;
            Some(Helper {
                name: name.to_owned(),
                cluster_port: cluster_port(uri)?,
            })
        })
        .collect()
}

/// A cluster URI (`ws://`/`wss://`) as the HTTP URI of the same port.
fn cluster_port(uri: &str) -> Option<Url> {
    let mut url = Url::parse(uri).ok()?;
    let scheme = match url.scheme() {
        "ws" => "http",
        "wss" => "https",
        _ => return None,
    };
    url.set_scheme(scheme).ok()?;
    Some(url)
}

/// How many nodes (this one included) a query reading `events` events is
/// split over, with `helpers` followers able to help: one share per
/// `min_per_share` events, at most one per node, at least this node.
pub fn nodes_for(events: u64, helpers: usize, min_per_share: u64) -> usize {
    let worth = events / min_per_share.max(1);
    (worth.min(helpers as u64 + 1) as usize).max(1)
}

/// Whether this node runs a share that the node `peer` asked for in
/// `term`: only while it follows `peer` in that very term, connected (so it
/// holds that leader's history, a divergent tail already set aside).
pub fn may_run(
    term: u64,
    peer: &str,
    role: &RoleSnapshot,
    session: &LeaderSession,
) -> Result<(), String> {
    if role.role != Role::Follower || role.term != term {
        return Err(format!(
            "this node is {} in term {}, not a follower in term {term}",
            role.role.name(),
            role.term
        ));
    }
    if !session.connected || session.leader.as_deref() != Some(peer) {
        return Err(format!(
            "this node does not follow {peer} now (its session: {})",
            match (&session.leader, session.connected) {
                (Some(l), true) => format!("connected to {l}"),
                (Some(l), false) => format!("disconnected from {l}"),
                (None, _) => "none".to_owned(),
            }
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
