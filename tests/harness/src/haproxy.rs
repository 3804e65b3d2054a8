//! A real HAProxy in front of cluster nodes, for end-to-end tests. Its
//! configuration is the shipped `deploy/haproxy.cfg` with only the bind
//! address and the two server addresses replaced, so the shipped file is
//! what the tests exercise.
//!
//! ```ignore
//! let lb = HaProxy::start(&[a.api, b.api]);
//! ```
//!
//! The binary is `$SKEIN_TEST_HAPROXY`, else `haproxy` on `PATH` (or in
//! `/usr/sbin`); a test that needs it fails, never skips, without it
//! (`tests/run-all.sh` installs it). HAProxy runs as the test's child process
//! and is killed when the [`HaProxy`] is dropped.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::http::request;
use crate::node::wait_for;
use crate::process::free_port;

/// The shipped configuration.
pub const SHIPPED: &str = include_str!("../../../deploy/haproxy.cfg");

/// The HAProxy binary: `$SKEIN_TEST_HAPROXY`, else `haproxy` on `PATH` or
/// in `/usr/sbin`. Panics with a clear message when there is none.
pub fn binary() -> PathBuf {
    if let Some(path) = std::env::var_os("SKEIN_TEST_HAPROXY").filter(|p| !p.is_empty()) {
        let path = PathBuf::from(path);
        assert!(
            path.is_file(),
            "SKEIN_TEST_HAPROXY={} does not exist",
            path.display()
        );
        return path;
    }
    let path = std::env::var("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/usr/local/sbin")])
        .map(|dir| dir.join("haproxy"))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "HAProxy is needed by this test and was not found: install it (apt-get install haproxy; \
                 tests/run-all.sh does) or set SKEIN_TEST_HAPROXY to its path"
            )
        })
}

/// `deploy/haproxy.cfg` listening on 127.0.0.1:`port`, its two servers at
/// 127.0.0.1:`servers[0]` and 127.0.0.1:`servers[1]`, and one more
/// `server` line like them for each further port (an HA cluster's third
/// node and on, as the file's comment says). Panics when the shipped file
/// no longer has the lines it replaces.
pub fn render(shipped: &str, port: u16, servers: &[u16]) -> String {
    assert!(servers.len() >= 2, "two servers or more");
    let replacements = [
        ("bind *:5341", format!("bind 127.0.0.1:{port}")),
        (
            "seq001.example.local:80",
            format!("127.0.0.1:{}", servers[0]),
        ),
        (
            "seq002.example.local:80",
            format!("127.0.0.1:{}", servers[1]),
        ),
    ];
    let mut out = shipped.to_owned();
    for (from, to) in replacements {
        assert_eq!(
            out.matches(from).count(),
            1,
            "deploy/haproxy.cfg should contain `{from}` once"
        );
        out = out.replace(from, &to);
    }
    let second = format!("    server seq002 127.0.0.1:{} check\n", servers[1]);
    let more: String = servers[2..]
        .iter()
        .enumerate()
        .map(|(i, p)| format!("    server seq{:03} 127.0.0.1:{p} check\n", i + 3))
        .collect();
    out.replace(&second, &format!("{second}{more}"))
}

/// A running HAProxy.
pub struct HaProxy {
    /// The port it listens on (127.0.0.1).
    pub port: u16,
    dir: tempfile::TempDir,
    child: Child,
}

impl HaProxy {
    /// Starts HAProxy with the shipped configuration in front of the API
    /// ports `servers`; checks the configuration first and waits until it
    /// accepts connections.
    pub fn start(servers: &[u16]) -> HaProxy {
        let bin = binary();
        let dir = tempfile::tempdir().expect("tempdir");
        let port = free_port();
        let cfg = dir.path().join("haproxy.cfg");
        std::fs::write(&cfg, render(SHIPPED, port, servers)).unwrap();
        let check = Command::new(&bin)
            .arg("-c")
            .arg("-f")
            .arg(&cfg)
            .output()
            .expect("run haproxy -c");
        assert!(
            check.status.success(),
            "haproxy rejects the rendered deploy/haproxy.cfg:\n{}{}",
            String::from_utf8_lossy(&check.stdout),
            String::from_utf8_lossy(&check.stderr)
        );
        let log = std::fs::File::create(dir.path().join("haproxy.log")).unwrap();
        // -db: stay in the foreground, as this process's child.
        let child = Command::new(&bin)
            .arg("-db")
            .arg("-f")
            .arg(&cfg)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start haproxy");
        let mut lb = HaProxy { port, dir, child };
        wait_for(Duration::from_secs(20), "HAProxy listens", || {
            if let Ok(Some(status)) = lb.child.try_wait() {
                panic!("haproxy exited with {status}:\n{}", lb.log());
            }
            std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
        lb
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Everything HAProxy logged (one line per request).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("haproxy.log")
    }

    /// `GET path` through the load balancer.
    pub fn get(&self, path: &str) -> (u16, String) {
        request(self.port, "GET", path, &[], b"")
    }
}

impl Drop for HaProxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
