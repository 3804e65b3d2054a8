//! Fuzzes the scale-out query exchange (`skein_wire::share`): what a peer
//! sends as a share request, and what a follower answers. Nothing may
//! panic, whatever the bytes.
//!
//! Input byte 0 picks the mode:
//! - 0: the rest is a share request; one that decodes must encode and
//!   decode back to itself, and its share's ranges must be in order and
//!   disjoint;
//! - anything else: the rest is a follower's answer; one that decodes is
//!   merged into a runner of one of a sample of queries (byte 0 picks it)
//!   — refused or merged, never a panic — and the runner finishes.

#![no_main]

use libfuzzer_sys::fuzz_target;
use skein_store::query::{EvalContext, Query};
use skein_store::Timestamp;
use skein_wire::share::{decode_answer, ShareRequest};

const QUERIES: &[&str] = &[
    "select count(*) from stream",
    "select count(*), max(N), min(N), sum(N), mean(N) from stream group by A, time(1m)",
    "select distinct(A) as d, percentile(N, 90) from stream group by B having d > 1 order by d desc limit 3",
];

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode == 0 {
        if let Ok(r) = ShareRequest::decode(rest) {
            let again = ShareRequest::decode(&r.encode().expect("encodes")).expect("decodes");
            assert_eq!(again, r);
            let ranges = r.share.ranges();
            assert!(ranges.iter().all(|(s, e)| s < e));
            assert!(ranges.windows(2).all(|w| w[0].1 <= w[1].0));
        }
        return;
    }
    if let Ok(partial) = decode_answer(rest) {
        let query = Query::parse(QUERIES[mode as usize % QUERIES.len()]).expect("sample query");
        let mut runner = query.runner(&EvalContext::new(Timestamp(0)));
        let _ = runner.absorb(partial);
        let _ = runner.finish();
    }
});
