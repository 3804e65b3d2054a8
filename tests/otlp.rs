//! OpenTelemetry logs in, from the real SDKs, installed the way their users
//! install them: the Python SDK with its OTLP/HTTP protobuf exporter
//! (gzip bodies) from PyPI (`tests/otlp/python`) and the JavaScript SDK's OTLP/HTTP (JSON) log
//! exporter from npm (`tests/otlp/node`).
//!
//! - each SDK's records all arrive (the scripts exit non-zero when an
//!   export failed), searchable by their attributes, their resource's
//!   `service.name` and level, with the exception as `@x` and, from Python,
//!   the trace context as `@tr`/`@sp`; Python's spans arrive through
//!   `/ingest/otlp/v1/traces`, in the same trace as its records;
//! - with `auth.required`, the API key goes in `X-Seq-ApiKey` as for CLEF,
//!   and a wrong key is refused (the exporter reports the failure);
//! - bad input (malformed protobuf or JSON, another content type, a record
//!   without time) gets an OTLP error answer in the request's encoding and
//!   stores nothing.
//!
//! `tests/run-all.sh` installs the SDKs and exports `SKEIN_OTLP_PYTHON` (a
//! Python with the SDK) and `SKEIN_OTLP_NODE_DIR` (`tests/otlp/node` with its
//! `node_modules`); without them the tests FAIL, saying so — an SDK test
//! that did not run never counts as passed.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use serde_json::Value;
use skein_harness::{exchange, wait_for, Node};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn python() -> PathBuf {
    let python = std::env::var_os("SKEIN_OTLP_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("target/otlp-venv/bin/python"));
    assert!(
        python.exists(),
        "{} is missing: the OTLP tests need the OpenTelemetry Python SDK; run tests/run-all.sh \
         (it installs tests/otlp/python/requirements.txt into target/otlp-venv and exports \
         SKEIN_OTLP_PYTHON)",
        python.display()
    );
    python
}

fn node_dir() -> PathBuf {
    let dir = std::env::var_os("SKEIN_OTLP_NODE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("tests/otlp/node"));
    let exporter = dir.join("node_modules/@opentelemetry/exporter-logs-otlp-http");
    assert!(
        exporter.exists(),
        "{} is missing: the OTLP tests need the OpenTelemetry JavaScript SDK; run \
         tests/run-all.sh (npm ci in tests/otlp/node, SKEIN_OTLP_NODE_DIR)",
        exporter.display()
    );
    dir
}

/// Runs one SDK script: (exit success, stderr).
fn send(sdk: &str, node: &Node, key: &str, count: usize, tag: &str) -> (bool, String) {
    let endpoint = format!("{}/ingest/otlp/v1/logs", node.url());
    let count = count.to_string();
    let mut command = match sdk {
        "python" => {
            let mut c = Command::new(python());
            c.arg(repo().join("tests/otlp/python/send_logs.py"));
            c
        }
        _ => {
            let dir = node_dir();
            let mut c = Command::new(std::env::var("SKEIN_UI_NODE").unwrap_or("node".into()));
            c.arg(dir.join("send_logs.mjs")).current_dir(dir);
            c
        }
    };
    let out = command
        .args([endpoint.as_str(), key, &count, tag])
        .output()
        .expect("the SDK script runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn search(node: &Node, filter: &str, key: &str) -> Vec<Value> {
    let q: String = filter
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect();
    let path = format!("/api/events?count=1000&filter={q}");
    let answer = exchange(node.api, "GET", &path, &[("X-Seq-ApiKey", key)], b"");
    assert_eq!(answer.status, 200, "{filter}: {}", answer.body);
    answer.json().as_array().unwrap().clone()
}

fn property<'a>(event: &'a Value, name: &str) -> &'a Value {
    event["Properties"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["Name"] == name)
        .map_or(&Value::Null, |p| &p["Value"])
}

#[test]
fn the_python_and_javascript_sdks_log_to_skein() {
    let node = Node::standalone();
    for (sdk, tag) in [("python", "py"), ("javascript", "js")] {
        let (ok, stderr) = send(sdk, &node, "", 40, tag);
        assert!(
            ok,
            "the {sdk} SDK's export failed: {stderr}\n{}",
            node.log()
        );
        let service = match sdk {
            "python" => "otel-py-py",
            _ => "otel-js-js",
        };
        // Python's two spans come from the same service.
        let spans = if sdk == "python" { 2 } else { 0 };
        let all = search(&node, &format!("service.name = '{service}'"), "");
        assert_eq!(all.len(), 40 + spans, "{sdk}");
        let tagged = search(&node, &format!("Tag = '{tag}' and N >= 0"), "");
        assert_eq!(tagged.len(), 40, "{sdk}");
        let order = search(&node, &format!("Tag = '{tag}' and order.id = 'ORD-7'"), "");
        assert_eq!(order.len(), 1, "{sdk}: {order:?}");
        assert_eq!(property(&order[0], "N"), 7);
        let filter = format!("Tag = '{tag}' and Has(@Exception) and @MessageTemplate <> 'charge'");
        let failed = search(&node, &filter, "");
        assert_eq!(failed.len(), 1, "{sdk}");
        let e = &failed[0];
        assert_eq!(e["Level"], "ERROR", "{sdk}: {e}");
        assert!(
            e["Exception"].as_str().unwrap().contains("card declined"),
            "{sdk}: {e}"
        );
        assert_eq!(
            e["MessageTemplateTokens"][0]["Text"], "Payment failed",
            "{e}"
        );
        let warned = search(&node, &format!("Tag = '{tag}' and @Level = 'Warning'"), "");
        let informed = search(
            &node,
            &format!("Tag = '{tag}' and @Level = 'Information'"),
            "",
        );
        match sdk {
            "python" => {
                assert_eq!(warned.len(), 39);
                assert_eq!(search(&node, "Tag = 'py' and Has(@SpanId)", "").len(), 42);
                spans_and_logs_share_the_trace(&node);
            }
            _ => assert_eq!(informed.len(), 39),
        }
    }
}

/// The Python script's two spans arrived beside its 40 records, in one
/// trace: `@TraceId = '…'` shows them together, the spans shaped as Seq
/// shapes them (start, parent, kind; the failed one an error with its
/// exception).
fn spans_and_logs_share_the_trace(node: &Node) {
    let spans = search(
        node,
        "Tag = 'py' and @MessageTemplate in ['checkout', 'charge']",
        "",
    );
    assert_eq!(spans.len(), 2, "{spans:?}");
    let trace = spans[0]["TraceId"].as_str().unwrap().to_owned();
    assert_eq!(search(node, &format!("@TraceId = '{trace}'"), "").len(), 42);
    let path = format!(
        "/api/events?clef&count=10&filter={}",
        "Tag%20%3D%20%27py%27%20and%20%40MessageTemplate%20%3D%20%27charge%27"
    );
    let (status, clef) = node.get(&path);
    assert_eq!(status, 200, "{clef}");
    let charge: Value = serde_json::from_str(clef.lines().next().unwrap()).unwrap();
    assert_eq!(charge["@l"], "Error", "{charge}");
    assert_eq!(charge["@sk"], "Internal", "{charge}");
    assert!(
        charge["@st"].as_str().unwrap() < charge["@t"].as_str().unwrap(),
        "{charge}"
    );
    assert!(
        charge["@x"].as_str().unwrap().contains("card declined"),
        "{charge}"
    );
    let checkout = spans
        .iter()
        .find(|s| s["MessageTemplateTokens"][0]["Text"] == "checkout");
    let checkout_id = checkout.unwrap()["SpanId"].as_str().unwrap().to_owned();
    assert_eq!(charge["@ps"], checkout_id.as_str(), "{charge}");
}

#[test]
fn the_api_key_goes_in_x_seq_apikey() {
    let (node, key) = Node::secured();
    let (ok, stderr) = send("python", &node, &key, 3, "keyed");
    assert!(ok, "{stderr}");
    assert_eq!(
        search(&node, "Tag = 'keyed'", &key).len(),
        3 + 2,
        "3 records, 2 spans"
    );
    // Seq's semantics: an unknown key is refused once keys are required.
    let set = exchange(
        node.api,
        "PUT",
        "/api/settings/ingestion.requireApiKey",
        &[("X-Seq-ApiKey", &key), ("Content-Type", "application/json")],
        br#"{"Value": true}"#,
    );
    assert_eq!(set.status, 200, "{}", set.body);
    wait_for(Duration::from_secs(10), "keys are required", || {
        let headers = [
            ("X-Seq-ApiKey", "not-a-key"),
            ("Content-Type", "application/json"),
        ];
        let empty = br#"{"resourceLogs":[]}"#;
        exchange(node.api, "POST", "/ingest/otlp/v1/logs", &headers, empty).status == 401
    });
    let (ok, stderr) = send("javascript", &node, "not-a-key", 3, "forged");
    assert!(!ok, "the exporter must report the refusal");
    assert!(
        stderr.contains("export failures") && stderr.contains("Unauthorized"),
        "{stderr}"
    );
    assert_eq!(search(&node, "Tag = 'forged'", &key).len(), 0);
}

#[test]
fn bad_requests_get_otlp_errors_and_store_nothing() {
    let node = Node::standalone();
    let post = |content_type: &str, body: &[u8]| {
        exchange(
            node.api,
            "POST",
            "/ingest/otlp/v1/logs",
            &[("Content-Type", content_type)],
            body,
        )
    };
    let before = node.generation();
    let timeless = r#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[
        {"timeUnixNano":"1735689600000000000","body":{"stringValue":"fine"}},
        {"body":{"stringValue":"no time"}}]}]}]}"#;
    for (content_type, body, status, says) in [
        (
            "application/json",
            &b"{\"resourceLogs\":7}"[..],
            400,
            "not an OTLP",
        ),
        ("application/json", timeless.as_bytes(), 400, "has no time"),
        ("application/x-protobuf", &b"\xff\xff\xff\xff"[..], 400, ""),
        (
            "text/plain",
            &b"hello"[..],
            415,
            "application/x-protobuf or application/json",
        ),
    ] {
        let answer = post(content_type, body);
        assert_eq!(answer.status, status, "{content_type}: {}", answer.body);
        match content_type {
            "application/x-protobuf" => {
                assert_eq!(
                    answer.header("content-type"),
                    Some("application/x-protobuf")
                );
                // google.rpc.Status: field 1 (code) = 3, INVALID_ARGUMENT.
                assert!(
                    answer.body.as_bytes().starts_with(&[0x08, 0x03]),
                    "{:?}",
                    answer.body
                );
            }
            _ => {
                let status: Value = answer.json();
                assert_eq!(status["code"], 3, "{status}");
                assert!(
                    status["message"].as_str().unwrap().contains(says),
                    "{status}"
                );
                assert_eq!(status["Error"], status["message"]);
            }
        }
    }
    assert_eq!(
        node.generation(),
        before,
        "a refused request stored something"
    );
    // A valid empty export is accepted and stores nothing.
    let answer = post("application/json", br#"{"resourceLogs":[]}"#);
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.json(), serde_json::json!({}));
}
