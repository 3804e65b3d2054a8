//! `users`: an account with an argon2 password hash, a role and a
//! failed-login throttle.

use sea_orm::entity::prelude::*;

/// One row of `users`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    /// `user-<hex>`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// The unique login name.
    pub username: String,
    /// The argon2 PHC string.
    pub password_hash: String,
    /// When the account was created.
    pub created_at: DateTimeUtc,
    /// The role's name (`Administrator`, `User`, `Reader`).
    pub role: String,
    /// Failed logins since the last successful one.
    pub failed_logins: i32,
    /// Logins are refused until this moment (after repeated failures).
    pub locked_until: Option<DateTimeUtc>,
}

/// `users` has no relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
