//! The HTTP API (actix-web), to the facts in `shared/reference/seq-compat.md`.
//!
//! - [`error`]: [`ApiError`], the single mapping from errors to statuses and
//!   `{"Error": "…"}` bodies.
//! - [`credentials`]: API keys and cached server settings.
//! - [`ingest`]: `POST /api/events/raw`, `POST /ingest/clef`.
//! - [`otlp`]: `POST /ingest/otlp/v1/logs` and `/v1/traces` (OpenTelemetry
//!   logs and spans, protobuf or JSON).
//! - [`events`]: `GET /api/events`, `GET /api/events/{id}`, `GET /api/data`.
//! - [`entity`]: Seq's event entity JSON.
//! - [`apikeys`]: `GET/POST /api/apikeys`, `GET/DELETE /api/apikeys/{id}`.
//! - [`signals`]: `GET/POST /api/signals`, `GET/PUT/DELETE /api/signals/{id}`.
//! - [`settings`]: `GET /api/settings`, `GET/PUT/DELETE /api/settings/{name}`.
//! - [`admin`]: what those three share: JSON bodies, the permission check.
//! - [`auth`]: the permission table and its middleware (every route),
//!   login sessions and users (`/api/users/...`).
//! - [`health`]: `GET /health`.
//! - [`cluster`]: `GET /health/cluster`, `GET /api/cluster`, `POST /api/cluster/demote`.
//! - [`root`]: `GET /api`.
//! - [`links`]: the links answers carry, on `api.canonicalUri` when set.
//! - [`openapi`]: `GET /api/openapi.json`, the API's OpenAPI document,
//!   built from the permission table.
//! - [`metrics`]: `GET /metrics` and the per-request metrics middleware.
//! - [`proxy`]: [`proxy::ProxyForwarder`], a follower's forwarding to its leader.
//! - the admin UI's `GET /` and `GET /ui/{file}` come from [`crate::ui`].
//!
//! Handlers never touch files: they send messages to the node's actors, or
//! run read-only store work on blocking threads.

pub mod admin;
pub mod apikeys;
pub mod auth;
pub mod cluster;
pub mod credentials;
pub mod entity;
pub mod error;
pub mod events;
pub mod health;
pub mod ingest;
pub mod leader_route;
pub mod links;
pub mod metrics;
pub mod nodelay;
pub mod openapi;
pub mod otlp;
pub mod peer_proof;
pub mod proxy;
pub mod root;
pub mod settings;
pub mod signals;

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::{web, HttpRequest, HttpResponse};
use skein_actors::NodeActors;

pub use credentials::Credentials;
pub use error::ApiError;
pub use metrics::Metrics;

/// What every handler can reach.
pub struct AppState {
    /// The node's actors and store.
    pub actors: NodeActors,
    /// API keys and server settings.
    pub credentials: Credentials,
    /// Request and ingestion metrics.
    pub metrics: Metrics,
    /// The largest request body accepted.
    pub max_payload_bytes: u64,
    /// This node's name, shown by `GET /api`.
    pub instance_name: String,
    /// The node's validated configuration (listen and cluster URIs, limits).
    pub config: crate::settings::runtime::RuntimeConfig,
    /// Splits large aggregating queries over the followers while this node
    /// leads (clustered nodes with `cluster.scaleOutQueries` on).
    pub scale_out: Option<crate::scale_out::ScaleOut>,
}

impl AppState {
    /// The links this node generates (on `api.canonicalUri` when set).
    pub fn links(&self) -> links::Links {
        links::Links::new(self.config.canonical_uri.as_ref())
    }
}

/// Registers every route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.configure(ingest::configure)
        .configure(otlp::configure)
        .configure(events::configure)
        .configure(apikeys::configure)
        .configure(auth::configure)
        .configure(signals::configure)
        .configure(settings::configure)
        .configure(health::configure)
        .configure(cluster::configure)
        .configure(root::configure)
        .configure(openapi::configure)
        .configure(metrics::configure)
        .configure(crate::ui::configure)
        .app_data(web::QueryConfig::default().error_handler(|e, _| {
            ApiError::BadRequest(format!("the query string is malformed: {e}")).into()
        }))
        .app_data(
            web::PathConfig::default()
                .error_handler(|e, _| ApiError::NotFound(format!("no such resource: {e}")).into()),
        )
        .default_service(web::to(not_found));
}

/// Requests no route matched: 405 with `Allow` when the path is a route's
/// (the resource actix matched, as in the permission table) under another
/// method, else 404.
pub async fn not_found(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let pattern = req.match_pattern();
    let allow: Vec<&str> = auth::table::ROUTES
        .iter()
        .filter(|(_, p, _)| pattern.as_deref() == Some(*p))
        .map(|(method, _, _)| method.as_str())
        .collect();
    if allow.is_empty() {
        return Err(ApiError::NotFound("no such endpoint".into()));
    }
    let allow = allow.join(", ");
    Err(ApiError::MethodNotAllowed {
        message: format!("{} is not allowed here (allowed: {allow})", req.method()),
        allow,
    })
}

/// Middleware: `HEAD` on a route that has `GET` is answered as that `GET`
/// would be — the same status and headers, without the body (actix-http
/// never sends a body in answer to a `HEAD` request). On any other route
/// `HEAD` stays `HEAD`, and [`not_found`] answers 405 naming the methods.
pub async fn head_as_get(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if req.method() == Method::HEAD && has_get(req.match_pattern().as_deref()) {
        req.head_mut().method = Method::GET;
    }
    next.call(req).await
}

/// Whether the route `pattern` (as actix matched it) has a `GET`.
fn has_get(pattern: Option<&str>) -> bool {
    auth::table::ROUTES
        .iter()
        .any(|(method, p, _)| *method == Method::GET && pattern == Some(*p))
}

/// Middleware: counts every request by route pattern, method and status
/// (each label bounded to a fixed set: [`metrics::labels`]).
pub async fn record_metrics(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let route = metrics::labels::route(req.match_pattern());
    let method = req.method().to_string();
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let res = next.call(req).await?;
    if let Some(state) = state {
        state
            .metrics
            .request(&route, &method, res.status().as_u16(), started.elapsed());
    }
    Ok(res)
}
