//! The admin UI in a real browser: Debian's Chromium, driven by
//! playwright-core (`tests/ui/ui.mjs`), against a real two-node cluster
//! whose metastore is a real PostgreSQL database.
//!
//! The browser visits the FOLLOWER (so the page and every API call it makes
//! go through the proxy to the leader) and the leader, phase by phase:
//! events (listing, filtering, histogram, expanded event, click-to-filter,
//! permalink, a bad filter's error at its position, signals, CLEF export,
//! live tail within 2 s), settings (API keys, settings), the cluster screen
//! with both nodes at one generation, demotion from the UI, and, after the
//! follower is stopped, the "no up-to-date follower" warning. Each phase
//! saves screenshots under `target/ui-screenshots/`.
//!
//! `tests/run-all.sh` installs Chromium and `npm ci`s `tests/ui`, exporting
//! `SKEIN_UI_DIR` and `SKEIN_CHROMIUM` (`SKEIN_UI_NODE` picks the `node`
//! binary). Without them the test uses `tests/ui` and `/usr/bin/chromium`
//! and FAILS, saying what is missing: a browser test that did not run never
//! counts as passed.

mod support;

#[path = "support/cli.rs"]
mod cli_support;
#[path = "support/cluster.rs"]
mod cluster;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use cluster::{ingest_clef, wait_for, ClusterNode};
use serde_json::Value;
use skein_store::event::format_timestamp;
use skein_store::Timestamp;

/// The longest one browser phase may take.
const PHASE_LIMIT: Duration = Duration::from_secs(180);

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn hint(what: &str) -> String {
    format!(
        "{what}: the UI tests need Chromium and playwright-core; run tests/run-all.sh \
         (it installs Debian's chromium and runs npm ci in tests/ui, exporting SKEIN_UI_DIR \
         and SKEIN_CHROMIUM)"
    )
}

/// The folder holding `ui.mjs` and its installed `node_modules`.
fn ui_dir() -> PathBuf {
    let dir = std::env::var_os("SKEIN_UI_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("tests/ui"));
    for needed in ["ui.mjs", "node_modules/playwright-core/package.json"] {
        let path = dir.join(needed);
        assert!(
            path.exists(),
            "{}",
            hint(&format!("{} is missing", path.display()))
        );
    }
    dir
}

fn chromium() -> PathBuf {
    let path = std::env::var_os("SKEIN_CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    assert!(
        path.exists(),
        "{}",
        hint(&format!("{} is missing", path.display()))
    );
    path
}

fn node_bin() -> PathBuf {
    let node =
        std::env::var_os("SKEIN_UI_NODE").map_or_else(|| PathBuf::from("node"), PathBuf::from);
    let ok = Command::new(&node)
        .arg("--version")
        .stdin(Stdio::null())
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(ok, "{}", hint(&format!("cannot run {}", node.display())));
    node
}

/// Where screenshots go: `ui-screenshots/` in cargo's target folder.
fn screenshots() -> PathBuf {
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    tmp.parent().unwrap_or(tmp).join("ui-screenshots")
}

/// Runs one phase of `ui.mjs` against `url`; panics with its output (and
/// the nodes' logs) when it fails or outlives [`PHASE_LIMIT`].
fn phase(name: &str, url: &str, env: &[(&str, &str)], nodes: &[&ClusterNode]) {
    let dir = ui_dir();
    let _ = std::fs::remove_file(screenshots().join(format!("FAILED-{name}.png")));
    let out_path = std::env::temp_dir().join(format!("skein-ui-{name}-{}.log", std::process::id()));
    let out = std::fs::File::create(&out_path).expect("phase log");
    let mut child = Command::new(node_bin())
        .arg("ui.mjs")
        .arg(name)
        .current_dir(&dir)
        .env("SKEIN_UI_URL", url)
        .env("SKEIN_UI_SCREENSHOTS", screenshots())
        .env("SKEIN_CHROMIUM", chromium())
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .spawn()
        .expect("start node ui.mjs");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for ui.mjs") {
            break Some(status);
        }
        if started.elapsed() > PHASE_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let output = std::fs::read_to_string(&out_path).unwrap_or_default();
    let _ = std::fs::remove_file(&out_path);
    print!("{output}");
    if status.is_some_and(|s| s.success()) {
        return;
    }
    let logs: String = nodes
        .iter()
        .map(|n| format!("---- node {} ----\n{}\n", n.name, tail(&n.log(), 60)))
        .collect();
    panic!(
        "UI phase `{name}` at {url} {}:\n{output}\n{logs}(screenshots in {})",
        status.map_or_else(
            || format!("timed out after {PHASE_LIMIT:?}"),
            |s| format!("failed ({s})")
        ),
        screenshots().display()
    );
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// Six events for run `marker`, a second apart ending now; steps 3 and 6
/// are errors with an exception, step 4 a warning.
fn events(marker: &str) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos() as i64;
    (1..=6)
        .map(|step: i64| {
            let t = format_timestamp(Timestamp(now - (7 - step) * 1_000_000_000));
            let mut e = serde_json::json!({
                "@t": t,
                "@mt": "Order {OrderId} step {Step} for {Customer}",
                "OrderId": step, "Step": step, "Customer": "alice", "Run": marker,
            });
            if step % 3 == 0 {
                e["@l"] = "Error".into();
                e["@x"] =
                    "System.InvalidOperationException: card declined\n   at Shop.Pay()".into();
            } else if step == 4 {
                e["@l"] = "Warning".into();
            }
            e.to_string() + "\n"
        })
        .collect()
}

/// The node `/api/cluster` on `node` reports as leader.
fn leader_seen_by(node: &ClusterNode) -> Option<String> {
    let (_, c) = node.json("/api/cluster");
    c["Nodes"]
        .as_array()?
        .iter()
        .find(|n| n["Role"] == "Leader")
        .and_then(|n| n["Name"].as_str().map(str::to_owned))
}

#[test]
fn admin_ui_in_chromium_against_a_two_node_cluster() {
    // Fail at once, before the cluster starts, when the browser is missing.
    let _ = (ui_dir(), chromium(), node_bin());
    remove_screenshots(CLUSTER_SHOTS);
    let db = cli_support::TestDatabase::create();
    let (mut leader, follower) = cluster::pair(Some(&db.url), &cluster::fast_timing());
    let marker = format!("ui-{}", std::process::id());
    let (status, body) = ingest_clef(leader.api, &events(&marker));
    assert_eq!(status, 201, "{body}");
    wait_for(
        Duration::from_secs(60),
        "the follower reaches the leader's generation",
        || {
            let g = leader.generation();
            !g.is_empty() && follower.generation() == g
        },
    );
    let nodes = [&leader, &follower];

    // Through the follower: the page, its scripts and every API call are proxied.
    let (status, page) = follower.get("/");
    assert!(
        status == 200 && page.contains("/ui/app.js"),
        "GET / on the follower: {status}"
    );
    phase(
        "events",
        &follower.url(),
        &[
            ("SKEIN_UI_MARKER", &marker),
            ("SKEIN_UI_INGEST_URL", &follower.url()),
        ],
        &nodes,
    );
    phase("settings", &follower.url(), &[], &nodes);
    phase("cluster", &follower.url(), &[], &nodes);
    phase("cluster", &leader.url(), &[], &nodes);

    // Demotion from the UI, browsing the leader: the follower takes over.
    phase(
        "demote",
        &leader.url(),
        &[("SKEIN_UI_NEW_LEADER", &follower.name)],
        &nodes,
    );
    wait_for(
        Duration::from_secs(30),
        "both nodes see the new leader",
        || {
            leader_seen_by(&follower).as_deref() == Some(follower.name.as_str())
                && leader_seen_by(&leader).as_deref() == Some(follower.name.as_str())
        },
    );

    // The old leader now follows; stop it: the new leader has no up-to-date follower.
    leader.stop();
    phase("warning", &follower.url(), &[], &[&leader, &follower]);
    let (_, c): (u16, Value) = follower.json("/api/cluster");
    assert_eq!(c["Status"], "Degraded", "{c}");
    assert_screenshots(CLUSTER_SHOTS);
}

#[test]
fn login_page_in_chromium_when_authentication_is_on() {
    let _ = (ui_dir(), chromium(), node_bin());
    remove_screenshots(&["login-refused"]);
    let password = "ui-Pa55word-for-tests";
    let hash = password_hash(password);
    let env = [
        ("SKEIN_AUTH_REQUIRED", "true"),
        ("SKEIN_FIRSTRUN_ADMINUSERNAME", "admin"),
        ("SKEIN_FIRSTRUN_ADMINPASSWORDHASH", hash.as_str()),
    ];
    let node = support::Server::start_with(
        env.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    );
    assert_eq!(node.get("/api/apikeys").0, 401, "auth is on");
    phase(
        "login",
        &node.url,
        &[("SKEIN_UI_USER", "admin"), ("SKEIN_UI_PASSWORD", password)],
        &[],
    );
    assert_screenshots(&["login-refused"]);
}

/// Benchmark: how long the events page takes to show its first events and
/// its histogram over a store of 100,000 events, in Chromium on this machine.
/// `cargo test --test ui -- --ignored --nocapture ui_load_time`
#[test]
#[ignore = "benchmark: run with --ignored --nocapture"]
fn ui_load_time() {
    let _ = (ui_dir(), chromium(), node_bin());
    let node = support::Server::start();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos() as i64;
    for batch in 0..10 {
        let body: String = (0..10_000i64)
            .map(|i| {
                let n = batch * 10_000 + i;
                let t = format_timestamp(Timestamp(now - (100_000 - n) * 10_000_000));
                let level = ["Information", "Warning", "Error", "Debug"][n as usize % 4];
                format!(
                    "{{\"@t\":\"{t}\",\"@mt\":\"Request {{Path}} took {{Elapsed}} ms\",\"@l\":\"{level}\",\"Path\":\"/p/{}\",\"Elapsed\":{}}}\n",
                    n % 97,
                    n % 1000
                )
            })
            .collect();
        let (status, answer) = ingest_clef(node.port, &body);
        assert_eq!(status, 201, "{answer}");
    }
    phase("load", &node.url, &[("SKEIN_UI_RUNS", "10")], &[]);
}

/// `skein config hash` of `password` (read from stdin).
fn password_hash(password: &str) -> String {
    use std::io::Write as _;
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(support::skein_bin())
        .args(["--storage"])
        .arg(dir.path())
        .args(["config", "hash"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("run skein config hash");
    let mut stdin = child.stdin.take().unwrap();
    writeln!(stdin, "{password}").unwrap();
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "skein config hash failed");
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// The screenshots the cluster test's phases save.
const CLUSTER_SHOTS: &[&str] = &[
    "events",
    "event-expanded",
    "permalink",
    "filter-error",
    "tail",
    "apikeys",
    "users",
    "settings",
    "login",
    "cluster",
    "demote-confirm",
    "demote",
    "cluster-warning",
];

fn remove_screenshots(names: &[&str]) {
    for name in names {
        let _ = std::fs::remove_file(screenshots().join(format!("{name}.png")));
    }
}

fn assert_screenshots(names: &[&str]) {
    for name in names {
        let path = screenshots().join(format!("{name}.png"));
        assert!(is_png(&path), "{} is not a PNG screenshot", path.display());
    }
}

fn is_png(path: &Path) -> bool {
    std::fs::read(path).is_ok_and(|b| b.starts_with(b"\x89PNG\r\n\x1a\n") && b.len() > 1000)
}
