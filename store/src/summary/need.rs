//! [`Need`]: what a block must hold for a filter to match one of its
//! events, tested against the block's [`BlockSummary`].
//!
//! A need is conservative: when it says no, no event of the block can
//! match; when it says yes, the block is scanned as before. `Anything`
//! stands for every condition the summaries cannot judge.

use std::cmp::Ordering;

use super::BlockSummary;
use crate::query::{CmpOp, Num};

/// A condition on a block's summary.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Need {
    /// Any block may match.
    Anything,
    /// Every part holds.
    All(Vec<Need>),
    /// Some part holds (none: no block matches).
    AnyOf(Vec<Need>),
    /// The token filter may hold this key.
    Key(u64),
    /// Some event has this top-level property (by unescaped name).
    Property(Box<str>),
    /// Some event's property `name` is a number `x` with `x op value`.
    Number {
        /// The property.
        name: Box<str>,
        /// The comparison, the property on its left.
        op: CmpOp,
        /// The constant on its right.
        value: Num,
    },
}

impl Need {
    /// Every one of `parts`, flattened (`Anything` when none is left).
    pub(crate) fn all(parts: Vec<Need>) -> Need {
        let mut out = Vec::with_capacity(parts.len());
        for p in parts {
            match p {
                Need::Anything => {}
                Need::All(inner) => out.extend(inner),
                p => out.push(p),
            }
        }
        match out.len() {
            0 => Need::Anything,
            1 => out.pop().expect("one part"),
            _ => Need::All(out),
        }
    }

    /// One of `parts` (`Anything` when one of them is).
    pub(crate) fn any_of(parts: Vec<Need>) -> Need {
        let mut out = Vec::with_capacity(parts.len());
        for p in parts {
            match p {
                Need::Anything => return Need::Anything,
                Need::AnyOf(inner) => out.extend(inner),
                p => out.push(p),
            }
        }
        match out.len() {
            1 => out.pop().expect("one part"),
            _ => Need::AnyOf(out),
        }
    }

    /// Whether a block with summary `s` may hold a match.
    pub(crate) fn admits(&self, s: &BlockSummary) -> bool {
        match self {
            Need::Anything => true,
            Need::All(parts) => parts.iter().all(|p| p.admits(s)),
            Need::AnyOf(parts) => parts.iter().any(|p| p.admits(s)),
            Need::Key(k) => s.may_hold_key(*k),
            Need::Property(name) => s.property(name).is_some(),
            Need::Number { name, op, value } => s
                .property(name)
                .and_then(|p| p.range)
                .is_some_and(|(min, max)| range_may_hold(min, max, *op, *value)),
        }
    }
}

/// Whether some number `x` with `min <= x <= max` can have `x op value`.
pub(crate) fn range_may_hold(min: Num, max: Num, op: CmpOp, value: Num) -> bool {
    let holds = |x: Num, ok: fn(Ordering) -> bool| x.cmp_num(value).is_none_or(ok);
    match op {
        CmpOp::Eq => holds(min, Ordering::is_le) && holds(max, Ordering::is_ge),
        CmpOp::Ne => {
            !(min.cmp_num(value) == Some(Ordering::Equal)
                && max.cmp_num(value) == Some(Ordering::Equal))
        }
        CmpOp::Lt => holds(min, Ordering::is_lt),
        CmpOp::Le => holds(min, Ordering::is_le),
        CmpOp::Gt => holds(max, Ordering::is_gt),
        CmpOp::Ge => holds(max, Ordering::is_ge),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn combinators_flatten_and_absorb() {
        let k = |x| Need::Key(x);
        assert_eq!(Need::all(vec![]), Need::Anything);
        assert_eq!(Need::all(vec![Need::Anything, k(1)]), k(1));
        assert_eq!(
            Need::all(vec![Need::All(vec![k(1), k(2)]), k(3)]),
            Need::All(vec![k(1), k(2), k(3)])
        );
        assert_eq!(Need::any_of(vec![k(1), Need::Anything]), Need::Anything);
        assert_eq!(Need::any_of(vec![]), Need::AnyOf(vec![]));
        assert_eq!(
            Need::any_of(vec![Need::AnyOf(vec![k(1)]), k(2)]),
            Need::AnyOf(vec![k(1), k(2)])
        );
    }

    #[test]
    fn ranges_rule_out_only_what_no_value_inside_can_satisfy() {
        let (lo, hi) = (Num::Int(200), Num::Float(500.5));
        let may = |op, v| range_may_hold(lo, hi, op, v);
        assert!(may(CmpOp::Eq, Num::Int(200)));
        assert!(may(CmpOp::Eq, Num::Float(500.5)));
        assert!(!may(CmpOp::Eq, Num::Int(501)));
        assert!(!may(CmpOp::Eq, Num::Float(199.9)));
        assert!(may(CmpOp::Ge, Num::Float(500.5)));
        assert!(!may(CmpOp::Gt, Num::Float(500.5)));
        assert!(may(CmpOp::Gt, Num::Int(500)));
        assert!(!may(CmpOp::Lt, Num::Int(200)));
        assert!(may(CmpOp::Le, Num::Int(200)));
        assert!(may(CmpOp::Ne, Num::Int(200)));
        let one = Num::Int(7);
        assert!(!range_may_hold(one, one, CmpOp::Ne, Num::Float(7.0)));
        assert!(range_may_hold(one, one, CmpOp::Ne, Num::Int(8)));
    }
}
