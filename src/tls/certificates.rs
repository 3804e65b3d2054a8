//! Finding, decrypting and checking a listener's PFX certificate.
//!
//! A listen URI `https://host:port` (or `wss://`) is served with
//! `Certificates/<host>-<port>.pfx` when it exists, else
//! `Certificates/<port>.pfx`. The file is decrypted with the secret
//! [`CERTIFICATE_PASSWORD_SECRET`] (modern PBES2/AES and legacy 3DES/RC2
//! files alike) and refused, with a message naming the file and the fix,
//! when it is missing, the password is wrong, it holds no private key, it
//! has expired or is not yet valid, or it names none of the names the
//! node is reached by (see [`super::names`]).

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use p12_keystore::{KeyStore, Pkcs12ImportPolicy};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use x509_parser::extensions::GeneralName;
use x509_parser::prelude::{FromDer, X509Certificate};

use super::names::{self, NodeNames};

pub use crate::secrets::CERTIFICATE_PASSWORD_SECRET;

/// Why a certificate cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// Neither candidate file exists.
    #[error(
        "no certificate for {host}:{port}: put a PFX file at {} or {}",
        .tried[0].display(), .tried[1].display()
    )]
    Missing {
        /// The host of the listen URI.
        host: String,
        /// The port of the listen URI.
        port: u16,
        /// The files looked for, in order.
        tried: [PathBuf; 2],
    },
    /// The secret is not set.
    #[error(
        "{path} needs a password: set it with `skein secret set -k {secret} -v <password>`",
        path = .0.display(), secret = CERTIFICATE_PASSWORD_SECRET
    )]
    NoPassword(PathBuf),
    /// The file cannot be read.
    #[error("cannot read {path}: {e}", path = .0.display(), e = .1)]
    Unreadable(PathBuf, std::io::Error),
    /// The password does not open the file.
    #[error(
        "{path}: wrong password (the secret {secret} does not open it)",
        path = .0.display(), secret = CERTIFICATE_PASSWORD_SECRET
    )]
    WrongPassword(PathBuf),
    /// The file is not a PFX file this build can read.
    #[error("{path}: not a readable PFX (PKCS#12) file: {e}", path = .0.display(), e = .1)]
    Malformed(PathBuf, String),
    /// The file holds certificates but no private key.
    #[error("{}: holds no private key with its certificate chain", .0.display())]
    NoKey(PathBuf),
    /// The certificate's validity period has ended.
    #[error("{path}: the certificate expired on {when}", path = .0.display(), when = .1)]
    Expired(PathBuf, String),
    /// The certificate's validity period has not begun.
    #[error("{path}: the certificate is not valid before {when}", path = .0.display(), when = .1)]
    NotYetValid(PathBuf, String),
    /// The certificate names none of the names the node is reached by:
    /// the file, those names (comma-separated) and the certificate's.
    #[error(
        "{path}: the certificate is for {names}, none of the names this node is reached by \
         ({candidates}): issue it for one of them, or set api.canonicalUri or --node-name to \
         the name it is issued for",
        path = .0.display(), candidates = .1, names = .2
    )]
    NameMismatch(PathBuf, String, String),
    /// rustls refused the key or chain.
    #[error("{path}: {e}", path = .0.display(), e = .1)]
    Rejected(PathBuf, String),
}

/// A decrypted certificate chain (leaf first) and its private key.
#[derive(Debug)]
pub struct Identity {
    /// The file it came from.
    pub path: PathBuf,
    /// The chain, leaf first.
    pub chain: Vec<CertificateDer<'static>>,
    /// The leaf's private key (PKCS#8).
    pub key: PrivateKeyDer<'static>,
}

/// The PFX file for `host:port` under `dir`: `<host>-<port>.pfx`, else
/// `<port>.pfx`.
pub fn find(dir: &Path, host: &str, port: u16) -> Result<PathBuf, TlsError> {
    let tried = [
        dir.join(format!("{host}-{port}.pfx")),
        dir.join(format!("{port}.pfx")),
    ];
    match tried.iter().find(|p| p.is_file()) {
        Some(p) => Ok(p.clone()),
        None => Err(TlsError::Missing {
            host: host.to_owned(),
            port,
            tried,
        }),
    }
}

/// Decrypts the PFX at `path` with `password`.
pub fn load(path: &Path, password: Option<&str>) -> Result<Identity, TlsError> {
    let password = password.ok_or_else(|| TlsError::NoPassword(path.to_owned()))?;
    let der = std::fs::read(path).map_err(|e| TlsError::Unreadable(path.to_owned(), e))?;
    let store = KeyStore::from_pkcs12(&der, password, Pkcs12ImportPolicy::Relaxed).map_err(
        |e| match e {
            p12_keystore::error::Error::MacError(_) => TlsError::WrongPassword(path.to_owned()),
            other => TlsError::Malformed(path.to_owned(), other.to_string()),
        },
    )?;
    let (_, chain) = store
        .private_key_chain()
        .ok_or_else(|| TlsError::NoKey(path.to_owned()))?;
    if chain.certs().is_empty() {
        return Err(TlsError::NoKey(path.to_owned()));
    }
    Ok(Identity {
        path: path.to_owned(),
        chain: chain
            .certs()
            .iter()
            .map(|c| CertificateDer::from(c.as_der().to_vec()))
            .collect(),
        key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(chain.key().as_der().to_vec())),
    })
}

impl Identity {
    /// Checks that the leaf certificate is valid at `now` and names the
    /// listener's `host` or one of the `node`'s names (see
    /// [`super::names`]: DNS names, wildcards included, or IP addresses).
    pub fn check(&self, host: &str, node: &NodeNames, now: SystemTime) -> Result<(), TlsError> {
        let malformed = |e: String| TlsError::Malformed(self.path.clone(), e);
        let (_, leaf) =
            X509Certificate::from_der(&self.chain[0]).map_err(|e| malformed(e.to_string()))?;
        let seconds = now
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        let validity = leaf.validity();
        if seconds > validity.not_after.timestamp() {
            let when = validity.not_after.to_string();
            return Err(TlsError::Expired(self.path.clone(), when));
        }
        if seconds < validity.not_before.timestamp() {
            let when = validity.not_before.to_string();
            return Err(TlsError::NotYetValid(self.path.clone(), when));
        }
        names::check(
            &self.path,
            &leaf_names(&leaf),
            &names::candidates(host, node),
        )
    }
}

/// The names a leaf certificate is for: its subject alternative names, or
/// its common name when it has none.
fn leaf_names(leaf: &X509Certificate<'_>) -> Vec<String> {
    let mut names = Vec::new();
    if let Ok(Some(san)) = leaf.subject_alternative_name() {
        for name in &san.value.general_names {
            match name {
                GeneralName::DNSName(d) => names.push(d.to_ascii_lowercase()),
                GeneralName::IPAddress(bytes) => {
                    let ip = match bytes.len() {
                        4 => <[u8; 4]>::try_from(*bytes).ok().map(IpAddr::from),
                        16 => <[u8; 16]>::try_from(*bytes).ok().map(IpAddr::from),
                        _ => None,
                    };
                    names.extend(ip.map(|ip| ip.to_string()));
                }
                _ => {}
            }
        }
    }
    if names.is_empty() {
        let cn = leaf.subject().iter_common_name().next();
        names.extend(
            cn.and_then(|c| c.as_str().ok())
                .map(str::to_ascii_lowercase),
        );
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_host_port_file_comes_before_the_port_file() {
        let dir = tempfile::tempdir().unwrap();
        let err = find(dir.path(), "seq001", 443).unwrap_err().to_string();
        assert!(
            err.contains("seq001-443.pfx") && err.contains("443.pfx"),
            "{err}"
        );
        std::fs::write(dir.path().join("443.pfx"), b"x").unwrap();
        assert!(find(dir.path(), "seq001", 443)
            .unwrap()
            .ends_with("443.pfx"));
        std::fs::write(dir.path().join("seq001-443.pfx"), b"x").unwrap();
        let chosen = find(dir.path(), "seq001", 443).unwrap();
        assert!(chosen.ends_with("seq001-443.pfx"), "{chosen:?}");
    }

    #[test]
    fn a_missing_password_and_a_missing_file_are_clear() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("443.pfx");
        let err = load(&path, None).unwrap_err().to_string();
        assert!(
            err.contains("skein secret set -k certificates.defaultPassword"),
            "{err}"
        );
        let err = load(&path, Some("pw")).unwrap_err().to_string();
        assert!(err.contains("cannot read"), "{err}");
        std::fs::write(&path, b"not a pfx").unwrap();
        let err = load(&path, Some("pw")).unwrap_err().to_string();
        assert!(err.contains("not a readable PFX"), "{err}");
    }
}
