//! The shipped deployment files, exercised as an operator would use them:
//!
//! - `deploy/demo-cluster.sh` starts a working two-node cluster behind
//!   HAProxy (a shared PostgreSQL database of its own), and Ctrl-C stops
//!   both nodes and drops that database;
//! - `deploy/nginx.conf`, with only its server names and listen port
//!   changed, balances across both nodes of a real cluster and keeps every
//!   request answered when one node is killed (its passive checks retry the
//!   other node);
//! - `deploy/skein.service` passes `systemd-analyze verify`.
//!
//! `tests/run-all.sh` installs HAProxy and nginx (`nginx-light`); these
//! tests fail, saying what is missing, when either is absent.

use skein_harness::{
    fast_timing, free_port, ingest_clef, process::free_ports_at, process::skein_bin, request,
    wait_for, Cluster, Node,
};
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The first of `candidates` that exists, or a failure naming the package.
fn program(candidates: &[&str], package: &str) -> PathBuf {
    candidates
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
        .unwrap_or_else(|| {
            panic!("{candidates:?} missing: install `{package}` (tests/run-all.sh does)")
        })
}

/// A child process stopped when dropped: SIGTERM (the demo script's trap
/// then stops its nodes; nginx's master its workers), SIGKILL after 10 s.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        unsafe { libc::kill(self.0.id() as i32, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if !matches!(self.0.try_wait(), Ok(None)) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Whether something accepts connections on 127.0.0.1:`port`.
fn listening(port: u16) -> bool {
    std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
}

/// Whether the database `name` exists on the test PostgreSQL server.
fn database_exists(name: &str) -> bool {
    let admin = std::env::var("SKEIN_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string());
    let out = Command::new("psql")
        .args([admin.as_str(), "-tAc"])
        .arg(format!(
            "SELECT 1 FROM pg_database WHERE datname = '{name}'"
        ))
        .output()
        .expect("run psql");
    assert!(out.status.success(), "psql failed: {out:?}");
    String::from_utf8_lossy(&out.stdout).trim() == "1"
}

/// A one-event CLEF batch whose message carries `text`.
fn event(text: &str) -> String {
    format!(
        "{{\"@t\":\"2026-01-01T00:00:00Z\",\"@mt\":\"deployed {{Text}}\",\"Text\":\"{text}\"}}\n"
    )
}

/// How many events match `filter` on the node at `port`.
fn count(port: u16, filter: &str) -> usize {
    let filter: String = url::form_urlencoded::byte_serialize(filter.as_bytes()).collect();
    let path = format!("/api/events?count=1000&filter={filter}");
    let (status, body) = request(port, "GET", &path, &[], b"");
    assert_eq!(status, 200, "{body}");
    serde_json::from_str::<Vec<serde_json::Value>>(&body)
        .unwrap_or_else(|e| panic!("{e}: {body}"))
        .len()
}

#[test]
fn the_demo_script_starts_a_cluster_behind_haproxy_and_ctrl_c_cleans_up() {
    program(&["/usr/sbin/haproxy", "/usr/bin/haproxy"], "haproxy");
    // The script's ports: API BASE+1 and BASE+11, cluster BASE+4 and
    // BASE+14, load balancer BASE+21.
    let base = free_ports_at(&[1, 4, 11, 14, 21]);
    let (api_a, api_b, lb) = (base + 1, base + 11, base + 21);
    let out_dir = tempfile::tempdir().unwrap();
    let out_path = out_dir.path().join("demo.out");
    let child = Command::new("bash")
        .arg(repo().join("deploy/demo-cluster.sh"))
        .env("SKEIN", skein_bin())
        .env("BASE_PORT", base.to_string())
        .env(
            "PATH",
            format!("/usr/sbin:{}", std::env::var("PATH").unwrap_or_default()),
        )
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run deploy/demo-cluster.sh");
    let mut demo = Running(child);
    let printed = || std::fs::read_to_string(&out_path).unwrap_or_default();
    wait_for(Duration::from_secs(90), "the demo script is ready", || {
        printed().contains("Ctrl-C stops the cluster.")
    });
    let banner = printed();
    assert!(
        banner.contains(&format!("load balancer      http://127.0.0.1:{lb}")),
        "HAProxy did not start:\n{banner}"
    );
    let database = banner
        .split("(metastore: ")
        .nth(1)
        .and_then(|rest| rest.split(')').next())
        .unwrap_or_else(|| panic!("no metastore database named:\n{banner}"))
        .to_string();
    assert!(database_exists(&database), "{database} was not created");

    // Both nodes, through the load balancer; the follower catches up.
    wait_for(
        Duration::from_secs(60),
        "node-b follows, up to date",
        || {
            let (status, body) = request(lb, "GET", "/api/cluster", &[], b"");
            let view: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
            let nodes = view["Nodes"].as_array().cloned().unwrap_or_default();
            status == 200
                && nodes
                    .iter()
                    .any(|n| n["Name"] == "node-a" && n["Role"] == "Leader")
                && nodes
                    .iter()
                    .any(|n| n["Name"] == "node-b" && n["IsUpToDate"] == true)
        },
    );
    for i in 0..6 {
        let (status, body) = ingest_clef(lb, &event(&format!("demo-{i}")));
        assert_eq!(status, 201, "ingestion through HAProxy: {body}");
    }
    assert_eq!(count(api_b, "Text like 'demo-%'"), 6, "searched via node-b");

    // Ctrl-C: both nodes stop, the throwaway database is dropped.
    unsafe { libc::kill(demo.0.id() as i32, libc::SIGINT) };
    let started = Instant::now();
    let status = loop {
        if let Some(status) = demo.0.try_wait().unwrap() {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the demo script did not stop on Ctrl-C"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    let mut stderr = String::new();
    let _ = demo
        .0
        .stderr
        .take()
        .map(|mut e| e.read_to_string(&mut stderr));
    assert_eq!(
        status.code(),
        Some(130),
        "exit status after Ctrl-C; stderr:\n{stderr}"
    );
    for port in [api_a, api_b, lb] {
        assert!(!listening(port), "port {port} still answers after Ctrl-C");
    }
    assert!(!database_exists(&database), "{database} was not dropped");
}

/// `deploy/nginx.conf` with the server names and listen port replaced,
/// wrapped in the smallest main configuration nginx runs with as a child
/// process (`daemon off`, everything under `dir`).
fn nginx_config(dir: &Path, listen: u16, a: u16, b: u16) -> PathBuf {
    let shipped = std::fs::read_to_string(repo().join("deploy/nginx.conf")).unwrap();
    let mut site = shipped.clone();
    for (from, to) in [
        ("seq001.example.local:80", format!("127.0.0.1:{a}")),
        ("seq002.example.local:80", format!("127.0.0.1:{b}")),
        ("listen 5341;", format!("listen 127.0.0.1:{listen};")),
    ] {
        assert!(site.contains(from), "deploy/nginx.conf lost `{from}`");
        site = site.replace(from, &to);
    }
    std::fs::write(dir.join("skein.conf"), site).unwrap();
    let d = dir.display();
    let main = format!(
        "daemon off;\nuser root;\nworker_processes 1;\npid {d}/nginx.pid;\nerror_log {d}/error.log;\n\
         events {{ worker_connections 256; }}\n\
         http {{\n  access_log off;\n  client_body_temp_path {d}/body;\n  proxy_temp_path {d}/proxy;\n\
         fastcgi_temp_path {d}/fastcgi;\n  uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n\
         include {d}/skein.conf;\n}}\n"
    );
    let path = dir.join("nginx.conf");
    std::fs::write(&path, main).unwrap();
    path
}

#[test]
fn the_nginx_config_balances_both_nodes_and_survives_one_being_killed() {
    let nginx = program(&["/usr/sbin/nginx"], "nginx-light");
    let mut cluster = Cluster::sized(2).env(&fast_timing()).start();
    let [leader, follower] = cluster.nodes_mut();
    let dir = tempfile::tempdir().unwrap();
    let listen = free_port();
    let config = nginx_config(dir.path(), listen, leader.api, follower.api);
    let test = Command::new(&nginx)
        .arg("-t")
        .arg("-c")
        .arg(&config)
        .arg("-p")
        .arg(dir.path())
        .output()
        .expect("run nginx -t");
    assert!(test.status.success(), "nginx -t: {test:?}");
    let _nginx = Running(
        Command::new(&nginx)
            .arg("-c")
            .arg(&config)
            .arg("-p")
            .arg(dir.path())
            .stdin(Stdio::null())
            .spawn()
            .expect("start nginx"),
    );
    wait_for(Duration::from_secs(10), "nginx listens", || {
        listening(listen)
    });

    // Round-robin: both nodes take ingestion requests (the follower proxies).
    let served = |node: &Node| {
        node.metrics()
            .iter()
            .filter(|(k, _)| k.contains("route=\"/ingest/clef\"") && k.contains("status=\"201\""))
            .map(|(_, v)| *v)
            .sum::<f64>()
    };
    for i in 0..20 {
        let (status, body) = ingest_clef(listen, &event(&format!("nginx-{i}")));
        assert_eq!(status, 201, "ingestion through nginx: {body}");
    }
    // Every request is counted where it was served: the follower's share
    // once there (answered by proxy) and again on the leader.
    let (by_follower, by_leader) = (served(follower), served(leader));
    assert!(by_follower >= 5.0, "the follower took {by_follower} of 20");
    assert_eq!(by_leader, 20.0, "the leader stored all 20");

    // The follower dies: nginx retries the leader, nothing fails.
    follower.kill();
    for i in 20..60 {
        let (status, body) = ingest_clef(listen, &event(&format!("nginx-{i}")));
        assert_eq!(
            status, 201,
            "ingestion through nginx, follower killed: {body}"
        );
    }
    assert_eq!(count(leader.api, "Text like 'nginx-%'"), 60);
}

#[test]
fn the_systemd_unit_passes_systemd_analyze_verify() {
    let analyze = program(&["/usr/bin/systemd-analyze"], "systemd");
    let shipped = std::fs::read_to_string(repo().join("deploy/skein.service")).unwrap();
    assert!(shipped.contains("ExecStart=/usr/local/bin/skein run"));
    // The node speaks sd_notify (tests/systemd.rs) and reloads on SIGHUP.
    for line in [
        "Type=notify",
        "NotifyAccess=main",
        "ExecReload=/bin/kill -HUP $MAINPID",
    ] {
        assert!(shipped.lines().any(|l| l == line), "{line}");
    }
    let dir = tempfile::tempdir().unwrap();
    let unit = dir.path().join("skein.service");
    // The binary the unit names must exist for verify: point it at ours.
    std::fs::write(
        &unit,
        shipped.replace("/usr/local/bin/skein", &skein_bin().display().to_string()),
    )
    .unwrap();
    let out = Command::new(&analyze)
        .arg("verify")
        .arg(&unit)
        .output()
        .expect("run systemd-analyze verify");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && stderr.trim().is_empty(), "{out:?}");
    // A broken unit is refused, so the check above can fail.
    std::fs::write(
        &unit,
        shipped.replace("Restart=on-failure", "Restart=sometimes"),
    )
    .unwrap();
    let broken = Command::new(&analyze)
        .arg("verify")
        .arg(&unit)
        .output()
        .unwrap();
    assert!(
        !broken.status.success() || !broken.stderr.is_empty(),
        "systemd-analyze accepted Restart=sometimes"
    );
}
