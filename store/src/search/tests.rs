//! Search against brute force: every page, count and query is compared with
//! visiting the whole store, filtering, sorting and slicing.

use std::ops::ControlFlow;

use super::*;
use crate::event::{parse_clef, view::to_event};
use crate::query::{EvalContext, Filter, Query};
use crate::stream::{Store, StoreOptions};
use crate::{EventView, Timestamp};

const T0: i64 = 1_735_689_600_000_000_000;
const MS: i64 = 1_000_000;

/// A small deterministic generator (xorshift).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len() as u64) as usize]
    }
}

/// One random CLEF line at `ms` milliseconds after `T0`.
fn line(r: &mut Rng, n: usize) -> String {
    let level = r.pick(&[
        "Information",
        "ERROR",
        "warn",
        "Debug",
        "custom",
        "",
        "Fatal",
    ]);
    let app = r.pick(&["checkout", "billing", "auth", "Checkout"]);
    let mut s = format!("{{\"@t\":\"2025-01-01T00:00:00Z\",\"Application\":\"{app}\",\"N\":{n}");
    if !level.is_empty() {
        s += &format!(",\"@l\":\"{level}\"");
    }
    match r.below(5) {
        0 => s += ",\"@m\":\"Request timeout for order\"",
        1 => s += ",\"@mt\":\"Order {OrderId} placed\",\"OrderId\":\"ORD-7\"",
        2 => s += ",\"@mt\":\"Shipped to {City}\"",
        _ => s += ",\"@mt\":\"HTTP {StatusCode} in {Elapsed}\"",
    }
    if r.below(3) == 0 {
        // Case, escapes and final sigma: the summaries fold them all alike.
        let city = r.pick(&[
            r#""Zürich""#,
            r#""Z\u00fcrich""#,
            r#""ZÜRICH""#,
            r#""ΟΔΟΣ""#,
            r#""οδος""#,
            r#""İstanbul""#,
        ]);
        s += &format!(",\"City\":{city}");
    }
    if r.below(2) == 0 {
        let code = r.pick(&["200", "404", "500", "503", "\"500\""]);
        s += &format!(",\"StatusCode\":{code},\"Elapsed\":{}.5", r.below(300));
    }
    if r.below(5) == 0 {
        s += ",\"@x\":\"System.Exception: boom\"";
    }
    match r.below(6) {
        // An escape spells the same text: required-text skipping must see it.
        0 => s += r#","Path":"\/api\u002Forders""#,
        1 => s += r#","Path":"/api/orders""#,
        _ => {}
    }
    if r.below(3) == 0 {
        s += &format!(
            ",\"@tr\":\"trace-{}\",\"@i\":\"0x{:X}\"",
            r.below(5),
            r.below(3)
        );
    }
    if r.below(4) == 0 {
        s += &format!(
            ",\"Tags\":[\"a\",\"{}\"],\"Nested\":{{\"Inner\":{}}}",
            r.pick(&["b", "c"]),
            r.below(4)
        );
    }
    s + "}\n"
}

/// A store of many small blocks: overlapping time ranges, batches out of
/// order, equal timestamps across blocks, several segments.
fn store(dir: &std::path::Path, seed: u64) -> Store {
    let opts = StoreOptions {
        disk_floor_bytes: 0,
        segment_max_bytes: 16 << 10,
        ..StoreOptions::default()
    };
    let store = Store::open(dir, opts).unwrap();
    let mut r = Rng(seed);
    let mut n = 0;
    for batch in 0..40 {
        let size = 1 + r.below(60) as usize;
        let body: String = (0..size).map(|k| line(&mut r, n + k)).collect();
        let mut events = parse_clef(body.as_bytes()).unwrap();
        // Most batches move forward in time and overlap their neighbours;
        // every fifth lands in the past; timestamps repeat (10 ms grid).
        let base = if batch % 5 == 4 {
            r.below(20)
        } else {
            batch as u64 * 10
        };
        for e in &mut events {
            e.timestamp = crate::Timestamp(T0 + ((base + r.below(40)) as i64) * 10 * MS);
        }
        n += size;
        store.append_events(&events).unwrap();
    }
    store
}

const FILTERS: &[&str] = &[
    "",
    "@Level = 'Error'",
    "@Level in ['warn', 'error']",
    "not (@Level = 'Information')",
    "@Level = 'custom'",
    "@Level = 'Error' and false",
    "Application = 'checkout' and StatusCode >= 500",
    "Application = 'checkout' ci",
    "StatusCode > 200 or Has(OrderId)",
    "Has(Elapsed) and Elapsed < 100",
    "StatusCode is null",
    "timeout",
    "@Message like '%ORD-7%'",
    "@MessageTemplate like 'HTTP%'",
    "@Exception like '%boom%'",
    "@TraceId = 'trace-3'",
    "@EventType = 0x2",
    "Tags[?] = 'c'",
    "Nested.Inner >= 2",
    "StartsWith(Application, 'Ch')",
    "N % 7 = 3",
    "Path = '/api/orders'",
    "Path = '/api/orders' and TraceId = 'none'",
    "@MessageTemplate = 'Order {OrderId} placed' and Application = 'auth'",
    "@Exception = 'System.Exception: boom'",
    "@SpanId = 'nowhere'",
    // Pruned by block summaries.
    "OrderId = 'ORD-7'",
    "OrderId = 'ORD-8'",
    "OrderId = 'ord-7' ci",
    "Has(OrderId) and OrderId <> 'x'",
    "Has(Nope)",
    "Application = 'CHECKOUT' ci",
    "Application in ['auth', 'nope']",
    "StatusCode = 500",
    "StatusCode = '500'",
    "StatusCode >= 503",
    "StatusCode < 300",
    "Elapsed > 290",
    "Elapsed <= 0.5",
    "N = 17 or N in [3, 99999]",
    "\"ORD-7\"",
    "Request timeout for",
    "@Message like '%Request timeout%'",
    "@MessageTemplate like 'Order {OrderId}%'",
    "Contains(Path, '/orders')",
    "EndsWith(Path, '/Orders') ci",
    "Path like '/api/%'",
    "@TraceId = 'TRACE-3' ci",
    "@Exception like '%Exception: boom'",
    "City = 'zürich' ci",
    "City = 'ZÜRICH'",
    "City like '%rich' ci",
    "City = 'οδος' ci",
    "shipped to \"zürich\"",
    "to \"οδος\"",
    "ΟΔΟΣ",
];

fn now() -> EvalContext {
    EvalContext::new(crate::Timestamp(T0))
}

/// Every matching event in `[from, to)`, newest first.
fn reference(
    store: &Store,
    f: &Filter,
    from: Option<Timestamp>,
    to: Option<Timestamp>,
) -> Vec<(EventId, Event)> {
    let mut out = Vec::new();
    store
        .visit(None, None, Order::NewestFirst, &mut |e| {
            let t = e.timestamp();
            if from.is_none_or(|f| t >= f) && to.is_none_or(|x| t < x) && f.matches(e, &now()) {
                out.push((e.id().unwrap(), to_event(e)));
            }
            ControlFlow::Continue(())
        })
        .unwrap();
    out
}

fn page(store: &Store, f: &Filter, req: &SearchRequest) -> Vec<(EventId, Event)> {
    search_events(store, f, req, &now()).unwrap().events
}

const RANGES: [(Option<i64>, Option<i64>); 4] = [
    (None, None),
    (Some(100), Some(250)),
    (Some(0), Some(1)),
    (Some(333), None),
];

fn ts(x: Option<i64>) -> Option<Timestamp> {
    x.map(|ms10| Timestamp(T0 + ms10 * 10 * MS))
}

#[test]
fn pages_match_brute_force() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path(), 7);
    assert!(store.blocks(None, None).len() == 40 && store.status().segments > 1);
    for text in FILTERS {
        let f = Filter::parse(text).unwrap();
        for (from, to) in RANGES {
            let (from, to) = (ts(from), ts(to));
            let all = reference(&store, &f, from, to);
            for count in [1, 3, 50, 10_000] {
                let req = SearchRequest {
                    from,
                    to,
                    count,
                    ..SearchRequest::default()
                };
                let got = page(&store, &f, &req);
                let want = &all[..count.min(all.len())];
                assert!(got == want, "{text} {from:?}..{to:?} count {count}");
            }
            let oldest = SearchRequest {
                from,
                to,
                count: 20,
                order: Order::OldestFirst,
                ..Default::default()
            };
            let want: Vec<_> = all.iter().rev().take(20).cloned().collect();
            assert!(page(&store, &f, &oldest) == want, "{text} oldest first");
            let n = count_events(&store, &f, from, to, &now()).unwrap();
            assert_eq!(n, all.len() as u64, "count {text} {from:?}..{to:?}");
        }
    }
}

#[test]
fn paging_walks_every_result_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path(), 11);
    for text in [
        "",
        "Application = 'checkout'",
        "@Level = 'Error'",
        "timeout",
    ] {
        let f = Filter::parse(text).unwrap();
        let all = reference(&store, &f, None, None);
        for order in [Order::NewestFirst, Order::OldestFirst] {
            let want: Vec<_> = match order {
                Order::NewestFirst => all.clone(),
                Order::OldestFirst => all.iter().rev().cloned().collect(),
            };
            for count in [1, 7, 64] {
                let mut walked = Vec::new();
                let mut after = None;
                loop {
                    let req = SearchRequest {
                        count,
                        after_id: after,
                        order,
                        ..Default::default()
                    };
                    let p = page(&store, &f, &req);
                    let Some(last) = p.last() else { break };
                    after = Some(last.0);
                    walked.extend(p);
                }
                assert!(walked == want, "{text} {order:?} count {count}");
            }
            for k in [0, want.len() / 3, want.len().saturating_sub(1)] {
                let Some((id, _)) = want.get(k) else { continue };
                let req = SearchRequest {
                    count: 5,
                    start_at_id: Some(*id),
                    order,
                    ..Default::default()
                };
                let end = (k + 5).min(want.len());
                assert!(page(&store, &f, &req) == want[k..end], "{text} startAt {k}");
                let both = SearchRequest {
                    after_id: Some(*id),
                    ..req.clone()
                };
                let end = (k + 6).min(want.len());
                assert!(
                    page(&store, &f, &both) == want[k + 1..end],
                    "{text} after+startAt"
                );
            }
        }
    }
}

#[test]
fn full_pages_stop_early_and_level_counts_need_no_scan() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(
        dir.path(),
        StoreOptions {
            disk_floor_bytes: 0,
            ..StoreOptions::default()
        },
    )
    .unwrap();
    let mut r = Rng(3);
    for b in 0..30 {
        let body: String = (0..20).map(|k| line(&mut r, k)).collect();
        let mut events = parse_clef(body.as_bytes()).unwrap();
        for (i, e) in events.iter_mut().enumerate() {
            e.timestamp = Timestamp(T0 + (b * 20 + i as i64) * MS);
        }
        store.append_events(&events).unwrap();
    }
    let f = Filter::parse("").unwrap();
    let p = search_events(
        &store,
        &f,
        &SearchRequest {
            count: 10,
            ..Default::default()
        },
        &now(),
    )
    .unwrap();
    assert_eq!(p.events.len(), 10);
    assert!(
        p.stats.blocks_scanned < 30 && p.stats.blocks_skipped > 0,
        "{:?}",
        p.stats
    );
    let big = SearchRequest {
        count: MAX_PAGE + 1,
        ..Default::default()
    };
    assert!(matches!(
        search_events(&store, &f, &big, &now()),
        Err(SearchError::PageTooLarge { .. })
    ));
    assert_eq!(count_events(&store, &f, None, None, &now()).unwrap(), 600);
}

const QUERIES: &[&str] = &[
    "select count(*) from stream group by Application, time(1s)",
    "select count(*), max(Elapsed), min(Elapsed), sum(StatusCode), percentile(Elapsed, 90) \
     from stream where Has(StatusCode) group by Application",
    "select count(*) from stream",
    "select distinct(Application) as apps from stream where @Level = 'Error'",
    "select count(*) as n from stream group by @Level having n > 3 order by n desc, @Level",
    "select N, Application from stream where Has(OrderId) order by N desc limit 7",
    "select N, @Exception from stream where @Exception like '%boom%' limit 4",
    "select count(*) from stream where timeout group by time(1m)",
];

#[test]
fn queries_equal_a_single_runner() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path(), 5);
    for text in QUERIES {
        let q = Query::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        for (from, to) in RANGES {
            let (from, to) = (ts(from), ts(to));
            let mut one = q.runner(&now());
            store
                .visit(from, to, Order::NewestFirst, &mut |e| {
                    one.accept(e);
                    if one.is_full() {
                        ControlFlow::Break(())
                    } else {
                        ControlFlow::Continue(())
                    }
                })
                .unwrap();
            let want = one.finish();
            let got = run_query(&store, &q, from, to, &now()).unwrap();
            assert_eq!(got, want, "{text} {from:?}..{to:?}");
        }
    }
}

#[test]
fn shared_queries_merge_into_the_single_node_answer() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path(), 9);
    for text in QUERIES.iter().filter(|t| !t.contains(" limit ")) {
        let q = Query::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert!(q.aggregates(), "{text}");
        for (from, to) in RANGES {
            let range = (ts(from), ts(to));
            let want = run_query(&store, &q, range.0, range.1, &now()).unwrap();
            for nodes in 1..=4 {
                let plan = plan_shares(&store, &q, range, &now(), nodes);
                assert_eq!(plan.shares.len(), nodes);
                let mut merged = q.runner(&now());
                for share in &plan.shares {
                    let part = query_share(&store, &q, range, &now(), share).unwrap();
                    // As it crosses the wire between nodes.
                    let json = serde_json::to_vec(&part).unwrap();
                    merged
                        .absorb(serde_json::from_slice(&json).unwrap())
                        .unwrap();
                }
                assert_eq!(merged.finish(), want, "{text} {range:?} over {nodes} nodes");
            }
        }
    }
}

#[test]
fn a_partial_of_another_query_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path(), 3);
    let by_app = Query::parse("select count(*) from stream group by Application").unwrap();
    let two_aggs = Query::parse("select count(*), max(N) from stream").unwrap();
    let distinct = Query::parse("select distinct(N) from stream").unwrap();
    let everything = plan_shares(&store, &by_app, (None, None), &now(), 1).shares;
    let part = |q: &Query| query_share(&store, q, (None, None), &now(), &everything[0]).unwrap();
    for (offered, to) in [
        (&by_app, &two_aggs),
        (&two_aggs, &by_app),
        (&distinct, &two_aggs),
        (&two_aggs, &distinct),
    ] {
        let mut runner = to.runner(&now());
        assert!(runner.absorb(part(offered)).is_err());
        // Nothing was merged: the runner still gives the empty answer.
        assert_eq!(runner.finish(), to.runner(&now()).finish());
    }
}

/// Every matching event in `[from, to)` that arrived at or after `since`, oldest arrival first.
fn by_arrival(
    store: &Store,
    f: &Filter,
    since: u64,
    from: Option<Timestamp>,
    to: Option<Timestamp>,
) -> Vec<(EventId, Event)> {
    let mut all: Vec<_> = reference(store, f, from, to)
        .into_iter()
        .filter(|(id, _)| id.arrival >= since)
        .collect();
    all.sort_by_key(|(id, _)| id.arrival);
    all
}

#[test]
fn arrival_reads_match_brute_force_and_resume_without_gaps() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path(), 11);
    let end = next_arrival(&store);
    assert_eq!(end, store.status().events, "arrivals are numbered from 0");
    for text in FILTERS {
        let f = Filter::parse(text).unwrap();
        for (from, to) in RANGES {
            let (from, to) = (ts(from), ts(to));
            for since in [0, 1, end / 2, end - 1, end, end + 5] {
                let all = by_arrival(&store, &f, since, from, to);
                for count in [1, 7, 10_000] {
                    let req = ArrivalRequest {
                        since,
                        from,
                        to,
                        count,
                    };
                    let got = events_since_arrival(&store, &f, &req, &now()).unwrap();
                    let want = &all[..count.min(all.len())];
                    assert!(got.events == want, "{text} since {since} count {count}");
                    let next = if got.events.len() == count {
                        got.events[count - 1].0.arrival + 1
                    } else {
                        end.max(since)
                    };
                    assert_eq!(got.next_arrival, next, "{text} since {since} count {count}");
                }
            }
            // Following the cursor in small pages visits every match once.
            let mut walked = Vec::new();
            let mut since = 0;
            loop {
                let req = ArrivalRequest {
                    since,
                    from,
                    to,
                    count: 5,
                };
                let got = events_since_arrival(&store, &f, &req, &now()).unwrap();
                let n = got.events.len();
                walked.extend(got.events);
                since = got.next_arrival;
                if n < 5 {
                    break;
                }
            }
            assert!(walked == by_arrival(&store, &f, 0, from, to), "{text} walk");
        }
    }
    // A newly stored event with an OLD timestamp is the next arrival read.
    let old = parse_clef(b"{\"@t\":\"2001-01-01T00:00:00Z\",\"@m\":\"late\"}\n").unwrap();
    store.append_events(&old).unwrap();
    let req = ArrivalRequest {
        since: end,
        from: None,
        to: None,
        count: 100,
    };
    let got = events_since_arrival(&store, &Filter::match_all(), &req, &now()).unwrap();
    assert_eq!(got.events.len(), 1);
    assert_eq!(got.events[0].0.arrival, end);
    assert_eq!(got.next_arrival, end + 1);
    let too_many = ArrivalRequest {
        count: MAX_PAGE + 1,
        ..req
    };
    assert!(events_since_arrival(&store, &Filter::match_all(), &too_many, &now()).is_err());
}

/// A store of the benchmark dataset in `blocks` blocks of 100 events, its
/// segments sealed every 10 blocks or so, the last one too (so that every
/// block has its summary without waiting for the summarizer).
fn dataset_store(dir: &std::path::Path, blocks: usize) -> (Store, Vec<Event>) {
    let opts = StoreOptions {
        disk_floor_bytes: 0,
        segment_max_bytes: 32 << 10,
        ..StoreOptions::default()
    };
    let store = Store::open(dir, opts).unwrap();
    let data = crate::dataset::clef(blocks as u64 * 100, crate::dataset::DEFAULT_SEED);
    let events = parse_clef(&data).unwrap();
    for batch in events.chunks(100) {
        store.append_events(batch).unwrap();
    }
    store.seal().unwrap();
    (store, events)
}

/// Lookups of one event read one block (and the filter's false positives),
/// and a range rules out the blocks whose numbers lie outside it.
#[test]
fn summaries_rule_out_blocks_without_reading_them() {
    let dir = tempfile::tempdir().unwrap();
    let (store, events) = dataset_store(dir.path(), 100);
    assert!(store.status().segments > 3);
    let raw = |i: usize, name: &str| events[i].property_raw(name).unwrap().get().to_owned();
    let unquoted = |i: usize, name: &str| raw(i, name).trim_matches('"').to_owned();
    let lookups = [
        format!("OrderId = '{}'", unquoted(5_002, "OrderId")),
        format!("TraceId = '{}'", unquoted(6_000, "TraceId")),
        format!("UserId = {}", raw(7_001, "UserId")),
        format!("\"User {} logged\"", raw(7_001, "UserId")),
        format!("CacheKey like '%:{}'", &unquoted(8_003, "CacheKey")[8..]),
    ];
    let req = SearchRequest {
        count: 50,
        ..SearchRequest::default()
    };
    for text in &lookups {
        let f = Filter::parse(text).unwrap();
        let page = search_events(&store, &f, &req, &now()).unwrap();
        assert!(page.events == reference(&store, &f, None, None), "{text}");
        assert!(!page.events.is_empty(), "{text}");
        let s = page.stats;
        assert_eq!(s.blocks_in_range, 100, "{text}");
        assert!(s.blocks_pruned_by_summary >= 90, "{text}: {s:?}");
        assert_eq!(s.blocks_scanned + s.blocks_pruned + s.blocks_skipped, 100);
    }
    // Each block holds 20 random UserIds up to 1,000,000: about four in
    // five hold none above 990,000. Every match is still found.
    let f = Filter::parse("UserId > 990000").unwrap();
    let page = search_events(
        &store,
        &f,
        &SearchRequest {
            count: 10_000,
            ..req
        },
        &now(),
    )
    .unwrap();
    assert!(page.events == reference(&store, &f, None, None));
    assert!(page.stats.blocks_pruned_by_summary > 10, "{:?}", page.stats);
    assert_eq!(
        count_events(&store, &f, None, None, &now()).unwrap(),
        page.events.len() as u64
    );
}

/// Summary files flipped, cut short, deleted or swapped are rebuilt when
/// the store opens: answers stay exact and blocks are still ruled out.
#[test]
fn damaged_summary_files_are_rebuilt_and_answers_stay_exact() {
    let dir = tempfile::tempdir().unwrap();
    let (store, events) = dataset_store(dir.path(), 60);
    let sealed = store.status().segments as u64;
    assert!(sealed >= 4, "{:?}", store.status());
    drop(store);
    let sum = |id: u64| crate::stream::segment::sum_path(dir.path(), id);
    let original: Vec<Vec<u8>> = (1..=sealed)
        .map(|id| std::fs::read(sum(id)).unwrap())
        .collect();
    let mut flipped = original[0].clone();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 0x40;
    std::fs::write(sum(1), flipped).unwrap();
    std::fs::write(sum(2), &original[1][..original[1].len() / 3]).unwrap();
    std::fs::remove_file(sum(3)).unwrap();
    std::fs::write(sum(4), &original[0]).unwrap();

    let store = Store::open(
        dir.path(),
        StoreOptions {
            disk_floor_bytes: 0,
            ..StoreOptions::default()
        },
    )
    .unwrap();
    for id in 1..=sealed {
        assert_eq!(std::fs::read(sum(id)).unwrap(), original[id as usize - 1]);
    }
    let order = events[2_502]
        .property_raw("OrderId")
        .unwrap()
        .get()
        .to_owned();
    let filters = [
        format!("OrderId = {}", order.replace('"', "'")),
        order.clone(),
        "StatusCode >= 500 and Application = 'checkout'".to_string(),
        "UserId < 2000".to_string(),
    ];
    for text in &filters {
        let f = Filter::parse(text).unwrap();
        let all = reference(&store, &f, None, None);
        let req = SearchRequest {
            count: 10_000,
            ..SearchRequest::default()
        };
        let page = search_events(&store, &f, &req, &now()).unwrap();
        assert!(page.events == all, "{text}");
        assert_eq!(
            count_events(&store, &f, None, None, &now()).unwrap(),
            all.len() as u64
        );
    }
    let f = Filter::parse(&filters[0]).unwrap();
    let page = search_events(&store, &f, &SearchRequest::default(), &now()).unwrap();
    assert!(
        page.stats.blocks_pruned_by_summary >= 50,
        "{:?}",
        page.stats
    );
}
