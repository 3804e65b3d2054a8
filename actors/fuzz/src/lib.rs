//! skein-actors' replication wire modules — frames, their sealing and the
//! cluster key — compiled on their own from the very same source files, so
//! that the fuzz targets need not build the actors' whole runtime with the
//! sanitizer. The modules reach their parent (`super::`) only for
//! [`ReplicationError`] and [`ClusterKey`], which this crate root provides.

#[path = "../../src/replication/auth.rs"]
pub mod auth;
#[path = "../../src/replication/protocol.rs"]
pub mod protocol;
#[path = "../../src/replication/seal.rs"]
pub mod seal;

pub use auth::ClusterKey;

/// The variants of skein-actors' `ReplicationError` that the wire modules
/// return (a module that starts returning another fails to build here).
#[derive(Debug, thiserror::Error)]
pub enum ReplicationError {
    /// A frame could not be decoded.
    #[error("malformed frame: {0}")]
    Malformed(String),
    /// A frame could not be encoded.
    #[error("cannot encode a frame: {0}")]
    Encode(String),
    /// Replication is misconfigured.
    #[error("{0}")]
    Config(String),
}
