//! The OpenAPI document a node publishes at `/api/openapi.json`, checked by
//! outside tools — `openapi-spec-validator` and a bounded, seeded
//! schemathesis run against a real node with `auth.required` on — and the
//! server bugs those runs found, each pinned by a test named after it.
//!
//! The tools come from `SKEIN_OPENAPI_PYTHON`, a Python with
//! `tests/openapi/requirements.txt` installed (tests/run-all.sh sets it up);
//! without it these tests fail, they never skip.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;
use skein_harness::{request, Node};

/// The Python with the OpenAPI tools.
fn python() -> String {
    std::env::var("SKEIN_OPENAPI_PYTHON").unwrap_or_else(|_| {
        panic!(
            "SKEIN_OPENAPI_PYTHON is not set: run tests/run-all.sh, or point it at a Python \
             with tests/openapi/requirements.txt installed"
        )
    })
}

/// Runs `python args…` in `dir`, failing clearly when a tool is missing.
fn run_python(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let python = python();
    let out = Command::new(&python)
        .args(args)
        .envs(env.iter().copied())
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {python}: {e}"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("ModuleNotFoundError"),
        "{python} lacks a tool: pip install -r tests/openapi/requirements.txt\n{stderr}"
    );
    out
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn the_published_document_is_valid_openapi() {
    let node = Node::standalone();
    let (status, doc) = node.get("/api/openapi.json");
    assert_eq!(status, 200, "{doc}");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("openapi.json"), &doc).unwrap();
    let out = run_python(
        dir.path(),
        &["-m", "openapi_spec_validator", "openapi.json"],
        &[],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("OK"), "{}", text(&out));
}

/// Schemathesis with every check but `positive_data_acceptance` (filters,
/// queries and timestamps have rules a schema cannot state, so a
/// schema-valid request may rightly get 400): 10 examples per operation,
/// seed 1, no example database, so every run sends the same requests.
/// `SKEIN_SCHEMATHESIS_EXAMPLES` and `SKEIN_SCHEMATHESIS_SEED` change both
/// (tests/campaign.sh runs it longer).
#[test]
fn schemathesis_finds_nothing_against_a_secured_node() {
    let setting =
        |name: &str, default: &str| std::env::var(name).unwrap_or_else(|_| default.into());
    let (examples, seed) = (
        setting("SKEIN_SCHEMATHESIS_EXAMPLES", "10"),
        setting("SKEIN_SCHEMATHESIS_SEED", "1"),
    );
    let (mut node, key) = Node::secured();
    let hooks = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/openapi");
    let dir = tempfile::tempdir().unwrap();
    let url = format!("{}/api/openapi.json", node.url());
    let header = format!("X-Seq-ApiKey: {key}");
    let started = std::time::Instant::now();
    let out = run_python(
        dir.path(),
        &[
            "-c",
            "import sys; from schemathesis.cli import schemathesis; \
             sys.argv[0] = 'schemathesis'; sys.exit(schemathesis())",
            "run",
            &url,
            "--max-examples",
            &examples,
            "--seed",
            &seed,
            "--generation-database",
            "none",
            "--no-color",
            "--header",
            &header,
            "--exclude-checks",
            "positive_data_acceptance",
        ],
        &[
            ("SCHEMATHESIS_HOOKS", "hooks"),
            ("PYTHONPATH", hooks.to_str().unwrap()),
        ],
    );
    let summary = text(&out);
    let cases = summary.lines().find(|l| l.contains(" generated, "));
    eprintln!("schemathesis ran for {:?}: {cases:?}", started.elapsed());
    assert!(
        out.status.success(),
        "schemathesis found failures:\n{summary}\nnode log:\n{}",
        node.log()
    );
    // It reached the operations (a run that cannot load the document or
    // tests nothing must not pass).
    assert!(
        cases.is_some_and(|l| !l.trim().starts_with("0 ")),
        "{summary}"
    );
    assert!(node.is_running(), "the node died:\n{}", node.log());
    assert!(!node.log().contains("panicked"), "{}", node.log());
}

/// The JSON error body of an answer, or a failure naming the answer.
fn error_of(status: u16, body: &str) -> String {
    let v: Value = serde_json::from_str(body)
        .unwrap_or_else(|e| panic!("{status}: not a JSON error body ({e}): {body}"));
    v["Error"]
        .as_str()
        .unwrap_or_else(|| panic!("{body}"))
        .to_owned()
}

/// Found by the route fuzz: `POST /api/cluster/demote?force=maybe` answered
/// 400 with actix's plain-text "Query deserialize error" instead of the
/// API's `{"Error": …}`.
#[test]
fn a_malformed_query_string_answers_a_json_400_not_plain_text() {
    let (node, key) = Node::secured();
    let (status, body) = request(
        node.api,
        "POST",
        "/api/cluster/demote?force=maybe",
        &[("X-Seq-ApiKey", &key)],
        b"",
    );
    assert_eq!(status, 400, "{body}");
    assert!(error_of(status, &body).contains("query string"), "{body}");
}

/// Found by schemathesis (`unsupported_method`): a method a route does not
/// have answered 404 with authentication off and 403 ("no permission
/// entry") with it on, where HTTP wants 405 with `Allow`; and by the route
/// fuzz: the UI's `/` and `/ui/{file}` answered 405 with an empty body.
#[test]
fn a_method_a_route_lacks_answers_405_with_allow() {
    let (node, key) = Node::secured();
    for (method, path, allow) in [
        ("TRACE", "/api", "GET"),
        ("POST", "/", "GET"),
        ("DELETE", "/ui/app.js", "GET"),
        ("DELETE", "/health", "GET"),
        ("PATCH", "/api/events/raw", "POST"),
        ("POST", "/api/signals/signal-1", "GET, PUT, DELETE"),
    ] {
        for headers in [vec![], vec![("X-Seq-ApiKey", key.as_str())]] {
            let (status, body) = request(node.api, method, path, &headers, b"");
            assert_eq!(status, 405, "{method} {path}: {body}");
            assert!(error_of(status, &body).contains(allow), "{body}");
        }
    }
    let (status, body) = node.get("/no/such/route");
    assert_eq!(status, 404, "{body}");
}

/// Found by schemathesis (`negative_data_rejection`): `render=null`, not a
/// boolean, was taken as false; a flag is now `true`/`1`/empty or
/// `false`/`0`, and anything else is refused.
#[test]
fn a_flag_that_is_neither_true_nor_false_is_refused() {
    let (node, key) = Node::secured();
    let get = |path: &str| request(node.api, "GET", path, &[("X-Seq-ApiKey", &key)], b"");
    for ok in [
        "render",
        "render=",
        "render=1",
        "render=TRUE",
        "render=0",
        "clef=false",
    ] {
        let (status, body) = get(&format!("/api/events?{ok}"));
        assert_eq!(status, 200, "{ok}: {body}");
    }
    for bad in ["render=null", "clef=yes"] {
        let (status, body) = get(&format!("/api/events?{bad}"));
        assert_eq!(status, 400, "{bad}: {body}");
        assert!(error_of(status, &body).contains("is not true or false"));
    }
}
