//! The cluster port (`cluster.listenUri`, `ws://host:port`): a second HTTP
//! server for peers only: the replication WebSocket
//! ([`skein_actors::replication::sender`]) and the scale-out query shares a
//! leader asks its followers to run ([`crate::scale_out::serve`]), and the [`ClusterSetup`] a
//! clustered node runs with (its name, the cluster key from the encrypted
//! secret `cluster.authenticationKey`, its peer).

use actix_web::{web, App, HttpServer};
use anyhow::{bail, Context as _};
use skein_actors::replication::endpoint::{self, SenderHub};
use skein_actors::replication::{ClusterKey, ClusterSetup, ReplicationState};
use skein_actors::NodeActors;

use crate::api::peer_proof::PeerProof;
use crate::scale_out::ShareServer;
use crate::secrets::{SecretStore, CLUSTER_KEY_SECRET};
use crate::settings::runtime::{NodeRole, RuntimeConfig};
use crate::tls::NodeTls;

/// The replication setup of a clustered node (`None` for a standalone node
/// without a cluster port). A clustered node without its cluster key could
/// neither prove itself nor check its peer: that is an error naming the
/// secret and how to set it, and `skein run` exits with it.
pub fn cluster_setup(
    config: &RuntimeConfig,
    secrets: &SecretStore,
    node_name: &str,
) -> anyhow::Result<Option<ClusterSetup>> {
    let c = &config.cluster;
    if c.role == NodeRole::Standalone && c.listen_uri.is_none() {
        return Ok(None);
    }
    let key = secrets
        .get(CLUSTER_KEY_SECRET)
        .with_context(|| format!("cannot read the cluster key (secret {CLUSTER_KEY_SECRET})"))?;
    let Some(key) = key else {
        bail!(
            "this node is configured for a cluster (cluster.role {}, cluster.listenUri {}) but its \
             cluster key, the secret {CLUSTER_KEY_SECRET}, is not set: without it the node can \
             neither prove itself to its peer nor check the peer. Set it with \
             `skein node setup ... -k KEY` or `skein secret set -k {CLUSTER_KEY_SECRET} -v KEY` \
             (the same key on every node of the cluster), then start the node again",
            format!("{:?}", c.role).to_lowercase(),
            c.listen_uri.as_ref().map_or("unset", |u| u.as_str()),
        );
    };
    Ok(Some(ClusterSetup {
        node_name: node_name.to_owned(),
        key: ClusterKey::new(&key)?,
        peer_cluster_uris: c.peers.iter().map(|p| p.cluster_uri.to_string()).collect(),
        state: ReplicationState::default(),
        client_tls: None,
    }))
}

/// Binds the cluster port when `cluster.listenUri` is set; the returned
/// server still has to be awaited (it stops on SIGINT/SIGTERM like the API).
pub fn cluster_server(
    config: &RuntimeConfig,
    actors: &NodeActors,
    tls: &NodeTls,
) -> anyhow::Result<Option<actix_web::dev::Server>> {
    let (Some(uri), Some(setup)) = (&config.cluster.listen_uri, &actors.cluster) else {
        return Ok(None);
    };
    let secure = match uri.scheme() {
        "wss" => true,
        "ws" => false,
        other => bail!("{uri}: cluster URIs are ws:// or wss://, not {other}://"),
    };
    let (host, port) = crate::tls::host_and_port(uri)?;
    let tls_config = match secure {
        true => Some(
            tls.listener(&host, port)
                .with_context(|| format!("cannot serve the cluster port {uri}"))?,
        ),
        false => None,
    };
    let hub = web::Data::new(SenderHub {
        store: actors.store.clone(),
        generations: actors.store_writer.clone().recipient(),
        role: actors.role.clone(),
        setup: setup.clone(),
        health: Some(actors.health.clone().recipient()),
    });
    let shares = web::Data::new(ShareServer {
        store: actors.store.clone(),
        role: actors.role.clone(),
        replication: setup.state.clone(),
        proof: PeerProof::new(setup.key.clone(), setup.node_name.clone())
            .counting_in(setup.state.clone()),
    });
    let server = HttpServer::new(move || {
        App::new()
            .app_data(hub.clone())
            .configure(endpoint::configure)
            .configure(|cfg| crate::scale_out::serve::configure(cfg, shares.clone()))
    })
    .workers(1)
    .shutdown_timeout(1);
    let mut server = server;
    let binds = crate::listen::bind_hosts(uri, &host, true);
    for bind in &binds {
        let context = || format!("cannot listen for the cluster on {bind}:{port}");
        for socket in crate::listen::bind(bind, port).with_context(context)? {
            server = match &tls_config {
                Some(c) => server.listen_rustls_0_23(socket, c.clone()),
                None => server.listen(socket),
            }
            .with_context(context)?;
        }
    }
    let server = server.run();
    log::info!(
        "cluster port listening on {uri} (bound to {})",
        binds.join(", ")
    );
    Ok(Some(server))
}
