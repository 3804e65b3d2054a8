//! End-to-end tests of the offline commands: they run the real `skein`
//! binary on fresh temporary storage roots, with a cleared environment.

use skein_harness::{node::token_of, Node, TestDatabase};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

fn mode(path: &Path) -> u32 {
    fs::metadata(path).expect("metadata").permissions().mode() & 0o777
}

/// Every file under `dir`, concatenated (to look for plain text).
fn all_bytes(dir: &Path) -> Vec<u8> {
    let mut bytes = Vec::new();
    for entry in fs::read_dir(dir).expect("read_dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            bytes.extend(all_bytes(&path));
        } else {
            bytes.extend(fs::read(&path).expect("read"));
        }
    }
    bytes
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[test]
fn config_create_lays_out_a_private_storage_root() {
    let node = Node::new("node");
    let out = node.ok(&["config", "create"]);
    assert!(out.contains("Created"), "{out}");
    let root = node.root();
    assert_eq!(mode(&root), 0o700);
    for sub in ["Secrets", "Certificates", "Stream", "Metastore", "Logs"] {
        assert_eq!(mode(&root.join(sub)), 0o700, "{sub}");
    }
    assert_eq!(mode(&root.join("skein.json")), 0o600);
    let again = node.ok(&["config", "create"]);
    assert!(again.contains("left unchanged"), "{again}");
}

#[test]
fn config_set_get_list_clear() {
    let node = Node::new("node");
    node.ok(&["config", "create"]);
    assert_eq!(
        node.ok(&["config", "get", "-k", "api.listenUris"]),
        "http://localhost:5341\n"
    );

    let out = node.ok(&[
        "config",
        "set",
        "-k",
        "api.canonicalUri",
        "-v",
        "https://logs.example.com",
    ]);
    assert!(
        out.contains("Restart"),
        "a change says it needs a restart: {out}"
    );
    assert_eq!(
        node.ok(&["config", "get", "-k", "api.canonicalUri"]),
        "https://logs.example.com\n"
    );
    node.ok(&[
        "config",
        "set",
        "-k",
        "ingestion.maxPayloadBytes",
        "-v",
        "20MB",
    ]);
    assert_eq!(
        node.ok(&["config", "get", "-k", "ingestion.maxPayloadBytes"]),
        "20000000\n"
    );

    let list = node.ok(&["config", "list"]);
    assert!(
        list.contains("api.canonicalUri = https://logs.example.com  [from skein.json]"),
        "{list}"
    );
    assert!(
        list.contains("cluster.peerClusterUri = (not set)  [default]"),
        "{list}"
    );

    node.ok(&["config", "clear", "-k", "api.canonicalUri"]);
    assert_eq!(node.ok(&["config", "get", "-k", "api.canonicalUri"]), "");
}

#[test]
fn config_refuses_unknown_keys_and_bad_values_without_changing_anything() {
    let node = Node::new("node");
    node.ok(&["config", "create"]);
    let before = fs::read(node.root().join("skein.json")).unwrap();
    let err = node.fails(&["config", "set", "-k", "api.listenUri", "-v", "http://x"]);
    assert!(
        err.contains("unknown configuration key `api.listenUri`"),
        "{err}"
    );
    let err = node.fails(&["config", "set", "-k", "api.listenUris", "-v", "ftp://x"]);
    assert!(err.contains("api.listenUris"), "{err}");
    let err = node.fails(&["config", "set", "-k", "storage.secretKey", "-v", "short"]);
    assert!(err.contains("storage.secretKey"), "{err}");
    node.fails(&["config", "set", "-k", "cluster.role", "-v", "leader"]);
    node.fails(&["config", "get", "-k", "nope"]);
    assert_eq!(fs::read(node.root().join("skein.json")).unwrap(), before);
}

#[test]
fn a_stray_key_in_skein_json_is_reported_and_can_be_cleared() {
    let node = Node::new("node");
    node.ok(&["config", "create"]);
    let path = node.root().join("skein.json");
    let mut doc: serde_json::Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
    doc["api"]["listenUri"] = "http://typo".into();
    fs::write(&path, doc.to_string()).unwrap();
    let err = node.fails(&["config", "list"]);
    assert!(err.contains("listenUri"), "{err}");
    node.ok(&["config", "clear", "-k", "api.listenUri"]);
    node.ok(&["config", "list"]);
}

#[test]
fn environment_overrides_skein_json() {
    let mut node = Node::new("node");
    node.config_set("api.listenUris", "http://0.0.0.0:80");
    node.env.insert(
        "SKEIN_API_LISTENURIS".into(),
        "http://a:1,http://b:2".into(),
    );
    assert_eq!(
        node.ok(&["config", "get", "-k", "api.listenUris"]),
        "http://a:1\nhttp://b:2\n"
    );
    let list = node.ok(&["config", "list"]);
    assert!(list.contains("[from SKEIN_API_LISTENURIS]"), "{list}");
    let out = node.ok(&["config", "set", "-k", "api.listenUris", "-v", "http://c:3"]);
    assert!(out.contains("overrides skein.json"), "{out}");
}

#[test]
fn show_key_generates_and_shows() {
    let mut node = Node::new("node");
    let a = node.generate_key();
    let b = node.generate_key();
    assert_eq!(a.len(), 44);
    assert_ne!(a, b);
    let err = node.fails(&["show-key"]);
    assert!(err.contains("no storage.secretKey"), "{err}");
    node.ok(&["config", "create"]);
    node.ok(&["config", "set", "-k", "storage.secretKey", "-v", &a]);
    assert_eq!(node.ok(&["show-key"]).trim(), a);
    let list = node.ok(&["config", "list"]);
    assert!(!list.contains(&a), "config list hides the key");
    node.env.insert("SKEIN_STORAGE_SECRETKEY".into(), b.clone());
    assert_eq!(node.ok(&["show-key"]).trim(), b);
}

#[test]
fn secrets_are_encrypted_and_a_wrong_key_changes_nothing() {
    let mut node = Node::new("node");
    node.ok(&["config", "create"]);
    let err = node.fails(&[
        "secret",
        "set",
        "-k",
        "certificates.defaultPassword",
        "-v",
        "x",
    ]);
    assert!(err.contains("storage.secretKey is not set"), "{err}");
    assert!(fs::read_dir(node.root().join("Secrets"))
        .unwrap()
        .next()
        .is_none());

    let key = node.generate_key();
    node.ok(&["config", "set", "-k", "storage.secretKey", "-v", &key]);
    let password = "correct-horse-battery-staple";
    node.ok(&[
        "secret",
        "set",
        "-k",
        "certificates.defaultPassword",
        "-v",
        password,
    ]);
    node.ok(&[
        "secret",
        "set",
        "-k",
        "cluster.authenticationKey",
        "-v",
        "-starts-with-dash",
    ]);
    let file = node
        .root()
        .join("Secrets/certificates.defaultPassword.secret");
    assert_eq!(mode(&file), 0o600);
    assert!(
        !contains(&all_bytes(&node.root()), password),
        "plain text on disk"
    );
    let list = node.ok(&["secret", "list"]);
    assert!(
        list.contains("certificates.defaultPassword  [ok]"),
        "{list}"
    );
    assert!(!list.contains(password));

    // A wrong key (from the environment) is refused and changes nothing.
    let before = all_bytes(&node.root().join("Secrets"));
    node.env
        .insert("SKEIN_STORAGE_SECRETKEY".into(), node.generate_key());
    let err = node.fails(&[
        "secret",
        "set",
        "-k",
        "certificates.defaultPassword",
        "-v",
        "new",
    ]);
    assert!(err.contains("wrong"), "{err}");
    let err = node.fails(&["secret", "clear", "-k", "cluster.authenticationKey"]);
    assert!(err.contains("wrong"), "{err}");
    assert_eq!(all_bytes(&node.root().join("Secrets")), before);
    node.env.remove("SKEIN_STORAGE_SECRETKEY");

    // Changing the key re-encrypts what is stored.
    let new_key = node.generate_key();
    let out = node.ok(&["config", "set", "-k", "storage.secretKey", "-v", &new_key]);
    assert!(out.contains("Re-encrypted 2 secret(s)"), "{out}");
    assert!(node
        .ok(&["secret", "list"])
        .contains("cluster.authenticationKey  [ok]"));
    assert_ne!(all_bytes(&node.root().join("Secrets")), before);
    let err = node.fails(&["config", "clear", "-k", "storage.secretKey"]);
    assert!(err.contains("refusing"), "{err}");

    node.ok(&["secret", "clear", "-k", "cluster.authenticationKey"]);
    node.ok(&["secret", "clear", "-k", "certificates.defaultPassword"]);
    assert!(node.ok(&["secret", "list"]).contains("No secrets"));
    node.fails(&["secret", "clear", "-k", "certificates.defaultPassword"]);
    node.fails(&["secret", "set", "-k", "../escape", "-v", "x"]);
    let err = node.fails(&["secret", "set", "-k", "metastore.other", "-v", "x"]);
    assert!(err.contains("unknown secret"), "{err}");
}

#[test]
fn apikeys_on_the_embedded_metastore() {
    let node = Node::new("node");
    let out = node.ok(&[
        "apikey",
        "create",
        "--title",
        "Web app",
        "--minimum-level",
        "wrn",
    ]);
    let token = token_of(&out);
    assert!(out.contains("permissions: Ingest"), "{out}");
    assert!(out.contains("minimum level: Warning"), "{out}");
    let out = node.ok(&[
        "apikey",
        "create",
        "--title",
        "Dashboards",
        "--read",
        "--write",
    ]);
    assert!(out.contains("permissions: Read, Write"), "{out}");
    let reader = token_of(&out);

    let db = node.root().join("Metastore/metastore.db");
    assert_eq!(mode(&db), 0o600);
    let stored = all_bytes(&node.root());
    assert!(
        !contains(&stored, &token) && !contains(&stored, &reader),
        "token stored"
    );

    let list = node.ok(&["apikey", "list"]);
    assert!(
        list.contains("Web app") && list.contains("Dashboards"),
        "{list}"
    );
    assert!(!list.contains(&token), "{list}");

    node.ok(&["apikey", "remove", "Dashboards"]);
    let list = node.ok(&["apikey", "list"]);
    assert!(!list.contains("Dashboards"), "{list}");
    let id = list
        .lines()
        .find(|l| l.contains("Web app"))
        .and_then(|l| l.split_whitespace().next())
        .unwrap()
        .to_string();
    node.ok(&["apikey", "remove", &id]);
    assert!(node.ok(&["apikey", "list"]).contains("No API keys"));
    let err = node.fails(&["apikey", "remove", "Web app"]);
    assert!(err.contains("no API key matches"), "{err}");
    let err = node.fails(&[
        "apikey",
        "create",
        "--title",
        "x",
        "--minimum-level",
        "loud",
    ]);
    assert!(err.contains("unknown level"), "{err}");
}

#[test]
fn apikeys_on_a_shared_postgresql_metastore() {
    let db = TestDatabase::create();
    let key = Node::new("node").generate_key();
    let nodes: Vec<Node> = (0..2)
        .map(|_| {
            let node = Node::new("node");
            node.ok(&["config", "create"]);
            node.ok(&["config", "set", "-k", "storage.secretKey", "-v", &key]);
            node.ok(&[
                "secret",
                "set",
                "-k",
                "metastore.postgres.connectionString",
                "-v",
                &db.url,
            ]);
            node
        })
        .collect();
    let out = nodes[0].ok(&["apikey", "create", "--title", "shared", "--ingest"]);
    token_of(&out);
    let list = nodes[1].ok(&["apikey", "list"]);
    assert!(
        list.contains("shared"),
        "the second node sees the first's key: {list}"
    );
    assert!(!nodes[1].root().join("Metastore/metastore.db").exists());
    nodes[1].ok(&["apikey", "remove", "shared"]);
    assert!(nodes[0].ok(&["apikey", "list"]).contains("No API keys"));
}

#[test]
fn help_has_examples() {
    let node = Node::new("node");
    for args in [
        vec!["--help"],
        vec!["run", "--help"],
        vec!["config", "set", "--help"],
        vec!["show-key", "--help"],
        vec!["secret", "set", "--help"],
        vec!["apikey", "create", "--help"],
    ] {
        let help = node.ok(&args);
        assert!(help.contains("Examples:"), "{args:?}: {help}");
    }
}

#[test]
fn the_storage_root_comes_from_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    for (var, expected) in [
        ("SKEIN_STORAGE", dir.path().join("env-root")),
        ("STATE_DIRECTORY", dir.path().join("systemd-root")),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_skein"))
            .env_clear()
            .env(var, &expected)
            .args(["config", "create"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(expected.join("skein.json").exists(), "{var}");
    }
}
