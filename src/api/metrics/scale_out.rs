//! The `skein_scale_out_*` metrics of a node that splits queries over its
//! followers ([`crate::scale_out::ScaleOut`]): queries split, shares a
//! follower ran, and shares taken back (a follower refused, failed or was
//! late, so this node ran the share itself).

use std::fmt::Error;
use std::sync::atomic::Ordering;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;

use crate::scale_out::ScaleOutCounters;

/// The counters as read at one scrape.
#[derive(Debug)]
pub struct ScaleOutSnapshot([(&'static str, &'static str, u64); 3]);

impl ScaleOutSnapshot {
    /// Reads `counters`.
    pub fn read(c: &ScaleOutCounters) -> ScaleOutSnapshot {
        let n = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
        ScaleOutSnapshot([
            (
                "queries",
                "Aggregating queries split over this leader and its followers",
                n(&c.queries),
            ),
            (
                "shares_remote",
                "Query shares a follower ran and this leader merged",
                n(&c.shares_remote),
            ),
            (
                "shares_taken_back",
                "Query shares a follower refused, failed or was late with, run on this leader instead",
                n(&c.shares_taken_back),
            ),
        ])
    }
}

impl Collector for ScaleOutSnapshot {
    fn encode(&self, mut e: DescriptorEncoder) -> Result<(), Error> {
        for (name, help, value) in self.0 {
            let c = ConstCounter::new(value);
            c.encode(e.encode_descriptor(name, help, None, c.metric_type())?)?;
        }
        Ok(())
    }
}
