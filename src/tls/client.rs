//! How this node verifies the peers it connects to over `https://` and
//! `wss://`: the system's trusted roots plus every CA certificate placed in
//! `Certificates/` (`*.crt`, `*.pem`, `*.cer`; PEM or DER), so a cluster
//! can run on certificates from a private CA.
//!
//! [`PeerRoots`] is the verifier of every client configuration the node
//! hands out; [`PeerRoots::reload`] (SIGHUP) re-reads the roots in place, so
//! a CA added to or rotated in `Certificates/` is trusted by the next
//! connection without a restart.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};

/// The roots: the system's, plus the CA certificates under `dir` (a file
/// or certificate that cannot be used is logged and skipped). Also returns
/// how many came from `dir`.
pub fn roots(dir: &Path) -> (RootCertStore, usize) {
    let mut roots = RootCertStore::empty();
    let system = rustls_native_certs::load_native_certs();
    for e in &system.errors {
        log::debug!("system certificates: {e}");
    }
    roots.add_parsable_certificates(system.certs);
    let mut own = 0;
    for (path, certs) in ca_files(dir) {
        let mut added = 0;
        for cert in certs {
            match roots.add(cert) {
                Ok(()) => added += 1,
                Err(e) => log::error!(
                    "a certificate in {} is not trusted: it cannot be used as a CA ({e})",
                    path.display()
                ),
            }
        }
        if added > 0 {
            log::info!("trusting {added} CA certificate(s) in {}", path.display());
        }
        own += added;
    }
    (roots, own)
}

/// A rustls client configuration for connections to peers, verified by
/// `roots` (and following its reloads).
///
/// Session resumption is off: a resumed TLS session skips certificate
/// verification, so after a CA is withdrawn a peer could go on being
/// accepted on the strength of a session verified with it. Peer
/// connections are long-lived (replication) or pooled (proxying), so every
/// new one paying a full handshake costs little.
pub fn client_config(roots: Arc<PeerRoots>) -> Arc<rustls::ClientConfig> {
    let mut config = rustls::ClientConfig::builder()
        .dangerous()
        .with_custom_certificate_verifier(roots)
        .with_no_client_auth();
    config.resumption = rustls::client::Resumption::disabled();
    Arc::new(config)
}

/// The certificates of each `*.crt`, `*.pem` and `*.cer` file under `dir`.
fn ca_files(dir: &Path) -> Vec<(PathBuf, Vec<CertificateDer<'static>>)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        if !matches!(ext.to_ascii_lowercase().as_str(), "crt" | "pem" | "cer") {
            continue;
        }
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) => {
                log::error!("cannot read the CA certificate {}: {e}", path.display());
                continue;
            }
        };
        let pem: Vec<_> = CertificateDer::pem_slice_iter(&bytes)
            .filter_map(Result::ok)
            .collect();
        // A DER file holds one certificate.
        let certs = match pem.is_empty() {
            true => vec![CertificateDer::from(bytes)],
            false => pem,
        };
        files.push((path, certs));
    }
    files
}

/// The peer verifier: WebPKI over the current roots, swapped on reload.
#[derive(Debug)]
pub struct PeerRoots {
    dir: PathBuf,
    provider: Arc<CryptoProvider>,
    /// `None` when no root at all is known: every peer is refused.
    current: RwLock<Option<Arc<WebPkiServerVerifier>>>,
}

impl PeerRoots {
    /// The roots of the system and of `certificates_dir`, read now.
    pub fn new(certificates_dir: &Path) -> Arc<PeerRoots> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let current = RwLock::new(verifier(certificates_dir, &provider).0);
        Arc::new(PeerRoots {
            dir: certificates_dir.to_owned(),
            provider,
            current,
        })
    }

    /// Re-reads the roots; later handshakes use them. How many came from
    /// `Certificates/`.
    pub fn reload(&self) -> usize {
        let (fresh, own) = verifier(&self.dir, &self.provider);
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = fresh;
        own
    }

    fn current(&self) -> Result<Arc<WebPkiServerVerifier>, rustls::Error> {
        let current = self.current.read().unwrap_or_else(|e| e.into_inner());
        current.clone().ok_or_else(|| {
            rustls::Error::General("no trusted root certificate (system or Certificates/)".into())
        })
    }
}

fn verifier(
    dir: &Path,
    provider: &Arc<CryptoProvider>,
) -> (Option<Arc<WebPkiServerVerifier>>, usize) {
    let (roots, own) = roots(dir);
    let built = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .inspect_err(|e| log::error!("peers cannot be verified: {e}"))
        .ok();
    (built, own)
}

impl ServerCertVerifier for PeerRoots {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.current()?.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        )
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algorithms = &self.provider.signature_verification_algorithms;
        verify_tls12_signature(message, cert, dss, algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algorithms = &self.provider.signature_verification_algorithms;
        verify_tls13_signature(message, cert, dss, algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}
