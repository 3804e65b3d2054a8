//! An HTTP-level fuzz of every route, driven by the OpenAPI document the
//! node publishes at `/api/openapi.json`: for each operation, requests
//! generated from its parameter and body schemas (valid) and hostile ones
//! (path segments, query strings, content types, credentials and bodies
//! from lists of known troublemakers) — all from a seeded generator, so a
//! failure replays — against a real node with `auth.required` on.
//!
//! Every answer must be a status the document lists for the operation,
//! never a 5xx (the node is a healthy standalone one); every 4xx carries
//! `{"Error": "…"}` (or, answering an OTLP protobuf request, a
//! `google.rpc.Status`); a refused write changes nothing (the store's
//! generation, the keys, signals, settings and users); and at the end the
//! node is alive, healthy, and its log holds no panic.

mod schema;

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;
use skein::api::auth::table::ROUTES;
use skein::client::dataset::{write_event, Rng};
use skein_harness::{request, Node};

/// Valid and hostile requests per operation.
const VALID: usize = 10;
const HOSTILE: usize = 12;

/// Path segments: numeric edge cases, encodings, traversal, lookalikes.
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

const QUERY_KEYS: &[&str] = &["filter", "count", "q", "apiKey", "shared", "title", "to"];

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
    "maybe",
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

/// Headers that must not confuse a handler.
const HEADERS: &[(&str, &str)] = &[
    ("X-Seq-ApiKey", "null"),
    ("X-Seq-ApiKey", "not-a-key"),
    (
        "Cookie",
        "skein-session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    ),
    ("Content-Encoding", "br"),
    ("Content-Encoding", "gzip"),
    ("If-None-Match", "*"),
];

/// A hostile body, deterministic from `rng`.
fn hostile_body(rng: &mut Rng) -> Vec<u8> {
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

/// One request to send.
struct Request {
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

/// An operation of the document.
struct Operation<'a> {
    method: &'a str,
    path: &'a str,
    op: &'a Value,
}

impl Operation<'_> {
    fn parameters(&self, place: &str) -> Vec<&Value> {
        self.op["parameters"]
            .as_array()
            .map(|ps| ps.iter().filter(|p| p["in"] == place).collect())
            .unwrap_or_default()
    }

    fn documented(&self, status: u16) -> bool {
        self.op["responses"].get(status.to_string()).is_some()
    }

    /// A write whose refusal must change nothing (a refused login counts
    /// a failure against the user and the address, by design).
    fn is_checked_write(&self) -> bool {
        self.method != "get" && self.path != "/api/users/login"
    }

    /// `self.path` with each `{param}` replaced by `segment(name)`.
    fn fill(&self, mut segment: impl FnMut(&Value) -> String) -> String {
        let mut path = self.path.to_string();
        for p in self.parameters("path") {
            let name = p["name"].as_str().unwrap();
            path = path.replace(&format!("{{{name}}}"), &segment(p));
        }
        path
    }
}

/// A request satisfying the operation's schemas, with the key (mostly).
fn valid(rng: &mut Rng, o: &Operation, doc: &Value, key: &str) -> Request {
    let path = o.fill(|p| schema::encode(&schema::text(&schema::value(rng, &p["schema"], doc))));
    let mut query = Vec::new();
    for p in o.parameters("query") {
        if p["required"] == true || rng.below(2) == 0 {
            let v = schema::value(rng, &p["schema"], doc);
            query.push(format!(
                "{}={}",
                p["name"].as_str().unwrap(),
                schema::encode(&schema::text(&v))
            ));
        }
    }
    let mut headers = Vec::new();
    match rng.below(8) {
        0 => query.push(format!("apiKey={key}")),
        1 => {}
        _ => headers.push(("X-Seq-ApiKey".to_string(), key.to_string())),
    }
    let mut body = Vec::new();
    if let Some(content) = o.op["requestBody"]["content"].as_object() {
        let types: Vec<&String> = content.keys().collect();
        let ct = types[rng.below(types.len() as u64) as usize];
        headers.push(("Content-Type".into(), ct.clone()));
        body = match ct.as_str() {
            "application/json" => {
                serde_json::to_vec(&schema::value(rng, &content[ct]["schema"], doc)).unwrap()
            }
            // CLEF: events of the benchmark dataset, or an empty body.
            _ => {
                let mut out = Vec::new();
                for i in 0..rng.below(4) {
                    write_event(i, rng, &mut out);
                }
                out
            }
        };
    }
    Request {
        path: with_query(path, &query),
        headers,
        body,
    }
}

/// A hostile request: troublesome path segments, query, headers and body.
fn hostile(rng: &mut Rng, o: &Operation, key: &str) -> Request {
    let path = o.fill(|_| pick(rng, SEGMENTS).to_string());
    let mut names: Vec<&str> = o
        .parameters("query")
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    names.extend(QUERY_KEYS);
    let query: Vec<String> = (0..rng.below(4))
        .map(|_| format!("{}={}", pick(rng, &names), pick(rng, QUERY_VALUES)))
        .collect();
    let mut headers = vec![("X-Seq-ApiKey".to_string(), key.to_string())];
    if rng.below(3) == 0 {
        let (k, v) = HEADERS[rng.below(HEADERS.len() as u64) as usize];
        if k == "X-Seq-ApiKey" {
            headers.clear();
        }
        headers.push((k.into(), v.into()));
    }
    match pick(rng, CONTENT_TYPES) {
        "" => {}
        ct => headers.push(("Content-Type".into(), ct.into())),
    }
    Request {
        path: with_query(path, &query),
        headers,
        body: hostile_body(rng),
    }
}

fn with_query(path: String, query: &[String]) -> String {
    match query.is_empty() {
        true => path,
        false => format!("{path}?{}", query.join("&")),
    }
}

/// What a refused write must leave as it was: the store's generation and
/// every listing of the metastore (users without their lock state, which
/// refused logins change by design).
fn state(node: &Node, key: &str) -> Vec<String> {
    let get = |path: &str| {
        let (status, body) = request(node.api, "GET", path, &[("X-Seq-ApiKey", key)], b"");
        assert_eq!(status, 200, "{path}: {body}");
        serde_json::from_str::<Value>(&body).unwrap()
    };
    let users: Vec<String> = get("/api/users")
        .as_array()
        .unwrap()
        .iter()
        .map(|u| format!("{} {} {}", u["Id"], u["Username"], u["Role"]))
        .collect();
    vec![
        get("/health")["generation"].to_string(),
        get("/api/apikeys").to_string(),
        get("/api/signals").to_string(),
        get("/api/settings").to_string(),
        users.join(","),
    ]
}

#[test]
fn every_operation_of_the_published_document_answers_only_documented_statuses() {
    let (mut node, key) = Node::secured();
    let (status, text) = node.get("/api/openapi.json");
    assert_eq!(status, 200, "{text}");
    let doc: Value = serde_json::from_str(&text).expect("the document is JSON");
    let mut operations = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            operations.push(Operation { method, path, op });
        }
    }
    // The document is the router's: exactly the permission table.
    let published: BTreeSet<(String, String)> = operations
        .iter()
        .map(|o| (o.method.to_ascii_uppercase(), o.path.to_string()))
        .collect();
    let routes: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|(m, p, _)| (m.to_string(), p.to_string()))
        .collect();
    assert_eq!(published, routes);

    let mut rng = Rng::new(0x5eed_0a91);
    let mut statuses = BTreeMap::<(&str, u16), usize>::new();
    let mut before: Option<Vec<String>> = None;
    for o in &operations {
        for i in 0..VALID + HOSTILE {
            let (kind, req) = match i < VALID {
                true => ("valid", valid(&mut rng, o, &doc, &key)),
                false => ("hostile", hostile(&mut rng, o, &key)),
            };
            if o.is_checked_write() && before.is_none() {
                before = Some(state(&node, &key));
            }
            let headers: Vec<(&str, &str)> = req
                .headers
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            let method = o.method.to_ascii_uppercase();
            let (status, answer) = request(node.api, &method, &req.path, &headers, &req.body);
            *statuses.entry((kind, status)).or_default() += 1;
            let what = || {
                let body =
                    String::from_utf8_lossy(&req.body[..req.body.len().min(300)]).into_owned();
                format!(
                    "{kind} {method} {} {headers:?} {body:?} → {status} {answer}",
                    req.path
                )
            };
            assert!(status != 0 && status < 500, "{}\n{}", what(), node.log());
            assert!(o.documented(status), "undocumented status: {}", what());
            if (400..500).contains(&status) {
                let error: Option<Value> = serde_json::from_str(&answer).ok();
                // OTLP answers a protobuf request in protobuf: a
                // google.rpc.Status, whose first field is its code.
                let protobuf = req.headers.iter().any(|(k, v)| {
                    k.eq_ignore_ascii_case("content-type")
                        && v.starts_with("application/x-protobuf")
                });
                assert!(
                    error.as_ref().is_some_and(|e| e["Error"].is_string())
                        || (protobuf && answer.starts_with('\u{8}')),
                    "a 4xx without a JSON error body (or a protobuf Status): {}",
                    what()
                );
                if o.is_checked_write() {
                    let after = state(&node, &key);
                    assert_eq!(
                        before.as_ref(),
                        Some(&after),
                        "a refused write changed something: {}",
                        what()
                    );
                }
            } else if o.method != "get" {
                before = None;
            }
        }
    }
    undeclared_methods_answer_405(&node, &key, &doc);
    assert!(node.is_running(), "the node died:\n{}", node.log());
    assert_eq!(node.get("/health").0, 200, "{}", node.log());
    assert!(!node.log().contains("panicked"), "{}", node.log());
    eprintln!(
        "answers by kind and status over {} operations: {statuses:?}",
        operations.len()
    );
    // The requests reach the handlers: valid ones succeed, hostile ones
    // are refused, and missing credentials are noticed.
    let count = |kind: &str, ok: fn(u16) -> bool| -> usize {
        statuses
            .iter()
            .filter(|((k, s), _)| *k == kind && ok(*s))
            .map(|(_, n)| n)
            .sum()
    };
    assert!(
        count("valid", |s| s < 300) > operations.len(),
        "{statuses:?}"
    );
    assert!(count("hostile", |s| s == 400) > 0, "{statuses:?}");
    assert!(count("valid", |s| s == 401) > 0, "{statuses:?}");
}

/// Whether the path template `template` (`{param}` = one segment) matches
/// `path`.
fn matches(template: &str, path: &str) -> bool {
    let (t, p): (Vec<&str>, Vec<&str>) = (template.split('/').collect(), path.split('/').collect());
    t.len() == p.len()
        && t.iter()
            .zip(&p)
            .all(|(t, p)| t == p || (t.starts_with('{') && !p.is_empty()))
}

/// A method the document does not list for a path answers 405, naming the
/// methods it lists (unless another path of the document matches too).
fn undeclared_methods_answer_405(node: &Node, key: &str, doc: &Value) {
    let paths = doc["paths"].as_object().unwrap();
    for (template, item) in paths {
        let path = template
            .replace("{id}", "x1")
            .replace("{name}", "x1")
            .replace("{file}", "x1");
        if paths.keys().filter(|t| matches(t, &path)).count() > 1 {
            continue;
        }
        let listed: BTreeSet<String> = item
            .as_object()
            .unwrap()
            .keys()
            .map(|m| m.to_ascii_uppercase())
            .collect();
        for method in ["GET", "POST", "PUT", "DELETE", "PATCH", "TRACE"] {
            if listed.contains(method) {
                continue;
            }
            let (status, body) = request(node.api, method, &path, &[("X-Seq-ApiKey", key)], b"");
            assert_eq!(status, 405, "{method} {path}: {body}");
            let error: Value =
                serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"));
            let allowed: BTreeSet<String> = error["Error"]
                .as_str()
                .and_then(|e| e.split("(allowed: ").nth(1))
                .map(|a| {
                    a.trim_end_matches(')')
                        .split(", ")
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default();
            assert_eq!(allowed, listed, "{method} {path}: {body}");
        }
    }
}
