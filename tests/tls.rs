//! TLS from PFX certificates (`skein::tls`), with certificates made by the
//! real `openssl` command: modern and legacy PFX files decrypt; a wrong
//! password, an expired certificate and a name mismatch give clear errors;
//! a client trusting the CA in `Certificates/` completes a real TLS
//! handshake over TCP and one that does not is refused; a reload swaps the
//! certificate for new handshakes and a failed reload keeps the old one.
//! End to end: a two-node cluster with every URI `https://`/`wss://`
//! (PostgreSQL metastore), and clear start-up refusals.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use rustls::pki_types::ServerName;
use skein::tls::{self, certificates, NodeNames, ReloadableCertificate, TlsError};
use skein_harness::{
    certs::Leaf, certs::PfxKind, certs::TestCa, fast_timing, http::parse_response, wait_for, Node,
    TestDatabase, CLUSTER_KEY,
};

const PASSWORD: &str = "pfx-pass-123";

fn source(path: &Path) -> tls::server::IdentitySource {
    let path = path.to_owned();
    Box::new(move || {
        let id = certificates::load(&path, Some(PASSWORD))?;
        id.check("127.0.0.1", &NodeNames::default(), SystemTime::now())?;
        Ok(id)
    })
}

/// Serves one TLS connection on a free port with `cert`, answering
/// "pong"; returns the port.
fn serve_once(cert: &Arc<ReloadableCertificate>) -> u16 {
    let config = Arc::new(cert.server_config());
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let (tcp, _) = listener.accept().unwrap();
        tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let conn = rustls::ServerConnection::new(config).unwrap();
        let mut tls = rustls::StreamOwned::new(conn, tcp);
        let mut buf = [0u8; 4];
        if tls.read_exact(&mut buf).is_ok() {
            let _ = tls.write_all(b"pong");
            let _ = tls.flush();
        }
    });
    port
}

/// Connects with `config`, says "ping"; the answer and the leaf
/// certificate the server presented.
fn ping(port: u16, config: Arc<rustls::ClientConfig>) -> Result<Vec<u8>, String> {
    let name = ServerName::try_from("127.0.0.1").unwrap();
    let conn = rustls::ClientConnection::new(config, name).map_err(|e| e.to_string())?;
    let tcp = TcpStream::connect(("127.0.0.1", port)).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    tls.write_all(b"ping").map_err(|e| e.to_string())?;
    let mut answer = [0u8; 4];
    tls.read_exact(&mut answer).map_err(|e| e.to_string())?;
    assert_eq!(&answer, b"pong");
    let leaf = tls.conn.peer_certificates().unwrap()[0].to_vec();
    Ok(leaf)
}

#[test]
fn modern_and_legacy_pfx_files_decrypt_and_are_checked() {
    tls::install_crypto_provider();
    let ca = TestCa::new();
    let dir = tempfile::tempdir().unwrap();
    for (kind, file) in [
        (PfxKind::Modern, "modern.pfx"),
        (PfxKind::Legacy, "legacy.pfx"),
    ] {
        let path = dir.path().join(file);
        ca.issue_pfx(&["localhost", "127.0.0.1"], PASSWORD, kind, &path);
        let id =
            certificates::load(&path, Some(PASSWORD)).unwrap_or_else(|e| panic!("{kind:?}: {e}"));
        assert_eq!(id.chain.len(), 2, "{kind:?}: leaf and CA");
        let now = SystemTime::now();
        let none = NodeNames::default();
        id.check("localhost", &none, now).unwrap();
        id.check("127.0.0.1", &none, now).unwrap();
        id.check("0.0.0.0", &none, now).unwrap();
        let e = id.check("seq002.example.com", &none, now).unwrap_err();
        assert!(matches!(e, TlsError::NameMismatch(..)), "{e}");
        assert!(
            e.to_string()
                .contains("is for localhost, 127.0.0.1, none of the names this node is reached by (seq002.example.com)"),
            "{e}"
        );
        let later = now + Duration::from_secs(30 * 24 * 3600);
        let e = id.check("localhost", &none, later).unwrap_err();
        assert!(e.to_string().contains("expired on"), "{kind:?}: {e}");
        let e = certificates::load(&path, Some("not-the-password")).unwrap_err();
        assert!(matches!(e, TlsError::WrongPassword(_)), "{kind:?}: {e}");
        assert!(e.to_string().contains("wrong password"), "{e}");
    }
}

#[test]
fn a_client_trusting_the_private_ca_connects_and_others_are_refused() {
    tls::install_crypto_provider();
    let ca = TestCa::new();
    let certificates_dir = tempfile::tempdir().unwrap();
    let pfx = certificates_dir.path().join("443.pfx");
    ca.issue_pfx(&["127.0.0.1"], PASSWORD, PfxKind::Modern, &pfx);
    let cert = ReloadableCertificate::new("test listener", source(&pfx)).unwrap();

    // No CA in Certificates/: only the system roots, which do not know it.
    let untrusting = tls::client_config(tls::PeerRoots::new(certificates_dir.path()));
    let err = ping(serve_once(&cert), untrusting).unwrap_err();
    assert!(err.to_lowercase().contains("unknownissuer"), "{err}");

    std::fs::copy(ca.cert_path(), certificates_dir.path().join("test-ca.crt")).unwrap();
    let trusting = tls::client_config(tls::PeerRoots::new(certificates_dir.path()));
    let first = ping(serve_once(&cert), trusting.clone()).unwrap();

    // A renewed certificate at the same path is served after a reload.
    ca.issue_pfx(&["127.0.0.1"], PASSWORD, PfxKind::Legacy, &pfx);
    assert_eq!(ping(serve_once(&cert), trusting.clone()).unwrap(), first);
    cert.reload().unwrap();
    let renewed = ping(serve_once(&cert), trusting.clone()).unwrap();
    assert_ne!(renewed, first, "the reloaded certificate is served");

    // A reload that fails keeps the certificate in use.
    std::fs::write(&pfx, b"garbage").unwrap();
    let e = cert.reload().unwrap_err();
    assert!(e.to_string().contains("not a readable PFX"), "{e}");
    assert_eq!(ping(serve_once(&cert), trusting).unwrap(), renewed);
}

/// `METHOD path` over TLS (trusting `config`'s roots) → (status, body);
/// status 0 when the connection or handshake fails.
fn https(
    port: u16,
    config: &Arc<rustls::ClientConfig>,
    method: &str,
    path: &str,
    body: &[u8],
) -> (u16, String) {
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\
         Content-Type: application/vnd.serilog.clef\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    match https_raw(port, config, &[head.as_bytes(), body].concat()) {
        Some(raw) => parse_response(&raw),
        None => (0, String::new()),
    }
}

/// Sends `request` over TLS (trusting `config`'s roots) and reads the
/// whole answer; `None` when the connection or handshake fails.
fn https_raw(port: u16, config: &Arc<rustls::ClientConfig>, request: &[u8]) -> Option<Vec<u8>> {
    let name = ServerName::try_from("127.0.0.1").unwrap();
    let conn = rustls::ClientConnection::new(config.clone(), name).unwrap();
    let tcp = TcpStream::connect(("127.0.0.1", port)).ok()?;
    tcp.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    tls.write_all(request).ok()?;
    let mut raw = Vec::new();
    match tls.read_to_end(&mut raw) {
        // A peer that closes without close_notify still sent its answer.
        Ok(_) => Some(raw),
        Err(e) if !raw.is_empty() && e.kind() == std::io::ErrorKind::UnexpectedEof => Some(raw),
        Err(_) => None,
    }
}

fn generation_over_https(port: u16, roots: &Arc<rustls::ClientConfig>) -> String {
    let (_, body) = https(port, roots, "GET", "/health", b"");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
    v["generation"].as_str().unwrap_or("").to_owned()
}

/// The guide's set-up for `node` with every URI secured, its certificates
/// (one leaf for 127.0.0.1 under each listener's `<port>.pfx`) and the CA.
fn secure_setup(node: &Node, peer: &Node, ca: &TestCa, pfx: &Path, db: &str) {
    node.init_secret_key();
    node.set_secret("certificates.defaultPassword", PASSWORD);
    node.set_secret("metastore.postgres.connectionString", db);
    let certs = node.root().join("Certificates");
    std::fs::create_dir_all(&certs).unwrap();
    for port in [node.api, node.cluster, node.internal] {
        std::fs::copy(pfx, certs.join(format!("{port}.pfx"))).unwrap();
    }
    std::fs::copy(ca.cert_path(), certs.join("skein-test-ca.crt")).unwrap();
    node.ok(&[
        "node",
        "setup",
        "--cluster-listen",
        &format!("wss://127.0.0.1:{}", node.cluster),
        "--internal-api",
        &format!("https://127.0.0.1:{}", node.internal),
        "--peer-cluster",
        &format!("wss://127.0.0.1:{}", peer.cluster),
        "--peer-internal-api",
        &format!("https://127.0.0.1:{}", peer.internal),
        "-k",
        CLUSTER_KEY,
        "--node-name",
        &node.name,
    ]);
}

#[test]
fn a_two_node_cluster_runs_entirely_over_https_and_wss() {
    tls::install_crypto_provider();
    let db = TestDatabase::create();
    let ca = TestCa::new();
    let scratch = tempfile::tempdir().unwrap();
    let pfx = scratch.path().join("leaf.pfx");
    ca.issue_pfx(&["127.0.0.1", "localhost"], PASSWORD, PfxKind::Modern, &pfx);
    let trusting_dir = tempfile::tempdir().unwrap();
    std::fs::copy(ca.cert_path(), trusting_dir.path().join("ca.crt")).unwrap();
    let roots = tls::client_config(tls::PeerRoots::new(trusting_dir.path()));

    let (mut a, mut b) = (Node::new("a"), Node::new("b"));
    for n in [&mut a, &mut b] {
        n.env.extend(fast_timing());
        let uri = format!("https://127.0.0.1:{}", n.api);
        n.env.insert("SKEIN_API_LISTENURIS".into(), uri);
    }
    secure_setup(&a, &b, &ca, &pfx, &db.url);
    secure_setup(&b, &a, &ca, &pfx, &db.url);
    a.ok(&["node", "lead"]);
    b.ok(&["node", "follow"]);
    a.spawn();
    b.spawn();
    for n in [&mut a, &mut b] {
        wait_for(Duration::from_secs(30), "/health over https", || {
            n.assert_running();
            https(n.api, &roots, "GET", "/health", b"").0 != 0
        });
    }

    let events: String = (0..20)
        .map(|i| {
            format!("{{\"@t\":\"2026-01-01T00:00:00Z\",\"@mt\":\"Secure {{N}}\",\"N\":{i}}}\n")
        })
        .collect();
    let (status, body) = https(a.api, &roots, "POST", "/ingest/clef", events.as_bytes());
    assert_eq!(status, 201, "{body}\n{}", a.log());
    // Through the follower: proxied over https to the leader's internal API.
    let (status, body) = https(b.api, &roots, "POST", "/ingest/clef", events.as_bytes());
    assert_eq!(status, 201, "{body}\n{}", b.log());
    // Replicated over wss.
    wait_for(
        Duration::from_secs(30),
        "the follower reaches the leader",
        || {
            let g = generation_over_https(a.api, &roots);
            !g.is_empty() && g == generation_over_https(b.api, &roots)
        },
    );
    let (_, found) = https(
        b.api,
        &roots,
        "GET",
        "/api/events?filter=N%20%3D%207&count=100",
        b"",
    );
    assert_eq!(found.matches("Secure").count(), 2, "{found}");
    assert!(
        a.log().contains("cluster port listening on wss://"),
        "{}",
        a.log()
    );

    // A client that does not trust the private CA is refused.
    let system_only = tls::client_config(tls::PeerRoots::new(scratch.path()));
    assert_eq!(https(a.api, &system_only, "GET", "/health", b"").0, 0);

    // A certificate renewed in place is served after SIGHUP, without a
    // restart: the leaf a TLS client sees is the new one.
    let before = served_leaf(a.api, &roots).unwrap();
    let renewed = scratch.path().join("renewed.pfx");
    ca.issue_pfx(&["127.0.0.1"], PASSWORD, PfxKind::Legacy, &renewed);
    let new_leaf = certificates::load(&renewed, Some(PASSWORD)).unwrap().chain[0].to_vec();
    assert_ne!(new_leaf, before, "a new serial and key");
    let served = a.root().join("Certificates").join(format!("{}.pfx", a.api));
    std::fs::copy(&renewed, &served).unwrap();
    assert_eq!(
        served_leaf(a.api, &roots).unwrap(),
        before,
        "not before SIGHUP"
    );
    // SAFETY: signalling our own child process.
    unsafe { libc::kill(a.pid().unwrap() as i32, libc::SIGHUP) };
    wait_for(Duration::from_secs(10), "the reload is logged", || {
        a.log().contains("listener certificate(s) reloaded")
    });
    assert_eq!(served_leaf(a.api, &roots).unwrap(), new_leaf);
    assert_eq!(https(a.api, &roots, "GET", "/health", b"").0, 200);

    // CA rotation: the follower trusts a new CA placed in Certificates/
    // on SIGHUP; the leader's cluster and internal API certificates are
    // re-issued by it; proxying and replication carry on.
    let new_ca = TestCa::new();
    let rotated = scratch.path().join("rotated.pfx");
    new_ca.issue_pfx(&["127.0.0.1"], PASSWORD, PfxKind::Modern, &rotated);
    let b_certs = b.root().join("Certificates");
    std::fs::copy(new_ca.cert_path(), b_certs.join("rotated-ca.crt")).unwrap();
    // SAFETY: signalling our own child process.
    unsafe { libc::kill(b.pid().unwrap() as i32, libc::SIGHUP) };
    wait_for(Duration::from_secs(10), "the follower reloads", || {
        b.log()
            .contains("and 2 CA certificate(s) from Certificates/")
    });
    for port in [a.cluster, a.internal] {
        let pfx = a.root().join("Certificates").join(format!("{port}.pfx"));
        std::fs::copy(&rotated, pfx).unwrap();
    }
    // SAFETY: as above.
    unsafe { libc::kill(a.pid().unwrap() as i32, libc::SIGHUP) };
    wait_for(Duration::from_secs(10), "the leader reloads", || {
        a.log().matches("listener certificate(s) reloaded").count() == 2
    });
    let (status, body) = https(b.api, &roots, "POST", "/ingest/clef", events.as_bytes());
    assert_eq!(status, 201, "{body}\n{}", b.log());
    wait_for(Duration::from_secs(30), "replication carries on", || {
        let g = generation_over_https(a.api, &roots);
        !g.is_empty() && g == generation_over_https(b.api, &roots)
    });

    // A CA withdrawn from Certificates/ is distrusted on SIGHUP, also by the
    // replication session verified with it: the follower reconnects and
    // refuses the leader's certificate ...
    let rotated_ca = b_certs.join("rotated-ca.crt");
    std::fs::remove_file(&rotated_ca).unwrap();
    let before = b.log().len();
    // SAFETY: as above.
    unsafe { libc::kill(b.pid().unwrap() as i32, libc::SIGHUP) };
    wait_for(
        Duration::from_secs(30),
        "the follower refuses the leader's certificate",
        || {
            let log = b.log();
            let since = log.get(before..).unwrap_or("");
            since.contains("the trusted CAs were reloaded: reconnecting")
                && since.contains("invalid peer certificate")
        },
    );
    // ... until the CA is trusted again.
    std::fs::copy(new_ca.cert_path(), &rotated_ca).unwrap();
    // SAFETY: as above.
    unsafe { libc::kill(b.pid().unwrap() as i32, libc::SIGHUP) };
    let (status, body) = https(a.api, &roots, "POST", "/ingest/clef", events.as_bytes());
    assert_eq!(status, 201, "{body}\n{}", a.log());
    wait_for(Duration::from_secs(30), "replication resumes", || {
        let g = generation_over_https(a.api, &roots);
        !g.is_empty() && g == generation_over_https(b.api, &roots)
    });
}

/// The leaf certificate the TLS listener on `port` presents to a client
/// verifying it with `config`.
fn served_leaf(port: u16, config: &Arc<rustls::ClientConfig>) -> Result<Vec<u8>, String> {
    let name = ServerName::try_from("127.0.0.1").unwrap();
    let mut conn = rustls::ClientConnection::new(config.clone(), name).unwrap();
    let mut tcp = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    while conn.is_handshaking() {
        conn.complete_io(&mut tcp).map_err(|e| e.to_string())?;
    }
    Ok(conn.peer_certificates().ok_or("no certificate")?[0].to_vec())
}

#[test]
fn a_ca_rotated_in_certificates_is_trusted_by_peer_connections_after_a_reload() {
    tls::install_crypto_provider();
    let (old_ca, new_ca) = (TestCa::new(), TestCa::new());
    let certificates_dir = tempfile::tempdir().unwrap();
    let trusted = certificates_dir.path().join("cluster-ca.crt");
    std::fs::copy(old_ca.cert_path(), &trusted).unwrap();
    // The configuration a node hands its peer connections, built once.
    let roots = tls::PeerRoots::new(certificates_dir.path());
    let config = tls::client_config(roots.clone());

    // The peer's certificate is re-issued by a new CA.
    let scratch = tempfile::tempdir().unwrap();
    let pfx = scratch.path().join("peer.pfx");
    new_ca.issue_pfx(&["127.0.0.1"], PASSWORD, PfxKind::Modern, &pfx);
    let cert = ReloadableCertificate::new("peer", source(&pfx)).unwrap();
    // (Both test CAs have the same name: the old one's key does not verify.)
    let err = ping(serve_once(&cert), config.clone()).unwrap_err();
    assert!(err.contains("invalid peer certificate"), "{err}");

    // The new CA replaces the old one in Certificates/; after the reload
    // (what SIGHUP does) the same configuration trusts it.
    std::fs::copy(new_ca.cert_path(), &trusted).unwrap();
    assert!(
        ping(serve_once(&cert), config.clone()).is_err(),
        "not before the reload"
    );
    assert_eq!(roots.reload(), 1);
    ping(serve_once(&cert), config.clone()).unwrap();

    // A file that is not a usable certificate is skipped (and logged), the
    // rest still trusted.
    std::fs::write(
        certificates_dir.path().join("junk.pem"),
        b"not a certificate",
    )
    .unwrap();
    assert_eq!(roots.reload(), 1);
    ping(serve_once(&cert), config).unwrap();
}

#[test]
fn a_node_refuses_to_start_without_a_usable_certificate() {
    tls::install_crypto_provider();
    let ca = TestCa::new();
    let mut node = Node::new("alone");
    let uri = format!("https://127.0.0.1:{}", node.api);
    node.env.insert("SKEIN_API_LISTENURIS".into(), uri);
    node.init_secret_key();

    let expect_refusal = |node: &mut Node, says: &str| {
        node.spawn();
        let status = node.wait_exit(Duration::from_secs(30));
        assert!(!status.success());
        let log = node.log();
        let last = log.rsplit("---- start").next().unwrap_or("");
        assert!(last.contains(says), "expected {says:?} in:\n{last}");
    };
    let missing = format!("{}.pfx", node.api);
    expect_refusal(&mut node, &missing);
    let certs = node.root().join("Certificates");
    std::fs::create_dir_all(&certs).unwrap();
    let pfx = certs.join(format!("{}.pfx", node.api));
    ca.issue_pfx(&["127.0.0.1"], PASSWORD, PfxKind::Modern, &pfx);
    expect_refusal(
        &mut node,
        "skein secret set -k certificates.defaultPassword",
    );
    node.set_secret("certificates.defaultPassword", "wrong");
    expect_refusal(&mut node, "wrong password");
    node.set_secret("certificates.defaultPassword", PASSWORD);
    ca.issue_pfx(&["seq002.example.com"], PASSWORD, PfxKind::Modern, &pfx);
    expect_refusal(
        &mut node,
        "the certificate is for seq002.example.com, none of the names this node is reached by (127.0.0.1",
    );
    let expired = Leaf {
        dates: Some(("20200101000000Z", "20200201000000Z")),
        ..Leaf::default()
    };
    ca.issue(&["127.0.0.1"], PASSWORD, &expired, &pfx);
    expect_refusal(&mut node, "the certificate expired on");
    let not_yet = Leaf {
        dates: Some(("20991201000000Z", "20991231000000Z")),
        ..Leaf::default()
    };
    ca.issue(&["127.0.0.1"], PASSWORD, &not_yet, &pfx);
    expect_refusal(&mut node, "the certificate is not valid before");
}

#[test]
fn an_rsa_leaf_certificate_is_served() {
    tls::install_crypto_provider();
    let ca = TestCa::new();
    let dir = tempfile::tempdir().unwrap();
    let pfx = dir.path().join("443.pfx");
    let rsa = Leaf {
        rsa: true,
        kind: PfxKind::Legacy,
        ..Leaf::default()
    };
    ca.issue(&["127.0.0.1"], PASSWORD, &rsa, &pfx);
    std::fs::copy(ca.cert_path(), dir.path().join("ca.crt")).unwrap();
    let cert = ReloadableCertificate::new("rsa listener", source(&pfx)).unwrap();
    let config = tls::client_config(tls::PeerRoots::new(dir.path()));
    let leaf = ping(serve_once(&cert), config).unwrap();
    let served = certificates::load(&pfx, Some(PASSWORD)).unwrap().chain[0].to_vec();
    assert_eq!(leaf, served);
    // An RSA public key's algorithm identifier (rsaEncryption, 1.2.840.113549.1.1.1).
    let rsa_oid = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
    assert!(leaf.windows(rsa_oid.len()).any(|w| w == rsa_oid));
}

#[test]
fn a_login_over_https_gets_a_secure_session_cookie() {
    use std::process::Stdio;
    tls::install_crypto_provider();
    let ca = TestCa::new();
    let mut node = Node::new("secure");
    node.init_secret_key();
    node.set_secret("certificates.defaultPassword", PASSWORD);
    let certs = node.root().join("Certificates");
    std::fs::create_dir_all(&certs).unwrap();
    ca.issue_pfx(
        &["127.0.0.1"],
        PASSWORD,
        PfxKind::Modern,
        &certs.join(format!("{}.pfx", node.api)),
    );
    std::fs::copy(ca.cert_path(), certs.join("ca.crt")).unwrap();
    let mut hash = node
        .command()
        .args(["config", "hash"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    hash.stdin
        .take()
        .unwrap()
        .write_all(b"admin-Pa55word-tls\n")
        .unwrap();
    let hash = String::from_utf8(hash.wait_with_output().unwrap().stdout).unwrap();
    for (k, v) in [
        (
            "SKEIN_API_LISTENURIS",
            format!("https://127.0.0.1:{}", node.api),
        ),
        ("SKEIN_AUTH_REQUIRED", "true".into()),
        ("SKEIN_FIRSTRUN_ADMINUSERNAME", "admin".into()),
        ("SKEIN_FIRSTRUN_ADMINPASSWORDHASH", hash.trim().into()),
    ] {
        node.env.insert(k.into(), v);
    }
    node.spawn();
    let roots = tls::client_config(tls::PeerRoots::new(&certs));
    wait_for(Duration::from_secs(30), "/health over https", || {
        node.assert_running();
        https(node.api, &roots, "GET", "/health", b"").0 != 0
    });
    let body = r#"{"Username":"admin","Password":"admin-Pa55word-tls"}"#;
    let request = format!(
        "POST /api/users/login HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let raw = https_raw(node.api, &roots, request.as_bytes()).expect("an answer");
    let answer = String::from_utf8_lossy(&raw);
    let head = answer.split("\r\n\r\n").next().unwrap();
    assert!(head.starts_with("HTTP/1.1 200"), "{answer}");
    let cookie = head
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("set-cookie:"))
        .unwrap_or_else(|| panic!("no cookie in {head}"));
    let attributes: Vec<&str> = cookie.split(';').map(str::trim).collect();
    for wanted in ["Secure", "HttpOnly", "SameSite=Lax"] {
        assert!(attributes.contains(&wanted), "{wanted} missing: {cookie}");
    }
}
