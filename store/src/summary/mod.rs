//! Block summaries: what each block holds, so a search skips every block
//! that cannot hold a match without reading it.
//!
//! A [`BlockSummary`] has
//!
//! - a split-block bloom filter (Parquet's layout, `sbbf-rs-safe`) over the
//!   *keys* of the block's tokens and integers (`tokens`: folded
//!   alphanumeric runs of string property values, the template, the
//!   exception, `@tr`, `@sp` and the message as free text sees it);
//! - every top-level property name, with the minimum and maximum of its
//!   numeric values.
//!
//! A filter's `Need` (built by `Filter::block_needs`) is tested
//! against each summary. The test may say yes for a block without a match
//! (a false positive: the block is scanned and its rows evaluated, as
//! before) but never no for a block with one: every comparison, `ci`,
//! escape and rendering of the filter language maps onto the same folded
//! tokens (see `tokens`).
//!
//! - `tokens`: folding, tokens, keys, and what a required text needs.
//! - `need`: `Need` and its test against a summary.
//! - [`build`]: [`summarize`], a summary from events, or
//!   from a stored block ([`summarize_block`]).
//! - [`mod@file`]: the summary file of a sealed segment (`seg-N.sum`): format,
//!   checksum, version, and its decoder (fuzzed).
//!
//! # What they cost and miss
//!
//! Measured on the benchmark dataset (`crate::dataset`, 1,000-event blocks;
//! `cargo bench -p skein-store --bench query` prints both figures) at
//! [`BITS_PER_KEY`] = 8:
//!
//! - **space**: summary files are 9.6–9.7% of the segment bytes (goal 5%).
//!   The filter is 97% of it, and the dataset gives about 3.4 distinct keys
//!   per event, two of them its random 128-bit `TraceId` and 64-bit `SpanId`,
//!   which no filter can store in fewer bits than its false-positive rate
//!   needs. The same summaries stay in memory while the store is open.
//! - **false positives**: a lookup of a key a block does not hold admits it
//!   3.2–3.4% of the time (absent `TraceId`s, absent order ids as free text);
//!   a lookup also admits blocks where its token occurs in another field.
//!
//! Bits per key trade one for the other (absent `TraceId`s, 30 blocks):
//!
//! | bits per key | share of segment bytes | false positives |
//! | --- | --- | --- |
//! | 4 | 5.0% | 32% |
//! | 5 | 6.2% | 17% |
//! | 6 | 7.4% | 9.7% |
//! | 8 | 9.7% | 3.4% |
//! | 10 | 12.1% | 1.3% |
//! | 12 | 14.5% | 0.6% |
//!
//! At the 5% goal a third of the blocks would still be read; 8 bits keeps a
//! one-event lookup within a few dozen blocks of 2,000. Readers do not
//! depend on the value: each filter records its own length.
//!
//! Building a summary costs about 1.7 µs of CPU per event (decoding the
//! block, rendering messages, tokenizing), twice what encoding costs; see
//! the store's `summaries` module for where that time is spent.
//!
//! The store keeps summaries in memory beside its block index: built from
//! each appended block in the background (off the append path), completed
//! and written with the segment when it seals, loaded (or rebuilt from the
//! segment when missing or damaged) when it opens.

pub mod build;
pub mod file;
pub(crate) mod need;
pub(crate) mod tokens;

use std::sync::Arc;

use sbbf_rs_safe::Filter;

use crate::query::Num;

pub use build::{summarize, summarize_block, BITS_PER_KEY};
pub use file::{decode_summaries, encode_summaries, SegmentSummaries, SummaryError};

/// What one block holds: a token filter and its properties.
#[derive(Clone, Debug)]
pub struct BlockSummary {
    /// `None` when the block gave no key.
    filter: Option<Filter>,
    /// Sorted by name, each name once.
    properties: Box<[PropertyStats]>,
}

/// One top-level property of a block.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct PropertyStats {
    /// The name, unescaped.
    pub name: Arc<str>,
    /// The least and greatest of its numeric values (`None`: it was never
    /// a number in this block).
    pub range: Option<(Num, Num)>,
}

impl BlockSummary {
    /// Whether the filter may hold `key` (false positives possible).
    pub(crate) fn may_hold_key(&self, key: u64) -> bool {
        self.filter.as_ref().is_some_and(|f| f.contains_hash(key))
    }

    /// The property named `name`, if some event of the block has it.
    pub(crate) fn property(&self, name: &str) -> Option<&PropertyStats> {
        self.properties
            .binary_search_by(|p| (*p.name).cmp(name))
            .ok()
            .map(|i| &self.properties[i])
    }

    /// The filter's bytes (empty when there is none).
    pub fn filter_bytes(&self) -> &[u8] {
        self.filter.as_ref().map_or(&[], Filter::as_bytes)
    }

    /// The names of the block's properties, sorted.
    pub fn property_names(&self) -> impl Iterator<Item = &str> {
        self.properties.iter().map(|p| &*p.name)
    }
}

impl PartialEq for BlockSummary {
    fn eq(&self, other: &BlockSummary) -> bool {
        self.filter_bytes() == other.filter_bytes() && self.properties == other.properties
    }
}

#[cfg(test)]
mod tests;
