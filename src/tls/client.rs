//! How this node verifies the peers it connects to over `https://` and
//! `wss://`: the system's trusted roots plus every CA certificate placed in
//! `Certificates/` (`*.crt`, `*.pem`, `*.cer`; PEM or DER), so a cluster
//! can run on certificates from a private CA.

use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::CertificateDer;
use rustls::RootCertStore;

/// The roots: the system's, plus the CA certificates under `dir` (a file
/// that cannot be parsed is logged and skipped). Also returns how many came
/// from `dir`.
pub fn roots(dir: &Path) -> (RootCertStore, usize) {
    let mut roots = RootCertStore::empty();
    let system = rustls_native_certs::load_native_certs();
    for e in &system.errors {
        log::debug!("system certificates: {e}");
    }
    roots.add_parsable_certificates(system.certs);
    let mut own = 0;
    for cert in ca_files(dir) {
        if roots.add(cert).is_ok() {
            own += 1;
        }
    }
    (roots, own)
}

/// The rustls client configuration for connections to peers.
pub fn client_config(certificates_dir: &Path) -> Arc<rustls::ClientConfig> {
    let (roots, _) = roots(certificates_dir);
    Arc::new(
        rustls::ClientConfig::builder()
            .with_root_certificates(roots)
            .with_no_client_auth(),
    )
}

/// The certificates in `*.crt`, `*.pem` and `*.cer` files under `dir`.
fn ca_files(dir: &Path) -> Vec<CertificateDer<'static>> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut certs = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        if !matches!(ext.to_ascii_lowercase().as_str(), "crt" | "pem" | "cer") {
            continue;
        }
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        let pem: Vec<_> = CertificateDer::pem_slice_iter(&bytes)
            .filter_map(Result::ok)
            .collect();
        if pem.is_empty() {
            // A DER file holds one certificate.
            certs.push(CertificateDer::from(bytes));
        } else {
            certs.extend(pem);
        }
        log::info!("trusting the CA certificate(s) in {}", path.display());
    }
    certs
}
