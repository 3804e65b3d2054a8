//! Chaos harness (issues #8, #15): a cluster of real `skein` processes —
//! two nodes (the guide's layout) or three (automatic fail-over, durable
//! acknowledgements) — on a real PostgreSQL metastore, under continuous ingestion from several
//! clients that record every acknowledged event, while a seeded schedule
//! injects faults ([`faults::Fault`]). Once the cluster has settled, the
//! named invariants in [`invariants`] are checked and a run's
//! [`Outcome`] says how many events were acknowledged, lost (never
//! allowed), set aside as a divergent tail (kept, not lost) and which
//! invariants were violated. [`report::table`] prints one row per fault kind.
//!
//! ```ignore
//! let outcome = chaos::run(Schedule { kind: Some(Fault::Partition), seed: 7, faults: 2, nodes: 2 });
//! ```

pub mod clients;
pub mod disk;
pub mod faults;
pub mod invariants;
pub mod monitor;
pub mod report;
pub mod rig;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use faults::Fault;
use invariants::{Evidence, Stored};
use rig::Rig;
use skein_store::dataset::Rng;

use crate::node::Node;

/// What one run does.
#[derive(Clone, Copy, Debug)]
pub struct Schedule {
    /// The fault kind (None: each fault drawn at random).
    pub kind: Option<Fault>,
    /// The PRNG seed (printed, so a run can be replayed).
    pub seed: u64,
    /// How many faults to inject.
    pub faults: usize,
    /// How many nodes: 2 for [`Fault::ALL`]'s kinds, 3 (or more) for
    /// [`Fault::AUTO`]'s; a mixed run draws from the kinds of its size.
    pub nodes: usize,
}

impl Schedule {
    /// The kind's name in reports.
    pub fn kind_name(&self) -> &'static str {
        match (self.kind, self.nodes >= 3) {
            (Some(kind), _) => kind.name(),
            (None, false) => "mixed",
            (None, true) => "ha mixed",
        }
    }

    /// The kinds a mixed run of this size draws from.
    fn kinds(&self) -> &'static [Fault] {
        match self.nodes >= 3 {
            true => &Fault::AUTO,
            false => &Fault::ALL,
        }
    }
}

/// What one run found.
#[derive(Debug)]
pub struct Outcome {
    /// The schedule.
    pub schedule: Schedule,
    /// Events acknowledged.
    pub acked: usize,
    /// Acknowledged events found nowhere.
    pub lost: usize,
    /// Acknowledged events kept only in a set-aside divergent tail.
    pub set_aside: usize,
    /// Invariant violations, as `invariant: what`.
    pub violations: Vec<String>,
    /// Batches answered with an unexpected status (not 201/503/no answer).
    pub unexpected: Vec<String>,
    /// What each fault did.
    pub faults: Vec<String>,
    /// How long the run took.
    pub took: Duration,
}

/// Client threads per run.
const CLIENTS: usize = 3;

/// Runs one schedule end to end and checks every invariant.
pub fn run(schedule: Schedule) -> Outcome {
    let started = Instant::now();
    eprintln!(
        "chaos: {} seed {:#x}, {} faults, {} nodes",
        schedule.kind_name(),
        schedule.seed,
        schedule.faults,
        schedule.nodes
    );
    if let Some(kind) = schedule.kind {
        assert_eq!(
            kind.is_auto(),
            schedule.nodes >= 3,
            "{kind:?} runs on {} nodes",
            if kind.is_auto() { "3 or more" } else { "2" }
        );
    }
    let mut rng = Rng::new(schedule.seed);
    let mut rig = Rig::start(Fault::rig_options(schedule.kind, schedule.nodes));
    let watch = monitor::Monitor::start(rig.ports());
    let tag = format!("s{:x}", schedule.seed);
    let clients = clients::Clients::start(rig.ports(), CLIENTS, schedule.seed, &tag);
    let mut done = Vec::new();
    for _ in 0..schedule.faults {
        std::thread::sleep(Duration::from_millis(rng.between(800, 2500)));
        rig.check_running();
        let kinds = schedule.kinds();
        let kind = schedule
            .kind
            .unwrap_or_else(|| kinds[rng.below(kinds.len() as u64) as usize]);
        let line = kind.inject(&mut rig, &mut rng);
        eprintln!("chaos:   +{:.1}s {line}", started.elapsed().as_secs_f64());
        done.push(line);
    }
    // Ingestion goes on a little after the last fault.
    std::thread::sleep(Duration::from_millis(rng.between(800, 1500)));
    let history = clients.finish();
    let (unsettled, leader) = settle(&mut rig);
    let samples = watch.finish();
    let mut evidence = Evidence {
        acks: history.acks,
        on_leader: leader
            .map(|l| stored_events(&rig.cluster.nodes[l]))
            .unwrap_or_default(),
        set_aside: rig.cluster.nodes.iter().flat_map(set_aside_events).fold(
            HashMap::new(),
            |mut m, (id, s)| {
                m.entry(id).or_insert_with(Vec::new).push(s);
                m
            },
        ),
        samples,
        files: None,
        unsettled,
        lease_gaps: std::mem::take(&mut rig.lease_gaps),
        fenced: std::mem::take(&mut rig.fenced),
        recovered: std::mem::take(&mut rig.recovered),
        durable: rig.durable,
        crashes: Vec::new(),
        logs: Vec::new(),
        names: rig.cluster.nodes.iter().map(|n| n.name.clone()).collect(),
    };
    rig.check_running();
    for n in &mut rig.cluster.nodes {
        n.stop();
    }
    if let (None, Some(l)) = (&evidence.unsettled, leader) {
        // The leader's first, then every follower's.
        let order = std::iter::once(l).chain((0..rig.cluster.nodes.len()).filter(|&i| i != l));
        evidence.files = Some(
            order
                .map(|i| {
                    let n = &rig.cluster.nodes[i];
                    (n.name.clone(), n.stream_files())
                })
                .collect(),
        );
    }
    evidence.crashes = std::mem::take(&mut rig.crashes);
    evidence.logs = rig
        .cluster
        .nodes
        .iter()
        .map(|n| (n.name.clone(), n.log()))
        .collect();
    let violations: Vec<String> = invariants::check_all(&evidence)
        .into_iter()
        .flat_map(|(name, v)| v.into_iter().map(move |x| format!("{name}: {x}")))
        .collect();
    let outcome = Outcome {
        schedule,
        acked: evidence.acks.len(),
        lost: invariants::lost(&evidence).len(),
        set_aside: invariants::set_aside(&evidence),
        violations,
        unexpected: history.unexpected,
        faults: done,
        took: started.elapsed(),
    };
    for v in &outcome.violations {
        eprintln!("chaos: VIOLATION {v}");
    }
    if !outcome.violations.is_empty() {
        for (name, log) in &evidence.logs {
            eprintln!(
                "chaos: ---- {name}'s log (tail) ----\n{}",
                rig::tail(log, 60)
            );
        }
    }
    outcome
}

/// Waits (up to 90 s) until one node leads and every other follows at the
/// leader's generation, healthy. The leader's index, and why it did not
/// settle if it did not.
fn settle(rig: &mut Rig) -> (Option<String>, Option<usize>) {
    let started = Instant::now();
    loop {
        rig.check_running();
        match rig.cluster.settled() {
            Ok(l) => return (None, Some(l)),
            Err(why) if started.elapsed() > Duration::from_secs(90) => {
                return (Some(format!("after 90 s: {why}")), rig.cluster.leader());
            }
            Err(_) => std::thread::sleep(Duration::from_millis(100)),
        }
    }
}

/// A chaos event's id and stored form, from an event's JSON (API) shape.
fn from_api(event: &serde_json::Value) -> Option<(String, Stored)> {
    let props: HashMap<&str, &serde_json::Value> = event["Properties"]
        .as_array()?
        .iter()
        .filter_map(|p| Some((p["Name"].as_str()?, &p["Value"])))
        .collect();
    let id = props.get("ChaosId")?.as_str()?.to_owned();
    let check = props
        .get("Check")
        .and_then(|v| v.as_str())
        .unwrap_or("")
        .to_owned();
    let client = props
        .get("Client")
        .map(|v| v.to_string())
        .unwrap_or_default();
    Some((id, Stored { check, client }))
}

/// Every chaos event `node` (the leader) finds, page by page.
pub fn stored_events(node: &Node) -> HashMap<String, Vec<Stored>> {
    let mut out: HashMap<String, Vec<Stored>> = HashMap::new();
    for (id, s) in node.events(5000).iter().filter_map(from_api) {
        out.entry(id).or_default().push(s);
    }
    out
}

/// Every chaos event in `node`'s `Divergent/*.clef` files.
pub fn set_aside_events(node: &Node) -> Vec<(String, Stored)> {
    let dir = node.root().join("Divergent");
    let files = std::fs::read_dir(dir).map(|d| d.filter_map(Result::ok).collect::<Vec<_>>());
    let mut out = Vec::new();
    for f in files.unwrap_or_default() {
        if f.path().extension().is_none_or(|x| x != "clef") {
            continue;
        }
        let text = std::fs::read_to_string(f.path()).unwrap_or_default();
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let v: serde_json::Value = serde_json::from_str(line).unwrap_or_default();
            if let Some(id) = v["ChaosId"].as_str() {
                let check = v["Check"].as_str().unwrap_or("").to_owned();
                let client = v.get("Client").map(|c| c.to_string()).unwrap_or_default();
                out.push((id.to_owned(), Stored { check, client }));
            }
        }
    }
    out
}
