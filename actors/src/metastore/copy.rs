//! Copying one metastore into another (`skein metastore to-postgresql`).
//!
//! The copy is planned first: each source row is new to the target, already
//! there and identical (timestamps compared at PostgreSQL's microsecond
//! precision), or there and different. A target whose rows all match the
//! source (a previous or interrupted copy) is safe to copy into again, so
//! the copy is idempotent and resumable; any other non-empty target is
//! refused unless forced. Rows are written in one transaction, and rows
//! only the target holds are never deleted. The leadership row moves only
//! forwards: a target term above the source's is kept (terms never go back).

use chrono::{DateTime, Timelike, Utc};
use sea_orm::{
    ActiveModelBehavior, ActiveModelTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    IntoActiveModel, TransactionTrait,
};

use super::entities::{api_key, cluster_leadership, cluster_node, setting, signal, user};
use super::{Metastore, MetastoreError};

/// What a copy did (or would do) to one table.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TableCopy {
    /// The table's name.
    pub table: &'static str,
    /// Rows added to the target.
    pub inserted: usize,
    /// Target rows overwritten with the source's values (only when forced).
    pub updated: usize,
    /// Rows the target already held, identical.
    pub unchanged: usize,
    /// Rows only the target holds (left in place).
    pub target_only: usize,
}

impl TableCopy {
    /// Whether the target holds rows the copy would not simply add to.
    pub fn conflicts(&self) -> bool {
        self.updated > 0 || self.target_only > 0
    }
}

/// Rows to write to one table, and the counts.
struct Plan<M> {
    report: TableCopy,
    writes: Vec<(M, bool /* insert */)>,
}

impl Metastore {
    /// Copies every table into `target` (whose schema `Metastore::open`
    /// created). Without `force`, a target holding rows that differ from
    /// this metastore's, or rows this one lacks, is refused and left
    /// untouched. `progress` hears about each table once it is written.
    pub async fn copy_into(
        &self,
        target: &Metastore,
        force: bool,
        progress: &mut (dyn FnMut(&TableCopy) + Send),
    ) -> Result<Vec<TableCopy>, MetastoreError> {
        let (s, t) = (&self.db, &target.db);
        let keys = plan::<api_key::Entity>(
            s,
            t,
            "api_keys",
            |m| m.id.clone(),
            |mut m| {
                m.created_at = micros(m.created_at);
                m
            },
        )
        .await?;
        let settings = plan::<setting::Entity>(
            s,
            t,
            "settings",
            |m| m.key.clone(),
            |mut m| {
                m.updated_at = micros(m.updated_at);
                m
            },
        )
        .await?;
        let signals = plan::<signal::Entity>(
            s,
            t,
            "signals",
            |m| m.id.clone(),
            |mut m| {
                m.created_at = micros(m.created_at);
                m
            },
        )
        .await?;
        let users = plan::<user::Entity>(
            s,
            t,
            "users",
            |m| m.id.clone(),
            |mut m| {
                m.created_at = micros(m.created_at);
                m.locked_until = m.locked_until.map(micros);
                m
            },
        )
        .await?;
        let nodes = plan::<cluster_node::Entity>(
            s,
            t,
            "cluster_nodes",
            |m| m.name.clone(),
            |mut m| {
                m.seen_at = micros(m.seen_at);
                m.last_sync_at = m.last_sync_at.map(micros);
                m.catch_up_started_at = m.catch_up_started_at.map(micros);
                m
            },
        )
        .await?;
        let mut leadership = plan::<cluster_leadership::Entity>(
            s,
            t,
            "cluster_leadership",
            |m| m.id.to_string(),
            |mut m| {
                m.lease_expires_at = m.lease_expires_at.map(micros);
                m.previous_lease_expires_at = m.previous_lease_expires_at.map(micros);
                m
            },
        )
        .await?;
        forward_only(&mut leadership, t).await?;

        let reports = [
            &keys.report,
            &settings.report,
            &signals.report,
            &users.report,
            &nodes.report,
            &leadership.report,
        ];
        if !force {
            let conflicting: Vec<&str> = reports
                .iter()
                .filter(|r| r.conflicts())
                .map(|r| r.table)
                .collect();
            if !conflicting.is_empty() {
                return Err(MetastoreError::Invalid(format!(
                    "the target metastore is not empty and differs from this one (tables: {}); \
                     use --force to copy into it anyway",
                    conflicting.join(", ")
                )));
            }
        }
        let txn = t.begin().await?;
        let mut done = Vec::new();
        done.push(write(&txn, keys, progress).await?);
        done.push(write(&txn, settings, progress).await?);
        done.push(write(&txn, signals, progress).await?);
        done.push(write(&txn, users, progress).await?);
        done.push(write(&txn, nodes, progress).await?);
        done.push(write(&txn, leadership, progress).await?);
        txn.commit().await?;
        Ok(done)
    }
}

/// Compares a table's rows in both databases.
async fn plan<E>(
    source: &DatabaseConnection,
    target: &DatabaseConnection,
    table: &'static str,
    key: fn(&E::Model) -> String,
    normalise: fn(E::Model) -> E::Model,
) -> Result<Plan<E::Model>, MetastoreError>
where
    E: EntityTrait,
    E::Model: Clone + PartialEq,
{
    let ours: Vec<E::Model> = E::find().all(source).await?;
    let mut theirs: std::collections::HashMap<String, E::Model> = E::find()
        .all(target)
        .await?
        .into_iter()
        .map(|m| (key(&m), normalise(m)))
        .collect();
    let mut report = TableCopy {
        table,
        ..Default::default()
    };
    let mut writes = Vec::new();
    for row in ours.into_iter().map(normalise) {
        match theirs.remove(&key(&row)) {
            None => {
                report.inserted += 1;
                writes.push((row, true));
            }
            Some(existing) if existing == row => report.unchanged += 1,
            Some(_) => {
                report.updated += 1;
                writes.push((row, false));
            }
        }
    }
    report.target_only = theirs.len();
    Ok(Plan { report, writes })
}

/// Keeps the target's leadership row when its term is not behind ours, and
/// treats the freshly seeded row (term 0, no leader) as empty.
async fn forward_only(
    plan: &mut Plan<cluster_leadership::Model>,
    target: &DatabaseConnection,
) -> Result<(), MetastoreError> {
    let Some(theirs) = cluster_leadership::Entity::find_by_id(1)
        .one(target)
        .await?
    else {
        return Ok(());
    };
    let r = &mut plan.report;
    if r.updated == 0 {
        return Ok(());
    }
    if theirs.term == 0 && theirs.leader_node.is_none() {
        (r.updated, r.inserted) = (0, r.inserted + 1);
    } else if plan.writes.iter().all(|(ours, _)| ours.term <= theirs.term) {
        plan.writes.clear();
        (r.updated, r.unchanged) = (0, r.unchanged + 1);
    }
    Ok(())
}

/// Writes a planned table and reports it.
async fn write<C, M, A>(
    db: &C,
    plan: Plan<M>,
    progress: &mut (dyn FnMut(&TableCopy) + Send),
) -> Result<TableCopy, MetastoreError>
where
    C: ConnectionTrait,
    M: IntoActiveModel<A> + Send,
    A: ActiveModelTrait + ActiveModelBehavior + Send,
    <A::Entity as EntityTrait>::Model: IntoActiveModel<A>,
{
    for (row, insert) in plan.writes {
        let active = row.into_active_model().reset_all();
        if insert {
            active.insert(db).await?;
        } else {
            active.update(db).await?;
        }
    }
    progress(&plan.report);
    Ok(plan.report)
}

/// `t` at PostgreSQL's precision (microseconds, truncated as sqlx does).
fn micros(t: DateTime<Utc>) -> DateTime<Utc> {
    t.with_nanosecond(t.nanosecond() / 1_000 * 1_000)
        .unwrap_or(t)
}

#[cfg(test)]
mod tests;
