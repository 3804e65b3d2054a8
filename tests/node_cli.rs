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
