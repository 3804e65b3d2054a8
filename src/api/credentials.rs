//! Who may ingest: API keys (header `X-Seq-ApiKey` or `?apiKey=`) and the
//! server-wide ingestion settings, both read from the metastore and cached
//! briefly so that ingestion does not query SQL on every request.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use actix_web::HttpRequest;
use serde_json::Value;
use skein_actors::metastore::api_keys::parse_level;
use skein_actors::metastore::{setting_names, Metastore, VerifiedApiKey};
use skein_store::query::parse_duration;
use skein_store::Severity;

use super::error::ApiError;

/// How long settings and verified keys are trusted before being re-read.
pub const CACHE_TTL: Duration = Duration::from_secs(5);
const MAX_CACHED_KEYS: usize = 10_000;

/// Server-wide settings that ingestion and upkeep read.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ServerSettings {
    /// Refuse ingestion without a valid API key.
    pub require_api_key: bool,
    /// Drop events below this severity.
    pub minimum_level: Option<Severity>,
    /// Delete events older than this.
    pub retention: Option<Duration>,
}

impl ServerSettings {
    /// Reads the settings from the metastore; malformed values are logged and ignored.
    pub async fn load(metastore: &Metastore) -> Result<ServerSettings, ApiError> {
        let require = metastore
            .setting(setting_names::REQUIRE_API_KEY_FOR_INGESTION)
            .await?;
        let level = metastore.setting(setting_names::MINIMUM_LEVEL).await?;
        let retention = metastore.setting(setting_names::RETENTION_PERIOD).await?;
        Ok(ServerSettings {
            require_api_key: require.as_ref().and_then(Value::as_bool).unwrap_or(false),
            minimum_level: level.as_ref().and_then(Value::as_str).and_then(parse_level),
            retention: retention
                .as_ref()
                .and_then(Value::as_str)
                .and_then(parse_duration),
        })
    }
}

/// Cached access to keys and settings.
pub struct Credentials {
    metastore: Metastore,
    settings: Mutex<Option<(ServerSettings, Instant)>>,
    keys: Mutex<HashMap<String, (Option<VerifiedApiKey>, Instant)>>,
}

/// What an ingestion request may do.
#[derive(Clone, Debug, PartialEq)]
pub struct IngestGrant {
    /// The stricter of the key's and the server's minimum level.
    pub minimum_level: Option<Severity>,
}

impl Credentials {
    /// Credentials backed by `metastore`.
    pub fn new(metastore: Metastore) -> Credentials {
        Credentials {
            metastore,
            settings: Mutex::new(None),
            keys: Mutex::new(HashMap::new()),
        }
    }

    /// The metastore.
    pub fn metastore(&self) -> &Metastore {
        &self.metastore
    }

    /// Forgets cached settings and keys (after they change).
    pub fn invalidate(&self) {
        *self.settings.lock().expect("settings cache") = None;
        self.keys.lock().expect("key cache").clear();
    }

    /// The current server settings.
    pub async fn settings(&self) -> Result<ServerSettings, ApiError> {
        if let Some((s, at)) = self.settings.lock().expect("settings cache").clone() {
            if at.elapsed() < CACHE_TTL {
                return Ok(s);
            }
        }
        let s = ServerSettings::load(&self.metastore).await?;
        *self.settings.lock().expect("settings cache") = Some((s.clone(), Instant::now()));
        Ok(s)
    }

    async fn verify(&self, token: &str) -> Result<Option<VerifiedApiKey>, ApiError> {
        if let Some((k, at)) = self.keys.lock().expect("key cache").get(token).cloned() {
            if at.elapsed() < CACHE_TTL {
                return Ok(k);
            }
        }
        let k = self.metastore.verify_api_key(token).await?;
        let mut keys = self.keys.lock().expect("key cache");
        if keys.len() >= MAX_CACHED_KEYS {
            keys.clear();
        }
        keys.insert(token.to_owned(), (k.clone(), Instant::now()));
        Ok(k)
    }

    /// Decides whether `req` may ingest, with Seq's semantics: an absent,
    /// empty, `null` or unknown key counts as no key, which is fine unless
    /// the server requires keys for ingestion.
    pub async fn ingest_grant(&self, req: &HttpRequest) -> Result<IngestGrant, ApiError> {
        let settings = self.settings().await?;
        let key = match presented_key(req) {
            Some(token) => self.verify(&token).await?,
            None => None,
        };
        let key_level =
            match &key {
                Some(k) if !k.permissions.ingest => {
                    return Err(ApiError::Forbidden(
                        "this API key does not have the Ingest permission".into(),
                    ))
                }
                Some(k) => k.minimum_level,
                None if settings.require_api_key => return Err(ApiError::Unauthorized(
                    "a valid API key is required for ingestion (X-Seq-ApiKey header or ?apiKey=)"
                        .into(),
                )),
                None => None,
            };
        Ok(IngestGrant {
            minimum_level: key_level.max(settings.minimum_level),
        })
    }
}

/// The API key a request presents, if any (`null` and empty mean none).
pub fn presented_key(req: &HttpRequest) -> Option<String> {
    let from_header = req
        .headers()
        .get("X-Seq-ApiKey")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let from_query = || {
        url::form_urlencoded::parse(req.query_string().as_bytes())
            .find(|(k, _)| k.eq_ignore_ascii_case("apiKey"))
            .map(|(_, v)| v.into_owned())
    };
    from_header
        .or_else(from_query)
        .map(|k| k.trim().to_owned())
        .filter(|k| !k.is_empty() && !k.eq_ignore_ascii_case("null"))
}
