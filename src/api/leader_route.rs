//! [`LeaderRoute`]: where a follower forwards API requests — the internal
//! API of the node that leads now.
//!
//! The leader is the one the node's owner publishes (from the shared
//! metastore's leadership row); its address is found by the rule
//! replication follows too ([`find_leader`]), in order:
//! 1. the configured peer whose cluster URI welcomed this follower's
//!    replication session with that leader (the name ↔ address pairing is
//!    learnt there, so a configured peer is always reached as configured);
//! 2. the internal API URI in the leader's own heartbeat row, when it names
//!    a host peers can reach (a node added later, not in the peer list);
//! 3. the first configured peer (the two-node layout's one peer).

use skein_actors::messages::RoleView;
use skein_actors::replication::find_leader::{find_leader, LeaderAt, Port};
use skein_actors::replication::ReplicationState;
use url::Url;

use crate::settings::runtime::Peer;

/// Finds the leader's internal API.
#[derive(Clone, Debug)]
pub struct LeaderRoute {
    peers: Vec<Peer>,
    role: RoleView,
    replication: Option<ReplicationState>,
}

impl LeaderRoute {
    /// A route among `peers`, following the leader `role` publishes, with
    /// what replication learnt of where each leader was reached.
    pub fn new(
        peers: Vec<Peer>,
        role: RoleView,
        replication: Option<ReplicationState>,
    ) -> LeaderRoute {
        LeaderRoute {
            peers,
            role,
            replication,
        }
    }

    /// The leader's internal API URI, when one is known or configured.
    pub fn leader(&self) -> Option<Url> {
        let leader = self.role.leader();
        let reached = leader
            .as_ref()
            .zip(self.replication.as_ref())
            .and_then(|(l, r)| r.where_leader_was_reached(&l.name));
        let peers = self.peers.iter().map(|p| p.cluster_uri.as_str());
        match find_leader(
            leader.as_ref(),
            reached.as_deref(),
            peers,
            Port::InternalApi,
            0,
        )? {
            LeaderAt::Peer(i) => Some(self.peers[i].internal_api_uri.clone()),
            LeaderAt::Listed(uri) => Url::parse(uri).ok(),
        }
    }
}

#[cfg(test)]
mod tests {
    use skein_actors::messages::{LeaderAddress, Role, RolePublisher, RoleSnapshot};

    use super::*;

    fn peer(host: &str) -> Peer {
        Peer {
            cluster_uri: Url::parse(&format!("ws://{host}:5344")).unwrap(),
            internal_api_uri: Url::parse(&format!("http://{host}")).unwrap(),
        }
    }

    fn leads(publisher: &RolePublisher, name: &str, term: u64, listed: &str) {
        publisher.leader_address(LeaderAddress {
            name: name.into(),
            term,
            cluster_uri: Some(format!("ws://{listed}:5344")),
            internal_api_uri: Some(format!("http://{listed}")),
        });
    }

    #[test]
    fn the_leader_is_found_where_replication_reached_it_then_where_it_says() {
        let publisher = RolePublisher::new(RoleSnapshot::initial(Role::Follower, 1));
        let replication = ReplicationState::default();
        let route = LeaderRoute::new(
            vec![peer("b.example"), peer("c.example")],
            publisher.view(),
            Some(replication.clone()),
        );
        let at = |host: &str| Some(Url::parse(&format!("http://{host}")).unwrap());
        // Nothing known: the first configured peer.
        assert_eq!(route.leader(), at("b.example"));
        // The leader's row binds every interface: it says nothing.
        leads(&publisher, "node-c", 2, "localhost");
        assert_eq!(route.leader(), at("b.example"));
        // Replication reached node-c at the second configured peer.
        replication.leader_reached("node-c", "ws://c.example:5344/");
        assert_eq!(route.leader(), at("c.example"));
        // A leader not configured here is reached where its row says.
        leads(&publisher, "node-d", 3, "d.example");
        assert_eq!(route.leader(), at("d.example"));
    }
}
