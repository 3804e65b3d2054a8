//! Hostile clients against a real node: malformed, truncated, oversized,
//! deeply nested, wrongly typed, wrongly encoded, compressed-bomb,
//! unauthenticated and slow requests, and pathological filters.
//!
//! Every test runs its own node and, after each bad request, checks the
//! three promises of "errors are answers": the request got a clear status
//! (and, where a handler answers, a JSON `{"Error": …}` naming the problem),
//! the process is still running with `/health` at 200, and the store's
//! generation did not move (nothing was stored, nothing changed).
//!
//! Requests that actix rejects before any handler runs (a request head over
//! its size limit, bytes that are not HTTP) get actix's own status with an
//! empty body; those cases check the status and the node's health only.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use skein_harness::{request, Node};

const CLEF: &str = "application/vnd.serilog.clef";
const JSON: &str = "application/json";
const T: &str = "\"2025-01-01T00:00:00Z\"";
/// The node's default payload limit (`ingestion.maxPayloadBytes`).
const PAYLOAD_LIMIT: usize = 10 << 20;
/// The parser's default per-event limit (`ParseLimits::max_event_bytes`).
const EVENT_LIMIT: usize = skein_store::event::MAX_EVENT_BYTES;

/// The storage generation `/health` reports (asserting it answers 200).
fn generation(node: &Node) -> String {
    let (status, body) = node.get("/health");
    assert_eq!(status, 200, "/health: {body}");
    let health: Value = serde_json::from_str(&body).unwrap();
    health["generation"].as_str().unwrap().to_owned()
}

/// The node survived `what`: running, healthy, and its store unchanged.
fn assert_unharmed(node: &mut Node, before: &str, what: &str) {
    assert!(node.is_running(), "node died after {what}:\n{}", node.log());
    let now = generation(node);
    assert_eq!(now, before, "the store changed after {what}");
}

/// Asserts `answer` is `want` with a JSON error whose message contains
/// `needle` (case-insensitive).
fn assert_error(answer: (u16, String), want: u16, needle: &str, what: &str) {
    let (status, body) = answer;
    assert_eq!(status, want, "{what}: {body}");
    let err: Value = serde_json::from_str(&body)
        .unwrap_or_else(|_| panic!("{what}: expected a JSON error body, got {body:?}"));
    let msg = err["Error"]
        .as_str()
        .unwrap_or_else(|| panic!("{what}: no Error in {body}"));
    assert!(
        msg.to_lowercase().contains(&needle.to_lowercase()),
        "{what}: {msg:?} should mention {needle:?}"
    );
}

/// A CLEF line with `@t` and the given extra JSON members.
fn clef(extra: &str) -> String {
    format!("{{\"@t\":{T},\"@mt\":\"hostile\"{extra}}}")
}

/// A legacy event object with the given extra JSON members.
fn legacy_event(extra: &str) -> String {
    format!("{{\"Timestamp\":{T},\"Level\":\"Warning\",\"MessageTemplate\":\"hostile\"{extra}}}")
}

/// A legacy body holding one event with the given extra JSON members.
fn legacy(extra: &str) -> String {
    format!("{{\"Events\":[{}]}}", legacy_event(extra))
}

/// `text` with `@@` replaced by raw (possibly invalid UTF-8) bytes.
fn with_bytes(text: &str, bytes: &[u8]) -> Vec<u8> {
    let (a, b) = text.split_once("@@").expect("a @@ placeholder");
    [a.as_bytes(), bytes, b.as_bytes()].concat()
}

/// Posts bodies that are all bad in some way, expecting each status and
/// message, and the node unharmed after each.
fn refuse_all(node: &mut Node, cases: Vec<(&str, &str, Vec<u8>, u16, &str)>) {
    let before = generation(node);
    for (path, content_type, body, want, needle) in cases {
        let what = format!(
            "POST {path} ({content_type}) {:?}",
            String::from_utf8_lossy(&body[..body.len().min(60)])
        );
        assert_error(node.post(path, content_type, &body), want, needle, &what);
        assert_unharmed(node, &before, &what);
    }
}

#[test]
fn malformed_and_truncated_json_is_refused_naming_the_line() {
    let mut node = Node::standalone();
    let good = clef("");
    let cases = vec![
        ("/ingest/clef", CLEF, b"{".to_vec(), 400, "line 1"),
        ("/ingest/clef", CLEF, b"}{".to_vec(), 400, "malformed json"),
        (
            "/ingest/clef",
            CLEF,
            b"\"\\u12".to_vec(),
            400,
            "malformed json",
        ),
        (
            "/ingest/clef",
            CLEF,
            format!("{good}\n{good}\n{{\"@t\":\"2025").into_bytes(),
            400,
            "line 3",
        ),
        (
            "/ingest/clef",
            CLEF,
            format!("{good}\r\n[{good}]").into_bytes(),
            400,
            "line 2: not a json object",
        ),
        ("/api/events/raw", JSON, b"".to_vec(), 400, "malformed json"),
        ("/api/events/raw", JSON, b"null".to_vec(), 400, "Events"),
        (
            "/api/events/raw",
            JSON,
            b"{\"Events\":5}".to_vec(),
            400,
            "Events",
        ),
        (
            "/api/events/raw",
            JSON,
            b"{\"Events\":[1]}".to_vec(),
            400,
            "event 0",
        ),
        (
            "/api/events/raw",
            JSON,
            {
                let body = legacy("");
                body.as_bytes()[..body.len() - 4].to_vec()
            },
            400,
            "EOF",
        ),
        (
            "/api/events/raw",
            JSON,
            format!(
                "{{\"Events\":[{},{{\"Timestamp\":\"not a time\"}}]}}",
                legacy_event("")
            )
            .into_bytes(),
            400,
            "event 1",
        ),
        (
            "/api/events/raw",
            JSON,
            (0..=255u8).collect(),
            400,
            "invalid",
        ),
    ];
    refuse_all(&mut node, cases);
}

/// Sends a request head and a body produced chunk by chunk from a writer
/// thread while this thread reads the answer, as a client that ignores an
/// early answer would. Returns the status, the body and how long the answer
/// took.
fn send_streaming(
    port: u16,
    head: String,
    chunks: impl Iterator<Item = Vec<u8>> + Send + 'static,
) -> (u16, String, Duration) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let mut writer = stream.try_clone().unwrap();
    writer
        .set_write_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let started = Instant::now();
    std::thread::spawn(move || {
        if writer.write_all(head.as_bytes()).is_err() {
            return;
        }
        for chunk in chunks {
            if writer.write_all(&chunk).is_err() {
                return; // the server answered and closed: expected
            }
        }
    });
    let mut raw = Vec::new();
    let mut buf = [0u8; 16384];
    // Read until the server closes or the answer is complete.
    loop {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => raw.extend_from_slice(&buf[..n]),
        }
        if let Some((status, body)) = complete_response(&raw) {
            return (status, body, started.elapsed());
        }
    }
    let (status, body) = complete_response(&raw).unwrap_or((0, String::new()));
    (status, body, started.elapsed())
}

/// A complete `Content-Length` response in `raw`, if there is one.
fn complete_response(raw: &[u8]) -> Option<(u16, String)> {
    let text = String::from_utf8_lossy(raw);
    let (head, body) = text.split_once("\r\n\r\n")?;
    let status = head.split(' ').nth(1)?.parse().ok()?;
    let length: usize = head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.eq_ignore_ascii_case("content-length")
            .then(|| v.trim().parse().ok())?
    })?;
    (body.len() >= length).then(|| (status, body[..length].to_owned()))
}

/// `n` MiB of one byte, as 1 MiB chunks.
fn mebibytes(n: usize, byte: u8) -> impl Iterator<Item = Vec<u8>> + Send {
    (0..n).map(move |_| vec![byte; 1 << 20])
}

#[test]
fn a_100_mb_body_gets_413_quickly_and_the_node_stays_up() {
    let mut node = Node::standalone();
    let before = generation(&node);
    let prefix = format!("{{\"Events\":[{{\"Timestamp\":{T},\"MessageTemplate\":\"");
    let total = prefix.len() + (100 << 20) + 4;

    // With a Content-Length of 100 MB.
    let head = format!(
        "POST /api/events/raw HTTP/1.1\r\nHost: x\r\nContent-Type: {JSON}\r\nContent-Length: {total}\r\nConnection: close\r\n\r\n"
    );
    let chunks = std::iter::once(prefix.clone().into_bytes())
        .chain(mebibytes(100, b'a'))
        .chain(std::iter::once(b"\"}]}".to_vec()));
    let (status, body, took) = send_streaming(node.api, head, chunks);
    assert_error((status, body), 413, "limit", "100 MB body");
    assert!(took < Duration::from_secs(15), "413 took {took:?}");
    assert_unharmed(&mut node, &before, "a 100 MB body");

    // Chunked, with no length announced: the limit still stops it.
    let head = format!(
        "POST /ingest/clef HTTP/1.1\r\nHost: x\r\nContent-Type: {CLEF}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    let chunks = mebibytes(100, b' ').map(|c| {
        let mut framed = format!("{:x}\r\n", c.len()).into_bytes();
        framed.extend_from_slice(&c);
        framed.extend_from_slice(b"\r\n");
        framed
    });
    let (status, body, took) = send_streaming(node.api, head, chunks);
    assert_error((status, body), 413, "limit", "100 MB chunked body");
    assert!(took < Duration::from_secs(15), "413 took {took:?}");
    assert_unharmed(&mut node, &before, "a 100 MB chunked body");

    // And it serves a normal client right after.
    let ok = node.post("/ingest/clef", CLEF, clef("").as_bytes());
    assert_eq!(ok.0, 201, "{ok:?}");
}

#[test]
fn a_single_event_just_under_the_per_event_limit_is_stored_and_just_over_is_refused() {
    // Decision: the per-event limit is the parser's 1 MiB
    // (`ParseLimits::max_event_bytes`), well above the clients' own 256 KB
    // cap; an event over it is a bad payload (400 naming the limit), not a
    // body over the payload limit (413).
    let mut node = Node::standalone();
    // Events of exactly `size` bytes of JSON text, CLEF and legacy.
    let clef_of = |size: usize| {
        let fill = "x".repeat(size - clef(",\"Big\":\"\"").len());
        clef(&format!(",\"Big\":\"{fill}\""))
    };
    let legacy_of = |size: usize| {
        let empty = legacy_event(",\"Properties\":{\"Big\":\"\"}").len();
        let fill = "x".repeat(size - empty);
        format!(
            "{{\"Events\":[{}]}}",
            legacy_event(&format!(",\"Properties\":{{\"Big\":\"{fill}\"}}"))
        )
    };
    refuse_all(
        &mut node,
        vec![
            (
                "/ingest/clef",
                CLEF,
                clef_of(EVENT_LIMIT + 1).into_bytes(),
                400,
                "larger than the limit",
            ),
            (
                "/api/events/raw",
                JSON,
                legacy_of(EVENT_LIMIT + 1).into_bytes(),
                400,
                "larger than the limit",
            ),
        ],
    );
    for (path, body) in [
        ("/ingest/clef", clef_of(EVENT_LIMIT - 16)),
        ("/api/events/raw?clef", clef_of(EVENT_LIMIT)),
        ("/api/events/raw", legacy_of(EVENT_LIMIT - 16)),
    ] {
        let (status, answer) = node.post(path, JSON, body.as_bytes());
        assert_eq!(status, 201, "{path}, {} bytes: {answer}", body.len());
    }
    let (_, metrics) = node.get("/metrics");
    assert!(
        metrics.contains("\nskein_ingested_events_total 3\n"),
        "{metrics}"
    );
}

#[test]
fn invalid_utf8_is_refused() {
    let mut node = Node::standalone();
    let bad = |bytes: &[u8]| with_bytes(&clef(",\"A\":\"x@@y\""), bytes);
    let two_lines = [clef("").as_bytes(), b"\r\n", &bad(b"\xe2\x82")].concat();
    refuse_all(
        &mut node,
        vec![
            ("/ingest/clef", CLEF, bad(b"\xff\xfe"), 400, "utf-8"),
            // An overlong encoding of '/', and an encoded UTF-16 surrogate.
            ("/ingest/clef", CLEF, bad(b"\xc0\xaf"), 400, "utf-8"),
            ("/ingest/clef", CLEF, bad(b"\xed\xa0\x80"), 400, "utf-8"),
            // A euro sign cut short, on the second line.
            ("/ingest/clef", CLEF, two_lines, 400, "line 2"),
            (
                "/api/events/raw",
                JSON,
                with_bytes(&legacy(",\"Properties\":{\"A\":\"@@\"}"), b"\x80"),
                400,
                "utf-8",
            ),
            // Invalid UTF-8 in a property name.
            (
                "/ingest/clef",
                CLEF,
                with_bytes(&clef(",\"@@\":1"), b"\xfe"),
                400,
                "utf-8",
            ),
        ],
    );
    // A request line that is not UTF-8 never reaches a handler.
    let before = generation(&node);
    let (status, _) = request(node.api, "POST", "/ingest/clef?\u{ff}", &[], b"{}");
    assert_eq!(status, 400);
    assert_unharmed(&mut node, &before, "a non-ASCII request line");
}

#[test]
fn deep_nesting_is_refused_without_exhausting_the_stack() {
    let mut node = Node::standalone();
    let n = 100_000;
    let arrays = format!("{}{}", "[".repeat(n), "]".repeat(n));
    let objects = format!("{}1{}", "{\"a\":".repeat(n), "}".repeat(n));
    refuse_all(
        &mut node,
        vec![
            (
                "/ingest/clef",
                CLEF,
                clef(&format!(",\"A\":{arrays}")).into_bytes(),
                400,
                "line 1",
            ),
            (
                "/ingest/clef",
                CLEF,
                clef(&format!(",\"A\":{objects}")).into_bytes(),
                400,
                "line 1",
            ),
            (
                "/ingest/clef",
                CLEF,
                format!(
                    "{}\n{}",
                    clef(""),
                    clef(&format!(",\"A\":{}", "[".repeat(1 << 20)))
                )
                .into_bytes(),
                400,
                "line 2",
            ),
            (
                "/api/events/raw",
                JSON,
                legacy(&format!(",\"Properties\":{{\"A\":{objects}}}")).into_bytes(),
                400,
                "nesting deeper than",
            ),
            (
                "/api/events/raw",
                JSON,
                format!("{{\"Events\":{arrays}}}").into_bytes(),
                400,
                "invalid payload",
            ),
            (
                "/api/events/raw",
                JSON,
                // Just over the limit of 64 levels (the event is level 1).
                legacy(&format!(
                    ",\"Properties\":{{\"A\":{}{}}}",
                    "[".repeat(63),
                    "]".repeat(63)
                ))
                .into_bytes(),
                400,
                "nesting deeper than 64",
            ),
        ],
    );
}

#[test]
fn a_wrong_content_type_is_a_clear_400() {
    let mut node = Node::standalone();
    let line = clef("");
    let multipart =
        format!("--b\r\nContent-Disposition: form-data; name=\"f\"\r\n\r\n{line}\r\n--b--\r\n");
    refuse_all(
        &mut node,
        vec![
            // CLEF sent to the legacy endpoint without saying so.
            (
                "/api/events/raw",
                "text/plain",
                line.clone().into_bytes(),
                400,
                "Events",
            ),
            (
                "/api/events/raw",
                "application/xml",
                b"<Events><Event/></Events>".to_vec(),
                400,
                "malformed json",
            ),
            (
                "/api/events/raw",
                "multipart/form-data; boundary=b",
                multipart.into_bytes(),
                400,
                "malformed json",
            ),
            (
                "/api/events/raw",
                "application/x-www-form-urlencoded",
                b"Events=1&x=2".to_vec(),
                400,
                "malformed json",
            ),
            // A legacy body under the CLEF content type is read as CLEF.
            ("/api/events/raw", CLEF, legacy("").into_bytes(), 400, "@t"),
            ("/ingest/clef", JSON, legacy("").into_bytes(), 400, "@t"),
        ],
    );
    // A content type that is not a header value at all never reaches a handler.
    let before = generation(&node);
    let (status, _) = request(
        node.api,
        "POST",
        "/api/events/raw",
        &[("Content-Type", "a\u{1}b")],
        legacy("").as_bytes(),
    );
    assert_eq!(status, 400);
    assert_unharmed(&mut node, &before, "a control character in Content-Type");
}

/// `gzip -c` of `input_len` zero bytes (the machine's gzip, in Debian's base).
fn gzip_zeros(input_len: usize) -> Vec<u8> {
    let mut child = Command::new("gzip")
        .args(["-c", "-9"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("gzip");
    let mut stdin = child.stdin.take().unwrap();
    let feeder = std::thread::spawn(move || {
        let chunk = vec![0u8; 1 << 20];
        let mut left = input_len;
        while left > 0 {
            let n = left.min(chunk.len());
            stdin.write_all(&chunk[..n]).unwrap();
            left -= n;
        }
    });
    let out = child.wait_with_output().unwrap();
    feeder.join().unwrap();
    assert!(out.status.success());
    out.stdout
}

fn gzip_bytes(data: &[u8]) -> Vec<u8> {
    let mut child = Command::new("gzip")
        .arg("-c")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("gzip");
    child.stdin.take().unwrap().write_all(data).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    out.stdout
}

#[test]
fn a_gzip_bomb_stops_at_the_payload_limit() {
    let mut node = Node::standalone();
    let before = generation(&node);
    let bomb = gzip_zeros(100 << 20);
    assert!(
        bomb.len() < PAYLOAD_LIMIT / 4,
        "the compressed body ({} bytes) is well under the limit",
        bomb.len()
    );
    let port = node.api;
    let gz = |body: &[u8]| {
        let started = Instant::now();
        let answer = request(
            port,
            "POST",
            "/ingest/clef",
            &[("Content-Type", CLEF), ("Content-Encoding", "gzip")],
            body,
        );
        (answer, started.elapsed())
    };
    let (answer, took) = gz(&bomb);
    assert_error(
        answer,
        413,
        "limit",
        "a 100 MiB gzip bomb (~100 KB on the wire)",
    );
    assert!(took < Duration::from_secs(15), "413 took {took:?}");
    assert_unharmed(&mut node, &before, "a gzip bomb");

    // Not gzip at all, and gzip cut short: bad requests, not crashes.
    let line = clef("");
    let (answer, _) = gz(line.as_bytes());
    assert_error(answer, 400, "gzip", "a plain body labelled gzip");
    let good = gzip_bytes(line.as_bytes());
    let (answer, _) = gz(&good[..good.len() - 6]);
    assert_error(answer, 400, "request body", "truncated gzip");
    assert_unharmed(&mut node, &before, "broken gzip bodies");

    // An encoding the node does not decode is refused, not read as plain
    // text (actix would pass it through undecoded).
    for encoding in ["br", "zstd", "x-gzip", "gzip, gzip", "\u{ff}"] {
        let answer = request(
            port,
            "POST",
            "/ingest/clef",
            &[("Content-Type", CLEF), ("Content-Encoding", encoding)],
            line.as_bytes(),
        );
        let what = format!("Content-Encoding {encoding:?}");
        assert_error(answer, 415, "Content-Encoding", &what);
        assert_unharmed(&mut node, &before, &what);
    }

    // The control: a real gzip body is decoded and stored.
    let (answer, _) = gz(&good);
    assert_eq!(answer.0, 201, "{answer:?}");
    assert_ne!(generation(&node), before);
}

#[test]
fn a_wrong_api_key_is_refused_when_keys_are_required() {
    use skein_actors::metastore::{setting_names, Metastore};
    let mut node = Node::standalone();
    let created = node.run(&["apikey", "create", "--title", "Ingest", "--ingest"]);
    let reader = node.run(&["apikey", "create", "--title", "Reader", "--read"]);
    let token = |out: &std::process::Output| {
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        text.lines()
            .find_map(|l| l.strip_prefix("token: "))
            .unwrap_or_else(|| panic!("no token in {text}"))
            .to_owned()
    };
    let (ingest_key, read_key) = (token(&created), token(&reader));
    // No CLI or API sets `ingestion.requireApiKey` yet: set it in the
    // metastore the node uses, then restart so it is read afresh.
    let url = Metastore::sqlite_url(&node.root().join("Metastore/metastore.db"));
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            let ms = Metastore::open(&url).await.unwrap();
            ms.set_setting(setting_names::REQUIRE_API_KEY_FOR_INGESTION, &true.into())
                .await
                .unwrap();
        });
    node.restart();
    let before = generation(&node);
    let body = clef("");
    let port = node.api;
    let post = |path: &str, headers: &[(&str, &str)]| {
        let mut all = vec![("Content-Type", CLEF)];
        all.extend_from_slice(headers);
        request(port, "POST", path, &all, body.as_bytes())
    };
    let wrong = "0123456789abcdef0123456789abcdef";
    let long_key = "k".repeat(8000);
    type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, u16, &'a str);
    let cases: Vec<Case> = vec![
        ("/ingest/clef", vec![], 401, "API key is required"),
        (
            "/ingest/clef",
            vec![("X-Seq-ApiKey", "null")],
            401,
            "API key",
        ),
        (
            "/ingest/clef",
            vec![("X-Seq-ApiKey", wrong)],
            401,
            "API key",
        ),
        (
            "/ingest/clef",
            vec![("X-Seq-ApiKey", "\u{ff}\u{fe}")],
            401,
            "API key",
        ),
        (
            "/ingest/clef",
            vec![("X-Seq-ApiKey", &long_key)],
            401,
            "API key",
        ),
        ("/api/events/raw?clef&apiKey=nope", vec![], 401, "API key"),
        ("/api/events/raw?clef&apiKey=%FF%00", vec![], 401, "API key"),
        (
            "/ingest/clef",
            vec![("X-Seq-ApiKey", &read_key)],
            403,
            "Ingest permission",
        ),
    ];
    for (path, headers, want, needle) in cases {
        let what = format!("POST {path} with {:?}", &headers);
        assert_error(post(path, &headers), want, needle, &what);
        assert_unharmed(&mut node, &before, &what);
    }
    // The control: the right key, by header and by query string.
    let ok = post("/ingest/clef", &[("X-Seq-ApiKey", &ingest_key)]);
    assert_eq!(ok.0, 201, "{ok:?}");
    let ok = post(&format!("/ingest/clef?apiKey={ingest_key}"), &[]);
    assert_eq!(ok.0, 201, "{ok:?}");
}

/// A connection that sends its request head (or part of it) and then one
/// byte a second. Returns the status it was answered with (0 for a close
/// without an answer) and when.
fn slow_loris(port: u16, head: &'static str, done: Arc<AtomicBool>) -> (u16, String, Duration) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let mut writer = stream.try_clone().unwrap();
    let started = Instant::now();
    let answered = Arc::new(AtomicBool::new(false));
    let stop = answered.clone();
    let trickler = std::thread::spawn(move || {
        if writer.write_all(head.as_bytes()).is_err() {
            return;
        }
        // At most 45 bytes, one a second, until answered.
        for _ in 0..45 {
            for _ in 0..10 {
                if stop.load(Ordering::SeqCst) {
                    return;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            if writer.write_all(b" ").is_err() {
                return;
            }
        }
    });
    let mut raw = Vec::new();
    let mut buf = [0u8; 4096];
    // Until the answer is complete or the server closes.
    while complete_response(&raw).is_none() {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => raw.extend_from_slice(&buf[..n]),
        }
    }
    let took = started.elapsed();
    answered.store(true, Ordering::SeqCst);
    trickler.join().unwrap();
    done.store(true, Ordering::SeqCst);
    let (status, body) = complete_response(&raw).unwrap_or_else(|| {
        let text = String::from_utf8_lossy(&raw);
        let status = text
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        (status, String::new())
    });
    (status, body, took)
}

#[test]
fn slow_loris_uploads_are_cut_off_while_other_clients_are_served() {
    let mut node = Node::standalone();
    let before = generation(&node);
    let body_head: &'static str = "POST /ingest/clef HTTP/1.1\r\nHost: x\r\nContent-Type: application/vnd.serilog.clef\r\nContent-Length: 100000\r\n\r\n";
    let header_head: &'static str = "POST /ingest/clef HTTP/1.1\r\nHost: x\r\nX-Slow: ";
    let mut lorises = Vec::new();
    for i in 0..24 {
        let head = if i % 4 == 0 { header_head } else { body_head };
        let done = Arc::new(AtomicBool::new(false));
        let port = node.api;
        let flag = done.clone();
        lorises.push((
            head == body_head,
            done,
            std::thread::spawn(move || slow_loris(port, head, flag)),
        ));
    }
    // Meanwhile other clients are served, promptly, again and again.
    let started = Instant::now();
    let mut served = 0;
    while lorises
        .iter()
        .any(|(_, done, _)| !done.load(Ordering::SeqCst))
    {
        assert!(
            started.elapsed() < Duration::from_secs(45),
            "slow uploads still open after 45 s"
        );
        let t = Instant::now();
        assert_eq!(node.get("/health").0, 200);
        let (status, body) = node.get("/api/events?count=1");
        assert_eq!((status, body.as_str()), (200, "[]"));
        assert_error(
            node.post("/ingest/clef", CLEF, b"{nope"),
            400,
            "line 1",
            "a bad body during the slow uploads",
        );
        assert!(
            t.elapsed() < Duration::from_secs(5),
            "three requests took {:?} while slow uploads were open",
            t.elapsed()
        );
        served += 1;
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(served >= 10, "only {served} rounds served");
    for (trickles_body, _, handle) in lorises {
        let (status, body, took) = handle.join().unwrap();
        if trickles_body {
            // The handler's body timeout (src/api/ingest.rs BODY_TIMEOUT).
            assert_error(
                (status, body),
                408,
                "took longer than",
                "a body trickling a byte a second",
            );
            assert!(took < Duration::from_secs(40), "cut off after {took:?}");
        } else {
            // actix's request-head timeout (5 s): 408 with an empty body.
            assert_eq!(status, 408, "head trickle: {body}");
            assert!(took < Duration::from_secs(15), "cut off after {took:?}");
        }
    }
    assert_unharmed(&mut node, &before, "slow uploads");
}

#[test]
fn pathological_filters_are_refused_clearly() {
    let mut node = Node::standalone();
    // Something to search, with a long text for the matchers to chew on.
    let long = "a".repeat(50_000) + "b";
    let (status, body) = node.post(
        "/ingest/clef",
        CLEF,
        clef(&format!(",\"Q\":\"{long}\"")).as_bytes(),
    );
    assert_eq!(status, 201, "{body}");
    let before = generation(&node);
    let port = node.api;
    let search = |filter: &str| {
        let path = format!(
            "/api/events?count=5&filter={}",
            url::form_urlencoded::byte_serialize(filter.as_bytes()).collect::<String>()
        );
        let started = Instant::now();
        let answer = request(port, "GET", &path, &[], b"");
        (answer, started.elapsed())
    };
    let n = 10_000;
    let cases: Vec<(String, &str)> = vec![
        (
            format!("{}A = 1{}", "(".repeat(n), ")".repeat(n)),
            "nested too deeply",
        ),
        ("(".repeat(n), "filter"),
        (format!("{}A = 1", "not ".repeat(n)), "nested too deeply"),
        (format!("{}1 = 1", "-".repeat(n)), "nested too deeply"),
        // (`[0]` URL-encodes to 7 bytes: fewer, so the request line fits.)
        (format!("A{} = 1", "[0]".repeat(n / 2)), "too long"),
        (
            format!(
                "Length({}'x'{}) = 1",
                "ToLower(".repeat(n / 10),
                ")".repeat(n / 10)
            ),
            "nested too deeply",
        ),
        ("A = 'unterminated".to_owned(), "filter"),
        ("A = /(/".to_owned(), "filter"),
        (
            format!("NoSuchFunction({})", "1,".repeat(n) + "1"),
            "filter",
        ),
    ];
    for (filter, needle) in cases {
        let what = format!(
            "filter {:?}… ({} bytes)",
            &filter[..filter.len().min(40)],
            filter.len()
        );
        let (answer, took) = search(&filter);
        assert_error(answer, 400, needle, &what);
        assert!(took < Duration::from_secs(10), "{what} took {took:?}");
        assert_unharmed(&mut node, &before, &what);
    }

    // Expensive but valid filters answer, and in bounded time.
    for filter in [
        format!("Q like '{}%ab%a'", "%a".repeat(500)),
        format!("Q like '{}'", "%?".repeat(2000)),
        "Q = /(a|a)*c/".to_owned(),
        format!("A = 1{}", " or A = 1".repeat(2000)),
    ] {
        let what = format!("filter {:?}…", &filter[..filter.len().min(40)]);
        let ((status, body), took) = search(&filter);
        assert_eq!(status, 200, "{what}: {body}");
        assert!(took < Duration::from_secs(10), "{what} took {took:?}");
    }
    assert_unharmed(&mut node, &before, "expensive filters");

    // A 1 MB filter cannot even be a request line: actix refuses the head
    // (431, empty body) before any handler runs, at once.
    let (answer, took) = search(&"A = 1 or ".repeat(120_000));
    assert!(
        [400, 414, 431].contains(&answer.0),
        "1 MB filter: {answer:?}"
    );
    assert!(took < Duration::from_secs(5), "1 MB filter took {took:?}");
    assert_unharmed(&mut node, &before, "a 1 MB filter");

    // Absurd counts are refused too.
    for count in ["-1", "99999999999999999999", "1e9", "ten"] {
        let (status, body) = node.get(&format!("/api/events?count={count}"));
        assert_error((status, body), 400, "count", &format!("count={count}"));
    }
    assert_unharmed(&mut node, &before, "absurd counts");
}
