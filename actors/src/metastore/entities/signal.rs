//! `signals`: a saved filter.

use sea_orm::entity::prelude::*;

/// One row of `signals`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "signals")]
pub struct Model {
    /// `signal-<hex>`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// The signal's title.
    pub title: String,
    /// The filter expression.
    pub filter: String,
    /// Whether every user sees it.
    pub shared: bool,
    /// The owning user, if any.
    pub owner: Option<String>,
    /// When the signal was created.
    pub created_at: DateTimeUtc,
}

/// `signals` has no relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
