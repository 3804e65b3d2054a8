//! TLS for the node's listeners and for the connections it makes to peers,
//! from password-protected PFX (PKCS#12) certificates kept under
//! `Certificates/` in the storage root, as the operator guide describes.
//!
//! - [`certificates`]: which PFX file serves a listen URI
//!   (`<hostname>-<port>.pfx` before `<port>.pfx`), decrypting it with
//!   `certificates.defaultPassword` and checking it (validity period, name).
//! - [`server`]: a listener's rustls configuration whose certificate can be
//!   reloaded in place (SIGHUP) without dropping connections or data.
//! - [`client`]: the configuration peers connect with: the system's roots
//!   plus any CA certificate placed in `Certificates/` (so a private CA works).
//!
//! rustls runs on one crypto provider, *ring*: [`install_crypto_provider`]
//! is called once at start-up, before any configuration is built.

pub mod certificates;
pub mod client;
pub mod server;

pub use certificates::{Identity, TlsError, CERTIFICATE_PASSWORD_SECRET};
pub use client::client_config;
pub use server::ReloadableCertificate;

/// Installs *ring* as the process's rustls crypto provider; later calls
/// (and a provider installed by someone else first) are harmless.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
