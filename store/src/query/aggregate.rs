//! Aggregate functions of queries and their mergeable running states.
//!
//! `count(*)`, `count(x)` (non-null values), `distinct(x)` (count of distinct
//! non-null values), `min`, `max`, `mean`, `sum` (numbers; exact integer sums
//! while they fit), `percentile(x, p)` (nearest rank). Every state merges
//! with another of the same call, so scans can run in parallel.

use std::collections::HashSet;

use super::ast::Expr;
use super::value::{Key, Num, Value};

/// Which aggregate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AggKind {
    Count,
    Distinct,
    Min,
    Max,
    Mean,
    Sum,
    Percentile,
}

impl AggKind {
    /// The aggregate named `name`, any case.
    pub(crate) fn lookup(name: &str) -> Option<AggKind> {
        const ALL: [(&str, AggKind); 7] = [
            ("count", AggKind::Count),
            ("distinct", AggKind::Distinct),
            ("min", AggKind::Min),
            ("max", AggKind::Max),
            ("mean", AggKind::Mean),
            ("sum", AggKind::Sum),
            ("percentile", AggKind::Percentile),
        ];
        ALL.iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, k)| *k)
    }
}

/// One aggregate call found in a query (`arg` is `None` for `count(*)`).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct AggCall {
    pub kind: AggKind,
    pub arg: Option<Expr>,
    /// The percentile, 0–100.
    pub p: f64,
    /// The call as written, for column names.
    pub text: String,
}

/// The running state of one aggregate in one group.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub(crate) enum AggState {
    Count(u64),
    Distinct(HashSet<Key>),
    Min(Option<Num>),
    Max(Option<Num>),
    Mean(f64, u64),
    Sum(Option<Num>),
    Percentile(Vec<f64>),
}

fn add(a: Num, b: Num) -> Num {
    match (a, b) {
        (Num::Int(x), Num::Int(y)) => x
            .checked_add(y)
            .map_or(Num::Float(x as f64 + y as f64), Num::Int),
        (x, y) => Num::Float(x.as_f64() + y.as_f64()),
    }
}

fn pick(a: Option<Num>, b: Option<Num>, want_max: bool) -> Option<Num> {
    match (a, b) {
        (Some(x), Some(y)) => {
            let y_wins = x
                .cmp_num(y)
                .is_some_and(|o| if want_max { o.is_lt() } else { o.is_gt() });
            Some(if y_wins { y } else { x })
        }
        (x, y) => x.or(y),
    }
}

impl AggState {
    /// The empty state for `kind`.
    pub(crate) fn new(kind: AggKind) -> AggState {
        match kind {
            AggKind::Count => AggState::Count(0),
            AggKind::Distinct => AggState::Distinct(HashSet::new()),
            AggKind::Min => AggState::Min(None),
            AggKind::Max => AggState::Max(None),
            AggKind::Mean => AggState::Mean(0.0, 0),
            AggKind::Sum => AggState::Sum(None),
            AggKind::Percentile => AggState::Percentile(Vec::new()),
        }
    }

    /// Whether this is a state of aggregate `kind` (a partial result from
    /// another node is checked before it is merged).
    pub(crate) fn is_of(&self, kind: AggKind) -> bool {
        matches!(
            (self, kind),
            (AggState::Count(_), AggKind::Count)
                | (AggState::Distinct(_), AggKind::Distinct)
                | (AggState::Min(_), AggKind::Min)
                | (AggState::Max(_), AggKind::Max)
                | (AggState::Mean(..), AggKind::Mean)
                | (AggState::Sum(_), AggKind::Sum)
                | (AggState::Percentile(_), AggKind::Percentile)
        )
    }

    /// Folds in one event's argument value (`None` for `count(*)`).
    pub(crate) fn update(&mut self, v: Option<&Value<'_>>) {
        let num = match v {
            Some(Value::Num(n)) => Some(*n),
            _ => None,
        };
        match self {
            AggState::Count(n) => {
                if v.is_none_or(|v| !v.is_nullish()) {
                    *n += 1;
                }
            }
            AggState::Distinct(set) => {
                if let Some(v) = v.filter(|v| !v.is_nullish()) {
                    let k = Key::from_value(v);
                    if !set.contains(&k) {
                        set.insert(k);
                    }
                }
            }
            AggState::Min(m) => *m = pick(*m, num, false),
            AggState::Max(m) => *m = pick(*m, num, true),
            AggState::Mean(sum, n) => {
                if let Some(x) = num {
                    *sum += x.as_f64();
                    *n += 1;
                }
            }
            AggState::Sum(s) => {
                if let Some(x) = num {
                    *s = Some(s.map_or(x, |s| add(s, x)));
                }
            }
            AggState::Percentile(xs) => xs.extend(num.map(Num::as_f64)),
        }
    }

    /// Merges another state of the same aggregate into this one.
    pub(crate) fn merge(&mut self, other: AggState) {
        match (self, other) {
            (AggState::Count(a), AggState::Count(b)) => *a += b,
            (AggState::Distinct(a), AggState::Distinct(b)) => a.extend(b),
            (AggState::Min(a), AggState::Min(b)) => *a = pick(*a, b, false),
            (AggState::Max(a), AggState::Max(b)) => *a = pick(*a, b, true),
            (AggState::Mean(s, n), AggState::Mean(s2, n2)) => {
                *s += s2;
                *n += n2;
            }
            (AggState::Sum(a), AggState::Sum(b)) => {
                *a = match (*a, b) {
                    (Some(x), Some(y)) => Some(add(x, y)),
                    (x, y) => x.or(y),
                }
            }
            (AggState::Percentile(a), AggState::Percentile(b)) => a.extend(b),
            _ => {}
        }
    }

    /// The final value (`Null` when nothing was aggregated, except counts).
    pub(crate) fn finish(self, p: f64) -> Key {
        let num = |n: Option<Num>| n.map_or(Key::Null, |n| Key::from_value(&Value::Num(n)));
        match self {
            AggState::Count(n) => Key::Int(n as i128),
            AggState::Distinct(set) => Key::Int(set.len() as i128),
            AggState::Min(m) | AggState::Max(m) | AggState::Sum(m) => num(m),
            AggState::Mean(_, 0) => Key::Null,
            AggState::Mean(s, n) => num(Some(Num::Float(s / n as f64))),
            AggState::Percentile(mut xs) => {
                if xs.is_empty() {
                    return Key::Null;
                }
                xs.sort_by(f64::total_cmp);
                let rank = (p / 100.0 * xs.len() as f64).ceil() as usize;
                num(Some(Num::Float(xs[rank.clamp(1, xs.len()) - 1])))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(kind: AggKind, xs: &[i128], p: f64) -> Key {
        let (mut a, mut b) = (AggState::new(kind), AggState::new(kind));
        for (i, x) in xs.iter().enumerate() {
            let v = Value::Num(Num::Int(*x));
            if i % 2 == 0 {
                a.update(Some(&v))
            } else {
                b.update(Some(&v))
            }
        }
        a.merge(b);
        a.finish(p)
    }

    #[test]
    fn aggregates_merge() {
        let xs = [5, 1, 4, 1, 3];
        assert_eq!(run(AggKind::Count, &xs, 0.0), Key::Int(5));
        assert_eq!(run(AggKind::Distinct, &xs, 0.0), Key::Int(4));
        assert_eq!(run(AggKind::Min, &xs, 0.0), Key::Int(1));
        assert_eq!(run(AggKind::Max, &xs, 0.0), Key::Int(5));
        assert_eq!(run(AggKind::Sum, &xs, 0.0), Key::Int(14));
        assert_eq!(
            run(AggKind::Mean, &[1, 2], 0.0),
            Key::Float(1.5f64.to_bits())
        );
        assert_eq!(run(AggKind::Percentile, &xs, 50.0), Key::Int(3));
        assert_eq!(run(AggKind::Percentile, &xs, 100.0), Key::Int(5));
        assert_eq!(run(AggKind::Mean, &[], 0.0), Key::Null);
    }
}
