//! The cluster as any node sees it, from the shared metastore's node rows
//! and leadership row plus this node's live state:
//!
//! - `GET /health/cluster` → `{"Status":"Healthy|Degraded|Unhealthy","Description":…}`
//!   (200 unless Unhealthy; Degraded while the leader has no up-to-date follower);
//! - `GET /api/cluster` → `{"Nodes":[…Seq node entities…],"Notifications":[…],…}`;
//!   a follower copying a snapshot shows `"CatchUp": {"CopiedBytes",
//!   "TotalBytes", "BytesPerSecond", "EstimatedSecondsLeft", "StartedAt",
//!   "Description"}` in its entry (from its heartbeat row; `null` otherwise,
//!   and while its heartbeat is stale);
//! - `POST /api/cluster/demote[?to=NODE&force=true&catchUpSeconds=N]` on the
//!   leader: graceful hand-over, answering the steps it took — or, with
//!   `Accept: application/x-ndjson`, streaming each step as it happens.
//!
//! The ClusterCoordinator's address is app data
//! (`web::Data<Option<Addr<ClusterCoordinator>>>`); without it the node is
//! standalone.

use std::collections::BTreeMap;
use std::time::Duration;

use actix::Addr;
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse, ResponseError as _};
use bytes::Bytes;
use futures_util::StreamExt as _;
use serde::Deserialize;
use serde_json::{json, Value};
use skein_actors::cluster::{ClusterError, ClusterTiming};
use skein_actors::messages::{DemoteLeader, DemoteReport, Role};
use skein_actors::metastore::cluster::{Leadership, NodeRow};
// chrono as the metastore's rows carry it (the binary has no chrono of its own).
use chrono::{DateTime, Utc};
use skein_actors::messages::GetNodeRow;
use skein_actors::replication::CatchUpProgress;
use skein_actors::ClusterCoordinator;

use super::error::ApiError;
use super::AppState;

/// The notification shown while the leader has no up-to-date follower.
pub const NO_UP_TO_DATE_FOLLOWER: &str = "no up-to-date follower";

/// The media type of a live demotion: one JSON object per line, each
/// `{"Step": …}` as it happens, the last the result (as the JSON answer) or
/// `{"Error": …, "Status": …}`.
pub const NDJSON: &str = "application/x-ndjson";

/// How long a demotion waits for the follower by default.
pub const DEFAULT_CATCH_UP: Duration = Duration::from_secs(30);

/// Routes of this module.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/health/cluster", web::get().to(health))
        .route("/api/cluster", web::get().to(cluster))
        .route("/api/cluster/demote", web::post().to(demote));
}

/// The cluster as computed from the rows.
#[derive(Debug, PartialEq)]
pub struct ClusterView {
    /// Seq node entities, this node first.
    pub nodes: Vec<Value>,
    /// Warnings for the operator.
    pub notifications: Vec<String>,
    /// `Healthy`, `Degraded` or `Unhealthy`.
    pub status: &'static str,
    /// One line explaining the status.
    pub description: String,
    /// How many followers the leader waits for before it acknowledges a
    /// write (`replication.minimumAcknowledgingReplicas`, as its lease
    /// grant recorded it).
    pub acknowledging_replicas: u32,
}

/// Builds the view from this node's live `me` row, every stored row and
/// the leadership row, at `now`. Whether a follower is up to date comes
/// from this node's live replication state, `live` (by node name; see
/// `ReplicationState::up_to_date`): on the leader, its connected
/// followers; on a follower, itself. A follower missing there is not.
pub fn view(
    me: &NodeRow,
    rows: &[NodeRow],
    leadership: &Leadership,
    live: &BTreeMap<String, bool>,
    now: DateTime<Utc>,
    timing: &ClusterTiming,
) -> ClusterView {
    let ms_since = |t: Option<DateTime<Utc>>| {
        t.map(|t| u64::try_from((now - t).num_milliseconds()).unwrap_or(0))
    };
    let fresh = |t: Option<DateTime<Utc>>, within: Duration| {
        ms_since(t).is_some_and(|ms| u128::from(ms) <= within.as_millis())
    };
    let mut all: Vec<(NodeRow, bool)> = vec![(me.clone(), true)];
    for r in rows.iter().filter(|r| r.name != me.name) {
        let up = fresh(r.seen_at, timing.node_stale);
        all.push((r.clone(), up));
    }
    let leader_name = leadership.leader_node.as_deref();
    let leader = all
        .iter()
        .find(|(r, up)| *up && Some(r.name.as_str()) == leader_name && r.role == "leader");
    let mut notifications = Vec::new();
    let mut up_to_date_followers = 0;
    let required = leadership.acknowledging_replicas as usize;
    let nodes = all
        .iter()
        .map(|(r, up)| {
            let is_leader = leader.is_some_and(|(l, _)| l.name == r.name);
            let synced = ms_since(r.last_sync_at);
            let up_to_date = if is_leader || r.role == "standalone" {
                *up
            } else {
                *up && live.get(&r.name).copied().unwrap_or(false)
            };
            let acknowledges = up_to_date && !is_leader && r.role == "follower";
            if acknowledges {
                up_to_date_followers += 1;
            }
            let state = if *up {
                r.state.clone()
            } else {
                let ago =
                    ms_since(r.seen_at).map_or("never".into(), |ms| format!("{}s ago", ms / 1000));
                notifications.push(format!("node {} is unreachable (last seen {ago})", r.name));
                format!("unreachable (last seen {ago})")
            };
            json!({
                "Name": r.name,
                "Role": role_name(&r.role),
                "Generation": format!("{}.{}", r.generation_model, r.generation_write),
                "IsUpToDate": up_to_date,
                "MillisecondsSinceLastSync": synced,
                "StateDescription": state,
                "Term": r.term,
                "ClusterUri": r.cluster_uri,
                "InternalApiUri": r.internal_api_uri,
                "ConnectionsAccepted": r.accepted,
                "ConnectionsRejectedInvalidKey": r.invalid_key,
                "ConnectionsEstablished": r.established,
                "ConnectionsRejectedMalformedHandshake": r.refusals.malformed_handshake,
                "FramesRejectedSessionCheck": r.refusals.session_check,
                "ConnectionsRejectedForgedLeader": r.refusals.forged_leader,
                "RequestsRejectedForgedForwarding": r.refusals.forged_forwarding,
                "CatchUp": r.catch_up.as_ref().filter(|_| *up).map(catch_up),
                "AutoFailover": r.auto_failover,
                "CountsTowardAcknowledgements": acknowledges && required > 0,
            })
        })
        .collect();
    let (status, description) = match leader {
        None if me.role == "standalone" => ("Healthy", "standalone node".to_string()),
        None => {
            notifications.insert(0, "no node leads the cluster".into());
            (
                "Unhealthy",
                "no reachable node leads the cluster".to_string(),
            )
        }
        Some(_) if up_to_date_followers < required => {
            let short = format!(
                "{up_to_date_followers} of the {required} up-to-date follower(s) that \
                 acknowledgements need (replication.minimumAcknowledgingReplicas): writes fail \
                 with 503"
            );
            notifications.insert(0, short.clone());
            ("Degraded", short)
        }
        Some(_) if up_to_date_followers == 0 => {
            notifications.insert(0, NO_UP_TO_DATE_FOLLOWER.into());
            (
                "Degraded",
                format!("the leader has {NO_UP_TO_DATE_FOLLOWER}"),
            )
        }
        Some((l, _)) => (
            "Healthy",
            format!(
                "{} leads in term {}; {up_to_date_followers} follower(s) up to date",
                l.name, leadership.term
            ),
        ),
    };
    ClusterView {
        nodes,
        notifications,
        status,
        description,
        acknowledging_replicas: leadership.acknowledging_replicas,
    }
}

/// A follower's snapshot copy in progress, as a node entry shows it.
fn catch_up(c: &CatchUpProgress) -> Value {
    json!({
        "CopiedBytes": c.copied_bytes,
        "TotalBytes": c.total_bytes,
        "BytesPerSecond": c.bytes_per_second,
        "EstimatedSecondsLeft": c.seconds_left,
        "StartedAt": c.started_at,
        "Description": c.summary(),
    })
}

fn role_name(role: &str) -> &'static str {
    match role {
        "leader" => Role::Leader.name(),
        "follower" => Role::Follower.name(),
        _ => Role::Standalone.name(),
    }
}

/// This node's live row (from the coordinator when clustered).
async fn live_row(req: &HttpRequest, state: &AppState) -> Result<NodeRow, ApiError> {
    if let Some(c) = coordinator(req) {
        return Ok(c.send(GetNodeRow).await?);
    }
    let role = state.actors.role.now();
    let (role, term) = (role.role, role.term);
    let g = state.actors.store.generation();
    Ok(NodeRow {
        name: state.instance_name.clone(),
        role: role.name().to_lowercase(),
        term,
        generation_model: g.model,
        generation_write: g.write,
        last_sync_at: None,
        seen_at: Some(Utc::now()),
        cluster_uri: None,
        internal_api_uri: None,
        state: "standalone".into(),
        accepted: 0,
        invalid_key: 0,
        established: 0,
        refusals: Default::default(),
        catch_up: None,
        store_term: term,
        auto_failover: false,
        sampled_at: None,
    })
}

fn coordinator(req: &HttpRequest) -> Option<Addr<ClusterCoordinator>> {
    req.app_data::<web::Data<Option<Addr<ClusterCoordinator>>>>()
        .and_then(|a| a.get_ref().clone())
}

async fn current(req: &HttpRequest, state: &AppState) -> Result<ClusterView, ApiError> {
    let me = live_row(req, state).await?;
    let timing = ClusterTiming::from_env(state.config.cluster.auto_failover, |k| {
        std::env::var(k).ok()
    });
    let (rows, leadership) = if coordinator(req).is_some() {
        let ms = state.credentials.metastore();
        (ms.nodes().await?, ms.current_leadership().await?)
    } else {
        (Vec::new(), Leadership::vacant())
    };
    let live = match &state.actors.cluster {
        Some(c) => {
            let leading = (me.role == "leader").then(|| state.actors.store.generation());
            c.state.up_to_date(leading, &me.name)
        }
        None => BTreeMap::new(),
    };
    Ok(view(&me, &rows, &leadership, &live, Utc::now(), &timing))
}

async fn health(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let (status, description) = match current(&req, &state).await {
        Ok(v) => (v.status, v.description),
        Err(e) => ("Unhealthy", format!("cannot read the cluster's state: {e}")),
    };
    let body = json!({ "Status": status, "Description": description });
    match status {
        "Unhealthy" => HttpResponse::ServiceUnavailable().json(body),
        _ => HttpResponse::Ok().json(body),
    }
}

async fn cluster(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let v = current(&req, &state).await?;
    Ok(HttpResponse::Ok().json(json!({
        "Nodes": v.nodes,
        "Notifications": v.notifications,
        "Status": v.status,
        "Description": v.description,
        "MinimumAcknowledgingReplicas": v.acknowledging_replicas,
    })))
}

/// `POST /api/cluster/demote` query parameters.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DemoteQuery {
    to: Option<String>,
    #[serde(default)]
    force: bool,
    catch_up_seconds: Option<u64>,
}

async fn demote(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<DemoteQuery>,
) -> Result<HttpResponse, ApiError> {
    let Some(coordinator) = coordinator(&req) else {
        return Err(ApiError::BadRequest(
            "this node is not part of a cluster".into(),
        ));
    };
    let me = coordinator.send(GetNodeRow).await?;
    if me.role != "leader" {
        return Err(ApiError::BadRequest(ClusterError::NotLeader.to_string()));
    }
    let to = match &query.to {
        Some(to) => to.trim().to_string(),
        None => peer(&state, &me).await?,
    };
    let live = wants_ndjson(&req);
    let (progress, steps) = match live {
        true => {
            let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
            (Some(tx), Some(rx))
        }
        false => (None, None),
    };
    let msg = DemoteLeader {
        to,
        catch_up: query
            .catch_up_seconds
            .map_or(DEFAULT_CATCH_UP, Duration::from_secs),
        force: query.force,
        progress,
    };
    // `send` queues the message now; the answer is awaited below.
    let done = coordinator.send(msg);
    let result = async move {
        done.await?.map_err(|e| match e {
            ClusterError::NotLeader => ApiError::BadRequest(e.to_string()),
            e => ApiError::Unavailable(e.to_string()),
        })
    };
    let Some(mut steps) = steps else {
        return result.await.map(|r| HttpResponse::Ok().json(report(&r)));
    };
    // One line per step as it happens, then the result (or the error): the
    // steps end when the demotion has finished with its step sender.
    let lines = futures_util::stream::poll_fn(move |cx| steps.poll_recv(cx))
        .map(|step| json!({ "Step": step }))
        .chain(futures_util::stream::once(async move {
            match result.await {
                Ok(r) => report(&r),
                Err(e) => json!({ "Error": e.to_string(), "Status": e.status_code().as_u16() }),
            }
        }))
        .map(|line| {
            let mut bytes = serde_json::to_vec(&line).unwrap_or_default();
            bytes.push(b'\n');
            Ok::<_, actix_web::Error>(Bytes::from(bytes))
        });
    Ok(HttpResponse::Ok()
        .content_type(NDJSON)
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(lines))
}

/// A finished demotion as the API answers it.
fn report(r: &DemoteReport) -> Value {
    json!({
        "Steps": r.steps,
        "Term": r.term,
        "NewLeader": r.new_leader,
    })
}

/// Whether the client asked for the demotion's steps live ([`NDJSON`]).
fn wants_ndjson(req: &HttpRequest) -> bool {
    req.headers()
        .get_all(header::ACCEPT)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| {
            t.split(';')
                .next()
                .is_some_and(|t| t.trim().eq_ignore_ascii_case(NDJSON))
        })
}

/// The follower to hand over to: the freshest other node in the follower
/// role (or whose row, from an older term, is not yet heartbeated as one).
async fn peer(state: &AppState, me: &NodeRow) -> Result<String, ApiError> {
    let rows = state.credentials.metastore().nodes().await?;
    rows.into_iter()
        .filter(|r| r.name != me.name && (r.role == "follower" || r.term < me.term))
        .max_by_key(|r| {
            let generation = skein_store::Generation {
                model: r.generation_model,
                write: r.generation_write,
            };
            (generation, r.seen_at)
        })
        .map(|r| r.name)
        .ok_or_else(|| ApiError::BadRequest("no follower to hand leadership to".into()))
}

#[cfg(test)]
mod tests;
