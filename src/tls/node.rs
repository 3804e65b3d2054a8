//! A running node's TLS: [`NodeTls`] builds the rustls configuration of
//! each `https://`/`wss://` listener from `Certificates/` (refusing to
//! start with a clear message when the certificate is missing, locked with
//! another password, expired or for none of the node's names: see
//! [`super::names`]), keeps every listener's
//! certificate for [`NodeTls::reload`] (SIGHUP, see
//! [`reload_on_sighup`]) and gives the client configuration for
//! connections to peers, whose trusted roots the same reload re-reads.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use super::certificates::{self, TlsError, CERTIFICATE_PASSWORD_SECRET};
use super::client::PeerRoots;
use super::names::NodeNames;
use super::server::ReloadableCertificate;
use crate::secrets::SecretStore;
use crate::storage::StorageRoot;

/// The node's certificates and peer roots.
pub struct NodeTls {
    dir: PathBuf,
    secrets: Arc<SecretStore>,
    names: NodeNames,
    listeners: Mutex<Vec<Arc<ReloadableCertificate>>>,
    peers: Arc<PeerRoots>,
    client: Arc<rustls::ClientConfig>,
}

impl NodeTls {
    /// TLS for the node at `root`, reading the PFX password from `secrets`;
    /// a listener's certificate may be for its own host or any of `names`.
    pub fn new(root: &StorageRoot, secrets: Arc<SecretStore>, names: NodeNames) -> Arc<NodeTls> {
        super::install_crypto_provider();
        let dir = root.certificates_dir();
        let peers = PeerRoots::new(&dir);
        Arc::new(NodeTls {
            client: super::client::client_config(peers.clone()),
            dir,
            secrets,
            names,
            listeners: Mutex::new(Vec::new()),
            peers,
        })
    }

    /// The rustls configuration for a listener on `host:port`; its
    /// certificate is reloaded by [`NodeTls::reload`].
    pub fn listener(&self, host: &str, port: u16) -> Result<rustls::ServerConfig, TlsError> {
        let (dir, secrets) = (self.dir.clone(), self.secrets.clone());
        let names = self.names.clone();
        let host_owned = host.to_owned();
        let source = Box::new(move || {
            let path = certificates::find(&dir, &host_owned, port)?;
            let password = secrets
                .get(CERTIFICATE_PASSWORD_SECRET)
                .map_err(|e| TlsError::Malformed(path.clone(), e.to_string()))?;
            let identity = certificates::load(&path, password.as_deref())?;
            identity.check(&host_owned, &names, SystemTime::now())?;
            Ok(identity)
        });
        let cert = ReloadableCertificate::new(format!("{host}:{port}"), source)?;
        let config = cert.server_config();
        self.listeners
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(cert);
        Ok(config)
    }

    /// Re-reads every listener's certificate (one that fails keeps the
    /// certificate it has, logged) and the roots peers are verified with.
    /// The number of listener certificates reloaded and of CA certificates
    /// trusted from `Certificates/`.
    pub fn reload(&self) -> (usize, usize) {
        let listeners = self.listeners.lock().unwrap_or_else(|e| e.into_inner());
        let mut reloaded = 0;
        for cert in listeners.iter() {
            match cert.reload() {
                Ok(()) => reloaded += 1,
                Err(e) => log::error!("certificate not reloaded, the current one stays: {e}"),
            }
        }
        (reloaded, self.peers.reload())
    }

    /// The configuration for connections to peers (system roots plus the
    /// CA certificates in `Certificates/`, as of the last reload).
    pub fn client_config(&self) -> Arc<rustls::ClientConfig> {
        self.client.clone()
    }
}

/// Reloads `tls`'s certificates on every SIGHUP, for as long as the node
/// runs, then calls `reloaded` (which has connections verified with the old
/// roots verified again); systemd is told of each reload
/// ([`crate::systemd::reloading`]). SIGHUP is caught from this call on
/// (call it on the runtime before saying the node is ready: a SIGHUP not
/// caught would end the process); the returned future handles them.
pub fn reload_on_sighup(
    tls: Arc<NodeTls>,
    reloaded: impl Fn(),
) -> impl std::future::Future<Output = ()> {
    use tokio::signal::unix::{signal, SignalKind};
    let hangups = signal(SignalKind::hangup());
    async move {
        let mut hangups = match hangups {
            Ok(s) => s,
            Err(e) => {
                log::warn!("cannot listen for SIGHUP (certificates reload on restart only): {e}");
                return;
            }
        };
        while hangups.recv().await.is_some() {
            crate::systemd::reloading();
            let (n, cas) = tls.reload();
            log::info!(
                "SIGHUP: {n} listener certificate(s) reloaded; peers verified with the system \
                 roots and {cas} CA certificate(s) from Certificates/"
            );
            reloaded();
            crate::systemd::reloaded();
        }
    }
}
