//! TLS for the node's listeners and for the connections it makes to peers,
//! from password-protected PFX (PKCS#12) certificates kept under
//! `Certificates/` in the storage root, as the operator guide describes.
//!
//! - [`certificates`]: which PFX file serves a listen URI
//!   (`<hostname>-<port>.pfx` before `<port>.pfx`), decrypting it with
//!   `certificates.defaultPassword` and checking it (validity period, name).
//! - [`names`]: the names a listener's certificate may be for (the
//!   listener's host, `api.canonicalUri`'s host, the node name, the host
//!   name), so the guide's `localhost` listeners serve the certificate
//!   issued for the node's real name.
//! - [`server`]: a listener's rustls configuration whose certificate can be
//!   reloaded in place (SIGHUP) without dropping connections or data.
//! - [`client`]: the configuration peers connect with: the system's roots
//!   plus any CA certificate placed in `Certificates/` (so a private CA
//!   works), re-read in place on reload.
//! - [`node`]: a running node's listeners and peer roots, both reloaded on
//!   SIGHUP (a renewed certificate is served, a CA added to or rotated in
//!   `Certificates/` trusted, without a restart).
//!
//! rustls runs on one crypto provider, *ring*: [`install_crypto_provider`]
//! is called once at start-up, before any configuration is built.

pub mod certificates;
pub mod client;
pub mod names;
pub mod node;
pub mod server;

pub use certificates::{Identity, TlsError, CERTIFICATE_PASSWORD_SECRET};
pub use client::{client_config, PeerRoots};
pub use names::NodeNames;
pub use node::{reload_on_sighup, NodeTls};
pub use server::ReloadableCertificate;

/// The host (without IPv6 brackets) and port of a listen URI.
pub fn host_and_port(uri: &url::Url) -> anyhow::Result<(String, u16)> {
    use anyhow::Context as _;
    let host = uri
        .host_str()
        .with_context(|| format!("{uri}: a listen URI needs a host"))?
        .trim_matches(['[', ']'])
        .to_owned();
    let port = match uri.scheme() {
        "ws" => uri.port().unwrap_or(80),
        "wss" => uri.port().unwrap_or(443),
        _ => uri
            .port_or_known_default()
            .with_context(|| format!("{uri}: a listen URI needs a port"))?,
    };
    Ok((host, port))
}

/// Installs *ring* as the process's rustls crypto provider; later calls
/// (and a provider installed by someone else first) are harmless.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
