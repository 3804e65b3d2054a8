//! `cluster_nodes` refusal counters: how many times the node refused
//! something a peer (or someone posing as one) sent, by kind (see
//! `skein_actors::replication::refusals`). Kept in the heartbeat row so the
//! cluster screen shows every node's counts, not only those of the node
//! that answers (a follower's API is proxied to the leader).

use sea_orm_migration::{prelude::*, schema::*};

/// Adds the four refusal counters to `cluster_nodes`, 0 for existing rows.
#[derive(DeriveMigrationName)]
pub struct Migration;

/// The added columns, in order.
const COLUMNS: [ClusterNodes; 4] = [
    ClusterNodes::RefusedMalformedHandshake,
    ClusterNodes::RefusedSessionCheck,
    ClusterNodes::RefusedForgedLeader,
    ClusterNodes::RefusedForgedForwarding,
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
            manager
                .alter_table(
                    Table::alter()
                        .table(ClusterNodes::Table)
                        .add_column(big_integer(column).default(0))
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
    RefusedMalformedHandshake,
    RefusedSessionCheck,
    RefusedForgedLeader,
    RefusedForgedForwarding,
}
