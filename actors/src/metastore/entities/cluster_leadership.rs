//! `cluster_leadership`: the single row (id 1) holding the leadership term.

use sea_orm::entity::prelude::*;

/// The row of `cluster_leadership`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "cluster_leadership")]
pub struct Model {
    /// Always 1.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: i32,
    /// The leadership term; changes only by compare-and-swap.
    pub term: i64,
    /// The leader's node name in this term, if any.
    pub leader_node: Option<String>,
    /// When the leader's lease runs out unless renewed.
    pub lease_expires_at: Option<DateTimeUtc>,
    /// The previous leader's lease when it was still running as this term
    /// was taken: the leader accepts no writes before it has run out.
    pub previous_lease_expires_at: Option<DateTimeUtc>,
    /// How many followers the term's leader waits for before it
    /// acknowledges a write.
    pub acknowledging_replicas: i64,
}

/// `cluster_leadership` has no relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
