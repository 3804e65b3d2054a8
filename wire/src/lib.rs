//! Skein's replication wire format: what leader and follower exchange on
//! the cluster port, independent of the runtime that carries it (the
//! actors crate's sender and receiver, the fuzz targets).
//!
//! - [`protocol`]: the wire frames (MessagePack, versioned).
//! - [`auth`]: challenge–response with the cluster key (HMAC-SHA256),
//!   [`ClusterKey`].
//! - [`seal`]: [`SessionSeal`], binding every frame after the handshake to
//!   its session.
//! - [`share`]: the scale-out query exchange on the internal API: a
//!   [`share::ShareRequest`] out, a partial query result back.
//! - [`WireError`]: why a frame could not be encoded, decoded or opened.

pub mod auth;
pub mod protocol;
pub mod seal;
pub mod share;

pub use auth::ClusterKey;
pub use protocol::Frame;
pub use seal::SessionSeal;

/// Why the wire format refused something.
#[derive(Debug, thiserror::Error)]
pub enum WireError {
    /// A frame could not be decoded or opened.
    #[error("malformed frame: {0}")]
    Malformed(String),
    /// A frame could not be encoded.
    #[error("cannot encode a frame: {0}")]
    Encode(String),
    /// The cluster key or the randomness behind the handshake is unusable.
    #[error("{0}")]
    Config(String),
}
