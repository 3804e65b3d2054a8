//! Block summaries: what each block holds, so a search skips every block
//! that cannot hold a match without reading it.
//!
//! A [`BlockSummary`] has
//!
//! - a split-block bloom filter (Parquet's layout, `sbbf-rs-safe`) over the
//!   *keys* of the block's tokens and integers ([`tokens`]: folded
//!   alphanumeric runs of string property values, the template, the
//!   exception, `@tr`, `@sp` and the message as free text sees it);
//! - every top-level property name, with the minimum and maximum of its
//!   numeric values.
//!
//! A filter's [`need::Need`] (built by `Filter::block_needs`) is tested
//! against each summary. The test may say yes for a block without a match
//! (a false positive: the block is scanned and its rows evaluated, as
//! before) but never no for a block with one: every comparison, `ci`,
//! escape and rendering of the filter language maps onto the same folded
//! tokens (see [`tokens`]).
//!
//! - [`tokens`]: folding, tokens, keys, and what a required text needs.
//! - [`need`]: [`need::Need`] and its test against a summary.
//! - [`build`]: [`summarize`], a summary from events (at encode time) or
//!   from a stored block ([`summarize_block`]).
//! - [`file`]: the summary file of a sealed segment (`seg-N.sum`): format,
//!   checksum, version, and its decoder (fuzzed).
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
