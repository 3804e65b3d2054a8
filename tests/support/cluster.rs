//! Harness for cluster end-to-end tests: a [`ClusterNode`] is one real
//! `skein` node (storage root, API, cluster and internal-API ports, and when
//! started its process), set up with the operator guide's own commands.
//!
//! ```ignore
//! mod support;
//! #[path = "support/cli.rs"]
//! mod cli_support;
//! #[path = "support/cluster.rs"]
//! mod cluster;
//! let db = cli_support::TestDatabase::create();
//! let (a, b) = cluster::pair(Some(&db.url), &cluster::fast_timing());
//! ```
//!
//! Every process is killed (SIGKILL) when its node is dropped.

#![allow(dead_code)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::support::{exchange, free_port, request, skein_command, Answer};
// A clustered node needs the shared metastore: pairs set up without one
// get a throwaway database of their own (every test including this module
// includes `support/cli.rs` as `cli_support`).
use crate::cli_support as database;

/// The CLEF content type.
pub const CLEF: &str = "application/vnd.serilog.clef";

/// The cluster key the harness's nodes share.
pub const CLUSTER_KEY: &str = "cluster-key-0123456789";

/// Cluster timings short enough for tests (heartbeat 200 ms, lease 3 s).
pub fn fast_timing() -> HashMap<String, String> {
    HashMap::from([
        ("SKEIN_CLUSTER_HEARTBEAT_MS".to_string(), "200".to_string()),
        ("SKEIN_CLUSTER_LEASE_MS".to_string(), "3000".to_string()),
        (
            "SKEIN_CLUSTER_NODE_STALE_MS".to_string(),
            "2000".to_string(),
        ),
    ])
}

/// One node: storage root, ports and (when started) its process.
pub struct ClusterNode {
    /// The node's name (`--node-name`).
    pub name: String,
    dir: tempfile::TempDir,
    /// The public API port (`api.listenUris`).
    pub api: u16,
    /// The cluster (replication) port.
    pub cluster: u16,
    /// The internal API port, which the peer proxies to.
    pub internal: u16,
    /// Extra environment for every command and for `run`.
    pub env: HashMap<String, String>,
    /// The storage root when it is not `dir/storage` (e.g. on a slow disk).
    storage: Option<PathBuf>,
    child: Option<Child>,
    starts: u32,
    /// Started with `skein service start` (detached; see [`ClusterNode::service_start`]).
    detached: bool,
    /// The database made for this node's pair, dropped with the last of
    /// them (after its process is killed).
    database: Option<std::sync::Arc<database::TestDatabase>>,
    /// The `/etc/hosts` this node's commands see (see
    /// [`ClusterNode::resolve_with`]).
    hosts: Option<PathBuf>,
}

impl ClusterNode {
    /// A node named `name` on free ports and a fresh storage root.
    pub fn new(name: &str) -> ClusterNode {
        ClusterNode {
            name: name.to_owned(),
            dir: tempfile::tempdir().expect("tempdir"),
            api: free_port(),
            cluster: free_port(),
            internal: free_port(),
            env: HashMap::new(),
            storage: None,
            child: None,
            starts: 0,
            detached: false,
            database: None,
            hosts: None,
        }
    }

    /// A node named `name` on free ports whose storage root is `root`
    /// (e.g. under a `SlowDisk` mount); its home and log stay in a
    /// temporary directory of its own.
    pub fn new_in(name: &str, root: PathBuf) -> ClusterNode {
        let mut node = ClusterNode::new(name);
        node.storage = Some(root);
        node
    }

    /// The storage root.
    pub fn root(&self) -> PathBuf {
        self.storage
            .clone()
            .unwrap_or_else(|| self.dir.path().join("storage"))
    }

    /// `http://127.0.0.1:API`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.api)
    }

    /// `http://127.0.0.1:INTERNAL`.
    pub fn internal_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.internal)
    }

    /// `ws://127.0.0.1:CLUSTER`.
    pub fn cluster_url(&self) -> String {
        format!("ws://127.0.0.1:{}", self.cluster)
    }

    /// Runs every later command of this node (`skein run` and `skein
    /// service start` included) in a mount namespace of its own in which
    /// `hosts` is `/etc/hosts`: host names that resolve for this node
    /// only, while the machine's `/etc/hosts`, which concurrent tests read,
    /// stays as it is. Needs root (`unshare --mount`), as the tests run.
    pub fn resolve_with(&mut self, hosts: &Path) {
        self.hosts = Some(hosts.to_owned());
    }

    /// `skein --storage ROOT` with a cleared environment plus `self.env`
    /// (inside its own mount namespace after [`ClusterNode::resolve_with`]).
    pub fn command(&self) -> Command {
        let skein = skein_command(self.dir.path(), &self.root(), &self.env);
        let Some(hosts) = &self.hosts else {
            return skein;
        };
        // `unshare` execs in place: the process id stays the node's.
        let mut cmd = Command::new("unshare");
        cmd.args(["--mount", "--propagation", "private", "sh", "-c"])
            .arg(r#"mount --bind "$0" /etc/hosts && exec "$@""#)
            .arg(hosts)
            .arg(skein.get_program())
            .args(skein.get_args())
            .env_clear();
        for (key, value) in skein.get_envs() {
            if let Some(value) = value {
                cmd.env(key, value);
            }
        }
        cmd
    }

    /// Runs a command and returns its output.
    pub fn run(&self, args: &[&str]) -> Output {
        self.command()
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("run skein")
    }

    /// Runs a command that must succeed; its stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "skein {args:?} failed on {}:\n{}{}",
            self.name,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The guide's set-up, literally: generate and set the storage secret
    /// key, point the metastore at PostgreSQL (when `metastore` is given),
    /// then `node setup` with this node's and `peer`'s URIs and `key`.
    pub fn setup(&self, peer: &ClusterNode, key: &str, metastore: Option<&str>) {
        self.init_secret_key();
        if let Some(url) = metastore {
            self.set_secret("metastore.postgres.connectionString", url);
        }
        self.ok(&[
            "node",
            "setup",
            "--cluster-listen",
            &self.cluster_url(),
            "--internal-api",
            &self.internal_url(),
            "--peer-cluster",
            &peer.cluster_url(),
            "--peer-internal-api",
            &peer.internal_url(),
            "-k",
            key,
            "--node-name",
            &self.name,
        ]);
    }

    /// The guide's first steps: generate a storage secret key, create the
    /// config file and set `storage.secretKey`.
    pub fn init_secret_key(&self) {
        let secret = self.ok(&["show-key", "--generate"]).trim().to_owned();
        self.ok(&["config", "create"]);
        self.ok(&["config", "set", "-k", "storage.secretKey", "-v", &secret]);
    }

    /// `skein secret set -k NAME -v VALUE`.
    pub fn set_secret(&self, name: &str, value: &str) {
        self.ok(&["secret", "set", "-k", name, "-v", value]);
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("node.log")
    }

    /// Starts `skein run` without waiting for it.
    pub fn spawn(&mut self) {
        assert!(self.child.is_none(), "{} is already running", self.name);
        self.starts += 1;
        let mut log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())
            .unwrap();
        use std::io::Write as _;
        let _ = writeln!(log, "---- start {} ----", self.starts);
        let child = self
            .command()
            .env(
                "SKEIN_API_LISTENURIS",
                self.env
                    .get("SKEIN_API_LISTENURIS")
                    .cloned()
                    .unwrap_or_else(|| self.url()),
            )
            .env("RUST_LOG", "info,sqlx=warn,sea_orm_migration=warn")
            .arg("run")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start skein run");
        self.child = Some(child);
    }

    /// Starts the node with `skein service start` (the guide's `seq service
    /// start`): detached from this process, its output in the storage
    /// root's `Logs/skein.log` (part of [`ClusterNode::log`]); stopped with
    /// `skein service stop`, or killed, when the node is dropped. The
    /// command's output.
    pub fn service_start(&mut self) -> String {
        self.detached = true;
        self.ok(&["service", "start"])
    }

    /// Starts `skein run` and waits until `/health` answers at all.
    pub fn start(&mut self) {
        self.spawn();
        wait_for(Duration::from_secs(30), "the node answers /health", || {
            self.assert_running();
            self.get("/health").0 != 0
        });
    }

    /// Panics (with the log) when the process has exited.
    pub fn assert_running(&mut self) {
        if let Some(Ok(Some(status))) = self.child.as_mut().map(|c| c.try_wait()) {
            panic!(
                "{}: skein run exited with {status}:\n{}",
                self.name,
                self.log()
            );
        }
    }

    /// Whether the process is running.
    pub fn is_running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| matches!(c.try_wait(), Ok(None)))
    }

    /// Waits for the process to exit on its own; its status.
    pub fn wait_exit(&mut self, limit: Duration) -> std::process::ExitStatus {
        let started = Instant::now();
        loop {
            let c = self.child.as_mut().expect("started");
            if let Ok(Some(status)) = c.try_wait() {
                self.child = None;
                return status;
            }
            assert!(started.elapsed() < limit, "{} still runs", self.name);
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The process id, when running.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    fn signal(&self, signal: i32) {
        if let Some(pid) = self.pid() {
            // SAFETY: sending a signal to our own child process.
            unsafe { libc::kill(pid as i32, signal) };
        }
    }

    /// Kills the node (SIGKILL).
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Stops the node with SIGTERM and waits for it.
    pub fn stop(&mut self) {
        self.signal(libc::SIGTERM);
        if let Some(mut c) = self.child.take() {
            let _ = c.wait();
        }
    }

    /// Freezes the process (SIGSTOP).
    pub fn pause(&self) {
        self.signal(libc::SIGSTOP);
    }

    /// Thaws the process (SIGCONT).
    pub fn resume(&self) {
        self.signal(libc::SIGCONT);
    }

    /// Everything the node has logged, over all its starts.
    pub fn log(&self) -> String {
        let mut log = std::fs::read_to_string(self.log_path()).unwrap_or_default();
        if self.detached {
            let service = self.root().join("Logs").join("skein.log");
            log += &std::fs::read_to_string(service).unwrap_or_default();
        }
        log
    }

    /// `GET path` on the public API → (status, body); status 0 when the
    /// connection fails.
    pub fn get(&self, path: &str) -> (u16, String) {
        request(self.api, "GET", path, &[], b"")
    }

    /// `POST path` with a content type on the public API.
    pub fn post(&self, path: &str, content_type: &str, body: &[u8]) -> (u16, String) {
        request(
            self.api,
            "POST",
            path,
            &[("Content-Type", content_type)],
            body,
        )
    }

    /// `GET path`, parsed as JSON (null when it is not JSON).
    pub fn json(&self, path: &str) -> (u16, serde_json::Value) {
        let (status, body) = self.get(path);
        (status, serde_json::from_str(&body).unwrap_or_default())
    }

    /// The `/health` document.
    pub fn health(&self) -> serde_json::Value {
        self.json("/health").1
    }

    /// Every sample `/metrics` shows, by name (with labels).
    pub fn metrics(&self) -> HashMap<String, f64> {
        let (status, text) = self.get("/metrics");
        assert_eq!(status, 200, "{text}");
        metric_samples(&text)
    }

    /// The store generation `/health` reports (`model.write`).
    pub fn generation(&self) -> String {
        self.health()["generation"]
            .as_str()
            .unwrap_or("")
            .to_owned()
    }

    /// The first line of `skein node status` naming this node.
    pub fn status_line(&self) -> String {
        let out = self.run(&["node", "status"]);
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{}  ", self.name)))
            .unwrap_or("")
            .to_owned()
    }

    /// Every file under the store's `Stream` directory.
    pub fn stream_files(&self) -> Vec<(String, Vec<u8>)> {
        files(&self.root().join("Stream"))
    }
}

impl Drop for ClusterNode {
    fn drop(&mut self) {
        self.resume();
        self.kill();
        if self.detached && !self.run(&["service", "stop"]).status.success() {
            let claim = std::fs::read_to_string(self.root().join("skein.pid"));
            if let Some(pid) = claim.ok().and_then(|p| p.trim().parse::<i32>().ok()) {
                // SAFETY: killing the node this harness started.
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
        }
    }
}

/// Every sample of a Prometheus text (name with labels → value).
pub fn metric_samples(text: &str) -> HashMap<String, f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let (name, value) = l.rsplit_once(' ')?;
            Some((name.to_owned(), value.parse().ok()?))
        })
        .collect()
}

/// Polls `done` every 50 ms until it holds; panics after `limit`.
pub fn wait_for(limit: Duration, what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while start.elapsed() < limit {
        if done() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("timed out after {limit:?} waiting until {what}");
}

/// Two nodes `a` and `b`, each set up as the other's peer (with
/// `b_key` as `b`'s cluster key), `env` on both; `a` is told to lead
/// (`node lead` with a metastore, else `cluster.role=leader`), `b` to
/// follow. Not started.
pub fn configured_pair(
    metastore: Option<&str>,
    env: &HashMap<String, String>,
    b_key: &str,
) -> (ClusterNode, ClusterNode) {
    configure_pair(
        (ClusterNode::new("a"), ClusterNode::new("b")),
        metastore,
        env,
        b_key,
    )
}

/// [`configured_pair`] on two nodes made by the caller (e.g. with
/// [`ClusterNode::new_in`]). Without `metastore`, the pair gets a fresh
/// database of its own (a clustered node refuses to run without one).
pub fn configure_pair(
    (mut a, mut b): (ClusterNode, ClusterNode),
    metastore: Option<&str>,
    env: &HashMap<String, String>,
    b_key: &str,
) -> (ClusterNode, ClusterNode) {
    a.env.extend(env.clone());
    b.env.extend(env.clone());
    let url = match metastore {
        Some(url) => url.to_owned(),
        None => new_database(&mut a, &mut b),
    };
    a.setup(&b, CLUSTER_KEY, Some(&url));
    b.setup(&a, b_key, Some(&url));
    a.ok(&["node", "lead"]);
    b.ok(&["node", "follow"]);
    (a, b)
}

/// Creates a database for `a` and `b` (dropped with the last of them);
/// its URL.
pub fn new_database(a: &mut ClusterNode, b: &mut ClusterNode) -> String {
    let db = std::sync::Arc::new(database::TestDatabase::create());
    let url = db.url.clone();
    a.database = Some(db.clone());
    b.database = Some(db);
    url
}

/// [`configured_pair`] with the shared key, started, `a` accepting writes.
pub fn pair(metastore: Option<&str>, env: &HashMap<String, String>) -> (ClusterNode, ClusterNode) {
    let (mut a, mut b) = configured_pair(metastore, env, CLUSTER_KEY);
    a.start();
    b.start();
    (a, b)
}

/// Posts `body` as CLEF to `/ingest/clef` on `port`; (status, answer).
pub fn ingest_clef(port: u16, body: &str) -> (u16, String) {
    let answer = ingest_clef_answer(port, body);
    (answer.status, answer.body)
}

/// [`ingest_clef`], keeping the answer's headers.
pub fn ingest_clef_answer(port: u16, body: &str) -> Answer {
    exchange(
        port,
        "POST",
        "/ingest/clef",
        &[("Content-Type", CLEF)],
        body.as_bytes(),
    )
}

/// Ingests `batches` acknowledged requests of `per_batch` events dated
/// `timestamp`, each with a poorly compressible payload of about `payload`
/// bytes (random base64 characters: 6 bits of entropy each).
pub fn ingest_noise(
    node: &ClusterNode,
    batches: usize,
    per_batch: usize,
    payload: usize,
    timestamp: &str,
) {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for batch in 0..batches {
        let mut body = String::with_capacity(per_batch * (payload + 100));
        for i in 0..per_batch {
            let mut noise = String::with_capacity(payload + 10);
            while noise.len() < payload {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                for k in 0..10 {
                    noise.push(ALPHABET[((x >> (k * 6)) & 63) as usize] as char);
                }
            }
            body.push_str(&format!(
                "{{\"@t\":\"{timestamp}\",\"@mt\":\"Noise {{N}}\",\"N\":{i},\"B\":{batch},\"X\":\"{noise}\"}}\n"
            ));
        }
        let (status, text) = ingest_clef(node.api, &body);
        assert_eq!(status, 201, "{text}\n{}", node.log());
    }
}

/// Moves `leader`'s history past any follower that stopped before: about
/// 90 MB of events dated 2020 seal the first 64 MB segment, retention (set
/// to one day) deletes it, and this waits until it is gone. A follower
/// behind that point then needs a snapshot.
pub fn outgrow_history(leader: &ClusterNode) {
    ingest_noise(leader, 90, 1000, 1000, "2020-01-01T00:00:00Z");
    let (status, body) = request(
        leader.api,
        "PUT",
        "/api/settings/retention.period",
        &[("Content-Type", "application/json")],
        br#"{"Value":"1d"}"#,
    );
    assert_eq!(status, 200, "{body}");
    wait_for(
        Duration::from_secs(60),
        "retention deletes the first segment",
        || !leader.root().join("Stream").join("seg-000001.log").exists(),
    );
}

/// Every file under `dir`, relative path → bytes, sorted.
pub fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if let Ok(bytes) = std::fs::read(&p) {
                let rel = p.strip_prefix(dir).unwrap().display().to_string();
                out.push((rel, bytes));
            }
        }
    }
    out.sort();
    out
}

/// Panics unless both nodes' `Stream` directories hold the same files
/// with the same bytes.
pub fn assert_same_files(a: &ClusterNode, b: &ClusterNode) {
    let (fa, fb) = (a.stream_files(), b.stream_files());
    let names = |f: &[(String, Vec<u8>)]| f.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    assert_eq!(names(&fb), names(&fa));
    for ((name, x), (_, y)) in fa.iter().zip(&fb) {
        assert!(x == y, "{name} differs between {} and {}", a.name, b.name);
    }
}
