//! The server-wide settings as this node last read them from the metastore.

use std::time::Instant;

use actix::Message;

use crate::metastore::settings::ServerSettings;

/// The server-wide settings and when the read that returned them began:
/// nothing changed in the metastore before `read_at` is missing from them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SettingsSnapshot {
    /// The settings.
    pub settings: ServerSettings,
    /// When the read began.
    pub read_at: Instant,
}

/// A fresh read of the server-wide settings (SettingsFollower → the actors
/// that act on them), sent after every successful read.
#[derive(Clone, Debug, Message)]
#[rtype(result = "()")]
pub struct SettingsRead(pub SettingsSnapshot);

/// Read the server-wide settings now and apply them on this node before
/// answering (after this node changed them).
#[derive(Clone, Copy, Debug, Message)]
#[rtype(result = "Result<SettingsSnapshot, crate::metastore::MetastoreError>")]
pub struct RefreshSettings;
