//! The faults a run injects, each at a moment the seeded schedule picks.
//! Every fault leaves every process running again (what it kills it
//! restarts), so a process found gone later exited on its own.
//!
//! [`Fault::ALL`] are the two-node rig's kinds (the guide's layout,
//! fail-over by hand); [`Fault::AUTO`] the N-node rig's (automatic
//! fail-over, durable acknowledgements), each followed by its recovery
//! (restart, SIGCONT, heal) and by waiting until the cluster has a leader
//! and every other node follows it, healthy ([`Rig::recover`]).

use std::time::{Duration, Instant};

use super::invariants::Fence;
use super::rig::{Rig, RigOptions};
use skein_store::dataset::Rng;

/// One kind of fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// kill -9 of the leader, restarted after a moment.
    KillLeader,
    /// kill -9 of the follower, restarted after a moment.
    KillFollower,
    /// SIGSTOP of either node, SIGCONT after up to 4 s.
    Pause,
    /// Every link between the nodes cut, healed after up to 5 s.
    Partition,
    /// `skein node demote --wait` on the leader.
    Demote,
    /// Either node's link to PostgreSQL cut for 3.5 to 7 s (longer than the
    /// 3 s lease), then healed.
    MetastorePartition,
    /// kill -9 of the leader, `skein node lead` on the follower, the old
    /// leader restarted (it must follow, setting aside what only it held).
    ManualFailover,
    /// The metastore's PostgreSQL server stopped (clean shut-down or a
    /// crash, `pg_ctl stop -m immediate`) for 0.5 to 6 s, then started.
    PostgresRestart,
    /// Either node's disk filled below its free-space floor for 1 to 4 s,
    /// then freed (the node must refuse writes meanwhile and resume alone).
    DiskFull,
    /// Either node's fsyncs delayed by 50 to 800 ms for 2 to 5 s.
    SlowDisk,
    /// Either node's disk loses power while its fsyncs stall (every write
    /// no completed fsync covered is taken back) and the node is killed at
    /// once; power comes back and the node restarts after a moment.
    PowerLoss,
    /// (N nodes) kill -9 of the leader; the others elect a new one by
    /// themselves; the old leader restarted once they have.
    AutoKillLeader,
    /// (N nodes) the same, its whole storage root deleted before it comes
    /// back (a lost disk replaced: it returns empty and catches up).
    AutoWipeLeader,
    /// (N nodes) SIGSTOP of the leader for 4 to 6 s (past its 3 s lease:
    /// the others elect), then SIGCONT (it must step down).
    AutoPauseLeader,
    /// (N nodes) the leader's link to PostgreSQL cut for 4 to 7 s (it
    /// cannot renew its lease: the others elect), then healed.
    AutoMetastoreCut,
    /// (N nodes) the leader cut from every follower, both ways, for 2 to
    /// 6 s, PostgreSQL still reachable: it keeps its lease, so nobody
    /// elects, and with `minimumAcknowledgingReplicas = 1` it acknowledges
    /// nothing until healed.
    AutoIsolateLeader,
}

impl Fault {
    /// Every kind, in table order.
    pub const ALL: [Fault; 11] = [
        Fault::KillLeader,
        Fault::KillFollower,
        Fault::Pause,
        Fault::Partition,
        Fault::MetastorePartition,
        Fault::Demote,
        Fault::ManualFailover,
        Fault::PostgresRestart,
        Fault::DiskFull,
        Fault::SlowDisk,
        Fault::PowerLoss,
    ];

    /// The N-node rig's kinds (automatic fail-over), in table order.
    pub const AUTO: [Fault; 5] = [
        Fault::AutoKillLeader,
        Fault::AutoWipeLeader,
        Fault::AutoPauseLeader,
        Fault::AutoMetastoreCut,
        Fault::AutoIsolateLeader,
    ];

    /// Whether this kind needs the N-node rig (automatic fail-over).
    pub fn is_auto(self) -> bool {
        Fault::AUTO.contains(&self)
    }

    /// What a run of this kind (None: mixed) on `nodes` nodes needs its
    /// cluster to stand on. The N-node rig's runs stand on the shared
    /// PostgreSQL server and ordinary disks.
    pub fn rig_options(kind: Option<Fault>, nodes: usize) -> RigOptions {
        if nodes >= 3 {
            return RigOptions {
                nodes,
                ..RigOptions::default()
            };
        }
        RigOptions {
            private_postgres: kind.is_none_or(|k| k == Fault::PostgresRestart),
            small_disks: kind.is_none_or(|k| k == Fault::DiskFull),
            slow_disks: kind.is_none_or(|k| matches!(k, Fault::SlowDisk | Fault::PowerLoss)),
            nodes: 2,
        }
    }

    /// The kind's name in reports.
    pub fn name(self) -> &'static str {
        match self {
            Fault::KillLeader => "kill -9 leader",
            Fault::KillFollower => "kill -9 follower",
            Fault::Pause => "SIGSTOP/SIGCONT",
            Fault::Partition => "partition",
            Fault::MetastorePartition => "metastore cut",
            Fault::Demote => "demote --wait",
            Fault::ManualFailover => "manual fail-over",
            Fault::PostgresRestart => "PostgreSQL restart",
            Fault::DiskFull => "disk full",
            Fault::SlowDisk => "slow disk",
            Fault::PowerLoss => "power loss",
            Fault::AutoKillLeader => "ha kill leader",
            Fault::AutoWipeLeader => "ha kill+wipe",
            Fault::AutoPauseLeader => "ha pause leader",
            Fault::AutoMetastoreCut => "ha leader-PG cut",
            Fault::AutoIsolateLeader => "ha isolate leader",
        }
    }

    /// Injects the fault; one line saying what was done.
    pub fn inject(self, rig: &mut Rig, rng: &mut Rng) -> String {
        if self.is_auto() {
            let line = self.inject_auto(rig, rng);
            return format!("{line}; {}", rig.recover());
        }
        let leader = rig.cluster.wait_leader(Duration::from_secs(30));
        let l = leader.unwrap_or(0);
        let f = 1 - l;
        let names: Vec<String> = rig.cluster.nodes.iter().map(|n| n.name.clone()).collect();
        let name = |i: usize| names[i].clone();
        match self {
            Fault::KillLeader | Fault::KillFollower => {
                let i = if self == Fault::KillLeader { l } else { f };
                let down = Duration::from_millis(rng.between(0, 1500));
                rig.cluster.nodes[i].kill();
                std::thread::sleep(down);
                rig.restart(i);
                format!(
                    "kill -9 {} (leader {leader:?}), restarted after {down:?}",
                    name(i)
                )
            }
            Fault::Pause => {
                let i = rng.below(2) as usize;
                let frozen = Duration::from_millis(rng.between(300, 4000));
                rig.cluster.nodes[i].pause();
                std::thread::sleep(frozen);
                rig.cluster.nodes[i].resume();
                format!("SIGSTOP {} (leader {leader:?}) for {frozen:?}", name(i))
            }
            Fault::Partition => {
                let cut = Duration::from_millis(rng.between(500, 5000));
                rig.cluster.partition();
                std::thread::sleep(cut);
                rig.cluster.heal();
                format!("partition for {cut:?} (leader {leader:?})")
            }
            Fault::MetastorePartition => {
                let i = rng.below(2) as usize;
                let cut = Duration::from_millis(rng.between(3500, 7000));
                let at = Instant::now();
                rig.cluster.metastore_link(i).cut();
                std::thread::sleep(cut);
                // The gap ends before the link heals: from then on the
                // leader may renew and answer the requests it held.
                let healed = Instant::now();
                rig.cluster.metastore_link(i).heal();
                // The fast timing's 3 s lease, a second's slack.
                if leader == Some(i) {
                    rig.lease_gaps.push((at + Duration::from_secs(4), healed));
                }
                format!(
                    "{}'s metastore link cut for {cut:?} (leader {leader:?})",
                    name(i)
                )
            }
            Fault::PostgresRestart => {
                let pg = rig
                    .private_postgres()
                    .expect("a PostgreSQL restart needs the rig's own server");
                let mode = ["fast", "immediate"][rng.below(2) as usize];
                let down = Duration::from_millis(rng.between(500, 6000));
                let at = Instant::now();
                pg.stop(mode);
                std::thread::sleep(down);
                // Neither node can renew anything while the server is down;
                // the gap ends as the restart begins (the server accepts
                // connections before `pg_ctl start -w` returns, and a leader
                // that renews then answers the requests it held).
                let restarting = Instant::now();
                pg.start_again();
                rig.lease_gaps
                    .push((at + Duration::from_secs(4), restarting));
                format!("PostgreSQL stopped -m {mode} for {down:?} (leader {leader:?})")
            }
            Fault::DiskFull => {
                let i = rng.below(2) as usize;
                let held = Duration::from_millis(rng.between(1000, 4000));
                let filled = rig.disks[i].fill();
                std::thread::sleep(held);
                rig.disks[i].free();
                format!(
                    "{}'s disk filled ({} MB) for {held:?} (leader {leader:?})",
                    name(i),
                    filled >> 20
                )
            }
            Fault::SlowDisk => {
                let i = rng.below(2) as usize;
                let delay = Duration::from_millis(rng.between(50, 800));
                let held = Duration::from_millis(rng.between(2000, 5000));
                rig.disks[i].set_fsync_delay(delay);
                std::thread::sleep(held);
                rig.disks[i].set_fsync_delay(Duration::ZERO);
                format!(
                    "{}'s fsyncs delayed {delay:?} for {held:?} (leader {leader:?})",
                    name(i)
                )
            }
            Fault::PowerLoss => {
                let i = rng.below(2) as usize;
                let down = Duration::from_millis(rng.between(0, 1500));
                // Stalled fsyncs leave written, unsynced, unacknowledged bytes to lose.
                rig.disks[i].set_fsync_delay(Duration::from_millis(rng.between(100, 400)));
                std::thread::sleep(Duration::from_millis(rng.between(200, 600)));
                let undone = rig.disks[i].slow().cut_power();
                rig.cluster.nodes[i].kill();
                rig.disks[i].set_fsync_delay(Duration::ZERO);
                rig.disks[i].slow().restore_power();
                std::thread::sleep(down);
                rig.restart(i);
                format!(
                    "power loss on {}'s disk ({undone} unsynced bytes undone), kill -9, back after {down:?} (leader {leader:?})",
                    name(i)
                )
            }
            Fault::Demote => {
                let url = rig.cluster.nodes[l].url();
                let out = rig.cluster.nodes[l].run(&["node", "demote", "--url", &url, "--wait"]);
                format!(
                    "node demote --wait on {}: {} {}{}",
                    name(l),
                    out.status,
                    String::from_utf8_lossy(&out.stdout).trim(),
                    String::from_utf8_lossy(&out.stderr).trim()
                )
                .replace('\n', " | ")
            }
            Fault::ManualFailover => {
                rig.cluster.nodes[l].kill();
                let out = rig.cluster.nodes[f].run(&["node", "lead"]);
                let led = rig.cluster.wait_leader(Duration::from_secs(30));
                let down = Duration::from_millis(rng.between(0, 1500));
                std::thread::sleep(down);
                rig.restart(l);
                format!(
                    "kill -9 {} then node lead on {}: {} {} (leader now {led:?}); old leader back after {down:?}",
                    name(l),
                    name(f),
                    out.status,
                    String::from_utf8_lossy(&out.stdout).trim()
                )
                .replace('\n', " | ")
            }
            _ => unreachable!("{self:?} is an N-node fault"),
        }
    }

    /// Injects an N-node fault (automatic fail-over) and undoes it.
    fn inject_auto(self, rig: &mut Rig, rng: &mut Rng) -> String {
        let leader = rig.cluster.wait_leader(Duration::from_secs(30));
        let l = leader.unwrap_or(0);
        let name = rig.cluster[l].name.clone();
        let term = rig.cluster[l].health()["term"].as_u64().unwrap_or(0);
        let named = |rig: &Rig, i: Option<usize>| {
            i.map_or("nobody".into(), |i| rig.cluster[i].name.clone())
        };
        // The fast timing's 3 s lease, a second's slack: from then on the
        // old leader's term is over for it whatever it saw.
        let lease = Duration::from_secs(4);
        match self {
            Fault::AutoKillLeader | Fault::AutoWipeLeader => {
                let wipe = self == Fault::AutoWipeLeader;
                let at = Instant::now();
                match wipe {
                    true => rig.cluster.wipe(l),
                    false => rig.cluster.nodes[l].kill(),
                }
                let elected = rig.wait_other_leader(l, Duration::from_secs(30));
                let took = at.elapsed();
                let later = Duration::from_millis(rng.between(0, 1000));
                std::thread::sleep(later);
                rig.restart(l);
                format!(
                    "kill -9 {name} (leader in term {term}){}, {} elected after {took:.1?}, {name} back {later:?} later",
                    if wipe { ", storage root wiped" } else { "" },
                    named(rig, elected)
                )
            }
            Fault::AutoPauseLeader => {
                let frozen = Duration::from_millis(rng.between(4000, 6000));
                let at = Instant::now();
                rig.cluster.nodes[l].pause();
                std::thread::sleep(frozen);
                let elected = rig.wait_other_leader(l, Duration::ZERO);
                let resumed = Instant::now();
                rig.cluster.nodes[l].resume();
                // What reached it past its lease it must not acknowledge in
                // its old term once a newer one began.
                rig.fenced.push(Fence {
                    node: name.clone(),
                    from: at + lease,
                    to: resumed,
                    term: Some(term),
                });
                format!(
                    "SIGSTOP {name} (leader in term {term}) for {frozen:?}; {} led when it resumed",
                    named(rig, elected)
                )
            }
            Fault::AutoMetastoreCut => {
                let cut = Duration::from_millis(rng.between(4000, 7000));
                let at = Instant::now();
                rig.cluster.metastore_link(l).cut();
                std::thread::sleep(cut);
                let elected = rig.wait_other_leader(l, Duration::ZERO);
                let healed = Instant::now();
                rig.cluster.metastore_link(l).heal();
                rig.fenced.push(Fence {
                    node: name.clone(),
                    from: at + lease,
                    to: healed,
                    term: Some(term),
                });
                format!(
                    "{name}'s metastore link cut for {cut:?} (leader in term {term}); {} led when it healed",
                    named(rig, elected)
                )
            }
            Fault::AutoIsolateLeader => {
                let cut = Duration::from_millis(rng.between(2000, 6000));
                let at = Instant::now();
                rig.cluster.isolate(l);
                std::thread::sleep(cut);
                let healed = Instant::now();
                rig.cluster.heal();
                // No follower can hold what reaches it meanwhile: with
                // `minimumAcknowledgingReplicas = 1` it acknowledges
                // nothing sent after the cut (200 ms for the cut to bite)
                // before the heal, in any term.
                rig.fenced.push(Fence {
                    node: name.clone(),
                    from: at + Duration::from_millis(200),
                    to: healed,
                    term: None,
                });
                let now = rig.cluster.leader();
                format!(
                    "{name} (leader in term {term}) cut from every follower for {cut:?}; {} leads after the heal",
                    named(rig, now)
                )
            }
            _ => unreachable!("{self:?} is a two-node fault"),
        }
    }
}
