//! The string column: one optional string per row, plain or dictionary-coded.
//!
//! Used for level texts, templates, `@m`, `@x`, `@tr`, `@sp` and every
//! property value column (raw JSON text). Uncompressed layout:
//!
//! ```text
//! text      the concatenated strings (plain) or dictionary entries (dict)
//! entries   plain: rows × varint (len + 1, 0 = null)
//!           dict:  dict_len × varint len, then rows × varint (id + 1, 0 = null)
//! trailer   mode u8 (0 plain, 1 dict), rows u32, dict_len u32, text_len u32 (LE)
//! ```
//!
//! The text comes first so that decoding can keep the decompressed buffer as
//! the column's `String` without copying it.

use std::collections::HashMap;

use super::header::BlockError;
use super::varint::{corrupt, put_u64, Reader};

const TRAILER_LEN: usize = 13;
const MODE_PLAIN: u8 = 0;
const MODE_DICT: u8 = 1;
/// A dictionary is tried while it stays at most this large.
const DICT_MAX: usize = 4096;

/// Where one row's string lies in a [`StrColumn`]'s text; `NULL` for none.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Span {
    pub(crate) start: u32,
    pub(crate) end: u32,
}

impl Span {
    /// The span of a missing value (`str::get` returns `None` for it).
    pub(crate) const NULL: Span = Span {
        start: u32::MAX,
        end: 0,
    };

    /// True for [`Span::NULL`].
    #[inline]
    pub(crate) fn is_null(self) -> bool {
        self.start > self.end
    }
}

/// A decoded string column: row `i` is `get(i)`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StrColumn {
    text: String,
    spans: Vec<Span>,
}

impl StrColumn {
    /// A column of `rows` missing values (what an absent column decodes to).
    pub fn nulls(rows: usize) -> StrColumn {
        StrColumn {
            text: String::new(),
            spans: vec![Span::NULL; rows],
        }
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// True when the column has no rows.
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// Row `i`, or `None` when it is missing or out of range.
    #[inline]
    pub fn get(&self, i: usize) -> Option<&str> {
        self.spans.get(i).and_then(|s| self.span(*s))
    }

    /// Every row in order.
    pub fn iter(&self) -> impl Iterator<Item = Option<&str>> + '_ {
        self.spans.iter().map(|s| self.span(*s))
    }

    #[inline]
    pub(crate) fn span(&self, s: Span) -> Option<&str> {
        self.text.get(s.start as usize..s.end as usize)
    }

    #[inline]
    pub(crate) fn spans(&self) -> &[Span] {
        &self.spans
    }

    /// Decodes a column body, which must hold exactly `expect_rows` rows.
    pub(crate) fn decode(mut buf: Vec<u8>, expect_rows: usize) -> Result<StrColumn, BlockError> {
        let t0 = buf
            .len()
            .checked_sub(TRAILER_LEN)
            .ok_or_else(|| corrupt("string column shorter than its trailer"))?;
        let tr = &buf[t0..];
        let le = |o: usize| u32::from_le_bytes([tr[o], tr[o + 1], tr[o + 2], tr[o + 3]]) as usize;
        let (mode, rows, dict_len, text_len) = (tr[0], le(1), le(5), le(9));
        if rows != expect_rows {
            return Err(corrupt("string column has the wrong number of rows"));
        }
        if text_len > t0 {
            return Err(corrupt("string column text longer than the column"));
        }
        let mut r = Reader::new(&buf[text_len..t0]);
        let text = &buf[..text_len];
        let spans = match mode {
            MODE_PLAIN => {
                if rows > r.remaining() {
                    return Err(corrupt("string column row count too large"));
                }
                let mut spans = Vec::with_capacity(rows);
                let mut at = 0usize;
                for _ in 0..rows {
                    let n = r.u64()? as usize;
                    if n == 0 {
                        spans.push(Span::NULL);
                        continue;
                    }
                    spans.push(take(text, &mut at, n - 1)?);
                }
                if at != text_len {
                    return Err(corrupt("string column text length mismatch"));
                }
                spans
            }
            MODE_DICT => {
                if dict_len.saturating_add(rows) > r.remaining() {
                    return Err(corrupt("string column dictionary too large"));
                }
                let mut dict = Vec::with_capacity(dict_len);
                let mut at = 0usize;
                for _ in 0..dict_len {
                    let n = r.u64()? as usize;
                    dict.push(take(text, &mut at, n)?);
                }
                if at != text_len {
                    return Err(corrupt("string dictionary text length mismatch"));
                }
                let mut spans = Vec::with_capacity(rows);
                for _ in 0..rows {
                    let id = r.u64()? as usize;
                    let s = match id {
                        0 => Span::NULL,
                        _ => *dict
                            .get(id - 1)
                            .ok_or_else(|| corrupt("string id out of range"))?,
                    };
                    spans.push(s);
                }
                spans
            }
            _ => return Err(corrupt("unknown string column mode")),
        };
        r.finish("string column")?;
        buf.truncate(text_len);
        let text = String::from_utf8(buf).map_err(|_| corrupt("string column is not UTF-8"))?;
        if !spans.iter().all(|s| {
            s.is_null()
                || text.is_char_boundary(s.start as usize) && text.is_char_boundary(s.end as usize)
        }) {
            return Err(corrupt("string split inside a character"));
        }
        Ok(StrColumn { text, spans })
    }
}

/// The next `n` bytes of `text` from `*at`, as a span.
#[inline]
fn take(text: &[u8], at: &mut usize, n: usize) -> Result<Span, BlockError> {
    let end = at.checked_add(n).filter(|&e| e <= text.len());
    let end = end.ok_or_else(|| corrupt("string longer than its column text"))?;
    let s = Span {
        start: *at as u32,
        end: end as u32,
    };
    *at = end;
    Ok(s)
}

/// Collects one column's rows and writes its body.
#[derive(Debug, Default)]
pub(crate) struct StrEncoder<'e> {
    rows: Vec<Option<&'e str>>,
}

impl<'e> StrEncoder<'e> {
    /// Appends a row.
    #[inline]
    pub(crate) fn push(&mut self, v: Option<&'e str>) {
        self.rows.push(v);
    }

    /// True when no row holds a value (the column can be left out).
    pub(crate) fn all_null(&self) -> bool {
        self.rows.iter().all(Option::is_none)
    }

    /// The column body: dictionary-coded when values repeat, plain otherwise.
    pub(crate) fn finish(&self) -> Vec<u8> {
        match self.dictionary() {
            Some((dict, ids)) => self.write_dict(&dict, &ids),
            None => self.write_plain(),
        }
    }

    /// Distinct values in first-seen order and each row's id + 1 (0 = null),
    /// when there are few enough distinct values to pay off.
    fn dictionary(&self) -> Option<(Vec<&'e str>, Vec<u32>)> {
        let present = self.rows.iter().flatten().count();
        let limit = (present / 4).min(DICT_MAX);
        let mut map: HashMap<&str, u32> = HashMap::new();
        let mut dict = Vec::new();
        let mut ids = Vec::with_capacity(self.rows.len());
        for v in &self.rows {
            let id = match v {
                None => 0,
                Some(s) => *map.entry(s).or_insert_with(|| {
                    dict.push(*s);
                    dict.len() as u32
                }),
            };
            if dict.len() > limit {
                return None;
            }
            ids.push(id);
        }
        Some((dict, ids))
    }

    fn write_plain(&self) -> Vec<u8> {
        let text_len: usize = self.rows.iter().flatten().map(|s| s.len()).sum();
        let mut out = Vec::with_capacity(text_len + self.rows.len() + TRAILER_LEN);
        for s in self.rows.iter().flatten() {
            out.extend_from_slice(s.as_bytes());
        }
        for v in &self.rows {
            put_u64(&mut out, v.map_or(0, |s| s.len() as u64 + 1));
        }
        trailer(&mut out, MODE_PLAIN, self.rows.len(), 0, text_len);
        out
    }

    fn write_dict(&self, dict: &[&str], ids: &[u32]) -> Vec<u8> {
        let text_len: usize = dict.iter().map(|s| s.len()).sum();
        let mut out = Vec::with_capacity(text_len + 2 * dict.len() + ids.len() + TRAILER_LEN);
        for s in dict {
            out.extend_from_slice(s.as_bytes());
        }
        for s in dict {
            put_u64(&mut out, s.len() as u64);
        }
        for &id in ids {
            put_u64(&mut out, id as u64);
        }
        trailer(&mut out, MODE_DICT, ids.len(), dict.len(), text_len);
        out
    }
}

fn trailer(out: &mut Vec<u8>, mode: u8, rows: usize, dict_len: usize, text_len: usize) {
    out.push(mode);
    for v in [rows, dict_len, text_len] {
        out.extend_from_slice(&(v as u32).to_le_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(rows: &[Option<&str>]) -> (StrColumn, Vec<u8>) {
        let mut e = StrEncoder::default();
        rows.iter().for_each(|r| e.push(*r));
        let body = e.finish();
        let col = StrColumn::decode(body.clone(), rows.len()).unwrap();
        assert_eq!(col.iter().collect::<Vec<_>>(), rows);
        (col, body)
    }

    #[test]
    fn plain_and_dictionary_columns_round_trip() {
        let (_, body) = round_trip(&[Some("a"), None, Some(""), Some("héllo"), Some("b")]);
        assert_eq!(body[body.len() - TRAILER_LEN], MODE_PLAIN);
        let rows: Vec<Option<&str>> = (0..100)
            .map(|i| [Some("x"), None, Some("yé"), Some("")][i % 4])
            .collect();
        let (_, body) = round_trip(&rows);
        assert_eq!(body[body.len() - TRAILER_LEN], MODE_DICT);
        round_trip(&[]);
        round_trip(&[None, None]);
        assert_eq!(
            StrColumn::nulls(3).iter().collect::<Vec<_>>(),
            [None, None, None]
        );
    }

    #[test]
    fn corrupt_columns_are_errors() {
        let mut e = StrEncoder::default();
        e.push(Some("é"));
        let body = e.finish();
        assert!(StrColumn::decode(body.clone(), 2).is_err());
        assert!(StrColumn::decode(body[..5].to_vec(), 1).is_err());
        // A length that splits the two-byte character.
        let mut split = body.clone();
        split[2] = 2;
        assert!(StrColumn::decode(split, 1).is_err());
        // A forged huge row count.
        let mut forged = body.clone();
        let t = forged.len() - TRAILER_LEN;
        forged[t + 1..t + 5].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(StrColumn::decode(forged, u32::MAX as usize).is_err());
        let mut mode = body;
        mode[t] = 9;
        assert!(StrColumn::decode(mode, 1).is_err());
    }
}
