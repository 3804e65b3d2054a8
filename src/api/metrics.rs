//! `GET /metrics` in Prometheus text format: events and bytes ingested,
//! requests by route, method and status with latency histograms (every
//! label value from a fixed set: [`labels`]), the build, the node's role and
//! term and the store's fsync latencies ([`node`]), the store's size, event
//! count and generation, the process's CPU, memory and file descriptors
//! ([`process`]), and on a clustered node replication ([`replication`])
//! and scale-out queries ([`scale_out`]).
//! Always this node's own (a follower never proxies it). The README's
//! "Metrics" section lists every metric.

pub mod labels;
mod node;
mod process;
mod replication;
mod scale_out;

use std::time::Duration;

use actix_web::{web, HttpResponse};
use prometheus_client::encoding::text::{encode_eof, encode_registry};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::Registry;
use skein_actors::messages::{GetHealth, Role};
use skein_store::stream::StoreStatus;
use skein_store::Store;

use self::node::NodeSnapshot;
use self::process::ProcessSnapshot;
use self::replication::ReplicationSnapshot;
use self::scale_out::ScaleOutSnapshot;
use super::AppState;

/// Labels of one request count (values from [`labels`]).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: String,
    method: &'static str,
    status: String,
}

/// Labels of one latency histogram.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
}

/// The node's metrics.
pub struct Metrics {
    registry: Registry,
    events: Counter,
    bytes: Counter,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram>,
    store_bytes: Gauge,
    store_events: Gauge,
    generation_model: Gauge,
    generation_write: Gauge,
}

impl Default for Metrics {
    fn default() -> Metrics {
        let mut registry = Registry::with_prefix("skein");
        let m = Metrics {
            events: Counter::default(),
            bytes: Counter::default(),
            requests: Family::default(),
            latency: Family::new_with_constructor(|| {
                Histogram::new(exponential_buckets(0.0005, 2.0, 16))
            }),
            store_bytes: Gauge::default(),
            store_events: Gauge::default(),
            generation_model: Gauge::default(),
            generation_write: Gauge::default(),
            registry: Registry::default(),
        };
        registry.register(
            "build",
            "The running skein build (value 1)",
            Info::new(vec![("version", env!("CARGO_PKG_VERSION"))]),
        );
        registry.register(
            "ingested_events",
            "Events stored by ingestion",
            m.events.clone(),
        );
        registry.register(
            "ingested_bytes",
            "Request body bytes stored by ingestion",
            m.bytes.clone(),
        );
        registry.register(
            "http_requests",
            "HTTP requests by route, method and status",
            m.requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency by route",
            m.latency.clone(),
        );
        registry.register(
            "store_bytes",
            "Bytes of event segments on disk",
            m.store_bytes.clone(),
        );
        registry.register(
            "store_events",
            "Events held by the store",
            m.store_events.clone(),
        );
        registry.register(
            "store_generation_model",
            "Store generation, model part",
            m.generation_model.clone(),
        );
        registry.register(
            "store_generation_write",
            "Store generation, write part",
            m.generation_write.clone(),
        );
        Metrics { registry, ..m }
    }
}

impl Metrics {
    /// Counts an ingested body.
    pub fn ingested(&self, events: u64, bytes: u64) {
        self.events.inc_by(events);
        self.bytes.inc_by(bytes);
    }

    /// Counts a finished request (`route` is a matched pattern or
    /// `unmatched`; the method and status are bounded here).
    pub fn request(&self, route: &str, method: &str, status: u16, elapsed: Duration) {
        let labels = RequestLabels {
            route: route.to_owned(),
            method: labels::method(method),
            status: labels::status(status),
        };
        self.requests.get_or_create(&labels).inc();
        self.latency
            .get_or_create(&RouteLabels {
                route: route.to_owned(),
            })
            .observe(elapsed.as_secs_f64());
    }

    /// The exposition text, with store gauges taken from `status` and
    /// `store`, the node's role and term from `node` and, on a clustered
    /// node, replication's metrics from `replication` as seen in its role.
    pub fn render(
        &self,
        (status, store): (&StoreStatus, &Store),
        node: Option<(Role, u64)>,
        replication: Option<(&skein_actors::replication::ReplicationState, Role)>,
        scale_out: Option<&crate::scale_out::ScaleOutCounters>,
    ) -> String {
        self.store_bytes.set(status.bytes as i64);
        self.store_events.set(status.events as i64);
        self.generation_model.set(status.generation.model as i64);
        self.generation_write.set(status.generation.write as i64);
        let mut out = String::new();
        let fail = "writing to a String cannot fail";
        encode_registry(&mut out, &self.registry).expect(fail);
        let mut registry = Registry::with_prefix("skein");
        let fsync = store.fsync_latency();
        registry.register_collector(Box::new(NodeSnapshot { role: node, fsync }));
        encode_registry(&mut out, &registry).expect(fail);
        let mut registry = Registry::with_prefix("process");
        registry.register_collector(Box::new(ProcessSnapshot::read()));
        encode_registry(&mut out, &registry).expect(fail);
        if let Some((state, role)) = replication {
            let (leading, following) = (role.accepts_writes(), role == Role::Follower);
            let bytes_after = |g| store.bytes_after(g);
            let at = (status.generation, &bytes_after as &dyn Fn(_) -> u64);
            let snapshot = ReplicationSnapshot::read(state, at, leading, following);
            let mut registry = Registry::with_prefix("skein_replication");
            registry.register_collector(Box::new(snapshot));
            encode_registry(&mut out, &registry).expect(fail);
        }
        if let Some(counters) = scale_out {
            let mut registry = Registry::with_prefix("skein_scale_out");
            registry.register_collector(Box::new(ScaleOutSnapshot::read(counters)));
            encode_registry(&mut out, &registry).expect(fail);
        }
        encode_eof(&mut out).expect(fail);
        out
    }
}

/// Routes of this module.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/metrics", web::get().to(metrics));
}

async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    let store = state.actors.store.clone();
    let status = web::block(move || store.status()).await;
    // Role and term as /health reports them (the health reporter's view).
    let node = state.actors.health.send(GetHealth).await.ok();
    let node = node.map(|h| (h.role, h.term));
    let role = state.actors.role.now().role;
    let replication = state.actors.cluster.as_ref().map(|c| (&c.state, role));
    match status {
        Ok(status) => HttpResponse::Ok()
            .content_type("application/openmetrics-text; version=1.0.0; charset=utf-8")
            .body(state.metrics.render(
                (&status, &state.actors.store),
                node,
                replication,
                state.scale_out.as_ref().map(|s| s.counters()),
            )),
        Err(e) => {
            HttpResponse::ServiceUnavailable().json(serde_json::json!({ "Error": e.to_string() }))
        }
    }
}
