//! [`LoginThrottle`]: failed logins counted per client address, in memory on
//! the node that serves logins (the leader; followers proxy to it).
//!
//! The per-username limit lives in the metastore (see
//! `skein_actors::metastore::users`); this one stops a single address from
//! guessing many usernames. The address is the TCP peer's, or — for a
//! login a follower forwarded with a valid proof of cluster membership —
//! the client address that follower signed into the proof (see
//! `crate::api::peer_proof`); a client's own `X-Forwarded-For` is never
//! trusted.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failed logins one address may make per [`WINDOW`].
pub const MAX_FAILURES: u32 = 20;
/// The counting window.
pub const WINDOW: Duration = Duration::from_secs(10 * 60);
/// Addresses tracked at most (the oldest windows are dropped beyond it).
const MAX_TRACKED: usize = 100_000;

/// Failed-login counts by client address.
#[derive(Debug, Default)]
pub struct LoginThrottle {
    windows: Mutex<HashMap<IpAddr, (Instant, u32)>>,
}

impl LoginThrottle {
    /// How long `addr` must wait before trying again, `None` when it may try now.
    pub fn retry_after(&self, addr: IpAddr) -> Option<Duration> {
        let windows = self.windows.lock().expect("login throttle");
        let (start, failures) = windows.get(&addr)?;
        let left = WINDOW.checked_sub(start.elapsed())?;
        (*failures >= MAX_FAILURES).then_some(left.max(Duration::from_secs(1)))
    }

    /// Counts a failed login from `addr`.
    pub fn failed(&self, addr: IpAddr) {
        let mut windows = self.windows.lock().expect("login throttle");
        if windows.len() >= MAX_TRACKED {
            windows.retain(|_, (start, _)| start.elapsed() < WINDOW);
        }
        let entry = windows.entry(addr).or_insert((Instant::now(), 0));
        if entry.0.elapsed() >= WINDOW {
            *entry = (Instant::now(), 0);
        }
        entry.1 = entry.1.saturating_add(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_is_held_back_after_its_failures() {
        let t = LoginThrottle::default();
        let (a, b): (IpAddr, IpAddr) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        for _ in 0..MAX_FAILURES - 1 {
            t.failed(a);
        }
        assert_eq!(t.retry_after(a), None);
        t.failed(a);
        let wait = t.retry_after(a).expect("held back");
        assert!(wait <= WINDOW && wait >= Duration::from_secs(1));
        assert_eq!(t.retry_after(b), None);
    }
}
