//! When upkeep may delete events by retention, and before which time: a
//! pure decision over what the store writer knows.
//!
//! Retention deletes whole segments and the deletion replicates, so a node
//! must never act on a period it read before it began accepting writes: a
//! follower promoted with a period read at start (or in an earlier term)
//! would delete what the operator has since decided to keep. Only settings
//! read after the node began accepting writes count.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use skein_store::Timestamp;

use crate::messages::SettingsSnapshot;

/// What upkeep does about retention.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RetentionPlan {
    /// The node does not accept writes: its store changes only by
    /// replicating its leader's operations.
    NotWriting,
    /// The newest settings were read before the node began accepting
    /// writes (or none were read yet): delete nothing until a fresh read.
    AwaitingSettings,
    /// No retention period is set: keep everything.
    KeepEverything,
    /// Delete sealed segments whose newest event is older than `cutoff`,
    /// `period` before now.
    DeleteBefore {
        /// The period in force.
        period: Duration,
        /// Now minus the period.
        cutoff: Timestamp,
    },
}

impl RetentionPlan {
    /// The plan without its cutoff, which moves with the clock: two plans
    /// with the same summary need no new log line or upkeep run.
    pub fn summary(self) -> RetentionPlan {
        match self {
            RetentionPlan::DeleteBefore { period, .. } => RetentionPlan::DeleteBefore {
                period,
                cutoff: Timestamp(0),
            },
            other => other,
        }
    }
}

/// The plan for a node that accepts writes since `writing_since` (`None`
/// when it does not), holding `settings`, at wall-clock `now`.
pub fn plan(
    writing_since: Option<Instant>,
    settings: Option<&SettingsSnapshot>,
    now: SystemTime,
) -> RetentionPlan {
    let Some(since) = writing_since else {
        return RetentionPlan::NotWriting;
    };
    let Some(settings) = settings.filter(|s| s.read_at >= since) else {
        return RetentionPlan::AwaitingSettings;
    };
    match settings.settings.retention {
        None => RetentionPlan::KeepEverything,
        Some(period) => {
            let now = now.duration_since(UNIX_EPOCH).unwrap_or_default();
            let cutoff = now.saturating_sub(period).as_nanos();
            RetentionPlan::DeleteBefore {
                period,
                cutoff: Timestamp(i64::try_from(cutoff).unwrap_or(i64::MAX)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metastore::settings::ServerSettings;

    const DAY: Duration = Duration::from_secs(86_400);

    fn read(at: Instant, retention: Option<Duration>) -> SettingsSnapshot {
        SettingsSnapshot {
            settings: ServerSettings {
                retention,
                ..ServerSettings::default()
            },
            read_at: at,
        }
    }

    #[test]
    fn retention_acts_only_on_settings_read_since_the_node_began_writing() {
        let t0 = Instant::now();
        let (before, after) = (t0, t0 + Duration::from_secs(1));
        let promoted_at = t0 + Duration::from_millis(500);
        let promoted = Some(promoted_at);
        let now = UNIX_EPOCH + 100 * DAY;
        let cutoff = |days: u32| Timestamp(((100 - days) as u64 * DAY.as_nanos() as u64) as i64);
        let cases: [(
            &str,
            Option<Instant>,
            Option<SettingsSnapshot>,
            RetentionPlan,
        ); 7] = [
            (
                "a follower never deletes on its own",
                None,
                Some(read(after, Some(DAY))),
                RetentionPlan::NotWriting,
            ),
            (
                "nothing read yet",
                promoted,
                None,
                RetentionPlan::AwaitingSettings,
            ),
            (
                "a period read before promotion (at start, as a follower) is not acted on",
                promoted,
                Some(read(before, Some(DAY))),
                RetentionPlan::AwaitingSettings,
            ),
            (
                "not even when it says keep everything",
                promoted,
                Some(read(before, None)),
                RetentionPlan::AwaitingSettings,
            ),
            (
                "a read begun at the very moment of promotion counts",
                promoted,
                Some(read(promoted_at, Some(30 * DAY))),
                RetentionPlan::DeleteBefore {
                    period: 30 * DAY,
                    cutoff: cutoff(30),
                },
            ),
            (
                "a fresh read with a period deletes before now minus it",
                promoted,
                Some(read(after, Some(DAY))),
                RetentionPlan::DeleteBefore {
                    period: DAY,
                    cutoff: cutoff(1),
                },
            ),
            (
                "a fresh read without a period keeps everything",
                promoted,
                Some(read(after, None)),
                RetentionPlan::KeepEverything,
            ),
        ];
        for (what, since, settings, expected) in cases {
            assert_eq!(plan(since, settings.as_ref(), now), expected, "{what}");
        }
    }

    #[test]
    fn a_period_longer_than_the_epoch_deletes_nothing() {
        let t0 = Instant::now();
        let p = plan(
            Some(t0),
            Some(&read(t0, Some(Duration::from_secs(u64::MAX)))),
            UNIX_EPOCH + DAY,
        );
        assert_eq!(
            p,
            RetentionPlan::DeleteBefore {
                period: Duration::from_secs(u64::MAX),
                cutoff: Timestamp(0)
            }
        );
    }

    #[test]
    fn summaries_ignore_the_moving_cutoff() {
        let a = RetentionPlan::DeleteBefore {
            period: DAY,
            cutoff: Timestamp(5),
        };
        let b = RetentionPlan::DeleteBefore {
            period: DAY,
            cutoff: Timestamp(9),
        };
        assert_eq!(a.summary(), b.summary());
        assert_ne!(a.summary(), RetentionPlan::KeepEverything.summary());
    }
}
