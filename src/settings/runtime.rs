//! Validation of [`Settings`] into the [`RuntimeConfig`] a node runs with:
//! URIs parsed and their schemes checked, the secret key decoded, limits
//! checked, and the cluster keys required by the node's role present (the
//! peers paired, each listed once and none of them this node itself).

use std::time::Duration;

use serde::{Deserialize, Serialize};
use url::Url;

use super::{ClusterSettings, ReplicationSettings, Settings, SettingsError};
use crate::secrets::SecretKey;

/// A node's role in a cluster.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NodeRole {
    /// A single node, no cluster (the default).
    #[default]
    Standalone,
    /// The cluster's leader: ingests and serves the API.
    Leader,
    /// A follower: replicates from the leader and proxies requests to it.
    Follower,
}

/// The validated settings a node runs with.
#[derive(Clone, Debug)]
pub struct RuntimeConfig {
    /// Where the HTTP API listens (`http` or `https`).
    pub listen_uris: Vec<Url>,
    /// The public base URI for generated links, when configured.
    pub canonical_uri: Option<Url>,
    /// The key encrypting `Secrets/`, when configured.
    pub secret_key: Option<SecretKey>,
    /// Free disk space below which the store refuses writes.
    pub flush_floor_bytes: u64,
    /// The largest ingestion request body.
    pub max_payload_bytes: u64,
    /// Cluster membership.
    pub cluster: ClusterConfig,
    /// What the leader waits for before it acknowledges a write.
    pub replication: ReplicationConfig,
    /// Whether every API route (but the public ones) needs a user session or
    /// an API key: `auth.required`, or when unset, whether any API URI binds
    /// beyond the loopback interface (see [`binds_beyond_loopback`] and
    /// [`peer_facing_beyond_loopback`]).
    pub auth_required: bool,
}

/// The validated `replication.*` keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReplicationConfig {
    /// Followers that must hold a batch durably before it is acknowledged.
    pub minimum_acknowledging_replicas: u32,
    /// How long a write waits for them before it fails with 503.
    pub acknowledgement_timeout: Duration,
}

impl ReplicationConfig {
    /// Validates the `replication.*` keys against the peers a node has: it
    /// cannot wait for more followers than it has peers.
    fn from_settings(r: &ReplicationSettings, peers: usize) -> Result<Self, SettingsError> {
        const N: &str = "replication.minimumAcknowledgingReplicas";
        const TIMEOUT: &str = "replication.acknowledgementTimeout";
        let n = r.minimum_acknowledging_replicas;
        if n as usize > peers {
            return Err(invalid(
                N,
                &format!(
                    "is {n} but this node has {peers} peer(s): a write could never be \
                     acknowledged (set it to at most {peers}, or add peers with `skein node setup`)"
                ),
            ));
        }
        let acknowledgement_timeout =
            skein_store::query::parse_duration(&r.acknowledgement_timeout)
                .filter(|d| !d.is_zero())
                .ok_or_else(|| invalid(TIMEOUT, "expected a duration such as 500ms, 5s or 1m"))?;
        Ok(ReplicationConfig {
            minimum_acknowledging_replicas: n,
            acknowledgement_timeout,
        })
    }
}

/// The validated `cluster.*` keys.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClusterConfig {
    /// This node's role.
    pub role: NodeRole,
    /// The informational node name, when configured.
    pub node_name: Option<String>,
    /// Where this node listens for intra-cluster traffic (`ws`/`wss`).
    pub listen_uri: Option<Url>,
    /// Where this node serves proxied API requests (`http`/`https`).
    pub internal_api_uri: Option<Url>,
    /// The other nodes of the cluster, in configuration order.
    pub peers: Vec<Peer>,
    /// Whether a follower takes over when the leader's lease runs out:
    /// `cluster.autoFailover`, or when unset, whether there are two or more
    /// peers (three or more nodes; the two-node layout fails over by hand).
    pub auto_failover: bool,
    /// `cluster.scaleOutQueries` (unset: on): whether a leader splits large
    /// aggregating queries across its up-to-date followers.
    pub scale_out_queries: bool,
}

/// One other node of the cluster (`cluster.peerClusterUri` and
/// `cluster.peerInternalApiUri` at the same position).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Peer {
    /// Where the peer listens for intra-cluster traffic (`ws`/`wss`).
    pub cluster_uri: Url,
    /// Where the peer serves proxied API requests (`http`/`https`).
    pub internal_api_uri: Url,
}

/// Why a list of peers cannot be this node's: a URI listed twice, or one
/// that is this node's own (see [`peer_conflict`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerConflict {
    /// The key of the list holding the offending URI
    /// (`cluster.peerClusterUri` or `cluster.peerInternalApiUri`).
    pub key: &'static str,
    /// What is wrong, as a sentence naming the URI.
    pub detail: String,
}

/// The first conflict among `peers` for a node whose own URIs are
/// `own_cluster` and `own_internal_api`: a cluster or internal API URI
/// given twice, or equal to this node's own. URIs compare normalized
/// (`ws://B:5344` is `ws://b:5344/`, `http://b:80` is `http://b`).
pub fn peer_conflict(
    peers: &[Peer],
    own_cluster: Option<&Url>,
    own_internal_api: Option<&Url>,
) -> Option<PeerConflict> {
    let cluster = peers.iter().map(|p| &p.cluster_uri);
    let internal = peers.iter().map(|p| &p.internal_api_uri);
    list_conflict(CLUSTER_PEERS, "cluster", cluster, own_cluster)
        .or_else(|| list_conflict(INTERNAL_PEERS, "internal API", internal, own_internal_api))
}

/// The first URI of `uris` given twice or equal to `own`.
fn list_conflict<'a>(
    key: &'static str,
    what: &str,
    uris: impl Iterator<Item = &'a Url>,
    own: Option<&Url>,
) -> Option<PeerConflict> {
    let mut seen: Vec<&Url> = Vec::new();
    for uri in uris {
        let detail = if own == Some(uri) {
            format!("{uri} is this node's own {what} URI: list only the other nodes")
        } else if seen.contains(&uri) {
            format!("{uri} is given twice: list each peer once")
        } else {
            seen.push(uri);
            continue;
        };
        return Some(PeerConflict { key, detail });
    }
    None
}

const HTTP: &[&str] = &["http", "https"];
const WS: &[&str] = &["ws", "wss"];
/// The key listing the peers' intra-cluster URIs.
pub const CLUSTER_PEERS: &str = "cluster.peerClusterUri";
/// The key listing the peers' internal API URIs.
pub const INTERNAL_PEERS: &str = "cluster.peerInternalApiUri";

impl RuntimeConfig {
    /// Validates `settings`; every error names the offending key.
    pub fn from_settings(settings: &Settings) -> Result<Self, SettingsError> {
        if settings.api.listen_uris.is_empty() {
            return Err(invalid("api.listenUris", "at least one URI is required"));
        }
        let listen_uris = settings
            .api
            .listen_uris
            .iter()
            .map(|u| parse_uri("api.listenUris", u, HTTP))
            .collect::<Result<Vec<Url>, _>>()?;
        let canonical_uri = opt_uri("api.canonicalUri", &settings.api.canonical_uri, HTTP)?;
        let secret_key = match settings.storage.secret_key.as_deref() {
            None | Some("") => None,
            Some(text) => Some(
                SecretKey::from_base64(text)
                    .map_err(|e| invalid("storage.secretKey", &e.to_string()))?,
            ),
        };
        if settings.ingestion.max_payload_bytes == 0 {
            return Err(invalid(
                "ingestion.maxPayloadBytes",
                "must be greater than zero",
            ));
        }
        let cluster = ClusterConfig::from_settings(&settings.cluster)?;
        let replication =
            ReplicationConfig::from_settings(&settings.replication, cluster.peers.len())?;
        if cluster.role != NodeRole::Standalone {
            let required = [
                ("cluster.listenUri", cluster.listen_uri.is_some()),
                ("cluster.internalApiUri", cluster.internal_api_uri.is_some()),
                (CLUSTER_PEERS, !cluster.peers.is_empty()),
            ];
            if let Some((key, _)) = required.iter().find(|(_, present)| !present) {
                return Err(invalid(
                    key,
                    "required when cluster.role is leader or follower (see `skein node setup`)",
                ));
            }
        }
        let auth_required = settings.auth.required.unwrap_or_else(|| {
            binds_beyond_loopback(listen_uris.iter())
                || peer_facing_beyond_loopback(
                    cluster.internal_api_uri.iter().chain(&cluster.listen_uri),
                )
        });
        Ok(RuntimeConfig {
            listen_uris,
            canonical_uri,
            secret_key,
            flush_floor_bytes: settings.storage.flush_floor_bytes,
            max_payload_bytes: settings.ingestion.max_payload_bytes,
            auth_required,
            cluster,
            replication,
        })
    }
}

impl ClusterConfig {
    /// Validates the `cluster.*` keys (but not which the role requires).
    fn from_settings(c: &ClusterSettings) -> Result<Self, SettingsError> {
        let listen_uri = opt_uri("cluster.listenUri", &c.listen_uri, WS)?;
        let internal_api_uri = opt_uri("cluster.internalApiUri", &c.internal_api_uri, HTTP)?;
        let peers = peers(c)?;
        if let Some(conflict) =
            peer_conflict(&peers, listen_uri.as_ref(), internal_api_uri.as_ref())
        {
            return Err(invalid(conflict.key, &conflict.detail));
        }
        Ok(ClusterConfig {
            role: c.role,
            node_name: c.node_name.clone().filter(|n| !n.is_empty()),
            listen_uri,
            internal_api_uri,
            auto_failover: c.auto_failover.unwrap_or(peers.len() >= 2),
            scale_out_queries: c.scale_out_queries.unwrap_or(true),
            peers,
        })
    }
}

/// The peers of `cluster.peerClusterUri` and `cluster.peerInternalApiUri`,
/// paired by position: both lists must be as long.
fn peers(c: &ClusterSettings) -> Result<Vec<Peer>, SettingsError> {
    let list = |key: &str, raw: &Option<Vec<String>>, schemes: &[&str]| {
        raw.iter()
            .flatten()
            .map(|u| parse_uri(key, u, schemes))
            .collect::<Result<Vec<Url>, _>>()
    };
    let cluster = list(CLUSTER_PEERS, &c.peer_cluster_uri, WS)?;
    let internal = list(INTERNAL_PEERS, &c.peer_internal_api_uri, HTTP)?;
    if cluster.len() != internal.len() {
        return Err(invalid(
            INTERNAL_PEERS,
            &format!(
                "it lists {} URI(s) but {CLUSTER_PEERS} lists {}: give both for every peer, in the same order",
                internal.len(),
                cluster.len()
            ),
        ));
    }
    Ok(cluster
        .into_iter()
        .zip(internal)
        .map(|(cluster_uri, internal_api_uri)| Peer {
            cluster_uri,
            internal_api_uri,
        })
        .collect())
}

/// Whether any of `uris` binds something other than `localhost` or a
/// loopback address (`0.0.0.0`, a host name, a public address): the default
/// of `auth.required` for a node that never set it, so that every new node
/// reachable from the network needs credentials.
pub fn binds_beyond_loopback<'a>(mut uris: impl Iterator<Item = &'a Url>) -> bool {
    uris.any(|u| match u.host() {
        Some(url::Host::Domain(d)) => !d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => !ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => !ip.is_loopback(),
        None => true,
    })
}

/// [`binds_beyond_loopback`] for the peer-facing URIs (internal API,
/// cluster listener), where `localhost` binds every interface (see
/// [`crate::listen`]) and so counts as beyond loopback.
pub fn peer_facing_beyond_loopback<'a>(mut uris: impl Iterator<Item = &'a Url>) -> bool {
    uris.any(|u| crate::listen::peer_facing_binds_all(u) || binds_beyond_loopback([u].into_iter()))
}

fn invalid(key: &str, detail: &str) -> SettingsError {
    SettingsError::InvalidValue {
        key: key.to_string(),
        detail: detail.to_string(),
    }
}

fn opt_uri(
    key: &str,
    raw: &Option<String>,
    schemes: &[&str],
) -> Result<Option<Url>, SettingsError> {
    match raw.as_deref() {
        None | Some("") => Ok(None),
        Some(text) => parse_uri(key, text, schemes).map(Some),
    }
}

fn parse_uri(key: &str, raw: &str, schemes: &[&str]) -> Result<Url, SettingsError> {
    let url = Url::parse(raw).map_err(|e| invalid(key, &format!("`{raw}` is not a URI: {e}")))?;
    if !schemes.contains(&url.scheme()) {
        return Err(invalid(
            key,
            &format!("`{raw}` must use {}", schemes.join(" or ")),
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(invalid(key, &format!("`{raw}` has no host")));
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_validate() {
        let rc = RuntimeConfig::from_settings(&Settings::default()).unwrap();
        assert_eq!(rc.listen_uris[0].as_str(), "http://localhost:5341/");
        assert_eq!(rc.listen_uris[0].port_or_known_default(), Some(5341));
        assert!(rc.secret_key.is_none());
        assert_eq!(rc.cluster.role, NodeRole::Standalone);
        assert!(!rc.auth_required, "localhost only: auth off by default");
    }

    #[test]
    fn auth_defaults_on_beyond_loopback_unless_set() {
        let with = |uris: &[&str], required: Option<bool>| {
            let mut s = Settings::default();
            s.api.listen_uris = uris.iter().map(|u| u.to_string()).collect();
            s.auth.required = required;
            RuntimeConfig::from_settings(&s).unwrap().auth_required
        };
        assert!(!with(&["http://127.0.0.1:1", "http://[::1]:2"], None));
        assert!(with(&["http://localhost:1", "http://0.0.0.0:2"], None));
        assert!(with(&["http://logs.example.com"], None));
        assert!(!with(&["http://0.0.0.0:2"], Some(false)));
        assert!(with(&["http://localhost:1"], Some(true)));
    }

    #[test]
    fn bad_values_name_their_key() {
        let mut s = Settings::default();
        s.api.listen_uris = vec!["ws://localhost:1".into()];
        let err = RuntimeConfig::from_settings(&s).unwrap_err().to_string();
        assert!(err.contains("api.listenUris"), "{err}");

        let mut s = Settings::default();
        s.storage.secret_key = Some("not base64!".into());
        let err = RuntimeConfig::from_settings(&s).unwrap_err().to_string();
        assert!(err.contains("storage.secretKey"), "{err}");

        let mut s = Settings::default();
        s.cluster.role = NodeRole::Leader;
        s.cluster.listen_uri = Some("ws://localhost:5344".into());
        let err = RuntimeConfig::from_settings(&s).unwrap_err().to_string();
        assert!(err.contains("cluster.internalApiUri"), "{err}");
    }

    #[test]
    fn a_configured_cluster_validates() {
        let mut s = Settings::default();
        s.storage.secret_key = Some(SecretKey::generate().unwrap().to_base64());
        s.cluster.role = NodeRole::Follower;
        s.cluster.listen_uri = Some("ws://localhost:5344".into());
        s.cluster.internal_api_uri = Some("http://localhost".into());
        s.cluster.peer_cluster_uri = Some(vec!["wss://peer.example:5344".into()]);
        s.cluster.peer_internal_api_uri = Some(vec!["https://peer.example".into()]);
        let rc = RuntimeConfig::from_settings(&s).unwrap();
        assert_eq!(rc.cluster.role, NodeRole::Follower);
        assert_eq!(
            rc.cluster.peers.first().map(|p| p.cluster_uri.as_str()),
            Some("wss://peer.example:5344/")
        );
        assert_eq!(
            rc.cluster
                .peers
                .first()
                .map(|p| p.internal_api_uri.as_str()),
            Some("https://peer.example/")
        );
        assert!(!rc.cluster.auto_failover, "two nodes: off by default");
        assert!(rc.secret_key.is_some());
        assert!(
            rc.auth_required,
            "localhost peer-facing URIs bind every interface"
        );
        s.cluster.listen_uri = Some("ws://127.0.0.1:5344".into());
        s.cluster.internal_api_uri = Some("http://127.0.0.1:5345".into());
        let rc = RuntimeConfig::from_settings(&s).unwrap();
        assert!(!rc.auth_required, "loopback addresses stay loopback");
        s.cluster.listen_uri = Some("ws://localhost:5344".into());
        let rc = RuntimeConfig::from_settings(&s).unwrap();
        assert!(rc.auth_required, "the cluster listener counts too");
    }

    /// A follower of a three-node cluster: `peers` are (cluster, internal API) pairs.
    fn three_nodes(peers: &[(&str, &str)]) -> Settings {
        let mut s = Settings::default();
        s.cluster.role = NodeRole::Follower;
        s.cluster.listen_uri = Some("ws://a:5344".into());
        s.cluster.internal_api_uri = Some("http://a".into());
        s.cluster.peer_cluster_uri = Some(peers.iter().map(|p| p.0.into()).collect());
        s.cluster.peer_internal_api_uri = Some(peers.iter().map(|p| p.1.into()).collect());
        s
    }

    #[test]
    fn peers_pair_by_position_and_auto_failover_follows_their_count() {
        let mut s = three_nodes(&[("ws://b:5344", "http://b"), ("wss://c:5344", "https://c")]);
        let rc = RuntimeConfig::from_settings(&s).unwrap().cluster;
        assert_eq!(rc.peers.len(), 2);
        assert_eq!(rc.peers[1].cluster_uri.as_str(), "wss://c:5344/");
        assert_eq!(rc.peers[1].internal_api_uri.as_str(), "https://c/");
        assert!(rc.auto_failover, "three nodes: on by default");
        s.cluster.auto_failover = Some(false);
        assert!(
            !RuntimeConfig::from_settings(&s)
                .unwrap()
                .cluster
                .auto_failover
        );
        let mut two = three_nodes(&[("ws://b:5344", "http://b")]);
        two.cluster.auto_failover = Some(true);
        assert!(
            RuntimeConfig::from_settings(&two)
                .unwrap()
                .cluster
                .auto_failover
        );
    }

    #[test]
    fn bad_peer_lists_refuse_to_load_with_the_reason() {
        let err = |s: &Settings| RuntimeConfig::from_settings(s).unwrap_err().to_string();
        let mut s = three_nodes(&[("ws://b:5344", "http://b"), ("ws://c:5344", "http://c")]);
        s.cluster.peer_internal_api_uri = Some(vec!["http://b".into()]);
        let e = err(&s);
        assert!(
            e.contains("lists 1 URI(s) but cluster.peerClusterUri lists 2"),
            "{e}"
        );
        let e = err(&three_nodes(&[
            ("ws://b:5344", "http://b"),
            ("ws://B:5344/", "http://c"),
        ]));
        assert!(
            e.contains("cluster.peerClusterUri") && e.contains("ws://b:5344/ is given twice"),
            "{e}"
        );
        let e = err(&three_nodes(&[
            ("ws://b:5344", "http://b:80"),
            ("ws://c:5344", "http://b"),
        ]));
        assert!(
            e.contains("cluster.peerInternalApiUri") && e.contains("http://b/ is given twice"),
            "{e}"
        );
        let e = err(&three_nodes(&[("ws://a:5344", "http://b")]));
        assert!(e.contains("this node's own cluster URI"), "{e}");
        let e = err(&three_nodes(&[("ws://b:5344", "http://a")]));
        assert!(e.contains("this node's own internal API URI"), "{e}");
        let e = err(&three_nodes(&[("http://b:5344", "http://b")]));
        assert!(e.contains("must use ws or wss"), "{e}");
        let e = err(&three_nodes(&[]));
        assert!(
            e.contains("cluster.peerClusterUri") && e.contains("required"),
            "{e}"
        );
    }

    #[test]
    fn a_single_peer_string_still_loads() {
        let file = r#"{"cluster":{"peerClusterUri":"ws://b:5344","peerInternalApiUri":"http://b","autoFailover":null}}"#;
        let s = Settings::layer(Some(file), &Default::default()).unwrap();
        assert_eq!(
            s.cluster.peer_cluster_uri,
            Some(vec!["ws://b:5344".to_string()])
        );
        assert_eq!(
            s.cluster.peer_internal_api_uri,
            Some(vec!["http://b".to_string()])
        );
        let listed = r#"{"cluster":{"peerClusterUri":["ws://b:5344","ws://c:5344"]}}"#;
        let s = Settings::layer(Some(listed), &Default::default()).unwrap();
        assert_eq!(s.cluster.peer_cluster_uri.map(|l| l.len()), Some(2));
        let env = [(
            "SKEIN_CLUSTER_PEERCLUSTERURI".to_string(),
            "ws://x:1, ws://y:2".to_string(),
        )]
        .into();
        let s = Settings::layer(Some(file), &env).unwrap();
        assert_eq!(
            s.cluster.peer_cluster_uri,
            Some(vec!["ws://x:1".to_string(), "ws://y:2".to_string()])
        );
        let env = [(
            "SKEIN_CLUSTER_PEERCLUSTERURI".to_string(),
            "ws://z:1".to_string(),
        )]
        .into();
        let s = Settings::layer(Some(listed), &env).unwrap();
        assert_eq!(
            s.cluster.peer_cluster_uri,
            Some(vec!["ws://z:1".to_string()]),
            "a shorter list in the environment replaces the file's"
        );
        let unset = r#"{"cluster":{"peerClusterUri":null,"peerInternalApiUri":""}}"#;
        let s = Settings::layer(Some(unset), &Default::default()).unwrap();
        assert_eq!(
            (s.cluster.peer_cluster_uri, s.cluster.peer_internal_api_uri),
            (None, None)
        );
    }
}
