//! [`PropertyColumn`]: one map field's value for every event of a block,
//! what a scan reads instead of decoding whole events.

use super::maps::MapSchema;
use super::strings::StrColumn;

/// One property's raw JSON value for each event of a block.
#[derive(Clone, Debug)]
pub struct PropertyColumn {
    columns: Vec<StrColumn>,
    /// (column, row) per event; [`PropertyColumn::NONE`] when absent.
    rows: Vec<(u32, u32)>,
}

impl PropertyColumn {
    const NONE: (u32, u32) = (u32::MAX, u32::MAX);

    /// Resolves, for every event of `schema`, the first member whose name id
    /// is in `ids`; `columns[k]` holds the values of name `ids[k]`.
    pub(crate) fn build(
        schema: &MapSchema,
        ids: &[u32],
        columns: Vec<StrColumn>,
    ) -> PropertyColumn {
        let mut cursor = vec![0u32; ids.len()];
        let mut rows = Vec::with_capacity(schema.rows());
        for i in 0..schema.rows() {
            let mut found = PropertyColumn::NONE;
            for &id in schema.shape_of(i) {
                if let Some(c) = ids.iter().position(|&x| x == id) {
                    if found == PropertyColumn::NONE {
                        found = (c as u32, cursor[c]);
                    }
                    cursor[c] += 1;
                }
            }
            rows.push(found);
        }
        PropertyColumn { columns, rows }
    }

    /// Number of events.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// True for a block without events.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Event `i`'s raw JSON value, `None` when the event lacks the property.
    #[inline]
    pub fn get(&self, i: usize) -> Option<&str> {
        let &(c, r) = self.rows.get(i)?;
        self.columns.get(c as usize)?.get(r as usize)
    }

    /// Every event's value in order.
    pub fn iter(&self) -> impl Iterator<Item = Option<&str>> + '_ {
        (0..self.len()).map(|i| self.get(i))
    }
}
