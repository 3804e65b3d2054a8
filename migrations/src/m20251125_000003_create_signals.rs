//! `signals`: saved filters, optionally shared, owned by a user.

use sea_orm_migration::{prelude::*, schema::*};

/// Creates `signals`.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Signals::Table)
                    .if_not_exists()
                    .col(string(Signals::Id).primary_key())
                    .col(string(Signals::Title))
                    .col(text(Signals::Filter))
                    .col(boolean(Signals::Shared))
                    .col(string_null(Signals::Owner))
                    .col(timestamp_with_time_zone(Signals::CreatedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Signals::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Signals {
    Table,
    Id,
    Title,
    Filter,
    Shared,
    Owner,
    CreatedAt,
}
