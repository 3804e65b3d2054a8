//! `GET /api`: the API root, with links to its resources.

use actix_web::{web, HttpResponse};

use super::AppState;

/// Routes of this module.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api", web::get().to(root))
        .route("/api/", web::get().to(root));
}

async fn root(state: web::Data<AppState>) -> HttpResponse {
    let links = state.links();
    let link = |path: &str| links.to(path);
    HttpResponse::Ok().json(serde_json::json!({
        "Product": "Skein",
        "Version": env!("CARGO_PKG_VERSION"),
        "InstanceName": state.instance_name,
        "Links": {
            "Events": link("api/events"),
            "EventsRaw": link("api/events/raw"),
            "Data": link("api/data"),
            "ApiKeys": link("api/apikeys"),
            "Signals": link("api/signals"),
            "Settings": link("api/settings"),
            "Health": link("health"),
            "Metrics": link("metrics"),
            "OpenApi": link("api/openapi.json"),
        },
    }))
}
