//! Validation of [`Settings`] into the [`RuntimeConfig`] a node runs with:
//! URIs parsed and their schemes checked, the secret key decoded, limits
//! checked, and the cluster keys required by the node's role present.

use serde::{Deserialize, Serialize};
use url::Url;

use super::{Settings, SettingsError};
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
    /// Whether every API route (but the public ones) needs a user session or
    /// an API key: `auth.required`, or when unset, whether any API URI binds
    /// beyond the loopback interface (see [`binds_beyond_loopback`] and
    /// [`peer_facing_beyond_loopback`]).
    pub auth_required: bool,
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
    /// The peer's intra-cluster URI (`ws`/`wss`).
    pub peer_cluster_uri: Option<Url>,
    /// The peer's internal API URI (`http`/`https`).
    pub peer_internal_api_uri: Option<Url>,
}

const HTTP: &[&str] = &["http", "https"];
const WS: &[&str] = &["ws", "wss"];

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
        let c = &settings.cluster;
        let cluster = ClusterConfig {
            role: c.role,
            node_name: c.node_name.clone().filter(|n| !n.is_empty()),
            listen_uri: opt_uri("cluster.listenUri", &c.listen_uri, WS)?,
            internal_api_uri: opt_uri("cluster.internalApiUri", &c.internal_api_uri, HTTP)?,
            peer_cluster_uri: opt_uri("cluster.peerClusterUri", &c.peer_cluster_uri, WS)?,
            peer_internal_api_uri: opt_uri(
                "cluster.peerInternalApiUri",
                &c.peer_internal_api_uri,
                HTTP,
            )?,
        };
        if cluster.role != NodeRole::Standalone {
            let required = [
                ("cluster.listenUri", cluster.listen_uri.is_some()),
                ("cluster.internalApiUri", cluster.internal_api_uri.is_some()),
                ("cluster.peerClusterUri", cluster.peer_cluster_uri.is_some()),
                (
                    "cluster.peerInternalApiUri",
                    cluster.peer_internal_api_uri.is_some(),
                ),
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
        })
    }
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
        s.cluster.peer_cluster_uri = Some("wss://peer.example:5344".into());
        s.cluster.peer_internal_api_uri = Some("https://peer.example".into());
        let rc = RuntimeConfig::from_settings(&s).unwrap();
        assert_eq!(rc.cluster.role, NodeRole::Follower);
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
}
