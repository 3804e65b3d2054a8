//! Every route `api::configure` registers has a permission entry, and every
//! entry names a registered route.

use actix_web::dev::Service as _;
use actix_web::http::{Method, StatusCode};
use actix_web::test::{init_service, TestRequest};
use actix_web::{web, App, HttpRequest, HttpResponse};

use super::{requirement, ROUTES};

/// A status no handler answers: the test's default service, so a request
/// that reaches it matched no route.
const UNROUTED: StatusCode = StatusCode::IM_A_TEAPOT;
const METHODS: [Method; 5] = [
    Method::GET,
    Method::POST,
    Method::PUT,
    Method::DELETE,
    Method::PATCH,
];

async fn dump(req: HttpRequest) -> HttpResponse {
    HttpResponse::build(UNROUTED).body(format!("{:?}", req.resource_map()))
}

/// Every full route pattern in actix's resource map, read from its `Debug`
/// text (actix offers no other way to list routes): each node's
/// `patterns: Single("…")` and `is_prefix`, nested as the map is.
fn patterns(debug: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack: Vec<(usize, String)> = Vec::new(); // (brace depth, prefix)
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for (i, c) in debug.char_indices() {
        if in_string {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                while stack.last().is_some_and(|(d, _)| *d > depth) {
                    stack.pop();
                }
            }
            'R' if debug[i..].starts_with("ResourceMap { pattern: ResourceDef {") => {
                let rest = &debug[i..];
                let start = rest.find("patterns: Single(\"").expect("pattern") + 18;
                let end = start + rest[start..].find('"').expect("end of pattern");
                let own = &rest[start..end];
                let prefix = stack.last().map(|(_, p)| p.clone()).unwrap_or_default();
                let full = format!("{prefix}{own}");
                let is_leaf = rest
                    .find("nodes: None")
                    .is_some_and(|n| rest.find("nodes: Some").is_none_or(|s| n < s));
                if is_leaf {
                    out.push(full.clone());
                }
                stack.push((depth + 1, full));
            }
            _ => {}
        }
    }
    out
}

#[actix_web::test]
async fn every_registered_route_has_a_permission_entry() {
    let app = init_service(
        App::new()
            .configure(crate::api::configure)
            .default_service(web::to(dump)),
    )
    .await;
    let res = app
        .call(TestRequest::get().uri("/no/such/route").to_request())
        .await
        .unwrap();
    assert_eq!(res.status(), UNROUTED);
    let debug = String::from_utf8(
        actix_web::body::to_bytes(res.into_body())
            .await
            .unwrap()
            .to_vec(),
    )
    .unwrap();
    let found = patterns(&debug);
    assert!(found.len() >= 20, "cannot read the routes from: {debug}");

    let mut registered = Vec::new();
    for pattern in &found {
        let path = pattern
            .replace("{id}", "x")
            .replace("{name}", "x")
            .replace("{file}", "x");
        assert!(!path.contains('{'), "give the test a value for {pattern}");
        for method in METHODS {
            let req = TestRequest::default()
                .method(method.clone())
                .uri(&path)
                .to_request();
            let res = app.call(req).await.unwrap();
            // 405: a resource at this path without a route for the method.
            // Another pattern's parameters: routed to that pattern instead
            // (`GET /api/events/raw` is `/api/events/{id}`).
            let params: Vec<String> = res
                .request()
                .match_info()
                .iter()
                .map(|(name, _)| format!("{{{name}}}"))
                .collect();
            let this_route = params.iter().all(|p| pattern.contains(p.as_str()))
                && pattern.matches('{').count() == params.len();
            if res.status() != UNROUTED
                && res.status() != StatusCode::METHOD_NOT_ALLOWED
                && this_route
            {
                registered.push((method.clone(), pattern.clone()));
            }
        }
    }
    let missing: Vec<_> = registered
        .iter()
        .filter(|(m, p)| requirement(m, p).is_none())
        .collect();
    assert!(
        missing.is_empty(),
        "routes without a permission entry in api::auth::table::ROUTES: {missing:?}"
    );
    let stale: Vec<_> = ROUTES
        .iter()
        .filter(|(m, p, _)| !registered.iter().any(|(rm, rp)| rm == m && rp == p))
        .collect();
    assert!(
        stale.is_empty(),
        "table entries for routes that do not exist: {stale:?}"
    );
}
