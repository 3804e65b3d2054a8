//! The invariants checked after every run, each a named function over the
//! run's [`Evidence`] returning the violations it found (empty: it holds).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use super::clients::{check_of, Ack};
use super::monitor::Sample;

/// One stored copy of a chaos event.
#[derive(Clone, Debug)]
pub struct Stored {
    /// Its `Check` property.
    pub check: String,
    /// Its `Client` property.
    pub client: String,
}

/// A store's `Stream` files: relative path → bytes, sorted.
pub type Files = Vec<(String, Vec<u8>)>;

/// A span in which one node may acknowledge nothing (an old leader cut
/// off, or frozen, past its lease).
#[derive(Clone, Debug)]
pub struct Fence {
    /// The node's name (as `X-Skein-Acked-By` says it).
    pub node: String,
    /// Requests sent from then …
    pub from: std::time::Instant,
    /// … until then.
    pub to: std::time::Instant,
    /// None: the node acknowledges none of them before `to` (no follower
    /// can reach it). Some(t): the node acknowledges none of them in term
    /// `t` or older, whenever answered, once any node was seen in a newer
    /// term (its lease ran out; it may only have renewed it had nobody
    /// taken the next term).
    pub term: Option<u64>,
}

/// Everything gathered once the cluster settled.
#[derive(Default)]
pub struct Evidence {
    /// Every acknowledged event.
    pub acks: Vec<Ack>,
    /// Every chaos event the leader finds, by id (each stored copy).
    pub on_leader: HashMap<String, Vec<Stored>>,
    /// Every chaos event in a `Divergent/*.clef` file of either node.
    pub set_aside: HashMap<String, Vec<Stored>>,
    /// Leadership samples.
    pub samples: Vec<Sample>,
    /// Every node's `Stream` files (name, files), the leader's first, once
    /// all were stopped at the same generation (None when a follower never
    /// caught up).
    pub files: Option<Vec<(String, Files)>>,
    /// Why the cluster did not settle, if it did not.
    pub unsettled: Option<String>,
    /// Spans in which the leader held no valid lease.
    pub lease_gaps: Vec<(std::time::Instant, std::time::Instant)>,
    /// Spans in which one node may acknowledge nothing.
    pub fenced: Vec<Fence>,
    /// When the cluster had recovered from each N-node fault (None: not
    /// within 60 s).
    pub recovered: Vec<Option<std::time::Instant>>,
    /// Whether every acknowledgement waited for a follower
    /// (`minimumAcknowledgingReplicas = 1`, the N-node rig).
    pub durable: bool,
    /// Processes that exited on their own.
    pub crashes: Vec<String>,
    /// Every node's log (name, text).
    pub logs: Vec<(String, String)>,
    /// Node names by index (as `X-Skein-Acked-By` and the samples name them).
    pub names: Vec<String>,
}

/// At most 10 items of a list, for messages.
fn some<T: std::fmt::Debug>(items: &[T]) -> String {
    format!(
        "{:?}{}",
        &items[..items.len().min(10)],
        if items.len() > 10 { " …" } else { "" }
    )
}

/// Acknowledged events that are neither on the leader nor set aside.
pub fn lost(e: &Evidence) -> Vec<&Ack> {
    e.acks
        .iter()
        .filter(|a| !e.on_leader.contains_key(&a.id) && !e.set_aside.contains_key(&a.id))
        .collect()
}

/// Acknowledged events missing on the leader but kept in a set-aside file.
pub fn set_aside(e: &Evidence) -> usize {
    e.acks
        .iter()
        .filter(|a| !e.on_leader.contains_key(&a.id) && e.set_aside.contains_key(&a.id))
        .count()
}

/// Every acknowledged event is searchable on the leader, or (when only a
/// killed leader held it) kept in a set-aside divergent tail. The follower
/// holds them too once at the leader's generation: see
/// [`follower_store_is_a_prefix_of_the_leaders`].
pub fn every_acknowledged_event_is_searchable(e: &Evidence) -> Vec<String> {
    let lost = lost(e);
    if lost.is_empty() {
        return Vec::new();
    }
    let t0 = e.acks.iter().map(|a| a.sent).min().unwrap();
    let detail: Vec<String> = lost
        .iter()
        .map(|a| {
            format!(
                "{} acked by node {} at +{:.2}s",
                a.id,
                a.node,
                (a.acked - t0).as_secs_f64()
            )
        })
        .collect();
    vec![format!(
        "{} acknowledged events lost: {}",
        lost.len(),
        some(&detail)
    )]
}

/// No event is stored twice (on the leader, or both on the leader and in
/// a set-aside tail), none is altered, and nothing stored was never sent.
pub fn no_event_is_stored_twice_or_altered(e: &Evidence) -> Vec<String> {
    let mut out = Vec::new();
    let twice: Vec<(&String, usize)> = e
        .on_leader
        .iter()
        .filter(|(_, v)| v.len() > 1)
        .map(|(k, v)| (k, v.len()))
        .collect();
    if !twice.is_empty() {
        out.push(format!(
            "{} events stored more than once: {}",
            twice.len(),
            some(&twice)
        ));
    }
    let both: Vec<&String> = e
        .set_aside
        .keys()
        .filter(|k| e.on_leader.contains_key(*k))
        .collect();
    if !both.is_empty() {
        out.push(format!(
            "{} events both on the leader and set aside as divergent: {}",
            both.len(),
            some(&both)
        ));
    }
    let altered: Vec<String> = e
        .on_leader
        .iter()
        .chain(&e.set_aside)
        .flat_map(|(id, v)| v.iter().map(move |s| (id, s)))
        .filter(|(id, s)| s.check != check_of(id) || s.client.is_empty())
        .map(|(id, s)| format!("{id}: {s:?}"))
        .collect();
    if !altered.is_empty() {
        out.push(format!(
            "{} events altered: {}",
            altered.len(),
            some(&altered)
        ));
    }
    out
}

/// Every follower's store equals the leader's, byte for byte, once all are
/// at the same generation (the non-panicking form of `assert_same_files`);
/// a follower that never reaches the leader's generation is a violation too.
pub fn follower_store_is_a_prefix_of_the_leaders(e: &Evidence) -> Vec<String> {
    if let Some(why) = &e.unsettled {
        return vec![format!("the cluster did not settle: {why}")];
    }
    let Some(files) = &e.files else {
        return vec!["no files compared".into()];
    };
    let [(leader_name, leader), followers @ ..] = &files[..] else {
        return vec!["no files compared".into()];
    };
    let names = |f: &[(String, Vec<u8>)]| f.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    let mut out = Vec::new();
    for (name, follower) in followers {
        if names(leader) != names(follower) {
            out.push(format!(
                "Stream files differ: leader {leader_name} {:?}, follower {name} {:?}",
                names(leader),
                names(follower)
            ));
            continue;
        }
        out.extend(
            leader
                .iter()
                .zip(follower)
                .filter(|((_, x), (_, y))| x != y)
                .map(|((file, _), _)| {
                    format!("{file} differs between leader {leader_name} and follower {name}")
                }),
        );
    }
    out
}

/// No two nodes acknowledged writes in the same term, and no write was
/// acknowledged in an older term once one had been acknowledged in a newer
/// term (from each 201's `X-Skein-Acked-Term` and `-By`, exactly); samples
/// taken within 150 ms of each other never show both nodes as leader of
/// one term, no term is logged as led by both, and a node's term never
/// goes back.
pub fn no_two_leaders_acknowledged_in_overlapping_terms(e: &Evidence) -> Vec<String> {
    let mut out = acknowledgements_in_overlapping_terms(&e.acks);
    if !e.samples.iter().any(|s| s.role == "Leader" && s.term != 0) {
        out.push("no sample showed a leader and its term: nothing to check".into());
    }
    let leaders: Vec<&Sample> = e.samples.iter().filter(|s| s.role == "Leader").collect();
    let mut seen = HashSet::new();
    for x in &leaders {
        for y in &leaders {
            let close = x.at.max(y.at) - x.at.min(y.at) < std::time::Duration::from_millis(150);
            if x.node < y.node && close && x.term == y.term && x.term != 0 && seen.insert(x.term) {
                out.push(format!(
                    "nodes {} and {} both led term {}",
                    x.node, y.node, x.term
                ));
            }
        }
    }
    // Each node logs every role it takes ("role changed: Leader in term N"):
    // no term may be led by both.
    let led = |log: &str| -> HashSet<u64> {
        log.lines()
            .filter_map(|l| l.split("role changed: Leader in term ").nth(1))
            .filter_map(|rest| rest.split_whitespace().next()?.parse().ok())
            .collect()
    };
    let terms: Vec<(&String, HashSet<u64>)> = e.logs.iter().map(|(n, l)| (n, led(l))).collect();
    for (i, (a, ta)) in terms.iter().enumerate() {
        for (b, tb) in &terms[i + 1..] {
            let mut both: Vec<&u64> = ta.intersection(tb).collect();
            both.sort();
            if !both.is_empty() {
                out.push(format!("{a} and {b} both logged leading terms {both:?}"));
            }
        }
    }
    let mut last: BTreeMap<usize, u64> = BTreeMap::new();
    for s in e.samples.iter().filter(|s| s.term != 0) {
        let prev = last.entry(s.node).or_insert(0);
        if s.term < *prev {
            out.push(format!(
                "node {}'s term went back from {prev} to {}",
                s.node, s.term
            ));
        }
        *prev = (*prev).max(s.term);
    }
    out
}

/// The exact check on every acknowledgement: each says its term and node;
/// one term has one node; and an acknowledgement in term `t` never arrives
/// for a request sent after one in a newer term was acknowledged.
pub fn acknowledgements_in_overlapping_terms(acks: &[Ack]) -> Vec<String> {
    let mut out = Vec::new();
    let unsaid: Vec<&str> = acks
        .iter()
        .filter(|a| a.term.is_none() || a.by.is_empty())
        .map(|a| a.id.as_str())
        .collect();
    if !unsaid.is_empty() {
        out.push(format!(
            "{} acknowledgements did not say their term and node: {}",
            unsaid.len(),
            some(&unsaid)
        ));
    }
    let mut by_term: BTreeMap<u64, BTreeSet<&str>> = BTreeMap::new();
    for a in acks {
        if let Some(t) = a.term {
            by_term.entry(t).or_default().insert(&a.by);
        }
    }
    for (term, nodes) in &by_term {
        if nodes.len() > 1 {
            out.push(format!("term {term} was acknowledged by {nodes:?}"));
        }
    }
    // The earliest acknowledgement of each term; then any request sent
    // after a newer term's first acknowledgement yet acked in an older term.
    let mut first: BTreeMap<u64, &Ack> = BTreeMap::new();
    for a in acks {
        if let Some(t) = a.term {
            let f = first.entry(t).or_insert(a);
            if a.acked < f.acked {
                *f = a;
            }
        }
    }
    let late: Vec<String> = acks
        .iter()
        .filter_map(|a| {
            let t = a.term?;
            let newer = first
                .range(t + 1..)
                .map(|(_, f)| *f)
                .find(|f| f.acked < a.sent)?;
            Some(format!(
                "{} acked by {} in term {t}, sent after {} was acked by {} in term {}",
                a.id,
                a.by,
                newer.id,
                newer.by,
                newer.term.unwrap_or(0)
            ))
        })
        .collect();
    if !late.is_empty() {
        out.push(format!(
            "{} writes acknowledged in an older term after a newer term's: {}",
            late.len(),
            some(&late)
        ));
    }
    out
}

/// A node told of a newer term (a sample shows it at term > t) acknowledges
/// nothing in term t afterwards: no request sent after that sample was
/// acknowledged by that node in an older term.
pub fn a_node_told_of_a_newer_term_acknowledges_nothing_in_its_old_one(
    e: &Evidence,
) -> Vec<String> {
    let stale: Vec<String> = e
        .acks
        .iter()
        .filter_map(|a| {
            let t = a.term?;
            let node = e.names.iter().position(|n| *n == a.by)?;
            let told = e
                .samples
                .iter()
                .find(|s| s.node == node && s.term > t && s.at < a.sent)?;
            Some(format!(
                "{} acked by {} in term {t}, sent {:.2}s after it reported term {}",
                a.id,
                a.by,
                (a.sent - told.at).as_secs_f64(),
                told.term
            ))
        })
        .collect();
    match stale.is_empty() {
        true => Vec::new(),
        false => vec![format!(
            "{} writes acknowledged in a term their node knew was over: {}",
            stale.len(),
            some(&stale)
        )],
    }
}

/// A leader that cannot renew its lease (its metastore link cut for longer
/// than the lease) refuses writes: no request sent after the lease ran out
/// and answered before the link healed was acknowledged.
pub fn a_leader_without_a_lease_acknowledges_nothing(e: &Evidence) -> Vec<String> {
    e.lease_gaps
        .iter()
        .filter_map(|(from, to)| {
            let acked: Vec<&str> = e
                .acks
                .iter()
                .filter(|a| a.sent >= *from && a.acked <= *to)
                .map(|a| a.id.as_str())
                .collect();
            (!acked.is_empty()).then(|| {
                format!(
                    "{} events acknowledged in a {:.1}s span without a lease: {}",
                    acked.len(),
                    (*to - *from).as_secs_f64(),
                    some(&acked)
                )
            })
        })
        .collect()
}

/// An old leader cut off from its followers, from PostgreSQL, or frozen
/// past its lease acknowledges nothing it must not (see [`Fence`]): with
/// `minimumAcknowledgingReplicas = 1` a leader no follower can reach holds
/// no acknowledgement, and a leader whose term is over (a newer one seen)
/// answers nothing that reached it after its lease in that term. Checked
/// by the node the answer names (`X-Skein-Acked-By`), whichever node the
/// client asked.
pub fn an_old_leader_acknowledges_nothing_once_cut_off(e: &Evidence) -> Vec<String> {
    e.fenced
        .iter()
        .filter_map(|f| {
            let bad: Vec<String> = e
                .acks
                .iter()
                .filter(|a| a.by == f.node && a.sent >= f.from && a.sent <= f.to)
                .filter(|a| match f.term {
                    None => a.acked <= f.to,
                    Some(t) => {
                        a.term.is_none_or(|at| at <= t)
                            && e.samples.iter().any(|s| s.term > t && s.at < a.acked)
                    }
                })
                .map(|a| format!("{} in term {:?}", a.id, a.term))
                .collect();
            (!bad.is_empty()).then(|| {
                format!(
                    "{} acknowledged {} events sent in a {:.1}s span in which it was cut off ({}): {}",
                    f.node,
                    bad.len(),
                    (f.to - f.from).as_secs_f64(),
                    match f.term {
                        None => "no follower reachable".to_owned(),
                        Some(t) => format!("its term {t} over"),
                    },
                    some(&bad)
                )
            })
        })
        .collect()
}

/// Writes succeed again after every fault: each recovery (a leader, every
/// other node its healthy follower) came within 60 s, and some request
/// sent after it was acknowledged.
pub fn writes_resume_after_every_fault(e: &Evidence) -> Vec<String> {
    e.recovered
        .iter()
        .enumerate()
        .filter_map(|(k, r)| match r {
            None => Some(format!(
                "the cluster did not recover within 60 s after fault {}",
                k + 1
            )),
            Some(at) => (!e.acks.iter().any(|a| a.sent >= *at)).then(|| {
                format!(
                    "nothing sent after the recovery from fault {} was acknowledged",
                    k + 1
                )
            }),
        })
        .collect()
}

/// With durable acknowledgements (`minimumAcknowledgingReplicas = 1`, the
/// N-node rig) no acknowledged event is even set aside: every one must be
/// on the leader after the run. A 201 came only once a follower held the
/// batch in its term; the election rule (`actors/src/cluster/election.rs`)
/// makes the next leader one at or past every position it polled, and
/// those include at least one follower holding the write, so the new
/// leader holds it and never diverges from it — an acknowledged event
/// found only in a `Divergent/*.clef` file means a leader was elected
/// behind an acknowledged write. (The two-node rig acknowledges on the
/// leader alone; what only a killed leader held is set aside there, kept,
/// not lost.)
pub fn no_acknowledged_event_is_set_aside_with_durable_acknowledgements(
    e: &Evidence,
) -> Vec<String> {
    let aside: Vec<&str> = e
        .acks
        .iter()
        .filter(|a| !e.on_leader.contains_key(&a.id) && e.set_aside.contains_key(&a.id))
        .map(|a| a.id.as_str())
        .collect();
    match e.durable && !aside.is_empty() {
        true => vec![format!(
            "{} acknowledged events only set aside, not on the leader: {}",
            aside.len(),
            some(&aside)
        )],
        false => Vec::new(),
    }
}

/// No process exited unless a fault killed it, and no log shows a panic.
pub fn nodes_never_crashed_on_input(e: &Evidence) -> Vec<String> {
    let mut out = e.crashes.clone();
    for (name, log) in &e.logs {
        if let Some(line) = log.lines().find(|l| l.contains("panicked")) {
            out.push(format!("{name} panicked: {line}"));
        }
    }
    out
}

/// Every invariant, by name, with its violations.
pub fn check_all(e: &Evidence) -> Vec<(&'static str, Vec<String>)> {
    vec![
        (
            "every_acknowledged_event_is_searchable",
            every_acknowledged_event_is_searchable(e),
        ),
        (
            "no_event_is_stored_twice_or_altered",
            no_event_is_stored_twice_or_altered(e),
        ),
        (
            "follower_store_is_a_prefix_of_the_leaders",
            follower_store_is_a_prefix_of_the_leaders(e),
        ),
        (
            "no_two_leaders_acknowledged_in_overlapping_terms",
            no_two_leaders_acknowledged_in_overlapping_terms(e),
        ),
        (
            "a_node_told_of_a_newer_term_acknowledges_nothing_in_its_old_one",
            a_node_told_of_a_newer_term_acknowledges_nothing_in_its_old_one(e),
        ),
        (
            "a_leader_without_a_lease_acknowledges_nothing",
            a_leader_without_a_lease_acknowledges_nothing(e),
        ),
        (
            "an_old_leader_acknowledges_nothing_once_cut_off",
            an_old_leader_acknowledges_nothing_once_cut_off(e),
        ),
        (
            "writes_resume_after_every_fault",
            writes_resume_after_every_fault(e),
        ),
        (
            "no_acknowledged_event_is_set_aside_with_durable_acknowledgements",
            no_acknowledged_event_is_set_aside_with_durable_acknowledgements(e),
        ),
        (
            "nodes_never_crashed_on_input",
            nodes_never_crashed_on_input(e),
        ),
    ]
}
