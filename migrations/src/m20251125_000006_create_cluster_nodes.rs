//! `cluster_nodes`: one row per node, kept current by its heartbeat, so any
//! node can show the whole cluster (role, generation, sync, counters).

use sea_orm_migration::{prelude::*, schema::*};

/// Creates `cluster_nodes`.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ClusterNodes::Table)
                    .if_not_exists()
                    .col(string(ClusterNodes::Name).primary_key())
                    .col(string(ClusterNodes::Role))
                    .col(big_integer(ClusterNodes::Term))
                    .col(big_integer(ClusterNodes::GenerationModel))
                    .col(big_integer(ClusterNodes::GenerationWrite))
                    .col(timestamp_with_time_zone_null(ClusterNodes::LastSyncAt))
                    .col(timestamp_with_time_zone(ClusterNodes::SeenAt))
                    .col(string_null(ClusterNodes::ClusterUri))
                    .col(string_null(ClusterNodes::InternalApiUri))
                    .col(text(ClusterNodes::State))
                    .col(big_integer(ClusterNodes::Accepted))
                    .col(big_integer(ClusterNodes::InvalidKey))
                    .col(big_integer(ClusterNodes::Established))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ClusterNodes::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum ClusterNodes {
    Table,
    Name,
    Role,
    Term,
    GenerationModel,
    GenerationWrite,
    LastSyncAt,
    SeenAt,
    ClusterUri,
    InternalApiUri,
    State,
    Accepted,
    InvalidKey,
    Established,
}
