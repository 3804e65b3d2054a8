//! Authentication: a role and a failed-login throttle on `users`, and
//! `sessions` (server-side login sessions, stored as the SHA-256 of their
//! cookie token so that the table alone cannot be used to log in).

use sea_orm_migration::{prelude::*, schema::*};

/// Adds `users.role`, `users.failed_logins`, `users.locked_until`; creates
/// `sessions`.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one thing at a time.
        let columns = [
            string(Users::Role).default("Administrator").to_owned(),
            integer(Users::FailedLogins).default(0).to_owned(),
            timestamp_with_time_zone_null(Users::LockedUntil).to_owned(),
        ];
        for column in columns {
            let name = column.get_column_name();
            if !manager.has_column("users", &name).await? {
                manager
                    .alter_table(
                        Table::alter()
                            .table(Users::Table)
                            .add_column(column)
                            .to_owned(),
                    )
                    .await?;
            }
        }
        manager
            .create_table(
                Table::create()
                    .table(Sessions::Table)
                    .if_not_exists()
                    .col(string(Sessions::Id).primary_key())
                    .col(string(Sessions::UserId))
                    .col(timestamp_with_time_zone(Sessions::CreatedAt))
                    .col(timestamp_with_time_zone(Sessions::ExpiresAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_sessions_user_id")
                    .table(Sessions::Table)
                    .col(Sessions::UserId)
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Sessions::Table).to_owned())
            .await?;
        for column in [Users::LockedUntil, Users::FailedLogins, Users::Role] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Users::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Role,
    FailedLogins,
    LockedUntil,
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    Id,
    UserId,
    CreatedAt,
    ExpiresAt,
}
