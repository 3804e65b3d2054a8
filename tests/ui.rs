//! The admin UI in real browsers: Debian's Chromium and Firefox ESR, both
//! driven by puppeteer-core (`tests/ui/ui.mjs`), against a real two-node
//! cluster whose metastore is a real PostgreSQL database. Each test runs
//! once per browser (separate `#[test]`s, each with its own cluster).
//!
//! The browser visits the FOLLOWER (so the page and every API call it makes
//! go through the proxy to the leader) and the leader, phase by phase:
//! events (listing, filtering, histogram, expanded event, click-to-filter,
//! permalink, a bad filter's error at its position, two signals combined and
//! a shared one, the CLEF export downloaded by a click, live tail within 2 s
//! — also of an event stamped an hour ago — and the time range picker),
//! settings (API keys, users, settings, require-a-key toggled and checked by
//! ingesting), the cluster screen (both nodes at one generation, every row
//! as `/api/cluster` says), demotion from the UI, and one open page turning
//! to the "no up-to-date follower" warning when the follower is stopped.
//! Each phase saves screenshots under `target/ui-screenshots/<browser>/`.
//!
//! `tests/run-all.sh` installs both browsers and `npm ci`s `tests/ui`,
//! exporting `SKEIN_UI_DIR`, `SKEIN_CHROMIUM` and `SKEIN_FIREFOX`
//! (`SKEIN_UI_NODE` picks the `node` binary). Without them the tests use
//! `tests/ui`, `/usr/bin/chromium` and `/usr/bin/firefox-esr` and FAIL,
//! saying what is missing: a browser test that did not run never counts as
//! passed.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;
use skein_harness::{
    exchange, fast_timing, ingest_clef, process::skein_bin, wait_for, Cluster, Node,
};
use skein_store::event::format_timestamp;
use skein_store::Timestamp;

/// The longest one browser phase may take.
const PHASE_LIMIT: Duration = Duration::from_secs(180);

/// A browser the UI tests drive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Browser {
    Chromium,
    Firefox,
}

impl Browser {
    /// The name `ui.mjs` takes (`SKEIN_UI_BROWSER`) and the screenshot folder.
    fn name(self) -> &'static str {
        match self {
            Browser::Chromium => "chromium",
            Browser::Firefox => "firefox",
        }
    }

    /// The executable: `SKEIN_CHROMIUM` / `SKEIN_FIREFOX`, else Debian's path;
    /// panics, saying what is missing, when it is not there.
    fn executable(self) -> PathBuf {
        let (var, default) = match self {
            Browser::Chromium => ("SKEIN_CHROMIUM", "/usr/bin/chromium"),
            Browser::Firefox => ("SKEIN_FIREFOX", "/usr/bin/firefox-esr"),
        };
        let path = std::env::var_os(var).map_or_else(|| PathBuf::from(default), PathBuf::from);
        assert!(
            path.exists(),
            "{}",
            hint(&format!("{} is missing", path.display()))
        );
        path
    }

    /// Fails at once, before any cluster starts, when something is missing.
    fn require(self) {
        let _ = (ui_dir(), self.executable(), node_bin());
    }

    /// Where this browser's screenshots go: `ui-screenshots/<browser>/` in
    /// cargo's target folder.
    fn screenshots(self) -> PathBuf {
        let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
        tmp.parent()
            .unwrap_or(tmp)
            .join("ui-screenshots")
            .join(self.name())
    }
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn hint(what: &str) -> String {
    format!(
        "{what}: the UI tests need Chromium, Firefox ESR and puppeteer-core; run tests/run-all.sh \
         (it installs Debian's chromium and firefox-esr and runs npm ci in tests/ui, exporting \
         SKEIN_UI_DIR, SKEIN_CHROMIUM and SKEIN_FIREFOX)"
    )
}

/// The folder holding `ui.mjs` and its installed `node_modules`.
fn ui_dir() -> PathBuf {
    let dir = std::env::var_os("SKEIN_UI_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("tests/ui"));
    for needed in ["ui.mjs", "node_modules/puppeteer-core/package.json"] {
        let path = dir.join(needed);
        assert!(
            path.exists(),
            "{}",
            hint(&format!("{} is missing", path.display()))
        );
    }
    dir
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

/// Runs one phase of `ui.mjs` in `browser` against `url`; panics with its
/// output (and the nodes' logs) when it fails or outlives [`PHASE_LIMIT`].
fn phase(browser: Browser, name: &str, url: &str, env: &[(&str, &str)], nodes: &[&Node]) {
    phase_acting(browser, name, url, env, nodes, || {});
}

/// [`phase`], calling `on_ready` once when the phase prints a line starting
/// `ready:` (the page is in the state the test needs for its next step).
fn phase_acting(
    browser: Browser,
    name: &str,
    url: &str,
    env: &[(&str, &str)],
    nodes: &[&Node],
    mut on_ready: impl FnMut(),
) {
    let dir = ui_dir();
    let shots = browser.screenshots();
    let _ = std::fs::remove_file(shots.join(format!("FAILED-{name}.png")));
    let out_path = std::env::temp_dir().join(format!(
        "skein-ui-{}-{name}-{}.log",
        browser.name(),
        std::process::id()
    ));
    let out = std::fs::File::create(&out_path).expect("phase log");
    let mut child = Command::new(node_bin())
        .arg("ui.mjs")
        .arg(name)
        .current_dir(&dir)
        .env("SKEIN_UI_URL", url)
        .env("SKEIN_UI_SCREENSHOTS", &shots)
        .env("SKEIN_UI_BROWSER", browser.name())
        .env("SKEIN_BROWSER", browser.executable())
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .spawn()
        .expect("start node ui.mjs");
    let started = Instant::now();
    let mut ready = false;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for ui.mjs") {
            break Some(status);
        }
        if !ready
            && std::fs::read_to_string(&out_path)
                .is_ok_and(|o| o.lines().any(|l| l.starts_with("ready:")))
        {
            ready = true;
            on_ready();
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
        "UI phase `{name}` in {} at {url} {}:\n{output}\n{logs}(screenshots in {})",
        browser.name(),
        status.map_or_else(
            || format!("timed out after {PHASE_LIMIT:?}"),
            |s| format!("failed ({s})")
        ),
        shots.display()
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
fn leader_seen_by(node: &Node) -> Option<String> {
    let (_, c) = node.json("/api/cluster");
    c["Nodes"]
        .as_array()?
        .iter()
        .find(|n| n["Role"] == "Leader")
        .and_then(|n| n["Name"].as_str().map(str::to_owned))
}

/// The arrival read through the follower's proxy: the newest-first list
/// names the next arrival number, and an event stamped an hour ago that
/// arrives later is the one `fromArrival` returns (it is not the newest by
/// id, so a tail reading by id would miss it).
fn arrival_read_through(follower: &Node, leader: &Node) {
    let before = exchange(follower.api, "GET", "/api/events?count=1", &[], b"");
    assert_eq!(before.status, 200, "{}", before.body);
    let next: u64 = before
        .header("X-Skein-Next-Arrival")
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no X-Skein-Next-Arrival: {}", before.head));
    assert!(
        next >= 6,
        "six events are stored, the next arrival is {next}"
    );
    let hour_ago = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos() as i64
        - 3_600_000_000_000;
    let late = format!(
        "{{\"@t\":\"{}\",\"@mt\":\"Late arrival\",\"Probe\":\"arrival\"}}\n",
        format_timestamp(Timestamp(hour_ago))
    );
    let (status, body) = ingest_clef(leader.api, &late);
    assert_eq!(status, 201, "{body}");
    let path = format!("/api/events?fromArrival={next}&count=10");
    let read = exchange(follower.api, "GET", &path, &[], b"");
    assert_eq!(read.status, 200, "{}", read.body);
    let got: Value = serde_json::from_str(&read.body).unwrap();
    assert_eq!(got.as_array().map(Vec::len), Some(1), "{got}");
    assert_eq!(got[0]["Properties"][0]["Value"], "arrival", "{got}");
    assert_eq!(
        read.header("X-Skein-Next-Arrival"),
        Some((next + 1).to_string().as_str())
    );
    let (_, newest) = follower.json("/api/events?count=1");
    assert_ne!(
        newest[0]["Id"], got[0]["Id"],
        "the late event is not the newest by id"
    );
    let (status, filtered) = follower.json(&format!(
        "/api/events?fromArrival={next}&filter=Probe%20%3D%20'other'"
    ));
    assert_eq!(
        (status, filtered),
        (200, serde_json::json!([])),
        "the filter applies"
    );
    let (status, bad) = follower.get("/api/events?fromArrival=soon");
    assert!(
        status == 400 && bad.contains("fromArrival"),
        "{status} {bad}"
    );
    let (status, bad) = follower.get(&format!(
        "/api/events?fromArrival=1&afterId={}",
        newest[0]["Id"].as_str().unwrap()
    ));
    assert!(status == 400 && bad.contains("afterId"), "{status} {bad}");
}

/// The whole admin UI in `browser` against a fresh two-node cluster.
fn admin_ui_against_a_two_node_cluster(browser: Browser) {
    // Fail at once, before the cluster starts, when the browser is missing.
    browser.require();
    remove_screenshots(browser, CLUSTER_SHOTS);
    let mut cluster = Cluster::sized(2).env(&fast_timing()).start();
    let [leader, follower] = cluster.nodes_mut();
    let marker = format!("ui-{}-{}", browser.name(), std::process::id());
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
    let nodes = [&*leader, &*follower];
    arrival_read_through(follower, leader);

    // Through the follower: the page, its scripts and every API call are proxied.
    let (status, page) = follower.get("/");
    assert!(
        status == 200 && page.contains("/ui/app.js"),
        "GET / on the follower: {status}"
    );
    let url = follower.url();
    let env = [
        ("SKEIN_UI_MARKER", marker.as_str()),
        ("SKEIN_UI_INGEST_URL", url.as_str()),
    ];
    phase(browser, "events", &url, &env, &nodes);
    phase(browser, "settings", &url, &[], &nodes);
    phase(browser, "cluster", &url, &[], &nodes);
    phase(browser, "cluster", &leader.url(), &[], &nodes);

    // Demotion from the UI, browsing the leader: the follower takes over.
    phase(
        browser,
        "demote",
        &leader.url(),
        &[("SKEIN_UI_NEW_LEADER", &follower.name)],
        &nodes,
    );
    wait_for(
        Duration::from_secs(30),
        "both nodes see the new leader",
        || {
            leader_seen_by(follower).as_deref() == Some(follower.name.as_str())
                && leader_seen_by(leader).as_deref() == Some(follower.name.as_str())
        },
    );

    // The old leader now follows. The page first sees the cluster Healthy,
    // both nodes up to date; then (on its `ready:`) the old leader stops and
    // the same open page must turn to the warning.
    let mut stopped = false;
    phase_acting(
        browser,
        "warning",
        &follower.url(),
        &[],
        // (the old leader is borrowed by the closure that stops it)
        &[follower],
        || {
            leader.stop();
            stopped = true;
        },
    );
    assert!(stopped, "the warning phase never said it was ready");
    let (_, c): (u16, Value) = follower.json("/api/cluster");
    assert_eq!(c["Status"], "Degraded", "{c}");
    assert_screenshots(browser, CLUSTER_SHOTS);
}

#[test]
fn admin_ui_in_chromium_against_a_two_node_cluster() {
    admin_ui_against_a_two_node_cluster(Browser::Chromium);
}

#[test]
fn admin_ui_in_firefox_against_a_two_node_cluster() {
    admin_ui_against_a_two_node_cluster(Browser::Firefox);
}

/// The cluster screen of a three-node cluster whose writes wait for one
/// follower: every node listed, each row as `/api/cluster` says, which
/// followers count toward acknowledgements — browsing a follower.
fn the_cluster_screen_shows_three_nodes_and_the_acknowledgement_quorum(browser: Browser) {
    browser.require();
    let mut cluster = Cluster::sized(3).env(&fast_timing()).configure();
    cluster.config_set_all("replication.minimumAcknowledgingReplicas", "1");
    cluster.start_all();
    let (status, body) = ingest_clef(cluster[0].api, &events("three"));
    assert_eq!(status, 201, "{body}");
    cluster.wait_generations(Duration::from_secs(60), "the three nodes settle");
    let follower = (0..3).find(|&i| Some(i) != cluster.leader()).unwrap();
    let nodes: Vec<&Node> = cluster.nodes.iter().collect();
    let url = cluster[follower].url();
    phase(browser, "cluster", &url, &[("SKEIN_UI_NODES", "3")], &nodes);
    let (_, c) = cluster[follower].json("/api/cluster");
    assert_eq!(c["MinimumAcknowledgingReplicas"], 1, "{c}");
    let counting = c["Nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["CountsTowardAcknowledgements"] == true)
        .count();
    assert_eq!(counting, 2, "both followers are up to date: {c}");
}

#[test]
fn the_cluster_screen_in_chromium_shows_three_nodes_and_the_acknowledgement_quorum() {
    the_cluster_screen_shows_three_nodes_and_the_acknowledgement_quorum(Browser::Chromium);
}

#[test]
fn the_cluster_screen_in_firefox_shows_three_nodes_and_the_acknowledgement_quorum() {
    the_cluster_screen_shows_three_nodes_and_the_acknowledgement_quorum(Browser::Firefox);
}

/// The login page in `browser` on a node with authentication on.
fn login_page_when_authentication_is_on(browser: Browser) {
    browser.require();
    remove_screenshots(browser, &["login-refused"]);
    let password = "ui-Pa55word-for-tests";
    let hash = password_hash(password);
    let env = [
        ("SKEIN_AUTH_REQUIRED", "true"),
        ("SKEIN_FIRSTRUN_ADMINUSERNAME", "admin"),
        ("SKEIN_FIRSTRUN_ADMINPASSWORDHASH", hash.as_str()),
    ];
    let node = Node::standalone_with(
        env.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    );
    assert_eq!(node.get("/api/apikeys").0, 401, "auth is on");
    phase(
        browser,
        "login",
        &node.url(),
        &[("SKEIN_UI_USER", "admin"), ("SKEIN_UI_PASSWORD", password)],
        &[],
    );
    assert_screenshots(browser, &["login-refused"]);
}

#[test]
fn login_page_in_chromium_when_authentication_is_on() {
    login_page_when_authentication_is_on(Browser::Chromium);
}

#[test]
fn login_page_in_firefox_when_authentication_is_on() {
    login_page_when_authentication_is_on(Browser::Firefox);
}

/// Benchmark: how long the events page takes to show its first events and
/// its histogram over a store of 100,000 events, in Chromium and in Firefox
/// on this machine.
/// `cargo test --test ui -- --ignored --nocapture ui_load_time`
#[test]
#[ignore = "benchmark: run with --ignored --nocapture"]
fn ui_load_time() {
    for browser in [Browser::Chromium, Browser::Firefox] {
        browser.require();
    }
    let node = Node::standalone();
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
        let (status, answer) = ingest_clef(node.api, &body);
        assert_eq!(status, 201, "{answer}");
    }
    for browser in [Browser::Chromium, Browser::Firefox] {
        phase(
            browser,
            "load",
            &node.url(),
            &[("SKEIN_UI_RUNS", "10")],
            &[],
        );
    }
}

/// `skein config hash` of `password` (read from stdin).
fn password_hash(password: &str) -> String {
    use std::io::Write as _;
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(skein_bin())
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
    "signals",
    "tail",
    "time-range",
    "apikeys",
    "users",
    "settings",
    "settings-require-key",
    "login",
    "cluster",
    "demote-confirm",
    "demote",
    "cluster-warning",
];

fn remove_screenshots(browser: Browser, names: &[&str]) {
    for name in names {
        let _ = std::fs::remove_file(browser.screenshots().join(format!("{name}.png")));
    }
}

fn assert_screenshots(browser: Browser, names: &[&str]) {
    for name in names {
        let path = browser.screenshots().join(format!("{name}.png"));
        assert!(is_png(&path), "{} is not a PNG screenshot", path.display());
    }
}

fn is_png(path: &Path) -> bool {
    std::fs::read(path).is_ok_and(|b| b.starts_with(b"\x89PNG\r\n\x1a\n") && b.len() > 1000)
}
