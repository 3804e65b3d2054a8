//! `POST /api/users/login`, `POST /api/users/logout`, `GET /api/users/current`.
//!
//! ```text
//! POST /api/users/login {"Username":"admin","Password":"…"}
//! → 200 {"Username":"admin","Permissions":["Ingest",…],"AuthRequired":true}
//!   Set-Cookie: skein-session=…; Path=/; HttpOnly; SameSite=Lax; Max-Age=43200[; Secure]
//! → 401 {"Error":"…","AuthRequired":true}           wrong username or password
//! → 429 {"Error":"…"} Retry-After: <seconds>        too many failures (user or address)
//! GET /api/users/current
//! → 200 {"Username":"admin"|null,"Permissions":[…],"AuthRequired":bool}
//! → 401 {"Error":"…","AuthRequired":true}           auth on, no valid session or key
//! ```
//!
//! With authentication off, `current` answers `Username: null` (unless a
//! session is presented), every permission and `AuthRequired: false`. The
//! cookie is `Secure` when the request came over TLS (or through a proxy
//! that says so with `X-Forwarded-Proto: https`).

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use actix_web::http::header::{RETRY_AFTER, SET_COOKIE};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;
use skein_actors::metastore::{LoginOutcome, Permissions};

use super::enforce::unauthorized;
use crate::api::admin::{clip, Body};
use crate::api::apikeys::permission_names;
use crate::api::credentials::{session_token, Principal, SESSION_COOKIE};
use crate::api::{ApiError, AppState};

/// How long a login session lasts.
pub const SESSION_LIFETIME: Duration = Duration::from_secs(12 * 60 * 60);

/// The body of `POST /api/users/login`.
#[derive(Debug, Deserialize)]
pub struct LoginBody {
    /// The username.
    #[serde(rename = "Username", default)]
    pub username: Option<String>,
    /// The password.
    #[serde(rename = "Password", default)]
    pub password: Option<String>,
}

/// `POST /api/users/login`.
pub async fn login(
    req: HttpRequest,
    state: web::Data<AppState>,
    Body(body): Body<LoginBody>,
) -> Result<HttpResponse, ApiError> {
    let (Some(username), Some(password)) = (body.username, body.password) else {
        return Err(ApiError::BadRequest(
            "Username and Password are required".into(),
        ));
    };
    let address = client_address(&req);
    let credentials = &state.credentials;
    if let Some(wait) = credentials.throttle().retry_after(address) {
        log::warn!("login refused: too many failed logins from {address}");
        return Ok(too_many(wait, "too many failed logins from this address"));
    }
    let metastore = credentials.metastore();
    let who = clip(username.trim());
    match metastore.check_login(&username, &password).await? {
        LoginOutcome::Accepted(user) => {
            let _ = metastore.purge_expired_sessions().await;
            let session = metastore.create_session(&user, SESSION_LIFETIME).await?;
            log::info!("user `{who}` logged in from {address}");
            let cookie = cookie(&req, &session.token, SESSION_LIFETIME.as_secs());
            Ok(HttpResponse::Ok()
                .insert_header((SET_COOKIE, cookie))
                .json(current_body(
                    Some(&user.username),
                    user.role.permissions(),
                    state.config.auth_required,
                )))
        }
        LoginOutcome::Rejected => {
            credentials.throttle().failed(address);
            log::warn!("failed login for `{who}` from {address}");
            Ok(unauthorized("the username or password is wrong"))
        }
        LoginOutcome::Locked(wait) => {
            credentials.throttle().failed(address);
            log::warn!("login for `{who}` from {address} refused: locked after failed logins");
            Ok(too_many(
                wait,
                "too many failed logins for this user; try again later (an administrator can run `skein auth reset`)",
            ))
        }
    }
}

/// `POST /api/users/logout`: ends the session (if any) and clears the cookie.
pub async fn logout(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    if let Some(token) = session_token(&req) {
        state.credentials.metastore().end_session(&token).await?;
        state.credentials.forget_session(&token);
    }
    Ok(HttpResponse::NoContent()
        .insert_header((SET_COOKIE, cookie(&req, "", 0)))
        .finish())
}

/// `GET /api/users/current`: who the caller is.
pub async fn current(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let required = state.config.auth_required;
    let principal = state.credentials.principal(&req).await?;
    let body = match (&principal, required) {
        (Some(Principal::User(u)), _) => {
            current_body(Some(&u.username), u.role.permissions(), required)
        }
        (Some(Principal::ApiKey(k)), true) => current_body(None, k.permissions, true),
        (_, false) => current_body(None, everything(), false),
        (None, true) => return Ok(unauthorized("not logged in")),
    };
    Ok(HttpResponse::Ok().json(body))
}

fn everything() -> Permissions {
    Permissions {
        ingest: true,
        read: true,
        write: true,
        project: true,
        system: true,
    }
}

fn current_body(username: Option<&str>, p: Permissions, required: bool) -> serde_json::Value {
    json!({
        "Username": username,
        "Permissions": permission_names(p),
        "AuthRequired": required,
    })
}

fn too_many(wait: Duration, message: &str) -> HttpResponse {
    HttpResponse::TooManyRequests()
        .insert_header((RETRY_AFTER, wait.as_secs().max(1).to_string()))
        .json(json!({ "Error": message }))
}

/// The session cookie (`max_age` 0 clears it).
fn cookie(req: &HttpRequest, token: &str, max_age: u64) -> String {
    let secure = if req.connection_info().scheme() == "https" {
        "; Secure"
    } else {
        ""
    };
    format!("{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}")
}

/// The caller's address for throttling: the TCP peer's, or — for a request
/// a cluster peer proved it forwarded (see [`crate::api::peer_proof`]) — the
/// address that peer saw.
pub fn client_address(req: &HttpRequest) -> IpAddr {
    use actix_web::HttpMessage as _;
    let proven = req
        .extensions()
        .get::<crate::api::peer_proof::ForwardedByPeer>()
        .and_then(|f| f.client);
    proven
        .or_else(|| req.peer_addr().map(|a| a.ip()))
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
}
