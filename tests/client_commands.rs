//! End-to-end tests of the client commands — `skein ingest`, `skein search`
//! and `skein bench ingest` — against a real `skein run` node.

use skein_harness::{free_port, Node};
use std::path::{Path, PathBuf};
use std::process::Output;

/// A counter from `GET /metrics` (0 when absent).
fn metric(node: &Node, name: &str) -> u64 {
    let (status, text) = node.get("/metrics");
    assert_eq!(status, 200, "{text}");
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
        .unwrap_or(0)
}

/// The write part of the node's generation (`model.write`).
fn writes(node: &Node) -> u64 {
    let (_, health) = node.get("/health");
    let health: serde_json::Value = serde_json::from_str(&health).unwrap();
    let generation = health["generation"].as_str().unwrap().to_owned();
    generation.split('.').nth(1).unwrap().parse().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Writes `lines` to a file in a fresh temporary directory.
fn file_of(dir: &Path, name: &str, lines: &[String]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    path
}

/// `n` CLEF events one second apart from 2025-01-01, every tenth an Error.
fn clef_events(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            let level = if i % 10 == 9 { "Error" } else { "Information" };
            format!(
                "{{\"@t\":\"2025-01-01T{:02}:{:02}:{:02}Z\",\"@mt\":\"Order {{OrderId}} step {{Step}}\",\"@l\":\"{level}\",\"OrderId\":\"ORD-{i}\",\"Step\":{i}}}",
                i / 3600,
                i / 60 % 60,
                i % 60
            )
        })
        .collect()
}

#[test]
fn ingest_posts_every_event_of_a_clef_file_in_batches() {
    let node = Node::standalone();
    let dir = tempfile::tempdir().unwrap();
    let path = file_of(dir.path(), "events.clef", &clef_events(2500));
    let o = node.run(&[
        "ingest",
        path.to_str().unwrap(),
        "--url",
        &node.url(),
        "--batch",
        "300",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("Ingested 2,500 events"), "{out}");
    assert!(
        out.contains("in 9 requests") && out.contains("events/s"),
        "{out}"
    );
    assert_eq!(metric(&node, "skein_ingested_events_total"), 2500);
    assert_eq!(writes(&node), 9, "one store append per batch");
    // Without a terminal there is no progress bar on stderr.
    assert_eq!(stderr(&o), "");
}

#[test]
fn ingest_reads_legacy_json_lines() {
    let node = Node::standalone();
    let dir = tempfile::tempdir().unwrap();
    let doc = r#"{"Events":[{"Timestamp":"2025-01-01T00:00:00Z","Level":"Information","MessageTemplate":"a {N}","Properties":{"N":1}},{"Timestamp":"2025-01-01T00:00:01Z","Level":"Warning","MessageTemplate":"b"}]}"#;
    let single = r#"{"Timestamp":"2025-01-01T00:00:02Z","Level":"Error","MessageTemplate":"c"}"#;
    let path = file_of(
        dir.path(),
        "legacy.json",
        &[doc.into(), doc.into(), single.into()],
    );
    let o = node.run(&[
        "ingest",
        path.to_str().unwrap(),
        "--url",
        &node.url(),
        "--batch",
        "2",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("Ingested 5 events"), "{}", stdout(&o));
    assert_eq!(metric(&node, "skein_ingested_events_total"), 5);
}

#[test]
fn a_malformed_line_stops_ingest_with_its_line_number() {
    let node = Node::standalone();
    let dir = tempfile::tempdir().unwrap();
    let mut lines = clef_events(5);
    lines[3] = "{\"@t\":\"2025-01-01T00:00:00Z\",\"@mt\":\"cut off".into();
    let path = file_of(dir.path(), "bad.clef", &lines);
    let o = node.run(&["ingest", path.to_str().unwrap(), "--url", &node.url()]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.contains("line 4") && err.contains("malformed JSON"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(metric(&node, "skein_ingested_events_total"), 0);

    // An event the server refuses is traced back to its line in the file.
    let mut lines = clef_events(6);
    lines[4] = "{\"@mt\":\"no timestamp\"}".into();
    let path = file_of(dir.path(), "refused.clef", &lines);
    let o = node.run(&[
        "ingest",
        path.to_str().unwrap(),
        "--url",
        &node.url(),
        "--batch",
        "3",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.contains("input lines 4-6 (400)") && err.contains("line 5: missing `@t`"),
        "{err}"
    );
    assert!(err.contains("3 events before it were ingested"), "{err}");
    assert_eq!(metric(&node, "skein_ingested_events_total"), 3);
}

#[test]
fn bad_input_gets_clear_errors_and_no_panic() {
    let node = Node::standalone();
    let dir = tempfile::tempdir().unwrap();
    let path = file_of(dir.path(), "ok.clef", &clef_events(3));
    let path = path.to_str().unwrap();
    let down = format!("http://127.0.0.1:{}", free_port());
    let url = node.url();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["ingest", "/no/such/file", "--url", &url],
            "cannot open /no/such/file",
        ),
        (
            vec!["ingest", dir.path().to_str().unwrap(), "--url", &url],
            "is a directory",
        ),
        (
            vec!["ingest", path, "--url", "localhost:5341"],
            "invalid server url",
        ),
        (
            vec!["ingest", path, "--url", &down],
            "gave up after 5 attempts",
        ),
        (vec!["search", "--url", &down], "cannot reach the server"),
        (vec!["search", "--from", "yesterday"], "yesterday"),
        (
            vec!["bench", "ingest", "--url", &down],
            "is not ready for a benchmark",
        ),
        (vec!["bench", "ingest", "--events", "ten"], "not a count"),
        (
            vec!["bench", "ingest", "--url", &url, "--file", "/no/such/file"],
            "cannot open",
        ),
    ];
    for (args, want) in cases {
        let o = node.run(&args);
        let err = stderr(&o);
        assert!(!o.status.success(), "{args:?} succeeded");
        assert!(err.contains(want), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
    assert_eq!(metric(&node, "skein_ingested_events_total"), 0);
}

#[test]
fn api_keys_are_sent_and_the_servers_answers_reported() {
    let node = Node::standalone();
    let token = |args: &[&str]| {
        let o = node.run(args);
        assert!(o.status.success(), "{}", stderr(&o));
        let out = stdout(&o);
        out.lines()
            .find_map(|l| l.strip_prefix("token: "))
            .unwrap()
            .to_owned()
    };
    let reader = token(&["apikey", "create", "--title", "Reader", "--read"]);
    let warnings = token(&[
        "apikey",
        "create",
        "--title",
        "W",
        "--minimum-level",
        "Error",
    ]);
    let dir = tempfile::tempdir().unwrap();
    let path = file_of(dir.path(), "events.clef", &clef_events(100));
    let path = path.to_str().unwrap();

    let o = node.run(&["ingest", path, "--url", &node.url(), "--api-key", &reader]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.contains("(403)") && err.contains("Ingest permission"),
        "{err}"
    );
    assert!(err.contains("check --api-key"), "{err}");

    let o = node.run(&["ingest", path, "--url", &node.url(), "--api-key", &warnings]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("level Error and above"),
        "{}",
        stdout(&o)
    );
    assert_eq!(metric(&node, "skein_ingested_events_total"), 10);
}

#[test]
fn bench_ingest_completes_and_prints_its_figures() {
    let node = Node::standalone();
    let o = node.run(&[
        "bench",
        "ingest",
        "--url",
        &node.url(),
        "--events",
        "20000",
        "--batch",
        "500",
        "--connections",
        "4",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    for want in [
        "Posting 20,000 events",
        "40 requests",
        "20,000 acknowledged in 40 requests (0 failed)",
        "events/s",
        "MB/s",
        "p50",
        "p99",
        "max",
    ] {
        assert!(out.contains(want), "`{want}` missing from:\n{out}");
    }
    assert_eq!(metric(&node, "skein_ingested_events_total"), 20_000);

    // Paced, from a file.
    let dir = tempfile::tempdir().unwrap();
    let path = file_of(dir.path(), "events.clef", &clef_events(300));
    let o = node.run(&[
        "bench",
        "ingest",
        "--url",
        &node.url(),
        "--file",
        path.to_str().unwrap(),
        "--events",
        "250",
        "--batch",
        "100",
        "--rate",
        "1000",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("250 acknowledged in 3 requests"), "{out}");
    assert!(out.contains("paced at 1,000 events/s"), "{out}");
    assert_eq!(metric(&node, "skein_ingested_events_total"), 20_250);
}

#[test]
fn search_prints_matching_events_newest_first() {
    let node = Node::standalone();
    let dir = tempfile::tempdir().unwrap();
    let path = file_of(dir.path(), "events.clef", &clef_events(200));
    let o = node.run(&["ingest", path.to_str().unwrap(), "--url", &node.url()]);
    assert!(o.status.success(), "{}", stderr(&o));

    let o = node.run(&[
        "search",
        "--url",
        &node.url(),
        "--filter",
        "@Level = 'Error'",
        "--count",
        "3",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    assert!(lines[0].starts_with("2025-01-01T00:03:19"), "{out}");
    assert!(
        lines[0].ends_with("[ERR] Order \"ORD-199\" step 199"),
        "{out}"
    );
    assert!(lines[2].contains("ORD-179"), "{out}");

    let o = node.run(&[
        "search",
        "--url",
        &node.url(),
        "--filter",
        "Step >= 10",
        "--from",
        "2025-01-01T00:00:05Z",
        "--to",
        "2025-01-01T00:00:12Z",
        "--clef",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let steps: Vec<i64> = stdout(&o)
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["Step"]
                .as_i64()
                .unwrap()
        })
        .collect();
    assert_eq!(steps, [11, 10]);

    let o = node.run(&["search", "--url", &node.url(), "--filter", "Step >="]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.contains("the server refused the search") && err.contains("position"),
        "{err}"
    );

    let o = node.run(&["search", "--url", &node.url(), "--filter", "Step = 100000"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "");
}
