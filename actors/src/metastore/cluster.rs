//! Leadership and node heartbeats in the shared metastore.
//!
//! Leadership is the single `cluster_leadership` row (id 1): a term, the
//! leader's node name and a lease. The term changes only by compare-and-swap
//! (`... WHERE term = $seen`), so at most one node leads in any term. A term
//! taken while the previous leader's lease still ran keeps that lease's
//! expiry (`previous_lease_expires_at`): the previous leader may still be
//! accepting writes until then, so the new one must not. Every
//! time is the database's clock (`now()` on PostgreSQL, `'now'` on SQLite),
//! never a node's: the two backends' expressions live in [`Dialect`], the
//! one place that differs between them.
//!
//! This module records facts; policy (when to take over, how long a lease
//! is, fencing) belongs to the node runtime.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbBackend, EntityTrait, QueryOrder, Statement, Value};

use super::entities::cluster_node;
use super::{Metastore, MetastoreError};
use crate::replication::{CatchUpProgress, RefusalCounts};

/// The leadership row as the database sees it now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Leadership {
    /// The current term (0 before anyone has led).
    pub term: u64,
    /// The leader in this term, if any.
    pub leader_node: Option<String>,
    /// When the leader's lease runs out unless renewed.
    pub lease_expires_at: Option<DateTime<Utc>>,
    /// Whether the lease is still running by the database's clock.
    pub lease_valid: bool,
    /// The previous leader's lease, when it still ran as this term was
    /// taken (see [`Metastore::take_leadership`]).
    pub previous_lease_expires_at: Option<DateTime<Utc>>,
    /// How long, by the database's clock, until that lease has run out
    /// (zero once it has, or when there is none): the leader of this term
    /// must not accept writes before.
    pub previous_lease_remaining: Duration,
    /// How many followers this term's leader waits for before it
    /// acknowledges a write (as of its last lease grant).
    pub acknowledging_replicas: u32,
    /// The database's clock when the row was read.
    pub read_at: DateTime<Utc>,
    /// The leader's intra-cluster URI, from its heartbeat row.
    pub leader_cluster_uri: Option<String>,
    /// The leader's internal API URI, from its heartbeat row.
    pub leader_internal_api_uri: Option<String>,
}

impl Leadership {
    /// The row before anyone has led: term 0, no leader, no lease.
    pub fn vacant() -> Leadership {
        Leadership {
            term: 0,
            leader_node: None,
            lease_expires_at: None,
            lease_valid: false,
            previous_lease_expires_at: None,
            previous_lease_remaining: Duration::ZERO,
            acknowledging_replicas: 0,
            read_at: DateTime::UNIX_EPOCH,
            leader_cluster_uri: None,
            leader_internal_api_uri: None,
        }
    }
}

/// What a lease grant writes: how long the lease runs, and how many
/// followers the leader waits for before it acknowledges a write (an
/// election after its term counts followers by it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LeaseGrant {
    /// How long the lease runs from the database's clock.
    pub lease: Duration,
    /// `replication.minimumAcknowledgingReplicas` of the leader.
    pub acknowledging_replicas: u32,
}

impl From<Duration> for LeaseGrant {
    /// A lease of a leader that acknowledges without waiting for followers.
    fn from(lease: Duration) -> LeaseGrant {
        LeaseGrant {
            lease,
            acknowledging_replicas: 0,
        }
    }
}

/// A node as an automatic election sees it: its position and whether it
/// reported that position after the leader's lease ran out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Elector {
    /// The node's name.
    pub name: String,
    /// The term of the newest operation in its store.
    pub store_term: u64,
    /// Its store's generation.
    pub generation: skein_store::Generation,
    /// Whether it stands in automatic elections.
    pub auto_failover: bool,
    /// Whether it sampled that position after the leadership row's lease
    /// ran out (by the database's clock), or there was no lease: then the
    /// position holds everything it held when the leader last could
    /// acknowledge a write.
    pub sampled_after_lease: bool,
    /// How long since its last heartbeat, by the database's clock.
    pub silent: Duration,
}

/// A node's heartbeat row in `cluster_nodes` (its default, every field
/// empty or zero, is a start for tests to fill in).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NodeRow {
    /// The node's name (the key).
    pub name: String,
    /// `leader`, `follower` or `standalone`.
    pub role: String,
    /// The leadership term the node last saw.
    pub term: u64,
    /// The model part of the node's storage generation.
    pub generation_model: u64,
    /// The write part of the node's storage generation.
    pub generation_write: u64,
    /// When a follower last synchronised with its leader.
    pub last_sync_at: Option<DateTime<Utc>>,
    /// The last heartbeat by the database's clock (ignored by
    /// [`Metastore::heartbeat`], which sets it).
    pub seen_at: Option<DateTime<Utc>>,
    /// The node's intra-cluster URI.
    pub cluster_uri: Option<String>,
    /// The node's internal API URI.
    pub internal_api_uri: Option<String>,
    /// A human-readable state description.
    pub state: String,
    /// Cluster connections accepted.
    pub accepted: u64,
    /// Cluster connections refused for a wrong key.
    pub invalid_key: u64,
    /// Cluster sessions established.
    pub established: u64,
    /// What the node refused from peers, by kind.
    pub refusals: RefusalCounts,
    /// The snapshot copy the node (a follower) is making, while it runs.
    pub catch_up: Option<CatchUpProgress>,
    /// The term of the newest operation in the node's store.
    pub store_term: u64,
    /// Whether the node stands in automatic elections.
    pub auto_failover: bool,
    /// The database's clock read before the node sampled its generation
    /// (`None` until it reports one sampled so).
    pub sampled_at: Option<DateTime<Utc>>,
}

/// The SQL that differs between SQLite and PostgreSQL: parameters and the
/// database clock.
struct Dialect(DbBackend);

impl Dialect {
    /// `sql` written with `$1`-style parameters, for this backend (SQLite
    /// takes `?1`).
    fn statement(&self, sql: &str, values: Vec<Value>) -> Statement {
        let sql = match self.0 {
            DbBackend::Sqlite => sql.replace('$', "?"),
            _ => sql.to_string(),
        };
        Statement::from_sql_and_values(self.0, sql, values)
    }

    /// The database's current time.
    fn now(&self) -> &'static str {
        match self.0 {
            DbBackend::Sqlite => "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')",
            _ => "now()",
        }
    }

    /// The database's current time plus parameter `param` seconds (a float).
    fn now_plus(&self, param: &str) -> String {
        match self.0 {
            DbBackend::Sqlite => {
                format!("strftime('%Y-%m-%dT%H:%M:%fZ', julianday('now') + {param} / 86400.0)")
            }
            _ => format!("(now() + make_interval(secs => {param}))"),
        }
    }

    /// A boolean-as-integer: whether `column` lies in the future.
    fn is_future(&self, column: &str) -> String {
        match self.0 {
            DbBackend::Sqlite => format!(
                "CASE WHEN {column} IS NOT NULL AND julianday({column}) > julianday('now') THEN 1 ELSE 0 END"
            ),
            _ => format!("CASE WHEN {column} IS NOT NULL AND {column} > now() THEN 1 ELSE 0 END"),
        }
    }

    /// A float: the seconds until `column` (0 when it is null or past).
    fn seconds_until(&self, column: &str) -> String {
        let future = self.is_future(column);
        match self.0 {
            DbBackend::Sqlite => format!(
                "CASE WHEN {future} = 1 THEN (julianday({column}) - julianday('now')) * 86400.0 \
                 ELSE 0.0 END"
            ),
            _ => format!(
                "CASE WHEN {future} = 1 THEN CAST(EXTRACT(EPOCH FROM ({column} - now())) AS float8) \
                 ELSE CAST(0 AS float8) END"
            ),
        }
    }

    /// A float: the seconds since `column`.
    fn seconds_since(&self, column: &str) -> String {
        match self.0 {
            DbBackend::Sqlite => format!("(julianday('now') - julianday({column})) * 86400.0"),
            _ => format!("CAST(EXTRACT(EPOCH FROM (now() - {column})) AS float8)"),
        }
    }

    /// A boolean: whether timestamp `a` lies after timestamp `b`.
    fn later(&self, a: &str, b: &str) -> String {
        match self.0 {
            DbBackend::Sqlite => format!("julianday({a}) > julianday({b})"),
            _ => format!("{a} > {b}"),
        }
    }

    /// The later of the still-running leases among the leadership row's
    /// current and previous ones (null when neither runs): what a node
    /// taking leadership now must wait out.
    fn running_lease(&self) -> String {
        let (lease, prev) = ("lease_expires_at", "previous_lease_expires_at");
        format!(
            "CASE WHEN {pf} = 1 AND ({lf} = 0 OR {later}) THEN {prev} \
             WHEN {lf} = 1 THEN {lease} ELSE NULL END",
            pf = self.is_future(prev),
            lf = self.is_future(lease),
            later = self.later(prev, lease),
        )
    }
}

impl Metastore {
    fn dialect(&self) -> Dialect {
        Dialect(self.backend())
    }

    /// The leadership row, with the lease judged by the database's clock.
    pub async fn current_leadership(&self) -> Result<Leadership, MetastoreError> {
        let d = self.dialect();
        let sql = format!(
            "SELECT l.term, l.leader_node, l.lease_expires_at, {} AS lease_valid, \
             l.previous_lease_expires_at, {} AS previous_remaining, l.acknowledging_replicas, \
             {} AS read_at, n.cluster_uri AS leader_cluster_uri, \
             n.internal_api_uri AS leader_internal_api_uri \
             FROM cluster_leadership l LEFT JOIN cluster_nodes n ON n.name = l.leader_node \
             WHERE l.id = 1",
            d.is_future("l.lease_expires_at"),
            d.seconds_until("l.previous_lease_expires_at"),
            d.now(),
        );
        let row = self
            .db
            .query_one_raw(d.statement(&sql, vec![]))
            .await?
            .ok_or_else(|| corrupt("cluster_leadership", "the row with id 1 is missing"))?;
        Ok(Leadership {
            term: unsigned("cluster_leadership.term", row.try_get("", "term")?)?,
            leader_node: row.try_get("", "leader_node")?,
            lease_expires_at: row.try_get("", "lease_expires_at")?,
            lease_valid: row.try_get::<i32>("", "lease_valid")? != 0,
            previous_lease_expires_at: row.try_get("", "previous_lease_expires_at")?,
            previous_lease_remaining: Duration::try_from_secs_f64(
                row.try_get::<f64>("", "previous_remaining")?.max(0.0),
            )
            .unwrap_or(Duration::MAX),
            acknowledging_replicas: u32::try_from(
                row.try_get::<i64>("", "acknowledging_replicas")?,
            )
            .map_err(|_| corrupt("cluster_leadership.acknowledging_replicas", "out of range"))?,
            read_at: row.try_get("", "read_at")?,
            leader_cluster_uri: row.try_get("", "leader_cluster_uri")?,
            leader_internal_api_uri: row.try_get("", "leader_internal_api_uri")?,
        })
    }

    /// Every node as an automatic election sees it, judged against the
    /// leadership row's lease by the database's clock.
    pub async fn electors(&self) -> Result<Vec<Elector>, MetastoreError> {
        let d = self.dialect();
        let sql = format!(
            "SELECT n.name, n.store_term, n.generation_model, n.generation_write, \
             n.auto_failover, CASE WHEN n.sampled_at IS NOT NULL AND \
             (l.lease_expires_at IS NULL OR {after}) THEN 1 ELSE 0 END AS after_lease, \
             {silent} AS silent FROM cluster_nodes n CROSS JOIN cluster_leadership l \
             WHERE l.id = 1 ORDER BY n.name",
            after = d.later("n.sampled_at", "l.lease_expires_at"),
            silent = d.seconds_since("n.seen_at"),
        );
        let rows = self.db.query_all_raw(d.statement(&sql, vec![])).await?;
        rows.into_iter()
            .map(|row| {
                let n = |what: &str| -> Result<u64, MetastoreError> {
                    unsigned(&format!("cluster_nodes.{what}"), row.try_get("", what)?)
                };
                Ok(Elector {
                    name: row.try_get("", "name")?,
                    store_term: n("store_term")?,
                    generation: skein_store::Generation {
                        model: n("generation_model")?,
                        write: n("generation_write")?,
                    },
                    auto_failover: row.try_get("", "auto_failover")?,
                    sampled_after_lease: row.try_get::<i32>("", "after_lease")? != 0,
                    silent: Duration::try_from_secs_f64(row.try_get::<f64>("", "silent")?.max(0.0))
                        .unwrap_or(Duration::MAX),
                })
            })
            .collect()
    }

    /// Takes leadership in the term after `seen_term` when its lease has
    /// run out by the database's clock (an automatic election): returns
    /// the new term, or `None` when another node moved first or the lease
    /// was renewed meanwhile.
    pub async fn take_lapsed_leadership(
        &self,
        me: &str,
        seen_term: u64,
        grant: LeaseGrant,
    ) -> Result<Option<u64>, MetastoreError> {
        let lapsed = format!("{} = 0", self.dialect().is_future("lease_expires_at"));
        self.take_term(me, seen_term, grant, &lapsed).await
    }

    /// Takes leadership if the term is still `seen_term`: returns the new
    /// term we now lead in, or `None` when another node moved first. When
    /// a lease still runs (the current leader's, or one the current term
    /// itself waits for), its expiry is recorded as the new term's
    /// `previous_lease_expires_at`: the taker must not accept writes before
    /// the database's clock has passed it.
    pub async fn take_leadership(
        &self,
        me: &str,
        seen_term: u64,
        grant: impl Into<LeaseGrant>,
    ) -> Result<Option<u64>, MetastoreError> {
        self.take_term(me, seen_term, grant.into(), "1 = 1").await
    }

    /// Makes `me` the leader of the term after `seen_term` with `grant`,
    /// when the term is still `seen_term` and `condition` (SQL on the row)
    /// holds; a lease still running is recorded as the new term's previous
    /// one (see [`Metastore::take_leadership`]).
    async fn take_term(
        &self,
        me: &str,
        seen_term: u64,
        grant: LeaseGrant,
        condition: &str,
    ) -> Result<Option<u64>, MetastoreError> {
        let me = node_name(me)?;
        let d = self.dialect();
        let sql = format!(
            "UPDATE cluster_leadership SET term = term + 1, leader_node = $1, \
             previous_lease_expires_at = {}, lease_expires_at = {}, acknowledging_replicas = $4 \
             WHERE id = 1 AND term = $3 AND {condition}",
            d.running_lease(),
            d.now_plus("$2")
        );
        let values = vec![
            me.into(),
            grant.lease.as_secs_f64().into(),
            signed(seen_term)?,
            i64::from(grant.acknowledging_replicas).into(),
        ];
        let changed = self.db.execute_raw(d.statement(&sql, values)).await?;
        Ok((changed.rows_affected() == 1).then_some(seen_term + 1))
    }

    /// Extends the lease of `me` in `term`; `false` when `me` no longer
    /// leads in that term (then the node must stop accepting writes).
    pub async fn renew_lease(
        &self,
        me: &str,
        term: u64,
        grant: impl Into<LeaseGrant>,
    ) -> Result<bool, MetastoreError> {
        let grant = grant.into();
        let d = self.dialect();
        let sql = format!(
            "UPDATE cluster_leadership SET lease_expires_at = {}, acknowledging_replicas = $4 \
             WHERE id = 1 AND term = $3 AND leader_node = $1",
            d.now_plus("$2")
        );
        let values = vec![
            me.into(),
            grant.lease.as_secs_f64().into(),
            signed(term)?,
            i64::from(grant.acknowledging_replicas).into(),
        ];
        let changed = self.db.execute_raw(d.statement(&sql, values)).await?;
        Ok(changed.rows_affected() == 1)
    }

    /// Graceful hand-over: when `me` leads in `term`, makes `to` the leader
    /// of the next term (with no lease until `to` renews it, and none to
    /// wait for: `me` has stopped writing) and returns that term; `None`
    /// when `me` does not lead in `term`.
    pub async fn hand_over(
        &self,
        me: &str,
        term: u64,
        to: &str,
    ) -> Result<Option<u64>, MetastoreError> {
        let to = node_name(to)?;
        let d = self.dialect();
        let sql = "UPDATE cluster_leadership SET term = term + 1, leader_node = $2, \
                   lease_expires_at = NULL, previous_lease_expires_at = NULL \
                   WHERE id = 1 AND term = $3 AND leader_node = $1";
        let values = vec![me.into(), to.into(), signed(term)?];
        let changed = self.db.execute_raw(d.statement(sql, values)).await?;
        Ok((changed.rows_affected() == 1).then_some(term + 1))
    }

    /// Inserts or replaces this node's row, stamping `seen_at` with the
    /// database's clock.
    pub async fn heartbeat(&self, node: &NodeRow) -> Result<(), MetastoreError> {
        let name = node_name(&node.name)?;
        let d = self.dialect();
        let sql = format!(
            "INSERT INTO cluster_nodes (name, role, term, generation_model, generation_write, \
             last_sync_at, seen_at, cluster_uri, internal_api_uri, state, accepted, invalid_key, \
             established, refused_malformed_handshake, refused_session_check, \
             refused_forged_leader, refused_forged_forwarding, catch_up_copied_bytes, \
             catch_up_total_bytes, catch_up_bytes_per_second, catch_up_seconds_left, \
             catch_up_started_at, store_term, auto_failover, sampled_at) \
             VALUES ($1, $2, $3, $4, $5, $6, {now}, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, \
             $17, $18, $19, $20, $21, $22, $23, $24) \
             ON CONFLICT (name) DO UPDATE SET role = excluded.role, term = excluded.term, \
             generation_model = excluded.generation_model, \
             generation_write = excluded.generation_write, last_sync_at = excluded.last_sync_at, \
             seen_at = excluded.seen_at, cluster_uri = excluded.cluster_uri, \
             internal_api_uri = excluded.internal_api_uri, state = excluded.state, \
             accepted = excluded.accepted, invalid_key = excluded.invalid_key, \
             established = excluded.established, \
             refused_malformed_handshake = excluded.refused_malformed_handshake, \
             refused_session_check = excluded.refused_session_check, \
             refused_forged_leader = excluded.refused_forged_leader, \
             refused_forged_forwarding = excluded.refused_forged_forwarding, \
             catch_up_copied_bytes = excluded.catch_up_copied_bytes, \
             catch_up_total_bytes = excluded.catch_up_total_bytes, \
             catch_up_bytes_per_second = excluded.catch_up_bytes_per_second, \
             catch_up_seconds_left = excluded.catch_up_seconds_left, \
             catch_up_started_at = excluded.catch_up_started_at, \
             store_term = excluded.store_term, auto_failover = excluded.auto_failover, \
             sampled_at = excluded.sampled_at",
            now = d.now()
        );
        let mut values = vec![
            name.into(),
            node.role.clone().into(),
            signed(node.term)?,
            signed(node.generation_model)?,
            signed(node.generation_write)?,
            node.last_sync_at.into(),
            node.cluster_uri.clone().into(),
            node.internal_api_uri.clone().into(),
            node.state.clone().into(),
            signed(node.accepted)?,
            signed(node.invalid_key)?,
            signed(node.established)?,
            signed(node.refusals.malformed_handshake)?,
            signed(node.refusals.session_check)?,
            signed(node.refusals.forged_leader)?,
            signed(node.refusals.forged_forwarding)?,
        ];
        let c = node.catch_up.as_ref();
        values.extend([
            optional(c.map(|c| c.copied_bytes))?,
            optional(c.map(|c| c.total_bytes))?,
            optional(c.and_then(|c| c.bytes_per_second))?,
            optional(c.and_then(|c| c.seconds_left))?,
            c.map(|c| c.started_at).into(),
            signed(node.store_term)?,
            node.auto_failover.into(),
            node.sampled_at.into(),
        ]);
        self.db.execute_raw(d.statement(&sql, values)).await?;
        Ok(())
    }

    /// Removes node `name` from the membership (its `cluster_nodes` row),
    /// unless it leads: the leader check and the delete are one statement,
    /// so a change of leadership between them cannot slip through. Refused,
    /// changing nothing, for the leader and for a name without a row. A
    /// node that still runs inserts its row again at its next heartbeat.
    pub async fn remove_node(&self, name: &str) -> Result<(), MetastoreError> {
        let name = node_name(name)?;
        let d = self.dialect();
        let sql = "DELETE FROM cluster_nodes WHERE name = $1 AND NOT EXISTS \
                   (SELECT 1 FROM cluster_leadership WHERE id = 1 AND leader_node = $1)";
        let deleted = self
            .db
            .execute_raw(d.statement(sql, vec![name.clone().into()]))
            .await?;
        if deleted.rows_affected() == 1 {
            return Ok(());
        }
        Err(self.not_removed(&name).await?)
    }

    /// Why [`Self::remove_node`] deleted nothing for `name`.
    async fn not_removed(&self, name: &str) -> Result<MetastoreError, MetastoreError> {
        let now = self.current_leadership().await?;
        let refused = |why: String| Ok(MetastoreError::Invalid(why));
        if now.leader_node.as_deref() == Some(name) {
            return refused(format!(
                "node {name} leads the cluster (term {}), so it cannot be removed: hand leadership to another node first",
                now.term
            ));
        }
        let known: Vec<String> = self.nodes().await?.into_iter().map(|n| n.name).collect();
        if known.iter().any(|n| n == name) {
            return refused(format!(
                "node {name} led the cluster while it was being removed; nothing changed: try again"
            ));
        }
        let known = match known.is_empty() {
            true => "none".to_string(),
            false => known.join(", "),
        };
        refused(format!(
            "no node named {name} in the cluster; known: {known}"
        ))
    }

    /// Every node's row, by name.
    pub async fn nodes(&self) -> Result<Vec<NodeRow>, MetastoreError> {
        cluster_node::Entity::find()
            .order_by_asc(cluster_node::Column::Name)
            .all(&self.db)
            .await?
            .into_iter()
            .map(|m| {
                let n = |what: &str, v: i64| unsigned(&format!("cluster_nodes.{what}"), v);
                let maybe = |what: &str, v: Option<i64>| v.map(|v| n(what, v)).transpose();
                let catch_up = match (
                    maybe("catch_up_copied_bytes", m.catch_up_copied_bytes)?,
                    maybe("catch_up_total_bytes", m.catch_up_total_bytes)?,
                    m.catch_up_started_at,
                ) {
                    (Some(copied_bytes), Some(total_bytes), Some(started_at)) => {
                        Some(CatchUpProgress {
                            copied_bytes,
                            total_bytes,
                            bytes_per_second: maybe(
                                "catch_up_bytes_per_second",
                                m.catch_up_bytes_per_second,
                            )?,
                            seconds_left: maybe("catch_up_seconds_left", m.catch_up_seconds_left)?,
                            started_at,
                        })
                    }
                    _ => None,
                };
                Ok(NodeRow {
                    term: n("term", m.term)?,
                    generation_model: n("generation_model", m.generation_model)?,
                    generation_write: n("generation_write", m.generation_write)?,
                    accepted: n("accepted", m.accepted)?,
                    invalid_key: n("invalid_key", m.invalid_key)?,
                    established: n("established", m.established)?,
                    refusals: RefusalCounts {
                        malformed_handshake: n(
                            "refused_malformed_handshake",
                            m.refused_malformed_handshake,
                        )?,
                        session_check: n("refused_session_check", m.refused_session_check)?,
                        forged_leader: n("refused_forged_leader", m.refused_forged_leader)?,
                        forged_forwarding: n(
                            "refused_forged_forwarding",
                            m.refused_forged_forwarding,
                        )?,
                    },
                    name: m.name,
                    role: m.role,
                    last_sync_at: m.last_sync_at,
                    seen_at: Some(m.seen_at),
                    cluster_uri: m.cluster_uri,
                    internal_api_uri: m.internal_api_uri,
                    state: m.state,
                    catch_up,
                    store_term: n("store_term", m.store_term)?,
                    auto_failover: m.auto_failover,
                    sampled_at: m.sampled_at,
                })
            })
            .collect()
    }
}

fn node_name(name: &str) -> Result<String, MetastoreError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(MetastoreError::Invalid("a node needs a name".into()));
    }
    Ok(name.to_string())
}

fn signed(n: u64) -> Result<Value, MetastoreError> {
    i64::try_from(n)
        .map(Value::from)
        .map_err(|_| MetastoreError::Invalid(format!("{n} is too large for the metastore")))
}

fn optional(n: Option<u64>) -> Result<Value, MetastoreError> {
    match n {
        Some(n) => signed(n),
        None => Ok(Value::BigInt(None)),
    }
}

fn unsigned(key: &str, n: i64) -> Result<u64, MetastoreError> {
    u64::try_from(n).map_err(|_| corrupt(key, &format!("negative value {n}")))
}

fn corrupt(key: &str, detail: &str) -> MetastoreError {
    MetastoreError::Corrupt {
        key: key.to_string(),
        detail: detail.to_string(),
    }
}

#[cfg(test)]
mod tests;
