//! The registry of configuration keys and editing of `skein.json`.
//!
//! [`KEYS`] lists every key `skein config` knows, with its kind (how a value
//! given on the command line or in the environment is parsed), whether a
//! change needs a restart, and whether its value is sensitive. `skein.json`
//! holds the keys as nested objects (`{"api":{"listenUris":[...]}}`); the
//! functions here read and edit that document by dotted key.

use serde_json::{Map, Value};

use super::SettingsError;

/// How a key's value is written on the command line and in the environment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyKind {
    /// A string.
    Text,
    /// A list of strings: a JSON array, or comma-separated.
    TextList,
    /// A byte count: digits with an optional `KB`/`MB`/`GB` (×1000) or
    /// `KiB`/`MiB`/`GiB` (×1024) suffix.
    Bytes,
    /// A node role: `standalone`, `leader` or `follower`.
    Role,
    /// `true` or `false` (also `yes`/`no`, `on`/`off`, `1`/`0`).
    Bool,
    /// A whole number, zero or more.
    Count,
    /// A duration: digits and a unit (`ms`, `s`, `m`, `h`, `d`), e.g. `5s`.
    Duration,
}

/// One configuration key.
#[derive(Clone, Copy, Debug)]
pub struct KeyInfo {
    /// The dotted camelCase name (`api.listenUris`).
    pub name: &'static str,
    /// How values are parsed.
    pub kind: KeyKind,
    /// Whether a running node only picks up a change when restarted.
    pub restart_required: bool,
    /// Whether `config list` masks the value.
    pub sensitive: bool,
    /// One line for `config list` and `--help`.
    pub summary: &'static str,
}

/// Every configuration key.
pub const KEYS: &[KeyInfo] = &[
    key(
        "api.listenUris",
        KeyKind::TextList,
        false,
        "URIs the HTTP API listens on",
    ),
    key(
        "api.canonicalUri",
        KeyKind::Text,
        false,
        "public address used in generated links",
    ),
    key(
        "storage.secretKey",
        KeyKind::Text,
        true,
        "base64 256-bit key encrypting Secrets/",
    ),
    key(
        "storage.flushFloorBytes",
        KeyKind::Bytes,
        false,
        "free disk space below which writes are refused",
    ),
    key(
        "ingestion.maxPayloadBytes",
        KeyKind::Bytes,
        false,
        "largest ingestion request body",
    ),
    key(
        "cluster.role",
        KeyKind::Role,
        false,
        "standalone, leader or follower",
    ),
    key(
        "cluster.nodeName",
        KeyKind::Text,
        false,
        "informational name of this node",
    ),
    key(
        "cluster.listenUri",
        KeyKind::Text,
        false,
        "ws:// or wss:// URI for intra-cluster traffic",
    ),
    key(
        "cluster.internalApiUri",
        KeyKind::Text,
        false,
        "http(s):// URI serving proxied API requests",
    ),
    key(
        "cluster.peerClusterUri",
        KeyKind::TextList,
        false,
        "the peers' intra-cluster URIs, paired in order with cluster.peerInternalApiUri",
    ),
    key(
        "cluster.peerInternalApiUri",
        KeyKind::TextList,
        false,
        "the peers' internal API URIs, paired in order with cluster.peerClusterUri",
    ),
    key(
        "cluster.autoFailover",
        KeyKind::Bool,
        false,
        "fail over automatically (unset: on with two or more peers)",
    ),
    key(
        "cluster.scaleOutQueries",
        KeyKind::Bool,
        false,
        "split large aggregating queries across up-to-date followers (unset: on)",
    ),
    key(
        "replication.minimumAcknowledgingReplicas",
        KeyKind::Count,
        false,
        "followers that must hold a batch durably before it is acknowledged (0: asynchronous)",
    ),
    key(
        "replication.acknowledgementTimeout",
        KeyKind::Duration,
        false,
        "how long a write waits for those followers before failing with 503",
    ),
    key(
        "auth.required",
        KeyKind::Bool,
        false,
        "require a login or API key (unset: on when binding beyond localhost)",
    ),
];

const fn key(name: &'static str, kind: KeyKind, sensitive: bool, summary: &'static str) -> KeyInfo {
    KeyInfo {
        name,
        kind,
        restart_required: true,
        sensitive,
        summary,
    }
}

/// The key named `name` (exact, case-sensitive match).
pub fn find(name: &str) -> Result<&'static KeyInfo, SettingsError> {
    KEYS.iter()
        .find(|k| k.name == name)
        .ok_or_else(|| SettingsError::UnknownKey(name.to_string()))
}

impl KeyInfo {
    /// The environment variable that overrides this key (`SKEIN_API_LISTENURIS`).
    pub fn env_name(&self) -> String {
        format!("SKEIN_{}", self.name.replace('.', "_").to_uppercase())
    }

    /// Parses a command-line value for this key into JSON.
    pub fn parse(&self, raw: &str) -> Result<Value, SettingsError> {
        parse_kind(self.kind, raw).map_err(|detail| SettingsError::InvalidValue {
            key: self.name.to_string(),
            detail,
        })
    }

    /// Parses an environment value for this key; errors name the variable.
    pub fn parse_env(&self, raw: &str) -> Result<Value, SettingsError> {
        parse_kind(self.kind, raw).map_err(|detail| SettingsError::InvalidValue {
            key: self.env_name(),
            detail,
        })
    }
}

fn parse_kind(kind: KeyKind, raw: &str) -> Result<Value, String> {
    let raw = raw.trim();
    match kind {
        KeyKind::Text => Ok(Value::String(raw.to_string())),
        KeyKind::TextList if raw.starts_with('[') => {
            let list: Vec<String> = serde_json::from_str(raw)
                .map_err(|e| format!("expected a JSON array of strings: {e}"))?;
            Ok(Value::from(list))
        }
        KeyKind::TextList => Ok(Value::from(
            raw.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>(),
        )),
        KeyKind::Bytes => parse_bytes(raw).map(Value::from),
        KeyKind::Role => match raw.to_ascii_lowercase().as_str() {
            r @ ("standalone" | "leader" | "follower") => Ok(Value::String(r.to_string())),
            _ => Err("expected standalone, leader or follower".to_string()),
        },
        KeyKind::Count => raw
            .parse::<u32>()
            .map(Value::from)
            .map_err(|_| "expected a whole number, zero or more".to_string()),
        KeyKind::Duration => match skein_store::query::parse_duration(raw) {
            Some(d) if !d.is_zero() => Ok(Value::String(raw.to_string())),
            _ => Err("expected a duration such as 500ms, 5s or 1m".to_string()),
        },
        KeyKind::Bool => match raw.to_ascii_lowercase().as_str() {
            "true" | "yes" | "on" | "1" => Ok(Value::Bool(true)),
            "false" | "no" | "off" | "0" => Ok(Value::Bool(false)),
            _ => Err("expected true or false".to_string()),
        },
    }
}

/// Parses `1048576`, `10MB`, `1 GiB`, ... into a byte count.
pub fn parse_bytes(raw: &str) -> Result<u64, String> {
    let raw = raw.trim();
    let split = raw.find(|c: char| !c.is_ascii_digit()).unwrap_or(raw.len());
    let (digits, suffix) = raw.split_at(split);
    let number: u64 = digits
        .parse()
        .map_err(|_| format!("expected a byte count such as 1048576 or 10MB, got `{raw}`"))?;
    let factor: u64 = match suffix.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "kb" => 1_000,
        "mb" => 1_000_000,
        "gb" => 1_000_000_000,
        "kib" => 1 << 10,
        "mib" => 1 << 20,
        "gib" => 1 << 30,
        other => return Err(format!("unknown byte suffix `{other}`")),
    };
    number
        .checked_mul(factor)
        .ok_or_else(|| format!("`{raw}` is too large"))
}

/// Converts JSON into a `config` value (for environment overrides).
pub fn to_config_value(value: &Value) -> config::ValueKind {
    match value {
        Value::Null => config::ValueKind::Nil,
        Value::Bool(b) => config::ValueKind::Boolean(*b),
        Value::Number(n) => match n.as_u64() {
            Some(u) => config::ValueKind::U64(u),
            None => config::ValueKind::Float(n.as_f64().unwrap_or_default()),
        },
        Value::String(s) => config::ValueKind::String(s.clone()),
        Value::Array(items) => config::ValueKind::Array(
            items
                .iter()
                .map(|v| config::Value::from(to_config_value(v)))
                .collect(),
        ),
        Value::Object(map) => config::ValueKind::Table(
            map.iter()
                .map(|(k, v)| (k.clone(), config::Value::from(to_config_value(v))))
                .collect(),
        ),
    }
}

/// The value at a dotted path in a JSON document.
pub fn get_path<'a>(doc: &'a Value, dotted: &str) -> Option<&'a Value> {
    dotted.split('.').try_fold(doc, |node, part| node.get(part))
}

/// Sets the value at a dotted path, creating objects on the way.
pub fn set_path(doc: &mut Value, dotted: &str, value: Value) -> Result<(), SettingsError> {
    let parts: Vec<&str> = dotted.split('.').collect();
    let (last, parents) = parts
        .split_last()
        .ok_or_else(|| SettingsError::UnknownKey(dotted.to_string()))?;
    let mut node = doc;
    for part in parents {
        node = object_mut(node, dotted)?
            .entry(part.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
    }
    object_mut(node, dotted)?.insert(last.to_string(), value);
    Ok(())
}

/// Removes the value at a dotted path; returns whether it was present.
pub fn remove_path(doc: &mut Value, dotted: &str) -> bool {
    let Some((parent, last)) = dotted.rsplit_once('.') else {
        return doc.as_object_mut().and_then(|m| m.remove(dotted)).is_some();
    };
    let mut node = doc;
    for part in parent.split('.') {
        match node.get_mut(part) {
            Some(next) => node = next,
            None => return false,
        }
    }
    node.as_object_mut().and_then(|m| m.remove(last)).is_some()
}

fn object_mut<'a>(
    node: &'a mut Value,
    dotted: &str,
) -> Result<&'a mut Map<String, Value>, SettingsError> {
    node.as_object_mut()
        .ok_or_else(|| SettingsError::InvalidValue {
            key: dotted.to_string(),
            detail: "skein.json has a non-object value on the way to this key".to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::Settings;

    #[test]
    fn registry_matches_the_settings_struct() {
        let mut doc = serde_json::to_value(Settings::default()).unwrap();
        for k in KEYS {
            assert!(
                get_path(&doc, k.name).is_some(),
                "{} missing from Settings",
                k.name
            );
            remove_path(&mut doc, k.name);
        }
        let leftovers: Vec<_> = doc
            .as_object()
            .unwrap()
            .iter()
            .filter(|(_, v)| v.as_object().is_none_or(|m| !m.is_empty()))
            .collect();
        assert!(
            leftovers.is_empty(),
            "keys missing from KEYS: {leftovers:?}"
        );
    }

    #[test]
    fn env_names_follow_seq() {
        assert_eq!(
            find("api.listenUris").unwrap().env_name(),
            "SKEIN_API_LISTENURIS"
        );
        assert_eq!(
            find("storage.secretKey").unwrap().env_name(),
            "SKEIN_STORAGE_SECRETKEY"
        );
        assert!(find("api.ListenUris").is_err());
    }

    #[test]
    fn values_parse_by_kind() {
        let list = find("api.listenUris").unwrap();
        assert_eq!(
            list.parse("http://a, http://b").unwrap(),
            serde_json::json!(["http://a", "http://b"])
        );
        assert_eq!(
            list.parse(r#"["http://a"]"#).unwrap(),
            serde_json::json!(["http://a"])
        );
        assert_eq!(parse_bytes("10MB").unwrap(), 10_000_000);
        assert_eq!(parse_bytes("1 GiB").unwrap(), 1 << 30);
        assert!(parse_bytes("-1").is_err());
        assert!(parse_bytes("99999999999999999999").is_err());
        assert!(parse_bytes("1 PB").is_err());
        assert!(find("cluster.role").unwrap().parse("boss").is_err());
        let auth = find("auth.required").unwrap();
        assert_eq!(auth.parse("True").unwrap(), serde_json::json!(true));
        assert_eq!(auth.parse("off").unwrap(), serde_json::json!(false));
        assert!(auth.parse("maybe").is_err());
    }

    #[test]
    fn paths_set_and_remove() {
        let mut doc = serde_json::json!({});
        set_path(&mut doc, "api.canonicalUri", "https://x".into()).unwrap();
        assert_eq!(
            doc,
            serde_json::json!({"api": {"canonicalUri": "https://x"}})
        );
        assert!(remove_path(&mut doc, "api.canonicalUri"));
        assert!(!remove_path(&mut doc, "api.canonicalUri"));
        let mut bad = serde_json::json!({"api": 3});
        assert!(set_path(&mut bad, "api.canonicalUri", "x".into()).is_err());
    }
}
