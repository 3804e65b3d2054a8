//! Who is calling: API keys (header `X-Seq-ApiKey` or `?apiKey=`) and login
//! sessions (the [`SESSION_COOKIE`] cookie), read from the metastore and
//! cached briefly so that requests do not query SQL every time; and the
//! server-wide ingestion settings as the node's [`SettingsFollower`] last
//! read them.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use actix::Addr;
use actix_web::HttpRequest;
use serde_json::Value;
use skein_actors::messages::{RefreshSettings, SettingsSnapshot};
pub use skein_actors::metastore::settings::ServerSettings;
use skein_actors::metastore::{Metastore, Permissions, UserInfo, VerifiedApiKey};
use skein_actors::{SettingsFollower, SettingsView};
use skein_store::Severity;

use super::auth::throttle::LoginThrottle;
use super::error::ApiError;

/// The cookie holding a login session's token.
pub const SESSION_COOKIE: &str = "skein-session";

/// How long verified keys and sessions are trusted before being re-read,
/// and how old the newest read of the server settings may be before
/// ingestion refuses to guess them.
pub const CACHE_TTL: Duration = Duration::from_secs(5);
const MAX_CACHED_KEYS: usize = 10_000;

/// Cached access to keys, sessions and settings.
pub struct Credentials {
    metastore: Metastore,
    settings: SettingsView,
    settings_follower: Addr<SettingsFollower>,
    keys: Cache<VerifiedApiKey>,
    sessions: Cache<UserInfo>,
    throttle: LoginThrottle,
}

/// Who a request comes from.
#[derive(Clone, Debug, PartialEq)]
pub enum Principal {
    /// A user logged in with a session cookie.
    User(UserInfo),
    /// A client presenting an API key.
    ApiKey(VerifiedApiKey),
}

impl Principal {
    /// What the caller may do.
    pub fn permissions(&self) -> Permissions {
        match self {
            Principal::User(u) => u.role.permissions(),
            Principal::ApiKey(k) => k.permissions,
        }
    }
}

/// Verified tokens (API keys or session tokens) and what they resolved to.
struct Cache<T>(Mutex<HashMap<String, (Option<T>, Instant)>>);

impl<T: Clone> Cache<T> {
    fn new() -> Self {
        Cache(Mutex::new(HashMap::new()))
    }

    fn get(&self, token: &str) -> Option<Option<T>> {
        let map = self.0.lock().expect("credential cache");
        map.get(token)
            .filter(|(_, at)| at.elapsed() < CACHE_TTL)
            .map(|(v, _)| v.clone())
    }

    fn put(&self, token: &str, value: Option<T>) {
        let mut map = self.0.lock().expect("credential cache");
        if map.len() >= MAX_CACHED_KEYS {
            map.clear();
        }
        map.insert(token.to_owned(), (value, Instant::now()));
    }

    fn forget(&self, token: &str) {
        self.0.lock().expect("credential cache").remove(token);
    }

    fn clear(&self) {
        self.0.lock().expect("credential cache").clear();
    }
}

/// What an ingestion request may do.
#[derive(Clone, Debug, PartialEq)]
pub struct IngestGrant {
    /// The stricter of the key's and the server's minimum level.
    pub minimum_level: Option<Severity>,
    /// The key's applied properties, set on every event.
    pub applied_properties: Vec<(String, Value)>,
}

impl Credentials {
    /// Credentials backed by `metastore`, with the server settings that
    /// `settings_follower` reads from it (`settings` is its view).
    pub fn new(
        metastore: Metastore,
        settings: SettingsView,
        settings_follower: Addr<SettingsFollower>,
    ) -> Credentials {
        Credentials {
            metastore,
            settings,
            settings_follower,
            keys: Cache::new(),
            sessions: Cache::new(),
            throttle: LoginThrottle::default(),
        }
    }

    /// The metastore.
    pub fn metastore(&self) -> &Metastore {
        &self.metastore
    }

    /// Failed logins by client address.
    pub fn throttle(&self) -> &LoginThrottle {
        &self.throttle
    }

    /// Forgets cached keys and sessions (after they change).
    pub fn invalidate(&self) {
        self.keys.clear();
        self.sessions.clear();
    }

    /// Forgets one session token (after logout).
    pub fn forget_session(&self, token: &str) {
        self.sessions.forget(token);
    }

    /// The server settings as last read, unless that read began more than
    /// [`CACHE_TTL`] ago (the metastore is not answering): 503 then.
    pub fn settings(&self) -> Result<ServerSettings, ApiError> {
        match self.settings.latest() {
            Some(s) if s.read_at.elapsed() < CACHE_TTL => Ok(s.settings),
            Some(s) => Err(ApiError::Unavailable(format!(
                "the server settings could not be read from the metastore for {} s",
                s.read_at.elapsed().as_secs()
            ))),
            None => Err(ApiError::Unavailable(
                "the server settings have not been read from the metastore yet".into(),
            )),
        }
    }

    /// Reads the server settings again and applies them on this node
    /// before returning (after this node changed them).
    pub async fn refresh_settings(&self) -> Result<SettingsSnapshot, ApiError> {
        Ok(self.settings_follower.send(RefreshSettings).await??)
    }

    async fn verify(&self, token: &str) -> Result<Option<VerifiedApiKey>, ApiError> {
        if let Some(k) = self.keys.get(token) {
            return Ok(k);
        }
        let k = self.metastore.verify_api_key(token).await?;
        self.keys.put(token, k.clone());
        Ok(k)
    }

    async fn session(&self, token: &str) -> Result<Option<UserInfo>, ApiError> {
        if let Some(u) = self.sessions.get(token) {
            return Ok(u);
        }
        let u = self.metastore.session_user(token).await?;
        self.sessions.put(token, u.clone());
        Ok(u)
    }

    /// Who `req` comes from: a valid API key it presents, else the user of
    /// a valid session cookie, else nobody.
    pub async fn principal(&self, req: &HttpRequest) -> Result<Option<Principal>, ApiError> {
        if let Some(token) = presented_key(req) {
            if let Some(key) = self.verify(&token).await? {
                return Ok(Some(Principal::ApiKey(key)));
            }
        }
        match session_token(req) {
            Some(token) => Ok(self.session(&token).await?.map(Principal::User)),
            None => Ok(None),
        }
    }

    /// Decides whether `req` may ingest, with Seq's semantics: an absent,
    /// empty, `null` or unknown key counts as no key, which is fine unless
    /// the server requires keys for ingestion.
    pub async fn ingest_grant(&self, req: &HttpRequest) -> Result<IngestGrant, ApiError> {
        let settings = self.settings()?;
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
            applied_properties: key.map(|k| k.applied_properties).unwrap_or_default(),
        })
    }
}

/// The session token in the request's cookie, if any.
pub fn session_token(req: &HttpRequest) -> Option<String> {
    req.headers()
        .get_all(actix_web::http::header::COOKIE)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.trim_matches('"').to_owned())
        .filter(|v| !v.is_empty())
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
