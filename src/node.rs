//! `skein run`: opens the node's store and metastore, starts its actors and
//! serves the HTTP API until SIGINT or SIGTERM (actix-web stops gracefully:
//! in-flight requests finish; everything acknowledged is already fsynced).

use std::sync::Arc;

use actix::Actor as _;
use actix_web::middleware::from_fn;
use actix_web::{web, App, HttpServer};
use anyhow::{bail, Context as _};
use skein_actors::cluster::{ClusterTiming, CoordinatorConfig};
use skein_actors::messages::{RefreshSettings, Role, RolePublisher, RoleSnapshot};
use skein_actors::metastore::cluster::LeaseGrant;
use skein_actors::metastore::Metastore;
use skein_actors::store_writer::Quorum;
use skein_actors::{ClusterCoordinator, NodeActors, SettingsFollower};
use skein_store::{Store, StoreOptions};
use url::Url;

use crate::api::leader_route::LeaderRoute;
use crate::api::{self, AppState, Credentials, Metrics};
use crate::context::Context;
use crate::metastore_url::{metastore_url, POSTGRES_SECRET};
use crate::settings::runtime::{NodeRole, RuntimeConfig};
use crate::tls::{NodeNames, NodeTls};

/// What the node prints on standard error once every listener is bound:
/// `skein VERSION ready: listening on URI[, URI…]` (`skein service start`
/// waits for it).
pub const READY: &str = "ready: listening on";

/// Runs the node in the foreground until it is told to stop.
pub fn run(ctx: &Context) -> anyhow::Result<()> {
    let config = ctx.runtime()?;
    ctx.root
        .ensure()
        .context("cannot prepare the storage root")?;
    // Held until the node stops: one process per event store.
    let _claim = crate::run_lock::claim(ctx.root.path())?;
    let secrets = Arc::new(ctx.secrets()?);
    let url = metastore_url(&ctx.root, &secrets)?;
    let names = NodeNames::new(
        config.canonical_uri.as_ref(),
        config.cluster.node_name.as_deref(),
        NodeNames::host_name().as_deref(),
    );
    let tls = NodeTls::new(&ctx.root, secrets.clone(), names);
    let listeners = listeners(&config, &tls)?;
    let opts = StoreOptions {
        disk_floor_bytes: config.flush_floor_bytes,
        ..StoreOptions::default()
    };
    let stream = ctx.root.stream_dir();
    let store = Arc::new(
        Store::open(&stream, opts)
            .with_context(|| format!("cannot open the event store in {}", stream.display()))?,
    );
    log::info!(
        "event store {} at generation {}",
        stream.display(),
        store.generation()
    );
    let role = match config.cluster.role {
        NodeRole::Standalone => Role::Standalone,
        NodeRole::Leader => Role::Leader,
        NodeRole::Follower => Role::Follower,
    };
    let instance_name = config.cluster.node_name.clone().unwrap_or_else(hostname);
    let mut cluster = crate::cluster_port::cluster_setup(&config, &secrets, &instance_name)?;
    require_shared_metastore(&config, &secrets)?;
    if let Some(setup) = &mut cluster {
        setup.client_tls = Some(tls.client_config());
    }
    // Tasks still running when the node stops are dropped after the actix
    // runtime has gone; a pooled metastore connection among them returns to
    // its pool by spawning onto the current Tokio runtime (sqlx) and panics
    // without one. This idle runtime is there for them.
    let fallback = tokio::runtime::Builder::new_current_thread().build()?;
    let _fallback = fallback.enter();
    // Declared after `_fallback`, so the runner and its tasks drop before it.
    let runner = actix_web::rt::System::new();
    runner.block_on(serve(
        config,
        store,
        url,
        (listeners, tls),
        (role, cluster),
        instance_name,
        ctx.env,
    ))
}

async fn serve(
    config: RuntimeConfig,
    store: Arc<Store>,
    metastore_url: String,
    (listeners, tls): (Vec<Listener>, Arc<NodeTls>),
    (role, cluster): (Role, Option<skein_actors::replication::ClusterSetup>),
    instance_name: String,
    env: &std::collections::HashMap<String, String>,
) -> anyhow::Result<()> {
    let metastore = Metastore::open(&metastore_url).await?;
    announce_auth(&metastore, env, config.auth_required).await?;
    let term = store.status().term;
    // Leadership from the shared metastore: the ClusterCoordinator owns the
    // node's state and publishes it; a standalone node's role is fixed.
    let timing = ClusterTiming::from_env(config.cluster.auto_failover, |k| std::env::var(k).ok());
    let grant = LeaseGrant {
        lease: timing.lease,
        acknowledging_replicas: config.replication.minimum_acknowledging_replicas,
    };
    let shared = role != Role::Standalone && metastore.is_shared();
    let opened = match shared {
        true => Some(
            ClusterCoordinator::open_or_fence(&metastore, &instance_name, role, term, grant).await,
        ),
        false => None,
    };
    let mut publisher = RolePublisher::new(RoleSnapshot::initial(role, term));
    if let Some(state) = &opened {
        ClusterCoordinator::publish(&publisher, state, &timing);
    }
    // Durable acknowledgements: the leader's write path waits for the
    // followers that replication reports.
    let quorum = cluster.as_ref().map(|c| Quorum {
        replicas: config.replication.minimum_acknowledging_replicas,
        timeout: config.replication.acknowledgement_timeout,
        replication: c.state.clone(),
    });
    let actors = NodeActors::start_clustered(store, &mut publisher, cluster, quorum);
    let gate = api::proxy::LeaderGate::new(actors.role.clone());
    let coordinator = opened.map(|state| {
        let uri = |u: &Option<Url>| u.as_ref().map(Url::to_string);
        let me = CoordinatorConfig {
            me: instance_name.clone(),
            cluster_uri: uri(&config.cluster.listen_uri),
            internal_api_uri: uri(&config.cluster.internal_api_uri),
            timing,
            gate: gate.clone(),
            replication: actors.cluster.as_ref().map(|c| c.state.clone()),
            auto_failover: config.cluster.auto_failover,
            acknowledging_replicas: config.replication.minimum_acknowledging_replicas,
        };
        let (ms, store) = (metastore.clone(), actors.store.clone());
        let owner = (publisher, Some(actors.health.clone().recipient()));
        let c = ClusterCoordinator::start(ms, store, me, owner, state);
        if let Some(setup) = &actors.cluster {
            setup.state.report_to(c.clone().recipient());
        }
        c
    });
    let cluster_server = crate::cluster_port::cluster_server(&config, &actors, &tls)?;
    // The server-wide settings follow the metastore on every node, whatever
    // its role; the store writer acts on them (retention).
    let subscribers = vec![actors.store_writer.clone().recipient()];
    let (follower, settings) = SettingsFollower::new(metastore.clone(), subscribers);
    let follower = follower.start();
    if let Err(e) = follower.send(RefreshSettings).await? {
        log::warn!("cannot read the server settings yet (retrying every second): {e}");
    }
    let proof = actors.cluster.as_ref().map(|c| {
        api::peer_proof::PeerProof::new(c.key.clone(), c.node_name.clone())
            .counting_in(c.state.clone())
    });
    let roots = tls.client_config();
    let scale_out = match (&actors.cluster, &proof) {
        (Some(c), Some(proof)) if config.cluster.scale_out_queries => {
            let setup = crate::scale_out::ScaleOutSetup {
                store: actors.store.clone(),
                role: actors.role.clone(),
                replication: c.state.clone(),
                metastore: metastore.clone(),
                proof: proof.clone(),
                tls: roots.clone(),
                me: instance_name.clone(),
            };
            Some(crate::scale_out::ScaleOut::new(setup, |k| {
                std::env::var(k).ok()
            }))
        }
        _ => None,
    };
    let credentials = Credentials::new(metastore, settings, follower);
    let state = web::Data::new(AppState {
        actors,
        credentials,
        metrics: Metrics::default(),
        max_payload_bytes: config.max_payload_bytes,
        instance_name,
        config,
        scale_out,
    });
    let route = LeaderRoute::new(
        state.config.cluster.peers.clone(),
        state.actors.role.clone(),
        state.actors.cluster.as_ref().map(|c| c.state.clone()),
    );
    // After a reload of the trusted CAs, a follower's session over wss://
    // reconnects to verify its leader's certificate against them.
    let verified_leader = state
        .actors
        .cluster
        .as_ref()
        .filter(|c| c.peer_cluster_uris.iter().any(|u| u.starts_with("wss://")))
        .map(|c| c.state.clone());
    let mut server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .app_data(web::Data::new(coordinator.clone()))
            // Inside the proxy: a follower forwards first, the leader checks.
            .wrap(from_fn(api::auth::enforce))
            .wrap(
                api::proxy::ProxyForwarder::new(gate.clone(), route.clone(), &state.config)
                    .with_tls(roots.clone())
                    .with_peer_proof(proof.clone()),
            )
            .wrap(from_fn(api::head_as_get))
            .wrap(from_fn(api::record_metrics))
            .configure(api::configure)
    })
    .shutdown_timeout(10);
    for l in &listeners {
        for host in &l.binds {
            let port = l.port;
            let context = || format!("cannot listen on {host}:{port}");
            for socket in crate::listen::bind(host, port).with_context(context)? {
                server = match &l.tls {
                    Some(tls) => server.listen_rustls_0_23(socket, tls.clone()),
                    None => server.listen(socket),
                }
                .with_context(context)?;
            }
        }
        log::info!("listening on {} (bound to {})", l.uri(), l.binds.join(", "));
    }
    // SIGHUP is caught before the node says it is ready.
    actix_web::rt::spawn(crate::tls::reload_on_sighup(tls, move || {
        if let Some(state) = &verified_leader {
            state.verify_leader_again();
        }
    }));
    actix_web::rt::spawn(crate::systemd::stopping_on_signal());
    eprintln!(
        "skein {} {READY} {}",
        env!("CARGO_PKG_VERSION"),
        describe(&listeners)
    );
    crate::systemd::ready(&describe(&listeners));
    match cluster_server {
        Some(cluster) => {
            futures_util::future::try_join(server.run(), cluster).await?;
        }
        None => server.run().await?,
    }
    log::info!("stopped");
    Ok(())
}

/// Refuses a clustered node (leader or follower) without the shared
/// PostgreSQL metastore: leadership is coordinated there, and two nodes
/// each on its own embedded metastore could both lead.
fn require_shared_metastore(
    config: &RuntimeConfig,
    secrets: &crate::secrets::SecretStore,
) -> anyhow::Result<()> {
    if config.cluster.role == NodeRole::Standalone || secrets.contains(POSTGRES_SECRET)? {
        return Ok(());
    }
    bail!(
        "this node is part of a cluster (cluster.role = {}) but has no shared metastore: \
         leadership is coordinated in PostgreSQL, shared by both nodes. Set it with \
         `skein secret set -k {POSTGRES_SECRET} -v \"<connection string>\"` \
         (or move this node's metadata there with `skein metastore to-postgresql`)",
        match config.cluster.role {
            NodeRole::Leader => "leader",
            _ => "follower",
        }
    )
}

/// Creates the first administrator from the first-run variables (when no
/// user exists yet) and says whether authentication is required.
async fn announce_auth(
    metastore: &Metastore,
    env: &std::collections::HashMap<String, String>,
    required: bool,
) -> anyhow::Result<()> {
    if let Some(name) = crate::first_admin::create_first_admin(metastore, env).await? {
        log::info!("created the first administrator `{name}` from the first-run variables");
    }
    if !required {
        log::info!("authentication is off (auth.required): every API route is open");
    } else if metastore.count_users().await? == 0 {
        log::warn!(
            "authentication is required but no user exists: create one with \
             `skein user create --username admin --password-stdin`, or use an API key"
        );
    } else {
        log::info!("authentication is required (auth.required)");
    }
    Ok(())
}

/// One address the API is served on.
struct Listener {
    host: String,
    port: u16,
    /// The hosts it binds (see [`crate::listen`]).
    binds: Vec<String>,
    /// Set for `https://` listen URIs.
    tls: Option<rustls::ServerConfig>,
}

impl Listener {
    fn uri(&self) -> String {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        format!("{scheme}://{}:{}", self.host, self.port)
    }
}

/// A listener for every listen URI (and the internal API URI, which binds
/// every interface when its host is `localhost`: see [`crate::listen`]),
/// with its certificate when it is `https://`; one address cannot be both.
fn listeners(config: &RuntimeConfig, tls: &NodeTls) -> anyhow::Result<Vec<Listener>> {
    let mut uris: Vec<(&Url, bool)> = config.listen_uris.iter().map(|u| (u, false)).collect();
    uris.extend(config.cluster.internal_api_uri.iter().map(|u| (u, true)));
    let mut out: Vec<Listener> = Vec::new();
    for (uri, peer_facing) in uris {
        let secure = match uri.scheme() {
            "https" => true,
            "http" => false,
            other => bail!("{uri}: listen URIs are http:// or https://, not {other}://"),
        };
        let (host, port) = crate::tls::host_and_port(uri)?;
        let binds = crate::listen::bind_hosts(uri, &host, peer_facing);
        if let Some(seen) = out.iter_mut().find(|l| l.host == host && l.port == port) {
            if seen.tls.is_some() != secure {
                bail!("{host}:{port} is listed both as http:// and as https://");
            }
            // Every interface includes the loopback one.
            if binds.len() > seen.binds.len() {
                seen.binds = binds;
            }
            continue;
        }
        let tls = match secure {
            true => Some(
                tls.listener(&host, port)
                    .with_context(|| format!("cannot serve {uri}"))?,
            ),
            false => None,
        };
        out.push(Listener {
            host,
            port,
            binds,
            tls,
        });
    }
    Ok(out)
}

fn describe(listeners: &[Listener]) -> String {
    listeners
        .iter()
        .map(Listener::uri)
        .collect::<Vec<_>>()
        .join(", ")
}

fn hostname() -> String {
    NodeNames::host_name().unwrap_or_else(|| "skein".into())
}
