//! `api_keys.applied_properties`: properties an API key stamps on every
//! event ingested with it (Seq's "applied properties"), as JSON text
//! `[{"Name":…,"Value":…},…]`; null for none.

use sea_orm_migration::{prelude::*, schema::*};

/// Adds `api_keys.applied_properties`.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.has_column("api_keys", "applied_properties").await? {
            return Ok(());
        }
        manager
            .alter_table(
                Table::alter()
                    .table(ApiKeys::Table)
                    .add_column(text_null(ApiKeys::AppliedProperties))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(ApiKeys::Table)
                    .drop_column(ApiKeys::AppliedProperties)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum ApiKeys {
    Table,
    AppliedProperties,
}
