//! [`summarize`]: a block's [`BlockSummary`] from its events.
//!
//! Reads events only through [`EventView`], so the summary of a batch of
//! events and of the same events stored as a block are equal byte for byte
//! (the store summarizes stored blocks, on a leader and a follower alike).
//!
//! Tokenized: the template, the exception, `@tr`, `@sp`, the message as
//! free text and `@Message` see it (`@m`, else the template rendered with
//! the properties), and every top-level property whose value is a string.
//! Numbers give their value's key (integers) and widen their property's
//! range. Every property name is listed.

use std::collections::HashMap;
use std::sync::Arc;

use sbbf_rs_safe::Filter;

use super::tokens::{fold_into, for_each_token, number_key, token_key};
use super::{BlockSummary, PropertyStats};
use crate::block::{decode_block, BlockError};
use crate::event::model::unescape_json_str;
use crate::query::{message, Num, Value};
use crate::EventView;

/// Filter bits per distinct key (see the module docs of [`super`] for the
/// false-positive rate and space this gives).
pub const BITS_PER_KEY: usize = 8;

/// Long texts that repeat (templates, exceptions) remembered per block, so
/// each is tokenized once.
const RECENT_TEXTS: usize = 8;

/// The summary of `events`.
pub fn summarize<'a, E: EventView + 'a>(events: impl IntoIterator<Item = &'a E>) -> BlockSummary {
    let mut b = Builder::default();
    for e in events {
        b.add(e);
    }
    b.finish()
}

/// The summary of the block at the start of `bytes` (verified and decoded).
pub fn summarize_block(bytes: &[u8]) -> Result<BlockSummary, BlockError> {
    let block = decode_block(bytes)?;
    let mut b = Builder::default();
    for e in block.iter() {
        b.add(&e);
    }
    Ok(b.finish())
}

/// Collects keys and properties event by event.
#[derive(Default)]
struct Builder {
    keys: Vec<u64>,
    /// Raw (escaped) property name → range of its numeric values.
    properties: HashMap<Box<str>, Option<(Num, Num)>>,
    recent: Vec<String>,
    next_recent: usize,
    folded: String,
}

impl Builder {
    fn add<E: EventView + ?Sized>(&mut self, e: &E) {
        for text in [e.message_template(), e.exception()].into_iter().flatten() {
            self.repeated_text(text);
        }
        for text in [e.trace_id(), e.span_id()].into_iter().flatten() {
            tokenize(text, &mut self.folded, &mut self.keys);
        }
        if let Some(m) = message(e) {
            tokenize(&m, &mut self.folded, &mut self.keys);
        }
        let (keys, properties, folded) = (&mut self.keys, &mut self.properties, &mut self.folded);
        e.for_each_property(&mut |name, raw| {
            if !properties.contains_key(name) {
                properties.insert(name.into(), None);
            }
            let Some(range) = properties.get_mut(name) else {
                return;
            };
            match Value::from_raw(raw) {
                Value::Str(s) => tokenize(&s, folded, keys),
                Value::Num(n) => {
                    keys.extend(number_key(n));
                    *range = Some(widen(*range, n));
                }
                _ => {}
            }
        });
    }

    /// Tokenizes `text` unless it was among the recent repeated texts.
    fn repeated_text(&mut self, text: &str) {
        if self.recent.iter().any(|r| r == text) {
            return;
        }
        tokenize(text, &mut self.folded, &mut self.keys);
        if self.recent.len() < RECENT_TEXTS {
            self.recent.push(text.to_owned());
        } else {
            self.recent[self.next_recent] = text.to_owned();
            self.next_recent = (self.next_recent + 1) % RECENT_TEXTS;
        }
    }

    fn finish(mut self) -> BlockSummary {
        self.keys.sort_unstable();
        self.keys.dedup();
        let filter = (!self.keys.is_empty()).then(|| {
            let mut f = Filter::new(BITS_PER_KEY, self.keys.len());
            for &k in &self.keys {
                f.insert_hash(k);
            }
            f
        });
        let mut named: HashMap<String, Option<(Num, Num)>> = HashMap::new();
        for (raw, range) in self.properties {
            let name = match raw.contains('\\') {
                true => match unescape_json_str(&raw) {
                    Some(n) => n,
                    None => continue,
                },
                false => raw.into_string(),
            };
            let slot = named.entry(name).or_insert(None);
            *slot = match (*slot, range) {
                (Some((lo, hi)), Some(_)) => Some(widen(Some(widen(range, lo)), hi)),
                (a, b) => a.or(b),
            };
        }
        let mut properties: Vec<PropertyStats> = named
            .into_iter()
            .map(|(name, range)| PropertyStats {
                name: Arc::from(name),
                range,
            })
            .collect();
        properties.sort_unstable_by(|a, b| a.name.cmp(&b.name));
        BlockSummary {
            filter,
            properties: properties.into_boxed_slice(),
        }
    }
}

/// Pushes the keys of every token of `text`.
fn tokenize(text: &str, folded: &mut String, keys: &mut Vec<u64>) {
    folded.clear();
    fold_into(text, folded);
    for_each_token(folded, |t| keys.push(token_key(t.text)));
}

/// `range` widened to hold `n`.
fn widen(range: Option<(Num, Num)>, n: Num) -> (Num, Num) {
    use std::cmp::Ordering::{Greater, Less};
    match range {
        None => (n, n),
        Some((lo, hi)) => (
            if n.cmp_num(lo) == Some(Less) { n } else { lo },
            if n.cmp_num(hi) == Some(Greater) {
                n
            } else {
                hi
            },
        ),
    }
}
