//! A listener's certificate, reloadable in place: [`ReloadableCertificate`]
//! is the rustls certificate resolver of every `https://`/`wss://` listener,
//! so a SIGHUP (or any caller of [`ReloadableCertificate::reload`]) swaps in
//! the re-read PFX for new handshakes while open connections carry on. A
//! reload that fails keeps the certificate in use and says why.

use std::sync::{Arc, RwLock};

use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

use super::certificates::{Identity, TlsError};

/// Produces the identity to serve (reads and checks the PFX file).
pub type IdentitySource = Box<dyn Fn() -> Result<Identity, TlsError> + Send + Sync>;

/// The certificate a listener serves, reloadable.
pub struct ReloadableCertificate {
    label: String,
    source: IdentitySource,
    current: RwLock<Arc<CertifiedKey>>,
}

impl std::fmt::Debug for ReloadableCertificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReloadableCertificate")
            .field("label", &self.label)
            .finish_non_exhaustive()
    }
}

impl ReloadableCertificate {
    /// Loads the first identity from `source`; `label` names the listener
    /// in log lines.
    pub fn new(
        label: impl Into<String>,
        source: IdentitySource,
    ) -> Result<Arc<ReloadableCertificate>, TlsError> {
        let key = certified(source()?)?;
        Ok(Arc::new(ReloadableCertificate {
            label: label.into(),
            source,
            current: RwLock::new(Arc::new(key)),
        }))
    }

    /// Re-reads the certificate; on failure the one in use stays.
    pub fn reload(&self) -> Result<(), TlsError> {
        let key = certified((self.source)()?)?;
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(key);
        log::info!("{}: certificate reloaded", self.label);
        Ok(())
    }

    /// The listener's rustls configuration (no client certificates).
    pub fn server_config(self: &Arc<Self>) -> rustls::ServerConfig {
        rustls::ServerConfig::builder()
            .with_no_client_auth()
            .with_cert_resolver(self.clone())
    }
}

impl ResolvesServerCert for ReloadableCertificate {
    fn resolve(&self, _: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(
            self.current
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .clone(),
        )
    }
}

/// The identity as rustls serves it; the key must match the leaf.
fn certified(identity: Identity) -> Result<CertifiedKey, TlsError> {
    let provider = rustls::crypto::ring::default_provider();
    let path = identity.path.clone();
    CertifiedKey::from_der(identity.chain, identity.key, &provider)
        .map_err(|e| TlsError::Rejected(path, e.to_string()))
}
