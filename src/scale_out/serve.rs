//! The follower's side of a scale-out query: `POST /cluster/share` on the
//! cluster port.
//!
//! A request is run only when (each refusal a clear `{"Error":…}`, nothing
//! run):
//! 1. its peer proof verifies with the cluster key (403 otherwise) and its
//!    body is the one the proof's digest names (400);
//! 2. it decodes, with a query that parses and aggregates (400);
//! 3. this node follows the signing node in the request's term
//!    ([`may_run`], 503);
//! 4. this node holds every event below the plan's snapshot, waiting up to
//!    [`SNAPSHOT_WAIT`] for replication to bring them (503).
//!
//! The answer is the share's partial result as MessagePack.

use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use skein_actors::messages::RoleView;
use skein_actors::replication::ReplicationState;
use skein_store::query::{EvalContext, Query};
use skein_store::search::{next_arrival, query_share};
use skein_store::{Store, Timestamp};
use skein_wire::share::{
    body_digest, encode_answer, ShareRequest, CONTENT_TYPE, MAX_REQUEST_BYTES, SHARE_PATH,
};

use super::choose::may_run;
use crate::api::peer_proof::{self, Crossing, PeerProof};
use crate::api::proxy::{PROXIED_HEADER, TERM_HEADER};
use crate::api::ApiError;

/// How long a share waits for replication to bring the plan's snapshot.
pub const SNAPSHOT_WAIT: Duration = Duration::from_secs(1);
/// How often the store is looked at while waiting.
const SNAPSHOT_POLL: Duration = Duration::from_millis(5);

/// What the share endpoint reads.
pub struct ShareServer {
    /// The store shares are run against.
    pub store: Arc<Store>,
    /// This node's role.
    pub role: RoleView,
    /// This node's replication session (whom it follows).
    pub replication: ReplicationState,
    /// Checks the leader's signature.
    pub proof: PeerProof,
}

/// Registers the endpoint (with `server` as app data).
pub fn configure(cfg: &mut web::ServiceConfig, server: web::Data<ShareServer>) {
    cfg.app_data(server)
        .app_data(web::PayloadConfig::new(MAX_REQUEST_BYTES))
        .route(SHARE_PATH, web::post().to(run_share));
}

#[derive(Deserialize)]
struct Digest {
    digest: String,
}

async fn run_share(
    req: HttpRequest,
    digest: web::Query<Digest>,
    body: web::Bytes,
    server: web::Data<ShareServer>,
) -> Result<HttpResponse, ApiError> {
    let peer = verify(&req, &server.proof)?;
    if body_digest(&body) != digest.digest {
        return Err(ApiError::BadRequest(
            "the body is not the one the request's digest names".into(),
        ));
    }
    let request = ShareRequest::decode(&body).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let query = Query::parse(&request.query).map_err(|e| {
        ApiError::BadRequest(format!("query: {} (at position {})", e.message, e.position))
    })?;
    if !query.aggregates() {
        return Err(ApiError::BadRequest(
            "only aggregating queries are split into shares".into(),
        ));
    }
    let role = server.role.now();
    may_run(
        request.term,
        &peer,
        &role,
        &server.replication.leader_session(),
    )
    .map_err(ApiError::Unavailable)?;
    let started = Instant::now();
    loop {
        let held = next_arrival(&server.store);
        if held >= request.below {
            break;
        }
        if started.elapsed() >= SNAPSHOT_WAIT {
            return Err(ApiError::Unavailable(format!(
                "this node holds events below arrival {held}; the share needs every one below {}",
                request.below
            )));
        }
        actix_web::rt::time::sleep(SNAPSHOT_POLL).await;
    }
    let store = server.store.clone();
    let range = (request.from.map(Timestamp), request.to.map(Timestamp));
    let ctx = EvalContext::new(Timestamp(request.now));
    let partial = web::block(move || query_share(&store, &query, range, &ctx, &request.share))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))??;
    let bytes = encode_answer(&partial).map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(HttpResponse::Ok().content_type(CONTENT_TYPE).body(bytes))
}

/// The node that signed `req`, when its proof verifies.
fn verify(req: &HttpRequest, proof: &PeerProof) -> Result<String, ApiError> {
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    };
    let path_and_query = req.uri().path_and_query().map_or("/", |p| p.as_str());
    let crossing = Crossing {
        method: req.method().as_str(),
        path_and_query,
        hops: header(PROXIED_HEADER),
        term: header(TERM_HEADER),
        forwarded_for: "",
    };
    proof
        .verify(header(peer_proof::PROOF_HEADER), &crossing)
        .map_err(|why| {
            ApiError::Forbidden(format!("share requests need a cluster peer's proof: {why}"))
        })
}
