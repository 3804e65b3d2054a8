//! One `skein` node for end-to-end tests: a temporary home and storage
//! root, its ports (public API, cluster, internal API, reserved for the
//! test process), its environment, and when started its `skein run`
//! process, killed (SIGKILL) when the [`Node`] is dropped.
//!
//! The same handle serves a standalone node ([`Node::standalone`]), a
//! storage root that only runs CLI commands ([`Node::new`] + [`Node::ok`]),
//! and a clustered node set up with the operator guide's commands
//! ([`Node::setup`], or a whole [`crate::Cluster`]). Start, stop and wait
//! have one implementation: [`Node::spawn`], [`Node::wait_until`] and
//! [`Node::kill`] / [`Node::terminate`], which every other way of starting
//! or stopping builds on.
//!
//! ```ignore
//! let node = Node::standalone();
//! let (status, body) = node.post("/api/events/raw?clef", "application/json", body);
//! let mut offline = Node::new("a");
//! let key = offline.generate_key();
//! ```

use std::collections::HashMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

use crate::http::{metric_samples, request};
use crate::process::{free_port, output_with_input, skein_command};

/// How long a start waits for `/health` before it panics.
const START_LIMIT: Duration = Duration::from_secs(30);

/// One node: storage root, ports and (when started) its process.
pub struct Node {
    /// The node's name (`--node-name` when it is set up for a cluster).
    pub name: String,
    dir: tempfile::TempDir,
    /// The public API port (`api.listenUris`).
    pub api: u16,
    /// The cluster (replication) port.
    pub cluster: u16,
    /// The internal API port, which the peer proxies to.
    pub internal: u16,
    /// Extra environment for every command and for `run` (the rest of the
    /// environment is cleared, see [`crate::process::skein_command`]).
    pub env: HashMap<String, String>,
    /// The storage root when it is not `dir/storage` (e.g. on a slow disk).
    storage: Option<PathBuf>,
    child: Option<Child>,
    starts: u32,
    /// Started with `skein service start` (detached; see [`Node::service_start`]).
    detached: bool,
    /// The `/etc/hosts` this node's commands see (see [`Node::resolve_with`]).
    hosts: Option<PathBuf>,
}

/// Why [`Node::wait_until`] gave up.
#[derive(Debug)]
pub enum NotReady {
    /// The process exited.
    Exited(ExitStatus),
    /// The limit passed.
    TimedOut,
}

impl Node {
    /// A node named `name` on reserved ports and a fresh storage root; not
    /// started.
    pub fn new(name: &str) -> Node {
        Node {
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
            hosts: None,
        }
    }

    /// A node named `name` whose storage root is `root` (e.g. under a
    /// `SlowDisk` mount); its home and log stay in a temporary directory
    /// of its own.
    pub fn new_in(name: &str, root: PathBuf) -> Node {
        let mut node = Node::new(name);
        node.storage = Some(root);
        node
    }

    /// This node with `env` added to its environment.
    pub fn with_env(mut self, env: HashMap<String, String>) -> Node {
        self.env.extend(env);
        self
    }

    /// A standalone node, started and healthy.
    pub fn standalone() -> Node {
        Node::standalone_with(HashMap::new())
    }

    /// A standalone node with extra `SKEIN_*` environment, started and
    /// healthy.
    pub fn standalone_with(env: HashMap<String, String>) -> Node {
        let mut node = Node::new("node").with_env(env);
        node.start_healthy();
        node
    }

    /// A standalone node with `auth.required` on and an API key holding
    /// every permission (made with `skein apikey create` before the node
    /// starts), started and healthy: (node, the key's token).
    pub fn secured() -> (Node, String) {
        let env = HashMap::from([("SKEIN_AUTH_REQUIRED".to_string(), "true".to_string())]);
        let mut node = Node::new("node").with_env(env);
        let token = node.create_api_key("everything");
        node.start_healthy();
        (node, token)
    }

    /// `skein apikey create --title TITLE` with every permission; its token.
    pub fn create_api_key(&self, title: &str) -> String {
        token_of(&self.ok(&[
            "apikey",
            "create",
            "--title",
            title,
            "--ingest",
            "--read",
            "--write",
            "--project",
            "--system",
        ]))
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
    /// (inside its own mount namespace after [`Node::resolve_with`]).
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

    /// Runs `skein ARGS` against this node's storage root; its output.
    pub fn run(&self, args: &[&str]) -> Output {
        self.command()
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("run skein")
    }

    /// [`Node::run`] with `input` on standard input.
    pub fn run_with_input(&self, args: &[&str], input: &str) -> Output {
        output_with_input(self.command().args(args), input)
    }

    /// Runs a command that must succeed; its stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        succeeded(&self.name, args, self.run(args))
    }

    /// Runs a command that must fail; its stderr.
    pub fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            !out.status.success(),
            "skein {args:?} unexpectedly succeeded on {}:\n{}",
            self.name,
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8_lossy(&out.stderr).into_owned()
    }

    /// `skein show-key --generate`.
    pub fn generate_key(&self) -> String {
        self.ok(&["show-key", "--generate"]).trim().to_owned()
    }

    /// The guide's set-up, literally: generate and set the storage secret
    /// key, point the metastore at PostgreSQL (when `metastore` is given),
    /// then `node setup` with this node's and `peer`'s URIs and `key`.
    pub fn setup(&self, peer: &Node, key: &str, metastore: Option<&str>) {
        self.setup_via(peer.cluster, peer.internal, key, metastore);
    }

    /// [`Node::setup`] with the peer's cluster and internal API at
    /// 127.0.0.1:`peer_cluster` and 127.0.0.1:`peer_internal` (e.g.
    /// proxies in front of it).
    pub fn setup_via(
        &self,
        peer_cluster: u16,
        peer_internal: u16,
        key: &str,
        metastore: Option<&str>,
    ) {
        self.setup_with_peers(&[(peer_cluster, peer_internal)], key, metastore);
    }

    /// [`Node::setup_via`] with several peers, each `(cluster port,
    /// internal API port)` on 127.0.0.1 (`--peer-cluster`/`--peer-internal-api`
    /// repeated, paired in order).
    pub fn setup_with_peers(&self, peers: &[(u16, u16)], key: &str, metastore: Option<&str>) {
        self.init_secret_key();
        if let Some(url) = metastore {
            self.set_secret("metastore.postgres.connectionString", url);
        }
        let (cluster, internal) = (self.cluster_url(), self.internal_url());
        let mut args: Vec<String> = ["node", "setup", "--cluster-listen", &cluster]
            .into_iter()
            .chain(["--internal-api", &internal])
            .map(str::to_owned)
            .collect();
        for (peer_cluster, peer_internal) in peers {
            args.extend([
                "--peer-cluster".to_owned(),
                format!("ws://127.0.0.1:{peer_cluster}"),
                "--peer-internal-api".to_owned(),
                format!("http://127.0.0.1:{peer_internal}"),
            ]);
        }
        args.extend(["-k".to_owned(), key.to_owned()]);
        args.extend(["--node-name".to_owned(), self.name.clone()]);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        self.ok(&args);
    }

    /// The guide's first steps: generate a storage secret key, create the
    /// config file and set `storage.secretKey`.
    pub fn init_secret_key(&self) {
        let secret = self.generate_key();
        self.ok(&["config", "create"]);
        self.config_set("storage.secretKey", &secret);
    }

    /// `skein config set -k KEY -v VALUE`, which must succeed.
    pub fn config_set(&self, key: &str, value: &str) -> String {
        self.ok(&["config", "set", "-k", key, "-v", value])
    }

    /// `skein secret set -k NAME -v VALUE`.
    pub fn set_secret(&self, name: &str, value: &str) {
        self.ok(&["secret", "set", "-k", name, "-v", value]);
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("node.log")
    }

    /// Starts `skein run` without waiting for it: the public API listens
    /// on [`Node::url`] (unless `SKEIN_API_LISTENURIS` is in its
    /// environment), its output goes to the node's log.
    pub fn spawn(&mut self) {
        assert!(self.child.is_none(), "{} is already running", self.name);
        self.starts += 1;
        let mut log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())
            .unwrap();
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

    /// Polls `GET /health` every 50 ms until `ready(status)` holds (status
    /// 0: nothing answered); gives up when the process exits or after
    /// `limit`.
    pub fn wait_until(
        &mut self,
        limit: Duration,
        ready: impl Fn(u16) -> bool,
    ) -> Result<(), NotReady> {
        let started = Instant::now();
        loop {
            if let Some(Ok(Some(status))) = self.child.as_mut().map(Child::try_wait) {
                return Err(NotReady::Exited(status));
            }
            if ready(self.get("/health").0) {
                return Ok(());
            }
            if started.elapsed() >= limit {
                return Err(NotReady::TimedOut);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// [`Node::wait_until`], panicking with the log when it gives up.
    fn await_health(&mut self, limit: Duration, what: &str, ready: impl Fn(u16) -> bool) {
        match self.wait_until(limit, ready) {
            Ok(()) => {}
            Err(NotReady::Exited(status)) => panic!(
                "{}: skein run exited with {status}:\n{}",
                self.name,
                self.log()
            ),
            Err(NotReady::TimedOut) => panic!(
                "{}: {what} not within {limit:?}:\n{}",
                self.name,
                self.log()
            ),
        }
    }

    /// Starts `skein run` and waits until `/health` answers at all (a
    /// follower, or a node below its disk floor, answers 503).
    pub fn start(&mut self) {
        self.spawn();
        self.await_health(START_LIMIT, "/health answers", |status| status != 0);
    }

    /// Starts `skein run` and waits until `/health` answers 200.
    pub fn start_healthy(&mut self) {
        self.spawn();
        self.wait_healthy(START_LIMIT);
    }

    /// Waits until `GET /health` answers 200.
    pub fn wait_healthy(&mut self, limit: Duration) {
        self.await_health(limit, "/health answers 200", |status| status == 200);
    }

    /// Kills the node (SIGKILL) and starts it again, healthy, on the same
    /// ports and storage.
    pub fn restart(&mut self) {
        self.kill();
        self.start_healthy();
    }

    /// Starts the node with `skein service start` (the guide's `seq service
    /// start`): detached from this process, its output in the storage
    /// root's `Logs/skein.log` (part of [`Node::log`]); stopped with
    /// `skein service stop`, or killed, when the node is dropped. The
    /// command's output.
    pub fn service_start(&mut self) -> String {
        self.detached = true;
        self.ok(&["service", "start"])
    }

    /// Panics (with the log) when the process has exited.
    pub fn assert_running(&mut self) {
        if let Some(Ok(Some(status))) = self.child.as_mut().map(Child::try_wait) {
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
    pub fn wait_exit(&mut self, limit: Duration) -> ExitStatus {
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

    /// Kills the node (SIGKILL) and reaps it; nothing when not running.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Stops the running node with SIGTERM; its exit status.
    pub fn terminate(&mut self) -> ExitStatus {
        self.signal(libc::SIGTERM);
        let mut c = self
            .child
            .take()
            .unwrap_or_else(|| panic!("{} is not running", self.name));
        c.wait().expect("wait for skein")
    }

    /// [`Node::terminate`] when running.
    pub fn stop(&mut self) {
        if self.child.is_some() {
            self.terminate();
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

    /// Every event `/api/events` returns, newest first, read page by page
    /// (`count=PAGE`, then `afterId=` the last one's id).
    pub fn events(&self, page: usize) -> Vec<serde_json::Value> {
        let mut out: Vec<serde_json::Value> = Vec::new();
        loop {
            let path = match out.last() {
                None => format!("/api/events?count={page}"),
                Some(last) => {
                    let id = last["Id"].as_str().expect("an event id");
                    format!("/api/events?count={page}&afterId={id}")
                }
            };
            let (status, body) = self.get(&path);
            assert_eq!(status, 200, "reading events on {}: {body}", self.name);
            let batch: Vec<serde_json::Value> = serde_json::from_str(&body).expect("events");
            if batch.is_empty() {
                return out;
            }
            out.extend(batch);
        }
    }

    /// The value (as text) of property `name` of every event that
    /// [`Node::events`] returns, newest first.
    pub fn property_values(&self, name: &str) -> Vec<String> {
        let events = self.events(10_000);
        let properties = events
            .iter()
            .flat_map(|e| e["Properties"].as_array().into_iter().flatten());
        properties
            .filter(|p| p["Name"] == name)
            .map(|p| p["Value"].as_str().unwrap_or_default().to_owned())
            .collect()
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

impl Drop for Node {
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

/// `out`'s stdout; panics with both streams unless it succeeded.
fn succeeded(name: &str, args: &[&str], out: Output) -> String {
    assert!(
        out.status.success(),
        "skein {args:?} failed on {name}:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The token line of `apikey create` output.
pub fn token_of(out: &str) -> String {
    out.lines()
        .find_map(|l| l.strip_prefix("token: "))
        .unwrap_or_else(|| panic!("no token in {out}"))
        .to_string()
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
