//! An HTTP-level fuzz of every route: for each entry of the permission
//! table (the list of every route the API registers), requests with hostile
//! path parameters, query strings, content types and bodies — chosen by a
//! seeded generator, so a failure replays — against a real node. No request
//! may get a 500 or kill the node, and the node's log must hold no panic.

mod support;

use skein::api::auth::table::ROUTES;
use skein::client::dataset::Rng;
use support::{request, Server};

/// Path segments: empty-ish, numeric edge cases, encodings, traversal, long.
const SEGMENTS: &[&str] = &[
    "0",
    "-1",
    "18446744073709551616",
    "event-zzzz",
    "event-00000000000000000000000000000000",
    "%00",
    "..%2F..%2Fetc%2Fpasswd",
    "%C3%A9%E2%82%AC",
    "%FF%FE",
    "%7B%7D",
    "null",
    "apikey-1",
    "signal-1",
    "retention.period",
    "ingestion.minimumLevel",
    "no.such.setting",
];

const QUERY_KEYS: &[&str] = &[
    "filter",
    "count",
    "fromDateUtc",
    "toDateUtc",
    "afterId",
    "startAtId",
    "q",
    "clef",
    "render",
    "apiKey",
    "shared",
    "title",
];

const QUERY_VALUES: &[&str] = &[
    "",
    "-1",
    "99999999999999999999",
    "%27",
    "Level%20%3D%3D%3D",
    "select%20count(*)%20from%20stream%20group%20by%20time(0s)",
    "select%20*%20from",
    "2026-13-45T99%3A99%3A99Z",
    "%FF",
    "true",
    "(((((((((((((((((((((((((((((((",
    "%40Message%20like%20%27%25%27",
];

const CONTENT_TYPES: &[&str] = &[
    "application/json",
    "application/vnd.serilog.clef",
    "text/plain",
    "application/x-www-form-urlencoded",
    "",
];

/// A hostile body, deterministic from `rng`.
fn body(rng: &mut Rng) -> Vec<u8> {
    match rng.below(12) {
        0 => Vec::new(),
        1 => b"{".to_vec(),
        2 => b"[]".to_vec(),
        3 => b"null".to_vec(),
        4 => b"{\"Title\":1,\"Filter\":[],\"Value\":{\"a\":null}}".to_vec(),
        5 => "[".repeat(5000).into_bytes(),
        6 => vec![0xff, 0xfe, 0x00, 0xc3, 0x28],
        7 => b"{\"@t\":\"not a time\",\"@mt\":\"{\"}\n{\"@l\":7}\n".to_vec(),
        8 => b"{\"Events\":[{\"Timestamp\":null,\"Level\":{},\"MessageTemplate\":[]}]}".to_vec(),
        9 => b"{\"Username\":\"\\u0000\",\"Password\":1e999}".to_vec(),
        10 => format!("{{\"Value\":\"{}\"}}", "x".repeat(100_000)).into_bytes(),
        _ => (0..rng.below(2000)).map(|_| rng.below(256) as u8).collect(),
    }
}

fn pick<'a>(rng: &mut Rng, from: &[&'a str]) -> &'a str {
    from[rng.below(from.len() as u64) as usize]
}

/// `pattern` with every `{param}` replaced by a hostile segment, plus a
/// hostile query string.
fn target(rng: &mut Rng, pattern: &str) -> String {
    let mut path = String::new();
    let mut rest = pattern;
    while let Some(open) = rest.find('{') {
        path.push_str(&rest[..open]);
        let close = rest[open..].find('}').map_or(rest.len(), |c| open + c + 1);
        path.push_str(pick(rng, SEGMENTS));
        rest = &rest[close..];
    }
    path.push_str(rest);
    let params: Vec<String> = (0..rng.below(4))
        .map(|_| format!("{}={}", pick(rng, QUERY_KEYS), pick(rng, QUERY_VALUES)))
        .collect();
    if !params.is_empty() {
        path.push('?');
        path.push_str(&params.join("&"));
    }
    path
}

#[test]
fn no_route_answers_500_or_dies_on_hostile_requests() {
    let mut node = Server::start();
    let mut rng = Rng::new(0x5eed_f022);
    let mut statuses = std::collections::BTreeMap::<u16, usize>::new();
    for (method, pattern, _) in ROUTES {
        for _ in 0..12 {
            let path = target(&mut rng, pattern);
            let body = body(&mut rng);
            let ct = pick(&mut rng, CONTENT_TYPES);
            let headers: Vec<(&str, &str)> = match ct {
                "" => Vec::new(),
                ct => vec![("Content-Type", ct)],
            };
            let (status, answer) = request(node.port, method.as_str(), &path, &headers, &body);
            *statuses.entry(status).or_default() += 1;
            assert!(
                status != 0 && status != 500,
                "{method} {path} ({ct}, {} body bytes) → {status} {answer}\n{}",
                body.len(),
                node.log()
            );
        }
    }
    assert!(node.is_running(), "the node died:\n{}", node.log());
    assert_eq!(node.get("/health").0, 200, "{}", node.log());
    assert!(!node.log().contains("panicked"), "{}", node.log());
    eprintln!(
        "answers by status over {} routes: {statuses:?}",
        ROUTES.len()
    );
    // The requests reach the handlers: not everything is refused up front.
    let reached: usize = statuses
        .iter()
        .filter(|(s, _)| **s < 400)
        .map(|(_, n)| n)
        .sum();
    assert!(reached > 0 && statuses.contains_key(&400), "{statuses:?}");
}
