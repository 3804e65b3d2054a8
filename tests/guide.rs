//! The operator guide (`shared/seed/000_…txt`), followed literally with
//! `skein` in place of `seq` and PostgreSQL in place of SQL Node: the
//! guide's commands, in the guide's order, for the leader and then the
//! follower — the same `storage.secretKey` on both, the metastore
//! connection string as a secret, `api.canonicalUri` set to the load
//! balancer's address, `node setup` with `localhost` in the listen URIs and
//! the peer's (non-loopback) address in the peer URIs, `node lead` on the
//! leader only — then `skein service start` on each. Only the ports differ
//! from the guide (both nodes share this machine): `api.listenUris` is set
//! to a free port with `config set` (and the same value is in the
//! environment of every command, as the harness gives it).

use std::net::{IpAddr, TcpStream, UdpSocket};
use std::time::Duration;

use serde_json::Value;
use skein_harness::guide::{configure_machine, localhost_api, Machine};
use skein_harness::{exchange, fast_timing, request, wait_for, Node, TestDatabase, CLEF};

/// The load balancer's address, as the guide's `api.canonicalUri`.
const CANONICAL: &str = "https://logs.example.test";
/// The cluster authentication key, the same on both nodes.
const KEY: &str = "guide-cluster-key-0123456789";

/// This machine's address on its network (not loopback): the peer URIs
/// name it as the guide names the other machine. The route a UDP socket
/// would take (nothing is sent), else `hostname -I`; no such address fails
/// the test, as the guide's set-up could not be checked.
fn non_loopback_ip() -> IpAddr {
    let routed = UdpSocket::bind("0.0.0.0:0")
        .and_then(|s| s.connect("192.0.2.1:9").map(|()| s))
        .and_then(|s| s.local_addr())
        .map(|a| a.ip())
        .ok()
        .filter(|ip| !ip.is_loopback() && !ip.is_unspecified());
    if let Some(ip) = routed {
        return ip;
    }
    let out = std::process::Command::new("hostname").arg("-I").output();
    let listed = out.map(|o| String::from_utf8_lossy(&o.stdout).into_owned());
    listed
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|a| a.parse::<IpAddr>().ok())
        .find(|ip| ip.is_ipv4() && !ip.is_loopback())
        .expect("this machine has no non-loopback address: the guide's two-machine set-up cannot be checked")
}

/// The guide's commands for one node, in its order, its peer reached by
/// this machine's address.
fn configure(node: &Node, peer: &Node, peer_ip: IpAddr, secret: &str, db: &str) {
    let peer_host = peer_ip.to_string();
    let machine = Machine {
        tls: false,
        peer_host: &peer_host,
        secret_key: secret,
        connection_string: db,
        canonical_uri: CANONICAL,
        cluster_key: KEY,
    };
    configure_machine(node, peer, &machine);
}

/// `GET path` with the API key → (status, JSON).
fn get(node: &Node, token: &str, path: &str) -> (u16, Value) {
    let (status, body) = request(node.api, "GET", path, &[("X-Seq-ApiKey", token)], b"");
    (status, serde_json::from_str(&body).unwrap_or(Value::Null))
}

#[test]
fn the_guide_followed_literally_forms_a_cluster() {
    let ip = non_loopback_ip();
    let db = TestDatabase::create();
    let mut leader = Node::new("seq001");
    let mut follower = Node::new("seq002");
    for node in [&mut leader, &mut follower] {
        node.env.extend(fast_timing());
        let api = localhost_api(node);
        node.env.insert("SKEIN_API_LISTENURIS".into(), api);
    }

    // The leader: `show-key --generate`, configuration, `node lead`.
    let secret = leader.ok(&["show-key", "--generate"]).trim().to_owned();
    configure(&leader, &follower, ip, &secret, &db.url);
    leader.ok(&["node", "lead"]);
    // Authentication is on (the cluster URIs bind every interface): an API
    // key in the shared metastore serves the checks below on both nodes.
    let token = leader.create_api_key("guide");
    // "seq service start"
    leader.service_start();
    // The leader's internal API and cluster port are reachable on the
    // machine's network address, as the peer reaches them.
    for port in [leader.internal, leader.cluster] {
        TcpStream::connect((ip, port))
            .unwrap_or_else(|e| panic!("{ip}:{port} is not reachable: {e}\n{}", leader.log()));
    }
    assert_eq!(
        request(leader.api, "GET", "/api/cluster", &[], b"").0,
        401,
        "authentication is on by default"
    );
    // "The Cluster screen will show only one node … no up-to-date follower."
    let (status, view) = get(&leader, &token, "/api/cluster");
    assert_eq!(status, 200, "{view}\n{}", leader.log());
    assert_eq!(view["Nodes"].as_array().map(Vec::len), Some(1), "{view}");
    assert!(
        view["Notifications"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|n| n == "no up-to-date follower"),
        "{view}"
    );

    // The follower: the same secret key, `show-key` not regenerated.
    configure(&follower, &leader, ip, &secret, &db.url);
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
                    .any(|n| n["Name"] == "seq002" && n["IsUpToDate"] == true)
        },
    );
    let (_, view) = get(&leader, &token, "/api/cluster");
    let generation = |name: &str| {
        view["Nodes"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|n| n["Name"] == name)
            .map(|n| n["Generation"].clone())
    };
    assert_eq!(generation("seq002"), generation("seq001"), "{view}");

    // An event ingested through the follower is searchable on both.
    let event = br#"{"@t":"2025-01-01T00:00:00Z","@mt":"Guide {Step}","Step":"followed"}"#;
    let headers = [("Content-Type", CLEF), ("X-Seq-ApiKey", token.as_str())];
    let (status, body) = request(follower.api, "POST", "/ingest/clef", &headers, event);
    assert_eq!(status, 201, "{body}\n{}", follower.log());
    let search = "/api/events?filter=Step%20%3D%20%27followed%27";
    for node in [&leader, &follower] {
        let (status, events) = get(node, &token, search);
        assert_eq!(status, 200, "{events}");
        assert_eq!(events.as_array().map(Vec::len), Some(1), "{events}");
        let link = events[0]["Links"]["Self"].as_str().unwrap_or_default();
        assert!(
            link.starts_with(&format!("{CANONICAL}/api/events/")),
            "links are canonical: {link}"
        );
    }
    // The follower's own store holds it: its generation reaches the leader's.
    wait_for(
        Duration::from_secs(20),
        "the follower stores the event",
        || leader.generation() == follower.generation(),
    );
    // A resource created through the follower: its Location is canonical.
    let signal = br#"{"Title":"Guide","Filter":"Step = 'followed'"}"#;
    let headers = [
        ("Content-Type", "application/json"),
        ("X-Seq-ApiKey", token.as_str()),
    ];
    let created = exchange(follower.api, "POST", "/api/signals", &headers, signal);
    assert_eq!(created.status, 201, "{}", created.body);
    let location = created.header("Location").unwrap_or_default().to_owned();
    assert!(
        location.starts_with(&format!("{CANONICAL}/api/signals/")),
        "{location}"
    );
    let entity: Value = serde_json::from_str(&created.body).unwrap_or(Value::Null);
    assert_eq!(entity["Links"]["Self"], location.as_str(), "{entity}");
    for node in [&leader, &follower] {
        let (_, root) = get(node, &token, "/api");
        assert_eq!(
            root["Links"]["Events"],
            format!("{CANONICAL}/api/events"),
            "{root}"
        );
    }
}
