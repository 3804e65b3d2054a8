//! A follower's snapshot copy: the store's installer runs on a blocking
//! thread and asks for chunks through a channel; [`install_snapshot`]
//! fetches them over the session with the leader. An interrupted copy
//! resumes in the next session.
//!
//! While it runs, the copy's progress is kept in [`ReplicationState`] (for
//! the node's heartbeat row, so `/api/cluster` and the cluster screen show
//! it whichever node answers) and logged every
//! [`CATCH_UP_LOG_EVERY`](super::timing::CATCH_UP_LOG_EVERY) (see
//! [`super::catch_up`] for the line); it is cleared when the copy ends,
//! installed or not.

use std::sync::Arc;

use skein_store::stream::snapshot::SnapshotPlan;
use skein_store::{Generation, Store, StoreError};
use tokio::time::{interval_at, Instant, MissedTickBehavior};

use super::catch_up::bytes;
use super::protocol::Frame;
use super::receiver::Channel;
use super::timing::{CATCH_UP_LOG_EVERY, IDLE_TIMEOUT};
use super::{ReplicationError, ReplicationState};

type ChunkReply = std::sync::mpsc::Sender<Result<Vec<u8>, StoreError>>;

/// Clears the copy's progress however the copy ends (even when the
/// session's future is dropped).
struct Shown<'a> {
    state: &'a ReplicationState,
    id: u64,
}

impl Drop for Shown<'_> {
    fn drop(&mut self) {
        self.state.catch_up_ended(self.id);
    }
}

/// Installs `plan` from `leader` into `store` over `conn`; the generation
/// the store is at afterwards.
pub(super) async fn install_snapshot(
    store: &Arc<Store>,
    conn: &mut Channel,
    plan: SnapshotPlan,
    state: &ReplicationState,
    leader: &str,
) -> Result<Generation, ReplicationError> {
    let total = plan.total_bytes()?;
    log::info!(
        "copying a snapshot of {} files ({}) at generation {} from {leader}",
        plan.files.len(),
        bytes(total),
        plan.generation
    );
    let started = Instant::now();
    let shown = Shown {
        state,
        id: state.catch_up_began(total),
    };
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(String, u64, usize, ChunkReply)>();
    let (s, target, progress, id) = (store.clone(), plan.generation, state.clone(), shown.id);
    let mut job = tokio::task::spawn_blocking(move || {
        let ended = || StoreError::Mismatch("the replication session ended".into());
        let mut fetch = |name: &str, offset: u64, max: usize| {
            let (reply, answer) = std::sync::mpsc::channel();
            tx.send((name.to_owned(), offset, max, reply))
                .map_err(|_| ended())?;
            answer.recv().map_err(|_| ended())?
        };
        s.install_snapshot_in_place(&plan, &mut fetch, &mut |staged| {
            progress.catch_up_staged(id, staged);
        })
    });
    let mut log_tick = interval_at(Instant::now() + CATCH_UP_LOG_EVERY, CATCH_UP_LOG_EVERY);
    log_tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            done = &mut job => {
                done.map_err(|e| ReplicationError::Connection(e.to_string()))??;
                log::info!(
                    "snapshot installed at generation {target} ({} in {:.1} s); reconnecting",
                    bytes(total),
                    started.elapsed().as_secs_f64()
                );
                return Ok(target);
            }
            _ = log_tick.tick() => {
                if let Some(p) = state.catch_up() {
                    log::info!("{p}");
                }
            }
            Some((name, offset, max, reply)) = rx.recv() => {
                let max_len = max as u64;
                conn.send(&Frame::ChunkRequest { name: name.clone(), offset, max_len }).await?;
                // Heartbeats keep the session alive, not an unanswered
                // request: past the idle timeout the session ends, and the
                // copy resumes from what is staged.
                let asked = std::time::Instant::now();
                let bytes = loop {
                    let left = IDLE_TIMEOUT.saturating_sub(asked.elapsed());
                    if left.is_zero() {
                        return Err(ReplicationError::Timeout(IDLE_TIMEOUT));
                    }
                    match conn.next_frame(left, state).await? {
                        Frame::FileChunk { name: n, offset: o, bytes } if n == name && o == offset => {
                            break bytes
                        }
                        Frame::Heartbeat { .. } => {}
                        f => return Err(ReplicationError::Unexpected(f.kind())),
                    }
                };
                let _ = reply.send(Ok(bytes));
            }
        }
    }
}
