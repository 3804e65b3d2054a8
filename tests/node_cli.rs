//! End-to-end tests of `skein node setup | lead | follow | status` and
//! `skein metastore to-postgresql`, following the operator guide literally
//! against a real PostgreSQL database.

use skein_harness::{guide::GuideNode, node::token_of, Node, TestDatabase};
use std::fs;

/// The guide's configuration sequence for one node, with the guide's
/// listen URIs and `peer` in its peer URIs.
fn configure(node: &Node, key: &str, db: &str, name: &str, peer: &str) -> String {
    let (peer_cluster, peer_internal_api) = (format!("ws://{peer}:5344"), format!("http://{peer}"));
    skein_harness::guide::configure(
        node,
        &GuideNode {
            secret_key: key,
            connection_string: db,
            canonical_uri: "https://logs.example.local",
            cluster_listen: "ws://localhost:5344",
            internal_api: "http://localhost",
            peer_cluster: &peer_cluster,
            peer_internal_api: &peer_internal_api,
            cluster_key: "cluster-key-0123456789",
            node_name: name,
        },
    )
}

#[test]
fn the_guides_setup_leads_in_term_one_and_a_second_lead_moves_to_term_two() {
    let db = TestDatabase::create();
    let first = Node::new("node");
    let key = first.generate_key();
    let setup = configure(
        &first,
        &key,
        &db.url,
        "seq001.example.local",
        "seq002.example.local",
    );
    assert!(setup.contains("Restart"), "{setup}");
    let config = fs::read_to_string(first.root().join("skein.json")).unwrap();
    assert!(
        !config.contains("cluster-key-0123456789"),
        "the key is a secret: {config}"
    );
    assert!(
        config.contains("ws://seq002.example.local:5344"),
        "{config}"
    );
    assert!(first
        .ok(&["secret", "list"])
        .contains("cluster.authenticationKey  [ok]"));

    let lead = first.ok(&["node", "lead"]);
    assert!(lead.contains("term 1"), "{lead}");
    let status = first.ok(&["node", "status"]);
    assert!(status.contains("role:               leader"), "{status}");
    assert!(status.contains("term:             1"), "{status}");
    assert!(
        status.contains("leader:           seq001.example.local (this node)"),
        "{status}"
    );
    // `node lead` takes no lease for a node that may not run: the node
    // renews it when it does (so another `node lead` waits for nothing).
    assert!(status.contains("lease:            expired at"), "{status}");
    // Leading again keeps the term.
    assert!(first.ok(&["node", "lead"]).contains("term 1"));
    // A stopped node the metastore names as leader would lead again when
    // started: `node follow` refuses (nothing runs at --url).
    let refused = first.fails(&["node", "follow", "--url", "http://127.0.0.1:1"]);
    assert!(
        refused.contains("names this node (seq001.example.local) the leader in term 1")
            && refused.contains("skein node lead"),
        "{refused}"
    );
    // Seq's SQL Node settings point at PostgreSQL and change nothing.
    let mssql = first.fails(&[
        "secret",
        "set",
        "-k",
        "metastore.msSql.connectionString",
        "-v",
        "Node=db;Database=seq",
    ]);
    assert!(
        mssql.contains("set metastore.postgres.connectionString"),
        "{mssql}"
    );
    assert!(!first.ok(&["secret", "list"]).contains("msSql"));
    let moved = first.fails(&["metastore", "to-mssql", "--connection-string=Node=db"]);
    assert!(moved.contains("skein metastore to-postgresql"), "{moved}");

    // The follower: same secret key and database; peers point at the leader.
    let second = Node::new("node");
    configure(
        &second,
        &key,
        &db.url,
        "seq002.example.local",
        "seq001.example.local",
    );
    let status = second.ok(&["node", "status"]);
    assert!(status.contains("role:               follower"), "{status}");
    assert!(
        status.contains("leader:           seq001.example.local\n"),
        "{status}"
    );
    assert!(second.ok(&["node", "lead"]).contains("term 2"));
    let status = first.ok(&["node", "status"]);
    assert!(status.contains("term:             2"), "{status}");
    assert!(
        status.contains("leader:           seq002.example.local\n"),
        "{status}"
    );
    assert!(first.ok(&["node", "follow"]).contains("follow"));
    assert!(first
        .ok(&["node", "status"])
        .contains("role:               follower"));
}

#[test]
fn to_postgresql_moves_api_keys_refuses_a_foreign_target_and_is_idempotent() {
    let db = TestDatabase::create();
    let node = Node::new("node");
    let key = node.generate_key();
    node.ok(&["config", "create"]);
    node.ok(&["config", "set", "-k", "storage.secretKey", "-v", &key]);
    let token = token_of(&node.ok(&["apikey", "create", "--title", "Web app"]));
    node.ok(&["apikey", "create", "--title", "Dashboards", "--read"]);

    let arg = format!("--connection-string={}", db.url);
    let out = node.ok(&["metastore", "to-postgresql", &arg]);
    assert!(out.contains("api_keys            2 copied"), "{out}");
    assert!(out.contains("Stored the connection string"), "{out}");
    // The node now uses PostgreSQL; the embedded copy is kept.
    assert!(node.root().join("Metastore/metastore.db").exists());
    let list = node.ok(&["apikey", "list"]);
    assert!(
        list.contains("Web app") && list.contains("Dashboards"),
        "{list}"
    );
    let other = Node::new("node");
    other.ok(&["config", "create"]);
    other.ok(&["config", "set", "-k", "storage.secretKey", "-v", &key]);
    other.ok(&[
        "secret",
        "set",
        "-k",
        "metastore.postgres.connectionString",
        "-v",
        &db.url,
    ]);
    assert!(other.ok(&["apikey", "list"]).contains(&token[..8]));

    // Again: nothing changes.
    let again = node.ok(&["metastore", "to-postgresql", &arg]);
    assert!(again.contains("nothing changed"), "{again}");
    assert!(
        again.contains("api_keys            0 copied, 0 updated, 2 unchanged"),
        "{again}"
    );

    // A target with metadata of its own is refused unless --force.
    other.ok(&["apikey", "create", "--title", "Elsewhere"]);
    let err = node.fails(&["metastore", "to-postgresql", &arg]);
    assert!(err.contains("--force"), "{err}");
    let forced = node.ok(&["metastore", "to-postgresql", &arg, "--force"]);
    assert!(forced.contains("1 only in the target (kept)"), "{forced}");
    assert!(other.ok(&["apikey", "list"]).contains("Elsewhere"));
}

#[test]
fn bad_inputs_change_nothing() {
    let node = Node::new("node");
    node.ok(&["config", "create"]);
    let config = || fs::read_to_string(node.root().join("skein.json")).unwrap();
    let before = config();
    let setup = |listen: &str| {
        vec![
            "node",
            "setup",
            "--cluster-listen",
            listen,
            "--internal-api",
            "http://localhost",
            "--peer-cluster",
            "ws://peer:5344",
            "--peer-internal-api",
            "http://peer",
            "-k",
            "k3y",
            "--node-name",
            "a",
        ]
        .into_iter()
        .map(String::from)
        .collect::<Vec<_>>()
    };
    let run = |args: Vec<String>| node.fails(&args.iter().map(String::as_str).collect::<Vec<_>>());
    // No secret key: the cluster key cannot be stored.
    let err = run(setup("ws://localhost:5344"));
    assert!(err.contains("storage.secretKey is not set"), "{err}");
    assert_eq!(config(), before);
    node.ok(&[
        "config",
        "set",
        "-k",
        "storage.secretKey",
        "-v",
        &node.generate_key(),
    ]);
    let before = config();
    let err = run(setup("http://localhost:5344"));
    assert!(
        err.contains("--cluster-listen") && err.contains("ws or wss"),
        "{err}"
    );
    assert_eq!(config(), before);
    assert!(node.ok(&["secret", "list"]).contains("No secrets"));
    // Leading needs setup first.
    let err = node.fails(&["node", "lead"]);
    assert!(err.contains("node setup"), "{err}");
    assert_eq!(config(), before);
    // A bad connection string, or an unreachable database, stores nothing.
    let err = node.fails(&["metastore", "to-postgresql", "--connection-string=nonsense"]);
    assert!(err.contains("not a PostgreSQL connection string"), "{err}");
    node.fails(&[
        "metastore",
        "to-postgresql",
        "--connection-string=postgres://postgres@127.0.0.1:5432/skein_no_such_database",
    ]);
    assert!(node.ok(&["secret", "list"]).contains("No secrets"));
    for args in [
        ["node", "setup"],
        ["node", "lead"],
        ["metastore", "to-postgresql"],
    ] {
        let help = node.ok(&[args[0], args[1], "--help"]);
        assert!(help.contains("Examples:"), "{args:?}: {help}");
    }
}

/// `node setup`'s arguments for a node listening on `ws://a:5344` and
/// `http://a`, with one `--peer-cluster`/`--peer-internal-api` pair per
/// entry of `peers`.
fn setup_args(peers: &[(&str, &str)]) -> Vec<String> {
    let mut args = ["node", "setup", "--cluster-listen", "ws://a:5344"]
        .into_iter()
        .chain([
            "--internal-api",
            "http://a",
            "-k",
            "k3y",
            "--node-name",
            "a",
        ])
        .map(String::from)
        .collect::<Vec<_>>();
    for (cluster, api) in peers {
        args.extend(["--peer-cluster", cluster, "--peer-internal-api", api].map(String::from));
    }
    args
}

/// Runs `args` on `node` (each must succeed when `ok`); its output.
fn run(node: &Node, args: &[String], ok: bool) -> String {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match ok {
        true => node.ok(&args),
        false => node.fails(&args),
    }
}

/// A node with `config create` and a storage secret key, ready for setup.
fn fresh_node() -> Node {
    let node = Node::new("node");
    node.ok(&["config", "create"]);
    node.config_set("storage.secretKey", &node.generate_key());
    node
}

#[test]
fn setup_takes_a_pair_per_peer_and_auto_failover_follows_their_count() {
    let node = fresh_node();
    let peers = [("ws://b:5344", "http://b"), ("wss://c:5344", "https://c")];
    let out = run(&node, &setup_args(&peers), true);
    assert!(
        out.contains("cluster.peerClusterUri = ws://b:5344, wss://c:5344"),
        "{out}"
    );
    let get = |key: &str| node.ok(&["config", "get", "-k", key]);
    assert_eq!(get("cluster.peerClusterUri"), "ws://b:5344\nwss://c:5344\n");
    assert_eq!(get("cluster.peerInternalApiUri"), "http://b\nhttps://c\n");
    let status = node.ok(&["node", "status"]);
    for line in [
        "peer cluster:       ws://b:5344/\npeer internal api:  http://b/\n",
        "peer cluster:       wss://c:5344/\npeer internal api:  https://c/\n",
        "auto failover:      on (cluster.autoFailover unset: on with 2 peers)",
    ] {
        assert!(status.contains(line), "{line}: {status}");
    }
    let list = node.ok(&["config", "list"]);
    assert!(
        list.contains("cluster.autoFailover = (not set)  [default]"),
        "{list}"
    );

    // An explicit setting wins, and survives a new setup.
    node.config_set("cluster.autoFailover", "false");
    assert_eq!(get("cluster.autoFailover"), "false\n");
    let list = node.ok(&["config", "list"]);
    assert!(
        list.contains("cluster.autoFailover = false  [from skein.json]"),
        "{list}"
    );
    assert!(node
        .ok(&["node", "status"])
        .contains("auto failover:      off (cluster.autoFailover)"));
    node.fails(&["config", "set", "-k", "cluster.autoFailover", "-v", "maybe"]);

    // The two-node form: one pair, automatic fail-over off by default.
    run(&node, &setup_args(&peers[..1]), true);
    assert_eq!(get("cluster.peerClusterUri"), "ws://b:5344\n");
    node.config_set("cluster.autoFailover", "true");
    assert!(node
        .ok(&["node", "status"])
        .contains("auto failover:      on (cluster.autoFailover)"));
    node.ok(&["config", "clear", "-k", "cluster.autoFailover"]);
    let status = node.ok(&["node", "status"]);
    assert!(
        status.contains("auto failover:      off (cluster.autoFailover unset: off with 1 peer)"),
        "{status}"
    );
    assert_eq!(status.matches("peer cluster:").count(), 1, "{status}");
}

#[test]
fn a_skein_json_with_one_peer_as_strings_still_loads() {
    let node = fresh_node();
    run(&node, &setup_args(&[("ws://b:5344", "http://b")]), true);
    let path = node.root().join("skein.json");
    let mut doc: serde_json::Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
    assert_eq!(
        doc["cluster"]["peerClusterUri"],
        serde_json::json!(["ws://b:5344"])
    );
    doc["cluster"]["peerClusterUri"] = "ws://b:5344".into();
    doc["cluster"]["peerInternalApiUri"] = "http://b".into();
    fs::write(&path, doc.to_string()).unwrap();
    assert_eq!(
        node.ok(&["config", "get", "-k", "cluster.peerClusterUri"]),
        "ws://b:5344\n"
    );
    let status = node.ok(&["node", "status"]);
    assert!(status.contains("peer internal api:  http://b/"), "{status}");
}

#[test]
fn bad_peers_are_refused_and_change_nothing() {
    let node = fresh_node();
    let config = || fs::read_to_string(node.root().join("skein.json")).unwrap();
    let before = config();
    let mut unpaired = setup_args(&[("ws://b:5344", "http://b")]);
    unpaired.extend(["--peer-cluster", "ws://c:5344"].map(String::from));
    let cases = [
        (
            unpaired,
            "--peer-cluster is given 2 time(s) but --peer-internal-api 1 time(s)",
        ),
        (
            setup_args(&[("ws://b:5344", "http://b"), ("ws://B:5344/", "http://c")]),
            "--peer-cluster: ws://b:5344/ is given twice",
        ),
        (
            setup_args(&[("ws://b:5344", "http://b:80"), ("ws://c:5344", "http://b/")]),
            "--peer-internal-api: http://b/ is given twice",
        ),
        (
            setup_args(&[("ws://a:5344", "http://b")]),
            "--peer-cluster: ws://a:5344/ is this node's own cluster URI",
        ),
        (
            setup_args(&[("ws://b:5344", "http://a")]),
            "--peer-internal-api: http://a/ is this node's own internal API URI",
        ),
        (
            setup_args(&[("http://b:5344", "http://b")]),
            "--peer-cluster: `http://b:5344` must use ws or wss",
        ),
        (setup_args(&[]), "--peer-cluster <URI>"),
    ];
    for (args, message) in cases {
        let err = run(&node, &args, false);
        assert!(err.contains(message), "{message}: {err}");
        assert_eq!(config(), before, "{message}");
    }
    assert!(node.ok(&["secret", "list"]).contains("No secrets"));

    // Editing the lists by hand is checked the same way.
    run(
        &node,
        &setup_args(&[("ws://b:5344", "http://b"), ("ws://c:5344", "http://c")]),
        true,
    );
    let before = config();
    let err = node.fails(&[
        "config",
        "set",
        "-k",
        "cluster.peerClusterUri",
        "-v",
        "ws://b:5344,ws://b:5344",
    ]);
    assert!(err.contains("is given twice"), "{err}");
    let err = node.fails(&[
        "config",
        "set",
        "-k",
        "cluster.peerInternalApiUri",
        "-v",
        "http://b",
    ]);
    assert!(
        err.contains("lists 1 URI(s) but cluster.peerClusterUri lists 2"),
        "{err}"
    );
    assert_eq!(config(), before);
}

#[test]
fn node_remove_deletes_a_followers_row_but_not_the_leaders_or_an_unknown_one() {
    let db = TestDatabase::create();
    let node = Node::new("node");
    configure(&node, &node.generate_key(), &db.url, "a", "b");
    let help = node.ok(&["node", "remove", "--help"]);
    assert!(help.contains("registers itself again"), "{help}");
    // No membership yet: the tables exist once the metastore is opened.
    let err = node.fails(&["node", "remove", "b"]);
    assert!(
        err.contains("no node named b in the cluster; known: none"),
        "{err}"
    );
    assert!(node.ok(&["node", "lead"]).contains("term 1"));
    skein_harness::sql(
        &db.url,
        "INSERT INTO cluster_nodes (name, role, term, generation_model, generation_write, \
         seen_at, state, accepted, invalid_key, established) VALUES \
         ('a', 'leader', 1, 0, 0, now(), 'up', 0, 0, 0), \
         ('b', 'follower', 1, 0, 0, now(), 'up', 0, 0, 0), \
         ('c', 'follower', 1, 0, 0, now(), 'up', 0, 0, 0)",
    );
    let rows = || {
        let status = node.ok(&["node", "status"]);
        let nodes = status.split_once("nodes:\n").unwrap().1.to_string();
        nodes
            .lines()
            .map(|l| l.split_whitespace().next().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(rows(), ["a", "b", "c"]);

    let err = node.fails(&["node", "remove", "a"]);
    assert!(err.contains("node a leads the cluster (term 1)"), "{err}");
    let err = node.fails(&["node", "remove", "x"]);
    assert!(
        err.contains("no node named x in the cluster; known: a, b, c"),
        "{err}"
    );
    assert_eq!(rows(), ["a", "b", "c"], "refusals change nothing");

    let out = node.ok(&["node", "remove", "b"]);
    assert!(out.contains("Removed node b"), "{out}");
    assert!(
        out.contains("registers itself again at its next heartbeat"),
        "{out}"
    );
    assert_eq!(rows(), ["a", "c"]);

    // Without a shared metastore there is no membership to edit.
    let alone = fresh_node();
    let err = alone.fails(&["node", "remove", "b"]);
    assert!(err.contains("no shared metastore is configured"), "{err}");
}
