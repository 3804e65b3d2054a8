//! [`Projection`]: the columns of one block a filter reads, and [`Row`], an
//! [`EventView`] over them.
//!
//! A scan asks the compiled filter which fields it touches ([`Fields`]),
//! decompresses just those columns (timestamps always, for ids and the time
//! range), and evaluates the filter on rows that borrow from them: no event
//! is built and nothing is allocated per row. Fields outside the projection
//! read as absent, which is safe because the filter never asks for them.

use crate::block::{BlockColumns, BlockError, ColumnKind, MapSchema, PropertyColumn, StrColumn};
use crate::query::Fields;
use crate::{EventId, EventView, Severity, Timestamp};

/// One map field (property or reified `@`-field) projected from a block.
type MapField = (Box<str>, Option<PropertyColumn>);

/// The projected columns of one block.
#[derive(Debug)]
pub(crate) struct Projection {
    first_arrival: u64,
    timestamps: Vec<Timestamp>,
    severities: Option<Vec<Severity>>,
    level_texts: Option<StrColumn>,
    templates: Option<StrColumn>,
    exceptions: Option<StrColumn>,
    trace_ids: Option<StrColumn>,
    span_ids: Option<StrColumn>,
    properties: Vec<MapField>,
    reified: Vec<MapField>,
}

impl Projection {
    /// Decompresses the columns `fields` names (never `@m`: a filter that
    /// renders messages has [`Fields::everything`] and decodes whole blocks).
    /// `schema` is the property schema when the caller already decoded it.
    pub(crate) fn load(
        cols: &BlockColumns<'_>,
        fields: &Fields,
        schema: Option<MapSchema>,
    ) -> Result<Projection, BlockError> {
        let text = |on: bool, kind: ColumnKind| on.then(|| cols.strings(kind)).transpose();
        Ok(Projection {
            first_arrival: cols.header().first_arrival,
            timestamps: cols.timestamps()?,
            severities: fields.severity.then(|| cols.severities()).transpose()?,
            level_texts: text(fields.level_text, ColumnKind::LevelTexts)?,
            templates: text(fields.template, ColumnKind::Templates)?,
            exceptions: text(fields.exception, ColumnKind::Exceptions)?,
            trace_ids: text(fields.trace_id, ColumnKind::TraceIds)?,
            span_ids: text(fields.span_id, ColumnKind::SpanIds)?,
            properties: map_fields(
                cols,
                (ColumnKind::PropertySchema, schema),
                ColumnKind::PropertyValues,
                &fields.properties,
            )?,
            reified: map_fields(
                cols,
                (ColumnKind::ReifiedSchema, None),
                ColumnKind::ReifiedValues,
                &fields.reified,
            )?,
        })
    }

    /// Number of events.
    pub(crate) fn len(&self) -> usize {
        self.timestamps.len()
    }

    /// Event `i`'s id (`i < len()`).
    #[inline]
    pub(crate) fn id(&self, i: usize) -> EventId {
        EventId {
            timestamp: self.timestamps.get(i).copied().unwrap_or_default(),
            arrival: self.first_arrival.wrapping_add(i as u64),
        }
    }

    /// A view of event `i` (`i < len()`).
    #[inline]
    pub(crate) fn row(&self, i: usize) -> Row<'_> {
        Row { p: self, i }
    }
}

/// Decodes a map set's schema once (unless given) and the value columns of
/// `names`.
fn map_fields(
    cols: &BlockColumns<'_>,
    (schema_kind, schema): (ColumnKind, Option<MapSchema>),
    values_kind: ColumnKind,
    names: &[Box<str>],
) -> Result<Vec<MapField>, BlockError> {
    if names.is_empty() {
        return Ok(Vec::new());
    }
    let schema = match schema {
        Some(s) => s,
        None => cols.schema(schema_kind)?,
    };
    let mut out = Vec::with_capacity(names.len());
    for name in names {
        let ids = schema.ids_of(name);
        let column = if ids.is_empty() {
            None
        } else {
            let values = ids
                .iter()
                .map(|&id| cols.values(values_kind, &schema, id))
                .collect::<Result<Vec<_>, _>>()?;
            Some(PropertyColumn::build(&schema, &ids, values))
        };
        out.push((name.clone(), column));
    }
    Ok(out)
}

fn lookup<'a>(fields: &'a [MapField], name: &str, i: usize) -> Option<&'a str> {
    fields
        .iter()
        .find(|(n, _)| **n == *name)
        .and_then(|(_, c)| c.as_ref()?.get(i))
}

/// One event of a [`Projection`], read in place.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Row<'p> {
    p: &'p Projection,
    i: usize,
}

impl Row<'_> {
    #[inline]
    fn text<'s>(&'s self, c: &'s Option<StrColumn>) -> Option<&'s str> {
        c.as_ref()?.get(self.i)
    }
}

impl EventView for Row<'_> {
    fn id(&self) -> Option<EventId> {
        Some(self.p.id(self.i))
    }
    fn timestamp(&self) -> Timestamp {
        self.p.id(self.i).timestamp
    }
    fn level_text(&self) -> Option<&str> {
        self.text(&self.p.level_texts)
    }
    fn severity(&self) -> Severity {
        let s = self.p.severities.as_ref().and_then(|s| s.get(self.i));
        s.copied().unwrap_or(Severity::Information)
    }
    fn message_template(&self) -> Option<&str> {
        self.text(&self.p.templates)
    }
    fn message(&self) -> Option<&str> {
        None
    }
    fn exception(&self) -> Option<&str> {
        self.text(&self.p.exceptions)
    }
    fn trace_id(&self) -> Option<&str> {
        self.text(&self.p.trace_ids)
    }
    fn span_id(&self) -> Option<&str> {
        self.text(&self.p.span_ids)
    }
    fn reified_raw(&self, name: &str) -> Option<&str> {
        lookup(&self.p.reified, name, self.i)
    }
    /// Projections hold named fields only; nothing that enumerates reads them.
    fn for_each_reified(&self, _: &mut dyn FnMut(&str, &str)) {}
    fn property_raw(&self, name: &str) -> Option<&str> {
        lookup(&self.p.properties, name, self.i)
    }
    /// Projections hold named fields only; nothing that enumerates reads them.
    fn for_each_property(&self, _: &mut dyn FnMut(&str, &str)) {}
}

/// An event that is nothing but a severity: evaluating a severity-only
/// filter on each of the six tells which header level counts to add up.
pub(crate) struct SeverityOnly(pub Severity);

impl EventView for SeverityOnly {
    fn id(&self) -> Option<EventId> {
        None
    }
    fn timestamp(&self) -> Timestamp {
        Timestamp::default()
    }
    fn level_text(&self) -> Option<&str> {
        None
    }
    fn severity(&self) -> Severity {
        self.0
    }
    fn message_template(&self) -> Option<&str> {
        None
    }
    fn message(&self) -> Option<&str> {
        None
    }
    fn exception(&self) -> Option<&str> {
        None
    }
    fn trace_id(&self) -> Option<&str> {
        None
    }
    fn span_id(&self) -> Option<&str> {
        None
    }
    fn reified_raw(&self, _: &str) -> Option<&str> {
        None
    }
    fn for_each_reified(&self, _: &mut dyn FnMut(&str, &str)) {}
    fn property_raw(&self, _: &str) -> Option<&str> {
        None
    }
    fn for_each_property(&self, _: &mut dyn FnMut(&str, &str)) {}
}
