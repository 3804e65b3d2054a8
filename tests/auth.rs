//! End-to-end tests of authentication and permissions (issue 6) against
//! real `skein run` processes: every route of the permission table called
//! without credentials, with a read-only key and with an ingest-only key;
//! login sessions, their cookie and the failed-login limits; `skein auth
//! reset`; and that passwords, hashes and secrets never reach files or logs
//! in plain text, with every file under the storage root private.

use std::collections::HashMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use serde_json::{json, Value};
use skein::api::admin::Permission;
use skein::api::auth::table::{Requirement, ROUTES};
use skein_harness::http::{exchange, Answer};
use skein_harness::{
    fast_timing, ingest_clef,
    process::{output_with_input, skein_command},
    request, wait_for, Cluster, Node, TestDatabase, CLUSTER_KEY,
};

const ADMIN_PASSWORD: &str = "admin-Pa55word-for-tests";

/// One request over a fresh connection, returning status, head and body.
fn call(port: u16, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Answer {
    exchange(port, method, path, headers, body.as_bytes())
}

/// Runs `skein --storage ROOT ARGS` with `input` on standard input.
fn skein(root: &Path, env: &HashMap<String, String>, args: &[&str], input: &str) -> Output {
    output_with_input(skein_command(root, root, env).args(args), input)
}

fn ok(out: Output) -> String {
    assert!(
        out.status.success(),
        "skein failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// `skein config hash` of `password`.
fn hash_of(password: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    ok(skein(
        dir.path(),
        &HashMap::new(),
        &["config", "hash"],
        &format!("{password}\n"),
    ))
    .trim()
    .to_owned()
}

/// A node with `auth.required` on and a first administrator from the
/// first-run variables.
fn secured_node(extra: &[(&str, &str)]) -> (Node, String) {
    let hash = hash_of(ADMIN_PASSWORD);
    let mut env: HashMap<String, String> = [
        ("SKEIN_AUTH_REQUIRED", "true"),
        ("SKEIN_FIRSTRUN_ADMINUSERNAME", "admin"),
        ("SKEIN_FIRSTRUN_ADMINPASSWORDHASH", hash.as_str()),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    (Node::standalone_with(env), hash)
}

fn login(node: &Node, username: &str, password: &str) -> Answer {
    let body = json!({"Username": username, "Password": password}).to_string();
    call(
        node.api,
        "POST",
        "/api/users/login",
        &[("Content-Type", "application/json")],
        &body,
    )
}

/// Logs in and returns the `Cookie` header value.
fn session(node: &Node, username: &str, password: &str) -> String {
    let a = login(node, username, password);
    assert_eq!(a.status, 200, "login: {}", a.body);
    let set = a.header("Set-Cookie").expect("a session cookie");
    set.split(';').next().unwrap().to_owned()
}

/// Creates an API key with `permissions` using the admin's session.
fn api_key(node: &Node, cookie: &str, permissions: &[&str]) -> String {
    let body = json!({"Title": format!("{permissions:?}"), "Permissions": permissions});
    let a = call(
        node.api,
        "POST",
        "/api/apikeys",
        &[("Cookie", cookie), ("Content-Type", "application/json")],
        &body.to_string(),
    );
    assert_eq!(a.status, 201, "{}", a.body);
    a.json()["Token"].as_str().unwrap().to_owned()
}

/// A concrete path for a route pattern.
fn path_for(pattern: &str) -> String {
    pattern
        .replace("{id}", "missing-0")
        .replace("{name}", "retention.period")
        .replace("{file}", "app.js")
}

/// A body the route can parse.
fn body_for(requirement: Requirement, pattern: &str) -> (&'static str, &'static str) {
    match requirement {
        // OTLP exporters post export requests (here an empty one, in JSON).
        Requirement::Ingest if pattern.starts_with("/ingest/otlp/") => (
            "application/json",
            "{\"resourceLogs\":[],\"resourceSpans\":[]}",
        ),
        Requirement::Ingest => (
            "application/vnd.serilog.clef",
            "{\"@t\":\"2025-01-01T00:00:00Z\",\"@m\":\"route check\"}\n",
        ),
        _ => ("application/json", "{}"),
    }
}

fn grants(permissions: &[&str], needed: Permission) -> bool {
    permissions.contains(&format!("{needed:?}").as_str())
}

#[test]
fn every_route_answers_as_the_permission_table_says() {
    let (node, _) = secured_node(&[]);
    let admin = session(&node, "admin", ADMIN_PASSWORD);
    // Seq's semantics for ingestion: keys are required only when set so.
    let a = call(
        node.api,
        "PUT",
        "/api/settings/ingestion.requireApiKey",
        &[("Cookie", &admin), ("Content-Type", "application/json")],
        r#"{"Value": true}"#,
    );
    assert_eq!(a.status, 200, "{}", a.body);
    let callers: Vec<(&str, Option<String>, Vec<&str>)> = vec![
        ("no credentials", None, vec![]),
        (
            "read-only key",
            Some(api_key(&node, &admin, &["Read"])),
            vec!["Read"],
        ),
        (
            "ingest-only key",
            Some(api_key(&node, &admin, &["Ingest"])),
            vec!["Ingest"],
        ),
    ];
    let mut failures = Vec::new();
    for (method, pattern, requirement) in ROUTES {
        let path = path_for(pattern);
        let (content_type, body) = body_for(*requirement, pattern);
        for (who, key, held) in &callers {
            let mut headers = vec![("Content-Type", content_type)];
            if let Some(k) = key {
                headers.push(("X-Seq-ApiKey", k.as_str()));
            }
            let a = call(node.api, method.as_str(), &path, &headers, body);
            let allowed = |s: u16| s != 401 && s != 403 && s != 0;
            let expected_ok = match requirement {
                Requirement::Public => {
                    // `current` answers 401 itself to anonymous callers.
                    let anonymous_current = *pattern == "/api/users/current" && key.is_none();
                    if anonymous_current {
                        a.status == 401 && a.json()["AuthRequired"] == json!(true)
                    } else {
                        allowed(a.status)
                    }
                }
                Requirement::Ingest => match key {
                    None => a.status == 401,
                    // OTLP answers a stored export 200, CLEF 201.
                    Some(_) if held.contains(&"Ingest") => (200..=201).contains(&a.status),
                    Some(_) => a.status == 403,
                },
                Requirement::Needs(p) => match key {
                    None => a.status == 401 && a.json()["AuthRequired"] == json!(true),
                    Some(_) if grants(held, *p) => allowed(a.status),
                    Some(_) => a.status == 403,
                },
            };
            if !expected_ok {
                failures.push(format!(
                    "{method} {path} ({requirement:?}) with {who}: {} {}",
                    a.status, a.body
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "unexpected answers:\n{}",
        failures.join("\n")
    );

    // A logged-in administrator reaches what keys could not.
    let a = call(node.api, "GET", "/api/apikeys", &[("Cookie", &admin)], "");
    assert_eq!(a.status, 200, "{}", a.body);
    // A Reader user reads but cannot administer.
    let ok_user = call(
        node.api,
        "POST",
        "/api/users",
        &[("Cookie", &admin), ("Content-Type", "application/json")],
        &json!({"Username": "ann", "Password": "reader-pass-1", "Role": "Reader"}).to_string(),
    );
    assert_eq!(ok_user.status, 201, "{}", ok_user.body);
    let reader = session(&node, "ann", "reader-pass-1");
    assert_eq!(
        call(node.api, "GET", "/api/events", &[("Cookie", &reader)], "").status,
        200
    );
    assert_eq!(
        call(node.api, "GET", "/api/apikeys", &[("Cookie", &reader)], "").status,
        403
    );
    // A forged cookie is nobody.
    let forged = "skein-session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    assert_eq!(
        call(node.api, "GET", "/api/events", &[("Cookie", forged)], "").status,
        401
    );
}

#[test]
fn a_follower_forwards_and_the_leader_checks_permissions() {
    let hash = hash_of(ADMIN_PASSWORD);
    let env = HashMap::from([
        ("SKEIN_AUTH_REQUIRED".to_string(), "true".to_string()),
        (
            "SKEIN_FIRSTRUN_ADMINUSERNAME".to_string(),
            "admin".to_string(),
        ),
        ("SKEIN_FIRSTRUN_ADMINPASSWORDHASH".to_string(), hash),
    ]);
    let cluster = Cluster::sized(2).env(&env).start();
    let [leader, follower] = cluster.nodes();
    let port = follower.api;
    wait_for(Duration::from_secs(30), "the follower proxies", || {
        call(port, "GET", "/api", &[], "").status == 200
    });
    // The follower's own health check needs nothing.
    assert_ne!(call(port, "GET", "/health", &[], "").status, 401);
    // Proxied requests are checked by the leader with the caller's own
    // credentials: none → 401, the cookie and key travel through.
    let a = call(port, "GET", "/api/events", &[], "");
    assert_eq!(a.status, 401, "{}", a.body);
    assert_eq!(a.json()["AuthRequired"], json!(true));
    let body = json!({"Username": "admin", "Password": ADMIN_PASSWORD}).to_string();
    let logged = call(
        port,
        "POST",
        "/api/users/login",
        &[("Content-Type", "application/json")],
        &body,
    );
    assert_eq!(logged.status, 200, "{}", logged.body);
    let cookie = logged
        .header("Set-Cookie")
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    assert_eq!(
        call(port, "GET", "/api/events", &[("Cookie", &cookie)], "").status,
        200
    );
    let key = call(
        port,
        "POST",
        "/api/apikeys",
        &[("Cookie", &cookie), ("Content-Type", "application/json")],
        r#"{"Title":"reader","Permissions":["Read"]}"#,
    );
    assert_eq!(key.status, 201, "{}", key.body);
    let token = key.json()["Token"].as_str().unwrap().to_owned();
    // The key lives in the leader's metastore only: the leader checked it.
    assert_eq!(
        call(port, "GET", "/api/events", &[("X-Seq-ApiKey", &token)], "").status,
        200
    );
    assert_eq!(
        call(port, "GET", "/api/apikeys", &[("X-Seq-ApiKey", &token)], "").status,
        403
    );
    assert_eq!(call(leader.api, "GET", "/api/apikeys", &[], "").status, 401);
}

#[test]
fn auth_is_off_on_a_localhost_node_and_current_says_so() {
    let node = Node::standalone();
    let a = call(node.api, "GET", "/api/users/current", &[], "");
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(
        a.json(),
        json!({"Username": null, "AuthRequired": false,
               "Permissions": ["Ingest", "Read", "Write", "Project", "System"]})
    );
    assert_eq!(call(node.api, "GET", "/api/apikeys", &[], "").status, 200);
}

/// `POST /api/apikeys` with `body` on an open node.
fn create_key(node: &Node, body: Value) -> Answer {
    let json = [("Content-Type", "application/json")];
    call(node.api, "POST", "/api/apikeys", &json, &body.to_string())
}

/// Posts `clef` to `/ingest/clef` with API key `token`.
fn ingest_with_key(node: &Node, token: &str, clef: &str) -> Answer {
    let headers = [
        ("X-Seq-ApiKey", token),
        ("Content-Type", "application/vnd.serilog.clef"),
    ];
    call(node.api, "POST", "/ingest/clef", &headers, clef)
}

#[test]
fn an_api_key_stamps_its_applied_properties_on_what_it_ingests() {
    let node = Node::standalone();
    let key = create_key(
        &node,
        json!({"Title": "shop", "AppliedProperties": [
            {"Name": "App", "Value": "shop"}, {"Name": "Tier", "Value": 3}]}),
    );
    assert_eq!(key.status, 201, "{}", key.body);
    assert_eq!(
        key.json()["AppliedProperties"][0],
        json!({"Name": "App", "Value": "shop"})
    );
    let token = key.json()["Token"].as_str().unwrap().to_owned();
    let clef = "{\"@t\":\"2025-01-01T00:00:00Z\",\"@m\":\"hi\",\"App\":\"forged\",\"Own\":1}\n";
    let sent = ingest_with_key(&node, &token, clef);
    assert_eq!(sent.status, 201, "{}", sent.body);
    // Without the key, nothing is stamped.
    let plain = call(node.api, "POST", "/ingest/clef", &[], clef);
    assert_eq!(plain.status, 201);
    let events = call(node.api, "GET", "/api/events?count=10", &[], "").json();
    let props = |e: &Value| -> HashMap<String, Value> {
        e["Properties"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| (p["Name"].as_str().unwrap().to_owned(), p["Value"].clone()))
            .collect()
    };
    let all: Vec<HashMap<String, Value>> = events.as_array().unwrap().iter().map(props).collect();
    assert_eq!(all.len(), 2, "{events}");
    assert!(all
        .iter()
        .any(|p| p["App"] == json!("shop") && p["Tier"] == json!(3) && p["Own"] == json!(1)));
    assert!(all
        .iter()
        .any(|p| p["App"] == json!("forged") && !p.contains_key("Tier")));
}

#[test]
fn an_api_keys_minimum_level_drops_what_is_below_it_at_ingestion() {
    let node = Node::standalone();
    let key = create_key(
        &node,
        json!({"Title": "warnings only", "MinimumLevel": "Warning"}),
    );
    assert_eq!(key.status, 201, "{}", key.body);
    let token = key.json()["Token"].as_str().unwrap().to_owned();
    let clef = "{\"@t\":\"2025-01-01T00:00:00Z\",\"@m\":\"info below\",\"@l\":\"Information\"}\n\
                {\"@t\":\"2025-01-01T00:00:01Z\",\"@m\":\"warning kept\",\"@l\":\"Warning\"}\n\
                {\"@t\":\"2025-01-01T00:00:02Z\",\"@m\":\"error kept\",\"@l\":\"Error\"}\n";
    let sent = ingest_with_key(&node, &token, clef);
    assert_eq!(sent.status, 201, "{}", sent.body);
    assert_eq!(sent.json()["MinimumLevelAccepted"], json!("Warning"));
    let events = call(node.api, "GET", "/api/events?count=10", &[], "").body;
    assert!(!events.contains("info below"), "{events}");
    assert!(
        events.contains("warning kept") && events.contains("error kept"),
        "{events}"
    );
}

#[test]
fn sessions_cookies_lockout_and_auth_reset() {
    let (node, _) = secured_node(&[]);
    let anonymous = call(node.api, "GET", "/api/users/current", &[], "");
    assert_eq!(anonymous.status, 401);
    assert_eq!(anonymous.json()["AuthRequired"], json!(true));

    let wrong = login(&node, "admin", "not-the-password");
    assert_eq!(wrong.status, 401, "{}", wrong.body);
    assert_eq!(wrong.json()["AuthRequired"], json!(true));
    assert!(wrong.header("Set-Cookie").is_none());

    let good = login(&node, "admin", ADMIN_PASSWORD);
    assert_eq!(good.status, 200, "{}", good.body);
    assert_eq!(good.json()["Username"], json!("admin"));
    assert_eq!(good.json()["AuthRequired"], json!(true));
    let set = good.header("Set-Cookie").unwrap();
    for part in [
        "skein-session=",
        "HttpOnly",
        "SameSite=Lax",
        "Path=/",
        "Max-Age=",
    ] {
        assert!(set.contains(part), "{part} missing from {set}");
    }
    assert!(!set.contains("Secure"), "plain HTTP: {set}");
    let cookie = set.split(';').next().unwrap().to_owned();
    let me = call(
        node.api,
        "GET",
        "/api/users/current",
        &[("Cookie", &cookie)],
        "",
    );
    assert_eq!(me.status, 200);
    assert_eq!(me.json()["Username"], json!("admin"));
    assert_eq!(me.json()["Permissions"].as_array().unwrap().len(), 5);

    // Behind a TLS-terminating proxy the cookie is Secure.
    let body = json!({"Username": "admin", "Password": ADMIN_PASSWORD}).to_string();
    let tls = call(
        node.api,
        "POST",
        "/api/users/login",
        &[
            ("Content-Type", "application/json"),
            ("X-Forwarded-Proto", "https"),
        ],
        &body,
    );
    assert_eq!(tls.status, 200);
    assert!(tls.header("Set-Cookie").unwrap().contains("; Secure"));

    // Logout ends the session on the server, not only in the browser.
    let out = call(
        node.api,
        "POST",
        "/api/users/logout",
        &[("Cookie", &cookie)],
        "",
    );
    assert_eq!(out.status, 204);
    assert!(out.header("Set-Cookie").unwrap().contains("Max-Age=0"));
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(
        call(
            node.api,
            "GET",
            "/api/users/current",
            &[("Cookie", &cookie)],
            ""
        )
        .status,
        401
    );

    // Repeated failures lock the user (the right password too) with 429.
    let mut locked = None;
    for _ in 0..10 {
        let a = login(&node, "admin", "guess-guess");
        if a.status == 429 {
            locked = Some(a);
            break;
        }
        assert_eq!(a.status, 401);
    }
    let locked = locked.expect("locked after repeated failures");
    let retry: u64 = locked.header("Retry-After").unwrap().parse().unwrap();
    assert!(retry >= 1, "{retry}");
    assert_eq!(login(&node, "admin", ADMIN_PASSWORD).status, 429);

    // `skein auth reset` on the node's shell unlocks with a new password.
    let out = ok(skein(
        &node.root(),
        &node.env,
        &["auth", "reset", "--password-stdin"],
        "brand-new-password\n",
    ));
    assert!(out.contains("admin"), "{out}");
    assert_eq!(login(&node, "admin", ADMIN_PASSWORD).status, 401);
    assert_eq!(login(&node, "admin", "brand-new-password").status, 200);

    // One address guessing many usernames is held back too.
    let mut limited = false;
    for i in 0..30 {
        let a = login(&node, &format!("nobody-{i}"), "guess-guess");
        if a.status == 429 {
            assert!(a.header("Retry-After").is_some());
            limited = true;
            break;
        }
        assert_eq!(a.status, 401);
    }
    assert!(limited, "no per-address limit after 30 failures");
    assert!(
        !node.log().contains("guess-guess"),
        "a password reached the log"
    );
}

#[test]
fn users_are_managed_from_the_shell() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("storage");
    let env = HashMap::new();
    let created = ok(skein(
        &root,
        &env,
        &["user", "create", "--username", "ops", "--password-stdin"],
        "ops-password-1\n",
    ));
    assert!(created.contains("ops"), "{created}");
    let again = skein(
        &root,
        &env,
        &["user", "create", "--username", "ops", "--password-stdin"],
        "ops-password-1\n",
    );
    assert!(!again.status.success());
    let short = skein(
        &root,
        &env,
        &["user", "create", "--username", "x", "--password-stdin"],
        "short\n",
    );
    assert!(String::from_utf8_lossy(&short.stderr).contains("at least 8"));
    let nothing = skein(
        &root,
        &env,
        &["user", "create", "--username", "y", "--password-stdin"],
        "",
    );
    assert!(String::from_utf8_lossy(&nothing.stderr).contains("no password"));
    ok(skein(
        &root,
        &env,
        &[
            "user",
            "set-password",
            "--username",
            "ops",
            "--password-stdin",
        ],
        "ops-password-2\n",
    ));
    let list = ok(skein(&root, &env, &["user", "list"], ""));
    assert!(
        list.contains("ops") && list.contains("Administrator"),
        "{list}"
    );
    assert!(!list.contains("argon2"), "{list}");
    ok(skein(
        &root,
        &env,
        &["user", "delete", "--username", "ops"],
        "",
    ));
    assert!(ok(skein(&root, &env, &["user", "list"], "")).contains("No users"));
    let listed = ok(skein(&root, &env, &["config", "list"], ""));
    assert!(listed.contains("auth.required = (not set: off"), "{listed}");
    let open = HashMap::from([(
        "SKEIN_API_LISTENURIS".to_string(),
        "http://0.0.0.0:5341".to_string(),
    )]);
    let listed = ok(skein(&root, &open, &["config", "list"], ""));
    assert!(listed.contains("auth.required = (not set: on"), "{listed}");
    let bad = skein(
        &root,
        &env,
        &["config", "set", "-k", "auth.required", "-v", "maybe"],
        "",
    );
    assert!(!bad.status.success());
    ok(skein(
        &root,
        &env,
        &["config", "set", "-k", "auth.required", "-v", "true"],
        "",
    ));
    assert_eq!(
        ok(skein(
            &root,
            &env,
            &["config", "get", "-k", "auth.required"],
            ""
        ))
        .trim(),
        "true"
    );
}

/// Every file under `dir`, recursively.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out
}

fn dirs_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = vec![dir.to_path_buf()];
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        if entry.path().is_dir() {
            out.extend(dirs_under(&entry.path()));
        }
    }
    out
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[test]
fn secrets_and_password_hashes_stay_out_of_files_and_logs() {
    let key = {
        let dir = tempfile::tempdir().unwrap();
        ok(skein(
            dir.path(),
            &HashMap::new(),
            &["show-key", "--generate"],
            "",
        ))
        .trim()
        .to_owned()
    };
    let (mut node, hash) = secured_node(&[("SKEIN_STORAGE_SECRETKEY", key.as_str())]);
    let cert_password = "pfx-Secret-Value-4242";
    ok(skein(
        &node.root(),
        &node.env,
        &[
            "secret",
            "set",
            "-k",
            "certificates.defaultPassword",
            "-v",
            cert_password,
        ],
        "",
    ));
    let user_password = "ann-Plaintext-Pw-77";
    ok(skein(
        &node.root(),
        &node.env,
        &[
            "user",
            "create",
            "--username",
            "ann",
            "--role",
            "User",
            "--password-stdin",
        ],
        &format!("{user_password}\n"),
    ));
    let admin = session(&node, "admin", ADMIN_PASSWORD);
    session(&node, "ann", user_password);
    assert_eq!(login(&node, "ann", "ann-Wrong-Pw-99").status, 401);
    let token = api_key(&node, &admin, &["Ingest", "Read"]);
    let (status, _) = request(
        node.api,
        "POST",
        "/api/events/raw?clef",
        &[("X-Seq-ApiKey", &token)],
        b"{\"@t\":\"2025-01-01T00:00:00Z\",\"@m\":\"hello\"}\n",
    );
    assert_eq!(status, 201);
    node.terminate();

    let log = node.log();
    let mut secrets = vec![
        ("the admin password", ADMIN_PASSWORD),
        ("a user's password", user_password),
        ("a wrong password", "ann-Wrong-Pw-99"),
        ("the certificate password", cert_password),
        ("the storage secret key", key.as_str()),
        ("an API key token", token.as_str()),
        (
            "the session cookie",
            admin.trim_start_matches("skein-session="),
        ),
    ];
    for (what, value) in &secrets {
        assert!(!log.contains(value), "{what} is in the node's log");
    }
    assert!(
        !log.contains(&hash),
        "the password hash is in the node's log"
    );
    let hash_body = hash.rsplit('$').next().unwrap().to_owned();
    secrets.push(("the password hash", hash_body.as_str()));
    let mut hash_stored = false;
    for file in files_under(&node.root()) {
        let bytes = std::fs::read(&file).unwrap();
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        for (what, value) in &secrets {
            if contains(&bytes, value) {
                // The metastore holds the hash, as it must to check logins.
                if *what == "the password hash" && name.starts_with("metastore.db") {
                    hash_stored = true;
                    continue;
                }
                panic!("{what} is in plain text in {}", file.display());
            }
        }
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode & 0o077, 0, "{} has mode {mode:o}", file.display());
    }
    assert!(
        hash_stored,
        "the search found no stored hash: it cannot be trusted"
    );
    for dir in dirs_under(&node.root()) {
        let mode = std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode & 0o077, 0, "{} has mode {mode:o}", dir.display());
    }
}

#[test]
fn a_running_clusters_secrets_stay_out_of_both_nodes_files_and_logs() {
    let db = TestDatabase::create();
    // PostgreSQL here trusts local connections: the password is not
    // checked, only carried in the connection string like a real one.
    const PG_PASSWORD: &str = "pg-Pa55word-in-the-url";
    let url = db.url.replacen(
        "postgres://postgres@",
        &format!("postgres://postgres:{PG_PASSWORD}@"),
        1,
    );
    assert!(url.contains(PG_PASSWORD), "{url}");
    let cluster = Cluster::sized(2)
        .metastore(&url)
        .env(&fast_timing())
        .start();
    let [a, b] = cluster.nodes();
    let event = "{\"@t\":\"2026-01-01T00:00:00Z\",\"@mt\":\"through {N}\",\"N\":1}\n";
    wait_for(Duration::from_secs(30), "the leader accepts writes", || {
        ingest_clef(a.api, event).0 == 201
    });
    let (status, body) = ingest_clef(b.api, event);
    assert_eq!(status, 201, "{body}");
    wait_for(Duration::from_secs(30), "the follower catches up", || {
        a.generation() == b.generation()
    });
    for node in [a, b] {
        let log = node.log();
        assert!(log.contains("replicat"), "a running cluster node:\n{log}");
        for secret in [CLUSTER_KEY, PG_PASSWORD, url.as_str()] {
            assert!(
                !log.contains(secret),
                "{secret} in {}'s log:\n{log}",
                node.name
            );
            for file in files_under(&node.root()) {
                let bytes = std::fs::read(&file).unwrap_or_default();
                assert!(!contains(&bytes, secret), "{secret} in {}", file.display());
            }
        }
    }
}

#[test]
fn connection_strings_and_cluster_keys_are_encrypted_at_rest() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("storage");
    let env = HashMap::new();
    let key = ok(skein(&root, &env, &["show-key", "--generate"], ""));
    ok(skein(&root, &env, &["config", "create"], ""));
    ok(skein(
        &root,
        &env,
        &["config", "set", "-k", "storage.secretKey", "-v", key.trim()],
        "",
    ));
    let db_password = "Db-Pa55-never-in-clear";
    let url = format!("postgres://skein:{db_password}@127.0.0.1:1/skein");
    let k = "metastore.postgres.connectionString";
    ok(skein(
        &root,
        &env,
        &["secret", "set", "-k", k, "-v", &url],
        "",
    ));
    let cluster_key = "Cluster-Key-never-in-clear-42";
    ok(skein(
        &root,
        &env,
        &[
            "node",
            "setup",
            "--cluster-listen",
            "ws://127.0.0.1:1",
            "--internal-api",
            "http://127.0.0.1:2",
            "--peer-cluster",
            "ws://127.0.0.1:3",
            "--peer-internal-api",
            "http://127.0.0.1:4",
            "-k",
            cluster_key,
            "--node-name",
            "n1",
        ],
        "",
    ));
    let files = files_under(&root);
    assert!(
        files
            .iter()
            .any(|f| f.to_string_lossy().contains("Secrets")),
        "{files:?}"
    );
    for file in files {
        let bytes = std::fs::read(&file).unwrap();
        for secret in [db_password, cluster_key] {
            assert!(
                !contains(&bytes, secret),
                "{secret} is in plain text in {}",
                file.display()
            );
        }
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode & 0o077, 0, "{} has mode {mode:o}", file.display());
    }
    for dir in dirs_under(&root) {
        let mode = std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode & 0o077, 0, "{} has mode {mode:o}", dir.display());
    }
}
