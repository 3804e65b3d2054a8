//! Compatibility with the real Seq client libraries, installed the way their
//! users install them: `seq-logging` and `pino-seq` from npm
//! (`tests/compat/node`), `seqlog` from PyPI (`tests/compat/python`), in its
//! default legacy-JSON mode and with `use_clef=True`.
//!
//! Each test starts a real node, runs one client script against it with a
//! unique marker, waits for the script to exit (the scripts flush and exit
//! non-zero if the server refused anything), then checks that the node
//! counted and stored every event and that `GET /api/events?filter=…` returns
//! them with the level as sent, the message, typed properties (numbers,
//! nested objects) and the exception.
//!
//! The client libraries are installed outside the Rust test, by
//! `tests/run-all.sh` (`npm ci`, `pip install -r requirements.txt` into
//! `target/compat-venv`), which exports:
//! - `SKEIN_COMPAT_NODE_DIR`: `tests/compat/node` with its `node_modules`;
//! - `SKEIN_COMPAT_NODE`: the `node` binary (default `node` on `PATH`);
//! - `SKEIN_COMPAT_PYTHON`: a Python with `seqlog` installed.
//!
//! Without the variables the tests use those default places when the install
//! is there (after one run of `tests/run-all.sh`), and otherwise FAIL with a
//! message saying to run `tests/run-all.sh`: a compatibility test that did
//! not run must never count as passed.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};
use skein_harness::Node;

/// The longest a client script may run (they finish in about a second).
const SCRIPT_LIMIT: Duration = Duration::from_secs(90);

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn setup_hint(what: &str) -> String {
    format!(
        "{what}: the compatibility tests need the real client libraries; run \
         tests/run-all.sh (it installs them with npm ci / pip and exports \
         SKEIN_COMPAT_NODE_DIR, SKEIN_COMPAT_NODE, SKEIN_COMPAT_PYTHON)"
    )
}

/// The folder holding `log.mjs` and its installed `node_modules`.
fn node_dir() -> PathBuf {
    let dir = std::env::var_os("SKEIN_COMPAT_NODE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("tests/compat/node"));
    for needed in [
        "log.mjs",
        "node_modules/seq-logging",
        "node_modules/pino-seq",
    ] {
        assert!(
            dir.join(needed).exists(),
            "{}",
            setup_hint(&format!("{} is missing", dir.join(needed).display()))
        );
    }
    dir
}

/// A Python interpreter that can import `seqlog`.
fn python() -> PathBuf {
    let python = std::env::var_os("SKEIN_COMPAT_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("target/compat-venv/bin/python"));
    let ok = Command::new(&python)
        .args(["-c", "import seqlog"])
        .stdin(Stdio::null())
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "{}",
        setup_hint(&format!("{} cannot import seqlog", python.display()))
    );
    python
}

/// A marker no other test or run shares.
fn marker(tag: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{tag}{}x{nanos}", std::process::id())
}

/// Runs a client script to completion (bounded) and returns its output;
/// panics with its stdout and stderr if it fails.
fn run_client(mut cmd: Command, node: &Node) -> String {
    let dir = tempfile::tempdir().unwrap();
    let (out, err) = (dir.path().join("out"), dir.path().join("err"));
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out).unwrap())
        .stderr(std::fs::File::create(&err).unwrap())
        .spawn()
        .unwrap_or_else(|e| panic!("{}", setup_hint(&format!("cannot start {cmd:?}: {e}"))));
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if start.elapsed() > SCRIPT_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let stdout = std::fs::read_to_string(&out).unwrap_or_default();
    let stderr = std::fs::read_to_string(&err).unwrap_or_default();
    match status {
        Some(s) if s.success() => stdout,
        other => panic!(
            "client {cmd:?} ended with {other:?} (None = killed after {SCRIPT_LIMIT:?})\n\
             stdout:\n{stdout}\nstderr:\n{stderr}\nnode log:\n{}",
            node.log()
        ),
    }
}

/// `skein_ingested_events_total` from `/metrics`.
fn ingested_total(node: &Node) -> u64 {
    let (status, text) = node.get("/metrics");
    assert_eq!(status, 200, "{text}");
    text.lines()
        .find_map(|l| l.strip_prefix("skein_ingested_events_total "))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .unwrap_or_else(|| panic!("no skein_ingested_events_total in:\n{text}")) as u64
}

/// The storage generation `/health` reports.
fn generation(node: &Node) -> String {
    let (status, body) = node.get("/health");
    assert_eq!(status, 200, "{body}");
    let health: Value = serde_json::from_str(&body).unwrap();
    health["generation"].as_str().unwrap().to_owned()
}

/// Events matching `filter`, newest first, rendered.
fn search(node: &Node, filter: &str) -> Vec<Value> {
    let path = format!(
        "/api/events?filter={}&count=100&render=true",
        url::form_urlencoded::byte_serialize(filter.as_bytes()).collect::<String>()
    );
    let (status, body) = node.get(&path);
    assert_eq!(status, 200, "GET {path}: {body}");
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("GET {path}: {e}: {body}"))
}

/// A property of an event entity (`Properties` is a list of name/value pairs).
fn prop<'a>(event: &'a Value, name: &str) -> Option<&'a Value> {
    event["Properties"]
        .as_array()?
        .iter()
        .find(|p| p["Name"] == name)
        .map(|p| &p["Value"])
}

/// What one sent event must look like once stored.
struct Expected {
    level: &'static str,
    client: Option<&'static str>,
    message: String,
    props: Vec<(&'static str, Value)>,
    exception: Option<String>,
}

/// Checks the run: counters, generation, and every event through the API.
fn verify(node: &Node, before: u64, marker: &str, expected: &[Expected]) {
    let stored = ingested_total(node) - before;
    assert_eq!(
        stored,
        expected.len() as u64,
        "skein_ingested_events_total grew by {stored}, the client sent {}",
        expected.len()
    );
    assert_ne!(generation(node), "0.0", "the store's generation advanced");

    let events = search(
        node,
        &format!("Marker = '{marker}' or @Message like '%{marker}%'"),
    );
    let listing = serde_json::to_string_pretty(&events).unwrap();
    assert_eq!(events.len(), expected.len(), "events found:\n{listing}");
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos() as i64;
    for want in expected {
        let found: Vec<&Value> = events
            .iter()
            .filter(|e| e["Level"] == want.level)
            .filter(|e| {
                want.client
                    .is_none_or(|c| prop(e, "Client") == Some(&json!(c)))
            })
            .collect();
        assert_eq!(
            found.len(),
            1,
            "one event at level {} from {:?}:\n{listing}",
            want.level,
            want.client
        );
        let e = found[0];
        let rendered = e["RenderedMessage"].as_str().unwrap_or_default();
        assert!(
            rendered.contains(&want.message),
            "RenderedMessage {rendered:?} should contain {:?}",
            want.message
        );
        for (name, value) in &want.props {
            assert_eq!(prop(e, name), Some(value), "property {name} of {e:#}");
        }
        match &want.exception {
            Some(x) => {
                let got = e["Exception"].as_str().unwrap_or_default();
                assert!(
                    got.contains(x.as_str()),
                    "Exception {got:?} should contain {x:?}"
                );
            }
            None => assert!(e.get("Exception").is_none_or(Value::is_null), "{e:#}"),
        }
        // The event was logged moments ago: its timestamp, whatever offset
        // the client wrote it with, must be now in UTC.
        let ts = e["Timestamp"].as_str().unwrap();
        let t = skein_store::event::parse_timestamp(ts).unwrap().0;
        assert!(
            (now - t).abs() < 300_000_000_000,
            "timestamp {ts} is not within 5 minutes of now"
        );
    }
}

fn number_and_nested_props() -> Vec<(&'static str, Value)> {
    vec![
        ("Count", json!(42)),
        ("Ratio", json!(0.25)),
        (
            "Nested",
            json!({"Region": "eu", "Tags": ["a", "b"], "Inner": {"Depth": 2, "Ok": true}}),
        ),
    ]
}

#[test]
fn seq_logging_and_pino_seq_events_are_stored_and_searchable() {
    let dir = node_dir();
    let node = Node::standalone();
    let before = ingested_total(&node);
    let m = marker("npm");
    let node_bin = std::env::var_os("SKEIN_COMPAT_NODE").unwrap_or_else(|| "node".into());
    let mut cmd = Command::new(node_bin);
    cmd.current_dir(&dir).arg("log.mjs").arg(node.url()).arg(&m);
    let out = run_client(cmd, &node);
    assert!(out.contains("sent 6 events"), "{out}");

    let mut hello = vec![("Marker", json!(m)), ("User", json!("alice"))];
    hello.extend(number_and_nested_props());
    let expected = [
        Expected {
            level: "Information",
            client: Some("seq-logging"),
            message: "hello \"alice\"".into(),
            props: hello,
            exception: None,
        },
        Expected {
            // winston-seq style lowercase level, kept as sent.
            level: "warn",
            client: Some("seq-logging"),
            message: "disk at 91%".into(),
            props: vec![("Percent", json!(91))],
            exception: None,
        },
        Expected {
            level: "Error",
            client: Some("seq-logging"),
            message: "failed".into(),
            props: vec![],
            exception: Some(format!("Error: boom {m}")),
        },
        Expected {
            level: "Information",
            client: Some("pino-seq"),
            message: "info".into(),
            props: vec![
                ("Count", json!(3)),
                ("name", json!("compat")),
                (
                    "Nested",
                    json!({"Region": "eu", "Tags": ["a", "b"], "Inner": {"Depth": 2, "Ok": true}}),
                ),
            ],
            exception: None,
        },
        Expected {
            level: "Warning",
            client: Some("pino-seq"),
            message: "warn".into(),
            props: vec![],
            exception: None,
        },
        Expected {
            level: "Error",
            client: Some("pino-seq"),
            message: "error".into(),
            props: vec![],
            exception: Some(format!("Error: pino boom {m}")),
        },
    ];
    verify(&node, before, &m, &expected);

    // Levels sent as `warn` and `Warning` both filter as warnings.
    let warnings = search(&node, &format!("Marker = '{m}' and @Level = 'Warning'"));
    assert_eq!(warnings.len(), 2, "{warnings:#?}");
}

/// Runs `log.py` in `mode` and checks what seqlog sent.
fn seqlog(mode: &str) {
    let python = python();
    let node = Node::standalone();
    let before = ingested_total(&node);
    let m = marker(mode);
    let mut cmd = Command::new(python);
    cmd.arg(repo().join("tests/compat/python/log.py"))
        .arg(node.url())
        .arg(&m)
        .arg(mode)
        // seqlog writes local time with its offset (legacy: with a space
        // separator): a zone far from UTC proves the offset is applied.
        .env("TZ", "IST-5:30");
    let out = run_client(cmd, &node);
    assert!(out.contains("sent 5 events"), "{out}");

    let client = if mode == "clef" {
        "seqlog-clef"
    } else {
        "seqlog-legacy"
    };
    let mut hello = vec![("Marker", json!(m)), ("User", json!("bob"))];
    hello.extend(number_and_nested_props());
    let expected = [
        Expected {
            // %-style arguments: seqlog renders the message itself (and
            // sends `@r` as an argument array in CLEF, which must be tolerated).
            level: "DEBUG",
            client: None,
            message: format!("Compat {m} positional 5"),
            props: vec![("LoggerName", json!("compat"))],
            exception: None,
        },
        Expected {
            level: "INFO",
            client: Some(client),
            message: "hello \"bob\"".into(),
            props: hello,
            exception: None,
        },
        Expected {
            level: "WARNING",
            client: Some(client),
            message: "disk at 91%".into(),
            props: vec![("Percent", json!(91))],
            exception: None,
        },
        Expected {
            level: "ERROR",
            client: Some(client),
            message: "failed".into(),
            props: vec![],
            exception: Some(format!("ValueError: boom {m}")),
        },
        Expected {
            level: "CRITICAL",
            client: Some(client),
            message: "down".into(),
            props: vec![],
            exception: None,
        },
    ];
    verify(&node, before, &m, &expected);

    // Python's level names map to canonical severities for filtering.
    let severe = search(
        &node,
        &format!("Marker = '{m}' and @Level in ['Error', 'Fatal']"),
    );
    let levels: Vec<&Value> = severe.iter().map(|e| &e["Level"]).collect();
    assert_eq!(levels, [&json!("CRITICAL"), &json!("ERROR")], "{severe:#?}");
    let deep = search(
        &node,
        &format!("Marker = '{m}' and Nested.Inner.Depth = 2 and Count > 40"),
    );
    assert_eq!(deep.len(), 1, "{deep:#?}");
}

#[test]
fn seqlog_legacy_json_events_are_stored_and_searchable() {
    seqlog("legacy");
}

#[test]
fn seqlog_clef_events_are_stored_and_searchable() {
    seqlog("clef");
}
