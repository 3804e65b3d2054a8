//! Skipping whole blocks before a single row is evaluated.
//!
//! - [`admitted`]: without reading the block, when its summary lacks what
//!   the filter needs ([`Need`]: tokens of a required text, a property, a
//!   number in range). Blocks without a summary are read.
//! - [`Needle`]: once the block is read, when a text every match must equal
//!   ([`RequiredText`]) appears nowhere in its column. The test runs over
//!   the decompressed column body (text, offsets and trailer) with a SIMD
//!   literal search: finding the text, or any backslash (an escape could
//!   spell it), keeps the block; anything else rules it out exactly.

use regex::bytes::{Regex, RegexBuilder};

use crate::block::{BlockColumns, BlockError, ColumnKind, MapSchema};
use crate::query::{Filter, RequiredText, TextField};
use crate::stream::BlockRef;
use crate::summary::need::Need;

/// Whether block `b` may hold an event the filter whose needs are `need`
/// matches, as far as its summary tells (always, without one).
pub(crate) fn admitted(need: &Need, b: &BlockRef) -> bool {
    b.summary.as_ref().is_none_or(|s| need.admits(s))
}

/// One required text, compiled for searching column bodies.
#[derive(Debug)]
pub(crate) struct Needle {
    field: TextField,
    re: Regex,
}

/// Needles for `filter`'s required texts (none without a filter).
pub(crate) fn needles(filter: Option<&Filter>) -> Vec<Needle> {
    let Some(f) = filter else {
        return Vec::new();
    };
    f.required_texts()
        .into_iter()
        .filter_map(|RequiredText { field, text }| {
            let re = RegexBuilder::new(&regex::escape(&text)).build().ok()?;
            Some(Needle { field, re })
        })
        .collect()
}

/// True when some needle reads properties (the scan then needs the schema).
pub(crate) fn reads_properties(needles: &[Needle]) -> bool {
    needles
        .iter()
        .any(|n| matches!(n.field, TextField::Property(_)))
}

impl Needle {
    /// Whether the block may hold an event whose field equals the text.
    /// `schema` is the block's property schema when a property is searched.
    pub(crate) fn may_match(
        &self,
        cols: &BlockColumns<'_>,
        schema: Option<&MapSchema>,
    ) -> Result<bool, BlockError> {
        let kind = match &self.field {
            TextField::Property(name) => {
                let Some(schema) = schema else {
                    return Ok(true);
                };
                for id in schema.ids_of(name) {
                    let body = cols.column_bytes(ColumnKind::PropertyValues, id)?;
                    if body.is_none_or(|b| self.found(&b)) {
                        return Ok(true);
                    }
                }
                return Ok(false);
            }
            TextField::MessageTemplate => ColumnKind::Templates,
            TextField::Exception => ColumnKind::Exceptions,
            TextField::TraceId => ColumnKind::TraceIds,
            TextField::SpanId => ColumnKind::SpanIds,
        };
        // An absent column reads as all-missing: nothing equals the text.
        let body = cols.column_bytes(kind, 0)?;
        Ok(body.is_some_and(|b| self.found(&b)))
    }

    /// The text, or a backslash, occurs in `body`. Two single-literal
    /// searches (memmem, memchr) beat one alternation on hex-like text.
    fn found(&self, body: &[u8]) -> bool {
        self.re.is_match(body) || body.contains(&b'\\')
    }
}
