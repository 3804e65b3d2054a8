//! `/api/users`: list, create and remove users (System permission).
//!
//! ```text
//! POST /api/users {"Username":"ann","Password":"…","Role":"Reader"}
//! → 201 {"Id":"user-…","Username":"ann","Role":"Reader","Permissions":["Read"],
//!        "CreatedUtc":"…Z","LockedUntilUtc":null,"Links":{"Self":"api/users/user-…"}}
//! ```
//!
//! Passwords are hashed (argon2id) on a blocking thread and never shown.

use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{json, Value};
use skein_actors::metastore::users::hash_password;
use skein_actors::metastore::{Role, UserInfo};
use skein_store::event::format_timestamp;
use skein_store::Timestamp;

use crate::api::admin::{clip, Body};
use crate::api::apikeys::permission_names;
use crate::api::links::Links;
use crate::api::{ApiError, AppState};

/// The body of `POST /api/users`.
#[derive(Debug, Deserialize)]
pub struct NewUserBody {
    /// The login name.
    #[serde(rename = "Username", default)]
    pub username: Option<String>,
    /// The password (at least 8 characters).
    #[serde(rename = "Password", default)]
    pub password: Option<String>,
    /// `Administrator`, `User` or `Reader` (default `User`).
    #[serde(rename = "Role", default)]
    pub role: Option<String>,
}

/// A user as the API shows it (never the hash).
pub fn entity(u: &UserInfo, links: &Links) -> Value {
    json!({
        "Id": u.id,
        "Username": u.username,
        "Role": u.role.name(),
        "Permissions": permission_names(u.role.permissions()),
        "CreatedUtc": utc(u.created_at),
        "LockedUntilUtc": u.locked_until.filter(|_| u.is_locked()).and_then(utc),
        "Links": links.entity("users", &u.id),
    })
}

/// A timestamp as the API writes them.
pub fn utc(t: DateTime<Utc>) -> Option<String> {
    t.timestamp_nanos_opt()
        .map(|n| format_timestamp(Timestamp(n)))
}

/// `GET /api/users`.
pub async fn list(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let users = state.credentials.metastore().list_users().await?;
    Ok(HttpResponse::Ok().json(
        users
            .iter()
            .map(|u| entity(u, &state.links()))
            .collect::<Vec<_>>(),
    ))
}

/// `POST /api/users`.
pub async fn create(
    state: web::Data<AppState>,
    Body(body): Body<NewUserBody>,
) -> Result<HttpResponse, ApiError> {
    let username = body.username.unwrap_or_default();
    let password = body.password.unwrap_or_default();
    let role = match body.role.as_deref() {
        None => Role::User,
        Some(name) => Role::parse(name).ok_or_else(|| {
            ApiError::BadRequest(format!(
                "Role: `{}` is not a role (Administrator, User or Reader)",
                clip(name)
            ))
        })?,
    };
    let hash = web::block(move || hash_password(&password))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))??;
    let user = state
        .credentials
        .metastore()
        .create_user(&username, &hash, role)
        .await?;
    log::info!("user `{}` created with role {}", user.username, role.name());
    Ok(HttpResponse::Created().json(entity(&user, &state.links())))
}

/// `DELETE /api/users/{id}`: removes the user and ends their sessions.
pub async fn remove(
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let metastore = state.credentials.metastore();
    let user = metastore
        .user(&id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no user has the id `{}`", clip(&id))))?;
    metastore.delete_user(&user.username).await?;
    state.credentials.invalidate();
    log::info!("user `{}` removed", user.username);
    Ok(HttpResponse::NoContent().finish())
}
