//! Harness for end-to-end tests: real `skein run` processes on free ports
//! and temporary storage roots, stopped (SIGKILL) when dropped.
//!
//! ```ignore
//! mod support;
//! let node = support::Server::start();
//! let (status, body) = node.post("/api/events/raw?clef", "application/json", body);
//! ```

#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The `skein` binary under test.
pub fn skein_bin() -> &'static str {
    env!("CARGO_BIN_EXE_skein")
}

/// `skein --storage ROOT` with a cleared environment: `HOME`, `PATH`, no
/// disk floor, plus `env`.
pub fn skein_command(
    home: &std::path::Path,
    root: &std::path::Path,
    env: &HashMap<String, String>,
) -> Command {
    let mut cmd = Command::new(skein_bin());
    cmd.env_clear()
        .env("HOME", home)
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("SKEIN_STORAGE_FLUSHFLOORBYTES", "0")
        .envs(env)
        .arg("--storage")
        .arg(root);
    cmd
}

/// A port reserved for this test process: below the kernel's ephemeral
/// range (32768+, where outgoing connections take their local ports, so a
/// port picked by binding `:0` can be taken before the node binds it), and
/// locked against other test processes running at the same time by an
/// advisory lock on `$TMPDIR/skein-test-ports/PORT.lock`, held until this
/// process exits.
pub fn free_port() -> u16 {
    free_ports_at(&[0])
}

/// A base port `B` such that `B + o` is free and reserved (as by
/// [`free_port`]) for every offset `o` in `offsets`: for scripts that take
/// one base port and derive the others from it.
#[allow(dead_code)]
pub fn free_ports_at(offsets: &[u16]) -> u16 {
    use std::sync::Mutex;
    static HELD: Mutex<Vec<std::fs::File>> = Mutex::new(Vec::new());
    const FIRST: u32 = 20_000;
    const COUNT: u32 = 12_000;
    let dir = std::env::temp_dir().join("skein-test-ports");
    std::fs::create_dir_all(&dir).expect("create the port lock directory");
    let span = u32::from(offsets.iter().copied().max().unwrap_or(0));
    let mut seed = [0u8; 4];
    getrandom::fill(&mut seed).expect("random seed");
    let start = u32::from_le_bytes(seed) % (COUNT - span);
    let mut held = HELD.lock().unwrap_or_else(|e| e.into_inner());
    'bases: for offset in 0..COUNT - span {
        let base = FIRST + (start + offset) % (COUNT - span);
        let mut locks = Vec::with_capacity(offsets.len());
        for o in offsets {
            let port = (base + u32::from(*o)) as u16;
            let Ok(lock) = std::fs::File::create(dir.join(format!("{port}.lock"))) else {
                continue 'bases;
            };
            if lock.try_lock().is_err() || TcpListener::bind(("127.0.0.1", port)).is_err() {
                continue 'bases;
            }
            locks.push(lock);
        }
        held.extend(locks);
        return base as u16;
    }
    panic!("no free ports in {FIRST}..{}", FIRST + COUNT);
}

/// A running node.
pub struct Server {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// The port.
    pub port: u16,
    /// The storage root.
    pub root: PathBuf,
    /// Extra environment the node runs with.
    pub env: HashMap<String, String>,
    dir: tempfile::TempDir,
    child: Option<Child>,
}

impl Server {
    /// Starts a node on a free port with a fresh storage root.
    pub fn start() -> Server {
        Server::start_with(HashMap::new())
    }

    /// Starts a node with extra `SKEIN_*` environment.
    pub fn start_with(env: HashMap<String, String>) -> Server {
        Server::start_prepared(env, |_| {})
    }

    /// Starts a node with extra `SKEIN_*` environment after `prepare` ran
    /// on its (not yet started) storage root, e.g. to store a secret with
    /// [`Server::cli`].
    pub fn start_prepared(env: HashMap<String, String>, prepare: impl FnOnce(&Server)) -> Server {
        let mut s = Server::unstarted(None, env);
        prepare(&s);
        s.spawn();
        s
    }

    /// Starts a node with `auth.required` on and an API key holding every
    /// permission (made with `skein apikey create` before the node starts):
    /// (node, the key's token).
    pub fn start_secured() -> (Server, String) {
        let env = HashMap::from([("SKEIN_AUTH_REQUIRED".to_string(), "true".to_string())]);
        let mut token = String::new();
        let node = Server::start_prepared(env, |s| {
            let out = s.cli(&[
                "apikey",
                "create",
                "--title",
                "everything",
                "--ingest",
                "--read",
                "--write",
                "--project",
                "--system",
            ]);
            let text = String::from_utf8_lossy(&out.stdout);
            token = text
                .lines()
                .find_map(|l| l.strip_prefix("token: "))
                .unwrap_or_else(|| panic!("no token in {text}"))
                .to_owned();
        });
        (node, token)
    }

    /// Starts a node whose storage root is `root` (e.g. on a slow disk)
    /// rather than in the node's temporary directory, which keeps its log.
    pub fn start_in(root: PathBuf, env: HashMap<String, String>) -> Server {
        let mut s = Server::unstarted(Some(root), env);
        s.spawn();
        s
    }

    /// A node not yet started: a fresh temporary directory (home, logs,
    /// and the storage root unless `root` is given).
    fn unstarted(root: Option<PathBuf>, env: HashMap<String, String>) -> Server {
        let dir = tempfile::tempdir().expect("tempdir");
        Server {
            url: String::new(),
            port: 0,
            root: root.unwrap_or_else(|| dir.path().join("storage")),
            env,
            dir,
            child: None,
        }
    }

    /// Starts a node that is expected to come up unhealthy (e.g. below its
    /// disk floor): waits only until `/health` answers at all.
    pub fn start_unhealthy_with(env: HashMap<String, String>) -> Server {
        let mut s = Server::unstarted(None, env);
        s.spawn_until(|status| status != 0);
        s
    }

    /// Runs a `skein` command against this node's storage root.
    pub fn cli(&self, args: &[&str]) -> std::process::Output {
        self.command()
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("run skein")
    }

    fn command(&self) -> Command {
        skein_command(self.dir.path(), &self.root, &self.env)
    }

    fn spawn(&mut self) {
        self.spawn_until(|status| status == 200);
    }

    fn spawn_until(&mut self, ready: fn(u16) -> bool) {
        let port = free_port();
        let log = std::fs::File::create(self.dir.path().join(format!("node-{port}.log"))).unwrap();
        let child = self
            .command()
            .env("SKEIN_API_LISTENURIS", format!("http://127.0.0.1:{port}"))
            .env("RUST_LOG", "info,sqlx=warn,sea_orm_migration=warn")
            .arg("run")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start skein run");
        self.port = port;
        self.url = format!("http://127.0.0.1:{port}");
        self.child = Some(child);
        self.wait_for_health(Duration::from_secs(30), ready);
    }

    /// Waits until `GET /health` answers 200.
    pub fn wait_healthy(&mut self, limit: Duration) {
        self.wait_for_health(limit, |status| status == 200);
    }

    fn wait_for_health(&mut self, limit: Duration, ready: fn(u16) -> bool) {
        let start = Instant::now();
        while start.elapsed() < limit {
            if let Some(c) = &mut self.child {
                if let Ok(Some(status)) = c.try_wait() {
                    panic!("skein run exited with {status}:\n{}", self.log());
                }
            }
            if ready(self.get("/health").0) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("node not healthy after {limit:?}:\n{}", self.log());
    }

    /// The node's log so far.
    pub fn log(&self) -> String {
        std::fs::read_dir(self.dir.path())
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().ends_with(".log"))
            .map(|e| std::fs::read_to_string(e.path()).unwrap_or_default())
            .collect()
    }

    /// Kills the process with SIGKILL.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Stops the process with SIGTERM and waits for it to exit.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let mut c = self.child.take().expect("running");
        // SAFETY: sending a signal to our own child process.
        unsafe { libc::kill(c.id() as i32, libc::SIGTERM) };
        c.wait().expect("wait for skein")
    }

    /// Restarts the node on a new port, same storage.
    pub fn restart(&mut self) {
        self.kill();
        self.spawn();
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| matches!(c.try_wait(), Ok(None)))
    }

    /// `GET path` → (status, body).
    pub fn get(&self, path: &str) -> (u16, String) {
        request(self.port, "GET", path, &[], b"")
    }

    /// `POST path` with a content type → (status, body).
    pub fn post(&self, path: &str, content_type: &str, body: &[u8]) -> (u16, String) {
        request(
            self.port,
            "POST",
            path,
            &[("Content-Type", content_type)],
            body,
        )
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// One HTTP/1.1 request on a fresh connection (`Connection: close`); the
/// status (0 when nothing answered) and the body.
pub fn request(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, String) {
    let answer = exchange(port, method, path, headers, body);
    (answer.status, answer.body)
}

/// An HTTP answer: status (0 when nothing answered), head and body.
#[derive(Debug, Default)]
pub struct Answer {
    /// The status code.
    pub status: u16,
    /// The status line and headers, as sent.
    pub head: String,
    /// The body (de-chunked).
    pub body: String,
}

impl Answer {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|line| {
            let (k, v) = line.split_once(':')?;
            k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }
}

/// [`request`], keeping the answer's headers.
pub fn exchange(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Answer {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return Answer::default();
    };
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    if s.write_all(head.as_bytes())
        .and_then(|_| s.write_all(body))
        .is_err()
    {
        // The server may answer (413) before reading the whole body.
    }
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    parse_answer(&raw)
}

/// Status and body of a raw HTTP response (de-chunked when chunked).
pub fn parse_response(raw: &[u8]) -> (u16, String) {
    let answer = parse_answer(raw);
    (answer.status, answer.body)
}

/// A raw HTTP response's status, head and (de-chunked) body.
pub fn parse_answer(raw: &[u8]) -> Answer {
    let text = String::from_utf8_lossy(raw);
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let Some((head, body)) = text.split_once("\r\n\r\n") else {
        return Answer {
            status,
            head: text.into_owned(),
            body: String::new(),
        };
    };
    let chunked = head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked");
    Answer {
        status,
        head: head.to_owned(),
        body: if chunked {
            dechunk(body)
        } else {
            body.to_owned()
        },
    }
}

/// A chunked (`Transfer-Encoding: chunked`) body's content.
pub fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        body = rest[n..].trim_start_matches("\r\n");
    }
    out
}
