//! Where a follower finds the node that leads now: one rule for
//! replication, which connects to the leader's cluster port
//! ([`super::receiver::leader_uri`]), and for the API proxy, which forwards
//! to its internal API. In order:
//! 1. the configured peer whose cluster URI welcomed this follower's
//!    replication session with the published leader (the name ↔ address
//!    pairing is learnt there, so a configured peer is always reached as
//!    configured);
//! 2. the address in the leader's own heartbeat row, when it names a host
//!    peers can reach ([`reachable`]: a node added later, not in the peer
//!    list);
//! 3. the configured peers in turn (a node that does not lead refuses a
//!    replication session, and the next is tried).

use url::Url;

use crate::messages::LeaderAddress;

/// Which of a leader's addresses a caller wants.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Port {
    /// Its cluster URI (`ws`/`wss`): replication.
    Cluster,
    /// Its internal API URI (`http`/`https`): the proxy.
    InternalApi,
}

/// Where the leader is found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LeaderAt<'a> {
    /// The configured peer of this index: where replication reached the
    /// leader, or — nothing else known — the peers in turn.
    Peer(usize),
    /// The address of the wanted port that the leader's row lists.
    Listed(&'a str),
}

/// Where to look for `leader` (the published one, if any), on the
/// `attempt`-th try, among `peers` (the configured peers' cluster URIs),
/// given where replication `reached` that leader (a cluster URI: see
/// [`super::ReplicationState::where_leader_was_reached`]). `None`: no
/// leader is known where to find, and no peer is configured.
pub fn find_leader<'a, 'p>(
    leader: Option<&'a LeaderAddress>,
    reached: Option<&str>,
    peers: impl ExactSizeIterator<Item = &'p str>,
    port: Port,
    attempt: usize,
) -> Option<LeaderAt<'a>> {
    let count = peers.len();
    let mut peers = peers;
    if let Some(i) = reached.and_then(|r| peers.position(|p| same_uri(p, r))) {
        return Some(LeaderAt::Peer(i));
    }
    let listed = leader.and_then(|l| match port {
        Port::Cluster => l.cluster_uri.as_deref(),
        Port::InternalApi => l.internal_api_uri.as_deref(),
    });
    if let Some(uri) = listed.filter(|u| reachable(u)) {
        return Some(LeaderAt::Listed(uri));
    }
    (count > 0).then(|| LeaderAt::Peer(attempt % count))
}

/// Whether `uri` names a host a peer can reach (not a wildcard or
/// `localhost`, which a node's listen URI may hold to bind every interface).
pub fn reachable(uri: &str) -> bool {
    let host = Url::parse(uri)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned));
    host.is_some_and(|h| !matches!(h.as_str(), "localhost" | "0.0.0.0" | "[::]" | "::"))
}

/// Whether two URIs are the same once parsed (`ws://b:5344` is
/// `ws://b:5344/`).
fn same_uri(a: &str, b: &str) -> bool {
    match (Url::parse(a), Url::parse(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PEERS: [&str; 2] = ["ws://b.example:5344/", "ws://c.example:5344/"];

    /// The leader `name`, whose row lists `host`.
    fn leader(name: &str, host: &str) -> LeaderAddress {
        LeaderAddress {
            name: name.into(),
            term: 2,
            cluster_uri: Some(format!("ws://{host}:5344")),
            internal_api_uri: Some(format!("http://{host}")),
        }
    }

    fn find<'a>(
        leader: Option<&'a LeaderAddress>,
        reached: Option<&str>,
        port: Port,
        attempt: usize,
    ) -> Option<LeaderAt<'a>> {
        find_leader(leader, reached, PEERS.into_iter(), port, attempt)
    }

    #[test]
    fn nothing_known_the_configured_peers_are_tried_in_turn() {
        for port in [Port::Cluster, Port::InternalApi] {
            let turns: Vec<_> = (0..3).map(|a| find(None, None, port, a)).collect();
            let peer = |i| Some(LeaderAt::Peer(i));
            assert_eq!(turns, [peer(0), peer(1), peer(0)], "{port:?}");
        }
        let none = std::iter::empty();
        assert_eq!(find_leader(None, None, none, Port::Cluster, 0), None);
    }

    #[test]
    fn where_replication_reached_the_leader_comes_first() {
        // Its row lists a reachable host, but it welcomed this follower at
        // the second configured peer (written without the final slash).
        let c = leader("node-c", "10.0.0.3");
        for port in [Port::Cluster, Port::InternalApi] {
            let found = find(Some(&c), Some("ws://c.example:5344"), port, 0);
            assert_eq!(found, Some(LeaderAt::Peer(1)), "{port:?}");
        }
    }

    #[test]
    fn a_leader_not_configured_here_is_found_where_its_row_says() {
        let d = leader("node-d", "d.example");
        let at = |port, reached| find(Some(&d), reached, port, 1);
        for reached in [None, Some("ws://d.example:5344/")] {
            assert_eq!(
                at(Port::Cluster, reached),
                Some(LeaderAt::Listed("ws://d.example:5344"))
            );
            assert_eq!(
                at(Port::InternalApi, reached),
                Some(LeaderAt::Listed("http://d.example"))
            );
        }
    }

    #[test]
    fn a_row_that_binds_every_interface_says_nothing() {
        for host in ["localhost", "0.0.0.0", "[::]"] {
            let e = leader("node-e", host);
            for port in [Port::Cluster, Port::InternalApi] {
                assert_eq!(find(Some(&e), None, port, 1), Some(LeaderAt::Peer(1)));
            }
        }
    }

    #[test]
    fn reachable_hosts_are_named_ones() {
        assert!(reachable("ws://b.example:5344"));
        assert!(reachable("https://10.0.0.2:5341"));
        for uri in [
            "http://localhost:80",
            "ws://0.0.0.0:1",
            "ws://[::]:1",
            "b.example",
        ] {
            assert!(!reachable(uri), "{uri}");
        }
    }
}
