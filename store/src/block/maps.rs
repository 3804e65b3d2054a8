//! Map columns: how `properties` and `reified` ([`JsonMap`]s) are stored.
//!
//! A map set is a *schema* column plus one value column per distinct name.
//! The schema's uncompressed layout:
//!
//! ```text
//! name_count, name_count × varint len, names text   raw (escaped) names, first-seen order
//! shape_count, shape_count × (len, len × name id)   distinct ordered name lists
//! rows × varint shape id                            each event's shape
//! ```
//!
//! Value column `k` is a [`StrColumn`] holding, in event order, the raw JSON
//! value of every occurrence of name `k` (an event sending a name twice has
//! two rows there).

use std::collections::HashMap;

use super::header::BlockError;
use super::strings::{Span, StrColumn, StrEncoder};
use super::varint::{corrupt, put_u64, Reader};
use crate::event::model::raw_name_eq;
use crate::event::JsonMap;

/// A decoded map schema: the names, the shapes and each event's shape.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MapSchema {
    names_text: String,
    names: Vec<Span>,
    /// Shape `s` is `shape_names[shape_starts[s]..shape_starts[s + 1]]`.
    shape_starts: Vec<u32>,
    shape_names: Vec<u32>,
    event_shapes: Vec<u32>,
}

impl MapSchema {
    /// A schema of `rows` events that have no members.
    pub fn empty(rows: usize) -> MapSchema {
        MapSchema {
            shape_starts: vec![0, 0],
            event_shapes: vec![0; rows],
            ..MapSchema::default()
        }
    }

    /// Number of distinct names.
    pub fn name_count(&self) -> usize {
        self.names.len()
    }

    /// Raw (escaped) name number `id`.
    pub fn name(&self, id: u32) -> Option<&str> {
        let s = self.names.get(id as usize)?;
        self.names_text.get(s.start as usize..s.end as usize)
    }

    /// Ids of the names equal to `name` once unescaped (usually one, or none).
    pub fn ids_of(&self, name: &str) -> Vec<u32> {
        (0..self.names.len() as u32)
            .filter(|&id| self.name(id).is_some_and(|raw| raw_name_eq(raw, name)))
            .collect()
    }

    /// The name ids of event `i`'s members, in sent order.
    #[inline]
    pub fn shape_of(&self, i: usize) -> &[u32] {
        let s = self.event_shapes.get(i).copied().unwrap_or(0) as usize;
        match (self.shape_starts.get(s), self.shape_starts.get(s + 1)) {
            (Some(&a), Some(&b)) => self.shape_names.get(a as usize..b as usize).unwrap_or(&[]),
            _ => &[],
        }
    }

    /// Number of events.
    pub fn rows(&self) -> usize {
        self.event_shapes.len()
    }

    /// How many values each name's column must hold.
    pub(crate) fn occurrences(&self) -> Vec<u64> {
        let shapes = self.shape_starts.len().saturating_sub(1);
        let mut uses = vec![0u64; shapes];
        for &s in &self.event_shapes {
            uses[s as usize] += 1;
        }
        let mut occ = vec![0u64; self.names.len()];
        for (s, &n) in uses.iter().enumerate() {
            let (a, b) = (
                self.shape_starts[s] as usize,
                self.shape_starts[s + 1] as usize,
            );
            for &id in &self.shape_names[a..b] {
                occ[id as usize] = occ[id as usize].saturating_add(n);
            }
        }
        occ
    }

    /// Decodes a schema body for `rows` events.
    pub(crate) fn decode(buf: &[u8], rows: usize) -> Result<MapSchema, BlockError> {
        let mut r = Reader::new(buf);
        let name_count = r.count()?;
        let mut lens = Vec::with_capacity(name_count);
        for _ in 0..name_count {
            lens.push(r.u64()? as usize);
        }
        let total = lens.iter().try_fold(0usize, |a, &l| a.checked_add(l));
        let text = r.bytes(total.ok_or_else(|| corrupt("map names too long"))?)?;
        let names_text = std::str::from_utf8(text)
            .map_err(|_| corrupt("map name is not UTF-8"))?
            .to_string();
        let mut names = Vec::with_capacity(name_count);
        let mut at = 0usize;
        for l in lens {
            let name = names_text
                .get(at..at + l)
                .ok_or_else(|| corrupt("map name split"))?;
            if !valid_json_string_body(name) {
                return Err(corrupt("map name is not a JSON string body"));
            }
            names.push(Span {
                start: at as u32,
                end: (at + l) as u32,
            });
            at += l;
        }
        let shape_count = r.count()?;
        let mut shape_starts = Vec::with_capacity(shape_count + 1);
        let mut shape_names = Vec::new();
        shape_starts.push(0);
        for _ in 0..shape_count {
            let len = r.count()?;
            for _ in 0..len {
                let id = r.u32()?;
                if id as usize >= name_count {
                    return Err(corrupt("map name id out of range"));
                }
                shape_names.push(id);
            }
            shape_starts.push(shape_names.len() as u32);
        }
        if rows > r.remaining() {
            return Err(corrupt("map schema has too few rows"));
        }
        let mut event_shapes = Vec::with_capacity(rows);
        for _ in 0..rows {
            let s = r.u32()?;
            if s as usize >= shape_count {
                return Err(corrupt("map shape id out of range"));
            }
            event_shapes.push(s);
        }
        r.finish("map schema")?;
        Ok(MapSchema {
            names_text,
            names,
            shape_starts,
            shape_names,
            event_shapes,
        })
    }
}

/// True when `s` may sit between the quotes of a JSON string: no raw quote
/// or control character, and only valid escapes.
pub(crate) fn valid_json_string_body(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'"' | 0..=0x1f => return false,
            b'\\' => match b.get(i + 1) {
                Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => i += 2,
                Some(b'u') => {
                    let hex = b.get(i + 2..i + 6);
                    if !hex.is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) {
                        return false;
                    }
                    i += 6;
                }
                _ => return false,
            },
            _ => i += 1,
        }
    }
    true
}

/// Collects one map set (properties or reified fields) across a block.
#[derive(Debug, Default)]
pub(crate) struct MapEncoder<'e> {
    ids: HashMap<&'e str, u32>,
    names: Vec<&'e str>,
    values: Vec<StrEncoder<'e>>,
    shape_ids: HashMap<Box<[u32]>, u32>,
    shapes: Vec<Box<[u32]>>,
    event_shapes: Vec<u32>,
    current: Vec<u32>,
    previous: Vec<u32>,
}

impl<'e> MapEncoder<'e> {
    /// Appends one event's map.
    pub(crate) fn push(&mut self, map: &'e JsonMap) {
        std::mem::swap(&mut self.current, &mut self.previous);
        self.current.clear();
        for (k, (name, value)) in map.iter_raw().enumerate() {
            // Most events repeat the previous one's names: try that first.
            let id = match self.previous.get(k) {
                Some(&id) if self.names[id as usize] == name => id,
                _ => self.name_id(name),
            };
            self.values[id as usize].push(Some(value));
            self.current.push(id);
        }
        let shape = match self.shape_ids.get(self.current.as_slice()) {
            Some(&s) => s,
            None => {
                let s = self.shapes.len() as u32;
                self.shapes.push(self.current.clone().into_boxed_slice());
                self.shape_ids
                    .insert(self.current.clone().into_boxed_slice(), s);
                s
            }
        };
        self.event_shapes.push(shape);
    }

    fn name_id(&mut self, name: &'e str) -> u32 {
        if let Some(&id) = self.ids.get(name) {
            return id;
        }
        let id = self.names.len() as u32;
        self.ids.insert(name, id);
        self.names.push(name);
        self.values.push(StrEncoder::default());
        id
    }

    /// True when no event had a member (the whole set can be left out).
    pub(crate) fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// The schema body and each name's value column body, by name id.
    pub(crate) fn finish(&self) -> (Vec<u8>, Vec<Vec<u8>>) {
        let mut out = Vec::new();
        put_u64(&mut out, self.names.len() as u64);
        for n in &self.names {
            put_u64(&mut out, n.len() as u64);
        }
        for n in &self.names {
            out.extend_from_slice(n.as_bytes());
        }
        put_u64(&mut out, self.shapes.len() as u64);
        for s in &self.shapes {
            put_u64(&mut out, s.len() as u64);
            s.iter().for_each(|&id| put_u64(&mut out, id as u64));
        }
        for &s in &self.event_shapes {
            put_u64(&mut out, s as u64);
        }
        (out, self.values.iter().map(StrEncoder::finish).collect())
    }
}

/// Decoded values of a map set, laid out for visiting events in order.
#[derive(Clone, Debug, Default)]
pub(crate) struct MapValues {
    pub(crate) schema: MapSchema,
    values: Vec<StrColumn>,
    /// Event `i`'s members are `slots[slot_starts[i]..slot_starts[i + 1]]`.
    slot_starts: Vec<u32>,
    slots: Vec<(u32, Span)>,
}

impl MapValues {
    /// Joins a schema with its value columns (`values[k]` for name `k`,
    /// already checked to hold the schema's occurrence counts).
    pub(crate) fn new(schema: MapSchema, values: Vec<StrColumn>) -> Result<MapValues, BlockError> {
        let total: usize = values.iter().map(StrColumn::len).sum();
        let mut slots = Vec::with_capacity(total);
        let mut slot_starts = Vec::with_capacity(schema.rows() + 1);
        let mut cursor = vec![0usize; values.len()];
        slot_starts.push(0);
        for i in 0..schema.rows() {
            for &id in schema.shape_of(i) {
                let k = id as usize;
                let (col, row) = (values.get(k), cursor.get_mut(k));
                let (Some(col), Some(row)) = (col, row) else {
                    return Err(corrupt("map value column missing"));
                };
                let span = col.spans().get(*row).copied().unwrap_or(Span::NULL);
                if span.is_null() {
                    return Err(corrupt("map value missing"));
                }
                *row += 1;
                slots.push((id, span));
            }
            slot_starts.push(slots.len() as u32);
        }
        Ok(MapValues {
            schema,
            values,
            slot_starts,
            slots,
        })
    }

    /// Event `i`'s members in sent order: (raw name, raw JSON value).
    #[inline]
    pub(crate) fn members(&self, i: usize) -> impl Iterator<Item = (&str, &str)> + '_ {
        let (a, b) = (self.slot_starts.get(i), self.slot_starts.get(i + 1));
        let slots = match (a, b) {
            (Some(&a), Some(&b)) => self.slots.get(a as usize..b as usize).unwrap_or(&[]),
            _ => &[],
        };
        slots.iter().map(move |&(id, span)| {
            let name = self.schema.name(id).unwrap_or("");
            let value = self
                .values
                .get(id as usize)
                .and_then(|c| c.span(span))
                .unwrap_or("");
            (name, value)
        })
    }

    /// The value of event `i`'s first member named `name` (unescaped).
    pub(crate) fn get(&self, i: usize, name: &str) -> Option<&str> {
        self.members(i)
            .find(|(n, _)| raw_name_eq(n, name))
            .map(|(_, v)| v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_string_bodies_are_checked() {
        for ok in ["", "a b", "\\\"q\\\"", "\\u00e9", "é", "\\n\\/"] {
            assert!(valid_json_string_body(ok), "{ok}");
        }
        for bad in ["\"", "\\", "\\x", "\\u12", "\\u12g4", "a\nb"] {
            assert!(!valid_json_string_body(bad), "{bad}");
        }
    }

    #[test]
    fn schema_round_trips_shapes_and_duplicates() {
        let maps = [
            JsonMap::from_raw_pairs([("A", "1"), ("B", "\"x\"")]),
            JsonMap::new(),
            JsonMap::from_raw_pairs([("B", "2"), ("A", "3"), ("A", "4")]),
            JsonMap::from_raw_pairs([("A", "5"), ("B", "6")]),
        ];
        let mut e = MapEncoder::default();
        maps.iter().for_each(|m| e.push(m));
        let (schema_body, value_bodies) = e.finish();
        let schema = MapSchema::decode(&schema_body, maps.len()).unwrap();
        assert_eq!(schema.occurrences(), [4, 3]);
        assert_eq!(schema.ids_of("B"), [1]);
        assert_eq!(schema.shape_of(2), [1, 0, 0]);
        assert!(schema.shape_of(1).is_empty());
        let occ = schema.occurrences();
        let values = value_bodies
            .into_iter()
            .zip(occ)
            .map(|(b, n)| StrColumn::decode(b, n as usize).unwrap())
            .collect();
        let mv = MapValues::new(schema, values).unwrap();
        for (i, m) in maps.iter().enumerate() {
            assert!(mv.members(i).eq(m.iter_raw()));
        }
        assert_eq!(mv.get(2, "A"), Some("3"));
        assert!(MapSchema::decode(&schema_body, maps.len() + 1).is_err());
        assert!(MapSchema::decode(&schema_body[..schema_body.len() - 1], maps.len()).is_err());
    }
}
