//! The operator guide's TLS set-up, literally: `--cluster-listen
//! wss://localhost:PORT` and `--internal-api https://localhost:PORT` on
//! each node, while each node's certificate (from a private CA, under
//! `Certificates/<port>.pfx`) is issued for its real name
//! (`seq001.example.local`, `seq002.example.local`, also its `--node-name`)
//! and each node's peer URIs name the other by that real name.
//!
//! The two names resolve to loopback for the nodes only: each node's
//! commands run in a mount namespace of their own whose `/etc/hosts` lists
//! them ([`skein_harness::node::Node::resolve_with`]); the machine's
//! `/etc/hosts` is never touched. The cluster forms over `wss://` (the
//! follower verifies the leader's name as it dials it) and proxies over
//! `https://`; a certificate for none of the node's names refuses the start
//! with a message naming both sides; a peer dialling a name the
//! certificate does not hold is refused by its own verification.

use std::path::Path;
use std::time::Duration;

use serde_json::Value;
use skein_harness::guide::{configure_machine, localhost_api, Machine};
use skein_harness::{
    certs::PfxKind, certs::TestCa, fast_timing, request, wait_for, Node, TestDatabase, CLEF,
};

/// The leader's and the follower's real names.
const SEQ001: &str = "seq001.example.local";
const SEQ002: &str = "seq002.example.local";
/// Another name of the leader's machine, which its certificate lacks.
const ALIAS: &str = "seq003.example.local";
/// The load balancer's address, as the guide's `api.canonicalUri`.
const CANONICAL: &str = "https://logs.example.test";
const KEY: &str = "guide-cluster-key-0123456789";
const PASSWORD: &str = "guide-pfx-pass";

/// The guide's commands for `node`, whose peer is `peer` reached as
/// `peer_name`; then the certificate password (after `storage.secretKey`,
/// as the guide says).
fn configure(node: &Node, peer: &Node, peer_name: &str, secret: &str, db: &str) {
    let machine = Machine {
        tls: true,
        peer_host: peer_name,
        secret_key: secret,
        connection_string: db,
        canonical_uri: CANONICAL,
        cluster_key: KEY,
    };
    configure_machine(node, peer, &machine);
    node.set_secret("certificates.defaultPassword", PASSWORD);
}

/// Puts a certificate for `names` at `Certificates/<port>.pfx` for the
/// node's cluster and internal API ports, and the CA beside them.
fn certificates(node: &Node, ca: &TestCa, names: &[&str]) {
    let dir = node.root().join("Certificates");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(ca.cert_path(), dir.join("example-local-ca.crt")).unwrap();
    for port in [node.internal, node.cluster] {
        let pfx = dir.join(format!("{port}.pfx"));
        ca.issue_pfx(names, PASSWORD, PfxKind::Modern, &pfx);
    }
}

/// `GET path` with the API key → (status, JSON).
fn get(node: &Node, token: &str, path: &str) -> (u16, Value) {
    let (status, body) = request(node.api, "GET", path, &[("X-Seq-ApiKey", token)], b"");
    (status, serde_json::from_str(&body).unwrap_or(Value::Null))
}

/// Ingests one event through `node` → (status, body).
fn ingest(node: &Node, token: &str, step: &str) -> (u16, String) {
    let event =
        format!(r#"{{"@t":"2026-01-01T00:00:00Z","@mt":"Guide {{Step}}","Step":"{step}"}}"#);
    let headers = [("Content-Type", CLEF), ("X-Seq-ApiKey", token)];
    request(node.api, "POST", "/ingest/clef", &headers, event.as_bytes())
}

fn hosts_file(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("hosts");
    let names = format!("127.0.0.1 localhost\n127.0.0.1 {SEQ001} {SEQ002} {ALIAS}\n");
    std::fs::write(&path, names).unwrap();
    path
}

#[test]
fn the_guides_localhost_listeners_serve_certificates_for_the_real_names() {
    let db = TestDatabase::create();
    let ca = TestCa::new();
    let scratch = tempfile::tempdir().unwrap();
    let hosts = hosts_file(scratch.path());
    let mut leader = Node::new(SEQ001);
    let mut follower = Node::new(SEQ002);
    for node in [&mut leader, &mut follower] {
        node.resolve_with(&hosts);
        node.env.extend(fast_timing());
        let api = localhost_api(node);
        node.env.insert("SKEIN_API_LISTENURIS".into(), api);
    }

    // The leader, with a certificate for a name that is none of its own
    // first: it refuses to start, naming its names and the certificate's.
    let secret = leader.ok(&["show-key", "--generate"]).trim().to_owned();
    configure(&leader, &follower, SEQ002, &secret, &db.url);
    leader.ok(&["node", "lead"]);
    let token = leader.create_api_key("guide");
    certificates(&leader, &ca, &["seq009.example.local"]);
    let refused = leader.run(&["service", "start"]);
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success(), "{said}");
    let host_name = skein::tls::NodeNames::host_name().unwrap_or_default();
    let expected = format!(
        "{}.pfx: the certificate is for seq009.example.local, none of the names this node is \
         reached by (localhost, logs.example.test, {SEQ001}, {host_name})",
        leader.internal
    );
    assert!(
        said.contains(&expected),
        "expected {expected:?} in:\n{said}"
    );

    // Issued for its real name: served on the `localhost` listeners.
    certificates(&leader, &ca, &[SEQ001]);
    leader.service_start();
    assert!(
        leader.log().contains(&format!(
            "cluster port listening on wss://localhost:{}",
            leader.cluster
        )),
        "{}",
        leader.log()
    );

    // The follower dials the leader by its real name and verifies it.
    configure(&follower, &leader, SEQ001, &secret, &db.url);
    certificates(&follower, &ca, &[SEQ002]);
    follower.service_start();
    wait_for(
        Duration::from_secs(30),
        "the follower is up to date",
        || {
            let (_, view) = get(&leader, &token, "/api/cluster");
            let nodes = view["Nodes"].as_array().cloned().unwrap_or_default();
            nodes.len() == 2
                && nodes
                    .iter()
                    .any(|n| n["Name"] == SEQ002 && n["IsUpToDate"] == true)
        },
    );
    // Proxied over https://seq001.example.local to the leader's internal
    // API, replicated back over wss://seq001.example.local.
    let (status, body) = ingest(&follower, &token, "followed");
    assert_eq!(status, 201, "{body}\n{}", follower.log());
    wait_for(
        Duration::from_secs(30),
        "the follower stores the event",
        || {
            let g = leader.generation();
            !g.is_empty() && g == follower.generation()
        },
    );
    let search = "/api/events?filter=Step%20%3D%20%27followed%27";
    let (status, events) = get(&follower, &token, search);
    assert_eq!(status, 200, "{events}");
    assert_eq!(events.as_array().map(Vec::len), Some(1), "{events}");
    assert!(
        follower
            .log()
            .contains(&format!("wss://{SEQ001}:{}", leader.cluster)),
        "{}",
        follower.log()
    );

    // Dialled by a name its certificate does not hold (though it reaches
    // the same listeners), the leader is refused by the follower's own
    // verification: neither replication nor proxying goes through.
    follower.ok(&["service", "stop"]);
    let before = follower.log().len();
    follower.ok(&[
        "node",
        "setup",
        "--cluster-listen",
        &format!("wss://localhost:{}", follower.cluster),
        "--internal-api",
        &format!("https://localhost:{}", follower.internal),
        "--peer-cluster",
        &format!("wss://{ALIAS}:{}", leader.cluster),
        "--peer-internal-api",
        &format!("https://{ALIAS}:{}", leader.internal),
        "-k",
        KEY,
        "--node-name",
        SEQ002,
    ]);
    follower.service_start();
    let refusal = format!("certificate not valid for name \"{ALIAS}\"");
    wait_for(
        Duration::from_secs(30),
        "the follower refuses the leader's certificate for the alias",
        || {
            let log = follower.log();
            let since = log.get(before..).unwrap_or("");
            since.contains(&format!("replication from wss://{ALIAS}")) && since.contains(&refusal)
        },
    );
    let (status, body) = ingest(&follower, &token, "refused");
    assert_eq!(status, 503, "{body}");
    let error: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    let error = error["Error"].as_str().unwrap_or_default();
    assert!(error.contains(&refusal), "{body}");
}
