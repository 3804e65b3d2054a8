//! [`ScaleOut`]: the leader's side of a scale-out query.
//!
//! 1. Only a leader splits, only an aggregating query, only with followers
//!    that may help ([`helpers`]) and only when each share is worth
//!    [`MIN_EVENTS_PER_SHARE`] events ([`nodes_for`]); otherwise the caller
//!    runs the query alone, as before.
//! 2. The plan ([`plan_shares`]) keeps the first share here; each other
//!    share goes to one follower's cluster port, signed with the cluster key
//!    (the body bound by its digest), while this node scans its own.
//! 3. A follower's partial is merged when it arrives in time: by the time
//!    this node finished its own share, or [`MIN_GRACE`] after, whichever is
//!    later. A share a follower refuses, fails, answers malformed or late is
//!    run here instead, so the answer is always the whole one.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::web;
use bytes::Bytes;
use skein_actors::messages::{Role, RoleView};
use skein_actors::metastore::Metastore;
use skein_actors::replication::ReplicationState;
use skein_store::query::{EvalContext, PartialQuery, Query, QueryResult, QueryRunner};
use skein_store::search::{plan_shares, query_share, Share};
use skein_store::{Store, Timestamp};
use skein_wire::share::{
    body_digest, decode_answer, ShareRequest, CONTENT_TYPE, DIGEST_PARAM, SHARE_PATH,
};

use super::choose::{helpers, nodes_for, Helper, MIN_EVENTS_PER_SHARE};
use crate::api::peer_proof::{self, Crossing, PeerProof};
use crate::api::proxy::{PROXIED_HEADER, TERM_HEADER};
use crate::api::ApiError;

/// The least a follower is given after this node finished its own share.
pub const MIN_GRACE: Duration = Duration::from_millis(500);
/// How long to wait for a follower's cluster port to accept a connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// The largest partial result taken from a follower (a larger one is run
/// here instead).
const MAX_ANSWER_BYTES: usize = 512 << 20;

/// What scale-out queries did, for `/metrics`.
#[derive(Debug, Default)]
pub struct ScaleOutCounters {
    /// Queries split over more than one node.
    pub queries: AtomicU64,
    /// Shares a follower ran and this node merged.
    pub shares_remote: AtomicU64,
    /// Shares sent to a follower that this node ran instead (refused,
    /// failed, malformed or late).
    pub shares_taken_back: AtomicU64,
}

/// The leader's side of scale-out queries (one per node, shared by the
/// API's workers).
#[derive(Clone)]
pub struct ScaleOut {
    store: Arc<Store>,
    role: RoleView,
    replication: ReplicationState,
    metastore: Metastore,
    proof: PeerProof,
    tls: Arc<rustls::ClientConfig>,
    me: String,
    min_events_per_share: u64,
    counters: Arc<ScaleOutCounters>,
}

/// Where a [`ScaleOut`] finds what it needs.
pub struct ScaleOutSetup {
    /// The store queries read.
    pub store: Arc<Store>,
    /// This node's role.
    pub role: RoleView,
    /// The leader's replication state (its followers, who is up to date).
    pub replication: ReplicationState,
    /// The shared metastore (the followers' cluster URIs).
    pub metastore: Metastore,
    /// Signs share requests with the cluster key.
    pub proof: PeerProof,
    /// Verifies a follower's `https://` cluster port.
    pub tls: Arc<rustls::ClientConfig>,
    /// This node's name.
    pub me: String,
}

impl ScaleOut {
    /// The scale-out side of a clustered node; `lookup` reads the
    /// environment (`SKEIN_SCALE_OUT_MIN_EVENTS` lowers the events a share
    /// must be worth, for tests on small stores).
    pub fn new(setup: ScaleOutSetup, lookup: impl Fn(&str) -> Option<String>) -> ScaleOut {
        let min_events_per_share = lookup("SKEIN_SCALE_OUT_MIN_EVENTS")
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(MIN_EVENTS_PER_SHARE);
        ScaleOut {
            store: setup.store,
            role: setup.role,
            replication: setup.replication,
            metastore: setup.metastore,
            proof: setup.proof,
            tls: setup.tls,
            me: setup.me,
            min_events_per_share,
            counters: Arc::default(),
        }
    }

    /// What scale-out queries did.
    pub fn counters(&self) -> &ScaleOutCounters {
        &self.counters
    }

    /// Runs `query` (its text `text`) split over this node and its
    /// followers; `None` when it is not worth splitting (the caller runs it
    /// alone).
    pub async fn run(
        &self,
        query: &Query,
        text: &str,
        range: (Option<Timestamp>, Option<Timestamp>),
        ctx: EvalContext,
    ) -> Option<Result<QueryResult, ApiError>> {
        let role = self.role.now();
        if role.role != Role::Leader || !query.aggregates() {
            return None;
        }
        let generation = self.store.generation();
        let followers = self.replication.followers(generation);
        let fresh = self.replication.up_to_date(Some(generation), &self.me);
        // Planning is cheap (block headers); the followers' addresses cost a
        // metastore round trip, read only for a query worth splitting.
        let candidates = fresh.values().filter(|&&f| f).count();
        if candidates == 0 {
            return None;
        }
        let plan = self.plan(query, range, ctx, candidates + 1).await.ok()?;
        if nodes_for(plan.events, candidates, self.min_events_per_share) < 2 {
            return None;
        }
        let rows = match self.metastore.nodes().await {
            Ok(rows) => rows,
            Err(e) => {
                log::warn!("scale-out: cannot read the followers' addresses, querying alone: {e}");
                return None;
            }
        };
        let helpers = helpers(role.term, &followers, &fresh, &rows);
        let nodes = nodes_for(plan.events, helpers.len(), self.min_events_per_share);
        if nodes < 2 {
            return None;
        }
        let plan = match nodes == plan.shares.len() {
            true => plan,
            false => self.plan(query, range, ctx, nodes).await.ok()?,
        };
        self.counters.queries.fetch_add(1, Ordering::Relaxed);
        let request = |share: &Share| ShareRequest {
            term: role.term,
            below: plan.below,
            now: ctx.now.0,
            query: text.to_owned(),
            from: range.0.map(|t| t.0),
            to: range.1.map(|t| t.0),
            share: share.clone(),
        };
        let client = self.client();
        let asked: Vec<_> = helpers
            .iter()
            .zip(&plan.shares[1..])
            .map(|(helper, share)| {
                let sent = self.ask(&client, helper, &request(share), role.term);
                (
                    helper.name.clone(),
                    share.clone(),
                    actix_web::rt::spawn(sent),
                )
            })
            .collect();
        let started = Instant::now();
        let mine = self.share_here(query, range, ctx, &plan.shares[0]).await;
        let deadline = Instant::now() + started.elapsed().max(MIN_GRACE);
        let mut runner = query.runner(&ctx);
        if let Err(e) = mine.and_then(|p| absorb(&mut runner, p)) {
            return Some(Err(e));
        }
        for (name, share, answer) in asked {
            let left = deadline.saturating_duration_since(Instant::now());
            let abort = answer.abort_handle();
            let partial = match actix_web::rt::time::timeout(left, answer).await {
                Ok(Ok(Ok(partial))) => runner.absorb(partial).map_err(|e| e.to_string()),
                Ok(Ok(Err(e))) => Err(e),
                Ok(Err(e)) => Err(e.to_string()),
                Err(_) => {
                    abort.abort();
                    Err(format!("no answer within {} ms", left.as_millis()))
                }
            };
            match partial {
                Ok(()) => {
                    self.counters.shares_remote.fetch_add(1, Ordering::Relaxed);
                }
                Err(why) => {
                    log::warn!("scale-out: {name} did not run its share ({why}); running it here");
                    self.counters
                        .shares_taken_back
                        .fetch_add(1, Ordering::Relaxed);
                    let taken_back = self.share_here(query, range, ctx, &share).await;
                    if let Err(e) = taken_back.and_then(|p| absorb(&mut runner, p)) {
                        return Some(Err(e));
                    }
                }
            }
        }
        Some(Ok(runner.finish()))
    }

    /// Plans `query` over `nodes` nodes on the blocking pool.
    async fn plan(
        &self,
        query: &Query,
        range: (Option<Timestamp>, Option<Timestamp>),
        ctx: EvalContext,
        nodes: usize,
    ) -> Result<skein_store::search::SharePlan, actix_web::error::BlockingError> {
        let (store, q) = (self.store.clone(), query.clone());
        web::block(move || plan_shares(&store, &q, range, &ctx, nodes)).await
    }

    /// Runs one share on this node's blocking pool.
    async fn share_here(
        &self,
        query: &Query,
        range: (Option<Timestamp>, Option<Timestamp>),
        ctx: EvalContext,
        share: &Share,
    ) -> Result<PartialQuery, ApiError> {
        let (store, q, s) = (self.store.clone(), query.clone(), share.clone());
        Ok(web::block(move || query_share(&store, &q, range, &ctx, &s))
            .await
            .map_err(|e| ApiError::Internal(e.to_string()))??)
    }

    /// An HTTP client for the followers' cluster ports (one per query: awc
    /// clients belong to the thread that made them).
    fn client(&self) -> awc::Client {
        let connector = awc::Connector::new()
            .connector(crate::api::nodelay::NoDelayConnector::default())
            .timeout(CONNECT_TIMEOUT)
            .rustls_0_23(self.tls.clone());
        awc::Client::builder()
            .disable_redirects()
            .connector(connector)
            .finish()
    }

    /// Sends `request` to `helper`, signed, and decodes its partial.
    fn ask(
        &self,
        client: &awc::Client,
        helper: &Helper,
        request: &ShareRequest,
        term: u64,
    ) -> impl std::future::Future<Output = Result<PartialQuery, String>> + 'static {
        let body = request.encode().map(Bytes::from);
        let (client, proof, base) = (
            client.clone(),
            self.proof.clone(),
            helper.cluster_port.clone(),
        );
        async move {
            let body = body.map_err(|e| e.to_string())?;
            let path_and_query = format!("{SHARE_PATH}?{DIGEST_PARAM}={}", body_digest(&body));
            let url = base.join(&path_and_query).map_err(|e| e.to_string())?;
            let term = term.to_string();
            let signed = proof.sign(&Crossing {
                method: "POST",
                path_and_query: &path_and_query,
                hops: "1",
                term: &term,
                forwarded_for: "",
            });
            let header = |v: &str| HeaderValue::from_str(v).map_err(|e| e.to_string());
            let mut answer = client
                .post(url.as_str())
                .insert_header((
                    HeaderName::from_static(peer_proof::PROOF_HEADER),
                    header(&signed)?,
                ))
                .insert_header((HeaderName::from_static(PROXIED_HEADER), header("1")?))
                .insert_header((HeaderName::from_static(TERM_HEADER), header(&term)?))
                .content_type(CONTENT_TYPE)
                .send_body(body)
                .await
                .map_err(|e| format!("{url}: {e}"))?;
            let bytes = answer
                .body()
                .limit(MAX_ANSWER_BYTES)
                .await
                .map_err(|e| format!("{url}: {e}"))?;
            if !answer.status().is_success() {
                return Err(format!(
                    "{}: {}",
                    answer.status(),
                    String::from_utf8_lossy(&bytes[..bytes.len().min(500)])
                ));
            }
            decode_answer(&bytes).map_err(|e| e.to_string())
        }
    }
}

/// Merges `partial`, run on this node (it always fits), into `runner`.
fn absorb(runner: &mut QueryRunner, partial: PartialQuery) -> Result<(), ApiError> {
    runner
        .absorb(partial)
        .map_err(|e| ApiError::Internal(e.to_string()))
}
