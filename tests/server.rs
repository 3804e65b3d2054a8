//! End-to-end tests of `skein run`: the real binary on a free port.

use skein_harness::{exchange, Node};

const CLEF: &str = "application/vnd.serilog.clef";

#[test]
fn ingests_clef_and_legacy_json_and_health_shows_the_generation() {
    let node = Node::standalone();
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
    let node = Node::standalone();
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

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

/// `n` CLEF events, one per second, with `N` counting from 0.
fn clef_events(n: usize) -> Vec<u8> {
    (0..n)
        .map(|i| {
            let level = if i % 4 == 0 { "Error" } else { "Information" };
            format!(
                "{{\"@t\":\"2025-01-01T00:{:02}:{:02}Z\",\"@l\":\"{level}\",\"@mt\":\"Item {{N}} of {{App}}\",\"N\":{i},\"App\":\"{}\",\"Big\":12345678901234567890123}}\n",
                i / 60,
                i % 60,
                if i % 2 == 0 { "checkout" } else { "billing" }
            )
        })
        .collect::<String>()
        .into_bytes()
}

#[test]
fn events_are_searched_paged_and_exported() {
    let node = Node::standalone();
    assert_eq!(node.post("/ingest/clef", CLEF, &clef_events(40)).0, 201);

    let (status, body) = node.get("/api/events?count=5&render=true");
    assert_eq!(status, 200, "{body}");
    let page = json(&body);
    let ns: Vec<i64> = page
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["Properties"][0]["Value"].as_i64().unwrap())
        .collect();
    assert_eq!(ns, vec![39, 38, 37, 36, 35], "newest first");
    assert_eq!(page[0]["RenderedMessage"], "Item 39 of \"billing\"");
    assert!(
        body.contains("\"Value\":12345678901234567890123}"),
        "numbers keep their digits: {body}"
    );

    // Walk every error with afterId paging: no gaps, no duplicates.
    let mut seen = Vec::new();
    let mut after = String::new();
    loop {
        let (_, body) = node.get(&format!(
            "/api/events?filter=%40Level%20%3D%20%27Error%27&count=3{after}"
        ));
        let page = json(&body);
        let page = page.as_array().unwrap();
        if page.is_empty() {
            break;
        }
        seen.extend(
            page.iter()
                .map(|e| e["Properties"][0]["Value"].as_i64().unwrap()),
        );
        after = format!("&afterId={}", page.last().unwrap()["Id"].as_str().unwrap());
    }
    assert_eq!(
        seen,
        (0..40).rev().filter(|i| i % 4 == 0).collect::<Vec<_>>()
    );

    let (status, clef) =
        node.get("/api/events?filter=App%20%3D%20%27checkout%27%20and%20N%20%3C%204&clef");
    assert_eq!(status, 200);
    assert_eq!(clef.lines().count(), 2, "{clef}");
    assert!(clef.lines().all(|l| l.contains("\"App\":\"checkout\"")));

    let (_, body) = node.get("/api/events?count=1");
    let id = json(&body)[0]["Id"].as_str().unwrap().to_owned();
    let (status, one) = node.get(&format!("/api/events/{id}"));
    assert_eq!(status, 200);
    assert_eq!(json(&one)["Id"], id.as_str());
    assert_eq!(
        node.get("/api/events/event-00000000000000000000000000000001")
            .0,
        404
    );

    let (status, data) =
        node.get("/api/data?q=select%20count(*)%20as%20n%20from%20stream%20group%20by%20App");
    assert_eq!(status, 200, "{data}");
    let data = json(&data);
    assert_eq!(data["Columns"], serde_json::json!(["App", "n"]));
    assert_eq!(data["Rows"].as_array().unwrap().len(), 2);

    let (status, err) = node.get("/api/events?filter=Name%20%3D%20%27x");
    assert_eq!(status, 400);
    assert!(
        json(&err)["Error"].as_str().unwrap().contains("position"),
        "{err}"
    );
    assert_eq!(node.get("/api/events?fromDateUtc=yesterday").0, 400);
    assert_eq!(node.get("/api/events?count=many").0, 400);
    assert_eq!(node.get("/api/data").0, 400);
}

#[test]
fn below_the_disk_floor_ingestion_gets_503_and_health_turns_unhealthy() {
    let env = [(
        "SKEIN_STORAGE_FLUSHFLOORBYTES".to_string(),
        "1000000000000000".to_string(),
    )];
    let mut node = Node::new("node").with_env(env.into_iter().collect());
    node.start();
    let (status, body) = node.post("/ingest/clef", CLEF, b"{\"@t\":\"2025-01-01T00:00:00Z\"}");
    assert_eq!(status, 503, "{body}");
    assert!(
        json(&body)["Error"].as_str().unwrap().contains("disk full"),
        "{body}"
    );
    let (status, health) = node.get("/health");
    assert_eq!(status, 503, "{health}");
    let health = json(&health);
    assert_eq!(health["status"], "Unhealthy");
    assert!(
        health["description"]
            .as_str()
            .unwrap()
            .contains("disk full"),
        "{health}"
    );
    assert_eq!(health["generation"], "0.0");
    assert!(node.is_running());
}

/// `HEAD` answers like `GET` without a body on every route that has `GET`
/// (it used to answer 405), and stays 405 on a route without one.
#[test]
fn head_answers_like_get_without_a_body() {
    let node = Node::standalone();
    for path in ["/api", "/health", "/", "/ui/app.js", "/api/openapi.json"] {
        let get = exchange(node.api, "GET", path, &[], b"");
        let head = exchange(node.api, "HEAD", path, &[], b"");
        assert_eq!(
            (head.status, get.status),
            (200, 200),
            "{path}: {}",
            head.head
        );
        assert!(
            head.body.is_empty(),
            "HEAD {path} sent a body: {}",
            head.body
        );
        assert!(!get.body.is_empty(), "GET {path} has a body");
        assert_eq!(
            head.header("content-type"),
            get.header("content-type"),
            "{path}"
        );
    }
    let refused = exchange(node.api, "HEAD", "/api/events/raw", &[], b"");
    assert_eq!(refused.status, 405, "{}", refused.head);
    assert_eq!(refused.header("allow"), Some("POST"), "{}", refused.head);
}
