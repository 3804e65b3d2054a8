//! `GET /api`: the API root, with links to its resources.

use actix_web::{web, HttpResponse};

use super::AppState;

/// Routes of this module.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api", web::get().to(root))
        .route("/api/", web::get().to(root));
}

async fn root(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({
        "Product": "Skein",
        "Version": env!("CARGO_PKG_VERSION"),
        "InstanceName": state.instance_name,
        "Links": {
            "Events": "api/events",
            "EventsRaw": "api/events/raw",
            "Data": "api/data",
            "ApiKeys": "api/apikeys",
            "Signals": "api/signals",
            "Settings": "api/settings",
            "Health": "health",
            "Metrics": "metrics",
            "OpenApi": "api/openapi.json",
        },
    }))
}
