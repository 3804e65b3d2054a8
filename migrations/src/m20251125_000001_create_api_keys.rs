//! `api_keys`: API keys, stored as a lookup prefix and a salted SHA-256 hash
//! of the token (never the token itself), with Seq's permission flags.

use sea_orm_migration::{prelude::*, schema::*};

/// Creates `api_keys` and its prefix index.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ApiKeys::Table)
                    .if_not_exists()
                    .col(string(ApiKeys::Id).primary_key())
                    .col(string(ApiKeys::Title))
                    .col(string(ApiKeys::TokenPrefix))
                    .col(string(ApiKeys::TokenSalt))
                    .col(string(ApiKeys::TokenHash))
                    .col(boolean(ApiKeys::CanIngest))
                    .col(boolean(ApiKeys::CanRead))
                    .col(boolean(ApiKeys::CanWrite))
                    .col(boolean(ApiKeys::CanProject))
                    .col(boolean(ApiKeys::CanSystem))
                    .col(string_null(ApiKeys::MinimumLevel))
                    .col(timestamp_with_time_zone(ApiKeys::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_api_keys_token_prefix")
                    .table(ApiKeys::Table)
                    .col(ApiKeys::TokenPrefix)
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ApiKeys::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum ApiKeys {
    Table,
    Id,
    Title,
    TokenPrefix,
    TokenSalt,
    TokenHash,
    CanIngest,
    CanRead,
    CanWrite,
    CanProject,
    CanSystem,
    MinimumLevel,
    CreatedAt,
}
