//! API keys: creation (the token is returned once), listing, removal and
//! verification.
//!
//! A token is 32 random alphanumeric characters (≈190 bits). The metastore
//! keeps its first [`PREFIX_LEN`] characters for lookup, a random 16-byte
//! salt and SHA-256(salt ‖ token); a salted fast hash is enough for tokens of
//! this entropy, and the token cannot be recovered from what is stored.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use skein_store::event::severity_of;
use skein_store::Severity;

use super::entities::api_key;
use super::{new_id, random, Metastore, MetastoreError};

/// Characters in a generated token.
pub const TOKEN_LEN: usize = 32;
/// Leading token characters stored in clear for lookup.
pub const PREFIX_LEN: usize = 8;
const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// What an API key may do (Seq's permission set).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Permissions {
    /// Send events.
    pub ingest: bool,
    /// Read events and metadata.
    pub read: bool,
    /// Change signals and similar user-level objects.
    pub write: bool,
    /// Change project-wide settings.
    pub project: bool,
    /// Administer the server.
    pub system: bool,
}

impl std::fmt::Display for Permissions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = [
            (self.ingest, "Ingest"),
            (self.read, "Read"),
            (self.write, "Write"),
            (self.project, "Project"),
            (self.system, "System"),
        ]
        .iter()
        .filter(|(on, _)| *on)
        .map(|(_, name)| *name)
        .collect();
        if names.is_empty() {
            f.write_str("(none)")
        } else {
            f.write_str(&names.join(", "))
        }
    }
}

/// Properties an API key stamps on every event ingested with it, in order:
/// (name, JSON value). They replace properties of the same name the client
/// sent, so a key can tag what it ingests in a way clients cannot forge.
pub type AppliedProperties = Vec<(String, Value)>;

/// What `create_api_key` needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewApiKey {
    /// The operator's name for the key.
    pub title: String,
    /// What the key may do.
    pub permissions: Permissions,
    /// Events below this severity are dropped when ingested with this key.
    pub minimum_level: Option<Severity>,
    /// Properties stamped on every event ingested with this key.
    pub applied_properties: AppliedProperties,
}

/// An API key as listed (no secret material).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiKeyInfo {
    /// `ApiKey-<hex>`.
    pub id: String,
    /// The operator's name for the key.
    pub title: String,
    /// The token's first characters, for recognising it.
    pub token_prefix: String,
    /// What the key may do.
    pub permissions: Permissions,
    /// The key's minimum level, if any.
    pub minimum_level: Option<Severity>,
    /// Properties stamped on every event ingested with this key.
    pub applied_properties: AppliedProperties,
    /// When the key was created.
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// A newly created key: its description and the token, shown only once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreatedApiKey {
    /// The stored description.
    pub info: ApiKeyInfo,
    /// The token to give to clients; it is not stored and cannot be shown again.
    pub token: String,
}

/// The result of a successful [`Metastore::verify_api_key`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedApiKey {
    /// The key's id.
    pub id: String,
    /// What the key may do.
    pub permissions: Permissions,
    /// The key's minimum level, if any.
    pub minimum_level: Option<Severity>,
    /// Properties stamped on every event ingested with this key.
    pub applied_properties: AppliedProperties,
}

impl Metastore {
    /// Creates a key with a new random token.
    pub async fn create_api_key(&self, new: NewApiKey) -> Result<CreatedApiKey, MetastoreError> {
        let title = new.title.trim();
        if title.is_empty() {
            return Err(MetastoreError::Invalid("an API key needs a title".into()));
        }
        let token = generate_token()?;
        let mut salt = [0u8; 16];
        random(&mut salt)?;
        let p = new.permissions;
        let row = api_key::ActiveModel {
            id: Set(new_id("ApiKey")?),
            title: Set(title.to_string()),
            token_prefix: Set(token[..PREFIX_LEN].to_string()),
            token_salt: Set(B64.encode(salt)),
            token_hash: Set(B64.encode(hash(&salt, &token))),
            can_ingest: Set(p.ingest),
            can_read: Set(p.read),
            can_write: Set(p.write),
            can_project: Set(p.project),
            can_system: Set(p.system),
            minimum_level: Set(new.minimum_level.map(|s| s.name().to_string())),
            created_at: Set(chrono::Utc::now()),
            applied_properties: Set(encode_properties(&new.applied_properties)?),
        }
        .insert(&self.db)
        .await?;
        Ok(CreatedApiKey {
            info: info(row)?,
            token,
        })
    }

    /// Every key, oldest first.
    pub async fn list_api_keys(&self) -> Result<Vec<ApiKeyInfo>, MetastoreError> {
        api_key::Entity::find()
            .order_by_asc(api_key::Column::CreatedAt)
            .order_by_asc(api_key::Column::Id)
            .all(&self.db)
            .await?
            .into_iter()
            .map(info)
            .collect()
    }

    /// The key with this id (no secret material), `None` when there is none.
    pub async fn api_key(&self, id: &str) -> Result<Option<ApiKeyInfo>, MetastoreError> {
        api_key::Entity::find_by_id(id.to_string())
            .one(&self.db)
            .await?
            .map(info)
            .transpose()
    }

    /// Removes the key with this id, or else the one key with this title.
    pub async fn remove_api_key(&self, id_or_title: &str) -> Result<ApiKeyInfo, MetastoreError> {
        let by_id = api_key::Entity::find_by_id(id_or_title.to_string())
            .one(&self.db)
            .await?;
        let row = match by_id {
            Some(row) => row,
            None => {
                let mut rows = api_key::Entity::find()
                    .filter(api_key::Column::Title.eq(id_or_title))
                    .all(&self.db)
                    .await?;
                match rows.len() {
                    0 => {
                        return Err(MetastoreError::NotFound {
                            kind: "API key",
                            what: id_or_title.to_string(),
                        })
                    }
                    1 => rows.remove(0),
                    _ => return Err(MetastoreError::Ambiguous(id_or_title.to_string())),
                }
            }
        };
        api_key::Entity::delete_by_id(row.id.clone())
            .exec(&self.db)
            .await?;
        info(row)
    }

    /// The key a token belongs to, `None` for an unknown token.
    pub async fn verify_api_key(
        &self,
        token: &str,
    ) -> Result<Option<VerifiedApiKey>, MetastoreError> {
        let token = token.trim();
        if token.len() < PREFIX_LEN || !token.is_ascii() {
            return Ok(None);
        }
        let candidates = api_key::Entity::find()
            .filter(api_key::Column::TokenPrefix.eq(&token[..PREFIX_LEN]))
            .all(&self.db)
            .await?;
        for row in candidates {
            let salt = decode(&row.id, &row.token_salt)?;
            let stored = decode(&row.id, &row.token_hash)?;
            if constant_time_eq(&hash(&salt, token), &stored) {
                let info = info(row)?;
                return Ok(Some(VerifiedApiKey {
                    id: info.id,
                    permissions: info.permissions,
                    minimum_level: info.minimum_level,
                    applied_properties: info.applied_properties,
                }));
            }
        }
        Ok(None)
    }
}

/// Parses a level name as Seq clients send it (`Information`, `info`, `WRN`,
/// `critical`, ...) into its severity, using the store's level table;
/// `None` for text that names no level.
pub fn parse_level(text: &str) -> Option<Severity> {
    const INFORMATION: &[&str] = &["information", "info", "inf", "informational", "notice"];
    match severity_of(text) {
        Severity::Information => INFORMATION
            .iter()
            .any(|n| n.eq_ignore_ascii_case(text.trim()))
            .then_some(Severity::Information),
        other => Some(other),
    }
}

fn info(row: api_key::Model) -> Result<ApiKeyInfo, MetastoreError> {
    let applied_properties = decode_properties(&row.id, row.applied_properties.as_deref())?;
    let minimum_level = match row.minimum_level.as_deref() {
        None => None,
        Some(name) => Some(parse_level(name).ok_or_else(|| MetastoreError::Corrupt {
            key: row.id.clone(),
            detail: format!("unknown minimum level `{name}`"),
        })?),
    };
    Ok(ApiKeyInfo {
        id: row.id,
        title: row.title,
        token_prefix: row.token_prefix,
        permissions: Permissions {
            ingest: row.can_ingest,
            read: row.can_read,
            write: row.can_write,
            project: row.can_project,
            system: row.can_system,
        },
        minimum_level,
        applied_properties,
        created_at: row.created_at,
    })
}

/// The longest applied-property name.
pub const MAX_PROPERTY_NAME_CHARS: usize = 200;

fn encode_properties(props: &AppliedProperties) -> Result<Option<String>, MetastoreError> {
    for (name, _) in props {
        let n = name.trim();
        if n.is_empty() || n.starts_with('@') || n.chars().count() > MAX_PROPERTY_NAME_CHARS {
            return Err(MetastoreError::Invalid(format!(
                "`{name}` cannot be an applied property name (non-empty, at most {MAX_PROPERTY_NAME_CHARS} characters, not starting with @)"
            )));
        }
    }
    if props.is_empty() {
        return Ok(None);
    }
    let list: Vec<Value> = props
        .iter()
        .map(|(n, v)| json!({"Name": n.trim(), "Value": v}))
        .collect();
    Ok(Some(Value::Array(list).to_string()))
}

fn decode_properties(id: &str, text: Option<&str>) -> Result<AppliedProperties, MetastoreError> {
    let Some(text) = text else {
        return Ok(Vec::new());
    };
    let corrupt = |detail: String| MetastoreError::Corrupt {
        key: id.to_string(),
        detail,
    };
    let list: Vec<Value> =
        serde_json::from_str(text).map_err(|e| corrupt(format!("applied properties: {e}")))?;
    list.into_iter()
        .map(
            |item| match (item.get("Name").and_then(Value::as_str), item.get("Value")) {
                (Some(n), Some(v)) => Ok((n.to_string(), v.clone())),
                _ => Err(corrupt("an applied property without Name or Value".into())),
            },
        )
        .collect()
}

fn generate_token() -> Result<String, MetastoreError> {
    let mut token = String::with_capacity(TOKEN_LEN);
    let mut buf = [0u8; 64];
    while token.len() < TOKEN_LEN {
        random(&mut buf)?;
        // 62 * 4 = 248: rejecting bytes >= 248 keeps every character equally likely.
        for &b in buf.iter().filter(|&&b| b < 248) {
            if token.len() < TOKEN_LEN {
                token.push(ALPHABET[(b % 62) as usize] as char);
            }
        }
    }
    Ok(token)
}

fn hash(salt: &[u8], token: &str) -> Vec<u8> {
    let mut h = Sha256::new();
    h.update(salt);
    h.update(token.as_bytes());
    h.finalize().to_vec()
}

fn decode(id: &str, text: &str) -> Result<Vec<u8>, MetastoreError> {
    B64.decode(text).map_err(|e| MetastoreError::Corrupt {
        key: id.to_string(),
        detail: e.to_string(),
    })
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_alphanumeric_and_distinct() {
        let a = generate_token().unwrap();
        let b = generate_token().unwrap();
        assert_eq!(a.len(), TOKEN_LEN);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a, b);
    }

    #[test]
    fn hashes_are_salted_and_never_the_token() {
        let token = generate_token().unwrap();
        let h1 = hash(b"salt-one-16bytes", &token);
        let h2 = hash(b"salt-two-16bytes", &token);
        assert_ne!(h1, h2);
        assert_ne!(B64.encode(&h1), token);
        assert!(!B64.encode(&h1).contains(&token));
        assert!(constant_time_eq(&h1, &hash(b"salt-one-16bytes", &token)));
        assert!(!constant_time_eq(&h1, &h2));
    }

    #[test]
    fn levels_parse_in_any_case() {
        assert_eq!(parse_level("Information"), Some(Severity::Information));
        assert_eq!(parse_level("WRN"), Some(Severity::Warning));
        assert_eq!(parse_level("critical"), Some(Severity::Fatal));
        assert_eq!(parse_level("loud"), None);
        assert_eq!(Permissions::default().to_string(), "(none)");
        let p = Permissions {
            ingest: true,
            read: true,
            ..Default::default()
        };
        assert_eq!(p.to_string(), "Ingest, Read");
    }
}
