//! [`ProxyForwarder`]: the middleware that makes a follower a web proxy to
//! its leader ("Followers proxy, not redirect").
//!
//! Every request except the node's own endpoints (`/health`, `/health/…`,
//! `/metrics` and the cluster WebSocket paths under `/cluster/`, the only
//! place an `Upgrade` request stays local) needs the leader, and the node's [`LeaderGate`] says
//! where it goes ([`LeaderGate::route`]): served here while this node leads
//! (counted, so a graceful demotion can drain it), held while leadership is
//! being handed over or this node waits to be promoted, or sent to the
//! peer's internal API (`cluster.peerInternalApiUri`): same method,
//! path, query and end-to-end headers, the body streamed (never buffered
//! whole, cut off at the payload limit), with `X-Forwarded-For` (the caller's
//! address appended), `X-Forwarded-Proto` and `X-Forwarded-Host` added. The
//! leader's answer streams back with its status and end-to-end headers. When
//! the leader cannot be reached the follower answers 503 `{"Error": …}` within
//! the connect timeout, and a request held longer than [`HOLD_LIMIT`] is
//! answered 503 too, so ingestion clients retry. A forwarded request says how
//! often it crossed ([`PROXIED_HEADER`], at most [`MAX_HOPS`]) and the
//! sender's term ([`TERM_HEADER`]), so it never loops: it goes back only to a
//! leader newer than the sender knew of. `POST /api/cluster/demote` on a
//! leader is neither held nor counted (the demotion it starts drains the rest).
//!
//! Each worker thread owns one awc client (awc clients are tied to their
//! thread); the gate is shared by every worker and the ClusterCoordinator.

use std::cell::Cell;
use std::future::{ready, Future, Ready};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use actix_web::body::{BodyStream, BoxBody, EitherBody, MessageBody, SizedStream};
use actix_web::dev::{forward_ready, Service, ServiceRequest, ServiceResponse, Transform};
use actix_web::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use actix_web::{HttpMessage as _, HttpResponse, ResponseError};
use bytes::Bytes;
use futures_util::StreamExt as _;
pub use skein_actors::cluster::gate::{HOLD_LIMIT, MAX_HOPS};
pub use skein_actors::cluster::LeaderGate;
use skein_actors::cluster::Route;
use url::Url;

use super::peer_proof::{self, PeerProof};
use super::ApiError;
use crate::settings::runtime::RuntimeConfig;

/// How long the follower waits to connect to the leader before answering 503.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// How long a pooled connection to the leader may sit idle: below the
/// leader's own keep-alive, so the leader never closes one under a request.
pub const POOLED_IDLE: Duration = Duration::from_secs(3);
/// How long the follower waits for the leader's answer to begin.
pub const ANSWER_TIMEOUT: Duration = Duration::from_secs(120);
/// Set on forwarded requests: how many times the request crossed between
/// nodes (a node never forwards one that crossed [`MAX_HOPS`] times).
pub const PROXIED_HEADER: &str = "x-skein-proxied";
/// Set on forwarded requests: the sender's leadership term.
pub const TERM_HEADER: &str = "x-skein-term";
/// The headers only a proven cluster peer may set (see [`peer_proof`]).
const CROSSING_HEADERS: [&str; 2] = [PROXIED_HEADER, TERM_HEADER];
/// The route a demotion is started on: not held or counted on a leader.
pub const DEMOTE_PATH: &str = "/api/cluster/demote";

/// The forwarding middleware; wrap the App with one per worker.
pub struct ProxyForwarder {
    gate: LeaderGate,
    leader: Option<Url>,
    max_payload_bytes: u64,
    tls: Option<Arc<rustls::ClientConfig>>,
    proof: Option<PeerProof>,
}

impl ProxyForwarder {
    /// A forwarder routing through `gate`, with the peer's internal API and
    /// the payload limit from `config`.
    pub fn new(gate: LeaderGate, config: &RuntimeConfig) -> ProxyForwarder {
        ProxyForwarder {
            gate,
            leader: config.cluster.peer_internal_api_uri().cloned(),
            max_payload_bytes: config.max_payload_bytes,
            tls: None,
            proof: None,
        }
    }

    /// Signs forwarded requests and checks those forwarded here with the
    /// cluster key (see [`super::peer_proof`]); without it no forwarding
    /// claim is trusted.
    pub fn with_peer_proof(mut self, proof: Option<PeerProof>) -> ProxyForwarder {
        self.proof = proof;
        self
    }

    /// Verifies an `https://` leader against `roots` (see [`crate::tls`]).
    pub fn with_tls(mut self, roots: Arc<rustls::ClientConfig>) -> ProxyForwarder {
        self.tls = Some(roots);
        self
    }
}

impl<S, B> Transform<S, ServiceRequest> for ProxyForwarder
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B, BoxBody>>;
    type Error = actix_web::Error;
    type Transform = ProxyService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        // Runs on the worker thread: the awc client stays on it. Pooled
        // connections are dropped before the leader's keep-alive (actix-web:
        // 5 s) can close them under a request that could not be retried.
        let connector = awc::Connector::new()
            .connector(super::nodelay::NoDelayConnector::default())
            .timeout(CONNECT_TIMEOUT)
            .conn_keep_alive(POOLED_IDLE);
        let builder = awc::Client::builder()
            .timeout(ANSWER_TIMEOUT)
            .disable_redirects()
            .no_default_headers();
        let client = match &self.tls {
            Some(tls) => builder
                .connector(connector.rustls_0_23(tls.clone()))
                .finish(),
            None => builder.connector(connector).finish(),
        };
        ready(Ok(ProxyService {
            service: Rc::new(service),
            inner: Rc::new(Inner {
                gate: self.gate.clone(),
                leader: self.leader.clone(),
                max_payload_bytes: self.max_payload_bytes,
                client,
                proof: self.proof.clone(),
            }),
        }))
    }
}

struct Inner {
    gate: LeaderGate,
    leader: Option<Url>,
    max_payload_bytes: u64,
    client: awc::Client,
    proof: Option<PeerProof>,
}

/// The per-worker service built by [`ProxyForwarder`].
pub struct ProxyService<S> {
    service: Rc<S>,
    inner: Rc<Inner>,
}

type LocalBoxFuture<T> = Pin<Box<dyn Future<Output = T>>>;

impl<S, B> Service<ServiceRequest> for ProxyService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B, BoxBody>>;
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<Result<Self::Response, Self::Error>>;

    forward_ready!(service);

    fn call(&self, mut req: ServiceRequest) -> Self::Future {
        peer_proof::check(&mut req, self.inner.proof.as_ref(), &CROSSING_HEADERS);
        let demote_here =
            req.path() == DEMOTE_PATH && self.inner.gate.snapshot().role.accepts_writes();
        if served_locally(&req) || demote_here {
            let fut = self.service.call(req);
            return Box::pin(async move { Ok(fut.await?.map_into_left_body()) });
        }
        let (inner, service) = (self.inner.clone(), self.service.clone());
        Box::pin(async move {
            let mut req = req;
            let (hops, sender_term) = crossing(req.headers());
            let response = match inner.gate.route(hops, sender_term, HOLD_LIMIT).await {
                Route::Serve(admission) => {
                    let served = service.call(req).await;
                    drop(admission);
                    return Ok(served?.map_into_left_body());
                }
                Route::Forward { term } => {
                    match forward_request(&inner, &mut req, hops + 1, term).await {
                        Ok(response) => response,
                        Err(e) => e.error_response(),
                    }
                }
                Route::Unavailable(why) => ApiError::Unavailable(why).error_response(),
            };
            Ok(req.into_response(response).map_into_right_body())
        })
    }
}

/// Requests every node answers itself. An `Upgrade` header changes nothing:
/// only the cluster WebSocket paths stay local; on any other path an
/// `Upgrade` request is the leader's like every other.
fn served_locally(req: &ServiceRequest) -> bool {
    let path = req.path();
    path == "/health"
        || path.starts_with("/health/")
        || path == "/metrics"
        || path.starts_with("/cluster/")
}

/// How often a request crossed between nodes and the sender's term: (0, 0)
/// from a client; a malformed count is taken as the most allowed, a
/// missing or malformed term as unknowably new (never sent back).
fn crossing(headers: &HeaderMap) -> (u8, u64) {
    let value = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    match value(PROXIED_HEADER) {
        None => (0, 0),
        Some(hops) => (
            hops.trim()
                .parse()
                .map_or(MAX_HOPS, |h: u8| h.min(MAX_HOPS)),
            value(TERM_HEADER)
                .and_then(|t| t.trim().parse().ok())
                .unwrap_or(u64::MAX),
        ),
    }
}

/// Headers that describe one connection, not the message (RFC 9110 §7.6.1),
/// plus those the forwarder sets itself.
fn hop_by_hop(name: &HeaderName, connection_listed: &[String]) -> bool {
    matches!(
        name.as_str(),
        "connection"
            | "keep-alive"
            | "proxy-authenticate"
            | "proxy-authorization"
            | "proxy-connection"
            | "te"
            | "trailer"
            | "transfer-encoding"
            | "upgrade"
            | "host"
            | "content-length"
    ) || connection_listed.iter().any(|l| l == name.as_str())
}

/// Header names listed in `Connection` (also hop-by-hop).
fn connection_listed(headers: &HeaderMap) -> Vec<String> {
    headers
        .get_all(header::CONNECTION)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|s| s.trim().to_ascii_lowercase())
        .filter(|s| !s.is_empty())
        .collect()
}

async fn forward_request(
    inner: &Inner,
    req: &mut ServiceRequest,
    hops: u8,
    term: u64,
) -> Result<HttpResponse, ApiError> {
    let leader = inner.leader.as_ref().ok_or_else(|| {
        ApiError::Unavailable(
            "this node follows, but cluster.peerInternalApiUri (the leader) is not configured"
                .into(),
        )
    })?;
    let target = target_uri(leader, req.uri());
    let unreachable = |e: &dyn std::fmt::Display| {
        ApiError::Unavailable(format!(
            "the leader at {} is unreachable: {e}",
            leader.as_str().trim_end_matches('/')
        ))
    };
    let mut out = inner
        .client
        .request(req.method().clone(), target.as_str())
        .timeout(ANSWER_TIMEOUT);
    let listed = connection_listed(req.headers());
    for (name, value) in req.headers() {
        if !hop_by_hop(name, &listed) && !name.as_str().starts_with("x-forwarded-") {
            out = out.append_header((name.clone(), value.clone()));
        }
    }
    let mut forwarded_for = String::new();
    for (name, value) in forwarded_headers(req) {
        if name == "x-forwarded-for" {
            forwarded_for = value.to_str().unwrap_or_default().to_owned();
        }
        out = out.insert_header((name, value));
    }
    let (hops, term) = (hops.to_string(), term.to_string());
    if let Some(proof) = &inner.proof {
        let pq = req.uri().path_and_query().map_or("/", |p| p.as_str());
        let signed = proof.sign(&peer_proof::Crossing {
            method: req.method().as_str(),
            path_and_query: pq,
            hops: &hops,
            term: &term,
            forwarded_for: &forwarded_for,
        });
        if let Some(value) = peer_proof::header_value(&signed) {
            out = out.insert_header((HeaderName::from_static(peer_proof::PROOF_HEADER), value));
        }
    }
    out = out
        .insert_header((HeaderName::from_static(PROXIED_HEADER), hops))
        .insert_header((HeaderName::from_static(TERM_HEADER), term));

    let declared = declared_length(req.headers())?;
    if declared.is_some_and(|n| n > inner.max_payload_bytes) {
        return Err(too_large(inner.max_payload_bytes));
    }
    let chunked = req.headers().contains_key(header::TRANSFER_ENCODING);
    let over_limit = Rc::new(Cell::new(false));
    let body = limited(
        req.take_payload(),
        inner.max_payload_bytes,
        over_limit.clone(),
    );
    let sent = match declared {
        Some(0) | None if !chunked => out.send(),
        Some(n) => out.send_body(SizedStream::new(n, body)),
        None => out.send_body(BodyStream::new(body)),
    };
    let answer = match sent.await {
        Ok(answer) => answer,
        Err(_) if over_limit.get() => return Err(too_large(inner.max_payload_bytes)),
        Err(awc::error::SendRequestError::Body(e)) => {
            return Err(ApiError::BadRequest(format!(
                "the request body could not be read: {e}"
            )))
        }
        Err(e) => return Err(unreachable(&e)),
    };

    let mut response = HttpResponse::build(answer.status());
    let listed = connection_listed(answer.headers());
    for (name, value) in answer.headers() {
        if !hop_by_hop(name, &listed) {
            response.append_header((name.clone(), value.clone()));
        }
    }
    let length = declared_length(answer.headers()).ok().flatten();
    let status = answer.status();
    let no_body = req.method() == actix_web::http::Method::HEAD
        || status.is_informational()
        || status == actix_web::http::StatusCode::NO_CONTENT
        || status == actix_web::http::StatusCode::NOT_MODIFIED;
    Ok(match length {
        _ if no_body => response.finish(),
        Some(n) => response.body(SizedStream::new(n, answer)),
        None => response.body(BodyStream::new(answer)),
    })
}

/// The leader's URI for this request: its base path joined with ours.
fn target_uri(leader: &Url, uri: &actix_web::http::Uri) -> String {
    let base = leader.as_str().trim_end_matches('/');
    let path_and_query = uri.path_and_query().map_or("/", |pq| pq.as_str());
    format!("{base}{path_and_query}")
}

/// `X-Forwarded-For` (caller appended), `-Proto` and `-Host`.
fn forwarded_headers(req: &ServiceRequest) -> Vec<(HeaderName, HeaderValue)> {
    let headers = req.headers();
    let joined = |name: &str| {
        let values: Vec<&str> = headers
            .get_all(name)
            .filter_map(|v| v.to_str().ok())
            .collect();
        (!values.is_empty()).then(|| values.join(", "))
    };
    let peer = req.peer_addr().map(|a| a.ip().to_string());
    let for_ = match (joined("x-forwarded-for"), peer) {
        (Some(prior), Some(peer)) => Some(format!("{prior}, {peer}")),
        (prior, peer) => prior.or(peer),
    };
    let proto =
        joined("x-forwarded-proto").unwrap_or_else(|| req.connection_info().scheme().to_owned());
    let host = joined("x-forwarded-host").or_else(|| {
        headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .map(str::to_owned)
    });
    let mut out = Vec::new();
    let fields = [
        ("x-forwarded-for", for_),
        ("x-forwarded-proto", Some(proto)),
        ("x-forwarded-host", host),
    ];
    for (name, value) in fields {
        if let Some(v) = value.and_then(|v| HeaderValue::from_str(&v).ok()) {
            out.push((HeaderName::from_static(name), v));
        }
    }
    out
}

/// The `Content-Length`, if any; a malformed one is the caller's error.
fn declared_length(headers: &HeaderMap) -> Result<Option<u64>, ApiError> {
    match headers.get(header::CONTENT_LENGTH) {
        None => Ok(None),
        Some(v) => v
            .to_str()
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .map(Some)
            .ok_or_else(|| ApiError::BadRequest("malformed Content-Length".into())),
    }
}

fn too_large(limit: u64) -> ApiError {
    ApiError::PayloadTooLarge(format!(
        "the request body is larger than the {limit}-byte payload limit"
    ))
}

/// The caller's body, passed through as it arrives (chunks already received
/// are sent together, saving writes) until more than `limit` bytes have gone
/// by; then an error (and `over` is set).
fn limited(
    payload: actix_web::dev::Payload,
    limit: u64,
    over: Rc<Cell<bool>>,
) -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> + 'static {
    let mut seen: u64 = 0;
    payload.ready_chunks(64).map(move |chunks| {
        let mut joined = bytes::BytesMut::new();
        let mut single = None;
        for chunk in chunks {
            let chunk = chunk.map_err(|e| std::io::Error::other(e.to_string()))?;
            seen = seen.saturating_add(chunk.len() as u64);
            if seen > limit {
                over.set(true);
                return Err(std::io::Error::other(too_large(limit).to_string()));
            }
            match single.take() {
                None if joined.is_empty() => single = Some(chunk),
                previous => {
                    joined.extend_from_slice(&previous.unwrap_or_default());
                    joined.extend_from_slice(&chunk);
                }
            }
        }
        Ok(single.unwrap_or_else(|| joined.freeze()))
    })
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    #[test]
    fn only_the_cluster_websocket_path_stays_local_for_an_upgrade() {
        use actix_web::test::TestRequest;
        let upgrade = |path: &str| {
            TestRequest::get()
                .uri(path)
                .insert_header((header::UPGRADE, "websocket"))
                .insert_header((header::CONNECTION, "Upgrade"))
                .to_srv_request()
        };
        assert!(served_locally(&upgrade("/cluster/replicate")));
        assert!(!served_locally(&upgrade("/api/events")));
        assert!(!served_locally(&upgrade("/api/events/raw")));
        assert!(!served_locally(&upgrade("/")));
        assert!(served_locally(
            &TestRequest::get().uri("/health").to_srv_request()
        ));
    }

    #[test]
    fn crossings_are_read_from_the_headers() {
        let mut headers = HeaderMap::new();
        assert_eq!(crossing(&headers), (0, 0));
        let name = |n| HeaderName::from_static(n);
        headers.insert(name(PROXIED_HEADER), HeaderValue::from_static("1"));
        assert_eq!(crossing(&headers), (1, u64::MAX));
        headers.insert(name(TERM_HEADER), HeaderValue::from_static("7"));
        assert_eq!(crossing(&headers), (1, 7));
        headers.insert(name(PROXIED_HEADER), HeaderValue::from_static("many"));
        assert_eq!(crossing(&headers), (MAX_HOPS, 7));
        headers.insert(name(PROXIED_HEADER), HeaderValue::from_static("200"));
        assert_eq!(crossing(&headers).0, MAX_HOPS);
    }

    #[test]
    fn target_keeps_path_and_query() {
        let leader = Url::parse("http://leader:5341/").unwrap();
        let uri: actix_web::http::Uri = "/api/events/raw?clef&x=1".parse().unwrap();
        assert_eq!(
            target_uri(&leader, &uri),
            "http://leader:5341/api/events/raw?clef&x=1"
        );
        let based = Url::parse("http://leader/seq").unwrap();
        assert_eq!(
            target_uri(&based, &uri),
            "http://leader/seq/api/events/raw?clef&x=1"
        );
    }

    #[test]
    fn forwarded_headers_append_the_caller() {
        let req = actix_web::test::TestRequest::default()
            .peer_addr("10.0.0.7:4000".parse().unwrap())
            .insert_header(("X-Forwarded-For", "203.0.113.9"))
            .insert_header(("Host", "seq.example.com"))
            .to_srv_request();
        let got: HashMap<String, String> = forwarded_headers(&req)
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap().to_owned()))
            .collect();
        assert_eq!(got["x-forwarded-for"], "203.0.113.9, 10.0.0.7");
        assert_eq!(got["x-forwarded-proto"], "http");
        assert_eq!(got["x-forwarded-host"], "seq.example.com");
    }

    #[test]
    fn hop_by_hop_headers_are_dropped() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONNECTION,
            HeaderValue::from_static("close, X-Private"),
        );
        let listed = connection_listed(&headers);
        for name in ["connection", "transfer-encoding", "host", "x-private", "te"] {
            assert!(
                hop_by_hop(&HeaderName::from_static(name), &listed),
                "{name}"
            );
        }
        for name in ["content-type", "content-encoding", "x-seq-apikey", "accept"] {
            assert!(
                !hop_by_hop(&HeaderName::from_static(name), &listed),
                "{name}"
            );
        }
    }
}
