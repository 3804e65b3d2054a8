//! The per-fault-kind table a chaos suite prints.

use std::collections::BTreeMap;

use super::Outcome;

/// One row per fault kind: runs, events acknowledged, lost, set aside,
/// invariant violations, unexpected answers (a status other than 201, 503
/// or none); then every violation and the first unexpected answers.
pub fn table(outcomes: &[Outcome]) -> String {
    let mut rows: BTreeMap<&str, [usize; 6]> = BTreeMap::new();
    for o in outcomes {
        let r = rows.entry(o.schedule.kind_name()).or_default();
        r[0] += 1;
        r[1] += o.acked;
        r[2] += o.lost;
        r[3] += o.set_aside;
        r[4] += o.violations.len();
        r[5] += o.unexpected.len();
    }
    let mut out = format!(
        "{:<18} {:>5} {:>10} {:>6} {:>10} {:>11} {:>11}\n",
        "fault", "runs", "acked", "lost", "set aside", "violations", "unexpected"
    );
    for (kind, r) in &rows {
        out.push_str(&format!(
            "{kind:<18} {:>5} {:>10} {:>6} {:>10} {:>11} {:>11}\n",
            r[0], r[1], r[2], r[3], r[4], r[5]
        ));
    }
    let total = rows.values().fold([0; 6], |mut t, r| {
        t.iter_mut().zip(r).for_each(|(t, r)| *t += r);
        t
    });
    out.push_str(&format!(
        "{:<18} {:>5} {:>10} {:>6} {:>10} {:>11} {:>11}\n",
        "total", total[0], total[1], total[2], total[3], total[4], total[5]
    ));
    for o in outcomes {
        for v in &o.violations {
            out.push_str(&format!(
                "VIOLATION ({} seed {:#x}): {v}\n",
                o.schedule.kind_name(),
                o.schedule.seed
            ));
        }
        for u in o.unexpected.iter().take(5) {
            out.push_str(&format!(
                "unexpected answer ({} seed {:#x}): {u}\n",
                o.schedule.kind_name(),
                o.schedule.seed
            ));
        }
    }
    out
}
