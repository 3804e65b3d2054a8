//! A follower's side of divergence. The leader's `Welcome` names the last
//! position the two histories share; before following, this node sets aside
//! — never deletes — whatever it holds past it:
//!
//! - a divergent tail (a returning old leader's events the new leader never
//!   received): exported to `<storage>/Divergent/term<T>-from<G>-to<G>.clef`
//!   (re-ingestable with `skein ingest`) plus the raw blocks, fsynced, then
//!   the store is cut back in place, or — when the tail holds structural
//!   operations — replaced by a snapshot of the leader;
//! - another store altogether (a different store id): the whole `Stream`
//!   folder is moved to `<storage>/Divergent/store-<id>-at-<G>` and the node
//!   starts over empty, copying the leader's store. Refusing such a node
//!   forever would leave the operator a manual clean-up and the cluster
//!   without a follower; moving the folder keeps every byte for inspection.
//!
//! Each is logged, and shown in the replication state (`/api/cluster`'s
//! state line, `/health`, the metrics' leader session).

use std::path::PathBuf;
use std::sync::Arc;

use skein_store::stream::StoreStatus;
use skein_store::{Generation, Store};

use super::protocol::Frame;
use super::{blocking, ReplicationError, ReplicationState};

/// The folder under the storage root where set-aside data goes.
pub const DIVERGENT_DIR: &str = "Divergent";

/// `<storage root>/Divergent` for a store kept in `<storage root>/Stream`.
pub fn divergent_dir(store: &Store) -> PathBuf {
    match store.dir().parent() {
        Some(root) => root.join(DIVERGENT_DIR),
        None => store.dir().join(DIVERGENT_DIR),
    }
}

/// Brings this node's store (described by `status`) in line with the
/// leader's store `leader_id`, whose history it shares up to `common`.
/// Returns the `SetAside` frame to answer with, if anything was set aside.
pub async fn reconcile(
    store: &Arc<Store>,
    state: &ReplicationState,
    status: &StoreStatus,
    leader_id: String,
    common: Generation,
) -> Result<Option<Frame>, ReplicationError> {
    if leader_id != status.store_id {
        let s = store.clone();
        if status.generation == Generation::ZERO {
            log::info!("empty store adopts the leader's store id {leader_id}");
            blocking(move || s.adopt_store_id(&leader_id)).await?;
            return Ok(None);
        }
        let dest = divergent_dir(store);
        let moved = blocking(move || s.set_aside_store(&dest, &leader_id)).await?;
        let what = format!(
            "moved another store ({} at {}) aside to {}",
            status.store_id,
            status.generation,
            moved.display()
        );
        log::warn!("{what}; copying the leader's store");
        state.note_set_aside(what);
        return Ok(Some(Frame::SetAside {
            at: Generation::ZERO,
            need_snapshot: false,
        }));
    }
    if status.generation == common {
        return Ok(None);
    }
    let (s, dest) = (store.clone(), divergent_dir(store));
    let done = blocking(move || s.set_aside_after(common, &dest)).await?;
    let what = done.describe();
    log::warn!(
        "{what}; {}",
        if done.truncated {
            "the store was cut back to the common point"
        } else {
            "a snapshot of the leader replaces the store"
        }
    );
    state.note_set_aside(what);
    Ok(Some(Frame::SetAside {
        at: store.generation(),
        need_snapshot: !done.truncated,
    }))
}
