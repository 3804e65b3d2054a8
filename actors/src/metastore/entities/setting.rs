//! `settings`: one server-wide setting, its value as JSON text.

use sea_orm::entity::prelude::*;

/// One row of `settings`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "settings")]
pub struct Model {
    /// The setting's name (`ingestion.requireApiKey`, ...).
    #[sea_orm(primary_key, auto_increment = false)]
    pub key: String,
    /// The value, JSON text.
    pub value: String,
    /// When the value last changed.
    pub updated_at: DateTimeUtc,
}

/// `settings` has no relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
