//! The faults a run injects, each at a moment the seeded schedule picks.
//! Every fault leaves both processes running again (what it kills it
//! restarts), so a process found gone later exited on its own.

use std::time::{Duration, Instant};

use super::rig::{Rig, RigOptions};
use skein::client::dataset::Rng;

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
}

impl Fault {
    /// Every kind, in table order.
    pub const ALL: [Fault; 9] = [
        Fault::KillLeader,
        Fault::KillFollower,
        Fault::Pause,
        Fault::Partition,
        Fault::MetastorePartition,
        Fault::Demote,
        Fault::ManualFailover,
        Fault::PostgresRestart,
        Fault::DiskFull,
    ];

    /// What a run of this kind (None: mixed) needs its cluster to stand on.
    pub fn rig_options(kind: Option<Fault>) -> RigOptions {
        RigOptions {
            private_postgres: kind.is_none_or(|k| k == Fault::PostgresRestart),
            small_disks: kind.is_none_or(|k| k == Fault::DiskFull),
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
        }
    }

    /// Injects the fault; one line saying what was done.
    pub fn inject(self, rig: &mut Rig, rng: &mut Rng) -> String {
        let leader = rig.wait_leader(Duration::from_secs(30));
        let l = leader.unwrap_or(0);
        let f = 1 - l;
        let names: Vec<String> = rig.nodes.iter().map(|n| n.name.clone()).collect();
        let name = |i: usize| names[i].clone();
        match self {
            Fault::KillLeader | Fault::KillFollower => {
                let i = if self == Fault::KillLeader { l } else { f };
                let down = Duration::from_millis(rng.between(0, 1500));
                rig.nodes[i].kill();
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
                rig.nodes[i].pause();
                std::thread::sleep(frozen);
                rig.nodes[i].resume();
                format!("SIGSTOP {} (leader {leader:?}) for {frozen:?}", name(i))
            }
            Fault::Partition => {
                let cut = Duration::from_millis(rng.between(500, 5000));
                rig.cut();
                std::thread::sleep(cut);
                rig.heal();
                format!("partition for {cut:?} (leader {leader:?})")
            }
            Fault::MetastorePartition => {
                let i = rng.below(2) as usize;
                let cut = Duration::from_millis(rng.between(3500, 7000));
                let at = Instant::now();
                rig.cut_metastore(i);
                std::thread::sleep(cut);
                rig.heal_metastore(i);
                // The fast timing's 3 s lease, a second's slack.
                if leader == Some(i) {
                    rig.lease_gaps
                        .push((at + Duration::from_secs(4), Instant::now()));
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
                pg.start_again();
                // Neither node can renew anything while the server is down.
                rig.lease_gaps
                    .push((at + Duration::from_secs(4), Instant::now()));
                format!("PostgreSQL stopped -m {mode} for {down:?} (leader {leader:?})")
            }
            Fault::DiskFull => {
                let i = rng.below(2) as usize;
                let held = Duration::from_millis(rng.between(1000, 4000));
                let filled = rig.fill_disk(i);
                std::thread::sleep(held);
                rig.free_disk(i);
                format!(
                    "{}'s disk filled ({} MB) for {held:?} (leader {leader:?})",
                    name(i),
                    filled >> 20
                )
            }
            Fault::Demote => {
                let url = rig.nodes[l].url();
                let out = rig.nodes[l].run(&["node", "demote", "--url", &url, "--wait"]);
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
                rig.nodes[l].kill();
                let out = rig.nodes[f].run(&["node", "lead"]);
                let led = rig.wait_leader(Duration::from_secs(30));
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
        }
    }
}
