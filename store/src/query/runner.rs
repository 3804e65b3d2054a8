//! [`QueryRunner`]: runs a [`Query`] over events fed one at a time.
//!
//! Runners are independent: give each scan thread its own, [`QueryRunner::merge`]
//! them, then [`QueryRunner::finish`]. Rows are sorted by time bucket first
//! (a series), then by `order by` (or by the group keys), then cut to `limit`.

use std::cmp::Ordering;
use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::event::format_timestamp;
use crate::{EventView, Timestamp};

use super::aggregate::AggState;
use super::eval::{eval, Cx};
use super::filter::EvalContext;
use super::select::{Plan, Query};
use super::value::{Key, Value};

/// A query's answer: column names and rows of JSON values.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QueryResult {
    /// Column names: `time` (when bucketed), unselected group keys, then the selected columns.
    pub columns: Vec<String>,
    /// One row per group (or per event), values in column order.
    pub rows: Vec<Vec<serde_json::Value>>,
}

/// What a runner accumulated, carried between nodes: a scale-out query runs
/// one share of the events on each node and merges the partials
/// ([`QueryRunner::into_partial`], [`QueryRunner::absorb`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PartialQuery {
    groups: Vec<(Vec<Key>, Vec<AggState>)>,
    rows: Vec<(Vec<Key>, Vec<Key>)>,
}

/// A partial result that does not fit the query it was offered to.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the partial result does not fit the query: {0}")]
pub struct PartialMismatch(&'static str);

impl PartialQuery {
    /// Checks the partial's shape against `plan`: every group keyed and
    /// aggregated as the query groups and aggregates, every row as long as
    /// the query's sort keys and columns (so merging and finishing cannot
    /// index out of bounds or mix aggregates).
    fn check(&self, plan: &Plan) -> Result<(), PartialMismatch> {
        let keys = plan.keys.len() + usize::from(plan.bucket.is_some());
        if !plan.aggregate && !self.groups.is_empty() {
            return Err(PartialMismatch("groups for a per-event query"));
        }
        for (k, states) in &self.groups {
            if k.len() != keys {
                return Err(PartialMismatch("a group has the wrong number of keys"));
            }
            if states.len() != plan.aggs.len()
                || !states.iter().zip(&plan.aggs).all(|(s, a)| s.is_of(a.kind))
            {
                return Err(PartialMismatch(
                    "a group's aggregates differ from the query's",
                ));
            }
            if plan.bucket.is_some() && !matches!(k[0], Key::Int(_)) {
                return Err(PartialMismatch("a time bucket is not a number"));
            }
        }
        if plan.aggregate && !self.rows.is_empty() {
            return Err(PartialMismatch("rows for an aggregating query"));
        }
        for (sort, values) in &self.rows {
            if sort.len() != plan.order.len() || values.len() != plan.columns.len() {
                return Err(PartialMismatch("a row has the wrong number of values"));
            }
        }
        Ok(())
    }
}

/// Accumulates one query's results over a stream of events.
#[derive(Debug)]
pub struct QueryRunner {
    query: Query,
    now: i64,
    groups: HashMap<Vec<Key>, Vec<AggState>>,
    /// Per-event rows: (sort keys, values).
    rows: Vec<(Vec<Key>, Vec<Key>)>,
    scratch: Vec<Key>,
}

impl QueryRunner {
    pub(crate) fn new(query: Query, now: i64) -> QueryRunner {
        QueryRunner {
            query,
            now,
            groups: HashMap::new(),
            rows: Vec::new(),
            scratch: Vec::new(),
        }
    }

    /// True when more events cannot change the result (a per-event query
    /// with `limit` and no `order by` that already has its rows).
    pub fn is_full(&self) -> bool {
        let p = self.query.plan();
        !p.aggregate && p.order.is_empty() && p.limit.is_some_and(|l| self.rows.len() >= l)
    }

    /// Feeds one event (the `where` filter is applied here).
    pub fn accept<E: EventView + ?Sized>(&mut self, e: &E) {
        let plan = self.query.plan();
        if let Some(f) = &plan.filter {
            if !f.matches(e, &EvalContext::new(Timestamp(self.now))) {
                return;
            }
        }
        let cx = Cx::at(self.now);
        if !plan.aggregate {
            if self.is_full() {
                return;
            }
            let key = |x| Key::from_value(&eval(x, Some(e), cx));
            let sort = plan.order.iter().map(|(x, _)| key(x)).collect();
            let values = plan.columns.iter().map(|c| key(&c.expr)).collect();
            self.rows.push((sort, values));
            return;
        }
        self.scratch.clear();
        if let Some(b) = plan.bucket {
            let t = e.timestamp().0;
            self.scratch
                .push(Key::Int((t.div_euclid(b) as i128) * b as i128));
        }
        for k in &plan.keys {
            self.scratch
                .push(Key::from_value(&eval(&k.expr, Some(e), cx)));
        }
        let update = |states: &mut Vec<AggState>| {
            for (st, call) in states.iter_mut().zip(&plan.aggs) {
                match &call.arg {
                    None => st.update(None),
                    Some(a) => st.update(Some(&eval(a, Some(e), cx))),
                }
            }
        };
        if let Some(states) = self.groups.get_mut(self.scratch.as_slice()) {
            update(states);
        } else {
            let mut states = plan.aggs.iter().map(|a| AggState::new(a.kind)).collect();
            update(&mut states);
            self.groups.insert(self.scratch.clone(), states);
        }
    }

    /// Merges another runner of the same query into this one.
    pub fn merge(&mut self, other: QueryRunner) {
        for (k, states) in other.groups {
            match self.groups.get_mut(&k) {
                Some(mine) => mine.iter_mut().zip(states).for_each(|(a, b)| a.merge(b)),
                None => {
                    self.groups.insert(k, states);
                }
            }
        }
        self.rows.extend(other.rows);
        let p = self.query.plan();
        if let (true, Some(l)) = (p.order.is_empty(), p.limit) {
            self.rows.truncate(l);
        }
    }

    /// What this runner accumulated, to merge into a runner of the same
    /// query elsewhere.
    pub fn into_partial(self) -> PartialQuery {
        PartialQuery {
            groups: self.groups.into_iter().collect(),
            rows: self.rows,
        }
    }

    /// Merges a partial result of the same query (from another node),
    /// refusing one whose shape does not fit the query; nothing is merged
    /// then.
    pub fn absorb(&mut self, partial: PartialQuery) -> Result<(), PartialMismatch> {
        partial.check(self.query.plan())?;
        let mut other = QueryRunner::new(self.query.clone(), self.now);
        other.groups = partial.groups.into_iter().collect();
        other.rows = partial.rows;
        self.merge(other);
        Ok(())
    }

    /// The result rows.
    pub fn finish(self) -> QueryResult {
        let query = self.query.clone();
        let columns = query.column_names();
        let plan = query.plan();
        let mut rows: Vec<(Vec<Key>, Vec<serde_json::Value>)> = if plan.aggregate {
            self.finish_groups(plan)
        } else {
            self.rows
                .into_iter()
                .map(|(s, v)| (s, v.iter().map(Key::to_json).collect()))
                .collect()
        };
        let bucketed = plan.bucket.is_some();
        rows.sort_by(|(a, _), (b, _)| {
            let mut k = 0;
            let mut o = Ordering::Equal;
            if bucketed && plan.aggregate {
                o = a[0].sort_cmp(&b[0]);
                k = 1;
            }
            for (i, (x, y)) in a.iter().zip(b).enumerate().skip(k) {
                if o != Ordering::Equal {
                    break;
                }
                let desc = plan.order.get(i - k).is_some_and(|(_, d)| *d);
                o = if desc { y.sort_cmp(x) } else { x.sort_cmp(y) };
            }
            o
        });
        if let Some(l) = plan.limit {
            rows.truncate(l);
        }
        QueryResult {
            columns,
            rows: rows.into_iter().map(|(_, r)| r).collect(),
        }
    }

    fn finish_groups(mut self, plan: &Plan) -> Vec<(Vec<Key>, Vec<serde_json::Value>)> {
        if self.groups.is_empty() && plan.keys.is_empty() && plan.bucket.is_none() {
            let states = plan.aggs.iter().map(|a| AggState::new(a.kind)).collect();
            self.groups.insert(Vec::new(), states);
        }
        let mut out = Vec::with_capacity(self.groups.len());
        for (keys, states) in self.groups {
            let aggs: Vec<Key> = states
                .into_iter()
                .zip(&plan.aggs)
                .map(|(s, a)| s.finish(a.p))
                .collect();
            let cx = Cx {
                now: self.now,
                scope: None,
                row: Some((&aggs, &keys)),
            };
            if let Some(h) = &plan.having {
                if !matches!(eval::<crate::Event>(h, None, cx), Value::Bool(true)) {
                    continue;
                }
            }
            let key = |x| Key::from_value(&eval::<crate::Event>(x, None, cx));
            let mut sort = Vec::new();
            let mut row = Vec::new();
            if plan.bucket.is_some() {
                sort.push(keys[0].clone());
                row.push(match keys[0] {
                    Key::Int(t) => serde_json::Value::String(format_timestamp(Timestamp(t as i64))),
                    _ => serde_json::Value::Null,
                });
            }
            if plan.order.is_empty() {
                sort.extend(keys.iter().skip(sort.len()).cloned());
            } else {
                sort.extend(plan.order.iter().map(|(x, _)| key(x)));
                // Ties on the `order by` keys fall back to the group keys, so
                // the row order never depends on hash-map iteration.
                sort.extend(
                    keys.iter()
                        .skip(usize::from(plan.bucket.is_some()))
                        .cloned(),
                );
            }
            let offset = usize::from(plan.bucket.is_some());
            row.extend(plan.key_columns.iter().map(|&j| keys[j + offset].to_json()));
            row.extend(plan.columns.iter().map(|c| key(&c.expr).to_json()));
            out.push((sort, row));
        }
        out
    }
}
