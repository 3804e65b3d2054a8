//! `cluster_nodes` catch-up progress: while a follower copies a snapshot,
//! the bytes it holds of the total, its rate, the time left and when the
//! copy started (all null otherwise). Kept in the heartbeat row so the
//! cluster screen shows the copy whichever node answers (a follower's API
//! is proxied to the leader).

use sea_orm_migration::{prelude::*, schema::*};

/// Adds the five nullable catch-up columns to `cluster_nodes`.
#[derive(DeriveMigrationName)]
pub struct Migration;

/// The added columns, in order.
const COLUMNS: [ClusterNodes; 5] = [
    ClusterNodes::CatchUpCopiedBytes,
    ClusterNodes::CatchUpTotalBytes,
    ClusterNodes::CatchUpBytesPerSecond,
    ClusterNodes::CatchUpSecondsLeft,
    ClusterNodes::CatchUpStartedAt,
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters a table one column at a time.
        for column in COLUMNS {
            if manager
                .has_column("cluster_nodes", &column.to_string())
                .await?
            {
                continue;
            }
            let def = match column {
                ClusterNodes::CatchUpStartedAt => timestamp_with_time_zone_null(column),
                _ => big_integer_null(column),
            };
            manager
                .alter_table(
                    Table::alter()
                        .table(ClusterNodes::Table)
                        .add_column(def)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in COLUMNS {
            manager
                .alter_table(
                    Table::alter()
                        .table(ClusterNodes::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum ClusterNodes {
    Table,
    CatchUpCopiedBytes,
    CatchUpTotalBytes,
    CatchUpBytesPerSecond,
    CatchUpSecondsLeft,
    CatchUpStartedAt,
}
