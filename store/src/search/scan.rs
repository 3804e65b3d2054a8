//! Scanning one block: [`Bounds`] on the events wanted, and [`scan_block`],
//! which feeds every in-bounds event to a [`Sink`] through the cheapest view
//! that can answer the filter.

use crate::block::{BlockColumns, BlockError, BlockHeader, ColumnKind, DecodedBlock};
use crate::query::{EvalContext, Fields, Filter};
use crate::stream::read::read_block;
use crate::stream::{BlockRef, StoreError};
use crate::{EventId, EventView, Timestamp};

use super::prefilter::{reads_properties, Needle};
use super::projection::Projection;
use super::share::Share;

/// Which events a scan admits: a time range and an id range.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Bounds {
    /// Earliest timestamp, inclusive.
    pub from: Option<Timestamp>,
    /// Latest timestamp, exclusive.
    pub to: Option<Timestamp>,
    /// Lowest id and whether it is included.
    pub lo: Option<(EventId, bool)>,
    /// Highest id and whether it is included.
    pub hi: Option<(EventId, bool)>,
}

impl Bounds {
    /// Bounds admitting `from <= timestamp < to`.
    pub(crate) fn range(from: Option<Timestamp>, to: Option<Timestamp>) -> Bounds {
        Bounds {
            from,
            to,
            ..Bounds::default()
        }
    }

    /// Narrows the time range to the filter's own `@Timestamp` bounds, for
    /// block selection (rows are still tested against the filter itself).
    pub(crate) fn narrowed(&self, filter: Option<&Filter>, ctx: &EvalContext) -> Bounds {
        let mut b = *self;
        if let Some(f) = filter {
            let (lo, hi) = f.time_bounds(ctx);
            b.from = b.from.max(lo);
            if let Some(hi) = hi {
                let end = hi.0.checked_add(1).map(Timestamp);
                b.to = match (b.to, end) {
                    (Some(t), Some(e)) => Some(t.min(e)),
                    (t, e) => t.or(e),
                };
            }
        }
        if let Some((id, _)) = b.lo {
            b.from = b.from.max(Some(id.timestamp));
        }
        if let Some((id, _)) = b.hi {
            if let Some(end) = id.timestamp.0.checked_add(1) {
                b.to = Some(b.to.map_or(Timestamp(end), |t| t.min(Timestamp(end))));
            }
        }
        b
    }

    /// True when `id` is inside every bound.
    #[inline]
    pub(crate) fn admits(&self, id: EventId) -> bool {
        self.from.is_none_or(|f| id.timestamp >= f)
            && self.to.is_none_or(|t| id.timestamp < t)
            && self.lo.is_none_or(|(lo, inc)| id > lo || (inc && id == lo))
            && self.hi.is_none_or(|(hi, inc)| id < hi || (inc && id == hi))
    }

    /// True when a block with this header may hold an admitted event.
    pub(crate) fn may_hold(&self, h: &BlockHeader) -> bool {
        let (first, last) = id_span(h);
        self.from.is_none_or(|f| h.max_ts >= f)
            && self.to.is_none_or(|t| h.min_ts < t)
            && self
                .lo
                .is_none_or(|(lo, inc)| last > lo || (inc && last == lo))
            && self
                .hi
                .is_none_or(|(hi, inc)| first < hi || (inc && first == hi))
    }

    /// True when every event of a block with this header is admitted.
    pub(crate) fn holds_all(&self, h: &BlockHeader) -> bool {
        let (first, last) = id_span(h);
        self.from.is_none_or(|f| h.min_ts >= f)
            && self.to.is_none_or(|t| h.max_ts < t)
            && self
                .lo
                .is_none_or(|(lo, inc)| first > lo || (inc && first == lo))
            && self
                .hi
                .is_none_or(|(hi, inc)| last < hi || (inc && last == hi))
    }
}

/// The lowest and highest id any event of a block can have.
pub(crate) fn id_span(h: &BlockHeader) -> (EventId, EventId) {
    let last_arrival = h
        .first_arrival
        .saturating_add(u64::from(h.event_count.saturating_sub(1)));
    (
        EventId {
            timestamp: h.min_ts,
            arrival: h.first_arrival,
        },
        EventId {
            timestamp: h.max_ts,
            arrival: last_arrival,
        },
    )
}

/// Receives the admitted events of a scanned block.
pub(crate) trait Sink {
    /// Event number `index` of the block, with its id.
    fn event<E: EventView + ?Sized>(&mut self, e: &E, id: EventId, index: u32);
}

/// Labels a block decoding error with the block's place.
pub(crate) fn corrupt(b: &BlockRef) -> impl FnOnce(BlockError) -> StoreError + '_ {
    move |source| StoreError::CorruptBlock {
        segment: b.meta.segment,
        offset: b.meta.offset,
        source,
    }
}

/// What a scan reads and what it may skip.
pub(crate) struct Plan<'a> {
    /// The columns the filter (or query) reads.
    pub fields: &'a Fields,
    /// Texts a match must contain; a block lacking one is skipped whole.
    pub needles: &'a [Needle],
    /// The events admitted.
    pub bounds: &'a Bounds,
    /// Of those, the arrival numbers admitted (a scale-out query's share).
    pub share: Option<&'a Share>,
}

impl<'a> Plan<'a> {
    /// A plan reading `fields`, skipping blocks without a needle, admitting `bounds`.
    pub(crate) fn new(fields: &'a Fields, needles: &'a [Needle], bounds: &'a Bounds) -> Plan<'a> {
        Plan {
            fields,
            needles,
            bounds,
            share: None,
        }
    }

    /// Whether the plan admits the event `id`.
    #[inline]
    fn admits(&self, id: EventId) -> bool {
        self.bounds.admits(id) && self.share.is_none_or(|s| s.admits(id.arrival))
    }
}

/// Reads one block and feeds each event the plan admits to `sink`, through
/// a [`Projection`] of its fields or, when the filter renders messages,
/// through the fully decoded block. Returns the number of events fed (none
/// when a needle rules the block out).
pub(crate) fn scan_block<S: Sink>(
    b: &BlockRef,
    plan: &Plan<'_>,
    sink: &mut S,
) -> Result<usize, StoreError> {
    let Plan {
        fields, needles, ..
    } = plan;
    let bytes = read_block(b)?;
    let cols = BlockColumns::open(&bytes).map_err(corrupt(b))?;
    let wants_schema = reads_properties(needles) || !fields.properties.is_empty();
    let schema = wants_schema
        .then(|| cols.schema(ColumnKind::PropertySchema))
        .transpose()
        .map_err(corrupt(b))?;
    for n in needles.iter() {
        if !n.may_match(&cols, schema.as_ref()).map_err(corrupt(b))? {
            return Ok(0);
        }
    }
    let mut fed = 0;
    if fields.everything {
        let block = DecodedBlock::from_columns(&cols).map_err(corrupt(b))?;
        for e in block.iter() {
            let Some(id) = e.id() else { continue };
            if plan.admits(id) {
                sink.event(&e, id, e.index() as u32);
                fed += 1;
            }
        }
    } else {
        let p = Projection::load(&cols, fields, schema).map_err(corrupt(b))?;
        for i in 0..p.len() {
            let id = p.id(i);
            if plan.admits(id) {
                sink.event(&p.row(i), id, i as u32);
                fed += 1;
            }
        }
    }
    Ok(fed)
}
