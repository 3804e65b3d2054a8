//! [`SettingsFollower`]: keeps this node on the metastore's server-wide
//! settings, whichever node changed them.
//!
//! It reads them every [`SETTINGS_POLL`], and at once when this node has
//! just changed them ([`RefreshSettings`]); publishes the newest read to
//! synchronous readers through a [`SettingsView`] (the API's ingestion
//! checks) and sends it to the actors that act on it as [`SettingsRead`]
//! (the store writer's retention). A read that began earlier never replaces
//! one that began later. So a change served by any node takes effect on
//! every node within a poll, and a node that starts accepting writes can
//! tell whether what it holds was read after that moment (see
//! [`crate::store_writer`]).

use std::time::{Duration, Instant};

use actix::prelude::*;
use tokio::sync::watch;

use crate::messages::{RefreshSettings, SettingsRead, SettingsSnapshot};
use crate::metastore::settings::ServerSettings;
use crate::metastore::{Metastore, MetastoreError};

/// How often the settings are read.
pub const SETTINGS_POLL: Duration = Duration::from_secs(1);

/// How long one read may take before it counts as failed.
const READ_TIMEOUT: Duration = Duration::from_secs(5);

/// The newest settings this node read, for code outside the actors.
#[derive(Clone, Debug)]
pub struct SettingsView(watch::Receiver<Option<SettingsSnapshot>>);

impl SettingsView {
    /// The newest read, `None` before the first one succeeded.
    pub fn latest(&self) -> Option<SettingsSnapshot> {
        self.0.borrow().clone()
    }
}

/// The actor following the metastore's server-wide settings.
pub struct SettingsFollower {
    metastore: Metastore,
    published: watch::Sender<Option<SettingsSnapshot>>,
    subscribers: Vec<Recipient<SettingsRead>>,
    polling: bool,
}

impl SettingsFollower {
    /// A follower reading `metastore`, telling `subscribers` of every read.
    pub fn new(
        metastore: Metastore,
        subscribers: Vec<Recipient<SettingsRead>>,
    ) -> (SettingsFollower, SettingsView) {
        let (published, view) = watch::channel(None);
        let follower = SettingsFollower {
            metastore,
            published,
            subscribers,
            polling: false,
        };
        (follower, SettingsView(view))
    }

    /// Reads the settings; the snapshot is stamped with when the read began.
    fn read(&self) -> impl std::future::Future<Output = Result<SettingsSnapshot, MetastoreError>> {
        let metastore = self.metastore.clone();
        async move {
            let read_at = Instant::now();
            let settings = tokio::time::timeout(READ_TIMEOUT, metastore.server_settings())
                .await
                .map_err(|_| MetastoreError::Unanswered(READ_TIMEOUT))??;
            Ok(SettingsSnapshot { settings, read_at })
        }
    }

    /// Publishes `read` unless a read that began later is already out.
    fn apply(&mut self, read: &SettingsSnapshot) {
        let previous = self.published.borrow().clone();
        if previous.as_ref().is_some_and(|p| p.read_at > read.read_at) {
            return;
        }
        match &previous {
            None => log::info!("server settings: {}", describe(&read.settings)),
            Some(p) => {
                for change in changes(&p.settings, &read.settings) {
                    log::info!("server setting {change} (applied on this node)");
                }
            }
        }
        self.published.send_replace(Some(read.clone()));
        self.subscribers.retain(|s| s.connected());
        for s in &self.subscribers {
            s.do_send(SettingsRead(read.clone()));
        }
    }

    fn poll(&mut self, ctx: &mut Context<Self>) {
        if self.polling {
            return;
        }
        self.polling = true;
        self.read()
            .into_actor(self)
            .map(|read, act, _| {
                act.polling = false;
                match read {
                    Ok(read) => act.apply(&read),
                    Err(e) => log::warn!("cannot read the server settings: {e}"),
                }
            })
            .spawn(ctx);
    }
}

impl Actor for SettingsFollower {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        self.poll(ctx);
        ctx.run_interval(SETTINGS_POLL, |act, ctx| act.poll(ctx));
    }
}

impl Handler<RefreshSettings> for SettingsFollower {
    type Result = ResponseActFuture<Self, Result<SettingsSnapshot, MetastoreError>>;

    fn handle(&mut self, _: RefreshSettings, _: &mut Context<Self>) -> Self::Result {
        Box::pin(self.read().into_actor(self).map(|read, act, _| {
            if let Ok(read) = &read {
                act.apply(read);
            }
            read
        }))
    }
}

/// The settings in operators' words.
fn describe(s: &ServerSettings) -> String {
    let level = s.minimum_level.map_or("unset", |l| l.name());
    format!(
        "ingestion.requireApiKey {}, ingestion.minimumLevel {level}, retention.period {}",
        s.require_api_key,
        period(s.retention)
    )
}

/// What changed from `old` to `new`, one line per setting.
fn changes(old: &ServerSettings, new: &ServerSettings) -> Vec<String> {
    let mut out = Vec::new();
    if old.require_api_key != new.require_api_key {
        out.push(format!(
            "ingestion.requireApiKey is now {} (was {})",
            new.require_api_key, old.require_api_key
        ));
    }
    if old.minimum_level != new.minimum_level {
        let name = |l: Option<skein_store::Severity>| l.map_or("unset", |l| l.name());
        out.push(format!(
            "ingestion.minimumLevel is now {} (was {})",
            name(new.minimum_level),
            name(old.minimum_level)
        ));
    }
    if old.retention != new.retention {
        out.push(format!(
            "retention.period is now {} (was {})",
            period(new.retention),
            period(old.retention)
        ));
    }
    out
}

/// A retention period as an operator set it (`30d`, `12h`), or `unset`.
pub fn period(p: Option<Duration>) -> String {
    let Some(p) = p else {
        return "unset (events are kept)".into();
    };
    let secs = p.as_secs();
    for (unit, len) in [("d", 86_400), ("h", 3_600), ("m", 60)] {
        if secs >= len && secs % len == 0 {
            return format!("{}{unit}", secs / len);
        }
    }
    format!("{secs}s")
}

#[cfg(test)]
mod tests {
    use super::*;
    use skein_store::Severity;

    #[test]
    fn changes_name_each_setting_that_changed() {
        let old = ServerSettings::default();
        assert!(changes(&old, &old).is_empty());
        let new = ServerSettings {
            require_api_key: true,
            minimum_level: Some(Severity::Warning),
            retention: Some(Duration::from_secs(30 * 86_400)),
        };
        assert_eq!(
            changes(&old, &new),
            [
                "ingestion.requireApiKey is now true (was false)",
                "ingestion.minimumLevel is now Warning (was unset)",
                "retention.period is now 30d (was unset (events are kept))",
            ]
        );
    }

    #[test]
    fn periods_read_as_operators_write_them() {
        assert_eq!(period(Some(Duration::from_secs(86_400))), "1d");
        assert_eq!(period(Some(Duration::from_secs(36 * 3_600))), "36h");
        assert_eq!(period(Some(Duration::from_secs(90 * 60))), "90m");
        assert_eq!(period(Some(Duration::from_secs(45))), "45s");
        assert_eq!(period(None), "unset (events are kept)");
    }
}
