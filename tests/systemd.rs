//! systemd's notify protocol against the real binary: `skein run` with
//! `NOTIFY_SOCKET` set to a datagram socket this test binds, as systemd
//! does for `Type=notify` (deploy/skein.service): READY=1 once the port
//! accepts connections, RELOADING=1 then READY=1 around a SIGHUP reload,
//! STOPPING=1 as soon as SIGTERM starts the stop.

use skein_harness::Node;
use std::os::unix::net::UnixDatagram;
use std::time::Duration;

/// The next notification on `socket` (its lines), within a minute.
fn next(socket: &UnixDatagram, node: &Node) -> Vec<String> {
    let mut buf = [0u8; 4096];
    let n = socket
        .recv(&mut buf)
        .unwrap_or_else(|e| panic!("no notification ({e}):\n{}", node.log()));
    String::from_utf8_lossy(&buf[..n])
        .lines()
        .map(str::to_owned)
        .collect()
}

fn signal(node: &Node, signal: i32) {
    let pid = node.pid().expect("running") as i32;
    // SAFETY: signalling the node this test started.
    assert_eq!(unsafe { libc::kill(pid, signal) }, 0);
}

#[test]
fn a_node_tells_systemd_when_it_is_ready_reloading_and_stopping() {
    let mut node = Node::new("notify");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notify.sock");
    let socket = UnixDatagram::bind(&path).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    node.env
        .insert("NOTIFY_SOCKET".into(), path.display().to_string());
    node.spawn();

    let ready = next(&socket, &node);
    assert_eq!(ready[0], "READY=1", "{ready:?}");
    assert!(
        ready.contains(&format!("STATUS=listening on {}", node.url())),
        "{ready:?}"
    );
    // Ready means the port takes connections now.
    std::net::TcpStream::connect(("127.0.0.1", node.api)).expect("the port accepts");
    assert_eq!(node.get("/health").0, 200);

    signal(&node, libc::SIGHUP);
    let reloading = next(&socket, &node);
    assert_eq!(reloading[0], "RELOADING=1", "{reloading:?}");
    assert!(
        reloading.iter().any(|l| l.starts_with("MONOTONIC_USEC=")),
        "{reloading:?}"
    );
    assert_eq!(next(&socket, &node), ["READY=1"]);

    signal(&node, libc::SIGTERM);
    assert_eq!(next(&socket, &node), ["STOPPING=1"]);
    let status = node.wait_exit(Duration::from_secs(30));
    assert!(status.success(), "{status}\n{}", node.log());
}
