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

use super::tokens::{number_key, text_keys};
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

/// A property's raw (escaped) name and the range of its numeric values.
type RawProperty = (Box<str>, Option<(Num, Num)>);

/// Collects keys and properties event by event.
#[derive(Default)]
struct Builder {
    keys: Keys,
    properties: Properties,
    recent: Vec<String>,
    next_recent: usize,
    scratch: String,
}

/// Slots of [`Keys`]' cache of recent keys.
const RECENT_KEYS: usize = 4096;

/// The keys collected, most repeats dropped as they come by a cache of
/// recent keys (the rest when the filter is built).
struct Keys {
    all: Vec<u64>,
    recent: Box<[u64; RECENT_KEYS]>,
}

impl Default for Keys {
    fn default() -> Keys {
        Keys {
            all: Vec::new(),
            recent: Box::new([0; RECENT_KEYS]),
        }
    }
}

impl Keys {
    fn insert(&mut self, key: u64) {
        let slot = &mut self.recent[key as usize % RECENT_KEYS];
        if *slot != key {
            *slot = key;
            self.all.push(key);
        }
    }

    /// The distinct keys.
    fn distinct(mut self) -> Vec<u64> {
        self.all.sort_unstable();
        self.all.dedup();
        self.all
    }
}

/// The properties seen so far, found by name from where the last one was:
/// events of a block mostly send the same names in the same order.
#[derive(Default)]
struct Properties {
    seen: Vec<RawProperty>,
    next: usize,
}

impl Properties {
    /// The numeric range of raw name `name` (a new entry when unseen).
    fn range(&mut self, name: &str) -> &mut Option<(Num, Num)> {
        let n = self.seen.len();
        let at = (0..n)
            .map(|k| (self.next + k) % n)
            .find(|&i| *self.seen[i].0 == *name);
        let i = at.unwrap_or_else(|| {
            self.seen.push((name.into(), None));
            n
        });
        self.next = i + 1;
        &mut self.seen[i].1
    }
}

impl Builder {
    fn add<E: EventView + ?Sized>(&mut self, e: &E) {
        for text in [e.message_template(), e.exception()].into_iter().flatten() {
            self.repeated_text(text);
        }
        let (keys, scratch) = (&mut self.keys, &mut self.scratch);
        for text in [e.trace_id(), e.span_id()].into_iter().flatten() {
            text_keys(text, scratch, |k| {
                keys.insert(k);
            });
        }
        if let Some(m) = message(e) {
            text_keys(&m, scratch, |k| {
                keys.insert(k);
            });
        }
        let properties = &mut self.properties;
        e.for_each_property(&mut |name, raw| {
            let range = properties.range(name);
            match Value::from_raw(raw) {
                Value::Str(s) => text_keys(&s, scratch, |k| {
                    keys.insert(k);
                }),
                Value::Num(n) => {
                    if let Some(k) = number_key(n) {
                        keys.insert(k);
                    }
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
        let keys = &mut self.keys;
        text_keys(text, &mut self.scratch, |k| {
            keys.insert(k);
        });
        if self.recent.len() < RECENT_TEXTS {
            self.recent.push(text.to_owned());
        } else {
            self.recent[self.next_recent] = text.to_owned();
            self.next_recent = (self.next_recent + 1) % RECENT_TEXTS;
        }
    }

    fn finish(self) -> BlockSummary {
        let keys = self.keys.distinct();
        let filter = (!keys.is_empty()).then(|| {
            let mut f = Filter::new(BITS_PER_KEY, keys.len());
            for &k in &keys {
                f.insert_hash(k);
            }
            f
        });
        let mut named: HashMap<String, Option<(Num, Num)>> = HashMap::new();
        for (raw, range) in self.properties.seen {
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
