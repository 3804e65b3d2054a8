//! `api_keys`: an API key's lookup prefix, salt and hash, never the token.

use sea_orm::entity::prelude::*;

/// One row of `api_keys`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "api_keys")]
pub struct Model {
    /// `ApiKey-<hex>`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// The operator's name for the key.
    pub title: String,
    /// The token's first characters, for lookup.
    pub token_prefix: String,
    /// Base64 of the random salt.
    pub token_salt: String,
    /// Base64 of SHA-256(salt ‖ token).
    pub token_hash: String,
    /// May ingest events.
    pub can_ingest: bool,
    /// May read events and metadata.
    pub can_read: bool,
    /// May change signals, settings of its own and similar.
    pub can_write: bool,
    /// May change project-wide settings.
    pub can_project: bool,
    /// May administer the server.
    pub can_system: bool,
    /// Events below this level are dropped at ingestion (a severity name).
    pub minimum_level: Option<String>,
    /// When the key was created.
    pub created_at: DateTimeUtc,
    /// Properties stamped on events ingested with the key, JSON text
    /// `[{"Name":…,"Value":…}]`; `None` for none.
    pub applied_properties: Option<String>,
}

/// `api_keys` has no relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
