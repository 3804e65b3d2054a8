//! [`Refusals`]: how many times this node refused something a peer (or
//! someone posing as one) sent, by kind — shown beside the connection
//! counters on the cluster screen (`/api/cluster`) so an attack or a
//! misconfigured peer is visible, not only logged.
//!
//! A wrong-key handshake keeps its own, older counter
//! ([`super::ReplicationCounters::invalid_key`]); these are the others.

use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;

/// The counts, as read at one moment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RefusalCounts {
    /// Handshakes refused as malformed or out of order (an undecodable
    /// frame, a bad `Hello`, a frame the handshake's step does not allow).
    pub malformed_handshake: u64,
    /// Frames after the handshake that failed the session check (not
    /// sealed by the session's key, out of sequence).
    pub session_check: u64,
    /// `Welcome` frames whose leader proof did not verify (a forged
    /// leader), refused by this follower.
    pub forged_leader: u64,
    /// Forwarded requests whose proof of cluster membership was missing,
    /// forged, stale, replayed or did not cover the request.
    pub forged_forwarding: u64,
}

/// The live counters (shared through [`super::ReplicationState`]).
#[derive(Debug, Default)]
pub struct Refusals {
    malformed_handshake: AtomicU64,
    session_check: AtomicU64,
    forged_leader: AtomicU64,
    forged_forwarding: AtomicU64,
}

impl Refusals {
    /// Counts a malformed or out-of-order handshake.
    pub fn malformed_handshake(&self) {
        self.malformed_handshake.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a frame that failed the session check.
    pub fn session_check(&self) {
        self.session_check.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a forged leader proof.
    pub fn forged_leader(&self) {
        self.forged_leader.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a refused forwarding proof.
    pub fn forged_forwarding(&self) {
        self.forged_forwarding.fetch_add(1, Ordering::Relaxed);
    }

    /// The counts now.
    pub fn counts(&self) -> RefusalCounts {
        RefusalCounts {
            malformed_handshake: self.malformed_handshake.load(Ordering::Relaxed),
            session_check: self.session_check.load(Ordering::Relaxed),
            forged_leader: self.forged_leader.load(Ordering::Relaxed),
            forged_forwarding: self.forged_forwarding.load(Ordering::Relaxed),
        }
    }
}
