//! The middleware that applies the permission table to every request.
//!
//! It runs on the node that serves the request: on a follower the proxy
//! (outside this middleware) forwards first, with the caller's cookie and
//! API key, and the leader checks them itself, so proxying never bypasses
//! permissions. Requests that match no route go on to the default service
//! (404), and so do those to a route's path under a method it does not
//! have (405). With `auth.required` off every matched route is allowed, as
//! Seq does without authentication; a route missing from the table is then
//! only logged.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage as _, HttpResponse, ResponseError as _};

use super::table::{requirement, Requirement, ROUTES};
use crate::api::admin::Permission;
use crate::api::credentials::Principal;
use crate::api::{ApiError, AppState};

/// Middleware: refuses requests the permission table does not allow.
pub async fn enforce(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let Some(pattern) = req.match_pattern() else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let required = state.config.auth_required;
    let needed = match requirement(req.method(), &pattern) {
        Some(Requirement::Needs(p)) if required => p,
        Some(_) => return Ok(next.call(req).await?.map_into_boxed_body()),
        // A route's path under a method it lacks: no handler runs, the
        // default service answers 405.
        None if ROUTES.iter().any(|(_, p, _)| *p == pattern) => {
            return Ok(next.call(req).await?.map_into_boxed_body())
        }
        None if required => {
            log::warn!(
                "refused {} {pattern}: the route has no entry in the permission table",
                req.method()
            );
            let e =
                ApiError::Forbidden("this endpoint has no permission entry and is refused".into());
            return Ok(req.into_response(e.error_response()));
        }
        None => {
            log::warn!(
                "{} {pattern} has no entry in the permission table (refused when auth.required is on)",
                req.method()
            );
            return Ok(next.call(req).await?.map_into_boxed_body());
        }
    };
    let principal = match state.credentials.principal(req.request()).await {
        Ok(p) => p,
        Err(e) => return Ok(req.into_response(e.error_response())),
    };
    match principal {
        None => Ok(req.into_response(unauthorized(
            "authentication is required: log in, or present an API key (X-Seq-ApiKey header or ?apiKey=)",
        ))),
        Some(p) if !holds(&p, needed) => {
            let e = ApiError::Forbidden(format!(
                "this needs the {needed:?} permission, which {} does not have",
                match &p {
                    Principal::User(u) => format!("user `{}`", u.username),
                    Principal::ApiKey(k) => format!("API key {}", k.id),
                }
            ));
            Ok(req.into_response(e.error_response()))
        }
        Some(p) => {
            req.extensions_mut().insert(p);
            Ok(next.call(req).await?.map_into_boxed_body())
        }
    }
}

/// Whether `principal` holds `needed`.
pub fn holds(principal: &Principal, needed: Permission) -> bool {
    let p = principal.permissions();
    match needed {
        Permission::Read => p.read,
        Permission::Write => p.write,
        Permission::Project => p.project,
        Permission::System => p.system,
    }
}

/// 401 `{"Error": message, "AuthRequired": true}`.
pub fn unauthorized(message: &str) -> HttpResponse {
    HttpResponse::Unauthorized().json(serde_json::json!({
        "Error": message,
        "AuthRequired": true,
    }))
}
