//! Post-parse compilation: wildcard lifting and pruning facts.
//!
//! `A[?] = 1` means "some element of `A` equals 1": the smallest predicate
//! holding a `[?]`/`[*]` path becomes an explicit [`Expr::Quant`] over the
//! array, with the element bound at a fixed depth. Pruning facts (time
//! bounds, required severities) come from top-level `and`-ed conditions.

use super::ast::{Builtin, CmpOp, Expr, Root, Seg};
use super::error::{ByteError, PResult};
use super::eval::eval_const;
use super::levels::severity_of;
use super::value::{Num, Value};

/// Quantifiers allowed around one predicate.
const MAX_QUANTIFIERS: usize = 8;

/// Rewrites `@Level` comparisons with known level names into [`Expr::LevelIn`],
/// so matching reads the event's severity instead of comparing names.
pub(crate) fn optimize(e: &mut Expr) {
    if let Some((negated, set)) = level_set(e) {
        *e = Expr::LevelIn { set, negated };
        return;
    }
    e.children_mut(&mut optimize);
}

fn level_set(e: &Expr) -> Option<(bool, [bool; 6])> {
    match e {
        Expr::Cmp {
            op: op @ (CmpOp::Eq | CmpOp::Ne),
            l,
            r,
            ..
        } => {
            let lit = match (&**l, &**r) {
                (Expr::Builtin(Builtin::Level), x) | (x, Expr::Builtin(Builtin::Level)) => x,
                _ => return None,
            };
            let s = level_literal(lit)?;
            Some((*op == CmpOp::Ne, std::array::from_fn(|i| i == s)))
        }
        Expr::In {
            expr,
            list,
            negated,
            ..
        } if **expr == Expr::Builtin(Builtin::Level) => {
            let mut set = [false; 6];
            for item in list {
                set[level_literal(item)?] = true;
            }
            Some((*negated, set))
        }
        _ => None,
    }
}

/// Lifts wildcards in `e` (whose enclosing quantifiers number `depth`).
pub(crate) fn lift(e: &mut Expr, depth: usize) -> PResult<()> {
    match e {
        Expr::And(v) | Expr::Or(v) => v.iter_mut().try_for_each(|c| lift(c, depth)),
        Expr::Not(c) => lift(c, depth),
        Expr::Quant { .. } => Ok(()),
        _ => {
            let node = std::mem::replace(e, Expr::Null);
            *e = lift_point(node, depth)?;
            Ok(())
        }
    }
}

fn lift_point(mut node: Expr, depth: usize) -> PResult<Expr> {
    let mut found = None;
    take_wildcard(&mut node, depth, &mut found);
    match found {
        None => Ok(node),
        Some((array, all, pos)) => {
            if depth >= MAX_QUANTIFIERS {
                return Err(ByteError::new(pos, "too many wildcards in one condition"));
            }
            let body = lift_point(node, depth + 1)?;
            Ok(Expr::Quant {
                all,
                array: Box::new(array),
                body: Box::new(body),
                depth,
            })
        }
    }
}

/// Replaces the first wildcard path in `e` by a path from the bound element,
/// reporting (array expression, is `[*]`, position).
fn take_wildcard(e: &mut Expr, depth: usize, found: &mut Option<(Expr, bool, usize)>) {
    if found.is_some() || matches!(e, Expr::Quant { .. }) {
        return;
    }
    if let Expr::Path { root, segs, pos } = e {
        if let Some(k) = segs.iter().position(|s| matches!(s, Seg::Any | Seg::All)) {
            let all = segs[k] == Seg::All;
            let array = Expr::Path {
                root: root.clone(),
                segs: segs[..k].into(),
                pos: *pos,
            };
            *found = Some((array, all, pos.0));
            *root = Root::Bound(depth);
            *segs = segs[k + 1..].into();
        }
        return;
    }
    e.children_mut(&mut |c| take_wildcard(c, depth, found));
}

fn conjuncts(e: &Expr) -> &[Expr] {
    match e {
        Expr::And(v) => v,
        e => std::slice::from_ref(e),
    }
}

fn const_nanos(e: &Expr, now: i64, round_up: bool) -> Option<i128> {
    if !e.is_constant() {
        return None;
    }
    match eval_const(e, now) {
        Value::Num(Num::Int(i)) => Some(i),
        Value::Num(Num::Float(f)) if f.is_finite() && f.abs() < 1e30 => {
            Some(if round_up { f.ceil() } else { f.floor() } as i128)
        }
        _ => None,
    }
}

/// Inclusive `(earliest, latest)` timestamps (ns) any match can have.
pub(crate) fn time_bounds(e: &Expr, now: i64) -> (Option<i128>, Option<i128>) {
    let (mut lo, mut hi): (Option<i128>, Option<i128>) = (None, None);
    for c in conjuncts(e) {
        let Expr::Cmp { op, l, r, .. } = c else {
            continue;
        };
        let (op, other) = match (&**l, &**r) {
            (Expr::Builtin(Builtin::Timestamp), o) => (*op, o),
            (o, Expr::Builtin(Builtin::Timestamp)) => (op.flipped(), o),
            _ => continue,
        };
        let up = matches!(op, CmpOp::Gt | CmpOp::Ge);
        let Some(x) = const_nanos(other, now, up) else {
            continue;
        };
        let (new_lo, new_hi) = match op {
            CmpOp::Gt => (Some(x.saturating_add(1)), None),
            CmpOp::Ge => (Some(x), None),
            CmpOp::Lt => (None, Some(x.saturating_sub(1))),
            CmpOp::Le => (None, Some(x)),
            CmpOp::Eq => (Some(x), Some(x)),
            CmpOp::Ne => (None, None),
        };
        lo = lo.max(new_lo);
        hi = match (hi, new_hi) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }
    (lo, hi)
}

fn level_literal(e: &Expr) -> Option<usize> {
    match e {
        Expr::Str(s) => severity_of(s).map(|s| s as usize),
        _ => None,
    }
}

/// Severities an event must have to match, from `@Level` conditions.
pub(crate) fn severity_requirement(e: &Expr) -> Option<[bool; 6]> {
    match e {
        Expr::And(v) => v
            .iter()
            .filter_map(severity_requirement)
            .reduce(|a, b| std::array::from_fn(|i| a[i] && b[i])),
        Expr::Or(v) => {
            let mut set = [false; 6];
            for c in v {
                let s = severity_requirement(c)?;
                set.iter_mut().zip(s).for_each(|(a, b)| *a |= b);
            }
            Some(set)
        }
        Expr::LevelIn { set, negated } => Some(std::array::from_fn(|i| set[i] != *negated)),
        Expr::Cmp {
            op: CmpOp::Eq,
            l,
            r,
            ..
        } => {
            let lit = match (&**l, &**r) {
                (Expr::Builtin(Builtin::Level), x) | (x, Expr::Builtin(Builtin::Level)) => x,
                _ => return None,
            };
            let s = level_literal(lit)?;
            Some(std::array::from_fn(|i| i == s))
        }
        Expr::In {
            expr,
            list,
            negated: false,
            ..
        } if **expr == Expr::Builtin(Builtin::Level) => {
            let mut set = [false; 6];
            for item in list {
                set[level_literal(item)?] = true;
            }
            Some(set)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::super::parser::parse_filter_expr;
    use super::*;

    fn lifted(s: &str) -> Expr {
        let mut e = parse_filter_expr(s).unwrap();
        lift(&mut e, 0).unwrap();
        e
    }

    #[test]
    fn wildcards_become_quantifiers() {
        let e = lifted("A[?].B[?] = 1");
        let Expr::Quant { depth: 0, body, .. } = e else {
            panic!("{e:?}")
        };
        assert!(matches!(*body, Expr::Quant { depth: 1, .. }));
        assert!(matches!(lifted("not A[*] > 2"), Expr::Not(_)));
    }

    #[test]
    fn time_bounds_from_conjuncts() {
        let e = lifted("@Timestamp > Now() - 1h and @Timestamp <= 5000000000000 and A = 1");
        let h = 3_600_000_000_000i128;
        assert_eq!(
            time_bounds(&e, 10 * h as i64),
            (Some(9 * h + 1), Some(5_000_000_000_000))
        );
        assert_eq!(time_bounds(&lifted("@Timestamp > 1 or A"), 0), (None, None));
    }

    #[test]
    fn severity_from_level_conditions() {
        let one = |i: usize| -> [bool; 6] { std::array::from_fn(|k| k == i) };
        assert_eq!(
            severity_requirement(&lifted("@Level = 'Error' and A = 1")),
            Some(one(4))
        );
        assert_eq!(
            severity_requirement(&lifted("@Level in ['warn', 'ERROR']")),
            Some([false, false, false, true, true, false])
        );
        assert_eq!(
            severity_requirement(&lifted("@Level = 'fatal' or @Level = 'err'")),
            Some([false, false, false, false, true, true])
        );
        assert_eq!(
            severity_requirement(&lifted("@Level = 'Error' or A = 1")),
            None
        );
        assert_eq!(severity_requirement(&lifted("@Level = 'custom'")), None);
    }
}
