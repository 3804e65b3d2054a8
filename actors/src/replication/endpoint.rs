//! The cluster port's HTTP side: [`configure`] routes `/` and `/replication`
//! to [`accept`], which upgrades the request to a [`ReplicationSender`]
//! session with what [`SenderHub`] holds.

use std::sync::Arc;

use actix::prelude::*;
use actix_web::{web, HttpRequest, HttpResponse};
use actix_web_actors::ws;
use skein_store::Store;

use super::sender::ReplicationSender;
use super::ClusterSetup;
use crate::messages::{ReportHealth, RoleView, SubscribeGenerations};

/// What the cluster endpoint needs (registered as `web::Data`).
pub struct SenderHub {
    /// The node's store.
    pub store: Arc<Store>,
    /// Where to subscribe to new generations (the StoreWriter).
    pub generations: Recipient<SubscribeGenerations>,
    /// The node's role as its owner publishes it.
    pub role: RoleView,
    /// Name, key and shared state.
    pub setup: ClusterSetup,
    /// Where the session counters are shown (the `replication` health component).
    pub health: Option<Recipient<ReportHealth>>,
}

/// Routes of the cluster port: the replication endpoint at `/` and `/replication`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(accept))
        .route("/replication", web::get().to(accept));
}

/// Upgrades a cluster-port request to a replication session.
pub async fn accept(
    req: HttpRequest,
    payload: web::Payload,
    hub: web::Data<SenderHub>,
) -> Result<HttpResponse, actix_web::Error> {
    let store = hub.store.clone();
    let store_id = web::block(move || store.status().store_id).await?;
    let session = hub.setup.state.connection_accepted();
    let peer = req
        .peer_addr()
        .map_or_else(|| "unknown peer".into(), |a| a.to_string());
    let sender = ReplicationSender::new(&hub, store_id, session, peer);
    ws::start(sender, &req, payload)
}
