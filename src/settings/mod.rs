//! Node settings: the serde [`Settings`] struct and how it is layered.
//!
//! Layers, later winning: the defaults of [`Settings::default`] →
//! `<storage>/skein.json` → `SKEIN_*` environment variables. Keys use Seq's
//! dotted camelCase names (`api.listenUris`); the environment name of a key is
//! `SKEIN_` + the key upper-cased with dots as underscores
//! (`SKEIN_API_LISTENURIS`). The environment map is passed in, so tests inject
//! their own.
//!
//! - [`keys`]: the registry of keys (kind, restart needed, sensitivity) and
//!   editing of `skein.json` for `skein config set/clear`.
//! - [`runtime`]: validation of [`Settings`] into the [`RuntimeConfig`] the
//!   node runs with.

pub mod keys;
pub mod runtime;

use std::collections::HashMap;
use std::fs;
use std::io;

use config::{Config, File, FileFormat};
use serde::{Deserialize, Serialize};

use crate::storage::StorageRoot;

pub use keys::{KeyInfo, KeyKind, KEYS};
pub use runtime::{ClusterConfig, NodeRole, Peer, RuntimeConfig};

/// Errors raised while loading, editing or validating settings.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// `skein.json` could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The underlying error.
        source: io::Error,
    },
    /// `skein.json` is not a JSON object.
    #[error("{path} is not valid configuration JSON: {detail}")]
    BadFile {
        /// The file.
        path: String,
        /// What is wrong.
        detail: String,
    },
    /// The layered settings could not be built or deserialized.
    #[error("invalid configuration: {0}")]
    Layering(String),
    /// `config set/get/clear` named a key that does not exist.
    #[error("unknown configuration key `{0}` (see `skein config list` for the known keys)")]
    UnknownKey(String),
    /// A value does not fit its key.
    #[error("invalid value for `{key}`: {detail}")]
    InvalidValue {
        /// The dotted key (or environment variable) holding the value.
        key: String,
        /// What is wrong.
        detail: String,
    },
    /// Writing `skein.json` failed.
    #[error(transparent)]
    Storage(#[from] crate::storage::StorageError),
}

/// Everything a node reads from `skein.json` and `SKEIN_*`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct Settings {
    /// The HTTP API (`api.*`).
    pub api: ApiSettings,
    /// Local storage (`storage.*`).
    pub storage: StorageSettings,
    /// Event ingestion limits (`ingestion.*`).
    pub ingestion: IngestionSettings,
    /// Cluster membership, set by `skein node setup` (`cluster.*`).
    pub cluster: ClusterSettings,
    /// What a leader waits for before it acknowledges (`replication.*`).
    pub replication: ReplicationSettings,
    /// Authentication (`auth.*`).
    pub auth: AuthSettings,
}

/// `replication.*`: durable acknowledgements.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct ReplicationSettings {
    /// `replication.minimumAcknowledgingReplicas`: how many followers must
    /// hold a batch durably (fsynced) in the leader's term before the
    /// leader acknowledges it; 0 (the default) acknowledges once the
    /// leader holds it, as Seq does.
    pub minimum_acknowledging_replicas: u32,
    /// `replication.acknowledgementTimeout`: how long a write waits for
    /// those followers before it fails with 503 (e.g. `5s`).
    pub acknowledgement_timeout: String,
}

impl Default for ReplicationSettings {
    fn default() -> Self {
        ReplicationSettings {
            minimum_acknowledging_replicas: 0,
            acknowledgement_timeout: "5s".into(),
        }
    }
}

/// `auth.*`: who may use the API.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct AuthSettings {
    /// `auth.required`: every route but health, the UI's files, the API root
    /// and login needs a user session or an API key. Unset (every new node),
    /// it is on when any API URI binds beyond localhost.
    pub required: Option<bool>,
}

/// `api.*`: where and how the HTTP API is served.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct ApiSettings {
    /// `api.listenUris`: the `http://` or `https://` URIs the API listens on.
    pub listen_uris: Vec<String>,
    /// `api.canonicalUri`: the public address (usually the load balancer's)
    /// used in every generated external link.
    pub canonical_uri: Option<String>,
}

impl Default for ApiSettings {
    fn default() -> Self {
        ApiSettings {
            listen_uris: vec!["http://localhost:5341".to_string()],
            canonical_uri: None,
        }
    }
}

/// `storage.*`: the local event store and secret encryption.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct StorageSettings {
    /// `storage.secretKey`: base64 of the 256-bit key that encrypts
    /// `Secrets/`; prefer `SKEIN_STORAGE_SECRETKEY` over keeping it here.
    pub secret_key: Option<String>,
    /// `storage.flushFloorBytes`: the store refuses writes (503) while the
    /// volume holding it has less free space than this.
    pub flush_floor_bytes: u64,
}

impl Default for StorageSettings {
    fn default() -> Self {
        StorageSettings {
            secret_key: None,
            flush_floor_bytes: 1 << 30,
        }
    }
}

/// `ingestion.*`: limits applied to incoming events.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct IngestionSettings {
    /// `ingestion.maxPayloadBytes`: the largest request body accepted for
    /// ingestion; larger bodies get 413.
    pub max_payload_bytes: u64,
}

impl Default for IngestionSettings {
    fn default() -> Self {
        IngestionSettings {
            max_payload_bytes: 10 * 1024 * 1024,
        }
    }
}

/// `cluster.*`: this node's place in a leader/follower cluster.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct ClusterSettings {
    /// `cluster.role`: `standalone` (no cluster), `leader` or `follower`.
    pub role: NodeRole,
    /// `cluster.nodeName`: an informational name for this node.
    pub node_name: Option<String>,
    /// `cluster.listenUri`: the `ws://` or `wss://` URI this node listens on
    /// for intra-cluster (replication) traffic, e.g. `ws://localhost:5344`.
    pub listen_uri: Option<String>,
    /// `cluster.internalApiUri`: the `http://` or `https://` URI on which this
    /// node serves API requests proxied from its peer.
    pub internal_api_uri: Option<String>,
    /// `cluster.peerClusterUri`: the other nodes' intra-cluster URIs, one
    /// per peer, paired by position with `peer_internal_api_uri`. A single
    /// string (skein.json of the two-node layout) reads as one peer.
    #[serde(deserialize_with = "one_or_many")]
    pub peer_cluster_uri: Option<Vec<String>>,
    /// `cluster.peerInternalApiUri`: the other nodes' internal API URIs,
    /// paired by position with `peer_cluster_uri`; a string is one peer.
    #[serde(deserialize_with = "one_or_many")]
    pub peer_internal_api_uri: Option<Vec<String>>,
    /// `cluster.autoFailover`: whether a follower takes over when the
    /// leader's lease runs out. Unset, it is on with two or more peers.
    pub auto_failover: Option<bool>,
    /// `cluster.scaleOutQueries`: whether the leader splits large
    /// aggregating queries across its up-to-date followers. Unset, it is on.
    pub scale_out_queries: Option<bool>,
}

/// Deserializes a list key that older skein.json files hold as a single
/// string: a string is a one-item list, an empty string or null is unset.
fn one_or_many<'de, D>(deserializer: D) -> Result<Option<Vec<String>>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match Option::<OneOrMany>::deserialize(deserializer)? {
        None => None,
        Some(OneOrMany::One(s)) if s.trim().is_empty() => None,
        Some(OneOrMany::One(s)) => Some(vec![s]),
        Some(OneOrMany::Many(list)) => Some(list),
    })
}

impl Settings {
    /// Layers defaults, `skein.json` under `root` (if present) and `env`.
    pub fn load(root: &StorageRoot, env: &HashMap<String, String>) -> Result<Self, SettingsError> {
        let file = read_config_file(root)?;
        Settings::layer(file.as_deref(), env)
    }

    /// Layers defaults, the given `skein.json` text (if any) and `env`.
    pub fn layer(
        file_text: Option<&str>,
        env: &HashMap<String, String>,
    ) -> Result<Self, SettingsError> {
        let layering = |e: config::ConfigError| SettingsError::Layering(e.to_string());
        let defaults = Config::try_from(&Settings::default()).map_err(layering)?;
        let mut builder = Config::builder().add_source(defaults);
        if let Some(text) = file_text {
            builder = builder.add_source(File::from_str(text, FileFormat::Json));
        }
        for key in KEYS {
            if let Some(raw) = env.get(&key.env_name()) {
                let value = key.parse_env(raw)?;
                builder = builder
                    .set_override(key.name, keys::to_config_value(&value))
                    .map_err(layering)?;
            }
        }
        builder
            .build()
            .and_then(|c| c.try_deserialize())
            .map_err(layering)
    }

    /// The effective value of a dotted key as JSON (`null` when unset).
    pub fn value_of(&self, key: &str) -> Result<serde_json::Value, SettingsError> {
        let info = keys::find(key)?;
        let json =
            serde_json::to_value(self).map_err(|e| SettingsError::Layering(e.to_string()))?;
        Ok(keys::get_path(&json, info.name)
            .cloned()
            .unwrap_or(serde_json::Value::Null))
    }
}

/// Reads `<root>/skein.json`, `None` when it does not exist.
pub fn read_config_file(root: &StorageRoot) -> Result<Option<String>, SettingsError> {
    let path = root.config_file();
    match fs::read_to_string(&path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(SettingsError::Read {
            path: path.display().to_string(),
            source,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_apply_without_file_or_env() {
        let s = Settings::layer(None, &HashMap::new()).unwrap();
        assert_eq!(s, Settings::default());
        assert_eq!(s.api.listen_uris, vec!["http://localhost:5341"]);
        assert_eq!(s.storage.flush_floor_bytes, 1 << 30);
        assert_eq!(s.ingestion.max_payload_bytes, 10 * 1024 * 1024);
        assert_eq!(s.cluster.role, NodeRole::Standalone);
    }

    #[test]
    fn file_overrides_defaults_and_env_overrides_file() {
        let file = r#"{"api":{"listenUris":["http://0.0.0.0:80"],"canonicalUri":"https://logs.example"},
                       "storage":{"secretKey":"from-file"},"ingestion":{"maxPayloadBytes":1000}}"#;
        let s = Settings::layer(Some(file), &HashMap::new()).unwrap();
        assert_eq!(s.api.listen_uris, vec!["http://0.0.0.0:80"]);
        assert_eq!(s.storage.secret_key.as_deref(), Some("from-file"));
        assert_eq!(s.ingestion.max_payload_bytes, 1000);
        assert_eq!(s.storage.flush_floor_bytes, 1 << 30, "untouched default");

        let e = env(&[
            ("SKEIN_API_LISTENURIS", "http://a:1, http://b:2"),
            ("SKEIN_STORAGE_SECRETKEY", "from-env"),
            ("SKEIN_INGESTION_MAXPAYLOADBYTES", "2048"),
            ("SKEIN_CLUSTER_ROLE", "follower"),
            ("UNRELATED", "x"),
        ]);
        let s = Settings::layer(Some(file), &e).unwrap();
        assert_eq!(s.api.listen_uris, vec!["http://a:1", "http://b:2"]);
        assert_eq!(s.storage.secret_key.as_deref(), Some("from-env"));
        assert_eq!(s.ingestion.max_payload_bytes, 2048);
        assert_eq!(s.cluster.role, NodeRole::Follower);
        assert_eq!(s.api.canonical_uri.as_deref(), Some("https://logs.example"));
    }

    #[test]
    fn env_list_accepts_json_arrays() {
        let e = env(&[("SKEIN_API_LISTENURIS", r#"["http://x:1","http://y:2"]"#)]);
        let s = Settings::layer(None, &e).unwrap();
        assert_eq!(s.api.listen_uris, vec!["http://x:1", "http://y:2"]);
    }

    #[test]
    fn bad_env_and_unknown_file_keys_are_errors() {
        let e = env(&[("SKEIN_INGESTION_MAXPAYLOADBYTES", "lots")]);
        let err = Settings::layer(None, &e).unwrap_err().to_string();
        assert!(err.contains("SKEIN_INGESTION_MAXPAYLOADBYTES"), "{err}");
        let err = Settings::layer(Some(r#"{"api":{"listenUri":"x"}}"#), &HashMap::new())
            .unwrap_err()
            .to_string();
        assert!(err.contains("listenUri"), "{err}");
    }

    #[test]
    fn value_of_reads_dotted_keys() {
        let s = Settings::default();
        assert_eq!(
            s.value_of("api.listenUris").unwrap(),
            serde_json::json!(["http://localhost:5341"])
        );
        assert_eq!(
            s.value_of("api.canonicalUri").unwrap(),
            serde_json::Value::Null
        );
        assert!(matches!(
            s.value_of("api.nope"),
            Err(SettingsError::UnknownKey(_))
        ));
    }
}
