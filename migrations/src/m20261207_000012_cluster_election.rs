//! Automatic election: what a node needs to know of the others to take
//! leadership safely when the leader's lease has lapsed.
//!
//! - `cluster_leadership.acknowledging_replicas`: how many followers the
//!   leader of the term waits for before acknowledging a write
//!   (`replication.minimumAcknowledgingReplicas`), written by the statement
//!   that grants or renews its lease; an election after that term counts
//!   followers by it.
//! - `cluster_nodes.store_term`: the term of the newest operation in the
//!   node's store (with the generation, its position).
//! - `cluster_nodes.auto_failover`: whether the node stands in automatic
//!   elections (`cluster.autoFailover`).
//! - `cluster_nodes.sampled_at`: the database's clock read before the node
//!   sampled its position (so the position holds everything the node had
//!   durably at that time); null until the node first reports one.

use sea_orm_migration::{prelude::*, schema::*};

/// Adds the election columns.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let added: [(&str, Alias, ColumnDef); 4] = [
            (
                "cluster_leadership",
                Alias::new("cluster_leadership"),
                big_integer(Alias::new("acknowledging_replicas"))
                    .default(0)
                    .to_owned(),
            ),
            (
                "cluster_nodes",
                Alias::new("cluster_nodes"),
                big_integer(Alias::new("store_term")).default(0).to_owned(),
            ),
            (
                "cluster_nodes",
                Alias::new("cluster_nodes"),
                boolean(Alias::new("auto_failover"))
                    .default(false)
                    .to_owned(),
            ),
            (
                "cluster_nodes",
                Alias::new("cluster_nodes"),
                timestamp_with_time_zone_null(Alias::new("sampled_at")),
            ),
        ];
        // One column per statement: SQLite alters a table one column at a time.
        for (table, iden, mut column) in added {
            let name = column.get_column_name();
            if manager.has_column(table, &name).await? {
                continue;
            }
            manager
                .alter_table(
                    Table::alter()
                        .table(iden)
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let dropped = [
            ("cluster_leadership", "acknowledging_replicas"),
            ("cluster_nodes", "store_term"),
            ("cluster_nodes", "auto_failover"),
            ("cluster_nodes", "sampled_at"),
        ];
        for (table, column) in dropped {
            manager
                .alter_table(
                    Table::alter()
                        .table(Alias::new(table))
                        .drop_column(Alias::new(column))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
