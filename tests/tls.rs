//! TLS from PFX certificates (`skein::tls`), with certificates made by the
//! real `openssl` command: modern and legacy PFX files decrypt; a wrong
//! password, an expired certificate and a name mismatch give clear errors;
//! a client trusting the CA in `Certificates/` completes a real TLS
//! handshake over TCP and one that does not is refused; a reload swaps the
//! certificate for new handshakes and a failed reload keeps the old one.

#[path = "support/certs.rs"]
mod certs;
mod support;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use certs::{PfxKind, TestCa};
use rustls::pki_types::ServerName;
use skein::tls::{self, certificates, ReloadableCertificate, TlsError};

const PASSWORD: &str = "pfx-pass-123";

fn source(path: &Path) -> tls::server::IdentitySource {
    let path = path.to_owned();
    Box::new(move || {
        let id = certificates::load(&path, Some(PASSWORD))?;
        id.check("127.0.0.1", SystemTime::now())?;
        Ok(id)
    })
}

/// Serves one TLS connection on a free port with `cert`, answering
/// "pong"; returns the port.
fn serve_once(cert: &Arc<ReloadableCertificate>) -> u16 {
    let config = Arc::new(cert.server_config());
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let (tcp, _) = listener.accept().unwrap();
        tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let conn = rustls::ServerConnection::new(config).unwrap();
        let mut tls = rustls::StreamOwned::new(conn, tcp);
        let mut buf = [0u8; 4];
        if tls.read_exact(&mut buf).is_ok() {
            let _ = tls.write_all(b"pong");
            let _ = tls.flush();
        }
    });
    port
}

/// Connects with `config`, says "ping"; the answer and the leaf
/// certificate the server presented.
fn ping(port: u16, config: Arc<rustls::ClientConfig>) -> Result<Vec<u8>, String> {
    let name = ServerName::try_from("127.0.0.1").unwrap();
    let conn = rustls::ClientConnection::new(config, name).map_err(|e| e.to_string())?;
    let tcp = TcpStream::connect(("127.0.0.1", port)).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    tls.write_all(b"ping").map_err(|e| e.to_string())?;
    let mut answer = [0u8; 4];
    tls.read_exact(&mut answer).map_err(|e| e.to_string())?;
    assert_eq!(&answer, b"pong");
    let leaf = tls.conn.peer_certificates().unwrap()[0].to_vec();
    Ok(leaf)
}

#[test]
fn modern_and_legacy_pfx_files_decrypt_and_are_checked() {
    tls::install_crypto_provider();
    let ca = TestCa::new();
    let dir = tempfile::tempdir().unwrap();
    for (kind, file) in [
        (PfxKind::Modern, "modern.pfx"),
        (PfxKind::Legacy, "legacy.pfx"),
    ] {
        let path = dir.path().join(file);
        ca.issue_pfx(&["localhost", "127.0.0.1"], PASSWORD, kind, &path);
        let id =
            certificates::load(&path, Some(PASSWORD)).unwrap_or_else(|e| panic!("{kind:?}: {e}"));
        assert_eq!(id.chain.len(), 2, "{kind:?}: leaf and CA");
        let now = SystemTime::now();
        id.check("localhost", now).unwrap();
        id.check("127.0.0.1", now).unwrap();
        id.check("0.0.0.0", now).unwrap();
        let e = id.check("seq002.example.com", now).unwrap_err();
        assert!(matches!(e, TlsError::NameMismatch(..)), "{e}");
        assert!(e.to_string().contains("localhost, 127.0.0.1"), "{e}");
        let later = now + Duration::from_secs(30 * 24 * 3600);
        let e = id.check("localhost", later).unwrap_err();
        assert!(e.to_string().contains("expired on"), "{kind:?}: {e}");
        let e = certificates::load(&path, Some("not-the-password")).unwrap_err();
        assert!(matches!(e, TlsError::WrongPassword(_)), "{kind:?}: {e}");
        assert!(e.to_string().contains("wrong password"), "{e}");
    }
}

#[test]
fn a_client_trusting_the_private_ca_connects_and_others_are_refused() {
    tls::install_crypto_provider();
    let ca = TestCa::new();
    let certificates_dir = tempfile::tempdir().unwrap();
    let pfx = certificates_dir.path().join("443.pfx");
    ca.issue_pfx(&["127.0.0.1"], PASSWORD, PfxKind::Modern, &pfx);
    let cert = ReloadableCertificate::new("test listener", source(&pfx)).unwrap();

    // No CA in Certificates/: only the system roots, which do not know it.
    let untrusting = tls::client_config(certificates_dir.path());
    let err = ping(serve_once(&cert), untrusting).unwrap_err();
    assert!(err.to_lowercase().contains("unknownissuer"), "{err}");

    std::fs::copy(ca.cert_path(), certificates_dir.path().join("test-ca.crt")).unwrap();
    let trusting = tls::client_config(certificates_dir.path());
    let first = ping(serve_once(&cert), trusting.clone()).unwrap();

    // A renewed certificate at the same path is served after a reload.
    ca.issue_pfx(&["127.0.0.1"], PASSWORD, PfxKind::Legacy, &pfx);
    assert_eq!(ping(serve_once(&cert), trusting.clone()).unwrap(), first);
    cert.reload().unwrap();
    let renewed = ping(serve_once(&cert), trusting.clone()).unwrap();
    assert_ne!(renewed, first, "the reloaded certificate is served");

    // A reload that fails keeps the certificate in use.
    std::fs::write(&pfx, b"garbage").unwrap();
    let e = cert.reload().unwrap_err();
    assert!(e.to_string().contains("not a readable PFX"), "{e}");
    assert_eq!(ping(serve_once(&cert), trusting).unwrap(), renewed);
}
