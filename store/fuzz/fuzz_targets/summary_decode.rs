//! Fuzzes the summary file decoder (`seg-N.sum`): it must return `Ok` or a
//! `SummaryError`, never panic or allocate without bound, whatever the
//! bytes; what it accepts must encode and decode back to itself.
//!
//! Input byte 0 picks the mode:
//! - even: the remaining bytes are decoded as a summary file (the checksum
//!   stops most);
//! - odd: a valid file (summaries of dataset blocks, one block without a
//!   summary) is edited with the remaining bytes (pairs of position, xor
//!   value; a final odd byte truncates) and re-signed with a correct crc,
//!   so the edits reach the parser itself.

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use skein_store::dataset::{clef, DEFAULT_SEED};
use skein_store::event::parse_clef;
use skein_store::summary::{decode_summaries, encode_summaries, summarize, BlockSummary};

fn seed_file() -> &'static [u8] {
    static FILE: OnceLock<Vec<u8>> = OnceLock::new();
    FILE.get_or_init(|| {
        let events = parse_clef(&clef(120, DEFAULT_SEED)).expect("dataset parses");
        let summaries: Vec<BlockSummary> = events.chunks(40).map(summarize).collect();
        let blocks = [
            (0, Some(&summaries[0])),
            (4_000, None),
            (9_000, Some(&summaries[1])),
            (20_000, Some(&summaries[2])),
        ];
        encode_summaries(30_000, 0x1234_5678, &blocks)
    })
}

fn exercise(bytes: &[u8]) {
    let Ok(file) = decode_summaries(bytes) else {
        return;
    };
    let blocks: Vec<(u64, Option<&BlockSummary>)> = file
        .blocks
        .iter()
        .map(|(o, s)| (*o, s.as_deref()))
        .collect();
    for s in blocks.iter().filter_map(|(_, s)| *s) {
        assert!(s.filter_bytes().len() <= bytes.len());
        assert!(s.property_names().count() <= bytes.len());
    }
    let again = encode_summaries(file.segment_len, file.segment_crc, &blocks);
    assert_eq!(decode_summaries(&again).as_ref(), Ok(&file));
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode % 2 == 0 {
        exercise(rest);
        return;
    }
    let seed = seed_file();
    let mut body = seed[..seed.len() - 4].to_vec();
    let mut edits = rest.chunks_exact(2);
    for pair in &mut edits {
        let at = (pair[0] as usize * 13 + mode as usize) % body.len();
        body[at] ^= pair[1];
    }
    if let [cut] = edits.remainder() {
        let keep = body.len() * *cut as usize / 255;
        body.truncate(keep);
    }
    let crc = crc32c::crc32c(&body);
    body.extend_from_slice(&crc.to_le_bytes());
    exercise(&body);
});
