//! The node's own gauges at each scrape ([`NodeSnapshot`], a prometheus-client
//! [`Collector`]): its role (one `skein_node_role` series per role, 1 for the
//! current one, so an alert can say "no leader" or "two leaders") and its
//! leadership term — both as `/health` reports them, read from the health
//! reporter, not kept here — and the store's fsync latency histogram.

use std::collections::HashMap;
use std::fmt::Error;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric, NoLabelSet};
use prometheus_client::metrics::exemplar::Exemplar;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Unit;
use skein_actors::messages::Role;
use skein_store::stream::LatencySnapshot;

/// Every role, in the order their series are written.
const ROLES: [Role; 3] = [Role::Standalone, Role::Leader, Role::Follower];

/// The `role` label of a role.
pub fn role_label(role: Role) -> &'static str {
    match role {
        Role::Standalone => "standalone",
        Role::Leader => "leader",
        Role::Follower => "follower",
    }
}

/// The histogram buckets prometheus-client encodes: each bound with its own
/// (not cumulative) count, then +Inf (`f64::MAX`) with what is above the last bound.
pub fn histogram_buckets(s: &LatencySnapshot) -> Vec<(f64, u64)> {
    let below: u64 = s.buckets.iter().map(|(_, n)| n).sum();
    let mut out = s.buckets.clone();
    out.push((f64::MAX, s.count.saturating_sub(below)));
    out
}

/// What the node shows about itself at one scrape.
#[derive(Debug)]
pub struct NodeSnapshot {
    /// The role and term `/health` reports, when the health reporter answered.
    pub role: Option<(Role, u64)>,
    /// The store's fsync latencies.
    pub fsync: LatencySnapshot,
}

impl Collector for NodeSnapshot {
    fn encode(&self, mut e: DescriptorEncoder) -> Result<(), Error> {
        if let Some((role, term)) = self.role {
            let help = "The node's role: 1 for the role it has, 0 for the others";
            let mut m = e.encode_descriptor("node_role", help, None, MetricType::Gauge)?;
            for r in ROLES {
                let labels = [("role", role_label(r))];
                ConstGauge::new(i64::from(r == role)).encode(m.encode_family(&labels)?)?;
            }
            let term = ConstGauge::new(term as i64);
            let help = "The leadership term of the node's role (the term it leads, or the newest it knows of)";
            term.encode(e.encode_descriptor("node_term", help, None, MetricType::Gauge)?)?;
        }
        let help = "Time appends waited on fsync of the event store (group commits and replicated batches)";
        let mut m = e.encode_descriptor(
            "store_fsync_duration",
            help,
            Some(&Unit::Seconds),
            MetricType::Histogram,
        )?;
        let buckets = histogram_buckets(&self.fsync);
        let none: Option<&HashMap<usize, Exemplar<NoLabelSet, f64>>> = None;
        m.encode_histogram(self.fsync.sum_seconds, self.fsync.count, &buckets, none)
    }
}

#[cfg(test)]
mod tests {
    use prometheus_client::encoding::text::encode;
    use prometheus_client::registry::Registry;

    use super::*;

    fn render(snapshot: NodeSnapshot) -> String {
        let mut registry = Registry::with_prefix("skein");
        registry.register_collector(Box::new(snapshot));
        let mut out = String::new();
        encode(&mut out, &registry).unwrap();
        out
    }

    #[test]
    fn one_role_series_per_role_and_the_fsync_histogram_with_inf() {
        let fsync = LatencySnapshot {
            buckets: vec![(0.001, 2), (0.01, 1)],
            count: 4,
            sum_seconds: 1.5,
        };
        let text = render(NodeSnapshot {
            role: Some((Role::Leader, 7)),
            fsync,
        });
        for line in [
            "skein_node_role{role=\"standalone\"} 0",
            "skein_node_role{role=\"leader\"} 1",
            "skein_node_role{role=\"follower\"} 0",
            "skein_node_term 7",
            "skein_store_fsync_duration_seconds_count 4",
            "skein_store_fsync_duration_seconds_sum 1.5",
            "skein_store_fsync_duration_seconds_bucket{le=\"0.001\"} 2",
            "skein_store_fsync_duration_seconds_bucket{le=\"0.01\"} 3",
            "skein_store_fsync_duration_seconds_bucket{le=\"+Inf\"} 4",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} in\n{text}");
        }
    }

    #[test]
    fn without_a_health_answer_no_role_is_shown() {
        let fsync = LatencySnapshot {
            buckets: vec![],
            count: 0,
            sum_seconds: 0.0,
        };
        let text = render(NodeSnapshot { role: None, fsync });
        assert!(!text.contains("node_role"), "{text}");
        assert!(
            text.contains("skein_store_fsync_duration_seconds_count 0"),
            "{text}"
        );
    }
}
