//! `cluster_leadership`: the single row recording the current leadership
//! term, its leader and lease; changed only by compare-and-swap on `term`.

use sea_orm_migration::{prelude::*, schema::*};

/// Creates `cluster_leadership` with its one row (id 1, term 0, no leader).
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ClusterLeadership::Table)
                    .if_not_exists()
                    .col(integer(ClusterLeadership::Id).primary_key())
                    .col(big_integer(ClusterLeadership::Term))
                    .col(string_null(ClusterLeadership::LeaderNode))
                    .col(timestamp_with_time_zone_null(
                        ClusterLeadership::LeaseExpiresAt,
                    ))
                    .to_owned(),
            )
            .await?;
        let insert = Query::insert()
            .into_table(ClusterLeadership::Table)
            .columns([ClusterLeadership::Id, ClusterLeadership::Term])
            .values([1.into(), 0i64.into()])
            .map_err(|e| DbErr::Migration(e.to_string()))?
            .on_conflict(
                OnConflict::column(ClusterLeadership::Id)
                    .do_nothing()
                    .to_owned(),
            )
            .to_owned();
        manager.exec_stmt(insert).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ClusterLeadership::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum ClusterLeadership {
    Table,
    Id,
    Term,
    LeaderNode,
    LeaseExpiresAt,
}
