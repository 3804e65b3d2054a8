//! Server-wide settings shared by every node: JSON values by key.
//!
//! Local, per-node configuration lives in `skein.json`; what belongs to the
//! whole server (and so must follow a fail-over) lives here.

use std::time::Duration;

use sea_orm::sea_query::OnConflict;
use sea_orm::{EntityTrait, QueryOrder, Set};
use serde_json::Value;
use skein_store::query::parse_duration;
use skein_store::Severity;

use super::api_keys::parse_level;
use super::entities::setting;
use super::{Metastore, MetastoreError};

/// Names of the settings the server itself reads.
pub mod setting_names {
    /// `true` when ingestion without a valid API key is refused (bool).
    pub const REQUIRE_API_KEY_FOR_INGESTION: &str = "ingestion.requireApiKey";
    /// The server-wide minimum level accepted at ingestion (severity name).
    pub const MINIMUM_LEVEL: &str = "ingestion.minimumLevel";
    /// How long events are kept, e.g. `"30d"`; absent keeps everything.
    pub const RETENTION_PERIOD: &str = "retention.period";
}

/// The server-wide settings that act on a node: what ingestion accepts and
/// how long the store keeps events.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ServerSettings {
    /// Refuse ingestion without a valid API key.
    pub require_api_key: bool,
    /// Drop events below this severity.
    pub minimum_level: Option<Severity>,
    /// Delete events older than this; `None` keeps everything.
    pub retention: Option<Duration>,
}

impl ServerSettings {
    /// The settings stored as `rows` (key, value); malformed values count
    /// as unset (the API validates every value it stores).
    pub fn from_rows(rows: &[(String, Value)]) -> ServerSettings {
        let value = |key: &str| rows.iter().find(|(k, _)| k == key).map(|(_, v)| v);
        ServerSettings {
            require_api_key: value(setting_names::REQUIRE_API_KEY_FOR_INGESTION)
                .and_then(Value::as_bool)
                .unwrap_or(false),
            minimum_level: value(setting_names::MINIMUM_LEVEL)
                .and_then(Value::as_str)
                .and_then(parse_level),
            retention: value(setting_names::RETENTION_PERIOD)
                .and_then(Value::as_str)
                .and_then(parse_duration),
        }
    }
}

impl Metastore {
    /// The server-wide settings, read in one query.
    pub async fn server_settings(&self) -> Result<ServerSettings, MetastoreError> {
        Ok(ServerSettings::from_rows(&self.settings().await?))
    }

    /// The value of `key`, `None` when unset.
    pub async fn setting(&self, key: &str) -> Result<Option<Value>, MetastoreError> {
        match setting::Entity::find_by_id(key.to_string())
            .one(&self.db)
            .await?
        {
            None => Ok(None),
            Some(row) => parse(&row).map(Some),
        }
    }

    /// Sets `key` to `value`, replacing any previous value.
    pub async fn set_setting(&self, key: &str, value: &Value) -> Result<(), MetastoreError> {
        if key.trim().is_empty() {
            return Err(MetastoreError::Invalid("a setting needs a key".into()));
        }
        let row = setting::ActiveModel {
            key: Set(key.to_string()),
            value: Set(value.to_string()),
            updated_at: Set(chrono::Utc::now()),
        };
        setting::Entity::insert(row)
            .on_conflict(
                OnConflict::column(setting::Column::Key)
                    .update_columns([setting::Column::Value, setting::Column::UpdatedAt])
                    .to_owned(),
            )
            .exec(&self.db)
            .await?;
        Ok(())
    }

    /// Removes `key`; returns whether it was set.
    pub async fn remove_setting(&self, key: &str) -> Result<bool, MetastoreError> {
        let result = setting::Entity::delete_by_id(key.to_string())
            .exec(&self.db)
            .await?;
        Ok(result.rows_affected > 0)
    }

    /// Every setting, by key.
    pub async fn settings(&self) -> Result<Vec<(String, Value)>, MetastoreError> {
        setting::Entity::find()
            .order_by_asc(setting::Column::Key)
            .all(&self.db)
            .await?
            .into_iter()
            .map(|row| parse(&row).map(|v| (row.key, v)))
            .collect()
    }
}

fn parse(row: &setting::Model) -> Result<Value, MetastoreError> {
    serde_json::from_str(&row.value).map_err(|e| MetastoreError::Corrupt {
        key: row.key.clone(),
        detail: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn server_settings_come_from_their_rows_and_malformed_values_count_as_unset() {
        let rows = |pairs: &[(&str, Value)]| -> Vec<(String, Value)> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect()
        };
        assert_eq!(ServerSettings::from_rows(&[]), ServerSettings::default());
        let set = ServerSettings::from_rows(&rows(&[
            (setting_names::REQUIRE_API_KEY_FOR_INGESTION, json!(true)),
            (setting_names::MINIMUM_LEVEL, json!("Warning")),
            (setting_names::RETENTION_PERIOD, json!("30d")),
            ("something.else", json!(1)),
        ]));
        assert_eq!(
            set,
            ServerSettings {
                require_api_key: true,
                minimum_level: Some(Severity::Warning),
                retention: Some(Duration::from_secs(30 * 86_400)),
            }
        );
        let malformed = ServerSettings::from_rows(&rows(&[
            (setting_names::REQUIRE_API_KEY_FOR_INGESTION, json!("yes")),
            (setting_names::MINIMUM_LEVEL, json!("loud")),
            (setting_names::RETENTION_PERIOD, json!("forever")),
        ]));
        assert_eq!(malformed, ServerSettings::default());
    }
}
