//! `sessions`: a login session, keyed by the SHA-256 of its cookie token.

use sea_orm::entity::prelude::*;

/// One row of `sessions`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sessions")]
pub struct Model {
    /// Hex of SHA-256(token); the token itself is never stored.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// The user the session belongs to.
    pub user_id: String,
    /// When the user logged in.
    pub created_at: DateTimeUtc,
    /// When the session stops being accepted.
    pub expires_at: DateTimeUtc,
}

/// `sessions` has no relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
