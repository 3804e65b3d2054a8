//! What a [`ReplicationSender`] reads from the leader's store, off the
//! actor's thread: the next `Ops` frame, and — when the follower's position
//! is older than the history the store keeps — a snapshot plan and its file
//! chunks.

use actix::prelude::*;
use skein_store::{Generation, Store};

use super::protocol::Frame;
use super::sender::{Ctx, Phase, ReplicationSender};
use super::timing::OPS_FRAME_BYTES;
use super::{blocking, ReplicationError, WireError};

/// The outcome of reading after the follower's position.
pub enum NextOps {
    /// An encoded `Ops` frame and the generation after its last operation.
    Frame(Vec<u8>, Generation),
    /// Nothing to send.
    UpToDate,
    /// The history no longer reaches back to the follower (why).
    TooOld(String),
}

/// Reads and encodes the next `Ops` frame after `after` (blocking).
pub fn next_ops(store: &Store, after: Generation) -> Result<NextOps, ReplicationError> {
    let items = match store.history_after(after, OPS_FRAME_BYTES)? {
        Ok(items) => items,
        Err(too_old) => return Ok(NextOps::TooOld(too_old.to_string())),
    };
    let Some(last) = items.last() else {
        return Ok(NextOps::UpToDate);
    };
    let last = last
        .generation()
        .ok_or_else(|| WireError::Encode("an operation without a generation".into()))?;
    Ok(NextOps::Frame(Frame::Ops { items }.encode()?, last))
}

impl ReplicationSender {
    /// Sends the follower a snapshot plan; it then asks for chunks.
    pub(super) fn start_snapshot(&mut self, ctx: &mut Ctx, why: String) {
        log::info!("follower {} needs a snapshot: {why}", self.peer);
        self.phase = Phase::Snapshotting;
        let store = self.store.clone();
        let plan = blocking(move || Ok(store.snapshot_plan()));
        ctx.spawn(plan.into_actor(self).map(|plan, act, ctx| match plan {
            Ok(plan) => act.send(ctx, &Frame::Snapshot { plan }),
            Err(e) => act.end(ctx, &e.to_string()),
        }));
    }

    /// Answers a `ChunkRequest` with a `FileChunk` (or ends the session).
    pub(super) fn serve_chunk(&mut self, ctx: &mut Ctx, name: String, offset: u64, max: u64) {
        let store = self.store.clone();
        let max = usize::try_from(max).unwrap_or(usize::MAX);
        let read = blocking(move || {
            let bytes = store.read_chunk(&name, offset, max)?;
            Ok(Frame::FileChunk {
                name,
                offset,
                bytes,
            })
        });
        ctx.spawn(read.into_actor(self).map(|chunk, act, ctx| match chunk {
            Ok(frame) => act.send(ctx, &frame),
            Err(e) => act.end(ctx, &e.to_string()),
        }));
    }
}
