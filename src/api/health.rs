//! `GET /health`: this node's own health (never proxied); 200 when healthy,
//! 503 otherwise, always with a JSON body carrying `status`, the role, its
//! leadership term and the storage generation.

use actix_web::{web, HttpResponse};
use skein_actors::messages::{GetHealth, HealthStatus};

use super::error::ApiError;
use super::AppState;

/// Routes of this module.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/health", web::get().to(health));
}

async fn health(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let report = state.actors.health.send(GetHealth).await?;
    let mut response = match report.status {
        HealthStatus::Healthy => HttpResponse::Ok(),
        HealthStatus::Unhealthy => HttpResponse::ServiceUnavailable(),
    };
    Ok(response.json(report))
}
