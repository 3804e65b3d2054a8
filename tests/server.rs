//! End-to-end tests of `skein run`: the real binary on a free port.

mod support;

use support::Server;

const CLEF: &str = "application/vnd.serilog.clef";

#[test]
fn ingests_clef_and_legacy_json_and_health_shows_the_generation() {
    let node = Server::start();
    let (status, body) = node.post(
        "/api/events/raw?clef",
        "application/json",
        b"{\"@t\":\"2025-01-01T00:00:00Z\",\"@mt\":\"Hello {Name}\",\"Name\":\"x\"}\r\n{\"@t\":\"2025-01-01T00:00:01Z\",\"@l\":\"err\"}",
    );
    assert_eq!(
        (status, body.as_str()),
        (201, "{\"MinimumLevelAccepted\":null}")
    );
    let legacy = br#"{"Events":[{"Timestamp":"2026-11-25 16:43:33.837398+00:00","Level":"INFO","MessageTemplate":"hi","Properties":{"A":1}}]}"#;
    assert_eq!(
        node.post("/api/events/raw", "application/json", legacy).0,
        201
    );
    assert_eq!(
        node.post("/ingest/clef", CLEF, b"").0,
        201,
        "an empty body reads the minimum level"
    );
    let (status, health) = node.get("/health");
    assert_eq!(status, 200, "{health}");
    let health: serde_json::Value = serde_json::from_str(&health).unwrap();
    assert_eq!(health["status"], "Healthy");
    assert_eq!(health["role"], "Standalone");
    assert_eq!(health["generation"], "1.2");
}

#[test]
fn bad_bodies_get_clear_errors_and_store_nothing() {
    let node = Server::start();
    let cases: Vec<(&str, &str, Vec<u8>, u16, &str)> = vec![
        (
            "/ingest/clef",
            CLEF,
            b"{\"@t\":\"2025-01-01T00:00:00Z\"}\n{nope".to_vec(),
            400,
            "line 2",
        ),
        ("/ingest/clef", CLEF, b"[1,2]".to_vec(), 400, "line 1"),
        (
            "/ingest/clef",
            CLEF,
            b"{\"@m\":\"no time\"}".to_vec(),
            400,
            "@t",
        ),
        (
            "/ingest/clef",
            CLEF,
            b"{\"@t\":\"yesterday\"}".to_vec(),
            400,
            "@t",
        ),
        (
            "/ingest/clef",
            CLEF,
            b"{\"@t\":\"2025-01-01T00:00:00Z\",\"A\":\"\xff\"}".to_vec(),
            400,
            "utf-8",
        ),
        (
            "/ingest/clef",
            CLEF,
            format!(
                "{{\"@t\":\"2025-01-01T00:00:00Z\",\"A\":{}{}}}",
                "[".repeat(200),
                "]".repeat(200)
            )
            .into_bytes(),
            400,
            "line 1",
        ),
        (
            "/api/events/raw",
            "text/plain",
            b"{\"@t\":\"2025-01-01T00:00:00Z\"}".to_vec(),
            400,
            "Events",
        ),
        ("/ingest/clef", CLEF, vec![b' '; 11 << 20], 413, "limit"),
    ];
    for (path, ct, body, want, needle) in cases {
        let (status, text) = node.post(path, ct, &body);
        assert_eq!(status, want, "{path} {ct}: {text}");
        let err: serde_json::Value =
            serde_json::from_str(&text).unwrap_or_else(|_| panic!("JSON error body: {text}"));
        let msg = err["Error"].as_str().unwrap();
        assert!(
            msg.to_lowercase().contains(&needle.to_lowercase()),
            "{msg} should mention {needle}"
        );
    }
    let (_, health) = node.get("/health");
    assert!(
        health.contains("\"generation\":\"0.0\""),
        "nothing was stored: {health}"
    );
}
