//! `skein service start | stop | restart | status` — the guide's
//! `seq service start` — against the real binary: the node runs detached
//! from the command, its storage root is claimed by one process at a time,
//! a start that fails says why, and data survives a stop and a start.

use skein_harness::{wait_for, Node, TestDatabase, CLEF};
use std::process::Output;

/// `service ARGS`.
fn service<'a>(args: &[&'a str]) -> Vec<&'a str> {
    let mut all = vec!["service"];
    all.extend_from_slice(args);
    all
}

/// A node run through `skein service` (stopped when dropped, see
/// [`Node::service_start`]).
struct Service(Node);

impl Service {
    fn new() -> Service {
        let mut node = Node::new("svc");
        node.env.insert("SKEIN_API_LISTENURIS".into(), node.url());
        Service(node)
    }

    fn run(&self, args: &[&str]) -> Output {
        self.0.run(&service(args))
    }

    /// `skein service ARGS`, which must succeed; its stdout.
    fn ok(&mut self, args: &[&str]) -> String {
        if args == ["start"] {
            return self.0.service_start();
        }
        self.0.ok(&service(args))
    }

    /// `skein service ARGS`, which must fail; its stderr.
    fn fails(&self, args: &[&str]) -> String {
        self.0.fails(&service(args))
    }

    /// The running node's process id, from `status`.
    fn pid(&mut self) -> u32 {
        let status = self.ok(&["status"]);
        status
            .split("(pid ")
            .nth(1)
            .and_then(|rest| rest.split(')').next())
            .and_then(|pid| pid.parse().ok())
            .unwrap_or_else(|| panic!("no pid in {status:?}"))
    }
}

#[test]
fn service_start_runs_the_node_in_the_background_until_service_stop() {
    let mut svc = Service::new();
    assert!(svc.fails(&["status"]).contains("not running"));

    let started = svc.ok(&["start"]);
    assert!(
        started.contains("ready: listening on") && started.contains("skein started"),
        "{started}"
    );
    // The command has returned; the node answers on its own.
    assert_eq!(svc.0.get("/health").0, 200);
    let pid = svc.pid();
    // The node writes (and rotates) Logs/skein.log itself.
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap();
    let log_file = svc.0.root().join("Logs").join("skein.log");
    let expected = format!("run\0--log-file\0{}\0", log_file.display());
    assert!(
        String::from_utf8_lossy(&cmdline).contains(&expected),
        "{:?}",
        String::from_utf8_lossy(&cmdline)
    );
    let event = "{\"@t\":\"2026-01-01T00:00:00Z\",\"@mt\":\"Kept {N}\",\"N\":1}\n";
    assert_eq!(svc.0.post("/ingest/clef", CLEF, event.as_bytes()).0, 201);

    // Starting again changes nothing; a second `skein run` on the root is
    // refused, naming the running one.
    assert!(svc
        .ok(&["start"])
        .contains(&format!("already running on {}", svc.0.root().display())));
    assert_eq!(svc.pid(), pid);
    let second = svc.0.run(&["run"]);
    let said = String::from_utf8_lossy(&second.stderr);
    assert!(
        !second.status.success() && said.contains(&format!("process {pid}")),
        "{said}"
    );
    assert_eq!(svc.0.get("/health").0, 200, "the running node is untouched");

    let stopped = svc.ok(&["stop"]);
    assert!(stopped.contains("skein stopped"), "{stopped}");
    assert_eq!(svc.0.get("/health").0, 0, "nothing answers");
    assert!(svc.fails(&["status"]).contains("not running"));
    assert!(
        svc.ok(&["stop"]).contains("not running"),
        "stopping twice is fine"
    );
    let log_file = svc.0.root().join("Logs").join("skein.log");
    let log = std::fs::read_to_string(&log_file).unwrap();
    assert!(log.contains("stopped"), "a graceful stop, logged:\n{log}");
    use std::os::unix::fs::PermissionsExt as _;
    let mode = std::fs::metadata(&log_file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "the log is private to the node's user");

    // Restart (from stopped) and the event is still there.
    svc.ok(&["restart"]);
    assert_ne!(svc.pid(), pid);
    let (status, found) = svc.0.get("/api/events?filter=N%20%3D%201");
    assert_eq!(status, 200);
    assert!(found.contains("Kept"), "{found}");
    // Restart (from running): a new process.
    let before = svc.pid();
    svc.ok(&["restart"]);
    assert_ne!(svc.pid(), before);
    svc.ok(&["stop"]);
}

#[test]
fn a_node_killed_hard_leaves_no_claim_behind() {
    let mut svc = Service::new();
    svc.ok(&["start"]);
    let pid = svc.pid();
    // SAFETY: killing the node this test started.
    unsafe { libc::kill(pid as i32, libc::SIGKILL) };
    wait_for(
        std::time::Duration::from_secs(10),
        "the claim ends with the process",
        || !svc.run(&["status"]).status.success(),
    );
    assert!(
        svc.0.root().join("skein.pid").exists(),
        "the stale file stays"
    );
    svc.ok(&["start"]);
    assert_eq!(svc.0.get("/health").0, 200);
    svc.ok(&["stop"]);
}

#[test]
fn a_start_that_fails_says_why_and_leaves_nothing_running() {
    let mut svc = Service::new();
    // The port is taken by another listener.
    let taken = std::net::TcpListener::bind(("127.0.0.1", svc.0.api)).unwrap();
    let said = svc.fails(&["start"]);
    assert!(
        said.contains("stopped at start") && said.contains("cannot listen on"),
        "{said}"
    );
    assert!(svc.fails(&["status"]).contains("not running"));
    drop(taken);
    svc.ok(&["start"]);
    svc.ok(&["stop"]);
}

/// `metastore to-postgresql` on a running node's storage root is refused,
/// naming the node's process, and changes nothing: the node would go on
/// writing the embedded metastore. Once the node is stopped it goes ahead.
#[test]
fn metastore_to_postgresql_is_refused_while_the_node_runs() {
    let db = TestDatabase::create();
    let mut svc = Service::new();
    svc.0.init_secret_key();
    svc.ok(&["start"]);
    let pid = svc.pid();
    let arg = format!("--connection-string={}", db.url);
    let out = svc.0.run(&["metastore", "to-postgresql", &arg]);
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success()
            && said.contains("cannot be moved while the node runs")
            && said.contains(&format!("process {pid}"))
            && said.contains("skein service stop"),
        "{said}"
    );
    assert!(
        !svc.0
            .ok(&["secret", "list"])
            .contains("metastore.postgres.connectionString"),
        "the node still uses its embedded metastore"
    );
    assert_eq!(svc.0.get("/health").0, 200, "the running node is untouched");

    svc.ok(&["stop"]);
    let moved = svc.0.ok(&["metastore", "to-postgresql", &arg]);
    assert!(moved.contains("Stored the connection string"), "{moved}");
}

/// `skein run` started by a test, killed when dropped.
struct Running(std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn the_log_file_is_rotated_at_its_cap_keeping_a_few_files() {
    use std::os::unix::fs::PermissionsExt as _;
    use std::os::unix::net::UnixDatagram;
    use std::time::Duration;

    let node = Node::new("rot");
    let logs = tempfile::tempdir().unwrap();
    let log = logs.path().join("skein.log");
    // Each SIGHUP logs one line; the node says READY=1 after it (tests/systemd.rs).
    let socket_path = logs.path().join("notify.sock");
    let socket = UnixDatagram::bind(&socket_path).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let mut buf = [0u8; 4096];
    let mut wait_ready = || {
        let n = socket.recv(&mut buf).expect("a notification");
        String::from_utf8_lossy(&buf[..n]).starts_with("READY=1")
    };
    let cap = 4096;
    let child = node
        .command()
        .env("SKEIN_API_LISTENURIS", node.url())
        .env("NOTIFY_SOCKET", &socket_path)
        .env("RUST_LOG", "info")
        .args(["run", "--log-file"])
        .arg(&log)
        .args(["--log-file-max-bytes", &cap.to_string()])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let running = Running(child);
    assert!(wait_ready(), "the node is ready");
    let pid = running.0.id() as i32;
    // Enough lines for more rotations than files kept (each ~150 bytes).
    for _ in 0..200 {
        // SAFETY: signalling the node this test started.
        assert_eq!(unsafe { libc::kill(pid, libc::SIGHUP) }, 0);
        while !wait_ready() {} // RELOADING=1, then READY=1
    }
    let mut names: Vec<String> = std::fs::read_dir(logs.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("skein.log"))
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "skein.log",
            "skein.log.1",
            "skein.log.2",
            "skein.log.3",
            "skein.log.4"
        ],
        "the current file and four rotated ones"
    );
    for name in &names {
        let meta = std::fs::metadata(logs.path().join(name)).unwrap();
        assert!(meta.len() <= cap, "{name} holds {} bytes", meta.len());
        assert_eq!(meta.permissions().mode() & 0o777, 0o600, "{name}");
    }
    let older = std::fs::read_to_string(logs.path().join("skein.log.4")).unwrap();
    assert!(
        !older.contains("ready: listening on"),
        "the oldest files were dropped:\n{older}"
    );
    assert!(
        older.contains("SIGHUP:") && older.len() as u64 > cap / 2,
        "{older}"
    );
    drop(running);
}

#[test]
fn bad_log_file_flags_are_refused_and_change_nothing() {
    let node = Node::new("badlog");
    let logs = tempfile::tempdir().unwrap();
    let log = logs.path().join("skein.log");
    let log_arg = log.display().to_string();
    for (args, says) in [
        (
            vec!["run", "--log-file", &log_arg, "--log-file-max-bytes", "100"],
            "--log-file-max-bytes",
        ),
        (
            vec!["run", "--log-file", &log_arg, "--log-file-max-bytes", "ten"],
            "--log-file-max-bytes",
        ),
        (
            vec!["run", "--log-file-max-bytes", "8192"],
            "--log-file <FILE>",
        ),
        (
            vec!["run", "--log-file", "/no/such/dir/skein.log"],
            "cannot open the log file /no/such/dir/skein.log",
        ),
    ] {
        let out = node.run(&args);
        let said = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} succeeded");
        assert!(said.contains(says), "{args:?}: {said}");
        assert!(!log.exists(), "{args:?} created the log file");
        assert!(!node.root().exists(), "{args:?} touched the storage root");
    }
}
