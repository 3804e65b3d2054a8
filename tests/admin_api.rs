//! End-to-end tests of the admin API (`/api/apikeys`, `/api/signals`,
//! `/api/settings`) against the real binary: CRUD cycles, validation errors,
//! and settings and keys taking effect on ingestion at once.

use serde_json::{json, Value};
use skein_harness::{request, Node};

const CLEF: &str = "application/vnd.serilog.clef";

/// `method path` with a JSON body → (status, parsed body or `Null`).
fn call(node: &Node, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let bytes = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
    let (status, text) = request(
        node.api,
        method,
        path,
        &[("Content-Type", "application/json")],
        &bytes,
    );
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// Sends raw body bytes → (status, text).
fn raw(node: &Node, method: &str, path: &str, body: &[u8]) -> (u16, String) {
    request(
        node.api,
        method,
        path,
        &[("Content-Type", "application/json")],
        body,
    )
}

/// Ingests CLEF with an optional key → (status, body).
fn ingest(node: &Node, key: Option<&str>, body: &str) -> (u16, String) {
    let mut headers = vec![("Content-Type", CLEF)];
    if let Some(k) = key {
        headers.push(("X-Seq-ApiKey", k));
    }
    request(node.api, "POST", "/ingest/clef", &headers, body.as_bytes())
}

fn error_text(body: &Value) -> &str {
    body["Error"].as_str().unwrap_or("")
}

fn ingested_events(node: &Node) -> u64 {
    let (status, text) = node.get("/metrics");
    assert_eq!(status, 200);
    text.lines()
        .find_map(|l| l.strip_prefix("skein_ingested_events_total "))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .map(|v| v as u64)
        .unwrap_or_else(|| panic!("no skein_ingested_events_total in:\n{text}"))
}

const EVENT: &str = r#"{"@t":"2025-01-01T00:00:00Z","@mt":"hello"}"#;

#[test]
fn api_keys_crud_token_shown_once_and_permissions_apply_to_ingestion() {
    let node = Node::standalone();
    assert_eq!(call(&node, "GET", "/api/apikeys", None), (200, json!([])));

    let (status, created) = call(
        &node,
        "POST",
        "/api/apikeys",
        Some(json!({"Title":"shop","Permissions":["Ingest"],"MinimumLevel":"info","Extra":1})),
    );
    assert_eq!(status, 201, "{created}");
    let token = created["Token"].as_str().unwrap().to_owned();
    let id = created["Id"].as_str().unwrap().to_owned();
    assert_eq!(token.len(), 32);
    assert_eq!(created["Title"], "shop");
    assert_eq!(created["Permissions"], json!(["Ingest"]));
    assert_eq!(created["MinimumLevel"], "Information");
    assert_eq!(created["Links"]["Self"], format!("api/apikeys/{id}"));
    assert!(created["CreatedUtc"].as_str().unwrap().ends_with('Z'));

    // The token is never shown again.
    let (status, listed) = raw(&node, "GET", "/api/apikeys", b"");
    assert_eq!(status, 200);
    assert!(!listed.contains(&token), "{listed}");
    let listed: Value = serde_json::from_str(&listed).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["Id"], id.as_str());
    assert!(listed[0].get("Token").is_none());
    let (status, one) = call(&node, "GET", &format!("/api/apikeys/{id}"), None);
    assert_eq!((status, &one["Title"]), (200, &json!("shop")));
    assert!(one.get("Token").is_none());

    // The token ingests; a key without Ingest is refused.
    assert_eq!(ingest(&node, Some(&token), EVENT).0, 201);
    let (_, reader) = call(
        &node,
        "POST",
        "/api/apikeys",
        Some(json!({"Title":"dashboards","Permissions":["Read"]})),
    );
    let reader_token = reader["Token"].as_str().unwrap();
    let (status, body) = ingest(&node, Some(reader_token), EVENT);
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("Ingest"), "{body}");

    // Removal.
    let path = format!("/api/apikeys/{id}");
    assert_eq!(raw(&node, "DELETE", &path, b""), (204, String::new()));
    let (status, body) = call(&node, "GET", &path, None);
    assert_eq!(status, 404);
    assert!(error_text(&body).contains(&id), "{body}");
    assert_eq!(call(&node, "DELETE", &path, None).0, 404);
    assert_eq!(
        call(&node, "DELETE", "/api/apikeys/dashboards", None).0,
        404,
        "removal is by id only, never by title"
    );
    let (_, listed) = call(&node, "GET", "/api/apikeys", None);
    assert_eq!(listed.as_array().unwrap().len(), 1);
}

#[test]
fn api_key_bodies_are_validated() {
    let node = Node::standalone();
    let cases: Vec<(&[u8], u16, &str)> = vec![
        (br#"{"Permissions":["Ingest"]}"#, 400, "Title is required"),
        (br#"{"Title":"   "}"#, 400, "Title is required"),
        (br#"{"Title":5}"#, 400, "Title: invalid type"),
        (
            br#"{"Title":"t","Permissions":["Admin"]}"#,
            400,
            "Permissions: `Admin` is not a permission",
        ),
        (
            br#"{"Title":"t","Permissions":"Ingest"}"#,
            400,
            "Permissions: invalid type",
        ),
        (
            br#"{"Title":"t","MinimumLevel":"loud"}"#,
            400,
            "MinimumLevel: `loud` is not a level",
        ),
        (br#"{"Title":"t""#, 400, "not valid JSON"),
        (b"", 400, "body is empty"),
        (b"[1]", 400, "must be a JSON object"),
    ];
    for (body, status, text) in cases {
        let (got, answer) = raw(&node, "POST", "/api/apikeys", body);
        let parsed: Value = serde_json::from_str(&answer)
            .unwrap_or_else(|_| panic!("not JSON for {body:?}: {answer}"));
        assert_eq!(got, status, "{body:?} → {answer}");
        assert!(
            error_text(&parsed).contains(text),
            "{body:?} → {answer}, wanted {text}"
        );
    }
    let huge = format!(r#"{{"Title":"{}"}}"#, "x".repeat(2 * 1024 * 1024));
    let (status, answer) = raw(&node, "POST", "/api/apikeys", huge.as_bytes());
    assert_eq!(status, 413, "{answer}");
    assert!(answer.contains("\"Error\""), "{answer}");
    assert_eq!(call(&node, "GET", "/api/apikeys", None), (200, json!([])));
}

#[test]
fn signals_crud_with_checked_filters() {
    let node = Node::standalone();
    let (status, created) = call(
        &node,
        "POST",
        "/api/signals",
        Some(json!({"Title":"Errors","Filter":"@Level = 'Error'","Shared":true})),
    );
    assert_eq!(status, 201, "{created}");
    let id = created["Id"].as_str().unwrap().to_owned();
    let path = format!("/api/signals/{id}");
    assert_eq!(created["Filter"], "@Level = 'Error'");
    assert_eq!(created["Shared"], true);
    assert_eq!(created["Links"]["Self"], path.trim_start_matches('/'));

    let (_, listed) = call(&node, "GET", "/api/signals", None);
    assert_eq!(listed, json!([created.clone()]));
    assert_eq!(
        call(&node, "GET", "/api/signals/", None),
        (200, listed),
        "a trailing slash names the collection too"
    );
    assert_eq!(call(&node, "GET", &path, None), (200, created.clone()));

    // PUT replaces what it names and keeps the rest.
    let (status, updated) = call(
        &node,
        "PUT",
        &path,
        Some(json!({"Title":"Slow","Filter":"Elapsed > 500"})),
    );
    assert_eq!(status, 200, "{updated}");
    assert_eq!(
        (&updated["Title"], &updated["Filter"], &updated["Shared"]),
        (&json!("Slow"), &json!("Elapsed > 500"), &json!(true))
    );

    // Bad filters are refused with their position; nothing changes.
    let (status, body) = call(&node, "PUT", &path, Some(json!({"Filter":"Elapsed >"})));
    assert_eq!(status, 400, "{body}");
    assert!(error_text(&body).starts_with("Filter: "), "{body}");
    assert!(error_text(&body).contains("at character"), "{body}");
    let (status, body) = call(
        &node,
        "POST",
        "/api/signals",
        Some(json!({"Title":"x","Filter":"(A = 1"})),
    );
    assert_eq!(status, 400, "{body}");
    assert!(error_text(&body).contains("at character"), "{body}");
    let (status, body) = call(&node, "POST", "/api/signals", Some(json!({"Filter":""})));
    assert_eq!((status, error_text(&body)), (400, "Title is required"));
    let (status, body) = call(&node, "PUT", &path, Some(json!({"Shared":"yes"})));
    assert_eq!(status, 400);
    assert!(
        error_text(&body).starts_with("Shared: invalid type"),
        "{body}"
    );
    assert_eq!(call(&node, "GET", &path, None), (200, updated));

    assert_eq!(raw(&node, "DELETE", &path, b""), (204, String::new()));
    assert_eq!(call(&node, "GET", &path, None).0, 404);
    assert_eq!(call(&node, "PUT", &path, Some(json!({"Title":"t"}))).0, 404);
    assert_eq!(call(&node, "DELETE", &path, None).0, 404);
    assert_eq!(call(&node, "GET", "/api/signals", None), (200, json!([])));
}

#[test]
fn settings_are_validated_and_take_effect_at_once() {
    let node = Node::standalone();
    let (status, all) = call(&node, "GET", "/api/settings", None);
    assert_eq!(status, 200);
    let names: Vec<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["Name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "ingestion.requireApiKey",
            "ingestion.minimumLevel",
            "retention.period"
        ]
    );
    assert!(all.as_array().unwrap().iter().all(|s| s["Value"].is_null()));

    // Require an API key: key-less ingestion is refused at once.
    let (_, key) = call(
        &node,
        "POST",
        "/api/apikeys",
        Some(json!({"Title":"app","Permissions":["Ingest"]})),
    );
    let token = key["Token"].as_str().unwrap().to_owned();
    assert_eq!(ingest(&node, None, EVENT).0, 201);
    let require = "/api/settings/ingestion.requireApiKey";
    let (status, body) = call(&node, "PUT", require, Some(json!({"Value": true})));
    assert_eq!((status, &body["Value"]), (200, &json!(true)), "{body}");
    assert_eq!(call(&node, "GET", require, None).1["Value"], true);
    assert_eq!(ingest(&node, None, EVENT).0, 401);
    assert_eq!(ingest(&node, Some("null"), EVENT).0, 401);
    assert_eq!(ingest(&node, Some(&token), EVENT).0, 201);
    // A removed key stops working at once too.
    let key_path = format!("/api/apikeys/{}", key["Id"].as_str().unwrap());
    assert_eq!(call(&node, "DELETE", &key_path, None).0, 204);
    assert_eq!(ingest(&node, Some(&token), EVENT).0, 401);
    let (status, body) = call(&node, "PUT", require, Some(json!({"Value": "yes"})));
    assert_eq!(status, 400);
    assert!(error_text(&body).starts_with("ingestion.requireApiKey: expected true or false"));
    assert_eq!(raw(&node, "DELETE", require, b""), (204, String::new()));
    assert_eq!(ingest(&node, None, EVENT).0, 201);

    // Minimum level: answered to clients, lower events dropped.
    let level = "/api/settings/ingestion.minimumLevel";
    let (status, body) = call(&node, "PUT", level, Some(json!({"Value": "warn"})));
    assert_eq!((status, &body["Value"]), (200, &json!("Warning")), "{body}");
    let before = ingested_events(&node);
    let two = "{\"@t\":\"2025-01-01T00:00:00Z\",\"@mt\":\"fine\"}\n{\"@t\":\"2025-01-01T00:00:01Z\",\"@mt\":\"bad\",\"@l\":\"Error\"}";
    let (status, body) = ingest(&node, None, two);
    assert_eq!(
        (status, body.as_str()),
        (201, r#"{"MinimumLevelAccepted":"Warning"}"#)
    );
    assert_eq!(ingested_events(&node), before + 1);
    let (status, body) = call(&node, "PUT", level, Some(json!({"Value": "loud"})));
    assert_eq!(status, 400);
    assert!(
        error_text(&body).contains("`loud` is not a level"),
        "{body}"
    );
    assert_eq!(
        call(&node, "PUT", level, Some(json!({"Value": null}))).0,
        200
    );
    assert_eq!(
        ingest(&node, None, "").1,
        r#"{"MinimumLevelAccepted":null}"#
    );

    // Retention period.
    let retention = "/api/settings/retention.period";
    let (status, body) = call(&node, "PUT", retention, Some(json!({"Value": "30d"})));
    assert_eq!((status, &body["Value"]), (200, &json!("30d")), "{body}");
    let (status, body) = call(&node, "PUT", retention, Some(json!({"Value": "forever"})));
    assert_eq!(status, 400);
    assert!(
        error_text(&body).starts_with("retention.period: `forever` is not a duration"),
        "{body}"
    );
    assert_eq!(
        call(&node, "PUT", retention, Some(json!({"Value": "0d"}))).0,
        400
    );
    assert_eq!(call(&node, "GET", retention, None).1["Value"], "30d");

    // Body and name errors.
    let (status, body) = call(&node, "PUT", retention, Some(json!({})));
    assert_eq!(
        (status, error_text(&body)),
        (400, "Value is required (null clears the setting)")
    );
    let (status, body) = call(
        &node,
        "PUT",
        "/api/settings/no.such",
        Some(json!({"Value": 1})),
    );
    assert_eq!(status, 404);
    assert!(
        error_text(&body).contains("no setting is called `no.such`"),
        "{body}"
    );
    assert_eq!(call(&node, "GET", "/api/settings/no.such", None).0, 404);
    assert_eq!(call(&node, "DELETE", "/api/settings/no.such", None).0, 404);
    assert_eq!(node.get("/health").0, 200);
}
