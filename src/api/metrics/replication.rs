//! The `skein_replication_*` metrics of a clustered node, read from
//! [`ReplicationState`] at each scrape ([`ReplicationSnapshot`], a
//! prometheus-client [`Collector`]):
//!
//! - always: sessions accepted / refused for an invalid key / established on
//!   the cluster port, frames and bytes sent (and the snapshot share of them),
//!   bytes received; batches that waited for followers (durable
//!   acknowledgements), the seconds they waited, and those refused;
//! - on a leader, per follower (label `follower`): connected, operations
//!   and bytes behind the leader, seconds since its last acknowledgement; a follower
//!   that had a session since start but has none now is listed as not connected;
//! - on a follower: connected to the leader, seconds since the last sync,
//!   operations behind the leader's last announced generation.

use std::collections::BTreeMap;
use std::fmt::Error;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Unit;
use skein_actors::replication::{
    AcknowledgementCounters, FollowerInfo, LeaderSession, ReplicationCounters, ReplicationState,
    TrafficCounters,
};
use skein_store::Generation;

/// What replication shows at one scrape.
#[derive(Debug)]
pub struct ReplicationSnapshot {
    counters: ReplicationCounters,
    traffic: TrafficCounters,
    acknowledgements: AcknowledgementCounters,
    /// On a leader: each follower that had a session since start, `None` once gone.
    followers: Option<BTreeMap<String, Option<FollowerInfo>>>,
    /// On a leader: the segment bytes each connected follower lacks.
    bytes_behind: BTreeMap<String, u64>,
    /// On a follower: its session with the leader.
    leader: Option<LeaderSession>,
    /// Milliseconds since the Unix epoch at the scrape.
    now_ms: i64,
}

impl ReplicationSnapshot {
    /// Reads `state`; `leading` (with the leader's `generation`) shows the
    /// followers, with the bytes each lacks from `bytes_after` (the store's
    /// bytes after a generation), otherwise `following` shows the session
    /// with the leader.
    pub fn read(
        state: &ReplicationState,
        (generation, bytes_after): (Generation, &dyn Fn(Generation) -> u64),
        leading: bool,
        following: bool,
    ) -> ReplicationSnapshot {
        let followers = leading.then(|| {
            let mut by_name: BTreeMap<String, Option<FollowerInfo>> = state
                .known_followers()
                .into_iter()
                .map(|name| (name, None))
                .collect();
            // The latest session of each follower (a reconnect may overlap the old one).
            for f in state.followers(generation) {
                let slot = by_name.entry(f.node.clone()).or_default();
                if slot
                    .as_ref()
                    .is_none_or(|old| f.connected_since >= old.connected_since)
                {
                    *slot = Some(f);
                }
            }
            by_name
        });
        let bytes_behind = followers
            .iter()
            .flatten()
            .filter_map(|(name, f)| Some((name.clone(), bytes_after(f.as_ref()?.generation))))
            .collect();
        ReplicationSnapshot {
            counters: state.counters(),
            traffic: state.traffic(),
            acknowledgements: state.acknowledgements(),
            followers,
            bytes_behind,
            leader: following.then(|| state.leader_session()),
            now_ms: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as i64),
        }
    }

    /// Seconds from `at_ms` (milliseconds since the Unix epoch) to the scrape.
    fn age(&self, at_ms: i64) -> f64 {
        (self.now_ms - at_ms).max(0) as f64 / 1000.0
    }
}

/// A label set of one follower.
type FollowerLabel = [(&'static str, String); 1];

fn counter(e: &mut DescriptorEncoder, name: &str, help: &str, unit: Option<Unit>, v: u64) -> R {
    let c = ConstCounter::new(v);
    c.encode(e.encode_descriptor(name, help, unit.as_ref(), c.metric_type())?)
}

fn gauge<V: prometheus_client::encoding::EncodeGaugeValue>(
    e: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    unit: Option<Unit>,
    v: V,
) -> R {
    let g = ConstGauge::new(v);
    g.encode(e.encode_descriptor(name, help, unit.as_ref(), g.metric_type())?)
}

/// One gauge per follower, `value` of each (skipped where it is `None`).
fn per_follower<V: prometheus_client::encoding::EncodeGaugeValue>(
    e: &mut DescriptorEncoder,
    (name, help, unit): (&str, &str, Option<Unit>),
    rows: &BTreeMap<String, Option<FollowerInfo>>,
    value: impl Fn(Option<&FollowerInfo>) -> Option<V>,
) -> R {
    let mut m = e.encode_descriptor(name, help, unit.as_ref(), MetricType::Gauge)?;
    for (node, info) in rows {
        if let Some(v) = value(info.as_ref()) {
            let labels: FollowerLabel = [("follower", node.clone())];
            ConstGauge::new(v).encode(m.encode_family(&labels)?)?;
        }
    }
    Ok(())
}

type R = Result<(), Error>;

impl Collector for ReplicationSnapshot {
    fn encode(&self, mut e: DescriptorEncoder) -> R {
        let (c, t, a) = (&self.counters, &self.traffic, &self.acknowledgements);
        counter(
            &mut e,
            "acknowledgement_waits",
            "Batches that waited for followers before being acknowledged \
             (replication.minimumAcknowledgingReplicas)",
            None,
            a.waits,
        )?;
        let waited = ConstCounter::new(a.wait_micros as f64 / 1e6);
        let help = "Time batches waited for followers before being acknowledged or refused";
        waited.encode(e.encode_descriptor(
            "acknowledgement_wait",
            help,
            Some(&Unit::Seconds),
            waited.metric_type(),
        )?)?;
        counter(
            &mut e,
            "acknowledgements_refused",
            "Batches refused (503) because too few followers held them in time",
            None,
            a.refused,
        )?;
        let sessions = "Replication sessions on the cluster port";
        counter(
            &mut e,
            "sessions_accepted",
            &format!("{sessions}: connections accepted"),
            None,
            c.accepted,
        )?;
        counter(
            &mut e,
            "sessions_invalid_key",
            &format!("{sessions}: refused for a wrong cluster key"),
            None,
            c.invalid_key,
        )?;
        counter(
            &mut e,
            "sessions_established",
            &format!("{sessions}: handshakes completed"),
            None,
            c.established,
        )?;
        counter(
            &mut e,
            "sent_frames",
            "Replication frames sent to followers",
            None,
            t.sent_frames,
        )?;
        counter(
            &mut e,
            "sent",
            "Replication frame bytes sent to followers",
            Some(Unit::Bytes),
            t.sent_bytes,
        )?;
        counter(
            &mut e,
            "snapshot_sent",
            "Replication frame bytes sent to followers carrying snapshot file chunks",
            Some(Unit::Bytes),
            t.snapshot_sent_bytes,
        )?;
        counter(
            &mut e,
            "received",
            "Replication frame bytes received from the leader",
            Some(Unit::Bytes),
            t.received_bytes,
        )?;
        if let Some(rows) = &self.followers {
            let connected = ("follower_connected", "Whether the follower has a replication session with this leader (1) or had one earlier (0)", None);
            per_follower(&mut e, connected, rows, |f| Some(i64::from(f.is_some())))?;
            let lag = (
                "follower_lag_operations",
                "Store operations (generation steps) the follower is behind this leader",
                None,
            );
            per_follower(&mut e, lag, rows, |f| f.map(|f| f.ops_behind))?;
            let lag_bytes = (
                "follower_lag",
                "Segment bytes (batches) this leader holds after the follower's generation",
                Some(Unit::Bytes),
            );
            per_follower(&mut e, lag_bytes, rows, |f| {
                f.and_then(|f| self.bytes_behind.get(&f.node).map(|b| *b as i64))
            })?;
            let ack = (
                "follower_last_ack_age",
                "Time since the follower last acknowledged a generation",
                Some(Unit::Seconds),
            );
            per_follower(&mut e, ack, rows, |f| {
                f.map(|f| self.age(f.last_ack_at.timestamp_millis()))
            })?;
        }
        if let Some(s) = &self.leader {
            gauge(
                &mut e,
                "leader_connected",
                "Whether this follower has a replication session with its leader",
                None,
                i64::from(s.connected),
            )?;
            if let Some(at) = s.last_sync_at {
                gauge(
                    &mut e,
                    "leader_last_sync_age",
                    "Time since this follower last heard from its leader while connected",
                    Some(Unit::Seconds),
                    self.age(at.timestamp_millis()),
                )?;
            }
            if let Some(g) = s.leader_generation {
                let behind = g.ops().saturating_sub(s.generation.ops());
                gauge(&mut e, "leader_lag_operations", "Store operations (generation steps) this follower is behind its leader's last announced generation", None, behind)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use prometheus_client::encoding::text::encode;
    use prometheus_client::registry::Registry;

    use super::*;

    fn render(snapshot: ReplicationSnapshot) -> String {
        let mut registry = Registry::with_prefix("skein_replication");
        registry.register_collector(Box::new(snapshot));
        let mut out = String::new();
        encode(&mut out, &registry).unwrap();
        out
    }

    #[test]
    fn a_leader_shows_its_followers_and_keeps_gone_ones_as_disconnected() {
        let state = ReplicationState::default();
        let id = state.connection_accepted();
        state.follower_established(id, "b", 1, Generation { model: 0, write: 2 });
        state.frame_sent(100, false);
        let leader = Generation { model: 1, write: 5 };
        let bytes = |g: Generation| 1000 * (leader.ops() - g.ops());
        let text = render(ReplicationSnapshot::read(
            &state,
            (leader, &bytes),
            true,
            false,
        ));
        for line in [
            "skein_replication_sessions_accepted_total 1",
            "skein_replication_sessions_established_total 1",
            "skein_replication_sessions_invalid_key_total 0",
            "skein_replication_sent_frames_total 1",
            "skein_replication_sent_bytes_total 100",
            "skein_replication_follower_connected{follower=\"b\"} 1",
            "skein_replication_follower_lag_operations{follower=\"b\"} 4",
            "skein_replication_follower_lag_bytes{follower=\"b\"} 4000",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} in\n{text}");
        }
        assert!(
            text.contains("skein_replication_follower_last_ack_age_seconds{follower=\"b\"} 0"),
            "{text}"
        );
        assert!(!text.contains("leader_connected"), "{text}");
        state.follower_gone(id);
        let text = render(ReplicationSnapshot::read(
            &state,
            (leader, &bytes),
            true,
            false,
        ));
        assert!(
            text.contains("skein_replication_follower_connected{follower=\"b\"} 0"),
            "{text}"
        );
        assert!(!text.contains("follower_lag_operations{"), "{text}");
        assert!(!text.contains("follower_lag_bytes{"), "{text}");
    }

    #[test]
    fn a_follower_shows_its_session_with_the_leader() {
        let state = ReplicationState::default();
        state.update_leader_session(|s| {
            s.connected = true;
            s.generation = Generation { model: 1, write: 3 };
            s.leader_generation = Some(Generation {
                model: 1,
                write: 10,
            });
            s.last_sync_at = serde_json::from_str("\"2020-01-01T00:00:00Z\"").ok();
        });
        state.frame_received(42);
        let none = |_: Generation| 0;
        let text = render(ReplicationSnapshot::read(
            &state,
            (Generation::ZERO, &none),
            false,
            true,
        ));
        for line in [
            "skein_replication_leader_connected 1",
            "skein_replication_leader_lag_operations 7",
            "skein_replication_received_bytes_total 42",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} in\n{text}");
        }
        let age = text
            .lines()
            .find_map(|l| l.strip_prefix("skein_replication_leader_last_sync_age_seconds "))
            .and_then(|v| v.parse::<f64>().ok());
        assert!(age.is_some_and(|a| a > 1e8), "{text}");
        assert!(!text.contains("follower_connected"), "{text}");
    }
}
