//! [`decode_block`]: a whole block decoded at once, read through
//! [`BlockEvent`] views or turned back into owned [`Event`]s.
//!
//! Built on [`BlockColumns`]: full decoding is every column read in turn.

use super::columns::{BlockColumns, ColumnKind};
use super::header::{BlockError, BlockHeader};
use super::maps::MapValues;
use super::strings::StrColumn;
use super::varint::corrupt;
use crate::event::{
    Event, EventId, EventView, JsonMap, JsonMapBuilder, Level, Severity, Timestamp,
};

/// Verifies and decodes the block at the start of `bytes`.
///
/// Any corruption (checksums, structure, counts, UTF-8, JSON names) is an
/// error; allocations are bounded by what the payload really decompresses to.
/// Raw JSON values are stored as the encoder received them and are not
/// re-validated.
pub fn decode_block(bytes: &[u8]) -> Result<DecodedBlock, BlockError> {
    DecodedBlock::from_columns(&BlockColumns::open(bytes)?)
}

/// A fully decoded block: every column in memory, events read by index.
#[derive(Clone, Debug)]
pub struct DecodedBlock {
    header: BlockHeader,
    timestamps: Vec<Timestamp>,
    severities: Vec<Severity>,
    /// Level texts, templates, messages, exceptions, trace ids, span ids.
    strings: [StrColumn; 6],
    reified: MapValues,
    properties: MapValues,
}

const STRING_KINDS: [ColumnKind; 6] = [
    ColumnKind::LevelTexts,
    ColumnKind::Templates,
    ColumnKind::Messages,
    ColumnKind::Exceptions,
    ColumnKind::TraceIds,
    ColumnKind::SpanIds,
];
const LEVEL: usize = 0;
const TEMPLATE: usize = 1;
const MESSAGE: usize = 2;
const EXCEPTION: usize = 3;
const TRACE: usize = 4;
const SPAN: usize = 5;

impl DecodedBlock {
    /// Decodes every column of an opened block.
    pub fn from_columns(cols: &BlockColumns<'_>) -> Result<DecodedBlock, BlockError> {
        let mut strings: [StrColumn; 6] = Default::default();
        for (s, kind) in strings.iter_mut().zip(STRING_KINDS) {
            *s = cols.strings(kind)?;
        }
        Ok(DecodedBlock {
            header: *cols.header(),
            timestamps: cols.timestamps()?,
            severities: cols.severities()?,
            strings,
            reified: map_values(cols, ColumnKind::ReifiedSchema, ColumnKind::ReifiedValues)?,
            properties: map_values(cols, ColumnKind::PropertySchema, ColumnKind::PropertyValues)?,
        })
    }

    /// The block's header.
    pub fn header(&self) -> &BlockHeader {
        &self.header
    }

    /// Number of events.
    pub fn len(&self) -> usize {
        self.timestamps.len()
    }

    /// True when the block holds no events.
    pub fn is_empty(&self) -> bool {
        self.timestamps.is_empty()
    }

    /// A view of event `i`, or `None` past the end.
    pub fn get(&self, i: usize) -> Option<BlockEvent<'_>> {
        (i < self.len()).then_some(BlockEvent { block: self, i })
    }

    /// A view of event `i`.
    ///
    /// # Panics
    /// When `i >= len()`, like slice indexing; [`DecodedBlock::get`] does not.
    pub fn event(&self, i: usize) -> BlockEvent<'_> {
        assert!(
            i < self.len(),
            "event {i} out of range for a block of {}",
            self.len()
        );
        BlockEvent { block: self, i }
    }

    /// Every event, oldest arrival first (`.rev()` for newest first).
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = BlockEvent<'_>> + ExactSizeIterator {
        (0..self.len()).map(move |i| BlockEvent { block: self, i })
    }

    /// Event `i` as the owned [`Event`] that was encoded.
    ///
    /// # Panics
    /// When `i >= len()`.
    pub fn to_event(&self, i: usize) -> Event {
        let e = self.event(i);
        let own = |s: Option<&str>| s.map(Box::from);
        Event {
            timestamp: e.timestamp(),
            level: Level {
                text: own(e.level_text()),
                severity: e.severity(),
            },
            message_template: own(e.message_template()),
            message: own(e.message()),
            exception: own(e.exception()),
            trace_id: own(e.trace_id()),
            span_id: own(e.span_id()),
            reified: build_map(&self.reified, i),
            properties: build_map(&self.properties, i),
        }
    }

    /// Every event as owned [`Event`]s.
    pub fn to_events(&self) -> Vec<Event> {
        (0..self.len()).map(|i| self.to_event(i)).collect()
    }
}

fn build_map(m: &MapValues, i: usize) -> JsonMap {
    let mut b = JsonMapBuilder::default();
    m.members(i).for_each(|(n, v)| b.push(n, v));
    b.finish()
}

fn map_values(
    cols: &BlockColumns<'_>,
    schema: ColumnKind,
    values: ColumnKind,
) -> Result<MapValues, BlockError> {
    let schema = cols.schema(schema)?;
    let occ = schema.occurrences();
    let mut columns = Vec::with_capacity(occ.len());
    for (id, &n) in occ.iter().enumerate() {
        let id = u32::try_from(id).map_err(|_| corrupt("too many names"))?;
        columns.push(cols.values_expecting(values, id, n)?);
    }
    MapValues::new(schema, columns)
}

/// One event of a [`DecodedBlock`], read in place.
#[derive(Clone, Copy, Debug)]
pub struct BlockEvent<'b> {
    block: &'b DecodedBlock,
    i: usize,
}

impl<'b> BlockEvent<'b> {
    /// The event's position in its block.
    pub fn index(&self) -> usize {
        self.i
    }

    #[inline]
    fn text(&self, k: usize) -> Option<&'b str> {
        self.block.strings[k].get(self.i)
    }
}

impl EventView for BlockEvent<'_> {
    fn id(&self) -> Option<EventId> {
        Some(EventId {
            timestamp: self.timestamp(),
            arrival: self.block.header.first_arrival.wrapping_add(self.i as u64),
        })
    }
    fn timestamp(&self) -> Timestamp {
        self.block
            .timestamps
            .get(self.i)
            .copied()
            .unwrap_or_default()
    }
    fn level_text(&self) -> Option<&str> {
        self.text(LEVEL)
    }
    fn severity(&self) -> Severity {
        self.block
            .severities
            .get(self.i)
            .copied()
            .unwrap_or(Severity::Information)
    }
    fn message_template(&self) -> Option<&str> {
        self.text(TEMPLATE)
    }
    fn message(&self) -> Option<&str> {
        self.text(MESSAGE)
    }
    fn exception(&self) -> Option<&str> {
        self.text(EXCEPTION)
    }
    fn trace_id(&self) -> Option<&str> {
        self.text(TRACE)
    }
    fn span_id(&self) -> Option<&str> {
        self.text(SPAN)
    }
    fn reified_raw(&self, name: &str) -> Option<&str> {
        self.block.reified.get(self.i, name)
    }
    fn for_each_reified(&self, f: &mut dyn FnMut(&str, &str)) {
        self.block
            .reified
            .members(self.i)
            .for_each(|(n, v)| f(n, v))
    }
    fn property_raw(&self, name: &str) -> Option<&str> {
        self.block.properties.get(self.i, name)
    }
    fn for_each_property(&self, f: &mut dyn FnMut(&str, &str)) {
        self.block
            .properties
            .members(self.i)
            .for_each(|(n, v)| f(n, v))
    }
}
