//! The document covers exactly the permission table, and every table entry
//! has its hand-written description (and every description an entry).

use std::collections::BTreeSet;

use super::operations::OPERATIONS;
use super::*;

#[test]
fn every_route_has_a_description_and_every_description_a_route() {
    let routes: BTreeSet<(String, &str)> =
        ROUTES.iter().map(|(m, p, _)| (m.to_string(), *p)).collect();
    let described: Vec<(String, &str)> = OPERATIONS
        .iter()
        .map(|o| (o.method.to_string(), o.path))
        .collect();
    let unique: BTreeSet<_> = described.iter().cloned().collect();
    assert_eq!(unique.len(), described.len(), "a route is described twice");
    let undescribed: Vec<_> = routes.difference(&unique).collect();
    assert!(
        undescribed.is_empty(),
        "routes without a description in api::openapi::operations: {undescribed:?}"
    );
    let stale: Vec<_> = unique.difference(&routes).collect();
    assert!(
        stale.is_empty(),
        "descriptions of routes the permission table does not have: {stale:?}"
    );
}

#[test]
fn the_document_has_exactly_the_routes_of_the_permission_table() {
    let doc = document();
    let mut found = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            found.insert((method.to_ascii_uppercase(), path.clone()));
            let responses = op["responses"].as_object().unwrap();
            assert!(responses.contains_key("503"), "{method} {path}");
            assert!(
                !op["summary"].as_str().unwrap().is_empty(),
                "{method} {path}"
            );
        }
    }
    let routes: BTreeSet<_> = ROUTES
        .iter()
        .map(|(m, p, _)| (m.to_string(), p.to_string()))
        .collect();
    assert_eq!(found, routes);
}

#[test]
fn security_and_statuses_follow_the_permission() {
    let doc = document();
    let op = |m: &str, p: &str| doc["paths"][p][m].clone();
    let events = op("get", "/api/events");
    assert_eq!(events["x-permission"], "Read");
    assert_eq!(events["security"].as_array().unwrap().len(), 3);
    for s in ["200", "400", "401", "403", "503"] {
        assert!(events["responses"].get(s).is_some(), "{s}: {events}");
    }
    let root = op("get", "/api");
    assert_eq!(root["security"], json!([]));
    assert!(root["responses"].get("401").is_none());
    let raw = op("post", "/api/events/raw");
    assert_eq!(raw["security"][0], json!({}), "a key is optional");
    let content = raw["requestBody"]["content"].as_object().unwrap();
    assert!(content.contains_key(CLEF_CONTENT_TYPE) && content.contains_key("application/json"));
    let one = op("delete", "/api/signals/{id}");
    assert_eq!(one["parameters"][0]["in"], "path");
    assert!(one["responses"].get("404").is_some() && one["responses"].get("204").is_some());
    let put = op("put", "/api/settings/{name}");
    assert_eq!(
        put["requestBody"]["content"]["application/json"]["schema"]["required"],
        json!(["Value"])
    );
    let data = op("get", "/api/data");
    let q = &data["parameters"][0];
    assert_eq!(
        (q["name"].as_str(), q["required"].as_bool()),
        (Some("q"), Some(true))
    );
}
