//! Allocation-free navigation inside raw JSON text (`A.B`, `A[0]`, `A[?]`).
//!
//! Values are stored as the JSON text the client sent; paths walk that text
//! directly. Malformed text yields `None`, never a panic.

use crate::event::model::raw_name_eq;

fn ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && b[i].is_ascii_whitespace() {
        i += 1;
    }
    i
}

/// The end (exclusive) of the string starting with the quote at `i`.
fn string_end(b: &[u8], mut i: usize) -> Option<usize> {
    i += 1;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

/// The end (exclusive) of the value starting at `i`, iteratively.
fn value_end(b: &[u8], i: usize) -> Option<usize> {
    match *b.get(i)? {
        b'"' => string_end(b, i),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut j = i;
            while j < b.len() {
                match b[j] {
                    b'"' => {
                        j = string_end(b, j)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth = depth.checked_sub(1)?;
                        if depth == 0 {
                            return Some(j + 1);
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
            None
        }
        _ => {
            let mut j = i;
            while j < b.len() && !matches!(b[j], b',' | b'}' | b']') && !b[j].is_ascii_whitespace()
            {
                j += 1;
            }
            (j > i).then_some(j)
        }
    }
}

/// Iterates the members of a raw JSON object as (raw name body, raw value).
pub(crate) struct Members<'a> {
    text: &'a str,
    i: usize,
    done: bool,
}

impl<'a> Iterator for Members<'a> {
    type Item = (&'a str, &'a str);

    fn next(&mut self) -> Option<(&'a str, &'a str)> {
        if self.done {
            return None;
        }
        let b = self.text.as_bytes();
        let item = (|| {
            let mut i = ws(b, self.i);
            if b.get(i) == Some(&b',') {
                i = ws(b, i + 1);
            }
            if b.get(i) != Some(&b'"') {
                return None;
            }
            let n_end = string_end(b, i)?;
            let name = self.text.get(i + 1..n_end - 1)?;
            let c = ws(b, n_end);
            if b.get(c) != Some(&b':') {
                return None;
            }
            let v = ws(b, c + 1);
            let v_end = value_end(b, v)?;
            self.i = v_end;
            Some((name, self.text.get(v..v_end)?))
        })();
        if item.is_none() {
            self.done = true;
        }
        item
    }
}

/// The members of `raw` if it is an object.
pub(crate) fn members(raw: &str) -> Option<Members<'_>> {
    let b = raw.as_bytes();
    let i = ws(b, 0);
    (b.get(i) == Some(&b'{')).then_some(Members {
        text: raw,
        i: i + 1,
        done: false,
    })
}

/// Iterates the elements of a raw JSON array.
pub(crate) struct Elements<'a> {
    text: &'a str,
    i: usize,
    done: bool,
}

impl<'a> Iterator for Elements<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        if self.done {
            return None;
        }
        let b = self.text.as_bytes();
        let mut i = ws(b, self.i);
        if b.get(i) == Some(&b',') {
            i = ws(b, i + 1);
        }
        let item = value_end(b, i).and_then(|end| {
            self.i = end;
            self.text.get(i..end)
        });
        if item.is_none() {
            self.done = true;
        }
        item
    }
}

/// The elements of `raw` if it is an array.
pub(crate) fn elements(raw: &str) -> Option<Elements<'_>> {
    let b = raw.as_bytes();
    let i = ws(b, 0);
    (b.get(i) == Some(&b'[')).then_some(Elements {
        text: raw,
        i: i + 1,
        done: false,
    })
}

/// The raw value of member `name` of object `raw`.
pub(crate) fn member<'a>(raw: &'a str, name: &str) -> Option<&'a str> {
    members(raw)?
        .find(|(n, _)| raw_name_eq(n, name))
        .map(|(_, v)| v)
}

/// Element `index` of array `raw`; negative indexes count from the end.
pub(crate) fn element(raw: &str, index: i64) -> Option<&str> {
    if index >= 0 {
        elements(raw)?.nth(usize::try_from(index).ok()?)
    } else {
        let len = elements(raw)?.count() as i64;
        let k = len.checked_add(index)?;
        if k < 0 {
            return None;
        }
        elements(raw)?.nth(k as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_objects_and_arrays() {
        let o = r#"{"a": {"b\u0020c": [1, "x,]", {"d": null}]}, "e": 2}"#;
        let a = member(o, "a").unwrap();
        let arr = member(a, "b c").unwrap();
        assert_eq!(element(arr, 1), Some("\"x,]\""));
        assert_eq!(element(arr, -1), Some("{\"d\": null}"));
        assert_eq!(element(arr, 5), None);
        assert_eq!(member(o, "e"), Some("2"));
        assert_eq!(elements(arr).unwrap().count(), 3);
        assert_eq!(elements("[]").unwrap().count(), 0);
        assert_eq!(member("{\"a\":", "a"), None);
        assert_eq!(member("[1]", "a"), None);
        assert_eq!(element("[1,", 1), None);
    }
}
