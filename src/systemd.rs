//! systemd's notify protocol (`Type=notify` in `deploy/skein.service`), with
//! the `sd-notify` crate: `READY=1` once every listener is bound,
//! `RELOADING=1` … `READY=1` around a SIGHUP reload of the certificates,
//! `STOPPING=1` as soon as SIGTERM or SIGINT starts the graceful stop.
//! Without `NOTIFY_SOCKET` (not under systemd) each call does nothing; a
//! notification that cannot be sent is logged, never fatal.

use sd_notify::NotifyState;

fn send(what: &str, states: &[NotifyState]) {
    if let Err(e) = sd_notify::notify(states) {
        log::warn!("cannot tell systemd the node is {what}: {e}");
    }
}

/// The node listens on `listening` and serves.
pub fn ready(listening: &str) {
    let status = format!("listening on {listening}");
    send("ready", &[NotifyState::Ready, NotifyState::Status(&status)]);
}

/// The node reloads its configuration (certificates); [`reloaded`] follows.
pub fn reloading() {
    let mut states = vec![NotifyState::Reloading];
    // systemd pairs RELOADING=1 with the time it was sent (optional for Type=notify).
    if let Ok(now) = NotifyState::monotonic_usec_now() {
        states.push(now);
    }
    send("reloading", &states);
}

/// The reload [`reloading`] announced is done.
pub fn reloaded() {
    send("ready again", &[NotifyState::Ready]);
}

/// Waits for the first SIGTERM or SIGINT (which also stop the HTTP server,
/// gracefully) and says `STOPPING=1`.
pub async fn stopping_on_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        log::warn!("cannot listen for SIGTERM/SIGINT: systemd is not told when the node stops");
        return;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
    send("stopping", &[NotifyState::Stopping]);
}
