//! `cluster_leadership.previous_lease_expires_at`: when leadership was taken
//! while the previous leader's lease was still running (by the database's
//! clock), that lease's expiry; the new leader accepts no writes before the
//! database's clock has passed it. Null after a graceful hand-over (the old
//! leader stopped writing first) or when the old lease had already run out.

use sea_orm_migration::{prelude::*, schema::*};

/// Adds `cluster_leadership.previous_lease_expires_at`.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager
            .has_column("cluster_leadership", "previous_lease_expires_at")
            .await?
        {
            return Ok(());
        }
        manager
            .alter_table(
                Table::alter()
                    .table(ClusterLeadership::Table)
                    .add_column(timestamp_with_time_zone_null(
                        ClusterLeadership::PreviousLeaseExpiresAt,
                    ))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(ClusterLeadership::Table)
                    .drop_column(ClusterLeadership::PreviousLeaseExpiresAt)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum ClusterLeadership {
    Table,
    PreviousLeaseExpiresAt,
}
