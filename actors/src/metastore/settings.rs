//! Server-wide settings shared by every node: JSON values by key.
//!
//! Local, per-node configuration lives in `skein.json`; what belongs to the
//! whole server (and so must follow a fail-over) lives here.

use sea_orm::sea_query::OnConflict;
use sea_orm::{EntityTrait, QueryOrder, Set};
use serde_json::Value;

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

impl Metastore {
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
